//! Periodic reports by mail (`[report] mail_to`, `[mail]`): the HTML report inline,
//! the CSV and JSON attached, each the very file written for the period, which
//! stays the record. A `.sent` file beside the report is the register of what was
//! sent: a report is mailed once, even across restarts; a send that failed is tried
//! again at the next pass. Logs and errors never carry the password.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc, Weekday};
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::ReportError;
use super::periodic::FILE_PREFIX;
use crate::config::{Config, MailSecurity, MailSettings, ReportSettings};

/// How long one send may take before it counts as failed.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// How far back an unsent report is still mailed: a report older than this was
/// written before `mail_to` was set, or its mailing was given up by hand.
const UNSENT_KEPT: chrono::Days = chrono::Days::new(92);

/// Mails every written report that is not sent yet, oldest first: the last complete
/// period's, and any earlier one whose mailing kept failing (up to 92 days back).
/// Returns the labels sent now; stops at the first that fails, to try again at the
/// next pass.
pub async fn mail_due(
    config: &Config,
    settings: &ReportSettings,
    now: DateTime<Utc>,
) -> Result<Vec<String>, ReportError> {
    let (Some(mail), false) = (&config.mail, settings.mail_to.is_empty()) else {
        return Ok(Vec::new());
    };
    let mut sent = Vec::new();
    for label in unsent_reports(settings, now) {
        mail_one(mail, settings, &label, now).await?;
        sent.push(label);
    }
    Ok(sent)
}

/// The labels of the reports written and not mailed, oldest first, whose period
/// ended within [`UNSENT_KEPT`]; none without `mail_to`.
pub fn unsent_reports(settings: &ReportSettings, now: DateTime<Utc>) -> Vec<String> {
    if settings.mail_to.is_empty() {
        return Vec::new();
    }
    let since = now.date_naive() - UNSENT_KEPT;
    super::periodic::written_reports(&settings.dir)
        .iter()
        .filter_map(|name| name.strip_prefix(FILE_PREFIX)?.strip_suffix(".html"))
        .filter(|label| {
            let done = settings.dir.join(format!("{FILE_PREFIX}{label}.sent"));
            !done.exists() && period_of(label).is_some_and(|(_, to)| to >= since)
        })
        .map(str::to_owned)
        .collect()
}

/// A report's first and last day, from its label (`2026-10`, `2026-W44`,
/// `2026-10-01_2026-10-31`).
fn period_of(label: &str) -> Option<(NaiveDate, NaiveDate)> {
    if let Some((from, to)) = label.split_once('_') {
        return Some((from.parse().ok()?, to.parse().ok()?));
    }
    if let Some((year, week)) = label.split_once("-W") {
        let from =
            NaiveDate::from_isoywd_opt(year.parse().ok()?, week.parse().ok()?, Weekday::Mon)?;
        return Some((from, from + chrono::Days::new(6)));
    }
    let from = NaiveDate::parse_from_str(&format!("{label}-01"), "%Y-%m-%d").ok()?;
    Some((
        from,
        super::last_full_month(from + chrono::Months::new(1)).1,
    ))
}

/// Mails one report: the HTML inline, the CSV and JSON attached; records it sent.
async fn mail_one(
    mail: &MailSettings,
    settings: &ReportSettings,
    label: &str,
    now: DateTime<Utc>,
) -> Result<(), ReportError> {
    let (from, to) = period_of(label).ok_or_else(|| ReportError::Mail {
        label: label.to_string(),
        error: "the file name names no period".into(),
    })?;
    let file = |ext: &str| settings.dir.join(format!("{FILE_PREFIX}{label}.{ext}"));
    let read = |ext: &str| -> Result<String, ReportError> {
        let path = file(ext);
        std::fs::read_to_string(&path).map_err(|error| ReportError::Write {
            path: path.display().to_string(),
            error,
        })
    };
    let failed = |error: String| ReportError::Mail {
        label: label.to_string(),
        error,
    };
    let subject = format!("retentiond purge report {label} ({from} to {to})");
    let sender = mail
        .from
        .parse::<Mailbox>()
        .map_err(|e| failed(format!("from: {e}")))?;
    let mut builder = Message::builder()
        .message_id(Some(message_id(label, sender.email.domain(), now)))
        .from(sender)
        .subject(subject);
    for to in &settings.mail_to {
        builder = builder.to(to
            .parse::<Mailbox>()
            .map_err(|e| failed(format!("{to}: {e}")))?);
    }
    let name = |ext: &str| format!("{FILE_PREFIX}{label}.{ext}");
    let mut body = MultiPart::mixed().singlepart(SinglePart::html(read("html")?));
    // The formats written for the period, each the very file kept as the record.
    for (ext, kind) in [("csv", "text/csv"), ("json", "application/json")] {
        if file(ext).exists() {
            body = body.singlepart(Attachment::new(name(ext)).body(read(ext)?, content_type(kind)));
        }
    }
    let message = builder.multipart(body).map_err(|e| failed(e.to_string()))?;
    // A bound on the whole exchange, not only each read: a relay that stalls
    // mid-dialogue must not hold the daemon's loop.
    let smtp = transport(mail).map_err(failed)?;
    tokio::time::timeout(SEND_TIMEOUT, smtp.send(message))
        .await
        .map_err(|_| failed(format!("no answer within {} s", SEND_TIMEOUT.as_secs())))?
        .map_err(|e| failed(e.to_string()))?;
    record_sent(&file("sent"), &settings.mail_to, now);
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reports_period_is_read_from_its_label() {
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(
            period_of("2026-02"),
            Some((day("2026-02-01"), day("2026-02-28")))
        );
        assert_eq!(
            period_of("2026-12"),
            Some((day("2026-12-01"), day("2026-12-31")))
        );
        assert_eq!(
            period_of("2026-W01"),
            Some((day("2025-12-29"), day("2026-01-04")))
        );
        assert_eq!(
            period_of("2026-10-01_2026-10-31"),
            Some((day("2026-10-01"), day("2026-10-31")))
        );
        assert_eq!(period_of("latest"), None);
    }
}
