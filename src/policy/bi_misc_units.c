/* units.parse and units.parse_bytes: SI and IEC quantities with OPA's exact
 * arithmetic (big.Rat for units.parse, big.Float with a 64-bit mantissa for
 * units.parse_bytes) and its error messages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "policy/bi_str_util.h"

/* Exponent digits accepted after 'e' (OPA rejects longer exponents). */
#define UNITS_MAX_EXPONENT_DIGITS 6

/* Splits s into the number and the unit as OPA's extractNumAndUnit: the number
 * runs over digits, '.', '+', '-' and an 'e'/'E' followed by a digit or a sign.
 * Returns false when an exponent has too many digits. */
static bool split_number_unit(const char *s, size_t len, size_t *ret_num_len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		char c = s[i];
		bool digit = c >= '0' && c <= '9';

		if (!digit && c != '.' && c != 'e' && c != 'E' && c != '+' && c != '-')
			break;
		if (c == 'e' || c == 'E') {
			size_t start;

			if (i + 1 == len ||
			    !((s[i + 1] >= '0' && s[i + 1] <= '9') || s[i + 1] == '+' || s[i + 1] == '-'))
				break;
			if (s[i + 1] == '+' || s[i + 1] == '-')
				i++;
			start = i + 1;
			while (i + 1 < len && s[i + 1] >= '0' && s[i + 1] <= '9')
				i++;
			if (i + 1 - start > UNITS_MAX_EXPONENT_DIGITS)
				return false;
		}
	}
	*ret_num_len = i;
	return true;
}

/* Copies s without its double quotes, lowercased when asked (OPA strips
 * quotes so that a JSON-quoted quantity parses). */
static char *strip_quotes(const char *s, size_t len, bool lower, size_t *ret_len)
{
	char *out = malloc(len + 1);
	size_t n = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '"')
			continue;
		if (lower && c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		out[n++] = c;
	}
	out[n] = '\0';
	*ret_len = n;
	return out;
}

struct unit_scale {
	const char *name;
	unsigned base;    /* 10 or 2 */
	unsigned power;   /* 10^(3*power) or 2^(10*power) */
};

static const struct unit_scale byte_units[] = {
	{ "", 10, 0 },
	{ "k", 10, 1 }, { "kb", 10, 1 }, { "ki", 2, 1 }, { "kib", 2, 1 },
	{ "m", 10, 2 }, { "mb", 10, 2 }, { "mi", 2, 2 }, { "mib", 2, 2 },
	{ "g", 10, 3 }, { "gb", 10, 3 }, { "gi", 2, 3 }, { "gib", 2, 3 },
	{ "t", 10, 4 }, { "tb", 10, 4 }, { "ti", 2, 4 }, { "tib", 2, 4 },
	{ "p", 10, 5 }, { "pb", 10, 5 }, { "pi", 2, 5 }, { "pib", 2, 5 },
	{ "e", 10, 6 }, { "eb", 10, 6 }, { "ei", 2, 6 }, { "eib", 2, 6 },
};

/* units.parse distinguishes "m" (milli) from "M" (mega): only the letters
 * after the first are lowercased before the lookup. */
static const struct unit_scale si_units[] = {
	{ "", 10, 0 },
	{ "k", 10, 1 }, { "K", 10, 1 }, { "ki", 2, 1 }, { "Ki", 2, 1 },
	{ "M", 10, 2 }, { "mi", 2, 2 }, { "Mi", 2, 2 },
	{ "g", 10, 3 }, { "G", 10, 3 }, { "gi", 2, 3 }, { "Gi", 2, 3 },
	{ "t", 10, 4 }, { "T", 10, 4 }, { "ti", 2, 4 }, { "Ti", 2, 4 },
	{ "p", 10, 5 }, { "P", 10, 5 }, { "pi", 2, 5 }, { "Pi", 2, 5 },
	{ "e", 10, 6 }, { "E", 10, 6 }, { "ei", 2, 6 }, { "Ei", 2, 6 },
};

static const struct unit_scale *find_unit(const struct unit_scale *table, size_t n,
					  const char *unit)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(table[i].name, unit) == 0)
			return &table[i];
	return NULL;
}

static void scale_value(mpq_t ret, const struct unit_scale *u)
{
	mpz_t z;

	mpz_init(z);
	if (u->base == 10)
		mpz_ui_pow_ui(z, 10, 3ul * u->power);
	else
		mpz_ui_pow_ui(z, 2, 10ul * u->power);
	mpq_set_z(ret, z);
	mpz_clear(z);
}

/* Writes q as big.Rat.FloatString(10): ten decimals, the last rounded half
 * away from zero. */
static struct rv *rat_to_number(const mpq_t q)
{
	mpz_t ip, rem, scale;
	struct rv *v = NULL;
	struct rv *parsed = NULL;
	char *ip_text = NULL, *frac_text = NULL, *text = NULL;
	size_t len;
	bool neg = mpq_sgn(q) < 0;

	if (mpz_cmp_ui(mpq_denref(q), 1) == 0)
		return bi_mpz_to_number(mpq_numref(q));

	mpz_inits(ip, rem, scale, NULL);
	mpz_abs(rem, mpq_numref(q));
	mpz_tdiv_qr(ip, rem, rem, mpq_denref(q));
	mpz_ui_pow_ui(scale, 10, 10);
	mpz_mul(rem, rem, scale);
	{
		mpz_t frac, r2;

		mpz_inits(frac, r2, NULL);
		mpz_tdiv_qr(frac, r2, rem, mpq_denref(q));
		mpz_mul_2exp(r2, r2, 1);
		if (mpz_cmp(r2, mpq_denref(q)) >= 0) {
			mpz_add_ui(frac, frac, 1);
			if (mpz_cmp(frac, scale) >= 0) {
				mpz_sub(frac, frac, scale);
				mpz_add_ui(ip, ip, 1);
			}
		}
		ip_text = mpz_get_str(NULL, 10, ip);
		frac_text = mpz_get_str(NULL, 10, frac);
		mpz_clears(frac, r2, NULL);
	}
	if (!ip_text || !frac_text)
		goto out;

	len = strlen(ip_text) + 16;
	text = malloc(len);
	if (!text)
		goto out;
	snprintf(text, len, "%s%s.%.*s%s", neg ? "-" : "", ip_text,
		 (int)(10 - strlen(frac_text)), "0000000000", frac_text);
	/* The text has ten fraction digits; OPA's result has no trailing
	 * zeros. */
	parsed = rv_number_parse(text, strlen(text));
	v = parsed ? rv_number_normalize(parsed) : NULL;
	rv_unref(parsed);
out:
	free(ip_text);
	free(frac_text);
	free(text);
	mpz_clears(ip, rem, scale, NULL);
	return v;
}

static int parse_quantity(struct rego_bctx *ctx, struct rv *const *args, bool bytes,
			  struct rv **ret)
{
	const char *what = bytes ? "byte amount" : "amount";
	const struct unit_scale *unit;
	_wd_cleanup_(wd_freep) char *s = NULL;
	char unit_text[8];
	const char *raw;
	size_t raw_len, len, num_len, unit_len;
	mpq_t num, scale;
	int rc;

	WD_TRY(rego_bi_string(ctx, args, 1, &raw, &raw_len));
	s = strip_quotes(raw, raw_len, bytes, &len);
	if (!s)
		return bi_fail(ctx, WD_ENOMEM);

	if (memchr(s, ' ', len))
		return rego_bi_error(ctx, "spaces not allowed in resource strings");
	if (!split_number_unit(s, len, &num_len))
		return rego_bi_error(ctx, "exponent too large");
	if (num_len == 0)
		return rego_bi_error(ctx, "no %s provided", what);

	unit_len = len - num_len;
	if (unit_len >= sizeof(unit_text))
		unit_len = sizeof(unit_text) - 1;
	memcpy(unit_text, s + num_len, unit_len);
	unit_text[unit_len] = '\0';
	if (!bytes)
		for (size_t i = 1; i < unit_len; i++)
			if (unit_text[i] >= 'A' && unit_text[i] <= 'Z')
				unit_text[i] = (char)(unit_text[i] + 32);

	unit = bytes ? find_unit(byte_units, WD_ARRAY_LEN(byte_units), unit_text)
		     : find_unit(si_units, WD_ARRAY_LEN(si_units), unit_text);
	if (!unit && !(!bytes && strcmp(unit_text, "m") == 0)) {
		if (len - num_len >= sizeof(unit_text))
			return rego_bi_error(ctx, "%sunit %.*s not recognized", bytes ? "byte " : "",
					     (int)(len - num_len), s + num_len);
		return rego_bi_error(ctx, "%sunit %s not recognized", bytes ? "byte " : "",
				     unit_text);
	}

	mpq_inits(num, scale, NULL);
	if (!bi_decimal_to_mpq(s, num_len, num)) {
		mpq_clears(num, scale, NULL);
		return rego_bi_error(ctx, "could not parse %s to a number", what);
	}

	if (unit)
		scale_value(scale, unit);
	else
		mpq_set_d(scale, 0.001); /* OPA multiplies by the float64 0.001 */

	if (bytes) {
		mpz_t total;

		/* big.Float: the parsed number and the product each keep a 64-bit
		 * mantissa, and Int truncates toward zero. */
		bi_mpq_round64(num);
		mpq_mul(num, num, scale);
		bi_mpq_round64(num);
		mpz_init(total);
		mpz_tdiv_q(total, mpq_numref(num), mpq_denref(num));
		rc = bi_ret(ctx, bi_mpz_to_number(total), ret);
		mpz_clear(total);
	} else {
		mpq_mul(num, num, scale);
		rc = bi_ret(ctx, rat_to_number(num), ret);
	}
	mpq_clears(num, scale, NULL);
	return rc;
}

int bi_units_parse(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	(void)nargs;
	return parse_quantity(ctx, args, false, ret);
}

int bi_units_parse_bytes(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			 struct rv **ret)
{
	(void)nargs;
	return parse_quantity(ctx, args, true, ret);
}
