/*
 * src/funnel.c
 *
 * The window_funnel family of aggregates: how far a lead got through an
 * ordered list of steps within a time window, and when it reached each step.
 *
 * The transition functions only collect (timestamp, matched steps) events in
 * a concrete varlena state type, funnel_state, grown in place inside the
 * aggregate context; the final functions sort the events and walk them.
 * Because the state is a real type with text and binary I/O (a versioned
 * encoding), partial states can be combined in parallel workers and moved
 * between Citus nodes as text.
 *
 * Semantics (docs/reference/funnel.md):
 *   - the window is inclusive: step k counts if ts <= start + window;
 *   - a later step-1 row restarts the chain (first_entry: the first one stays);
 *   - one row fills at most one step: the highest it can advance;
 *   - rows with equal timestamps are ordered by their lowest step, non-step
 *     rows (strict_order) and exclusions after them;
 *   - NULL or infinite timestamps and NULL step arrays are ignored, NULL
 *     flags are false.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "port/pg_bitutils.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"
#include "nodes/pg_list.h"
#include "nodes/primnodes.h"

#include "leadmgmt.h"

PG_FUNCTION_INFO_V1(leadmgmt_funnel_transfn);
PG_FUNCTION_INFO_V1(leadmgmt_funnel_excluding_transfn);
PG_FUNCTION_INFO_V1(leadmgmt_funnel_combine);
PG_FUNCTION_INFO_V1(leadmgmt_funnel_final_level);
PG_FUNCTION_INFO_V1(leadmgmt_funnel_final_detail);

#define FUNNEL_STATE_VERSION	1
#define FUNNEL_MAX_STEPS		32
/* most events one group may hold: keeps the state well under 1 GB */
#define FUNNEL_MAX_EVENTS		(32 * 1024 * 1024)

/* mode bits */
#define FM_STRICT_ORDER			0x0001
#define FM_STRICT_DEDUP			0x0002
#define FM_STRICT_INCREASE		0x0004
#define FM_FIRST_ENTRY			0x0008
#define FM_ALL					0x000F

/* event kinds, in their tie order after the step index (the binary format) */
#define FK_STEP			0
#define FK_NONSTEP		1		/* a row matching no step (kept for strict_order) */
#define FK_EXCLUDED		2		/* an excluded row (window_funnel_excluding) */

/*
 * One event in memory.  rank is its order among events of the same time,
 * computed once when the event is added: the lowest matched step index for
 * a step row, FUNNEL_MAX_STEPS + kind for the others.
 */
typedef struct FunnelEvent
{
	int64		ts;				/* microseconds, as TimestampTz */
	uint32		mask;			/* bit k set: the row matches step k + 1 */
	uint32		rank;			/* tie order; >= FUNNEL_MAX_STEPS: not a step */
} FunnelEvent;

#define EventKind(e)	((e)->rank < FUNNEL_MAX_STEPS ? FK_STEP : (int) ((e)->rank - FUNNEL_MAX_STEPS))

/* rank of an event of the given kind and mask */
static inline uint32
EventRank(int kind, uint32 mask)
{
	return kind == FK_STEP ? (uint32) pg_rightmost_one_pos32(mask) : (uint32) (FUNNEL_MAX_STEPS + kind);
}

typedef struct FunnelState
{
	int32		vl_len_;		/* varlena header, covers the capacity */
	uint8		version;
	uint8		nsteps;
	uint16		mode;
	int64		window;			/* microseconds, > 0 */
	int32		nevents;
	int32		capacity;
	FunnelEvent events[FLEXIBLE_ARRAY_MEMBER];
} FunnelState;

#define FUNNEL_HDRSZ	offsetof(FunnelState, events)

/* the valid mode words, for parsing and for the error hint */
static const struct
{
	const char *name;
	uint16		bit;
}			FunnelModes[] =
{
	{"strict_order", FM_STRICT_ORDER},
	{"strict_deduplication", FM_STRICT_DEDUP},
	{"strict_increase", FM_STRICT_INCREASE},
	{"first_entry", FM_FIRST_ENTRY},
};

/*
 * Where a transition's arguments are: argument numbers, -1 for none.  The
 * steps are one boolean array at stepsarg (the VARIADIC forms), or, spread,
 * every argument from stepsarg on: the fixed-arity overloads, which
 * PostgreSQL prefers to a VARIADIC match, so no array is built for each row.
 */
typedef struct FunnelLayout
{
	int			winarg;
	int			modearg;
	int			tsarg;
	int			exclarg;
	int			stepsarg;
	bool		spread;
} FunnelLayout;

/*
 * What one call site of a transition function keeps between rows (fn_extra):
 * it exists once the aggregate context has been checked.  A window or mode
 * given as a constant is converted once; a mode computed per row is parsed
 * again only when its text changes.
 */
typedef struct FunnelCallCache
{
	FunnelLayout layout;		/* of the function called here */
	bool		window_const;	/* the window argument is a Const */
	bool		mode_const;		/* the mode argument is a Const */
	bool		have_window;	/* window holds the constant's value */
	bool		have_mode;		/* mode holds the parse of text */
	int64		window;
	uint16		mode;
	int			len;			/* text: the mode text last parsed */
	int			cap;
	char	   *text;
} FunnelCallCache;

/* Allocate an empty state with room for capacity events in context cxt. */
static FunnelState *
FunnelStateAlloc(MemoryContext cxt, int capacity, int nsteps, uint16 mode, int64 window)
{
	Size		size = FUNNEL_HDRSZ + (Size) capacity * sizeof(FunnelEvent);
	FunnelState *st = (FunnelState *) MemoryContextAllocZero(cxt, size);

	SET_VARSIZE(st, size);
	st->version = FUNNEL_STATE_VERSION;
	st->nsteps = (uint8) nsteps;
	st->mode = mode;
	st->window = window;
	st->nevents = 0;
	st->capacity = capacity;
	return st;
}

/* Most events that fit a state of a power-of-two size of at least need events. */
static int
FunnelCapacityFor(int64 need)
{
	Size		size = 128;

	while ((Size) ((size - FUNNEL_HDRSZ) / sizeof(FunnelEvent)) < (Size) need)
		size *= 2;
	return (int) Min((size - FUNNEL_HDRSZ) / sizeof(FunnelEvent), (Size) FUNNEL_MAX_EVENTS);
}

/*
 * Make room for extra more events.  A state that must grow is copied into a
 * new one allocated in the short-lived per-call context: the aggregate
 * machinery copies a returned new value into the aggregate context itself and
 * frees the old one, so allocating it there ourselves would leak a copy.
 */
static FunnelState *
FunnelStateGrow(FunnelState *st, int extra)
{
	int64		need = (int64) st->nevents + extra;
	FunnelState *bigger;

	if (need > FUNNEL_MAX_EVENTS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("window_funnel group has more than %d events", FUNNEL_MAX_EVENTS),
				 errhint("Group by a finer key, such as the lead.")));
	bigger = FunnelStateAlloc(CurrentMemoryContext, FunnelCapacityFor(Max(need, (int64) st->capacity * 2)),
							  st->nsteps, st->mode, st->window);
	bigger->nevents = st->nevents;
	if (st->nevents > 0)
		memcpy(bigger->events, st->events, sizeof(FunnelEvent) * st->nevents);
	return bigger;
}

static inline FunnelState *
FunnelStateReserve(FunnelState *st, int extra)
{
	if ((int64) st->nevents + extra <= st->capacity)
		return st;
	return FunnelStateGrow(st, extra);
}

/* Window length in microseconds; months count as in EXTRACT(epoch). */
static int64
WindowMicroseconds(Interval *win)
{
	double		usec;

	usec = (double) win->time + (double) win->day * USECS_PER_DAY +
		(double) win->month * ((double) DAYS_PER_YEAR / MONTHS_PER_YEAR) * USECS_PER_DAY;
	if (isnan(usec) || usec <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("window must be positive")));
	if (usec >= (double) PG_INT64_MAX)
		return PG_INT64_MAX;
	return (int64) usec;
}

/* Parse a comma-separated mode list; unknown words are an error listing the valid ones. */
static uint16
ParseMode(const char *str, int len)
{
	uint16		mode = 0;
	int			pos = 0;

	while (pos <= len)
	{
		int			start,
					end,
					i;
		bool		found = false;

		while (pos < len && (str[pos] == ' ' || str[pos] == '\t'))
			pos++;
		start = pos;
		while (pos < len && str[pos] != ',')
			pos++;
		end = pos;
		while (end > start && (str[end - 1] == ' ' || str[end - 1] == '\t'))
			end--;
		pos++;					/* skip the comma */
		if (end == start)
			continue;			/* empty word: '' or 'a,,b' */
		for (i = 0; i < (int) lengthof(FunnelModes); i++)
		{
			if (strlen(FunnelModes[i].name) == (size_t) (end - start) &&
				pg_strncasecmp(FunnelModes[i].name, str + start, end - start) == 0)
			{
				mode |= FunnelModes[i].bit;
				found = true;
			}
		}
		if (!found)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown window_funnel mode \"%.*s\"", LmEchoLen(str + start, end - start), str + start),
					 errhint("Valid modes, comma-separated: strict_order, strict_deduplication, strict_increase, first_entry.")));
	}
	return mode;
}

/* Is argument argno (of the aggregate, not counting the state) a constant? */
static bool
AggArgIsConst(FunctionCallInfo fcinfo, int argno)
{
	Aggref	   *aggref = AggGetAggref(fcinfo);
	TargetEntry *tle;

	if (aggref == NULL || argno < 0 || argno >= list_length(aggref->args))
		return false;
	tle = (TargetEntry *) list_nth(aggref->args, argno);
	return tle != NULL && IsA(tle, TargetEntry) && IsA(tle->expr, Const);
}

/*
 * The layout of the transition being called, from its declaration: every
 * overload of funnel_transfn and funnel_excluding_transfn is one C function.
 *   (state, win, ts, VARIADIC steps)                  window_funnel
 *   (state, win, mode, ts, VARIADIC steps)            window_funnel with a mode
 *   (state, win, mode, ts, excluded, VARIADIC steps)  window_funnel_excluding
 *   the same with 2 to 8 boolean step arguments instead of the array; the
 *   excluding ones are funnel_excluding_transfn.
 */
static FunnelLayout
FunnelLayoutOf(FunctionCallInfo fcinfo)
{
	Oid			fn = fcinfo->flinfo->fn_oid;
	Oid		   *types;
	int			nargs;
	bool		mode,
				variadic,
				excluding;
	FunnelLayout l;

	get_func_signature(fn, &types, &nargs);
	if (nargs < 4)
		elog(ERROR, "window_funnel transition declared with %d arguments", nargs);
	mode = types[2] == TEXTOID;
	variadic = types[nargs - 1] == BOOLARRAYOID;
	excluding = strcmp(get_func_name(fn), "funnel_excluding_transfn") == 0 || (mode && variadic && nargs == 6);
	l.winarg = 1;
	l.modearg = mode ? 2 : -1;
	l.tsarg = mode ? 3 : 2;
	l.exclarg = excluding ? 4 : -1;
	l.stepsarg = excluding ? 5 : l.tsarg + 1;
	l.spread = !variadic;
	return l;
}

/*
 * The call site's cache; the first call checks that this is an aggregate
 * and which arguments are constants.
 */
static FunnelCallCache *
FunnelCache(FunctionCallInfo fcinfo)
{
	FunnelCallCache *cc = (FunnelCallCache *) fcinfo->flinfo->fn_extra;

	if (cc == NULL)
	{
		FunnelLayout l;

		(void) LmAggContext(fcinfo, "window_funnel transition function");
		l = FunnelLayoutOf(fcinfo);
		cc = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(FunnelCallCache));
		cc->layout = l;
		cc->window_const = AggArgIsConst(fcinfo, l.winarg - 1);
		cc->mode_const = l.modearg >= 0 && AggArgIsConst(fcinfo, l.modearg - 1);
		fcinfo->flinfo->fn_extra = cc;
	}
	return cc;
}

/* The window of this row in microseconds: a constant's is converted once. */
static int64
CachedWindow(FunctionCallInfo fcinfo, FunnelCallCache *cc, int argno)
{
	int64		window;

	if (cc->have_window)
		return cc->window;
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("window must not be null")));
	window = WindowMicroseconds(PG_GETARG_INTERVAL_P(argno));
	if (cc->window_const)
	{
		cc->window = window;
		cc->have_window = true;
	}
	return window;
}

/* The mode of this row: a constant's is parsed once, other texts when they change. */
static uint16
CachedMode(FunctionCallInfo fcinfo, FunnelCallCache *cc, int argno)
{
	text	   *t;
	int			len;

	if (cc->have_mode && cc->mode_const)
		return cc->mode;
	if (PG_ARGISNULL(argno))
		return 0;
	t = PG_GETARG_TEXT_PP(argno);
	len = VARSIZE_ANY_EXHDR(t);
	if (!cc->have_mode || cc->len != len || (len > 0 && memcmp(cc->text, VARDATA_ANY(t), len) != 0))
	{
		uint16		mode = ParseMode(VARDATA_ANY(t), len);

		if (len > cc->cap)
		{
			cc->cap = Max(len, 32);
			cc->text = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, cc->cap);
		}
		if (len > 0)
			memcpy(cc->text, VARDATA_ANY(t), len);
		cc->len = len;
		cc->mode = mode;
		cc->have_mode = true;
	}
	return cc->mode;
}

/*
 * The transition of every funnel aggregate, each overload: add one row.
 * Where its arguments are comes from its declaration (FunnelLayoutOf).
 */
Datum
leadmgmt_funnel_transfn(PG_FUNCTION_ARGS)
{
	FunnelState *st = PG_ARGISNULL(0) ? NULL : (FunnelState *) PG_GETARG_POINTER(0);
	int64		window;
	uint16		mode;
	TimestampTz ts;
	ArrayType  *steps;
	int			nsteps;
	uint32		mask = 0;
	uint32		kind = FK_STEP;
	bits8	   *nulls;
	bool	   *flags;
	int			i;

	FunnelCallCache *cc = FunnelCache(fcinfo);
	int			winarg = cc->layout.winarg,
				modearg = cc->layout.modearg,
				tsarg = cc->layout.tsarg,
				exclarg = cc->layout.exclarg,
				stepsarg = cc->layout.stepsarg;
	bool		spread = cc->layout.spread;

	window = CachedWindow(fcinfo, cc, winarg);
	mode = modearg >= 0 ? CachedMode(fcinfo, cc, modearg) : 0;

	/* rows without a time or without steps take no part */
	if (PG_ARGISNULL(tsarg) || (!spread && PG_ARGISNULL(stepsarg)) ||
		TIMESTAMP_NOT_FINITE(PG_GETARG_TIMESTAMPTZ(tsarg)))
	{
		if (st == NULL)
			PG_RETURN_NULL();	/* still no state: SQL NULL, never a NULL pointer */
		PG_RETURN_POINTER(st);
	}
	ts = PG_GETARG_TIMESTAMPTZ(tsarg);

	if (spread)
	{
		/* one boolean argument per step; NULL flags are false */
		nsteps = PG_NARGS() - stepsarg;
		if (nsteps < 1 || nsteps > FUNNEL_MAX_STEPS)
			elog(ERROR, "window_funnel transition declared with %d step arguments", nsteps);
		for (i = 0; i < nsteps; i++)
			if (!PG_ARGISNULL(stepsarg + i) && PG_GETARG_BOOL(stepsarg + i))
				mask |= (uint32) 1 << i;
	}
	else
	{
		steps = PG_GETARG_ARRAYTYPE_P(stepsarg);
		if (ARR_NDIM(steps) > 1)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("window_funnel steps must be a one-dimensional array")));
		if (ARR_ELEMTYPE(steps) != BOOLOID)
			elog(ERROR, "window_funnel steps must be boolean, not type %u", ARR_ELEMTYPE(steps));
		nsteps = ARR_NDIM(steps) == 0 ? 0 : ARR_DIMS(steps)[0];
		if (nsteps < 1)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("window_funnel needs at least one step")));
		if (nsteps > FUNNEL_MAX_STEPS)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("window_funnel supports at most %d steps, got %d", FUNNEL_MAX_STEPS, nsteps)));

		/* booleans are one byte each and never toasted; NULL flags are false */
		flags = (bool *) ARR_DATA_PTR(steps);
		nulls = ARR_NULLBITMAP(steps);
		for (i = 0; i < nsteps; i++)
		{
			if (nulls && !(nulls[i / 8] & (1 << (i % 8))))
				continue;		/* NULL element: does not occupy data space */
			if (*flags++)
				mask |= (uint32) 1 << i;
		}
	}

	if (st == NULL)
		st = FunnelStateAlloc(CurrentMemoryContext, FunnelCapacityFor(1), nsteps, mode, window);
	else if (st->nsteps != nsteps || st->mode != mode || st->window != window)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("window_funnel window, mode and number of steps must be the same for every row of a group")));

	if (exclarg >= 0 && !PG_ARGISNULL(exclarg) && PG_GETARG_BOOL(exclarg))
	{
		kind = FK_EXCLUDED;		/* an excluded row is no step, whatever its flags */
		mask = 0;
	}
	else if (mask == 0)
	{
		/* a row matching no step only matters to strict_order */
		if (!(mode & FM_STRICT_ORDER))
			PG_RETURN_POINTER(st);
		kind = FK_NONSTEP;
	}

	st = FunnelStateReserve(st, 1);
	st->events[st->nevents].ts = ts;
	st->events[st->nevents].mask = mask;
	st->events[st->nevents].rank = EventRank(kind, mask);
	st->nevents++;
	PG_RETURN_POINTER(st);
}

/* window_funnel_excluding's fixed-arity transitions: the same function */
Datum
leadmgmt_funnel_excluding_transfn(PG_FUNCTION_ARGS)
{
	return leadmgmt_funnel_transfn(fcinfo);
}

/* the symbols of 0.2-0.9, one per layout */
LM_SYMBOL_ALIAS(leadmgmt_funnel_transfn_mode, leadmgmt_funnel_transfn);
LM_SYMBOL_ALIAS(leadmgmt_funnel_transfn_excluding, leadmgmt_funnel_transfn);
LM_SYMBOL_ALIAS(leadmgmt_funnel_transfn_args, leadmgmt_funnel_transfn);
LM_SYMBOL_ALIAS(leadmgmt_funnel_transfn_mode_args, leadmgmt_funnel_transfn);
LM_SYMBOL_ALIAS(leadmgmt_funnel_transfn_excluding_args, leadmgmt_funnel_transfn);

/* combine two partial states: the union of their events */
Datum
leadmgmt_funnel_combine(PG_FUNCTION_ARGS)
{
	FunnelState *a;
	FunnelState *b;

	(void) LmAggContext(fcinfo, "window_funnel combine function");
	/* NULL is "no events yet": the other side, or NULL when both are */
	if (PG_ARGISNULL(1))
	{
		LM_RETURN_STATE();
	}
	b = (FunnelState *) PG_DETOAST_DATUM(PG_GETARG_DATUM(1));
	if (PG_ARGISNULL(0))
	{
		/* a copy with room to grow; the aggregate machinery moves it into its context */
		a = FunnelStateAlloc(CurrentMemoryContext, FunnelCapacityFor(b->nevents), b->nsteps, b->mode, b->window);
		a->nevents = b->nevents;
		if (b->nevents > 0)
			memcpy(a->events, b->events, sizeof(FunnelEvent) * b->nevents);
		PG_RETURN_POINTER(a);
	}
	a = (FunnelState *) PG_GETARG_POINTER(0);
	if (a->nsteps != b->nsteps || a->mode != b->mode || a->window != b->window)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("window_funnel window, mode and number of steps must be the same for every row of a group")));
	if (b->nevents == 0)
		PG_RETURN_POINTER(a);
	a = FunnelStateReserve(a, b->nevents);
	memcpy(a->events + a->nevents, b->events, sizeof(FunnelEvent) * b->nevents);
	a->nevents += b->nevents;
	PG_RETURN_POINTER(a);
}

/* sort order: time, then lowest matched step, then non-step rows, then exclusions */
static inline bool
EventBefore(const FunnelEvent *a, const FunnelEvent *b)
{
	if (a->ts != b->ts)
		return a->ts < b->ts;
	if (a->rank != b->rank)
		return a->rank < b->rank;
	return a->mask < b->mask;
}

static int
FunnelEventCmp(const void *pa, const void *pb)
{
	const FunnelEvent *a = (const FunnelEvent *) pa;
	const FunnelEvent *b = (const FunnelEvent *) pb;

	return EventBefore(a, b) ? -1 : (EventBefore(b, a) ? 1 : 0);
}

/* events up to which insertion sort beats qsort's calls through a pointer */
#define FUNNEL_INSERTION_MAX	48

/*
 * Sort events.  A group usually holds a handful of events, often nearly in
 * order, so an inline insertion sort does it; big groups go to qsort.
 */
static void
FunnelSortEvents(FunnelEvent *ev, int n)
{
	int			i;

	if (n > FUNNEL_INSERTION_MAX)
	{
		qsort(ev, n, sizeof(FunnelEvent), FunnelEventCmp);
		return;
	}
	for (i = 1; i < n; i++)
	{
		FunnelEvent x = ev[i];
		int			j = i;

		while (j > 0 && EventBefore(&x, &ev[j - 1]))
		{
			ev[j] = ev[j - 1];
			j--;
		}
		ev[j] = x;
	}
}

/* Result of walking the events: the level and, when asked, each step's time. */
typedef struct FunnelWalk
{
	int			level;
	int64		times[FUNNEL_MAX_STEPS];
} FunnelWalk;

/* start + window without overflow */
static inline int64
WindowEnd(int64 start, int64 window)
{
	return (start > PG_INT64_MAX - window) ? PG_INT64_MAX : start + window;
}

/*
 * Walk the events in order, keeping for each level k the chain that reached
 * step k + 1 with the latest start (so it has the most window left).  The
 * levels reached are a bit set: bit k, level k reached.
 */
static void
FunnelWalkEvents(const FunnelState *st, bool want_times, FunnelWalk *out)
{
	int			n = st->nevents;
	int			nsteps = st->nsteps;
	uint16		mode = st->mode;
	int64		window = st->window;
	FunnelEvent *ev;
	uint32		reached = 0;
	int64		start[FUNNEL_MAX_STEPS];	/* chain start of level k, when reached */
	int64	   *chain = NULL;	/* want_times: chain[k * nsteps + j] */

	/*
	 * strict_increase: a chain never takes two rows of the same time, so all
	 * rows of one time are judged on the levels as they were before that
	 * time (the "seen" copies); otherwise on the live levels.
	 */
	bool		strict_inc = (mode & FM_STRICT_INCREASE) != 0;
	uint32		seen_reached = 0;
	int64		seen_start[FUNNEL_MAX_STEPS];
	int64	   *seen_chain = NULL;
	int64		seen_ts = 0;
	FunnelEvent local[FUNNEL_INSERTION_MAX];
	uint32	   *r_reached = strict_inc ? &seen_reached : &reached;
	int64	   *r_start = strict_inc ? seen_start : start;
	int64	   *r_chain;
	bool		started = false;
	int			best = 0;
	int			i;

	out->level = 0;
	if (n == 0)
		return;

	/* sort a copy: the final function must leave the state as it found it */
	ev = n <= FUNNEL_INSERTION_MAX ? local : palloc(sizeof(FunnelEvent) * n);
	memcpy(ev, st->events, sizeof(FunnelEvent) * n);
	FunnelSortEvents(ev, n);
	if (want_times)
	{
		chain = palloc(sizeof(int64) * nsteps * nsteps);
		seen_chain = strict_inc ? palloc(sizeof(int64) * nsteps * nsteps) : NULL;
	}
	r_chain = strict_inc ? seen_chain : chain;

	for (i = 0; i < n; i++)
	{
		FunnelEvent *e = &ev[i];
		uint32		fills,
					bits;
		int			k;

		if ((i & 1023) == 0)
			CHECK_FOR_INTERRUPTS();

		if (strict_inc && (i == 0 || e->ts != seen_ts))
		{
			/* a new time: what was reached before it is what its rows may extend */
			seen_reached = reached;
			memcpy(seen_start, start, sizeof(int64) * nsteps);
			if (want_times)
				memcpy(seen_chain, chain, sizeof(int64) * nsteps * nsteps);
			seen_ts = e->ts;
		}

		if (e->rank >= FUNNEL_MAX_STEPS)
		{
			if (e->rank == FUNNEL_MAX_STEPS + FK_EXCLUDED)
				reached = 0;	/* no chain may continue across an excluded row */
			else if (started)
				break;			/* strict_order: another event interrupts */
			continue;
		}

		/*
		 * Every chain this row can extend, judged on the state before the
		 * row: level k grows from level k - 1 within its window.  Each chain
		 * uses the row once, so one row never fills two steps of the same
		 * chain.  A step-1 row starts a chain, unless first_entry keeps the
		 * first one.
		 */
		fills = 0;
		if ((e->mask & 1) && !((mode & FM_FIRST_ENTRY) && (reached & 1)))
			fills = 1;
		bits = e->mask & (*r_reached << 1);
		while (bits)
		{
			k = pg_rightmost_one_pos32(bits);
			bits &= bits - 1;
			if (e->ts <= WindowEnd(r_start[k - 1], window))
				fills |= (uint32) 1 << k;
		}
		if (fills == 0)
		{
			/* strict_order: a step out of order interrupts (a repeated first step does not) */
			if (mode & FM_STRICT_ORDER && started &&
				!((mode & FM_FIRST_ENTRY) && (e->mask & 1)))
				break;
			continue;
		}
		/* strict_deduplication: a step the chain already has interrupts */
		if (mode & FM_STRICT_DEDUP && (fills & reached & ~(uint32) 1))
			break;

		/* downwards, so level k - 1 is read before this row rewrites it */
		bits = fills;
		while (bits)
		{
			k = pg_leftmost_one_pos32(bits);
			bits &= ~((uint32) 1 << k);
			start[k] = k == 0 ? e->ts : r_start[k - 1];
			reached |= (uint32) 1 << k;
			if (want_times)
			{
				if (k > 0)
					memcpy(&chain[k * nsteps], &r_chain[(k - 1) * nsteps], sizeof(int64) * k);
				chain[k * nsteps + k] = e->ts;
			}
			if (k + 1 > best || (want_times && k + 1 == best))
			{
				best = k + 1;
				if (want_times)
					memcpy(out->times, &chain[k * nsteps], sizeof(int64) * best);
			}
		}
		started = true;
		if (best == nsteps && !want_times)
			break;				/* cannot do better */
	}
	out->level = best;
	if (ev != local)
		pfree(ev);
	if (chain)
		pfree(chain);
	if (seen_chain)
		pfree(seen_chain);
}

/* window_funnel final: the highest step reached, 0 when step 1 never happened */
Datum
leadmgmt_funnel_final_level(PG_FUNCTION_ARGS)
{
	FunnelWalk	w;

	if (PG_ARGISNULL(0))
		PG_RETURN_INT32(0);
	FunnelWalkEvents((FunnelState *) PG_DETOAST_DATUM(PG_GETARG_DATUM(0)), false, &w);
	PG_RETURN_INT32(w.level);
}

/* funnel_detail final: (level, timestamps of the reached steps) */
Datum
leadmgmt_funnel_final_detail(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	FunnelWalk	w;
	Datum		values[2];
	bool		nulls[2] = {false, false};
	Datum	   *times;
	int			i;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "funnel_detail must return a composite type");
	tupdesc = BlessTupleDesc(tupdesc);

	if (PG_ARGISNULL(0))
		w.level = 0;
	else
		FunnelWalkEvents((FunnelState *) PG_DETOAST_DATUM(PG_GETARG_DATUM(0)), true, &w);

	times = palloc(sizeof(Datum) * Max(w.level, 1));
	for (i = 0; i < w.level; i++)
		times[i] = TimestampTzGetDatum(w.times[i]);
	values[0] = Int32GetDatum(w.level);
	values[1] = PointerGetDatum(construct_array(times, w.level, TIMESTAMPTZOID, sizeof(TimestampTz),
												FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* ---- state I/O: binary send/recv, and text as "v1:" + hex of the binary ---- */

/* Append the binary form of a state. */
static void
FunnelStateSend(StringInfo buf, const FunnelState *st)
{
	int			i;

	pq_sendbyte(buf, FUNNEL_STATE_VERSION);
	pq_sendbyte(buf, st->nsteps);
	pq_sendint16(buf, st->mode);
	pq_sendint64(buf, st->window);
	pq_sendint32(buf, st->nevents);
	for (i = 0; i < st->nevents; i++)
	{
		pq_sendint64(buf, st->events[i].ts);
		pq_sendint32(buf, st->events[i].mask);
		pq_sendbyte(buf, (uint8) EventKind(&st->events[i]));
	}
}

/* Read and validate the binary form of a state. */
static FunnelState *
FunnelStateRecv(StringInfo buf)
{
	int			version,
				nsteps,
				nevents,
				i;
	uint16		mode;
	int64		window;
	FunnelState *st;

	/* version, steps, mode, window and event count: 16 bytes */
	if (buf->len - buf->cursor < 16)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid funnel_state"),
				 errdetail("The state is shorter than its 16-byte header.")));
	version = pq_getmsgbyte(buf);
	if (version != FUNNEL_STATE_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("unsupported funnel_state version %d", version)));
	nsteps = pq_getmsgbyte(buf);
	mode = (uint16) pq_getmsgint(buf, 2);
	window = pq_getmsgint64(buf);
	nevents = pq_getmsgint(buf, 4);
	if (nsteps < 1 || nsteps > FUNNEL_MAX_STEPS || (mode & ~FM_ALL) || window <= 0 ||
		nevents < 0 || nevents > FUNNEL_MAX_EVENTS ||
		(int64) nevents * 13 != buf->len - buf->cursor)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid funnel_state")));
	st = FunnelStateAlloc(CurrentMemoryContext, nevents, nsteps, mode, window);
	for (i = 0; i < nevents; i++)
	{
		FunnelEvent *e = &st->events[i];
		int			kind;

		e->ts = pq_getmsgint64(buf);
		e->mask = (uint32) pq_getmsgint(buf, 4);
		kind = pq_getmsgbyte(buf);
		if (kind > FK_EXCLUDED || (nsteps < 32 && (e->mask >> nsteps) != 0) ||
			(kind == FK_STEP) != (e->mask != 0) || TIMESTAMP_NOT_FINITE(e->ts))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid funnel_state event %d", i + 1)));
		e->rank = EventRank(kind, e->mask);
	}
	st->nevents = nevents;
	return st;
}

/* the state of a funnel_state datum */
static inline FunnelState *
FunnelDatum(Datum d)
{
	return (FunnelState *) PG_DETOAST_DATUM(d);
}

/* funnel_state_in, _out, _send and _recv (leadmgmt.h) */
LM_STATE_TYPE_IO(funnel_state, FunnelDatum, FunnelStateSend, FunnelStateRecv);

