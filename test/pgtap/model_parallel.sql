-- role: postgres
-- auc, log_loss, calibration and logreg_step give the same results serial
-- and with parallel workers forced, and their states survive text.
BEGIN;
SELECT plan(6);
SELECT setseed(0.77);
CREATE TABLE ev AS
SELECT i, round(random()::numeric, 3)::float8 AS p, random() < 0.3 AS y,
       ARRAY[random() * 2 - 1, random() * 3, (i % 7)::float8] AS x
  FROM generate_series(1, 150000) i;
UPDATE ev SET y = random() < p WHERE i % 2 = 0;
ANALYZE ev;
CREATE TABLE ev_serial AS
SELECT leadmgmt.auc(p, y) AS auc, leadmgmt.log_loss(p, y) AS ll, leadmgmt.calibration(p, y, 10)::text AS cal,
       leadmgmt.logreg_step(y, x, '{0.1,0.2,-0.1,0.05}')::text AS step
  FROM ev;
SELECT tap.force_parallel();
SELECT ok(tap.plan_of('SELECT leadmgmt.auc(p, y), leadmgmt.log_loss(p, y), leadmgmt.calibration(p, y, 10) FROM ev') ~ 'Partial Aggregate',
          'the evaluation aggregates run as partial aggregates');
SELECT is((SELECT leadmgmt.auc(p, y) FROM ev), (SELECT auc FROM ev_serial), 'auc: the same serial and parallel (exact)');
SELECT ok(abs((SELECT leadmgmt.log_loss(p, y) FROM ev) - (SELECT ll FROM ev_serial)) < 1e-12, 'log_loss: the same serial and parallel');
SELECT is((SELECT count(*) FROM unnest((SELECT leadmgmt.calibration(p, y, 10) FROM ev)) a
             JOIN unnest((SELECT cal::leadmgmt.calibration_bin[] FROM ev_serial)) b USING (bin)
            WHERE a.rows = b.rows AND a.observed_rate = b.observed_rate
              AND abs(a.mean_predicted - b.mean_predicted) <= 1e-12 * b.mean_predicted),
          10::bigint, 'calibration: the same bins and counts serial and parallel, means equal to rounding (float sums in another order)');
SELECT ok((SELECT bool_and(abs(a - b) <= 1e-9 * greatest(1, abs(b)))
             FROM unnest((SELECT leadmgmt.logreg_step(y, x, '{0.1,0.2,-0.1,0.05}') FROM ev), (SELECT step::float8[] FROM ev_serial)) u(a, b)),
          'logreg_step: the same sums serial and parallel (to rounding)');
SELECT tap.serial();
-- as Citus would: partial auc states per shard, moved as text, merged
CREATE SCHEMA evp;
CREATE AGGREGATE evp.partial_auc(float8, boolean) (SFUNC = leadmgmt.auc_transfn, STYPE = leadmgmt.survival);
SELECT is((SELECT leadmgmt.auc_final(leadmgmt.survival_merge(st::text::leadmgmt.survival))
             FROM (SELECT i % 8, evp.partial_auc(p, y) AS st FROM ev GROUP BY 1) s),
          (SELECT auc FROM ev_serial), 'partial auc states of 8 shards, through text, merge to the serial auc');
SELECT * FROM finish();
ROLLBACK;
