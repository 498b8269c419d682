//! The data-protection officer's review page: server-rendered HTML that works
//! without JavaScript. A `dpo` token logs in once; the session lives in a cookie
//! (HttpOnly, SameSite=Strict) and every form carries the session's CSRF token.

mod page;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Form;
use axum::Router;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::header::{COOKIE, LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::ApiState;
use super::admin::ReportParams;
use super::auth::{Caller, Peer};
use super::error::{ApiError, Id};
use crate::tokens::{self, Role};

const COOKIE_NAME: &str = "retentiond_review";
/// A working day: the officer logs in again the next morning.
const SESSION_TTL: Duration = Duration::from_secs(8 * 3600);

struct Session {
    token: String,
    csrf: String,
    expires: Instant,
    /// What the last action did, shown once.
    flash: Option<String>,
}

/// The logged-in sessions, in memory: a restart logs everyone out.
#[derive(Default)]
pub struct Sessions(Mutex<HashMap<String, Session>>);

impl Sessions {
    fn create(&self, token: &str) -> String {
        let id = tokens::generate();
        let mut all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        all.retain(|_, s| s.expires > now);
        all.insert(
            id.clone(),
            Session {
                token: token.into(),
                csrf: tokens::generate(),
                expires: now + SESSION_TTL,
                flash: None,
            },
        );
        id
    }

    fn flash(&self, id: &str, message: String) {
        if let Some(s) = self.0.lock().unwrap_or_else(|e| e.into_inner()).get_mut(id) {
            s.flash = Some(message);
        }
    }

    fn end(&self, id: &str) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
    }
}

/// A request made in a live session by a token that is still `dpo`.
pub struct Reviewer {
    pub caller: Caller,
    id: String,
    csrf: String,
    flash: Option<String>,
}

impl Reviewer {
    /// Refuses a form whose CSRF token is not this session's.
    fn check(&self, presented: &str) -> Result<(), ApiError> {
        if bool::from(self.csrf.as_bytes().ct_eq(presented.as_bytes())) {
            Ok(())
        } else {
            Err(ApiError::Csrf)
        }
    }
}

fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            c.trim()
                .strip_prefix(&format!("{COOKIE_NAME}="))
                .map(str::to_string)
        })
}

/// Not logged in: the page sends the browser to the login form.
pub struct LoginFirst;

impl IntoResponse for LoginFirst {
    fn into_response(self) -> Response {
        (StatusCode::SEE_OTHER, [(LOCATION, "/review/login")]).into_response()
    }
}

impl FromRequestParts<Arc<ApiState>> for Reviewer {
    type Rejection = LoginFirst;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<ApiState>,
    ) -> Result<Reviewer, LoginFirst> {
        let id = session_id(&parts.headers).ok_or(LoginFirst)?;
        let (token, csrf, flash) = {
            let mut all = state.sessions.0.lock().unwrap_or_else(|e| e.into_inner());
            let s = all
                .get_mut(&id)
                .filter(|s| s.expires > Instant::now())
                .ok_or(LoginFirst)?;
            (s.token.clone(), s.csrf.clone(), s.flash.take())
        };
        // A token removed or no longer dpo ends its sessions at the next reload.
        let config = state.config();
        let still = state
            .tokens(&config)
            .iter()
            .any(|t| t.name == token && t.role == Role::Dpo);
        if !still {
            state.sessions.end(&id);
            return Err(LoginFirst);
        }
        Ok(Reviewer {
            caller: Caller {
                name: token,
                role: Role::Dpo,
            },
            id,
            csrf,
            flash,
        })
    }
}

pub(super) fn routes() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/review", get(show))
        .route("/review/login", get(login_form).post(login))
        .route("/review/logout", post(logout))
        .route("/review/requests/{id}/answer", post(answer))
        .route("/review/holds/{id}/release", post(release))
        .route("/review/reports/{label}", get(report_file))
        .route("/review/reports/{label}/sign", post(sign))
}

async fn show(State(state): State<Arc<ApiState>>, r: Reviewer) -> Result<Html<String>, ApiError> {
    let data = page::Data::read(&state).await?;
    Ok(Html(page::review(
        &data,
        &r.caller.name,
        &r.csrf,
        r.flash.as_deref(),
    )))
}

async fn login_form() -> Html<String> {
    Html(page::login(None))
}

#[derive(Deserialize)]
struct LoginForm {
    token: String,
}

async fn login(
    State(state): State<Arc<ApiState>>,
    peer: Option<axum::Extension<Peer>>,
    Form(f): Form<LoginForm>,
) -> Result<Response, ApiError> {
    let peer = peer.map_or_else(|| "unknown".to_string(), |p| p.0.0.clone());
    state.check_rate(&format!("peer:{peer}"))?;
    let config = state.config();
    let found = tokens::find(state.tokens(&config), f.token.trim()).filter(|t| t.role == Role::Dpo);
    let Some(t) = found else {
        tracing::info!(
            peer,
            "a review page login with an unknown or non-dpo token was refused"
        );
        let page = page::login(Some("That token is unknown, or its role is not dpo."));
        return Ok((StatusCode::UNAUTHORIZED, Html(page)).into_response());
    };
    let id = state.sessions.create(&t.name);
    tracing::info!(token = %t.name, "logged in to the review page");
    let secure = if state.secure { "; Secure" } else { "" };
    let cookie = format!(
        "{COOKIE_NAME}={id}; HttpOnly; SameSite=Strict; Path=/review; Max-Age={}{secure}",
        SESSION_TTL.as_secs()
    );
    let mut response = (StatusCode::SEE_OTHER, [(LOCATION, "/review")]).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(SET_COOKIE, v);
    }
    Ok(response)
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(
    State(state): State<Arc<ApiState>>,
    r: Reviewer,
    Form(f): Form<CsrfForm>,
) -> Result<Response, ApiError> {
    r.check(&f.csrf)?;
    state.sessions.end(&r.id);
    let clear = format!("{COOKIE_NAME}=; HttpOnly; SameSite=Strict; Path=/review; Max-Age=0");
    Ok((
        StatusCode::SEE_OTHER,
        [(LOCATION, "/review/login".to_string()), (SET_COOKIE, clear)],
    )
        .into_response())
}

/// Back to the page, with what happened shown once.
fn back(state: &ApiState, r: &Reviewer, anchor: &str, message: String) -> Response {
    state.sessions.flash(&r.id, message);
    (
        StatusCode::SEE_OTHER,
        [(LOCATION, format!("/review#{anchor}"))],
    )
        .into_response()
}

fn outcome<T>(result: Result<T, ApiError>, done: impl FnOnce(T) -> String) -> String {
    match result {
        Ok(v) => done(v),
        Err(e) => format!("Not done: {e}"),
    }
}

async fn answer(
    State(state): State<Arc<ApiState>>,
    r: Reviewer,
    Id(id): Id,
    Form(f): Form<CsrfForm>,
) -> Result<Response, ApiError> {
    r.check(&f.csrf)?;
    let result = state.answer(id, &r.caller).await;
    let message = outcome(result, |v| match v.export {
        Some(_) => {
            format!("Request #{id} answered: its export waits to be downloaded by the shop's app.")
        }
        None if v.status == "open" => {
            format!("Request #{id} is being answered now; reload in a moment.")
        }
        None => format!("Request #{id} answered: {}.", v.answer.unwrap_or_default()),
    });
    Ok(back(&state, &r, "requests", message))
}

#[derive(Deserialize)]
struct ReleaseForm {
    csrf: String,
    reason: Option<String>,
}

async fn release(
    State(state): State<Arc<ApiState>>,
    r: Reviewer,
    Id(id): Id,
    Form(f): Form<ReleaseForm>,
) -> Result<Response, ApiError> {
    r.check(&f.csrf)?;
    let reason = f.reason.filter(|s| !s.trim().is_empty());
    let result = state.release(id, reason, &r.caller).await;
    let message = outcome(result, |at| format!("Hold #{id} released at {at}."));
    Ok(back(&state, &r, "holds", message))
}

#[derive(Deserialize)]
struct SignForm {
    csrf: String,
    reviewer: String,
}

async fn sign(
    State(state): State<Arc<ApiState>>,
    r: Reviewer,
    Path(label): Path<String>,
    Form(f): Form<SignForm>,
) -> Result<Response, ApiError> {
    r.check(&f.csrf)?;
    let result = state.sign(&label, &f.reviewer, &r.caller).await;
    let message = outcome(result, |s| {
        format!(
            "Report {label} signed off by {} ({} file(s) hashed into the audit trail).",
            s.by,
            s.files.len()
        )
    });
    Ok(back(&state, &r, "reports", message))
}

async fn report_file(
    State(state): State<Arc<ApiState>>,
    r: Reviewer,
    Path(label): Path<String>,
    q: Query<ReportParams>,
) -> Result<Response, ApiError> {
    super::admin::report_file(State(state), r.caller, Path(label), q).await
}
