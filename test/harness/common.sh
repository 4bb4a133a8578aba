# test/harness/common.sh -- shared settings for the harness scripts (sourced).
#
# PostgreSQL refuses to run as root, so when we are root the server runs as
# the 'postgres' OS user (created by Debian's postgresql-common); otherwise
# it runs as the invoking user.  Clients (psql, pg_regress, pg_prove) run as
# whoever we are and connect over a private Unix socket.

set -euo pipefail

LM_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LM_PGBIN=${LM_PGBIN:-$(dirname "$(command -v /usr/lib/postgresql/15/bin/pg_config 2>/dev/null || command -v pg_config)")}
# one folder per checkout and user, so two clones never share a cluster
LM_HASH=$(printf '%s' "$LM_TOP" | cksum | cut -d' ' -f1)
LM_BASE=${LEADMGMT_TMPDIR:-/tmp}/leadmgmt-$(id -u)-$LM_HASH

if [ "$(id -u)" -eq 0 ]; then
  LM_SERVER_USER=postgres
else
  LM_SERVER_USER=$(id -un)
fi

# Run a server-side command as the OS user that owns the clusters.
as_server() {
  if [ "$(id -u)" -eq 0 ]; then
    # from /, so that a work tree only root can read never bothers the server user
    (cd / && runuser -u "$LM_SERVER_USER" -- "$@")
  else
    "$@"
  fi
}

# Run a command as root: directly when we are root, through sudo otherwise.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  else
    sudo "$@"
  fi
}

# libfaketime, which moves the server's clock for the wall-clock checks
LM_FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
[ -e "$LM_FAKETIME_LIB" ] || LM_FAKETIME_LIB=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -1 || true)

lm_say() { printf '== %s\n' "$*"; }
