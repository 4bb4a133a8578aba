-- ===========================================================================
-- The code the data model needs: the vocabularies its CHECK constraints and
-- the API share, and its trigger functions.  The tables themselves are in
-- src/sql/schema/schema.sql, which install() runs (see the install part).
-- ===========================================================================

-- The vocabularies the tables and the API share, each written once: the
-- CHECK constraints and the functions that validate their input read them.
CREATE FUNCTION @extschema@.touch_kinds() RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT '{impression,ad_click,visit,form,call,message,referral,offline}'::text[] $$;
COMMENT ON FUNCTION @extschema@.touch_kinds() IS 'the kinds of touchpoint: impression, ad_click, visit, form, call, message, referral, offline';
CREATE FUNCTION @extschema@.event_types() RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT '{form_submitted,sms_verified,wechat_followed,trial_booked,trial_attended,paid,refunded,renewed,referred,unsubscribed,lost}'::text[] $$;
COMMENT ON FUNCTION @extschema@.event_types() IS 'the types of lead event: form_submitted, sms_verified, wechat_followed, trial_booked, trial_attended, paid, refunded, renewed, referred, unsubscribed, lost';
CREATE FUNCTION @extschema@.follow_up_channels() RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT '{call,sms,wechat,ai_call,visit,email}'::text[] $$;
COMMENT ON FUNCTION @extschema@.follow_up_channels() IS 'the channels of a follow-up: call, sms, wechat, ai_call, visit, email';
CREATE FUNCTION @extschema@.follow_up_outcomes() RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT '{connected,no_answer,busy,refused,interested,not_interested,trial_booked,wrong_number,sent}'::text[] $$;
COMMENT ON FUNCTION @extschema@.follow_up_outcomes() IS 'the outcomes of a follow-up: connected, no_answer, busy, refused, interested, not_interested, trial_booked, wrong_number, sent';
-- the 22023 error of an input outside its vocabulary, with the valid values
CREATE FUNCTION @extschema@.check_one_of(val text, valid text[], what text, plural text) RETURNS void
LANGUAGE plpgsql IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  -- (since 0.16 a NULL is 22004, as everywhere else, not an invalid value)
  IF val IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = format('%s must not be null', what);
  END IF;
  IF NOT coalesce(val = ANY (valid), false) THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('invalid %s "%s"', what, left(val, 40)),
      HINT = format('Valid %s: %s.', plural, array_to_string(valid, ', '));
  END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.check_one_of(text, text[], text, text) IS 'raises 22023 (invalid WHAT "val", with the valid values as hint) unless val is one of valid; 22004 for a NULL (since 0.16)';

CREATE FUNCTION @extschema@.org_check_timezone() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_timezone_names WHERE name = NEW.timezone) THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('unknown time zone "%s"', left(NEW.timezone, 40)),
      HINT = 'Use an IANA name from pg_timezone_names, such as Asia/Shanghai.';
  END IF;
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION @extschema@.org_check_timezone() IS 'trigger: rejects an org whose time zone is not a known IANA name';

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
