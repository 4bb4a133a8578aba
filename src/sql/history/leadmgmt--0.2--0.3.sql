-- leadmgmt 0.2 -> 0.3, built from src/sql/parts: 95_survival 96_service 97_logreg 98_model 99_attribution 99b_roi

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION leadmgmt UPDATE TO '0.3'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- Survival analysis (src/survival.c, docs/reference/survival.md): since 0.3
-- ---------------------------------------------------------------------------

CREATE TYPE @extschema@.survival;

CREATE FUNCTION @extschema@.survival_in(cstring) RETURNS @extschema@.survival
AS 'MODULE_PATHNAME', 'leadmgmt_survival_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.survival_in(cstring) IS 'text input of survival: v1: followed by the hex of its binary form';
CREATE FUNCTION @extschema@.survival_out(@extschema@.survival) RETURNS cstring
AS 'MODULE_PATHNAME', 'leadmgmt_survival_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.survival_out(@extschema@.survival) IS 'text output of survival, exact, so partial states can travel as text (Citus)';
CREATE FUNCTION @extschema@.survival_recv(internal) RETURNS @extschema@.survival
AS 'MODULE_PATHNAME', 'leadmgmt_survival_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.survival_recv(internal) IS 'binary input of survival (versioned)';
CREATE FUNCTION @extschema@.survival_send(@extschema@.survival) RETURNS bytea
AS 'MODULE_PATHNAME', 'leadmgmt_survival_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.survival_send(@extschema@.survival) IS 'binary output of survival (versioned)';

CREATE TYPE @extschema@.survival (
  INPUT = @extschema@.survival_in,
  OUTPUT = @extschema@.survival_out,
  RECEIVE = @extschema@.survival_recv,
  SEND = @extschema@.survival_send,
  INTERNALLENGTH = VARIABLE,
  ALIGNMENT = double,
  STORAGE = external
);
COMMENT ON TYPE @extschema@.survival IS 'right-censored (optionally left-truncated, weighted) survival data: weighted events, censored exits and late entries per time and group; the result of km_fit and survival_by';

CREATE TYPE @extschema@.logrank_result AS (
  chi2 float8, df integer, p_value float8, groups text[], observed float8[], expected float8[]);
COMMENT ON TYPE @extschema@.logrank_result IS 'result of logrank: the k-sample log-rank test, as R survdiff';
COMMENT ON COLUMN @extschema@.logrank_result.chi2 IS 'chi-squared statistic';
COMMENT ON COLUMN @extschema@.logrank_result.df IS 'degrees of freedom: groups - 1, less any that carry no information';
COMMENT ON COLUMN @extschema@.logrank_result.p_value IS 'p-value of the chi-squared statistic; NULL when df is 0 (no events)';
COMMENT ON COLUMN @extschema@.logrank_result.groups IS 'the groups, in name order';
COMMENT ON COLUMN @extschema@.logrank_result.observed IS 'observed events per group';
COMMENT ON COLUMN @extschema@.logrank_result.expected IS 'expected events per group if all groups shared one survival curve';

CREATE FUNCTION @extschema@.km_transfn(@extschema@.survival, float8, boolean)
RETURNS @extschema@.survival
AS 'MODULE_PATHNAME', 'leadmgmt_km_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.km_transfn(@extschema@.survival, float8, boolean) IS 'transition of km_fit(duration, event)';
CREATE FUNCTION @extschema@.km_transfn(@extschema@.survival, float8, boolean, float8)
RETURNS @extschema@.survival
AS 'MODULE_PATHNAME', 'leadmgmt_km_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.km_transfn(@extschema@.survival, float8, boolean, float8) IS 'transition of km_fit(duration, event, weight)';
CREATE FUNCTION @extschema@.km_transfn(@extschema@.survival, float8, float8, boolean)
RETURNS @extschema@.survival
AS 'MODULE_PATHNAME', 'leadmgmt_km_transfn_entry' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.km_transfn(@extschema@.survival, float8, float8, boolean) IS 'transition of km_fit(entry, duration, event)';
CREATE FUNCTION @extschema@.km_transfn(@extschema@.survival, float8, float8, boolean, float8)
RETURNS @extschema@.survival
AS 'MODULE_PATHNAME', 'leadmgmt_km_transfn_entry' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.km_transfn(@extschema@.survival, float8, float8, boolean, float8) IS 'transition of km_fit(entry, duration, event, weight)';
CREATE FUNCTION @extschema@.survival_by_transfn(@extschema@.survival, text, float8, boolean)
RETURNS @extschema@.survival
AS 'MODULE_PATHNAME', 'leadmgmt_logrank_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.survival_by_transfn(@extschema@.survival, text, float8, boolean) IS 'transition of survival_by(grp, duration, event) and logrank(grp, duration, event)';
CREATE FUNCTION @extschema@.survival_combine(@extschema@.survival, @extschema@.survival)
RETURNS @extschema@.survival
AS 'MODULE_PATHNAME', 'leadmgmt_survival_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.survival_combine(@extschema@.survival, @extschema@.survival) IS 'combines two partial survival states (parallel workers, Citus)';
CREATE FUNCTION @extschema@.survival_final(@extschema@.survival) RETURNS @extschema@.survival
AS 'MODULE_PATHNAME', 'leadmgmt_km_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.survival_final(@extschema@.survival) IS 'final of km_fit and survival_by: the state sorted and merged, without spare room';
CREATE FUNCTION @extschema@.logrank_final(@extschema@.survival) RETURNS @extschema@.logrank_result
AS 'MODULE_PATHNAME', 'leadmgmt_logrank_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.logrank_final(@extschema@.survival) IS 'final of logrank: the k-sample log-rank test';

CREATE AGGREGATE @extschema@.km_fit(duration float8, event boolean) (
  SFUNC = @extschema@.km_transfn, STYPE = @extschema@.survival, SSPACE = 4096,
  COMBINEFUNC = @extschema@.survival_combine, FINALFUNC = @extschema@.survival_final,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.km_fit(float8, boolean) IS 'Kaplan-Meier data of right-censored durations (event false = censored); read it with km_curve, km_median, km_at, km_rmst';
CREATE AGGREGATE @extschema@.km_fit(duration float8, event boolean, weight float8) (
  SFUNC = @extschema@.km_transfn, STYPE = @extschema@.survival, SSPACE = 4096,
  COMBINEFUNC = @extschema@.survival_combine, FINALFUNC = @extschema@.survival_final,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.km_fit(float8, boolean, float8) IS 'km_fit with case weights (finite, not negative)';
CREATE AGGREGATE @extschema@.km_fit(entry float8, duration float8, event boolean) (
  SFUNC = @extschema@.km_transfn, STYPE = @extschema@.survival, SSPACE = 4096,
  COMBINEFUNC = @extschema@.survival_combine, FINALFUNC = @extschema@.survival_final,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.km_fit(float8, float8, boolean) IS 'km_fit with late entry (left truncation): a subject is at risk on (entry, duration]';
CREATE AGGREGATE @extschema@.km_fit(entry float8, duration float8, event boolean, weight float8) (
  SFUNC = @extschema@.km_transfn, STYPE = @extschema@.survival, SSPACE = 4096,
  COMBINEFUNC = @extschema@.survival_combine, FINALFUNC = @extschema@.survival_final,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.km_fit(float8, float8, boolean, float8) IS 'km_fit with late entry and case weights';
CREATE AGGREGATE @extschema@.survival_by(grp text, duration float8, event boolean) (
  SFUNC = @extschema@.survival_by_transfn, STYPE = @extschema@.survival, SSPACE = 4096,
  COMBINEFUNC = @extschema@.survival_combine, FINALFUNC = @extschema@.survival_final,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.survival_by(text, float8, boolean) IS 'survival data kept apart per group; read it with logrank_each, or pooled with the km_ readers';
CREATE AGGREGATE @extschema@.logrank(grp text, duration float8, event boolean) (
  SFUNC = @extschema@.survival_by_transfn, STYPE = @extschema@.survival, SSPACE = 4096,
  COMBINEFUNC = @extschema@.survival_combine, FINALFUNC = @extschema@.logrank_final,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.logrank(text, float8, boolean) IS 'log-rank test of equal survival across 2 to 200 groups, as R survdiff: chi2, df, p_value';

CREATE AGGREGATE @extschema@.survival_merge(s @extschema@.survival) (
  SFUNC = @extschema@.survival_combine, STYPE = @extschema@.survival, SSPACE = 4096,
  COMBINEFUNC = @extschema@.survival_combine, FINALFUNC = @extschema@.survival_final,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.survival_merge(@extschema@.survival) IS 'merges stored survival values (say one per day or segment) into one, as if fitted over all their rows';

CREATE FUNCTION @extschema@.km_curve(s @extschema@.survival, conf_type text DEFAULT 'log-log', alpha float8 DEFAULT 0.05)
RETURNS TABLE (t float8, n_at_risk float8, n_events float8, n_censored float8,
               survival float8, std_err float8, ci_low float8, ci_high float8)
AS 'MODULE_PATHNAME', 'leadmgmt_km_curve' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 100;
COMMENT ON FUNCTION @extschema@.km_curve(@extschema@.survival, text, float8) IS 'Kaplan-Meier curve at every time with an event or a censored exit: S(t), Greenwood standard error of S, and the pointwise (1 - alpha) interval of type log-log, log or plain as R survfit (NULL where R gives NA)';
CREATE FUNCTION @extschema@.km_median(s @extschema@.survival, conf_type text DEFAULT 'log-log', alpha float8 DEFAULT 0.05,
                                      OUT median float8, OUT ci_low float8, OUT ci_high float8)
AS 'MODULE_PATHNAME', 'leadmgmt_km_median' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.km_median(@extschema@.survival, text, float8) IS 'median survival time (the first t with S(t) <= 0.5) and its interval (where the pointwise band reaches 0.5); NULL where not reached';
CREATE FUNCTION @extschema@.km_at(s @extschema@.survival, t float8) RETURNS float8
AS 'MODULE_PATHNAME', 'leadmgmt_km_at' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.km_at(@extschema@.survival, float8) IS 'Kaplan-Meier S(t): the share surviving beyond t (right-continuous, events at t included)';
CREATE FUNCTION @extschema@.km_rmst(s @extschema@.survival, tau float8) RETURNS float8
AS 'MODULE_PATHNAME', 'leadmgmt_km_rmst' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.km_rmst(@extschema@.survival, float8) IS 'restricted mean survival time: the area under S(t) from 0 to tau';
CREATE FUNCTION @extschema@.logrank_each(s @extschema@.survival)
RETURNS TABLE (grp text, subjects float8, events float8, expected float8, chi2 float8, p_value float8)
AS 'MODULE_PATHNAME', 'leadmgmt_logrank_each' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 20;
COMMENT ON FUNCTION @extschema@.logrank_each(@extschema@.survival) IS 'for each group of a survival_by value, the two-group log-rank test of it against all other groups (1 df); chi2 and p_value NULL when untestable';

CREATE FUNCTION @extschema@.retention_transfn(bigint, boolean[]) RETURNS bigint
AS 'MODULE_PATHNAME', 'leadmgmt_retention_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_transfn(bigint, boolean[]) IS 'transition of retention: which conditions some row met, and how many there are';
CREATE FUNCTION @extschema@.retention_combine(bigint, bigint) RETURNS bigint
AS 'MODULE_PATHNAME', 'leadmgmt_retention_combine' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_combine(bigint, bigint) IS 'combines two partial retention states';
CREATE FUNCTION @extschema@.retention_final(bigint) RETURNS integer[]
AS 'MODULE_PATHNAME', 'leadmgmt_retention_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_final(bigint) IS 'final of retention: [c1, c1 and c2, ..., c1 and cn] as 0/1';
CREATE AGGREGATE @extschema@.retention(VARIADIC conds boolean[]) (
  SFUNC = @extschema@.retention_transfn, STYPE = bigint, INITCOND = '0',
  COMBINEFUNC = @extschema@.retention_combine, FINALFUNC = @extschema@.retention_final,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.retention(VARIADIC boolean[]) IS 'retention as ClickHouse: 1/0 array [c1, c1 and c2, c1 and c3, ...] where ci means some row of the group met condition i; sum it per cohort';

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

ALTER TABLE @extschema@.org
  ADD COLUMN report_as_of timestamptz,
  ADD COLUMN at_risk_horizon interval NOT NULL DEFAULT '14 days' CHECK (at_risk_horizon > interval '0'),
  ADD COLUMN at_risk_attendance numeric(4,3) NOT NULL DEFAULT 0.75 CHECK (at_risk_attendance BETWEEN 0 AND 1);
COMMENT ON COLUMN @extschema@.org.report_as_of IS 'as-of time of the service reports (churn, renewal, at-risk); NULL means now';
COMMENT ON COLUMN @extschema@.org.at_risk_horizon IS 'at_risk_students lists terms that end within this long';
COMMENT ON COLUMN @extschema@.org.at_risk_attendance IS 'attendance rate below which a student is at high risk';

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
WITH RECURSIVE t AS (
  SELECT st.org_id, st.enrollment_id, st.student_id, st.class_id, st.course_id, st.teacher_id, st.area,
         st.term_end, st.enrolled_at, st.ended_at, st.renewed_into, st.outcome
    FROM @extschema@.student_term st
 ), chain AS (
  -- each step carries the spell's first term and its own: no join back afterwards
  SELECT t.org_id, t.student_id, t.enrollment_id AS first_enrollment_id, t.enrolled_at AS started_at,
         t.course_id, t.class_id, t.teacher_id, t.area,
         t.enrollment_id, t.term_end, t.ended_at, t.outcome, 1 AS terms
    FROM t
   WHERE NOT EXISTS (SELECT 1 FROM t p WHERE p.org_id = t.org_id AND p.renewed_into = t.enrollment_id)
  UNION ALL
  SELECT c.org_id, c.student_id, c.first_enrollment_id, c.started_at, c.course_id, c.class_id, c.teacher_id, c.area,
         n.enrollment_id, n.term_end, n.ended_at, n.outcome, c.terms + 1
    FROM chain c
    JOIN t p ON p.org_id = c.org_id AND p.enrollment_id = c.enrollment_id
    JOIN t n ON n.org_id = p.org_id AND n.enrollment_id = p.renewed_into
), spell AS (
  SELECT DISTINCT ON (c.org_id, c.first_enrollment_id) c.*
    FROM chain c
   ORDER BY c.org_id, c.first_enrollment_id, c.terms DESC
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
SELECT l.org_id, l.student_id, l.spell_no, s.segment_kind, coalesce(s.segment, 'unknown') AS segment,
       l.lifetime_days, l.completed_terms, l.churned
  FROM @extschema@.student_lifetime l
  LEFT JOIN @extschema@.course c ON c.org_id = l.org_id AND c.course_id = l.course_id
  LEFT JOIN @extschema@.course_class cc ON cc.org_id = l.org_id AND cc.class_id = l.class_id
  LEFT JOIN @extschema@.teacher tc ON tc.org_id = l.org_id AND tc.teacher_id = l.teacher_id
  LEFT JOIN @extschema@.channel ch ON ch.org_id = l.org_id AND ch.channel_id = l.channel_id
 CROSS JOIN LATERAL (VALUES
   ('all', 'all'),
   ('age_band', l.age_band_start || '-' || (l.age_band_start + 1)),
   ('grade', 'grade ' || l.grade),
   ('course', c.code),
   ('class', cc.name),
   ('teacher', tc.name),
   ('area', l.area),
   ('channel', ch.code)) AS s(segment_kind, segment);
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
WITH active AS (
  -- months in which a student had an enrollment running, up to the as-of day
  SELECT DISTINCT t.org_id, t.student_id, m::date AS month
    FROM @extschema@.student_term t
    JOIN @extschema@.org o ON o.org_id = t.org_id
   CROSS JOIN LATERAL generate_series(date_trunc('month', t.enrolled_at AT TIME ZONE o.timezone),
                                      date_trunc('month', least(coalesce(t.ended_at AT TIME ZONE o.timezone, t.term_end),
                                                                t.as_of_day)), interval '1 month') m
), member AS (
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
            JOIN active a ON a.org_id = l.org_id AND a.student_id = l.student_id AND a.month >= l.cohort_month) x
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
SELECT t.org_id, date_trunc('month', t.term_end)::date AS term_end_month,
       CASE WHEN GROUPING(t.class_id) = 0 THEN 'class' WHEN GROUPING(t.teacher_id) = 0 THEN 'teacher'
            WHEN GROUPING(t.course_id) = 0 THEN 'course' ELSE 'all' END AS breakdown,
       coalesce(CASE WHEN GROUPING(t.class_id) = 0 THEN t.class_id WHEN GROUPING(t.teacher_id) = 0 THEN t.teacher_id
                     WHEN GROUPING(t.course_id) = 0 THEN t.course_id END, 0) AS breakdown_id,
       coalesce(CASE WHEN GROUPING(t.class_id) = 0 THEN max(cc.name) WHEN GROUPING(t.teacher_id) = 0 THEN max(tc.name)
                     WHEN GROUPING(t.course_id) = 0 THEN max(c.name) ELSE 'all' END, 'unknown') AS breakdown_name,
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
 WHERE t.outcome <> 'in_term'
 GROUP BY GROUPING SETS ((t.org_id, date_trunc('month', t.term_end)),
                        (t.org_id, date_trunc('month', t.term_end), t.course_id),
                        (t.org_id, date_trunc('month', t.term_end), t.teacher_id),
                        (t.org_id, date_trunc('month', t.term_end), t.class_id));
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
SELECT so.org_id, date_trunc('month', so.paid_at AT TIME ZONE o.timezone)::date AS paid_month,
       CASE WHEN GROUPING(so.course_id) = 0 THEN 'course' ELSE 'all' END AS breakdown,
       CASE WHEN GROUPING(so.course_id) = 0 THEN coalesce(max(c.name), 'no course') ELSE 'all' END AS breakdown_name,
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
 WHERE so.status = 'paid'
 GROUP BY GROUPING SETS ((so.org_id, date_trunc('month', so.paid_at AT TIME ZONE o.timezone)),
                        (so.org_id, date_trunc('month', so.paid_at AT TIME ZONE o.timezone), so.course_id));
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

-- ---------------------------------------------------------------------------
-- Logistic regression and model evaluation (src/logreg.c, docs/reference/logreg.md): since 0.3
-- ---------------------------------------------------------------------------

CREATE TYPE @extschema@.logreg_model AS (
  coef float8[], std_err float8[], z_stats float8[], p_values float8[], odds_ratios float8[],
  log_likelihood float8, iterations integer, converged boolean, condition_number float8,
  rows_used bigint, rows_skipped bigint, l2 float8);
COMMENT ON TYPE @extschema@.logreg_model IS 'a fitted logistic regression: element 1 of each array is the intercept, then one per feature';
COMMENT ON COLUMN @extschema@.logreg_model.coef IS 'coefficients (log-odds): intercept, then one per feature';
COMMENT ON COLUMN @extschema@.logreg_model.std_err IS 'standard errors, from the inverse (penalised) Hessian';
COMMENT ON COLUMN @extschema@.logreg_model.z_stats IS 'coef / std_err';
COMMENT ON COLUMN @extschema@.logreg_model.p_values IS 'two-sided Wald p-values';
COMMENT ON COLUMN @extschema@.logreg_model.odds_ratios IS 'exp(coef)';
COMMENT ON COLUMN @extschema@.logreg_model.log_likelihood IS 'log-likelihood at the coefficients (without the penalty)';
COMMENT ON COLUMN @extschema@.logreg_model.iterations IS 'passes over the data (Newton steps + 1)';
COMMENT ON COLUMN @extschema@.logreg_model.converged IS 'whether the change in penalised log-likelihood fell below the tolerance';
COMMENT ON COLUMN @extschema@.logreg_model.condition_number IS 'largest over smallest eigenvalue of the (penalised) Hessian X''WX';
COMMENT ON COLUMN @extschema@.logreg_model.rows_used IS 'rows fitted';
COMMENT ON COLUMN @extschema@.logreg_model.rows_skipped IS 'rows skipped for a NULL label, NULL features or a NULL feature';
COMMENT ON COLUMN @extschema@.logreg_model.l2 IS 'ridge penalty used (the intercept is not penalised)';

CREATE TYPE @extschema@.calibration_bin AS (
  bin integer, lower_bound float8, upper_bound float8, rows bigint, mean_predicted float8, observed_rate float8);
COMMENT ON TYPE @extschema@.calibration_bin IS 'one bin of a calibration (reliability) table';
COMMENT ON COLUMN @extschema@.calibration_bin.bin IS 'bin number, from 1';
COMMENT ON COLUMN @extschema@.calibration_bin.lower_bound IS 'lowest predicted probability of the bin (included)';
COMMENT ON COLUMN @extschema@.calibration_bin.upper_bound IS 'upper end of the bin (excluded, except 1 in the last bin)';
COMMENT ON COLUMN @extschema@.calibration_bin.rows IS 'rows whose predicted probability falls in the bin';
COMMENT ON COLUMN @extschema@.calibration_bin.mean_predicted IS 'mean predicted probability of those rows';
COMMENT ON COLUMN @extschema@.calibration_bin.observed_rate IS 'share of those rows whose label is true';

CREATE FUNCTION @extschema@.logreg_transfn(float8[], boolean, float8[], float8[]) RETURNS float8[]
AS 'MODULE_PATHNAME', 'leadmgmt_logreg_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.logreg_transfn(float8[], boolean, float8[], float8[]) IS 'transition of logreg_step: adds one row''s log-likelihood, gradient and Hessian';
CREATE FUNCTION @extschema@.logreg_combine(float8[], float8[]) RETURNS float8[]
AS 'MODULE_PATHNAME', 'leadmgmt_logreg_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.logreg_combine(float8[], float8[]) IS 'combines two partial logreg_step or calibration states (element-wise sum after the size)';
CREATE FUNCTION @extschema@.float8_sum_combine(float8[], float8[]) RETURNS float8[]
AS 'MODULE_PATHNAME', 'leadmgmt_float8_sum_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.float8_sum_combine(float8[], float8[]) IS 'combines two partial log_loss states (element-wise sum)';
CREATE AGGREGATE @extschema@.logreg_step(label boolean, features float8[], coef float8[]) (
  SFUNC = @extschema@.logreg_transfn, STYPE = float8[],
  COMBINEFUNC = @extschema@.logreg_combine, PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.logreg_step(boolean, float8[], float8[]) IS 'one IRLS pass at the given coefficients: [size, rows used, rows skipped, log-likelihood, gradient, Hessian]; logreg_train drives it';

CREATE FUNCTION @extschema@.logreg_newton(state float8[], coef float8[], l2 float8) RETURNS float8[]
AS 'MODULE_PATHNAME', 'leadmgmt_logreg_newton' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.logreg_newton(float8[], float8[], float8) IS 'the next Newton (IRLS) coefficients from a logreg_step pass; a singular Hessian is an error that suggests l2';
CREATE FUNCTION @extschema@.logreg_stats(state float8[], coef float8[], l2 float8,
  OUT std_err float8[], OUT z_stats float8[], OUT p_values float8[], OUT odds_ratios float8[],
  OUT log_likelihood float8, OUT condition_number float8, OUT rows_used bigint, OUT rows_skipped bigint)
AS 'MODULE_PATHNAME', 'leadmgmt_logreg_stats' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.logreg_stats(float8[], float8[], float8) IS 'standard errors, z, p-values, odds ratios and condition number from the pass at the final coefficients';
CREATE FUNCTION @extschema@.logreg_predict_coef(coef float8[], features float8[]) RETURNS float8
AS 'MODULE_PATHNAME', 'leadmgmt_logreg_predict_coef' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.logreg_predict_coef(float8[], float8[]) IS 'probability from coefficients (intercept first) and features; NULL when a feature is NULL';
CREATE FUNCTION @extschema@.logreg_predict(model @extschema@.logreg_model, features float8[]) RETURNS float8
AS 'MODULE_PATHNAME', 'leadmgmt_logreg_predict' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.logreg_predict(@extschema@.logreg_model, float8[]) IS 'probability that the label is true for these features under the model';

CREATE FUNCTION @extschema@.logreg_train(source regclass, label_column name, features_column name,
                                         max_iter integer DEFAULT 20, tolerance float8 DEFAULT 1e-8, l2 float8 DEFAULT 0)
RETURNS @extschema@.logreg_model
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  q text;
  nfeat integer;
  beta float8[];
  st float8[];
  ll float8;
  ll_prev float8;
  it integer := 0;
  done boolean := false;
  s record;
  m @extschema@.logreg_model;
BEGIN
  IF source IS NULL OR label_column IS NULL OR features_column IS NULL OR max_iter IS NULL
     OR tolerance IS NULL OR l2 IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'logreg_train arguments must not be NULL';
  END IF;
  IF max_iter < 1 OR max_iter > 1000 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('max_iter must be between 1 and 1000, not %s', max_iter);
  END IF;
  IF NOT (tolerance > 0) OR tolerance = 'Infinity' THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('tolerance must be positive, not %s', tolerance);
  END IF;
  IF NOT (l2 >= 0) OR l2 = 'Infinity' THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('l2 must be zero or positive, not %s', l2);
  END IF;
  -- identifiers only ever through %I, the relation through regclass
  EXECUTE format('SELECT cardinality(%I) FROM %s WHERE %I IS NOT NULL AND %I IS NOT NULL LIMIT 1',
                 features_column, source, features_column, label_column) INTO nfeat;
  IF nfeat IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('%s has no row with a label and features to train on', source);
  END IF;
  beta := array_fill(0::float8, ARRAY[nfeat + 1]);
  q := format('SELECT @extschema@.logreg_step(%I, %I, $1) FROM %s', label_column, features_column, source);
  LOOP
    EXECUTE q INTO st USING beta;
    it := it + 1;
    IF st IS NULL OR st[2] = 0 THEN
      RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('%s has no row with a label and features to train on', source);
    END IF;
    -- penalised log-likelihood at beta
    ll := st[4] - l2 / 2 * (SELECT coalesce(sum(b * b), 0) FROM unnest(beta[2:]) b);
    IF l2 = 0 AND st[4] > -1e-7 * st[2] THEN
      RAISE EXCEPTION USING ERRCODE = '22000',
        MESSAGE = 'perfect separation: the features predict every label exactly, so the coefficients have no finite maximum',
        HINT = 'Pass l2 > 0 for a ridge-penalised fit, or drop the feature that gives the label away.';
    END IF;
    done := ll_prev IS NOT NULL AND abs(ll - ll_prev) < tolerance;
    EXIT WHEN done OR it > max_iter;
    beta := @extschema@.logreg_newton(st, beta, l2);
    IF l2 = 0 AND (SELECT max(abs(b)) FROM unnest(beta) b) > 1e4 THEN
      RAISE EXCEPTION USING ERRCODE = '22000',
        MESSAGE = 'quasi-complete separation: the coefficients grow without bound',
        HINT = 'Pass l2 > 0 for a ridge-penalised fit, or drop the feature that gives the label away.';
    END IF;
    ll_prev := ll;
  END LOOP;
  IF NOT done AND l2 = 0 AND st[4] > -1e-3 * st[2] THEN
    -- still climbing towards a log-likelihood of 0: the data are separable
    RAISE EXCEPTION USING ERRCODE = '22000',
      MESSAGE = 'perfect separation: the features predict every label exactly, so the coefficients have no finite maximum',
      DETAIL = format('After %s Newton steps the log-likelihood is %s over %s rows and still rising.', max_iter, st[4], st[2]),
      HINT = 'Pass l2 > 0 for a ridge-penalised fit, or drop the feature that gives the label away.';
  END IF;
  IF NOT done THEN
    RAISE WARNING 'logreg_train did not converge in % Newton steps (last change in log-likelihood %)', max_iter, abs(ll - ll_prev);
  END IF;
  s := @extschema@.logreg_stats(st, beta, l2);
  m := ROW(beta, s.std_err, s.z_stats, s.p_values, s.odds_ratios, s.log_likelihood, it, done,
           s.condition_number, s.rows_used, s.rows_skipped, l2);
  RETURN m;
END
$$;
COMMENT ON FUNCTION @extschema@.logreg_train(regclass, name, name, integer, float8, float8) IS 'fits a logistic regression of a boolean label on a float8[] feature column (intercept added) by IRLS, one parallel aggregate pass per Newton step, as MADlib logregr_train';

CREATE FUNCTION @extschema@.auc_transfn(@extschema@.survival, float8, boolean) RETURNS @extschema@.survival
AS 'MODULE_PATHNAME', 'leadmgmt_auc_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.auc_transfn(@extschema@.survival, float8, boolean) IS 'transition of auc: keeps the (score, label) counts sorted by score';
CREATE FUNCTION @extschema@.auc_final(@extschema@.survival) RETURNS float8
AS 'MODULE_PATHNAME', 'leadmgmt_auc_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.auc_final(@extschema@.survival) IS 'final of auc: the Mann-Whitney statistic';
CREATE AGGREGATE @extschema@.auc(score float8, label boolean) (
  SFUNC = @extschema@.auc_transfn, STYPE = @extschema@.survival, SSPACE = 4096,
  COMBINEFUNC = @extschema@.survival_combine, FINALFUNC = @extschema@.auc_final,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.auc(float8, boolean) IS 'exact area under the ROC curve (Mann-Whitney), ties counted half; NULL without both labels';

CREATE FUNCTION @extschema@.logloss_transfn(float8[], float8, boolean) RETURNS float8[]
AS 'MODULE_PATHNAME', 'leadmgmt_logloss_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.logloss_transfn(float8[], float8, boolean) IS 'transition of log_loss: [sum of losses, rows]';
CREATE FUNCTION @extschema@.logloss_final(float8[]) RETURNS float8
AS 'MODULE_PATHNAME', 'leadmgmt_logloss_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.logloss_final(float8[]) IS 'final of log_loss: the mean';
CREATE AGGREGATE @extschema@.log_loss(p float8, label boolean) (
  SFUNC = @extschema@.logloss_transfn, STYPE = float8[],
  COMBINEFUNC = @extschema@.float8_sum_combine, FINALFUNC = @extschema@.logloss_final,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.log_loss(float8, boolean) IS 'mean binary cross-entropy of predicted probabilities, clipped to [1e-15, 1 - 1e-15] as scikit-learn does';

CREATE FUNCTION @extschema@.calibration_transfn(float8[], float8, boolean, integer) RETURNS float8[]
AS 'MODULE_PATHNAME', 'leadmgmt_calibration_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.calibration_transfn(float8[], float8, boolean, integer) IS 'transition of calibration: rows, sum of p and positives per bin';
CREATE FUNCTION @extschema@.calibration_final(float8[]) RETURNS @extschema@.calibration_bin[]
AS 'MODULE_PATHNAME', 'leadmgmt_calibration_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.calibration_final(float8[]) IS 'final of calibration: the bins that hold rows';
CREATE AGGREGATE @extschema@.calibration(p float8, label boolean, bins integer) (
  SFUNC = @extschema@.calibration_transfn, STYPE = float8[],
  COMBINEFUNC = @extschema@.logreg_combine, FINALFUNC = @extschema@.calibration_final,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.calibration(float8, boolean, integer) IS 'calibration (reliability) table: per equal-width bin of predicted probability, rows, mean predicted and observed rate';

-- ---------------------------------------------------------------------------
-- Conversion model: features, training, registry, scoring and explanations
-- (docs/reference/conversion_model.md): since 0.3
-- ---------------------------------------------------------------------------

ALTER TABLE @extschema@.org
  ADD COLUMN conversion_days integer NOT NULL DEFAULT 30 CHECK (conversion_days BETWEEN 1 AND 3650);
COMMENT ON COLUMN @extschema@.org.conversion_days IS 'a lead counts as converted for the conversion model when it paid within this many days of creation';

CREATE TABLE @extschema@.conversion_model (
  org_id            bigint NOT NULL REFERENCES @extschema@.org (org_id),
  model_id          bigint GENERATED ALWAYS AS IDENTITY,
  name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  version           integer NOT NULL CHECK (version >= 1),
  kind              text NOT NULL CHECK (kind IN ('logreg', 'naive_bayes')),
  active            boolean NOT NULL DEFAULT false,
  trained_at        timestamptz NOT NULL DEFAULT now(),
  trained_from      timestamptz NOT NULL,
  trained_to        timestamptz NOT NULL,
  test_from         timestamptz NOT NULL,
  conversion_days   integer NOT NULL CHECK (conversion_days >= 1),
  encoding          jsonb NOT NULL CHECK (jsonb_typeof(encoding -> 'features') = 'array'),
  coef              float8[],
  std_err           float8[],
  p_values          float8[],
  l2                float8 CHECK (l2 >= 0),
  iterations        integer,
  converged         boolean,
  nb_tables         jsonb,
  rows_train        bigint NOT NULL CHECK (rows_train >= 0),
  rows_test         bigint NOT NULL CHECK (rows_test >= 0),
  positives_train   bigint NOT NULL CHECK (positives_train >= 0),
  auc_train         float8,
  auc_test          float8,
  log_loss_test     float8,
  calibration_test  jsonb,
  PRIMARY KEY (org_id, model_id),
  UNIQUE (org_id, name, version),
  CONSTRAINT conversion_model_test_within_range CHECK (trained_from < test_from AND test_from <= trained_to),
  CONSTRAINT conversion_model_kind_has_parameters CHECK ((kind = 'logreg') = (coef IS NOT NULL) AND (kind = 'naive_bayes') = (nb_tables IS NOT NULL))
);
CREATE UNIQUE INDEX conversion_model_one_active ON @extschema@.conversion_model (org_id) WHERE active;
COMMENT ON TABLE @extschema@.conversion_model IS 'registry of trained conversion models, versioned per org and name; at most one active per org';
COMMENT ON COLUMN @extschema@.conversion_model.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.conversion_model.model_id IS 'model id';
COMMENT ON COLUMN @extschema@.conversion_model.name IS 'model name; each training under a name adds a version';
COMMENT ON COLUMN @extschema@.conversion_model.version IS 'version under its name, from 1';
COMMENT ON COLUMN @extschema@.conversion_model.kind IS 'logreg (logistic regression) or naive_bayes (the Odoo-style baseline)';
COMMENT ON COLUMN @extschema@.conversion_model.active IS 'the model score_leads uses by default';
COMMENT ON COLUMN @extschema@.conversion_model.trained_at IS 'when it was trained';
COMMENT ON COLUMN @extschema@.conversion_model.trained_from IS 'first creation time of the leads it learned from (included)';
COMMENT ON COLUMN @extschema@.conversion_model.trained_to IS 'end of the creation times it learned from (excluded)';
COMMENT ON COLUMN @extschema@.conversion_model.test_from IS 'leads created from here to trained_to were held out for evaluation';
COMMENT ON COLUMN @extschema@.conversion_model.conversion_days IS 'label: paid within this many days of creation';
COMMENT ON COLUMN @extschema@.conversion_model.encoding IS 'how lead attributes become features: {"features": [{"name", "field", "level"}...]}';
COMMENT ON COLUMN @extschema@.conversion_model.coef IS 'logreg coefficients: intercept, then one per feature of the encoding';
COMMENT ON COLUMN @extschema@.conversion_model.std_err IS 'logreg standard errors';
COMMENT ON COLUMN @extschema@.conversion_model.p_values IS 'logreg Wald p-values';
COMMENT ON COLUMN @extschema@.conversion_model.l2 IS 'logreg ridge penalty';
COMMENT ON COLUMN @extschema@.conversion_model.iterations IS 'logreg IRLS passes';
COMMENT ON COLUMN @extschema@.conversion_model.converged IS 'whether logreg converged';
COMMENT ON COLUMN @extschema@.conversion_model.nb_tables IS 'naive_bayes frequency tables: class counts and per field value counts';
COMMENT ON COLUMN @extschema@.conversion_model.rows_train IS 'leads it learned from';
COMMENT ON COLUMN @extschema@.conversion_model.rows_test IS 'held-out leads it was evaluated on';
COMMENT ON COLUMN @extschema@.conversion_model.positives_train IS 'converted leads among rows_train';
COMMENT ON COLUMN @extschema@.conversion_model.auc_train IS 'ROC AUC on the training leads';
COMMENT ON COLUMN @extschema@.conversion_model.auc_test IS 'ROC AUC on the held-out leads';
COMMENT ON COLUMN @extschema@.conversion_model.log_loss_test IS 'log loss on the held-out leads';
COMMENT ON COLUMN @extschema@.conversion_model.calibration_test IS 'calibration table (10 bins) on the held-out leads';
SELECT @extschema@.register_table('@extschema@.conversion_model', '{app,admin}', false);

ALTER TABLE @extschema@.lead
  ADD COLUMN scored_at timestamptz,
  ADD COLUMN score_model_id bigint,
  ADD CONSTRAINT lead_score_model_fkey FOREIGN KEY (org_id, score_model_id) REFERENCES @extschema@.conversion_model (org_id, model_id);
COMMENT ON COLUMN @extschema@.lead.scored_at IS 'when score_leads last scored the lead';
COMMENT ON COLUMN @extschema@.lead.score_model_id IS 'model that gave the score';

CREATE FUNCTION @extschema@.lead_feature_values(org_id bigint)
RETURNS TABLE (lead_id bigint, created_at timestamptz, status text, vals jsonb, converted boolean, label_known boolean)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  o @extschema@.org := @extschema@.ingest_org(lead_feature_values.org_id);
BEGIN
  RETURN QUERY
  WITH touches AS (
    SELECT t.lead_id, count(*) AS n FROM @extschema@.touchpoint t WHERE t.org_id = o.org_id GROUP BY t.lead_id
  ), first_contact AS (
    SELECT f.lead_id, min(f.occurred_at) AS at FROM @extschema@.follow_up f WHERE f.org_id = o.org_id GROUP BY f.lead_id
  ), paid AS (
    SELECT s.lead_id, min(s.paid_at) AS at FROM @extschema@.sales_order s
     WHERE s.org_id = o.org_id AND s.status = 'paid' AND NOT s.is_renewal GROUP BY s.lead_id
  )
  SELECT l.lead_id, l.created_at, l.status,
         jsonb_build_object(
           'channel', ch.code,
           'subject', coalesce(l.subject, 'unknown'),
           'city_tier', coalesce('tier ' || l.city_tier, 'unknown'),
           'age_band', coalesce((2 * (l.child_age / 2)) || '-' || (2 * (l.child_age / 2) + 1), 'unknown'),
           'stage', lt.stage,
           'log_touches', ln(1 + coalesce(tc.n, 0)),
           'log_response_hours', CASE WHEN fc.at IS NULL THEN 0
                                      ELSE ln(1 + least(720, greatest(0, extract(epoch FROM fc.at - l.created_at) / 3600))) END,
           'no_follow_up', (fc.at IS NULL)::int),
         coalesce(p.at <= l.created_at + o.conversion_days * interval '1 day', false),
         l.created_at + o.conversion_days * interval '1 day' <= coalesce(o.report_as_of, now())
    FROM @extschema@.lead l
    JOIN @extschema@.channel ch ON ch.org_id = l.org_id AND ch.channel_id = l.first_channel_id
    JOIN @extschema@.lead_tiers(o.org_id) lt ON lt.lead_id = l.lead_id
    LEFT JOIN touches tc ON tc.lead_id = l.lead_id
    LEFT JOIN first_contact fc ON fc.lead_id = l.lead_id
    LEFT JOIN paid p ON p.lead_id = l.lead_id
   WHERE l.org_id = o.org_id;
END
$$;
COMMENT ON FUNCTION @extschema@.lead_feature_values(bigint) IS 'the raw attributes the conversion model learns from, per lead of an org (channel, subject, city tier, age band, behaviour stage, touches, response time), with the label: paid within org.conversion_days';

CREATE FUNCTION @extschema@.model_features(encoding jsonb, vals jsonb) RETURNS float8[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT coalesce(array_agg(CASE WHEN f ? 'level' THEN ((vals ->> (f ->> 'field')) IS NOT DISTINCT FROM (f ->> 'level'))::int::float8
                                 ELSE coalesce((vals ->> (f ->> 'field'))::float8, 0) END ORDER BY i), '{}')
    FROM jsonb_array_elements(encoding -> 'features') WITH ORDINALITY e(f, i)
$$;
COMMENT ON FUNCTION @extschema@.model_features(jsonb, jsonb) IS 'the feature vector of a lead''s values under a model''s encoding: one 0/1 per categorical level (the reference level and unseen values are all zeros), then the numeric features';

CREATE FUNCTION @extschema@.nb_predict(tables jsonb, vals jsonb) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  -- log P(won) + sum log P(value | won), and the same for lost, Laplace-smoothed
  WITH c AS (
    SELECT (tables #>> '{classes,0}')::float8 AS won, (tables #>> '{classes,1}')::float8 AS lost
  ), terms AS (
    SELECT sum(ln((coalesce((f.value -> (vals ->> f.key) ->> 0)::float8, 0) + 1) / (c.won + (tables -> 'levels' ->> f.key)::float8 + 1))) AS lw,
           sum(ln((coalesce((f.value -> (vals ->> f.key) ->> 1)::float8, 0) + 1) / (c.lost + (tables -> 'levels' ->> f.key)::float8 + 1))) AS ll
      FROM c, jsonb_each(tables -> 'fields') f
  )
  SELECT 1 / (1 + exp(least(700, greatest(-700, (ln(c.lost) + coalesce(t.ll, 0)) - (ln(c.won) + coalesce(t.lw, 0))))))
    FROM c, terms t
$$;
COMMENT ON FUNCTION @extschema@.nb_predict(jsonb, jsonb) IS 'probability of conversion under a naive Bayes frequency table (the Odoo predictive lead scoring baseline), Laplace-smoothed';

CREATE FUNCTION @extschema@.model_predict(m @extschema@.conversion_model, vals jsonb) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE m.kind WHEN 'logreg' THEN @extschema@.logreg_predict_coef(m.coef, @extschema@.model_features(m.encoding, vals))
                     ELSE @extschema@.nb_predict(m.nb_tables, vals) END
$$;
COMMENT ON FUNCTION @extschema@.model_predict(@extschema@.conversion_model, jsonb) IS 'probability of conversion of a lead''s values under a registered model of either kind';

CREATE FUNCTION @extschema@.train_conversion_model(org_id bigint, name text, trained_from timestamptz, trained_to timestamptz,
                                                   l2 float8 DEFAULT 1.0, kind text DEFAULT 'logreg')
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  o @extschema@.org := @extschema@.ingest_org(train_conversion_model.org_id);
  enc jsonb;
  tables jsonb;
  test_from timestamptz;
  n_train bigint;
  n_test bigint;
  pos bigint;
  m @extschema@.logreg_model;
  ver integer;
  new_id bigint;
BEGIN
  IF name IS NULL OR trained_from IS NULL OR trained_to IS NULL OR l2 IS NULL OR kind IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'train_conversion_model arguments must not be NULL';
  END IF;
  IF kind NOT IN ('logreg', 'naive_bayes') THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('unknown model kind "%s"', kind), HINT = 'Use logreg or naive_bayes.';
  END IF;
  IF trained_to <= trained_from THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'trained_to must be after trained_from';
  END IF;
  IF to_regclass('pg_temp.lm_model_rows') IS NOT NULL THEN
    DROP TABLE pg_temp.lm_model_rows;
  END IF;
  CREATE TEMP TABLE lm_model_rows ON COMMIT DROP AS
    SELECT v.lead_id, v.created_at, v.vals, v.converted AS y
      FROM @extschema@.lead_feature_values(o.org_id) v
     WHERE v.created_at >= trained_from AND v.created_at < trained_to AND v.label_known;
  -- the newest fifth of the leads, by creation time, is held out
  SELECT percentile_disc(0.8) WITHIN GROUP (ORDER BY r.created_at), count(*) FILTER (WHERE r.y), count(*)
    INTO test_from, pos, n_train FROM lm_model_rows r;
  IF n_train < 50 OR pos < 5 OR n_train - pos < 5 THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('too few leads to train on: %s leads, %s converted, between %s and %s with a known outcome', n_train, pos, trained_from, trained_to),
      HINT = 'Widen the range; a lead''s outcome is known once org.conversion_days have passed since it was created.';
  END IF;
  ALTER TABLE lm_model_rows ADD COLUMN train boolean;
  UPDATE lm_model_rows SET train = created_at < test_from;
  SELECT count(*) FILTER (WHERE train), count(*) FILTER (WHERE NOT train), count(*) FILTER (WHERE train AND y)
    INTO n_train, n_test, pos FROM lm_model_rows;
  IF n_train = 0 OR n_test = 0 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'the leads were all created at one time, so none can be held out for testing';
  END IF;

  -- encoding: the levels seen at least 5 times in training; the most frequent is the reference
  WITH lv AS (
    SELECT f.key AS field, r.vals ->> f.key AS level, count(*) AS n,
           row_number() OVER (PARTITION BY f.key ORDER BY count(*) DESC, r.vals ->> f.key) AS rk
      FROM lm_model_rows r, jsonb_each(r.vals) f
     WHERE r.train AND f.key IN ('channel', 'subject', 'city_tier', 'age_band', 'stage')
     GROUP BY 1, 2
  )
  SELECT jsonb_build_object('features',
           coalesce((SELECT jsonb_agg(jsonb_build_object('name', field || '=' || level, 'field', field, 'level', level) ORDER BY field, level)
                       FROM lv WHERE rk > 1 AND n >= 5), '[]')
           || '[{"name": "log_touches", "field": "log_touches"},
                {"name": "log_response_hours", "field": "log_response_hours"},
                {"name": "no_follow_up", "field": "no_follow_up"}]'::jsonb)
    INTO enc;
  ALTER TABLE lm_model_rows ADD COLUMN x float8[], ADD COLUMN p float8;
  UPDATE lm_model_rows SET x = @extschema@.model_features(enc, vals);

  IF kind = 'logreg' THEN
    IF to_regclass('pg_temp.lm_model_train') IS NOT NULL THEN
      DROP TABLE pg_temp.lm_model_train;
    END IF;
    CREATE TEMP TABLE lm_model_train ON COMMIT DROP AS SELECT y, x FROM lm_model_rows WHERE train;
    m := @extschema@.logreg_train('pg_temp.lm_model_train', 'y', 'x', 50, 1e-8, l2);
    UPDATE lm_model_rows SET p = @extschema@.logreg_predict_coef(m.coef, x);
  ELSE
    SELECT jsonb_build_object('classes', jsonb_build_array(count(*) FILTER (WHERE y), count(*) FILTER (WHERE NOT y)),
             'fields', (SELECT jsonb_object_agg(field, levels) FROM (
                          SELECT field, jsonb_object_agg(level, jsonb_build_array(won, lost)) AS levels
                            FROM (SELECT f.key AS field, r.vals ->> f.key AS level,
                                         count(*) FILTER (WHERE r.y) AS won, count(*) FILTER (WHERE NOT r.y) AS lost
                                    FROM lm_model_rows r, jsonb_each(r.vals) f
                                   WHERE r.train AND f.key IN ('channel', 'subject', 'city_tier', 'age_band', 'stage')
                                   GROUP BY 1, 2) c
                           GROUP BY field) t))
      INTO tables FROM lm_model_rows WHERE train;
    -- levels per field, for the Laplace smoothing
    tables := tables || jsonb_build_object('levels',
      (SELECT jsonb_object_agg(f.key, (SELECT count(*) FROM jsonb_object_keys(f.value))) FROM jsonb_each(tables -> 'fields') f));
    UPDATE lm_model_rows SET p = @extschema@.nb_predict(tables, vals);
  END IF;

  SELECT coalesce(max(cm.version), 0) + 1 INTO ver FROM @extschema@.conversion_model cm
   WHERE cm.org_id = o.org_id AND cm.name = train_conversion_model.name;
  IF kind = 'logreg' THEN
    UPDATE @extschema@.conversion_model cm SET active = false WHERE cm.org_id = o.org_id AND cm.active;
  END IF;
  INSERT INTO @extschema@.conversion_model
    (org_id, name, version, kind, active, trained_from, trained_to, test_from, conversion_days, encoding,
     coef, std_err, p_values, l2, iterations, converged, nb_tables,
     rows_train, rows_test, positives_train, auc_train, auc_test, log_loss_test, calibration_test)
  SELECT o.org_id, train_conversion_model.name, ver, kind, kind = 'logreg', trained_from, trained_to, test_from, o.conversion_days, enc,
         m.coef, m.std_err, m.p_values, CASE WHEN kind = 'logreg' THEN l2 END, m.iterations, m.converged, tables,
         n_train, n_test, pos,
         (SELECT @extschema@.auc(r.p, r.y) FROM lm_model_rows r WHERE r.train),
         (SELECT @extschema@.auc(r.p, r.y) FROM lm_model_rows r WHERE NOT r.train),
         (SELECT @extschema@.log_loss(r.p, r.y) FROM lm_model_rows r WHERE NOT r.train),
         (SELECT to_jsonb(@extschema@.calibration(r.p, r.y, 10)) FROM lm_model_rows r WHERE NOT r.train)
  RETURNING model_id INTO new_id;
  DROP TABLE pg_temp.lm_model_rows;
  IF to_regclass('pg_temp.lm_model_train') IS NOT NULL THEN
    DROP TABLE pg_temp.lm_model_train;
  END IF;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION @extschema@.train_conversion_model(bigint, text, timestamptz, timestamptz, float8, text) IS 'trains a conversion model on the org''s leads created in [trained_from, trained_to) whose outcome is known, holds out the newest fifth, evaluates it (AUC, log loss, calibration) and stores a new version; a logreg model becomes the active one';

CREATE FUNCTION @extschema@.activate_model(org_id bigint, model_id bigint) RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  o @extschema@.org := @extschema@.ingest_org(activate_model.org_id);
BEGIN
  PERFORM 1 FROM @extschema@.conversion_model cm WHERE cm.org_id = o.org_id AND cm.model_id = activate_model.model_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = '23503', MESSAGE = format('unknown model %s of org %s', activate_model.model_id, o.org_id);
  END IF;
  UPDATE @extschema@.conversion_model cm SET active = false WHERE cm.org_id = o.org_id AND cm.active AND cm.model_id <> activate_model.model_id;
  UPDATE @extschema@.conversion_model cm SET active = true WHERE cm.org_id = o.org_id AND cm.model_id = activate_model.model_id;
END
$$;
COMMENT ON FUNCTION @extschema@.activate_model(bigint, bigint) IS 'makes a registered model the one score_leads uses';

CREATE FUNCTION @extschema@.scoring_model(org_id bigint, model_id bigint) RETURNS @extschema@.conversion_model
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  o @extschema@.org := @extschema@.ingest_org(scoring_model.org_id);
  m @extschema@.conversion_model;
BEGIN
  SELECT * INTO m FROM @extschema@.conversion_model cm
   WHERE cm.org_id = o.org_id AND (cm.model_id = scoring_model.model_id OR (scoring_model.model_id IS NULL AND cm.active));
  IF NOT FOUND THEN
    IF model_id IS NULL THEN
      RAISE EXCEPTION USING ERRCODE = '55000', MESSAGE = format('org %s has no active conversion model', o.org_id),
        HINT = 'Train one with leadmgmt.train_conversion_model(), or name a model.';
    END IF;
    RAISE EXCEPTION USING ERRCODE = '23503', MESSAGE = format('unknown model %s of org %s', model_id, o.org_id);
  END IF;
  RETURN m;
END
$$;
COMMENT ON FUNCTION @extschema@.scoring_model(bigint, bigint) IS 'the model to score with: the one named, or the org''s active model';

CREATE FUNCTION @extschema@.score_leads(org_id bigint, model_id bigint DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  m @extschema@.conversion_model := @extschema@.scoring_model(score_leads.org_id, score_leads.model_id);
  n integer;
BEGIN
  -- one scoring run per org at a time: concurrent runs wait instead of deadlocking on leads
  PERFORM pg_advisory_xact_lock(hashtext('leadmgmt.score_leads'), m.org_id::integer);
  UPDATE @extschema@.lead l
     SET score = s.p, scored_at = now(), score_model_id = m.model_id
    FROM (SELECT v.lead_id, @extschema@.model_predict(m, v.vals) AS p
            FROM @extschema@.lead_feature_values(m.org_id) v WHERE v.status NOT IN ('won', 'lost')) s
   WHERE l.org_id = m.org_id AND l.lead_id = s.lead_id;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$$;
COMMENT ON FUNCTION @extschema@.score_leads(bigint, bigint) IS 'scores the org''s open leads (not won or lost) with the active model or the one named, writing score, scored_at and score_model_id; refresh_tiers then uses the scores';

CREATE FUNCTION @extschema@.explain_score(org_id bigint, lead_id bigint, model_id bigint DEFAULT NULL)
RETURNS TABLE (feature text, value float8, coefficient float8, contribution float8)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  m @extschema@.conversion_model := @extschema@.scoring_model(explain_score.org_id, explain_score.model_id);
  v jsonb;
  x float8[];
BEGIN
  SELECT f.vals INTO v FROM @extschema@.lead_feature_values(m.org_id) f WHERE f.lead_id = explain_score.lead_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = '23503', MESSAGE = format('unknown lead %s of org %s', explain_score.lead_id, m.org_id);
  END IF;
  IF m.kind = 'logreg' THEN
    x := @extschema@.model_features(m.encoding, v);
    -- log-odds = intercept + sum of coefficient x value
    RETURN QUERY
      SELECT e.feature, e.value, e.coefficient, e.value * e.coefficient
        FROM (SELECT '(intercept)'::text AS feature, 1::float8 AS value, m.coef[1] AS coefficient
              UNION ALL
              SELECT f ->> 'name', x[i], m.coef[i + 1]
                FROM jsonb_array_elements(m.encoding -> 'features') WITH ORDINALITY e(f, i)) e
       ORDER BY abs(e.value * e.coefficient) DESC, e.feature;
  ELSE
    -- log-odds = log prior ratio + sum of log likelihood ratios
    RETURN QUERY
      SELECT e.feature, NULL::float8, NULL::float8, e.contribution
        FROM (SELECT '(prior)'::text AS feature,
                     ln((m.nb_tables #>> '{classes,0}')::float8 / (m.nb_tables #>> '{classes,1}')::float8) AS contribution
              UNION ALL
              SELECT f.key || '=' || (v ->> f.key),
                     ln((coalesce((f.value -> (v ->> f.key) ->> 0)::float8, 0) + 1) / ((m.nb_tables #>> '{classes,0}')::float8 + (m.nb_tables -> 'levels' ->> f.key)::float8 + 1))
                     - ln((coalesce((f.value -> (v ->> f.key) ->> 1)::float8, 0) + 1) / ((m.nb_tables #>> '{classes,1}')::float8 + (m.nb_tables -> 'levels' ->> f.key)::float8 + 1))
                FROM jsonb_each(m.nb_tables -> 'fields') f) e
       ORDER BY abs(e.contribution) DESC, e.feature;
  END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.explain_score(bigint, bigint, bigint) IS 'why a lead scores as it does: each feature''s contribution to the log-odds (coefficient x value for logreg, log likelihood ratio for naive_bayes); they sum to the logit of the score';

CREATE VIEW @extschema@.model_registry WITH (security_invoker = true) AS
SELECT cm.org_id, cm.model_id, cm.name, cm.version, cm.kind, cm.active, cm.trained_at, cm.trained_from, cm.trained_to,
       cm.test_from, cm.rows_train, cm.rows_test, cm.positives_train,
       round(cm.auc_train::numeric, 4) AS auc_train, round(cm.auc_test::numeric, 4) AS auc_test,
       round(cm.log_loss_test::numeric, 4) AS log_loss_test, cm.iterations, cm.converged,
       jsonb_array_length(cm.encoding -> 'features') AS features
  FROM @extschema@.conversion_model cm;
COMMENT ON VIEW @extschema@.model_registry IS 'every trained conversion model with its held-out metrics, logreg and the naive Bayes baseline side by side';
COMMENT ON COLUMN @extschema@.model_registry.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.model_registry.model_id IS 'model id';
COMMENT ON COLUMN @extschema@.model_registry.name IS 'model name';
COMMENT ON COLUMN @extschema@.model_registry.version IS 'version under its name';
COMMENT ON COLUMN @extschema@.model_registry.kind IS 'logreg or naive_bayes';
COMMENT ON COLUMN @extschema@.model_registry.active IS 'the model score_leads uses';
COMMENT ON COLUMN @extschema@.model_registry.trained_at IS 'when it was trained';
COMMENT ON COLUMN @extschema@.model_registry.trained_from IS 'first lead creation time learned from';
COMMENT ON COLUMN @extschema@.model_registry.trained_to IS 'end of the creation times learned from';
COMMENT ON COLUMN @extschema@.model_registry.test_from IS 'start of the held-out period';
COMMENT ON COLUMN @extschema@.model_registry.rows_train IS 'leads learned from';
COMMENT ON COLUMN @extschema@.model_registry.rows_test IS 'held-out leads';
COMMENT ON COLUMN @extschema@.model_registry.positives_train IS 'converted leads learned from';
COMMENT ON COLUMN @extschema@.model_registry.auc_train IS 'ROC AUC on the training leads';
COMMENT ON COLUMN @extschema@.model_registry.auc_test IS 'ROC AUC on the held-out leads (compare models here)';
COMMENT ON COLUMN @extschema@.model_registry.log_loss_test IS 'log loss on the held-out leads (lower is better)';
COMMENT ON COLUMN @extschema@.model_registry.iterations IS 'IRLS passes (logreg)';
COMMENT ON COLUMN @extschema@.model_registry.converged IS 'whether the fit converged (logreg)';
COMMENT ON COLUMN @extschema@.model_registry.features IS 'number of features in the encoding';

CREATE VIEW @extschema@.model_coefficients WITH (security_invoker = true) AS
SELECT cm.org_id, cm.model_id, cm.name, cm.version, c.i::int AS position,
       CASE WHEN c.i = 1 THEN '(intercept)' ELSE cm.encoding -> 'features' -> (c.i::int - 2) ->> 'name' END AS feature,
       c.coef AS coefficient, cm.std_err[c.i] AS std_err, cm.p_values[c.i] AS p_value, exp(c.coef) AS odds_ratio
  FROM @extschema@.conversion_model cm, unnest(cm.coef) WITH ORDINALITY c(coef, i)
 WHERE cm.kind = 'logreg';
COMMENT ON VIEW @extschema@.model_coefficients IS 'coefficients of each logreg model with standard error, p-value and odds ratio';
COMMENT ON COLUMN @extschema@.model_coefficients.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.model_coefficients.model_id IS 'model id';
COMMENT ON COLUMN @extschema@.model_coefficients.name IS 'model name';
COMMENT ON COLUMN @extschema@.model_coefficients.version IS 'model version';
COMMENT ON COLUMN @extschema@.model_coefficients.position IS '1 for the intercept, then the features in encoding order';
COMMENT ON COLUMN @extschema@.model_coefficients.feature IS 'feature name, such as channel=douyin or log_touches';
COMMENT ON COLUMN @extschema@.model_coefficients.coefficient IS 'coefficient on the log-odds';
COMMENT ON COLUMN @extschema@.model_coefficients.std_err IS 'its standard error';
COMMENT ON COLUMN @extschema@.model_coefficients.p_value IS 'Wald p-value';
COMMENT ON COLUMN @extschema@.model_coefficients.odds_ratio IS 'exp(coefficient): how the odds of converting multiply';

CREATE VIEW @extschema@.score_distribution WITH (security_invoker = true) AS
SELECT l.org_id, coalesce(l.tier::text, 'none') AS tier, ch.code AS channel, count(*) AS scored_leads,
       round(avg(l.score)::numeric, 4) AS mean_score,
       round((percentile_cont(0.1) WITHIN GROUP (ORDER BY l.score))::numeric, 4) AS p10_score,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY l.score))::numeric, 4) AS median_score,
       round((percentile_cont(0.9) WITHIN GROUP (ORDER BY l.score))::numeric, 4) AS p90_score
  FROM @extschema@.lead l
  JOIN @extschema@.channel ch ON ch.org_id = l.org_id AND ch.channel_id = l.first_channel_id
 WHERE l.score IS NOT NULL
 GROUP BY l.org_id, l.tier, ch.code;
COMMENT ON VIEW @extschema@.score_distribution IS 'distribution of lead scores by tier and first channel';
COMMENT ON COLUMN @extschema@.score_distribution.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.score_distribution.tier IS 'lead tier A to D, none when not tiered yet';
COMMENT ON COLUMN @extschema@.score_distribution.channel IS 'first channel code';
COMMENT ON COLUMN @extschema@.score_distribution.scored_leads IS 'leads with a score';
COMMENT ON COLUMN @extschema@.score_distribution.mean_score IS 'mean score';
COMMENT ON COLUMN @extschema@.score_distribution.p10_score IS '10th percentile of the score';
COMMENT ON COLUMN @extschema@.score_distribution.median_score IS 'median score';
COMMENT ON COLUMN @extschema@.score_distribution.p90_score IS '90th percentile of the score';

CREATE VIEW @extschema@.model_lift WITH (security_invoker = true) AS
WITH features AS (
  -- the leads' features once per org, however many models it keeps
  SELECT o.org_id, v.created_at, v.vals, v.converted, v.label_known
    FROM (SELECT DISTINCT cm.org_id FROM @extschema@.conversion_model cm) o
   CROSS JOIN LATERAL @extschema@.lead_feature_values(o.org_id) v
), held_out AS (
  -- each model's held-out leads, scored by the model
  SELECT cm.org_id, cm.model_id, @extschema@.model_predict(cm, f.vals) AS score, f.converted
    FROM @extschema@.conversion_model cm
    JOIN features f ON f.org_id = cm.org_id
   WHERE f.created_at >= cm.test_from AND f.created_at < cm.trained_to AND f.label_known
), d AS (
  SELECT h.*, ntile(10) OVER (PARTITION BY h.org_id, h.model_id ORDER BY h.score DESC) AS decile,
         avg(h.converted::int) OVER (PARTITION BY h.org_id, h.model_id) AS base_rate
    FROM held_out h
)
SELECT d.org_id, d.model_id, d.decile, count(*) AS leads, count(*) FILTER (WHERE d.converted) AS converted,
       round(avg(d.converted::int)::numeric, 4) AS conversion_rate,
       round((avg(d.converted::int) / nullif(min(d.base_rate), 0))::numeric, 3) AS lift,
       round(min(d.score)::numeric, 4) AS min_score, round(max(d.score)::numeric, 4) AS max_score
  FROM d GROUP BY d.org_id, d.model_id, d.decile;
COMMENT ON VIEW @extschema@.model_lift IS 'lift by score decile (1 = highest scores) on each model''s held-out leads: how much better than average each tenth converts';
COMMENT ON COLUMN @extschema@.model_lift.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.model_lift.model_id IS 'model';
COMMENT ON COLUMN @extschema@.model_lift.decile IS 'score decile, 1 for the highest tenth';
COMMENT ON COLUMN @extschema@.model_lift.leads IS 'leads in the decile';
COMMENT ON COLUMN @extschema@.model_lift.converted IS 'of which converted within org.conversion_days';
COMMENT ON COLUMN @extschema@.model_lift.conversion_rate IS 'converted / leads';
COMMENT ON COLUMN @extschema@.model_lift.lift IS 'conversion rate of the decile / conversion rate of all held-out leads';
COMMENT ON COLUMN @extschema@.model_lift.min_score IS 'lowest score in the decile';
COMMENT ON COLUMN @extschema@.model_lift.max_score IS 'highest score in the decile';

-- ---------------------------------------------------------------------------
-- Data-driven attribution: Markov and Shapley (src/journey.c,
-- docs/reference/attribution.md): since 0.3
-- ---------------------------------------------------------------------------

CREATE TYPE @extschema@.journey_state;

CREATE FUNCTION @extschema@.journey_state_in(cstring) RETURNS @extschema@.journey_state
AS 'MODULE_PATHNAME', 'leadmgmt_journey_state_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.journey_state_in(cstring) IS 'text input of journey_state: v1: followed by the hex of its binary form';
CREATE FUNCTION @extschema@.journey_state_out(@extschema@.journey_state) RETURNS cstring
AS 'MODULE_PATHNAME', 'leadmgmt_journey_state_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.journey_state_out(@extschema@.journey_state) IS 'text output of journey_state, exact, so partial states can travel as text (Citus)';
CREATE FUNCTION @extschema@.journey_state_recv(internal) RETURNS @extschema@.journey_state
AS 'MODULE_PATHNAME', 'leadmgmt_journey_state_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.journey_state_recv(internal) IS 'binary input of journey_state (versioned)';
CREATE FUNCTION @extschema@.journey_state_send(@extschema@.journey_state) RETURNS bytea
AS 'MODULE_PATHNAME', 'leadmgmt_journey_state_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.journey_state_send(@extschema@.journey_state) IS 'binary output of journey_state (versioned)';
CREATE TYPE @extschema@.journey_state (
  INPUT = @extschema@.journey_state_in,
  OUTPUT = @extschema@.journey_state_out,
  RECEIVE = @extschema@.journey_state_recv,
  SEND = @extschema@.journey_state_send,
  INTERNALLENGTH = VARIABLE,
  ALIGNMENT = double,
  STORAGE = external
);
COMMENT ON TYPE @extschema@.journey_state IS 'partial state of markov_attribution and shapley_attribution: the distinct journeys with their conversions, non-conversions and value';

CREATE TYPE @extschema@.markov_credit AS (channel text, removal_effect float8, conversions float8, value float8);
COMMENT ON TYPE @extschema@.markov_credit IS 'one channel''s Markov attribution';
COMMENT ON COLUMN @extschema@.markov_credit.channel IS 'channel';
COMMENT ON COLUMN @extschema@.markov_credit.removal_effect IS 'share of conversions lost when the channel is removed from the chain (0 to 1)';
COMMENT ON COLUMN @extschema@.markov_credit.conversions IS 'conversions credited: total conversions in proportion to the removal effects';
COMMENT ON COLUMN @extschema@.markov_credit.value IS 'value credited the same way';
CREATE TYPE @extschema@.shapley_credit AS (channel text, conversions float8, value float8);
COMMENT ON TYPE @extschema@.shapley_credit IS 'one channel''s Shapley attribution';
COMMENT ON COLUMN @extschema@.shapley_credit.channel IS 'channel';
COMMENT ON COLUMN @extschema@.shapley_credit.conversions IS 'conversions credited (Shapley value)';
COMMENT ON COLUMN @extschema@.shapley_credit.value IS 'value credited (Shapley value)';

CREATE FUNCTION @extschema@.markov_transfn(@extschema@.journey_state, text[], float8, float8, float8) RETURNS @extschema@.journey_state
AS 'MODULE_PATHNAME', 'leadmgmt_markov_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.markov_transfn(@extschema@.journey_state, text[], float8, float8, float8) IS 'transition of markov_attribution(path, conversions, non_conversions, value)';
CREATE FUNCTION @extschema@.markov_transfn(@extschema@.journey_state, text[], float8, float8, float8, integer) RETURNS @extschema@.journey_state
AS 'MODULE_PATHNAME', 'leadmgmt_markov_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.markov_transfn(@extschema@.journey_state, text[], float8, float8, float8, integer) IS 'transition of markov_attribution(path, conversions, non_conversions, value, k)';
CREATE FUNCTION @extschema@.shapley_transfn(@extschema@.journey_state, text[], float8, float8) RETURNS @extschema@.journey_state
AS 'MODULE_PATHNAME', 'leadmgmt_shapley_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.shapley_transfn(@extschema@.journey_state, text[], float8, float8) IS 'transition of shapley_attribution(channels, conversions, value)';
CREATE FUNCTION @extschema@.shapley_transfn(@extschema@.journey_state, text[], float8, float8, boolean) RETURNS @extschema@.journey_state
AS 'MODULE_PATHNAME', 'leadmgmt_shapley_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.shapley_transfn(@extschema@.journey_state, text[], float8, float8, boolean) IS 'transition of shapley_attribution(channels, conversions, value, exact)';
CREATE FUNCTION @extschema@.journey_combine(@extschema@.journey_state, @extschema@.journey_state) RETURNS @extschema@.journey_state
AS 'MODULE_PATHNAME', 'leadmgmt_journey_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.journey_combine(@extschema@.journey_state, @extschema@.journey_state) IS 'combines two partial attribution states (parallel workers, Citus)';
CREATE FUNCTION @extschema@.markov_final(@extschema@.journey_state) RETURNS @extschema@.markov_credit[]
AS 'MODULE_PATHNAME', 'leadmgmt_markov_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.markov_final(@extschema@.journey_state) IS 'final of markov_attribution: removal effects from the exactly solved absorbing chain';
CREATE FUNCTION @extschema@.shapley_final(@extschema@.journey_state) RETURNS @extschema@.shapley_credit[]
AS 'MODULE_PATHNAME', 'leadmgmt_shapley_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.shapley_final(@extschema@.journey_state) IS 'final of shapley_attribution';

CREATE AGGREGATE @extschema@.markov_attribution(path text[], conversions float8, non_conversions float8, value float8) (
  SFUNC = @extschema@.markov_transfn, STYPE = @extschema@.journey_state, SSPACE = 1024,
  COMBINEFUNC = @extschema@.journey_combine, FINALFUNC = @extschema@.markov_final, PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.markov_attribution(text[], float8, float8, float8) IS 'first-order Markov attribution over journeys (consecutive repeats merged), solved exactly: removal effect, credited conversions and value per channel';
CREATE AGGREGATE @extschema@.markov_attribution(path text[], conversions float8, non_conversions float8, value float8, k integer) (
  SFUNC = @extschema@.markov_transfn, STYPE = @extschema@.journey_state, SSPACE = 1024,
  COMBINEFUNC = @extschema@.journey_combine, FINALFUNC = @extschema@.markov_final, PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.markov_attribution(text[], float8, float8, float8, integer) IS 'Markov attribution of order k (1 to 4): states are the last k channels';
CREATE AGGREGATE @extschema@.shapley_attribution(channels text[], conversions float8, value float8) (
  SFUNC = @extschema@.shapley_transfn, STYPE = @extschema@.journey_state, SSPACE = 1024,
  COMBINEFUNC = @extschema@.journey_combine, FINALFUNC = @extschema@.shapley_final, PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.shapley_attribution(text[], float8, float8) IS 'simplified Shapley attribution (Zhao et al. 2018): each journey''s conversions and value split equally among its distinct channels';
CREATE AGGREGATE @extschema@.shapley_attribution(channels text[], conversions float8, value float8, exact boolean) (
  SFUNC = @extschema@.shapley_transfn, STYPE = @extschema@.journey_state, SSPACE = 1024,
  COMBINEFUNC = @extschema@.journey_combine, FINALFUNC = @extschema@.shapley_final, PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.shapley_attribution(text[], float8, float8, boolean) IS 'Shapley attribution; exact => true computes the Shapley value over all coalitions with v(S) = conversions of journeys whose channels lie within S (at most 20 channels)';

-- ---- heuristic models per journey (src/touch_credit.c) ----

CREATE TYPE @extschema@.touch_state;
CREATE FUNCTION @extschema@.touch_state_in(cstring) RETURNS @extschema@.touch_state
AS 'MODULE_PATHNAME', 'leadmgmt_touch_state_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.touch_state_in(cstring) IS 'text input of touch_state: v1: followed by the hex of its binary form';
CREATE FUNCTION @extschema@.touch_state_out(@extschema@.touch_state) RETURNS cstring
AS 'MODULE_PATHNAME', 'leadmgmt_touch_state_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.touch_state_out(@extschema@.touch_state) IS 'text output of touch_state, exact, so partial states can travel as text (Citus)';
CREATE FUNCTION @extschema@.touch_state_recv(internal) RETURNS @extschema@.touch_state
AS 'MODULE_PATHNAME', 'leadmgmt_touch_state_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.touch_state_recv(internal) IS 'binary input of touch_state (versioned)';
CREATE FUNCTION @extschema@.touch_state_send(@extschema@.touch_state) RETURNS bytea
AS 'MODULE_PATHNAME', 'leadmgmt_touch_state_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.touch_state_send(@extschema@.touch_state) IS 'binary output of touch_state (versioned)';
CREATE TYPE @extschema@.touch_state (
  INPUT = @extschema@.touch_state_in,
  OUTPUT = @extschema@.touch_state_out,
  RECEIVE = @extschema@.touch_state_recv,
  SEND = @extschema@.touch_state_send,
  INTERNALLENGTH = VARIABLE,
  ALIGNMENT = double,
  STORAGE = external
);
COMMENT ON TYPE @extschema@.touch_state IS 'partial state of touch_credit: the model settings and the touches of one journey that count';

CREATE TYPE @extschema@.channel_credit AS (channel text, credit float8);
COMMENT ON TYPE @extschema@.channel_credit IS 'a channel''s share of one conversion';
COMMENT ON COLUMN @extschema@.channel_credit.channel IS 'channel';
COMMENT ON COLUMN @extschema@.channel_credit.credit IS 'share of the conversion, 0 to 1; the shares of a journey add up to 1';

CREATE FUNCTION @extschema@.touch_credit_transfn(@extschema@.touch_state, text, text, timestamptz, timestamptz) RETURNS @extschema@.touch_state
AS 'MODULE_PATHNAME', 'leadmgmt_touch_credit_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.touch_credit_transfn(@extschema@.touch_state, text, text, timestamptz, timestamptz) IS 'transition of touch_credit(model, channel, ts, converted_at)';
CREATE FUNCTION @extschema@.touch_credit_transfn(@extschema@.touch_state, text, text, timestamptz, timestamptz, jsonb) RETURNS @extschema@.touch_state
AS 'MODULE_PATHNAME', 'leadmgmt_touch_credit_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.touch_credit_transfn(@extschema@.touch_state, text, text, timestamptz, timestamptz, jsonb) IS 'transition of touch_credit(model, channel, ts, converted_at, options)';
CREATE FUNCTION @extschema@.touch_credit_combine(@extschema@.touch_state, @extschema@.touch_state) RETURNS @extschema@.touch_state
AS 'MODULE_PATHNAME', 'leadmgmt_touch_credit_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.touch_credit_combine(@extschema@.touch_state, @extschema@.touch_state) IS 'combines two partial touch_credit states of one journey';
CREATE FUNCTION @extschema@.touch_credit_final(@extschema@.touch_state) RETURNS @extschema@.channel_credit[]
AS 'MODULE_PATHNAME', 'leadmgmt_touch_credit_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.touch_credit_final(@extschema@.touch_state) IS 'final of touch_credit: each channel''s share, largest first';
CREATE AGGREGATE @extschema@.touch_credit(model text, channel text, ts timestamptz, converted_at timestamptz) (
  SFUNC = @extschema@.touch_credit_transfn, STYPE = @extschema@.touch_state, SSPACE = 512,
  COMBINEFUNC = @extschema@.touch_credit_combine, FINALFUNC = @extschema@.touch_credit_final, PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.touch_credit(text, text, timestamptz, timestamptz) IS 'heuristic attribution of one journey''s conversion: first_touch, last_touch, last_non_direct, linear, position_based or time_decay; 30-day lookback';
CREATE AGGREGATE @extschema@.touch_credit(model text, channel text, ts timestamptz, converted_at timestamptz, options jsonb) (
  SFUNC = @extschema@.touch_credit_transfn, STYPE = @extschema@.touch_state, SSPACE = 512,
  COMBINEFUNC = @extschema@.touch_credit_combine, FINALFUNC = @extschema@.touch_credit_final, PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.touch_credit(text, text, timestamptz, timestamptz, jsonb) IS 'touch_credit with options: lookback_days, exclude, merge_repeats, direct, first, last, half_life_days';

-- ---------------------------------------------------------------------------
-- Attribution and channel ROI views (docs/reference/attribution.md): since 0.3
--
-- A conversion is a lead's first paid order (renewals are not conversions);
-- its journey is the lead's touchpoints.  Spend is never split by
-- attribution; conversions and revenue are.
-- ---------------------------------------------------------------------------

ALTER TABLE @extschema@.org
  ADD COLUMN attribution_model text NOT NULL DEFAULT 'last_non_direct'
    CHECK (attribution_model IN ('first_touch', 'last_touch', 'last_non_direct', 'linear', 'position_based', 'time_decay')),
  ADD COLUMN attribution_lookback_days integer NOT NULL DEFAULT 30 CHECK (attribution_lookback_days BETWEEN 1 AND 3650),
  ADD COLUMN ltv_horizon interval NOT NULL DEFAULT '365 days' CHECK (ltv_horizon > interval '0');
COMMENT ON COLUMN @extschema@.org.attribution_model IS 'model that credits conversions and revenue to channels in channel_roi';
COMMENT ON COLUMN @extschema@.org.attribution_lookback_days IS 'touches this many days or fewer before a conversion count for it';
COMMENT ON COLUMN @extschema@.org.ltv_horizon IS 'how long after the first payment a student''s net revenue counts towards LTV';

CREATE FUNCTION @extschema@.conversion_credits(models text[])
RETURNS TABLE (org_id bigint, order_id bigint, lead_id bigint, converted_at timestamptz, model text, channel text,
               campaign_id bigint, credit float8, credited_revenue float8, credited_ltv_revenue float8, touches bigint)
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
WITH conv AS (
  -- each lead's first paid order
  SELECT DISTINCT ON (so.org_id, so.lead_id) so.org_id, so.lead_id, so.order_id, so.paid_at AS converted_at
    FROM @extschema@.sales_order so
   WHERE so.status = 'paid' AND NOT so.is_renewal
   ORDER BY so.org_id, so.lead_id, so.paid_at, so.order_id
), net AS (
  SELECT so.org_id, so.order_id, so.lead_id, so.paid_at, so.amount - coalesce(r.refunded, 0) AS net_amount
    FROM @extschema@.sales_order so
    LEFT JOIN (SELECT rf.org_id, rf.order_id, sum(rf.amount) AS refunded FROM @extschema@.refund rf GROUP BY 1, 2) r
           ON r.org_id = so.org_id AND r.order_id = so.order_id
   WHERE so.status = 'paid'
), direct_keys AS (
  -- credit is computed per channel and campaign ("code|campaign id"); direct channels are keyed
  -- without their campaign, so last_non_direct needs just one key per direct channel
  SELECT ch.org_id, jsonb_agg(ch.code || '|') AS keys
    FROM @extschema@.channel ch WHERE ch.kind = 'direct' GROUP BY ch.org_id
), cv AS (
  SELECT c.org_id, c.lead_id, c.order_id, c.converted_at,
         max(n.net_amount) FILTER (WHERE n.order_id = c.order_id) AS net_revenue,
         coalesce(sum(n.net_amount) FILTER (WHERE n.paid_at >= c.converted_at AND n.paid_at < c.converted_at + o.ltv_horizon), 0) AS ltv_revenue,
         -- options built once per conversion, not per touch
         jsonb_build_object('lookback_days', o.attribution_lookback_days, 'direct', coalesce(dk.keys, '[]')) AS options
    FROM conv c
    JOIN @extschema@.org o ON o.org_id = c.org_id
    LEFT JOIN direct_keys dk ON dk.org_id = c.org_id
    JOIN net n ON n.org_id = c.org_id AND n.lead_id = c.lead_id
   GROUP BY c.org_id, c.lead_id, c.order_id, c.converted_at, o.ltv_horizon, o.attribution_lookback_days, dk.keys
), credit AS (
  SELECT cv.org_id, cv.lead_id, cv.order_id, cv.converted_at, cv.net_revenue, cv.ltv_revenue, m.model,
         count(*) AS touches,
         @extschema@.touch_credit(m.model, ch.code || '|' || CASE WHEN ch.kind = 'direct' THEN '' ELSE coalesce(tp.campaign_id::text, '') END,
                                  tp.occurred_at, cv.converted_at,
                                  cv.options) AS credits
    FROM cv
    JOIN @extschema@.touchpoint tp ON tp.org_id = cv.org_id AND tp.lead_id = cv.lead_id
    JOIN @extschema@.channel ch ON ch.org_id = tp.org_id AND ch.channel_id = tp.channel_id
   CROSS JOIN (SELECT DISTINCT x.model FROM unnest(models) x(model)) m
   GROUP BY cv.org_id, cv.lead_id, cv.order_id, cv.converted_at, cv.net_revenue, cv.ltv_revenue, m.model
)
SELECT c.org_id, c.order_id, c.lead_id, c.converted_at, c.model,
       split_part(x.channel, '|', 1) AS channel, nullif(split_part(x.channel, '|', 2), '')::bigint AS campaign_id, x.credit,
       x.credit * c.net_revenue AS credited_revenue, x.credit * c.ltv_revenue AS credited_ltv_revenue, c.touches
  FROM credit c CROSS JOIN LATERAL unnest(c.credits) x
$$;
COMMENT ON FUNCTION @extschema@.conversion_credits(text[]) IS 'the rows of conversion_credit for the named models only (each model costs a pass over the journeys): channel_roi asks just for the orgs'' models';

CREATE VIEW @extschema@.conversion_credit WITH (security_invoker = true) AS
SELECT c.org_id, c.order_id, c.lead_id, c.converted_at, c.model, c.channel, c.campaign_id, c.credit,
       c.credited_revenue, c.credited_ltv_revenue, c.touches
  FROM @extschema@.conversion_credits(ARRAY['first_touch', 'last_touch', 'last_non_direct', 'linear', 'position_based', 'time_decay']) c;
COMMENT ON VIEW @extschema@.conversion_credit IS 'audit of attribution: one row per conversion (a lead''s first paid order) x model x channel and campaign of its journey, with their share of the conversion and of its revenue';
COMMENT ON COLUMN @extschema@.conversion_credit.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.conversion_credit.order_id IS 'the converting order';
COMMENT ON COLUMN @extschema@.conversion_credit.lead_id IS 'the lead who converted';
COMMENT ON COLUMN @extschema@.conversion_credit.converted_at IS 'when the order was paid';
COMMENT ON COLUMN @extschema@.conversion_credit.model IS 'first_touch, last_touch, last_non_direct, linear, position_based or time_decay';
COMMENT ON COLUMN @extschema@.conversion_credit.channel IS 'channel code';
COMMENT ON COLUMN @extschema@.conversion_credit.campaign_id IS 'campaign of the touches credited; NULL for touches without one and for direct channels';
COMMENT ON COLUMN @extschema@.conversion_credit.credit IS 'the share of the channel and campaign in the conversion under the model (a journey''s shares add up to 1; 0 when touched but not credited)';
COMMENT ON COLUMN @extschema@.conversion_credit.credited_revenue IS 'share of the order''s revenue net of refunds';
COMMENT ON COLUMN @extschema@.conversion_credit.credited_ltv_revenue IS 'share of the student''s net revenue within org.ltv_horizon, renewals included';
COMMENT ON COLUMN @extschema@.conversion_credit.touches IS 'touches of the journey (all channels, before the lookback filter)';

CREATE VIEW @extschema@.attribution_comparison WITH (security_invoker = true) AS
WITH h AS (
  SELECT cc.org_id, cc.channel,
         sum(cc.credit) FILTER (WHERE cc.model = 'first_touch') AS first_touch,
         sum(cc.credit) FILTER (WHERE cc.model = 'last_touch') AS last_touch,
         sum(cc.credit) FILTER (WHERE cc.model = 'last_non_direct') AS last_non_direct,
         sum(cc.credit) FILTER (WHERE cc.model = 'linear') AS linear,
         sum(cc.credit) FILTER (WHERE cc.model = 'position_based') AS position_based,
         sum(cc.credit) FILTER (WHERE cc.model = 'time_decay') AS time_decay
    FROM @extschema@.conversion_credit cc GROUP BY cc.org_id, cc.channel
), journeys AS (
  -- every lead's path (channels in time order) and whether it converted, for the data-driven models
  SELECT l.org_id, l.lead_id,
         array_agg(ch.code ORDER BY tp.occurred_at, tp.touchpoint_id) AS path,
         EXISTS (SELECT 1 FROM @extschema@.sales_order so WHERE so.org_id = l.org_id AND so.lead_id = l.lead_id
                   AND so.status = 'paid' AND NOT so.is_renewal) AS converted
    FROM @extschema@.lead l
    JOIN @extschema@.touchpoint tp ON tp.org_id = l.org_id AND tp.lead_id = l.lead_id
    JOIN @extschema@.channel ch ON ch.org_id = tp.org_id AND ch.channel_id = tp.channel_id
   GROUP BY l.org_id, l.lead_id
), dd AS (
  SELECT j.org_id,
         @extschema@.markov_attribution(j.path, j.converted::int, 1 - j.converted::int, 0) AS markov,
         @extschema@.shapley_attribution(j.path, j.converted::int, 0) AS shapley
    FROM journeys j GROUP BY j.org_id
)
SELECT h.org_id, h.channel,
       round(h.first_touch::numeric, 2) AS first_touch, round(h.last_touch::numeric, 2) AS last_touch,
       round(h.last_non_direct::numeric, 2) AS last_non_direct, round(h.linear::numeric, 2) AS linear,
       round(h.position_based::numeric, 2) AS position_based, round(h.time_decay::numeric, 2) AS time_decay,
       round(m.conversions::numeric, 2) AS markov, round(m.removal_effect::numeric, 4) AS markov_removal_effect,
       round(s.conversions::numeric, 2) AS shapley
  FROM h
  LEFT JOIN dd ON dd.org_id = h.org_id
  LEFT JOIN LATERAL (SELECT x.* FROM unnest(dd.markov) x WHERE x.channel = h.channel) m ON true
  LEFT JOIN LATERAL (SELECT x.* FROM unnest(dd.shapley) x WHERE x.channel = h.channel) s ON true;
COMMENT ON VIEW @extschema@.attribution_comparison IS 'conversions credited to each channel under every model side by side: the six heuristic models, first-order Markov (with removal effect) and Shapley';
COMMENT ON COLUMN @extschema@.attribution_comparison.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.attribution_comparison.channel IS 'channel code';
COMMENT ON COLUMN @extschema@.attribution_comparison.first_touch IS 'conversions credited by first touch';
COMMENT ON COLUMN @extschema@.attribution_comparison.last_touch IS 'conversions credited by last touch';
COMMENT ON COLUMN @extschema@.attribution_comparison.last_non_direct IS 'conversions credited by last non-direct touch';
COMMENT ON COLUMN @extschema@.attribution_comparison.linear IS 'conversions credited linearly (per touch)';
COMMENT ON COLUMN @extschema@.attribution_comparison.position_based IS 'conversions credited 40/20/40 by position';
COMMENT ON COLUMN @extschema@.attribution_comparison.time_decay IS 'conversions credited by time decay (7-day half-life)';
COMMENT ON COLUMN @extschema@.attribution_comparison.markov IS 'conversions credited by first-order Markov removal effects (journeys of all leads; no lookback)';
COMMENT ON COLUMN @extschema@.attribution_comparison.markov_removal_effect IS 'share of conversions lost without the channel';
COMMENT ON COLUMN @extschema@.attribution_comparison.shapley IS 'conversions credited by the Shapley value (journeys of all leads; no lookback)';

CREATE VIEW @extschema@.channel_roi WITH (security_invoker = true) AS
WITH o AS (
  SELECT org.org_id, org.timezone, org.attribution_model FROM @extschema@.org
), spend AS (
  -- campaign 0: spend, leads and touches without a campaign
  SELECT s.org_id, s.channel_id, coalesce(s.campaign_id, 0) AS campaign_id, s.spend_date AS day,
         sum(s.spend) AS spend, sum(s.impressions) AS impressions, sum(s.clicks) AS clicks
    FROM @extschema@.ad_spend s GROUP BY 1, 2, 3, 4
), leads AS (
  SELECT l.org_id, l.first_channel_id AS channel_id, coalesce(l.first_campaign_id, 0) AS campaign_id,
         (l.created_at AT TIME ZONE o.timezone)::date AS day, count(*) AS leads, count(*) FILTER (WHERE l.phone_valid) AS valid_leads
    FROM @extschema@.lead l JOIN o ON o.org_id = l.org_id GROUP BY 1, 2, 3, 4
), handling AS (
  -- follow-up cost goes to the lead's first channel and campaign; like spend it is not split by attribution
  SELECT f.org_id, l.first_channel_id AS channel_id, coalesce(l.first_campaign_id, 0) AS campaign_id,
         (f.occurred_at AT TIME ZONE o.timezone)::date AS day, sum(f.cost) AS handling_cost
    FROM @extschema@.follow_up f
    JOIN @extschema@.lead l ON l.org_id = f.org_id AND l.lead_id = f.lead_id
    JOIN o ON o.org_id = f.org_id GROUP BY 1, 2, 3, 4
), trials AS (
  SELECT t.org_id, l.first_channel_id AS channel_id, coalesce(l.first_campaign_id, 0) AS campaign_id,
         (t.booked_at AT TIME ZONE o.timezone)::date AS day, count(*) AS trials
    FROM @extschema@.trial_lesson t
    JOIN @extschema@.lead l ON l.org_id = t.org_id AND l.lead_id = t.lead_id
    JOIN o ON o.org_id = t.org_id GROUP BY 1, 2, 3, 4
), credited AS (
  SELECT cc.org_id, ch.channel_id, coalesce(cc.campaign_id, 0) AS campaign_id, (cc.converted_at AT TIME ZONE o.timezone)::date AS day,
         sum(cc.credit) AS paid_students, sum(cc.credited_revenue) AS revenue, sum(cc.credited_ltv_revenue) AS ltv_revenue
    FROM @extschema@.conversion_credits(ARRAY(SELECT DISTINCT o2.attribution_model FROM o o2)) cc
    JOIN o ON o.org_id = cc.org_id AND cc.model = o.attribution_model
    JOIN @extschema@.channel ch ON ch.org_id = cc.org_id AND ch.code = cc.channel
   GROUP BY 1, 2, 3, 4
), daily AS (
  SELECT org_id, channel_id, campaign_id, day,
         coalesce(s.spend, 0) AS spend, coalesce(s.impressions, 0) AS impressions, coalesce(s.clicks, 0) AS clicks,
         coalesce(l.leads, 0) AS leads, coalesce(l.valid_leads, 0) AS valid_leads, coalesce(h.handling_cost, 0) AS handling_cost,
         coalesce(t.trials, 0) AS trials, coalesce(c.paid_students, 0) AS paid_students,
         coalesce(c.revenue, 0) AS revenue, coalesce(c.ltv_revenue, 0) AS ltv_revenue
    FROM spend s
    FULL JOIN leads l USING (org_id, channel_id, campaign_id, day)
    FULL JOIN handling h USING (org_id, channel_id, campaign_id, day)
    FULL JOIN trials t USING (org_id, channel_id, campaign_id, day)
    FULL JOIN credited c USING (org_id, channel_id, campaign_id, day)
), periods AS (
  SELECT g.grain, d.org_id, d.channel_id, d.campaign_id,
         CASE g.grain WHEN 'day' THEN d.day ELSE date_trunc(g.grain, d.day)::date END AS period_start,
         d.spend, d.impressions, d.clicks, d.leads, d.valid_leads, d.handling_cost, d.trials, d.paid_students, d.revenue, d.ltv_revenue
    FROM daily d CROSS JOIN (VALUES ('day'), ('week'), ('month')) g(grain)
)
SELECT p.org_id, p.grain AS period, p.period_start, ch.code AS channel, ch.kind AS channel_kind,
       CASE WHEN GROUPING(p.campaign_id) = 0 THEN 'campaign' ELSE 'channel' END AS breakdown,
       CASE WHEN GROUPING(p.campaign_id) = 0 THEN nullif(p.campaign_id, 0) END AS campaign_id,
       CASE WHEN GROUPING(p.campaign_id) = 0 THEN coalesce(max(cp.code), '(none)') END AS campaign,
       o.attribution_model,
       sum(p.spend) AS spend, sum(p.impressions) AS impressions, sum(p.clicks) AS clicks,
       sum(p.leads) AS leads, sum(p.valid_leads) AS valid_leads,
       round(sum(p.spend) / nullif(sum(p.leads), 0), 2) AS cpl,
       sum(p.trials) AS trials,
       round(sum(p.paid_students)::numeric, 2) AS paid_students,
       round(sum(p.spend) / nullif(sum(p.paid_students), 0)::numeric, 2) AS cpa,
       round(sum(p.revenue)::numeric, 2) AS net_revenue,
       round(sum(p.revenue)::numeric / nullif(sum(p.spend), 0), 3) AS roas,
       round((sum(p.revenue)::numeric - sum(p.spend)) / nullif(sum(p.spend), 0), 3) AS roi,
       sum(p.handling_cost) AS handling_cost,
       round((sum(p.spend) + sum(p.handling_cost)) / nullif(sum(p.paid_students), 0)::numeric, 2) AS cac,
       round(sum(p.ltv_revenue)::numeric / nullif(sum(p.paid_students), 0)::numeric, 2) AS ltv,
       round((sum(p.ltv_revenue)::numeric / nullif(sum(p.paid_students), 0)::numeric)
             / nullif((sum(p.spend) + sum(p.handling_cost)) / nullif(sum(p.paid_students), 0)::numeric, 0), 3) AS ltv_to_cac
  FROM periods p
  JOIN @extschema@.channel ch ON ch.org_id = p.org_id AND ch.channel_id = p.channel_id
  JOIN o ON o.org_id = p.org_id
  LEFT JOIN @extschema@.campaign cp ON cp.org_id = p.org_id AND cp.campaign_id = p.campaign_id
 GROUP BY GROUPING SETS ((p.org_id, p.grain, p.period_start, ch.code, ch.kind, o.attribution_model),
                        (p.org_id, p.grain, p.period_start, ch.code, ch.kind, o.attribution_model, p.campaign_id));
COMMENT ON VIEW @extschema@.channel_roi IS 'channel and campaign ROI by day, week and month: spend, leads, CPL, trials, paid students and net revenue credited by the org''s attribution model, CPA, ROAS, ROI, fully loaded CAC and LTV/CAC (definitions in docs/metrics.md)';
COMMENT ON COLUMN @extschema@.channel_roi.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.channel_roi.period IS 'day, week or month';
COMMENT ON COLUMN @extschema@.channel_roi.period_start IS 'first day of the period, in the org''s time zone';
COMMENT ON COLUMN @extschema@.channel_roi.channel IS 'channel code';
COMMENT ON COLUMN @extschema@.channel_roi.channel_kind IS 'paid, organic, referral, direct or offline';
COMMENT ON COLUMN @extschema@.channel_roi.breakdown IS 'channel (all its campaigns) or campaign';
COMMENT ON COLUMN @extschema@.channel_roi.campaign_id IS 'campaign, for breakdown campaign; NULL for no campaign or a channel row';
COMMENT ON COLUMN @extschema@.channel_roi.campaign IS 'campaign code, (none) for spend, leads and touches without a campaign; NULL on channel rows';
COMMENT ON COLUMN @extschema@.channel_roi.attribution_model IS 'the org''s model that credited paid students and revenue';
COMMENT ON COLUMN @extschema@.channel_roi.spend IS 'ad spend (never split by attribution)';
COMMENT ON COLUMN @extschema@.channel_roi.impressions IS 'impressions';
COMMENT ON COLUMN @extschema@.channel_roi.clicks IS 'clicks';
COMMENT ON COLUMN @extschema@.channel_roi.leads IS 'leads whose first channel it is, created in the period';
COMMENT ON COLUMN @extschema@.channel_roi.valid_leads IS 'of which with a valid phone (duplicates are never separate leads)';
COMMENT ON COLUMN @extschema@.channel_roi.cpl IS 'cost per lead: spend / leads';
COMMENT ON COLUMN @extschema@.channel_roi.trials IS 'trial lessons booked by leads whose first channel it is';
COMMENT ON COLUMN @extschema@.channel_roi.paid_students IS 'new paying students credited to the channel, converted in the period';
COMMENT ON COLUMN @extschema@.channel_roi.cpa IS 'cost per acquisition: spend / credited paid students';
COMMENT ON COLUMN @extschema@.channel_roi.net_revenue IS 'credited revenue of the converting orders, net of refunds';
COMMENT ON COLUMN @extschema@.channel_roi.roas IS 'net revenue / spend';
COMMENT ON COLUMN @extschema@.channel_roi.roi IS '(net revenue - spend) / spend';
COMMENT ON COLUMN @extschema@.channel_roi.handling_cost IS 'cost of follow-ups in the period of leads whose first channel it is';
COMMENT ON COLUMN @extschema@.channel_roi.cac IS 'fully loaded customer acquisition cost: (spend + handling cost) / credited paid students';
COMMENT ON COLUMN @extschema@.channel_roi.ltv IS 'credited net revenue per paid student within org.ltv_horizon of the first payment, renewals included';
COMMENT ON COLUMN @extschema@.channel_roi.ltv_to_cac IS 'LTV / CAC';

CREATE VIEW @extschema@.channel_payback WITH (security_invoker = true) AS
WITH o AS (
  SELECT org.org_id, org.timezone, org.attribution_model FROM @extschema@.org
), cohort AS (
  -- credited new students by channel and month of conversion, under the org's model
  SELECT cc.org_id, cc.channel, date_trunc('month', cc.converted_at AT TIME ZONE o.timezone)::date AS cohort_month,
         cc.lead_id, cc.converted_at, cc.credit
    FROM @extschema@.conversion_credits(ARRAY(SELECT DISTINCT o2.attribution_model FROM o o2)) cc
    JOIN o ON o.org_id = cc.org_id AND cc.model = o.attribution_model
   WHERE cc.credit > 0
), net AS (
  SELECT so.org_id, so.lead_id, so.paid_at, so.amount - coalesce(r.refunded, 0) AS net_amount
    FROM @extschema@.sales_order so
    LEFT JOIN (SELECT rf.org_id, rf.order_id, sum(rf.amount) AS refunded FROM @extschema@.refund rf GROUP BY 1, 2) r
           ON r.org_id = so.org_id AND r.order_id = so.order_id
   WHERE so.status = 'paid'
), daily AS (
  -- the cohort's credited net revenue (renewals included) by days since each student's conversion
  SELECT c.org_id, c.channel, c.cohort_month,
         floor(extract(epoch FROM n.paid_at - c.converted_at) / 86400)::int AS day, sum(c.credit * n.net_amount) AS amount
    FROM cohort c
    JOIN net n ON n.org_id = c.org_id AND n.lead_id = c.lead_id AND n.paid_at >= c.converted_at
   GROUP BY 1, 2, 3, 4
), cum AS (
  SELECT d.*, sum(d.amount) OVER (PARTITION BY d.org_id, d.channel, d.cohort_month ORDER BY d.day) AS cumulative
    FROM daily d
), cost AS (
  SELECT r.org_id, r.channel, r.period_start AS cohort_month, r.spend + r.handling_cost AS acquisition_cost, r.paid_students
    FROM @extschema@.channel_roi r WHERE r.period = 'month' AND r.breakdown = 'channel'
)
SELECT k.org_id, k.channel, k.cohort_month, k.acquisition_cost, k.paid_students,
       round((SELECT max(c.cumulative) FROM cum c
               WHERE c.org_id = k.org_id AND c.channel = k.channel AND c.cohort_month = k.cohort_month)::numeric, 2) AS net_revenue_to_date,
       (SELECT min(c.day) FROM cum c
         WHERE c.org_id = k.org_id AND c.channel = k.channel AND c.cohort_month = k.cohort_month
           AND c.cumulative >= k.acquisition_cost) AS payback_days
  FROM cost k
 WHERE k.paid_students > 0;
COMMENT ON VIEW @extschema@.channel_payback IS 'payback of each channel''s monthly cohort of new students: days until their credited cumulative net revenue (renewals included) covers the month''s spend and handling cost';
COMMENT ON COLUMN @extschema@.channel_payback.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.channel_payback.channel IS 'channel code';
COMMENT ON COLUMN @extschema@.channel_payback.cohort_month IS 'month the students converted (and the spend was made)';
COMMENT ON COLUMN @extschema@.channel_payback.acquisition_cost IS 'spend plus handling cost of the channel in the month';
COMMENT ON COLUMN @extschema@.channel_payback.paid_students IS 'new paying students credited to the channel in the month';
COMMENT ON COLUMN @extschema@.channel_payback.net_revenue_to_date IS 'credited net revenue of those students so far, renewals included';
COMMENT ON COLUMN @extschema@.channel_payback.payback_days IS 'days after conversion at which the cohort''s cumulative net revenue first covers the acquisition cost; NULL while it has not (0 when the first payments already do)';

-- roles granted access before the update get the same privileges on the new
-- tables and views as roles granted afterwards
SELECT @extschema@.apply_privileges(r.oid::regrole)
  FROM (SELECT DISTINCT role_name FROM @extschema@.access_grant) g
  JOIN pg_catalog.pg_roles r ON r.rolname = g.role_name;
