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
SELECT is(has_column_privilege('lm_nobody', 'leadmgmt.lead', 'phone', 'SELECT'), false, 'but not lead.phone');
SELECT is(has_column_privilege('lm_nobody', 'leadmgmt.lead', 'phone_masked', 'SELECT'), true, 'it reads lead.phone_masked');
SELECT is(has_table_privilege('lm_nobody', 'leadmgmt.course', 'INSERT'), false, 'reporting writes nothing');
SELECT lives_ok($$SELECT leadmgmt.grant_access('lm_nobody', 1, 'reporting')$$, 'granting twice is harmless');
SELECT lives_ok($$SELECT leadmgmt.grant_access('lm_nobody', 2, 'admin')$$, 'grant admin of org 2 as well');
SELECT is(has_table_privilege('lm_nobody', 'leadmgmt.course', 'INSERT'), true, 'admin writes');
SELECT is(has_column_privilege('lm_nobody', 'leadmgmt.lead', 'phone', 'SELECT'), true, 'admin reads phones');
SELECT lives_ok($$SELECT leadmgmt.revoke_access('lm_nobody', 2)$$, 'revoke admin of org 2');
SELECT is(has_table_privilege('lm_nobody', 'leadmgmt.course', 'INSERT'), false, 'writing is gone again');
SELECT is(has_column_privilege('lm_nobody', 'leadmgmt.lead', 'phone', 'SELECT'), false, 'and so is the phone');
SELECT is(has_table_privilege('lm_nobody', 'leadmgmt.course', 'SELECT'), true, 'reporting of org 1 remains');
SELECT lives_ok($$SELECT leadmgmt.revoke_access('lm_nobody', 1)$$, 'revoke the rest');
SELECT is(has_schema_privilege('lm_nobody', 'leadmgmt', 'USAGE'), false, 'no access left');
SELECT is(has_table_privilege('lm_nobody', 'leadmgmt.course', 'SELECT'), false, 'no table privilege left');
SELECT is((SELECT count(*) FROM leadmgmt.access_grant WHERE role_name = 'lm_nobody'), 0::bigint, 'no grant row left');

SELECT * FROM finish();
ROLLBACK;
