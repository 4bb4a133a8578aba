-- role: lm_bi
-- The service views as a BI role sees them on the demo data: the grade-3
-- churn spike is the first finding, and the views agree with each other.
BEGIN;
SELECT plan(9);

SELECT is((SELECT segment_kind || ': ' || segment FROM leadmgmt.segment_churn_test
            WHERE org_id = 1 AND p_value IS NOT NULL ORDER BY p_value LIMIT 1),
          'grade: grade 3', 'the most significant churn difference of the demo school is grade 3 (one query)');
SELECT ok((SELECT churn_ratio > 1.3 AND p_value < 0.01 FROM leadmgmt.segment_churn_test
            WHERE org_id = 1 AND segment_kind = 'grade' AND segment = 'grade 3'),
          'grade 3 churns faster than the rest: churn ratio above 1.3, p below 0.01');
SELECT is((SELECT median_lifetime_days FROM leadmgmt.segment_survival WHERE org_id = 1 AND segment_kind = 'all'),
          (SELECT (leadmgmt.km_median(leadmgmt.km_fit(lifetime_days, churned))).median FROM leadmgmt.student_lifetime WHERE org_id = 1),
          'segment_survival (all) has the Kaplan-Meier median of student_lifetime');
SELECT is((SELECT sum(students)::bigint FROM leadmgmt.segment_survival WHERE org_id = 1 AND segment_kind = 'grade'),
          (SELECT count(*) FROM leadmgmt.student_lifetime WHERE org_id = 1),
          'the grades of segment_survival cover every spell once');
SELECT is((SELECT array[sum(up_for_renewal), sum(renewed), sum(pending)] FROM leadmgmt.renewal_rate WHERE org_id = 1 AND breakdown = 'all'),
          (SELECT array[count(*) FILTER (WHERE outcome IN ('renewed', 'churned')), count(*) FILTER (WHERE outcome = 'renewed'),
                        count(*) FILTER (WHERE outcome = 'pending')]::numeric[] FROM leadmgmt.student_term WHERE org_id = 1),
          'renewal_rate (all) counts the outcomes of student_term');
SELECT is((SELECT count(*) FROM leadmgmt.cohort_retention
            WHERE org_id = 1 AND ((months_since = 0 AND retention_on <> 1) OR retention_on > retention_on_or_after)),
          0::bigint, 'cohort_retention: everyone is active in month 0, and "on" never exceeds "on or after"');
SELECT is((SELECT count(*) FROM (
             SELECT cohort_month, cohort_kind, months_since, active_or_later_students,
                    lag(active_or_later_students) OVER (PARTITION BY cohort_month, cohort_kind ORDER BY months_since) AS prev
               FROM leadmgmt.cohort_retention WHERE org_id = 1) x WHERE active_or_later_students > prev),
          0::bigint, 'cohort_retention: "on or after" never grows with time');
SELECT ok((SELECT count(*) > 0 AND bool_and(days_left BETWEEN 0 AND 14) FROM leadmgmt.at_risk_students WHERE org_id = 1),
          'at_risk_students lists terms that end within the 14-day horizon');
SELECT is((SELECT count(*) FROM leadmgmt.at_risk_students a
             JOIN leadmgmt.student_term t USING (org_id, enrollment_id) WHERE t.outcome <> 'in_term'),
          0::bigint, 'at_risk_students only lists running terms without a renewal');

SELECT * FROM finish();
ROLLBACK;
