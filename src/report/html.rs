//! The report as one self-contained, printable HTML page: inline CSS, an inline SVG
//! chart, no script, no external resource. Pure.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{Report, Verdict};

/// Text made safe inside HTML elements and quoted attributes.
pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

const PALETTE: [&str; 8] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
];
const STYLE: &str = "body{font-family:sans-serif;max-width:60em;margin:2em auto;color:#222}table{border-collapse:collapse;margin:.5em 0}\
th,td{border:1px solid #bbb;padding:.2em .5em;text-align:left}td.n{text-align:right}.ok{color:#176b2c}\
.bad{color:#b00020;font-weight:bold}.note{border:1px solid #bbb;padding:.4em .6em;background:#f4f4f4}\
h2{break-after:avoid}tr{break-inside:avoid}.legend{font-size:.8em}.legend span{margin-right:1.2em;white-space:nowrap}\
.legend i{display:inline-block;width:.8em;height:.8em;margin-right:.3em;vertical-align:middle;-webkit-print-color-adjust:exact;print-color-adjust:exact}\
@page{margin:1.2cm}.small{font-size:.85em}code{font-size:.85em}h1 .d{white-space:nowrap}\
@media print{body{margin:0;font-size:10pt}h1{font-size:1.6em}svg{break-inside:avoid}}";

fn cell(s: &str) -> String {
    format!("<td>{}</td>", html_escape(s))
}

fn num(n: u64) -> String {
    format!("<td class=\"n\">{n}</td>")
}

/// The report as one HTML page.
pub fn html(r: &Report) -> String {
    let mut body = String::new();
    if let Some(note) = &r.note {
        let _ = write!(body, "<p class=\"note\">{}</p>", html_escape(note));
    }
    let _ = write!(
        body,
        "<h1>Purge report: <span class=\"d\">{}</span> to <span class=\"d\">{}</span></h1><p>Database: {}<br>Generated: {}<br>Configuration: {} (SHA-256 <code>{}</code>)</p>",
        r.from,
        r.to,
        html_escape(&r.database),
        r.generated_at,
        html_escape(&r.config_path),
        r.config_sha256
    );
    policies(&mut body, r);
    purged(&mut body, r);
    body.push_str(&chart(r));
    incidents(&mut body, r);
    enforcement(&mut body, r);
    holds(&mut body, r);
    uncovered(&mut body, r);
    privacy_requests(&mut body, r);
    erasures(&mut body, r);
    audit(&mut body, r);
    let _ = write!(
        body,
        "<h2>What a purge does not reach</h2><p>{}</p>",
        html_escape(&r.unreachable)
    );
    for l in &r.leftovers {
        let _ = write!(body, "<p class=\"small\">{}</p>", html_escape(l));
    }
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Purge report {} to {}</title><style>{STYLE}</style></head><body>{body}</body></html>\n",
        r.from, r.to
    )
}

fn policies(body: &mut String, r: &Report) {
    body.push_str("<h2>Policies in force</h2><table><tr><th>policy</th><th>table</th><th>period</th><th>legal basis</th><th>action</th></tr>");
    for p in &r.policies {
        let _ = write!(
            body,
            "<tr>{}{}{}{}{}</tr>",
            cell(&p.name),
            cell(&p.table),
            cell(&p.period),
            cell(p.basis.map_or("-", |b| b.words())),
            cell(p.action.as_str())
        );
    }
    body.push_str("</table>");
    if r.config_versions.len() > 1 {
        body.push_str("<p>The configuration changed during the period:</p><ul>");
        for v in &r.config_versions {
            let _ = write!(
                body,
                "<li><code>{}</code> from the pass at {}</li>",
                v.sha256, v.first_pass
            );
        }
        body.push_str("</ul>");
    }
}

fn purged(body: &mut String, r: &Report) {
    body.push_str("<h2>What was purged</h2><table><tr><th>policy</th><th>rows deleted</th><th>rows anonymised</th><th>rows kept for holds</th><th>passes</th></tr>");
    for p in &r.policies {
        let _ = write!(
            body,
            "<tr>{}{}{}{}{}</tr>",
            cell(&p.name),
            num(p.deleted),
            num(p.anonymized),
            num(p.held),
            num(p.passes)
        );
    }
    body.push_str("</table>");
    if r.policies.iter().any(|p| !p.files.is_empty()) {
        body.push_str("<p>Files the purged rows pointed to (scans, uploads, objects in a bucket):</p><table><tr><th>policy</th><th>files removed</th><th>already gone</th><th>refused (outside their store)</th><th>failed (still queued)</th></tr>");
        for p in r.policies.iter().filter(|p| !p.files.is_empty()) {
            let f = &p.files;
            let _ = write!(
                body,
                "<tr>{}{}{}{}{}</tr>",
                cell(&p.name),
                num(f.removed),
                num(f.already_gone),
                num(f.refused),
                num(f.failed)
            );
        }
        body.push_str("</table>");
    }
}

fn incidents(body: &mut String, r: &Report) {
    body.push_str("<h2>Refusals and failures</h2>");
    if r.incidents.is_empty() {
        body.push_str("<p>None.</p>");
        return;
    }
    body.push_str("<ul>");
    for i in &r.incidents {
        let _ = write!(
            body,
            "<li class=\"bad\">pass #{} at {}: policy <b>{}</b> {}: {}</li>",
            i.run_id,
            i.started_at,
            html_escape(&i.policy),
            i.status,
            html_escape(&i.reason)
        );
    }
    body.push_str("</ul>");
}

fn enforcement(body: &mut String, r: &Report) {
    body.push_str("<h2>Enforcement check</h2><table><tr><th>policy</th><th>verdict</th></tr>");
    for p in &r.policies {
        let class = match p.enforcement.state {
            Verdict::InCompliance => "ok",
            Verdict::Backlog | Verdict::NotChecked => "bad",
        };
        let _ = write!(
            body,
            "<tr>{}<td class=\"{class}\">{}</td></tr>",
            cell(&p.name),
            html_escape(&p.enforcement.verdict)
        );
    }
    body.push_str("</table>");
}

fn holds(body: &mut String, r: &Report) {
    body.push_str("<h2>Legal holds</h2>");
    if r.holds.is_empty() {
        body.push_str("<p>No hold was active during the period.</p>");
        return;
    }
    let _ = write!(
        body,
        "<p>{} hold(s) active during the period.</p><ul>",
        r.holds.len()
    );
    for h in &r.holds {
        let _ = write!(
            body,
            "<li>hold #{} since {}: {}{}</li>",
            h.id,
            h.since,
            html_escape(&h.reason),
            h.subject
                .as_deref()
                .map(|s| format!(", subject {}", html_escape(s)))
                .unwrap_or_default()
        );
    }
    body.push_str("</ul>");
}

fn uncovered(body: &mut String, r: &Report) {
    body.push_str("<h2>Personal data without a retention rule</h2>");
    if r.uncovered.is_empty() {
        body.push_str("<p>None found.</p>");
        return;
    }
    body.push_str("<table><tr><th>Table</th><th>Column</th><th>Why it looks personal</th></tr>");
    for u in &r.uncovered {
        let _ = write!(
            body,
            "<tr class=\"bad\"><td>{}</td><td>{}</td><td>{}</td></tr>",
            html_escape(&u.table),
            html_escape(&u.column),
            html_escape(&u.reason)
        );
    }
    body.push_str("</table>");
}

fn privacy_requests(body: &mut String, r: &Report) {
    body.push_str(
        "<h2>Privacy requests</h2><table><tr><th>Kind</th><th>Received</th><th>Due</th>\
         <th>Answered</th><th>Answered late</th><th>Overdue now</th></tr>",
    );
    for t in &r.privacy_requests {
        let class = if t.overdue + t.answered_late > 0 {
            " class=\"bad\""
        } else {
            ""
        };
        let _ = write!(
            body,
            "<tr{class}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            t.kind, t.received, t.due, t.answered, t.answered_late, t.overdue
        );
    }
    body.push_str("</table>");
    if r.exports.is_empty() {
        return;
    }
    body.push_str("<ul>");
    for e in &r.exports {
        let class = if e.overdue { " class=\"bad\"" } else { "" };
        let mark = if e.overdue { " OVERDUE" } else { "" };
        let _ = write!(body, "<li{class}>{}{mark}</li>", html_escape(&e.describe()));
    }
    body.push_str("</ul>");
}

fn erasures(body: &mut String, r: &Report) {
    body.push_str("<h2>Erasure requests</h2>");
    if let Some(e) = &r.ledger_error {
        let _ = write!(
            body,
            "<p class=\"bad\">The erasure ledger cannot be read: {}.</p>",
            html_escape(e)
        );
    }
    if !r.reapplied.is_empty() {
        let _ = write!(
            body,
            "<p class=\"bad\">{}</p>",
            html_escape(&super::reapplied_summary(&r.reapplied))
        );
    }
    if r.erasures.is_empty() {
        body.push_str("<p>None.</p>");
        return;
    }
    body.push_str("<ul>");
    for e in &r.erasures {
        let class = if e.overdue { " class=\"bad\"" } else { "" };
        let _ = write!(
            body,
            "<li{class}>request #{} received {}, due {}: {}{}{}{}",
            e.id,
            e.received_at,
            e.due_at,
            e.status.words(),
            e.answered(),
            if e.minor { " (minor)" } else { "" },
            if e.overdue { " OVERDUE" } else { "" }
        );
        for line in &e.erased {
            let _ = write!(body, "<br>{}", html_escape(line));
        }
        for line in &e.kept {
            let _ = write!(body, "<br>kept: {}", html_escape(line));
        }
        if let Some(f) = &e.forwarded {
            let _ = write!(body, "<br>{}", html_escape(&f.words()));
        }
        body.push_str("</li>");
    }
    body.push_str("</ul>");
}

fn audit(body: &mut String, r: &Report) {
    body.push_str("<h2>Audit trail</h2>");
    match &r.audit.broken {
        None => {
            let _ = write!(
                body,
                "<p class=\"ok\">Intact: {} events verified. Head: <code>{}</code>.</p>",
                r.audit.verified,
                r.audit.head.as_deref().unwrap_or("-")
            );
        }
        Some(b) => {
            let _ = write!(body, "<p class=\"bad\">BROKEN: {}.</p>", html_escape(b));
        }
    }
}

/// The chart's bars: rows purged per bucket (a day, or a month over long periods)
/// and policy.
struct Bars {
    monthly: bool,
    buckets: Vec<String>,
    values: BTreeMap<(String, String), u64>,
    /// The tallest stack, for the scale.
    max: u64,
}

impl Bars {
    fn of(r: &Report) -> Bars {
        let monthly = r.daily.len() / r.policies.len().max(1) > 62;
        let mut buckets: Vec<String> = Vec::new();
        let mut values: BTreeMap<(String, String), u64> = BTreeMap::new();
        for d in &r.daily {
            let b = if monthly {
                d.date[..7].to_string()
            } else {
                d.date.clone()
            };
            if !buckets.contains(&b) {
                buckets.push(b.clone());
            }
            *values.entry((b, d.policy.clone())).or_default() += d.rows_deleted + d.rows_anonymized;
        }
        let mut bars = Bars {
            monthly,
            buckets,
            values,
            max: 0,
        };
        bars.max = bars
            .buckets
            .iter()
            .map(|b| r.policies.iter().map(|p| bars.get(b, &p.name)).sum::<u64>())
            .max()
            .unwrap_or(0)
            .max(1);
        bars
    }

    fn get(&self, bucket: &str, policy: &str) -> u64 {
        self.values
            .get(&(bucket.to_string(), policy.to_string()))
            .copied()
            .unwrap_or(0)
    }
}

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 60.0;
const BOTTOM: f64 = 10.0;

/// Rows purged per policy per day (per month over long periods), as stacked bars.
fn chart(r: &Report) -> String {
    let bars = Bars::of(r);
    let (w, h, left) = (WIDTH, HEIGHT, LEFT);
    let total_h = h + BOTTOM + 20.0;
    // As wide as the page allows and no wider: printed, it scales to the paper.
    let mut svg = format!(
        "<svg viewBox=\"0 0 {w} {total_h}\" style=\"width:100%;max-width:{w}px;height:auto\" role=\"img\" aria-label=\"Rows purged per policy per {}\">",
        if bars.monthly { "month" } else { "day" }
    );
    let _ = write!(
        svg,
        "<line x1=\"{left}\" y1=\"{h}\" x2=\"{w}\" y2=\"{h}\" stroke=\"#333\"/><text x=\"{}\" y=\"12\" font-size=\"10\" text-anchor=\"end\">{}</text><text x=\"{}\" y=\"{h}\" font-size=\"10\" text-anchor=\"end\">0</text>",
        left - 4.0,
        bars.max,
        left - 4.0
    );
    let bar = (w - left) / bars.buckets.len().max(1) as f64;
    for (i, b) in bars.buckets.iter().enumerate() {
        stack(&mut svg, r, &bars, b, left + i as f64 * bar, bar);
        if bars.buckets.len() <= 12 || i % (bars.buckets.len() / 6).max(1) == 0 {
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{}\" font-size=\"9\">{}</text>",
                left + i as f64 * bar,
                h + 14.0,
                html_escape(&b[if bars.monthly { 0 } else { 5 }..])
            );
        }
    }
    svg.push_str("</svg>");
    // The legend is text, not SVG: it wraps however many policies there are.
    svg.push_str("<p class=\"legend\">");
    for (j, p) in r.policies.iter().enumerate() {
        let _ = write!(
            svg,
            "<span><i style=\"background:{}\"></i>{}</span> ",
            PALETTE[j % PALETTE.len()],
            html_escape(&p.name)
        );
    }
    svg.push_str("</p>");
    svg
}

/// One bucket's bar: a segment per policy, stacked from the axis up.
fn stack(svg: &mut String, r: &Report, bars: &Bars, bucket: &str, x: f64, width: f64) {
    let mut y = HEIGHT;
    for (j, p) in r.policies.iter().enumerate() {
        let v = bars.get(bucket, &p.name);
        if v == 0 {
            continue;
        }
        let bh = v as f64 / bars.max as f64 * (HEIGHT - 10.0);
        y -= bh;
        let _ = write!(
            svg,
            "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"{}\"><title>{} {}: {v}</title></rect>",
            x + 1.0,
            (width - 2.0).max(1.0),
            PALETTE[j % PALETTE.len()],
            html_escape(bucket),
            html_escape(&p.name)
        );
    }
}
