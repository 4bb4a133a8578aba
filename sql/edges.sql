-- edges (#22 items 2, 6, 8): over-long strings are 22023 naming the bounds,
-- never echoing the value (until 0.14 a table's CHECK constraint answered
-- 23514); messages quote at most 40 characters of what was sent; an
-- infinite report_as_of is refused; the org's time window, as a superuser
-- (who may load any history) sees it.  The restricted roles' side of the
-- window is in test/pgtap (access_app, assignment_sales).
-- No id is printed: on a Citus cluster each worker numbers its own rows.
SET client_min_messages = warning;
SET TimeZone = 'Asia/Shanghai';
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN EXECUTE q; RETURN 'no error';
EXCEPTION WHEN others THEN
  RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, '(lead|org|order|rep) -?[0-9]+', '\1 N', 'g');
END $$;
CREATE FUNCTION pg_temp.e(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE m text; d text;
BEGIN EXECUTE q; RETURN 'no error';
EXCEPTION WHEN others THEN
  GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL;
  RETURN SQLSTATE || CASE WHEN length(m) <= 120 AND coalesce(length(d), 0) <= 120 THEN ', short message'
                          ELSE ', message of ' || length(m) || ' and detail of ' || length(d) || ' characters' END;
END $$;
SELECT leadmgmt.create_org('Edge School') AS org \gset
SELECT leadmgmt.add_channel(:org, 'douyin', 'Douyin', 'paid') > 0 AS channel;
INSERT INTO leadmgmt.sales_rep (org_id, name, role) VALUES (:org, 'rep a', 'sales');
SELECT rep_id AS rep FROM leadmgmt.sales_rep WHERE org_id = :org \gset
SELECT lead_id AS l1 FROM leadmgmt.ingest_lead(:org, '13800000001', 'douyin', NULL, now()) \gset
SELECT leadmgmt.assign_lead(:org, :l1) AS assigned_rep \gset
SELECT :assigned_rep = :rep AS assigned;

-- over-long and empty strings: 22023 with the bounds
SELECT pg_temp.err($$SELECT leadmgmt.create_org(repeat('x', 201), 'Asia/Shanghai')$$);
SELECT pg_temp.err($$SELECT leadmgmt.create_org('', 'Asia/Shanghai')$$);
SELECT pg_temp.err(format($$SELECT leadmgmt.add_channel(%s, 'longname', repeat('x', 201), 'paid')$$, :org));
SELECT pg_temp.err(format($$SELECT leadmgmt.add_channel(%s, 'emptyname', '', 'paid')$$, :org));
SELECT pg_temp.err(format($$SELECT leadmgmt.ingest_lead(%s, '13800000002', 'douyin', NULL, now(), jsonb_build_object('subject', repeat('y', 101)))$$, :org));
SELECT pg_temp.err(format($$SELECT leadmgmt.ingest_lead(%s, '13800000002', 'douyin', NULL, now(), jsonb_build_object('city', repeat('y', 101)))$$, :org));
SELECT pg_temp.err(format($$SELECT leadmgmt.ingest_lead(%s, '13800000002', 'douyin', NULL, now(), jsonb_build_object('name', repeat('y', 201)))$$, :org));
SELECT pg_temp.err(format($$SELECT leadmgmt.update_lead(%s, %s, jsonb_build_object('subject', repeat('y', 101)))$$, :org, :l1));
SELECT pg_temp.err(format($$SELECT leadmgmt.record_touch(%s, %s, 'douyin', NULL, now(), 'visit', repeat('v', 201))$$, :org, :l1));
SELECT pg_temp.err(format($$SELECT leadmgmt.log_follow_up(%s, %s, %s, 'call', 'connected', note => repeat('n', 4001))$$, :org, :l1, :rep));
SELECT pg_temp.err(format($$SELECT leadmgmt.train_conversion_model(%s, repeat('m', 201), '2025-01-01', '2026-01-01')$$, :org));
-- at the bounds: taken
SELECT (leadmgmt.ingest_lead(:org, '13800000003', 'douyin', NULL, now(),
          jsonb_build_object('subject', repeat('y', 100), 'city', repeat('c', 100), 'name', repeat('n', 200)))).is_new;
SELECT leadmgmt.log_follow_up(:org, :l1, :rep, 'call', 'connected', note => repeat('n', 4000)) > 0 AS logged;

-- a megabyte sent never comes back: every message quotes at most 40 characters of it
SELECT pg_temp.e(format($$SELECT leadmgmt.ingest_lead(%s, '13800000004', repeat('c', 1000000), NULL, now())$$, :org));
SELECT pg_temp.e(format($$SELECT leadmgmt.record_event(%s, %s, repeat('e', 1000000), now())$$, :org, :l1));
SELECT pg_temp.e(format($$SELECT leadmgmt.log_follow_up(%s, %s, %s, repeat('c', 1000000), 'sent')$$, :org, :l1, :rep));
SELECT pg_temp.e(format($$SELECT leadmgmt.add_channel(%s, repeat('c', 1000000), 'n', 'paid')$$, :org));
SELECT pg_temp.e(format($$SELECT leadmgmt.add_channel(%s, 'okcode', 'n', repeat('k', 1000000))$$, :org));
SELECT pg_temp.e($$SELECT leadmgmt.create_org('Tz School', repeat('z', 1000000))$$);
SELECT pg_temp.e($$SELECT leadmgmt.grant_access('postgres', 1, repeat('k', 1000000))$$);
SELECT pg_temp.e(format($$SELECT leadmgmt.train_conversion_model(%s, 'm', '2025-01-01', '2026-01-01', kind => repeat('k', 1000000))$$, :org));
SELECT pg_temp.e(format($$SELECT leadmgmt.mark_lost(%s, %s, repeat('r', 1000000))$$, :org, :l1));
SELECT pg_temp.e(format($$SELECT leadmgmt.record_spend(%s, current_date, 'douyin', NULL, -1e900)$$, :org));
BEGIN;
SELECT set_config('leadmgmt.org_id', repeat('9', 1000000), true) IS NOT NULL AS set;
SELECT pg_temp.e('SELECT leadmgmt.current_org()');
ROLLBACK;

-- report_as_of must be finite (until 0.14 'infinity' emptied every service view)
SELECT pg_temp.err(format($$UPDATE leadmgmt.org SET report_as_of = 'infinity' WHERE org_id = %s$$, :org));
SELECT pg_temp.err(format($$UPDATE leadmgmt.org SET report_as_of = '-infinity' WHERE org_id = %s$$, :org));
SELECT pg_temp.err(format($$UPDATE leadmgmt.org SET backfill_horizon = '-1 day' WHERE org_id = %s$$, :org));

-- the org's window: a superuser loads any history (no backfill horizon),
-- nobody writes beyond future_tolerance, the rule functions take a
-- superuser's time as given
SELECT backfill_horizon, future_tolerance FROM leadmgmt.org WHERE org_id = :org;
SELECT (leadmgmt.ingest_lead(:org, '13800000005', 'douyin', NULL, now() - interval '5 years')).is_new AS old_history_loaded;
SELECT pg_temp.err(format($$SELECT leadmgmt.ingest_lead(%s, '13800000006', 'douyin', NULL, now() + interval '2 hours')$$, :org));
SELECT leadmgmt.record_spend(:org, (now() - interval '5 years')::date, 'douyin', NULL, 10) > 0 AS old_spend_loaded;
SELECT leadmgmt.rule_time(o, NULL, 'at') = now() AS null_is_now,
       leadmgmt.rule_time(o, '2300-01-01 00:00+08', 'at') = '2300-01-01 00:00+08' AS superuser_time_as_given
  FROM leadmgmt.org o WHERE o.org_id = :org;
SELECT pg_temp.err(format($$SELECT leadmgmt.rule_time(o, '-infinity', 'at') FROM leadmgmt.org o WHERE o.org_id = %s$$, :org));
