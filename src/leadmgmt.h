/*
 * src/leadmgmt.h
 *
 * Shared declarations for the leadmgmt extension.  Keep this small: each
 * concern lives in its own .c file and only truly shared helpers go here.
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

#include "fmgr.h"

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

/* distributions (stats.c) */
extern double LmNormalQuantile(double p);
extern double LmChisqUpper(double x, double df);

#endif							/* LEADMGMT_H */
