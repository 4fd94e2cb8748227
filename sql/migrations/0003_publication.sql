-- The publication the relay's replication feed decodes: journal inserts only (pgoutput, binary, PostgreSQL 14+).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_publication WHERE pubname = 'relay_journal') THEN
        CREATE PUBLICATION relay_journal FOR TABLE relay.stream_events WITH (publish = 'insert');
    END IF;
END
$$;
