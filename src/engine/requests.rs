//! The register of privacy requests: an erasure, access or portability request is
//! recorded when received, due in [`REQUEST_DAYS`], and written to the audit trail.
//! How each is answered lives in `erasure` and `export`.

use chrono::{DateTime, TimeDelta, Utc};

use super::journal;
use crate::audit::EventAction;
use crate::config::Config;
use crate::db::{self, Db, DbError, NewRequest};
use crate::outcome::RequestKind;

/// The days a request may take: the shops' promise, the GDPR's month.
pub const REQUEST_DAYS: i64 = 30;
/// The reason that marks a minor's data, erased on discovery rather than at the
/// next pass.
pub const MINOR: &str = "minor";

/// A request as received, before it is registered.
#[derive(Debug, Clone)]
pub struct RequestArgs {
    pub kind: RequestKind,
    pub subject: String,
    pub reason: Option<String>,
    pub reference: Option<String>,
    /// When it reached the shop, if before now (a letter, a call to customer
    /// service): the 30 days count from then. `None`: now.
    pub received_at: Option<DateTime<Utc>>,
    pub actor: super::Actor,
}

/// A request as registered.
#[derive(Debug, Clone)]
pub struct RegisteredRequest {
    pub id: i64,
    pub kind: RequestKind,
    pub received: DateTime<Utc>,
    pub due: DateTime<Utc>,
    pub minor: bool,
}

impl RegisteredRequest {
    /// A minor's data is erased at once, as is any request asked to be.
    pub fn answer_now(&self, asked: bool) -> bool {
        asked || self.minor
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("--subject must not be empty")]
    EmptySubject,
    #[error("no policy in {0} names a subject column, so no row can be linked to a person")]
    NoSubjectPolicy(String),
    #[error("there is no privacy request #{0}")]
    Unknown(i64),
    #[error("received_at {0} is in the future")]
    ReceivedInFuture(String),
    #[error("request #{id} is {found}, not an access or portability request")]
    NotAnExport { id: i64, found: RequestKind },
    #[error("request #{0} was answered already, at {1}")]
    Answered(i64, String),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Registers a request received now, and records it in the audit trail. Creates
/// retentiond's tables if need be.
pub async fn register_request(
    db: &mut Db,
    config: &Config,
    args: RequestArgs,
) -> Result<RegisteredRequest, RequestError> {
    if args.subject.trim().is_empty() {
        return Err(RequestError::EmptySubject);
    }
    if !config.policies.iter().any(|p| p.subject.is_some()) {
        return Err(RequestError::NoSubjectPolicy(
            config.path.display().to_string(),
        ));
    }
    let minor = args.kind == RequestKind::Erasure && args.reason.as_deref() == Some(MINOR);
    let now = Utc::now();
    let received = args.received_at.unwrap_or(now);
    // A minute's grace for the sender's clock.
    if received > now + TimeDelta::minutes(1) {
        return Err(RequestError::ReceivedInFuture(db::rfc3339(received)));
    }
    db.ensure_own_tables().await?;
    let due = received + TimeDelta::days(REQUEST_DAYS);
    let id = db
        .insert_request(&NewRequest {
            kind: args.kind,
            subject: args.subject,
            reason: args.reason,
            reference: args.reference,
            minor,
            received_at: db::rfc3339(received),
            due_at: db::rfc3339(due),
        })
        .await?;
    let detail = format!(
        "{} request #{id} registered{}, due {}{}",
        args.kind,
        if minor { " (minor)" } else { "" },
        db::rfc3339(due),
        args.actor.words()
    );
    let action = match args.kind {
        RequestKind::Erasure => EventAction::ErasureRegistered,
        RequestKind::Access | RequestKind::Portability => EventAction::ExportRegistered,
    };
    let event = journal::outside_pass(action, None, &db::rfc3339(now), detail);
    journal::append(db, event).await?;
    Ok(RegisteredRequest {
        id,
        kind: args.kind,
        received,
        due,
        minor,
    })
}
