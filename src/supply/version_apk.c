/* Alpine package version order, as apk-tools 2.x (src/version.c) defines
 * it: digit groups separated by '.', one optional lower-case letter,
 * suffixes (_alpha, _beta, _pre and _rc before the release, _cvs, _svn,
 * _git, _hg and _p after it) with an optional number, and a -rN revision. */
#include <ctype.h>
#include <string.h>

#include "supply/version_internal.h"

/* The token kinds, in the order that decides between two versions that are
 * equal up to where one of them ends or changes kind. */
enum apk_token {
	APK_TOKEN_INVALID = -1,
	APK_TOKEN_DIGIT_OR_ZERO,
	APK_TOKEN_DIGIT,
	APK_TOKEN_LETTER,
	APK_TOKEN_SUFFIX,
	APK_TOKEN_SUFFIX_NO,
	APK_TOKEN_REVISION_NO,
	APK_TOKEN_END,
};

struct apk_cursor {
	const char *p;
	const char *end;
};

static const char *const pre_suffixes[] = { "alpha", "beta", "pre", "rc" };
static const char *const post_suffixes[] = { "cvs", "svn", "git", "hg", "p" };

/* Reads the separator after a token and sets *type to the next token's
 * kind, or APK_TOKEN_INVALID when kinds come in an order apk rejects. */
static void next_token(enum apk_token *type, struct apk_cursor *cursor)
{
	enum apk_token next = APK_TOKEN_INVALID;

	if (cursor->p == cursor->end) {
		next = APK_TOKEN_END;
	} else if ((*type == APK_TOKEN_DIGIT || *type == APK_TOKEN_DIGIT_OR_ZERO) &&
		   islower((unsigned char)*cursor->p)) {
		next = APK_TOKEN_LETTER;
	} else if (*type == APK_TOKEN_LETTER && isdigit((unsigned char)*cursor->p)) {
		next = APK_TOKEN_DIGIT;
	} else if (*type == APK_TOKEN_SUFFIX && isdigit((unsigned char)*cursor->p)) {
		next = APK_TOKEN_SUFFIX_NO;
	} else {
		switch (*cursor->p) {
		case '.':
			next = APK_TOKEN_DIGIT_OR_ZERO;
			break;
		case '_':
			next = APK_TOKEN_SUFFIX;
			break;
		case '-':
			if (cursor->end - cursor->p > 1 && cursor->p[1] == 'r') {
				next = APK_TOKEN_REVISION_NO;
				cursor->p++;
			}
			break;
		}
		cursor->p++;
	}

	if (next < *type) {
		if (!((next == APK_TOKEN_DIGIT_OR_ZERO && *type == APK_TOKEN_DIGIT) ||
		      (next == APK_TOKEN_SUFFIX && *type == APK_TOKEN_SUFFIX_NO) ||
		      (next == APK_TOKEN_DIGIT && *type == APK_TOKEN_LETTER)))
			next = APK_TOKEN_INVALID;
	}
	*type = next;
}

static int suffix_index(const char *const *names, size_t count, const struct apk_cursor *cursor,
	size_t *ret_length)
{
	for (size_t i = 0; i < count; i++) {
		size_t length = strlen(names[i]);

		if (length <= (size_t)(cursor->end - cursor->p) && !strncmp(names[i], cursor->p, length)) {
			*ret_length = length;
			return (int)i;
		}
	}
	return -1;
}

/* Reads the token of kind *type and returns its value, then moves *type to
 * the next kind. Numbers saturate at 10^15, so that longer numbers compare
 * equal to each other rather than overflow. */
static long long get_token(enum apk_token *type, struct apk_cursor *cursor)
{
	enum apk_token fixed_next = APK_TOKEN_INVALID;
	long long value = 0;
	size_t length = 0;
	int index;

	if (cursor->p == cursor->end) {
		*type = APK_TOKEN_END;
		return 0;
	}

	switch (*type) {
	case APK_TOKEN_DIGIT_OR_ZERO:
		/* A group after '.' with leading zeros reads as a token worth
		 * minus the count of zeros before the last one, then the rest
		 * as a number. So "1.005" is 1, -1, 5, below "1.05" (1, 0, 5),
		 * which is below "1.4".
		 * NOTE: some apk-tools 2.x copies count every zero, which puts
		 * "1.0_rc1" above "1.0". This rule keeps it below. */
		if (*cursor->p == '0') {
			while (cursor->p + length + 1 < cursor->end && cursor->p[length + 1] == '0')
				length++;
			fixed_next = APK_TOKEN_DIGIT;
			value = -(long long)length;
			break;
		}
		/* fall through */
	case APK_TOKEN_DIGIT:
	case APK_TOKEN_SUFFIX_NO:
	case APK_TOKEN_REVISION_NO:
		while (cursor->p + length < cursor->end && isdigit((unsigned char)cursor->p[length])) {
			if (value < 1000000000000000LL)
				value = value * 10 + (cursor->p[length] - '0');
			length++;
		}
		break;
	case APK_TOKEN_LETTER:
		value = (unsigned char)cursor->p[0];
		length = 1;
		break;
	case APK_TOKEN_SUFFIX:
		index = suffix_index(pre_suffixes, WD_ARRAY_LEN(pre_suffixes), cursor, &length);
		if (index >= 0) {
			value = index - (long long)WD_ARRAY_LEN(pre_suffixes);
			break;
		}
		index = suffix_index(post_suffixes, WD_ARRAY_LEN(post_suffixes), cursor, &length);
		if (index >= 0) {
			value = index;
			break;
		}
		*type = APK_TOKEN_INVALID;
		return -1;
	default:
		*type = APK_TOKEN_INVALID;
		return -1;
	}

	cursor->p += length;
	if (cursor->p == cursor->end)
		*type = APK_TOKEN_END;
	else if (fixed_next != APK_TOKEN_INVALID)
		*type = fixed_next;
	else
		next_token(type, cursor);
	return value;
}

static int apk_validate(const char *version, struct wd_error *err)
{
	size_t length = strlen(version);
	struct apk_cursor cursor = { version, version + length };
	enum apk_token type = APK_TOKEN_DIGIT;

	if (length == 0 || length > SUPPLY_VERSION_MAX || !isdigit((unsigned char)version[0]))
		goto invalid;
	/* Alpine's version format puts a number after every '.', so "1.r2"
	 * is rejected even though the apk 2.x tokenizer accepts it. */
	for (size_t i = 0; i < length; i++) {
		if (version[i] == '.' && !isdigit((unsigned char)version[i + 1]))
			goto invalid;
	}
	while (type != APK_TOKEN_END && type != APK_TOKEN_INVALID)
		(void)get_token(&type, &cursor);
	if (type == APK_TOKEN_END)
		return 0;

invalid:
	return wd_error_set(err, WD_EINVAL, "invalid apk version \"%.256s\"", version);
}

int version_apk_compare(const char *a, const char *b, int *ret_order, struct wd_error *err)
{
	struct apk_cursor ca = { a, a + strlen(a) };
	struct apk_cursor cb = { b, b + strlen(b) };
	enum apk_token a_type = APK_TOKEN_DIGIT;
	enum apk_token b_type = APK_TOKEN_DIGIT;
	enum apk_token probe;
	long long a_value = 0;
	long long b_value = 0;

	WD_TRY(apk_validate(a, err));
	WD_TRY(apk_validate(b, err));

	while (a_type == b_type && a_type != APK_TOKEN_END && a_value == b_value) {
		a_value = get_token(&a_type, &ca);
		b_value = get_token(&b_type, &cb);
	}

	if (a_value != b_value) {
		*ret_order = a_value < b_value ? -1 : 1;
		return 0;
	}
	if (a_type == b_type) {
		*ret_order = 0;
		return 0;
	}

	/* Equal so far and one goes on: the longer version is newer, unless
	 * what follows is a pre-release suffix. */
	probe = a_type;
	if (a_type == APK_TOKEN_SUFFIX && get_token(&probe, &ca) < 0) {
		*ret_order = -1;
		return 0;
	}
	probe = b_type;
	if (b_type == APK_TOKEN_SUFFIX && get_token(&probe, &cb) < 0) {
		*ret_order = 1;
		return 0;
	}
	*ret_order = a_type > b_type ? -1 : 1;
	return 0;
}
