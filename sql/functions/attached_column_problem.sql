-- Why an attached table's doc_key or org column cannot stand for a key or an organisation, with what to do; NULL when
-- it can. Keys and organisations are told apart byte for byte (in the journal and in the relay), and the read model
-- must give the very text the trigger journals: a character(n) column (or a domain over one, at any depth) is
-- journaled padded and read back trimmed, and under a nondeterministic collation two different values compare equal
-- (a case-insensitive one let ORG-A list org-a's documents). relay.attach refuses such a column; relay audit reports
-- one changed since.
CREATE OR REPLACE FUNCTION relay.attached_column_problem(p_table regclass, p_column text)
RETURNS text
LANGUAGE sql STABLE
AS $$
    SELECT CASE
        WHEN EXISTS (
            WITH RECURSIVE chain(type) AS (
                SELECT a.atttypid
                UNION ALL
                SELECT t.typbasetype FROM chain JOIN pg_type t ON t.oid = chain.type WHERE t.typbasetype <> 0)
            SELECT FROM chain WHERE type = 'character'::regtype) THEN
            format('column %s.%I is %s, whose trailing spaces the journal would keep and the read model drop: make it text or varchar',
                   p_table, p_column, format_type(a.atttypid, a.atttypmod))
        -- The trigger journals a value as to_jsonb writes it, the relay reads it back as ::text: for dates and times
        -- ('2026-12-03T21:00:00' against '2026-12-03 21:00:00') and floating point (1e+20 against 100000000000000000000)
        -- they differ, and every event of such a key went out as a deletion. Strings, integers, numeric, booleans and
        -- uuid are written alike. Not enums, ranges or composites either: the table's owner makes those, with casts of
        -- their own that the relay's reads (::text) would run with the relay's rights.
        WHEN EXISTS (
            WITH RECURSIVE chain(type) AS (
                SELECT a.atttypid
                UNION ALL
                SELECT t.typbasetype FROM chain JOIN pg_type t ON t.oid = chain.type WHERE t.typbasetype <> 0)
            SELECT FROM chain JOIN pg_type t ON t.oid = chain.type
             WHERE t.typbasetype = 0
               AND (t.typcategory NOT IN ('S', 'N', 'B') AND t.oid <> 'uuid'::regtype
                    OR t.oid IN ('real'::regtype, 'double precision'::regtype, 'money'::regtype))) THEN
            format('column %s.%I is %s, which the journal and the read model may spell differently, or read with its owner''s code: make it text, varchar, uuid, an integer or numeric',
                   p_table, p_column, format_type(a.atttypid, a.atttypmod))
        WHEN NOT coalesce(c.collisdeterministic, true) THEN
            format('column %s.%I has a nondeterministic collation, under which two different keys or organisations can compare equal: give it a deterministic one (ALTER TABLE %s ALTER COLUMN %I TYPE %s COLLATE "C")',
                   p_table, p_column, p_table, p_column, format_type(a.atttypid, a.atttypmod))
    END
      FROM pg_attribute a LEFT JOIN pg_collation c ON c.oid = a.attcollation
     WHERE a.attrelid = p_table AND a.attname = p_column AND a.attnum > 0 AND NOT a.attisdropped
$$;
