#!/usr/bin/env bash
# Real concurrent sessions (pgbench) on the master data functions (0.16):
# 16 clients enroll 60 students into a class of 10 seats at once, and add
# overlapping leave and shifts for the same reps.  Afterwards the class holds
# exactly its capacity, no student is in it twice, and no rep has
# overlapping leave or shifts; every refusal was the documented one.
source "$(dirname "$0")/lib.sh"
db=lm_concurrency_md
dropdb --if-exists "$db"; createdb "$db"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'SQL'
CREATE EXTENSION leadmgmt;
SELECT leadmgmt.install();
SELECT leadmgmt.create_org('Race School');
SELECT leadmgmt.add_course(1, 'math', 'Math', 'math', 12, 3000);
SELECT leadmgmt.add_class(1, 1, 'Small class', current_date, current_date + 90, 10);
SELECT count(leadmgmt.add_student(1, 'Kid ' || i)) FROM generate_series(1, 60) i;
SELECT count(leadmgmt.add_rep(1, 'Rep ' || i, 'sales')) FROM generate_series(1, 4) i;
-- each call's outcome: ok, or the SQLSTATE it raised
CREATE FUNCTION try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN EXECUTE q; RETURN 'ok';
EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE;
END $$;
CREATE TABLE outcome (what text, result text);
SQL
cat >"$LM_TMP/md.sql" <<'SQL'
\set s random(1, 60)
\set r random(1, 4)
\set d random(0, 40)
\set len random(0, 6)
\set h random(0, 20)
INSERT INTO outcome SELECT 'enroll', try(format('SELECT leadmgmt.enroll_student(1, %s, 1, now())', :s));
INSERT INTO outcome SELECT 'leave', try(format('SELECT leadmgmt.add_leave(1, %s, %L, %L)', :r,
                                             date '2030-01-01' + :d, date '2030-01-01' + :d + :len));
INSERT INTO outcome SELECT 'shift', try(format('SELECT leadmgmt.add_shift(1, %s, 1, %L, %L)', :r,
                                             make_time(:h, 0, 0), make_time(:h + 3, 0, 0)));
SQL
"$LM_PGBIN/pgbench" -n -c 16 -j 4 -t 40 -f "$LM_TMP/md.sql" "$db" >"$LM_TMP/pgbench.log" 2>&1
check "16 concurrent clients made 640 rounds of enrollments, leave and shifts" \
  grep -q 'number of transactions actually processed: 640/640' "$LM_TMP/pgbench.log"
q() { psql -X -At -d "$db" -c "$1"; }
echo "# outcomes: $(q "SELECT string_agg(what || ' ' || result || ' ' || n, ', ' ORDER BY what, result) FROM (SELECT what, result, count(*) n FROM outcome GROUP BY 1, 2) x")"
check "the class holds exactly its 10 seats, each student once" \
  [ "$(q "SELECT count(*) || '/' || count(DISTINCT student_id) FROM leadmgmt.enrollment WHERE class_id = 1 AND status = 'active'")" = "10/10" ]
check "10 enrollments succeeded; every other was refused as full (22023) or a repeat (23505)" \
  [ "$(q "SELECT count(*) FILTER (WHERE result = 'ok') || '/' || count(*) FILTER (WHERE result NOT IN ('ok', '22023', '23505')) FROM outcome WHERE what = 'enroll'")" = "10/0" ]
check "no rep has overlapping leave; every refusal was 22023" \
  [ "$(q "SELECT (SELECT count(*) FROM leadmgmt.rep_leave a JOIN leadmgmt.rep_leave b ON a.org_id = b.org_id AND a.rep_id = b.rep_id
                    AND a.leave_id < b.leave_id AND a.first_day <= b.last_day AND b.first_day <= a.last_day) || '/' ||
                 (SELECT count(*) FROM outcome WHERE what = 'leave' AND result NOT IN ('ok', '22023'))")" = "0/0" ]
check "no rep has overlapping shifts; every refusal was 22023" \
  [ "$(q "SELECT (SELECT count(*) FROM leadmgmt.rep_shift a JOIN leadmgmt.rep_shift b ON a.org_id = b.org_id AND a.rep_id = b.rep_id
                    AND a.weekday = b.weekday AND a.shift_id < b.shift_id AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at) || '/' ||
                 (SELECT count(*) FROM outcome WHERE what = 'shift' AND result NOT IN ('ok', '22023'))")" = "0/0" ]
dropdb "$db"
