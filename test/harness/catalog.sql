-- test/harness/catalog.sql -- a normalised, sorted description of everything
-- the extension owns, for comparing a fresh install with an upgraded one.
-- Tables and columns (in order), constraints, indexes, functions (with
-- body hash, settings, privileges), views, policies, triggers, comments,
-- privileges and pg_dump registrations.
\pset format unaligned
\pset tuples_only on
WITH ns AS (SELECT 'leadmgmt'::regnamespace AS oid),
rel AS (SELECT c.* FROM pg_class c, ns WHERE c.relnamespace = ns.oid)
SELECT line FROM (
  SELECT format('relation %s kind=%s options=%s acl=%s rls=%s comment=%L', c.relname, c.relkind, c.reloptions,
                c.relacl, c.relrowsecurity, obj_description(c.oid, 'pg_class')) AS line
    FROM rel c WHERE c.relkind IN ('r', 'v', 'S', 'p', 'm', 'c')
  UNION ALL
  SELECT format('column %s.%s #%s %s notnull=%s default=%s identity=%s generated=%s acl=%s comment=%L', c.relname, a.attname,
                row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum), format_type(a.atttypid, a.atttypmod),
                a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated, a.attacl,
                col_description(c.oid, a.attnum))
    FROM rel c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE c.relkind IN ('r', 'v', 'p', 'c')
  UNION ALL
  SELECT format('constraint %s %s %s', k.conrelid::regclass, k.conname, pg_get_constraintdef(k.oid))
    FROM pg_constraint k JOIN rel c ON c.oid = k.conrelid
  UNION ALL
  SELECT format('index %s', pg_get_indexdef(i.indexrelid)) FROM pg_index i JOIN rel c ON c.oid = i.indrelid
  UNION ALL
  SELECT format('function %s returns %s kind=%s volatile=%s parallel=%s strict=%s secdef=%s config=%s acl=%s lang=%s body=%s comment=%L',
                p.oid::regprocedure, pg_get_function_result(p.oid), p.prokind, p.provolatile, p.proparallel, p.proisstrict,
                p.prosecdef, p.proconfig, p.proacl, l.lanname, md5(p.prosrc || coalesce(p.probin, '')),
                obj_description(p.oid, 'pg_proc'))
    FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang, ns WHERE p.pronamespace = ns.oid
  UNION ALL
  SELECT format('argdefaults %s %s', p.oid::regprocedure, pg_get_function_arguments(p.oid))
    FROM pg_proc p, ns WHERE p.pronamespace = ns.oid
  UNION ALL
  SELECT format('aggregate %s trans=%s combine=%s final=%s space=%s modify=%s', a.aggfnoid::regprocedure, a.aggtransfn, a.aggcombinefn,
                a.aggfinalfn, a.aggtransspace, a.aggfinalmodify)
    FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid, ns WHERE p.pronamespace = ns.oid
  UNION ALL
  SELECT format('view %s %s', c.relname, md5(pg_get_viewdef(c.oid))) FROM rel c WHERE c.relkind IN ('v', 'm')
  UNION ALL
  SELECT format('policy %s.%s cmd=%s permissive=%s roles=%s using=%s check=%s', c.relname, p.polname, p.polcmd,
                p.polpermissive, p.polroles::regrole[], pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid))
    FROM pg_policy p JOIN rel c ON c.oid = p.polrelid
  UNION ALL
  SELECT format('trigger %s', pg_get_triggerdef(t.oid)) FROM pg_trigger t JOIN rel c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal
  UNION ALL
  SELECT format('type %s kind=%s', t.typname, t.typtype) FROM pg_type t, ns
   WHERE t.typnamespace = ns.oid AND t.typrelid = 0 AND t.typelem = 0
  UNION ALL
  SELECT format('dumped %s condition=%L', x.cfg::regclass, x.cond)
    FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS x(cfg, cond) WHERE e.extname = 'leadmgmt'
  UNION ALL
  SELECT format('schema comment=%L acl=%s', obj_description(n.oid, 'pg_namespace'), n.nspacl)
    FROM pg_namespace n, ns WHERE n.oid = ns.oid
) lines
ORDER BY line;
