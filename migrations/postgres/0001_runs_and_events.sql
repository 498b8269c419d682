-- retentiond's own tables on PostgreSQL. Times are RFC 3339 text in UTC, as on every
-- backend, so the audit trail hashes the same bytes everywhere.

CREATE TABLE retention_runs (
    id            BIGSERIAL PRIMARY KEY,
    triggered_by  TEXT   NOT NULL,
    started_at    TEXT   NOT NULL,
    finished_at   TEXT,
    database_now  TEXT   NOT NULL,
    config_path   TEXT   NOT NULL,
    config_sha256 TEXT   NOT NULL,
    forced        BIGINT NOT NULL DEFAULT 0,
    status        TEXT   NOT NULL,
    rows_purged   BIGINT NOT NULL DEFAULT 0,
    error         TEXT
);

CREATE TABLE retention_policy_runs (
    run_id      BIGINT NOT NULL REFERENCES retention_runs (id),
    policy      TEXT   NOT NULL,
    table_name  TEXT   NOT NULL,
    action      TEXT   NOT NULL,
    cutoff      TEXT,
    status      TEXT   NOT NULL,
    "rows"      BIGINT NOT NULL DEFAULT 0,
    batches     BIGINT NOT NULL DEFAULT 0,
    unreadable  BIGINT NOT NULL DEFAULT 0,
    duration_ms BIGINT NOT NULL DEFAULT 0,
    error       TEXT,
    PRIMARY KEY (run_id, policy)
);

CREATE TABLE retention_events (
    id          BIGINT PRIMARY KEY,
    run_id      BIGINT NOT NULL,
    created_at  TEXT   NOT NULL,
    policy      TEXT   NOT NULL,
    table_name  TEXT   NOT NULL,
    action      TEXT   NOT NULL,
    cutoff      TEXT,
    "rows"      BIGINT NOT NULL,
    children    TEXT   NOT NULL,
    detail      TEXT,
    prev_hash   TEXT   NOT NULL,
    hash        TEXT   NOT NULL UNIQUE
);
CREATE INDEX retention_events_run ON retention_events (run_id);
CREATE INDEX retention_events_policy ON retention_events (policy, created_at);
