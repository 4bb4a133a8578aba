#!/usr/bin/env bash
# test/harness/install.sh MAKE -- 'make install', through sudo when the
# PostgreSQL directories are not writable by us.  Scripts of an earlier
# build that this one does not ship (deleted frozen copies, the generated
# script of an older version) are removed first, so that every version
# installs the way it does on a fresh machine.
source "$(dirname "$0")/common.sh"
make_cmd=${1:-make}
libdir=$("$LM_PGBIN/pg_config" --pkglibdir)
extdir=$("$LM_PGBIN/pg_config" --sharedir)/extension
cd "$LM_TOP"
stale=$(ls "$extdir"/leadmgmt--*.sql 2>/dev/null || true)
if [ -n "$stale" ]; then
  if [ -w "$extdir" ]; then rm -f $stale; else as_root rm -f $stale; fi
fi
if [ -w "$libdir" ]; then
  "$make_cmd" --no-print-directory -s install >/dev/null
else
  as_root "$make_cmd" --no-print-directory -s install PG_CONFIG="$LM_PGBIN/pg_config" >/dev/null
fi
