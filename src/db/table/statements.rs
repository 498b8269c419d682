//! The statements a batch runs on a policy's table: the batch reads (the end of a
//! range, or its rows) and writes (range deletes and updates, keyed deletes,
//! cascades, the joined update of anonymised values), and the vacuum after a pass.

use chrono::{DateTime, Utc};

use super::{Col, Cursor, KEYS_PER_STATEMENT, Scope, Target};
use crate::db::{Db, DbError, Query, SqlValue};
use crate::policy::Action;

impl Target {
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
        let values = self.batch_values(scope);
        let mut q = self.select_in_order(&values);
        self.push_batch_rows(&mut q, scope, cursor, None, now);
        q.push(" ORDER BY ")
            .push(&self.order_list())
            .push(" LIMIT ")
            .bind(SqlValue::Int(i64::from(limit)))
            .push(self.dialect.for_update());
        db.fetch(&q).await
    }

    /// The columns a batch reads after the timestamp and key: the columns to
    /// anonymise (or the paths of files to remove), then the marker where
    /// [`Target::reads_marker`].
    pub(super) fn batch_values(&self, scope: Scope<'_>) -> Vec<&Col> {
        let mut values: Vec<&Col> = if self.action == Action::Anonymize {
            self.anonymize.iter().map(|a| &a.col).collect()
        } else {
            self.file_reads()
        };
        if self.reads_marker(scope) {
            values.extend(&self.marker);
        }
        values
    }

    /// The last row of the next batch after `cursor`: the `limit`-th in (timestamp,
    /// key) order of the rows in the expired index range, or `None` when fewer are
    /// left. Reads one row, so a batch moves no keys between retentiond and the
    /// database. The range's rows are counted whether or not they will go: no test
    /// on their other columns (filter, holds, a value already anonymised, a text
    /// date's exact instant), which the purging statement makes, so finding the end
    /// reads the index and not the rows.
    pub async fn batch_bound(
        &self,
        db: &mut Db,
        cutoff: DateTime<Utc>,
        cursor: Option<&Cursor>,
        limit: u32,
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
        self.push_range(&mut q, cursor, None);
        self.push_expired_range(&mut q, cutoff);
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
        let mut q = self.update_set(marker);
        self.push_batch_rows(&mut q, Scope::Expired(cutoff), after, upto, now);
        db.execute(&q).await
    }

    /// `UPDATE table SET <each column's anonymised value>, <marker> WHERE `.
    pub(super) fn update_set(&self, marker: Option<&str>) -> Query {
        self.update_set_on(&self.table, marker)
    }

    /// [`Target::update_set`] on `table` as written (the table with a hint).
    pub(super) fn update_set_on(&self, table: &str, marker: Option<&str>) -> Query {
        let mut q = Query::new(format!("UPDATE {table} SET "));
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
        q
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
        let d = self.dialect;
        let cols: Vec<Col> = self
            .key
            .iter()
            .chain(self.anonymize.iter().map(|a| &a.col))
            .cloned()
            .collect();
        let mut list = Query::new("");
        for (i, (key, vals)) in keys.iter().zip(values).enumerate() {
            let row: Vec<SqlValue> = key.iter().chain(vals).cloned().collect();
            d.push_list_row(&mut list, i, &cols, row);
        }
        let column = |j: usize| format!("retentiond_v.column{}", j + 1);
        let join: Vec<String> = self
            .key
            .iter()
            .enumerate()
            .map(|(j, c)| format!("{}.{} = {}", self.table, c.quoted, column(j)))
            .collect();
        let mut set = Query::new(" SET ");
        for (i, a) in self.anonymize.iter().enumerate() {
            if i > 0 {
                set.push(", ");
            }
            set.push(&d.set_target(&self.table, &a.col.quoted))
                .push(" = ")
                .push(&column(self.key.len() + i));
        }
        if let (Some(c), Some(m)) = (&self.marker, marker) {
            set.push(", ")
                .push(&d.set_target(&self.table, &c.quoted))
                .push(" = ");
            self.push_value(&mut set, c, SqlValue::Text(m.into()));
        }
        d.update_joined(&self.table, list, &join.join(" AND "), set)
    }

    /// Reclaims the table's storage after a purge: PostgreSQL's VACUUM (dead tuples
    /// keep old values until then), MySQL's OPTIMIZE TABLE. SQLite rebuilds the whole
    /// file instead ([`Db::vacuum_sqlite`]).
    pub async fn vacuum(&self, db: &mut Db) -> Result<(), DbError> {
        match self.dialect.vacuum(&self.table) {
            Some(sql) => db.fetch(&Query::new(sql)).await.map(drop),
            None => db.vacuum_sqlite().await,
        }
    }
}
