#!/usr/bin/env bash
# The assignment lock does not span commit (0.7), with real sessions:
#   - while one transaction holds an assignment it has not committed, another
#     session assigns at once, without waiting, and counts that pick: it goes
#     to the other reps;
#   - when the first transaction rolls back, its pick vanishes: the next
#     assignment goes to the rep it had chosen, and the reps stay one apart;
#   - a call that had to fold the journal into the counters keeps the lock
#     until commit, so the next session waits for it;
#   - decisions hold the lock in share mode (since 0.8, optimistic): while
#     another session holds it so, an assignment goes through at once, and a
#     claim, which takes it in exclusive mode, waits;
#   - one call folds at a time: while another holds the fold lock (the call
#     that went to fold), decisions do not wait, and leave the journal unfolded
#     until 512 rows have settled; then they fold anyway.
source "$(dirname "$0")/lib.sh"
db=lm_assign_in_flight
dropdb --if-exists "$db"; createdb "$db"
q() { psql -X -At -d "$db" -c "$1"; }
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "CREATE EXTENSION leadmgmt" -c "SELECT leadmgmt.install()" \
  -c "SELECT leadmgmt.create_org('In Flight School')" -c "SELECT leadmgmt.add_channel(1, 'douyin', 'Douyin', 'paid')" \
  -c "INSERT INTO leadmgmt.sales_rep (org_id, name, role, daily_cap, holding_cap)
      SELECT 1, 'rep ' || g, 'sales', 1000, 1000 FROM generate_series(1, 3) g" \
  -c "INSERT INTO leadmgmt.lead (org_id, first_channel_id, latest_channel_id, created_at, last_touch_at)
      SELECT 1, 1, 1, now(), now() FROM generate_series(1, 20)" >/dev/null
# the first call builds the counters (a fold): done and committed before the test
q "SELECT leadmgmt.assign_lead(1, 20)" >/dev/null

# session A assigns lead 1 and stays in its transaction for 4 seconds, then rolls back
psql -X -At -d "$db" -c "BEGIN" -c "SELECT leadmgmt.assign_lead(1, 1)" -c "SELECT pg_sleep(4)" -c "ROLLBACK" \
  >"$LM_TMP/a.out" 2>&1 &
a=$!
for _ in $(seq 1 100); do
  [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(4)%' AND pid <> pg_backend_pid()")" = 1 ] && break
  sleep 0.05
done
a_rep=$(sed -n 2p "$LM_TMP/a.out")
start=$(date +%s%N)
b_reps=$(psql -X -At -d "$db" -c "SET statement_timeout = '2s'" -c "SELECT leadmgmt.assign_lead(1, 2)" \
           -c "SELECT leadmgmt.assign_lead(1, 3)" 2>&1 | grep -v '^SET' | sort -n | paste -sd,)
b_ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "# A picked rep $a_rep in flight; B picked $b_reps in $b_ms ms"
if [ -n "$a_rep" ] && [ "$b_ms" -lt 2000 ] && [[ "$b_reps" =~ ^[0-9]+,[0-9]+$ ]]; then
  ok "while A's assignment is in flight, B assigns two leads without waiting for A ($b_ms ms)"
else
  not_ok "while A's assignment is in flight, B assigns two leads without waiting for A ($b_ms ms)"
fi
check "B counts A's pick in flight: its two leads go to the other two reps" \
  [ "$(printf '%s\n' $a_rep ${b_reps//,/ } | sort -u | wc -l)" = 3 ]
wait $a
check "A rolled back: lead 1 is in the public pool without history" \
  [ "$(q "SELECT pool || '/' || (SELECT count(*) FROM leadmgmt.assignment WHERE lead_id = 1) FROM leadmgmt.lead WHERE lead_id = 1")" = "public/0" ]
c_rep=$(q "SELECT leadmgmt.assign_lead(1, 4)")
check "A's pick vanished with its transaction: the next lead goes to A's rep ($a_rep), who is one behind" \
  [ "$c_rep" = "$a_rep" ]
q "SELECT count(*) FROM leadmgmt.assign_pending(1, 12)" >/dev/null
check "equal weights after a rollback in flight: the reps are at most one lead apart" \
  [ "$(q "SELECT max(c) - min(c) <= 1 AND sum(c) = 16 FROM (SELECT count(*) c FROM leadmgmt.assignment
                                                           WHERE released_at IS NULL GROUP BY rep_id) x")" = t ]

# a fold changes the counters: that call keeps the lock until commit.  An
# open-lead change made outside the engine (a lead marked lost) makes the
# next call fold.
q "UPDATE leadmgmt.lead SET status = 'lost', lost_reason = 'other' WHERE lead_id = 4" >/dev/null
q "INSERT INTO leadmgmt.lead (org_id, lead_id, first_channel_id, latest_channel_id, created_at, last_touch_at)
   OVERRIDING SYSTEM VALUE SELECT 1, g, 1, 1, now(), now() FROM generate_series(101, 102) g" >/dev/null
psql -X -At -d "$db" -c "BEGIN" -c "SELECT leadmgmt.assign_lead(1, 101)" -c "SELECT pg_sleep(2)" -c "COMMIT" \
  >"$LM_TMP/f.out" 2>&1 &
f=$!
for _ in $(seq 1 100); do
  [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(2)%' AND pid <> pg_backend_pid()")" = 1 ] && break
  sleep 0.05
done
start=$(date +%s%N)
q "SELECT leadmgmt.assign_lead(1, 102)" >/dev/null
w_ms=$(( ($(date +%s%N) - start) / 1000000 ))
wait $f
check "a call that folded keeps the lock until commit: the next one waited for it ($w_ms ms)" [ "$w_ms" -ge 1000 ]
check "after the fold the counters equal the rows" \
  [ "$(q "SELECT leadmgmt.rep_load_sync(o, now()) FROM leadmgmt.org o" >/dev/null;
       q "SELECT count(*) FROM leadmgmt.rep_load l JOIN leadmgmt.rep_workload w USING (org_id, rep_id)
           WHERE l.open_leads = w.open_leads AND l.assigned_today = w.assigned_today")" = 3 ]

# decisions share the lock: a session holding it in share mode, as a decision
# in progress does, holds up neither an assignment nor the assignments it
# runs beside, but a claim (exclusive mode, until commit) waits for it
q "INSERT INTO leadmgmt.lead (org_id, lead_id, first_channel_id, latest_channel_id, created_at, last_touch_at)
   OVERRIDING SYSTEM VALUE SELECT 1, g, 1, 1, now(), now() FROM generate_series(103, 104) g" >/dev/null
psql -X -At -d "$db" -c "BEGIN" -c "SELECT pg_advisory_xact_lock_shared(hashtextextended('leadmgmt.assign', 1))" \
  -c "SELECT pg_sleep(3)" -c "COMMIT" >"$LM_TMP/s.out" 2>&1 &
s=$!
for _ in $(seq 1 100); do
  [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(3)%' AND pid <> pg_backend_pid()")" = 1 ] && break
  sleep 0.05
done
start=$(date +%s%N)
d_rep=$(psql -X -At -d "$db" -c "SET statement_timeout = '2s'" -c "SELECT leadmgmt.assign_lead(1, 103)" 2>&1 | grep -v '^SET')
d_ms=$(( ($(date +%s%N) - start) / 1000000 ))
start=$(date +%s%N)
claim=$(q "SELECT leadmgmt.claim_lead(1, 104, 1) > 0" 2>&1)
c_ms=$(( ($(date +%s%N) - start) / 1000000 ))
wait $s
if [ "$d_ms" -lt 1000 ] && [[ "$d_rep" =~ ^[0-9]+$ ]]; then
  ok "beside a holder of the lock in share mode, an assignment goes through at once ($d_ms ms, rep $d_rep)"
else
  not_ok "beside a holder of the lock in share mode, an assignment goes through at once ($d_ms ms, rep $d_rep)"
fi
if [ "$claim" = t ] && [ "$c_ms" -ge 1000 ]; then
  ok "a claim takes the lock in exclusive mode: it waited for the holder in share mode ($c_ms ms)"
else
  not_ok "a claim takes the lock in exclusive mode: it waited for the holder in share mode ($c_ms ms)"
fi

# the fold lock: a session holds it, as the call that goes to fold does.
# Single assignments, each its own transaction, go on beside it without
# folding (64 settled rows would fold) and without waiting, until 512 rows
# have settled.
q "INSERT INTO leadmgmt.lead (org_id, lead_id, first_channel_id, latest_channel_id, created_at, last_touch_at)
   OVERRIDING SYSTEM VALUE SELECT 1, g, 1, 1, now(), now() FROM generate_series(1001, 1700) g" >/dev/null
q "SELECT leadmgmt.rep_load_sync(o, now()) FROM leadmgmt.org o" >/dev/null
psql -X -At -d "$db" -c "BEGIN" -c "SELECT pg_advisory_xact_lock(hashtextextended('leadmgmt.fold', 1))" \
  -c "SELECT pg_sleep(30)" -c "COMMIT" >"$LM_TMP/k.out" 2>&1 &
k=$!
for _ in $(seq 1 100); do
  [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()")" = 1 ] && break
  sleep 0.05
done
seq 1001 1200 | sed 's/.*/SELECT leadmgmt.assign_lead(1, &);/' >"$LM_TMP/k200.sql"
start=$(date +%s%N)
psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -c "SET statement_timeout = '5s'" -f "$LM_TMP/k200.sql" >/dev/null 2>"$LM_TMP/k200.err"
k_rc=$?
k_ms=$(( ($(date +%s%N) - start) / 1000000 ))
if [ "$k_rc" = 0 ] && [ ! -s "$LM_TMP/k200.err" ]; then
  ok "beside the holder of the fold lock, 200 assignments go through without waiting ($k_ms ms)"
else
  not_ok "beside the holder of the fold lock, 200 assignments go through without waiting ($k_ms ms)"
fi
check "... and leave the journal unfolded: 200 rows" \
  [ "$(q "SELECT count(*) FROM leadmgmt.assign_pick")" = 200 ]
seq 1201 1520 | sed 's/.*/SELECT leadmgmt.assign_lead(1, &);/' >"$LM_TMP/k320.sql"
psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -c "SET statement_timeout = '5s'" -f "$LM_TMP/k320.sql" >/dev/null 2>"$LM_TMP/k320.err"
k_rc=$?
journal=$(q "SELECT count(*) FROM leadmgmt.assign_pick")
if [ "$k_rc" = 0 ] && [ ! -s "$LM_TMP/k320.err" ] && [ "$journal" -lt 512 ]; then
  ok "with 512 rows settled a call folds anyway, the fold lock held or not (journal: $journal rows)"
else
  not_ok "with 512 rows settled a call folds anyway, the fold lock held or not (journal: $journal rows)"
fi
kill $k 2>/dev/null; wait $k 2>/dev/null
q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()" >/dev/null
q "SELECT leadmgmt.assign_lead(1, 1521)" >/dev/null
check "once the fold lock is free, the next call folds the settled rows (journal: $(q "SELECT count(*) FROM leadmgmt.assign_pick") rows)" \
  [ "$(q "SELECT count(*) FROM leadmgmt.assign_pick")" -lt 64 ]
if [ "$(q "SELECT leadmgmt.rep_load_sync(o, now()) FROM leadmgmt.org o" >/dev/null;
       q "SELECT count(*) FROM leadmgmt.rep_load l JOIN leadmgmt.rep_workload w USING (org_id, rep_id)
           WHERE l.open_leads = w.open_leads AND l.assigned_today = w.assigned_today")" = 3 ] &&
   [ "$(q "SELECT max(c) - min(c) <= 1 FROM (SELECT count(*) c FROM leadmgmt.assignment
           WHERE lead_id BETWEEN 1001 AND 1521 GROUP BY rep_id) x")" = t ]; then
  ok "the reps are one lead apart and the counters equal the rows after it all"
else
  not_ok "the reps are one lead apart and the counters equal the rows after it all"
fi
dropdb "$db"
