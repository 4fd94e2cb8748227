-- Validates a payload and returns its canonical JSON (RFC 8785) with its SHA-256; raises RL002 for a null payload.
CREATE OR REPLACE FUNCTION relay.canonical_payload(p_payload jsonb, OUT canonical text, OUT payload_hash bytea)
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    IF p_payload IS NULL OR jsonb_typeof(p_payload) = 'null' THEN
        RAISE EXCEPTION USING ERRCODE = 'RL002', MESSAGE = 'payload must not be null';
    END IF;
    canonical := relay.canonical_json(p_payload);
    payload_hash := sha256(convert_to(canonical, 'UTF8'));
END
$$;
