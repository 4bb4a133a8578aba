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
