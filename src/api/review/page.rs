//! The review page's HTML: plain, printable, no script. Every value is escaped.

use std::fmt::Write as _;

use super::super::ApiState;
use super::super::admin::ReportView;
use super::super::error::ApiError;
use super::super::requests::RequestView;
use crate::db::{Access, Db};
use crate::engine::HoldListing;
use crate::outcome::RequestStatus;
use crate::report::html_escape as esc;
use crate::report::signoff::{self, FileState};

const STYLE: &str = "body{font-family:sans-serif;max-width:64em;margin:1.5em auto;padding:0 1em;color:#222}\
table{border-collapse:collapse;margin:.5em 0;width:100%}th,td{border:1px solid #bbb;padding:.25em .5em;text-align:left;vertical-align:top}\
tr.overdue td{background:#fdecea}.overdue-mark{color:#b00020;font-weight:bold}.ok{color:#176b2c}.bad{color:#b00020;font-weight:bold}\
.flash{border:1px solid #176b2c;background:#eef7f0;padding:.5em .8em}form.inline{display:inline}input[type=text]{width:12em}\
header{display:flex;justify-content:space-between;align-items:baseline}h2{margin-top:1.5em;break-after:avoid}tr{break-inside:avoid}\
@media print{form,button{display:none}body{margin:0;font-size:10pt}}";

/// What the page shows, read at each view.
pub struct Data {
    requests: Vec<RequestView>,
    holds: Vec<HoldListing>,
    reports: Vec<ReportView>,
    chain: String,
    chain_ok: bool,
}

impl Data {
    pub async fn read(state: &std::sync::Arc<ApiState>) -> Result<Data, ApiError> {
        // Open ones (overdue first), then the last answered.
        let mut requests = state
            .requests(|r, _| r.status == RequestStatus::Open)
            .await?;
        let mut answered = state
            .requests(|r, _| r.status != RequestStatus::Open)
            .await?;
        answered.sort_by(|a, b| b.answered_at.cmp(&a.answered_at));
        answered.truncate(20);
        requests.extend(answered);
        let reports = state.reports().await?;
        let config = state.config();
        let holds = state.holds().await;
        let mut db = Db::open(&config.database, Access::ReadOnly).await?;
        let chain = db.verify_chain().await;
        let sign_offs = signoff::sign_offs(&mut db).await;
        let _ = db.close().await;
        let (verifier, broken) = chain?;
        let sign_offs = sign_offs?;
        let signed = config
            .report
            .as_ref()
            .map(|r| signoff::check(r, &sign_offs))
            .unwrap_or_default();
        let changed: Vec<String> = signed
            .iter()
            .filter(|f| f.state == FileState::Changed)
            .map(|f| f.file.clone())
            .collect();
        let (chain, chain_ok) = match (&broken, changed.is_empty()) {
            (None, true) => (
                format!(
                    "Intact: {} events verified{}; every signed report file is as it was signed.",
                    verifier.verified,
                    verifier
                        .head()
                        .map(|h| format!(", head {h}"))
                        .unwrap_or_default()
                ),
                true,
            ),
            (Some(b), _) => (format!("BROKEN: {b}"), false),
            (None, false) => (
                format!(
                    "Signed report files changed after their sign-off: {}",
                    changed.join(", ")
                ),
                false,
            ),
        };
        Ok(Data {
            requests,
            holds: holds?,
            reports,
            chain,
            chain_ok,
        })
    }
}

fn head(title: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{}</title><style>{STYLE}</style></head><body>",
        esc(title)
    )
}

pub fn login(error: Option<&str>) -> String {
    let mut h = head("retentiond review: log in");
    h.push_str("<h1>retentiond review</h1><p>Log in with a token of role <code>dpo</code> (<code>retentiond token add NAME --role dpo</code>).</p>");
    if let Some(e) = error {
        let _ = write!(h, "<p class=\"bad\" id=\"error\">{}</p>", esc(e));
    }
    h.push_str("<form method=\"post\" action=\"/review/login\"><label>Token <input type=\"password\" name=\"token\" id=\"token\" autocomplete=\"off\" required></label> \
                <button type=\"submit\" id=\"login\">Log in</button></form></body></html>");
    h
}

fn csrf_field(csrf: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(csrf)
    )
}

pub fn review(d: &Data, token: &str, csrf: &str, flash: Option<&str>) -> String {
    let mut h = head("retentiond review");
    let _ = write!(
        h,
        "<header><h1>retentiond review</h1><span>token <b>{}</b> <form class=\"inline\" method=\"post\" action=\"/review/logout\">{}<button>Log out</button></form></span></header>",
        esc(token),
        csrf_field(csrf)
    );
    if let Some(f) = flash {
        let _ = write!(h, "<p class=\"flash\" id=\"flash\">{}</p>", esc(f));
    }
    requests(&mut h, &d.requests, csrf);
    holds(&mut h, &d.holds, csrf);
    reports(&mut h, &d.reports, csrf);
    let _ = write!(
        h,
        "<h2 id=\"audit\">Audit trail</h2><p class=\"{}\" id=\"chain\">{}</p></body></html>",
        if d.chain_ok { "ok" } else { "bad" },
        esc(&d.chain)
    );
    h
}

fn requests(h: &mut String, all: &[RequestView], csrf: &str) {
    let open = all.iter().filter(|r| r.status == "open").count();
    let overdue = all
        .iter()
        .filter(|r| r.status == "open" && r.overdue)
        .count();
    let _ = write!(
        h,
        "<h2 id=\"requests\">Privacy requests: {open} open, {overdue} overdue</h2>"
    );
    if all.is_empty() {
        h.push_str("<p>No request has been filed.</p>");
        return;
    }
    h.push_str("<table><tr><th>#</th><th>Kind</th><th>Received</th><th>Due</th><th>Status</th><th>Answer</th><th></th></tr>");
    for r in all {
        let late = r.status == "open" && r.overdue;
        let _ = write!(
            h,
            "<tr id=\"request-{id}\"{cls}><td>{id}</td><td>{kind}{minor}</td><td>{rec}</td><td>{due}{mark}</td><td>{status}</td><td>{answer}</td><td>",
            id = r.id,
            cls = if late { " class=\"overdue\"" } else { "" },
            kind = esc(&r.kind),
            minor = if r.minor { " (minor)" } else { "" },
            rec = esc(&r.received_at),
            due = esc(&r.due_at),
            mark = if late {
                " <span class=\"overdue-mark\">OVERDUE</span>"
            } else {
                ""
            },
            status = esc(&r.status.replace('_', " ")),
            answer = esc(r.answer.as_deref().unwrap_or("")),
        );
        if r.status == "open" {
            let _ = write!(
                h,
                "<form class=\"inline\" method=\"post\" action=\"/review/requests/{}/answer\">{}<button id=\"answer-{}\">Answer now</button></form>",
                r.id,
                csrf_field(csrf),
                r.id
            );
        }
        h.push_str("</td></tr>");
    }
    h.push_str("</table>");
}

fn holds(h: &mut String, all: &[HoldListing], csrf: &str) {
    let active: Vec<&HoldListing> = all.iter().filter(|l| l.active).collect();
    let _ = write!(
        h,
        "<h2 id=\"holds\">Legal holds: {} active</h2>",
        active.len()
    );
    if active.is_empty() {
        h.push_str("<p>No active hold.</p>");
        return;
    }
    h.push_str("<table><tr><th>#</th><th>Subject</th><th>Reason</th><th>Policy</th><th>Since</th><th>Until</th><th></th></tr>");
    for l in active {
        let x = &l.hold;
        let _ = write!(
            h,
            "<tr id=\"hold-{id}\"><td>{id}</td><td>{s}</td><td>{r}</td><td>{p}</td><td>{c}</td><td>{u}</td><td>\
             <form class=\"inline\" method=\"post\" action=\"/review/holds/{id}/release\">{f}<input type=\"text\" name=\"reason\" placeholder=\"why released\"> <button>Release</button></form></td></tr>",
            id = x.id,
            s = esc(&x.subject),
            r = esc(&x.reason),
            p = esc(x.policy.as_deref().unwrap_or("every policy")),
            c = esc(&x.created_at),
            u = esc(x.until.as_deref().unwrap_or("released")),
            f = csrf_field(csrf),
        );
    }
    h.push_str("</table>");
}

fn reports(h: &mut String, all: &[ReportView], csrf: &str) {
    h.push_str("<h2 id=\"reports\">Purge reports</h2>");
    if all.is_empty() {
        h.push_str("<p>No periodic report has been written yet.</p>");
        return;
    }
    h.push_str(
        "<table><tr><th>Period</th><th>Files</th><th>Mail</th><th>Sign-offs</th><th></th></tr>",
    );
    for r in all {
        let files: Vec<String> = r
            .files
            .iter()
            .map(|f| {
                let ext = f.rsplit('.').next().unwrap_or("");
                format!(
                    "<a href=\"/review/reports/{}?format={}\">{}</a>",
                    esc(&r.label),
                    esc(ext),
                    esc(ext)
                )
            })
            .collect();
        let signed: Vec<String> = r
            .sign_offs
            .iter()
            .map(|s| format!("{} at {}", esc(&s.by), esc(&s.at)))
            .collect();
        let _ = write!(
            h,
            "<tr id=\"report-{l}\"><td>{l}</td><td>{files}</td><td>{mail}</td><td class=\"signoffs\">{signed}</td><td>\
             <form class=\"inline\" method=\"post\" action=\"/review/reports/{l}/sign\">{f}<input type=\"text\" name=\"reviewer\" placeholder=\"your name\" required> \
             <button id=\"sign-{l}\">Sign off</button></form></td></tr>",
            l = esc(&r.label),
            files = files.join(" "),
            mail = match r.mail.as_str() {
                "unsent" => "<span class=\"bad\">not sent yet</span>",
                "sent" => "sent",
                _ => "not mailed (no mail_to)",
            },
            signed = if signed.is_empty() {
                "none".to_string()
            } else {
                signed.join("<br>")
            },
            f = csrf_field(csrf),
        );
    }
    h.push_str("</table>");
}
