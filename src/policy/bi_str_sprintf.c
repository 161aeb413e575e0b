/* sprintf: Go's fmt.Sprintf over the argument types OPA passes it. Integers
 * arrive as Go ints, larger integers as *big.Int, numbers written with a
 * fraction or exponent as float64, strings as strings, and every other value
 * as its Rego text; verbs, flags and the %!verb(type=value) diagnostics follow
 * Go's fmt package. */
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "common/error.h"
#include "policy/bi_str_util.h"

enum arg_kind { ARG_INT, ARG_BIG, ARG_FLOAT, ARG_STR };

struct fmt_arg {
	enum arg_kind kind;
	int64_t i;
	double f;
	mpz_t big;
	const char *s;
	size_t len;
	char *owned;
};

struct fmt_state {
	struct wd_buf *out;
	bool wid_present, prec_present, minus, plus, sharp, space, zero, plus_v, sharp_v;
	int wid, prec;
	int rc;
};

static const char ldigits[] = "0123456789abcdefx";
static const char udigits[] = "0123456789ABCDEFX";

/* Go's widths and precisions stop at one million. */
#define FMT_NUM_MAX 1000000

static void put(struct fmt_state *f, const void *data, size_t len)
{
	if (f->rc == 0)
		f->rc = wd_buf_append(f->out, data, len);
}

static void put_str(struct fmt_state *f, const char *s)
{
	put(f, s, strlen(s));
}

static void put_byte(struct fmt_state *f, char c)
{
	put(f, &c, 1);
}

static void put_padding(struct fmt_state *f, int n)
{
	char pad = f->zero && !f->minus ? '0' : ' ';

	for (int i = 0; i < n && f->rc == 0; i++)
		put_byte(f, pad);
}

/* Go's fmt.pad: width counts runes. */
static void pad(struct fmt_state *f, const char *s, size_t len)
{
	int width;

	if (!f->wid_present || f->wid == 0) {
		put(f, s, len);
		return;
	}
	width = f->wid - (int)bi_utf8_count(s, len);
	if (!f->minus) {
		put_padding(f, width);
		put(f, s, len);
	} else {
		put(f, s, len);
		put_padding(f, width);
	}
}

/* Strings never pad with zeros (the '0' flag is ignored for them). */
static void pad_string(struct fmt_state *f, const char *s, size_t len)
{
	bool zero = f->zero;

	f->zero = false;
	pad(f, s, len);
	f->zero = zero;
}

/* ---- quoting (strconv.Quote and friends) ---- */

static locale_t quote_locale;
static pthread_once_t quote_locale_once = PTHREAD_ONCE_INIT;

static void quote_locale_open(void)
{
	quote_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

/* strconv.IsPrint: letters, marks, numbers, punctuation, symbols and the
 * ASCII space. NOTE: outside ASCII this uses the C.UTF-8 locale's classes,
 * which may differ from Go's tables for rare code points. */
static bool rune_is_print(uint32_t r)
{
	if (r < 0x80)
		return r >= 0x20 && r < 0x7F;
	if (r == 0xAD || r == 0xFEFF || (r >= 0x2000 && r <= 0x200F) || r == 0x00A0 ||
	    r == 0x1680 || (r >= 0x2028 && r <= 0x202F) || r == 0x205F || r == 0x3000)
		return false;
	pthread_once(&quote_locale_once, quote_locale_open);
	if (!quote_locale)
		return r >= 0xA0;
	return iswgraph_l((wint_t)r, quote_locale) != 0;
}

static void quote_rune_into(struct wd_buf *b, uint32_t r, size_t width, const char *raw,
			    char quote, bool ascii_only, int *rc)
{
	char tmp[16];

	if (*rc < 0)
		return;
	if (width == 1 && r == BI_RUNE_ERROR) {
		snprintf(tmp, sizeof(tmp), "\\x%02x", (uint8_t)raw[0]);
		*rc = wd_buf_append_str(b, tmp);
		return;
	}
	if (r == (uint32_t)quote || r == '\\') {
		tmp[0] = '\\';
		tmp[1] = (char)r;
		*rc = wd_buf_append(b, tmp, 2);
		return;
	}
	if (ascii_only ? (r < 0x80 && rune_is_print(r)) : rune_is_print(r)) {
		*rc = bi_buf_rune(b, r);
		return;
	}
	switch (r) {
	case '\a': *rc = wd_buf_append_str(b, "\\a"); return;
	case '\b': *rc = wd_buf_append_str(b, "\\b"); return;
	case '\f': *rc = wd_buf_append_str(b, "\\f"); return;
	case '\n': *rc = wd_buf_append_str(b, "\\n"); return;
	case '\r': *rc = wd_buf_append_str(b, "\\r"); return;
	case '\t': *rc = wd_buf_append_str(b, "\\t"); return;
	case '\v': *rc = wd_buf_append_str(b, "\\v"); return;
	default:
		break;
	}
	if (r < ' ' || r == 0x7F)
		snprintf(tmp, sizeof(tmp), "\\x%02x", r);
	else if (r < 0x10000)
		snprintf(tmp, sizeof(tmp), "\\u%04x", r);
	else
		snprintf(tmp, sizeof(tmp), "\\U%08x", r);
	*rc = wd_buf_append_str(b, tmp);
}

static int quote_string(struct wd_buf *b, const char *s, size_t len, bool ascii_only)
{
	int rc = wd_buf_append_byte(b, '"');

	for (size_t pos = 0; pos < len && rc == 0;) {
		size_t start = pos;
		uint32_t r = bi_utf8_next(s, len, &pos);

		quote_rune_into(b, r, pos - start, s + start, '"', ascii_only, &rc);
	}
	if (rc == 0)
		rc = wd_buf_append_byte(b, '"');
	return rc;
}

static bool can_backquote(const char *s, size_t len)
{
	for (size_t pos = 0; pos < len;) {
		size_t start = pos;
		uint32_t r = bi_utf8_next(s, len, &pos);

		if (r == BI_RUNE_ERROR && pos - start == 1)
			return false;
		if (r == '`' || r == 0xFEFF || r == 0x7F || (r < ' ' && r != '\t'))
			return false;
	}
	return true;
}

/* Go's truncate: at most prec runes. */
static size_t truncate_len(struct fmt_state *f, const char *s, size_t len)
{
	size_t pos = 0;

	if (!f->prec_present)
		return len;
	for (int n = 0; pos < len && n < f->prec; n++)
		bi_utf8_next(s, len, &pos);
	return pos;
}

static void fmt_q(struct fmt_state *f, const char *s, size_t len)
{
	struct wd_buf q;

	len = truncate_len(f, s, len);
	wd_buf_init(&q, len + 2, BI_STR_MAX);
	if (f->sharp && can_backquote(s, len)) {
		if (f->rc == 0)
			f->rc = wd_buf_append_byte(&q, '`');
		if (f->rc == 0)
			f->rc = wd_buf_append(&q, s, len);
		if (f->rc == 0)
			f->rc = wd_buf_append_byte(&q, '`');
	} else if (f->rc == 0) {
		f->rc = quote_string(&q, s, len, f->plus);
	}
	if (f->rc == 0)
		pad_string(f, wd_buf_str(&q), wd_buf_len(&q));
	wd_buf_free(&q);
}

/* ---- integers ---- */

static void fmt_integer(struct fmt_state *f, uint64_t u, int base, bool is_signed, char verb,
			const char *digits)
{
	bool negative = is_signed && (int64_t)u < 0;
	char small[80];
	char *buf = small;
	size_t cap = sizeof(small), i;
	int prec = 0;
	bool zero = f->zero;

	if (negative)
		u = -u;

	if (f->wid_present || f->prec_present) {
		size_t width = 3 + (size_t)f->wid + (size_t)f->prec;

		if (width > cap) {
			buf = malloc(width);
			if (!buf) {
				f->rc = WD_ENOMEM;
				return;
			}
			cap = width;
		}
	}

	if (f->prec_present) {
		prec = f->prec;
		if (prec == 0 && u == 0) {
			f->zero = false;
			put_padding(f, f->wid);
			f->zero = zero;
			goto out;
		}
	} else if (f->zero && !f->minus && f->wid_present) {
		prec = f->wid;
		if (negative || f->plus || f->space)
			prec--;
	}

	i = cap;
	do {
		buf[--i] = digits[u % (uint64_t)base];
		u /= (uint64_t)base;
	} while (u > 0);
	while (i > 0 && prec > (int)(cap - i))
		buf[--i] = '0';

	if (f->sharp) {
		if (base == 2) {
			buf[--i] = 'b';
			buf[--i] = '0';
		} else if (base == 8 && buf[i] != '0') {
			buf[--i] = '0';
		} else if (base == 16) {
			buf[--i] = digits[16];
			buf[--i] = '0';
		}
	}
	if (verb == 'O') {
		buf[--i] = 'o';
		buf[--i] = '0';
	}
	if (negative)
		buf[--i] = '-';
	else if (f->plus)
		buf[--i] = '+';
	else if (f->space)
		buf[--i] = ' ';

	f->zero = false;
	pad(f, buf + i, cap - i);
	f->zero = zero;
out:
	if (buf != small)
		free(buf);
}

static void fmt_unicode(struct fmt_state *f, uint64_t u)
{
	char buf[64], tail[16] = "";
	int prec = 4;
	bool zero = f->zero;
	size_t n;

	if (f->prec_present && f->prec > 4)
		prec = f->prec > 40 ? 40 : f->prec;
	if (f->sharp && u <= 0x10FFFF && rune_is_print((uint32_t)u)) {
		char rune[4];
		size_t w = bi_utf8_put((uint32_t)u, rune);

		snprintf(tail, sizeof(tail), " '%.*s'", (int)w, rune);
	}
	n = (size_t)snprintf(buf, sizeof(buf), "U+%0*llX%s", prec, (unsigned long long)u, tail);
	f->zero = false;
	pad(f, buf, n < sizeof(buf) ? n : sizeof(buf) - 1);
	f->zero = zero;
}

static void fmt_c(struct fmt_state *f, uint64_t c, bool quoted)
{
	uint32_t r = c > 0x10FFFF ? BI_RUNE_ERROR : (uint32_t)c;
	struct wd_buf q;
	char tmp[4];
	int rc = 0;

	if (!quoted) {
		pad(f, tmp, bi_utf8_put(r, tmp));
		return;
	}
	if (r >= 0xD800 && r <= 0xDFFF)
		r = BI_RUNE_ERROR;
	wd_buf_init(&q, 16, 64);
	rc = wd_buf_append_byte(&q, '\'');
	quote_rune_into(&q, r, bi_utf8_put(r, tmp), tmp, '\'', f->plus, &rc);
	if (rc == 0)
		rc = wd_buf_append_byte(&q, '\'');
	if (rc == 0)
		pad(f, wd_buf_str(&q), wd_buf_len(&q));
	else
		f->rc = rc;
	wd_buf_free(&q);
}

/* ---- floats ---- */

/* Shortest decimal digits that read back as v: digits in d (no dot), the
 * decimal point position in *dp (value = 0.d × 10^dp). */
static void shortest_digits(double v, char *d, size_t cap, int *ret_nd, int *ret_dp)
{
	char tmp[40];
	int nd = 0, exp10 = 0;

	if (v == 0) {
		snprintf(d, cap, "0");
		*ret_nd = 1;
		*ret_dp = 1;
		return;
	}
	for (int p = 1; p <= 17; p++) {
		snprintf(tmp, sizeof(tmp), "%.*e", p - 1, v);
		if (strtod(tmp, NULL) == v)
			break;
	}

	/* tmp is d.ddde±xx; collect the digits and the exponent. */
	for (const char *s = tmp; *s && *s != 'e'; s++)
		if (*s >= '0' && *s <= '9' && (size_t)nd + 1 < cap)
			d[nd++] = *s;
	exp10 = (int)strtol(strchr(tmp, 'e') + 1, NULL, 10);
	while (nd > 1 && d[nd - 1] == '0')
		nd--;
	d[nd] = '\0';
	*ret_nd = nd;
	*ret_dp = exp10 + 1;
}

/* strconv.FormatFloat(v, 'g'/'G', -1, 64) without the sign. */
static void format_shortest_g(double v, bool upper, struct wd_buf *b, int *rc)
{
	char d[32], tmp[64];
	int nd, dp, exp;

	shortest_digits(fabs(v), d, sizeof(d), &nd, &dp);
	exp = dp - 1;
	if (exp < -4 || exp >= 6) {
		/* d.ddde±XX */
		snprintf(tmp, sizeof(tmp), "%c%s%.*s%c%c%02d", d[0], nd > 1 ? "." : "", nd - 1,
			 d + 1, upper ? 'E' : 'e', exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
		*rc = wd_buf_append_str(b, tmp);
		return;
	}
	if (dp <= 0) {
		*rc = wd_buf_append_str(b, "0.");
		for (int i = 0; i < -dp && *rc == 0; i++)
			*rc = wd_buf_append_byte(b, '0');
		if (*rc == 0)
			*rc = wd_buf_append(b, d, (size_t)nd);
		return;
	}
	if (nd <= dp) {
		*rc = wd_buf_append(b, d, (size_t)nd);
		for (int i = nd; i < dp && *rc == 0; i++)
			*rc = wd_buf_append_byte(b, '0');
		return;
	}
	*rc = wd_buf_append(b, d, (size_t)dp);
	if (*rc == 0)
		*rc = wd_buf_append_byte(b, '.');
	if (*rc == 0)
		*rc = wd_buf_append(b, d + dp, (size_t)(nd - dp));
}

/* Go writes at least two exponent digits for %x too ("p+01"). */
static void fix_hex_exponent(char *s, size_t cap)
{
	char *p = strchr(s, 'p');

	if (!p)
		p = strchr(s, 'P');
	if (!p || !p[1] || !p[2] || p[3])
		return;
	if (strlen(s) + 2 > cap)
		return;
	p[4] = '\0';
	p[3] = p[2];
	p[2] = '0';
}

/* snprintf with the C conversion matching a Go float verb; returns the
 * length the full text needs. */
static int c_format(char *out, size_t cap, char conv, int prec, double v)
{
	switch (conv) {
	case 'e': return snprintf(out, cap, "%.*e", prec, v);
	case 'E': return snprintf(out, cap, "%.*E", prec, v);
	case 'f': return snprintf(out, cap, "%.*f", prec, v);
	case 'g': return snprintf(out, cap, "%.*g", prec, v);
	case 'G': return snprintf(out, cap, "%.*G", prec, v);
	case 'a': return prec < 0 ? snprintf(out, cap, "%a", v) : snprintf(out, cap, "%.*a", prec, v);
	case 'A': return prec < 0 ? snprintf(out, cap, "%A", v) : snprintf(out, cap, "%.*A", prec, v);
	default: return snprintf(out, cap, "%s", "");
	}
}

/* The unsigned text of |v| for a float verb, as strconv.AppendFloat. */
static void format_float_abs(double v, char verb, int prec, struct wd_buf *b, int *rc)
{
	char tmp[512];
	char conv = verb;
	int n;

	v = fabs(v);
	if (verb == 'b') {
		int e2;
		double m = frexp(v, &e2);
		uint64_t mant = (uint64_t)ldexp(m, 53);

		if (v == 0)
			snprintf(tmp, sizeof(tmp), "0p-1074");
		else
			snprintf(tmp, sizeof(tmp), "%llup%+d", (unsigned long long)mant, e2 - 53);
		*rc = wd_buf_append_str(b, tmp);
		return;
	}
	if ((verb == 'g' || verb == 'G') && prec < 0) {
		format_shortest_g(v, verb == 'G', b, rc);
		return;
	}
	if (verb == 'x' || verb == 'X')
		conv = verb == 'x' ? 'a' : 'A';

	n = c_format(tmp, sizeof(tmp), conv, prec, v);
	if (n < 0) {
		*rc = WD_EINVAL;
		return;
	}
	if ((size_t)n >= sizeof(tmp)) {
		/* Large fixed-point output: format into an exact-size block. */
		char *big = malloc((size_t)n + 1);

		if (!big) {
			*rc = WD_ENOMEM;
			return;
		}
		c_format(big, (size_t)n + 1, conv, prec, v);
		*rc = wd_buf_append(b, big, (size_t)n);
		free(big);
		return;
	}
	if (verb == 'x' || verb == 'X')
		fix_hex_exponent(tmp, sizeof(tmp));
	*rc = wd_buf_append_str(b, tmp);
}

static void fmt_float(struct fmt_state *f, double v, char verb, int prec)
{
	struct wd_buf num;
	char sign;
	int rc = 0;

	if (f->prec_present)
		prec = f->prec;
	if (verb == 'F')
		verb = 'f';

	wd_buf_init(&num, 32, BI_STR_MAX);
	sign = signbit(v) ? '-' : '+';
	if (f->space && sign == '+' && !f->plus)
		sign = ' ';
	rc = wd_buf_append_byte(&num, (uint8_t)sign);
	if (rc == 0)
		format_float_abs(v, verb, prec, &num, &rc);

	if (rc == 0 && f->sharp && verb != 'b') {
		/* '#' keeps a decimal point and, for %g, the trailing zeros. */
		const char *s = wd_buf_str(&num);
		size_t len = wd_buf_len(&num), cut = len;
		int digits = 0;
		bool has_dot = false, nonzero = false;
		char tail[16] = "";

		if (verb == 'g' || verb == 'G' || verb == 'x' || verb == 'X')
			digits = prec == -1 ? 6 : prec;
		for (size_t i = 1; i < len; i++) {
			char c = s[i];

			if (c == '.') {
				has_dot = true;
			} else if (c == 'p' || c == 'P' ||
				   ((c == 'e' || c == 'E') && verb != 'x' && verb != 'X')) {
				snprintf(tail, sizeof(tail), "%s", s + i);
				cut = i;
				break;
			} else {
				if (c != '0')
					nonzero = true;
				if (nonzero)
					digits--;
			}
		}
		wd_buf_truncate(&num, cut);
		if (!has_dot) {
			if (cut == 2 && wd_buf_str(&num)[1] == '0')
				digits--;
			rc = wd_buf_append_byte(&num, '.');
		}
		for (; digits > 0 && rc == 0; digits--)
			rc = wd_buf_append_byte(&num, '0');
		if (rc == 0)
			rc = wd_buf_append_str(&num, tail);
	}
	if (rc < 0) {
		f->rc = rc;
		wd_buf_free(&num);
		return;
	}

	{
		const char *s = wd_buf_str(&num);
		size_t len = wd_buf_len(&num);

		if (f->plus || s[0] != '+') {
			if (f->zero && !f->minus && f->wid_present && (size_t)f->wid > len) {
				put_byte(f, s[0]);
				put_padding(f, f->wid - (int)len);
				put(f, s + 1, len - 1);
			} else {
				pad(f, s, len);
			}
		} else {
			pad(f, s + 1, len - 1);
		}
	}
	wd_buf_free(&num);
}

/* ---- big integers (big.Int's Format) ---- */

static void fmt_big(struct fmt_state *f, const mpz_t z, char verb)
{
	const char *sign = "", *prefix = "";
	char *digits;
	int base, left = 0, zeros = 0, right = 0;
	size_t nd, length;

	switch (verb) {
	case 'b': base = 2; break;
	case 'o': case 'O': base = 8; break;
	case 'd': case 's': case 'v': base = 10; break;
	case 'x': case 'X': base = 16; break;
	default: {
		char *text = mpz_get_str(NULL, 10, z);

		if (!text) {
			f->rc = WD_ENOMEM;
			return;
		}
		put_str(f, "%!");
		put_byte(f, verb);
		put_str(f, "(big.Int=");
		put_str(f, text);
		put_byte(f, ')');
		free(text);
		return;
	}
	}

	if (mpz_sgn(z) < 0)
		sign = "-";
	else if (f->plus || f->plus_v)
		sign = "+";
	else if (f->space)
		sign = " ";
	if (f->sharp || f->sharp_v) {
		if (verb == 'b')
			prefix = "0b";
		else if (verb == 'o')
			prefix = "0";
		else if (verb == 'x')
			prefix = "0x";
		else if (verb == 'X')
			prefix = "0X";
	}
	if (verb == 'O')
		prefix = "0o";

	digits = mpz_get_str(NULL, verb == 'X' ? -16 : base, z);
	if (!digits) {
		f->rc = WD_ENOMEM;
		return;
	}
	{
		char *d = digits[0] == '-' ? digits + 1 : digits;

		nd = strlen(d);
		if (f->prec_present) {
			if ((int)nd < f->prec)
				zeros = f->prec - (int)nd;
			else if (nd == 1 && d[0] == '0' && f->prec == 0)
				goto out;
		}
		length = strlen(sign) + strlen(prefix) + (size_t)zeros + nd;
		if (f->wid_present && (int)length < f->wid) {
			int pad_n = f->wid - (int)length;

			if (f->minus)
				right = pad_n;
			else if (f->zero && !f->prec_present)
				zeros = pad_n;
			else
				left = pad_n;
		}
		for (int i = 0; i < left; i++)
			put_byte(f, ' ');
		put_str(f, sign);
		put_str(f, prefix);
		for (int i = 0; i < zeros; i++)
			put_byte(f, '0');
		put(f, d, nd);
		for (int i = 0; i < right; i++)
			put_byte(f, ' ');
	}
out:
	free(digits);
}

/* ---- dispatch ---- */

static const char *type_name(const struct fmt_arg *a)
{
	switch (a->kind) {
	case ARG_INT: return "int";
	case ARG_BIG: return "*big.Int";
	case ARG_FLOAT: return "float64";
	default: return "string";
	}
}

static void print_arg(struct fmt_state *f, const struct fmt_arg *a, uint32_t verb);

/* %!verb(type=value), the value printed with %v and the current flags. */
static void bad_verb(struct fmt_state *f, const struct fmt_arg *a, uint32_t verb)
{
	put_str(f, "%!");
	if (f->rc == 0)
		f->rc = bi_buf_rune(f->out, verb);
	put_byte(f, '(');
	put_str(f, type_name(a));
	put_byte(f, '=');
	print_arg(f, a, 'v');
	put_byte(f, ')');
}

static void print_arg(struct fmt_state *f, const struct fmt_arg *a, uint32_t verb)
{
	if (verb == 'T') {
		pad_string(f, type_name(a), strlen(type_name(a)));
		return;
	}

	switch (a->kind) {
	case ARG_INT:
		switch (verb) {
		case 'v': case 'd': fmt_integer(f, (uint64_t)a->i, 10, true, (char)verb, ldigits); return;
		case 'b': fmt_integer(f, (uint64_t)a->i, 2, true, (char)verb, ldigits); return;
		case 'o': case 'O': fmt_integer(f, (uint64_t)a->i, 8, true, (char)verb, ldigits); return;
		case 'x': fmt_integer(f, (uint64_t)a->i, 16, true, (char)verb, ldigits); return;
		case 'X': fmt_integer(f, (uint64_t)a->i, 16, true, (char)verb, udigits); return;
		case 'c': fmt_c(f, (uint64_t)a->i, false); return;
		case 'q': fmt_c(f, (uint64_t)a->i, true); return;
		case 'U': fmt_unicode(f, (uint64_t)a->i); return;
		default: break;
		}
		break;
	case ARG_BIG:
		fmt_big(f, a->big, (char)(verb < 0x80 ? verb : '?'));
		return;
	case ARG_FLOAT:
		switch (verb) {
		case 'v': fmt_float(f, a->f, 'g', -1); return;
		case 'b': case 'g': case 'G': case 'x': case 'X':
			fmt_float(f, a->f, (char)verb, -1);
			return;
		case 'f': case 'e': case 'E': case 'F':
			fmt_float(f, a->f, (char)verb, 6);
			return;
		default: break;
		}
		break;
	case ARG_STR:
		switch (verb) {
		case 'v':
			if (f->sharp_v) {
				fmt_q(f, a->s, a->len);
				return;
			}
			/* fall through */
		case 's':
			pad_string(f, a->s, truncate_len(f, a->s, a->len));
			return;
		case 'x':
		case 'X': {
			const char *digits = verb == 'x' ? ldigits : udigits;
			size_t length = a->len, width;

			if (f->prec_present && (size_t)f->prec < length)
				length = (size_t)f->prec;
			width = 2 * length;
			if (width == 0) {
				if (f->wid_present)
					put_padding(f, f->wid);
				return;
			}
			if (f->space)
				width = (f->sharp ? width * 2 : width) + length - 1;
			else if (f->sharp)
				width += 2;
			if (f->wid_present && (size_t)f->wid > width && !f->minus)
				put_padding(f, f->wid - (int)width);
			if (f->sharp) {
				put_byte(f, '0');
				put_byte(f, digits[16]);
			}
			for (size_t i = 0; i < length; i++) {
				uint8_t c = (uint8_t)a->s[i];


				if (f->space && i > 0) {
					put_byte(f, ' ');
					if (f->sharp) {
						put_byte(f, '0');
						put_byte(f, digits[16]);
					}
				}
				put_byte(f, digits[c >> 4]);
				put_byte(f, digits[c & 0xF]);
			}
			if (f->wid_present && (size_t)f->wid > width && f->minus)
				put_padding(f, f->wid - (int)width);
			return;
		}
		case 'q':
			fmt_q(f, a->s, a->len);
			return;
		default:
			break;
		}
		break;
	}
	bad_verb(f, a, verb);
}

static bool too_large(long n)
{
	return n > FMT_NUM_MAX || n < -FMT_NUM_MAX;
}

/* Go's parsenum: digits from s[*i] up to end. */
static bool parse_num(const char *s, size_t *i, size_t end, int *ret)
{
	long num = 0;
	bool isnum = false;
	size_t k;

	for (k = *i; k < end && s[k] >= '0' && s[k] <= '9'; k++) {
		if (too_large(num)) {
			*i = end;
			*ret = 0;
			return false;
		}
		num = num * 10 + (s[k] - '0');
		isnum = true;
	}
	*i = k;
	*ret = (int)num;
	return isnum;
}

/* Go's argNumber: an explicit [n] index. */
static bool arg_number(const char *s, size_t *i, size_t end, size_t nargs, size_t *arg_num,
		       bool *reordered, bool *good)
{
	size_t k;

	if (*i >= end || s[*i] != '[')
		return false;
	*reordered = true;

	if (end - *i < 3) {
		*i += 1;
		*good = false;
		return false;
	}
	for (k = *i + 1; k < end; k++) {
		if (s[k] == ']') {
			size_t p = *i + 1;
			int n;
			bool ok = parse_num(s, &p, k, &n);

			*i = k + 1;
			if (!ok || p != k) {
				*good = false;
				return false;
			}
			if (n - 1 >= 0 && (size_t)(n - 1) < nargs) {
				*arg_num = (size_t)(n - 1);
				return true;
			}
			*good = false;
			return true;
		}
	}
	*i += 1;
	*good = false;
	return false;
}

/* A '*' width or precision: the argument must be an integer. */
static bool int_from_arg(const struct fmt_arg *args, size_t nargs, size_t *arg_num, int *ret)
{
	bool ok = false;

	*ret = 0;
	if (*arg_num < nargs) {
		const struct fmt_arg *a = &args[*arg_num];

		if (a->kind == ARG_INT && !too_large((long)a->i)) {
			*ret = (int)a->i;
			ok = true;
		}
		*arg_num += 1;
	}
	return ok;
}

static void do_printf(struct fmt_state *f, const char *format, size_t end,
		      const struct fmt_arg *args, size_t nargs)
{
	size_t arg_num = 0, i = 0;
	bool after_index = false, reordered = false;

	while (i < end && f->rc == 0) {
		bool good = true;
		size_t lasti = i;
		uint32_t verb;

		while (i < end && format[i] != '%')
			i++;
		if (i > lasti)
			put(f, format + lasti, i - lasti);
		if (i >= end)
			break;
		i++;

		f->wid_present = f->prec_present = f->minus = f->plus = false;
		f->sharp = f->space = f->zero = f->plus_v = f->sharp_v = false;
		f->wid = f->prec = 0;

		for (; i < end; i++) {
			char c = format[i];

			if (c == '#')
				f->sharp = true;
			else if (c == '0')
				f->zero = !f->minus;
			else if (c == '+')
				f->plus = true;
			else if (c == '-') {
				f->minus = true;
				f->zero = false;
			} else if (c == ' ')
				f->space = true;
			else
				break;
		}

		after_index = arg_number(format, &i, end, nargs, &arg_num, &reordered, &good);

		if (i < end && format[i] == '*') {
			i++;
			f->wid_present = int_from_arg(args, nargs, &arg_num, &f->wid);
			if (!f->wid_present)
				put_str(f, "%!(BADWIDTH)");
			if (f->wid < 0) {
				f->wid = -f->wid;
				f->minus = true;
				f->zero = false;
			}
			after_index = false;
		} else {
			f->wid_present = parse_num(format, &i, end, &f->wid);
			if (after_index && f->wid_present)
				good = false;
		}

		if (i + 1 < end && format[i] == '.') {
			i++;
			if (after_index)
				good = false;
			after_index = arg_number(format, &i, end, nargs, &arg_num, &reordered, &good);
			if (i < end && format[i] == '*') {
				i++;
				f->prec_present = int_from_arg(args, nargs, &arg_num, &f->prec);
				if (f->prec < 0) {
					f->prec = 0;
					f->prec_present = false;
				}
				if (!f->prec_present)
					put_str(f, "%!(BADPREC)");
				after_index = false;
			} else {
				f->prec_present = parse_num(format, &i, end, &f->prec);
				if (!f->prec_present) {
					f->prec = 0;
					f->prec_present = true;
				}
			}
		}

		if (!after_index)
			after_index = arg_number(format, &i, end, nargs, &arg_num, &reordered, &good);

		if (i >= end) {
			put_str(f, "%!(NOVERB)");
			break;
		}
		{
			size_t pos = i;

			verb = bi_utf8_next(format, end, &pos);
			i = pos;
		}

		if (verb == '%') {
			put_byte(f, '%');
		} else if (!good) {
			put_str(f, "%!");
			if (f->rc == 0)
				f->rc = bi_buf_rune(f->out, verb);
			put_str(f, "(BADINDEX)");
		} else if (arg_num >= nargs) {
			put_str(f, "%!");
			if (f->rc == 0)
				f->rc = bi_buf_rune(f->out, verb);
			put_str(f, "(MISSING)");
		} else {
			if (verb == 'v') {
				f->sharp_v = f->sharp;
				f->sharp = false;
				f->plus_v = f->plus;
				f->plus = false;
			}
			if (verb == 'w') {
				bad_verb(f, &args[arg_num], verb);
			} else {
				print_arg(f, &args[arg_num], verb);
			}
			arg_num++;
		}
	}

	if (!reordered && arg_num < nargs && f->rc == 0) {
		f->wid_present = f->prec_present = f->minus = f->plus = false;
		f->sharp = f->space = f->zero = f->plus_v = f->sharp_v = false;
		put_str(f, "%!(EXTRA ");
		for (size_t k = arg_num; k < nargs; k++) {
			if (k > arg_num)
				put_str(f, ", ");
			put_str(f, type_name(&args[k]));
			put_byte(f, '=');
			print_arg(f, &args[k], 'v');
		}
		put_byte(f, ')');
	}
}

/* Converts one Rego value as OPA's sprintf does before calling fmt. */
static int convert_arg(const struct rv *v, struct fmt_arg *a)
{
	struct wd_buf text;
	int rc;

	memset(a, 0, sizeof(*a));
	if (rv_is(v, RV_STRING)) {
		a->kind = ARG_STR;
		a->s = rv_str(v);
		a->len = rv_str_len(v);
		return 0;
	}

	wd_buf_init(&text, 32, BI_STR_MAX);
	if (rv_is(v, RV_NUMBER)) {
		if (v->num_repr == RV_NUM_INT && rv_number_to_i64(v, &a->i)) {
			a->kind = ARG_INT;
			wd_buf_free(&text);
			return 0;
		}
		rc = rv_number_format(v, &text);
		if (rc < 0)
			goto out;
		if (v->num_repr != RV_NUM_DECIMAL) {
			a->kind = ARG_BIG;
			mpz_init(a->big);
			if (mpz_set_str(a->big, wd_buf_str(&text), 10) == 0) {
				wd_buf_free(&text);
				return 0;
			}
			mpz_clear(a->big);
		} else {
			a->f = rv_number_to_double(v);
			if (isfinite(a->f)) {
				a->kind = ARG_FLOAT;
				wd_buf_free(&text);
				return 0;
			}
		}
	} else {
		rc = rv_write_rego(v, &text);
		if (rc < 0)
			goto out;
	}

	a->kind = ARG_STR;
	a->owned = wd_buf_take(&text, &a->len);
	if (!a->owned)
		return WD_ENOMEM;
	a->s = a->owned;
	return 0;
out:
	wd_buf_free(&text);
	return rc;
}

static void free_args(struct fmt_arg *args, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (args[i].kind == ARG_BIG)
			mpz_clear(args[i].big);
		free(args[i].owned);
	}
	free(args);
}

int bi_sprintf(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	struct fmt_arg *fargs = NULL;
	struct fmt_state f = { 0 };
	struct wd_buf out;
	const char *format;
	size_t format_len, n = 0;
	int rc = 0;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &format, &format_len));
	WD_TRY(rego_bi_want(ctx, args, 2, RK_ARRAY));

	n = rv_array_len(args[1]);
	fargs = calloc(n ? n : 1, sizeof(*fargs));
	if (!fargs)
		return bi_fail(ctx, WD_ENOMEM);
	for (size_t i = 0; i < n; i++) {
		rc = convert_arg(rv_array_at(args[1], i), &fargs[i]);
		if (rc < 0) {
			free_args(fargs, i);
			return bi_fail(ctx, rc);
		}
	}

	wd_buf_init(&out, format_len + 16, BI_STR_MAX);
	f.out = &out;
	do_printf(&f, format, format_len, fargs, n);
	free_args(fargs, n);
	if (f.rc < 0) {
		wd_buf_free(&out);
		return bi_fail(ctx, f.rc);
	}
	return bi_buf_to_string(ctx, &out, ret);
}
