-- The current state of documents of a topic, by doc_key, from its read model: relay.documents, or
-- the attached table of relay.attach (its payload hashed here). A key with no row comes back with
-- doc_version NULL.
-- The relay reads pointer-mode documents through this when it delivers them.
CREATE OR REPLACE FUNCTION relay.read_documents(p_topic text, p_doc_keys text[])
RETURNS TABLE (doc_key text, doc_version bigint, org_id text, payload jsonb, payload_hash bytea, deleted boolean)
LANGUAGE plpgsql STABLE
AS $$
#variable_conflict use_column
DECLARE
    v_table regclass;
    v_columns jsonb;
BEGIN
    SELECT m.read_model, m.read_model_columns INTO v_table, v_columns FROM relay.topic_read_model(p_topic) m;
    IF v_table IS NULL THEN
        RETURN QUERY
            SELECT k.key, d.doc_version, d.org_id, d.payload, d.payload_hash, coalesce(d.deleted, false)
              FROM unnest(p_doc_keys) AS k(key)
              LEFT JOIN relay.documents d ON d.doc_key = k.key AND d.topic = p_topic;
        RETURN;
    END IF;
    RETURN QUERY EXECUTE format(
        'SELECT k.key, m.%2$I::bigint, %3$s, m.%4$I::jsonb,
                NULL::bytea, false
           FROM unnest($1) AS k(key) LEFT JOIN %1$s m ON m.%5$I = k.key',
        v_table, v_columns ->> 'doc_version',
        CASE WHEN v_columns ->> 'org_id' IS NULL THEN 'NULL::text' ELSE format('m.%I::text', v_columns ->> 'org_id') END,
        v_columns ->> 'payload', v_columns ->> 'doc_key')
    USING p_doc_keys;
END
$$;
