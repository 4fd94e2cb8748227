-- Validates a payload and returns its size in bytes as PostgreSQL prints it (what max_payload_bytes
-- limits); raises RL002 for a null payload or a number beyond the range of a double (which has no
-- canonical JSON). The write path does not hash: the relay computes payload_hash when it reads a
-- document (docs/sql.md, "Hashing").
DROP FUNCTION IF EXISTS relay.canonical_payload(jsonb);
CREATE OR REPLACE FUNCTION relay.check_payload(p_payload jsonb)
RETURNS integer
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    v_text text;
BEGIN
    IF p_payload IS NULL OR jsonb_typeof(p_payload) = 'null' THEN
        RAISE EXCEPTION USING ERRCODE = 'RL002', MESSAGE = 'payload must not be null';
    END IF;
    v_text := p_payload::text;
    -- jsonb prints numbers in full, so a number beyond a double (above 1.8e308) prints 309 digits or more. The
    -- printed text, needed for the size anyway, is searched for a run of 255 digits (the longest a regular
    -- expression may count): rare, and then canonical_json decides exactly (and raises RL002). This test costs
    -- about 6 µs for 1 KB where a jsonpath over every value cost 15 (docs/sql.md, "Hashing").
    IF v_text ~ '[0-9]{255}' THEN
        PERFORM relay.canonical_json(p_payload);
    END IF;
    RETURN octet_length(v_text);
END
$$;
