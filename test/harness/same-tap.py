"""test/harness/same-tap.py DIFFERENCES LAYOUT FILE ONE CITUS -- the TAP
output of a pgTAP file on one node (ONE) and on a Citus layout (CITUS) agree:
every test passed on one node, and on Citus each test has the same number,
description and result, except those DIFFERENCES lists for LAYOUT and FILE,
which must differ (so that the list is kept true).  Each line there is
    LAYOUT FILE TESTS REASON
with TESTS a comma list of test numbers, N- for test N and every later one
(the file stops there on Citus).  Prints one line of what it found; exit 0
when it holds."""
import re
import sys

TAP = re.compile(r'^(not )?ok (\d+)(?: - (.*))?$')


def tests(path):
    out = {}
    for line in open(path, errors='replace').read().splitlines():
        m = TAP.match(line)
        if m:
            out[int(m.group(2))] = (m.group(1) is None, m.group(3) or '')
    return out


diffs_file, layout, name, one_path, citus_path = sys.argv[1:6]
one, citus = tests(one_path), tests(citus_path)
if not one or not all(ok for ok, _ in one.values()):
    print('one node: %d tests, %d failed' % (len(one), sum(1 for ok, _ in one.values() if not ok)))
    sys.exit(1)
listed, reasons = set(), []
for line in open(diffs_file).read().splitlines():
    if not line.strip() or line.startswith('#'):
        continue
    lay, fname, nums, reason = line.split(None, 3)
    if lay != layout or fname != name:
        continue
    reasons.append(reason)
    for part in nums.split(','):
        if part.endswith('-'):
            listed |= {n for n in one if n >= int(part[:-1])}
        else:
            listed.add(int(part))
differ = {n for n in one if citus.get(n) != one[n]} | (set(citus) - set(one))
if differ != listed:
    print('%d tests; differing not as listed: %s; listed but the same: %s' % (
        len(one), ', '.join('%d (%s)' % (n, citus.get(n, 'missing')) for n in sorted(differ - listed)[:5]) or 'none',
        ', '.join(str(n) for n in sorted(listed - differ)[:5]) or 'none'))
    sys.exit(1)
if differ:
    print('%d tests, %d the same; %d differ as Citus does: %s' % (len(one), len(one) - len(differ), len(differ), '; '.join(reasons)))
else:
    print('%d tests, every one the same' % len(one))
