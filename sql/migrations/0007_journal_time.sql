-- A journal row's inserted_at is the moment it was written, not its transaction's start (now()). Retention prunes the
-- prefix up to the newest row older than the retention, and the feed's lag is measured from inserted_at: a transaction
-- open for longer than p_older_than (or the retention) before it published made its row, committed a moment ago, look
-- old, so relay.prune deleted it and every row below it, and clients resuming there re-hydrated. A writer holds its
-- topic's row from the allocation to its commit, so the time of the insert is within that transaction's commit.
ALTER TABLE relay.stream_events ALTER COLUMN inserted_at SET DEFAULT clock_timestamp();
