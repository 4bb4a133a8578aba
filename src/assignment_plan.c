/*
 * src/assignment_plan.c
 *
 * plan_assignments(): which rep gets each lead of a batch
 * (docs/reference/assignment.md).  A pure function: the engine
 * (assignment_engine.c) reads the eligible reps and the rotation state under
 * the org's assignment lock, calls the core (AssignPlanLeads) once for a
 * whole batch of leads, and writes the plan back.
 *
 * For each lead, in order:
 *   - the candidates are the reps with room left (under the daily and holding
 *     caps of the snapshot, less what this batch already gave them), weight
 *     above zero, skilled for the lead's tier and not the lead's excluded
 *     rep (the owner it was just taken from);
 *   - when some candidates are the tier's preferred handlers (their role is
 *     the tier policy's handler_role), only those compete;
 *   - round_robin is smooth weighted round-robin (as in nginx): every
 *     candidate's current weight grows by its weight, the largest wins and
 *     gives back the candidates' total.  Its counts stay within one of each
 *     rep's share.  A rep outside the candidates keeps its current weight,
 *     so a rep coming back on shift is taken in at once, without a burst;
 *   - least_busy takes the fewest open leads per unit of weight;
 *   - ties go to the larger weight, then the rep picked least recently, then
 *     the smaller rep id, so the choice is deterministic and never favours
 *     the oldest reps.
 */
#include "assignment.h"

PG_FUNCTION_INFO_V1(leadmgmt_plan_assignments);

/*
 * The elements of a one-dimensional int4[] or int8[] as int64; NULL elements
 * are an error unless nulls is given, where they are flagged.
 */
int64 *
AssignInt64Array(ArrayType *a, const char *what, int *n, bool **nulls)
{
	Oid			t = ARR_ELEMTYPE(a);
	Datum	   *d;
	bool	   *isnull;
	int64	   *out;
	int			i;

	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must be a one-dimensional array", what)));
	if (t == INT8OID)
		deconstruct_array(a, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &d, &isnull, n);
	else if (t == INT4OID)
		deconstruct_array(a, INT4OID, 4, true, TYPALIGN_INT, &d, &isnull, n);
	else
		elog(ERROR, "%s must be an integer array", what);
	out = palloc(sizeof(int64) * Max(*n, 1));
	if (nulls)
		*nulls = palloc0(sizeof(bool) * Max(*n, 1));
	for (i = 0; i < *n; i++)
	{
		if (isnull[i])
		{
			if (!nulls)
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("%s must not contain nulls", what)));
			(*nulls)[i] = true;
			out[i] = 0;
		}
		else
			out[i] = t == INT8OID ? DatumGetInt64(d[i]) : (int64) DatumGetInt32(d[i]);
	}
	return out;
}

/* what must have as many elements as other */
void
AssignCheckLength(int n, int want, const char *what, const char *other)
{
	if (n != want)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s has %d elements, but %s has %d", what, n, other, want)));
}

static int
CompareSlotId(const void *a, const void *b)
{
	int64		x = ((const Slot *) a)->id,
				y = ((const Slot *) b)->id;

	return x < y ? -1 : x > y;
}

/* index of id among the sorted slots, or -1 */
int
AssignFindSlot(Slot *slots, int n, int64 id)
{
	int			lo = 0,
				hi = n - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (slots[mid].id == id)
			return mid;
		if (slots[mid].id < id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/*
 * does rep a win a tie against rep b: the larger weight (as nginx's smooth
 * round-robin tends to), then the rep picked less recently, then the smaller id
 */
static bool
WinsTie(Slot *slots, Rep *a, Rep *b)
{
	int64		la = slots[a->slot].last,
				lb = slots[b->slot].last;

	if (a->weight != b->weight)
		return a->weight > b->weight;
	if (la != lb)
		return la < lb;
	return a->id < b->id;
}

ArrayType *
AssignInt64Result(int64 *v, bool *nulls, int n, Oid type)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));
	int			dims[1] = {n};
	int			lbs[1] = {1};
	int			i;

	for (i = 0; i < n; i++)
		d[i] = type == INT8OID ? Int64GetDatum(v[i]) : Int32GetDatum((int32) v[i]);
	if (n == 0)
		return construct_empty_array(type);
	return type == INT8OID
		? construct_md_array(d, nulls, 1, dims, lbs, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE)
		: construct_md_array(d, nulls, 1, dims, lbs, INT4OID, 4, true, TYPALIGN_INT);
}

Strategy
AssignParseStrategy(text *t)
{
	char	   *name = text_to_cstring(t);

	if (strcmp(name, "round_robin") == 0)
		return ST_ROUND_ROBIN;
	if (strcmp(name, "least_busy") == 0)
		return ST_LEAST_BUSY;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown assignment strategy \"%.*s\"", LmEchoLen(name, strlen(name)), name),
			 errhint("Valid strategies: round_robin, least_busy.")));
	return ST_ROUND_ROBIN;		/* keep the compiler quiet */
}

/* one tier letter A to D per lead */
static void
CheckTiers(const char *tiers, int nleads)
{
	int			j;

	for (j = 0; j < nleads; j++)
		if (tiers[j] < 'A' || tiers[j] > 'D')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("lead_tiers must hold one tier letter A to D per lead"),
					 errdetail("Character %d is \"%c\".", j + 1, tiers[j])));
}

/* the leads: one tier letter each, and one excluded rep each (NULL: none) */
void
AssignParseLeads(text *tiers_text, ArrayType *excluded, char **tiers, int *nleads, int64 **excl, bool **exclnull)
{
	int			n;

	*nleads = VARSIZE_ANY_EXHDR(tiers_text);
	*tiers = VARDATA_ANY(tiers_text);
	*excl = AssignInt64Array(excluded, "lead_excluded", &n, exclnull);
	AssignCheckLength(n, *nleads, "lead_excluded", "lead_tiers");
	CheckTiers(*tiers, *nleads);
}

/*
 * The slots: the nstate of the state (unsorted, distinct ids) and one for
 * each of the n reps without one (the array has room for them), sorted by
 * id.  Returns the number of slots.
 */
int
AssignAddRepSlots(Slot *slots, int nstate, const int64 *rid, int n)
{
	int			i,
				nslots = nstate;

	qsort(slots, nstate, sizeof(Slot), CompareSlotId);
	for (i = 1; i < nstate; i++)
		if (slots[i].id == slots[i - 1].id)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("state_rep_ids holds rep %lld twice", (long long) slots[i].id)));
	for (i = 0; i < n; i++)
	{
		if (AssignFindSlot(slots, nstate, rid[i]) < 0)
		{
			slots[nslots].id = rid[i];
			slots[nslots].current = 0;	/* a new rep starts level: no burst */
			slots[nslots].last = 0;
			nslots++;
		}
	}
	qsort(slots, nslots, sizeof(Slot), CompareSlotId);
	return nslots;
}

/* the eligible reps, each with its slot */
Rep *
AssignMakeReps(Slot *slots, int nslots, const int64 *rid, const int64 *rw, const int64 *ropen,
		 const int64 *rroom, const int64 *rskill, int n)
{
	Rep		   *reps = palloc0(sizeof(Rep) * Max(n, 1));
	bool	   *seen = palloc0(sizeof(bool) * (nslots + 1));
	int			i;

	for (i = 0; i < n; i++)
	{
		reps[i].id = rid[i];
		/* a weight of zero or less means never; clamp huge ones so sums cannot overflow */
		reps[i].weight = Min(rw[i], (int64) 1000000);
		reps[i].open = Max(ropen[i], 0);
		reps[i].room = rroom[i];
		reps[i].skills = (int32) rskill[i];
		reps[i].slot = AssignFindSlot(slots, nslots, rid[i]);
		if (seen[reps[i].slot])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("rep_ids holds rep %lld twice", (long long) rid[i])));
		seen[reps[i].slot] = true;
	}
	pfree(seen);
	return reps;
}

/*
 * Plan the leads in order (tier letters, each with an excluded rep unless
 * flagged null): moves the slots' current weights and last picks and the
 * reps' room, open and taken, and gives each lead its rep (lead_null: none).
 * Returns the new number of picks.
 */
int64
AssignPlanLeads(Strategy strategy, Slot *slots, Rep *reps, int n,
		  const char *tiers, int nleads, const int64 *excl, const bool *exclnull,
		  int64 picks, int64 *lead_rep, bool *lead_null)
{
	int			i,
				j;

	for (j = 0; j < nleads; j++)
	{
		int			t = tiers[j] - 'A';
		int32		skilled = 1 << t,
					preferred = 1 << (LM_NTIERS + t);
		bool		any_preferred = false;
		int64		total = 0;
		Rep		   *best = NULL;

		CHECK_FOR_INTERRUPTS();
		lead_null[j] = true;
		/* are any preferred handlers among the candidates? */
		for (i = 0; i < n; i++)
		{
			Rep		   *r = &reps[i];

			if (r->weight > 0 && r->room > 0 && (r->skills & skilled) &&
				(exclnull[j] || r->id != excl[j]) && (r->skills & preferred))
			{
				any_preferred = true;
				break;
			}
		}
		for (i = 0; i < n; i++)
		{
			Rep		   *r = &reps[i];
			Slot	   *s = &slots[r->slot];

			if (r->weight <= 0 || r->room <= 0 || !(r->skills & skilled) ||
				(!exclnull[j] && r->id == excl[j]) ||
				(any_preferred && !(r->skills & preferred)))
				continue;
			if (strategy == ST_ROUND_ROBIN)
			{
				s->current += r->weight;
				total += r->weight;
				if (best == NULL || s->current > slots[best->slot].current ||
					(s->current == slots[best->slot].current && WinsTie(slots, r, best)))
					best = r;
			}
			else
			{
				/* fewest open leads per weight: open_r / w_r < open_b / w_b */
				if (best == NULL)
					best = r;
				else
				{
					int64		lhs = r->open * best->weight,
								rhs = best->open * r->weight;

					if (lhs < rhs || (lhs == rhs && WinsTie(slots, r, best)))
						best = r;
				}
			}
		}
		if (best == NULL)
			continue;			/* nobody eligible: the lead stays in the public pool */
		if (strategy == ST_ROUND_ROBIN)
			slots[best->slot].current -= total;
		slots[best->slot].last = ++picks;
		best->room--;
		best->open++;
		best->taken++;
		lead_rep[j] = best->id;
		lead_null[j] = false;
	}
	return picks;
}

/*
 * plan_assignments(strategy text,
 *                  state_rep_ids bigint[], state_current bigint[], state_last bigint[], picks bigint,
 *                  rep_ids bigint[], weights int[], open_leads int[], room int[], skills int[],
 *                  lead_tiers text, lead_excluded bigint[])
 *   RETURNS assignment_plan (lead_rep_ids bigint[], state_rep_ids bigint[],
 *                            state_current bigint[], state_last bigint[], picks bigint, taken int[])
 */
Datum
leadmgmt_plan_assignments(PG_FUNCTION_ARGS)
{
	Strategy	strategy;
	int			i,
				j,
				nstate,
				n,
				nleads,
				nslots;
	int64	   *sid,
			   *scur,
			   *slast,
				picks;
	int64	   *rid,
			   *rw,
			   *ropen,
			   *rroom,
			   *rskill,
			   *excl;
	bool	   *exclnull;
	Slot	   *slots;
	Rep		   *reps;
	char	   *tiers;
	int64	   *lead_rep;
	bool	   *lead_null;
	TupleDesc	tupdesc;
	Datum		values[6];
	bool		nulls[6] = {false, false, false, false, false, false};
	int64	   *out_id,
			   *out_cur,
			   *out_last,
			   *out_taken;

	for (i = 0; i < 12; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("plan_assignments arguments must not be null")));

	strategy = AssignParseStrategy(PG_GETARG_TEXT_PP(0));

	/* the rotation state */
	sid = AssignInt64Array(PG_GETARG_ARRAYTYPE_P(1), "state_rep_ids", &nstate, NULL);
	scur = AssignInt64Array(PG_GETARG_ARRAYTYPE_P(2), "state_current", &n, NULL);
	AssignCheckLength(n, nstate, "state_current", "state_rep_ids");
	slast = AssignInt64Array(PG_GETARG_ARRAYTYPE_P(3), "state_last", &n, NULL);
	AssignCheckLength(n, nstate, "state_last", "state_rep_ids");
	picks = PG_GETARG_INT64(4);
	if (picks < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("picks must not be negative")));

	/* the eligible reps */
	rid = AssignInt64Array(PG_GETARG_ARRAYTYPE_P(5), "rep_ids", &n, NULL);
	rw = AssignInt64Array(PG_GETARG_ARRAYTYPE_P(6), "weights", &j, NULL);
	AssignCheckLength(j, n, "weights", "rep_ids");
	ropen = AssignInt64Array(PG_GETARG_ARRAYTYPE_P(7), "open_leads", &j, NULL);
	AssignCheckLength(j, n, "open_leads", "rep_ids");
	rroom = AssignInt64Array(PG_GETARG_ARRAYTYPE_P(8), "room", &j, NULL);
	AssignCheckLength(j, n, "room", "rep_ids");
	rskill = AssignInt64Array(PG_GETARG_ARRAYTYPE_P(9), "skills", &j, NULL);
	AssignCheckLength(j, n, "skills", "rep_ids");

	/* the leads */
	AssignParseLeads(PG_GETARG_TEXT_PP(10), PG_GETARG_ARRAYTYPE_P(11), &tiers, &nleads, &excl, &exclnull);

	/* slots: the state's reps and any new eligible rep, sorted by id */
	slots = palloc(sizeof(Slot) * (nstate + n + 1));
	for (i = 0; i < nstate; i++)
	{
		slots[i].id = sid[i];
		slots[i].current = scur[i];
		slots[i].last = slast[i];
	}
	nslots = AssignAddRepSlots(slots, nstate, rid, n);
	reps = AssignMakeReps(slots, nslots, rid, rw, ropen, rroom, rskill, n);

	lead_rep = palloc0(sizeof(int64) * Max(nleads, 1));
	lead_null = palloc(sizeof(bool) * Max(nleads, 1));
	picks = AssignPlanLeads(strategy, slots, reps, n, tiers, nleads, excl, exclnull, picks, lead_rep, lead_null);

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "plan_assignments must return a composite type");
	tupdesc = BlessTupleDesc(tupdesc);

	out_id = palloc(sizeof(int64) * Max(nslots, 1));
	out_cur = palloc(sizeof(int64) * Max(nslots, 1));
	out_last = palloc(sizeof(int64) * Max(nslots, 1));
	for (i = 0; i < nslots; i++)
	{
		out_id[i] = slots[i].id;
		out_cur[i] = slots[i].current;
		out_last[i] = slots[i].last;
	}
	out_taken = palloc(sizeof(int64) * Max(n, 1));
	for (i = 0; i < n; i++)
		out_taken[i] = reps[i].taken;

	values[0] = PointerGetDatum(AssignInt64Result(lead_rep, lead_null, nleads, INT8OID));
	values[1] = PointerGetDatum(AssignInt64Result(out_id, NULL, nslots, INT8OID));
	values[2] = PointerGetDatum(AssignInt64Result(out_cur, NULL, nslots, INT8OID));
	values[3] = PointerGetDatum(AssignInt64Result(out_last, NULL, nslots, INT8OID));
	values[4] = Int64GetDatum(picks);
	values[5] = PointerGetDatum(AssignInt64Result(out_taken, NULL, n, INT4OID));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
