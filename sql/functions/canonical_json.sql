-- relay.canonical_json(jsonb): the RFC 8785 (JCS) canonical text of a document: no whitespace,
-- object members sorted by the UTF-16 code units of their keys, strings escaped as
-- JSON.stringify does, numbers as relay.canonical_number prints them. Raises RL002 for a number
-- beyond the double range.
--
-- One set-based query in plpgsql, so that its plan is cached per session (a LANGUAGE sql body
-- would be planned again, ~0.8 ms, on every call from the publish path): a recursive walk yields
-- every node with a sortable path (object keys via relay.canonical_sort_key, array positions
-- zero-padded), a
-- closing row per container sorts after its children (U+E002 is above the first character of
-- any path component), and one string_agg in path order writes the text. Each member is
-- prefixed with U+0001, which canonical text never holds raw (strings escape it as \u0001):
-- after an opening bracket it is dropped, elsewhere it becomes the comma.
--
-- PostgreSQL's JSON string escaping (escape_json, used by to_json and jsonb output) is exactly
-- JCS's: \" \\ \b \f \n \r \t, other characters below U+0020 as \u00xx in lowercase hex, and
-- everything else, including "/", DEL and non-ASCII, literal.
--
-- Cost, measured on PostgreSQL 15: about 2 us of CPU per node, so some 170-220 us for a 1 KB run
-- summary (80 nodes) and 11 ms for 64 KB. The per-row executor cost is the floor of any
-- set-based form (an unrolled query with no key or number handling at all takes 120 us on the
-- same document); per-container plpgsql recursion and recursive LANGUAGE sql are slower.
CREATE OR REPLACE FUNCTION relay.canonical_json(p jsonb)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE STRICT PARALLEL SAFE
AS $function$
BEGIN
  RETURN (
    WITH RECURSIVE node(path, tok, v, t) AS (
      SELECT ''::text, '', p, jsonb_typeof(p)
      UNION ALL
      SELECT c.path, c.tok, c.v, c.t
      FROM node
      CROSS JOIN LATERAL (
        SELECT node.path || relay.canonical_sort_key(e.key), E'\x01' || to_json(e.key)::text || ':',
               e.value, jsonb_typeof(e.value)
        FROM jsonb_each(node.v) AS e
        WHERE node.t = 'object'
        UNION ALL
        SELECT node.path || lpad(e.o::text, 10, '0'), E'\x01', e.value, jsonb_typeof(e.value)
        FROM jsonb_array_elements(node.v) WITH ORDINALITY AS e(value, o)
        WHERE node.t = 'array'
        UNION ALL
        SELECT node.path || U&'\E002', CASE node.t WHEN 'object' THEN '}' ELSE ']' END, NULL, 'end'
      ) AS c(path, tok, v, t)
      WHERE node.t IN ('object', 'array')
    )
    SELECT replace(replace(replace(
             string_agg(
               tok || CASE t
                 WHEN 'object' THEN '{'
                 WHEN 'array' THEN '['
                 WHEN 'number' THEN relay.canonical_number(v::numeric)
                 WHEN 'end' THEN ''
                 ELSE v::text
               END,
               '' ORDER BY path COLLATE "C"),
             E'{\x01', '{'), E'[\x01', '['), E'\x01', ',')
    FROM node
  );
END;
$function$;
