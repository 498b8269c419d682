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
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
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
    let sender = mail
        .from
        .parse::<Mailbox>()
        .map_err(|e| failed(format!("from: {e}")))?;
    let mut builder = Message::builder()
        .message_id(Some(message_id(&label, sender.email.domain(), now)))
        .from(sender)
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
    // A bound on the whole exchange, not only each read: a relay that stalls
    // mid-dialogue must not hold the daemon's loop.
    let smtp = transport(mail).map_err(failed)?;
    tokio::time::timeout(SEND_TIMEOUT, smtp.send(message))
        .await
        .map_err(|_| failed(format!("no answer within {} s", SEND_TIMEOUT.as_secs())))?
        .map_err(|e| failed(e.to_string()))?;
    record_sent(&sent, &settings.mail_to, now);
    Ok(Some(label))
}

fn content_type(text: &str) -> ContentType {
    ContentType::parse(text).unwrap_or(ContentType::TEXT_PLAIN)
}

/// `check --mail`: connects to the relay as a send would (EHLO, STARTTLS or TLS,
/// AUTH when `user` is set), sends no message, and says what it did.
pub async fn test_relay(mail: &MailSettings) -> Result<String, String> {
    let smtp = transport(mail)?;
    let connected = tokio::time::timeout(SEND_TIMEOUT, smtp.test_connection())
        .await
        .map_err(|_| format!("no answer within {} s", SEND_TIMEOUT.as_secs()))?
        .map_err(|e| e.to_string())?;
    if !connected {
        return Err("the relay closed the connection after the greeting".into());
    }
    let tls = match mail.security {
        MailSecurity::StartTls => ", STARTTLS",
        MailSecurity::Tls => ", TLS",
        MailSecurity::None => ", no TLS",
    };
    let auth = mail
        .user
        .as_ref()
        .map_or(String::new(), |u| format!(", AUTH as {u}"));
    Ok(format!(
        "{}:{}: EHLO{tls}{auth}: ok, nothing sent",
        mail.host, mail.port
    ))
}

/// A Message-ID unique per report and attempt, in the sender's domain.
fn message_id(label: &str, domain: &str, now: DateTime<Utc>) -> String {
    let nanos = now.timestamp_nanos_opt().unwrap_or_default();
    format!(
        "<retentiond.{label}.{nanos}.{}@{domain}>",
        std::process::id()
    )
}

/// The SMTP connection: TLS checked against the system's trust store (and
/// `SSL_CERT_FILE`) plus `ca_file`'s certificates, this host's name in EHLO.
fn transport(mail: &MailSettings) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let tls = |wrap: fn(TlsParameters) -> Tls| -> Result<Tls, String> {
        let mut params = TlsParameters::builder(mail.host.clone());
        if let Some(pem) = &mail.ca_pem {
            let ca = Certificate::from_pem(pem).map_err(|e| format!("ca_file: {e}"))?;
            params = params.add_root_certificate(ca);
        }
        Ok(wrap(params.build_rustls().map_err(|e| e.to_string())?))
    };
    let security = match mail.security {
        MailSecurity::StartTls => tls(Tls::Required)?,
        MailSecurity::Tls => tls(Tls::Wrapper)?,
        MailSecurity::None => Tls::None,
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&mail.host)
        .tls(security)
        .hello_name(ClientId::Domain(crate::db::host_name()))
        .port(mail.port)
        .timeout(Some(SEND_TIMEOUT));
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
