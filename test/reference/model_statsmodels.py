#!/usr/bin/python3
"""Compare logreg_train with python3-statsmodels Logit on generated data with
5 to 20 features, in the test cluster (PG* env): coefficients, standard
errors and the log-likelihood must agree to 1e-6 relative, with and without
parallel workers.  Also auc and log_loss against exact formulas computed
here.  Prints TAP lines; run by test/harness/checks/model_reference.sh.
"""
import math
import sys
import warnings

import numpy as np
import psycopg2
import statsmodels.api as sm

failures = 0


def report(ok, what, detail=""):
    global failures
    print(("ok - " if ok else "not ok - ") + what)
    if not ok:
        failures += 1
        for line in str(detail).splitlines()[:12]:
            print("# " + line)


def worst(got, want):
    return max(abs(g - w) / max(abs(w), 1e-8) for g, w in zip(got, want))


def main():
    warnings.simplefilter("ignore")
    conn = psycopg2.connect(dbname=sys.argv[1])
    conn.autocommit = True
    cur = conn.cursor()
    rng = np.random.default_rng(20261122)
    bad_coef, bad_se, bad_ll, bad_par = [], [], [], []
    cases = 0
    for case in range(8):
        p = [5, 8, 12, 20, 5, 15, 20, 10][case]
        n = int(rng.integers(1500, 4000))
        cov = 0.3 * np.ones((p, p)) + 0.7 * np.eye(p)
        X = rng.multivariate_normal(np.zeros(p), cov, n) * rng.uniform(0.5, 3, p) + rng.normal(0, 1, p)
        beta = rng.normal(0, 0.6, p + 1)
        eta = beta[0] + X @ beta[1:]
        y = rng.random(n) < 1 / (1 + np.exp(-eta))
        cur.execute("DROP TABLE IF EXISTS lr_data")
        cur.execute("CREATE TABLE lr_data (id int, y boolean, x float8[])")
        rows = [(i, bool(y[i]), [float(v) for v in X[i]]) for i in range(n)]
        # some rows that must be skipped: NULL label, NULL features, a NULL inside
        rows += [(n + 1, None, [0.0] * p), (n + 2, True, None), (n + 3, False, [None] + [0.0] * (p - 1))]
        cur.executemany("INSERT INTO lr_data VALUES (%s, %s, %s)", rows)
        cur.execute("ANALYZE lr_data")
        ref = sm.Logit(y.astype(float), sm.add_constant(X)).fit(method="newton", tol=1e-12, maxiter=100, disp=0)
        fit = {}
        for workers in (0, 4):
            cur.execute(f"SET max_parallel_workers_per_gather = {workers}")
            cur.execute("SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0")
            cur.execute("SELECT (m).coef, (m).std_err, (m).log_likelihood, (m).rows_used, (m).rows_skipped, (m).converged "
                        "FROM (SELECT leadmgmt.logreg_train('lr_data', 'y', 'x') AS m) s")
            fit[workers] = cur.fetchone()
        coef, se, ll, used, skipped, converged = fit[0]
        cases += 1
        if worst(coef, ref.params) > 1e-6:
            bad_coef.append((case, p, worst(coef, ref.params)))
        if worst(se, ref.bse) > 1e-6:
            bad_se.append((case, p, worst(se, ref.bse)))
        if abs(ll - ref.llf) / abs(ref.llf) > 1e-9 or used != n or skipped != 3 or not converged:
            bad_ll.append((case, ll, ref.llf, used, skipped, converged))
        if worst(fit[4][0], coef) > 1e-9 or worst(fit[4][1], se) > 1e-9:
            bad_par.append((case, worst(fit[4][0], coef)))
    report(not bad_coef, f"coefficients equal statsmodels Logit to 1e-6 relative ({cases} data sets, 5 to 20 features)", bad_coef)
    report(not bad_se, "standard errors equal statsmodels to 1e-6 relative", bad_se)
    report(not bad_ll, "log-likelihood equals statsmodels to 1e-9; rows used and the 3 skipped rows are counted; converged", bad_ll)
    report(not bad_par, "the same model with 4 parallel workers as serially (1e-9)", bad_par)

    # auc and log_loss on random scores with ties, against the exact pair count and the mean loss
    s = np.round(rng.random(3000), 2)
    lab = rng.random(3000) < s
    cur.execute("DROP TABLE IF EXISTS sc")
    cur.execute("CREATE TABLE sc (s float8, y boolean)")
    cur.executemany("INSERT INTO sc VALUES (%s, %s)", [(float(a), bool(b)) for a, b in zip(s, lab)])
    pos, neg = s[lab], s[~lab]
    want_auc = ((pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()) / (len(pos) * len(neg))
    pc = np.clip(s, 1e-15, 1 - 1e-15)
    want_ll = float(np.mean(-(lab * np.log(pc) + (~lab) * np.log(1 - pc))))
    cur.execute("SET max_parallel_workers_per_gather = 0")
    cur.execute("SELECT leadmgmt.auc(s, y), leadmgmt.log_loss(s, y) FROM sc")
    got_auc, got_ll = cur.fetchone()
    report(abs(got_auc - want_auc) < 1e-12, f"auc equals the exact Mann-Whitney count with ties half ({want_auc:.6f})", (got_auc, want_auc))
    report(abs(got_ll - want_ll) < 1e-12, "log_loss equals the mean cross-entropy", (got_ll, want_ll))
    return 0


if __name__ == "__main__":
    sys.exit(main())
