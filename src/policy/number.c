/* Rego numbers: exact integers of any size and exact decimals kept at their
 * written scale, with parsing, printing, order and hashing. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "policy/value.h"
#include "policy/value_impl.h"

/* ---- small integers ---- */

/* Integers in this range are shared statics, as OPA interns small ints: data
 * documents are full of them and each would otherwise cost a block. */
#define SMALL_MIN (-256)
#define SMALL_MAX 1023

static struct rv small_ints[SMALL_MAX - SMALL_MIN + 1];

static uint64_t int_hash(int64_t i)
{
	uint64_t h = rv_mix64((uint64_t)i ^ 0x4e554d424552ULL);

	return h ? h : 1;
}

__attribute__((constructor)) static void small_ints_init(void)
{
	for (int64_t i = SMALL_MIN; i <= SMALL_MAX; i++) {
		struct rv *v = &small_ints[i - SMALL_MIN];

		v->refs = RV_REFS_FROZEN;
		v->kind = RV_NUMBER;
		v->num_repr = RV_NUM_INT;
		RV_FLAGS(v) = RVF_STATIC;
		v->u.num.i = i;
		v->hash = int_hash(i);
	}
}

struct rv *rv_int(int64_t i)
{
	struct rv *v;

	if (i >= SMALL_MIN && i <= SMALL_MAX)
		return &small_ints[i - SMALL_MIN];
	v = rv_alloc_value(RV_NUMBER, 0);
	if (!v)
		return NULL;
	v->num_repr = RV_NUM_INT;
	v->u.num.i = i;
	return v;
}

/* ---- decimal exponent of the small form ---- */

static int small_exp(const struct rv *n)
{
	return (int8_t)n->pad[1];
}

static void set_small_exp(struct rv *n, int e)
{
	n->pad[1] = (uint8_t)(int8_t)e;
}

/* ---- canonical construction ---- */

static size_t exact_digits(const mpz_t z)
{
	size_t n = mpz_sizeinbase(z, 10);
	mpz_t p;

	/* sizeinbase may be one too large, so compare with 10^(n-1). */
	if (n <= 1)
		return 1;
	mpz_init(p);
	mpz_ui_pow_ui(p, 10, n - 1);
	if (mpz_cmpabs(z, p) < 0)
		n--;
	mpz_clear(p);
	return n;
}

static struct rv *make_big(const mpz_t z)
{
	struct rv *v = rv_alloc_value(RV_NUMBER, sizeof(mpz_t));
	mpz_ptr big;

	if (!v)
		return NULL;
	big = (mpz_ptr)(v + 1);
	mpz_init_set(big, z);
	v->num_repr = RV_NUM_BIG;
	v->u.num.big = big;
	/* The limbs are GMP's own allocation, charged all the same. */
	if (!rv_mem_charge(mpz_size(big) * sizeof(mp_limb_t))) {
		mpz_clear(big);
		rv_free_block(v);
		return NULL;
	}
	return v;
}

static struct rv *make_decimal(const mpz_t m, int64_t exp)
{
	struct rv_bigdec *bd;
	struct rv *v;

	if (mpz_fits_slong_p(m) && exp >= INT8_MIN && exp <= INT8_MAX) {
		v = rv_alloc_value(RV_NUMBER, 0);
		if (!v)
			return NULL;
		v->num_repr = RV_NUM_DECIMAL;
		v->u.num.i = mpz_get_si(m);
		v->u.num.big = NULL;
		set_small_exp(v, (int)exp);
		return v;
	}

	v = rv_alloc_value(RV_NUMBER, sizeof(*bd));
	if (!v)
		return NULL;
	bd = (struct rv_bigdec *)(v + 1);
	mpz_init_set(bd->m, m);
	bd->exp = exp;
	v->num_repr = RV_NUM_DECIMAL;
	v->u.num.big = bd;
	if (!rv_mem_charge(mpz_size(bd->m) * sizeof(mp_limb_t))) {
		mpz_clear(bd->m);
		rv_free_block(v);
		return NULL;
	}
	return v;
}

struct rv *rv_number_from_dec(const mpz_t m, int64_t exp)
{
	struct rv *v = NULL;
	mpz_t t, ten;

	if (mpz_sgn(m) == 0)
		return rv_int(0);

	mpz_init_set(t, m);
	mpz_init_set_ui(ten, 10);
	exp += (int64_t)mpz_remove(t, t, ten);

	if (exp >= 0 && exp <= RV_BIG_DIGITS && exact_digits(t) + (size_t)exp <= RV_BIG_DIGITS) {
		mpz_t p;

		mpz_init(p);
		mpz_ui_pow_ui(p, 10, (unsigned long)exp);
		mpz_mul(t, t, p);
		mpz_clear(p);
		if (mpz_fits_slong_p(t))
			v = rv_int(mpz_get_si(t));
		else
			v = make_big(t);
	} else {
		v = make_decimal(t, exp);
	}

	mpz_clear(t);
	mpz_clear(ten);
	return v;
}

struct rv *rv_number_normalize(const struct rv *n)
{
	struct rv_dec d;
	struct rv *v;

	if (!n || n->kind != RV_NUMBER)
		return NULL;
	if (n->num_repr != RV_NUM_DECIMAL)
		return rv_ref((struct rv *)n);
	rv_dec_init_from(&d, n);
	v = rv_number_from_dec(d.m, d.exp);
	rv_dec_clear(&d);
	return v;
}

struct rv *rv_number_decimal(const mpz_t m, int64_t exp)
{
	return make_decimal(m, exp);
}

struct rv *rv_number_from_mpz(const mpz_t z)
{
	if (mpz_fits_slong_p(z))
		return rv_int(mpz_get_si(z));
	return rv_number_from_dec(z, 0);
}

void rv_number_release(struct rv *n)
{
	if (n->num_repr == RV_NUM_BIG) {
		rv_mem_uncharge(mpz_size(n->u.num.big) * sizeof(mp_limb_t));
		mpz_clear(n->u.num.big);
	} else if (n->num_repr == RV_NUM_DECIMAL && n->u.num.big) {
		struct rv_bigdec *bd = n->u.num.big;

		rv_mem_uncharge(mpz_size(bd->m) * sizeof(mp_limb_t));
		mpz_clear(bd->m);
	}
}

void rv_dec_init_from(struct rv_dec *d, const struct rv *n)
{
	switch (n->num_repr) {
	case RV_NUM_INT:
		mpz_init_set_si(d->m, n->u.num.i);
		d->exp = 0;
		break;
	case RV_NUM_BIG:
		mpz_init_set(d->m, n->u.num.big);
		d->exp = 0;
		break;
	default:
		if (n->u.num.big) {
			const struct rv_bigdec *bd = n->u.num.big;

			mpz_init_set(d->m, bd->m);
			d->exp = bd->exp;
		} else {
			mpz_init_set_si(d->m, n->u.num.i);
			d->exp = small_exp(n);
		}
		break;
	}
}

void rv_dec_clear(struct rv_dec *d)
{
	mpz_clear(d->m);
}

/* ---- parsing ---- */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Exponents are read up to this magnitude, and larger ones are rejected. */
#define EXP_READ_MAX 1000000000LL

struct rv *rv_number_parse(const char *text, size_t len)
{
	size_t i = 0, int_start, int_end, frac_start = 0, frac_end = 0;
	bool neg = false, exp_neg = false, decimal_form = false;
	int64_t exp = 0;
	struct rv *v = NULL;
	char *digits = NULL;
	size_t nd = 0;
	mpz_t m;

	if (!text || len == 0)
		return NULL;

	/* Grammar of JSON numbers: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
	if (text[i] == '-') {
		neg = true;
		i++;
	}
	int_start = i;
	if (i < len && text[i] == '0') {
		i++;
	} else {
		if (i >= len || !is_digit(text[i]))
			return NULL;
		while (i < len && is_digit(text[i]))
			i++;
	}
	int_end = i;

	/* Fast path: a plain integer of up to 18 digits fits int64. */
	if (i == len && int_end - int_start <= 18) {
		int64_t x = 0;

		for (size_t k = int_start; k < int_end; k++)
			x = x * 10 + (text[k] - '0');
		return rv_int(neg ? -x : x);
	}

	if (i < len && text[i] == '.') {
		decimal_form = true;
		i++;
		frac_start = i;
		while (i < len && is_digit(text[i]))
			i++;
		frac_end = i;
		if (frac_end == frac_start)
			return NULL;
	}
	if (i < len && (text[i] == 'e' || text[i] == 'E')) {
		size_t exp_start;

		decimal_form = true;
		i++;
		if (i < len && (text[i] == '+' || text[i] == '-')) {
			exp_neg = text[i] == '-';
			i++;
		}
		exp_start = i;
		while (i < len && is_digit(text[i])) {
			if (exp < EXP_READ_MAX)
				exp = exp * 10 + (text[i] - '0');
			i++;
		}
		if (i == exp_start)
			return NULL;
		if (exp_neg)
			exp = -exp;
	}
	if (i != len)
		return NULL;
	if (exp >= EXP_READ_MAX || exp <= -EXP_READ_MAX)
		return NULL;

	/* Gather the significant digits, skipping leading zeros. */
	digits = malloc(len + 1);
	if (!digits)
		return NULL;
	for (size_t k = int_start; k < int_end; k++) {
		if (nd || text[k] != '0')
			digits[nd++] = text[k];
	}
	for (size_t k = frac_start; k < frac_end; k++) {
		if (nd || text[k] != '0')
			digits[nd++] = text[k];
	}
	exp -= (int64_t)(frac_end - frac_start);
	if (nd == 0)
		digits[nd++] = '0';
	digits[nd] = '\0';

	/* The position of the leading digit stays within RV_MAX_EXP, so the
	 * exponent arithmetic below cannot overflow. */
	if (exp + (int64_t)nd > RV_MAX_EXP || exp + (int64_t)nd < -RV_MAX_EXP) {
		free(digits);
		return NULL;
	}

	/* A literal with a fraction or an exponent stays a decimal at the
	 * scale it was written in, as OPA keeps the literal's text: 1.0 prints
	 * as 1.0 and is not an integer index, though it equals 1. */
	mpz_init(m);
	if (mpz_set_str(m, digits, 10) == 0) {
		if (neg)
			mpz_neg(m, m);
		v = decimal_form ? make_decimal(m, exp) : rv_number_from_mpz(m);
	}
	mpz_clear(m);
	free(digits);
	return v;
}

struct rv *rv_double(double d)
{
	char text[40];

	if (!isfinite(d))
		return NULL;
	if (d == (double)(int64_t)d && fabs(d) < 9.2e18)
		return rv_int((int64_t)d);

	/* The shortest text that reads back as d, as Go's strconv prints a
	 * float64 with precision -1. */
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(text, sizeof(text), "%.*e", prec - 1, d);
		if (strtod(text, NULL) == d)
			break;
	}
	return rv_number_parse(text, strlen(text));
}

/* ---- accessors ---- */

/* Strips the trailing zeros of a decimal's mantissa into its exponent, so
 * that each value has one (m, exp). Zero becomes (0, 0). */
static void dec_normalize(struct rv_dec *d)
{
	mpz_t ten;

	if (mpz_sgn(d->m) == 0) {
		d->exp = 0;
		return;
	}
	mpz_init_set_ui(ten, 10);
	d->exp += (int64_t)mpz_remove(d->m, d->m, ten);
	mpz_clear(ten);
}

bool rv_number_is_int(const struct rv *n)
{
	struct rv_dec d;
	bool integral;

	if (!n || n->kind != RV_NUMBER)
		return false;
	if (n->num_repr != RV_NUM_DECIMAL)
		return true;
	if (!n->u.num.big && small_exp(n) >= 0)
		return true;
	rv_dec_init_from(&d, n);
	dec_normalize(&d);
	integral = d.exp >= 0;
	rv_dec_clear(&d);
	return integral;
}

bool rv_number_to_i64(const struct rv *n, int64_t *ret)
{
	struct rv_dec d;
	bool ok = false;

	if (!n || n->kind != RV_NUMBER || n->num_repr == RV_NUM_BIG)
		return false;
	if (n->num_repr == RV_NUM_INT) {
		*ret = n->u.num.i;
		return true;
	}

	/* An integral decimal such as 3.0 or 1e3. */
	rv_dec_init_from(&d, n);
	dec_normalize(&d);
	if (d.exp >= 0 && d.exp <= 18) {
		mpz_t p;

		mpz_init(p);
		mpz_ui_pow_ui(p, 10, (unsigned long)d.exp);
		mpz_mul(d.m, d.m, p);
		mpz_clear(p);
		if (mpz_fits_slong_p(d.m)) {
			*ret = mpz_get_si(d.m);
			ok = true;
		}
	}
	rv_dec_clear(&d);
	return ok;
}

/* Writes m * 10^exp as "<digits>e<exp>" in a malloc'd string for strtod. */
static char *dec_sci_text(const struct rv *n)
{
	struct rv_dec d;
	char *digits, *text;
	size_t size;

	rv_dec_init_from(&d, n);
	digits = mpz_get_str(NULL, 10, d.m);
	size = strlen(digits) + 32;
	text = malloc(size);
	if (text)
		snprintf(text, size, "%se%" PRId64, digits, d.exp);
	free(digits);
	rv_dec_clear(&d);
	return text;
}

double rv_number_to_double(const struct rv *n)
{
	char *text;
	double d;

	if (!n || n->kind != RV_NUMBER)
		return 0;
	if (n->num_repr == RV_NUM_INT)
		return (double)n->u.num.i;
	if (n->num_repr == RV_NUM_DECIMAL && !n->u.num.big && n->u.num.i < (1LL << 53) &&
	    n->u.num.i > -(1LL << 53) && small_exp(n) >= -22 && small_exp(n) <= 22) {
		/* Both factors are exact doubles, so one division or product
		 * is correctly rounded. */
		static const double p10[] = {
			1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
			1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
		};
		int e = small_exp(n);

		return e < 0 ? (double)n->u.num.i / p10[-e] : (double)n->u.num.i * p10[e];
	}

	text = dec_sci_text(n);
	if (!text)
		return NAN;
	errno = 0;
	d = strtod(text, NULL);
	free(text);
	return d;
}

/* ---- printing ---- */

/* Integers print with all their digits. Decimals print their digits at the
 * stored scale (1.0, 2.50, 1e3 as 1000), plain between 1e-6 and 1e21 as Go's
 * encoding/json prints a float64, otherwise with an exponent ("1.5e-7",
 * "1e+21"). */
int rv_number_format(const struct rv *n, struct wd_buf *out)
{
	struct rv_dec d;
	char *digits, *s;
	size_t nd;
	int64_t point;
	int rc = 0;

	if (!n || n->kind != RV_NUMBER)
		return WD_EINVAL;
	if (n->num_repr == RV_NUM_INT)
		return wd_buf_appendf(out, "%" PRId64, n->u.num.i);

	rv_dec_init_from(&d, n);
	digits = mpz_get_str(NULL, 10, d.m);
	if (!digits) {
		rv_dec_clear(&d);
		return WD_ENOMEM;
	}
	s = digits;
	if (*s == '-') {
		WD_GUARD(wd_buf_append_byte(out, '-'));
		s++;
	}
	nd = strlen(s);
	point = (int64_t)nd + d.exp;

	if (mpz_sgn(d.m) == 0) {
		/* 0.00 keeps its scale, 0e5 is 0. */
		WD_GUARD(wd_buf_append_byte(out, '0'));
		if (d.exp < 0 && d.exp > -1000) {
			WD_GUARD(wd_buf_append_byte(out, '.'));
			for (int64_t k = 0; k < -d.exp; k++)
				WD_GUARD(wd_buf_append_byte(out, '0'));
		}
	} else if (d.exp >= 0 && n->num_repr == RV_NUM_BIG) {
		WD_GUARD(wd_buf_append(out, s, nd));
	} else if (point >= -5 && point <= 21) {
		if (d.exp >= 0) {
			WD_GUARD(wd_buf_append(out, s, nd));
			for (int64_t k = 0; k < d.exp; k++)
				WD_GUARD(wd_buf_append_byte(out, '0'));
		} else if (point > 0) {
			WD_GUARD(wd_buf_append(out, s, (size_t)point));
			WD_GUARD(wd_buf_append_byte(out, '.'));
			WD_GUARD(wd_buf_append(out, s + point, nd - (size_t)point));
		} else {
			WD_GUARD(wd_buf_append(out, "0.", 2));
			for (int64_t k = 0; k < -point; k++)
				WD_GUARD(wd_buf_append_byte(out, '0'));
			WD_GUARD(wd_buf_append(out, s, nd));
		}
	} else {
		WD_GUARD(wd_buf_append(out, s, 1));
		if (nd > 1) {
			WD_GUARD(wd_buf_append_byte(out, '.'));
			WD_GUARD(wd_buf_append(out, s + 1, nd - 1));
		}
		WD_GUARD(wd_buf_appendf(out, "e%s%" PRId64, point - 1 >= 0 ? "+" : "", point - 1));
	}

out:
	free(digits);
	rv_dec_clear(&d);
	return rc;
}

/* ---- order and hashing ---- */

static int dec_compare(const struct rv_dec *a, const struct rv_dec *b)
{
	int sa = mpz_sgn(a->m), sb = mpz_sgn(b->m);
	int64_t ma, mb;
	int c;

	if (sa != sb)
		return sa < sb ? -1 : 1;
	if (sa == 0)
		return 0;

	/* Same sign: the position of the leading digit decides unless equal;
	 * then the exponents differ by at most the digit counts, so aligning
	 * them costs no more than the numbers themselves. */
	ma = (int64_t)exact_digits(a->m) + a->exp;
	mb = (int64_t)exact_digits(b->m) + b->exp;
	if (ma != mb)
		return (ma < mb ? -1 : 1) * sa;

	if (a->exp == b->exp) {
		c = mpz_cmp(a->m, b->m);
	} else {
		mpz_t scaled, p;
		bool a_higher = a->exp > b->exp;
		int64_t diff = a_higher ? a->exp - b->exp : b->exp - a->exp;

		mpz_init(scaled);
		mpz_init(p);
		mpz_ui_pow_ui(p, 10, (unsigned long)diff);
		mpz_mul(scaled, a_higher ? a->m : b->m, p);
		c = a_higher ? mpz_cmp(scaled, b->m) : mpz_cmp(a->m, scaled);
		mpz_clear(p);
		mpz_clear(scaled);
	}
	return c < 0 ? -1 : c > 0;
}

int rv_number_compare(const struct rv *a, const struct rv *b)
{
	struct rv_dec da, db;
	int c;

	if (a->num_repr == RV_NUM_INT && b->num_repr == RV_NUM_INT)
		return a->u.num.i < b->u.num.i ? -1 : a->u.num.i > b->u.num.i;
	if (a->num_repr == RV_NUM_BIG && b->num_repr == RV_NUM_INT)
		return mpz_sgn((mpz_srcptr)a->u.num.big);
	if (a->num_repr == RV_NUM_INT && b->num_repr == RV_NUM_BIG)
		return -mpz_sgn((mpz_srcptr)b->u.num.big);
	if (a->num_repr == RV_NUM_BIG && b->num_repr == RV_NUM_BIG) {
		c = mpz_cmp(a->u.num.big, b->u.num.big);
		return c < 0 ? -1 : c > 0;
	}

	rv_dec_init_from(&da, a);
	rv_dec_init_from(&db, b);
	c = dec_compare(&da, &db);
	rv_dec_clear(&da);
	rv_dec_clear(&db);
	return c;
}

static uint64_t mpz_hash(mpz_srcptr z, uint64_t seed)
{
	uint64_t h = seed ^ (uint64_t)mpz_sgn(z);

	for (size_t i = 0; i < mpz_size(z); i++)
		h = rv_mix64(h ^ mpz_getlimbn(z, (mp_size_t)i)) + i;
	return h;
}

/* Each number has one form, so hashing the form is consistent with
 * rv_compare: 1 and 1.0 are both the integer 1. */
uint64_t rv_number_hash(const struct rv *n)
{
	uint64_t h;

	switch (n->num_repr) {
	case RV_NUM_INT:
		return int_hash(n->u.num.i);
	case RV_NUM_BIG:
		h = mpz_hash(n->u.num.big, 0x424947ULL);
		break;
	default: {
		/* A decimal hashes as the integer it may equal (1.0 as 1, 1e30
		 * as that BIG), otherwise by its normalized mantissa and
		 * exponent, so every scale of a value hashes alike. */
		struct rv_dec d;

		rv_dec_init_from(&d, n);
		dec_normalize(&d);
		if (d.exp >= 0 && d.exp <= RV_BIG_DIGITS &&
		    exact_digits(d.m) + (size_t)d.exp <= RV_BIG_DIGITS) {
			mpz_t p;

			mpz_init(p);
			mpz_ui_pow_ui(p, 10, (unsigned long)d.exp);
			mpz_mul(d.m, d.m, p);
			mpz_clear(p);
			if (mpz_fits_slong_p(d.m))
				h = int_hash(mpz_get_si(d.m));
			else
				h = mpz_hash(d.m, 0x424947ULL);
		} else {
			h = mpz_hash(d.m, 0x444543ULL) ^ rv_mix64((uint64_t)d.exp + 0x9e37ULL);
		}
		rv_dec_clear(&d);
		break;
	}
	}
	return h ? h : 1;
}
