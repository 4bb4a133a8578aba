-- ---------------------------------------------------------------------------
-- apply_privileges: the privileges of a role from its rows in access_grant
-- (docs/dba/security.md).  Replaced by every version that adds functions for
-- roles (0.4: the engine functions claim_lead, release_lead, log_follow_up).
-- ---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION @extschema@.apply_privileges(role regrole)
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
  -- SECURITY DEFINER engine functions a rep calls; each checks the caller itself
  engine_fns text := '@extschema@.claim_lead(bigint, bigint, bigint, timestamptz), '
                     '@extschema@.release_lead(bigint, bigint, bigint, timestamptz), '
                     '@extschema@.log_follow_up(bigint, bigint, bigint, text, text, numeric, timestamptz, integer, text)';
BEGIN
  SELECT coalesce(array_agg(DISTINCT g.access), '{}') INTO kinds
    FROM @extschema@.access_grant g WHERE g.role_name = (SELECT rolname FROM pg_roles WHERE oid = role);

  -- start from nothing, then grant what the role's kinds of access need
  EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA @extschema@ FROM %I', role::text);
  EXECUTE format('REVOKE ALL ON FUNCTION @extschema@.lead_phone(bigint, bigint) FROM %I', role::text);
  EXECUTE format('REVOKE ALL ON FUNCTION %s FROM %I', engine_fns, role::text);
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
  IF kinds && '{sales,app,admin}' THEN
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', engine_fns, role::text);
  END IF;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.apply_privileges(regrole) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.apply_privileges(regrole) IS 'recomputes the table, column and function privileges of a role from its rows in access_grant';
