
-- ---------------------------------------------------------------------------
-- Master data (since 0.16; docs/reference/master_data.md): the functions an
-- application sets an org up with, from nothing to the reports: the sales
-- organisation (teams, reps, weekly shifts, dated leave) and the service
-- side (teachers, courses, classes, students, enrollments, renewals).
-- Orders and refunds are in the lifecycle part (record_order, record_refund).
--
-- The conventions of every write function: the org first; SECURITY INVOKER,
-- so row-level security lets app and admin roles of the org write and
-- refuses everyone else (42501); 22004 for a NULL that must not be, 22023
-- for a bad value (naming the bounds, echoing at most 40 characters of
-- input), 23503 for an id the org does not have (another tenant's ids are
-- unknown ids), 23505 for a duplicate; event times within the org's window
-- around the server's clock (ingest_check_time).
-- ---------------------------------------------------------------------------

-- a day argument: NULL passes; otherwise finite and from lo to hi
CREATE FUNCTION @extschema@.check_day(d date, what text, lo date, hi date) RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF d IS NOT NULL AND NOT (isfinite(d) AND d BETWEEN lo AND hi) THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('%s must be a day from %s to %s', what, lo, hi),
      DETAIL = format('It is %s.', d);
  END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.check_day(date, text, date, date) IS 'raises 22023 for a day that is infinite or outside lo to hi (NULL passes), naming the bounds';

-- a row of the org that must exist: 22004 for a NULL id, 23503 for an id the
-- org does not have (or the caller cannot see), locking it when asked
CREATE FUNCTION @extschema@.master_row(o record, tbl name, id_col name, id bigint, what text, lock boolean DEFAULT false)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  r jsonb;
BEGIN
  IF id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = format('%s must not be null', id_col);
  END IF;
  EXECUTE format('SELECT to_jsonb(t) FROM @extschema@.%I t WHERE t.org_id = $1 AND t.%I = $2%s',
                 tbl, id_col, CASE WHEN lock THEN ' FOR UPDATE' ELSE '' END)
     INTO r USING o.org_id, id;
  IF r IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '23503', MESSAGE = format('unknown %s %s in org %s', what, id, o.org_id);
  END IF;
  RETURN r;
END
$$;
COMMENT ON FUNCTION @extschema@.master_row(record, name, name, bigint, text, boolean) IS 'the row (as jsonb) of a table of the schema with the given id in the org, locked FOR UPDATE when asked; 22004 for a NULL id, 23503 (unknown WHAT ID in org N) when the org has none the caller can see';

-- ---- the sales organisation ----------------------------------------------

CREATE FUNCTION @extschema@.add_team(org_id bigint, name text, assign_strategy text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  o record := @extschema@.ingest_org(add_team.org_id);
  new_id bigint;
BEGIN
  IF add_team.name IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'name must not be null';
  END IF;
  PERFORM @extschema@.check_length(add_team.name, 'name', 200, 1);
  IF add_team.assign_strategy IS NOT NULL THEN
    PERFORM @extschema@.check_one_of(add_team.assign_strategy, '{round_robin,least_busy}', 'assign strategy', 'strategies');
  END IF;
  IF EXISTS (SELECT 1 FROM @extschema@.team t WHERE t.org_id = o.org_id AND t.name = add_team.name) THEN
    RAISE EXCEPTION USING ERRCODE = '23505', MESSAGE = format('org %s already has a team "%s"', o.org_id, left(add_team.name, 40));
  END IF;
  INSERT INTO @extschema@.team (org_id, name, assign_strategy)
  VALUES (o.org_id, add_team.name, add_team.assign_strategy)
  RETURNING team_id INTO new_id;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION @extschema@.add_team(bigint, text, text) IS 'adds a sales team (a name unique in the org, 1 to 200 characters; its assignment strategy round_robin or least_busy, NULL for the org''s) and returns its id';

-- the checks of a rep's settings, shared by add_rep and update_rep
CREATE FUNCTION @extschema@.check_rep(o record, name text, role text, team_id bigint, weight integer, daily_cap integer,
                                      holding_cap integer, tiers text[], daily_claim_cap integer)
RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF name IS NULL OR role IS NULL OR weight IS NULL OR daily_cap IS NULL OR holding_cap IS NULL OR tiers IS NULL
     OR daily_claim_cap IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004',
      MESSAGE = 'name, role, weight, daily_cap, holding_cap, tiers and daily_claim_cap must not be null';
  END IF;
  PERFORM @extschema@.check_length(name, 'name', 200, 1);
  PERFORM @extschema@.check_one_of(role, '{ai_bot,tmk,sales,top_sales}', 'rep role', 'roles');
  IF weight NOT BETWEEN 1 AND 1000 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'weight must be from 1 to 1000', DETAIL = format('It is %s.', weight);
  END IF;
  IF daily_cap NOT BETWEEN 1 AND 100000 OR holding_cap NOT BETWEEN 1 AND 1000000 OR daily_claim_cap NOT BETWEEN 0 AND 100000 THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = 'daily_cap must be from 1 to 100000, holding_cap from 1 to 1000000 and daily_claim_cap from 0 to 100000',
      DETAIL = format('They are %s, %s and %s.', daily_cap, holding_cap, daily_claim_cap);
  END IF;
  IF cardinality(tiers) = 0 OR array_position(tiers, NULL) IS NOT NULL OR NOT tiers <@ '{A,B,C,D}'::text[] THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'tiers must be a non-empty list of A, B, C and D',
      DETAIL = format('It is %s.', left(tiers::text, 40));
  END IF;
  IF team_id IS NOT NULL THEN
    PERFORM @extschema@.master_row(o, 'team', 'team_id', team_id, 'team');
  END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.check_rep(record, text, text, bigint, integer, integer, integer, text[], integer) IS 'the checks of a rep''s settings for add_rep and update_rep: 22004 for a NULL, 22023 for a value out of its bounds, 23503 for a team the org does not have';

CREATE FUNCTION @extschema@.add_rep(org_id bigint, name text, role text, team_id bigint DEFAULT NULL,
                                    weight integer DEFAULT 1, daily_cap integer DEFAULT 50,
                                    holding_cap integer DEFAULT 300, tiers text[] DEFAULT '{A,B,C,D}',
                                    daily_claim_cap integer DEFAULT 20)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  o record := @extschema@.ingest_org(add_rep.org_id);
  new_id bigint;
BEGIN
  PERFORM @extschema@.check_rep(o, add_rep.name, add_rep.role, add_rep.team_id, add_rep.weight, add_rep.daily_cap,
                                add_rep.holding_cap, add_rep.tiers, add_rep.daily_claim_cap);
  INSERT INTO @extschema@.sales_rep (org_id, team_id, name, role, weight, daily_cap, holding_cap, tiers, daily_claim_cap)
  VALUES (o.org_id, add_rep.team_id, add_rep.name, add_rep.role, add_rep.weight, add_rep.daily_cap,
          add_rep.holding_cap, add_rep.tiers, add_rep.daily_claim_cap)
  RETURNING rep_id INTO new_id;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION @extschema@.add_rep(bigint, text, text, bigint, integer, integer, integer, text[], integer) IS 'adds an active sales rep (role ai_bot, tmk, sales or top_sales; optionally of a team; its weight, daily and holding caps, the tiers it handles and its daily claim cap, as assignment reads them) and returns its id; grant_access(role, org, ''sales'', rep) then lets a database role act as it';

CREATE FUNCTION @extschema@.update_rep(org_id bigint, rep_id bigint, changes jsonb)
RETURNS void
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  o record := @extschema@.ingest_org(update_rep.org_id);
  c jsonb := update_rep.changes;
  r jsonb;
  bad text;
  n jsonb;
BEGIN
  PERFORM @extschema@.check_changes(c, '{name,role,team_id,active,weight,daily_cap,holding_cap,tiers,daily_claim_cap}',
    'A rep''s name, role, team_id, active, weight, daily_cap, holding_cap, tiers and daily_claim_cap can be changed.');
  r := @extschema@.master_row(o, 'sales_rep', 'rep_id', update_rep.rep_id, 'sales rep', true);
  n := r || c;
  -- each field of its JSON type (a type error is the caller's: 22023)
  SELECT k INTO bad FROM jsonb_each(c) e(k, v)
   WHERE NOT (jsonb_typeof(v) = CASE WHEN k IN ('name', 'role') THEN 'string' WHEN k = 'active' THEN 'boolean'
                                     WHEN k = 'tiers' THEN 'array' ELSE 'number' END
              OR (k = 'team_id' AND jsonb_typeof(v) = 'null'))
      OR (jsonb_typeof(v) = 'number' AND (v::numeric <> trunc(v::numeric)
                                          OR abs(v::numeric) > CASE k WHEN 'team_id' THEN 9223372036854775807 ELSE 2147483647 END))
      OR (k = 'tiers' AND EXISTS (SELECT 1 FROM jsonb_array_elements(v) x WHERE jsonb_typeof(x) <> 'string'))
   ORDER BY k LIMIT 1;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('field "%s" has the wrong type', bad),
      DETAIL = format('It is %s.', left(c ->> bad, 40));
  END IF;
  PERFORM @extschema@.check_rep(o, n ->> 'name', n ->> 'role', (n ->> 'team_id')::bigint, (n ->> 'weight')::int,
                                (n ->> 'daily_cap')::int, (n ->> 'holding_cap')::int,
                                ARRAY(SELECT jsonb_array_elements_text(n -> 'tiers')), (n ->> 'daily_claim_cap')::int);
  UPDATE @extschema@.sales_rep s SET
    name = n ->> 'name', role = n ->> 'role', team_id = (n ->> 'team_id')::bigint, active = (n ->> 'active')::boolean,
    weight = (n ->> 'weight')::int, daily_cap = (n ->> 'daily_cap')::int, holding_cap = (n ->> 'holding_cap')::int,
    tiers = ARRAY(SELECT jsonb_array_elements_text(n -> 'tiers')), daily_claim_cap = (n ->> 'daily_claim_cap')::int
   WHERE s.org_id = o.org_id AND s.rep_id = update_rep.rep_id;
END
$$;
COMMENT ON FUNCTION @extschema@.update_rep(bigint, bigint, jsonb) IS 'changes a rep''s settings, given as a JSON object of name, role, team_id (null: no team), active (false: no more leads; the leads it holds stay), weight, daily_cap, holding_cap, tiers and daily_claim_cap, checked as add_rep checks them';

CREATE FUNCTION @extschema@.add_shift(org_id bigint, rep_id bigint, weekday integer, starts_at time, ends_at time)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  o record := @extschema@.ingest_org(add_shift.org_id);
  other bigint;
  new_id bigint;
BEGIN
  IF add_shift.weekday IS NULL OR add_shift.starts_at IS NULL OR add_shift.ends_at IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'weekday, starts_at and ends_at must not be null';
  END IF;
  IF add_shift.weekday NOT BETWEEN 1 AND 7 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'weekday must be from 1 (Monday) to 7 (Sunday)',
      DETAIL = format('It is %s.', add_shift.weekday);
  END IF;
  IF add_shift.ends_at <= add_shift.starts_at THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'a shift ends after it starts, on the same day',
      DETAIL = format('It is %s to %s.', add_shift.starts_at, add_shift.ends_at),
      HINT = 'A night shift is two: 22:00 to 24:00, and 00:00 to 06:00 on the next weekday.';
  END IF;
  -- (the rep's row locked: concurrent shifts of one rep are checked in turn)
  PERFORM @extschema@.master_row(o, 'sales_rep', 'rep_id', add_shift.rep_id, 'sales rep', true);
  SELECT s.shift_id INTO other FROM @extschema@.rep_shift s
   WHERE s.org_id = o.org_id AND s.rep_id = add_shift.rep_id AND s.weekday = add_shift.weekday
     AND s.starts_at < add_shift.ends_at AND add_shift.starts_at < s.ends_at
   ORDER BY s.shift_id LIMIT 1;
  IF other IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('the shift overlaps shift %s of rep %s', other, add_shift.rep_id);
  END IF;
  INSERT INTO @extschema@.rep_shift (org_id, rep_id, weekday, starts_at, ends_at)
  VALUES (o.org_id, add_shift.rep_id, add_shift.weekday, add_shift.starts_at, add_shift.ends_at)
  RETURNING shift_id INTO new_id;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION @extschema@.add_shift(bigint, bigint, integer, time, time) IS 'adds a weekly working period of a rep (ISO weekday 1-7, local times in the org''s time zone, ending after it starts on the same day, 24:00 allowed; not overlapping the rep''s other shifts) and returns its id; a rep with shifts gets leads only during them, one without any always';

CREATE FUNCTION @extschema@.remove_shift(org_id bigint, shift_id bigint)
RETURNS void
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  o record := @extschema@.ingest_org(remove_shift.org_id);
BEGIN
  PERFORM @extschema@.master_row(o, 'rep_shift', 'shift_id', remove_shift.shift_id, 'shift', true);
  DELETE FROM @extschema@.rep_shift s WHERE s.org_id = o.org_id AND s.shift_id = remove_shift.shift_id;
END
$$;
COMMENT ON FUNCTION @extschema@.remove_shift(bigint, bigint) IS 'removes a shift (23503 for one the org does not have)';

CREATE FUNCTION @extschema@.add_leave(org_id bigint, rep_id bigint, first_day date, last_day date, reason text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  o record := @extschema@.ingest_org(add_leave.org_id);
  other bigint;
  new_id bigint;
BEGIN
  IF add_leave.first_day IS NULL OR add_leave.last_day IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'first_day and last_day must not be null';
  END IF;
  PERFORM @extschema@.check_day(add_leave.first_day, 'first_day', '2000-01-01', '2199-12-31');
  PERFORM @extschema@.check_day(add_leave.last_day, 'last_day', add_leave.first_day, add_leave.first_day + 365);
  PERFORM @extschema@.check_length(add_leave.reason, 'reason', 200);
  PERFORM @extschema@.master_row(o, 'sales_rep', 'rep_id', add_leave.rep_id, 'sales rep', true);
  SELECT v.leave_id INTO other FROM @extschema@.rep_leave v
   WHERE v.org_id = o.org_id AND v.rep_id = add_leave.rep_id
     AND v.first_day <= add_leave.last_day AND add_leave.first_day <= v.last_day
   ORDER BY v.leave_id LIMIT 1;
  IF other IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('the leave overlaps leave %s of rep %s', other, add_leave.rep_id);
  END IF;
  INSERT INTO @extschema@.rep_leave (org_id, rep_id, first_day, last_day, reason)
  VALUES (o.org_id, add_leave.rep_id, add_leave.first_day, add_leave.last_day, add_leave.reason)
  RETURNING leave_id INTO new_id;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION @extschema@.add_leave(bigint, bigint, date, date, text) IS 'records a rep''s leave from first_day to last_day (inclusive, days in the org''s time zone, at most 366 days, from 2000 to 2199, not overlapping its other leave): on those days assign_lead and assign_pending give it nothing; returns the leave id';

CREATE FUNCTION @extschema@.cancel_leave(org_id bigint, leave_id bigint)
RETURNS void
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  o record := @extschema@.ingest_org(cancel_leave.org_id);
BEGIN
  PERFORM @extschema@.master_row(o, 'rep_leave', 'leave_id', cancel_leave.leave_id, 'leave', true);
  DELETE FROM @extschema@.rep_leave v WHERE v.org_id = o.org_id AND v.leave_id = cancel_leave.leave_id;
END
$$;
COMMENT ON FUNCTION @extschema@.cancel_leave(bigint, bigint) IS 'cancels a leave (23503 for one the org does not have)';

-- ---- the service side ----------------------------------------------------

CREATE FUNCTION @extschema@.add_teacher(org_id bigint, name text, kind text DEFAULT 'formal', hired_on date DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  o record := @extschema@.ingest_org(add_teacher.org_id);
  new_id bigint;
BEGIN
  IF add_teacher.name IS NULL OR add_teacher.kind IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'name and kind must not be null';
  END IF;
  PERFORM @extschema@.check_length(add_teacher.name, 'name', 200, 1);
  PERFORM @extschema@.check_one_of(add_teacher.kind, '{trial,formal,tutor}', 'teacher kind', 'kinds');
  PERFORM @extschema@.check_day(add_teacher.hired_on, 'hired_on', '1950-01-01', '2199-12-31');
  INSERT INTO @extschema@.teacher (org_id, name, kind, hired_on)
  VALUES (o.org_id, add_teacher.name, add_teacher.kind, add_teacher.hired_on)
  RETURNING teacher_id INTO new_id;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION @extschema@.add_teacher(bigint, text, text, date) IS 'adds a teacher (kind trial, formal or tutor; hired_on from 1950) and returns its id';

CREATE FUNCTION @extschema@.add_course(org_id bigint, code text, name text, subject text, lessons_per_term integer,
                                       price numeric, level integer DEFAULT 1, age_min integer DEFAULT NULL,
                                       age_max integer DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  o record := @extschema@.ingest_org(add_course.org_id);
  new_id bigint;
BEGIN
  IF add_course.code IS NULL OR add_course.name IS NULL OR add_course.subject IS NULL
     OR add_course.lessons_per_term IS NULL OR add_course.price IS NULL OR add_course.level IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'code, name, subject, lessons_per_term, price and level must not be null';
  END IF;
  IF add_course.code !~ '^[a-z0-9][a-z0-9_-]{0,62}$' THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('invalid course code "%s"', left(add_course.code, 40)),
      HINT = 'A course code is a lower-case letter or digit followed by up to 62 letters, digits, _ or -.';
  END IF;
  PERFORM @extschema@.check_length(add_course.name, 'name', 200, 1);
  PERFORM @extschema@.check_length(add_course.subject, 'subject', 100, 1);
  IF add_course.lessons_per_term NOT BETWEEN 1 AND 1000 OR add_course.level NOT BETWEEN 1 AND 20
     OR add_course.age_min NOT BETWEEN 1 AND 18 OR add_course.age_max NOT BETWEEN coalesce(add_course.age_min, 1) AND 18 THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = 'lessons_per_term must be from 1 to 1000, level from 1 to 20, and the ages from 1 to 18 (age_max not below age_min)';
  END IF;
  IF add_course.price < 0 OR add_course.price = 'NaN' OR add_course.price >= 1e12 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'price must be from 0 to below 10^12',
      DETAIL = format('It is %s.', left(add_course.price::text, 40));
  END IF;
  IF EXISTS (SELECT 1 FROM @extschema@.course c WHERE c.org_id = o.org_id AND c.code = add_course.code) THEN
    RAISE EXCEPTION USING ERRCODE = '23505', MESSAGE = format('org %s already has a course "%s"', o.org_id, add_course.code);
  END IF;
  INSERT INTO @extschema@.course (org_id, code, name, subject, level, age_min, age_max, lessons_per_term, price)
  VALUES (o.org_id, add_course.code, add_course.name, add_course.subject, add_course.level, add_course.age_min,
          add_course.age_max, add_course.lessons_per_term, round(add_course.price, 2))
  RETURNING course_id INTO new_id;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION @extschema@.add_course(bigint, text, text, text, integer, numeric, integer, integer, integer) IS 'adds a course (a code unique in the org; its subject, lessons per term, price of a term, level 1-20 and the ages it takes) and returns its id';

CREATE FUNCTION @extschema@.add_class(org_id bigint, course_id bigint, name text, term_start date, term_end date,
                                      capacity integer, teacher_id bigint DEFAULT NULL, tutor_id bigint DEFAULT NULL,
                                      area text DEFAULT NULL, schedule text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  o record := @extschema@.ingest_org(add_class.org_id);
  c jsonb;
  new_id bigint;
BEGIN
  IF add_class.name IS NULL OR add_class.term_start IS NULL OR add_class.term_end IS NULL OR add_class.capacity IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'name, term_start, term_end and capacity must not be null';
  END IF;
  PERFORM @extschema@.check_length(add_class.name, 'name', 200, 1);
  PERFORM @extschema@.check_length(add_class.area, 'area', 100);
  PERFORM @extschema@.check_length(add_class.schedule, 'schedule', 200);
  PERFORM @extschema@.check_day(add_class.term_start, 'term_start', '2000-01-01', '2199-12-31');
  PERFORM @extschema@.check_day(add_class.term_end, 'term_end', add_class.term_start + 1, add_class.term_start + 731);
  IF add_class.capacity NOT BETWEEN 1 AND 100000 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'capacity must be from 1 to 100000', DETAIL = format('It is %s.', add_class.capacity);
  END IF;
  c := @extschema@.master_row(o, 'course', 'course_id', add_class.course_id, 'course');
  IF add_class.teacher_id IS NOT NULL THEN
    PERFORM @extschema@.master_row(o, 'teacher', 'teacher_id', add_class.teacher_id, 'teacher');
  END IF;
  IF add_class.tutor_id IS NOT NULL THEN
    PERFORM @extschema@.master_row(o, 'teacher', 'teacher_id', add_class.tutor_id, 'teacher');
  END IF;
  INSERT INTO @extschema@.course_class (org_id, course_id, teacher_id, tutor_id, name, term_start, term_end, capacity,
                                        age_min, age_max, level, area, schedule)
  VALUES (o.org_id, add_class.course_id, add_class.teacher_id, add_class.tutor_id, add_class.name, add_class.term_start,
          add_class.term_end, add_class.capacity, (c ->> 'age_min')::smallint, (c ->> 'age_max')::smallint,
          (c ->> 'level')::smallint, add_class.area, add_class.schedule)
  RETURNING class_id INTO new_id;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION @extschema@.add_class(bigint, bigint, text, date, date, integer, bigint, bigint, text, text) IS 'adds a class (班期) of a course: its term (first and last day, the last after the first and at most two years on, from 2000), capacity, teacher and tutor, home area and schedule; level and ages from the course; returns its id';

CREATE FUNCTION @extschema@.add_student(org_id bigint, name text, lead_id bigint DEFAULT NULL, birth_date date DEFAULT NULL,
                                        grade integer DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  o record := @extschema@.ingest_org(add_student.org_id);
  other bigint;
  new_id bigint;
BEGIN
  IF add_student.name IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'name must not be null';
  END IF;
  PERFORM @extschema@.check_length(add_student.name, 'name', 200, 1);
  PERFORM @extschema@.check_day(add_student.birth_date, 'birth_date', '1900-01-01', '2199-12-31');
  IF add_student.birth_date > (now() AT TIME ZONE o.timezone)::date THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'birth_date must not be in the future',
      DETAIL = format('It is %s.', add_student.birth_date);
  END IF;
  IF add_student.grade NOT BETWEEN 0 AND 12 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'grade must be from 0 to 12', DETAIL = format('It is %s.', add_student.grade);
  END IF;
  IF add_student.lead_id IS NOT NULL THEN
    PERFORM @extschema@.lead_of(o, add_student.lead_id);
    SELECT s.student_id INTO other FROM @extschema@.student s WHERE s.org_id = o.org_id AND s.lead_id = add_student.lead_id;
    IF other IS NOT NULL THEN
      RAISE EXCEPTION USING ERRCODE = '23505',
        MESSAGE = format('lead %s is already student %s', add_student.lead_id, other);
    END IF;
  END IF;
  INSERT INTO @extschema@.student (org_id, lead_id, name, birth_date, grade)
  VALUES (o.org_id, add_student.lead_id, add_student.name, add_student.birth_date, add_student.grade)
  RETURNING student_id INTO new_id;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION @extschema@.add_student(bigint, text, bigint, date, integer) IS 'adds a student (a child who studies), optionally the lead it came from (one student per lead, 23505 for a second), with birth date (from 1900 to today) and school grade (0-12); returns its id';

CREATE FUNCTION @extschema@.enroll_student(org_id bigint, student_id bigint, class_id bigint, enrolled_at timestamptz,
                                           order_id bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  o record := @extschema@.ingest_org(enroll_student.org_id);
  cls jsonb;
  stu jsonb;
  ord jsonb;
  taken bigint;
  new_id bigint;
BEGIN
  PERFORM @extschema@.ingest_check_time(o, enroll_student.enrolled_at, 'enrolled_at');
  stu := @extschema@.master_row(o, 'student', 'student_id', enroll_student.student_id, 'student');
  -- (the class's row locked: concurrent enrollments are counted in turn)
  cls := @extschema@.master_row(o, 'course_class', 'class_id', enroll_student.class_id, 'class', true);
  IF enroll_student.order_id IS NOT NULL THEN
    ord := @extschema@.master_row(o, 'sales_order', 'order_id', enroll_student.order_id, 'order');
    IF (ord ->> 'lead_id') IS DISTINCT FROM (stu ->> 'lead_id') THEN
      RAISE EXCEPTION USING ERRCODE = '22023',
        MESSAGE = format('order %s is not of the lead of student %s', enroll_student.order_id, enroll_student.student_id);
    END IF;
  END IF;
  IF cls ->> 'status' IN ('finished', 'cancelled') THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('class %s is %s', enroll_student.class_id, cls ->> 'status');
  END IF;
  IF EXISTS (SELECT 1 FROM @extschema@.enrollment e WHERE e.org_id = o.org_id AND e.student_id = enroll_student.student_id
                AND e.class_id = enroll_student.class_id) THEN
    RAISE EXCEPTION USING ERRCODE = '23505',
      MESSAGE = format('student %s is already in class %s', enroll_student.student_id, enroll_student.class_id);
  END IF;
  SELECT count(*) INTO taken FROM @extschema@.enrollment e
   WHERE e.org_id = o.org_id AND e.class_id = enroll_student.class_id AND e.status = 'active';
  IF taken >= (cls ->> 'capacity')::int THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('class %s is full', enroll_student.class_id),
      DETAIL = format('It has %s active students, its capacity.', taken);
  END IF;
  INSERT INTO @extschema@.enrollment (org_id, student_id, class_id, order_id, enrolled_at)
  VALUES (o.org_id, enroll_student.student_id, enroll_student.class_id, enroll_student.order_id, enroll_student.enrolled_at)
  RETURNING enrollment_id INTO new_id;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION @extschema@.enroll_student(bigint, bigint, bigint, timestamptz, bigint) IS 'enrolls a student in a class at enrolled_at (within the org''s window), optionally paid by an order of the student''s lead; 22023 when the class is finished, cancelled or full (its active enrollments reach its capacity), 23505 when the student is in it already; returns the enrollment id';

CREATE FUNCTION @extschema@.end_enrollment(org_id bigint, enrollment_id bigint, status text, ended_at timestamptz)
RETURNS void
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  o record := @extschema@.ingest_org(end_enrollment.org_id);
  e jsonb;
BEGIN
  IF end_enrollment.status IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'status must not be null';
  END IF;
  PERFORM @extschema@.check_one_of(end_enrollment.status, '{completed,dropped,refunded}', 'end status', 'statuses');
  PERFORM @extschema@.ingest_check_time(o, end_enrollment.ended_at, 'ended_at');
  e := @extschema@.master_row(o, 'enrollment', 'enrollment_id', end_enrollment.enrollment_id, 'enrollment', true);
  IF e ->> 'status' <> 'active' THEN
    RAISE EXCEPTION USING ERRCODE = '22023',
      MESSAGE = format('enrollment %s has ended already (%s)', end_enrollment.enrollment_id, e ->> 'status');
  END IF;
  IF end_enrollment.ended_at < (e ->> 'enrolled_at')::timestamptz THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'ended_at is before the enrollment began',
      DETAIL = format('It began at %s.', (e ->> 'enrolled_at')::timestamptz);
  END IF;
  UPDATE @extschema@.enrollment x SET status = end_enrollment.status, ended_at = end_enrollment.ended_at
   WHERE x.org_id = o.org_id AND x.enrollment_id = end_enrollment.enrollment_id;
END
$$;
COMMENT ON FUNCTION @extschema@.end_enrollment(bigint, bigint, text, timestamptz) IS 'ends an active enrollment as completed, dropped or refunded at ended_at (within the org''s window, not before it began); the service views take a dropped or refunded term as churned';

CREATE FUNCTION @extschema@.renew_enrollment(org_id bigint, enrollment_id bigint, class_id bigint, renewed_at timestamptz,
                                             order_id bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  o record := @extschema@.ingest_org(renew_enrollment.org_id);
  e jsonb;
  new_id bigint;
BEGIN
  PERFORM @extschema@.ingest_check_time(o, renew_enrollment.renewed_at, 'renewed_at');
  e := @extschema@.master_row(o, 'enrollment', 'enrollment_id', renew_enrollment.enrollment_id, 'enrollment', true);
  IF EXISTS (SELECT 1 FROM @extschema@.renewal r WHERE r.org_id = o.org_id AND r.from_enrollment_id = renew_enrollment.enrollment_id) THEN
    RAISE EXCEPTION USING ERRCODE = '23505', MESSAGE = format('enrollment %s is renewed already', renew_enrollment.enrollment_id);
  END IF;
  IF renew_enrollment.renewed_at < (e ->> 'enrolled_at')::timestamptz THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'renewed_at is before the enrollment began',
      DETAIL = format('It began at %s.', (e ->> 'enrolled_at')::timestamptz);
  END IF;
  new_id := @extschema@.enroll_student(o.org_id, (e ->> 'student_id')::bigint, renew_enrollment.class_id,
                                       renew_enrollment.renewed_at, renew_enrollment.order_id);
  INSERT INTO @extschema@.renewal (org_id, from_enrollment_id, to_enrollment_id, order_id, renewed_at)
  VALUES (o.org_id, renew_enrollment.enrollment_id, new_id, renew_enrollment.order_id, renew_enrollment.renewed_at);
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION @extschema@.renew_enrollment(bigint, bigint, bigint, timestamptz, bigint) IS 'renews a student''s enrollment into a class of the next term at renewed_at (within the org''s window): enrolls the student as enroll_student does and records the renewal, which the service views count when it falls by the term''s end plus the org''s renewal grace; 23505 for an enrollment renewed already; returns the new enrollment id';
