/*
 * src/assignment.h
 *
 * What the three files of the assignment engine share:
 *   assignment_plan.c    plan_assignments: the pure selection core (which rep
 *                        gets each lead of a batch), and the array helpers;
 *   assignment_engine.c  engine_assign, engine_load: the engine's state in
 *                        tables (rotation, counters, the pick journal) read
 *                        and written under the org's assignment lock;
 *   assignment_roster.c  rep_roster, check_org_engine: who may get leads, and
 *                        who may assign them.
 * docs/reference/assignment.md describes the engine.
 */
#ifndef LEADMGMT_ASSIGNMENT_H
#define LEADMGMT_ASSIGNMENT_H

#include "leadmgmt.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/transam.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "common/hashfn.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "parser/parse_func.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/procarray.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "tiers.h"				/* LM_NTIERS: tiers A to D */

typedef enum
{
	ST_ROUND_ROBIN,
	ST_LEAST_BUSY
} Strategy;

/* one eligible rep of the snapshot */
typedef struct Rep
{
	int64		id;
	int64		weight;
	int64		open;
	int64		room;
	int32		skills;			/* bit t: skilled for tier t; bit 4+t: preferred */
	int32		taken;			/* leads this batch gave the rep */
	int			slot;			/* index in the rotation state */
} Rep;

/* the rotation state: one current weight and last pick per rep ever seen */
typedef struct Slot
{
	int64		id;
	int64		current;
	int64		last;
} Slot;

/*
 * One of the engine's tables, open for reading, with the attribute numbers
 * of the columns asked for.  The caller needs SELECT on it; a caller that
 * row-level security applies to must have app or admin access to the org
 * (check_org_engine), as the low-level scans below do not apply policies.
 */
typedef struct EngineRel
{
	Relation	rel;
	TupleDesc	desc;
	AttrNumber	att[8];
} EngineRel;

/* assignment_engine.c */
extern Oid EngineShard(Oid relid, const char *name, int64 org);

/* assignment_plan.c */
extern int64 *AssignInt64Array(ArrayType *a, const char *what, int *n, bool **nulls);
extern void AssignCheckLength(int n, int want, const char *what, const char *other);
extern int AssignFindSlot(Slot *slots, int n, int64 id);
extern ArrayType *AssignInt64Result(int64 *v, bool *nulls, int n, Oid type);
extern void AssignParseLeads(text *tiers_text, ArrayType *excluded, char **tiers, int *nleads, int64 **excl, bool **exclnull);
extern Strategy AssignParseStrategy(text *t);
extern int AssignAddRepSlots(Slot *slots, int nstate, const int64 *rid, int n);
extern Rep *AssignMakeReps(Slot *slots, int nslots, const int64 *rid, const int64 *rw, const int64 *ropen, const int64 *rroom, const int64 *rskill, int n);
extern int64 AssignPlanLeads(Strategy strategy, Slot *slots, Rep *reps, int n, const char *tiers, int nleads, const int64 *excl, const bool *exclnull, int64 picks, int64 *lead_rep, bool *lead_null);

/* assignment_engine.c: the engine's tables, opened for an org */
extern void EngineOpen(EngineRel *er, const char *name, const char *const *cols, int ncols, int64 org, bool *checked);
extern SysScanDesc EngineScan(EngineRel *er, int64 org, Snapshot snap, ScanKeyData *key, AttrNumber after_att, int64 after);
extern void EngineClose(EngineRel *er, SysScanDesc scan);
extern Datum EngineAttr(EngineRel *er, HeapTuple tup, int col);

#endif							/* LEADMGMT_ASSIGNMENT_H */
