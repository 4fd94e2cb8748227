-- Khala Relay: the relay schema in order. `relay migrate` applies these same files in this order
-- (embedded in the relay); a DBA may run them instead with:
--   psql -1 -v ON_ERROR_STOP=1 -f sql/install.sql
-- (-1: in one transaction, so that writers never meet a function dropped and not yet created again, and a failure
-- leaves the schema as it was)
-- Files under migrations/ run once each; files under functions/ are CREATE OR REPLACE and re-run
-- when they change. Every file is idempotent.
-- This file is of schema generation 8 (the number of migrations; SchemaMigrator.Generation). Run over a schema a later
-- release installed, it would put these older functions back, and that release's relay migrate would not notice: it is
-- refused (releases before the sixth generation lack this check: never run an older install.sql on a newer schema).
DO $$
BEGIN
    IF to_regclass('relay.schema_generation') IS NOT NULL THEN
        IF (SELECT max(generation) FROM relay.schema_generation) > 8 THEN
            RAISE EXCEPTION USING ERRCODE = '55000',
                MESSAGE = format('this sql/install.sql is of schema generation 8, and the database''s schema is of generation %s: a later release installed it',
                                 (SELECT max(generation) FROM relay.schema_generation)),
                HINT = 'install with that release''s sql/install.sql or relay migrate';
        END IF;
    END IF;
END
$$;
\ir migrations/0001_schema.sql
\ir migrations/0002_v1_topics.sql
\ir migrations/0003_publication.sql
\ir migrations/0004_topic_epochs.sql
\ir migrations/0005_migrator_guard.sql
\ir migrations/0006_writers_execute.sql
\ir migrations/0007_journal_time.sql
\ir migrations/0008_journal_time_index.sql
\ir functions/canonical_number_exact.sql
\ir functions/canonical_number.sql
\ir functions/canonical_sort_key.sql
\ir functions/canonical_json.sql
\ir functions/payload_hash.sql
\ir functions/check_payload.sql
\ir functions/check_topic_name.sql
\ir functions/check_document_args.sql
\ir functions/create_topic.sql
\ir functions/head.sql
\ir functions/reset_epoch.sql
\ir functions/allocate_watermarks.sql
\ir functions/apply_document.sql
\ir functions/publish.sql
\ir functions/publish_batch.sql
\ir functions/delete.sql
\ir functions/journal_pointer_event.sql
\ir functions/journal_read_model_change.sql
\ir functions/refuse_truncate.sql
\ir functions/attached_column_problem.sql
\ir functions/attach.sql
\ir functions/prune.sql
\ir functions/topic_read_model.sql
\ir functions/topic_documents.sql
\ir functions/read_model_query.sql
\ir functions/read_documents.sql
\ir functions/list_documents.sql
\ir functions/refuse_older_migrator.sql
-- Records the generation, as relay migrate does, so that an older install.sql or relay refuses this schema.
INSERT INTO relay.schema_generation (generation) VALUES (8)
    ON CONFLICT (only_row) DO UPDATE SET generation = greatest(relay.schema_generation.generation, excluded.generation);
