"""test/harness/same-rows.py [--regress] EXPECTED ACTUAL -- the two query
outputs hold the same lines, numbers compared to 1e-9 relative (1e-12
absolute), everything else exactly.  Exit 0 when they do; else print the
first differences.

With --regress the two are the outputs of a regress file (psql -a) on one
node and on a Citus cluster: errors are part of them, and what Citus adds is
left out first: its notices about objects created on the coordinator only,
the shard number in the names of relations and constraints, the line naming
the worker a remote error came from, and the SQLSTATE of an error that Citus
relays through COPY (ReportCopyError, multi_copy.c, raises the remote message
without its SQLSTATE, so XX000): such a pair is reported, not failed."""
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


CITUS_NOTICE = re.compile(r'will be created only locally|has dependency (on|to) |^DETAIL:  "|^HINT:  Distribute '
                          r'|^while executing command on ')
SHARD = re.compile(r'((?:relation|table|constraint) "[a-z_0-9]+?)_\d{6}"')
COPY_CODE = re.compile(r'^XX000: ')


def regress(lines):
    return [SHARD.sub(r'\1"', l) for l in lines if not CITUS_NOTICE.search(l)]


args = sys.argv[1:]
is_regress = args[0] == '--regress'
if is_regress:
    args = args[1:]
exp = open(args[0]).read().splitlines()
act = open(args[1]).read().splitlines()
errors = []
if is_regress:
    exp, act = regress(exp), regress(act)
    for i, (e, a) in enumerate(zip(exp, act)):
        if COPY_CODE.match(a) and not COPY_CODE.match(e) and e[7:] == a[7:]:
            print('line %d: Citus relays %s as XX000 (COPY)' % (i + 1, e[:5]))
            act[i] = e
else:
    errors = [l for l in exp + act if l.startswith('ERROR')]
for l in errors[:3]:
    print(l)
bad = [(i, e, a) for i, (e, a) in enumerate(zip(exp, act)) if not same(e, a)]
if len(exp) != len(act):
    print('%d lines expected, %d found' % (len(exp), len(act)))
for i, e, a in bad[:5]:
    print('line %d\n  one node: %s\n  cluster:  %s' % (i + 1, e[:300], a[:300]))
sys.exit(1 if errors or bad or len(exp) != len(act) or not exp else 0)
