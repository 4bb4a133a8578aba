-- ingestion API: dedupe by phone, 撞单 protection, spend upserts, bad input
\pset null '<null>'
SET timezone = 'Asia/Shanghai';
SET datestyle = 'ISO, YMD';
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN EXECUTE q; RETURN 'no error';
EXCEPTION WHEN others THEN RETURN SQLSTATE || ': ' || SQLERRM; END $$;

SELECT leadmgmt.create_org('Sparkle Kids') AS org;
-- the rows below carry explicit 2026 times: a wide clock-skew tolerance keeps
-- them acceptable wherever the server's clock stands (make test FAKETIME=-1y)
UPDATE leadmgmt.org SET future_tolerance = '100 years' WHERE org_id = 1;
SELECT leadmgmt.add_channel(1, 'douyin', '抖音 Douyin', 'paid');
SELECT leadmgmt.add_channel(1, 'referral', '转介绍 Referral', 'referral');

-- a new lead, then repeats of the same phone in other spellings
SELECT * FROM leadmgmt.ingest_lead(1, '138 1234 5678', 'douyin', 'spring-a', '2026-03-01 10:00+08',
                                  '{"name": "王女士", "child_age": 8, "grade": 2, "utm": "x1"}');
SELECT * FROM leadmgmt.ingest_lead(1, '+86 138-1234-5678', 'referral', NULL, '2026-03-05 09:00+08',
                                  '{"city": "上海", "city_tier": 1, "utm": "x2"}');
SELECT * FROM leadmgmt.ingest_lead(1, '１３８１２３４５６７８', 'douyin', 'spring-b', '2026-02-20 12:00+08', '{}');
SELECT lead_id, c.phone, phone_masked, name, child_age, grade, city, city_tier, attrs,
       first_channel_id, first_campaign_id, latest_channel_id, latest_campaign_id, created_at, last_touch_at
  FROM leadmgmt.lead JOIN leadmgmt.lead_contact c USING (org_id, lead_id) ORDER BY lead_id;
-- the number is in lead_contact (since 0.12), as first submitted
SELECT lead_id, phone, phone_raw FROM leadmgmt.lead_contact ORDER BY lead_id;
-- the repeat dated before the lead (late data) kept created_at and the first
-- channel (since 0.14); backfill_first_touch moves them, and only earlier
SELECT leadmgmt.backfill_first_touch(1, 1, 'douyin', 'spring-b', '2026-02-20 12:00+08') AS backfilled;
SELECT leadmgmt.backfill_first_touch(1, 1, 'referral', NULL, '2026-02-25 12:00+08') AS not_earlier;
SELECT first_channel_id, first_campaign_id, created_at FROM leadmgmt.lead WHERE lead_id = 1;
SELECT pg_temp.err($$SELECT leadmgmt.backfill_first_touch(1, 1, 'douyin', NULL, 'infinity')$$) AS infinite;
SELECT pg_temp.err($$SELECT leadmgmt.backfill_first_touch(1, 424242, 'douyin', NULL, '2026-01-01')$$) AS unknown_lead;
SELECT pg_temp.err($$SELECT leadmgmt.backfill_first_touch(1, 1, NULL, NULL, '2026-01-01')$$) AS null_channel;
SELECT kind, channel_id, campaign_id, occurred_at FROM leadmgmt.touchpoint ORDER BY occurred_at;
SELECT event_type, occurred_at FROM leadmgmt.lead_event ORDER BY occurred_at;

-- 撞单: an owned lead keeps its owner when it is submitted again
INSERT INTO leadmgmt.sales_rep (org_id, name, role) VALUES (1, 'Rep Zhang', 'sales');
UPDATE leadmgmt.lead SET pool = 'private', owner_rep_id = 1, owned_since = '2026-03-06+08';
SELECT * FROM leadmgmt.ingest_lead(1, '13812345678', 'douyin', NULL, '2026-03-07 10:00+08');
SELECT lead_id, pool, owner_rep_id, owned_since FROM leadmgmt.lead;

-- invalid phones are kept, flagged, and never merged
SELECT * FROM leadmgmt.ingest_lead(1, '12345', 'douyin', NULL, '2026-03-01 10:00+08');
SELECT * FROM leadmgmt.ingest_lead(1, '12345', 'douyin', NULL, '2026-03-01 10:00+08');
SELECT * FROM leadmgmt.ingest_lead(1, NULL, 'douyin', NULL, '2026-03-01 10:00+08');
SELECT lead_id, c.phone_raw, c.phone, phone_masked, phone_valid
  FROM leadmgmt.lead LEFT JOIN leadmgmt.lead_contact c USING (org_id, lead_id) WHERE NOT phone_valid ORDER BY lead_id;

-- bad input: a precise SQLSTATE and nothing half-written
UPDATE leadmgmt.org SET future_tolerance = DEFAULT WHERE org_id = 1;
CREATE TEMP TABLE before AS
  SELECT (SELECT count(*) FROM leadmgmt.lead) AS leads, (SELECT count(*) FROM leadmgmt.touchpoint) AS touches,
         (SELECT count(*) FROM leadmgmt.campaign) AS campaigns;
SELECT pg_temp.err($$SELECT leadmgmt.ingest_lead(99, '13900000000', 'douyin', NULL, now())$$) AS unknown_org;
SELECT pg_temp.err($$SELECT leadmgmt.ingest_lead(NULL, '13900000000', 'douyin', NULL, now())$$) AS null_org;
SELECT pg_temp.err($$SELECT leadmgmt.ingest_lead(1, '13900000000', 'tiktok', 'new-campaign', now())$$) AS unknown_channel;
SELECT pg_temp.err($$SELECT leadmgmt.ingest_lead(1, '13900000000', NULL, NULL, now())$$) AS null_channel;
SELECT pg_temp.err($$SELECT leadmgmt.ingest_lead(1, '13900000000', '  ', NULL, now())$$) AS blank_channel;
SELECT pg_temp.err($$SELECT leadmgmt.ingest_lead(1, '13900000000', 'douyin', 'c', now() + interval '2 hours')$$) AS future;
SELECT pg_temp.err($$SELECT leadmgmt.ingest_lead(1, '13900000000', 'douyin', 'c', NULL)$$) AS null_time;
SELECT pg_temp.err($$SELECT leadmgmt.ingest_lead(1, '13900000000', 'douyin', 'c', 'infinity')$$) AS infinite_time;
SELECT pg_temp.err($$SELECT leadmgmt.ingest_lead(1, '13900000000', 'douyin', 'c', now(), '[1, 2]')$$) AS attrs_array;
SELECT pg_temp.err($$SELECT leadmgmt.ingest_lead(1, '13900000000', 'douyin', 'c', now(), '{"child_age": "eight"}')$$) AS age_text;
SELECT pg_temp.err($$SELECT leadmgmt.ingest_lead(1, '13900000000', 'douyin', 'c', now(), '{"child_age": 8.5}')$$) AS age_fraction;
SELECT pg_temp.err($$SELECT leadmgmt.ingest_lead(1, '13900000000', 'douyin', 'c', now(), '{"grade": 13}')$$) AS grade_range;
SELECT pg_temp.err($$SELECT leadmgmt.ingest_lead(1, '13900000000', 'douyin', 'c', now(), '{"name": 42}')$$) AS name_number;
SELECT pg_temp.err($$SELECT leadmgmt.ingest_lead(1, repeat('1', 65), 'douyin', 'c', now())$$) AS phone_too_long;
SELECT pg_temp.err($$SELECT leadmgmt.ingest_lead(1, '13900000000', 'douyin', repeat('c', 201), now())$$) AS campaign_too_long;
SELECT (SELECT count(*) FROM leadmgmt.lead) = leads AS no_lead_written,
       (SELECT count(*) FROM leadmgmt.touchpoint) = touches AS no_touch_written,
       (SELECT count(*) FROM leadmgmt.campaign) = campaigns AS no_campaign_written
  FROM before;

-- a small clock skew is tolerated (org.future_tolerance, default 1 hour)
SELECT is_new FROM leadmgmt.ingest_lead(1, '13900000000', 'douyin', NULL, now() + interval '30 minutes');
UPDATE leadmgmt.org SET future_tolerance = '100 years' WHERE org_id = 1;

-- auto-created channels, when the org asks for them
UPDATE leadmgmt.org SET auto_create_channels = true WHERE org_id = 1;
SELECT is_new FROM leadmgmt.ingest_lead(1, '13900000001', ' XiaoHongShu ', NULL, '2026-03-01+08');
SELECT code, name, kind FROM leadmgmt.channel ORDER BY channel_id;
SELECT pg_temp.err($$SELECT leadmgmt.ingest_lead(1, '13900000002', 'bad code!', NULL, now())$$) AS bad_auto_code;

-- add_channel validation
SELECT pg_temp.err($$SELECT leadmgmt.add_channel(1, 'Bad Code', 'x', 'paid')$$) AS bad_code;
SELECT pg_temp.err($$SELECT leadmgmt.add_channel(1, 'tv', 'TV', 'broadcast')$$) AS bad_kind;
SELECT pg_temp.err($$SELECT leadmgmt.add_channel(1, 'douyin', 'again', 'paid')$$) AS duplicate;
SELECT pg_temp.err($$SELECT leadmgmt.create_org('Mars School', 'Mars/Olympus')$$) AS bad_timezone;

-- record_touch and record_event
SELECT leadmgmt.record_touch(1, 1, 'douyin', 'spring-a', '2026-03-08 20:00+08', 'ad_click') > 0 AS touched;
SELECT leadmgmt.record_touch(1, NULL, 'douyin', NULL, '2026-03-08 20:00+08', 'visit', 'visitor-42') > 0 AS anonymous;
SELECT last_touch_at FROM leadmgmt.lead WHERE lead_id = 1;
SELECT pg_temp.err($$SELECT leadmgmt.record_touch(1, NULL, 'douyin', NULL, now())$$) AS no_lead_or_visitor;
SELECT pg_temp.err($$SELECT leadmgmt.record_touch(1, 1, 'douyin', NULL, now(), 'smoke_signal')$$) AS bad_kind;
SELECT pg_temp.err($$SELECT leadmgmt.record_touch(1, 424242, 'douyin', NULL, now())$$) AS unknown_lead;
SELECT leadmgmt.record_event(1, 1, 'sms_verified', '2026-03-01 10:05+08') > 0 AS recorded;
SELECT leadmgmt.record_event(1, 1, 'trial_booked', '2026-03-02 10:05+08', '{"self": true}', 'douyin') > 0 AS recorded;
SELECT pg_temp.err($$SELECT leadmgmt.record_event(1, 1, 'teleported', now())$$) AS bad_type;
SELECT pg_temp.err($$SELECT leadmgmt.record_event(1, NULL, 'paid', now())$$) AS null_lead;
SELECT pg_temp.err($$SELECT leadmgmt.record_event(1, 424242, 'paid', now())$$) AS unknown_lead;
SELECT pg_temp.err($$SELECT leadmgmt.record_event(1, 1, 'paid', now(), '"x"')$$) AS attrs_string;
-- the attrs check all three share (0.10)
SELECT pg_temp.err($$SELECT leadmgmt.ingest_check_attrs('{"a": 1}')$$) AS attrs_object,
       pg_temp.err($$SELECT leadmgmt.ingest_check_attrs('{}')$$) AS attrs_empty,
       pg_temp.err($$SELECT leadmgmt.ingest_check_attrs(NULL)$$) AS attrs_null,
       pg_temp.err($$SELECT leadmgmt.ingest_check_attrs('null')$$) AS attrs_json_null,
       pg_temp.err($$SELECT leadmgmt.ingest_check_attrs('[1]')$$) AS attrs_array;

-- record_spend: idempotent upsert of revised days
SELECT leadmgmt.record_spend(1, '2026-03-01', 'douyin', 'spring-a', 1000.00, 50000, 900) AS id;
SELECT leadmgmt.record_spend(1, '2026-03-01', 'douyin', 'spring-a', 1234.56, 52000, 950) AS same_id;
SELECT leadmgmt.record_spend(1, '2026-03-01', 'douyin', NULL, 10, 0, 0) AS no_campaign;
SELECT leadmgmt.record_spend(1, '2026-03-01', 'douyin', NULL, 11, 0, 0) AS no_campaign_again;
SELECT spend_date, channel_id, campaign_id, spend, impressions, clicks, revision FROM leadmgmt.ad_spend ORDER BY ad_spend_id;
SELECT pg_temp.err($$SELECT leadmgmt.record_spend(1, '2026-03-01', 'douyin', NULL, -1)$$) AS negative;
SELECT pg_temp.err($$SELECT leadmgmt.record_spend(1, '2026-03-01', 'douyin', NULL, 'NaN')$$) AS nan;
SELECT pg_temp.err($$SELECT leadmgmt.record_spend(1, '2026-03-01', 'douyin', NULL, NULL)$$) AS null_spend;
SELECT pg_temp.err($$SELECT leadmgmt.record_spend(1, '2026-03-01', 'douyin', NULL, 1e13)$$) AS too_large;
SELECT pg_temp.err($$SELECT leadmgmt.record_spend(1, '2999-01-01', 'douyin', NULL, 1)$$) AS future_day;
SELECT pg_temp.err($$SELECT leadmgmt.record_spend(1, NULL, 'douyin', NULL, 1)$$) AS null_day;
SELECT pg_temp.err($$SELECT leadmgmt.record_spend(1, '2026-03-01', 'douyin', NULL, 1, -5, 0)$$) AS negative_impressions;
SELECT pg_temp.err($$SELECT leadmgmt.record_spend(7, '2026-03-01', 'douyin', NULL, 1)$$) AS unknown_org;
SELECT count(*) AS spend_rows FROM leadmgmt.ad_spend;

-- the view BI tools read
SELECT day, channel, spend, leads, valid_leads, cost_per_lead FROM leadmgmt.channel_daily
 WHERE day BETWEEN '2026-01-01' AND '2026-06-01' ORDER BY day, channel;

-- update_lead (0.12): a lead's details through a function (here as the
-- superuser, who passes the access check; the roles are in pgTAP)
SELECT leadmgmt.update_lead(1, 1, '{"name": "王女士 (mother)", "city_tier": 2, "attrs": {"note": "evenings"}}') AS updated;
SELECT name, city_tier, attrs ->> 'note' AS note, attrs ->> 'utm' AS utm_kept FROM leadmgmt.lead WHERE lead_id = 1;
SELECT leadmgmt.update_lead(1, 1, '{}') AS nothing_to_change;
SELECT leadmgmt.update_lead(1, 1, '{"city": null}') AS cleared;
SELECT city IS NULL AS city_cleared, name FROM leadmgmt.lead WHERE lead_id = 1;
SELECT pg_temp.err($$SELECT leadmgmt.update_lead(1, 1, NULL)$$) AS null_changes;
SELECT pg_temp.err($$SELECT leadmgmt.update_lead(NULL, 1, '{}')$$) AS null_org;
SELECT pg_temp.err($$SELECT leadmgmt.update_lead(1, NULL, '{}')$$) AS null_lead;
SELECT pg_temp.err($$SELECT leadmgmt.update_lead(1, 1, '[1]')$$) AS not_an_object;
SELECT pg_temp.err($$SELECT leadmgmt.update_lead(1, 1, '{"tier": "A"}')$$) AS unknown_field;
SELECT pg_temp.err($$SELECT leadmgmt.update_lead(1, 1, '{"attrs": [1]}')$$) AS attrs_not_object;
SELECT pg_temp.err($$SELECT leadmgmt.update_lead(1, 1, '{"grade": 13}')$$) AS grade_out_of_range;
SELECT pg_temp.err($$SELECT leadmgmt.update_lead(1, 1, '{"status": "sold"}')$$) AS unknown_status;
SELECT pg_temp.err($$SELECT leadmgmt.update_lead(1, 424242, '{}')$$) AS unknown_lead;
SELECT pg_temp.err($$SELECT leadmgmt.update_lead(7, 1, '{}')$$) AS unknown_org;
SELECT name, city_tier, status FROM leadmgmt.lead WHERE lead_id = 1;

-- edges (0.14): NULLs are errors, not a silent NULL; messages show a short
-- prefix of what was sent; infinite days are not "in the future"; clicks
-- do not exceed impressions
SELECT pg_temp.err($$SELECT leadmgmt.create_org(NULL)$$) AS null_name;
SELECT pg_temp.err($$SELECT leadmgmt.create_org('x', NULL)$$) AS null_timezone;
SELECT pg_temp.err($$SELECT leadmgmt.add_channel(1, NULL, 'x', 'paid')$$) AS null_code;
SELECT pg_temp.err($$SELECT leadmgmt.add_channel(1, 'ok', 'x', NULL)$$) AS null_kind;
SELECT pg_temp.err($$SELECT leadmgmt.add_channel(1, repeat('Z', 100000), 'x', 'paid')$$) AS long_code;
SELECT pg_temp.err($$SELECT leadmgmt.ingest_lead(1, '13800000009', repeat('nope', 250000), NULL, '2026-03-01 10:00+08')$$) AS long_channel;
SELECT pg_temp.err($$SELECT leadmgmt.record_spend(1, '-infinity', 'douyin', NULL, 10)$$) AS minus_infinity;
SELECT pg_temp.err($$SELECT leadmgmt.record_spend(1, 'infinity', 'douyin', NULL, 10)$$) AS infinity;
SELECT pg_temp.err($$SELECT leadmgmt.record_spend(1, '2026-03-01', 'douyin', NULL, 10, impressions => 100, clicks => 101)$$) AS clicks_above_impressions;
SELECT leadmgmt.record_spend(1, '2026-03-01', 'douyin', NULL, 10, impressions => 0, clicks => 5) > 0 AS clicks_without_impressions;

