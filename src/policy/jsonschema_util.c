/* JSON Schema helpers: values as Go's encoding/json writes them, exact
 * numbers, number text in messages, and gojsonschema's format checkers. */
#include <arpa/inet.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "policy/bi_re_engine.h"
#include "policy/jsonschema.h"

/* ---- Go's JSON encoding ---- */

static int marshal_string(const char *s, size_t len, struct wd_buf *out)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;

	WD_TRY(wd_buf_append_byte(out, '"'));
	for (size_t i = 0; i < len;) {
		unsigned char c = p[i];

		if (c < 0x80) {
			switch (c) {
			case '"': WD_TRY(wd_buf_append_str(out, "\\\"")); break;
			case '\\': WD_TRY(wd_buf_append_str(out, "\\\\")); break;
			case '\b': WD_TRY(wd_buf_append_str(out, "\\b")); break;
			case '\f': WD_TRY(wd_buf_append_str(out, "\\f")); break;
			case '\n': WD_TRY(wd_buf_append_str(out, "\\n")); break;
			case '\r': WD_TRY(wd_buf_append_str(out, "\\r")); break;
			case '\t': WD_TRY(wd_buf_append_str(out, "\\t")); break;
			default:
				/* Go escapes control characters and, to stay safe in
				 * HTML, <, > and &. */
				if (c < 0x20 || c == '<' || c == '>' || c == '&') {
					char esc[7] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0 };

					WD_TRY(wd_buf_append_str(out, esc));
				} else {
					WD_TRY(wd_buf_append_byte(out, c));
				}
			}
			i++;
			continue;
		}

		{
			size_t n = 0;

			if (c >= 0xc2 && c <= 0xdf)
				n = 2;
			else if (c >= 0xe0 && c <= 0xef)
				n = 3;
			else if (c >= 0xf0 && c <= 0xf4)
				n = 4;
			for (size_t k = 1; n && k < n; k++)
				if (i + k >= len || (p[i + k] & 0xc0) != 0x80)
					n = 0;
			if (n == 3 && ((c == 0xe0 && p[i + 1] < 0xa0) || (c == 0xed && p[i + 1] >= 0xa0)))
				n = 0;
			if (n == 4 && ((c == 0xf0 && p[i + 1] < 0x90) || (c == 0xf4 && p[i + 1] >= 0x90)))
				n = 0;
			if (n == 0) {
				WD_TRY(wd_buf_append_str(out, "\\ufffd"));
				i++;
				continue;
			}
			/* U+2028 and U+2029 are escaped for JavaScript. */
			if (n == 3 && c == 0xe2 && p[i + 1] == 0x80 && (p[i + 2] == 0xa8 || p[i + 2] == 0xa9))
				WD_TRY(wd_buf_append_str(out, p[i + 2] == 0xa8 ? "\\u2028" : "\\u2029"));
			else
				WD_TRY(wd_buf_append(out, p + i, n));
			i += n;
		}
	}
	return wd_buf_append_byte(out, '"');
}

/* A float64 as Go's encoding/json writes it: the shortest round-trip digits,
 * in %f form unless the exponent is below -6 or from 21 on. */
static int marshal_double(double d, struct wd_buf *out)
{
	char digits[40], text[64];
	int exp10 = 0, prec;
	double abs = fabs(d);
	char *e;
	size_t nd = 0;

	if (!isfinite(d))
		return wd_buf_append_str(out, "null");
	if (d == 0)
		return wd_buf_append_str(out, signbit(d) ? "-0" : "0");

	for (prec = 1; prec <= 17; prec++) {
		snprintf(text, sizeof(text), "%.*e", prec - 1, abs);
		if (strtod(text, NULL) == abs)
			break;
	}
	/* text is d.ddde[+-]xx: split the digits and the exponent. */
	e = strchr(text, 'e');
	for (char *p = text; p < e; p++)
		if (*p >= '0' && *p <= '9')
			digits[nd++] = *p;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = '\0';
	exp10 = (int)strtol(e + 1, NULL, 10);

	if (d < 0)
		WD_TRY(wd_buf_append_byte(out, '-'));
	if (abs < 1e-6 || abs >= 1e21) {
		WD_TRY(wd_buf_append_byte(out, (uint8_t)digits[0]));
		if (nd > 1)
			WD_TRY(wd_buf_appendf(out, ".%s", digits + 1));
		/* Go pads the exponent to two digits and encoding/json drops
		 * the padding again from negative ones; positive ones here are
		 * at least 21. */
		return wd_buf_appendf(out, "e%c%d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
	}
	if (exp10 < 0) {
		WD_TRY(wd_buf_append_str(out, "0."));
		for (int i = -1; i > exp10; i--)
			WD_TRY(wd_buf_append_byte(out, '0'));
		return wd_buf_append_str(out, digits);
	}
	if ((size_t)exp10 + 1 >= nd) {
		WD_TRY(wd_buf_append_str(out, digits));
		for (size_t i = nd; i < (size_t)exp10 + 1; i++)
			WD_TRY(wd_buf_append_byte(out, '0'));
		return 0;
	}
	WD_TRY(wd_buf_append(out, digits, (size_t)exp10 + 1));
	WD_TRY(wd_buf_append_byte(out, '.'));
	return wd_buf_append_str(out, digits + exp10 + 1);
}

static int compare_keys(const void *a, const void *b)
{
	const struct rv *x = *(const struct rv *const *)a, *y = *(const struct rv *const *)b;
	size_t n = rv_str_len(x) < rv_str_len(y) ? rv_str_len(x) : rv_str_len(y);
	int c = memcmp(rv_str(x), rv_str(y), n);

	if (c)
		return c;
	return rv_str_len(x) < rv_str_len(y) ? -1 : rv_str_len(x) > rv_str_len(y);
}

int js_marshal(const struct rv *v, struct wd_buf *out, int depth)
{
	if (depth > JS_MAX_DEPTH * 4)
		return WD_ETOOBIG;
	switch (rv_kind_of(v)) {
	case RV_NULL:
		return wd_buf_append_str(out, "null");
	case RV_BOOL:
		return wd_buf_append_str(out, v->u.boolean ? "true" : "false");
	case RV_NUMBER:
		return marshal_double(rv_number_to_double(v), out);
	case RV_STRING:
		return marshal_string(rv_str(v), rv_str_len(v), out);
	case RV_ARRAY:
		WD_TRY(wd_buf_append_byte(out, '['));
		for (size_t i = 0; i < rv_array_len(v); i++) {
			if (i)
				WD_TRY(wd_buf_append_byte(out, ','));
			WD_TRY(js_marshal(rv_array_at(v, i), out, depth + 1));
		}
		return wd_buf_append_byte(out, ']');
	case RV_SET:
		/* OPA hands a set over as its sorted members. */
		WD_TRY(wd_buf_append_byte(out, '['));
		for (size_t i = 0; i < rv_len(v); i++) {
			struct rv *member, *unused;

			rv_map_sorted_at(v, i, &member, &unused);
			if (i)
				WD_TRY(wd_buf_append_byte(out, ','));
			WD_TRY(js_marshal(member, out, depth + 1));
		}
		return wd_buf_append_byte(out, ']');
	case RV_OBJECT: {
		size_t n = rv_len(v);
		struct rv **keys = calloc(n ? n : 1, sizeof(*keys));
		int rc = 0;

		if (!keys)
			return WD_ENOMEM;
		for (size_t i = 0; i < n; i++) {
			struct rv *value;

			rv_map_at(v, i, &keys[i], &value);
			if (!rv_is(keys[i], RV_STRING)) {
				free(keys);
				return WD_EINVAL;
			}
		}
		qsort(keys, n, sizeof(*keys), compare_keys);
		rc = wd_buf_append_byte(out, '{');
		for (size_t i = 0; i < n && rc == 0; i++) {
			if (i)
				rc = wd_buf_append_byte(out, ',');
			if (rc == 0)
				rc = marshal_string(rv_str(keys[i]), rv_str_len(keys[i]), out);
			if (rc == 0)
				rc = wd_buf_append_byte(out, ':');
			if (rc == 0)
				rc = js_marshal(rv_object_get(v, keys[i]), out, depth + 1);
		}
		free(keys);
		return rc ? rc : wd_buf_append_byte(out, '}');
	}
	}
	return WD_EINVAL;
}

/* ---- exact numbers ---- */

/* Parses JSON number text (sign, digits, fraction, exponent) exactly. */
static bool rat_from_text(const char *s, mpq_t q)
{
	mpz_t num, scale;
	const char *p = s;
	bool neg = false, ok = true;
	long exp10 = 0;

	mpz_init(num);
	mpz_init(scale);
	if (*p == '-') {
		neg = true;
		p++;
	}
	if (*p < '0' || *p > '9')
		ok = false;
	for (; ok && *p >= '0' && *p <= '9'; p++) {
		mpz_mul_ui(num, num, 10);
		mpz_add_ui(num, num, (unsigned long)(*p - '0'));
	}
	if (ok && *p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++) {
			mpz_mul_ui(num, num, 10);
			mpz_add_ui(num, num, (unsigned long)(*p - '0'));
			exp10--;
		}
	}
	if (ok && (*p == 'e' || *p == 'E')) {
		char *end;
		long e = strtol(p + 1, &end, 10);

		/* Exponents this large are not numbers OPA can hold exactly. */
		if (end == p + 1 || e > 4000 || e < -4000)
			ok = false;
		exp10 += e;
		p = end;
	}
	if (ok && *p)
		ok = false;
	if (ok) {
		mpz_ui_pow_ui(scale, 10, (unsigned long)(exp10 < 0 ? -exp10 : exp10));
		if (exp10 >= 0) {
			mpz_mul(num, num, scale);
			mpq_set_z(q, num);
		} else {
			mpq_set_num(q, num);
			mpq_set_den(q, scale);
			mpq_canonicalize(q);
		}
		if (neg)
			mpq_neg(q, q);
	}
	mpz_clear(num);
	mpz_clear(scale);
	return ok;
}

bool js_number_rat(const struct rv *n, mpq_t q)
{
	struct wd_buf text;
	bool ok;

	if (!rv_is(n, RV_NUMBER))
		return false;
	wd_buf_init(&text, 32, 16 * 1024);
	ok = rv_number_format(n, &text) == 0 && rat_from_text(wd_buf_str(&text), q);
	wd_buf_free(&text);
	return ok;
}

int js_format_rat(const mpq_t q, struct wd_buf *out)
{
	return wd_buf_appendf(out, "%.10g", mpq_get_d(q));
}

/* ---- formats ---- */

static bool digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int num(const char *s, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* Go's time.Parse with "2006-01-02": a real calendar date. */
static bool parse_date(const char *s, size_t len)
{
	static const int days[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, m, d;

	if (len != 10 || s[4] != '-' || s[7] != '-' || !digits(s, 4) || !digits(s + 5, 2) ||
	    !digits(s + 8, 2))
		return false;
	y = num(s, 4);
	m = num(s + 5, 2);
	d = num(s + 8, 2);
	if (m < 1 || m > 12 || d < 1 || d > days[m - 1])
		return false;
	if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return false;
	return true;
}

/* "15:04:05" with an optional fraction, then the zone when with_zone:
 * "Z" or "+07:00". Returns the bytes used, or 0. */
static size_t parse_time(const char *s, size_t len, bool with_zone)
{
	size_t i = 8;

	if (len < 8 || s[2] != ':' || s[5] != ':' || !digits(s, 2) || !digits(s + 3, 2) ||
	    !digits(s + 6, 2))
		return 0;
	if (num(s, 2) > 23 || num(s + 3, 2) > 59 || num(s + 6, 2) > 59)
		return 0;
	if (i < len && (s[i] == '.' || s[i] == ',')) {
		size_t start = ++i;

		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == start)
			return 0;
	}
	if (!with_zone)
		return i;
	if (i < len && s[i] == 'Z')
		return i + 1;
	if (i + 6 <= len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':' && digits(s + i + 1, 2) &&
	    digits(s + i + 4, 2) && num(s + i + 1, 2) <= 23 && num(s + i + 4, 2) <= 59)
		return i + 6;
	return 0;
}

static bool time_exact(const char *s, size_t len, bool with_zone)
{
	return parse_time(s, len, with_zone) == len;
}

static bool date_time(const char *s, size_t len)
{
	if (time_exact(s, len, false) || time_exact(s, len, true) || parse_date(s, len))
		return true;
	return len > 11 && s[10] == 'T' && parse_date(s, 10) && time_exact(s + 11, len - 11, true);
}

static bool hostname_label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool hostname(const char *s, size_t len)
{
	size_t start = 0;

	if (len == 0 || len > 255)
		return false;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '.')
			continue;
		{
			size_t n = i - start;

			if (n == 0 || n > 63 || !hostname_label_char(s[start]) ||
			    !hostname_label_char(s[i - 1]))
				return false;
			for (size_t k = start; k < i; k++)
				if (!hostname_label_char(s[k]) && s[k] != '-')
					return false;
		}
		start = i + 1;
	}
	return true;
}

/* Go's net/url.Parse, approximately: no control characters, valid percent
 * escapes, and a scheme that starts with a letter when there is one. */
static bool url_parses(const char *s, size_t len, bool *ret_has_scheme)
{
	size_t colon = len;

	*ret_has_scheme = false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return false;
		if (c == '%') {
			if (i + 2 >= len || !isxdigit((unsigned char)s[i + 1]) ||
			    !isxdigit((unsigned char)s[i + 2]))
				return false;
		}
		if (c == ':' && colon == len)
			colon = i;
		if ((c == '/' || c == '?' || c == '#') && colon == len)
			break;
	}
	if (colon == 0)
		return false;
	if (colon < len) {
		bool scheme = (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z');

		for (size_t i = 1; scheme && i < colon; i++)
			scheme = hostname_label_char(s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.';
		*ret_has_scheme = scheme;
	}
	return true;
}

static bool matches_pointer(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (i == 0 && s[0] != '/')
			return false;
		if (s[i] == '~' && (i + 1 >= len || (s[i + 1] != '0' && s[i + 1] != '1')))
			return false;
	}
	return true;
}

static bool uuid(const char *s, size_t len)
{
	if (len != 36)
		return false;
	for (size_t i = 0; i < len; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash != (s[i] == '-'))
			return false;
		if (!dash && !strchr("0123456789abcdefABCDEF", s[i]))
			return false;
	}
	return true;
}

/* A simplified net/mail.ParseAddress: "local@domain" or "Name <local@domain>". */
static bool email(const char *s, size_t len)
{
	const char *at, *lt = memchr(s, '<', len);

	if (lt) {
		if (len < 2 || s[len - 1] != '>')
			return false;
		len = len - 1 - (size_t)(lt + 1 - s);
		s = lt + 1;
	}
	at = memchr(s, '@', len);
	if (!at || at == s || at == s + len - 1 || memchr(at + 1, '@', (size_t)(s + len - at - 1)))
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '<' || s[i] == '>' || s[i] == ',' ||
		    (unsigned char)s[i] < 0x20)
			return false;
	return s[0] != '.' && at[-1] != '.' && at[1] != '.' && s[len - 1] != '.';
}

bool js_format_ok(const char *format, const struct rv *value)
{
	const char *s;
	size_t len;
	char buf[64];

	if (!rv_is(value, RV_STRING))
		return true;
	s = rv_str(value);
	len = rv_str_len(value);

	if (strcmp(format, "date-time") == 0)
		return date_time(s, len);
	if (strcmp(format, "date") == 0)
		return parse_date(s, len);
	if (strcmp(format, "time") == 0)
		return time_exact(s, len, true) || time_exact(s, len, false);
	if (strcmp(format, "email") == 0 || strcmp(format, "idn-email") == 0)
		return email(s, len);
	if (strcmp(format, "ipv4") == 0 || strcmp(format, "ipv6") == 0) {
		unsigned char addr[16];
		bool v4 = strcmp(format, "ipv4") == 0;

		if (len >= sizeof(buf) || memchr(s, '\0', len))
			return false;
		memcpy(buf, s, len);
		buf[len] = '\0';
		/* Go's net.ParseIP accepts both forms, so the format only
		 * requires a dot (ipv4) or a colon (ipv6) in the text. */
		if (inet_pton(AF_INET, buf, addr) != 1 && inet_pton(AF_INET6, buf, addr) != 1)
			return false;
		return memchr(s, v4 ? '.' : ':', len) != NULL;
	}
	if (strcmp(format, "hostname") == 0 || strcmp(format, "idn-hostname") == 0)
		return hostname(s, len);
	if (strcmp(format, "uri") == 0 || strcmp(format, "iri") == 0) {
		bool scheme;

		return url_parses(s, len, &scheme) && scheme && !memchr(s, '\\', len);
	}
	if (strcmp(format, "uri-reference") == 0 || strcmp(format, "iri-reference") == 0 ||
	    strcmp(format, "uri-template") == 0) {
		bool scheme;

		return url_parses(s, len, &scheme) && !memchr(s, '\\', len);
	}
	if (strcmp(format, "uuid") == 0)
		return uuid(s, len);
	if (strcmp(format, "regex") == 0)
		return bi_regex_valid(s, len);
	if (strcmp(format, "json-pointer") == 0)
		return matches_pointer(s, len);
	if (strcmp(format, "relative-json-pointer") == 0) {
		size_t i = 0;

		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == 0 || (i > 1 && s[0] == '0'))
			return false;
		return (i + 1 == len && s[i] == '#') || matches_pointer(s + i, len - i);
	}
	return true;
}
