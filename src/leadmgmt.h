/*
 * src/leadmgmt.h
 *
 * Shared declarations for the leadmgmt extension.  Keep this small: each
 * capability lives in its own src/<capability>*.c files (docs/dba/layout.md)
 * and only truly shared helpers go here.
 */
#ifndef LEADMGMT_H
#define LEADMGMT_H

#include "postgres.h"

#if PG_VERSION_NUM < 130000
#error "leadmgmt requires PostgreSQL 13 or later"
#endif

/* Length of a normalised Chinese mobile number's national part: 1[3-9]XXXXXXXXX */
#define LM_CN_MOBILE_DIGITS 11

#include "lib/stringinfo.h"
#include "libpq/pqformat.h"

#include "fmgr.h"

/*
 * User input in an error message: at most LM_ECHO_CHARS characters of it,
 * whole (multibyte) characters, printed with "%.*s", LmEchoLen(s, len), s
 * (leadmgmt.c; since 0.16 no message echoes more)
 */
#define LM_ECHO_CHARS 40
extern int	LmEchoLen(const char *s, int len);

/* the aggregate context, or an error naming fname outside an aggregate (leadmgmt.c) */
extern MemoryContext LmAggContext(FunctionCallInfo fcinfo, const char *fname);

/* a row that adds nothing: return the aggregate state unchanged, NULL while there is none */
#define LM_RETURN_STATE() \
	do { \
		if (PG_ARGISNULL(0)) \
			PG_RETURN_NULL(); \
		PG_RETURN_DATUM(PG_GETARG_DATUM(0)); \
	} while (0)

/* an array of composite rows, the element type the function returns (leadmgmt.c) */
typedef struct LmRowArray
{
	Oid			elemtype;
	struct TupleDescData *tupdesc;
	Datum	   *elems;
	int			n;
	int			cap;
} LmRowArray;
extern void LmRowArrayInit(LmRowArray *ra, FunctionCallInfo fcinfo, int cap);
extern void LmRowArrayAdd(LmRowArray *ra, Datum *values, bool *nulls);
extern Datum LmRowArrayResult(LmRowArray *ra);

/* state types' text form, "v1:" + hex of the binary form (leadmgmt.c) */
extern char *LmStateTextOut(StringInfo bin);
extern void LmStateTextIn(const char *str, const char *typname, StringInfo bin);

/*
 * The four I/O functions of the state type 'typname' (leadmgmt_<typname>_in,
 * _out, _send, _recv), written once for every state type:
 *   READ(Datum) -> STATE *            the state of a datum (detoasted, or flat)
 *   SEND(StringInfo, STATE *)         appends its binary form
 *   RECV(StringInfo) -> STATE *       reads a binary form and checks it completely
 * The text form is "v1:" + hex of the binary form, so text and binary carry the
 * same bytes and every input, whichever way it comes, goes through RECV.
 */
#define LM_STATE_TYPE_IO(typname, READ, SEND, RECV) \
PG_FUNCTION_INFO_V1(leadmgmt_##typname##_in); \
PG_FUNCTION_INFO_V1(leadmgmt_##typname##_out); \
PG_FUNCTION_INFO_V1(leadmgmt_##typname##_send); \
PG_FUNCTION_INFO_V1(leadmgmt_##typname##_recv); \
Datum \
leadmgmt_##typname##_out(PG_FUNCTION_ARGS) \
{ \
	StringInfoData bin; \
	initStringInfo(&bin); \
	SEND(&bin, READ(PG_GETARG_DATUM(0))); \
	PG_RETURN_CSTRING(LmStateTextOut(&bin)); \
} \
Datum \
leadmgmt_##typname##_in(PG_FUNCTION_ARGS) \
{ \
	StringInfoData bin; \
	LmStateTextIn(PG_GETARG_CSTRING(0), #typname, &bin); \
	PG_RETURN_POINTER(RECV(&bin)); \
} \
Datum \
leadmgmt_##typname##_send(PG_FUNCTION_ARGS) \
{ \
	StringInfoData buf; \
	pq_begintypsend(&buf); \
	SEND(&buf, READ(PG_GETARG_DATUM(0))); \
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf)); \
} \
Datum \
leadmgmt_##typname##_recv(PG_FUNCTION_ARGS) \
{ \
	PG_RETURN_POINTER(RECV((StringInfo) PG_GETARG_POINTER(0))); \
} \
extern int	leadmgmt_##typname##_io_defined	/* so that a use ends with ';' */

/*
 * A C symbol that the script of a landed version names, kept as an alias of
 * the function that replaced it: installing that version loads the symbol.
 */
#define LM_SYMBOL_ALIAS(old, new) \
PG_FUNCTION_INFO_V1(old); \
Datum \
old(PG_FUNCTION_ARGS) \
{ \
	return new(fcinfo); \
} \
extern int	old##_alias_defined	/* so that a use ends with ';' */

/* the declared type of argument argno of the function being called (leadmgmt.c) */
extern Oid	LmArgType(FunctionCallInfo fcinfo, int argno);

/* distributions (stats.c) */
extern double LmNormalQuantile(double p);
extern double LmChisqUpper(double x, double df);

#endif							/* LEADMGMT_H */
