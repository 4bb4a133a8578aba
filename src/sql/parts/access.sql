-- ---------------------------------------------------------------------------
-- register_table: what every table of leadmgmt's schema gets, in one place
-- (since 0.2).  install() calls it for the tables of src/sql/schema, and a
-- schema step that adds a table calls it too.
-- ---------------------------------------------------------------------------

-- Which kinds of access read a table or view (since 0.15, one list for the
-- policies and the privileges): a role's rights in an org are those of the
-- kind it holds there, since row-level security checks this per org, while
-- the table privileges of a role are the union over its orgs.
CREATE FUNCTION @extschema@.sales_relations() RETURNS name[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT '{org,channel,campaign,team,sales_rep,rep_shift,lead,tag,teacher,course,course_class,lost_reason,lead_overview}'::name[] $$;
COMMENT ON FUNCTION @extschema@.sales_relations() IS 'the tables and views a sales role reads (the sales side of the funnel, nothing about money, not the rows of a lead, which it reads with lead_history); lead with its own rows only';

CREATE FUNCTION @extschema@.table_readers(rel name) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE WHEN rel = 'lead_contact' THEN '{app,admin}'::text[]
              WHEN rel = ANY (@extschema@.sales_relations()) THEN '{reporting,app,admin,sales}'::text[]
              ELSE '{reporting,app,admin}'::text[] END
$$;
COMMENT ON FUNCTION @extschema@.table_readers(name) IS 'the kinds of access that read a table or view of leadmgmt''s schema in an org: app and admin everything, reporting all but lead_contact (the phones), sales the relations of sales_relations() (never the rows of a lead); the tenant_read policies and apply_privileges read it';

CREATE FUNCTION @extschema@.register_table(tbl regclass, writers text[])
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET client_min_messages = warning
AS $$
DECLARE
  rel name := (SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = tbl);
BEGIN
  -- rows of the orgs the role may act for; writes with the given kinds of
  -- access.  Plain expressions (since 0.11): no subquery, no table read, so
  -- that Citus accepts them on distributed tables and every node agrees; and
  -- permissive only (Citus 13 makes restrictive policies permissive on the
  -- shards, so a restriction must live inside the permissive policy).
  EXECUTE format('ALTER TABLE @extschema@.%I ENABLE ROW LEVEL SECURITY', rel);
  EXECUTE format('DROP POLICY IF EXISTS tenant_read ON @extschema@.%I', rel);
  EXECUTE format('DROP POLICY IF EXISTS tenant_write ON @extschema@.%I', rel);
  EXECUTE format('DROP POLICY IF EXISTS sales_scope ON @extschema@.%I', rel);
  -- the kinds that read it, per org (since 0.15 table_readers(), which
  -- also keeps the rows of a lead from sales roles, who read a lead's
  -- history with lead_history(); until 0.14 a flag of this function and
  -- every kind otherwise, which let a role read an org's rows with the
  -- privileges it holds for another org)
  EXECUTE format($f$CREATE POLICY tenant_read ON @extschema@.%I FOR SELECT
    USING (@extschema@.acts_for(org_id, %L)) $f$, rel, @extschema@.table_readers(rel));
  EXECUTE format($f$CREATE POLICY tenant_write ON @extschema@.%I FOR ALL
    USING (@extschema@.acts_for(org_id, %L))
    WITH CHECK (@extschema@.acts_for(org_id, %L)) $f$, rel, writers, writers);
END
$$;
REVOKE ALL ON FUNCTION @extschema@.register_table(regclass, text[]) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.register_table(regclass, text[]) IS 'gives a table of leadmgmt''s schema what every one has: row-level security, tenant_read (the kinds of table_readers(), since 0.15, which replaced a flag for the rows of a lead) and tenant_write (the given kinds) policies; replaces them when run again';

CREATE FUNCTION @extschema@.current_org() RETURNS bigint
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v text := current_setting('leadmgmt.org_id', true);
BEGIN
  IF v IS NULL OR v = '' THEN
    RETURN NULL;
  END IF;
  IF v !~ '^[0-9]{1,18}$' THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('invalid leadmgmt.org_id setting "%s"', left(v, 40)),
      HINT = 'Set it to the numeric id of an org, for example SET LOCAL leadmgmt.org_id = ''1''.';
  END IF;
  RETURN v::bigint;
END
$$;
COMMENT ON FUNCTION @extschema@.current_org() IS 'org chosen for this transaction or session with SET leadmgmt.org_id, or NULL when none is set';

-- In C since 0.11 (src/access.c): from the role's memberships in the group
-- roles of its grants, by name, reading no table; each call site keeps its
-- answer for the query, so the policies call them for every row.
CREATE FUNCTION @extschema@.acting_org_ids(kinds text[]) RETURNS bigint[]
AS 'MODULE_PATHNAME', 'leadmgmt_acting_org_ids' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.acting_org_ids(text[]) IS 'orgs the current role may act for with one of the given kinds of access (from its group roles, grant_role_name); app access counts only for the org set in leadmgmt.org_id, and a set leadmgmt.org_id narrows every kind to that org';

-- The predicate of the policies (since 0.15): org_id = ANY (acting_org_ids(kinds)),
-- which the planner takes to keep every row (a policy's estimate multiplied
-- the BI filters' and left plans for one row) and uses as that index
-- condition on org_id (acts_for_support, in C beside it)
CREATE FUNCTION @extschema@.acts_for_support(internal) RETURNS internal
AS 'MODULE_PATHNAME', 'leadmgmt_acts_for_support' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
REVOKE ALL ON FUNCTION @extschema@.acts_for_support(internal) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.acts_for_support(internal) IS 'planner support of acts_for: selectivity 1 (a policy keeps what the role may read; the query''s own filters decide the estimates), the cost of a binary search, and the index condition org_id = ANY (acting_org_ids(kinds))';

CREATE FUNCTION @extschema@.acts_for(org_id bigint, kinds text[]) RETURNS boolean
AS 'MODULE_PATHNAME', 'leadmgmt_acts_for' LANGUAGE C STABLE STRICT PARALLEL SAFE
SUPPORT @extschema@.acts_for_support;
COMMENT ON FUNCTION @extschema@.acts_for(bigint, text[]) IS 'whether the current role may act for the org with one of the given kinds of access: org_id = ANY (acting_org_ids(kinds)); the predicate of the row-level security policies (since 0.15), with planner support (acts_for_support)';

CREATE FUNCTION @extschema@.my_rep_ids() RETURNS bigint[]
AS 'MODULE_PATHNAME', 'leadmgmt_my_rep_ids' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.my_rep_ids() IS 'sales reps the current role acts as (in the org set in leadmgmt.org_id, if one is)';

CREATE FUNCTION @extschema@.caller_org_ids(kinds text[]) RETURNS bigint[]
AS 'MODULE_PATHNAME', 'leadmgmt_caller_org_ids' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.caller_org_ids(text[]) IS 'acting_org_ids for the caller of a SECURITY DEFINER function (the role set with SET ROLE, else the session user), whose grants such a function checks';

CREATE FUNCTION @extschema@.caller_rep_ids() RETURNS bigint[]
AS 'MODULE_PATHNAME', 'leadmgmt_caller_rep_ids' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.caller_rep_ids() IS 'my_rep_ids for the caller of a SECURITY DEFINER function (the role set with SET ROLE, else the session user)';

CREATE FUNCTION @extschema@.sales_scope_org_ids() RETURNS bigint[]
AS 'MODULE_PATHNAME', 'leadmgmt_sales_scope_org_ids' LANGUAGE C STABLE PARALLEL SAFE;
-- No policy calls it since 0.11 (lead's policies hold the sales rules); it
-- stays because the policies of 0.10 call it until install() replaces them
-- after ALTER EXTENSION UPDATE, and as a way to ask what a role may see.
COMMENT ON FUNCTION @extschema@.sales_scope_org_ids() IS 'orgs where the current role has only sales access, and so sees only its own leads and the public pool';

CREATE FUNCTION @extschema@.grant_role_name(org_id bigint, access text, rep_id bigint) RETURNS name
AS 'MODULE_PATHNAME', 'leadmgmt_grant_role_name' LANGUAGE C STABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.grant_role_name(bigint, text, bigint) IS 'the group role of a grant: lm_<tag>_<org>_<access>, or lm_<tag>_<org>_rep_<rep> for sales access, where <tag> is the first 8 hex digits of md5(current_database()); grant_access makes the role a member of it';

CREATE FUNCTION @extschema@.is_acting_role(role_name name) RETURNS boolean
AS 'MODULE_PATHNAME', 'leadmgmt_is_acting_role' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.is_acting_role(name) IS 'whether the current role has the privileges of the named role (false for a role that does not exist); the policy on access_grant';

-- The group roles of a role's grants: exactly its rows in access_grant.
CREATE FUNCTION @extschema@.sync_grant_roles(role regrole) RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  rname name := (SELECT r.rolname FROM pg_roles r WHERE r.oid = role);
  prefix text := left(@extschema@.grant_role_name(0, 'admin', NULL), 12);
  want name[];
  n name;
BEGIN
  -- on Citus, roles may change after a distributed read in the transaction
  -- only when that read used one connection per node
  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
    PERFORM set_config('citus.multi_shard_modify_mode', 'sequential', true);
  END IF;
  SELECT coalesce(array_agg(@extschema@.grant_role_name(g.org_id, g.access, g.rep_id)), '{}') INTO want
    FROM @extschema@.access_grant g WHERE g.role_name = rname;
  -- on a cluster, a role Citus does not propagate (made in another database,
  -- or on each node by hand) would get its memberships on this node only and
  -- read nothing through the cluster: refuse it (since 0.12)
  IF cardinality(want) > 0 AND EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_dist_node d WHERE d.groupid <> 0 AND d.isactive)
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_object o
                        WHERE o.classid = 'pg_catalog.pg_authid'::regclass AND o.objid = role) THEN
      RAISE EXCEPTION USING ERRCODE = '55000',
        MESSAGE = format('role %s is not propagated to the workers by Citus', rname),
        DETAIL = 'Its group role memberships would exist on the coordinator only, and it would read nothing through the cluster.',
        HINT = 'Create the role on the coordinator in this database (CREATE ROLE), so that Citus creates it on every node; see docs/dba/citus.md.';
    END IF;
  END IF;
  FOREACH n IN ARRAY want LOOP
    IF to_regrole(quote_ident(n)) IS NULL THEN
      BEGIN
        EXECUTE format('CREATE ROLE %I NOLOGIN', n);
      EXCEPTION WHEN duplicate_object THEN
        NULL;  -- created meanwhile by a concurrent grant
      END;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_auth_members m
                    WHERE m.roleid = to_regrole(quote_ident(n)) AND m.member = role) THEN
      EXECUTE format('GRANT %I TO %I', n, rname);
    END IF;
  END LOOP;
  FOR n IN SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
            WHERE m.member = role AND left(r.rolname, 12) = prefix AND NOT r.rolname = ANY (want)
            ORDER BY 1 LOOP
    EXECUTE format('REVOKE %I FROM %I', n, rname);
  END LOOP;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.sync_grant_roles(regrole) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.sync_grant_roles(regrole) IS 'makes the role a member of exactly the group roles of its rows in access_grant (creating them NOLOGIN when missing), which acting_org_ids and my_rep_ids read; apply_privileges calls it';

CREATE FUNCTION @extschema@.lead_phone(org_id bigint, lead_id bigint) RETURNS text
LANGUAGE plpgsql STABLE STRICT PARALLEL RESTRICTED SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
-- PL/pgSQL since 0.12: Citus cannot plan the query of an SQL function with
-- parameters; the phone is in lead_contact
#variable_conflict use_column
BEGIN
  RETURN (SELECT c.phone
            FROM @extschema@.lead l
            JOIN @extschema@.lead_contact c ON c.org_id = l.org_id AND c.lead_id = l.lead_id
            JOIN @extschema@.access_grant g
              ON g.org_id = l.org_id AND g.access = 'sales' AND g.rep_id = l.owner_rep_id
            JOIN pg_catalog.pg_roles r ON r.rolname = g.role_name
           WHERE l.org_id = lead_phone.org_id AND l.lead_id = lead_phone.lead_id
             AND pg_catalog.pg_has_role(session_user, r.oid, 'USAGE')
           LIMIT 1);
END
$$;
REVOKE ALL ON FUNCTION @extschema@.lead_phone(bigint, bigint) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.lead_phone(bigint, bigint) IS 'full phone number of a lead for the sales rep who owns it (checked against the session user); NULL for anyone else';

-- The history of one lead, for whoever may see the lead (since 0.11): a
-- sales rep sees its own leads and the public pool, but not the tables of a
-- lead's rows (row-level security cannot follow a lead's owner without a
-- subquery, which Citus refuses; docs/dba/citus.md).
CREATE FUNCTION @extschema@.lead_history(org_id bigint, lead_id bigint)
RETURNS TABLE (occurred_at timestamptz, source text, detail jsonb)
LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL RESTRICTED SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  caller name := coalesce(nullif(current_setting('role'), 'none'), session_user);
  l record;
BEGIN
  IF lead_history.org_id IS NULL OR lead_history.lead_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'org_id and lead_id must not be null';
  END IF;
  SELECT x.pool, x.owner_rep_id INTO l FROM @extschema@.lead x
   WHERE x.org_id = lead_history.org_id AND x.lead_id = lead_history.lead_id;
  IF NOT FOUND OR NOT (
       EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = caller AND r.rolsuper)
       OR lead_history.org_id = ANY (@extschema@.caller_org_ids('{reporting,app,admin}'))
       OR (lead_history.org_id = ANY (@extschema@.caller_org_ids('{sales}'))
           AND (l.pool = 'public' OR l.owner_rep_id = ANY (@extschema@.caller_rep_ids())))) THEN
    RAISE EXCEPTION USING ERRCODE = '23503',
      MESSAGE = format('unknown lead %s in org %s', lead_history.lead_id, lead_history.org_id);
  END IF;
  RETURN QUERY
    SELECT h.at, h.src, h.d FROM (
      SELECT t.occurred_at AS at, 'touchpoint' AS src, to_jsonb(t) - '{org_id,lead_id}'::text[] AS d
        FROM @extschema@.touchpoint t WHERE t.org_id = lead_history.org_id AND t.lead_id = lead_history.lead_id
      UNION ALL
      SELECT e.occurred_at, 'lead_event', to_jsonb(e) - '{org_id,lead_id}'::text[]
        FROM @extschema@.lead_event e WHERE e.org_id = lead_history.org_id AND e.lead_id = lead_history.lead_id
      UNION ALL
      SELECT a.assigned_at, 'assignment', to_jsonb(a) - '{org_id,lead_id}'::text[]
        FROM @extschema@.assignment a WHERE a.org_id = lead_history.org_id AND a.lead_id = lead_history.lead_id
      UNION ALL
      SELECT f.occurred_at, 'follow_up', to_jsonb(f) - '{org_id,lead_id}'::text[]
        FROM @extschema@.follow_up f WHERE f.org_id = lead_history.org_id AND f.lead_id = lead_history.lead_id
      UNION ALL
      SELECT tl.booked_at, 'trial_lesson', to_jsonb(tl) - '{org_id,lead_id}'::text[]
        FROM @extschema@.trial_lesson tl WHERE tl.org_id = lead_history.org_id AND tl.lead_id = lead_history.lead_id
      UNION ALL
      SELECT lt.tagged_at, 'lead_tag', to_jsonb(lt) - '{org_id,lead_id}'::text[]
        FROM @extschema@.lead_tag lt WHERE lt.org_id = lead_history.org_id AND lt.lead_id = lead_history.lead_id
      UNION ALL
      -- (since 0.14)
      SELECT sc.changed_at, 'status_change', to_jsonb(sc) - '{org_id,lead_id}'::text[]
        FROM @extschema@.lead_status_change sc WHERE sc.org_id = lead_history.org_id AND sc.lead_id = lead_history.lead_id
    ) h
    ORDER BY h.at, h.src, h.d::text;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.lead_history(bigint, bigint) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.lead_history(bigint, bigint) IS 'every touchpoint, event, assignment, follow-up, trial lesson, tag and (since 0.14) status change of a lead in time order (the row as detail, without org_id and lead_id), for a caller who may see the lead: reporting, app or admin access to the org, or sales access when the lead is public or the caller''s own; 23503 otherwise, as for a lead that does not exist';

-- ---------------------------------------------------------------------------
-- Granting access to roles (docs/dba/security.md).  These functions issue
-- GRANT and REVOKE, so only the extension owner (or a superuser) may run
-- them; nothing here is SECURITY DEFINER.
-- ---------------------------------------------------------------------------

-- apply_privileges(role), which both call, is at the end of this part; an
-- upgrade that adds functions for roles replaces it.

CREATE FUNCTION @extschema@.grant_access(role regrole, org_id bigint, access text, rep_id bigint DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  -- a value, not a subquery in the INSERT (Citus refuses those)
  rname name := (SELECT r.rolname FROM pg_roles r WHERE r.oid = role);
BEGIN
  IF role IS NULL OR org_id IS NULL OR access IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'role, org_id and access must not be null';
  END IF;
  IF access NOT IN ('reporting', 'app', 'sales', 'admin') THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('invalid access kind "%s"', left(access, 40)),
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
  VALUES (grant_access.org_id, rname, access, rep_id)
  ON CONFLICT ON CONSTRAINT access_grant_pkey DO UPDATE SET rep_id = EXCLUDED.rep_id, granted_at = EXCLUDED.granted_at;
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
DECLARE
  rname name := (SELECT r.rolname FROM pg_roles r WHERE r.oid = role);
BEGIN
  IF role IS NULL OR org_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'role and org_id must not be null';
  END IF;
  -- (since 0.16 a kind that does not exist is an error, as in grant_access,
  -- not a revoke of nothing)
  IF access IS NOT NULL AND access NOT IN ('reporting', 'app', 'sales', 'admin') THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('invalid access kind "%s"', left(access, 40)),
      HINT = 'Valid kinds: reporting, app, sales, admin; NULL for every kind.';
  END IF;
  -- (since 0.14 an org that does not exist is an error, as in grant_access)
  IF NOT EXISTS (SELECT 1 FROM @extschema@.org o WHERE o.org_id = revoke_access.org_id) THEN
    RAISE EXCEPTION USING ERRCODE = '23503', MESSAGE = format('unknown org %s', revoke_access.org_id);
  END IF;
  DELETE FROM @extschema@.access_grant g
   WHERE g.org_id = revoke_access.org_id
     AND g.role_name = rname
     AND (revoke_access.access IS NULL OR g.access = revoke_access.access);
  PERFORM @extschema@.apply_privileges(role);
END
$$;
REVOKE ALL ON FUNCTION @extschema@.revoke_access(regrole, bigint, text) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.revoke_access(regrole, bigint, text) IS 'takes back one kind (or, with access NULL, every kind) of a role''s access to an org; 22023 for a kind that does not exist (since 0.16)';

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
  rname name;
  rel record;
  -- SECURITY DEFINER engine functions a rep calls; each checks the caller itself
  engine_fns text := '@extschema@.claim_lead(bigint, bigint, bigint, timestamptz), '
                     '@extschema@.release_lead(bigint, bigint, bigint, timestamptz), '
                     '@extschema@.log_follow_up(bigint, bigint, bigint, text, text, numeric, timestamptz, integer, text), '
                     '@extschema@.update_lead(bigint, bigint, jsonb), '
                     '@extschema@.mark_lost(bigint, bigint, text, text)';
BEGIN
  -- row-level security reads the role's grants from its group roles (0.11)
  PERFORM @extschema@.sync_grant_roles(role);
  -- by name, read first: on Citus the query runs on the workers, where the
  -- role's OID differs
  SELECT r.rolname INTO rname FROM pg_roles r WHERE r.oid = role;
  SELECT coalesce(array_agg(DISTINCT g.access), '{}') INTO kinds
    FROM @extschema@.access_grant g WHERE g.role_name = rname;

  -- start from nothing, then grant what the role's kinds of access need
  EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA @extschema@ FROM %I', role::text);
  -- (only where the role holds one: a REVOKE writes the owner's default
  -- privileges out, which a dump and restore would not keep)
  FOR rel IN SELECT c.oid::regclass AS seq FROM pg_class c
              WHERE c.relnamespace = '@extschema@'::regnamespace AND c.relkind = 'S'
                AND EXISTS (SELECT 1 FROM aclexplode(c.relacl) x WHERE x.grantee = role) LOOP
    EXECUTE format('REVOKE ALL ON SEQUENCE %s FROM %I', rel.seq, role::text);
  END LOOP;
  EXECUTE format('REVOKE ALL ON FUNCTION @extschema@.lead_phone(bigint, bigint) FROM %I', role::text);
  EXECUTE format('REVOKE ALL ON FUNCTION @extschema@.lead_history(bigint, bigint) FROM %I', role::text);
  EXECUTE format('REVOKE ALL ON FUNCTION %s FROM %I', engine_fns, role::text);
  -- only the columns the role holds a privilege on (Citus refuses column
  -- privileges; since 0.12 no role gets any, and this clears those of 0.11)
  FOR rel IN SELECT a.attname FROM pg_attribute a
              WHERE a.attrelid = '@extschema@.lead'::regclass AND a.attnum > 0 AND NOT a.attisdropped
                AND EXISTS (SELECT 1 FROM aclexplode(a.attacl) x WHERE x.grantee = role) LOOP
    EXECUTE format('REVOKE ALL (%I) ON @extschema@.lead FROM %I', rel.attname, role::text);
  END LOOP;
  IF cardinality(kinds) = 0 THEN
    EXECUTE format('REVOKE USAGE ON SCHEMA @extschema@ FROM %I', role::text);
    RETURN;
  END IF;

  EXECUTE format('GRANT USAGE ON SCHEMA @extschema@ TO %I', role::text);
  EXECUTE format('GRANT SELECT ON @extschema@.access_grant TO %I', role::text);

  FOR rel IN SELECT c.relname, c.relkind FROM pg_class c
              WHERE c.relnamespace = '@extschema@'::regnamespace AND c.relkind IN ('r', 'v')
                AND c.relname <> 'access_grant' LOOP
    -- the union over the role's orgs: the tables' policies hold each org
    -- to the kind the role has there (table_readers, since 0.15).
    -- Reporting and sales roles see the lead without its phone: lead has
    -- phone_masked, the number is in lead_contact (since 0.12)
    IF kinds && '{app,admin}' THEN
      EXECUTE format(CASE rel.relkind WHEN 'r' THEN 'GRANT SELECT, INSERT, UPDATE, DELETE ON @extschema@.%I TO %I'
                                      ELSE 'GRANT SELECT ON @extschema@.%I TO %I' END, rel.relname, role::text);
    ELSIF kinds && @extschema@.table_readers(rel.relname) THEN
      EXECUTE format('GRANT SELECT ON @extschema@.%I TO %I', rel.relname, role::text);
    END IF;
  END LOOP;
  -- roles that insert take the identities' next values: on one node an
  -- identity column needs no privilege, but on Citus the coordinator calls
  -- nextval() for a row it routes, which needs USAGE (since 0.14)
  IF kinds && '{app,admin}' THEN
    EXECUTE format('GRANT USAGE ON ALL SEQUENCES IN SCHEMA @extschema@ TO %I', role::text);
  END IF;
  IF 'sales' = ANY (kinds) THEN
    EXECUTE format('GRANT EXECUTE ON FUNCTION @extschema@.lead_phone(bigint, bigint) TO %I', role::text);
  END IF;
  IF cardinality(kinds) > 0 THEN
    EXECUTE format('GRANT EXECUTE ON FUNCTION @extschema@.lead_history(bigint, bigint) TO %I', role::text);
  END IF;
  IF kinds && '{sales,app,admin}' THEN
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', engine_fns, role::text);
  END IF;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.apply_privileges(regrole) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.apply_privileges(regrole) IS 'recomputes the group role memberships (sync_grant_roles) and the table, column, sequence (USAGE for app and admin, which Citus needs to route an insert, since 0.14) and function privileges of a role from its rows in access_grant';

-- ---------------------------------------------------------------------------
-- apply_policies: every row-level security policy of the schema, from the
-- code (since 0.11).  install() runs it after the schema's DDL, so the
-- policies always are this version's: plain expressions over the C functions
-- above, which read no table.
-- ---------------------------------------------------------------------------
CREATE FUNCTION @extschema@.apply_policies() RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET client_min_messages = warning
AS $$
DECLARE
  t name;
BEGIN
  -- a role sees its own grants
  ALTER TABLE @extschema@.access_grant ENABLE ROW LEVEL SECURITY;
  DROP POLICY IF EXISTS own_grants ON @extschema@.access_grant;
  CREATE POLICY own_grants ON @extschema@.access_grant FOR SELECT USING (@extschema@.is_acting_role(role_name));

  -- every tenant table: rows of the orgs the role acts for
  FOR t IN SELECT c.relname FROM pg_catalog.pg_class c
            WHERE c.relnamespace = '@extschema@'::regnamespace AND c.relkind = 'r'
              AND c.relname NOT IN ('access_grant', 'schema_version')
            ORDER BY c.relname LOOP
    -- (until 0.11 a sales role also updated its own leads; update_lead() now)
    PERFORM @extschema@.register_table(format('@extschema@.%I', t)::regclass, '{app,admin}'::text[]);
  END LOOP;

  -- lead: a sales role sees its own private leads and the public pool of an
  -- org where it has sales access only
  DROP POLICY IF EXISTS sales_scope ON @extschema@.lead;
  DROP POLICY IF EXISTS sales_own_update ON @extschema@.lead;
  DROP POLICY tenant_read ON @extschema@.lead;
  DROP POLICY tenant_write ON @extschema@.lead;
  CREATE POLICY tenant_read ON @extschema@.lead FOR SELECT
    USING (@extschema@.acts_for(org_id, '{reporting,app,admin}')
           OR (@extschema@.acts_for(org_id, '{sales}')
               AND (pool = 'public' OR owner_rep_id = ANY (@extschema@.my_rep_ids()))));
  CREATE POLICY tenant_write ON @extschema@.lead FOR ALL
    USING (@extschema@.acts_for(org_id, '{app,admin}'))
    WITH CHECK (@extschema@.acts_for(org_id, '{app,admin}'));
END
$$;
REVOKE ALL ON FUNCTION @extschema@.apply_policies() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.apply_policies() IS 'creates (or replaces) every row-level security policy of the schema, all permissive plain expressions over acts_for() (since 0.15): own_grants on access_grant, tenant_read and tenant_write on every tenant table (on lead with the sales rules); install() runs it';
