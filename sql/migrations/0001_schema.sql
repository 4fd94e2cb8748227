-- The relay schema: topics (watermark allocators), the journal, and the read model of publish.
-- Idempotent: safe to run again by hand with psql.
DO $$
BEGIN
    IF current_setting('server_encoding') <> 'UTF8' THEN
        RAISE EXCEPTION 'the relay needs a UTF8 database, this one is %', current_setting('server_encoding');
    END IF;
END
$$;

CREATE SCHEMA IF NOT EXISTS relay;

CREATE TABLE IF NOT EXISTS relay.topics (
    topic              text        PRIMARY KEY
                                   CHECK (topic ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$' AND length(topic) <= 128),
    head_watermark     bigint      NOT NULL DEFAULT 0,
    retained_after     bigint      NOT NULL DEFAULT 0,
    payload_mode       text        NOT NULL DEFAULT 'inline' CHECK (payload_mode IN ('inline', 'pointer')),
    retention          interval    NOT NULL DEFAULT '7 days' CHECK (retention > interval '0'),
    require_org        boolean     NOT NULL DEFAULT true,
    notify             boolean     NOT NULL DEFAULT false,
    max_payload_bytes  integer     NOT NULL DEFAULT 1048576 CHECK (max_payload_bytes > 0),
    read_model         regclass,
    -- Column names of an attached read model: {"doc_key", "org_id", "doc_version", "payload"}.
    read_model_columns jsonb,
    created_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (retained_after <= head_watermark)
) WITH (fillfactor = 50); -- every publish updates its topic row: leave room for HOT updates

CREATE TABLE IF NOT EXISTS relay.stream_events (
    topic        text        NOT NULL,
    watermark    bigint      NOT NULL,
    doc_key      text        NOT NULL,
    doc_version  bigint      NOT NULL,
    org_id       text,
    payload      jsonb,
    payload_hash bytea,
    tombstone    boolean     NOT NULL DEFAULT false,
    inserted_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, watermark)
);

CREATE INDEX IF NOT EXISTS stream_events_doc_trace_idx ON relay.stream_events (topic, doc_key, watermark DESC);
CREATE INDEX IF NOT EXISTS stream_events_inserted_at_idx ON relay.stream_events (inserted_at);

CREATE TABLE IF NOT EXISTS relay.documents (
    doc_key      text        PRIMARY KEY,
    topic        text        NOT NULL,
    org_id       text,
    doc_version  bigint      NOT NULL,
    payload      jsonb,
    payload_hash bytea,
    deleted      boolean     NOT NULL DEFAULT false,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    -- The journal watermark of the document's newest event: lets list and pointer reads agree with the journal.
    watermark    bigint      NOT NULL
);

CREATE INDEX IF NOT EXISTS documents_topic_idx ON relay.documents (topic, org_id, doc_key);
