/*
 * src/assignment_engine.c
 *
 * The assignment engine's state in tables, engine_assign and engine_load
 * (docs/reference/assignment.md); see the comment below for the design.
 */
#include "assignment.h"

/* ------------------------------------------------------------------------
 * The engine's state in tables: engine_assign, engine_load
 *
 * A call that only assigns does not hold the org's assignment lock (a
 * transaction advisory lock) until commit: under it, it reads the state,
 * plans, writes one row to the pick journal (assign_pick) and releases it,
 * then writes owners and history.  The next decision must see that pick
 * before it commits, so the journal is read with a dirty snapshot: rows of
 * transactions still in flight count, rows of aborted ones (a rollback, a
 * killed backend) vanish with their picks.
 *
 * The state is therefore the base (assign_rotation and rep_load, changed only
 * by calls that hold the lock in exclusive mode until commit, so never in
 * flight when read under the lock) plus the deltas of every live journal
 * row.  Settled rows are folded into the base by rep_load_sync now and then.
 *
 * Decisions hold the lock in share mode and run side by side: each writes
 * its row as a speculative insertion and confirms it only if it was first
 * (JournalPublish), else decides again; so every confirmed decision counted
 * every other live one.
 * ------------------------------------------------------------------------
 */
PG_FUNCTION_INFO_V1(leadmgmt_engine_assign);
PG_FUNCTION_INFO_V1(leadmgmt_engine_load);

/*
 * settled journal rows that make a decision fold the journal first; a call
 * that finds another folding goes on until FOLD_LIMIT rows have settled
 */
#define FOLD_AFTER 64
#define FOLD_LIMIT (8 * FOLD_AFTER)


/* a rep's counters: rep_load plus the live journal rows */
typedef struct LoadRow
{
	int64		rep;
	int64		open;
	int64		assigned;		/* on the day asked for */
} LoadRow;

static int
CompareLoadRow(const void *a, const void *b)
{
	int64		x = ((const LoadRow *) a)->rep,
				y = ((const LoadRow *) b)->rep;

	return x < y ? -1 : x > y;
}

/*
 * The relation that holds an org's rows of a table.  On one node it is the
 * table itself.  On a Citus node where the table is distributed (by org_id,
 * leadmgmt.distribute()), the table is an empty shell and the org's rows
 * live in one shard, a table named <table>_<shard id> in the same schema;
 * the engine reads and writes that shard.  The functions that call the
 * engine are delegated to the node that holds the org, so its shard is
 * local there; anywhere else the call is refused (0A000), first of all by
 * check_org_engine, before the caller does any work.
 */
Oid
EngineShard(Oid relid, const char *name, int64 org)
{
	Oid			argtypes[2] = {OIDOID, INT8OID};
	Datum		args[2] = {ObjectIdGetDatum(relid), Int64GetDatum(org)};
	int64		shard = 0;
	bool		found = false;
	char		shardname[NAMEDATALEN + 24];
	Oid			shardrel;

	/* no Citus in this database: nothing is distributed */
	if (!OidIsValid(get_relname_relid("pg_dist_partition", PG_CATALOG_NAMESPACE)))
		return relid;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT pg_catalog.get_shard_id_for_distribution_column(p.logicalrelid, $2)"
							  "  FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = $1",
							  2, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not look up the shard of leadmgmt.%s", name);
	if (SPI_processed == 1)
	{
		bool		isnull;

		shard = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		found = !isnull;
	}
	SPI_finish();
	if (!found)
		return relid;			/* not distributed (or a reference table) */
	snprintf(shardname, sizeof(shardname), "%s_" INT64_FORMAT, name, shard);
	shardrel = get_relname_relid(shardname, get_rel_namespace(relid));
	if (!OidIsValid(shardrel))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("the rows of org " INT64_FORMAT " of leadmgmt.%s are not on this node", org, name),
				 errhint("Call the assignment functions alone with the org as a constant, e.g. "
						 "SELECT * FROM leadmgmt.assign_pending(2), which Citus delegates to the node "
						 "that holds the org (leadmgmt.distribute()).")));
	return shardrel;
}

/*
 * The relation holding an org's rows of an engine table (EngineShard), after
 * checking that the current user has the right mode on the table and, where
 * row-level security applies to the user and *checked is false, that it may
 * run the engine for the org (check_org_engine: 42501 before 0A000, so that
 * a role without the right is told so on every node)
 */
static Oid
EngineRelid(const char *name, AclMode mode, int64 org, bool *checked)
{
	Oid			relid = get_relname_relid(name, get_namespace_oid("leadmgmt", false));
	AclResult	acl;

	if (!OidIsValid(relid))
		elog(ERROR, "table leadmgmt.%s does not exist", name);
	acl = pg_class_aclcheck(relid, GetUserId(), mode);
	if (acl != ACLCHECK_OK)
		aclcheck_error(acl, OBJECT_TABLE, name);
	if (!*checked && check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
	{
		Oid			argtypes[1] = {INT8OID};
		Oid			fn = LookupFuncName(list_make2(makeString("leadmgmt"), makeString("check_org_engine")),
										1, argtypes, false);

		OidFunctionCall1(fn, Int64GetDatum(org));
		*checked = true;
	}
	return EngineShard(relid, name, org);
}

void
EngineOpen(EngineRel *er, const char *name, const char *const *cols, int ncols, int64 org, bool *checked)
{
	Oid			relid = EngineRelid(name, ACL_SELECT, org, checked);
	int			i;

	er->rel = table_open(relid, AccessShareLock);
	er->desc = RelationGetDescr(er->rel);
	Assert(ncols <= (int) lengthof(er->att));
	for (i = 0; i < ncols; i++)
	{
		er->att[i] = get_attnum(relid, cols[i]);
		if (er->att[i] == InvalidAttrNumber)
			elog(ERROR, "column leadmgmt.%s.%s does not exist", name, cols[i]);
	}
}

/* an engine table's primary key (org_id first), after the relcache has looked its indexes up */
static Oid
EnginePk(EngineRel *er)
{
	list_free(RelationGetIndexList(er->rel));
	return er->rel->rd_pkindex;
}

/* the scan key on org_id */
static void
EngineOrgKey(EngineRel *er, int64 org, ScanKeyData *key)
{
	ScanKeyInit(key, get_attnum(RelationGetRelid(er->rel), "org_id"), BTEqualStrategyNumber, F_INT8EQ,
				Int64GetDatum(org));
}

/*
 * A scan of the org's rows of an engine table, by its primary key; with
 * after_att, only rows whose column after_att (the key's second column) is
 * above after.
 */
SysScanDesc
EngineScan(EngineRel *er, int64 org, Snapshot snap, ScanKeyData *key, AttrNumber after_att, int64 after)
{
	Oid			pk = EnginePk(er);

	EngineOrgKey(er, org, &key[0]);
	if (after_att != InvalidAttrNumber)
		ScanKeyInit(&key[1], after_att, BTGreaterStrategyNumber, F_INT8GT, Int64GetDatum(after));
	return systable_beginscan(er->rel, pk, OidIsValid(pk), snap, after_att != InvalidAttrNumber ? 2 : 1, key);
}

void
EngineClose(EngineRel *er, SysScanDesc scan)
{
	systable_endscan(scan);
	table_close(er->rel, AccessShareLock);
}

Datum
EngineAttr(EngineRel *er, HeapTuple tup, int col)
{
	bool		isnull;
	Datum		d = heap_getattr(tup, er->att[col], er->desc, &isnull);

	if (isnull)
		elog(ERROR, "a column of leadmgmt.%s is null", RelationGetRelationName(er->rel));
	return d;
}

/* the elements of a one-dimensional int8[] (int4[] when int4) column without nulls, in place */
static void *
EngineArray(EngineRel *er, HeapTuple tup, int col, bool int4, int *n)
{
	ArrayType  *a = DatumGetArrayTypeP(EngineAttr(er, tup, col));

	if (ARR_NDIM(a) > 1 || ARR_HASNULL(a) || ARR_ELEMTYPE(a) != (int4 ? INT4OID : INT8OID))
		elog(ERROR, "leadmgmt.%s holds an array of the wrong shape", RelationGetRelationName(er->rel));
	*n = ARR_NDIM(a) == 0 ? 0 : ARR_DIMS(a)[0];
	return ARR_DATA_PTR(a);
}

/*
 * The journal as one scan saw it: each live row (its pick number, the
 * transaction that inserted it while that is in flight, else invalid) and
 * its parts.
 */
typedef struct JRow
{
	int64		pick_no;
	ItemPointerData tid;		/* the row version, to tell it again */
	TransactionId xmin;			/* with its inserting transaction */
	TransactionId xid;			/* in flight: the inserting transaction */
	bool		today;
	int			off;			/* its parts: parts[off .. off + n) */
	int			n;
} JRow;

typedef struct JPart
{
	int64		rep;
	int64		current;
	int64		last;
	int64		taken;
} JPart;

typedef struct Journal
{
	JRow	   *rows;
	int			nrows,
				caprows;
	JPart	   *parts;
	int			nparts,
				capparts;
} Journal;

typedef struct EngineState
{
	Slot	   *slots;			/* base rotation plus journal, sorted by id */
	int			nslots;
	int64		picks;
	LoadRow    *load;			/* sorted by rep */
	int			nload;
	bool		pending;		/* rep_load_change has rows for the org */
	int			settled;		/* journal rows of finished transactions (or ours) */
	Journal		journal;		/* the journal rows counted */
} EngineState;

static LoadRow *
FindLoad(EngineState *st, int64 rep)
{
	LoadRow		key;

	if (st->nload == 0)
		return NULL;			/* st->load may be NULL then: bsearch must not see it */
	key.rep = rep;
	return bsearch(&key, st->load, st->nload, sizeof(LoadRow), CompareLoadRow);
}

/*
 * The org's live journal rows above pick number after (all: 0), read with a
 * dirty snapshot: in flight or settled; appended to j.  A row another call
 * is still writing (a speculative insertion not yet confirmed, see
 * JournalPublish) is waited for, as INSERT ... ON CONFLICT waits for one,
 * for the few microseconds until it is confirmed or killed; then the rows are
 * read again.  The read runs from the highest pick number down
 * (JournalNothingNew relies on it); the rows are appended in ascending order.
 */
static void
JournalScan(int64 org, DateADT today, int64 after, Journal *j, bool *checked)
{
	static const char *const pick_cols[] = {"pick_no", "day", "rep_ids", "current_delta", "last_picks", "taken"};
	SnapshotData dirty;
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;
	EngineRel	er;
	Relation	pk;
	TransactionId wait_xid;
	uint32		wait_token;
	int			nrows0 = j->nrows,
				nparts0 = j->nparts,
				k;

again:
	j->nrows = nrows0;
	j->nparts = nparts0;
	wait_xid = InvalidTransactionId;
	wait_token = 0;
	InitDirtySnapshot(dirty);
	EngineOpen(&er, "assign_pick", pick_cols, 6, org, checked);
	if (!OidIsValid(EnginePk(&er)))
		elog(ERROR, "table leadmgmt.assign_pick has no primary key");
	pk = index_open(er.rel->rd_pkindex, AccessShareLock);
	EngineOrgKey(&er, org, &key[0]);
	ScanKeyInit(&key[1], er.att[0], BTGreaterStrategyNumber, F_INT8GT, Int64GetDatum(after));
	scan = systable_beginscan_ordered(er.rel, pk, &dirty, 2, key);
	while (HeapTupleIsValid(tup = systable_getnext_ordered(scan, BackwardScanDirection)))
	{
		int			n1,
					n2,
					n3,
					n4,
					i;
		const int64 *id,
				   *cur,
				   *last;
		const int32 *taken;
		JRow	   *r;

		if (dirty.speculativeToken != 0)
		{
			wait_xid = dirty.xmin;
			wait_token = dirty.speculativeToken;
			break;
		}
		id = EngineArray(&er, tup, 2, false, &n1);
		cur = EngineArray(&er, tup, 3, false, &n2);
		last = EngineArray(&er, tup, 4, false, &n3);
		taken = EngineArray(&er, tup, 5, true, &n4);
		if (n1 != n2 || n1 != n3 || n1 != n4)
			elog(ERROR, "a leadmgmt.assign_pick row of org " INT64_FORMAT " has arrays of different lengths", org);
		if (j->nrows == j->caprows)
		{
			j->caprows = Max(64, j->caprows * 2);
			j->rows = j->rows ? repalloc(j->rows, sizeof(JRow) * j->caprows) : palloc(sizeof(JRow) * j->caprows);
		}
		if (j->nparts + n1 > j->capparts)
		{
			j->capparts = Max(j->capparts * 2, j->nparts + n1 + 256);
			j->parts = j->parts ? repalloc(j->parts, sizeof(JPart) * j->capparts) : palloc(sizeof(JPart) * j->capparts);
		}
		r = &j->rows[j->nrows++];
		r->pick_no = DatumGetInt64(EngineAttr(&er, tup, 0));
		r->tid = tup->t_self;
		r->xmin = HeapTupleHeaderGetRawXmin(tup->t_data);
		/* the dirty snapshot names the inserting transaction while it is in flight */
		r->xid = dirty.xmin;
		r->today = DatumGetDateADT(EngineAttr(&er, tup, 1)) == today;
		r->off = j->nparts;
		r->n = n1;
		for (i = 0; i < n1; i++)
		{
			JPart	   *p = &j->parts[j->nparts++];

			p->rep = id[i];
			p->current = cur[i];
			p->last = last[i];
			p->taken = taken[i];
		}
	}
	systable_endscan_ordered(scan);
	index_close(pk, AccessShareLock);
	table_close(er.rel, AccessShareLock);
	if (TransactionIdIsValid(wait_xid))
	{
		SpeculativeInsertionWait(wait_xid, wait_token);
		CHECK_FOR_INTERRUPTS();
		goto again;
	}
	/* ascending */
	for (k = 0; k < (j->nrows - nrows0) / 2; k++)
	{
		JRow		t = j->rows[nrows0 + k];

		j->rows[nrows0 + k] = j->rows[j->nrows - 1 - k];
		j->rows[j->nrows - 1 - k] = t;
	}
}

/*
 * Add a rotation delta to rep's slot in the state; a rep new to the slots is
 * inserted in id order.  The base rotation and every journal row are counted
 * so.
 */
static void
StateAddSlot(EngineState *st, int64 rep, int64 current, int64 last)
{
	int			at = AssignFindSlot(st->slots, st->nslots, rep);

	if (at < 0)
	{
		st->slots = repalloc(st->slots, sizeof(Slot) * (st->nslots + 1));
		for (at = st->nslots; at > 0 && st->slots[at - 1].id > rep; at--)
			st->slots[at] = st->slots[at - 1];
		st->slots[at].id = rep;
		st->slots[at].current = 0;
		st->slots[at].last = 0;
		st->nslots++;
	}
	st->slots[at].current += current;
	st->slots[at].last = Max(st->slots[at].last, last);
}

/*
 * Count a journal row in the state: its rotation deltas in the slots, its
 * leads in the counters, its pick number in the picks.  EngineRead counts
 * every row so, JournalCatchUp those that came since.
 */
static void
StateAddRow(EngineState *st, const JRow *r)
{
	int			i;

	if (!TransactionIdIsValid(r->xid))
		st->settled++;
	st->picks = Max(st->picks, r->pick_no);
	for (i = 0; i < r->n; i++)
	{
		const JPart *p = &st->journal.parts[r->off + i];
		LoadRow    *l;

		StateAddSlot(st, p->rep, p->current, p->last);
		if (p->taken && (l = FindLoad(st, p->rep)) != NULL)
		{
			l->open += p->taken;
			if (r->today)
				l->assigned += p->taken;
		}
	}
}

/* a row read while its transaction was in flight, which has rolled back since */
static bool
RowAborted(const JRow *r)
{
	return TransactionIdIsValid(r->xid) &&
		!TransactionIdIsInProgress(r->xid) && !TransactionIdDidCommit(r->xid);
}

static bool JournalUnchanged(int64 org, ItemPointer mine, const Journal *seen, bool *checked);

/*
 * True when no row but the row at mine is above the highest row seen
 * (confirmed or still being written), and that row still stands: then the
 * journal holds no live row this call did not count.  For a row C unseen
 * below the top T: C was written after the descending read passed it, so
 * after T was confirmed; C's call read before T was confirmed, since it did
 * not count it, and its own check, made after C was written, met T above its
 * top and killed C.  When T has aborted since, the whole journal is
 * compared (JournalUnchanged).
 */
static bool
JournalNothingNew(int64 org, ItemPointer mine, const Journal *seen, bool *checked)
{
	static const char *const pick_cols[] = {"pick_no"};
	const JRow *top = seen->nrows > 0 ? &seen->rows[seen->nrows - 1] : NULL;
	SnapshotData dirty;
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;
	EngineRel	er;
	bool		clear = true;

	InitDirtySnapshot(dirty);
	EngineOpen(&er, "assign_pick", pick_cols, 1, org, checked);
	scan = EngineScan(&er, org, &dirty, key, er.att[0], top ? top->pick_no : 0);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
		if (!ItemPointerEquals(&tup->t_self, mine))
		{
			clear = false;
			break;
		}
	EngineClose(&er, scan);
	if (!clear)
		return false;
	if (top && RowAborted(top))
		return JournalUnchanged(org, mine, seen, checked);
	return true;
}

/*
 * True when the org's live journal rows other than the row at mine are
 * rows that seen holds, the same versions (some of those may have gone
 * since: aborted transactions take their rows with them).  A row seen does
 * not hold, or another call's unconfirmed row, is a call this one did not
 * count.
 */
static bool
JournalUnchanged(int64 org, ItemPointer mine, const Journal *seen, bool *checked)
{
	static const char *const pick_cols[] = {"pick_no"};
	SnapshotData dirty;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	EngineRel	er;
	bool		same = true;
	int			i = 0;

	InitDirtySnapshot(dirty);
	EngineOpen(&er, "assign_pick", pick_cols, 1, org, checked);
	scan = EngineScan(&er, org, &dirty, &key, InvalidAttrNumber, 0);
	while (same && HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		int64		pick_no;
		int			k;

		if (ItemPointerEquals(&tup->t_self, mine))
			continue;
		if (dirty.speculativeToken != 0)
		{
			same = false;		/* a call deciding beside this one */
			break;
		}
		/* both reads run in pick number order */
		pick_no = DatumGetInt64(EngineAttr(&er, tup, 0));
		while (i < seen->nrows && seen->rows[i].pick_no < pick_no)
			i++;
		same = false;
		for (k = i; k < seen->nrows && seen->rows[k].pick_no == pick_no; k++)
			if (ItemPointerEquals(&seen->rows[k].tid, &tup->t_self) &&
				seen->rows[k].xmin == HeapTupleHeaderGetRawXmin(tup->t_data))
				same = true;
	}
	EngineClose(&er, scan);
	return same;
}

/*
 * Read the org's state: the base (rotation and counters) with a fresh
 * snapshot, the journal with a dirty one.  The caller holds the org's
 * assignment lock, in share mode at least, so no fold, claim, release or
 * recycling is in flight.  want_slots: also the rotation.
 */
static void
EngineRead(int64 org, DateADT today, bool want_slots, EngineState *st)
{
	static const char *const rot_cols[] = {"rep_ids", "current_weights", "last_picks", "picks"};
	static const char *const load_cols[] = {"rep_id", "open_leads", "counted_day", "assigned_today"};
	Snapshot	snap = RegisterSnapshot(GetLatestSnapshot());
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	EngineRel	er;
	bool		checked = false;
	int			i,
				k;

	memset(st, 0, sizeof(*st));
	st->slots = palloc(sizeof(Slot));

	/* the base rotation */
	if (want_slots)
	{
		EngineOpen(&er, "assign_rotation", rot_cols, 4, org, &checked);
		scan = EngineScan(&er, org, snap, &key, InvalidAttrNumber, 0);
		if (HeapTupleIsValid(tup = systable_getnext(scan)))
		{
			int			n1,
						n2,
						n3;
			const int64 *id = EngineArray(&er, tup, 0, false, &n1);
			const int64 *cur = EngineArray(&er, tup, 1, false, &n2);
			const int64 *last = EngineArray(&er, tup, 2, false, &n3);

			if (n1 != n2 || n1 != n3)
				elog(ERROR, "leadmgmt.assign_rotation of org " INT64_FORMAT " has arrays of different lengths", org);
			st->picks = DatumGetInt64(EngineAttr(&er, tup, 3));
			for (i = 0; i < n1; i++)
				StateAddSlot(st, id[i], cur[i], last[i]);
		}
		EngineClose(&er, scan);
	}

	/* the counters */
	EngineOpen(&er, "rep_load", load_cols, 4, org, &checked);
	scan = EngineScan(&er, org, snap, &key, InvalidAttrNumber, 0);
	k = 0;
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		LoadRow    *l;

		if (st->nload == k)
		{
			k = Max(32, k * 2);
			st->load = st->load ? repalloc(st->load, sizeof(LoadRow) * k) : palloc(sizeof(LoadRow) * k);
		}
		l = &st->load[st->nload++];
		l->rep = DatumGetInt64(EngineAttr(&er, tup, 0));
		l->open = DatumGetInt32(EngineAttr(&er, tup, 1));
		l->assigned = DatumGetDateADT(EngineAttr(&er, tup, 2)) == today
			? DatumGetInt32(EngineAttr(&er, tup, 3)) : 0;
	}
	EngineClose(&er, scan);
	if (st->nload > 1)
		qsort(st->load, st->nload, sizeof(LoadRow), CompareLoadRow);

	/* changes of open leads made outside the engine, waiting to be folded */
	EngineOpen(&er, "rep_load_change", NULL, 0, org, &checked);
	scan = EngineScan(&er, org, snap, &key, InvalidAttrNumber, 0);
	st->pending = HeapTupleIsValid(systable_getnext(scan));
	EngineClose(&er, scan);
	UnregisterSnapshot(snap);

	/* the journal counted in */
	JournalScan(org, today, 0, &st->journal, &checked);
	for (i = 0; i < st->journal.nrows; i++)
		StateAddRow(st, &st->journal.rows[i]);
}

/*
 * After a conflict: bring the state read to the journal as it is now,
 * without reading it again.  The rows above the highest one counted are read
 * (descending, as JournalScan reads) and added.  The state stays right when
 * every row counted still stands: a row counted while in flight that has
 * aborted since may hide rows written after it that this call never saw,
 * so then it returns false and the state must be read again.  The base
 * cannot have changed: this call holds the assignment lock, and a fold takes
 * it in exclusive mode.
 */
static bool
JournalCatchUp(int64 org, DateADT today, EngineState *st)
{
	Journal    *j = &st->journal;
	int			n0 = j->nrows,
				i;
	bool		checked = true;

	JournalScan(org, today, n0 > 0 ? j->rows[n0 - 1].pick_no : 0, j, &checked);

	/* after the read, as JournalNothingNew checks the top after its own */
	for (i = 0; i < n0; i++)
	{
		if (RowAborted(&j->rows[i]))
			return false;
	}
	for (i = n0; i < j->nrows; i++)
		StateAddRow(st, &j->rows[i]);
	return true;
}

/*
 * With leadmgmt.verify_catch_up on (a setting for tests, check 49): the
 * state JournalCatchUp brought up to date equals the state read anew, when
 * the new read saw the same journal rows.  A difference is a bug.
 */
static void
VerifyCatchUp(int64 org, DateADT today, const EngineState *st)
{
	const char *on = GetConfigOption("leadmgmt.verify_catch_up", true, false);
	EngineState fresh;
	int			i;

	if (on == NULL || strcmp(on, "on") != 0)
		return;
	EngineRead(org, today, true, &fresh);
	if (fresh.journal.nrows != st->journal.nrows)
		return;					/* the journal moved on meanwhile */
	for (i = 0; i < fresh.journal.nrows; i++)
		if (!ItemPointerEquals(&fresh.journal.rows[i].tid, &st->journal.rows[i].tid))
			return;
	if (fresh.picks != st->picks || fresh.nslots != st->nslots || fresh.nload != st->nload)
		elog(ERROR, "the caught-up state of org " INT64_FORMAT " differs from the state read anew", org);
	for (i = 0; i < fresh.nslots; i++)
		if (fresh.slots[i].id != st->slots[i].id || fresh.slots[i].current != st->slots[i].current ||
			fresh.slots[i].last != st->slots[i].last)
			elog(ERROR, "the caught-up rotation of org " INT64_FORMAT " differs from the one read anew", org);
	for (i = 0; i < fresh.nload; i++)
		if (fresh.load[i].rep != st->load[i].rep || fresh.load[i].open != st->load[i].open ||
			fresh.load[i].assigned != st->load[i].assigned)
			elog(ERROR, "the caught-up counters of org " INT64_FORMAT " differ from the ones read anew", org);
}

static DateADT
DateArg(FunctionCallInfo fcinfo, int i)
{
	DateADT		d = PG_GETARG_DATEADT(i);

	if (DATE_NOT_FINITE(d))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the day must be finite")));
	return d;
}

/*
 * An org's advisory lock, as pg_advisory_xact_lock(hashtextextended(name,
 * org)) names it: 'leadmgmt.assign', the assignment lock; 'leadmgmt.fold',
 * held until commit by the call that goes to fold the journal.
 */
static void
AssignLockTag(LOCKTAG *tag, const char *name, int64 org)
{
	int64		key = DatumGetInt64(hash_any_extended((const unsigned char *) name, strlen(name), (uint64) org));

	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, (uint32) (key >> 32), (uint32) key, 1);
}

static bool
AssignLockHeld(LOCKTAG *tag)
{
#if PG_VERSION_NUM >= 170000
	return LockHeldByMe(tag, ExclusiveLock, false);
#else
	return LockHeldByMe(tag, ExclusiveLock);
#endif
}

/*
 * Publish the journal row: write it straight into assign_pick and its
 * primary key, as the catalogs are written (no executor, no triggers, which
 * it has none of; its checks hold by construction).  The caller needs INSERT
 * on it; row-level security was checked when the state was read.
 *
 * The row goes in as a speculative insertion, as INSERT ... ON CONFLICT
 * writes its rows: readers skip it until it is confirmed.  It is confirmed
 * only when nobody else holds its pick number, live or in flight (the
 * primary key's check, which does not wait), and, with seen, when the
 * journal holds no row but those seen (JournalNothingNew): then every other
 * live row was counted by this decision, and every later decision counts
 * this one.  Otherwise the row is killed at once, as a conflicting
 * ON CONFLICT insertion is, and false is returned: decide again.
 */
static bool
JournalPublish(int64 org, int64 pick_no, DateADT day, TimestampTz at,
			   const int64 *id, const int64 *cur, const int64 *last, const int64 *taken, int n,
			   const Journal *seen)
{
	static const char *const cols[] = {"org_id", "pick_no", "day", "at", "rep_ids", "current_delta", "last_picks", "taken"};
	bool		checked = true;
	Oid			relid = EngineRelid("assign_pick", ACL_INSERT, org, &checked);
	Relation	rel;
	TupleDesc	desc;
	Datum	   *values;
	bool	   *nulls;
	HeapTuple	tup;
	List	   *indexes;
	ListCell   *lc;
	TransactionId xid;
	bool		ok = true;
	int			i;

	rel = table_open(relid, RowExclusiveLock);
	desc = RelationGetDescr(rel);
	values = palloc0(sizeof(Datum) * desc->natts);
	nulls = palloc(sizeof(bool) * desc->natts);
	memset(nulls, true, sizeof(bool) * desc->natts);
	for (i = 0; i < (int) lengthof(cols); i++)
	{
		AttrNumber	att = get_attnum(relid, cols[i]);

		if (att == InvalidAttrNumber)
			elog(ERROR, "column leadmgmt.assign_pick.%s does not exist", cols[i]);
		nulls[att - 1] = false;
		switch (i)
		{
			case 0:
				values[att - 1] = Int64GetDatum(org);
				break;
			case 1:
				values[att - 1] = Int64GetDatum(pick_no);
				break;
			case 2:
				values[att - 1] = DateADTGetDatum(day);
				break;
			case 3:
				values[att - 1] = TimestampTzGetDatum(at);
				break;
			case 4:
				values[att - 1] = PointerGetDatum(AssignInt64Result((int64 *) id, NULL, n, INT8OID));
				break;
			case 5:
				values[att - 1] = PointerGetDatum(AssignInt64Result((int64 *) cur, NULL, n, INT8OID));
				break;
			case 6:
				values[att - 1] = PointerGetDatum(AssignInt64Result((int64 *) last, NULL, n, INT8OID));
				break;
			case 7:
				values[att - 1] = PointerGetDatum(AssignInt64Result((int64 *) taken, NULL, n, INT4OID));
				break;
		}
	}
	tup = heap_form_tuple(desc, values, nulls);
	xid = GetCurrentTransactionId();
	HeapTupleHeaderSetSpeculativeToken(tup->t_data, SpeculativeInsertionLockAcquire(xid));
	heap_insert(rel, tup, GetCurrentCommandId(true), HEAP_INSERT_SPECULATIVE, NULL);

	/* its indexes: plain columns only; a unique one answers without waiting */
	indexes = RelationGetIndexList(rel);
	foreach(lc, indexes)
	{
		Relation	irel = index_open(lfirst_oid(lc), RowExclusiveLock);
		IndexInfo  *ii = BuildIndexInfo(irel);
		Datum		iv[INDEX_MAX_KEYS];
		bool		in[INDEX_MAX_KEYS];
		int			k;

		if (ii->ii_Expressions != NIL || ii->ii_Predicate != NIL)
			elog(ERROR, "an index of leadmgmt.assign_pick has expressions or a predicate");
		for (k = 0; k < ii->ii_NumIndexAttrs; k++)
			iv[k] = heap_getattr(tup, ii->ii_IndexAttrNumbers[k], desc, &in[k]);
		if (!index_insert(irel, iv, in, &tup->t_self, rel,
						  ii->ii_Unique ? UNIQUE_CHECK_PARTIAL : UNIQUE_CHECK_NO,
#if PG_VERSION_NUM >= 140000
						  false,
#endif
						  ii) && ii->ii_Unique)
			ok = false;
		index_close(irel, RowExclusiveLock);
		if (!ok)
			break;
	}
	list_free(indexes);
	if (ok && seen != NULL)
		ok = JournalNothingNew(org, &tup->t_self, seen, &checked);
	if (ok)
		heap_finish_speculative(rel, &tup->t_self);
	else
		heap_abort_speculative(rel, &tup->t_self);
	SpeculativeInsertionLockRelease(xid);
	table_close(rel, RowExclusiveLock);
	return ok;
}

/* the arguments of one decision */
typedef struct EngineAsk
{
	int64		org;
	DateADT		today;
	TimestampTz at;
	bool		synced;
	Strategy	strategy;
	int			n;				/* the roster */
	int64	   *rid,
			   *rw,
			   *rdaily,
			   *rhold,
			   *rskill;
	int			nleads;			/* the leads */
	char	   *tiers;
	int64	   *excl;
	bool	   *exclnull;
	bool		fold_later;		/* another call has the fold in hand */
} EngineAsk;

typedef enum
{
	DECIDED,					/* published, or nothing to publish */
	NEEDS_SYNC,					/* a fold must come first */
	FOLD_DUE,					/* a fold is due; the decision could go on without it */
	CONFLICT					/* another call published first: decide again */
} Decision;

/*
 * One attempt at the decision: read the state (fresh; else st was read and
 * brought up to date by JournalCatchUp), plan, publish.  validate:
 * others may be deciding beside this call (it holds the lock in share
 * mode), so its row is confirmed only if the journal did not change under it.
 * Fills lead_rep and lead_null, and *assigned.
 */
static Decision
EngineDecide(EngineAsk *ask, EngineState *st, bool fresh, bool validate, int64 *lead_rep, bool *lead_null,
			 int32 *assigned)
{
	Slot	   *slots,
			   *before;
	Rep		   *reps;
	int64	   *eid,
			   *ew,
			   *eopen,
			   *eroom,
			   *eskill;
	int64		picks;
	int			i,
				m,
				nslots;
	bool		ok = true;

	if (fresh)
		EngineRead(ask->org, ask->today, true, st);

	/* the roster's reps with counters; the others need a fold, or drop out */
	eid = palloc(sizeof(int64) * Max(ask->n, 1));
	ew = palloc(sizeof(int64) * Max(ask->n, 1));
	eopen = palloc(sizeof(int64) * Max(ask->n, 1));
	eroom = palloc(sizeof(int64) * Max(ask->n, 1));
	eskill = palloc(sizeof(int64) * Max(ask->n, 1));
	m = 0;
	for (i = 0; i < ask->n; i++)
	{
		LoadRow    *l = FindLoad(st, ask->rid[i]);

		if (l == NULL)
		{
			if (!ask->synced)
				return NEEDS_SYNC;
			continue;
		}
		eid[m] = ask->rid[i];
		ew[m] = ask->rw[i];
		eopen[m] = l->open;
		eroom[m] = Min(ask->rdaily[i] - l->assigned, ask->rhold[i] - l->open);
		eskill[m] = ask->rskill[i];
		m++;
	}
	if (!ask->synced && st->pending)
		return NEEDS_SYNC;
	if (!ask->synced && st->settled >= (ask->fold_later ? FOLD_LIMIT : FOLD_AFTER))
		return FOLD_DUE;

	/* the slots, and a copy to tell what the plan moved */
	slots = palloc(sizeof(Slot) * (st->nslots + m + 1));
	memcpy(slots, st->slots, sizeof(Slot) * st->nslots);
	nslots = AssignAddRepSlots(slots, st->nslots, eid, m);
	before = palloc(sizeof(Slot) * (nslots + 1));
	memcpy(before, slots, sizeof(Slot) * nslots);
	reps = AssignMakeReps(slots, nslots, eid, ew, eopen, eroom, eskill, m);

	picks = AssignPlanLeads(ask->strategy, slots, reps, m, ask->tiers, ask->nleads, ask->excl, ask->exclnull,
					  st->picks, lead_rep, lead_null);
	*assigned = (int32) (picks - st->picks);

	if (picks != st->picks)
	{
		/* the journal row: what moved, in slot (rep id) order */
		int64	   *jid = palloc(sizeof(int64) * nslots),
				   *jcur = palloc(sizeof(int64) * nslots),
				   *jlast = palloc(sizeof(int64) * nslots),
				   *jtaken = palloc0(sizeof(int64) * nslots);
		int			nj = 0;

		for (i = 0; i < m; i++)
			jtaken[reps[i].slot] = reps[i].taken;
		for (i = 0; i < nslots; i++)
		{
			if (slots[i].current == before[i].current && slots[i].last == before[i].last && jtaken[i] == 0)
				continue;
			jid[nj] = slots[i].id;
			jcur[nj] = slots[i].current - before[i].current;
			jlast[nj] = slots[i].last != before[i].last ? slots[i].last : 0;
			jtaken[nj] = jtaken[i];
			nj++;
		}
		ok = JournalPublish(ask->org, picks, ask->today, ask->at, jid, jcur, jlast, jtaken, nj,
							validate ? &st->journal : NULL);
	}
	return ok ? DECIDED : CONFLICT;
}

/* tries before a call decides under the lock in exclusive mode */
#define SHARED_TRIES 4
/* calls with more leads decide under the lock in exclusive mode at once */
#define SHARED_MAX_LEADS 32

/*
 * engine_assign(org_id bigint, today date, at timestamptz, synced boolean, strategy text,
 *               rep_ids bigint[], weights int[], daily_caps int[], holding_caps int[], skills int[],
 *               lead_tiers text, lead_excluded bigint[],
 *               OUT needs_sync boolean, OUT lead_rep_ids bigint[], OUT assigned integer)
 *
 * The decision: reads the state, plans the leads for the roster's reps as
 * plan_assignments does and publishes the journal row; returns the rep of
 * each lead and how many got one.
 *
 * It holds the org's assignment lock while it decides and releases it after,
 * in share mode: calls decide side by side, optimistically, and a call whose
 * row conflicts with another's (JournalPublish) decides again, on its state
 * brought up to date with the rows that came first (JournalCatchUp).  After
 * SHARED_TRIES conflicts, or for a batch of more than SHARED_MAX_LEADS
 * leads, it decides under the lock in exclusive mode, where nothing can
 * conflict.  What takes the lock in exclusive mode until commit (a fold,
 * claim, release, recycling) never runs beside a decision.
 *
 * Unless synced, it first asks for a fold (needs_sync, holding the lock in
 * exclusive mode, nothing else) when a roster rep has no counters yet,
 * open-lead changes wait, or FOLD_AFTER journal rows have settled; in the
 * last case only the call that gets the fold lock asks, the others decide on
 * until FOLD_LIMIT rows have settled.  synced:
 * the caller holds the lock in exclusive mode and has folded (rep_load_sync)
 * in this transaction; the lock stays until commit, and reps still without
 * counters (deleted meanwhile) drop out.
 */
Datum
leadmgmt_engine_assign(PG_FUNCTION_ARGS)
{
	EngineAsk	ask;
	int			i,
				j,
				tries;
	int64	   *lead_rep;
	bool	   *lead_null;
	int32		assigned = 0;
	LOCKTAG		tag;
	LOCKMODE	held = NoLock;	/* the lock mode this call took */
	EngineState st;
	bool		fresh = true;	/* read the state anew */
	Decision	d;
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	for (i = 0; i < 12; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("engine_assign arguments must not be null")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "engine_assign must return a composite type");
	tupdesc = BlessTupleDesc(tupdesc);

	ask.org = PG_GETARG_INT64(0);
	ask.today = DateArg(fcinfo, 1);
	ask.at = PG_GETARG_TIMESTAMPTZ(2);
	if (TIMESTAMP_NOT_FINITE(ask.at))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("at must be finite")));
	ask.synced = PG_GETARG_BOOL(3);
	ask.strategy = AssignParseStrategy(PG_GETARG_TEXT_PP(4));
	ask.rid = AssignInt64Array(PG_GETARG_ARRAYTYPE_P(5), "rep_ids", &ask.n, NULL);
	ask.rw = AssignInt64Array(PG_GETARG_ARRAYTYPE_P(6), "weights", &j, NULL);
	AssignCheckLength(j, ask.n, "weights", "rep_ids");
	ask.rdaily = AssignInt64Array(PG_GETARG_ARRAYTYPE_P(7), "daily_caps", &j, NULL);
	AssignCheckLength(j, ask.n, "daily_caps", "rep_ids");
	ask.rhold = AssignInt64Array(PG_GETARG_ARRAYTYPE_P(8), "holding_caps", &j, NULL);
	AssignCheckLength(j, ask.n, "holding_caps", "rep_ids");
	ask.rskill = AssignInt64Array(PG_GETARG_ARRAYTYPE_P(9), "skills", &j, NULL);
	AssignCheckLength(j, ask.n, "skills", "rep_ids");
	AssignParseLeads(PG_GETARG_TEXT_PP(10), PG_GETARG_ARRAYTYPE_P(11), &ask.tiers, &ask.nleads, &ask.excl, &ask.exclnull);
	lead_rep = palloc0(sizeof(int64) * Max(ask.nleads, 1));
	lead_null = palloc(sizeof(bool) * Max(ask.nleads, 1));

	AssignLockTag(&tag, "leadmgmt.assign", ask.org);
	ask.fold_later = false;
	if (ask.synced)
	{
		if (!AssignLockHeld(&tag))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("engine_assign with synced needs the assignment lock of org " INT64_FORMAT, ask.org),
					 errhint("Call it without synced first; it asks for rep_load_sync when it must.")));
	}
	else
	{
		held = ask.nleads > SHARED_MAX_LEADS ? ExclusiveLock : ShareLock;
		(void) LockAcquire(&tag, held, false, false);
	}

	for (tries = 1;;)
	{
		d = EngineDecide(&ask, &st, fresh, held == ShareLock, lead_rep, lead_null, &assigned);
		if (d == DECIDED)
			break;
		if (d == FOLD_DUE && held == ShareLock && !ask.fold_later)
		{
			LOCKTAG		fold;

			/*
			 * One call folds: the one that gets the fold lock, kept until
			 * commit.  The others that find the fold due meanwhile decide
			 * on, on the state they read, instead of each taking the
			 * assignment lock in exclusive mode in turn; they fold only when
			 * FOLD_LIMIT rows have settled.
			 */
			AssignLockTag(&fold, "leadmgmt.fold", ask.org);
			if (LockAcquire(&fold, ExclusiveLock, false, true) == LOCKACQUIRE_NOT_AVAIL)
			{
				ask.fold_later = true;
				fresh = false;
				continue;
			}
		}
		if (d == FOLD_DUE)
			d = NEEDS_SYNC;
		if (d == NEEDS_SYNC && held == ExclusiveLock)
		{
			/* the lock stays: the fold changes the base, so it is kept until commit */
			values[0] = BoolGetDatum(true);
			nulls[1] = nulls[2] = true;
			PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
		}
		if (held != ShareLock)
			elog(ERROR, "the journal row of org " INT64_FORMAT " conflicted under the exclusive lock", ask.org);
		if (d == NEEDS_SYNC || tries >= SHARED_TRIES)
		{
			/* look again alone: another call may have folded meanwhile */
			LockRelease(&tag, ShareLock, false);
			held = ExclusiveLock;
			(void) LockAcquire(&tag, held, false, false);
			fresh = true;
		}
		else
		{
			/* the calls that came first are above what this one read: add them */
			tries++;
			fresh = !JournalCatchUp(ask.org, ask.today, &st);
			if (!fresh)
				VerifyCatchUp(ask.org, ask.today, &st);
		}
		CHECK_FOR_INTERRUPTS();
	}
	/* the base did not change: the next decision may start now, it sees this one in the journal */
	if (held != NoLock)
		LockRelease(&tag, held, false);

	values[0] = BoolGetDatum(false);
	values[1] = PointerGetDatum(AssignInt64Result(lead_rep, lead_null, ask.nleads, INT8OID));
	values[2] = Int32GetDatum(assigned);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * engine_load(org_id bigint, today date, rep_id bigint,
 *             OUT open_leads integer, OUT assigned_today integer)
 *
 * A rep's counters as the engine sees them under the lock: rep_load plus the
 * picks of the journal, in flight or not.  NULLs when the rep has no row in
 * rep_load (rep_load_sync builds it).
 */
Datum
leadmgmt_engine_load(PG_FUNCTION_ARGS)
{
	EngineState st;
	LoadRow    *l;
	TupleDesc	tupdesc;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("engine_load arguments must not be null")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "engine_load must return a composite type");
	tupdesc = BlessTupleDesc(tupdesc);
	EngineRead(PG_GETARG_INT64(0), DateArg(fcinfo, 1), false, &st);
	l = FindLoad(&st, PG_GETARG_INT64(2));
	if (l == NULL)
		nulls[0] = nulls[1] = true;
	else
	{
		values[0] = Int32GetDatum((int32) Min(l->open, PG_INT32_MAX));
		values[1] = Int32GetDatum((int32) Min(l->assigned, PG_INT32_MAX));
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
