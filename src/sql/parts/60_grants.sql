-- ---------------------------------------------------------------------------
-- Granting access to roles (docs/dba/security.md).  These functions issue
-- GRANT and REVOKE, so only the extension owner (or a superuser) may run
-- them; nothing here is SECURITY DEFINER.
-- ---------------------------------------------------------------------------

-- apply_privileges(role) is in 99e_privileges.sql, where each version that
-- adds functions for roles replaces it.

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
