//! PostgreSQL range partitions: whole expired months are dropped in one short step
//! each, a month holding a row that must stay and the month straddling the cutoff are
//! purged row by row, and no row inside its period is touched.

use std::time::Instant;

use chrono::{TimeZone, Utc};

use crate::support::{Backend, Shop};

#[tokio::test]
async fn expired_monthly_partitions_are_dropped_the_rest_row_by_row() {
    let mut schema = String::from(
        "CREATE TABLE payments (payment_id BIGINT NOT NULL, payment_date TIMESTAMPTZ NOT NULL,
                                status VARCHAR(20) NOT NULL, amount INTEGER,
                                PRIMARY KEY (payment_date, payment_id)) PARTITION BY RANGE (payment_date);\n",
    );
    for year in 2023..2028 {
        for month in 1..=12 {
            let (ny, nm) = if month == 12 {
                (year + 1, 1)
            } else {
                (year, month + 1)
            };
            schema.push_str(&format!(
                "CREATE TABLE payments_{year}_{month:02} PARTITION OF payments FOR VALUES FROM ('{year}-{month:02}-01 00:00:00+00') TO ('{ny}-{nm:02}-01 00:00:00+00');\n"
            ));
        }
    }
    // A payment every 26 minutes for five years; one of them is disputed and must stay.
    schema.push_str(
        "INSERT INTO payments SELECT i, timestamptz '2023-01-01 00:00:00+00' + i * interval '26 minutes',
                CASE WHEN i = 7000 THEN 'disputed' ELSE 'settled' END, 100
         FROM generate_series(0, 101100) AS i WHERE timestamptz '2023-01-01 00:00:00+00' + i * interval '26 minutes' < '2028-01-01 00:00:00+00';",
    );
    let shop = Shop::on(Backend::Postgres, &schema).await;
    let config = shop.config(
        "[limits]\nmax_table_fraction = 1.0\n\n[[policy]]\nname = \"payments\"\ntable = \"payments\"\n\
         key = [\"payment_date\", \"payment_id\"]\ntimestamp = \"payment_date\"\nkeep = \"3 years\"\naction = \"delete\"\n\
         filter = { status = \"settled\" }\npartitions = \"drop\"\n",
    );
    let now = Utc.with_ymd_and_hms(2028, 1, 15, 12, 0, 0).unwrap();
    let cutoff = "'2025-01-15 12:00:00+00'";
    let total = shop.int("SELECT count(*) FROM payments").await;
    let young = shop
        .rows(&format!(
            "SELECT payment_id FROM payments WHERE payment_date >= {cutoff} ORDER BY 1"
        ))
        .await;
    let expired = shop
        .int(&format!(
            "SELECT count(*) FROM payments WHERE payment_date < {cutoff}"
        ))
        .await;
    let in_dropped_months = shop.int("SELECT count(*) FROM payments WHERE payment_date < '2025-01-01' AND payment_date NOT BETWEEN '2023-05-01' AND '2023-06-01'").await;

    let started = Instant::now();
    let report = shop.pass_at(&config, now).await;
    let took = started.elapsed();
    let p = &report.policies[0];
    assert_eq!(p.status.as_str(), "ok", "{:?}", p.error);
    // 24 months lie wholly before the cutoff; May 2023 holds the disputed payment.
    assert_eq!(p.partitions_dropped, 23);
    assert_eq!(p.rows as i64, expired - 1);
    assert_eq!(
        shop.int("SELECT count(*) FROM pg_inherits WHERE inhparent = 'payments'::regclass")
            .await,
        60 - 23
    );
    for kept in ["payments_2023_05", "payments_2025_01"] {
        assert_eq!(
            shop.int(&format!(
                "SELECT count(*) FROM pg_inherits WHERE inhrelid = '{kept}'::regclass"
            ))
            .await,
            1,
            "{kept} is still attached"
        );
    }
    let young_after = shop
        .rows(&format!(
            "SELECT payment_id FROM payments WHERE payment_date >= {cutoff} ORDER BY 1"
        ))
        .await;
    assert_eq!(young_after, young, "no row inside its period was touched");
    assert_eq!(
        shop.int(&format!(
            "SELECT count(*) FROM payments WHERE payment_date < {cutoff}"
        ))
        .await,
        1,
        "only the disputed payment is left"
    );
    assert_eq!(
        shop.int("SELECT count(*) FROM payments WHERE status = 'disputed'")
            .await,
        1
    );

    let gone = total - shop.int("SELECT count(*) FROM payments").await;
    let counted: i64 = shop
        .ints("SELECT \"rows\" FROM retention_events")
        .await
        .iter()
        .sum();
    assert_eq!(gone, counted, "rows gone == rows the audit trail counts");
    let dropped_rows: i64 = shop
        .ints(
            "SELECT \"rows\" FROM retention_events WHERE detail LIKE 'partition % dropped whole%'",
        )
        .await
        .iter()
        .sum();
    assert_eq!(dropped_rows, in_dropped_months);
    eprintln!(
        "partitions: {} dropped holding {dropped_rows} rows, {} rows purged row by row, whole pass {:.2} s",
        p.partitions_dropped,
        p.rows as i64 - dropped_rows,
        took.as_secs_f64()
    );
}

#[tokio::test]
async fn dropping_partitions_needs_a_range_partitioned_postgres_table() {
    let shop = Shop::on(
        Backend::Postgres,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, at TIMESTAMPTZ NOT NULL);",
    )
    .await;
    shop.write_config("[[policy]]\nname = \"t\"\ntable = \"t\"\ntimestamp = \"at\"\nkeep = \"1 year\"\naction = \"delete\"\npartitions = \"drop\"\n");
    let out = shop.cli(&["check"]);
    assert_eq!(out.status.code(), Some(2));
    let text = crate::support::stdout(&out);
    assert!(text.contains("is not partitioned"), "{text}");
}
