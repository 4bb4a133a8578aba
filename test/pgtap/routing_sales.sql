-- role: lm_sales1
-- A sales rep's role does not set routing policy or ask for landing
-- decisions (0.17): refused (42501); it reads its org's holdout.
BEGIN;
SELECT * FROM no_plan();

SELECT throws_ok($$SELECT * FROM leadmgmt.landing_decision(1, 'v-sales', '{"channel": "baidu"}')$$, '42501', NULL,
                 'landing_decision refused');
SELECT throws_ok($$INSERT INTO leadmgmt.handler_value (org_id, handler_role, relative_conversion, cost_per_lead) VALUES (1, 'tmk', 2, 0)$$,
                 '42501', NULL, 'handler_value: no write');
SELECT throws_ok($$INSERT INTO leadmgmt.landing_variant (org_id, variant, min_score) VALUES (1, 'mine', 0)$$, '42501', NULL,
                 'landing_variant: no write');
SELECT throws_ok($$UPDATE leadmgmt.org SET holdout_share = 0 WHERE org_id = 1$$, '42501', NULL, 'org: the holdout is not its to end');
SELECT throws_ok($$INSERT INTO leadmgmt.routing_log (org_id, lead_id, cause, new_tier, new_handler, reason) VALUES (1, 1, 'x', 'A', 'sales', 'x')$$,
                 '42501', NULL, 'routing_log: no write');

SELECT * FROM finish();
ROLLBACK;
