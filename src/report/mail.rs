//! Periodic reports by mail (`[report] mail_to`, `[mail]`): the HTML report inline,
//! the CSV and JSON attached, each the very file written for the period, which
//! stays the record. A `.sent` file beside the report is the register of what was
//! sent: a report is mailed once, even across restarts; a send that failed is tried
//! again at the next pass. Logs and errors never carry the password.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::ReportError;
use super::periodic::{FILE_PREFIX, last_period};
use crate::config::{Config, MailSecurity, MailSettings, ReportSettings};

/// How long one send may take before it counts as failed.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// Mails the last complete period's report if it is written and not sent yet.
/// Returns the period's label when it was sent now.
pub async fn mail_due(
    config: &Config,
    settings: &ReportSettings,
    now: DateTime<Utc>,
) -> Result<Option<String>, ReportError> {
    let (Some(mail), false) = (&config.mail, settings.mail_to.is_empty()) else {
        return Ok(None);
    };
    let Some((from, to, label)) = last_period(&settings.period, now) else {
        return Ok(None);
    };
    let file = |ext: &str| settings.dir.join(format!("{FILE_PREFIX}{label}.{ext}"));
    let sent = file("sent");
    if sent.exists() || !file("html").exists() {
        return Ok(None);
    }
    let read = |ext: &str| -> Result<String, ReportError> {
        let path = file(ext);
        std::fs::read_to_string(&path).map_err(|error| ReportError::Write {
            path: path.display().to_string(),
            error,
        })
    };
    let failed = |error: String| ReportError::Mail {
        label: label.clone(),
        error,
    };
    let subject = format!("retentiond purge report {label} ({from} to {to})");
    let mut builder = Message::builder()
        .from(
            mail.from
                .parse::<Mailbox>()
                .map_err(|e| failed(format!("from: {e}")))?,
        )
        .subject(subject);
    for to in &settings.mail_to {
        builder = builder.to(to
            .parse::<Mailbox>()
            .map_err(|e| failed(format!("{to}: {e}")))?);
    }
    let name = |ext: &str| format!("{FILE_PREFIX}{label}.{ext}");
    let body = MultiPart::mixed()
        .singlepart(SinglePart::html(read("html")?))
        .singlepart(Attachment::new(name("csv")).body(read("csv")?, content_type("text/csv")))
        .singlepart(
            Attachment::new(name("json")).body(read("json")?, content_type("application/json")),
        );
    let message = builder.multipart(body).map_err(|e| failed(e.to_string()))?;
    transport(mail)
        .map_err(failed)?
        .send(message)
        .await
        .map_err(|e| failed(e.to_string()))?;
    record_sent(&sent, &settings.mail_to, now);
    Ok(Some(label))
}

fn content_type(text: &str) -> ContentType {
    ContentType::parse(text).unwrap_or(ContentType::TEXT_PLAIN)
}

fn transport(mail: &MailSettings) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let builder = match mail.security {
        MailSecurity::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&mail.host)
            .map_err(|e| e.to_string())?,
        MailSecurity::Tls => {
            AsyncSmtpTransport::<Tokio1Executor>::relay(&mail.host).map_err(|e| e.to_string())?
        }
        MailSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&mail.host),
    };
    let mut builder = builder.port(mail.port).timeout(Some(SEND_TIMEOUT));
    if let Some(user) = &mail.user {
        let password = mail
            .password
            .as_ref()
            .map(|p| p.0.clone())
            .unwrap_or_default();
        builder = builder.credentials(Credentials::new(user.clone(), password));
    }
    Ok(builder.build())
}

/// The register: when, and to whom. A register that cannot be written is logged;
/// the report may then be sent again after a restart.
fn record_sent(path: &Path, to: &[String], now: DateTime<Utc>) {
    let text = format!("sent {} to {}\n", crate::db::rfc3339(now), to.join(", "));
    if let Err(e) = std::fs::write(path, text) {
        tracing::error!(register = %path.display(), error = %e, "the report was mailed, but this could not be recorded");
    }
}
