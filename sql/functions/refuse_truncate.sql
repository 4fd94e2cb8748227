-- Statement trigger installed by relay.attach: TRUNCATE fires no row trigger, so it would take
-- documents away from the read model without journaling a tombstone, and clients would keep them
-- forever. It is refused (RL006); DELETE journals each row.
CREATE OR REPLACE FUNCTION relay.refuse_truncate()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'RL006',
        MESSAGE = format('table %I.%I feeds topic %L: TRUNCATE is not journaled, so it is refused', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_ARGV[0]),
        HINT = 'DELETE the rows instead: each one is journaled as a tombstone.';
END
$$;
