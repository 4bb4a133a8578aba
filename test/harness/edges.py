#!/usr/bin/env python3
"""test/harness/edges.py -- the edge sweep of every public function.

    edges.py DSN_ADMIN DSN_APP INTERNALS_MD EXPECTED [--write FILE]

Calls every public function of schema leadmgmt (every function and aggregate
but the helpers listed in INTERNALS_MD, docs/reference/internals.md, and
triggers, support and type I/O functions) once with valid arguments, then
once for each argument and each edge value of its type, the others valid:

* NULL; for text '' and a 100,000-character string; for numbers NaN,
  +-Infinity, -1 and the type's largest value; for times and days +-infinity,
  4713 BC and the far future; for jsonb '[]', 'null' and a string; for arrays
  '{}' and '{NULL}';
* for org_id an org that does not exist and another tenant's org; for the id
  of a row (lead_id, rep_id, ...) one that does not exist and another
  tenant's.

Each call runs in its own transaction, rolled back, as the app role of org 2
(DSN_APP, with leadmgmt.org_id set), or as the owner for the functions only
the owner may run.  The outcome of a call is 'ok' or the SQLSTATE it raised.

Asserted (TAP lines):
* every outcome equals the one in EXPECTED (test/edges/sweep.tsv: signature,
  argument, case, outcome), which lists every call: a changed outcome is a
  changed contract, reviewed and written with --write;
* no call ends in an internal error (XX000), a lost connection or the
  statement timeout;
* every valid call succeeds;
* another tenant's org or row, or an unknown one, is never accepted by a
  function that writes;
* no error message, detail or hint echoes more than 40 characters of an
  over-long string.
"""
import argparse
import re
import sys

import psycopg2

ap = argparse.ArgumentParser()
ap.add_argument("admin")
ap.add_argument("app")
ap.add_argument("internals")
ap.add_argument("expected")
ap.add_argument("--write")
args = ap.parse_args()


def connect(dsn):
    c = psycopg2.connect(dsn)
    c.autocommit = True
    return c


admin = connect(args.admin)
app = connect(args.app)


def q(conn, sql, params=None):
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else []


internal_names = sorted(set(re.findall(r"^\| `([a-z_0-9]+)", open(args.internals).read(), re.M)) |
                        set(re.findall(r"`([a-z_0-9]+)\(", open(args.internals).read())))
q(app, "SET leadmgmt.org_id = '2'")
# what logreg_train reads: the app role's own temporary table
q(app, "CREATE TEMP TABLE edge_train AS SELECT (i % 3 = 0) AS y, ARRAY[(i % 7)::float8, (i % 5)::float8] AS x FROM generate_series(1, 60) i")
for c in (admin, app):
    q(c, "SET statement_timeout = '60s'")
    q(c, "SET client_min_messages = warning")

funcs = q(admin, r"""
  SELECT p.oid::regprocedure::text, p.proname, p.prokind::text,
         coalesce(p.proargnames[1:p.pronargs], array_fill(''::text, ARRAY[p.pronargs])),
         p.proargtypes::regtype[]::text[], p.provariadic <> 0,
         has_function_privilege('lm_edges_app', p.oid, 'EXECUTE'),
         p.provolatile::text = 'v'
    FROM pg_proc p
   WHERE p.pronamespace = 'leadmgmt'::regnamespace
     AND p.prorettype NOT IN ('trigger'::regtype, 'internal'::regtype)
     AND NOT ('internal'::regtype = ANY (p.proargtypes)) AND NOT ('record'::regtype = ANY (p.proargtypes))
     AND p.oid NOT IN (SELECT fn FROM leadmgmt.aggregate_support_functions() fn)
     AND p.proname !~ '_(in|out|recv|send)$'
     AND p.proname <> ALL (%s)
   ORDER BY 1""", (internal_names,))

# ---- valid values -----------------------------------------------------------------
# by argument name (org 2's rows, read by the app role at call time), then by
# function where one needs another
ORG2 = "2"
ids = {  # argument -> (table, id column, extra condition for a valid row)
    "lead_id": ("lead", "lead_id", "status NOT IN ('won', 'lost')"),
    "rep_id": ("sales_rep", "rep_id", "active"),
    "team_id": ("team", "team_id", "true"),
    "model_id": ("conversion_model", "model_id", "true"),
    "order_id": ("sales_order", "order_id", "status = 'paid'"),
    "course_id": ("course", "course_id", "true"),
    "teacher_id": ("teacher", "teacher_id", "true"),
    "tutor_id": ("teacher", "teacher_id", "true"),
    "student_id": ("student", "student_id", "true"),
    "class_id": ("course_class", "class_id", "true"),
    "enrollment_id": ("enrollment", "enrollment_id", "status = 'active'"),
    "shift_id": ("rep_shift", "shift_id", "true"),
    "leave_id": ("rep_leave", "leave_id", "true"),
}


def row_of(arg, org=ORG2, cond=None):
    t, col, c = ids[arg]
    return "(SELECT min(%s) FROM leadmgmt.%s WHERE org_id = %s AND %s)" % (col, t, org, cond or c)


by_name = {
    "org_id": ORG2,
    "phone": "'13912345678'", "region": "'CN'", "channel": "'douyin'", "campaign": "NULL",
    "occurred_at": "now()", "paid_at": "now()", "refunded_at": "now()", "enrolled_at": "now()",
    "ended_at": "now()", "renewed_at": "now()", "at": "now()", "ts": "now()", "converted_at": "now()",
    "trained_from": "'2000-01-01'::timestamptz", "trained_to": "now()",
    "day": "current_date", "first_day": "current_date", "last_day": "current_date + 1",
    "term_start": "current_date", "term_end": "current_date + 90", "hired_on": "NULL", "birth_date": "NULL",
    "attrs": "'{}'::jsonb", "name": "'Edge sweep'", "label": "'Edge sweep'", "note": "NULL", "reason": "NULL",
    "product": "'Edge term'", "amount": "100", "list_price": "NULL", "spend": "100", "impressions": "0", "clicks": "0",
    "event_type": "'sms_verified'", "is_renewal": "false", "cost": "NULL", "duration_s": "NULL", "outcome": "'connected'",
    "max_leads": "10", "weekday": "1", "starts_at": "'09:00'::time", "ends_at": "'12:00'::time",
    "lessons_per_term": "10", "price": "100", "level": "1", "age_min": "NULL", "age_max": "NULL", "capacity": "30",
    "area": "NULL", "schedule": "NULL", "grade": "NULL", "weight": "1", "daily_cap": "50", "holding_cap": "300",
    "tiers": "'{A,B,C,D}'::text[]", "daily_claim_cap": "20", "assign_strategy": "NULL", "active": "true",
    "visitor_id": "NULL", "timezone": "'Asia/Shanghai'", "access": "'reporting'", "role": "'lm_edges_target'::regrole",
    "step": "'full'", "shard_count": "NULL", "l2": "0.1", "max_iter": "25", "tolerance": "1e-8",
    "win": "interval '7 days'", "mode": "'strict_order'", "excluded": "false", "score": "0.5", "p": "0.5",
    "bins": "10", "duration": "3.0", "event": "true", "entry": "0.0", "grp": "'a'", "conf_type": "'log'", "alpha": "0.05",
    "tau": "5.0", "t": "2.0", "value": "100.0", "conversions": "1.0", "non_conversions": "0.0", "k": "1", "exact": "true",
    "channels": "'{douyin,baidu}'::text[]", "path": "'{douyin,baidu}'::text[]", "models": "'{last_touch}'::text[]",
    "options": "'{}'::jsonb", "conds": "ARRAY[true, false]", "steps": "ARRAY[true, false]",
    "features": "ARRAY[1.0, 0.5]::float8[]", "coef": "ARRAY[0.1, 0.2, 0.3]::float8[]",
    "state": "(SELECT leadmgmt.logreg_step(l, ARRAY[1.0, x], ARRAY[0, 0, 0]::float8[]) FROM (VALUES (true, 1.0::float8), (false, 2.0), (true, 3.0), (false, 0.5)) v(l, x))",
    "s": "(SELECT leadmgmt.km_fit(d, e) FROM (VALUES (1.0::float8, true), (2.0, false), (3.0, true)) v(d, e))",
    "model": "leadmgmt.logreg_train('edge_train', 'y', 'x')",
    "source": "'edge_train'::regclass", "label_column": "'y'", "features_column": "'x'",
    "encoding": "(SELECT encoding FROM leadmgmt.conversion_model WHERE org_id = 2 ORDER BY model_id LIMIT 1)",
    "vals": "'{}'::jsonb", "tables": "'{}'::jsonb", "nb_tables": "NULL",
    "ids": "ARRAY[1, 2, 3]::bigint[]", "renewed_into": "ARRAY[2, NULL, NULL]::bigint[]",
    "stage": "'contact'", "local_time": "localtimestamp", "variant": "NULL", "prior_touches": "0",
    "city_tier": "1", "child_age": "8", "subject": "'math'",
    "kinds": "'{app}'::text[]", "what": "'value'", "max_len": "10", "min_len": "0",
    "changes": "'{}'::jsonb",
}
for a in ids:
    by_name[a] = row_of(a)
# another tenant's rows: org 1's, read by the owner (the app role cannot see them)
other_id = {}
for a, (t, col, _) in ids.items():
    v = q(admin, "SELECT min(%s) FROM leadmgmt.%s WHERE org_id = 1" % (col, t))[0][0]
    other_id[a] = str(v) if v is not None else None
by_name["team_id"] = "NULL"
by_name["tutor_id"] = "NULL"
by_name["teacher_id"] = "NULL"

# per function: the values that differ from those by name
NEW_REP = "leadmgmt.add_rep(2, 'Edge rep', 'sales')"
PRIVATE_LEAD = row_of("lead_id", cond="pool = 'private' AND status NOT IN ('won', 'lost')")
by_func = {
    "add_channel": {"code": "'edge_ch'", "kind": "'paid'"},
    "add_course": {"code": "'edge-course'", "subject": "'math'"},
    "add_teacher": {"kind": "'formal'"},
    "add_rep": {"role": "'sales'"},
    "record_touch": {"kind": "'visit'"},
    "set_lost_reason": {"code": "'edge_reason'"},
    "mark_lost": {"reason": "'price'"},
    "train_conversion_model": {"kind": "'logreg'"},
    "model_predict": {"kind": "'logreg'", "coef": "NULL", "vals": "'{}'::jsonb"},
    "model_features": {"vals": "'{}'::jsonb"},
    "update_lead": {"changes": "'{\"name\": \"Edge\"}'::jsonb"},
    "update_rep": {"changes": "'{\"weight\": 2}'::jsonb"},
    "claim_lead": {"lead_id": row_of("lead_id", cond="pool = 'public' AND status NOT IN ('won', 'lost')"), "rep_id": NEW_REP},
    "log_follow_up": {"channel": "'call'", "lead_id": PRIVATE_LEAD,
                      "rep_id": "(SELECT owner_rep_id FROM leadmgmt.lead WHERE org_id = 2 AND lead_id = %s)" % PRIVATE_LEAD},
    "grant_access": {"rep_id": "NULL"},
    "plan_assignments": {"strategy": "'round_robin'", "state_rep_ids": "'{}'::bigint[]", "state_current": "'{}'::bigint[]",
                         "state_last": "'{}'::bigint[]", "picks": "0", "rep_ids": "'{1,2,3}'::bigint[]",
                         "weights": "'{2,1,1}'::integer[]", "open_leads": "'{0,0,0}'::integer[]",
                         "room": "'{99,99,99}'::integer[]", "skills": "'{15,15,15}'::integer[]", "lead_tiers": "'BBBB'",
                         "lead_excluded": "array_fill(NULL::bigint, ARRAY[4])"},
    "release_lead": {"lead_id": row_of("lead_id", cond="pool = 'private'"),
                     "rep_id": "(SELECT owner_rep_id FROM leadmgmt.lead WHERE org_id = 2 AND lead_id = %s)"
                               % row_of("lead_id", cond="pool = 'private'")},
    "record_refund": {"amount": "1"},
    "enroll_student": {"student_id": "leadmgmt.add_student(2, 'Edge kid')",
                       "class_id": "leadmgmt.add_class(2, %s, 'Edge class', current_date, current_date + 90, 30)" % row_of("course_id"),
                       "order_id": "NULL"},
    "renew_enrollment": {"class_id": "leadmgmt.add_class(2, %s, 'Edge class', current_date, current_date + 90, 30)" % row_of("course_id"),
                         "enrollment_id": row_of("enrollment_id", cond="status = 'active' AND NOT EXISTS (SELECT 1 FROM leadmgmt.renewal r WHERE r.org_id = 2 AND r.from_enrollment_id = enrollment.enrollment_id) AND enrolled_at <= now()"),
                         "order_id": "NULL"},
    "end_enrollment": {"status": "'completed'", "enrollment_id": row_of("enrollment_id", cond="status = 'active' AND enrolled_at <= now()")},
    "add_student": {"lead_id": "NULL"},
    "remove_shift": {"shift_id": "leadmgmt.add_shift(2, %s, 7, '23:00', '23:30')" % NEW_REP},
    "cancel_leave": {"leave_id": "leadmgmt.add_leave(2, %s, '2030-01-01', '2030-01-02')" % NEW_REP},
    "add_shift": {"rep_id": NEW_REP}, "add_leave": {"rep_id": NEW_REP},
    "nb_predict": {"tables": "'{\"prior\": [0.5, 0.5]}'::jsonb"},
    "check_length": {"value": "'abc'"},
    "touch_credit": {"model": "'linear'"},
    "logrank": {"grp": "CASE one.i WHEN 1 THEN 'a' ELSE 'b' END"},
    "create_org": {"name": "'Edge org'"},
    "acts_for": {"org_id": ORG2},
    "route_by_value": {"p": "'{0.3,0.6}'::float8[]", "value": "'{3000,3000}'::float8[]",
                       "relative_conversion": "'{1,1.15}'::float8[]", "cost": "'{60,120}'::float8[]", "capacity": "'{NULL,1}'::integer[]"},
    "holdout_draw": {"seed": "42"},
    "landing_decision": {"visitor_id": "'edge-visitor'", "context": "'{\"channel\": \"douyin\", \"grade\": 2}'::jsonb"},
    "holdout_saving": {"spend_per_lead": "5", "tiered": "'{4,20,200,1,10}'::float8[]", "holdout": "'{3,60,1200,2,40}'::float8[]"},
    "model_score": {"coef": "(SELECT coef FROM leadmgmt.conversion_model WHERE org_id = 2 AND kind = 'logreg' ORDER BY model_id LIMIT 1)"},
}

# ---- edge values by type ----------------------------------------------------------
LONG = "repeat('x', 100000)"
edge_by_type = {
    "text": [("empty", "''"), ("long", LONG)],
    "name": [("empty", "''"), ("long", LONG + "::name")],
    "bigint": [("minus1", "-1"), ("max", "9223372036854775807")],
    "integer": [("minus1", "-1"), ("max", "2147483647")],
    "smallint": [("minus1", "-1"), ("max", "32767")],
    "numeric": [("nan", "'NaN'::numeric"), ("minus1", "-1"), ("huge", "1e300")],
    "double precision": [("nan", "'NaN'::float8"), ("inf", "'Infinity'::float8"), ("-inf", "'-Infinity'::float8"), ("minus1", "-1")],
    "timestamp with time zone": [("inf", "'infinity'::timestamptz"), ("-inf", "'-infinity'::timestamptz"),
                                 ("4713bc", "'4713-01-01 00:00 BC'::timestamptz"), ("year200000", "'200000-01-01'::timestamptz")],
    "date": [("inf", "'infinity'::date"), ("-inf", "'-infinity'::date"), ("4713bc", "'4713-01-01 BC'::date"),
             ("year200000", "'200000-01-01'::date")],
    "time without time zone": [("midnight", "'00:00'::time"), ("end", "'24:00'::time")],
    "interval": [("negative", "interval '-1 day'"), ("huge", "interval '100000 years'")],
    "jsonb": [("array", "'[]'::jsonb"), ("jnull", "'null'::jsonb"), ("string", "to_jsonb(%s)" % LONG)],
    "text[]": [("empty", "'{}'::text[]"), ("nullelem", "'{NULL}'::text[]"), ("long", "ARRAY[%s]" % LONG)],
    "bigint[]": [("empty", "'{}'::bigint[]"), ("nullelem", "'{NULL}'::bigint[]")],
    "integer[]": [("empty", "'{}'::integer[]"), ("nullelem", "'{NULL}'::integer[]")],
    "double precision[]": [("empty", "'{}'::float8[]"), ("nullelem", "'{NULL}'::float8[]"), ("nan", "'{NaN,NaN}'::float8[]"),
                           ("inf", "'{Infinity,-Infinity}'::float8[]")],
    "boolean[]": [("empty", "'{}'::boolean[]"), ("nullelem", "'{NULL}'::boolean[]")],
    "regrole": [], "regclass": [("catalog", "'pg_catalog.pg_authid'::regclass")],
}


def arg_value(fname, argname, argtype):
    """an argument's valid value: the function's own, true for a boolean, else by name (None: none known)"""
    if argname in by_func.get(fname, {}):
        return by_func[fname][argname]
    if argtype == "boolean":
        return "true"
    return by_name.get(argname)


def call_sql(fname, kind, argtypes, variadic, values):
    parts = ["(%s)::%s" % (v, t) for v, t in zip(values, argtypes)]
    if variadic:
        parts[-1] = "VARIADIC " + parts[-1]
    call = "leadmgmt.%s(%s)" % (fname, ", ".join(parts))
    # (the result is read, so that no call is planned away)
    if kind == "a":
        return "SELECT (%s) IS NULL FROM (VALUES (1), (2)) AS one(i)" % call
    return "SELECT (%s) IS NULL" % call


def run(conn, sql):
    """the outcome of one call, rolled back: ('ok' | SQLSTATE, error text)"""
    conn.autocommit = False
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            cur.fetchall()
        return "ok", ""
    except psycopg2.Error as e:
        if e.pgcode is None:
            return "lost", str(e)
        d = e.diag
        return e.pgcode, " | ".join(x for x in (d.message_primary, d.message_detail, d.message_hint) if x)
    finally:
        try:
            conn.rollback()
        except psycopg2.Error:
            pass
        conn.autocommit = True


n_ok = n_fail = 0


def tap(good, desc, extra=None):
    global n_ok, n_fail
    if good:
        n_ok += 1
    else:
        n_fail += 1
        print("not ok - %s" % desc)
        if extra:
            print("# " + extra[:300].replace("\n", " "))


results = []
missing = []
# run by the owner: what only the owner (a DBA) does
as_owner = {"create_org", "grant_access", "revoke_access", "distribute"}
for sig, fname, kind, argnames, argtypes, variadic, app_may, volatile in funcs:
    app_may = app_may and fname not in as_owner
    conn = app if app_may else admin
    who = "app" if app_may else "owner"
    argnames = [a or "arg%d" % (i + 1) for i, a in enumerate(argnames)]
    base = [arg_value(fname, a, t) for a, t in zip(argnames, argtypes)]
    if any(v is None for v in base):
        missing.append("%s (%s)" % (sig, ", ".join(a for a, v in zip(argnames, base) if v is None)))
        continue
    cases = [("-", "valid", base)]
    for i, (a, t) in enumerate(zip(argnames, argtypes)):
        vals = [("null", "NULL")]
        if a == "org_id":
            vals += [("unknown", "999999999"), ("other_tenant", "1")]
        elif a in ids:
            vals += [("unknown", "-1")]
            if other_id[a] is None:
                missing.append("org 1 has no %s row for the other tenant's %s" % (ids[a][0], a))
            else:
                vals += [("other_tenant", other_id[a])]
        else:
            vals += edge_by_type.get(t.replace("leadmgmt.", ""), [])
        for case, v in vals:
            cases.append((a, case, base[:i] + [v] + base[i + 1:]))
    for a, case, values in cases:
        sql = call_sql(fname, kind, argtypes, variadic, values)
        outcome, text = run(conn, sql)
        if outcome == "lost":
            conn = connect(args.app if app_may else args.admin)
            if app_may:
                app = conn
                q(app, "SET leadmgmt.org_id = '2'")
            else:
                admin = conn
        results.append((sig, a, case, outcome))
        where = "%s as %s, %s %s" % (sig, who, a, case)
        tap(outcome not in ("XX000", "lost", "57014"), "%s: no internal error, lost connection or timeout (%s)" % (where, outcome), text)
        if case == "valid":
            tap(outcome == "ok", "%s: the valid call succeeds" % where, "%s %s :: %s" % (outcome, text, sql))
        if case in ("other_tenant", "unknown") and volatile and kind == "f" and app_may:
            tap(outcome != "ok", "%s: refused" % where, sql)
        if re.search(r"x{41,}", text):
            tap(False, "%s: the error echoes more than 40 characters of the input" % where, text)

tap(not missing, "every public function has valid arguments in edges.py", "; ".join(missing))
lines = ["%s\t%s\t%s\t%s" % r for r in results]
if args.write:
    with open(args.write, "w") as fh:
        fh.write("# signature\targument\tcase\toutcome (test/harness/edges.py writes it with --write)\n")
        fh.write("\n".join(lines) + "\n")
try:
    expected = [l.rstrip("\n") for l in open(args.expected) if not l.startswith("#")]
except OSError:
    expected = []
exp = {tuple(l.split("\t")[:3]): l.split("\t")[3] for l in expected if l.count("\t") == 3}
got = {r[:3]: r[3] for r in results}
changed = ["%s %s %s: expected %s, got %s" % (k + (exp[k], got[k])) for k in got if k in exp and exp[k] != got[k]]
new = ["%s %s %s: %s" % (k + (got[k],)) for k in got if k not in exp]
gone = ["%s %s %s" % k for k in exp if k not in got]
for c in changed:
    tap(False, "outcome changed: " + c)
tap(not new, "every call is in %s (%d new)" % (args.expected, len(new)), "; ".join(new[:20]))
tap(not gone, "every call of %s was made (%d gone)" % (args.expected, len(gone)), "; ".join(gone[:20]))
print("ok - %d calls of %d functions, %d assertions held" % (len(results), len(funcs), n_ok))
print("# %d passed, %d failed" % (n_ok, n_fail))
sys.exit(1 if n_fail else 0)
