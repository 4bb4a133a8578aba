#!/usr/bin/env bash
# test/harness/deps.sh [group...] -- install the Debian packages that are missing.
#
# Groups: base (always), erd (ER diagram tooling).  Uses apt-get directly as
# root, or through sudo for a sudo-capable user.
source "$(dirname "$0")/common.sh"

pkgs=(make gcc postgresql-15 postgresql-server-dev-15 postgresql-15-pgtap
      libtap-parser-sourcehandler-pgtap-perl python3 python3-statsmodels
      python3-psycopg2 libfaketime openjdk-17-jdk-headless libpostgresql-jdbc-java
      odbc-postgresql unixodbc python3-pyodbc chromium python3-jsonschema)
# the demo page's npm packages need Node.js and npm: Debian's when none is there
command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)
for group in "$@"; do
  case "$group" in
    erd) pkgs+=(postgresql-autodoc graphviz) ;;
    base) ;;
    *) echo "deps.sh: unknown group $group" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${pkgs[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

lm_say "installing missing packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
