//! The API's OpenAPI document, generated from the handlers' annotations and the
//! types they take and return; `retentiond api openapi` prints it, and
//! docs/api.md embeds it (a test keeps the two equal).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use utoipa::Modify;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use super::auth::Caller;
use super::error::{ApiError, ErrorBody};
use super::{ApiState, admin, requests};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "retentiond request API",
        description = "Privacy requests, legal holds, reports and status of a retentiond daemon. Every route needs `Authorization: Bearer TOKEN`; tokens have the role app, dpo or ops."
    ),
    paths(
        requests::file, requests::list, requests::one, requests::answer, requests::download,
        admin::add_hold, admin::list_holds, admin::release_hold,
        admin::status, admin::reports, admin::report_file, admin::sign,
        admin::healthz, admin::metrics, serve,
    ),
    components(schemas(
        ErrorBody, requests::NewRequestBody, requests::RequestView, requests::ExportLink,
        admin::NewHoldBody, admin::AddedHoldView, admin::ReleaseBody, admin::ReportView,
        admin::SignOffView, admin::SignBody,
    )),
    modifiers(&Bearer),
    tags(
        (name = "requests", description = "Erasure, access and portability requests (roles app, dpo)"),
        (name = "holds", description = "Legal holds (role dpo)"),
        (name = "reports", description = "Periodic purge reports and their sign-off (role dpo)"),
        (name = "operations", description = "Status, health and metrics (roles ops, dpo)"),
    )
)]
pub struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document, pretty-printed, with the version left out so that it changes
/// only when the API does.
pub fn document() -> String {
    let mut doc = ApiDoc::openapi();
    doc.info.version = "1".into();
    doc.info.license = None;
    doc.to_pretty_json().unwrap_or_default()
}

/// This document (any role).
#[utoipa::path(get, path = "/v1/openapi.json", tag = "operations",
    responses((status = 200, description = "OpenAPI 3.1")), security(("bearer" = [])))]
pub async fn serve(
    State(_state): State<Arc<ApiState>>,
    _caller: Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(serde_json::from_str(&document()).unwrap_or_default()))
}
