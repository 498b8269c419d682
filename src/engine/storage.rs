//! What a pass leaves behind in storage: the vacuum that removes old copies of
//! purged values, SQLite's write-ahead log truncated, and in words what still holds
//! purged values (dead tuples, undo logs, backups) for the run record and reports.

use std::time::Instant;

use super::{Pass, PassReport};
use crate::backend::Backend;
use crate::db::Db;
use crate::policy::Policy;

/// Reclaims storage after a pass, for the policies that purged rows and ask for it:
/// on SQLite every policy unless it says `vacuum = false` (one rebuild of the file),
/// elsewhere the policies that say `vacuum = true` (their tables). Returns the
/// tables vacuumed.
pub(super) async fn vacuum_if_needed(
    db: &mut Db,
    pass: &mut Pass<'_>,
    report: &PassReport,
) -> Vec<String> {
    let sqlite = db.backend().one_write_lock();
    let wanted: Vec<&Policy> = report
        .policies
        .iter()
        .filter(|o| o.rows > 0)
        .filter_map(|o| pass.config.policy(&o.name))
        .filter(|p| p.vacuum.unwrap_or(sqlite))
        .collect();
    if wanted.is_empty() {
        return Vec::new();
    }
    let started = Instant::now();
    let names: Vec<&str> = wanted.iter().map(|p| p.name.as_str()).collect();
    let vacuumed = if sqlite {
        vacuum_sqlite(db, &wanted, &names).await
    } else {
        vacuum_tables(db, pass, &wanted).await
    };
    if vacuumed.len() == wanted.len() {
        tracing::info!(
            policies = %names.join(","),
            duration_ms = started.elapsed().as_millis() as u64,
            "storage reclaimed (VACUUM): no copy of a purged value is left in the purged tables' pages"
        );
    }
    vacuumed
}

async fn vacuum_sqlite(db: &mut Db, wanted: &[&Policy], names: &[&str]) -> Vec<String> {
    match db.rebuild_room().await {
        Ok(Some(room)) if !room.fits() => {
            tracing::warn!(
                policies = %names.join(","), free_mib = room.free >> 20, needed_mib = room.needed >> 20,
                "VACUUM skipped: the database's filesystem has too little room for the rebuild (about the database's size); the purged rows are gone and zeroed, but copies the application's own writes left in unused space stay until a rebuild"
            );
            return Vec::new();
        }
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(error = %e, "cannot tell whether a rebuild fits; trying it");
        }
    }
    match db.vacuum_sqlite().await {
        Ok(()) => wanted.iter().map(|p| p.table.name.clone()).collect(),
        Err(e) => {
            tracing::error!(policies = %names.join(","), error = %e, "VACUUM failed: copies of purged values may remain in unused space of the database file until the next successful pass");
            Vec::new()
        }
    }
}

async fn vacuum_tables(db: &mut Db, pass: &mut Pass<'_>, wanted: &[&Policy]) -> Vec<String> {
    let mut vacuumed = Vec::new();
    for p in wanted {
        let result = match pass.targets.get(db, pass.config, p).await {
            Ok(target) => target.vacuum(db).await.map_err(|e| e.to_string()),
            Err(reason) => Err(reason),
        };
        match result {
            Ok(()) => vacuumed.push(p.table.name.clone()),
            Err(e) => {
                tracing::error!(policy = %p.name, table = %p.table.name, error = %e, "VACUUM failed: dead rows keep purged values until the next vacuum");
            }
        }
    }
    vacuumed
}

/// Checkpoints SQLite's write-ahead log into the (secure_delete-zeroed) main file
/// and truncates it; a failure only logs.
pub(super) async fn scrub(db: &mut Db) {
    if let Err(e) = db.scrub().await {
        tracing::warn!(error = %e, "could not checkpoint and truncate the write-ahead log");
    }
}

/// What still holds values a pass purged, for the run record and the reports: the
/// database's own leftovers first, then copies no database can reach.
pub(super) fn leftovers(
    backend: Backend,
    report: &PassReport,
    vacuumed: &[String],
) -> Option<String> {
    let purged: Vec<&str> = report
        .policies
        .iter()
        .filter(|p| p.rows > 0)
        .map(|p| p.table.as_str())
        .collect();
    if purged.is_empty() {
        return None;
    }
    let not_vacuumed: Vec<&str> = purged
        .iter()
        .copied()
        .filter(|t| !vacuumed.iter().any(|v| v == t))
        .collect();
    let own = match backend {
        Backend::Sqlite if not_vacuumed.is_empty() => "the database file was rebuilt (VACUUM) and its write-ahead log truncated: no copy is left in it".to_string(),
        Backend::Sqlite => format!(
            "unused space in pages of {} may hold copies until the file is rebuilt (VACUUM)",
            not_vacuumed.join(", ")
        ),
        Backend::Postgres if not_vacuumed.is_empty() => format!("dead row versions in {} were vacuumed", purged.join(", ")),
        Backend::Postgres => format!(
            "dead row versions in {} keep the old values until VACUUM (autovacuum, or vacuum = true) reclaims them",
            not_vacuumed.join(", ")
        ),
        Backend::MySql => "InnoDB undo logs keep old values until InnoDB purges them, and binary logs keep the statements".to_string(),
    };
    Some(format!(
        "{own}; write-ahead log archives, backups and replicas made before this pass still hold purged values until their own retention ends"
    ))
}
