-- The pass lease on a MariaDB Galera cluster, where GET_LOCK and row locks hold on
-- one node only: row 2 names the instance running a pass and when its lease
-- expires. Taking, renewing and fencing it are writes, which Galera orders
-- cluster-wide.
ALTER TABLE retention_lease
    ADD COLUMN holder VARCHAR(255) NULL,
    ADD COLUMN expires_at DATETIME(6) NULL;
INSERT INTO retention_lease (id, name) VALUES (2, 'pass');
