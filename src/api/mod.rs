//! The request API and the data-protection officer's review page, served by the
//! daemon when `[http]` is on. A second door to the engine's functions, beside
//! the command line: each route checks its caller's role, then calls what the
//! matching command calls.

mod admin;
mod auth;
mod error;
mod openapi;
mod requests;
mod review;
mod server;

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::{mpsc, watch};

use crate::config::{Config, HttpSettings};
use crate::db::{Access, Db};
use crate::engine;
use crate::metrics::Metrics;
use crate::tokens::ApiToken;

pub use error::ApiError;
pub use openapi::document as openapi_document;
pub use server::ServeError;

/// How many connections the API keeps open between requests.
const KEPT_CONNECTIONS: usize = 8;

/// What every handler shares.
pub struct ApiState {
    /// The config in force: replaced at each reload, so that a removed token is
    /// refused from then on.
    config: watch::Receiver<Arc<Config>>,
    metrics: Metrics,
    leader: Arc<AtomicBool>,
    /// Erasures to answer now (a minor's, or one the officer answers), sent to
    /// the daemon's loop, which runs them between passes: one purger at a time.
    answer_tx: mpsc::UnboundedSender<i64>,
    limiter: DefaultKeyedRateLimiter<String>,
    /// Connections kept between requests, with the URL they were opened for:
    /// opening one costs PostgreSQL a process, and the app files in bursts.
    idle: std::sync::Mutex<Vec<(String, Db)>>,
    sessions: review::Sessions,
    /// Cookies marked Secure: the page is served over TLS.
    secure: bool,
}

impl ApiState {
    fn config(&self) -> Arc<Config> {
        self.config.borrow().clone()
    }

    fn tokens<'c>(&self, config: &'c Config) -> &'c [ApiToken] {
        config.http.as_ref().map_or(&[], |h| &h.tokens)
    }

    fn check_rate(&self, key: &str) -> Result<(), ApiError> {
        self.limiter
            .check_key(&key.to_string())
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                ApiError::RateLimited(wait.as_secs().max(1))
            })
    }

    /// A connection to the database in force: one kept from an earlier request,
    /// checked alive and told to read the chain's head afresh, or a new one.
    async fn db(&self) -> Result<Db, ApiError> {
        let settings = self.config().database.clone();
        let kept = {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            // After a reload that moved the database, the old ones go.
            idle.retain(|(url, _)| *url == settings.url);
            idle.pop()
        };
        if let Some((_, mut db)) = kept {
            db.forget_chain();
            if db.ensure_connected(settings.retry).await.is_ok() {
                return Ok(db);
            }
        }
        Ok(Db::open(&settings, Access::ReadWrite).await?)
    }

    /// Keeps `db` for the next request, up to [`KEPT_CONNECTIONS`].
    fn keep(&self, db: Db) {
        let url = self.config().database.url.clone();
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < KEPT_CONNECTIONS {
            idle.push((url, db));
        }
    }

    /// Runs `work` with a kept connection on the engine's thread ([`in_engine`]),
    /// and keeps the connection again when `work` succeeded.
    async fn with_db<T, W>(self: &Arc<Self>, work: W) -> Result<T, ApiError>
    where
        T: Send + 'static,
        W: AsyncFnOnce(&mut Db) -> Result<T, ApiError> + Send + 'static,
    {
        let this = self.clone();
        in_engine(move || async move {
            let mut db = this.db().await?;
            let done = work(&mut db).await;
            if done.is_ok() {
                this.keep(db);
            }
            done
        })
        .await
    }

    fn answer_now(&self, id: i64) {
        if self.answer_tx.send(id).is_err() {
            tracing::warn!(
                request = id,
                "the daemon is stopping; the erasure is answered at its next pass"
            );
        }
    }

    /// Answers an access or portability request into a download. A failure
    /// leaves it open, to be answered from the review page or the CLI.
    async fn answer_export(&self, db: &mut Db, id: i64) {
        let config = self.config();
        let Some(http) = config.http.as_ref() else {
            return;
        };
        match answer_for_download(db, &config, &http.export_dir, id).await {
            Ok(a) => tracing::info!(
                request = id,
                rows = a.rows(),
                "an export is ready to be downloaded"
            ),
            Err(e) => {
                tracing::warn!(request = id, error = %e, "an export could not be answered; the request stays open")
            }
        }
    }
}

/// Runs the future `work` builds on a blocking thread of the runtime. The
/// engine's transactions take async closures, whose futures are not `Send`, so
/// they cannot run on a request's task; the captured values must be.
async fn in_engine<T, F, Fut>(work: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = T>,
{
    let handle = tokio::runtime::Handle::current();
    match tokio::task::spawn_blocking(move || handle.block_on(work())).await {
        Ok(t) => t,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// Answers open request `id` into `dir`, where it waits to be downloaded once.
async fn answer_for_download(
    db: &mut Db,
    config: &Config,
    dir: &std::path::Path,
    id: i64,
) -> Result<engine::ExportAnswer, engine::ExportError> {
    engine::create_private_dir(dir)?;
    let path = engine::download_path(dir, id);
    let mut file = crate::export::JsonFile::create(&path)?;
    let answer = engine::answer_export(db, config, id, file.sink()).await?;
    file.persist(&path)?;
    Ok(answer)
}

fn router(state: Arc<ApiState>, max_body: usize) -> Router {
    Router::new()
        .route("/v1/requests", post(requests::file).get(requests::list))
        .route("/v1/requests/{id}", get(requests::one))
        .route("/v1/requests/{id}/answer", post(requests::answer))
        .route("/v1/requests/{id}/export", get(requests::download))
        .route("/v1/holds", post(admin::add_hold).get(admin::list_holds))
        .route("/v1/holds/{id}/release", post(admin::release_hold))
        .route("/v1/status", get(admin::status))
        .route("/v1/reports", get(admin::reports))
        .route("/v1/reports/{label}", get(admin::report_file))
        .route("/v1/reports/{label}/sign", post(admin::sign))
        .route("/v1/openapi.json", get(openapi::serve))
        .route("/healthz", get(admin::healthz))
        .route("/metrics", get(admin::metrics))
        .merge(review::routes())
        .fallback(|| async { ApiError::NotFound("no such route; see /v1/openapi.json".into()) })
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state)
}

/// Binds `[http] listen` and serves until the task is dropped. Returns the
/// erasures the API asks to answer now.
pub async fn start(
    config: watch::Receiver<Arc<Config>>,
    metrics: Metrics,
    leader: Arc<AtomicBool>,
) -> Result<Option<mpsc::UnboundedReceiver<i64>>, ServeError> {
    let Some(http): Option<HttpSettings> = config.borrow().http.clone() else {
        return Ok(None);
    };
    let tls = http.tls.as_ref().map(server::acceptor).transpose()?;
    let listener = server::bind(&http.listen).await?;
    let (answer_tx, answer_rx) = mpsc::unbounded_channel();
    let per_minute = NonZeroU32::new(http.requests_per_minute).unwrap_or(NonZeroU32::MIN);
    let state = Arc::new(ApiState {
        config,
        metrics,
        leader,
        answer_tx,
        limiter: RateLimiter::keyed(Quota::per_minute(per_minute)),
        idle: std::sync::Mutex::new(Vec::new()),
        sessions: review::Sessions::default(),
        secure: tls.is_some(),
    });
    let app = router(state, http.max_body_bytes);
    tracing::info!(listen = %http.listen, url = %http.base_url(), "serving the request API at /v1 and the review page at /review");
    tokio::spawn(server::serve(listener, tls, app));
    Ok(Some(answer_rx))
}
