-- Marks a document deleted and journals a tombstone at the next watermark; deleting a missing or
-- already deleted document is a no-op returning watermark NULL.
CREATE OR REPLACE FUNCTION relay.delete(p_topic text, p_doc_key text)
RETURNS TABLE (watermark bigint, doc_version bigint)
LANGUAGE plpgsql
-- The schema owner's rights, so that a writer needs EXECUTE only, never rights on relay's tables (docs/deployment.md).
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_existing relay.documents%ROWTYPE;
    v_topic record;
    v_version bigint;
    v_org text;
BEGIN
    PERFORM relay.check_topic_name(p_topic);
    PERFORM relay.check_document_args(p_doc_key, NULL, NULL);
    PERFORM relay.check_writable_topic(p_topic);

    SELECT * INTO v_existing FROM relay.documents d WHERE d.doc_key = p_doc_key;
    IF FOUND AND v_existing.topic <> p_topic THEN
        RAISE EXCEPTION USING ERRCODE = 'RL002',
            MESSAGE = format('doc_key %L belongs to topic %L, not %L', p_doc_key, v_existing.topic, p_topic);
    END IF;
    IF NOT FOUND OR v_existing.deleted THEN
        watermark := NULL;
        doc_version := v_existing.doc_version;
        RETURN NEXT;
        RETURN;
    END IF;

    SELECT * INTO v_topic FROM relay.allocate_watermarks(p_topic, 1);

    UPDATE relay.documents d
       SET deleted = true, doc_version = d.doc_version + 1, payload = NULL, payload_hash = NULL,
           updated_at = now(), watermark = v_topic.first_watermark
     WHERE d.doc_key = p_doc_key AND NOT d.deleted
    RETURNING d.doc_version, d.org_id INTO v_version, v_org;
    IF NOT FOUND THEN
        -- A concurrent delete won: give the allocation back.
        PERFORM relay.release_watermarks(p_topic, 1);
        watermark := NULL;
        doc_version := (SELECT d.doc_version FROM relay.documents d WHERE d.doc_key = p_doc_key);
        RETURN NEXT;
        RETURN;
    END IF;

    INSERT INTO relay.stream_events (topic, watermark, doc_key, doc_version, org_id, tombstone)
    VALUES (p_topic, v_topic.first_watermark, p_doc_key, v_version, v_org, true);
    IF v_topic.notify THEN
        PERFORM pg_notify('relay_journal', p_topic);
    END IF;
    watermark := v_topic.first_watermark;
    doc_version := v_version;
    RETURN NEXT;
END
$$;
REVOKE EXECUTE ON FUNCTION relay.delete(text, text) FROM PUBLIC;
