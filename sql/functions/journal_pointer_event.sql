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
BEGIN
    SELECT * INTO v_topic FROM relay.allocate_watermarks(p_topic, 1);
    IF v_topic.require_org AND p_org_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'RL002', MESSAGE = format('topic %L requires an org_id', p_topic);
    END IF;
    IF p_payload_bytes > v_topic.max_payload_bytes THEN
        RAISE EXCEPTION USING ERRCODE = 'RL005',
            MESSAGE = format('payload of %L is %s bytes; topic %L allows %s', p_doc_key, p_payload_bytes, p_topic, v_topic.max_payload_bytes);
    END IF;
    INSERT INTO relay.stream_events (topic, watermark, doc_key, doc_version, org_id, tombstone)
    VALUES (p_topic, v_topic.first_watermark, p_doc_key, p_doc_version, p_org_id, p_tombstone);
    IF v_topic.notify THEN
        PERFORM pg_notify('relay_journal', p_topic);
    END IF;
    RETURN v_topic.first_watermark;
END
$$;
