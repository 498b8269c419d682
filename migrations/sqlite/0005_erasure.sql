-- Erasure requests ("right to be forgotten") and how each was answered.
CREATE TABLE retention_erasure_requests (
    id           INTEGER PRIMARY KEY,
    subject      TEXT NOT NULL,
    reason       TEXT,
    reference    TEXT,
    minor        INTEGER NOT NULL DEFAULT 0,
    received_at  TEXT NOT NULL,
    due_at       TEXT NOT NULL,          -- received + 30 days
    status       TEXT NOT NULL,          -- open | completed | partially_retained
    processed_at TEXT,
    outcome      TEXT                    -- JSON: per policy, what was erased and what was kept until when
);
