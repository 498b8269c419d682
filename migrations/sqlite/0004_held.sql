-- Expired rows each policy kept in a pass because of a legal hold.
ALTER TABLE retention_policy_runs ADD COLUMN held BIGINT NOT NULL DEFAULT 0;
