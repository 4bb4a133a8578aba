#!/usr/bin/env bash
# Packaging: src/META.json is valid by the PGXN Meta Spec 1.0.0
# (test/harness/pgxn-meta.schema.json, checked with python3-jsonschema), names
# the version of leadmgmt.control and a script the build makes; 'make dist'
# puts it at the top of the release archive; and the installed library and
# SQL scripts are of the same version (leadmgmt.version()).
source "$(dirname "$0")/lib.sh"
ver=$(sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" "$LM_TOP/leadmgmt.control")
/usr/bin/python3 - "$LM_TOP" "$ver" <<'PY'
import json, os, sys
import jsonschema
top, ver = sys.argv[1], sys.argv[2]
meta = json.load(open(os.path.join(top, 'src/META.json')))
schema = json.load(open(os.path.join(top, 'test/harness/pgxn-meta.schema.json')))
errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(meta), key=str)
print(('ok' if not errors else 'not ok') + ' - src/META.json is valid by the PGXN Meta Spec 1.0.0')
for e in errors[:5]:
    print('# %s: %s' % ('/'.join(map(str, e.path)), e.message))
semver = ver if ver.count('.') == 2 else ver + '.0'
p = meta['provides']['leadmgmt']
ok = meta['version'] == semver and p['version'] == semver
print(('ok' if ok else 'not ok') + ' - META.json gives version %s, as leadmgmt.control (%s)' % (meta['version'], ver))
print(('ok' if os.path.exists(os.path.join(top, p['file'])) and p['file'].endswith('--%s.sql' % ver) else 'not ok')
      + ' - META.json names the install script the build makes (%s)' % p['file'])
PY
zip=$("$LM_TOP/test/harness/dist.sh" 2>"$LM_TMP/dist.err")
check "make dist writes $(basename "${zip:-none}") with META.json at the top of its folder" \
  /usr/bin/python3 -c "import sys, zipfile; n = zipfile.ZipFile(sys.argv[1]).namelist(); sys.exit(0 if any(x.count('/') == 1 and x.endswith('/META.json') for x in n) else 1)" "$zip"
dropdb --if-exists lm_packaging; createdb lm_packaging
psql -X -q -d lm_packaging -c "CREATE EXTENSION leadmgmt" -c "SELECT leadmgmt.install()" >/dev/null
got=$(psql -X -At -d lm_packaging -c "SELECT leadmgmt.version() || ' ' || extversion FROM pg_extension WHERE extname = 'leadmgmt'")
if [ "${got% *}" = "${got#* }" ] && [ "${got#* }" = "$ver" ]; then
  ok "the library and the SQL scripts are of one version ($got)"
else
  not_ok "the library and the SQL scripts are of one version ($got)"
fi
dropdb lm_packaging
