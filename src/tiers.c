/*
 * src/tiers.c
 *
 * The default tier policy (docs/reference/tiers.md), written once: the view
 * effective_tier_policy reads it through tier_defaults(), and the assignment
 * roster (assignment_roster.c) reads the handler roles from it directly.  An
 * org's own tier_policy rows override it, tier by tier.
 */
#include "leadmgmt.h"

#include "access/htup_details.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "tiers.h"

PG_FUNCTION_INFO_V1(leadmgmt_tier_defaults);

const LmTierDefault lm_tier_defaults[LM_NTIERS] = {
	{"A", "top_sales", "30.00", "1 hour", 0.50},
	{"B", "sales", "20.00", "4 hours", 0.20},
	{"C", "tmk", "3.00", "24 hours", 0.05},
	{"D", "ai_bot", "0.30", "72 hours", 0.00},
};

/*
 * tier_defaults() RETURNS TABLE (tier char(1), handler_role text,
 * cost_per_contact numeric, follow_up_sla interval, min_score float8)
 */
Datum
leadmgmt_tier_defaults(PG_FUNCTION_ARGS)
{
	FuncCallContext *fctx;

	if (SRF_IS_FIRSTCALL())
	{
		MemoryContext old;
		TupleDesc	td;

		fctx = SRF_FIRSTCALL_INIT();
		old = MemoryContextSwitchTo(fctx->multi_call_memory_ctx);
		if (get_call_result_type(fcinfo, NULL, &td) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "tier_defaults must return a row type");
		fctx->tuple_desc = BlessTupleDesc(td);
		fctx->max_calls = LM_NTIERS;
		MemoryContextSwitchTo(old);
	}
	fctx = SRF_PERCALL_SETUP();
	if (fctx->call_cntr < fctx->max_calls)
	{
		const LmTierDefault *d = &lm_tier_defaults[fctx->call_cntr];
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};

		values[0] = DirectFunctionCall3(bpcharin, CStringGetDatum(d->tier), ObjectIdGetDatum(InvalidOid),
										Int32GetDatum(-1));
		values[1] = CStringGetTextDatum(d->handler_role);
		values[2] = DirectFunctionCall3(numeric_in, CStringGetDatum(d->cost_per_contact),
										ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
		values[3] = DirectFunctionCall3(interval_in, CStringGetDatum(d->follow_up_sla),
										ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
		values[4] = Float8GetDatum(d->min_score);
		SRF_RETURN_NEXT(fctx, HeapTupleGetDatum(heap_form_tuple(fctx->tuple_desc, values, nulls)));
	}
	SRF_RETURN_DONE(fctx);
}
