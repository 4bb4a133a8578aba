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
