-- leadmgmt 0.9 -> 0.10, built from src/sql/parts: sql fn:touch_kinds fn:event_types fn:follow_up_channels fn:follow_up_outcomes fn:check_one_of sql fn:ingest_check_attrs fn:ingest_lead fn:record_spend fn:grant_access fn:rep_load_sync fn:record_touch fn:record_event fn:rep_org fn:claim_lead fn:log_follow_up fn:tier_defaults view:effective_tier_policy view:funnel_report view:renewal_rate view:refund_rate view:channel_roi fn:version

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION leadmgmt UPDATE TO '0.10'" to load this file. \quit

-- every C function's symbol is now leadmgmt_ + its SQL name (the old symbols
-- stay in the library as aliases, for installing older versions)
DO $symbols$
DECLARE
  f record;
BEGIN
  FOR f IN SELECT p.oid, p.proname, p.prosrc
             FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_language l ON l.oid = p.prolang
            WHERE p.pronamespace = '@extschema@'::regnamespace AND l.lanname = 'c'
              AND p.prosrc <> 'leadmgmt_' || p.proname
  LOOP
    EXECUTE replace(pg_catalog.pg_get_functiondef(f.oid), '$function$' || f.prosrc || '$function$',
                    '$function$leadmgmt_' || f.proname || '$function$');
  END LOOP;
END
$symbols$;

CREATE OR REPLACE FUNCTION @extschema@.touch_kinds() RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT '{impression,ad_click,visit,form,call,message,referral,offline}'::text[] $$;
COMMENT ON FUNCTION @extschema@.touch_kinds() IS 'the kinds of touchpoint: impression, ad_click, visit, form, call, message, referral, offline';

CREATE OR REPLACE FUNCTION @extschema@.event_types() RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT '{form_submitted,sms_verified,wechat_followed,trial_booked,trial_attended,paid,refunded,renewed,referred,unsubscribed,lost}'::text[] $$;
COMMENT ON FUNCTION @extschema@.event_types() IS 'the types of lead event: form_submitted, sms_verified, wechat_followed, trial_booked, trial_attended, paid, refunded, renewed, referred, unsubscribed, lost';

CREATE OR REPLACE FUNCTION @extschema@.follow_up_channels() RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT '{call,sms,wechat,ai_call,visit,email}'::text[] $$;
COMMENT ON FUNCTION @extschema@.follow_up_channels() IS 'the channels of a follow-up: call, sms, wechat, ai_call, visit, email';

CREATE OR REPLACE FUNCTION @extschema@.follow_up_outcomes() RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT '{connected,no_answer,busy,refused,interested,not_interested,trial_booked,wrong_number,sent}'::text[] $$;
COMMENT ON FUNCTION @extschema@.follow_up_outcomes() IS 'the outcomes of a follow-up: connected, no_answer, busy, refused, interested, not_interested, trial_booked, wrong_number, sent';

CREATE OR REPLACE FUNCTION @extschema@.check_one_of(val text, valid text[], what text, plural text) RETURNS void
LANGUAGE plpgsql IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF val IS NULL OR NOT coalesce(val = ANY (valid), false) THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('invalid %s "%s"', what, val),
      HINT = format('Valid %s: %s.', plural, array_to_string(valid, ', '));
  END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.check_one_of(text, text[], text, text) IS 'raises 22023 (invalid WHAT "val", with the valid values as hint) unless val is one of valid';

-- the vocabularies are read from one place (touch_kinds() and the others)
ALTER TABLE @extschema@.touchpoint DROP CONSTRAINT touchpoint_kind_check,
  ADD CONSTRAINT touchpoint_kind_check CHECK (kind = ANY (@extschema@.touch_kinds()));
ALTER TABLE @extschema@.lead_event DROP CONSTRAINT lead_event_event_type_check,
  ADD CONSTRAINT lead_event_event_type_check CHECK (event_type = ANY (@extschema@.event_types()));
ALTER TABLE @extschema@.follow_up DROP CONSTRAINT follow_up_channel_check,
  ADD CONSTRAINT follow_up_channel_check CHECK (channel = ANY (@extschema@.follow_up_channels())),
  DROP CONSTRAINT follow_up_outcome_check,
  ADD CONSTRAINT follow_up_outcome_check CHECK (outcome = ANY (@extschema@.follow_up_outcomes()));

CREATE OR REPLACE FUNCTION @extschema@.ingest_check_attrs(attrs jsonb) RETURNS void
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF jsonb_typeof(attrs) <> 'object' THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'attrs must be a JSON object',
      DETAIL = format('got a JSON %s', jsonb_typeof(attrs));
  END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.ingest_check_attrs(jsonb) IS 'raises 22023 unless the attrs of an ingestion call are a JSON object';

CREATE OR REPLACE FUNCTION @extschema@.ingest_lead(org_id bigint, phone text, channel text, campaign text,
                                        occurred_at timestamptz, attrs jsonb DEFAULT '{}')
RETURNS TABLE (lead_id bigint, is_new boolean)
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  o @extschema@.org := @extschema@.ingest_org(ingest_lead.org_id);
  a jsonb := coalesce(ingest_lead.attrs, '{}');
  ts timestamptz := ingest_lead.occurred_at;
  e164 text;
  ch bigint;
  cp bigint;
  v_name text; v_age smallint; v_grade smallint; v_subject text; v_city text; v_tier smallint; v_visitor text;
  v_lead bigint;
  v_new boolean;
BEGIN
  PERFORM @extschema@.ingest_check_time(o, ts, 'occurred_at');
  PERFORM @extschema@.ingest_check_attrs(a);
  IF length(ingest_lead.phone) > 64 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'phone is longer than 64 characters';
  END IF;
  v_name    := @extschema@.ingest_attr(a, 'name', 'string');
  v_age     := @extschema@.ingest_attr(a, 'child_age', 'int', 1, 18);
  v_grade   := @extschema@.ingest_attr(a, 'grade', 'int', 0, 12);
  v_subject := @extschema@.ingest_attr(a, 'subject', 'string');
  v_city    := @extschema@.ingest_attr(a, 'city', 'string');
  v_tier    := @extschema@.ingest_attr(a, 'city_tier', 'int', 1, 5);
  v_visitor := @extschema@.ingest_attr(a, 'visitor_id', 'string');
  a := a - '{name,child_age,grade,subject,city,city_tier,visitor_id}'::text[];

  ch := @extschema@.channel_id_of(o, ingest_lead.channel);
  cp := @extschema@.campaign_id_of(o, ch, ingest_lead.campaign);
  e164 := @extschema@.normalize_phone(ingest_lead.phone);

  IF e164 IS NULL THEN
    -- invalid or missing phone: kept, flagged by phone_valid = false, never de-duplicated
    INSERT INTO @extschema@.lead (org_id, phone_raw, name, child_age, grade, subject, city, city_tier, visitor_id,
                                  first_channel_id, first_campaign_id, latest_channel_id, latest_campaign_id,
                                  created_at, last_touch_at, attrs)
    VALUES (o.org_id, ingest_lead.phone, v_name, v_age, v_grade, v_subject, v_city, v_tier, v_visitor,
            ch, cp, ch, cp, ts, ts, a)
    RETURNING lead_id INTO v_lead;
    v_new := true;
  ELSE
    -- 撞单 protection: one lead per phone; a repeat fills blanks and moves the
    -- latest (or, for late data, the first) touch, but never changes the owner
    INSERT INTO @extschema@.lead AS l (org_id, phone_raw, phone, name, child_age, grade, subject, city, city_tier,
                                       visitor_id, first_channel_id, first_campaign_id, latest_channel_id,
                                       latest_campaign_id, created_at, last_touch_at, attrs)
    VALUES (o.org_id, ingest_lead.phone, e164, v_name, v_age, v_grade, v_subject, v_city, v_tier, v_visitor,
            ch, cp, ch, cp, ts, ts, a)
    ON CONFLICT (org_id, phone) DO UPDATE SET
      name       = coalesce(l.name, EXCLUDED.name),
      child_age  = coalesce(l.child_age, EXCLUDED.child_age),
      grade      = coalesce(l.grade, EXCLUDED.grade),
      subject    = coalesce(l.subject, EXCLUDED.subject),
      city       = coalesce(l.city, EXCLUDED.city),
      city_tier  = coalesce(l.city_tier, EXCLUDED.city_tier),
      visitor_id = coalesce(l.visitor_id, EXCLUDED.visitor_id),
      attrs      = EXCLUDED.attrs || l.attrs,
      first_channel_id   = CASE WHEN EXCLUDED.created_at < l.created_at THEN EXCLUDED.first_channel_id ELSE l.first_channel_id END,
      first_campaign_id  = CASE WHEN EXCLUDED.created_at < l.created_at THEN EXCLUDED.first_campaign_id ELSE l.first_campaign_id END,
      created_at         = least(l.created_at, EXCLUDED.created_at),
      latest_channel_id  = CASE WHEN EXCLUDED.last_touch_at >= l.last_touch_at THEN EXCLUDED.latest_channel_id ELSE l.latest_channel_id END,
      latest_campaign_id = CASE WHEN EXCLUDED.last_touch_at >= l.last_touch_at THEN EXCLUDED.latest_campaign_id ELSE l.latest_campaign_id END,
      last_touch_at      = greatest(l.last_touch_at, EXCLUDED.last_touch_at),
      updated_at = EXCLUDED.updated_at  -- its default, now(): no function here (Citus refuses one)
    -- xmax is 0 exactly for a freshly inserted row, not for one taken by ON CONFLICT
    RETURNING l.lead_id, (l.xmax = 0) INTO v_lead, v_new;
  END IF;

  INSERT INTO @extschema@.touchpoint (org_id, lead_id, visitor_id, channel_id, campaign_id, kind, occurred_at)
  VALUES (o.org_id, v_lead, v_visitor, ch, cp, 'form', ts);
  INSERT INTO @extschema@.lead_event (org_id, lead_id, event_type, occurred_at, channel_id, attrs)
  VALUES (o.org_id, v_lead, 'form_submitted', ts, ch, a);

  lead_id := v_lead;
  is_new := v_new;
  RETURN NEXT;
END
$$;
COMMENT ON FUNCTION @extschema@.ingest_lead(bigint, text, text, text, timestamptz, jsonb) IS 'ingests a landing-page submission: one lead per valid phone per org (a repeat adds a touchpoint and a form_submitted event but never a second lead nor a new owner); returns the lead and whether it is new';

CREATE OR REPLACE FUNCTION @extschema@.record_spend(org_id bigint, day date, channel text, campaign text,
                                         spend numeric, impressions bigint DEFAULT 0, clicks bigint DEFAULT 0)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  o @extschema@.org := @extschema@.ingest_org(record_spend.org_id);
  ch bigint;
  cp bigint;
  new_id bigint;
BEGIN
  IF record_spend.day IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'day must not be null';
  END IF;
  IF record_spend.day > ((now() + o.future_tolerance) AT TIME ZONE o.timezone)::date
     OR record_spend.day = 'infinity'::date OR record_spend.day = '-infinity'::date THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('day %s is in the future', record_spend.day),
      HINT = 'Spend can be loaded for today and earlier days in the org time zone.';
  END IF;
  IF record_spend.spend IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'spend must not be null';
  END IF;
  IF record_spend.spend = 'NaN'::numeric OR record_spend.spend < 0 THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('spend must be zero or more, got %s', record_spend.spend);
  END IF;
  IF coalesce(record_spend.impressions, 0) < 0 OR coalesce(record_spend.clicks, 0) < 0 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'impressions and clicks must be zero or more';
  END IF;
  ch := @extschema@.channel_id_of(o, record_spend.channel);
  cp := @extschema@.campaign_id_of(o, ch, record_spend.campaign);
  INSERT INTO @extschema@.ad_spend AS s (org_id, spend_date, channel_id, campaign_id, spend, impressions, clicks)
  VALUES (o.org_id, record_spend.day, ch, cp, record_spend.spend,
          coalesce(record_spend.impressions, 0), coalesce(record_spend.clicks, 0))
  ON CONFLICT (org_id, spend_date, channel_id, (coalesce(campaign_id, 0))) DO UPDATE SET
    spend = EXCLUDED.spend, impressions = EXCLUDED.impressions, clicks = EXCLUDED.clicks,
    revision = s.revision + 1, loaded_at = EXCLUDED.loaded_at  -- its default, now()
  RETURNING ad_spend_id INTO new_id;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION @extschema@.record_spend(bigint, date, text, text, numeric, bigint, bigint) IS 'loads one day of ad spend for a channel and campaign as an idempotent upsert: loading a revised day again leaves one row with the new values';

CREATE OR REPLACE FUNCTION @extschema@.grant_access(role regrole, org_id bigint, access text, rep_id bigint DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF role IS NULL OR org_id IS NULL OR access IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'role, org_id and access must not be null';
  END IF;
  IF access NOT IN ('reporting', 'app', 'sales', 'admin') THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('invalid access kind "%s"', access),
      HINT = 'Valid kinds: reporting, app, sales, admin.';
  END IF;
  IF (access = 'sales') <> (rep_id IS NOT NULL) THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = 'rep_id must be given for sales access, and only for it';
  END IF;
  PERFORM @extschema@.ingest_org(grant_access.org_id);
  IF rep_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM @extschema@.sales_rep r
                                         WHERE r.org_id = grant_access.org_id AND r.rep_id = grant_access.rep_id) THEN
    RAISE EXCEPTION USING ERRCODE = '23503', MESSAGE = format('unknown sales rep %s in org %s', rep_id, org_id);
  END IF;
  INSERT INTO @extschema@.access_grant AS g (org_id, role_name, access, rep_id)
  VALUES (grant_access.org_id, (SELECT rolname FROM pg_roles WHERE oid = role), access, rep_id)
  ON CONFLICT ON CONSTRAINT access_grant_pkey DO UPDATE SET rep_id = EXCLUDED.rep_id, granted_at = EXCLUDED.granted_at;
  PERFORM @extschema@.apply_privileges(role);
END
$$;
REVOKE ALL ON FUNCTION @extschema@.grant_access(regrole, bigint, text, bigint) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.grant_access(regrole, bigint, text, bigint) IS 'lets a role act for an org with reporting, app, sales (as rep_id) or admin access; the cluster role itself must already exist';

CREATE OR REPLACE FUNCTION @extschema@.rep_load_sync(o @extschema@.org, at timestamptz) RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
  -- journal rows this snapshot sees (settled, or this transaction's) and
  -- reps without a row (new, or after a restore) in one statement: the
  -- picks it folds are exactly those whose leads it counts for the new rows.
  -- Picks still in flight stay in the journal.
  IF EXISTS (SELECT 1 FROM @extschema@.assign_pick p WHERE p.org_id = o.org_id)
     OR EXISTS (SELECT 1 FROM @extschema@.sales_rep r WHERE r.org_id = o.org_id
                   AND NOT EXISTS (SELECT 1 FROM @extschema@.rep_load z WHERE z.org_id = r.org_id AND z.rep_id = r.rep_id)) THEN
    WITH picks AS (
      DELETE FROM @extschema@.assign_pick p WHERE p.org_id = o.org_id
      RETURNING p.pick_no, p.day, p.at, p.rep_ids, p.current_delta, p.last_picks, p.taken
    ), part AS (
      SELECT u.rep_id, u.cur, u.last, u.taken, k.day, k.at
        FROM picks k, unnest(k.rep_ids, k.current_delta, k.last_picks, k.taken) AS u(rep_id, cur, last, taken)
    ), per_day AS (
      SELECT part.rep_id, part.day, sum(part.taken)::integer AS taken, max(part.at) AS last_at
        FROM part WHERE part.taken > 0 GROUP BY part.rep_id, part.day
    ), per_rep AS (
      SELECT d.rep_id, sum(d.taken)::integer AS taken, max(d.day) AS day,
             (array_agg(d.taken ORDER BY d.day DESC))[1] AS taken_on_day, max(d.last_at) AS last_at
        FROM per_day d GROUP BY d.rep_id
    ), rotation AS (
      INSERT INTO @extschema@.assign_rotation AS r (org_id, rep_ids, current_weights, last_picks, picks)
      SELECT o.org_id, array_agg(m.rep_id ORDER BY m.rep_id), array_agg(m.cur ORDER BY m.rep_id),
             array_agg(m.last ORDER BY m.rep_id),
             greatest((SELECT max(k.pick_no) FROM picks k),
                      (SELECT ar.picks FROM @extschema@.assign_rotation ar WHERE ar.org_id = o.org_id))
        FROM (SELECT coalesce(b.rep_id, d.rep_id) AS rep_id, coalesce(b.cur, 0) + coalesce(d.cur, 0) AS cur,
                     greatest(b.last, d.last, 0) AS last
                FROM (SELECT u.rep_id, u.cur, u.last FROM @extschema@.assign_rotation ar,
                             unnest(ar.rep_ids, ar.current_weights, ar.last_picks) AS u(rep_id, cur, last)
                       WHERE ar.org_id = o.org_id) b
                FULL JOIN (SELECT part.rep_id, sum(part.cur) AS cur, max(part.last) AS last
                             FROM part GROUP BY part.rep_id) d ON d.rep_id = b.rep_id) m
      HAVING EXISTS (SELECT 1 FROM picks)
      ON CONFLICT (org_id) DO UPDATE
        SET rep_ids = excluded.rep_ids, current_weights = excluded.current_weights,
            last_picks = excluded.last_picks, picks = excluded.picks, updated_at = excluded.updated_at
    ), counters AS (
      UPDATE @extschema@.rep_load l
         SET open_leads = l.open_leads + s.taken,
             assigned_today = CASE WHEN s.day > l.counted_day THEN s.taken_on_day
                                   WHEN s.day = l.counted_day THEN l.assigned_today + s.taken_on_day
                                   ELSE l.assigned_today END,
             claimed_today = CASE WHEN s.day > l.counted_day THEN 0 ELSE l.claimed_today END,
             counted_day = greatest(l.counted_day, s.day),
             last_assigned_at = greatest(l.last_assigned_at, s.last_at)
        FROM per_rep s WHERE l.org_id = o.org_id AND l.rep_id = s.rep_id
    ), gone AS (
      -- the changes of reps without a row: the count below includes them
      DELETE FROM @extschema@.rep_load_change c WHERE c.org_id = o.org_id
         AND NOT EXISTS (SELECT 1 FROM @extschema@.rep_load z WHERE z.org_id = c.org_id AND z.rep_id = c.rep_id)
    )
    INSERT INTO @extschema@.rep_load AS l (org_id, rep_id, open_leads, counted_day, assigned_today, claimed_today, last_assigned_at)
    SELECT r.org_id, r.rep_id,
           (SELECT count(*) FROM @extschema@.lead x
             WHERE x.org_id = r.org_id AND x.owner_rep_id = r.rep_id AND x.status NOT IN ('won', 'lost')),
           t.today, coalesce(a.assigned, 0), coalesce(a.claimed, 0), a.last_at
      -- the reps without a row first (OFFSET 0 keeps the planner from
      -- counting the assignments of every rep before it filters)
      FROM (SELECT r.org_id, r.rep_id FROM @extschema@.sales_rep r
             WHERE r.org_id = o.org_id
               AND NOT EXISTS (SELECT 1 FROM @extschema@.rep_load z WHERE z.org_id = r.org_id AND z.rep_id = r.rep_id)
            OFFSET 0) r
      CROSS JOIN (SELECT (at AT TIME ZONE o.timezone)::date AS today) t
      LEFT JOIN LATERAL (
        SELECT count(*) FILTER (WHERE y.reason IN ('round_robin', 'least_busy')
                                  AND y.assigned_at >= t.today::timestamp AT TIME ZONE o.timezone) AS assigned,
               count(*) FILTER (WHERE y.reason = 'claim'
                                  AND y.assigned_at >= t.today::timestamp AT TIME ZONE o.timezone) AS claimed,
               max(y.assigned_at) AS last_at
          FROM @extschema@.assignment y WHERE y.org_id = r.org_id AND y.rep_id = r.rep_id) a ON true;
  END IF;
  -- changes made outside the engine since the last call
  IF EXISTS (SELECT 1 FROM @extschema@.rep_load_change c WHERE c.org_id = o.org_id) THEN
    WITH d AS (
      DELETE FROM @extschema@.rep_load_change c WHERE c.org_id = o.org_id RETURNING c.rep_id, c.delta
    )
    UPDATE @extschema@.rep_load l SET open_leads = greatest(l.open_leads + s.delta, 0)
      FROM (SELECT d.rep_id, sum(d.delta)::integer AS delta FROM d GROUP BY d.rep_id) s
     WHERE l.org_id = o.org_id AND l.rep_id = s.rep_id;
  END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.rep_load_sync(@extschema@.org, timestamptz) IS 'under the assignment lock, which the caller then keeps until commit: folds the settled assign_pick rows into assign_rotation and rep_load, builds missing rep_load rows from lead and assignment, and folds rep_load_change';

CREATE OR REPLACE FUNCTION @extschema@.record_touch(org_id bigint, lead_id bigint, channel text, campaign text,
                                         occurred_at timestamptz, kind text DEFAULT 'visit',
                                         visitor_id text DEFAULT NULL, attrs jsonb DEFAULT '{}')
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  o @extschema@.org := @extschema@.ingest_org(record_touch.org_id);
  a jsonb := coalesce(record_touch.attrs, '{}');
  ch bigint;
  new_id bigint;
BEGIN
  PERFORM @extschema@.ingest_check_time(o, record_touch.occurred_at, 'occurred_at');
  PERFORM @extschema@.check_one_of(record_touch.kind, @extschema@.touch_kinds(), 'touch kind', 'kinds');
  PERFORM @extschema@.ingest_check_attrs(a);
  IF record_touch.lead_id IS NULL AND record_touch.visitor_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'a touch needs a lead_id or a visitor_id';
  END IF;
  IF record_touch.lead_id IS NOT NULL THEN
    PERFORM @extschema@.lead_of(o, record_touch.lead_id);
  END IF;
  ch := @extschema@.channel_id_of(o, record_touch.channel);
  INSERT INTO @extschema@.touchpoint (org_id, lead_id, visitor_id, channel_id, campaign_id, kind, occurred_at, attrs)
  VALUES (o.org_id, record_touch.lead_id, record_touch.visitor_id, ch,
          @extschema@.campaign_id_of(o, ch, record_touch.campaign), record_touch.kind, record_touch.occurred_at, a)
  RETURNING touchpoint_id INTO new_id;
  IF record_touch.lead_id IS NOT NULL THEN
    UPDATE @extschema@.lead l SET last_touch_at = record_touch.occurred_at, updated_at = now()
     WHERE l.org_id = o.org_id AND l.lead_id = record_touch.lead_id AND l.last_touch_at < record_touch.occurred_at;
  END IF;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION @extschema@.record_touch(bigint, bigint, text, text, timestamptz, text, text, jsonb) IS 'records a contact of a lead (or an anonymous visitor) with a channel and campaign, for attribution; returns the touchpoint id';

CREATE OR REPLACE FUNCTION @extschema@.record_event(org_id bigint, lead_id bigint, event_type text,
                                         occurred_at timestamptz, attrs jsonb DEFAULT '{}',
                                         channel text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  o @extschema@.org := @extschema@.ingest_org(record_event.org_id);
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
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION @extschema@.record_event(bigint, bigint, text, timestamptz, jsonb, text) IS 'records a funnel event of a lead (sms_verified, trial_booked, paid, ...); returns the event id';

CREATE OR REPLACE FUNCTION @extschema@.rep_org(org_id bigint, rep_id bigint) RETURNS @extschema@.org
LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  PERFORM @extschema@.check_rep_access(rep_org.org_id, rep_org.rep_id);
  RETURN @extschema@.ingest_org(rep_org.org_id);
END
$$;
COMMENT ON FUNCTION @extschema@.rep_org(bigint, bigint) IS 'the org of a call made for a rep: raises 42501 unless the caller may act as the rep (check_rep_access), 22004 or 23503 unless the org exists (ingest_org)';

CREATE OR REPLACE FUNCTION @extschema@.claim_lead(org_id bigint, lead_id bigint, rep_id bigint, at timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  t timestamptz := coalesce(claim_lead.at, now());
  o @extschema@.org;
  r @extschema@.sales_rep;
  l record;
  ld @extschema@.rep_load;
  open_now integer;
  today date;
  cooling bigint;
  last_release timestamptz;
  claimed integer;
  new_id bigint;
BEGIN
  IF claim_lead.org_id IS NULL OR claim_lead.lead_id IS NULL OR claim_lead.rep_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'org_id, lead_id and rep_id must not be null';
  END IF;
  IF t IN ('infinity', '-infinity') THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'at must be finite';
  END IF;
  o := @extschema@.rep_org(claim_lead.org_id, claim_lead.rep_id);
  today := (t AT TIME ZONE o.timezone)::date;
  SELECT * INTO r FROM @extschema@.sales_rep x WHERE x.org_id = o.org_id AND x.rep_id = claim_lead.rep_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = '23503', MESSAGE = format('unknown sales rep %s in org %s', claim_lead.rep_id, o.org_id);
  END IF;
  IF NOT r.active THEN
    RAISE EXCEPTION USING ERRCODE = '55000', MESSAGE = format('rep %s is inactive and cannot claim leads', r.rep_id);
  END IF;
  SELECT x.pool, x.owner_rep_id, coalesce(x.tier, 'D') AS tier, x.status INTO l
    FROM @extschema@.lead x WHERE x.org_id = o.org_id AND x.lead_id = claim_lead.lead_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = '23503', MESSAGE = format('unknown lead %s in org %s', claim_lead.lead_id, o.org_id);
  END IF;
  IF l.pool <> 'public' THEN
    RAISE EXCEPTION USING ERRCODE = '55000',
      MESSAGE = format('lead %s is not in the public pool', claim_lead.lead_id),
      DETAIL = CASE WHEN l.owner_rep_id = r.rep_id THEN format('Rep %s owns it already.', r.rep_id)
                    ELSE format('It is in the private pool of rep %s (撞单 protection).', l.owner_rep_id) END;
  END IF;
  IF NOT l.tier = ANY (r.tiers) THEN
    RAISE EXCEPTION USING ERRCODE = '55000',
      MESSAGE = format('rep %s does not take tier %s leads', r.rep_id, l.tier),
      HINT = format('The rep takes tiers %s (sales_rep.tiers).', array_to_string(r.tiers, ', '));
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended('leadmgmt.assign', o.org_id));
  cooling := @extschema@.cooling_rep(o, claim_lead.lead_id, t);
  IF cooling = r.rep_id THEN
    SELECT max(a.released_at) INTO last_release FROM @extschema@.assignment a
     WHERE a.org_id = o.org_id AND a.lead_id = claim_lead.lead_id AND a.rep_id = r.rep_id;
    RAISE EXCEPTION USING ERRCODE = '55000',
      MESSAGE = format('rep %s lost lead %s less than %s ago and may not claim it back yet', r.rep_id, claim_lead.lead_id, o.reclaim_cooldown),
      DETAIL = format('Released at %s; the cool-down ends at %s.', last_release, last_release + o.reclaim_cooldown),
      HINT = 'The cool-down is org.reclaim_cooldown.';
  END IF;
  PERFORM @extschema@.rep_load_sync(o, t);
  SELECT * INTO ld FROM @extschema@.rep_load x WHERE x.org_id = o.org_id AND x.rep_id = r.rep_id;
  -- open leads with the assignments still in flight
  open_now := (@extschema@.engine_load(o.org_id, today, r.rep_id)).open_leads;
  IF open_now >= r.holding_cap THEN
    RAISE EXCEPTION USING ERRCODE = '53400',
      MESSAGE = format('rep %s holds %s open leads, its holding cap', r.rep_id, open_now),
      HINT = 'Release a lead, or raise sales_rep.holding_cap.';
  END IF;
  claimed := CASE WHEN ld.counted_day = today THEN ld.claimed_today ELSE 0 END;
  IF claimed >= r.daily_claim_cap THEN
    RAISE EXCEPTION USING ERRCODE = '53400',
      MESSAGE = format('rep %s has claimed %s leads today, its daily claim cap', r.rep_id, claimed),
      HINT = 'Claim again tomorrow, or raise sales_rep.daily_claim_cap.';
  END IF;
  PERFORM set_config('leadmgmt.engine_update', 'on', true);
  UPDATE @extschema@.lead x SET pool = 'private', owner_rep_id = r.rep_id, owned_since = t, updated_at = now()
   WHERE x.org_id = o.org_id AND x.lead_id = claim_lead.lead_id;
  PERFORM set_config('leadmgmt.engine_update', 'off', true);
  INSERT INTO @extschema@.assignment (org_id, lead_id, rep_id, assigned_at, reason)
  VALUES (o.org_id, claim_lead.lead_id, r.rep_id, t, 'claim') RETURNING assignment_id INTO new_id;
  UPDATE @extschema@.rep_load x
     SET open_leads = x.open_leads + (l.status NOT IN ('won', 'lost'))::int,
         claimed_today = claimed + 1,
         assigned_today = CASE WHEN x.counted_day = today THEN x.assigned_today ELSE 0 END,
         counted_day = today, last_assigned_at = t
   WHERE x.org_id = o.org_id AND x.rep_id = r.rep_id;
  RETURN new_id;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.claim_lead(bigint, bigint, bigint, timestamptz) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.claim_lead(bigint, bigint, bigint, timestamptz) IS 'a rep claims a public-pool lead into its private pool; refused with its own error when the lead is owned (55000), the rep is inactive or not skilled for the tier (55000), lost the lead within the cool-down (55000), or is at its holding cap or daily claim cap (53400); returns the assignment id';

CREATE OR REPLACE FUNCTION @extschema@.log_follow_up(org_id bigint, lead_id bigint, rep_id bigint, channel text, outcome text,
                                         cost numeric DEFAULT NULL, occurred_at timestamptz DEFAULT NULL,
                                         duration_s integer DEFAULT NULL, note text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  t timestamptz := coalesce(log_follow_up.occurred_at, now());
  o @extschema@.org;
  l record;
  c numeric(14,2);
  new_id bigint;
BEGIN
  IF log_follow_up.org_id IS NULL OR log_follow_up.lead_id IS NULL OR log_follow_up.rep_id IS NULL
     OR log_follow_up.channel IS NULL OR log_follow_up.outcome IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'org_id, lead_id, rep_id, channel and outcome must not be null';
  END IF;
  o := @extschema@.rep_org(log_follow_up.org_id, log_follow_up.rep_id);
  PERFORM @extschema@.check_one_of(log_follow_up.channel, @extschema@.follow_up_channels(), 'follow-up channel', 'channels');
  PERFORM @extschema@.check_one_of(log_follow_up.outcome, @extschema@.follow_up_outcomes(), 'follow-up outcome', 'outcomes');
  IF log_follow_up.cost < 0 OR log_follow_up.cost = 'NaN' OR log_follow_up.duration_s < 0 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'cost and duration_s must not be negative';
  END IF;
  PERFORM @extschema@.ingest_check_time(o, t, 'occurred_at');
  SELECT x.owner_rep_id, coalesce(x.tier, 'D') AS tier, x.status, x.owned_since INTO l
    FROM @extschema@.lead x WHERE x.org_id = o.org_id AND x.lead_id = log_follow_up.lead_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = '23503', MESSAGE = format('unknown lead %s in org %s', log_follow_up.lead_id, o.org_id);
  END IF;
  IF l.owner_rep_id IS DISTINCT FROM log_follow_up.rep_id THEN
    RAISE EXCEPTION USING ERRCODE = '55000',
      MESSAGE = format('lead %s is not owned by rep %s', log_follow_up.lead_id, log_follow_up.rep_id),
      HINT = 'A rep follows up its own leads; claim the lead or have it assigned first.';
  END IF;
  c := coalesce(log_follow_up.cost, (SELECT p.cost_per_contact FROM @extschema@.effective_tier_policy p
                                      WHERE p.org_id = o.org_id AND p.tier = l.tier));
  INSERT INTO @extschema@.follow_up (org_id, lead_id, rep_id, channel, outcome, cost, duration_s, occurred_at, note)
  VALUES (o.org_id, log_follow_up.lead_id, log_follow_up.rep_id, log_follow_up.channel, log_follow_up.outcome,
          c, log_follow_up.duration_s, t, log_follow_up.note)
  RETURNING follow_up_id INTO new_id;
  IF l.status = 'new' THEN
    UPDATE @extschema@.lead x SET status = 'contacting', updated_at = now()
     WHERE x.org_id = o.org_id AND x.lead_id = log_follow_up.lead_id;
  END IF;
  RETURN new_id;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.log_follow_up(bigint, bigint, bigint, text, text, numeric, timestamptz, integer, text) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.log_follow_up(bigint, bigint, bigint, text, text, numeric, timestamptz, integer, text) IS 'records a call, SMS, WeChat or other contact of a rep with a lead it owns, with its outcome and cost (default: the tier policy''s cost per contact); a new lead becomes contacting; returns the follow-up id';

CREATE OR REPLACE FUNCTION @extschema@.tier_defaults()
RETURNS TABLE (tier char(1), handler_role text, cost_per_contact numeric, follow_up_sla interval, min_score float8)
AS 'MODULE_PATHNAME', 'leadmgmt_tier_defaults' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 4;
COMMENT ON FUNCTION @extschema@.tier_defaults() IS 'the default tier policy, tiers A to D: handler role, cost per contact, follow-up SLA and least score; an org''s tier_policy rows override it';

CREATE OR REPLACE VIEW @extschema@.effective_tier_policy WITH (security_invoker = true) AS
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

CREATE OR REPLACE VIEW @extschema@.funnel_report WITH (security_invoker = true) AS
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

CREATE OR REPLACE VIEW @extschema@.renewal_rate WITH (security_invoker = true) AS
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

CREATE OR REPLACE VIEW @extschema@.refund_rate WITH (security_invoker = true) AS
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

CREATE OR REPLACE VIEW @extschema@.channel_roi WITH (security_invoker = true) AS
WITH o AS (
  SELECT org.org_id, org.timezone, org.attribution_model FROM @extschema@.org
), spend AS (
  -- campaign 0: spend, leads and touches without a campaign
  SELECT s.org_id, s.channel_id, coalesce(s.campaign_id, 0) AS campaign_id, s.spend_date AS day,
         sum(s.spend) AS spend, sum(s.impressions) AS impressions, sum(s.clicks) AS clicks
    FROM @extschema@.ad_spend s GROUP BY 1, 2, 3, 4
), leads AS (
  SELECT l.org_id, l.first_channel_id AS channel_id, coalesce(l.first_campaign_id, 0) AS campaign_id,
         (l.created_at AT TIME ZONE o.timezone)::date AS day, count(*) AS leads, count(*) FILTER (WHERE l.phone_valid) AS valid_leads
    FROM @extschema@.lead l JOIN o ON o.org_id = l.org_id GROUP BY 1, 2, 3, 4
), handling AS (
  -- follow-up cost goes to the lead's first channel and campaign; like spend it is not split by attribution
  SELECT f.org_id, l.first_channel_id AS channel_id, coalesce(l.first_campaign_id, 0) AS campaign_id,
         (f.occurred_at AT TIME ZONE o.timezone)::date AS day, sum(f.cost) AS handling_cost
    FROM @extschema@.follow_up f
    JOIN @extschema@.lead l ON l.org_id = f.org_id AND l.lead_id = f.lead_id
    JOIN o ON o.org_id = f.org_id GROUP BY 1, 2, 3, 4
), trials AS (
  SELECT t.org_id, l.first_channel_id AS channel_id, coalesce(l.first_campaign_id, 0) AS campaign_id,
         (t.booked_at AT TIME ZONE o.timezone)::date AS day, count(*) AS trials
    FROM @extschema@.trial_lesson t
    JOIN @extschema@.lead l ON l.org_id = t.org_id AND l.lead_id = t.lead_id
    JOIN o ON o.org_id = t.org_id GROUP BY 1, 2, 3, 4
), credited AS (
  SELECT cc.org_id, ch.channel_id, coalesce(cc.campaign_id, 0) AS campaign_id, (cc.converted_at AT TIME ZONE o.timezone)::date AS day,
         sum(cc.credit) AS paid_students, sum(cc.credited_revenue) AS revenue, sum(cc.credited_ltv_revenue) AS ltv_revenue
    FROM @extschema@.conversion_credits(ARRAY(SELECT DISTINCT o2.attribution_model FROM o o2)) cc
    JOIN o ON o.org_id = cc.org_id AND cc.model = o.attribution_model
    JOIN @extschema@.channel ch ON ch.org_id = cc.org_id AND ch.code = cc.channel
   GROUP BY 1, 2, 3, 4
), daily AS (
  SELECT org_id, channel_id, campaign_id, day,
         coalesce(s.spend, 0) AS spend, coalesce(s.impressions, 0) AS impressions, coalesce(s.clicks, 0) AS clicks,
         coalesce(l.leads, 0) AS leads, coalesce(l.valid_leads, 0) AS valid_leads, coalesce(h.handling_cost, 0) AS handling_cost,
         coalesce(t.trials, 0) AS trials, coalesce(c.paid_students, 0) AS paid_students,
         coalesce(c.revenue, 0) AS revenue, coalesce(c.ltv_revenue, 0) AS ltv_revenue
    FROM spend s
    FULL JOIN leads l USING (org_id, channel_id, campaign_id, day)
    FULL JOIN handling h USING (org_id, channel_id, campaign_id, day)
    FULL JOIN trials t USING (org_id, channel_id, campaign_id, day)
    FULL JOIN credited c USING (org_id, channel_id, campaign_id, day)
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

CREATE OR REPLACE FUNCTION @extschema@.version() RETURNS text
AS 'MODULE_PATHNAME', 'leadmgmt_version' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.version() IS 'the version the loaded leadmgmt library was built as; equals the extension''s version (pg_extension.extversion) in a sound install';

-- roles granted access before the update get the same privileges on the new
-- tables and views as roles granted afterwards
SELECT @extschema@.apply_privileges(r.oid::regrole)
  FROM (SELECT DISTINCT role_name FROM @extschema@.access_grant) g
  JOIN pg_catalog.pg_roles r ON r.rolname = g.role_name;
