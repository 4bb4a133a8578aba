-- role: lm_app
-- The master data functions (0.16) as an application role of orgs 1 and 2:
-- it sets up the org it acts for, and another org's ids are unknown ids.
-- (Ids are read into temporary tables first and passed as constants, and
-- results are read back the same way: on a Citus cluster a call with a
-- subquery argument, or an assertion over one org's rows, is planned whole
-- onto that org's worker; docs/dba/citus.md.)
BEGIN;
SELECT * FROM no_plan();

SELECT throws_ok($$SELECT leadmgmt.add_team(1, 'Night shift')$$, '23503', 'unknown org 1',
                 'add_team: nothing without leadmgmt.org_id');
SET LOCAL leadmgmt.org_id = '2';
CREATE TEMP TABLE ids2 (what text PRIMARY KEY, id bigint);
INSERT INTO ids2 SELECT 'team', leadmgmt.add_team(2, 'Team of org 2');
INSERT INTO ids2 SELECT 'teacher', leadmgmt.add_teacher(2, 'Teacher of org 2');
INSERT INTO ids2 SELECT 'rep', leadmgmt.add_rep(2, 'Rep of org 2', 'sales');
INSERT INTO ids2 SELECT 'student', leadmgmt.add_student(2, 'Student of org 2');
INSERT INTO ids2 SELECT 'course', leadmgmt.add_course(2, 'org2-course', 'Course of org 2', 'math', 10, 100);
CREATE FUNCTION pg_temp.id2(w text) RETURNS bigint LANGUAGE sql AS $$ SELECT id FROM ids2 WHERE what = w $$;

SET LOCAL leadmgmt.org_id = '1';
SELECT throws_ok($$SELECT leadmgmt.add_team(2, 'Sneaky')$$, '23503', 'unknown org 2',
                 'add_team: not for org 2 while acting for org 1');
CREATE TEMP TABLE ids1 (what text PRIMARY KEY, id bigint);
INSERT INTO ids1 SELECT 'team', leadmgmt.add_team(1, 'Night shift', 'round_robin');
CREATE FUNCTION pg_temp.id1(w text) RETURNS bigint LANGUAGE sql AS $$ SELECT id FROM ids1 WHERE what = w $$;
CREATE TEMP TABLE seen AS SELECT assign_strategy FROM leadmgmt.team WHERE org_id = 1 AND name = 'Night shift';
SELECT is((SELECT assign_strategy FROM seen), 'round_robin', 'add_team for the org it acts for');
SELECT throws_ok(format($$SELECT leadmgmt.add_rep(1, 'Zhou', 'sales', %s)$$, pg_temp.id2('team')), '23503', NULL,
                 'add_rep: org 2''s team is an unknown team');
INSERT INTO ids1 SELECT 'rep', leadmgmt.add_rep(1, 'Zhou', 'tmk', pg_temp.id1('team'));
SELECT isnt(pg_temp.id1('rep'), NULL, 'add_rep with its team');
SELECT throws_ok(format($$SELECT leadmgmt.update_rep(1, %s, '{"weight": 5}')$$, pg_temp.id2('rep')), '23503', NULL,
                 'update_rep: org 2''s rep is an unknown rep');
SELECT throws_ok(format($$SELECT leadmgmt.update_rep(2, %s, '{"weight": 5}')$$, pg_temp.id2('rep')), '23503', 'unknown org 2',
                 'update_rep: not for org 2 while acting for org 1');
SELECT lives_ok(format($$SELECT leadmgmt.update_rep(1, %s, '{"active": false, "daily_cap": 5}')$$, pg_temp.id1('rep')),
                'update_rep for its own org');
CREATE TEMP TABLE changed AS SELECT (active, daily_cap)::text AS v FROM leadmgmt.sales_rep WHERE org_id = 1 AND name = 'Zhou';
SELECT is((SELECT v FROM changed), '(f,5)', 'the rep is changed');
SELECT throws_ok(format($$SELECT leadmgmt.add_shift(1, %s, 1, '09:00', '18:00')$$, pg_temp.id2('rep')), '23503', NULL,
                 'add_shift: org 2''s rep is unknown');
SELECT throws_ok(format($$SELECT leadmgmt.add_leave(1, %s, '2026-01-01', '2026-01-02')$$, pg_temp.id2('rep')), '23503', NULL,
                 'add_leave: org 2''s rep is unknown');
SELECT lives_ok(format($$SELECT leadmgmt.add_leave(1, %s, '2026-01-01', '2026-01-02', 'new year')$$, pg_temp.id1('rep')),
                'add_leave for its own rep');
SELECT throws_ok(format($$SELECT leadmgmt.add_class(1, %s, 'x', '2026-03-01', '2026-05-01', 10)$$, pg_temp.id2('course')),
                 '23503', NULL, 'add_class: org 2''s course is unknown');
INSERT INTO ids1 SELECT 'course', leadmgmt.add_course(1, 'window-course', 'Window course', 'math', 10, 100);
SELECT throws_ok(format($$SELECT leadmgmt.add_class(1, %s, 'x', '2026-03-01', '2026-05-01', 10, teacher_id => %s)$$,
                        pg_temp.id1('course'), pg_temp.id2('teacher')), '23503', NULL, 'add_class: org 2''s teacher is unknown');
SELECT throws_ok(format($$SELECT leadmgmt.add_student(1, 'x', lead_id => %s)$$, tap.v('org2_lead')), '23503', NULL,
                 'add_student: org 2''s lead is unknown');
-- an app role's times lie in the org's window
INSERT INTO ids1 SELECT 'student', leadmgmt.add_student(1, 'Window kid');
INSERT INTO ids1 SELECT 'class', leadmgmt.add_class(1, pg_temp.id1('course'), 'Window class',
                                                    (now() AT TIME ZONE 'Asia/Shanghai')::date, (now() AT TIME ZONE 'Asia/Shanghai')::date + 90, 30);
SELECT isnt(pg_temp.id1('class'), NULL, 'add_student and add_class');
SELECT throws_ok(format($$SELECT leadmgmt.enroll_student(1, %s, %s, now())$$, pg_temp.id2('student'), pg_temp.id1('class')),
                 '23503', NULL, 'enroll_student: org 2''s student is unknown');
SELECT throws_ok(format($$SELECT leadmgmt.enroll_student(1, %s, %s, now() - interval '200 years')$$, pg_temp.id1('student'), pg_temp.id1('class')),
                 '22023', 'enrolled_at is before the org''s backfill horizon', 'enroll_student: far past refused');
SELECT throws_ok(format($$SELECT leadmgmt.enroll_student(1, %s, %s, now() + interval '200 years')$$, pg_temp.id1('student'), pg_temp.id1('class')),
                 '22023', 'enrolled_at is in the future', 'enroll_student: far future refused');
SELECT lives_ok(format($$SELECT leadmgmt.enroll_student(1, %s, %s, now())$$, pg_temp.id1('student'), pg_temp.id1('class')),
                'enroll_student now');

SELECT * FROM finish();
ROLLBACK;
