/*
 * src/routing.c
 *
 * Real-time routing (docs/reference/routing.md, since 0.17):
 *
 *   holdout_draw(seed, lead_id)  a uniform number in [0, 1) that depends
 *       only on the org's seed and the lead id: a lead is in the routing
 *       holdout when it is below the org's holdout_share.  SplitMix64
 *       (Steele, Lea and Flood 2014) of the seed mixed with the mixed id:
 *       the same on every platform, node and version, so a Citus worker, a
 *       restore and a replay agree on the arm of every lead.
 *
 *   route_by_value(...)  which handler pool takes each lead of a batch by
 *       expected value: P(pay | handler) x value - the handler's cost per
 *       lead, where P(pay | handler) = min(1, p x the handler's relative
 *       conversion), under each pool's capacity.  Greedy, most likely lead
 *       first: each lead takes the pool of highest expected value that has
 *       room left (ties: the cheaper pool, then the earlier one).  A pure
 *       function; the engine's callers give it the org's figures.
 */
#include "leadmgmt.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

PG_FUNCTION_INFO_V1(leadmgmt_holdout_draw);
PG_FUNCTION_INFO_V1(leadmgmt_route_by_value);

#define ROUTE_MAX_HANDLERS 16
#define ROUTE_MAX_LEADS 1000000

static inline uint64
SplitMix64(uint64 x)
{
	x += UINT64CONST(0x9E3779B97F4A7C15);
	x = (x ^ (x >> 30)) * UINT64CONST(0xBF58476D1CE4E5B9);
	x = (x ^ (x >> 27)) * UINT64CONST(0x94D049BB133111EB);
	return x ^ (x >> 31);
}

/* holdout_draw(seed bigint, lead_id bigint) RETURNS float8 */
Datum
leadmgmt_holdout_draw(PG_FUNCTION_ARGS)
{
	uint64		seed = (uint64) PG_GETARG_INT64(0);
	uint64		id = (uint64) PG_GETARG_INT64(1);
	uint64		x = SplitMix64(seed ^ SplitMix64(id));

	/* the top 53 bits: every double in [0, 1) on a grid of 2^-53 */
	PG_RETURN_FLOAT8((double) (x >> 11) * (1.0 / 9007199254740992.0));
}

/*
 * The elements of a one-dimensional float8[] with no NULL, checked to be
 * finite and at least lo (and at most hi unless hi is NaN).
 */
static double *
RouteFloats(ArrayType *a, const char *what, int *n, double lo, double hi)
{
	Datum	   *d;
	bool	   *isnull;
	double	   *out;
	int			i;

	if (ARR_NDIM(a) > 1)
		ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
						errmsg("%s must be a one-dimensional array", what)));
	deconstruct_array(a, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &d, &isnull, n);
	out = palloc(sizeof(double) * Max(*n, 1));
	for (i = 0; i < *n; i++)
	{
		double		v;

		if (isnull[i])
			ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
							errmsg("%s must not contain nulls", what),
							errdetail("Element %d is null.", i + 1)));
		v = DatumGetFloat8(d[i]);
		if (isnan(v) || isinf(v) || v < lo || (!isnan(hi) && v > hi))
		{
			if (isnan(hi))
				ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
								errmsg("%s must be finite and at least %g", what, lo),
								errdetail("Element %d is %g.", i + 1, v)));
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("%s must be between %g and %g", what, lo, hi),
							errdetail("Element %d is %g.", i + 1, v)));
		}
		out[i] = v;
	}
	return out;
}

typedef struct RouteLead
{
	double		p;
	int			index;
} RouteLead;

static int
CompareRouteLead(const void *a, const void *b)
{
	const RouteLead *x = a;
	const RouteLead *y = b;

	if (x->p != y->p)
		return x->p > y->p ? -1 : 1;
	return x->index < y->index ? -1 : (x->index > y->index ? 1 : 0);
}

/*
 * route_by_value(p float8[], value float8[], relative_conversion float8[],
 *                cost float8[], capacity int[]) RETURNS int[]
 *
 * p and value per lead; relative_conversion, cost and capacity per handler
 * pool (capacity NULL: unlimited).  Returns, per lead, the 1-based pool that
 * takes it, NULL when every pool is full.
 */
Datum
leadmgmt_route_by_value(PG_FUNCTION_ARGS)
{
	ArrayType  *capa = PG_GETARG_ARRAYTYPE_P(4);
	double	   *p,
			   *value,
			   *conv,
			   *cost;
	int			nleads,
				nvalue,
				nh,
				ncost,
				ncap,
				i,
				h;
	int64		room[ROUTE_MAX_HANDLERS];
	bool		unlimited[ROUTE_MAX_HANDLERS];
	Datum	   *capd;
	bool	   *capnull;
	RouteLead  *order;
	Datum	   *out;
	bool	   *outnull;
	int			dims[1];
	int			lbs[1] = {1};

	p = RouteFloats(PG_GETARG_ARRAYTYPE_P(0), "p", &nleads, 0.0, 1.0);
	value = RouteFloats(PG_GETARG_ARRAYTYPE_P(1), "value", &nvalue, 0.0, NAN);
	conv = RouteFloats(PG_GETARG_ARRAYTYPE_P(2), "relative_conversion", &nh, 0.0, 1000.0);
	cost = RouteFloats(PG_GETARG_ARRAYTYPE_P(3), "cost", &ncost, 0.0, NAN);
	if (nleads > ROUTE_MAX_LEADS)
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						errmsg("route_by_value takes at most %d leads, not %d", ROUTE_MAX_LEADS, nleads)));
	if (nvalue != nleads)
		ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
						errmsg("value must have one element per element of p"),
						errdetail("p has %d elements, value %d.", nleads, nvalue)));
	if (nh < 1 || nh > ROUTE_MAX_HANDLERS)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("route_by_value takes 1 to %d handler pools, not %d", ROUTE_MAX_HANDLERS, nh)));
	if (ARR_NDIM(capa) > 1)
		ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
						errmsg("capacity must be a one-dimensional array")));
	deconstruct_array(capa, INT4OID, 4, true, TYPALIGN_INT, &capd, &capnull, &ncap);
	if (ncost != nh || ncap != nh)
		ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
						errmsg("relative_conversion, cost and capacity must have one element per handler pool"),
						errdetail("They have %d, %d and %d elements.", nh, ncost, ncap)));
	for (h = 0; h < nh; h++)
	{
		unlimited[h] = capnull[h];
		room[h] = capnull[h] ? 0 : DatumGetInt32(capd[h]);
		if (room[h] < 0)
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("capacity must not be negative"),
							errdetail("Element %d is " INT64_FORMAT ".", h + 1, room[h])));
	}

	if (nleads == 0)
		PG_RETURN_ARRAYTYPE_P(construct_empty_array(INT4OID));
	order = palloc(sizeof(RouteLead) * Max(nleads, 1));
	for (i = 0; i < nleads; i++)
	{
		order[i].p = p[i];
		order[i].index = i;
	}
	qsort(order, nleads, sizeof(RouteLead), CompareRouteLead);

	out = palloc(sizeof(Datum) * Max(nleads, 1));
	outnull = palloc(sizeof(bool) * Max(nleads, 1));
	for (i = 0; i < nleads; i++)
	{
		int			j = order[i].index;
		int			best = -1;
		double		best_ev = 0;

		CHECK_FOR_INTERRUPTS();
		for (h = 0; h < nh; h++)
		{
			double		ev;

			if (!unlimited[h] && room[h] <= 0)
				continue;
			ev = fmin(1.0, p[j] * conv[h]) * value[j] - cost[h];
			if (best < 0 || ev > best_ev || (ev == best_ev && cost[h] < cost[best]))
			{
				best = h;
				best_ev = ev;
			}
		}
		outnull[j] = best < 0;
		out[j] = Int32GetDatum(best + 1);
		if (best >= 0 && !unlimited[best])
			room[best]--;
	}
	dims[0] = nleads;
	PG_RETURN_ARRAYTYPE_P(construct_md_array(out, outnull, 1, dims, lbs, INT4OID, 4, true, TYPALIGN_INT));
}
