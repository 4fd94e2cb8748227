-- A topic's rows of relay.documents as its read model: (doc_key, doc_version, org_id, payload, payload_hash, deleted),
-- live and deleted. A plain SQL function, so a query that selects from it gets it inlined and keeps an index plan
-- (read_documents' cached plan); relay.read_model_query names it for topics without an attached table.
CREATE OR REPLACE FUNCTION relay.topic_documents(p_topic text)
RETURNS TABLE (doc_key text, doc_version bigint, org_id text, payload jsonb, payload_hash bytea, deleted boolean)
LANGUAGE sql STABLE
AS $$
    SELECT d.doc_key, d.doc_version, d.org_id, d.payload, d.payload_hash, d.deleted
      FROM relay.documents d
     WHERE d.topic = p_topic
$$;
