/*
 * access.c -- tenancy from role membership (docs/dba/security.md,
 * docs/reference/access.md).
 *
 * Since 0.11 a grant (access_grant row: role R may act for org O with kind K,
 * or as rep P) is also a membership: grant_access makes R a member of a group
 * role named for the grant, lm_<tag>_<O>_<K> or lm_<tag>_<O>_rep_<P>, where
 * <tag> is the first 8 hex digits of md5(current_database()), so that two
 * databases of one cluster never share a group.  The row-level security
 * policies call the functions below, which read no table: only the role
 * catalogs, by name.  Role names (unlike OIDs) are the same on every node of
 * a Citus cluster, which propagates roles and memberships, so a policy gives
 * the same answer on a worker's shard as on one node.
 *
 * acting_org_ids, my_rep_ids and sales_scope_org_ids keep their answer for
 * the rest of the query in fn_extra (keyed by the user and the
 * leadmgmt.org_id setting), so a policy evaluated for every row costs a
 * comparison, not a catalog walk.
 */
#include "leadmgmt.h"

#include "catalog/pg_auth_members.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_opfamily.h"
#include "catalog/pg_type.h"
#include "access/stratnum.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/supportnodes.h"
#include "optimizer/optimizer.h"
#include "parser/parse_func.h"
#include "commands/dbcommands.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/catcache.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(leadmgmt_acting_org_ids);
PG_FUNCTION_INFO_V1(leadmgmt_my_rep_ids);
PG_FUNCTION_INFO_V1(leadmgmt_sales_scope_org_ids);
PG_FUNCTION_INFO_V1(leadmgmt_grant_role_name);
PG_FUNCTION_INFO_V1(leadmgmt_is_acting_role);
PG_FUNCTION_INFO_V1(leadmgmt_caller_org_ids);
PG_FUNCTION_INFO_V1(leadmgmt_caller_rep_ids);
PG_FUNCTION_INFO_V1(leadmgmt_acts_for);
PG_FUNCTION_INFO_V1(leadmgmt_acts_for_support);

/* the kinds of access, as bits */
#define K_REPORTING 1
#define K_APP		2
#define K_SALES		4
#define K_ADMIN		8

static const char *const kind_names[] = {"reporting", "app", "sales", "admin"};

static int
KindBit(const char *s)
{
	int			i;

	for (i = 0; i < 4; i++)
		if (strcmp(s, kind_names[i]) == 0)
			return 1 << i;
	return 0;
}

/* "lm_<8 hex of md5(current_database())>_" */
static void
GroupPrefix(char *buf)
{
	char	   *db = get_database_name(MyDatabaseId);
	text	   *h;
	char	   *hex;

	if (db == NULL)
		elog(ERROR, "current database has no name");
	h = DatumGetTextPP(DirectFunctionCall1(md5_text, CStringGetTextDatum(db)));
	hex = text_to_cstring(h);
	snprintf(buf, 16, "lm_%.8s_", hex);
}

/* one org's kinds of access, and the reps a role acts as */
typedef struct Grants
{
	int			n;
	int			cap;
	int64	   *org;
	int		   *kinds;
	int			nrep;
	int			caprep;
	int64	   *rep_org;
	int64	   *rep;
} Grants;

static void
AddKind(Grants *g, int64 org, int kind)
{
	int			i;

	for (i = 0; i < g->n; i++)
		if (g->org[i] == org)
		{
			g->kinds[i] |= kind;
			return;
		}
	if (g->n == g->cap)
	{
		g->cap = g->cap ? g->cap * 2 : 8;
		g->org = g->org ? repalloc(g->org, g->cap * sizeof(int64)) : palloc(g->cap * sizeof(int64));
		g->kinds = g->kinds ? repalloc(g->kinds, g->cap * sizeof(int)) : palloc(g->cap * sizeof(int));
	}
	g->org[g->n] = org;
	g->kinds[g->n++] = kind;
}

static void
AddRep(Grants *g, int64 org, int64 rep)
{
	if (g->nrep == g->caprep)
	{
		g->caprep = g->caprep ? g->caprep * 2 : 8;
		g->rep_org = g->rep_org ? repalloc(g->rep_org, g->caprep * sizeof(int64)) : palloc(g->caprep * sizeof(int64));
		g->rep = g->rep ? repalloc(g->rep, g->caprep * sizeof(int64)) : palloc(g->caprep * sizeof(int64));
	}
	g->rep_org[g->nrep] = org;
	g->rep[g->nrep++] = rep;
}

/* a whole positive number of at most 18 digits, ending at *end */
static bool
ParseId(const char *s, const char **end, int64 *out)
{
	int64		v = 0;
	int			k = 0;

	while (s[k] >= '0' && s[k] <= '9' && k < 18)
		v = v * 10 + (s[k++] - '0');
	if (k == 0 || (s[k] >= '0' && s[k] <= '9'))
		return false;
	*out = v;
	*end = s + k;
	return true;
}

/*
 * The grants of a role: every group role named lm_<tag>_... that the role
 * has the privileges of (has_privs_of_role: membership with inheritance,
 * as pg_has_role(..., 'USAGE')), found by walking its memberships.
 */
static void
RoleGrants(Oid role, Grants *g)
{
	char		prefix[16];
	size_t		plen;
	List	   *seen = list_make1_oid(role);
	int			i;

	GroupPrefix(prefix);
	plen = strlen(prefix);
	memset(g, 0, sizeof(*g));
	for (i = 0; i < list_length(seen); i++)
	{
		CatCList   *members = SearchSysCacheList1(AUTHMEMMEMROLE, ObjectIdGetDatum(list_nth_oid(seen, i)));
		int			j;

		for (j = 0; j < members->n_members; j++)
		{
			Form_pg_auth_members m = (Form_pg_auth_members) GETSTRUCT(&members->members[j]->tuple);

			if (!list_member_oid(seen, m->roleid))
				seen = lappend_oid(seen, m->roleid);
		}
		ReleaseSysCacheList(members);
	}
	for (i = 1; i < list_length(seen); i++)
	{
		Oid			grp = list_nth_oid(seen, i);
		char	   *name = GetUserNameFromId(grp, true);
		const char *p;
		int64		org,
					rep;
		int			kind;

		if (name == NULL || strncmp(name, prefix, plen) != 0 || !has_privs_of_role(role, grp))
			continue;
		if (!ParseId(name + plen, &p, &org) || *p != '_')
			continue;
		p++;
		if (strncmp(p, "rep_", 4) == 0)
		{
			const char *q;

			if (ParseId(p + 4, &q, &rep) && *q == '\0')
			{
				AddKind(g, org, K_SALES);
				AddRep(g, org, rep);
			}
			continue;
		}
		kind = KindBit(p);
		if (kind != 0 && kind != K_SALES)
			AddKind(g, org, kind);
	}
}

/* leadmgmt.org_id as current_org() reads it: -1 when unset */
static int64
ChosenOrg(void)
{
	const char *v = GetConfigOption("leadmgmt.org_id", true, false);
	const char *end;
	int64		org;

	if (v == NULL || v[0] == '\0')
		return -1;
	if (!ParseId(v, &end, &org) || *end != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid leadmgmt.org_id setting \"%.40s\"", v),
				 errhint("Set it to the numeric id of an org, for example SET LOCAL leadmgmt.org_id = '1'.")));
	return org;
}

static int
CompareInt64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a,
				y = *(const int64 *) b;

	return x < y ? -1 : x > y;
}

/* a sorted bigint[] without duplicates */
static ArrayType *
IdArray(int64 *ids, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * (n > 0 ? n : 1));
	int			i,
				k = 0;

	if (n > 0)
		qsort(ids, n, sizeof(int64), CompareInt64);
	for (i = 0; i < n; i++)
		if (k == 0 || DatumGetInt64(d[k - 1]) != ids[i])
			d[k++] = Int64GetDatum(ids[i]);
	return construct_array(d, k, INT8OID, sizeof(int64), true, TYPALIGN_DOUBLE);
}

/*
 * The orgs of a kind mask: a grant counts when its kinds meet want and miss
 * unless; app access counts only for the org set in leadmgmt.org_id, and a
 * set org narrows every kind to it.
 */
static ArrayType *
OrgsOf(Grants *g, int64 chosen, int want, int unless)
{
	int64	   *ids = palloc(sizeof(int64) * (g->n > 0 ? g->n : 1));
	int			i,
				n = 0;

	for (i = 0; i < g->n; i++)
	{
		int			k = g->kinds[i];

		if (chosen < 0)
			k &= ~K_APP;
		else if (g->org[i] != chosen)
			continue;
		if ((k & want) != 0 && (k & unless) == 0)
			ids[n++] = g->org[i];
	}
	return IdArray(ids, n);
}

/*
 * The answer of one call site for the rest of the query, keyed by what it
 * depends on: the user, the leadmgmt.org_id setting as text, and the kinds
 * asked for (their array's bytes), so that a hit costs no parsing at all.
 */
typedef struct AccessCache
{
	Oid			user;
	char	   *setting;		/* NULL when unset */
	int			nkey;
	char	   *key;
	ArrayType  *result;
} AccessCache;

static ArrayType *
Cached(FunctionCallInfo fcinfo, Oid user, const char *key, int nkey)
{
	AccessCache *c = (AccessCache *) fcinfo->flinfo->fn_extra;
	const char *v;

	if (c == NULL || c->user != user || c->nkey != nkey || memcmp(c->key, key, nkey) != 0)
		return NULL;
	v = GetConfigOption("leadmgmt.org_id", true, false);
	if (v != NULL && v[0] == '\0')
		v = NULL;
	if ((v == NULL) != (c->setting == NULL) || (v != NULL && strcmp(v, c->setting) != 0))
		return NULL;
	return c->result;
}

static ArrayType *
Keep(FunctionCallInfo fcinfo, Oid user, const char *key, int nkey, ArrayType *a)
{
	MemoryContext cx = fcinfo->flinfo->fn_mcxt;
	AccessCache *c = (AccessCache *) fcinfo->flinfo->fn_extra;
	const char *v = GetConfigOption("leadmgmt.org_id", true, false);

	if (c == NULL)
		c = fcinfo->flinfo->fn_extra = MemoryContextAllocZero(cx, sizeof(AccessCache));
	else
	{
		if (c->setting)
			pfree(c->setting);
		if (c->key)
			pfree(c->key);
		if (c->result)
			pfree(c->result);
	}
	c->user = user;
	c->setting = (v != NULL && v[0] != '\0') ? MemoryContextStrdup(cx, v) : NULL;
	c->nkey = nkey;
	c->key = MemoryContextAlloc(cx, nkey > 0 ? nkey : 1);
	memcpy(c->key, key, nkey);
	c->result = MemoryContextAlloc(cx, VARSIZE(a));
	memcpy(c->result, a, VARSIZE(a));
	return c->result;
}

/*
 * The cached array itself: it lives in fn_mcxt for the query, and callers
 * (the policies' = ANY, plpgsql assignments) read or copy it, never change it.
 */
#define RETURN_ARRAY(a) PG_RETURN_ARRAYTYPE_P(a)

/* the orgs a user acts for with the kinds in a text[] (a sorted bigint[]) */
static ArrayType *
ActingOrgArray(FunctionCallInfo fcinfo, Oid user, ArrayType *kinds)
{
	ArrayType  *r = Cached(fcinfo, user, (const char *) kinds, VARSIZE(kinds));

	if (r == NULL)
	{
		Datum	   *elems;
		bool	   *nulls;
		int			n,
					i,
					mask = 0;
		int64		chosen = ChosenOrg();
		Grants		g;

		deconstruct_array(kinds, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
		for (i = 0; i < n; i++)
			if (!nulls[i])
			{
				char	   *s = TextDatumGetCString(elems[i]);

				mask |= KindBit(s);
				pfree(s);
			}
		RoleGrants(user, &g);
		r = Keep(fcinfo, user, (const char *) kinds, VARSIZE(kinds), OrgsOf(&g, chosen, mask, 0));
	}
	return r;
}

static Datum
ActingOrgs(FunctionCallInfo fcinfo, Oid user)
{
	RETURN_ARRAY(ActingOrgArray(fcinfo, user, PG_GETARG_ARRAYTYPE_P(0)));
}

/* the reps a user acts as */
static Datum
RepIds(FunctionCallInfo fcinfo, Oid user)
{
	ArrayType  *r = Cached(fcinfo, user, "", 0);
	Grants		g;

	if (r == NULL)
	{
		int64		chosen = ChosenOrg();
		int64	   *ids;
		int			i,
					n = 0;

		RoleGrants(user, &g);
		ids = palloc(sizeof(int64) * (g.nrep > 0 ? g.nrep : 1));
		for (i = 0; i < g.nrep; i++)
			if (chosen < 0 || g.rep_org[i] == chosen)
				ids[n++] = g.rep[i];
		r = Keep(fcinfo, user, "", 0, IdArray(ids, n));
	}
	RETURN_ARRAY(r);
}

/* acting_org_ids(kinds text[]) RETURNS bigint[], STRICT: for the current user */
Datum
leadmgmt_acting_org_ids(PG_FUNCTION_ARGS)
{
	return ActingOrgs(fcinfo, GetUserId());
}

/*
 * caller_org_ids(kinds text[]) RETURNS bigint[], STRICT: the same for the
 * caller of a SECURITY DEFINER function (the role set with SET ROLE, else the
 * session user), whose grants such a function checks
 */
Datum
leadmgmt_caller_org_ids(PG_FUNCTION_ARGS)
{
	return ActingOrgs(fcinfo, GetOuterUserId());
}

/* sales_scope_org_ids() RETURNS bigint[]: orgs with sales access only */
Datum
leadmgmt_sales_scope_org_ids(PG_FUNCTION_ARGS)
{
	ArrayType  *r = Cached(fcinfo, GetUserId(), "", 0);
	Grants		g;

	if (r == NULL)
	{
		int64		chosen = ChosenOrg();

		RoleGrants(GetUserId(), &g);
		r = Keep(fcinfo, GetUserId(), "", 0, OrgsOf(&g, chosen, K_SALES, K_REPORTING | K_APP | K_ADMIN));
	}
	RETURN_ARRAY(r);
}

/*
 * acts_for(org_id bigint, kinds text[]) RETURNS boolean, STRICT: org_id =
 * ANY (acting_org_ids(kinds)), for the row-level security policies (since
 * 0.15).  As a predicate of its own it has a planner support function
 * (acts_for_support): the planner takes it to keep every row, so a query's
 * own filters alone decide the row estimates, and it turns into the index
 * condition org_id = ANY (acting_org_ids(kinds)) on an index of org_id.  The
 * "= ANY" the policies used until 0.14 was estimated at a few per cent of
 * the rows, which after a BI tool's filters left an estimate of one row and
 * plans (nested loops over whole aggregates) that ran for minutes.
 */
Datum
leadmgmt_acts_for(PG_FUNCTION_ARGS)
{
	int64		org = PG_GETARG_INT64(0);
	ArrayType  *ids = ActingOrgArray(fcinfo, GetUserId(), PG_GETARG_ARRAYTYPE_P(1));
	int			n = ArrayGetNItems(ARR_NDIM(ids), ARR_DIMS(ids));
	const int64 *v = (const int64 *) ARR_DATA_PTR(ids);
	int			lo = 0,
				hi = n - 1;

	/* IdArray: sorted, no NULLs, no duplicates */
	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (v[mid] == org)
			PG_RETURN_BOOL(true);
		if (v[mid] < org)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	PG_RETURN_BOOL(false);
}

/* acts_for_support(internal) RETURNS internal: selectivity, cost, index condition */
Datum
leadmgmt_acts_for_support(PG_FUNCTION_ARGS)
{
	Node	   *req = (Node *) PG_GETARG_POINTER(0);

	if (IsA(req, SupportRequestSelectivity))
	{
		SupportRequestSelectivity *r = (SupportRequestSelectivity *) req;

		/* the rows a role may read: all, as far as the plan is concerned */
		r->selectivity = 1.0;
		PG_RETURN_POINTER(r);
	}
	if (IsA(req, SupportRequestCost))
	{
		SupportRequestCost *r = (SupportRequestCost *) req;

		/* a binary search in the call site's kept array */
		r->startup = 0;
		r->per_tuple = 2 * cpu_operator_cost;
		PG_RETURN_POINTER(r);
	}
	if (IsA(req, SupportRequestIndexCondition))
	{
		SupportRequestIndexCondition *r = (SupportRequestIndexCondition *) req;
		FuncExpr   *f = (FuncExpr *) r->node;
		Oid			argtypes[1] = {TEXTARRAYOID};
		Oid			fn;
		Oid			eq = get_opfamily_member(INTEGER_BTREE_FAM_OID, INT8OID, INT8OID, BTEqualStrategyNumber);
		ScalarArrayOpExpr *sa;

		/* the policies pass the kinds as a constant; anything else (a column
		 * of the same table, say) cannot be an index condition */
		if (!IsA(f, FuncExpr) || list_length(f->args) != 2 || r->indexarg != 0
			|| r->opfamily != INTEGER_BTREE_FAM_OID || exprType(linitial(f->args)) != INT8OID
			|| !IsA(lsecond(f->args), Const))
			PG_RETURN_POINTER(NULL);
		fn = LookupFuncName(list_make2(makeString("leadmgmt"), makeString("acting_org_ids")), 1, argtypes, true);
		if (!OidIsValid(fn) || !OidIsValid(eq))
			PG_RETURN_POINTER(NULL);
		sa = makeNode(ScalarArrayOpExpr);
		sa->opno = eq;
		sa->opfuncid = get_opcode(eq);
		sa->useOr = true;
		sa->inputcollid = InvalidOid;
		sa->args = list_make2(copyObject(linitial(f->args)),
							  makeFuncExpr(fn, INT8ARRAYOID, list_make1(copyObject(lsecond(f->args))),
										   InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL));
		sa->location = -1;
		r->lossy = false;
		PG_RETURN_POINTER(list_make1(sa));
	}
	PG_RETURN_POINTER(NULL);
}

/* my_rep_ids() RETURNS bigint[]: the reps the current user acts as */
Datum
leadmgmt_my_rep_ids(PG_FUNCTION_ARGS)
{
	return RepIds(fcinfo, GetUserId());
}

/* caller_rep_ids() RETURNS bigint[]: the reps the caller acts as (see caller_org_ids) */
Datum
leadmgmt_caller_rep_ids(PG_FUNCTION_ARGS)
{
	return RepIds(fcinfo, GetOuterUserId());
}

/*
 * grant_role_name(org_id bigint, access text, rep_id bigint) RETURNS name,
 * CALLED ON NULL INPUT: the group role of a grant.  22004 for a NULL org or
 * access, 22023 for an unknown kind or a rep given or missing wrongly.
 */
Datum
leadmgmt_grant_role_name(PG_FUNCTION_ARGS)
{
	char		prefix[16];
	char	   *kind;
	char		buf[NAMEDATALEN + 64];
	Name		result = (Name) palloc0(NAMEDATALEN);
	int			bit;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("org_id and access must not be null")));
	kind = TextDatumGetCString(PG_GETARG_DATUM(1));
	bit = KindBit(kind);
	if (bit == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid access \"%.*s\"", LmEchoLen(kind, strlen(kind)), kind),
				 errhint("Valid kinds: reporting, app, sales, admin.")));
	if ((bit == K_SALES) != !PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rep_id must be given for sales access, and only for it")));
	if (PG_GETARG_INT64(0) < 0 || (bit == K_SALES && PG_GETARG_INT64(2) < 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("org and rep ids of a grant are not negative")));
	GroupPrefix(prefix);
	if (bit == K_SALES)
		snprintf(buf, sizeof(buf), "%s" INT64_FORMAT "_rep_" INT64_FORMAT, prefix, PG_GETARG_INT64(0),
				 PG_GETARG_INT64(2));
	else
		snprintf(buf, sizeof(buf), "%s" INT64_FORMAT "_%s", prefix, PG_GETARG_INT64(0), kind);
	strlcpy(NameStr(*result), buf, NAMEDATALEN);
	PG_RETURN_NAME(result);
}

/* is_acting_role(role_name name) RETURNS boolean, STRICT: the current role has its privileges */
Datum
leadmgmt_is_acting_role(PG_FUNCTION_ARGS)
{
	Oid			r = get_role_oid(NameStr(*PG_GETARG_NAME(0)), true);

	PG_RETURN_BOOL(OidIsValid(r) && has_privs_of_role(GetUserId(), r));
}
