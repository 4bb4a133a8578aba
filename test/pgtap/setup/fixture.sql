-- The data of the pgTAP tests beyond the demo brand.  Runs as the superuser
-- in database leadmgmt_tap after the demo generator filled org 1 and org 2,
-- on one node (make test-citus then copies the rows onto the cluster);
-- access.sql then grants the test roles and records the expected values.
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
