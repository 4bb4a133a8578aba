/*
 * src/survival.c
 *
 * Survival analysis: the survival state type, the km_fit and logrank
 * aggregates over it, the Kaplan-Meier readers (km_curve, km_median, km_at,
 * km_rmst), and the retention aggregate.  Also auc, the model capability's
 * ROC area (docs/reference/model.md): it needs exactly this sorted store of
 * weighted (time, group) records, with the scores as times and the labels as
 * groups, so it lives here rather than in a copy of the store.
 *
 * A survival value holds weighted counts per (time, group): events, censored
 * exits and late entries, plus each group's weight that entered before any
 * time (rows without a late entry).  The transition functions append one
 * record per row to a concrete varlena state grown inside the aggregate
 * context; when it fills up, the unsorted tail is sorted and merged into the
 * sorted head, so durations with few distinct values (days, terms) keep the
 * state small.  Because survival is a real type with binary and text I/O
 * (versioned), partial states combine in parallel workers and travel between
 * Citus nodes as text.
 *
 * Conventions (docs/reference/survival.md), as in R's survfit and survdiff:
 *   - a subject is at risk at t when entry < t <= duration;
 *   - S(t) is right-continuous: it includes the events at t;
 *   - Greenwood variance; plain, log and log-log intervals as R computes them;
 *   - the median is the first t with S(t) <= 0.5.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/expandeddatum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "leadmgmt.h"

PG_FUNCTION_INFO_V1(leadmgmt_km_transfn);
PG_FUNCTION_INFO_V1(leadmgmt_survival_by_transfn);
PG_FUNCTION_INFO_V1(leadmgmt_survival_combine);
PG_FUNCTION_INFO_V1(leadmgmt_survival_final);
PG_FUNCTION_INFO_V1(leadmgmt_logrank_final);
PG_FUNCTION_INFO_V1(leadmgmt_logrank_each);
PG_FUNCTION_INFO_V1(leadmgmt_km_curve);
PG_FUNCTION_INFO_V1(leadmgmt_km_median);
PG_FUNCTION_INFO_V1(leadmgmt_km_at);
PG_FUNCTION_INFO_V1(leadmgmt_km_rmst);
PG_FUNCTION_INFO_V1(leadmgmt_auc_transfn);
PG_FUNCTION_INFO_V1(leadmgmt_auc_final);
PG_FUNCTION_INFO_V1(leadmgmt_retention_transfn);
PG_FUNCTION_INFO_V1(leadmgmt_retention_combine);
PG_FUNCTION_INFO_V1(leadmgmt_retention_final);

#define SURVIVAL_VERSION		1
/* most distinct (time, group) records one state holds: keeps it under 1 GB */
#define SURV_MAX_RECORDS		(16 * 1024 * 1024)
#define LOGRANK_MAX_GROUPS		200
/* most groups a survival value holds (logrank_each compares each with the rest) */
#define SURV_MAX_GROUPS			(1024 * 1024)
#define RETENTION_MAX_CONDS		32

/* kinds of state: one pooled group (km_fit) or named groups (logrank) */
#define SK_KM			0
#define SK_GROUPED		1
#define SK_SCORES		2		/* auc: any finite time (a score), groups "0" and "1" */

/* state flags */
#define SF_APPEND_ONLY	0x0001	/* stop compacting: the times are nearly all distinct */

/* record types, in their tie order */
#define RT_EVENT		0		/* events at t */
#define RT_CENSOR		1		/* censored exits at t */
#define RT_ENTRY		2		/* late entries at t: at risk after t */

typedef struct SurvRecord
{
	float8		t;				/* time, finite */
	float8		w;				/* total weight */
	int32		g;				/* group index */
	int32		type;			/* RT_* */
} SurvRecord;

#define RecD(r)		((r)->type == RT_EVENT ? (r)->w : 0.0)
#define RecC(r)		((r)->type == RT_CENSOR ? (r)->w : 0.0)
#define RecE(r)		((r)->type == RT_ENTRY ? (r)->w : 0.0)
/* change in the number at risk just after t */
#define RecNet(r)	((r)->type == RT_ENTRY ? (r)->w : -(r)->w)

/* a group: the weight that entered before any time, and its name */
typedef struct SurvGroup
{
	float8		base;
	int32		len;
	char		name[FLEXIBLE_ARRAY_MEMBER];
} SurvGroup;

#define SURV_GROUP_SIZE(len)	MAXALIGN(offsetof(SurvGroup, name) + (len))

/*
 * The state.  After the records comes the group area: gslots offsets of the
 * groups into the name area, a hash table of 2 * gslots slots (group index +
 * 1, 0 when empty), then the name area of SurvGroup entries.
 */
typedef struct SurvState
{
	int32		vl_len_;		/* varlena header, covers all capacities */
	uint8		version;
	uint8		kind;			/* SK_* */
	uint16		flags;			/* SF_*, only while aggregating */
	int32		ngroups;
	int32		gslots;			/* room for this many groups, a power of two */
	int32		names_len;		/* bytes of the name area in use */
	int32		names_cap;		/* bytes of the name area */
	int64		rows;			/* rows taken in */
	int64		nrec;
	int64		nsorted;		/* records [0, nsorted) are sorted and distinct */
	int64		cap;
	SurvRecord	rec[FLEXIBLE_ARRAY_MEMBER];
} SurvState;

#define SURV_HDRSZ				offsetof(SurvState, rec)
#define SurvOffs(st)			((int32 *) &(st)->rec[(st)->cap])
#define SurvHash(st)			(SurvOffs(st) + (st)->gslots)
#define SurvNames(st)			((char *) (SurvHash(st) + 2 * (st)->gslots))
/*
 * The group area is 12 bytes a slot, so with an even number of slots the
 * name area after it is aligned for the SurvGroup entries' float8: a state
 * has at least 2 slots (0.8 made single-group states with 1, which SurvRead
 * realigns).
 */
#define SURV_MIN_GSLOTS			2
#define SurvSize(cap, gslots, ncap) \
	MAXALIGN(SURV_HDRSZ + (Size) (cap) * sizeof(SurvRecord) + (Size) (gslots) * 3 * sizeof(int32) + (Size) (ncap))

/* Allocate an empty state in cxt with room for cap records and gslots groups of ncap name bytes. */
static SurvState *
SurvAlloc(MemoryContext cxt, int64 cap, int32 gslots, int32 ncap, uint8 kind)
{
	Size		size = SurvSize(cap, gslots, ncap);
	SurvState  *st = (SurvState *) MemoryContextAlloc(cxt, size);
	char	   *groups;

	/* zero all but the records, which are written before they are read */
	memset(st, 0, SURV_HDRSZ);
	st->cap = cap;
	st->gslots = gslots;
	groups = (char *) SurvOffs(st);
	memset(groups, 0, (char *) st + size - groups);
	SET_VARSIZE(st, size);
	st->version = SURVIVAL_VERSION;
	st->kind = kind;
	st->cap = cap;
	st->gslots = gslots;
	st->names_cap = ncap;
	return st;
}

/* Group i of st. */
static inline SurvGroup *
SurvGroupAt(SurvState *st, int32 i)
{
	return (SurvGroup *) (SurvNames(st) + SurvOffs(st)[i]);
}

/* Hash of a group name. */
static inline uint32
SurvNameHash(const char *name, int32 len)
{
	return hash_bytes((const unsigned char *) name, len);
}

/* Enter group i into the hash table. */
static void
SurvHashInsert(SurvState *st, int32 i)
{
	SurvGroup  *g = SurvGroupAt(st, i);
	uint32		mask = (uint32) st->gslots * 2 - 1;
	uint32		h = SurvNameHash(g->name, g->len) & mask;

	while (SurvHash(st)[h] != 0)
		h = (h + 1) & mask;
	SurvHash(st)[h] = i + 1;
}

/* A copy of st in cxt with room for exactly its records, groups and names. */
static SurvState *
SurvCopy(SurvState *st, MemoryContext cxt)
{
	int32		gslots = SURV_MIN_GSLOTS;
	SurvState  *copy;

	while (gslots < st->ngroups)
		gslots *= 2;
	copy = SurvAlloc(cxt, st->nrec, gslots, st->names_len, st->kind);
	copy->ngroups = st->ngroups;
	copy->names_len = st->names_len;
	copy->rows = st->rows;
	copy->nrec = st->nrec;
	copy->nsorted = st->nsorted;
	memcpy(copy->rec, st->rec, sizeof(SurvRecord) * st->nrec);
	memcpy(SurvOffs(copy), SurvOffs(st), sizeof(int32) * st->ngroups);
	memcpy(SurvNames(copy), SurvNames(st), st->names_len);
	for (gslots = 0; gslots < copy->ngroups; gslots++)
		SurvHashInsert(copy, gslots);
	return copy;
}

/* Pack st's groups, in the given order (NULL: as they are), into a new blob of SurvGroup entries of *len bytes. */
static char *
SurvPackGroups(SurvState *st, const int32 *order, int32 *len)
{
	char	   *blob = palloc(Max(st->names_len, 1));
	int32		i;

	*len = 0;
	for (i = 0; i < st->ngroups; i++)
	{
		SurvGroup  *g = SurvGroupAt(st, order ? order[i] : i);

		memcpy(blob + *len, g, SURV_GROUP_SIZE(g->len));
		*len += SURV_GROUP_SIZE(g->len);
	}
	return blob;
}

/*
 * Lay st (a chunk big enough for the new size) out for cap records, gslots
 * groups and ncap name bytes, its ngroups groups taken from blob.
 */
static void
SurvLayout(SurvState *st, int64 cap, int32 gslots, int32 ncap, const char *blob, int32 len)
{
	Size		size = SurvSize(cap, gslots, ncap);
	char	   *groups;
	int32		i,
				off = 0;

	st->cap = cap;
	st->gslots = gslots;
	st->names_cap = ncap;
	st->names_len = len;
	groups = (char *) SurvOffs(st);
	memset(groups, 0, (char *) st + size - groups);
	memcpy(SurvNames(st), blob, len);
	for (i = 0; i < st->ngroups; i++)
	{
		SurvOffs(st)[i] = off;
		off += SURV_GROUP_SIZE(((const SurvGroup *) (blob + off))->len);
		SurvHashInsert(st, i);
	}
	SET_VARSIZE(st, size);
}

/*
 * Grow a state we own (palloc'd by SurvAlloc).  It is reallocated: big
 * chunks move their pages rather than copying and faulting them in anew.
 */
static SurvState *
SurvGrowOwned(SurvState *st, int64 need_rec, int32 need_g, int32 need_n)
{
	int64		cap = Max(st->cap, 16);
	int32		gslots = Max(st->gslots, SURV_MIN_GSLOTS);
	int32		ncap = Max(st->names_cap, 64);
	int32		len;
	char	   *blob;

	if (need_rec > SURV_MAX_RECORDS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("survival state has more than %d distinct times", SURV_MAX_RECORDS),
				 errhint("Round the durations, for example to days, or group by a finer key.")));
	while (cap < need_rec)
		cap *= 2;
	cap = Min(cap, SURV_MAX_RECORDS);
	while (gslots < need_g)
		gslots *= 2;
	while (ncap < need_n)
		ncap *= 2;
	blob = SurvPackGroups(st, NULL, &len);
	st = (SurvState *) repalloc(st, SurvSize(cap, gslots, ncap));
	SurvLayout(st, cap, gslots, ncap, blob, len);
	pfree(blob);
	return st;
}

/* Order records by time, then group, then type. */
static inline int
SurvRecordCmp(const SurvRecord *x, const SurvRecord *y)
{
	if (x->t < y->t)
		return -1;
	if (x->t > y->t)
		return 1;
	if (x->g != y->g)
		return x->g < y->g ? -1 : 1;
	return (x->type > y->type) - (x->type < y->type);
}

/* SurvSortRecords(rec, n): sort records, with the comparison inlined where the server has sort_template.h */
#if PG_VERSION_NUM >= 140000
#define ST_SORT SurvSortRecords
#define ST_ELEMENT_TYPE SurvRecord
#define ST_COMPARE(a, b) SurvRecordCmp(a, b)
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"
#else
/* qsort comparator for servers without sort_template.h */
static int
SurvRecordQsortCmp(const void *a, const void *b)
{
	return SurvRecordCmp((const SurvRecord *) a, (const SurvRecord *) b);
}
#define SurvSortRecords(rec, n) qsort(rec, n, sizeof(SurvRecord), SurvRecordQsortCmp)
#endif

/* Sum runs of equal (time, group) in the sorted records [0, n); returns how many are left. */
static int64
SurvDedupe(SurvRecord *rec, int64 n)
{
	int64		i,
				m = 0;

	for (i = 0; i < n; i++)
	{
		if (m > 0 && rec[m - 1].t == rec[i].t && rec[m - 1].g == rec[i].g && rec[m - 1].type == rec[i].type)
			rec[m - 1].w += rec[i].w;
		else if (m != i)
			rec[m++] = rec[i];
		else
			m++;
	}
	return m;
}

/*
 * Sort the unsorted tail and merge it into the sorted head, summing equal
 * keys.  The merge runs backwards from the end, so only the tail needs a
 * scratch copy.
 */
static void
SurvCompact(SurvState *st)
{
	int64		nh = st->nsorted,
				nt = st->nrec - st->nsorted,
				i,
				j,
				k;
	SurvRecord *tail;

	if (nt == 0)
		return;
	SurvSortRecords(st->rec + nh, nt);
	if (nh > 0)
	{
		tail = palloc(sizeof(SurvRecord) * nt);
		memcpy(tail, st->rec + nh, sizeof(SurvRecord) * nt);
		i = nh - 1;
		j = nt - 1;
		k = nh + nt - 1;
		while (j >= 0)
		{
			if (i >= 0 && SurvRecordCmp(&st->rec[i], &tail[j]) > 0)
				st->rec[k--] = st->rec[i--];
			else
				st->rec[k--] = tail[j--];
		}
		pfree(tail);
	}
	st->nrec = st->nsorted = SurvDedupe(st->rec, nh + nt);
}

/*
 * Make room for one more record.  A full state is compacted and grown when
 * that freed less than half; once compacting a big state frees little (the
 * times are nearly all distinct), it only appends and leaves the sorting to
 * the final function.  Returns the state to use from now on.
 */
static SurvState *
SurvReserve(SurvState *st)
{
	int64		before = st->nrec;

	if (st->nrec < st->cap)
		return st;
	if (!(st->flags & SF_APPEND_ONLY))
	{
		SurvCompact(st);
		if (st->cap >= 65536 && st->nrec * 4 > before * 3)
			st->flags |= SF_APPEND_ONLY;
		if (st->nrec * 2 <= st->cap && st->nrec < st->cap)
			return st;
	}
	return SurvGrowOwned(st, st->cap * 2, st->ngroups, st->names_len);
}

/* Index of group name[len] in st, adding it when new; may replace *stp. */
static int32
SurvGroupIndex(SurvState **stp, const char *name, int32 len)
{
	SurvState  *st = *stp;
	uint32		mask = (uint32) st->gslots * 2 - 1;
	uint32		h = SurvNameHash(name, len) & mask;
	int32		slot;
	SurvGroup  *g;

	while ((slot = SurvHash(st)[h]) != 0)
	{
		g = SurvGroupAt(st, slot - 1);
		if (g->len == len && memcmp(g->name, name, len) == 0)
			return slot - 1;
		h = (h + 1) & mask;
	}
	if (st->ngroups >= (st->kind == SK_KM ? 1 : SURV_MAX_GROUPS))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("survival value has more than %d groups", SURV_MAX_GROUPS)));
	if (st->ngroups >= st->gslots || st->names_len + (int64) SURV_GROUP_SIZE(len) > st->names_cap)
		*stp = st = SurvGrowOwned(st, st->cap, st->ngroups + 1, st->names_len + SURV_GROUP_SIZE(len));
	SurvOffs(st)[st->ngroups] = st->names_len;
	g = (SurvGroup *) (SurvNames(st) + st->names_len);
	g->base = 0;
	g->len = len;
	memcpy(g->name, name, len);
	st->names_len += SURV_GROUP_SIZE(len);
	SurvHashInsert(st, st->ngroups);
	return st->ngroups++;
}

/* Check a time argument: finite, and not negative when it is a duration. */
static void
CheckTime(float8 t, const char *what, bool nonneg)
{
	if (isnan(t) || isinf(t) || (nonneg && t < 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a finite%s number, not %g", what, nonneg ? " non-negative" : "", t)));
}

/*
 * Add one row: group g (already in st), optional late entry, duration,
 * event flag, weight.  Returns the state to use from now on.
 */
static SurvState *
SurvAddRow(SurvState *st, int32 g, bool has_entry, float8 entry,
		   float8 duration, bool event, float8 w)
{
	SurvRecord *r;

	CheckTime(duration, "duration", true);
	if (isnan(w) || isinf(w) || w < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("weight must be a finite non-negative number, not %g", w)));
	if (has_entry)
	{
		CheckTime(entry, "entry time", false);
		if (entry >= duration)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("entry time must be before the duration"),
					 errdetail("Entry %g, duration %g: a subject is at risk on (entry, duration].", entry, duration)));
	}
	if (w == 0)
		return st;
	st->rows++;
	if (has_entry)
	{
		st = SurvReserve(st);
		r = &st->rec[st->nrec++];
		r->t = entry;
		r->w = w;
		r->g = g;
		r->type = RT_ENTRY;
	}
	else
		SurvGroupAt(st, g)->base += w;
	st = SurvReserve(st);
	r = &st->rec[st->nrec++];
	r->t = duration;
	r->w = w;
	r->g = g;
	r->type = event ? RT_EVENT : RT_CENSOR;
	return st;
}

/* ---- the transition state: an expanded object around a SurvState ---- */

/*
 * While an aggregate runs, its state is an expanded object that owns a
 * SurvState in its own memory context, a child of the aggregate context.
 * The aggregate machinery keeps such a value as it is, so a state that grows
 * is reallocated once, not copied again by the executor; it is flattened to
 * a plain survival value only when it leaves the backend (a parallel worker's
 * partial state) or is stored.
 */
typedef struct SurvExpanded
{
	ExpandedObjectHeader hdr;
	SurvState  *st;
} SurvExpanded;

/*
 * Size of the flat form of an expanded state: no spare room.  The records
 * are sorted first (flattening follows at once), so a parallel worker hands
 * over a sorted run and the leader only has to merge.
 */
static Size
SurvEOHFlatSize(ExpandedObjectHeader *eohptr)
{
	SurvState  *st = ((SurvExpanded *) eohptr)->st;

	SurvCompact(st);
	return SurvSize(st->nrec, st->gslots, st->names_len);
}

/* Write the flat form of an expanded state into result. */
static void
SurvEOHFlattenInto(ExpandedObjectHeader *eohptr, void *result, Size allocated_size)
{
	SurvState  *st = ((SurvExpanded *) eohptr)->st;
	SurvState  *out = (SurvState *) result;
	int32		i;

	Assert(allocated_size == SurvSize(st->nrec, st->gslots, st->names_len));
	memset(out, 0, allocated_size);
	memcpy(out, st, SURV_HDRSZ);
	out->cap = st->nrec;
	out->names_cap = st->names_len;
	SET_VARSIZE(out, allocated_size);
	memcpy(out->rec, st->rec, sizeof(SurvRecord) * st->nrec);
	memcpy(SurvOffs(out), SurvOffs(st), sizeof(int32) * st->ngroups);
	memcpy(SurvNames(out), SurvNames(st), st->names_len);
	for (i = 0; i < out->ngroups; i++)
		SurvHashInsert(out, i);
}

static const ExpandedObjectMethods SurvEOHMethods = {
	SurvEOHFlatSize,
	SurvEOHFlattenInto
};

/* A new expanded state under parent holding st, or an empty one of kind when st is NULL. */
static SurvExpanded *
SurvExpand(MemoryContext parent, SurvState *st, uint8 kind)
{
	MemoryContext cxt = AllocSetContextCreate(parent, "survival state", ALLOCSET_DEFAULT_SIZES);
	SurvExpanded *eh = MemoryContextAlloc(cxt, sizeof(SurvExpanded));

	EOH_init_header(&eh->hdr, &SurvEOHMethods, cxt);
	if (st != NULL)
		eh->st = SurvCopy(st, cxt);
	else
	{
		eh->st = SurvAlloc(cxt, 64, kind == SK_KM ? SURV_MIN_GSLOTS : 8, kind == SK_KM ? (int32) SURV_GROUP_SIZE(0) : 256, kind);
		if (kind == SK_KM)
			(void) SurvGroupIndex(&eh->st, "", 0);
		else if (kind == SK_SCORES)
		{
			(void) SurvGroupIndex(&eh->st, "0", 1);
			(void) SurvGroupIndex(&eh->st, "1", 1);
		}
	}
	return eh;
}

/* Whether d is a read-write expanded survival state. */
static bool
IsSurvExpandedRW(Datum d)
{
	return VARATT_IS_EXTERNAL_EXPANDED_RW(DatumGetPointer(d)) &&
		DatumGetEOHP(d)->eoh_methods == &SurvEOHMethods;
}

/* Read any survival datum, expanded or flat, without copying an expanded one. */
static SurvState *
SurvRead(Datum d)
{
	SurvState  *st;

	if (VARATT_IS_EXTERNAL_EXPANDED(DatumGetPointer(d)) &&
		DatumGetEOHP(d)->eoh_methods == &SurvEOHMethods)
		return ((SurvExpanded *) DatumGetEOHP(d))->st;
	st = (SurvState *) PG_DETOAST_DATUM(d);
	/* a value stored by 0.8 with one group slot: its names are misaligned, copy it (SurvCopy reads them bytewise) */
	if (st->gslots < SURV_MIN_GSLOTS)
		st = SurvCopy(st, CurrentMemoryContext);
	return st;
}

/* The aggregate's state (argument 0) to update in place, or a fresh one; errors outside an aggregate. */
static SurvExpanded *
SurvTransState(FunctionCallInfo fcinfo, uint8 kind, const char *fname)
{
	MemoryContext aggcxt;

	aggcxt = LmAggContext(fcinfo, fname);
	if (PG_ARGISNULL(0))
		return SurvExpand(aggcxt, NULL, kind);
	if (IsSurvExpandedRW(PG_GETARG_DATUM(0)))
		return (SurvExpanded *) DatumGetEOHP(PG_GETARG_DATUM(0));
	/* a flat state (say a window aggregate copied it): take a copy we own */
	return SurvExpand(aggcxt, SurvRead(PG_GETARG_DATUM(0)), kind);
}

/* Optional float8 weight argument at position i: 1 when absent. */
static bool
WeightArg(FunctionCallInfo fcinfo, int i, float8 *w)
{
	if (PG_NARGS() <= i)
	{
		*w = 1.0;
		return true;
	}
	if (PG_ARGISNULL(i))
		return false;
	*w = PG_GETARG_FLOAT8(i);
	return true;
}

/*
 * Whether the km_fit overload called here has a late entry: (entry, duration,
 * event [, weight]) against (duration, event [, weight]).  Decided once per
 * call site, from the argument types, and kept in fn_extra.
 */
static bool
KmLateEntry(FunctionCallInfo fcinfo)
{
	bool	   *entry = (bool *) fcinfo->flinfo->fn_extra;

	if (entry == NULL)
	{
		entry = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(bool));
		*entry = PG_NARGS() == 5 || (PG_NARGS() == 4 && LmArgType(fcinfo, 2) == FLOAT8OID);
		fcinfo->flinfo->fn_extra = entry;
	}
	return *entry;
}

/*
 * km_fit transition, every overload: (duration, event [, weight]) and, with
 * a late entry, (entry, duration, event [, weight]).
 */
Datum
leadmgmt_km_transfn(PG_FUNCTION_ARGS)
{
	SurvExpanded *eh;
	float8		w;
	bool		entry = KmLateEntry(fcinfo);
	int			d = entry ? 2 : 1;

	if ((entry && PG_ARGISNULL(1)) || PG_ARGISNULL(d) || PG_ARGISNULL(d + 1) || !WeightArg(fcinfo, d + 2, &w))
	{
		LM_RETURN_STATE();
	}
	eh = SurvTransState(fcinfo, SK_KM, "km_fit transition function");
	eh->st = SurvAddRow(eh->st, 0, entry, entry ? PG_GETARG_FLOAT8(1) : 0, PG_GETARG_FLOAT8(d), PG_GETARG_BOOL(d + 1), w);
	PG_RETURN_DATUM(EOHPGetRWDatum(&eh->hdr));
}
LM_SYMBOL_ALIAS(leadmgmt_km_transfn_entry, leadmgmt_km_transfn);

/* survival_by(grp, duration, event) and logrank(grp, duration, event) transition */
Datum
leadmgmt_survival_by_transfn(PG_FUNCTION_ARGS)
{
	SurvExpanded *eh;
	text	   *grp;
	int32		g;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
	{
		LM_RETURN_STATE();
	}
	eh = SurvTransState(fcinfo, SK_GROUPED, "logrank transition function");
	grp = PG_GETARG_TEXT_PP(1);
	g = SurvGroupIndex(&eh->st, VARDATA_ANY(grp), VARSIZE_ANY_EXHDR(grp));
	eh->st = SurvAddRow(eh->st, g, false, 0, PG_GETARG_FLOAT8(2), PG_GETARG_BOOL(3), 1.0);
	PG_RETURN_DATUM(EOHPGetRWDatum(&eh->hdr));
}
LM_SYMBOL_ALIAS(leadmgmt_logrank_transfn, leadmgmt_survival_by_transfn);

/* Combine two partial states of the same aggregate (also survival_merge). */
Datum
leadmgmt_survival_combine(PG_FUNCTION_ARGS)
{
	SurvExpanded *eh;
	SurvState  *a,
			   *b;
	int32	   *map;
	int32		i;
	int64		k;

	if (PG_ARGISNULL(1))
	{
		LM_RETURN_STATE();
	}
	b = SurvRead(PG_GETARG_DATUM(1));
	eh = SurvTransState(fcinfo, b->kind, "survival combine function");
	a = eh->st;
	if (a->kind != b->kind)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot merge a survival value of km_fit with one of survival_by"),
				 errhint("Merge values made by the same aggregate.")));
	map = palloc(sizeof(int32) * Max(b->ngroups, 1));
	for (i = 0; i < b->ngroups; i++)
	{
		SurvGroup  *g = SurvGroupAt(b, i);

		map[i] = SurvGroupIndex(&a, g->name, g->len);
		SurvGroupAt(a, map[i])->base += g->base;
	}
	if (a->nrec + b->nrec > a->cap)
	{
		SurvCompact(a);
		if (a->nrec + b->nrec > a->cap)
			a = SurvGrowOwned(a, a->nrec + b->nrec, a->ngroups, a->names_len);
	}
	for (k = 0; k < b->nrec; k++)
	{
		SurvRecord *r = &a->rec[a->nrec++];

		*r = b->rec[k];
		r->g = map[r->g];
	}
	a->rows += b->rows;
	/* a sorted run that is not small next to what we hold (a worker's): merge it now */
	if (b->nsorted == b->nrec && b->nrec * 8 >= a->nrec)
		SurvCompact(a);
	eh->st = a;
	PG_RETURN_DATUM(EOHPGetRWDatum(&eh->hdr));
}

/* Order group indexes by name: bytes, then length. */
static int
SurvGroupNameCmp(const void *a, const void *b, void *arg)
{
	SurvState  *st = (SurvState *) arg;
	SurvGroup  *x = SurvGroupAt(st, *(const int32 *) a);
	SurvGroup  *y = SurvGroupAt(st, *(const int32 *) b);
	int			c = memcmp(x->name, y->name, Min(x->len, y->len));

	return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

/* Whether st's groups are in name order. */
static bool
SurvGroupsSorted(SurvState *st)
{
	int32		i;

	for (i = 1; i < st->ngroups; i++)
	{
		int32		a = i - 1,
					b = i;

		if (SurvGroupNameCmp(&a, &b, st) > 0)
			return false;
	}
	return true;
}

/*
 * The canonical form of st, in the current context with no spare room:
 * groups in name order, records sorted by (time, group) and merged.  It does
 * not depend on the order rows came in, so serial and parallel plans give
 * the same value.
 */
static SurvState *
SurvCompactCopy(SurvState *st)
{
	SurvState  *out;
	int32		gslots = SURV_MIN_GSLOTS,
				i,
				len,
			   *order = NULL,
			   *rank;
	int64		k;
	char	   *blob;

	while (gslots < st->ngroups)
		gslots *= 2;
	if (st->nsorted == st->nrec && st->cap == st->nrec && st->gslots == gslots &&
		st->names_cap == st->names_len && SurvGroupsSorted(st))
		return st;
	out = SurvCopy(st, CurrentMemoryContext);
	if (!SurvGroupsSorted(out))
	{
		order = palloc(sizeof(int32) * out->ngroups);
		rank = palloc(sizeof(int32) * out->ngroups);
		for (i = 0; i < out->ngroups; i++)
			order[i] = i;
		qsort_arg(order, out->ngroups, sizeof(int32), SurvGroupNameCmp, out);
		for (i = 0; i < out->ngroups; i++)
			rank[order[i]] = i;
		for (k = 0; k < out->nrec; k++)
			out->rec[k].g = rank[out->rec[k].g];
		out->nsorted = 0;
	}
	SurvCompact(out);
	/* shrink in place to the records left, groups in name order */
	blob = SurvPackGroups(out, order, &len);
	SurvLayout(out, out->nrec, gslots, len, blob, len);
	pfree(blob);
	return out;
}

/* final of km_fit, survival_by and logrank's state: its canonical form, never the state itself */
Datum
leadmgmt_survival_final(PG_FUNCTION_ARGS)
{
	SurvState  *st,
			   *out;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = SurvRead(PG_GETARG_DATUM(0));
	out = SurvCompactCopy(st);
	if (out == st)
		out = SurvCopy(st, CurrentMemoryContext);
	PG_RETURN_POINTER(out);
}
LM_SYMBOL_ALIAS(leadmgmt_km_final, leadmgmt_survival_final);

/* ---- state I/O: binary send/recv, and text as "v1:" + hex of the binary ---- */

/* Binary form: version, kind, groups (base, name), records. */
static void
SurvSend(StringInfo buf, SurvState *st)
{
	int32		i;
	int64		k;

	pq_sendbyte(buf, SURVIVAL_VERSION);
	pq_sendbyte(buf, st->kind);
	pq_sendint32(buf, st->ngroups);
	pq_sendint64(buf, st->rows);
	pq_sendint64(buf, st->nrec);
	for (i = 0; i < st->ngroups; i++)
	{
		SurvGroup  *g = SurvGroupAt(st, i);

		pq_sendfloat8(buf, g->base);
		pq_sendint32(buf, g->len);
		pq_sendbytes(buf, g->name, g->len);
	}
	for (k = 0; k < st->nrec; k++)
	{
		SurvRecord *r = &st->rec[k];

		pq_sendfloat8(buf, r->t);
		pq_sendfloat8(buf, r->w);
		pq_sendint32(buf, r->g);
		pq_sendbyte(buf, r->type);
	}
}

/* Report a malformed binary survival value. */
static void
SurvBad(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid survival value"),
			 errdetail("%s", detail)));
}

/* A weight read from a binary survival value: finite and not negative. */
static float8
GetWeight(StringInfo buf)
{
	float8		w = pq_getmsgfloat8(buf);

	if (isnan(w) || isinf(w) || w < 0)
		SurvBad("A weight is negative or not finite.");
	return w;
}

/* Parse and validate the binary form. */
static SurvState *
SurvRecv(StringInfo buf)
{
	int			version,
				kind;
	int32		ngroups,
				i;
	int64		rows,
				nrec,
				k,
				need;
	SurvState  *st;

	/* version, kind, groups, rows, records: 22 bytes */
	if (buf->len - buf->cursor < 22)
		SurvBad("The value is shorter than its 22-byte header.");
	version = pq_getmsgbyte(buf);
	if (version != SURVIVAL_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("unsupported survival version %d", version)));
	kind = pq_getmsgbyte(buf);
	ngroups = pq_getmsgint(buf, 4);
	rows = pq_getmsgint64(buf);
	nrec = pq_getmsgint64(buf);
	if ((kind != SK_KM && kind != SK_GROUPED && kind != SK_SCORES) || ngroups < 0 ||
		ngroups > (kind == SK_KM ? 1 : SURV_MAX_GROUPS) || rows < 0 ||
		nrec < 0 || nrec > SURV_MAX_RECORDS ||
		nrec * 21 + (int64) ngroups * 12 > buf->len - buf->cursor)
		SurvBad("The header is out of range.");
	st = SurvAlloc(CurrentMemoryContext, nrec, SURV_MIN_GSLOTS, 64, (uint8) kind);
	st->rows = rows;
	for (i = 0; i < ngroups; i++)
	{
		float8		base = GetWeight(buf);
		int32		len = pq_getmsgint(buf, 4);
		const char *name;

		if (len < 0 || len > buf->len - buf->cursor)
			SurvBad("A group name runs past the end.");
		name = pq_getmsgbytes(buf, len);
		pg_verifymbstr(name, len, false);
		need = st->ngroups;
		if (SurvGroupIndex(&st, name, len) != need)
			SurvBad("A group name appears twice.");
		SurvGroupAt(st, (int32) need)->base = base;
	}
	if ((int64) nrec * 21 != buf->len - buf->cursor)
		SurvBad("The record count does not match the length.");
	for (k = 0; k < nrec; k++)
	{
		SurvRecord *r = &st->rec[k];

		r->t = pq_getmsgfloat8(buf);
		r->w = GetWeight(buf);
		r->g = pq_getmsgint(buf, 4);
		r->type = pq_getmsgbyte(buf);
		if (isnan(r->t) || isinf(r->t) || r->g < 0 || r->g >= st->ngroups ||
			r->type > RT_ENTRY || (r->type != RT_ENTRY && r->t < 0 && kind != SK_SCORES))
			SurvBad("A record has a time or group out of range.");
	}
	st->nrec = nrec;
	st->nsorted = 0;
	return st;
}

/* survival_in, _out, _send and _recv (leadmgmt.h) */
LM_STATE_TYPE_IO(survival, SurvRead, SurvSend, SurvRecv);

/* ---- Kaplan-Meier ---- */

/* confidence interval transforms, as R's survfit conf.type */
#define CI_PLAIN	0
#define CI_LOG		1
#define CI_LOGLOG	2

/*
 * A walk along the pooled Kaplan-Meier curve: each step is a time with an
 * event or a censored exit, with the number at risk, events, censored, S(t)
 * and the Greenwood sum (var of log S; +Inf once S reaches 0).
 */
typedef struct KmIter
{
	SurvState  *st;				/* canonical: sorted by time */
	int64		k;				/* next record */
	float8		atrisk;			/* at risk just after the previous time */
	float8		t,
				risk,
				d,
				c,
				s,
				gw;
} KmIter;

/* Start a walk along the curve of a survival value. */
static void
KmBegin(KmIter *it, SurvState *in)
{
	int32		i;

	it->st = SurvCompactCopy(in);
	it->k = 0;
	it->atrisk = 0;
	for (i = 0; i < it->st->ngroups; i++)
		it->atrisk += SurvGroupAt(it->st, i)->base;
	it->s = 1;
	it->gw = 0;
}

/* Step to the next time with an exit; false at the end. */
static bool
KmNext(KmIter *it)
{
	SurvState  *st = it->st;

	while (it->k < st->nrec)
	{
		float8		t = st->rec[it->k].t,
					d = 0,
					c = 0,
					net = 0;
		bool		exit;

		for (; it->k < st->nrec && st->rec[it->k].t == t; it->k++)
		{
			d += RecD(&st->rec[it->k]);
			c += RecC(&st->rec[it->k]);
			net += RecNet(&st->rec[it->k]);
		}
		exit = d > 0 || c > 0;
		if (exit)
		{
			if (d > 0 && it->atrisk > 0)
			{
				if (d >= it->atrisk)
				{
					it->s = 0;
					it->gw = INFINITY;
				}
				else
				{
					it->s *= 1 - d / it->atrisk;
					it->gw += d / (it->atrisk * (it->atrisk - d));
				}
			}
			it->t = t;
			it->risk = it->atrisk;
			it->d = d;
			it->c = c;
		}
		it->atrisk += net;
		/* rounding of weighted sums must not leave a negative risk set */
		if (it->atrisk < 0)
			it->atrisk = 0;
		if (exit)
			return true;
	}
	return false;
}

/* Parse conf_type and alpha into a transform and a normal quantile. */
static int
CiArgs(FunctionCallInfo fcinfo, int iconf, int ialpha, float8 *z)
{
	char	   *conf = text_to_cstring(PG_GETARG_TEXT_PP(iconf));
	float8		alpha = PG_GETARG_FLOAT8(ialpha);
	int			type;

	if (strcmp(conf, "log-log") == 0)
		type = CI_LOGLOG;
	else if (strcmp(conf, "log") == 0)
		type = CI_LOG;
	else if (strcmp(conf, "plain") == 0)
		type = CI_PLAIN;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown confidence interval type \"%.*s\"", LmEchoLen(conf, strlen(conf)), conf),
				 errhint("Valid types are log-log, log and plain.")));
	if (!(alpha > 0 && alpha < 1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("alpha must be between 0 and 1, not %g", alpha)));
	*z = LmNormalQuantile(1 - alpha / 2);
	return type;
}

/*
 * Pointwise interval of S with Greenwood sum gw, as R's survfit: false where
 * R gives NA (log-log at S = 0 or 1, log at S = 0, any type once the
 * variance is infinite).
 */
static bool
KmInterval(float8 s, float8 gw, int type, float8 z, float8 *lo, float8 *hi)
{
	float8		se = sqrt(gw);

	if (isinf(gw))
		return false;
	switch (type)
	{
		case CI_PLAIN:
			*lo = Max(0.0, s - z * se * s);
			*hi = Min(1.0, s + z * se * s);
			return true;
		case CI_LOG:
			if (s == 0)
				return false;
			*lo = exp(log(s) - z * se);
			*hi = Min(1.0, exp(log(s) + z * se));
			return true;
		default:
			if (s == 0 || s == 1)
				return false;
			{
				float8		ll = log(-log(s)),
							w = z * se / log(s);

				*lo = exp(-exp(ll - w));
				*hi = exp(-exp(ll + w));
			}
			return true;
	}
}

typedef struct KmCurveCtx
{
	KmIter		it;
	int			type;
	float8		z;
} KmCurveCtx;

/* km_curve(survival, conf_type, alpha): one row per time with an exit */
Datum
leadmgmt_km_curve(PG_FUNCTION_ARGS)
{
	FuncCallContext *fctx;
	KmCurveCtx *cx;
	MemoryContext old;

	if (SRF_IS_FIRSTCALL())
	{
		TupleDesc	tupdesc;

		fctx = SRF_FIRSTCALL_INIT();
		old = MemoryContextSwitchTo(fctx->multi_call_memory_ctx);
		if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "km_curve must return a composite type");
		fctx->tuple_desc = BlessTupleDesc(tupdesc);
		cx = palloc(sizeof(KmCurveCtx));
		cx->type = CiArgs(fcinfo, 1, 2, &cx->z);
		KmBegin(&cx->it, SurvRead(PG_GETARG_DATUM(0)));
		fctx->user_fctx = cx;
		MemoryContextSwitchTo(old);
	}
	fctx = SRF_PERCALL_SETUP();
	cx = (KmCurveCtx *) fctx->user_fctx;
	if (KmNext(&cx->it))
	{
		KmIter	   *it = &cx->it;
		Datum		v[8];
		bool		nul[8] = {0};
		float8		lo,
					hi;

		v[0] = Float8GetDatum(it->t);
		v[1] = Float8GetDatum(it->risk);
		v[2] = Float8GetDatum(it->d);
		v[3] = Float8GetDatum(it->c);
		v[4] = Float8GetDatum(it->s);
		if (isinf(it->gw))
			nul[5] = true;
		else
			v[5] = Float8GetDatum(it->s * sqrt(it->gw));
		if (KmInterval(it->s, it->gw, cx->type, cx->z, &lo, &hi))
		{
			v[6] = Float8GetDatum(lo);
			v[7] = Float8GetDatum(hi);
		}
		else
			nul[6] = nul[7] = true;
		SRF_RETURN_NEXT(fctx, HeapTupleGetDatum(heap_form_tuple(fctx->tuple_desc, v, nul)));
	}
	SRF_RETURN_DONE(fctx);
}

/*
 * km_median(survival, conf_type, alpha): the first t with S(t) <= 0.5, and
 * its interval: the first t where the lower band, and the upper band, reach 0.5
 */
Datum
leadmgmt_km_median(PG_FUNCTION_ARGS)
{
	KmIter		it;
	TupleDesc	tupdesc;
	Datum		v[3];
	bool		nul[3] = {true, true, true};
	float8		z;
	int			type = CiArgs(fcinfo, 1, 2, &z);

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "km_median must return a composite type");
	tupdesc = BlessTupleDesc(tupdesc);
	KmBegin(&it, SurvRead(PG_GETARG_DATUM(0)));
	while (nul[2] && KmNext(&it))
	{
		float8		lo,
					hi;

		if (it.d == 0)
			continue;
		/* where R has no interval the band is taken to be the estimate */
		if (!KmInterval(it.s, it.gw, type, z, &lo, &hi))
			lo = hi = it.s;
		if (nul[0] && it.s <= 0.5)
		{
			v[0] = Float8GetDatum(it.t);
			nul[0] = false;
		}
		if (nul[1] && lo <= 0.5)
		{
			v[1] = Float8GetDatum(it.t);
			nul[1] = false;
		}
		if (nul[2] && hi <= 0.5)
		{
			v[2] = Float8GetDatum(it.t);
			nul[2] = false;
		}
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, v, nul)));
}

/* km_at(survival, t): S(t), right-continuous */
Datum
leadmgmt_km_at(PG_FUNCTION_ARGS)
{
	float8		t = PG_GETARG_FLOAT8(1);
	KmIter		it;
	float8		s = 1;

	if (isnan(t))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("time must be a number, not NaN")));
	KmBegin(&it, SurvRead(PG_GETARG_DATUM(0)));
	while (KmNext(&it) && it.t <= t)
		s = it.s;
	PG_RETURN_FLOAT8(s);
}

/* km_rmst(survival, tau): restricted mean survival time, the area under S on [0, tau] */
Datum
leadmgmt_km_rmst(PG_FUNCTION_ARGS)
{
	float8		tau = PG_GETARG_FLOAT8(1);
	KmIter		it;
	float8		s = 1,
				last = 0,
				area = 0;

	CheckTime(tau, "tau", true);
	KmBegin(&it, SurvRead(PG_GETARG_DATUM(0)));
	while (KmNext(&it) && it.t <= tau)
	{
		if (it.d == 0)
			continue;
		area += s * (it.t - last);
		last = it.t;
		s = it.s;
	}
	area += s * (tau - last);
	PG_RETURN_FLOAT8(area);
}

/* ---- log-rank test ---- */

/*
 * logrank final: chi-squared statistic of the k-sample log-rank test (as R's
 * survdiff with rho = 0), its degrees of freedom (the rank of the variance
 * matrix), p-value, and the observed and expected events per group.
 */
Datum
leadmgmt_logrank_final(PG_FUNCTION_ARGS)
{
	SurvState  *st;
	int32		k,
				i,
				j,
				m,
				df = 0;
	float8	   *risk,
			   *obs,
			   *exp_,
			   *dg,
			   *var,
			   *diag;
	bool	   *used;
	float8		chi2 = 0,
				maxdiag = 0;
	int64		r = 0;
	TupleDesc	tupdesc;
	Datum		v[6],
			   *names,
			   *od,
			   *ed;
	bool		nul[6] = {0};

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = SurvCompactCopy(SurvRead(PG_GETARG_DATUM(0)));
	k = st->ngroups;
	if (k < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("logrank needs at least two groups"),
				 errdetail("All " INT64_FORMAT " rows are in group \"%.*s\".", st->rows,
						   LmEchoLen(SurvGroupAt(st, 0)->name, SurvGroupAt(st, 0)->len), SurvGroupAt(st, 0)->name),
				 errhint("Compare a segment with the rest, for example with CASE WHEN ... THEN 'segment' ELSE 'rest' END.")));
	if (k > LOGRANK_MAX_GROUPS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("logrank compares at most %d groups, not %d", LOGRANK_MAX_GROUPS, k),
				 errhint("Use logrank_each() to compare each group with the rest.")));
	risk = palloc0(sizeof(float8) * k);
	obs = palloc0(sizeof(float8) * k);
	exp_ = palloc0(sizeof(float8) * k);
	dg = palloc0(sizeof(float8) * k);
	var = palloc0(sizeof(float8) * k * k);
	for (i = 0; i < k; i++)
		risk[i] = SurvGroupAt(st, i)->base;
	while (r < st->nrec)
	{
		float8		t = st->rec[r].t,
					n = 0,
					d = 0;
		int64		r0 = r;

		CHECK_FOR_INTERRUPTS();
		for (i = 0; i < k; i++)
		{
			n += risk[i];
			dg[i] = 0;
		}
		for (; r < st->nrec && st->rec[r].t == t; r++)
		{
			dg[st->rec[r].g] += RecD(&st->rec[r]);
			d += RecD(&st->rec[r]);
		}
		if (d > 0 && n > 0)
		{
			float8		f = (n > 1) ? d * (n - d) / (n * n * (n - 1)) : 0;

			for (i = 0; i < k; i++)
			{
				obs[i] += dg[i];
				exp_[i] += d * risk[i] / n;
				for (j = 0; j < k; j++)
					var[i * k + j] += f * risk[i] * ((i == j ? n : 0) - risk[j]);
			}
		}
		for (; r0 < r; r0++)
		{
			SurvRecord *rec = &st->rec[r0];

			risk[rec->g] += RecNet(rec);
		}
	}

	/*
	 * chi2 = (O-E)' V^- (O-E) over the first k-1 groups, by a Cholesky
	 * decomposition that drops columns with a negligible pivot (a generalised
	 * inverse, as R's survdiff); df is the rank kept.
	 */
	m = k - 1;
	used = palloc0(sizeof(bool) * m);
	diag = palloc0(sizeof(float8) * m);
	for (i = 0; i < m; i++)
		maxdiag = Max(maxdiag, var[i * k + i]);
	for (j = 0; j < m; j++)
	{
		float8		piv = var[j * k + j];

		for (i = 0; i < j; i++)
			if (used[i])
				piv -= var[j * k + i] * var[j * k + i] * diag[i];
		if (piv <= maxdiag * 1e-9)
			continue;
		used[j] = true;
		diag[j] = piv;
		df++;
		for (i = j + 1; i < m; i++)
		{
			float8		x = var[i * k + j];
			int32		l;

			for (l = 0; l < j; l++)
				if (used[l])
					x -= var[i * k + l] * var[j * k + l] * diag[l];
			var[i * k + j] = x / piv;
		}
	}
	/* forward solve L y = (O - E) and sum y^2 / D */
	{
		float8	   *y = palloc0(sizeof(float8) * Max(m, 1));

		for (i = 0; i < m; i++)
		{
			if (!used[i])
				continue;
			y[i] = obs[i] - exp_[i];
			for (j = 0; j < i; j++)
				if (used[j])
					y[i] -= var[i * k + j] * y[j];
			chi2 += y[i] * y[i] / diag[i];
		}
	}

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "logrank must return a composite type");
	tupdesc = BlessTupleDesc(tupdesc);
	names = palloc(sizeof(Datum) * k);
	od = palloc(sizeof(Datum) * k);
	ed = palloc(sizeof(Datum) * k);
	for (i = 0; i < k; i++)
	{
		SurvGroup  *g = SurvGroupAt(st, i);

		names[i] = PointerGetDatum(cstring_to_text_with_len(g->name, g->len));
		od[i] = Float8GetDatum(obs[i]);
		ed[i] = Float8GetDatum(exp_[i]);
	}
	v[0] = Float8GetDatum(chi2);
	v[1] = Int32GetDatum(df);
	if (df > 0)
		v[2] = Float8GetDatum(LmChisqUpper(chi2, df));
	else
		nul[2] = true;
	v[3] = PointerGetDatum(construct_array(names, k, TEXTOID, -1, false, TYPALIGN_INT));
	v[4] = PointerGetDatum(construct_array(od, k, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	v[5] = PointerGetDatum(construct_array(ed, k, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, v, nul)));
}

typedef struct LogrankEachCtx
{
	SurvState  *st;
	float8	   *subjects;
	float8	   *obs;
	float8	   *exp_;
	float8	   *var;
} LogrankEachCtx;

/*
 * Two-group log-rank statistics of every group against all the others, in
 * one pass: a group's at-risk count only changes at its own records, so its
 * expected events and variance are settled lazily from running sums over
 * the event times (A = sum d/n, B = sum f n, C = sum f with
 * f = d (n - d) / (n^2 (n - 1))).
 */
static void
LogrankEachCompute(LogrankEachCtx *cx)
{
	SurvState  *st = cx->st;
	int32		k = st->ngroups,
				i;
	float8	   *risk = palloc0(sizeof(float8) * Max(k, 1)),
			   *la = palloc0(sizeof(float8) * Max(k, 1)),
			   *lb = palloc0(sizeof(float8) * Max(k, 1)),
			   *lc = palloc0(sizeof(float8) * Max(k, 1));
	float8		n = 0,
				sa = 0,
				sb = 0,
				sc = 0;
	int64		r = 0;

	cx->subjects = palloc0(sizeof(float8) * Max(k, 1));
	cx->obs = palloc0(sizeof(float8) * Max(k, 1));
	cx->exp_ = palloc0(sizeof(float8) * Max(k, 1));
	cx->var = palloc0(sizeof(float8) * Max(k, 1));
	for (i = 0; i < k; i++)
	{
		risk[i] = cx->subjects[i] = SurvGroupAt(st, i)->base;
		n += risk[i];
	}
	while (r < st->nrec)
	{
		float8		t = st->rec[r].t,
					d = 0,
					change = 0;
		int64		r1;

		CHECK_FOR_INTERRUPTS();
		for (r1 = r; r1 < st->nrec && st->rec[r1].t == t; r1++)
			d += RecD(&st->rec[r1]);
		if (d > 0 && n > 0)
		{
			sa += d / n;
			if (n > 1)
			{
				float8		f = d * (n - d) / (n * n * (n - 1));

				sb += f * n;
				sc += f;
			}
		}
		for (; r < r1; r++)
		{
			SurvRecord *rec = &st->rec[r];
			int32		g = rec->g;

			cx->exp_[g] += risk[g] * (sa - la[g]);
			cx->var[g] += risk[g] * (sb - lb[g]) - risk[g] * risk[g] * (sc - lc[g]);
			la[g] = sa;
			lb[g] = sb;
			lc[g] = sc;
			cx->obs[g] += RecD(rec);
			cx->subjects[g] += RecE(rec);
			risk[g] += RecNet(rec);
			change += RecNet(rec);
		}
		n += change;
		if (n < 0)
			n = 0;
	}
	for (i = 0; i < k; i++)
	{
		cx->exp_[i] += risk[i] * (sa - la[i]);
		cx->var[i] += risk[i] * (sb - lb[i]) - risk[i] * risk[i] * (sc - lc[i]);
	}
}

/* logrank_each(survival): one row per group, the log-rank test of it against the rest */
Datum
leadmgmt_logrank_each(PG_FUNCTION_ARGS)
{
	FuncCallContext *fctx;
	LogrankEachCtx *cx;

	if (SRF_IS_FIRSTCALL())
	{
		MemoryContext old;
		TupleDesc	tupdesc;

		fctx = SRF_FIRSTCALL_INIT();
		old = MemoryContextSwitchTo(fctx->multi_call_memory_ctx);
		if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "logrank_each must return a composite type");
		fctx->tuple_desc = BlessTupleDesc(tupdesc);
		cx = palloc(sizeof(LogrankEachCtx));
		cx->st = SurvCompactCopy(SurvRead(PG_GETARG_DATUM(0)));
		LogrankEachCompute(cx);
		fctx->user_fctx = cx;
		fctx->max_calls = cx->st->ngroups;
		MemoryContextSwitchTo(old);
	}
	fctx = SRF_PERCALL_SETUP();
	cx = (LogrankEachCtx *) fctx->user_fctx;
	if (fctx->call_cntr < fctx->max_calls)
	{
		int32		i = (int32) fctx->call_cntr;
		SurvGroup  *g = SurvGroupAt(cx->st, i);
		Datum		v[6];
		bool		nul[6] = {0};
		/* a variance that is zero up to rounding means no test */
		bool		testable = cx->var[i] > 1e-12 * Max(cx->exp_[i], 1.0);

		v[0] = PointerGetDatum(cstring_to_text_with_len(g->name, g->len));
		v[1] = Float8GetDatum(cx->subjects[i]);
		v[2] = Float8GetDatum(cx->obs[i]);
		v[3] = Float8GetDatum(cx->exp_[i]);
		if (testable)
		{
			float8		z = cx->obs[i] - cx->exp_[i];
			float8		chi2 = z * z / cx->var[i];

			v[4] = Float8GetDatum(chi2);
			v[5] = Float8GetDatum(LmChisqUpper(chi2, 1));
		}
		else
			nul[4] = nul[5] = true;
		SRF_RETURN_NEXT(fctx, HeapTupleGetDatum(heap_form_tuple(fctx->tuple_desc, v, nul)));
	}
	SRF_RETURN_DONE(fctx);
}

/* ---- AUC: the sorted store with scores for times, labels for groups ---- */

/* auc(score, label) transition */
Datum
leadmgmt_auc_transfn(PG_FUNCTION_ARGS)
{
	SurvExpanded *eh;
	SurvState  *st;
	SurvRecord *r;
	float8		score;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		LM_RETURN_STATE();
	}
	score = PG_GETARG_FLOAT8(1);
	if (isnan(score) || isinf(score))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("score must be a finite number, not %g", score)));
	eh = SurvTransState(fcinfo, SK_SCORES, "auc transition function");
	st = SurvReserve(eh->st);
	r = &st->rec[st->nrec++];
	r->t = score;
	r->w = 1;
	r->g = PG_GETARG_BOOL(2) ? 1 : 0;
	r->type = RT_EVENT;
	st->rows++;
	eh->st = st;
	PG_RETURN_DATUM(EOHPGetRWDatum(&eh->hdr));
}

/*
 * auc final: the area under the ROC curve, exactly, as the Mann-Whitney
 * statistic: the share of (positive, negative) pairs the score orders
 * correctly, ties counting half; NULL without both classes.
 */
Datum
leadmgmt_auc_final(PG_FUNCTION_ARGS)
{
	SurvState  *st;
	int64		k = 0;
	double		below = 0,
				pos = 0,
				neg = 0,
				pairs = 0;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = SurvCompactCopy(SurvRead(PG_GETARG_DATUM(0)));
	while (k < st->nrec)
	{
		float8		t = st->rec[k].t;
		double		p_at = 0,
					n_at = 0;

		for (; k < st->nrec && st->rec[k].t == t; k++)
		{
			if (st->rec[k].g == 1)
				p_at += st->rec[k].w;
			else
				n_at += st->rec[k].w;
		}
		pairs += p_at * (below + 0.5 * n_at);
		below += n_at;
		pos += p_at;
		neg += n_at;
	}
	if (pos == 0 || neg == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(pairs / (pos * neg));
}

/* ---- retention: [c1, c1 and c2, c1 and c3, ...] per group ---- */

/*
 * The state is a bigint: bits 0-31 say which conditions some row met, bits
 * 32-39 hold how many conditions the calls pass (0 before the first row).
 */
#define RET_MASK(s)		((uint64) (s) & 0xFFFFFFFFu)
#define RET_N(s)		((int) (((uint64) (s) >> 32) & 0xFF))

/* A retention state as the aggregate makes it: at most 32 conditions, no bit set past them. */
static int64
RetentionState(int64 s)
{
	int			n = RET_N(s);

	if (((uint64) s >> 40) != 0 || n > RETENTION_MAX_CONDS ||
		(n < RETENTION_MAX_CONDS && (RET_MASK(s) >> n) != 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid retention state %lld", (long long) s),
				 errdetail("Bits 0-31 say which conditions some row met, bits 32-39 how many conditions there are (at most %d); no other bit is set.",
						   RETENTION_MAX_CONDS)));
	return s;
}

/* retention transition: OR in the conditions this row meets */
Datum
leadmgmt_retention_transfn(PG_FUNCTION_ARGS)
{
	int64		s = RetentionState(PG_GETARG_INT64(0));
	ArrayType  *arr;
	int			n,
				i;
	bool	   *nulls;
	Datum	   *vals;
	uint64		mask = 0;

	if (PG_ARGISNULL(1))
		PG_RETURN_INT64(s);
	arr = PG_GETARG_ARRAYTYPE_P(1);
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("retention conditions must be a one-dimensional array")));
	n = ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr));
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("retention needs at least one condition")));
	if (n > RETENTION_MAX_CONDS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("retention takes at most %d conditions, not %d", RETENTION_MAX_CONDS, n)));
	if (RET_N(s) != 0 && RET_N(s) != n)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("retention got %d conditions after %d", n, RET_N(s)),
				 errdetail("Every row of a group must pass the same number of conditions.")));
	deconstruct_array(arr, BOOLOID, 1, true, TYPALIGN_CHAR, &vals, &nulls, &n);
	for (i = 0; i < n; i++)
		if (!nulls[i] && DatumGetBool(vals[i]))
			mask |= UINT64CONST(1) << i;
	PG_RETURN_INT64((int64) (RET_MASK(s) | mask | ((uint64) n << 32)));
}

/* retention combine: OR of the masks */
Datum
leadmgmt_retention_combine(PG_FUNCTION_ARGS)
{
	int64		a = RetentionState(PG_GETARG_INT64(0)),
				b = RetentionState(PG_GETARG_INT64(1));

	if (RET_N(a) != 0 && RET_N(b) != 0 && RET_N(a) != RET_N(b))
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("retention got %d conditions after %d", RET_N(b), RET_N(a)),
				 errdetail("Every row of a group must pass the same number of conditions.")));
	PG_RETURN_INT64((int64) (RET_MASK(a) | RET_MASK(b) | ((uint64) Max(RET_N(a), RET_N(b)) << 32)));
}

/* retention final: int[] of 0/1, NULL for no rows */
Datum
leadmgmt_retention_final(PG_FUNCTION_ARGS)
{
	int64		s = RetentionState(PG_GETARG_INT64(0));
	int			n = RET_N(s),
				i;
	uint64		mask = RET_MASK(s);
	Datum	   *out;

	if (n == 0)
		PG_RETURN_NULL();
	out = palloc(sizeof(Datum) * n);
	out[0] = Int32GetDatum((int32) (mask & 1));
	for (i = 1; i < n; i++)
		out[i] = Int32GetDatum((mask & 1) && (mask >> i & 1) ? 1 : 0);
	PG_RETURN_ARRAYTYPE_P(construct_array(out, n, INT4OID, 4, true, TYPALIGN_INT));
}
