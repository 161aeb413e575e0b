/* Arithmetic builtins: plus, minus (also set difference), mul, div, rem, abs,
 * round, ceil, floor and to_number, with OPA's results and messages. */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/error.h"
#include "policy/bi_coll.h"
#include "policy/bi_num.h"

typedef struct rv *(*num_binary_fn)(const struct rv *a, const struct rv *b);
typedef struct rv *(*num_unary_fn)(const struct rv *a);

static int arith_binary(struct rego_bctx *ctx, struct rv *const *args, num_binary_fn op,
			struct rv **ret)
{
	WD_TRY(rego_bi_want(ctx, args, 1, RK_NUMBER));
	WD_TRY(rego_bi_want(ctx, args, 2, RK_NUMBER));

	*ret = op(args[0], args[1]);
	return *ret ? 0 : bi_num_oom(ctx);
}

static int arith_unary(struct rego_bctx *ctx, struct rv *const *args, num_unary_fn op,
		       struct rv **ret)
{
	WD_TRY(rego_bi_want(ctx, args, 1, RK_NUMBER));

	*ret = op(args[0]);
	return *ret ? 0 : bi_num_oom(ctx);
}

int bi_plus(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	(void)nargs;
	return arith_binary(ctx, args, rv_num_add, ret);
}

int bi_mul(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	(void)nargs;
	return arith_binary(ctx, args, rv_num_mul, ret);
}

/* OPA's minus is number subtraction or, on two sets, set difference; its type
 * errors name what the first operand allows. */
int bi_minus(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	const struct rv *a = args[0], *b = args[1];

	(void)nargs;
	if (rv_is(a, RV_NUMBER) && rv_is(b, RV_NUMBER))
		return arith_binary(ctx, args, rv_num_sub, ret);
	if (rv_is(a, RV_SET) && rv_is(b, RV_SET))
		return bi_set_diff(ctx, args, 2, ret);

	if (!rv_is(a, RV_NUMBER) && !rv_is(a, RV_SET))
		return rego_bi_type_error(ctx, 1, "one of {number, set}", a);
	if (rv_is(a, RV_SET))
		return rego_bi_type_error(ctx, 2, "set", b);
	return rego_bi_type_error(ctx, 2, "number", b);
}

int bi_div(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	bool div_zero = false;

	(void)nargs;
	WD_TRY(rego_bi_want(ctx, args, 1, RK_NUMBER));
	WD_TRY(rego_bi_want(ctx, args, 2, RK_NUMBER));

	*ret = rv_num_div(args[0], args[1], &div_zero);
	if (*ret)
		return 0;
	if (div_zero)
		return rego_bi_error(ctx, "divide by zero");
	return bi_num_oom(ctx);
}

/* OPA's remainder exists only for integral operands (2.0 counts), and takes
 * the sign of the dividend as Go's big.Int.Rem does. */
int bi_rem(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	bool div_zero = false;

	(void)nargs;
	WD_TRY(rego_bi_want(ctx, args, 1, RK_NUMBER));
	WD_TRY(rego_bi_want(ctx, args, 2, RK_NUMBER));

	if (!rv_number_is_int(args[0]) || !rv_number_is_int(args[1]))
		return rego_bi_error(ctx, "modulo on floating-point number");

	*ret = rv_num_rem(args[0], args[1], &div_zero);
	if (*ret)
		return 0;
	if (div_zero)
		return rego_bi_error(ctx, "modulo by zero");
	return bi_num_oom(ctx);
}

int bi_abs(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	(void)nargs;
	return arith_unary(ctx, args, rv_num_abs, ret);
}

int bi_round(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	(void)nargs;
	return arith_unary(ctx, args, rv_num_round, ret);
}

int bi_ceil(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	(void)nargs;
	return arith_unary(ctx, args, rv_num_ceil, ret);
}

int bi_floor(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	(void)nargs;
	return arith_unary(ctx, args, rv_num_floor, ret);
}

/* ---- to_number ---- */

/* Returns the length of the valid UTF-8 sequence at s (at most len bytes),
 * or 0 for an invalid one: overlong forms, surrogates and values past
 * U+10FFFF are invalid, as in Go. */
static size_t utf8_sequence_len(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n;
	uint32_t cp;

	if (u[0] >= 0xc2 && u[0] <= 0xdf) {
		n = 2;
		cp = u[0] & 0x1fu;
	} else if (u[0] >= 0xe0 && u[0] <= 0xef) {
		n = 3;
		cp = u[0] & 0x0fu;
	} else if (u[0] >= 0xf0 && u[0] <= 0xf4) {
		n = 4;
		cp = u[0] & 0x07u;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (u[i] & 0x3fu);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Appends s quoted as Go's strconv.Quote does, which OPA's parse errors
 * print: printable text as is, the rest escaped. */
static int append_go_quoted(struct wd_buf *out, const char *s, size_t len)
{
	WD_TRY(wd_buf_append_byte(out, '"'));
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *esc = NULL;

		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\a': esc = "\\a"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		case '\v': esc = "\\v"; break;
		default: break;
		}
		if (esc) {
			WD_TRY(wd_buf_append_str(out, esc));
		} else if (c < 0x20 || c == 0x7f) {
			WD_TRY(wd_buf_appendf(out, "\\x%02x", c));
		} else if (c < 0x80) {
			WD_TRY(wd_buf_append_byte(out, c));
		} else {
			size_t n = utf8_sequence_len(s + i, len - i);

			/* NOTE: valid sequences pass through unchanged, while Go
			 * also escapes runes it does not count as printable. */
			if (n == 0)
				WD_TRY(wd_buf_appendf(out, "\\x%02x", c));
			else
				WD_TRY(wd_buf_append(out, s + i, n));
			if (n > 1)
				i += n - 1;
		}
	}
	return wd_buf_append_byte(out, '"');
}

static bool is_digit_of(char c, bool hex)
{
	return hex ? isxdigit((unsigned char)c) != 0 : (c >= '0' && c <= '9');
}

/* Checks s against the syntax Go's strconv.ParseFloat accepts for finite
 * numbers: decimal, or hexadecimal with a p exponent, with underscores
 * allowed between digits. Writes s without underscores or a leading '+' to
 * out, a buffer of at least len + 3 bytes. */
static bool go_float_syntax(const char *s, size_t len, char *out, bool *ret_hex)
{
	size_t i = 0, o = 0, mant_digits = 0;
	bool hex = false, saw_dot = false;
	char prev = '^';

	if (i < len && (s[i] == '+' || s[i] == '-')) {
		if (s[i] == '-')
			out[o++] = '-';
		i++;
	}
	if (i + 1 < len && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
		hex = true;
		out[o++] = '0';
		out[o++] = 'x';
		i += 2;
		prev = '0';
	}

	for (; i < len; i++) {
		char c = s[i];

		if (c == '_') {
			/* Underscores only between digits or after a base prefix. */
			if (prev != '0')
				return false;
			prev = '_';
			continue;
		}
		if (c == '.' && !saw_dot) {
			if (prev == '_')
				return false;
			saw_dot = true;
			prev = '!';
			out[o++] = c;
			continue;
		}
		if (!is_digit_of(c, hex))
			break;
		mant_digits++;
		prev = '0';
		out[o++] = c;
	}
	if (mant_digits == 0 || prev == '_')
		return false;

	if (i < len && (hex ? (s[i] == 'p' || s[i] == 'P') : (s[i] == 'e' || s[i] == 'E'))) {
		size_t exp_digits = 0;

		out[o++] = s[i++];
		if (i < len && (s[i] == '+' || s[i] == '-'))
			out[o++] = s[i++];
		prev = '^';
		for (; i < len; i++) {
			if (s[i] == '_') {
				if (prev != '0')
					return false;
				prev = '_';
				continue;
			}
			if (s[i] < '0' || s[i] > '9')
				break;
			exp_digits++;
			prev = '0';
			out[o++] = s[i];
		}
		if (exp_digits == 0 || prev == '_')
			return false;
	} else if (hex) {
		/* Go requires the p exponent on hexadecimal floats. */
		return false;
	}

	out[o] = '\0';
	*ret_hex = hex;
	return i == len;
}

/* Rewrites a decimal accepted by ParseFloat into JSON number syntax: ".5"
 * and "5." become "0.5" and "5", and leading zeros go. */
static void decimal_to_json(const char *in, char *out)
{
	const char *p = in;
	size_t o = 0;

	if (*p == '-')
		out[o++] = *p++;
	while (p[0] == '0' && p[1] >= '0' && p[1] <= '9')
		p++;
	if (*p == '.')
		out[o++] = '0';
	for (; *p; p++) {
		if (*p == '.' && !(p[1] >= '0' && p[1] <= '9'))
			continue;
		out[o++] = *p;
	}
	out[o] = '\0';
}

static int string_to_number(struct rego_bctx *ctx, const struct rv *arg, struct rv **ret)
{
	_wd_cleanup_(wd_freep) char *clean = NULL;
	_wd_cleanup_(wd_freep) char *json = NULL;
	const char *s = rv_str(arg);
	size_t len = rv_str_len(arg), start = 0;
	struct wd_buf msg;
	const char *reason = "invalid syntax";
	bool hex = false;
	double d;
	int rc;

	/* OPA rejects the special values before parsing, as a type error. */
	while (start < len && (s[start] == '+' || s[start] == '-'))
		start++;
	if ((len - start == 3 && strncasecmp(s + start, "inf", 3) == 0) ||
	    (len - start == 8 && strncasecmp(s + start, "infinity", 8) == 0) ||
	    (len - start == 3 && strncasecmp(s + start, "nan", 3) == 0))
		return rego_bi_type_error(ctx, 1, "valid number string", arg);

	clean = malloc(len + 4);
	json = malloc(len + 4);
	if (!clean || !json)
		return bi_num_oom(ctx);

	if (memchr(s, '\0', len) == NULL && go_float_syntax(s, len, clean, &hex)) {
		d = strtod(clean, NULL);
		if (isinf(d)) {
			reason = "value out of range";
		} else if (hex) {
			*ret = rv_double(d);
			return *ret ? 0 : bi_num_oom(ctx);
		} else {
			decimal_to_json(clean, json);
			*ret = rv_number_parse(json, strlen(json));
			if (*ret)
				return 0;
			/* The text is valid; only memory can fail here. */
			return bi_num_oom(ctx);
		}
	}

	wd_buf_init(&msg, 128, (size_t)1 << 16);
	rc = wd_buf_append_str(&msg, "strconv.ParseFloat: parsing ");
	if (rc == 0)
		rc = append_go_quoted(&msg, s, len);
	rc = rc == 0 ? rego_bi_error(ctx, "%s: %s", wd_buf_str(&msg), reason)
		     : rego_bi_error(ctx, "strconv.ParseFloat: %s", reason);
	wd_buf_free(&msg);
	return rc;
}

int bi_to_number(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		 struct rv **ret)
{
	struct rv *arg = args[0];

	(void)nargs;
	switch (arg ? rv_kind_of(arg) : RV_SET) {
	case RV_NULL:
		*ret = rv_int(0);
		break;
	case RV_BOOL:
		*ret = rv_int(arg->u.boolean ? 1 : 0);
		break;
	case RV_NUMBER:
		*ret = rv_ref(arg);
		break;
	case RV_STRING:
		return string_to_number(ctx, arg, ret);
	default:
		return rego_bi_type_error(ctx, 1, "one of {null, boolean, number, string}", arg);
	}
	return *ret ? 0 : bi_num_oom(ctx);
}
