//! `/v1/requests`: privacy requests filed by the shop's app, read back, answered,
//! and an access request's export downloaded once. The same engine functions as
//! `retentiond erase` and `export`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::ApiState;
use super::auth::Caller;
use super::error::{ApiError, Body, ErrorBody, Id};
use crate::audit::EventAction;
use crate::db::{self, Db, PrivacyRequest};
use crate::engine::{self, DownloadError, RequestArgs};
use crate::outcome::{RequestKind, RequestStatus};
use crate::tokens::Role;

/// Who may file and read requests.
const FILERS: &[Role] = &[Role::App, Role::Dpo];

/// A request to file.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequestBody {
    /// `erasure`, `access` or `portability`.
    #[schema(example = "erasure")]
    pub kind: String,
    /// The person's id, as the policies' `subject` columns hold it.
    #[schema(example = "4711")]
    pub subject: String,
    /// Why; `minor` erases a minor's data at once.
    pub reason: Option<String>,
    /// The shop's own reference (a ticket number).
    pub reference: Option<String>,
    /// When the shop received it (RFC 3339), if not now: the 30 days count from it.
    pub received_at: Option<String>,
}

const FIELDS: [&str; 5] = ["kind", "subject", "reason", "reference", "received_at"];

/// A request as recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestView {
    /// The request's number, for `GET /v1/requests/{id}`.
    pub id: i64,
    /// `erasure`, `access` or `portability`.
    pub kind: String,
    /// `open`, `completed` or `partially_retained`.
    pub status: String,
    /// The person's id, as filed.
    pub subject: String,
    /// Open past its due date, or answered after it.
    pub overdue: bool,
    /// Why, as filed; `minor` marks a minor's data.
    pub reason: Option<String>,
    /// The shop's own reference, as filed.
    pub reference: Option<String>,
    /// A minor's erasure: answered at once.
    pub minor: bool,
    /// When the shop received it (RFC 3339).
    pub received_at: String,
    /// 30 days after it was received.
    pub due_at: String,
    pub answered_at: Option<String>,
    /// The answer in words: `no data found`, or what was erased, kept or exported.
    pub answer: Option<String>,
    /// Where an answered access or portability request's export can be
    /// downloaded, once, until `expires_at`.
    pub export: Option<ExportLink>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExportLink {
    pub url: String,
    pub expires_at: String,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListParams {
    /// `open`, `overdue` (open past its due date) or `answered`; all when absent.
    pub status: Option<String>,
}

impl ApiState {
    pub(super) fn view(&self, r: &PrivacyRequest, now: &str) -> RequestView {
        let config = self.config();
        let http = config.http.as_ref();
        let export = http
            .filter(|_| r.received.kind.is_export())
            .and_then(|h| engine::waiting_download(&h.export_dir, r.id, h.export_keep))
            .map(|w| ExportLink {
                url: format!("/v1/requests/{}/export", r.id),
                expires_at: db::rfc3339(w.expires_at),
            });
        RequestView {
            id: r.id,
            kind: r.received.kind.as_str().into(),
            subject: r.received.subject.clone(),
            reason: r.received.reason.clone(),
            reference: r.received.reference.clone(),
            minor: r.received.minor,
            received_at: r.received.received_at.clone(),
            due_at: r.received.due_at.clone(),
            status: r.status.as_str().into(),
            overdue: r.overdue(now),
            answered_at: r.processed_at.clone(),
            answer: answer_words(r),
            export,
        }
    }
}

fn answer_words(r: &PrivacyRequest) -> Option<String> {
    if r.status == RequestStatus::Open {
        return None;
    }
    let rows: u64 = r.outcome.iter().map(|e| e.rows).sum::<u64>()
        + r.exported.iter().map(|t| t.rows).sum::<u64>();
    if rows == 0 {
        return Some("no data found".into());
    }
    let parts: Vec<String> = if r.received.kind.is_export() {
        r.exported
            .iter()
            .filter(|t| t.rows > 0)
            .map(|t| format!("{}: {} row(s) exported", t.table, t.rows))
            .collect()
    } else {
        r.outcome
            .iter()
            .filter(|e| e.rows > 0)
            .map(|e| e.describe())
            .collect()
    };
    Some(parts.join("; "))
}

/// Reads the body by hand first, so that each mistake names its field, then into
/// [`NewRequestBody`], the type the OpenAPI document describes.
fn parse_new(body: &[u8]) -> Result<RequestArgs, ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad("body", format!("not JSON: {e}")))?;
    let Value::Object(mut map) = value else {
        return Err(ApiError::bad("body", "a JSON object is expected"));
    };
    if let Some(k) = map.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(ApiError::bad(
            k,
            format!("unknown field `{k}`; valid: {}", FIELDS.join(", ")),
        ));
    }
    // An integer id is taken as the text the subject column holds.
    if let Some(Value::Number(n)) = map.get("subject")
        && (n.is_i64() || n.is_u64())
    {
        let text = n.to_string();
        map.insert("subject".into(), Value::String(text));
    }
    for field in FIELDS {
        text(&map, field)?;
    }
    for field in ["kind", "subject"] {
        if text(&map, field)?.is_none_or(|t| t.trim().is_empty()) {
            return Err(ApiError::bad(
                field,
                format!("{field} is required and must not be empty"),
            ));
        }
    }
    let b: NewRequestBody = serde_json::from_value(Value::Object(map))
        .map_err(|e| ApiError::bad("body", e.to_string()))?;
    let kind = match b.kind.as_str() {
        "erasure" => RequestKind::Erasure,
        "access" => RequestKind::Access,
        "portability" => RequestKind::Portability,
        other => {
            return Err(ApiError::bad(
                "kind",
                format!("`{other}` is not a kind; valid: erasure, access, portability"),
            ));
        }
    };
    if b.subject.len() > 255 {
        return Err(ApiError::bad(
            "subject",
            "subject is longer than 255 characters",
        ));
    }
    for (field, value) in [("reason", &b.reason), ("reference", &b.reference)] {
        if value.as_ref().is_some_and(|t| t.len() > 200) {
            return Err(ApiError::bad(
                field,
                format!("{field} is longer than 200 characters"),
            ));
        }
    }
    let received_at = match b.received_at {
        None => None,
        Some(t) => Some(
            DateTime::parse_from_rfc3339(&t)
                .map_err(|_| {
                    ApiError::bad(
                        "received_at",
                        format!("`{t}` is not an RFC 3339 time such as 2026-12-01T09:30:00Z"),
                    )
                })?
                .with_timezone(&Utc),
        ),
    };
    Ok(RequestArgs {
        kind,
        subject: b.subject,
        reason: b.reason,
        reference: b.reference,
        received_at,
        actor: engine::Actor::CommandLine,
    })
}

fn text(map: &Map<String, Value>, field: &str) -> Result<Option<String>, ApiError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::bad(field, format!("{field} must be a string"))),
    }
}

/// File a privacy request.
///
/// An erasure is answered at the next pass (a minor's at once); an access or
/// portability request is answered now, its export downloadable once. A subject
/// nobody knows is accepted and answered: "no data found" is an answer.
#[utoipa::path(post, path = "/v1/requests", tag = "requests",
    request_body = NewRequestBody,
    responses(
        (status = 201, description = "Recorded", body = RequestView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, description = "Body over max_body_bytes"),
        (status = 422, description = "A field is wrong; `field` names it", body = ErrorBody),
        (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn file(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Body(body): Body,
) -> Result<Response, ApiError> {
    caller.allow(FILERS)?;
    let mut args = parse_new(&body)?;
    args.actor = caller.actor();
    let this = state.clone();
    let view = state
        .with_db(async move |db| {
            let config = this.config();
            let registered = engine::register_request(db, &config, args).await?;
            tracing::info!(request = registered.id, kind = %registered.kind, token = %caller.name, "a privacy request was filed through the API");
            if registered.kind.is_export() {
                this.answer_export(db, registered.id).await;
            } else if registered.minor {
                this.answer_now(registered.id);
            }
            read_view(&this, db, registered.id).await
        })
        .await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

async fn read_view(state: &ApiState, db: &mut Db, id: i64) -> Result<RequestView, ApiError> {
    let r = db
        .privacy_request(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("there is no privacy request #{id}")))?;
    Ok(state.view(&r, &db::rfc3339(Utc::now())))
}

/// One request.
#[utoipa::path(get, path = "/v1/requests/{id}", tag = "requests",
    params(("id" = i64, Path, description = "The request's number")),
    responses((status = 200, body = RequestView), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn one(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Id(id): Id,
) -> Result<Json<RequestView>, ApiError> {
    caller.allow(FILERS)?;
    let mut db = state.db().await?;
    if !db.has_own_tables().await? {
        return Err(ApiError::NotFound(format!(
            "there is no privacy request #{id}"
        )));
    }
    let view = read_view(&state, &mut db, id).await;
    state.keep(db);
    Ok(Json(view?))
}

/// Requests, the overdue first, each group by due date.
#[utoipa::path(get, path = "/v1/requests", tag = "requests", params(ListParams),
    responses((status = 200, body = [RequestView]), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> Result<Json<Vec<RequestView>>, ApiError> {
    caller.allow(FILERS)?;
    let keep: fn(&PrivacyRequest, &str) -> bool = match params.status.as_deref() {
        None => |_, _| true,
        Some("open") => |r, _| r.status == RequestStatus::Open,
        Some("overdue") => |r, now| r.status == RequestStatus::Open && r.overdue(now),
        Some("answered") => |r, _| r.status != RequestStatus::Open,
        Some(other) => {
            return Err(ApiError::bad(
                "status",
                format!("`{other}` is not a status; valid: open, overdue, answered"),
            ));
        }
    };
    Ok(Json(state.requests(keep).await?))
}

impl ApiState {
    /// The requests `keep` accepts, the overdue first.
    pub(super) async fn requests(
        &self,
        keep: fn(&PrivacyRequest, &str) -> bool,
    ) -> Result<Vec<RequestView>, ApiError> {
        let mut db = self.db().await?;
        let all = if db.has_own_tables().await? {
            db.privacy_requests().await?
        } else {
            Vec::new()
        };
        self.keep(db);
        let now = Utc::now();
        let text = db::rfc3339(now);
        let sorted = crate::status::overdue_first(all, now);
        Ok(sorted
            .iter()
            .filter(|r| keep(r, &text))
            .map(|r| self.view(r, &text))
            .collect())
    }
}

/// Answer an open request now (role dpo): an erasure at once, between passes; an
/// access or portability request into a download.
#[utoipa::path(post, path = "/v1/requests/{id}/answer", tag = "requests",
    params(("id" = i64, Path, description = "The request's number")),
    responses((status = 202, description = "Being answered", body = RequestView),
        (status = 409, description = "Answered already", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn answer(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Id(id): Id,
) -> Result<Response, ApiError> {
    caller.allow(&[Role::Dpo])?;
    let view = state.answer(id, &caller).await?;
    Ok((StatusCode::ACCEPTED, Json(view)).into_response())
}

impl ApiState {
    /// Answers open request `id`: the API's and the review page's one way.
    pub(super) async fn answer(
        self: &Arc<Self>,
        id: i64,
        caller: &Caller,
    ) -> Result<RequestView, ApiError> {
        let (this, actor) = (self.clone(), caller.actor());
        self.with_db(async move |db| this.answer_with(db, id, &actor).await)
            .await
    }

    async fn answer_with(
        &self,
        db: &mut Db,
        id: i64,
        actor: &engine::Actor,
    ) -> Result<RequestView, ApiError> {
        let r = db
            .privacy_request(id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("there is no privacy request #{id}")))?;
        if r.status != RequestStatus::Open {
            let at = r.processed_at.clone().unwrap_or_default();
            return Err(ApiError::Conflict(format!(
                "request #{id} was answered already, at {at}"
            )));
        }
        let detail = format!(
            "{} request #{id} asked to be answered now{}",
            r.received.kind,
            actor.words()
        );
        engine::record_outside_pass(db, EventAction::AnswerAsked, detail).await?;
        if r.received.kind.is_export() {
            self.answer_export(db, id).await;
        } else {
            self.answer_now(id);
        }
        read_view(self, db, id).await
    }
}

/// Download an answered access or portability request's export, once.
///
/// The file is deleted as it is handed out, and the download recorded in the
/// audit trail; a second call gets 410.
#[utoipa::path(get, path = "/v1/requests/{id}/export", tag = "requests",
    params(("id" = i64, Path, description = "The request's number")),
    responses((status = 200, description = "The export: JSON, or a ZIP of it and the person's files when rows point to files", content_type = "application/json"),
        (status = 410, description = "Downloaded already, expired, or never answered here", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn download(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Id(id): Id,
) -> Result<Response, ApiError> {
    caller.allow(FILERS)?;
    let config = state.config();
    let Some(http) = config.http.as_ref() else {
        return Err(ApiError::Gone("the API is off".into()));
    };
    let (dir, keep, actor) = (http.export_dir.clone(), http.export_keep, caller.actor());
    let download = state
        .with_db(async move |db| {
            engine::take_download(db, &dir, id, keep, &actor)
                .await
                .map_err(download_error)
        })
        .await?;
    tracing::info!(request = id, bytes = download.bytes.len(), token = %caller.name, "an export was downloaded and deleted");
    let (ext, content_type) = match download.zip {
        true => ("zip", "application/zip"),
        false => ("json", "application/json"),
    };
    let disposition = format!("attachment; filename=\"request-{id}.{ext}\"");
    let bytes = download.bytes;
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response())
}

fn download_error(e: DownloadError) -> ApiError {
    match e {
        DownloadError::NoneWaiting(_) => ApiError::Gone(e.to_string()),
        DownloadError::Db(e) => e.into(),
        DownloadError::Io { .. } => {
            tracing::warn!(error = %e, "an export could not be handed out");
            ApiError::Unavailable
        }
    }
}
