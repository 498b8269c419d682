-- The row every batch locks (SELECT ... FOR UPDATE) inside its transaction, so that
-- two instances never write batches at the same time even if one lost its
-- GET_LOCK connection. MySQL has no transaction-scoped named lock.
CREATE TABLE retention_lease (
    id     INT NOT NULL PRIMARY KEY,
    name   VARCHAR(64) NOT NULL
) ENGINE = InnoDB;
INSERT INTO retention_lease (id, name) VALUES (1, 'batches');
