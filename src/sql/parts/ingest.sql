-- ---------------------------------------------------------------------------
-- Ingestion API (docs/reference/ingest.md).  Every function runs with the
-- caller's rights, so row-level security decides which orgs it may write to;
-- an org the caller cannot see is reported as unknown.
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.create_org(name text, timezone text DEFAULT 'Asia/Shanghai')
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  new_id bigint;
BEGIN
  PERFORM @extschema@.require_schema();
  -- (since 0.14 NULLs are an error, as everywhere else, not a silent NULL)
  IF create_org.name IS NULL OR create_org.timezone IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'name and timezone must not be null';
  END IF;
  PERFORM @extschema@.check_length(create_org.name, 'name', 200, 1);
  INSERT INTO @extschema@.org (name, timezone)
  VALUES (create_org.name, create_org.timezone)
  RETURNING org_id INTO new_id;
  -- the lost reasons every org starts with (since 0.14)
  INSERT INTO @extschema@.lost_reason (org_id, code, label)
  SELECT new_id, d.code, d.label FROM @extschema@.lost_reason_defaults() d;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION @extschema@.create_org(text, text) IS 'creates an org (tenant) with the default lost reasons (lost_reason_defaults()) and returns its id; the time zone must be a known IANA name';

CREATE FUNCTION @extschema@.ingest_org(org_id bigint) RETURNS record
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  o record;
BEGIN
  PERFORM @extschema@.require_schema();
  IF ingest_org.org_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'org_id must not be null';
  END IF;
  SELECT * INTO o FROM @extschema@.org WHERE org.org_id = ingest_org.org_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = '23503',
      MESSAGE = format('unknown org %s', ingest_org.org_id),
      HINT = 'Create it with leadmgmt.create_org(), or check the access granted to your role and leadmgmt.org_id.';
  END IF;
  RETURN o;
END
$$;
COMMENT ON FUNCTION @extschema@.ingest_org(bigint) IS 'the org row for an ingestion call, after require_schema; raises 22004 for a NULL id and 23503 for an org that does not exist or is not visible';

-- The length of a text argument (since 0.15): 22023 naming the bounds,
-- never echoing the value (until then a too long name reached the table's
-- CHECK constraint, 23514)
CREATE FUNCTION @extschema@.check_length(value text, what text, max_len integer, min_len integer DEFAULT 0)
RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF length(value) NOT BETWEEN min_len AND max_len THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = CASE WHEN min_len > 0 THEN format('%s must be %s to %s characters', what, min_len, max_len)
                     ELSE format('%s must be at most %s characters', what, max_len) END,
      DETAIL = format('It has %s.', length(value));
  END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.check_length(text, text, integer, integer) IS 'raises 22023 when a text argument is shorter than min_len or longer than max_len characters (NULL passes), naming the bounds and the length, never the value';

CREATE FUNCTION @extschema@.ingest_check_time(o record, ts timestamptz, what text)
RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF ts IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = format('%s must not be null', what);
  END IF;
  IF ts = 'infinity'::timestamptz OR ts = '-infinity'::timestamptz THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('%s must be finite', what);
  END IF;
  IF ts > now() + o.future_tolerance THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('%s is in the future', what),
      DETAIL = format('%s is %s, more than %s after now', what, ts, o.future_tolerance),
      HINT = 'Check the clock of the sender, or raise org.future_tolerance.';
  END IF;
  -- the org's backfill horizon (since 0.15): older history is a superuser's
  -- to load (is_superuser is the caller's, also inside SECURITY DEFINER)
  IF ts < now() - o.backfill_horizon AND current_setting('is_superuser') <> 'on' THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('%s is before the org''s backfill horizon', what),
      DETAIL = format('%s is %s, more than %s before now', what, ts, o.backfill_horizon),
      HINT = 'Send events as they happen; a superuser loads older history, or an admin raises org.backfill_horizon.';
  END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.ingest_check_time(record, timestamptz, text) IS 'rejects (22004, 22023) a NULL or infinite timestamp, one beyond the org''s future_tolerance after now, and (since 0.15, except for a superuser) one more than the org''s backfill_horizon before now';

-- The time that decides a rule (since 0.15): the server's clock unless a
-- trusted caller passes one.  A superuser passes any finite time; an app or
-- admin role of the org a time within the org's window (ingest_check_time);
-- any other caller (a sales rep) none.
CREATE FUNCTION @extschema@.rule_time(o record, at timestamptz, what text)
RETURNS timestamptz
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF at IS NULL THEN
    RETURN now();
  END IF;
  IF at = 'infinity'::timestamptz OR at = '-infinity'::timestamptz THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('%s must be finite', what);
  END IF;
  IF current_setting('is_superuser') = 'on' THEN
    RETURN at;
  END IF;
  IF NOT o.org_id = ANY (@extschema@.caller_org_ids('{app,admin}')) THEN
    RAISE EXCEPTION USING ERRCODE = '42501',
      MESSAGE = format('permission denied to choose %s', what),
      DETAIL = 'The server''s clock decides the rules for sales roles.',
      HINT = format('Leave %s NULL.', what);
  END IF;
  PERFORM @extschema@.ingest_check_time(o, at, what);
  RETURN at;
END
$$;
COMMENT ON FUNCTION @extschema@.rule_time(record, timestamptz, text) IS 'the time that decides a rule: now() for NULL; a finite time given by a superuser; for an app or admin role of the org a time within the org''s window (ingest_check_time, 22023); 42501 when any other caller passes one';

CREATE FUNCTION @extschema@.channel_id_of(o record, channel text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_code text := lower(btrim(channel));
  id bigint;
BEGIN
  IF v_code IS NULL OR v_code = '' THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'channel must not be null or empty';
  END IF;
  SELECT c.channel_id INTO id FROM @extschema@.channel c WHERE c.org_id = o.org_id AND c.code = v_code;
  IF FOUND THEN
    RETURN id;
  END IF;
  IF NOT o.auto_create_channels THEN
    RAISE EXCEPTION USING ERRCODE = '23503',
      MESSAGE = format('unknown channel "%s" for org %s', left(channel, 40), o.org_id),
      HINT = 'Add it with leadmgmt.add_channel(), or set org.auto_create_channels to create channels on first use.';
  END IF;
  IF v_code !~ '^[a-z][a-z0-9_]{0,62}$' THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('invalid channel code "%s"', left(channel, 40)),
      HINT = 'A channel code is a lower-case letter followed by up to 62 letters, digits or underscores.';
  END IF;
  INSERT INTO @extschema@.channel (org_id, code, name, kind)
  VALUES (o.org_id, v_code, v_code, 'paid')
  ON CONFLICT DO NOTHING
  RETURNING channel_id INTO id;
  IF id IS NULL THEN  -- created meanwhile by a concurrent session
    SELECT c.channel_id INTO id FROM @extschema@.channel c WHERE c.org_id = o.org_id AND c.code = v_code;
  END IF;
  RETURN id;
END
$$;
COMMENT ON FUNCTION @extschema@.channel_id_of(record, text) IS 'id of a channel by its code (case and surrounding spaces ignored); unknown codes are an error (23503) unless the org auto-creates channels';

CREATE FUNCTION @extschema@.campaign_id_of(o record, channel_id bigint, campaign text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v_code text := btrim(campaign);
  id bigint;
BEGIN
  IF v_code IS NULL OR v_code = '' THEN
    RETURN NULL;
  END IF;
  IF length(v_code) > 200 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'campaign code is longer than 200 characters';
  END IF;
  SELECT c.campaign_id INTO id FROM @extschema@.campaign c
   WHERE c.org_id = o.org_id AND c.channel_id = campaign_id_of.channel_id AND c.code = v_code;
  IF FOUND THEN
    RETURN id;
  END IF;
  INSERT INTO @extschema@.campaign (org_id, channel_id, code, name)
  VALUES (o.org_id, campaign_id_of.channel_id, v_code, v_code)
  ON CONFLICT DO NOTHING
  RETURNING campaign_id INTO id;
  IF id IS NULL THEN  -- created meanwhile by a concurrent session
    SELECT c.campaign_id INTO id FROM @extschema@.campaign c
     WHERE c.org_id = o.org_id AND c.channel_id = campaign_id_of.channel_id AND c.code = v_code;
  END IF;
  RETURN id;
END
$$;
COMMENT ON FUNCTION @extschema@.campaign_id_of(record, bigint, text) IS 'id of a campaign of a channel by its code, created on first use; NULL for a NULL or blank campaign';

CREATE FUNCTION @extschema@.add_channel(org_id bigint, code text, name text, kind text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  o record := @extschema@.ingest_org(add_channel.org_id);
  new_id bigint;
BEGIN
  IF add_channel.code IS NULL OR add_channel.name IS NULL OR add_channel.kind IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'code, name and kind must not be null';
  END IF;
  PERFORM @extschema@.check_length(add_channel.name, 'name', 200, 1);
  IF add_channel.code !~ '^[a-z][a-z0-9_]{0,62}$' THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('invalid channel code "%s"', left(add_channel.code, 40)),
      HINT = 'A channel code is a lower-case letter followed by up to 62 letters, digits or underscores.';
  END IF;
  IF add_channel.kind NOT IN ('paid', 'organic', 'referral', 'direct', 'offline') THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('invalid channel kind "%s"', left(add_channel.kind, 40)),
      HINT = 'Valid kinds: paid, organic, referral, direct, offline.';
  END IF;
  INSERT INTO @extschema@.channel (org_id, code, name, kind)
  VALUES (o.org_id, add_channel.code, add_channel.name, add_channel.kind)
  RETURNING channel_id INTO new_id;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION @extschema@.add_channel(bigint, text, text, text) IS 'adds an acquisition channel to an org and returns its id';

-- the attrs of an ingestion call: a JSON object (NULL is read as {})
CREATE FUNCTION @extschema@.ingest_check_attrs(attrs jsonb) RETURNS void
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

CREATE FUNCTION @extschema@.ingest_attr(attrs jsonb, key text, kind text, lo numeric DEFAULT NULL, hi numeric DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v jsonb := attrs -> key;
BEGIN
  IF v IS NULL OR jsonb_typeof(v) = 'null' THEN
    RETURN NULL;
  END IF;
  IF kind = 'string' THEN
    -- (hi: the longest string, 200 unless given; since 0.15 the column's)
    IF jsonb_typeof(v) <> 'string' OR length(v #>> '{}') > coalesce(hi, 200) THEN
      RAISE EXCEPTION USING ERRCODE = '22023',
        MESSAGE = format('attrs.%s must be a string of at most %s characters', key, coalesce(hi, 200)),
        DETAIL = format('got %s', left(v::text, 40));
    END IF;
  ELSIF jsonb_typeof(v) <> 'number' OR (v #>> '{}')::numeric <> trunc((v #>> '{}')::numeric)
        OR (v #>> '{}')::numeric NOT BETWEEN lo AND hi THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('attrs.%s must be a whole number from %s to %s', key, lo, hi),
      DETAIL = format('got %s', left(v::text, 40));
  END IF;
  RETURN v #>> '{}';
END
$$;
COMMENT ON FUNCTION @extschema@.ingest_attr(jsonb, text, text, numeric, numeric) IS 'a known lead attribute from ingestion attrs as text, checked to be a string (of at most hi characters, 200 when hi is NULL) or a whole number from lo to hi (22023 otherwise)';

CREATE FUNCTION @extschema@.ingest_lead(org_id bigint, phone text, channel text, campaign text,
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

-- What a rep or the application changes of a lead's details (since 0.12):
-- restricted roles write only through functions, and Citus refuses the
-- column privileges that let a sales role update these columns until 0.11.
-- the changes of an update_* call (since 0.16, shared by update_lead and
-- update_rep): a JSON object of known fields
CREATE FUNCTION @extschema@.check_changes(changes jsonb, fields text[], hint text) RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  bad text;
BEGIN
  IF changes IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'changes must not be null';
  END IF;
  IF jsonb_typeof(changes) <> 'object' THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'changes must be a JSON object';
  END IF;
  SELECT k INTO bad FROM jsonb_object_keys(changes) k WHERE k <> ALL (fields) ORDER BY k LIMIT 1;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('unknown field "%s"', left(bad, 40)), HINT = hint;
  END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.check_changes(jsonb, text[], text) IS 'the changes of an update function: 22004 for NULL, 22023 unless a JSON object whose keys are all among fields (naming the first unknown one, with the hint)';

CREATE FUNCTION @extschema@.update_lead(org_id bigint, lead_id bigint, changes jsonb) RETURNS boolean
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  o record := @extschema@.ingest_org(update_lead.org_id);
  c jsonb := update_lead.changes;
  owner bigint;
BEGIN
  -- (since 0.16 check_changes(), and NULL changes are 22004, as everywhere else)
  PERFORM @extschema@.check_changes(c, '{name,child_age,grade,subject,city,city_tier,status,lost_reason,attrs}',
    'A lead''s name, child_age, grade, subject, city, city_tier, status (with lost_reason for lost) and attrs can be changed.');
  IF c ? 'lost_reason' AND (c ->> 'status' IS DISTINCT FROM 'lost' OR jsonb_typeof(c -> 'lost_reason') <> 'string') THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'lost_reason goes with status lost, as a string';
  END IF;
  IF c ? 'attrs' AND jsonb_typeof(c -> 'attrs') <> 'object' THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'attrs must be a JSON object';
  END IF;
  IF c ? 'status' THEN
    PERFORM @extschema@.check_one_of(c ->> 'status', '{new,contacting,trial_booked,trial_attended,won,lost}', 'status', 'statuses');
  END IF;
  SELECT l.owner_rep_id INTO owner FROM @extschema@.lead l
   WHERE l.org_id = o.org_id AND l.lead_id = update_lead.lead_id FOR UPDATE;
  -- app and admin roles for any lead of the org, a sales role for its own;
  -- then the lead itself (22004, 23503), so that a rep learns nothing of
  -- leads it may not touch
  PERFORM @extschema@.check_rep_access(o.org_id, owner);
  PERFORM @extschema@.lead_of(o, update_lead.lead_id);
  UPDATE @extschema@.lead l SET
    name      = CASE WHEN c ? 'name' THEN @extschema@.ingest_attr(c, 'name', 'string') ELSE l.name END,
    child_age = CASE WHEN c ? 'child_age' THEN @extschema@.ingest_attr(c, 'child_age', 'int', 1, 18)::smallint ELSE l.child_age END,
    grade     = CASE WHEN c ? 'grade' THEN @extschema@.ingest_attr(c, 'grade', 'int', 0, 12)::smallint ELSE l.grade END,
    subject   = CASE WHEN c ? 'subject' THEN @extschema@.ingest_attr(c, 'subject', 'string', NULL, 100) ELSE l.subject END,
    city      = CASE WHEN c ? 'city' THEN @extschema@.ingest_attr(c, 'city', 'string', NULL, 100) ELSE l.city END,
    city_tier = CASE WHEN c ? 'city_tier' THEN @extschema@.ingest_attr(c, 'city_tier', 'int', 1, 5)::smallint ELSE l.city_tier END,
    status    = coalesce(c ->> 'status', l.status),
    lost_reason = CASE WHEN c ? 'lost_reason' THEN c ->> 'lost_reason' ELSE l.lost_reason END,
    attrs     = CASE WHEN c ? 'attrs' THEN l.attrs || (c -> 'attrs') ELSE l.attrs END,
    updated_at = now()
   WHERE l.org_id = o.org_id AND l.lead_id = update_lead.lead_id;
  RETURN true;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.update_lead(bigint, bigint, jsonb) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.update_lead(bigint, bigint, jsonb) IS 'changes a lead''s details (name, child_age, grade, subject, city, city_tier, status with lost_reason for lost, as lead_transitions() allows; attrs merged in): app and admin roles for any lead of their org, a sales role for its own leads (42501 otherwise); checked like ingestion (22023); returns true';

-- late data (since 0.14): a submission older than the lead's first, which
-- a repeat through ingest_lead no longer moves
CREATE FUNCTION @extschema@.backfill_first_touch(org_id bigint, lead_id bigint, channel text, campaign text,
                                                 occurred_at timestamptz)
RETURNS boolean
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  o record := @extschema@.ingest_org(backfill_first_touch.org_id);
  ch bigint;
  cp bigint;
BEGIN
  PERFORM @extschema@.ingest_check_time(o, backfill_first_touch.occurred_at, 'occurred_at');
  PERFORM @extschema@.lead_of(o, backfill_first_touch.lead_id);
  ch := @extschema@.channel_id_of(o, backfill_first_touch.channel);
  cp := @extschema@.campaign_id_of(o, ch, backfill_first_touch.campaign);
  UPDATE @extschema@.lead l
     SET created_at = backfill_first_touch.occurred_at, first_channel_id = ch, first_campaign_id = cp, updated_at = now()
   WHERE l.org_id = o.org_id AND l.lead_id = backfill_first_touch.lead_id AND l.created_at > backfill_first_touch.occurred_at;
  RETURN FOUND;
END
$$;
COMMENT ON FUNCTION @extschema@.backfill_first_touch(bigint, bigint, text, text, timestamptz) IS 'late data: makes an earlier submission the lead''s first (created_at, first channel and campaign) when it is older than what is recorded; ingest_lead never moves them back (since 0.14); app and admin roles; returns whether it moved them';

CREATE FUNCTION @extschema@.lead_of(o record, lead_id bigint) RETURNS bigint
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF lead_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'lead_id must not be null';
  END IF;
  PERFORM 1 FROM @extschema@.lead l WHERE l.org_id = o.org_id AND l.lead_id = lead_of.lead_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = '23503', MESSAGE = format('unknown lead %s in org %s', lead_id, o.org_id);
  END IF;
  RETURN lead_id;
END
$$;
COMMENT ON FUNCTION @extschema@.lead_of(record, bigint) IS 'checks that a lead exists and is visible in an org (22004 for NULL, 23503 for unknown) and returns its id';

CREATE FUNCTION @extschema@.record_touch(org_id bigint, lead_id bigint, channel text, campaign text,
                                         occurred_at timestamptz, kind text DEFAULT 'visit',
                                         visitor_id text DEFAULT NULL, attrs jsonb DEFAULT '{}')
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  o record := @extschema@.ingest_org(record_touch.org_id);
  a jsonb := coalesce(record_touch.attrs, '{}');
  ch bigint;
  new_id bigint;
  lead bigint := record_touch.lead_id;
BEGIN
  PERFORM @extschema@.ingest_check_time(o, record_touch.occurred_at, 'occurred_at');
  PERFORM @extschema@.check_one_of(record_touch.kind, @extschema@.touch_kinds(), 'touch kind', 'kinds');
  PERFORM @extschema@.ingest_check_attrs(a);
  IF record_touch.lead_id IS NULL AND record_touch.visitor_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'a touch needs a lead_id or a visitor_id';
  END IF;
  PERFORM @extschema@.check_length(record_touch.visitor_id, 'visitor_id', 200);
  IF lead IS NOT NULL THEN
    PERFORM @extschema@.lead_of(o, lead);
  ELSE
    -- a visitor who has become a lead (its form, or a touch linked since):
    -- the touch is that lead's (since 0.16), the latest one's if several
    SELECT t.lead_id INTO lead FROM @extschema@.touchpoint t
     WHERE t.org_id = o.org_id AND t.visitor_id = record_touch.visitor_id AND t.lead_id IS NOT NULL
     ORDER BY t.occurred_at DESC, t.touchpoint_id DESC LIMIT 1;
  END IF;
  ch := @extschema@.channel_id_of(o, record_touch.channel);
  INSERT INTO @extschema@.touchpoint (org_id, lead_id, visitor_id, channel_id, campaign_id, kind, occurred_at, attrs)
  VALUES (o.org_id, lead, record_touch.visitor_id, ch,
          @extschema@.campaign_id_of(o, ch, record_touch.campaign), record_touch.kind, record_touch.occurred_at, a)
  RETURNING touchpoint_id INTO new_id;
  IF lead IS NOT NULL THEN
    UPDATE @extschema@.lead l SET last_touch_at = record_touch.occurred_at, updated_at = now()
     WHERE l.org_id = o.org_id AND l.lead_id = lead AND l.last_touch_at < record_touch.occurred_at;
  END IF;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION @extschema@.record_touch(bigint, bigint, text, text, timestamptz, text, text, jsonb) IS 'records a contact of a lead (or an anonymous visitor) with a channel and campaign, for attribution; a visitor who has become a lead touches as that lead (since 0.16); returns the touchpoint id';

CREATE FUNCTION @extschema@.record_event(org_id bigint, lead_id bigint, event_type text,
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

CREATE FUNCTION @extschema@.record_spend(org_id bigint, day date, channel text, campaign text,
                                         spend numeric, impressions bigint DEFAULT 0, clicks bigint DEFAULT 0)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  o record := @extschema@.ingest_org(record_spend.org_id);
  ch bigint;
  cp bigint;
  new_id bigint;
BEGIN
  IF record_spend.day IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'day must not be null';
  END IF;
  IF NOT isfinite(record_spend.day) THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'day must be finite';
  END IF;
  IF record_spend.day > ((now() + o.future_tolerance) AT TIME ZONE o.timezone)::date THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('day %s is in the future', record_spend.day),
      HINT = 'Spend can be loaded for today and earlier days in the org time zone.';
  END IF;
  -- the org's backfill horizon (since 0.15), as for times: older spend is a superuser's to load
  IF record_spend.day < ((now() - o.backfill_horizon) AT TIME ZONE o.timezone)::date
     AND current_setting('is_superuser') <> 'on' THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('day %s is before the org''s backfill horizon', record_spend.day),
      DETAIL = format('The horizon is %s before now.', o.backfill_horizon),
      HINT = 'A superuser loads older spend, or an admin raises org.backfill_horizon.';
  END IF;
  IF record_spend.spend IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'spend must not be null';
  END IF;
  IF record_spend.spend = 'NaN'::numeric OR record_spend.spend < 0 THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('spend must be zero or more, got %s', left(record_spend.spend::text, 40));
  END IF;
  IF coalesce(record_spend.impressions, 0) < 0 OR coalesce(record_spend.clicks, 0) < 0 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'impressions and clicks must be zero or more';
  END IF;
  -- (since 0.14; a platform that reports no impressions may report clicks)
  IF coalesce(record_spend.impressions, 0) > 0 AND coalesce(record_spend.clicks, 0) > record_spend.impressions THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'clicks must not exceed impressions',
      DETAIL = format('%s clicks, %s impressions', record_spend.clicks, record_spend.impressions);
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
