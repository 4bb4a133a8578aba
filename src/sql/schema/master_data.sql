
-- ---------------------------------------------------------------------------
-- Master data (since 0.16; docs/reference/master_data.md): a rep's dated
-- leave, which takes it off the assignment roster for those days.  The other
-- master data (teams, reps, shifts, teachers, courses, classes, students,
-- enrollments, renewals) has had tables since 0.1; 0.16 gives them functions.
-- Safe to run again (install() runs it as schema step 0.16, also on a
-- distributed Citus cluster: the table is distributed before its key).
-- ---------------------------------------------------------------------------
CREATE TABLE IF NOT EXISTS @extschema@.rep_leave (
  org_id      bigint NOT NULL,
  leave_id    bigint GENERATED ALWAYS AS IDENTITY,
  rep_id      bigint NOT NULL,
  first_day   date NOT NULL,
  last_day    date NOT NULL,
  reason      text,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT rep_leave_pkey PRIMARY KEY (org_id, leave_id),
  CONSTRAINT rep_leave_days_check CHECK (last_day >= first_day AND last_day - first_day < 366),
  CONSTRAINT rep_leave_reason_check CHECK (length(reason) <= 200)
);
CREATE INDEX IF NOT EXISTS rep_leave_rep_idx ON @extschema@.rep_leave (org_id, rep_id, first_day);
COMMENT ON TABLE @extschema@.rep_leave IS 'a rep''s leave, whole days in the org''s time zone: on those days the rep gets no leads from assign_lead or assign_pending (add_leave, cancel_leave)';
COMMENT ON COLUMN @extschema@.rep_leave.org_id IS 'tenant';
COMMENT ON COLUMN @extschema@.rep_leave.leave_id IS 'leave id';
COMMENT ON COLUMN @extschema@.rep_leave.rep_id IS 'the rep on leave';
COMMENT ON COLUMN @extschema@.rep_leave.first_day IS 'first day of leave, in the org''s time zone';
COMMENT ON COLUMN @extschema@.rep_leave.last_day IS 'last day of leave (inclusive), at most 365 days after the first';
COMMENT ON COLUMN @extschema@.rep_leave.reason IS 'why, such as annual leave (up to 200 characters)';
COMMENT ON COLUMN @extschema@.rep_leave.recorded_at IS 'when the leave was recorded (the server''s clock)';

DO $keys$
BEGIN
  -- (EXECUTE: the Citus catalog exists only where Citus does)
  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
    EXECUTE $q$SELECT create_distributed_table('@extschema@.rep_leave', 'org_id', colocate_with => '@extschema@.org')
                WHERE EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = '@extschema@.sales_rep'::regclass)
                  AND NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = '@extschema@.rep_leave'::regclass)$q$;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'rep_leave_rep_fkey'
                    AND conrelid = '@extschema@.rep_leave'::regclass) THEN
    ALTER TABLE @extschema@.rep_leave ADD CONSTRAINT rep_leave_rep_fkey
      FOREIGN KEY (org_id, rep_id) REFERENCES @extschema@.sales_rep (org_id, rep_id) ON DELETE CASCADE;
  END IF;
END
$keys$;

