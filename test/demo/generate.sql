-- test/demo/generate.sql -- deterministic demo data for one fictional brand.
--
--   psql -v scale=1 -v seed=42 -v org_name='Sparkle Kids' -f test/demo/generate.sql
--
-- Scale 1 is about 100k leads and over 1M events (touchpoints, funnel events,
-- follow-ups, attendance, homework) for the year 2025 plus the first term of
-- 2026.  Same scale and seed, same rows: every random draw is a hash of
-- (row number, draw number, seed), never random().  Effects built in, so that
-- reports and models have something true to find:
--   * weekly seasonality of spend and leads (weekends busier);
--   * a D/C/B/A behaviour mix that depends on the channel;
--   * conversion that depends on tier, channel, city tier and grade;
--   * renewal that is much lower for 8-9-year-olds (grade 3) in coding courses;
--   * attendance and homework that drop before a family churns;
--   * referrals from students, and refunds.
-- The org's report_as_of is set to 1 May 2026, the end of the data, so that
-- what depends on "now" depends on the data instead of the day it runs.
\set ON_ERROR_STOP 1
\if :{?scale}
\else
  \set scale 1
\endif
\if :{?seed}
\else
  \set seed 42
\endif
\if :{?org_name}
\else
  \set org_name 'Sparkle Kids Academy'
\endif

BEGIN;
SET LOCAL search_path = pg_catalog, pg_temp;
SET LOCAL timezone = 'Asia/Shanghai';

-- u(i, k): the k-th uniform draw in [0, 1) for row i
SELECT format($f$CREATE FUNCTION pg_temp.u(i bigint, k int) RETURNS float8
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS 'SELECT (hashint8extended(i, k::bigint * 7919 + %s) & 2147483647)::float8 / 2147483648.0'$f$, :seed::bigint) \gexec

CREATE TEMP TABLE g_org AS SELECT leadmgmt.create_org(:'org_name') AS org_id, :scale::float8 AS scale;
-- the brand's clock: its data ends with the first term of 2026, so its reports
-- (and every example over it) read as of 1 May 2026, whatever day they run
-- (0.1 and 0.2 have no such column: the upgrade check loads this file into them)
SELECT EXISTS (SELECT FROM pg_attribute WHERE attrelid = 'leadmgmt.org'::regclass AND attname = 'report_as_of') AS has_as_of \gset
\if :has_as_of
UPDATE leadmgmt.org o SET report_as_of = '2026-05-01 00:00+08' FROM g_org g WHERE o.org_id = g.org_id;
\endif
-- the routing holdout (since 0.17): 10% of new leads routed flat to regular
-- sales, drawn from the lead id and the org's seed
SELECT EXISTS (SELECT FROM pg_attribute WHERE attrelid = 'leadmgmt.org'::regclass AND attname = 'holdout_share') AS has_holdout \gset
\if :has_holdout
UPDATE leadmgmt.org o SET holdout_share = 0.10, holdout_seed = 1000 + :seed FROM g_org g WHERE o.org_id = g.org_id;
\endif

-- ---- acquisition: channels, campaigns, daily spend ----------------------------
\if :{?progress}
\warn '  ... acquisition: channels, campaigns, daily spend'
\endif
CREATE TEMP TABLE g_channel (code text, name text, kind text, share float8, quality float8, cpl numeric, ord int);
INSERT INTO g_channel VALUES
  ('douyin',         '抖音 Douyin',            'paid',     0.30, -0.20, 95, 1),
  ('wechat_moments', '朋友圈 WeChat Moments',  'paid',     0.18,  0.00, 110, 2),
  ('baidu',          '百度 Baidu',             'paid',     0.15,  0.30, 140, 3),
  ('xiaohongshu',    '小红书 Xiaohongshu',     'paid',     0.12,  0.10, 120, 4),
  ('referral',       '转介绍 Referral',        'referral', 0.10,  0.80, 0, 5),
  ('offline',        '地推 Offline flyers',    'offline',  0.07, -0.10, 60, 6),
  ('direct',         '直接访问 Direct',        'direct',   0.08,  0.20, 0, 7);
SELECT count(leadmgmt.add_channel(o.org_id, c.code, c.name, c.kind)) AS channels FROM (SELECT * FROM g_channel ORDER BY ord) c, g_org o \gset
ALTER TABLE g_channel ADD COLUMN channel_id bigint, ADD COLUMN lo float8, ADD COLUMN hi float8;
UPDATE g_channel c SET channel_id = ch.channel_id FROM leadmgmt.channel ch, g_org o
 WHERE ch.org_id = o.org_id AND ch.code = c.code;
UPDATE g_channel c SET hi = s.cum, lo = s.cum - c.share
  FROM (SELECT code, sum(share) OVER (ORDER BY ord) AS cum FROM g_channel) s WHERE s.code = c.code;

INSERT INTO leadmgmt.campaign (org_id, channel_id, code, name, started_on, ended_on)
SELECT o.org_id, c.channel_id, c.code || '-' || k, c.name || ' ' || k, '2025-01-01', '2025-12-31'
  FROM g_org o, g_channel c, unnest('{brand,spring,summer}'::text[]) AS k
 WHERE c.kind = 'paid' ORDER BY c.ord, k;

INSERT INTO leadmgmt.ad_spend (org_id, spend_date, channel_id, campaign_id, spend, impressions, clicks)
SELECT o.org_id, d::date, c.channel_id, cp.campaign_id,
       round((c.cpl * c.share * 100000 * o.scale / 365.0 / 3.0
              * CASE WHEN extract(isodow FROM d) >= 6 THEN 1.35 ELSE 0.86 END
              * (0.8 + 0.4 * pg_temp.u(cp.campaign_id * 1000 + extract(doy FROM d)::int, 1)))::numeric, 2),
       (c.share * 9000000 * o.scale / 365.0 / 3.0 * (0.8 + 0.4 * pg_temp.u(cp.campaign_id * 1000 + extract(doy FROM d)::int, 2)))::bigint,
       (c.share * 90000 * o.scale / 365.0 / 3.0 * (0.8 + 0.4 * pg_temp.u(cp.campaign_id * 1000 + extract(doy FROM d)::int, 3)))::bigint
  FROM g_org o
  JOIN g_channel c ON c.kind = 'paid'
  JOIN leadmgmt.campaign cp ON cp.org_id = o.org_id AND cp.channel_id = c.channel_id
 CROSS JOIN generate_series('2025-01-01'::date, '2025-12-31'::date, '1 day') AS d;
INSERT INTO leadmgmt.ad_spend (org_id, spend_date, channel_id, spend, impressions, clicks)
SELECT o.org_id, d::date, c.channel_id,
       round((c.cpl * c.share * 100000 * o.scale / 365.0 * CASE WHEN extract(isodow FROM d) >= 6 THEN 1.6 ELSE 0.76 END)::numeric, 2), 0, 0
  FROM g_org o JOIN g_channel c ON c.code = 'offline'
 CROSS JOIN generate_series('2025-01-01'::date, '2025-12-31'::date, '1 day') AS d;

-- ---- sales organisation ---------------------------------------------------------
\if :{?progress}
\warn '  ... the sales organisation'
\endif
INSERT INTO leadmgmt.team (org_id, name) SELECT org_id, t FROM g_org, unnest('{北区 North,南区 South}'::text[]) t;
INSERT INTO leadmgmt.sales_rep (org_id, team_id, name, role, weight, daily_cap, holding_cap, tiers)
SELECT o.org_id, (SELECT min(team_id) FROM leadmgmt.team t WHERE t.org_id = o.org_id) + (n % 2),
       r.prefix || ' ' || n, r.role, CASE WHEN n % 4 = 0 THEN 2 ELSE 1 END, r.daily_cap, r.holding_cap, r.tiers
  FROM g_org o,
       (VALUES ('AI 助手 Bot', 'ai_bot', 1, 10000, 100000, '{D}'::text[]),
               ('TMK', 'tmk', 3, 400, 4000, '{C}'),
               ('Sales', 'sales', 8, 120, 1500, '{B}'),
               ('Top Sales', 'top_sales', 3, 60, 800, '{A}')) AS r(prefix, role, cnt, daily_cap, holding_cap, tiers),
       generate_series(1, r.cnt) AS n
 ORDER BY r.role, n;
INSERT INTO leadmgmt.rep_shift (org_id, rep_id, weekday, starts_at, ends_at)
SELECT r.org_id, r.rep_id, wd, CASE WHEN r.role = 'ai_bot' THEN '00:00' ELSE '09:00' END::time,
       CASE WHEN r.role = 'ai_bot' THEN '23:59:59' ELSE '18:00' END::time
  FROM leadmgmt.sales_rep r JOIN g_org o USING (org_id), generate_series(1, 7) wd
 WHERE r.role = 'ai_bot' OR wd <= 5 OR (wd = 6 AND r.rep_id % 2 = 0);
-- leave (since 0.16; the upgrade check loads this file into older versions):
-- a third of the people take a few days in the winter holidays
SELECT to_regclass('leadmgmt.rep_leave') IS NOT NULL AS has_leave \gset
\if :has_leave
INSERT INTO leadmgmt.rep_leave (org_id, rep_id, first_day, last_day, reason)
SELECT r.org_id, r.rep_id, '2026-01-20'::date + (r.rep_id % 20)::int, '2026-01-20'::date + (r.rep_id % 20)::int + (r.rep_id % 5)::int,
       'annual leave'
  FROM leadmgmt.sales_rep r JOIN g_org o USING (org_id)
 WHERE r.role <> 'ai_bot' AND r.rep_id % 3 = 0;
\endif
CREATE TEMP TABLE g_rep AS
SELECT r.rep_id, r.role, row_number() OVER (PARTITION BY r.role ORDER BY r.rep_id) - 1 AS k,
       count(*) OVER (PARTITION BY r.role) AS n
  FROM leadmgmt.sales_rep r JOIN g_org o USING (org_id);

INSERT INTO leadmgmt.teacher (org_id, name, kind, hired_on)
SELECT o.org_id, k.prefix || ' ' || n, k.kind, '2024-09-01'::date + n * 7
  FROM g_org o, (VALUES ('试听 Trial teacher', 'trial', 4), ('主讲 Lecturer', 'formal', 12), ('助教 Tutor', 'tutor', 6)) AS k(prefix, kind, cnt),
       generate_series(1, k.cnt) n ORDER BY k.kind, n;
CREATE TEMP TABLE g_teacher AS
SELECT t.teacher_id, t.kind, row_number() OVER (PARTITION BY t.kind ORDER BY t.teacher_id) - 1 AS k,
       count(*) OVER (PARTITION BY t.kind) AS n
  FROM leadmgmt.teacher t JOIN g_org o USING (org_id);

INSERT INTO leadmgmt.course (org_id, code, name, subject, level, age_min, age_max, lessons_per_term, price)
SELECT o.org_id, c.* FROM g_org o, (VALUES
  ('coding-scratch', '图形化编程 Scratch', 'coding', 1, 5, 9, 12, 3200.00),
  ('coding-python',  'Python 编程',       'coding', 2, 10, 13, 12, 3600.00),
  ('math-thinking',  '数学思维 Math',      'math',   1, 5, 13, 12, 2800.00),
  ('english-speak',  '英语口语 English',   'english', 1, 5, 13, 12, 2600.00))
  AS c(code, name, subject, level, age_min, age_max, lessons, price);

CREATE TEMP TABLE g_city (k int, city text, tier int, area text);
INSERT INTO g_city VALUES (0,'北京 Beijing',1,'Haidian'),(1,'上海 Shanghai',1,'Pudong'),(2,'深圳 Shenzhen',1,'Nanshan'),
  (3,'广州 Guangzhou',1,'Tianhe'),(4,'杭州 Hangzhou',2,'Xihu'),(5,'成都 Chengdu',2,'Wuhou'),(6,'武汉 Wuhan',2,'Hongshan'),
  (7,'南京 Nanjing',2,'Gulou'),(8,'苏州 Suzhou',2,'Gusu'),(9,'合肥 Hefei',3,'Shushan'),(10,'昆明 Kunming',3,'Wuhua'),
  (11,'南昌 Nanchang',3,'Donghu'),(12,'洛阳 Luoyang',4,'Laocheng'),(13,'株洲 Zhuzhou',4,'Tianyuan'),(14,'赣州 Ganzhou',5,'Zhanggong');

-- ---- leads ----------------------------------------------------------------------
\if :{?progress}
\warn '  ... leads, touchpoints, funnel events, follow-ups'
\endif
CREATE TEMP TABLE g_lead AS
WITH base AS (
  SELECT i, (SELECT coalesce(max(lead_id), 0) FROM leadmgmt.lead) AS id0,
         floor(pg_temp.u(i, 1) * 365)::int AS day0, pg_temp.u(i, 2) AS wk, pg_temp.u(i, 3) AS ch_u,
         5 + floor(pg_temp.u(i, 4) * 8)::int AS age, pg_temp.u(i, 5) AS subj_u,
         floor(pg_temp.u(i, 6) * pg_temp.u(i, 7) * 15)::int AS city_k, pg_temp.u(i, 8) AS tier_u,
         pg_temp.u(i, 9) AS pay_u, pg_temp.u(i, 10) AS trial_u, pg_temp.u(i, 11) AS hour_u
    FROM generate_series(1, greatest(1, (100000 * :scale)::int)) AS i
), dated AS (
  SELECT b.*, ('2025-01-01'::date + day0) AS d0 FROM base b
)
SELECT d.i, d.id0 + d.i AS lead_id, c.channel_id, c.code AS channel, c.kind AS channel_kind, c.quality,
       -- weekends are busier: a quarter of weekday leads move to that weekend
       (CASE WHEN extract(isodow FROM d.d0) <= 5 AND d.wk < 0.25 AND d.day0 + 7 - extract(isodow FROM d.d0)::int < 365
             THEN d.d0 + (6 - extract(isodow FROM d.d0)::int) + (CASE WHEN d.wk < 0.125 THEN 0 ELSE 1 END) ELSE d.d0 END
        + make_interval(hours => 8 + floor(d.hour_u * 15)::int, mins => floor(pg_temp.u(d.i, 12) * 60)::int))::timestamptz AS created_at,
       d.age, greatest(0, d.age - 6) AS grade,
       CASE WHEN d.subj_u < 0.45 THEN 'coding' WHEN d.subj_u < 0.75 THEN 'math' ELSE 'english' END AS subject,
       ct.city, ct.tier AS city_tier, ct.area,
       -- behaviour tier: better channels bring more A and B leads
       CASE WHEN d.tier_u + c.quality * 0.25 > 0.86 THEN 'A' WHEN d.tier_u + c.quality * 0.25 > 0.60 THEN 'B'
            WHEN d.tier_u + c.quality * 0.25 > 0.30 THEN 'C' ELSE 'D' END AS tier,
       d.pay_u, d.trial_u,
       pg_temp.u(d.i, 13) < 0.03 AS bad_phone
  FROM dated d
  JOIN g_channel c ON d.ch_u >= c.lo AND d.ch_u < c.hi
  JOIN g_city ct ON ct.k = d.city_k;
ALTER TABLE g_lead ADD COLUMN p_paid float8, ADD COLUMN paid boolean, ADD COLUMN booked boolean,
  ADD COLUMN attended boolean, ADD COLUMN campaign_id bigint, ADD COLUMN rep_id bigint, ADD COLUMN recycled boolean,
  ADD COLUMN arm text;
-- the holdout's leads go to regular sales whatever their tier: top sales
-- would have won a few more A leads, and sales win more of the C and D leads
-- than telemarketing and the bot do (the effect routing_holdout measures)
\if :has_holdout
UPDATE g_lead l SET arm = CASE WHEN leadmgmt.holdout_draw(1000 + :seed, l.lead_id) < 0.10 THEN 'holdout' ELSE 'tiered' END;
\endif
UPDATE g_lead SET p_paid = 1 / (1 + exp(-(-3.1
       + CASE tier WHEN 'A' THEN 2.6 WHEN 'B' THEN 1.4 WHEN 'C' THEN 0.2 ELSE -1.6 END
       + CASE WHEN arm = 'holdout' THEN CASE tier WHEN 'A' THEN -0.2 WHEN 'B' THEN 0 WHEN 'C' THEN 0.45 ELSE 0.9 END ELSE 0 END
       + quality + CASE city_tier WHEN 1 THEN 0.3 WHEN 2 THEN 0.1 WHEN 3 THEN 0 WHEN 4 THEN -0.2 ELSE -0.4 END
       + CASE WHEN grade BETWEEN 1 AND 2 THEN 0.2 WHEN grade >= 5 THEN -0.3 ELSE 0 END
       + CASE WHEN bad_phone THEN -9 ELSE 0 END)));
UPDATE g_lead SET paid = pay_u < p_paid;
UPDATE g_lead SET booked = paid OR tier = 'A' OR trial_u < CASE tier WHEN 'B' THEN 0.45 WHEN 'C' THEN 0.15 ELSE 0.02 END;
UPDATE g_lead SET attended = paid OR (booked AND pg_temp.u(i, 14) < 0.7),
                  recycled = NOT paid AND pg_temp.u(i, 15) < 0.5;
UPDATE g_lead l SET campaign_id = (SELECT cp.campaign_id FROM leadmgmt.campaign cp
                                    WHERE cp.org_id = (SELECT org_id FROM g_org) AND cp.channel_id = l.channel_id
                                    ORDER BY cp.campaign_id OFFSET floor(pg_temp.u(l.i, 16) * 3)::int LIMIT 1)
 WHERE channel_kind = 'paid';
UPDATE g_lead l SET rep_id = r.rep_id
  FROM g_rep r
 WHERE r.role = CASE WHEN l.arm = 'holdout' THEN 'sales'
                     ELSE CASE l.tier WHEN 'A' THEN 'top_sales' WHEN 'B' THEN 'sales' WHEN 'C' THEN 'tmk' ELSE 'ai_bot' END END
   AND r.k = l.i % r.n;

-- the phone as typed and in E.164
ALTER TABLE g_lead ADD COLUMN phone_raw text, ADD COLUMN phone text;
UPDATE g_lead l SET phone_raw = CASE WHEN l.bad_phone THEN '1' || lpad((l.i % 100000)::text, 5, '0')
                    ELSE '1' || (3 + l.i % 7) || lpad(((l.i::bigint * 7919 + :seed * 104729) % 1000000000)::text, 9, '0') END,
                    phone = CASE WHEN l.bad_phone THEN NULL
                    ELSE '+861' || (3 + l.i % 7) || lpad(((l.i::bigint * 7919 + :seed * 104729) % 1000000000)::text, 9, '0') END;
ANALYZE g_lead;
-- since 0.12 the number is in lead_contact (the lead has its masked form)
SELECT to_regclass('leadmgmt.lead_contact') IS NOT NULL AS has_contact \gset
\if :has_contact
INSERT INTO leadmgmt.lead (org_id, lead_id, phone_masked, phone_valid, name, child_age, grade, subject, city, city_tier,
                           first_channel_id, first_campaign_id, latest_channel_id, latest_campaign_id,
                           created_at, last_touch_at, updated_at, status, pool, owner_rep_id, owned_since, tier, attrs)
OVERRIDING SYSTEM VALUE
SELECT o.org_id, l.lead_id, leadmgmt.mask_phone(coalesce(l.phone, l.phone_raw)), l.phone IS NOT NULL,
       CASE WHEN pg_temp.u(l.i, 17) < 0.5 THEN '王' WHEN pg_temp.u(l.i, 17) < 0.75 THEN '李' ELSE '张' END
         || CASE WHEN pg_temp.u(l.i, 18) < 0.7 THEN '女士' ELSE '先生' END,
       l.age, l.grade, l.subject, l.city, l.city_tier,
       l.channel_id, l.campaign_id, l.channel_id, l.campaign_id, l.created_at, l.created_at, l.created_at,
       CASE WHEN l.paid THEN 'won' WHEN l.attended THEN 'trial_attended' WHEN l.booked THEN 'trial_booked'
            WHEN l.recycled THEN 'lost' ELSE 'contacting' END,
       CASE WHEN l.recycled THEN 'public' ELSE 'private' END,
       CASE WHEN l.recycled THEN NULL ELSE l.rep_id END,
       CASE WHEN l.recycled THEN NULL ELSE l.created_at + interval '5 minutes' END,
       l.tier, jsonb_build_object('landing_page', 'lp-' || (1 + l.i % 4))
  FROM g_lead l, g_org o;
INSERT INTO leadmgmt.lead_contact (org_id, lead_id, phone, phone_raw)
SELECT o.org_id, l.lead_id, l.phone, l.phone_raw FROM g_lead l, g_org o;
\else
INSERT INTO leadmgmt.lead (org_id, lead_id, phone_raw, phone, name, child_age, grade, subject, city, city_tier,
                           first_channel_id, first_campaign_id, latest_channel_id, latest_campaign_id,
                           created_at, last_touch_at, updated_at, status, pool, owner_rep_id, owned_since, tier, attrs)
OVERRIDING SYSTEM VALUE
SELECT o.org_id, l.lead_id, l.phone_raw, l.phone,
       CASE WHEN pg_temp.u(l.i, 17) < 0.5 THEN '王' WHEN pg_temp.u(l.i, 17) < 0.75 THEN '李' ELSE '张' END
         || CASE WHEN pg_temp.u(l.i, 18) < 0.7 THEN '女士' ELSE '先生' END,
       l.age, l.grade, l.subject, l.city, l.city_tier,
       l.channel_id, l.campaign_id, l.channel_id, l.campaign_id, l.created_at, l.created_at, l.created_at,
       CASE WHEN l.paid THEN 'won' WHEN l.attended THEN 'trial_attended' WHEN l.booked THEN 'trial_booked'
            WHEN l.recycled THEN 'lost' ELSE 'contacting' END,
       CASE WHEN l.recycled THEN 'public' ELSE 'private' END,
       CASE WHEN l.recycled THEN NULL ELSE l.rep_id END,
       CASE WHEN l.recycled THEN NULL ELSE l.created_at + interval '5 minutes' END,
       l.tier, jsonb_build_object('landing_page', 'lp-' || (1 + l.i % 4))
  FROM g_lead l, g_org o;
\endif
\if :has_holdout
UPDATE leadmgmt.lead x SET routing_arm = l.arm FROM g_lead l, g_org o WHERE x.org_id = o.org_id AND x.lead_id = l.lead_id;
\endif

-- touchpoints: earlier ad clicks and visits, then the form submission (15% submit twice)
INSERT INTO leadmgmt.touchpoint (org_id, lead_id, channel_id, campaign_id, kind, occurred_at)
SELECT o.org_id, l.lead_id, c.channel_id,
       CASE WHEN c.channel_id = l.channel_id THEN l.campaign_id END,
       CASE WHEN pg_temp.u(l.i * 8 + t, 20) < 0.6 THEN 'ad_click' ELSE 'visit' END,
       l.created_at - make_interval(hours => (1 + floor(pg_temp.u(l.i * 8 + t, 21) * 20 * 24))::int)
  FROM g_lead l CROSS JOIN g_org o
  CROSS JOIN LATERAL generate_series(1, floor(pg_temp.u(l.i, 22) * 4)::int) AS t
  JOIN g_channel c ON pg_temp.u(l.i * 8 + t, 23) >= c.lo AND pg_temp.u(l.i * 8 + t, 23) < c.hi;
INSERT INTO leadmgmt.touchpoint (org_id, lead_id, channel_id, campaign_id, kind, occurred_at)
SELECT o.org_id, l.lead_id, l.channel_id, l.campaign_id, 'form', l.created_at + (t - 1) * interval '3 days'
  FROM g_lead l CROSS JOIN g_org o CROSS JOIN LATERAL generate_series(1, CASE WHEN pg_temp.u(l.i, 24) < 0.15 THEN 2 ELSE 1 END) t;
UPDATE leadmgmt.lead ld SET last_touch_at = t.mx
  FROM (SELECT tp.lead_id, max(tp.occurred_at) AS mx FROM leadmgmt.touchpoint tp, g_org o
         WHERE tp.org_id = o.org_id GROUP BY tp.lead_id) t, g_org o
 WHERE ld.org_id = o.org_id AND ld.lead_id = t.lead_id AND t.mx > ld.last_touch_at;

-- funnel events
INSERT INTO leadmgmt.lead_event (org_id, lead_id, event_type, occurred_at, channel_id)
SELECT o.org_id, tp.lead_id, 'form_submitted', tp.occurred_at, tp.channel_id
  FROM leadmgmt.touchpoint tp JOIN g_org o USING (org_id) WHERE tp.kind = 'form';
INSERT INTO leadmgmt.lead_event (org_id, lead_id, event_type, occurred_at)
SELECT o.org_id, l.lead_id, e.event_type, l.created_at + e.after
  FROM g_lead l CROSS JOIN g_org o
  CROSS JOIN LATERAL (VALUES
     ('sms_verified',    interval '2 minutes', l.tier <> 'D'),
     ('wechat_followed', interval '30 minutes', l.tier IN ('A', 'B')),
     ('trial_booked',    interval '1 day' * (CASE l.tier WHEN 'A' THEN 0.05 ELSE 2 + pg_temp.u(l.i, 30) * 5 END), l.booked),
     ('trial_attended',  interval '1 day' * (8 + pg_temp.u(l.i, 31) * 4), l.attended),
     ('paid',            interval '1 day' * (10 + pg_temp.u(l.i, 32) * 10), l.paid),
     ('lost',            interval '40 days', l.recycled AND pg_temp.u(l.i, 33) < 0.3)) AS e(event_type, after, happened)
 WHERE e.happened;

-- the lifecycle's history (since 0.14): each lead's moves as the lifecycle
-- records them, contacting at the first follow-up, the trials, the payment,
-- the loss at recycling (with a reason from the org's list), each at its
-- time and never before the move before it; then each lead's last move
SELECT to_regclass('leadmgmt.lead_status_change') IS NOT NULL AS has_lifecycle \gset
\if :has_lifecycle
INSERT INTO leadmgmt.lead_status_change (org_id, lead_id, from_status, to_status, changed_at, cause, note, lost_reason, rep_id, changed_by)
SELECT o.org_id, m.lead_id, coalesce(lag(m.to_status) OVER w, 'new'), m.to_status, max(m.at) OVER w, m.cause, m.note, m.reason,
       CASE WHEN m.to_status <> 'lost' THEN m.rep_id END, 'demo'
  FROM (SELECT l.lead_id, l.rep_id, s.k, s.to_status, l.created_at + s.after AS at, s.cause, s.note, s.reason
          FROM g_lead l
         CROSS JOIN LATERAL (VALUES
           (1, 'contacting', interval '10 minutes', 'follow_up', 'first follow-up', NULL::text, true),
           (2, 'trial_booked', interval '1 day' * (CASE l.tier WHEN 'A' THEN 0.05 ELSE 2 + pg_temp.u(l.i, 30) * 5 END),
               'event', 'event trial_booked', NULL, l.booked),
           (3, 'trial_attended', interval '1 day' * (8 + pg_temp.u(l.i, 31) * 4), 'event', 'event trial_attended', NULL, l.attended),
           (4, 'won', interval '1 day' * (10 + pg_temp.u(l.i, 32) * 10), 'order', 'order paid', NULL, l.paid),
           (5, 'lost', interval '30 days', 'lost', 'recycled without a deal',
               (ARRAY['price', 'schedule', 'no_need', 'unreachable', 'competitor', 'location', 'other'])
                 [1 + floor(pg_temp.u(l.i, 35) * 7)::int],
               l.recycled AND NOT l.booked)) AS s(k, to_status, after, cause, note, reason, happened)
         WHERE s.happened) m
  CROSS JOIN g_org o
WINDOW w AS (PARTITION BY m.lead_id ORDER BY m.k);
UPDATE leadmgmt.lead x SET status_changed_at = c.changed_at, status_note = c.note, lost_reason = c.lost_reason
  FROM (SELECT DISTINCT ON (sc.lead_id) sc.lead_id, sc.changed_at, sc.note, sc.lost_reason
          FROM leadmgmt.lead_status_change sc JOIN g_org o USING (org_id)
         ORDER BY sc.lead_id, array_position('{contacting,trial_booked,trial_attended,won,lost}'::text[], sc.to_status) DESC) c
 WHERE x.org_id = (SELECT org_id FROM g_org) AND x.lead_id = c.lead_id;
\endif

-- assignment history and follow-ups (cost by tier: bot, telemarketing, sales, top sales)
INSERT INTO leadmgmt.assignment (org_id, lead_id, rep_id, assigned_at, reason, released_at, release_reason)
SELECT o.org_id, l.lead_id, l.rep_id, l.created_at + interval '5 minutes', 'round_robin',
       CASE WHEN l.recycled THEN l.created_at + interval '30 days' END,
       CASE WHEN l.recycled THEN CASE WHEN pg_temp.u(l.i, 34) < 0.5 THEN 'recycle_no_follow_up' ELSE 'recycle_no_deal' END END
  FROM g_lead l, g_org o;
INSERT INTO leadmgmt.follow_up (org_id, lead_id, rep_id, channel, outcome, cost, duration_s, occurred_at)
SELECT o.org_id, l.lead_id, l.rep_id,
       CASE l.h WHEN 'D' THEN 'ai_call' ELSE (ARRAY['call', 'call', 'wechat', 'sms'])[1 + floor(pg_temp.u(l.i * 8 + f, 40) * 4)::int] END,
       CASE WHEN l.booked AND f = 1 THEN 'trial_booked'
            ELSE (ARRAY['connected', 'no_answer', 'busy', 'interested', 'not_interested'])[1 + floor(pg_temp.u(l.i * 8 + f, 41) * 5)::int] END,
       CASE l.h WHEN 'D' THEN 0.30 WHEN 'C' THEN 3.00 WHEN 'B' THEN 20.00 ELSE 30.00 END,
       floor(pg_temp.u(l.i * 8 + f, 42) * 600)::int,
       l.created_at + interval '10 minutes' + (f - 1) * interval '1 day' * (1 + pg_temp.u(l.i * 8 + f, 43) * 2)
  FROM (SELECT g.*, CASE WHEN g.arm = 'holdout' THEN 'B' ELSE g.tier END AS h FROM g_lead g) l CROSS JOIN g_org o
  CROSS JOIN LATERAL generate_series(1, CASE l.h WHEN 'D' THEN 1 WHEN 'C' THEN 2 WHEN 'B' THEN 3 ELSE 4 END
                                        + floor(pg_temp.u(l.i, 44) * 2)::int) AS f;
INSERT INTO leadmgmt.trial_lesson (org_id, lead_id, course_id, teacher_id, booked_at, scheduled_at, attended_at, status, self_booked)
SELECT o.org_id, l.lead_id, c.course_id, t.teacher_id,
       l.created_at + interval '1 hour', l.created_at + interval '1 day' * (8 + pg_temp.u(l.i, 31) * 4),
       CASE WHEN l.attended THEN l.created_at + interval '1 day' * (8 + pg_temp.u(l.i, 31) * 4) END,
       CASE WHEN l.attended THEN 'attended' WHEN pg_temp.u(l.i, 35) < 0.7 THEN 'no_show' ELSE 'cancelled' END,
       l.tier = 'A'
  FROM g_lead l CROSS JOIN g_org o
  JOIN leadmgmt.course c ON c.org_id = o.org_id
   AND c.code = CASE l.subject WHEN 'coding' THEN CASE WHEN l.age >= 10 THEN 'coding-python' ELSE 'coding-scratch' END
                               WHEN 'math' THEN 'math-thinking' ELSE 'english-speak' END
  JOIN g_teacher t ON t.kind = 'trial' AND t.k = l.i % t.n
 WHERE l.booked;

-- ---- service: students, terms, classes, renewals ------------------------------------
\if :{?progress}
\warn '  ... service: students, terms, classes, attendance, renewals'
\endif
CREATE TEMP TABLE g_term (term int, term_start date, term_end date);
INSERT INTO g_term VALUES (1, '2025-01-06', '2025-03-30'), (2, '2025-04-07', '2025-06-29'),
  (3, '2025-07-07', '2025-09-28'), (4, '2025-10-06', '2025-12-28'), (5, '2026-01-05', '2026-03-29'),
  (6, '2026-04-06', '2026-06-28');
CREATE TEMP TABLE g_student AS
SELECT l.i, l.lead_id, l.age, l.grade, l.subject, l.area, l.city,
       (SELECT coalesce(max(student_id), 0) FROM leadmgmt.student) + row_number() OVER (ORDER BY l.lead_id) AS student_id,
       l.created_at + interval '1 day' * (10 + pg_temp.u(l.i, 32) * 10) AS paid_at,
       c.course_id, c.price, c.code AS course_code,
       -- first term: the next one that starts after payment
       (SELECT min(t.term) FROM g_term t WHERE t.term_start > (l.created_at + interval '1 day' * (10 + pg_temp.u(l.i, 32) * 10))::date) AS first_term,
       -- renewal chance per term: grade 3 (8-9-year-olds) in coding churns far more
       CASE WHEN l.subject = 'coding' AND l.age BETWEEN 8 AND 9 THEN 0.42 ELSE 0.78 END AS p_renew,
       pg_temp.u(l.i, 50) < 0.03 AS full_refund
  FROM g_lead l
  JOIN leadmgmt.course c ON c.org_id = (SELECT org_id FROM g_org)
   AND c.code = CASE l.subject WHEN 'coding' THEN CASE WHEN l.age >= 10 THEN 'coding-python' ELSE 'coding-scratch' END
                               WHEN 'math' THEN 'math-thinking' ELSE 'english-speak' END
 WHERE l.paid;
DELETE FROM g_student WHERE first_term IS NULL OR first_term > 5;
ALTER TABLE g_student ADD COLUMN last_k int;
-- last_k: how many renewals the student makes before churning (terms run to 6)
UPDATE g_student s SET last_k = CASE WHEN s.full_refund THEN 0 ELSE
  coalesce((SELECT min(k) - 1 FROM generate_series(1, 6) k WHERE pg_temp.u(s.i, 60 + k) >= s.p_renew), 6) END;
UPDATE g_student s SET last_k = least(last_k, 6 - first_term);

INSERT INTO leadmgmt.student (org_id, student_id, lead_id, name, birth_date, grade, created_at)
OVERRIDING SYSTEM VALUE
SELECT o.org_id, s.student_id, s.lead_id, '学员 ' || s.student_id,
       make_date(2025 - s.age, 1 + s.i % 12, 1 + s.i % 28), s.grade, s.paid_at
  FROM g_student s, g_org o;

ANALYZE g_student, leadmgmt.lead, leadmgmt.student;
CREATE TEMP TABLE g_enroll AS
SELECT s.*, k, s.first_term + k AS term,
       (s.age - s.age % 2) AS band,
       (SELECT coalesce(max(enrollment_id), 0) FROM leadmgmt.enrollment) + row_number() OVER (ORDER BY s.student_id, k) AS enrollment_id,
       (SELECT coalesce(max(order_id), 0) FROM leadmgmt.sales_order) + row_number() OVER (ORDER BY s.student_id, k) AS order_id,
       pg_temp.u(s.i * 8 + k, 70) < 0.12 AS coupon
  FROM g_student s CROSS JOIN LATERAL generate_series(0, s.last_k) AS k;
-- classes of at most 12: by course, term, area and two-year age band
ALTER TABLE g_enroll ADD COLUMN section int, ADD COLUMN class_id bigint;
UPDATE g_enroll e SET section = x.sec FROM (
  SELECT enrollment_id, (row_number() OVER (PARTITION BY course_id, term, area, band ORDER BY student_id) - 1) / 12 AS sec
    FROM g_enroll) x WHERE x.enrollment_id = e.enrollment_id;
CREATE TEMP TABLE g_class AS
SELECT (SELECT coalesce(max(class_id), 0) FROM leadmgmt.course_class) + row_number() OVER (ORDER BY course_id, term, area, band, section) AS class_id,
       course_id, course_code, term, area, band, section
  FROM (SELECT DISTINCT course_id, course_code, term, area, band, section FROM g_enroll) d;
UPDATE g_enroll e SET class_id = c.class_id FROM g_class c
 WHERE (c.course_id, c.term, c.area, c.band, c.section) = (e.course_id, e.term, e.area, e.band, e.section);

ANALYZE g_enroll, g_class;
INSERT INTO leadmgmt.course_class (org_id, class_id, course_id, teacher_id, tutor_id, name, term_start, term_end, capacity,
                                   age_min, age_max, level, area, schedule, status)
OVERRIDING SYSTEM VALUE
SELECT o.org_id, c.class_id, c.course_id, tf.teacher_id, tt.teacher_id,
       c.course_code || ' ' || t.term_start || ' ' || c.area || ' ' || c.band || '-' || (c.band + 1) || ' #' || (c.section + 1),
       t.term_start, t.term_end, 12, c.band, c.band + 1, 1, c.area,
       (ARRAY['Sat', 'Sun', 'Wed'])[1 + c.class_id % 3] || ' ' || (ARRAY['10:00', '14:00', '19:00'])[1 + (c.class_id / 3) % 3],
       CASE WHEN t.term = 6 THEN 'running' ELSE 'finished' END
  FROM g_class c CROSS JOIN g_org o
  JOIN g_term t ON t.term = c.term
  JOIN g_teacher tf ON tf.kind = 'formal' AND tf.k = (c.class_id * 7 + c.term) % tf.n
  JOIN g_teacher tt ON tt.kind = 'tutor' AND tt.k = c.class_id % tt.n;

INSERT INTO leadmgmt.promotion (org_id, kind, name, discount_amount, starts_at, ends_at)
SELECT org_id, 'coupon', '新生立减 New student 200', 200, '2025-01-01+08', '2026-07-01+08' FROM g_org;
INSERT INTO leadmgmt.promotion (org_id, kind, name, discount_percent, group_size, starts_at, ends_at)
SELECT org_id, 'group_buy', '三人拼团 Group of 3', 15, 3, '2025-01-01+08', '2026-07-01+08' FROM g_org;

INSERT INTO leadmgmt.sales_order (org_id, order_id, lead_id, student_id, course_id, rep_id, promotion_id, product,
                                  list_price, discount, amount, status, is_renewal, created_at, paid_at)
OVERRIDING SYSTEM VALUE
SELECT o.org_id, e.order_id, e.lead_id, e.student_id, e.course_id, CASE WHEN e.k = 0 THEN l.rep_id END,
       CASE WHEN e.coupon THEN (SELECT min(promotion_id) FROM leadmgmt.promotion p WHERE p.org_id = o.org_id) END,
       e.course_code || ' term ' || t.term_start, e.price, CASE WHEN e.coupon THEN 200 ELSE 0 END,
       e.price - CASE WHEN e.coupon THEN 200 ELSE 0 END, 'paid', e.k > 0, pay.at, pay.at
  FROM g_enroll e CROSS JOIN g_org o
  JOIN g_lead l ON l.lead_id = e.lead_id
  JOIN g_term t ON t.term = e.term
  CROSS JOIN LATERAL (SELECT CASE WHEN e.k = 0 THEN e.paid_at
                                  ELSE (t.term_start - 10)::timestamptz + interval '1 hour' * floor(pg_temp.u(e.i * 8 + e.k, 71) * 200) END AS at) pay;
INSERT INTO leadmgmt.coupon (org_id, promotion_id, code, lead_id, issued_at, expires_at, redeemed_at, order_id)
SELECT o.org_id, so.promotion_id, 'NEW200-' || so.order_id, so.lead_id, so.paid_at - interval '3 days', so.paid_at + interval '60 days',
       so.paid_at, so.order_id
  FROM leadmgmt.sales_order so JOIN g_org o USING (org_id) WHERE so.discount > 0;

INSERT INTO leadmgmt.enrollment (org_id, enrollment_id, student_id, class_id, order_id, enrolled_at, status, ended_at)
OVERRIDING SYSTEM VALUE
SELECT o.org_id, e.enrollment_id, e.student_id, e.class_id, e.order_id, t.term_start::timestamptz,
       CASE WHEN e.full_refund THEN 'refunded' WHEN t.term = 6 THEN 'active' ELSE 'completed' END,
       CASE WHEN e.full_refund THEN t.term_start + 14 WHEN t.term = 6 THEN NULL ELSE t.term_end END::timestamptz
  FROM g_enroll e CROSS JOIN g_org o JOIN g_term t ON t.term = e.term;
INSERT INTO leadmgmt.renewal (org_id, from_enrollment_id, to_enrollment_id, order_id, renewed_at)
SELECT o.org_id, prev.enrollment_id, e.enrollment_id, e.order_id, so.paid_at
  FROM g_enroll e CROSS JOIN g_org o
  JOIN g_enroll prev ON prev.student_id = e.student_id AND prev.k = e.k - 1
  JOIN leadmgmt.sales_order so ON so.org_id = o.org_id AND so.order_id = e.order_id
 WHERE e.k > 0;
INSERT INTO leadmgmt.refund (org_id, order_id, amount, refunded_at, reason)
SELECT o.org_id, e.order_id, CASE WHEN e.full_refund THEN e.price - CASE WHEN e.coupon THEN 200 ELSE 0 END ELSE 300 END,
       (t.term_start + 14)::timestamptz, CASE WHEN e.full_refund THEN '退课 dropped out' ELSE '课时补偿 schedule change' END
  FROM g_enroll e CROSS JOIN g_org o JOIN g_term t ON t.term = e.term
 WHERE e.k = 0 AND (e.full_refund OR pg_temp.u(e.i, 51) < 0.02);

-- lessons, attendance and homework: families about to churn attend and submit less
INSERT INTO leadmgmt.lesson (org_id, class_id, seq, starts_at, ends_at)
SELECT o.org_id, c.class_id, n, (t.term_start + (n - 1) * 7)::timestamp + interval '10 hours',
       (t.term_start + (n - 1) * 7)::timestamp + interval '11 hours 30 minutes'
  FROM g_class c CROSS JOIN g_org o JOIN g_term t ON t.term = c.term, generate_series(1, 12) n
 WHERE t.term < 6 OR n <= 4;
INSERT INTO leadmgmt.attendance (org_id, lesson_id, student_id, status, checked_at)
SELECT o.org_id, ls.lesson_id, e.student_id,
       CASE WHEN pg_temp.u(e.enrollment_id * 16 + ls.seq, 80) < CASE WHEN e.k = e.last_k AND e.term < 6 THEN 0.68 ELSE 0.93 END
            THEN CASE WHEN pg_temp.u(e.enrollment_id * 16 + ls.seq, 81) < 0.08 THEN 'late' ELSE 'present' END
            WHEN pg_temp.u(e.enrollment_id * 16 + ls.seq, 82) < 0.3 THEN 'excused' ELSE 'absent' END,
       ls.starts_at + interval '5 minutes'
  FROM g_enroll e CROSS JOIN g_org o
  JOIN leadmgmt.lesson ls ON ls.org_id = o.org_id AND ls.class_id = e.class_id
 WHERE NOT e.full_refund OR ls.seq <= 2;
ANALYZE leadmgmt.lesson, leadmgmt.attendance, leadmgmt.course_class;
INSERT INTO leadmgmt.homework (org_id, lesson_id, title, assigned_at, due_at)
SELECT ls.org_id, ls.lesson_id, 'Homework ' || ls.seq, ls.ends_at, ls.ends_at + interval '6 days'
  FROM leadmgmt.lesson ls JOIN g_org o USING (org_id);
ANALYZE leadmgmt.homework;
INSERT INTO leadmgmt.homework_submission (org_id, homework_id, student_id, submitted_at, score, graded_at, graded_by)
SELECT a.org_id, h.homework_id, a.student_id,
       h.assigned_at + interval '1 hour' * (2 + floor(pg_temp.u(h.homework_id * 64 + a.student_id % 64, 90) * 170)),
       round((55 + pg_temp.u(h.homework_id * 64 + a.student_id % 64, 91) * 45)::numeric, 1),
       h.due_at + interval '2 days', c.tutor_id
  FROM leadmgmt.attendance a JOIN g_org o USING (org_id)
  JOIN leadmgmt.homework h ON h.org_id = a.org_id AND h.lesson_id = a.lesson_id
  JOIN leadmgmt.lesson ls ON ls.org_id = a.org_id AND ls.lesson_id = a.lesson_id
  JOIN leadmgmt.course_class c ON c.org_id = a.org_id AND c.class_id = ls.class_id
 WHERE a.status IN ('present', 'late') AND pg_temp.u(h.homework_id * 64 + a.student_id % 64, 92) < 0.82
   AND h.due_at + interval '2 days' < '2026-05-01';

-- referrals: a tenth of referral leads name a student who joined before 2025-04
CREATE TEMP TABLE g_early AS
SELECT student_id, row_number() OVER (ORDER BY student_id) - 1 AS k FROM g_student WHERE paid_at < '2025-04-01';
SELECT greatest(1, count(*)) AS n_early FROM g_early \gset
INSERT INTO leadmgmt.referral (org_id, referrer_student_id, referred_lead_id, referred_at, reward)
SELECT o.org_id, e.student_id, l.lead_id, l.created_at, 100
  FROM g_lead l CROSS JOIN g_org o
  JOIN g_early e ON e.k = l.i % :n_early
 WHERE l.channel = 'referral' AND l.created_at >= '2025-04-01' AND pg_temp.u(l.i, 52) < 0.4;

-- group-buys and community groups
INSERT INTO leadmgmt.group_buy (org_id, promotion_id, leader_lead_id, opened_at, closes_at, status)
SELECT o.org_id, (SELECT max(promotion_id) FROM leadmgmt.promotion p WHERE p.org_id = o.org_id), l.lead_id,
       l.created_at, l.created_at + interval '2 days', CASE WHEN pg_temp.u(l.i, 53) < 0.6 THEN 'formed' ELSE 'failed' END
  FROM g_lead l CROSS JOIN g_org o WHERE l.tier IN ('A', 'B') AND pg_temp.u(l.i, 54) < 0.02;
INSERT INTO leadmgmt.group_buy_member (org_id, group_buy_id, lead_id, joined_at)
SELECT gb.org_id, gb.group_buy_id, gb.leader_lead_id + n, gb.opened_at + interval '1 hour' * n
  FROM leadmgmt.group_buy gb JOIN g_org o USING (org_id), generate_series(0, 2) n
 WHERE (n < 2 OR gb.status = 'formed')
   AND EXISTS (SELECT 1 FROM leadmgmt.lead l WHERE l.org_id = gb.org_id AND l.lead_id = gb.leader_lead_id + n);
INSERT INTO leadmgmt.community_group (org_id, name, platform, class_id, owner_teacher_id, created_at)
SELECT cc.org_id, '班级群 ' || cc.name, 'wechat', cc.class_id, cc.tutor_id, cc.term_start - 3
  FROM leadmgmt.course_class cc JOIN g_org o USING (org_id);
INSERT INTO leadmgmt.community_member (org_id, group_id, lead_id, joined_at, left_at)
SELECT g.org_id, g.group_id, s.lead_id, g.created_at,
       CASE WHEN e.status = 'refunded' THEN e.ended_at END
  FROM leadmgmt.community_group g JOIN g_org o USING (org_id)
  JOIN leadmgmt.enrollment e ON e.org_id = g.org_id AND e.class_id = g.class_id
  JOIN leadmgmt.student s ON s.org_id = e.org_id AND s.student_id = e.student_id;

INSERT INTO leadmgmt.tag (org_id, name) SELECT org_id, t FROM g_org, unnest('{价格敏感 price-sensitive,二胎 second child,老带新 referred,高意向 high intent}'::text[]) t;
INSERT INTO leadmgmt.lead_tag (org_id, lead_id, tag_id, tagged_at)
SELECT o.org_id, l.lead_id, t.tag_id, l.created_at + interval '1 day'
  FROM g_lead l CROSS JOIN g_org o
  JOIN leadmgmt.tag t ON t.org_id = o.org_id AND t.name = CASE WHEN l.tier = 'A' THEN '高意向 high intent'
                                                                 WHEN l.channel = 'referral' THEN '老带新 referred'
                                                                 ELSE '价格敏感 price-sensitive' END
 WHERE pg_temp.u(l.i, 55) < 0.2;

-- identities go on after the rows given explicit ids
DO $$
DECLARE r record; mx bigint;
BEGIN
  FOR r IN SELECT * FROM (VALUES ('lead', 'lead_id'), ('student', 'student_id'), ('course_class', 'class_id'),
                                 ('sales_order', 'order_id'), ('enrollment', 'enrollment_id')) AS v(t, c) LOOP
    EXECUTE format('SELECT max(%I) FROM leadmgmt.%I', r.c, r.t) INTO mx;
    IF mx IS NOT NULL THEN
      PERFORM setval(pg_get_serial_sequence(format('leadmgmt.%I', r.t), r.c), mx);
    END IF;
  END LOOP;
END $$;

SELECT org_id AS demo_org_id FROM g_org \gset
COMMIT;
ANALYZE;
