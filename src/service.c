/*
 * src/service.c
 *
 * The service side's one computation in C (docs/reference/service.md):
 * renewal_chains() follows each chain of timely renewals from its first term,
 * for the view student_lifetime.  Until 0.12 the view walked the chains with a
 * recursive CTE, which Citus cannot plan over all orgs; now it gathers each
 * org's terms into two arrays (grouped by org_id, which Citus pushes down to
 * the shards) and this function walks them in memory.
 *
 * Semantics, those of the recursive CTE it replaces:
 *   - a term is first in its chain when no term of the arrays renews into it;
 *   - from each first term the chain follows renewed_into while it names a
 *     term of the arrays; every term it reaches is one row, numbered from 1;
 *   - a term that only a cycle reaches starts no chain (the CTE never reached
 *     it either), and a walk that comes back to a term it has passed stops
 *     there (where the CTE would not have ended).
 * The walk is lazy, a row per call: rows cost no memory, so arrays whose
 * chains merge (which renewal's unique keys rule out, but a caller may pass)
 * cost time only, and the query can be cancelled.
 */
#include "leadmgmt.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"

PG_FUNCTION_INFO_V1(leadmgmt_renewal_chains);

typedef struct ChainKey
{
	int64		id;
	int32		idx;
} ChainKey;

typedef struct ChainWalk
{
	int64	   *ids;
	int32	   *succ;			/* index of the term renewed into, or -1 */
	int32	   *heads;			/* first terms, in the order of the arrays */
	int32	   *seen;			/* 1 + the head whose walk last passed here */
	int32		nheads;
	int32		head;			/* the walk under way */
	int32		cur;			/* its next term, -1 when it has ended */
	int32		term;
} ChainWalk;

static int
ChainKeyCmp(const void *a, const void *b)
{
	int64		x = ((const ChainKey *) a)->id;
	int64		y = ((const ChainKey *) b)->id;

	return x < y ? -1 : x > y;
}

/* the elements of a one-dimensional bigint[] argument, and their NULL flags */
static int
ChainArray(FunctionCallInfo fcinfo, int arg, const char *what, Datum **elems, bool **nulls)
{
	ArrayType  *a = PG_GETARG_ARRAYTYPE_P(arg);
	int			n;

	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must be a one-dimensional array", what)));
	if (ARR_ELEMTYPE(a) != INT8OID)
		elog(ERROR, "%s must be bigint[]", what);
	deconstruct_array(a, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, elems, nulls, &n);
	return n;
}

static ChainWalk *
ChainWalkStart(FunctionCallInfo fcinfo)
{
	ChainWalk  *w = palloc0(sizeof(ChainWalk));
	Datum	   *ide,
			   *nxe;
	bool	   *idn,
			   *nxn;
	int			n = ChainArray(fcinfo, 0, "ids", &ide, &idn);
	int			m = ChainArray(fcinfo, 1, "renewed_into", &nxe, &nxn);
	ChainKey   *keys;
	bool	   *haspred;
	int			i;

	if (n != m)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("ids and renewed_into must have the same length"),
				 errdetail("ids has %d elements, renewed_into %d.", n, m)));
	w->ids = palloc(sizeof(int64) * Max(n, 1));
	w->succ = palloc(sizeof(int32) * Max(n, 1));
	w->heads = palloc(sizeof(int32) * Max(n, 1));
	w->seen = palloc0(sizeof(int32) * Max(n, 1));
	keys = palloc(sizeof(ChainKey) * Max(n, 1));
	haspred = palloc0(sizeof(bool) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		if (idn[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("ids must not contain NULL")));
		w->ids[i] = DatumGetInt64(ide[i]);
		keys[i].id = w->ids[i];
		keys[i].idx = i;
	}
	qsort(keys, n, sizeof(ChainKey), ChainKeyCmp);
	for (i = 1; i < n; i++)
		if (keys[i].id == keys[i - 1].id)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("ids must be distinct"),
					 errdetail("%lld appears more than once.", (long long) keys[i].id)));
	for (i = 0; i < n; i++)
	{
		ChainKey	k;
		ChainKey   *hit = NULL;

		w->succ[i] = -1;
		if (nxn[i])
			continue;
		k.id = DatumGetInt64(nxe[i]);
		k.idx = 0;
		if (n > 0)
			hit = bsearch(&k, keys, n, sizeof(ChainKey), ChainKeyCmp);
		if (hit != NULL)
		{
			w->succ[i] = hit->idx;
			haspred[hit->idx] = true;
		}
	}
	for (i = 0; i < n; i++)
		if (!haspred[i])
			w->heads[w->nheads++] = i;
	w->head = -1;
	w->cur = -1;
	pfree(keys);
	pfree(haspred);
	return w;
}

/*
 * renewal_chains(ids bigint[], renewed_into bigint[]) RETURNS TABLE
 * (enrollment_id bigint, first_enrollment_id bigint, term_no integer)
 */
Datum
leadmgmt_renewal_chains(PG_FUNCTION_ARGS)
{
	FuncCallContext *fctx;
	ChainWalk  *w;

	if (SRF_IS_FIRSTCALL())
	{
		MemoryContext old;
		TupleDesc	td;

		fctx = SRF_FIRSTCALL_INIT();
		old = MemoryContextSwitchTo(fctx->multi_call_memory_ctx);
		if (get_call_result_type(fcinfo, NULL, &td) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "renewal_chains must return a row type");
		fctx->tuple_desc = BlessTupleDesc(td);
		fctx->user_fctx = ChainWalkStart(fcinfo);
		MemoryContextSwitchTo(old);
	}
	fctx = SRF_PERCALL_SETUP();
	w = (ChainWalk *) fctx->user_fctx;
	if (w->cur < 0)
	{
		/* the next chain */
		if (w->head + 1 >= w->nheads)
			SRF_RETURN_DONE(fctx);
		w->head++;
		w->cur = w->heads[w->head];
		w->term = 1;
	}
	{
		Datum		v[3];
		bool		nul[3] = {false, false, false};
		int32		at = w->cur;
		int32		next = w->succ[at];

		v[0] = Int64GetDatum(w->ids[at]);
		v[1] = Int64GetDatum(w->ids[w->heads[w->head]]);
		v[2] = Int32GetDatum(w->term);
		w->seen[at] = w->head + 1;
		if (next >= 0 && w->seen[next] != w->head + 1)
		{
			w->cur = next;
			w->term++;
		}
		else
			w->cur = -1;
		SRF_RETURN_NEXT(fctx, HeapTupleGetDatum(heap_form_tuple(fctx->tuple_desc, v, nul)));
	}
}
