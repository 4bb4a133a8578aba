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
