/* Number arithmetic with OPA's results: exact on integers of any size, and
 * on other numbers the binary floats with a 64-bit mantissa that OPA's
 * math/big.Float computes with, printed back as their shortest decimal. */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "policy/value.h"
#include "policy/value_impl.h"

/* OPA turns a number into a big.Float with SetString, which gives it 64
 * mantissa bits. Results of +, -, * and / keep that precision and round to
 * nearest, ties to even. */
#define FLOAT_PREC 64

/* Binary exponents beyond this are rejected (NULL): printing such a float
 * exactly would take megabytes, and no literal gets near it. */
#define FLOAT_MAX_EXP2 1400000

/* sign * mant * 2^exp2, mant of exactly FLOAT_PREC bits, or zero. */
struct fl {
	int sign;       /* -1, 0 or 1 */
	mpz_t mant;
	int64_t exp2;
};

static void fl_init(struct fl *f)
{
	f->sign = 0;
	mpz_init(f->mant);
	f->exp2 = 0;
}

static void fl_clear(struct fl *f)
{
	mpz_clear(f->mant);
}

/* Sets f to sign * n * 2^exp2 rounded to FLOAT_PREC bits. sticky tells that
 * nonzero bits were already dropped below n. n is consumed (modified). */
static void fl_round(struct fl *f, int sign, mpz_t n, int64_t exp2, bool sticky)
{
	size_t bits;

	if (mpz_sgn(n) == 0) {
		f->sign = 0;
		mpz_set_ui(f->mant, 0);
		f->exp2 = 0;
		return;
	}
	bits = mpz_sizeinbase(n, 2);
	if (bits <= FLOAT_PREC) {
		mpz_mul_2exp(f->mant, n, FLOAT_PREC - bits);
		f->exp2 = exp2 - (int64_t)(FLOAT_PREC - bits);
	} else {
		size_t shift = bits - FLOAT_PREC;
		bool half = mpz_tstbit(n, shift - 1);
		bool rest = sticky || mpz_scan1(n, 0) < shift - 1;

		mpz_tdiv_q_2exp(f->mant, n, shift);
		if (half && (rest || mpz_odd_p(f->mant)))
			mpz_add_ui(f->mant, f->mant, 1);
		f->exp2 = exp2 + (int64_t)shift;
		if (mpz_sizeinbase(f->mant, 2) > FLOAT_PREC) {
			mpz_tdiv_q_2exp(f->mant, f->mant, 1);
			f->exp2++;
		}
	}
	f->sign = sign;
}

/* The nearest float to a number (correctly rounded). */
static void fl_from_number(struct fl *f, const struct rv *n)
{
	struct rv_dec d;
	int sign;
	mpz_t num, p;

	rv_dec_init_from(&d, n);
	sign = mpz_sgn(d.m);
	mpz_init(num);
	mpz_abs(num, d.m);
	mpz_init(p);

	if (d.exp >= 0) {
		mpz_ui_pow_ui(p, 10, (unsigned long)d.exp);
		mpz_mul(num, num, p);
		fl_round(f, sign, num, 0, false);
	} else {
		/* num / 10^-exp with at least FLOAT_PREC + 2 quotient bits;
		 * the remainder only matters as a sticky bit. */
		size_t nb, db;
		int64_t k;
		mpz_t r;

		mpz_ui_pow_ui(p, 10, (unsigned long)-d.exp);
		nb = mpz_sizeinbase(num, 2);
		db = mpz_sizeinbase(p, 2);
		k = (int64_t)db - (int64_t)nb + FLOAT_PREC + 2;
		if (k < 0)
			k = 0;
		mpz_mul_2exp(num, num, (mp_bitcnt_t)k);
		mpz_init(r);
		mpz_tdiv_qr(num, r, num, p);
		fl_round(f, sign, num, -k, mpz_sgn(r) != 0);
		mpz_clear(r);
	}

	mpz_clear(p);
	mpz_clear(num);
	rv_dec_clear(&d);
}

/* x + s*y, where s is 1 or -1. */
static void fl_add(struct fl *z, const struct fl *x, const struct fl *y, int s)
{
	int ys = y->sign * s;
	mpz_t a, b;
	int64_t e;

	if (y->sign == 0) {
		z->sign = x->sign;
		mpz_set(z->mant, x->mant);
		z->exp2 = x->exp2;
		return;
	}
	if (x->sign == 0) {
		z->sign = ys;
		mpz_set(z->mant, y->mant);
		z->exp2 = y->exp2;
		return;
	}

	/* An operand more than 2^(PREC+3) times smaller than the other is
	 * below half an ulp of it: the sum rounds to the larger one. */
	if (x->exp2 - y->exp2 > FLOAT_PREC + 3) {
		z->sign = x->sign;
		mpz_set(z->mant, x->mant);
		z->exp2 = x->exp2;
		return;
	}
	if (y->exp2 - x->exp2 > FLOAT_PREC + 3) {
		z->sign = ys;
		mpz_set(z->mant, y->mant);
		z->exp2 = y->exp2;
		return;
	}

	mpz_init(a);
	mpz_init(b);
	e = x->exp2 < y->exp2 ? x->exp2 : y->exp2;
	mpz_mul_2exp(a, x->mant, (mp_bitcnt_t)(x->exp2 - e));
	mpz_mul_2exp(b, y->mant, (mp_bitcnt_t)(y->exp2 - e));
	if (x->sign < 0)
		mpz_neg(a, a);
	if (ys < 0)
		mpz_neg(b, b);
	mpz_add(a, a, b);
	{
		int sign = mpz_sgn(a);

		mpz_abs(a, a);
		fl_round(z, sign, a, e, false);
	}
	mpz_clear(a);
	mpz_clear(b);
}

static void fl_mul(struct fl *z, const struct fl *x, const struct fl *y)
{
	mpz_t n;

	mpz_init(n);
	mpz_mul(n, x->mant, y->mant);
	fl_round(z, x->sign * y->sign, n, x->exp2 + y->exp2, false);
	mpz_clear(n);
}

/* y must not be zero. */
static void fl_quo(struct fl *z, const struct fl *x, const struct fl *y)
{
	mpz_t n, r;

	if (x->sign == 0) {
		z->sign = 0;
		mpz_set_ui(z->mant, 0);
		z->exp2 = 0;
		return;
	}
	mpz_init(n);
	mpz_init(r);
	mpz_mul_2exp(n, x->mant, FLOAT_PREC + 2);
	mpz_tdiv_qr(n, r, n, y->mant);
	fl_round(z, x->sign * y->sign, n, x->exp2 - y->exp2 - (FLOAT_PREC + 2),
		 mpz_sgn(r) != 0);
	mpz_clear(n);
	mpz_clear(r);
}

/* The integer part of f, truncated toward zero. */
static void fl_trunc(mpz_t ret, const struct fl *f)
{
	if (f->exp2 >= 0)
		mpz_mul_2exp(ret, f->mant, (mp_bitcnt_t)f->exp2);
	else
		mpz_tdiv_q_2exp(ret, f->mant, (mp_bitcnt_t)-f->exp2);
	if (f->sign < 0)
		mpz_neg(ret, ret);
}

/* ---- shortest decimal ---- */

/* Decimal digits of n * 2^shift (exact) with trailing zeros removed: value =
 * 0.<digits> * 10^*ret_exp. */
struct decimal {
	char *digits;   /* malloc'd by GMP's allocator, NUL-terminated */
	size_t len;
	int64_t exp;
};

static void decimal_init(struct decimal *d, mpz_srcptr n, int64_t shift)
{
	mpz_t x;
	int64_t e10 = 0;

	mpz_init(x);
	if (shift >= 0) {
		mpz_mul_2exp(x, n, (mp_bitcnt_t)shift);
	} else {
		mpz_t p;

		mpz_init(p);
		mpz_ui_pow_ui(p, 5, (unsigned long)-shift);
		mpz_mul(x, n, p);
		mpz_clear(p);
		e10 = shift;
	}
	d->digits = mpz_get_str(NULL, 10, x);
	d->len = strlen(d->digits);
	d->exp = (int64_t)d->len + e10;
	while (d->len > 0 && d->digits[d->len - 1] == '0')
		d->len--;
	d->digits[d->len] = '\0';
	if (d->len == 0)
		d->exp = 0;
	mpz_clear(x);
}

static void decimal_free(struct decimal *d)
{
	void (*gmp_free)(void *, size_t);

	mp_get_memory_functions(NULL, NULL, &gmp_free);
	gmp_free(d->digits, strlen(d->digits) + 1);
}

static char decimal_at(const struct decimal *d, size_t i)
{
	return i < d->len ? d->digits[i] : '0';
}

static void decimal_round_down(struct decimal *d, size_t n)
{
	if (n >= d->len)
		return;
	d->len = n;
	while (d->len > 0 && d->digits[d->len - 1] == '0')
		d->len--;
	d->digits[d->len] = '\0';
}

static void decimal_round_up(struct decimal *d, size_t n)
{
	if (n >= d->len)
		return;
	while (n > 0 && d->digits[n - 1] >= '9')
		n--;
	if (n == 0) {
		d->digits[0] = '1';
		d->len = 1;
		d->exp++;
	} else {
		d->digits[n - 1]++;
		d->len = n;
	}
	d->digits[d->len] = '\0';
}

static void decimal_round(struct decimal *d, size_t n)
{
	bool up;

	if (n >= d->len)
		return;
	if (d->digits[n] == '5' && n + 1 == d->len)
		up = n > 0 && ((d->digits[n - 1] - '0') & 1);
	else
		up = d->digits[n] >= '5';
	if (up)
		decimal_round_up(d, n);
	else
		decimal_round_down(d, n);
}

/* Go's big.Float Text with precision -1: the fewest digits that still round
 * back to f at FLOAT_PREC bits, found between the bounds half an ulp below
 * and above. */
static struct rv *fl_to_number(const struct fl *f)
{
	struct decimal d, lower, upper;
	struct rv *v;
	mpz_t m, t;

	if (f->sign == 0)
		return rv_int(0);
	if (f->exp2 > FLOAT_MAX_EXP2 || f->exp2 < -FLOAT_MAX_EXP2)
		return NULL;

	decimal_init(&d, f->mant, f->exp2);

	mpz_init(m);
	mpz_init(t);
	mpz_mul_2exp(m, f->mant, 1);
	mpz_sub_ui(t, m, 1);
	decimal_init(&lower, t, f->exp2 - 1);
	mpz_add_ui(t, m, 1);
	decimal_init(&upper, t, f->exp2 - 1);

	{
		bool inclusive = mpz_even_p(f->mant);

		for (size_t i = 0; i < d.len; i++) {
			char l = decimal_at(&lower, i);
			char u = decimal_at(&upper, i);
			char c = d.digits[i];
			bool okdown = l != c || (inclusive && i + 1 == lower.len);
			bool okup = c != u && (inclusive || c + 1 < u || i + 1 < upper.len);

			if (okdown && okup) {
				decimal_round(&d, i + 1);
				break;
			}
			if (okdown) {
				decimal_round_down(&d, i + 1);
				break;
			}
			if (okup) {
				decimal_round_up(&d, i + 1);
				break;
			}
		}
	}

	mpz_set_str(m, d.digits, 10);
	if (f->sign < 0)
		mpz_neg(m, m);
	v = rv_number_from_dec(m, d.exp - (int64_t)d.len);

	decimal_free(&d);
	decimal_free(&lower);
	decimal_free(&upper);
	mpz_clear(m);
	mpz_clear(t);
	return v;
}

/* ---- operand limits ---- */

/* Operations that expand m * 10^exp into digits reject operands with an
 * exponent beyond this (NULL): 10^400000 is a 166 KB integer, and products
 * could otherwise double the exponent on every step. */
#define ARITH_MAX_EXP 400000

static bool too_wide(const struct rv *n)
{
	struct rv_dec d;
	bool wide;

	if (n->num_repr != RV_NUM_DECIMAL || !n->u.num.big)
		return false;
	rv_dec_init_from(&d, n);
	wide = d.exp > ARITH_MAX_EXP || d.exp < -ARITH_MAX_EXP;
	rv_dec_clear(&d);
	return wide;
}

/* ---- exact integer arithmetic ---- */

enum op { OP_ADD, OP_SUB, OP_MUL };

/* a op b on integral numbers, exactly. Integral numbers have exponent >= 0,
 * bounded by RV_MAX_EXP for literals. */
static struct rv *exact_op(const struct rv *a, const struct rv *b, enum op op)
{
	struct rv_dec da, db;
	struct rv *v;
	mpz_t r;
	int64_t e;

	if (a->num_repr == RV_NUM_INT && b->num_repr == RV_NUM_INT) {
		int64_t x = a->u.num.i, y = b->u.num.i, z;
		bool overflow;

		if (op == OP_ADD)
			overflow = __builtin_add_overflow(x, y, &z);
		else if (op == OP_SUB)
			overflow = __builtin_sub_overflow(x, y, &z);
		else
			overflow = __builtin_mul_overflow(x, y, &z);
		if (!overflow)
			return rv_int(z);
	}

	if (op != OP_MUL && (too_wide(a) || too_wide(b)))
		return NULL;

	rv_dec_init_from(&da, a);
	rv_dec_init_from(&db, b);
	mpz_init(r);
	if (op == OP_MUL) {
		mpz_mul(r, da.m, db.m);
		e = da.exp + db.exp;
	} else {
		mpz_t p;

		mpz_init(p);
		e = da.exp < db.exp ? da.exp : db.exp;
		mpz_ui_pow_ui(p, 10, (unsigned long)(da.exp - e));
		mpz_mul(da.m, da.m, p);
		mpz_ui_pow_ui(p, 10, (unsigned long)(db.exp - e));
		mpz_mul(db.m, db.m, p);
		if (op == OP_ADD)
			mpz_add(r, da.m, db.m);
		else
			mpz_sub(r, da.m, db.m);
		mpz_clear(p);
	}
	v = rv_number_from_dec(r, e);
	mpz_clear(r);
	rv_dec_clear(&da);
	rv_dec_clear(&db);
	return v;
}

static bool is_number(const struct rv *v)
{
	return v && v->kind == RV_NUMBER;
}

/* Zero in any form: 0, 0.0 or 0e5. */
static bool is_zero(const struct rv *v)
{
	if (v->num_repr == RV_NUM_INT)
		return v->u.num.i == 0;
	if (v->num_repr == RV_NUM_DECIMAL && !v->u.num.big)
		return v->u.num.i == 0;
	if (v->num_repr == RV_NUM_DECIMAL)
		return mpz_sgn(((const struct rv_bigdec *)v->u.num.big)->m) == 0;
	return false;
}

/* Sets ret to the value of an integral number. The caller checked it is
 * integral and not too wide. */
static void integer_of(mpz_t ret, const struct rv *n)
{
	struct rv_dec d;
	mpz_t p;

	rv_dec_init_from(&d, n);
	mpz_init(p);
	if (d.exp >= 0) {
		mpz_ui_pow_ui(p, 10, (unsigned long)d.exp);
		mpz_mul(ret, d.m, p);
	} else {
		mpz_ui_pow_ui(p, 10, (unsigned long)-d.exp);
		mpz_tdiv_q(ret, d.m, p);
	}
	mpz_clear(p);
	rv_dec_clear(&d);
}

static struct rv *float_op(const struct rv *a, const struct rv *b, char op)
{
	struct fl x, y, z;
	struct rv *v;

	if (too_wide(a) || too_wide(b))
		return NULL;
	fl_init(&x);
	fl_init(&y);
	fl_init(&z);
	fl_from_number(&x, a);
	fl_from_number(&y, b);
	switch (op) {
	case '+':
		fl_add(&z, &x, &y, 1);
		break;
	case '-':
		fl_add(&z, &x, &y, -1);
		break;
	case '*':
		fl_mul(&z, &x, &y);
		break;
	default:
		fl_quo(&z, &x, &y);
		break;
	}
	v = fl_to_number(&z);
	fl_clear(&x);
	fl_clear(&y);
	fl_clear(&z);
	return v;
}

struct rv *rv_num_add(const struct rv *a, const struct rv *b)
{
	if (!is_number(a) || !is_number(b))
		return NULL;
	if (rv_number_is_int(a) && rv_number_is_int(b))
		return exact_op(a, b, OP_ADD);
	return float_op(a, b, '+');
}

struct rv *rv_num_sub(const struct rv *a, const struct rv *b)
{
	if (!is_number(a) || !is_number(b))
		return NULL;
	if (rv_number_is_int(a) && rv_number_is_int(b))
		return exact_op(a, b, OP_SUB);
	return float_op(a, b, '-');
}

struct rv *rv_num_mul(const struct rv *a, const struct rv *b)
{
	if (!is_number(a) || !is_number(b))
		return NULL;
	if (rv_number_is_int(a) && rv_number_is_int(b))
		return exact_op(a, b, OP_MUL);
	return float_op(a, b, '*');
}

/* OPA divides ints exactly only when the divisor divides a nonzero
 * dividend; everything else is a float quotient (10 / 4 is 2.5, 1 / 3 is
 * 0.3333333333333333333). */
struct rv *rv_num_div(const struct rv *a, const struct rv *b, bool *ret_div_zero)
{
	if (ret_div_zero)
		*ret_div_zero = false;
	if (!is_number(a) || !is_number(b))
		return NULL;
	if (is_zero(b)) {
		if (ret_div_zero)
			*ret_div_zero = true;
		return NULL;
	}
	if (a->num_repr == RV_NUM_INT && b->num_repr == RV_NUM_INT) {
		int64_t x = a->u.num.i, y = b->u.num.i;

		if (x != 0 && !(x == INT64_MIN && y == -1) && x % y == 0)
			return rv_int(x / y);
	}
	return float_op(a, b, '/');
}

struct rv *rv_num_rem(const struct rv *a, const struct rv *b, bool *ret_div_zero)
{
	struct rv *v;
	mpz_t x, y;

	if (ret_div_zero)
		*ret_div_zero = false;
	if (!is_number(a) || !is_number(b))
		return NULL;
	/* OPA: "modulo on floating-point number" for any non-integer. */
	if (!rv_number_is_int(a) || !rv_number_is_int(b))
		return NULL;
	if (is_zero(b)) {
		if (ret_div_zero)
			*ret_div_zero = true;
		return NULL;
	}
	if (a->num_repr == RV_NUM_INT && b->num_repr == RV_NUM_INT) {
		if (b->u.num.i == -1)
			return rv_int(0);
		return rv_int(a->u.num.i % b->u.num.i);
	}

	/* Truncated remainder (sign of the dividend), as Go's big.Int Rem. */
	if (too_wide(a) || too_wide(b))
		return NULL;
	mpz_init(x);
	mpz_init(y);
	integer_of(x, a);
	integer_of(y, b);
	mpz_tdiv_r(x, x, y);
	v = rv_number_from_mpz(x);
	mpz_clear(x);
	mpz_clear(y);
	return v;
}

struct rv *rv_num_neg(const struct rv *a)
{
	struct rv_dec d;
	struct rv *v;

	if (!is_number(a))
		return NULL;
	if (a->num_repr == RV_NUM_INT && a->u.num.i != INT64_MIN)
		return rv_int(-a->u.num.i);
	/* -(3.00) is -3.00: negation keeps a decimal's written scale. */
	rv_dec_init_from(&d, a);
	mpz_neg(d.m, d.m);
	if (a->num_repr == RV_NUM_DECIMAL)
		v = rv_number_decimal(d.m, d.exp);
	else
		v = rv_number_from_mpz(d.m);
	rv_dec_clear(&d);
	return v;
}

/* Unary operations keep integers exact. On other numbers they run on the
 * 64-bit float as OPA's do. */
enum unary { UN_ABS, UN_ROUND, UN_CEIL, UN_FLOOR };

static struct rv *unary_float(const struct rv *a, enum unary op)
{
	struct fl x, half, t;
	struct rv *v = NULL;
	mpz_t i;
	int c;

	if (too_wide(a))
		return NULL;
	fl_init(&x);
	fl_init(&half);
	fl_init(&t);
	mpz_init(i);
	fl_from_number(&x, a);

	switch (op) {
	case UN_ABS:
		if (x.sign < 0)
			x.sign = 1;
		v = fl_to_number(&x);
		break;
	case UN_ROUND:
		/* Half away from zero: add or subtract 0.5, then truncate. */
		half.sign = 1;
		mpz_set_ui(half.mant, 1);
		mpz_mul_2exp(half.mant, half.mant, FLOAT_PREC - 1);
		half.exp2 = -FLOAT_PREC;
		fl_add(&t, &x, &half, x.sign < 0 ? -1 : 1);
		fl_trunc(i, &t);
		v = rv_number_from_mpz(i);
		break;
	case UN_CEIL:
	case UN_FLOOR:
		/* OPA truncates and then steps by one unless the truncated
		 * value is negative (ceil) or not negative (floor); a zero
		 * integer counts as not negative, so ceil(-0.5) is 1 and
		 * floor(-0.5) is 0 there, and here. */
		fl_trunc(i, &x);
		{
			struct fl fi;
			mpz_t abs_i;

			fl_init(&fi);
			mpz_init(abs_i);
			mpz_abs(abs_i, i);
			fl_round(&fi, mpz_sgn(i), abs_i, 0, false);
			c = (fi.sign == x.sign && mpz_cmp(fi.mant, x.mant) == 0 &&
			     fi.exp2 == x.exp2) || (fi.sign == 0 && x.sign == 0);
			mpz_clear(abs_i);
			fl_clear(&fi);
		}
		if (op == UN_CEIL && !(mpz_sgn(i) < 0 || c))
			mpz_add_ui(i, i, 1);
		else if (op == UN_FLOOR && !(mpz_sgn(i) >= 0 || c))
			mpz_sub_ui(i, i, 1);
		v = rv_number_from_mpz(i);
		break;
	}

	mpz_clear(i);
	fl_clear(&x);
	fl_clear(&half);
	fl_clear(&t);
	return v;
}

/* OPA keeps plain integers as they are and sends every other number through
 * a float, so an integral decimal such as 2.0 comes back as the integer 2. */
static struct rv *unary(const struct rv *a, enum unary op)
{
	struct rv *v;
	mpz_t z;

	if (!is_number(a))
		return NULL;
	if (a->num_repr == RV_NUM_INT || a->num_repr == RV_NUM_BIG) {
		if (op != UN_ABS || rv_compare(a, rv_int(0)) >= 0)
			return rv_ref((struct rv *)a);
		return rv_num_neg(a);
	}
	if (!rv_number_is_int(a))
		return unary_float(a, op);
	if (too_wide(a))
		return NULL;

	mpz_init(z);
	integer_of(z, a);
	if (op == UN_ABS)
		mpz_abs(z, z);
	v = rv_number_from_mpz(z);
	mpz_clear(z);
	return v;
}

struct rv *rv_num_abs(const struct rv *a)
{
	return unary(a, UN_ABS);
}

struct rv *rv_num_round(const struct rv *a)
{
	return unary(a, UN_ROUND);
}

struct rv *rv_num_ceil(const struct rv *a)
{
	return unary(a, UN_CEIL);
}

struct rv *rv_num_floor(const struct rv *a)
{
	return unary(a, UN_FLOOR);
}
