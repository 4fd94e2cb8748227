-- Installs the journaling trigger on an application-owned read-model table: its inserts, updates
-- and deletes are journaled in pointer mode without calling publish. A table feeds one topic and a topic has one
-- table; attaching the same table to the same topic again replaces the trigger (new column names). A plain table
-- only, not partitioned. Payload column type json or jsonb; versions must grow.
-- TRUNCATE of the table is refused (relay.refuse_truncate): it would not be journaled.
CREATE OR REPLACE FUNCTION relay.attach(
    p_topic text, p_table regclass, p_doc_key_column text DEFAULT 'doc_key', p_org_column text DEFAULT 'org_id',
    p_version_column text DEFAULT 'doc_version', p_payload_column text DEFAULT 'payload')
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    v_require_org boolean;
    v_column text;
    v_type regtype;
    v_found boolean;
    v_current regclass;
    v_other text;
    v_kind "char";
    v_partition boolean;
BEGIN
    PERFORM relay.check_topic_name(p_topic);
    IF p_table IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'RL002', MESSAGE = 'p_table must not be null';
    END IF;
    SELECT t.require_org, t.read_model INTO v_require_org, v_current FROM relay.topics t WHERE t.topic = p_topic;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'RL001', MESSAGE = format('unknown topic %L', p_topic);
    END IF;
    IF p_org_column IS NULL AND v_require_org THEN
        RAISE EXCEPTION USING ERRCODE = 'RL002', MESSAGE = format('topic %L requires an org column', p_topic);
    END IF;

    -- A partition can be truncated, detached or dropped without a row trigger firing (the parent's TRUNCATE trigger
    -- is not the partitions'): its documents would go without a tombstone and clients would keep them for good.
    SELECT c.relkind, c.relispartition INTO v_kind, v_partition FROM pg_class c WHERE c.oid = p_table;
    IF v_kind = 'p' OR v_partition THEN
        RAISE EXCEPTION USING ERRCODE = 'RL002',
            MESSAGE = format('table %s is partitioned (or a partition): its partitions can be truncated, detached or dropped without journaling a tombstone', p_table),
            HINT = 'attach a plain table';
    ELSIF v_kind <> 'r' THEN
        RAISE EXCEPTION USING ERRCODE = 'RL002', MESSAGE = format('%s is not a table', p_table);
    END IF;
    -- One table per topic and one topic per table: a second wiring left the first one's trigger or read model in
    -- place, so live rows went out as deletions and the first topic stopped hearing of its table.
    SELECT t.topic INTO v_other FROM relay.topics t WHERE t.read_model = p_table AND t.topic <> p_topic ORDER BY t.topic LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'RL002', MESSAGE = format('table %s already feeds topic %L; a table feeds one topic', p_table, v_other),
            HINT = 'detach it from that topic first (docs/sql.md, "Detaching a table")';
    END IF;
    IF v_current IS NOT NULL AND v_current <> p_table THEN
        RAISE EXCEPTION USING ERRCODE = 'RL002', MESSAGE = format('topic %L is fed by table %s already; a topic has one table', p_topic, v_current),
            HINT = 'attach the table to a topic of its own, or detach the other first (docs/sql.md, "Detaching a table")';
    END IF;
    -- Documents published to the topic stay in the journal, and replaying clients would keep them while hydration,
    -- which reads the table, never lists them; nothing could delete them once the topic is fed by the table.
    IF v_current IS NULL AND EXISTS (SELECT FROM relay.documents d WHERE d.topic = p_topic AND NOT d.deleted) THEN
        RAISE EXCEPTION USING ERRCODE = 'RL002',
            MESSAGE = format('topic %L holds documents written with relay.publish; a table cannot take it over', p_topic),
            HINT = 'attach the table to a new topic, or relay.delete those documents first (their deletions reach clients)';
    END IF;

    FOREACH v_column IN ARRAY ARRAY[p_doc_key_column, p_org_column, p_version_column, p_payload_column] LOOP
        CONTINUE WHEN v_column IS NULL AND p_org_column IS NULL;
        SELECT a.atttypid::regtype INTO v_type FROM pg_attribute a
         WHERE a.attrelid = p_table AND a.attname = v_column AND a.attnum > 0 AND NOT a.attisdropped;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'RL002', MESSAGE = format('table %s has no column %L', p_table, v_column);
        END IF;
        IF v_column = p_version_column AND v_type NOT IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype) THEN
            RAISE EXCEPTION USING ERRCODE = 'RL002',
                MESSAGE = format('version column %s.%I must be smallint, integer or bigint, not %s', p_table, v_column, v_type);
        END IF;
        IF v_column = p_payload_column AND v_type NOT IN ('json'::regtype, 'jsonb'::regtype) THEN
            RAISE EXCEPTION USING ERRCODE = 'RL002',
                MESSAGE = format('payload column %s.%I must be json or jsonb, not %s', p_table, v_column, v_type);
        END IF;
        IF (v_column = p_doc_key_column OR v_column = p_org_column) AND relay.attached_column_problem(p_table, v_column) IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'RL002', MESSAGE = relay.attached_column_problem(p_table, v_column);
        END IF;
    END LOOP;

    -- A doc_key names one document of the topic: the relay reads a row back by its key alone.
    IF NOT EXISTS (
        SELECT FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
         WHERE i.indrelid = p_table AND i.indisunique AND i.indnatts = 1 AND i.indpred IS NULL AND i.indexprs IS NULL
           AND a.attname = p_doc_key_column) THEN
        RAISE EXCEPTION USING ERRCODE = 'RL002',
            MESSAGE = format('table %s has no unique index on %I alone', p_table, p_doc_key_column),
            HINT = format('make %I the primary key, or add a unique index on it: a doc_key names one document of the topic', p_doc_key_column);
    END IF;

    -- The relay reads rows by the key as text (relay.read_model_query): an index on a key of another type is not used,
    -- and every pointer delivery and hydration page would read the whole table.
    SELECT coalesce(nullif(ty.typbasetype, 0), ty.oid)::regtype INTO v_type
      FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid
     WHERE a.attrelid = p_table AND a.attname = p_doc_key_column;
    IF v_type NOT IN ('text'::regtype, 'character varying'::regtype) AND NOT EXISTS (
        SELECT FROM pg_index i
         WHERE i.indrelid = p_table AND i.indisunique AND i.indnatts = 1 AND i.indpred IS NULL
           AND pg_get_indexdef(i.indexrelid) LIKE '%((' || quote_ident(p_doc_key_column) || ')::text)%') THEN
        RAISE WARNING USING
            MESSAGE = format('the relay reads %s by %I as text, which no index of this %s column serves: each read scans the table', p_table, p_doc_key_column, v_type),
            HINT = format('CREATE UNIQUE INDEX ON %s ((%I::text));', p_table, p_doc_key_column);
    END IF;

    -- The relay reads the rows as its own role: rows a policy hides from it would look deleted to every client.
    IF EXISTS (SELECT FROM pg_class c WHERE c.oid = p_table AND c.relrowsecurity) THEN
        RAISE WARNING USING
            MESSAGE = format('%s has row-level security: the relay''s role must see every row, or clients are told the rows it cannot see were deleted', p_table),
            HINT = 'give the relay''s role BYPASSRLS, or a policy that lets it read every row (docs/deployment.md, Rights)';
    END IF;

    UPDATE relay.topics t
       SET payload_mode = 'pointer', read_model = p_table,
           read_model_columns = jsonb_build_object('doc_key', p_doc_key_column, 'org_id', p_org_column,
                                                   'doc_version', p_version_column, 'payload', p_payload_column)
     WHERE t.topic = p_topic;
    EXECUTE format(
        'CREATE OR REPLACE TRIGGER relay_journal AFTER INSERT OR UPDATE OR DELETE ON %s '
        'FOR EACH ROW EXECUTE FUNCTION relay.journal_read_model_change(%L, %L, %L, %L, %L)',
        p_table, p_topic, p_doc_key_column, coalesce(p_org_column, ''), p_version_column, p_payload_column);
    EXECUTE format(
        'CREATE OR REPLACE TRIGGER relay_refuse_truncate BEFORE TRUNCATE ON %s '
        'FOR EACH STATEMENT EXECUTE FUNCTION relay.refuse_truncate(%L)',
        p_table, p_topic);
    -- Rows already there are served by hydration as they are: none may lack an organisation the topic requires. Checked
    -- once the triggers are made, which waited for the table's writers: a row a writer was committing counts too.
    IF v_require_org THEN
        EXECUTE format('SELECT EXISTS (SELECT FROM %s WHERE %I IS NULL)', p_table, p_org_column) INTO v_found;
        IF v_found THEN
            RAISE EXCEPTION USING ERRCODE = 'RL002',
                MESSAGE = format('table %s has rows whose %I is null, and topic %L requires an org', p_table, p_org_column, p_topic),
                HINT = 'give those rows an organisation, or create the topic with p_require_org => false for global documents';
        END IF;
    END IF;
END
$$;
