#!/usr/bin/python3
"""Compare km_fit, km_curve, km_median and logrank with python3-statsmodels
(SurvfuncRight, survdiff) on random data, in the test cluster (PG* env).

Prints TAP lines ("ok - ..." / "not ok - ..."); run by
test/harness/checks/survival_reference.sh.  Debian's statsmodels is an
independent implementation: its survival probabilities, Greenwood standard
errors, numbers at risk (with late entry) and log-rank statistics must agree
to 1e-9 relative.
"""
import math
import sys
import warnings

import numpy as np
import psycopg2
from statsmodels.duration.survfunc import SurvfuncRight, survdiff

TOL = 1e-9
failures = 0


def report(ok, what, detail=""):
    global failures
    if ok:
        print(f"ok - {what}")
    else:
        failures += 1
        print(f"not ok - {what}")
        if detail:
            for line in str(detail).splitlines()[:10]:
                print(f"# {line}")


def close(a, b, tol=TOL):
    if a is None or b is None:
        return a is None and b is None
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def load(cur, rows):
    cur.execute("TRUNCATE s")
    cur.executemany("INSERT INTO s VALUES (%s, %s, %s, %s, %s)", rows)


def dataset(rng, n, ties, k, late):
    if ties:
        dur = rng.integers(0, 30, n).astype(float)
    else:
        dur = np.round(rng.exponential(20, n), 6)
    event = rng.random(n) < 0.7
    grp = rng.integers(0, k, n)
    entry = np.where(rng.random(n) < 0.3, np.floor(dur * rng.random(n)) - 1, np.nan) if late else np.full(n, np.nan)
    # a late entry must come before the exit: entry < duration
    entry = np.where(entry < dur, entry, np.nan)
    weight = rng.integers(1, 4, n).astype(float)
    return dur, event, grp, entry, weight


def main():
    warnings.simplefilter("ignore")
    med_cases = 0
    conn = psycopg2.connect(dbname=sys.argv[1])
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SET search_path = leadmgmt, public")
    cur.execute("CREATE TEMP TABLE s (duration float8, event boolean, grp text, entry float8, weight float8)")
    rng = np.random.default_rng(20261122)
    cases = 0
    km_bad, se_bad, risk_bad, med_bad, lr_bad, lw_bad, le_bad = [], [], [], [], [], [], []
    for case in range(60):
        n = int(rng.integers(5, 400))
        ties = case % 2 == 0
        k = 2 + case % 3
        late = case % 4 == 3
        dur, event, grp, entry, weight = dataset(rng, n, ties, k, late)
        rows = [(float(d), bool(e), f"g{g}", None if math.isnan(en) else float(en), float(w))
                for d, e, g, en, w in zip(dur, event, grp, entry, weight)]
        load(cur, rows)
        cases += 1

        # Kaplan-Meier (with late entry where the case has it)
        if late:
            ent = np.where(np.isnan(entry), -1e9, entry)
            sf = SurvfuncRight(dur, event.astype(float), entry=ent)
            cur.execute("SELECT c.t, c.n_at_risk, c.survival, c.std_err FROM km_curve("
                        "(SELECT km_fit(coalesce(entry, -1e9), duration, event) FROM s)) c WHERE c.n_events > 0 ORDER BY c.t")
        else:
            sf = SurvfuncRight(dur, event.astype(float))
            cur.execute("SELECT c.t, c.n_at_risk, c.survival, c.std_err FROM km_curve("
                        "(SELECT km_fit(duration, event) FROM s)) c WHERE c.n_events > 0 ORDER BY c.t")
        got = cur.fetchall()
        if len(got) != len(sf.surv_times) or any(not close(g[0], t) for g, t in zip(got, sf.surv_times)):
            km_bad.append((case, "times", [g[0] for g in got][:5], list(sf.surv_times[:5])))
            continue
        for g, p, se, r in zip(got, sf.surv_prob, sf.surv_prob_se, sf.n_risk):
            if not close(g[2], p):
                km_bad.append((case, g[0], g[2], p))
            # statsmodels gives se 0 or nan where S reaches 0; we give NULL
            if p > 0 and not close(g[3], se):
                se_bad.append((case, g[0], g[3], se))
            if not close(g[1], r):
                risk_bad.append((case, g[0], g[1], r))

        # median and its log-log interval, where no estimate sits exactly on 0.5
        if not late:
            cur.execute("SELECT m.* FROM km_median((SELECT km_fit(duration, event) FROM s)) m")
            med, lo, hi = cur.fetchone()
            cur.execute("SELECT count(*) FROM km_curve((SELECT km_fit(duration, event) FROM s)) c "
                        "WHERE abs(c.survival - 0.5) < 1e-9 OR abs(c.ci_low - 0.5) < 1e-9 OR abs(c.ci_high - 0.5) < 1e-9")
            if cur.fetchone()[0] == 0:
                med_cases += 1
                q = sf.quantile(0.5)
                qlo, qhi = sf.quantile_ci(0.5, 0.05, method="cloglog")
                want = [None if (x is None or (isinstance(x, float) and (math.isnan(x) or math.isinf(x)))) else float(x)
                        for x in (q, qlo, qhi)]
                if [med, lo, hi] != want:
                    med_bad.append((case, (med, lo, hi), want))

        # weighted Kaplan-Meier: frequency weights
        sfw = SurvfuncRight(dur, event.astype(float), freq_weights=weight)
        cur.execute("SELECT c.t, c.survival FROM km_curve((SELECT km_fit(duration, event, weight) FROM s)) c "
                    "WHERE c.n_events > 0 ORDER BY c.t")
        gotw = cur.fetchall()
        if len(gotw) != len(sfw.surv_times) or any(not close(g[1], p) for g, p in zip(gotw, sfw.surv_prob)):
            lw_bad.append((case, gotw[:3], list(sfw.surv_prob[:3])))

        # log-rank over k groups
        chi2, pv = survdiff(dur, event.astype(float), grp)
        cur.execute("SELECT (r).chi2, (r).df, (r).p_value FROM (SELECT logrank(grp, duration, event) AS r FROM s) x")
        c2, df, p = cur.fetchone()
        if not (close(c2, chi2, 1e-8) and df == len(set(grp)) - 1 and close(p, pv, 1e-8)):
            lr_bad.append((case, (c2, df, p), (chi2, pv)))

        # each group against the rest
        cur.execute("SELECT e.grp, e.chi2, e.p_value FROM logrank_each((SELECT survival_by(grp, duration, event) FROM s)) e")
        for name, c2, p in cur.fetchall():
            chi2, pv = survdiff(dur, event.astype(float), np.array([f"g{g}" == name for g in grp]))
            if not (close(c2, chi2, 1e-8) and close(p, pv, 1e-8)):
                le_bad.append((case, name, (c2, p), (chi2, pv)))

    report(not km_bad, f"km_fit survival probabilities equal statsmodels SurvfuncRight in {cases} random cases", km_bad[:5])
    report(not se_bad, "Greenwood standard errors equal statsmodels", se_bad[:5])
    report(not risk_bad, "numbers at risk equal statsmodels, late entry included", risk_bad[:5])
    report(not med_bad and med_cases >= 10, f"km_median and its log-log interval equal statsmodels quantile and quantile_ci(cloglog) in {med_cases} cases", med_bad[:5])
    report(not lw_bad, "weighted km_fit equals statsmodels with freq_weights", lw_bad[:5])
    report(not lr_bad, "logrank chi2, df and p-value equal statsmodels survdiff for 2 to 4 groups", lr_bad[:5])
    report(not le_bad, "logrank_each equals survdiff of each group against the rest", le_bad[:5])
    return 0


if __name__ == "__main__":
    sys.exit(main())
