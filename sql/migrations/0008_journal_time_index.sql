-- The journal's (inserted_at) index is one the contract requires (CONTRACT §2, for retention by age). An earlier copy of
-- 0007_journal_time.sql dropped it, and every rerun of the migrations then built it again in 0001_schema.sql and dropped
-- it in 0007, holding every publish on every topic for the length of a build over the whole journal. A schema that ran
-- that copy gets it back here, once. On a large journal, build it beforehand without blocking writers, and this does
-- nothing:
--   CREATE INDEX CONCURRENTLY IF NOT EXISTS stream_events_inserted_at_idx ON relay.stream_events (inserted_at);
CREATE INDEX IF NOT EXISTS stream_events_inserted_at_idx ON relay.stream_events (inserted_at);
