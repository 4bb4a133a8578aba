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
