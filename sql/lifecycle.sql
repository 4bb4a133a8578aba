-- lifecycle: a lead's status moves with the orders, refunds, events and
-- follow-ups that mean them, lost takes a reason from the org's list, every
-- move is recorded, and won leads leave the pools' recycling (0.14).
-- No id is printed: on a Citus cluster each worker numbers its own rows.
SET client_min_messages = warning;
SET TimeZone = 'Asia/Shanghai';
-- an error as its SQLSTATE and message, ids left out
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN EXECUTE q; RETURN 'no error';
EXCEPTION WHEN others THEN
  RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, '(lead|org|order|rep) -?[0-9]+', '\1 N', 'g');
END $$;
SELECT leadmgmt.create_org('Lifecycle School') AS org \gset
SELECT leadmgmt.create_org('Other School') AS org2 \gset
-- explicit 2026 times, accepted wherever the server's clock stands
UPDATE leadmgmt.org SET future_tolerance = '100 years' WHERE org_id IN (:org, :org2);
SELECT leadmgmt.add_channel(:org, 'douyin', 'Douyin', 'paid') > 0 AS channel;
SELECT code, label, active FROM leadmgmt.lost_reason WHERE org_id = :org ORDER BY code;
SELECT * FROM leadmgmt.lead_transitions() ORDER BY 1, 2;
INSERT INTO leadmgmt.sales_rep (org_id, name, role) VALUES (:org, 'rep a', 'sales');
SELECT rep_id AS rep FROM leadmgmt.sales_rep WHERE org_id = :org \gset
SELECT lead_id AS l1 FROM leadmgmt.ingest_lead(:org, '13800000001', 'douyin', NULL, '2026-03-01 09:00+08') \gset
SELECT lead_id AS l2 FROM leadmgmt.ingest_lead(:org, '13800000002', 'douyin', NULL, '2026-03-01 09:10+08') \gset
SELECT lead_id AS l3 FROM leadmgmt.ingest_lead(:org, '13800000003', 'douyin', NULL, '2026-03-01 09:20+08') \gset
SELECT lead_id AS l4 FROM leadmgmt.ingest_lead(:org, '13800000004', 'douyin', NULL, '2026-03-01 09:30+08') \gset

-- a paid order (and a paid event) wins the lead, at the payment's time
SELECT leadmgmt.record_order(:org, :l1, 'Spring term', 3000, '2026-03-05 10:00+08', list_price => 3600) AS o1 \gset
SELECT leadmgmt.record_event(:org, :l1, 'paid', '2026-03-05 10:00+08') > 0 AS event_recorded;
SELECT status, status_changed_at, status_note ~ '^order [0-9]+ paid$' AS note_names_order FROM leadmgmt.lead
 WHERE org_id = :org AND lead_id = :l1;
SELECT product, list_price, discount, amount, status, paid_at FROM leadmgmt.sales_order WHERE org_id = :org AND lead_id = :l1;
SELECT from_status, to_status, changed_at, cause, changed_by = session_user AS by_this_session
  FROM leadmgmt.lead_status_change WHERE org_id = :org AND lead_id = :l1 ORDER BY changed_at;

-- a won lead leaves the pools' recycling: owned since March with no
-- follow-up, beside an open lead owned as long, it is not recycled in June
UPDATE leadmgmt.lead SET pool = 'private', owner_rep_id = :rep, owned_since = '2026-03-05 11:00+08'
 WHERE org_id = :org AND lead_id IN (:l1, :l4);
SELECT lead_id = :l4 AS is_the_open_lead, reason FROM leadmgmt.recycle_stale(:org, '2026-06-01 00:00+08');
SELECT lead_id = :l1 AS l1, status, pool FROM leadmgmt.lead WHERE org_id = :org AND lead_id IN (:l1, :l4) ORDER BY 1 DESC;

-- trial events move a lead forward, never back
SELECT leadmgmt.record_event(:org, :l2, 'trial_booked', '2026-03-02 10:00+08') > 0 AS booked;
SELECT status, status_changed_at FROM leadmgmt.lead WHERE org_id = :org AND lead_id = :l2;
SELECT leadmgmt.record_event(:org, :l2, 'trial_attended', '2026-03-03 10:00+08') > 0 AS attended;
SELECT leadmgmt.record_event(:org, :l2, 'trial_booked', '2026-03-04 10:00+08') > 0 AS booked_again;
SELECT status, status_changed_at FROM leadmgmt.lead WHERE org_id = :org AND lead_id = :l2;
-- an event dated before the lead's current status does not move time back
SELECT lead_id AS l5 FROM leadmgmt.ingest_lead(:org, '13800000005', 'douyin', NULL, '2026-03-02 09:00+08') \gset
SELECT leadmgmt.record_event(:org, :l5, 'trial_booked', '2026-03-01 08:00+08') > 0 AS booked_before_created;
SELECT status, status_changed_at - created_at AS after_creation FROM leadmgmt.lead WHERE org_id = :org AND lead_id = :l5;

-- a follow-up makes a new lead contacting, at the follow-up's time
UPDATE leadmgmt.lead SET pool = 'private', owner_rep_id = :rep, owned_since = '2026-03-01 09:30+08'
 WHERE org_id = :org AND lead_id = :l3;
SELECT leadmgmt.log_follow_up(:org, :l3, :rep, 'call', 'connected', occurred_at => '2026-03-01 11:00+08') > 0 AS followed_up;
SELECT status, status_changed_at FROM leadmgmt.lead WHERE org_id = :org AND lead_id = :l3;

-- lost, with a reason from the org's list, at the server's clock
SELECT leadmgmt.mark_lost(:org, :l3, 'price') AS lost;
SELECT leadmgmt.mark_lost(:org, :l3, 'price') AS lost_again;
SELECT status, lost_reason, status_note, status_changed_at BETWEEN now() - interval '1 minute' AND now() AS timed_by_server
  FROM leadmgmt.lead WHERE org_id = :org AND lead_id = :l3;
SELECT from_status, to_status, cause, lost_reason, rep_id = :rep AS by_owner
  FROM leadmgmt.lead_status_change WHERE org_id = :org AND lead_id = :l3 ORDER BY change_id;
-- a lost lead comes back with a paid order
SELECT leadmgmt.record_order(:org, :l3, 'Summer camp', 800, '2026-03-20 10:00+08') > 0 AS ordered;
SELECT status, lost_reason FROM leadmgmt.lead WHERE org_id = :org AND lead_id = :l3;

-- the rules hold for every writer
SELECT pg_temp.err(format($q$SELECT leadmgmt.update_lead(%s, %s, '{"status": "won"}')$q$, :org, :l4));
SELECT pg_temp.err(format($q$SELECT leadmgmt.update_lead(%s, %s, '{"status": "lost"}')$q$, :org, :l4));
SELECT pg_temp.err(format($q$SELECT leadmgmt.update_lead(%s, %s, '{"lost_reason": "price"}')$q$, :org, :l4));
SELECT pg_temp.err(format($q$SELECT leadmgmt.update_lead(%s, %s, '{"status": "lost", "lost_reason": "nonsense"}')$q$, :org, :l4));
SELECT pg_temp.err(format($q$SELECT leadmgmt.update_lead(%s, %s, '{"status": "new"}')$q$, :org, :l2));
SELECT leadmgmt.update_lead(:org, :l4, '{"status": "lost", "lost_reason": "schedule"}');
SELECT status, lost_reason FROM leadmgmt.lead WHERE org_id = :org AND lead_id = :l4;
SELECT leadmgmt.update_lead(:org, :l4, '{"status": "contacting"}');
SELECT status, lost_reason FROM leadmgmt.lead WHERE org_id = :org AND lead_id = :l4;
SELECT pg_temp.err(format($q$SELECT leadmgmt.mark_lost(%s, %s, 'price')$q$, :org, :l1));
SELECT pg_temp.err(format($q$UPDATE leadmgmt.lead SET status = 'trial_booked' WHERE org_id = %s AND lead_id = %s$q$, :org, :l1));
SELECT pg_temp.err(format($q$SELECT leadmgmt.mark_lost(%s, %s, NULL)$q$, :org, :l4));
SELECT pg_temp.err(format($q$SELECT leadmgmt.mark_lost(%s, %s, 'x' || repeat('y', 5000))$q$, :org, :l4));
SELECT pg_temp.err(format($q$SELECT leadmgmt.mark_lost(%s, NULL, 'price')$q$, :org));
SELECT pg_temp.err(format($q$SELECT leadmgmt.mark_lost(%s, %s, 'price')$q$, :org2, :l4));
SELECT pg_temp.err(format($q$SELECT leadmgmt.mark_lost(-1, %s, 'price')$q$, :l4));
SELECT pg_temp.err(format($q$SELECT leadmgmt.mark_lost(%s, %s, 'price', repeat('n', 201))$q$, :org, :l4));

-- the org's list of reasons
SELECT leadmgmt.set_lost_reason(:org, 'moved_away', 'moved to another city');
SELECT leadmgmt.set_lost_reason(:org, 'price', 'price too high', active => false);
SELECT pg_temp.err(format($q$SELECT leadmgmt.mark_lost(%s, %s, 'price')$q$, :org, :l4));
SELECT leadmgmt.mark_lost(:org, :l4, 'moved_away');
SELECT pg_temp.err(format($q$SELECT leadmgmt.set_lost_reason(%s, 'Bad Code', 'x')$q$, :org));
SELECT pg_temp.err(format($q$SELECT leadmgmt.set_lost_reason(%s, 'ok', '')$q$, :org));
SELECT pg_temp.err(format($q$SELECT leadmgmt.set_lost_reason(%s, NULL, 'x')$q$, :org));

-- orders and refunds: bad input
SELECT pg_temp.err(format($q$SELECT leadmgmt.record_order(%s, %s, NULL, 100, '2026-03-05 10:00+08')$q$, :org, :l4));
SELECT pg_temp.err(format($q$SELECT leadmgmt.record_order(%s, %s, '', 100, '2026-03-05 10:00+08')$q$, :org, :l4));
SELECT pg_temp.err(format($q$SELECT leadmgmt.record_order(%s, %s, repeat('p', 201), 100, '2026-03-05 10:00+08')$q$, :org, :l4));
SELECT pg_temp.err(format($q$SELECT leadmgmt.record_order(%s, %s, 'x', -1, '2026-03-05 10:00+08')$q$, :org, :l4));
SELECT pg_temp.err(format($q$SELECT leadmgmt.record_order(%s, %s, 'x', 'NaN', '2026-03-05 10:00+08')$q$, :org, :l4));
SELECT pg_temp.err(format($q$SELECT leadmgmt.record_order(%s, %s, 'x', 100, '2026-03-05 10:00+08', list_price => 90)$q$, :org, :l4));
SELECT pg_temp.err(format($q$SELECT leadmgmt.record_order(%s, %s, 'x', 100, 'infinity')$q$, :org, :l4));
SELECT pg_temp.err(format($q$SELECT leadmgmt.record_order(%s, %s, 'x', 100, NULL)$q$, :org, :l4));
SELECT pg_temp.err(format($q$SELECT leadmgmt.record_order(%s, -1, 'x', 100, '2026-03-05 10:00+08')$q$, :org));
SELECT pg_temp.err(format($q$SELECT leadmgmt.record_order(%s, %s, 'x', 100, '2026-03-05 10:00+08')$q$, :org2, :l4));
SELECT pg_temp.err(format($q$SELECT leadmgmt.record_order(%s, %s, 'x', 100, '2026-03-05 10:00+08', rep_id => -1)$q$, :org, :l4));
SELECT pg_temp.err(format($q$SELECT leadmgmt.record_refund(%s, -1, 10, '2026-03-06 10:00+08')$q$, :org));
SELECT pg_temp.err(format($q$SELECT leadmgmt.record_refund(%s, %s, 0, '2026-03-06 10:00+08')$q$, :org, :o1));
SELECT pg_temp.err(format($q$SELECT leadmgmt.record_refund(%s, %s, NULL, '2026-03-06 10:00+08')$q$, :org, :o1));
SELECT pg_temp.err(format($q$SELECT leadmgmt.record_refund(%s, %s, 5000, '2026-03-06 10:00+08')$q$, :org, :o1));
SELECT pg_temp.err(format($q$SELECT leadmgmt.record_refund(%s, %s, 10, '2026-03-04 10:00+08')$q$, :org, :o1));
SELECT pg_temp.err(format($q$SELECT leadmgmt.record_refund(%s, %s, 10, '2026-03-06 10:00+08')$q$, :org2, :o1));

-- a full refund keeps the lead won unless the org reopens it
SELECT leadmgmt.record_refund(:org, :o1, 3000, '2026-03-10 10:00+08', 'moved') > 0 AS refunded;
SELECT status FROM leadmgmt.lead WHERE org_id = :org AND lead_id = :l1;
UPDATE leadmgmt.org SET reopen_on_full_refund = true WHERE org_id = :org;
SELECT leadmgmt.record_order(:org, :l2, 'Spring term', 3000, '2026-03-06 10:00+08') AS o2 \gset
SELECT leadmgmt.record_refund(:org, :o2, 1000, '2026-03-07 10:00+08') > 0 AS partly_refunded;
SELECT status FROM leadmgmt.lead WHERE org_id = :org AND lead_id = :l2;
SELECT pg_temp.err(format($q$SELECT leadmgmt.update_lead(%s, %s, '{"status": "contacting"}')$q$, :org, :l2));
SELECT leadmgmt.record_refund(:org, :o2, 2000, '2026-03-08 10:00+08') > 0 AS refunded_in_full;
SELECT status, status_changed_at, status_note ~ '^refund [0-9]+: every paid order refunded in full$' AS note FROM leadmgmt.lead
 WHERE org_id = :org AND lead_id = :l2;
SELECT from_status, to_status, changed_at, cause FROM leadmgmt.lead_status_change
 WHERE org_id = :org AND lead_id = :l2 ORDER BY change_id;

-- the views: each stay, time in each status by channel, lost reasons
UPDATE leadmgmt.org SET report_as_of = '2026-04-01 00:00+08' WHERE org_id = :org;
SELECT stay, status, entered_at, left_at, round(hours::numeric, 2) AS hours FROM leadmgmt.lead_status_span
 WHERE org_id = :org AND lead_id = :l2 ORDER BY stay;
-- time in each status by channel, over another org's leads moved only by
-- events and orders (a move made by hand is timed by the server's clock)
SELECT leadmgmt.add_channel(:org2, 'baidu', 'Baidu', 'paid') > 0 AS channel;
SELECT lead_id AS m1 FROM leadmgmt.ingest_lead(:org2, '13900000001', 'baidu', NULL, '2026-03-01 09:00+08') \gset
SELECT lead_id AS m2 FROM leadmgmt.ingest_lead(:org2, '13900000002', 'baidu', NULL, '2026-03-01 10:00+08') \gset
SELECT lead_id AS m3 FROM leadmgmt.ingest_lead(:org2, '13900000003', 'baidu', NULL, '2026-03-01 11:00+08') \gset
SELECT count(*) AS events FROM (VALUES
  (leadmgmt.record_event(:org2, :m1, 'trial_booked', '2026-03-02 09:00+08')),
  (leadmgmt.record_event(:org2, :m1, 'trial_attended', '2026-03-03 09:00+08')),
  (leadmgmt.record_order(:org2, :m1, 'Spring term', 2000, '2026-03-04 09:00+08')),
  (leadmgmt.record_event(:org2, :m2, 'trial_booked', '2026-03-01 22:00+08')),
  (leadmgmt.record_event(:org2, :m2, 'trial_attended', '2026-03-02 10:00+08'))) v(id);
UPDATE leadmgmt.org SET report_as_of = '2026-03-05 09:00+08' WHERE org_id = :org2;
SELECT channel, status, stays_ended, leads_in_it_now, round(mean_hours::numeric, 2) AS mean_hours,
       round(median_hours::numeric, 2) AS median_hours
  FROM leadmgmt.status_time WHERE org_id = :org2 ORDER BY status;
-- lost leads by reason, channel and rep
SELECT channel, rep_name, lost_reason, label, leads FROM leadmgmt.lost_reasons WHERE org_id = :org ORDER BY lost_reason;
SELECT status, count(*) FROM leadmgmt.lead WHERE org_id = :org GROUP BY status ORDER BY status;
