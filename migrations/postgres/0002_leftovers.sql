-- What still holds purged values after a pass (dead tuples, WAL, backups), in words.
ALTER TABLE retention_runs ADD COLUMN leftovers TEXT;
