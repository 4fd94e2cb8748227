-- A page of a topic's live documents that an organisation may see (its own and global ones), by
-- doc_key after p_after, from the topic's read model (relay.documents or the attached table).
-- Read it in the same snapshot as relay.topics.head_watermark to know where to subscribe from.
CREATE OR REPLACE FUNCTION relay.list_documents(p_topic text, p_org_id text, p_after text, p_limit integer)
RETURNS TABLE (doc_key text, doc_version bigint, org_id text, payload jsonb, payload_hash bytea)
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
            SELECT d.doc_key, d.doc_version, d.org_id, d.payload, d.payload_hash
              FROM relay.documents d
             WHERE d.topic = p_topic AND NOT d.deleted AND (d.org_id IS NULL OR d.org_id = p_org_id)
               AND d.doc_key > coalesce(p_after, '')
             ORDER BY d.doc_key
             LIMIT p_limit;
        RETURN;
    END IF;
    RETURN QUERY EXECUTE format(
        'SELECT m.%2$I::text, m.%3$I::bigint, %4$s, m.%5$I::jsonb,
                NULL::bytea
           FROM %1$s m
          WHERE m.%2$I > coalesce($2, '''') %6$s
          ORDER BY m.%2$I
          LIMIT $3',
        v_table, v_columns ->> 'doc_key', v_columns ->> 'doc_version',
        CASE WHEN v_columns ->> 'org_id' IS NULL THEN 'NULL::text' ELSE format('m.%I::text', v_columns ->> 'org_id') END,
        v_columns ->> 'payload',
        CASE WHEN v_columns ->> 'org_id' IS NULL THEN '' ELSE format('AND (m.%1$I IS NULL OR m.%1$I = $1)', v_columns ->> 'org_id') END)
    USING p_org_id, p_after, p_limit;
END
$$;
