-- Files a purged row pointed to, queued in the transaction that purged the row and
-- removed from their store after it committed; a row left here (a crash, a store
-- that did not answer) is finished by the next pass.
CREATE TABLE retention_file_outbox (
    id         INTEGER PRIMARY KEY,
    run_id     INTEGER NOT NULL,
    policy     TEXT NOT NULL,
    table_name TEXT NOT NULL,
    row_key    TEXT NOT NULL,          -- JSON array: the key of the row that pointed to the file
    store      TEXT NOT NULL,
    path       TEXT NOT NULL,
    queued_at  TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX retention_file_outbox_policy ON retention_file_outbox (policy, id);

-- An answered erasure passed on to each processor: queued with the answer, posted
-- until the processor accepts it, with the same idempotency key every time.
CREATE TABLE retention_deliveries (
    id               INTEGER PRIMARY KEY,
    request_id       INTEGER NOT NULL,
    processor        TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL UNIQUE,
    state            TEXT NOT NULL,    -- held | due | delivered
    payload          TEXT,             -- the JSON body; cleared once delivered
    attempts         INTEGER NOT NULL DEFAULT 0,
    queued_at        TEXT NOT NULL,
    next_attempt_at  TEXT,
    first_failed_at  TEXT,
    last_error       TEXT,
    delivered_at     TEXT,
    UNIQUE (request_id, processor)
);
