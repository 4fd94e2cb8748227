-- The current state of documents of a topic, by doc_key, from its read model (relay.read_model_query):
-- relay.documents, or the attached table of relay.attach (its payload hashed by the relay). A key with
-- no row comes back with doc_version NULL.
-- The relay reads pointer-mode documents through this when it delivers them, so a topic without an
-- attached table is read by a static query over relay.topic_documents: its plan is cached per session,
-- where EXECUTE would plan every read.
CREATE OR REPLACE FUNCTION relay.read_documents(p_topic text, p_doc_keys text[])
RETURNS TABLE (doc_key text, doc_version bigint, org_id text, payload jsonb, payload_hash bytea, deleted boolean)
LANGUAGE plpgsql STABLE
AS $$
#variable_conflict use_column
BEGIN
    IF (SELECT m.read_model FROM relay.topic_read_model(p_topic) m) IS NULL THEN
        RETURN QUERY
            SELECT k.key, m.doc_version, m.org_id, m.payload, m.payload_hash, coalesce(m.deleted, false)
              FROM unnest(p_doc_keys) AS k(key) LEFT JOIN relay.topic_documents(p_topic) m ON m.doc_key = k.key;
        RETURN;
    END IF;
    RETURN QUERY EXECUTE format(
        'SELECT k.key, m.doc_version, m.org_id, m.payload, m.payload_hash, coalesce(m.deleted, false)
           FROM unnest($1) AS k(key) LEFT JOIN (%s) m ON m.doc_key = k.key',
        relay.read_model_query(p_topic))
    USING p_doc_keys;
END
$$;
