-- Raises RL002 for a bad doc_key, org_id or doc_version (CONTRACT §2); shared by every writer.
CREATE OR REPLACE FUNCTION relay.check_document_args(p_doc_key text, p_org_id text, p_doc_version bigint)
RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    IF p_doc_key IS NULL OR p_doc_key = '' THEN
        RAISE EXCEPTION USING ERRCODE = 'RL002', MESSAGE = 'doc_key must not be null or empty';
    END IF;
    IF octet_length(p_doc_key) > 512 THEN
        RAISE EXCEPTION USING ERRCODE = 'RL002',
            MESSAGE = format('doc_key is %s bytes long; the limit is 512', octet_length(p_doc_key));
    END IF;
    IF p_org_id = '' OR length(p_org_id) > 256 THEN
        RAISE EXCEPTION USING ERRCODE = 'RL002', MESSAGE = 'org_id must be null or 1 to 256 characters';
    END IF;
    IF p_doc_version < 1 THEN
        RAISE EXCEPTION USING ERRCODE = 'RL002',
            MESSAGE = format('doc_version must be positive, got %s', p_doc_version);
    END IF;
    -- Versions go on growing (the next publish, a deletion's tombstone at version + 1): near bigint's end they overflowed
    -- with a raw error, and such a document could never be deleted. 2^62 leaves room, and fits nanoseconds since 1970.
    IF p_doc_version > 4611686018427387904 THEN
        RAISE EXCEPTION USING ERRCODE = 'RL002',
            MESSAGE = format('doc_version must be at most 4611686018427387904 (2^62), got %s', p_doc_version);
    END IF;
END
$$;
