#!/usr/bin/env bash
# Install the oldest frozen version, load demo data, update step by step to
# the newest, and check that the catalog equals a fresh install of the
# newest version and that every row survived.
source "$(dirname "$0")/lib.sh"
newest=$(sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" "$LM_TOP/leadmgmt.control")
oldest=$(ls "$LM_TOP"/src/sql/history/ | sed -n 's/^leadmgmt--\([0-9.]*\)\.sql$/\1/p' | sort -V | head -1)
oldest=${oldest:-$newest}
echo "# upgrade path from $oldest to $newest"

for db in lm_upgraded lm_fresh; do dropdb --if-exists "$db"; createdb "$db"; done
psql -X -q -v ON_ERROR_STOP=1 -d lm_upgraded -c "CREATE EXTENSION leadmgmt VERSION '$oldest'" &&
  psql -X -q -v ON_ERROR_STOP=1 -d lm_upgraded -v scale=0.01 -v seed=7 -f "$LM_TOP/test/demo/generate.sql" >/dev/null &&
  psql -X -q -v ON_ERROR_STOP=1 -d lm_upgraded -c "SELECT leadmgmt.grant_access('lm_bi', 1, 'reporting')" >/dev/null
check "version $oldest installs and takes the demo data and a reporting grant" [ $? -eq 0 ]
table_counts lm_upgraded >"$LM_TMP/before"
phones_q="SELECT count(*) || ' ' || md5(string_agg(format('%s|%s|%s|%s', org_id, lead_id, phone, phone_raw), ',' ORDER BY org_id, lead_id))"
phones_before=$(psql -X -At -d lm_upgraded -c "$phones_q FROM leadmgmt.lead WHERE phone IS NOT NULL OR phone_raw IS NOT NULL")

path=$(psql -X -At -d lm_upgraded -c "SELECT path FROM pg_extension_update_paths('leadmgmt') WHERE source = '$oldest' AND target = '$newest'")
if [ "$oldest" != "$newest" ] && [ -z "$path" ]; then
  not_ok "there is an update path from $oldest to $newest"
fi
IFS='-' read -ra steps <<<"${path//--/-}"
for v in "${steps[@]:1}"; do
  psql -X -q -v ON_ERROR_STOP=1 -d lm_upgraded -c "ALTER EXTENSION leadmgmt UPDATE TO '$v'"
  check "ALTER EXTENSION leadmgmt UPDATE TO '$v'" [ $? -eq 0 ]
done
check "after the update the extension is at $newest" \
  [ "$(psql -X -At -d lm_upgraded -c "SELECT extversion FROM pg_extension WHERE extname = 'leadmgmt'")" = "$newest" ]

# Since 0.11 the tables are not members of the extension: the update makes
# them ordinary tables holding the schema of 0.10, and leadmgmt.install()
# applies the steps of the schema after it.  Until then the code says so.
msg=$(psql -X -At -v VERBOSITY=verbose -d lm_upgraded -c "SELECT leadmgmt.ingest_lead(1, '13800000000', 'baidu', NULL, now())" 2>&1)
if grep -q 'ERROR:  55000: .*schema is at version 0.10' <<<"$msg" && grep -q 'HINT:  Run SELECT leadmgmt.install()' <<<"$msg"; then
  ok "before install() a write function refuses with 55000 and names the call to run"
else
  not_ok "before install() a write function refuses with 55000 and names the call to run"
fi
members=$(psql -X -At -d lm_upgraded -c "SELECT count(*) FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
  WHERE d.classid = 'pg_class'::regclass AND d.deptype = 'e'
    AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'leadmgmt')")
check "after the update no table, sequence or view is a member of the extension ($members)" [ "$members" = 0 ]
got=$(psql -X -At -v ON_ERROR_STOP=1 -d lm_upgraded -c "SELECT leadmgmt.install()" -c "SELECT leadmgmt.install()" 2>&1)
after=$(psql -X -At -d lm_upgraded -c "SELECT array_to_string(s[array_position(s, '0.10') + 1:], ', ') FROM leadmgmt.schema_steps() s")
# the schema's version is its last step's (a version of the code alone adds none)
last=$(psql -X -At -d lm_upgraded -c "SELECT s[cardinality(s)] FROM leadmgmt.schema_steps() s")
check "install() applies the missing steps ($after), then has nothing left to do: $(paste -sd';' <<<"$got")" \
  [ "$got" = "$(printf 'updated schema 0.10 to %s (steps %s)\nschema %s is up to date' "$last" "$after" "$last")" ]

psql -X -q -v ON_ERROR_STOP=1 -d lm_fresh -c "CREATE EXTENSION leadmgmt" -c "SELECT leadmgmt.install()" \
  -c "SELECT leadmgmt.create_org('Fresh')" -c "SELECT leadmgmt.grant_access('lm_bi', 1, 'reporting')" >/dev/null
check "a role granted before the update reads what the update added (every table and view but lead_contact, the phones)" [ "$(psql -X -At -d lm_upgraded -c \
  "SELECT bool_and(has_table_privilege('lm_bi', c.oid, 'SELECT')) FROM pg_class c
    WHERE c.relnamespace = 'leadmgmt'::regnamespace AND c.relkind IN ('r', 'v') AND c.relname <> 'lead_contact'")" = t ]
check "... but not the phones, and no column privilege is left of 0.11's" [ "$(psql -X -At -d lm_upgraded -c \
  "SELECT has_table_privilege('lm_bi', 'leadmgmt.lead_contact', 'SELECT') || ',' || count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    WHERE c.relnamespace = 'leadmgmt'::regnamespace AND a.attacl IS NOT NULL AND NOT a.attisdropped")" = "false,0" ]
psql -X -q -d lm_upgraded -f "$LM_TOP/test/harness/catalog.sql" >"$LM_TMP/upgraded.cat"
psql -X -q -d lm_fresh -f "$LM_TOP/test/harness/catalog.sql" >"$LM_TMP/fresh.cat"
echo "# catalog description: $(wc -l <"$LM_TMP/fresh.cat") lines"
if diff "$LM_TMP/fresh.cat" "$LM_TMP/upgraded.cat" >"$LM_TMP/cat.diff"; then
  ok "the upgraded catalog equals a fresh install of $newest (tables, columns, constraints, indexes, functions, views, policies, triggers, comments, grants)"
else
  not_ok "the upgraded catalog equals a fresh install of $newest"
  head -40 "$LM_TMP/cat.diff" | sed 's/^/# /'
fi
# tables the update added start empty; every table that was there keeps its rows
table_counts lm_upgraded | awk 'NR == FNR {had[$1]; next} $1 in had' "$LM_TMP/before" - >"$LM_TMP/after"
if diff "$LM_TMP/before" "$LM_TMP/after" >/dev/null; then
  ok "every row survived the update ($(awk '{s+=$2} END {print s}' "$LM_TMP/after") rows in $(wc -l <"$LM_TMP/after") tables)"
else
  not_ok "every row survived the update"; diff "$LM_TMP/before" "$LM_TMP/after" | sed 's/^/# /'
fi

# 0.12 moved the phones from lead into lead_contact: every one of them
check "every phone moved from lead to lead_contact (${phones_before%% *} leads with a phone)" \
  [ "$(psql -X -At -d lm_upgraded -c "$phones_q FROM leadmgmt.lead_contact")" = "$phones_before" ]

# the comparison itself must notice a difference, or it proves nothing
psql -X -q -d lm_fresh -c "ALTER TABLE leadmgmt.tag ADD COLUMN color text" -c "COMMENT ON TABLE leadmgmt.course IS 'changed'"
psql -X -q -d lm_fresh -f "$LM_TOP/test/harness/catalog.sql" >"$LM_TMP/fresh2.cat"
check "the catalog comparison notices an added column and a changed comment" \
  [ "$(diff "$LM_TMP/fresh.cat" "$LM_TMP/fresh2.cat" | grep -c '^>')" -ge 2 ]
dropdb lm_fresh

# The C symbols 0.10 renamed stay in the library as aliases, so that older
# versions install and run: every renamed function gives the same answers
# through its 0.9 symbol and, after the update, through its new one.
q=$(cat <<'SQL'
SELECT leadmgmt.normalize_phone('138 1234 5678'), leadmgmt.mask_phone('+8613812345678');
WITH e(id, ts, a, b, c) AS (VALUES (1, '2026-01-01 00:00'::timestamptz, true, false, false),
  (1, '2026-01-01 00:10', false, true, false), (1, '2026-01-01 00:20', false, false, true),
  (2, '2026-01-01 00:00', true, false, false), (2, '2026-01-01 02:00', false, true, false))
SELECT id, leadmgmt.window_funnel('1 hour', ts, VARIADIC ARRAY[a, b, c]),
       leadmgmt.window_funnel('1 hour', 'first_entry', ts, VARIADIC ARRAY[a, b, c]),
       leadmgmt.window_funnel('1 hour', ts, a, b, c), leadmgmt.window_funnel('1 hour', 'strict_order', ts, a, b, c),
       leadmgmt.window_funnel_excluding('1 hour', '', ts, false, VARIADIC ARRAY[a, b, c]),
       leadmgmt.window_funnel_excluding('1 hour', '', ts, false, a, b, c),
       leadmgmt.funnel_detail('1 hour', ts, a, b, c)
  FROM e GROUP BY id ORDER BY id;
WITH s(g, d, ev, en, w) AS (VALUES ('x', 3.0, true, 0.0, 1.0), ('x', 5.0, false, 1.0, 2.0), ('y', 4.0, true, 0.5, 1.0),
                                   ('y', 6.0, true, 0.0, 1.0), ('x', 7.0, true, 2.0, 1.0))
SELECT leadmgmt.km_fit(d, ev)::text, leadmgmt.km_fit(d, ev, w)::text, leadmgmt.km_fit(en, d, ev)::text,
       leadmgmt.km_fit(en, d, ev, w)::text, leadmgmt.survival_by(g, d, ev)::text, (leadmgmt.logrank(g, d, ev)).*
  FROM s;
SQL
)
dropdb --if-exists lm_symbols; createdb lm_symbols
psql -X -q -v ON_ERROR_STOP=1 -d lm_symbols -c "CREATE EXTENSION leadmgmt VERSION '0.9'" >/dev/null
psql -X -At -v ON_ERROR_STOP=1 -d lm_symbols -c "$q" >"$LM_TMP/old-symbols" 2>&1
old_rc=$?
psql -X -q -v ON_ERROR_STOP=1 -d lm_symbols -c "ALTER EXTENSION leadmgmt UPDATE" >/dev/null
up_rc=$?
psql -X -At -v ON_ERROR_STOP=1 -d lm_symbols -c "$q" >"$LM_TMP/new-symbols" 2>&1
if [ $old_rc -eq 0 ] && [ $up_rc -eq 0 ] && cmp -s "$LM_TMP/old-symbols" "$LM_TMP/new-symbols"; then
  ok "0.9's C symbols still answer, as the renamed ones do after the update ($(wc -l <"$LM_TMP/new-symbols") lines)"
else
  not_ok "0.9's C symbols still answer, as the renamed ones do after the update ($(wc -l <"$LM_TMP/new-symbols") lines)"
fi
check "after the update every C function's symbol is leadmgmt_ + its SQL name" [ "$(psql -X -At -d lm_symbols -c \
  "SELECT count(*) FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
    WHERE p.pronamespace = 'leadmgmt'::regnamespace AND l.lanname = 'c' AND p.prosrc <> 'leadmgmt_' || p.proname")" = 0 ]
dropdb lm_symbols

# The views 0.10 rewrote without GROUPING SETS and hand-written branches give
# the same rows as 0.9's, on the demo brand.
rewritten="funnel_report renewal_rate refund_rate channel_roi effective_tier_policy"
dropdb --if-exists lm_views; createdb lm_views
psql -X -q -v ON_ERROR_STOP=1 -d lm_views -c "CREATE EXTENSION leadmgmt VERSION '0.9'" >/dev/null &&
  psql -X -q -v ON_ERROR_STOP=1 -d lm_views -v scale=0.01 -v seed=5 -f "$LM_TOP/test/demo/generate.sql" >/dev/null
snapshot() {
  local v
  for v in $rewritten; do
    psql -X -At -d lm_views -c "SELECT md5(string_agg(x::text, ',' ORDER BY x::text)), count(*) FROM leadmgmt.$v x"
  done
}
snapshot >"$LM_TMP/views-0.9"
psql -X -q -v ON_ERROR_STOP=1 -d lm_views -c "ALTER EXTENSION leadmgmt UPDATE" -c "SELECT leadmgmt.install()" >/dev/null
views_rc=$?
snapshot >"$LM_TMP/views-new"
if [ $views_rc -eq 0 ] && [ -s "$LM_TMP/views-new" ] && cmp -s "$LM_TMP/views-0.9" "$LM_TMP/views-new"; then
  ok "$(echo $rewritten | tr ' ' ','): the same rows after the update as in 0.9 ($(cut -d'|' -f2 "$LM_TMP/views-new" | paste -sd, -) rows)"
else
  not_ok "$(echo $rewritten | tr ' ' ','): the same rows after the update as in 0.9 ($(cut -d'|' -f2 "$LM_TMP/views-new" | paste -sd, -) rows)"
fi
dropdb lm_views

# The views 0.12 rewrote so that Citus can plan them (no parameterised SQL
# function, FULL JOIN chain, correlated subquery or recursive CTE), and those
# built on them, give the same rows as 0.11's on the demo brand.
rewritten="conversion_credit attribution_comparison channel_roi channel_payback recycle_warnings pool_health
           student_lifetime student_segment segment_survival segment_churn_test cohort_retention model_lift"
dropdb --if-exists lm_views; createdb lm_views
psql -X -q -v ON_ERROR_STOP=1 -d lm_views -c "CREATE EXTENSION leadmgmt VERSION '0.11'" -c "SELECT leadmgmt.install()" >/dev/null &&
  psql -X -q -v ON_ERROR_STOP=1 -d lm_views -v scale=0.01 -v seed=5 -f "$LM_TOP/test/demo/generate.sql" >/dev/null &&
  psql -X -q -v ON_ERROR_STOP=1 -d lm_views -c "SELECT leadmgmt.train_conversion_model(1, 'lift', '2025-01-01', '2026-01-01')" >/dev/null
# 0.11's conversion_credit has no is_org_model: compare the columns both have
snapshot() {
  local v from
  for v in $rewritten; do
    from="leadmgmt.$v"
    [ "$v" = conversion_credit ] && from="(SELECT org_id, order_id, lead_id, converted_at, model, channel, campaign_id, credit,
      credited_revenue, credited_ltv_revenue, touches FROM leadmgmt.conversion_credit)"
    psql -X -At -d lm_views -c "SELECT md5(string_agg(x::text, ',' ORDER BY x::text)), count(*) FROM $from x"
  done
}
snapshot >"$LM_TMP/views-0.11"
psql -X -q -v ON_ERROR_STOP=1 -d lm_views -c "ALTER EXTENSION leadmgmt UPDATE" -c "SELECT leadmgmt.install()" >/dev/null
views_rc=$?
snapshot >"$LM_TMP/views-new"
if [ $views_rc -eq 0 ] && [ -s "$LM_TMP/views-new" ] && cmp -s "$LM_TMP/views-0.11" "$LM_TMP/views-new"; then
  ok "$(echo $rewritten | tr -s ' \n' ','): the same rows after the update as in 0.11 ($(cut -d'|' -f2 "$LM_TMP/views-new" | paste -sd, -) rows)"
else
  not_ok "$(echo $rewritten | tr -s ' \n' ','): the same rows after the update as in 0.11 ($(cut -d'|' -f2 "$LM_TMP/views-new" | paste -sd, -) rows)"
fi
[ -s "$LM_TMP/views-new" ] && ! cmp -s "$LM_TMP/views-0.11" "$LM_TMP/views-new" && paste -d' ' <(echo $rewritten | tr ' ' '\n') "$LM_TMP/views-0.11" "$LM_TMP/views-new" | sed 's/^/# /'
dropdb lm_views
