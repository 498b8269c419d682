-- Files a purged row pointed to, queued in the transaction that purged the row and
-- removed from their store after it committed; a row left here (a crash, a store
-- that did not answer) is finished by the next pass.
CREATE TABLE retention_file_outbox (
    id         BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    run_id     BIGINT NOT NULL,
    policy     VARCHAR(255) NOT NULL,
    table_name VARCHAR(255) NOT NULL,
    row_key    TEXT NOT NULL,
    store      VARCHAR(255) NOT NULL,
    path       TEXT NOT NULL,
    queued_at  VARCHAR(40) NOT NULL,
    attempts   BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    KEY retention_file_outbox_policy (policy, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- An answered erasure passed on to each processor: queued with the answer, posted
-- until the processor accepts it, with the same idempotency key every time.
CREATE TABLE retention_deliveries (
    id               BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    request_id       BIGINT NOT NULL,
    processor        VARCHAR(255) NOT NULL,
    idempotency_key  VARCHAR(64) NOT NULL UNIQUE,
    state            VARCHAR(16) NOT NULL,
    payload          TEXT,
    attempts         BIGINT NOT NULL DEFAULT 0,
    queued_at        VARCHAR(40) NOT NULL,
    next_attempt_at  VARCHAR(40),
    first_failed_at  VARCHAR(40),
    last_error       TEXT,
    delivered_at     VARCHAR(40),
    UNIQUE KEY retention_deliveries_once (request_id, processor)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
