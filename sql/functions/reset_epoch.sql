-- The DBA step after restoring this database from a backup, or moving it to another server: gives
-- each topic (or the one named) a new epoch, so that every client resuming from a watermark of the
-- old epoch gets STALE_CURSOR and re-hydrates, instead of silently missing what the restore undid.
-- Then restart the relays (a rolling restart is enough). See docs/sql.md.
-- Relays on the replication feed learn of it as it commits from a logical decoding message with the prefix
-- 'relay.epochs': a JSON object of each topic's new epoch and head, as the UPDATE left them (it waited for the
-- topics' writers, and later writers wait for it). They take it from the message rather than reading the rows, which
-- the decoded commit may not be visible in yet. The older message 'relay.epoch' (the topic, or '' for every topic) is
-- still sent for relays that read the rows. Relays on the notify feed learn of it at their next poll.
CREATE OR REPLACE FUNCTION relay.reset_epoch(p_topic text DEFAULT NULL)
RETURNS TABLE (topic text, epoch text)
LANGUAGE plpgsql
AS $$
DECLARE
    v_reset jsonb;
BEGIN
    IF p_topic IS NOT NULL THEN
        PERFORM relay.check_topic_name(p_topic);
    END IF;
    IF p_topic IS NOT NULL AND NOT EXISTS (SELECT 1 FROM relay.topics t WHERE t.topic = p_topic) THEN
        RAISE EXCEPTION USING ERRCODE = 'RL001', MESSAGE = format('unknown topic %L', p_topic);
    END IF;
    PERFORM pg_logical_emit_message(true, 'relay.epoch', coalesce(p_topic, ''));
    WITH reset AS (
        UPDATE relay.topics t SET epoch = gen_random_uuid()::text
         WHERE p_topic IS NULL OR t.topic = p_topic
        RETURNING t.topic, t.epoch, t.head_watermark)
    SELECT coalesce(jsonb_object_agg(r.topic, jsonb_build_object('epoch', r.epoch, 'head', r.head_watermark)), '{}')
      INTO v_reset FROM reset r;
    PERFORM pg_logical_emit_message(true, 'relay.epochs', v_reset::text);
    RETURN QUERY SELECT r.key, r.value ->> 'epoch' FROM jsonb_each(v_reset) r;
END
$$;
