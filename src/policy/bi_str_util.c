/* Helpers shared by the string, regex, encoding and misc builtin groups:
 * Go-compatible UTF-8 handling, results, operand errors and exact decimals. */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "policy/bi_str_util.h"

uint32_t bi_utf8_next(const char *s, size_t len, size_t *pos)
{
	const uint8_t *p = (const uint8_t *)s + *pos;
	size_t left = len - *pos;
	uint32_t r, min;
	size_t need;

	if (p[0] < 0x80) {
		*pos += 1;
		return p[0];
	}
	if (p[0] >= 0xC2 && p[0] <= 0xDF) {
		need = 2;
		r = p[0] & 0x1F;
		min = 0x80;
	} else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
		need = 3;
		r = p[0] & 0x0F;
		min = 0x800;
	} else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
		need = 4;
		r = p[0] & 0x07;
		min = 0x10000;
	} else {
		*pos += 1;
		return BI_RUNE_ERROR;
	}

	if (left < need) {
		*pos += 1;
		return BI_RUNE_ERROR;
	}
	for (size_t i = 1; i < need; i++) {
		if ((p[i] & 0xC0) != 0x80) {
			*pos += 1;
			return BI_RUNE_ERROR;
		}
		r = (r << 6) | (p[i] & 0x3F);
	}

	/* Overlong forms, surrogates and values past U+10FFFF are invalid. */
	if (r < min || (r >= 0xD800 && r <= 0xDFFF) || r > 0x10FFFF) {
		*pos += 1;
		return BI_RUNE_ERROR;
	}
	*pos += need;
	return r;
}

size_t bi_utf8_count(const char *s, size_t len)
{
	size_t count = 0;

	for (size_t pos = 0; pos < len; count++)
		bi_utf8_next(s, len, &pos);
	return count;
}

size_t bi_utf8_put(uint32_t r, char *out)
{
	uint8_t *o = (uint8_t *)out;

	if ((r >= 0xD800 && r <= 0xDFFF) || r > 0x10FFFF)
		r = BI_RUNE_ERROR;

	if (r < 0x80) {
		o[0] = (uint8_t)r;
		return 1;
	}
	if (r < 0x800) {
		o[0] = (uint8_t)(0xC0 | (r >> 6));
		o[1] = (uint8_t)(0x80 | (r & 0x3F));
		return 2;
	}
	if (r < 0x10000) {
		o[0] = (uint8_t)(0xE0 | (r >> 12));
		o[1] = (uint8_t)(0x80 | ((r >> 6) & 0x3F));
		o[2] = (uint8_t)(0x80 | (r & 0x3F));
		return 3;
	}
	o[0] = (uint8_t)(0xF0 | (r >> 18));
	o[1] = (uint8_t)(0x80 | ((r >> 12) & 0x3F));
	o[2] = (uint8_t)(0x80 | ((r >> 6) & 0x3F));
	o[3] = (uint8_t)(0x80 | (r & 0x3F));
	return 4;
}

int bi_buf_rune(struct wd_buf *buf, uint32_t r)
{
	char tmp[4];

	return wd_buf_append(buf, tmp, bi_utf8_put(r, tmp));
}

bool bi_is_ascii(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((uint8_t)s[i] >= 0x80)
			return false;
	return true;
}

bool bi_rune_is_space(uint32_t r)
{
	switch (r) {
	case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
	case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029:
	case 0x202F: case 0x205F: case 0x3000:
		return true;
	default:
		return r >= 0x2000 && r <= 0x200A;
	}
}

int bi_fail(struct rego_bctx *ctx, int rc)
{
	if (rc >= 0)
		return 0;
	if (rc == WD_ETOOBIG)
		rego_bi_limit_error(ctx, "result exceeds the limit of %zu bytes", BI_STR_MAX);
	else if (rc == WD_ENOMEM)
		rego_bi_error(ctx, "out of memory");
	else if (!ctx->err_code)
		rego_bi_error(ctx, "%s", wd_strerror(rc));
	return rc;
}

int bi_ret(struct rego_bctx *ctx, struct rv *v, struct rv **ret)
{
	if (!v)
		return bi_fail(ctx, WD_ENOMEM);
	*ret = v;
	return 0;
}

int bi_buf_to_string(struct rego_bctx *ctx, struct wd_buf *buf, struct rv **ret)
{
	size_t len = 0;
	char *data = wd_buf_take(buf, &len);

	if (!data)
		return bi_fail(ctx, WD_ENOMEM);
	return bi_ret(ctx, rv_string_take(data, len), ret);
}

int bi_int_operand(struct rego_bctx *ctx, struct rv *const *args, size_t argno, int64_t *ret)
{
	const struct rv *v = args[argno - 1];

	WD_TRY(rego_bi_want(ctx, args, argno, RK_NUMBER));
	if (v->num_repr != RV_NUM_INT || !rv_number_to_i64(v, ret))
		return rego_bi_error_code(ctx, "eval_type_error",
			"operand %zu must be integer number but got floating-point number", argno);
	return 0;
}

size_t bi_members(const struct rv *v)
{
	return rv_is(v, RV_ARRAY) ? rv_array_len(v) : rv_len(v);
}

struct rv *bi_member_at(const struct rv *v, size_t i)
{
	struct rv *key = NULL, *value = NULL;

	if (rv_is(v, RV_ARRAY))
		return rv_array_at(v, i);
	rv_map_sorted_at(v, i, &key, &value);
	return key;
}

int bi_strings_of(struct rego_bctx *ctx, const struct rv *v, size_t argno)
{
	size_t n = bi_members(v);

	for (size_t i = 0; i < n; i++) {
		const struct rv *item = bi_member_at(v, i);

		if (!rv_is(item, RV_STRING))
			return rego_bi_error_code(ctx, "eval_type_error",
				"operand %zu must be %s of strings but got %s containing %s",
				argno, rv_type_name(v), rv_type_name(v), rv_type_name(item));
	}
	return 0;
}

/* ---- exact decimals ---- */

/* Exponents past this bound are rejected, as big.Rat.SetString does. */
#define DECIMAL_MAX_EXP 1000000

bool bi_decimal_to_mpq(const char *s, size_t len, mpq_t ret)
{
	size_t i = 0, digits = 0;
	long frac = 0, exp = 0;
	bool neg = false, seen_dot = false, ok = false;
	char *mant = malloc(len + 2);
	mpz_t scale;

	if (!mant)
		return false;

	if (i < len && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';

	for (; i < len; i++) {
		if (s[i] >= '0' && s[i] <= '9') {
			mant[digits++] = s[i];
			if (seen_dot)
				frac++;
		} else if (s[i] == '.' && !seen_dot) {
			seen_dot = true;
		} else {
			break;
		}
	}
	if (digits == 0)
		goto out;
	mant[digits] = '\0';

	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		bool eneg = false;
		size_t edigits = 0;

		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			eneg = s[i++] == '-';
		for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, edigits++) {
			if (exp <= DECIMAL_MAX_EXP * 10L)
				exp = exp * 10 + (s[i] - '0');
		}
		if (edigits == 0 || exp > DECIMAL_MAX_EXP)
			goto out;
		if (eneg)
			exp = -exp;
	}
	if (i != len)
		goto out;

	exp -= frac;
	mpq_set_ui(ret, 0, 1);
	mpz_set_str(mpq_numref(ret), mant, 10);
	mpz_init(scale);
	mpz_ui_pow_ui(scale, 10, (unsigned long)(exp < 0 ? -exp : exp));
	if (exp < 0)
		mpz_set(mpq_denref(ret), scale);
	else
		mpz_mul(mpq_numref(ret), mpq_numref(ret), scale);
	mpz_clear(scale);
	mpq_canonicalize(ret);
	if (neg)
		mpq_neg(ret, ret);
	ok = true;
out:
	free(mant);
	return ok;
}

void bi_mpq_round64(mpq_t q)
{
	mpz_t m, r, twice;
	mpq_t scaled;
	long e;
	bool neg = mpq_sgn(q) < 0;

	if (mpq_sgn(q) == 0)
		return;

	mpz_inits(m, r, twice, NULL);
	mpq_init(scaled);
	mpq_abs(scaled, q);

	/* e = floor(log2 |q|), first estimated from the bit lengths. */
	e = (long)mpz_sizeinbase(mpq_numref(scaled), 2) - (long)mpz_sizeinbase(mpq_denref(scaled), 2);
	for (;;) {
		/* Scale so that the value should land in [2^63, 2^64). */
		mpq_abs(scaled, q);
		if (63 - e >= 0)
			mpq_mul_2exp(scaled, scaled, (mp_bitcnt_t)(63 - e));
		else
			mpq_div_2exp(scaled, scaled, (mp_bitcnt_t)(e - 63));
		mpz_tdiv_qr(m, r, mpq_numref(scaled), mpq_denref(scaled));
		if (mpz_sizeinbase(m, 2) > 64) {
			e++;
			continue;
		}
		if (mpz_sizeinbase(m, 2) < 64) {
			e--;
			continue;
		}
		break;
	}

	/* Round half to even on the remainder r / den. */
	mpz_mul_2exp(twice, r, 1);
	{
		int cmp = mpz_cmp(twice, mpq_denref(scaled));

		if (cmp > 0 || (cmp == 0 && mpz_odd_p(m)))
			mpz_add_ui(m, m, 1);
	}

	mpq_set_z(q, m);
	if (63 - e >= 0)
		mpq_div_2exp(q, q, (mp_bitcnt_t)(63 - e));
	else
		mpq_mul_2exp(q, q, (mp_bitcnt_t)(e - 63));
	if (neg)
		mpq_neg(q, q);

	mpq_clear(scaled);
	mpz_clears(m, r, twice, NULL);
}

bool bi_number_to_mpq(const struct rv *n, mpq_t ret)
{
	struct wd_buf text;
	int64_t i;
	bool ok;

	if (n->num_repr == RV_NUM_INT && rv_number_to_i64(n, &i)) {
		mpq_set_si(ret, i, 1);
		return true;
	}

	wd_buf_init(&text, 32, BI_STR_MAX);
	ok = rv_number_format(n, &text) == 0 &&
	     bi_decimal_to_mpq(wd_buf_str(&text), wd_buf_len(&text), ret);
	wd_buf_free(&text);
	return ok;
}

struct rv *bi_mpz_to_number(const mpz_t z)
{
	struct rv *v;
	char *text;

	if (mpz_fits_slong_p(z))
		return rv_int(mpz_get_si(z));

	text = mpz_get_str(NULL, 10, z);
	if (!text)
		return NULL;
	v = rv_number_parse(text, strlen(text));
	free(text);
	return v;
}
