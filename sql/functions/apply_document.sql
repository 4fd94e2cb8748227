-- The per-document step of publish and publish_batch, run while the caller holds the topic row:
-- upserts the read model and journals one event at p_watermark, or reports a no-op, or raises
-- RL002 (doc_key owned by another topic or organisation), RL003 (version regression) or
-- RL004 (same version, other payload, compared as jsonb). No hash is stored: the relay computes
-- payload_hash when it reads the document.
DROP FUNCTION IF EXISTS relay.apply_document(text, bigint, boolean, text, jsonb, bytea, text, bigint);
CREATE OR REPLACE FUNCTION relay.apply_document(
    p_topic text, p_watermark bigint, p_journal_payload boolean,
    p_doc_key text, p_payload jsonb, p_org_id text, p_doc_version bigint,
    OUT applied boolean, OUT applied_version bigint)
LANGUAGE plpgsql
AS $$
DECLARE
    v_existing relay.documents%ROWTYPE;
BEGIN
    INSERT INTO relay.documents AS d (doc_key, topic, org_id, doc_version, payload, deleted, updated_at, watermark)
    VALUES (p_doc_key, p_topic, p_org_id, coalesce(p_doc_version, 1), p_payload, false, now(), p_watermark)
    ON CONFLICT (doc_key) DO UPDATE
        SET doc_version  = coalesce(p_doc_version, d.doc_version + 1),
            payload      = excluded.payload,
            payload_hash = NULL,
            deleted      = false,
            updated_at   = excluded.updated_at,
            watermark    = excluded.watermark
        WHERE d.topic = excluded.topic
          AND d.org_id IS NOT DISTINCT FROM excluded.org_id
          AND (p_doc_version IS NULL OR p_doc_version > d.doc_version)
    RETURNING d.doc_version INTO applied_version;

    IF FOUND THEN
        INSERT INTO relay.stream_events (topic, watermark, doc_key, doc_version, org_id, payload)
        VALUES (p_topic, p_watermark, p_doc_key, applied_version, p_org_id, CASE WHEN p_journal_payload THEN p_payload END);
        applied := true;
        RETURN;
    END IF;

    -- The upsert's guard refused: say why.
    SELECT * INTO v_existing FROM relay.documents d WHERE d.doc_key = p_doc_key;
    IF v_existing.topic <> p_topic THEN
        RAISE EXCEPTION USING ERRCODE = 'RL002',
            MESSAGE = format('doc_key %L belongs to topic %L, not %L', p_doc_key, v_existing.topic, p_topic);
    END IF;
    IF v_existing.org_id IS DISTINCT FROM p_org_id THEN
        RAISE EXCEPTION USING ERRCODE = 'RL002',
            MESSAGE = format('doc_key %L belongs to another organisation; a document cannot move', p_doc_key);
    END IF;
    IF p_doc_version < v_existing.doc_version THEN
        RAISE EXCEPTION USING ERRCODE = 'RL003',
            MESSAGE = format('doc_version regression for %L: %s is older than the current %s',
                             p_doc_key, p_doc_version, v_existing.doc_version);
    END IF;
    IF v_existing.deleted THEN
        RAISE EXCEPTION USING ERRCODE = 'RL004',
            MESSAGE = format('doc_version conflict for %L: version %s is its deletion', p_doc_key, p_doc_version),
            HINT = 'publish it again at a later version, or without one (the next is taken)';
    END IF;
    IF v_existing.payload IS DISTINCT FROM p_payload THEN
        RAISE EXCEPTION USING ERRCODE = 'RL004',
            MESSAGE = format('doc_version conflict for %L: version %s was published with another payload',
                             p_doc_key, p_doc_version);
    END IF;
    applied := false;
    applied_version := v_existing.doc_version;
END
$$;
