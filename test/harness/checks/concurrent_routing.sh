#!/usr/bin/env bash
# Real concurrent sessions (pgbench) on event-driven tiers and routing (0.17):
# 16 clients send behaviour events (SMS verified, WeChat followed, trial
# booked, self-booked or not) for 40 overlapping leads, each owned by the rep
# its tier asked for.  Afterwards every lead has exactly the tier its events
# imply (a batch refresh changes nothing), an open owned lead is held by a
# rep of its tier's handler role, the tier-change and re-route logs of each
# lead form one unbroken chain without duplicates, and the engine's counters
# equal the rows.
source "$(dirname "$0")/lib.sh"
db=lm_concurrency_routing
dropdb --if-exists "$db"; createdb "$db"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'SQL'
CREATE EXTENSION leadmgmt;
SELECT leadmgmt.install();
SELECT leadmgmt.create_org('Race School');
SELECT leadmgmt.add_channel(1, 'douyin', 'Douyin', 'paid');
SELECT count(leadmgmt.add_rep(1, r || ' ' || i, r, daily_cap => 1000, holding_cap => 1000))
  FROM unnest('{ai_bot,tmk,sales,top_sales}'::text[]) r, generate_series(1, 2) i;
SELECT count(*) FROM generate_series(1, 40) i, leadmgmt.ingest_lead(1, format('1380000%04s', i), 'douyin', NULL, now()) x;
SELECT count(*) FROM leadmgmt.assign_pending(1);
CREATE FUNCTION try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN EXECUTE q; RETURN 'ok';
EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE;
END $$;
CREATE TABLE outcome (result text);
SQL
cat >"$LM_TMP/events.sql" <<'SQL'
\set l random(1, 40)
\set e random(1, 4)
INSERT INTO outcome SELECT try(format('SELECT leadmgmt.record_event(1, %s, %L, now(), %L)', :l,
  (ARRAY['sms_verified', 'wechat_followed', 'trial_booked', 'trial_booked'])[:e],
  CASE WHEN :e = 4 THEN '{"self_booked": true}' ELSE '{}' END));
SQL
"$LM_PGBIN/pgbench" -n -c 16 -j 4 -t 15 -f "$LM_TMP/events.sql" "$db" >"$LM_TMP/pgbench.log" 2>&1
check "16 concurrent clients sent 240 events for 40 leads" \
  grep -q 'number of transactions actually processed: 240/240' "$LM_TMP/pgbench.log"
q() { psql -X -At -d "$db" -c "$1"; }
echo "# outcomes: $(q "SELECT string_agg(result || ' ' || n, ', ' ORDER BY result) FROM (SELECT result, count(*) n FROM outcome GROUP BY 1) x")"
echo "# tiers: $(q "SELECT string_agg(tier || ' ' || n, ', ' ORDER BY tier) FROM (SELECT tier, count(*) n FROM leadmgmt.lead GROUP BY 1) x"), re-routes: $(q "SELECT count(*) FROM leadmgmt.routing_log")"
check "every event was recorded (no deadlock, no error)" [ "$(q "SELECT count(*) FROM outcome WHERE result <> 'ok'")" = 0 ]
check "every lead has exactly the tier its events imply" \
  [ "$(q "SELECT count(*) FROM leadmgmt.lead_tiers(1) t WHERE t.current_tier IS DISTINCT FROM t.tier")" = 0 ]
check "a batch refresh afterwards changes nothing" [ "$(q "SELECT leadmgmt.refresh_tiers(1)")" = 0 ]
check "every open owned lead is held by a rep of its tier's handler role" \
  [ "$(q "SELECT count(*) FROM leadmgmt.lead l JOIN leadmgmt.sales_rep r ON r.org_id = l.org_id AND r.rep_id = l.owner_rep_id
           JOIN leadmgmt.effective_tier_policy p ON p.org_id = l.org_id AND p.tier = coalesce(l.tier, 'D')
          WHERE l.status NOT IN ('won', 'lost') AND r.role <> p.handler_role")/$(q "SELECT count(*) FROM leadmgmt.lead WHERE pool = 'public'")" = 0/0 ]
check "each lead's tier changes form one chain ending at its tier, none logged twice" \
  [ "$(q "SELECT count(*) FROM (SELECT c.lead_id, c.old_tier, c.new_tier, l.tier,
                                      lag(c.new_tier) OVER w AS prev, lead(c.change_id) OVER w AS next
                                 FROM leadmgmt.tier_change c JOIN leadmgmt.lead l USING (org_id, lead_id)
                               WINDOW w AS (PARTITION BY c.lead_id ORDER BY c.change_id)) x
          WHERE x.old_tier IS DISTINCT FROM x.prev OR (x.next IS NULL AND x.new_tier <> x.tier)")/$(q "SELECT count(*) FROM leadmgmt.tier_change GROUP BY lead_id, old_tier, new_tier HAVING count(*) > 1")" = 0/ ]
check "each lead's re-routes form one chain from its first owner to its owner, none logged twice" \
  [ "$(q "SELECT count(*) FROM (SELECT g.old_rep_id, g.new_rep_id, l.owner_rep_id,
                                      lag(g.new_rep_id) OVER w AS prev, row_number() OVER w AS n, lead(g.route_id) OVER w AS next,
                                      (SELECT a.rep_id FROM leadmgmt.assignment a WHERE a.org_id = g.org_id AND a.lead_id = g.lead_id
                                        ORDER BY a.assignment_id LIMIT 1) AS first_rep
                                 FROM leadmgmt.routing_log g JOIN leadmgmt.lead l USING (org_id, lead_id)
                               WINDOW w AS (PARTITION BY g.lead_id ORDER BY g.route_id)) x
          WHERE x.old_rep_id IS DISTINCT FROM CASE WHEN x.n = 1 THEN x.first_rep ELSE x.prev END
             OR (x.next IS NULL AND x.new_rep_id IS DISTINCT FROM x.owner_rep_id)")" = 0 ]
check "each lead has one open assignment, its owner's; every re-route closed the one before" \
  [ "$(q "SELECT count(*) FROM leadmgmt.lead l WHERE (SELECT count(*) FROM leadmgmt.assignment a WHERE a.org_id = l.org_id AND a.lead_id = l.lead_id
           AND a.released_at IS NULL AND a.rep_id = l.owner_rep_id) <> 1")/$(q "SELECT count(*) FROM leadmgmt.assignment WHERE release_reason = 'reroute'")" = "0/$(q "SELECT count(*) FROM leadmgmt.routing_log")" ]
check "the engine's counters equal the rows after it all" \
  [ "$(q "SELECT count(*) FROM leadmgmt.rep_workload w WHERE w.open_leads <> (SELECT count(*) FROM leadmgmt.lead l
           WHERE l.org_id = w.org_id AND l.owner_rep_id = w.rep_id AND l.status NOT IN ('won', 'lost'))")" = 0 ]
dropdb "$db"
