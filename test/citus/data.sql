-- test/citus/data.sql -- the facts the aggregate checks of make test-citus
-- read: the same deterministic rows in a table distributed by org_id (td)
-- and in a local table of the coordinator (tl).  Six orgs spread over the
-- workers' shards; grp is a column that is not the distribution column, so
-- grouping by it makes Citus aggregate partially on the workers and combine
-- the partial states on the coordinator.
CREATE TABLE tl (
  org_id bigint NOT NULL, id bigint NOT NULL, grp text NOT NULL,
  ts timestamptz, a boolean, b boolean, c boolean,
  dur float8, ev boolean, entry float8, w float8,
  score float8, label boolean, path text[], conv float8, val float8,
  ch text, touched_at timestamptz, conv_at timestamptz, x float8[],
  s1 boolean, s2 boolean, s3 boolean
);
INSERT INTO tl
SELECT 1 + (i % 6), i, 'g' || (i % 5),
       '2026-01-01'::timestamptz + ((i * 7919) % 5000) * interval '1 minute',
       (i * 31) % 3 = 0, (i * 17) % 4 = 1, (i * 13) % 5 = 2,
       5 + (i * 37) % 90, (i * 11) % 3 <> 0, (i * 5) % 4, 1 + (i % 3) * 0.5,
       ((i * 7477) % 1000) / 1000.0, (i * 29) % 4 = 0,
       CASE i % 4 WHEN 0 THEN '{seo,ads,wechat}' WHEN 1 THEN '{ads,ads}' WHEN 2 THEN '{wechat,seo}' ELSE '{direct,ads}' END::text[],
       ((i * 3) % 2)::float8, (i % 7) * 10.0,
       (ARRAY['seo', 'ads', 'wechat', 'direct'])[1 + (i * 3) % 4],
       '2026-02-01'::timestamptz + ((i * 97) % 40) * interval '1 day', '2026-03-15'::timestamptz,
       ARRAY[((i * 13) % 10) / 10.0, ((i * 7) % 10) / 10.0],
       i % 2 = 0, i % 3 = 0, i % 7 = 0
  FROM generate_series(1, 6000) i;
CREATE TABLE td (LIKE tl);
SELECT create_distributed_table('td', 'org_id', shard_count => 8);
INSERT INTO td SELECT * FROM tl;
