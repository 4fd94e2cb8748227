-- Allocates the topic's next watermark and journals one pointer-mode event of an attached read
-- model: a document version, or a tombstone. p_payload_bytes is checked against the topic's limit.
DROP FUNCTION IF EXISTS relay.journal_pointer_event(text, text, bigint, text, bytea, integer);
CREATE OR REPLACE FUNCTION relay.journal_pointer_event(
    p_topic text, p_doc_key text, p_doc_version bigint, p_org_id text, p_tombstone boolean, p_payload_bytes integer)
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    v_topic record;
    v_last bigint;
BEGIN
    SELECT * INTO v_topic FROM relay.allocate_watermarks(p_topic, 1);
    IF v_topic.require_org AND p_org_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'RL002', MESSAGE = format('topic %L requires an org_id', p_topic);
    END IF;
    IF p_payload_bytes > v_topic.max_payload_bytes THEN
        RAISE EXCEPTION USING ERRCODE = 'RL005',
            MESSAGE = format('payload of %L is %s bytes; topic %L allows %s', p_doc_key, p_payload_bytes, p_topic, v_topic.max_payload_bytes);
    END IF;
    -- A key deleted and inserted again must come back at a higher version than the last event of it that the new
    -- row's readers were sent (its organisation's, or a global one), or clients holding that tombstone would ignore
    -- it. Another organisation's clients never held the key, so it may start again there. Checked under the topic's
    -- lock, so every earlier event of the key is visible.
    IF NOT p_tombstone THEN
        SELECT e.doc_version INTO v_last FROM relay.stream_events e
         WHERE e.topic = p_topic AND e.doc_key = p_doc_key
           AND (e.org_id IS NOT DISTINCT FROM p_org_id OR e.org_id IS NULL OR p_org_id IS NULL)
         ORDER BY e.watermark DESC LIMIT 1;
        IF p_doc_version <= v_last THEN
            RAISE EXCEPTION USING ERRCODE = 'RL003',
                MESSAGE = format('doc_version regression for %L: %s is not newer than version %s already journaled for it; give a deleted key a higher version when it comes back',
                                 p_doc_key, p_doc_version, v_last);
        END IF;
    END IF;
    INSERT INTO relay.stream_events (topic, watermark, doc_key, doc_version, org_id, tombstone)
    VALUES (p_topic, v_topic.first_watermark, p_doc_key, p_doc_version, p_org_id, p_tombstone);
    IF v_topic.notify THEN
        PERFORM pg_notify('relay_journal', p_topic);
    END IF;
    RETURN v_topic.first_watermark;
END
$$;
