-- The data of the pgTAP tests beyond the demo brand.  Runs as the superuser
-- in database leadmgmt_tap after the demo generator filled org 1 and org 2,
-- on one node (make test-citus then copies the rows onto the cluster);
-- access.sql then grants the test roles and records the expected values.
-- routing (since 0.17): handler pools and landing variants of both orgs, and
-- in each a re-route:
-- an owned open D lead of the tiered arm verifies its phone, which makes it
-- a C lead for telemarketing
INSERT INTO leadmgmt.handler_value (org_id, handler_role, relative_conversion, cost_per_lead, daily_capacity)
VALUES (1, 'top_sales', 1.20, 150.00, 40), (2, 'top_sales', 1.10, 130.00, NULL);
INSERT INTO leadmgmt.landing_variant (org_id, variant, min_score)
VALUES (1, 'book-best-teacher', 0.25), (1, 'standard', 0), (2, 'free-trial', 0.10), (2, 'standard', 0);
SELECT leadmgmt.record_event(o, (SELECT min(l.lead_id) FROM leadmgmt.lead l
                                  WHERE l.org_id = o AND l.pool = 'private' AND l.tier = 'D' AND l.routing_arm = 'tiered'
                                    AND l.status NOT IN ('won', 'lost')), 'sms_verified', now())
  FROM unnest('{1,2}'::bigint[]) o;

-- leads of April 2026, owned by a bot, which score_leads scores below:
-- their 30 days closed before the fixture's clock (19 June 2026), so that
-- model_calibration_recent has rows of both orgs
INSERT INTO leadmgmt.lead (org_id, first_channel_id, latest_channel_id, created_at, last_touch_at, pool, owner_rep_id, owned_since, status)
SELECT ch.org_id, ch.c, ch.c, '2026-04-01 10:00+08'::timestamptz + k * interval '1 hour', '2026-04-01 10:00+08'::timestamptz + k * interval '1 hour',
       'private', rp.r, '2026-04-01 10:00+08'::timestamptz + k * interval '1 hour', 'contacting'
  FROM (SELECT org_id, min(channel_id) AS c FROM leadmgmt.channel WHERE org_id IN (1, 2) GROUP BY org_id) ch
  JOIN (SELECT org_id, min(rep_id) AS r FROM leadmgmt.sales_rep WHERE org_id IN (1, 2) AND role = 'ai_bot' GROUP BY org_id) rp
    ON rp.org_id = ch.org_id,
       generate_series(1, 20) k;

-- the assignment engine has run for both orgs, on a Friday morning when every
-- rep is on shift, so that its state tables hold rows of both orgs: 190
-- leads each, folded into the rotation and counters, then 10 more, whose
-- picks are still in the journal.  The demo's public pool holds only lost
-- leads, which the engine leaves alone (0.9), so 200 new ones arrive first.
INSERT INTO leadmgmt.lead (org_id, first_channel_id, latest_channel_id, created_at, last_touch_at)
SELECT ch.org_id, ch.c, ch.c, '2026-06-19 09:00+08'::timestamptz + k * interval '1 second', '2026-06-19 09:00+08'::timestamptz + k * interval '1 second'
  FROM (SELECT org_id, min(channel_id) AS c FROM leadmgmt.channel WHERE org_id IN (1, 2) GROUP BY org_id) ch,
       generate_series(1, 200) k;
SELECT count(*) FROM leadmgmt.assign_pending(1, 190, at => '2026-06-19 10:00+08');
SELECT count(*) FROM leadmgmt.assign_pending(2, 190, at => '2026-06-19 10:00+08');
SELECT leadmgmt.rep_load_sync(o, '2026-06-19 10:00+08') FROM leadmgmt.org o WHERE o.org_id = 1;
SELECT leadmgmt.rep_load_sync(o, '2026-06-19 10:00+08') FROM leadmgmt.org o WHERE o.org_id = 2;
SELECT count(*) FROM leadmgmt.assign_pending(1, 10, at => '2026-06-19 10:00+08');
SELECT count(*) FROM leadmgmt.assign_pending(2, 10, at => '2026-06-19 10:00+08');
-- and a lead imported already owned, a change the engine has not folded yet
INSERT INTO leadmgmt.lead (org_id, first_channel_id, latest_channel_id, created_at, last_touch_at, pool, owner_rep_id, owned_since)
SELECT ch.org_id, ch.c, ch.c, '2026-06-19 11:00+08', '2026-06-19 11:00+08', 'private', rp.r, '2026-06-19 11:00+08'
  FROM (SELECT org_id, min(channel_id) AS c FROM leadmgmt.channel WHERE org_id IN (1, 2) GROUP BY org_id) ch
  JOIN (SELECT org_id, max(rep_id) AS r FROM leadmgmt.sales_rep WHERE org_id IN (1, 2) AND role = 'sales' GROUP BY org_id) rp
    ON rp.org_id = ch.org_id;

-- service reports as of a day when the last term is about to end, so that
-- at_risk_students lists students of both orgs
UPDATE leadmgmt.org SET report_as_of = '2026-06-20 00:00+08';

-- conversion models for both orgs (logreg active, naive Bayes baseline), and scored leads
SELECT leadmgmt.train_conversion_model(1, 'conversion', '2025-01-01', '2026-01-01');
SELECT leadmgmt.train_conversion_model(1, 'baseline', '2025-01-01', '2026-01-01', kind => 'naive_bayes');
SELECT leadmgmt.score_leads(1);
SELECT leadmgmt.train_conversion_model(2, 'conversion', '2025-01-01', '2026-01-01');
SELECT leadmgmt.train_conversion_model(2, 'baseline', '2025-01-01', '2026-01-01', kind => 'naive_bayes');
SELECT leadmgmt.score_leads(2);

-- tiers: a customised policy for org 1, some scored leads, and a refresh, so
-- that tier_policy and tier_change hold rows of both orgs
INSERT INTO leadmgmt.tier_policy (org_id, tier, handler_role, cost_per_contact, follow_up_sla, min_score)
VALUES (1, 'A', 'top_sales', 25.00, '2 hours', 0.60), (2, 'A', 'top_sales', 35.00, '1 hour', 0.70);
UPDATE leadmgmt.lead SET score = 0.9 WHERE lead_id % 7 = 0 AND tier <> 'A';
SELECT leadmgmt.refresh_tiers(1);
SELECT leadmgmt.refresh_tiers(2);

-- times (since 0.15): org 1 takes any time from its app role (the tests of
-- org 1 pass the fixture's own times, whatever the server's clock says);
-- org 2 keeps the default window, which access_app.sql checks
UPDATE leadmgmt.org SET backfill_horizon = '100 years', future_tolerance = '100 years' WHERE org_id = 1;
-- a public lead that rep 1 released longer ago than the cool-down by the
-- server's clock, which assignment_sales.sql claims back with no time given
WITH r AS (SELECT rep_id, tiers[1] AS tier FROM leadmgmt.sales_rep WHERE org_id = 1 AND role = 'sales' ORDER BY rep_id LIMIT 1),
     c AS (SELECT min(channel_id) AS c FROM leadmgmt.channel WHERE org_id = 1),
     l AS (INSERT INTO leadmgmt.lead (org_id, first_channel_id, latest_channel_id, created_at, last_touch_at, tier)
           SELECT 1, c.c, c.c, now() - interval '30 days', now() - interval '30 days', r.tier FROM r, c
           RETURNING lead_id)
INSERT INTO leadmgmt.assignment (org_id, lead_id, rep_id, assigned_at, reason, released_at, release_reason)
SELECT 1, l.lead_id, r.rep_id, now() - interval '20 days', 'claim',
       now() - (SELECT reclaim_cooldown FROM leadmgmt.org WHERE org_id = 1) - interval '1 hour', 'release'
  FROM l, r;
