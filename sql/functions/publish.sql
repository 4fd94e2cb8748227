-- Upserts a document, allocates the topic's next watermark and journals one event, all in the
-- caller's transaction. Writers of one topic are serialized from the watermark allocation until
-- commit: publish late in the transaction, and publish to several topics in sorted topic order.
CREATE OR REPLACE FUNCTION relay.publish(
    p_topic text, p_doc_key text, p_payload jsonb, p_org_id text DEFAULT NULL, p_doc_version bigint DEFAULT NULL)
RETURNS TABLE (watermark bigint, doc_version bigint)
LANGUAGE plpgsql
-- The schema owner's rights, so that a writer needs EXECUTE only, never rights on relay's tables (docs/deployment.md).
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_size integer;
    v_topic record;
    v_result record;
    v_version bigint;
BEGIN
    PERFORM relay.check_topic_name(p_topic);
    PERFORM relay.check_document_args(p_doc_key, p_org_id, p_doc_version);
    v_size := relay.check_payload(p_payload);

    -- Safe re-projection: an identical republish returns without touching the topic row.
    IF p_doc_version IS NOT NULL THEN
        SELECT d.doc_version INTO v_version
          FROM relay.documents d
         WHERE d.doc_key = p_doc_key AND d.topic = p_topic AND d.org_id IS NOT DISTINCT FROM p_org_id
           AND d.doc_version = p_doc_version AND NOT d.deleted AND d.payload = p_payload;
        IF FOUND THEN
            watermark := NULL;
            doc_version := v_version;
            RETURN NEXT;
            RETURN;
        END IF;
    END IF;

    SELECT * INTO v_topic FROM relay.allocate_watermarks(p_topic, 1);
    PERFORM relay.refuse_attached(p_topic, v_topic.read_model);
    IF v_topic.require_org AND p_org_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'RL002', MESSAGE = format('topic %L requires an org_id', p_topic);
    END IF;
    IF v_size > v_topic.max_payload_bytes THEN
        RAISE EXCEPTION USING ERRCODE = 'RL005',
            MESSAGE = format('payload of %L is %s bytes; topic %L allows %s', p_doc_key, v_size, p_topic, v_topic.max_payload_bytes);
    END IF;

    v_result := relay.apply_document(p_topic, v_topic.first_watermark, v_topic.payload_mode = 'inline', p_doc_key, p_payload,
                                     p_org_id, p_doc_version);
    IF v_result.applied THEN
        watermark := v_topic.first_watermark;
        IF v_topic.notify THEN
            PERFORM pg_notify('relay_journal', p_topic);
        END IF;
    ELSE
        PERFORM relay.release_watermarks(p_topic, 1);
        watermark := NULL;
    END IF;
    doc_version := v_result.applied_version;
    RETURN NEXT;
END
$$;
REVOKE EXECUTE ON FUNCTION relay.publish(text, text, jsonb, text, bigint) FROM PUBLIC;
