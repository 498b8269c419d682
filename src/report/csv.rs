//! The report as CSV (one row per policy per day, for spreadsheets) and as JSON
//! (everything, for scripts). Pure.

use std::fmt::Write as _;

use super::Report;

/// One row per policy per day. The header keeps the column names earlier versions
/// wrote.
pub fn csv(r: &Report) -> String {
    let mut o = String::from("date,policy,table,rows_deleted,rows_anonymised\n");
    for d in &r.daily {
        let _ = writeln!(
            o,
            "{},{},{},{},{}",
            d.date, d.policy, d.table, d.rows_deleted, d.rows_anonymized
        );
    }
    o
}

/// The whole report as pretty JSON, with a final newline.
pub fn json(r: &Report) -> String {
    // Serialising plain structs of strings and numbers cannot fail.
    serde_json::to_string_pretty(r).unwrap_or_default() + "\n"
}
