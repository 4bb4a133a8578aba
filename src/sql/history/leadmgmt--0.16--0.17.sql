-- leadmgmt 0.16 -> 0.17, built from src/sql/parts: routing fn:release_lead fn:assign_lead fn:assign_pending fn:lead_tiers fn:record_event fn:ingest_lead fn:schema_steps fn:schema_ddl fn:train_conversion_model fn:distribute fn:install

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION leadmgmt UPDATE TO '0.17'" to load this file. \quit


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

CREATE OR REPLACE FUNCTION @extschema@.release_lead(org_id bigint, lead_id bigint, rep_id bigint DEFAULT NULL, at timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  t timestamptz;
  o record;
  l record;
BEGIN
  IF release_lead.org_id IS NULL OR release_lead.lead_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'org_id and lead_id must not be null';
  END IF;
  IF release_lead.rep_id IS NOT NULL THEN
    PERFORM @extschema@.check_rep_access(release_lead.org_id, release_lead.rep_id);
  END IF;
  SELECT x.pool, x.owner_rep_id, x.status INTO l
    FROM @extschema@.lead x WHERE x.org_id = release_lead.org_id AND x.lead_id = release_lead.lead_id FOR UPDATE;
  -- the caller's right first (since 0.14): whether the lead exists, is
  -- pooled and whose it is, only a caller who may act for its owner learns
  PERFORM @extschema@.check_rep_access(release_lead.org_id, l.owner_rep_id);
  IF l.pool IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '23503', MESSAGE = format('unknown lead %s in org %s', release_lead.lead_id, release_lead.org_id);
  END IF;
  -- the server's clock for a sales rep (since 0.15)
  o := @extschema@.ingest_org(release_lead.org_id);
  t := @extschema@.rule_time(o, release_lead.at, 'at');
  IF l.pool = 'public' THEN
    RAISE EXCEPTION USING ERRCODE = '55000', MESSAGE = format('lead %s is already in the public pool', release_lead.lead_id);
  END IF;
  IF release_lead.rep_id IS NOT NULL AND l.owner_rep_id <> release_lead.rep_id THEN
    RAISE EXCEPTION USING ERRCODE = '55000',
      MESSAGE = format('lead %s is owned by rep %s, not rep %s', release_lead.lead_id, l.owner_rep_id, release_lead.rep_id);
  END IF;
  PERFORM @extschema@.unassign_locked(o, release_lead.lead_id, l.owner_rep_id, l.status, t, 'release');
  RETURN l.owner_rep_id;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.release_lead(bigint, bigint, bigint, timestamptz) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.release_lead(bigint, bigint, bigint, timestamptz) IS 'puts an owned lead back in the public pool and closes its assignment with reason release; a sales role releases only its own leads; returns the previous owner';

CREATE OR REPLACE FUNCTION @extschema@.assign_lead(org_id bigint, lead_id bigint, team_id bigint DEFAULT NULL, at timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  o record := @extschema@.ingest_org(assign_lead.org_id);
  t timestamptz;
  l record;
  r record;
BEGIN
  PERFORM @extschema@.check_org_engine(o.org_id);
  IF assign_lead.lead_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'lead_id must not be null';
  END IF;
  -- the server's clock unless a trusted caller passes one (since 0.15)
  t := @extschema@.rule_time(o, assign_lead.at, 'at');
  -- the lead first, then the org lock: under the org lock nobody waits for a
  -- lead; what does not depend on the counters is read before the lock
  SELECT x.pool, x.owner_rep_id, coalesce(x.tier, 'D') AS tier, x.routing_arm INTO l
    FROM @extschema@.lead x WHERE x.org_id = o.org_id AND x.lead_id = assign_lead.lead_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = '23503', MESSAGE = format('unknown lead %s in org %s', assign_lead.lead_id, o.org_id);
  END IF;
  IF l.pool = 'private' THEN
    RETURN l.owner_rep_id;  -- already owned: assigning again changes nothing
  END IF;
  r := @extschema@.rep_roster(o, assign_lead.team_id, t);
  -- a holdout lead, or routing by expected value, may route by another tier (since 0.17)
  IF l.routing_arm = 'holdout' OR o.routing = 'expected_value' THEN
    l.tier := @extschema@.route_letters(o, ARRAY[assign_lead.lead_id], l.tier, t);
  END IF;
  RETURN (@extschema@.assign_locked(o, ARRAY[assign_lead.lead_id], l.tier,
            ARRAY[@extschema@.cooling_rep(o, assign_lead.lead_id, t)], t,
            r.strategy, r.rep_ids, r.weights, r.daily_caps, r.holding_caps, r.skills))[1];
END
$$;
COMMENT ON FUNCTION @extschema@.assign_lead(bigint, bigint, bigint, timestamptz) IS 'assigns a public-pool lead to a rep by the org''s (or the team''s) strategy and returns the rep; NULL, leaving the lead in the public pool, when no rep is eligible; a lead already owned keeps its owner, who is returned';

CREATE OR REPLACE FUNCTION @extschema@.assign_pending(org_id bigint, max_leads integer DEFAULT 1000, team_id bigint DEFAULT NULL,
                                          at timestamptz DEFAULT NULL)
RETURNS TABLE (lead_id bigint, rep_id bigint)
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  o record := @extschema@.ingest_org(assign_pending.org_id);
  t timestamptz;
  r record;
  ids bigint[];
  tiers text;
  excluded bigint[];
  reps bigint[];
BEGIN
  PERFORM @extschema@.check_org_engine(o.org_id);
  IF max_leads IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'max_leads must not be null';
  END IF;
  IF max_leads < 1 OR max_leads > 100000 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('max_leads must be between 1 and 100000, not %s', max_leads);
  END IF;
  -- the server's clock unless a trusted caller passes one (since 0.15)
  t := @extschema@.rule_time(o, assign_pending.at, 'at');
  r := @extschema@.rep_roster(o, assign_pending.team_id, t);
  -- best first: tier A before D, higher score, then older; leads another
  -- transaction holds are skipped, not waited for
  WITH c AS MATERIALIZED (
    SELECT l.lead_id, coalesce(l.tier, 'D') AS tier,
           row_number() OVER (ORDER BY l.tier, l.score DESC NULLS LAST, l.created_at, l.lead_id) AS n
      FROM (SELECT x.lead_id, x.tier, x.score, x.created_at FROM @extschema@.lead x
             WHERE x.org_id = o.org_id AND x.pool = 'public' AND x.status NOT IN ('won', 'lost')
             ORDER BY x.tier, x.score DESC NULLS LAST, x.created_at, x.lead_id
             LIMIT max_leads FOR UPDATE SKIP LOCKED) l
  )
  SELECT array_agg(c.lead_id ORDER BY c.n), string_agg(c.tier, '' ORDER BY c.n)
    INTO ids, tiers FROM c;
  IF ids IS NULL THEN
    RETURN;
  END IF;
  -- holdout leads and routing by expected value may route by other tiers (since 0.17)
  IF o.holdout_share > 0 OR o.routing = 'expected_value' THEN
    tiers := @extschema@.route_letters(o, ids, tiers, t);
  END IF;
  -- each lead's last owner while its cool-down runs (what cooling_rep gives
  -- for one lead), in one query: no function reading a table per row, which
  -- Citus cannot run inside a query on a shard (since 0.11)
  SELECT array_agg(k.rep_id ORDER BY u.n) INTO excluded
    FROM unnest(ids) WITH ORDINALITY AS u(lead_id, n)
    LEFT JOIN (SELECT DISTINCT ON (a.lead_id) a.lead_id, a.rep_id, a.released_at
                 FROM @extschema@.assignment a
                WHERE a.org_id = o.org_id AND a.lead_id = ANY (ids)
                ORDER BY a.lead_id, a.assigned_at DESC, a.assignment_id DESC) k
      ON k.lead_id = u.lead_id AND k.released_at > t - o.reclaim_cooldown;
  reps := @extschema@.assign_locked(o, ids, tiers, excluded, t,
            r.strategy, r.rep_ids, r.weights, r.daily_caps, r.holding_caps, r.skills);
  RETURN QUERY SELECT x.lead_id, x.rep_id FROM unnest(ids, reps) WITH ORDINALITY AS x(lead_id, rep_id, n)
                WHERE x.rep_id IS NOT NULL ORDER BY x.n;
END
$$;
COMMENT ON FUNCTION @extschema@.assign_pending(bigint, integer, bigint, timestamptz) IS 'assigns up to max_leads open (not won or lost) public-pool leads in one call, best first (tier A to D, higher score, older), skipping leads locked by others; returns each lead assigned and its rep; leads no rep can take stay in the pool';

CREATE OR REPLACE FUNCTION @extschema@.lead_tiers(org_id bigint, only_lead bigint DEFAULT NULL)
RETURNS TABLE (lead_id bigint, current_tier char(1), stage char(1), score float8, tier char(1), reason text)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
  -- PL/pgSQL plans with the actual arguments, so one lead is found by index
  RETURN QUERY
  WITH pol AS MATERIALIZED (
    SELECT p.tier, p.min_score FROM @extschema@.effective_tier_policy p
     WHERE p.org_id = lead_tiers.org_id AND p.min_score IS NOT NULL
  ), ld AS (
    -- the contact model's score, else (since 0.17) the form-time score
    SELECT l.lead_id, l.tier, coalesce(l.score, l.form_score) AS score FROM @extschema@.lead l
     WHERE l.org_id = lead_tiers.org_id AND (only_lead IS NULL OR l.lead_id = only_lead)
  ), ev AS (
    SELECT e.lead_id,
           bool_or(e.event_type = 'trial_booked' AND e.attrs @> '{"self_booked": true}') AS self_booked,
           bool_or(e.event_type = 'wechat_followed') AS followed,
           bool_or(e.event_type = 'sms_verified') AS verified
      FROM @extschema@.lead_event e
     WHERE e.org_id = lead_tiers.org_id AND (only_lead IS NULL OR e.lead_id = only_lead)
       AND e.event_type IN ('trial_booked', 'wechat_followed', 'sms_verified')
     GROUP BY e.lead_id
  ), tr AS (
    SELECT DISTINCT t.lead_id FROM @extschema@.trial_lesson t
     WHERE t.org_id = lead_tiers.org_id AND (only_lead IS NULL OR t.lead_id = only_lead) AND t.self_booked
  ), st AS (
    SELECT ld.lead_id, ld.tier AS current_tier, ld.score,
           CASE WHEN tr.lead_id IS NOT NULL OR ev.self_booked THEN 'A' WHEN ev.followed THEN 'B'
                WHEN ev.verified THEN 'C' ELSE 'D' END::char(1) AS stage
      FROM ld LEFT JOIN ev ON ev.lead_id = ld.lead_id LEFT JOIN tr ON tr.lead_id = ld.lead_id
  )
  SELECT st.lead_id, st.current_tier, st.stage, st.score,
         least(st.stage, coalesce(best.tier, st.stage))::char(1),
         CASE WHEN best.tier < st.stage
              THEN format('score %s >= %s for %s', round(st.score::numeric, 2), round(best.min_score::numeric, 2), best.tier)
              ELSE 'stage ' || st.stage END
    FROM st
    LEFT JOIN LATERAL (SELECT pol.tier, pol.min_score FROM pol WHERE st.score >= pol.min_score
                        ORDER BY pol.tier LIMIT 1) best ON true;
END
$$;
COMMENT ON FUNCTION @extschema@.lead_tiers(bigint, bigint) IS 'behaviour stage (D form only, C SMS verified, B WeChat followed, A self-booked trial), current and due tier of the leads of an org (or of one lead): the better of the stage and, when the lead has a score, the tier its probability earns under the tier policy';

CREATE OR REPLACE FUNCTION @extschema@.record_event(org_id bigint, lead_id bigint, event_type text,
                                         occurred_at timestamptz, attrs jsonb DEFAULT '{}',
                                         channel text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  o record := @extschema@.ingest_org(record_event.org_id);
  a jsonb := coalesce(record_event.attrs, '{}');
  ch bigint;
  new_id bigint;
BEGIN
  PERFORM @extschema@.ingest_check_time(o, record_event.occurred_at, 'occurred_at');
  PERFORM @extschema@.check_one_of(record_event.event_type, @extschema@.event_types(), 'event type', 'types');
  PERFORM @extschema@.ingest_check_attrs(a);
  PERFORM @extschema@.lead_of(o, record_event.lead_id);
  IF record_event.channel IS NOT NULL THEN
    ch := @extschema@.channel_id_of(o, record_event.channel);
  END IF;
  INSERT INTO @extschema@.lead_event (org_id, lead_id, event_type, occurred_at, channel_id, attrs)
  VALUES (o.org_id, record_event.lead_id, record_event.event_type, record_event.occurred_at, ch, a)
  RETURNING event_id INTO new_id;
  -- an event that moves the behaviour stage re-tiers the lead at once, and
  -- re-routes it when its handler changes (since 0.17)
  IF record_event.event_type IN ('sms_verified', 'wechat_followed', 'trial_booked') THEN
    PERFORM @extschema@.retier_lead(o, record_event.lead_id, 'event ' || record_event.event_type);
  END IF;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION @extschema@.record_event(bigint, bigint, text, timestamptz, jsonb, text) IS 'records a funnel event of a lead (sms_verified, trial_booked, paid, ...); returns the event id';

CREATE OR REPLACE FUNCTION @extschema@.ingest_lead(org_id bigint, phone text, channel text, campaign text,
                                        occurred_at timestamptz, attrs jsonb DEFAULT '{}')
RETURNS TABLE (lead_id bigint, is_new boolean)
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  o record := @extschema@.ingest_org(ingest_lead.org_id);
  a jsonb := coalesce(ingest_lead.attrs, '{}');
  ts timestamptz := ingest_lead.occurred_at;
  e164 text;
  ch bigint;
  cp bigint;
  v_name text; v_age smallint; v_grade smallint; v_subject text; v_city text; v_tier smallint; v_visitor text;
  v_lead bigint;
  v_new boolean;
  v_now timestamptz := now();
  fm_id bigint;
  fm_kind text;
  fm_coef float8[];
  fm_enc jsonb;
  fm_nb jsonb;
  v_prior bigint := 0;
  v_local timestamp;
  v_form_vals jsonb;
  v_form_score float8;
  v_ltier text;
BEGIN
  PERFORM @extschema@.ingest_check_time(o, ts, 'occurred_at');
  PERFORM @extschema@.ingest_check_attrs(a);
  IF length(ingest_lead.phone) > 64 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'phone is longer than 64 characters';
  END IF;
  v_name    := @extschema@.ingest_attr(a, 'name', 'string');
  v_age     := @extschema@.ingest_attr(a, 'child_age', 'int', 1, 18);
  v_grade   := @extschema@.ingest_attr(a, 'grade', 'int', 0, 12);
  v_subject := @extschema@.ingest_attr(a, 'subject', 'string', NULL, 100);
  v_city    := @extschema@.ingest_attr(a, 'city', 'string', NULL, 100);
  v_tier    := @extschema@.ingest_attr(a, 'city_tier', 'int', 1, 5);
  v_visitor := @extschema@.ingest_attr(a, 'visitor_id', 'string');
  a := a - '{name,child_age,grade,subject,city,city_tier,visitor_id}'::text[];

  ch := @extschema@.channel_id_of(o, ingest_lead.channel);
  cp := @extschema@.campaign_id_of(o, ch, ingest_lead.campaign);
  e164 := @extschema@.normalize_phone(ingest_lead.phone);

  IF e164 IS NOT NULL THEN
    -- 撞单 protection: one lead per phone.  The phone is in lead_contact
    -- (since 0.12), so the lead is found there: one ingest of a phone at a
    -- time in an org (on a cluster, on the node that holds the org), and the
    -- unique key of lead_contact behind it.
    PERFORM pg_advisory_xact_lock(hashtextextended(e164, o.org_id));
    SELECT c.lead_id INTO v_lead FROM @extschema@.lead_contact c WHERE c.org_id = o.org_id AND c.phone = e164;
  END IF;
  IF v_lead IS NULL THEN
    -- the form-time score, where the org has an active form model (since
    -- 0.16): from what the form brings and the visitor's anonymous touches
    -- before it, which become the lead's below (lead_form_vals(), as the
    -- view lead_form_features has them, so score_leads gives the same score)
    -- (typed variables, the prior touches apart: the score is then a simple
    -- expression, a fifth of the time of one the executor plans)
    SELECT cm.model_id, cm.kind, cm.coef, cm.encoding, cm.nb_tables INTO fm_id, fm_kind, fm_coef, fm_enc, fm_nb
      FROM @extschema@.conversion_model cm WHERE cm.org_id = o.org_id AND cm.active AND cm.stage = 'form';
    IF fm_id IS NOT NULL THEN
      IF v_visitor IS NOT NULL THEN
        SELECT count(*) INTO v_prior FROM @extschema@.touchpoint t
         WHERE t.org_id = o.org_id AND t.visitor_id = v_visitor AND t.lead_id IS NULL AND t.occurred_at < ts;
      END IF;
      -- (the codes as channel_id_of and campaign_id_of store them; each
      -- argument a variable, so that the planner inlines both functions: a
      -- SQL function it does not inline is planned again in every
      -- transaction, 0.15 ms of an ingest_lead call)
      v_local := ts AT TIME ZONE o.timezone;
      v_form_vals := @extschema@.lead_form_vals(lower(btrim(ingest_lead.channel)), nullif(btrim(ingest_lead.campaign), ''),
                                                v_subject, v_tier, v_age, v_grade, v_local, a ->> 'variant', v_prior);
      v_form_score := @extschema@.model_predict(fm_kind, fm_coef, fm_enc, fm_nb, v_form_vals);
      -- tiered at once (since 0.17): stage D, or the better tier the form
      -- score earns under the tier policy, as lead_tiers gives it (the
      -- policy as effective_tier_policy has it, without its join to org)
      SELECT d.tier INTO v_ltier
        FROM @extschema@.tier_defaults() d
        LEFT JOIN @extschema@.tier_policy p ON p.org_id = o.org_id AND p.tier = d.tier
       WHERE d.tier < 'D' AND v_form_score >= CASE WHEN p.org_id IS NULL THEN d.min_score ELSE p.min_score END
       ORDER BY d.tier LIMIT 1;
    END IF;
    -- a new lead; an invalid or missing phone is kept, flagged by
    -- phone_valid = false, and never de-duplicated
    INSERT INTO @extschema@.lead (org_id, phone_masked, phone_valid, name, child_age, grade, subject, city, city_tier,
                                  visitor_id, first_channel_id, first_campaign_id, latest_channel_id, latest_campaign_id,
                                  created_at, last_touch_at, attrs, form_score, form_scored_at, form_score_model_id, tier)
    VALUES (o.org_id, @extschema@.mask_phone(coalesce(e164, ingest_lead.phone)), e164 IS NOT NULL,
            v_name, v_age, v_grade, v_subject, v_city, v_tier, v_visitor, ch, cp, ch, cp, ts, ts, a,
            v_form_score, CASE WHEN fm_id IS NOT NULL THEN v_now END, fm_id,
            CASE WHEN fm_id IS NOT NULL THEN coalesce(v_ltier, 'D') END)
    RETURNING lead_id INTO v_lead;
    -- the routing holdout's arm (since 0.17), drawn from the new lead's id
    IF o.holdout_share > 0 THEN
      UPDATE @extschema@.lead l SET routing_arm = CASE WHEN @extschema@.holdout_draw(o.holdout_seed, v_lead) < o.holdout_share
                                          THEN 'holdout' ELSE 'tiered' END
       WHERE l.org_id = o.org_id AND l.lead_id = v_lead;
    END IF;
    IF ingest_lead.phone IS NOT NULL THEN
      INSERT INTO @extschema@.lead_contact (org_id, lead_id, phone, phone_raw)
      VALUES (o.org_id, v_lead, e164, ingest_lead.phone);
    END IF;
    v_new := true;
  ELSE
    -- a repeat fills blanks and moves the latest touch, but never changes
    -- the owner, nor (since 0.14) moves the first touch earlier: late data
    -- does that through backfill_first_touch()
    UPDATE @extschema@.lead l SET
      name       = coalesce(l.name, v_name),
      child_age  = coalesce(l.child_age, v_age),
      grade      = coalesce(l.grade, v_grade),
      subject    = coalesce(l.subject, v_subject),
      city       = coalesce(l.city, v_city),
      city_tier  = coalesce(l.city_tier, v_tier),
      visitor_id = coalesce(l.visitor_id, v_visitor),
      attrs      = a || l.attrs,
      latest_channel_id  = CASE WHEN ts >= l.last_touch_at THEN ch ELSE l.latest_channel_id END,
      latest_campaign_id = CASE WHEN ts >= l.last_touch_at THEN cp ELSE l.latest_campaign_id END,
      last_touch_at      = greatest(l.last_touch_at, ts),
      updated_at = v_now
     WHERE l.org_id = o.org_id AND l.lead_id = v_lead;
    v_new := false;
  END IF;

  INSERT INTO @extschema@.touchpoint (org_id, lead_id, visitor_id, channel_id, campaign_id, kind, occurred_at)
  VALUES (o.org_id, v_lead, v_visitor, ch, cp, 'form', ts);
  INSERT INTO @extschema@.lead_event (org_id, lead_id, event_type, occurred_at, channel_id, attrs)
  VALUES (o.org_id, v_lead, 'form_submitted', ts, ch, a);
  -- the visitor's anonymous touches belong to the lead from now on, in the
  -- funnel, attribution and features (since 0.16; they were kept by
  -- visitor_id only, and no view read them)
  IF v_visitor IS NOT NULL THEN
    UPDATE @extschema@.touchpoint t SET lead_id = v_lead
     WHERE t.org_id = o.org_id AND t.visitor_id = v_visitor AND t.lead_id IS NULL;
  END IF;

  lead_id := v_lead;
  is_new := v_new;
  RETURN NEXT;
END
$$;
COMMENT ON FUNCTION @extschema@.ingest_lead(bigint, text, text, text, timestamptz, jsonb) IS 'ingests a landing-page submission: one lead per valid phone per org (a repeat adds a touchpoint and a form_submitted event but never a second lead nor a new owner); the anonymous touches of the form''s visitor (attrs.visitor_id) become the lead''s, and a new lead is scored by the org''s active form-time model into form_score (since 0.16); returns the lead and whether it is new';

CREATE OR REPLACE FUNCTION @extschema@.schema_steps() RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT '{0.10,0.11,0.12,0.14,0.15,0.16,0.17}'::text[] $$;
COMMENT ON FUNCTION @extschema@.schema_steps() IS 'the versions of leadmgmt''s schema, oldest first: 0.10 is the schema of the versions whose tables were members of the extension (0.1-0.10), then every version that changed it; the last is the one this code needs';

CREATE OR REPLACE FUNCTION @extschema@.schema_ddl(step text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $schema_ddl$
SELECT CASE step
WHEN 'full' THEN $full$
-- ===========================================================================
-- The data model: every table the capabilities share, each defined whole
-- here (its columns, constraints, indexes and comments), in the order their
-- keys need.  Tables that only one capability uses are defined whole in that
-- capability's schema file (tiers, access, assignment).  Row-level security
-- is the access file's.  These files are the DDL of install(), not of
-- CREATE EXTENSION: the tables are ordinary tables (since 0.11).
--
-- Every table carries org_id (the tenant, the Citus distribution column), and
-- org_id is part of every primary key, unique constraint and foreign key.
-- ===========================================================================

CREATE TABLE @extschema@.org (
  org_id               bigint GENERATED ALWAYS AS IDENTITY,
  name                 text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  timezone             text NOT NULL DEFAULT 'Asia/Shanghai',
  currency             char(3) NOT NULL DEFAULT 'CNY' CHECK (currency ~ '^[A-Z]{3}$'),
  funnel_window        interval NOT NULL DEFAULT '14 days' CHECK (funnel_window > interval '0'),
  future_tolerance     interval NOT NULL DEFAULT '1 hour' CHECK (future_tolerance >= interval '0'),
  auto_create_channels boolean NOT NULL DEFAULT false,
  renewal_grace        interval NOT NULL DEFAULT '30 days' CHECK (renewal_grace >= interval '0'),
  created_at           timestamptz NOT NULL DEFAULT now(),
  report_as_of         timestamptz,
  at_risk_horizon      interval NOT NULL DEFAULT '14 days' CHECK (at_risk_horizon > interval '0'),
  at_risk_attendance   numeric(4,3) NOT NULL DEFAULT 0.75 CHECK (at_risk_attendance BETWEEN 0 AND 1),
  conversion_days      integer NOT NULL DEFAULT 30 CHECK (conversion_days BETWEEN 1 AND 3650),
  attribution_model    text NOT NULL DEFAULT 'last_non_direct'
                       CHECK (attribution_model IN ('first_touch', 'last_touch', 'last_non_direct', 'linear', 'position_based', 'time_decay')),
  attribution_lookback_days integer NOT NULL DEFAULT 30 CHECK (attribution_lookback_days BETWEEN 1 AND 3650),
  ltv_horizon          interval NOT NULL DEFAULT '365 days' CHECK (ltv_horizon > interval '0'),
  assign_strategy      text NOT NULL DEFAULT 'round_robin' CHECK (assign_strategy IN ('round_robin', 'least_busy')),
  recycle_no_deal_after interval NOT NULL DEFAULT '30 days' CHECK (recycle_no_deal_after > interval '0'),
  recycle_warning      interval NOT NULL DEFAULT '1 day' CHECK (recycle_warning >= interval '0'),
  reclaim_cooldown     interval NOT NULL DEFAULT '7 days' CHECK (reclaim_cooldown >= interval '0'),
  PRIMARY KEY (org_id)
);
COMMENT ON TABLE @extschema@.org IS 'a tenant: one school or education brand, with its settings';
COMMENT ON COLUMN @extschema@.org.org_id IS 'tenant id; every other table carries it';
COMMENT ON COLUMN @extschema@.org.name IS 'display name of the school or brand';
COMMENT ON COLUMN @extschema@.org.timezone IS 'IANA time zone of the org, used for days, weeks and shifts';
COMMENT ON COLUMN @extschema@.org.currency IS 'ISO 4217 currency of every money column of the org';
COMMENT ON COLUMN @extschema@.org.funnel_window IS 'default conversion window of funnel reports';
COMMENT ON COLUMN @extschema@.org.future_tolerance IS 'how far in the future an ingested timestamp may lie (clock skew) before it is rejected';
COMMENT ON COLUMN @extschema@.org.auto_create_channels IS 'when true, ingesting an unknown channel code creates it (kind paid); when false it is an error';
COMMENT ON COLUMN @extschema@.org.renewal_grace IS 'grace period after a term ends within which a renewal still counts';
COMMENT ON COLUMN @extschema@.org.created_at IS 'when the org was created';
COMMENT ON COLUMN @extschema@.org.report_as_of IS 'as-of time of the service reports (churn, renewal, at-risk); NULL means now';
COMMENT ON COLUMN @extschema@.org.at_risk_horizon IS 'at_risk_students lists terms that end within this long';
COMMENT ON COLUMN @extschema@.org.at_risk_attendance IS 'attendance rate below which a student is at high risk';
COMMENT ON COLUMN @extschema@.org.conversion_days IS 'a lead counts as converted for the conversion model when it paid within this many days of creation';
COMMENT ON COLUMN @extschema@.org.attribution_model IS 'model that credits conversions and revenue to channels in channel_roi';
COMMENT ON COLUMN @extschema@.org.attribution_lookback_days IS 'touches this many days or fewer before a conversion count for it';
COMMENT ON COLUMN @extschema@.org.ltv_horizon IS 'how long after the first payment a student''s net revenue counts towards LTV';
COMMENT ON COLUMN @extschema@.org.assign_strategy IS 'how assign_lead and assign_pending pick a rep: round_robin (smooth weighted round-robin) or least_busy (fewest open leads per weight)';
COMMENT ON COLUMN @extschema@.org.recycle_no_deal_after IS 'an owned lead without a deal (status won) for this long goes back to the public pool (回收)';
COMMENT ON COLUMN @extschema@.org.recycle_warning IS 'recycle_warnings lists leads due to be recycled within this time';
COMMENT ON COLUMN @extschema@.org.reclaim_cooldown IS 'a rep who released a lead, or lost it to recycling, may not claim or be assigned it again for this long';
CREATE TRIGGER org_check_timezone BEFORE INSERT OR UPDATE OF timezone ON @extschema@.org
  FOR EACH ROW EXECUTE FUNCTION @extschema@.org_check_timezone();

CREATE TABLE @extschema@.channel (
  org_id      bigint NOT NULL REFERENCES @extschema@.org (org_id),
  channel_id  bigint GENERATED ALWAYS AS IDENTITY,
  code        text NOT NULL CHECK (code ~ '^[a-z][a-z0-9_]{0,62}$'),
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  kind        text NOT NULL CHECK (kind IN ('paid', 'organic', 'referral', 'direct', 'offline')),
  active      boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, channel_id),
  UNIQUE (org_id, code)
);
COMMENT ON TABLE @extschema@.channel IS 'an acquisition channel: ad platform, agency, referral, offline or direct';
COMMENT ON COLUMN @extschema@.channel.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.channel.channel_id IS 'channel id';
COMMENT ON COLUMN @extschema@.channel.code IS 'stable lower-case code used by ingestion, such as douyin or wechat_moments';
COMMENT ON COLUMN @extschema@.channel.name IS 'display name, such as 抖音 Douyin';
COMMENT ON COLUMN @extschema@.channel.kind IS 'paid, organic, referral, direct or offline';
COMMENT ON COLUMN @extschema@.channel.active IS 'false once the channel is no longer bought or used';
COMMENT ON COLUMN @extschema@.channel.created_at IS 'when the channel was created';

CREATE TABLE @extschema@.campaign (
  org_id       bigint NOT NULL,
  campaign_id  bigint GENERATED ALWAYS AS IDENTITY,
  channel_id   bigint NOT NULL,
  code         text NOT NULL CHECK (length(code) BETWEEN 1 AND 200),
  name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  started_on   date,
  ended_on     date,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, campaign_id),
  UNIQUE (org_id, channel_id, code),
  FOREIGN KEY (org_id, channel_id) REFERENCES @extschema@.channel (org_id, channel_id),
  CHECK (ended_on >= started_on)
);
COMMENT ON TABLE @extschema@.campaign IS 'a campaign bought on one channel; created automatically on first ingestion';
COMMENT ON COLUMN @extschema@.campaign.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.campaign.campaign_id IS 'campaign id';
COMMENT ON COLUMN @extschema@.campaign.channel_id IS 'channel the campaign runs on';
COMMENT ON COLUMN @extschema@.campaign.code IS 'campaign code as the platform exports it';
COMMENT ON COLUMN @extschema@.campaign.name IS 'display name';
COMMENT ON COLUMN @extschema@.campaign.started_on IS 'first day of the campaign, if known';
COMMENT ON COLUMN @extschema@.campaign.ended_on IS 'last day of the campaign, if known';
COMMENT ON COLUMN @extschema@.campaign.created_at IS 'when the campaign was created';

CREATE TABLE @extschema@.ad_spend (
  org_id       bigint NOT NULL,
  ad_spend_id  bigint GENERATED ALWAYS AS IDENTITY,
  spend_date   date NOT NULL,
  channel_id   bigint NOT NULL,
  campaign_id  bigint,
  spend        numeric(14,2) NOT NULL CHECK (spend >= 0),
  impressions  bigint NOT NULL DEFAULT 0 CHECK (impressions >= 0),
  clicks       bigint NOT NULL DEFAULT 0 CHECK (clicks >= 0),
  revision     integer NOT NULL DEFAULT 1 CHECK (revision >= 1),
  loaded_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, ad_spend_id),
  FOREIGN KEY (org_id, channel_id) REFERENCES @extschema@.channel (org_id, channel_id),
  FOREIGN KEY (org_id, campaign_id) REFERENCES @extschema@.campaign (org_id, campaign_id)
);
-- one row per day x channel x campaign (no campaign counts as campaign 0)
CREATE UNIQUE INDEX ad_spend_day_key ON @extschema@.ad_spend
  (org_id, spend_date, channel_id, (coalesce(campaign_id, 0)));
COMMENT ON TABLE @extschema@.ad_spend IS 'daily ad spend per channel and campaign as the platforms export it; loaded by record_spend as an idempotent upsert';
COMMENT ON COLUMN @extschema@.ad_spend.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.ad_spend.ad_spend_id IS 'row id';
COMMENT ON COLUMN @extschema@.ad_spend.spend_date IS 'day of the spend, in the org time zone';
COMMENT ON COLUMN @extschema@.ad_spend.channel_id IS 'channel';
COMMENT ON COLUMN @extschema@.ad_spend.campaign_id IS 'campaign, or NULL for spend not tied to one';
COMMENT ON COLUMN @extschema@.ad_spend.spend IS 'money spent that day, in the org currency';
COMMENT ON COLUMN @extschema@.ad_spend.impressions IS 'ad impressions that day';
COMMENT ON COLUMN @extschema@.ad_spend.clicks IS 'ad clicks that day';
COMMENT ON COLUMN @extschema@.ad_spend.revision IS 'how many times the day was loaded; platforms revise recent days';
COMMENT ON COLUMN @extschema@.ad_spend.loaded_at IS 'when the row was last loaded';
-- ---------------------------------------------------------------------------
-- Sales organisation: team, sales_rep, rep_shift
-- ---------------------------------------------------------------------------

CREATE TABLE @extschema@.team (
  org_id      bigint NOT NULL REFERENCES @extschema@.org (org_id),
  team_id     bigint GENERATED ALWAYS AS IDENTITY,
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  created_at  timestamptz NOT NULL DEFAULT now(),
  assign_strategy text CHECK (assign_strategy IN ('round_robin', 'least_busy')),
  PRIMARY KEY (org_id, team_id),
  UNIQUE (org_id, name)
);
COMMENT ON TABLE @extschema@.team IS 'a sales team';
COMMENT ON COLUMN @extschema@.team.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.team.team_id IS 'team id';
COMMENT ON COLUMN @extschema@.team.name IS 'team name';
COMMENT ON COLUMN @extschema@.team.created_at IS 'when the team was created';
COMMENT ON COLUMN @extschema@.team.assign_strategy IS 'strategy when leads are assigned to this team; NULL: the org''s';

CREATE TABLE @extschema@.sales_rep (
  org_id       bigint NOT NULL,
  rep_id       bigint GENERATED ALWAYS AS IDENTITY,
  team_id      bigint,
  name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  role         text NOT NULL CHECK (role IN ('ai_bot', 'tmk', 'sales', 'top_sales')),
  active       boolean NOT NULL DEFAULT true,
  weight       integer NOT NULL DEFAULT 1 CHECK (weight BETWEEN 1 AND 1000),
  daily_cap    integer NOT NULL DEFAULT 50 CHECK (daily_cap > 0),
  holding_cap  integer NOT NULL DEFAULT 300 CHECK (holding_cap > 0),
  tiers        text[] NOT NULL DEFAULT '{A,B,C,D}'
               CHECK (cardinality(tiers) > 0 AND tiers <@ '{A,B,C,D}'::text[]),
  created_at   timestamptz NOT NULL DEFAULT now(),
  daily_claim_cap integer NOT NULL DEFAULT 20 CHECK (daily_claim_cap >= 0),
  PRIMARY KEY (org_id, rep_id),
  FOREIGN KEY (org_id, team_id) REFERENCES @extschema@.team (org_id, team_id)
);
COMMENT ON TABLE @extschema@.sales_rep IS 'a sales rep, telemarketer or AI bot that leads are assigned to';
COMMENT ON COLUMN @extschema@.sales_rep.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.sales_rep.rep_id IS 'rep id';
COMMENT ON COLUMN @extschema@.sales_rep.team_id IS 'team of the rep';
COMMENT ON COLUMN @extschema@.sales_rep.name IS 'display name';
COMMENT ON COLUMN @extschema@.sales_rep.role IS 'ai_bot, tmk (telemarketing screening), sales or top_sales; decides which lead tiers the rep handles';
COMMENT ON COLUMN @extschema@.sales_rep.active IS 'false when the rep no longer takes leads';
COMMENT ON COLUMN @extschema@.sales_rep.weight IS 'share of new leads relative to other reps (1 to 1000)';
COMMENT ON COLUMN @extschema@.sales_rep.daily_cap IS 'most new leads per day';
COMMENT ON COLUMN @extschema@.sales_rep.holding_cap IS 'most leads held in the private pool at once';
COMMENT ON COLUMN @extschema@.sales_rep.tiers IS 'lead tiers (A to D) the rep takes';
COMMENT ON COLUMN @extschema@.sales_rep.created_at IS 'when the rep was created';
COMMENT ON COLUMN @extschema@.sales_rep.daily_claim_cap IS 'most leads the rep may claim from the public pool per day';

CREATE TABLE @extschema@.rep_shift (
  org_id     bigint NOT NULL,
  shift_id   bigint GENERATED ALWAYS AS IDENTITY,
  rep_id     bigint NOT NULL,
  weekday    smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
  starts_at  time NOT NULL,
  ends_at    time NOT NULL,
  PRIMARY KEY (org_id, shift_id),
  FOREIGN KEY (org_id, rep_id) REFERENCES @extschema@.sales_rep (org_id, rep_id) ON DELETE CASCADE,
  CONSTRAINT rep_shift_ends_after_start CHECK (ends_at > starts_at)
);
CREATE INDEX rep_shift_rep_idx ON @extschema@.rep_shift (org_id, rep_id, weekday);
COMMENT ON TABLE @extschema@.rep_shift IS 'weekly working hours of a rep in the org time zone; a night shift is two rows';
COMMENT ON COLUMN @extschema@.rep_shift.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.rep_shift.shift_id IS 'shift id';
COMMENT ON COLUMN @extschema@.rep_shift.rep_id IS 'rep';
COMMENT ON COLUMN @extschema@.rep_shift.weekday IS 'ISO weekday, 1 = Monday to 7 = Sunday';
COMMENT ON COLUMN @extschema@.rep_shift.starts_at IS 'local start time';
COMMENT ON COLUMN @extschema@.rep_shift.ends_at IS 'local end time, after the start';
-- ---------------------------------------------------------------------------
-- Leads: lead, touchpoint, lead_event, tag, lead_tag
-- ---------------------------------------------------------------------------

-- the registry of trained conversion models (docs/reference/model.md), which
-- a lead's score refers to
CREATE TABLE @extschema@.conversion_model (
  org_id            bigint NOT NULL REFERENCES @extschema@.org (org_id),
  model_id          bigint GENERATED ALWAYS AS IDENTITY,
  name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  version           integer NOT NULL CHECK (version >= 1),
  kind              text NOT NULL CHECK (kind IN ('logreg', 'naive_bayes')),
  active            boolean NOT NULL DEFAULT false,
  trained_at        timestamptz NOT NULL DEFAULT now(),
  trained_from      timestamptz NOT NULL,
  trained_to        timestamptz NOT NULL,
  test_from         timestamptz NOT NULL,
  conversion_days   integer NOT NULL CHECK (conversion_days >= 1),
  encoding          jsonb NOT NULL CHECK (jsonb_typeof(encoding -> 'features') = 'array'),
  coef              float8[],
  std_err           float8[],
  p_values          float8[],
  l2                float8 CHECK (l2 >= 0),
  iterations        integer,
  converged         boolean,
  nb_tables         jsonb,
  rows_train        bigint NOT NULL CHECK (rows_train >= 0),
  rows_test         bigint NOT NULL CHECK (rows_test >= 0),
  positives_train   bigint NOT NULL CHECK (positives_train >= 0),
  auc_train         float8,
  auc_test          float8,
  log_loss_test     float8,
  calibration_test  jsonb,
  PRIMARY KEY (org_id, model_id),
  UNIQUE (org_id, name, version),
  CONSTRAINT conversion_model_test_within_range CHECK (trained_from < test_from AND test_from <= trained_to),
  CONSTRAINT conversion_model_kind_has_parameters CHECK ((kind = 'logreg') = (coef IS NOT NULL) AND (kind = 'naive_bayes') = (nb_tables IS NOT NULL)),
  -- (since 0.16; schema step 0.16 adds it to a table of before)
  stage             text NOT NULL DEFAULT 'contact' CONSTRAINT conversion_model_stage_check CHECK (stage IN ('contact', 'form'))
);
CREATE UNIQUE INDEX conversion_model_one_active_per_stage ON @extschema@.conversion_model (org_id, stage) WHERE active;
COMMENT ON TABLE @extschema@.conversion_model IS 'registry of trained conversion models, versioned per org and name; at most one active per org and stage';
COMMENT ON COLUMN @extschema@.conversion_model.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.conversion_model.model_id IS 'model id';
COMMENT ON COLUMN @extschema@.conversion_model.name IS 'model name; each training under a name adds a version';
COMMENT ON COLUMN @extschema@.conversion_model.version IS 'version under its name, from 1';
COMMENT ON COLUMN @extschema@.conversion_model.kind IS 'logreg (logistic regression) or naive_bayes (the Odoo-style baseline)';
COMMENT ON COLUMN @extschema@.conversion_model.active IS 'the model score_leads uses by default';
COMMENT ON COLUMN @extschema@.conversion_model.trained_at IS 'when it was trained';
COMMENT ON COLUMN @extschema@.conversion_model.trained_from IS 'first creation time of the leads it learned from (included)';
COMMENT ON COLUMN @extschema@.conversion_model.trained_to IS 'end of the creation times it learned from (excluded)';
COMMENT ON COLUMN @extschema@.conversion_model.test_from IS 'leads created from here to trained_to were held out for evaluation';
COMMENT ON COLUMN @extschema@.conversion_model.conversion_days IS 'label: paid within this many days of creation';
COMMENT ON COLUMN @extschema@.conversion_model.encoding IS 'how lead attributes become features: {"features": [{"name", "field", "level"}...]}';
COMMENT ON COLUMN @extschema@.conversion_model.coef IS 'logreg coefficients: intercept, then one per feature of the encoding';
COMMENT ON COLUMN @extschema@.conversion_model.std_err IS 'logreg standard errors';
COMMENT ON COLUMN @extschema@.conversion_model.p_values IS 'logreg Wald p-values';
COMMENT ON COLUMN @extschema@.conversion_model.l2 IS 'logreg ridge penalty';
COMMENT ON COLUMN @extschema@.conversion_model.iterations IS 'logreg IRLS passes';
COMMENT ON COLUMN @extschema@.conversion_model.converged IS 'whether logreg converged';
COMMENT ON COLUMN @extschema@.conversion_model.nb_tables IS 'naive_bayes frequency tables: class counts and per field value counts';
COMMENT ON COLUMN @extschema@.conversion_model.rows_train IS 'leads it learned from';
COMMENT ON COLUMN @extschema@.conversion_model.rows_test IS 'held-out leads it was evaluated on';
COMMENT ON COLUMN @extschema@.conversion_model.positives_train IS 'converted leads among rows_train';
COMMENT ON COLUMN @extschema@.conversion_model.auc_train IS 'ROC AUC on the training leads';
COMMENT ON COLUMN @extschema@.conversion_model.auc_test IS 'ROC AUC on the held-out leads';
COMMENT ON COLUMN @extschema@.conversion_model.log_loss_test IS 'log loss on the held-out leads';
COMMENT ON COLUMN @extschema@.conversion_model.calibration_test IS 'calibration table (10 bins) on the held-out leads';

CREATE TABLE @extschema@.lead (
  org_id              bigint NOT NULL REFERENCES @extschema@.org (org_id),
  lead_id             bigint GENERATED ALWAYS AS IDENTITY,
  name                text CHECK (length(name) <= 200),
  child_age           smallint CHECK (child_age BETWEEN 1 AND 18),
  grade               smallint CHECK (grade BETWEEN 0 AND 12),
  subject             text CHECK (length(subject) <= 100),
  city                text CHECK (length(city) <= 100),
  city_tier           smallint CHECK (city_tier BETWEEN 1 AND 5),
  visitor_id          text CHECK (length(visitor_id) <= 200),
  first_channel_id    bigint NOT NULL,
  first_campaign_id   bigint,
  latest_channel_id   bigint NOT NULL,
  latest_campaign_id  bigint,
  created_at          timestamptz NOT NULL,
  last_touch_at       timestamptz NOT NULL,
  updated_at          timestamptz NOT NULL DEFAULT now(),
  status              text NOT NULL DEFAULT 'new'
                      CHECK (status IN ('new', 'contacting', 'trial_booked', 'trial_attended', 'won', 'lost')),
  pool                text NOT NULL DEFAULT 'public' CHECK (pool IN ('public', 'private')),
  owner_rep_id        bigint,
  owned_since         timestamptz,
  tier                char(1) CHECK (tier IN ('A', 'B', 'C', 'D')),
  score               float8 CHECK (score >= 0 AND score <= 1),
  attrs               jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attrs) = 'object'),
  scored_at           timestamptz,
  score_model_id      bigint,
  -- the phone itself is in lead_contact (since 0.12, when these two moved
  -- from after lead_id to here)
  phone_masked        text,
  phone_valid         boolean NOT NULL DEFAULT false,
  PRIMARY KEY (org_id, lead_id),
  FOREIGN KEY (org_id, first_channel_id) REFERENCES @extschema@.channel (org_id, channel_id),
  FOREIGN KEY (org_id, latest_channel_id) REFERENCES @extschema@.channel (org_id, channel_id),
  FOREIGN KEY (org_id, first_campaign_id) REFERENCES @extschema@.campaign (org_id, campaign_id),
  FOREIGN KEY (org_id, latest_campaign_id) REFERENCES @extschema@.campaign (org_id, campaign_id),
  FOREIGN KEY (org_id, owner_rep_id) REFERENCES @extschema@.sales_rep (org_id, rep_id),
  CONSTRAINT lead_private_pool_has_owner CHECK ((pool = 'private') = (owner_rep_id IS NOT NULL)),
  CONSTRAINT lead_owner_has_since CHECK ((owner_rep_id IS NULL) = (owned_since IS NULL)),
  CONSTRAINT lead_touch_after_creation CHECK (last_touch_at >= created_at),
  CONSTRAINT lead_score_model_fkey FOREIGN KEY (org_id, score_model_id) REFERENCES @extschema@.conversion_model (org_id, model_id)
);
CREATE INDEX lead_created_idx ON @extschema@.lead (org_id, created_at);
CREATE INDEX lead_owner_idx ON @extschema@.lead (org_id, owner_rep_id) WHERE owner_rep_id IS NOT NULL;
CREATE INDEX lead_first_channel_idx ON @extschema@.lead (org_id, first_channel_id, created_at);
CREATE INDEX lead_pool_idx ON @extschema@.lead (org_id, tier, created_at) WHERE pool = 'public';
COMMENT ON TABLE @extschema@.lead IS 'a lead (线索): a person who left a phone number; one per valid phone per org (撞单 protection)';
COMMENT ON COLUMN @extschema@.lead.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.lead.lead_id IS 'lead id';
COMMENT ON COLUMN @extschema@.lead.phone_masked IS 'phone for display to roles that may not see it, such as 138****5678 (the number is in lead_contact)';
COMMENT ON COLUMN @extschema@.lead.phone_valid IS 'true when the phone is a valid mobile number; invalid leads are kept but not de-duplicated';
COMMENT ON COLUMN @extschema@.lead.name IS 'name of the parent or student';
COMMENT ON COLUMN @extschema@.lead.child_age IS 'age of the child in years';
COMMENT ON COLUMN @extschema@.lead.grade IS 'school grade of the child, 0 = preschool, 1 to 12';
COMMENT ON COLUMN @extschema@.lead.subject IS 'subject of interest, such as coding or math';
COMMENT ON COLUMN @extschema@.lead.city IS 'city';
COMMENT ON COLUMN @extschema@.lead.city_tier IS 'city tier, 1 (Beijing, Shanghai...) to 5';
COMMENT ON COLUMN @extschema@.lead.visitor_id IS 'anonymous visitor id of the landing page, linking earlier anonymous touches';
COMMENT ON COLUMN @extschema@.lead.first_channel_id IS 'channel of the first submission';
COMMENT ON COLUMN @extschema@.lead.first_campaign_id IS 'campaign of the first submission';
COMMENT ON COLUMN @extschema@.lead.latest_channel_id IS 'channel of the latest submission';
COMMENT ON COLUMN @extschema@.lead.latest_campaign_id IS 'campaign of the latest submission';
COMMENT ON COLUMN @extschema@.lead.created_at IS 'time of the first submission';
COMMENT ON COLUMN @extschema@.lead.last_touch_at IS 'time of the latest submission or touch';
COMMENT ON COLUMN @extschema@.lead.updated_at IS 'when the row was last changed';
COMMENT ON COLUMN @extschema@.lead.status IS 'sales status: new, contacting, trial_booked, trial_attended, won or lost';
COMMENT ON COLUMN @extschema@.lead.pool IS 'public (公海, unowned) or private (私海, owned by a rep)';
COMMENT ON COLUMN @extschema@.lead.owner_rep_id IS 'rep who owns the lead; NULL in the public pool';
COMMENT ON COLUMN @extschema@.lead.owned_since IS 'when the current owner got the lead';
COMMENT ON COLUMN @extschema@.lead.tier IS 'lead tier A (best) to D';
COMMENT ON COLUMN @extschema@.lead.score IS 'predicted conversion probability, 0 to 1';
COMMENT ON COLUMN @extschema@.lead.attrs IS 'other form fields as a JSON object';
COMMENT ON COLUMN @extschema@.lead.scored_at IS 'when score_leads last scored the lead';
COMMENT ON COLUMN @extschema@.lead.score_model_id IS 'model that gave the score';
-- the order in which the assignment engine takes the public pool
CREATE INDEX lead_pool_order_idx ON @extschema@.lead (org_id, tier, score DESC NULLS LAST, created_at, lead_id) WHERE pool = 'public';

-- The phone of a lead, apart from the lead (since 0.12): reporting and sales
-- roles read lead, with phone_masked, but not this table.  (Until 0.11 the
-- phone was a column of lead that they got no privilege on, and Citus
-- refuses column privileges.)
CREATE TABLE @extschema@.lead_contact (
  org_id      bigint NOT NULL,
  lead_id     bigint NOT NULL,
  phone       text,
  phone_raw   text,
  CONSTRAINT lead_contact_pkey PRIMARY KEY (org_id, lead_id),
  CONSTRAINT lead_contact_phone_key UNIQUE (org_id, phone),
  CONSTRAINT lead_contact_lead_fkey FOREIGN KEY (org_id, lead_id) REFERENCES @extschema@.lead (org_id, lead_id) ON DELETE CASCADE,
  CONSTRAINT lead_contact_phone_check CHECK (phone ~ '^\+861[3-9][0-9]{9}$'),
  CONSTRAINT lead_contact_phone_raw_check CHECK (length(phone_raw) <= 64)
);
COMMENT ON TABLE @extschema@.lead_contact IS 'the phone of a lead, for the roles that may see it (app and admin; a sales rep reads its own leads'' with lead_phone()); one lead per valid phone per org (撞单 protection)';
COMMENT ON COLUMN @extschema@.lead_contact.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.lead_contact.lead_id IS 'the lead';
COMMENT ON COLUMN @extschema@.lead_contact.phone IS 'E.164 mobile number, unique per org; NULL when the submitted number is not valid';
COMMENT ON COLUMN @extschema@.lead_contact.phone_raw IS 'phone number as submitted';

CREATE TABLE @extschema@.touchpoint (
  org_id         bigint NOT NULL,
  touchpoint_id  bigint GENERATED ALWAYS AS IDENTITY,
  lead_id        bigint,
  visitor_id     text CHECK (length(visitor_id) <= 200),
  channel_id     bigint NOT NULL,
  campaign_id    bigint,
  kind           text NOT NULL CHECK (kind = ANY (@extschema@.touch_kinds())),
  occurred_at    timestamptz NOT NULL,
  attrs          jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attrs) = 'object'),
  PRIMARY KEY (org_id, touchpoint_id),
  FOREIGN KEY (org_id, lead_id) REFERENCES @extschema@.lead (org_id, lead_id),
  FOREIGN KEY (org_id, channel_id) REFERENCES @extschema@.channel (org_id, channel_id),
  FOREIGN KEY (org_id, campaign_id) REFERENCES @extschema@.campaign (org_id, campaign_id),
  CONSTRAINT touchpoint_has_lead_or_visitor CHECK (lead_id IS NOT NULL OR visitor_id IS NOT NULL)
);
CREATE INDEX touchpoint_lead_idx ON @extschema@.touchpoint (org_id, lead_id, occurred_at);
CREATE INDEX touchpoint_channel_idx ON @extschema@.touchpoint (org_id, channel_id, occurred_at);
CREATE INDEX touchpoint_visitor_idx ON @extschema@.touchpoint (org_id, visitor_id) WHERE visitor_id IS NOT NULL;
COMMENT ON TABLE @extschema@.touchpoint IS 'a contact of a lead or anonymous visitor with a channel and campaign; the input of attribution';
COMMENT ON COLUMN @extschema@.touchpoint.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.touchpoint.touchpoint_id IS 'touchpoint id';
COMMENT ON COLUMN @extschema@.touchpoint.lead_id IS 'lead, or NULL for an anonymous visitor';
COMMENT ON COLUMN @extschema@.touchpoint.visitor_id IS 'anonymous visitor id';
COMMENT ON COLUMN @extschema@.touchpoint.channel_id IS 'channel';
COMMENT ON COLUMN @extschema@.touchpoint.campaign_id IS 'campaign';
COMMENT ON COLUMN @extschema@.touchpoint.kind IS 'impression, ad_click, visit, form, call, message, referral or offline';
COMMENT ON COLUMN @extschema@.touchpoint.occurred_at IS 'when the contact happened';
COMMENT ON COLUMN @extschema@.touchpoint.attrs IS 'other details as a JSON object';

CREATE TABLE @extschema@.lead_event (
  org_id       bigint NOT NULL,
  event_id     bigint GENERATED ALWAYS AS IDENTITY,
  lead_id      bigint NOT NULL,
  event_type   text NOT NULL CHECK (event_type = ANY (@extschema@.event_types())),
  occurred_at  timestamptz NOT NULL,
  channel_id   bigint,
  attrs        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attrs) = 'object'),
  recorded_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, event_id),
  FOREIGN KEY (org_id, lead_id) REFERENCES @extschema@.lead (org_id, lead_id),
  FOREIGN KEY (org_id, channel_id) REFERENCES @extschema@.channel (org_id, channel_id)
);
CREATE INDEX lead_event_lead_idx ON @extschema@.lead_event (org_id, lead_id, occurred_at);
CREATE INDEX lead_event_type_idx ON @extschema@.lead_event (org_id, event_type, occurred_at);
COMMENT ON TABLE @extschema@.lead_event IS 'a funnel event of a lead: form_submitted, sms_verified, wechat_followed, trial_booked, trial_attended, paid, refunded, renewed, referred, unsubscribed or lost';
COMMENT ON COLUMN @extschema@.lead_event.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.lead_event.event_id IS 'event id';
COMMENT ON COLUMN @extschema@.lead_event.lead_id IS 'lead';
COMMENT ON COLUMN @extschema@.lead_event.event_type IS 'what happened';
COMMENT ON COLUMN @extschema@.lead_event.occurred_at IS 'when it happened';
COMMENT ON COLUMN @extschema@.lead_event.channel_id IS 'channel the event came through, if any';
COMMENT ON COLUMN @extschema@.lead_event.attrs IS 'other details as a JSON object';
COMMENT ON COLUMN @extschema@.lead_event.recorded_at IS 'when the event was recorded';

CREATE TABLE @extschema@.tag (
  org_id   bigint NOT NULL REFERENCES @extschema@.org (org_id),
  tag_id   bigint GENERATED ALWAYS AS IDENTITY,
  name     text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  PRIMARY KEY (org_id, tag_id),
  UNIQUE (org_id, name)
);
COMMENT ON TABLE @extschema@.tag IS 'a label that can be put on leads';
COMMENT ON COLUMN @extschema@.tag.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.tag.tag_id IS 'tag id';
COMMENT ON COLUMN @extschema@.tag.name IS 'tag text';

CREATE TABLE @extschema@.lead_tag (
  org_id     bigint NOT NULL,
  lead_id    bigint NOT NULL,
  tag_id     bigint NOT NULL,
  tagged_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, lead_id, tag_id),
  FOREIGN KEY (org_id, lead_id) REFERENCES @extschema@.lead (org_id, lead_id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, tag_id) REFERENCES @extschema@.tag (org_id, tag_id) ON DELETE CASCADE
);
CREATE INDEX lead_tag_tag_idx ON @extschema@.lead_tag (org_id, tag_id);
COMMENT ON TABLE @extschema@.lead_tag IS 'tags on leads';
COMMENT ON COLUMN @extschema@.lead_tag.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.lead_tag.lead_id IS 'lead';
COMMENT ON COLUMN @extschema@.lead_tag.tag_id IS 'tag';
COMMENT ON COLUMN @extschema@.lead_tag.tagged_at IS 'when the tag was put on';
-- ---------------------------------------------------------------------------
-- Sales activity and the catalogue it sells: teacher, course, course_class,
-- assignment, follow_up, trial_lesson, student, sales_order, refund
-- ---------------------------------------------------------------------------

CREATE TABLE @extschema@.teacher (
  org_id      bigint NOT NULL REFERENCES @extschema@.org (org_id),
  teacher_id  bigint GENERATED ALWAYS AS IDENTITY,
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  kind        text NOT NULL CHECK (kind IN ('trial', 'formal', 'tutor')),
  active      boolean NOT NULL DEFAULT true,
  hired_on    date,
  PRIMARY KEY (org_id, teacher_id)
);
COMMENT ON TABLE @extschema@.teacher IS 'a teacher: trial-lesson teacher, formal-course teacher or tutor';
COMMENT ON COLUMN @extschema@.teacher.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.teacher.teacher_id IS 'teacher id';
COMMENT ON COLUMN @extschema@.teacher.name IS 'display name';
COMMENT ON COLUMN @extschema@.teacher.kind IS 'trial, formal or tutor';
COMMENT ON COLUMN @extschema@.teacher.active IS 'false once the teacher has left';
COMMENT ON COLUMN @extschema@.teacher.hired_on IS 'first working day';

CREATE TABLE @extschema@.course (
  org_id            bigint NOT NULL REFERENCES @extschema@.org (org_id),
  course_id         bigint GENERATED ALWAYS AS IDENTITY,
  code              text NOT NULL CHECK (code ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  subject           text NOT NULL CHECK (length(subject) BETWEEN 1 AND 100),
  level             smallint NOT NULL DEFAULT 1 CHECK (level BETWEEN 1 AND 20),
  age_min           smallint CHECK (age_min BETWEEN 1 AND 18),
  age_max           smallint CHECK (age_max BETWEEN 1 AND 18),
  lessons_per_term  integer NOT NULL CHECK (lessons_per_term > 0),
  price             numeric(14,2) NOT NULL CHECK (price >= 0),
  active            boolean NOT NULL DEFAULT true,
  PRIMARY KEY (org_id, course_id),
  UNIQUE (org_id, code),
  CHECK (age_max >= age_min)
);
COMMENT ON TABLE @extschema@.course IS 'a course the school sells, run as classes (班期) term by term';
COMMENT ON COLUMN @extschema@.course.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.course.course_id IS 'course id';
COMMENT ON COLUMN @extschema@.course.code IS 'stable course code';
COMMENT ON COLUMN @extschema@.course.name IS 'display name';
COMMENT ON COLUMN @extschema@.course.subject IS 'subject, such as coding, math or english';
COMMENT ON COLUMN @extschema@.course.level IS 'level within the subject, 1 = beginner';
COMMENT ON COLUMN @extschema@.course.age_min IS 'youngest age the course is for';
COMMENT ON COLUMN @extschema@.course.age_max IS 'oldest age the course is for';
COMMENT ON COLUMN @extschema@.course.lessons_per_term IS 'lessons in one term';
COMMENT ON COLUMN @extschema@.course.price IS 'list price of one term';
COMMENT ON COLUMN @extschema@.course.active IS 'false once the course is no longer sold';

CREATE TABLE @extschema@.course_class (
  org_id      bigint NOT NULL,
  class_id    bigint GENERATED ALWAYS AS IDENTITY,
  course_id   bigint NOT NULL,
  teacher_id  bigint,
  tutor_id    bigint,
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  term_start  date NOT NULL,
  term_end    date NOT NULL,
  capacity    integer NOT NULL CHECK (capacity > 0),
  age_min     smallint CHECK (age_min BETWEEN 1 AND 18),
  age_max     smallint CHECK (age_max BETWEEN 1 AND 18),
  level       smallint CHECK (level BETWEEN 1 AND 20),
  area        text CHECK (length(area) <= 100),
  schedule    text CHECK (length(schedule) <= 200),
  status      text NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'running', 'finished', 'cancelled')),
  PRIMARY KEY (org_id, class_id),
  FOREIGN KEY (org_id, course_id) REFERENCES @extschema@.course (org_id, course_id),
  FOREIGN KEY (org_id, teacher_id) REFERENCES @extschema@.teacher (org_id, teacher_id),
  FOREIGN KEY (org_id, tutor_id) REFERENCES @extschema@.teacher (org_id, teacher_id),
  CONSTRAINT course_class_term_ends_after_start CHECK (term_end > term_start),
  CHECK (age_max >= age_min)
);
CREATE INDEX course_class_course_idx ON @extschema@.course_class (org_id, course_id, term_start);
CREATE INDEX course_class_teacher_idx ON @extschema@.course_class (org_id, teacher_id);
CREATE INDEX course_class_term_end_idx ON @extschema@.course_class (org_id, term_end);
COMMENT ON TABLE @extschema@.course_class IS 'a class (班期): one run of a course for a term, with teacher, schedule, capacity, age band, level and area';
COMMENT ON COLUMN @extschema@.course_class.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.course_class.class_id IS 'class id';
COMMENT ON COLUMN @extschema@.course_class.course_id IS 'course';
COMMENT ON COLUMN @extschema@.course_class.teacher_id IS 'lecturer';
COMMENT ON COLUMN @extschema@.course_class.tutor_id IS 'tutor who follows up homework and parents';
COMMENT ON COLUMN @extschema@.course_class.name IS 'display name';
COMMENT ON COLUMN @extschema@.course_class.term_start IS 'first day of the term';
COMMENT ON COLUMN @extschema@.course_class.term_end IS 'last day of the term, after the first';
COMMENT ON COLUMN @extschema@.course_class.capacity IS 'most students';
COMMENT ON COLUMN @extschema@.course_class.age_min IS 'youngest age of the age band';
COMMENT ON COLUMN @extschema@.course_class.age_max IS 'oldest age of the age band';
COMMENT ON COLUMN @extschema@.course_class.level IS 'level taught';
COMMENT ON COLUMN @extschema@.course_class.area IS 'area or campus, such as a district';
COMMENT ON COLUMN @extschema@.course_class.schedule IS 'human-readable schedule, such as Sat 10:00-11:30';
COMMENT ON COLUMN @extschema@.course_class.status IS 'planned, running, finished or cancelled';

CREATE TABLE @extschema@.assignment (
  org_id          bigint NOT NULL,
  assignment_id   bigint GENERATED ALWAYS AS IDENTITY,
  lead_id         bigint NOT NULL,
  rep_id          bigint NOT NULL,
  assigned_at     timestamptz NOT NULL,
  reason          text NOT NULL CHECK (reason IN ('round_robin', 'least_busy', 'claim', 'manual', 'transfer', 'import')),
  released_at     timestamptz,
  release_reason  text CHECK (release_reason IN ('release', 'recycle_no_follow_up', 'recycle_no_deal', 'transfer', 'closed')),
  PRIMARY KEY (org_id, assignment_id),
  FOREIGN KEY (org_id, lead_id) REFERENCES @extschema@.lead (org_id, lead_id),
  FOREIGN KEY (org_id, rep_id) REFERENCES @extschema@.sales_rep (org_id, rep_id),
  CHECK (released_at >= assigned_at),
  CONSTRAINT assignment_release_has_reason CHECK ((released_at IS NULL) = (release_reason IS NULL))
);
CREATE INDEX assignment_lead_idx ON @extschema@.assignment (org_id, lead_id, assigned_at);
CREATE INDEX assignment_rep_idx ON @extschema@.assignment (org_id, rep_id, assigned_at);
COMMENT ON TABLE @extschema@.assignment IS 'history of who owned a lead, when, why, and when and why it was released';
COMMENT ON COLUMN @extschema@.assignment.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.assignment.assignment_id IS 'assignment id';
COMMENT ON COLUMN @extschema@.assignment.lead_id IS 'lead';
COMMENT ON COLUMN @extschema@.assignment.rep_id IS 'rep who got the lead';
COMMENT ON COLUMN @extschema@.assignment.assigned_at IS 'when the rep got the lead';
COMMENT ON COLUMN @extschema@.assignment.reason IS 'round_robin, least_busy, claim (from the public pool), manual, transfer or import';
COMMENT ON COLUMN @extschema@.assignment.released_at IS 'when the rep lost the lead; NULL while it is held';
COMMENT ON COLUMN @extschema@.assignment.release_reason IS 'release, recycle_no_follow_up, recycle_no_deal (回收), transfer or closed';

CREATE TABLE @extschema@.follow_up (
  org_id        bigint NOT NULL,
  follow_up_id  bigint GENERATED ALWAYS AS IDENTITY,
  lead_id       bigint NOT NULL,
  rep_id        bigint NOT NULL,
  channel       text NOT NULL CHECK (channel = ANY (@extschema@.follow_up_channels())),
  outcome       text NOT NULL CHECK (outcome = ANY (@extschema@.follow_up_outcomes())),
  cost          numeric(14,2) NOT NULL DEFAULT 0 CHECK (cost >= 0),
  duration_s    integer CHECK (duration_s >= 0),
  occurred_at   timestamptz NOT NULL,
  note          text CHECK (length(note) <= 4000),
  PRIMARY KEY (org_id, follow_up_id),
  FOREIGN KEY (org_id, lead_id) REFERENCES @extschema@.lead (org_id, lead_id),
  FOREIGN KEY (org_id, rep_id) REFERENCES @extschema@.sales_rep (org_id, rep_id)
);
CREATE INDEX follow_up_lead_idx ON @extschema@.follow_up (org_id, lead_id, occurred_at);
CREATE INDEX follow_up_rep_idx ON @extschema@.follow_up (org_id, rep_id, occurred_at);
COMMENT ON TABLE @extschema@.follow_up IS 'a contact by a rep or bot with a lead: call, SMS, WeChat, AI call, visit or email, with its outcome and cost';
COMMENT ON COLUMN @extschema@.follow_up.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.follow_up.follow_up_id IS 'follow-up id';
COMMENT ON COLUMN @extschema@.follow_up.lead_id IS 'lead';
COMMENT ON COLUMN @extschema@.follow_up.rep_id IS 'rep or bot who made the contact';
COMMENT ON COLUMN @extschema@.follow_up.channel IS 'call, sms, wechat, ai_call, visit or email';
COMMENT ON COLUMN @extschema@.follow_up.outcome IS 'connected, no_answer, busy, refused, interested, not_interested, trial_booked, wrong_number or sent';
COMMENT ON COLUMN @extschema@.follow_up.cost IS 'handling cost of the contact (bot minutes, telemarketing, sales time)';
COMMENT ON COLUMN @extschema@.follow_up.duration_s IS 'length of the call in seconds';
COMMENT ON COLUMN @extschema@.follow_up.occurred_at IS 'when the contact happened';
COMMENT ON COLUMN @extschema@.follow_up.note IS 'free-text note';

CREATE TABLE @extschema@.trial_lesson (
  org_id        bigint NOT NULL,
  trial_id      bigint GENERATED ALWAYS AS IDENTITY,
  lead_id       bigint NOT NULL,
  course_id     bigint,
  teacher_id    bigint,
  booked_at     timestamptz NOT NULL,
  scheduled_at  timestamptz NOT NULL,
  attended_at   timestamptz,
  status        text NOT NULL DEFAULT 'booked' CHECK (status IN ('booked', 'attended', 'no_show', 'cancelled')),
  self_booked   boolean NOT NULL DEFAULT false,
  PRIMARY KEY (org_id, trial_id),
  FOREIGN KEY (org_id, lead_id) REFERENCES @extschema@.lead (org_id, lead_id),
  FOREIGN KEY (org_id, course_id) REFERENCES @extschema@.course (org_id, course_id),
  FOREIGN KEY (org_id, teacher_id) REFERENCES @extschema@.teacher (org_id, teacher_id),
  CONSTRAINT trial_lesson_attended_has_time CHECK ((status = 'attended') = (attended_at IS NOT NULL))
);
CREATE INDEX trial_lesson_lead_idx ON @extschema@.trial_lesson (org_id, lead_id);
CREATE INDEX trial_lesson_scheduled_idx ON @extschema@.trial_lesson (org_id, scheduled_at);
COMMENT ON TABLE @extschema@.trial_lesson IS 'a trial lesson (试听) booked for a lead';
COMMENT ON COLUMN @extschema@.trial_lesson.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.trial_lesson.trial_id IS 'trial id';
COMMENT ON COLUMN @extschema@.trial_lesson.lead_id IS 'lead';
COMMENT ON COLUMN @extschema@.trial_lesson.course_id IS 'course tried';
COMMENT ON COLUMN @extschema@.trial_lesson.teacher_id IS 'trial teacher';
COMMENT ON COLUMN @extschema@.trial_lesson.booked_at IS 'when the trial was booked';
COMMENT ON COLUMN @extschema@.trial_lesson.scheduled_at IS 'when the trial takes place';
COMMENT ON COLUMN @extschema@.trial_lesson.attended_at IS 'when the child attended; set exactly when status is attended';
COMMENT ON COLUMN @extschema@.trial_lesson.status IS 'booked, attended, no_show or cancelled';
COMMENT ON COLUMN @extschema@.trial_lesson.self_booked IS 'true when the parent booked it on the landing page (tier A behaviour)';

CREATE TABLE @extschema@.student (
  org_id      bigint NOT NULL,
  student_id  bigint GENERATED ALWAYS AS IDENTITY,
  lead_id     bigint,
  name        text CHECK (length(name) <= 200),
  birth_date  date,
  grade       smallint CHECK (grade BETWEEN 0 AND 12),
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, student_id),
  UNIQUE (org_id, lead_id),
  FOREIGN KEY (org_id, lead_id) REFERENCES @extschema@.lead (org_id, lead_id)
);
COMMENT ON TABLE @extschema@.student IS 'a paying student, linked to the lead it came from';
COMMENT ON COLUMN @extschema@.student.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.student.student_id IS 'student id';
COMMENT ON COLUMN @extschema@.student.lead_id IS 'lead the student came from';
COMMENT ON COLUMN @extschema@.student.name IS 'name of the child';
COMMENT ON COLUMN @extschema@.student.birth_date IS 'birth date of the child';
COMMENT ON COLUMN @extschema@.student.grade IS 'school grade when the student joined, 0 = preschool';
COMMENT ON COLUMN @extschema@.student.created_at IS 'when the student first paid';

CREATE TABLE @extschema@.promotion (
  org_id            bigint NOT NULL REFERENCES @extschema@.org (org_id),
  promotion_id      bigint GENERATED ALWAYS AS IDENTITY,
  kind              text NOT NULL CHECK (kind IN ('coupon', 'discount', 'group_buy')),
  name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  discount_amount   numeric(14,2) CHECK (discount_amount >= 0),
  discount_percent  numeric(5,2) CHECK (discount_percent > 0 AND discount_percent <= 100),
  group_size        smallint CHECK (group_size BETWEEN 2 AND 100),
  starts_at         timestamptz NOT NULL,
  ends_at           timestamptz NOT NULL,
  PRIMARY KEY (org_id, promotion_id),
  CHECK (ends_at > starts_at),
  CHECK ((kind = 'group_buy') = (group_size IS NOT NULL)),
  CHECK (discount_amount IS NULL OR discount_percent IS NULL)
);
COMMENT ON TABLE @extschema@.promotion IS 'a promotion: coupon campaign, discount or group-buy (拼团)';
COMMENT ON COLUMN @extschema@.promotion.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.promotion.promotion_id IS 'promotion id';
COMMENT ON COLUMN @extschema@.promotion.kind IS 'coupon, discount or group_buy';
COMMENT ON COLUMN @extschema@.promotion.name IS 'display name';
COMMENT ON COLUMN @extschema@.promotion.discount_amount IS 'fixed discount, or NULL';
COMMENT ON COLUMN @extschema@.promotion.discount_percent IS 'percentage discount, or NULL';
COMMENT ON COLUMN @extschema@.promotion.group_size IS 'members a group-buy team needs; set exactly for group-buys';
COMMENT ON COLUMN @extschema@.promotion.starts_at IS 'start of the promotion';
COMMENT ON COLUMN @extschema@.promotion.ends_at IS 'end of the promotion, after the start';

CREATE TABLE @extschema@.sales_order (
  org_id        bigint NOT NULL,
  order_id      bigint GENERATED ALWAYS AS IDENTITY,
  lead_id       bigint NOT NULL,
  student_id    bigint,
  course_id     bigint,
  rep_id        bigint,
  promotion_id  bigint,
  product       text NOT NULL CHECK (length(product) BETWEEN 1 AND 200),
  list_price    numeric(14,2) NOT NULL CHECK (list_price >= 0),
  discount      numeric(14,2) NOT NULL DEFAULT 0 CHECK (discount >= 0),
  amount        numeric(14,2) NOT NULL CHECK (amount >= 0),
  status        text NOT NULL DEFAULT 'paid' CHECK (status IN ('pending', 'paid', 'cancelled')),
  is_renewal    boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL,
  paid_at       timestamptz,
  PRIMARY KEY (org_id, order_id),
  FOREIGN KEY (org_id, lead_id) REFERENCES @extschema@.lead (org_id, lead_id),
  FOREIGN KEY (org_id, student_id) REFERENCES @extschema@.student (org_id, student_id),
  FOREIGN KEY (org_id, course_id) REFERENCES @extschema@.course (org_id, course_id),
  FOREIGN KEY (org_id, rep_id) REFERENCES @extschema@.sales_rep (org_id, rep_id),
  FOREIGN KEY (org_id, promotion_id) REFERENCES @extschema@.promotion (org_id, promotion_id),
  CONSTRAINT sales_order_amount_is_price_less_discount CHECK (amount = list_price - discount),
  CONSTRAINT sales_order_paid_has_time CHECK (status <> 'paid' OR paid_at IS NOT NULL),
  CONSTRAINT sales_order_paid_after_created CHECK (paid_at >= created_at)
);
CREATE INDEX sales_order_lead_idx ON @extschema@.sales_order (org_id, lead_id);
CREATE INDEX sales_order_paid_idx ON @extschema@.sales_order (org_id, paid_at);
CREATE INDEX sales_order_student_idx ON @extschema@.sales_order (org_id, student_id);
COMMENT ON TABLE @extschema@.sales_order IS 'an order: a purchase of a course term or product, first purchase or renewal';
COMMENT ON COLUMN @extschema@.sales_order.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.sales_order.order_id IS 'order id';
COMMENT ON COLUMN @extschema@.sales_order.lead_id IS 'lead who bought';
COMMENT ON COLUMN @extschema@.sales_order.student_id IS 'student the order is for';
COMMENT ON COLUMN @extschema@.sales_order.course_id IS 'course bought, if any';
COMMENT ON COLUMN @extschema@.sales_order.rep_id IS 'rep credited with the sale';
COMMENT ON COLUMN @extschema@.sales_order.promotion_id IS 'promotion applied, if any';
COMMENT ON COLUMN @extschema@.sales_order.product IS 'product name, such as a course term, camp or study tour';
COMMENT ON COLUMN @extschema@.sales_order.list_price IS 'price before discount';
COMMENT ON COLUMN @extschema@.sales_order.discount IS 'discount given';
COMMENT ON COLUMN @extschema@.sales_order.amount IS 'amount paid: list price minus discount';
COMMENT ON COLUMN @extschema@.sales_order.status IS 'pending, paid or cancelled; refunds are in the refund table';
COMMENT ON COLUMN @extschema@.sales_order.is_renewal IS 'true for a renewal (续费) of an earlier term';
COMMENT ON COLUMN @extschema@.sales_order.created_at IS 'when the order was placed';
COMMENT ON COLUMN @extschema@.sales_order.paid_at IS 'when it was paid; required once paid';

CREATE TABLE @extschema@.refund (
  org_id       bigint NOT NULL,
  refund_id    bigint GENERATED ALWAYS AS IDENTITY,
  order_id     bigint NOT NULL,
  amount       numeric(14,2) NOT NULL CHECK (amount > 0),
  refunded_at  timestamptz NOT NULL,
  reason       text CHECK (length(reason) <= 1000),
  PRIMARY KEY (org_id, refund_id),
  FOREIGN KEY (org_id, order_id) REFERENCES @extschema@.sales_order (org_id, order_id)
);
CREATE INDEX refund_order_idx ON @extschema@.refund (org_id, order_id);
COMMENT ON TABLE @extschema@.refund IS 'a refund of (part of) a paid order; all refunds of an order never exceed its amount';
COMMENT ON COLUMN @extschema@.refund.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.refund.refund_id IS 'refund id';
COMMENT ON COLUMN @extschema@.refund.order_id IS 'order refunded';
COMMENT ON COLUMN @extschema@.refund.amount IS 'amount refunded, more than zero';
COMMENT ON COLUMN @extschema@.refund.refunded_at IS 'when the money went back, not before the payment';
COMMENT ON COLUMN @extschema@.refund.reason IS 'why';
CREATE TRIGGER refund_check_total BEFORE INSERT OR UPDATE ON @extschema@.refund
  FOR EACH ROW EXECUTE FUNCTION @extschema@.refund_check_total();
-- ---------------------------------------------------------------------------
-- Service: enrollment, lesson, attendance, homework, homework_submission,
-- renewal, referral
-- ---------------------------------------------------------------------------

CREATE TABLE @extschema@.enrollment (
  org_id         bigint NOT NULL,
  enrollment_id  bigint GENERATED ALWAYS AS IDENTITY,
  student_id     bigint NOT NULL,
  class_id       bigint NOT NULL,
  order_id       bigint,
  enrolled_at    timestamptz NOT NULL,
  status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'completed', 'dropped', 'refunded')),
  ended_at       timestamptz,
  PRIMARY KEY (org_id, enrollment_id),
  UNIQUE (org_id, student_id, class_id),
  FOREIGN KEY (org_id, student_id) REFERENCES @extschema@.student (org_id, student_id),
  FOREIGN KEY (org_id, class_id) REFERENCES @extschema@.course_class (org_id, class_id),
  FOREIGN KEY (org_id, order_id) REFERENCES @extschema@.sales_order (org_id, order_id),
  CHECK (ended_at >= enrolled_at),
  CONSTRAINT enrollment_active_has_no_end CHECK ((status = 'active') = (ended_at IS NULL))
);
CREATE INDEX enrollment_class_idx ON @extschema@.enrollment (org_id, class_id);
COMMENT ON TABLE @extschema@.enrollment IS 'a student in a class for its term';
COMMENT ON COLUMN @extschema@.enrollment.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.enrollment.enrollment_id IS 'enrollment id';
COMMENT ON COLUMN @extschema@.enrollment.student_id IS 'student';
COMMENT ON COLUMN @extschema@.enrollment.class_id IS 'class';
COMMENT ON COLUMN @extschema@.enrollment.order_id IS 'order that paid for it';
COMMENT ON COLUMN @extschema@.enrollment.enrolled_at IS 'when the student joined the class';
COMMENT ON COLUMN @extschema@.enrollment.status IS 'active, completed, dropped or refunded';
COMMENT ON COLUMN @extschema@.enrollment.ended_at IS 'when the enrollment ended; NULL exactly while active';

CREATE TABLE @extschema@.lesson (
  org_id      bigint NOT NULL,
  lesson_id   bigint GENERATED ALWAYS AS IDENTITY,
  class_id    bigint NOT NULL,
  seq         smallint NOT NULL CHECK (seq >= 1),
  starts_at   timestamptz NOT NULL,
  ends_at     timestamptz NOT NULL,
  teacher_id  bigint,
  PRIMARY KEY (org_id, lesson_id),
  UNIQUE (org_id, class_id, seq),
  FOREIGN KEY (org_id, class_id) REFERENCES @extschema@.course_class (org_id, class_id),
  FOREIGN KEY (org_id, teacher_id) REFERENCES @extschema@.teacher (org_id, teacher_id),
  CHECK (ends_at > starts_at)
);
CREATE INDEX lesson_starts_idx ON @extschema@.lesson (org_id, starts_at);
COMMENT ON TABLE @extschema@.lesson IS 'one lesson of a class';
COMMENT ON COLUMN @extschema@.lesson.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.lesson.lesson_id IS 'lesson id';
COMMENT ON COLUMN @extschema@.lesson.class_id IS 'class';
COMMENT ON COLUMN @extschema@.lesson.seq IS 'number of the lesson within the term, from 1';
COMMENT ON COLUMN @extschema@.lesson.starts_at IS 'start time';
COMMENT ON COLUMN @extschema@.lesson.ends_at IS 'end time, after the start';
COMMENT ON COLUMN @extschema@.lesson.teacher_id IS 'teacher who gave it, when not the class teacher';

CREATE TABLE @extschema@.attendance (
  org_id      bigint NOT NULL,
  lesson_id   bigint NOT NULL,
  student_id  bigint NOT NULL,
  status      text NOT NULL CHECK (status IN ('present', 'late', 'absent', 'excused')),
  checked_at  timestamptz,
  PRIMARY KEY (org_id, lesson_id, student_id),
  FOREIGN KEY (org_id, lesson_id) REFERENCES @extschema@.lesson (org_id, lesson_id),
  FOREIGN KEY (org_id, student_id) REFERENCES @extschema@.student (org_id, student_id)
);
CREATE INDEX attendance_student_idx ON @extschema@.attendance (org_id, student_id);
COMMENT ON TABLE @extschema@.attendance IS 'whether a student attended a lesson';
COMMENT ON COLUMN @extschema@.attendance.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.attendance.lesson_id IS 'lesson';
COMMENT ON COLUMN @extschema@.attendance.student_id IS 'student';
COMMENT ON COLUMN @extschema@.attendance.status IS 'present, late, absent or excused';
COMMENT ON COLUMN @extschema@.attendance.checked_at IS 'when attendance was taken';

CREATE TABLE @extschema@.homework (
  org_id       bigint NOT NULL,
  homework_id  bigint GENERATED ALWAYS AS IDENTITY,
  lesson_id    bigint NOT NULL,
  title        text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  assigned_at  timestamptz NOT NULL,
  due_at       timestamptz NOT NULL,
  PRIMARY KEY (org_id, homework_id),
  FOREIGN KEY (org_id, lesson_id) REFERENCES @extschema@.lesson (org_id, lesson_id),
  CHECK (due_at >= assigned_at)
);
CREATE INDEX homework_lesson_idx ON @extschema@.homework (org_id, lesson_id);
COMMENT ON TABLE @extschema@.homework IS 'homework set at a lesson';
COMMENT ON COLUMN @extschema@.homework.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.homework.homework_id IS 'homework id';
COMMENT ON COLUMN @extschema@.homework.lesson_id IS 'lesson that set it';
COMMENT ON COLUMN @extschema@.homework.title IS 'title';
COMMENT ON COLUMN @extschema@.homework.assigned_at IS 'when it was set';
COMMENT ON COLUMN @extschema@.homework.due_at IS 'deadline, not before it was set';

CREATE TABLE @extschema@.homework_submission (
  org_id        bigint NOT NULL,
  homework_id   bigint NOT NULL,
  student_id    bigint NOT NULL,
  submitted_at  timestamptz NOT NULL,
  score         numeric(5,2) CHECK (score BETWEEN 0 AND 100),
  graded_at     timestamptz,
  graded_by     bigint,
  PRIMARY KEY (org_id, homework_id, student_id),
  FOREIGN KEY (org_id, homework_id) REFERENCES @extschema@.homework (org_id, homework_id),
  FOREIGN KEY (org_id, student_id) REFERENCES @extschema@.student (org_id, student_id),
  FOREIGN KEY (org_id, graded_by) REFERENCES @extschema@.teacher (org_id, teacher_id),
  CHECK (graded_at >= submitted_at),
  CHECK ((score IS NULL) = (graded_at IS NULL))
);
CREATE INDEX homework_submission_student_idx ON @extschema@.homework_submission (org_id, student_id);
COMMENT ON TABLE @extschema@.homework_submission IS 'a student''s submitted homework and its grade';
COMMENT ON COLUMN @extschema@.homework_submission.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.homework_submission.homework_id IS 'homework';
COMMENT ON COLUMN @extschema@.homework_submission.student_id IS 'student';
COMMENT ON COLUMN @extschema@.homework_submission.submitted_at IS 'when it was handed in; on time when not after homework.due_at';
COMMENT ON COLUMN @extschema@.homework_submission.score IS 'grade from 0 to 100; NULL until graded';
COMMENT ON COLUMN @extschema@.homework_submission.graded_at IS 'when it was graded';
COMMENT ON COLUMN @extschema@.homework_submission.graded_by IS 'teacher who graded it';

CREATE TABLE @extschema@.renewal (
  org_id             bigint NOT NULL,
  renewal_id         bigint GENERATED ALWAYS AS IDENTITY,
  from_enrollment_id bigint NOT NULL,
  to_enrollment_id   bigint NOT NULL,
  order_id           bigint,
  renewed_at         timestamptz NOT NULL,
  PRIMARY KEY (org_id, renewal_id),
  UNIQUE (org_id, from_enrollment_id),
  UNIQUE (org_id, to_enrollment_id),
  FOREIGN KEY (org_id, from_enrollment_id) REFERENCES @extschema@.enrollment (org_id, enrollment_id),
  FOREIGN KEY (org_id, to_enrollment_id) REFERENCES @extschema@.enrollment (org_id, enrollment_id),
  FOREIGN KEY (org_id, order_id) REFERENCES @extschema@.sales_order (org_id, order_id),
  CHECK (from_enrollment_id <> to_enrollment_id)
);
COMMENT ON TABLE @extschema@.renewal IS 'a renewal (续费): the link from an enrollment to the next one of the same student';
COMMENT ON COLUMN @extschema@.renewal.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.renewal.renewal_id IS 'renewal id';
COMMENT ON COLUMN @extschema@.renewal.from_enrollment_id IS 'enrollment that ended';
COMMENT ON COLUMN @extschema@.renewal.to_enrollment_id IS 'enrollment that continues it';
COMMENT ON COLUMN @extschema@.renewal.order_id IS 'renewal order';
COMMENT ON COLUMN @extschema@.renewal.renewed_at IS 'when the family renewed';

CREATE TABLE @extschema@.referral (
  org_id               bigint NOT NULL,
  referral_id          bigint GENERATED ALWAYS AS IDENTITY,
  referrer_student_id  bigint NOT NULL,
  referred_lead_id     bigint NOT NULL,
  referred_at          timestamptz NOT NULL,
  reward               numeric(14,2) CHECK (reward >= 0),
  PRIMARY KEY (org_id, referral_id),
  UNIQUE (org_id, referred_lead_id),
  FOREIGN KEY (org_id, referrer_student_id) REFERENCES @extschema@.student (org_id, student_id),
  FOREIGN KEY (org_id, referred_lead_id) REFERENCES @extschema@.lead (org_id, lead_id)
);
CREATE INDEX referral_referrer_idx ON @extschema@.referral (org_id, referrer_student_id);
COMMENT ON TABLE @extschema@.referral IS 'a referral (转介绍): a student who brought in a new lead';
COMMENT ON COLUMN @extschema@.referral.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.referral.referral_id IS 'referral id';
COMMENT ON COLUMN @extschema@.referral.referrer_student_id IS 'student who referred';
COMMENT ON COLUMN @extschema@.referral.referred_lead_id IS 'new lead they brought; at most one referrer';
COMMENT ON COLUMN @extschema@.referral.referred_at IS 'when the referral was made';
COMMENT ON COLUMN @extschema@.referral.reward IS 'reward given to the referrer, if any';
-- ---------------------------------------------------------------------------
-- Marketing: coupon, group_buy, group_buy_member, community_group,
-- community_member (promotion is defined with the orders that use it)
-- ---------------------------------------------------------------------------

CREATE TABLE @extschema@.coupon (
  org_id        bigint NOT NULL,
  coupon_id     bigint GENERATED ALWAYS AS IDENTITY,
  promotion_id  bigint NOT NULL,
  code          text NOT NULL CHECK (length(code) BETWEEN 1 AND 64),
  lead_id       bigint,
  issued_at     timestamptz NOT NULL,
  expires_at    timestamptz,
  redeemed_at   timestamptz,
  order_id      bigint,
  PRIMARY KEY (org_id, coupon_id),
  UNIQUE (org_id, code),
  FOREIGN KEY (org_id, promotion_id) REFERENCES @extschema@.promotion (org_id, promotion_id),
  FOREIGN KEY (org_id, lead_id) REFERENCES @extschema@.lead (org_id, lead_id),
  FOREIGN KEY (org_id, order_id) REFERENCES @extschema@.sales_order (org_id, order_id),
  CHECK (expires_at > issued_at),
  CHECK (redeemed_at >= issued_at),
  CHECK ((redeemed_at IS NULL) = (order_id IS NULL))
);
CREATE INDEX coupon_lead_idx ON @extschema@.coupon (org_id, lead_id);
COMMENT ON TABLE @extschema@.coupon IS 'a coupon issued to a lead, and its redemption on an order';
COMMENT ON COLUMN @extschema@.coupon.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.coupon.coupon_id IS 'coupon id';
COMMENT ON COLUMN @extschema@.coupon.promotion_id IS 'promotion it belongs to';
COMMENT ON COLUMN @extschema@.coupon.code IS 'code the customer enters';
COMMENT ON COLUMN @extschema@.coupon.lead_id IS 'lead it was issued to';
COMMENT ON COLUMN @extschema@.coupon.issued_at IS 'when it was issued';
COMMENT ON COLUMN @extschema@.coupon.expires_at IS 'when it expires';
COMMENT ON COLUMN @extschema@.coupon.redeemed_at IS 'when it was redeemed; set together with order_id';
COMMENT ON COLUMN @extschema@.coupon.order_id IS 'order it was redeemed on';

CREATE TABLE @extschema@.group_buy (
  org_id          bigint NOT NULL,
  group_buy_id    bigint GENERATED ALWAYS AS IDENTITY,
  promotion_id    bigint NOT NULL,
  leader_lead_id  bigint NOT NULL,
  opened_at       timestamptz NOT NULL,
  closes_at       timestamptz NOT NULL,
  status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'formed', 'failed')),
  PRIMARY KEY (org_id, group_buy_id),
  FOREIGN KEY (org_id, promotion_id) REFERENCES @extschema@.promotion (org_id, promotion_id),
  FOREIGN KEY (org_id, leader_lead_id) REFERENCES @extschema@.lead (org_id, lead_id),
  CHECK (closes_at > opened_at)
);
COMMENT ON TABLE @extschema@.group_buy IS 'a group-buy team (拼团) opened by a leader';
COMMENT ON COLUMN @extschema@.group_buy.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.group_buy.group_buy_id IS 'team id';
COMMENT ON COLUMN @extschema@.group_buy.promotion_id IS 'group-buy promotion';
COMMENT ON COLUMN @extschema@.group_buy.leader_lead_id IS 'lead who opened the team';
COMMENT ON COLUMN @extschema@.group_buy.opened_at IS 'when the team was opened';
COMMENT ON COLUMN @extschema@.group_buy.closes_at IS 'deadline to fill the team';
COMMENT ON COLUMN @extschema@.group_buy.status IS 'open, formed (filled in time) or failed';

CREATE TABLE @extschema@.group_buy_member (
  org_id        bigint NOT NULL,
  group_buy_id  bigint NOT NULL,
  lead_id       bigint NOT NULL,
  joined_at     timestamptz NOT NULL,
  order_id      bigint,
  PRIMARY KEY (org_id, group_buy_id, lead_id),
  FOREIGN KEY (org_id, group_buy_id) REFERENCES @extschema@.group_buy (org_id, group_buy_id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, lead_id) REFERENCES @extschema@.lead (org_id, lead_id),
  FOREIGN KEY (org_id, order_id) REFERENCES @extschema@.sales_order (org_id, order_id)
);
COMMENT ON TABLE @extschema@.group_buy_member IS 'a member of a group-buy team, the leader included';
COMMENT ON COLUMN @extschema@.group_buy_member.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.group_buy_member.group_buy_id IS 'team';
COMMENT ON COLUMN @extschema@.group_buy_member.lead_id IS 'member';
COMMENT ON COLUMN @extschema@.group_buy_member.joined_at IS 'when they joined';
COMMENT ON COLUMN @extschema@.group_buy_member.order_id IS 'their order, once paid';

CREATE TABLE @extschema@.community_group (
  org_id            bigint NOT NULL,
  group_id          bigint GENERATED ALWAYS AS IDENTITY,
  name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  platform          text NOT NULL DEFAULT 'wechat' CHECK (platform IN ('wechat', 'wecom', 'qq', 'dingtalk', 'other')),
  class_id          bigint,
  owner_teacher_id  bigint,
  created_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, group_id),
  FOREIGN KEY (org_id, class_id) REFERENCES @extschema@.course_class (org_id, class_id),
  FOREIGN KEY (org_id, owner_teacher_id) REFERENCES @extschema@.teacher (org_id, teacher_id)
);
COMMENT ON TABLE @extschema@.community_group IS 'a community group (社群), such as a class WeChat group run by service staff';
COMMENT ON COLUMN @extschema@.community_group.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.community_group.group_id IS 'group id';
COMMENT ON COLUMN @extschema@.community_group.name IS 'group name';
COMMENT ON COLUMN @extschema@.community_group.platform IS 'wechat, wecom, qq, dingtalk or other';
COMMENT ON COLUMN @extschema@.community_group.class_id IS 'class the group serves, if any';
COMMENT ON COLUMN @extschema@.community_group.owner_teacher_id IS 'staff member who runs the group';
COMMENT ON COLUMN @extschema@.community_group.created_at IS 'when the group was created';

CREATE TABLE @extschema@.community_member (
  org_id     bigint NOT NULL,
  group_id   bigint NOT NULL,
  lead_id    bigint NOT NULL,
  joined_at  timestamptz NOT NULL,
  left_at    timestamptz,
  PRIMARY KEY (org_id, group_id, lead_id),
  FOREIGN KEY (org_id, group_id) REFERENCES @extschema@.community_group (org_id, group_id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, lead_id) REFERENCES @extschema@.lead (org_id, lead_id),
  CHECK (left_at >= joined_at)
);
COMMENT ON TABLE @extschema@.community_member IS 'membership of a lead or student family in a community group';
COMMENT ON COLUMN @extschema@.community_member.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.community_member.group_id IS 'group';
COMMENT ON COLUMN @extschema@.community_member.lead_id IS 'member (the family''s lead)';
COMMENT ON COLUMN @extschema@.community_member.joined_at IS 'when they joined';
COMMENT ON COLUMN @extschema@.community_member.left_at IS 'when they left, if they did';

-- ---------------------------------------------------------------------------
-- Tenancy and access (docs/dba/security.md)
--
-- access_grant maps database roles to orgs with one of four kinds of access:
--   reporting  read the org's rows through tables and views, phones masked
--   app        a backend serving many tenants: acts only for the org set in
--              leadmgmt.org_id for the transaction, sees nothing without it
--   sales      a rep's role: own private leads plus the org's public pool
--   admin      manage the org's rows
-- Row-level security on every table enforces the org; table and column
-- privileges, applied by grant_access(), enforce what each kind may touch.
-- ---------------------------------------------------------------------------

CREATE TABLE @extschema@.access_grant (
  org_id      bigint NOT NULL REFERENCES @extschema@.org (org_id),
  role_name   name NOT NULL,
  access      text NOT NULL CHECK (access IN ('reporting', 'app', 'sales', 'admin')),
  rep_id      bigint,
  granted_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, role_name, access),
  FOREIGN KEY (org_id, rep_id) REFERENCES @extschema@.sales_rep (org_id, rep_id),
  CHECK ((access = 'sales') = (rep_id IS NOT NULL))
);
COMMENT ON TABLE @extschema@.access_grant IS 'which database role may act for which org, and how; maintained by grant_access and revoke_access';
COMMENT ON COLUMN @extschema@.access_grant.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.access_grant.role_name IS 'database role (members of it inherit the access)';
COMMENT ON COLUMN @extschema@.access_grant.access IS 'reporting, app, sales or admin';
COMMENT ON COLUMN @extschema@.access_grant.rep_id IS 'sales rep the role acts as; set exactly for sales access';
COMMENT ON COLUMN @extschema@.access_grant.granted_at IS 'when the access was granted';

-- Row-level security on every table is not DDL here: install() runs
-- apply_policies() (src/sql/parts/access.sql) after the schema, so the policies
-- are always the code's (since 0.11).
-- ---------------------------------------------------------------------------
-- Views for BI tools (docs/bi.md).  All are security_invoker, so row-level
-- security applies to whoever queries them.
-- ---------------------------------------------------------------------------

CREATE VIEW @extschema@.lead_overview WITH (security_invoker = true) AS
SELECT l.org_id,
       l.lead_id,
       l.phone_masked,
       l.phone_valid        AS phone_is_valid,
       l.name               AS contact_name,
       l.child_age,
       l.grade,
       l.subject,
       l.city,
       l.city_tier,
       fc.code              AS first_channel,
       lc.code              AS latest_channel,
       l.created_at,
       l.last_touch_at,
       l.status,
       l.pool,
       l.owner_rep_id,
       r.name               AS owner_name,
       l.tier,
       l.score
  FROM @extschema@.lead l
  JOIN @extschema@.channel fc ON fc.org_id = l.org_id AND fc.channel_id = l.first_channel_id
  JOIN @extschema@.channel lc ON lc.org_id = l.org_id AND lc.channel_id = l.latest_channel_id
  LEFT JOIN @extschema@.sales_rep r ON r.org_id = l.org_id AND r.rep_id = l.owner_rep_id;

COMMENT ON VIEW @extschema@.lead_overview IS 'one row per lead with readable channel and owner names; phones masked';
COMMENT ON COLUMN @extschema@.lead_overview.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.lead_overview.lead_id IS 'lead id';
COMMENT ON COLUMN @extschema@.lead_overview.phone_masked IS 'phone masked as 138****5678';
COMMENT ON COLUMN @extschema@.lead_overview.phone_is_valid IS 'true when the phone is a valid mobile number';
COMMENT ON COLUMN @extschema@.lead_overview.contact_name IS 'name of the parent or student';
COMMENT ON COLUMN @extschema@.lead_overview.child_age IS 'age of the child in years';
COMMENT ON COLUMN @extschema@.lead_overview.grade IS 'school grade, 0 = preschool';
COMMENT ON COLUMN @extschema@.lead_overview.subject IS 'subject of interest';
COMMENT ON COLUMN @extschema@.lead_overview.city IS 'city';
COMMENT ON COLUMN @extschema@.lead_overview.city_tier IS 'city tier, 1 to 5';
COMMENT ON COLUMN @extschema@.lead_overview.first_channel IS 'code of the channel of the first submission';
COMMENT ON COLUMN @extschema@.lead_overview.latest_channel IS 'code of the channel of the latest submission';
COMMENT ON COLUMN @extschema@.lead_overview.created_at IS 'time of the first submission';
COMMENT ON COLUMN @extschema@.lead_overview.last_touch_at IS 'time of the latest submission or touch';
COMMENT ON COLUMN @extschema@.lead_overview.status IS 'sales status';
COMMENT ON COLUMN @extschema@.lead_overview.pool IS 'public (公海) or private (私海)';
COMMENT ON COLUMN @extschema@.lead_overview.owner_rep_id IS 'id of the owning rep, NULL in the public pool';
COMMENT ON COLUMN @extschema@.lead_overview.owner_name IS 'name of the owning rep';
COMMENT ON COLUMN @extschema@.lead_overview.tier IS 'lead tier A to D';
COMMENT ON COLUMN @extschema@.lead_overview.score IS 'predicted conversion probability';

CREATE VIEW @extschema@.channel_daily WITH (security_invoker = true) AS
WITH spend AS (
  SELECT s.org_id, s.spend_date AS day, s.channel_id,
         sum(s.spend) AS spend, sum(s.impressions) AS impressions, sum(s.clicks) AS clicks
    FROM @extschema@.ad_spend s
   GROUP BY s.org_id, s.spend_date, s.channel_id
), leads AS (
  SELECT l.org_id, (l.created_at AT TIME ZONE o.timezone)::date AS day, l.first_channel_id AS channel_id,
         count(*) AS leads, count(*) FILTER (WHERE l.phone_valid) AS valid_leads
    FROM @extschema@.lead l
    JOIN @extschema@.org o ON o.org_id = l.org_id
   GROUP BY 1, 2, 3
)
SELECT c.org_id,
       d.day,
       c.code                                  AS channel,
       c.kind                                  AS channel_kind,
       coalesce(d.spend, 0)::numeric(14,2)     AS spend,
       coalesce(d.impressions, 0)::bigint      AS impressions,
       coalesce(d.clicks, 0)::bigint           AS clicks,
       coalesce(d.leads, 0)::bigint            AS leads,
       coalesce(d.valid_leads, 0)::bigint      AS valid_leads,
       round(d.spend / nullif(d.leads, 0), 2)       AS cost_per_lead,
       round(d.spend / nullif(d.valid_leads, 0), 2) AS cost_per_valid_lead
  FROM (SELECT coalesce(s.org_id, l.org_id) AS org_id, coalesce(s.day, l.day) AS day,
               coalesce(s.channel_id, l.channel_id) AS channel_id,
               s.spend, s.impressions, s.clicks, l.leads, l.valid_leads
          FROM spend s
          FULL JOIN leads l ON l.org_id = s.org_id AND l.day = s.day AND l.channel_id = s.channel_id) d
  JOIN @extschema@.channel c ON c.org_id = d.org_id AND c.channel_id = d.channel_id;

COMMENT ON VIEW @extschema@.channel_daily IS 'per org, day (org time zone) and channel: ad spend, impressions, clicks, leads by first channel, and cost per lead';
COMMENT ON COLUMN @extschema@.channel_daily.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.channel_daily.day IS 'day in the org time zone';
COMMENT ON COLUMN @extschema@.channel_daily.channel IS 'channel code';
COMMENT ON COLUMN @extschema@.channel_daily.channel_kind IS 'paid, organic, referral, direct or offline';
COMMENT ON COLUMN @extschema@.channel_daily.spend IS 'ad spend of the day';
COMMENT ON COLUMN @extschema@.channel_daily.impressions IS 'ad impressions of the day';
COMMENT ON COLUMN @extschema@.channel_daily.clicks IS 'ad clicks of the day';
COMMENT ON COLUMN @extschema@.channel_daily.leads IS 'new leads whose first submission came through the channel that day';
COMMENT ON COLUMN @extschema@.channel_daily.valid_leads IS 'of those, leads with a valid phone (duplicates are never counted twice)';
COMMENT ON COLUMN @extschema@.channel_daily.cost_per_lead IS 'CPL: spend divided by leads; NULL without leads';
COMMENT ON COLUMN @extschema@.channel_daily.cost_per_valid_lead IS 'spend divided by valid leads; NULL without valid leads';

-- ---------------------------------------------------------------------------
-- Funnel reports for BI (docs/bi.md): since 0.2.  Stages: touch, lead,
-- sms_verified, wechat_followed, trial_booked, trial_attended, paid, renewed,
-- within the org's funnel_window (default 14 days) from the first stage.
-- ---------------------------------------------------------------------------

CREATE VIEW @extschema@.lead_funnel WITH (security_invoker = true) AS
-- each lead's stages from its own touches, events and renewals, read in a
-- LATERAL subquery through the (org_id, lead_id) indexes (since 0.15): a
-- report on a week or a month of leads reads those leads' rows only, where
-- the join to every lead's stages read the whole org (funnel_report's
-- weekly funnel of a month: 1.7-2.3 s -> 0.85 s at scale 1; the whole
-- org's funnel costs about a third more)
SELECT l.org_id,
       l.lead_id,
       (l.created_at AT TIME ZONE o.timezone)::date AS cohort_date,
       fc.code                   AS channel,
       cp.code                   AS campaign,
       l.tier,
       l.city,
       coalesce((f.d).level, 0)  AS steps_reached,
       (f.d).step_times[1]       AS touched_at,
       (f.d).step_times[2]       AS became_lead_at,
       (f.d).step_times[3]       AS sms_verified_at,
       (f.d).step_times[4]       AS wechat_followed_at,
       (f.d).step_times[5]       AS trial_booked_at,
       (f.d).step_times[6]       AS trial_attended_at,
       (f.d).step_times[7]       AS paid_at,
       (f.d).step_times[8]       AS renewed_at
  FROM @extschema@.lead l
  JOIN @extschema@.org o ON o.org_id = l.org_id
  JOIN @extschema@.channel fc ON fc.org_id = l.org_id AND fc.channel_id = l.first_channel_id
  LEFT JOIN @extschema@.campaign cp ON cp.org_id = l.org_id AND cp.campaign_id = l.first_campaign_id
  CROSS JOIN LATERAL (
    SELECT @extschema@.funnel_detail(o.funnel_window, ev.ts, ev.step = 1, ev.step = 2, ev.step = 3, ev.step = 4,
                                     ev.step = 5, ev.step = 6, ev.step = 7, ev.step = 8) AS d
      FROM (SELECT t.occurred_at AS ts, 1 AS step
              FROM @extschema@.touchpoint t WHERE t.org_id = l.org_id AND t.lead_id = l.lead_id
            UNION ALL
            SELECT e.occurred_at,
                   CASE e.event_type WHEN 'form_submitted' THEN 2 WHEN 'sms_verified' THEN 3 WHEN 'wechat_followed' THEN 4
                        WHEN 'trial_booked' THEN 5 WHEN 'trial_attended' THEN 6 WHEN 'paid' THEN 7 ELSE 8 END
              FROM @extschema@.lead_event e
             WHERE e.org_id = l.org_id AND e.lead_id = l.lead_id
               AND e.event_type IN ('form_submitted', 'sms_verified', 'wechat_followed', 'trial_booked', 'trial_attended', 'paid', 'renewed')
            UNION ALL
            SELECT r.renewed_at, 8
              FROM @extschema@.student s
              JOIN @extschema@.enrollment en ON en.org_id = s.org_id AND en.student_id = s.student_id
              JOIN @extschema@.renewal r ON r.org_id = en.org_id AND r.from_enrollment_id = en.enrollment_id
             WHERE s.org_id = l.org_id AND s.lead_id = l.lead_id) ev) f;

COMMENT ON VIEW @extschema@.lead_funnel IS 'one row per lead: how far it got through touch, lead, sms_verified, wechat_followed, trial_booked, trial_attended, paid, renewed within the org funnel window, and when it reached each stage';
COMMENT ON COLUMN @extschema@.lead_funnel.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.lead_funnel.lead_id IS 'lead';
COMMENT ON COLUMN @extschema@.lead_funnel.cohort_date IS 'day the lead was created, in the org time zone';
COMMENT ON COLUMN @extschema@.lead_funnel.channel IS 'channel of the first submission';
COMMENT ON COLUMN @extschema@.lead_funnel.campaign IS 'campaign of the first submission, if any';
COMMENT ON COLUMN @extschema@.lead_funnel.tier IS 'lead tier A to D';
COMMENT ON COLUMN @extschema@.lead_funnel.city IS 'city';
COMMENT ON COLUMN @extschema@.lead_funnel.steps_reached IS 'stages reached in order within the window, 0 to 8';
COMMENT ON COLUMN @extschema@.lead_funnel.touched_at IS 'stage 1: the touch that started the furthest chain';
COMMENT ON COLUMN @extschema@.lead_funnel.became_lead_at IS 'stage 2: form submitted';
COMMENT ON COLUMN @extschema@.lead_funnel.sms_verified_at IS 'stage 3: SMS verified';
COMMENT ON COLUMN @extschema@.lead_funnel.wechat_followed_at IS 'stage 4: followed the WeChat account';
COMMENT ON COLUMN @extschema@.lead_funnel.trial_booked_at IS 'stage 5: trial lesson booked';
COMMENT ON COLUMN @extschema@.lead_funnel.trial_attended_at IS 'stage 6: trial lesson attended';
COMMENT ON COLUMN @extschema@.lead_funnel.paid_at IS 'stage 7: paid';
COMMENT ON COLUMN @extschema@.lead_funnel.renewed_at IS 'stage 8: renewed';

CREATE VIEW @extschema@.funnel_steps WITH (security_invoker = true) AS
SELECT f.org_id,
       f.lead_id,
       f.cohort_date,
       date_trunc('week', f.cohort_date)::date  AS cohort_week,
       date_trunc('month', f.cohort_date)::date AS cohort_month,
       f.channel,
       f.campaign,
       f.tier,
       f.city,
       s.step_number,
       s.step_name,
       s.reached_at,
       round((extract(epoch FROM s.reached_at - s.previous_at) / 3600)::numeric, 2) AS hours_from_previous
  FROM @extschema@.lead_funnel f
  CROSS JOIN LATERAL (
    SELECT k AS step_number,
           (ARRAY['touch', 'lead', 'sms_verified', 'wechat_followed', 'trial_booked', 'trial_attended', 'paid', 'renewed'])[k] AS step_name,
           (ARRAY[f.touched_at, f.became_lead_at, f.sms_verified_at, f.wechat_followed_at, f.trial_booked_at,
                  f.trial_attended_at, f.paid_at, f.renewed_at])[k] AS reached_at,
           (ARRAY[NULL, f.touched_at, f.became_lead_at, f.sms_verified_at, f.wechat_followed_at, f.trial_booked_at,
                  f.trial_attended_at, f.paid_at])[k] AS previous_at
      FROM generate_series(1, f.steps_reached) AS k) s;

COMMENT ON VIEW @extschema@.funnel_steps IS 'one row per lead and funnel stage it reached, with the lead''s cohort and breakdowns, for BI tools to slice';
COMMENT ON COLUMN @extschema@.funnel_steps.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.funnel_steps.lead_id IS 'lead';
COMMENT ON COLUMN @extschema@.funnel_steps.cohort_date IS 'day the lead was created, in the org time zone';
COMMENT ON COLUMN @extschema@.funnel_steps.cohort_week IS 'Monday of the week the lead was created';
COMMENT ON COLUMN @extschema@.funnel_steps.cohort_month IS 'first day of the month the lead was created';
COMMENT ON COLUMN @extschema@.funnel_steps.channel IS 'channel of the first submission';
COMMENT ON COLUMN @extschema@.funnel_steps.campaign IS 'campaign of the first submission, if any';
COMMENT ON COLUMN @extschema@.funnel_steps.tier IS 'lead tier A to D';
COMMENT ON COLUMN @extschema@.funnel_steps.city IS 'city';
COMMENT ON COLUMN @extschema@.funnel_steps.step_number IS 'stage number, 1 (touch) to 8 (renewed)';
COMMENT ON COLUMN @extschema@.funnel_steps.step_name IS 'touch, lead, sms_verified, wechat_followed, trial_booked, trial_attended, paid or renewed';
COMMENT ON COLUMN @extschema@.funnel_steps.reached_at IS 'when the lead reached the stage';
COMMENT ON COLUMN @extschema@.funnel_steps.hours_from_previous IS 'hours from the previous stage; NULL for the first';

CREATE VIEW @extschema@.funnel_report WITH (security_invoker = true) AS
-- each stage a lead reached counts once per period grain and once per
-- breakdown: a join to the two lists, so that each is written once.  A
-- filter on period_grain and breakdown applies before the grouping.
WITH g AS (
  SELECT s.org_id, p.period_grain,
         CASE p.period_grain WHEN 'day' THEN s.cohort_date WHEN 'week' THEN s.cohort_week ELSE s.cohort_month END
           AS period_start,
         b.breakdown,
         CASE b.breakdown WHEN 'all' THEN 'all' WHEN 'channel' THEN s.channel
                          WHEN 'campaign' THEN coalesce(s.campaign, '(none)')
                          WHEN 'tier' THEN coalesce(s.tier::text, '(none)')
                          ELSE coalesce(s.city, '(none)') END AS breakdown_value,
         s.step_number, s.step_name, count(*) AS leads_reached,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY s.hours_from_previous) AS median_hours,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY s.hours_from_previous) AS p90_hours
    FROM @extschema@.funnel_steps s
   CROSS JOIN (VALUES ('day'::text), ('week'), ('month')) AS p(period_grain)
   CROSS JOIN (VALUES ('all'::text), ('channel'), ('campaign'), ('tier'), ('city')) AS b(breakdown)
   GROUP BY 1, 2, 3, 4, 5, 6, 7
)
SELECT g.org_id,
       g.period_grain,
       g.period_start,
       g.breakdown,
       g.breakdown_value,
       g.step_number,
       g.step_name,
       g.leads_reached,
       round(g.leads_reached::numeric / lag(g.leads_reached) OVER w, 4)         AS conversion_from_previous,
       round(g.leads_reached::numeric / first_value(g.leads_reached) OVER w, 4) AS conversion_from_first,
       round(g.median_hours::numeric, 2) AS median_hours_from_previous,
       round(g.p90_hours::numeric, 2)    AS p90_hours_from_previous
  FROM g
WINDOW w AS (PARTITION BY g.org_id, g.period_grain, g.period_start, g.breakdown, g.breakdown_value ORDER BY g.step_number);

COMMENT ON VIEW @extschema@.funnel_report IS 'funnel per org, period (day, week or month of the lead''s creation) and breakdown (all, channel, campaign, tier or city): leads that reached at least each stage, conversion and time between stages; filter on period_grain and breakdown';
COMMENT ON COLUMN @extschema@.funnel_report.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.funnel_report.period_grain IS 'day, week or month';
COMMENT ON COLUMN @extschema@.funnel_report.period_start IS 'first day of the period the leads were created in';
COMMENT ON COLUMN @extschema@.funnel_report.breakdown IS 'all, channel, campaign, tier or city';
COMMENT ON COLUMN @extschema@.funnel_report.breakdown_value IS 'the channel, campaign, tier or city; all for no breakdown; (none) where the lead has none';
COMMENT ON COLUMN @extschema@.funnel_report.step_number IS 'stage number, 1 (touch) to 8 (renewed)';
COMMENT ON COLUMN @extschema@.funnel_report.step_name IS 'touch, lead, sms_verified, wechat_followed, trial_booked, trial_attended, paid or renewed';
COMMENT ON COLUMN @extschema@.funnel_report.leads_reached IS 'leads that reached at least this stage within the window';
COMMENT ON COLUMN @extschema@.funnel_report.conversion_from_previous IS 'leads_reached divided by that of the previous stage';
COMMENT ON COLUMN @extschema@.funnel_report.conversion_from_first IS 'leads_reached divided by that of the first stage';
COMMENT ON COLUMN @extschema@.funnel_report.median_hours_from_previous IS 'median hours from the previous stage to this one';
COMMENT ON COLUMN @extschema@.funnel_report.p90_hours_from_previous IS '90th percentile of hours from the previous stage to this one';
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
-- ---------------------------------------------------------------------------
-- Service side: churn, renewal, refunds, classes, teachers, referrals
-- (docs/reference/service.md, docs/metrics.md): since 0.3
--
-- Definitions:
--   * a term's renewal is due at term_end + org.renewal_grace; it is renewed
--     when a renewal row from it is dated on or before that day;
--   * a spell is a chain of enrollments joined by timely renewals; a student
--     who comes back later starts a new (recurring) spell;
--   * a spell churns when its last term's renewal fell due before the as-of
--     day without one; otherwise it is censored at the as-of day;
--   * the as-of day is org.report_as_of, or today when that is NULL.
-- ---------------------------------------------------------------------------

CREATE VIEW @extschema@.student_term WITH (security_invoker = true) AS
WITH t AS (
  SELECT e.org_id, e.enrollment_id, e.student_id, e.class_id, cc.course_id, cc.teacher_id, cc.area,
         cc.term_start, cc.term_end, e.enrolled_at, e.status, e.ended_at,
         (cc.term_end + o.renewal_grace)::date AS renewal_due,
         (coalesce(o.report_as_of, now()) AT TIME ZONE o.timezone)::date AS as_of_day,
         r.renewed_at, r.to_enrollment_id, o.timezone
    FROM @extschema@.enrollment e
    JOIN @extschema@.org o ON o.org_id = e.org_id
    JOIN @extschema@.course_class cc ON cc.org_id = e.org_id AND cc.class_id = e.class_id
    LEFT JOIN @extschema@.renewal r ON r.org_id = e.org_id AND r.from_enrollment_id = e.enrollment_id
)
SELECT t.org_id, t.enrollment_id, t.student_id, t.class_id, t.course_id, t.teacher_id, t.area,
       t.term_start, t.term_end, t.enrolled_at, t.status, t.ended_at, t.renewal_due,
       CASE WHEN (t.renewed_at AT TIME ZONE t.timezone)::date <= t.as_of_day THEN t.renewed_at END AS renewed_at,
       CASE WHEN t.timely THEN t.to_enrollment_id END AS renewed_into,
       CASE WHEN t.timely THEN 'renewed'
            WHEN t.term_end >= t.as_of_day AND t.status = 'active' THEN 'in_term'
            WHEN t.renewal_due < t.as_of_day THEN 'churned'
            ELSE 'pending' END AS outcome,
       t.as_of_day
  FROM (SELECT t.*, coalesce((t.renewed_at AT TIME ZONE t.timezone)::date <= least(t.renewal_due, t.as_of_day), false) AS timely
          FROM t) t
 WHERE t.term_start <= t.as_of_day;
COMMENT ON VIEW @extschema@.student_term IS 'one row per enrollment (a student''s term in a class) that started by the as-of day, with its renewal outcome';
COMMENT ON COLUMN @extschema@.student_term.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.student_term.enrollment_id IS 'enrollment';
COMMENT ON COLUMN @extschema@.student_term.student_id IS 'student';
COMMENT ON COLUMN @extschema@.student_term.class_id IS 'class (班期)';
COMMENT ON COLUMN @extschema@.student_term.course_id IS 'course of the class';
COMMENT ON COLUMN @extschema@.student_term.teacher_id IS 'teacher of the class';
COMMENT ON COLUMN @extschema@.student_term.area IS 'home area of the class';
COMMENT ON COLUMN @extschema@.student_term.term_start IS 'first day of the term';
COMMENT ON COLUMN @extschema@.student_term.term_end IS 'last day of the term';
COMMENT ON COLUMN @extschema@.student_term.enrolled_at IS 'when the student joined the class';
COMMENT ON COLUMN @extschema@.student_term.status IS 'enrollment status: active, completed, dropped or refunded';
COMMENT ON COLUMN @extschema@.student_term.ended_at IS 'when the enrollment ended; NULL while active';
COMMENT ON COLUMN @extschema@.student_term.renewal_due IS 'last day a renewal counts: term end plus the org''s renewal grace';
COMMENT ON COLUMN @extschema@.student_term.renewed_at IS 'when the family renewed, if they did (even late)';
COMMENT ON COLUMN @extschema@.student_term.renewed_into IS 'the next enrollment of a timely renewal';
COMMENT ON COLUMN @extschema@.student_term.outcome IS 'renewed (in time), in_term (term still running), pending (ended, grace still open) or churned (grace passed without renewal)';
COMMENT ON COLUMN @extschema@.student_term.as_of_day IS 'the as-of day of the report, in the org''s time zone';

CREATE VIEW @extschema@.student_lifetime WITH (security_invoker = true) AS
-- the chains of renewals come from renewal_chains() over each org's terms
-- (since 0.12; a recursive CTE before, which Citus cannot plan)
WITH chain AS (
  SELECT g.org_id, c.enrollment_id, c.first_enrollment_id, c.term_no
    FROM (SELECT st.org_id, array_agg(st.enrollment_id) AS ids, array_agg(st.renewed_into) AS renewed_into
            FROM @extschema@.student_term st GROUP BY st.org_id) g
   CROSS JOIN LATERAL @extschema@.renewal_chains(g.ids, g.renewed_into) c
), spell AS (
  -- each spell's last term, carrying its first term's student, start and segments
  SELECT DISTINCT ON (t.org_id, c.first_enrollment_id)
         t.org_id, first_value(t.student_id) OVER w AS student_id, c.first_enrollment_id,
         first_value(t.enrolled_at) OVER w AS started_at, first_value(t.course_id) OVER w AS course_id,
         first_value(t.class_id) OVER w AS class_id, first_value(t.teacher_id) OVER w AS teacher_id,
         first_value(t.area) OVER w AS area,
         t.enrollment_id, t.term_end, t.ended_at, t.outcome, c.term_no AS terms
    FROM chain c
    JOIN @extschema@.student_term t ON t.org_id = c.org_id AND t.enrollment_id = c.enrollment_id
  WINDOW w AS (PARTITION BY t.org_id, c.first_enrollment_id ORDER BY c.term_no)
   ORDER BY t.org_id, c.first_enrollment_id, c.term_no DESC
), ends AS (
  SELECT s.*, o.timezone,
         CASE WHEN s.outcome = 'churned'
              THEN coalesce(s.ended_at, (s.term_end + 1)::timestamp AT TIME ZONE o.timezone)
              ELSE coalesce(o.report_as_of, now()) END AS end_at
    FROM spell s
    JOIN @extschema@.org o ON o.org_id = s.org_id
)
SELECT s.org_id, s.student_id,
       row_number() OVER (PARTITION BY s.org_id, s.student_id ORDER BY s.started_at, s.first_enrollment_id)::int AS spell_no,
       s.first_enrollment_id, s.enrollment_id AS last_enrollment_id, s.started_at,
       date_trunc('month', s.started_at AT TIME ZONE s.timezone)::date AS cohort_month,
       s.terms,
       CASE s.outcome WHEN 'in_term' THEN s.terms - 1 ELSE s.terms END AS completed_terms,
       s.outcome = 'churned' AS churned,
       s.end_at AS ended_at,
       greatest(0, extract(epoch FROM s.end_at - s.started_at) / 86400)::float8 AS lifetime_days,
       CASE WHEN stu.birth_date IS NULL THEN NULL
            ELSE (2 * floor(extract(year FROM age((s.started_at AT TIME ZONE s.timezone)::date, stu.birth_date)) / 2))::int END AS age_band_start,
       stu.grade, s.course_id, s.class_id, s.teacher_id, s.area, ld.first_channel_id AS channel_id
  FROM ends s
  JOIN @extschema@.student stu ON stu.org_id = s.org_id AND stu.student_id = s.student_id
  LEFT JOIN @extschema@.lead ld ON ld.org_id = stu.org_id AND ld.lead_id = stu.lead_id;
COMMENT ON VIEW @extschema@.student_lifetime IS 'one row per spell: a student''s run of terms joined by timely renewals, with its lifetime, whether it churned, and the segments it belongs to';
COMMENT ON COLUMN @extschema@.student_lifetime.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.student_lifetime.student_id IS 'student';
COMMENT ON COLUMN @extschema@.student_lifetime.spell_no IS '1 for the student''s first spell, 2 and up when they came back after churning (recurring)';
COMMENT ON COLUMN @extschema@.student_lifetime.first_enrollment_id IS 'first enrollment of the spell';
COMMENT ON COLUMN @extschema@.student_lifetime.last_enrollment_id IS 'last enrollment of the spell so far';
COMMENT ON COLUMN @extschema@.student_lifetime.started_at IS 'when the spell began (first enrollment)';
COMMENT ON COLUMN @extschema@.student_lifetime.cohort_month IS 'month the spell began, in the org''s time zone';
COMMENT ON COLUMN @extschema@.student_lifetime.terms IS 'terms started in the spell';
COMMENT ON COLUMN @extschema@.student_lifetime.completed_terms IS 'terms finished: the running term does not count yet';
COMMENT ON COLUMN @extschema@.student_lifetime.churned IS 'true when the spell churned; false when it is still going (censored)';
COMMENT ON COLUMN @extschema@.student_lifetime.ended_at IS 'churn time (end of the last term, or when the student dropped out), or the as-of time when censored';
COMMENT ON COLUMN @extschema@.student_lifetime.lifetime_days IS 'days from the start of the spell to ended_at';
COMMENT ON COLUMN @extschema@.student_lifetime.age_band_start IS 'two-year age band of the child when the spell began: 8 means 8-9 years old';
COMMENT ON COLUMN @extschema@.student_lifetime.grade IS 'school grade of the student';
COMMENT ON COLUMN @extschema@.student_lifetime.course_id IS 'course of the first class of the spell';
COMMENT ON COLUMN @extschema@.student_lifetime.class_id IS 'first class of the spell';
COMMENT ON COLUMN @extschema@.student_lifetime.teacher_id IS 'teacher of the first class';
COMMENT ON COLUMN @extschema@.student_lifetime.area IS 'home area of the first class';
COMMENT ON COLUMN @extschema@.student_lifetime.channel_id IS 'acquisition channel: the lead''s first channel';

CREATE VIEW @extschema@.student_segment WITH (security_invoker = true) AS
-- the segment names in a subquery before the lateral list (since 0.12):
-- Citus 13.0.5 crashes planning the outer joins when the list reads some
-- columns of student_lifetime itself under row-level security
SELECT x.org_id, x.student_id, x.spell_no, s.segment_kind, coalesce(s.segment, 'unknown') AS segment,
       x.lifetime_days, x.completed_terms, x.churned
  FROM (SELECT l.org_id, l.student_id, l.spell_no, l.lifetime_days, l.completed_terms, l.churned, l.area,
               l.age_band_start || '-' || (l.age_band_start + 1) AS age_band, 'grade ' || l.grade AS grade,
               c.code AS course, cc.name AS class, tc.name AS teacher, ch.code AS channel
          FROM @extschema@.student_lifetime l
          LEFT JOIN @extschema@.course c ON c.org_id = l.org_id AND c.course_id = l.course_id
          LEFT JOIN @extschema@.course_class cc ON cc.org_id = l.org_id AND cc.class_id = l.class_id
          LEFT JOIN @extschema@.teacher tc ON tc.org_id = l.org_id AND tc.teacher_id = l.teacher_id
          LEFT JOIN @extschema@.channel ch ON ch.org_id = l.org_id AND ch.channel_id = l.channel_id) x
 CROSS JOIN LATERAL (VALUES
   ('all', 'all'),
   ('age_band', x.age_band),
   ('grade', x.grade),
   ('course', x.course),
   ('class', x.class),
   ('teacher', x.teacher),
   ('area', x.area),
   ('channel', x.channel)) AS s(segment_kind, segment);
COMMENT ON VIEW @extschema@.student_segment IS 'each spell once per segment kind (all, age_band, grade, course, class, teacher, area, channel), for survival by segment';
COMMENT ON COLUMN @extschema@.student_segment.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.student_segment.student_id IS 'student';
COMMENT ON COLUMN @extschema@.student_segment.spell_no IS 'spell of the student, 1 for the first';
COMMENT ON COLUMN @extschema@.student_segment.segment_kind IS 'all, age_band, grade, course, class, teacher, area or channel';
COMMENT ON COLUMN @extschema@.student_segment.segment IS 'the segment: 8-9, grade 3, a course code, class name, teacher name, area or channel code; unknown when missing';
COMMENT ON COLUMN @extschema@.student_segment.lifetime_days IS 'days from the start of the spell to churn or the as-of time';
COMMENT ON COLUMN @extschema@.student_segment.completed_terms IS 'terms finished in the spell';
COMMENT ON COLUMN @extschema@.student_segment.churned IS 'true when the spell churned, false when censored';

CREATE VIEW @extschema@.segment_survival WITH (security_invoker = true) AS
SELECT g.org_id, g.segment_kind, g.segment, g.students, g.churned_students,
       round(g.churned_students::numeric / g.students, 4) AS churned_share,
       m.median AS median_lifetime_days, m.ci_low AS median_ci_low_days, m.ci_high AS median_ci_high_days,
       round(@extschema@.km_at(g.by_terms, 1)::numeric, 4) AS retained_after_1_term,
       round(@extschema@.km_at(g.by_terms, 2)::numeric, 4) AS retained_after_2_terms,
       round(@extschema@.km_at(g.by_terms, 4)::numeric, 4) AS retained_after_4_terms,
       round(@extschema@.km_rmst(g.by_days, 365)::numeric, 1) AS mean_days_in_first_year
  FROM (SELECT s.org_id, s.segment_kind, s.segment, count(*) AS students, count(*) FILTER (WHERE s.churned) AS churned_students,
               @extschema@.km_fit(s.lifetime_days, s.churned) AS by_days,
               @extschema@.km_fit(s.completed_terms, s.churned) AS by_terms
          FROM @extschema@.student_segment s
         GROUP BY s.org_id, s.segment_kind, s.segment) g
 CROSS JOIN LATERAL @extschema@.km_median(g.by_days) m;
COMMENT ON VIEW @extschema@.segment_survival IS 'Kaplan-Meier survival of student spells per segment: median lifetime with its 95% log-log interval, and the share retained after 1, 2 and 4 terms';
COMMENT ON COLUMN @extschema@.segment_survival.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.segment_survival.segment_kind IS 'all, age_band, grade, course, class, teacher, area or channel';
COMMENT ON COLUMN @extschema@.segment_survival.segment IS 'the segment within its kind';
COMMENT ON COLUMN @extschema@.segment_survival.students IS 'spells (students; a returning student counts once per spell)';
COMMENT ON COLUMN @extschema@.segment_survival.churned_students IS 'spells that churned by the as-of day';
COMMENT ON COLUMN @extschema@.segment_survival.churned_share IS 'churned spells / all spells, ignoring censoring (see the Kaplan-Meier columns for the fair comparison)';
COMMENT ON COLUMN @extschema@.segment_survival.median_lifetime_days IS 'Kaplan-Meier median lifetime in days; NULL when more than half are still enrolled';
COMMENT ON COLUMN @extschema@.segment_survival.median_ci_low_days IS 'lower end of the 95% interval of the median';
COMMENT ON COLUMN @extschema@.segment_survival.median_ci_high_days IS 'upper end of the 95% interval of the median; NULL when not reached';
COMMENT ON COLUMN @extschema@.segment_survival.retained_after_1_term IS 'Kaplan-Meier share of spells that renewed after their first term';
COMMENT ON COLUMN @extschema@.segment_survival.retained_after_2_terms IS 'Kaplan-Meier share still enrolled after 2 terms';
COMMENT ON COLUMN @extschema@.segment_survival.retained_after_4_terms IS 'Kaplan-Meier share still enrolled after 4 terms';
COMMENT ON COLUMN @extschema@.segment_survival.mean_days_in_first_year IS 'restricted mean lifetime over the first 365 days';

CREATE VIEW @extschema@.segment_churn_test WITH (security_invoker = true) AS
SELECT g.org_id, g.segment_kind, e.grp AS segment, e.subjects::bigint AS students, e.events::bigint AS churned_students,
       round(e.expected::numeric, 2) AS expected_churned,
       round((e.events / nullif(e.expected, 0))::numeric, 3) AS churn_ratio,
       -- the chi-squared approximation needs some expected churn on both sides
       CASE WHEN e.expected >= 5 AND g.churned - e.expected >= 5 THEN round(e.chi2::numeric, 4) END AS chi2,
       CASE WHEN e.expected >= 5 AND g.churned - e.expected >= 5 THEN e.p_value END AS p_value
  FROM (SELECT s.org_id, s.segment_kind, count(*) FILTER (WHERE s.churned) AS churned,
               @extschema@.survival_by(s.segment, s.lifetime_days, s.churned) AS st
          FROM @extschema@.student_segment s
         WHERE s.segment_kind <> 'all'
         GROUP BY s.org_id, s.segment_kind) g
 CROSS JOIN LATERAL @extschema@.logrank_each(g.st) e;
COMMENT ON VIEW @extschema@.segment_churn_test IS 'log-rank test of each segment against the rest of its kind: churn ratio (observed / expected churn) and p-value; sort by p_value to find where churn differs';
COMMENT ON COLUMN @extschema@.segment_churn_test.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.segment_churn_test.segment_kind IS 'age_band, grade, course, class, teacher, area or channel';
COMMENT ON COLUMN @extschema@.segment_churn_test.segment IS 'the segment tested against all others of its kind';
COMMENT ON COLUMN @extschema@.segment_churn_test.students IS 'spells in the segment';
COMMENT ON COLUMN @extschema@.segment_churn_test.churned_students IS 'spells of the segment that churned';
COMMENT ON COLUMN @extschema@.segment_churn_test.expected_churned IS 'churn expected if the segment churned like the rest';
COMMENT ON COLUMN @extschema@.segment_churn_test.churn_ratio IS 'churned / expected: above 1 churns faster than the rest';
COMMENT ON COLUMN @extschema@.segment_churn_test.chi2 IS 'log-rank chi-squared statistic, 1 degree of freedom; NULL when the segment or the rest expects fewer than 5 churns (too few to test)';
COMMENT ON COLUMN @extschema@.segment_churn_test.p_value IS 'p-value of the log-rank test; small means the segment''s survival differs from the rest; NULL when too few to test';

CREATE VIEW @extschema@.cohort_retention WITH (security_invoker = true) AS
-- since 0.15 each spell reads its student's months (the terms through the
-- (org_id, student_id) index) in a LATERAL subquery: a join with the months
-- of every student, planned as a nested loop when the filtered spells were
-- estimated at one row, ran for minutes where a BI tool filtered on org,
-- kind and month (#22)
WITH member AS (
  -- retention(): [active in the cohort month, ... and active k months later] per student
  SELECT x.org_id, x.student_id, x.cohort_month, x.cohort_kind,
         @extschema@.retention(x.k = 0, x.k = 1, x.k = 2, x.k = 3, x.k = 4, x.k = 5, x.k = 6,
                               x.k = 7, x.k = 8, x.k = 9, x.k = 10, x.k = 11, x.k = 12) AS on_month,
         max(x.month) AS last_month
    FROM (SELECT l.org_id, l.student_id, l.spell_no, l.cohort_month, a.month,
                 CASE WHEN l.spell_no = 1 THEN 'first_time' ELSE 'recurring' END AS cohort_kind,
                 ((extract(year FROM a.month) - extract(year FROM l.cohort_month)) * 12
                  + extract(month FROM a.month) - extract(month FROM l.cohort_month))::int AS k
            FROM @extschema@.student_lifetime l
           CROSS JOIN LATERAL (
             -- months in which the student had an enrollment running, up to the as-of day
             SELECT DISTINCT m::date AS month
               FROM @extschema@.student_term t
               JOIN @extschema@.org o ON o.org_id = t.org_id
              CROSS JOIN LATERAL generate_series(date_trunc('month', t.enrolled_at AT TIME ZONE o.timezone),
                                                 date_trunc('month', least(coalesce(t.ended_at AT TIME ZONE o.timezone, t.term_end),
                                                                           t.as_of_day)), interval '1 month') m
              WHERE t.org_id = l.org_id AND t.student_id = l.student_id) a
           WHERE a.month >= l.cohort_month) x
   GROUP BY x.org_id, x.student_id, x.spell_no, x.cohort_month, x.cohort_kind
)
SELECT m.org_id, m.cohort_month, m.cohort_kind, (k.i - 1)::int AS months_since,
       count(*) AS cohort_students,
       sum(m.on_month[k.i]) AS active_students,
       count(*) FILTER (WHERE m.last_month >= (m.cohort_month + (k.i - 1) * interval '1 month')::date) AS active_or_later_students,
       round(sum(m.on_month[k.i])::numeric / count(*), 4) AS retention_on,
       round((count(*) FILTER (WHERE m.last_month >= (m.cohort_month + (k.i - 1) * interval '1 month')::date))::numeric / count(*), 4) AS retention_on_or_after
  FROM member m
  JOIN @extschema@.org o ON o.org_id = m.org_id
 CROSS JOIN LATERAL generate_series(1, 13) k(i)
 WHERE (m.cohort_month + (k.i - 1) * interval '1 month')::date
       <= date_trunc('month', coalesce(o.report_as_of, now()) AT TIME ZONE o.timezone)::date
 GROUP BY m.org_id, m.cohort_month, m.cohort_kind, k.i;
COMMENT ON VIEW @extschema@.cohort_retention IS 'cohort retention matrix: students who began a spell in a month, and how many were active that many months later ("on") or then or later ("on or after"), first-time and recurring apart; months 0 to 12';
COMMENT ON COLUMN @extschema@.cohort_retention.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.cohort_retention.cohort_month IS 'month the spells began';
COMMENT ON COLUMN @extschema@.cohort_retention.cohort_kind IS 'first_time (the student''s first spell) or recurring (a returning student)';
COMMENT ON COLUMN @extschema@.cohort_retention.months_since IS 'months after the cohort month, 0 to 12';
COMMENT ON COLUMN @extschema@.cohort_retention.cohort_students IS 'students in the cohort';
COMMENT ON COLUMN @extschema@.cohort_retention.active_students IS 'students of the cohort with a term running in that month';
COMMENT ON COLUMN @extschema@.cohort_retention.active_or_later_students IS 'students of the cohort active in that month or any later one';
COMMENT ON COLUMN @extschema@.cohort_retention.retention_on IS 'active_students / cohort_students';
COMMENT ON COLUMN @extschema@.cohort_retention.retention_on_or_after IS 'active_or_later_students / cohort_students';

CREATE VIEW @extschema@.renewal_rate WITH (security_invoker = true) AS
-- each term counts once overall and once by its course, teacher and class: a
-- join to the list of breakdowns (no GROUPING SETS, which Citus cannot plan)
SELECT t.org_id, date_trunc('month', t.term_end)::date AS term_end_month,
       b.breakdown,
       coalesce(CASE b.breakdown WHEN 'class' THEN t.class_id WHEN 'teacher' THEN t.teacher_id
                                 WHEN 'course' THEN t.course_id END, 0) AS breakdown_id,
       coalesce(CASE b.breakdown WHEN 'class' THEN max(cc.name) WHEN 'teacher' THEN max(tc.name)
                                 WHEN 'course' THEN max(c.name) ELSE 'all' END, 'unknown') AS breakdown_name,
       count(*) FILTER (WHERE t.outcome IN ('renewed', 'churned')) AS up_for_renewal,
       count(*) FILTER (WHERE t.outcome = 'renewed') AS renewed,
       count(*) FILTER (WHERE t.outcome = 'pending') AS pending,
       round((count(*) FILTER (WHERE t.outcome = 'renewed'))::numeric
             / nullif(count(*) FILTER (WHERE t.outcome IN ('renewed', 'churned')), 0), 4) AS renewal_rate,
       count(*) FILTER (WHERE t.outcome = 'renewed' AND nx.course_id = t.course_id) AS continued_same_course,
       round((count(*) FILTER (WHERE t.outcome = 'renewed' AND nx.course_id = t.course_id))::numeric
             / nullif(count(*) FILTER (WHERE t.outcome IN ('renewed', 'churned')), 0), 4) AS continuation_rate
  FROM @extschema@.student_term t
  LEFT JOIN @extschema@.student_term nx ON nx.org_id = t.org_id AND nx.enrollment_id = t.renewed_into
  LEFT JOIN @extschema@.course c ON c.org_id = t.org_id AND c.course_id = t.course_id
  LEFT JOIN @extschema@.teacher tc ON tc.org_id = t.org_id AND tc.teacher_id = t.teacher_id
  LEFT JOIN @extschema@.course_class cc ON cc.org_id = t.org_id AND cc.class_id = t.class_id
 CROSS JOIN (VALUES ('all'::text), ('course'), ('teacher'), ('class')) AS b(breakdown)
 WHERE t.outcome <> 'in_term'
 GROUP BY t.org_id, date_trunc('month', t.term_end), b.breakdown,
          CASE b.breakdown WHEN 'class' THEN t.class_id WHEN 'teacher' THEN t.teacher_id WHEN 'course' THEN t.course_id END;
COMMENT ON VIEW @extschema@.renewal_rate IS 'renewal rate (续费率) and class continuation rate (续班率) by month of term end, overall and by course, teacher and class';
COMMENT ON COLUMN @extschema@.renewal_rate.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.renewal_rate.term_end_month IS 'month in which the terms ended';
COMMENT ON COLUMN @extschema@.renewal_rate.breakdown IS 'all, course, teacher or class';
COMMENT ON COLUMN @extschema@.renewal_rate.breakdown_id IS 'course, teacher or class id; 0 for all';
COMMENT ON COLUMN @extschema@.renewal_rate.breakdown_name IS 'course, teacher or class name; all for all';
COMMENT ON COLUMN @extschema@.renewal_rate.up_for_renewal IS 'terms whose renewal was decided: renewed in time, or the grace period passed (the denominator)';
COMMENT ON COLUMN @extschema@.renewal_rate.renewed IS 'terms renewed within the grace period';
COMMENT ON COLUMN @extschema@.renewal_rate.pending IS 'terms ended whose grace period is still open and not renewed yet (left out of the rate)';
COMMENT ON COLUMN @extschema@.renewal_rate.renewal_rate IS 'renewed / up_for_renewal (续费率)';
COMMENT ON COLUMN @extschema@.renewal_rate.continued_same_course IS 'renewals into a class of the same course (the next term of it)';
COMMENT ON COLUMN @extschema@.renewal_rate.continuation_rate IS 'continued_same_course / up_for_renewal (续班率; same denominator as renewal_rate)';

CREATE VIEW @extschema@.refund_rate WITH (security_invoker = true) AS
-- each paid order counts once overall and once by its course (a join to the
-- list of breakdowns, not GROUPING SETS)
SELECT so.org_id, date_trunc('month', so.paid_at AT TIME ZONE o.timezone)::date AS paid_month,
       b.breakdown,
       CASE b.breakdown WHEN 'course' THEN coalesce(max(c.name), 'no course') ELSE 'all' END AS breakdown_name,
       count(*) AS paid_orders,
       count(*) FILTER (WHERE rf.refunded > 0) AS refunded_orders,
       round((count(*) FILTER (WHERE rf.refunded > 0))::numeric / count(*), 4) AS refund_rate_by_count,
       sum(so.amount) AS paid_amount,
       coalesce(sum(rf.refunded), 0) AS refunded_amount,
       round(coalesce(sum(rf.refunded), 0) / nullif(sum(so.amount), 0), 4) AS refund_rate_by_amount
  FROM @extschema@.sales_order so
  JOIN @extschema@.org o ON o.org_id = so.org_id
  LEFT JOIN @extschema@.course c ON c.org_id = so.org_id AND c.course_id = so.course_id
  LEFT JOIN (SELECT r.org_id, r.order_id, sum(r.amount) AS refunded FROM @extschema@.refund r GROUP BY r.org_id, r.order_id) rf
         ON rf.org_id = so.org_id AND rf.order_id = so.order_id
 CROSS JOIN (VALUES ('all'::text), ('course')) AS b(breakdown)
 WHERE so.status = 'paid'
 GROUP BY so.org_id, date_trunc('month', so.paid_at AT TIME ZONE o.timezone), b.breakdown,
          CASE b.breakdown WHEN 'course' THEN so.course_id END;
COMMENT ON VIEW @extschema@.refund_rate IS 'refund rate by count and by amount, by month of payment (refunds count in the month the order was paid), overall and by course';
COMMENT ON COLUMN @extschema@.refund_rate.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.refund_rate.paid_month IS 'month the orders were paid, in the org''s time zone';
COMMENT ON COLUMN @extschema@.refund_rate.breakdown IS 'all or course';
COMMENT ON COLUMN @extschema@.refund_rate.breakdown_name IS 'course name; all for all';
COMMENT ON COLUMN @extschema@.refund_rate.paid_orders IS 'paid orders';
COMMENT ON COLUMN @extschema@.refund_rate.refunded_orders IS 'paid orders with any refund';
COMMENT ON COLUMN @extschema@.refund_rate.refund_rate_by_count IS 'refunded_orders / paid_orders';
COMMENT ON COLUMN @extschema@.refund_rate.paid_amount IS 'amount paid';
COMMENT ON COLUMN @extschema@.refund_rate.refunded_amount IS 'amount refunded of those orders';
COMMENT ON COLUMN @extschema@.refund_rate.refund_rate_by_amount IS 'refunded_amount / paid_amount';

CREATE VIEW @extschema@.class_health WITH (security_invoker = true) AS
SELECT cc.org_id, cc.class_id, cc.name AS class_name, cc.course_id, cc.teacher_id, cc.term_start, cc.term_end, cc.status,
       coalesce(en.students, 0) AS students,
       coalesce(ls.lessons_held, 0) AS lessons_held,
       round(at.attended::numeric / nullif(at.expected, 0), 4) AS attendance_rate,
       coalesce(hw.homework_due, 0) AS homework_due,
       round(hs.submitted::numeric / nullif(hw.homework_due * en.students, 0), 4) AS homework_submission_rate,
       round(hs.on_time::numeric / nullif(hs.submitted, 0), 4) AS homework_on_time_rate,
       round(hs.avg_score, 1) AS average_grade
  FROM @extschema@.course_class cc
  JOIN @extschema@.org o ON o.org_id = cc.org_id
  LEFT JOIN (SELECT e.org_id, e.class_id, count(*) AS students FROM @extschema@.enrollment e GROUP BY 1, 2) en
         ON en.org_id = cc.org_id AND en.class_id = cc.class_id
  LEFT JOIN LATERAL (SELECT count(*) AS lessons_held FROM @extschema@.lesson l
                      WHERE l.org_id = cc.org_id AND l.class_id = cc.class_id
                        AND l.starts_at <= coalesce(o.report_as_of, now())) ls ON true
  LEFT JOIN LATERAL (SELECT count(*) FILTER (WHERE a.status IN ('present', 'late')) AS attended,
                            count(*) FILTER (WHERE a.status <> 'excused') AS expected
                       FROM @extschema@.lesson l
                       JOIN @extschema@.attendance a ON a.org_id = l.org_id AND a.lesson_id = l.lesson_id
                      WHERE l.org_id = cc.org_id AND l.class_id = cc.class_id) at ON true
  LEFT JOIN LATERAL (SELECT count(*) AS homework_due FROM @extschema@.lesson l
                       JOIN @extschema@.homework h ON h.org_id = l.org_id AND h.lesson_id = l.lesson_id
                      WHERE l.org_id = cc.org_id AND l.class_id = cc.class_id
                        AND h.due_at <= coalesce(o.report_as_of, now())) hw ON true
  LEFT JOIN LATERAL (SELECT count(*) AS submitted, count(*) FILTER (WHERE s.submitted_at <= h.due_at) AS on_time,
                            avg(s.score) AS avg_score
                       FROM @extschema@.lesson l
                       JOIN @extschema@.homework h ON h.org_id = l.org_id AND h.lesson_id = l.lesson_id
                       JOIN @extschema@.homework_submission s ON s.org_id = h.org_id AND s.homework_id = h.homework_id
                      WHERE l.org_id = cc.org_id AND l.class_id = cc.class_id
                        AND h.due_at <= coalesce(o.report_as_of, now())) hs ON true;
COMMENT ON VIEW @extschema@.class_health IS 'health of each class: attendance, homework submission and on-time rates, average grade';
COMMENT ON COLUMN @extschema@.class_health.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.class_health.class_id IS 'class';
COMMENT ON COLUMN @extschema@.class_health.class_name IS 'class name';
COMMENT ON COLUMN @extschema@.class_health.course_id IS 'course';
COMMENT ON COLUMN @extschema@.class_health.teacher_id IS 'teacher';
COMMENT ON COLUMN @extschema@.class_health.term_start IS 'first day of the term';
COMMENT ON COLUMN @extschema@.class_health.term_end IS 'last day of the term';
COMMENT ON COLUMN @extschema@.class_health.status IS 'planned, running, finished or cancelled';
COMMENT ON COLUMN @extschema@.class_health.students IS 'students enrolled, whatever their status';
COMMENT ON COLUMN @extschema@.class_health.lessons_held IS 'lessons started by the as-of time';
COMMENT ON COLUMN @extschema@.class_health.attendance_rate IS 'present or late / attendance records that are not excused';
COMMENT ON COLUMN @extschema@.class_health.homework_due IS 'homework due by the as-of time';
COMMENT ON COLUMN @extschema@.class_health.homework_submission_rate IS 'submissions / (homework due x students)';
COMMENT ON COLUMN @extschema@.class_health.homework_on_time_rate IS 'submissions handed in by the deadline / submissions';
COMMENT ON COLUMN @extschema@.class_health.average_grade IS 'average score of graded submissions, 0 to 100';

CREATE VIEW @extschema@.teacher_load WITH (security_invoker = true) AS
SELECT tc.org_id, tc.teacher_id, tc.name AS teacher_name, tc.kind,
       count(DISTINCT cc.class_id) FILTER (WHERE cc.term_start <= (coalesce(o.report_as_of, now()) AT TIME ZONE o.timezone)::date
                                             AND cc.term_end >= (coalesce(o.report_as_of, now()) AT TIME ZONE o.timezone)::date) AS classes_running,
       count(DISTINCT t.student_id) FILTER (WHERE t.status = 'active' AND cc.term_end >= t.as_of_day) AS students_in_term,
       count(DISTINCT cc.class_id) AS classes_taught,
       count(DISTINCT t.student_id) AS students_taught,
       round((count(*) FILTER (WHERE t.outcome = 'renewed'))::numeric
             / nullif(count(*) FILTER (WHERE t.outcome IN ('renewed', 'churned')), 0), 4) AS renewal_rate
  FROM @extschema@.teacher tc
  JOIN @extschema@.org o ON o.org_id = tc.org_id
  LEFT JOIN @extschema@.course_class cc ON cc.org_id = tc.org_id AND cc.teacher_id = tc.teacher_id
  LEFT JOIN @extschema@.student_term t ON t.org_id = cc.org_id AND t.class_id = cc.class_id
 GROUP BY tc.org_id, tc.teacher_id, tc.name, tc.kind;
COMMENT ON VIEW @extschema@.teacher_load IS 'load of each teacher: classes and students now and in all, and the renewal rate of their students';
COMMENT ON COLUMN @extschema@.teacher_load.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.teacher_load.teacher_id IS 'teacher';
COMMENT ON COLUMN @extschema@.teacher_load.teacher_name IS 'teacher name';
COMMENT ON COLUMN @extschema@.teacher_load.kind IS 'trial, formal or tutor';
COMMENT ON COLUMN @extschema@.teacher_load.classes_running IS 'classes whose term includes the as-of day';
COMMENT ON COLUMN @extschema@.teacher_load.students_in_term IS 'students in a running term of their classes';
COMMENT ON COLUMN @extschema@.teacher_load.classes_taught IS 'classes taught, all terms';
COMMENT ON COLUMN @extschema@.teacher_load.students_taught IS 'distinct students taught, all terms';
COMMENT ON COLUMN @extschema@.teacher_load.renewal_rate IS 'renewal rate of the terms they taught';

CREATE VIEW @extschema@.at_risk_students WITH (security_invoker = true) AS
SELECT t.org_id, t.student_id, stu.name AS student_name, t.enrollment_id, t.class_id, cc.name AS class_name,
       t.term_end, (t.term_end - t.as_of_day) AS days_left,
       round(at.attended::numeric / nullif(at.expected, 0), 4) AS attendance_rate,
       coalesce(hw.missed, 0) AS homework_missed,
       CASE WHEN coalesce(at.attended::numeric / nullif(at.expected, 0), 1) < o.at_risk_attendance
              OR coalesce(hw.missed, 0) > 0 THEN 'high' ELSE 'watch' END AS risk_level,
       array_remove(ARRAY[CASE WHEN at.attended::numeric / nullif(at.expected, 0) < o.at_risk_attendance THEN 'low attendance' END,
                          CASE WHEN hw.missed > 0 THEN 'missed homework' END], NULL) AS risk_reasons
  FROM @extschema@.student_term t
  JOIN @extschema@.org o ON o.org_id = t.org_id
  JOIN @extschema@.student stu ON stu.org_id = t.org_id AND stu.student_id = t.student_id
  JOIN @extschema@.course_class cc ON cc.org_id = t.org_id AND cc.class_id = t.class_id
  LEFT JOIN LATERAL (SELECT count(*) FILTER (WHERE a.status IN ('present', 'late')) AS attended,
                            count(*) FILTER (WHERE a.status <> 'excused') AS expected
                       FROM @extschema@.lesson l
                       JOIN @extschema@.attendance a ON a.org_id = l.org_id AND a.lesson_id = l.lesson_id
                      WHERE l.org_id = t.org_id AND l.class_id = t.class_id AND a.student_id = t.student_id) at ON true
  LEFT JOIN LATERAL (SELECT count(*) AS missed
                       FROM @extschema@.lesson l
                       JOIN @extschema@.homework h ON h.org_id = l.org_id AND h.lesson_id = l.lesson_id
                      WHERE l.org_id = t.org_id AND l.class_id = t.class_id
                        AND h.due_at <= coalesce(o.report_as_of, now())
                        AND NOT EXISTS (SELECT 1 FROM @extschema@.homework_submission s
                                         WHERE s.org_id = h.org_id AND s.homework_id = h.homework_id
                                           AND s.student_id = t.student_id)) hw ON true
 WHERE t.outcome = 'in_term' AND t.renewed_at IS NULL
   AND t.term_end <= (t.as_of_day + o.at_risk_horizon)::date;
COMMENT ON VIEW @extschema@.at_risk_students IS 'students whose term ends within the org''s at_risk_horizon and who have not renewed yet; high risk when attendance is below at_risk_attendance or homework was missed';
COMMENT ON COLUMN @extschema@.at_risk_students.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.at_risk_students.student_id IS 'student';
COMMENT ON COLUMN @extschema@.at_risk_students.student_name IS 'student name';
COMMENT ON COLUMN @extschema@.at_risk_students.enrollment_id IS 'the running enrollment';
COMMENT ON COLUMN @extschema@.at_risk_students.class_id IS 'class';
COMMENT ON COLUMN @extschema@.at_risk_students.class_name IS 'class name';
COMMENT ON COLUMN @extschema@.at_risk_students.term_end IS 'last day of the term';
COMMENT ON COLUMN @extschema@.at_risk_students.days_left IS 'days from the as-of day to the end of the term';
COMMENT ON COLUMN @extschema@.at_risk_students.attendance_rate IS 'the student''s present or late / not excused records this term';
COMMENT ON COLUMN @extschema@.at_risk_students.homework_missed IS 'homework due this term that the student did not hand in';
COMMENT ON COLUMN @extschema@.at_risk_students.risk_level IS 'high (low attendance or missed homework) or watch';
COMMENT ON COLUMN @extschema@.at_risk_students.risk_reasons IS 'why the risk is high: low attendance, missed homework';

CREATE VIEW @extschema@.referral_performance WITH (security_invoker = true) AS
SELECT r.org_id, r.referrer_student_id, stu.name AS referrer_name,
       count(*) AS referrals,
       count(*) FILTER (WHERE paid.lead_id IS NOT NULL) AS referred_paid,
       round((count(*) FILTER (WHERE paid.lead_id IS NOT NULL))::numeric / count(*), 4) AS referred_conversion_rate,
       coalesce(sum(r.reward), 0) AS rewards,
       min(r.referred_at) AS first_referral_at,
       max(r.referred_at) AS last_referral_at
  FROM @extschema@.referral r
  JOIN @extschema@.student stu ON stu.org_id = r.org_id AND stu.student_id = r.referrer_student_id
  LEFT JOIN LATERAL (SELECT so.lead_id FROM @extschema@.sales_order so
                      WHERE so.org_id = r.org_id AND so.lead_id = r.referred_lead_id AND so.status = 'paid'
                      LIMIT 1) paid ON true
 GROUP BY r.org_id, r.referrer_student_id, stu.name;
COMMENT ON VIEW @extschema@.referral_performance IS 'referrals (转介绍) per referring student, and how many referred leads became paying students';
COMMENT ON COLUMN @extschema@.referral_performance.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.referral_performance.referrer_student_id IS 'student who referred';
COMMENT ON COLUMN @extschema@.referral_performance.referrer_name IS 'name of the student who referred';
COMMENT ON COLUMN @extschema@.referral_performance.referrals IS 'leads the student referred';
COMMENT ON COLUMN @extschema@.referral_performance.referred_paid IS 'referred leads with a paid order';
COMMENT ON COLUMN @extschema@.referral_performance.referred_conversion_rate IS 'referred_paid / referrals';
COMMENT ON COLUMN @extschema@.referral_performance.rewards IS 'rewards paid to the referrer';
COMMENT ON COLUMN @extschema@.referral_performance.first_referral_at IS 'first referral';
COMMENT ON COLUMN @extschema@.referral_performance.last_referral_at IS 'latest referral';

CREATE VIEW @extschema@.model_registry WITH (security_invoker = true) AS
SELECT cm.org_id, cm.model_id, cm.name, cm.version, cm.kind, cm.active, cm.trained_at, cm.trained_from, cm.trained_to,
       cm.test_from, cm.rows_train, cm.rows_test, cm.positives_train,
       round(cm.auc_train::numeric, 4) AS auc_train, round(cm.auc_test::numeric, 4) AS auc_test,
       round(cm.log_loss_test::numeric, 4) AS log_loss_test, cm.iterations, cm.converged,
       jsonb_array_length(cm.encoding -> 'features') AS features,
       cm.stage
  FROM @extschema@.conversion_model cm;
COMMENT ON VIEW @extschema@.model_registry IS 'every trained conversion model with its held-out metrics, logreg and the naive Bayes baseline side by side';
COMMENT ON COLUMN @extschema@.model_registry.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.model_registry.model_id IS 'model id';
COMMENT ON COLUMN @extschema@.model_registry.name IS 'model name';
COMMENT ON COLUMN @extschema@.model_registry.version IS 'version under its name';
COMMENT ON COLUMN @extschema@.model_registry.kind IS 'logreg or naive_bayes';
COMMENT ON COLUMN @extschema@.model_registry.active IS 'the active model of its stage: the one score_leads (contact) or ingest_lead (form) uses';
COMMENT ON COLUMN @extschema@.model_registry.trained_at IS 'when it was trained';
COMMENT ON COLUMN @extschema@.model_registry.trained_from IS 'first lead creation time learned from';
COMMENT ON COLUMN @extschema@.model_registry.trained_to IS 'end of the creation times learned from';
COMMENT ON COLUMN @extschema@.model_registry.test_from IS 'start of the held-out period';
COMMENT ON COLUMN @extschema@.model_registry.rows_train IS 'leads learned from';
COMMENT ON COLUMN @extschema@.model_registry.rows_test IS 'held-out leads';
COMMENT ON COLUMN @extschema@.model_registry.positives_train IS 'converted leads learned from';
COMMENT ON COLUMN @extschema@.model_registry.auc_train IS 'ROC AUC on the training leads';
COMMENT ON COLUMN @extschema@.model_registry.auc_test IS 'ROC AUC on the held-out leads (compare models here)';
COMMENT ON COLUMN @extschema@.model_registry.log_loss_test IS 'log loss on the held-out leads (lower is better)';
COMMENT ON COLUMN @extschema@.model_registry.iterations IS 'IRLS passes (logreg)';
COMMENT ON COLUMN @extschema@.model_registry.converged IS 'whether the fit converged (logreg)';
COMMENT ON COLUMN @extschema@.model_registry.stage IS 'contact (learns from reps'' work too: lead.score) or form (only what the form brings: lead.form_score); since 0.16';
COMMENT ON COLUMN @extschema@.model_registry.features IS 'number of features in the encoding';

CREATE VIEW @extschema@.model_coefficients WITH (security_invoker = true) AS
SELECT cm.org_id, cm.model_id, cm.name, cm.version, c.i::int AS position,
       CASE WHEN c.i = 1 THEN '(intercept)' ELSE cm.encoding -> 'features' -> (c.i::int - 2) ->> 'name' END AS feature,
       c.coef AS coefficient, cm.std_err[c.i] AS std_err, cm.p_values[c.i] AS p_value, exp(c.coef) AS odds_ratio
  FROM @extschema@.conversion_model cm, unnest(cm.coef) WITH ORDINALITY c(coef, i)
 WHERE cm.kind = 'logreg';
COMMENT ON VIEW @extschema@.model_coefficients IS 'coefficients of each logreg model with standard error, p-value and odds ratio';
COMMENT ON COLUMN @extschema@.model_coefficients.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.model_coefficients.model_id IS 'model id';
COMMENT ON COLUMN @extschema@.model_coefficients.name IS 'model name';
COMMENT ON COLUMN @extschema@.model_coefficients.version IS 'model version';
COMMENT ON COLUMN @extschema@.model_coefficients.position IS '1 for the intercept, then the features in encoding order';
COMMENT ON COLUMN @extschema@.model_coefficients.feature IS 'feature name, such as channel=douyin or log_touches';
COMMENT ON COLUMN @extschema@.model_coefficients.coefficient IS 'coefficient on the log-odds';
COMMENT ON COLUMN @extschema@.model_coefficients.std_err IS 'its standard error';
COMMENT ON COLUMN @extschema@.model_coefficients.p_value IS 'Wald p-value';
COMMENT ON COLUMN @extschema@.model_coefficients.odds_ratio IS 'exp(coefficient): how the odds of converting multiply';

CREATE VIEW @extschema@.score_distribution WITH (security_invoker = true) AS
SELECT l.org_id, coalesce(l.tier::text, 'none') AS tier, ch.code AS channel, count(*) AS scored_leads,
       round(avg(l.score)::numeric, 4) AS mean_score,
       round((percentile_cont(0.1) WITHIN GROUP (ORDER BY l.score))::numeric, 4) AS p10_score,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY l.score))::numeric, 4) AS median_score,
       round((percentile_cont(0.9) WITHIN GROUP (ORDER BY l.score))::numeric, 4) AS p90_score
  FROM @extschema@.lead l
  JOIN @extschema@.channel ch ON ch.org_id = l.org_id AND ch.channel_id = l.first_channel_id
 WHERE l.score IS NOT NULL
 GROUP BY l.org_id, l.tier, ch.code;
COMMENT ON VIEW @extschema@.score_distribution IS 'distribution of lead scores by tier and first channel';
COMMENT ON COLUMN @extschema@.score_distribution.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.score_distribution.tier IS 'lead tier A to D, none when not tiered yet';
COMMENT ON COLUMN @extschema@.score_distribution.channel IS 'first channel code';
COMMENT ON COLUMN @extschema@.score_distribution.scored_leads IS 'leads with a score';
COMMENT ON COLUMN @extschema@.score_distribution.mean_score IS 'mean score';
COMMENT ON COLUMN @extschema@.score_distribution.p10_score IS '10th percentile of the score';
COMMENT ON COLUMN @extschema@.score_distribution.median_score IS 'median score';
COMMENT ON COLUMN @extschema@.score_distribution.p90_score IS '90th percentile of the score';

-- every lead's features (since 0.12; lead_feature_values(org_id) gives one
-- org's rows): a view, so that model_lift joins it where Citus can plan it
CREATE VIEW @extschema@.lead_features WITH (security_invoker = true) AS
WITH touches AS (
  SELECT t.org_id, t.lead_id, count(*) AS n FROM @extschema@.touchpoint t GROUP BY t.org_id, t.lead_id
), first_contact AS (
  SELECT f.org_id, f.lead_id, min(f.occurred_at) AS at FROM @extschema@.follow_up f GROUP BY f.org_id, f.lead_id
), paid AS (
  SELECT s.org_id, s.lead_id, min(s.paid_at) AS at FROM @extschema@.sales_order s
   WHERE s.status = 'paid' AND NOT s.is_renewal GROUP BY s.org_id, s.lead_id
), ev AS (
  -- the behaviour stage, as lead_tiers() has it
  SELECT e.org_id, e.lead_id,
         bool_or(e.event_type = 'trial_booked' AND e.attrs @> '{"self_booked": true}') AS self_booked,
         bool_or(e.event_type = 'wechat_followed') AS followed,
         bool_or(e.event_type = 'sms_verified') AS verified
    FROM @extschema@.lead_event e
   WHERE e.event_type IN ('trial_booked', 'wechat_followed', 'sms_verified')
   GROUP BY e.org_id, e.lead_id
), tr AS (
  SELECT DISTINCT t.org_id, t.lead_id FROM @extschema@.trial_lesson t WHERE t.self_booked
), tags AS (
  -- each tag of the lead as a feature of its own, "tag <name>": 1 (since 0.17)
  SELECT lt.org_id, lt.lead_id, jsonb_object_agg('tag ' || tg.name, 1) AS vals
    FROM @extschema@.lead_tag lt JOIN @extschema@.tag tg ON tg.org_id = lt.org_id AND tg.tag_id = lt.tag_id
   GROUP BY lt.org_id, lt.lead_id
)
SELECT l.org_id, l.lead_id, l.created_at, l.status,
       jsonb_build_object(
         'channel', ch.code,
         'subject', coalesce(l.subject, 'unknown'),
         'grade', coalesce('grade ' || l.grade, 'unknown'),
         'city_tier', coalesce('tier ' || l.city_tier, 'unknown'),
         'age_band', coalesce((2 * (l.child_age / 2)) || '-' || (2 * (l.child_age / 2) + 1), 'unknown'),
         'stage', (CASE WHEN tr.lead_id IS NOT NULL OR ev.self_booked THEN 'A' WHEN ev.followed THEN 'B'
                        WHEN ev.verified THEN 'C' ELSE 'D' END)::char(1),
         'log_touches', ln(1 + coalesce(tc.n, 0)),
         'log_response_hours', CASE WHEN fc.at IS NULL THEN 0
                                    ELSE ln(1 + least(720, greatest(0, extract(epoch FROM fc.at - l.created_at) / 3600))) END,
         'no_follow_up', (fc.at IS NULL)::int) || coalesce(tg.vals, '{}') AS vals,
       coalesce(p.at <= l.created_at + o.conversion_days * interval '1 day', false) AS converted,
       l.created_at + o.conversion_days * interval '1 day' <= coalesce(o.report_as_of, now()) AS label_known
  FROM @extschema@.lead l
  JOIN @extschema@.org o ON o.org_id = l.org_id
  JOIN @extschema@.channel ch ON ch.org_id = l.org_id AND ch.channel_id = l.first_channel_id
  LEFT JOIN tags tg ON tg.org_id = l.org_id AND tg.lead_id = l.lead_id
  LEFT JOIN ev ON ev.org_id = l.org_id AND ev.lead_id = l.lead_id
  LEFT JOIN tr ON tr.org_id = l.org_id AND tr.lead_id = l.lead_id
  LEFT JOIN touches tc ON tc.org_id = l.org_id AND tc.lead_id = l.lead_id
  LEFT JOIN first_contact fc ON fc.org_id = l.org_id AND fc.lead_id = l.lead_id
  LEFT JOIN paid p ON p.org_id = l.org_id AND p.lead_id = l.lead_id;
COMMENT ON VIEW @extschema@.lead_features IS 'the raw attributes the conversion model learns from, per lead (channel, subject, grade, city tier, age band, behaviour stage, touches, response time, tags), with the label: paid within org.conversion_days';
COMMENT ON COLUMN @extschema@.lead_features.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.lead_features.lead_id IS 'lead';
COMMENT ON COLUMN @extschema@.lead_features.created_at IS 'when the lead came in';
COMMENT ON COLUMN @extschema@.lead_features.status IS 'sales status of the lead';
COMMENT ON COLUMN @extschema@.lead_features.vals IS 'the features as a JSON object: channel, subject, grade, city_tier, age_band, stage (A-D), log_touches, log_response_hours, no_follow_up, and "tag <name>": 1 for each tag of the lead (grade and tags since 0.17)';
COMMENT ON COLUMN @extschema@.lead_features.converted IS 'the label: paid within org.conversion_days of coming in';
COMMENT ON COLUMN @extschema@.lead_features.label_known IS 'true once org.conversion_days have passed (as of org.report_as_of or now), so the label is final';

-- (a view of its own: a step of before makes lead_features again, and a
-- view cannot lose columns)
CREATE VIEW @extschema@.lead_form_features WITH (security_invoker = true) AS
WITH prior AS (
  -- the touches before the form: a visitor's anonymous journey
  SELECT t.org_id, t.lead_id, count(*) AS n
    FROM @extschema@.touchpoint t
    JOIN @extschema@.lead x ON x.org_id = t.org_id AND x.lead_id = t.lead_id
   WHERE t.occurred_at < x.created_at
   GROUP BY t.org_id, t.lead_id
), paid AS (
  SELECT s.org_id, s.lead_id, min(s.paid_at) AS at FROM @extschema@.sales_order s
   WHERE s.status = 'paid' AND NOT s.is_renewal GROUP BY s.org_id, s.lead_id
), tags AS (
  -- the tags the lead had when its form arrived, "tag <name>": 1 (since 0.17)
  SELECT lt.org_id, lt.lead_id, jsonb_object_agg('tag ' || tg.name, 1) AS vals
    FROM @extschema@.lead_tag lt
    JOIN @extschema@.tag tg ON tg.org_id = lt.org_id AND tg.tag_id = lt.tag_id
    JOIN @extschema@.lead x ON x.org_id = lt.org_id AND x.lead_id = lt.lead_id
   WHERE lt.tagged_at <= x.created_at
   GROUP BY lt.org_id, lt.lead_id
)
SELECT l.org_id, l.lead_id, l.created_at, l.status,
       @extschema@.lead_form_vals(ch.code, cp.code, l.subject, l.city_tier, l.child_age, l.grade,
                                  l.created_at AT TIME ZONE o.timezone, l.attrs ->> 'variant', pr.n)
         || coalesce(tg.vals, '{}') AS vals,
       coalesce(p.at <= l.created_at + o.conversion_days * interval '1 day', false) AS converted,
       l.created_at + o.conversion_days * interval '1 day' <= coalesce(o.report_as_of, now()) AS label_known
  FROM @extschema@.lead l
  JOIN @extschema@.org o ON o.org_id = l.org_id
  JOIN @extschema@.channel ch ON ch.org_id = l.org_id AND ch.channel_id = l.first_channel_id
  LEFT JOIN @extschema@.campaign cp ON cp.org_id = l.org_id AND cp.campaign_id = l.first_campaign_id
  LEFT JOIN prior pr ON pr.org_id = l.org_id AND pr.lead_id = l.lead_id
  LEFT JOIN tags tg ON tg.org_id = l.org_id AND tg.lead_id = l.lead_id
  LEFT JOIN paid p ON p.org_id = l.org_id AND p.lead_id = l.lead_id;
COMMENT ON VIEW @extschema@.lead_form_features IS 'the form-time features of each lead (since 0.16): only what is known when its form arrives, which a form-stage conversion model learns from and ingest_lead scores; the label as in lead_features';
COMMENT ON COLUMN @extschema@.lead_form_features.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.lead_form_features.lead_id IS 'lead';
COMMENT ON COLUMN @extschema@.lead_form_features.created_at IS 'when the form arrived';
COMMENT ON COLUMN @extschema@.lead_form_features.status IS 'sales status of the lead';
COMMENT ON COLUMN @extschema@.lead_form_features.vals IS 'the features as a JSON object (lead_form_vals()): channel, campaign, subject, city_tier, age_band, grade, daypart, weekend, variant, log_prior_touches, and (since 0.17) "tag <name>": 1 for each tag the lead had when the form arrived';
COMMENT ON COLUMN @extschema@.lead_form_features.converted IS 'the label: paid within org.conversion_days of coming in';
COMMENT ON COLUMN @extschema@.lead_form_features.label_known IS 'true once org.conversion_days have passed (as of org.report_as_of or now), so the label is final';

CREATE VIEW @extschema@.model_lift WITH (security_invoker = true) AS
-- the features from the view lead_features since 0.12 (a table-reading
-- function per org before, which Citus cannot run inside a shard's query);
-- since 0.15 each model reads its held-out leads in a LATERAL subquery
-- (through lead's (org_id, created_at) index), so that an org without
-- models reads no lead (1.5 s at the demo's scale 1 before)
WITH held_out AS (
  -- each model's held-out leads, scored by the model
  SELECT cm.org_id, cm.model_id, f.lead_id, @extschema@.model_predict(cm.kind, cm.coef, cm.encoding, cm.nb_tables, f.vals) AS score, f.converted
    FROM @extschema@.conversion_model cm
   CROSS JOIN LATERAL (
     SELECT x.lead_id, x.vals, x.converted FROM @extschema@.lead_features x
      WHERE x.org_id = cm.org_id AND x.created_at >= cm.test_from AND x.created_at < cm.trained_to AND x.label_known
     OFFSET 0) f  -- (not pulled up into a join: read model by model)
   WHERE cm.stage = 'contact'
  UNION ALL
  -- (since 0.16) a form model's, on their form-time features
  SELECT cm.org_id, cm.model_id, f.lead_id, @extschema@.model_predict(cm.kind, cm.coef, cm.encoding, cm.nb_tables, f.vals), f.converted
    FROM @extschema@.conversion_model cm
   CROSS JOIN LATERAL (
     SELECT x.lead_id, x.vals, x.converted FROM @extschema@.lead_form_features x
      WHERE x.org_id = cm.org_id AND x.created_at >= cm.test_from AND x.created_at < cm.trained_to AND x.label_known
     OFFSET 0) f
   WHERE cm.stage = 'form'
), d AS (
  -- (ties broken by lead since 0.15: leads of equal score fell into
  -- deciles in whatever order the plan read them)
  SELECT h.*, ntile(10) OVER (PARTITION BY h.org_id, h.model_id ORDER BY h.score DESC, h.lead_id) AS decile,
         avg(h.converted::int) OVER (PARTITION BY h.org_id, h.model_id) AS base_rate
    FROM held_out h
)
SELECT d.org_id, d.model_id, d.decile, count(*) AS leads, count(*) FILTER (WHERE d.converted) AS converted,
       round(avg(d.converted::int)::numeric, 4) AS conversion_rate,
       round((avg(d.converted::int) / nullif(min(d.base_rate), 0))::numeric, 3) AS lift,
       round(min(d.score)::numeric, 4) AS min_score, round(max(d.score)::numeric, 4) AS max_score
  FROM d GROUP BY d.org_id, d.model_id, d.decile;
COMMENT ON VIEW @extschema@.model_lift IS 'lift by score decile (1 = highest scores) on each model''s held-out leads: how much better than average each tenth converts';
COMMENT ON COLUMN @extschema@.model_lift.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.model_lift.model_id IS 'model';
COMMENT ON COLUMN @extschema@.model_lift.decile IS 'score decile, 1 for the highest tenth';
COMMENT ON COLUMN @extschema@.model_lift.leads IS 'leads in the decile';
COMMENT ON COLUMN @extschema@.model_lift.converted IS 'of which converted within org.conversion_days';
COMMENT ON COLUMN @extschema@.model_lift.conversion_rate IS 'converted / leads';
COMMENT ON COLUMN @extschema@.model_lift.lift IS 'conversion rate of the decile / conversion rate of all held-out leads';
COMMENT ON COLUMN @extschema@.model_lift.min_score IS 'lowest score in the decile';
COMMENT ON COLUMN @extschema@.model_lift.max_score IS 'highest score in the decile';

CREATE VIEW @extschema@.conversion_credit WITH (security_invoker = true) AS
-- a view, not a function with the models as a parameter, since 0.12: Citus
-- cannot plan a parameterised SQL function.  A filter on model or
-- is_org_model reaches the credit pass (both are grouping columns there), so
-- a report that wants one model pays for one.  Since 0.15 the passes group
-- by the conversion's keys alone and the org's options are built once per
-- org (the same rows; attribution_comparison 1.9 s -> 0.85 s at scale 1).
WITH conv AS (
  -- each lead's first paid order
  SELECT DISTINCT ON (so.org_id, so.lead_id) so.org_id, so.lead_id, so.order_id, so.paid_at AS converted_at
    FROM @extschema@.sales_order so
   WHERE so.status = 'paid' AND NOT so.is_renewal
   ORDER BY so.org_id, so.lead_id, so.paid_at, so.order_id
), net AS (
  SELECT so.org_id, so.order_id, so.lead_id, so.paid_at, so.amount - coalesce(r.refunded, 0) AS net_amount
    FROM @extschema@.sales_order so
    LEFT JOIN (SELECT rf.org_id, rf.order_id, sum(rf.amount) AS refunded FROM @extschema@.refund rf GROUP BY 1, 2) r
           ON r.org_id = so.org_id AND r.order_id = so.order_id
   WHERE so.status = 'paid'
), direct_keys AS (
  -- credit is computed per channel and campaign ("code|campaign id"); direct channels are keyed
  -- without their campaign, so last_non_direct needs just one key per direct channel
  SELECT ch.org_id, jsonb_agg(ch.code || '|') AS keys
    FROM @extschema@.channel ch WHERE ch.kind = 'direct' GROUP BY ch.org_id
), opts AS (
  -- each org's model and options, built once per org, not per conversion or touch
  SELECT o.org_id, o.attribution_model, o.ltv_horizon,
         jsonb_build_object('lookback_days', o.attribution_lookback_days, 'direct', coalesce(dk.keys, '[]')) AS options
    FROM @extschema@.org o
    LEFT JOIN direct_keys dk ON dk.org_id = o.org_id
), cv AS (
  -- grouped by the conversion alone (small keys hash fast)
  SELECT c.org_id, c.order_id, max(c.lead_id) AS lead_id, max(c.converted_at) AS converted_at,
         max(n.net_amount) FILTER (WHERE n.order_id = c.order_id) AS net_revenue,
         coalesce(sum(n.net_amount) FILTER (WHERE n.paid_at >= c.converted_at AND n.paid_at < c.converted_at + p.ltv_horizon), 0) AS ltv_revenue
    FROM conv c
    JOIN opts p ON p.org_id = c.org_id
    JOIN net n ON n.org_id = c.org_id AND n.lead_id = c.lead_id
   GROUP BY c.org_id, c.order_id
), credit AS (
  SELECT cv.org_id, cv.order_id, m.model, m.model = p.attribution_model AS is_org_model,
         max(cv.lead_id) AS lead_id, max(cv.converted_at) AS converted_at,
         max(cv.net_revenue) AS net_revenue, max(cv.ltv_revenue) AS ltv_revenue,
         count(*) AS touches,
         @extschema@.touch_credit(m.model, ch.code || '|' || CASE WHEN ch.kind = 'direct' THEN '' ELSE coalesce(tp.campaign_id::text, '') END,
                                  tp.occurred_at, cv.converted_at,
                                  p.options) AS credits
    FROM cv
    JOIN opts p ON p.org_id = cv.org_id
    JOIN @extschema@.touchpoint tp ON tp.org_id = cv.org_id AND tp.lead_id = cv.lead_id
    JOIN @extschema@.channel ch ON ch.org_id = tp.org_id AND ch.channel_id = tp.channel_id
   CROSS JOIN (VALUES ('first_touch'), ('last_touch'), ('last_non_direct'), ('linear'), ('position_based'), ('time_decay')) m(model)
   GROUP BY cv.org_id, cv.order_id, m.model, p.attribution_model
)
SELECT c.org_id, c.order_id, c.lead_id, c.converted_at, c.model,
       split_part(x.channel, '|', 1) AS channel, nullif(split_part(x.channel, '|', 2), '')::bigint AS campaign_id, x.credit,
       x.credit * c.net_revenue AS credited_revenue, x.credit * c.ltv_revenue AS credited_ltv_revenue, c.touches,
       c.is_org_model
  FROM credit c CROSS JOIN LATERAL unnest(c.credits) x;
COMMENT ON VIEW @extschema@.conversion_credit IS 'audit of attribution: one row per conversion (a lead''s first paid order) x model x channel and campaign of its journey, with their share of the conversion and of its revenue';
COMMENT ON COLUMN @extschema@.conversion_credit.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.conversion_credit.order_id IS 'the converting order';
COMMENT ON COLUMN @extschema@.conversion_credit.lead_id IS 'the lead who converted';
COMMENT ON COLUMN @extschema@.conversion_credit.converted_at IS 'when the order was paid';
COMMENT ON COLUMN @extschema@.conversion_credit.model IS 'first_touch, last_touch, last_non_direct, linear, position_based or time_decay';
COMMENT ON COLUMN @extschema@.conversion_credit.channel IS 'channel code';
COMMENT ON COLUMN @extschema@.conversion_credit.campaign_id IS 'campaign of the touches credited; NULL for touches without one and for direct channels';
COMMENT ON COLUMN @extschema@.conversion_credit.credit IS 'the share of the channel and campaign in the conversion under the model (a journey''s shares add up to 1; 0 when touched but not credited)';
COMMENT ON COLUMN @extschema@.conversion_credit.credited_revenue IS 'share of the order''s revenue net of refunds';
COMMENT ON COLUMN @extschema@.conversion_credit.credited_ltv_revenue IS 'share of the student''s net revenue within org.ltv_horizon, renewals included';
COMMENT ON COLUMN @extschema@.conversion_credit.touches IS 'touches of the journey (all channels, before the lookback filter)';
COMMENT ON COLUMN @extschema@.conversion_credit.is_org_model IS 'true when model is the org''s attribution_model, the one channel_roi and channel_payback report';

CREATE VIEW @extschema@.attribution_comparison WITH (security_invoker = true) AS
WITH h AS (
  SELECT cc.org_id, cc.channel,
         sum(cc.credit) FILTER (WHERE cc.model = 'first_touch') AS first_touch,
         sum(cc.credit) FILTER (WHERE cc.model = 'last_touch') AS last_touch,
         sum(cc.credit) FILTER (WHERE cc.model = 'last_non_direct') AS last_non_direct,
         sum(cc.credit) FILTER (WHERE cc.model = 'linear') AS linear,
         sum(cc.credit) FILTER (WHERE cc.model = 'position_based') AS position_based,
         sum(cc.credit) FILTER (WHERE cc.model = 'time_decay') AS time_decay
    FROM @extschema@.conversion_credit cc GROUP BY cc.org_id, cc.channel
), journeys AS (
  -- every lead's path (channels in time order) and whether it converted, for the data-driven models
  -- (the converted leads joined, not an EXISTS per lead, since 0.15)
  SELECT tp.org_id, tp.lead_id,
         array_agg(ch.code ORDER BY tp.occurred_at, tp.touchpoint_id) AS path,
         p.lead_id IS NOT NULL AS converted
    FROM @extschema@.touchpoint tp
    JOIN @extschema@.channel ch ON ch.org_id = tp.org_id AND ch.channel_id = tp.channel_id
    LEFT JOIN (SELECT DISTINCT so.org_id, so.lead_id FROM @extschema@.sales_order so
                WHERE so.status = 'paid' AND NOT so.is_renewal) p
           ON p.org_id = tp.org_id AND p.lead_id = tp.lead_id
   WHERE tp.lead_id IS NOT NULL
   GROUP BY tp.org_id, tp.lead_id, p.lead_id
), dd AS (
  SELECT j.org_id,
         @extschema@.markov_attribution(j.path, j.converted::int, 1 - j.converted::int, 0) AS markov,
         @extschema@.shapley_attribution(j.path, j.converted::int, 0) AS shapley
    FROM journeys j GROUP BY j.org_id
)
SELECT h.org_id, h.channel,
       round(h.first_touch::numeric, 2) AS first_touch, round(h.last_touch::numeric, 2) AS last_touch,
       round(h.last_non_direct::numeric, 2) AS last_non_direct, round(h.linear::numeric, 2) AS linear,
       round(h.position_based::numeric, 2) AS position_based, round(h.time_decay::numeric, 2) AS time_decay,
       round(m.conversions::numeric, 2) AS markov, round(m.removal_effect::numeric, 4) AS markov_removal_effect,
       round(s.conversions::numeric, 2) AS shapley
  FROM h
  LEFT JOIN dd ON dd.org_id = h.org_id
  LEFT JOIN LATERAL (SELECT x.* FROM unnest(dd.markov) x WHERE x.channel = h.channel) m ON true
  LEFT JOIN LATERAL (SELECT x.* FROM unnest(dd.shapley) x WHERE x.channel = h.channel) s ON true;
COMMENT ON VIEW @extschema@.attribution_comparison IS 'conversions credited to each channel under every model side by side: the six heuristic models, first-order Markov (with removal effect) and Shapley';
COMMENT ON COLUMN @extschema@.attribution_comparison.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.attribution_comparison.channel IS 'channel code';
COMMENT ON COLUMN @extschema@.attribution_comparison.first_touch IS 'conversions credited by first touch';
COMMENT ON COLUMN @extschema@.attribution_comparison.last_touch IS 'conversions credited by last touch';
COMMENT ON COLUMN @extschema@.attribution_comparison.last_non_direct IS 'conversions credited by last non-direct touch';
COMMENT ON COLUMN @extschema@.attribution_comparison.linear IS 'conversions credited linearly (per touch)';
COMMENT ON COLUMN @extschema@.attribution_comparison.position_based IS 'conversions credited 40/20/40 by position';
COMMENT ON COLUMN @extschema@.attribution_comparison.time_decay IS 'conversions credited by time decay (7-day half-life)';
COMMENT ON COLUMN @extschema@.attribution_comparison.markov IS 'conversions credited by first-order Markov removal effects (journeys of all leads; no lookback)';
COMMENT ON COLUMN @extschema@.attribution_comparison.markov_removal_effect IS 'share of conversions lost without the channel';
COMMENT ON COLUMN @extschema@.attribution_comparison.shapley IS 'conversions credited by the Shapley value (journeys of all leads; no lookback)';

CREATE VIEW @extschema@.channel_roi WITH (security_invoker = true) AS
-- since 0.12 the day's figures of the sources meet in a UNION ALL and one
-- GROUP BY, not in FULL JOINs (Citus cannot join on the merged org_id of a
-- FULL JOIN), and credit comes from the conversion_credit view
WITH o AS NOT MATERIALIZED (
  SELECT org.org_id, org.timezone, org.attribution_model FROM @extschema@.org
), facts AS (
  -- campaign 0: spend, leads and touches without a campaign
  SELECT s.org_id, s.channel_id, coalesce(s.campaign_id, 0) AS campaign_id, s.spend_date AS day,
         s.spend, s.impressions, s.clicks, 0::bigint AS leads, 0::bigint AS valid_leads, 0::numeric AS handling_cost,
         0::bigint AS trials, 0::float8 AS paid_students, 0::float8 AS revenue, 0::float8 AS ltv_revenue
    FROM @extschema@.ad_spend s
  UNION ALL
  SELECT l.org_id, l.first_channel_id, coalesce(l.first_campaign_id, 0), (l.created_at AT TIME ZONE o.timezone)::date,
         0, 0, 0, 1, l.phone_valid::int, 0, 0, 0, 0, 0
    FROM @extschema@.lead l JOIN o ON o.org_id = l.org_id
  UNION ALL
  -- follow-up cost goes to the lead's first channel and campaign; like spend it is not split by attribution
  SELECT f.org_id, l.first_channel_id, coalesce(l.first_campaign_id, 0), (f.occurred_at AT TIME ZONE o.timezone)::date,
         0, 0, 0, 0, 0, f.cost, 0, 0, 0, 0
    FROM @extschema@.follow_up f
    JOIN @extschema@.lead l ON l.org_id = f.org_id AND l.lead_id = f.lead_id
    JOIN o ON o.org_id = f.org_id
  UNION ALL
  SELECT t.org_id, l.first_channel_id, coalesce(l.first_campaign_id, 0), (t.booked_at AT TIME ZONE o.timezone)::date,
         0, 0, 0, 0, 0, 0, 1, 0, 0, 0
    FROM @extschema@.trial_lesson t
    JOIN @extschema@.lead l ON l.org_id = t.org_id AND l.lead_id = t.lead_id
    JOIN o ON o.org_id = t.org_id
  UNION ALL
  SELECT cc.org_id, ch.channel_id, coalesce(cc.campaign_id, 0), (cc.converted_at AT TIME ZONE o.timezone)::date,
         0, 0, 0, 0, 0, 0, 0, cc.credit, cc.credited_revenue, cc.credited_ltv_revenue
    FROM @extschema@.conversion_credit cc
    JOIN o ON o.org_id = cc.org_id
    JOIN @extschema@.channel ch ON ch.org_id = cc.org_id AND ch.code = cc.channel
   WHERE cc.is_org_model
), daily AS (
  SELECT f.org_id, f.channel_id, f.campaign_id, f.day,
         sum(f.spend) AS spend, sum(f.impressions) AS impressions, sum(f.clicks) AS clicks,
         sum(f.leads)::bigint AS leads, sum(f.valid_leads)::bigint AS valid_leads, sum(f.handling_cost) AS handling_cost,
         sum(f.trials)::bigint AS trials, sum(f.paid_students) AS paid_students,
         sum(f.revenue) AS revenue, sum(f.ltv_revenue) AS ltv_revenue
    FROM facts f GROUP BY f.org_id, f.channel_id, f.campaign_id, f.day
), periods AS (
  SELECT g.grain, d.org_id, d.channel_id, d.campaign_id,
         CASE g.grain WHEN 'day' THEN d.day ELSE date_trunc(g.grain, d.day)::date END AS period_start,
         d.spend, d.impressions, d.clicks, d.leads, d.valid_leads, d.handling_cost, d.trials, d.paid_students, d.revenue, d.ltv_revenue
    FROM daily d CROSS JOIN (VALUES ('day'), ('week'), ('month')) g(grain)
)
SELECT p.org_id, p.grain AS period, p.period_start, ch.code AS channel, ch.kind AS channel_kind,
       b.breakdown,
       nullif(CASE b.breakdown WHEN 'campaign' THEN p.campaign_id END, 0) AS campaign_id,
       CASE b.breakdown WHEN 'campaign' THEN coalesce(max(cp.code), '(none)') END AS campaign,
       o.attribution_model,
       sum(p.spend) AS spend, sum(p.impressions) AS impressions, sum(p.clicks) AS clicks,
       sum(p.leads) AS leads, sum(p.valid_leads) AS valid_leads,
       round(sum(p.spend) / nullif(sum(p.leads), 0), 2) AS cpl,
       sum(p.trials) AS trials,
       round(sum(p.paid_students)::numeric, 2) AS paid_students,
       round(sum(p.spend) / nullif(sum(p.paid_students), 0)::numeric, 2) AS cpa,
       round(sum(p.revenue)::numeric, 2) AS net_revenue,
       round(sum(p.revenue)::numeric / nullif(sum(p.spend), 0), 3) AS roas,
       round((sum(p.revenue)::numeric - sum(p.spend)) / nullif(sum(p.spend), 0), 3) AS roi,
       sum(p.handling_cost) AS handling_cost,
       round((sum(p.spend) + sum(p.handling_cost)) / nullif(sum(p.paid_students), 0)::numeric, 2) AS cac,
       round(sum(p.ltv_revenue)::numeric / nullif(sum(p.paid_students), 0)::numeric, 2) AS ltv,
       round((sum(p.ltv_revenue)::numeric / nullif(sum(p.paid_students), 0)::numeric)
             / nullif((sum(p.spend) + sum(p.handling_cost)) / nullif(sum(p.paid_students), 0)::numeric, 0), 3) AS ltv_to_cac
  FROM periods p
  JOIN @extschema@.channel ch ON ch.org_id = p.org_id AND ch.channel_id = p.channel_id
  JOIN o ON o.org_id = p.org_id
  LEFT JOIN @extschema@.campaign cp ON cp.org_id = p.org_id AND cp.campaign_id = p.campaign_id
 -- each row counts for its channel and for its campaign: a join to the list
 -- of breakdowns (no GROUPING SETS, which Citus cannot plan)
 CROSS JOIN (VALUES ('channel'::text), ('campaign')) AS b(breakdown)
 GROUP BY p.org_id, p.grain, p.period_start, ch.code, ch.kind, o.attribution_model, b.breakdown,
          CASE b.breakdown WHEN 'campaign' THEN p.campaign_id END;
COMMENT ON VIEW @extschema@.channel_roi IS 'channel and campaign ROI by day, week and month: spend, leads, CPL, trials, paid students and net revenue credited by the org''s attribution model, CPA, ROAS, ROI, fully loaded CAC and LTV/CAC (definitions in docs/metrics.md)';
COMMENT ON COLUMN @extschema@.channel_roi.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.channel_roi.period IS 'day, week or month';
COMMENT ON COLUMN @extschema@.channel_roi.period_start IS 'first day of the period, in the org''s time zone';
COMMENT ON COLUMN @extschema@.channel_roi.channel IS 'channel code';
COMMENT ON COLUMN @extschema@.channel_roi.channel_kind IS 'paid, organic, referral, direct or offline';
COMMENT ON COLUMN @extschema@.channel_roi.breakdown IS 'channel (all its campaigns) or campaign';
COMMENT ON COLUMN @extschema@.channel_roi.campaign_id IS 'campaign, for breakdown campaign; NULL for no campaign or a channel row';
COMMENT ON COLUMN @extschema@.channel_roi.campaign IS 'campaign code, (none) for spend, leads and touches without a campaign; NULL on channel rows';
COMMENT ON COLUMN @extschema@.channel_roi.attribution_model IS 'the org''s model that credited paid students and revenue';
COMMENT ON COLUMN @extschema@.channel_roi.spend IS 'ad spend (never split by attribution)';
COMMENT ON COLUMN @extschema@.channel_roi.impressions IS 'impressions';
COMMENT ON COLUMN @extschema@.channel_roi.clicks IS 'clicks';
COMMENT ON COLUMN @extschema@.channel_roi.leads IS 'leads whose first channel it is, created in the period';
COMMENT ON COLUMN @extschema@.channel_roi.valid_leads IS 'of which with a valid phone (duplicates are never separate leads)';
COMMENT ON COLUMN @extschema@.channel_roi.cpl IS 'cost per lead: spend / leads';
COMMENT ON COLUMN @extschema@.channel_roi.trials IS 'trial lessons booked by leads whose first channel it is';
COMMENT ON COLUMN @extschema@.channel_roi.paid_students IS 'new paying students credited to the channel, converted in the period';
COMMENT ON COLUMN @extschema@.channel_roi.cpa IS 'cost per acquisition: spend / credited paid students';
COMMENT ON COLUMN @extschema@.channel_roi.net_revenue IS 'credited revenue of the converting orders, net of refunds';
COMMENT ON COLUMN @extschema@.channel_roi.roas IS 'net revenue / spend';
COMMENT ON COLUMN @extschema@.channel_roi.roi IS '(net revenue - spend) / spend';
COMMENT ON COLUMN @extschema@.channel_roi.handling_cost IS 'cost of follow-ups in the period of leads whose first channel it is';
COMMENT ON COLUMN @extschema@.channel_roi.cac IS 'fully loaded customer acquisition cost: (spend + handling cost) / credited paid students';
COMMENT ON COLUMN @extschema@.channel_roi.ltv IS 'credited net revenue per paid student within org.ltv_horizon of the first payment, renewals included';
COMMENT ON COLUMN @extschema@.channel_roi.ltv_to_cac IS 'LTV / CAC';

CREATE VIEW @extschema@.channel_payback WITH (security_invoker = true) AS
WITH o AS (
  SELECT org.org_id, org.timezone, org.attribution_model FROM @extschema@.org
), cohort AS (
  -- credited new students by channel and month of conversion, under the org's model
  SELECT cc.org_id, cc.channel, date_trunc('month', cc.converted_at AT TIME ZONE o.timezone)::date AS cohort_month,
         cc.lead_id, cc.converted_at, cc.credit
    FROM @extschema@.conversion_credit cc
    JOIN o ON o.org_id = cc.org_id
   WHERE cc.is_org_model AND cc.credit > 0
), net AS (
  SELECT so.org_id, so.lead_id, so.paid_at, so.amount - coalesce(r.refunded, 0) AS net_amount
    FROM @extschema@.sales_order so
    LEFT JOIN (SELECT rf.org_id, rf.order_id, sum(rf.amount) AS refunded FROM @extschema@.refund rf GROUP BY 1, 2) r
           ON r.org_id = so.org_id AND r.order_id = so.order_id
   WHERE so.status = 'paid'
), daily AS (
  -- the cohort's credited net revenue (renewals included) by days since each student's conversion
  SELECT c.org_id, c.channel, c.cohort_month,
         floor(extract(epoch FROM n.paid_at - c.converted_at) / 86400)::int AS day, sum(c.credit * n.net_amount) AS amount
    FROM cohort c
    JOIN net n ON n.org_id = c.org_id AND n.lead_id = c.lead_id AND n.paid_at >= c.converted_at
   GROUP BY 1, 2, 3, 4
), cum AS (
  SELECT d.*, sum(d.amount) OVER (PARTITION BY d.org_id, d.channel, d.cohort_month ORDER BY d.day) AS cumulative
    FROM daily d
), cost AS (
  SELECT r.org_id, r.channel, r.period_start AS cohort_month, r.spend + r.handling_cost AS acquisition_cost, r.paid_students
    FROM @extschema@.channel_roi r WHERE r.period = 'month' AND r.breakdown = 'channel'
)
-- a join and GROUP BY, not correlated subqueries, which Citus cannot plan (0.12)
SELECT k.org_id, k.channel, k.cohort_month, k.acquisition_cost, k.paid_students,
       round(max(c.cumulative)::numeric, 2) AS net_revenue_to_date,
       min(c.day) FILTER (WHERE c.cumulative >= k.acquisition_cost) AS payback_days
  FROM cost k
  LEFT JOIN cum c ON c.org_id = k.org_id AND c.channel = k.channel AND c.cohort_month = k.cohort_month
 WHERE k.paid_students > 0
 GROUP BY k.org_id, k.channel, k.cohort_month, k.acquisition_cost, k.paid_students;
COMMENT ON VIEW @extschema@.channel_payback IS 'payback of each channel''s monthly cohort of new students: days until their credited cumulative net revenue (renewals included) covers the month''s spend and handling cost';
COMMENT ON COLUMN @extschema@.channel_payback.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.channel_payback.channel IS 'channel code';
COMMENT ON COLUMN @extschema@.channel_payback.cohort_month IS 'month the students converted (and the spend was made)';
COMMENT ON COLUMN @extschema@.channel_payback.acquisition_cost IS 'spend plus handling cost of the channel in the month';
COMMENT ON COLUMN @extschema@.channel_payback.paid_students IS 'new paying students credited to the channel in the month';
COMMENT ON COLUMN @extschema@.channel_payback.net_revenue_to_date IS 'credited net revenue of those students so far, renewals included';
COMMENT ON COLUMN @extschema@.channel_payback.payback_days IS 'days after conversion at which the cohort''s cumulative net revenue first covers the acquisition cost; NULL while it has not (0 when the first payments already do)';
-- ---------------------------------------------------------------------------
-- Lead assignment engine: rotation, pools, claims, recycling
-- (src/assignment*.c, docs/reference/assignment.md): since 0.4
--
-- Every decision of who gets a lead, and every change of each rep's
-- counters, happens under the org's assignment lock (a transaction advisory
-- lock on hashtextextended('leadmgmt.assign', org_id)); under it nobody waits
-- for a lead row; batches lock their leads with SKIP LOCKED.  So assignment,
-- claims and recycling of one org are serialised, fair and deadlock-free.
-- Since 0.7 a call that only assigns releases the lock before it writes
-- owners and history (the pick journal, below).
-- ---------------------------------------------------------------------------

-- Engine state.  These tables are derived: when emptied the engine rebuilds
-- them from lead and assignment on first use, so they never hold data that
-- exists nowhere else.  Since 0.11 pg_dump keeps them like every table, from
-- the same snapshot as lead.
CREATE TABLE @extschema@.rep_load (
  org_id            bigint NOT NULL,
  rep_id            bigint NOT NULL,
  open_leads        integer NOT NULL CHECK (open_leads >= 0),
  counted_day       date NOT NULL,
  assigned_today    integer NOT NULL DEFAULT 0 CHECK (assigned_today >= 0),
  claimed_today     integer NOT NULL DEFAULT 0 CHECK (claimed_today >= 0),
  last_assigned_at  timestamptz,
  PRIMARY KEY (org_id, rep_id),
  FOREIGN KEY (org_id, rep_id) REFERENCES @extschema@.sales_rep (org_id, rep_id) ON DELETE CASCADE
);
COMMENT ON TABLE @extschema@.rep_load IS 'engine state, derived: each rep''s open leads and today''s assignments and claims, kept under the org''s assignment lock and rebuilt from lead and assignment when missing';
COMMENT ON COLUMN @extschema@.rep_load.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.rep_load.rep_id IS 'rep';
COMMENT ON COLUMN @extschema@.rep_load.open_leads IS 'leads the rep owns that are not won or lost, less the changes still in rep_load_change';
COMMENT ON COLUMN @extschema@.rep_load.counted_day IS 'day (org time zone) that assigned_today and claimed_today count';
COMMENT ON COLUMN @extschema@.rep_load.assigned_today IS 'leads the engine assigned to the rep on counted_day';
COMMENT ON COLUMN @extschema@.rep_load.claimed_today IS 'leads the rep claimed on counted_day';
COMMENT ON COLUMN @extschema@.rep_load.last_assigned_at IS 'when the rep last got a lead';

CREATE TABLE @extschema@.rep_load_change (
  org_id     bigint NOT NULL,
  change_id  bigint GENERATED ALWAYS AS IDENTITY,
  rep_id     bigint NOT NULL,
  delta      integer NOT NULL,
  PRIMARY KEY (org_id, change_id),
  FOREIGN KEY (org_id, rep_id) REFERENCES @extschema@.sales_rep (org_id, rep_id) ON DELETE CASCADE
);
COMMENT ON TABLE @extschema@.rep_load_change IS 'engine state, derived: changes of open leads per rep written by the lead trigger without waiting for any lock, folded into rep_load by the next engine call';
COMMENT ON COLUMN @extschema@.rep_load_change.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.rep_load_change.change_id IS 'change id';
COMMENT ON COLUMN @extschema@.rep_load_change.rep_id IS 'rep';
COMMENT ON COLUMN @extschema@.rep_load_change.delta IS '+1 or -1 open lead';

CREATE TABLE @extschema@.assign_rotation (
  org_id           bigint NOT NULL REFERENCES @extschema@.org (org_id),
  rep_ids          bigint[] NOT NULL,
  current_weights  bigint[] NOT NULL,
  last_picks       bigint[] NOT NULL,
  picks            bigint NOT NULL CHECK (picks >= 0),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id),
  CHECK (cardinality(rep_ids) = cardinality(current_weights) AND cardinality(rep_ids) = cardinality(last_picks))
);
COMMENT ON TABLE @extschema@.assign_rotation IS 'engine state: the smooth weighted round-robin of each org';
COMMENT ON COLUMN @extschema@.assign_rotation.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.assign_rotation.rep_ids IS 'reps of the rotation, ascending';
COMMENT ON COLUMN @extschema@.assign_rotation.current_weights IS 'current weight of each rep';
COMMENT ON COLUMN @extschema@.assign_rotation.last_picks IS 'number of the pick that last chose each rep (0: never), for ties';
COMMENT ON COLUMN @extschema@.assign_rotation.picks IS 'picks made so far';
COMMENT ON COLUMN @extschema@.assign_rotation.updated_at IS 'when the rotation last moved';


-- ---------------------------------------------------------------------------
-- The pick journal: the assignment lock no longer spans commit (since 0.7).
--
-- Until 0.6 every assignment wrote the rotation and the counters under the
-- org's assignment lock, which it held until commit, so decisions, writes and
-- commits of one org ran one after another.  Now a call that only assigns
-- takes the lock, reads the state, plans, writes one journal row and
-- releases the lock, all in C (engine_assign); owners and history are written
-- after that, while the next call decides.  The next decision reads the
-- journal with a dirty snapshot: the picks of transactions still in flight
-- count at once, and those of a transaction that rolls back (or whose
-- backend is killed) vanish with it, as if they had never been made.
-- rep_load_sync folds the settled rows into assign_rotation and rep_load;
-- the calls that change those (a fold, claim, release, recycle) still keep
-- the lock until commit, so nothing in them is ever in flight under it.
-- ---------------------------------------------------------------------------

CREATE TABLE @extschema@.assign_pick (
  org_id         bigint NOT NULL,
  pick_no        bigint NOT NULL CHECK (pick_no > 0),
  day            date NOT NULL,
  at             timestamptz NOT NULL,
  rep_ids        bigint[] NOT NULL,
  current_delta  bigint[] NOT NULL,
  last_picks     bigint[] NOT NULL,
  taken          integer[] NOT NULL,
  PRIMARY KEY (org_id, pick_no),
  CHECK (cardinality(rep_ids) = cardinality(current_delta) AND cardinality(rep_ids) = cardinality(last_picks)
         AND cardinality(rep_ids) = cardinality(taken))
) WITH (autovacuum_vacuum_threshold = 200, autovacuum_vacuum_scale_factor = 0);
COMMENT ON TABLE @extschema@.assign_pick IS 'engine state: the pick journal, one row per assign_lead or assign_pending call since the last fold; the engine reads it with a dirty snapshot, so picks in flight count and rolled-back ones vanish; rep_load_sync folds settled rows into assign_rotation and rep_load (no foreign key: its rows live for seconds, and a key check would lock the org row in every call)';
COMMENT ON COLUMN @extschema@.assign_pick.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.assign_pick.pick_no IS 'the rotation''s pick count after this call''s picks';
COMMENT ON COLUMN @extschema@.assign_pick.day IS 'day (org time zone) the picks count for in the daily caps';
COMMENT ON COLUMN @extschema@.assign_pick.at IS 'assignment time of the call';
COMMENT ON COLUMN @extschema@.assign_pick.rep_ids IS 'reps whose rotation or counters the call moved, ascending';
COMMENT ON COLUMN @extschema@.assign_pick.current_delta IS 'change of each rep''s current weight (smooth round-robin)';
COMMENT ON COLUMN @extschema@.assign_pick.last_picks IS 'number of the call''s last pick of each rep (0: not picked)';
COMMENT ON COLUMN @extschema@.assign_pick.taken IS 'leads each rep took in the call';

CREATE TRIGGER rep_load_track_insert AFTER INSERT ON @extschema@.lead FOR EACH ROW
  WHEN (NEW.owner_rep_id IS NOT NULL AND NEW.status NOT IN ('won', 'lost')
        AND current_setting('leadmgmt.engine_update', true) IS DISTINCT FROM 'on')
  EXECUTE FUNCTION @extschema@.rep_load_track();
CREATE TRIGGER rep_load_track_update AFTER UPDATE OF owner_rep_id, status ON @extschema@.lead FOR EACH ROW
  WHEN ((OLD.owner_rep_id IS DISTINCT FROM NEW.owner_rep_id
         OR (OLD.status IN ('won', 'lost')) IS DISTINCT FROM (NEW.status IN ('won', 'lost')))
        AND current_setting('leadmgmt.engine_update', true) IS DISTINCT FROM 'on')
  EXECUTE FUNCTION @extschema@.rep_load_track();
CREATE TRIGGER rep_load_track_delete AFTER DELETE ON @extschema@.lead FOR EACH ROW
  WHEN (OLD.owner_rep_id IS NOT NULL AND OLD.status NOT IN ('won', 'lost')
        AND current_setting('leadmgmt.engine_update', true) IS DISTINCT FROM 'on')
  EXECUTE FUNCTION @extschema@.rep_load_track();

-- ---------------------------------------------------------------------------
-- Assignment reports for BI (docs/reference/assignment.md): since 0.4.
-- "Now" is the org's report_as_of when set, else now().
-- ---------------------------------------------------------------------------

-- recycle_schedule is the query of recycle_due() for every org (since 0.12:
-- Citus cannot plan a view that calls a table-reading function per org)
CREATE VIEW @extschema@.recycle_schedule WITH (security_invoker = true) AS
SELECT d.org_id, d.lead_id, d.owner_rep_id AS rep_id, d.tier, d.owned_since, d.first_at AS first_follow_up_at,
       d.fu_due AS follow_up_due_at, d.deal_due AS deal_due_at, least(d.fu_due, d.deal_due) AS recycle_at,
       CASE WHEN d.fu_due <= d.deal_due THEN 'recycle_no_follow_up' ELSE 'recycle_no_deal' END AS reason
  FROM (SELECT l.org_id, l.lead_id, l.owner_rep_id, coalesce(l.tier, 'D')::char(1) AS tier, l.owned_since, f.first_at,
               CASE WHEN f.first_at IS NULL THEN l.owned_since + p.follow_up_sla END AS fu_due,
               l.owned_since + o.recycle_no_deal_after AS deal_due
          FROM @extschema@.lead l
          JOIN @extschema@.org o ON o.org_id = l.org_id
          JOIN @extschema@.effective_tier_policy p ON p.org_id = l.org_id AND p.tier = coalesce(l.tier, 'D')
          LEFT JOIN LATERAL (SELECT min(x.occurred_at) AS first_at FROM @extschema@.follow_up x
                              WHERE x.org_id = l.org_id AND x.lead_id = l.lead_id AND x.rep_id = l.owner_rep_id
                                AND x.occurred_at >= l.owned_since) f ON true
         WHERE l.pool = 'private' AND l.status NOT IN ('won', 'lost')) d;
COMMENT ON VIEW @extschema@.recycle_schedule IS 'every owned open lead with the time it falls due for recycling (回收) and why: its tier''s follow-up SLA after it was taken while the owner has not followed up, else the org''s recycle_no_deal_after; recycle_due(org_id) gives one org''s rows';
COMMENT ON COLUMN @extschema@.recycle_schedule.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.recycle_schedule.lead_id IS 'lead';
COMMENT ON COLUMN @extschema@.recycle_schedule.rep_id IS 'rep who owns it now';
COMMENT ON COLUMN @extschema@.recycle_schedule.tier IS 'tier of the lead (D when it has none)';
COMMENT ON COLUMN @extschema@.recycle_schedule.owned_since IS 'when the rep got the lead';
COMMENT ON COLUMN @extschema@.recycle_schedule.first_follow_up_at IS 'the owner''s first follow-up since then; NULL when none yet';
COMMENT ON COLUMN @extschema@.recycle_schedule.follow_up_due_at IS 'first follow-up due by this time under the tier''s SLA; NULL once the rep followed up';
COMMENT ON COLUMN @extschema@.recycle_schedule.deal_due_at IS 'deal (status won) due by this time';
COMMENT ON COLUMN @extschema@.recycle_schedule.recycle_at IS 'when the lead is recycled: the earlier of the two';
COMMENT ON COLUMN @extschema@.recycle_schedule.reason IS 'recycle_no_follow_up or recycle_no_deal';

CREATE VIEW @extschema@.recycle_warnings WITH (security_invoker = true) AS
-- tier::bpchar: the type the column had from recycle_due() until 0.11
SELECT o.org_id, d.lead_id, d.rep_id, r.name AS rep_name, d.tier::bpchar AS tier, d.owned_since, d.follow_up_due_at, d.deal_due_at,
       d.recycle_at, d.reason AS recycle_reason,
       d.recycle_at - coalesce(o.report_as_of, now()) AS due_in,
       d.recycle_at <= coalesce(o.report_as_of, now()) AS overdue
  FROM @extschema@.org o
  JOIN @extschema@.recycle_schedule d ON d.org_id = o.org_id
  JOIN @extschema@.sales_rep r ON r.org_id = o.org_id AND r.rep_id = d.rep_id
 WHERE d.recycle_at <= coalesce(o.report_as_of, now()) + o.recycle_warning;
COMMENT ON VIEW @extschema@.recycle_warnings IS 'owned leads that recycle_stale will return to the public pool within the org''s recycle_warning (or already should have), with when and why';
COMMENT ON COLUMN @extschema@.recycle_warnings.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.recycle_warnings.lead_id IS 'lead';
COMMENT ON COLUMN @extschema@.recycle_warnings.rep_id IS 'rep who owns it now';
COMMENT ON COLUMN @extschema@.recycle_warnings.rep_name IS 'name of the rep';
COMMENT ON COLUMN @extschema@.recycle_warnings.tier IS 'tier of the lead (D when it has none)';
COMMENT ON COLUMN @extschema@.recycle_warnings.owned_since IS 'when the rep got the lead';
COMMENT ON COLUMN @extschema@.recycle_warnings.follow_up_due_at IS 'first follow-up due by this time under the tier''s SLA; empty once the rep followed up';
COMMENT ON COLUMN @extschema@.recycle_warnings.deal_due_at IS 'deal (status won) due by this time';
COMMENT ON COLUMN @extschema@.recycle_warnings.recycle_at IS 'when the lead is recycled: the earlier of the two';
COMMENT ON COLUMN @extschema@.recycle_warnings.recycle_reason IS 'recycle_no_follow_up or recycle_no_deal';
COMMENT ON COLUMN @extschema@.recycle_warnings.due_in IS 'time left until recycling; negative when overdue';
COMMENT ON COLUMN @extschema@.recycle_warnings.overdue IS 'true when the next recycle_stale run takes it';

CREATE VIEW @extschema@.rep_workload WITH (security_invoker = true) AS
SELECT r.org_id, r.team_id, tm.name AS team_name, r.rep_id, r.name AS rep_name, r.role, r.active,
       NOT EXISTS (SELECT 1 FROM @extschema@.rep_shift s WHERE s.org_id = r.org_id AND s.rep_id = r.rep_id)
       OR EXISTS (SELECT 1 FROM @extschema@.rep_shift s
                   WHERE s.org_id = r.org_id AND s.rep_id = r.rep_id
                     AND s.weekday = extract(isodow FROM n.local)
                     AND n.local::time >= s.starts_at AND n.local::time < s.ends_at) AS on_shift_now,
       ol.open_leads, r.holding_cap, greatest(r.holding_cap - ol.open_leads, 0) AS holding_room,
       td.assigned_today, r.daily_cap, td.claimed_today, r.daily_claim_cap, td.last_assigned_at
  FROM @extschema@.sales_rep r
  -- the org's clock as a join, not a LATERAL without FROM (Citus cannot
  -- push one down that calls now(); since 0.11)
  JOIN (SELECT o.org_id, o.timezone, coalesce(o.report_as_of, now()) AT TIME ZONE o.timezone AS local
          FROM @extschema@.org o) n ON n.org_id = r.org_id
  LEFT JOIN @extschema@.team tm ON tm.org_id = r.org_id AND tm.team_id = r.team_id
 CROSS JOIN LATERAL (SELECT count(*) AS open_leads FROM @extschema@.lead l
                      WHERE l.org_id = r.org_id AND l.owner_rep_id = r.rep_id AND l.status NOT IN ('won', 'lost')) ol
 CROSS JOIN LATERAL (SELECT count(*) FILTER (WHERE a.reason IN ('round_robin', 'least_busy')
                                               AND a.assigned_at >= n.local::date::timestamp AT TIME ZONE n.timezone) AS assigned_today,
                            count(*) FILTER (WHERE a.reason = 'claim'
                                               AND a.assigned_at >= n.local::date::timestamp AT TIME ZONE n.timezone) AS claimed_today,
                            max(a.assigned_at) AS last_assigned_at
                       FROM @extschema@.assignment a WHERE a.org_id = r.org_id AND a.rep_id = r.rep_id) td;
COMMENT ON VIEW @extschema@.rep_workload IS 'each rep now: on shift or not, open leads against the holding cap, and today''s assignments and claims against the daily caps';
COMMENT ON COLUMN @extschema@.rep_workload.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.rep_workload.team_id IS 'team of the rep';
COMMENT ON COLUMN @extschema@.rep_workload.team_name IS 'name of the team';
COMMENT ON COLUMN @extschema@.rep_workload.rep_id IS 'rep';
COMMENT ON COLUMN @extschema@.rep_workload.rep_name IS 'name of the rep';
COMMENT ON COLUMN @extschema@.rep_workload.role IS 'ai_bot, tmk, sales or top_sales';
COMMENT ON COLUMN @extschema@.rep_workload.active IS 'false when the rep takes no leads';
COMMENT ON COLUMN @extschema@.rep_workload.on_shift_now IS 'true when the rep works now (org time zone); a rep without shifts always does';
COMMENT ON COLUMN @extschema@.rep_workload.open_leads IS 'leads the rep owns that are not won or lost';
COMMENT ON COLUMN @extschema@.rep_workload.holding_cap IS 'most open leads the rep may hold';
COMMENT ON COLUMN @extschema@.rep_workload.holding_room IS 'leads the rep can still take before the holding cap';
COMMENT ON COLUMN @extschema@.rep_workload.assigned_today IS 'leads assigned to the rep today by round-robin or least-busy';
COMMENT ON COLUMN @extschema@.rep_workload.daily_cap IS 'most leads assigned per day';
COMMENT ON COLUMN @extschema@.rep_workload.claimed_today IS 'leads the rep claimed from the public pool today';
COMMENT ON COLUMN @extschema@.rep_workload.daily_claim_cap IS 'most claims per day';
COMMENT ON COLUMN @extschema@.rep_workload.last_assigned_at IS 'when the rep last got a lead';

CREATE VIEW @extschema@.rep_sla WITH (security_invoker = true) AS
WITH a AS (
  SELECT a.org_id, a.rep_id, coalesce(l.tier, 'D')::char(1) AS tier, p.follow_up_sla, a.assigned_at,
         date_trunc('month', a.assigned_at AT TIME ZONE o.timezone)::date AS month,
         coalesce(o.report_as_of, now()) AS as_of,
         (SELECT min(f.occurred_at) FROM @extschema@.follow_up f
           WHERE f.org_id = a.org_id AND f.lead_id = a.lead_id AND f.rep_id = a.rep_id AND f.occurred_at >= a.assigned_at
             AND (a.released_at IS NULL OR f.occurred_at < a.released_at)) AS first_contact_at,
         EXISTS (SELECT 1 FROM @extschema@.lead_event e
                  WHERE e.org_id = a.org_id AND e.lead_id = a.lead_id AND e.event_type = 'paid' AND e.occurred_at >= a.assigned_at
                    AND (a.released_at IS NULL OR e.occurred_at < a.released_at)) AS converted
    FROM @extschema@.assignment a
    JOIN @extschema@.lead l ON l.org_id = a.org_id AND l.lead_id = a.lead_id
    JOIN @extschema@.org o ON o.org_id = a.org_id
    JOIN @extschema@.effective_tier_policy p ON p.org_id = a.org_id AND p.tier = coalesce(l.tier, 'D')
)
SELECT a.org_id, a.month, a.rep_id, r.name AS rep_name, a.tier, a.follow_up_sla,
       count(*) AS leads_assigned,
       count(a.first_contact_at) AS leads_contacted,
       count(*) FILTER (WHERE a.first_contact_at <= a.assigned_at + a.follow_up_sla) AS contacted_within_sla,
       count(*) FILTER (WHERE a.first_contact_at IS NOT NULL OR a.assigned_at + a.follow_up_sla <= a.as_of) AS sla_due,
       round(count(*) FILTER (WHERE a.first_contact_at <= a.assigned_at + a.follow_up_sla)::numeric
             / nullif(count(*) FILTER (WHERE a.first_contact_at IS NOT NULL OR a.assigned_at + a.follow_up_sla <= a.as_of), 0), 4)
         AS sla_compliance,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY a.first_contact_at - a.assigned_at) AS median_time_to_first_contact,
       count(*) FILTER (WHERE a.converted) AS leads_paid,
       round(count(*) FILTER (WHERE a.converted)::numeric / count(*), 4) AS conversion_rate
  FROM a JOIN @extschema@.sales_rep r ON r.org_id = a.org_id AND r.rep_id = a.rep_id
 GROUP BY a.org_id, a.month, a.rep_id, r.name, a.tier, a.follow_up_sla;
COMMENT ON VIEW @extschema@.rep_sla IS 'per month of assignment, rep and lead tier: follow-up SLA compliance, time to first contact and conversion of the leads the rep got';
COMMENT ON COLUMN @extschema@.rep_sla.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.rep_sla.month IS 'month the rep got the leads (org time zone)';
COMMENT ON COLUMN @extschema@.rep_sla.rep_id IS 'rep';
COMMENT ON COLUMN @extschema@.rep_sla.rep_name IS 'name of the rep';
COMMENT ON COLUMN @extschema@.rep_sla.tier IS 'tier of the leads (their tier now; D when none)';
COMMENT ON COLUMN @extschema@.rep_sla.follow_up_sla IS 'first follow-up due within this time of getting the lead';
COMMENT ON COLUMN @extschema@.rep_sla.leads_assigned IS 'leads the rep got (assigned, claimed or otherwise)';
COMMENT ON COLUMN @extschema@.rep_sla.leads_contacted IS 'of those, leads the rep followed up while owning them';
COMMENT ON COLUMN @extschema@.rep_sla.contacted_within_sla IS 'leads first followed up within the SLA';
COMMENT ON COLUMN @extschema@.rep_sla.sla_due IS 'leads whose SLA has run out or that were followed up: the denominator of sla_compliance';
COMMENT ON COLUMN @extschema@.rep_sla.sla_compliance IS 'contacted_within_sla / sla_due, 0 to 1';
COMMENT ON COLUMN @extschema@.rep_sla.median_time_to_first_contact IS 'median time from getting a lead to its first follow-up';
COMMENT ON COLUMN @extschema@.rep_sla.leads_paid IS 'leads that paid while the rep owned them';
COMMENT ON COLUMN @extschema@.rep_sla.conversion_rate IS 'leads_paid / leads_assigned, 0 to 1';

CREATE VIEW @extschema@.rep_leaderboard WITH (security_invoker = true) AS
WITH m AS (
  SELECT a.org_id, a.rep_id, date_trunc('month', a.assigned_at AT TIME ZONE o.timezone)::date AS month,
         1 AS assigned, 0 AS follow_ups, 0 AS trials, 0 AS paid, 0::numeric AS revenue
    FROM @extschema@.assignment a JOIN @extschema@.org o ON o.org_id = a.org_id
  UNION ALL
  SELECT f.org_id, f.rep_id, date_trunc('month', f.occurred_at AT TIME ZONE o.timezone)::date,
         0, 1, (f.outcome = 'trial_booked')::int, 0, 0
    FROM @extschema@.follow_up f JOIN @extschema@.org o ON o.org_id = f.org_id
  UNION ALL
  SELECT so.org_id, so.rep_id, date_trunc('month', so.paid_at AT TIME ZONE o.timezone)::date,
         0, 0, 0, (NOT so.is_renewal)::int, so.amount
    FROM @extschema@.sales_order so JOIN @extschema@.org o ON o.org_id = so.org_id
   WHERE so.status = 'paid' AND so.rep_id IS NOT NULL
), g AS (
  SELECT m.org_id, m.month, m.rep_id, sum(m.assigned) AS leads_assigned, sum(m.follow_ups) AS follow_ups,
         sum(m.trials) AS trials_booked, sum(m.paid) AS new_students, sum(m.revenue) AS revenue
    FROM m GROUP BY m.org_id, m.month, m.rep_id
)
SELECT g.org_id, g.month, g.rep_id, r.name AS rep_name, r.role, g.leads_assigned, g.follow_ups, g.trials_booked,
       g.new_students, g.revenue::numeric(14,2) AS revenue,
       round(g.new_students::numeric / nullif(g.leads_assigned, 0), 4) AS students_per_lead,
       rank() OVER (PARTITION BY g.org_id, g.month ORDER BY g.revenue DESC, g.new_students DESC) AS revenue_rank
  FROM g JOIN @extschema@.sales_rep r ON r.org_id = g.org_id AND r.rep_id = g.rep_id;
COMMENT ON VIEW @extschema@.rep_leaderboard IS 'per month and rep: leads got, follow-ups, trials booked, new students and revenue credited, ranked by revenue within the org and month';
COMMENT ON COLUMN @extschema@.rep_leaderboard.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.rep_leaderboard.month IS 'month (org time zone)';
COMMENT ON COLUMN @extschema@.rep_leaderboard.rep_id IS 'rep';
COMMENT ON COLUMN @extschema@.rep_leaderboard.rep_name IS 'name of the rep';
COMMENT ON COLUMN @extschema@.rep_leaderboard.role IS 'ai_bot, tmk, sales or top_sales';
COMMENT ON COLUMN @extschema@.rep_leaderboard.leads_assigned IS 'leads the rep got in the month';
COMMENT ON COLUMN @extschema@.rep_leaderboard.follow_ups IS 'follow-up contacts the rep made in the month';
COMMENT ON COLUMN @extschema@.rep_leaderboard.trials_booked IS 'follow-ups of the month that booked a trial lesson';
COMMENT ON COLUMN @extschema@.rep_leaderboard.new_students IS 'first (not renewal) orders paid in the month credited to the rep';
COMMENT ON COLUMN @extschema@.rep_leaderboard.revenue IS 'amount of all orders paid in the month credited to the rep';
COMMENT ON COLUMN @extschema@.rep_leaderboard.students_per_lead IS 'new_students / leads_assigned of the month';
COMMENT ON COLUMN @extschema@.rep_leaderboard.revenue_rank IS 'rank by revenue (then new students) in the org and month, 1 = best';

CREATE VIEW @extschema@.pool_health WITH (security_invoker = true) AS
-- the org's clock in a subquery of org and the warnings as a join (since
-- 0.12: Citus cannot push down a FROM-less subquery calling now(), nor a
-- correlated subquery in the select list)
SELECT o.org_id, o.as_of,
       p.public_leads, p.public_tier_a, p.public_tier_b, p.public_tier_c, p.public_tier_d, p.public_untiered,
       p.oldest_public_created_at, o.as_of - p.oldest_public_created_at AS oldest_public_age,
       p.private_leads,
       h.assigned_today, h.claimed_today, h.recycled_today, h.recycled_last_7_days,
       coalesce(w.due, 0) AS due_for_recycling
  FROM (SELECT o.org_id, coalesce(o.report_as_of, now()) AS as_of,
               (coalesce(o.report_as_of, now()) AT TIME ZONE o.timezone)::date::timestamp AT TIME ZONE o.timezone AS day_start
          FROM @extschema@.org o) o
 CROSS JOIN LATERAL (
   SELECT count(*) FILTER (WHERE l.pool = 'public') AS public_leads,
          count(*) FILTER (WHERE l.pool = 'public' AND l.tier = 'A') AS public_tier_a,
          count(*) FILTER (WHERE l.pool = 'public' AND l.tier = 'B') AS public_tier_b,
          count(*) FILTER (WHERE l.pool = 'public' AND l.tier = 'C') AS public_tier_c,
          count(*) FILTER (WHERE l.pool = 'public' AND l.tier = 'D') AS public_tier_d,
          count(*) FILTER (WHERE l.pool = 'public' AND l.tier IS NULL) AS public_untiered,
          min(l.created_at) FILTER (WHERE l.pool = 'public') AS oldest_public_created_at,
          count(*) FILTER (WHERE l.pool = 'private') AS private_leads
     FROM @extschema@.lead l WHERE l.org_id = o.org_id AND l.status NOT IN ('won', 'lost')) p
 CROSS JOIN LATERAL (
   SELECT count(*) FILTER (WHERE a.reason IN ('round_robin', 'least_busy') AND a.assigned_at >= o.day_start) AS assigned_today,
          count(*) FILTER (WHERE a.reason = 'claim' AND a.assigned_at >= o.day_start) AS claimed_today,
          count(*) FILTER (WHERE a.release_reason LIKE 'recycle%' AND a.released_at >= o.day_start) AS recycled_today,
          count(*) FILTER (WHERE a.release_reason LIKE 'recycle%' AND a.released_at >= o.day_start - interval '6 days') AS recycled_last_7_days
     FROM @extschema@.assignment a
    WHERE a.org_id = o.org_id AND (a.assigned_at >= o.day_start OR a.released_at >= o.day_start - interval '6 days')) h
  LEFT JOIN (SELECT w.org_id, count(*) AS due FROM @extschema@.recycle_warnings w GROUP BY w.org_id) w ON w.org_id = o.org_id;
COMMENT ON VIEW @extschema@.pool_health IS 'per org now: open leads waiting in the public pool by tier and the oldest of them, leads held privately, today''s assignments, claims and recycling, and leads due for recycling';
COMMENT ON COLUMN @extschema@.pool_health.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.pool_health.as_of IS 'time the figures are for';
COMMENT ON COLUMN @extschema@.pool_health.public_leads IS 'open leads in the public pool (公海)';
COMMENT ON COLUMN @extschema@.pool_health.public_tier_a IS 'of those, tier A';
COMMENT ON COLUMN @extschema@.pool_health.public_tier_b IS 'of those, tier B';
COMMENT ON COLUMN @extschema@.pool_health.public_tier_c IS 'of those, tier C';
COMMENT ON COLUMN @extschema@.pool_health.public_tier_d IS 'of those, tier D';
COMMENT ON COLUMN @extschema@.pool_health.public_untiered IS 'of those, not tiered yet';
COMMENT ON COLUMN @extschema@.pool_health.oldest_public_created_at IS 'creation time of the oldest lead in the public pool';
COMMENT ON COLUMN @extschema@.pool_health.oldest_public_age IS 'age of the oldest lead in the public pool';
COMMENT ON COLUMN @extschema@.pool_health.private_leads IS 'open leads held in private pools (私海)';
COMMENT ON COLUMN @extschema@.pool_health.assigned_today IS 'leads assigned today by round-robin or least-busy';
COMMENT ON COLUMN @extschema@.pool_health.claimed_today IS 'leads claimed from the public pool today';
COMMENT ON COLUMN @extschema@.pool_health.recycled_today IS 'leads recycled (回收) to the public pool today';
COMMENT ON COLUMN @extschema@.pool_health.recycled_last_7_days IS 'leads recycled today and in the 6 days before';
COMMENT ON COLUMN @extschema@.pool_health.due_for_recycling IS 'leads in recycle_warnings';

CREATE VIEW @extschema@.pool_daily WITH (security_invoker = true) AS
WITH ev AS (
  SELECT a.org_id, (a.assigned_at AT TIME ZONE o.timezone)::date AS day, a.reason AS what
    FROM @extschema@.assignment a JOIN @extschema@.org o ON o.org_id = a.org_id
  UNION ALL
  SELECT a.org_id, (a.released_at AT TIME ZONE o.timezone)::date, a.release_reason
    FROM @extschema@.assignment a JOIN @extschema@.org o ON o.org_id = a.org_id
   WHERE a.released_at IS NOT NULL
)
SELECT ev.org_id, ev.day,
       count(*) FILTER (WHERE ev.what IN ('round_robin', 'least_busy')) AS assigned,
       count(*) FILTER (WHERE ev.what = 'claim') AS claimed,
       count(*) FILTER (WHERE ev.what IN ('manual', 'transfer', 'import')) AS assigned_otherwise,
       count(*) FILTER (WHERE ev.what = 'release') AS released,
       count(*) FILTER (WHERE ev.what = 'recycle_no_follow_up') AS recycled_no_follow_up,
       count(*) FILTER (WHERE ev.what = 'recycle_no_deal') AS recycled_no_deal
  FROM ev GROUP BY ev.org_id, ev.day;
COMMENT ON VIEW @extschema@.pool_daily IS 'per org and day (org time zone): leads moved between the pools by assignment, claims, releases and recycling';
COMMENT ON COLUMN @extschema@.pool_daily.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.pool_daily.day IS 'day';
COMMENT ON COLUMN @extschema@.pool_daily.assigned IS 'leads assigned by round-robin or least-busy';
COMMENT ON COLUMN @extschema@.pool_daily.claimed IS 'leads claimed from the public pool';
COMMENT ON COLUMN @extschema@.pool_daily.assigned_otherwise IS 'leads given by hand, transfer or import';
COMMENT ON COLUMN @extschema@.pool_daily.released IS 'leads released by their owner';
COMMENT ON COLUMN @extschema@.pool_daily.recycled_no_follow_up IS 'leads recycled for no follow-up within the SLA';
COMMENT ON COLUMN @extschema@.pool_daily.recycled_no_deal IS 'leads recycled for no deal in time';

-- ---------------------------------------------------------------------------
-- Lead lifecycle (since 0.14; docs/reference/lifecycle.md): the states of a
-- lead and the moves between them, made by the events and orders that mean
-- them, each recorded with who, when and why.
-- ---------------------------------------------------------------------------
-- Safe to run again (install() runs it as schema step 0.14 on an older
-- schema, also on a distributed Citus cluster: the new tables are then
-- distributed before their foreign keys are added, and the triggers are
-- created on the distributed tables, which Citus allows with
-- enable_unsafe_triggers: they touch only rows of the same org).
SELECT set_config('citus.enable_unsafe_triggers', 'on', true);

-- (the DDL on tables a Citus cluster has distributed is in DO blocks: Citus
-- sends an ALTER TABLE or a trigger on to the workers as the text of the
-- statement, which must be one statement)
DO $org$
BEGIN
  ALTER TABLE @extschema@.org ADD COLUMN IF NOT EXISTS reopen_on_full_refund boolean NOT NULL DEFAULT false;
END
$org$;
COMMENT ON COLUMN @extschema@.org.reopen_on_full_refund IS 'when true, a won lead whose paid orders are all fully refunded goes back to contacting (and to the pools'' recycling); when false it stays won';

-- the org's list of reasons a lead is lost
CREATE TABLE IF NOT EXISTS @extschema@.lost_reason (
  org_id  bigint NOT NULL,
  code    text NOT NULL,
  label   text NOT NULL,
  active  boolean NOT NULL DEFAULT true,
  CONSTRAINT lost_reason_pkey PRIMARY KEY (org_id, code),
  CONSTRAINT lost_reason_code_check CHECK (code ~ '^[a-z][a-z0-9_]{0,39}$'),
  CONSTRAINT lost_reason_label_check CHECK (length(label) BETWEEN 1 AND 100)
);
COMMENT ON TABLE @extschema@.lost_reason IS 'the reasons an org accepts for a lost lead (price, schedule, no need, unreachable, chose a competitor, ...); create_org adds the defaults (lost_reason_defaults())';
COMMENT ON COLUMN @extschema@.lost_reason.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.lost_reason.code IS 'the reason''s code, such as price: lowercase letters, digits and _, up to 40';
COMMENT ON COLUMN @extschema@.lost_reason.label IS 'the reason as people read it';
COMMENT ON COLUMN @extschema@.lost_reason.active IS 'false: no longer offered for new losses (leads lost for it keep it)';

DO $lead$
BEGIN
  ALTER TABLE @extschema@.lead ADD COLUMN IF NOT EXISTS status_changed_at timestamptz,
    ADD COLUMN IF NOT EXISTS status_note text, ADD COLUMN IF NOT EXISTS lost_reason text;
END
$lead$;
COMMENT ON COLUMN @extschema@.lead.status_changed_at IS 'when the lead entered its status (NULL: still new since created_at, or a status from before 0.14 or from an import)';
COMMENT ON COLUMN @extschema@.lead.status_note IS 'why the lead is in its status, such as order 12 paid';
COMMENT ON COLUMN @extschema@.lead.lost_reason IS 'for a lost lead, the code of its reason in the org''s lost_reason list';

-- every move of a lead's status
CREATE TABLE IF NOT EXISTS @extschema@.lead_status_change (
  org_id       bigint NOT NULL,
  change_id    bigint GENERATED ALWAYS AS IDENTITY,
  lead_id      bigint NOT NULL,
  from_status  text NOT NULL,
  to_status    text NOT NULL,
  changed_at   timestamptz NOT NULL,
  cause        text NOT NULL,
  note         text,
  lost_reason  text,
  rep_id       bigint,
  changed_by   text NOT NULL DEFAULT session_user,
  recorded_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT lead_status_change_pkey PRIMARY KEY (org_id, change_id),
  CONSTRAINT lead_status_change_cause_check CHECK (cause IN ('order', 'refund', 'event', 'follow_up', 'lost', 'update'))
);
CREATE INDEX IF NOT EXISTS lead_status_change_lead_idx ON @extschema@.lead_status_change (org_id, lead_id, changed_at);
COMMENT ON TABLE @extschema@.lead_status_change IS 'every move of a lead''s status, written by the lead''s trigger whatever made it: a paid order (won), a full refund (reopened), a funnel event (trial), a follow-up (contacting), mark_lost, or an update';
COMMENT ON COLUMN @extschema@.lead_status_change.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.lead_status_change.change_id IS 'change id';
COMMENT ON COLUMN @extschema@.lead_status_change.lead_id IS 'lead';
COMMENT ON COLUMN @extschema@.lead_status_change.from_status IS 'status before';
COMMENT ON COLUMN @extschema@.lead_status_change.to_status IS 'status after';
COMMENT ON COLUMN @extschema@.lead_status_change.changed_at IS 'when the lead entered to_status: the order''s payment, the refund, the event, or the server''s clock for a change made by hand';
COMMENT ON COLUMN @extschema@.lead_status_change.cause IS 'what moved it: order, refund, event, follow_up, lost (mark_lost) or update (update_lead, or an UPDATE by an app or admin role)';
COMMENT ON COLUMN @extschema@.lead_status_change.note IS 'why, such as order 12 paid';
COMMENT ON COLUMN @extschema@.lead_status_change.lost_reason IS 'the reason, for a move to lost';
COMMENT ON COLUMN @extschema@.lead_status_change.rep_id IS 'the lead''s owner at the time';
COMMENT ON COLUMN @extschema@.lead_status_change.changed_by IS 'the database role of the session that made the change';
COMMENT ON COLUMN @extschema@.lead_status_change.recorded_at IS 'when the change was written (the server''s clock)';

-- the foreign keys, after distributing the new tables where lead is
-- distributed (Citus refuses a key between a local and a distributed table)
DO $keys$
DECLARE
  t text;
BEGIN
  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
    FOREACH t IN ARRAY '{lost_reason,lead_status_change}'::text[] LOOP
      EXECUTE format($q$SELECT create_distributed_table('@extschema@.%I', 'org_id', colocate_with => '@extschema@.org')
                         WHERE EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = '@extschema@.lead'::regclass)
                           AND NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = '@extschema@.%I'::regclass)$q$, t, t);
    END LOOP;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'lead_lost_reason_fkey'
                    AND conrelid = '@extschema@.lead'::regclass) THEN
    ALTER TABLE @extschema@.lost_reason
      ADD CONSTRAINT lost_reason_org_id_fkey FOREIGN KEY (org_id) REFERENCES @extschema@.org (org_id);
    ALTER TABLE @extschema@.lead_status_change
      ADD CONSTRAINT lead_status_change_lead_fkey FOREIGN KEY (org_id, lead_id) REFERENCES @extschema@.lead (org_id, lead_id);
    -- (one constraint a statement: Citus refuses several in one)
    ALTER TABLE @extschema@.lead
      ADD CONSTRAINT lead_lost_reason_fkey FOREIGN KEY (org_id, lost_reason) REFERENCES @extschema@.lost_reason (org_id, code);
    ALTER TABLE @extschema@.lead ADD CONSTRAINT lead_lost_reason_only_lost CHECK (lost_reason IS NULL OR status = 'lost');
    ALTER TABLE @extschema@.lead ADD CONSTRAINT lead_status_note_check CHECK (length(status_note) <= 200);
  END IF;
END
$keys$;
-- every org gets the default reasons (create_org adds them to new ones)
INSERT INTO @extschema@.lost_reason (org_id, code, label)
SELECT o.org_id, d.code, d.label FROM @extschema@.org o CROSS JOIN @extschema@.lost_reason_defaults() d
ON CONFLICT DO NOTHING;

DO $triggers$
BEGIN
  DROP TRIGGER IF EXISTS lead_status_check ON @extschema@.lead;
  CREATE TRIGGER lead_status_check BEFORE UPDATE OF status, lost_reason ON @extschema@.lead FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.lost_reason IS DISTINCT FROM NEW.lost_reason)
    EXECUTE FUNCTION @extschema@.lead_status_check();
  DROP TRIGGER IF EXISTS lead_status_track ON @extschema@.lead;
  CREATE TRIGGER lead_status_track AFTER UPDATE OF status ON @extschema@.lead FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION @extschema@.lead_status_track();
  DROP TRIGGER IF EXISTS sales_order_lifecycle ON @extschema@.sales_order;
  CREATE TRIGGER sales_order_lifecycle AFTER INSERT OR UPDATE OF status ON @extschema@.sales_order FOR EACH ROW
    WHEN (NEW.status = 'paid')
    EXECUTE FUNCTION @extschema@.sales_order_lifecycle();
  DROP TRIGGER IF EXISTS refund_lifecycle ON @extschema@.refund;
  CREATE TRIGGER refund_lifecycle AFTER INSERT ON @extschema@.refund FOR EACH ROW
    EXECUTE FUNCTION @extschema@.refund_lifecycle();
  DROP TRIGGER IF EXISTS lead_event_lifecycle ON @extschema@.lead_event;
  CREATE TRIGGER lead_event_lifecycle AFTER INSERT ON @extschema@.lead_event FOR EACH ROW
    WHEN (NEW.event_type IN ('trial_booked', 'trial_attended'))
    EXECUTE FUNCTION @extschema@.lead_event_lifecycle();
END
$triggers$;

-- the time a lead spent in each status: one row per stay, from its history
-- (a lead's first stay, new, starts at created_at); the current stay runs
-- until the org's report_as_of, or now()
CREATE OR REPLACE VIEW @extschema@.lead_status_span WITH (security_invoker = true) AS
WITH moves AS (
  SELECT c.org_id, c.lead_id, c.from_status, c.to_status, c.changed_at,
         row_number() OVER (PARTITION BY c.org_id, c.lead_id ORDER BY c.changed_at, c.change_id) AS n
    FROM @extschema@.lead_status_change c
), stays AS (
  -- the stay each move ends, and the one the last move starts
  SELECT m.org_id, m.lead_id, m.from_status AS status,
         coalesce(lag(m.changed_at) OVER w, l.created_at) AS entered_at, m.changed_at AS left_at, m.n AS stay
    FROM moves m
    JOIN @extschema@.lead l ON l.org_id = m.org_id AND l.lead_id = m.lead_id
  WINDOW w AS (PARTITION BY m.org_id, m.lead_id ORDER BY m.n)
)
SELECT s.org_id, s.lead_id, s.stay, s.status, s.entered_at, s.left_at,
       extract(epoch FROM greatest(s.left_at - s.entered_at, interval '0')) / 3600 AS hours
  FROM stays s
UNION ALL
SELECT l.org_id, l.lead_id, coalesce(c.n, 0) + 1, l.status, coalesce(l.status_changed_at, l.created_at), NULL,
       extract(epoch FROM greatest(coalesce(o.report_as_of, now()) - coalesce(l.status_changed_at, l.created_at), interval '0')) / 3600
  FROM @extschema@.lead l
  JOIN @extschema@.org o ON o.org_id = l.org_id
  LEFT JOIN (SELECT org_id, lead_id, count(*) AS n FROM @extschema@.lead_status_change GROUP BY org_id, lead_id) c
    ON c.org_id = l.org_id AND c.lead_id = l.lead_id;
COMMENT ON VIEW @extschema@.lead_status_span IS 'each stay of a lead in a status, from lead_status_change: the first (new) from created_at, the current one until the org''s report_as_of or now(); leads imported in a later status have only their current stay';
COMMENT ON COLUMN @extschema@.lead_status_span.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.lead_status_span.lead_id IS 'lead';
COMMENT ON COLUMN @extschema@.lead_status_span.stay IS 'the stay''s number, 1 for the first';
COMMENT ON COLUMN @extschema@.lead_status_span.status IS 'status of the stay';
COMMENT ON COLUMN @extschema@.lead_status_span.entered_at IS 'when the lead entered it';
COMMENT ON COLUMN @extschema@.lead_status_span.left_at IS 'when it left it; NULL for the current stay';
COMMENT ON COLUMN @extschema@.lead_status_span.hours IS 'hours in the status (the current stay until report_as_of or now()); never negative';

-- time in each status by channel, for sales managers
CREATE OR REPLACE VIEW @extschema@.status_time WITH (security_invoker = true) AS
SELECT s.org_id, l.first_channel_id AS channel_id, ch.code AS channel, s.status,
       count(*) FILTER (WHERE s.left_at IS NOT NULL) AS stays_ended,
       count(*) FILTER (WHERE s.left_at IS NULL) AS leads_in_it_now,
       avg(s.hours) FILTER (WHERE s.left_at IS NOT NULL) AS mean_hours,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY s.hours) FILTER (WHERE s.left_at IS NOT NULL) AS median_hours
  FROM @extschema@.lead_status_span s
  JOIN @extschema@.lead l ON l.org_id = s.org_id AND l.lead_id = s.lead_id
  JOIN @extschema@.channel ch ON ch.org_id = l.org_id AND ch.channel_id = l.first_channel_id
 GROUP BY s.org_id, l.first_channel_id, ch.code, s.status;
COMMENT ON VIEW @extschema@.status_time IS 'time leads spend in each status, by first channel: stays that ended (mean and median hours) and leads in the status now';
COMMENT ON COLUMN @extschema@.status_time.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.status_time.channel_id IS 'first channel of the leads';
COMMENT ON COLUMN @extschema@.status_time.channel IS 'its code';
COMMENT ON COLUMN @extschema@.status_time.status IS 'status';
COMMENT ON COLUMN @extschema@.status_time.stays_ended IS 'stays in the status that ended';
COMMENT ON COLUMN @extschema@.status_time.leads_in_it_now IS 'leads in the status now';
COMMENT ON COLUMN @extschema@.status_time.mean_hours IS 'mean hours of the stays that ended';
COMMENT ON COLUMN @extschema@.status_time.median_hours IS 'median hours of the stays that ended';

-- lost leads by reason, channel and rep
CREATE OR REPLACE VIEW @extschema@.lost_reasons WITH (security_invoker = true) AS
SELECT l.org_id, l.first_channel_id AS channel_id, ch.code AS channel, l.owner_rep_id AS rep_id, r.name AS rep_name,
       coalesce(l.lost_reason, '(not recorded)') AS lost_reason, lr.label, count(*) AS leads
  FROM @extschema@.lead l
  JOIN @extschema@.channel ch ON ch.org_id = l.org_id AND ch.channel_id = l.first_channel_id
  LEFT JOIN @extschema@.sales_rep r ON r.org_id = l.org_id AND r.rep_id = l.owner_rep_id
  LEFT JOIN @extschema@.lost_reason lr ON lr.org_id = l.org_id AND lr.code = l.lost_reason
 WHERE l.status = 'lost'
 GROUP BY l.org_id, l.first_channel_id, ch.code, l.owner_rep_id, r.name, l.lost_reason, lr.label;
COMMENT ON VIEW @extschema@.lost_reasons IS 'lost leads by reason, first channel and owning rep (a lead lost and released to the public pool has no rep); leads lost before 0.14 or imported lost show (not recorded)';
COMMENT ON COLUMN @extschema@.lost_reasons.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.lost_reasons.channel_id IS 'first channel of the leads';
COMMENT ON COLUMN @extschema@.lost_reasons.channel IS 'its code';
COMMENT ON COLUMN @extschema@.lost_reasons.rep_id IS 'rep who owns the leads, NULL for the public pool';
COMMENT ON COLUMN @extschema@.lost_reasons.rep_name IS 'the rep''s name';
COMMENT ON COLUMN @extschema@.lost_reasons.lost_reason IS 'code of the reason, or (not recorded)';
COMMENT ON COLUMN @extschema@.lost_reasons.label IS 'the reason as people read it';
COMMENT ON COLUMN @extschema@.lost_reasons.leads IS 'lost leads';

-- ---------------------------------------------------------------------------
-- Time window (since 0.15; docs/reference/ingest.md "Whose clock"): the
-- times a caller may pass.  A superuser (a DBA loading history) passes any
-- finite time; app and admin roles a time within the org's window around the
-- server's clock, from backfill_horizon before now to future_tolerance after
-- it; sales and reporting roles none, the server's clock decides.  Safe to
-- run on a schema that has it (each DDL statement on its own, for Citus).
-- ---------------------------------------------------------------------------
DO $org$
BEGIN
  ALTER TABLE @extschema@.org ADD COLUMN IF NOT EXISTS backfill_horizon interval NOT NULL DEFAULT '30 days';
END
$org$;
DO $org$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'org_backfill_horizon_check'
                    AND conrelid = '@extschema@.org'::regclass) THEN
    ALTER TABLE @extschema@.org ADD CONSTRAINT org_backfill_horizon_check CHECK (backfill_horizon >= interval '0');
  END IF;
END
$org$;
-- an infinite as-of time emptied every service view (until 0.15): the
-- reports of such an org are taken as of now, as for NULL
UPDATE @extschema@.org SET report_as_of = NULL WHERE NOT isfinite(report_as_of);
DO $org$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'org_report_as_of_check'
                    AND conrelid = '@extschema@.org'::regclass) THEN
    ALTER TABLE @extschema@.org ADD CONSTRAINT org_report_as_of_check CHECK (isfinite(report_as_of));
  END IF;
END
$org$;
COMMENT ON COLUMN @extschema@.org.backfill_horizon IS 'how far before the server''s clock a time passed by an app or admin role may lie (since 0.15; a superuser loads older history); with future_tolerance the window of such times';

-- ---------------------------------------------------------------------------
-- Master data (since 0.16; docs/reference/master_data.md): a rep's dated
-- leave, which takes it off the assignment roster for those days.  The other
-- master data (teams, reps, shifts, teachers, courses, classes, students,
-- enrollments, renewals) has had tables since 0.1; 0.16 gives them functions.
-- Safe to run again (install() runs it as schema step 0.16, also on a
-- distributed Citus cluster: the table is distributed before its key).
-- ---------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS @extschema@.rep_leave (
  org_id      bigint NOT NULL,
  leave_id    bigint GENERATED ALWAYS AS IDENTITY,
  rep_id      bigint NOT NULL,
  first_day   date NOT NULL,
  last_day    date NOT NULL,
  reason      text,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT rep_leave_pkey PRIMARY KEY (org_id, leave_id),
  CONSTRAINT rep_leave_days_check CHECK (last_day >= first_day AND last_day - first_day < 366),
  CONSTRAINT rep_leave_reason_check CHECK (length(reason) <= 200)
);
CREATE INDEX IF NOT EXISTS rep_leave_rep_idx ON @extschema@.rep_leave (org_id, rep_id, first_day);
COMMENT ON TABLE @extschema@.rep_leave IS 'a rep''s leave, whole days in the org''s time zone: on those days the rep gets no leads from assign_lead or assign_pending (add_leave, cancel_leave)';
COMMENT ON COLUMN @extschema@.rep_leave.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.rep_leave.leave_id IS 'leave id';
COMMENT ON COLUMN @extschema@.rep_leave.rep_id IS 'the rep on leave';
COMMENT ON COLUMN @extschema@.rep_leave.first_day IS 'first day of leave, in the org''s time zone';
COMMENT ON COLUMN @extschema@.rep_leave.last_day IS 'last day of leave (inclusive), at most 365 days after the first';
COMMENT ON COLUMN @extschema@.rep_leave.reason IS 'why, such as annual leave (up to 200 characters)';
COMMENT ON COLUMN @extschema@.rep_leave.recorded_at IS 'when the leave was recorded (the server''s clock)';

DO $keys$
BEGIN
  -- (EXECUTE: the Citus catalog exists only where Citus does)
  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
    EXECUTE $q$SELECT create_distributed_table('@extschema@.rep_leave', 'org_id', colocate_with => '@extschema@.org')
                WHERE EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = '@extschema@.sales_rep'::regclass)
                  AND NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = '@extschema@.rep_leave'::regclass)$q$;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'rep_leave_rep_fkey'
                    AND conrelid = '@extschema@.rep_leave'::regclass) THEN
    ALTER TABLE @extschema@.rep_leave ADD CONSTRAINT rep_leave_rep_fkey
      FOREIGN KEY (org_id, rep_id) REFERENCES @extschema@.sales_rep (org_id, rep_id) ON DELETE CASCADE;
  END IF;
END
$keys$;


-- ---------------------------------------------------------------------------
-- Ingestion's data (docs/reference/ingest.md): visitor linking (since 0.16).
-- A visitor's anonymous touches belong to the lead its form made:
-- ingest_lead and record_touch link them from 0.16 on, and this links those
-- recorded before, each to the lead of the visitor's first linked touch.
-- ---------------------------------------------------------------------------
UPDATE @extschema@.touchpoint t SET lead_id = v.lead_id
  FROM (SELECT DISTINCT ON (x.org_id, x.visitor_id) x.org_id, x.visitor_id, x.lead_id
          FROM @extschema@.touchpoint x
         WHERE x.visitor_id IS NOT NULL AND x.lead_id IS NOT NULL
         ORDER BY x.org_id, x.visitor_id, x.occurred_at, x.touchpoint_id) v
 WHERE t.org_id = v.org_id AND t.visitor_id = v.visitor_id AND t.lead_id IS NULL;

-- ---------------------------------------------------------------------------
-- The form-time model (since 0.16; docs/reference/model.md): a conversion
-- model of a stage, 'contact' (the model of before, which learns from what
-- reps do) or 'form' (only what is known when the form arrives, which
-- ingest_lead scores at once into lead.form_score).  Safe to run again
-- (install() runs it as schema step 0.16; each DDL statement on its own, for
-- Citus).  schema.sql has the column in conversion_model for a new schema.
-- ---------------------------------------------------------------------------
DO $cm$
BEGIN
  ALTER TABLE @extschema@.conversion_model ADD COLUMN IF NOT EXISTS stage text NOT NULL DEFAULT 'contact';
END
$cm$;
DO $cm$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'conversion_model_stage_check'
                    AND conrelid = '@extschema@.conversion_model'::regclass) THEN
    ALTER TABLE @extschema@.conversion_model ADD CONSTRAINT conversion_model_stage_check CHECK (stage IN ('contact', 'form'));
  END IF;
END
$cm$;
-- (in a DO block: Citus sends DDL on a distributed table on to the workers
-- as the text of the statement, which must be one statement)
DO $cm$
BEGIN
  DROP INDEX IF EXISTS @extschema@.conversion_model_one_active;
  CREATE UNIQUE INDEX IF NOT EXISTS conversion_model_one_active_per_stage ON @extschema@.conversion_model (org_id, stage) WHERE active;
END
$cm$;
COMMENT ON TABLE @extschema@.conversion_model IS 'registry of trained conversion models, versioned per org and name; at most one active per org and stage';
COMMENT ON COLUMN @extschema@.conversion_model.stage IS 'contact: learns from everything known of a lead, reps'' work included (lead.score); form: only from what is known when the form arrives (lead.form_score, scored by ingest_lead)';

DO $lead$
BEGIN
  ALTER TABLE @extschema@.lead ADD COLUMN IF NOT EXISTS form_score float8, ADD COLUMN IF NOT EXISTS form_scored_at timestamptz,
    ADD COLUMN IF NOT EXISTS form_score_model_id bigint;
END
$lead$;
DO $lead$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'lead_form_score_check'
                    AND conrelid = '@extschema@.lead'::regclass) THEN
    ALTER TABLE @extschema@.lead ADD CONSTRAINT lead_form_score_check CHECK (form_score BETWEEN 0 AND 1);
  END IF;
END
$lead$;
DO $lead$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'lead_form_score_model_fkey'
                    AND conrelid = '@extschema@.lead'::regclass) THEN
    ALTER TABLE @extschema@.lead ADD CONSTRAINT lead_form_score_model_fkey
      FOREIGN KEY (org_id, form_score_model_id) REFERENCES @extschema@.conversion_model (org_id, model_id);
  END IF;
END
$lead$;
COMMENT ON COLUMN @extschema@.lead.form_score IS 'probability of conversion when the form arrived, under the org''s active form-time model (ingest_lead; score_leads with a form model rescores it)';
COMMENT ON COLUMN @extschema@.lead.form_scored_at IS 'when form_score was computed';
COMMENT ON COLUMN @extschema@.lead.form_score_model_id IS 'the form-time model that gave form_score';

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
$full$
WHEN 'schema_version' THEN $schema_version$
CREATE TABLE @extschema@.schema_version (
  version     text NOT NULL,
  how         text NOT NULL,
  applied_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT schema_version_pkey PRIMARY KEY (version),
  CONSTRAINT schema_version_how_check CHECK (how IN ('full', 'step', 'members'))
);
COMMENT ON TABLE @extschema@.schema_version IS 'the steps of leadmgmt''s schema applied in this database, written by install(); the code checks it (require_schema)';
COMMENT ON COLUMN @extschema@.schema_version.version IS 'a schema version (an element of schema_steps())';
COMMENT ON COLUMN @extschema@.schema_version.how IS 'full: the whole schema of this version at once; step: from the version before; members: the tables were members of the extension until ALTER EXTENSION UPDATE made them ordinary';
COMMENT ON COLUMN @extschema@.schema_version.applied_at IS 'when';
GRANT SELECT ON @extschema@.schema_version TO PUBLIC;
$schema_version$
WHEN '0.11' THEN $step$
COMMENT ON TABLE @extschema@.rep_load IS 'engine state, derived: each rep''s open leads and today''s assignments and claims, kept under the org''s assignment lock and rebuilt from lead and assignment when missing';
COMMENT ON TABLE @extschema@.rep_load_change IS 'engine state, derived: changes of open leads per rep written by the lead trigger without waiting for any lock, folded into rep_load by the next engine call';
COMMENT ON TABLE @extschema@.assign_rotation IS 'engine state: the smooth weighted round-robin of each org';
COMMENT ON TABLE @extschema@.assign_pick IS 'engine state: the pick journal, one row per assign_lead or assign_pending call since the last fold; the engine reads it with a dirty snapshot, so picks in flight count and rolled-back ones vanish; rep_load_sync folds settled rows into assign_rotation and rep_load (no foreign key: its rows live for seconds, and a key check would lock the org row in every call)';
-- rep_workload reads the org's clock through a join, which Citus can push down
CREATE OR REPLACE VIEW @extschema@.rep_workload WITH (security_invoker = true) AS
SELECT r.org_id, r.team_id, tm.name AS team_name, r.rep_id, r.name AS rep_name, r.role, r.active,
       NOT EXISTS (SELECT 1 FROM @extschema@.rep_shift s WHERE s.org_id = r.org_id AND s.rep_id = r.rep_id)
       OR EXISTS (SELECT 1 FROM @extschema@.rep_shift s
                   WHERE s.org_id = r.org_id AND s.rep_id = r.rep_id
                     AND s.weekday = extract(isodow FROM n.local)
                     AND n.local::time >= s.starts_at AND n.local::time < s.ends_at) AS on_shift_now,
       ol.open_leads, r.holding_cap, greatest(r.holding_cap - ol.open_leads, 0) AS holding_room,
       td.assigned_today, r.daily_cap, td.claimed_today, r.daily_claim_cap, td.last_assigned_at
  FROM @extschema@.sales_rep r
  -- the org's clock as a join, not a LATERAL without FROM (Citus cannot
  -- push one down that calls now(); since 0.11)
  JOIN (SELECT o.org_id, o.timezone, coalesce(o.report_as_of, now()) AT TIME ZONE o.timezone AS local
          FROM @extschema@.org o) n ON n.org_id = r.org_id
  LEFT JOIN @extschema@.team tm ON tm.org_id = r.org_id AND tm.team_id = r.team_id
 CROSS JOIN LATERAL (SELECT count(*) AS open_leads FROM @extschema@.lead l
                      WHERE l.org_id = r.org_id AND l.owner_rep_id = r.rep_id AND l.status NOT IN ('won', 'lost')) ol
 CROSS JOIN LATERAL (SELECT count(*) FILTER (WHERE a.reason IN ('round_robin', 'least_busy')
                                               AND a.assigned_at >= n.local::date::timestamp AT TIME ZONE n.timezone) AS assigned_today,
                            count(*) FILTER (WHERE a.reason = 'claim'
                                               AND a.assigned_at >= n.local::date::timestamp AT TIME ZONE n.timezone) AS claimed_today,
                            max(a.assigned_at) AS last_assigned_at
                       FROM @extschema@.assignment a WHERE a.org_id = r.org_id AND a.rep_id = r.rep_id) td;
$step$
WHEN '0.12' THEN $step$
-- 0.12 (docs/changelog.md), safe to run on a schema that has it already:
-- 1. the phone apart from the lead (lead_contact): reporting and sales roles
--    then need no column privileges, which Citus refuses.  lead's
--    phone_masked and phone_valid were generated from its phone: they become
--    plain columns, added anew at the end of the table (Citus cannot drop a
--    column's generation expression), so the four views over them are made
--    again below.
CREATE TABLE IF NOT EXISTS @extschema@.lead_contact (
  org_id      bigint NOT NULL,
  lead_id     bigint NOT NULL,
  phone       text,
  phone_raw   text,
  CONSTRAINT lead_contact_pkey PRIMARY KEY (org_id, lead_id),
  CONSTRAINT lead_contact_phone_key UNIQUE (org_id, phone),
  CONSTRAINT lead_contact_phone_check CHECK (phone ~ '^\+861[3-9][0-9]{9}$'),
  CONSTRAINT lead_contact_phone_raw_check CHECK (length(phone_raw) <= 64)
);
DO $contact$
BEGIN
  -- on a distributed cluster the new table joins the leads' colocation group
  -- before its key refers to them (distribute() leaves it alone then); the
  -- views are dropped and made again in this transaction, which Citus does
  -- over one connection per node only
  IF pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
    PERFORM pg_catalog.set_config('citus.multi_shard_modify_mode', 'sequential', true);
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition WHERE logicalrelid = '@extschema@.lead'::regclass)
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition WHERE logicalrelid = '@extschema@.lead_contact'::regclass) THEN
      PERFORM create_distributed_table('@extschema@.lead_contact', 'org_id', colocate_with => '@extschema@.lead');
    END IF;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'lead_contact_lead_fkey'
                    AND conrelid = '@extschema@.lead_contact'::regclass) THEN
    ALTER TABLE @extschema@.lead_contact ADD CONSTRAINT lead_contact_lead_fkey
      FOREIGN KEY (org_id, lead_id) REFERENCES @extschema@.lead (org_id, lead_id) ON DELETE CASCADE;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = '@extschema@.lead'::regclass
                AND attname = 'phone' AND NOT attisdropped) THEN
    INSERT INTO @extschema@.lead_contact (org_id, lead_id, phone, phone_raw)
    SELECT l.org_id, l.lead_id, l.phone, l.phone_raw FROM @extschema@.lead l
     WHERE l.phone IS NOT NULL OR l.phone_raw IS NOT NULL;
    DROP VIEW @extschema@.channel_payback, @extschema@.channel_roi, @extschema@.channel_daily, @extschema@.lead_overview;
    ALTER TABLE @extschema@.lead ADD COLUMN phone_masked_new text, ADD COLUMN phone_valid_new boolean NOT NULL DEFAULT false;
    UPDATE @extschema@.lead SET phone_masked_new = phone_masked, phone_valid_new = phone_valid;
    ALTER TABLE @extschema@.lead DROP COLUMN phone_masked, DROP COLUMN phone_valid, DROP COLUMN phone_raw, DROP COLUMN phone;
    ALTER TABLE @extschema@.lead RENAME COLUMN phone_masked_new TO phone_masked;
    ALTER TABLE @extschema@.lead RENAME COLUMN phone_valid_new TO phone_valid;
  END IF;
END
$contact$;
COMMENT ON COLUMN @extschema@.lead.phone_masked IS 'phone for display to roles that may not see it, such as 138****5678 (the number is in lead_contact)';
COMMENT ON COLUMN @extschema@.lead.phone_valid IS 'true when the phone is a valid mobile number; invalid leads are kept but not de-duplicated';
COMMENT ON TABLE @extschema@.lead_contact IS 'the phone of a lead, for the roles that may see it (app and admin; a sales rep reads its own leads'' with lead_phone()); one lead per valid phone per org (撞单 protection)';
COMMENT ON COLUMN @extschema@.lead_contact.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.lead_contact.lead_id IS 'the lead';
COMMENT ON COLUMN @extschema@.lead_contact.phone IS 'E.164 mobile number, unique per org; NULL when the submitted number is not valid';
COMMENT ON COLUMN @extschema@.lead_contact.phone_raw IS 'phone number as submitted';
-- 2. views that Citus can plan: no parameterised SQL function
--    (conversion_credit, recycle_schedule), no FULL JOIN chain (channel_roi),
--    no correlated subquery in a select list (channel_payback, pool_health),
--    no recursive CTE (student_lifetime: renewal_chains()); and the four
--    views over lead's phone columns, with their comments
CREATE OR REPLACE VIEW @extschema@.conversion_credit WITH (security_invoker = true) AS
-- a view, not a function with the models as a parameter, since 0.12: Citus
-- cannot plan a parameterised SQL function.  A filter on model or
-- is_org_model reaches the credit pass (both are grouping columns there), so
-- a report that wants one model pays for one.
WITH conv AS (
  -- each lead's first paid order
  SELECT DISTINCT ON (so.org_id, so.lead_id) so.org_id, so.lead_id, so.order_id, so.paid_at AS converted_at
    FROM @extschema@.sales_order so
   WHERE so.status = 'paid' AND NOT so.is_renewal
   ORDER BY so.org_id, so.lead_id, so.paid_at, so.order_id
), net AS (
  SELECT so.org_id, so.order_id, so.lead_id, so.paid_at, so.amount - coalesce(r.refunded, 0) AS net_amount
    FROM @extschema@.sales_order so
    LEFT JOIN (SELECT rf.org_id, rf.order_id, sum(rf.amount) AS refunded FROM @extschema@.refund rf GROUP BY 1, 2) r
           ON r.org_id = so.org_id AND r.order_id = so.order_id
   WHERE so.status = 'paid'
), direct_keys AS (
  -- credit is computed per channel and campaign ("code|campaign id"); direct channels are keyed
  -- without their campaign, so last_non_direct needs just one key per direct channel
  SELECT ch.org_id, jsonb_agg(ch.code || '|') AS keys
    FROM @extschema@.channel ch WHERE ch.kind = 'direct' GROUP BY ch.org_id
), cv AS (
  SELECT c.org_id, c.lead_id, c.order_id, c.converted_at, o.attribution_model,
         max(n.net_amount) FILTER (WHERE n.order_id = c.order_id) AS net_revenue,
         coalesce(sum(n.net_amount) FILTER (WHERE n.paid_at >= c.converted_at AND n.paid_at < c.converted_at + o.ltv_horizon), 0) AS ltv_revenue,
         -- options built once per conversion, not per touch
         jsonb_build_object('lookback_days', o.attribution_lookback_days, 'direct', coalesce(dk.keys, '[]')) AS options
    FROM conv c
    JOIN @extschema@.org o ON o.org_id = c.org_id
    LEFT JOIN direct_keys dk ON dk.org_id = c.org_id
    JOIN net n ON n.org_id = c.org_id AND n.lead_id = c.lead_id
   GROUP BY c.org_id, c.lead_id, c.order_id, c.converted_at, o.attribution_model, o.ltv_horizon, o.attribution_lookback_days, dk.keys
), credit AS (
  SELECT cv.org_id, cv.lead_id, cv.order_id, cv.converted_at, cv.net_revenue, cv.ltv_revenue, m.model,
         m.model = cv.attribution_model AS is_org_model,
         count(*) AS touches,
         @extschema@.touch_credit(m.model, ch.code || '|' || CASE WHEN ch.kind = 'direct' THEN '' ELSE coalesce(tp.campaign_id::text, '') END,
                                  tp.occurred_at, cv.converted_at,
                                  cv.options) AS credits
    FROM cv
    JOIN @extschema@.touchpoint tp ON tp.org_id = cv.org_id AND tp.lead_id = cv.lead_id
    JOIN @extschema@.channel ch ON ch.org_id = tp.org_id AND ch.channel_id = tp.channel_id
   CROSS JOIN (VALUES ('first_touch'), ('last_touch'), ('last_non_direct'), ('linear'), ('position_based'), ('time_decay')) m(model)
   GROUP BY cv.org_id, cv.lead_id, cv.order_id, cv.converted_at, cv.net_revenue, cv.ltv_revenue, m.model, cv.attribution_model
)
SELECT c.org_id, c.order_id, c.lead_id, c.converted_at, c.model,
       split_part(x.channel, '|', 1) AS channel, nullif(split_part(x.channel, '|', 2), '')::bigint AS campaign_id, x.credit,
       x.credit * c.net_revenue AS credited_revenue, x.credit * c.ltv_revenue AS credited_ltv_revenue, c.touches,
       c.is_org_model
  FROM credit c CROSS JOIN LATERAL unnest(c.credits) x;
COMMENT ON COLUMN @extschema@.conversion_credit.is_org_model IS 'true when model is the org''s attribution_model, the one channel_roi and channel_payback report';
CREATE OR REPLACE VIEW @extschema@.lead_overview WITH (security_invoker = true) AS
SELECT l.org_id,
       l.lead_id,
       l.phone_masked,
       l.phone_valid        AS phone_is_valid,
       l.name               AS contact_name,
       l.child_age,
       l.grade,
       l.subject,
       l.city,
       l.city_tier,
       fc.code              AS first_channel,
       lc.code              AS latest_channel,
       l.created_at,
       l.last_touch_at,
       l.status,
       l.pool,
       l.owner_rep_id,
       r.name               AS owner_name,
       l.tier,
       l.score
  FROM @extschema@.lead l
  JOIN @extschema@.channel fc ON fc.org_id = l.org_id AND fc.channel_id = l.first_channel_id
  JOIN @extschema@.channel lc ON lc.org_id = l.org_id AND lc.channel_id = l.latest_channel_id
  LEFT JOIN @extschema@.sales_rep r ON r.org_id = l.org_id AND r.rep_id = l.owner_rep_id;

COMMENT ON VIEW @extschema@.lead_overview IS 'one row per lead with readable channel and owner names; phones masked';
COMMENT ON COLUMN @extschema@.lead_overview.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.lead_overview.lead_id IS 'lead id';
COMMENT ON COLUMN @extschema@.lead_overview.phone_masked IS 'phone masked as 138****5678';
COMMENT ON COLUMN @extschema@.lead_overview.phone_is_valid IS 'true when the phone is a valid mobile number';
COMMENT ON COLUMN @extschema@.lead_overview.contact_name IS 'name of the parent or student';
COMMENT ON COLUMN @extschema@.lead_overview.child_age IS 'age of the child in years';
COMMENT ON COLUMN @extschema@.lead_overview.grade IS 'school grade, 0 = preschool';
COMMENT ON COLUMN @extschema@.lead_overview.subject IS 'subject of interest';
COMMENT ON COLUMN @extschema@.lead_overview.city IS 'city';
COMMENT ON COLUMN @extschema@.lead_overview.city_tier IS 'city tier, 1 to 5';
COMMENT ON COLUMN @extschema@.lead_overview.first_channel IS 'code of the channel of the first submission';
COMMENT ON COLUMN @extschema@.lead_overview.latest_channel IS 'code of the channel of the latest submission';
COMMENT ON COLUMN @extschema@.lead_overview.created_at IS 'time of the first submission';
COMMENT ON COLUMN @extschema@.lead_overview.last_touch_at IS 'time of the latest submission or touch';
COMMENT ON COLUMN @extschema@.lead_overview.status IS 'sales status';
COMMENT ON COLUMN @extschema@.lead_overview.pool IS 'public (公海) or private (私海)';
COMMENT ON COLUMN @extschema@.lead_overview.owner_rep_id IS 'id of the owning rep, NULL in the public pool';
COMMENT ON COLUMN @extschema@.lead_overview.owner_name IS 'name of the owning rep';
COMMENT ON COLUMN @extschema@.lead_overview.tier IS 'lead tier A to D';
COMMENT ON COLUMN @extschema@.lead_overview.score IS 'predicted conversion probability';
CREATE OR REPLACE VIEW @extschema@.channel_daily WITH (security_invoker = true) AS
WITH spend AS (
  SELECT s.org_id, s.spend_date AS day, s.channel_id,
         sum(s.spend) AS spend, sum(s.impressions) AS impressions, sum(s.clicks) AS clicks
    FROM @extschema@.ad_spend s
   GROUP BY s.org_id, s.spend_date, s.channel_id
), leads AS (
  SELECT l.org_id, (l.created_at AT TIME ZONE o.timezone)::date AS day, l.first_channel_id AS channel_id,
         count(*) AS leads, count(*) FILTER (WHERE l.phone_valid) AS valid_leads
    FROM @extschema@.lead l
    JOIN @extschema@.org o ON o.org_id = l.org_id
   GROUP BY 1, 2, 3
)
SELECT c.org_id,
       d.day,
       c.code                                  AS channel,
       c.kind                                  AS channel_kind,
       coalesce(d.spend, 0)::numeric(14,2)     AS spend,
       coalesce(d.impressions, 0)::bigint      AS impressions,
       coalesce(d.clicks, 0)::bigint           AS clicks,
       coalesce(d.leads, 0)::bigint            AS leads,
       coalesce(d.valid_leads, 0)::bigint      AS valid_leads,
       round(d.spend / nullif(d.leads, 0), 2)       AS cost_per_lead,
       round(d.spend / nullif(d.valid_leads, 0), 2) AS cost_per_valid_lead
  FROM (SELECT coalesce(s.org_id, l.org_id) AS org_id, coalesce(s.day, l.day) AS day,
               coalesce(s.channel_id, l.channel_id) AS channel_id,
               s.spend, s.impressions, s.clicks, l.leads, l.valid_leads
          FROM spend s
          FULL JOIN leads l ON l.org_id = s.org_id AND l.day = s.day AND l.channel_id = s.channel_id) d
  JOIN @extschema@.channel c ON c.org_id = d.org_id AND c.channel_id = d.channel_id;

COMMENT ON VIEW @extschema@.channel_daily IS 'per org, day (org time zone) and channel: ad spend, impressions, clicks, leads by first channel, and cost per lead';
COMMENT ON COLUMN @extschema@.channel_daily.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.channel_daily.day IS 'day in the org time zone';
COMMENT ON COLUMN @extschema@.channel_daily.channel IS 'channel code';
COMMENT ON COLUMN @extschema@.channel_daily.channel_kind IS 'paid, organic, referral, direct or offline';
COMMENT ON COLUMN @extschema@.channel_daily.spend IS 'ad spend of the day';
COMMENT ON COLUMN @extschema@.channel_daily.impressions IS 'ad impressions of the day';
COMMENT ON COLUMN @extschema@.channel_daily.clicks IS 'ad clicks of the day';
COMMENT ON COLUMN @extschema@.channel_daily.leads IS 'new leads whose first submission came through the channel that day';
COMMENT ON COLUMN @extschema@.channel_daily.valid_leads IS 'of those, leads with a valid phone (duplicates are never counted twice)';
COMMENT ON COLUMN @extschema@.channel_daily.cost_per_lead IS 'CPL: spend divided by leads; NULL without leads';
COMMENT ON COLUMN @extschema@.channel_daily.cost_per_valid_lead IS 'spend divided by valid leads; NULL without valid leads';
CREATE OR REPLACE VIEW @extschema@.channel_roi WITH (security_invoker = true) AS
-- since 0.12 the day's figures of the sources meet in a UNION ALL and one
-- GROUP BY, not in FULL JOINs (Citus cannot join on the merged org_id of a
-- FULL JOIN), and credit comes from the conversion_credit view
WITH o AS NOT MATERIALIZED (
  SELECT org.org_id, org.timezone, org.attribution_model FROM @extschema@.org
), facts AS (
  -- campaign 0: spend, leads and touches without a campaign
  SELECT s.org_id, s.channel_id, coalesce(s.campaign_id, 0) AS campaign_id, s.spend_date AS day,
         s.spend, s.impressions, s.clicks, 0::bigint AS leads, 0::bigint AS valid_leads, 0::numeric AS handling_cost,
         0::bigint AS trials, 0::float8 AS paid_students, 0::float8 AS revenue, 0::float8 AS ltv_revenue
    FROM @extschema@.ad_spend s
  UNION ALL
  SELECT l.org_id, l.first_channel_id, coalesce(l.first_campaign_id, 0), (l.created_at AT TIME ZONE o.timezone)::date,
         0, 0, 0, 1, l.phone_valid::int, 0, 0, 0, 0, 0
    FROM @extschema@.lead l JOIN o ON o.org_id = l.org_id
  UNION ALL
  -- follow-up cost goes to the lead's first channel and campaign; like spend it is not split by attribution
  SELECT f.org_id, l.first_channel_id, coalesce(l.first_campaign_id, 0), (f.occurred_at AT TIME ZONE o.timezone)::date,
         0, 0, 0, 0, 0, f.cost, 0, 0, 0, 0
    FROM @extschema@.follow_up f
    JOIN @extschema@.lead l ON l.org_id = f.org_id AND l.lead_id = f.lead_id
    JOIN o ON o.org_id = f.org_id
  UNION ALL
  SELECT t.org_id, l.first_channel_id, coalesce(l.first_campaign_id, 0), (t.booked_at AT TIME ZONE o.timezone)::date,
         0, 0, 0, 0, 0, 0, 1, 0, 0, 0
    FROM @extschema@.trial_lesson t
    JOIN @extschema@.lead l ON l.org_id = t.org_id AND l.lead_id = t.lead_id
    JOIN o ON o.org_id = t.org_id
  UNION ALL
  SELECT cc.org_id, ch.channel_id, coalesce(cc.campaign_id, 0), (cc.converted_at AT TIME ZONE o.timezone)::date,
         0, 0, 0, 0, 0, 0, 0, cc.credit, cc.credited_revenue, cc.credited_ltv_revenue
    FROM @extschema@.conversion_credit cc
    JOIN o ON o.org_id = cc.org_id
    JOIN @extschema@.channel ch ON ch.org_id = cc.org_id AND ch.code = cc.channel
   WHERE cc.is_org_model
), daily AS (
  SELECT f.org_id, f.channel_id, f.campaign_id, f.day,
         sum(f.spend) AS spend, sum(f.impressions) AS impressions, sum(f.clicks) AS clicks,
         sum(f.leads)::bigint AS leads, sum(f.valid_leads)::bigint AS valid_leads, sum(f.handling_cost) AS handling_cost,
         sum(f.trials)::bigint AS trials, sum(f.paid_students) AS paid_students,
         sum(f.revenue) AS revenue, sum(f.ltv_revenue) AS ltv_revenue
    FROM facts f GROUP BY f.org_id, f.channel_id, f.campaign_id, f.day
), periods AS (
  SELECT g.grain, d.org_id, d.channel_id, d.campaign_id,
         CASE g.grain WHEN 'day' THEN d.day ELSE date_trunc(g.grain, d.day)::date END AS period_start,
         d.spend, d.impressions, d.clicks, d.leads, d.valid_leads, d.handling_cost, d.trials, d.paid_students, d.revenue, d.ltv_revenue
    FROM daily d CROSS JOIN (VALUES ('day'), ('week'), ('month')) g(grain)
)
SELECT p.org_id, p.grain AS period, p.period_start, ch.code AS channel, ch.kind AS channel_kind,
       b.breakdown,
       nullif(CASE b.breakdown WHEN 'campaign' THEN p.campaign_id END, 0) AS campaign_id,
       CASE b.breakdown WHEN 'campaign' THEN coalesce(max(cp.code), '(none)') END AS campaign,
       o.attribution_model,
       sum(p.spend) AS spend, sum(p.impressions) AS impressions, sum(p.clicks) AS clicks,
       sum(p.leads) AS leads, sum(p.valid_leads) AS valid_leads,
       round(sum(p.spend) / nullif(sum(p.leads), 0), 2) AS cpl,
       sum(p.trials) AS trials,
       round(sum(p.paid_students)::numeric, 2) AS paid_students,
       round(sum(p.spend) / nullif(sum(p.paid_students), 0)::numeric, 2) AS cpa,
       round(sum(p.revenue)::numeric, 2) AS net_revenue,
       round(sum(p.revenue)::numeric / nullif(sum(p.spend), 0), 3) AS roas,
       round((sum(p.revenue)::numeric - sum(p.spend)) / nullif(sum(p.spend), 0), 3) AS roi,
       sum(p.handling_cost) AS handling_cost,
       round((sum(p.spend) + sum(p.handling_cost)) / nullif(sum(p.paid_students), 0)::numeric, 2) AS cac,
       round(sum(p.ltv_revenue)::numeric / nullif(sum(p.paid_students), 0)::numeric, 2) AS ltv,
       round((sum(p.ltv_revenue)::numeric / nullif(sum(p.paid_students), 0)::numeric)
             / nullif((sum(p.spend) + sum(p.handling_cost)) / nullif(sum(p.paid_students), 0)::numeric, 0), 3) AS ltv_to_cac
  FROM periods p
  JOIN @extschema@.channel ch ON ch.org_id = p.org_id AND ch.channel_id = p.channel_id
  JOIN o ON o.org_id = p.org_id
  LEFT JOIN @extschema@.campaign cp ON cp.org_id = p.org_id AND cp.campaign_id = p.campaign_id
 -- each row counts for its channel and for its campaign: a join to the list
 -- of breakdowns (no GROUPING SETS, which Citus cannot plan)
 CROSS JOIN (VALUES ('channel'::text), ('campaign')) AS b(breakdown)
 GROUP BY p.org_id, p.grain, p.period_start, ch.code, ch.kind, o.attribution_model, b.breakdown,
          CASE b.breakdown WHEN 'campaign' THEN p.campaign_id END;
COMMENT ON VIEW @extschema@.channel_roi IS 'channel and campaign ROI by day, week and month: spend, leads, CPL, trials, paid students and net revenue credited by the org''s attribution model, CPA, ROAS, ROI, fully loaded CAC and LTV/CAC (definitions in docs/metrics.md)';
COMMENT ON COLUMN @extschema@.channel_roi.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.channel_roi.period IS 'day, week or month';
COMMENT ON COLUMN @extschema@.channel_roi.period_start IS 'first day of the period, in the org''s time zone';
COMMENT ON COLUMN @extschema@.channel_roi.channel IS 'channel code';
COMMENT ON COLUMN @extschema@.channel_roi.channel_kind IS 'paid, organic, referral, direct or offline';
COMMENT ON COLUMN @extschema@.channel_roi.breakdown IS 'channel (all its campaigns) or campaign';
COMMENT ON COLUMN @extschema@.channel_roi.campaign_id IS 'campaign, for breakdown campaign; NULL for no campaign or a channel row';
COMMENT ON COLUMN @extschema@.channel_roi.campaign IS 'campaign code, (none) for spend, leads and touches without a campaign; NULL on channel rows';
COMMENT ON COLUMN @extschema@.channel_roi.attribution_model IS 'the org''s model that credited paid students and revenue';
COMMENT ON COLUMN @extschema@.channel_roi.spend IS 'ad spend (never split by attribution)';
COMMENT ON COLUMN @extschema@.channel_roi.impressions IS 'impressions';
COMMENT ON COLUMN @extschema@.channel_roi.clicks IS 'clicks';
COMMENT ON COLUMN @extschema@.channel_roi.leads IS 'leads whose first channel it is, created in the period';
COMMENT ON COLUMN @extschema@.channel_roi.valid_leads IS 'of which with a valid phone (duplicates are never separate leads)';
COMMENT ON COLUMN @extschema@.channel_roi.cpl IS 'cost per lead: spend / leads';
COMMENT ON COLUMN @extschema@.channel_roi.trials IS 'trial lessons booked by leads whose first channel it is';
COMMENT ON COLUMN @extschema@.channel_roi.paid_students IS 'new paying students credited to the channel, converted in the period';
COMMENT ON COLUMN @extschema@.channel_roi.cpa IS 'cost per acquisition: spend / credited paid students';
COMMENT ON COLUMN @extschema@.channel_roi.net_revenue IS 'credited revenue of the converting orders, net of refunds';
COMMENT ON COLUMN @extschema@.channel_roi.roas IS 'net revenue / spend';
COMMENT ON COLUMN @extschema@.channel_roi.roi IS '(net revenue - spend) / spend';
COMMENT ON COLUMN @extschema@.channel_roi.handling_cost IS 'cost of follow-ups in the period of leads whose first channel it is';
COMMENT ON COLUMN @extschema@.channel_roi.cac IS 'fully loaded customer acquisition cost: (spend + handling cost) / credited paid students';
COMMENT ON COLUMN @extschema@.channel_roi.ltv IS 'credited net revenue per paid student within org.ltv_horizon of the first payment, renewals included';
COMMENT ON COLUMN @extschema@.channel_roi.ltv_to_cac IS 'LTV / CAC';
CREATE OR REPLACE VIEW @extschema@.channel_payback WITH (security_invoker = true) AS
WITH o AS (
  SELECT org.org_id, org.timezone, org.attribution_model FROM @extschema@.org
), cohort AS (
  -- credited new students by channel and month of conversion, under the org's model
  SELECT cc.org_id, cc.channel, date_trunc('month', cc.converted_at AT TIME ZONE o.timezone)::date AS cohort_month,
         cc.lead_id, cc.converted_at, cc.credit
    FROM @extschema@.conversion_credit cc
    JOIN o ON o.org_id = cc.org_id
   WHERE cc.is_org_model AND cc.credit > 0
), net AS (
  SELECT so.org_id, so.lead_id, so.paid_at, so.amount - coalesce(r.refunded, 0) AS net_amount
    FROM @extschema@.sales_order so
    LEFT JOIN (SELECT rf.org_id, rf.order_id, sum(rf.amount) AS refunded FROM @extschema@.refund rf GROUP BY 1, 2) r
           ON r.org_id = so.org_id AND r.order_id = so.order_id
   WHERE so.status = 'paid'
), daily AS (
  -- the cohort's credited net revenue (renewals included) by days since each student's conversion
  SELECT c.org_id, c.channel, c.cohort_month,
         floor(extract(epoch FROM n.paid_at - c.converted_at) / 86400)::int AS day, sum(c.credit * n.net_amount) AS amount
    FROM cohort c
    JOIN net n ON n.org_id = c.org_id AND n.lead_id = c.lead_id AND n.paid_at >= c.converted_at
   GROUP BY 1, 2, 3, 4
), cum AS (
  SELECT d.*, sum(d.amount) OVER (PARTITION BY d.org_id, d.channel, d.cohort_month ORDER BY d.day) AS cumulative
    FROM daily d
), cost AS (
  SELECT r.org_id, r.channel, r.period_start AS cohort_month, r.spend + r.handling_cost AS acquisition_cost, r.paid_students
    FROM @extschema@.channel_roi r WHERE r.period = 'month' AND r.breakdown = 'channel'
)
-- a join and GROUP BY, not correlated subqueries, which Citus cannot plan (0.12)
SELECT k.org_id, k.channel, k.cohort_month, k.acquisition_cost, k.paid_students,
       round(max(c.cumulative)::numeric, 2) AS net_revenue_to_date,
       min(c.day) FILTER (WHERE c.cumulative >= k.acquisition_cost) AS payback_days
  FROM cost k
  LEFT JOIN cum c ON c.org_id = k.org_id AND c.channel = k.channel AND c.cohort_month = k.cohort_month
 WHERE k.paid_students > 0
 GROUP BY k.org_id, k.channel, k.cohort_month, k.acquisition_cost, k.paid_students;
COMMENT ON VIEW @extschema@.channel_payback IS 'payback of each channel''s monthly cohort of new students: days until their credited cumulative net revenue (renewals included) covers the month''s spend and handling cost';
COMMENT ON COLUMN @extschema@.channel_payback.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.channel_payback.channel IS 'channel code';
COMMENT ON COLUMN @extschema@.channel_payback.cohort_month IS 'month the students converted (and the spend was made)';
COMMENT ON COLUMN @extschema@.channel_payback.acquisition_cost IS 'spend plus handling cost of the channel in the month';
COMMENT ON COLUMN @extschema@.channel_payback.paid_students IS 'new paying students credited to the channel in the month';
COMMENT ON COLUMN @extschema@.channel_payback.net_revenue_to_date IS 'credited net revenue of those students so far, renewals included';
COMMENT ON COLUMN @extschema@.channel_payback.payback_days IS 'days after conversion at which the cohort''s cumulative net revenue first covers the acquisition cost; NULL while it has not (0 when the first payments already do)';
-- recycle_schedule is the query of recycle_due() for every org (since 0.12:
-- Citus cannot plan a view that calls a table-reading function per org)
CREATE OR REPLACE VIEW @extschema@.recycle_schedule WITH (security_invoker = true) AS
SELECT d.org_id, d.lead_id, d.owner_rep_id AS rep_id, d.tier, d.owned_since, d.first_at AS first_follow_up_at,
       d.fu_due AS follow_up_due_at, d.deal_due AS deal_due_at, least(d.fu_due, d.deal_due) AS recycle_at,
       CASE WHEN d.fu_due <= d.deal_due THEN 'recycle_no_follow_up' ELSE 'recycle_no_deal' END AS reason
  FROM (SELECT l.org_id, l.lead_id, l.owner_rep_id, coalesce(l.tier, 'D')::char(1) AS tier, l.owned_since, f.first_at,
               CASE WHEN f.first_at IS NULL THEN l.owned_since + p.follow_up_sla END AS fu_due,
               l.owned_since + o.recycle_no_deal_after AS deal_due
          FROM @extschema@.lead l
          JOIN @extschema@.org o ON o.org_id = l.org_id
          JOIN @extschema@.effective_tier_policy p ON p.org_id = l.org_id AND p.tier = coalesce(l.tier, 'D')
          LEFT JOIN LATERAL (SELECT min(x.occurred_at) AS first_at FROM @extschema@.follow_up x
                              WHERE x.org_id = l.org_id AND x.lead_id = l.lead_id AND x.rep_id = l.owner_rep_id
                                AND x.occurred_at >= l.owned_since) f ON true
         WHERE l.pool = 'private' AND l.status NOT IN ('won', 'lost')) d;
COMMENT ON VIEW @extschema@.recycle_schedule IS 'every owned open lead with the time it falls due for recycling (回收) and why: its tier''s follow-up SLA after it was taken while the owner has not followed up, else the org''s recycle_no_deal_after; recycle_due(org_id) gives one org''s rows';
COMMENT ON COLUMN @extschema@.recycle_schedule.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.recycle_schedule.lead_id IS 'lead';
COMMENT ON COLUMN @extschema@.recycle_schedule.rep_id IS 'rep who owns it now';
COMMENT ON COLUMN @extschema@.recycle_schedule.tier IS 'tier of the lead (D when it has none)';
COMMENT ON COLUMN @extschema@.recycle_schedule.owned_since IS 'when the rep got the lead';
COMMENT ON COLUMN @extschema@.recycle_schedule.first_follow_up_at IS 'the owner''s first follow-up since then; NULL when none yet';
COMMENT ON COLUMN @extschema@.recycle_schedule.follow_up_due_at IS 'first follow-up due by this time under the tier''s SLA; NULL once the rep followed up';
COMMENT ON COLUMN @extschema@.recycle_schedule.deal_due_at IS 'deal (status won) due by this time';
COMMENT ON COLUMN @extschema@.recycle_schedule.recycle_at IS 'when the lead is recycled: the earlier of the two';
COMMENT ON COLUMN @extschema@.recycle_schedule.reason IS 'recycle_no_follow_up or recycle_no_deal';
CREATE OR REPLACE VIEW @extschema@.recycle_warnings WITH (security_invoker = true) AS
-- tier::bpchar: the type the column had from recycle_due() until 0.11
SELECT o.org_id, d.lead_id, d.rep_id, r.name AS rep_name, d.tier::bpchar AS tier, d.owned_since, d.follow_up_due_at, d.deal_due_at,
       d.recycle_at, d.reason AS recycle_reason,
       d.recycle_at - coalesce(o.report_as_of, now()) AS due_in,
       d.recycle_at <= coalesce(o.report_as_of, now()) AS overdue
  FROM @extschema@.org o
  JOIN @extschema@.recycle_schedule d ON d.org_id = o.org_id
  JOIN @extschema@.sales_rep r ON r.org_id = o.org_id AND r.rep_id = d.rep_id
 WHERE d.recycle_at <= coalesce(o.report_as_of, now()) + o.recycle_warning;
CREATE OR REPLACE VIEW @extschema@.pool_health WITH (security_invoker = true) AS
-- the org's clock in a subquery of org and the warnings as a join (since
-- 0.12: Citus cannot push down a FROM-less subquery calling now(), nor a
-- correlated subquery in the select list)
SELECT o.org_id, o.as_of,
       p.public_leads, p.public_tier_a, p.public_tier_b, p.public_tier_c, p.public_tier_d, p.public_untiered,
       p.oldest_public_created_at, o.as_of - p.oldest_public_created_at AS oldest_public_age,
       p.private_leads,
       h.assigned_today, h.claimed_today, h.recycled_today, h.recycled_last_7_days,
       coalesce(w.due, 0) AS due_for_recycling
  FROM (SELECT o.org_id, coalesce(o.report_as_of, now()) AS as_of,
               (coalesce(o.report_as_of, now()) AT TIME ZONE o.timezone)::date::timestamp AT TIME ZONE o.timezone AS day_start
          FROM @extschema@.org o) o
 CROSS JOIN LATERAL (
   SELECT count(*) FILTER (WHERE l.pool = 'public') AS public_leads,
          count(*) FILTER (WHERE l.pool = 'public' AND l.tier = 'A') AS public_tier_a,
          count(*) FILTER (WHERE l.pool = 'public' AND l.tier = 'B') AS public_tier_b,
          count(*) FILTER (WHERE l.pool = 'public' AND l.tier = 'C') AS public_tier_c,
          count(*) FILTER (WHERE l.pool = 'public' AND l.tier = 'D') AS public_tier_d,
          count(*) FILTER (WHERE l.pool = 'public' AND l.tier IS NULL) AS public_untiered,
          min(l.created_at) FILTER (WHERE l.pool = 'public') AS oldest_public_created_at,
          count(*) FILTER (WHERE l.pool = 'private') AS private_leads
     FROM @extschema@.lead l WHERE l.org_id = o.org_id AND l.status NOT IN ('won', 'lost')) p
 CROSS JOIN LATERAL (
   SELECT count(*) FILTER (WHERE a.reason IN ('round_robin', 'least_busy') AND a.assigned_at >= o.day_start) AS assigned_today,
          count(*) FILTER (WHERE a.reason = 'claim' AND a.assigned_at >= o.day_start) AS claimed_today,
          count(*) FILTER (WHERE a.release_reason LIKE 'recycle%' AND a.released_at >= o.day_start) AS recycled_today,
          count(*) FILTER (WHERE a.release_reason LIKE 'recycle%' AND a.released_at >= o.day_start - interval '6 days') AS recycled_last_7_days
     FROM @extschema@.assignment a
    WHERE a.org_id = o.org_id AND (a.assigned_at >= o.day_start OR a.released_at >= o.day_start - interval '6 days')) h
  LEFT JOIN (SELECT w.org_id, count(*) AS due FROM @extschema@.recycle_warnings w GROUP BY w.org_id) w ON w.org_id = o.org_id;
CREATE OR REPLACE VIEW @extschema@.student_lifetime WITH (security_invoker = true) AS
-- the chains of renewals come from renewal_chains() over each org's terms
-- (since 0.12; a recursive CTE before, which Citus cannot plan)
WITH chain AS (
  SELECT g.org_id, c.enrollment_id, c.first_enrollment_id, c.term_no
    FROM (SELECT st.org_id, array_agg(st.enrollment_id) AS ids, array_agg(st.renewed_into) AS renewed_into
            FROM @extschema@.student_term st GROUP BY st.org_id) g
   CROSS JOIN LATERAL @extschema@.renewal_chains(g.ids, g.renewed_into) c
), spell AS (
  -- each spell's last term, carrying its first term's student, start and segments
  SELECT DISTINCT ON (t.org_id, c.first_enrollment_id)
         t.org_id, first_value(t.student_id) OVER w AS student_id, c.first_enrollment_id,
         first_value(t.enrolled_at) OVER w AS started_at, first_value(t.course_id) OVER w AS course_id,
         first_value(t.class_id) OVER w AS class_id, first_value(t.teacher_id) OVER w AS teacher_id,
         first_value(t.area) OVER w AS area,
         t.enrollment_id, t.term_end, t.ended_at, t.outcome, c.term_no AS terms
    FROM chain c
    JOIN @extschema@.student_term t ON t.org_id = c.org_id AND t.enrollment_id = c.enrollment_id
  WINDOW w AS (PARTITION BY t.org_id, c.first_enrollment_id ORDER BY c.term_no)
   ORDER BY t.org_id, c.first_enrollment_id, c.term_no DESC
), ends AS (
  SELECT s.*, o.timezone,
         CASE WHEN s.outcome = 'churned'
              THEN coalesce(s.ended_at, (s.term_end + 1)::timestamp AT TIME ZONE o.timezone)
              ELSE coalesce(o.report_as_of, now()) END AS end_at
    FROM spell s
    JOIN @extschema@.org o ON o.org_id = s.org_id
)
SELECT s.org_id, s.student_id,
       row_number() OVER (PARTITION BY s.org_id, s.student_id ORDER BY s.started_at, s.first_enrollment_id)::int AS spell_no,
       s.first_enrollment_id, s.enrollment_id AS last_enrollment_id, s.started_at,
       date_trunc('month', s.started_at AT TIME ZONE s.timezone)::date AS cohort_month,
       s.terms,
       CASE s.outcome WHEN 'in_term' THEN s.terms - 1 ELSE s.terms END AS completed_terms,
       s.outcome = 'churned' AS churned,
       s.end_at AS ended_at,
       greatest(0, extract(epoch FROM s.end_at - s.started_at) / 86400)::float8 AS lifetime_days,
       CASE WHEN stu.birth_date IS NULL THEN NULL
            ELSE (2 * floor(extract(year FROM age((s.started_at AT TIME ZONE s.timezone)::date, stu.birth_date)) / 2))::int END AS age_band_start,
       stu.grade, s.course_id, s.class_id, s.teacher_id, s.area, ld.first_channel_id AS channel_id
  FROM ends s
  JOIN @extschema@.student stu ON stu.org_id = s.org_id AND stu.student_id = s.student_id
  LEFT JOIN @extschema@.lead ld ON ld.org_id = stu.org_id AND ld.lead_id = stu.lead_id;
-- 3. the features of the conversion model as a view (lead_features), which
--    model_lift joins instead of calling a table-reading function per org
-- every lead's features (since 0.12; lead_feature_values(org_id) gives one
-- org's rows): a view, so that model_lift joins it where Citus can plan it
CREATE OR REPLACE VIEW @extschema@.lead_features WITH (security_invoker = true) AS
WITH touches AS (
  SELECT t.org_id, t.lead_id, count(*) AS n FROM @extschema@.touchpoint t GROUP BY t.org_id, t.lead_id
), first_contact AS (
  SELECT f.org_id, f.lead_id, min(f.occurred_at) AS at FROM @extschema@.follow_up f GROUP BY f.org_id, f.lead_id
), paid AS (
  SELECT s.org_id, s.lead_id, min(s.paid_at) AS at FROM @extschema@.sales_order s
   WHERE s.status = 'paid' AND NOT s.is_renewal GROUP BY s.org_id, s.lead_id
), ev AS (
  -- the behaviour stage, as lead_tiers() has it
  SELECT e.org_id, e.lead_id,
         bool_or(e.event_type = 'trial_booked' AND e.attrs @> '{"self_booked": true}') AS self_booked,
         bool_or(e.event_type = 'wechat_followed') AS followed,
         bool_or(e.event_type = 'sms_verified') AS verified
    FROM @extschema@.lead_event e
   WHERE e.event_type IN ('trial_booked', 'wechat_followed', 'sms_verified')
   GROUP BY e.org_id, e.lead_id
), tr AS (
  SELECT DISTINCT t.org_id, t.lead_id FROM @extschema@.trial_lesson t WHERE t.self_booked
)
SELECT l.org_id, l.lead_id, l.created_at, l.status,
       jsonb_build_object(
         'channel', ch.code,
         'subject', coalesce(l.subject, 'unknown'),
         'city_tier', coalesce('tier ' || l.city_tier, 'unknown'),
         'age_band', coalesce((2 * (l.child_age / 2)) || '-' || (2 * (l.child_age / 2) + 1), 'unknown'),
         'stage', (CASE WHEN tr.lead_id IS NOT NULL OR ev.self_booked THEN 'A' WHEN ev.followed THEN 'B'
                        WHEN ev.verified THEN 'C' ELSE 'D' END)::char(1),
         'log_touches', ln(1 + coalesce(tc.n, 0)),
         'log_response_hours', CASE WHEN fc.at IS NULL THEN 0
                                    ELSE ln(1 + least(720, greatest(0, extract(epoch FROM fc.at - l.created_at) / 3600))) END,
         'no_follow_up', (fc.at IS NULL)::int) AS vals,
       coalesce(p.at <= l.created_at + o.conversion_days * interval '1 day', false) AS converted,
       l.created_at + o.conversion_days * interval '1 day' <= coalesce(o.report_as_of, now()) AS label_known
  FROM @extschema@.lead l
  JOIN @extschema@.org o ON o.org_id = l.org_id
  JOIN @extschema@.channel ch ON ch.org_id = l.org_id AND ch.channel_id = l.first_channel_id
  LEFT JOIN ev ON ev.org_id = l.org_id AND ev.lead_id = l.lead_id
  LEFT JOIN tr ON tr.org_id = l.org_id AND tr.lead_id = l.lead_id
  LEFT JOIN touches tc ON tc.org_id = l.org_id AND tc.lead_id = l.lead_id
  LEFT JOIN first_contact fc ON fc.org_id = l.org_id AND fc.lead_id = l.lead_id
  LEFT JOIN paid p ON p.org_id = l.org_id AND p.lead_id = l.lead_id;
COMMENT ON VIEW @extschema@.lead_features IS 'the raw attributes the conversion model learns from, per lead (channel, subject, city tier, age band, behaviour stage, touches, response time), with the label: paid within org.conversion_days';
COMMENT ON COLUMN @extschema@.lead_features.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.lead_features.lead_id IS 'lead';
COMMENT ON COLUMN @extschema@.lead_features.created_at IS 'when the lead came in';
COMMENT ON COLUMN @extschema@.lead_features.status IS 'sales status of the lead';
COMMENT ON COLUMN @extschema@.lead_features.vals IS 'the features as a JSON object: channel, subject, city_tier, age_band, stage (A-D), log_touches, log_response_hours, no_follow_up';
COMMENT ON COLUMN @extschema@.lead_features.converted IS 'the label: paid within org.conversion_days of coming in';
COMMENT ON COLUMN @extschema@.lead_features.label_known IS 'true once org.conversion_days have passed (as of org.report_as_of or now), so the label is final';
CREATE OR REPLACE VIEW @extschema@.model_lift WITH (security_invoker = true) AS
-- the features from the view lead_features since 0.12 (a table-reading
-- function per org before, which Citus cannot run inside a shard's query)
WITH held_out AS (
  -- each model's held-out leads, scored by the model
  SELECT cm.org_id, cm.model_id, @extschema@.model_predict(cm.kind, cm.coef, cm.encoding, cm.nb_tables, f.vals) AS score, f.converted
    FROM @extschema@.conversion_model cm
    JOIN @extschema@.lead_features f ON f.org_id = cm.org_id
   WHERE f.created_at >= cm.test_from AND f.created_at < cm.trained_to AND f.label_known
), d AS (
  SELECT h.*, ntile(10) OVER (PARTITION BY h.org_id, h.model_id ORDER BY h.score DESC) AS decile,
         avg(h.converted::int) OVER (PARTITION BY h.org_id, h.model_id) AS base_rate
    FROM held_out h
)
SELECT d.org_id, d.model_id, d.decile, count(*) AS leads, count(*) FILTER (WHERE d.converted) AS converted,
       round(avg(d.converted::int)::numeric, 4) AS conversion_rate,
       round((avg(d.converted::int) / nullif(min(d.base_rate), 0))::numeric, 3) AS lift,
       round(min(d.score)::numeric, 4) AS min_score, round(max(d.score)::numeric, 4) AS max_score
  FROM d GROUP BY d.org_id, d.model_id, d.decile;
CREATE OR REPLACE VIEW @extschema@.student_segment WITH (security_invoker = true) AS
-- the segment names in a subquery before the lateral list (since 0.12):
-- Citus 13.0.5 crashes planning the outer joins when the list reads some
-- columns of student_lifetime itself under row-level security
SELECT x.org_id, x.student_id, x.spell_no, s.segment_kind, coalesce(s.segment, 'unknown') AS segment,
       x.lifetime_days, x.completed_terms, x.churned
  FROM (SELECT l.org_id, l.student_id, l.spell_no, l.lifetime_days, l.completed_terms, l.churned, l.area,
               l.age_band_start || '-' || (l.age_band_start + 1) AS age_band, 'grade ' || l.grade AS grade,
               c.code AS course, cc.name AS class, tc.name AS teacher, ch.code AS channel
          FROM @extschema@.student_lifetime l
          LEFT JOIN @extschema@.course c ON c.org_id = l.org_id AND c.course_id = l.course_id
          LEFT JOIN @extschema@.course_class cc ON cc.org_id = l.org_id AND cc.class_id = l.class_id
          LEFT JOIN @extschema@.teacher tc ON tc.org_id = l.org_id AND tc.teacher_id = l.teacher_id
          LEFT JOIN @extschema@.channel ch ON ch.org_id = l.org_id AND ch.channel_id = l.channel_id) x
 CROSS JOIN LATERAL (VALUES
   ('all', 'all'),
   ('age_band', x.age_band),
   ('grade', x.grade),
   ('course', x.course),
   ('class', x.class),
   ('teacher', x.teacher),
   ('area', x.area),
   ('channel', x.channel)) AS s(segment_kind, segment);
$step$
WHEN '0.14' THEN $step$
-- 0.14 (docs/changelog.md): the lead lifecycle, src/sql/schema/lifecycle.sql
-- (the Makefile puts it here; it is safe to run on a schema that has it)

-- ---------------------------------------------------------------------------
-- Lead lifecycle (since 0.14; docs/reference/lifecycle.md): the states of a
-- lead and the moves between them, made by the events and orders that mean
-- them, each recorded with who, when and why.
-- ---------------------------------------------------------------------------
-- Safe to run again (install() runs it as schema step 0.14 on an older
-- schema, also on a distributed Citus cluster: the new tables are then
-- distributed before their foreign keys are added, and the triggers are
-- created on the distributed tables, which Citus allows with
-- enable_unsafe_triggers: they touch only rows of the same org).
SELECT set_config('citus.enable_unsafe_triggers', 'on', true);

-- (the DDL on tables a Citus cluster has distributed is in DO blocks: Citus
-- sends an ALTER TABLE or a trigger on to the workers as the text of the
-- statement, which must be one statement)
DO $org$
BEGIN
  ALTER TABLE @extschema@.org ADD COLUMN IF NOT EXISTS reopen_on_full_refund boolean NOT NULL DEFAULT false;
END
$org$;
COMMENT ON COLUMN @extschema@.org.reopen_on_full_refund IS 'when true, a won lead whose paid orders are all fully refunded goes back to contacting (and to the pools'' recycling); when false it stays won';

-- the org's list of reasons a lead is lost
CREATE TABLE IF NOT EXISTS @extschema@.lost_reason (
  org_id  bigint NOT NULL,
  code    text NOT NULL,
  label   text NOT NULL,
  active  boolean NOT NULL DEFAULT true,
  CONSTRAINT lost_reason_pkey PRIMARY KEY (org_id, code),
  CONSTRAINT lost_reason_code_check CHECK (code ~ '^[a-z][a-z0-9_]{0,39}$'),
  CONSTRAINT lost_reason_label_check CHECK (length(label) BETWEEN 1 AND 100)
);
COMMENT ON TABLE @extschema@.lost_reason IS 'the reasons an org accepts for a lost lead (price, schedule, no need, unreachable, chose a competitor, ...); create_org adds the defaults (lost_reason_defaults())';
COMMENT ON COLUMN @extschema@.lost_reason.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.lost_reason.code IS 'the reason''s code, such as price: lowercase letters, digits and _, up to 40';
COMMENT ON COLUMN @extschema@.lost_reason.label IS 'the reason as people read it';
COMMENT ON COLUMN @extschema@.lost_reason.active IS 'false: no longer offered for new losses (leads lost for it keep it)';

DO $lead$
BEGIN
  ALTER TABLE @extschema@.lead ADD COLUMN IF NOT EXISTS status_changed_at timestamptz,
    ADD COLUMN IF NOT EXISTS status_note text, ADD COLUMN IF NOT EXISTS lost_reason text;
END
$lead$;
COMMENT ON COLUMN @extschema@.lead.status_changed_at IS 'when the lead entered its status (NULL: still new since created_at, or a status from before 0.14 or from an import)';
COMMENT ON COLUMN @extschema@.lead.status_note IS 'why the lead is in its status, such as order 12 paid';
COMMENT ON COLUMN @extschema@.lead.lost_reason IS 'for a lost lead, the code of its reason in the org''s lost_reason list';

-- every move of a lead's status
CREATE TABLE IF NOT EXISTS @extschema@.lead_status_change (
  org_id       bigint NOT NULL,
  change_id    bigint GENERATED ALWAYS AS IDENTITY,
  lead_id      bigint NOT NULL,
  from_status  text NOT NULL,
  to_status    text NOT NULL,
  changed_at   timestamptz NOT NULL,
  cause        text NOT NULL,
  note         text,
  lost_reason  text,
  rep_id       bigint,
  changed_by   text NOT NULL DEFAULT session_user,
  recorded_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT lead_status_change_pkey PRIMARY KEY (org_id, change_id),
  CONSTRAINT lead_status_change_cause_check CHECK (cause IN ('order', 'refund', 'event', 'follow_up', 'lost', 'update'))
);
CREATE INDEX IF NOT EXISTS lead_status_change_lead_idx ON @extschema@.lead_status_change (org_id, lead_id, changed_at);
COMMENT ON TABLE @extschema@.lead_status_change IS 'every move of a lead''s status, written by the lead''s trigger whatever made it: a paid order (won), a full refund (reopened), a funnel event (trial), a follow-up (contacting), mark_lost, or an update';
COMMENT ON COLUMN @extschema@.lead_status_change.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.lead_status_change.change_id IS 'change id';
COMMENT ON COLUMN @extschema@.lead_status_change.lead_id IS 'lead';
COMMENT ON COLUMN @extschema@.lead_status_change.from_status IS 'status before';
COMMENT ON COLUMN @extschema@.lead_status_change.to_status IS 'status after';
COMMENT ON COLUMN @extschema@.lead_status_change.changed_at IS 'when the lead entered to_status: the order''s payment, the refund, the event, or the server''s clock for a change made by hand';
COMMENT ON COLUMN @extschema@.lead_status_change.cause IS 'what moved it: order, refund, event, follow_up, lost (mark_lost) or update (update_lead, or an UPDATE by an app or admin role)';
COMMENT ON COLUMN @extschema@.lead_status_change.note IS 'why, such as order 12 paid';
COMMENT ON COLUMN @extschema@.lead_status_change.lost_reason IS 'the reason, for a move to lost';
COMMENT ON COLUMN @extschema@.lead_status_change.rep_id IS 'the lead''s owner at the time';
COMMENT ON COLUMN @extschema@.lead_status_change.changed_by IS 'the database role of the session that made the change';
COMMENT ON COLUMN @extschema@.lead_status_change.recorded_at IS 'when the change was written (the server''s clock)';

-- the foreign keys, after distributing the new tables where lead is
-- distributed (Citus refuses a key between a local and a distributed table)
DO $keys$
DECLARE
  t text;
BEGIN
  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
    FOREACH t IN ARRAY '{lost_reason,lead_status_change}'::text[] LOOP
      EXECUTE format($q$SELECT create_distributed_table('@extschema@.%I', 'org_id', colocate_with => '@extschema@.org')
                         WHERE EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = '@extschema@.lead'::regclass)
                           AND NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = '@extschema@.%I'::regclass)$q$, t, t);
    END LOOP;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'lead_lost_reason_fkey'
                    AND conrelid = '@extschema@.lead'::regclass) THEN
    ALTER TABLE @extschema@.lost_reason
      ADD CONSTRAINT lost_reason_org_id_fkey FOREIGN KEY (org_id) REFERENCES @extschema@.org (org_id);
    ALTER TABLE @extschema@.lead_status_change
      ADD CONSTRAINT lead_status_change_lead_fkey FOREIGN KEY (org_id, lead_id) REFERENCES @extschema@.lead (org_id, lead_id);
    -- (one constraint a statement: Citus refuses several in one)
    ALTER TABLE @extschema@.lead
      ADD CONSTRAINT lead_lost_reason_fkey FOREIGN KEY (org_id, lost_reason) REFERENCES @extschema@.lost_reason (org_id, code);
    ALTER TABLE @extschema@.lead ADD CONSTRAINT lead_lost_reason_only_lost CHECK (lost_reason IS NULL OR status = 'lost');
    ALTER TABLE @extschema@.lead ADD CONSTRAINT lead_status_note_check CHECK (length(status_note) <= 200);
  END IF;
END
$keys$;
-- every org gets the default reasons (create_org adds them to new ones)
INSERT INTO @extschema@.lost_reason (org_id, code, label)
SELECT o.org_id, d.code, d.label FROM @extschema@.org o CROSS JOIN @extschema@.lost_reason_defaults() d
ON CONFLICT DO NOTHING;

DO $triggers$
BEGIN
  DROP TRIGGER IF EXISTS lead_status_check ON @extschema@.lead;
  CREATE TRIGGER lead_status_check BEFORE UPDATE OF status, lost_reason ON @extschema@.lead FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.lost_reason IS DISTINCT FROM NEW.lost_reason)
    EXECUTE FUNCTION @extschema@.lead_status_check();
  DROP TRIGGER IF EXISTS lead_status_track ON @extschema@.lead;
  CREATE TRIGGER lead_status_track AFTER UPDATE OF status ON @extschema@.lead FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION @extschema@.lead_status_track();
  DROP TRIGGER IF EXISTS sales_order_lifecycle ON @extschema@.sales_order;
  CREATE TRIGGER sales_order_lifecycle AFTER INSERT OR UPDATE OF status ON @extschema@.sales_order FOR EACH ROW
    WHEN (NEW.status = 'paid')
    EXECUTE FUNCTION @extschema@.sales_order_lifecycle();
  DROP TRIGGER IF EXISTS refund_lifecycle ON @extschema@.refund;
  CREATE TRIGGER refund_lifecycle AFTER INSERT ON @extschema@.refund FOR EACH ROW
    EXECUTE FUNCTION @extschema@.refund_lifecycle();
  DROP TRIGGER IF EXISTS lead_event_lifecycle ON @extschema@.lead_event;
  CREATE TRIGGER lead_event_lifecycle AFTER INSERT ON @extschema@.lead_event FOR EACH ROW
    WHEN (NEW.event_type IN ('trial_booked', 'trial_attended'))
    EXECUTE FUNCTION @extschema@.lead_event_lifecycle();
END
$triggers$;

-- the time a lead spent in each status: one row per stay, from its history
-- (a lead's first stay, new, starts at created_at); the current stay runs
-- until the org's report_as_of, or now()
CREATE OR REPLACE VIEW @extschema@.lead_status_span WITH (security_invoker = true) AS
WITH moves AS (
  SELECT c.org_id, c.lead_id, c.from_status, c.to_status, c.changed_at,
         row_number() OVER (PARTITION BY c.org_id, c.lead_id ORDER BY c.changed_at, c.change_id) AS n
    FROM @extschema@.lead_status_change c
), stays AS (
  -- the stay each move ends, and the one the last move starts
  SELECT m.org_id, m.lead_id, m.from_status AS status,
         coalesce(lag(m.changed_at) OVER w, l.created_at) AS entered_at, m.changed_at AS left_at, m.n AS stay
    FROM moves m
    JOIN @extschema@.lead l ON l.org_id = m.org_id AND l.lead_id = m.lead_id
  WINDOW w AS (PARTITION BY m.org_id, m.lead_id ORDER BY m.n)
)
SELECT s.org_id, s.lead_id, s.stay, s.status, s.entered_at, s.left_at,
       extract(epoch FROM greatest(s.left_at - s.entered_at, interval '0')) / 3600 AS hours
  FROM stays s
UNION ALL
SELECT l.org_id, l.lead_id, coalesce(c.n, 0) + 1, l.status, coalesce(l.status_changed_at, l.created_at), NULL,
       extract(epoch FROM greatest(coalesce(o.report_as_of, now()) - coalesce(l.status_changed_at, l.created_at), interval '0')) / 3600
  FROM @extschema@.lead l
  JOIN @extschema@.org o ON o.org_id = l.org_id
  LEFT JOIN (SELECT org_id, lead_id, count(*) AS n FROM @extschema@.lead_status_change GROUP BY org_id, lead_id) c
    ON c.org_id = l.org_id AND c.lead_id = l.lead_id;
COMMENT ON VIEW @extschema@.lead_status_span IS 'each stay of a lead in a status, from lead_status_change: the first (new) from created_at, the current one until the org''s report_as_of or now(); leads imported in a later status have only their current stay';
COMMENT ON COLUMN @extschema@.lead_status_span.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.lead_status_span.lead_id IS 'lead';
COMMENT ON COLUMN @extschema@.lead_status_span.stay IS 'the stay''s number, 1 for the first';
COMMENT ON COLUMN @extschema@.lead_status_span.status IS 'status of the stay';
COMMENT ON COLUMN @extschema@.lead_status_span.entered_at IS 'when the lead entered it';
COMMENT ON COLUMN @extschema@.lead_status_span.left_at IS 'when it left it; NULL for the current stay';
COMMENT ON COLUMN @extschema@.lead_status_span.hours IS 'hours in the status (the current stay until report_as_of or now()); never negative';

-- time in each status by channel, for sales managers
CREATE OR REPLACE VIEW @extschema@.status_time WITH (security_invoker = true) AS
SELECT s.org_id, l.first_channel_id AS channel_id, ch.code AS channel, s.status,
       count(*) FILTER (WHERE s.left_at IS NOT NULL) AS stays_ended,
       count(*) FILTER (WHERE s.left_at IS NULL) AS leads_in_it_now,
       avg(s.hours) FILTER (WHERE s.left_at IS NOT NULL) AS mean_hours,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY s.hours) FILTER (WHERE s.left_at IS NOT NULL) AS median_hours
  FROM @extschema@.lead_status_span s
  JOIN @extschema@.lead l ON l.org_id = s.org_id AND l.lead_id = s.lead_id
  JOIN @extschema@.channel ch ON ch.org_id = l.org_id AND ch.channel_id = l.first_channel_id
 GROUP BY s.org_id, l.first_channel_id, ch.code, s.status;
COMMENT ON VIEW @extschema@.status_time IS 'time leads spend in each status, by first channel: stays that ended (mean and median hours) and leads in the status now';
COMMENT ON COLUMN @extschema@.status_time.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.status_time.channel_id IS 'first channel of the leads';
COMMENT ON COLUMN @extschema@.status_time.channel IS 'its code';
COMMENT ON COLUMN @extschema@.status_time.status IS 'status';
COMMENT ON COLUMN @extschema@.status_time.stays_ended IS 'stays in the status that ended';
COMMENT ON COLUMN @extschema@.status_time.leads_in_it_now IS 'leads in the status now';
COMMENT ON COLUMN @extschema@.status_time.mean_hours IS 'mean hours of the stays that ended';
COMMENT ON COLUMN @extschema@.status_time.median_hours IS 'median hours of the stays that ended';

-- lost leads by reason, channel and rep
CREATE OR REPLACE VIEW @extschema@.lost_reasons WITH (security_invoker = true) AS
SELECT l.org_id, l.first_channel_id AS channel_id, ch.code AS channel, l.owner_rep_id AS rep_id, r.name AS rep_name,
       coalesce(l.lost_reason, '(not recorded)') AS lost_reason, lr.label, count(*) AS leads
  FROM @extschema@.lead l
  JOIN @extschema@.channel ch ON ch.org_id = l.org_id AND ch.channel_id = l.first_channel_id
  LEFT JOIN @extschema@.sales_rep r ON r.org_id = l.org_id AND r.rep_id = l.owner_rep_id
  LEFT JOIN @extschema@.lost_reason lr ON lr.org_id = l.org_id AND lr.code = l.lost_reason
 WHERE l.status = 'lost'
 GROUP BY l.org_id, l.first_channel_id, ch.code, l.owner_rep_id, r.name, l.lost_reason, lr.label;
COMMENT ON VIEW @extschema@.lost_reasons IS 'lost leads by reason, first channel and owning rep (a lead lost and released to the public pool has no rep); leads lost before 0.14 or imported lost show (not recorded)';
COMMENT ON COLUMN @extschema@.lost_reasons.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.lost_reasons.channel_id IS 'first channel of the leads';
COMMENT ON COLUMN @extschema@.lost_reasons.channel IS 'its code';
COMMENT ON COLUMN @extschema@.lost_reasons.rep_id IS 'rep who owns the leads, NULL for the public pool';
COMMENT ON COLUMN @extschema@.lost_reasons.rep_name IS 'the rep''s name';
COMMENT ON COLUMN @extschema@.lost_reasons.lost_reason IS 'code of the reason, or (not recorded)';
COMMENT ON COLUMN @extschema@.lost_reasons.label IS 'the reason as people read it';
COMMENT ON COLUMN @extschema@.lost_reasons.leads IS 'lost leads';
$step$
WHEN '0.15' THEN $step$
-- 0.15 (docs/changelog.md): the org's time window, src/sql/schema/time_window.sql
-- (a line '-- @schema NAME@' takes src/sql/schema/NAME.sql, as the Makefile builds it)

-- ---------------------------------------------------------------------------
-- Time window (since 0.15; docs/reference/ingest.md "Whose clock"): the
-- times a caller may pass.  A superuser (a DBA loading history) passes any
-- finite time; app and admin roles a time within the org's window around the
-- server's clock, from backfill_horizon before now to future_tolerance after
-- it; sales and reporting roles none, the server's clock decides.  Safe to
-- run on a schema that has it (each DDL statement on its own, for Citus).
-- ---------------------------------------------------------------------------
DO $org$
BEGIN
  ALTER TABLE @extschema@.org ADD COLUMN IF NOT EXISTS backfill_horizon interval NOT NULL DEFAULT '30 days';
END
$org$;
DO $org$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'org_backfill_horizon_check'
                    AND conrelid = '@extschema@.org'::regclass) THEN
    ALTER TABLE @extschema@.org ADD CONSTRAINT org_backfill_horizon_check CHECK (backfill_horizon >= interval '0');
  END IF;
END
$org$;
-- an infinite as-of time emptied every service view (until 0.15): the
-- reports of such an org are taken as of now, as for NULL
UPDATE @extschema@.org SET report_as_of = NULL WHERE NOT isfinite(report_as_of);
DO $org$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'org_report_as_of_check'
                    AND conrelid = '@extschema@.org'::regclass) THEN
    ALTER TABLE @extschema@.org ADD CONSTRAINT org_report_as_of_check CHECK (isfinite(report_as_of));
  END IF;
END
$org$;
COMMENT ON COLUMN @extschema@.org.backfill_horizon IS 'how far before the server''s clock a time passed by an app or admin role may lie (since 0.15; a superuser loads older history); with future_tolerance the window of such times';
-- lead_funnel reads each lead's stages in a LATERAL subquery (the same
-- rows; src/sql/schema/funnel.sql, whose text this is)
CREATE OR REPLACE VIEW @extschema@.lead_funnel WITH (security_invoker = true) AS
-- each lead's stages from its own touches, events and renewals, read in a
-- LATERAL subquery through the (org_id, lead_id) indexes (since 0.15): a
-- report on a week or a month of leads reads those leads' rows only, where
-- the join to every lead's stages read the whole org (funnel_report's
-- weekly funnel of a month: 1.7-2.3 s -> 0.85 s at scale 1; the whole
-- org's funnel costs about a third more)
SELECT l.org_id,
       l.lead_id,
       (l.created_at AT TIME ZONE o.timezone)::date AS cohort_date,
       fc.code                   AS channel,
       cp.code                   AS campaign,
       l.tier,
       l.city,
       coalesce((f.d).level, 0)  AS steps_reached,
       (f.d).step_times[1]       AS touched_at,
       (f.d).step_times[2]       AS became_lead_at,
       (f.d).step_times[3]       AS sms_verified_at,
       (f.d).step_times[4]       AS wechat_followed_at,
       (f.d).step_times[5]       AS trial_booked_at,
       (f.d).step_times[6]       AS trial_attended_at,
       (f.d).step_times[7]       AS paid_at,
       (f.d).step_times[8]       AS renewed_at
  FROM @extschema@.lead l
  JOIN @extschema@.org o ON o.org_id = l.org_id
  JOIN @extschema@.channel fc ON fc.org_id = l.org_id AND fc.channel_id = l.first_channel_id
  LEFT JOIN @extschema@.campaign cp ON cp.org_id = l.org_id AND cp.campaign_id = l.first_campaign_id
  CROSS JOIN LATERAL (
    SELECT @extschema@.funnel_detail(o.funnel_window, ev.ts, ev.step = 1, ev.step = 2, ev.step = 3, ev.step = 4,
                                     ev.step = 5, ev.step = 6, ev.step = 7, ev.step = 8) AS d
      FROM (SELECT t.occurred_at AS ts, 1 AS step
              FROM @extschema@.touchpoint t WHERE t.org_id = l.org_id AND t.lead_id = l.lead_id
            UNION ALL
            SELECT e.occurred_at,
                   CASE e.event_type WHEN 'form_submitted' THEN 2 WHEN 'sms_verified' THEN 3 WHEN 'wechat_followed' THEN 4
                        WHEN 'trial_booked' THEN 5 WHEN 'trial_attended' THEN 6 WHEN 'paid' THEN 7 ELSE 8 END
              FROM @extschema@.lead_event e
             WHERE e.org_id = l.org_id AND e.lead_id = l.lead_id
               AND e.event_type IN ('form_submitted', 'sms_verified', 'wechat_followed', 'trial_booked', 'trial_attended', 'paid', 'renewed')
            UNION ALL
            SELECT r.renewed_at, 8
              FROM @extschema@.student s
              JOIN @extschema@.enrollment en ON en.org_id = s.org_id AND en.student_id = s.student_id
              JOIN @extschema@.renewal r ON r.org_id = en.org_id AND r.from_enrollment_id = en.enrollment_id
             WHERE s.org_id = l.org_id AND s.lead_id = l.lead_id) ev) f;

-- conversion_credit groups by the conversion's keys alone and
-- attribution_comparison joins the converted leads (the same rows;
-- src/sql/schema/roi.sql, whose text this is)
CREATE OR REPLACE VIEW @extschema@.conversion_credit WITH (security_invoker = true) AS
-- a view, not a function with the models as a parameter, since 0.12: Citus
-- cannot plan a parameterised SQL function.  A filter on model or
-- is_org_model reaches the credit pass (both are grouping columns there), so
-- a report that wants one model pays for one.  Since 0.15 the passes group
-- by the conversion's keys alone and the org's options are built once per
-- org (the same rows; attribution_comparison 1.9 s -> 0.85 s at scale 1).
WITH conv AS (
  -- each lead's first paid order
  SELECT DISTINCT ON (so.org_id, so.lead_id) so.org_id, so.lead_id, so.order_id, so.paid_at AS converted_at
    FROM @extschema@.sales_order so
   WHERE so.status = 'paid' AND NOT so.is_renewal
   ORDER BY so.org_id, so.lead_id, so.paid_at, so.order_id
), net AS (
  SELECT so.org_id, so.order_id, so.lead_id, so.paid_at, so.amount - coalesce(r.refunded, 0) AS net_amount
    FROM @extschema@.sales_order so
    LEFT JOIN (SELECT rf.org_id, rf.order_id, sum(rf.amount) AS refunded FROM @extschema@.refund rf GROUP BY 1, 2) r
           ON r.org_id = so.org_id AND r.order_id = so.order_id
   WHERE so.status = 'paid'
), direct_keys AS (
  -- credit is computed per channel and campaign ("code|campaign id"); direct channels are keyed
  -- without their campaign, so last_non_direct needs just one key per direct channel
  SELECT ch.org_id, jsonb_agg(ch.code || '|') AS keys
    FROM @extschema@.channel ch WHERE ch.kind = 'direct' GROUP BY ch.org_id
), opts AS (
  -- each org's model and options, built once per org, not per conversion or touch
  SELECT o.org_id, o.attribution_model, o.ltv_horizon,
         jsonb_build_object('lookback_days', o.attribution_lookback_days, 'direct', coalesce(dk.keys, '[]')) AS options
    FROM @extschema@.org o
    LEFT JOIN direct_keys dk ON dk.org_id = o.org_id
), cv AS (
  -- grouped by the conversion alone (small keys hash fast)
  SELECT c.org_id, c.order_id, max(c.lead_id) AS lead_id, max(c.converted_at) AS converted_at,
         max(n.net_amount) FILTER (WHERE n.order_id = c.order_id) AS net_revenue,
         coalesce(sum(n.net_amount) FILTER (WHERE n.paid_at >= c.converted_at AND n.paid_at < c.converted_at + p.ltv_horizon), 0) AS ltv_revenue
    FROM conv c
    JOIN opts p ON p.org_id = c.org_id
    JOIN net n ON n.org_id = c.org_id AND n.lead_id = c.lead_id
   GROUP BY c.org_id, c.order_id
), credit AS (
  SELECT cv.org_id, cv.order_id, m.model, m.model = p.attribution_model AS is_org_model,
         max(cv.lead_id) AS lead_id, max(cv.converted_at) AS converted_at,
         max(cv.net_revenue) AS net_revenue, max(cv.ltv_revenue) AS ltv_revenue,
         count(*) AS touches,
         @extschema@.touch_credit(m.model, ch.code || '|' || CASE WHEN ch.kind = 'direct' THEN '' ELSE coalesce(tp.campaign_id::text, '') END,
                                  tp.occurred_at, cv.converted_at,
                                  p.options) AS credits
    FROM cv
    JOIN opts p ON p.org_id = cv.org_id
    JOIN @extschema@.touchpoint tp ON tp.org_id = cv.org_id AND tp.lead_id = cv.lead_id
    JOIN @extschema@.channel ch ON ch.org_id = tp.org_id AND ch.channel_id = tp.channel_id
   CROSS JOIN (VALUES ('first_touch'), ('last_touch'), ('last_non_direct'), ('linear'), ('position_based'), ('time_decay')) m(model)
   GROUP BY cv.org_id, cv.order_id, m.model, p.attribution_model
)
SELECT c.org_id, c.order_id, c.lead_id, c.converted_at, c.model,
       split_part(x.channel, '|', 1) AS channel, nullif(split_part(x.channel, '|', 2), '')::bigint AS campaign_id, x.credit,
       x.credit * c.net_revenue AS credited_revenue, x.credit * c.ltv_revenue AS credited_ltv_revenue, c.touches,
       c.is_org_model
  FROM credit c CROSS JOIN LATERAL unnest(c.credits) x;
COMMENT ON VIEW @extschema@.conversion_credit IS 'audit of attribution: one row per conversion (a lead''s first paid order) x model x channel and campaign of its journey, with their share of the conversion and of its revenue';
COMMENT ON COLUMN @extschema@.conversion_credit.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.conversion_credit.order_id IS 'the converting order';
COMMENT ON COLUMN @extschema@.conversion_credit.lead_id IS 'the lead who converted';
COMMENT ON COLUMN @extschema@.conversion_credit.converted_at IS 'when the order was paid';
COMMENT ON COLUMN @extschema@.conversion_credit.model IS 'first_touch, last_touch, last_non_direct, linear, position_based or time_decay';
COMMENT ON COLUMN @extschema@.conversion_credit.channel IS 'channel code';
COMMENT ON COLUMN @extschema@.conversion_credit.campaign_id IS 'campaign of the touches credited; NULL for touches without one and for direct channels';
COMMENT ON COLUMN @extschema@.conversion_credit.credit IS 'the share of the channel and campaign in the conversion under the model (a journey''s shares add up to 1; 0 when touched but not credited)';
COMMENT ON COLUMN @extschema@.conversion_credit.credited_revenue IS 'share of the order''s revenue net of refunds';
COMMENT ON COLUMN @extschema@.conversion_credit.credited_ltv_revenue IS 'share of the student''s net revenue within org.ltv_horizon, renewals included';
COMMENT ON COLUMN @extschema@.conversion_credit.touches IS 'touches of the journey (all channels, before the lookback filter)';
COMMENT ON COLUMN @extschema@.conversion_credit.is_org_model IS 'true when model is the org''s attribution_model, the one channel_roi and channel_payback report';
CREATE OR REPLACE VIEW @extschema@.attribution_comparison WITH (security_invoker = true) AS
WITH h AS (
  SELECT cc.org_id, cc.channel,
         sum(cc.credit) FILTER (WHERE cc.model = 'first_touch') AS first_touch,
         sum(cc.credit) FILTER (WHERE cc.model = 'last_touch') AS last_touch,
         sum(cc.credit) FILTER (WHERE cc.model = 'last_non_direct') AS last_non_direct,
         sum(cc.credit) FILTER (WHERE cc.model = 'linear') AS linear,
         sum(cc.credit) FILTER (WHERE cc.model = 'position_based') AS position_based,
         sum(cc.credit) FILTER (WHERE cc.model = 'time_decay') AS time_decay
    FROM @extschema@.conversion_credit cc GROUP BY cc.org_id, cc.channel
), journeys AS (
  -- every lead's path (channels in time order) and whether it converted, for the data-driven models
  -- (the converted leads joined, not an EXISTS per lead, since 0.15)
  SELECT tp.org_id, tp.lead_id,
         array_agg(ch.code ORDER BY tp.occurred_at, tp.touchpoint_id) AS path,
         p.lead_id IS NOT NULL AS converted
    FROM @extschema@.touchpoint tp
    JOIN @extschema@.channel ch ON ch.org_id = tp.org_id AND ch.channel_id = tp.channel_id
    LEFT JOIN (SELECT DISTINCT so.org_id, so.lead_id FROM @extschema@.sales_order so
                WHERE so.status = 'paid' AND NOT so.is_renewal) p
           ON p.org_id = tp.org_id AND p.lead_id = tp.lead_id
   WHERE tp.lead_id IS NOT NULL
   GROUP BY tp.org_id, tp.lead_id, p.lead_id
), dd AS (
  SELECT j.org_id,
         @extschema@.markov_attribution(j.path, j.converted::int, 1 - j.converted::int, 0) AS markov,
         @extschema@.shapley_attribution(j.path, j.converted::int, 0) AS shapley
    FROM journeys j GROUP BY j.org_id
)
SELECT h.org_id, h.channel,
       round(h.first_touch::numeric, 2) AS first_touch, round(h.last_touch::numeric, 2) AS last_touch,
       round(h.last_non_direct::numeric, 2) AS last_non_direct, round(h.linear::numeric, 2) AS linear,
       round(h.position_based::numeric, 2) AS position_based, round(h.time_decay::numeric, 2) AS time_decay,
       round(m.conversions::numeric, 2) AS markov, round(m.removal_effect::numeric, 4) AS markov_removal_effect,
       round(s.conversions::numeric, 2) AS shapley
  FROM h
  LEFT JOIN dd ON dd.org_id = h.org_id
  LEFT JOIN LATERAL (SELECT x.* FROM unnest(dd.markov) x WHERE x.channel = h.channel) m ON true
  LEFT JOIN LATERAL (SELECT x.* FROM unnest(dd.shapley) x WHERE x.channel = h.channel) s ON true;
COMMENT ON VIEW @extschema@.attribution_comparison IS 'conversions credited to each channel under every model side by side: the six heuristic models, first-order Markov (with removal effect) and Shapley';
COMMENT ON COLUMN @extschema@.attribution_comparison.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.attribution_comparison.channel IS 'channel code';
COMMENT ON COLUMN @extschema@.attribution_comparison.first_touch IS 'conversions credited by first touch';
COMMENT ON COLUMN @extschema@.attribution_comparison.last_touch IS 'conversions credited by last touch';
COMMENT ON COLUMN @extschema@.attribution_comparison.last_non_direct IS 'conversions credited by last non-direct touch';
COMMENT ON COLUMN @extschema@.attribution_comparison.linear IS 'conversions credited linearly (per touch)';
COMMENT ON COLUMN @extschema@.attribution_comparison.position_based IS 'conversions credited 40/20/40 by position';
COMMENT ON COLUMN @extschema@.attribution_comparison.time_decay IS 'conversions credited by time decay (7-day half-life)';
COMMENT ON COLUMN @extschema@.attribution_comparison.markov IS 'conversions credited by first-order Markov removal effects (journeys of all leads; no lookback)';
COMMENT ON COLUMN @extschema@.attribution_comparison.markov_removal_effect IS 'share of conversions lost without the channel';
COMMENT ON COLUMN @extschema@.attribution_comparison.shapley IS 'conversions credited by the Shapley value (journeys of all leads; no lookback)';
-- cohort_retention reads each spell's months in a LATERAL subquery (the
-- same rows; src/sql/schema/service.sql, whose text this is)
CREATE OR REPLACE VIEW @extschema@.cohort_retention WITH (security_invoker = true) AS
-- since 0.15 each spell reads its student's months (the terms through the
-- (org_id, student_id) index) in a LATERAL subquery: a join with the months
-- of every student, planned as a nested loop when the filtered spells were
-- estimated at one row, ran for minutes where a BI tool filtered on org,
-- kind and month (#22)
WITH member AS (
  -- retention(): [active in the cohort month, ... and active k months later] per student
  SELECT x.org_id, x.student_id, x.cohort_month, x.cohort_kind,
         @extschema@.retention(x.k = 0, x.k = 1, x.k = 2, x.k = 3, x.k = 4, x.k = 5, x.k = 6,
                               x.k = 7, x.k = 8, x.k = 9, x.k = 10, x.k = 11, x.k = 12) AS on_month,
         max(x.month) AS last_month
    FROM (SELECT l.org_id, l.student_id, l.spell_no, l.cohort_month, a.month,
                 CASE WHEN l.spell_no = 1 THEN 'first_time' ELSE 'recurring' END AS cohort_kind,
                 ((extract(year FROM a.month) - extract(year FROM l.cohort_month)) * 12
                  + extract(month FROM a.month) - extract(month FROM l.cohort_month))::int AS k
            FROM @extschema@.student_lifetime l
           CROSS JOIN LATERAL (
             -- months in which the student had an enrollment running, up to the as-of day
             SELECT DISTINCT m::date AS month
               FROM @extschema@.student_term t
               JOIN @extschema@.org o ON o.org_id = t.org_id
              CROSS JOIN LATERAL generate_series(date_trunc('month', t.enrolled_at AT TIME ZONE o.timezone),
                                                 date_trunc('month', least(coalesce(t.ended_at AT TIME ZONE o.timezone, t.term_end),
                                                                           t.as_of_day)), interval '1 month') m
              WHERE t.org_id = l.org_id AND t.student_id = l.student_id) a
           WHERE a.month >= l.cohort_month) x
   GROUP BY x.org_id, x.student_id, x.spell_no, x.cohort_month, x.cohort_kind
)
SELECT m.org_id, m.cohort_month, m.cohort_kind, (k.i - 1)::int AS months_since,
       count(*) AS cohort_students,
       sum(m.on_month[k.i]) AS active_students,
       count(*) FILTER (WHERE m.last_month >= (m.cohort_month + (k.i - 1) * interval '1 month')::date) AS active_or_later_students,
       round(sum(m.on_month[k.i])::numeric / count(*), 4) AS retention_on,
       round((count(*) FILTER (WHERE m.last_month >= (m.cohort_month + (k.i - 1) * interval '1 month')::date))::numeric / count(*), 4) AS retention_on_or_after
  FROM member m
  JOIN @extschema@.org o ON o.org_id = m.org_id
 CROSS JOIN LATERAL generate_series(1, 13) k(i)
 WHERE (m.cohort_month + (k.i - 1) * interval '1 month')::date
       <= date_trunc('month', coalesce(o.report_as_of, now()) AT TIME ZONE o.timezone)::date
 GROUP BY m.org_id, m.cohort_month, m.cohort_kind, k.i;
COMMENT ON VIEW @extschema@.cohort_retention IS 'cohort retention matrix: students who began a spell in a month, and how many were active that many months later ("on") or then or later ("on or after"), first-time and recurring apart; months 0 to 12';
COMMENT ON COLUMN @extschema@.cohort_retention.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.cohort_retention.cohort_month IS 'month the spells began';
COMMENT ON COLUMN @extschema@.cohort_retention.cohort_kind IS 'first_time (the student''s first spell) or recurring (a returning student)';
COMMENT ON COLUMN @extschema@.cohort_retention.months_since IS 'months after the cohort month, 0 to 12';
COMMENT ON COLUMN @extschema@.cohort_retention.cohort_students IS 'students in the cohort';
COMMENT ON COLUMN @extschema@.cohort_retention.active_students IS 'students of the cohort with a term running in that month';
COMMENT ON COLUMN @extschema@.cohort_retention.active_or_later_students IS 'students of the cohort active in that month or any later one';
COMMENT ON COLUMN @extschema@.cohort_retention.retention_on IS 'active_students / cohort_students';
COMMENT ON COLUMN @extschema@.cohort_retention.retention_on_or_after IS 'active_or_later_students / cohort_students';
-- model_lift reads each model's held-out leads in a LATERAL subquery (the
-- same rows).  Its text as 0.15 landed it, frozen here: 0.16 changed the
-- view, and a '-- @view' marker takes the view's text of now (a landed
-- step's marker becomes its text when a later version changes the view;
-- docs/dba/layout.md)
CREATE OR REPLACE VIEW @extschema@.model_lift WITH (security_invoker = true) AS
-- the features from the view lead_features since 0.12 (a table-reading
-- function per org before, which Citus cannot run inside a shard's query);
-- since 0.15 each model reads its held-out leads in a LATERAL subquery
-- (through lead's (org_id, created_at) index), so that an org without
-- models reads no lead (1.5 s at the demo's scale 1 before)
WITH held_out AS (
  -- each model's held-out leads, scored by the model
  SELECT cm.org_id, cm.model_id, f.lead_id, @extschema@.model_predict(cm.kind, cm.coef, cm.encoding, cm.nb_tables, f.vals) AS score, f.converted
    FROM @extschema@.conversion_model cm
   CROSS JOIN LATERAL (
     SELECT x.lead_id, x.vals, x.converted FROM @extschema@.lead_features x
      WHERE x.org_id = cm.org_id AND x.created_at >= cm.test_from AND x.created_at < cm.trained_to AND x.label_known
     OFFSET 0) f  -- (not pulled up into a join: read model by model)
), d AS (
  -- (ties broken by lead since 0.15: leads of equal score fell into
  -- deciles in whatever order the plan read them)
  SELECT h.*, ntile(10) OVER (PARTITION BY h.org_id, h.model_id ORDER BY h.score DESC, h.lead_id) AS decile,
         avg(h.converted::int) OVER (PARTITION BY h.org_id, h.model_id) AS base_rate
    FROM held_out h
)
SELECT d.org_id, d.model_id, d.decile, count(*) AS leads, count(*) FILTER (WHERE d.converted) AS converted,
       round(avg(d.converted::int)::numeric, 4) AS conversion_rate,
       round((avg(d.converted::int) / nullif(min(d.base_rate), 0))::numeric, 3) AS lift,
       round(min(d.score)::numeric, 4) AS min_score, round(max(d.score)::numeric, 4) AS max_score
  FROM d GROUP BY d.org_id, d.model_id, d.decile;
$step$
WHEN '0.16' THEN $step$
-- 0.16 (docs/changelog.md): a rep's dated leave, src/sql/schema/master_data.sql

-- ---------------------------------------------------------------------------
-- Master data (since 0.16; docs/reference/master_data.md): a rep's dated
-- leave, which takes it off the assignment roster for those days.  The other
-- master data (teams, reps, shifts, teachers, courses, classes, students,
-- enrollments, renewals) has had tables since 0.1; 0.16 gives them functions.
-- Safe to run again (install() runs it as schema step 0.16, also on a
-- distributed Citus cluster: the table is distributed before its key).
-- ---------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS @extschema@.rep_leave (
  org_id      bigint NOT NULL,
  leave_id    bigint GENERATED ALWAYS AS IDENTITY,
  rep_id      bigint NOT NULL,
  first_day   date NOT NULL,
  last_day    date NOT NULL,
  reason      text,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT rep_leave_pkey PRIMARY KEY (org_id, leave_id),
  CONSTRAINT rep_leave_days_check CHECK (last_day >= first_day AND last_day - first_day < 366),
  CONSTRAINT rep_leave_reason_check CHECK (length(reason) <= 200)
);
CREATE INDEX IF NOT EXISTS rep_leave_rep_idx ON @extschema@.rep_leave (org_id, rep_id, first_day);
COMMENT ON TABLE @extschema@.rep_leave IS 'a rep''s leave, whole days in the org''s time zone: on those days the rep gets no leads from assign_lead or assign_pending (add_leave, cancel_leave)';
COMMENT ON COLUMN @extschema@.rep_leave.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.rep_leave.leave_id IS 'leave id';
COMMENT ON COLUMN @extschema@.rep_leave.rep_id IS 'the rep on leave';
COMMENT ON COLUMN @extschema@.rep_leave.first_day IS 'first day of leave, in the org''s time zone';
COMMENT ON COLUMN @extschema@.rep_leave.last_day IS 'last day of leave (inclusive), at most 365 days after the first';
COMMENT ON COLUMN @extschema@.rep_leave.reason IS 'why, such as annual leave (up to 200 characters)';
COMMENT ON COLUMN @extschema@.rep_leave.recorded_at IS 'when the leave was recorded (the server''s clock)';

DO $keys$
BEGIN
  -- (EXECUTE: the Citus catalog exists only where Citus does)
  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
    EXECUTE $q$SELECT create_distributed_table('@extschema@.rep_leave', 'org_id', colocate_with => '@extschema@.org')
                WHERE EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = '@extschema@.sales_rep'::regclass)
                  AND NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = '@extschema@.rep_leave'::regclass)$q$;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'rep_leave_rep_fkey'
                    AND conrelid = '@extschema@.rep_leave'::regclass) THEN
    ALTER TABLE @extschema@.rep_leave ADD CONSTRAINT rep_leave_rep_fkey
      FOREIGN KEY (org_id, rep_id) REFERENCES @extschema@.sales_rep (org_id, rep_id) ON DELETE CASCADE;
  END IF;
END
$keys$;

-- and a visitor's anonymous touches linked to its lead, src/sql/schema/ingest.sql

-- ---------------------------------------------------------------------------
-- Ingestion's data (docs/reference/ingest.md): visitor linking (since 0.16).
-- A visitor's anonymous touches belong to the lead its form made:
-- ingest_lead and record_touch link them from 0.16 on, and this links those
-- recorded before, each to the lead of the visitor's first linked touch.
-- ---------------------------------------------------------------------------
UPDATE @extschema@.touchpoint t SET lead_id = v.lead_id
  FROM (SELECT DISTINCT ON (x.org_id, x.visitor_id) x.org_id, x.visitor_id, x.lead_id
          FROM @extschema@.touchpoint x
         WHERE x.visitor_id IS NOT NULL AND x.lead_id IS NOT NULL
         ORDER BY x.org_id, x.visitor_id, x.occurred_at, x.touchpoint_id) v
 WHERE t.org_id = v.org_id AND t.visitor_id = v.visitor_id AND t.lead_id IS NULL;
-- the form-time model: conversion_model.stage, lead.form_score,
-- src/sql/schema/form_model.sql; the view lead_form_features (with its
-- comments), model_registry gains the stage, and model_lift scores a form
-- model's held-out leads on their form-time features

-- ---------------------------------------------------------------------------
-- The form-time model (since 0.16; docs/reference/model.md): a conversion
-- model of a stage, 'contact' (the model of before, which learns from what
-- reps do) or 'form' (only what is known when the form arrives, which
-- ingest_lead scores at once into lead.form_score).  Safe to run again
-- (install() runs it as schema step 0.16; each DDL statement on its own, for
-- Citus).  schema.sql has the column in conversion_model for a new schema.
-- ---------------------------------------------------------------------------
DO $cm$
BEGIN
  ALTER TABLE @extschema@.conversion_model ADD COLUMN IF NOT EXISTS stage text NOT NULL DEFAULT 'contact';
END
$cm$;
DO $cm$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'conversion_model_stage_check'
                    AND conrelid = '@extschema@.conversion_model'::regclass) THEN
    ALTER TABLE @extschema@.conversion_model ADD CONSTRAINT conversion_model_stage_check CHECK (stage IN ('contact', 'form'));
  END IF;
END
$cm$;
-- (in a DO block: Citus sends DDL on a distributed table on to the workers
-- as the text of the statement, which must be one statement)
DO $cm$
BEGIN
  DROP INDEX IF EXISTS @extschema@.conversion_model_one_active;
  CREATE UNIQUE INDEX IF NOT EXISTS conversion_model_one_active_per_stage ON @extschema@.conversion_model (org_id, stage) WHERE active;
END
$cm$;
COMMENT ON TABLE @extschema@.conversion_model IS 'registry of trained conversion models, versioned per org and name; at most one active per org and stage';
COMMENT ON COLUMN @extschema@.conversion_model.stage IS 'contact: learns from everything known of a lead, reps'' work included (lead.score); form: only from what is known when the form arrives (lead.form_score, scored by ingest_lead)';

DO $lead$
BEGIN
  ALTER TABLE @extschema@.lead ADD COLUMN IF NOT EXISTS form_score float8, ADD COLUMN IF NOT EXISTS form_scored_at timestamptz,
    ADD COLUMN IF NOT EXISTS form_score_model_id bigint;
END
$lead$;
DO $lead$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'lead_form_score_check'
                    AND conrelid = '@extschema@.lead'::regclass) THEN
    ALTER TABLE @extschema@.lead ADD CONSTRAINT lead_form_score_check CHECK (form_score BETWEEN 0 AND 1);
  END IF;
END
$lead$;
DO $lead$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'lead_form_score_model_fkey'
                    AND conrelid = '@extschema@.lead'::regclass) THEN
    ALTER TABLE @extschema@.lead ADD CONSTRAINT lead_form_score_model_fkey
      FOREIGN KEY (org_id, form_score_model_id) REFERENCES @extschema@.conversion_model (org_id, model_id);
  END IF;
END
$lead$;
COMMENT ON COLUMN @extschema@.lead.form_score IS 'probability of conversion when the form arrived, under the org''s active form-time model (ingest_lead; score_leads with a form model rescores it)';
COMMENT ON COLUMN @extschema@.lead.form_scored_at IS 'when form_score was computed';
COMMENT ON COLUMN @extschema@.lead.form_score_model_id IS 'the form-time model that gave form_score';
-- (its text as 0.16 landed it, frozen here: 0.17 changed the view)
CREATE OR REPLACE VIEW @extschema@.lead_form_features WITH (security_invoker = true) AS
WITH prior AS (
  -- the touches before the form: a visitor's anonymous journey
  SELECT t.org_id, t.lead_id, count(*) AS n
    FROM @extschema@.touchpoint t
    JOIN @extschema@.lead x ON x.org_id = t.org_id AND x.lead_id = t.lead_id
   WHERE t.occurred_at < x.created_at
   GROUP BY t.org_id, t.lead_id
), paid AS (
  SELECT s.org_id, s.lead_id, min(s.paid_at) AS at FROM @extschema@.sales_order s
   WHERE s.status = 'paid' AND NOT s.is_renewal GROUP BY s.org_id, s.lead_id
)
SELECT l.org_id, l.lead_id, l.created_at, l.status,
       @extschema@.lead_form_vals(ch.code, cp.code, l.subject, l.city_tier, l.child_age, l.grade,
                                  l.created_at AT TIME ZONE o.timezone, l.attrs ->> 'variant', pr.n) AS vals,
       coalesce(p.at <= l.created_at + o.conversion_days * interval '1 day', false) AS converted,
       l.created_at + o.conversion_days * interval '1 day' <= coalesce(o.report_as_of, now()) AS label_known
  FROM @extschema@.lead l
  JOIN @extschema@.org o ON o.org_id = l.org_id
  JOIN @extschema@.channel ch ON ch.org_id = l.org_id AND ch.channel_id = l.first_channel_id
  LEFT JOIN @extschema@.campaign cp ON cp.org_id = l.org_id AND cp.campaign_id = l.first_campaign_id
  LEFT JOIN prior pr ON pr.org_id = l.org_id AND pr.lead_id = l.lead_id
  LEFT JOIN paid p ON p.org_id = l.org_id AND p.lead_id = l.lead_id;
COMMENT ON VIEW @extschema@.lead_form_features IS 'the form-time features of each lead (since 0.16): only what is known when its form arrives, which a form-stage conversion model learns from and ingest_lead scores; the label as in lead_features';
COMMENT ON COLUMN @extschema@.lead_form_features.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.lead_form_features.lead_id IS 'lead';
COMMENT ON COLUMN @extschema@.lead_form_features.created_at IS 'when the form arrived';
COMMENT ON COLUMN @extschema@.lead_form_features.status IS 'sales status of the lead';
COMMENT ON COLUMN @extschema@.lead_form_features.vals IS 'the features as a JSON object (lead_form_vals()): channel, campaign, subject, city_tier, age_band, grade, daypart, weekend, variant, log_prior_touches';
COMMENT ON COLUMN @extschema@.lead_form_features.converted IS 'the label: paid within org.conversion_days of coming in';
COMMENT ON COLUMN @extschema@.lead_form_features.label_known IS 'true once org.conversion_days have passed (as of org.report_as_of or now), so the label is final';
CREATE OR REPLACE VIEW @extschema@.model_registry WITH (security_invoker = true) AS
SELECT cm.org_id, cm.model_id, cm.name, cm.version, cm.kind, cm.active, cm.trained_at, cm.trained_from, cm.trained_to,
       cm.test_from, cm.rows_train, cm.rows_test, cm.positives_train,
       round(cm.auc_train::numeric, 4) AS auc_train, round(cm.auc_test::numeric, 4) AS auc_test,
       round(cm.log_loss_test::numeric, 4) AS log_loss_test, cm.iterations, cm.converged,
       jsonb_array_length(cm.encoding -> 'features') AS features,
       cm.stage
  FROM @extschema@.conversion_model cm;
COMMENT ON VIEW @extschema@.model_registry IS 'every trained conversion model with its held-out metrics, logreg and the naive Bayes baseline side by side';
COMMENT ON COLUMN @extschema@.model_registry.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.model_registry.model_id IS 'model id';
COMMENT ON COLUMN @extschema@.model_registry.name IS 'model name';
COMMENT ON COLUMN @extschema@.model_registry.version IS 'version under its name';
COMMENT ON COLUMN @extschema@.model_registry.kind IS 'logreg or naive_bayes';
COMMENT ON COLUMN @extschema@.model_registry.active IS 'the active model of its stage: the one score_leads (contact) or ingest_lead (form) uses';
COMMENT ON COLUMN @extschema@.model_registry.trained_at IS 'when it was trained';
COMMENT ON COLUMN @extschema@.model_registry.trained_from IS 'first lead creation time learned from';
COMMENT ON COLUMN @extschema@.model_registry.trained_to IS 'end of the creation times learned from';
COMMENT ON COLUMN @extschema@.model_registry.test_from IS 'start of the held-out period';
COMMENT ON COLUMN @extschema@.model_registry.rows_train IS 'leads learned from';
COMMENT ON COLUMN @extschema@.model_registry.rows_test IS 'held-out leads';
COMMENT ON COLUMN @extschema@.model_registry.positives_train IS 'converted leads learned from';
COMMENT ON COLUMN @extschema@.model_registry.auc_train IS 'ROC AUC on the training leads';
COMMENT ON COLUMN @extschema@.model_registry.auc_test IS 'ROC AUC on the held-out leads (compare models here)';
COMMENT ON COLUMN @extschema@.model_registry.log_loss_test IS 'log loss on the held-out leads (lower is better)';
COMMENT ON COLUMN @extschema@.model_registry.iterations IS 'IRLS passes (logreg)';
COMMENT ON COLUMN @extschema@.model_registry.converged IS 'whether the fit converged (logreg)';
COMMENT ON COLUMN @extschema@.model_registry.stage IS 'contact (learns from reps'' work too: lead.score) or form (only what the form brings: lead.form_score); since 0.16';
COMMENT ON COLUMN @extschema@.model_registry.features IS 'number of features in the encoding';
CREATE OR REPLACE VIEW @extschema@.model_lift WITH (security_invoker = true) AS
-- the features from the view lead_features since 0.12 (a table-reading
-- function per org before, which Citus cannot run inside a shard's query);
-- since 0.15 each model reads its held-out leads in a LATERAL subquery
-- (through lead's (org_id, created_at) index), so that an org without
-- models reads no lead (1.5 s at the demo's scale 1 before)
WITH held_out AS (
  -- each model's held-out leads, scored by the model
  SELECT cm.org_id, cm.model_id, f.lead_id, @extschema@.model_predict(cm.kind, cm.coef, cm.encoding, cm.nb_tables, f.vals) AS score, f.converted
    FROM @extschema@.conversion_model cm
   CROSS JOIN LATERAL (
     SELECT x.lead_id, x.vals, x.converted FROM @extschema@.lead_features x
      WHERE x.org_id = cm.org_id AND x.created_at >= cm.test_from AND x.created_at < cm.trained_to AND x.label_known
     OFFSET 0) f  -- (not pulled up into a join: read model by model)
   WHERE cm.stage = 'contact'
  UNION ALL
  -- (since 0.16) a form model's, on their form-time features
  SELECT cm.org_id, cm.model_id, f.lead_id, @extschema@.model_predict(cm.kind, cm.coef, cm.encoding, cm.nb_tables, f.vals), f.converted
    FROM @extschema@.conversion_model cm
   CROSS JOIN LATERAL (
     SELECT x.lead_id, x.vals, x.converted FROM @extschema@.lead_form_features x
      WHERE x.org_id = cm.org_id AND x.created_at >= cm.test_from AND x.created_at < cm.trained_to AND x.label_known
     OFFSET 0) f
   WHERE cm.stage = 'form'
), d AS (
  -- (ties broken by lead since 0.15: leads of equal score fell into
  -- deciles in whatever order the plan read them)
  SELECT h.*, ntile(10) OVER (PARTITION BY h.org_id, h.model_id ORDER BY h.score DESC, h.lead_id) AS decile,
         avg(h.converted::int) OVER (PARTITION BY h.org_id, h.model_id) AS base_rate
    FROM held_out h
)
SELECT d.org_id, d.model_id, d.decile, count(*) AS leads, count(*) FILTER (WHERE d.converted) AS converted,
       round(avg(d.converted::int)::numeric, 4) AS conversion_rate,
       round((avg(d.converted::int) / nullif(min(d.base_rate), 0))::numeric, 3) AS lift,
       round(min(d.score)::numeric, 4) AS min_score, round(max(d.score)::numeric, 4) AS max_score
  FROM d GROUP BY d.org_id, d.model_id, d.decile;
COMMENT ON VIEW @extschema@.model_lift IS 'lift by score decile (1 = highest scores) on each model''s held-out leads: how much better than average each tenth converts';
COMMENT ON COLUMN @extschema@.model_lift.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.model_lift.model_id IS 'model';
COMMENT ON COLUMN @extschema@.model_lift.decile IS 'score decile, 1 for the highest tenth';
COMMENT ON COLUMN @extschema@.model_lift.leads IS 'leads in the decile';
COMMENT ON COLUMN @extschema@.model_lift.converted IS 'of which converted within org.conversion_days';
COMMENT ON COLUMN @extschema@.model_lift.conversion_rate IS 'converted / leads';
COMMENT ON COLUMN @extschema@.model_lift.lift IS 'conversion rate of the decile / conversion rate of all held-out leads';
COMMENT ON COLUMN @extschema@.model_lift.min_score IS 'lowest score in the decile';
COMMENT ON COLUMN @extschema@.model_lift.max_score IS 'highest score in the decile';
$step$
WHEN '0.17' THEN $step$
-- 0.17 (docs/changelog.md): real-time tiers and routing, routing by expected
-- value and the routing holdout, src/sql/schema/routing.sql

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
-- grade and tags become features of both conversion models, and the health
-- of the active models (src/sql/schema/model_health.sql)
CREATE OR REPLACE VIEW @extschema@.lead_features WITH (security_invoker = true) AS
WITH touches AS (
  SELECT t.org_id, t.lead_id, count(*) AS n FROM @extschema@.touchpoint t GROUP BY t.org_id, t.lead_id
), first_contact AS (
  SELECT f.org_id, f.lead_id, min(f.occurred_at) AS at FROM @extschema@.follow_up f GROUP BY f.org_id, f.lead_id
), paid AS (
  SELECT s.org_id, s.lead_id, min(s.paid_at) AS at FROM @extschema@.sales_order s
   WHERE s.status = 'paid' AND NOT s.is_renewal GROUP BY s.org_id, s.lead_id
), ev AS (
  -- the behaviour stage, as lead_tiers() has it
  SELECT e.org_id, e.lead_id,
         bool_or(e.event_type = 'trial_booked' AND e.attrs @> '{"self_booked": true}') AS self_booked,
         bool_or(e.event_type = 'wechat_followed') AS followed,
         bool_or(e.event_type = 'sms_verified') AS verified
    FROM @extschema@.lead_event e
   WHERE e.event_type IN ('trial_booked', 'wechat_followed', 'sms_verified')
   GROUP BY e.org_id, e.lead_id
), tr AS (
  SELECT DISTINCT t.org_id, t.lead_id FROM @extschema@.trial_lesson t WHERE t.self_booked
), tags AS (
  -- each tag of the lead as a feature of its own, "tag <name>": 1 (since 0.17)
  SELECT lt.org_id, lt.lead_id, jsonb_object_agg('tag ' || tg.name, 1) AS vals
    FROM @extschema@.lead_tag lt JOIN @extschema@.tag tg ON tg.org_id = lt.org_id AND tg.tag_id = lt.tag_id
   GROUP BY lt.org_id, lt.lead_id
)
SELECT l.org_id, l.lead_id, l.created_at, l.status,
       jsonb_build_object(
         'channel', ch.code,
         'subject', coalesce(l.subject, 'unknown'),
         'grade', coalesce('grade ' || l.grade, 'unknown'),
         'city_tier', coalesce('tier ' || l.city_tier, 'unknown'),
         'age_band', coalesce((2 * (l.child_age / 2)) || '-' || (2 * (l.child_age / 2) + 1), 'unknown'),
         'stage', (CASE WHEN tr.lead_id IS NOT NULL OR ev.self_booked THEN 'A' WHEN ev.followed THEN 'B'
                        WHEN ev.verified THEN 'C' ELSE 'D' END)::char(1),
         'log_touches', ln(1 + coalesce(tc.n, 0)),
         'log_response_hours', CASE WHEN fc.at IS NULL THEN 0
                                    ELSE ln(1 + least(720, greatest(0, extract(epoch FROM fc.at - l.created_at) / 3600))) END,
         'no_follow_up', (fc.at IS NULL)::int) || coalesce(tg.vals, '{}') AS vals,
       coalesce(p.at <= l.created_at + o.conversion_days * interval '1 day', false) AS converted,
       l.created_at + o.conversion_days * interval '1 day' <= coalesce(o.report_as_of, now()) AS label_known
  FROM @extschema@.lead l
  JOIN @extschema@.org o ON o.org_id = l.org_id
  JOIN @extschema@.channel ch ON ch.org_id = l.org_id AND ch.channel_id = l.first_channel_id
  LEFT JOIN tags tg ON tg.org_id = l.org_id AND tg.lead_id = l.lead_id
  LEFT JOIN ev ON ev.org_id = l.org_id AND ev.lead_id = l.lead_id
  LEFT JOIN tr ON tr.org_id = l.org_id AND tr.lead_id = l.lead_id
  LEFT JOIN touches tc ON tc.org_id = l.org_id AND tc.lead_id = l.lead_id
  LEFT JOIN first_contact fc ON fc.org_id = l.org_id AND fc.lead_id = l.lead_id
  LEFT JOIN paid p ON p.org_id = l.org_id AND p.lead_id = l.lead_id;
COMMENT ON VIEW @extschema@.lead_features IS 'the raw attributes the conversion model learns from, per lead (channel, subject, grade, city tier, age band, behaviour stage, touches, response time, tags), with the label: paid within org.conversion_days';
COMMENT ON COLUMN @extschema@.lead_features.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.lead_features.lead_id IS 'lead';
COMMENT ON COLUMN @extschema@.lead_features.created_at IS 'when the lead came in';
COMMENT ON COLUMN @extschema@.lead_features.status IS 'sales status of the lead';
COMMENT ON COLUMN @extschema@.lead_features.vals IS 'the features as a JSON object: channel, subject, grade, city_tier, age_band, stage (A-D), log_touches, log_response_hours, no_follow_up, and "tag <name>": 1 for each tag of the lead (grade and tags since 0.17)';
COMMENT ON COLUMN @extschema@.lead_features.converted IS 'the label: paid within org.conversion_days of coming in';
COMMENT ON COLUMN @extschema@.lead_features.label_known IS 'true once org.conversion_days have passed (as of org.report_as_of or now), so the label is final';
CREATE OR REPLACE VIEW @extschema@.lead_form_features WITH (security_invoker = true) AS
WITH prior AS (
  -- the touches before the form: a visitor's anonymous journey
  SELECT t.org_id, t.lead_id, count(*) AS n
    FROM @extschema@.touchpoint t
    JOIN @extschema@.lead x ON x.org_id = t.org_id AND x.lead_id = t.lead_id
   WHERE t.occurred_at < x.created_at
   GROUP BY t.org_id, t.lead_id
), paid AS (
  SELECT s.org_id, s.lead_id, min(s.paid_at) AS at FROM @extschema@.sales_order s
   WHERE s.status = 'paid' AND NOT s.is_renewal GROUP BY s.org_id, s.lead_id
), tags AS (
  -- the tags the lead had when its form arrived, "tag <name>": 1 (since 0.17)
  SELECT lt.org_id, lt.lead_id, jsonb_object_agg('tag ' || tg.name, 1) AS vals
    FROM @extschema@.lead_tag lt
    JOIN @extschema@.tag tg ON tg.org_id = lt.org_id AND tg.tag_id = lt.tag_id
    JOIN @extschema@.lead x ON x.org_id = lt.org_id AND x.lead_id = lt.lead_id
   WHERE lt.tagged_at <= x.created_at
   GROUP BY lt.org_id, lt.lead_id
)
SELECT l.org_id, l.lead_id, l.created_at, l.status,
       @extschema@.lead_form_vals(ch.code, cp.code, l.subject, l.city_tier, l.child_age, l.grade,
                                  l.created_at AT TIME ZONE o.timezone, l.attrs ->> 'variant', pr.n)
         || coalesce(tg.vals, '{}') AS vals,
       coalesce(p.at <= l.created_at + o.conversion_days * interval '1 day', false) AS converted,
       l.created_at + o.conversion_days * interval '1 day' <= coalesce(o.report_as_of, now()) AS label_known
  FROM @extschema@.lead l
  JOIN @extschema@.org o ON o.org_id = l.org_id
  JOIN @extschema@.channel ch ON ch.org_id = l.org_id AND ch.channel_id = l.first_channel_id
  LEFT JOIN @extschema@.campaign cp ON cp.org_id = l.org_id AND cp.campaign_id = l.first_campaign_id
  LEFT JOIN prior pr ON pr.org_id = l.org_id AND pr.lead_id = l.lead_id
  LEFT JOIN tags tg ON tg.org_id = l.org_id AND tg.lead_id = l.lead_id
  LEFT JOIN paid p ON p.org_id = l.org_id AND p.lead_id = l.lead_id;
COMMENT ON VIEW @extschema@.lead_form_features IS 'the form-time features of each lead (since 0.16): only what is known when its form arrives, which a form-stage conversion model learns from and ingest_lead scores; the label as in lead_features';
COMMENT ON COLUMN @extschema@.lead_form_features.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.lead_form_features.lead_id IS 'lead';
COMMENT ON COLUMN @extschema@.lead_form_features.created_at IS 'when the form arrived';
COMMENT ON COLUMN @extschema@.lead_form_features.status IS 'sales status of the lead';
COMMENT ON COLUMN @extschema@.lead_form_features.vals IS 'the features as a JSON object (lead_form_vals()): channel, campaign, subject, city_tier, age_band, grade, daypart, weekend, variant, log_prior_touches, and (since 0.17) "tag <name>": 1 for each tag the lead had when the form arrived';
COMMENT ON COLUMN @extschema@.lead_form_features.converted IS 'the label: paid within org.conversion_days of coming in';
COMMENT ON COLUMN @extschema@.lead_form_features.label_known IS 'true once org.conversion_days have passed (as of org.report_as_of or now), so the label is final';

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
$step$
END
$schema_ddl$;
COMMENT ON FUNCTION @extschema@.schema_ddl(text) IS 'the DDL install() runs: ''full'' for the whole schema, ''schema_version'' for its own record, or a version of schema_steps() for the step from the version before; NULL for anything else';

CREATE OR REPLACE FUNCTION @extschema@.train_conversion_model(org_id bigint, name text, trained_from timestamptz, trained_to timestamptz,
                                                   l2 float8 DEFAULT 1.0, kind text DEFAULT 'logreg',
                                                   stage text DEFAULT 'contact')
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET citus.allow_nested_distributed_execution = on
AS $$
DECLARE
  o record := @extschema@.ingest_org(train_conversion_model.org_id);
  enc jsonb;
  tables jsonb;
  test_from timestamptz;
  n_train bigint;
  n_test bigint;
  pos bigint;
  m @extschema@.logreg_model;
  ver integer;
  new_id bigint;
BEGIN
  IF name IS NULL OR trained_from IS NULL OR trained_to IS NULL OR l2 IS NULL OR kind IS NULL OR stage IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'train_conversion_model arguments must not be NULL';
  END IF;
  PERFORM @extschema@.check_length(name, 'name', 200, 1);
  IF kind NOT IN ('logreg', 'naive_bayes') THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('unknown model kind "%s"', left(kind, 40)), HINT = 'Use logreg or naive_bayes.';
  END IF;
  -- (since 0.16 a model of a stage: contact, or form for form-time features)
  PERFORM @extschema@.check_one_of(stage, '{contact,form}', 'model stage', 'stages');
  IF trained_to <= trained_from THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'trained_to must be after trained_from';
  END IF;
  IF to_regclass('pg_temp.lm_model_rows') IS NOT NULL THEN
    DROP TABLE pg_temp.lm_model_rows;
  END IF;
  CREATE TEMP TABLE lm_model_rows ON COMMIT DROP AS
    SELECT v.lead_id, v.created_at, v.vals, v.converted AS y
      FROM @extschema@.stage_feature_values(o.org_id, stage) v
     WHERE v.created_at >= trained_from AND v.created_at < trained_to AND v.label_known;
  -- the newest fifth of the leads, by creation time, is held out
  SELECT percentile_disc(0.8) WITHIN GROUP (ORDER BY r.created_at), count(*) FILTER (WHERE r.y), count(*)
    INTO test_from, pos, n_train FROM lm_model_rows r;
  IF n_train < 50 OR pos < 5 OR n_train - pos < 5 THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('too few leads to train on: %s leads, %s converted, between %s and %s with a known outcome', n_train, pos, trained_from, trained_to),
      HINT = 'Widen the range; a lead''s outcome is known once org.conversion_days have passed since it was created.';
  END IF;
  ALTER TABLE lm_model_rows ADD COLUMN train boolean;
  UPDATE lm_model_rows SET train = created_at < test_from;
  SELECT count(*) FILTER (WHERE train), count(*) FILTER (WHERE NOT train), count(*) FILTER (WHERE train AND y)
    INTO n_train, n_test, pos FROM lm_model_rows;
  IF n_train = 0 OR n_test = 0 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'the leads were all created at one time, so none can be held out for testing';
  END IF;

  -- encoding: the levels seen at least 5 times in training; the most frequent is the reference.
  -- A form model (since 0.16): every text value is a categorical field, every
  -- number a numeric one, by name
  IF stage = 'form' THEN
    WITH lv AS (
      SELECT f.key AS field, r.vals ->> f.key AS level, count(*) AS n,
             row_number() OVER (PARTITION BY f.key ORDER BY count(*) DESC, r.vals ->> f.key) AS rk
        FROM lm_model_rows r, jsonb_each(r.vals) f
       WHERE r.train AND jsonb_typeof(f.value) = 'string'
       GROUP BY 1, 2
    )
    SELECT jsonb_build_object('features',
             coalesce((SELECT jsonb_agg(jsonb_build_object('name', field || '=' || level, 'field', field, 'level', level) ORDER BY field, level)
                         FROM lv WHERE rk > 1 AND n >= 5), '[]')
             || coalesce((SELECT jsonb_agg(jsonb_build_object('name', k, 'field', k) ORDER BY k)
                            FROM (SELECT DISTINCT f.key AS k FROM lm_model_rows r, jsonb_each(r.vals) f
                                   WHERE r.train AND jsonb_typeof(f.value) = 'number') nk), '[]'))
      INTO enc;
  ELSE
  WITH lv AS (
    SELECT f.key AS field, r.vals ->> f.key AS level, count(*) AS n,
           row_number() OVER (PARTITION BY f.key ORDER BY count(*) DESC, r.vals ->> f.key) AS rk
      FROM lm_model_rows r, jsonb_each(r.vals) f
     WHERE r.train AND f.key IN ('channel', 'subject', 'city_tier', 'age_band', 'stage', 'grade')
     GROUP BY 1, 2
  )
  SELECT jsonb_build_object('features',
           coalesce((SELECT jsonb_agg(jsonb_build_object('name', field || '=' || level, 'field', field, 'level', level) ORDER BY field, level)
                       FROM lv WHERE rk > 1 AND n >= 5), '[]')
           || '[{"name": "log_touches", "field": "log_touches"},
                {"name": "log_response_hours", "field": "log_response_hours"},
                {"name": "no_follow_up", "field": "no_follow_up"}]'::jsonb
           -- grade (above) and each tag seen on at least 5 training leads (since 0.17)
           || coalesce((SELECT jsonb_agg(jsonb_build_object('name', k, 'field', k) ORDER BY k)
                          FROM (SELECT f.key AS k FROM lm_model_rows r, jsonb_each(r.vals) f
                                 WHERE r.train AND f.key LIKE 'tag %' AND jsonb_typeof(f.value) = 'number'
                                 GROUP BY f.key HAVING count(*) >= 5) tk), '[]'))
    INTO enc;
  END IF;
  ALTER TABLE lm_model_rows ADD COLUMN x float8[], ADD COLUMN p float8;
  UPDATE lm_model_rows SET x = @extschema@.model_features(enc, vals);

  IF kind = 'logreg' THEN
    IF to_regclass('pg_temp.lm_model_train') IS NOT NULL THEN
      DROP TABLE pg_temp.lm_model_train;
    END IF;
    CREATE TEMP TABLE lm_model_train ON COMMIT DROP AS SELECT y, x FROM lm_model_rows WHERE train;
    m := @extschema@.logreg_train('pg_temp.lm_model_train', 'y', 'x', 50, 1e-8, l2);
    UPDATE lm_model_rows SET p = @extschema@.logreg_predict_coef(m.coef, x);
  ELSE
    SELECT jsonb_build_object('classes', jsonb_build_array(count(*) FILTER (WHERE y), count(*) FILTER (WHERE NOT y)),
             'fields', (SELECT jsonb_object_agg(field, levels) FROM (
                          SELECT field, jsonb_object_agg(level, jsonb_build_array(won, lost)) AS levels
                            FROM (SELECT f.key AS field, r.vals ->> f.key AS level,
                                         count(*) FILTER (WHERE r.y) AS won, count(*) FILTER (WHERE NOT r.y) AS lost
                                    FROM lm_model_rows r, jsonb_each(r.vals) f
                                   WHERE r.train AND CASE WHEN stage = 'form' THEN jsonb_typeof(f.value) = 'string'
                                                          ELSE f.key IN ('channel', 'subject', 'city_tier', 'age_band', 'stage', 'grade') END
                                   GROUP BY 1, 2) c
                           GROUP BY field) t))
      INTO tables FROM lm_model_rows WHERE train;
    -- levels per field, for the Laplace smoothing
    tables := tables || jsonb_build_object('levels',
      (SELECT jsonb_object_agg(f.key, (SELECT count(*) FROM jsonb_object_keys(f.value))) FROM jsonb_each(tables -> 'fields') f));
    UPDATE lm_model_rows SET p = @extschema@.nb_predict(tables, vals);
  END IF;

  SELECT coalesce(max(cm.version), 0) + 1 INTO ver FROM @extschema@.conversion_model cm
   WHERE cm.org_id = o.org_id AND cm.name = train_conversion_model.name;
  IF kind = 'logreg' THEN
    UPDATE @extschema@.conversion_model cm SET active = false
     WHERE cm.org_id = o.org_id AND cm.active AND cm.stage = train_conversion_model.stage;
  END IF;
  INSERT INTO @extschema@.conversion_model
    (org_id, name, version, kind, active, trained_from, trained_to, test_from, conversion_days, encoding,
     coef, std_err, p_values, l2, iterations, converged, nb_tables,
     rows_train, rows_test, positives_train, auc_train, auc_test, log_loss_test, calibration_test, stage)
  SELECT o.org_id, train_conversion_model.name, ver, kind, kind = 'logreg', trained_from, trained_to, test_from, o.conversion_days, enc,
         m.coef, m.std_err, m.p_values, CASE WHEN kind = 'logreg' THEN l2 END, m.iterations, m.converged, tables,
         n_train, n_test, pos,
         (SELECT @extschema@.auc(r.p, r.y) FROM lm_model_rows r WHERE r.train),
         (SELECT @extschema@.auc(r.p, r.y) FROM lm_model_rows r WHERE NOT r.train),
         (SELECT @extschema@.log_loss(r.p, r.y) FROM lm_model_rows r WHERE NOT r.train),
         (SELECT to_jsonb(@extschema@.calibration(r.p, r.y, 10)) FROM lm_model_rows r WHERE NOT r.train),
         train_conversion_model.stage
  RETURNING model_id INTO new_id;
  DROP TABLE pg_temp.lm_model_rows;
  IF to_regclass('pg_temp.lm_model_train') IS NOT NULL THEN
    DROP TABLE pg_temp.lm_model_train;
  END IF;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION @extschema@.train_conversion_model(bigint, text, timestamptz, timestamptz, float8, text, text) IS 'trains a conversion model of a stage (contact: everything known of a lead, reps'' work included; form, since 0.16: only what is known when the form arrives, lead_form_features) on the org''s leads created in [trained_from, trained_to) whose outcome is known, holds out the newest fifth, evaluates it (AUC, log loss, calibration) and stores a new version; a logreg model becomes the active one of its stage';

CREATE OR REPLACE FUNCTION @extschema@.distribute(shard_count integer DEFAULT NULL) RETURNS text
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET client_min_messages = warning
AS $$
DECLARE
  pending name[];
  ready name[];
  t name;
  f regprocedure;
  v record;
  n_tables int := 0;
  n_functions int := 0;
  grant_support text;
  failed text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
    RAISE EXCEPTION USING ERRCODE = '55000', MESSAGE = 'citus is not installed in this database',
      HINT = 'leadmgmt.distribute() runs on a Citus coordinator, after CREATE EXTENSION citus and leadmgmt.install() (docs/dba/citus.md).';
  END IF;
  IF shard_count IS NOT NULL AND shard_count NOT BETWEEN 1 AND 64000 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('shard_count must be between 1 and 64000, not %s', shard_count);
  END IF;
  PERFORM @extschema@.require_schema();
  -- the triggers run on the shards, and touch only rows of the same org
  PERFORM set_config('citus.enable_unsafe_triggers', 'on', true);
  IF shard_count IS NOT NULL THEN
    PERFORM set_config('citus.shard_count', shard_count::text, true);
  END IF;

  -- schema_version belongs to no org: a copy on every node
  IF NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = '@extschema@.schema_version'::regclass) THEN
    EXECUTE 'SELECT create_reference_table(''@extschema@.schema_version'')';
  END IF;

  -- the tenant tables, each after the tables its foreign keys reference
  SELECT coalesce(array_agg(c.relname ORDER BY c.relname), '{}') INTO pending
    FROM pg_class c
   WHERE c.relnamespace = '@extschema@'::regnamespace AND c.relkind = 'r' AND c.relname <> 'schema_version'
     AND NOT EXISTS (SELECT 1 FROM pg_dist_partition p WHERE p.logicalrelid = c.oid);
  WHILE cardinality(pending) > 0 LOOP
    SELECT coalesce(array_agg(t2 ORDER BY t2), '{}') INTO ready
      FROM unnest(pending) AS t2
     WHERE NOT EXISTS (
             SELECT 1 FROM pg_constraint k JOIN pg_class r ON r.oid = k.confrelid
              WHERE k.conrelid = format('@extschema@.%I', t2)::regclass AND k.contype = 'f'
                AND r.relname <> t2 AND r.relname = ANY (pending));
    IF cardinality(ready) = 0 THEN
      RAISE EXCEPTION USING ERRCODE = '55000',
        MESSAGE = format('cannot order the distribution of %s by their foreign keys', array_to_string(pending, ', '));
    END IF;
    -- org first: every other table is colocated with it
    IF 'org' = ANY (ready) THEN
      ready := ARRAY['org']::name[];
    END IF;
    FOREACH t IN ARRAY ready LOOP
      IF t = 'org' THEN
        EXECUTE 'SELECT create_distributed_table(''@extschema@.org'', ''org_id'')';
      ELSE
        EXECUTE format('SELECT create_distributed_table(%L, ''org_id'', colocate_with => ''@extschema@.org'')',
                       format('@extschema@.%I', t));
      END IF;
      n_tables := n_tables + 1;
    END LOOP;
    pending := ARRAY(SELECT x FROM unnest(pending) x WHERE x <> ALL (ready));
  END LOOP;

  -- a view a schema step made over a table not yet distributed was created
  -- on this node only (Citus warns so): made again now that its tables are
  -- distributed, Citus creates it on every node (since 0.17), oldest first,
  -- so that a view over another view comes after it
  FOR v IN SELECT c.oid::regclass AS rel, pg_get_viewdef(c.oid) AS def, c.reloptions AS opts
             FROM pg_class c
            WHERE c.relnamespace = '@extschema@'::regnamespace AND c.relkind = 'v'
              AND NOT EXISTS (SELECT 1 FROM pg_dist_object o WHERE o.classid = 'pg_class'::regclass AND o.objid = c.oid)
            ORDER BY c.oid LOOP
    EXECUTE format('CREATE OR REPLACE VIEW %s%s AS %s', v.rel,
                   CASE WHEN v.opts IS NOT NULL THEN ' WITH (' || array_to_string(v.opts, ', ') || ')' ELSE '' END, v.def);
  END LOOP;

  -- the write functions that take the org first run where the org's shards are
  FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
            WHERE p.pronamespace = '@extschema@'::regnamespace AND p.prokind = 'f' AND p.provolatile = 'v'
              AND p.pronargs >= 1 AND p.proargtypes[0] = 'bigint'::regtype AND (p.proargnames)[1] = 'org_id'
              AND NOT EXISTS (SELECT 1 FROM pg_dist_object o
                               WHERE o.classid = 'pg_proc'::regclass AND o.objid = p.oid AND o.distribution_argument_index IS NOT NULL)
            ORDER BY 1 LOOP
    EXECUTE format('SELECT create_distributed_function(%L, ''org_id'', colocate_with => ''@extschema@.org'')', f::text);
    n_functions := n_functions + 1;
  END LOOP;
  -- Citus runs an aggregate over many shards as worker_partial_agg on the
  -- workers and coord_combine_agg on the coordinator, which check that the
  -- caller (not, as PostgreSQL does, the aggregate's owner) may execute its
  -- support functions: on a cluster they are PUBLIC's again, on every node
  -- (since 0.14; an extension's functions are not Citus objects, so their
  -- grants do not propagate).  Every state is checked when it is read.
  SELECT 'GRANT EXECUTE ON FUNCTION ' || string_agg(s.fn::text, ', ') || ' TO PUBLIC' INTO grant_support
    FROM @extschema@.aggregate_support_functions() AS s(fn);
  EXECUTE grant_support;
  SELECT string_agg(format('%s:%s: %s', w.nodename, w.nodeport, w.result), '; ') INTO failed
    FROM run_command_on_workers(grant_support) w WHERE NOT w.success;
  IF failed IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = '55000', MESSAGE = 'could not grant the aggregates'' support functions on every worker',
      DETAIL = failed;
  END IF;
  RETURN format('distributed %s tables by org_id and %s functions by their org_id', n_tables, n_functions);
END
$$;
REVOKE ALL ON FUNCTION @extschema@.distribute(integer) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.distribute(integer) IS 'on a Citus coordinator, after install(): distributes every tenant table by org_id in one colocation group with org (schema_version becomes a reference table) and delegates every write function taking org_id to the node that holds the org; makes again on every node the views a schema step created on this node only (since 0.17); grants EXECUTE on the aggregates'' support functions to PUBLIC on every node, since Citus checks the caller''s right to them (since 0.14; call it again after adding a node); idempotent; 55000 without Citus';

CREATE OR REPLACE FUNCTION @extschema@.install() RETURNS text
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET client_min_messages = warning
AS $$
DECLARE
  steps text[] := @extschema@.schema_steps();
  newest text := steps[cardinality(steps)];
  have text;
  done text[] := '{}';
  s text;
  distributed boolean;
BEGIN
  -- one install at a time in a database
  PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('leadmgmt.install'), 0);
  IF pg_catalog.to_regclass('@extschema@.schema_version') IS NULL THEN
    IF pg_catalog.to_regclass('@extschema@.org') IS NOT NULL THEN
      RAISE EXCEPTION USING ERRCODE = '55000',
        MESSAGE = 'leadmgmt''s tables exist but its schema_version table does not',
        DETAIL = 'install() cannot tell which steps of the schema they have.',
        HINT = 'Restore leadmgmt.schema_version with the rest of the dump, or drop the tables of the schema leadmgmt.';
    END IF;
    EXECUTE @extschema@.schema_ddl('full');
    EXECUTE @extschema@.schema_ddl('schema_version');
    INSERT INTO @extschema@.schema_version (version, how) VALUES (newest, 'full');
    PERFORM @extschema@.apply_policies();
    RETURN format('installed schema %s', newest);
  END IF;

  SELECT v.version INTO have FROM @extschema@.schema_version v
   ORDER BY pg_catalog.string_to_array(v.version, '.')::int[] DESC LIMIT 1;
  IF have IS NULL OR NOT have = ANY (steps) THEN
    RAISE EXCEPTION USING ERRCODE = '55000',
      MESSAGE = format('leadmgmt''s schema is at version %s, which this code (%s) does not know', coalesce(have, 'none'),
                       @extschema@.version()),
      HINT = 'Update the extension: ALTER EXTENSION leadmgmt UPDATE, then run leadmgmt.install() again.';
  END IF;
  FOREACH s IN ARRAY steps LOOP
    IF pg_catalog.string_to_array(s, '.')::int[] > pg_catalog.string_to_array(have, '.')::int[] THEN
      EXECUTE @extschema@.schema_ddl(s);
      INSERT INTO @extschema@.schema_version (version, how) VALUES (s, 'step');
      done := done || s;
    END IF;
  END LOOP;
  -- always: the policies of this code, and the group roles and privileges of
  -- every granted role (after a restore into a database of another name, the
  -- group roles of its grants do not exist yet: access.c)
  PERFORM @extschema@.apply_policies();
  PERFORM @extschema@.apply_privileges(r.oid::regrole)
     FROM (SELECT DISTINCT g.role_name FROM @extschema@.access_grant g) g
     JOIN pg_catalog.pg_roles r ON r.rolname = g.role_name;
  -- on a Citus cluster already distributed, what the steps added (tables,
  -- views over them, write functions) is distributed at once (since 0.17): a
  -- view over a new table would fail on the workers until distribute() runs
  IF cardinality(done) > 0 AND pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
    EXECUTE 'SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition WHERE logicalrelid = ''@extschema@.org''::regclass)' INTO distributed;
    IF distributed THEN
      PERFORM @extschema@.distribute();
    END IF;
  END IF;
  IF cardinality(done) = 0 THEN
    RETURN format('schema %s is up to date', have);
  END IF;
  RETURN format('updated schema %s to %s (steps %s)', have, newest, array_to_string(done, ', '));
END
$$;
REVOKE ALL ON FUNCTION @extschema@.install() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.install() IS 'creates leadmgmt''s tables, constraints, indexes, triggers and views (the whole schema in a new database), or applies the steps of the schema that are missing after ALTER EXTENSION leadmgmt UPDATE; then (re)applies the policies (apply_policies) and, in a database that has them, the group roles and privileges of every granted role; on a Citus cluster already distributed, distributes what the steps added (distribute(), since 0.17); safe to run again; returns what it did';
