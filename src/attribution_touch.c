/*
 * src/attribution_touch.c
 *
 * Heuristic multi-touch attribution of one journey: the touch_credit
 * aggregate over a journey's touches returns each channel's share of the
 * conversion under first_touch, last_touch, last_non_direct, linear,
 * position_based or time_decay.  Options (jsonb): lookback_days (30),
 * exclude (channels to ignore), merge_repeats (false), direct (["direct"]),
 * first and last (0.4 and 0.4, position_based), half_life_days (7).
 *
 * The state, touch_state, keeps the settings and the touches that count
 * (inside the lookback window, not after the conversion, not excluded); it
 * is a concrete type with versioned binary and text I/O, so the aggregate is
 * parallel safe and Citus-friendly.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "leadmgmt.h"

PG_FUNCTION_INFO_V1(leadmgmt_touch_credit_transfn);
PG_FUNCTION_INFO_V1(leadmgmt_touch_credit_combine);
PG_FUNCTION_INFO_V1(leadmgmt_touch_credit_final);

#define TOUCH_VERSION		1
#define TOUCH_MAX_BYTES		((Size) 64 * 1024 * 1024)

enum TouchModel
{
	TM_FIRST,
	TM_LAST,
	TM_LAST_NON_DIRECT,
	TM_LINEAR,
	TM_POSITION,
	TM_DECAY
};

static const char *const TouchModelNames[] = {
	"first_touch", "last_touch", "last_non_direct", "linear", "position_based", "time_decay"
};

/* settings of one journey's attribution */
typedef struct TouchSettings
{
	int32		model;
	int32		merge;			/* merge consecutive repeats */
	TimestampTz converted_at;
	float8		first_w;
	float8		last_w;
	float8		half_life;		/* days */
} TouchSettings;

/* a touch: time, whether the channel is direct, the channel name */
typedef struct TouchEntry
{
	TimestampTz ts;
	int32		len;
	int32		direct;
	char		name[FLEXIBLE_ARRAY_MEMBER];
} TouchEntry;

#define TOUCH_ENTRY_SIZE(len)	MAXALIGN(offsetof(TouchEntry, name) + (len))

typedef struct TouchState
{
	int32		vl_len_;		/* covers cap */
	int32		version;
	TouchSettings set;
	int32		ntouches;
	int32		pad;
	int64		used;			/* bytes of data in use */
	int64		cap;			/* bytes of data */
	char		data[FLEXIBLE_ARRAY_MEMBER];
} TouchState;

#define TOUCH_HDRSZ		offsetof(TouchState, data)

/* parsed options, cached per call site with the jsonb they came from */
typedef struct TouchOptions
{
	Size		optlen;
	char	   *optbytes;
	float8		lookback;		/* days */
	int32		merge;
	float8		first_w;
	float8		last_w;
	float8		half_life;
	int			nexclude;
	text	  **exclude;
	int			ndirect;
	text	  **direct;
	int32		model;
	char	   *modelname;
} TouchOptions;

/* A new state with room for cap bytes of touches, in the current context. */
static TouchState *
TouchAlloc(int64 cap, const TouchSettings *set)
{
	TouchState *st = palloc0(TOUCH_HDRSZ + cap);

	SET_VARSIZE(st, TOUCH_HDRSZ + cap);
	st->version = TOUCH_VERSION;
	st->set = *set;
	st->cap = cap;
	return st;
}

/* Make room for extra bytes; a grown state is new and in the per-call context (the executor adopts it). */
static TouchState *
TouchReserve(TouchState *st, int64 extra)
{
	int64		cap = Max(st->cap, 256);
	TouchState *big;

	if (st->used + extra <= st->cap)
		return st;
	while (cap < st->used + extra)
		cap *= 2;
	if ((Size) cap > TOUCH_MAX_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a journey has more than %zu bytes of touches", TOUCH_MAX_BYTES),
				 errhint("Group touch_credit by journey (lead and conversion).")));
	big = TouchAlloc(cap, &st->set);
	big->ntouches = st->ntouches;
	big->used = st->used;
	memcpy(big->data, st->data, st->used);
	return big;
}

/* Report a bad option. */
static void
BadOption(const char *msg, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s", msg),
			 detail ? errdetail("%s", detail) : 0,
			 errhint("Options are lookback_days, exclude, merge_repeats, direct, first, last and half_life_days.")));
}

/* A jsonb array of strings as texts. */
static int
JsonbTexts(JsonbValue *v, Jsonb *jb, const char *key, text ***out)
{
	JsonbIterator *it;
	JsonbValue	elem;
	JsonbIteratorToken tok;
	int			n = 0,
				cap = 4;

	if (v->type != jbvBinary)
		BadOption(psprintf("option %s must be an array of channel names", key), NULL);
	*out = palloc(sizeof(text *) * cap);
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &elem, true)) != WJB_DONE)
	{
		if (tok == WJB_BEGIN_OBJECT)
			BadOption(psprintf("option %s must be an array of channel names", key), NULL);
		if (tok != WJB_ELEM)
			continue;
		if (elem.type != jbvString)
			BadOption(psprintf("option %s must be an array of channel names", key), NULL);
		if (n >= cap)
		{
			cap *= 2;
			*out = repalloc(*out, sizeof(text *) * cap);
		}
		(*out)[n++] = cstring_to_text_with_len(elem.val.string.val, elem.val.string.len);
	}
	(void) jb;
	return n;
}

/* A jsonb number option as float8. */
static float8
JsonbNumber(JsonbValue *v, const char *key)
{
	if (v->type != jbvNumeric)
		BadOption(psprintf("option %s must be a number", key), NULL);
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(v->val.numeric)));
}

/* Parse model and options, reusing the cached parse when they are the same as last time. */
static TouchOptions *
ParseOptions(FunctionCallInfo fcinfo, text *model, Jsonb *opts)
{
	TouchOptions *o = (TouchOptions *) fcinfo->flinfo->fn_extra;
	Size		optlen = opts ? VARSIZE(opts) : 0;
	char	   *mname = text_to_cstring(model);
	MemoryContext old;
	JsonbIterator *it;
	JsonbValue	k,
				v;
	JsonbIteratorToken tok;
	int			i;

	if (o != NULL && strcmp(o->modelname, mname) == 0 && o->optlen == optlen &&
		(optlen == 0 || memcmp(o->optbytes, opts, optlen) == 0))
		return o;
	old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	o = palloc0(sizeof(TouchOptions));
	o->modelname = pstrdup(mname);
	o->model = -1;
	for (i = 0; i < (int) lengthof(TouchModelNames); i++)
		if (strcmp(mname, TouchModelNames[i]) == 0)
			o->model = i;
	if (o->model < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown attribution model \"%.*s\"", LmEchoLen(mname, strlen(mname)), mname),
				 errhint("Valid models are first_touch, last_touch, last_non_direct, linear, position_based and time_decay.")));
	o->lookback = 30;
	o->first_w = 0.4;
	o->last_w = 0.4;
	o->half_life = 7;
	o->ndirect = 1;
	o->direct = palloc(sizeof(text *));
	o->direct[0] = cstring_to_text("direct");
	if (opts != NULL)
	{
		if (!JB_ROOT_IS_OBJECT(opts))
			BadOption("options must be a JSON object", NULL);
		it = JsonbIteratorInit(&opts->root);
		while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
		{
			char	   *key;

			if (tok != WJB_KEY)
				continue;
			key = pnstrdup(k.val.string.val, k.val.string.len);
			tok = JsonbIteratorNext(&it, &v, true);
			if (strcmp(key, "lookback_days") == 0)
				o->lookback = JsonbNumber(&v, key);
			else if (strcmp(key, "first") == 0)
				o->first_w = JsonbNumber(&v, key);
			else if (strcmp(key, "last") == 0)
				o->last_w = JsonbNumber(&v, key);
			else if (strcmp(key, "half_life_days") == 0)
				o->half_life = JsonbNumber(&v, key);
			else if (strcmp(key, "merge_repeats") == 0)
			{
				if (v.type != jbvBool)
					BadOption("option merge_repeats must be true or false", NULL);
				o->merge = v.val.boolean;
			}
			else if (strcmp(key, "exclude") == 0)
				o->nexclude = JsonbTexts(&v, opts, key, &o->exclude);
			else if (strcmp(key, "direct") == 0)
				o->ndirect = JsonbTexts(&v, opts, key, &o->direct);
			else
				BadOption(psprintf("unknown attribution option \"%s\"", key), NULL);
		}
		if (!(o->lookback > 0) || isinf(o->lookback))
			BadOption("lookback_days must be a positive number", NULL);
		if (!(o->half_life > 0) || isinf(o->half_life))
			BadOption("half_life_days must be a positive number", NULL);
		if (!(o->first_w >= 0 && o->last_w >= 0 && o->first_w + o->last_w <= 1))
			BadOption("first and last must be shares between 0 and 1 that add up to at most 1", NULL);
		o->optlen = optlen;
		o->optbytes = palloc(optlen);
		memcpy(o->optbytes, opts, optlen);
	}
	MemoryContextSwitchTo(old);
	fcinfo->flinfo->fn_extra = o;
	return o;
}

/* Whether channel ch is in the list. */
static bool
InList(text **list, int n, text *ch)
{
	int			i;

	for (i = 0; i < n; i++)
		if (VARSIZE_ANY_EXHDR(list[i]) == VARSIZE_ANY_EXHDR(ch) &&
			memcmp(VARDATA_ANY(list[i]), VARDATA_ANY(ch), VARSIZE_ANY_EXHDR(ch)) == 0)
			return true;
	return false;
}

/* touch_credit(model, channel, ts, converted_at [, options]) transition */
Datum
leadmgmt_touch_credit_transfn(PG_FUNCTION_ARGS)
{
	TouchState *st;
	TouchOptions *o;
	TouchSettings set;
	TouchEntry *e;
	text	   *ch;
	TimestampTz ts,
				conv;
	int32		len;

	(void) LmAggContext(fcinfo, "touch_credit transition function");
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the attribution model must not be NULL")));
	o = ParseOptions(fcinfo, PG_GETARG_TEXT_PP(1), PG_NARGS() > 5 && !PG_ARGISNULL(5) ? PG_GETARG_JSONB_P(5) : NULL);
	/* a journey without a conversion, or a touch without channel or time, adds nothing */
	if (PG_ARGISNULL(2) || PG_ARGISNULL(3) || PG_ARGISNULL(4))
	{
		LM_RETURN_STATE();
	}
	ch = PG_GETARG_TEXT_PP(2);
	ts = PG_GETARG_TIMESTAMPTZ(3);
	conv = PG_GETARG_TIMESTAMPTZ(4);
	if (TIMESTAMP_NOT_FINITE(ts) || TIMESTAMP_NOT_FINITE(conv))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("touch and conversion times must be finite")));
	memset(&set, 0, sizeof(set));
	set.model = o->model;
	set.merge = o->merge;
	set.converted_at = conv;
	set.first_w = o->first_w;
	set.last_w = o->last_w;
	set.half_life = o->half_life;
	if (PG_ARGISNULL(0))
		st = TouchAlloc(256, &set);
	else
	{
		st = (TouchState *) PG_GETARG_POINTER(0);
		if (memcmp(&st->set, &set, sizeof(set)) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("every touch of a journey must name the same model, options and conversion time"),
					 errhint("Group touch_credit by journey.")));
	}
	/* touches after the conversion, before the lookback window, or of excluded channels do not count */
	if (ts > conv || (double) (conv - ts) > o->lookback * USECS_PER_DAY || InList(o->exclude, o->nexclude, ch))
		PG_RETURN_POINTER(st);
	len = VARSIZE_ANY_EXHDR(ch);
	st = TouchReserve(st, TOUCH_ENTRY_SIZE(len));
	e = (TouchEntry *) (st->data + st->used);
	memset(e, 0, TOUCH_ENTRY_SIZE(len));
	e->ts = ts;
	e->len = len;
	e->direct = InList(o->direct, o->ndirect, ch);
	memcpy(e->name, VARDATA_ANY(ch), len);
	st->used += TOUCH_ENTRY_SIZE(len);
	st->ntouches++;
	PG_RETURN_POINTER(st);
}

/* Combine two partial states of one journey. */
Datum
leadmgmt_touch_credit_combine(PG_FUNCTION_ARGS)
{
	TouchState *a,
			   *b;

	(void) LmAggContext(fcinfo, "touch_credit combine function");
	if (PG_ARGISNULL(1))
	{
		LM_RETURN_STATE();
	}
	b = (TouchState *) PG_DETOAST_DATUM(PG_GETARG_DATUM(1));
	if (PG_ARGISNULL(0))
	{
		a = TouchAlloc(Max(b->used, 256), &b->set);
		a->ntouches = b->ntouches;
		a->used = b->used;
		memcpy(a->data, b->data, b->used);
		PG_RETURN_POINTER(a);
	}
	a = (TouchState *) PG_GETARG_POINTER(0);
	if (memcmp(&a->set, &b->set, sizeof(TouchSettings)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("every touch of a journey must name the same model, options and conversion time")));
	a = TouchReserve(a, b->used);
	memcpy(a->data + a->used, b->data, b->used);
	a->used += b->used;
	a->ntouches += b->ntouches;
	PG_RETURN_POINTER(a);
}

/* Order touches by time, then channel name. */
static int
TouchCmp(const void *x, const void *y)
{
	const TouchEntry *a = *(TouchEntry *const *) x;
	const TouchEntry *b = *(TouchEntry *const *) y;
	int			c;

	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	c = memcmp(a->name, b->name, Min(a->len, b->len));
	return c != 0 ? c : (a->len > b->len) - (a->len < b->len);
}

/* a channel's credit while summing */
typedef struct Credit
{
	TouchEntry *e;
	double		credit;
} Credit;

/* Order credits by credit (descending), then channel. */
static int
CreditCmp(const void *x, const void *y)
{
	const Credit *a = x,
			   *b = y;
	int			c;

	if (a->credit != b->credit)
		return a->credit > b->credit ? -1 : 1;
	c = memcmp(a->e->name, b->e->name, Min(a->e->len, b->e->len));
	return c != 0 ? c : (a->e->len > b->e->len) - (a->e->len < b->e->len);
}

/* Whether two touches are of one channel. */
static inline bool
SameName(const TouchEntry *a, const TouchEntry *b)
{
	return a->len == b->len && memcmp(a->name, b->name, a->len) == 0;
}

/* touch_credit final: channel_credit[] summing to 1, largest first; NULL without touches */
Datum
leadmgmt_touch_credit_final(PG_FUNCTION_ARGS)
{
	TouchState *st;
	TouchEntry **t;
	double	   *w,
				total = 0;
	Credit	   *cr;
	int			n = 0,
				m,
				i,
				j,
				nc = 0;
	char	   *p;
	LmRowArray	ra;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (TouchState *) PG_DETOAST_DATUM(PG_GETARG_DATUM(0));
	if (st->ntouches == 0)
		PG_RETURN_NULL();
	t = palloc(sizeof(TouchEntry *) * st->ntouches);
	for (p = st->data; p < st->data + st->used; p += TOUCH_ENTRY_SIZE(((TouchEntry *) p)->len))
		t[n++] = (TouchEntry *) p;
	qsort(t, n, sizeof(TouchEntry *), TouchCmp);
	if (st->set.merge)
	{
		for (i = 0, m = 0; i < n; i++)
			if (m == 0 || !SameName(t[m - 1], t[i]))
				t[m++] = t[i];
		n = m;
	}
	w = palloc0(sizeof(double) * n);
	switch (st->set.model)
	{
		case TM_FIRST:
			w[0] = 1;
			break;
		case TM_LAST:
			w[n - 1] = 1;
			break;
		case TM_LAST_NON_DIRECT:
			for (i = n - 1; i >= 0 && t[i]->direct; i--)
				;
			w[i >= 0 ? i : n - 1] = 1;
			break;
		case TM_LINEAR:
			for (i = 0; i < n; i++)
				w[i] = 1;
			break;
		case TM_POSITION:
			if (n == 1)
				w[0] = 1;
			else if (n == 2)
				w[0] = w[1] = 0.5;
			else
			{
				w[0] = st->set.first_w;
				w[n - 1] = st->set.last_w;
				for (i = 1; i < n - 1; i++)
					w[i] = (1 - st->set.first_w - st->set.last_w) / (n - 2);
			}
			break;
		default:
			for (i = 0; i < n; i++)
				w[i] = pow(2.0, -((double) (st->set.converted_at - t[i]->ts) / USECS_PER_DAY) / st->set.half_life);
			break;
	}
	for (i = 0; i < n; i++)
		total += w[i];
	/* per channel, in first-seen order, then normalised */
	cr = palloc(sizeof(Credit) * n);
	for (i = 0; i < n; i++)
	{
		for (j = 0; j < nc && !SameName(cr[j].e, t[i]); j++)
			;
		if (j == nc)
		{
			cr[nc].e = t[i];
			cr[nc].credit = 0;
			nc++;
		}
		cr[j].credit += w[i];
	}
	for (j = 0; j < nc; j++)
		cr[j].credit = total > 0 ? cr[j].credit / total : 1.0 / nc;
	qsort(cr, nc, sizeof(Credit), CreditCmp);

	LmRowArrayInit(&ra, fcinfo, nc);
	for (j = 0; j < nc; j++)
	{
		Datum		v[2];
		bool		nul[2] = {false, false};

		v[0] = PointerGetDatum(cstring_to_text_with_len(cr[j].e->name, cr[j].e->len));
		v[1] = Float8GetDatum(cr[j].credit);
		LmRowArrayAdd(&ra, v, nul);
	}
	PG_RETURN_DATUM(LmRowArrayResult(&ra));
}

/* ---- touch_state I/O: binary, and text as "v1:" + hex of the binary ---- */

/* Binary form: version, settings, touches. */
static void
TouchSend(StringInfo buf, TouchState *st)
{
	char	   *p;

	pq_sendbyte(buf, TOUCH_VERSION);
	pq_sendint32(buf, st->set.model);
	pq_sendbyte(buf, st->set.merge ? 1 : 0);
	pq_sendint64(buf, st->set.converted_at);
	pq_sendfloat8(buf, st->set.first_w);
	pq_sendfloat8(buf, st->set.last_w);
	pq_sendfloat8(buf, st->set.half_life);
	pq_sendint32(buf, st->ntouches);
	for (p = st->data; p < st->data + st->used; p += TOUCH_ENTRY_SIZE(((TouchEntry *) p)->len))
	{
		TouchEntry *e = (TouchEntry *) p;

		pq_sendint64(buf, e->ts);
		pq_sendbyte(buf, e->direct ? 1 : 0);
		pq_sendint32(buf, e->len);
		pq_sendbytes(buf, e->name, e->len);
	}
}

/* Report a malformed binary touch_state. */
static void
TouchBad(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid touch_state"),
			 errdetail("%s", detail)));
}

/* Parse and validate the binary form. */
static TouchState *
TouchRecv(StringInfo buf)
{
	TouchSettings set;
	int			version;
	int32		n,
				i;
	TouchState *st;

	if (buf->len - buf->cursor < 42)
		TouchBad("The value is shorter than its 42-byte header.");
	version = pq_getmsgbyte(buf);
	if (version != TOUCH_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("unsupported touch_state version %d", version)));
	memset(&set, 0, sizeof(set));
	set.model = pq_getmsgint(buf, 4);
	set.merge = pq_getmsgbyte(buf);
	set.converted_at = pq_getmsgint64(buf);
	set.first_w = pq_getmsgfloat8(buf);
	set.last_w = pq_getmsgfloat8(buf);
	set.half_life = pq_getmsgfloat8(buf);
	n = pq_getmsgint(buf, 4);
	if (set.model < 0 || set.model > TM_DECAY || set.merge > 1 || TIMESTAMP_NOT_FINITE(set.converted_at) ||
		!(set.first_w >= 0 && set.last_w >= 0 && set.first_w + set.last_w <= 1) ||
		!(set.half_life > 0) || isinf(set.half_life) || n < 0 || (int64) n * 13 > buf->len - buf->cursor)
		TouchBad("The header is out of range.");
	st = TouchAlloc(256, &set);
	for (i = 0; i < n; i++)
	{
		TimestampTz ts = pq_getmsgint64(buf);
		int			direct = pq_getmsgbyte(buf);
		int32		len = pq_getmsgint(buf, 4);
		TouchEntry *e;

		if (TIMESTAMP_NOT_FINITE(ts) || ts > set.converted_at || direct > 1 || len < 0 || len > buf->len - buf->cursor)
			TouchBad("A touch is out of range.");
		st = TouchReserve(st, TOUCH_ENTRY_SIZE(len));
		e = (TouchEntry *) (st->data + st->used);
		memset(e, 0, TOUCH_ENTRY_SIZE(len));
		e->ts = ts;
		e->direct = direct;
		e->len = len;
		memcpy(e->name, pq_getmsgbytes(buf, len), len);
		pg_verifymbstr(e->name, len, false);
		st->used += TOUCH_ENTRY_SIZE(len);
		st->ntouches++;
	}
	if (buf->cursor != buf->len)
		TouchBad("There are bytes after the last touch.");
	return st;
}

/* the state of a touch_state datum */
static inline TouchState *
TouchDatum(Datum d)
{
	return (TouchState *) PG_DETOAST_DATUM(d);
}

/* touch_state_in, _out, _send and _recv (leadmgmt.h) */
LM_STATE_TYPE_IO(touch_state, TouchDatum, TouchSend, TouchRecv);

