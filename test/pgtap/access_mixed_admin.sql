-- role: lm_mix_admin
-- Admin in org 1 and reporting in org 2 (#22, item 9): in each org exactly
-- the rights of the kind held there.  Until 0.15 the table privileges of
-- admin access and the read policies of reporting access together showed
-- org 2's phones (lead_contact) to this role.
BEGIN;
SELECT * FROM no_plan();

SELECT is(tap.n(relname, 'org_id = 1'), (SELECT n FROM tap_visible WHERE role = 'lm_admin1' AND rel = relname AND org = 1),
          relname || ': org 1 rows as an admin of org 1 sees them') FROM tap.rels ORDER BY relname;
SELECT is(tap.n(relname, 'org_id = 2'), (SELECT n FROM tap_visible WHERE role = 'lm_bi2' AND rel = relname AND org = 2),
          relname || ': org 2 rows as a reporting role of org 2 sees them') FROM tap.rels ORDER BY relname;
SELECT is(tap.n('lead_contact', 'org_id = 2'), 0::bigint, 'no phone of org 2');
SELECT ok(tap.n('lead_contact', 'org_id = 1') > 0, 'the phones of org 1');

-- writes: every table of org 1, none of org 2
SELECT is(tap.affected(format('UPDATE leadmgmt.%I SET %I = %I WHERE org_id = 2', r.relname, tap.some_column(r.relname), tap.some_column(r.relname))), 0::bigint,
          r.relname || ': changes no row of org 2')
  FROM tap.rels r JOIN pg_class c ON c.relname = r.relname AND c.relnamespace = 'leadmgmt'::regnamespace AND c.relkind = 'r'
 ORDER BY r.relname;
SELECT is(tap.affected(format('DELETE FROM leadmgmt.%I WHERE org_id = 2', r.relname)), 0::bigint,
          r.relname || ': deletes no row of org 2')
  FROM tap.rels r JOIN pg_class c ON c.relname = r.relname AND c.relnamespace = 'leadmgmt'::regnamespace AND c.relkind = 'r'
 ORDER BY r.relname;
SELECT throws_ok($$INSERT INTO leadmgmt.tag (org_id, name) VALUES (2, 'mole')$$, '42501', NULL, 'inserts nothing into org 2');
SELECT throws_ok($$SELECT leadmgmt.ingest_lead(2, '13600000019', 'douyin', NULL, now())$$, '42501', NULL,
                 'ingests nothing into org 2: reporting access writes nothing');
SELECT lives_ok($$INSERT INTO leadmgmt.tag (org_id, name) VALUES (1, 'mixed')$$, 'inserts into org 1');
SELECT is(tap.affected('UPDATE leadmgmt.sales_rep SET active = active WHERE org_id = 1'),
          (SELECT n FROM tap_visible WHERE role = 'lm_admin1' AND rel = 'sales_rep' AND org = 1), 'updates org 1''s rows');

SELECT * FROM finish();
ROLLBACK;
