-- A page of a topic's live documents that an organisation may see (its own and global ones), by
-- doc_key after p_after, from the topic's read model (relay.read_model_query).
-- Read it in the same snapshot as relay.topics.head_watermark to know where to subscribe from.
CREATE OR REPLACE FUNCTION relay.list_documents(p_topic text, p_org_id text, p_after text, p_limit integer)
RETURNS TABLE (doc_key text, doc_version bigint, org_id text, payload jsonb, payload_hash bytea)
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    RETURN QUERY EXECUTE format(
        'SELECT m.doc_key, m.doc_version, m.org_id, m.payload, m.payload_hash
           FROM (%s) m
          WHERE NOT m.deleted AND (m.org_id IS NULL OR m.org_id = $1) AND m.doc_key > coalesce($2, '''')
          ORDER BY m.doc_key
          LIMIT $3',
        relay.read_model_query(p_topic))
    USING p_org_id, p_after, p_limit;
END
$$;
