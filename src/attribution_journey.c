/*
 * src/attribution_journey.c
 *
 * Data-driven multi-touch attribution over journeys: markov_attribution
 * (removal effects of an absorbing Markov chain of order k = 1..4, solved
 * exactly) and shapley_attribution (simplified and exact Shapley values).
 *
 * Both aggregate into journey_state: the distinct journeys seen, each keyed
 * by its channel sequence (Markov: consecutive repeats merged) or sorted
 * channel set (Shapley) with summed conversions, non-conversions and value.
 * Transition counts follow from it, and it combines by adding up equal keys,
 * so it works in parallel workers and moves between Citus nodes as text
 * ("v1:" + hex of the versioned binary form).  While aggregating it is an
 * expanded object with a hash index; flat, it is a list of entries.
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
#include "port/pg_bitutils.h"
#include "utils/array.h"
#include "utils/arrayaccess.h"
#include "utils/builtins.h"
#include "utils/expandeddatum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/typcache.h"

#include "leadmgmt.h"

PG_FUNCTION_INFO_V1(leadmgmt_markov_transfn);
PG_FUNCTION_INFO_V1(leadmgmt_shapley_transfn);
PG_FUNCTION_INFO_V1(leadmgmt_journey_combine);
PG_FUNCTION_INFO_V1(leadmgmt_markov_final);
PG_FUNCTION_INFO_V1(leadmgmt_shapley_final);

#define JOURNEY_VERSION		1
#define JK_MARKOV			0
#define JK_SHAPLEY			1
#define JOURNEY_SEP			'\x1f'	/* between channels in a key */
/* Markov keys: "from window" MK_ARROW "to window", or to MK_CONV / MK_NULL; MK_TOTAL holds the totals */
#define MK_ARROW			'\x1e'
#define MK_CONV				"\x03"
#define MK_NULL				"\x04"
#define MK_TOTAL			"\x02"
#define MARKOV_MAX_ORDER	4
#define SHAPLEY_MAX_EXACT	20
#define JOURNEY_MAX_BYTES	((Size) 512 * 1024 * 1024)
/* most distinct channels one attribution takes (the first-order cache is their square) */
#define JOURNEY_MAX_CHANNELS	1000

/* one distinct journey */
typedef struct JourneyEntry
{
	float8		conv;
	float8		nonconv;
	float8		value;
	int32		len;
	char		key[FLEXIBLE_ARRAY_MEMBER];
} JourneyEntry;

#define ENTRY_SIZE(len)		MAXALIGN(offsetof(JourneyEntry, key) + (len))

/* the flat form: header, then the entries one after another */
typedef struct JourneyFlat
{
	int32		vl_len_;
	uint8		version;
	uint8		kind;			/* JK_* */
	uint8		param;			/* Markov order k, or 1 for exact Shapley */
	uint8		pad;
	int32		nentries;
	int64		rows;
	char		data[FLEXIBLE_ARRAY_MEMBER];
} JourneyFlat;

#define JF_HDRSZ	offsetof(JourneyFlat, data)

/* the expanded form while aggregating */
typedef struct JourneyExpanded
{
	ExpandedObjectHeader hdr;
	uint8		kind;
	uint8		param;
	int64		rows;
	int32		nentries;
	char	   *arena;			/* entries, back to back */
	Size		used;
	Size		cap;
	int64	   *offs;			/* offset of entry i */
	int32		offcap;
	int32	   *slots;			/* hash table: entry index + 1, 0 empty */
	int32		nslots;			/* a power of two */
	int64		total_off;		/* offset of the Markov totals entry, -1 until made */
	/* first-order Markov fast path: channel ids, and the entry of each transition */
	int32		nch;			/* channels with an id */
	int32		chcap;			/* ids below it have a tcache row; a power of two */
	int32		chslots;		/* size of the name hash set; a power of two */
	char	  **chname;			/* per slot: the name (a copy), NULL when empty */
	int32	   *chlen;
	int32	   *chid;
	int64	   *tcache;			/* (chcap + 1) x (chcap + 2) entry offsets, -1 unknown */
} JourneyExpanded;

static Size JourneyFlatSize(ExpandedObjectHeader *eohptr);
static void JourneyFlatten(ExpandedObjectHeader *eohptr, void *result, Size allocated_size);

static const ExpandedObjectMethods JourneyMethods = {JourneyFlatSize, JourneyFlatten};

/* Entry i of an expanded state. */
static inline JourneyEntry *
JEntry(JourneyExpanded *je, int32 i)
{
	return (JourneyEntry *) (je->arena + je->offs[i]);
}

/* Put entry i into the hash table. */
static void
JourneyIndex(JourneyExpanded *je, int32 i)
{
	JourneyEntry *e = JEntry(je, i);
	uint32		mask = (uint32) je->nslots - 1;
	uint32		h = hash_bytes((const unsigned char *) e->key, e->len) & mask;

	while (je->slots[h] != 0)
		h = (h + 1) & mask;
	je->slots[h] = i + 1;
}

/* The entry for key (created with zero sums when new). */
static JourneyEntry *
JourneyLookup(JourneyExpanded *je, const char *key, int32 len)
{
	uint32		mask = (uint32) je->nslots - 1;
	uint32		h = hash_bytes((const unsigned char *) key, len) & mask;
	int32		slot;
	JourneyEntry *e;
	MemoryContext old;

	while ((slot = je->slots[h]) != 0)
	{
		e = JEntry(je, slot - 1);
		if (e->len == len && memcmp(e->key, key, len) == 0)
			return e;
		h = (h + 1) & mask;
	}
	old = MemoryContextSwitchTo(je->hdr.eoh_context);
	if (je->used + ENTRY_SIZE(len) > je->cap)
	{
		while (je->used + ENTRY_SIZE(len) > je->cap)
			je->cap *= 2;
		if (je->cap > JOURNEY_MAX_BYTES)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("attribution state has more than %zu bytes of distinct journeys", JOURNEY_MAX_BYTES)));
		je->arena = repalloc(je->arena, je->cap);
	}
	if (je->nentries >= je->offcap)
	{
		je->offcap *= 2;
		je->offs = repalloc(je->offs, sizeof(int64) * je->offcap);
	}
	e = (JourneyEntry *) (je->arena + je->used);
	memset(e, 0, ENTRY_SIZE(len));
	e->len = len;
	memcpy(e->key, key, len);
	je->offs[je->nentries] = je->used;
	je->used += ENTRY_SIZE(len);
	je->nentries++;
	if (je->nentries * 2 > je->nslots)
	{
		int32		i;

		je->nslots *= 2;
		pfree(je->slots);
		je->slots = palloc0(sizeof(int32) * je->nslots);
		for (i = 0; i < je->nentries; i++)
			JourneyIndex(je, i);
	}
	else
		JourneyIndex(je, je->nentries - 1);
	MemoryContextSwitchTo(old);
	return e;
}

/* A new, empty expanded state under parent. */
static JourneyExpanded *
JourneyNew(MemoryContext parent, uint8 kind, uint8 param)
{
	MemoryContext cxt = AllocSetContextCreate(parent, "journey state", ALLOCSET_DEFAULT_SIZES);
	JourneyExpanded *je = MemoryContextAllocZero(cxt, sizeof(JourneyExpanded));

	EOH_init_header(&je->hdr, &JourneyMethods, cxt);
	je->kind = kind;
	je->param = param;
	je->cap = 1024;
	je->arena = MemoryContextAlloc(cxt, je->cap);
	je->offcap = 16;
	je->offs = MemoryContextAlloc(cxt, sizeof(int64) * je->offcap);
	je->nslots = 64;
	je->slots = MemoryContextAllocZero(cxt, sizeof(int32) * je->nslots);
	je->total_off = -1;
	return je;
}

/* Add the entries of a flat state to an expanded one. */
static void
JourneyAddFlat(JourneyExpanded *je, JourneyFlat *f)
{
	char	   *p = f->data;
	int32		i;

	for (i = 0; i < f->nentries; i++)
	{
		JourneyEntry *src = (JourneyEntry *) p;
		JourneyEntry *dst = JourneyLookup(je, src->key, src->len);

		dst->conv += src->conv;
		dst->nonconv += src->nonconv;
		dst->value += src->value;
		p += ENTRY_SIZE(src->len);
	}
	je->rows += f->rows;
}

/* Size of the flat form. */
static Size
JourneyFlatSize(ExpandedObjectHeader *eohptr)
{
	return JF_HDRSZ + ((JourneyExpanded *) eohptr)->used;
}

/* Write the flat form. */
static void
JourneyFlatten(ExpandedObjectHeader *eohptr, void *result, Size allocated_size)
{
	JourneyExpanded *je = (JourneyExpanded *) eohptr;
	JourneyFlat *f = (JourneyFlat *) result;

	memset(f, 0, JF_HDRSZ);
	SET_VARSIZE(f, allocated_size);
	f->version = JOURNEY_VERSION;
	f->kind = je->kind;
	f->param = je->param;
	f->nentries = je->nentries;
	f->rows = je->rows;
	/* the arena holds the entries back to back: it is the flat form's data */
	memcpy(f->data, je->arena, je->used);
	Assert(JF_HDRSZ + je->used == allocated_size);
}

/* Whether d is one of our read-write expanded states. */
static bool
IsJourneyRW(Datum d)
{
	return VARATT_IS_EXTERNAL_EXPANDED_RW(DatumGetPointer(d)) && DatumGetEOHP(d)->eoh_methods == &JourneyMethods;
}

/* The flat form of any journey_state datum (flattening an expanded one). */
static JourneyFlat *
JourneyRead(Datum d)
{
	return (JourneyFlat *) PG_DETOAST_DATUM(d);
}

/* The aggregate's state to update in place, or a new one; errors outside an aggregate. */
static JourneyExpanded *
JourneyState(FunctionCallInfo fcinfo, uint8 kind, uint8 param, const char *fname)
{
	MemoryContext aggcxt;
	JourneyExpanded *je;

	aggcxt = LmAggContext(fcinfo, fname);
	if (!PG_ARGISNULL(0) && IsJourneyRW(PG_GETARG_DATUM(0)))
		je = (JourneyExpanded *) DatumGetEOHP(PG_GETARG_DATUM(0));
	else
	{
		je = JourneyNew(aggcxt, kind, param);
		if (!PG_ARGISNULL(0))
		{
			JourneyFlat *f = JourneyRead(PG_GETARG_DATUM(0));

			je->kind = f->kind;
			je->param = f->param;
			JourneyAddFlat(je, f);
		}
	}
	if (je->kind != kind || je->param != param)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("every row of an attribution must use the same model settings"),
				 errdetail("This row asks for %s %d after %d.", kind == JK_MARKOV ? "order" : "exact", param, je->param)));
	return je;
}

/* A count or value argument: NULL is 0; negative or not finite is an error. */
static float8
AmountArg(FunctionCallInfo fcinfo, int i, const char *what)
{
	float8		v;

	if (PG_ARGISNULL(i))
		return 0;
	v = PG_GETARG_FLOAT8(i);
	if (isnan(v) || isinf(v) || v < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a finite non-negative number, not %g", what, v)));
	return v;
}

/* per-call-site buffers, so that rows do not allocate */
typedef struct RowBuffers
{
	StringInfoData key;
	text	  **ch;
	int32	   *id;
	int			cap;
} RowBuffers;

/* The call site's buffers, with room for n channels. */
static RowBuffers *
Buffers(FunctionCallInfo fcinfo, int n)
{
	RowBuffers *rb = (RowBuffers *) fcinfo->flinfo->fn_extra;

	if (rb == NULL || rb->cap < n)
	{
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
		int			cap = Max(n, 32);

		if (rb == NULL)
		{
			rb = palloc0(sizeof(RowBuffers));
			initStringInfo(&rb->key);
			fcinfo->flinfo->fn_extra = rb;
		}
		else
		{
			pfree(rb->ch);
			pfree(rb->id);
		}
		rb->ch = palloc(sizeof(text *) * cap);
		rb->id = palloc(sizeof(int32) * cap);
		rb->cap = cap;
		MemoryContextSwitchTo(old);
	}
	return rb;
}

/* The channels of a text[] (NULLs left out), each checked; returns how many. */
static int
ChannelsOf(FunctionCallInfo fcinfo, ArrayType *a, text ***out)
{
	array_iter	it;
	int			n,
				i,
				m = 0;

	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("a journey must be a one-dimensional array of channels")));
	if (ARR_ELEMTYPE(a) != TEXTOID)
		elog(ERROR, "a journey must be text[]");
	n = ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a));
	*out = Buffers(fcinfo, n)->ch;
	/* walk the elements in place, without copying them out */
	array_iter_setup(&it, (AnyArrayType *) a);
	for (i = 0; i < n; i++)
	{
		bool		isnull;
		Datum		d = array_iter_next(&it, &isnull, i, -1, false, TYPALIGN_INT);
		text	   *t;

		if (isnull)
			continue;
		t = DatumGetTextPP(d);
		if (VARSIZE_ANY_EXHDR(t) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a channel must be a non-empty name without control characters")));
		for (Size c = 0; c < VARSIZE_ANY_EXHDR(t); c++)
			if ((unsigned char) VARDATA_ANY(t)[c] < 0x20)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("a channel must be a non-empty name without control characters")));
		(*out)[m++] = t;
	}
	return m;
}

/* Text equality of two channels. */
static inline bool
SameChannel(text *a, text *b)
{
	return VARSIZE_ANY_EXHDR(a) == VARSIZE_ANY_EXHDR(b) &&
		memcmp(VARDATA_ANY(a), VARDATA_ANY(b), VARSIZE_ANY_EXHDR(a)) == 0;
}

/* Report more distinct channels than an attribution takes. */
static void
TooManyChannels(int n)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("an attribution takes at most %d distinct channels, not %d", JOURNEY_MAX_CHANNELS, n),
			 errhint("Group rare channels together, for example as 'other', before attributing.")));
}

/* (Re)make the transition cache for room for cap channels, all unknown. */
static void
TransitionCacheReset(JourneyExpanded *je, int32 cap)
{
	Size		cells = (Size) (cap + 1) * (cap + 2);
	Size		i;

	if (je->tcache)
		pfree(je->tcache);
	je->chcap = cap;
	je->tcache = MemoryContextAlloc(je->hdr.eoh_context, sizeof(int64) * cells);
	for (i = 0; i < cells; i++)
		je->tcache[i] = -1;
}

/* The id of channel t in the first-order fast path, giving it one when new. */
static int32
ChannelId(JourneyExpanded *je, text *t)
{
	const char *name = VARDATA_ANY(t);
	int32		len = VARSIZE_ANY_EXHDR(t);
	uint32		h;

	if (je->chslots == 0)
	{
		je->chslots = 64;
		je->chname = MemoryContextAllocZero(je->hdr.eoh_context, sizeof(char *) * je->chslots);
		je->chlen = MemoryContextAlloc(je->hdr.eoh_context, sizeof(int32) * je->chslots);
		je->chid = MemoryContextAlloc(je->hdr.eoh_context, sizeof(int32) * je->chslots);
		TransitionCacheReset(je, 32);
	}
	h = hash_bytes((const unsigned char *) name, len) & (je->chslots - 1);
	while (je->chname[h] != NULL)
	{
		if (je->chlen[h] == len && memcmp(je->chname[h], name, len) == 0)
			return je->chid[h];
		h = (h + 1) & (je->chslots - 1);
	}
	if (je->nch >= JOURNEY_MAX_CHANNELS)
		TooManyChannels(je->nch + 1);
	je->chname[h] = MemoryContextAlloc(je->hdr.eoh_context, len);
	memcpy(je->chname[h], name, len);
	je->chlen[h] = len;
	je->chid[h] = je->nch++;
	if (je->nch * 2 > je->chslots)
	{
		/* grow the name set */
		int32		old = je->chslots,
					i;
		char	  **oname = je->chname;
		int32	   *olen = je->chlen,
				   *oid = je->chid;

		je->chslots *= 2;
		je->chname = MemoryContextAllocZero(je->hdr.eoh_context, sizeof(char *) * je->chslots);
		je->chlen = MemoryContextAlloc(je->hdr.eoh_context, sizeof(int32) * je->chslots);
		je->chid = MemoryContextAlloc(je->hdr.eoh_context, sizeof(int32) * je->chslots);
		for (i = 0; i < old; i++)
			if (oname[i] != NULL)
			{
				uint32		g = hash_bytes((const unsigned char *) oname[i], olen[i]) & (je->chslots - 1);

				while (je->chname[g] != NULL)
					g = (g + 1) & (je->chslots - 1);
				je->chname[g] = oname[i];
				je->chlen[g] = olen[i];
				je->chid[g] = oid[i];
			}
		pfree(oname);
		pfree(olen);
		pfree(oid);
	}
	if (je->nch > je->chcap)
		TransitionCacheReset(je, je->chcap * 2);
	return je->nch - 1;
}

/* The call site's key buffer. */
static StringInfo
KeyBuffer(FunctionCallInfo fcinfo)
{
	return &Buffers(fcinfo, 0)->key;
}

/* Append channels joined with the separator. */
static void
AppendWindow(StringInfo buf, text **ch, int n)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoChar(buf, JOURNEY_SEP);
		appendBinaryStringInfo(buf, VARDATA_ANY(ch[i]), VARSIZE_ANY_EXHDR(ch[i]));
	}
}

/* Join channels into a key with the separator. */
static void
JoinKey(StringInfo buf, text **ch, int n)
{
	resetStringInfo(buf);
	AppendWindow(buf, ch, n);
}

/* markov_attribution(path, conversions, non_conversions, value [, k]) transition */
Datum
leadmgmt_markov_transfn(PG_FUNCTION_ARGS)
{
	JourneyExpanded *je;
	JourneyEntry *e;
	text	  **ch;
	int			n,
				i,
				m = 0;
	int32		k = 1;
	float8		conv,
				nonconv,
				value;
	StringInfo	key;

	if (PG_NARGS() > 5)
	{
		if (PG_ARGISNULL(5))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("the Markov order k must not be NULL")));
		k = PG_GETARG_INT32(5);
		if (k < 1 || k > MARKOV_MAX_ORDER)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the Markov order k must be between 1 and %d, not %d", MARKOV_MAX_ORDER, k)));
	}
	conv = AmountArg(fcinfo, 2, "conversions");
	nonconv = AmountArg(fcinfo, 3, "non_conversions");
	value = AmountArg(fcinfo, 4, "value");
	if (PG_ARGISNULL(1))
	{
		LM_RETURN_STATE();
	}
	n = ChannelsOf(fcinfo, PG_GETARG_ARRAYTYPE_P(1), &ch);
	je = JourneyState(fcinfo, JK_MARKOV, (uint8) k, "markov_attribution transition function");
	je->rows++;
	if (n == 0 || (conv == 0 && nonconv == 0))
		PG_RETURN_DATUM(EOHPGetRWDatum(&je->hdr));
	/* merge consecutive repeats: A > A > C is A > C (first order: by channel id) */
	if (k == 1)
	{
		int32	   *id = Buffers(fcinfo, n)->id;

		for (i = 0; i < n; i++)
		{
			int32		c = ChannelId(je, ch[i]);

			if (m == 0 || id[m - 1] != c)
			{
				id[m] = c;
				ch[m++] = ch[i];
			}
		}
	}
	else
		for (i = 0; i < n; i++)
			if (m == 0 || !SameChannel(ch[m - 1], ch[i]))
				ch[m++] = ch[i];
	/* the totals, for the credit (its place is remembered: it is met on every row) */
	if (je->total_off < 0)
		je->total_off = (char *) JourneyLookup(je, MK_TOTAL, 1) - je->arena;
	e = (JourneyEntry *) (je->arena + je->total_off);
	e->conv += conv;
	e->nonconv += nonconv;
	e->value += value;
	key = KeyBuffer(fcinfo);
	if (k == 1)
	{
		/* first order: each transition's entry is found through channel ids, its key built only once */
		int32	   *id = Buffers(fcinfo, m)->id;
		int32		width = je->chcap + 2;

		for (i = 0; i <= m; i++)
		{
			int32		row = i == 0 ? 0 : id[i - 1] + 1;
			int			t;

			for (t = 0; t < 2; t++)
			{
				int32		col;
				double		w;
				int64	   *cell;

				if (i < m)
				{
					if (t > 0)
						break;
					col = id[i] + 2;
					w = conv + nonconv;
				}
				else
				{
					col = t;	/* 0: to CONV, 1: to NULL */
					w = t == 0 ? conv : nonconv;
					if (w <= 0)
						continue;
				}
				cell = &je->tcache[(Size) row * width + col];
				if (*cell < 0)
				{
					resetStringInfo(key);
					if (i > 0)
						AppendWindow(key, ch + i - 1, 1);
					appendStringInfoChar(key, MK_ARROW);
					if (i < m)
						AppendWindow(key, ch + i, 1);
					else
						appendStringInfoChar(key, t == 0 ? MK_CONV[0] : MK_NULL[0]);
					*cell = (char *) JourneyLookup(je, key->data, key->len) - je->arena;
				}
				((JourneyEntry *) (je->arena + *cell))->conv += w;
			}
		}
		PG_RETURN_DATUM(EOHPGetRWDatum(&je->hdr));
	}
	/* the transitions: START > window 1 > ... > window m > CONV / NULL, a window being the last k channels */
	for (i = 0; i <= m; i++)
	{
		int			lo;

		resetStringInfo(key);
		if (i > 0)
		{
			lo = Max(0, i - k);
			AppendWindow(key, ch + lo, i - lo);
		}
		appendStringInfoChar(key, MK_ARROW);
		if (i < m)
		{
			lo = Max(0, i + 1 - k);
			AppendWindow(key, ch + lo, i + 1 - lo);
			e = JourneyLookup(je, key->data, key->len);
			e->conv += conv + nonconv;
		}
		else
		{
			int			base = key->len;

			if (conv > 0)
			{
				appendStringInfoChar(key, MK_CONV[0]);
				e = JourneyLookup(je, key->data, key->len);
				e->conv += conv;
			}
			if (nonconv > 0)
			{
				key->len = base;
				appendStringInfoChar(key, MK_NULL[0]);
				e = JourneyLookup(je, key->data, key->len);
				e->conv += nonconv;
			}
		}
	}
	PG_RETURN_DATUM(EOHPGetRWDatum(&je->hdr));
}

/* Order channels by name, for a journey's sorted channel set. */
static int
ChannelCmp(const void *a, const void *b)
{
	text	   *x = *(text *const *) a;
	text	   *y = *(text *const *) b;
	int			lx = VARSIZE_ANY_EXHDR(x),
				ly = VARSIZE_ANY_EXHDR(y);
	int			c = memcmp(VARDATA_ANY(x), VARDATA_ANY(y), Min(lx, ly));

	return c != 0 ? c : (lx > ly) - (lx < ly);
}

/* shapley_attribution(channels, conversions, value [, exact]) transition */
Datum
leadmgmt_shapley_transfn(PG_FUNCTION_ARGS)
{
	JourneyExpanded *je;
	JourneyEntry *e;
	text	  **ch;
	int			n,
				i,
				m = 0;
	bool		exact = false;
	float8		conv,
				value;
	StringInfo	key;

	if (PG_NARGS() > 4)
	{
		if (PG_ARGISNULL(4))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("exact must not be NULL")));
		exact = PG_GETARG_BOOL(4);
	}
	conv = AmountArg(fcinfo, 2, "conversions");
	value = AmountArg(fcinfo, 3, "value");
	if (PG_ARGISNULL(1))
	{
		LM_RETURN_STATE();
	}
	n = ChannelsOf(fcinfo, PG_GETARG_ARRAYTYPE_P(1), &ch);
	je = JourneyState(fcinfo, JK_SHAPLEY, exact ? 1 : 0, "shapley_attribution transition function");
	je->rows++;
	/* the distinct channel set, sorted */
	qsort(ch, n, sizeof(text *), ChannelCmp);
	for (i = 0; i < n; i++)
		if (m == 0 || !SameChannel(ch[m - 1], ch[i]))
			ch[m++] = ch[i];
	if (m == 0 || (conv == 0 && value == 0))
		PG_RETURN_DATUM(EOHPGetRWDatum(&je->hdr));
	key = KeyBuffer(fcinfo);
	JoinKey(key, ch, m);
	e = JourneyLookup(je, key->data, key->len);
	e->conv += conv;
	e->value += value;
	PG_RETURN_DATUM(EOHPGetRWDatum(&je->hdr));
}

/* Combine two partial states of one attribution. */
Datum
leadmgmt_journey_combine(PG_FUNCTION_ARGS)
{
	JourneyExpanded *je;
	JourneyFlat *b;

	if (PG_ARGISNULL(1))
	{
		LM_RETURN_STATE();
	}
	b = JourneyRead(PG_GETARG_DATUM(1));
	je = JourneyState(fcinfo, b->kind, b->param, "journey combine function");
	JourneyAddFlat(je, b);
	PG_RETURN_DATUM(EOHPGetRWDatum(&je->hdr));
}

/* ---- text and binary I/O ---- */

/* Binary form: version, kind, param, rows, entries (sums, key). */
static void
JourneySend(StringInfo buf, JourneyFlat *f)
{
	char	   *p = f->data;
	int32		i;

	pq_sendbyte(buf, JOURNEY_VERSION);
	pq_sendbyte(buf, f->kind);
	pq_sendbyte(buf, f->param);
	pq_sendint64(buf, f->rows);
	pq_sendint32(buf, f->nentries);
	for (i = 0; i < f->nentries; i++)
	{
		JourneyEntry *e = (JourneyEntry *) p;

		pq_sendfloat8(buf, e->conv);
		pq_sendfloat8(buf, e->nonconv);
		pq_sendfloat8(buf, e->value);
		pq_sendint32(buf, e->len);
		pq_sendbytes(buf, e->key, e->len);
		p += ENTRY_SIZE(e->len);
	}
}

/* Report a malformed binary journey_state. */
static void
JourneyBad(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid journey_state"),
			 errdetail("%s", detail)));
}

/* name comparison for qsort of (name, len) pairs held as parallel arrays via an index */
typedef struct NameRef
{
	const char *name;
	int			len;
} NameRef;

/* Order NameRefs by bytes, then length. */
static int
NameRefCmp(const void *a, const void *b)
{
	const NameRef *x = a,
			   *y = b;
	int			c = memcmp(x->name, y->name, Min(x->len, y->len));

	return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

/*
 * Whether key[0, len) is a window of 1 to maxn channels joined by the
 * separator, each a non-empty name without control characters; with sorted,
 * each name must also sort after the one before it (a distinct sorted set).
 */
static bool
ValidWindow(const char *key, int len, int maxn, bool sorted)
{
	int			n = 0,
				start = 0,
				i;
	NameRef		prev = {NULL, 0};

	for (i = 0; i <= len; i++)
	{
		if (i < len && key[i] != JOURNEY_SEP)
		{
			if ((unsigned char) key[i] < 0x20)
				return false;
			continue;
		}
		if (i == start || ++n > maxn)
			return false;
		{
			NameRef		cur = {key + start, i - start};

			/* in the order the transition sorts channels in (ChannelCmp) */
			if (sorted && prev.name != NULL && NameRefCmp(&prev, &cur) >= 0)
				return false;
			prev = cur;
		}
		start = i + 1;
	}
	return n >= 1;
}

/*
 * Whether key is one this kind of state makes.  Shapley: the sorted,
 * distinct channel set of a journey.  Markov of order k: the totals marker,
 * or "from" MK_ARROW "to", from being empty (START) or a window of up to k
 * channels, to a window of up to k channels or the CONV or NULL marker.
 */
static bool
ValidKey(int kind, int param, const char *key, int len)
{
	const char *arrow;
	int			flen;

	if (kind == JK_SHAPLEY)
		return ValidWindow(key, len, JOURNEY_MAX_CHANNELS, true);
	if (len == 1 && key[0] == MK_TOTAL[0])
		return true;
	arrow = memchr(key, MK_ARROW, len);
	if (arrow == NULL)
		return false;
	flen = arrow - key;
	if (flen > 0 && !ValidWindow(key, flen, param, false))
		return false;
	if (len - flen - 1 == 1 && (arrow[1] == MK_CONV[0] || arrow[1] == MK_NULL[0]))
		return flen > 0;
	return ValidWindow(arrow + 1, len - flen - 1, param, false);
}

/* Parse and validate the binary form into a flat state. */
static JourneyFlat *
JourneyRecv(StringInfo buf)
{
	int			version,
				kind,
				param;
	int64		rows;
	int32		n,
				i;
	StringInfoData data;
	JourneyFlat *f;

	if (buf->len - buf->cursor < 15)
		JourneyBad("The value is shorter than its 15-byte header.");
	version = pq_getmsgbyte(buf);
	if (version != JOURNEY_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("unsupported journey_state version %d", version)));
	kind = pq_getmsgbyte(buf);
	param = pq_getmsgbyte(buf);
	rows = pq_getmsgint64(buf);
	n = pq_getmsgint(buf, 4);
	if ((kind == JK_MARKOV && (param < 1 || param > MARKOV_MAX_ORDER)) ||
		(kind == JK_SHAPLEY && param > 1) || kind > JK_SHAPLEY || rows < 0 || n < 0 ||
		(int64) n * 28 > buf->len - buf->cursor)
		JourneyBad("The header is out of range.");
	initStringInfo(&data);
	enlargeStringInfo(&data, JF_HDRSZ);
	data.len = JF_HDRSZ;
	for (i = 0; i < n; i++)
	{
		JourneyEntry e;
		int32		len;
		const char *key;
		Size		at;

		e.conv = pq_getmsgfloat8(buf);
		e.nonconv = pq_getmsgfloat8(buf);
		e.value = pq_getmsgfloat8(buf);
		len = pq_getmsgint(buf, 4);
		if (isnan(e.conv) || isinf(e.conv) || e.conv < 0 || isnan(e.nonconv) || isinf(e.nonconv) ||
			e.nonconv < 0 || isnan(e.value) || isinf(e.value) || e.value < 0 ||
			len <= 0 || len > buf->len - buf->cursor)
			JourneyBad("An entry is out of range.");
		key = pq_getmsgbytes(buf, len);
		if (!ValidKey(kind, param, key, len))
			JourneyBad("An entry's key is not one this kind of state makes.");
		pg_verifymbstr(key, len, false);
		at = data.len;
		enlargeStringInfo(&data, ENTRY_SIZE(len));
		memset(data.data + at, 0, ENTRY_SIZE(len));
		e.len = len;
		memcpy(data.data + at, &e, offsetof(JourneyEntry, key));
		memcpy(data.data + at + offsetof(JourneyEntry, key), key, len);
		data.len += ENTRY_SIZE(len);
	}
	if (buf->cursor != buf->len)
		JourneyBad("There are bytes after the last entry.");
	f = (JourneyFlat *) data.data;
	memset(f, 0, JF_HDRSZ);
	SET_VARSIZE(f, data.len);
	f->version = JOURNEY_VERSION;
	f->kind = kind;
	f->param = param;
	f->nentries = n;
	f->rows = rows;
	return f;
}

/* journey_state_in, _out, _send and _recv (leadmgmt.h) */
LM_STATE_TYPE_IO(journey_state, JourneyRead, JourneySend, JourneyRecv);

/* ---- shared by the finals ---- */

/* the channels of a state, by name, with an index from key pieces */
typedef struct ChannelSet
{
	int			n;
	char	  **name;			/* sorted */
	int		   *len;
} ChannelSet;

/* Index of channel name[len] in cs (binary search), or -1. */
static int
ChannelIndex(ChannelSet *cs, const char *name, int len)
{
	int			lo = 0,
				hi = cs->n - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;
		int			c = memcmp(cs->name[mid], name, Min(cs->len[mid], len));

		if (c == 0)
			c = (cs->len[mid] > len) - (cs->len[mid] < len);
		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/* Report a state whose keys do not fit its channels (input validation keeps them out). */
static void
KeyMismatch(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid journey_state"),
			 errdetail("A key does not fit the channels of the state.")));
}

/* Split key into channel indexes, at most max of them, each a known channel; returns how many. */
static int
KeyChannels(ChannelSet *cs, const char *key, int len, int *out, int max)
{
	int			n = 0,
				start = 0,
				i;

	for (i = 0; i <= len; i++)
		if (i == len || key[i] == JOURNEY_SEP)
		{
			if (n >= max || (out[n] = ChannelIndex(cs, key + start, i - start)) < 0)
				KeyMismatch();
			n++;
			start = i + 1;
		}
	return n;
}

/* a set of strings (slices of the state), numbered as added */
typedef struct StrSet
{
	int			n;
	int			nslots;
	NameRef    *slot;
	int		   *id;
} StrSet;

/* Number of string name[len] in the set, adding it when new. */
static int
StrSetAdd(StrSet *ss, const char *name, int len)
{
	uint32		h;

	if (ss->nslots == 0 || (ss->n + 1) * 2 > ss->nslots)
	{
		int			old_n = ss->nslots,
					i;
		NameRef    *old_slot = ss->slot;
		int		   *old_id = ss->id;

		ss->nslots = Max(64, ss->nslots * 2);
		ss->slot = palloc0(sizeof(NameRef) * ss->nslots);
		ss->id = palloc(sizeof(int) * ss->nslots);
		for (i = 0; i < old_n; i++)
			if (old_slot[i].name != NULL)
			{
				uint32		g = hash_bytes((const unsigned char *) old_slot[i].name, old_slot[i].len) & (ss->nslots - 1);

				while (ss->slot[g].name != NULL)
					g = (g + 1) & (ss->nslots - 1);
				ss->slot[g] = old_slot[i];
				ss->id[g] = old_id[i];
			}
	}
	h = hash_bytes((const unsigned char *) name, len) & (ss->nslots - 1);
	while (ss->slot[h].name != NULL)
	{
		if (ss->slot[h].len == len && memcmp(ss->slot[h].name, name, len) == 0)
			return ss->id[h];
		h = (h + 1) & (ss->nslots - 1);
	}
	ss->slot[h].name = name;
	ss->slot[h].len = len;
	ss->id[h] = ss->n;
	return ss->n++;
}

/* The distinct channels of all keys (markers and the empty START window left out), sorted by name. */
static void
CollectChannels(JourneyFlat *f, ChannelSet *cs)
{
	StrSet		set;
	char	   *p = f->data;
	int			i,
				j;
	NameRef    *refs;

	memset(&set, 0, sizeof(set));
	for (i = 0; i < f->nentries; i++, p += ENTRY_SIZE(((JourneyEntry *) p)->len))
	{
		JourneyEntry *e = (JourneyEntry *) p;
		int			start = 0;

		for (j = 0; j <= e->len; j++)
			if (j == e->len || e->key[j] == JOURNEY_SEP || e->key[j] == MK_ARROW)
			{
				if (j > start && (unsigned char) e->key[start] >= 0x20)
					(void) StrSetAdd(&set, e->key + start, j - start);
				start = j + 1;
			}
	}
	if (set.n > JOURNEY_MAX_CHANNELS)
		TooManyChannels(set.n);
	refs = palloc(sizeof(NameRef) * Max(set.n, 1));
	for (i = 0; i < set.nslots; i++)
		if (set.slot[i].name != NULL)
			refs[set.id[i]] = set.slot[i];
	qsort(refs, set.n, sizeof(NameRef), NameRefCmp);
	cs->n = set.n;
	cs->name = palloc(sizeof(char *) * Max(set.n, 1));
	cs->len = palloc(sizeof(int) * Max(set.n, 1));
	for (i = 0; i < set.n; i++)
	{
		cs->name[i] = (char *) refs[i].name;
		cs->len[i] = refs[i].len;
	}
}

/* An array of composite rows of the function's declared element type. */
static Datum
CompositeArray(FunctionCallInfo fcinfo, Datum **rows_vals, bool **rows_nulls, int nrows)
{
	LmRowArray	ra;
	int			i;

	LmRowArrayInit(&ra, fcinfo, nrows);
	for (i = 0; i < nrows; i++)
		LmRowArrayAdd(&ra, rows_vals[i], rows_nulls[i]);
	return LmRowArrayResult(&ra);
}

/* ---- Markov ---- */

/*
 * The chain of order k: a transient state is the sequence of the last up to
 * k channels (shorter at the start of a journey), numbered in a hash of
 * their keys; transitions are weighted by journeys.  Absorption: CONV, NULL.
 */
typedef struct MarkovChain
{
	int			nstates;
	int		   *nch;			/* channels in state s */
	int		   *ch;				/* nstates x k channel indexes */
	int			k;
	/* transitions as CSR: out[s] .. out[s + 1] */
	int		   *out;
	int		   *to;				/* target state, or -1 CONV, -2 NULL */
	double	   *w;
	double	   *total;			/* total outgoing weight of s */
	double	   *start;			/* weight of START -> s */
	double		start_total;
} MarkovChain;

/* a growable list of (from, to, weight) triples */
typedef struct Edge
{
	int			from;
	int			to;
	double		w;
} Edge;

/* Order edges by (from, to). */
static int
EdgeCmp(const void *a, const void *b)
{
	const Edge *x = a,
			   *y = b;

	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	return (x->to > y->to) - (x->to < y->to);
}

/*
 * Build the chain from the transition counts: a state is a window of the
 * last up to k channels; transitions are weighted by journeys.
 */
static void
BuildChain(JourneyFlat *f, ChannelSet *cs, int k, MarkovChain *mc)
{
	StrSet		states;
	char	   *p = f->data;
	int			nedges = 0,
				i,
				s;
	Edge	   *edges = palloc(sizeof(Edge) * Max(f->nentries, 1));
	int			window[MARKOV_MAX_ORDER];
	/* each entry names at most two states, its source and its target */
	Size		maxstates = (Size) Max(f->nentries, 1) * 2;

	Assert(k >= 1 && k <= MARKOV_MAX_ORDER);
	memset(&states, 0, sizeof(states));
	memset(mc, 0, sizeof(*mc));
	mc->k = k;
	mc->ch = palloc(sizeof(int) * maxstates * k);
	mc->nch = palloc(sizeof(int) * maxstates);
	mc->start = palloc0(sizeof(double) * maxstates);
	for (i = 0; i < f->nentries; i++, p += ENTRY_SIZE(((JourneyEntry *) p)->len))
	{
		JourneyEntry *e = (JourneyEntry *) p;
		char	   *arrow = memchr(e->key, MK_ARROW, e->len);
		int			flen,
					tlen,
					from,
					to;
		const char *tkey;

		CHECK_FOR_INTERRUPTS();
		if (arrow == NULL || e->conv <= 0)
			continue;			/* the totals entry */
		flen = arrow - e->key;
		tkey = arrow + 1;
		tlen = e->len - flen - 1;
		from = -3;				/* START */
		if (flen > 0)
		{
			from = StrSetAdd(&states, e->key, flen);
			if (from == mc->nstates)
			{
				int			nw = KeyChannels(cs, e->key, flen, window, k);

				memcpy(mc->ch + (Size) from * k, window, sizeof(int) * nw);
				mc->nch[from] = nw;
				mc->nstates++;
			}
		}
		if (tlen == 1 && tkey[0] == MK_CONV[0])
			to = -1;
		else if (tlen == 1 && tkey[0] == MK_NULL[0])
			to = -2;
		else
		{
			to = StrSetAdd(&states, tkey, tlen);
			if (to == mc->nstates)
			{
				int			nw = KeyChannels(cs, tkey, tlen, window, k);

				memcpy(mc->ch + (Size) to * k, window, sizeof(int) * nw);
				mc->nch[to] = nw;
				mc->nstates++;
			}
		}
		if (from == -3)
		{
			if (to >= 0)
			{
				mc->start[to] += e->conv;
				mc->start_total += e->conv;
			}
			continue;
		}
		edges[nedges].from = from;
		edges[nedges].to = to;
		edges[nedges].w = e->conv;
		nedges++;
	}
	/* index the transitions by source state (CSR), in (from, to) order */
	qsort(edges, nedges, sizeof(Edge), EdgeCmp);
	mc->out = palloc0(sizeof(int) * (mc->nstates + 1));
	mc->to = palloc(sizeof(int) * Max(nedges, 1));
	mc->w = palloc(sizeof(double) * Max(nedges, 1));
	mc->total = palloc0(sizeof(double) * Max(mc->nstates, 1));
	for (i = 0; i < nedges; i++)
	{
		mc->out[edges[i].from + 1]++;
		mc->to[i] = edges[i].to;
		mc->w[i] = edges[i].w;
		mc->total[edges[i].from] += edges[i].w;
	}
	for (s = 0; s < mc->nstates; s++)
		mc->out[s + 1] += mc->out[s];
}

/*
 * Probability of conversion from START with the states in removed sent to
 * NULL: x[s] = sum_t P(s, t) x[t] + P(s, CONV), solved by dense elimination
 * with partial pivoting up to 600 states, else by Gauss-Seidel sweeps until
 * no value changes (the iteration matrix is substochastic and every state
 * reaches absorption, so it converges).
 */
static double
ConversionProbability(MarkovChain *mc, const bool *removed)
{
	int			n = mc->nstates,
				s,
				i,
				j,
				e;
	double	   *x = palloc0(sizeof(double) * Max(n, 1));
	double		pconv = 0;

	if (mc->start_total <= 0)
		return 0;
	if (n <= 600)
	{
		double	   *a = palloc0(sizeof(double) * n * n);
		double	   *b = palloc0(sizeof(double) * n);

		for (s = 0; s < n; s++)
		{
			a[s * n + s] = 1;
			if (removed[s] || mc->total[s] <= 0)
				continue;
			for (e = mc->out[s]; e < mc->out[s + 1]; e++)
			{
				double		pr = mc->w[e] / mc->total[s];

				if (mc->to[e] == -1)
					b[s] += pr;
				else if (mc->to[e] >= 0 && !removed[mc->to[e]])
					a[s * n + mc->to[e]] -= pr;
			}
		}
		for (j = 0; j < n; j++)
		{
			int			piv = j;
			double		best = fabs(a[j * n + j]);

			CHECK_FOR_INTERRUPTS();
			for (i = j + 1; i < n; i++)
				if (fabs(a[i * n + j]) > best)
				{
					best = fabs(a[i * n + j]);
					piv = i;
				}
			if (piv != j)
			{
				for (i = 0; i < n; i++)
				{
					double		t = a[j * n + i];

					a[j * n + i] = a[piv * n + i];
					a[piv * n + i] = t;
				}
				{
					double		t = b[j];

					b[j] = b[piv];
					b[piv] = t;
				}
			}
			for (i = j + 1; i < n; i++)
			{
				double		f = a[i * n + j] / a[j * n + j];
				int			c;

				if (f == 0)
					continue;
				for (c = j; c < n; c++)
					a[i * n + c] -= f * a[j * n + c];
				b[i] -= f * b[j];
			}
		}
		for (i = n - 1; i >= 0; i--)
		{
			double		v = b[i];

			for (j = i + 1; j < n; j++)
				v -= a[i * n + j] * x[j];
			x[i] = v / a[i * n + i];
		}
	}
	else
	{
		int			sweep;

		for (sweep = 0; sweep < 1000000; sweep++)
		{
			double		change = 0;

			CHECK_FOR_INTERRUPTS();
			for (s = 0; s < n; s++)
			{
				double		v = 0;

				if (removed[s] || mc->total[s] <= 0)
					continue;
				for (e = mc->out[s]; e < mc->out[s + 1]; e++)
				{
					if (mc->to[e] == -1)
						v += mc->w[e];
					else if (mc->to[e] >= 0 && !removed[mc->to[e]])
						v += mc->w[e] * x[mc->to[e]];
				}
				v /= mc->total[s];
				change = Max(change, fabs(v - x[s]));
				x[s] = v;
			}
			if (change == 0)
				break;
		}
	}
	for (s = 0; s < n; s++)
		if (!removed[s] && mc->start[s] > 0)
			pconv += mc->start[s] / mc->start_total * Min(Max(x[s], 0.0), 1.0);
	return pconv;
}

/* markov_attribution final: markov_credit[] per channel, by name */
Datum
leadmgmt_markov_final(PG_FUNCTION_ARGS)
{
	JourneyFlat *f;
	ChannelSet	cs;
	MarkovChain mc;
	double		base,
				total_conv = 0,
				total_value = 0,
				sum_re = 0;
	double	   *re;
	bool	   *removed;
	char	   *p;
	int			c,
				s,
				i,
				j;
	Datum	  **vals;
	bool	  **nulls;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	f = JourneyRead(PG_GETARG_DATUM(0));
	p = f->data;
	for (i = 0; i < f->nentries; i++)
	{
		JourneyEntry *e = (JourneyEntry *) p;

		if (e->len == 1 && e->key[0] == MK_TOTAL[0])
		{
			total_conv += e->conv;
			total_value += e->value;
		}
		p += ENTRY_SIZE(e->len);
	}
	CollectChannels(f, &cs);
	BuildChain(f, &cs, f->param, &mc);
	removed = palloc0(sizeof(bool) * Max(mc.nstates, 1));
	base = ConversionProbability(&mc, removed);
	re = palloc0(sizeof(double) * Max(cs.n, 1));
	for (c = 0; c < cs.n; c++)
	{
		for (s = 0; s < mc.nstates; s++)
		{
			removed[s] = false;
			for (j = 0; j < mc.nch[s]; j++)
				if (mc.ch[(Size) s * mc.k + j] == c)
					removed[s] = true;
		}
		/* the removal effect: the share of conversions lost without the channel, never negative */
		re[c] = base > 0 ? Max(0.0, 1 - ConversionProbability(&mc, removed) / base) : 0;
		sum_re += re[c];
	}
	vals = palloc(sizeof(Datum *) * Max(cs.n, 1));
	nulls = palloc(sizeof(bool *) * Max(cs.n, 1));
	for (c = 0; c < cs.n; c++)
	{
		vals[c] = palloc(sizeof(Datum) * 4);
		nulls[c] = palloc0(sizeof(bool) * 4);
		vals[c][0] = PointerGetDatum(cstring_to_text_with_len(cs.name[c], cs.len[c]));
		vals[c][1] = Float8GetDatum(re[c]);
		vals[c][2] = Float8GetDatum(sum_re > 0 ? total_conv * re[c] / sum_re : 0);
		vals[c][3] = Float8GetDatum(sum_re > 0 ? total_value * re[c] / sum_re : 0);
	}
	PG_RETURN_DATUM(CompositeArray(fcinfo, vals, nulls, cs.n));
}

/* ---- Shapley ---- */

/*
 * shapley_attribution final: shapley_credit[] per channel, by name.
 * Simplified (Zhao et al. 2018): each journey's conversions and value are
 * split equally among its distinct channels.  Exact: the Shapley value of
 * the game v(S) = conversions of journeys whose channel set lies within S,
 * over all 2^n coalitions (n <= 20) through the subset-sum transform.
 */
Datum
leadmgmt_shapley_final(PG_FUNCTION_ARGS)
{
	JourneyFlat *f;
	ChannelSet	cs;
	double	   *conv,
			   *val;
	char	   *p;
	int			i,
				c,
				n;
	int		   *idx;
	Datum	  **vals;
	bool	  **nulls;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	f = JourneyRead(PG_GETARG_DATUM(0));
	CollectChannels(f, &cs);
	n = cs.n;
	conv = palloc0(sizeof(double) * Max(n, 1));
	val = palloc0(sizeof(double) * Max(n, 1));
	idx = palloc(sizeof(int) * Max(n, 1));
	if (f->param == 0)
	{
		p = f->data;
		for (i = 0; i < f->nentries; i++)
		{
			JourneyEntry *e = (JourneyEntry *) p;
			int			m = KeyChannels(&cs, e->key, e->len, idx, n);

			for (c = 0; c < m; c++)
			{
				conv[idx[c]] += e->conv / m;
				val[idx[c]] += e->value / m;
			}
			p += ENTRY_SIZE(e->len);
		}
	}
	else
	{
		Size		ncoal;
		double	   *vc,
				   *vv,
				   *weight;
		uint32		mask;
		int			b;

		if (n > SHAPLEY_MAX_EXACT)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("the exact Shapley value takes at most %d channels, not %d", SHAPLEY_MAX_EXACT, n),
					 errhint("Use the simplified Shapley value (exact => false), which gives the same credit for this game.")));
		ncoal = (Size) 1 << n;
		vc = palloc0(sizeof(double) * ncoal);
		vv = palloc0(sizeof(double) * ncoal);
		p = f->data;
		for (i = 0; i < f->nentries; i++)
		{
			JourneyEntry *e = (JourneyEntry *) p;
			int			m = KeyChannels(&cs, e->key, e->len, idx, n);

			mask = 0;
			for (c = 0; c < m; c++)
				mask |= (uint32) 1 << idx[c];
			vc[mask] += e->conv;
			vv[mask] += e->value;
			p += ENTRY_SIZE(e->len);
		}
		/* v(S) = sum over subsets T of S: the subset-sum (zeta) transform */
		for (b = 0; b < n; b++)
		{
			CHECK_FOR_INTERRUPTS();
			for (mask = 0; mask < ncoal; mask++)
				if (mask & ((uint32) 1 << b))
				{
					vc[mask] += vc[mask ^ ((uint32) 1 << b)];
					vv[mask] += vv[mask ^ ((uint32) 1 << b)];
				}
		}
		/* weight of a coalition of size s not holding the player: s! (n - s - 1)! / n! */
		weight = palloc(sizeof(double) * n);
		for (b = 0; b < n; b++)
			weight[b] = exp(lgamma(b + 1) + lgamma(n - b) - lgamma(n + 1));
		for (mask = 0; mask < ncoal; mask++)
		{
			int			size = pg_popcount32(mask);

			CHECK_FOR_INTERRUPTS();
			for (c = 0; c < n; c++)
				if (!(mask & ((uint32) 1 << c)))
				{
					uint32		with = mask | ((uint32) 1 << c);

					conv[c] += weight[size] * (vc[with] - vc[mask]);
					val[c] += weight[size] * (vv[with] - vv[mask]);
				}
		}
	}
	vals = palloc(sizeof(Datum *) * Max(n, 1));
	nulls = palloc(sizeof(bool *) * Max(n, 1));
	for (c = 0; c < n; c++)
	{
		vals[c] = palloc(sizeof(Datum) * 3);
		nulls[c] = palloc0(sizeof(bool) * 3);
		vals[c][0] = PointerGetDatum(cstring_to_text_with_len(cs.name[c], cs.len[c]));
		vals[c][1] = Float8GetDatum(conv[c]);
		vals[c][2] = Float8GetDatum(val[c]);
	}
	PG_RETURN_DATUM(CompositeArray(fcinfo, vals, nulls, n));
}
