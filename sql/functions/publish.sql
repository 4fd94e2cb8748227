-- Upserts a document, allocates the topic's next watermark and journals one event, all in the
-- caller's transaction. Writers of one topic are serialized from the watermark allocation until
-- commit: publish late in the transaction, and publish to several topics in sorted topic order.
CREATE OR REPLACE FUNCTION relay.publish(
    p_topic text, p_doc_key text, p_payload jsonb, p_org_id text DEFAULT NULL, p_doc_version bigint DEFAULT NULL)
RETURNS TABLE (watermark bigint, doc_version bigint)
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
DECLARE
    v_canonical text;
    v_hash bytea;
    v_watermark bigint;
    v_mode text;
    v_require_org boolean;
    v_notify boolean;
    v_max_bytes integer;
    v_applied boolean;
    v_version bigint;
BEGIN
    PERFORM relay.check_topic_name(p_topic);
    PERFORM relay.check_document_args(p_doc_key, p_org_id, p_doc_version);
    -- Hash before taking the topic row so that other writers of the topic do not wait for it.
    SELECT c.canonical, c.payload_hash INTO v_canonical, v_hash FROM relay.canonical_payload(p_payload) c;

    -- Safe re-projection: an identical republish returns without touching the topic row.
    IF p_doc_version IS NOT NULL THEN
        SELECT d.doc_version INTO v_version
          FROM relay.documents d
         WHERE d.doc_key = p_doc_key AND d.topic = p_topic AND d.org_id IS NOT DISTINCT FROM p_org_id
           AND d.doc_version = p_doc_version AND d.payload_hash = v_hash;
        IF FOUND THEN
            watermark := NULL;
            doc_version := v_version;
            RETURN NEXT;
            RETURN;
        END IF;
    END IF;

    UPDATE relay.topics t SET head_watermark = t.head_watermark + 1
     WHERE t.topic = p_topic
    RETURNING t.head_watermark, t.payload_mode, t.require_org, t.notify, t.max_payload_bytes
         INTO v_watermark, v_mode, v_require_org, v_notify, v_max_bytes;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'RL001', MESSAGE = format('unknown topic %L', p_topic);
    END IF;
    IF v_require_org AND p_org_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'RL002', MESSAGE = format('topic %L requires an org_id', p_topic);
    END IF;
    IF octet_length(v_canonical) > v_max_bytes THEN
        RAISE EXCEPTION USING ERRCODE = 'RL005',
            MESSAGE = format('payload of %L is %s bytes; topic %L allows %s',
                             p_doc_key, octet_length(v_canonical), p_topic, v_max_bytes);
    END IF;

    SELECT a.applied, a.applied_version INTO v_applied, v_version
      FROM relay.apply_document(p_topic, v_watermark, v_mode = 'inline', p_doc_key, p_payload, v_hash,
                                p_org_id, p_doc_version) a;
    IF v_applied THEN
        watermark := v_watermark;
        IF v_notify THEN
            PERFORM pg_notify('relay_journal', p_topic);
        END IF;
    ELSE
        -- Give the allocation back: nobody else can have seen it, so the sequence stays gap-free.
        UPDATE relay.topics t SET head_watermark = t.head_watermark - 1 WHERE t.topic = p_topic;
        watermark := NULL;
    END IF;
    doc_version := v_version;
    RETURN NEXT;
END
$$;
