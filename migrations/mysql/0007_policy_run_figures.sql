-- Expired rows each policy left with a value its strategy cannot anonymise.
ALTER TABLE retention_policy_runs ADD COLUMN cannot_anonymize BIGINT NOT NULL DEFAULT 0;
-- Where adaptive batch sizes settled, and the rate (rows per second, 0: not measured) they followed.
ALTER TABLE retention_policy_runs ADD COLUMN batch_size BIGINT NOT NULL DEFAULT 0;
ALTER TABLE retention_policy_runs ADD COLUMN rows_per_second DOUBLE NOT NULL DEFAULT 0;
