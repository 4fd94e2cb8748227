-- The topic's head watermark: the last one allocated, 0 before the first publish.
CREATE OR REPLACE FUNCTION relay.head(p_topic text)
RETURNS bigint
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_head bigint;
BEGIN
    PERFORM relay.check_topic_name(p_topic);
    SELECT t.head_watermark INTO v_head FROM relay.topics t WHERE t.topic = p_topic;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'RL001', MESSAGE = format('unknown topic %L', p_topic);
    END IF;
    RETURN v_head;
END
$$;
