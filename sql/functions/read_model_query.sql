-- The one selection of a topic's read model, as a query to EXECUTE: every document of the topic, live or deleted, as
-- (doc_key, doc_version, org_id, payload, payload_hash, deleted), from relay.documents (relay.topic_documents) or from
-- the table attached with relay.attach (whose rows are live and carry no stored hash). list_documents and
-- read_documents select from it; it is a plain subquery, so the planner moves their conditions into it and each still
-- reads by index. Raises RL001 for an unknown topic.
CREATE OR REPLACE FUNCTION relay.read_model_query(p_topic text)
RETURNS text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_table regclass;
    v_columns jsonb;
BEGIN
    SELECT m.read_model, m.read_model_columns INTO v_table, v_columns FROM relay.topic_read_model(p_topic) m;
    IF v_table IS NULL THEN
        RETURN format('SELECT * FROM relay.topic_documents(%L)', p_topic);
    END IF;
    RETURN format(
        'SELECT m.%2$I::text AS doc_key, m.%3$I::bigint AS doc_version, %4$s AS org_id, m.%5$I::jsonb AS payload,
                NULL::bytea AS payload_hash, false AS deleted
           FROM %1$s m',
        v_table, v_columns ->> 'doc_key', v_columns ->> 'doc_version',
        CASE WHEN v_columns ->> 'org_id' IS NULL THEN 'NULL::text' ELSE format('m.%I::text', v_columns ->> 'org_id') END,
        v_columns ->> 'payload');
END
$$;
