-- Health of the relay's schema: one row per topic, then one row per replication slot.
--   psql -f sql/ops/health.sql
-- retained_events: journal rows still held (head_watermark - retained_after when nothing is missing).
-- journal_bytes: the topic's share of the journal's table and index size, by row count.
SELECT t.topic,
       t.head_watermark,
       t.retained_after,
       j.retained_events,
       j.oldest_event_at,
       t.retention,
       t.payload_mode,
       t.notify,
       pg_size_pretty((pg_total_relation_size('relay.stream_events')
                       * j.retained_events / greatest(total.events, 1))::bigint) AS journal_bytes
  FROM relay.topics t
 CROSS JOIN LATERAL (
        SELECT count(*) AS retained_events, min(e.inserted_at) AS oldest_event_at
          FROM relay.stream_events e
         WHERE e.topic = t.topic) j
 CROSS JOIN (SELECT count(*) AS events FROM relay.stream_events) total
 ORDER BY t.topic;

-- Replication slots (the relay's are temporary and named relay_*) and the WAL each one holds back.
SELECT s.slot_name,
       s.plugin,
       s.slot_type,
       s.temporary,
       s.active,
       s.confirmed_flush_lsn,
       pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn)) AS retained_wal
  FROM pg_replication_slots s
 ORDER BY s.slot_name;
