//! `retentiond demo`: a sample shop on SQLite, purged with the config, then its
//! audit trail verified.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::anyhow;
use chrono::Utc;
use serde_json::json;

use super::pass::policy_table;
use super::{EXIT_FAILURE, EXIT_USAGE, Failure, Format, Outcome, exit_for, print_json};
use crate::backend::{Backend, UrlSource};
use crate::config;
use crate::db::{self, Access, Db};
use crate::demo::{self, DemoError};
use crate::engine::{self, PassOptions, Trigger};

impl From<DemoError> for Failure {
    fn from(e: DemoError) -> Failure {
        let code = match e {
            DemoError::NotADemo(_) | DemoError::Uploads(demo::UploadsError::NotADemo(_)) => {
                EXIT_USAGE
            }
            _ => EXIT_FAILURE,
        };
        Failure {
            code,
            error: e.into(),
        }
    }
}

pub(super) async fn run_demo(
    explicit: Option<&Path>,
    db_path: Option<&Path>,
    format: Format,
) -> Outcome {
    let started = Instant::now();
    let config_path = match explicit {
        Some(p) => p.to_path_buf(),
        None => PathBuf::from("retention.toml"),
    };
    let created_key = demo::ensure_key(&config_path)?;
    let tokens = demo::ensure_tokens(&config_path)?;
    let mut config = config::load(&config_path)?;
    let path = match db_path {
        Some(p) => p.to_path_buf(),
        None => {
            if Backend::of_url(&config.database.url) != Some(Backend::Sqlite) {
                return Err(Failure {
                    code: EXIT_USAGE,
                    error: anyhow!(
                        "the demo runs on SQLite, but {} names another database; pass --db demo.db",
                        config.path.display()
                    ),
                });
            }
            db::sqlite_path(&config.database.url, &config.database.base_dir)?
        }
    };
    let uploads = demo::folder_for(&config, "kyc_documents");
    let uploads = uploads.map(|dir| std::path::absolute(&dir).unwrap_or(dir));
    let data = demo::create(&path, uploads.as_deref(), Utc::now()).await?;
    let generated = started.elapsed();
    let absolute = std::path::absolute(&path).unwrap_or(path.clone());
    config.database.url = format!("sqlite://{}", absolute.display());
    config.database.source = UrlSource::Config;

    let mut db = Db::open(&config.database, Access::ReadWrite).await?;
    let report = engine::run_pass(&mut db, &config, &PassOptions::new(Trigger::Demo)).await?;
    let (verifier, broken) = db.verify_chain().await?;
    db.close().await?;
    let elapsed = started.elapsed();

    match format {
        Format::Json => print_json(&json!({
            "database": absolute.display().to_string(),
            "hmac_key_created": created_key.map(|p| p.display().to_string()),
            "tables": data.tables.iter().map(|(t, n)| json!({"table": t, "rows": n})).collect::<Vec<_>>(),
            "rows_created": data.total(),
            "uploads": data.uploads.as_ref().map(|(dir, n)| json!({"directory": dir.display().to_string(), "files": n})),
            "pass": report,
            "audit": {"ok": broken.is_none(), "verified": verifier.verified, "head": verifier.head()},
            "http": config.http.as_ref().map(|h| json!({"api": format!("{}/v1", h.base_url()), "review": format!("{}/review", h.base_url()), "tokens_created": tokens.iter().map(|(n, r, t)| json!({"name": n, "role": r.as_str(), "token": t})).collect::<Vec<_>>()})),
            "generate_ms": generated.as_millis() as u64,
            "total_ms": elapsed.as_millis() as u64,
        })),
        Format::Text => {
            if let Some(k) = &created_key {
                println!(
                    "created a demo HMAC key at {} (for the `hash` strategy)",
                    k.display()
                );
            }
            println!(
                "created a sample shop at {}: {} rows over 12 years in {:.1} s",
                absolute.display(),
                data.total(),
                generated.as_secs_f64()
            );
            for (t, n) in &data.tables {
                println!("  {t:<20} {n:>8} rows");
            }
            if let Some((dir, n)) = &data.uploads {
                println!("  {n} KYC scans (stand-ins) in {}", dir.display());
            }
            println!();
            println!(
                "purged it with {} (pass #{}, {}):",
                config.path.display(),
                report.run_id.unwrap_or(0),
                report.status.as_str()
            );
            print!("{}", policy_table(&report));
            println!("total: {} rows purged", report.rows());
            println!();
            match &broken {
                None => println!("audit trail intact: {} events verified", verifier.verified),
                Some(b) => println!("audit trail broken: {b}"),
            }
            println!("done in {:.1} s", elapsed.as_secs_f64());
            println!();
            println!(
                "next: retentiond status; retentiond plan (0 rows left to purge); retentiond audit verify"
            );
            if let Some(h) = &config.http {
                print_http(h, &tokens);
            }
        }
    }
    Ok(exit_for(report.status).max(if broken.is_some() { EXIT_FAILURE } else { 0 }))
}

/// Where `retentiond run` serves the API and the review page, and the tokens
/// the demo made (shown this once).
fn print_http(h: &crate::config::HttpSettings, tokens: &demo::DemoTokens) {
    println!();
    println!(
        "with `retentiond run`: the request API at {url}/v1, the review page at {url}/review (docs/api.md)",
        url = h.base_url()
    );
    for (name, role, token) in tokens {
        println!("  token {name} (role {role}): {token}");
    }
    if tokens.is_empty() {
        println!(
            "  tokens: retentiond token list --file {}",
            h.tokens_file.display()
        );
    } else {
        println!(
            "  (shown once; only their hashes are kept in {})",
            h.tokens_file.display()
        );
    }
}
