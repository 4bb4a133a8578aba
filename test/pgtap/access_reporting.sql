-- role: lm_bi
-- A reporting (BI) role granted org 1: reads org 1 through every table and
-- view, never org 2, never a raw phone, and writes nothing.
BEGIN;
SELECT * FROM no_plan();

-- every table and view but lead_contact, the phones (since 0.12)
SELECT cmp_ok(tap.n(relname, 'org_id = 1'), '>', 0::bigint, relname || ': reads org 1 rows') FROM tap.rels WHERE relname <> 'lead_contact' ORDER BY relname;
SELECT is(tap.n(relname, 'org_id <> 1'), 0::bigint, relname || ': reads no row of another org') FROM tap.rels WHERE relname <> 'lead_contact' ORDER BY relname;
SELECT is((SELECT count(*) FROM leadmgmt.lead), (SELECT v FROM tap_fixture WHERE name = 'org1_leads'), 'sees every lead of org 1');

SELECT throws_ok('SELECT phone FROM leadmgmt.lead_contact LIMIT 1', '42501', NULL, 'may not read phones (lead_contact)');
SELECT throws_ok('SELECT count(*) FROM leadmgmt.lead_contact', '42501', NULL, 'nor count them');
SELECT hasnt_column('leadmgmt', 'lead', 'phone', 'lead holds no phone (it is in lead_contact since 0.12)');
SELECT hasnt_column('leadmgmt', 'lead', 'phone_raw', 'nor the submitted one');
SELECT lives_ok('SELECT * FROM leadmgmt.lead LIMIT 1', 'SELECT * on lead works: no column of it is withheld');
SELECT is((SELECT count(*) FROM leadmgmt.lead_overview WHERE phone_is_valid AND phone_masked !~ '^1[3-9][0-9]\*{4}[0-9]{4}$'),
          0::bigint, 'phones are shown masked as 138****5678');
SELECT throws_ok($$SELECT leadmgmt.lead_phone(1, 1)$$, '42501', NULL, 'may not call lead_phone');
SELECT throws_ok($$SELECT leadmgmt.engine_load(1, current_date, 1)$$, '42501', NULL,
                 'may not read the engine''s state through engine_load, which bypasses row-level security');
SELECT throws_ok($$SELECT leadmgmt.engine_assign(1, current_date, now(), false, 'round_robin', '{}', '{}', '{}', '{}', '{}', 'B', '{NULL}')$$,
                 '42501', NULL, 'may not decide assignments (engine_assign)');

SELECT throws_ok($$UPDATE leadmgmt.org SET name = 'x'$$, '42501', NULL, 'may not update');
SELECT throws_ok($$DELETE FROM leadmgmt.touchpoint$$, '42501', NULL, 'may not delete');
SELECT throws_ok($$SELECT leadmgmt.ingest_lead(1, '13500000000', 'douyin', NULL, now())$$, '42501', NULL, 'may not ingest');
SELECT throws_ok($$SELECT leadmgmt.grant_access('lm_bi', 2, 'reporting')$$, '42501', NULL, 'may not grant itself access');

SET LOCAL leadmgmt.org_id = '2';
SELECT is(tap.n('lead', 'true'), 0::bigint, 'setting leadmgmt.org_id to an org not granted shows nothing');
SET LOCAL leadmgmt.org_id = '1';
SELECT is(tap.n('lead', 'true'), (SELECT v FROM tap_fixture WHERE name = 'org1_leads'), 'and to the granted org shows it');

-- acts_for, the policies' predicate (0.15), in parallel workers: the same
-- rows as serially (here, where the transaction writes nothing: on Citus a
-- read of placements another user wrote in it is refused)
SELECT tap.serial();
CREATE TEMP TABLE acts_serial AS SELECT count(*) AS n FROM leadmgmt.lead;
SELECT tap.force_parallel();
SELECT is((SELECT count(*) FROM leadmgmt.lead), (SELECT n FROM acts_serial), 'acts_for: the same rows under forced parallel plans');
SELECT tap.serial();

SELECT * FROM finish();
ROLLBACK;
