-- relay.payload_hash(jsonb): the document's payload_hash, SHA-256 of the UTF-8 bytes of its
-- RFC 8785 canonical JSON (relay.canonical_json). The C# PayloadHash and the TypeScript client
-- compute the same bytes; fixtures/jcs/cases.json proves it. Raises RL002 for a number beyond
-- the double range.
CREATE OR REPLACE FUNCTION relay.payload_hash(p jsonb)
RETURNS bytea
LANGUAGE sql
IMMUTABLE STRICT PARALLEL SAFE
AS $function$
  SELECT sha256(convert_to(relay.canonical_json(p), 'UTF8'))
$function$;
