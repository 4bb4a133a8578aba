-- ---------------------------------------------------------------------------
-- register_table: what every user table of the extension gets, in one place
-- (since 0.2; 0.1 did the same in loops).  Tables added by later versions call
-- it from the install parts and from their upgrade script.
-- ---------------------------------------------------------------------------

CREATE FUNCTION @extschema@.register_table(tbl regclass, writers text[], lead_scoped boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  rel name := (SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = tbl);
  seq regclass;
BEGIN
  -- pg_dump keeps the rows, and the numbering of the identity columns
  PERFORM pg_catalog.pg_extension_config_dump(tbl, '');
  FOR seq IN SELECT d.objid::regclass FROM pg_catalog.pg_depend d
              JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S'
             WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.refobjid = tbl AND d.deptype IN ('a', 'i')
  LOOP
    PERFORM pg_catalog.pg_extension_config_dump(seq, '');
  END LOOP;

  -- rows of the orgs the role may act for; writes with the given kinds of access
  EXECUTE format('ALTER TABLE @extschema@.%I ENABLE ROW LEVEL SECURITY', rel);
  EXECUTE format($f$CREATE POLICY tenant_read ON @extschema@.%I FOR SELECT
    USING (org_id = ANY ((SELECT @extschema@.acting_org_ids('{reporting,app,admin,sales}'))::bigint[])) $f$, rel);
  EXECUTE format($f$CREATE POLICY tenant_write ON @extschema@.%I FOR ALL
    USING (org_id = ANY ((SELECT @extschema@.acting_org_ids(%L))::bigint[]))
    WITH CHECK (org_id = ANY ((SELECT @extschema@.acting_org_ids(%L))::bigint[])) $f$, rel, writers, writers);

  -- rows that belong to a lead follow the lead's visibility for sales roles
  IF lead_scoped THEN
    EXECUTE format($f$CREATE POLICY sales_scope ON @extschema@.%1$I AS RESTRICTIVE FOR ALL
      USING (org_id <> ALL ((SELECT @extschema@.sales_scope_org_ids())::bigint[])
             OR EXISTS (SELECT 1 FROM @extschema@.lead l
                         WHERE l.org_id = %1$I.org_id AND l.lead_id = %1$I.lead_id)) $f$, rel);
  END IF;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.register_table(regclass, text[], boolean) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.register_table(regclass, text[], boolean) IS 'gives a user table of the extension what every one has: pg_dump registration of it and its identity sequences, row-level security, tenant_read and tenant_write policies (writes by the given kinds of access) and, for rows that belong to a lead, the sales_scope policy';
