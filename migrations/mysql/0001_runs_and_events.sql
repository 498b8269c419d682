-- retentiond's own tables on MySQL / MariaDB. Times are RFC 3339 text in UTC, as on
-- every backend, so the audit trail hashes the same bytes everywhere.

CREATE TABLE retention_runs (
    id            BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    triggered_by  VARCHAR(32)  NOT NULL,
    started_at    VARCHAR(40)  NOT NULL,
    finished_at   VARCHAR(40),
    database_now  VARCHAR(40)  NOT NULL,
    config_path   TEXT         NOT NULL,
    config_sha256 CHAR(64)     NOT NULL,
    forced        BIGINT       NOT NULL DEFAULT 0,
    status        VARCHAR(32)  NOT NULL,
    rows_purged   BIGINT       NOT NULL DEFAULT 0,
    error         TEXT
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE retention_policy_runs (
    run_id      BIGINT       NOT NULL,
    policy      VARCHAR(255) NOT NULL,
    table_name  VARCHAR(255) NOT NULL,
    action      VARCHAR(32)  NOT NULL,
    cutoff      VARCHAR(40),
    status      VARCHAR(32)  NOT NULL,
    `rows`      BIGINT       NOT NULL DEFAULT 0,
    batches     BIGINT       NOT NULL DEFAULT 0,
    unreadable  BIGINT       NOT NULL DEFAULT 0,
    duration_ms BIGINT       NOT NULL DEFAULT 0,
    error       TEXT,
    PRIMARY KEY (run_id, policy)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE retention_events (
    id          BIGINT       NOT NULL PRIMARY KEY,
    run_id      BIGINT       NOT NULL,
    created_at  VARCHAR(40)  NOT NULL,
    policy      VARCHAR(255) NOT NULL,
    table_name  VARCHAR(255) NOT NULL,
    action      VARCHAR(32)  NOT NULL,
    cutoff      VARCHAR(40),
    `rows`      BIGINT       NOT NULL,
    children    TEXT         NOT NULL,
    detail      TEXT,
    prev_hash   CHAR(64)     NOT NULL,
    hash        CHAR(64)     NOT NULL UNIQUE,
    INDEX retention_events_run (run_id),
    INDEX retention_events_policy (policy, created_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
