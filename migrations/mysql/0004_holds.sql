-- Legal holds: while active, no row of the subject is purged or erased.
CREATE TABLE retention_holds (
    id          BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    subject     VARCHAR(255) NOT NULL,
    reason      TEXT NOT NULL,
    policy      VARCHAR(255),
    created_at  VARCHAR(40) NOT NULL,
    until       VARCHAR(40),
    released_at VARCHAR(40),
    released_reason TEXT,
    INDEX retention_holds_subject (subject)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
