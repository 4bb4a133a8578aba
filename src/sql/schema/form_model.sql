
-- ---------------------------------------------------------------------------
-- The form-time model (since 0.16; docs/reference/model.md): a conversion
-- model of a stage, 'contact' (the model of before, which learns from what
-- reps do) or 'form' (only what is known when the form arrives, which
-- ingest_lead scores at once into lead.form_score).  Safe to run again
-- (install() runs it as schema step 0.16; each DDL statement on its own, for
-- Citus).  schema.sql has the column in conversion_model for a new schema.
-- ---------------------------------------------------------------------------
DO $cm$
BEGIN
  ALTER TABLE @extschema@.conversion_model ADD COLUMN IF NOT EXISTS stage text NOT NULL DEFAULT 'contact';
END
$cm$;
DO $cm$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'conversion_model_stage_check'
                    AND conrelid = '@extschema@.conversion_model'::regclass) THEN
    ALTER TABLE @extschema@.conversion_model ADD CONSTRAINT conversion_model_stage_check CHECK (stage IN ('contact', 'form'));
  END IF;
END
$cm$;
-- (in a DO block: Citus sends DDL on a distributed table on to the workers
-- as the text of the statement, which must be one statement)
DO $cm$
BEGIN
  DROP INDEX IF EXISTS @extschema@.conversion_model_one_active;
  CREATE UNIQUE INDEX IF NOT EXISTS conversion_model_one_active_per_stage ON @extschema@.conversion_model (org_id, stage) WHERE active;
END
$cm$;
COMMENT ON TABLE @extschema@.conversion_model IS 'registry of trained conversion models, versioned per org and name; at most one active per org and stage';
COMMENT ON COLUMN @extschema@.conversion_model.stage IS 'contact: learns from everything known of a lead, reps'' work included (lead.score); form: only from what is known when the form arrives (lead.form_score, scored by ingest_lead)';

DO $lead$
BEGIN
  ALTER TABLE @extschema@.lead ADD COLUMN IF NOT EXISTS form_score float8, ADD COLUMN IF NOT EXISTS form_scored_at timestamptz,
    ADD COLUMN IF NOT EXISTS form_score_model_id bigint;
END
$lead$;
DO $lead$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'lead_form_score_check'
                    AND conrelid = '@extschema@.lead'::regclass) THEN
    ALTER TABLE @extschema@.lead ADD CONSTRAINT lead_form_score_check CHECK (form_score BETWEEN 0 AND 1);
  END IF;
END
$lead$;
DO $lead$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conname = 'lead_form_score_model_fkey'
                    AND conrelid = '@extschema@.lead'::regclass) THEN
    ALTER TABLE @extschema@.lead ADD CONSTRAINT lead_form_score_model_fkey
      FOREIGN KEY (org_id, form_score_model_id) REFERENCES @extschema@.conversion_model (org_id, model_id);
  END IF;
END
$lead$;
COMMENT ON COLUMN @extschema@.lead.form_score IS 'probability of conversion when the form arrived, under the org''s active form-time model (ingest_lead; score_leads with a form model rescores it)';
COMMENT ON COLUMN @extschema@.lead.form_scored_at IS 'when form_score was computed';
COMMENT ON COLUMN @extschema@.lead.form_score_model_id IS 'the form-time model that gave form_score';
