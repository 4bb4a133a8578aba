-- attribution and ROI views on a hand-made brand: three journeys, spend,
-- orders with a refund and a renewal, follow-up costs; every number below
-- is worked by hand in the comments
\pset null '<null>'
SET search_path = public, leadmgmt;
SET timezone = 'Asia/Shanghai';
SET datestyle = 'ISO, YMD';
SELECT create_org('ROI School') AS o \gset
-- the rows below carry explicit 2026 times: a wide clock-skew tolerance keeps
-- them acceptable wherever the server's clock stands (make test FAKETIME=-1y)
UPDATE leadmgmt.org SET future_tolerance = '100 years' WHERE org_id = :o;
SELECT add_channel(:o, 'douyin', 'Douyin', 'paid') > 0 AS douyin, add_channel(:o, 'baidu', 'Baidu', 'paid') > 0 AS baidu,
       add_channel(:o, 'direct', 'Direct', 'direct') > 0 AS direct;
-- lead 1: douyin 2 Jan, baidu 4 Jan, pays 10 Jan (3000, 500 refunded), renews 1 Mar (2000)
-- lead 2: baidu 3 Jan, direct 6 Jan, pays 8 Jan (2000)
-- lead 3: douyin 1 Jan, never pays
CREATE TEMP TABLE l AS
SELECT 1 AS n, (SELECT lead_id FROM ingest_lead(:o, '13900000001', 'douyin', NULL, '2026-01-02 10:00')) AS lead_id
UNION ALL SELECT 2, (SELECT lead_id FROM ingest_lead(:o, '13900000002', 'baidu', NULL, '2026-01-03 10:00'))
UNION ALL SELECT 3, (SELECT lead_id FROM ingest_lead(:o, '13900000003', 'douyin', NULL, '2026-01-01 10:00'));
SELECT record_touch(:o, (SELECT lead_id FROM l WHERE n = 1), 'baidu', NULL, '2026-01-04 10:00') > 0 AS touch,
       record_touch(:o, (SELECT lead_id FROM l WHERE n = 2), 'direct', NULL, '2026-01-06 10:00') > 0 AS touch;
SELECT record_spend(:o, '2026-01-05', 'douyin', NULL, 1000, 10000, 300) > 0 AS spend, record_spend(:o, '2026-01-05', 'baidu', NULL, 500, 4000, 100) > 0 AS spend;
INSERT INTO sales_order (org_id, lead_id, product, list_price, amount, status, is_renewal, created_at, paid_at)
SELECT :o, lead_id, 'Scratch', a, a, 'paid', r, t::timestamptz, t::timestamptz
  FROM (VALUES (1, 3000, false, '2026-01-10 10:00'), (2, 2000, false, '2026-01-08 10:00'), (1, 2000, true, '2026-03-01 10:00')) v(n, a, r, t)
  JOIN l USING (n);
INSERT INTO refund (org_id, order_id, amount, refunded_at)
SELECT :o, so.order_id, 500, '2026-01-20' FROM sales_order so JOIN l USING (lead_id) WHERE so.org_id = :o AND l.n = 1 AND NOT so.is_renewal;
INSERT INTO sales_rep (org_id, name, role) VALUES (:o, 'Rep', 'sales');
INSERT INTO follow_up (org_id, lead_id, rep_id, channel, outcome, cost, occurred_at)
SELECT :o, l.lead_id, (SELECT rep_id FROM sales_rep WHERE org_id = :o), 'call', 'connected', c, '2026-01-07 10:00'
  FROM (VALUES (1, 100), (2, 50)) v(n, c) JOIN l USING (n);

-- per conversion and model, each channel's share; the shares of a conversion add up to 1
SELECT l.n AS lead, cc.model, cc.channel, round(cc.credit::numeric, 4) AS credit, cc.credited_revenue, cc.credited_ltv_revenue, cc.touches
  FROM conversion_credit cc JOIN l USING (lead_id) WHERE cc.org_id = :o ORDER BY 1, 2, 3;
SELECT model, bool_and(abs(s - 1) < 1e-12) AS shares_add_up FROM (
  SELECT model, order_id, sum(credit) AS s FROM conversion_credit WHERE org_id = :o GROUP BY 1, 2) x GROUP BY 1 ORDER BY 1;
-- side by side: first touch douyin 1 and baidu 1; last non-direct baidu 2
SELECT channel, first_touch, last_touch, last_non_direct, linear, position_based, markov, shapley
  FROM attribution_comparison WHERE org_id = :o ORDER BY channel;
-- January under last_non_direct: baidu gets both students.
-- baidu: spend 500, 1 lead (lead 2), CPL 500, revenue 2500 + 2000 = 4500, ROAS 9, ROI 8,
-- handling 50 (lead 2), CAC (500 + 50) / 2 = 275, LTV (2500 + 2000 + 2000) / 2 = 3250, LTV/CAC 11.818
-- douyin: spend 1000, 2 leads, CPL 500, no student, handling 100 (lead 1 came from douyin)
SELECT channel, spend, impressions, clicks, leads, valid_leads, cpl, trials, paid_students, cpa, net_revenue, roas, roi,
       handling_cost, cac, ltv, ltv_to_cac
  FROM channel_roi WHERE org_id = :o AND period = 'month' AND period_start = '2026-01-01' AND breakdown = 'channel' ORDER BY channel;
SELECT period, count(*) AS rows, sum(spend) AS spend, sum(paid_students) AS paid_students
  FROM channel_roi WHERE org_id = :o AND breakdown = 'channel' GROUP BY period ORDER BY period;
-- campaign rows (these journeys have none: campaign "(none)") add up to their channel
SELECT channel, breakdown, campaign, spend, leads, paid_students, net_revenue
  FROM channel_roi WHERE org_id = :o AND period = 'month' AND period_start = '2026-01-01' AND channel = 'baidu' ORDER BY breakdown;
-- another model moves credit, never spend
UPDATE org SET attribution_model = 'first_touch' WHERE org_id = :o;
SELECT channel, spend, paid_students, net_revenue, cac FROM channel_roi
 WHERE org_id = :o AND period = 'month' AND period_start = '2026-01-01' AND breakdown = 'channel' ORDER BY channel;
UPDATE org SET attribution_model = 'last_non_direct' WHERE org_id = :o;
-- payback: baidu's January cohort cost 550 and its first payments (2000 on day 0) cover it
SELECT channel, cohort_month, acquisition_cost, paid_students, net_revenue_to_date, payback_days
  FROM channel_payback WHERE org_id = :o ORDER BY channel;
-- a lookback of 7 days drops lead 1's douyin touch (8 days before); with 1 day no touch is left
-- and the conversions go unattributed
UPDATE org SET attribution_lookback_days = 7 WHERE org_id = :o;
SELECT l.n AS lead, cc.channel, cc.credit FROM conversion_credit cc JOIN l USING (lead_id)
 WHERE cc.org_id = :o AND cc.model = 'linear' ORDER BY 1, 2;
UPDATE org SET attribution_lookback_days = 1 WHERE org_id = :o;
SELECT count(*) AS attributed FROM conversion_credit WHERE org_id = :o;
-- is_org_model marks the org's own model; conversion_credits(models) gives the rows of the named ones
UPDATE org SET attribution_lookback_days = 30 WHERE org_id = :o;
SELECT model, is_org_model, count(*) FROM conversion_credit WHERE org_id = :o GROUP BY 1, 2 ORDER BY 1;
-- (two statements: on Citus a function that reads tables cannot share a query with a distributed table)
SELECT count(*) AS credits FROM conversion_credit WHERE org_id = :o AND model IN ('linear', 'first_touch') \gset
SELECT count(*) = :credits AS same_rows FROM conversion_credits('{linear,first_touch}') WHERE org_id = :o;
SELECT count(*) AS unknown_model FROM conversion_credits('{nonesuch}');
-- settings are checked
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN EXECUTE q; RETURN 'no error';
EXCEPTION WHEN others THEN RETURN SQLSTATE || ': ' || SQLERRM; END $$;
SELECT pg_temp.err(format($$UPDATE leadmgmt.org SET attribution_model = 'markov' WHERE org_id = %s$$, :o));
SELECT pg_temp.err(format($$UPDATE leadmgmt.org SET ltv_horizon = '0' WHERE org_id = %s$$, :o));
