-- Access and portability requests share the erasure requests' register: the same
-- 30-day due date, status and counts. Earlier rows are all erasures.
ALTER TABLE retention_erasure_requests ADD COLUMN kind TEXT NOT NULL DEFAULT 'erasure';
