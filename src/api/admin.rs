//! The API's other routes: legal holds, the daemon's status, the periodic reports
//! and their sign-off, health and metrics. Each calls what the CLI calls.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ApiState;
use super::auth::Caller;
use super::error::{ApiError, Body, ErrorBody, Id};
use crate::db::{Access, Db};
use crate::engine::{self, HoldRequest};
use crate::report::signoff;
use crate::tokens::Role;

/// A legal hold to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewHoldBody {
    pub subject: String,
    /// Why (a case number); shown in reports.
    pub reason: String,
    /// Only this policy; every policy with a subject column when absent.
    pub policy: Option<String>,
    /// The last day it applies (YYYY-MM-DD); until released when absent.
    pub until: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AddedHoldView {
    pub id: i64,
    pub until: Option<String>,
    pub scope: String,
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ReleaseBody {
    pub reason: Option<String>,
}

/// A JSON body read with its errors named by field.
pub(super) fn body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        let text = e.to_string();
        // serde names the field in "missing field `x`" and "unknown field `x`".
        let field = text
            .split('`')
            .nth(1)
            .filter(|_| text.contains(" field `"))
            .unwrap_or("body")
            .to_string();
        ApiError::bad(&field, text)
    })
}

/// Put a subject's rows under a legal hold (role dpo).
#[utoipa::path(post, path = "/v1/holds", tag = "holds", request_body = NewHoldBody,
    responses((status = 201, body = AddedHoldView), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn add_hold(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Body(bytes): Body,
) -> Result<Response, ApiError> {
    caller.allow(&[Role::Dpo])?;
    let b: NewHoldBody = body(&bytes)?;
    let config = state.config();
    let request = HoldRequest {
        subject: b.subject,
        reason: b.reason,
        policy: b.policy,
        until: b.until,
        actor: caller.actor(),
    };
    let added = state
        .with_db(async move |db| Ok(engine::add_hold(db, &config, request).await?))
        .await?;
    let view = AddedHoldView {
        id: added.id,
        until: added.until,
        scope: added.scope,
    };
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// Every hold, active and released, newest first (role dpo).
#[utoipa::path(get, path = "/v1/holds", tag = "holds",
    responses((status = 200, description = "Each hold and whether it keeps rows now")),
    security(("bearer" = [])))]
pub async fn list_holds(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.allow(&[Role::Dpo])?;
    let holds = state.holds().await?;
    Ok(Json(serde_json::to_value(holds).unwrap_or_default()))
}

/// End a hold (role dpo).
#[utoipa::path(post, path = "/v1/holds/{id}/release", tag = "holds",
    params(("id" = i64, Path, description = "The hold's number")), request_body = ReleaseBody,
    responses((status = 200, description = "Released"), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn release_hold(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Id(id): Id,
    Body(bytes): Body,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.allow(&[Role::Dpo])?;
    let b: ReleaseBody = if bytes.is_empty() {
        ReleaseBody::default()
    } else {
        body(&bytes)?
    };
    let at = state.release(id, b.reason, &caller).await?;
    Ok(Json(serde_json::json!({"id": id, "released_at": at})))
}

impl ApiState {
    pub(super) async fn holds(self: &Arc<Self>) -> Result<Vec<engine::HoldListing>, ApiError> {
        self.with_db(async |db| Ok(engine::list_holds(db).await?))
            .await
    }

    pub(super) async fn release(
        self: &Arc<Self>,
        id: i64,
        reason: Option<String>,
        caller: &Caller,
    ) -> Result<String, ApiError> {
        let actor = caller.actor();
        self.with_db(async move |db| Ok(engine::release_hold(db, id, reason, &actor).await?))
            .await
    }
}

/// The daemon's status, as `retentiond status --format json` prints it (roles dpo, ops).
#[utoipa::path(get, path = "/v1/status", tag = "operations",
    responses((status = 200, description = "Last pass, pass lock, next pass, open requests, reports")),
    security(("bearer" = [])))]
pub async fn status(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.allow(&[Role::Dpo, Role::Ops])?;
    let config = state.config();
    let view = crate::status::gather(&config).await?;
    Ok(Json(crate::status::json(&config, &view)))
}

/// A period's report, as written by the daemon.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportView {
    /// The period: `2026-11`, `2026-W47`, or `FROM_TO`.
    pub label: String,
    pub files: Vec<String>,
    /// `sent`, `unsent` (tried again after each pass), or `not_mailed` (no
    /// `[report] mail_to`).
    pub mail: String,
    pub sign_offs: Vec<SignOffView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignOffView {
    pub by: String,
    pub at: String,
    /// Each file's name and SHA-256 when signed.
    pub files: Vec<(String, String)>,
}

/// The periodic reports, newest first, with their sign-offs (role dpo).
#[utoipa::path(get, path = "/v1/reports", tag = "reports",
    responses((status = 200, body = [ReportView])), security(("bearer" = [])))]
pub async fn reports(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
) -> Result<Json<Vec<ReportView>>, ApiError> {
    caller.allow(&[Role::Dpo])?;
    Ok(Json(state.reports().await?))
}

impl ApiState {
    pub(super) async fn reports(&self) -> Result<Vec<ReportView>, ApiError> {
        let config = self.config();
        let Some(settings) = config.report.as_ref() else {
            return Ok(Vec::new());
        };
        let mut db = Db::open(&config.database, Access::ReadOnly).await?;
        let signed = signoff::sign_offs(&mut db).await;
        let _ = db.close().await;
        let signed = signed?;
        let unsent = crate::report::unsent_reports(settings, chrono::Utc::now());
        let mut labels: Vec<String> = crate::report::written_reports(&settings.dir)
            .iter()
            .filter_map(|n| crate::report::label_of(n))
            .collect();
        labels.dedup();
        labels.reverse();
        Ok(labels
            .into_iter()
            .map(|label| ReportView {
                files: signoff::period_files(settings, &label),
                mail: match (settings.mail_to.is_empty(), unsent.contains(&label)) {
                    (true, _) => "not_mailed",
                    (false, true) => "unsent",
                    (false, false) => "sent",
                }
                .into(),
                sign_offs: signed
                    .iter()
                    .filter(|s| s.label == label)
                    .map(|s| SignOffView {
                        by: s.by.clone(),
                        at: s.at.clone(),
                        files: s.files.clone(),
                    })
                    .collect(),
                label,
            })
            .collect())
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ReportParams {
    /// `html`, `md`, `csv` or `json`: one of [report] formats.
    pub format: Option<String>,
}

/// A period's report file (role dpo).
#[utoipa::path(get, path = "/v1/reports/{label}", tag = "reports",
    params(("label" = String, Path, description = "The period, e.g. 2026-11"), ReportParams),
    responses((status = 200, description = "The file"), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn report_file(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(label): Path<String>,
    Query(p): Query<ReportParams>,
) -> Result<Response, ApiError> {
    caller.allow(&[Role::Dpo])?;
    let config = state.config();
    let Some(settings) = config.report.as_ref() else {
        return Err(ApiError::NotFound("no [report] in the config".into()));
    };
    let ext = p.format.unwrap_or_else(|| "html".into());
    if !settings.formats.contains(&ext) {
        let valid = settings.formats.join(", ");
        return Err(ApiError::bad(
            "format",
            format!("`{ext}` is not one of [report] formats: {valid}"),
        ));
    }
    let name = signoff::period_files(settings, &label)
        .into_iter()
        .find(|n| n.ends_with(&format!(".{ext}")))
        .ok_or_else(|| ApiError::NotFound(format!("no {ext} report for period `{label}`")))?;
    let bytes = std::fs::read(settings.dir.join(&name)).map_err(|e| {
        tracing::warn!(error = %e, file = %name, "a report file could not be read");
        ApiError::Unavailable
    })?;
    let content_type = match ext.as_str() {
        "html" => "text/html; charset=utf-8",
        "md" => "text/markdown; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        _ => "application/json",
    };
    Ok(([(header::CONTENT_TYPE, content_type)], bytes).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignBody {
    /// The reviewer's name, as it should stand in the audit trail.
    pub reviewer: String,
}

/// Sign a period's report off (role dpo): the reviewer, the time and each file's
/// SHA-256 go into the audit chain.
#[utoipa::path(post, path = "/v1/reports/{label}/sign", tag = "reports",
    params(("label" = String, Path, description = "The period")), request_body = SignBody,
    responses((status = 201, body = SignOffView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn sign(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Path(label): Path<String>,
    Body(bytes): Body,
) -> Result<Response, ApiError> {
    caller.allow(&[Role::Dpo])?;
    let b: SignBody = body(&bytes)?;
    let view = state.sign(&label, &b.reviewer, &caller).await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

impl ApiState {
    pub(super) async fn sign(
        self: &Arc<Self>,
        label: &str,
        reviewer: &str,
        caller: &Caller,
    ) -> Result<SignOffView, ApiError> {
        let config = self.config();
        let Some(settings) = config.report.clone() else {
            return Err(ApiError::NotFound("no [report] in the config".into()));
        };
        let (period, name, actor) = (label.to_string(), reviewer.to_string(), caller.actor());
        let files = self
            .with_db(async move |db| {
                signoff::sign(db, &settings, &period, &name, &actor)
                    .await
                    .map_err(sign_off_error)
            })
            .await?;
        tracing::info!(period = label, token = %caller.name, "a report was signed off");
        Ok(SignOffView {
            by: reviewer.trim().to_string(),
            at: crate::db::rfc3339(chrono::Utc::now()),
            files,
        })
    }
}

fn sign_off_error(e: signoff::SignOffError) -> ApiError {
    match e {
        signoff::SignOffError::NoReport(_) => ApiError::NotFound(e.to_string()),
        signoff::SignOffError::BadName => ApiError::bad("reviewer", e.to_string()),
        signoff::SignOffError::Db(e) => e.into(),
        signoff::SignOffError::Read { .. } => {
            tracing::warn!(error = %e, "a report could not be signed");
            ApiError::Unavailable
        }
    }
}

/// Whether the daemon answers and reaches its database (any role).
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "ok"), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn healthz(
    State(state): State<Arc<ApiState>>,
    _caller: Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    let db = Db::open(&state.config().database, Access::ReadOnly).await?;
    let _ = db.close().await;
    Ok(Json(serde_json::json!({"status": "ok"})))
}

/// The Prometheus metrics, as `[metrics] listen` serves them (roles ops, dpo).
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "OpenMetrics text")), security(("bearer" = [])))]
pub async fn metrics(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
) -> Result<Response, ApiError> {
    caller.allow(&[Role::Ops, Role::Dpo])?;
    state
        .metrics
        .set_leader(state.leader.load(std::sync::atomic::Ordering::SeqCst));
    let body = state.metrics.encode();
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response())
}
