-- ---------------------------------------------------------------------------
-- Service side: churn, renewal, refunds, classes, teachers, referrals
-- (docs/reference/service.md, docs/metrics.md): since 0.3
--
-- Definitions:
--   * a term's renewal is due at term_end + org.renewal_grace; it is renewed
--     when a renewal row from it is dated on or before that day;
--   * a spell is a chain of enrollments joined by timely renewals; a student
--     who comes back later starts a new (recurring) spell;
--   * a spell churns when its last term's renewal fell due before the as-of
--     day without one; otherwise it is censored at the as-of day;
--   * the as-of day is org.report_as_of, or today when that is NULL.
-- ---------------------------------------------------------------------------

CREATE VIEW @extschema@.student_term WITH (security_invoker = true) AS
WITH t AS (
  SELECT e.org_id, e.enrollment_id, e.student_id, e.class_id, cc.course_id, cc.teacher_id, cc.area,
         cc.term_start, cc.term_end, e.enrolled_at, e.status, e.ended_at,
         (cc.term_end + o.renewal_grace)::date AS renewal_due,
         (coalesce(o.report_as_of, now()) AT TIME ZONE o.timezone)::date AS as_of_day,
         r.renewed_at, r.to_enrollment_id, o.timezone
    FROM @extschema@.enrollment e
    JOIN @extschema@.org o ON o.org_id = e.org_id
    JOIN @extschema@.course_class cc ON cc.org_id = e.org_id AND cc.class_id = e.class_id
    LEFT JOIN @extschema@.renewal r ON r.org_id = e.org_id AND r.from_enrollment_id = e.enrollment_id
)
SELECT t.org_id, t.enrollment_id, t.student_id, t.class_id, t.course_id, t.teacher_id, t.area,
       t.term_start, t.term_end, t.enrolled_at, t.status, t.ended_at, t.renewal_due,
       CASE WHEN (t.renewed_at AT TIME ZONE t.timezone)::date <= t.as_of_day THEN t.renewed_at END AS renewed_at,
       CASE WHEN t.timely THEN t.to_enrollment_id END AS renewed_into,
       CASE WHEN t.timely THEN 'renewed'
            WHEN t.term_end >= t.as_of_day AND t.status = 'active' THEN 'in_term'
            WHEN t.renewal_due < t.as_of_day THEN 'churned'
            ELSE 'pending' END AS outcome,
       t.as_of_day
  FROM (SELECT t.*, coalesce((t.renewed_at AT TIME ZONE t.timezone)::date <= least(t.renewal_due, t.as_of_day), false) AS timely
          FROM t) t
 WHERE t.term_start <= t.as_of_day;
COMMENT ON VIEW @extschema@.student_term IS 'one row per enrollment (a student''s term in a class) that started by the as-of day, with its renewal outcome';
COMMENT ON COLUMN @extschema@.student_term.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.student_term.enrollment_id IS 'enrollment';
COMMENT ON COLUMN @extschema@.student_term.student_id IS 'student';
COMMENT ON COLUMN @extschema@.student_term.class_id IS 'class (班期)';
COMMENT ON COLUMN @extschema@.student_term.course_id IS 'course of the class';
COMMENT ON COLUMN @extschema@.student_term.teacher_id IS 'teacher of the class';
COMMENT ON COLUMN @extschema@.student_term.area IS 'home area of the class';
COMMENT ON COLUMN @extschema@.student_term.term_start IS 'first day of the term';
COMMENT ON COLUMN @extschema@.student_term.term_end IS 'last day of the term';
COMMENT ON COLUMN @extschema@.student_term.enrolled_at IS 'when the student joined the class';
COMMENT ON COLUMN @extschema@.student_term.status IS 'enrollment status: active, completed, dropped or refunded';
COMMENT ON COLUMN @extschema@.student_term.ended_at IS 'when the enrollment ended; NULL while active';
COMMENT ON COLUMN @extschema@.student_term.renewal_due IS 'last day a renewal counts: term end plus the org''s renewal grace';
COMMENT ON COLUMN @extschema@.student_term.renewed_at IS 'when the family renewed, if they did (even late)';
COMMENT ON COLUMN @extschema@.student_term.renewed_into IS 'the next enrollment of a timely renewal';
COMMENT ON COLUMN @extschema@.student_term.outcome IS 'renewed (in time), in_term (term still running), pending (ended, grace still open) or churned (grace passed without renewal)';
COMMENT ON COLUMN @extschema@.student_term.as_of_day IS 'the as-of day of the report, in the org''s time zone';

CREATE VIEW @extschema@.student_lifetime WITH (security_invoker = true) AS
-- the chains of renewals come from renewal_chains() over each org's terms
-- (since 0.12; a recursive CTE before, which Citus cannot plan)
WITH chain AS (
  SELECT g.org_id, c.enrollment_id, c.first_enrollment_id, c.term_no
    FROM (SELECT st.org_id, array_agg(st.enrollment_id) AS ids, array_agg(st.renewed_into) AS renewed_into
            FROM @extschema@.student_term st GROUP BY st.org_id) g
   CROSS JOIN LATERAL @extschema@.renewal_chains(g.ids, g.renewed_into) c
), spell AS (
  -- each spell's last term, carrying its first term's student, start and segments
  SELECT DISTINCT ON (t.org_id, c.first_enrollment_id)
         t.org_id, first_value(t.student_id) OVER w AS student_id, c.first_enrollment_id,
         first_value(t.enrolled_at) OVER w AS started_at, first_value(t.course_id) OVER w AS course_id,
         first_value(t.class_id) OVER w AS class_id, first_value(t.teacher_id) OVER w AS teacher_id,
         first_value(t.area) OVER w AS area,
         t.enrollment_id, t.term_end, t.ended_at, t.outcome, c.term_no AS terms
    FROM chain c
    JOIN @extschema@.student_term t ON t.org_id = c.org_id AND t.enrollment_id = c.enrollment_id
  WINDOW w AS (PARTITION BY t.org_id, c.first_enrollment_id ORDER BY c.term_no)
   ORDER BY t.org_id, c.first_enrollment_id, c.term_no DESC
), ends AS (
  SELECT s.*, o.timezone,
         CASE WHEN s.outcome = 'churned'
              THEN coalesce(s.ended_at, (s.term_end + 1)::timestamp AT TIME ZONE o.timezone)
              ELSE coalesce(o.report_as_of, now()) END AS end_at
    FROM spell s
    JOIN @extschema@.org o ON o.org_id = s.org_id
)
SELECT s.org_id, s.student_id,
       row_number() OVER (PARTITION BY s.org_id, s.student_id ORDER BY s.started_at, s.first_enrollment_id)::int AS spell_no,
       s.first_enrollment_id, s.enrollment_id AS last_enrollment_id, s.started_at,
       date_trunc('month', s.started_at AT TIME ZONE s.timezone)::date AS cohort_month,
       s.terms,
       CASE s.outcome WHEN 'in_term' THEN s.terms - 1 ELSE s.terms END AS completed_terms,
       s.outcome = 'churned' AS churned,
       s.end_at AS ended_at,
       greatest(0, extract(epoch FROM s.end_at - s.started_at) / 86400)::float8 AS lifetime_days,
       CASE WHEN stu.birth_date IS NULL THEN NULL
            ELSE (2 * floor(extract(year FROM age((s.started_at AT TIME ZONE s.timezone)::date, stu.birth_date)) / 2))::int END AS age_band_start,
       stu.grade, s.course_id, s.class_id, s.teacher_id, s.area, ld.first_channel_id AS channel_id
  FROM ends s
  JOIN @extschema@.student stu ON stu.org_id = s.org_id AND stu.student_id = s.student_id
  LEFT JOIN @extschema@.lead ld ON ld.org_id = stu.org_id AND ld.lead_id = stu.lead_id;
COMMENT ON VIEW @extschema@.student_lifetime IS 'one row per spell: a student''s run of terms joined by timely renewals, with its lifetime, whether it churned, and the segments it belongs to';
COMMENT ON COLUMN @extschema@.student_lifetime.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.student_lifetime.student_id IS 'student';
COMMENT ON COLUMN @extschema@.student_lifetime.spell_no IS '1 for the student''s first spell, 2 and up when they came back after churning (recurring)';
COMMENT ON COLUMN @extschema@.student_lifetime.first_enrollment_id IS 'first enrollment of the spell';
COMMENT ON COLUMN @extschema@.student_lifetime.last_enrollment_id IS 'last enrollment of the spell so far';
COMMENT ON COLUMN @extschema@.student_lifetime.started_at IS 'when the spell began (first enrollment)';
COMMENT ON COLUMN @extschema@.student_lifetime.cohort_month IS 'month the spell began, in the org''s time zone';
COMMENT ON COLUMN @extschema@.student_lifetime.terms IS 'terms started in the spell';
COMMENT ON COLUMN @extschema@.student_lifetime.completed_terms IS 'terms finished: the running term does not count yet';
COMMENT ON COLUMN @extschema@.student_lifetime.churned IS 'true when the spell churned; false when it is still going (censored)';
COMMENT ON COLUMN @extschema@.student_lifetime.ended_at IS 'churn time (end of the last term, or when the student dropped out), or the as-of time when censored';
COMMENT ON COLUMN @extschema@.student_lifetime.lifetime_days IS 'days from the start of the spell to ended_at';
COMMENT ON COLUMN @extschema@.student_lifetime.age_band_start IS 'two-year age band of the child when the spell began: 8 means 8-9 years old';
COMMENT ON COLUMN @extschema@.student_lifetime.grade IS 'school grade of the student';
COMMENT ON COLUMN @extschema@.student_lifetime.course_id IS 'course of the first class of the spell';
COMMENT ON COLUMN @extschema@.student_lifetime.class_id IS 'first class of the spell';
COMMENT ON COLUMN @extschema@.student_lifetime.teacher_id IS 'teacher of the first class';
COMMENT ON COLUMN @extschema@.student_lifetime.area IS 'home area of the first class';
COMMENT ON COLUMN @extschema@.student_lifetime.channel_id IS 'acquisition channel: the lead''s first channel';

CREATE VIEW @extschema@.student_segment WITH (security_invoker = true) AS
-- the segment names in a subquery before the lateral list (since 0.12):
-- Citus 13.0.5 crashes planning the outer joins when the list reads some
-- columns of student_lifetime itself under row-level security
SELECT x.org_id, x.student_id, x.spell_no, s.segment_kind, coalesce(s.segment, 'unknown') AS segment,
       x.lifetime_days, x.completed_terms, x.churned
  FROM (SELECT l.org_id, l.student_id, l.spell_no, l.lifetime_days, l.completed_terms, l.churned, l.area,
               l.age_band_start || '-' || (l.age_band_start + 1) AS age_band, 'grade ' || l.grade AS grade,
               c.code AS course, cc.name AS class, tc.name AS teacher, ch.code AS channel
          FROM @extschema@.student_lifetime l
          LEFT JOIN @extschema@.course c ON c.org_id = l.org_id AND c.course_id = l.course_id
          LEFT JOIN @extschema@.course_class cc ON cc.org_id = l.org_id AND cc.class_id = l.class_id
          LEFT JOIN @extschema@.teacher tc ON tc.org_id = l.org_id AND tc.teacher_id = l.teacher_id
          LEFT JOIN @extschema@.channel ch ON ch.org_id = l.org_id AND ch.channel_id = l.channel_id) x
 CROSS JOIN LATERAL (VALUES
   ('all', 'all'),
   ('age_band', x.age_band),
   ('grade', x.grade),
   ('course', x.course),
   ('class', x.class),
   ('teacher', x.teacher),
   ('area', x.area),
   ('channel', x.channel)) AS s(segment_kind, segment);
COMMENT ON VIEW @extschema@.student_segment IS 'each spell once per segment kind (all, age_band, grade, course, class, teacher, area, channel), for survival by segment';
COMMENT ON COLUMN @extschema@.student_segment.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.student_segment.student_id IS 'student';
COMMENT ON COLUMN @extschema@.student_segment.spell_no IS 'spell of the student, 1 for the first';
COMMENT ON COLUMN @extschema@.student_segment.segment_kind IS 'all, age_band, grade, course, class, teacher, area or channel';
COMMENT ON COLUMN @extschema@.student_segment.segment IS 'the segment: 8-9, grade 3, a course code, class name, teacher name, area or channel code; unknown when missing';
COMMENT ON COLUMN @extschema@.student_segment.lifetime_days IS 'days from the start of the spell to churn or the as-of time';
COMMENT ON COLUMN @extschema@.student_segment.completed_terms IS 'terms finished in the spell';
COMMENT ON COLUMN @extschema@.student_segment.churned IS 'true when the spell churned, false when censored';

CREATE VIEW @extschema@.segment_survival WITH (security_invoker = true) AS
SELECT g.org_id, g.segment_kind, g.segment, g.students, g.churned_students,
       round(g.churned_students::numeric / g.students, 4) AS churned_share,
       m.median AS median_lifetime_days, m.ci_low AS median_ci_low_days, m.ci_high AS median_ci_high_days,
       round(@extschema@.km_at(g.by_terms, 1)::numeric, 4) AS retained_after_1_term,
       round(@extschema@.km_at(g.by_terms, 2)::numeric, 4) AS retained_after_2_terms,
       round(@extschema@.km_at(g.by_terms, 4)::numeric, 4) AS retained_after_4_terms,
       round(@extschema@.km_rmst(g.by_days, 365)::numeric, 1) AS mean_days_in_first_year
  FROM (SELECT s.org_id, s.segment_kind, s.segment, count(*) AS students, count(*) FILTER (WHERE s.churned) AS churned_students,
               @extschema@.km_fit(s.lifetime_days, s.churned) AS by_days,
               @extschema@.km_fit(s.completed_terms, s.churned) AS by_terms
          FROM @extschema@.student_segment s
         GROUP BY s.org_id, s.segment_kind, s.segment) g
 CROSS JOIN LATERAL @extschema@.km_median(g.by_days) m;
COMMENT ON VIEW @extschema@.segment_survival IS 'Kaplan-Meier survival of student spells per segment: median lifetime with its 95% log-log interval, and the share retained after 1, 2 and 4 terms';
COMMENT ON COLUMN @extschema@.segment_survival.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.segment_survival.segment_kind IS 'all, age_band, grade, course, class, teacher, area or channel';
COMMENT ON COLUMN @extschema@.segment_survival.segment IS 'the segment within its kind';
COMMENT ON COLUMN @extschema@.segment_survival.students IS 'spells (students; a returning student counts once per spell)';
COMMENT ON COLUMN @extschema@.segment_survival.churned_students IS 'spells that churned by the as-of day';
COMMENT ON COLUMN @extschema@.segment_survival.churned_share IS 'churned spells / all spells, ignoring censoring (see the Kaplan-Meier columns for the fair comparison)';
COMMENT ON COLUMN @extschema@.segment_survival.median_lifetime_days IS 'Kaplan-Meier median lifetime in days; NULL when more than half are still enrolled';
COMMENT ON COLUMN @extschema@.segment_survival.median_ci_low_days IS 'lower end of the 95% interval of the median';
COMMENT ON COLUMN @extschema@.segment_survival.median_ci_high_days IS 'upper end of the 95% interval of the median; NULL when not reached';
COMMENT ON COLUMN @extschema@.segment_survival.retained_after_1_term IS 'Kaplan-Meier share of spells that renewed after their first term';
COMMENT ON COLUMN @extschema@.segment_survival.retained_after_2_terms IS 'Kaplan-Meier share still enrolled after 2 terms';
COMMENT ON COLUMN @extschema@.segment_survival.retained_after_4_terms IS 'Kaplan-Meier share still enrolled after 4 terms';
COMMENT ON COLUMN @extschema@.segment_survival.mean_days_in_first_year IS 'restricted mean lifetime over the first 365 days';

CREATE VIEW @extschema@.segment_churn_test WITH (security_invoker = true) AS
SELECT g.org_id, g.segment_kind, e.grp AS segment, e.subjects::bigint AS students, e.events::bigint AS churned_students,
       round(e.expected::numeric, 2) AS expected_churned,
       round((e.events / nullif(e.expected, 0))::numeric, 3) AS churn_ratio,
       -- the chi-squared approximation needs some expected churn on both sides
       CASE WHEN e.expected >= 5 AND g.churned - e.expected >= 5 THEN round(e.chi2::numeric, 4) END AS chi2,
       CASE WHEN e.expected >= 5 AND g.churned - e.expected >= 5 THEN e.p_value END AS p_value
  FROM (SELECT s.org_id, s.segment_kind, count(*) FILTER (WHERE s.churned) AS churned,
               @extschema@.survival_by(s.segment, s.lifetime_days, s.churned) AS st
          FROM @extschema@.student_segment s
         WHERE s.segment_kind <> 'all'
         GROUP BY s.org_id, s.segment_kind) g
 CROSS JOIN LATERAL @extschema@.logrank_each(g.st) e;
COMMENT ON VIEW @extschema@.segment_churn_test IS 'log-rank test of each segment against the rest of its kind: churn ratio (observed / expected churn) and p-value; sort by p_value to find where churn differs';
COMMENT ON COLUMN @extschema@.segment_churn_test.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.segment_churn_test.segment_kind IS 'age_band, grade, course, class, teacher, area or channel';
COMMENT ON COLUMN @extschema@.segment_churn_test.segment IS 'the segment tested against all others of its kind';
COMMENT ON COLUMN @extschema@.segment_churn_test.students IS 'spells in the segment';
COMMENT ON COLUMN @extschema@.segment_churn_test.churned_students IS 'spells of the segment that churned';
COMMENT ON COLUMN @extschema@.segment_churn_test.expected_churned IS 'churn expected if the segment churned like the rest';
COMMENT ON COLUMN @extschema@.segment_churn_test.churn_ratio IS 'churned / expected: above 1 churns faster than the rest';
COMMENT ON COLUMN @extschema@.segment_churn_test.chi2 IS 'log-rank chi-squared statistic, 1 degree of freedom; NULL when the segment or the rest expects fewer than 5 churns (too few to test)';
COMMENT ON COLUMN @extschema@.segment_churn_test.p_value IS 'p-value of the log-rank test; small means the segment''s survival differs from the rest; NULL when too few to test';

CREATE VIEW @extschema@.cohort_retention WITH (security_invoker = true) AS
-- since 0.15 each spell reads its student's months (the terms through the
-- (org_id, student_id) index) in a LATERAL subquery: a join with the months
-- of every student, planned as a nested loop when the filtered spells were
-- estimated at one row, ran for minutes where a BI tool filtered on org,
-- kind and month (#22)
WITH member AS (
  -- retention(): [active in the cohort month, ... and active k months later] per student
  SELECT x.org_id, x.student_id, x.cohort_month, x.cohort_kind,
         @extschema@.retention(x.k = 0, x.k = 1, x.k = 2, x.k = 3, x.k = 4, x.k = 5, x.k = 6,
                               x.k = 7, x.k = 8, x.k = 9, x.k = 10, x.k = 11, x.k = 12) AS on_month,
         max(x.month) AS last_month
    FROM (SELECT l.org_id, l.student_id, l.spell_no, l.cohort_month, a.month,
                 CASE WHEN l.spell_no = 1 THEN 'first_time' ELSE 'recurring' END AS cohort_kind,
                 ((extract(year FROM a.month) - extract(year FROM l.cohort_month)) * 12
                  + extract(month FROM a.month) - extract(month FROM l.cohort_month))::int AS k
            FROM @extschema@.student_lifetime l
           CROSS JOIN LATERAL (
             -- months in which the student had an enrollment running, up to the as-of day
             SELECT DISTINCT m::date AS month
               FROM @extschema@.student_term t
               JOIN @extschema@.org o ON o.org_id = t.org_id
              CROSS JOIN LATERAL generate_series(date_trunc('month', t.enrolled_at AT TIME ZONE o.timezone),
                                                 date_trunc('month', least(coalesce(t.ended_at AT TIME ZONE o.timezone, t.term_end),
                                                                           t.as_of_day)), interval '1 month') m
              WHERE t.org_id = l.org_id AND t.student_id = l.student_id) a
           WHERE a.month >= l.cohort_month) x
   GROUP BY x.org_id, x.student_id, x.spell_no, x.cohort_month, x.cohort_kind
)
SELECT m.org_id, m.cohort_month, m.cohort_kind, (k.i - 1)::int AS months_since,
       count(*) AS cohort_students,
       sum(m.on_month[k.i]) AS active_students,
       count(*) FILTER (WHERE m.last_month >= (m.cohort_month + (k.i - 1) * interval '1 month')::date) AS active_or_later_students,
       round(sum(m.on_month[k.i])::numeric / count(*), 4) AS retention_on,
       round((count(*) FILTER (WHERE m.last_month >= (m.cohort_month + (k.i - 1) * interval '1 month')::date))::numeric / count(*), 4) AS retention_on_or_after
  FROM member m
  JOIN @extschema@.org o ON o.org_id = m.org_id
 CROSS JOIN LATERAL generate_series(1, 13) k(i)
 WHERE (m.cohort_month + (k.i - 1) * interval '1 month')::date
       <= date_trunc('month', coalesce(o.report_as_of, now()) AT TIME ZONE o.timezone)::date
 GROUP BY m.org_id, m.cohort_month, m.cohort_kind, k.i;
COMMENT ON VIEW @extschema@.cohort_retention IS 'cohort retention matrix: students who began a spell in a month, and how many were active that many months later ("on") or then or later ("on or after"), first-time and recurring apart; months 0 to 12';
COMMENT ON COLUMN @extschema@.cohort_retention.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.cohort_retention.cohort_month IS 'month the spells began';
COMMENT ON COLUMN @extschema@.cohort_retention.cohort_kind IS 'first_time (the student''s first spell) or recurring (a returning student)';
COMMENT ON COLUMN @extschema@.cohort_retention.months_since IS 'months after the cohort month, 0 to 12';
COMMENT ON COLUMN @extschema@.cohort_retention.cohort_students IS 'students in the cohort';
COMMENT ON COLUMN @extschema@.cohort_retention.active_students IS 'students of the cohort with a term running in that month';
COMMENT ON COLUMN @extschema@.cohort_retention.active_or_later_students IS 'students of the cohort active in that month or any later one';
COMMENT ON COLUMN @extschema@.cohort_retention.retention_on IS 'active_students / cohort_students';
COMMENT ON COLUMN @extschema@.cohort_retention.retention_on_or_after IS 'active_or_later_students / cohort_students';

CREATE VIEW @extschema@.renewal_rate WITH (security_invoker = true) AS
-- each term counts once overall and once by its course, teacher and class: a
-- join to the list of breakdowns (no GROUPING SETS, which Citus cannot plan)
SELECT t.org_id, date_trunc('month', t.term_end)::date AS term_end_month,
       b.breakdown,
       coalesce(CASE b.breakdown WHEN 'class' THEN t.class_id WHEN 'teacher' THEN t.teacher_id
                                 WHEN 'course' THEN t.course_id END, 0) AS breakdown_id,
       coalesce(CASE b.breakdown WHEN 'class' THEN max(cc.name) WHEN 'teacher' THEN max(tc.name)
                                 WHEN 'course' THEN max(c.name) ELSE 'all' END, 'unknown') AS breakdown_name,
       count(*) FILTER (WHERE t.outcome IN ('renewed', 'churned')) AS up_for_renewal,
       count(*) FILTER (WHERE t.outcome = 'renewed') AS renewed,
       count(*) FILTER (WHERE t.outcome = 'pending') AS pending,
       round((count(*) FILTER (WHERE t.outcome = 'renewed'))::numeric
             / nullif(count(*) FILTER (WHERE t.outcome IN ('renewed', 'churned')), 0), 4) AS renewal_rate,
       count(*) FILTER (WHERE t.outcome = 'renewed' AND nx.course_id = t.course_id) AS continued_same_course,
       round((count(*) FILTER (WHERE t.outcome = 'renewed' AND nx.course_id = t.course_id))::numeric
             / nullif(count(*) FILTER (WHERE t.outcome IN ('renewed', 'churned')), 0), 4) AS continuation_rate
  FROM @extschema@.student_term t
  LEFT JOIN @extschema@.student_term nx ON nx.org_id = t.org_id AND nx.enrollment_id = t.renewed_into
  LEFT JOIN @extschema@.course c ON c.org_id = t.org_id AND c.course_id = t.course_id
  LEFT JOIN @extschema@.teacher tc ON tc.org_id = t.org_id AND tc.teacher_id = t.teacher_id
  LEFT JOIN @extschema@.course_class cc ON cc.org_id = t.org_id AND cc.class_id = t.class_id
 CROSS JOIN (VALUES ('all'::text), ('course'), ('teacher'), ('class')) AS b(breakdown)
 WHERE t.outcome <> 'in_term'
 GROUP BY t.org_id, date_trunc('month', t.term_end), b.breakdown,
          CASE b.breakdown WHEN 'class' THEN t.class_id WHEN 'teacher' THEN t.teacher_id WHEN 'course' THEN t.course_id END;
COMMENT ON VIEW @extschema@.renewal_rate IS 'renewal rate (续费率) and class continuation rate (续班率) by month of term end, overall and by course, teacher and class';
COMMENT ON COLUMN @extschema@.renewal_rate.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.renewal_rate.term_end_month IS 'month in which the terms ended';
COMMENT ON COLUMN @extschema@.renewal_rate.breakdown IS 'all, course, teacher or class';
COMMENT ON COLUMN @extschema@.renewal_rate.breakdown_id IS 'course, teacher or class id; 0 for all';
COMMENT ON COLUMN @extschema@.renewal_rate.breakdown_name IS 'course, teacher or class name; all for all';
COMMENT ON COLUMN @extschema@.renewal_rate.up_for_renewal IS 'terms whose renewal was decided: renewed in time, or the grace period passed (the denominator)';
COMMENT ON COLUMN @extschema@.renewal_rate.renewed IS 'terms renewed within the grace period';
COMMENT ON COLUMN @extschema@.renewal_rate.pending IS 'terms ended whose grace period is still open and not renewed yet (left out of the rate)';
COMMENT ON COLUMN @extschema@.renewal_rate.renewal_rate IS 'renewed / up_for_renewal (续费率)';
COMMENT ON COLUMN @extschema@.renewal_rate.continued_same_course IS 'renewals into a class of the same course (the next term of it)';
COMMENT ON COLUMN @extschema@.renewal_rate.continuation_rate IS 'continued_same_course / up_for_renewal (续班率; same denominator as renewal_rate)';

CREATE VIEW @extschema@.refund_rate WITH (security_invoker = true) AS
-- each paid order counts once overall and once by its course (a join to the
-- list of breakdowns, not GROUPING SETS)
SELECT so.org_id, date_trunc('month', so.paid_at AT TIME ZONE o.timezone)::date AS paid_month,
       b.breakdown,
       CASE b.breakdown WHEN 'course' THEN coalesce(max(c.name), 'no course') ELSE 'all' END AS breakdown_name,
       count(*) AS paid_orders,
       count(*) FILTER (WHERE rf.refunded > 0) AS refunded_orders,
       round((count(*) FILTER (WHERE rf.refunded > 0))::numeric / count(*), 4) AS refund_rate_by_count,
       sum(so.amount) AS paid_amount,
       coalesce(sum(rf.refunded), 0) AS refunded_amount,
       round(coalesce(sum(rf.refunded), 0) / nullif(sum(so.amount), 0), 4) AS refund_rate_by_amount
  FROM @extschema@.sales_order so
  JOIN @extschema@.org o ON o.org_id = so.org_id
  LEFT JOIN @extschema@.course c ON c.org_id = so.org_id AND c.course_id = so.course_id
  LEFT JOIN (SELECT r.org_id, r.order_id, sum(r.amount) AS refunded FROM @extschema@.refund r GROUP BY r.org_id, r.order_id) rf
         ON rf.org_id = so.org_id AND rf.order_id = so.order_id
 CROSS JOIN (VALUES ('all'::text), ('course')) AS b(breakdown)
 WHERE so.status = 'paid'
 GROUP BY so.org_id, date_trunc('month', so.paid_at AT TIME ZONE o.timezone), b.breakdown,
          CASE b.breakdown WHEN 'course' THEN so.course_id END;
COMMENT ON VIEW @extschema@.refund_rate IS 'refund rate by count and by amount, by month of payment (refunds count in the month the order was paid), overall and by course';
COMMENT ON COLUMN @extschema@.refund_rate.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.refund_rate.paid_month IS 'month the orders were paid, in the org''s time zone';
COMMENT ON COLUMN @extschema@.refund_rate.breakdown IS 'all or course';
COMMENT ON COLUMN @extschema@.refund_rate.breakdown_name IS 'course name; all for all';
COMMENT ON COLUMN @extschema@.refund_rate.paid_orders IS 'paid orders';
COMMENT ON COLUMN @extschema@.refund_rate.refunded_orders IS 'paid orders with any refund';
COMMENT ON COLUMN @extschema@.refund_rate.refund_rate_by_count IS 'refunded_orders / paid_orders';
COMMENT ON COLUMN @extschema@.refund_rate.paid_amount IS 'amount paid';
COMMENT ON COLUMN @extschema@.refund_rate.refunded_amount IS 'amount refunded of those orders';
COMMENT ON COLUMN @extschema@.refund_rate.refund_rate_by_amount IS 'refunded_amount / paid_amount';

CREATE VIEW @extschema@.class_health WITH (security_invoker = true) AS
SELECT cc.org_id, cc.class_id, cc.name AS class_name, cc.course_id, cc.teacher_id, cc.term_start, cc.term_end, cc.status,
       coalesce(en.students, 0) AS students,
       coalesce(ls.lessons_held, 0) AS lessons_held,
       round(at.attended::numeric / nullif(at.expected, 0), 4) AS attendance_rate,
       coalesce(hw.homework_due, 0) AS homework_due,
       round(hs.submitted::numeric / nullif(hw.homework_due * en.students, 0), 4) AS homework_submission_rate,
       round(hs.on_time::numeric / nullif(hs.submitted, 0), 4) AS homework_on_time_rate,
       round(hs.avg_score, 1) AS average_grade
  FROM @extschema@.course_class cc
  JOIN @extschema@.org o ON o.org_id = cc.org_id
  LEFT JOIN (SELECT e.org_id, e.class_id, count(*) AS students FROM @extschema@.enrollment e GROUP BY 1, 2) en
         ON en.org_id = cc.org_id AND en.class_id = cc.class_id
  LEFT JOIN LATERAL (SELECT count(*) AS lessons_held FROM @extschema@.lesson l
                      WHERE l.org_id = cc.org_id AND l.class_id = cc.class_id
                        AND l.starts_at <= coalesce(o.report_as_of, now())) ls ON true
  LEFT JOIN LATERAL (SELECT count(*) FILTER (WHERE a.status IN ('present', 'late')) AS attended,
                            count(*) FILTER (WHERE a.status <> 'excused') AS expected
                       FROM @extschema@.lesson l
                       JOIN @extschema@.attendance a ON a.org_id = l.org_id AND a.lesson_id = l.lesson_id
                      WHERE l.org_id = cc.org_id AND l.class_id = cc.class_id) at ON true
  LEFT JOIN LATERAL (SELECT count(*) AS homework_due FROM @extschema@.lesson l
                       JOIN @extschema@.homework h ON h.org_id = l.org_id AND h.lesson_id = l.lesson_id
                      WHERE l.org_id = cc.org_id AND l.class_id = cc.class_id
                        AND h.due_at <= coalesce(o.report_as_of, now())) hw ON true
  LEFT JOIN LATERAL (SELECT count(*) AS submitted, count(*) FILTER (WHERE s.submitted_at <= h.due_at) AS on_time,
                            avg(s.score) AS avg_score
                       FROM @extschema@.lesson l
                       JOIN @extschema@.homework h ON h.org_id = l.org_id AND h.lesson_id = l.lesson_id
                       JOIN @extschema@.homework_submission s ON s.org_id = h.org_id AND s.homework_id = h.homework_id
                      WHERE l.org_id = cc.org_id AND l.class_id = cc.class_id
                        AND h.due_at <= coalesce(o.report_as_of, now())) hs ON true;
COMMENT ON VIEW @extschema@.class_health IS 'health of each class: attendance, homework submission and on-time rates, average grade';
COMMENT ON COLUMN @extschema@.class_health.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.class_health.class_id IS 'class';
COMMENT ON COLUMN @extschema@.class_health.class_name IS 'class name';
COMMENT ON COLUMN @extschema@.class_health.course_id IS 'course';
COMMENT ON COLUMN @extschema@.class_health.teacher_id IS 'teacher';
COMMENT ON COLUMN @extschema@.class_health.term_start IS 'first day of the term';
COMMENT ON COLUMN @extschema@.class_health.term_end IS 'last day of the term';
COMMENT ON COLUMN @extschema@.class_health.status IS 'planned, running, finished or cancelled';
COMMENT ON COLUMN @extschema@.class_health.students IS 'students enrolled, whatever their status';
COMMENT ON COLUMN @extschema@.class_health.lessons_held IS 'lessons started by the as-of time';
COMMENT ON COLUMN @extschema@.class_health.attendance_rate IS 'present or late / attendance records that are not excused';
COMMENT ON COLUMN @extschema@.class_health.homework_due IS 'homework due by the as-of time';
COMMENT ON COLUMN @extschema@.class_health.homework_submission_rate IS 'submissions / (homework due x students)';
COMMENT ON COLUMN @extschema@.class_health.homework_on_time_rate IS 'submissions handed in by the deadline / submissions';
COMMENT ON COLUMN @extschema@.class_health.average_grade IS 'average score of graded submissions, 0 to 100';

CREATE VIEW @extschema@.teacher_load WITH (security_invoker = true) AS
SELECT tc.org_id, tc.teacher_id, tc.name AS teacher_name, tc.kind,
       count(DISTINCT cc.class_id) FILTER (WHERE cc.term_start <= (coalesce(o.report_as_of, now()) AT TIME ZONE o.timezone)::date
                                             AND cc.term_end >= (coalesce(o.report_as_of, now()) AT TIME ZONE o.timezone)::date) AS classes_running,
       count(DISTINCT t.student_id) FILTER (WHERE t.status = 'active' AND cc.term_end >= t.as_of_day) AS students_in_term,
       count(DISTINCT cc.class_id) AS classes_taught,
       count(DISTINCT t.student_id) AS students_taught,
       round((count(*) FILTER (WHERE t.outcome = 'renewed'))::numeric
             / nullif(count(*) FILTER (WHERE t.outcome IN ('renewed', 'churned')), 0), 4) AS renewal_rate
  FROM @extschema@.teacher tc
  JOIN @extschema@.org o ON o.org_id = tc.org_id
  LEFT JOIN @extschema@.course_class cc ON cc.org_id = tc.org_id AND cc.teacher_id = tc.teacher_id
  LEFT JOIN @extschema@.student_term t ON t.org_id = cc.org_id AND t.class_id = cc.class_id
 GROUP BY tc.org_id, tc.teacher_id, tc.name, tc.kind;
COMMENT ON VIEW @extschema@.teacher_load IS 'load of each teacher: classes and students now and in all, and the renewal rate of their students';
COMMENT ON COLUMN @extschema@.teacher_load.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.teacher_load.teacher_id IS 'teacher';
COMMENT ON COLUMN @extschema@.teacher_load.teacher_name IS 'teacher name';
COMMENT ON COLUMN @extschema@.teacher_load.kind IS 'trial, formal or tutor';
COMMENT ON COLUMN @extschema@.teacher_load.classes_running IS 'classes whose term includes the as-of day';
COMMENT ON COLUMN @extschema@.teacher_load.students_in_term IS 'students in a running term of their classes';
COMMENT ON COLUMN @extschema@.teacher_load.classes_taught IS 'classes taught, all terms';
COMMENT ON COLUMN @extschema@.teacher_load.students_taught IS 'distinct students taught, all terms';
COMMENT ON COLUMN @extschema@.teacher_load.renewal_rate IS 'renewal rate of the terms they taught';

CREATE VIEW @extschema@.at_risk_students WITH (security_invoker = true) AS
SELECT t.org_id, t.student_id, stu.name AS student_name, t.enrollment_id, t.class_id, cc.name AS class_name,
       t.term_end, (t.term_end - t.as_of_day) AS days_left,
       round(at.attended::numeric / nullif(at.expected, 0), 4) AS attendance_rate,
       coalesce(hw.missed, 0) AS homework_missed,
       CASE WHEN coalesce(at.attended::numeric / nullif(at.expected, 0), 1) < o.at_risk_attendance
              OR coalesce(hw.missed, 0) > 0 THEN 'high' ELSE 'watch' END AS risk_level,
       array_remove(ARRAY[CASE WHEN at.attended::numeric / nullif(at.expected, 0) < o.at_risk_attendance THEN 'low attendance' END,
                          CASE WHEN hw.missed > 0 THEN 'missed homework' END], NULL) AS risk_reasons
  FROM @extschema@.student_term t
  JOIN @extschema@.org o ON o.org_id = t.org_id
  JOIN @extschema@.student stu ON stu.org_id = t.org_id AND stu.student_id = t.student_id
  JOIN @extschema@.course_class cc ON cc.org_id = t.org_id AND cc.class_id = t.class_id
  LEFT JOIN LATERAL (SELECT count(*) FILTER (WHERE a.status IN ('present', 'late')) AS attended,
                            count(*) FILTER (WHERE a.status <> 'excused') AS expected
                       FROM @extschema@.lesson l
                       JOIN @extschema@.attendance a ON a.org_id = l.org_id AND a.lesson_id = l.lesson_id
                      WHERE l.org_id = t.org_id AND l.class_id = t.class_id AND a.student_id = t.student_id) at ON true
  LEFT JOIN LATERAL (SELECT count(*) AS missed
                       FROM @extschema@.lesson l
                       JOIN @extschema@.homework h ON h.org_id = l.org_id AND h.lesson_id = l.lesson_id
                      WHERE l.org_id = t.org_id AND l.class_id = t.class_id
                        AND h.due_at <= coalesce(o.report_as_of, now())
                        AND NOT EXISTS (SELECT 1 FROM @extschema@.homework_submission s
                                         WHERE s.org_id = h.org_id AND s.homework_id = h.homework_id
                                           AND s.student_id = t.student_id)) hw ON true
 WHERE t.outcome = 'in_term' AND t.renewed_at IS NULL
   AND t.term_end <= (t.as_of_day + o.at_risk_horizon)::date;
COMMENT ON VIEW @extschema@.at_risk_students IS 'students whose term ends within the org''s at_risk_horizon and who have not renewed yet; high risk when attendance is below at_risk_attendance or homework was missed';
COMMENT ON COLUMN @extschema@.at_risk_students.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.at_risk_students.student_id IS 'student';
COMMENT ON COLUMN @extschema@.at_risk_students.student_name IS 'student name';
COMMENT ON COLUMN @extschema@.at_risk_students.enrollment_id IS 'the running enrollment';
COMMENT ON COLUMN @extschema@.at_risk_students.class_id IS 'class';
COMMENT ON COLUMN @extschema@.at_risk_students.class_name IS 'class name';
COMMENT ON COLUMN @extschema@.at_risk_students.term_end IS 'last day of the term';
COMMENT ON COLUMN @extschema@.at_risk_students.days_left IS 'days from the as-of day to the end of the term';
COMMENT ON COLUMN @extschema@.at_risk_students.attendance_rate IS 'the student''s present or late / not excused records this term';
COMMENT ON COLUMN @extschema@.at_risk_students.homework_missed IS 'homework due this term that the student did not hand in';
COMMENT ON COLUMN @extschema@.at_risk_students.risk_level IS 'high (low attendance or missed homework) or watch';
COMMENT ON COLUMN @extschema@.at_risk_students.risk_reasons IS 'why the risk is high: low attendance, missed homework';

CREATE VIEW @extschema@.referral_performance WITH (security_invoker = true) AS
SELECT r.org_id, r.referrer_student_id, stu.name AS referrer_name,
       count(*) AS referrals,
       count(*) FILTER (WHERE paid.lead_id IS NOT NULL) AS referred_paid,
       round((count(*) FILTER (WHERE paid.lead_id IS NOT NULL))::numeric / count(*), 4) AS referred_conversion_rate,
       coalesce(sum(r.reward), 0) AS rewards,
       min(r.referred_at) AS first_referral_at,
       max(r.referred_at) AS last_referral_at
  FROM @extschema@.referral r
  JOIN @extschema@.student stu ON stu.org_id = r.org_id AND stu.student_id = r.referrer_student_id
  LEFT JOIN LATERAL (SELECT so.lead_id FROM @extschema@.sales_order so
                      WHERE so.org_id = r.org_id AND so.lead_id = r.referred_lead_id AND so.status = 'paid'
                      LIMIT 1) paid ON true
 GROUP BY r.org_id, r.referrer_student_id, stu.name;
COMMENT ON VIEW @extschema@.referral_performance IS 'referrals (转介绍) per referring student, and how many referred leads became paying students';
COMMENT ON COLUMN @extschema@.referral_performance.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.referral_performance.referrer_student_id IS 'student who referred';
COMMENT ON COLUMN @extschema@.referral_performance.referrer_name IS 'name of the student who referred';
COMMENT ON COLUMN @extschema@.referral_performance.referrals IS 'leads the student referred';
COMMENT ON COLUMN @extschema@.referral_performance.referred_paid IS 'referred leads with a paid order';
COMMENT ON COLUMN @extschema@.referral_performance.referred_conversion_rate IS 'referred_paid / referrals';
COMMENT ON COLUMN @extschema@.referral_performance.rewards IS 'rewards paid to the referrer';
COMMENT ON COLUMN @extschema@.referral_performance.first_referral_at IS 'first referral';
COMMENT ON COLUMN @extschema@.referral_performance.last_referral_at IS 'latest referral';
