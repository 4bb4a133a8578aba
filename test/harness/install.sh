#!/usr/bin/env bash
# test/harness/install.sh MAKE -- 'make install', through sudo when the
# PostgreSQL directories are not writable by us.
source "$(dirname "$0")/common.sh"
make_cmd=${1:-make}
libdir=$("$LM_PGBIN/pg_config" --pkglibdir)
cd "$LM_TOP"
if [ -w "$libdir" ]; then
  "$make_cmd" --no-print-directory -s install >/dev/null
else
  as_root "$make_cmd" --no-print-directory -s install PG_CONFIG="$LM_PGBIN/pg_config" >/dev/null
fi
