//! The API's errors: each a status code and a JSON body naming the field at fault.
//! A database failure is logged here with its cause and answered with a 503 that
//! carries no detail (a URL or a table name is not the caller's business).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::DbError;
use crate::engine::{ExportError, HoldError, RequestError};

/// The body of every error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What is wrong, in words.
    pub error: String,
    /// The field of the request at fault, if one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    BadInput { field: String, message: String },
    #[error("a bearer token is needed: Authorization: Bearer rtd_...")]
    Unauthorized,
    #[error("token `{name}` (role {role}) may not do this; it needs role {needs}")]
    Forbidden {
        name: String,
        role: &'static str,
        needs: String,
    },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Gone(String),
    #[error("too many requests; try again in {0} s")]
    RateLimited(u64),
    #[error("the database cannot be reached now; try again later")]
    Unavailable,
    #[error("the form has expired or did not come from this page; reload it")]
    Csrf,
    #[error("the body is larger than [http] max_body_bytes")]
    TooLarge,
}

impl ApiError {
    pub fn bad(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::BadInput {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadInput { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } | ApiError::Csrf => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Gone(_) => StatusCode::GONE,
            ApiError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> ApiError {
        // DbError's text never holds a password (the URL is shown redacted).
        tracing::warn!(error = %e, "an API request failed in the database");
        ApiError::Unavailable
    }
}

impl From<RequestError> for ApiError {
    fn from(e: RequestError) -> ApiError {
        match e {
            RequestError::Db(e) => e.into(),
            RequestError::EmptySubject => ApiError::bad("subject", "subject must not be empty"),
            RequestError::ReceivedInFuture(_) => ApiError::bad("received_at", e.to_string()),
            RequestError::Unknown(_) => ApiError::NotFound(e.to_string()),
            RequestError::NoSubjectPolicy(_)
            | RequestError::NotAnExport { .. }
            | RequestError::Answered(..) => ApiError::Conflict(e.to_string()),
        }
    }
}

impl From<HoldError> for ApiError {
    fn from(e: HoldError) -> ApiError {
        match e {
            HoldError::Db(e) => e.into(),
            HoldError::UnknownPolicy(_) | HoldError::NoSubject(_) => {
                ApiError::bad("policy", e.to_string())
            }
            HoldError::Empty => ApiError::bad("subject", "subject and reason must not be empty"),
            HoldError::NotADate(_) | HoldError::OutOfRange(_) => {
                ApiError::bad("until", e.to_string().replace("--until", "until"))
            }
            HoldError::NoActiveHold(_) => ApiError::NotFound(e.to_string()),
        }
    }
}

impl From<ExportError> for ApiError {
    fn from(e: ExportError) -> ApiError {
        match e {
            ExportError::Request(e) => e.into(),
            other => {
                tracing::warn!(error = %other, "an export asked through the API failed");
                ApiError::Unavailable
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let field = match &self {
            ApiError::BadInput { field, .. } => Some(field.clone()),
            ApiError::TooLarge => Some("body".into()),
            _ => None,
        };
        let body = ErrorBody {
            error: self.to_string(),
            field,
        };
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        match self {
            ApiError::Unauthorized => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"retentiond\""),
                );
            }
            ApiError::RateLimited(secs) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            _ => {}
        }
        response
    }
}

/// A request's body; one over `max_body_bytes` is refused with a JSON 413.
pub struct Body(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Body, ApiError> {
        match Bytes::from_request(req, state).await {
            Ok(b) => Ok(Body(b)),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(ApiError::TooLarge),
            Err(e) => Err(ApiError::bad("body", e.body_text())),
        }
    }
}

/// The number in a route's path (`/v1/requests/{id}`), named when it is none.
pub struct Id(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Id, ApiError> {
        let Path(text) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad("id", e.body_text()))?;
        text.parse()
            .map(Id)
            .map_err(|_| ApiError::bad("id", format!("`{text}` is not a number")))
    }
}
