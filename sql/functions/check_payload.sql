-- Validates a payload and returns its size in bytes as PostgreSQL prints it (what max_payload_bytes
-- limits); raises RL002 for a null payload or a number beyond the range of a double (which has no
-- canonical JSON). The write path does not hash: the relay computes payload_hash when it reads a
-- document (docs/sql.md, "Hashing").
DROP FUNCTION IF EXISTS relay.canonical_payload(jsonb);
CREATE OR REPLACE FUNCTION relay.check_payload(p_payload jsonb)
RETURNS integer
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    IF p_payload IS NULL OR jsonb_typeof(p_payload) = 'null' THEN
        RAISE EXCEPTION USING ERRCODE = 'RL002', MESSAGE = 'payload must not be null';
    END IF;
    -- Only a number this large can be out of range; canonical_json decides exactly (and raises RL002).
    IF jsonb_path_exists(p_payload, 'lax $.** ? (@.type() == "number" && @.abs() > 1.797693134862315e308)') THEN
        PERFORM relay.canonical_json(p_payload);
    END IF;
    RETURN octet_length(p_payload::text);
END
$$;
