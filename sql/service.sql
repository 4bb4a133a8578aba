-- the service views on a small hand-made school: renewal outcomes, spells
-- (first-time and recurring), churn, censoring, survival by segment, the
-- cohort matrix, renewal and refund rates, class health, at-risk students
-- and referrals, each checked against what the definitions in
-- docs/reference/service.md give by hand
\pset null '<null>'
SET search_path = leadmgmt, public;
SET timezone = 'Asia/Shanghai';
SET datestyle = 'ISO, YMD';
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN EXECUTE q; RETURN 'no error';
EXCEPTION WHEN others THEN RETURN SQLSTATE || ': ' || SQLERRM; END $$;
SELECT create_org('Service School') AS o \gset
-- the rows below carry explicit 2026 times: a wide clock-skew tolerance keeps
-- them acceptable wherever the server's clock stands (make test FAKETIME=-1y)
UPDATE leadmgmt.org SET future_tolerance = '100 years' WHERE org_id = :o;
SELECT add_channel(:o, 'douyin', 'Douyin', 'paid') IS NOT NULL AS channel;
SELECT add_channel(:o, 'referral', 'Referral', 'referral') IS NOT NULL AS channel;
-- six families and one referred lead
CREATE TEMP TABLE fam AS
SELECT n, (SELECT lead_id FROM ingest_lead(:o, '1380000000' || n, CASE WHEN n = 7 THEN 'referral' ELSE 'douyin' END,
                                           NULL, '2024-12-01'::timestamptz + n * interval '1 day')) AS lead_id
  FROM generate_series(1, 7) n;
INSERT INTO teacher (org_id, name, kind) VALUES (:o, 'Ms Wang', 'formal'), (:o, 'Mr Li', 'formal');
INSERT INTO course (org_id, code, name, subject, lessons_per_term, price)
VALUES (:o, 'scratch', 'Scratch', 'coding', 12, 3000), (:o, 'python', 'Python', 'coding', 12, 3600);
CREATE TEMP TABLE cls (k text, class_id bigint);
WITH c AS (
  INSERT INTO course_class (org_id, course_id, teacher_id, name, term_start, term_end, capacity, area)
  SELECT :o, (SELECT course_id FROM course WHERE org_id = :o AND code = v.course),
         (SELECT teacher_id FROM teacher WHERE org_id = :o AND name = v.teacher), v.k, v.s::date, v.e::date, 12, 'Xihu'
    FROM (VALUES ('T1', 'scratch', 'Ms Wang', '2025-01-06', '2025-03-30'), ('T2', 'scratch', 'Ms Wang', '2025-04-07', '2025-06-29'),
                 ('T3', 'python', 'Mr Li', '2025-07-07', '2025-09-28'), ('T3b', 'scratch', 'Mr Li', '2025-09-01', '2025-12-01'),
                 ('T4', 'scratch', 'Ms Wang', '2025-10-06', '2025-12-28'), ('T5', 'scratch', 'Ms Wang', '2026-01-05', '2026-03-29')) v(k, course, teacher, s, e)
  RETURNING name, class_id)
INSERT INTO cls SELECT name, class_id FROM c;
INSERT INTO student (org_id, lead_id, name, birth_date, grade, created_at)
SELECT :o, f.lead_id, 'S' || f.n, make_date(2017 - f.n % 3, 3, 1), 1 + f.n % 3, '2025-01-01' FROM fam f WHERE f.n <= 6;
CREATE TEMP TABLE stu AS SELECT s.student_id, f.n FROM student s JOIN fam f ON f.lead_id = s.lead_id WHERE s.org_id = :o;
-- enrollments (student, class, status, ended); renewals link some of them
CREATE TEMP TABLE enr (n int, k text, enrollment_id bigint);
WITH v(n, k, status, ended) AS (VALUES
  (1, 'T1', 'completed', '2025-03-30'), (1, 'T2', 'completed', '2025-06-29'), (1, 'T3', 'completed', '2025-09-28'),
  (2, 'T1', 'completed', '2025-03-30'), (2, 'T4', 'active', NULL),
  (3, 'T2', 'completed', '2025-06-29'), (3, 'T3', 'completed', '2025-09-28'),
  (4, 'T3', 'dropped', '2025-07-20'),
  (5, 'T3b', 'completed', '2025-12-01'),
  (6, 'T4', 'active', NULL), (6, 'T5', 'active', NULL)
), ins AS (
  INSERT INTO enrollment (org_id, student_id, class_id, enrolled_at, status, ended_at)
  -- (the org's zone named: on Citus a cast of a column runs on the worker, in its own TimeZone)
  SELECT :o, s.student_id, c.class_id, cc.term_start::timestamp AT TIME ZONE 'Asia/Shanghai', v.status,
         v.ended::timestamp AT TIME ZONE 'Asia/Shanghai'
    FROM v JOIN stu s ON s.n = v.n JOIN cls c ON c.k = v.k JOIN course_class cc ON cc.org_id = :o AND cc.class_id = c.class_id
  RETURNING student_id, class_id, enrollment_id)
INSERT INTO enr SELECT s.n, c.k, i.enrollment_id FROM ins i JOIN stu s USING (student_id) JOIN cls c USING (class_id);
INSERT INTO renewal (org_id, from_enrollment_id, to_enrollment_id, renewed_at)
SELECT :o, a.enrollment_id, b.enrollment_id, v.at::timestamp AT TIME ZONE 'Asia/Shanghai'
  FROM (VALUES (1, 'T1', 'T2', '2025-03-20'),   -- in time
               (1, 'T2', 'T3', '2025-07-10'),   -- after the term, within the 30-day grace
               (3, 'T2', 'T3', '2025-08-15'),   -- too late: T3 starts a new, recurring spell
               (6, 'T4', 'T5', '2025-11-20')    -- early, into a term after the as-of day
       ) v(n, f, t, at)
  JOIN enr a ON a.n = v.n AND a.k = v.f JOIN enr b ON b.n = v.n AND b.k = v.t;
UPDATE org SET report_as_of = '2025-12-20 00:00+08' WHERE org_id = :o;

-- renewal outcome of every term
SELECT s.n AS student, e.k AS term, t.term_end, t.renewal_due, t.outcome, t.renewed_into IS NOT NULL AS renewed_in_time
  FROM student_term t JOIN enr e ON e.enrollment_id = t.enrollment_id JOIN stu s ON s.student_id = t.student_id
 WHERE t.org_id = :o ORDER BY 1, t.term_start;
-- spells: S1 churned after 3 terms, S2 churned and came back (recurring, censored), S3's late
-- renewal makes two spells, S4 dropped out, S5 pending (censored), S6 renewed early (censored)
SELECT s.n AS student, l.spell_no, l.terms, l.completed_terms, l.churned, l.ended_at::date AS ended,
       round(l.lifetime_days::numeric, 2) AS lifetime_days, l.cohort_month, l.age_band_start, l.grade
  FROM student_lifetime l JOIN stu s ON s.student_id = l.student_id WHERE l.org_id = :o ORDER BY 1, 2;
-- Kaplan-Meier over the spells, by hand: 8 spells; churn at 84, 98 (dropout day 13), 84 (S3 T2) ...
SELECT segment_kind, segment, students, churned_students, median_lifetime_days, retained_after_1_term,
       retained_after_2_terms, retained_after_4_terms
  FROM segment_survival WHERE org_id = :o AND segment_kind IN ('all', 'course', 'teacher', 'grade', 'channel')
 ORDER BY 1, 2;
SELECT (SELECT median_lifetime_days FROM segment_survival WHERE org_id = :o AND segment_kind = 'all')
     = (SELECT (km_median(km_fit(lifetime_days, churned))).median FROM student_lifetime WHERE org_id = :o) AS same_median;
-- every segment has few spells: no test is reported
SELECT segment_kind, count(*) AS segments, count(p_value) AS tested FROM segment_churn_test WHERE org_id = :o GROUP BY 1 ORDER BY 1;
-- cohort matrix: S2 is away from April to September, so "on" and "on or after" differ
SELECT cohort_month, cohort_kind, months_since, cohort_students, active_students, active_or_later_students, retention_on, retention_on_or_after
  FROM cohort_retention WHERE org_id = :o AND cohort_month = '2025-01-01' ORDER BY months_since;
SELECT cohort_month, cohort_kind, count(*) AS months FROM cohort_retention WHERE org_id = :o GROUP BY 1, 2 ORDER BY 1, 2;
-- renewal rate: decided terms only; pending and running terms stay out of the denominator
SELECT term_end_month, breakdown, breakdown_name, up_for_renewal, renewed, pending, renewal_rate, continued_same_course, continuation_rate
  FROM renewal_rate WHERE org_id = :o ORDER BY 1, 2, 3;
-- refunds: S1's first order refunded in part, S4's in full
INSERT INTO sales_order (org_id, lead_id, student_id, course_id, product, list_price, amount, status, created_at, paid_at)
SELECT :o, f.lead_id, s.student_id, c.course_id, c.name, c.price, c.price, 'paid', '2025-01-02', '2025-01-02'
  FROM stu s JOIN fam f USING (n) JOIN course c ON c.org_id = :o AND c.code = CASE WHEN s.n = 4 THEN 'python' ELSE 'scratch' END;
INSERT INTO refund (org_id, order_id, amount, refunded_at)
SELECT :o, so.order_id, CASE s.n WHEN 1 THEN 300 ELSE so.amount END, '2025-02-01'
  FROM sales_order so JOIN stu s USING (student_id) WHERE so.org_id = :o AND s.n IN (1, 4);
SELECT paid_month, breakdown, breakdown_name, paid_orders, refunded_orders, refund_rate_by_count, paid_amount, refunded_amount, refund_rate_by_amount
  FROM refund_rate WHERE org_id = :o ORDER BY 1, 2, 3;
-- class health and at-risk: two T4 lessons; S2 misses both and the homework, S6 attends
INSERT INTO lesson (org_id, class_id, seq, starts_at, ends_at)
SELECT :o, c.class_id, q, '2025-12-06 10:00'::timestamptz + (q - 1) * interval '7 days', '2025-12-06 11:30'::timestamptz + (q - 1) * interval '7 days'
  FROM cls c, generate_series(1, 3) q WHERE c.k = 'T4';
INSERT INTO attendance (org_id, lesson_id, student_id, status)
SELECT :o, l.lesson_id, s.student_id, CASE WHEN s.n = 2 THEN 'absent' WHEN l.seq = 2 THEN 'late' ELSE 'present' END
  FROM lesson l JOIN cls c ON c.class_id = l.class_id AND c.k = 'T4', stu s WHERE l.org_id = :o AND s.n IN (2, 6) AND l.seq <= 2;
INSERT INTO homework (org_id, lesson_id, title, assigned_at, due_at)
SELECT :o, l.lesson_id, 'HW ' || l.seq, l.ends_at, l.ends_at + interval '6 days'
  FROM lesson l JOIN cls c ON c.class_id = l.class_id AND c.k = 'T4' WHERE l.org_id = :o;
INSERT INTO homework_submission (org_id, homework_id, student_id, submitted_at, score, graded_at)
SELECT :o, h.homework_id, s.student_id, h.due_at + CASE WHEN l.seq = 1 THEN interval '-1 day' ELSE interval '1 day' END, 80 + 10 * l.seq, h.due_at + interval '2 days'
  FROM homework h JOIN lesson l ON l.org_id = h.org_id AND l.lesson_id = h.lesson_id, stu s WHERE h.org_id = :o AND s.n = 6 AND l.seq <= 1;
SELECT class_name, students, lessons_held, attendance_rate, homework_due, homework_submission_rate, homework_on_time_rate, average_grade
  FROM class_health WHERE org_id = :o ORDER BY term_start, class_name;
SELECT s.n AS student, a.class_name, a.term_end, a.days_left, a.attendance_rate, a.homework_missed, a.risk_level, a.risk_reasons
  FROM at_risk_students a JOIN stu s ON s.student_id = a.student_id WHERE a.org_id = :o ORDER BY 1;
SELECT teacher_name, classes_running, students_in_term, classes_taught, students_taught, renewal_rate
  FROM teacher_load WHERE org_id = :o ORDER BY 1;
-- referrals: S1 referred lead 7, who paid
INSERT INTO referral (org_id, referrer_student_id, referred_lead_id, referred_at, reward)
SELECT :o, s.student_id, f.lead_id, '2025-03-01', 50 FROM stu s, fam f WHERE s.n = 1 AND f.n = 7;
INSERT INTO sales_order (org_id, lead_id, product, list_price, amount, status, created_at, paid_at)
SELECT :o, f.lead_id, 'Scratch', 3000, 3000, 'paid', '2025-03-05', '2025-03-05' FROM fam f WHERE f.n = 7;
SELECT referrer_name, referrals, referred_paid, referred_conversion_rate, rewards FROM referral_performance WHERE org_id = :o;
-- the settings are checked
SELECT pg_temp.err(format('UPDATE leadmgmt.org SET at_risk_attendance = 1.5 WHERE org_id = %s', :o));
SELECT pg_temp.err(format($$UPDATE leadmgmt.org SET at_risk_horizon = '0 days' WHERE org_id = %s$$, :o));
-- long after the data every term of 2025 has been decided
UPDATE org SET report_as_of = '2030-01-01 00:00+08' WHERE org_id = :o;
SELECT outcome, count(*) FROM student_term WHERE org_id = :o GROUP BY 1 ORDER BY 1;
-- with report_as_of NULL the reports run as of now(): within one transaction
-- (one now()) the same rows as with report_as_of = now(), whatever the clock says
BEGIN;
UPDATE org SET report_as_of = now() WHERE org_id = :o;
CREATE TEMP TABLE terms_at_now AS SELECT t::text AS r FROM student_term t WHERE org_id = :o;
UPDATE org SET report_as_of = NULL WHERE org_id = :o;
SELECT count(*) > 0 AS terms, count(*) = (SELECT count(*) FROM terms_at_now) AS same_count,
       bool_and(t::text IN (SELECT r FROM terms_at_now)) AS same_rows
  FROM student_term t WHERE org_id = :o;
COMMIT;
-- renewal_chains(ids, renewed_into) (0.12): the chains student_lifetime's spells are made of
SELECT * FROM leadmgmt.renewal_chains('{10,11,12,20,21}', '{11,12,NULL,NULL,99}') ORDER BY 2, 3;
-- a term renewed into one outside the arrays ends its chain; order of the arrays does not matter
SELECT * FROM leadmgmt.renewal_chains('{12,11,10}', '{NULL,12,11}') ORDER BY 2, 3;
-- empty, and NULL arrays (STRICT)
SELECT count(*) FROM leadmgmt.renewal_chains('{}', '{}');
SELECT count(*) FROM leadmgmt.renewal_chains(NULL, '{}');
-- a cycle starts no chain; a chain that runs into a cycle stops where it comes back
SELECT * FROM leadmgmt.renewal_chains('{1,2,3}', '{2,3,1}');
SELECT * FROM leadmgmt.renewal_chains('{1,2,3,4}', '{2,3,4,2}') ORDER BY 3;
-- two terms renewing into one (renewal's keys forbid it): each chain goes on through it
SELECT * FROM leadmgmt.renewal_chains('{1,2,3,4}', '{3,3,4,NULL}') ORDER BY 2, 3;
-- a term renewed into itself is no first term
SELECT count(*) FROM leadmgmt.renewal_chains('{5}', '{5}');
-- extreme ids
SELECT * FROM leadmgmt.renewal_chains(ARRAY[-9223372036854775808, 9223372036854775807]::bigint[],
                                      ARRAY[9223372036854775807, NULL]::bigint[]);
-- bad input
SELECT pg_temp.err($$SELECT * FROM leadmgmt.renewal_chains('{1,2}', '{2}')$$);
SELECT pg_temp.err($$SELECT * FROM leadmgmt.renewal_chains('{1,NULL}', '{2,NULL}')$$);
SELECT pg_temp.err($$SELECT * FROM leadmgmt.renewal_chains('{1,2,1}', '{2,NULL,NULL}')$$);
SELECT pg_temp.err($$SELECT * FROM leadmgmt.renewal_chains('{{1,2},{3,4}}', '{{2,3},{4,NULL}}')$$);
SELECT pg_temp.err($$SELECT * FROM leadmgmt.renewal_chains('{1,2}', '{{2,3}}')$$);
-- serial and forced-parallel give the same spells
SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
SELECT set_config(CASE WHEN current_setting('server_version_num')::int >= 160000
                       THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END, 'on', false) AS forced;
SELECT count(*), sum(terms), sum(lifetime_days)::numeric(20,4) FROM student_lifetime WHERE org_id = :o;
SELECT set_config(CASE WHEN current_setting('server_version_num')::int >= 160000
                       THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END, 'off', false) AS forced;
SELECT count(*), sum(terms), sum(lifetime_days)::numeric(20,4) FROM student_lifetime WHERE org_id = :o;
RESET parallel_setup_cost; RESET parallel_tuple_cost; RESET min_parallel_table_scan_size;
