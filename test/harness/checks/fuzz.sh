#!/usr/bin/env bash
# Fuzzing: every C function and aggregate of the schema, called with random
# and adversarial arguments and states, serially and in forced-parallel plans,
# as a role without superuser rights (test/harness/fuzz.py).  No backend may
# die by a signal and no call may end in an internal error (XX000).  Seeded:
# the seed is printed, FUZZ_SEED=N repeats a run; FUZZ_SECONDS bounds it
# (100 s; 20 s in the moved-clock pass, as nothing here reads the clock).
source "$(dirname "$0")/lib.sh"
db=lm_fuzz
secs=${FUZZ_SECONDS:-100}
[ -n "${LM_FAKETIME:-}" ] && [ -z "${FUZZ_SECONDS:-}" ] && secs=20
dropdb --if-exists "$db"; createdb "$db"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "CREATE EXTENSION leadmgmt" -c "SELECT leadmgmt.install()" >/dev/null &&
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" -v scale=0.005 -v seed=3 -f "$LM_TOP/test/demo/generate.sql" >/dev/null &&
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'lm_fuzz') THEN CREATE ROLE lm_fuzz LOGIN; END IF;
END $$;
SELECT leadmgmt.grant_access('lm_fuzz', 1, 'reporting');
-- EXECUTE on everything, so that the fuzzing reaches the support functions PUBLIC may not call
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA leadmgmt TO lm_fuzz;
SQL
check "fuzz database loaded, role lm_fuzz has reporting access" [ $? -eq 0 ]
seed_opt=()
[ -n "${FUZZ_SEED:-}" ] && seed_opt=(--seed "$FUZZ_SEED")
start=$(date +%s)
/usr/bin/python3 "$LM_TOP/test/harness/fuzz.py" "dbname=$db" "dbname=$db user=lm_fuzz" \
  "$LM_BASE/${LM_CLUSTER:-test}/server.log" --seconds "$secs" "${seed_opt[@]}"
echo "# fuzzing took $(( $(date +%s) - start )) s"
dropdb "$db"
