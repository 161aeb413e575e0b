/* Debian version order (Debian Policy 5.6.12, as dpkg's verrevcmp
 * implements it): [epoch:]upstream[-revision]. */
#include <ctype.h>
#include <limits.h>
#include <string.h>

#include "supply/version_internal.h"

struct dpkg_version {
	const char *epoch;  /* digits, or NULL for the implied epoch 0 */
	size_t epoch_len;
	const char *upstream;
	size_t upstream_len;
	const char *revision;  /* "" when absent, which orders as "0" */
	size_t revision_len;
};

static int is_upstream_char(unsigned char c)
{
	return isalnum(c) || (c && strchr(".+~-:", c));
}

static int is_revision_char(unsigned char c)
{
	return isalnum(c) || (c && strchr(".+~", c));
}

static int dpkg_invalid(struct wd_error *err, const char *version, const char *reason)
{
	return wd_error_set(err, WD_EINVAL, "invalid dpkg version \"%.256s\": %s",
		version, reason);
}

/* Splits version as dpkg's parseversion does, rejecting what it rejects and
 * also what it only warns about (a first character that is not a digit,
 * characters outside the policy's set). */
static int dpkg_parse(const char *version, struct dpkg_version *ret, struct wd_error *err)
{
	const char *colon = strchr(version, ':');
	const char *rest = version;
	const char *hyphen;
	size_t rest_len;

	if (!*version)
		return dpkg_invalid(err, version, "empty");
	if (strlen(version) > SUPPLY_VERSION_MAX)
		return dpkg_invalid(err, version, "longer than 256 bytes");

	ret->epoch = NULL;
	ret->epoch_len = 0;
	if (colon) {
		ret->epoch = version;
		ret->epoch_len = (size_t)(colon - version);
		if (ret->epoch_len == 0)
			return dpkg_invalid(err, version, "empty epoch");
		for (size_t i = 0; i < ret->epoch_len; i++) {
			if (!isdigit((unsigned char)version[i]))
				return dpkg_invalid(err, version, "epoch is not a number");
		}
		/* dpkg stores the epoch in an int. */
		if (version_digits_compare(version, ret->epoch_len, "2147483647", 10) > 0)
			return dpkg_invalid(err, version, "epoch is too big");
		rest = colon + 1;
	}

	rest_len = strlen(rest);
	hyphen = strrchr(rest, '-');
	ret->upstream = rest;
	ret->upstream_len = hyphen ? (size_t)(hyphen - rest) : rest_len;
	ret->revision = hyphen ? hyphen + 1 : "";
	ret->revision_len = strlen(ret->revision);

	if (ret->upstream_len == 0)
		return dpkg_invalid(err, version, "empty upstream version");
	if (hyphen && ret->revision_len == 0)
		return dpkg_invalid(err, version, "empty revision");
	if (!isdigit((unsigned char)rest[0]))
		return dpkg_invalid(err, version, "upstream version does not start with a digit");
	for (size_t i = 0; i < ret->upstream_len; i++) {
		if (!is_upstream_char((unsigned char)rest[i]))
			return dpkg_invalid(err, version, "invalid character in upstream version");
	}
	for (size_t i = 0; i < ret->revision_len; i++) {
		if (!is_revision_char((unsigned char)ret->revision[i]))
			return dpkg_invalid(err, version, "invalid character in revision");
	}
	return 0;
}

/* The weight of one character in a non-digit run: '~' sorts before
 * everything, even the end of the run, and letters sort before the other
 * characters. The end of the string weighs 0. */
static int char_weight(const char *p, const char *end)
{
	unsigned char c;

	if (p >= end)
		return 0;
	c = (unsigned char)*p;
	if (isdigit(c))
		return 0;
	if (isalpha(c))
		return c;
	if (c == '~')
		return -1;
	return c + 256;
}

/* Compares alternating non-digit and digit runs, as dpkg's verrevcmp. */
static int dpkg_part_compare(const char *a, size_t a_len, const char *b, size_t b_len)
{
	const char *a_end = a + a_len;
	const char *b_end = b + b_len;

	while (a < a_end || b < b_end) {
		const char *a_digits;
		const char *b_digits;
		int order;

		while ((a < a_end && !isdigit((unsigned char)*a)) ||
		       (b < b_end && !isdigit((unsigned char)*b))) {
			int a_weight = char_weight(a, a_end);
			int b_weight = char_weight(b, b_end);

			if (a_weight != b_weight)
				return a_weight < b_weight ? -1 : 1;
			a++;
			b++;
		}

		a_digits = a;
		b_digits = b;
		while (a < a_end && isdigit((unsigned char)*a))
			a++;
		while (b < b_end && isdigit((unsigned char)*b))
			b++;
		order = version_digits_compare(a_digits, (size_t)(a - a_digits),
			b_digits, (size_t)(b - b_digits));
		if (order)
			return order;
	}
	return 0;
}

int version_dpkg_compare(const char *a, const char *b, int *ret_order, struct wd_error *err)
{
	struct dpkg_version va;
	struct dpkg_version vb;
	int order;

	WD_TRY(dpkg_parse(a, &va, err));
	WD_TRY(dpkg_parse(b, &vb, err));

	order = version_digits_compare(va.epoch ? va.epoch : "0", va.epoch ? va.epoch_len : 1,
		vb.epoch ? vb.epoch : "0", vb.epoch ? vb.epoch_len : 1);
	if (!order)
		order = dpkg_part_compare(va.upstream, va.upstream_len, vb.upstream, vb.upstream_len);
	if (!order)
		order = dpkg_part_compare(va.revision, va.revision_len, vb.revision, vb.revision_len);

	*ret_order = order;
	return 0;
}
