-- A topic's attached read model (table and column names), both NULL when its read model is
-- relay.documents; raises RL001 for an unknown topic. Used by read_model_query.
CREATE OR REPLACE FUNCTION relay.topic_read_model(p_topic text, OUT read_model regclass, OUT read_model_columns jsonb)
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    SELECT t.read_model, t.read_model_columns INTO read_model, read_model_columns FROM relay.topics t WHERE t.topic = p_topic;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'RL001', MESSAGE = format('unknown topic %L', p_topic);
    END IF;
END
$$;
