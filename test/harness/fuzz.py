#!/usr/bin/env python3
"""test/harness/fuzz.py -- seeded fuzzing of every C function of the schema.

    fuzz.py DSN_ADMIN DSN_FUZZ SERVER_LOG [--seed N] [--seconds S]

Calls every C-language function of schema leadmgmt, and every aggregate whose
transition function is C, with random and adversarial arguments:

* plain values of each argument type: boundaries (0, -1, INT_MAX, NaN,
  infinities, empty and huge text, control characters, empty, NULL-holding,
  multi-dimensional and offset arrays), and NULL;
* aggregate states: valid states made by the schema's own support functions
  (through temporary aggregates without a final function), then mutated in
  their text form (hex digits flipped, bytes cut, inserted, repeated, length
  fields rewritten) and in their float8[] and bigint forms;
* aggregates over a table of random rows, grouped and not, serially and in
  forced-parallel plans (so combine functions meet partial states).

It runs as DSN_FUZZ, a role without superuser rights (granted EXECUTE so that
it reaches the support functions PUBLIC may not call).  It fails on a backend
terminated by a signal (a lost connection, or such a line in SERVER_LOG) and
on any internal error (SQLSTATE XX000), and prints TAP lines.
"""
import argparse
import random
import re
import sys
import time

import psycopg2
import psycopg2.errors

ap = argparse.ArgumentParser()
ap.add_argument("admin")
ap.add_argument("fuzz")
ap.add_argument("log")
ap.add_argument("--seed", type=int, default=None)
ap.add_argument("--seconds", type=float, default=100)
args = ap.parse_args()
seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 2**31)
rng = random.Random(seed)
print(f"# fuzz seed {seed} (rerun: FUZZ_SEED={seed} make test)", flush=True)

log_start = 0
try:
    with open(args.log, "rb") as fh:
        fh.seek(0, 2)
        log_start = fh.tell()
except OSError:
    pass


def connect(dsn, tries=60):
    for _ in range(tries):
        try:
            c = psycopg2.connect(dsn)
            c.autocommit = True
            return c
        except psycopg2.OperationalError:
            time.sleep(0.5)
    raise SystemExit("not ok - cannot connect to the test server")


admin = connect(args.admin)
fz = connect(args.fuzz)


def q(conn, sql, params=None):
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else []


# ---- what to call -------------------------------------------------------------
funcs = q(admin, """
  SELECT p.oid::regprocedure::text, p.proname, p.proargtypes::regtype[]::text[], p.prokind, p.proretset,
         p.provariadic <> 0
    FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
   WHERE p.pronamespace = 'leadmgmt'::regnamespace AND l.lanname = 'c'
   ORDER BY 1""")
aggs = q(admin, """
  SELECT p.oid::regprocedure::text, p.proname, p.proargtypes::regtype[]::text[], a.aggtranstype::regtype::text,
         a.aggtransfn::regproc::text, coalesce(nullif(a.aggcombinefn, 0)::regproc::text, ''), p.provariadic <> 0
    FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
    JOIN pg_proc t ON t.oid = a.aggtransfn JOIN pg_language l ON l.oid = t.prolang
   WHERE p.pronamespace = 'leadmgmt'::regnamespace AND l.lanname = 'c'
   ORDER BY 1""")
state_types = sorted({a[3] for a in aggs})

# ---- plain values --------------------------------------------------------------
CHANNELS = ["douyin", "baidu", "wechat", "抖音", "a", "b", "c", "d", "x" * 300]
TEXTS = ["", "a", "douyin", "strict_order", "first_entry", "strict_order, strict_deduplication",
         "strict_increase,first_entry", ",,", "bogus", "\x01", "a\x1fb", "a\x1eb", "\x02", "\x03",
         "抖音", "x" * 5000, "linear", "position_based", "time_decay", "first_touch", "last_touch",
         "u_shaped", "w_shaped", "log", "log-log", "plain", "0", "1", "13812345678", "+86 138-1234-5678",
         "12345", "999999999999999999999", "+1 (555) 123-4567", "Asia/Shanghai", "Mars/Base"]
INTS = [0, 1, -1, 2, 3, 4, 5, 8, 10, 20, 21, 32, 33, 64, 100, 1000, 1001, 2**31 - 1, -2**31]
BIGINTS = INTS + [2**63 - 1, -2**63, 2**32, (100 << 32) | 1, (32 << 32) | 0xFFFFFFFF, (33 << 32) | 1, 1 << 40]
FLOATS = ["0", "-0", "1", "-1", "0.5", "0.999", "1e-320", "1e308", "-1e308", "NaN", "Infinity", "-Infinity",
          "30", "365", "0.95", "0.05", "1e-9", "2"]
TIMES = ["2026-01-01 00:00+08", "2025-06-01 12:00+08", "2026-01-01 00:30+08", "infinity", "-infinity",
         "4713-01-01 00:00+00 BC", "294276-12-31 23:59:59+00", "2000-01-01 00:00+00", "1970-01-01 00:00+00"]
INTERVALS = ["1 hour", "1 day", "0", "-1 day", "1 microsecond", "178000000 years", "1 mon", "7 days", "-178000000 years"]
JSONS = ["{}", '{"lookback_days": -1}', '{"lookback_days": 30}', '{"model": "time_decay", "half_life_days": 0}',
         '{"model": "position_based", "first": 0.9, "last": 0.9}', '{"exclude": ["direct"], "direct": ["baidu"]}',
         '{"merge_repeats": true}', '{"model": "bogus"}', "[]", '"x"', '{"exclude": [1, 2]}',
         '{"half_life_days": "NaN"}', '{"first": -1}', '{"lookback_days": 1e308}']


def lit(s):
    return "'" + s.replace("'", "''") + "'"


def arr(values, typ):
    return "ARRAY[" + ", ".join(values) + "]::" + typ


def rand_array(elem, typ, pool):
    r = rng.random()
    if r < 0.08:
        return f"'{{}}'::{typ}"
    if r < 0.14:
        return f"'{{{{1,2}},{{3,4}}}}'::{typ}" if elem in ("float8", "int") else f"'{{{{a,b}},{{c,d}}}}'::{typ}" if elem == "text" else f"'{{{{t,f}},{{f,t}}}}'::{typ}"
    if r < 0.2:
        return f"'[0:1]={{1,0}}'::{typ}" if elem in ("float8", "int") else f"'[0:1]={{t,f}}'::{typ}" if elem == "bool" else f"'[0:1]={{a,b}}'::{typ}"
    if r < 0.26:
        n = rng.choice([33, 100, 1001, 5000])
        return f"array_fill({pool()}::{elem}, ARRAY[{n}])"
    n = rng.choice([1, 1, 2, 2, 3, 4, 5, 8])
    vals = []
    for _ in range(n):
        vals.append("NULL" if rng.random() < 0.1 else pool())
    return arr(vals, typ)


states = {t: [] for t in state_types}


def value(typ):
    """A random SQL expression of type typ."""
    if rng.random() < 0.07:
        return f"NULL::{typ}"
    if typ == "integer":
        return str(rng.choice(INTS + [rng.randint(-50, 50)]))
    if typ == "smallint":
        return str(rng.choice([0, 1, -1, 32767, -32768, 12])) + "::smallint"
    if typ == "bigint":
        return f"{rng.choice(BIGINTS + [rng.randint(-10**6, 10**6)])}::bigint"
    if typ == "double precision":
        return lit(rng.choice(FLOATS + [repr(rng.uniform(-5, 5))])) + "::float8"
    if typ == "numeric":
        return lit(rng.choice(["0", "1", "-1", "NaN", "1e100", "0.5", "99999999999999999999"])) + "::numeric"
    if typ == "boolean":
        return rng.choice(["true", "false"])
    if typ == "text":
        return lit(rng.choice(TEXTS + CHANNELS))
    if typ == "timestamp with time zone":
        return lit(rng.choice(TIMES)) + "::timestamptz"
    if typ == "date":
        return lit(rng.choice(["2026-01-01", "infinity", "-infinity", "4713-01-01 BC", "5874897-12-31"])) + "::date"
    if typ == "interval":
        return lit(rng.choice(INTERVALS)) + "::interval"
    if typ == "jsonb":
        return lit(rng.choice(JSONS)) + "::jsonb"
    if typ == "boolean[]":
        return rand_array("bool", "boolean[]", lambda: rng.choice(["true", "false"]))
    if typ == "text[]":
        return rand_array("text", "text[]", lambda: lit(rng.choice(CHANNELS + ["", "\x1f", "a\x1eb"])))
    if typ == "double precision[]":
        return rand_array("float8", "float8[]", lambda: lit(rng.choice(FLOATS)) + "::float8")
    if typ in ("integer[]", "bigint[]"):
        return rand_array("int", typ, lambda: str(rng.choice(INTS)))
    if typ in states:
        return state_value(typ)
    if typ in ("leadmgmt.org", "record"):
        # since 0.11 rep_roster takes a record: an org row, or any other row
        return rng.choice(["(SELECT o FROM leadmgmt.org o ORDER BY org_id LIMIT 1)",
                           "ROW(1::bigint, 'x'::text)", "ROW(NULL::int)",
                           "(SELECT r FROM leadmgmt.sales_rep r ORDER BY rep_id LIMIT 1)",
                           "(SELECT x FROM (SELECT 1 AS org_id, 'round_robin' AS assign_strategy, 3 AS timezone) x)",
                           "(SELECT x FROM (SELECT 1::bigint AS org_id, 'round_robin'::text AS assign_strategy, 'UTC'::text AS timezone) x)",
                           "jsonb_populate_record(NULL::leadmgmt.org, '{\"org_id\": 1}')",
                           "jsonb_populate_record(NULL::leadmgmt.org, '{\"org_id\": 999999, \"timezone\": \"Mars/Base\"}')",
                           "jsonb_populate_record(NULL::leadmgmt.org, '{}')"])
    if typ == "regrole":
        return "'pg_monitor'::regrole"
    if typ == "regclass":
        return "'leadmgmt.lead'::regclass"
    return f"NULL::{typ}"


# ---- states -------------------------------------------------------------------
def mutate_hex(s):
    head, body = s[:3], s[3:]
    b = bytearray(bytes.fromhex(body)) if body and len(body) % 2 == 0 else bytearray()
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(8)
        if op == 0 and b:
            b[rng.randrange(len(b))] = rng.randrange(256)
        elif op == 1 and b:
            del b[rng.randrange(len(b)):]
        elif op == 2:
            pos = rng.randrange(len(b) + 1)
            b[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == 3 and len(b) > 4:
            i = rng.randrange(len(b) - 4)
            j = rng.randint(i + 1, len(b))
            b[j:j] = b[i:j] * rng.randint(1, 50)
        elif op == 4 and len(b) >= 4:
            i = rng.randrange(len(b) - 3)
            b[i:i + 4] = rng.choice([b"\xff\xff\xff\xff", b"\x7f\xff\xff\xff", b"\x00\x00\x10\x00", b"\x00\x00\x00\x00",
                                     b"\x80\x00\x00\x00"])
        elif op == 5 and b:
            i = rng.randrange(len(b))
            b[i] = rng.choice([0x1f, 0x1e, 0x02, 0x03, 0x04, 0x00, 0x41])
        elif op == 6 and len(b) >= 8:
            i = rng.randrange(len(b) - 7)
            b[i:i + 8] = rng.choice([b"\x7f\xf8" + b"\0" * 6, b"\x7f\xf0" + b"\0" * 6, b"\xbf\xf0" + b"\0" * 6])
        elif op == 7 and len(b) > 1:
            del b[rng.randrange(len(b))]
    return head + b.hex()


def state_value(typ):
    pool = states.get(typ) or []
    if typ == "double precision[]":
        r = rng.random()
        if r < 0.3 and pool:
            base = rng.choice(pool)
            vals = [v for v in base.strip("{}").split(",") if v]
            if vals:
                k = rng.randrange(len(vals))
                vals[k] = rng.choice(["NULL", "NaN", "Infinity", "-1", "1e300", "1000", "0", "2.5"])
                if rng.random() < 0.3:
                    vals = vals[:rng.randrange(len(vals))]
            return lit("{" + ",".join(vals) + "}") + "::float8[]"
        if pool and r < 0.6:
            return lit(rng.choice(pool)) + "::float8[]"
        return value("double precision[]")
    if typ == "bigint":
        return value("bigint")
    if not pool or rng.random() < 0.1:
        return lit(rng.choice(["", "v1:", "v1:0", "v2:00", "v1:zz", "v1:" + "00" * 40, "v1:01", "x"])) + "::" + typ
    s = rng.choice(pool)
    if rng.random() < 0.8:
        s = mutate_hex(s) if s.startswith("v1:") else s
    return lit(s) + "::" + typ


# ---- the random rows aggregates run over --------------------------------------------
q(admin, "DROP TABLE IF EXISTS public.fuzz_rows")
q(admin, f"""CREATE TABLE public.fuzz_rows AS
  SELECT i, i % 37 AS g,
         CASE WHEN hashint4(i + {seed % 1000}) % 11 = 0 THEN NULL
              ELSE '2026-01-01 00:00+08'::timestamptz + (hashint4(i * 7 + {seed % 1000}) % 100000) * interval '1 minute' END AS ts,
         (hashint4(i * 3) % 5 = 0) AS b1, (hashint4(i * 5) % 3 = 0) AS b2, (hashint4(i * 11) % 7 = 0) AS b3,
         CASE WHEN i % 13 = 0 THEN NULL ELSE abs(hashint4(i * 17) % 1000) / 10.0 END::float8 AS f,
         abs(hashint4(i * 19) % 1000) / 1000.0::float8 AS p,
         (ARRAY['douyin','baidu','wechat','抖音','offline','direct'])[1 + abs(hashint4(i * 23)) % 6] AS ch,
         ARRAY(SELECT (ARRAY['douyin','baidu','wechat','抖音','offline'])[1 + abs(hashint4(i * 29 + k)) % 5]
                 FROM generate_series(1, 1 + abs(hashint4(i * 31)) % 6) k) AS path,
         ARRAY[(hashint4(i) % 7)::float8, (hashint4(i * 2) % 5)::float8] AS x,
         ARRAY[hashint4(i) % 2 = 0, hashint4(i * 2) % 3 = 0, hashint4(i * 3) % 5 = 0] AS steps
    FROM generate_series(1, 30000) i""")
q(admin, "ANALYZE public.fuzz_rows")
q(admin, "GRANT SELECT ON public.fuzz_rows TO PUBLIC")

COLUMNS = {
    "timestamp with time zone": ["ts", "ts + interval '1 day'"],
    "boolean": ["b1", "b2", "b3", "(f > 50)"],
    "double precision": ["f", "p", "(f * 3)", "(-f)"],
    "text": ["ch", "(g::text)", "(CASE WHEN g % 2 = 0 THEN 'a' ELSE 'b' END)"],
    "text[]": ["path"],
    "double precision[]": ["x"],
    "boolean[]": ["steps"],
    "integer": ["g", "(g % 3)"],
    "bigint": ["(g::bigint << 32) | 1"],
}


def agg_arg(typ):
    r = rng.random()
    if typ in COLUMNS and r < 0.75:
        return rng.choice(COLUMNS[typ])
    return value(typ)


def agg_call(name, argtypes, variadic):
    types = list(argtypes)
    if variadic and types and types[-1].endswith("[]") and rng.random() < 0.5:
        # the VARIADIC form with separate arguments
        elem = types[-1][:-2]
        n = rng.randint(1, 4)
        return f"leadmgmt.{name}(" + ", ".join([agg_arg(t) for t in types[:-1]] + [agg_arg(elem) for _ in range(n)]) + ")"
    return f"leadmgmt.{name}(" + ", ".join(agg_arg(t) for t in types) + ")"


# ---- running -----------------------------------------------------------------------
stats = {"statements": 0, "errors": 0, "ok": 0, "states": 0, "crashes": 0, "internal": 0, "timeouts": 0}
failures = []
called = set()
codes = {}


def run(sql, parallel=False):
    global fz
    stats["statements"] += 1
    try:
        with fz.cursor() as cur:
            if parallel:
                cur.execute("SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; "
                            "SET min_parallel_table_scan_size = 0; SET max_parallel_workers_per_gather = 2")
            else:
                cur.execute("SET max_parallel_workers_per_gather = 0")
            cur.execute(sql)
            rows = cur.fetchall() if cur.description else []
        stats["ok"] += 1
        return rows
    except psycopg2.errors.QueryCanceled:
        stats["timeouts"] += 1
    except psycopg2.Error as e:
        if e.pgcode is None:
            # no SQLSTATE: the connection is gone (the backend died); the server restarts its processes
            stats["crashes"] += 1
            failures.append(("backend lost", sql[:300]))
            fz = connect(args.fuzz)
            fz.cursor().execute("SET statement_timeout = '3s'")
            return None
        stats["errors"] += 1
        codes[e.pgcode] = codes.get(e.pgcode, 0) + 1
        if e.pgcode.startswith("XX"):
            stats["internal"] += 1
            failures.append((f"{e.pgcode} {e.pgerror.strip().splitlines()[0]}", sql[:300]))
    return None


fz.cursor().execute("SET statement_timeout = '3s'")
# valid states, through temporary aggregates that stop before the final function (as the admin)
for name, argtypes, stype, transfn, combinefn in [(a[1], a[2], a[3], a[4], a[5]) for a in aggs]:
    tmp = f"pg_temp.st_{transfn.split('.')[-1]}_{len(argtypes)}"
    with admin.cursor() as cur:
        try:
            cur.execute(f"CREATE AGGREGATE {tmp}({', '.join(argtypes)}) (sfunc = {transfn}, stype = {stype}"
                        + (f", combinefunc = {combinefn}" if combinefn else "") + ")")
        except psycopg2.Error:
            continue
    for _ in range(6):
        call = tmp + "(" + ", ".join(agg_arg(t) for t in argtypes) + ")"
        grp = rng.choice(["", " GROUP BY g"])
        try:
            with admin.cursor() as cur:
                cur.execute("SET statement_timeout = '3s'")
                cur.execute(f"SELECT ({call})::text FROM public.fuzz_rows WHERE i <= {rng.choice([5, 50, 500])}{grp}")
                for (v,) in cur.fetchall()[:3]:
                    if v is not None:
                        states.setdefault(stype, []).append(v)
        except psycopg2.Error:
            pass
stats["states"] = sum(len(v) for v in states.values())
print(f"# {len(funcs)} C functions, {len(aggs)} C aggregates, {stats['states']} valid states of "
      f"{len(state_types)} state types to mutate", flush=True)

deadline = time.time() + args.seconds
rounds = 0
while time.time() < deadline:
    rounds += 1
    for sig, name, argtypes, kind, retset, variadic in funcs:
        if time.time() >= deadline:
            break
        if kind != "f" or any(t in ("internal", "cstring") for t in argtypes):
            # type input functions are reached through casts of the states above
            continue
        call = f"leadmgmt.{name}(" + ", ".join(value(t) for t in argtypes) + ")"
        run(f"SELECT * FROM {call} LIMIT 50" if retset else f"SELECT {call}")
        called.add(sig)
    for sig, name, argtypes, stype, transfn, combinefn, variadic in aggs:
        if time.time() >= deadline:
            break
        call = agg_call(name, argtypes, variadic)
        where = rng.choice(["", " WHERE i <= 200", " WHERE i % 2 = 0", " WHERE false"])
        group = rng.choice(["", " GROUP BY g", " GROUP BY g % 3"])
        par = rng.random() < 0.6
        run(f"SELECT {call} FROM public.fuzz_rows{where}{group}", parallel=par)
        called.add(sig)
    # type input with mutated text, in a parallel plan too
    for t in state_types:
        if t in ("double precision[]", "bigint"):
            continue
        run(f"SELECT {state_value(t)}::text")

# ---- verdict -----------------------------------------------------------------------
crash_lines = []
try:
    with open(args.log, "rb") as fh:
        fh.seek(log_start)
        for line in fh.read().decode("utf-8", "replace").splitlines():
            if re.search(r"terminated by signal|was terminated by|server process .* exited with exit code [^0]|"
                         r"AddressSanitizer|runtime error:", line):
                crash_lines.append(line)
except OSError:
    pass

reachable = [f for f in funcs if f[3] == "f" and not any(t in ("internal", "cstring") for t in f[2])]
print(f"# {rounds} rounds, {stats['statements']} statements: {stats['ok']} ran, {stats['errors']} errors, "
      f"{stats['timeouts']} timeouts; {len(called)} of {len(reachable) + len(aggs)} callables reached", flush=True)
print("# errors by SQLSTATE: " + ", ".join(f"{c} {n}" for c, n in sorted(codes.items(), key=lambda x: -x[1])[:12]))
for why, sql in failures[:10]:
    print(f"# {why}: {sql}")
for line in crash_lines[:10]:
    print(f"# log: {line[:300]}")
print(("ok" if not crash_lines and stats["crashes"] == 0 else "not ok")
      + f" - no backend terminated by a signal ({stats['statements']} statements, seed {seed})")
print(("ok" if stats["internal"] == 0 else "not ok") + f" - no internal error (XX000) in {stats['errors']} errors")
print(("ok" if len(called) == len(reachable) + len(aggs) else "not ok")
      + " - every C function and aggregate of the schema was called")
