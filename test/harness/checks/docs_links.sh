#!/usr/bin/env bash
# No dead relative link: every [text](path) in docs/ and README.md, and every
# docs/<page>.md path named in a comment of src/sql/parts, src/*.c, src/*.h or
# the tests, names a file of the tree; a #fragment names a heading of it.
source "$(dirname "$0")/lib.sh"
cd "$LM_TOP"
/usr/bin/python3 - <<'PY'
import glob, os, re
def slug(h):
    h = re.sub(r'[^\w\- ]', '', h.strip().lower())
    return h.replace(' ', '-')
def anchors(path):
    if not path.endswith('.md'):
        return None
    return {slug(m.group(1)) for m in re.finditer(r'^#+ (.*)$', open(path).read(), re.M)}
dead, n = [], 0
def check(src, target, base):
    global n
    n += 1
    path, _, frag = target.partition('#')
    full = os.path.normpath(os.path.join(base, path)) if path else src
    if not os.path.exists(full):
        dead.append('%s: %s (no such file)' % (src, target)); return
    if frag and anchors(full) is not None and frag not in anchors(full):
        dead.append('%s: %s (no such heading)' % (src, target))
for md in sorted(glob.glob('docs/**/*.md', recursive=True)) + ['README.md']:
    text = re.sub(r'```.*?```', '', open(md).read(), flags=re.S)
    for m in re.finditer(r'\]\(([^)\s]+)\)', text):
        t = m.group(1)
        if re.match(r'[a-z]+:', t):
            continue
        check(md, t, os.path.dirname(md))
srcs = glob.glob('src/sql/parts/*.sql') + glob.glob('src/*.[ch]') + glob.glob('test/**/*.sql', recursive=True) \
     + glob.glob('test/**/*.sh', recursive=True) + glob.glob('test/**/*.py', recursive=True) + ['Makefile']
for f in sorted(srcs):
    for line in open(f):
        if not re.match(r'\s*(--|#|\*|/\*|//)', line):
            continue
        for m in re.finditer(r'(?<![\w/.])(docs/[\w./-]+\.(?:md|svg))', line):
            check(f, m.group(1), '.')
for d in dead:
    print('# ' + d)
print(('ok' if not dead else 'not ok') + ' - no dead relative link in docs/, README.md and the comments of the sources (%d links)' % n)
PY
