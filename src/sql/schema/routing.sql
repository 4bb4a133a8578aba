
-- ---------------------------------------------------------------------------
-- Real-time tiers and routing, by expected value, with a randomized routing
-- holdout (since 0.17; docs/reference/routing.md).  Safe to run again
-- (install() runs it as schema step 0.17; each DDL statement on a
-- distributed table in a DO block of its own, for Citus).
-- ---------------------------------------------------------------------------
DO $r$
BEGIN
  ALTER TABLE @extschema@.org ADD COLUMN IF NOT EXISTS holdout_share numeric(4,3) NOT NULL DEFAULT 0;
END
$r$;
DO $r$
BEGIN
  ALTER TABLE @extschema@.org ADD COLUMN IF NOT EXISTS holdout_seed bigint NOT NULL DEFAULT 0;
END
$r$;
DO $r$
BEGIN
  ALTER TABLE @extschema@.org ADD COLUMN IF NOT EXISTS routing text NOT NULL DEFAULT 'tier';
END
$r$;
DO $r$
BEGIN
  ALTER TABLE @extschema@.org ADD COLUMN IF NOT EXISTS expected_revenue numeric(14,2);
END
$r$;
DO $r$
BEGIN
  ALTER TABLE @extschema@.lead ADD COLUMN IF NOT EXISTS routing_arm text;
END
$r$;
DO $r$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'org_holdout_share_check'
                    AND conrelid = '@extschema@.org'::regclass) THEN
    ALTER TABLE @extschema@.org ADD CONSTRAINT org_holdout_share_check CHECK (holdout_share >= 0 AND holdout_share <= 0.5);
  END IF;
END
$r$;
DO $r$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'org_routing_check'
                    AND conrelid = '@extschema@.org'::regclass) THEN
    ALTER TABLE @extschema@.org ADD CONSTRAINT org_routing_check CHECK (routing IN ('tier', 'expected_value'));
  END IF;
END
$r$;
DO $r$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'org_expected_revenue_check'
                    AND conrelid = '@extschema@.org'::regclass) THEN
    ALTER TABLE @extschema@.org ADD CONSTRAINT org_expected_revenue_check CHECK (expected_revenue >= 0);
  END IF;
END
$r$;
DO $r$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'lead_routing_arm_check'
                    AND conrelid = '@extschema@.lead'::regclass) THEN
    ALTER TABLE @extschema@.lead ADD CONSTRAINT lead_routing_arm_check CHECK (routing_arm IN ('tiered', 'holdout'));
  END IF;
END
$r$;
-- a re-route closes the assignment it takes the lead from
DO $r$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'assignment_release_reason_check'
                    AND conrelid = '@extschema@.assignment'::regclass
                    AND pg_catalog.pg_get_constraintdef(oid) LIKE '%reroute%') THEN
    ALTER TABLE @extschema@.assignment DROP CONSTRAINT IF EXISTS assignment_release_reason_check;
    ALTER TABLE @extschema@.assignment ADD CONSTRAINT assignment_release_reason_check
      CHECK (release_reason IN ('release', 'recycle_no_follow_up', 'recycle_no_deal', 'transfer', 'closed', 'reroute'));
  END IF;
END
$r$;
COMMENT ON TABLE @extschema@.tier_change IS 'log of every tier change, with time and reason: made by refresh_tiers, and since 0.17 by record_event (an event that moves the behaviour stage); the tier a lead arrives with (ingest_lead, from its form_score) is its first, not a change';
COMMENT ON COLUMN @extschema@.org.holdout_share IS 'share of new leads (0 to 0.5) routed flat to regular sales whatever their tier, the routing holdout that measures what tiering saves (routing_holdout); 0: no holdout';
COMMENT ON COLUMN @extschema@.org.holdout_seed IS 'seed of the holdout draw: a lead is in the holdout when holdout_draw(holdout_seed, lead_id) < holdout_share';
COMMENT ON COLUMN @extschema@.org.routing IS 'how a tiered lead''s handler is chosen: tier (the tier policy''s handler of its tier) or expected_value (route_by_value over the handler pools of handler_value)';
COMMENT ON COLUMN @extschema@.org.expected_revenue IS 'expected revenue of a paying lead for routing by expected value; NULL: the mean of the org''s paid first orders';
COMMENT ON COLUMN @extschema@.lead.routing_arm IS 'routing arm drawn when the lead arrived: tiered, or holdout (routed flat to regular sales); NULL for leads that arrived while the org had no holdout';
COMMENT ON COLUMN @extschema@.assignment.release_reason IS 'release, recycle_no_follow_up, recycle_no_deal (回收), transfer, closed, or reroute (a tier change gave the lead to another handler, since 0.17)';

CREATE TABLE IF NOT EXISTS @extschema@.handler_value (
  org_id               bigint NOT NULL,
  handler_role         text NOT NULL,
  relative_conversion  float8 NOT NULL,
  cost_per_lead        numeric(14,2) NOT NULL,
  daily_capacity       integer,
  CONSTRAINT handler_value_pkey PRIMARY KEY (org_id, handler_role),
  CONSTRAINT handler_value_org_fkey FOREIGN KEY (org_id) REFERENCES @extschema@.org (org_id),
  CONSTRAINT handler_value_role_check CHECK (handler_role IN ('ai_bot', 'tmk', 'sales', 'top_sales')),
  CONSTRAINT handler_value_conversion_check CHECK (relative_conversion > 0 AND relative_conversion <= 1000),
  CONSTRAINT handler_value_cost_check CHECK (cost_per_lead >= 0),
  CONSTRAINT handler_value_capacity_check CHECK (daily_capacity >= 0)
);
COMMENT ON TABLE @extschema@.handler_value IS 'per-org figures of each handler pool for routing by expected value; pools without a row use handler_defaults() (view effective_handler_value)';
COMMENT ON COLUMN @extschema@.handler_value.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.handler_value.handler_role IS 'the pool: reps of this role (ai_bot, tmk, sales, top_sales)';
COMMENT ON COLUMN @extschema@.handler_value.relative_conversion IS 'how likely a lead handled by this pool pays, relative to the model''s probability (regular sales near 1)';
COMMENT ON COLUMN @extschema@.handler_value.cost_per_lead IS 'expected handling cost of one lead in this pool';
COMMENT ON COLUMN @extschema@.handler_value.daily_capacity IS 'leads the pool takes per local day; NULL: unlimited';

CREATE TABLE IF NOT EXISTS @extschema@.routing_log (
  org_id       bigint NOT NULL,
  route_id     bigint GENERATED ALWAYS AS IDENTITY,
  lead_id      bigint NOT NULL,
  routed_at    timestamptz NOT NULL DEFAULT now(),
  cause        text NOT NULL,
  old_tier     char(1),
  new_tier     char(1) NOT NULL,
  old_rep_id   bigint,
  new_rep_id   bigint,
  old_handler  text,
  new_handler  text NOT NULL,
  reason       text NOT NULL,
  CONSTRAINT routing_log_pkey PRIMARY KEY (org_id, route_id),
  CONSTRAINT routing_log_lead_fkey FOREIGN KEY (org_id, lead_id) REFERENCES @extschema@.lead (org_id, lead_id),
  CONSTRAINT routing_log_tier_check CHECK (old_tier IN ('A', 'B', 'C', 'D') AND new_tier IN ('A', 'B', 'C', 'D'))
);
CREATE INDEX IF NOT EXISTS routing_log_lead_idx ON @extschema@.routing_log (org_id, lead_id, routed_at);
COMMENT ON TABLE @extschema@.routing_log IS 'every re-route of an owned lead made when an event changed its tier and its tier''s handler (since 0.17): from which rep and handler to which, and why';
COMMENT ON COLUMN @extschema@.routing_log.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.routing_log.route_id IS 're-route id';
COMMENT ON COLUMN @extschema@.routing_log.lead_id IS 'lead';
COMMENT ON COLUMN @extschema@.routing_log.routed_at IS 'when (the server''s clock)';
COMMENT ON COLUMN @extschema@.routing_log.cause IS 'what changed the tier, such as "event sms_verified"';
COMMENT ON COLUMN @extschema@.routing_log.old_tier IS 'tier before';
COMMENT ON COLUMN @extschema@.routing_log.new_tier IS 'tier after';
COMMENT ON COLUMN @extschema@.routing_log.old_rep_id IS 'rep that owned the lead';
COMMENT ON COLUMN @extschema@.routing_log.new_rep_id IS 'rep the engine gave it to; NULL: no rep of any pool was eligible, so it waits in the public pool';
COMMENT ON COLUMN @extschema@.routing_log.old_handler IS 'role of the old rep';
COMMENT ON COLUMN @extschema@.routing_log.new_handler IS 'the handler role the new tier asks for';
COMMENT ON COLUMN @extschema@.routing_log.reason IS 'why, such as "tier D -> C: ai_bot -> tmk"';

CREATE OR REPLACE VIEW @extschema@.effective_handler_value WITH (security_invoker = true) AS
SELECT o.org_id,
       d.handler_role,
       coalesce(v.relative_conversion, d.relative_conversion) AS relative_conversion,
       coalesce(v.cost_per_lead, d.cost_per_lead)             AS cost_per_lead,
       CASE WHEN v.org_id IS NULL THEN d.daily_capacity ELSE v.daily_capacity END AS daily_capacity,
       v.org_id IS NOT NULL                                   AS is_customised
  FROM @extschema@.org o
 CROSS JOIN @extschema@.handler_defaults() d
  LEFT JOIN @extschema@.handler_value v ON v.org_id = o.org_id AND v.handler_role = d.handler_role;
COMMENT ON VIEW @extschema@.effective_handler_value IS 'the handler pools each org routes by expected value with: its own handler_value rows, or the defaults (ai_bot 0.60 0.30, tmk 0.80 6.00, sales 1.00 60.00, top_sales 1.15 120.00; unlimited)';
COMMENT ON COLUMN @extschema@.effective_handler_value.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.effective_handler_value.handler_role IS 'the pool';
COMMENT ON COLUMN @extschema@.effective_handler_value.relative_conversion IS 'P(pay | this pool) = min(1, score x relative_conversion)';
COMMENT ON COLUMN @extschema@.effective_handler_value.cost_per_lead IS 'expected handling cost of one lead';
COMMENT ON COLUMN @extschema@.effective_handler_value.daily_capacity IS 'leads per local day; NULL: unlimited';
COMMENT ON COLUMN @extschema@.effective_handler_value.is_customised IS 'true when the org set this pool itself';

-- The holdout: per org and arm, from the leads that have an arm.  Spend is
-- shared by lead (the arms are drawn at random, so each arm's share of the
-- spend of the days the leads arrived is its share of the leads), handling
-- is what the follow-ups of the arm's leads cost, a paid student a lead
-- with a paid first order.  holdout_saving() gives the saving and its 95%
-- interval by the delta method on the log of the ratio of the two costs
-- per paid student.
CREATE OR REPLACE VIEW @extschema@.routing_holdout WITH (security_invoker = true) AS
-- (one grouped pass per org, both arms side by side, the org's spend read
-- through a LATERAL subquery on the org and the arms unpivoted last: every
-- join is on org_id, so Citus plans the whole on the org's shards; Citus
-- 13.0 crashed planning the outer join of ad_spend to a CTE of the arms
-- under row-level security)
SELECT x.org_id,
       a.arm,
       a.n AS leads,
       a.y AS paid_students,
       round(a.y::numeric / a.n, 4)                                       AS conversion_rate,
       a.h::numeric(14,2)                                                 AS handling_cost,
       (x.spend * a.n / x.n)::numeric(14,2)                               AS spend_share,
       round(((x.spend * a.n / x.n + a.h) / nullif(a.y, 0))::numeric, 2)  AS cost_per_paid_student,
       CASE WHEN a.arm = 'tiered' THEN round((100 * (x.s).saving)::numeric, 1) END AS saving_pct,
       CASE WHEN a.arm = 'tiered' THEN round((100 * (x.s).low)::numeric, 1) END    AS saving_ci_low_pct,
       CASE WHEN a.arm = 'tiered' THEN round((100 * (x.s).high)::numeric, 1) END   AS saving_ci_high_pct,
       x.first_day,
       x.last_day
  FROM (
    SELECT t.*, sp.spend,
           @extschema@.holdout_saving(sp.spend / t.n, ARRAY[t.n_t, t.h_t, t.hh_t, t.y_t, t.hy_t]::float8[],
                                      ARRAY[t.n_h, t.h_h, t.hh_h, t.y_h, t.hy_h]::float8[]) AS s
      FROM (
        SELECT l.org_id, count(*) AS n,
               count(*) FILTER (WHERE l.routing_arm = 'tiered') AS n_t,
               coalesce(sum(h.cost) FILTER (WHERE l.routing_arm = 'tiered'), 0) AS h_t,
               coalesce(sum(h.cost * h.cost) FILTER (WHERE l.routing_arm = 'tiered'), 0) AS hh_t,
               count(p.lead_id) FILTER (WHERE l.routing_arm = 'tiered') AS y_t,
               coalesce(sum(h.cost) FILTER (WHERE l.routing_arm = 'tiered' AND p.lead_id IS NOT NULL), 0) AS hy_t,
               count(*) FILTER (WHERE l.routing_arm = 'holdout') AS n_h,
               coalesce(sum(h.cost) FILTER (WHERE l.routing_arm = 'holdout'), 0) AS h_h,
               coalesce(sum(h.cost * h.cost) FILTER (WHERE l.routing_arm = 'holdout'), 0) AS hh_h,
               count(p.lead_id) FILTER (WHERE l.routing_arm = 'holdout') AS y_h,
               coalesce(sum(h.cost) FILTER (WHERE l.routing_arm = 'holdout' AND p.lead_id IS NOT NULL), 0) AS hy_h,
               (min(l.created_at) AT TIME ZONE min(o.timezone))::date AS first_day,
               (max(l.created_at) AT TIME ZONE min(o.timezone))::date AS last_day
          FROM @extschema@.lead l
          JOIN @extschema@.org o ON o.org_id = l.org_id
          LEFT JOIN (SELECT f.org_id, f.lead_id, sum(f.cost)::float8 AS cost
                       FROM @extschema@.follow_up f GROUP BY f.org_id, f.lead_id) h
            ON h.org_id = l.org_id AND h.lead_id = l.lead_id
          LEFT JOIN (SELECT DISTINCT so.org_id, so.lead_id FROM @extschema@.sales_order so
                      WHERE so.status = 'paid' AND NOT so.is_renewal) p
            ON p.org_id = l.org_id AND p.lead_id = l.lead_id
         WHERE l.routing_arm IS NOT NULL
         GROUP BY l.org_id) t
      JOIN LATERAL (SELECT coalesce(sum(s.spend), 0)::float8 AS spend FROM @extschema@.ad_spend s
                     WHERE s.org_id = t.org_id AND s.spend_date BETWEEN t.first_day AND t.last_day) sp ON true) x
  CROSS JOIN LATERAL (VALUES ('tiered', x.n_t, x.y_t, x.h_t), ('holdout', x.n_h, x.y_h, x.h_h)) AS a(arm, n, y, h)
 WHERE a.n > 0;
COMMENT ON VIEW @extschema@.routing_holdout IS 'the randomized routing holdout, per org and arm (tiered: routed by tier or expected value; holdout: every lead to regular sales): leads, paid students, conversion, handling cost, share of the spend and cost per paid student; on the tiered row the saving of tiered routing in total cost per paid student with its 95% confidence interval (delta method, holdout_saving)';
COMMENT ON COLUMN @extschema@.routing_holdout.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.routing_holdout.arm IS 'tiered or holdout';
COMMENT ON COLUMN @extschema@.routing_holdout.leads IS 'leads drawn into the arm';
COMMENT ON COLUMN @extschema@.routing_holdout.paid_students IS 'of those, leads with a paid first order';
COMMENT ON COLUMN @extschema@.routing_holdout.conversion_rate IS 'paid students per lead';
COMMENT ON COLUMN @extschema@.routing_holdout.handling_cost IS 'cost of the follow-ups of the arm''s leads';
COMMENT ON COLUMN @extschema@.routing_holdout.spend_share IS 'the arm''s share of the ad spend of the days its leads arrived (its share of the leads)';
COMMENT ON COLUMN @extschema@.routing_holdout.cost_per_paid_student IS '(spend share + handling cost) per paid student';
COMMENT ON COLUMN @extschema@.routing_holdout.saving_pct IS 'tiered row: percent by which tiered routing lowers the cost per paid student against the holdout; NULL on the holdout row';
COMMENT ON COLUMN @extschema@.routing_holdout.saving_ci_low_pct IS 'lower end of the 95% confidence interval of the saving';
COMMENT ON COLUMN @extschema@.routing_holdout.saving_ci_high_pct IS 'upper end of the 95% confidence interval of the saving';
COMMENT ON COLUMN @extschema@.routing_holdout.first_day IS 'first local day a lead of the experiment arrived';
COMMENT ON COLUMN @extschema@.routing_holdout.last_day IS 'last local day a lead of the experiment arrived';

CREATE TABLE IF NOT EXISTS @extschema@.landing_variant (
  org_id     bigint NOT NULL,
  variant    text NOT NULL,
  min_score  float8 NOT NULL,
  CONSTRAINT landing_variant_pkey PRIMARY KEY (org_id, variant),
  CONSTRAINT landing_variant_org_fkey FOREIGN KEY (org_id) REFERENCES @extschema@.org (org_id),
  CONSTRAINT landing_variant_name_check CHECK (length(variant) BETWEEN 1 AND 100),
  CONSTRAINT landing_variant_score_check CHECK (min_score >= 0 AND min_score <= 1)
);
COMMENT ON TABLE @extschema@.landing_variant IS 'per-org landing page variants and the least form-time score of a visitor who is shown each (landing_decision); an org without rows shows every visitor "standard"';
COMMENT ON COLUMN @extschema@.landing_variant.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.landing_variant.variant IS 'the variant the page shows, such as "book-best-teacher"';
COMMENT ON COLUMN @extschema@.landing_variant.min_score IS 'least form-time conversion probability for the variant: a visitor sees the variant of the highest min_score the score reaches';
