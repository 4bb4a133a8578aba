-- role: lm_admin1
-- An org admin manages org 1 and only org 1.
BEGIN;
SELECT * FROM no_plan();

SELECT is((SELECT count(*) FROM leadmgmt.lead), (SELECT v FROM tap_fixture WHERE name = 'org1_leads'), 'sees all of org 1''s leads');
SELECT is((SELECT count(*) FROM leadmgmt.lead WHERE org_id <> 1), 0::bigint, 'sees no lead of org 2');
SELECT ok((SELECT count(*) FROM leadmgmt.lead_contact WHERE phone IS NOT NULL) > 0, 'reads full phones of its org (lead_contact)');
SELECT is((SELECT count(*) FROM leadmgmt.lead_contact WHERE org_id <> 1), 0::bigint, 'and no phone of org 2');
SELECT lives_ok($$UPDATE leadmgmt.org SET funnel_window = '7 days' WHERE org_id = 1$$, 'changes org 1 settings');
SELECT lives_ok($$INSERT INTO leadmgmt.sales_rep (org_id, name, role) VALUES (1, 'New rep', 'sales')$$, 'adds a rep to org 1');
SELECT throws_ok($$INSERT INTO leadmgmt.sales_rep (org_id, name, role) VALUES (2, 'Mole', 'sales')$$, '42501', NULL,
                 'cannot add a rep to org 2');
SELECT is(tap.affected($q$UPDATE leadmgmt.sales_rep SET active = false WHERE org_id = 2$q$), 0::bigint,
          'cannot deactivate org 2''s reps');
SELECT is(tap.affected($q$DELETE FROM leadmgmt.tag WHERE org_id = 2$q$), 0::bigint,
          'cannot delete org 2''s rows');
SELECT throws_ok($$UPDATE leadmgmt.tag SET org_id = 2 WHERE org_id = 1$$, '42501', NULL, 'cannot move rows into org 2');
SELECT is((SELECT is_new FROM leadmgmt.ingest_lead(1, '13600000009', 'douyin', NULL, now())), true, 'ingests for org 1');
SELECT throws_ok($$SELECT leadmgmt.ingest_lead(2, '13600000009', 'douyin', NULL, now())$$, '23503', 'unknown org 2',
                 'org 2 does not exist for it');
SELECT throws_ok($$SELECT leadmgmt.grant_access('lm_nobody', 1, 'reporting')$$, '42501', NULL,
                 'granting access stays with the DBA');
SELECT is((SELECT count(*) FROM leadmgmt.access_grant WHERE role_name <> 'lm_admin1'), 0::bigint,
          'sees only its own access grants');

SELECT * FROM finish();
ROLLBACK;
