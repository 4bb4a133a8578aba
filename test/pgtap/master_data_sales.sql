-- role: lm_sales1
-- A sales rep's role does not set up master data: every master data
-- function (0.16) is refused (42501), for its own org as for any other.
BEGIN;
SELECT * FROM no_plan();

SELECT throws_ok($$SELECT leadmgmt.add_team(1, 'My team')$$, '42501', NULL, 'add_team refused');
SELECT throws_ok($$SELECT leadmgmt.add_rep(1, 'Me too', 'sales')$$, '42501', NULL, 'add_rep refused');
SELECT throws_ok(format($$SELECT leadmgmt.update_rep(1, %s, '{"daily_cap": 1000}')$$, tap.v('rep1')), '42501', NULL,
                 'update_rep refused, also for its own rep');
SELECT throws_ok(format($$SELECT leadmgmt.add_shift(1, %s, 1, '09:00', '10:00')$$, tap.v('rep1')), '42501', NULL, 'add_shift refused');
SELECT throws_ok(format($$SELECT leadmgmt.add_leave(1, %s, '2026-01-01', '2026-01-02')$$, tap.v('rep1')), '42501', NULL, 'add_leave refused');
SELECT throws_ok($$SELECT leadmgmt.add_teacher(1, 'Me')$$, '42501', NULL, 'add_teacher refused');
SELECT throws_ok($$SELECT leadmgmt.add_course(1, 'mine', 'Mine', 'math', 10, 1)$$, '42501', NULL, 'add_course refused');
SELECT throws_ok($$SELECT leadmgmt.add_student(1, 'Kid')$$, '42501', NULL, 'add_student refused');
CREATE TEMP TABLE written AS SELECT count(*) AS n FROM leadmgmt.sales_rep WHERE org_id = 1 AND name = 'Me too';
SELECT is((SELECT n FROM written), 0::bigint, 'nothing was written');

SELECT * FROM finish();
ROLLBACK;
