-- Health of the relay's schema: one row per topic, then one row per replication slot.
--   psql -f sql/ops/health.sql
-- It reads no more of the journal than one primary-key lookup per topic, so it stays quick on a large journal
-- during an incident: the journal is gap-free, so a topic holds head_watermark - retained_after events.
-- journal_bytes: the topic's share of the journal's table and index size, by retained events.
SELECT t.topic,
       t.head_watermark,
       t.retained_after,
       t.head_watermark - t.retained_after AS retained_events,
       (SELECT e.inserted_at FROM relay.stream_events e
         WHERE e.topic = t.topic AND e.watermark > t.retained_after ORDER BY e.watermark LIMIT 1) AS oldest_event_at,
       t.retention,
       t.payload_mode,
       t.notify,
       pg_size_pretty((pg_total_relation_size('relay.stream_events')::numeric
                       * (t.head_watermark - t.retained_after)
                       / greatest(sum(t.head_watermark - t.retained_after) OVER (), 1))::bigint) AS journal_bytes
  FROM relay.topics t
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
