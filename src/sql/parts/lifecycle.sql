
-- ---------------------------------------------------------------------------
-- Lead lifecycle (since 0.14; docs/reference/lifecycle.md).  A lead is new,
-- then contacting, then in trial (booked, attended), then won or lost.  A
-- paid order wins it; a lost lead carries a reason from the org's list; a
-- full refund reopens a won lead where the org says so.  The lead's triggers
-- check every move, whoever makes it, and record it in lead_status_change.
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.lead_transitions() RETURNS TABLE (from_status text, to_status text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  VALUES ('new', 'contacting'), ('new', 'trial_booked'), ('new', 'trial_attended'), ('new', 'won'), ('new', 'lost'),
         ('contacting', 'trial_booked'), ('contacting', 'trial_attended'), ('contacting', 'won'), ('contacting', 'lost'),
         ('trial_booked', 'contacting'), ('trial_booked', 'trial_attended'), ('trial_booked', 'won'), ('trial_booked', 'lost'),
         ('trial_attended', 'trial_booked'), ('trial_attended', 'won'), ('trial_attended', 'lost'),
         ('lost', 'contacting'), ('lost', 'won'),
         ('won', 'contacting')
$$;
COMMENT ON FUNCTION @extschema@.lead_transitions() IS 'the moves a lead''s status may make: forward through the funnel, to lost from any open status, back to contacting from a cancelled trial or from lost, to won only with a paid order, and from won back to contacting only when every paid order is fully refunded';

CREATE FUNCTION @extschema@.lost_reason_defaults() RETURNS TABLE (code text, label text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  VALUES ('price', 'price too high'), ('schedule', 'schedule does not fit'), ('no_need', 'no need any more'),
         ('unreachable', 'cannot be reached'), ('competitor', 'chose a competitor'), ('location', 'too far away'),
         ('other', 'other')
$$;
COMMENT ON FUNCTION @extschema@.lost_reason_defaults() IS 'the lost reasons every org starts with (create_org, and schema step 0.14 for existing orgs)';

-- a lead's paid orders that are not fully refunded (a free order counts)
CREATE FUNCTION @extschema@.lead_has_live_order(org_id bigint, lead_id bigint) RETURNS boolean
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  so record;
BEGIN
  -- one table per query, each filtered by the org: in a trigger on a Citus
  -- shard only queries on the node's own shards may run (PL/pgSQL, too:
  -- Citus cannot plan an SQL function's query with parameters)
  FOR so IN SELECT o.order_id, o.amount FROM @extschema@.sales_order o
             WHERE o.org_id = lead_has_live_order.org_id AND o.lead_id = lead_has_live_order.lead_id AND o.status = 'paid' LOOP
    IF so.amount = 0 OR so.amount > (SELECT coalesce(sum(r.amount), 0) FROM @extschema@.refund r
                                      WHERE r.org_id = lead_has_live_order.org_id AND r.order_id = so.order_id) THEN
      RETURN true;
    END IF;
  END LOOP;
  RETURN false;
END
$$;
COMMENT ON FUNCTION @extschema@.lead_has_live_order(bigint, bigint) IS 'true when the lead has a paid order that is not fully refunded: what keeps it won';

CREATE FUNCTION @extschema@.lead_status_check() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF NEW.status IS DISTINCT FROM OLD.status THEN
    IF NOT EXISTS (SELECT 1 FROM @extschema@.lead_transitions() t
                    WHERE t.from_status = OLD.status AND t.to_status = NEW.status) THEN
      RAISE EXCEPTION USING ERRCODE = '22023',
        MESSAGE = format('lead %s cannot go from %s to %s', NEW.lead_id, OLD.status, NEW.status),
        HINT = 'leadmgmt.lead_transitions() lists the moves a lead can make.';
    END IF;
    IF NEW.status = 'won' AND NOT @extschema@.lead_has_live_order(NEW.org_id, NEW.lead_id) THEN
      RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('lead %s has no paid order', NEW.lead_id),
        HINT = 'A paid order wins a lead: record it with leadmgmt.record_order().';
    END IF;
    IF OLD.status = 'won' AND @extschema@.lead_has_live_order(NEW.org_id, NEW.lead_id) THEN
      RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('lead %s has a paid order that is not fully refunded', NEW.lead_id),
        HINT = 'A won lead reopens when all its paid orders are refunded in full.';
    END IF;
    -- a move made by hand happens at the server's clock; the moves the
    -- orders, refunds, events and follow-ups make set their own time
    IF NEW.status_changed_at IS NOT DISTINCT FROM OLD.status_changed_at THEN
      NEW.status_changed_at := now();
    END IF;
    IF NEW.status_note IS NOT DISTINCT FROM OLD.status_note THEN
      NEW.status_note := NULL;
    END IF;
  END IF;
  IF NEW.status = 'lost' THEN
    IF NEW.lost_reason IS NULL THEN
      RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('lost lead %s needs a lost reason', NEW.lead_id),
        HINT = 'Give one of the org''s codes in leadmgmt.lost_reason: leadmgmt.mark_lost(org_id, lead_id, reason).';
    END IF;
    IF NEW.lost_reason IS DISTINCT FROM OLD.lost_reason
       AND NOT EXISTS (SELECT 1 FROM @extschema@.lost_reason r
                        WHERE r.org_id = NEW.org_id AND r.code = NEW.lost_reason AND r.active) THEN
      RAISE EXCEPTION USING ERRCODE = '23503',
        MESSAGE = format('unknown lost reason "%s" in org %s', left(NEW.lost_reason, 40), NEW.org_id),
        HINT = 'The org''s active reasons are in leadmgmt.lost_reason (add one with leadmgmt.set_lost_reason).';
    END IF;
  ELSE
    NEW.lost_reason := NULL;
  END IF;
  RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.lead_status_check() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.lead_status_check() IS 'trigger: a lead''s status moves only as lead_transitions() allows (22023), to won only with a paid order and out of won only when its orders are fully refunded; lost needs an active reason of the org (22023, 23503); a move made by hand is timed by the server''s clock';

CREATE FUNCTION @extschema@.lead_status_track() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  -- the cause: the triggers of orders, refunds and events make only their
  -- own moves (won; won to contacting; the trials), log_follow_up notes
  -- its follow-up, and any move to lost is a loss
  INSERT INTO @extschema@.lead_status_change (org_id, lead_id, from_status, to_status, changed_at, cause, note, lost_reason, rep_id)
  VALUES (NEW.org_id, NEW.lead_id, OLD.status, NEW.status, NEW.status_changed_at,
          CASE WHEN NEW.status = 'lost' THEN 'lost'
               WHEN pg_trigger_depth() > 1 AND NEW.status = 'won' THEN 'order'
               WHEN pg_trigger_depth() > 1 AND OLD.status = 'won' THEN 'refund'
               WHEN pg_trigger_depth() > 1 AND NEW.status IN ('trial_booked', 'trial_attended') THEN 'event'
               WHEN NEW.status_note LIKE 'follow-up %' THEN 'follow_up'
               ELSE 'update' END,
          NEW.status_note, NEW.lost_reason, NEW.owner_rep_id);
  RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.lead_status_track() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.lead_status_track() IS 'trigger: records each move of a lead''s status in lead_status_change, with its time, cause, note, lost reason, owner and the session''s role';

-- a move made by an order, refund, event or follow-up: at the time of what
-- made it, never before the lead entered its status (so stays are never
-- negative and the history keeps its order); only from the given statuses
CREATE FUNCTION @extschema@.lead_move(org_id bigint, lead_id bigint, from_statuses text[], to_status text,
                                      at timestamptz, note text) RETURNS boolean
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  UPDATE @extschema@.lead l
     SET status = lead_move.to_status, status_note = lead_move.note,
         status_changed_at = greatest(lead_move.at, coalesce(l.status_changed_at, l.created_at) + interval '1 microsecond'),
         updated_at = now()
   WHERE l.org_id = lead_move.org_id AND l.lead_id = lead_move.lead_id AND l.status = ANY (lead_move.from_statuses);
  RETURN FOUND;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.lead_move(bigint, bigint, text[], text, timestamptz, text) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.lead_move(bigint, bigint, text[], text, timestamptz, text) IS 'moves a lead to a status when it is in one of the given ones, timed by what made the move (never before it entered its status); returns whether it moved';

CREATE FUNCTION @extschema@.sales_order_lifecycle() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.status = 'paid' THEN
    RETURN NULL;
  END IF;
  PERFORM @extschema@.lead_move(NEW.org_id, NEW.lead_id, '{new,contacting,trial_booked,trial_attended,lost}', 'won',
                                NEW.paid_at, format('order %s paid', NEW.order_id));
  RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.sales_order_lifecycle() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.sales_order_lifecycle() IS 'trigger: a paid order wins its lead, at its payment time';

CREATE FUNCTION @extschema@.refund_lifecycle() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  l bigint;
BEGIN
  SELECT so.lead_id INTO l FROM @extschema@.sales_order so WHERE so.org_id = NEW.org_id AND so.order_id = NEW.order_id;
  IF (SELECT o.reopen_on_full_refund FROM @extschema@.org o WHERE o.org_id = NEW.org_id)
     AND NOT @extschema@.lead_has_live_order(NEW.org_id, l) THEN
    PERFORM @extschema@.lead_move(NEW.org_id, l, '{won}', 'contacting', NEW.refunded_at,
                                  format('refund %s: every paid order refunded in full', NEW.refund_id));
  END IF;
  RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.refund_lifecycle() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.refund_lifecycle() IS 'trigger: when the org''s reopen_on_full_refund is on and a refund leaves the lead no paid order that is not fully refunded, the won lead goes back to contacting';

CREATE FUNCTION @extschema@.lead_event_lifecycle() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  PERFORM @extschema@.lead_move(NEW.org_id, NEW.lead_id,
                                CASE NEW.event_type WHEN 'trial_booked' THEN '{new,contacting}'::text[]
                                                    ELSE '{new,contacting,trial_booked}'::text[] END,
                                NEW.event_type, NEW.occurred_at, format('event %s', NEW.event_id));
  RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.lead_event_lifecycle() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.lead_event_lifecycle() IS 'trigger: a trial_booked event moves a new or contacting lead to trial_booked, a trial_attended event one not yet in trial_attended, won or lost, at the event''s time';

-- ---------------------------------------------------------------------------
-- The lifecycle's API: losses and their reasons, orders and refunds (which
-- win and reopen leads).  Org first; 22004 for NULLs, 22023 for bad values,
-- 23503 for unknown references; the time of a loss is the server's.
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.mark_lost(org_id bigint, lead_id bigint, reason text, note text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  o record := @extschema@.ingest_org(mark_lost.org_id);
  owner bigint;
  why text;
BEGIN
  IF mark_lost.reason IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'reason must not be null';
  END IF;
  IF length(mark_lost.note) > 200 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'note must be at most 200 characters';
  END IF;
  SELECT l.owner_rep_id INTO owner FROM @extschema@.lead l
   WHERE l.org_id = o.org_id AND l.lead_id = mark_lost.lead_id FOR UPDATE;
  -- app and admin roles for any lead of the org, a sales role for its own;
  -- then the lead itself, so that a rep learns nothing of others' leads
  PERFORM @extschema@.check_rep_access(o.org_id, owner);
  PERFORM @extschema@.lead_of(o, mark_lost.lead_id);
  -- (a value: Citus refuses a function that is not immutable in a COALESCE)
  why := coalesce(mark_lost.note, format('lost: %s', left(mark_lost.reason, 40)));
  UPDATE @extschema@.lead l
     SET status = 'lost', lost_reason = mark_lost.reason, status_note = why, updated_at = now()
   WHERE l.org_id = o.org_id AND l.lead_id = mark_lost.lead_id AND (l.status, l.lost_reason) IS DISTINCT FROM ('lost', mark_lost.reason);
  RETURN FOUND;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.mark_lost(bigint, bigint, text, text) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.mark_lost(bigint, bigint, text, text) IS 'marks a lead lost for one of the org''s active reasons (lost_reason codes), at the server''s clock: app and admin roles for any lead of their org, a sales role for its own (42501); a won lead cannot be lost (22023), an unknown reason is 23503; returns false when the lead was already lost for that reason';

CREATE FUNCTION @extschema@.set_lost_reason(org_id bigint, code text, label text, active boolean DEFAULT true)
RETURNS boolean
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  o record := @extschema@.ingest_org(set_lost_reason.org_id);
BEGIN
  IF set_lost_reason.code IS NULL OR set_lost_reason.label IS NULL OR set_lost_reason.active IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'code, label and active must not be null';
  END IF;
  IF set_lost_reason.code !~ '^[a-z][a-z0-9_]{0,39}$' THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('invalid lost reason code "%s"', left(set_lost_reason.code, 40)),
      HINT = 'A code is a lowercase letter, then up to 39 lowercase letters, digits or _.';
  END IF;
  IF length(set_lost_reason.label) NOT BETWEEN 1 AND 100 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'label must be 1 to 100 characters';
  END IF;
  INSERT INTO @extschema@.lost_reason (org_id, code, label, active)
  VALUES (o.org_id, set_lost_reason.code, set_lost_reason.label, set_lost_reason.active)
  ON CONFLICT (org_id, code) DO UPDATE SET label = EXCLUDED.label, active = EXCLUDED.active;
  RETURN true;
END
$$;
COMMENT ON FUNCTION @extschema@.set_lost_reason(bigint, text, text, boolean) IS 'adds a lost reason to the org''s list or changes its label, or retires it (active false: leads lost for it keep it); app and admin roles; returns true';

CREATE FUNCTION @extschema@.record_order(org_id bigint, lead_id bigint, product text, amount numeric, paid_at timestamptz,
                                         list_price numeric DEFAULT NULL, rep_id bigint DEFAULT NULL,
                                         is_renewal boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  o record := @extschema@.ingest_org(record_order.org_id);
  price numeric := coalesce(record_order.list_price, record_order.amount);
  rep bigint := record_order.rep_id;
  new_id bigint;
BEGIN
  IF record_order.product IS NULL OR record_order.amount IS NULL OR record_order.is_renewal IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'product, amount and is_renewal must not be null';
  END IF;
  IF length(record_order.product) NOT BETWEEN 1 AND 200 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'product must be 1 to 200 characters';
  END IF;
  IF record_order.amount < 0 OR record_order.amount = 'NaN' OR record_order.amount >= 1e12
     OR price < record_order.amount OR price = 'NaN' OR price >= 1e12 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'amount must be from 0 to list_price, and list_price below 10^12',
      DETAIL = format('amount %s, list_price %s', record_order.amount, price);
  END IF;
  PERFORM @extschema@.ingest_check_time(o, record_order.paid_at, 'paid_at');
  PERFORM @extschema@.lead_of(o, record_order.lead_id);
  IF rep IS NULL THEN
    SELECT l.owner_rep_id INTO rep FROM @extschema@.lead l WHERE l.org_id = o.org_id AND l.lead_id = record_order.lead_id;
  ELSIF NOT EXISTS (SELECT 1 FROM @extschema@.sales_rep r WHERE r.org_id = o.org_id AND r.rep_id = rep) THEN
    RAISE EXCEPTION USING ERRCODE = '23503', MESSAGE = format('unknown sales rep %s in org %s', rep, o.org_id);
  END IF;
  INSERT INTO @extschema@.sales_order (org_id, lead_id, rep_id, product, list_price, discount, amount, status, is_renewal,
                                       created_at, paid_at)
  VALUES (o.org_id, record_order.lead_id, rep, record_order.product, round(price, 2), round(price, 2) - round(record_order.amount, 2),
          round(record_order.amount, 2), 'paid', record_order.is_renewal, record_order.paid_at, record_order.paid_at)
  RETURNING order_id INTO new_id;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION @extschema@.record_order(bigint, bigint, text, numeric, timestamptz, numeric, bigint, boolean) IS 'records a paid order of a lead (amount after discount, list_price by default the amount, rep by default the lead''s owner), which wins the lead at paid_at (lead_transitions); paid_at within the org''s window around the server''s clock; returns the order id';

CREATE FUNCTION @extschema@.record_refund(org_id bigint, order_id bigint, amount numeric, refunded_at timestamptz,
                                          reason text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  o record := @extschema@.ingest_org(record_refund.org_id);
  new_id bigint;
BEGIN
  IF record_refund.order_id IS NULL OR record_refund.amount IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'order_id and amount must not be null';
  END IF;
  IF record_refund.amount <= 0 OR record_refund.amount = 'NaN' OR record_refund.amount >= 1e12 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'amount must be more than 0 and below 10^12';
  END IF;
  IF length(record_refund.reason) > 1000 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'reason must be at most 1000 characters';
  END IF;
  PERFORM @extschema@.ingest_check_time(o, record_refund.refunded_at, 'refunded_at');
  IF NOT EXISTS (SELECT 1 FROM @extschema@.sales_order so WHERE so.org_id = o.org_id AND so.order_id = record_refund.order_id) THEN
    RAISE EXCEPTION USING ERRCODE = '23503', MESSAGE = format('unknown order %s in org %s', record_refund.order_id, o.org_id);
  END IF;
  INSERT INTO @extschema@.refund (org_id, order_id, amount, refunded_at, reason)
  VALUES (o.org_id, record_refund.order_id, round(record_refund.amount, 2), record_refund.refunded_at, record_refund.reason)
  RETURNING refund_id INTO new_id;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION @extschema@.record_refund(bigint, bigint, numeric, timestamptz, text) IS 'records a refund of (part of) a paid order (23514 when the order is not paid, the refund precedes the payment or the refunds would exceed the amount); a full refund of every paid order reopens a won lead where the org''s reopen_on_full_refund is on; returns the refund id';
