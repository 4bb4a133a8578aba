#!/usr/bin/env bash
# test/bench/assignment.sh -- assignments per second with 1, 8 and 32
# concurrent pgbench clients, 20 equal reps, a public pool of LEADS leads:
#   assign_lead     one lead per transaction (the engine)
#   assign_pending  batches of 20 per transaction (the engine)
#   limit           the same writes with the rep given: lock the lead, set its
#                   owner, write the history row; no selection, no fairness
#   plain PL/pgSQL  the straightforward version a user would write: least
#                   assigned rep by counting, SELECT ... FOR UPDATE on the rep
# Median of RUNS (5) runs of SECONDS (3) each, each from nothing assigned.
# Reported, never asserted.
source "$(dirname "$0")/lib.sh"
db=lm_bench_assign
LEADS=${LEADS:-400000}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-3}
dropdb --if-exists "$db" >/dev/null 2>&1; createdb "$db"
psql -X -q -d "$db" -v ON_ERROR_STOP=1 >/dev/null <<SQL
CREATE EXTENSION leadmgmt;
SELECT leadmgmt.install();
SELECT leadmgmt.create_org('Bench School');
SELECT leadmgmt.add_channel(1, 'douyin', 'Douyin', 'paid');
INSERT INTO leadmgmt.sales_rep (org_id, name, role, daily_cap, holding_cap)
SELECT 1, 'rep ' || g, 'sales', 10000000, 10000000 FROM generate_series(1, 20) g;
INSERT INTO leadmgmt.lead (org_id, first_channel_id, latest_channel_id, created_at, last_touch_at, tier)
SELECT 1, 1, 1, now() - interval '1 day', now() - interval '1 day', 'B' FROM generate_series(1, $LEADS);
VACUUM ANALYZE leadmgmt.lead;
CREATE SEQUENCE public.next_lead;
-- the straightforward PL/pgSQL a user would write
CREATE FUNCTION public.naive_assign(p_org bigint, p_lead bigint) RETURNS bigint LANGUAGE plpgsql AS \$\$
DECLARE l record; r bigint;
BEGIN
  SELECT * INTO l FROM leadmgmt.lead WHERE org_id = p_org AND lead_id = p_lead FOR UPDATE;
  IF l.pool = 'private' THEN RETURN l.owner_rep_id; END IF;
  SELECT s.rep_id INTO r FROM leadmgmt.sales_rep s
   WHERE s.org_id = p_org AND s.active
     AND (SELECT count(*) FROM leadmgmt.lead x WHERE x.org_id = s.org_id AND x.owner_rep_id = s.rep_id
             AND x.status NOT IN ('won', 'lost')) < s.holding_cap
   ORDER BY (SELECT count(*) FROM leadmgmt.assignment a WHERE a.org_id = s.org_id AND a.rep_id = s.rep_id
               AND a.assigned_at >= current_date)::float8 / s.weight, s.rep_id
   LIMIT 1 FOR UPDATE OF s;
  UPDATE leadmgmt.lead SET pool = 'private', owner_rep_id = r, owned_since = now() WHERE org_id = p_org AND lead_id = p_lead;
  INSERT INTO leadmgmt.assignment (org_id, lead_id, rep_id, assigned_at, reason) VALUES (p_org, p_lead, r, now(), 'manual');
  RETURN r;
END \$\$;
-- the limit: the same writes with the rep given
CREATE FUNCTION public.limit_assign(p_org bigint, p_lead bigint) RETURNS bigint LANGUAGE plpgsql AS \$\$
DECLARE l record; r bigint := 1 + p_lead % 20;
BEGIN
  SELECT * INTO l FROM leadmgmt.lead WHERE org_id = p_org AND lead_id = p_lead FOR UPDATE;
  UPDATE leadmgmt.lead SET pool = 'private', owner_rep_id = r, owned_since = now() WHERE org_id = p_org AND lead_id = p_lead;
  INSERT INTO leadmgmt.assignment (org_id, lead_id, rep_id, assigned_at, reason) VALUES (p_org, p_lead, r, now(), 'manual');
  RETURN r;
END \$\$;
SQL
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo "SELECT leadmgmt.assign_lead(1, nextval('public.next_lead'));" >"$tmp/one.sql"
echo "SELECT count(*) FROM leadmgmt.assign_pending(1, 20);" >"$tmp/batch.sql"
echo "SELECT public.limit_assign(1, nextval('public.next_lead'));" >"$tmp/limit.sql"
echo "SELECT public.naive_assign(1, nextval('public.next_lead'));" >"$tmp/naive.sql"

# assignments per second of one run: tps times the leads per transaction
rate() { "$LM_PGBIN/pgbench" -n -M prepared -c "$2" -j "$(( $2 < 8 ? $2 : 8 ))" -T "$SECONDS_PER_RUN" -f "$tmp/$1.sql" "$db" 2>&1 \
           | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | awk -v k="$3" '{printf "%.0f\n", $1 * k}'; }
# each run from the reset state (below): the plain version counts the rows
# of the assignments and leads before it, so runs after the first would
# find more of them, the more the faster it went
median_rate() { for r in $(seq "$RUNS"); do reset; rate "$@"; done | bench_median; }
# every run starts from the same state: nothing assigned.  The release of
# the leads writes an open-lead change per lead (rep_load_change) for the
# engine to fold; with rep_load empty a fold would drop them all, so they
# go at once: else the timed run begins with a fold of thousands of rows
# whose dead index entries every decision steps over until they are marked
# dead, which is the reset's cost, not assignment's (and the limit and the
# plain version never read them).
reset() { psql -X -q -d "$db" -c "TRUNCATE leadmgmt.assignment, leadmgmt.rep_load, leadmgmt.assign_rotation, leadmgmt.assign_pick" \
            -c "UPDATE leadmgmt.lead SET pool = 'public', owner_rep_id = NULL, owned_since = NULL WHERE pool = 'private'" \
            -c "TRUNCATE leadmgmt.rep_load_change" \
            -c "VACUUM ANALYZE leadmgmt.lead" -c "SELECT setval('public.next_lead', 1)" >/dev/null; }

printf '%-44s %10s %10s %10s\n' 'assignments per second (median)' '1 client' '8 clients' '32 clients'
declare -A res
for mode in limit one batch naive; do
  k=1; [ "$mode" = batch ] && k=20
  for c in 1 8 32; do res[$mode,$c]=$(median_rate "$mode" "$c" "$k"); done
done
for mode in limit one batch naive; do
  case $mode in limit) name='limit: same writes, rep given';; one) name='assign_lead (one per transaction)';;
                batch) name='assign_pending (20 per transaction)';; naive) name='plain PL/pgSQL with FOR UPDATE';; esac
  printf '%-44s %10s %10s %10s\n' "$name" "${res[$mode,1]}" "${res[$mode,8]}" "${res[$mode,32]}"
done
for c in 1 8 32; do
  awk -v c="$c" -v o="${res[one,$c]}" -v l="${res[limit,$c]}" -v n="${res[naive,$c]}" -v b="${res[batch,$c]}" \
    'BEGIN {printf "%2d clients: assign_lead %.2f of the limit, %.2fx plain PL/pgSQL; assign_pending %.1fx plain PL/pgSQL\n", c, o / l, o / n, b / n}'
done
# scaling: what each keeps of its own rate from 8 to 32 clients, and the time
# each adds per assignment over the limit (the same writes with the rep given)
awk -v l8="${res[limit,8]}" -v l32="${res[limit,32]}" -v o8="${res[one,8]}" -v o32="${res[one,32]}" \
    -v n8="${res[naive,8]}" -v n32="${res[naive,32]}" 'BEGIN {
  printf "8 -> 32 clients keeps: limit %.0f%%, assign_lead %.0f%%, plain PL/pgSQL %.0f%%\n", 100 * l32 / l8, 100 * o32 / o8, 100 * n32 / n8
  printf "time added over the limit per assignment (ms, 8 / 32 clients): assign_lead %.2f / %.2f, plain PL/pgSQL %.2f / %.2f\n",
         1000 / o8 - 1000 / l8, 1000 / o32 - 1000 / l32, 1000 / n8 - 1000 / l8, 1000 / n32 - 1000 / l32 }'
reset
psql -X -q -d "$db" -c '\timing on' -c "SELECT count(*) FROM leadmgmt.assign_pending(1, 100000)" \
  | sed -n 's/^Time: /one assign_pending of 100,000 leads (from a fresh state): /p'
dropdb "$db"
