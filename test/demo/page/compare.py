"""test/demo/page/compare.py CHARTS.json -- the numbers the demo page's charts
hold (check.mjs read them from the live page) against the same figures
queried in SQL here, independently of test/demo/page.sql where a second view
gives them.  Uses the PG* environment; prints TAP lines."""
import json
import sys
from decimal import ROUND_HALF_UP, Decimal

import psycopg2

charts = json.load(open(sys.argv[1]))
conn = psycopg2.connect('')
cur = conn.cursor()
failed = 0


def say(ok, text):
    global failed
    print('%s - %s' % ('ok' if ok else 'not ok', text))
    failed += not ok


def q(sql, *args):
    cur.execute(sql, args)
    return cur.fetchall()


def num(x, places=2):
    """x rounded as PostgreSQL rounds numeric (half away from zero)"""
    if x is None:
        return None
    return Decimal(str(x)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


# funnel: leads that reached at least each stage, by channel, from lead_funnel
c = charts['funnel']
want = {(ch, k): n for ch, k, n in q("""SELECT channel, k, count(*) FROM leadmgmt.lead_funnel, generate_series(1, 8) k
                                        WHERE org_id = 1 AND steps_reached >= k GROUP BY 1, 2""")}
got = {(s['name'], i + 1): v for s in c['series'] for i, v in enumerate(s['data'])}
say(got == want, 'funnel: %d channel and stage counts equal lead_funnel\'s' % len(want))

# ROI: spend by channel equals channel_daily's; CAC as channel_roi's sums give it
c = charts['roi']
chans = c['xAxis'][0]
spend = dict(q("SELECT channel, sum(spend) FROM leadmgmt.channel_daily WHERE org_id = 1 GROUP BY 1 HAVING sum(spend) > 0"))
series = {s['name']: s['data'] for s in c['series']}
say(all(num(series['spend'][i]) == num(spend.get(ch, 0)) for i, ch in enumerate(chans)) and set(spend) <= set(chans),
    'roi: spend of %d channels equals channel_daily\'s' % len(chans))
cac = dict(q("""SELECT channel, round((sum(spend) + sum(handling_cost)) / nullif(sum(paid_students), 0), 2) FROM leadmgmt.channel_roi
                 WHERE org_id = 1 AND period = 'week' AND breakdown = 'channel' GROUP BY 1"""))
say(all(num(series['CAC'][i]) == num(cac.get(ch)) for i, ch in enumerate(chans)),
    'roi: CAC by channel equals the weekly channel_roi rows summed')

# attribution: every model's credit by channel
c = charts['attribution']
rows = {r[0]: r[1:] for r in q("""SELECT channel, first_touch, last_touch, last_non_direct, linear, position_based, time_decay, markov, shapley
                                     FROM leadmgmt.attribution_comparison WHERE org_id = 1""")}
ok = all(num(s['data'][i]) == num(rows[ch][j]) for j, s in enumerate(c['series']) for i, ch in enumerate(c['xAxis'][0]))
say(ok and set(rows) == set(c['xAxis'][0]), 'attribution: %d channels x %d models equal attribution_comparison' % (len(rows), len(c['series'])))

# Kaplan-Meier: each grade's curve ends where km_at puts it
c = charts['km']
ends = {}
for s in c['series']:
    ends[s['name']] = s['data'][-1]   # the last of the three series of a grade is its curve
ok = True
for name, (t, surv) in ends.items():
    grade = int(name.split()[1])
    (at,) = q("""SELECT leadmgmt.km_at(leadmgmt.km_fit(lifetime_days, churned), %s)
                   FROM leadmgmt.student_lifetime WHERE org_id = 1 AND grade = %s""", t, grade)[0]
    ok = ok and abs(float(at) - float(surv)) < 5e-5
say(ok and len(ends) > 0, 'km: the curve of each of %d grades ends at km_at of its last time' % len(ends))

# cohort retention: every cell, from the view
c = charts['cohort']
want = {(ms, m): num(100 * r, 1) for m, ms, r in q("""SELECT to_char(cohort_month, 'YYYY-MM'), months_since, retention_on
                                                    FROM leadmgmt.cohort_retention WHERE org_id = 1 AND cohort_kind = 'first_time'""")}
got = {(cell[0], cell[1]): num(cell[2], 1) for cell in c['series'][0]['data']}
say(got == want, 'cohort: %d cells equal cohort_retention\'s' % len(want))

# routing: tiered and flat cost per paid student by channel
c = charts['routing']
rows = {r[0]: r[1:] for r in q("""SELECT channel, (sum(spend) + sum(handling_cost_tiered)) / nullif(sum(paid_students), 0),
                                         (sum(spend) + sum(handling_cost_flat)) / nullif(sum(paid_students), 0)
                                    FROM leadmgmt.tier_routing_savings WHERE org_id = 1 GROUP BY 1""")}
series = {s['name']: s['data'] for s in c['series']}
ok = all(num(series['tiered'][i]) == num(rows[ch][0]) and num(series['flat'][i]) == num(rows[ch][1])
         for i, ch in enumerate(c['xAxis'][0]))
say(ok and set(rows) == set(c['xAxis'][0]), 'routing: tiered and flat cost of %d channels equal tier_routing_savings\'s' % len(rows))

# model: lift by decile of the active model
c = charts['model']
lift = dict(q("""SELECT l.decile, l.lift FROM leadmgmt.model_lift l JOIN leadmgmt.model_registry r USING (org_id, model_id)
                  WHERE l.org_id = 1 AND r.active"""))
series = {s['name']: s['data'] for s in c['series']}
say(all(num(series['lift'][i]) == num(lift[d]) for i, d in enumerate(c['xAxis'][0])) and len(lift) == len(series['lift']),
    'model: lift of %d deciles equals model_lift\'s' % len(lift))
sys.exit(1 if failed else 0)
