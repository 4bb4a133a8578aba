/*
 * src/assignment_roster.c
 *
 * rep_roster and check_org_engine (docs/reference/assignment.md).
 */
#include "assignment.h"

/* ------------------------------------------------------------------------
 * The roster and the right to assign, read in C: assign_lead calls both
 * once per lead, and as SQL they cost more than the decision itself (their
 * plans are set up and their tables locked again in every transaction).
 * ------------------------------------------------------------------------
 */
PG_FUNCTION_INFO_V1(leadmgmt_check_org_engine);
PG_FUNCTION_INFO_V1(leadmgmt_rep_roster);

/*
 * check_org_engine(org_id bigint) RETURNS void, STRICT
 *
 * Raises 42501 unless the current role is a superuser or has app or admin
 * access to the org (acting_org_ids); then, on a Citus node that does not
 * hold the org's shards, 0A000 (EngineShard): assign_lead, assign_pending
 * and recycle_stale fold and write the engine's state on the org's node
 * only, so a call Citus did not delegate is refused before it does any work.
 */
Datum
leadmgmt_check_org_engine(PG_FUNCTION_ARGS)
{
	int64		org = PG_GETARG_INT64(0);

	if (!superuser())
	{
		Oid			argtypes[1] = {TEXTARRAYOID};
		Oid			fn = LookupFuncName(list_make2(makeString("leadmgmt"), makeString("acting_org_ids")),
										1, argtypes, false);
		Datum		kinds[2] = {CStringGetTextDatum("app"), CStringGetTextDatum("admin")};
		ArrayType  *ids;
		int			n,
					i;
		int64	   *id;
		bool		found = false;

		ids = DatumGetArrayTypeP(OidFunctionCall1(fn, PointerGetDatum(construct_array(kinds, 2, TEXTOID, -1, false,
																						 TYPALIGN_INT))));
		id = AssignInt64Array(ids, "acting_org_ids", &n, NULL);
		for (i = 0; i < n && !found; i++)
			found = id[i] == org;
		if (!found)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to assign or recycle the leads of org " INT64_FORMAT, org),
					 errhint("Assignment and recycling need app or admin access to the org; a sales rep claims and releases instead.")));
	}
	(void) EngineShard(get_relname_relid("lead", get_namespace_oid("leadmgmt", false)), "lead", org);
	PG_RETURN_VOID();
}

/* a shift row: rep, ISO weekday, and its times of day */
typedef struct Shift
{
	int64		rep;
	int32		weekday;
	TimeADT		starts;
	TimeADT		ends;
} Shift;

static int
CompareShift(const void *a, const void *b)
{
	int64		x = ((const Shift *) a)->rep,
				y = ((const Shift *) b)->rep;

	return x < y ? -1 : x > y;
}

static int
CompareInt64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a,
				y = *(const int64 *) b;

	return x < y ? -1 : x > y;
}

/* the text of a column (NULL when null), copied */
static char *
EngineText(EngineRel *er, HeapTuple tup, int col)
{
	bool		isnull;
	Datum		d = heap_getattr(tup, er->att[col], er->desc, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

/*
 * A field of the org row rep_roster takes.  Since 0.11 the argument is a
 * record (no code takes a table's row type), so any caller may pass any row:
 * the field must exist with the type of the org table's column, or the call
 * is refused (42804) before the value is read.
 */
static Datum
OrgField(HeapTupleHeader o, const char *name, Oid type, bool *isnull)
{
	TupleDesc	td = lookup_rowtype_tupdesc(HeapTupleHeaderGetTypeId(o), HeapTupleHeaderGetTypMod(o));
	int			i,
				attno = 0;

	for (i = 0; i < td->natts; i++)
	{
		Form_pg_attribute a = TupleDescAttr(td, i);

		if (!a->attisdropped && strcmp(NameStr(a->attname), name) == 0)
		{
			if (a->atttypid == type)
				attno = a->attnum;
			break;
		}
	}
	ReleaseTupleDesc(td);
	if (attno == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("rep_roster needs a row of leadmgmt.org"),
				 errdetail("The row has no column \"%s\" of type %s.", name, format_type_be(type))));
	return GetAttributeByNum(o, attno, isnull);
}

/*
 * rep_roster(o record (a row of org), team_id bigint, at timestamptz,
 *            OUT strategy text, OUT rep_ids bigint[], OUT weights int[], OUT daily_caps int[],
 *            OUT holding_caps int[], OUT skills int[])
 *
 * The strategy (the team's, else the org's) and the reps that may get leads
 * at a time, in rep id order: active, of the team if one is given, on shift
 * in the org time zone at that time (a rep without shifts always is), not
 * on leave on that local day (rep_leave, since 0.16), with
 * weights, caps and tier skills (bit t: skilled for tier t; bit 4+t: the
 * role the tier policy hands tier t to; tiers without a tier_policy row use
 * the defaults, tiers.c).  The arrays are NULL when no rep
 * qualifies, and everything is NULL for a NULL org.
 */
Datum
leadmgmt_rep_roster(PG_FUNCTION_ARGS)
{
	static const char *const team_cols[] = {"team_id", "assign_strategy"};
	static const char *const policy_cols[] = {"tier", "handler_role"};
	static const char *const shift_cols[] = {"rep_id", "weekday", "starts_at", "ends_at"};
	static const char *const leave_cols[] = {"rep_id", "first_day", "last_day"};
	static const char *const rep_cols[] = {"rep_id", "active", "team_id", "weight", "daily_cap", "holding_cap",
	"tiers", "role"};
	char	   *roles[LM_NTIERS];
	TupleDesc	tupdesc;
	Datum		values[6];
	bool		nulls[6] = {false, false, false, false, false, false};
	HeapTupleHeader o;
	bool		isnull,
				checked = false,
				have_team,
				have_local = false;
	int64		org,
				team = 0;
	char	   *strategy;
	int			local_dow = 0;
	TimeADT		local_time = 0;
	DateADT		local_day = 0;
	Snapshot	snap;
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;
	EngineRel	er;
	Shift	   *shifts = NULL;
	int64	   *away = NULL;
	int			naway = 0,
				capaway = 0;
	int			nshifts = 0,
				capshifts = 0,
				n = 0,
				cap = 16,
				i;
	int64	   *rid,
			   *rw,
			   *rdaily,
			   *rhold,
			   *rskill;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "rep_roster must return a composite type");
	tupdesc = BlessTupleDesc(tupdesc);
	if (PG_ARGISNULL(0))
	{
		memset(nulls, true, sizeof(nulls));
		PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
	}
	o = PG_GETARG_HEAPTUPLEHEADER(0);
	{
		Datum		d = OrgField(o, "assign_strategy", TEXTOID, &isnull);

		strategy = isnull ? NULL : TextDatumGetCString(d);
	}
	org = DatumGetInt64(OrgField(o, "org_id", INT8OID, &isnull));
	if (isnull)
	{
		/* an org row without an id: its strategy, nobody */
		memset(nulls, true, sizeof(nulls));
		if (strategy != NULL)
		{
			values[0] = CStringGetTextDatum(strategy);
			nulls[0] = false;
		}
		PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
	}
	have_team = !PG_ARGISNULL(1);
	if (have_team)
		team = PG_GETARG_INT64(1);
	if (!PG_ARGISNULL(2))
	{
		Datum		tz = OrgField(o, "timezone", TEXTOID, &isnull);

		if (!isnull)
		{
			Timestamp	local = DatumGetTimestamp(DirectFunctionCall2(timestamptz_zone, tz,
																	   PG_GETARG_DATUM(2)));
			struct pg_tm tm;
			fsec_t		fsec;

			if (!TIMESTAMP_NOT_FINITE(local) && timestamp2tm(local, NULL, &tm, &fsec, NULL, NULL) == 0)
			{
				int			dow = j2day(date2j(tm.tm_year, tm.tm_mon, tm.tm_mday));

				local_dow = dow == 0 ? 7 : dow;
				local_day = date2j(tm.tm_year, tm.tm_mon, tm.tm_mday) - POSTGRES_EPOCH_JDATE;
				local_time = ((((int64) tm.tm_hour * MINS_PER_HOUR + tm.tm_min) * SECS_PER_MINUTE) + tm.tm_sec)
					* USECS_PER_SEC + fsec;
				have_local = true;
			}
		}
	}

	snap = GetActiveSnapshot();

	/* the team's strategy, if it has one */
	if (have_team)
	{
		bool		found = false;

		EngineOpen(&er, "team", team_cols, 2, org, &checked);
		scan = EngineScan(&er, org, snap, key, InvalidAttrNumber, 0);
		while (!found && HeapTupleIsValid(tup = systable_getnext(scan)))
		{
			char	   *s;

			if (DatumGetInt64(EngineAttr(&er, tup, 0)) != team)
				continue;
			found = true;
			s = EngineText(&er, tup, 1);
			if (s != NULL)
				strategy = s;
		}
		EngineClose(&er, scan);
		if (!found)
			ereport(ERROR,
					(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
					 errmsg("unknown team " INT64_FORMAT " in org " INT64_FORMAT, team, org)));
	}

	/* the tier policy's handler roles */
	for (i = 0; i < LM_NTIERS; i++)
		roles[i] = (char *) lm_tier_defaults[i].handler_role;
	EngineOpen(&er, "tier_policy", policy_cols, 2, org, &checked);
	scan = EngineScan(&er, org, snap, key, InvalidAttrNumber, 0);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		char	   *tier = EngineText(&er, tup, 0);

		if (tier != NULL && tier[0] >= 'A' && tier[0] < 'A' + LM_NTIERS)
			roles[tier[0] - 'A'] = EngineText(&er, tup, 1);
	}
	EngineClose(&er, scan);

	/* the org's shifts, by rep */
	EngineOpen(&er, "rep_shift", shift_cols, 4, org, &checked);
	scan = EngineScan(&er, org, snap, key, InvalidAttrNumber, 0);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Shift	   *s;

		if (nshifts == capshifts)
		{
			capshifts = Max(16, capshifts * 2);
			shifts = shifts ? repalloc(shifts, sizeof(Shift) * capshifts) : palloc(sizeof(Shift) * capshifts);
		}
		s = &shifts[nshifts++];
		s->rep = DatumGetInt64(EngineAttr(&er, tup, 0));
		s->weekday = DatumGetInt16(EngineAttr(&er, tup, 1));
		s->starts = DatumGetTimeADT(EngineAttr(&er, tup, 2));
		s->ends = DatumGetTimeADT(EngineAttr(&er, tup, 3));
	}
	EngineClose(&er, scan);
	if (nshifts > 1)
		qsort(shifts, nshifts, sizeof(Shift), CompareShift);

	/*
	 * The reps on leave on the local day (since 0.16; a schema before 0.16
	 * has no rep_leave, and its code no rule about it)
	 */
	if (have_local && OidIsValid(get_relname_relid("rep_leave", get_namespace_oid("leadmgmt", false))))
	{
		EngineOpen(&er, "rep_leave", leave_cols, 3, org, &checked);
		scan = EngineScan(&er, org, snap, key, InvalidAttrNumber, 0);
		while (HeapTupleIsValid(tup = systable_getnext(scan)))
		{
			if (DatumGetDateADT(EngineAttr(&er, tup, 1)) > local_day ||
				DatumGetDateADT(EngineAttr(&er, tup, 2)) < local_day)
				continue;
			if (naway == capaway)
			{
				capaway = Max(16, capaway * 2);
				away = away ? repalloc(away, sizeof(int64) * capaway) : palloc(sizeof(int64) * capaway);
			}
			away[naway++] = DatumGetInt64(EngineAttr(&er, tup, 0));
		}
		EngineClose(&er, scan);
		if (naway > 1)
			qsort(away, naway, sizeof(int64), CompareInt64);
	}

	/* the reps, in rep id order */
	rid = palloc(sizeof(int64) * cap);
	rw = palloc(sizeof(int64) * cap);
	rdaily = palloc(sizeof(int64) * cap);
	rhold = palloc(sizeof(int64) * cap);
	rskill = palloc(sizeof(int64) * cap);
	EngineOpen(&er, "sales_rep", rep_cols, 8, org, &checked);
	scan = EngineScan(&er, org, snap, key, InvalidAttrNumber, 0);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		int64		rep = DatumGetInt64(EngineAttr(&er, tup, 0));
		Datum		d;
		char	   *role;
		int64		skill = 0;

		if (!DatumGetBool(EngineAttr(&er, tup, 1)))
			continue;
		if (have_team)
		{
			d = heap_getattr(tup, er.att[2], er.desc, &isnull);
			if (isnull || DatumGetInt64(d) != team)
				continue;
		}
		/* not on leave */
		if (naway > 0 && bsearch(&rep, away, naway, sizeof(int64), CompareInt64) != NULL)
			continue;
		/* on shift: no shifts at all, or one that covers the local time */
		if (nshifts > 0)
		{
			Shift		k,
					   *s;
			bool		on = false;

			k.rep = rep;
			s = bsearch(&k, shifts, nshifts, sizeof(Shift), CompareShift);
			if (s != NULL)
			{
				while (s > shifts && s[-1].rep == rep)
					s--;
				for (; s < shifts + nshifts && s->rep == rep && !on; s++)
					on = have_local && s->weekday == local_dow && local_time >= s->starts && local_time < s->ends;
				if (!on)
					continue;
			}
		}
		/* skills */
		{
			ArrayType  *tiers = DatumGetArrayTypeP(EngineAttr(&er, tup, 6));
			Datum	   *elems;
			bool	   *enulls;
			int			ne,
						t;

			deconstruct_array(tiers, TEXTOID, -1, false, TYPALIGN_INT, &elems, &enulls, &ne);
			for (t = 0; t < ne; t++)
			{
				char	   *tier;

				if (enulls[t])
					continue;
				tier = TextDatumGetCString(elems[t]);
				if (strlen(tier) == 1 && tier[0] >= 'A' && tier[0] < 'A' + LM_NTIERS)
					skill |= (int64) 1 << (tier[0] - 'A');
			}
		}
		role = EngineText(&er, tup, 7);
		for (i = 0; i < LM_NTIERS; i++)
			if (role != NULL && roles[i] != NULL && strcmp(role, roles[i]) == 0)
				skill |= (int64) 1 << (LM_NTIERS + i);

		if (n == cap)
		{
			cap *= 2;
			rid = repalloc(rid, sizeof(int64) * cap);
			rw = repalloc(rw, sizeof(int64) * cap);
			rdaily = repalloc(rdaily, sizeof(int64) * cap);
			rhold = repalloc(rhold, sizeof(int64) * cap);
			rskill = repalloc(rskill, sizeof(int64) * cap);
		}
		rid[n] = rep;
		rw[n] = DatumGetInt32(EngineAttr(&er, tup, 3));
		rdaily[n] = DatumGetInt32(EngineAttr(&er, tup, 4));
		rhold[n] = DatumGetInt32(EngineAttr(&er, tup, 5));
		rskill[n] = skill;
		n++;
	}
	EngineClose(&er, scan);

	if (strategy != NULL)
		values[0] = CStringGetTextDatum(strategy);
	else
		nulls[0] = true;
	if (n == 0)
		nulls[1] = nulls[2] = nulls[3] = nulls[4] = nulls[5] = true;
	else
	{
		values[1] = PointerGetDatum(AssignInt64Result(rid, NULL, n, INT8OID));
		values[2] = PointerGetDatum(AssignInt64Result(rw, NULL, n, INT4OID));
		values[3] = PointerGetDatum(AssignInt64Result(rdaily, NULL, n, INT4OID));
		values[4] = PointerGetDatum(AssignInt64Result(rhold, NULL, n, INT4OID));
		values[5] = PointerGetDatum(AssignInt64Result(rskill, NULL, n, INT4OID));
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
