-- Erasure requests ("right to be forgotten") and how each was answered.
CREATE TABLE retention_erasure_requests (
    id           BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    subject      VARCHAR(255) NOT NULL,
    reason       TEXT,
    reference    TEXT,
    minor        BIGINT NOT NULL DEFAULT 0,
    received_at  VARCHAR(40) NOT NULL,
    due_at       VARCHAR(40) NOT NULL,
    status       VARCHAR(32) NOT NULL,
    processed_at VARCHAR(40),
    outcome      TEXT
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
