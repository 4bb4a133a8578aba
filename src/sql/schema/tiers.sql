-- ---------------------------------------------------------------------------
-- Lead tiers and cost-tiered routing (docs/reference/tiers.md): since 0.2
-- ---------------------------------------------------------------------------

CREATE TABLE @extschema@.tier_policy (
  org_id            bigint NOT NULL REFERENCES @extschema@.org (org_id),
  tier              char(1) NOT NULL CHECK (tier IN ('A', 'B', 'C', 'D')),
  handler_role      text NOT NULL CHECK (handler_role IN ('ai_bot', 'tmk', 'sales', 'top_sales')),
  cost_per_contact  numeric(14,2) NOT NULL CHECK (cost_per_contact >= 0),
  follow_up_sla     interval NOT NULL CHECK (follow_up_sla > interval '0'),
  min_score         float8 CHECK (min_score >= 0 AND min_score <= 1),
  PRIMARY KEY (org_id, tier)
);
COMMENT ON TABLE @extschema@.tier_policy IS 'per-org tier rules: who handles each tier, at what cost per contact, how fast, and the conversion probability that earns the tier; orgs without rows use the defaults of effective_tier_policy';
COMMENT ON COLUMN @extschema@.tier_policy.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.tier_policy.tier IS 'tier A (best) to D';
COMMENT ON COLUMN @extschema@.tier_policy.handler_role IS 'rep role that handles the tier: ai_bot, tmk, sales or top_sales';
COMMENT ON COLUMN @extschema@.tier_policy.cost_per_contact IS 'handling cost of one follow-up contact in this tier';
COMMENT ON COLUMN @extschema@.tier_policy.follow_up_sla IS 'first follow-up due within this time of assignment';
COMMENT ON COLUMN @extschema@.tier_policy.min_score IS 'least conversion probability for the tier when a model has scored the lead; NULL: the tier is never earned by score';

CREATE TABLE @extschema@.tier_change (
  org_id      bigint NOT NULL,
  change_id   bigint GENERATED ALWAYS AS IDENTITY,
  lead_id     bigint NOT NULL,
  old_tier    char(1) CHECK (old_tier IN ('A', 'B', 'C', 'D')),
  new_tier    char(1) NOT NULL CHECK (new_tier IN ('A', 'B', 'C', 'D')),
  stage       char(1) NOT NULL CHECK (stage IN ('A', 'B', 'C', 'D')),
  score       float8,
  reason      text NOT NULL,
  changed_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, change_id),
  FOREIGN KEY (org_id, lead_id) REFERENCES @extschema@.lead (org_id, lead_id),
  CONSTRAINT tier_change_changes CHECK (old_tier IS DISTINCT FROM new_tier)
);
CREATE INDEX tier_change_lead_idx ON @extschema@.tier_change (org_id, lead_id, changed_at);
COMMENT ON TABLE @extschema@.tier_change IS 'log of every tier change made by refresh_tiers, with time and reason';
COMMENT ON COLUMN @extschema@.tier_change.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.tier_change.change_id IS 'change id';
COMMENT ON COLUMN @extschema@.tier_change.lead_id IS 'lead';
COMMENT ON COLUMN @extschema@.tier_change.old_tier IS 'tier before, NULL when the lead had none';
COMMENT ON COLUMN @extschema@.tier_change.new_tier IS 'tier after';
COMMENT ON COLUMN @extschema@.tier_change.stage IS 'behaviour stage at the time: D form only, C SMS verified, B WeChat followed, A self-booked trial';
COMMENT ON COLUMN @extschema@.tier_change.score IS 'conversion probability at the time, if scored';
COMMENT ON COLUMN @extschema@.tier_change.reason IS 'why, such as "stage B" or "score 0.62 >= 0.50 for A"';
COMMENT ON COLUMN @extschema@.tier_change.changed_at IS 'when the tier changed';


CREATE VIEW @extschema@.effective_tier_policy WITH (security_invoker = true) AS
SELECT o.org_id,
       d.tier,
       coalesce(p.handler_role, d.handler_role)         AS handler_role,
       coalesce(p.cost_per_contact, d.cost_per_contact) AS cost_per_contact,
       coalesce(p.follow_up_sla, d.follow_up_sla)       AS follow_up_sla,
       CASE WHEN p.org_id IS NULL THEN d.min_score ELSE p.min_score END AS min_score,
       p.org_id IS NOT NULL                             AS is_customised
  FROM @extschema@.org o
 CROSS JOIN @extschema@.tier_defaults() d
  LEFT JOIN @extschema@.tier_policy p ON p.org_id = o.org_id AND p.tier = d.tier;
COMMENT ON VIEW @extschema@.effective_tier_policy IS 'the tier policy each org runs: its own tier_policy rows, or the defaults (A top_sales 30.00 1 h >= 0.50, B sales 20.00 4 h >= 0.20, C tmk 3.00 24 h >= 0.05, D ai_bot 0.30 72 h)';
COMMENT ON COLUMN @extschema@.effective_tier_policy.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.effective_tier_policy.tier IS 'tier A to D';
COMMENT ON COLUMN @extschema@.effective_tier_policy.handler_role IS 'rep role that handles the tier';
COMMENT ON COLUMN @extschema@.effective_tier_policy.cost_per_contact IS 'handling cost of one contact';
COMMENT ON COLUMN @extschema@.effective_tier_policy.follow_up_sla IS 'first follow-up due within this time';
COMMENT ON COLUMN @extschema@.effective_tier_policy.min_score IS 'least conversion probability that earns the tier';
COMMENT ON COLUMN @extschema@.effective_tier_policy.is_customised IS 'true when the org set this tier itself';

CREATE VIEW @extschema@.tier_routing_savings WITH (security_invoker = true) AS
WITH leads AS (
  SELECT l.org_id, l.lead_id, l.first_channel_id AS channel_id,
         date_trunc('month', l.created_at AT TIME ZONE o.timezone)::date AS month,
         EXISTS (SELECT 1 FROM @extschema@.sales_order so WHERE so.org_id = l.org_id AND so.lead_id = l.lead_id
                    AND so.status = 'paid' AND NOT so.is_renewal) AS paid
    FROM @extschema@.lead l JOIN @extschema@.org o ON o.org_id = l.org_id
), handling AS (
  SELECT f.org_id, f.lead_id, sum(f.cost) AS cost
    FROM @extschema@.follow_up f GROUP BY f.org_id, f.lead_id
), regular AS (
  -- what regular sales actually spend to handle one lead, per org
  SELECT f.org_id, sum(f.cost) / nullif(count(DISTINCT f.lead_id), 0) AS cost_per_lead
    FROM @extschema@.follow_up f
    JOIN @extschema@.sales_rep r ON r.org_id = f.org_id AND r.rep_id = f.rep_id
   WHERE r.role = 'sales'
   GROUP BY f.org_id
), spend AS (
  SELECT s.org_id, s.channel_id, date_trunc('month', s.spend_date)::date AS month, sum(s.spend) AS spend
    FROM @extschema@.ad_spend s GROUP BY 1, 2, 3
), m AS (
  SELECT ld.org_id, ld.month, ld.channel_id, count(*) AS leads, count(*) FILTER (WHERE ld.paid) AS paid_students,
         coalesce(sum(h.cost), 0) AS handling_tiered
    FROM leads ld LEFT JOIN handling h ON h.org_id = ld.org_id AND h.lead_id = ld.lead_id
   GROUP BY 1, 2, 3
)
SELECT m.org_id,
       m.month,
       c.code                                                  AS channel,
       m.leads,
       m.paid_students,
       coalesce(s.spend, 0)::numeric(14,2)                     AS spend,
       m.handling_tiered::numeric(14,2)                        AS handling_cost_tiered,
       (m.leads * r.cost_per_lead)::numeric(14,2)              AS handling_cost_flat,
       round((coalesce(s.spend, 0) + m.handling_tiered) / nullif(m.paid_students, 0), 2)              AS cost_per_paid_student_tiered,
       round((coalesce(s.spend, 0) + m.leads * r.cost_per_lead) / nullif(m.paid_students, 0), 2)      AS cost_per_paid_student_flat,
       round(100 * (1 - (coalesce(s.spend, 0) + m.handling_tiered)
                        / nullif(coalesce(s.spend, 0) + m.leads * r.cost_per_lead, 0)), 1)             AS saving_pct
  FROM m
  JOIN @extschema@.channel c ON c.org_id = m.org_id AND c.channel_id = m.channel_id
  LEFT JOIN spend s ON s.org_id = m.org_id AND s.channel_id = m.channel_id AND s.month = m.month
  LEFT JOIN regular r ON r.org_id = m.org_id;
COMMENT ON VIEW @extschema@.tier_routing_savings IS 'per org, month of lead creation and first channel: cost per paid student with tiered routing (actual follow-up costs) against flat routing (every lead handled at what regular sales spend per lead), both including ad spend; conversions are taken as equal, so the saving is the handling cost avoided';
COMMENT ON COLUMN @extschema@.tier_routing_savings.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.tier_routing_savings.month IS 'month the leads were created, in the org time zone';
COMMENT ON COLUMN @extschema@.tier_routing_savings.channel IS 'channel of the first submission';
COMMENT ON COLUMN @extschema@.tier_routing_savings.leads IS 'leads created that month through the channel';
COMMENT ON COLUMN @extschema@.tier_routing_savings.paid_students IS 'of those, leads with a paid first order';
COMMENT ON COLUMN @extschema@.tier_routing_savings.spend IS 'ad spend of the channel that month (never split by attribution)';
COMMENT ON COLUMN @extschema@.tier_routing_savings.handling_cost_tiered IS 'follow-up cost actually spent on those leads';
COMMENT ON COLUMN @extschema@.tier_routing_savings.handling_cost_flat IS 'leads times what regular sales spend to handle one lead in the org';
COMMENT ON COLUMN @extschema@.tier_routing_savings.cost_per_paid_student_tiered IS '(spend + tiered handling) per paid student';
COMMENT ON COLUMN @extschema@.tier_routing_savings.cost_per_paid_student_flat IS '(spend + flat handling) per paid student';
COMMENT ON COLUMN @extschema@.tier_routing_savings.saving_pct IS 'percent of total cost saved by tiered routing';
