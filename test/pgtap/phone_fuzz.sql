-- role: postgres
-- Fuzz normalize_phone and mask_phone with 100k random strings built from the
-- characters people type (ASCII and full-width digits, plus signs, every
-- separator, letters, CJK), and compare normalize_phone with an independent
-- reference written with regular expressions.
BEGIN;
SELECT plan(7);

-- the reference: an independent reading of the rules in docs/reference/phone.md
CREATE FUNCTION pg_temp.ref_normalize(x text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  s text := translate(x, '０１２３４５６７８９＋（）－．／　' || chr(160) || chr(8208) || chr(8209) || chr(8210)
                         || chr(8211) || chr(8212) || chr(8213) || chr(8722),
                         '0123456789+()-./              ');
  d text;
BEGIN
  IF s !~ '^[0-9+ \t().\-/]*$' THEN RETURN NULL; END IF;             -- anything else: not a phone
  IF s ~ '\+.*\+' OR s ~ '[0-9].*\+' THEN RETURN NULL; END IF;      -- one plus, before the digits
  d := regexp_replace(s, '[^0-9]', '', 'g');
  IF s LIKE '%+%' THEN
    IF d !~ '^86' THEN RETURN NULL; END IF;
    d := substr(d, 3);
  ELSIF length(d) = 15 AND d ~ '^0086' THEN d := substr(d, 5);
  ELSIF length(d) = 13 AND d ~ '^86' THEN d := substr(d, 3);
  END IF;
  RETURN CASE WHEN d ~ '^1[3-9][0-9]{9}$' THEN '+86' || d END;
END $$;

SELECT setseed(0.42);  -- the same 100k strings every run
-- random strings: a phone-like core with random prefixes, separators and noise
CREATE TEMP TABLE fuzz AS
WITH alphabet AS (
  SELECT ARRAY['0','1','2','3','4','5','6','7','8','9','0','1','3','8','6',
               '０','１','３','８','６','+','＋',' ','-','.','(',')','/','（','）','－','　',
               chr(160), chr(8211), chr(8722), E'\t','a','x','e','中','ä','#','*','00','86'] AS a
)
SELECT i, x FROM (
  SELECT i,
         CASE WHEN i % 3 = 0 THEN
           -- random junk of 0..24 characters
           (SELECT string_agg(a[1 + floor(random() * cardinality(a))::int], '') FROM alphabet, generate_series(1, (i * 7) % 25))
         ELSE
           -- a mobile number in a random spelling, sometimes damaged
           (ARRAY['', '+86', '0086', '86', '+86 ', '(+86)', '＋８６', '+1 ', '0', '8'])[1 + floor(random() * 10)::int]
           || (SELECT string_agg(CASE WHEN random() < 0.2 THEN (ARRAY[' ', '-', '.', '－', '　', chr(8211)])[1 + floor(random() * 6)::int] ELSE '' END
                                 || CASE WHEN random() < 0.3 THEN translate(dg, '0123456789', '０１２３４５６７８９') ELSE dg END, '')
                 FROM unnest(regexp_split_to_array('1' || (2 + floor(random() * 8)::int) || lpad(floor(random() * 1e9)::bigint::text, 9, '0')
                             || CASE WHEN random() < 0.1 THEN floor(random() * 10)::int::text ELSE '' END
                             || left(i::text, 0), '')) AS dg)  -- i: a function scan reruns only when its arguments change
           || CASE WHEN random() < 0.05 THEN 'x' WHEN random() < 0.05 THEN ' ' ELSE '' END
         END AS x
    FROM generate_series(1, 100000) i
) f;

SELECT is((SELECT count(*) FROM fuzz WHERE leadmgmt.normalize_phone(x) IS DISTINCT FROM pg_temp.ref_normalize(x)), 0::bigint,
          'normalize_phone agrees with the regular-expression reference on 100k random strings');
SELECT cmp_ok((SELECT count(*) FROM fuzz WHERE leadmgmt.normalize_phone(x) IS NOT NULL), '>', 20000::bigint,
              'and the fuzz set holds many valid numbers');
SELECT is((SELECT count(*) FROM fuzz WHERE leadmgmt.normalize_phone(x) !~ '^\+861[3-9][0-9]{9}$'), 0::bigint,
          'every result is an E.164 Chinese mobile number');
SELECT is((SELECT count(*) FROM fuzz WHERE leadmgmt.normalize_phone(leadmgmt.normalize_phone(x)) IS DISTINCT FROM leadmgmt.normalize_phone(x)),
          0::bigint, 'normalising is idempotent');
SELECT is((SELECT count(*) FROM fuzz WHERE leadmgmt.normalize_phone(x) IS NOT NULL
             AND leadmgmt.mask_phone(x) IS DISTINCT FROM substr(leadmgmt.normalize_phone(x), 4, 3) || '****' || right(leadmgmt.normalize_phone(x), 4)),
          0::bigint, 'a valid number is masked as its first three and last four digits');
SELECT is((SELECT count(*) FROM fuzz WHERE leadmgmt.normalize_phone(x) IS NULL AND leadmgmt.mask_phone(x) ~ '[0-9]'
             AND length(regexp_replace(leadmgmt.mask_phone(x), '[^0-9]', '', 'g')) > 4), 0::bigint,
          'an invalid number never shows more than four digits');
SELECT is((SELECT count(*) FROM fuzz WHERE leadmgmt.mask_phone(x) IS NULL AND x ~ '[0-9０-９]'), 0::bigint,
          'mask_phone is NULL only when there is no digit');

SELECT * FROM finish();
ROLLBACK;
