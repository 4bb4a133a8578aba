-- role: lm_sales1
-- The assignment engine as a sales rep's role: it releases, claims and follows
-- up its own leads through the engine functions, which check the caller; it
-- may not act as another rep, nor run the org's assignment.
BEGIN;
SELECT * FROM no_plan();

SELECT is(leadmgmt.log_follow_up(1, tap.v('own_lead'), tap.v('rep1'), 'wechat', 'sent') > 0, true,
          'follows up its own lead through log_follow_up');
SELECT throws_ok(format($$SELECT leadmgmt.log_follow_up(1, %s, %s, 'call', 'connected')$$, tap.v('own_lead'), tap.v('rep2')),
                 '42501', NULL, 'may not log a follow-up as another rep');
SELECT throws_ok(format('SELECT leadmgmt.release_lead(1, %s)', tap.v('other_private_lead')),
                 '42501', NULL, 'may not release another rep''s lead');
-- the server's clock decides a rep's cool-down and caps (since 0.15: until
-- then a rep could pass at => '2300-01-01' and claim back a lead it had just lost)
SELECT throws_ok(format($$SELECT leadmgmt.release_lead(1, %s, at => '1900-01-01')$$, tap.v('own_lead')),
                 '42501', 'permission denied to choose at', 'may not choose the time of a release');
SELECT is(leadmgmt.release_lead(1, tap.v('own_lead')), tap.v('rep1'), 'releases its own lead without naming itself');
SELECT is((SELECT pool FROM leadmgmt.lead WHERE lead_id = tap.v('own_lead')), 'public', 'the lead is in the public pool');
SELECT throws_ok(format('SELECT leadmgmt.claim_lead(1, %s, %s)', tap.v('own_lead'), tap.v('rep2')),
                 '42501', NULL, 'may not claim for another rep');
SELECT throws_ok(format($$SELECT leadmgmt.claim_lead(1, %s, %s, at => '2300-01-01')$$, tap.v('own_lead'), tap.v('rep1')),
                 '42501', 'permission denied to choose at', 'may not choose the time of a claim (to end its cool-down)');
SELECT throws_ok(format($$SELECT leadmgmt.claim_lead(1, %s, %s, at => now())$$, tap.v('own_lead'), tap.v('rep1')),
                 '42501', 'permission denied to choose at', 'not even the server''s own time');
SELECT throws_ok(format('SELECT leadmgmt.claim_lead(1, %s, %s)', tap.v('own_lead'), tap.v('rep1')),
                 '55000', NULL, 'may not claim back a lead it released, during the cool-down');
SELECT throws_ok(format($$SELECT leadmgmt.log_follow_up(1, %s, %s, 'call', 'connected', occurred_at => '1900-01-01')$$,
                        tap.v('cooled_lead'), tap.v('rep1')),
                 '42501', 'permission denied to choose occurred_at', 'may not backdate a follow-up');
SELECT is(leadmgmt.claim_lead(1, tap.v('cooled_lead'), tap.v('rep1')) > 0, true,
          'claims a lead it released longer ago than the cool-down, by the server''s clock');
SELECT is((SELECT owner_rep_id FROM leadmgmt.lead WHERE lead_id = tap.v('cooled_lead')), tap.v('rep1'), 'and owns it again');
SELECT is((SELECT owned_since = now() FROM leadmgmt.lead WHERE lead_id = tap.v('cooled_lead')), true, 'since the server''s now()');
SELECT is((SELECT count(*) FROM leadmgmt.lead_history(1, tap.v('cooled_lead')) h
            WHERE h.source = 'assignment' AND h.detail ->> 'reason' = 'claim'), 2::bigint,
          'the claim is in the history it can read (the fixture''s and this one)');
SELECT throws_ok('SELECT count(*) FROM leadmgmt.assign_pending(1, 5)', '42501', NULL, 'may not run the org''s assignment');
SELECT throws_ok(format('SELECT leadmgmt.assign_lead(1, %s)', tap.v('public_lead')), '42501', NULL, 'nor assign a lead');
SELECT throws_ok('SELECT count(*) FROM leadmgmt.recycle_stale(1)', '42501', NULL, 'nor recycle');
SELECT throws_ok('SELECT count(*) FROM leadmgmt.claim_lead(2, 1, 1)', '42501', NULL, 'nor act in another org');

-- check_rep_access reads the caller's group role memberships (0.11)
SELECT lives_ok(format('SELECT leadmgmt.check_rep_access(1, %s)', tap.v('rep1')), 'check_rep_access: its own rep');
SELECT throws_ok(format('SELECT leadmgmt.check_rep_access(1, %s)', tap.v('rep2')), '42501', NULL, 'check_rep_access: another rep');
SELECT throws_ok('SELECT leadmgmt.check_rep_access(1, NULL)', '42501', NULL, 'check_rep_access: a NULL rep grants nothing');
SELECT throws_ok(format('SELECT leadmgmt.check_rep_access(NULL, %s)', tap.v('rep1')), '42501', NULL, 'check_rep_access: nor a NULL org');
SELECT throws_ok(format('SELECT leadmgmt.check_rep_access(2, %s)', tap.v('rep1')), '42501', NULL, 'check_rep_access: nor another org');
SELECT * FROM finish();
ROLLBACK;
