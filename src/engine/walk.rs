//! Which walk an expiry pass takes through a policy's table: the index walk, in
//! (timestamp, key) order through the timestamp's index, or the table walk, in
//! storage order. `auto` asks the database how it would find the expired rows
//! itself: where its plan reads the whole table (most rows expire), so does the
//! pass; where it would read an index range (few do), the index walk.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::db::{Db, DbError, TableWalk, Target};
use crate::policy::{Policy, Walk};

/// The walk taken, and why, as `plan` and `purge` report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChosenWalk {
    /// `index` or `table`.
    pub walk: Walk,
    pub why: String,
}

/// The walk for `p`'s expired rows at `cutoff`: the table walk's state when it
/// is the one.
pub(super) async fn choose(
    db: &mut Db,
    p: &Policy,
    target: &Target,
    cutoff: DateTime<Utc>,
) -> Result<(ChosenWalk, Option<TableWalk>), DbError> {
    let chosen = |walk: Walk, why: String| ChosenWalk { walk, why };
    if p.walk == Walk::Index {
        return Ok((chosen(Walk::Index, "walk = \"index\"".into()), None));
    }
    let table = match target.table_walk(db).await? {
        Ok(t) => t,
        Err(why) => {
            let why = if p.walk == Walk::Table {
                format!("walk = \"table\" cannot be followed: {why}")
            } else {
                format!("no table walk: {why}")
            };
            return Ok((chosen(Walk::Index, why), None));
        }
    };
    let why = if p.walk == Walk::Table {
        format!("walk = \"table\", by {}", table.describe())
    } else if target.plan_scans_table(db, cutoff).await? {
        format!(
            "the database's own plan reads the whole table for the expired rows: by {}",
            table.describe()
        )
    } else {
        let why = "the database's own plan reads the timestamp's index for the expired rows";
        return Ok((chosen(Walk::Index, why.into()), None));
    };
    Ok((chosen(Walk::Table, why), Some(table)))
}
