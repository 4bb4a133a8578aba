/*
 * src/assign.c
 *
 * Lead assignment: which rep gets each lead (docs/reference/assignment.md).
 *
 * plan_assignments() is the selection core.  It is a pure function: the SQL
 * engine (assign_lead, assign_pending) reads the eligible reps and the
 * rotation state under the org's assignment lock, calls it once for a whole
 * batch of leads, and writes the plan back set-based.
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
#include "leadmgmt.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/transam.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "parser/parse_func.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/procarray.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(leadmgmt_plan_assignments);

#define NTIERS 4

typedef enum
{
	ST_ROUND_ROBIN,
	ST_LEAST_BUSY
} Strategy;

/* one eligible rep of the snapshot */
typedef struct Rep
{
	int64		id;
	int64		weight;
	int64		open;
	int64		room;
	int32		skills;			/* bit t: skilled for tier t; bit 4+t: preferred */
	int32		taken;			/* leads this batch gave the rep */
	int			slot;			/* index in the rotation state */
} Rep;

/* the rotation state: one current weight and last pick per rep ever seen */
typedef struct Slot
{
	int64		id;
	int64		current;
	int64		last;
} Slot;

/*
 * The elements of a one-dimensional int4[] or int8[] as int64; NULL elements
 * are an error unless nulls is given, where they are flagged.
 */
static int64 *
Int64Array(ArrayType *a, const char *what, int *n, bool **nulls)
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
static void
CheckLength(int n, int want, const char *what, const char *other)
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
static int
FindSlot(Slot *slots, int n, int64 id)
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

static ArrayType *
Int64Result(int64 *v, bool *nulls, int n, Oid type)
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

static Strategy
ParseStrategy(text *t)
{
	char	   *name = text_to_cstring(t);

	if (strcmp(name, "round_robin") == 0)
		return ST_ROUND_ROBIN;
	if (strcmp(name, "least_busy") == 0)
		return ST_LEAST_BUSY;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown assignment strategy \"%s\"", name),
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
static void
ParseLeads(text *tiers_text, ArrayType *excluded, char **tiers, int *nleads, int64 **excl, bool **exclnull)
{
	int			n;

	*nleads = VARSIZE_ANY_EXHDR(tiers_text);
	*tiers = VARDATA_ANY(tiers_text);
	*excl = Int64Array(excluded, "lead_excluded", &n, exclnull);
	CheckLength(n, *nleads, "lead_excluded", "lead_tiers");
	CheckTiers(*tiers, *nleads);
}

/*
 * The slots: the nstate of the state (unsorted, distinct ids) and one for
 * each of the n reps without one (the array has room for them), sorted by
 * id.  Returns the number of slots.
 */
static int
AddRepSlots(Slot *slots, int nstate, const int64 *rid, int n)
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
		if (FindSlot(slots, nstate, rid[i]) < 0)
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
static Rep *
MakeReps(Slot *slots, int nslots, const int64 *rid, const int64 *rw, const int64 *ropen,
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
		reps[i].slot = FindSlot(slots, nslots, rid[i]);
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
static int64
PlanLeads(Strategy strategy, Slot *slots, Rep *reps, int n,
		  const char *tiers, int nleads, const int64 *excl, const bool *exclnull,
		  int64 picks, int64 *lead_rep, bool *lead_null)
{
	int			i,
				j;

	for (j = 0; j < nleads; j++)
	{
		int			t = tiers[j] - 'A';
		int32		skilled = 1 << t,
					preferred = 1 << (NTIERS + t);
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

	strategy = ParseStrategy(PG_GETARG_TEXT_PP(0));

	/* the rotation state */
	sid = Int64Array(PG_GETARG_ARRAYTYPE_P(1), "state_rep_ids", &nstate, NULL);
	scur = Int64Array(PG_GETARG_ARRAYTYPE_P(2), "state_current", &n, NULL);
	CheckLength(n, nstate, "state_current", "state_rep_ids");
	slast = Int64Array(PG_GETARG_ARRAYTYPE_P(3), "state_last", &n, NULL);
	CheckLength(n, nstate, "state_last", "state_rep_ids");
	picks = PG_GETARG_INT64(4);
	if (picks < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("picks must not be negative")));

	/* the eligible reps */
	rid = Int64Array(PG_GETARG_ARRAYTYPE_P(5), "rep_ids", &n, NULL);
	rw = Int64Array(PG_GETARG_ARRAYTYPE_P(6), "weights", &j, NULL);
	CheckLength(j, n, "weights", "rep_ids");
	ropen = Int64Array(PG_GETARG_ARRAYTYPE_P(7), "open_leads", &j, NULL);
	CheckLength(j, n, "open_leads", "rep_ids");
	rroom = Int64Array(PG_GETARG_ARRAYTYPE_P(8), "room", &j, NULL);
	CheckLength(j, n, "room", "rep_ids");
	rskill = Int64Array(PG_GETARG_ARRAYTYPE_P(9), "skills", &j, NULL);
	CheckLength(j, n, "skills", "rep_ids");

	/* the leads */
	ParseLeads(PG_GETARG_TEXT_PP(10), PG_GETARG_ARRAYTYPE_P(11), &tiers, &nleads, &excl, &exclnull);

	/* slots: the state's reps and any new eligible rep, sorted by id */
	slots = palloc(sizeof(Slot) * (nstate + n + 1));
	for (i = 0; i < nstate; i++)
	{
		slots[i].id = sid[i];
		slots[i].current = scur[i];
		slots[i].last = slast[i];
	}
	nslots = AddRepSlots(slots, nstate, rid, n);
	reps = MakeReps(slots, nslots, rid, rw, ropen, rroom, rskill, n);

	lead_rep = palloc0(sizeof(int64) * Max(nleads, 1));
	lead_null = palloc(sizeof(bool) * Max(nleads, 1));
	picks = PlanLeads(strategy, slots, reps, n, tiers, nleads, excl, exclnull, picks, lead_rep, lead_null);

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

	values[0] = PointerGetDatum(Int64Result(lead_rep, lead_null, nleads, INT8OID));
	values[1] = PointerGetDatum(Int64Result(out_id, NULL, nslots, INT8OID));
	values[2] = PointerGetDatum(Int64Result(out_cur, NULL, nslots, INT8OID));
	values[3] = PointerGetDatum(Int64Result(out_last, NULL, nslots, INT8OID));
	values[4] = Int64GetDatum(picks);
	values[5] = PointerGetDatum(Int64Result(out_taken, NULL, n, INT4OID));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* ------------------------------------------------------------------------
 * The engine's state in tables: engine_assign, engine_load
 *
 * A call that only assigns does not hold the org's assignment lock (a
 * transaction advisory lock) until commit: under it, it reads the state,
 * plans, writes one row to the pick journal (assign_pick) and releases it,
 * then writes owners and history.  The next decision must see that pick
 * before it commits, so the journal is read with a dirty snapshot: rows of
 * transactions still in flight count, rows of aborted ones (a rollback, a
 * killed backend) vanish with their picks.
 *
 * The state is therefore the base (assign_rotation and rep_load, changed only
 * by calls that hold the lock in exclusive mode until commit, so never in
 * flight when read under the lock) plus the deltas of every live journal
 * row.  Settled rows are folded into the base by rep_load_sync now and then.
 *
 * Decisions hold the lock in share mode and run side by side: each writes
 * its row as a speculative insertion and confirms it only if it was first
 * (JournalPublish), else decides again; so every confirmed decision counted
 * every other live one.
 * ------------------------------------------------------------------------
 */
PG_FUNCTION_INFO_V1(leadmgmt_engine_assign);
PG_FUNCTION_INFO_V1(leadmgmt_engine_load);

/*
 * settled journal rows that make a decision fold the journal first; a call
 * that finds another folding goes on until FOLD_LIMIT rows have settled
 */
#define FOLD_AFTER 64
#define FOLD_LIMIT (8 * FOLD_AFTER)


/* a rep's counters: rep_load plus the live journal rows */
typedef struct LoadRow
{
	int64		rep;
	int64		open;
	int64		assigned;		/* on the day asked for */
} LoadRow;

static int
CompareLoadRow(const void *a, const void *b)
{
	int64		x = ((const LoadRow *) a)->rep,
				y = ((const LoadRow *) b)->rep;

	return x < y ? -1 : x > y;
}

/*
 * One of the engine's tables, open for reading, with the attribute numbers
 * of the columns asked for.  The caller needs SELECT on it; a caller that
 * row-level security applies to must have app or admin access to the org
 * (check_org_engine), as the low-level scans below do not apply policies.
 */
typedef struct EngineRel
{
	Relation	rel;
	TupleDesc	desc;
	AttrNumber	att[8];
} EngineRel;

/* an engine table's oid, after checking that the current user has the right mode on it */
static Oid
EngineRelid(const char *name, AclMode mode)
{
	Oid			relid = get_relname_relid(name, get_namespace_oid("leadmgmt", false));
	AclResult	acl;

	if (!OidIsValid(relid))
		elog(ERROR, "table leadmgmt.%s does not exist", name);
	acl = pg_class_aclcheck(relid, GetUserId(), mode);
	if (acl != ACLCHECK_OK)
		aclcheck_error(acl, OBJECT_TABLE, name);
	return relid;
}

static void
EngineOpen(EngineRel *er, const char *name, const char *const *cols, int ncols, int64 org, bool *checked)
{
	Oid			relid = EngineRelid(name, ACL_SELECT);
	int			i;

	if (!*checked && check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
	{
		Oid			argtypes[1] = {INT8OID};
		Oid			fn = LookupFuncName(list_make2(makeString("leadmgmt"), makeString("check_org_engine")),
										1, argtypes, false);

		OidFunctionCall1(fn, Int64GetDatum(org));
		*checked = true;
	}
	er->rel = table_open(relid, AccessShareLock);
	er->desc = RelationGetDescr(er->rel);
	Assert(ncols <= (int) lengthof(er->att));
	for (i = 0; i < ncols; i++)
	{
		er->att[i] = get_attnum(relid, cols[i]);
		if (er->att[i] == InvalidAttrNumber)
			elog(ERROR, "column leadmgmt.%s.%s does not exist", name, cols[i]);
	}
}

/* an engine table's primary key (org_id first), after the relcache has looked its indexes up */
static Oid
EnginePk(EngineRel *er)
{
	list_free(RelationGetIndexList(er->rel));
	return er->rel->rd_pkindex;
}

/* the scan key on org_id */
static void
EngineOrgKey(EngineRel *er, int64 org, ScanKeyData *key)
{
	ScanKeyInit(key, get_attnum(RelationGetRelid(er->rel), "org_id"), BTEqualStrategyNumber, F_INT8EQ,
				Int64GetDatum(org));
}

/*
 * A scan of the org's rows of an engine table, by its primary key; with
 * after_att, only rows whose column after_att (the key's second column) is
 * above after.
 */
static SysScanDesc
EngineScan(EngineRel *er, int64 org, Snapshot snap, ScanKeyData *key, AttrNumber after_att, int64 after)
{
	Oid			pk = EnginePk(er);

	EngineOrgKey(er, org, &key[0]);
	if (after_att != InvalidAttrNumber)
		ScanKeyInit(&key[1], after_att, BTGreaterStrategyNumber, F_INT8GT, Int64GetDatum(after));
	return systable_beginscan(er->rel, pk, OidIsValid(pk), snap, after_att != InvalidAttrNumber ? 2 : 1, key);
}

static void
EngineClose(EngineRel *er, SysScanDesc scan)
{
	systable_endscan(scan);
	table_close(er->rel, AccessShareLock);
}

static Datum
EngineAttr(EngineRel *er, HeapTuple tup, int col)
{
	bool		isnull;
	Datum		d = heap_getattr(tup, er->att[col], er->desc, &isnull);

	if (isnull)
		elog(ERROR, "a column of leadmgmt.%s is null", RelationGetRelationName(er->rel));
	return d;
}

/* the elements of a one-dimensional int8[] (int4[] when int4) column without nulls, in place */
static void *
EngineArray(EngineRel *er, HeapTuple tup, int col, bool int4, int *n)
{
	ArrayType  *a = DatumGetArrayTypeP(EngineAttr(er, tup, col));

	if (ARR_NDIM(a) > 1 || ARR_HASNULL(a) || ARR_ELEMTYPE(a) != (int4 ? INT4OID : INT8OID))
		elog(ERROR, "leadmgmt.%s holds an array of the wrong shape", RelationGetRelationName(er->rel));
	*n = ARR_NDIM(a) == 0 ? 0 : ARR_DIMS(a)[0];
	return ARR_DATA_PTR(a);
}

/*
 * The journal as one scan saw it: each live row (its pick number, the
 * transaction that inserted it while that is in flight, else invalid) and
 * its parts.
 */
typedef struct JRow
{
	int64		pick_no;
	ItemPointerData tid;		/* the row version, to tell it again */
	TransactionId xmin;			/* with its inserting transaction */
	TransactionId xid;			/* in flight: the inserting transaction */
	bool		today;
	int			off;			/* its parts: parts[off .. off + n) */
	int			n;
} JRow;

typedef struct JPart
{
	int64		rep;
	int64		current;
	int64		last;
	int64		taken;
} JPart;

typedef struct Journal
{
	JRow	   *rows;
	int			nrows,
				caprows;
	JPart	   *parts;
	int			nparts,
				capparts;
} Journal;

typedef struct EngineState
{
	Slot	   *slots;			/* base rotation plus journal, sorted by id */
	int			nslots;
	int64		picks;
	LoadRow    *load;			/* sorted by rep */
	int			nload;
	bool		pending;		/* rep_load_change has rows for the org */
	int			settled;		/* journal rows of finished transactions (or ours) */
	Journal		journal;		/* the journal rows counted */
} EngineState;

static LoadRow *
FindLoad(EngineState *st, int64 rep)
{
	LoadRow		key;

	if (st->nload == 0)
		return NULL;			/* st->load may be NULL then: bsearch must not see it */
	key.rep = rep;
	return bsearch(&key, st->load, st->nload, sizeof(LoadRow), CompareLoadRow);
}

/*
 * The org's live journal rows above pick number after (all: 0), read with a
 * dirty snapshot: in flight or settled; appended to j.  A row another call
 * is still writing (a speculative insertion not yet confirmed, see
 * JournalPublish) is waited for, as INSERT ... ON CONFLICT waits for one,
 * for the few microseconds until it is confirmed or killed; then the rows are
 * read again.  The read runs from the highest pick number down
 * (JournalNothingNew relies on it); the rows are appended in ascending order.
 */
static void
JournalScan(int64 org, DateADT today, int64 after, Journal *j, bool *checked)
{
	static const char *const pick_cols[] = {"pick_no", "day", "rep_ids", "current_delta", "last_picks", "taken"};
	SnapshotData dirty;
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;
	EngineRel	er;
	Relation	pk;
	TransactionId wait_xid;
	uint32		wait_token;
	int			nrows0 = j->nrows,
				nparts0 = j->nparts,
				k;

again:
	j->nrows = nrows0;
	j->nparts = nparts0;
	wait_xid = InvalidTransactionId;
	wait_token = 0;
	InitDirtySnapshot(dirty);
	EngineOpen(&er, "assign_pick", pick_cols, 6, org, checked);
	if (!OidIsValid(EnginePk(&er)))
		elog(ERROR, "table leadmgmt.assign_pick has no primary key");
	pk = index_open(er.rel->rd_pkindex, AccessShareLock);
	EngineOrgKey(&er, org, &key[0]);
	ScanKeyInit(&key[1], er.att[0], BTGreaterStrategyNumber, F_INT8GT, Int64GetDatum(after));
	scan = systable_beginscan_ordered(er.rel, pk, &dirty, 2, key);
	while (HeapTupleIsValid(tup = systable_getnext_ordered(scan, BackwardScanDirection)))
	{
		int			n1,
					n2,
					n3,
					n4,
					i;
		const int64 *id,
				   *cur,
				   *last;
		const int32 *taken;
		JRow	   *r;

		if (dirty.speculativeToken != 0)
		{
			wait_xid = dirty.xmin;
			wait_token = dirty.speculativeToken;
			break;
		}
		id = EngineArray(&er, tup, 2, false, &n1);
		cur = EngineArray(&er, tup, 3, false, &n2);
		last = EngineArray(&er, tup, 4, false, &n3);
		taken = EngineArray(&er, tup, 5, true, &n4);
		if (n1 != n2 || n1 != n3 || n1 != n4)
			elog(ERROR, "a leadmgmt.assign_pick row of org " INT64_FORMAT " has arrays of different lengths", org);
		if (j->nrows == j->caprows)
		{
			j->caprows = Max(64, j->caprows * 2);
			j->rows = j->rows ? repalloc(j->rows, sizeof(JRow) * j->caprows) : palloc(sizeof(JRow) * j->caprows);
		}
		if (j->nparts + n1 > j->capparts)
		{
			j->capparts = Max(j->capparts * 2, j->nparts + n1 + 256);
			j->parts = j->parts ? repalloc(j->parts, sizeof(JPart) * j->capparts) : palloc(sizeof(JPart) * j->capparts);
		}
		r = &j->rows[j->nrows++];
		r->pick_no = DatumGetInt64(EngineAttr(&er, tup, 0));
		r->tid = tup->t_self;
		r->xmin = HeapTupleHeaderGetRawXmin(tup->t_data);
		/* the dirty snapshot names the inserting transaction while it is in flight */
		r->xid = dirty.xmin;
		r->today = DatumGetDateADT(EngineAttr(&er, tup, 1)) == today;
		r->off = j->nparts;
		r->n = n1;
		for (i = 0; i < n1; i++)
		{
			JPart	   *p = &j->parts[j->nparts++];

			p->rep = id[i];
			p->current = cur[i];
			p->last = last[i];
			p->taken = taken[i];
		}
	}
	systable_endscan_ordered(scan);
	index_close(pk, AccessShareLock);
	table_close(er.rel, AccessShareLock);
	if (TransactionIdIsValid(wait_xid))
	{
		SpeculativeInsertionWait(wait_xid, wait_token);
		CHECK_FOR_INTERRUPTS();
		goto again;
	}
	/* ascending */
	for (k = 0; k < (j->nrows - nrows0) / 2; k++)
	{
		JRow		t = j->rows[nrows0 + k];

		j->rows[nrows0 + k] = j->rows[j->nrows - 1 - k];
		j->rows[j->nrows - 1 - k] = t;
	}
}

/*
 * Add a rotation delta to rep's slot in the state; a rep new to the slots is
 * inserted in id order.  The base rotation and every journal row are counted
 * so.
 */
static void
StateAddSlot(EngineState *st, int64 rep, int64 current, int64 last)
{
	int			at = FindSlot(st->slots, st->nslots, rep);

	if (at < 0)
	{
		st->slots = repalloc(st->slots, sizeof(Slot) * (st->nslots + 1));
		for (at = st->nslots; at > 0 && st->slots[at - 1].id > rep; at--)
			st->slots[at] = st->slots[at - 1];
		st->slots[at].id = rep;
		st->slots[at].current = 0;
		st->slots[at].last = 0;
		st->nslots++;
	}
	st->slots[at].current += current;
	st->slots[at].last = Max(st->slots[at].last, last);
}

/*
 * Count a journal row in the state: its rotation deltas in the slots, its
 * leads in the counters, its pick number in the picks.  EngineRead counts
 * every row so, JournalCatchUp those that came since.
 */
static void
StateAddRow(EngineState *st, const JRow *r)
{
	int			i;

	if (!TransactionIdIsValid(r->xid))
		st->settled++;
	st->picks = Max(st->picks, r->pick_no);
	for (i = 0; i < r->n; i++)
	{
		const JPart *p = &st->journal.parts[r->off + i];
		LoadRow    *l;

		StateAddSlot(st, p->rep, p->current, p->last);
		if (p->taken && (l = FindLoad(st, p->rep)) != NULL)
		{
			l->open += p->taken;
			if (r->today)
				l->assigned += p->taken;
		}
	}
}

/* a row read while its transaction was in flight, which has rolled back since */
static bool
RowAborted(const JRow *r)
{
	return TransactionIdIsValid(r->xid) &&
		!TransactionIdIsInProgress(r->xid) && !TransactionIdDidCommit(r->xid);
}

static bool JournalUnchanged(int64 org, ItemPointer mine, const Journal *seen, bool *checked);

/*
 * True when no row but the row at mine is above the highest row seen
 * (confirmed or still being written), and that row still stands: then the
 * journal holds no live row this call did not count.  For a row C unseen
 * below the top T: C was written after the descending read passed it, so
 * after T was confirmed; C's call read before T was confirmed, since it did
 * not count it, and its own check, made after C was written, met T above its
 * top and killed C.  When T has aborted since, the whole journal is
 * compared (JournalUnchanged).
 */
static bool
JournalNothingNew(int64 org, ItemPointer mine, const Journal *seen, bool *checked)
{
	static const char *const pick_cols[] = {"pick_no"};
	const JRow *top = seen->nrows > 0 ? &seen->rows[seen->nrows - 1] : NULL;
	SnapshotData dirty;
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;
	EngineRel	er;
	bool		clear = true;

	InitDirtySnapshot(dirty);
	EngineOpen(&er, "assign_pick", pick_cols, 1, org, checked);
	scan = EngineScan(&er, org, &dirty, key, er.att[0], top ? top->pick_no : 0);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
		if (!ItemPointerEquals(&tup->t_self, mine))
		{
			clear = false;
			break;
		}
	EngineClose(&er, scan);
	if (!clear)
		return false;
	if (top && RowAborted(top))
		return JournalUnchanged(org, mine, seen, checked);
	return true;
}

/*
 * True when the org's live journal rows other than the row at mine are
 * rows that seen holds, the same versions (some of those may have gone
 * since: aborted transactions take their rows with them).  A row seen does
 * not hold, or another call's unconfirmed row, is a call this one did not
 * count.
 */
static bool
JournalUnchanged(int64 org, ItemPointer mine, const Journal *seen, bool *checked)
{
	static const char *const pick_cols[] = {"pick_no"};
	SnapshotData dirty;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	EngineRel	er;
	bool		same = true;
	int			i = 0;

	InitDirtySnapshot(dirty);
	EngineOpen(&er, "assign_pick", pick_cols, 1, org, checked);
	scan = EngineScan(&er, org, &dirty, &key, InvalidAttrNumber, 0);
	while (same && HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		int64		pick_no;
		int			k;

		if (ItemPointerEquals(&tup->t_self, mine))
			continue;
		if (dirty.speculativeToken != 0)
		{
			same = false;		/* a call deciding beside this one */
			break;
		}
		/* both reads run in pick number order */
		pick_no = DatumGetInt64(EngineAttr(&er, tup, 0));
		while (i < seen->nrows && seen->rows[i].pick_no < pick_no)
			i++;
		same = false;
		for (k = i; k < seen->nrows && seen->rows[k].pick_no == pick_no; k++)
			if (ItemPointerEquals(&seen->rows[k].tid, &tup->t_self) &&
				seen->rows[k].xmin == HeapTupleHeaderGetRawXmin(tup->t_data))
				same = true;
	}
	EngineClose(&er, scan);
	return same;
}

/*
 * Read the org's state: the base (rotation and counters) with a fresh
 * snapshot, the journal with a dirty one.  The caller holds the org's
 * assignment lock, in share mode at least, so no fold, claim, release or
 * recycling is in flight.  want_slots: also the rotation.
 */
static void
EngineRead(int64 org, DateADT today, bool want_slots, EngineState *st)
{
	static const char *const rot_cols[] = {"rep_ids", "current_weights", "last_picks", "picks"};
	static const char *const load_cols[] = {"rep_id", "open_leads", "counted_day", "assigned_today"};
	Snapshot	snap = RegisterSnapshot(GetLatestSnapshot());
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	EngineRel	er;
	bool		checked = false;
	int			i,
				k;

	memset(st, 0, sizeof(*st));
	st->slots = palloc(sizeof(Slot));

	/* the base rotation */
	if (want_slots)
	{
		EngineOpen(&er, "assign_rotation", rot_cols, 4, org, &checked);
		scan = EngineScan(&er, org, snap, &key, InvalidAttrNumber, 0);
		if (HeapTupleIsValid(tup = systable_getnext(scan)))
		{
			int			n1,
						n2,
						n3;
			const int64 *id = EngineArray(&er, tup, 0, false, &n1);
			const int64 *cur = EngineArray(&er, tup, 1, false, &n2);
			const int64 *last = EngineArray(&er, tup, 2, false, &n3);

			if (n1 != n2 || n1 != n3)
				elog(ERROR, "leadmgmt.assign_rotation of org " INT64_FORMAT " has arrays of different lengths", org);
			st->picks = DatumGetInt64(EngineAttr(&er, tup, 3));
			for (i = 0; i < n1; i++)
				StateAddSlot(st, id[i], cur[i], last[i]);
		}
		EngineClose(&er, scan);
	}

	/* the counters */
	EngineOpen(&er, "rep_load", load_cols, 4, org, &checked);
	scan = EngineScan(&er, org, snap, &key, InvalidAttrNumber, 0);
	k = 0;
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		LoadRow    *l;

		if (st->nload == k)
		{
			k = Max(32, k * 2);
			st->load = st->load ? repalloc(st->load, sizeof(LoadRow) * k) : palloc(sizeof(LoadRow) * k);
		}
		l = &st->load[st->nload++];
		l->rep = DatumGetInt64(EngineAttr(&er, tup, 0));
		l->open = DatumGetInt32(EngineAttr(&er, tup, 1));
		l->assigned = DatumGetDateADT(EngineAttr(&er, tup, 2)) == today
			? DatumGetInt32(EngineAttr(&er, tup, 3)) : 0;
	}
	EngineClose(&er, scan);
	if (st->nload > 1)
		qsort(st->load, st->nload, sizeof(LoadRow), CompareLoadRow);

	/* changes of open leads made outside the engine, waiting to be folded */
	EngineOpen(&er, "rep_load_change", NULL, 0, org, &checked);
	scan = EngineScan(&er, org, snap, &key, InvalidAttrNumber, 0);
	st->pending = HeapTupleIsValid(systable_getnext(scan));
	EngineClose(&er, scan);
	UnregisterSnapshot(snap);

	/* the journal counted in */
	JournalScan(org, today, 0, &st->journal, &checked);
	for (i = 0; i < st->journal.nrows; i++)
		StateAddRow(st, &st->journal.rows[i]);
}

/*
 * After a conflict: bring the state read to the journal as it is now,
 * without reading it again.  The rows above the highest one counted are read
 * (descending, as JournalScan reads) and added.  The state stays right when
 * every row counted still stands: a row counted while in flight that has
 * aborted since may hide rows written after it that this call never saw,
 * so then it returns false and the state must be read again.  The base
 * cannot have changed: this call holds the assignment lock, and a fold takes
 * it in exclusive mode.
 */
static bool
JournalCatchUp(int64 org, DateADT today, EngineState *st)
{
	Journal    *j = &st->journal;
	int			n0 = j->nrows,
				i;
	bool		checked = true;

	JournalScan(org, today, n0 > 0 ? j->rows[n0 - 1].pick_no : 0, j, &checked);

	/* after the read, as JournalNothingNew checks the top after its own */
	for (i = 0; i < n0; i++)
	{
		if (RowAborted(&j->rows[i]))
			return false;
	}
	for (i = n0; i < j->nrows; i++)
		StateAddRow(st, &j->rows[i]);
	return true;
}

/*
 * With leadmgmt.verify_catch_up on (a setting for tests, check 49): the
 * state JournalCatchUp brought up to date equals the state read anew, when
 * the new read saw the same journal rows.  A difference is a bug.
 */
static void
VerifyCatchUp(int64 org, DateADT today, const EngineState *st)
{
	const char *on = GetConfigOption("leadmgmt.verify_catch_up", true, false);
	EngineState fresh;
	int			i;

	if (on == NULL || strcmp(on, "on") != 0)
		return;
	EngineRead(org, today, true, &fresh);
	if (fresh.journal.nrows != st->journal.nrows)
		return;					/* the journal moved on meanwhile */
	for (i = 0; i < fresh.journal.nrows; i++)
		if (!ItemPointerEquals(&fresh.journal.rows[i].tid, &st->journal.rows[i].tid))
			return;
	if (fresh.picks != st->picks || fresh.nslots != st->nslots || fresh.nload != st->nload)
		elog(ERROR, "the caught-up state of org " INT64_FORMAT " differs from the state read anew", org);
	for (i = 0; i < fresh.nslots; i++)
		if (fresh.slots[i].id != st->slots[i].id || fresh.slots[i].current != st->slots[i].current ||
			fresh.slots[i].last != st->slots[i].last)
			elog(ERROR, "the caught-up rotation of org " INT64_FORMAT " differs from the one read anew", org);
	for (i = 0; i < fresh.nload; i++)
		if (fresh.load[i].rep != st->load[i].rep || fresh.load[i].open != st->load[i].open ||
			fresh.load[i].assigned != st->load[i].assigned)
			elog(ERROR, "the caught-up counters of org " INT64_FORMAT " differ from the ones read anew", org);
}

static DateADT
DateArg(FunctionCallInfo fcinfo, int i)
{
	DateADT		d = PG_GETARG_DATEADT(i);

	if (DATE_NOT_FINITE(d))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the day must be finite")));
	return d;
}

/*
 * An org's advisory lock, as pg_advisory_xact_lock(hashtextextended(name,
 * org)) names it: 'leadmgmt.assign', the assignment lock; 'leadmgmt.fold',
 * held until commit by the call that goes to fold the journal.
 */
static void
AssignLockTag(LOCKTAG *tag, const char *name, int64 org)
{
	int64		key = DatumGetInt64(hash_any_extended((const unsigned char *) name, strlen(name), (uint64) org));

	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, (uint32) (key >> 32), (uint32) key, 1);
}

static bool
AssignLockHeld(LOCKTAG *tag)
{
#if PG_VERSION_NUM >= 170000
	return LockHeldByMe(tag, ExclusiveLock, false);
#else
	return LockHeldByMe(tag, ExclusiveLock);
#endif
}

/*
 * Publish the journal row: write it straight into assign_pick and its
 * primary key, as the catalogs are written (no executor, no triggers, which
 * it has none of; its checks hold by construction).  The caller needs INSERT
 * on it; row-level security was checked when the state was read.
 *
 * The row goes in as a speculative insertion, as INSERT ... ON CONFLICT
 * writes its rows: readers skip it until it is confirmed.  It is confirmed
 * only when nobody else holds its pick number, live or in flight (the
 * primary key's check, which does not wait), and, with seen, when the
 * journal holds no row but those seen (JournalNothingNew): then every other
 * live row was counted by this decision, and every later decision counts
 * this one.  Otherwise the row is killed at once, as a conflicting
 * ON CONFLICT insertion is, and false is returned: decide again.
 */
static bool
JournalPublish(int64 org, int64 pick_no, DateADT day, TimestampTz at,
			   const int64 *id, const int64 *cur, const int64 *last, const int64 *taken, int n,
			   const Journal *seen)
{
	static const char *const cols[] = {"org_id", "pick_no", "day", "at", "rep_ids", "current_delta", "last_picks", "taken"};
	Oid			relid = EngineRelid("assign_pick", ACL_INSERT);
	Relation	rel;
	TupleDesc	desc;
	Datum	   *values;
	bool	   *nulls;
	HeapTuple	tup;
	List	   *indexes;
	ListCell   *lc;
	TransactionId xid;
	bool		ok = true;
	bool		checked = true;
	int			i;

	rel = table_open(relid, RowExclusiveLock);
	desc = RelationGetDescr(rel);
	values = palloc0(sizeof(Datum) * desc->natts);
	nulls = palloc(sizeof(bool) * desc->natts);
	memset(nulls, true, sizeof(bool) * desc->natts);
	for (i = 0; i < (int) lengthof(cols); i++)
	{
		AttrNumber	att = get_attnum(relid, cols[i]);

		if (att == InvalidAttrNumber)
			elog(ERROR, "column leadmgmt.assign_pick.%s does not exist", cols[i]);
		nulls[att - 1] = false;
		switch (i)
		{
			case 0:
				values[att - 1] = Int64GetDatum(org);
				break;
			case 1:
				values[att - 1] = Int64GetDatum(pick_no);
				break;
			case 2:
				values[att - 1] = DateADTGetDatum(day);
				break;
			case 3:
				values[att - 1] = TimestampTzGetDatum(at);
				break;
			case 4:
				values[att - 1] = PointerGetDatum(Int64Result((int64 *) id, NULL, n, INT8OID));
				break;
			case 5:
				values[att - 1] = PointerGetDatum(Int64Result((int64 *) cur, NULL, n, INT8OID));
				break;
			case 6:
				values[att - 1] = PointerGetDatum(Int64Result((int64 *) last, NULL, n, INT8OID));
				break;
			case 7:
				values[att - 1] = PointerGetDatum(Int64Result((int64 *) taken, NULL, n, INT4OID));
				break;
		}
	}
	tup = heap_form_tuple(desc, values, nulls);
	xid = GetCurrentTransactionId();
	HeapTupleHeaderSetSpeculativeToken(tup->t_data, SpeculativeInsertionLockAcquire(xid));
	heap_insert(rel, tup, GetCurrentCommandId(true), HEAP_INSERT_SPECULATIVE, NULL);

	/* its indexes: plain columns only; a unique one answers without waiting */
	indexes = RelationGetIndexList(rel);
	foreach(lc, indexes)
	{
		Relation	irel = index_open(lfirst_oid(lc), RowExclusiveLock);
		IndexInfo  *ii = BuildIndexInfo(irel);
		Datum		iv[INDEX_MAX_KEYS];
		bool		in[INDEX_MAX_KEYS];
		int			k;

		if (ii->ii_Expressions != NIL || ii->ii_Predicate != NIL)
			elog(ERROR, "an index of leadmgmt.assign_pick has expressions or a predicate");
		for (k = 0; k < ii->ii_NumIndexAttrs; k++)
			iv[k] = heap_getattr(tup, ii->ii_IndexAttrNumbers[k], desc, &in[k]);
		if (!index_insert(irel, iv, in, &tup->t_self, rel,
						  ii->ii_Unique ? UNIQUE_CHECK_PARTIAL : UNIQUE_CHECK_NO,
#if PG_VERSION_NUM >= 140000
						  false,
#endif
						  ii) && ii->ii_Unique)
			ok = false;
		index_close(irel, RowExclusiveLock);
		if (!ok)
			break;
	}
	list_free(indexes);
	if (ok && seen != NULL)
		ok = JournalNothingNew(org, &tup->t_self, seen, &checked);
	if (ok)
		heap_finish_speculative(rel, &tup->t_self);
	else
		heap_abort_speculative(rel, &tup->t_self);
	SpeculativeInsertionLockRelease(xid);
	table_close(rel, RowExclusiveLock);
	return ok;
}

/* the arguments of one decision */
typedef struct EngineAsk
{
	int64		org;
	DateADT		today;
	TimestampTz at;
	bool		synced;
	Strategy	strategy;
	int			n;				/* the roster */
	int64	   *rid,
			   *rw,
			   *rdaily,
			   *rhold,
			   *rskill;
	int			nleads;			/* the leads */
	char	   *tiers;
	int64	   *excl;
	bool	   *exclnull;
	bool		fold_later;		/* another call has the fold in hand */
} EngineAsk;

typedef enum
{
	DECIDED,					/* published, or nothing to publish */
	NEEDS_SYNC,					/* a fold must come first */
	FOLD_DUE,					/* a fold is due; the decision could go on without it */
	CONFLICT					/* another call published first: decide again */
} Decision;

/*
 * One attempt at the decision: read the state (fresh; else st was read and
 * brought up to date by JournalCatchUp), plan, publish.  validate:
 * others may be deciding beside this call (it holds the lock in share
 * mode), so its row is confirmed only if the journal did not change under it.
 * Fills lead_rep and lead_null, and *assigned.
 */
static Decision
EngineDecide(EngineAsk *ask, EngineState *st, bool fresh, bool validate, int64 *lead_rep, bool *lead_null,
			 int32 *assigned)
{
	Slot	   *slots,
			   *before;
	Rep		   *reps;
	int64	   *eid,
			   *ew,
			   *eopen,
			   *eroom,
			   *eskill;
	int64		picks;
	int			i,
				m,
				nslots;
	bool		ok = true;

	if (fresh)
		EngineRead(ask->org, ask->today, true, st);

	/* the roster's reps with counters; the others need a fold, or drop out */
	eid = palloc(sizeof(int64) * Max(ask->n, 1));
	ew = palloc(sizeof(int64) * Max(ask->n, 1));
	eopen = palloc(sizeof(int64) * Max(ask->n, 1));
	eroom = palloc(sizeof(int64) * Max(ask->n, 1));
	eskill = palloc(sizeof(int64) * Max(ask->n, 1));
	m = 0;
	for (i = 0; i < ask->n; i++)
	{
		LoadRow    *l = FindLoad(st, ask->rid[i]);

		if (l == NULL)
		{
			if (!ask->synced)
				return NEEDS_SYNC;
			continue;
		}
		eid[m] = ask->rid[i];
		ew[m] = ask->rw[i];
		eopen[m] = l->open;
		eroom[m] = Min(ask->rdaily[i] - l->assigned, ask->rhold[i] - l->open);
		eskill[m] = ask->rskill[i];
		m++;
	}
	if (!ask->synced && st->pending)
		return NEEDS_SYNC;
	if (!ask->synced && st->settled >= (ask->fold_later ? FOLD_LIMIT : FOLD_AFTER))
		return FOLD_DUE;

	/* the slots, and a copy to tell what the plan moved */
	slots = palloc(sizeof(Slot) * (st->nslots + m + 1));
	memcpy(slots, st->slots, sizeof(Slot) * st->nslots);
	nslots = AddRepSlots(slots, st->nslots, eid, m);
	before = palloc(sizeof(Slot) * (nslots + 1));
	memcpy(before, slots, sizeof(Slot) * nslots);
	reps = MakeReps(slots, nslots, eid, ew, eopen, eroom, eskill, m);

	picks = PlanLeads(ask->strategy, slots, reps, m, ask->tiers, ask->nleads, ask->excl, ask->exclnull,
					  st->picks, lead_rep, lead_null);
	*assigned = (int32) (picks - st->picks);

	if (picks != st->picks)
	{
		/* the journal row: what moved, in slot (rep id) order */
		int64	   *jid = palloc(sizeof(int64) * nslots),
				   *jcur = palloc(sizeof(int64) * nslots),
				   *jlast = palloc(sizeof(int64) * nslots),
				   *jtaken = palloc0(sizeof(int64) * nslots);
		int			nj = 0;

		for (i = 0; i < m; i++)
			jtaken[reps[i].slot] = reps[i].taken;
		for (i = 0; i < nslots; i++)
		{
			if (slots[i].current == before[i].current && slots[i].last == before[i].last && jtaken[i] == 0)
				continue;
			jid[nj] = slots[i].id;
			jcur[nj] = slots[i].current - before[i].current;
			jlast[nj] = slots[i].last != before[i].last ? slots[i].last : 0;
			jtaken[nj] = jtaken[i];
			nj++;
		}
		ok = JournalPublish(ask->org, picks, ask->today, ask->at, jid, jcur, jlast, jtaken, nj,
							validate ? &st->journal : NULL);
	}
	return ok ? DECIDED : CONFLICT;
}

/* tries before a call decides under the lock in exclusive mode */
#define SHARED_TRIES 4
/* calls with more leads decide under the lock in exclusive mode at once */
#define SHARED_MAX_LEADS 32

/*
 * engine_assign(org_id bigint, today date, at timestamptz, synced boolean, strategy text,
 *               rep_ids bigint[], weights int[], daily_caps int[], holding_caps int[], skills int[],
 *               lead_tiers text, lead_excluded bigint[],
 *               OUT needs_sync boolean, OUT lead_rep_ids bigint[], OUT assigned integer)
 *
 * The decision: reads the state, plans the leads for the roster's reps as
 * plan_assignments does and publishes the journal row; returns the rep of
 * each lead and how many got one.
 *
 * It holds the org's assignment lock while it decides and releases it after,
 * in share mode: calls decide side by side, optimistically, and a call whose
 * row conflicts with another's (JournalPublish) decides again, on its state
 * brought up to date with the rows that came first (JournalCatchUp).  After
 * SHARED_TRIES conflicts, or for a batch of more than SHARED_MAX_LEADS
 * leads, it decides under the lock in exclusive mode, where nothing can
 * conflict.  What takes the lock in exclusive mode until commit (a fold,
 * claim, release, recycling) never runs beside a decision.
 *
 * Unless synced, it first asks for a fold (needs_sync, holding the lock in
 * exclusive mode, nothing else) when a roster rep has no counters yet,
 * open-lead changes wait, or FOLD_AFTER journal rows have settled; in the
 * last case only the call that gets the fold lock asks, the others decide on
 * until FOLD_LIMIT rows have settled.  synced:
 * the caller holds the lock in exclusive mode and has folded (rep_load_sync)
 * in this transaction; the lock stays until commit, and reps still without
 * counters (deleted meanwhile) drop out.
 */
Datum
leadmgmt_engine_assign(PG_FUNCTION_ARGS)
{
	EngineAsk	ask;
	int			i,
				j,
				tries;
	int64	   *lead_rep;
	bool	   *lead_null;
	int32		assigned = 0;
	LOCKTAG		tag;
	LOCKMODE	held = NoLock;	/* the lock mode this call took */
	EngineState st;
	bool		fresh = true;	/* read the state anew */
	Decision	d;
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	for (i = 0; i < 12; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("engine_assign arguments must not be null")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "engine_assign must return a composite type");
	tupdesc = BlessTupleDesc(tupdesc);

	ask.org = PG_GETARG_INT64(0);
	ask.today = DateArg(fcinfo, 1);
	ask.at = PG_GETARG_TIMESTAMPTZ(2);
	if (TIMESTAMP_NOT_FINITE(ask.at))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("at must be finite")));
	ask.synced = PG_GETARG_BOOL(3);
	ask.strategy = ParseStrategy(PG_GETARG_TEXT_PP(4));
	ask.rid = Int64Array(PG_GETARG_ARRAYTYPE_P(5), "rep_ids", &ask.n, NULL);
	ask.rw = Int64Array(PG_GETARG_ARRAYTYPE_P(6), "weights", &j, NULL);
	CheckLength(j, ask.n, "weights", "rep_ids");
	ask.rdaily = Int64Array(PG_GETARG_ARRAYTYPE_P(7), "daily_caps", &j, NULL);
	CheckLength(j, ask.n, "daily_caps", "rep_ids");
	ask.rhold = Int64Array(PG_GETARG_ARRAYTYPE_P(8), "holding_caps", &j, NULL);
	CheckLength(j, ask.n, "holding_caps", "rep_ids");
	ask.rskill = Int64Array(PG_GETARG_ARRAYTYPE_P(9), "skills", &j, NULL);
	CheckLength(j, ask.n, "skills", "rep_ids");
	ParseLeads(PG_GETARG_TEXT_PP(10), PG_GETARG_ARRAYTYPE_P(11), &ask.tiers, &ask.nleads, &ask.excl, &ask.exclnull);
	lead_rep = palloc0(sizeof(int64) * Max(ask.nleads, 1));
	lead_null = palloc(sizeof(bool) * Max(ask.nleads, 1));

	AssignLockTag(&tag, "leadmgmt.assign", ask.org);
	ask.fold_later = false;
	if (ask.synced)
	{
		if (!AssignLockHeld(&tag))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("engine_assign with synced needs the assignment lock of org " INT64_FORMAT, ask.org),
					 errhint("Call it without synced first; it asks for rep_load_sync when it must.")));
	}
	else
	{
		held = ask.nleads > SHARED_MAX_LEADS ? ExclusiveLock : ShareLock;
		(void) LockAcquire(&tag, held, false, false);
	}

	for (tries = 1;;)
	{
		d = EngineDecide(&ask, &st, fresh, held == ShareLock, lead_rep, lead_null, &assigned);
		if (d == DECIDED)
			break;
		if (d == FOLD_DUE && held == ShareLock && !ask.fold_later)
		{
			LOCKTAG		fold;

			/*
			 * One call folds: the one that gets the fold lock, kept until
			 * commit.  The others that find the fold due meanwhile decide
			 * on, on the state they read, instead of each taking the
			 * assignment lock in exclusive mode in turn; they fold only when
			 * FOLD_LIMIT rows have settled.
			 */
			AssignLockTag(&fold, "leadmgmt.fold", ask.org);
			if (LockAcquire(&fold, ExclusiveLock, false, true) == LOCKACQUIRE_NOT_AVAIL)
			{
				ask.fold_later = true;
				fresh = false;
				continue;
			}
		}
		if (d == FOLD_DUE)
			d = NEEDS_SYNC;
		if (d == NEEDS_SYNC && held == ExclusiveLock)
		{
			/* the lock stays: the fold changes the base, so it is kept until commit */
			values[0] = BoolGetDatum(true);
			nulls[1] = nulls[2] = true;
			PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
		}
		if (held != ShareLock)
			elog(ERROR, "the journal row of org " INT64_FORMAT " conflicted under the exclusive lock", ask.org);
		if (d == NEEDS_SYNC || tries >= SHARED_TRIES)
		{
			/* look again alone: another call may have folded meanwhile */
			LockRelease(&tag, ShareLock, false);
			held = ExclusiveLock;
			(void) LockAcquire(&tag, held, false, false);
			fresh = true;
		}
		else
		{
			/* the calls that came first are above what this one read: add them */
			tries++;
			fresh = !JournalCatchUp(ask.org, ask.today, &st);
			if (!fresh)
				VerifyCatchUp(ask.org, ask.today, &st);
		}
		CHECK_FOR_INTERRUPTS();
	}
	/* the base did not change: the next decision may start now, it sees this one in the journal */
	if (held != NoLock)
		LockRelease(&tag, held, false);

	values[0] = BoolGetDatum(false);
	values[1] = PointerGetDatum(Int64Result(lead_rep, lead_null, ask.nleads, INT8OID));
	values[2] = Int32GetDatum(assigned);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * engine_load(org_id bigint, today date, rep_id bigint,
 *             OUT open_leads integer, OUT assigned_today integer)
 *
 * A rep's counters as the engine sees them under the lock: rep_load plus the
 * picks of the journal, in flight or not.  NULLs when the rep has no row in
 * rep_load (rep_load_sync builds it).
 */
Datum
leadmgmt_engine_load(PG_FUNCTION_ARGS)
{
	EngineState st;
	LoadRow    *l;
	TupleDesc	tupdesc;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("engine_load arguments must not be null")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "engine_load must return a composite type");
	tupdesc = BlessTupleDesc(tupdesc);
	EngineRead(PG_GETARG_INT64(0), DateArg(fcinfo, 1), false, &st);
	l = FindLoad(&st, PG_GETARG_INT64(2));
	if (l == NULL)
		nulls[0] = nulls[1] = true;
	else
	{
		values[0] = Int32GetDatum((int32) Min(l->open, PG_INT32_MAX));
		values[1] = Int32GetDatum((int32) Min(l->assigned, PG_INT32_MAX));
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

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
 * access to the org (acting_org_ids).
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
		id = Int64Array(ids, "acting_org_ids", &n, NULL);
		for (i = 0; i < n && !found; i++)
			found = id[i] == org;
		if (!found)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to assign or recycle the leads of org " INT64_FORMAT, org),
					 errhint("Assignment and recycling need app or admin access to the org; a sales rep claims and releases instead.")));
	}
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

/* the text of a column (NULL when null), copied */
static char *
EngineText(EngineRel *er, HeapTuple tup, int col)
{
	bool		isnull;
	Datum		d = heap_getattr(tup, er->att[col], er->desc, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

/*
 * rep_roster(o org, team_id bigint, at timestamptz,
 *            OUT strategy text, OUT rep_ids bigint[], OUT weights int[], OUT daily_caps int[],
 *            OUT holding_caps int[], OUT skills int[])
 *
 * The strategy (the team's, else the org's) and the reps that may get leads
 * at a time, in rep id order: active, of the team if one is given, on shift
 * in the org time zone at that time (a rep without shifts always is), with
 * weights, caps and tier skills (bit t: skilled for tier t; bit 4+t: the
 * role the tier policy hands tier t to; tiers without a tier_policy row use
 * the defaults of effective_tier_policy).  The arrays are NULL when no rep
 * qualifies, and everything is NULL for a NULL org.
 */
Datum
leadmgmt_rep_roster(PG_FUNCTION_ARGS)
{
	static const char *const team_cols[] = {"team_id", "assign_strategy"};
	static const char *const policy_cols[] = {"tier", "handler_role"};
	static const char *const shift_cols[] = {"rep_id", "weekday", "starts_at", "ends_at"};
	static const char *const rep_cols[] = {"rep_id", "active", "team_id", "weight", "daily_cap", "holding_cap",
	"tiers", "role"};
	/* the handler roles of effective_tier_policy's defaults, tiers A to D */
	static const char *const default_roles[NTIERS] = {"top_sales", "sales", "tmk", "ai_bot"};
	char	   *roles[NTIERS];
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
	Snapshot	snap;
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;
	EngineRel	er;
	Shift	   *shifts = NULL;
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
		Datum		d = GetAttributeByName(o, "assign_strategy", &isnull);

		strategy = isnull ? NULL : TextDatumGetCString(d);
	}
	org = DatumGetInt64(GetAttributeByName(o, "org_id", &isnull));
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
		Datum		tz = GetAttributeByName(o, "timezone", &isnull);

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
	for (i = 0; i < NTIERS; i++)
		roles[i] = (char *) default_roles[i];
	EngineOpen(&er, "tier_policy", policy_cols, 2, org, &checked);
	scan = EngineScan(&er, org, snap, key, InvalidAttrNumber, 0);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		char	   *tier = EngineText(&er, tup, 0);

		if (tier != NULL && tier[0] >= 'A' && tier[0] < 'A' + NTIERS)
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
				if (strlen(tier) == 1 && tier[0] >= 'A' && tier[0] < 'A' + NTIERS)
					skill |= (int64) 1 << (tier[0] - 'A');
			}
		}
		role = EngineText(&er, tup, 7);
		for (i = 0; i < NTIERS; i++)
			if (role != NULL && roles[i] != NULL && strcmp(role, roles[i]) == 0)
				skill |= (int64) 1 << (NTIERS + i);

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
		values[1] = PointerGetDatum(Int64Result(rid, NULL, n, INT8OID));
		values[2] = PointerGetDatum(Int64Result(rw, NULL, n, INT4OID));
		values[3] = PointerGetDatum(Int64Result(rdaily, NULL, n, INT4OID));
		values[4] = PointerGetDatum(Int64Result(rhold, NULL, n, INT4OID));
		values[5] = PointerGetDatum(Int64Result(rskill, NULL, n, INT4OID));
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
