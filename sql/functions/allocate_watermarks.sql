-- The one place watermarks are allocated (publish, publish_batch, delete and the attach trigger):
-- a single-row UPDATE of the topic, so the topic's writers wait for each other until commit and
-- the sequence is gap-free in commit order (CONTRACT §2). Returns the first of p_count new
-- watermarks and the topic's settings; raises RL001 for an unknown topic.
-- (Dropped first: CREATE OR REPLACE cannot change the columns a function returns.)
DROP FUNCTION IF EXISTS relay.allocate_watermarks(text, integer);
CREATE FUNCTION relay.allocate_watermarks(
    p_topic text, p_count integer,
    OUT first_watermark bigint, OUT payload_mode text, OUT require_org boolean, OUT notify boolean, OUT max_payload_bytes integer,
    OUT read_model regclass)
LANGUAGE plpgsql
AS $$
BEGIN
    UPDATE relay.topics t SET head_watermark = t.head_watermark + p_count
     WHERE t.topic = p_topic
    RETURNING t.head_watermark - p_count + 1, t.payload_mode, t.require_org, t.notify, t.max_payload_bytes, t.read_model
         INTO first_watermark, payload_mode, require_org, notify, max_payload_bytes, read_model;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'RL001', MESSAGE = format('unknown topic %L', p_topic);
    END IF;
END
$$;

-- Gives back the last p_count watermarks this transaction allocated and did not journal (no-ops):
-- the topic row is still ours, nobody else can have seen them, so the sequence stays gap-free.
CREATE OR REPLACE FUNCTION relay.release_watermarks(p_topic text, p_count integer)
RETURNS void
LANGUAGE sql
AS $$
    UPDATE relay.topics t SET head_watermark = t.head_watermark - p_count WHERE t.topic = p_topic;
$$;

-- publish, publish_batch and delete write relay.documents, which a topic fed by relay.attach does not read: its
-- documents are the rows of its table. Such a write is refused rather than journaled as a document the relay
-- would deliver as deleted.
CREATE OR REPLACE FUNCTION relay.refuse_attached(p_topic text, p_read_model regclass)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    IF p_read_model IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'RL002',
            MESSAGE = format('topic %L is fed by table %s (relay.attach): write the table instead', p_topic, p_read_model);
    END IF;
END
$$;

-- The same checks without allocating (delete before it knows there is work, an empty publish_batch): RL001 for an
-- unknown topic, RL002 for an attached one.
CREATE OR REPLACE FUNCTION relay.check_writable_topic(p_topic text)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    v_read_model regclass;
BEGIN
    SELECT t.read_model INTO v_read_model FROM relay.topics t WHERE t.topic = p_topic;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'RL001', MESSAGE = format('unknown topic %L', p_topic);
    END IF;
    PERFORM relay.refuse_attached(p_topic, v_read_model);
END
$$;
