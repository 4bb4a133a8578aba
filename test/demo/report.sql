-- test/demo/report.sql -- the short report 'make demo' prints from the views
\pset footer off
\pset border 1
SET timezone = 'Asia/Shanghai';

\echo
\echo '== Channels in 2025 (view leadmgmt.channel_daily) =='
SELECT channel, channel_kind AS kind, sum(spend) AS spend, sum(leads) AS leads, sum(valid_leads) AS valid_leads,
       round(sum(spend) / nullif(sum(leads), 0), 2) AS cost_per_lead
  FROM leadmgmt.channel_daily WHERE day BETWEEN '2025-01-01' AND '2025-12-31'
 GROUP BY channel, channel_kind ORDER BY sum(spend) DESC;

\echo '== Weekly seasonality: average daily paid spend and leads by weekday =='
SELECT extract(isodow FROM day)::int || ' ' || to_char(day, 'Dy') AS weekday, round(avg(spend), 0) AS avg_spend, round(avg(leads), 1) AS avg_leads
  FROM (SELECT day, sum(spend) AS spend, sum(leads) AS leads FROM leadmgmt.channel_daily
         WHERE day BETWEEN '2025-01-01' AND '2025-12-31' GROUP BY day) d
 GROUP BY 1 ORDER BY 1;

\echo '== Leads by tier, pool and outcome (view leadmgmt.lead_overview) =='
SELECT tier, count(*) AS leads, count(*) FILTER (WHERE pool = 'public') AS in_public_pool,
       count(*) FILTER (WHERE status = 'won') AS won,
       round(100.0 * count(*) FILTER (WHERE status = 'won') / count(*), 1) AS won_pct
  FROM leadmgmt.lead_overview GROUP BY tier ORDER BY tier;
