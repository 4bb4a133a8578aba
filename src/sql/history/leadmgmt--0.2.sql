/*
 * leadmgmt install script.  GENERATED from the files of src/sql/parts by the
 * Makefile; edit the parts, never the generated file.  Once a version has
 * landed its script is frozen in src/sql/history/ and changes go into an
 * upgrade script (docs/dba/layout.md).
 */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION leadmgmt" to load this file. \quit

COMMENT ON SCHEMA @extschema@ IS
  'leadmgmt: lead management, funnel, attribution and cohort analytics for education brands';

-- Views must be security_invoker (PostgreSQL 15) or they would bypass
-- row-level security: refuse older servers rather than install unsafely.
DO $$
BEGIN
  IF current_setting('server_version_num')::int < 150000 THEN
    RAISE EXCEPTION USING ERRCODE = '0A000',
      MESSAGE = format('leadmgmt needs PostgreSQL 15 or later, this is %s', current_setting('server_version')),
      HINT = 'Its views are security_invoker so that row-level security applies to them.';
  END IF;
END
$$;
-- ---------------------------------------------------------------------------
-- Phone numbers (src/phone.c)
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.normalize_phone(phone text, region text DEFAULT 'CN')
RETURNS text
AS 'MODULE_PATHNAME', 'leadmgmt_phone_normalize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.normalize_phone(text, text) IS
  'E.164 form (+8613812345678) of a Chinese mobile number written with +86, 0086, spaces, dashes, dots, brackets or full-width digits; NULL when it is not a valid mobile number (1[3-9] and nine digits)';

CREATE FUNCTION @extschema@.mask_phone(phone text)
RETURNS text
AS 'MODULE_PATHNAME', 'leadmgmt_phone_mask'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.mask_phone(text) IS
  'masked display form of a phone number: 138****5678 for a mobile number; otherwise every digit but the last four becomes *, and NULL when there is no digit';
-- ---------------------------------------------------------------------------
-- Tenants and acquisition: org, channel, campaign, ad_spend
-- Every table carries org_id (the tenant, the Citus distribution column), and
-- org_id is part of every primary key, unique constraint and foreign key.
-- ---------------------------------------------------------------------------

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

CREATE FUNCTION @extschema@.org_check_timezone() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_timezone_names WHERE name = NEW.timezone) THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('unknown time zone "%s"', NEW.timezone),
      HINT = 'Use an IANA name from pg_timezone_names, such as Asia/Shanghai.';
  END IF;
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION @extschema@.org_check_timezone() IS 'trigger: rejects an org whose time zone is not a known IANA name';
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
  PRIMARY KEY (org_id, team_id),
  UNIQUE (org_id, name)
);
COMMENT ON TABLE @extschema@.team IS 'a sales team';
COMMENT ON COLUMN @extschema@.team.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.team.team_id IS 'team id';
COMMENT ON COLUMN @extschema@.team.name IS 'team name';
COMMENT ON COLUMN @extschema@.team.created_at IS 'when the team was created';

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

CREATE TABLE @extschema@.lead (
  org_id              bigint NOT NULL REFERENCES @extschema@.org (org_id),
  lead_id             bigint GENERATED ALWAYS AS IDENTITY,
  phone_raw           text CHECK (length(phone_raw) <= 64),
  phone               text CHECK (phone ~ '^\+861[3-9][0-9]{9}$'),
  phone_masked        text GENERATED ALWAYS AS (@extschema@.mask_phone(coalesce(phone, phone_raw))) STORED,
  phone_valid         boolean GENERATED ALWAYS AS (phone IS NOT NULL) STORED,
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
  PRIMARY KEY (org_id, lead_id),
  UNIQUE (org_id, phone),
  FOREIGN KEY (org_id, first_channel_id) REFERENCES @extschema@.channel (org_id, channel_id),
  FOREIGN KEY (org_id, latest_channel_id) REFERENCES @extschema@.channel (org_id, channel_id),
  FOREIGN KEY (org_id, first_campaign_id) REFERENCES @extschema@.campaign (org_id, campaign_id),
  FOREIGN KEY (org_id, latest_campaign_id) REFERENCES @extschema@.campaign (org_id, campaign_id),
  FOREIGN KEY (org_id, owner_rep_id) REFERENCES @extschema@.sales_rep (org_id, rep_id),
  CONSTRAINT lead_private_pool_has_owner CHECK ((pool = 'private') = (owner_rep_id IS NOT NULL)),
  CONSTRAINT lead_owner_has_since CHECK ((owner_rep_id IS NULL) = (owned_since IS NULL)),
  CONSTRAINT lead_touch_after_creation CHECK (last_touch_at >= created_at)
);
CREATE INDEX lead_created_idx ON @extschema@.lead (org_id, created_at);
CREATE INDEX lead_owner_idx ON @extschema@.lead (org_id, owner_rep_id) WHERE owner_rep_id IS NOT NULL;
CREATE INDEX lead_first_channel_idx ON @extschema@.lead (org_id, first_channel_id, created_at);
CREATE INDEX lead_pool_idx ON @extschema@.lead (org_id, tier, created_at) WHERE pool = 'public';
COMMENT ON TABLE @extschema@.lead IS 'a lead (线索): a person who left a phone number; one per valid phone per org (撞单 protection)';
COMMENT ON COLUMN @extschema@.lead.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.lead.lead_id IS 'lead id';
COMMENT ON COLUMN @extschema@.lead.phone_raw IS 'phone number as submitted';
COMMENT ON COLUMN @extschema@.lead.phone IS 'E.164 mobile number, unique per org; NULL when the submitted number is not valid';
COMMENT ON COLUMN @extschema@.lead.phone_masked IS 'phone for display to roles that may not see it, such as 138****5678';
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

CREATE TABLE @extschema@.touchpoint (
  org_id         bigint NOT NULL,
  touchpoint_id  bigint GENERATED ALWAYS AS IDENTITY,
  lead_id        bigint,
  visitor_id     text CHECK (length(visitor_id) <= 200),
  channel_id     bigint NOT NULL,
  campaign_id    bigint,
  kind           text NOT NULL
                 CHECK (kind IN ('impression', 'ad_click', 'visit', 'form', 'call', 'message', 'referral', 'offline')),
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
  event_type   text NOT NULL CHECK (event_type IN ('form_submitted', 'sms_verified', 'wechat_followed',
                 'trial_booked', 'trial_attended', 'paid', 'refunded', 'renewed', 'referred', 'unsubscribed', 'lost')),
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
  channel       text NOT NULL CHECK (channel IN ('call', 'sms', 'wechat', 'ai_call', 'visit', 'email')),
  outcome       text NOT NULL CHECK (outcome IN ('connected', 'no_answer', 'busy', 'refused', 'interested',
                  'not_interested', 'trial_booked', 'wrong_number', 'sent')),
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

CREATE FUNCTION @extschema@.refund_check_total() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  o record;
  total numeric;
  own_id bigint;
BEGIN
  IF TG_OP = 'UPDATE' THEN
    own_id := OLD.refund_id;
  END IF;
  -- lock the order so concurrent refunds of it are checked one after the other
  SELECT amount, paid_at, status INTO o FROM @extschema@.sales_order
   WHERE org_id = NEW.org_id AND order_id = NEW.order_id FOR UPDATE;
  IF NOT FOUND THEN
    RETURN NEW;  -- the foreign key reports it
  END IF;
  IF o.status <> 'paid' THEN
    RAISE EXCEPTION USING ERRCODE = '23514',
      MESSAGE = format('order %s is not paid and cannot be refunded', NEW.order_id);
  END IF;
  IF NEW.refunded_at < o.paid_at THEN
    RAISE EXCEPTION USING ERRCODE = '23514',
      MESSAGE = format('refund of order %s is dated before its payment', NEW.order_id),
      DETAIL = format('refunded at %s, paid at %s', NEW.refunded_at, o.paid_at);
  END IF;
  SELECT coalesce(sum(amount), 0) INTO total FROM @extschema@.refund
   WHERE org_id = NEW.org_id AND order_id = NEW.order_id
     AND refund_id IS DISTINCT FROM own_id;
  IF total + NEW.amount > o.amount THEN
    RAISE EXCEPTION USING ERRCODE = '23514',
      MESSAGE = format('refunds of order %s would exceed its amount', NEW.order_id),
      DETAIL = format('order amount %s, already refunded %s, this refund %s', o.amount, total, NEW.amount);
  END IF;
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION @extschema@.refund_check_total() IS 'trigger: a refund must belong to a paid order, not precede the payment, and keep the refunded total within the order amount';
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
-- register_table: what every user table of the extension gets, in one place
-- (since 0.2; 0.1 did the same in loops).  Tables added by later versions call
-- it from the install parts and from their upgrade script.
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.register_table(tbl regclass, writers text[], lead_scoped boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  rel name := (SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = tbl);
  seq regclass;
BEGIN
  -- pg_dump keeps the rows, and the numbering of the identity columns
  PERFORM pg_catalog.pg_extension_config_dump(tbl, '');
  FOR seq IN SELECT d.objid::regclass FROM pg_catalog.pg_depend d
              JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S'
             WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.refobjid = tbl AND d.deptype IN ('a', 'i')
  LOOP
    PERFORM pg_catalog.pg_extension_config_dump(seq, '');
  END LOOP;

  -- rows of the orgs the role may act for; writes with the given kinds of access
  EXECUTE format('ALTER TABLE @extschema@.%I ENABLE ROW LEVEL SECURITY', rel);
  EXECUTE format($f$CREATE POLICY tenant_read ON @extschema@.%I FOR SELECT
    USING (org_id = ANY ((SELECT @extschema@.acting_org_ids('{reporting,app,admin,sales}'))::bigint[])) $f$, rel);
  EXECUTE format($f$CREATE POLICY tenant_write ON @extschema@.%I FOR ALL
    USING (org_id = ANY ((SELECT @extschema@.acting_org_ids(%L))::bigint[]))
    WITH CHECK (org_id = ANY ((SELECT @extschema@.acting_org_ids(%L))::bigint[])) $f$, rel, writers, writers);

  -- rows that belong to a lead follow the lead's visibility for sales roles
  IF lead_scoped THEN
    EXECUTE format($f$CREATE POLICY sales_scope ON @extschema@.%1$I AS RESTRICTIVE FOR ALL
      USING (org_id <> ALL ((SELECT @extschema@.sales_scope_org_ids())::bigint[])
             OR EXISTS (SELECT 1 FROM @extschema@.lead l
                         WHERE l.org_id = %1$I.org_id AND l.lead_id = %1$I.lead_id)) $f$, rel);
  END IF;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.register_table(regclass, text[], boolean) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.register_table(regclass, text[], boolean) IS 'gives a user table of the extension what every one has: pg_dump registration of it and its identity sequences, row-level security, tenant_read and tenant_write policies (writes by the given kinds of access) and, for rows that belong to a lead, the sales_scope policy';
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

CREATE FUNCTION @extschema@.current_org() RETURNS bigint
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v text := current_setting('leadmgmt.org_id', true);
BEGIN
  IF v IS NULL OR v = '' THEN
    RETURN NULL;
  END IF;
  IF v !~ '^[0-9]{1,18}$' THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('invalid leadmgmt.org_id setting "%s"', v),
      HINT = 'Set it to the numeric id of an org, for example SET LOCAL leadmgmt.org_id = ''1''.';
  END IF;
  RETURN v::bigint;
END
$$;
COMMENT ON FUNCTION @extschema@.current_org() IS 'org chosen for this transaction or session with SET leadmgmt.org_id, or NULL when none is set';

CREATE FUNCTION @extschema@.acting_org_ids(kinds text[]) RETURNS bigint[]
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT coalesce(array_agg(DISTINCT g.org_id ORDER BY g.org_id), '{}')
    FROM @extschema@.access_grant g
    JOIN pg_catalog.pg_roles r ON r.rolname = g.role_name
   WHERE g.access = ANY (kinds)
     AND pg_catalog.pg_has_role(r.oid, 'USAGE')
     AND CASE WHEN @extschema@.current_org() IS NULL THEN g.access <> 'app'
              ELSE g.org_id = @extschema@.current_org() END
$$;
COMMENT ON FUNCTION @extschema@.acting_org_ids(text[]) IS 'orgs the current role may act for with one of the given kinds of access; app access counts only for the org set in leadmgmt.org_id, and a set leadmgmt.org_id narrows every kind to that org';

CREATE FUNCTION @extschema@.my_rep_ids() RETURNS bigint[]
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT coalesce(array_agg(DISTINCT g.rep_id ORDER BY g.rep_id), '{}')
    FROM @extschema@.access_grant g
    JOIN pg_catalog.pg_roles r ON r.rolname = g.role_name
   WHERE g.access = 'sales'
     AND pg_catalog.pg_has_role(r.oid, 'USAGE')
     AND (@extschema@.current_org() IS NULL OR g.org_id = @extschema@.current_org())
$$;
COMMENT ON FUNCTION @extschema@.my_rep_ids() IS 'sales reps the current role acts as';

CREATE FUNCTION @extschema@.sales_scope_org_ids() RETURNS bigint[]
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT coalesce(array_agg(o ORDER BY o), '{}')
    FROM unnest(@extschema@.acting_org_ids('{sales}')) AS o
   WHERE o <> ALL (@extschema@.acting_org_ids('{reporting,app,admin}'))
$$;
COMMENT ON FUNCTION @extschema@.sales_scope_org_ids() IS 'orgs where the current role has only sales access, and so sees only its own leads and the public pool';

ALTER TABLE @extschema@.access_grant ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_grants ON @extschema@.access_grant FOR SELECT
  USING (EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
                  WHERE r.rolname = role_name AND pg_catalog.pg_has_role(r.oid, 'USAGE')));

-- Every table: pg_dump registration and row-level security by org.
DO $$
DECLARE
  t text;
BEGIN
  PERFORM pg_catalog.pg_extension_config_dump('@extschema@.access_grant', '');
  FOR t IN
    SELECT c.relname FROM pg_catalog.pg_class c
     WHERE c.relnamespace = '@extschema@'::regnamespace AND c.relkind = 'r' AND c.relname <> 'access_grant'
     ORDER BY c.relname
  LOOP
    PERFORM @extschema@.register_table(format('@extschema@.%I', t)::regclass,
      -- a sales role also writes the sales side of its own leads
      CASE WHEN t IN ('lead', 'follow_up', 'lead_event', 'lead_tag', 'trial_lesson') THEN '{app,admin,sales}' ELSE '{app,admin}' END::text[],
      t IN ('touchpoint', 'lead_event', 'lead_tag', 'assignment', 'follow_up', 'trial_lesson'));
  END LOOP;
END
$$;

-- A sales role sees its own private leads and the public pool, and writes only its own leads.
CREATE POLICY sales_scope ON @extschema@.lead AS RESTRICTIVE FOR ALL
  USING (org_id <> ALL ((SELECT @extschema@.sales_scope_org_ids())::bigint[])
         OR pool = 'public'
         OR owner_rep_id = ANY ((SELECT @extschema@.my_rep_ids())::bigint[]));
CREATE POLICY sales_own_update ON @extschema@.lead AS RESTRICTIVE FOR UPDATE
  USING (org_id <> ALL ((SELECT @extschema@.sales_scope_org_ids())::bigint[])
         OR owner_rep_id = ANY ((SELECT @extschema@.my_rep_ids())::bigint[]))
  WITH CHECK (org_id <> ALL ((SELECT @extschema@.sales_scope_org_ids())::bigint[])
         OR owner_rep_id = ANY ((SELECT @extschema@.my_rep_ids())::bigint[]));

CREATE FUNCTION @extschema@.lead_phone(org_id bigint, lead_id bigint) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL RESTRICTED SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT l.phone
    FROM @extschema@.lead l
    JOIN @extschema@.access_grant g
      ON g.org_id = l.org_id AND g.access = 'sales' AND g.rep_id = l.owner_rep_id
    JOIN pg_catalog.pg_roles r ON r.rolname = g.role_name
   WHERE l.org_id = lead_phone.org_id AND l.lead_id = lead_phone.lead_id
     AND pg_catalog.pg_has_role(session_user, r.oid, 'USAGE')
$$;
REVOKE ALL ON FUNCTION @extschema@.lead_phone(bigint, bigint) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.lead_phone(bigint, bigint) IS 'full phone number of a lead for the sales rep who owns it (checked against the session user); NULL for anyone else';
-- ---------------------------------------------------------------------------
-- Ingestion API (docs/reference/ingestion.md).  Every function runs with the
-- caller's rights, so row-level security decides which orgs it may write to;
-- an org the caller cannot see is reported as unknown.
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.create_org(name text, timezone text DEFAULT 'Asia/Shanghai')
RETURNS bigint
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  new_id bigint;
BEGIN
  INSERT INTO @extschema@.org (name, timezone)
  VALUES (create_org.name, create_org.timezone)
  RETURNING org_id INTO new_id;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION @extschema@.create_org(text, text) IS 'creates an org (tenant) and returns its id; the time zone must be a known IANA name';

CREATE FUNCTION @extschema@.ingest_org(org_id bigint) RETURNS @extschema@.org
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  o @extschema@.org;
BEGIN
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
COMMENT ON FUNCTION @extschema@.ingest_org(bigint) IS 'the org row for an ingestion call; raises 22004 for a NULL id and 23503 for an org that does not exist or is not visible';

CREATE FUNCTION @extschema@.ingest_check_time(o @extschema@.org, ts timestamptz, what text)
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
END
$$;
COMMENT ON FUNCTION @extschema@.ingest_check_time(@extschema@.org, timestamptz, text) IS 'rejects a NULL, infinite or future timestamp (beyond the org''s future_tolerance) for an ingestion call';

CREATE FUNCTION @extschema@.channel_id_of(o @extschema@.org, channel text)
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
      MESSAGE = format('unknown channel "%s" for org %s', channel, o.org_id),
      HINT = 'Add it with leadmgmt.add_channel(), or set org.auto_create_channels to create channels on first use.';
  END IF;
  IF v_code !~ '^[a-z][a-z0-9_]{0,62}$' THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('invalid channel code "%s"', channel),
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
COMMENT ON FUNCTION @extschema@.channel_id_of(@extschema@.org, text) IS 'id of a channel by its code (case and surrounding spaces ignored); unknown codes are an error (23503) unless the org auto-creates channels';

CREATE FUNCTION @extschema@.campaign_id_of(o @extschema@.org, channel_id bigint, campaign text)
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
COMMENT ON FUNCTION @extschema@.campaign_id_of(@extschema@.org, bigint, text) IS 'id of a campaign of a channel by its code, created on first use; NULL for a NULL or blank campaign';

CREATE FUNCTION @extschema@.add_channel(org_id bigint, code text, name text, kind text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  o @extschema@.org := @extschema@.ingest_org(add_channel.org_id);
  new_id bigint;
BEGIN
  IF add_channel.code !~ '^[a-z][a-z0-9_]{0,62}$' THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('invalid channel code "%s"', add_channel.code),
      HINT = 'A channel code is a lower-case letter followed by up to 62 letters, digits or underscores.';
  END IF;
  IF add_channel.kind NOT IN ('paid', 'organic', 'referral', 'direct', 'offline') THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('invalid channel kind "%s"', add_channel.kind),
      HINT = 'Valid kinds: paid, organic, referral, direct, offline.';
  END IF;
  INSERT INTO @extschema@.channel (org_id, code, name, kind)
  VALUES (o.org_id, add_channel.code, add_channel.name, add_channel.kind)
  RETURNING channel_id INTO new_id;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION @extschema@.add_channel(bigint, text, text, text) IS 'adds an acquisition channel to an org and returns its id';

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
    IF jsonb_typeof(v) <> 'string' OR length(v #>> '{}') > 200 THEN
      RAISE EXCEPTION USING ERRCODE = '22023',
        MESSAGE = format('attrs.%s must be a string of at most 200 characters', key),
        DETAIL = format('got %s', left(v::text, 100));
    END IF;
  ELSIF jsonb_typeof(v) <> 'number' OR (v #>> '{}')::numeric <> trunc((v #>> '{}')::numeric)
        OR (v #>> '{}')::numeric NOT BETWEEN lo AND hi THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('attrs.%s must be a whole number from %s to %s', key, lo, hi),
      DETAIL = format('got %s', left(v::text, 100));
  END IF;
  RETURN v #>> '{}';
END
$$;
COMMENT ON FUNCTION @extschema@.ingest_attr(jsonb, text, text, numeric, numeric) IS 'a known lead attribute from ingestion attrs as text, checked to be a string or a whole number within bounds (22023 otherwise)';

CREATE FUNCTION @extschema@.ingest_lead(org_id bigint, phone text, channel text, campaign text,
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
  IF jsonb_typeof(a) <> 'object' THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'attrs must be a JSON object',
      DETAIL = format('got a JSON %s', jsonb_typeof(a));
  END IF;
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
      updated_at = now()
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

CREATE FUNCTION @extschema@.lead_of(o @extschema@.org, lead_id bigint) RETURNS bigint
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
COMMENT ON FUNCTION @extschema@.lead_of(@extschema@.org, bigint) IS 'checks that a lead exists and is visible in an org (22004 for NULL, 23503 for unknown) and returns its id';

CREATE FUNCTION @extschema@.record_touch(org_id bigint, lead_id bigint, channel text, campaign text,
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
  IF record_touch.kind IS NULL OR record_touch.kind NOT IN
     ('impression', 'ad_click', 'visit', 'form', 'call', 'message', 'referral', 'offline') THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('invalid touch kind "%s"', record_touch.kind),
      HINT = 'Valid kinds: impression, ad_click, visit, form, call, message, referral, offline.';
  END IF;
  IF jsonb_typeof(a) <> 'object' THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'attrs must be a JSON object';
  END IF;
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

CREATE FUNCTION @extschema@.record_event(org_id bigint, lead_id bigint, event_type text,
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
  IF record_event.event_type IS NULL OR record_event.event_type NOT IN
     ('form_submitted', 'sms_verified', 'wechat_followed', 'trial_booked', 'trial_attended',
      'paid', 'refunded', 'renewed', 'referred', 'unsubscribed', 'lost') THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('invalid event type "%s"', record_event.event_type),
      HINT = 'Valid types: form_submitted, sms_verified, wechat_followed, trial_booked, trial_attended, paid, refunded, renewed, referred, unsubscribed, lost.';
  END IF;
  IF jsonb_typeof(a) <> 'object' THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'attrs must be a JSON object';
  END IF;
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

CREATE FUNCTION @extschema@.record_spend(org_id bigint, day date, channel text, campaign text,
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
    revision = s.revision + 1, loaded_at = now()
  RETURNING ad_spend_id INTO new_id;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION @extschema@.record_spend(bigint, date, text, text, numeric, bigint, bigint) IS 'loads one day of ad spend for a channel and campaign as an idempotent upsert: loading a revised day again leaves one row with the new values';
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
-- Granting access to roles (docs/dba/security.md).  These functions issue
-- GRANT and REVOKE, so only the extension owner (or a superuser) may run
-- them; nothing here is SECURITY DEFINER.
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.apply_privileges(role regrole)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  kinds text[];
  rel record;
  -- what a sales role may read: the sales side of the funnel, nothing about money
  sales_tables text[] := '{org,channel,campaign,team,sales_rep,rep_shift,lead,touchpoint,lead_event,tag,lead_tag,'
                         'assignment,follow_up,trial_lesson,teacher,course,course_class}';
  sales_views text[] := '{lead_overview}';
  lead_cols text;
BEGIN
  SELECT coalesce(array_agg(DISTINCT g.access), '{}') INTO kinds
    FROM @extschema@.access_grant g WHERE g.role_name = (SELECT rolname FROM pg_roles WHERE oid = role);

  -- start from nothing, then grant what the role's kinds of access need
  EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA @extschema@ FROM %I', role::text);
  EXECUTE format('REVOKE ALL ON FUNCTION @extschema@.lead_phone(bigint, bigint) FROM %I', role::text);
  FOR rel IN SELECT attname FROM pg_attribute
              WHERE attrelid = '@extschema@.lead'::regclass AND attnum > 0 AND NOT attisdropped LOOP
    EXECUTE format('REVOKE ALL (%I) ON @extschema@.lead FROM %I', rel.attname, role::text);
  END LOOP;
  IF cardinality(kinds) = 0 THEN
    EXECUTE format('REVOKE USAGE ON SCHEMA @extschema@ FROM %I', role::text);
    RETURN;
  END IF;

  EXECUTE format('GRANT USAGE ON SCHEMA @extschema@ TO %I', role::text);
  EXECUTE format('GRANT SELECT ON @extschema@.access_grant TO %I', role::text);
  SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO lead_cols
    FROM pg_attribute
   WHERE attrelid = '@extschema@.lead'::regclass AND attnum > 0 AND NOT attisdropped
     AND attname NOT IN ('phone', 'phone_raw');

  FOR rel IN SELECT c.relname, c.relkind FROM pg_class c
              WHERE c.relnamespace = '@extschema@'::regnamespace AND c.relkind IN ('r', 'v')
                AND c.relname <> 'access_grant' LOOP
    IF kinds && '{app,admin}' THEN
      EXECUTE format(CASE rel.relkind WHEN 'r' THEN 'GRANT SELECT, INSERT, UPDATE, DELETE ON @extschema@.%I TO %I'
                                      ELSE 'GRANT SELECT ON @extschema@.%I TO %I' END, rel.relname, role::text);
    ELSIF 'reporting' = ANY (kinds) AND rel.relname <> 'lead' THEN
      EXECUTE format('GRANT SELECT ON @extschema@.%I TO %I', rel.relname, role::text);
    ELSIF 'sales' = ANY (kinds) AND (rel.relname = ANY (sales_tables) OR rel.relname = ANY (sales_views))
          AND rel.relname <> 'lead' THEN
      EXECUTE format('GRANT SELECT ON @extschema@.%I TO %I', rel.relname, role::text);
    END IF;
  END LOOP;

  IF NOT kinds && '{app,admin}' THEN
    -- reporting and sales roles see the lead without its phone (phone_masked instead)
    EXECUTE format('GRANT SELECT (%s) ON @extschema@.lead TO %I', lead_cols, role::text);
  END IF;
  IF 'sales' = ANY (kinds) AND NOT kinds && '{app,admin}' THEN
    EXECUTE format('GRANT INSERT ON @extschema@.follow_up, @extschema@.lead_event, @extschema@.lead_tag, '
                   '@extschema@.trial_lesson TO %I', role::text);
    EXECUTE format('GRANT UPDATE (name, child_age, grade, subject, city, city_tier, status, attrs, updated_at) '
                   'ON @extschema@.lead TO %I', role::text);
  END IF;
  IF 'sales' = ANY (kinds) THEN
    EXECUTE format('GRANT EXECUTE ON FUNCTION @extschema@.lead_phone(bigint, bigint) TO %I', role::text);
  END IF;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.apply_privileges(regrole) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.apply_privileges(regrole) IS 'recomputes the table, column and function privileges of a role from its rows in access_grant';

CREATE FUNCTION @extschema@.grant_access(role regrole, org_id bigint, access text, rep_id bigint DEFAULT NULL)
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
  ON CONFLICT ON CONSTRAINT access_grant_pkey DO UPDATE SET rep_id = EXCLUDED.rep_id, granted_at = now();
  PERFORM @extschema@.apply_privileges(role);
END
$$;
REVOKE ALL ON FUNCTION @extschema@.grant_access(regrole, bigint, text, bigint) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.grant_access(regrole, bigint, text, bigint) IS 'lets a role act for an org with reporting, app, sales (as rep_id) or admin access; the cluster role itself must already exist';

CREATE FUNCTION @extschema@.revoke_access(role regrole, org_id bigint, access text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF role IS NULL OR org_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'role and org_id must not be null';
  END IF;
  DELETE FROM @extschema@.access_grant g
   WHERE g.org_id = revoke_access.org_id
     AND g.role_name = (SELECT rolname FROM pg_roles WHERE oid = role)
     AND (revoke_access.access IS NULL OR g.access = revoke_access.access);
  PERFORM @extschema@.apply_privileges(role);
END
$$;
REVOKE ALL ON FUNCTION @extschema@.revoke_access(regrole, bigint, text) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.revoke_access(regrole, bigint, text) IS 'takes back one kind (or, with access NULL, every kind) of a role''s access to an org';
-- ---------------------------------------------------------------------------
-- Funnel engine (src/funnel.c, docs/reference/window_funnel.md): since 0.2
-- ---------------------------------------------------------------------------

CREATE TYPE @extschema@.funnel_state;

CREATE FUNCTION @extschema@.funnel_state_in(cstring) RETURNS @extschema@.funnel_state
AS 'MODULE_PATHNAME', 'leadmgmt_funnel_state_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_state_in(cstring) IS 'text input of funnel_state: v1: followed by the hex of its binary form';
CREATE FUNCTION @extschema@.funnel_state_out(@extschema@.funnel_state) RETURNS cstring
AS 'MODULE_PATHNAME', 'leadmgmt_funnel_state_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_state_out(@extschema@.funnel_state) IS 'text output of funnel_state, exact, so partial states can travel as text (Citus)';
CREATE FUNCTION @extschema@.funnel_state_recv(internal) RETURNS @extschema@.funnel_state
AS 'MODULE_PATHNAME', 'leadmgmt_funnel_state_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_state_recv(internal) IS 'binary input of funnel_state (versioned)';
CREATE FUNCTION @extschema@.funnel_state_send(@extschema@.funnel_state) RETURNS bytea
AS 'MODULE_PATHNAME', 'leadmgmt_funnel_state_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_state_send(@extschema@.funnel_state) IS 'binary output of funnel_state (versioned)';

CREATE TYPE @extschema@.funnel_state (
  INPUT = @extschema@.funnel_state_in,
  OUTPUT = @extschema@.funnel_state_out,
  RECEIVE = @extschema@.funnel_state_recv,
  SEND = @extschema@.funnel_state_send,
  INTERNALLENGTH = VARIABLE,
  ALIGNMENT = double,
  STORAGE = external
);
COMMENT ON TYPE @extschema@.funnel_state IS 'partial state of window_funnel and funnel_detail: the (time, matched steps) events of a group';

CREATE TYPE @extschema@.funnel_result AS (level integer, step_times timestamptz[]);
COMMENT ON TYPE @extschema@.funnel_result IS 'result of funnel_detail: the level reached and the time of each reached step';
COMMENT ON COLUMN @extschema@.funnel_result.level IS 'highest step reached, 0 when step 1 never happened';
COMMENT ON COLUMN @extschema@.funnel_result.step_times IS 'time of steps 1 to level in the chain that got furthest';

CREATE FUNCTION @extschema@.funnel_transfn(@extschema@.funnel_state, interval, timestamptz, boolean[])
RETURNS @extschema@.funnel_state
AS 'MODULE_PATHNAME', 'leadmgmt_funnel_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_transfn(@extschema@.funnel_state, interval, timestamptz, boolean[]) IS 'transition of window_funnel(win, ts, VARIADIC steps)';
CREATE FUNCTION @extschema@.funnel_transfn(@extschema@.funnel_state, interval, text, timestamptz, boolean[])
RETURNS @extschema@.funnel_state
AS 'MODULE_PATHNAME', 'leadmgmt_funnel_transfn_mode' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_transfn(@extschema@.funnel_state, interval, text, timestamptz, boolean[]) IS 'transition of window_funnel(win, mode, ts, VARIADIC steps)';
CREATE FUNCTION @extschema@.funnel_transfn(@extschema@.funnel_state, interval, text, timestamptz, boolean, boolean[])
RETURNS @extschema@.funnel_state
AS 'MODULE_PATHNAME', 'leadmgmt_funnel_transfn_excluding' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_transfn(@extschema@.funnel_state, interval, text, timestamptz, boolean, boolean[]) IS 'transition of window_funnel_excluding(win, mode, ts, excluded, VARIADIC steps)';
CREATE FUNCTION @extschema@.funnel_combine(@extschema@.funnel_state, @extschema@.funnel_state)
RETURNS @extschema@.funnel_state
AS 'MODULE_PATHNAME', 'leadmgmt_funnel_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_combine(@extschema@.funnel_state, @extschema@.funnel_state) IS 'combines two partial funnel states (parallel workers, Citus)';
CREATE FUNCTION @extschema@.funnel_final_level(@extschema@.funnel_state) RETURNS integer
AS 'MODULE_PATHNAME', 'leadmgmt_funnel_final_level' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_final_level(@extschema@.funnel_state) IS 'final of window_funnel: the highest step reached';
CREATE FUNCTION @extschema@.funnel_final_detail(@extschema@.funnel_state) RETURNS @extschema@.funnel_result
AS 'MODULE_PATHNAME', 'leadmgmt_funnel_final_detail' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.funnel_final_detail(@extschema@.funnel_state) IS 'final of funnel_detail: level and step times';

CREATE AGGREGATE @extschema@.window_funnel(win interval, ts timestamptz, VARIADIC steps boolean[]) (
  SFUNC = @extschema@.funnel_transfn, STYPE = @extschema@.funnel_state, SSPACE = 256,
  COMBINEFUNC = @extschema@.funnel_combine, FINALFUNC = @extschema@.funnel_final_level,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.window_funnel(interval, timestamptz, VARIADIC boolean[]) IS 'highest funnel step reached within the window, 0 if step 1 never happened; one row fills at most one step';
CREATE AGGREGATE @extschema@.window_funnel(win interval, mode text, ts timestamptz, VARIADIC steps boolean[]) (
  SFUNC = @extschema@.funnel_transfn, STYPE = @extschema@.funnel_state, SSPACE = 256,
  COMBINEFUNC = @extschema@.funnel_combine, FINALFUNC = @extschema@.funnel_final_level,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.window_funnel(interval, text, timestamptz, VARIADIC boolean[]) IS 'window_funnel with a comma-separated mode: strict_order, strict_deduplication, strict_increase, first_entry';
CREATE AGGREGATE @extschema@.window_funnel_excluding(win interval, mode text, ts timestamptz, excluded boolean, VARIADIC steps boolean[]) (
  SFUNC = @extschema@.funnel_transfn, STYPE = @extschema@.funnel_state, SSPACE = 256,
  COMBINEFUNC = @extschema@.funnel_combine, FINALFUNC = @extschema@.funnel_final_level,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.window_funnel_excluding(interval, text, timestamptz, boolean, VARIADIC boolean[]) IS 'window_funnel where an excluded row ends every chain in progress, as PostHog exclusions';
CREATE AGGREGATE @extschema@.funnel_detail(win interval, ts timestamptz, VARIADIC steps boolean[]) (
  SFUNC = @extschema@.funnel_transfn, STYPE = @extschema@.funnel_state, SSPACE = 256,
  COMBINEFUNC = @extschema@.funnel_combine, FINALFUNC = @extschema@.funnel_final_detail,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.funnel_detail(interval, timestamptz, VARIADIC boolean[]) IS 'window_funnel plus the time of each reached step, for time-to-convert';
CREATE AGGREGATE @extschema@.funnel_detail(win interval, mode text, ts timestamptz, VARIADIC steps boolean[]) (
  SFUNC = @extschema@.funnel_transfn, STYPE = @extschema@.funnel_state, SSPACE = 256,
  COMBINEFUNC = @extschema@.funnel_combine, FINALFUNC = @extschema@.funnel_final_detail,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.funnel_detail(interval, text, timestamptz, VARIADIC boolean[]) IS 'funnel_detail with a mode, as for window_funnel';
-- ---------------------------------------------------------------------------
-- Funnel reports for BI (docs/bi.md): since 0.2.  Stages: touch, lead,
-- sms_verified, wechat_followed, trial_booked, trial_attended, paid, renewed,
-- within the org's funnel_window (default 14 days) from the first stage.
-- ---------------------------------------------------------------------------

CREATE VIEW @extschema@.lead_funnel WITH (security_invoker = true) AS
WITH ev AS (
  SELECT t.org_id, t.lead_id, t.occurred_at AS ts, 1 AS step
    FROM @extschema@.touchpoint t WHERE t.lead_id IS NOT NULL
  UNION ALL
  SELECT e.org_id, e.lead_id, e.occurred_at,
         CASE e.event_type WHEN 'form_submitted' THEN 2 WHEN 'sms_verified' THEN 3 WHEN 'wechat_followed' THEN 4
              WHEN 'trial_booked' THEN 5 WHEN 'trial_attended' THEN 6 WHEN 'paid' THEN 7 ELSE 8 END
    FROM @extschema@.lead_event e
   WHERE e.event_type IN ('form_submitted', 'sms_verified', 'wechat_followed', 'trial_booked', 'trial_attended', 'paid', 'renewed')
  UNION ALL
  SELECT r.org_id, s.lead_id, r.renewed_at, 8
    FROM @extschema@.renewal r
    JOIN @extschema@.enrollment en ON en.org_id = r.org_id AND en.enrollment_id = r.from_enrollment_id
    JOIN @extschema@.student s ON s.org_id = en.org_id AND s.student_id = en.student_id
   WHERE s.lead_id IS NOT NULL
), f AS (
  SELECT ev.org_id, ev.lead_id,
         @extschema@.funnel_detail(o.funnel_window, ev.ts, ev.step = 1, ev.step = 2, ev.step = 3, ev.step = 4,
                                   ev.step = 5, ev.step = 6, ev.step = 7, ev.step = 8) AS d
    FROM ev JOIN @extschema@.org o ON o.org_id = ev.org_id
   GROUP BY ev.org_id, ev.lead_id
)
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
  LEFT JOIN f ON f.org_id = l.org_id AND f.lead_id = l.lead_id;

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
-- one branch per period grain and breakdown, each with constant labels: a
-- filter on period_grain and breakdown prunes every other branch, and the
-- stages are computed once for the branches that run
WITH s AS MATERIALIZED (
  SELECT * FROM @extschema@.funnel_steps
), g AS (
  SELECT s.org_id, 'day'::text AS period_grain, s.cohort_date AS period_start, 'all'::text AS breakdown,
         'all' AS breakdown_value, s.step_number, s.step_name, count(*) AS leads_reached,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY s.hours_from_previous) AS median_hours,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY s.hours_from_previous) AS p90_hours
    FROM s GROUP BY 1, 2, 3, 4, 5, 6, 7
  UNION ALL
  SELECT s.org_id, 'day'::text AS period_grain, s.cohort_date AS period_start, 'channel'::text AS breakdown,
         s.channel AS breakdown_value, s.step_number, s.step_name, count(*) AS leads_reached,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY s.hours_from_previous) AS median_hours,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY s.hours_from_previous) AS p90_hours
    FROM s GROUP BY 1, 2, 3, 4, 5, 6, 7
  UNION ALL
  SELECT s.org_id, 'day'::text AS period_grain, s.cohort_date AS period_start, 'campaign'::text AS breakdown,
         coalesce(s.campaign, '(none)') AS breakdown_value, s.step_number, s.step_name, count(*) AS leads_reached,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY s.hours_from_previous) AS median_hours,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY s.hours_from_previous) AS p90_hours
    FROM s GROUP BY 1, 2, 3, 4, 5, 6, 7
  UNION ALL
  SELECT s.org_id, 'day'::text AS period_grain, s.cohort_date AS period_start, 'tier'::text AS breakdown,
         coalesce(s.tier::text, '(none)') AS breakdown_value, s.step_number, s.step_name, count(*) AS leads_reached,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY s.hours_from_previous) AS median_hours,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY s.hours_from_previous) AS p90_hours
    FROM s GROUP BY 1, 2, 3, 4, 5, 6, 7
  UNION ALL
  SELECT s.org_id, 'day'::text AS period_grain, s.cohort_date AS period_start, 'city'::text AS breakdown,
         coalesce(s.city, '(none)') AS breakdown_value, s.step_number, s.step_name, count(*) AS leads_reached,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY s.hours_from_previous) AS median_hours,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY s.hours_from_previous) AS p90_hours
    FROM s GROUP BY 1, 2, 3, 4, 5, 6, 7
  UNION ALL
  SELECT s.org_id, 'week'::text AS period_grain, s.cohort_week AS period_start, 'all'::text AS breakdown,
         'all' AS breakdown_value, s.step_number, s.step_name, count(*) AS leads_reached,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY s.hours_from_previous) AS median_hours,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY s.hours_from_previous) AS p90_hours
    FROM s GROUP BY 1, 2, 3, 4, 5, 6, 7
  UNION ALL
  SELECT s.org_id, 'week'::text AS period_grain, s.cohort_week AS period_start, 'channel'::text AS breakdown,
         s.channel AS breakdown_value, s.step_number, s.step_name, count(*) AS leads_reached,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY s.hours_from_previous) AS median_hours,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY s.hours_from_previous) AS p90_hours
    FROM s GROUP BY 1, 2, 3, 4, 5, 6, 7
  UNION ALL
  SELECT s.org_id, 'week'::text AS period_grain, s.cohort_week AS period_start, 'campaign'::text AS breakdown,
         coalesce(s.campaign, '(none)') AS breakdown_value, s.step_number, s.step_name, count(*) AS leads_reached,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY s.hours_from_previous) AS median_hours,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY s.hours_from_previous) AS p90_hours
    FROM s GROUP BY 1, 2, 3, 4, 5, 6, 7
  UNION ALL
  SELECT s.org_id, 'week'::text AS period_grain, s.cohort_week AS period_start, 'tier'::text AS breakdown,
         coalesce(s.tier::text, '(none)') AS breakdown_value, s.step_number, s.step_name, count(*) AS leads_reached,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY s.hours_from_previous) AS median_hours,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY s.hours_from_previous) AS p90_hours
    FROM s GROUP BY 1, 2, 3, 4, 5, 6, 7
  UNION ALL
  SELECT s.org_id, 'week'::text AS period_grain, s.cohort_week AS period_start, 'city'::text AS breakdown,
         coalesce(s.city, '(none)') AS breakdown_value, s.step_number, s.step_name, count(*) AS leads_reached,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY s.hours_from_previous) AS median_hours,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY s.hours_from_previous) AS p90_hours
    FROM s GROUP BY 1, 2, 3, 4, 5, 6, 7
  UNION ALL
  SELECT s.org_id, 'month'::text AS period_grain, s.cohort_month AS period_start, 'all'::text AS breakdown,
         'all' AS breakdown_value, s.step_number, s.step_name, count(*) AS leads_reached,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY s.hours_from_previous) AS median_hours,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY s.hours_from_previous) AS p90_hours
    FROM s GROUP BY 1, 2, 3, 4, 5, 6, 7
  UNION ALL
  SELECT s.org_id, 'month'::text AS period_grain, s.cohort_month AS period_start, 'channel'::text AS breakdown,
         s.channel AS breakdown_value, s.step_number, s.step_name, count(*) AS leads_reached,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY s.hours_from_previous) AS median_hours,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY s.hours_from_previous) AS p90_hours
    FROM s GROUP BY 1, 2, 3, 4, 5, 6, 7
  UNION ALL
  SELECT s.org_id, 'month'::text AS period_grain, s.cohort_month AS period_start, 'campaign'::text AS breakdown,
         coalesce(s.campaign, '(none)') AS breakdown_value, s.step_number, s.step_name, count(*) AS leads_reached,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY s.hours_from_previous) AS median_hours,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY s.hours_from_previous) AS p90_hours
    FROM s GROUP BY 1, 2, 3, 4, 5, 6, 7
  UNION ALL
  SELECT s.org_id, 'month'::text AS period_grain, s.cohort_month AS period_start, 'tier'::text AS breakdown,
         coalesce(s.tier::text, '(none)') AS breakdown_value, s.step_number, s.step_name, count(*) AS leads_reached,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY s.hours_from_previous) AS median_hours,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY s.hours_from_previous) AS p90_hours
    FROM s GROUP BY 1, 2, 3, 4, 5, 6, 7
  UNION ALL
  SELECT s.org_id, 'month'::text AS period_grain, s.cohort_month AS period_start, 'city'::text AS breakdown,
         coalesce(s.city, '(none)') AS breakdown_value, s.step_number, s.step_name, count(*) AS leads_reached,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY s.hours_from_previous) AS median_hours,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY s.hours_from_previous) AS p90_hours
    FROM s GROUP BY 1, 2, 3, 4, 5, 6, 7
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

SELECT @extschema@.register_table('@extschema@.tier_policy', '{app,admin}');
SELECT @extschema@.register_table('@extschema@.tier_change', '{app,admin}', true);

CREATE VIEW @extschema@.effective_tier_policy WITH (security_invoker = true) AS
SELECT o.org_id,
       d.tier,
       coalesce(p.handler_role, d.handler_role)         AS handler_role,
       coalesce(p.cost_per_contact, d.cost_per_contact) AS cost_per_contact,
       coalesce(p.follow_up_sla, d.follow_up_sla)       AS follow_up_sla,
       CASE WHEN p.org_id IS NULL THEN d.min_score ELSE p.min_score END AS min_score,
       p.org_id IS NOT NULL                             AS is_customised
  FROM @extschema@.org o
 CROSS JOIN (VALUES ('A'::char(1), 'top_sales', 30.00::numeric(14,2), interval '1 hour', 0.50::float8),
                    ('B', 'sales', 20.00, interval '4 hours', 0.20),
                    ('C', 'tmk', 3.00, interval '24 hours', 0.05),
                    ('D', 'ai_bot', 0.30, interval '72 hours', 0.00))
       AS d(tier, handler_role, cost_per_contact, follow_up_sla, min_score)
  LEFT JOIN @extschema@.tier_policy p ON p.org_id = o.org_id AND p.tier = d.tier;
COMMENT ON VIEW @extschema@.effective_tier_policy IS 'the tier policy each org runs: its own tier_policy rows, or the defaults (A top_sales 30.00 1 h >= 0.50, B sales 20.00 4 h >= 0.20, C tmk 3.00 24 h >= 0.05, D ai_bot 0.30 72 h)';
COMMENT ON COLUMN @extschema@.effective_tier_policy.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.effective_tier_policy.tier IS 'tier A to D';
COMMENT ON COLUMN @extschema@.effective_tier_policy.handler_role IS 'rep role that handles the tier';
COMMENT ON COLUMN @extschema@.effective_tier_policy.cost_per_contact IS 'handling cost of one contact';
COMMENT ON COLUMN @extschema@.effective_tier_policy.follow_up_sla IS 'first follow-up due within this time';
COMMENT ON COLUMN @extschema@.effective_tier_policy.min_score IS 'least conversion probability that earns the tier';
COMMENT ON COLUMN @extschema@.effective_tier_policy.is_customised IS 'true when the org set this tier itself';

-- stage and tier of the leads of an org, computed set-based: one grouped
-- pass over the events, the policy read once
CREATE FUNCTION @extschema@.lead_tiers(org_id bigint, only_lead bigint DEFAULT NULL)
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
    SELECT l.lead_id, l.tier, l.score FROM @extschema@.lead l
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

CREATE FUNCTION @extschema@.lead_tier(org_id bigint, lead_id bigint) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT t.tier::text FROM @extschema@.lead_tiers(lead_tier.org_id, lead_tier.lead_id) t
$$;
COMMENT ON FUNCTION @extschema@.lead_tier(bigint, bigint) IS 'tier A to D a lead should have now; NULL for an unknown lead';

CREATE FUNCTION @extschema@.refresh_tiers(org_id bigint) RETURNS integer
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  o @extschema@.org := @extschema@.ingest_org(refresh_tiers.org_id);
  n integer;
BEGIN
  -- l.tier is checked again on the row being updated, so a concurrent refresh
  -- that got there first makes this one skip the lead rather than log it twice
  WITH changed AS (
    UPDATE @extschema@.lead l SET tier = t.tier, updated_at = now()
      FROM @extschema@.lead_tiers(o.org_id) t
     WHERE l.org_id = o.org_id AND l.lead_id = t.lead_id AND l.tier IS DISTINCT FROM t.tier
    RETURNING l.lead_id, t.current_tier AS old_tier, t.tier AS new_tier, t.stage, t.score, t.reason
  )
  INSERT INTO @extschema@.tier_change (org_id, lead_id, old_tier, new_tier, stage, score, reason)
  SELECT o.org_id, c.lead_id, c.old_tier, c.new_tier, c.stage, c.score, c.reason FROM changed c;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$$;
COMMENT ON FUNCTION @extschema@.refresh_tiers(bigint) IS 'recomputes the tier of every lead of an org in one set-based pass, updates the leads whose tier changed and logs each change with its reason in tier_change; returns how many changed';

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
