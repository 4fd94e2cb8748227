-- Allocates the topic's next watermark and journals one pointer-mode event of an attached read
-- model: a document version (p_payload_hash set) or a tombstone (p_payload_hash NULL).
CREATE OR REPLACE FUNCTION relay.journal_pointer_event(
    p_topic text, p_doc_key text, p_doc_version bigint, p_org_id text, p_payload_hash bytea, p_payload_bytes integer)
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    v_watermark bigint;
    v_require_org boolean;
    v_notify boolean;
    v_max_bytes integer;
BEGIN
    UPDATE relay.topics t SET head_watermark = t.head_watermark + 1
     WHERE t.topic = p_topic
    RETURNING t.head_watermark, t.require_org, t.notify, t.max_payload_bytes
         INTO v_watermark, v_require_org, v_notify, v_max_bytes;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'RL001', MESSAGE = format('unknown topic %L', p_topic);
    END IF;
    IF v_require_org AND p_org_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'RL002', MESSAGE = format('topic %L requires an org_id', p_topic);
    END IF;
    IF p_payload_bytes > v_max_bytes THEN
        RAISE EXCEPTION USING ERRCODE = 'RL005',
            MESSAGE = format('payload of %L is %s bytes; topic %L allows %s', p_doc_key, p_payload_bytes, p_topic, v_max_bytes);
    END IF;
    INSERT INTO relay.stream_events (topic, watermark, doc_key, doc_version, org_id, payload_hash, tombstone)
    VALUES (p_topic, v_watermark, p_doc_key, p_doc_version, p_org_id, p_payload_hash, p_payload_hash IS NULL);
    IF v_notify THEN
        PERFORM pg_notify('relay_journal', p_topic);
    END IF;
    RETURN v_watermark;
END
$$;
