-- Legal holds: while active, no row of the subject is purged or erased.
CREATE TABLE retention_holds (
    id          INTEGER PRIMARY KEY,
    subject     TEXT NOT NULL,
    reason      TEXT NOT NULL,
    policy      TEXT,              -- NULL: every policy with a subject column
    created_at  TEXT NOT NULL,
    until       TEXT,              -- NULL: until released
    released_at TEXT,
    released_reason TEXT
);
CREATE INDEX retention_holds_subject ON retention_holds (subject);
