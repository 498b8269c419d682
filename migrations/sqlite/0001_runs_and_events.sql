-- retentiond's own tables on SQLite. Times are RFC 3339 text in UTC.

-- One row per pass (purge, scheduled run, demo).
CREATE TABLE retention_runs (
    id            INTEGER PRIMARY KEY,
    triggered_by  TEXT    NOT NULL,          -- manual | schedule | catch-up | demo
    started_at    TEXT    NOT NULL,          -- host clock
    finished_at   TEXT,
    database_now  TEXT    NOT NULL,          -- the clock every cutoff was computed from
    config_path   TEXT    NOT NULL,
    config_sha256 TEXT    NOT NULL,
    forced        INTEGER NOT NULL DEFAULT 0,
    status        TEXT    NOT NULL,          -- running | ok | failed | refused | interrupted | abandoned
    rows_purged   INTEGER NOT NULL DEFAULT 0,
    error         TEXT
);

-- One row per policy per pass: what `status` and reports read.
CREATE TABLE retention_policy_runs (
    run_id      INTEGER NOT NULL REFERENCES retention_runs (id),
    policy      TEXT    NOT NULL,
    table_name  TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    cutoff      TEXT,
    status      TEXT    NOT NULL,            -- ok | failed | refused | interrupted
    rows        INTEGER NOT NULL DEFAULT 0,
    batches     INTEGER NOT NULL DEFAULT 0,
    unreadable  INTEGER NOT NULL DEFAULT 0,
    duration_ms INTEGER NOT NULL DEFAULT 0,
    error       TEXT,
    PRIMARY KEY (run_id, policy)
);

-- The audit trail: one row per committed batch (and per refusal or failure), written
-- in the same transaction as the rows it counts. Ids are gapless and assigned by
-- retentiond; each row carries the previous row's hash and its own SHA-256.
CREATE TABLE retention_events (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL,
    created_at  TEXT    NOT NULL,
    policy      TEXT    NOT NULL,
    table_name  TEXT    NOT NULL,
    action      TEXT    NOT NULL,            -- delete | anonymize | refused | failed
    cutoff      TEXT,
    rows        INTEGER NOT NULL,
    children    TEXT    NOT NULL,            -- JSON object: rows removed per cascade table
    detail      TEXT,
    prev_hash   TEXT    NOT NULL,
    hash        TEXT    NOT NULL UNIQUE
);
CREATE INDEX retention_events_run ON retention_events (run_id);
CREATE INDEX retention_events_policy ON retention_events (policy, created_at);
