-- master_data: the functions a fresh org is set up with (0.16): teams,
-- reps, shifts and dated leave; teachers, courses, classes, students,
-- enrollments and renewals.  Every error as its SQLSTATE and message.
-- No id is printed: on a Citus cluster each worker numbers its own rows.
SET client_min_messages = warning;
SET TimeZone = 'Asia/Shanghai';
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN EXECUTE q; RETURN 'no error';
EXCEPTION WHEN others THEN
  RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, '(lead|org|order|rep|team|shift|leave|teacher|course|class|student|enrollment|sales rep) -?[0-9]+', '\1 N', 'g');
END $$;
SELECT leadmgmt.create_org('Master School') AS org \gset
SELECT leadmgmt.create_org('Other School') AS org2 \gset
-- explicit 2026 times, accepted wherever the server's clock stands
UPDATE leadmgmt.org SET future_tolerance = '100 years', renewal_grace = '14 days' WHERE org_id IN (:org, :org2);

-- teams
SELECT leadmgmt.add_team(:org, 'East', 'least_busy') AS east \gset
SELECT leadmgmt.add_team(:org2, 'Elsewhere') AS team2 \gset
SELECT name, assign_strategy FROM leadmgmt.team WHERE org_id = :org;
SELECT pg_temp.err(format('SELECT leadmgmt.add_team(%s, %L)', :org, 'East'));
SELECT pg_temp.err(format('SELECT leadmgmt.add_team(%s, %L, %L)', :org, 'West', 'random'));
SELECT pg_temp.err(format('SELECT leadmgmt.add_team(%s, NULL)', :org));
SELECT pg_temp.err(format('SELECT leadmgmt.add_team(%s, %L)', :org, ''));
SELECT pg_temp.err(format('SELECT leadmgmt.add_team(%s, %L)', :org, repeat('x', 201)));
SELECT pg_temp.err('SELECT leadmgmt.add_team(NULL, ''West'')');
SELECT pg_temp.err('SELECT leadmgmt.add_team(-1, ''West'')');

-- reps: defaults, settings, and their bounds
SELECT leadmgmt.add_rep(:org, 'Wang', 'sales', :east) AS wang \gset
SELECT leadmgmt.add_rep(:org, 'Li', 'top_sales', :east, weight => 3, daily_cap => 10, holding_cap => 40,
                        tiers => '{A,B}', daily_claim_cap => 5) AS li \gset
SELECT name, role, team_id = :east AS in_east, active, weight, daily_cap, holding_cap, tiers, daily_claim_cap
  FROM leadmgmt.sales_rep WHERE org_id = :org ORDER BY rep_id;
SELECT pg_temp.err(format('SELECT leadmgmt.add_rep(%s, %L, %L)', :org, 'Zhao', 'intern'));
SELECT pg_temp.err(format('SELECT leadmgmt.add_rep(%s, %L, %L, weight => 0)', :org, 'Zhao', 'sales'));
SELECT pg_temp.err(format('SELECT leadmgmt.add_rep(%s, %L, %L, daily_cap => 0)', :org, 'Zhao', 'sales'));
SELECT pg_temp.err(format('SELECT leadmgmt.add_rep(%s, %L, %L, tiers => %L)', :org, 'Zhao', 'sales', '{E}'));
SELECT pg_temp.err(format('SELECT leadmgmt.add_rep(%s, %L, %L, tiers => %L)', :org, 'Zhao', 'sales', '{}'));
SELECT pg_temp.err(format('SELECT leadmgmt.add_rep(%s, %L, %L, tiers => %L)', :org, 'Zhao', 'sales', '{A,NULL}'));
SELECT pg_temp.err(format('SELECT leadmgmt.add_rep(%s, %L, %L, tiers => NULL)', :org, 'Zhao', 'sales'));
SELECT pg_temp.err(format('SELECT leadmgmt.add_rep(%s, %L, %L, team_id => %s)', :org, 'Zhao', 'sales', :team2));
SELECT pg_temp.err(format('SELECT leadmgmt.add_rep(%s, NULL, %L)', :org, 'sales'));

-- update_rep: fields of a JSON object, checked like add_rep
SELECT leadmgmt.update_rep(:org, :wang, '{"weight": 2, "team_id": null, "tiers": ["C", "D"]}');
SELECT name, team_id, weight, tiers, active FROM leadmgmt.sales_rep WHERE org_id = :org AND rep_id = :wang;
SELECT pg_temp.err(format('SELECT leadmgmt.update_rep(%s, %s, %L)', :org, :wang, '{"salary": 1}'));
SELECT pg_temp.err(format('SELECT leadmgmt.update_rep(%s, %s, %L)', :org, :wang, '{"weight": "heavy"}'));
SELECT pg_temp.err(format('SELECT leadmgmt.update_rep(%s, %s, %L)', :org, :wang, '{"weight": 2.5}'));
SELECT pg_temp.err(format('SELECT leadmgmt.update_rep(%s, %s, %L)', :org, :wang, '{"weight": 1e30}'));
SELECT pg_temp.err(format('SELECT leadmgmt.update_rep(%s, %s, %L)', :org, :wang, '{"tiers": [1]}'));
SELECT pg_temp.err(format('SELECT leadmgmt.update_rep(%s, %s, %L)', :org, :wang, '{"role": null}'));
SELECT pg_temp.err(format('SELECT leadmgmt.update_rep(%s, %s, %L)', :org, :wang, '[]'));
SELECT pg_temp.err(format('SELECT leadmgmt.update_rep(%s, %s, NULL)', :org, :wang));
SELECT pg_temp.err(format('SELECT leadmgmt.update_rep(%s, %s, %L)', :org2, :wang, '{"weight": 2}'));
SELECT pg_temp.err(format('SELECT leadmgmt.update_rep(%s, NULL, %L)', :org, '{"weight": 2}'));

-- shifts: weekly, in the org's time zone, not overlapping
SELECT leadmgmt.add_shift(:org, :li, 1, '09:00', '12:00') AS s1 \gset
SELECT leadmgmt.add_shift(:org, :li, 1, '13:00', '24:00') > 0 AS until_midnight;
SELECT pg_temp.err(format('SELECT leadmgmt.add_shift(%s, %s, 1, %L, %L)', :org, :li, '11:00', '14:00'));
SELECT pg_temp.err(format('SELECT leadmgmt.add_shift(%s, %s, 2, %L, %L)', :org, :li, '22:00', '06:00'));
SELECT pg_temp.err(format('SELECT leadmgmt.add_shift(%s, %s, 8, %L, %L)', :org, :li, '09:00', '12:00'));
SELECT pg_temp.err(format('SELECT leadmgmt.add_shift(%s, %s, 0, %L, %L)', :org, :li, '09:00', '12:00'));
SELECT pg_temp.err(format('SELECT leadmgmt.add_shift(%s, %s, 1, NULL, %L)', :org, :li, '12:00'));
SELECT pg_temp.err(format('SELECT leadmgmt.add_shift(%s, %s, 1, %L, %L)', :org2, :li, '09:00', '12:00'));
SELECT leadmgmt.remove_shift(:org, :s1);
SELECT weekday, starts_at, ends_at FROM leadmgmt.rep_shift WHERE org_id = :org ORDER BY 1, 2;
SELECT pg_temp.err(format('SELECT leadmgmt.remove_shift(%s, %s)', :org, :s1));

-- leave: whole days in the org's time zone, not overlapping
SELECT leadmgmt.add_leave(:org, :wang, '2026-05-01', '2026-05-05', 'Labour Day') AS leave1 \gset
SELECT pg_temp.err(format('SELECT leadmgmt.add_leave(%s, %s, %L, %L)', :org, :wang, '2026-05-05', '2026-05-06'));
SELECT pg_temp.err(format('SELECT leadmgmt.add_leave(%s, %s, %L, %L)', :org, :wang, '2026-05-10', '2026-05-09'));
SELECT pg_temp.err(format('SELECT leadmgmt.add_leave(%s, %s, %L, %L)', :org, :wang, '2026-01-01', '2027-01-02'));
SELECT pg_temp.err(format('SELECT leadmgmt.add_leave(%s, %s, %L, %L)', :org, :wang, '-infinity', '2026-01-02'));
SELECT pg_temp.err(format('SELECT leadmgmt.add_leave(%s, %s, %L, %L)', :org, :wang, '4713-01-01 BC', '4713-01-02 BC'));
SELECT pg_temp.err(format('SELECT leadmgmt.add_leave(%s, %s, %L, %L, %L)', :org, :wang, '2026-06-01', '2026-06-02', repeat('x', 201)));
SELECT pg_temp.err(format('SELECT leadmgmt.add_leave(%s, %s, %L, NULL)', :org, :wang, '2026-06-01'));
SELECT pg_temp.err(format('SELECT leadmgmt.add_leave(%s, %s, %L, %L)', :org2, :wang, '2026-06-01', '2026-06-02'));
SELECT leadmgmt.add_leave(:org, :wang, '2026-06-01', '2026-06-01') AS leave2 \gset
SELECT leadmgmt.cancel_leave(:org, :leave2);
SELECT pg_temp.err(format('SELECT leadmgmt.cancel_leave(%s, %s)', :org, :leave2));
SELECT first_day, last_day, reason FROM leadmgmt.rep_leave WHERE org_id = :org;

-- on leave, a rep gets no leads: the roster of 2026-05-03 (a Sunday, in the
-- org's zone) is Li alone where Li works Sundays, and of 2026-05-06 both
SELECT leadmgmt.add_shift(:org, :li, 7, '00:00', '24:00') > 0 AS li_works_sundays;
SELECT leadmgmt.add_shift(:org, :li, 3, '00:00', '24:00') > 0 AS li_works_wednesdays;
SELECT (SELECT array_agg(x ORDER BY x) FROM unnest(r.rep_ids) x) = ARRAY[:li]::bigint[] AS only_li
  FROM leadmgmt.rep_roster((SELECT o FROM leadmgmt.org o WHERE org_id = :org), NULL, '2026-05-03 10:00+08') r;
SELECT cardinality(r.rep_ids) AS reps_after_leave
  FROM leadmgmt.rep_roster((SELECT o FROM leadmgmt.org o WHERE org_id = :org), NULL, '2026-05-06 10:00+08') r;
-- the leave's last day is in the org's zone: at 23:30 on 2026-05-05 (a
-- Tuesday) in Shanghai Wang is on leave, and Li does not work Tuesdays
SELECT coalesce(cardinality(r.rep_ids), 0) AS reps_on_last_evening
  FROM leadmgmt.rep_roster((SELECT o FROM leadmgmt.org o WHERE org_id = :org), NULL, '2026-05-05 15:30Z') r;
SELECT leadmgmt.add_channel(:org, 'douyin', 'Douyin', 'paid') > 0 AS channel;
SELECT lead_id AS l1 FROM leadmgmt.ingest_lead(:org, '13800000001', 'douyin', NULL, '2026-05-03 09:00+08') \gset
SELECT leadmgmt.update_rep(:org, :li, '{"tiers": ["A", "B", "C", "D"]}');
-- (the call alone, which Citus delegates to the org's node)
SELECT leadmgmt.assign_lead(:org, :l1, at => '2026-05-03 10:00+08') AS assigned \gset
SELECT :assigned = :li AS to_li;

-- teachers, courses, classes
SELECT leadmgmt.add_teacher(:org, 'Ms Chen') AS chen \gset
SELECT leadmgmt.add_teacher(:org2, 'Mr Other', 'tutor') AS other_teacher \gset
SELECT pg_temp.err(format('SELECT leadmgmt.add_teacher(%s, %L, %L)', :org, 'Mr Zhou', 'coach'));
SELECT pg_temp.err(format('SELECT leadmgmt.add_teacher(%s, %L, hired_on => %L)', :org, 'Mr Zhou', 'infinity'));
SELECT leadmgmt.add_course(:org, 'math-1', 'Math 1', 'math', 12, 3600, age_min => 6, age_max => 8) AS math \gset
SELECT pg_temp.err(format('SELECT leadmgmt.add_course(%s, %L, %L, %L, 12, 3600)', :org, 'math-1', 'Math', 'math'));
SELECT pg_temp.err(format('SELECT leadmgmt.add_course(%s, %L, %L, %L, 12, 3600)', :org, 'Math 1', 'Math', 'math'));
SELECT pg_temp.err(format('SELECT leadmgmt.add_course(%s, %L, %L, %L, 12, %L)', :org, 'm2', 'Math', 'math', 'NaN'));
SELECT pg_temp.err(format('SELECT leadmgmt.add_course(%s, %L, %L, %L, 12, -1)', :org, 'm2', 'Math', 'math'));
SELECT pg_temp.err(format('SELECT leadmgmt.add_course(%s, %L, %L, %L, 0, 100)', :org, 'm2', 'Math', 'math'));
SELECT pg_temp.err(format('SELECT leadmgmt.add_course(%s, %L, %L, %L, 12, 100, age_min => 9, age_max => 8)', :org, 'm2', 'Math', 'math'));
SELECT leadmgmt.add_class(:org, :math, 'Math 1 spring', '2026-03-01', '2026-05-31', 2, teacher_id => :chen) AS spring \gset
SELECT leadmgmt.add_class(:org, :math, 'Math 1 summer', '2026-06-01', '2026-08-31', 20, teacher_id => :chen) AS summer \gset
SELECT name, term_start, term_end, capacity, age_min, age_max, level, status FROM leadmgmt.course_class WHERE org_id = :org ORDER BY term_start;
SELECT pg_temp.err(format('SELECT leadmgmt.add_class(%s, %s, %L, %L, %L, 10)', :org, :math, 'x', '2026-03-01', '2026-03-01'));
SELECT pg_temp.err(format('SELECT leadmgmt.add_class(%s, %s, %L, %L, %L, 10)', :org, :math, 'x', '1900-03-01', '1900-05-01'));
SELECT pg_temp.err(format('SELECT leadmgmt.add_class(%s, %s, %L, %L, %L, 10)', :org, :math, 'x', '2026-03-01', '2030-03-01'));
SELECT pg_temp.err(format('SELECT leadmgmt.add_class(%s, %s, %L, %L, %L, 0)', :org, :math, 'x', '2026-03-01', '2026-05-01'));
SELECT pg_temp.err(format('SELECT leadmgmt.add_class(%s, %s, %L, %L, %L, 10, teacher_id => %s)', :org, :math, 'x', '2026-03-01', '2026-05-01', :other_teacher));
SELECT pg_temp.err(format('SELECT leadmgmt.add_class(%s, %s, %L, %L, %L, 10)', :org2, :math, 'x', '2026-03-01', '2026-05-01'));
SELECT pg_temp.err(format('SELECT leadmgmt.add_class(%s, NULL, %L, %L, %L, 10)', :org, 'x', '2026-03-01', '2026-05-01'));

-- students: one per lead
SELECT leadmgmt.add_student(:org, 'Xiaoming', lead_id => :l1, birth_date => '2019-02-01', grade => 1) AS s1 \gset
SELECT leadmgmt.add_student(:org, 'Xiaohong') AS s2 \gset
SELECT leadmgmt.add_student(:org, 'Xiaogang') AS s3 \gset
SELECT pg_temp.err(format('SELECT leadmgmt.add_student(%s, %L, lead_id => %s)', :org, 'Again', :l1));
SELECT pg_temp.err(format('SELECT leadmgmt.add_student(%s, %L, lead_id => -1)', :org, 'Nobody'));
SELECT pg_temp.err(format('SELECT leadmgmt.add_student(%s, %L, birth_date => %L)', :org, 'Future', '2199-01-01'));
SELECT pg_temp.err(format('SELECT leadmgmt.add_student(%s, %L, grade => 13)', :org, 'Old'));
SELECT pg_temp.err(format('SELECT leadmgmt.add_student(%s, NULL)', :org));

-- enrollments: capacity, duplicates, orders of the student's lead
SELECT leadmgmt.record_order(:org, :l1, 'Math 1 spring', 3600, '2026-03-01 10:00+08') AS o1 \gset
SELECT leadmgmt.enroll_student(:org, :s1, :spring, '2026-03-01 10:00+08', order_id => :o1) AS e1 \gset
SELECT leadmgmt.enroll_student(:org, :s2, :spring, '2026-03-01 11:00+08') AS e2 \gset
SELECT pg_temp.err(format('SELECT leadmgmt.enroll_student(%s, %s, %s, %L)', :org, :s3, :spring, '2026-03-02 10:00+08'));
SELECT pg_temp.err(format('SELECT leadmgmt.enroll_student(%s, %s, %s, %L)', :org, :s1, :spring, '2026-03-02 10:00+08'));
SELECT pg_temp.err(format('SELECT leadmgmt.enroll_student(%s, %s, %s, %L, order_id => %s)', :org, :s3, :summer, '2026-03-02 10:00+08', :o1));
SELECT pg_temp.err(format('SELECT leadmgmt.enroll_student(%s, %s, %s, %L)', :org, :s3, :summer, 'infinity'));
SELECT pg_temp.err(format('SELECT leadmgmt.enroll_student(%s, %s, %s, NULL)', :org, :s3, :summer));
SELECT pg_temp.err(format('SELECT leadmgmt.enroll_student(%s, %s, %s, %L)', :org2, :s3, :summer, '2026-03-02 10:00+08'));
-- one drops out, which frees a seat
SELECT leadmgmt.end_enrollment(:org, :e2, 'dropped', '2026-04-01 10:00+08');
SELECT leadmgmt.enroll_student(:org, :s3, :spring, '2026-04-02 10:00+08') AS e3 \gset
SELECT pg_temp.err(format('SELECT leadmgmt.end_enrollment(%s, %s, %L, %L)', :org, :e2, 'completed', '2026-04-02 10:00+08'));
SELECT pg_temp.err(format('SELECT leadmgmt.end_enrollment(%s, %s, %L, %L)', :org, :e3, 'paused', '2026-04-02 10:00+08'));
SELECT pg_temp.err(format('SELECT leadmgmt.end_enrollment(%s, %s, NULL, %L)', :org, :e3, '2026-04-02 10:00+08'));
SELECT pg_temp.err(format('SELECT leadmgmt.end_enrollment(%s, %s, %L, %L)', :org, :e3, 'completed', '2026-04-01 10:00+08'));
-- renewals: Xiaoming renews into summer in time, Xiaogang does not
SELECT leadmgmt.renew_enrollment(:org, :e1, :summer, '2026-05-20 10:00+08') AS e4 \gset
SELECT pg_temp.err(format('SELECT leadmgmt.renew_enrollment(%s, %s, %s, %L)', :org, :e1, :summer, '2026-05-21 10:00+08'));
SELECT pg_temp.err(format('SELECT leadmgmt.renew_enrollment(%s, %s, %s, %L)', :org, :e3, :summer, '2026-03-01 10:00+08'));
SELECT leadmgmt.end_enrollment(:org, :e1, 'completed', '2026-05-31 18:00+08');
SELECT leadmgmt.end_enrollment(:org, :e3, 'completed', '2026-05-31 18:00+08');
UPDATE leadmgmt.org SET report_as_of = '2026-07-01 00:00+08' WHERE org_id = :org;
SELECT s.name, t.term_start, t.status, t.outcome
  FROM leadmgmt.student_term t JOIN leadmgmt.student s USING (org_id, student_id)
 WHERE t.org_id = :org ORDER BY s.name, t.term_start;
SELECT s.name, l.terms, l.churned FROM leadmgmt.student_lifetime l JOIN leadmgmt.student s USING (org_id, student_id)
 WHERE l.org_id = :org ORDER BY s.name;

-- visitor linking (0.16, ingest_lead and record_touch): an anonymous journey
-- before the form belongs to the lead from the form on, in its history and
-- the funnel, and later touches of the visitor are the lead's
SELECT leadmgmt.record_touch(:org, NULL, 'douyin', NULL, '2026-04-01 09:00+08', 'visit', 'v-001') > 0 AS anonymous_visit;
SELECT leadmgmt.record_touch(:org, NULL, 'douyin', NULL, '2026-04-02 20:00+08', 'ad_click', 'v-001') > 0 AS anonymous_click;
SELECT leadmgmt.record_touch(:org, NULL, 'douyin', NULL, '2026-04-02 21:00+08', 'visit', 'v-other') > 0 AS another_visitor;
SELECT lead_id AS vlead FROM leadmgmt.ingest_lead(:org, '13900000077', 'douyin', NULL, '2026-04-03 10:00+08',
                                                 '{"visitor_id": "v-001"}') \gset
SELECT leadmgmt.record_touch(:org, NULL, 'douyin', NULL, '2026-04-04 10:00+08', 'visit', 'v-001') > 0 AS later_visit;
SELECT kind, occurred_at, lead_id = :vlead AS the_leads FROM leadmgmt.touchpoint
 WHERE org_id = :org AND visitor_id IN ('v-001', 'v-other') ORDER BY occurred_at;
SELECT source, occurred_at FROM leadmgmt.lead_history(:org, :vlead) WHERE source = 'touchpoint';
SELECT steps_reached, became_lead_at FROM leadmgmt.lead_funnel WHERE org_id = :org AND lead_id = :vlead;
SELECT last_touch_at FROM leadmgmt.lead WHERE org_id = :org AND lead_id = :vlead;
