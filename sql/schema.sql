-- business rules the schema enforces by itself, whoever writes the rows
\pset null '<null>'
SET timezone = 'Asia/Shanghai';
SET datestyle = 'ISO, YMD';

SELECT leadmgmt.create_org('Rules School') AS org \gset
-- the rows below carry explicit 2026 times: a wide clock-skew tolerance keeps
-- them acceptable wherever the server's clock stands (make test FAKETIME=-1y)
UPDATE leadmgmt.org SET future_tolerance = '100 years' WHERE org_id = :org;
SELECT leadmgmt.add_channel(:org, 'direct', 'Direct', 'direct') AS channel \gset
SELECT lead_id AS lead FROM leadmgmt.ingest_lead(:org, '13700000000', 'direct', NULL, '2026-01-01+08') \gset
INSERT INTO leadmgmt.course (org_id, code, name, subject, lessons_per_term, price)
  VALUES (:org, 'py-1', 'Python 1', 'coding', 12, 3000) RETURNING course_id AS course \gset
INSERT INTO leadmgmt.sales_order (org_id, lead_id, course_id, product, list_price, discount, amount, created_at, paid_at)
  VALUES (:org, :lead, :course, 'Python 1 spring', 3000, 200, 2800, '2026-01-05+08', '2026-01-05+08')
  RETURNING order_id AS ord \gset
INSERT INTO leadmgmt.sales_rep (org_id, name, role) VALUES (:org, 'Rep Li', 'sales') RETURNING rep_id AS rep \gset
SELECT org_id AS other_org, channel_id AS other_channel FROM leadmgmt.channel WHERE org_id <> :org LIMIT 1 \gset

-- err(q) runs q with {org} {lead} {course} {order} {rep} {channel} {other_org} {other_channel}
-- replaced by the ids above, and shows the SQLSTATE and message it raised
CREATE TEMP TABLE ids AS SELECT :org AS org, :lead AS lead, :course AS course, :ord AS ord, :rep AS rep,
  :channel AS channel, :other_org AS other_org, :other_channel AS other_channel;
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE i record;
BEGIN
  SELECT * INTO i FROM ids;
  q := replace(replace(replace(replace(replace(replace(replace(replace(q,
         '{org}', i.org::text), '{lead}', i.lead::text), '{course}', i.course::text), '{order}', i.ord::text),
         '{rep}', i.rep::text), '{channel}', i.channel::text), '{other_org}', i.other_org::text),
         '{other_channel}', i.other_channel::text);
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN others THEN RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- refunds: never more than the order, never before the payment
SELECT pg_temp.err($$INSERT INTO leadmgmt.refund (org_id, order_id, amount, refunded_at) VALUES ({org}, {order}, 1000, '2026-02-01+08')$$) AS first_part;
SELECT pg_temp.err($$INSERT INTO leadmgmt.refund (org_id, order_id, amount, refunded_at) VALUES ({org}, {order}, 1800, '2026-02-02+08')$$) AS the_rest;
SELECT pg_temp.err($$INSERT INTO leadmgmt.refund (org_id, order_id, amount, refunded_at) VALUES ({org}, {order}, 0.01, '2026-02-03+08')$$) AS one_cent_too_many;
SELECT pg_temp.err($$UPDATE leadmgmt.refund SET amount = 1000.01 WHERE amount = 1000$$) AS grow_existing;
SELECT pg_temp.err($$UPDATE leadmgmt.refund SET amount = 999 WHERE amount = 1000$$) AS shrink_existing;
SELECT pg_temp.err($$INSERT INTO leadmgmt.refund (org_id, order_id, amount, refunded_at) VALUES ({org}, {order}, 1, '2025-12-31+08')$$) AS before_payment;
SELECT pg_temp.err($$INSERT INTO leadmgmt.refund (org_id, order_id, amount, refunded_at) VALUES ({org}, {order}, 0, '2026-02-01+08')$$) AS zero;
SELECT sum(amount) AS refunded FROM leadmgmt.refund WHERE org_id = :org;

-- orders: amount = list price - discount; paid orders have a payment time
SELECT pg_temp.err($$INSERT INTO leadmgmt.sales_order (org_id, lead_id, product, list_price, discount, amount, created_at, paid_at)
                     VALUES ({org}, {lead}, 'x', 100, 10, 100, now(), now())$$) AS wrong_amount;
SELECT pg_temp.err($$INSERT INTO leadmgmt.sales_order (org_id, lead_id, product, list_price, amount, created_at)
                     VALUES ({org}, {lead}, 'x', 100, 100, now())$$) AS paid_without_time;
SELECT pg_temp.err($$INSERT INTO leadmgmt.sales_order (org_id, lead_id, product, list_price, amount, created_at, paid_at)
                     VALUES ({org}, {lead}, 'x', -1, -1, now(), now())$$) AS negative_price;
SELECT pg_temp.err($$INSERT INTO leadmgmt.sales_order (org_id, lead_id, product, list_price, amount, status, created_at)
                     VALUES ({org}, {lead}, 'x', 100, 100, 'pending', now())$$) AS pending_order;
SELECT pg_temp.err($$INSERT INTO leadmgmt.refund (org_id, order_id, amount, refunded_at)
                     SELECT {org}, order_id, 1, now() FROM leadmgmt.sales_order WHERE status = 'pending'$$) AS refund_unpaid;

-- classes: a term ends after it starts; capacity is positive
SELECT pg_temp.err($$INSERT INTO leadmgmt.course_class (org_id, course_id, name, term_start, term_end, capacity)
                     VALUES ({org}, {course}, 'c', '2026-03-01', '2026-03-01', 10)$$) AS empty_term;
SELECT pg_temp.err($$INSERT INTO leadmgmt.course_class (org_id, course_id, name, term_start, term_end, capacity)
                     VALUES ({org}, {course}, 'c', '2026-03-01', '2026-06-01', 0)$$) AS no_capacity;

-- spend, pools, tiers and reps
SELECT pg_temp.err($$INSERT INTO leadmgmt.ad_spend (org_id, spend_date, channel_id, spend) VALUES ({org}, '2026-01-01', {channel}, -5)$$) AS negative_spend;
SELECT pg_temp.err($$UPDATE leadmgmt.lead SET pool = 'private' WHERE org_id = {org}$$) AS private_without_owner;
SELECT pg_temp.err($$UPDATE leadmgmt.lead SET owner_rep_id = {rep} WHERE org_id = {org}$$) AS owner_in_public_pool;
SELECT pg_temp.err($$UPDATE leadmgmt.lead SET pool = 'private', owner_rep_id = {rep}, owned_since = now() WHERE org_id = {org}$$) AS claimed;
SELECT pg_temp.err($$UPDATE leadmgmt.lead SET tier = 'E' WHERE org_id = {org}$$) AS bad_tier;
SELECT pg_temp.err($$UPDATE leadmgmt.lead SET score = 1.5 WHERE org_id = {org}$$) AS bad_score;
SELECT pg_temp.err($$UPDATE leadmgmt.lead SET score = 'NaN' WHERE org_id = {org}$$) AS nan_score;
SELECT pg_temp.err($$INSERT INTO leadmgmt.sales_rep (org_id, name, role, weight) VALUES ({org}, 'r', 'sales', 0)$$) AS zero_weight;
SELECT pg_temp.err($$INSERT INTO leadmgmt.sales_rep (org_id, name, role, weight) VALUES ({org}, 'r', 'sales', NULL)$$) AS null_weight;
SELECT pg_temp.err($$INSERT INTO leadmgmt.sales_rep (org_id, name, role, tiers) VALUES ({org}, 'r', 'sales', '{A,E}')$$) AS bad_tiers;
SELECT pg_temp.err($$INSERT INTO leadmgmt.sales_rep (org_id, name, role) VALUES ({org}, 'r', 'closer')$$) AS bad_role;
SELECT pg_temp.err($$INSERT INTO leadmgmt.rep_shift (org_id, rep_id, weekday, starts_at, ends_at) VALUES ({org}, {rep}, 8, '09:00', '18:00')$$) AS bad_weekday;
SELECT pg_temp.err($$INSERT INTO leadmgmt.rep_shift (org_id, rep_id, weekday, starts_at, ends_at) VALUES ({org}, {rep}, 1, '18:00', '09:00')$$) AS backwards_shift;

-- a row of one org can never point at another org's rows
SELECT pg_temp.err($$INSERT INTO leadmgmt.touchpoint (org_id, lead_id, channel_id, kind, occurred_at)
                     VALUES ({org}, {lead}, {channel}, 'visit', now())$$) AS same_org;
SELECT pg_temp.err($$INSERT INTO leadmgmt.touchpoint (org_id, lead_id, channel_id, kind, occurred_at)
                     VALUES ({org}, {lead}, {other_channel}, 'visit', now())$$) AS other_orgs_channel;
SELECT pg_temp.err($$INSERT INTO leadmgmt.touchpoint (org_id, lead_id, channel_id, kind, occurred_at)
                     VALUES ({other_org}, {lead}, {other_channel}, 'visit', now())$$) AS other_orgs_lead;

-- the vocabularies, each written once (0.10): the constraints read them
SELECT leadmgmt.touch_kinds(), leadmgmt.event_types();
SELECT leadmgmt.follow_up_channels(), leadmgmt.follow_up_outcomes();
SELECT pg_temp.err($$INSERT INTO leadmgmt.touchpoint (org_id, lead_id, channel_id, kind, occurred_at)
                     VALUES ({org}, {lead}, {channel}, 'smoke_signal', now())$$) AS unknown_kind;
SELECT pg_temp.err($$INSERT INTO leadmgmt.lead_event (org_id, lead_id, event_type, occurred_at)
                     VALUES ({org}, {lead}, 'teleported', now())$$) AS unknown_event_type;
SELECT pg_temp.err($$INSERT INTO leadmgmt.follow_up (org_id, lead_id, rep_id, channel, outcome, occurred_at)
                     VALUES ({org}, {lead}, {rep}, 'pigeon', 'connected', now())$$) AS unknown_follow_up_channel;
SELECT pg_temp.err($$INSERT INTO leadmgmt.follow_up (org_id, lead_id, rep_id, channel, outcome, occurred_at)
                     VALUES ({org}, {lead}, {rep}, 'call', 'maybe', now())$$) AS unknown_follow_up_outcome;
-- check_one_of: the error of an input outside its vocabulary
SELECT pg_temp.err($$SELECT leadmgmt.check_one_of('b', '{a,b}', 'thing', 'things')$$) AS inside;
SELECT pg_temp.err($$SELECT leadmgmt.check_one_of('c', '{a,b}', 'thing', 'things')$$) AS outside;
SELECT pg_temp.err($$SELECT leadmgmt.check_one_of(NULL, '{a,b}', 'thing', 'things')$$) AS null_value;
SELECT pg_temp.err($$SELECT leadmgmt.check_one_of('', '{a,b}', 'thing', 'things')$$) AS empty_value;
SELECT pg_temp.err($$SELECT leadmgmt.check_one_of('a', '{}', 'thing', 'things')$$) AS empty_vocabulary;
SELECT pg_temp.err($$SELECT leadmgmt.check_one_of('a', NULL, 'thing', 'things')$$) AS null_vocabulary;

-- version(): the library and the scripts agree (0.10)
SELECT leadmgmt.version() = extversion AS library_matches_scripts FROM pg_extension WHERE extname = 'leadmgmt';
SELECT leadmgmt.version() IS NOT NULL AND leadmgmt.version() ~ '^[0-9]+\.[0-9]+' AS version_format;
