-- role: postgres
-- grant_access and revoke_access: validation, and the privileges they leave.
BEGIN;
SELECT * FROM no_plan();

SELECT throws_ok($$SELECT leadmgmt.grant_access('lm_nobody', 1, 'god')$$, '22023', 'invalid access kind "god"', 'unknown kind');
SELECT throws_ok($$SELECT leadmgmt.grant_access('lm_nobody', 1, 'sales')$$, '22023', NULL, 'sales access needs a rep');
SELECT throws_ok($$SELECT leadmgmt.grant_access('lm_nobody', 1, 'reporting', 1)$$, '22023', NULL, 'only sales access takes a rep');
SELECT throws_ok($$SELECT leadmgmt.grant_access('lm_nobody', 99, 'reporting')$$, '23503', 'unknown org 99', 'unknown org');
SELECT throws_ok($$SELECT leadmgmt.grant_access('lm_nobody', 1, 'sales', 424242)$$, '23503', NULL, 'unknown rep');
SELECT throws_ok($$SELECT leadmgmt.grant_access(NULL, 1, 'reporting')$$, '22004', NULL, 'NULL role');
SELECT throws_ok($$SELECT leadmgmt.grant_access('no_such_role', 1, 'reporting')$$, '42704', NULL, 'a role that does not exist');
SELECT throws_ok($$SELECT leadmgmt.revoke_access('lm_nobody', NULL)$$, '22004', NULL, 'revoke needs an org');

SELECT is(has_schema_privilege('lm_nobody', 'leadmgmt', 'USAGE'), false, 'no access before a grant');
SELECT lives_ok($$SELECT leadmgmt.grant_access('lm_nobody', 1, 'reporting')$$, 'grant reporting');
SELECT is(has_table_privilege('lm_nobody', 'leadmgmt.course', 'SELECT'), true, 'reporting reads tables');
SELECT is(has_table_privilege('lm_nobody', 'leadmgmt.channel_daily', 'SELECT'), true, 'and views');
SELECT is(has_table_privilege('lm_nobody', 'leadmgmt.lead_contact', 'SELECT'), false, 'but not lead_contact, the phones');
SELECT is(has_table_privilege('lm_nobody', 'leadmgmt.lead', 'SELECT'), true, 'it reads lead, with phone_masked');
SELECT is(array(SELECT c.relname || '.' || a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                 WHERE c.relnamespace = 'leadmgmt'::regnamespace AND a.attacl IS NOT NULL AND NOT a.attisdropped ORDER BY 1),
          '{}'::text[], 'no column privilege anywhere (Citus refuses them; since 0.12)');
SELECT is(has_table_privilege('lm_nobody', 'leadmgmt.course', 'INSERT'), false, 'reporting writes nothing');
SELECT lives_ok($$SELECT leadmgmt.grant_access('lm_nobody', 1, 'reporting')$$, 'granting twice is harmless');
SELECT lives_ok($$SELECT leadmgmt.grant_access('lm_nobody', 2, 'admin')$$, 'grant admin of org 2 as well');
SELECT is(has_table_privilege('lm_nobody', 'leadmgmt.course', 'INSERT'), true, 'admin writes');
SELECT is(has_table_privilege('lm_nobody', 'leadmgmt.lead_contact', 'SELECT'), true, 'admin reads phones');
SELECT lives_ok($$SELECT leadmgmt.revoke_access('lm_nobody', 2)$$, 'revoke admin of org 2');
SELECT is(has_table_privilege('lm_nobody', 'leadmgmt.course', 'INSERT'), false, 'writing is gone again');
SELECT is(has_table_privilege('lm_nobody', 'leadmgmt.lead_contact', 'SELECT'), false, 'and so are the phones');
SELECT is(has_table_privilege('lm_nobody', 'leadmgmt.course', 'SELECT'), true, 'reporting of org 1 remains');
SELECT lives_ok($$SELECT leadmgmt.revoke_access('lm_nobody', 1)$$, 'revoke the rest');
SELECT is(has_schema_privilege('lm_nobody', 'leadmgmt', 'USAGE'), false, 'no access left');
SELECT is(has_table_privilege('lm_nobody', 'leadmgmt.course', 'SELECT'), false, 'no table privilege left');
SELECT is((SELECT count(*) FROM leadmgmt.access_grant WHERE role_name = 'lm_nobody'), 0::bigint, 'no grant row left');

-- since 0.11 a grant is also a membership in the grant's group role, which the
-- policies read by name (acting_org_ids, C), never a table
CREATE TEMP VIEW lm_nobody_groups AS
  SELECT coalesce(array_agg(r.rolname::text ORDER BY r.rolname), '{}') AS groups
    FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
   WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = 'lm_nobody');
SELECT is((SELECT groups FROM lm_nobody_groups), '{}'::text[], 'no group role membership left either');
SELECT matches(leadmgmt.grant_role_name(1, 'reporting', NULL)::text, '^lm_[0-9a-f]{8}_1_reporting$', 'group role of a reporting grant');
SELECT is(leadmgmt.grant_role_name(1, 'reporting', NULL)::text,
          'lm_' || left(md5(current_database()), 8) || '_1_reporting', 'its tag is the first 8 hex digits of md5(current_database())');
SELECT matches(leadmgmt.grant_role_name(7, 'sales', 42)::text, '^lm_[0-9a-f]{8}_7_rep_42$', 'group role of a sales grant names the rep');
SELECT throws_ok($$SELECT leadmgmt.grant_role_name(NULL, 'app', NULL)$$, '22004', NULL, 'grant_role_name: NULL org');
SELECT throws_ok($$SELECT leadmgmt.grant_role_name(1, NULL, NULL)$$, '22004', NULL, 'grant_role_name: NULL access');
SELECT throws_ok($$SELECT leadmgmt.grant_role_name(1, 'god', NULL)$$, '22023', 'invalid access "god"', 'grant_role_name: unknown kind');
SELECT throws_ok($$SELECT leadmgmt.grant_role_name(1, 'sales', NULL)$$, '22023', NULL, 'grant_role_name: sales without a rep');
SELECT throws_ok($$SELECT leadmgmt.grant_role_name(1, 'app', 3)$$, '22023', NULL, 'grant_role_name: a rep for app access');
SELECT throws_ok($$SELECT leadmgmt.grant_role_name(-1, 'app', NULL)$$, '22023', NULL, 'grant_role_name: a negative org');
SELECT lives_ok($$SELECT leadmgmt.grant_access('lm_nobody', 1, 'reporting'), leadmgmt.grant_access('lm_nobody', 2, 'admin')$$,
                'grant reporting of org 1 and admin of org 2');
SELECT is((SELECT groups FROM lm_nobody_groups),
          ARRAY[leadmgmt.grant_role_name(1, 'reporting', NULL)::text, leadmgmt.grant_role_name(2, 'admin', NULL)::text],
          'the role is a member of exactly the two group roles');
SELECT ok((SELECT NOT r.rolcanlogin AND NOT r.rolsuper FROM pg_roles r WHERE r.rolname = leadmgmt.grant_role_name(2, 'admin', NULL)),
          'group roles cannot log in');
SET LOCAL ROLE lm_nobody;
SELECT is(leadmgmt.acting_org_ids('{reporting,app,admin,sales}'), '{1,2}'::bigint[], 'acting_org_ids reads the memberships');
SELECT is(leadmgmt.acting_org_ids('{admin}'), '{2}'::bigint[], 'by kind');
SELECT is(leadmgmt.acting_org_ids('{nonsense,NULL}'), '{}'::bigint[], 'unknown kinds and NULLs match nothing');
SELECT is(leadmgmt.sales_scope_org_ids(), '{}'::bigint[], 'no sales-only org');
SELECT is(leadmgmt.my_rep_ids(), '{}'::bigint[], 'no rep');
SELECT is(leadmgmt.is_acting_role('lm_nobody'), true, 'is_acting_role: itself');
SELECT is(leadmgmt.is_acting_role('no_such_role'), false, 'is_acting_role: a role that does not exist');
SET LOCAL leadmgmt.org_id = '2';
SELECT is(leadmgmt.acting_org_ids('{reporting,app,admin,sales}'), '{2}'::bigint[], 'a set leadmgmt.org_id narrows every kind');
SET LOCAL leadmgmt.org_id = 'x';
SELECT throws_ok($$SELECT leadmgmt.acting_org_ids('{admin}')$$, '22023', 'invalid leadmgmt.org_id setting "x"', 'a bad leadmgmt.org_id');
RESET leadmgmt.org_id;
RESET ROLE;
-- a membership granted by hand in another database's group, or by name with
-- a wrong tag, gives nothing here
CREATE ROLE lm_00000000_1_admin NOLOGIN;
GRANT lm_00000000_1_admin TO lm_nobody;
SET LOCAL ROLE lm_nobody;
SELECT is(leadmgmt.acting_org_ids('{admin}'), '{2}'::bigint[], 'a group role of another database''s tag counts for nothing');
RESET ROLE;
-- a membership without a grant row is taken back by the next sync, and a
-- missing one comes back (a restore into a database of another name)
SELECT lives_ok(format('GRANT %I TO lm_nobody', leadmgmt.grant_role_name(1, 'app', NULL)), 'a membership nobody granted')
  FROM (SELECT 1) x WHERE to_regrole(leadmgmt.grant_role_name(1, 'app', NULL)::text) IS NOT NULL;
SELECT lives_ok(format('REVOKE %I FROM lm_nobody', leadmgmt.grant_role_name(2, 'admin', NULL)), 'a grant''s membership lost');
SELECT lives_ok($$SELECT leadmgmt.sync_grant_roles('lm_nobody')$$, 'sync_grant_roles');
SELECT is((SELECT array_agg(g ORDER BY g) FROM unnest((SELECT groups FROM lm_nobody_groups)) g WHERE g LIKE 'lm\_' || left(md5(current_database()), 8) || '%'),
          ARRAY[leadmgmt.grant_role_name(1, 'reporting', NULL)::text, leadmgmt.grant_role_name(2, 'admin', NULL)::text],
          'after the sync: exactly the grants'' group roles');
SELECT lives_ok($$SELECT leadmgmt.revoke_access('lm_nobody', 1), leadmgmt.revoke_access('lm_nobody', 2)$$, 'revoke both');
SELECT is((SELECT array_agg(g) FROM unnest((SELECT groups FROM lm_nobody_groups)) g WHERE g LIKE 'lm\_' || left(md5(current_database()), 8) || '%'),
          NULL, 'and the memberships are gone');

-- acts_for (0.15), the policies' predicate: the rows of org_id = ANY
-- (acting_org_ids(kinds)), estimated to keep every row, and that index
-- condition on an index of org_id (acts_for_support)
SET LOCAL ROLE lm_admin1;
SELECT is(ARRAY(SELECT o FROM generate_series(0, 5) o WHERE leadmgmt.acts_for(o, '{reporting,app,admin,sales}')),
          ARRAY(SELECT o FROM generate_series(0, 5) o WHERE o = ANY (leadmgmt.acting_org_ids('{reporting,app,admin,sales}'))),
          'acts_for: the orgs of acting_org_ids');
SELECT is(ARRAY(SELECT o FROM generate_series(0, 5) o WHERE leadmgmt.acts_for(o, '{reporting}')),
          ARRAY(SELECT o FROM generate_series(0, 5) o WHERE o = ANY (leadmgmt.acting_org_ids('{reporting}'))),
          'acts_for: by kind');
SELECT is(leadmgmt.acts_for(1, '{admin}') AND NOT leadmgmt.acts_for(2, '{admin}'), true, 'acts_for: an admin of org 1 acts for org 1, not org 2');
SELECT is(leadmgmt.acts_for(1, '{nonsense,NULL}'), false, 'acts_for: unknown kinds and NULLs act for nothing');
SELECT is(leadmgmt.acts_for(NULL, '{admin}'), NULL, 'acts_for: STRICT');
SELECT is(leadmgmt.acts_for(1, '{}'), false, 'acts_for: no kind acts for nothing');
RESET ROLE;
CREATE TEMP TABLE acts_rows (org_id bigint NOT NULL, n integer);
INSERT INTO acts_rows SELECT o % 50, o FROM generate_series(1, 5000) o;
CREATE INDEX ON acts_rows (org_id);
ANALYZE acts_rows;
CREATE FUNCTION pg_temp.plan_rows(q text) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE j json;
BEGIN EXECUTE 'EXPLAIN (FORMAT JSON) ' || q INTO j; RETURN (j -> 0 -> 'Plan' ->> 'Plan Rows')::numeric; END $$;
SELECT is(pg_temp.plan_rows($$SELECT * FROM acts_rows WHERE leadmgmt.acts_for(org_id, '{admin}')$$), 5000::numeric,
          'acts_for: estimated to keep every row (a policy keeps what the role may read)');
SELECT cmp_ok(pg_temp.plan_rows($$SELECT * FROM acts_rows WHERE org_id = ANY (leadmgmt.acting_org_ids('{admin}'))$$), '<', 1000::numeric,
              'where = ANY (acting_org_ids()) was estimated at a small share');
SET LOCAL enable_seqscan = off;
SELECT matches(tap.plan_of($$SELECT * FROM acts_rows WHERE leadmgmt.acts_for(org_id, '{admin}')$$),
               'Index Cond: \(org_id = ANY \(leadmgmt\.acting_org_ids\(''\{admin\}''::text\[\]\)\)\)',
               'acts_for: the index condition org_id = ANY (acting_org_ids(kinds))');
RESET enable_seqscan;

SELECT * FROM finish();
ROLLBACK;
