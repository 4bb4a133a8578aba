-- role: lm_app
-- Real-time routing (0.17) as an application role of orgs 1 and 2: it asks
-- for landing decisions and records events that re-tier and re-route, for
-- the org it acts for only; another org's leads are unknown leads, another
-- org's logs and holdout invisible.  (Ids are read into temporary tables and
-- passed as constants: on a Citus cluster a call with a subquery argument is
-- planned whole onto the org's worker; docs/dba/citus.md.)
BEGIN;
SELECT * FROM no_plan();

SELECT throws_ok($$SELECT * FROM leadmgmt.landing_decision(1, 'v-app', '{"channel": "baidu"}')$$, '23503', 'unknown org 1',
                 'landing_decision: nothing without leadmgmt.org_id');
SET LOCAL leadmgmt.org_id = '2';
CREATE TEMP TABLE ids AS
SELECT 'lead2'::text AS what, min(lead_id) AS id FROM leadmgmt.lead
 WHERE org_id = 2 AND tier = 'D' AND routing_arm = 'tiered' AND pool = 'private' AND status NOT IN ('won', 'lost');
SET LOCAL leadmgmt.org_id = '1';
INSERT INTO ids SELECT 'lead1', min(lead_id) FROM leadmgmt.lead
 WHERE org_id = 1 AND tier = 'D' AND routing_arm = 'tiered' AND pool = 'private' AND status NOT IN ('won', 'lost');
INSERT INTO ids SELECT 'routes1', count(*) FROM leadmgmt.routing_log WHERE org_id = 1;
CREATE FUNCTION pg_temp.id(w text) RETURNS bigint LANGUAGE sql AS $$ SELECT id FROM ids WHERE what = w $$;
-- (as a constant where a query reads a distributed table: Citus would send
-- the temporary function to a worker, where it does not exist)
SELECT id AS lead1 FROM ids WHERE what = 'lead1' \gset
SELECT isnt(pg_temp.id('lead1'), NULL, 'org 1 has an owned D lead of the tiered arm');

-- landing decisions for org 1
CREATE TEMP TABLE d AS SELECT * FROM leadmgmt.landing_decision(1, 'v-app-1', '{"channel": "baidu", "grade": 2}');
SELECT is((SELECT count(*) FROM d WHERE variant IS NOT NULL AND touchpoint_id IS NOT NULL), 1::bigint, 'landing_decision for its own org');
CREATE TEMP TABLE t AS SELECT kind, attrs ->> 'decision' AS decision FROM leadmgmt.touchpoint
 WHERE org_id = 1 AND visitor_id = 'v-app-1';
SELECT is((SELECT kind || ' ' || decision FROM t), (SELECT 'impression ' || variant FROM d), 'the exposure is an impression touch with the decision');
SELECT throws_ok($$SELECT * FROM leadmgmt.landing_decision(2, 'v-app-2', '{"channel": "baidu"}')$$, '23503', 'unknown org 2',
                 'landing_decision: not for org 2 while acting for org 1');
SELECT throws_ok($$SELECT * FROM leadmgmt.landing_decision(1, NULL, '{"channel": "baidu"}')$$, '22004', NULL, 'landing_decision: NULL visitor');

-- an event re-tiers and re-routes org 1's lead, at the server's clock
SELECT lives_ok(format($$SELECT leadmgmt.record_event(1, %s, 'sms_verified', now())$$, pg_temp.id('lead1')),
                'record_event of its own lead');
CREATE TEMP TABLE l1 AS SELECT l.tier, r.role FROM leadmgmt.lead l LEFT JOIN leadmgmt.sales_rep r ON r.org_id = l.org_id AND r.rep_id = l.owner_rep_id
 WHERE l.org_id = 1 AND l.lead_id = :lead1;
SELECT is((SELECT tier::text FROM l1), 'C', 'the lead is tier C at once');
CREATE TEMP TABLE g1 AS SELECT count(*) AS n, max(new_handler) FILTER (WHERE lead_id = :lead1) AS h FROM leadmgmt.routing_log WHERE org_id = 1;
SELECT is((SELECT n FROM g1), pg_temp.id('routes1') + 1, 'one re-route logged');
SELECT is((SELECT h FROM g1), 'tmk', 'the lead went to telemarketing');
SELECT throws_ok(format($$SELECT leadmgmt.record_event(1, %s, 'sms_verified', now())$$, pg_temp.id('lead2')), '23503', NULL,
                 'record_event: org 2''s lead is an unknown lead');
SELECT throws_ok(format($$SELECT leadmgmt.record_event(2, %s, 'sms_verified', now())$$, pg_temp.id('lead2')), '23503', 'unknown org 2',
                 'record_event: not for org 2 while acting for org 1');
-- the logs and the holdout of org 1 only
CREATE TEMP TABLE seen AS SELECT (SELECT count(*) FROM leadmgmt.routing_log WHERE org_id <> 1) AS logs,
       (SELECT count(*) FROM leadmgmt.routing_holdout WHERE org_id <> 1) AS holdout,
       (SELECT count(*) FROM leadmgmt.routing_holdout WHERE org_id = 1) AS holdout1,
       (SELECT count(*) FROM leadmgmt.handler_value WHERE org_id <> 1) AS pools;
SELECT is((SELECT logs + holdout + pools FROM seen), 0::bigint, 'no row of org 2 in routing_log, routing_holdout, handler_value');
SELECT is((SELECT holdout1 FROM seen), 2::bigint, 'org 1''s holdout: two arms');
-- the policy of the org it acts for
SELECT lives_ok($$INSERT INTO leadmgmt.landing_variant (org_id, variant, min_score) VALUES (1, 'app-variant', 0.9)$$,
                'landing_variant for its own org');
SELECT throws_ok($$INSERT INTO leadmgmt.landing_variant (org_id, variant, min_score) VALUES (2, 'app-variant', 0.9)$$, '42501', NULL,
                 'landing_variant: not for org 2 while acting for org 1');

SELECT * FROM finish();
ROLLBACK;
