-- role: lm_app
-- An application role serving org 1 and org 2: acts only for the org set in
-- leadmgmt.org_id for the transaction, and sees nothing when none is set.
BEGIN;
SELECT * FROM no_plan();

SELECT is(tap.n(relname, 'true'), 0::bigint, relname || ': nothing visible without leadmgmt.org_id') FROM tap.rels ORDER BY relname;
SELECT throws_ok($$SELECT leadmgmt.ingest_lead(1, '13500000001', 'douyin', NULL, now())$$, '23503', 'unknown org 1',
                 'cannot ingest without leadmgmt.org_id');

SET LOCAL leadmgmt.org_id = '1';
SELECT is(tap.n('lead', 'true'), (SELECT v FROM tap_fixture WHERE name = 'org1_leads'), 'org 1 set: all of org 1''s leads');
SELECT is(tap.n(relname, 'org_id <> 1'), 0::bigint, relname || ': org 1 set, no other org') FROM tap.rels ORDER BY relname;
SELECT ok((SELECT count(*) FROM leadmgmt.lead_contact WHERE phone IS NOT NULL) > 0, 'the app reads full phones (lead_contact)');
SELECT is((SELECT is_new FROM leadmgmt.ingest_lead(1, '13500000001', 'douyin', NULL, now())), true, 'ingests for org 1');
SELECT is((SELECT is_new FROM leadmgmt.ingest_lead(1, '135-0000-0001', 'baidu', NULL, now())), false, 'dedupes for org 1');
SELECT throws_ok($$SELECT leadmgmt.ingest_lead(2, '13500000001', 'douyin', NULL, now())$$, '23503', 'unknown org 2',
                 'cannot ingest for org 2 while acting for org 1');
SELECT throws_ok($$INSERT INTO leadmgmt.tag (org_id, name) VALUES (2, 'sneaky')$$, '42501', NULL,
                 'cannot write rows of org 2 while acting for org 1');
SELECT is(tap.affected($q$UPDATE leadmgmt.tag SET name = name || '!' WHERE org_id = 2$q$), 0::bigint,
          'cannot update rows of org 2 while acting for org 1');
-- (since 0.14 release_lead tells an app role acting for another org
-- nothing: not whether the lead exists, is pooled, or whose it is)
SELECT throws_ok(format('SELECT leadmgmt.release_lead(2, %s)', tap.v('org2_lead')), '42501', NULL,
                 'cannot release a lead of org 2 while acting for org 1');
SELECT throws_ok('SELECT leadmgmt.release_lead(2, -1)', '42501', NULL,
                 'and is told the same for a lead that does not exist');

SET LOCAL leadmgmt.org_id = '2';
SELECT is(tap.n('lead', 'true'), (SELECT v FROM tap_fixture WHERE name = 'org2_leads'), 'org 2 set: all of org 2''s leads');
SELECT is(tap.n('lead', 'org_id <> 2'), 0::bigint, 'org 2 set: no lead of org 1');
SELECT throws_ok('SELECT leadmgmt.check_org_engine(1)', '42501', NULL,
                 'may not run org 1''s assignment while acting for org 2');
SELECT is((SELECT is_new FROM leadmgmt.ingest_lead(2, '13500000001', 'douyin', NULL, now())), true,
          'the same phone is a new lead in another org');

SET LOCAL leadmgmt.org_id = '3';
SELECT is(tap.n('lead', 'true'), 0::bigint, 'an org not granted shows nothing');
SET LOCAL leadmgmt.org_id = 'one';
SELECT throws_ok($$SELECT count(*) FROM leadmgmt.lead$$, '22023', 'invalid leadmgmt.org_id setting "one"',
                 'a malformed leadmgmt.org_id is an error, not an empty result');

-- the lifecycle (0.14): the app records an order, which wins the lead, and
-- may not for another org
SET LOCAL leadmgmt.org_id = '1';
SELECT isnt(leadmgmt.record_order(1, tap.v('own_lead'), 'Spring term', 3000, now()), NULL, 'records a paid order for org 1');
SELECT is(tap.n('lead', format($$lead_id = %s AND status = 'won'$$, tap.v('own_lead'))), 1::bigint, 'the order wins the lead');
SELECT is(tap.n('lead_status_change', format($$lead_id = %s AND to_status = 'won' AND changed_by = 'lm_app'$$, tap.v('own_lead'))),
          1::bigint, 'the move is recorded as this role''s');
SELECT throws_ok(format($$SELECT leadmgmt.record_order(2, %s, 'Spring term', 3000, now())$$, tap.v('org2_lead')),
                 '23503', 'unknown org 2', 'records no order for org 2 while acting for org 1');

-- the assignment engine, acting for org 1 (last: on a Citus cluster it runs
-- only on the node holding the org's shards, where a call inside a
-- transaction is not delegated; docs/dba/citus.md)
SET LOCAL leadmgmt.org_id = '1';
-- a Monday 10:00 in the org's time zone, when every rep of org 1 is on shift
SELECT isnt(leadmgmt.assign_lead(1, tap.v('public_lead'), NULL, '2026-01-05 10:00+08'), NULL,
            'assigns a public lead of org 1 (the C right check and roster, under row-level security)');
SELECT is((SELECT cardinality(r.rep_ids) FROM leadmgmt.org o, leadmgmt.rep_roster(o, NULL, '2026-01-05 10:00+08') r
            WHERE o.org_id = 1),
          (SELECT count(*)::integer FROM leadmgmt.sales_rep r WHERE r.org_id = 1 AND r.active
              AND (NOT EXISTS (SELECT 1 FROM leadmgmt.rep_shift s WHERE s.org_id = 1 AND s.rep_id = r.rep_id)
                   OR EXISTS (SELECT 1 FROM leadmgmt.rep_shift s WHERE s.org_id = 1 AND s.rep_id = r.rep_id
                                 AND s.weekday = 1 AND s.starts_at <= '10:00' AND s.ends_at > '10:00'))),
          'reads the roster of org 1: the active reps on shift then');
-- serial against forced parallel: the C roster and right check (PARALLEL SAFE)
-- answer the same in a worker, under row-level security
CREATE TEMP TABLE roster_serial AS
SELECT string_agg(r::text, ';' ORDER BY t) AS rosters
  FROM leadmgmt.org o, generate_series(timestamptz '2026-01-05 00:00+08', '2026-01-12 00:00+08', interval '3 hours') t,
       leadmgmt.rep_roster(o, NULL, t) r
 WHERE o.org_id = 1 AND leadmgmt.check_org_engine(o.org_id) IS NULL;
SELECT tap.force_parallel();
SELECT ok(tap.plan_of($q$SELECT r FROM leadmgmt.org o, generate_series(1, 3) t, leadmgmt.rep_roster(o, NULL, now()) r
                        WHERE o.org_id = 1$q$) ~ 'Gather', 'a roster query runs under a Gather when parallel plans are forced');
SELECT is((SELECT string_agg(r::text, ';' ORDER BY t)
             FROM leadmgmt.org o, generate_series(timestamptz '2026-01-05 00:00+08', '2026-01-12 00:00+08', interval '3 hours') t,
                  leadmgmt.rep_roster(o, NULL, t) r
            WHERE o.org_id = 1 AND leadmgmt.check_org_engine(o.org_id) IS NULL),
          (SELECT rosters FROM roster_serial), 'rep_roster and check_org_engine: the same serial and in parallel workers');
SELECT tap.serial();

-- the org's window for the times an app passes (since 0.15; until then any
-- time was taken, 4713 BC included): org 2 keeps the defaults, 30 days back
-- (backfill_horizon) and 1 hour ahead (future_tolerance) of the server's clock
SET LOCAL leadmgmt.org_id = '2';
SELECT throws_ok($$SELECT leadmgmt.ingest_lead(2, '13500000077', 'douyin', NULL, now() - interval '31 days')$$,
                 '22023', 'occurred_at is before the org''s backfill horizon', 'ingest_lead: 31 days back is refused');
SELECT throws_ok($$SELECT leadmgmt.ingest_lead(2, '13500000077', 'douyin', NULL, '4713-01-01 BC')$$,
                 '22023', 'occurred_at is before the org''s backfill horizon', 'ingest_lead: 4713 BC is refused');
SELECT throws_ok($$SELECT leadmgmt.ingest_lead(2, '13500000077', 'douyin', NULL, now() + interval '2 hours')$$,
                 '22023', 'occurred_at is in the future', 'ingest_lead: 2 hours ahead is refused');
SELECT is((SELECT is_new FROM leadmgmt.ingest_lead(2, '13500000077', 'douyin', NULL, now() - interval '29 days')), true,
          'ingest_lead: 29 days back is taken');
SELECT is((SELECT created_at FROM leadmgmt.lead l JOIN leadmgmt.lead_contact c USING (org_id, lead_id)
            WHERE l.org_id = 2 AND c.phone = '+8613500000077'), now() - interval '29 days', 'at the time given');
SELECT throws_ok(format($$SELECT leadmgmt.record_event(2, %s, 'paid', '1900-01-01')$$, tap.v('org2_lead')),
                 '22023', 'occurred_at is before the org''s backfill horizon', 'record_event: 1900 is refused');
SELECT throws_ok(format($$SELECT leadmgmt.record_order(2, %s, 'Spring term', 100, now() - interval '1 year')$$, tap.v('org2_lead')),
                 '22023', 'paid_at is before the org''s backfill horizon', 'record_order: a year back is refused');
SELECT throws_ok($$SELECT leadmgmt.record_spend(2, (now() - interval '40 days')::date, 'douyin', NULL, 100)$$,
                 '22023', NULL, 'record_spend: a day 40 days back is refused');
UPDATE leadmgmt.org SET backfill_horizon = '400 days' WHERE org_id = 2;
SELECT isnt(leadmgmt.record_order(2, tap.v('org2_lead'), 'Spring term', 100, now() - interval '1 year'), NULL,
            'record_order: a year back is taken once org.backfill_horizon is 400 days');

SELECT * FROM finish();
ROLLBACK;
