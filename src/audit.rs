//! The audit trail's records and its hash chain: what an event is, how its SHA-256 is
//! computed, and how a chain is verified. Storage is `db`'s job; this module does no IO.

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::spelling::spelled;

/// The `prev_hash` of the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit event: a committed batch, or a refusal or failure of a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    pub id: i64,
    pub run_id: i64,
    pub created_at: String,
    pub policy: String,
    pub table_name: String,
    pub action: String,
    pub cutoff: Option<String>,
    pub rows: i64,
    /// Rows removed per cascade table, serialised as a JSON object.
    pub children: BTreeMap<String, i64>,
    pub detail: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

spelled! {
    /// What an event records: a batch that deleted rows (or a partition dropped
    /// whole) or anonymised them; a policy that failed, was refused or interrupted (0
    /// rows); a request registered, a hold added or released. A stored event keeps
    /// its action as the text it was written with (the chain's hashes cover that
    /// text); new events are built from these.
    pub enum EventAction {
        Delete = "delete", Anonymize = "anonymize",
        Failed = "failed", Refused = "refused", Interrupted = "interrupted",
        ErasureRegistered = "erasure_registered", HoldAdded = "hold_added",
        HoldReleased = "hold_released", ExportRegistered = "export_registered",
        Exported = "exported", FilesRemoved = "files_removed",
        Forwarded = "forwarded", ForwardFailed = "forward_failed",
        ForwardSkipped = "forward_skipped",
        ExportDownloaded = "export_downloaded", ExportExpired = "export_expired",
        ReportSigned = "report_signed", AnswerAsked = "answer_asked",
    }
}

/// The fields of an event before it has a place in the chain.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub run_id: i64,
    pub created_at: String,
    pub policy: String,
    pub table_name: String,
    pub action: EventAction,
    pub cutoff: Option<String>,
    pub rows: i64,
    pub children: BTreeMap<String, i64>,
    pub detail: Option<String>,
}

impl NewEvent {
    /// Places the event after the chain's current head (`None` for an empty chain).
    pub fn chain(self, head: Option<(i64, String)>) -> Event {
        let (id, prev_hash) = match head {
            Some((id, hash)) => (id + 1, hash),
            None => (1, GENESIS.to_string()),
        };
        let mut event = Event {
            id,
            run_id: self.run_id,
            created_at: self.created_at,
            policy: self.policy,
            table_name: self.table_name,
            action: self.action.as_str().to_string(),
            cutoff: self.cutoff,
            rows: self.rows,
            children: self.children,
            detail: self.detail,
            prev_hash,
            hash: String::new(),
        };
        event.hash = event.compute_hash();
        event
    }
}

impl Event {
    /// SHA-256 over every field but `hash`, as a JSON array: unambiguous, and easy to
    /// recompute with any JSON library when an auditor wants to check by hand.
    pub fn compute_hash(&self) -> String {
        let canonical = serde_json::json!([
            self.id,
            self.run_id,
            self.created_at,
            self.policy,
            self.table_name,
            self.action,
            self.cutoff,
            self.rows,
            self.children,
            self.detail,
            self.prev_hash,
        ]);
        hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
    }

    pub fn children_json(&self) -> String {
        serde_json::to_string(&self.children).unwrap_or_else(|_| "{}".into())
    }
}

/// What is wrong with the chain at its first broken event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Broken {
    #[error(
        "event {id}: its contents do not match its hash: the event was edited, or moved from another position"
    )]
    Edited { id: i64 },
    #[error("event {id} follows event {previous}: {missing} event(s) before it were deleted")]
    Deleted {
        id: i64,
        previous: i64,
        missing: i64,
    },
    #[error(
        "event {id}: its previous-hash does not match event {previous}: events were reordered, replaced or deleted"
    )]
    Unlinked { id: i64, previous: i64 },
    #[error(
        "event {id} is the first event, but the chain starts at event 1: earlier events were deleted"
    )]
    Truncated { id: i64 },
}

/// Walks the chain one event at a time, in id order, so verifying needs no more memory
/// than one page of events.
#[derive(Debug, Default)]
pub struct Verifier {
    last: Option<(i64, String)>,
    pub verified: u64,
}

impl Verifier {
    pub fn push(&mut self, e: &Event) -> Result<(), Broken> {
        match &self.last {
            None if e.id != 1 => return Err(Broken::Truncated { id: e.id }),
            None if e.prev_hash != GENESIS => {
                return Err(Broken::Unlinked {
                    id: e.id,
                    previous: 0,
                });
            }
            Some((prev_id, _)) if e.id != prev_id + 1 => {
                return Err(Broken::Deleted {
                    id: e.id,
                    previous: *prev_id,
                    missing: e.id - prev_id - 1,
                });
            }
            Some((prev_id, prev_hash)) if &e.prev_hash != prev_hash => {
                // An edited predecessor is reported as such, at the predecessor.
                return Err(Broken::Unlinked {
                    id: e.id,
                    previous: *prev_id,
                });
            }
            _ => {}
        }
        if e.compute_hash() != e.hash {
            return Err(Broken::Edited { id: e.id });
        }
        self.last = Some((e.id, e.hash.clone()));
        self.verified += 1;
        Ok(())
    }

    /// The hash of the last verified event: write it down (a signed report does) and a
    /// later deletion of the chain's tail becomes detectable too.
    pub fn head(&self) -> Option<&str> {
        self.last.as_ref().map(|(_, h)| h.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: usize) -> Vec<Event> {
        let mut out: Vec<Event> = Vec::new();
        for i in 0..n {
            let head = out.last().map(|e| (e.id, e.hash.clone()));
            out.push(
                NewEvent {
                    run_id: 1,
                    created_at: format!("2026-11-22T02:00:0{i}.000Z"),
                    policy: "orders".into(),
                    table_name: "orders".into(),
                    action: EventAction::Delete,
                    cutoff: Some("2016-11-22T02:00:00.000Z".into()),
                    rows: 100 + i as i64,
                    children: BTreeMap::from([("order_items".to_string(), 3)]),
                    detail: None,
                }
                .chain(head),
            );
        }
        out
    }

    fn verify(events: &[Event]) -> Result<u64, Broken> {
        let mut v = Verifier::default();
        for e in events {
            v.push(e)?;
        }
        Ok(v.verified)
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(verify(&chain(5)), Ok(5));
        assert_eq!(verify(&[]), Ok(0));
    }

    #[test]
    fn an_edited_count_is_named() {
        let mut c = chain(5);
        c[2].rows = 1;
        assert_eq!(verify(&c), Err(Broken::Edited { id: 3 }));
    }

    #[test]
    fn a_deleted_event_is_named() {
        let mut c = chain(5);
        c.remove(2);
        assert_eq!(
            verify(&c),
            Err(Broken::Deleted {
                id: 4,
                previous: 2,
                missing: 1
            })
        );
        let mut c = chain(3);
        c.remove(0);
        assert_eq!(verify(&c), Err(Broken::Truncated { id: 2 }));
    }

    #[test]
    fn swapped_events_are_named() {
        let mut c = chain(5);
        c.swap(1, 2);
        let (a, b) = (c[1].id, c[2].id);
        c[1].id = b;
        c[2].id = a;
        assert_eq!(verify(&c), Err(Broken::Unlinked { id: 2, previous: 1 }));
    }

    #[test]
    fn a_rehashed_edit_breaks_the_next_link() {
        let mut c = chain(5);
        c[1].rows = 0;
        c[1].hash = c[1].compute_hash();
        assert_eq!(verify(&c), Err(Broken::Unlinked { id: 3, previous: 2 }));
    }
}
