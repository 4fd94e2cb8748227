-- relay.canonical_number_exact(numeric): the ECMAScript Number::toString of the IEEE double
-- nearest the argument (what JSON.stringify prints; RFC 8785 section 3.2.2.3), for every
-- argument. relay.canonical_number answers the common cases itself and calls this for the rest.
--
-- Below 2^54 the shortest round-trip digits of float8out (Ryu) are the ECMAScript digits: a
-- rounding boundary of such a double has at least 17 significant digits, more than the double's
-- own shortest form, so the two definitions cannot disagree. From 2^54 on, boundaries are
-- integers that may be shorter (155627012252807616 has the boundary 155627012252807600), which
-- ECMAScript accepts when the mantissa is even and float8out does not; there the digits are
-- searched exactly: for each length, the two decimals around the exact binary value, keeping
-- those that round-trip, the closer one, and on a tie the even one.
CREATE OR REPLACE FUNCTION relay.canonical_number_exact(n numeric)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE STRICT PARALLEL SAFE
-- float8out prints the shortest round-trip digits only when extra_float_digits > 0.
SET extra_float_digits = 1
AS $function$
DECLARE
  a numeric := abs(n);
  x float8;
  bits bigint;
  mantissa bigint;
  exponent int;
  exact numeric;
  e10 int;
  unit numeric;
  lo numeric;
  hi numeric;
  lo_ok boolean;
  hi_ok boolean;
  best numeric;
  s text;
  digits text;
  point int;
BEGIN
  -- 2^1024 - 2^970 is halfway between the largest double and 2^1024: from there on it is infinite.
  IF a >= 1.797693134862316e308
     OR (a > 1.797693134862315e308 AND a >= power(2::numeric, 1024) - power(2::numeric, 970)) THEN
    RAISE EXCEPTION 'number out of range for canonical JSON'
      USING ERRCODE = 'RL002',
            DETAIL = format('The value has %s integer digits; the largest IEEE double has 309. JSON.stringify would print Infinity, which is not JSON (RFC 8785, section 3.2.2.3).',
                            length(trunc(a)::text)),
            HINT = 'Send such values as JSON strings.';
  END IF;
  -- 2^-1075 is halfway between 0 and the smallest subnormal: up to there it is zero.
  IF a <= 2.47032822920623e-324
     OR (a < 2.47032822920624e-324 AND a <= power(5::numeric, 1075) * 1e-1075) THEN
    RETURN '0';
  END IF;

  x := a::float8;
  IF length(trim(replace(trim_scale(a)::text, '.', ''), '0')) <= 15 AND a > 1e-307 AND a < 1e308 THEN
    -- A double round-trips every decimal of at most 15 significant digits, so none is shorter.
    best := trim_scale(a);
  ELSIF x < 18014398509481984 THEN
    best := x::text::numeric;
  ELSE
    bits := ('x' || encode(float8send(x), 'hex'))::bit(64)::bigint;
    mantissa := (bits & 4503599627370495) + 4503599627370496;
    exponent := (bits >> 52)::int - 1075;
    exact := mantissa * power(2::numeric, exponent);
    e10 := length(trunc(exact)::text) - 1;
    FOR p IN 1..17 LOOP
      unit := ('1e' || (e10 - p + 1))::numeric;
      lo := trunc(exact, p - 1 - e10);
      IF lo = exact THEN
        best := lo;
        EXIT;
      END IF;
      hi := lo + unit;
      lo_ok := lo::float8 = x;
      hi_ok := hi < 1.797693134862315e308 AND hi::float8 = x;
      IF lo_ok AND hi_ok THEN
        best := CASE
          WHEN exact - lo < hi - exact THEN lo
          WHEN exact - lo > hi - exact THEN hi
          WHEN trunc(lo / unit) % 2 = 0 THEN lo
          ELSE hi
        END;
        EXIT;
      ELSIF lo_ok OR hi_ok THEN
        best := CASE WHEN lo_ok THEN lo ELSE hi END;
        EXIT;
      END IF;
    END LOOP;
  END IF;

  s := trim_scale(best)::text;
  IF best < 1e-6 OR best >= 1e21 THEN
    -- Exponential form d[.ddd]e±(k-1), where best = 0.d1d2... * 10^k.
    IF best < 1 THEN
      digits := ltrim(substr(s, 3), '0');
      point := length(digits) - length(substr(s, 3));
    ELSE
      point := length(split_part(s, '.', 1));
      digits := rtrim(replace(s, '.', ''), '0');
    END IF;
    s := left(digits, 1)
      || CASE WHEN length(digits) > 1 THEN '.' || substr(digits, 2) ELSE '' END
      || CASE WHEN point >= 1 THEN 'e+' ELSE 'e-' END
      || abs(point - 1)::text;
  END IF;
  RETURN CASE WHEN n < 0 THEN '-' || s ELSE s END;
END;
$function$;
