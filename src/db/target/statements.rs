//! The statements the engine runs on a policy's table: counts for plans, guards and
//! reports, the batch reads and the batch writes (range deletes and updates, keyed
//! deletes, cascades, the joined update of anonymised values), and its vacuum.

use chrono::{DateTime, Utc};

use super::forms::parse_state;
use super::predicates::coarse_bound;
use super::{Col, Cursor, KEYS_PER_STATEMENT, Scope, Target, TsEncoding};
use crate::anonymize::ValueState;
use crate::backend::Backend;
use crate::db::{Db, DbError, Query, SqlValue};
use crate::policy::Action;

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
        let mut q = Query::new(format!("SELECT count(*) FROM {} WHERE ", self.table));
        self.push_expired(&mut q, cutoff);
        self.push_filter(&mut q);
        self.push_pending(&mut q, false);
        self.push_hold(&mut q, true, now);
        Ok(db.fetch_one_int(&q).await?.max(0) as u64)
    }

    /// Rows the policy would purge now.
    pub async fn count_expired(
        &self,
        db: &mut Db,
        cutoff: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, DbError> {
        let mut q = Query::new(format!("SELECT count(*) FROM {} WHERE ", self.table));
        self.push_expired(&mut q, cutoff);
        self.push_filter(&mut q);
        self.push_pending(&mut q, false);
        self.push_hold(&mut q, false, now);
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

    /// The oldest timestamp among the rows the policy covers and has not purged (its
    /// filter applies; NULLs never expire, so they do not count). `None` when there
    /// is none or it cannot be read. Read through the timestamp index.
    pub async fn oldest_remaining(
        &self,
        db: &mut Db,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, DbError> {
        let mut q = Query::new(format!(
            "SELECT {} AS retentiond_0 FROM {} WHERE {} IS NOT NULL",
            self.read(&self.ts),
            self.table,
            self.ts.quoted
        ));
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
        let parts: Vec<(Option<(&str, String)>, bool)> = match (self.encoding, self.backend, near) {
            (TsEncoding::Native, _, _)
            | (TsEncoding::Epoch, Backend::Postgres | Backend::MySql, _) => return Ok(0),
            // Text and blobs sort after every number.
            (TsEncoding::Epoch, Backend::Sqlite, _) => vec![(Some((" >= ", String::new())), false)],
            // On SQLite (whose text sorts by its bytes), two ranges: the rows the pass
            // walks through, and text that cannot start a date because it sorts after
            // every digit. What is left out is digit-led text dated after the cutoff,
            // which `check` counts. Two counts added, not one with OR, which would
            // keep every row id it saw in memory.
            (TsEncoding::Text, Backend::Sqlite, Some(cutoff)) => vec![
                (Some((" < ", coarse_bound(cutoff))), true),
                (Some((" >= ", ":".into())), true),
            ],
            (TsEncoding::Text, _, _) => vec![(None, true)],
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

    /// The next batch in (timestamp, key) order after `cursor`, locked for this
    /// transaction: each row is the timestamp, the key columns, then the columns to
    /// anonymise, then the marker where [`Target::reads_marker`].
    pub async fn select_batch(
        &self,
        db: &mut Db,
        scope: Scope<'_>,
        cursor: Option<&Cursor>,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<Vec<SqlValue>>, DbError> {
        let mut values: Vec<&Col> = if self.action == Action::Anonymize {
            self.anonymize.iter().map(|a| &a.col).collect()
        } else {
            Vec::new()
        };
        if self.reads_marker(scope) {
            values.extend(&self.marker);
        }
        let mut q = self.select_in_order(&values);
        self.push_batch_rows(&mut q, scope, cursor, None, now);
        q.push(" ORDER BY ")
            .push(&self.order_list())
            .push(" LIMIT ")
            .bind(SqlValue::Int(i64::from(limit)));
        if self.backend != Backend::Sqlite {
            // SQLite's BEGIN IMMEDIATE already holds the only write lock.
            q.push(" FOR UPDATE");
        }
        db.fetch(&q).await
    }

    /// The last row of the next batch of expired rows after `cursor`: the
    /// `limit`-th in (timestamp, key) order, or `None` when fewer are left. Reads one
    /// row, so a delete batch moves no keys between retentiond and the database.
    pub async fn batch_bound(
        &self,
        db: &mut Db,
        cutoff: DateTime<Utc>,
        cursor: Option<&Cursor>,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<Option<Cursor>, DbError> {
        // The rows stepped over are read as they are stored; only the one kept is
        // converted for the cursor. Converting in the inner query would convert
        // every row the OFFSET passes.
        let cols = self.order_cols();
        let inner: Vec<String> = cols
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{} AS retentiond_{i}", c.quoted))
            .collect();
        let outer: Vec<String> = cols
            .iter()
            .enumerate()
            .map(|(i, c)| self.read_as(c, &format!("retentiond_{i}")))
            .collect();
        let mut q = Query::new(format!(
            "SELECT {} FROM (SELECT {} FROM {} WHERE ",
            outer.join(", "),
            inner.join(", "),
            self.table
        ));
        self.push_batch_rows(&mut q, Scope::Expired(cutoff), cursor, None, now);
        q.push(" ORDER BY ")
            .push(&self.order_list())
            .push(" LIMIT 1 OFFSET ")
            .bind(SqlValue::Int(i64::from(limit.max(1)) - 1))
            .push(") AS retentiond_b");
        Ok(db.fetch(&q).await?.into_iter().next())
    }

    /// Deletes the expired rows after `after` and up to `upto` (both in (timestamp,
    /// key) order, both optional) in one statement; returns the count. The statement
    /// repeats the whole test, so a row that stopped being expired or came under a
    /// hold since [`Target::batch_bound`] read the range stays.
    pub async fn delete_range(
        &self,
        db: &mut Db,
        cutoff: DateTime<Utc>,
        after: Option<&Cursor>,
        upto: Option<&Cursor>,
        now: DateTime<Utc>,
    ) -> Result<u64, DbError> {
        let mut q = Query::new(format!("DELETE FROM {} WHERE ", self.table));
        self.push_batch_rows(&mut q, Scope::Expired(cutoff), after, upto, now);
        db.execute(&q).await
    }

    /// Anonymises the expired rows after `after` and up to `upto` in one statement,
    /// when [`Target::purges_by_range`]; returns the count.
    /// Like [`Target::delete_range`], it repeats the whole test.
    pub async fn anonymize_range(
        &self,
        db: &mut Db,
        cutoff: DateTime<Utc>,
        after: Option<&Cursor>,
        upto: Option<&Cursor>,
        marker: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<u64, DbError> {
        let mut q = Query::new(format!("UPDATE {} SET ", self.table));
        for (i, a) in self.anonymize.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            self.push_assignment(&mut q, a);
        }
        if let (Some(c), Some(m)) = (&self.marker, marker) {
            q.push(", ").push(&c.quoted).push(" = ");
            self.push_value(&mut q, c, SqlValue::Text(m.into()));
        }
        q.push(" WHERE ");
        self.push_batch_rows(&mut q, Scope::Expired(cutoff), after, upto, now);
        db.execute(&q).await
    }

    /// Deletes the children of `keys` in cascade table `index`; returns the count.
    pub async fn delete_children(
        &self,
        db: &mut Db,
        index: usize,
        keys: &[Vec<SqlValue>],
    ) -> Result<u64, DbError> {
        let c = &self.cascade[index];
        let mut total = 0;
        for chunk in keys.chunks(KEYS_PER_STATEMENT) {
            let mut q = Query::new(format!("DELETE FROM {} WHERE ", c.table));
            self.push_key_list(&mut q, &c.foreign_key, chunk);
            total += db.execute(&q).await?;
        }
        Ok(total)
    }

    /// Deletes the rows with `keys`; returns the count.
    pub async fn delete_rows(&self, db: &mut Db, keys: &[Vec<SqlValue>]) -> Result<u64, DbError> {
        let mut total = 0;
        for chunk in keys.chunks(KEYS_PER_STATEMENT) {
            let mut q = Query::new(format!("DELETE FROM {} WHERE ", self.table));
            self.push_key_list(&mut q, &self.key, chunk);
            total += db.execute(&q).await?;
        }
        Ok(total)
    }

    /// Writes the anonymised values of the rows with `keys` (each row's values in
    /// the order of the policy's `anonymize` table) and the marker, a few hundred
    /// rows per statement: the values arrive as a table joined on the key. Returns
    /// the count.
    pub async fn update_rows(
        &self,
        db: &mut Db,
        keys: &[Vec<SqlValue>],
        values: &[Vec<SqlValue>],
        marker: Option<&str>,
    ) -> Result<u64, DbError> {
        let mut total = 0;
        for (keys, values) in keys
            .chunks(KEYS_PER_STATEMENT)
            .zip(values.chunks(KEYS_PER_STATEMENT))
        {
            let q = self.update_statement(keys, values, marker);
            total += db.execute(&q).await?;
        }
        Ok(total)
    }

    /// One `UPDATE` joining the table to a list of (key..., value...) rows, named
    /// `column1`, `column2`, ... as SQLite and PostgreSQL name a VALUES list's columns.
    fn update_statement(
        &self,
        keys: &[Vec<SqlValue>],
        values: &[Vec<SqlValue>],
        marker: Option<&str>,
    ) -> Query {
        let cols: Vec<Col> = self
            .key
            .iter()
            .chain(self.anonymize.iter().map(|a| &a.col))
            .cloned()
            .collect();
        let mut list = Query::new("");
        for (i, (key, vals)) in keys.iter().zip(values).enumerate() {
            let row: Vec<SqlValue> = key.iter().chain(vals).cloned().collect();
            if self.backend == Backend::MySql {
                // MySQL has no VALUES list to join: a UNION of one-row SELECTs, with
                // the first naming the columns.
                list.push(if i == 0 {
                    "SELECT "
                } else {
                    " UNION ALL SELECT "
                });
                for (j, (c, v)) in cols.iter().zip(row).enumerate() {
                    if j > 0 {
                        list.push(", ");
                    }
                    self.push_value(&mut list, c, v);
                    if i == 0 {
                        list.push(&format!(" AS column{}", j + 1));
                    }
                }
            } else {
                list.push(if i == 0 { "VALUES (" } else { ", (" });
                self.push_values(&mut list, &cols, &row);
                list.push(")");
            }
        }
        let column = |j: usize| format!("retentiond_v.column{}", j + 1);
        let join: Vec<String> = self
            .key
            .iter()
            .enumerate()
            .map(|(j, c)| format!("{}.{} = {}", self.table, c.quoted, column(j)))
            .collect();
        let join = join.join(" AND ");
        // MySQL's multi-table UPDATE names the table in each assignment; the others
        // refuse it there.
        let mysql = self.backend == Backend::MySql;
        let target_col = |c: &Col| {
            if mysql {
                format!("{}.{}", self.table, c.quoted)
            } else {
                c.quoted.clone()
            }
        };
        let mut set = Query::new(" SET ");
        for (i, a) in self.anonymize.iter().enumerate() {
            if i > 0 {
                set.push(", ");
            }
            set.push(&target_col(&a.col))
                .push(" = ")
                .push(&column(self.key.len() + i));
        }
        if let (Some(c), Some(m)) = (&self.marker, marker) {
            set.push(", ").push(&target_col(c)).push(" = ");
            self.push_value(&mut set, c, SqlValue::Text(m.into()));
        }
        let mut q = Query::new(format!("UPDATE {}", self.table));
        if mysql {
            q.push(" JOIN (").append(list);
            q.push(") AS retentiond_v ON ").push(&join).append(set);
        } else {
            q.append(set).push(" FROM (").append(list);
            q.push(") AS retentiond_v WHERE ").push(&join);
        }
        q
    }

    /// Reclaims the table's storage after a purge: PostgreSQL's VACUUM (dead tuples
    /// keep old values until then), MySQL's OPTIMIZE TABLE. SQLite rebuilds the whole
    /// file instead ([`Db::vacuum_sqlite`]).
    pub async fn vacuum(&self, db: &mut Db) -> Result<(), DbError> {
        let sql = match self.backend {
            Backend::Sqlite => return db.vacuum_sqlite().await,
            Backend::Postgres => format!("VACUUM {}", self.table),
            Backend::MySql => format!("OPTIMIZE TABLE {}", self.table),
        };
        db.fetch(&Query::new(sql)).await.map(drop)
    }
}
