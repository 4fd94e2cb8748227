-- relay.canonical_sort_key(text): a path component for an object key, ending in U+0001, whose
-- order under COLLATE "C" (code point order) is the UTF-16 code unit order of the keys that
-- RFC 8785 section 3.2.3 sorts by. Used by relay.canonical_json; inlined there.
--
-- The two orders differ only between U+E000..U+FFFF (one code unit) and supplementary
-- characters (a surrogate pair, D800..DFFF, so lower in UTF-16). Keys holding any character
-- from U+E000 on get every such character prefixed by a marker, U+E000 before supplementary
-- ones and U+E001 before the others, which puts them in UTF-16 order. U+0001 and U+0002 are
-- escaped (to U+0002 U+0002 and U+0002 U+0003) so that the U+0001 terminator stays below every
-- character of a key: a key then sorts before any longer key it is a prefix of, and before its
-- own children. ASCII keys without those two characters, nearly all of them, are used as they are.
CREATE OR REPLACE FUNCTION relay.canonical_sort_key(k text)
RETURNS text
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
AS $function$
  SELECT CASE
    WHEN octet_length(k) = length(k) AND strpos(k, E'\x01') = 0 AND strpos(k, E'\x02') = 0 THEN k
    ELSE regexp_replace(
           regexp_replace(
             replace(replace(k, E'\x02', E'\x02\x03'), E'\x01', E'\x02\x02'),
             '([\uE000-\uFFFF])', E'\uE001\\1', 'g'),
           '([\U00010000-\U0010FFFF])', E'\uE000\\1', 'g')
  END || E'\x01'
$function$;
