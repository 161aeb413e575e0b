/* RPM version order: [epoch:]version[-release], each part compared by
 * rpmvercmp as rpm 4.15 and later define it (lib/rpmvercmp.c), with '~'
 * sorting before everything and '^' after the end of the string but
 * before any other segment. */
#include <ctype.h>
#include <string.h>

#include "supply/version_internal.h"

struct rpm_version {
	const char *epoch;  /* digits, or NULL for the implied epoch 0 */
	size_t epoch_len;
	const char *version;
	size_t version_len;
	const char *release;  /* NULL when absent */
	size_t release_len;
};

static int rpm_invalid(struct wd_error *err, const char *version, const char *reason)
{
	return wd_error_set(err, WD_EINVAL, "invalid rpm version \"%.256s\": %s",
		version, reason);
}

/* rpm's risalpha and risdigit are ASCII-only, whatever the locale. */
static int is_ascii_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_ascii_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Splits an EVR string as rpm's parseEVR does. The epoch is the text before
 * the first ':' when it is all digits, and the release follows the last '-'. */
static int rpm_parse(const char *text, struct rpm_version *ret, struct wd_error *err)
{
	const char *rest = text;
	const char *colon;
	const char *hyphen;
	size_t length = strlen(text);

	if (length == 0)
		return rpm_invalid(err, text, "empty");
	if (length > SUPPLY_VERSION_MAX)
		return rpm_invalid(err, text, "longer than 256 bytes");
	for (size_t i = 0; i < length; i++) {
		/* Other bytes, UTF-8 included, only separate segments. */
		if (isspace((unsigned char)text[i]) || iscntrl((unsigned char)text[i]))
			return rpm_invalid(err, text, "contains whitespace or a control character");
	}

	ret->epoch = NULL;
	ret->epoch_len = 0;
	colon = strchr(text, ':');
	if (colon) {
		size_t digits = strspn(text, "0123456789");

		if (text + digits == colon && digits > 0) {
			ret->epoch = text;
			ret->epoch_len = digits;
			rest = colon + 1;
		}
	}

	hyphen = strrchr(rest, '-');
	ret->version = rest;
	ret->version_len = hyphen ? (size_t)(hyphen - rest) : strlen(rest);
	ret->release = hyphen ? hyphen + 1 : NULL;
	ret->release_len = hyphen ? strlen(hyphen + 1) : 0;
	if (ret->version_len == 0)
		return rpm_invalid(err, text, "empty version");
	return 0;
}

static int segment_compare(const char *a, size_t a_len, const char *b, size_t b_len)
{
	size_t shorter = a_len < b_len ? a_len : b_len;
	int order = memcmp(a, b, shorter);

	if (order)
		return version_sign(order);
	return (a_len > b_len) - (a_len < b_len);
}

/* rpmvercmp over the byte ranges [a, a_end) and [b, b_end). */
static int rpmvercmp(const char *a, const char *a_end, const char *b, const char *b_end)
{
	if (a_end - a == b_end - b && !memcmp(a, b, (size_t)(a_end - a)))
		return 0;

	while (a < a_end || b < b_end) {
		const char *a_segment;
		const char *b_segment;
		int numeric;
		int order;

		/* Separators (anything but letters, digits, '~' and '^') only
		 * split segments. */
		while (a < a_end && !is_ascii_alpha(*a) && !is_ascii_digit(*a) && *a != '~' && *a != '^')
			a++;
		while (b < b_end && !is_ascii_alpha(*b) && !is_ascii_digit(*b) && *b != '~' && *b != '^')
			b++;

		if ((a < a_end && *a == '~') || (b < b_end && *b == '~')) {
			if (a == a_end || *a != '~')
				return 1;
			if (b == b_end || *b != '~')
				return -1;
			a++;
			b++;
			continue;
		}

		if ((a < a_end && *a == '^') || (b < b_end && *b == '^')) {
			if (a == a_end)
				return -1;
			if (b == b_end)
				return 1;
			if (*a != '^')
				return 1;
			if (*b != '^')
				return -1;
			a++;
			b++;
			continue;
		}

		if (a == a_end || b == b_end)
			break;

		a_segment = a;
		b_segment = b;
		numeric = is_ascii_digit(*a);
		if (numeric) {
			while (a < a_end && is_ascii_digit(*a))
				a++;
			while (b < b_end && is_ascii_digit(*b))
				b++;
		} else {
			while (a < a_end && is_ascii_alpha(*a))
				a++;
			while (b < b_end && is_ascii_alpha(*b))
				b++;
		}

		/* Segments of different types: a number is newer than letters. */
		if (b == b_segment)
			return numeric ? 1 : -1;

		if (numeric)
			order = version_digits_compare(a_segment, (size_t)(a - a_segment),
				b_segment, (size_t)(b - b_segment));
		else
			order = segment_compare(a_segment, (size_t)(a - a_segment),
				b_segment, (size_t)(b - b_segment));
		if (order)
			return order;
	}

	if (a == a_end && b == b_end)
		return 0;
	return a == a_end ? -1 : 1;
}

int version_rpm_compare(const char *a, const char *b, int *ret_order, struct wd_error *err)
{
	struct rpm_version va;
	struct rpm_version vb;
	int order;

	WD_TRY(rpm_parse(a, &va, err));
	WD_TRY(rpm_parse(b, &vb, err));

	order = version_digits_compare(va.epoch ? va.epoch : "0", va.epoch ? va.epoch_len : 1,
		vb.epoch ? vb.epoch : "0", vb.epoch ? vb.epoch_len : 1);
	if (!order)
		order = rpmvercmp(va.version, va.version + va.version_len,
			vb.version, vb.version + vb.version_len);

	/* A version without a release sorts before the same version with one,
	 * even an empty one ("1" < "1-"). */
	if (!order && (!va.release || !vb.release))
		order = (va.release != NULL) - (vb.release != NULL);
	else if (!order)
		order = rpmvercmp(va.release, va.release + va.release_len,
			vb.release, vb.release + vb.release_len);

	*ret_order = order;
	return 0;
}
