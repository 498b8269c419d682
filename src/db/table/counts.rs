//! The counts the engine and `check` make on a policy's table: for plans, the
//! fraction guard, what a pass leaves aside (held rows, unreadable timestamps,
//! values a strategy cannot read) and what it leaves behind (the oldest row still
//! to purge), and the per-value states `check` and the tests read.

use chrono::{DateTime, Utc};

use super::forms::parse_state;
use super::predicates::coarse_bound;
use super::{Target, TsEncoding};
use crate::anonymize::ValueState;
use crate::db::{Db, DbError, Query, SqlValue};
use crate::policy::Action;

/// What [`Target::survey_expired`] found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Leftover {
    pub pending: u64,
    pub cannot_anonymize: u64,
}

impl Target {
    /// A subject's rows the policy covers: (not held, held, the newest timestamp).
    pub async fn subject_rows(
        &self,
        db: &mut Db,
        value: &str,
        now: DateTime<Utc>,
    ) -> Result<(u64, u64, Option<DateTime<Utc>>), DbError> {
        let mut counts = [0u64; 2];
        for (i, held) in [false, true].into_iter().enumerate() {
            let mut q = Query::new(format!("SELECT count(*) FROM {} WHERE ", self.table));
            self.push_subject(&mut q, value);
            self.push_filter(&mut q);
            self.push_pending(&mut q, true);
            self.push_hold(&mut q, held, now);
            counts[i] = db.fetch_one_int(&q).await?.max(0) as u64;
        }
        let mut q = Query::new(format!(
            "SELECT {} AS retentiond_0 FROM {} WHERE ",
            self.read(&self.ts),
            self.table
        ));
        self.push_subject(&mut q, value);
        q.push(&format!(
            " AND {} IS NOT NULL ORDER BY {} DESC LIMIT 20",
            self.ts.quoted, self.ts.quoted
        ));
        let newest = db
            .fetch(&q)
            .await?
            .iter()
            .filter_map(|r| r[0].as_instant())
            .max();
        Ok((counts[0], counts[1], newest))
    }

    /// Which of `subjects` still have rows that answering an erasure would take (not
    /// held, not anonymised yet): an indexed probe per subject, a few hundred per
    /// statement, so that checking a long erasure ledger costs no table scan.
    pub async fn subjects_with_rows(
        &self,
        db: &mut Db,
        subjects: &[String],
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, DbError> {
        let Some(col) = &self.subject else {
            return Ok(Vec::new());
        };
        let mut found = Vec::new();
        for chunk in subjects.chunks(super::KEYS_PER_STATEMENT) {
            let mut q = Query::new(format!(
                "SELECT DISTINCT {} AS retentiond_0 FROM {} WHERE ",
                self.read(col),
                self.table
            ));
            let values: Vec<SqlValue> = chunk.iter().map(|s| SqlValue::Text(s.clone())).collect();
            self.push_in(&mut q, col, &values);
            self.push_filter(&mut q);
            self.push_pending(&mut q, false);
            self.push_hold(&mut q, false, now);
            found.extend(db.fetch(&q).await?.iter().filter_map(|r| r[0].to_text()));
        }
        Ok(found)
    }

    /// Expired rows the policy skips because their subject is under a legal hold.
    pub async fn count_held(
        &self,
        db: &mut Db,
        cutoff: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, DbError> {
        if self.subject.is_none() {
            return Ok(0);
        }
        self.count_expired_where(db, cutoff, now, true).await
    }

    /// Rows the policy would purge now.
    pub async fn count_expired(
        &self,
        db: &mut Db,
        cutoff: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, DbError> {
        self.count_expired_where(db, cutoff, now, false).await
    }

    /// Expired rows still to do, those under an active hold (`held`) or the others.
    async fn count_expired_where(
        &self,
        db: &mut Db,
        cutoff: DateTime<Utc>,
        now: DateTime<Utc>,
        held: bool,
    ) -> Result<u64, DbError> {
        let mut q = Query::new(format!("SELECT count(*) FROM {} WHERE ", self.table));
        self.push_expired(&mut q, cutoff);
        self.push_filter(&mut q);
        self.push_pending(&mut q, false);
        self.push_hold(&mut q, held, now);
        Ok(db.fetch_one_int(&q).await?.max(0) as u64)
    }

    /// The rows in the expired index range, whatever their other columns: at least
    /// [`Target::count_expired`], read from the index alone.
    pub async fn count_expired_range(
        &self,
        db: &mut Db,
        cutoff: DateTime<Utc>,
    ) -> Result<u64, DbError> {
        let mut q = Query::new(format!("SELECT count(*) FROM {} WHERE ", self.table));
        self.push_expired_range(&mut q, cutoff);
        Ok(db.fetch_one_int(&q).await?.max(0) as u64)
    }

    /// The table's row count as far as [`crate::policy::fraction_guard`] needs it to
    /// judge `expired` rows against `max_fraction`: counting stops at
    /// [`crate::policy::rows_to_decide`], so the time follows the rows to purge
    /// rather than the size of the table.
    pub async fn count_rows_to_decide(
        &self,
        db: &mut Db,
        expired: u64,
        max_fraction: f64,
    ) -> Result<u64, DbError> {
        let q = match crate::policy::rows_to_decide(expired, max_fraction) {
            None => Query::new(format!("SELECT count(*) FROM {}", self.table)),
            Some(limit) => {
                let mut q = Query::new(format!(
                    "SELECT count(*) FROM (SELECT 1 AS one FROM {} LIMIT ",
                    self.table
                ));
                q.bind(SqlValue::Int(i64::try_from(limit).unwrap_or(i64::MAX)))
                    .push(") AS retentiond_n");
                q
            }
        };
        Ok(db.fetch_one_int(&q).await?.max(0) as u64)
    }

    /// What an anonymising pass left in the expired rows it covers (not held, in
    /// its filter): rows with a value still to do, and rows with a value their
    /// strategy cannot read. One scan, in which one column's tests run once a row.
    pub async fn survey_expired(
        &self,
        db: &mut Db,
        cutoff: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Leftover, DbError> {
        let mut q = Query::new("SELECT ");
        match (&self.marker, self.anonymize.as_slice()) {
            (Some(marker), _) => {
                q.push(&format!(
                    "count(CASE WHEN {} IS NULL THEN 1 END), 0",
                    marker.quoted
                ));
            }
            // One column: its states exclude each other, so one CASE names them.
            (None, [a]) => {
                q.push("count(CASE WHEN retentiond_s = 1 THEN 1 END), count(CASE WHEN retentiond_s = 2 THEN 1 END) FROM (SELECT CASE WHEN ")
                    .push(&a.col.quoted)
                    .push(" IS NULL OR ");
                self.push_test(&mut q, a, &a.recognition.done);
                q.push(" THEN 0 WHEN ");
                self.push_test(&mut q, a, &a.recognition.readable);
                q.push(" THEN 1 ELSE 2 END AS retentiond_s");
            }
            (None, columns) => {
                for (i, test) in [Self::push_value_pending, Self::push_value_unreadable]
                    .into_iter()
                    .enumerate()
                {
                    q.push(if i == 0 {
                        "count(CASE WHEN "
                    } else {
                        ", count(CASE WHEN "
                    });
                    for (j, a) in columns.iter().enumerate() {
                        if j > 0 {
                            q.push(" OR ");
                        }
                        test(self, &mut q, a);
                    }
                    q.push(" THEN 1 END)");
                }
            }
        }
        q.push(&format!(" FROM {} WHERE ", self.table));
        self.push_expired(&mut q, cutoff);
        self.push_filter(&mut q);
        self.push_hold(&mut q, false, now);
        if self.marker.is_none() && self.anonymize.len() == 1 {
            q.push(") AS retentiond_x");
        }
        let row = db.fetch(&q).await?.into_iter().next().unwrap_or_default();
        let count = |i: usize| row.get(i).and_then(SqlValue::as_int).unwrap_or(0).max(0) as u64;
        Ok(Leftover {
            pending: count(0),
            cannot_anonymize: count(1),
        })
    }

    /// The oldest timestamp among the rows the policy covers and has not purged (its
    /// filter applies; NULLs never expire, so they do not count). `None` when there
    /// is none or it cannot be read. Read through the timestamp index; from the
    /// cutoff on when `none_expired` (a [`Target::survey_expired`] found no expired
    /// row left), so that the walk does not step over every row already anonymised.
    pub async fn oldest_remaining(
        &self,
        db: &mut Db,
        now: DateTime<Utc>,
        none_expired: Option<DateTime<Utc>>,
    ) -> Result<Option<DateTime<Utc>>, DbError> {
        let mut q = Query::new(format!(
            "SELECT {} AS retentiond_0 FROM {} WHERE {} IS NOT NULL",
            self.read(&self.ts),
            self.table,
            self.ts.quoted
        ));
        if let Some(cutoff) = none_expired
            && self.encoding != TsEncoding::Text
        {
            q.push(" AND ");
            self.push_not_expired(&mut q, cutoff);
        }
        self.push_filter(&mut q);
        self.push_pending(&mut q, false);
        // Rows kept for a legal hold are kept rightly; they are reported on their own.
        self.push_hold(&mut q, false, now);
        // Unreadable text may sort first: look a little further for a readable value.
        q.push(&format!(" ORDER BY {} LIMIT 20", self.ts.quoted));
        let rows = db.fetch(&q).await?;
        Ok(rows.iter().filter_map(|r| r[0].as_instant()).min())
    }

    /// Expired rows (not held, in the filter) with a value their strategy cannot
    /// anonymise (`n/a` in an IP column): never rewritten, counted per pass. With a
    /// marker there are none: unreadable values are redacted with the row.
    pub async fn count_cannot_anonymize(
        &self,
        db: &mut Db,
        cutoff: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, DbError> {
        if self.action != Action::Anonymize || self.marker.is_some() {
            return Ok(0);
        }
        let mut q = Query::new(format!("SELECT count(*) FROM {} WHERE ", self.table));
        self.push_expired(&mut q, cutoff);
        self.push_filter(&mut q);
        self.push_hold(&mut q, false, now);
        q.push(" AND (");
        for (i, a) in self.anonymize.iter().enumerate() {
            if i > 0 {
                q.push(" OR ");
            }
            self.push_value_unreadable(&mut q, a);
        }
        q.push(")");
        Ok(db.fetch_one_int(&q).await?.max(0) as u64)
    }

    /// How many of anonymised column `index`'s values, of any age, already look like
    /// its strategy's output, up to `limit`: without a marker such rows count as done.
    pub async fn count_in_output_form(
        &self,
        db: &mut Db,
        index: usize,
        limit: u64,
    ) -> Result<u64, DbError> {
        let a = &self.anonymize[index];
        let mut q = Query::new(format!(
            "SELECT count(*) FROM (SELECT 1 AS one FROM {} WHERE {} IS NOT NULL AND ",
            self.table, a.col.quoted
        ));
        self.push_test(&mut q, a, &a.recognition.done);
        self.push_filter(&mut q);
        q.push(" LIMIT ")
            .bind(SqlValue::Int(i64::try_from(limit).unwrap_or(i64::MAX)))
            .push(") AS retentiond_n");
        Ok(db.fetch_one_int(&q).await?.max(0) as u64)
    }

    /// Every row's key, its value in anonymised column `index` as a batch reads it,
    /// and that value's state as the SQL of a batch finds it, in key order. For
    /// `check`'s diagnostics and the tests that hold SQL and Rust to the same rules.
    pub async fn column_states(
        &self,
        db: &mut Db,
        index: usize,
    ) -> Result<Vec<(Vec<SqlValue>, SqlValue, ValueState)>, DbError> {
        let a = &self.anonymize[index];
        // Aliased: PostgreSQL would sort by a cast key's text otherwise.
        let read: Vec<String> = std::iter::once(&a.col)
            .chain(&self.key)
            .enumerate()
            .map(|(i, c)| format!("{} AS retentiond_{i}", self.read(c)))
            .collect();
        let mut q = Query::new(format!("SELECT {}, ", read.join(", ")));
        self.push_state_case(&mut q, index);
        q.push(&format!(" FROM {} ORDER BY ", self.table));
        let order: Vec<&str> = self.key.iter().map(|k| k.quoted.as_str()).collect();
        q.push(&order.join(", "));
        let rows = db.fetch(&q).await?;
        rows.into_iter()
            .map(|mut r| {
                let state = r.pop().and_then(|s| s.as_text().and_then(parse_state));
                let state = state.ok_or_else(|| DbError::Decode("a value's state".into()))?;
                let value = r.remove(0);
                Ok((r, value, state))
            })
            .collect()
    }

    /// Rows in the policy's scope whose timestamp cannot be read: never purged. With
    /// `near` (a pass's cutoff), SQLite counts through the timestamp index only, so
    /// that a pass costs what it purges rather than what the table holds: see the
    /// ranges below. `retentiond check` counts them all.
    pub async fn count_unreadable(
        &self,
        db: &mut Db,
        near: Option<DateTime<Utc>>,
    ) -> Result<u64, DbError> {
        let ts = &self.ts.quoted;
        // The counts to add up: each an index range on the timestamp (or none), and
        // whether the text in it must also be tested for a readable date.
        // SQLite keeps each value as written, and sorts numbers before text before
        // blobs; the other backends' columns hold what their type says.
        let typeless = self.dialect.values_as_written();
        let parts: Vec<(Option<(&str, String)>, bool)> = match (self.encoding, near) {
            (TsEncoding::Native, _) => return Ok(0),
            (TsEncoding::Epoch, _) if !typeless => return Ok(0),
            // Text and blobs sort after every number.
            (TsEncoding::Epoch, _) => vec![(Some((" >= ", String::new())), false)],
            // On SQLite (whose text sorts by its bytes), two ranges: the rows the pass
            // walks through, and text that cannot start a date because it sorts after
            // every digit. What is left out is digit-led text dated after the cutoff,
            // which `check` counts. Two counts added, not one with OR, which would
            // keep every row id it saw in memory.
            (TsEncoding::Text, Some(cutoff)) if typeless => vec![
                (Some((" < ", coarse_bound(cutoff))), true),
                (Some((" >= ", ":".into())), true),
            ],
            (TsEncoding::Text, _) => vec![(None, true)],
        };
        let mut q = Query::new("SELECT ");
        for (i, (range, text)) in parts.into_iter().enumerate() {
            if i > 0 {
                q.push(" + ");
            }
            q.push(&format!("(SELECT count(*) FROM {} WHERE 1 = 1", self.table));
            if let Some((op, bound)) = range {
                q.push(" AND ")
                    .push(ts)
                    .push(op)
                    .bind(SqlValue::Text(bound));
            }
            if text {
                q.push(" AND ");
                self.push_unreadable_text(&mut q);
            }
            self.push_filter(&mut q);
            q.push(")");
        }
        Ok(db.fetch_one_int(&q).await?.max(0) as u64)
    }
}
