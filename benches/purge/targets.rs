//! The benchmark's figures, printed as Markdown rows beside the bulk statement's,
//! and held to the targets of docs/performance.md: each target is printed as met
//! or missed with the figure that decides it.

use serde_json::json;

use crate::measure::Side;
use crate::setup::Backend;
use crate::{Case, Scale, Task};

const HEADER: &str = "| backend | task | other writer | bulk rows/s | retentiond rows/s | ratio | ratio without VACUUM | VACUUM share (bulk / retentiond) | writer p99 ms (bulk / retentiond) | writer max ms (bulk / retentiond) | batch ms p50 / p99 | batches over 100 ms | longest batch | final batch size | peak RSS |\n\
| --- | --- | --- | ---: | ---: | ---: | ---: | --- | --- | --- | --- | --- | --- | ---: | ---: |";

/// The least ratio to the bulk statement each case must reach.
fn ratio_target(backend: Backend, task: Task, writer: bool) -> f64 {
    match (backend, task, writer) {
        (Backend::Postgres, Task::TruncateIp, _) => 0.8,
        (Backend::Postgres, _, _) => 0.9,
        (Backend::MariaDb, _, _) => 0.8,
        (Backend::Sqlite, _, true) => 0.5,
        (Backend::Sqlite, _, false) => 0.9,
    }
}

const WRITER_P99_MS: f64 = 50.0;
const BATCH_P99_MS: f64 = 100.0;
const PEAK_RSS_KIB: u64 = 64 * 1024;
const SCALE_RATIO: f64 = 1.2;

pub fn print_header() {
    println!("\n{HEADER}");
}

fn pair(a: Option<f64>, b: Option<f64>, digits: usize) -> String {
    let f = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.digits$}"));
    format!("{} / {}", f(a), f(b))
}

fn thousands(n: f64) -> String {
    let s = format!("{:.0}", n);
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn row(version: &str, c: &Case) -> String {
    let (a, b) = (&c.bulk, &c.retentiond);
    let sqlite = c.backend == Backend::Sqlite;
    let batch = b.batch_latency();
    let longest = b.longest.as_ref().map_or("-".to_string(), |l| {
        format!(
            "{} ms, {} rows: {} ({})",
            l.ms,
            thousands(l.rows as f64),
            l.step,
            l.steps
        )
    });
    format!(
        "| {version} | {} | {} | {} | {} | {:.2} | {} | {} | {} | {} | {:.0} / {:.0} | {} of {} | {longest} | {} | {:.1} MiB |",
        c.task.name(),
        if c.writer { "every 2 ms" } else { "none" },
        thousands(a.rows_per_second()),
        thousands(b.rows_per_second()),
        c.ratio(),
        if sqlite {
            format!("{:.2}", c.ratio_without_vacuum())
        } else {
            "-".into()
        },
        if sqlite {
            format!(
                "{:.0}% / {:.0}%",
                a.vacuum_share() * 100.0,
                b.vacuum_share() * 100.0
            )
        } else {
            "-".into()
        },
        pair(a.writer.map(|w| w.p99), b.writer.map(|w| w.p99), 1),
        pair(a.writer.map(|w| w.max), b.writer.map(|w| w.max), 1),
        batch.p50,
        batch.p99,
        b.batches_over_100ms(),
        b.batches.len(),
        b.batch_size.map_or("-".into(), |n| thousands(n as f64)),
        b.peak_rss_kib.unwrap_or(0) as f64 / 1024.0,
    )
}

pub fn print_case(version: &str, c: &Case) {
    println!("{}", row(version, c));
}

pub fn print_scale(version: &str, s: &Scale) {
    println!(
        "\n{version} scale: {} expired rows in a table of {} and of {} rows: {:.2} s and {:.2} s, ratio {:.2}; `plan` on the larger {:.2} s",
        thousands(s.expired as f64),
        thousands((s.expired * 2) as f64),
        thousands((s.expired * 20) as f64),
        s.small.seconds,
        s.large.seconds,
        s.ratio(),
        s.plan_large
    );
}

/// Every case again in one table, then each target met or missed.
pub fn print_summary(versions: &[(Backend, String)], cases: &[Case], scales: &[Scale]) {
    let version = |b: Backend| {
        versions
            .iter()
            .find(|(v, _)| *v == b)
            .map_or("?", |(_, v)| v.as_str())
    };
    println!("\nAll cases:\n\n{HEADER}");
    for c in cases {
        println!("{}", row(version(c.backend), c));
    }
    println!("\nTargets:");
    for c in cases {
        let what = format!(
            "{} {} ({} other writer)",
            version(c.backend),
            c.task.name(),
            if c.writer { "with an" } else { "no" }
        );
        let want = ratio_target(c.backend, c.task, c.writer);
        verdict(
            &format!("{what}: ratio ≥ {want}"),
            c.ratio() >= want,
            format!("{:.2}", c.ratio()),
        );
        if c.backend == Backend::Sqlite && c.writer {
            let p99 = c.retentiond.writer.map_or(0.0, |w| w.p99);
            verdict(
                &format!("{what}: writer p99 ≤ {WRITER_P99_MS} ms"),
                p99 <= WRITER_P99_MS,
                format!("{p99:.1} ms"),
            );
        }
        let p99 = c.retentiond.batch_latency().p99;
        verdict(
            &format!("{what}: batch p99 ≤ {BATCH_P99_MS} ms"),
            p99 <= BATCH_P99_MS,
            format!("{p99:.0} ms"),
        );
        let rss = c.retentiond.peak_rss_kib.unwrap_or(0);
        verdict(
            &format!("{what}: peak RSS ≤ 64 MiB"),
            rss <= PEAK_RSS_KIB,
            format!("{:.1} MiB", rss as f64 / 1024.0),
        );
    }
    for s in scales {
        verdict(
            &format!("{} scale ratio ≤ {SCALE_RATIO}", version(s.backend)),
            s.ratio() <= SCALE_RATIO,
            format!("{:.2}", s.ratio()),
        );
    }
}

fn verdict(target: &str, met: bool, figure: String) {
    println!(
        "  {} {target}: {figure}",
        if met { "met   " } else { "MISSED" }
    );
}

fn side_json(s: &Side) -> serde_json::Value {
    let w = s
        .writer
        .map(|w| json!({"p50": w.p50, "p99": w.p99, "max": w.max, "samples": w.samples}));
    let b = s.batch_latency();
    json!({
        "seconds": s.seconds, "vacuum_seconds": s.vacuum_seconds, "rows": s.rows,
        "rows_per_s": s.rows_per_second(), "writer_ms": w,
        "batch_ms": {"p50": b.p50, "p99": b.p99, "count": s.batches.len(), "over_100": s.batches_over_100ms()},
        "longest_batch": s.longest.as_ref().map(|l| json!({"ms": l.ms, "rows": l.rows, "step": l.step, "steps": l.steps})),
        "final_batch_size": s.batch_size, "peak_rss_kib": s.peak_rss_kib,
    })
}

pub fn case_json(c: &Case) -> serde_json::Value {
    json!({
        "backend": c.backend.name(), "task": c.task.name(), "writer": c.writer,
        "bulk": side_json(&c.bulk), "retentiond": side_json(&c.retentiond),
        "ratio": c.ratio(), "ratio_without_vacuum": c.ratio_without_vacuum(),
        "target": ratio_target(c.backend, c.task, c.writer),
    })
}

pub fn scale_json(s: &Scale) -> serde_json::Value {
    json!({
        "backend": s.backend.name(), "expired": s.expired,
        "small": side_json(&s.small), "large": side_json(&s.large),
        "plan_large_seconds": s.plan_large, "ratio": s.ratio(),
    })
}
