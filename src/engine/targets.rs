//! Each policy checked against the live catalog once per pass ([`Targets`]), and in
//! words where it does not fit, naming the config line.

use std::collections::HashMap;

use crate::config::Config;
use crate::db::{self, Db, Target};
use crate::policy::Policy;

/// The policies of one pass, checked against the catalog the first time one is
/// needed: the expiry pass, the erasures and the vacuum after them share one check.
#[derive(Default)]
pub(super) struct Targets {
    checked: HashMap<String, Result<Target, String>>,
}

impl Targets {
    /// The policy's target, or why the policy does not fit the schema.
    pub(super) async fn get(
        &mut self,
        db: &mut Db,
        config: &Config,
        p: &Policy,
    ) -> Result<Target, String> {
        if let Some(known) = self.checked.get(&p.name) {
            return known.clone();
        }
        // A query that failed (a lost connection) is not the schema's verdict: the
        // next use checks again.
        let report = db::resolve(db, p)
            .await
            .map_err(|e| format!("policy `{}` on table `{}`: {e}", p.name, p.table.name))?;
        let checked = match report.target {
            Some(t) => Ok(t),
            None => Err(report
                .problems
                .iter()
                .map(|pr| format!("{}: {}", config.at(pr.loc), pr.message))
                .collect::<Vec<_>>()
                .join("; ")),
        };
        self.checked.insert(p.name.clone(), checked.clone());
        checked
    }
}
