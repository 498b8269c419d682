-- Which retentiond instance ran the pass (host:pid), so that a failover shows in the
-- audit trail: each event's run_id names its pass, and the pass its instance.
ALTER TABLE retention_runs ADD COLUMN instance VARCHAR(255);
