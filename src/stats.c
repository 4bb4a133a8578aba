/*
 * src/stats.c
 *
 * The distribution functions the statistical aggregates need: the standard
 * normal quantile (for confidence intervals) and the upper tail of the
 * chi-squared distribution (for p-values).  Both are accurate to about
 * 1e-14 relative, well beyond what the tests compare with R and statsmodels.
 */
#include "postgres.h"

#include <math.h>

#include "leadmgmt.h"

#define LM_SQRT2	1.41421356237309504880
#define LM_SQRT2PI	2.50662827463100050242

/*
 * Standard normal quantile: Acklam's rational approximation (relative error
 * 1.15e-9) followed by one Halley step against erfc, which brings it to
 * double precision.  p must lie in (0, 1).
 */
double
LmNormalQuantile(double p)
{
	static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
		-2.759285104469687e+02, 1.383577518672690e+02,
	-3.066479806614716e+01, 2.506628277459239e+00};
	static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
		-1.556989798598866e+02, 6.680131188771972e+01,
	-1.328068155288572e+01};
	static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
		-2.400758277161838e+00, -2.549732539343734e+00,
	4.374664141464968e+00, 2.938163982698783e+00};
	static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
	2.445134137142996e+00, 3.754408661907416e+00};
	const double plow = 0.02425;
	double		q,
				r,
				x,
				e,
				u;

	Assert(p > 0 && p < 1);
	if (p < plow)
	{
		q = sqrt(-2 * log(p));
		x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
			((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	}
	else if (p <= 1 - plow)
	{
		q = p - 0.5;
		r = q * q;
		x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
			(((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
	}
	else
	{
		q = sqrt(-2 * log1p(-p));
		x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
			((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	}
	/* Halley refinement */
	e = 0.5 * erfc(-x / LM_SQRT2) - p;
	u = e * LM_SQRT2PI * exp(x * x / 2);
	x = x - u / (1 + x * u / 2);
	return x;
}

/*
 * Upper tail P(X > x) of the chi-squared distribution with df degrees of
 * freedom: the regularised upper incomplete gamma Q(df/2, x/2), by its power
 * series below a + 1 and by its continued fraction (modified Lentz) above.
 */
double
LmChisqUpper(double x, double df)
{
	double		a = df / 2,
				z = x / 2,
				lead;
	int			i;

	if (isnan(x) || isnan(df) || df <= 0)
		return NAN;
	if (z <= 0)
		return 1.0;
	if (isinf(z))
		return 0.0;
	lead = exp(-z + a * log(z) - lgamma(a));
	if (z < a + 1)
	{
		double		ap = a,
					del = 1.0 / a,
					sum = del;

		for (i = 0; i < 10000; i++)
		{
			ap += 1;
			del *= z / ap;
			sum += del;
			if (fabs(del) < fabs(sum) * 1e-17)
				break;
		}
		return Max(0.0, 1.0 - sum * lead);
	}
	else
	{
		const double tiny = 1e-300;
		double		bb = z + 1 - a,
					cc = 1 / tiny,
					dd = 1 / bb,
					h = dd;

		for (i = 1; i < 10000; i++)
		{
			double		an = -i * (i - a),
						del;

			bb += 2;
			dd = an * dd + bb;
			if (fabs(dd) < tiny)
				dd = tiny;
			cc = bb + an / cc;
			if (fabs(cc) < tiny)
				cc = tiny;
			dd = 1 / dd;
			del = dd * cc;
			h *= del;
			if (fabs(del - 1) < 1e-17)
				break;
		}
		return lead * h;
	}
}
