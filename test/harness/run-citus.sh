#!/usr/bin/env bash
# test/harness/run-citus.sh -- 'make test-citus': leadmgmt on a Citus
# cluster of one coordinator and two workers (throwaway clusters on free
# loopback ports, like the test clusters), against one node.
#
# Where Citus is not installed it says so and passes: Citus is not in Debian
# (docs/dba/citus.md says how to build it beside the project).
#
# What it proves: every custom aggregate runs partially on the workers
# (worker_partial_agg) and combines on the coordinator (coord_combine_agg),
# with the same results as one node (floats to 1e-9 relative); and, since
# 0.11, leadmgmt itself: distribute() (idempotent, refused without Citus),
# the same answers of the ingestion API and of tables and views on the
# cluster as on one node, every write delegated to the worker holding the org,
# tenancy on every node, 16 concurrent ingesting clients, a shard move, and
# (since 0.12) the update from the last landed version on a distributed
# cluster.
# Every view plans on the cluster since 0.12; since 0.13 the regress files
# and since 0.14 the pgTAP files run on Citus too, against one node.
# Ends with the line 'N passed, N failed'.
source "$(dirname "$0")/common.sh"
set +e
if [ ! -f "$("$LM_PGBIN/pg_config" --sharedir)/extension/citus.control" ]; then
  echo "skipped: citus not installed"
  echo "0 passed, 0 failed"
  exit 0
fi
passed=0; failed=0
ok()     { echo "ok - $*"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $*"; failed=$((failed + 1)); }
out=$LM_TOP/.build/test-citus; rm -rf "$out"; mkdir -p "$out"
[ "$(id -u)" -eq 0 ] && chmod -R a+rwX "$LM_TOP/.build"

# --- the cluster: a coordinator and two workers ------------------------------
export LM_PRELOAD=citus LM_FAKETIME=
for n in citus-c citus-w1 citus-w2; do
  "$LM_TOP/test/harness/cluster.sh" fresh "$n" tcp || { not_ok "cluster $n starts"; echo "$passed passed, $failed failed"; exit 1; }
done
port_of() { sed -n 's/.*PGPORT=\([0-9]*\).*/\1/p' "$LM_BASE/$1/env"; }
on() { local n=$1; shift; (source "$LM_BASE/$n/env"; psql -X -v ON_ERROR_STOP=1 "$@"); }
db=lm_citus
for n in citus-c citus-w1 citus-w2; do
  on "$n" -q -d postgres -c "CREATE DATABASE $db" &&
    on "$n" -q -d "$db" -c "CREATE EXTENSION citus" >>"$out/setup.log" 2>&1 ||
    not_ok "citus loads on $n"
done
on citus-c -q -d "$db" -c "SELECT citus_set_coordinator_host('localhost', $(port_of citus-c))" \
  -c "SELECT citus_add_node('localhost', $(port_of citus-w1))" \
  -c "SELECT citus_add_node('localhost', $(port_of citus-w2))" \
  -c "CREATE EXTENSION leadmgmt" -c "SELECT leadmgmt.install()" >>"$out/setup.log" 2>&1
if [ "$(on citus-c -At -d "$db" -c "SELECT count(*) FROM citus_get_active_worker_nodes()")" = 2 ] &&
   [ "$(on citus-w1 -At -d "$db" -c "SELECT extversion FROM pg_extension WHERE extname = 'leadmgmt'")" = \
     "$(on citus-c -At -d "$db" -c "SELECT extversion FROM pg_extension WHERE extname = 'leadmgmt'")" ]; then
  ok "a coordinator and 2 workers, leadmgmt $(on citus-c -At -d "$db" -c "SELECT extversion FROM pg_extension WHERE extname = 'leadmgmt'") on each (Citus $(on citus-c -At -d "$db" -c "SELECT extversion FROM pg_extension WHERE extname = 'citus'"))"
else
  not_ok "a coordinator and 2 workers with leadmgmt"; cat "$out/setup.log"
fi

# --- aggregates: partial on the workers, combined on the coordinator ---------
on citus-c -q -d "$db" -f "$LM_TOP/test/citus/data.sql" >>"$out/setup.log" 2>&1
shards=$(on citus-c -At -d "$db" -c "SELECT count(DISTINCT nodeport) FROM citus_shards WHERE table_name = 'td'::regclass")
if [ "$shards" = 2 ]; then ok "the facts are distributed by org_id over both workers"; else not_ok "the facts are on both workers ($shards)"; cat "$out/setup.log"; fi
k=0
while IFS= read -r q; do
  case "$q" in ''|'#'*) continue ;; esac
  k=$((k + 1))
  name=$(printf '%s' "$q" | sed -n 's/.*leadmgmt\.\([a-z_]*\)(.*/\1/p' | head -1)
  on citus-c -q -At -d "$db" -c "SET citus.coordinator_aggregation_strategy = 'disabled'" -c "${q//\{t\}/td}" >"$out/$k.td" 2>&1
  on citus-c -At -d "$db" -c "${q//\{t\}/tl}" >"$out/$k.tl" 2>&1
  if /usr/bin/python3 "$LM_TOP/test/harness/same-rows.py" "$out/$k.tl" "$out/$k.td" >"$out/$k.diff"; then
    ok "$k $name: the same $(wc -l <"$out/$k.tl") rows on the cluster as on one node"
  else
    not_ok "$k $name: the same rows on the cluster as on one node"; head -5 "$out/$k.diff" | sed 's/^/# /'
  fi
  on citus-c -At -d "$db" -c "SET citus.coordinator_aggregation_strategy = 'disabled'" \
    -c "EXPLAIN (VERBOSE, COSTS OFF) ${q//\{t\}/td}" >"$out/$k.plan" 2>&1
  if grep -q 'worker_partial_agg' "$out/$k.plan" && grep -q 'coord_combine_agg' "$out/$k.plan"; then
    ok "$k $name: partial on the workers (worker_partial_agg), combined on the coordinator (coord_combine_agg)"
  else
    not_ok "$k $name: partial on the workers, combined on the coordinator"; grep -iE 'error|agg' "$out/$k.plan" | head -5 | sed 's/^/# /'
  fi
done <"$LM_TOP/test/citus/aggregates.txt"

# --- leadmgmt itself on the cluster (0.11) -----------------------------------
# install() made ordinary tables; distribute() distributes them by org_id and
# delegates the write functions.  The same calls run on one node: a database
# of the coordinator without Citus.
one=lm_single
on citus-c -q -d postgres -c "CREATE DATABASE $one" &&
  on citus-c -q -d "$one" -c "CREATE EXTENSION leadmgmt" -c "SELECT leadmgmt.install()" >>"$out/setup.log" 2>&1
got=$(on citus-c -At -d "$one" -c "SELECT leadmgmt.distribute()" 2>&1)
if grep -q 'ERROR:  citus is not installed in this database' <<<"$got"; then ok "distribute() without Citus: 55000, citus is not installed"; else not_ok "distribute() without Citus refuses: $got"; fi
got=$(on citus-c -At -d "$db" -c "SELECT leadmgmt.distribute()" 2>&1)
tables=$(on citus-c -At -d "$db" -c "SELECT count(*) FROM citus_tables WHERE table_name::text LIKE 'leadmgmt.%' AND citus_table_type = 'distributed' AND distribution_column = 'org_id' AND colocation_id = (SELECT colocation_id FROM citus_tables WHERE table_name = 'leadmgmt.org'::regclass)")
ntab=$(on citus-c -At -d "$db" -c "SELECT count(*) FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'org_id'
                                    WHERE c.relnamespace = 'leadmgmt'::regnamespace AND c.relkind = 'r'")
if grep -q "^distributed $ntab tables by org_id and [0-9]* functions by their org_id$" <<<"$got" && [ "$tables" = "$ntab" ]; then
  ok "distribute(): $got, all $ntab in org's colocation group; schema_version a reference table"
else
  not_ok "distribute() distributes every table by org_id ($got; $tables colocated)"
fi
got=$(on citus-c -At -d "$db" -c "SELECT leadmgmt.distribute(0)" 2>&1)
if grep -q 'ERROR:  shard_count must be between 1 and 64000, not 0' <<<"$got"; then ok "distribute(0): 22023, shard_count out of range"; else not_ok "distribute(0) refuses: $got"; fi
got=$(on citus-c -At -d "$db" -c "SELECT leadmgmt.distribute()" 2>&1)
check_eq() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (got '$2', want '$3')"; fi; }
check_eq "distribute() again has nothing to do" "$got" "distributed 0 tables by org_id and 0 functions by their org_id"
fns=$(on citus-c -At -d "$db" -c "SELECT string_agg(p.proname, ',' ORDER BY p.proname) FROM pg_dist_object o JOIN pg_proc p ON p.oid = o.objid WHERE o.classid = 'pg_proc'::regclass AND o.distribution_argument_index = 0 AND p.proname IN ('ingest_lead', 'record_spend', 'assign_lead', 'claim_lead', 'log_follow_up')")
check_eq "the write functions are delegated by their org_id" "$fns" "assign_lead,claim_lead,ingest_lead,log_follow_up,record_spend"

for d in "$one" "$db"; do on citus-c -q -At -d "$d" -f "$LM_TOP/test/citus/tenants.sql" >>"$out/tenants-$d.log" 2>&1 || not_ok "the orgs load into $d"; done
# 20 leads per org, each phone twice (the second a repeat), one statement
# each: constant arguments, so Citus delegates every call to the org's node
for o in 1 2 3; do for i in $(seq 10 29); do
  printf "SELECT %s, lead_id, is_new FROM leadmgmt.ingest_lead(%s, '1381%03d%04d', '%s', NULL, '2026-03-%02d 10:%02d+08');\n" \
    "$o" "$o" "$o" "$i" "$( [ $((i % 3)) = 0 ] && echo baidu || echo douyin)" "$(( (i % 9) + 1 ))" "$i"
done; done >"$out/ingest.sql"
sed 's/10:\([0-9]*\)+08/11:\1+08/' "$out/ingest.sql" >>"$out/ingest.sql.2"; cat "$out/ingest.sql.2" >>"$out/ingest.sql"
for d in "$one" "$db"; do on citus-c -q -At -d "$d" -f "$out/ingest.sql" >"$out/ingest-$d.out" 2>&1; done
check_eq "every ingest call answers on the cluster as on one node (new, then repeat)" \
  "$(cut -d'|' -f1,3 "$out/ingest-$db.out" | md5sum)" "$(cut -d'|' -f1,3 "$out/ingest-$one.out" | md5sum)"
# a call ran on the worker that holds the org: Citus gives each node its own
# identity range, the node's group id times 2^48
wrong=$(on citus-c -At -d "$db" -c "
  WITH calls(org_id, lead_id) AS (VALUES $(awk -F'|' 'NF == 3 {printf "%s(%s, %s)", s, $1, $2; s = ", "}' "$out/ingest-$db.out"))
  SELECT count(*) FILTER (WHERE c.lead_id >> 48 <> n.groupid), count(DISTINCT n.groupid) FROM calls c
    CROSS JOIN LATERAL (SELECT s.nodename, s.nodeport FROM citus_shards s
                         WHERE s.table_name = 'leadmgmt.lead'::regclass
                           AND s.shardid = get_shard_id_for_distribution_column('leadmgmt.lead', c.org_id)) s
    JOIN pg_dist_node n ON n.nodeport = s.nodeport")
check_eq "every ingest_lead ran on the worker holding its org, and the 3 orgs are on both workers (wrong node|nodes)" "$wrong" "0|2"

# the other write functions, called with constants as an application calls
# them: each returns the id of the row it wrote, in the range of the node
# that wrote it, which must be the node holding the org
for d in "$one" "$db"; do
  for o in 1 2 3; do
    lead=$(on citus-c -At -d "$d" -c "SELECT lead_id FROM leadmgmt.lead_contact WHERE org_id = $o AND phone = '+861381$(printf %03d $o)0010'" 2>&1)
    printf '%s|add_channel|%s\n' "$o" "$(on citus-c -At -d "$d" -c "SELECT leadmgmt.add_channel($o, 'kuaishou', 'Kuaishou', 'paid')" 2>&1)"
    printf '%s|record_spend|%s\n' "$o" "$(on citus-c -At -d "$d" -c "SELECT leadmgmt.record_spend($o, '2026-03-22', 'kuaishou', NULL, 12.5, 300, 9)" 2>&1)"
    printf '%s|record_touch|%s\n' "$o" "$(on citus-c -At -d "$d" -c "SELECT leadmgmt.record_touch($o, $lead, 'kuaishou', 'spring', '2026-03-22 10:00+08')" 2>&1)"
    printf '%s|record_event|%s\n' "$o" "$(on citus-c -At -d "$d" -c "SELECT leadmgmt.record_event($o, $lead, 'sms_verified', '2026-03-22 10:05+08')" 2>&1)"
  done >"$out/writes-$d.out"
done
if grep -q ERROR "$out/writes-$db.out" "$out/writes-$one.out"; then
  not_ok "add_channel, record_spend, record_touch and record_event run on the cluster"; grep ERROR "$out/writes-$db.out" | head -3 | sed 's/^/# /'
else
  wrong=$(on citus-c -At -d "$db" -c "
    WITH calls(org_id, fn, id) AS (VALUES $(awk -F'|' '{printf "%s(%s, %s, %s)", s, $1, "'"'"'" $2 "'"'"'", $3; s = ", "}' "$out/writes-$db.out"))
    SELECT count(*) || '|' || count(*) FILTER (WHERE c.id >> 48 <> n.groupid) FROM calls c
      JOIN citus_shards s ON s.table_name = 'leadmgmt.lead'::regclass
                         AND s.shardid = get_shard_id_for_distribution_column('leadmgmt.lead', c.org_id)
      JOIN pg_dist_node n ON n.nodeport = s.nodeport")
  check_eq "add_channel, record_spend, record_touch and record_event each ran on the worker holding its org (calls|elsewhere)" "$wrong" "12|0"
fi

# the same rows, read through the tables and views (no ids)
cmp_q() {
  local name=$1 q=$2
  on citus-c -At -d "$one" -c "$q" >"$out/$name.one" 2>&1; on citus-c -At -d "$db" -c "$q" >"$out/$name.cluster" 2>&1
  if [ ! -s "$out/$name.one" ] && [ ! -s "$out/$name.cluster" ]; then
    ok "$name: plans and runs on the cluster; no rows on either (this load has none of its kind)"
  elif /usr/bin/python3 "$LM_TOP/test/harness/same-rows.py" "$out/$name.one" "$out/$name.cluster" >"$out/$name.diff" && ! grep -q ERROR "$out/$name.cluster"; then
    ok "$name: the same $(wc -l <"$out/$name.one") rows on the cluster as on one node"
  else
    not_ok "$name: the same rows on the cluster as on one node"; head -3 "$out/$name.diff" "$out/$name.cluster" | sed 's/^/# /'
  fi
}
cmp_q leads "SELECT l.org_id, lc.phone, c.code, l.created_at, l.last_touch_at, l.status, l.pool FROM leadmgmt.lead l JOIN leadmgmt.lead_contact lc ON lc.org_id = l.org_id AND lc.lead_id = l.lead_id JOIN leadmgmt.channel c ON c.org_id = l.org_id AND c.channel_id = l.first_channel_id ORDER BY 1, 2"
cmp_q touches "SELECT t.org_id, l.phone, t.kind, t.occurred_at FROM leadmgmt.touchpoint t JOIN leadmgmt.lead_contact l ON l.org_id = t.org_id AND l.lead_id = t.lead_id ORDER BY 1, 2, 4"
cmp_q events "SELECT e.org_id, l.phone, e.event_type, e.occurred_at FROM leadmgmt.lead_event e JOIN leadmgmt.lead_contact l ON l.org_id = e.org_id AND l.lead_id = e.lead_id ORDER BY 1, 2, 4"
cmp_q spend "SELECT s.org_id, c.code, s.spend_date, s.spend, s.impressions, s.clicks, s.revision FROM leadmgmt.ad_spend s JOIN leadmgmt.channel c ON c.org_id = s.org_id AND c.channel_id = s.channel_id ORDER BY 1, 2, 3"
cmp_q lead_overview "SELECT org_id, phone_masked, first_channel, created_at, status FROM leadmgmt.lead_overview ORDER BY 1, 2"
cmp_q channel_daily "SELECT * FROM leadmgmt.channel_daily ORDER BY 1, 2, 3"
cmp_q funnel_report "SELECT * FROM leadmgmt.funnel_report ORDER BY 1, 2, 3, 4, 5, 6"

# assignment: the same decisions on the cluster as on one node.  Each call
# has constant arguments (delegated to the org's worker); leads are named by
# phone and reps by name, since each node numbers its own rows.
for d in "$one" "$db"; do
  for o in 1 2 3; do
    lid() { on citus-c -At -d "$d" -c "SELECT lead_id FROM leadmgmt.lead_contact WHERE org_id = $o AND phone = '+861381$(printf %03d $o)00$1'"; }
    rid() { on citus-c -At -d "$d" -c "SELECT rep_id FROM leadmgmt.sales_rep WHERE org_id = $o AND name = 'rep $o-$1'"; }
    l11=$(lid 11); l12=$(lid 12); r1=$(rid 1); r2=$(rid 2)
    {
      # top-level calls with constants (a call inside a query would run inside a shard's query)
      echo "SELECT leadmgmt.assign_lead($o, $l11, NULL, '2026-03-25 10:00+08') AS r \\gset"
      echo "SELECT $o, 'assign_lead', name FROM leadmgmt.sales_rep WHERE org_id = $o AND rep_id = :'r'::bigint;"
      echo "SELECT string_agg(lead_id || ',' || rep_id, ';' ORDER BY lead_id) AS p FROM leadmgmt.assign_pending($o, 6, NULL, '2026-03-25 11:00+08') \\gset"
      echo "SELECT $o, 'assign_pending', l.phone, r.name FROM unnest(string_to_array(:'p', ';')) x(pair)"
      echo "  JOIN leadmgmt.lead_contact l ON l.org_id = $o AND l.lead_id = split_part(x.pair, ',', 1)::bigint"
      echo "  JOIN leadmgmt.sales_rep r ON r.org_id = $o AND r.rep_id = split_part(x.pair, ',', 2)::bigint ORDER BY 3;"
      echo "SELECT leadmgmt.log_follow_up($o, $l11, :'r'::bigint, 'call', 'connected', NULL, '2026-03-25 12:00+08') AS f \\gset"
      echo "SELECT $o, 'log_follow_up', :'f' <> '';"
      echo "SELECT leadmgmt.release_lead($o, $l11, NULL, '2026-03-25 13:00+08') AS rr \\gset"
      echo "SELECT $o, 'release_lead', name FROM leadmgmt.sales_rep WHERE org_id = $o AND rep_id = :'rr'::bigint;"
      echo "SELECT leadmgmt.claim_lead($o, $l12, $r2, '2026-03-25 14:00+08') AS c \\gset"
      echo "SELECT $o, 'claim_lead', :'c' <> '';"
      echo "SELECT string_agg(lead_id || ',' || previous_rep_id || ',' || reason, ';' ORDER BY lead_id) AS rs FROM leadmgmt.recycle_stale($o, '2026-06-01 00:00+08') \\gset"
      echo "SELECT $o, 'recycle_stale', l.phone, r.name, split_part(x.v, ',', 3) FROM unnest(string_to_array(:'rs', ';')) x(v)"
      echo "  JOIN leadmgmt.lead_contact l ON l.org_id = $o AND l.lead_id = split_part(x.v, ',', 1)::bigint"
      echo "  JOIN leadmgmt.sales_rep r ON r.org_id = $o AND r.rep_id = split_part(x.v, ',', 2)::bigint ORDER BY 3;"
      echo "SELECT leadmgmt.refresh_tiers($o) AS rt \\gset"
      echo "SELECT $o, 'refresh_tiers', :'rt', lc.phone, l.tier FROM leadmgmt.lead l JOIN leadmgmt.lead_contact lc USING (org_id, lead_id) WHERE l.org_id = $o AND lc.phone LIKE '+861381%' ORDER BY 4;"
      echo "SELECT $o, 'owners', lc.phone, l.pool, r.name FROM leadmgmt.lead l JOIN leadmgmt.lead_contact lc USING (org_id, lead_id) LEFT JOIN leadmgmt.sales_rep r ON r.org_id = l.org_id AND r.rep_id = l.owner_rep_id WHERE l.org_id = $o ORDER BY 3;"
      echo "SELECT $o, 'workload', rep_name, open_leads, assigned_today, claimed_today FROM leadmgmt.rep_workload WHERE org_id = $o ORDER BY 3;"
    } >"$out/assign-$o.sql"
    on citus-c -At -d "$d" -f "$out/assign-$o.sql" 2>&1
  done >"$out/assign-$d.out"
done
if grep -q ERROR "$out/assign-$db.out" "$out/assign-$one.out"; then
  not_ok "assign_lead, assign_pending, log_follow_up, release_lead, claim_lead, recycle_stale and refresh_tiers run on the cluster"
  grep -h ERROR "$out/assign-$db.out" "$out/assign-$one.out" | head -3 | sed 's/^/# /'
else
  check_eq "assign_lead, assign_pending, log_follow_up, release_lead, claim_lead, recycle_stale, refresh_tiers: the same decisions, owners, tiers and counters on the cluster as on one node ($(grep -c . "$out/assign-$db.out") lines)" \
    "$(md5sum <"$out/assign-$db.out")" "$(md5sum <"$out/assign-$one.out")"
fi

# the demo brand, three orgs of it: generated on one node (the generator
# joins temporary tables to the schema's tables, which a cluster does not
# plan), then moved onto the cluster as a school moves its data there: COPY,
# table by table in the order of their foreign keys, ids kept.  The cluster
# then holds the same rows, ids and all.
for o in 1 2 3; do
  on citus-c -q -d "$one" -v scale=0.01 -v seed=$((10 + o)) -v org_name="Demo $o" -f "$LM_TOP/test/demo/generate.sql" >>"$out/demo.log" 2>&1 ||
    not_ok "demo org $o generates on one node"
done
demo_orgs=$(on citus-c -At -d "$one" -c "SELECT string_agg(org_id::text, ',' ORDER BY org_id) FROM leadmgmt.org WHERE name LIKE 'Demo %'")
# copy_orgs SRC DST ORGS [SERVER]: the rows of the orgs ORGS (a comma list)
# of every table of database SRC into database DST (both of SERVER, the
# coordinator's by default), by COPY in the order of the foreign keys, ids
# kept; sets $tables
copy_orgs() {
  local src=$1 dst=$2 orgs=$3 t cols
  local srv=${4:-citus-c}
  tables=$(on "$srv" -At -d "$src" -c "
    WITH RECURSIVE t AS (SELECT c.oid FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'org_id'
                          WHERE c.relnamespace = 'leadmgmt'::regnamespace AND c.relkind = 'r'),
    dep AS (SELECT conrelid AS child, confrelid AS parent FROM pg_constraint WHERE contype = 'f' AND conrelid <> confrelid
               AND connamespace = 'leadmgmt'::regnamespace),
    lvl AS (SELECT t.oid, 0 AS d FROM t UNION ALL SELECT dep.child, lvl.d + 1 FROM lvl JOIN dep ON dep.parent = lvl.oid)
    SELECT string_agg(oid::regclass::text, ' ' ORDER BY d, oid::regclass::text) FROM (SELECT oid, max(d) AS d FROM lvl GROUP BY oid) x")
  {
    # the engine's triggers skip rows the engine writes itself: rep_load_change
    # comes with the rest, as it was on one node
    echo "SET citus.propagate_set_commands = 'local';"
    echo "BEGIN;"
    echo "SET LOCAL leadmgmt.engine_update = 'on';"
    for t in $tables; do
      cols=$(on "$srv" -At -d "$src" -c "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute
                                           WHERE attrelid = '$t'::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = ''")
      on "$srv" -q -d "$src" -c "COPY (SELECT $cols FROM $t WHERE org_id IN ($orgs) ORDER BY 1, 2) TO STDOUT" >"$out/copy-$dst-${t#leadmgmt.}.tsv"
      echo "\\copy $t ($cols) FROM '$out/copy-$dst-${t#leadmgmt.}.tsv'"
    done
    echo "COMMIT;"
  } >"$out/copy-$dst.sql"
  on "$srv" -q -d "$dst" -f "$out/copy-$dst.sql" >"$out/copy-$dst.log" 2>&1
  # the coordinator's identity sequences past the ids that came (as a
  # restore of pg_dump's data does): rows the coordinator inserts itself
  # then get new ids (the workers number from their own ranges anyway)
  on "$srv" -q -d "$dst" -c "DO \$\$DECLARE r record; m bigint; BEGIN
    FOR r IN SELECT a.attrelid::regclass AS t, a.attname AS c FROM pg_attribute a JOIN pg_class k ON k.oid = a.attrelid
              WHERE k.relnamespace = 'leadmgmt'::regnamespace AND k.relkind = 'r' AND a.attidentity <> '' LOOP
      EXECUTE format('SELECT max(%I) FROM %s', r.c, r.t) INTO m;
      IF m IS NOT NULL THEN PERFORM setval(pg_get_serial_sequence(r.t::text, r.c), m); END IF;
    END LOOP; END\$\$" >>"$out/copy-$dst.log" 2>&1
}
# the demo orgs on both workers: when the hash put them on one, move the
# second one's shards (and what is colocated with them) to the other worker
# first, as a rebalance would
nodes=$(on citus-c -At -d "$db" -c "SELECT count(DISTINCT s.nodeport) FROM unnest('{$demo_orgs}'::bigint[]) o
                                     JOIN citus_shards s ON s.table_name = 'leadmgmt.lead'::regclass
                                      AND s.shardid = get_shard_id_for_distribution_column('leadmgmt.lead', o)")
if [ "$nodes" = 1 ]; then
  second=$(cut -d, -f2 <<<"$demo_orgs")
  shard=$(on citus-c -At -d "$db" -c "SELECT get_shard_id_for_distribution_column('leadmgmt.lead', $second)")
  from=$(on citus-c -At -d "$db" -c "SELECT nodeport FROM citus_shards WHERE shardid = $shard")
  to=$([ "$from" = "$(port_of citus-w1)" ] && port_of citus-w2 || port_of citus-w1)
  on citus-c -q -d "$db" -c "SELECT citus_move_shard_placement($shard, 'localhost', $from, 'localhost', $to, shard_transfer_mode => 'block_writes')" >>"$out/setup.log" 2>&1
fi
copy_orgs "$one" "$db" "$demo_orgs"
moved=$(on citus-c -At -d "$db" -c "SELECT count(*) FROM leadmgmt.touchpoint WHERE org_id IN ($demo_orgs)" 2>&1)
nodes=$(on citus-c -At -d "$db" -c "SELECT count(DISTINCT s.nodeport) FROM unnest('{$demo_orgs}'::bigint[]) o
                                     JOIN citus_shards s ON s.table_name = 'leadmgmt.lead'::regclass
                                      AND s.shardid = get_shard_id_for_distribution_column('leadmgmt.lead', o)")
check_eq "the demo brand (orgs $demo_orgs, $(wc -w <<<"$tables") tables) moves onto the cluster by COPY, over both workers (touchpoints|workers)" \
  "$moved|$nodes" "$(on citus-c -At -d "$one" -c "SELECT count(*) FROM leadmgmt.touchpoint WHERE org_id IN ($demo_orgs)")|2"
grep ERROR "$out/copy-$db.log" | head -3 | sed 's/^/# /'
for t in $tables; do
  cmp_q "demo_table_${t#leadmgmt.}" "SELECT * FROM $t x WHERE org_id IN ($demo_orgs) ORDER BY x::text"
done

# every view: the same rows on the cluster as on one node: without the ids
# for all orgs (the orgs made through the API got other ids on each), whole
# for the demo orgs
for v in $(on citus-c -At -d "$db" -c "SELECT relname FROM pg_class WHERE relnamespace = 'leadmgmt'::regnamespace AND relkind = 'v' ORDER BY 1"); do
  cols=$(on citus-c -At -d "$one" -c "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute
                                       WHERE attrelid = 'leadmgmt.$v'::regclass AND attnum > 0 AND (attname !~ '_ids?$' OR attname = 'org_id')")
  cmp_q "view_$v" "SELECT $cols FROM leadmgmt.$v ORDER BY $cols"
  cmp_q "demo_view_$v" "SELECT * FROM leadmgmt.$v x WHERE org_id IN ($demo_orgs) ORDER BY x::text"
done

# tenancy on every node: an app role acting for org 2 sees org 2 only, on
# both workers; the setting reaches the workers with propagate_set_commands
on citus-c -q -d "$db" -c "DO \$\$BEGIN IF to_regrole('lm_citus_app') IS NULL THEN CREATE ROLE lm_citus_app LOGIN; END IF; END\$\$" \
  -c "SELECT leadmgmt.grant_access('lm_citus_app', 2, 'app')" >>"$out/setup.log" 2>&1
seen=$(on citus-c -q -At -d "$db" -c "SET citus.propagate_set_commands = 'local'" -c "BEGIN" -c "SET LOCAL ROLE lm_citus_app" -c "SET LOCAL leadmgmt.org_id = '2'" \
  -c "SELECT count(*) || '|' || count(*) FILTER (WHERE org_id = 2) FROM leadmgmt.lead" -c "COMMIT" 2>&1)
check_eq "an app role acting for org 2 sees exactly org 2's 20 leads through the coordinator (rows|of org 2)" "$seen" "20|20"
seen=$(on citus-c -q -At -d "$db" -c "SET citus.propagate_set_commands = 'local'" -c "BEGIN" -c "SET LOCAL ROLE lm_citus_app" \
  -c "SELECT count(*) FROM leadmgmt.lead" -c "COMMIT" 2>&1)
check_eq "without leadmgmt.org_id it sees nothing" "$seen" "0"
for w in citus-w1 citus-w2; do
  seen=$(on "$w" -q -At -d "$db" -c "SET citus.propagate_set_commands = 'local'" -c "BEGIN" -c "SET LOCAL ROLE lm_citus_app" \
    -c "SET LOCAL leadmgmt.org_id = '2'" -c "SELECT count(*) || '|' || count(*) FILTER (WHERE org_id <> 2) FROM leadmgmt.lead" -c "COMMIT" 2>&1)
  check_eq "on $w directly, the app role acting for org 2 sees org 2 and no other org (rows|other orgs)" "$seen" "20|0"
done

# the restricted roles (since 0.12, when the phone left lead for its own
# table and no role needs a column privilege, which Citus refuses): a
# reporting role and a sales rep of org 2, through the coordinator and on
# each worker directly
# (they log in as themselves: with propagate_set_commands a SET ROLE would be
# replayed on the workers inside SECURITY DEFINER functions too)
as_role() { local n=$1 r=$2; shift 2; on "$n" -q -At -U "$r" -d "$db" -c "SET citus.propagate_set_commands = 'local'" -c "BEGIN" \
  -c "SET LOCAL leadmgmt.org_id = '2'" "$@" -c "COMMIT" 2>&1; }
# (recycle_stale above emptied the private pools: each rep of org 2 claims a lead)
rep=$(on citus-c -At -d "$db" -c "SELECT rep_id FROM leadmgmt.sales_rep WHERE org_id = 2 AND name = 'rep 2-1'")
rep2=$(on citus-c -At -d "$db" -c "SELECT rep_id FROM leadmgmt.sales_rep WHERE org_id = 2 AND name = 'rep 2-2'")
pub=$(on citus-c -At -d "$db" -c "SELECT string_agg(lead_id::text, ' ' ORDER BY lead_id) FROM (SELECT lead_id FROM leadmgmt.lead WHERE org_id = 2 AND pool = 'public' ORDER BY lead_id LIMIT 2) x")
set -- $pub
on citus-c -q -At -d "$db" -c "SELECT leadmgmt.claim_lead(2, $1, $rep, '2026-06-10 10:00+08')" -c "SELECT leadmgmt.claim_lead(2, $2, $rep2, '2026-06-10 10:05+08')" >>"$out/setup.log" 2>&1
got=$(on citus-c -q -At -d "$db" -c "DO \$\$BEGIN IF to_regrole('lm_citus_bi') IS NULL THEN CREATE ROLE lm_citus_bi LOGIN; END IF;
                                                 IF to_regrole('lm_citus_sales') IS NULL THEN CREATE ROLE lm_citus_sales LOGIN; END IF; END\$\$" \
  -c "DO \$\$BEGIN IF to_regrole('lm_citus_admin') IS NULL THEN CREATE ROLE lm_citus_admin LOGIN; END IF; END\$\$" \
  -c "SELECT leadmgmt.grant_access('lm_citus_bi', 2, 'reporting')" -c "SELECT leadmgmt.grant_access('lm_citus_sales', 2, 'sales', $rep)" \
  -c "SELECT leadmgmt.grant_access('lm_citus_admin', 2, 'admin')" 2>&1)
check_eq "grant_access gives a reporting role, a sales rep and an admin their privileges on the cluster (no column privilege)" "$(grep -c ERROR <<<"$got")" 0
org2=$(on citus-c -At -d "$db" -c "SELECT count(*) FROM leadmgmt.lead WHERE org_id = 2")
mine=$(on citus-c -At -d "$db" -c "SELECT count(*) FROM leadmgmt.lead WHERE org_id = 2 AND (pool = 'public' OR owner_rep_id = $rep)")
for n in citus-c citus-w1 citus-w2; do
  seen=$(as_role "$n" lm_citus_bi -c "SELECT count(*) || '|' || count(*) FILTER (WHERE org_id <> 2) FROM leadmgmt.lead")
  check_eq "on $n the reporting role of org 2 reads org 2's $org2 leads and no other org's (rows|other orgs)" "$seen" "$org2|0"
  seen=$(as_role "$n" lm_citus_bi -c "SELECT count(*) FROM leadmgmt.lead_contact")
  check_eq "on $n it may not read the phones (lead_contact)" "$(grep -o 'permission denied for table lead_contact' <<<"$seen" | head -1)" "permission denied for table lead_contact"
  seen=$(as_role "$n" lm_citus_sales -c "SELECT count(*) || '|' || count(*) FILTER (WHERE org_id <> 2 OR (pool = 'private' AND owner_rep_id <> $rep)) FROM leadmgmt.lead")
  check_eq "on $n the sales rep sees the public pool and its own leads of org 2 only (rows|others)" "$seen" "$mine|0"
  seen=$(as_role "$n" lm_citus_admin -c "SELECT count(*) || '|' || count(*) FILTER (WHERE org_id <> 2) FROM leadmgmt.lead" \
                                     -c "SELECT count(*) FILTER (WHERE org_id <> 2) || '|' || (count(*) > 0) FROM leadmgmt.lead_contact")
  check_eq "on $n the admin of org 2 reads org 2's leads and their phones, and nothing of another org (leads|other|other phones|phones)" \
    "$(paste -sd'|' <<<"$seen")" "$org2|0|0|true"
done
# every view as the reporting role of a demo org (its service data too):
# the same rows as the superuser reads of that org (Citus 13.0.5 crashed
# planning student_segment's outer joins under row-level security until
# 0.12 moved its segment names into a subquery)
d1=$(cut -d, -f1 <<<"$demo_orgs")
on citus-c -q -At -d "$db" -c "SELECT leadmgmt.grant_access('lm_citus_bi', $d1, 'reporting')" >>"$out/setup.log" 2>&1
bad=""
for v in $(on citus-c -At -d "$db" -c "SELECT relname FROM pg_class WHERE relnamespace = 'leadmgmt'::regnamespace AND relkind = 'v' ORDER BY 1"); do
  # no filter on org_id: a filter makes it a single-shard query, which never crashed
  as_bi=$(on citus-c -q -At -U lm_citus_bi -d "$db" -c "SELECT count(*) FROM leadmgmt.$v" 2>&1)
  as_su=$(on citus-c -q -At -d "$db" -c "SELECT count(*) FROM leadmgmt.$v WHERE org_id IN (2, $d1)" 2>&1)
  [ "$as_bi" = "$as_su" ] || bad="$bad $v($as_bi/$as_su)"
done
check_eq "as the reporting role of org 2 and demo org $d1, every view gives those orgs' rows as the superuser reads them (no crash)" "$bad" ""
# a role Citus does not propagate (made in another database, on each node by
# hand): grant_access refuses it, since its memberships would stay on the
# coordinator and it would read nothing through the cluster
for n in citus-c citus-w1 citus-w2; do
  on "$n" -q -d postgres -c "DO \$\$BEGIN IF to_regrole('lm_citus_stray') IS NULL THEN CREATE ROLE lm_citus_stray LOGIN; END IF; END\$\$" >>"$out/setup.log" 2>&1
done
got=$(on citus-c -At -d "$db" -c "SELECT leadmgmt.grant_access('lm_citus_stray', 2, 'reporting')" 2>&1)
check_eq "grant_access refuses a role Citus does not propagate (55000), granting nothing" \
  "$(grep -o 'role lm_citus_stray is not propagated to the workers by Citus' <<<"$got")|$(on citus-c -At -d "$db" -c "SELECT count(*) FROM leadmgmt.access_grant WHERE role_name = 'lm_citus_stray'")" \
  "role lm_citus_stray is not propagated to the workers by Citus|0"
own=$(on citus-c -At -d "$db" -c "SELECT min(lead_id) FROM leadmgmt.lead WHERE org_id = 2 AND owner_rep_id = $rep")
other=$(on citus-c -At -d "$db" -c "SELECT min(lead_id) FROM leadmgmt.lead WHERE org_id = 2 AND pool = 'private' AND owner_rep_id <> $rep")
if [ -n "$own" ]; then
  seen=$(as_role citus-c lm_citus_sales -c "SELECT leadmgmt.lead_phone(2, $own) ~ '^\+861'" -c "SELECT leadmgmt.update_lead(2, $own, '{\"status\": \"contacting\"}')")
  check_eq "the sales rep reads its own lead's phone (lead_phone) and updates it (update_lead, delegated)" "$(paste -sd, <<<"$seen")" "t,t"
  check_eq "... on the cluster" "$(on citus-c -At -d "$db" -c "SELECT status FROM leadmgmt.lead WHERE org_id = 2 AND lead_id = $own")" "contacting"
else
  not_ok "a sales rep of org 2 owns a lead (the assignment above gave them some)"
fi
if [ -z "$other" ]; then
  not_ok "another rep of org 2 owns a lead (the assignment above gave them some)"
else
  seen=$(as_role citus-c lm_citus_sales -c "SELECT leadmgmt.update_lead(2, $other, '{\"status\": \"lost\"}')")
  check_eq "but not another rep's lead (42501)" "$(grep -o 'permission denied to act for rep [0-9]* in org 2' <<<"$seen" | sed 's/rep [0-9]*/rep N/')" "permission denied to act for rep N in org 2"
fi

# 16 clients ingest through the coordinator at once: one lead per phone
cat >"$out/concurrent.sql" <<'SQL'
\set o random(1, 3)
\set p random(1, 40)
SELECT leadmgmt.ingest_lead(:o, '1390000' || lpad(:p::text, 4, '0'), 'douyin', NULL, '2026-03-20 12:00+08');
SQL
(source "$LM_BASE/citus-c/env"; "$LM_PGBIN/pgbench" -n -c 16 -j 2 -t 40 -f "$out/concurrent.sql" "$db") >"$out/pgbench.log" 2>&1
dups=$(on citus-c -At -d "$db" -c "SELECT count(*) || '|' || count(DISTINCT (c.org_id, c.phone)) FROM leadmgmt.lead l JOIN leadmgmt.lead_contact c USING (org_id, lead_id) WHERE c.phone LIKE '+86139%'")
if grep -q 'number of failed transactions: 0' "$out/pgbench.log" && [ "${dups%|*}" = "${dups#*|}" ]; then
  ok "16 clients x 40 ingest calls through the coordinator: no failure, one lead per org and phone ($dups)"
else
  not_ok "16 concurrent clients: one lead per phone ($dups)"; grep -iE 'error|failed' "$out/pgbench.log" | head -3 | sed 's/^/# /'
fi

# move org 1's shards to the other worker, then write again: no id collides
shard=$(on citus-c -At -d "$db" -c "SELECT get_shard_id_for_distribution_column('leadmgmt.lead', 1)")
from=$(on citus-c -At -d "$db" -c "SELECT nodeport FROM citus_shards WHERE shardid = $shard")
to=$([ "$from" = "$(port_of citus-w1)" ] && port_of citus-w2 || port_of citus-w1)
on citus-c -q -d "$db" -c "SELECT citus_move_shard_placement($shard, 'localhost', $from, 'localhost', $to, shard_transfer_mode => 'block_writes')" >>"$out/setup.log" 2>&1
moved=$(on citus-c -At -d "$db" -c "SELECT nodeport FROM citus_shards WHERE shardid = $shard")
new=$(on citus-c -At -d "$db" -c "SELECT lead_id FROM leadmgmt.ingest_lead(1, '13877776666', 'douyin', NULL, '2026-03-21 09:00+08')" 2>&1)
clash=$(on citus-c -At -d "$db" -c "SELECT count(*) - count(DISTINCT lead_id) FROM leadmgmt.lead")
check_eq "after moving org 1's shards ($from -> $moved) a new lead ($new) is written on the new node with no id clash" \
  "$moved|$clash|$(on citus-c -At -d "$db" -c "SELECT ($new >> 48) = (SELECT groupid FROM pg_dist_node WHERE nodeport = $to)")" "$to|0|t"

# --- the demo report on the cluster and on one node ------------------------
# test/demo/report.sql (what 'make demo' prints: views, and the writes it
# makes as an application would, each call with the org as a constant) over
# one demo brand, moved onto the cluster by COPY: the same report.
rep_c=lm_report; rep_one=lm_report_one
for n in citus-c citus-w1 citus-w2; do
  on "$n" -q -d postgres -c "CREATE DATABASE $rep_c" && on "$n" -q -d "$rep_c" -c "CREATE EXTENSION citus" >>"$out/setup.log" 2>&1
done
on citus-c -q -d postgres -c "CREATE DATABASE $rep_one" >>"$out/setup.log" 2>&1
on citus-c -q -d "$rep_c" -c "SELECT citus_set_coordinator_host('localhost', $(port_of citus-c))" \
  -c "SELECT citus_add_node('localhost', $(port_of citus-w1))" -c "SELECT citus_add_node('localhost', $(port_of citus-w2))" \
  -c "CREATE EXTENSION leadmgmt" -c "SELECT leadmgmt.install()" -c "SELECT leadmgmt.distribute()" >>"$out/setup.log" 2>&1
on citus-c -q -d "$rep_one" -c "CREATE EXTENSION leadmgmt" -c "SELECT leadmgmt.install()" >>"$out/setup.log" 2>&1
on citus-c -q -d "$rep_one" -v scale=0.02 -v seed=7 -f "$LM_TOP/test/demo/generate.sql" >>"$out/setup.log" 2>&1
copy_orgs "$rep_one" "$rep_c" "$(on citus-c -At -d "$rep_one" -c "SELECT string_agg(org_id::text, ',') FROM leadmgmt.org")"
for d in "$rep_one" "$rep_c"; do
  on citus-c -q -d "$d" -f "$LM_TOP/test/demo/report.sql" >"$out/report-$d.txt" 2>&1
done
if grep -q ERROR "$out/report-$rep_c.txt"; then
  not_ok "the demo report runs on the cluster"; grep -A2 ERROR "$out/report-$rep_c.txt" | head -6 | sed 's/^/# /'
elif diff "$out/report-$rep_one.txt" "$out/report-$rep_c.txt" >"$out/report.diff"; then
  ok "the demo report (test/demo/report.sql, $(wc -l <"$out/report-$rep_c.txt") lines: views, tiers refreshed, models trained, leads scored) is the same on the cluster as on one node"
else
  not_ok "the demo report is the same on the cluster as on one node"; head -20 "$out/report.diff" | sed 's/^/# /'
fi

# refresh_tiers and score_leads, which read a table-reading function, also run
# when Citus cannot delegate them (the org taken from a VALUES list, so the
# call runs on the coordinator): the same result as on one node, over the same
# demo brand (each in a transaction rolled back).  The assignment engine's
# functions run only where the org is: not delegated, they are refused.
o1=$(on citus-c -At -d "$rep_c" -c "SELECT min(org_id) FROM leadmgmt.org")
not_delegated() { on citus-c -At -v VERBOSITY=verbose -d "$1" -c "BEGIN" \
                    -c "SELECT x.* FROM (VALUES ($o1::bigint)) v(o), leadmgmt.$(printf "$2" v.o) x" -c "ROLLBACK" 2>&1 |
                  grep -v '^BEGIN$\|^ROLLBACK$' | sort; }
for call in "refresh_tiers(%s)" "score_leads(%s)"; do
  got=()
  for d in "$rep_one" "$rep_c"; do
    res=$(not_delegated "$d" "$call")
    got+=("$(wc -l <<<"$res") rows, $(grep -c ERROR <<<"$res") errors, md5 $(md5sum <<<"$res" | cut -c1-8)")
  done
  check_eq "${call%%(*} called on the coordinator (not delegated) gives what it gives on one node (${got[0]})" "${got[1]}" "${got[0]}"
  [[ ${got[0]} == *", 0 errors,"* ]] || not_ok "${call%%(*} runs on one node: ${got[0]}"
done
for call in "recycle_stale(%s, '2030-01-01')" "assign_pending(%s, 10)"; do
  check_eq "${call%%(*} called on the coordinator (not delegated) is refused before it does anything (0A000: not on this node)" \
    "$(not_delegated "$rep_c" "$call" | grep -c 'ERROR:  0A000: the rows of org [0-9]* of leadmgmt.lead are not on this node')" 1
done

# --- the regress files on the cluster and on one node ----------------------
# Each file of sql/ (the schedule of 'make installcheck', in order, in one
# database) runs through psql on one node and on Citus, and the outputs must
# be the same (same-rows.py --regress: numbers to 1e-9, what Citus adds left
# out).  Two Citus clusters:
#  - one whose coordinator holds the shards (no workers): every id is the one
#    node's, so every file compares whole, lead ids and all;
#  - the coordinator and its 2 workers: each worker numbers the rows it
#    writes in its own range, so the files that name ids as constants
#    (ingest) is compared only on the first; its writes are compared on the
#    workers above, through the API, by phone.
# sql/assignment.sql is compared on neither: its helpers are temporary
# functions taking rows of org, which Citus cannot call on a shard; the
# assignment decisions are compared above, on the workers, by name.
regress_files=$(sed -n 's/^REGRESS *= *//p' "$LM_TOP/Makefile")
for n in citus-solo citus-one; do
  "$LM_TOP/test/harness/cluster.sh" fresh "$n" tcp >/dev/null || not_ok "cluster $n starts"
done
rdb=lm_regress
for n in citus-c citus-w1 citus-w2 citus-solo; do
  on "$n" -q -d postgres -c "CREATE DATABASE $rdb TEMPLATE template0" && on "$n" -q -d "$rdb" -c "CREATE EXTENSION citus" >>"$out/setup.log" 2>&1
done
on citus-one -q -d postgres -c "CREATE DATABASE $rdb TEMPLATE template0" >>"$out/setup.log" 2>&1
on citus-c -q -d "$rdb" -c "SELECT citus_set_coordinator_host('localhost', $(port_of citus-c))" \
  -c "SELECT citus_add_node('localhost', $(port_of citus-w1))" -c "SELECT citus_add_node('localhost', $(port_of citus-w2))" >>"$out/setup.log" 2>&1
on citus-solo -q -d "$rdb" -c "SELECT citus_set_coordinator_host('localhost', $(port_of citus-solo))" -c "SELECT citus_set_node_property('localhost', $(port_of citus-solo), 'shouldhaveshards', true)" >>"$out/setup.log" 2>&1
for n in citus-c citus-solo citus-one; do
  on "$n" -q -d "$rdb" -c "CREATE EXTENSION leadmgmt" >>"$out/setup.log" 2>&1
  for f in $regress_files; do
    (source "$LM_BASE/$n/env"; psql -X -A -a -q -d "$rdb" -f "$LM_TOP/sql/$f.sql") >"$out/regress-$f.$n" 2>&1
    # after install.sql has made the tables: distribute them
    if [ "$f" = install ] && [ "$n" != citus-one ]; then on "$n" -q -d "$rdb" -c "SELECT leadmgmt.distribute()" >>"$out/setup.log" 2>&1; fi
  done
done
# the lead's shards: over both workers on the cluster, all on the coordinator alone
placed() { on "$1" -At -d "$rdb" -c "SELECT count(DISTINCT nodeport) || ' node(s), ' || (count(*) > 1)::text FROM citus_shards WHERE table_name = 'leadmgmt.lead'::regclass"; }
check_eq "the regress files ran into distributed tables: on the cluster over both workers, on the coordinator alone in its own shards" \
  "$(placed citus-c); $(placed citus-solo)" "2 node(s), true; 1 node(s), true"
for n in citus-solo citus-c; do
  for f in $regress_files; do
    case "$n:$f" in citus-c:ingest|*:assignment) continue ;; esac
    if /usr/bin/python3 "$LM_TOP/test/harness/same-rows.py" --regress "$out/regress-$f.citus-one" "$out/regress-$f.$n" >"$out/regress-$f.$n.diff" 2>&1; then
      ok "sql/$f.sql gives the same output on $( [ $n = citus-c ] && echo 'the coordinator and 2 workers' || echo 'a coordinator holding its shards') as on one node ($(grep -c '' "$out/regress-$f.citus-one") lines$(grep -q 'as XX000' "$out/regress-$f.$n.diff" && echo "; $(grep -c 'as XX000' "$out/regress-$f.$n.diff") error(s) relayed by Citus as XX000"))"
    else
      not_ok "sql/$f.sql gives the same output on $n as on one node"; head -8 "$out/regress-$f.$n.diff" | sed 's/^/# /'
    fi
  done
done

# --- the pgTAP checks on the cluster and on one node -----------------------
# test/pgtap/*.sql as 'make test' runs them (each file as its role, in one
# transaction), over the same rows on one node and on Citus: the two demo
# orgs and the data of setup/fixture.sql are made on one node and copied
# onto Citus by COPY (ids kept), then setup/access.sql grants the test roles
# and records the expected values on each.  The roles are made in a Citus
# database of the coordinator, so that Citus makes them on every node.  Each
# connection sets citus.propagate_set_commands = 'local', as an application
# does (docs/dba/citus.md), so that leadmgmt.org_id reaches the workers.
# The TAP lines of each file are compared with one node's; where Citus
# differs by design, test/citus/tap-differences.txt says which tests and why,
# and the check fails when a test differs that it does not list, or a listed
# one no longer differs.  Two Citus layouts:
#  - a coordinator holding its shards: Citus runs the shard queries in the
#    test's own session, so pgTAP's assertions work whatever Citus pushes down;
#  - the coordinator and 2 workers: a query that reads one org is sent whole
#    to the worker holding it, pgTAP's assertion too, which then finds no
#    plan in that session; and a call inside a transaction is never delegated.
tap_src=lm_tap_src tap=lm_tap
on citus-c -q -d postgres -c "CREATE DATABASE $tap_src" >>"$out/tap-setup.log" 2>&1
on citus-solo -q -d postgres -c "CREATE DATABASE $tap_src" -c "CREATE DATABASE $tap" >>"$out/tap-setup.log" 2>&1
for n in citus-c citus-w1 citus-w2; do on "$n" -q -d postgres -c "CREATE DATABASE $tap" >>"$out/tap-setup.log" 2>&1; done
for n in citus-c citus-w1 citus-w2 citus-solo; do on "$n" -q -d "$tap" -c "CREATE EXTENSION citus" >>"$out/tap-setup.log" 2>&1; done
on citus-c -q -d "$tap" -c "SELECT citus_set_coordinator_host('localhost', $(port_of citus-c))" \
  -c "SELECT citus_add_node('localhost', $(port_of citus-w1))" -c "SELECT citus_add_node('localhost', $(port_of citus-w2))" >>"$out/tap-setup.log" 2>&1
on citus-solo -q -d "$tap" -c "SELECT citus_set_coordinator_host('localhost', $(port_of citus-solo))" \
  -c "SELECT citus_set_node_property('localhost', $(port_of citus-solo), 'shouldhaveshards', true)" >>"$out/tap-setup.log" 2>&1
for n in citus-c citus-solo; do
  on "$n" -q -d "$tap" -f "$LM_TOP/test/pgtap/setup/roles.sql" -c 'CREATE EXTENSION pgtap' -c 'CREATE EXTENSION leadmgmt' \
    -c 'SELECT leadmgmt.install()' -c 'SELECT leadmgmt.distribute()' >>"$out/tap-setup.log" 2>&1
  on "$n" -q -d "$tap_src" -c 'CREATE EXTENSION pgtap' -c 'CREATE EXTENSION leadmgmt' -c 'SELECT leadmgmt.install()' >>"$out/tap-setup.log" 2>&1
  on "$n" -q -d "$tap_src" -v scale=0.01 -v seed=1 -v org_name='Org One' -f "$LM_TOP/test/demo/generate.sql" >>"$out/tap-setup.log" 2>&1
  on "$n" -q -d "$tap_src" -v scale=0.005 -v seed=2 -v org_name='Org Two' -f "$LM_TOP/test/demo/generate.sql" >>"$out/tap-setup.log" 2>&1
  on "$n" -q -d "$tap_src" -f "$LM_TOP/test/pgtap/setup/fixture.sql" >>"$out/tap-setup.log" 2>&1
  copy_orgs "$tap_src" "$tap" 1,2 "$n"
  for d in "$tap_src" "$tap"; do on "$n" -q -d "$d" -f "$LM_TOP/test/pgtap/setup/access.sql" >>"$out/tap-setup.log" 2>&1; done
done
check_eq "the pgTAP fixture: the same rows in every table on one node, on a coordinator holding its shards and on the coordinator and 2 workers (errors; lead|touchpoint|assign_pick|tap_fixture)" \
  "$(grep -c ERROR "$out/tap-setup.log" "$out/copy-$tap.log" | awk -F: '{s += $2} END {print s}'); $(for n in citus-solo citus-c; do on "$n" -At -d "$tap" -c "SELECT (SELECT count(*) FROM leadmgmt.lead) || '|' || (SELECT count(*) FROM leadmgmt.touchpoint) || '|' || (SELECT count(*) FROM leadmgmt.assign_pick) || '|' || (SELECT string_agg(name || v, ',' ORDER BY name) FROM tap_fixture)"; done | sort -u | paste -sd' ')" \
  "0; $(on citus-c -At -d "$tap_src" -c "SELECT (SELECT count(*) FROM leadmgmt.lead) || '|' || (SELECT count(*) FROM leadmgmt.touchpoint) || '|' || (SELECT count(*) FROM leadmgmt.assign_pick) || '|' || (SELECT string_agg(name || v, ',' ORDER BY name) FROM tap_fixture)")"
for f in "$LM_TOP"/test/pgtap/*.sql; do
  role=$(sed -n 's/^-- role: *\([a-z0-9_]*\).*/\1/p' "$f" | head -1); name=$(basename "$f" .sql)
  for n in citus-c:$tap_src:one citus-solo:$tap:solo citus-c:$tap:cluster; do
    IFS=: read -r srv d tag <<<"$n"
    (source "$LM_BASE/$srv/env"; PGOPTIONS='-c citus.propagate_set_commands=local' \
      timeout 600 pg_prove --verbose --ext .sql -d "$d" -U "${role:-postgres}" "$f") >"$out/tap-$name.$tag" 2>&1
  done
  for tag in solo cluster; do
    res=$(/usr/bin/python3 "$LM_TOP/test/harness/same-tap.py" "$LM_TOP/test/citus/tap-differences.txt" "$tag" "$name" \
            "$out/tap-$name.one" "$out/tap-$name.$tag" 2>&1)
    if [ $? -eq 0 ]; then ok "pgTAP $name.sql on $( [ $tag = cluster ] && echo 'the coordinator and 2 workers' || echo 'a coordinator holding its shards'): $res"
    else not_ok "pgTAP $name.sql on $tag as on one node: $res"; fi
  done
done

# --- the update from the previous version, on a distributed cluster -------
# A cluster of the last landed version is made as it was made then: from that
# version's own install script, rebuilt from the commit that recorded its
# landing (installing an old version through the chain of upgrade scripts
# would leave the members era's tables on every node).  It gets the demo
# orgs, is distributed, then updated with ALTER EXTENSION and install(), as
# one node is beside it; both must then hold every row and give the same
# answers, and the writes must still run on the org's worker.
major=$(on citus-c -At -d postgres -c "SHOW server_version_num" | cut -c1-2)
newest=$(on citus-c -At -d "$db" -c "SELECT extversion FROM pg_extension WHERE extname = 'leadmgmt'")
# the last landed version before this one (when this one has landed too, the one before it)
prev=$(awk -v m="pg$major" -v n="$newest" '$1 == m && $2 != n {v = $2} END {print v}' "$LM_TOP/test/harness/catalogs.txt")
commit=$(git -C "$LM_TOP" log -1 --format=%H -S"pg$major $prev " -- test/harness/catalogs.txt 2>/dev/null)
extdir=$("$LM_PGBIN/pg_config" --sharedir)/extension
prev_script=$extdir/leadmgmt--$prev.sql
if [ -z "$commit" ] || [ "$prev" = "$newest" ]; then
  echo "# the update on a cluster not run: no landed version before $newest with a commit to rebuild it from"
elif [ -e "$prev_script" ]; then
  not_ok "$prev_script is not installed (install.sh removes the scripts this build does not ship)"
else
  src=$(mktemp -d)
  # (the files its Makefile builds the script from; since 0.15 also test/harness/views.awk)
  paths="Makefile leadmgmt.control src/sql"
  git -C "$LM_TOP" cat-file -e "$commit:test/harness/views.awk" 2>/dev/null && paths="$paths test/harness/views.awk"
  git -C "$LM_TOP" archive "$commit" $paths | tar -x -C "$src" &&
    make -s -C "$src" "src/sql/leadmgmt--$prev.sql" PG_CONFIG="$LM_PGBIN/pg_config" >>"$out/setup.log" 2>&1
  if [ -w "$extdir" ]; then cp "$src/src/sql/leadmgmt--$prev.sql" "$extdir/"; else as_root cp "$src/src/sql/leadmgmt--$prev.sql" "$extdir/"; fi
  up=lm_update; up_one=lm_update_one
  for n in citus-c citus-w1 citus-w2; do
    on "$n" -q -d postgres -c "CREATE DATABASE $up" && on "$n" -q -d "$up" -c "CREATE EXTENSION citus" >>"$out/setup.log" 2>&1
  done
  on citus-c -q -d postgres -c "CREATE DATABASE $up_one" >>"$out/setup.log" 2>&1
  on citus-c -q -d "$up" -c "SELECT citus_set_coordinator_host('localhost', $(port_of citus-c))" \
    -c "SELECT citus_add_node('localhost', $(port_of citus-w1))" -c "SELECT citus_add_node('localhost', $(port_of citus-w2))" >>"$out/setup.log" 2>&1
  for d in "$up" "$up_one"; do
    on citus-c -q -d "$d" -c "CREATE EXTENSION leadmgmt VERSION '$prev'" -c "SELECT leadmgmt.install()" >>"$out/update.log" 2>&1
  done
  on citus-c -q -d "$up" -c "SELECT leadmgmt.distribute()" >>"$out/update.log" 2>&1
  for o in 1 2 3; do
    on citus-c -q -d "$up_one" -v scale=0.01 -v seed=$((20 + o)) -v org_name="Update $o" -f "$LM_TOP/test/demo/generate.sql" >>"$out/update.log" 2>&1
  done
  up_orgs=$(on citus-c -At -d "$up_one" -c "SELECT string_agg(org_id::text, ',' ORDER BY org_id) FROM leadmgmt.org")
  copy_orgs "$up_one" "$up" "$up_orgs"
  counts() { on citus-c -At -d "$1" -c "SELECT string_agg(format('%s %s', t, (xpath('/row/c/text()', query_to_xml('SELECT count(*) AS c FROM ' || t, false, true, '')))[1]), ',' ORDER BY t)
                                        FROM unnest(string_to_array('$tables', ' ')) t"; }
  before=$(counts "$up")
  check_eq "version $prev (rebuilt from $(git -C "$LM_TOP" log -1 --format=%h "$commit")) installs, distributes and takes the demo orgs on the cluster as on one node" \
    "$before|$(on citus-c -At -d "$up" -c "SELECT count(*) FROM citus_tables WHERE table_name::text LIKE 'leadmgmt.%' AND citus_table_type = 'distributed'")" "$(counts "$up_one")|$(wc -w <<<"$tables")"
  for d in "$up" "$up_one"; do
    on citus-c -At -d "$d" -c "ALTER EXTENSION leadmgmt UPDATE" -c "SELECT leadmgmt.install()" >"$out/update-$d.out" 2>&1
  done
  vers=$(for n in citus-c citus-w1 citus-w2; do on "$n" -At -d "$up" -c "SELECT extversion FROM pg_extension WHERE extname = 'leadmgmt'"; done | paste -sd,)
  check_eq "ALTER EXTENSION leadmgmt UPDATE and install() on the cluster: $(grep -h 'schema' "$out/update-$up.out" | head -1); $newest on every node" \
    "$(grep -c ERROR "$out/update-$up.out")|$vers" "0|$newest,$newest,$newest"
  check_eq "every row survived the update on the cluster ($(wc -w <<<"$tables") tables)" "$(counts "$up")" "$before"
  check_eq "the update moved the phones into lead_contact on the cluster as on one node (rows)" \
    "$(on citus-c -At -d "$up" -c "SELECT count(*) FROM leadmgmt.lead_contact" 2>&1)" "$(on citus-c -At -d "$up_one" -c "SELECT count(*) FROM leadmgmt.lead_contact" 2>&1)"
  for v in $(on citus-c -At -d "$up_one" -c "SELECT relname FROM pg_class WHERE relnamespace = 'leadmgmt'::regnamespace AND relkind = 'v' ORDER BY 1"); do
    on citus-c -At -d "$up_one" -c "SELECT * FROM leadmgmt.$v x ORDER BY x::text" >"$out/update-$v.one" 2>&1
    on citus-c -At -d "$up" -c "SELECT * FROM leadmgmt.$v x ORDER BY x::text" >"$out/update-$v.cluster" 2>&1
    if [ -s "$out/update-$v.one" ] || [ -s "$out/update-$v.cluster" ]; then
      /usr/bin/python3 "$LM_TOP/test/harness/same-rows.py" "$out/update-$v.one" "$out/update-$v.cluster" >>"$out/update-views.diff" 2>&1 &&
        ! grep -q ERROR "$out/update-$v.cluster" || echo "$v" >>"$out/update-views.bad"
    fi
  done
  check_eq "after the update every view gives the same rows on the cluster as on one node, ids included (views differing)" \
    "$(paste -sd, "$out/update-views.bad" 2>/dev/null)" ""
  # what the update added (new write functions, new tables) is distributed by
  # the next distribute(): the cluster then delegates what a fresh one does
  delegated() { on citus-c -At -d "$1" -c "SELECT string_agg(p.proname || '/' || o.distribution_argument_index, ',' ORDER BY p.proname)
                                            FROM pg_dist_object o JOIN pg_proc p ON p.oid = o.objid
                                           WHERE o.classid = 'pg_proc'::regclass AND p.pronamespace = 'leadmgmt'::regnamespace
                                             AND o.distribution_argument_index IS NOT NULL"; }
  on citus-c -At -d "$up" -c "SELECT leadmgmt.distribute()" >>"$out/update.log" 2>&1
  check_eq "distribute() after the update delegates what a fresh cluster delegates ($(delegated "$db")), then has nothing to do" \
    "$(delegated "$up");$(on citus-c -At -d "$up" -c "SELECT leadmgmt.distribute()" 2>&1)" \
    "$(delegated "$db");distributed 0 tables by org_id and 0 functions by their org_id"
  first=$(cut -d, -f1 <<<"$up_orgs")
  new=$(on citus-c -At -d "$up" -c "SELECT lead_id FROM leadmgmt.ingest_lead($first, '13866665555', 'douyin', NULL, '2026-05-02 09:00+08')" 2>&1)
  check_eq "after the update ingest_lead still runs on the worker holding the org (lead $new)" \
    "$(on citus-c -At -d "$up" -c "SELECT ($new >> 48) = n.groupid FROM citus_shards s JOIN pg_dist_node n ON n.nodeport = s.nodeport
                                    WHERE s.table_name = 'leadmgmt.lead'::regclass AND s.shardid = get_shard_id_for_distribution_column('leadmgmt.lead', $first)" 2>&1)" "t"
  if [ -w "$extdir" ]; then rm -f "$prev_script"; else as_root rm -f "$prev_script"; fi
  rm -rf "$src"
fi

echo
echo "logs: $out (clusters left running; 'make stop' removes them)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
