//! The benchmark's figures, printed as Markdown rows beside the bulk statement's,
//! and held to the targets of docs/performance.md: each target is printed as met
//! or missed with the figure that decides it.

use serde_json::json;

use crate::Scale;
use crate::cases::{Case, Contender};
use crate::measure::{Latency, Side};
use crate::setup::Backend;

const HEADER: &str = "| backend | layout | task | other writer | who | rows/s | × bulk | × bulk without VACUUM | writer ms p50 / p99 / max | batch ms p50 / p99 / max | batches over 100 ms | longest batch | final batch size | peak RSS |\n\
| --- | --- | --- | --- | --- | ---: | ---: | ---: | --- | --- | --- | --- | ---: | ---: |";

/// The least ratio to the bulk statement `auto` must reach, everywhere.
const RATIO: f64 = 1.0;
/// On MariaDB, retentiond's delete against pt-archiver's.
const OVER_PT_ARCHIVER: f64 = 3.0;
const WRITER_P99_MS: f64 = 50.0;
const WRITER_MAX_MS: f64 = 100.0;
const BATCH_P99_MS: f64 = 100.0;
const BATCH_MAX_MS: f64 = 250.0;
const PEAK_RSS_KIB: u64 = 64 * 1024;
const SCALE_RATIO: f64 = 1.2;

pub fn print_header() {
    println!("\n{HEADER}");
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

fn three(l: Option<Latency>, digits: usize) -> String {
    l.map_or("-".into(), |l| {
        format!(
            "{:.digits$} / {:.digits$} / {:.digits$}",
            l.p50, l.p99, l.max
        )
    })
}

fn who(c: Contender, side: &Side) -> String {
    match (c, &side.walk) {
        (Contender::Walk("auto"), Some(w)) => format!("retentiond auto → {w}"),
        _ => c.name(),
    }
}

fn row(version: &str, c: &Case, who: &str, s: &Side) -> String {
    let retentiond = !s.batches.is_empty();
    let longest = s.longest.as_ref().map_or("-".to_string(), |l| {
        format!(
            "{} ms, {} rows: {} ({})",
            l.ms,
            thousands(l.rows as f64),
            l.step,
            l.steps
        )
    });
    format!(
        "| {version} | {} | {} | {} | {who} | {} | {:.2} | {} | {} | {} | {} | {longest} | {} | {} |",
        c.layout.name(),
        c.task.name(),
        if c.writer { "every 2 ms" } else { "none" },
        thousands(s.rows_per_second()),
        c.ratio(s),
        if c.backend == Backend::Sqlite {
            format!("{:.2}", c.ratio_without_vacuum(s))
        } else {
            "-".into()
        },
        three(s.writer, 1),
        if retentiond {
            three(Some(s.batch_latency()), 0)
        } else {
            "-".into()
        },
        if retentiond {
            format!("{} of {}", s.batches_over_100ms(), s.batches.len())
        } else {
            "-".into()
        },
        s.batch_size.map_or("-".into(), |n| thousands(n as f64)),
        s.peak_rss_kib
            .map_or("-".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0)),
    )
}

pub fn print_case(version: &str, c: &Case) {
    println!("{}", row(version, c, "bulk statement", &c.bulk));
    for (contender, side) in &c.sides {
        println!("{}", row(version, c, &who(*contender, side), side));
    }
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
        print_case(version(c.backend), c);
    }
    println!("\nTargets (retentiond with walk = \"auto\"; peak RSS for every walk):");
    for c in cases {
        let what = format!(
            "{} {} {} ({} other writer)",
            version(c.backend),
            c.layout.name(),
            c.task.name(),
            if c.writer { "with an" } else { "no" }
        );
        case_verdicts(&what, c);
    }
    for s in scales {
        verdict(
            &format!("{} scale ratio ≤ {SCALE_RATIO}", version(s.backend)),
            s.ratio() <= SCALE_RATIO,
            format!("{:.2}", s.ratio()),
        );
    }
}

fn case_verdicts(what: &str, c: &Case) {
    let peak = c.sides.iter().filter_map(|(_, s)| s.peak_rss_kib).max();
    if let Some(kib) = peak {
        verdict(
            &format!("{what}: peak RSS ≤ 64 MiB, every walk"),
            kib <= PEAK_RSS_KIB,
            format!("{:.1} MiB", kib as f64 / 1024.0),
        );
    }
    let Some(auto) = c.side(Contender::Walk("auto")) else {
        return;
    };
    let ratio = c.ratio(auto);
    verdict(
        &format!("{what}: ≥ {RATIO}× the bulk statement"),
        ratio >= RATIO,
        format!("{ratio:.2}"),
    );
    if let Some(pt) = c.side(Contender::PtArchiver) {
        let over = auto.rows_per_second() / pt.rows_per_second();
        verdict(
            &format!("{what}: ≥ {OVER_PT_ARCHIVER}× pt-archiver"),
            over >= OVER_PT_ARCHIVER,
            format!("{over:.2}"),
        );
    }
    if let Some(w) = auto.writer {
        verdict(
            &format!("{what}: writer p99 ≤ {WRITER_P99_MS} ms"),
            w.p99 <= WRITER_P99_MS,
            format!("{:.1} ms", w.p99),
        );
        verdict(
            &format!("{what}: no insert over {WRITER_MAX_MS} ms"),
            w.max <= WRITER_MAX_MS,
            format!("max {:.1} ms", w.max),
        );
    }
    let b = auto.batch_latency();
    verdict(
        &format!("{what}: batch p99 ≤ {BATCH_P99_MS} ms"),
        b.p99 <= BATCH_P99_MS,
        format!("{:.0} ms", b.p99),
    );
    verdict(
        &format!("{what}: batch max ≤ {BATCH_MAX_MS} ms"),
        b.max <= BATCH_MAX_MS,
        format!("{:.0} ms", b.max),
    );
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
        "batch_ms": {"p50": b.p50, "p99": b.p99, "max": b.max, "count": s.batches.len(), "over_100": s.batches_over_100ms()},
        "longest_batch": s.longest.as_ref().map(|l| json!({"ms": l.ms, "rows": l.rows, "step": l.step, "steps": l.steps})),
        "final_batch_size": s.batch_size, "peak_rss_kib": s.peak_rss_kib,
    })
}

pub fn case_json(c: &Case) -> serde_json::Value {
    let sides: Vec<_> = c
        .sides
        .iter()
        .map(|(who, s)| {
            let mut v = side_json(s);
            v["who"] = json!(who.name());
            v["walk"] = json!(s.walk);
            v["ratio"] = json!(c.ratio(s));
            v["ratio_without_vacuum"] = json!(c.ratio_without_vacuum(s));
            v
        })
        .collect();
    json!({
        "backend": c.backend.name(), "layout": c.layout.name(), "task": c.task.name(),
        "writer": c.writer, "bulk": side_json(&c.bulk), "sides": sides,
    })
}

pub fn scale_json(s: &Scale) -> serde_json::Value {
    json!({
        "backend": s.backend.name(), "expired": s.expired,
        "small": side_json(&s.small), "large": side_json(&s.large),
        "plan_large_seconds": s.plan_large, "ratio": s.ratio(),
    })
}
