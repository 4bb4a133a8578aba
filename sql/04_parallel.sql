-- the C phone functions give the same results serial and in parallel workers
SET timezone = 'Asia/Shanghai';
CREATE TABLE phones AS
  SELECT i, (ARRAY['', '+86 ', '0086', '86', '(+86)'])[1 + i % 5]
            || (ARRAY['13', '15', '18', '12', '19'])[1 + (i / 5) % 5]
            || lpad((i * 7919 % 1000000000)::text, 9, '0')
            || (ARRAY['', '', ' ', 'x', '-'])[1 + (i / 25) % 5] AS p
    FROM generate_series(1, 60000) i;
ANALYZE phones;
CREATE TABLE serial AS
  SELECT count(*) AS n, count(leadmgmt.normalize_phone(p)) AS valid,
         sum(hashtext(coalesce(leadmgmt.normalize_phone(p), '-'))::bigint) AS h1,
         sum(hashtext(coalesce(leadmgmt.mask_phone(p), '-'))::bigint) AS h2
    FROM phones;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 4;
SELECT set_config(CASE WHEN current_setting('server_version_num')::int >= 160000
                       THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END, 'on', false) AS forced;
EXPLAIN (COSTS OFF)
SELECT (SELECT n FROM serial) = count(*) AS same_count,
       (SELECT valid FROM serial) = count(leadmgmt.normalize_phone(p)) AS same_valid,
       (SELECT h1 FROM serial) = sum(hashtext(coalesce(leadmgmt.normalize_phone(p), '-'))::bigint) AS same_normalized,
       (SELECT h2 FROM serial) = sum(hashtext(coalesce(leadmgmt.mask_phone(p), '-'))::bigint) AS same_masked,
       (SELECT valid FROM serial) AS valid_phones
  FROM phones;
SELECT (SELECT n FROM serial) = count(*) AS same_count,
       (SELECT valid FROM serial) = count(leadmgmt.normalize_phone(p)) AS same_valid,
       (SELECT h1 FROM serial) = sum(hashtext(coalesce(leadmgmt.normalize_phone(p), '-'))::bigint) AS same_normalized,
       (SELECT h2 FROM serial) = sum(hashtext(coalesce(leadmgmt.mask_phone(p), '-'))::bigint) AS same_masked,
       (SELECT valid FROM serial) AS valid_phones
  FROM phones;
DROP TABLE phones, serial;
