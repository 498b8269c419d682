//! Files a purged row pointed to, in a real directory tree with the traps a
//! shop's uploads folder can hold (`..`, absolute paths elsewhere, symbolic links
//! out of the folder): every file of every purged row goes, every other file
//! stays, the traps are refused and named by row key. Then the same with an
//! anonymising `remove_file`, an erasure, an export, and objects in a real
//! S3-compatible server on loopback.

use std::collections::BTreeMap;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::s3::S3;
use crate::support::{Backend, Shop, file_digest, stderr, stdout};

/// A directory store beside the database, and no guard on the share purged.
const UPLOADS: &str =
    "[stores.uploads]\nurl = \"file://uploads\"\n\n[limits]\nmax_table_fraction = 1.0\n";

/// The KYC policy on `documents`, its scans in the bucket of the server on `port`.
fn bucket_config(port: u16) -> String {
    format!(
        "{}\n[limits]\nmax_table_fraction = 1.0\n\n[[policy]]\nname = \"kyc\"\ntable = \"documents\"\ntimestamp = \"verified_at\"\nkeep = \"7 years\"\naction = \"delete\"\nfiles = {{ scan_key = \"bucket\" }}\n",
        S3::store("bucket", port, "shop/kyc")
    )
}

const SCHEMA: &str = "
CREATE TABLE documents (id INTEGER PRIMARY KEY, customer_id INTEGER, verified_at VARCHAR(30), scan_path VARCHAR(250), back_path VARCHAR(250));
CREATE TABLE document_pages (id INTEGER PRIMARY KEY, document_id INTEGER, image VARCHAR(250));
";

/// Every regular file and link under `dir`, with its digest (a link: its target).
pub(crate) fn tree(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries {
        let p = e.unwrap().path();
        let meta = std::fs::symlink_metadata(&p).unwrap();
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&p).unwrap();
            out.insert(p, format!("-> {}", target.display()));
        } else if meta.is_dir() {
            out.extend(tree(&p));
        } else {
            let digest = file_digest(&p);
            out.insert(p, digest);
        }
    }
    out
}

fn put(root: &Path, rel: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, format!("scan of {rel}")).unwrap();
}

on_every_backend!(the_files_of_purged_rows_go_and_nothing_else);

async fn the_files_of_purged_rows_go_and_nothing_else(backend: Backend) {
    let shop = Shop::on(backend, SCHEMA).await;
    let uploads = shop.path("uploads");
    let outside = shop.path("outside");
    for rel in [
        "kyc/001.pdf",
        "kyc/001-back.pdf",
        "kyc/008.pdf",
        "kyc/010.pdf",
        "kyc/011.pdf",
        "pages/1-1.jpg",
        "pages/1-2.jpg",
        "pages/10-1.jpg",
        "other/keep.pdf",
    ] {
        put(&uploads, rel);
    }
    put(&outside, "secret.pdf");
    symlink("../../outside/secret.pdf", uploads.join("kyc/link-out.pdf")).unwrap();
    symlink("../outside", uploads.join("evil")).unwrap();
    symlink("010.pdf", uploads.join("kyc/link-in.pdf")).unwrap();
    let abs_outside = outside.join("secret.pdf").display().to_string();
    let abs_inside = uploads.join("kyc/008.pdf").display().to_string();
    shop.exec(&format!(
        "INSERT INTO documents VALUES
         (1, 1, '2015-01-01T00:00:00Z', 'kyc/001.pdf', 'kyc/001-back.pdf'),
         (2, 1, '2015-01-01T00:00:00Z', 'kyc/002.pdf', NULL),
         (3, 2, '2015-01-01T00:00:00Z', '../outside/secret.pdf', NULL),
         (4, 2, '2015-01-01T00:00:00Z', '{abs_outside}', NULL),
         (5, 2, '2015-01-01T00:00:00Z', 'kyc/link-out.pdf', NULL),
         (6, 2, '2015-01-01T00:00:00Z', 'evil/secret.pdf', NULL),
         (7, 3, '2015-01-01T00:00:00Z', 'kyc/link-in.pdf', NULL),
         (8, 3, '2015-01-01T00:00:00Z', '{abs_inside}', NULL),
         (10, 4, '2025-01-01T00:00:00Z', 'kyc/010.pdf', NULL),
         (11, 4, '2025-01-01T00:00:00Z', 'kyc/011.pdf', 'kyc/001.pdf');
         INSERT INTO document_pages VALUES (1, 1, 'pages/1-1.jpg'), (2, 1, 'pages/1-2.jpg'), (3, 10, 'pages/10-1.jpg');"
    ))
    .await;
    shop.write_config(&[
        UPLOADS,
        "
[[policy]]
name = \"kyc\"
table = \"documents\"
timestamp = \"verified_at\"
keep = \"7 years\"
subject = \"customer_id\"
action = \"delete\"
files = { scan_path = \"uploads\", back_path = \"uploads\" }
cascade = [{ table = \"document_pages\", foreign_key = \"document_id\", references = \"id\", files = { image = \"uploads\" } }]
"]
    .concat());
    let snapshot = || {
        let mut t = tree(&uploads);
        t.extend(tree(&outside));
        t
    };
    let before = snapshot();
    let plan: Value =
        serde_json::from_slice(&shop.cli(&["plan", "--format", "json"]).stdout).unwrap();
    assert_eq!(plan["policies"][0]["files"]["queued"], 11, "{plan}");
    assert_eq!(snapshot(), before, "plan touches no file");

    let out = shop.cli(&["purge", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let pass: Value = serde_json::from_slice(&out.stdout).unwrap();
    let files = &pass["policies"][0]["files"];
    assert_eq!(files["queued"], 11, "{pass}");
    assert_eq!(files["removed"], 6, "{pass}");
    assert_eq!(files["already_gone"], 1, "{pass}");
    assert_eq!(files["refused"], 4, "{pass}");
    assert_eq!(files["failed"], 0, "{pass}");

    let mut expected = before.clone();
    for gone in [
        "kyc/001.pdf",
        "kyc/001-back.pdf",
        "kyc/008.pdf",
        "kyc/link-in.pdf",
        "pages/1-1.jpg",
        "pages/1-2.jpg",
    ] {
        assert!(
            expected.remove(&uploads.join(gone)).is_some(),
            "{gone} was there"
        );
    }
    assert_eq!(snapshot(), expected, "only the purged rows' files went");
    assert!(outside.join("secret.pdf").exists());
    assert!(
        uploads.join("kyc/010.pdf").exists(),
        "a link's target stays"
    );

    let detail = shop
        .rows("SELECT detail FROM retention_events WHERE action = 'files_removed' AND table_name = 'documents'")
        .await;
    let detail = &detail[0][0];
    for row in ["row [\"3\"]", "row [\"4\"]", "row [\"5\"]", "row [\"6\"]"] {
        assert!(detail.contains(row), "{row} in {detail}");
    }
    assert!(
        !detail.contains("secret"),
        "a refused path is not written: {detail}"
    );
    assert_eq!(
        shop.int("SELECT count(*) FROM retention_file_outbox").await,
        0
    );
    let again: Value =
        serde_json::from_slice(&shop.cli(&["purge", "--format", "json"]).stdout).unwrap();
    assert!(again["policies"][0].get("files").is_none(), "{again}");
}

#[tokio::test]
async fn remove_file_an_erasure_and_an_export() {
    let shop = Shop::new(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT, avatar TEXT, seen_at TEXT);
         CREATE TABLE documents (id INTEGER PRIMARY KEY, customer_id INTEGER, verified_at TEXT, scan_path TEXT);
         INSERT INTO customers VALUES (1, 'ann@example.com', 'avatars/1.png', '2015-01-01T00:00:00Z'),
           (2, 'bob@example.com', 'avatars/2.png', '2026-11-01T00:00:00Z'), (3, 'cy@example.com', 'avatars/3.png', '2026-11-01T00:00:00Z');
         INSERT INTO documents VALUES (1, 2, '2026-01-01T00:00:00Z', 'kyc/2a.pdf'), (2, 2, '2026-02-01T00:00:00Z', 'kyc/2b.pdf'),
           (3, 3, '2026-01-01T00:00:00Z', 'kyc/3.pdf'), (4, 3, '2026-01-01T00:00:00Z', 'kyc/missing.pdf');",
    )
    .await;
    let uploads = shop.path("uploads");
    for rel in [
        "avatars/1.png",
        "avatars/2.png",
        "avatars/3.png",
        "kyc/2a.pdf",
        "kyc/2b.pdf",
        "kyc/3.pdf",
    ] {
        put(&uploads, rel);
    }
    shop.write_config(
        &[
            UPLOADS,
            "
[[policy]]
name = \"dormant\"
table = \"customers\"
timestamp = \"seen_at\"
keep = \"3 years\"
subject = \"id\"
action = \"anonymize\"
files = { avatar = \"uploads\" }
[policy.anonymize]
email = \"null\"
avatar = \"remove_file\"

[[policy]]
name = \"kyc\"
table = \"documents\"
timestamp = \"verified_at\"
keep = \"7 years\"
subject = \"customer_id\"
action = \"delete\"
files = { scan_path = \"uploads\" }
",
        ]
        .concat(),
    );
    let out = shop.cli(&["purge"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("files     1 queued, 1 removed"),
        "{}",
        stdout(&out)
    );
    assert!(!uploads.join("avatars/1.png").exists());
    assert_eq!(
        shop.rows("SELECT id, email, avatar FROM customers WHERE id = 1")
            .await,
        [["1", "NULL", "NULL"]]
    );

    // An export copies the person's files beside the document.
    let out = shop.cli(&["export", "--subject", "3", "-o", "cy.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(shop.path("cy.json")).unwrap()).unwrap();
    let files = doc["files"].as_array().unwrap();
    assert_eq!(files.len(), 3, "{doc}");
    let dir = shop.path("cy.json.files");
    assert_eq!(
        std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    for f in files {
        match f["path"].as_str().unwrap() {
            "kyc/missing.pdf" => assert!(f["not_included"].is_string(), "{f}"),
            path => {
                let copy = shop.path(f["file"].as_str().unwrap());
                assert_eq!(
                    std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777,
                    0o600
                );
                assert_eq!(file_digest(&copy), f["sha256"].as_str().unwrap());
                assert_eq!(file_digest(&copy), file_digest(&uploads.join(path)));
            }
        }
    }

    // An erasure takes the person's files with the rows, whatever their age.
    let out = shop.cli(&["erase", "--subject", "2", "--now"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for gone in ["avatars/2.png", "kyc/2a.pdf", "kyc/2b.pdf"] {
        assert!(!uploads.join(gone).exists(), "{gone}");
    }
    for kept in ["avatars/3.png", "kyc/3.pdf"] {
        assert!(uploads.join(kept).exists(), "{kept}");
    }
}

#[tokio::test]
async fn objects_in_an_s3_bucket() {
    let s3 = S3::start();
    std::fs::create_dir_all(s3.bucket("shop")).unwrap();
    for key in [
        "kyc/1.pdf",
        "kyc/2.pdf",
        "kyc/3.pdf",
        "other/kyc/1.pdf",
        "outside.pdf",
    ] {
        s3.put("shop", key);
    }
    let shop = Shop::new(
        "CREATE TABLE documents (id INTEGER PRIMARY KEY, verified_at TEXT, scan_key TEXT);
         INSERT INTO documents VALUES (1, '2015-01-01T00:00:00Z', '1.pdf'), (2, '2015-01-01T00:00:00Z', 'gone.pdf'),
           (3, '2015-01-01T00:00:00Z', '../outside.pdf'), (4, '2026-01-01T00:00:00Z', '3.pdf');",
    )
    .await;
    S3::write_credentials(&shop.path("s3.credentials"));
    shop.write_config(&bucket_config(s3.port));
    let out = shop.cli(&["purge", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let pass: Value = serde_json::from_slice(&out.stdout).unwrap();
    let files = &pass["policies"][0]["files"];
    assert_eq!(
        (
            files["removed"].as_u64(),
            files["already_gone"].as_u64(),
            files["refused"].as_u64()
        ),
        (Some(1), Some(1), Some(1)),
        "{pass}"
    );
    assert!(!s3.has("shop", "kyc/1.pdf"));
    for kept in ["kyc/2.pdf", "kyc/3.pdf", "other/kyc/1.pdf", "outside.pdf"] {
        assert!(s3.has("shop", kept), "{kept}");
    }
}

#[tokio::test]
async fn a_store_that_does_not_answer_keeps_its_files_queued() {
    let shop = Shop::new(
        "CREATE TABLE documents (id INTEGER PRIMARY KEY, verified_at TEXT, scan_key TEXT);
         INSERT INTO documents VALUES (1, '2015-01-01T00:00:00Z', '1.pdf'), (2, '2015-01-01T00:00:00Z', '2.pdf');",
    )
    .await;
    S3::write_credentials(&shop.path("s3.credentials"));
    let port = crate::daemon::free_port();
    shop.write_config(&bucket_config(port));
    let out = shop.cli(&["purge", "--format", "json"]);
    let pass: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(pass["policies"][0]["files"]["failed"], 2, "{pass}");
    assert_eq!(shop.int("SELECT count(*) FROM documents").await, 0);
    assert_eq!(
        shop.int("SELECT count(*) FROM retention_file_outbox").await,
        2
    );
    let status = stdout(&shop.cli(&["status"]));
    assert!(
        status.contains("files      2 of purged rows still queued"),
        "{status}"
    );

    // The store is back: the next pass finishes the queue first.
    let s3 = S3::start();
    for key in ["kyc/1.pdf", "kyc/2.pdf"] {
        s3.put("shop", key);
    }
    shop.write_config(&bucket_config(s3.port));
    let out = shop.cli(&["purge", "--format", "json"]);
    let pass: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(pass["leftover_files"]["removed"], 2, "{pass}");
    assert!(!s3.has("shop", "kyc/1.pdf") && !s3.has("shop", "kyc/2.pdf"));
    assert_eq!(
        shop.int("SELECT count(*) FROM retention_file_outbox").await,
        0
    );
}
