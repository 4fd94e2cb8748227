-- Older relays must not put their older functions back. A relay's migrator re-applies its own copy of every function
-- file whose checksum differs from relay.schema_migrations, older or newer: a relay of an earlier release starting on
-- a schema a later one migrated (a pod restarted mid-rollout, a rollback with AutoMigrate on) silently replaced the
-- later functions with its own. From this migration on, the migrator says which generation it is (the number of
-- migrations it knows, relay.migrator_generation for its transaction), the schema keeps the highest generation that
-- migrated it, and relay.refuse_older_migrator (functions/refuse_older_migrator.sql) refuses a change to the record by
-- any older one, or by one that does not say: its whole migration rolls back and that relay stops at start.
CREATE TABLE IF NOT EXISTS relay.schema_generation (
    only_row   boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    generation integer NOT NULL
);
