//! Legal holds: a held subject's expired rows survive every pass and are counted;
//! after release they go at the next pass; both ends are in the audit chain.

use crate::support::{Backend, Shop, run_cli, stderr, stdout};

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(out), stderr(out)))
}

async fn a_held_subject_survives_until_released(backend: Backend) {
    let shop = Shop::on(
        backend,
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, placed_at VARCHAR(40) NOT NULL);
         CREATE INDEX orders_placed_at ON orders (placed_at);
         INSERT INTO orders VALUES (1, 7, '2010-01-01'), (2, 7, '2011-01-01'), (3, 7, '2012-01-01'),
                                   (4, 8, '2010-06-01'), (5, 8, '2011-06-01'),
                                   (6, 7, '2099-01-01'), (7, 8, '2099-01-01'), (8, 9, '2099-01-01'),
                                   (9, 9, '2099-01-01'), (10, 9, '2099-01-01'), (11, 9, '2099-01-01');",
    )
    .await;
    shop.write_config(
        "[[policy]]\nname = \"orders\"\ntable = \"orders\"\ntimestamp = \"placed_at\"\nkeep = \"10 years\"\n\
         basis = \"legal_obligation\"\nsubject = \"customer_id\"\naction = \"delete\"\n",
    );
    let cli = |args: &[&str]| run_cli(&shop.config_path, shop.dir.path(), args);
    let added = cli(&[
        "hold",
        "add",
        "--subject",
        "7",
        "--reason",
        "lawsuit 2026-114",
        "--format",
        "json",
    ]);
    assert_eq!(added.status.code(), Some(0), "{}", stderr(&added));
    let id = json(&added)["id"].as_i64().unwrap();
    assert_eq!(
        cli(&[
            "hold",
            "add",
            "--subject",
            "8",
            "--reason",
            "x",
            "--policy",
            "nope"
        ])
        .status
        .code(),
        Some(2)
    );

    let plan = json(&cli(&["plan", "--format", "json"]));
    assert_eq!(
        (
            plan["policies"][0]["rows"].as_u64(),
            plan["policies"][0]["held"].as_u64()
        ),
        (Some(2), Some(3)),
        "{plan}"
    );
    let pass = json(&cli(&["purge", "--format", "json"]));
    assert_eq!(
        (
            pass["policies"][0]["rows"].as_u64(),
            pass["policies"][0]["held"].as_u64()
        ),
        (Some(2), Some(3)),
        "{pass}"
    );
    assert_eq!(
        shop.int("SELECT count(*) FROM orders WHERE customer_id = 7")
            .await,
        4,
        "the held subject's rows survive"
    );
    assert_eq!(
        shop.int("SELECT count(*) FROM orders WHERE customer_id = 8")
            .await,
        1
    );

    let list = json(&cli(&["hold", "list", "--format", "json"]));
    assert_eq!(list[0]["active"], true);
    let released = cli(&[
        "hold",
        "release",
        &id.to_string(),
        "--reason",
        "case closed",
    ]);
    assert_eq!(released.status.code(), Some(0), "{}", stderr(&released));
    assert_eq!(
        cli(&["hold", "release", &id.to_string()]).status.code(),
        Some(2),
        "a hold is released once"
    );
    assert_eq!(
        json(&cli(&["hold", "list", "--format", "json"]))[0]["active"],
        false
    );

    let pass = json(&cli(&["purge", "--format", "json"]));
    assert_eq!(
        (
            pass["policies"][0]["rows"].as_u64(),
            pass["policies"][0]["held"].as_u64()
        ),
        (Some(3), Some(0)),
        "{pass}"
    );
    assert_eq!(
        shop.int("SELECT count(*) FROM orders WHERE customer_id = 7")
            .await,
        1
    );
    let actions = shop
        .rows("SELECT action FROM retention_events WHERE action LIKE 'hold%' ORDER BY id")
        .await;
    assert_eq!(actions, [["hold_added"], ["hold_released"]]);
    assert_eq!(cli(&["audit", "verify"]).status.code(), Some(0));
    let events = shop
        .rows("SELECT detail FROM retention_events WHERE action LIKE 'hold%'")
        .await;
    assert!(
        events.iter().all(|e| !e[0].contains("lawsuit")),
        "reasons stay out of the chain: {events:?}"
    );
}

on_every_backend!(a_held_subject_survives_until_released);
