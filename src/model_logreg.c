/*
 * src/model_logreg.c
 *
 * Logistic regression by iteratively reweighted least squares (Newton's
 * method), in the manner of MADlib's logregr_train: each iteration is one
 * pass of the logreg_step aggregate, which sums, for the current
 * coefficients, the log-likelihood, the gradient X'(y - mu) and the Hessian
 * X'WX over the rows; logreg_newton solves for the next coefficients, and
 * logreg_model_stats turns the final pass into standard errors, z, p-values
 * and the condition number.  The state is a plain float8[] (combinable in
 * parallel workers and on Citus, whose text form is exact).
 *
 * Also the evaluation aggregates log_loss and calibration (AUC lives with
 * the sorted-record store in survival.c).
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/float.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

#include "leadmgmt.h"

PG_FUNCTION_INFO_V1(leadmgmt_logreg_transfn);
PG_FUNCTION_INFO_V1(leadmgmt_logreg_combine);
PG_FUNCTION_INFO_V1(leadmgmt_logreg_newton);
PG_FUNCTION_INFO_V1(leadmgmt_logreg_stats);
PG_FUNCTION_INFO_V1(leadmgmt_logreg_predict_coef);
PG_FUNCTION_INFO_V1(leadmgmt_logreg_predict);
PG_FUNCTION_INFO_V1(leadmgmt_model_score);
PG_FUNCTION_INFO_V1(leadmgmt_logloss_transfn);
PG_FUNCTION_INFO_V1(leadmgmt_logloss_final);
PG_FUNCTION_INFO_V1(leadmgmt_calibration_transfn);
PG_FUNCTION_INFO_V1(leadmgmt_calibration_final);
PG_FUNCTION_INFO_V1(leadmgmt_float8_sum_combine);

/* most coefficients (features + intercept) a model may have */
#define LOGREG_MAX_COEF		1000

/*
 * logreg_step state: [0] p (coefficients, intercept included), [1] rows used,
 * [2] rows skipped, [3] log-likelihood, [4, 4 + p) gradient, then the p x p
 * Hessian, upper triangle filled (row-major), lower left zero.
 */
#define LS_HDR			4
#define LS_LEN(p)		(LS_HDR + (p) + (p) * (p))

/* A float8[] without NULLs, one-dimensional, as a C array; errors name what. */
static float8 *
Float8Array(ArrayType *a, int *n, const char *what)
{
	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must be a one-dimensional array", what)));
	if (ARR_ELEMTYPE(a) != FLOAT8OID)
		elog(ERROR, "%s must be float8[]", what);
	if (ARR_HASNULL(a) && array_contains_nulls(a))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not contain NULL", what)));
	*n = ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a));
	return (float8 *) ARR_DATA_PTR(a);
}

/* Report an aggregate state that is not one the aggregate makes. */
static void
BadState(const char *what, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid %s", what),
			 errdetail("%s", detail)));
}

/* The elements of a float8[] state that must have exactly want of them. */
static float8 *
StateArray(ArrayType *a, int want, const char *what)
{
	int			n;
	float8	   *s = Float8Array(a, &n, what);

	if (n != want)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s", what),
				 errdetail("The state has %d elements, not %d.", n, want)));
	return s;
}

/* A row count kept in a float8 state: a whole number from 0 to 2^53. */
static int64
StateCount(float8 v, const char *what)
{
	if (!(v >= 0 && v <= 9007199254740992.0) || v != floor(v))
		BadState(what, "A row count is not a whole number from 0 to 2^53.");
	return (int64) v;
}

/* The number of coefficients of a model: 1 to LOGREG_MAX_COEF. */
static void
CheckCoefCount(int p)
{
	if (p < 1 || p > LOGREG_MAX_COEF)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a model has 1 to %d coefficients, not %d", LOGREG_MAX_COEF, p),
				 errhint("Keep the intercept and at most %d features.", LOGREG_MAX_COEF - 1)));
}

/* A new float8[] of n zeros in the current context. */
static ArrayType *
Float8Zeros(int n)
{
	Size		size = ARR_OVERHEAD_NONULLS(1) + sizeof(float8) * (Size) n;
	ArrayType  *a = (ArrayType *) palloc0(size);

	SET_VARSIZE(a, size);
	a->ndim = 1;
	a->dataoffset = 0;
	a->elemtype = FLOAT8OID;
	ARR_DIMS(a)[0] = n;
	ARR_LBOUND(a)[0] = 1;
	return a;
}

/* log(1 + exp(x)) without overflow */
static inline double
Softplus(double x)
{
	return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

/* logreg_step(label, features, coef) transition: one row of one IRLS pass */
Datum
leadmgmt_logreg_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	ArrayType  *state,
			   *xa,
			   *ca;
	float8	   *s,
			   *x,
			   *beta,
			   *g,
			   *h;
	int			p,
				nx,
				ns,
				i,
				j;
	double		eta,
				mu,
				w,
				r;
	bool		y;

	aggcxt = LmAggContext(fcinfo, "logreg_step");
	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("coefficients must not be NULL")));
	ca = PG_GETARG_ARRAYTYPE_P(3);
	if (ARR_HASNULL(ca))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("coefficients must not contain NULL")));
	beta = Float8Array(ca, &p, "coefficients");
	CheckCoefCount(p);
	if (PG_ARGISNULL(0))
	{
		MemoryContext old = MemoryContextSwitchTo(aggcxt);

		state = Float8Zeros(LS_LEN(p));
		MemoryContextSwitchTo(old);
		((float8 *) ARR_DATA_PTR(state))[0] = p;
	}
	else
		state = PG_GETARG_ARRAYTYPE_P(0);
	/* one look at the state: its size element first, for the helpful message */
	s = Float8Array(state, &ns, "logreg_step state");
	if (ns >= 1 && s[0] != (float8) p)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("logreg_step state is for %g coefficients, not %d", s[0], p),
				 errhint("Every row of a group must pass the same coefficients.")));
	if (ns != LS_LEN(p))
		BadState("logreg_step state", "It does not hold 4 + p + p * p elements for its p coefficients.");

	/* a NULL label, NULL features or a NULL inside them skip the row */
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		s[2] += 1;
		PG_RETURN_ARRAYTYPE_P(state);
	}
	xa = PG_GETARG_ARRAYTYPE_P(2);
	if (ARR_HASNULL(xa))
	{
		s[2] += 1;
		PG_RETURN_ARRAYTYPE_P(state);
	}
	x = Float8Array(xa, &nx, "features");
	if (nx != p - 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("features have %d elements, the model has %d", nx, p - 1),
				 errhint("Every row must have the same number of features.")));
	y = PG_GETARG_BOOL(1);
	eta = beta[0];
	for (j = 0; j < nx; j++)
	{
		if (isnan(x[j]) || isinf(x[j]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("feature %d is %g; features must be finite", j + 1, x[j])));
		eta += beta[j + 1] * x[j];
	}
	mu = eta >= 0 ? 1 / (1 + exp(-eta)) : exp(eta) / (1 + exp(eta));
	w = mu * (1 - mu);
	r = (y ? 1.0 : 0.0) - mu;
	s[1] += 1;
	s[3] += (y ? eta : 0.0) - Softplus(eta);
	g = s + LS_HDR;
	h = g + p;
	/* index 0 is the intercept: its feature value is 1 */
	g[0] += r;
	h[0] += w;
	for (j = 0; j < nx; j++)
		h[j + 1] += w * x[j];
	for (i = 0; i < nx; i++)
	{
		double		wx = w * x[i];
		float8	   *row = h + (Size) (i + 1) * p;

		g[i + 1] += r * x[i];
		for (j = i; j < nx; j++)
			row[j + 1] += wx * x[j];
	}
	PG_RETURN_ARRAYTYPE_P(state);
}

/*
 * Element-wise sum of two float8[] states of one length, into the first when
 * aggregating.  With skip_first the first element is a size, not a sum, and
 * must agree.
 */
static Datum
Float8StateCombine(FunctionCallInfo fcinfo, bool skip_first)
{
	MemoryContext aggcxt;
	ArrayType  *a,
			   *b;
	float8	   *av,
			   *bv;
	int			na,
				nb,
				i;

	aggcxt = LmAggContext(fcinfo, "combine function");
	if (PG_ARGISNULL(1))
	{
		LM_RETURN_STATE();
	}
	b = PG_GETARG_ARRAYTYPE_P(1);
	(void) Float8Array(b, &nb, "aggregate state");
	if (PG_ARGISNULL(0))
	{
		/* a copy of our own in the aggregate context, so later calls may update it */
		MemoryContext old = MemoryContextSwitchTo(aggcxt);

		a = (ArrayType *) DatumGetPointer(datumCopy(PointerGetDatum(b), false, -1));
		MemoryContextSwitchTo(old);
		PG_RETURN_ARRAYTYPE_P(a);
	}
	a = PG_GETARG_ARRAYTYPE_P(0);
	av = Float8Array(a, &na, "aggregate state");
	bv = Float8Array(b, &nb, "aggregate state");
	if (na != nb || (skip_first && na > 0 && av[0] != bv[0]))
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("cannot combine states of different sizes")));
	for (i = skip_first ? 1 : 0; i < na; i++)
		av[i] += bv[i];
	PG_RETURN_ARRAYTYPE_P(a);
}

/* combine of logreg_step and calibration: element-wise sum after the size */
Datum
leadmgmt_logreg_combine(PG_FUNCTION_ARGS)
{
	return Float8StateCombine(fcinfo, true);
}

/* combine of log_loss: element-wise sum */
Datum
leadmgmt_float8_sum_combine(PG_FUNCTION_ARGS)
{
	return Float8StateCombine(fcinfo, false);
}

/* Cholesky factor of the n x n symmetric matrix a (full, row-major) in place; false when not positive definite. */
static bool
Cholesky(double *a, int n)
{
	int			i,
				j,
				k;
	double		maxdiag = 0;

	for (i = 0; i < n; i++)
		maxdiag = Max(maxdiag, fabs(a[i * n + i]));
	for (j = 0; j < n; j++)
	{
		double		d = a[j * n + j];

		for (k = 0; k < j; k++)
			d -= a[j * n + k] * a[j * n + k];
		if (!(d > maxdiag * 1e-13))
			return false;
		d = sqrt(d);
		a[j * n + j] = d;
		for (i = j + 1; i < n; i++)
		{
			double		v = a[i * n + j];

			for (k = 0; k < j; k++)
				v -= a[i * n + k] * a[j * n + k];
			a[i * n + j] = v / d;
		}
	}
	return true;
}

/* Solve L L' x = b in place, L from Cholesky. */
static void
CholeskySolve(const double *l, int n, double *b)
{
	int			i,
				k;

	for (i = 0; i < n; i++)
	{
		for (k = 0; k < i; k++)
			b[i] -= l[i * n + k] * b[k];
		b[i] /= l[i * n + i];
	}
	for (i = n - 1; i >= 0; i--)
	{
		for (k = i + 1; k < n; k++)
			b[i] -= l[k * n + i] * b[k];
		b[i] /= l[i * n + i];
	}
}

/*
 * The penalised Hessian H + l2 I (intercept not penalised), full and
 * symmetric, from a logreg_step state; checks the state.
 */
static double *
PenalisedHessian(ArrayType *state, const float8 *beta, int p, double l2, double **grad)
{
	int			n,
				i,
				j;
	float8	   *s;
	double	   *h,
			   *g;

	CheckCoefCount(p);
	s = Float8Array(state, &n, "logreg_step state");
	if (n != LS_LEN(p) || s[0] != (float8) p)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("logreg_step state does not fit %d coefficients", p)));
	(void) StateCount(s[1], "logreg_step state");
	(void) StateCount(s[2], "logreg_step state");
	h = palloc(sizeof(double) * p * p);
	g = palloc(sizeof(double) * p);
	for (i = 0; i < p; i++)
	{
		g[i] = s[LS_HDR + i] - (i > 0 ? l2 * beta[i] : 0);
		for (j = i; j < p; j++)
			h[i * p + j] = h[j * p + i] = s[LS_HDR + p + i * p + j];
		if (i > 0)
			h[i * p + i] += l2;
	}
	*grad = g;
	return h;
}

/* Report a Hessian that cannot be inverted. */
static void
SingularError(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("the Hessian is singular: features are collinear or constant, or the classes are perfectly separated"),
			 errhint("Drop the redundant features, or pass l2 > 0 for a ridge-penalised fit.")));
}

/*
 * logreg_newton(state, coef, l2) -> the next coefficients:
 * coef + (H + l2 I)^-1 (gradient - l2 coef).
 */
Datum
leadmgmt_logreg_newton(PG_FUNCTION_ARGS)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType  *ca = PG_GETARG_ARRAYTYPE_P(1);
	float8		l2 = PG_GETARG_FLOAT8(2);
	float8	   *beta,
			   *out;
	double	   *h,
			   *g;
	int			p,
				i;
	ArrayType  *res;

	beta = Float8Array(ca, &p, "coefficients");
	h = PenalisedHessian(state, beta, p, l2, &g);
	if (!Cholesky(h, p))
		SingularError();
	CholeskySolve(h, p, g);
	res = Float8Zeros(p);
	out = (float8 *) ARR_DATA_PTR(res);
	for (i = 0; i < p; i++)
	{
		out[i] = beta[i] + g[i];
		if (isnan(out[i]) || isinf(out[i]))
			SingularError();
	}
	PG_RETURN_ARRAYTYPE_P(res);
}

/* Eigenvalues of the symmetric n x n matrix a (destroyed) by cyclic Jacobi rotations. */
static void
JacobiEigenvalues(double *a, int n, double *ev)
{
	int			sweep,
				p,
				q,
				k;

	for (sweep = 0; sweep < 100; sweep++)
	{
		double		off = 0;

		for (p = 0; p < n; p++)
			for (q = p + 1; q < n; q++)
				off += a[p * n + q] * a[p * n + q];
		if (off < 1e-30)
			break;
		for (p = 0; p < n; p++)
			for (q = p + 1; q < n; q++)
			{
				double		apq = a[p * n + q],
							theta,
							t,
							c,
							sn;

				if (fabs(apq) < 1e-300)
					continue;
				theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
				t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
				c = 1 / sqrt(t * t + 1);
				sn = t * c;
				for (k = 0; k < n; k++)
				{
					double		akp = a[k * n + p],
								akq = a[k * n + q];

					a[k * n + p] = c * akp - sn * akq;
					a[k * n + q] = sn * akp + c * akq;
				}
				for (k = 0; k < n; k++)
				{
					double		apk = a[p * n + k],
								aqk = a[q * n + k];

					a[p * n + k] = c * apk - sn * aqk;
					a[q * n + k] = sn * apk + c * aqk;
				}
			}
	}
	for (k = 0; k < n; k++)
		ev[k] = a[k * n + k];
}

/*
 * logreg_stats(state, coef, l2) -> (std_err, z, p_values, odds_ratios,
 * log_likelihood, condition_number, rows_used, rows_skipped): the inverse
 * penalised Hessian at the final coefficients gives the covariance.
 */
Datum
leadmgmt_logreg_stats(PG_FUNCTION_ARGS)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType  *ca = PG_GETARG_ARRAYTYPE_P(1);
	float8		l2 = PG_GETARG_FLOAT8(2);
	float8	   *beta,
			   *s;
	double	   *h,
			   *g,
			   *hc,
			   *ev,
			   *col;
	int			p,
				n,
				i,
				j;
	ArrayType  *se,
			   *zs,
			   *pv,
			   *odds;
	double		evmin,
				evmax;
	TupleDesc	tupdesc;
	Datum		v[8];
	bool		nul[8] = {0};

	beta = Float8Array(ca, &p, "coefficients");
	h = PenalisedHessian(state, beta, p, l2, &g);
	s = Float8Array(state, &n, "logreg_step state");
	hc = palloc(sizeof(double) * p * p);
	memcpy(hc, h, sizeof(double) * p * p);
	ev = palloc(sizeof(double) * p);
	JacobiEigenvalues(hc, p, ev);
	evmin = evmax = ev[0];
	for (i = 1; i < p; i++)
	{
		evmin = Min(evmin, ev[i]);
		evmax = Max(evmax, ev[i]);
	}
	if (!Cholesky(h, p))
		SingularError();
	se = Float8Zeros(p);
	zs = Float8Zeros(p);
	pv = Float8Zeros(p);
	odds = Float8Zeros(p);
	col = palloc(sizeof(double) * p);
	for (i = 0; i < p; i++)
	{
		double		var;

		/* column i of the inverse: solve H x = e_i */
		for (j = 0; j < p; j++)
			col[j] = (i == j);
		CholeskySolve(h, p, col);
		var = col[i];
		((float8 *) ARR_DATA_PTR(se))[i] = sqrt(var);
		((float8 *) ARR_DATA_PTR(zs))[i] = beta[i] / sqrt(var);
		((float8 *) ARR_DATA_PTR(pv))[i] = erfc(fabs(beta[i] / sqrt(var)) / M_SQRT2);
		((float8 *) ARR_DATA_PTR(odds))[i] = exp(beta[i]);
	}
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "logreg_stats must return a composite type");
	tupdesc = BlessTupleDesc(tupdesc);
	v[0] = PointerGetDatum(se);
	v[1] = PointerGetDatum(zs);
	v[2] = PointerGetDatum(pv);
	v[3] = PointerGetDatum(odds);
	v[4] = Float8GetDatum(s[3]);
	if (evmin > 0)
		v[5] = Float8GetDatum(evmax / evmin);
	else
		nul[5] = true;
	v[6] = Int64GetDatum(StateCount(s[1], "logreg_step state"));
	v[7] = Int64GetDatum(StateCount(s[2], "logreg_step state"));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, v, nul)));
}

/* sigmoid(coef[1] + coef[2:] . x) of nx features */
static float8
PredictValues(ArrayType *ca, const float8 *x, int nx)
{
	float8	   *beta;
	int			p,
				j;
	double		eta;

	if (ARR_HASNULL(ca))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("coefficients must not contain NULL")));
	beta = Float8Array(ca, &p, "coefficients");
	if (nx != p - 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("features have %d elements, the model has %d", nx, p - 1)));
	eta = beta[0];
	for (j = 0; j < nx; j++)
	{
		if (isnan(x[j]) || isinf(x[j]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("feature %d is %g; features must be finite", j + 1, x[j])));
		eta += beta[j + 1] * x[j];
	}
	return eta >= 0 ? 1 / (1 + exp(-eta)) : exp(eta) / (1 + exp(eta));
}

/* PredictValues of a features array; false when a feature is NULL */
static bool
Predict(ArrayType *ca, ArrayType *xa, float8 *result)
{
	float8	   *x;
	int			nx;

	if (ARR_HASNULL(xa))
		return false;
	x = Float8Array(xa, &nx, "features");
	*result = PredictValues(ca, x, nx);
	return true;
}

/* logreg_predict_coef(coef, features) */
Datum
leadmgmt_logreg_predict_coef(PG_FUNCTION_ARGS)
{
	float8		r;

	if (!Predict(PG_GETARG_ARRAYTYPE_P(0), PG_GETARG_ARRAYTYPE_P(1), &r))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(r);
}

/* logreg_predict(model, features): the model's coef is its first attribute */
Datum
leadmgmt_logreg_predict(PG_FUNCTION_ARGS)
{
	HeapTupleHeader model = PG_GETARG_HEAPTUPLEHEADER(0);
	bool		isnull;
	Datum		coef = GetAttributeByNum(model, 1, &isnull);
	float8		r;

	if (isnull)
		PG_RETURN_NULL();
	if (!Predict(DatumGetArrayTypeP(coef), PG_GETARG_ARRAYTYPE_P(1), &r))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(r);
}

/*
 * A lead's value of a field as text, as vals ->> field gives it: NULL (false)
 * when the key is missing or JSON null.
 */
static bool
ValText(JsonbContainer *vals, const char *field, int flen, char **text, int *len)
{
	JsonbValue *v = getKeyJsonValueFromContainer(vals, field, flen, NULL);

	if (v == NULL || v->type == jbvNull)
		return false;
	switch (v->type)
	{
		case jbvString:
			*text = v->val.string.val;
			*len = v->val.string.len;
			break;
		case jbvNumeric:
			*text = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
			*len = strlen(*text);
			break;
		case jbvBool:
			*text = v->val.boolean ? "true" : "false";
			*len = strlen(*text);
			break;
		default:
			*text = JsonbToCString(NULL, v->val.binary.data, v->val.binary.len);
			*len = strlen(*text);
			break;
	}
	return true;
}

/* a string member of an encoding's feature, or NULL when it has none (isnull: it is JSON null) */
static JsonbValue *
FeatureKey(JsonbContainer *feature, const char *key, bool *present)
{
	JsonbValue *v = getKeyJsonValueFromContainer(feature, key, strlen(key), NULL);

	*present = v != NULL;
	if (v != NULL && v->type != jbvString && v->type != jbvNull)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid model encoding"),
				 errdetail("A feature's \"%s\" is not a string.", key)));
	return v;
}

/*
 * model_score(coef float8[], encoding jsonb, vals jsonb) -> float8, STRICT
 * (since 0.16)
 *
 * The probability of a lead's values under a logreg model: the features of
 * its encoding ({"features": [{"field", "level"}...]}: 1 where the value of
 * a categorical field equals the level, else 0; a numeric field's value as
 * float8, 0 when missing), then sigmoid(coef . (1, features)).  What
 * model_predict(logreg_predict_coef(coef, model_features(...))) computes,
 * in one pass in C: ingest_lead scores each new lead with it, and
 * score_leads and model_predict use it, so every score is the same.
 */
Datum
leadmgmt_model_score(PG_FUNCTION_ARGS)
{
	ArrayType  *ca = PG_GETARG_ARRAYTYPE_P(0);
	Jsonb	   *enc = PG_GETARG_JSONB_P(1);
	Jsonb	   *vals = PG_GETARG_JSONB_P(2);
	JsonbValue *feats;
	JsonbContainer *fc;
	int			n,
				i;
	float8	   *x;

	if (!JB_ROOT_IS_OBJECT(enc) ||
		(feats = getKeyJsonValueFromContainer(&enc->root, "features", 8, NULL)) == NULL ||
		feats->type != jbvBinary || !JsonContainerIsArray(feats->val.binary.data))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid model encoding"),
				 errdetail("An encoding is a JSON object whose \"features\" is an array.")));
	if (!JB_ROOT_IS_OBJECT(vals))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a lead's values must be a JSON object")));
	fc = feats->val.binary.data;
	n = JsonContainerSize(fc);
	x = palloc(sizeof(float8) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		JsonbValue *f = getIthJsonbValueFromContainer(fc, i);
		JsonbValue *field,
				   *level;
		bool		has_field,
					has_level,
					have;
		char	   *text = NULL;
		int			len = 0;

		if (f == NULL || f->type != jbvBinary || !JsonContainerIsObject(f->val.binary.data))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid model encoding"),
					 errdetail("Feature %d is not a JSON object.", i + 1)));
		field = FeatureKey(f->val.binary.data, "field", &has_field);
		level = FeatureKey(f->val.binary.data, "level", &has_level);
		if (field == NULL || field->type != jbvString)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid model encoding"),
					 errdetail("Feature %d has no \"field\".", i + 1)));
		have = ValText(&vals->root, field->val.string.val, field->val.string.len, &text, &len);
		if (has_level)
		{
			/* (vals ->> field) IS NOT DISTINCT FROM (f ->> 'level') */
			if (level->type == jbvNull)
				x[i] = have ? 0 : 1;
			else
				x[i] = (have && len == level->val.string.len && memcmp(text, level->val.string.val, len) == 0) ? 1 : 0;
		}
		else if (!have)
			x[i] = 0;
		else
		{
			/* coalesce((vals ->> field)::float8, 0) */
			char	   *c = pnstrdup(text, len);

			x[i] = DatumGetFloat8(DirectFunctionCall1(float8in, CStringGetDatum(c)));
		}
	}
	PG_RETURN_FLOAT8(PredictValues(ca, x, n));
}

/* A probability argument: in [0, 1]. */
static float8
ProbabilityArg(FunctionCallInfo fcinfo, int i)
{
	float8		p = PG_GETARG_FLOAT8(i);

	if (!(p >= 0 && p <= 1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("probability must be between 0 and 1, not %g", p)));
	return p;
}

/* The aggregate's float8[] state of n zeros, or argument 0 to update in place. */
static ArrayType *
Float8State(FunctionCallInfo fcinfo, int n, const char *fname)
{
	MemoryContext aggcxt;

	aggcxt = LmAggContext(fcinfo, fname);
	if (PG_ARGISNULL(0))
	{
		MemoryContext old = MemoryContextSwitchTo(aggcxt);
		ArrayType  *a = Float8Zeros(n);

		MemoryContextSwitchTo(old);
		return a;
	}
	return PG_GETARG_ARRAYTYPE_P(0);
}

/* log_loss(p, label) transition: state [sum of losses, rows] */
Datum
leadmgmt_logloss_transfn(PG_FUNCTION_ARGS)
{
	ArrayType  *state;
	float8	   *s,
				p;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		LM_RETURN_STATE();
	}
	p = ProbabilityArg(fcinfo, 1);
	state = Float8State(fcinfo, 2, "log_loss transition function");
	s = StateArray(state, 2, "log_loss state");
	/* clipped as scikit-learn does, so a confident mistake costs 34.5, not infinity */
	p = Min(Max(p, 1e-15), 1 - 1e-15);
	s[0] -= PG_GETARG_BOOL(2) ? log(p) : log1p(-p);
	s[1] += 1;
	PG_RETURN_ARRAYTYPE_P(state);
}

/* log_loss final: mean loss, NULL for no rows */
Datum
leadmgmt_logloss_final(PG_FUNCTION_ARGS)
{
	ArrayType  *state;
	float8	   *s;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	state = PG_GETARG_ARRAYTYPE_P(0);
	s = StateArray(state, 2, "log_loss state");
	if (StateCount(s[1], "log_loss state") == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(s[0] / s[1]);
}

/*
 * calibration(p, label, bins) transition: state [bins, then per bin: rows,
 * sum of p, positives]; bin k holds p in [k / bins, (k + 1) / bins), p = 1 in
 * the last.
 */
Datum
leadmgmt_calibration_transfn(PG_FUNCTION_ARGS)
{
	ArrayType  *state;
	float8	   *s,
				p;
	int32		bins;
	int			k,
				n;

	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("bins must not be NULL")));
	bins = PG_GETARG_INT32(3);
	if (bins < 1 || bins > 1000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bins must be between 1 and 1000, not %d", bins)));
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		LM_RETURN_STATE();
	}
	p = ProbabilityArg(fcinfo, 1);
	state = Float8State(fcinfo, 1 + 3 * bins, "calibration transition function");
	s = Float8Array(state, &n, "calibration state");
	if (s[0] == 0 && n == 1 + 3 * bins)
		s[0] = bins;
	else if (s[0] != (float8) bins || n != 1 + 3 * bins)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("calibration got %d bins after %g", bins, s[0]),
				 errdetail("Every row of a group must ask for the same number of bins.")));
	k = Min((int) (p * bins), bins - 1);
	s[1 + 3 * k] += 1;
	s[2 + 3 * k] += p;
	s[3 + 3 * k] += PG_GETARG_BOOL(2) ? 1 : 0;
	PG_RETURN_ARRAYTYPE_P(state);
}

/* calibration final: calibration_bin[] of the bins that hold rows */
Datum
leadmgmt_calibration_final(PG_FUNCTION_ARGS)
{
	ArrayType  *state;
	float8	   *s;
	int			n,
				bins,
				k;
	LmRowArray	ra;


	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	state = PG_GETARG_ARRAYTYPE_P(0);
	s = Float8Array(state, &n, "calibration state");
	if (!(s[0] >= 1 && s[0] <= 1000) || s[0] != floor(s[0]) || n != 1 + 3 * (int) s[0])
		BadState("calibration state", "It does not start with its number of bins (1 to 1000) followed by 3 values a bin.");
	bins = (int) s[0];
	LmRowArrayInit(&ra, fcinfo, bins);
	for (k = 0; k < bins; k++)
	{
		Datum		v[6];
		bool		nul[6] = {0};
		int64		rows = StateCount(s[1 + 3 * k], "calibration state");

		if (rows == 0)
			continue;
		v[0] = Int32GetDatum(k + 1);
		v[1] = Float8GetDatum((double) k / bins);
		v[2] = Float8GetDatum((double) (k + 1) / bins);
		v[3] = Int64GetDatum(rows);
		v[4] = Float8GetDatum(s[2 + 3 * k] / rows);
		v[5] = Float8GetDatum(s[3 + 3 * k] / rows);
		LmRowArrayAdd(&ra, v, nul);
	}
	PG_RETURN_DATUM(LmRowArrayResult(&ra));
}
