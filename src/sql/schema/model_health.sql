
-- ---------------------------------------------------------------------------
-- The health of the active conversion models (since 0.17;
-- docs/reference/model.md#model-health): how far the scores of the leads of
-- the last 30 days have moved from the scores of the model's held-out leads
-- (population stability index), and how well the scores of the leads
-- resolved lately match what they did (calibration by decile), as of the
-- org's clock (org.report_as_of, else now()).  Safe to run again.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE VIEW @extschema@.model_calibration_recent WITH (security_invoker = true) AS
WITH m AS (
  SELECT cm.org_id, cm.model_id, cm.stage, cm.conversion_days, coalesce(o.report_as_of, now()) AS as_of
    FROM @extschema@.conversion_model cm JOIN @extschema@.org o ON o.org_id = cm.org_id
   WHERE cm.active
), r AS (
  -- the leads whose outcome window closed in the last 90 days, with the
  -- score this model gave them and whether they paid within the window
  SELECT m.org_id, m.model_id, m.stage, s.p, s.paid,
         ntile(10) OVER (PARTITION BY m.org_id, m.model_id ORDER BY s.p, s.lead_id) AS decile
    FROM m CROSS JOIN LATERAL (
      SELECT l.lead_id, CASE WHEN m.stage = 'form' THEN l.form_score ELSE l.score END AS p,
             EXISTS (SELECT 1 FROM @extschema@.sales_order so
                      WHERE so.org_id = l.org_id AND so.lead_id = l.lead_id AND so.status = 'paid' AND NOT so.is_renewal
                        AND so.paid_at <= l.created_at + m.conversion_days * interval '1 day') AS paid
        FROM @extschema@.lead l
       WHERE l.org_id = m.org_id
         AND l.created_at > m.as_of - (m.conversion_days + 90) * interval '1 day'
         AND l.created_at <= m.as_of - m.conversion_days * interval '1 day'
         AND CASE WHEN m.stage = 'form' THEN l.form_score_model_id ELSE l.score_model_id END = m.model_id) s
)
SELECT r.org_id, r.model_id, r.stage, r.decile, count(*) AS leads,
       round(avg(r.p)::numeric, 4) AS mean_score,
       round(avg(r.paid::int)::numeric, 4) AS observed_rate,
       round((avg(r.paid::int) - avg(r.p))::numeric, 4) AS gap
  FROM r GROUP BY r.org_id, r.model_id, r.stage, r.decile;
COMMENT ON VIEW @extschema@.model_calibration_recent IS 'calibration of each active conversion model on its recently resolved leads (since 0.17): the leads scored by the model whose outcome window (org.conversion_days) closed within the last 90 days before the org''s clock, in ten deciles of score: mean score against the share that paid';
COMMENT ON COLUMN @extschema@.model_calibration_recent.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.model_calibration_recent.model_id IS 'the active model';
COMMENT ON COLUMN @extschema@.model_calibration_recent.stage IS 'contact (lead.score) or form (lead.form_score)';
COMMENT ON COLUMN @extschema@.model_calibration_recent.decile IS '1 (lowest scores) to 10';
COMMENT ON COLUMN @extschema@.model_calibration_recent.leads IS 'resolved leads in the decile';
COMMENT ON COLUMN @extschema@.model_calibration_recent.mean_score IS 'their mean predicted probability';
COMMENT ON COLUMN @extschema@.model_calibration_recent.observed_rate IS 'the share of them that paid within the window';
COMMENT ON COLUMN @extschema@.model_calibration_recent.gap IS 'observed_rate - mean_score: above 0 the model under-predicts';

CREATE OR REPLACE VIEW @extschema@.model_health WITH (security_invoker = true) AS
WITH m AS (
  SELECT cm.org_id, cm.model_id, cm.name, cm.stage, cm.trained_to, cm.calibration_test, coalesce(o.report_as_of, now()) AS as_of
    FROM @extschema@.conversion_model cm JOIN @extschema@.org o ON o.org_id = cm.org_id
   WHERE cm.active
), bins AS (
  -- the score bins of the model's held-out leads (calibration_test)
  SELECT m.org_id, m.model_id, (b ->> 'bin')::int AS bin, (b ->> 'lower_bound')::float8 AS lo,
         (b ->> 'upper_bound')::float8 AS hi, (b ->> 'rows')::float8 AS n
    FROM m CROSS JOIN LATERAL jsonb_array_elements(coalesce(m.calibration_test, '[]')) b
), recent AS (
  -- the scores this model gave the leads of the last 30 days
  SELECT m.org_id, m.model_id, s.p
    FROM m CROSS JOIN LATERAL (
      SELECT CASE WHEN m.stage = 'form' THEN l.form_score ELSE l.score END AS p
        FROM @extschema@.lead l
       WHERE l.org_id = m.org_id AND l.created_at > m.as_of - interval '30 days' AND l.created_at <= m.as_of
         AND CASE WHEN m.stage = 'form' THEN l.form_score_model_id ELSE l.score_model_id END = m.model_id) s
), rc AS (
  SELECT r.org_id, r.model_id, count(*) AS n FROM recent r GROUP BY r.org_id, r.model_id
), shares AS (
  -- expected (held out) and actual (recent) share of each bin, each at least 0.0001
  SELECT b.org_id, b.model_id, b.bin,
         greatest(b.n / nullif(sum(b.n) OVER w, 0), 0.0001) AS e,
         greatest(count(r.p)::float8 / nullif(sum(count(r.p)) OVER w, 0), 0.0001) AS a
    FROM bins b
    LEFT JOIN recent r ON r.org_id = b.org_id AND r.model_id = b.model_id
                      AND r.p >= b.lo AND (r.p < b.hi OR (b.hi >= 1 AND r.p <= 1))
   GROUP BY b.org_id, b.model_id, b.bin, b.n
  WINDOW w AS (PARTITION BY b.org_id, b.model_id)
), psi AS (
  SELECT s.org_id, s.model_id, sum((s.a - s.e) * ln(s.a / s.e)) AS psi FROM shares s GROUP BY s.org_id, s.model_id
), cal AS (
  SELECT c.org_id, c.model_id, sum(c.leads) AS resolved, sum(c.leads * abs(c.gap)) / nullif(sum(c.leads), 0) AS ece
    FROM @extschema@.model_calibration_recent c GROUP BY c.org_id, c.model_id
)
SELECT m.org_id, m.model_id, m.name, m.stage,
       (m.as_of::date - m.trained_to::date) AS data_age_days,
       coalesce(rc.n, 0) AS recent_leads,
       CASE WHEN rc.n > 0 THEN round(p.psi::numeric, 4) END AS psi,
       coalesce(cal.resolved, 0) AS resolved_leads,
       round(cal.ece::numeric, 4) AS calibration_error,
       x.reason IS NOT NULL AS retrain_due,
       x.reason
  FROM m
  LEFT JOIN rc ON rc.org_id = m.org_id AND rc.model_id = m.model_id
  LEFT JOIN psi p ON p.org_id = m.org_id AND p.model_id = m.model_id
  LEFT JOIN cal ON cal.org_id = m.org_id AND cal.model_id = m.model_id
  CROSS JOIN LATERAL (SELECT nullif(concat_ws('; ',
      CASE WHEN rc.n >= 100 AND p.psi > 0.25
           THEN format('the scores of the last 30 days moved from the held-out ones (PSI %s > 0.25)', round(p.psi::numeric, 2)) END,
      CASE WHEN cal.resolved >= 200 AND cal.ece > 0.05
           THEN format('miscalibrated on the leads resolved lately (mean gap %s > 0.05)', round(cal.ece::numeric, 3)) END,
      CASE WHEN m.as_of::date - m.trained_to::date > 180
           THEN format('learned from data that ends %s days ago', m.as_of::date - m.trained_to::date) END), '') AS reason) x;
COMMENT ON VIEW @extschema@.model_health IS 'the health of each active conversion model (since 0.17), as of the org''s clock: the population stability index of the scores of the last 30 days against the model''s held-out leads, the calibration error on the leads resolved in the last 90 days (model_calibration_recent), and whether it is due to be retrained, with the reasons (PSI > 0.25 over at least 100 leads, a mean calibration gap > 0.05 over at least 200, data older than 180 days)';
COMMENT ON COLUMN @extschema@.model_health.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.model_health.model_id IS 'the active model';
COMMENT ON COLUMN @extschema@.model_health.name IS 'its name';
COMMENT ON COLUMN @extschema@.model_health.stage IS 'contact or form';
COMMENT ON COLUMN @extschema@.model_health.data_age_days IS 'days from the end of its training data (trained_to) to the org''s clock';
COMMENT ON COLUMN @extschema@.model_health.recent_leads IS 'leads of the last 30 days it scored';
COMMENT ON COLUMN @extschema@.model_health.psi IS 'population stability index of their scores against the held-out leads'' (the bins of calibration_test; each share at least 0.0001); NULL without recent leads. Under 0.1 stable, 0.1 to 0.25 moving, over 0.25 shifted';
COMMENT ON COLUMN @extschema@.model_health.resolved_leads IS 'leads resolved in the last 90 days it scored';
COMMENT ON COLUMN @extschema@.model_health.calibration_error IS 'mean absolute gap between observed rate and mean score over the deciles of those leads, weighted by leads';
COMMENT ON COLUMN @extschema@.model_health.retrain_due IS 'true when any reason holds';
COMMENT ON COLUMN @extschema@.model_health.reason IS 'why, the reasons joined by "; "; NULL when healthy';
