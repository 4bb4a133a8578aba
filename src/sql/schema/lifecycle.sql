
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
