//! Prometheus metrics of the daemon, and the small HTTP endpoint that serves them.
//!
//! Encoded with prometheus-client; the endpoint answers `GET /metrics` (and `/`) and
//! nothing else, which is all a scraper needs.

use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Metric, Registry};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::config::Config;
use crate::db::{Delivery, PrivacyRequest};
use crate::engine::{DeliveryCounts, PassReport, Status};
use crate::outcome::RequestKind;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PolicyAction {
    policy: String,
    action: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PolicyLabel {
    policy: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FileLabel {
    policy: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: String,
}

/// Each metric's name (after the `retentiond_` prefix) and help text.
const HELP: [(&str, &str); 16] = [
    (
        "rows_purged",
        "Rows deleted or anonymised, per policy and action",
    ),
    ("passes", "Passes run, by how they ended"),
    ("pass_duration_seconds", "How long passes took"),
    (
        "last_success_timestamp_seconds",
        "When each policy last finished a pass successfully (Unix time)",
    ),
    ("rows_held", "Expired rows skipped because of a legal hold"),
    (
        "oldest_remaining_row_age_seconds",
        "Age of the oldest row each policy covers and has not purged; above the policy's period means a backlog",
    ),
    ("leader", "1 while this instance holds the pass lock"),
    (
        "replica_wait_seconds",
        "Time each policy's batches waited for lagging replicas (max_replica_lag)",
    ),
    (
        "policy_period_seconds",
        "Each policy's retention period (keep), for comparing the oldest row's age with it",
    ),
    (
        "schedule_interval_seconds",
        "Time between two scheduled passes ([schedule] cron)",
    ),
    (
        "requests_open",
        "Privacy requests not answered yet, by kind",
    ),
    (
        "requests_overdue",
        "Privacy requests not answered 30 days after they were received, by kind",
    ),
    (
        "files",
        "Files of purged rows, per policy and outcome: removed, already_gone, refused (outside their store), failed (still queued)",
    ),
    (
        "deliveries",
        "Tries to pass an answered request on to a processor, by outcome: delivered, failed (tried again later), skipped (nothing to send)",
    ),
    (
        "deliveries_failing",
        "Answered requests a processor has not accepted for over a day, per processor",
    ),
    (
        "reports_unsent",
        "Periodic reports written and not mailed yet (mail_to set); tried again after each pass",
    ),
];

/// `metric`, registered under `name` with its help from [`HELP`].
fn registered<M: Metric + Clone>(registry: &mut Registry, name: &str, metric: M) -> M {
    let help = HELP.iter().find(|(n, _)| *n == name).map(|(_, h)| *h);
    debug_assert!(help.is_some(), "metric {name} has no help text in HELP");
    registry.register(name, help.unwrap_or(""), metric.clone());
    metric
}

/// Everything the daemon exports. Cheap to clone; all clones update the same values.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Mutex<Registry>>,
    rows_purged: Family<PolicyAction, Counter>,
    passes: Family<StatusLabel, Counter>,
    pass_duration: Histogram,
    last_success: Family<PolicyLabel, Gauge<f64, AtomicU64>>,
    rows_held: Family<PolicyLabel, Counter>,
    oldest_remaining_age: Family<PolicyLabel, Gauge<f64, AtomicU64>>,
    leader: Gauge,
    replica_wait: Family<PolicyLabel, Counter<f64, AtomicU64>>,
    policy_period: Family<PolicyLabel, Gauge<f64, AtomicU64>>,
    schedule_interval: Gauge<f64, AtomicU64>,
    requests_open: Family<KindLabel, Gauge>,
    requests_overdue: Family<KindLabel, Gauge>,
    files: Family<FileLabel, Counter>,
    deliveries: Family<OutcomeLabel, Counter>,
    deliveries_failing: Family<ProcessorLabel, Gauge>,
    reports_unsent: Gauge,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProcessorLabel {
    processor: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: String,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut r = Registry::with_prefix("retentiond");
        let buckets = exponential_buckets(0.01, 4.0, 10);
        let m = Metrics {
            registry: Arc::new(Mutex::new(Registry::default())),
            rows_purged: registered(&mut r, "rows_purged", Family::default()),
            passes: registered(&mut r, "passes", Family::default()),
            pass_duration: registered(&mut r, "pass_duration_seconds", Histogram::new(buckets)),
            last_success: registered(&mut r, "last_success_timestamp_seconds", Family::default()),
            rows_held: registered(&mut r, "rows_held", Family::default()),
            oldest_remaining_age: registered(
                &mut r,
                "oldest_remaining_row_age_seconds",
                Family::default(),
            ),
            leader: registered(&mut r, "leader", Gauge::default()),
            replica_wait: registered(&mut r, "replica_wait_seconds", Family::default()),
            policy_period: registered(&mut r, "policy_period_seconds", Family::default()),
            schedule_interval: registered(&mut r, "schedule_interval_seconds", Gauge::default()),
            requests_open: registered(&mut r, "requests_open", Family::default()),
            requests_overdue: registered(&mut r, "requests_overdue", Family::default()),
            files: registered(&mut r, "files", Family::default()),
            deliveries: registered(&mut r, "deliveries", Family::default()),
            deliveries_failing: registered(&mut r, "deliveries_failing", Family::default()),
            reports_unsent: registered(&mut r, "reports_unsent", Gauge::default()),
        };
        *m.registry.lock().unwrap_or_else(|e| e.into_inner()) = r;
        m
    }

    /// What the config promises: each policy's period, and the schedule's
    /// interval (between its next two times after `now`). Set at start and reload.
    pub fn set_config(&self, config: &Config, now: DateTime<Utc>) {
        for p in &config.policies {
            let period = (now - p.cutoff(now)).num_seconds().max(0) as f64;
            self.policy_period
                .get_or_create(&PolicyLabel {
                    policy: p.name.clone(),
                })
                .set(period);
        }
        let interval = config.schedule.as_ref().and_then(|s| {
            let first = crate::scheduler::next_after(s, now)?;
            let second = crate::scheduler::next_after(s, first)?;
            Some((second - first).num_seconds() as f64)
        });
        self.schedule_interval.set(interval.unwrap_or(0.0));
    }

    /// Open and overdue requests of every kind, zeros included.
    pub fn set_requests(&self, open: &[PrivacyRequest], now: DateTime<Utc>) {
        let now = crate::db::rfc3339(now);
        for kind in [
            RequestKind::Erasure,
            RequestKind::Access,
            RequestKind::Portability,
        ] {
            let of_kind = open.iter().filter(|r| r.received.kind == kind);
            let label = KindLabel {
                kind: kind.as_str().into(),
            };
            self.requests_open
                .get_or_create(&label)
                .set(of_kind.clone().count() as i64);
            self.requests_overdue
                .get_or_create(&label)
                .set(of_kind.filter(|r| r.overdue(&now)).count() as i64);
        }
    }

    /// The tries of one round of deliveries.
    pub fn record_deliveries(&self, c: &DeliveryCounts) {
        for (outcome, n) in [
            ("delivered", c.delivered),
            ("failed", c.failed),
            ("skipped", c.skipped),
        ] {
            self.deliveries
                .get_or_create(&OutcomeLabel {
                    outcome: outcome.into(),
                })
                .inc_by(n);
        }
    }

    /// Per processor of the config (zeros included) and of `failing`, how many
    /// deliveries have failed for over a day.
    pub fn set_failing(&self, config: &Config, failing: &[Delivery]) {
        let names = config
            .processors
            .iter()
            .map(|p| p.name.as_str())
            .chain(failing.iter().map(|d| d.processor.as_str()));
        for name in names {
            let n = failing.iter().filter(|d| d.processor == name).count();
            self.deliveries_failing
                .get_or_create(&ProcessorLabel {
                    processor: name.into(),
                })
                .set(n as i64);
        }
    }

    pub fn set_reports_unsent(&self, n: usize) {
        self.reports_unsent
            .set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    pub fn set_leader(&self, held: bool) {
        self.leader.set(i64::from(held));
    }

    /// Counts a finished pass.
    pub fn record(&self, report: &PassReport, seconds: f64, now: DateTime<Utc>) {
        self.passes
            .get_or_create(&StatusLabel {
                status: report.status.as_str().into(),
            })
            .inc();
        if report.status == Status::Skipped {
            return;
        }
        self.pass_duration.observe(seconds);
        self.record_deliveries(&report.deliveries);
        for p in &report.policies {
            let labels = PolicyAction {
                policy: p.name.clone(),
                action: p.action.as_str().into(),
            };
            self.rows_purged.get_or_create(&labels).inc_by(p.rows);
            let policy = PolicyLabel {
                policy: p.name.clone(),
            };
            self.rows_held.get_or_create(&policy).inc_by(p.held);
            let f = &p.files;
            for (outcome, n) in [
                ("removed", f.removed),
                ("already_gone", f.already_gone),
                ("refused", f.refused),
                ("failed", f.failed),
            ] {
                let labels = FileLabel {
                    policy: p.name.clone(),
                    outcome: outcome.into(),
                };
                self.files.get_or_create(&labels).inc_by(n);
            }
            self.replica_wait
                .get_or_create(&policy)
                .inc_by(p.replica_wait_ms as f64 / 1000.0);
            if p.status == Status::Ok {
                self.last_success
                    .get_or_create(&policy)
                    .set(now.timestamp() as f64);
            }
            let age = p
                .oldest_remaining
                .as_deref()
                .and_then(crate::period::parse_instant)
                .map(|t| (now - t).num_seconds().max(0) as f64)
                .unwrap_or(0.0);
            self.oldest_remaining_age.get_or_create(&policy).set(age);
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        if prometheus_client::encoding::text::encode(&mut out, &registry).is_err() {
            out.clear();
        }
        out
    }

    /// A pass that failed before its policies ran (the database was unreachable).
    pub fn record_failure(&self, seconds: f64) {
        self.passes
            .get_or_create(&StatusLabel {
                status: Status::Failed.as_str().into(),
            })
            .inc();
        self.pass_duration.observe(seconds);
    }

    /// Serves `GET /metrics` until the task is dropped; `leader` says whether a pass
    /// holds the pass lock right now.
    pub async fn serve(self, listener: TcpListener, leader: Arc<std::sync::atomic::AtomicBool>) {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            let metrics = self.clone();
            metrics.set_leader(leader.load(std::sync::atomic::Ordering::SeqCst));
            tokio::spawn(async move {
                let mut buf = [0u8; 2048];
                let n = match tokio::time::timeout(
                    std::time::Duration::from_secs(5),
                    stream.read(&mut buf),
                )
                .await
                {
                    Ok(Ok(n)) => n,
                    _ => return,
                };
                let request = String::from_utf8_lossy(&buf[..n]);
                let path = request.split_whitespace().nth(1).unwrap_or("");
                let response = if request.starts_with("GET ") && (path == "/metrics" || path == "/")
                {
                    let body = metrics.encode();
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/openmetrics-text; version=1.0.0; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    )
                } else {
                    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        .to_string()
                };
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    }
}

/// Binds the metrics endpoint.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_has_its_help_and_a_fresh_daemon_exports_the_plain_ones() {
        // `registered` asserts (in this debug build) that each name has a help text.
        let text = Metrics::new().encode();
        // Families appear once they have a label set; the plain metrics at once.
        for name in ["pass_duration_seconds", "leader"] {
            let help = HELP.iter().find(|(n, _)| *n == name).unwrap().1;
            assert!(
                text.contains(&format!("# HELP retentiond_{name} {help}")),
                "{name} missing in:\n{text}"
            );
        }
    }
}
