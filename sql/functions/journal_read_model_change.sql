-- Row trigger installed by relay.attach: journals an attached table's inserts, updates and deletes
-- in pointer mode. TG_ARGV: topic, doc_key column, org column (or ''), version column, payload column.
CREATE OR REPLACE FUNCTION relay.journal_read_model_change()
RETURNS trigger
LANGUAGE plpgsql
-- The writer's rights, not the schema owner's (unlike publish): to_jsonb(NEW) runs the code of the row's column types
-- (a cast to json of the table owner's own type), which must never run with the owner's rights.
AS $$
DECLARE
    v_topic constant text := TG_ARGV[0];
    v_new jsonb;
    v_old jsonb;
    v_key text;
    v_old_key text;
    v_org text;
    v_old_org text;
    v_version bigint;
    v_old_version bigint;
    v_payload jsonb;
    v_size integer;
    v_last bigint;
    v_problem text;
    v_row jsonb;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        v_old := to_jsonb(OLD);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        v_new := to_jsonb(NEW);
    END IF;
    -- A column renamed or dropped since relay.attach: the org column would read as null (a document of every
    -- organisation), the others as null or a raw error; refuse the write until the table is attached again.
    v_row := coalesce(v_new, v_old);
    IF NOT (v_row ? TG_ARGV[1] AND v_row ? TG_ARGV[3] AND v_row ? TG_ARGV[4] AND (TG_ARGV[2] = '' OR v_row ? TG_ARGV[2])) THEN
        RAISE EXCEPTION USING ERRCODE = 'RL002',
            MESSAGE = format('table %I.%I has no column %L, which relay.attach was given for topic %L', TG_TABLE_SCHEMA, TG_TABLE_NAME,
                             (SELECT c FROM unnest(ARRAY[TG_ARGV[1], TG_ARGV[2], TG_ARGV[3], TG_ARGV[4]]) c WHERE c <> '' AND NOT v_row ? c LIMIT 1), v_topic),
            HINT = 'attach the table again with its current column names (relay.attach)';
    END IF;
    IF TG_OP <> 'INSERT' THEN
        v_old_key := v_old ->> TG_ARGV[1];
        v_old_version := (v_old ->> TG_ARGV[3])::bigint;
        v_old_org := CASE WHEN TG_ARGV[2] <> '' THEN v_old ->> TG_ARGV[2] END;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        v_key := v_new ->> TG_ARGV[1];
        v_org := CASE WHEN TG_ARGV[2] <> '' THEN v_new ->> TG_ARGV[2] END;
        v_version := (v_new ->> TG_ARGV[3])::bigint;
        v_payload := v_new -> TG_ARGV[4];
        PERFORM relay.check_document_args(v_key, v_org, v_version);
        IF v_version IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'RL002', MESSAGE = format('%I.%I.%I must not be null', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_ARGV[3]);
        END IF;
        v_size := relay.check_payload(v_payload);
    END IF;

    -- relay.attach refuses a character(n) doc_key or org column, but one can be altered into it after: its values are
    -- then journaled with their padding and read back without it, so the owner would be sent nothing and a delete
    -- would never reach the clients holding the row. A value ending in a space is the only one where that differs:
    -- only then is the column looked up, and the write refused rather than journaled wrongly.
    IF right(v_key, 1) = ' ' OR right(v_old_key, 1) = ' ' THEN
        v_problem := relay.attached_column_problem(TG_RELID, TG_ARGV[1]);
    END IF;
    IF v_problem IS NULL AND (right(v_org, 1) = ' ' OR right(v_old_org, 1) = ' ') THEN
        v_problem := relay.attached_column_problem(TG_RELID, TG_ARGV[2]);
    END IF;
    IF v_problem IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'RL002', MESSAGE = v_problem,
            HINT = 'the column was changed after relay.attach; relay audit lists every attached column to put right';
    END IF;

    IF TG_OP = 'UPDATE' AND v_key = v_old_key THEN
        IF v_old_org IS DISTINCT FROM v_org THEN
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

    -- A key that comes into the table (inserted, or renamed to) must come back at a higher version than the last event
    -- of it that the row's readers were sent (its organisation's, or a global one), or clients holding that tombstone
    -- would ignore it. Another organisation's clients never held the key, so it may start again there. A row of this
    -- key deleted by a transaction still running holds the unique index until it ends, so its tombstone is visible here.
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND v_key <> v_old_key) THEN
        SELECT e.doc_version INTO v_last FROM relay.stream_events e
         WHERE e.topic = v_topic AND e.doc_key = v_key
           AND (e.org_id IS NOT DISTINCT FROM v_org OR e.org_id IS NULL OR v_org IS NULL)
         ORDER BY e.watermark DESC LIMIT 1;
        IF v_version <= v_last THEN
            RAISE EXCEPTION USING ERRCODE = 'RL003',
                MESSAGE = format('doc_version regression for %L: %s is not newer than version %s already journaled for it; give a deleted key a higher version when it comes back',
                                 v_key, v_version, v_last);
        END IF;
    END IF;

    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND v_key <> v_old_key) THEN
        PERFORM relay.journal_pointer_event(v_topic, v_old_key,
            v_old_version + 1, v_old_org, true, 0);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM relay.journal_pointer_event(v_topic, v_key, v_version, v_org, false, v_size);
    END IF;
    RETURN NULL;
END
$$;
