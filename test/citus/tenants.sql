-- test/citus/tenants.sql -- the same API calls on one node (a database
-- without Citus) and on the cluster (after leadmgmt.distribute()): three
-- orgs, their channels, reps, leads, events and spend, at explicit times.
-- Ids differ between the two (Citus gives every node its own identity
-- range), so the comparison reads phones, codes and times, not ids.
SELECT leadmgmt.create_org(name) FROM unnest('{North School,South School,East School}'::text[]) WITH ORDINALITY AS o(name, i) ORDER BY i;
UPDATE leadmgmt.org SET future_tolerance = '100 years', report_as_of = '2026-04-01 00:00+08';  -- explicit 2026 times, whatever the clock says
SELECT leadmgmt.add_channel(o, c, initcap(c), 'paid') FROM generate_series(1, 3) o, unnest('{douyin,baidu}'::text[]) c;
INSERT INTO leadmgmt.sales_rep (org_id, name, role) SELECT o, 'rep ' || o || '-' || r, 'sales' FROM generate_series(1, 3) o, generate_series(1, 2) r;
SELECT leadmgmt.record_spend(o, ('2026-03-0' || d)::date, 'douyin', NULL, 100 * o + d, 1000, 50)
  FROM generate_series(1, 3) o, generate_series(1, 5) d;
