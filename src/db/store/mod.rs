//! retentiond's own `retention_` tables: runs and their policies' results, the audit
//! events, legal holds and erasure requests. One record type per table, each read
//! back by one decoder that finds its columns by name ([`Columns`]) and says which
//! table and column held a value it could not read.
//!
//! Only the shapes of records live here; which record to write when is the engine's.

mod deliveries;
mod events;
mod holds;
mod outbox;
mod requests;
mod runs;

pub use deliveries::{Delivery, NewDelivery};
pub(super) use events::ChainHead;
pub use events::PurgeEvent;
pub use holds::{Hold, NewHold};
pub use outbox::{FileRef, QueuedFile};
pub use requests::{ErasureEntry, NewRequest, PrivacyRequest, TableCount};
pub use runs::{LastPolicyRun, NewRun, PolicyRun, Run, RunEnd};

use super::{DbError, SqlValue};

/// The SELECT list of a record's columns, and where each is in the rows it yields.
pub(super) struct Columns {
    table: &'static str,
    list: String,
    names: Vec<String>,
}

impl Columns {
    /// `list` is the SELECT list as written (`p.run_id, p."rows", ...`); a column is
    /// found by its name without alias or quotes.
    pub(super) fn new(table: &'static str, list: impl Into<String>) -> Columns {
        let list = list.into();
        let names = list
            .split(',')
            .map(|c| {
                let c = c.trim();
                let c = c.rsplit_once('.').map_or(c, |(_, name)| name);
                c.trim_matches('"').to_string()
            })
            .collect();
        Columns { table, list, names }
    }

    pub(super) fn list(&self) -> &str {
        &self.list
    }

    /// Decodes each row with `record`.
    pub(super) fn decode<T>(
        &self,
        rows: Vec<Vec<SqlValue>>,
        record: impl Fn(&Fields) -> Result<T, DbError>,
    ) -> Result<Vec<T>, DbError> {
        rows.iter()
            .map(|values| {
                record(&Fields {
                    columns: self,
                    values,
                })
            })
            .collect()
    }
}

/// One row of a record's columns.
pub(super) struct Fields<'r> {
    columns: &'r Columns,
    values: &'r [SqlValue],
}

impl Fields<'_> {
    fn get(&self, name: &str) -> Result<&SqlValue, DbError> {
        self.columns
            .names
            .iter()
            .position(|n| n == name)
            .and_then(|i| self.values.get(i))
            .ok_or_else(|| self.error(name, "is not in the rows read"))
    }

    /// An error that names the table and column; never the value, which may be a
    /// subject's id.
    fn error(&self, name: &str, what: &str) -> DbError {
        DbError::Decode(format!("{}.{name} {what}", self.columns.table))
    }

    pub(super) fn int(&self, name: &str) -> Result<i64, DbError> {
        self.get(name)?
            .as_int()
            .ok_or_else(|| self.error(name, "does not hold a whole number"))
    }

    pub(super) fn flag(&self, name: &str) -> Result<bool, DbError> {
        self.int(name).map(|n| n != 0)
    }

    pub(super) fn text(&self, name: &str) -> Result<String, DbError> {
        self.opt_text(name)?
            .ok_or_else(|| self.error(name, "is NULL or binary, not text"))
    }

    pub(super) fn number(&self, name: &str) -> Result<f64, DbError> {
        self.get(name)?
            .as_number()
            .ok_or_else(|| self.error(name, "does not hold a number"))
    }

    pub(super) fn opt_text(&self, name: &str) -> Result<Option<String>, DbError> {
        Ok(self.get(name)?.to_text())
    }

    /// A column holding one of `T`'s spellings.
    pub(super) fn spelled<T>(
        &self,
        name: &str,
        parse: fn(&str) -> Option<T>,
        valid: fn() -> String,
    ) -> Result<T, DbError> {
        let text = self.text(name)?;
        parse(&text).ok_or_else(|| {
            self.error(
                name,
                &format!("holds `{text}`, which is not one of {}", valid()),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_found_by_name_whatever_the_alias_or_quotes() {
        let c = Columns::new("retention_x", "p.id, p.\"rows\", status");
        let rows = vec![vec![
            SqlValue::Int(7),
            SqlValue::Text("12".into()),
            SqlValue::Text("ok".into()),
        ]];
        let decoded = c
            .decode(rows, |f| {
                Ok((f.int("id")?, f.int("rows")?, f.text("status")?))
            })
            .unwrap();
        assert_eq!(decoded, [(7, 12, "ok".to_string())]);
    }

    #[test]
    fn a_bad_value_names_its_table_and_column_not_the_value() {
        let c = Columns::new("retention_holds", "id, subject");
        let rows = vec![vec![SqlValue::Text("x".into()), SqlValue::Null]];
        let e = c.decode(rows.clone(), |f| f.int("id")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "unexpected value from the database: retention_holds.id does not hold a whole number"
        );
        let e = c.decode(rows, |f| f.text("subject")).unwrap_err();
        assert!(
            e.to_string().contains("retention_holds.subject is NULL"),
            "{e}"
        );
    }
}
