//! What is compared: the tasks, the contenders beside the bulk statement (each of
//! retentiond's walks, and on MariaDB Percona's pt-archiver), and one comparison
//! run on fresh copies of a template table.

use crate::measure::{self, Side};
use crate::setup::{self, Backend, Db, Layout};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Task {
    Delete,
    Null,
    TruncateIp,
}

impl Task {
    pub const ALL: [Task; 3] = [Task::Delete, Task::Null, Task::TruncateIp];

    pub fn name(self) -> &'static str {
        match self {
            Task::Delete => "delete",
            Task::Null => "null",
            Task::TruncateIp => "truncate_ip",
        }
    }

    fn strategy(self) -> Option<&'static str> {
        match self {
            Task::Delete => None,
            Task::Null => Some("null"),
            Task::TruncateIp => Some("truncate_ip"),
        }
    }

    /// The statement an operator would schedule instead: for `truncate_ip` the
    /// backend's own IPv4 arithmetic (the table holds IPv4 addresses only).
    fn bulk_sql(self, backend: Backend) -> String {
        let cutoff = "WHERE at < '2020-01-01'";
        let truncated = match backend {
            Backend::Sqlite => "rtrim(ip, '0123456789') || '0'",
            Backend::Postgres => "host(network(set_masklen(CAST(ip AS inet), 24)))",
            Backend::MariaDb => "INET_NTOA(INET_ATON(ip) & 4294967040)",
        };
        let t = setup::TABLE;
        match self {
            Task::Delete => format!("DELETE FROM {t} {cutoff}"),
            Task::Null => format!("UPDATE {t} SET ip = NULL {cutoff}"),
            Task::TruncateIp => format!("UPDATE {t} SET ip = {truncated} {cutoff}"),
        }
    }
}

/// The policy on [`setup::TABLE`], with `extra` lines: delete, or anonymise `ip`
/// with `strategy` (without a marker: by the values).
pub fn policy(strategy: Option<&str>, extra: &str) -> String {
    let t = setup::TABLE;
    let head = format!(
        "[[policy]]\nname = \"{t}\"\ntable = \"{t}\"\ntimestamp = \"at\"\nkeep = \"1 year\"\n{extra}"
    );
    match strategy {
        None => format!("{head}action = \"delete\"\n"),
        Some(s) => format!("{head}action = \"anonymize\"\n[policy.anonymize]\nip = \"{s}\"\n"),
    }
}

/// Who purges beside the bulk statement.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Contender {
    /// retentiond with `walk` set so.
    Walk(&'static str),
    /// `pt-archiver --purge --limit 1000 --commit-each --primary-key-only
    /// --bulk-delete`: the tool a MySQL DBA picks for this (delete only).
    PtArchiver,
}

impl Contender {
    pub fn name(self) -> String {
        match self {
            Contender::Walk(w) => format!("retentiond {w}"),
            Contender::PtArchiver => "pt-archiver".into(),
        }
    }
}

/// One comparison: a task on a backend and layout, with or without the writer.
pub struct Case {
    pub backend: Backend,
    pub layout: Layout,
    pub task: Task,
    pub writer: bool,
    pub bulk: Side,
    pub sides: Vec<(Contender, Side)>,
}

impl Case {
    /// A contender's rate over the bulk statement's, both whole (VACUUM included).
    pub fn ratio(&self, side: &Side) -> f64 {
        side.rows_per_second() / self.bulk.rows_per_second()
    }

    pub fn ratio_without_vacuum(&self, side: &Side) -> f64 {
        side.rows_per_second_without_vacuum() / self.bulk.rows_per_second_without_vacuum()
    }

    pub fn side(&self, who: Contender) -> Option<&Side> {
        self.sides.iter().find(|(c, _)| *c == who).map(|(_, s)| s)
    }
}

/// The bulk statement and each contender, each on its own copy of `template`.
pub async fn compare(
    template: &Db,
    layout: Layout,
    task: Task,
    writer: bool,
    walks: &[&'static str],
) -> Case {
    let backend = template.backend;
    let a = Db::copy_of(template).await;
    let bulk = measure::bulk(
        &a,
        &task.bulk_sql(backend),
        writer,
        backend == Backend::Sqlite,
    )
    .await;
    a.drop_database().await;
    let mut contenders: Vec<Contender> = walks.iter().map(|w| Contender::Walk(w)).collect();
    if backend == Backend::MariaDb && task == Task::Delete && measure::has_pt_archiver() {
        contenders.push(Contender::PtArchiver);
    }
    let mut sides = Vec::new();
    for who in contenders {
        let b = Db::copy_of(template).await;
        let side = match who {
            Contender::Walk(w) => {
                let extra = format!("walk = \"{w}\"\n");
                measure::retentiond(&b, &policy(task.strategy(), &extra), writer).await
            }
            Contender::PtArchiver => measure::pt_archiver(&b, "at < '2020-01-01'", writer).await,
        };
        b.drop_database().await;
        assert_eq!(
            bulk.rows,
            side.rows,
            "{backend:?} {task:?} {layout:?}: {} purges the same rows as the bulk statement",
            who.name()
        );
        sides.push((who, side));
    }
    Case {
        backend,
        layout,
        task,
        writer,
        bulk,
        sides,
    }
}
