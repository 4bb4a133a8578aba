-- role: lm_mix_sales
-- Sales (as rep 1) in org 1 and reporting in org 2 (#22, item 9): in each org
-- exactly the rights of the kind held there.  Until 0.15 the table privileges
-- of reporting access and the read policies of sales access together showed
-- org 1's orders, spend and refunds to this role, which a rep must not see.
BEGIN;
SELECT * FROM no_plan();

-- (a view sales access may not read shows, in org 1, what the rep's rows give through it)
SELECT is(tap.n(relname, 'org_id = 1'), (SELECT n FROM tap_visible WHERE role = 'lm_sales1' AND rel = relname AND org = 1),
          relname || ': org 1 rows as sales rep 1 sees them') FROM tap.rels WHERE relname <> 'lead_contact' ORDER BY relname;
SELECT is(tap.n(relname, 'org_id = 2'), (SELECT n FROM tap_visible WHERE role = 'lm_bi2' AND rel = relname AND org = 2),
          relname || ': org 2 rows as a reporting role of org 2 sees them') FROM tap.rels WHERE relname <> 'lead_contact' ORDER BY relname;
SELECT throws_ok('SELECT count(*) FROM leadmgmt.lead_contact', '42501', NULL, 'no phone of any org (lead_contact)');
SELECT is(tap.n(r, 'org_id = 1'), 0::bigint, r || ': nothing of org 1''s money')
  FROM unnest('{sales_order,ad_spend,refund}'::name[]) r;
SELECT ok(tap.n(r, 'org_id = 2') > 0, r || ': org 2''s, as its reporting role')
  FROM unnest('{sales_order,ad_spend,refund}'::name[]) r;
SELECT is(tap.n('channel_roi', 'org_id = 1 AND spend > 0'), 0::bigint, 'channel_roi: no spend of org 1');
SELECT ok(tap.n('channel_roi', 'org_id = 2 AND spend > 0') > 0, 'channel_roi: org 2''s spend');

-- writes: only through the functions, and only as the rep of org 1
SELECT throws_ok(format('UPDATE leadmgmt.%I SET %I = %I WHERE org_id = 2', r.relname, tap.some_column(r.relname), tap.some_column(r.relname)), '42501', NULL,
                 r.relname || ': no direct write')
  FROM tap.rels r JOIN pg_class c ON c.relname = r.relname AND c.relnamespace = 'leadmgmt'::regnamespace AND c.relkind = 'r'
 ORDER BY r.relname;
SELECT throws_ok(format('SELECT leadmgmt.claim_lead(2, %s, %s)', tap.v('rep1'), tap.v('org2_lead')), '42501', NULL,
                 'claims nothing in org 2');
SELECT lives_ok(format('SELECT leadmgmt.update_lead(1, %s, ''{"name": "Mixed"}'')', tap.v('own_lead')),
                'updates its own lead in org 1');
SELECT is(leadmgmt.lead_phone(2, tap.v('org2_lead')), NULL, 'no phone of org 2');
SELECT is(leadmgmt.lead_phone(1, tap.v('own_lead')) IS NOT NULL, true, 'its own lead''s phone in org 1');

SELECT * FROM finish();
ROLLBACK;
