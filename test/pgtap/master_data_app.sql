-- role: lm_app
-- The master data functions (0.16) as an application role of orgs 1 and 2:
-- it sets up the org it acts for, and another org's ids are unknown ids.
BEGIN;
SELECT * FROM no_plan();

SELECT throws_ok($$SELECT leadmgmt.add_team(1, 'Night shift')$$, '23503', 'unknown org 1',
                 'add_team: nothing without leadmgmt.org_id');
SET LOCAL leadmgmt.org_id = '2';
CREATE TEMP TABLE ids AS
SELECT leadmgmt.add_team(2, 'Team of org 2') AS team2, leadmgmt.add_teacher(2, 'Teacher of org 2') AS teacher2;
CREATE TEMP TABLE ids2 AS SELECT leadmgmt.add_rep(2, 'Rep of org 2', 'sales', (SELECT team2 FROM ids)) AS rep2,
       leadmgmt.add_student(2, 'Student of org 2') AS student2,
       leadmgmt.add_course(2, 'org2-course', 'Course of org 2', 'math', 10, 100) AS course2;

SET LOCAL leadmgmt.org_id = '1';
SELECT throws_ok($$SELECT leadmgmt.add_team(2, 'Sneaky')$$, '23503', 'unknown org 2',
                 'add_team: not for org 2 while acting for org 1');
SELECT lives_ok($$SELECT leadmgmt.add_team(1, 'Night shift', 'round_robin')$$, 'add_team for the org it acts for');
SELECT is((SELECT assign_strategy FROM leadmgmt.team WHERE org_id = 1 AND name = 'Night shift'), 'round_robin', 'the team is there');
SELECT throws_ok(format($$SELECT leadmgmt.add_rep(1, 'Zhou', 'sales', %s)$$, (SELECT team2 FROM ids)), '23503', NULL,
                 'add_rep: org 2''s team is an unknown team');
SELECT lives_ok($$SELECT leadmgmt.add_rep(1, 'Zhou', 'tmk', (SELECT team_id FROM leadmgmt.team WHERE org_id = 1 AND name = 'Night shift'))$$,
                'add_rep with its team');
CREATE TEMP TABLE zhou AS SELECT rep_id FROM leadmgmt.sales_rep WHERE org_id = 1 AND name = 'Zhou';
SELECT throws_ok(format($$SELECT leadmgmt.update_rep(1, %s, '{"weight": 5}')$$, (SELECT rep2 FROM ids2)), '23503', NULL,
                 'update_rep: org 2''s rep is an unknown rep');
SELECT throws_ok(format($$SELECT leadmgmt.update_rep(2, %s, '{"weight": 5}')$$, (SELECT rep2 FROM ids2)), '23503', 'unknown org 2',
                 'update_rep: not for org 2 while acting for org 1');
SELECT lives_ok(format($$SELECT leadmgmt.update_rep(1, %s, '{"active": false, "daily_cap": 5}')$$, (SELECT rep_id FROM zhou)),
                'update_rep for its own org');
SELECT is((SELECT (active, daily_cap)::text FROM leadmgmt.sales_rep WHERE org_id = 1 AND rep_id = (SELECT rep_id FROM zhou)),
          '(f,5)', 'the rep is changed');
SELECT throws_ok(format($$SELECT leadmgmt.add_shift(1, %s, 1, '09:00', '18:00')$$, (SELECT rep2 FROM ids2)), '23503', NULL,
                 'add_shift: org 2''s rep is unknown');
SELECT throws_ok(format($$SELECT leadmgmt.add_leave(1, %s, '2026-01-01', '2026-01-02')$$, (SELECT rep2 FROM ids2)), '23503', NULL,
                 'add_leave: org 2''s rep is unknown');
SELECT lives_ok(format($$SELECT leadmgmt.add_leave(1, %s, '2026-01-01', '2026-01-02', 'new year')$$, (SELECT rep_id FROM zhou)),
                'add_leave for its own rep');
SELECT throws_ok(format($$SELECT leadmgmt.add_class(1, %s, 'x', '2026-03-01', '2026-05-01', 10)$$, (SELECT course2 FROM ids2)),
                 '23503', NULL, 'add_class: org 2''s course is unknown');
SELECT throws_ok(format($$SELECT leadmgmt.add_class(1, (SELECT min(course_id) FROM leadmgmt.course WHERE org_id = 1), 'x', '2026-03-01', '2026-05-01', 10, teacher_id => %s)$$,
                        (SELECT teacher2 FROM ids)), '23503', NULL, 'add_class: org 2''s teacher is unknown');
SELECT throws_ok(format($$SELECT leadmgmt.enroll_student(1, %s, (SELECT min(class_id) FROM leadmgmt.course_class WHERE org_id = 1), now())$$,
                        (SELECT student2 FROM ids2)), '23503', NULL, 'enroll_student: org 2''s student is unknown');
SELECT throws_ok(format($$SELECT leadmgmt.add_student(1, 'x', lead_id => %s)$$, tap.v('org2_lead')), '23503', NULL,
                 'add_student: org 2''s lead is unknown');
-- an app role's times lie in the org's window
SELECT lives_ok($$SELECT leadmgmt.add_student(1, 'Window kid')$$, 'add_student');
SELECT lives_ok($$SELECT leadmgmt.add_class(1, (SELECT min(course_id) FROM leadmgmt.course WHERE org_id = 1), 'Window class',
                                            (now() AT TIME ZONE 'Asia/Shanghai')::date, (now() AT TIME ZONE 'Asia/Shanghai')::date + 90, 30)$$,
                'add_class');
CREATE TEMP TABLE w AS SELECT (SELECT student_id FROM leadmgmt.student WHERE org_id = 1 AND name = 'Window kid') AS s,
                              (SELECT class_id FROM leadmgmt.course_class WHERE org_id = 1 AND name = 'Window class') AS c;
SELECT throws_ok(format($$SELECT leadmgmt.enroll_student(1, %s, %s, now() - interval '200 years')$$, (SELECT s FROM w), (SELECT c FROM w)),
                 '22023', 'enrolled_at is before the org''s backfill horizon', 'enroll_student: far past refused');
SELECT throws_ok(format($$SELECT leadmgmt.enroll_student(1, %s, %s, now() + interval '200 years')$$, (SELECT s FROM w), (SELECT c FROM w)),
                 '22023', 'enrolled_at is in the future', 'enroll_student: far future refused');
SELECT lives_ok(format($$SELECT leadmgmt.enroll_student(1, %s, %s, now())$$, (SELECT s FROM w), (SELECT c FROM w)),
                'enroll_student now');

SELECT * FROM finish();
ROLLBACK;
