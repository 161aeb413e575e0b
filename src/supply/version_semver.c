/* Semantic Versioning 2.0.0 order (semver.org, section 11), and Go module
 * versions, which are semver with a leading 'v'. */
#include <string.h>

#include "supply/version_internal.h"

struct semver {
	const char *core[3];  /* major, minor and patch digits */
	size_t core_len[3];
	const char *prerelease;  /* NULL when absent */
	size_t prerelease_len;
};

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_identifier_char(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

static size_t count_digits(const char *p, const char *end)
{
	size_t length = 0;

	while (p + length < end && is_digit(p[length]))
		length++;
	return length;
}

/* Checks dot-separated identifiers in [p, end): non-empty, [0-9A-Za-z-],
 * and, for the pre-release only, numeric ones without leading zeros. */
static int identifiers_valid(const char *p, const char *end, int numeric_rule)
{
	while (p <= end) {
		const char *dot = memchr(p, '.', (size_t)(end - p));
		const char *stop = dot ? dot : end;
		size_t digits = count_digits(p, stop);

		if (stop == p)
			return 0;
		for (const char *c = p; c < stop; c++) {
			if (!is_identifier_char(*c))
				return 0;
		}
		if (numeric_rule && digits == (size_t)(stop - p) && digits > 1 && *p == '0')
			return 0;
		if (!dot)
			return 1;
		p = dot + 1;
	}
	return 0;
}

/* Parses text after its first prefix_len bytes (the 'v' of a Go version). */
static int semver_parse(const char *text, size_t prefix_len, const char *scheme,
	struct semver *ret, struct wd_error *err)
{
	size_t length = strlen(text + prefix_len);
	const char *p = text + prefix_len;
	const char *end = p + length;
	const char *plus;

	if (length == 0 || length > SUPPLY_VERSION_MAX)
		goto invalid;

	for (int i = 0; i < 3; i++) {
		size_t digits = count_digits(p, end);

		if (digits == 0 || (digits > 1 && *p == '0'))
			goto invalid;
		ret->core[i] = p;
		ret->core_len[i] = digits;
		p += digits;
		if (i < 2) {
			if (p == end || *p != '.')
				goto invalid;
			p++;
		}
	}

	/* Build metadata follows the first '+' and takes no part in the order. */
	plus = memchr(p, '+', (size_t)(end - p));
	if (plus) {
		if (!identifiers_valid(plus + 1, end, 0))
			goto invalid;
		end = plus;
	}

	ret->prerelease = NULL;
	ret->prerelease_len = 0;
	if (p < end) {
		if (*p != '-' || !identifiers_valid(p + 1, end, 1))
			goto invalid;
		ret->prerelease = p + 1;
		ret->prerelease_len = (size_t)(end - p - 1);
	}
	return 0;

invalid:
	return wd_error_set(err, WD_EINVAL, "invalid %s version \"%.256s\"", scheme, text);
}

/* Compares one pre-release identifier pair: numeric identifiers by value
 * and below alphanumeric ones, which compare in ASCII order. */
static int identifier_compare(const char *a, size_t a_len, const char *b, size_t b_len)
{
	int a_numeric = count_digits(a, a + a_len) == a_len;
	int b_numeric = count_digits(b, b + b_len) == b_len;
	size_t shorter = a_len < b_len ? a_len : b_len;
	int order;

	if (a_numeric && b_numeric)
		return version_digits_compare(a, a_len, b, b_len);
	if (a_numeric != b_numeric)
		return a_numeric ? -1 : 1;
	order = memcmp(a, b, shorter);
	if (order)
		return version_sign(order);
	return (a_len > b_len) - (a_len < b_len);
}

static int prerelease_compare(const struct semver *va, const struct semver *vb)
{
	const char *a = va->prerelease;
	const char *b = vb->prerelease;
	const char *a_end;
	const char *b_end;

	/* A version without a pre-release is newer than one with. */
	if (!a || !b)
		return (!a) - (!b);
	a_end = a + va->prerelease_len;
	b_end = b + vb->prerelease_len;

	for (;;) {
		const char *a_dot = memchr(a, '.', (size_t)(a_end - a));
		const char *b_dot = memchr(b, '.', (size_t)(b_end - b));
		const char *a_stop = a_dot ? a_dot : a_end;
		const char *b_stop = b_dot ? b_dot : b_end;
		int order = identifier_compare(a, (size_t)(a_stop - a), b, (size_t)(b_stop - b));

		if (order)
			return order;

		/* Equal so far: the longer list of identifiers is newer. */
		if (!a_dot || !b_dot)
			return (a_dot != NULL) - (b_dot != NULL);
		a = a_dot + 1;
		b = b_dot + 1;
	}
}

static int semver_order(const char *a, size_t a_prefix_len, const char *b, size_t b_prefix_len,
	const char *scheme, int *ret_order, struct wd_error *err)
{
	struct semver va;
	struct semver vb;
	int order = 0;

	WD_TRY(semver_parse(a, a_prefix_len, scheme, &va, err));
	WD_TRY(semver_parse(b, b_prefix_len, scheme, &vb, err));

	for (int i = 0; i < 3 && !order; i++)
		order = version_digits_compare(va.core[i], va.core_len[i], vb.core[i], vb.core_len[i]);
	if (!order)
		order = prerelease_compare(&va, &vb);

	*ret_order = order;
	return 0;
}

/* Accepts one leading 'v' ("v1.2.3"), as npm's node-semver does. */
int version_semver_compare(const char *a, const char *b, int *ret_order, struct wd_error *err)
{
	return semver_order(a, a[0] == 'v', b, b[0] == 'v', "semver", ret_order, err);
}

/* Go module versions (go.dev/ref/mod, "Versions"): "v" and a full semver.
 * Pseudo-versions such as v0.0.0-20191109021931-daa7c04131f5 are semver
 * pre-releases and need no special case, and "+incompatible" is build
 * metadata. */
int version_go_compare(const char *a, const char *b, int *ret_order, struct wd_error *err)
{
	if (a[0] != 'v')
		return wd_error_set(err, WD_EINVAL, "invalid go version \"%.256s\": missing leading 'v'", a);
	if (b[0] != 'v')
		return wd_error_set(err, WD_EINVAL, "invalid go version \"%.256s\": missing leading 'v'", b);
	return semver_order(a, 1, b, 1, "go", ret_order, err);
}
