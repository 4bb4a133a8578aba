"""test/harness/same-rows.py EXPECTED ACTUAL -- the two query outputs hold the
same lines, numbers compared to 1e-9 relative (1e-12 absolute), everything
else exactly.  Exit 0 when they do; else print the first differences."""
import math
import re
import sys

NUM = re.compile(r'(-?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?)')


def same(a, b):
    ta, tb = NUM.split(a), NUM.split(b)
    if len(ta) != len(tb):
        return False
    for i, (x, y) in enumerate(zip(ta, tb)):
        if i % 2 == 0:
            if x != y:
                return False
        elif x != y:
            fx, fy = float(x), float(y)
            if not math.isclose(fx, fy, rel_tol=1e-9, abs_tol=1e-12):
                return False
    return True


exp = open(sys.argv[1]).read().splitlines()
act = open(sys.argv[2]).read().splitlines()
errors = [l for l in exp + act if l.startswith('ERROR')]
for l in errors[:3]:
    print(l)
bad = [(i, e, a) for i, (e, a) in enumerate(zip(exp, act)) if not same(e, a)]
if len(exp) != len(act):
    print('%d lines expected, %d found' % (len(exp), len(act)))
for i, e, a in bad[:5]:
    print('line %d\n  one node: %s\n  cluster:  %s' % (i + 1, e[:300], a[:300]))
sys.exit(1 if errors or bad or len(exp) != len(act) or not exp else 0)
