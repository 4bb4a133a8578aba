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
