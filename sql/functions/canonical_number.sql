-- relay.canonical_number(numeric): what JSON.stringify prints for the IEEE double nearest the
-- argument (ECMA-262 Number::toString, as RFC 8785 requires). Raises RL002 when that double is
-- infinite. Inlined into callers: the common cases are plain numeric text, the rest goes to
-- relay.canonical_number_exact.
CREATE OR REPLACE FUNCTION relay.canonical_number(n numeric)
RETURNS text
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
AS $function$
  SELECT CASE
    -- Integers below 2^53 are exact doubles.
    WHEN scale(n) = 0 AND abs(n) < 9007199254740992 THEN n::text
    -- At most 15 significant digits round-trip unchanged, and ES prints 1e-6 <= |x| < 1e21
    -- in plain notation: exactly numeric's text without trailing fractional zeros.
    WHEN abs(n) >= 1e-6 AND abs(n) < 1e21
      AND length(trim(translate(trim_scale(n)::text, '-.', ''), '0')) <= 15
      THEN trim_scale(n)::text
    ELSE relay.canonical_number_exact(n)
  END
$function$;
