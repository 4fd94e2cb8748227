-- Retention for every topic: runs relay.prune() until it has nothing left to delete, committing
-- after each call so that no transaction grows large. Safe to re-run and to run beside
-- publishers. Run it outside an explicit transaction, from cron or pg_cron:
--   psql -v ON_ERROR_STOP=1 -f sql/ops/retention.sql
--   SELECT cron.schedule('relay-retention', '*/15 * * * *', $$ ... the DO block below ... $$);
-- (the block is quoted with $retention$, so it can be pasted between the $$ as it is).
-- Batch sizes: SET relay.prune_batch_size (default 10000) and relay.prune_max_per_call (default 1000000).
DO $retention$
DECLARE
    v_deleted bigint;
BEGIN
    LOOP
        SELECT coalesce(sum(p.deleted), 0) INTO v_deleted FROM relay.prune() p;
        COMMIT;
        EXIT WHEN v_deleted = 0;
    END LOOP;
END
$retention$;
