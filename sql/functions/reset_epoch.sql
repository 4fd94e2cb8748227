-- The DBA step after restoring this database from a backup, or moving it to another server: gives
-- each topic (or the one named) a new epoch, so that every client resuming from a watermark of the
-- old epoch gets STALE_CURSOR and re-hydrates, instead of silently missing what the restore undid.
-- Then restart the relays (a rolling restart is enough). See docs/sql.md.
-- Relays on the replication feed learn of it at once from a logical decoding message with the prefix
-- 'relay.epoch' (the topic, or '' for every topic), sent at commit; relays on the notify feed at their next poll.
CREATE OR REPLACE FUNCTION relay.reset_epoch(p_topic text DEFAULT NULL)
RETURNS TABLE (topic text, epoch text)
LANGUAGE plpgsql
AS $$
BEGIN
    IF p_topic IS NOT NULL AND NOT EXISTS (SELECT 1 FROM relay.topics t WHERE t.topic = p_topic) THEN
        RAISE EXCEPTION USING ERRCODE = 'RL001', MESSAGE = format('unknown topic %L', p_topic);
    END IF;
    PERFORM pg_logical_emit_message(true, 'relay.epoch', coalesce(p_topic, ''));
    RETURN QUERY
        UPDATE relay.topics t SET epoch = gen_random_uuid()::text
         WHERE p_topic IS NULL OR t.topic = p_topic
        RETURNING t.topic, t.epoch;
END
$$;
