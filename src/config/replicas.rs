//! `[database]`'s replica keys (`max_replica_lag`, `replica_urls`,
//! `max_replica_wait`) and the rules between them and the primary's backend: lag is
//! watched where it can be read, or the file is refused.

use toml::de::{DeTable, DeValue};

use super::walk::{Cx, Item, get};
use crate::backend::{Backend, ReplicaWatch, redact_url};

/// The replica keys of `[database]` `t`, for a primary at `url`. `None` (the
/// problem recorded) when they cannot be honoured.
pub(super) fn replica_watch(cx: &mut Cx, t: &DeTable, url: &str) -> Option<Option<ReplicaWatch>> {
    let lag_item = get(t, "max_replica_lag");
    let max_lag = match lag_item {
        Some(v) => Some(cx.duration(v, "max_replica_lag")?),
        None => None,
    };
    let primary = Backend::of_url(url);
    let urls = match get(t, "replica_urls") {
        Some(v) => urls(cx, v, primary)?,
        None => Vec::new(),
    };
    let max_wait = match get(t, "max_replica_wait") {
        Some(v) => cx.duration(v, "max_replica_wait")?,
        None => ReplicaWatch::DEFAULT_MAX_WAIT,
    };
    let Some(max_lag) = max_lag else {
        if let Some(v) = get(t, "replica_urls").or(get(t, "max_replica_wait")) {
            cx.problem(
                v.span(),
                "replica_urls and max_replica_wait are read only to watch replica lag".into(),
                Some("add max_replica_lag = \"2s\", or remove them".into()),
            );
            return None;
        }
        return Some(None);
    };
    let span = lag_item.map(Item::span).unwrap_or_default();
    match primary {
        Some(Backend::Sqlite) => {
            cx.problem(
                span,
                "max_replica_lag: SQLite has no replicas".into(),
                Some("remove max_replica_lag".into()),
            );
            return None;
        }
        Some(Backend::MySql) if urls.is_empty() => {
            cx.problem(
                span,
                "max_replica_lag: a MySQL or MariaDB primary does not show its replicas' lag".into(),
                Some(
                    "list each replica, read with SHOW REPLICA STATUS: replica_urls = [\"mysql://monitor@replica1:3306/shop\"] (docs/operations.md, \"Replicas\")".into(),
                ),
            );
            return None;
        }
        _ => {}
    }
    Some(Some(ReplicaWatch {
        max_lag,
        urls,
        max_wait,
    }))
}

/// `replica_urls`: a list of URLs of the primary's backend.
fn urls(cx: &mut Cx, v: &Item, primary: Option<Backend>) -> Option<Vec<String>> {
    let DeValue::Array(items) = v.get_ref() else {
        cx.type_error(v, "replica_urls", "a list of database URLs");
        return None;
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let url = cx.string(item, "replica_urls")?;
        let backend = Backend::of_url(&url);
        if backend.is_none() || backend != primary {
            cx.problem(
                item.span(),
                format!(
                    "replica URL `{}` is not a URL of the primary's backend",
                    redact_url(&url)
                ),
                Some(format!(
                    "a {} URL, like the primary's `url`",
                    primary.map_or("database", Backend::name)
                )),
            );
            return None;
        }
        out.push(url);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use crate::config::parse;

    /// Every problem of a config with this `[database]`, as `line:col message`.
    fn problems(database: &str) -> String {
        let text = format!(
            "[database]\n{database}\n\n[[policy]]\nname = \"p\"\ntable = \"t\"\ntimestamp = \"at\"\nkeep = \"1 year\"\naction = \"delete\"\n"
        );
        match parse(
            std::path::Path::new("retention.toml"),
            text.as_bytes(),
            None,
        ) {
            Ok(_) => String::new(),
            Err(e) => e
                .problems()
                .iter()
                .map(|p| format!("{}:{} {}\n", p.loc.line, p.loc.col, p.message))
                .collect(),
        }
    }

    #[test]
    fn replica_urls_are_read_on_the_primarys_backend() {
        let ok = problems(
            "url = \"postgres://u@db/shop\"\nmax_replica_lag = \"2s\"\nreplica_urls = [\"postgres://u@standby/shop\"]\nmax_replica_wait = \"1min\"",
        );
        assert_eq!(ok, "");
        let mixed = problems(
            "url = \"postgres://u@db/shop\"\nmax_replica_lag = \"2s\"\nreplica_urls = [\"mysql://u:secret@replica/shop\"]",
        );
        assert!(mixed.contains("4:17"), "{mixed}");
        assert!(
            mixed.contains("is not a URL of the primary's backend"),
            "{mixed}"
        );
        assert!(!mixed.contains("secret"), "{mixed}");
    }

    #[test]
    fn lag_that_cannot_be_read_is_refused() {
        let mysql = problems("url = \"mysql://u@db/shop\"\nmax_replica_lag = \"2s\"");
        assert!(mysql.contains("does not show its replicas' lag"), "{mysql}");
        assert!(mysql.contains("3:19"), "{mysql}");
        let sqlite = problems("url = \"sqlite://shop.db\"\nmax_replica_lag = \"2s\"");
        assert!(sqlite.contains("SQLite has no replicas"), "{sqlite}");
        let alone = problems(
            "url = \"postgres://u@db/shop\"\nreplica_urls = [\"postgres://u@standby/shop\"]",
        );
        assert!(
            alone.contains("3:16 replica_urls and max_replica_wait are read only"),
            "{alone}"
        );
        let mysql_ok = problems(
            "url = \"mysql://u@db/shop\"\nmax_replica_lag = \"2s\"\nreplica_urls = [\"mariadb://u@replica/shop\"]",
        );
        assert_eq!(mysql_ok, "");
    }
}
