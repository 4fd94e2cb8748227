-- Raises RL002 unless p_topic is a valid topic name (CONTRACT §2).
CREATE OR REPLACE FUNCTION relay.check_topic_name(p_topic text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    IF p_topic IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'RL002', MESSAGE = 'topic must not be null';
    END IF;
    IF length(p_topic) > 128 OR p_topic !~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$' THEN
        RAISE EXCEPTION USING ERRCODE = 'RL002',
            MESSAGE = format('invalid topic name %L', left(p_topic, 140)),
            HINT = 'Topic names match ^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$ and are at most 128 characters.';
    END IF;
END
$$;
