-- role: postgres
-- Fuzz funnel_state input: random and mutated encodings either parse to a
-- state that survives its text form, or fail with 22P02 / 22P03; never a crash.
BEGIN;
SELECT plan(3);
SELECT setseed(0.23);

CREATE FUNCTION pg_temp.try(t text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st leadmgmt.funnel_state;
BEGIN
  st := t::leadmgmt.funnel_state;
  IF st::text <> lower(t) THEN RETURN 'changed'; END IF;
  PERFORM leadmgmt.funnel_final_detail(st);
  RETURN 'ok';
EXCEPTION WHEN invalid_text_representation OR invalid_binary_representation THEN RETURN SQLSTATE;
END $$;

-- a valid state: 3 steps, strict_order, window 1 h, 4 events of every kind
CREATE TEMP TABLE valid AS SELECT 'v1:' || '01030001' || '00000000d693a400' || '00000004'
  || '0000000000000000' || '00000001' || '00'
  || '000000006b49d200' || '00000002' || '00'
  || '000000006b49d200' || '00000000' || '01'
  || '00000000a0eebb00' || '00000000' || '02' AS t;
SELECT is(pg_temp.try(t), 'ok', 'the hand-built state with every kind of event is valid') FROM valid;

CREATE TEMP TABLE fuzz AS
SELECT CASE WHEN i % 2 = 0 THEN
         -- mutate one to four hex digits of the valid state, or cut it short
         CASE WHEN i % 10 = 0 THEN left(v.t, 3 + 2 * floor(random() * (length(v.t) - 3) / 2)::int)
              ELSE (SELECT string_agg(CASE WHEN k > 3 AND random() < 4.0 / length(v.t)
                                           THEN substr('0123456789abcdef', 1 + floor(random() * 16)::int, 1)
                                           ELSE substr(v.t, k, 1) END, '' ORDER BY k)
                      FROM generate_series(1, length(v.t) + i * 0) k) END
       ELSE
         -- random hex of random even length
         'v1:' || (SELECT coalesce(string_agg(substr('0123456789abcdef', 1 + floor(random() * 16)::int, 1), ''), '')
                     FROM generate_series(1, 2 * floor(random() * 60)::int + i * 0))
       END AS t
  FROM generate_series(1, 20000) i, valid v;

SELECT is((SELECT count(*) FROM fuzz WHERE pg_temp.try(t) NOT IN ('ok', '22P02', '22P03')), 0::bigint,
          '20000 random and mutated encodings parse exactly or fail with 22P02/22P03');
SELECT cmp_ok((SELECT count(*) FROM fuzz WHERE pg_temp.try(t) = 'ok'), '>', 100::bigint,
              'and many mutated ones are still valid states, so the fuzz reaches the decoder');

SELECT * FROM finish();
ROLLBACK;
