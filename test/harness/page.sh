#!/usr/bin/env bash
# test/harness/page.sh DATABASE OUTDIR -- the demo report as a page: the npm
# packages pinned in test/demo/page/package-lock.json (Apache ECharts,
# playwright-core) installed once into .build/page, the data read through
# the views (test/demo/page.sql), and OUTDIR/report.html written with ECharts
# embedded, so that it opens offline.  Prints the page's path.  Uses the
# PG* environment of the caller.
source "$(dirname "$0")/common.sh"
db=${1:?usage: page.sh DATABASE OUTDIR}; out=${2:?}
mkdir -p "$out"
npm_dir=$LM_TOP/.build/page
if ! cmp -s "$LM_TOP/test/demo/page/package-lock.json" "$npm_dir/package-lock.json" ||
   [ ! -f "$npm_dir/node_modules/echarts/dist/echarts.min.js" ]; then
  rm -rf "$npm_dir"; mkdir -p "$npm_dir"
  cp "$LM_TOP/test/demo/page/package.json" "$LM_TOP/test/demo/page/package-lock.json" "$npm_dir/"
  (cd "$npm_dir" && npm ci --no-audit --no-fund --loglevel=error >"$npm_dir/npm.log" 2>&1) ||
    { cat "$npm_dir/npm.log" >&2; exit 1; }
fi
psql -X -v ON_ERROR_STOP=1 -v org=1 -d "$db" -f "$LM_TOP/test/demo/page.sql" >"$out/report.json"
node "$LM_TOP/test/demo/page/build.mjs" "$out/report.json" "$npm_dir/node_modules/echarts/dist/echarts.min.js" "$out/report.html"
