-- From this generation on, relay.publish, publish_batch and delete run with the schema owner's rights, and only roles
-- granted EXECUTE may call them (functions/publish.sql and the others): a writer
-- no longer needs, and should no longer have, rights on relay's tables, with which it could rewind a topic's head,
-- journal events of any organisation, or point a topic at a table of its choosing for the relay to serve. Each role
-- that could write the journal itself until now (the rights docs/deployment.md gave before) is granted EXECUTE here,
-- so that no writer stops at the upgrade; revoke its rights on relay's tables afterwards, unless it writes a table
-- attached with relay.attach, whose trigger journals with its writer's rights (docs/deployment.md, Rights).
DO $$
DECLARE
    v_role name;
BEGIN
    IF to_regprocedure('relay.publish(text, text, jsonb, text, bigint)') IS NULL THEN
        RETURN; -- a new schema: nobody has written to it
    END IF;
    FOR v_role IN
        SELECT r.rolname FROM pg_roles r
         WHERE NOT r.rolsuper AND r.rolname !~ '^pg_'
           AND r.oid <> (SELECT c.relowner FROM pg_class c WHERE c.oid = 'relay.stream_events'::regclass)
           AND has_table_privilege(r.oid, 'relay.stream_events', 'INSERT')
    LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION relay.publish(text, text, jsonb, text, bigint), '
                       'relay.publish_batch(text, jsonb), relay.delete(text, text) TO %I', v_role);
    END LOOP;
END
$$;
