#!/usr/bin/env bash
# test/bench/ingest.sh -- ingest_lead throughput, one session and 8
# concurrent pgbench clients, on a stream in which 20% of the submissions
# repeat an earlier phone (in another spelling).  Compared with
#   limit:     a bare INSERT ... ON CONFLICT of the same rows into a table with
#              the same unique key (no normalisation, no touchpoint, no event)
#   plain SQL: what a user would write without the extension: normalise with
#              regexp_replace, upsert the lead, insert touchpoint and event
#              (into tables of their own, like leadmgmt's but a lead that
#              holds its phone)
# and (since 0.16) ingest_lead with the org's form-time model active, which
# scores every new lead in the same call, against ingest_lead without one
# (target: at most 1.2x).  Each figure is the median of 5 runs.  Afterwards:
# exactly one lead per distinct valid phone.
source "$(dirname "$0")/../harness/common.sh"
set +e
source "$LM_BASE/bench/env"
RUNS=${RUNS:-5}
ROWS=${ROWS:-20000}
db=lm_bench_ingest
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

setup() {
  dropdb --if-exists "$db" >/dev/null; createdb "$db"
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<SQL
CREATE EXTENSION leadmgmt;
SELECT leadmgmt.install();
SELECT leadmgmt.create_org('Bench School');
SELECT leadmgmt.add_channel(1, 'douyin', 'Douyin', 'paid');
-- the stream: every fifth submission repeats the phone of the one before, spelt differently
CREATE TABLE bench_input AS
  SELECT i AS seq,
         CASE WHEN i % 5 = 0 THEN '+86 139-' || lpad(((i - 1) % 100000000)::text, 8, '0')
              ELSE '139' || lpad((i % 100000000)::text, 8, '0') END AS phone
    FROM generate_series(1, $ROWS) i;
CREATE UNIQUE INDEX ON bench_input (seq);
ANALYZE bench_input;  -- plans must not depend on when autovacuum gets to it
CREATE SEQUENCE bench_seq;
-- the limit: same unique key, nothing else
CREATE TABLE plain_lead (org_id bigint, lead_id bigint GENERATED ALWAYS AS IDENTITY, phone text,
  channel text, created_at timestamptz, last_touch_at timestamptz, PRIMARY KEY (org_id, lead_id), UNIQUE (org_id, phone));
-- the user's own tables, for plain SQL: a lead with its phone, touches, events
CREATE TABLE user_lead (org_id bigint, lead_id bigint GENERATED ALWAYS AS IDENTITY, phone_raw text, phone text,
  channel_id bigint, created_at timestamptz, last_touch_at timestamptz, PRIMARY KEY (org_id, lead_id), UNIQUE (org_id, phone));
CREATE TABLE user_touch (org_id bigint, touch_id bigint GENERATED ALWAYS AS IDENTITY, lead_id bigint, channel_id bigint,
  kind text, occurred_at timestamptz, PRIMARY KEY (org_id, touch_id));
CREATE TABLE user_event (org_id bigint, event_id bigint GENERATED ALWAYS AS IDENTITY, lead_id bigint, event_type text,
  occurred_at timestamptz, channel_id bigint, PRIMARY KEY (org_id, event_id));
-- a form-time model of the size training gives (45 features over the form's
-- fields), inactive until the scored runs
INSERT INTO leadmgmt.conversion_model (org_id, name, version, kind, active, trained_from, trained_to, test_from, conversion_days,
                                       encoding, coef, rows_train, rows_test, positives_train, stage)
SELECT 1, 'bench form model', 1, 'logreg', false, '2025-01-01', '2026-01-01', '2025-10-01', 30,
       jsonb_build_object('features', jsonb_agg(f ORDER BY k)), array_prepend(-2.0::float8, array_agg(0.01 * k ORDER BY k)), 1000, 250, 100, 'form'
  FROM (SELECT row_number() OVER () AS k, f FROM (
          SELECT jsonb_build_object('field', field, 'level', field || ' ' || n) AS f
            FROM (VALUES ('campaign', 10), ('subject', 5), ('city_tier', 4), ('age_band', 6), ('grade', 10), ('daypart', 3), ('variant', 2)) v(field, cnt),
                 generate_series(1, cnt) n
          UNION ALL SELECT '{"field": "channel", "level": "douyin"}'
          UNION ALL SELECT '{"field": "weekend", "level": "weekend"}'
          UNION ALL SELECT '{"field": "log_prior_touches"}') x) y;
SQL
}
reset() {
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "SET client_min_messages = warning" -c "TRUNCATE leadmgmt.lead, leadmgmt.touchpoint, leadmgmt.lead_event, plain_lead, user_lead, user_touch, user_event CASCADE" \
    -c "ALTER SEQUENCE bench_seq RESTART" >/dev/null
}

cat >"$tmp/ext.sql" <<'SQL'
SELECT leadmgmt.ingest_lead(1, phone, 'douyin', 'spring', now()) FROM bench_input WHERE seq = (SELECT nextval('bench_seq'));
SQL
cat >"$tmp/limit.sql" <<'SQL'
INSERT INTO plain_lead (org_id, phone, channel, created_at, last_touch_at)
SELECT 1, phone, 'douyin', now(), now() FROM bench_input WHERE seq = (SELECT nextval('bench_seq'))
ON CONFLICT (org_id, phone) DO UPDATE SET last_touch_at = EXCLUDED.last_touch_at;
SQL
cat >"$tmp/plain.sql" <<'SQL'
WITH input AS (
  SELECT '+86' || right(regexp_replace(translate(phone, '０１２３４５６７８９', '0123456789'), '[^0-9]', '', 'g'), 11) AS e164, phone
    FROM bench_input WHERE seq = (SELECT nextval('bench_seq'))
), up AS (
  INSERT INTO user_lead (org_id, phone_raw, phone, channel_id, created_at, last_touch_at)
  SELECT 1, phone, e164, 1, now(), now() FROM input
  ON CONFLICT (org_id, phone) DO UPDATE SET last_touch_at = greatest(user_lead.last_touch_at, EXCLUDED.last_touch_at)
  RETURNING lead_id
), tp AS (
  INSERT INTO user_touch (org_id, lead_id, channel_id, kind, occurred_at) SELECT 1, lead_id, 1, 'form', now() FROM up
)
INSERT INTO user_event (org_id, lead_id, event_type, occurred_at, channel_id) SELECT 1, lead_id, 'form_submitted', now(), 1 FROM up;
SQL

# run FILE CLIENTS -> elapsed ms of one pass over the stream
run() {
  reset
  local s e
  s=$(date +%s%N)
  "$LM_PGBIN/pgbench" -n -c "$2" -j "$2" -t $((ROWS / $2)) -f "$1" "$db" >"$tmp/pgbench.log" 2>&1 || { cat "$tmp/pgbench.log" >&2; echo 0; return; }
  e=$(date +%s%N)
  echo $(((e - s) / 1000000))
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

setup
printf '\n== ingest_lead: %s submissions, 20%% repeat phones (median of %s runs)\n' "$ROWS" "$RUNS"
printf '%-34s %8s %10s %10s %14s %16s\n' what clients median_ms leads_per_s ratio_to_limit ratio_to_plain_sql
for clients in 1 8; do
  declare -A med=()
  for v in limit plain; do
    med[$v]=$(for r in $(seq "$RUNS"); do run "$tmp/$v.sql" "$clients"; done | median)
  done
  # ingest_lead without and with the form model, run by turns (the machine's
  # drift between runs is of the size of the difference)
  : >"$tmp/ext.ms"; : >"$tmp/scored.ms"
  for r in $(seq "$RUNS"); do
    run "$tmp/ext.sql" "$clients" >>"$tmp/ext.ms"
    psql -X -q -d "$db" -c "UPDATE leadmgmt.conversion_model SET active = true WHERE stage = 'form'" >/dev/null
    run "$tmp/ext.sql" "$clients" >>"$tmp/scored.ms"
    psql -X -q -d "$db" -c "UPDATE leadmgmt.conversion_model SET active = false WHERE stage = 'form'" >/dev/null
  done
  med[ext]=$(median <"$tmp/ext.ms"); med[scored]=$(median <"$tmp/scored.ms")
  for v in limit plain ext; do
    name=$(case $v in limit) echo "limit: bare INSERT ON CONFLICT";; plain) echo "plain SQL upsert + touch + event";; ext) echo "leadmgmt.ingest_lead";; esac)
    awk -v n="$name" -v c="$clients" -v m="${med[$v]}" -v l="${med[limit]}" -v p="${med[plain]}" -v rows="$ROWS" \
      'BEGIN {printf "%-34s %8d %10d %10.0f %14.2f %16.2f\n", n, c, m, rows / (m / 1000.0), m / l, m / p}'
  done
  awk -v c="$clients" -v m="${med[scored]}" -v e="${med[ext]}" -v l="${med[limit]}" -v rows="$ROWS" \
    'BEGIN {printf "%-34s %8d %10d %10.0f %14.2f %16s  (%.2fx ingest_lead unscored; target <= 1.2)\n", "ingest_lead + form-time score", c, m, rows / (m / 1000.0), m / l, "", m / e}'
  unset med
done

reset
"$LM_PGBIN/pgbench" -n -c 8 -j 8 -t $((ROWS / 8)) -f "$tmp/ext.sql" "$db" >/dev/null 2>&1
psql -X -At -d "$db" -c "SELECT CASE WHEN count(*) = count(DISTINCT c.phone) AND count(DISTINCT c.phone) = (SELECT count(DISTINCT right(regexp_replace(phone, '[^0-9]', '', 'g'), 11)) FROM bench_input)
                                        AND count(*) = (SELECT count(*) FROM leadmgmt.lead)
  THEN 'check: ok, exactly one lead per distinct valid phone (' || count(*) || ' leads from $ROWS submissions)'
  ELSE 'check: FAILED, ' || count(*) || ' leads for ' || count(DISTINCT c.phone) || ' phones' END
  FROM leadmgmt.lead l JOIN leadmgmt.lead_contact c USING (org_id, lead_id)"
echo "EXPLAIN of one ingest_lead call of a repeat phone (second call in the session, plans cached):"
psql -X -q -d "$db" -c "DO \$\$ BEGIN PERFORM leadmgmt.ingest_lead(1, '13900000002', 'douyin', 'spring', now()); END \$\$" \
  -c "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT * FROM leadmgmt.ingest_lead(1, '13900000001', 'douyin', 'spring', now())" | sed 's/^/  /'
dropdb "$db"
