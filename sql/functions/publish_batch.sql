-- publish for a JSON array of {doc_key, payload, org_id?, doc_version?}: one topic-row lock and
-- contiguous watermarks in array order. At most 10,000 documents per call.
CREATE OR REPLACE FUNCTION relay.publish_batch(p_topic text, p_docs jsonb)
RETURNS TABLE (doc_key text, watermark bigint, doc_version bigint)
LANGUAGE plpgsql
-- The schema owner's rights, so that a writer needs EXECUTE only, never rights on relay's tables (docs/deployment.md).
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_count integer;
    v_keys text[];
    v_payloads jsonb[];
    v_orgs text[];
    v_versions bigint[];
    v_version numeric;
    v_sizes integer[];
    v_doc jsonb;
    v_topic record;
    v_applied_count integer := 0;
    v_result record;
BEGIN
    PERFORM relay.check_topic_name(p_topic);
    IF p_docs IS NULL OR jsonb_typeof(p_docs) <> 'array' THEN
        RAISE EXCEPTION USING ERRCODE = 'RL002', MESSAGE = 'p_docs must be a JSON array';
    END IF;
    v_count := jsonb_array_length(p_docs);
    IF v_count > 10000 THEN
        RAISE EXCEPTION USING ERRCODE = 'RL002',
            MESSAGE = format('a batch holds at most 10000 documents, got %s', v_count);
    END IF;
    IF v_count = 0 THEN
        -- Nothing to write, but the topic is still checked, as for any other batch.
        PERFORM relay.check_writable_topic(p_topic);
        RETURN;
    END IF;

    -- Validate everything before taking the topic row.
    FOR i IN 1 .. v_count LOOP
        v_doc := p_docs -> (i - 1);
        IF jsonb_typeof(v_doc) <> 'object'
           OR jsonb_typeof(v_doc -> 'doc_key') IS DISTINCT FROM 'string'
           OR coalesce(jsonb_typeof(v_doc -> 'org_id'), 'null') NOT IN ('string', 'null')
           OR coalesce(jsonb_typeof(v_doc -> 'doc_version'), 'null') NOT IN ('number', 'null') THEN
            RAISE EXCEPTION USING ERRCODE = 'RL002',
                MESSAGE = format('p_docs[%s] must be an object {doc_key: string, payload, org_id?: string, doc_version?: integer}', i - 1);
        END IF;
        -- A misspelt member ("org", "orgId") would otherwise be dropped, and its document published to every organisation.
        IF v_doc - '{doc_key,payload,org_id,doc_version}'::text[] <> '{}'::jsonb THEN
            RAISE EXCEPTION USING ERRCODE = 'RL002',
                MESSAGE = format('p_docs[%s] has member %L, which is not one of doc_key, payload, org_id, doc_version', i - 1,
                                 (SELECT k FROM jsonb_object_keys(v_doc - '{doc_key,payload,org_id,doc_version}'::text[]) k ORDER BY k LIMIT 1));
        END IF;
        IF NOT v_doc ? 'payload' THEN
            RAISE EXCEPTION USING ERRCODE = 'RL002', MESSAGE = format('p_docs[%s] has no payload', i - 1);
        END IF;
        IF jsonb_typeof(v_doc -> 'payload') = 'null' THEN
            RAISE EXCEPTION USING ERRCODE = 'RL002', MESSAGE = format('p_docs[%s].payload must not be null', i - 1);
        END IF;
        v_keys[i] := v_doc ->> 'doc_key';
        v_orgs[i] := v_doc ->> 'org_id';
        v_version := (v_doc ->> 'doc_version')::numeric;
        IF v_version <> trunc(v_version) OR v_version NOT BETWEEN -9223372036854775808 AND 9223372036854775807 THEN
            RAISE EXCEPTION USING ERRCODE = 'RL002', MESSAGE = format('p_docs[%s].doc_version must be an integer of 64 bits', i - 1);
        END IF;
        v_versions[i] := v_version::bigint;
        PERFORM relay.check_document_args(v_keys[i], v_orgs[i], v_versions[i]);
        v_payloads[i] := v_doc -> 'payload';
        v_sizes[i] := relay.check_payload(v_payloads[i]);
    END LOOP;

    SELECT * INTO v_topic FROM relay.allocate_watermarks(p_topic, v_count);
    PERFORM relay.refuse_attached(p_topic, v_topic.read_model);

    FOR i IN 1 .. v_count LOOP
        IF v_topic.require_org AND v_orgs[i] IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'RL002', MESSAGE = format('topic %L requires an org_id (p_docs[%s])', p_topic, i - 1);
        END IF;
        IF v_sizes[i] > v_topic.max_payload_bytes THEN
            RAISE EXCEPTION USING ERRCODE = 'RL005',
                MESSAGE = format('payload of p_docs[%s] is %s bytes; topic %L allows %s', i - 1, v_sizes[i], p_topic, v_topic.max_payload_bytes);
        END IF;
        -- An assignment, not SELECT … FROM apply_document(…): PL/pgSQL evaluates it as an expression, without
        -- starting a query per document (docs/sql.md, "Where publish_batch's time goes").
        v_result := relay.apply_document(p_topic, v_topic.first_watermark + v_applied_count, v_topic.payload_mode = 'inline',
                                         v_keys[i], v_payloads[i], v_orgs[i], v_versions[i]);
        doc_key := v_keys[i];
        doc_version := v_result.applied_version;
        IF v_result.applied THEN
            v_applied_count := v_applied_count + 1;
            watermark := v_topic.first_watermark + v_applied_count - 1;
        ELSE
            watermark := NULL;
        END IF;
        RETURN NEXT;
    END LOOP;

    IF v_applied_count < v_count THEN
        -- Give back the allocations of no-ops: the watermarks stay contiguous.
        PERFORM relay.release_watermarks(p_topic, v_count - v_applied_count);
    END IF;
    IF v_topic.notify AND v_applied_count > 0 THEN
        PERFORM pg_notify('relay_journal', p_topic);
    END IF;
END
$$;
REVOKE EXECUTE ON FUNCTION relay.publish_batch(text, jsonb) FROM PUBLIC;
