/*
 * src/phone.c
 *
 * Phone number handling for lead de-duplication (撞单 protection):
 * normalisation of Chinese mobile numbers to E.164 and masked display.
 *
 * Accepted input: ASCII or full-width digits, an optional leading "+" (or
 * full-width "＋"), the international prefixes +86, 0086 and a bare 86 on a
 * 13-digit number, and the separators people type: spaces (including the
 * ideographic space and no-break space), tabs, dashes of every width, dots,
 * slashes and brackets.  Anything else (letters, extensions) makes the input
 * invalid.  A valid number is a mobile number matching 1[3-9]\d{9}.
 */
#include "postgres.h"

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "leadmgmt.h"

PG_FUNCTION_INFO_V1(leadmgmt_normalize_phone);
PG_FUNCTION_INFO_V1(leadmgmt_mask_phone);

/* More digits than this can never be a phone number (E.164 allows 15). */
#define LM_MAX_PHONE_DIGITS 20

/* Result of scanning raw phone text. */
typedef struct PhoneScan
{
	char		digits[LM_MAX_PHONE_DIGITS + 1];
	int			ndigits;
	bool		plus;			/* a leading + or ＋ was seen */
	bool		clean;			/* only digits, one leading plus and separators */
	bool		overflow;		/* more than LM_MAX_PHONE_DIGITS digits */
} PhoneScan;

/* Length of the UTF-8 separator or full-width sign at p, 0 if none. */
static int
Utf8SeparatorLength(const unsigned char *p, int left)
{
	if (left >= 2 && p[0] == 0xC2 && p[1] == 0xA0)
		return 2;				/* U+00A0 no-break space */
	if (left >= 3 && p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80)
		return 3;				/* U+3000 ideographic space */
	if (left >= 3 && p[0] == 0xE2 && p[1] == 0x80 && p[2] >= 0x90 && p[2] <= 0x95)
		return 3;				/* U+2010..U+2015 hyphens and dashes */
	if (left >= 3 && p[0] == 0xE2 && p[1] == 0x88 && p[2] == 0x92)
		return 3;				/* U+2212 minus sign */
	if (left >= 3 && p[0] == 0xEF && p[1] == 0xBC &&
		(p[2] == 0x88 || p[2] == 0x89 || p[2] == 0x8D || p[2] == 0x8E || p[2] == 0x8F))
		return 3;				/* full-width （ ） － ． ／ */
	return 0;
}

/* Collect the digits of raw phone text and note whether it is well formed. */
static void
ScanPhone(const char *str, int len, PhoneScan *scan)
{
	const unsigned char *p = (const unsigned char *) str;
	const unsigned char *end = p + len;
	bool		utf8 = (GetDatabaseEncoding() == PG_UTF8);

	memset(scan, 0, sizeof(PhoneScan));
	scan->clean = true;

	while (p < end)
	{
		int			digit = -1;
		int			step = 1;

		if (*p >= '0' && *p <= '9')
			digit = *p - '0';
		else if (utf8 && end - p >= 3 && p[0] == 0xEF && p[1] == 0xBC &&
				 p[2] >= 0x90 && p[2] <= 0x99)
		{
			digit = p[2] - 0x90;	/* full-width ０..９ */
			step = 3;
		}
		else if (*p == '+' ||
				 (utf8 && end - p >= 3 && p[0] == 0xEF && p[1] == 0xBC && p[2] == 0x8B))
		{
			/* a plus sign is only allowed before any digit, and once */
			if (scan->plus || scan->ndigits > 0)
				scan->clean = false;
			scan->plus = true;
			step = (*p == '+') ? 1 : 3;
		}
		else if (*p == ' ' || *p == '\t' || *p == '-' || *p == '.' ||
				 *p == '(' || *p == ')' || *p == '/')
			step = 1;
		else if (utf8 && (step = Utf8SeparatorLength(p, (int) (end - p))) > 0)
			;
		else
		{
			/* not part of a phone number: keep scanning so masking sees all digits */
			scan->clean = false;
			step = 1;
		}

		if (digit >= 0)
		{
			if (scan->ndigits >= LM_MAX_PHONE_DIGITS)
			{
				scan->overflow = true;
				scan->clean = false;
				return;
			}
			scan->digits[scan->ndigits++] = (char) ('0' + digit);
		}
		p += step;
	}
	scan->digits[scan->ndigits] = '\0';
}

/*
 * Reduce scanned digits to the 11-digit national mobile number; true when
 * it is a valid Chinese mobile number, whose digits are copied to national.
 */
static bool
CnMobileFromScan(const PhoneScan *scan, char *national)
{
	const char *d = scan->digits;
	int			n = scan->ndigits;

	if (!scan->clean)
		return false;

	if (scan->plus)
	{
		/* international form: only +86 is a Chinese number */
		if (n < 2 || d[0] != '8' || d[1] != '6')
			return false;
		d += 2, n -= 2;
	}
	else if (n == 15 && strncmp(d, "0086", 4) == 0)
		d += 4, n -= 4;
	else if (n == 13 && d[0] == '8' && d[1] == '6')
		d += 2, n -= 2;

	if (n != LM_CN_MOBILE_DIGITS || d[0] != '1' || d[1] < '3' || d[1] > '9')
		return false;

	memcpy(national, d, LM_CN_MOBILE_DIGITS);
	national[LM_CN_MOBILE_DIGITS] = '\0';
	return true;
}

/* Raise the error for a region other than CN. */
static void
CheckRegion(text *region)
{
	char	   *r = text_to_cstring(region);

	if (pg_strcasecmp(r, "CN") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unsupported phone region \"%.*s\"", LmEchoLen(r, strlen(r)), r),
				 errhint("Only region \"CN\" (Chinese mobile numbers) is supported.")));
	pfree(r);
}

/*
 * normalize_phone(phone text, region text) returns text: the E.164 form of a
 * Chinese mobile number, or NULL when the input is not one.
 */
Datum
leadmgmt_normalize_phone(PG_FUNCTION_ARGS)
{
	text	   *phone = PG_GETARG_TEXT_PP(0);
	PhoneScan	scan;
	char		national[LM_CN_MOBILE_DIGITS + 1];
	char		out[3 + LM_CN_MOBILE_DIGITS + 1];

	CheckRegion(PG_GETARG_TEXT_PP(1));

	ScanPhone(VARDATA_ANY(phone), VARSIZE_ANY_EXHDR(phone), &scan);
	if (!CnMobileFromScan(&scan, national))
		PG_RETURN_NULL();

	snprintf(out, sizeof(out), "+86%s", national);
	PG_RETURN_TEXT_P(cstring_to_text(out));
}

/*
 * mask_phone(phone text) returns text: 138****5678 for a valid mobile number;
 * for anything else only the last four digits are kept, the other digits
 * become '*', and NULL is returned when the input holds no digit at all.
 */
Datum
leadmgmt_mask_phone(PG_FUNCTION_ARGS)
{
	text	   *phone = PG_GETARG_TEXT_PP(0);
	PhoneScan	scan;
	char		national[LM_CN_MOBILE_DIGITS + 1];
	char		out[LM_MAX_PHONE_DIGITS + 1];
	int			i;

	ScanPhone(VARDATA_ANY(phone), VARSIZE_ANY_EXHDR(phone), &scan);

	if (CnMobileFromScan(&scan, national))
	{
		snprintf(out, sizeof(out), "%.3s****%.4s", national, national + 7);
		PG_RETURN_TEXT_P(cstring_to_text(out));
	}

	/* too long to be a number: show nothing of it */
	if (scan.overflow)
		PG_RETURN_TEXT_P(cstring_to_text("****"));
	if (scan.ndigits == 0)
		PG_RETURN_NULL();

	for (i = 0; i < scan.ndigits; i++)
		out[i] = (scan.ndigits < 7 || i < scan.ndigits - 4) ? '*' : scan.digits[i];
	out[scan.ndigits] = '\0';
	PG_RETURN_TEXT_P(cstring_to_text(out));
}

/* the symbols of 0.1-0.9 */
LM_SYMBOL_ALIAS(leadmgmt_phone_normalize, leadmgmt_normalize_phone);
LM_SYMBOL_ALIAS(leadmgmt_phone_mask, leadmgmt_mask_phone);
