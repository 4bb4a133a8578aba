#!/usr/bin/env bash
# Real concurrent sessions (pgbench).  16 clients ingest the same 200 phones in
# every spelling at once, over new campaigns.  Afterwards there is exactly one
# lead per phone, every submission left its touchpoint and event, and no
# client saw an error.
source "$(dirname "$0")/lib.sh"
db=lm_concurrency
dropdb --if-exists "$db"; createdb "$db"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "CREATE EXTENSION leadmgmt" -c "SELECT leadmgmt.install()" \
  -c "SELECT leadmgmt.create_org('Race School')" -c "SELECT leadmgmt.add_channel(1, 'douyin', 'Douyin', 'paid')" \
  -c "UPDATE leadmgmt.org SET auto_create_channels = true" >/dev/null
cat >"$LM_TMP/ingest.sql" <<'SQL'
\set n random(0, 199)
\set fmt random(0, 2)
\set camp random(0, 9)
\set ch random(0, 2)
SELECT * FROM leadmgmt.ingest_lead(1,
  CASE :fmt WHEN 0 THEN '1380000' || lpad(:n::text, 4, '0') WHEN 1 THEN '+86 138-0000-' || lpad(:n::text, 4, '0')
            ELSE '0086 13800 00' || lpad(:n::text, 4, '0') END,
  (ARRAY['douyin', 'baidu', 'xiaohongshu'])[:ch + 1], 'camp-' || :camp, now());
SQL
"$LM_PGBIN/pgbench" -n -c 16 -j 4 -t 250 -f "$LM_TMP/ingest.sql" "$db" >"$LM_TMP/pgbench.log" 2>&1
rc=$?
grep -E 'transactions actually processed|failed|tps' "$LM_TMP/pgbench.log" | sed 's/^/# /'
if [ $rc -eq 0 ] && grep -q 'number of transactions actually processed: 4000/4000' "$LM_TMP/pgbench.log"; then
  ok "16 concurrent clients ran 4000 ingestions without an error"
else
  not_ok "16 concurrent clients ran 4000 ingestions without an error"
fi
q() { psql -X -At -d "$db" -c "$1"; }
check "exactly one lead per phone (200 leads for 200 phones)" [ "$(q "SELECT count(*) || '/' || count(DISTINCT c.phone) FROM leadmgmt.lead l JOIN leadmgmt.lead_contact c USING (org_id, lead_id)")|$(q "SELECT count(*) FROM leadmgmt.lead")" = "200/200|200" ]
check "every submission left a touchpoint and a form_submitted event" \
  [ "$(q "SELECT (SELECT count(*) FROM leadmgmt.touchpoint) || '/' || (SELECT count(*) FROM leadmgmt.lead_event)")" = "4000/4000" ]
check "auto-created channels and campaigns exist once each" \
  [ "$(q "SELECT (SELECT count(*) FROM leadmgmt.channel) || '/' || (SELECT count(*) FROM leadmgmt.campaign)")" = "3/30" ]

# record_spend: 8 clients reload the same 20 days x 5 campaigns (and no campaign) at once
cat >"$LM_TMP/spend.sql" <<'SQL'
\set d random(0, 19)
\set c random(0, 5)
\set amount random(0, 100000)
SELECT leadmgmt.record_spend(1, date '2025-03-01' + :d, 'douyin',
  CASE WHEN :c = 0 THEN NULL ELSE 'spend-camp-' || :c END, :amount / 100.0, :amount, :amount / 100);
SQL
"$LM_PGBIN/pgbench" -n -c 8 -j 4 -t 250 -f "$LM_TMP/spend.sql" "$db" >"$LM_TMP/pgbench2.log" 2>&1
check "8 concurrent clients reloaded spend 2000 times without an error" \
  grep -q 'number of transactions actually processed: 2000/2000' "$LM_TMP/pgbench2.log"
check "one spend row per day and campaign, every load counted in revision" \
  [ "$(q "SELECT count(*) || '/' || count(DISTINCT (spend_date, coalesce(campaign_id, 0))) || '/' || sum(revision) FROM leadmgmt.ad_spend")" = "120/120/2000" ]

# refresh_tiers: 4 sessions refresh the same org at once; every change is made and logged once
psql -X -q -d "$db" -c "UPDATE leadmgmt.lead SET score = 0.9 WHERE lead_id % 3 = 0" >/dev/null
echo 'SELECT leadmgmt.refresh_tiers(1);' >"$LM_TMP/refresh.sql"
"$LM_PGBIN/pgbench" -n -c 4 -j 4 -t 1 -f "$LM_TMP/refresh.sql" "$db" >"$LM_TMP/pgbench3.log" 2>&1
check "4 concurrent refresh_tiers ran without an error" \
  grep -q 'number of transactions actually processed: 4/4' "$LM_TMP/pgbench3.log"
check "every lead has its tier, each change logged exactly once (200 leads, 200 changes)" \
  [ "$(q "SELECT (SELECT count(*) FROM leadmgmt.lead WHERE tier = leadmgmt.lead_tier(1, lead_id)) || '/' ||
                  (SELECT count(*) FROM leadmgmt.tier_change) || '/' ||
                  (SELECT count(DISTINCT lead_id) FROM leadmgmt.tier_change)")" = "200/200/200" ]
dropdb "$db"
