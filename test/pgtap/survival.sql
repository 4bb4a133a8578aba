-- role: postgres
-- km_fit, survival_by, logrank, survival_merge and retention: the same results
-- serial and with parallel workers forced, partial states that survive their
-- text form (as Citus moves them), and merging stored values.
BEGIN;
SELECT plan(12);
SELECT setseed(0.31);

CREATE TABLE sx AS
SELECT i, 'g' || (i % 10) AS grp,
       CASE WHEN i % 3 = 0 THEN round((random() * 400)::numeric, 2)::float8 ELSE floor(random() * 400) END AS duration,
       random() < 0.6 AS event,
       CASE WHEN i % 7 = 0 THEN -1 - floor(random() * 5) END AS entry,
       1 + (i % 3) AS weight
  FROM generate_series(1, 120000) i;
ANALYZE sx;

CREATE TABLE sx_serial AS
SELECT (SELECT leadmgmt.km_fit(duration, event)::text FROM sx) AS km,
       (SELECT leadmgmt.km_fit(coalesce(entry, -10), duration, event, weight)::text FROM sx) AS km_entry_weight,
       (SELECT leadmgmt.survival_by(grp, duration, event)::text FROM sx) AS by_grp,
       (SELECT leadmgmt.logrank(grp, duration, event)::text FROM sx) AS lr,
       (SELECT array_agg(x ORDER BY grp)::text FROM (SELECT grp, leadmgmt.km_fit(duration, event)::text AS x FROM sx GROUP BY grp) g) AS km_by_group,
       (SELECT array_agg(r ORDER BY k)::text FROM (SELECT i % 1000 AS k, leadmgmt.retention(duration < 100, duration >= 100, event) AS r FROM sx GROUP BY 1) g) AS ret;

SELECT tap.force_parallel();

SELECT ok(tap.plan_of('SELECT leadmgmt.km_fit(duration, event) FROM sx') ~ 'Partial Aggregate',
          'km_fit runs as a partial aggregate in parallel workers');
SELECT ok(tap.plan_of('SELECT leadmgmt.logrank(grp, duration, event) FROM sx') ~ 'Partial Aggregate',
          'logrank runs as a partial aggregate in parallel workers');

SELECT is((SELECT leadmgmt.km_fit(duration, event)::text FROM sx), (SELECT km FROM sx_serial),
          'km_fit: the same value serial and parallel');
SELECT is((SELECT leadmgmt.km_fit(coalesce(entry, -10), duration, event, weight)::text FROM sx), (SELECT km_entry_weight FROM sx_serial),
          'km_fit with late entry and weights: the same value serial and parallel');
SELECT is((SELECT leadmgmt.survival_by(grp, duration, event)::text FROM sx), (SELECT by_grp FROM sx_serial),
          'survival_by: the same value serial and parallel, groups in name order');
SELECT is((SELECT leadmgmt.logrank(grp, duration, event)::text FROM sx), (SELECT lr FROM sx_serial),
          'logrank over 10 groups: the same result serial and parallel');
SELECT is((SELECT array_agg(x ORDER BY grp)::text FROM (SELECT grp, leadmgmt.km_fit(duration, event)::text AS x FROM sx GROUP BY grp) g),
          (SELECT km_by_group FROM sx_serial), 'km_fit per group: the same values serial and parallel');
SELECT is((SELECT array_agg(r ORDER BY k)::text FROM (SELECT i % 1000 AS k, leadmgmt.retention(duration < 100, duration >= 100, event) AS r FROM sx GROUP BY 1) g),
          (SELECT ret FROM sx_serial), 'retention: the same arrays serial and parallel');
SELECT tap.serial();

-- as Citus would: a partial state per shard, moved as text, merged on the coordinator
CREATE SCHEMA sxp;
CREATE AGGREGATE sxp.partial_km(float8, boolean) (SFUNC = leadmgmt.km_transfn, STYPE = leadmgmt.survival);
CREATE AGGREGATE sxp.partial_by(text, float8, boolean) (SFUNC = leadmgmt.survival_by_transfn, STYPE = leadmgmt.survival);
SELECT is((SELECT leadmgmt.survival_merge(st::text::leadmgmt.survival)::text
             FROM (SELECT i % 8 AS shard, sxp.partial_km(duration, event) AS st FROM sx GROUP BY 1) s),
          (SELECT km FROM sx_serial), 'unsorted partial km_fit states of 8 shards, through text, merge to the serial value');
SELECT is((SELECT leadmgmt.logrank_final(leadmgmt.survival_merge(st::text::leadmgmt.survival))::text
             FROM (SELECT i % 8 AS shard, sxp.partial_by(grp, duration, event) AS st FROM sx GROUP BY 1) s),
          (SELECT lr FROM sx_serial), 'partial survival_by states of 8 shards, through text, give the serial logrank');
-- stored values, one per day, merged later
SELECT is((SELECT leadmgmt.survival_merge(s)::text FROM (SELECT leadmgmt.km_fit(duration, event) AS s FROM sx GROUP BY i % 30) d),
          (SELECT km FROM sx_serial), 'survival_merge of 30 stored km_fit values equals km_fit over all rows');
SELECT throws_ok($$SELECT leadmgmt.survival_merge(s) FROM (SELECT leadmgmt.km_fit(duration, event) AS s FROM sx
                   UNION ALL SELECT leadmgmt.survival_by(grp, duration, event) FROM sx) x$$,
                 '22023', 'cannot merge a survival value of km_fit with one of survival_by',
                 'survival_merge refuses to mix km_fit and survival_by values');

SELECT * FROM finish();
ROLLBACK;
