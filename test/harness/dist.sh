#!/usr/bin/env bash
# test/harness/dist.sh -- 'make dist': the PGXN release archive of HEAD,
# .build/dist/leadmgmt-VERSION.zip, with src/META.json at the top of its one
# folder, where PGXN looks for it.  Prints the archive's path.
source "$(dirname "$0")/common.sh"
version=$(/usr/bin/python3 -c "import json; print(json.load(open('$LM_TOP/src/META.json'))['version'])")
dir=$LM_TOP/.build/dist; name=leadmgmt-$version
rm -rf "$dir"; mkdir -p "$dir/$name"
git -C "$LM_TOP" archive HEAD | tar -x -C "$dir/$name"
cp "$LM_TOP/src/META.json" "$dir/$name/META.json"
(cd "$dir" && /usr/bin/python3 -c "
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:
    for root, _, files in os.walk(sys.argv[2]):
        for f in sorted(files):
            z.write(os.path.join(root, f))
" "$name.zip" "$name")
rm -rf "${dir:?}/$name"
echo "$dir/$name.zip"
