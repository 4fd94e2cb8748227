-- Retention: deletes journal rows older than each topic's retention (or p_older_than) as a
-- watermark prefix, in batches of relay.prune_batch_size watermarks (default 10,000) and at most
-- relay.prune_max_per_call per topic per call (default 1,000,000), then advances retained_after. Safe to re-run and to run beside publishers: the topic rows are
-- taken only at the end, in sorted order, for one short UPDATE each. Call it again while it
-- reports deleted > 0 (sql/ops/retention.sql does).
-- A setting that must be a whole number of at least 1 (a batch of 0 never advanced and looped for good), or its default.
CREATE OR REPLACE FUNCTION relay.positive_setting(p_name text, p_default bigint)
RETURNS bigint
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
    v_text constant text := nullif(btrim(current_setting(p_name, true)), '');
BEGIN
    IF v_text IS NULL THEN
        RETURN p_default;
    END IF;
    IF v_text !~ '^[0-9]{1,18}$' OR v_text::bigint < 1 THEN
        RAISE EXCEPTION USING ERRCODE = 'RL002', MESSAGE = format('%s must be a whole number of at least 1, got %L', p_name, v_text),
            HINT = format('RESET %s for its default', p_name);
    END IF;
    RETURN v_text::bigint;
END
$$;

CREATE OR REPLACE FUNCTION relay.prune(p_topic text DEFAULT NULL, p_older_than interval DEFAULT NULL)
RETURNS TABLE (topic text, deleted bigint, retained_after bigint)
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
DECLARE
    c_batch constant bigint := relay.positive_setting('relay.prune_batch_size', 10000);
    c_max_per_call constant bigint := relay.positive_setting('relay.prune_max_per_call', 1000000);
    v_topics text[] := '{}';
    v_deleted bigint[] := '{}';
    v_upto bigint[] := '{}';
    v_topic record;
    v_target bigint;
    v_cut timestamptz;
    v_above bigint;
    v_middle bigint;
    v_from bigint;
    v_to bigint;
    v_count bigint;
    v_rows bigint;
BEGIN
    IF p_topic IS NOT NULL THEN
        PERFORM relay.check_topic_name(p_topic);
        IF NOT EXISTS (SELECT FROM relay.topics t WHERE t.topic = p_topic) THEN
            RAISE EXCEPTION USING ERRCODE = 'RL001', MESSAGE = format('unknown topic %L', p_topic);
        END IF;
    END IF;
    IF p_older_than < interval '0' THEN
        RAISE EXCEPTION USING ERRCODE = 'RL002', MESSAGE = format('p_older_than must not be negative, got %L', p_older_than);
    END IF;

    FOR v_topic IN
        SELECT t.topic, t.retention, t.retained_after, t.head_watermark FROM relay.topics t
         WHERE p_topic IS NULL OR t.topic = p_topic ORDER BY t.topic
    LOOP
        -- The newest event older than the cut, by a binary search over the watermarks of the retained window, one
        -- primary-key read per step: inserted_at grows with the watermark (0007_journal_time.sql). Asking for
        -- max(watermark) under the cut instead read the whole retained window backwards on every call, even with
        -- nothing to delete (1.7 s for 2 million retained events). An event not found ends the prefix below it.
        v_cut := now() - coalesce(p_older_than, v_topic.retention);
        v_target := v_topic.retained_after;
        v_above := v_topic.head_watermark + 1;
        WHILE v_above - v_target > 1 LOOP
            v_middle := v_target + (v_above - v_target) / 2;
            IF EXISTS (SELECT FROM relay.stream_events e
                        WHERE e.topic = v_topic.topic AND e.watermark = v_middle AND e.inserted_at < v_cut) THEN
                v_target := v_middle;
            ELSE
                v_above := v_middle;
            END IF;
        END LOOP;
        v_from := v_topic.retained_after;
        v_count := 0;
        IF v_target > v_from THEN
            v_target := least(v_target, v_from + c_max_per_call);
            WHILE v_from < v_target LOOP
                v_to := least(v_from + c_batch, v_target);
                DELETE FROM relay.stream_events e
                 WHERE e.topic = v_topic.topic AND e.watermark > v_from AND e.watermark <= v_to;
                GET DIAGNOSTICS v_rows = ROW_COUNT;
                v_count := v_count + v_rows;
                v_from := v_to;
            END LOOP;
        END IF;
        v_topics := v_topics || v_topic.topic;
        v_deleted := v_deleted || v_count;
        v_upto := v_upto || v_from;
    END LOOP;

    FOR i IN 1 .. coalesce(array_length(v_topics, 1), 0) LOOP
        UPDATE relay.topics t SET retained_after = greatest(t.retained_after, v_upto[i])
         WHERE t.topic = v_topics[i] AND t.retained_after < v_upto[i];
        topic := v_topics[i];
        deleted := v_deleted[i];
        retained_after := (SELECT t.retained_after FROM relay.topics t WHERE t.topic = v_topics[i]);
        RETURN NEXT;
    END LOOP;
END
$$;
