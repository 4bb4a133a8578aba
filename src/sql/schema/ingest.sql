
-- ---------------------------------------------------------------------------
-- Ingestion's data (docs/reference/ingest.md): visitor linking (since 0.16).
-- A visitor's anonymous touches belong to the lead its form made:
-- ingest_lead and record_touch link them from 0.16 on, and this links those
-- recorded before, each to the lead of the visitor's first linked touch.
-- ---------------------------------------------------------------------------
UPDATE @extschema@.touchpoint t SET lead_id = v.lead_id
  FROM (SELECT DISTINCT ON (x.org_id, x.visitor_id) x.org_id, x.visitor_id, x.lead_id
          FROM @extschema@.touchpoint x
         WHERE x.visitor_id IS NOT NULL AND x.lead_id IS NOT NULL
         ORDER BY x.org_id, x.visitor_id, x.occurred_at, x.touchpoint_id) v
 WHERE t.org_id = v.org_id AND t.visitor_id = v.visitor_id AND t.lead_id IS NULL;
