-- the C phone functions give the same results serial and in parallel workers
SET timezone = 'Asia/Shanghai';
CREATE TABLE phones AS
  SELECT i, (ARRAY['', '+86 ', '0086', '86', '(+86)'])[1 + i % 5]
            || (ARRAY['13', '15', '18', '12', '19'])[1 + (i / 5) % 5]
            || lpad((i * 7919 % 1000000000)::text, 9, '0')
            || (ARRAY['', '', ' ', 'x', '-'])[1 + (i / 25) % 5] AS p
    FROM generate_series(1, 60000) i;
ANALYZE phones;
-- one summary, computed first serially, then with parallel workers forced
CREATE VIEW phone_summary AS
  SELECT count(*) AS n, count(leadmgmt.normalize_phone(p)) AS valid,
         sum(hashtext(coalesce(leadmgmt.normalize_phone(p), '-'))::bigint) AS normalized_hash,
         sum(hashtext(coalesce(leadmgmt.mask_phone(p), '-'))::bigint) AS masked_hash
    FROM phones;
SET max_parallel_workers_per_gather = 0;
CREATE TABLE serial AS SELECT * FROM phone_summary;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 4;
SELECT set_config(CASE WHEN current_setting('server_version_num')::int >= 160000
                       THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END, 'on', false) AS forced;
EXPLAIN (COSTS OFF) SELECT s = p AS same_result, p.valid AS valid_phones FROM serial s, phone_summary p;
SELECT s = p AS same_result, p.valid AS valid_phones FROM serial s, phone_summary p;
DROP VIEW phone_summary;
DROP TABLE phones, serial;
