
-- ---------------------------------------------------------------------------
-- Real-time routing (since 0.17; docs/reference/routing.md): the arm of the
-- routing holdout, routing by expected value, re-tiering and re-routing when
-- an event changes a lead, and the holdout's measured saving.
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.holdout_draw(seed bigint, lead_id bigint) RETURNS float8
AS 'MODULE_PATHNAME', 'leadmgmt_holdout_draw' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.holdout_draw(bigint, bigint) IS 'a number in [0, 1) from the seed and the lead id alone (SplitMix64), the same on every node and version: a lead is in the org''s routing holdout when holdout_draw(org.holdout_seed, lead_id) < org.holdout_share';

CREATE FUNCTION @extschema@.route_by_value(p float8[], value float8[], relative_conversion float8[], cost float8[],
                                           capacity integer[])
RETURNS integer[]
AS 'MODULE_PATHNAME', 'leadmgmt_route_by_value' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.route_by_value(float8[], float8[], float8[], float8[], integer[]) IS 'routing by expected value: for each lead (conversion probability p, value if it pays) the handler pool (1-based; NULL when all are full) of highest min(1, p x relative_conversion) x value - cost, most likely leads first, each pool taking at most its capacity (NULL: unlimited); ties go to the cheaper pool';

CREATE FUNCTION @extschema@.handler_defaults()
RETURNS TABLE (handler_role text, relative_conversion float8, cost_per_lead numeric, daily_capacity integer)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE ROWS 4
SET search_path = pg_catalog, pg_temp
AS $$
  VALUES ('ai_bot', 0.60::float8, 0.30::numeric, NULL::integer), ('tmk', 0.80, 6.00, NULL),
         ('sales', 1.00, 60.00, NULL), ('top_sales', 1.15, 120.00, NULL)
$$;
COMMENT ON FUNCTION @extschema@.handler_defaults() IS 'the default handler pools for routing by expected value: relative conversion, cost per lead (the default tier policy''s cost per contact times 1, 2, 3 and 4 contacts) and daily capacity (unlimited); an org''s handler_value rows override them';

-- The saving and its interval, from each arm's sums.  Per arm, with c the
-- spend per lead plus a lead's handling cost and y whether it paid, the cost
-- per paid student is R = mean(c) / mean(y); by the delta method
--   Var(log R) ~ (Var(c)/mean(c)^2 + Var(y)/mean(y)^2 - 2 Cov(c,y)/(mean(c) mean(y))) / n,
-- the two arms are independent, and the saving 1 - R_t/R_h has the interval
-- 1 - exp(log(R_t/R_h) +- 1.96 se).  An arm is {n, sum h, sum h^2, paid, sum h over the paid}.
CREATE FUNCTION @extschema@.holdout_saving(spend_per_lead float8, tiered float8[], holdout float8[],
                                           OUT saving float8, OUT low float8, OUT high float8)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  WITH a AS (
    SELECT x.k, x.v[1] AS n, spend_per_lead + x.v[2] / x.v[1] AS mc, x.v[4] / x.v[1] AS my,
           (x.v[3] - x.v[2] * x.v[2] / x.v[1]) / (x.v[1] - 1) AS vc,
           (x.v[4] - x.v[4] * x.v[4] / x.v[1]) / (x.v[1] - 1) AS vy,
           (x.v[5] - x.v[2] * x.v[4] / x.v[1]) / (x.v[1] - 1) AS cv
      FROM (VALUES (1, tiered), (2, holdout)) x(k, v)
     WHERE cardinality(x.v) = 5 AND x.v[1] >= 2 AND x.v[4] > 0 AND spend_per_lead >= 0
       AND array_position(x.v, NULL) IS NULL AND NOT (x.v && ARRAY['NaN', 'Infinity', '-Infinity']::float8[])
  ), r AS (
    SELECT ln(t.mc / t.my) - ln(h.mc / h.my) AS l,
           sqrt(greatest((t.vc / (t.mc * t.mc) + t.vy / (t.my * t.my) - 2 * t.cv / (t.mc * t.my)) / t.n, 0)
              + greatest((h.vc / (h.mc * h.mc) + h.vy / (h.my * h.my) - 2 * h.cv / (h.mc * h.my)) / h.n, 0)) AS se
      FROM a t, a h WHERE t.k = 1 AND h.k = 2 AND t.mc > 0 AND h.mc > 0
  )
  SELECT 1 - exp(r.l), 1 - exp(r.l + 1.959963984540054 * r.se), 1 - exp(r.l - 1.959963984540054 * r.se) FROM r
$$;
COMMENT ON FUNCTION @extschema@.holdout_saving(float8, float8[], float8[]) IS 'the saving of tiered routing in total cost per paid student against the holdout, 1 - R_tiered/R_holdout, and its 95% confidence interval by the delta method on log(R_tiered/R_holdout); each arm is {leads, sum of handling cost, sum of its squares, paid leads, handling cost of the paid leads}; NULLs when an arm has fewer than 2 leads, no paid lead or a malformed array';

-- the tier letter the engine routes a lead by: its tier, or for a holdout
-- lead the best tier regular sales handle, or under routing by expected
-- value the best tier of the pool route_by_value picks.  One string for the
-- batch, as engine_assign takes it.
CREATE FUNCTION @extschema@.route_letters(o record, lead_ids bigint[], tiers text, at timestamptz) RETURNS text
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  letters text;
  pool_tier jsonb;
  ev_ids bigint[];
  ev_p float8[];
  roles text[];
  convs float8[];
  costs float8[];
  caps integer[];
  v float8;
  picks integer[];
BEGIN
  -- the policy read once: each handler role's best tier
  SELECT jsonb_object_agg(p.handler_role, p.tier) INTO pool_tier
    FROM (SELECT p.handler_role, min(p.tier) AS tier FROM @extschema@.effective_tier_policy p
           WHERE p.org_id = o.org_id GROUP BY p.handler_role) p;
  -- each lead's letter (a holdout lead: regular sales' tier), and the
  -- scored leads of the tiered arm that route by expected value
  SELECT string_agg(CASE WHEN x.arm = 'holdout' THEN coalesce(pool_tier ->> 'sales', x.letter) ELSE x.letter END, '' ORDER BY x.n),
         array_agg(x.lead_id ORDER BY x.n) FILTER (WHERE x.by_value),
         array_agg(x.p ORDER BY x.n) FILTER (WHERE x.by_value)
    INTO letters, ev_ids, ev_p
    FROM (SELECT u.n, u.lead_id, l.routing_arm AS arm, substr(tiers, u.n::int, 1) AS letter, coalesce(l.score, l.form_score) AS p,
                 o.routing = 'expected_value' AND l.routing_arm IS DISTINCT FROM 'holdout'
                   AND coalesce(l.score, l.form_score) IS NOT NULL AS by_value
            FROM unnest(lead_ids) WITH ORDINALITY AS u(lead_id, n)
            JOIN @extschema@.lead l ON l.org_id = o.org_id AND l.lead_id = u.lead_id) x;
  IF ev_ids IS NULL THEN
    RETURN letters;
  END IF;
  -- by expected value: each pool's room today, the value of a paying lead
  v := coalesce(o.expected_revenue,
                (SELECT avg(so.amount) FROM @extschema@.sales_order so
                  WHERE so.org_id = o.org_id AND so.status = 'paid' AND NOT so.is_renewal), 0);
  SELECT array_agg(h.handler_role ORDER BY h.handler_role), array_agg(h.relative_conversion ORDER BY h.handler_role),
         array_agg(h.cost_per_lead::float8 ORDER BY h.handler_role),
         array_agg(CASE WHEN h.daily_capacity IS NOT NULL THEN greatest(h.daily_capacity - coalesce(d.n, 0), 0)::integer END
                   ORDER BY h.handler_role)
    INTO roles, convs, costs, caps
    FROM @extschema@.effective_handler_value h
    LEFT JOIN (SELECT r.role, count(*) AS n FROM @extschema@.assignment a
                 JOIN @extschema@.sales_rep r ON r.org_id = a.org_id AND r.rep_id = a.rep_id
                WHERE a.org_id = o.org_id AND a.assigned_at >= (date_trunc('day', at AT TIME ZONE o.timezone) AT TIME ZONE o.timezone)
                GROUP BY r.role) d ON d.role = h.handler_role
   WHERE h.org_id = o.org_id AND pool_tier ? h.handler_role;  -- only pools some tier hands leads to
  picks := @extschema@.route_by_value(ev_p, array_fill(v, ARRAY[cardinality(ev_p)]), convs, costs, caps);
  SELECT string_agg(coalesce(pool_tier ->> roles[e.pick], substr(letters, u.n::int, 1)), '' ORDER BY u.n) INTO letters
    FROM unnest(lead_ids) WITH ORDINALITY AS u(lead_id, n)
    LEFT JOIN unnest(ev_ids, picks) AS e(lead_id, pick) ON e.lead_id = u.lead_id;
  RETURN letters;
END
$$;
COMMENT ON FUNCTION @extschema@.route_letters(record, bigint[], text, timestamptz) IS 'the tier letters the engine routes a batch of leads by: each lead''s tier; for a holdout lead the best tier regular sales handle; under routing by expected value (org.routing), for a scored lead the best tier of the handler pool route_by_value picks within each pool''s room that local day';

-- Re-tier one lead now, and re-route it when its handler changes (record_event)
CREATE FUNCTION @extschema@.retier_lead(o record, lead_id bigint, cause text) RETURNS char
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  l record;
  d record;
  t timestamptz := now();
  old_role text;
  new_role text;
  r record;
  new_rep bigint;
BEGIN
  -- the lead first (NO KEY: the event rows of other callers only share-lock
  -- its key), so callers for one lead take turns and the last sees every event
  SELECT x.tier, x.pool, x.owner_rep_id, x.status, x.routing_arm INTO l
    FROM @extschema@.lead x WHERE x.org_id = o.org_id AND x.lead_id = retier_lead.lead_id FOR NO KEY UPDATE;
  SELECT lt.tier, lt.stage, lt.score, lt.reason INTO d FROM @extschema@.lead_tiers(o.org_id, retier_lead.lead_id) lt;
  IF d.tier IS NULL OR d.tier IS NOT DISTINCT FROM l.tier THEN
    RETURN l.tier;
  END IF;
  UPDATE @extschema@.lead x SET tier = d.tier, updated_at = t
   WHERE x.org_id = o.org_id AND x.lead_id = retier_lead.lead_id;
  INSERT INTO @extschema@.tier_change (org_id, lead_id, old_tier, new_tier, stage, score, reason)
  VALUES (o.org_id, retier_lead.lead_id, l.tier, d.tier, d.stage, d.score, cause || ': ' || d.reason);
  -- an owned open lead of the tiered arm whose tier now wants another handler
  IF l.pool <> 'private' OR l.status IN ('won', 'lost') OR l.routing_arm = 'holdout' THEN
    RETURN d.tier;
  END IF;
  SELECT s.role INTO old_role FROM @extschema@.sales_rep s WHERE s.org_id = o.org_id AND s.rep_id = l.owner_rep_id;
  SELECT p.handler_role INTO new_role FROM @extschema@.effective_tier_policy p WHERE p.org_id = o.org_id AND p.tier = d.tier;
  IF o.routing = 'expected_value' OR old_role IS NOT DISTINCT FROM new_role THEN
    RETURN d.tier;
  END IF;
  -- the engine runs where the org's shards are: on a Citus node without them
  -- (a call Citus did not delegate, as in a transaction block) the lead is
  -- re-tiered but keeps its rep until it is assigned again
  BEGIN
    PERFORM @extschema@.check_org_engine(o.org_id);
  EXCEPTION WHEN feature_not_supported THEN
    RETURN d.tier;
  END;
  PERFORM @extschema@.unassign_locked(o, retier_lead.lead_id, l.owner_rep_id, l.status, t, 'reroute');
  r := @extschema@.rep_roster(o, NULL, t);
  new_rep := (@extschema@.assign_locked(o, ARRAY[retier_lead.lead_id], d.tier::text, ARRAY[l.owner_rep_id], t,
                r.strategy, r.rep_ids, r.weights, r.daily_caps, r.holding_caps, r.skills))[1];
  INSERT INTO @extschema@.routing_log (org_id, lead_id, routed_at, cause, old_tier, new_tier, old_rep_id, new_rep_id,
                                       old_handler, new_handler, reason)
  VALUES (o.org_id, retier_lead.lead_id, t, cause, l.tier, d.tier, l.owner_rep_id, new_rep, old_role, new_role,
          format('tier %s -> %s: %s -> %s', coalesce(l.tier, '-'), d.tier, coalesce(old_role, '-'), new_role));
  RETURN d.tier;
END
$$;
COMMENT ON FUNCTION @extschema@.retier_lead(record, bigint, text) IS 'gives one lead the tier lead_tiers says it should have now, logging the change in tier_change; an owned open lead of the tiered arm whose new tier has another handler role is taken from its rep (reason reroute) and given by the assignment engine to a rep of the new handler, logged in routing_log; returns the tier';

-- Take an owned lead from its rep, under the assignment lock (release_lead,
-- retier_lead): the lead back in the public pool, the rep's open leads one
-- fewer, the assignment closed with the reason.
CREATE FUNCTION @extschema@.unassign_locked(o record, lead_id bigint, owner_rep_id bigint, status text,
                                            at timestamptz, reason text) RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('leadmgmt.assign', o.org_id));
  -- the lead's own pick may still be in the journal: fold it first
  PERFORM @extschema@.rep_load_sync(o, unassign_locked.at);
  PERFORM set_config('leadmgmt.engine_update', 'on', true);
  UPDATE @extschema@.lead x SET pool = 'public', owner_rep_id = NULL, owned_since = NULL, updated_at = now()
   WHERE x.org_id = o.org_id AND x.lead_id = unassign_locked.lead_id;
  PERFORM set_config('leadmgmt.engine_update', 'off', true);
  -- a row that rep_load_sync builds later counts from the leads, so only an existing row changes
  UPDATE @extschema@.rep_load x SET open_leads = greatest(x.open_leads - (unassign_locked.status NOT IN ('won', 'lost'))::int, 0)
   WHERE x.org_id = o.org_id AND x.rep_id = unassign_locked.owner_rep_id;
  UPDATE @extschema@.assignment a SET released_at = greatest(unassign_locked.at, a.assigned_at),
                                      release_reason = unassign_locked.reason
   WHERE a.org_id = o.org_id AND a.lead_id = unassign_locked.lead_id AND a.released_at IS NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.unassign_locked(record, bigint, bigint, text, timestamptz, text) IS 'engine step shared by release_lead and retier_lead: under the org''s assignment lock puts an owned lead back in the public pool, counts it off its rep''s open leads and closes its assignment with the reason';

-- The landing page asks which variant to show a visitor, before the form:
-- the active form-time model scores what the page knows (ingest_lead's
-- features, lead_form_vals), the org's thresholds pick the variant, and the
-- exposure is recorded as an impression touch of the visitor, which becomes
-- its lead's when the form arrives (attribution, the funnel, the features).
CREATE FUNCTION @extschema@.landing_decision(org_id bigint, visitor_id text, context jsonb DEFAULT '{}',
                                             OUT variant text, OUT score float8, OUT touchpoint_id bigint)
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  o record := @extschema@.ingest_org(landing_decision.org_id);
  c jsonb := coalesce(landing_decision.context, '{}');
  ts timestamptz := now();
  ch bigint;
  cp bigint;
  v_age smallint; v_grade smallint; v_subject text; v_tier smallint; v_page text;
  fm record;
  v_prior bigint := 0;
  v_local timestamp;
  v_vals jsonb;
  v_lead bigint;
BEGIN
  IF landing_decision.visitor_id IS NULL OR landing_decision.visitor_id = '' THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'visitor_id must not be null or empty';
  END IF;
  PERFORM @extschema@.check_length(landing_decision.visitor_id, 'visitor_id', 200);
  IF jsonb_typeof(c) <> 'object' THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'context must be a JSON object',
      HINT = 'Pass the page''s context as {"channel": ..., "grade": ...}.';
  END IF;
  v_age     := @extschema@.ingest_attr(c, 'child_age', 'int', 1, 18);
  v_grade   := @extschema@.ingest_attr(c, 'grade', 'int', 0, 12);
  v_subject := @extschema@.ingest_attr(c, 'subject', 'string', NULL, 100);
  v_tier    := @extschema@.ingest_attr(c, 'city_tier', 'int', 1, 5);
  v_page    := @extschema@.ingest_attr(c, 'variant', 'string', NULL, 100);
  ch := @extschema@.channel_id_of(o, c ->> 'channel');
  cp := @extschema@.campaign_id_of(o, ch, c ->> 'campaign');
  SELECT cm.model_id, cm.kind, cm.coef, cm.encoding, cm.nb_tables INTO fm
    FROM @extschema@.conversion_model cm WHERE cm.org_id = o.org_id AND cm.active AND cm.stage = 'form';
  IF fm.model_id IS NOT NULL THEN
    SELECT count(*) INTO v_prior FROM @extschema@.touchpoint t
     WHERE t.org_id = o.org_id AND t.visitor_id = landing_decision.visitor_id AND t.lead_id IS NULL AND t.occurred_at < ts;
    v_local := ts AT TIME ZONE o.timezone;
    v_vals := @extschema@.lead_form_vals(lower(btrim(c ->> 'channel')), nullif(btrim(c ->> 'campaign'), ''),
                                         v_subject, v_tier, v_age, v_grade, v_local, v_page, v_prior);
    score := @extschema@.model_predict(fm.kind, fm.coef, fm.encoding, fm.nb_tables, v_vals);
  END IF;
  SELECT lv.variant INTO variant FROM @extschema@.landing_variant lv
   WHERE lv.org_id = o.org_id AND lv.min_score <= coalesce(score, 0)
   ORDER BY lv.min_score DESC, lv.variant LIMIT 1;
  variant := coalesce(variant, 'standard');
  -- the exposure, as a touch of the visitor (of its lead, when it has one;
  -- read first: Citus routes no INSERT with a subquery)
  SELECT t.lead_id INTO v_lead FROM @extschema@.touchpoint t
   WHERE t.org_id = o.org_id AND t.visitor_id = landing_decision.visitor_id AND t.lead_id IS NOT NULL
   ORDER BY t.occurred_at DESC, t.touchpoint_id DESC LIMIT 1;
  INSERT INTO @extschema@.touchpoint (org_id, lead_id, visitor_id, channel_id, campaign_id, kind, occurred_at, attrs)
  VALUES (o.org_id, v_lead, landing_decision.visitor_id, ch, cp, 'impression', ts,
          jsonb_build_object('decision', variant, 'score', score, 'model_id', fm.model_id))
  RETURNING touchpoint.touchpoint_id INTO touchpoint_id;
END
$$;
COMMENT ON FUNCTION @extschema@.landing_decision(bigint, text, jsonb) IS 'which landing page variant to show a visitor now: scores the context (channel, campaign, subject, city_tier, child_age, grade, the page''s variant) and the visitor''s anonymous touches with the org''s active form-time model, picks the variant of landing_variant with the highest min_score the score reaches ("standard" without rows or a model), and records the exposure as an impression touch of the visitor (attrs: decision, score, model_id); returns the variant, the score (NULL without a form model) and the touch';
