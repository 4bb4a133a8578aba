-- Grants and expected values for the pgTAP tests.  Runs as the superuser in
-- database leadmgmt_tap after the demo generator filled org 1 and org 2.
SELECT leadmgmt.grant_access('lm_bi', 1, 'reporting');
SELECT leadmgmt.grant_access('lm_app', 1, 'app');
SELECT leadmgmt.grant_access('lm_app', 2, 'app');
SELECT leadmgmt.grant_access('lm_admin1', 1, 'admin');
SELECT leadmgmt.grant_access('lm_sales1', 1, 'sales',
  (SELECT min(rep_id) FROM leadmgmt.sales_rep WHERE org_id = 1 AND role = 'sales'));
SELECT leadmgmt.grant_access('lm_sales2', 1, 'sales',
  (SELECT max(rep_id) FROM leadmgmt.sales_rep WHERE org_id = 1 AND role = 'sales'));

CREATE TABLE public.tap_fixture (name text PRIMARY KEY, v bigint NOT NULL);
GRANT SELECT ON public.tap_fixture TO PUBLIC;
WITH r AS (SELECT min(rep_id) AS r1, max(rep_id) AS r2 FROM leadmgmt.sales_rep WHERE org_id = 1 AND role = 'sales')
INSERT INTO public.tap_fixture
SELECT 'rep1', r1 FROM r UNION ALL
SELECT 'rep2', r2 FROM r UNION ALL
SELECT 'own_lead', (SELECT min(lead_id) FROM leadmgmt.lead, r WHERE org_id = 1 AND owner_rep_id = r1) FROM r UNION ALL
SELECT 'other_private_lead', (SELECT min(lead_id) FROM leadmgmt.lead, r WHERE org_id = 1 AND owner_rep_id = r2) FROM r UNION ALL
SELECT 'public_lead', (SELECT min(lead_id) FROM leadmgmt.lead WHERE org_id = 1 AND pool = 'public') UNION ALL
SELECT 'org2_lead', (SELECT min(lead_id) FROM leadmgmt.lead WHERE org_id = 2) UNION ALL
SELECT 'org1_leads', (SELECT count(*) FROM leadmgmt.lead WHERE org_id = 1) UNION ALL
SELECT 'org2_leads', (SELECT count(*) FROM leadmgmt.lead WHERE org_id = 2) UNION ALL
SELECT 'sales1_leads', (SELECT count(*) FROM leadmgmt.lead, r WHERE org_id = 1 AND (pool = 'public' OR owner_rep_id = r1)) FROM r UNION ALL
SELECT 'sales1_events', (SELECT count(*) FROM leadmgmt.lead_event e JOIN leadmgmt.lead l USING (org_id, lead_id), r
                          WHERE e.org_id = 1 AND (l.pool = 'public' OR l.owner_rep_id = r1)) FROM r;
