//! The states retentiond records and prints: how a policy or a pass ended, what
//! started a pass, where a privacy request stands, and what answering an erasure
//! did per policy. Each is spelled one way, in retentiond's tables, in JSON and in
//! text ([`spelled!`](crate::spelling)). A leaf: no IO, no imports of the crate.

use crate::spelling::spelled;

spelled! {
    /// How one policy, or a whole pass, ended. `skipped`: another instance holds
    /// the pass lock, so this one did nothing.
    pub enum Status {
        Ok = "ok", Failed = "failed", Refused = "refused", Interrupted = "interrupted",
        Skipped = "skipped",
    }
}

impl Status {
    /// A pass's status from its policies': a failure outweighs an interruption,
    /// which outweighs a refusal.
    pub fn overall(statuses: impl IntoIterator<Item = Status>) -> Status {
        let all: Vec<Status> = statuses.into_iter().collect();
        [Status::Failed, Status::Interrupted, Status::Refused]
            .into_iter()
            .find(|s| all.contains(s))
            .unwrap_or(Status::Ok)
    }

    /// Whether a report lists it under "Refusals and failures".
    pub fn is_incident(self) -> bool {
        matches!(self, Status::Failed | Status::Refused)
    }
}

spelled! {
    /// Where a recorded pass stands: running, ended as a [`Status`], or
    /// `abandoned`: left running by a process that died, its committed batches all
    /// counted.
    pub enum RunStatus {
        Running = "running", Ok = "ok", Failed = "failed", Refused = "refused",
        Interrupted = "interrupted", Skipped = "skipped", Abandoned = "abandoned",
    }
}

spelled! {
    /// What started a pass, as recorded with the run.
    pub enum Trigger {
        Manual = "manual", Schedule = "schedule", CatchUp = "catch-up", Demo = "demo",
        /// Erasures in the ledger applied again, their rows having come back (a restore).
        Reapply = "reapply",
    }
}

spelled! {
    /// What a privacy request asks for: erasure, or a copy of the data (access, or
    /// portability to another service). All three share one register and due date.
    pub enum RequestKind {
        Erasure = "erasure", Access = "access", Portability = "portability",
    }
}

impl RequestKind {
    /// Whether answering it reads the data rather than erasing it.
    pub fn is_export(self) -> bool {
        self != RequestKind::Erasure
    }
}

spelled! {
    /// Where a privacy request stands.
    pub enum RequestStatus {
        /// Not answered yet, or an answer failed somewhere: tried again next pass.
        Open = "open",
        /// Answered in full: erased, or exported.
        Completed = "completed",
        /// Answered, but some rows are kept (a legal obligation or a hold).
        PartiallyRetained = "partially_retained" ("partially retained"),
    }
}

spelled! {
    /// Where the passing on of an answered request to one processor stands.
    pub enum DeliveryState {
        /// Queued before the erasure ran, with what identifies the person read
        /// while the rows were there; sent once the answer is recorded.
        Held = "held",
        /// To be sent, or sent and refused: tried again at its next attempt.
        Due = "due",
        /// The processor accepted it (a 2xx status).
        Delivered = "delivered",
        /// Nothing to send: the person had no value in any field of `send`.
        Skipped = "skipped",
    }
}

spelled! {
    /// What answering an erasure did in one policy.
    pub enum ErasureOutcome {
        Deleted = "deleted", Anonymized = "anonymized" ("anonymised"), Kept = "kept",
        Failed = "failed",
    }
}

impl ErasureOutcome {
    /// Whether the rows are gone or unlinked (not kept, not failed).
    pub fn erases(self) -> bool {
        matches!(self, ErasureOutcome::Deleted | ErasureOutcome::Anonymized)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_outweighs_an_interruption_and_a_refusal() {
        use Status::*;
        assert_eq!(Status::overall([Ok, Refused, Interrupted, Failed]), Failed);
        assert_eq!(Status::overall([Ok, Refused, Interrupted]), Interrupted);
        assert_eq!(Status::overall([Refused, Ok]), Refused);
        assert_eq!(Status::overall([]), Ok);
    }

    #[test]
    fn the_stored_spellings_are_the_ones_earlier_versions_wrote() {
        assert_eq!(Trigger::CatchUp.as_str(), "catch-up");
        assert_eq!(
            RequestStatus::PartiallyRetained.as_str(),
            "partially_retained"
        );
        assert_eq!(ErasureOutcome::Anonymized.as_str(), "anonymized");
        assert_eq!(RunStatus::parse("abandoned"), Some(RunStatus::Abandoned));
    }
}
