-- normalize_phone and mask_phone: formats people type, invalid input, edge cases
\pset null '<null>'
SET timezone = 'Asia/Shanghai';
SET datestyle = 'ISO, YMD';
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN EXECUTE q; RETURN 'no error';
EXCEPTION WHEN others THEN RETURN SQLSTATE || ': ' || SQLERRM; END $$;

SELECT input, leadmgmt.normalize_phone(input) AS e164, leadmgmt.mask_phone(input) AS masked
FROM (VALUES
  ('13812345678'),
  ('+8613812345678'),
  ('+86 138 1234 5678'),
  ('+86-138-1234-5678'),
  ('0086 138 1234 5678'),
  ('008613812345678'),
  ('8613812345678'),
  ('(+86) 138.1234.5678'),
  ('138/1234/5678'),
  (E'\t138 1234 5678 '),
  ('１３８１２３４５６７８'),
  ('＋８６ １３８－１２３４－５６７８'),
  ('（１３８）１２３４　５６７８'),
  ('138‐1234–5678'),
  ('19912345678'),
  ('13012345678')
) AS t(input);

-- not valid: wrong prefix, length, country, letters, stray plus signs
SELECT input, leadmgmt.normalize_phone(input) AS e164, leadmgmt.mask_phone(input) AS masked
FROM (VALUES
  (''),
  ('   '),
  ('12812345678'),
  ('23812345678'),
  ('1381234567'),
  ('138123456789'),
  ('+1 415 555 2671'),
  ('+85213812345678'),
  ('0086 0138 1234 5678'),
  ('86 1381234567'),
  ('138 1234 5678 ext 12'),
  ('138+12345678'),
  ('++8613812345678'),
  ('13812345678a'),
  ('010-12345678'),
  ('abc'),
  ('123'),
  ('123456789012345678901234567890')
) AS t(input);

-- region: CN in any case; anything else is rejected
SELECT leadmgmt.normalize_phone('13812345678', 'cn') AS lower_case_region;
SELECT pg_temp.err($$SELECT leadmgmt.normalize_phone('13812345678', 'US')$$);
SELECT pg_temp.err($$SELECT leadmgmt.normalize_phone('13812345678', '')$$);

-- STRICT: NULL in, NULL out
SELECT leadmgmt.normalize_phone(NULL) AS n1, leadmgmt.normalize_phone('13812345678', NULL) AS n2,
       leadmgmt.mask_phone(NULL) AS m;

-- huge and toasted input never crashes and is never a phone
SELECT leadmgmt.normalize_phone(repeat('1', 1000000)) AS huge, leadmgmt.mask_phone(repeat('1', 1000000)) AS huge_mask;
CREATE TEMP TABLE toasted AS SELECT repeat(' ', 100000) || '13812345678' AS p;
SELECT leadmgmt.normalize_phone(p), leadmgmt.mask_phone(p) FROM toasted;

-- an invalid UTF-8-looking tail and lone continuation bytes are just invalid
SELECT leadmgmt.normalize_phone('13812345678' || chr(65533)) AS replacement_char;
SELECT leadmgmt.normalize_phone('１３８１２３４５６７') AS ten_fullwidth_digits;

-- immutable and parallel safe, as declared
SELECT proname, provolatile, proparallel, proisstrict FROM pg_proc
 WHERE pronamespace = 'leadmgmt'::regnamespace AND proname IN ('normalize_phone', 'mask_phone') ORDER BY 1;
