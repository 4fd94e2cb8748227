-- Refuses a change to relay.schema_migrations by a migrator older than the schema (0005_migrator_guard.sql): one that
-- does not set relay.migrator_generation, which every relay before it is, or sets a lower one than the schema holds.
CREATE OR REPLACE FUNCTION relay.refuse_older_migrator()
RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    v_mine integer := nullif(current_setting('relay.migrator_generation', true), '')::integer;
    v_schema integer := (SELECT g.generation FROM relay.schema_generation g);
BEGIN
    IF v_schema IS NOT NULL AND (v_mine IS NULL OR v_mine < v_schema) THEN
        RAISE EXCEPTION USING
            ERRCODE = '55000',
            MESSAGE = format('the relay schema was migrated by a newer relay (schema generation %s); this relay would put its older functions back', v_schema),
            HINT = 'run this relay with Relay__AutoMigrate=false (a newer schema serves older relays), or upgrade it';
    END IF;
    RETURN NEW;
END
$$;

-- The record is the migrator's (a psql install has none): the guard starts with the first relay migrate after it.
DO $$
BEGIN
    IF to_regclass('relay.schema_migrations') IS NOT NULL THEN
        DROP TRIGGER IF EXISTS refuse_older_migrator ON relay.schema_migrations;
        CREATE TRIGGER refuse_older_migrator
            BEFORE INSERT OR UPDATE ON relay.schema_migrations
            FOR EACH ROW EXECUTE FUNCTION relay.refuse_older_migrator();
    END IF;
END
$$;
