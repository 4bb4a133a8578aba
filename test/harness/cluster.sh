#!/usr/bin/env bash
# test/harness/cluster.sh -- throwaway PostgreSQL clusters for tests and demo.
#
#   cluster.sh fresh NAME [tcp]   stop and remove NAME, then init and start it
#   cluster.sh ensure NAME [tcp]  start NAME, creating it if needed
#   cluster.sh stop NAME          stop and remove NAME
#   cluster.sh stop-all           stop and remove every cluster of this checkout
#
# A cluster lives in $LM_BASE/NAME (under /tmp, never in the work tree) with a
# private socket folder, so clusters of different checkouts never clash; with
# 'tcp' it also listens on localhost at a free port, for BI tools.  After a
# start, $LM_BASE/NAME/env holds the PG* variables that reach it.  With
# LM_FAKETIME set (an offset such as +3y or -1y) the server runs under
# libfaketime, its clock moved by that much.  LM_PRELOAD (make test-citus:
# citus) goes into shared_preload_libraries of a cluster created then.
source "$(dirname "$0")/common.sh"

cmd=${1:?usage: cluster.sh fresh|ensure|stop|stop-all [NAME] [tcp]}
name=${2:-}
tcp=${3:-}

dir_of() { printf '%s/%s' "$LM_BASE" "$1"; }

is_running() {
  local d; d=$(dir_of "$1")
  [ -f "$d/data/postmaster.pid" ] && as_server "$LM_PGBIN/pg_ctl" -D "$d/data" status >/dev/null 2>&1
}

stop_one() {
  local d; d=$(dir_of "$1")
  [ -d "$d" ] || return 0
  if is_running "$1"; then
    as_server "$LM_PGBIN/pg_ctl" -D "$d/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$d"
}

free_port() {
  local p
  for p in $(seq 54330 54499); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && [ ! -e "/tmp/.s.PGSQL.$p" ]; then
      echo "$p"; return 0
    fi
  done
  echo "cluster.sh: no free port in 54330-54499" >&2; return 1
}

init_one() {
  local d port listen; d=$(dir_of "$1")
  mkdir -p "$LM_BASE" "$d/sock"
  chmod 755 "$LM_BASE"
  [ "$(id -u)" -eq 0 ] && chown -R "$LM_SERVER_USER" "$d"
  if [ "$tcp" = tcp ]; then port=$(free_port); listen=localhost; else port=5432; listen=''; fi
  as_server "$LM_PGBIN/initdb" -D "$d/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$d/initdb.log" 2>&1 \
    || { cat "$d/initdb.log" >&2; exit 1; }
  as_server tee -a "$d/data/postgresql.conf" >/dev/null <<CONF
# leadmgmt throwaway cluster: fast and disposable, never for real data
listen_addresses = '$listen'
port = $port
unix_socket_directories = '$d/sock'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 120
shared_buffers = 256MB
max_worker_processes = 16
max_parallel_workers = 8
log_min_messages = warning
log_min_error_statement = panic
CONF
  if [ -n "${LM_PRELOAD:-}" ]; then
    printf "shared_preload_libraries = '%s'\nwal_level = logical\nmax_replication_slots = 10\nmax_wal_senders = 10\n" \
      "$LM_PRELOAD" | as_server tee -a "$d/data/postgresql.conf" >/dev/null
  fi
  cat >"$d/env" <<ENV
export PGHOST='$d/sock' PGPORT=$port PGUSER=postgres PGDATABASE=postgres
ENV
  [ "$(id -u)" -eq 0 ] && chown "$LM_SERVER_USER" "$d/env"
  return 0
}

start_one() {
  local d; d=$(dir_of "$1")
  # LM_FAKETIME (make test FAKETIME=+3y) moves the server's clock, never the clients'
  local pre="" clock=()
  # SANITIZE=1 (make test): AddressSanitizer must be the first library loaded
  case "${SANITIZE:-}" in
    address)
      pre=$(gcc -print-file-name=libasan.so)
      clock+=(ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:halt_on_error=0:print_stacktrace=1:log_path=$d/sanitizer")
      ;;
  esac
  [ -n "${SANITIZE:-}" ] && clock+=(UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=0:log_path=$d/sanitizer")
  if [ -n "${LM_FAKETIME:-}" ]; then
    pre="${pre:+$pre }$LM_FAKETIME_LIB"
    clock+=(FAKETIME="$LM_FAKETIME" FAKETIME_DONT_FAKE_MONOTONIC=1)
  fi
  [ -n "$pre" ] && clock+=(LD_PRELOAD="$pre")
  [ ${#clock[@]} -gt 0 ] && clock=(env "${clock[@]}")
  # VALGRIND=1 (make test): every server process under valgrind memcheck, its reports in valgrind.PID
  local postgres=()
  if [ -n "${VALGRIND:-}" ]; then
    cp "$LM_TOP/test/harness/valgrind.supp" "$d/valgrind.supp"
    cat >"$d/postgres-valgrind" <<SH
#!/bin/sh
exec valgrind --quiet --trace-children=yes --track-origins=yes --read-var-info=no --num-callers=30 \\
  --suppressions="$d/valgrind.supp" --log-file="$d/valgrind.%p" "$LM_PGBIN/postgres" "\$@"
SH
    chmod 755 "$d/postgres-valgrind"
    postgres=(-p "$d/postgres-valgrind")
  fi
  as_server "${clock[@]}" "$LM_PGBIN/pg_ctl" "${postgres[@]}" -D "$d/data" -l "$d/server.log" -w -t 600 start >/dev/null \
    || { tail -20 "$d/server.log" >&2; exit 1; }
}

case "$cmd" in
  fresh)  stop_one "$name"; init_one "$name"; start_one "$name" ;;
  ensure)
    if ! is_running "$name"; then
      [ -d "$(dir_of "$name")/data" ] || init_one "$name"
      start_one "$name"
    fi ;;
  stop)   stop_one "$name" ;;
  stop-all)
    if [ -d "$LM_BASE" ]; then
      for d in "$LM_BASE"/*/; do [ -d "$d" ] && stop_one "$(basename "$d")"; done
      rmdir "$LM_BASE" 2>/dev/null || true
    fi
    echo "stopped and removed the leadmgmt clusters under $LM_BASE" ;;
  *) echo "cluster.sh: unknown command $cmd" >&2; exit 2 ;;
esac
