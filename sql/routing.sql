-- routing: real-time tiers and routing (0.17).  The holdout draw, routing by
-- expected value (the worked example of docs/reference/routing.md), the
-- saving's interval and its coverage on 1,000 simulated experiments, an
-- event that re-tiers and re-routes a lead, and the holdout view.
-- No id is printed: on a Citus cluster each worker numbers its own rows.
SET client_min_messages = warning;
SET TimeZone = 'Asia/Shanghai';
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN EXECUTE q; RETURN 'no error';
EXCEPTION WHEN others THEN
  RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, '(lead|org|rep) -?[0-9]+', '\1 N', 'g');
END $$;

-- holdout_draw: the same number for the same seed and id on every platform
SELECT leadmgmt.holdout_draw(0, 0) AS d00, leadmgmt.holdout_draw(0, 1) AS d01, leadmgmt.holdout_draw(42, 1) AS d421,
       leadmgmt.holdout_draw(-1, 9223372036854775807) AS dmax, leadmgmt.holdout_draw(NULL, 1) AS dnull;
-- uniform: mean, variance and the share below 0.1 of 200,000 ids, each within 3 sd
SELECT abs(avg(d) - 0.5) < 3 * sqrt(1.0 / 12 / 200000) AS mean_ok,
       abs(var_pop(d) - 1.0 / 12) < 0.002 AS variance_ok,
       abs(avg((d < 0.1)::int) - 0.1) < 3 * sqrt(0.09 / 200000) AS share_ok,
       min(d) >= 0 AND max(d) < 1 AS in_range
  FROM (SELECT leadmgmt.holdout_draw(7, i) AS d FROM generate_series(1, 200000) i) x;
-- another seed draws another arm for about half the leads below the share
SELECT count(*) FILTER (WHERE leadmgmt.holdout_draw(7, i) < 0.5 AND leadmgmt.holdout_draw(8, i) < 0.5) BETWEEN 2300 AND 2700 AS seeds_independent
  FROM generate_series(1, 10000) i;

-- route_by_value: the worked example.  A paying lead is worth 3000; the
-- default pools (ai_bot 0.60 x p, cost 0.30; tmk 0.80, 6; sales 1.00, 60;
-- top_sales 1.15, 120), top sales with room for one lead.
SELECT * FROM leadmgmt.handler_defaults();
WITH ex AS (
  SELECT ARRAY[0.3, 0.6, 0.05, 0.005]::float8[] AS p,
         (SELECT array_agg(relative_conversion ORDER BY handler_role) FROM leadmgmt.handler_defaults()) AS conv,
         (SELECT array_agg(cost_per_lead::float8 ORDER BY handler_role) FROM leadmgmt.handler_defaults()) AS cost,
         (SELECT array_agg(handler_role ORDER BY handler_role) FROM leadmgmt.handler_defaults()) AS roles
), r AS (
  SELECT ex.*, leadmgmt.route_by_value(ex.p, '{3000,3000,3000,3000}', ex.conv, ex.cost, '{NULL,NULL,NULL,1}') AS pick FROM ex
)
SELECT u.p, r.roles[u.pick] AS pool,
       (SELECT string_agg(format('%s %s', r.roles[h], round((least(1, u.p * r.conv[h]) * 3000 - r.cost[h])::numeric, 1)), ', ' ORDER BY h)
          FROM generate_series(1, 4) h) AS expected_value_by_pool
  FROM r, unnest(r.p, r.pick) AS u(p, pick);
-- without the cap the likeliest two both go to top sales; all pools full: NULL
SELECT leadmgmt.route_by_value('{0.3,0.6}', '{3000,3000}', '{0.6,0.8,1,1.15}', '{0.3,6,60,120}', '{NULL,NULL,NULL,NULL}') AS uncapped,
       leadmgmt.route_by_value('{0.3,0.6}', '{3000,3000}', '{1}', '{0}', '{1}') AS one_seat,
       leadmgmt.route_by_value('{}', '{}', '{1}', '{0}', '{NULL}') AS no_leads,
       leadmgmt.route_by_value('{0.5,0.5}', '{100,100}', '{1,1}', '{10,10}', '{NULL,NULL}') AS tie_goes_first,
       leadmgmt.route_by_value('{0.5}', '{100}', '{1,1}', '{10,5}', '{NULL,NULL}') AS tie_goes_cheaper,
       leadmgmt.route_by_value(NULL, '{}', '{1}', '{0}', '{NULL}') AS null_arg;
SELECT pg_temp.err($q$SELECT leadmgmt.route_by_value('{0.5,NULL}', '{1,1}', '{1}', '{0}', '{NULL}')$q$) AS null_p,
       pg_temp.err($q$SELECT leadmgmt.route_by_value('{1.5}', '{1}', '{1}', '{0}', '{NULL}')$q$) AS p_above_1,
       pg_temp.err($q$SELECT leadmgmt.route_by_value('{NaN}', '{1}', '{1}', '{0}', '{NULL}')$q$) AS p_nan,
       pg_temp.err($q$SELECT leadmgmt.route_by_value('{0.5}', '{Infinity}', '{1}', '{0}', '{NULL}')$q$) AS value_inf,
       pg_temp.err($q$SELECT leadmgmt.route_by_value('{0.5}', '{-1}', '{1}', '{0}', '{NULL}')$q$) AS value_negative;
SELECT pg_temp.err($q$SELECT leadmgmt.route_by_value('{0.5}', '{1,2}', '{1}', '{0}', '{NULL}')$q$) AS value_length,
       pg_temp.err($q$SELECT leadmgmt.route_by_value('{0.5}', '{1}', '{1,1}', '{0}', '{NULL,NULL}')$q$) AS cost_length,
       pg_temp.err($q$SELECT leadmgmt.route_by_value('{0.5}', '{1}', '{}', '{}', '{}')$q$) AS no_pools,
       pg_temp.err($q$SELECT leadmgmt.route_by_value('{0.5}', '{1}', '{0}', '{0}', '{NULL}')$q$) AS conversion_zero,
       pg_temp.err($q$SELECT leadmgmt.route_by_value('{0.5}', '{1}', '{1}', '{0}', '{-1}')$q$) AS capacity_negative;
SELECT pg_temp.err($q$SELECT leadmgmt.route_by_value('{{0.5}}', '{1}', '{1}', '{0}', '{NULL}')$q$) AS two_dimensions,
       pg_temp.err(format('SELECT leadmgmt.route_by_value(%L, %L, %L, %L, %L)', '{0.5}', '{1}',
                          array_fill(1, ARRAY[17]), array_fill(0, ARRAY[17]), array_fill(NULL::int, ARRAY[17]))) AS seventeen_pools;

-- holdout_saving: the point estimate against exact fractions.  Tiered: 4
-- leads, handling 10, 0, 10, 0, the first paid; holdout: 3 leads, handling
-- 20 each, the first two paid; spend 5 per lead.  Cost per paid student:
-- tiered (4*5 + 20)/1 = 40, holdout (3*5 + 60)/2 = 37.5: saving 1 - 40/37.5 = -1/15.
SELECT round(s.saving::numeric, 12) = round(-1/15::numeric, 12) AS exact_saving, s.low < s.saving AND s.saving < s.high AS inside
  FROM leadmgmt.holdout_saving(5, '{4,20,200,1,10}', '{3,60,1200,2,40}') s;
SELECT (leadmgmt.holdout_saving(5, '{1,0,0,1,0}', '{3,60,1200,2,40}')).saving AS one_lead,
       (leadmgmt.holdout_saving(5, '{4,20,200,0,0}', '{3,60,1200,2,40}')).saving AS none_paid,
       (leadmgmt.holdout_saving(5, '{4,20,200,1}', '{3,60,1200,2,40}')).saving AS short_array,
       (leadmgmt.holdout_saving(5, '{4,20,200,1,NULL}', '{3,60,1200,2,40}')).saving AS null_element,
       (leadmgmt.holdout_saving(5, '{4,20,200,1,NaN}', '{3,60,1200,2,40}')).saving AS nan_element,
       (leadmgmt.holdout_saving(-5, '{4,20,200,1,10}', '{3,60,1200,2,40}')).saving AS negative_spend,
       (leadmgmt.holdout_saving(NULL, '{4,20,200,1,10}', '{3,60,1200,2,40}')).saving AS null_spend;

-- The interval's coverage: 1,000 simulated experiments of 4,000 leads with
-- a 20% holdout, where the true effect is known.  Leads are of four kinds
-- (10/20/30/40%); tiered routing handles them at 30, 20, 3 and 0.30 a
-- contact and converts 40, 15, 5 and 1%; the holdout handles every lead at
-- 20 a contact and converts 35, 15, 6 and 1.5%; one to three contacts;
-- spend 120 a lead.  holdout_draw is the random number generator.
CREATE TEMP TABLE sim_kind (k text, lo float8, hi float8, share float8, p_t float8, p_h float8, cost_t float8);
INSERT INTO sim_kind VALUES ('A', 0.0, 0.1, 0.1, 0.40, 0.35, 30), ('B', 0.1, 0.3, 0.2, 0.15, 0.15, 20),
                            ('C', 0.3, 0.6, 0.3, 0.05, 0.06, 3), ('D', 0.6, 1.0, 0.4, 0.01, 0.015, 0.30);
CREATE TEMP TABLE sim_truth AS
SELECT 1 - ((120 + sum(share * cost_t * 2)) / sum(share * p_t)) / ((120 + 20 * 2) / sum(share * p_h)) AS saving FROM sim_kind;
CREATE TEMP TABLE sim_ci AS
WITH lead AS (
  SELECT s.e, s.hold, CASE WHEN s.hold THEN 20 ELSE k.cost_t END * s.contacts AS h,
         s.uy < CASE WHEN s.hold THEN k.p_h ELSE k.p_t END AS y
    FROM (SELECT e, leadmgmt.holdout_draw(e, 4 * i) < 0.2 AS hold, leadmgmt.holdout_draw(e, 4 * i + 1) AS uk,
                 leadmgmt.holdout_draw(e, 4 * i + 2) AS uy, 1 + floor(3 * leadmgmt.holdout_draw(e, 4 * i + 3)) AS contacts
            FROM generate_series(1, 1000) e, generate_series(1, 4000) i) s
    JOIN sim_kind k ON s.uk >= k.lo AND s.uk < k.hi
), arm AS (
  SELECT e, hold, ARRAY[count(*), sum(h), sum(h * h), count(*) FILTER (WHERE y), coalesce(sum(h) FILTER (WHERE y), 0)]::float8[] AS m
    FROM lead GROUP BY e, hold
)
SELECT t.e, s.* FROM arm t JOIN arm h ON h.e = t.e AND h.hold AND NOT t.hold,
       LATERAL leadmgmt.holdout_saving(120, t.m, h.m) s;
SELECT round(t.saving::numeric, 4) AS true_saving, count(*) AS experiments,
       count(*) FILTER (WHERE c.low <= t.saving AND t.saving <= c.high) AS covered,
       count(*) FILTER (WHERE c.low <= t.saving AND t.saving <= c.high) BETWEEN 930 AND 970 AS about_95_pct,
       count(*) FILTER (WHERE t.saving < c.low) AS above, count(*) FILTER (WHERE t.saving > c.high) AS below,
       round(avg(c.saving)::numeric, 3) AS mean_estimate
  FROM sim_ci c, sim_truth t GROUP BY t.saving;

-- An org with one rep per handler role, a 50% holdout and a known seed
SELECT leadmgmt.create_org('Routing School') AS org \gset
SELECT leadmgmt.create_org('Other Routing School') AS org2 \gset
UPDATE leadmgmt.org SET holdout_share = 0.5, holdout_seed = 2026 WHERE org_id = :org;
SELECT pg_temp.err(format('UPDATE leadmgmt.org SET holdout_share = 0.6 WHERE org_id = %s', :org)) AS share_over_half,
       pg_temp.err(format('UPDATE leadmgmt.org SET routing = %L WHERE org_id = %s', 'random', :org)) AS unknown_routing;
SELECT leadmgmt.add_channel(:org, 'douyin', 'Douyin', 'paid') IS NOT NULL AS channel;
SELECT leadmgmt.add_rep(:org, 'Bot', 'ai_bot') AS bot, leadmgmt.add_rep(:org, 'Tang', 'tmk') AS tmk,
       leadmgmt.add_rep(:org, 'Song', 'sales') AS sales, leadmgmt.add_rep(:org, 'Tao', 'top_sales') AS top \gset
SELECT count(*) AS leads FROM generate_series(1, 40) i,
       leadmgmt.ingest_lead(:org, format('1380000%04s', i), 'douyin', NULL, now() - interval '1 hour') x;
-- the arm of each lead is its draw against the share
-- (how many of each depends on the ids, which each Citus worker numbers itself)
SELECT count(*) AS leads, count(*) FILTER (WHERE routing_arm = 'holdout') BETWEEN 10 AND 30 AS about_half_held_out,
       bool_and(routing_arm = CASE WHEN leadmgmt.holdout_draw(2026, lead_id) < 0.5 THEN 'holdout' ELSE 'tiered' END) AS arms_drawn
  FROM leadmgmt.lead WHERE org_id = :org;
-- every holdout lead goes to regular sales; tiered ones (no events: tier D) to the bot
SELECT count(*) AS assigned FROM leadmgmt.assign_pending(:org);
SELECT l.routing_arm, coalesce(l.tier, '-') AS tier, r.name AS owner
  FROM leadmgmt.lead l JOIN leadmgmt.sales_rep r ON r.org_id = l.org_id AND r.rep_id = l.owner_rep_id
 WHERE l.org_id = :org GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;

-- an event re-tiers a lead at once; its handler changes, so it is re-routed
SELECT min(lead_id) AS t1 FROM leadmgmt.lead WHERE org_id = :org AND routing_arm = 'tiered' \gset
SELECT min(lead_id) AS h1 FROM leadmgmt.lead WHERE org_id = :org AND routing_arm = 'holdout' \gset
-- (each call alone, with constants, read into a variable: on a Citus
-- cluster that is the call Citus delegates to the node holding the org)
SELECT leadmgmt.record_event(:org, :t1, 'sms_verified', now()) AS e1 \gset
SELECT leadmgmt.record_event(:org, :t1, 'sms_verified', now()) AS e2 \gset
SELECT leadmgmt.record_event(:org, :t1, 'wechat_followed', now()) AS e3 \gset
SELECT leadmgmt.record_event(:org, :h1, 'wechat_followed', now()) AS e4 \gset
SELECT count(*) AS events FROM leadmgmt.lead_event WHERE org_id = :org AND event_id IN (:e1, :e2, :e3, :e4);
SELECT l.lead_id = :t1 AS is_t1, l.tier, r.name AS owner FROM leadmgmt.lead l JOIN leadmgmt.sales_rep r ON r.org_id = l.org_id AND r.rep_id = l.owner_rep_id
 WHERE l.org_id = :org AND l.lead_id IN (:t1, :h1) ORDER BY 1;
SELECT lead_id = :t1 AS is_t1, old_tier, new_tier, stage, reason FROM leadmgmt.tier_change WHERE org_id = :org ORDER BY change_id;
SELECT cause, old_tier, new_tier, o.name AS old_rep, n.name AS new_rep, old_handler, new_handler, reason
  FROM leadmgmt.routing_log g
  JOIN leadmgmt.sales_rep o ON o.org_id = g.org_id AND o.rep_id = g.old_rep_id
  JOIN leadmgmt.sales_rep n ON n.org_id = g.org_id AND n.rep_id = g.new_rep_id
 WHERE g.org_id = :org ORDER BY g.route_id;
SELECT r.name, a.release_reason, count(*) FROM leadmgmt.assignment a JOIN leadmgmt.sales_rep r ON r.org_id = a.org_id AND r.rep_id = a.rep_id
 WHERE a.org_id = :org AND a.lead_id = :t1 GROUP BY 1, 2 ORDER BY 1, 2;
-- the engine's counters follow: open leads per rep equal the rows
SELECT bool_and(w.open_leads = (SELECT count(*) FROM leadmgmt.lead l WHERE l.org_id = w.org_id AND l.owner_rep_id = w.rep_id
                                   AND l.status NOT IN ('won', 'lost'))) AS counters_match
  FROM leadmgmt.rep_workload w WHERE w.org_id = :org;
-- a public lead is re-tiered but not routed; another org's lead is unknown
SELECT leadmgmt.release_lead(:org, :t1) AS released_from \gset
SELECT leadmgmt.record_event(:org, :t1, 'trial_booked', now(), '{"self_booked": true}') AS e5 \gset
SELECT tier, pool FROM leadmgmt.lead WHERE org_id = :org AND lead_id = :t1;
SELECT count(*) AS routes FROM leadmgmt.routing_log WHERE org_id = :org;
SELECT pg_temp.err(format('SELECT leadmgmt.record_event(%s, %s, %L, now())', :org2, :t1, 'sms_verified')) AS other_org;

-- routing by expected value: the worked example in the engine.  Four
-- scored leads of a new org, a paying lead worth 3000, top sales with room
-- for one lead a day.
SELECT leadmgmt.create_org('Value School') AS ev \gset
UPDATE leadmgmt.org SET routing = 'expected_value', expected_revenue = 3000 WHERE org_id = :ev;
INSERT INTO leadmgmt.handler_value (org_id, handler_role, relative_conversion, cost_per_lead, daily_capacity)
VALUES (:ev, 'top_sales', 1.15, 120, 1);
SELECT handler_role, relative_conversion, cost_per_lead, daily_capacity, is_customised
  FROM leadmgmt.effective_handler_value WHERE org_id = :ev ORDER BY handler_role;
SELECT leadmgmt.add_channel(:ev, 'douyin', 'Douyin', 'paid') IS NOT NULL AS channel;
SELECT leadmgmt.add_rep(:ev, 'Bot', 'ai_bot') AS ev_bot, leadmgmt.add_rep(:ev, 'Tang', 'tmk') AS ev_tmk,
       leadmgmt.add_rep(:ev, 'Song', 'sales') AS ev_sales, leadmgmt.add_rep(:ev, 'Tao', 'top_sales') AS ev_top \gset
SELECT count(*) FROM unnest('{0.3,0.6,0.05,0.005}'::float8[]) WITH ORDINALITY AS s(p, i),
       leadmgmt.ingest_lead(:ev, format('1390000%04s', i), 'douyin', NULL, now() - interval '1 hour') x;
UPDATE leadmgmt.lead l SET score = ('{0.3,0.6,0.05,0.005}'::float8[])[x.i]
  FROM (SELECT lead_id, row_number() OVER (ORDER BY lead_id) AS i FROM leadmgmt.lead WHERE org_id = :ev) x
 WHERE l.org_id = :ev AND l.lead_id = x.lead_id;
SELECT count(*) AS assigned FROM leadmgmt.assign_pending(:ev);
SELECT l.score, coalesce(l.tier, '-') AS tier, r.role AS handler FROM leadmgmt.lead l
  JOIN leadmgmt.sales_rep r ON r.org_id = l.org_id AND r.rep_id = l.owner_rep_id
 WHERE l.org_id = :ev ORDER BY l.score DESC;
-- the next likely lead that day finds top sales full
SELECT lead_id AS ev5 FROM leadmgmt.ingest_lead(:ev, '13900009999', 'douyin', NULL, now() - interval '1 hour') \gset
UPDATE leadmgmt.lead SET score = 0.9 WHERE org_id = :ev AND lead_id = :ev5;
SELECT leadmgmt.assign_lead(:ev, :ev5) AS ev5_rep \gset
SELECT r.role AS handler FROM leadmgmt.sales_rep r WHERE r.org_id = :ev AND r.rep_id = :ev5_rep;

-- the holdout view: a hand-made experiment of 6 leads with exact figures
SELECT leadmgmt.create_org('Holdout School') AS ho \gset
UPDATE leadmgmt.org SET holdout_share = 0.5, holdout_seed = 1 WHERE org_id = :ho;
SELECT leadmgmt.add_channel(:ho, 'douyin', 'Douyin', 'paid') IS NOT NULL AS channel;
SELECT leadmgmt.add_rep(:ho, 'Song', 'sales') AS ho_rep \gset
SELECT count(*) FROM generate_series(1, 6) i,
       leadmgmt.ingest_lead(:ho, format('1370000%04s', i), 'douyin', NULL, '2026-03-02 10:00+08'::timestamptz + i * interval '1 minute') x;
-- (arms by order of arrival, 1 3 5 tiered, 2 4 6 holdout)
UPDATE leadmgmt.lead l SET routing_arm = CASE WHEN x.i % 2 = 0 THEN 'holdout' ELSE 'tiered' END
  FROM (SELECT lead_id, row_number() OVER (ORDER BY created_at) AS i FROM leadmgmt.lead WHERE org_id = :ho) x
 WHERE l.org_id = :ho AND l.lead_id = x.lead_id;
INSERT INTO leadmgmt.ad_spend (org_id, spend_date, channel_id, spend)
SELECT :ho, '2026-03-02', channel_id, 60 FROM leadmgmt.channel WHERE org_id = :ho;
INSERT INTO leadmgmt.follow_up (org_id, lead_id, rep_id, channel, outcome, cost, occurred_at)
SELECT :ho, lead_id, :ho_rep, 'call', 'connected', CASE WHEN routing_arm = 'holdout' THEN 20 ELSE 5 END, '2026-03-02 12:00+08'
  FROM leadmgmt.lead WHERE org_id = :ho;
-- the first three to arrive pay: two tiered, one holdout.  Tiered: 3 leads,
-- spend share 30, handling 15, 2 paid: 22.50 per paid student; holdout:
-- 30 + 60 for 1 paid: 90.00; saving 1 - 22.5/90 = 75%
-- (read into a temporary table, each order a call of its own)
CREATE TEMP TABLE paying AS SELECT :ho::bigint AS org_id, lead_id FROM leadmgmt.lead WHERE org_id = :ho ORDER BY created_at LIMIT 3;
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT p.org_id, p.lead_id FROM paying p LOOP
    PERFORM leadmgmt.record_order(r.org_id, r.lead_id, 'course', 1000, '2026-03-03 10:00+08');
  END LOOP;
END $$;
SELECT count(*) AS paid FROM leadmgmt.sales_order WHERE org_id = :ho;
SELECT arm, leads, paid_students, conversion_rate, handling_cost, spend_share, cost_per_paid_student,
       saving_pct, saving_ci_low_pct, saving_ci_high_pct, first_day, last_day
  FROM leadmgmt.routing_holdout WHERE org_id = :ho ORDER BY arm;
SELECT round(100 * (1 - ((30 + 15) / t.p) / ((30 + 60) / h.p)), 1) AS saving_by_hand
  FROM (SELECT count(*) FILTER (WHERE routing_arm = 'tiered')::numeric AS p FROM leadmgmt.lead l
         WHERE org_id = :ho AND status = 'won') t,
       (SELECT count(*) FILTER (WHERE routing_arm = 'holdout')::numeric AS p FROM leadmgmt.lead l
         WHERE org_id = :ho AND status = 'won') h;

-- landing_decision: the variant a visitor sees, from the form-time model and
-- the org's thresholds; the exposure is an impression touch of the visitor
SELECT leadmgmt.create_org('Landing School') AS lp \gset
SELECT leadmgmt.add_channel(:lp, 'baidu', 'Baidu', 'paid') IS NOT NULL AND leadmgmt.add_channel(:lp, 'douyin', 'Douyin', 'paid') IS NOT NULL AS channels;
-- without a model or variants: standard, no score
SELECT variant, score FROM leadmgmt.landing_decision(:lp, 'v-1', '{"channel": "baidu"}');
INSERT INTO leadmgmt.landing_variant (org_id, variant, min_score)
VALUES (:lp, 'book-best-teacher', 0.4), (:lp, 'free-trial', 0.15), (:lp, 'standard', 0);
-- a form-time model made by hand: logit = -2 + 1.5 [baidu] + 0.5 [grade 2]
INSERT INTO leadmgmt.conversion_model (org_id, name, version, kind, active, trained_from, trained_to, test_from, conversion_days,
                                       encoding, coef, rows_train, rows_test, positives_train, stage)
VALUES (:lp, 'form by hand', 1, 'logreg', true, '2025-01-01', '2026-01-01', '2025-10-01', 30,
        '{"features": [{"name": "channel=baidu", "field": "channel", "level": "baidu"},
                       {"name": "grade=grade 2", "field": "grade", "level": "grade 2"}]}', '{-2, 1.5, 0.5}', 100, 10, 10, 'form');
SELECT d.variant, round(d.score::numeric, 6) AS score, round((1 / (1 + exp(-(x.logit))))::numeric, 6) AS by_hand
  FROM (VALUES ('v-2', '{"channel": "baidu", "grade": 2}'::jsonb, 0.0), ('v-3', '{"channel": "baidu", "grade": 5}', -0.5),
               ('v-4', '{"channel": "douyin", "grade": 2}', -1.5), ('v-5', '{"channel": "douyin"}', -2.0)) x(v, ctx, logit),
       LATERAL leadmgmt.landing_decision(:lp, x.v, x.ctx) d ORDER BY x.v;
-- the exposures: one impression touch per call, with the decision
SELECT t.visitor_id, t.kind, c.code AS channel, t.attrs ->> 'decision' AS decision, t.lead_id IS NULL AS anonymous
  FROM leadmgmt.touchpoint t JOIN leadmgmt.channel c USING (org_id, channel_id) WHERE t.org_id = :lp ORDER BY visitor_id;
-- the visitor's form makes them its lead's; a later decision is the lead's touch
SELECT is_new FROM leadmgmt.ingest_lead(:lp, '13600000001', 'baidu', NULL, now(), '{"visitor_id": "v-2", "grade": 2}');
SELECT count(*) FILTER (WHERE lead_id IS NOT NULL) AS linked, count(*) AS touches FROM leadmgmt.touchpoint WHERE org_id = :lp AND visitor_id = 'v-2';
SELECT variant FROM leadmgmt.landing_decision(:lp, 'v-2', '{"channel": "baidu", "grade": 2}');
SELECT count(*) FILTER (WHERE lead_id IS NOT NULL) AS linked, count(*) AS touches FROM leadmgmt.touchpoint WHERE org_id = :lp AND visitor_id = 'v-2';
-- the form score of the new lead is the decision's score (same features, same model)
SELECT round(form_score::numeric, 6) AS form_score, tier FROM leadmgmt.lead WHERE org_id = :lp;
-- bad input
SELECT pg_temp.err(format('SELECT leadmgmt.landing_decision(%s, NULL, %L)', :lp, '{"channel": "baidu"}')) AS null_visitor,
       pg_temp.err(format('SELECT leadmgmt.landing_decision(%s, %L, %L)', :lp, '', '{"channel": "baidu"}')) AS empty_visitor,
       pg_temp.err(format('SELECT leadmgmt.landing_decision(%s, %L, %L)', :lp, repeat('v', 201), '{"channel": "baidu"}')) AS long_visitor;
SELECT pg_temp.err(format('SELECT leadmgmt.landing_decision(%s, %L, %L)', :lp, 'v-9', '{}')) AS no_channel,
       pg_temp.err(format('SELECT leadmgmt.landing_decision(%s, %L, NULL)', :lp, 'v-9')) AS null_context,
       pg_temp.err(format('SELECT leadmgmt.landing_decision(%s, %L, %L)', :lp, 'v-9', '{"channel": "tiktok"}')) AS unknown_channel,
       pg_temp.err(format('SELECT leadmgmt.landing_decision(%s, %L, %L)', :lp, 'v-9', '[]')) AS context_array,
       pg_temp.err(format('SELECT leadmgmt.landing_decision(%s, %L, %L)', :lp, 'v-9', '{"channel": "baidu", "grade": 40}')) AS grade_40;
SELECT pg_temp.err(format('SELECT leadmgmt.landing_decision(NULL, %L, %L)', 'v-9', '{"channel": "baidu"}')) AS null_org,
       pg_temp.err(format('SELECT leadmgmt.landing_decision(-1, %L, %L)', 'v-9', '{"channel": "baidu"}')) AS unknown_org,
       pg_temp.err(format('INSERT INTO leadmgmt.landing_variant VALUES (%s, %L, 1.5)', :lp, 'too-good')) AS threshold_over_1;
