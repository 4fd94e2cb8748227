-- Row trigger installed by relay.attach: journals an attached table's inserts, updates and deletes
-- in pointer mode. TG_ARGV: topic, doc_key column, org column (or ''), version column, payload column.
CREATE OR REPLACE FUNCTION relay.journal_read_model_change()
RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    v_topic constant text := TG_ARGV[0];
    v_new jsonb;
    v_old jsonb;
    v_key text;
    v_old_key text;
    v_org text;
    v_version bigint;
    v_old_version bigint;
    v_payload jsonb;
    v_size integer;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        v_old := to_jsonb(OLD);
        v_old_key := v_old ->> TG_ARGV[1];
        v_old_version := (v_old ->> TG_ARGV[3])::bigint;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        v_new := to_jsonb(NEW);
        v_key := v_new ->> TG_ARGV[1];
        v_org := CASE WHEN TG_ARGV[2] <> '' THEN v_new ->> TG_ARGV[2] END;
        v_version := (v_new ->> TG_ARGV[3])::bigint;
        v_payload := v_new -> TG_ARGV[4];
        PERFORM relay.check_document_args(v_key, v_org, v_version);
        IF v_version IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'RL002', MESSAGE = format('%s.%s must not be null', TG_TABLE_NAME, TG_ARGV[3]);
        END IF;
        v_size := relay.check_payload(v_payload);
    END IF;

    IF TG_OP = 'UPDATE' AND v_key = v_old_key THEN
        IF (CASE WHEN TG_ARGV[2] <> '' THEN v_old ->> TG_ARGV[2] END) IS DISTINCT FROM v_org THEN
            RAISE EXCEPTION USING ERRCODE = 'RL002',
                MESSAGE = format('doc_key %L belongs to another organisation; a document cannot move', v_key);
        END IF;
        IF v_version < v_old_version THEN
            RAISE EXCEPTION USING ERRCODE = 'RL003',
                MESSAGE = format('doc_version regression for %L: %s is older than the current %s', v_key, v_version, v_old_version);
        END IF;
        IF v_version = v_old_version THEN
            IF v_payload IS DISTINCT FROM v_old -> TG_ARGV[4] THEN
                RAISE EXCEPTION USING ERRCODE = 'RL004',
                    MESSAGE = format('doc_version conflict for %L: version %s was changed without a new version', v_key, v_version);
            END IF;
            RETURN NULL;
        END IF;
    END IF;

    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND v_key <> v_old_key) THEN
        PERFORM relay.journal_pointer_event(v_topic, v_old_key,
            v_old_version + 1, CASE WHEN TG_ARGV[2] <> '' THEN v_old ->> TG_ARGV[2] END, true, 0);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM relay.journal_pointer_event(v_topic, v_key, v_version, v_org, false, v_size);
    END IF;
    RETURN NULL;
END
$$;
