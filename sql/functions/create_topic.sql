-- Whether a topic's current documents include one without an organisation: in relay.documents, or in its attached table.
CREATE OR REPLACE FUNCTION relay.has_global_documents(p_topic text)
RETURNS boolean
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
    v_table regclass;
    v_org_column text;
    v_found boolean;
BEGIN
    SELECT t.read_model, t.read_model_columns->>'org_id' INTO v_table, v_org_column FROM relay.topics t WHERE t.topic = p_topic;
    IF v_table IS NULL THEN
        RETURN EXISTS (SELECT FROM relay.documents d WHERE d.topic = p_topic AND d.org_id IS NULL AND NOT d.deleted);
    END IF;
    IF v_org_column IS NULL THEN
        RETURN true;
    END IF;
    EXECUTE format('SELECT EXISTS (SELECT FROM %s WHERE %I IS NULL)', v_table, v_org_column) INTO v_found;
    RETURN v_found;
END
$$;

-- Creates a topic, or updates the settings of an existing one; idempotent.
CREATE OR REPLACE FUNCTION relay.create_topic(
    p_topic text, p_payload_mode text DEFAULT 'inline', p_retention interval DEFAULT '7 days',
    p_require_org boolean DEFAULT true)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM relay.check_topic_name(p_topic);
    IF p_payload_mode IS NULL OR p_payload_mode NOT IN ('inline', 'pointer') THEN
        RAISE EXCEPTION USING ERRCODE = 'RL002',
            MESSAGE = format('payload mode must be ''inline'' or ''pointer'', got %L', p_payload_mode);
    END IF;
    IF p_retention IS NULL OR p_retention <= interval '0' THEN
        RAISE EXCEPTION USING ERRCODE = 'RL002', MESSAGE = format('retention must be positive, got %L', p_retention);
    END IF;
    IF p_require_org IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'RL002', MESSAGE = 'require_org must not be null';
    END IF;
    -- Take the topic's row first: a publisher holds it until it commits, and the checks below must see what it wrote
    -- (a global document committed while they looked would otherwise be left in a topic that requires an org).
    PERFORM FROM relay.topics t WHERE t.topic = p_topic FOR UPDATE;
    IF p_payload_mode = 'inline' AND EXISTS (
        SELECT FROM relay.topics t WHERE t.topic = p_topic AND t.read_model IS NOT NULL) THEN
        RAISE EXCEPTION USING ERRCODE = 'RL002',
            MESSAGE = format('topic %L has an attached read model and must stay in pointer mode', p_topic);
    END IF;
    -- Requiring an org of a topic that holds global documents would leave them visible to every organisation.
    IF p_require_org AND EXISTS (
        SELECT FROM relay.topics t WHERE t.topic = p_topic AND NOT t.require_org) AND relay.has_global_documents(p_topic) THEN
        RAISE EXCEPTION USING ERRCODE = 'RL002',
            MESSAGE = format('topic %L holds documents without an org, so it cannot require one', p_topic),
            HINT = 'delete them, or give them an organisation, first';
    END IF;

    INSERT INTO relay.topics AS t (topic, payload_mode, retention, require_org)
    VALUES (p_topic, p_payload_mode, p_retention, p_require_org)
    ON CONFLICT (topic) DO UPDATE
        SET payload_mode = excluded.payload_mode, retention = excluded.retention, require_org = excluded.require_org
        WHERE (t.payload_mode, t.retention, t.require_org)
              IS DISTINCT FROM (excluded.payload_mode, excluded.retention, excluded.require_org);
END
$$;
