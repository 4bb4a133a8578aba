
-- ---------------------------------------------------------------------------
-- Time window (since 0.15; docs/reference/ingest.md "Whose clock"): the
-- times a caller may pass.  A superuser (a DBA loading history) passes any
-- finite time; app and admin roles a time within the org's window around the
-- server's clock, from backfill_horizon before now to future_tolerance after
-- it; sales and reporting roles none, the server's clock decides.  Safe to
-- run on a schema that has it (each DDL statement on its own, for Citus).
-- ---------------------------------------------------------------------------
DO $org$
BEGIN
  ALTER TABLE @extschema@.org ADD COLUMN IF NOT EXISTS backfill_horizon interval NOT NULL DEFAULT '30 days';
END
$org$;
DO $org$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'org_backfill_horizon_check'
                    AND conrelid = '@extschema@.org'::regclass) THEN
    ALTER TABLE @extschema@.org ADD CONSTRAINT org_backfill_horizon_check CHECK (backfill_horizon >= interval '0');
  END IF;
END
$org$;
-- an infinite as-of time emptied every service view (until 0.15): the
-- reports of such an org are taken as of now, as for NULL
UPDATE @extschema@.org SET report_as_of = NULL WHERE NOT isfinite(report_as_of);
DO $org$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'org_report_as_of_check'
                    AND conrelid = '@extschema@.org'::regclass) THEN
    ALTER TABLE @extschema@.org ADD CONSTRAINT org_report_as_of_check CHECK (isfinite(report_as_of));
  END IF;
END
$org$;
COMMENT ON COLUMN @extschema@.org.backfill_horizon IS 'how far before the server''s clock a time passed by an app or admin role may lie (since 0.15; a superuser loads older history); with future_tolerance the window of such times';
