/*
 * src/leadmgmt.c
 *
 * Module entry point of the leadmgmt extension, and what the capabilities'
 * C files share: the aggregate-context check, arrays of composite rows, the
 * state types' text form (LM_STATE_TYPE_IO in leadmgmt.h writes their four
 * I/O functions) and LmArgType for C functions that serve several
 * overloads.  The library needs no shared_preload_libraries and keeps no
 * mutable global state.
 *
 * State types (funnel_state, survival, journey_state, touch_state) travel
 * between Citus nodes as text, so their text form must convert back to
 * exactly the same state: it is "v1:" followed by the hexadecimal digits of
 * the type's binary send format, which itself starts with a version byte.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

#include "leadmgmt.h"

PG_MODULE_MAGIC;

#ifndef LEADMGMT_VERSION
#error "LEADMGMT_VERSION is set by the Makefile from leadmgmt.control"
#endif

PG_FUNCTION_INFO_V1(leadmgmt_version);

/* version() RETURNS text: the version this library was built as */
Datum
leadmgmt_version(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(LEADMGMT_VERSION));
}

/* The bytes of at most LM_ECHO_CHARS whole characters of s (len bytes), for "%.*s" in a message. */
int
LmEchoLen(const char *s, int len)
{
	return pg_mbcharcliplen(s, len, LM_ECHO_CHARS);
}

/* The aggregate context of an aggregate support function; fname names it in the error outside one. */
MemoryContext
LmAggContext(FunctionCallInfo fcinfo, const char *fname)
{
	MemoryContext aggcxt;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s called in non-aggregate context", fname)));
	return aggcxt;
}

/* Text form of a state whose binary form is bin: "v1:<hex>". */
char *
LmStateTextOut(StringInfo bin)
{
	char	   *out = palloc(3 + (Size) bin->len * 2 + 1);
	uint64		hexlen;

	memcpy(out, "v1:", 3);
	hexlen = hex_encode(bin->data, bin->len, out + 3);
	out[3 + hexlen] = '\0';
	return out;
}

/* Decode the text form of a state of type typname into bin (initialised here). */
void
LmStateTextIn(const char *str, const char *typname, StringInfo bin)
{
	size_t		len = strlen(str);

	if (len < 3 || strncmp(str, "v1:", 3) != 0 || (len - 3) % 2 != 0 ||
		strspn(str + 3, "0123456789abcdefABCDEF") != len - 3)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type %s: \"%.40s\"", typname, str),
				 errdetail("A %s is written as v1: followed by hexadecimal digits.", typname)));
	initStringInfo(bin);
	enlargeStringInfo(bin, (int) ((len - 3) / 2) + 1);
	bin->len = (int) hex_decode(str + 3, len - 3, bin->data);
	bin->data[bin->len] = '\0';
}

/* Start an array of rows of the composite element type the function returns. */
void
LmRowArrayInit(LmRowArray *ra, FunctionCallInfo fcinfo, int cap)
{
	Oid			rettype = get_fn_expr_rettype(fcinfo->flinfo);

	/*
	 * Without a call expression (Citus calls a final function that way when
	 * it combines on the coordinator) the function's declared type is the
	 * one: these functions are not polymorphic.
	 */
	if (!OidIsValid(rettype) && OidIsValid(fcinfo->flinfo->fn_oid))
		rettype = get_func_rettype(fcinfo->flinfo->fn_oid);
	ra->elemtype = get_element_type(rettype);
	if (!OidIsValid(ra->elemtype))
		elog(ERROR, "function must return an array of a composite type");
	ra->tupdesc = BlessTupleDesc(lookup_rowtype_tupdesc_copy(ra->elemtype, -1));
	ra->cap = Max(cap, 1);
	ra->n = 0;
	ra->elems = palloc(sizeof(Datum) * ra->cap);
}

/* Add one row. */
void
LmRowArrayAdd(LmRowArray *ra, Datum *values, bool *nulls)
{
	if (ra->n >= ra->cap)
	{
		ra->cap *= 2;
		ra->elems = repalloc(ra->elems, sizeof(Datum) * ra->cap);
	}
	ra->elems[ra->n++] = HeapTupleGetDatum(heap_form_tuple(ra->tupdesc, values, nulls));
}

/* The array of the rows added. */
Datum
LmRowArrayResult(LmRowArray *ra)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;

	get_typlenbyvalalign(ra->elemtype, &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_array(ra->elems, ra->n, ra->elemtype, typlen, typbyval, typalign));
}

/*
 * The declared type of argument argno of the function being called: from the
 * call expression when there is one (every SQL call and aggregate transition
 * has), else from the catalog, so that one C function can serve overloads.
 */
Oid
LmArgType(FunctionCallInfo fcinfo, int argno)
{
	Oid			t = get_fn_expr_argtype(fcinfo->flinfo, argno);
	Oid		   *types;
	int			nargs;

	if (OidIsValid(t))
		return t;
	get_func_signature(fcinfo->flinfo->fn_oid, &types, &nargs);
	return argno >= 0 && argno < nargs ? types[argno] : InvalidOid;
}
