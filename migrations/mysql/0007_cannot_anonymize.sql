-- Expired rows each policy left with a value its strategy cannot anonymise.
ALTER TABLE retention_policy_runs ADD COLUMN cannot_anonymize BIGINT NOT NULL DEFAULT 0;
