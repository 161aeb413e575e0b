/* Built-in functions: strings.*, sprintf, format_int, trims, indexof and string templates.
 * Each follows the Go function OPA calls (strings.Trim, strings.NewReplacer, ...),
 * so byte and rune handling matches OPA's results on any UTF-8 input. */
#include <limits.h>
#include <locale.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "common/error.h"
#include "policy/bi_str_util.h"
#include "policy/bi_tmpl.h"

/* ---- search ---- */

/* Byte offset of needle in hay at or after from; -1 when absent. */
static long find_bytes(const char *hay, size_t hay_len, const char *needle, size_t needle_len,
		       size_t from)
{
	if (needle_len == 0)
		return from <= hay_len ? (long)from : -1;
	for (size_t i = from; i + needle_len <= hay_len; i++) {
		if (hay[i] == needle[0] && memcmp(hay + i, needle, needle_len) == 0)
			return (long)i;
	}
	return -1;
}

static bool has_prefix(const char *s, size_t len, const char *p, size_t plen)
{
	return plen <= len && memcmp(s, p, plen) == 0;
}

static bool has_suffix(const char *s, size_t len, const char *p, size_t plen)
{
	return plen <= len && memcmp(s + len - plen, p, plen) == 0;
}

static int bi_contains(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	const char *s, *sub;
	size_t len, sub_len;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &s, &len));
	WD_TRY(rego_bi_string(ctx, args, 2, &sub, &sub_len));
	*ret = rv_bool(find_bytes(s, len, sub, sub_len, 0) >= 0);
	return 0;
}

static int bi_startswith(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			 struct rv **ret)
{
	const char *s, *p;
	size_t len, plen;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &s, &len));
	WD_TRY(rego_bi_string(ctx, args, 2, &p, &plen));
	*ret = rv_bool(has_prefix(s, len, p, plen));
	return 0;
}

static int bi_endswith(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	const char *s, *p;
	size_t len, plen;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &s, &len));
	WD_TRY(rego_bi_string(ctx, args, 2, &p, &plen));
	*ret = rv_bool(has_suffix(s, len, p, plen));
	return 0;
}

/* Decodes s into runes (invalid bytes become U+FFFD, as Go's []rune(s)). */
static uint32_t *to_runes(const char *s, size_t len, size_t *ret_n)
{
	uint32_t *runes = calloc(len ? len : 1, sizeof(*runes));
	size_t n = 0;

	if (!runes)
		return NULL;
	for (size_t pos = 0; pos < len;)
		runes[n++] = bi_utf8_next(s, len, &pos);
	*ret_n = n;
	return runes;
}

/* Appends runes[from, to) as UTF-8. */
static int put_runes(struct wd_buf *out, const uint32_t *runes, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		WD_TRY(bi_buf_rune(out, runes[i]));
	return 0;
}

static bool runes_at(const uint32_t *hay, size_t hay_n, size_t at, const uint32_t *needle,
		     size_t needle_n)
{
	if (at + needle_n > hay_n)
		return false;
	for (size_t k = 0; k < needle_n; k++)
		if (hay[at + k] != needle[k])
			return false;
	return true;
}

/* indexof and indexof_n: rune offsets, as OPA converts both strings to runes
 * (an ASCII-only pair keeps byte offsets, which are the same). */
static int index_common(struct rego_bctx *ctx, struct rv *const *args, bool all, struct rv **ret)
{
	_wd_cleanup_(wd_freep) uint32_t *base = NULL;
	_wd_cleanup_(wd_freep) uint32_t *search = NULL;
	struct rv *arr = NULL;
	const char *s, *sub;
	size_t len, sub_len, base_n = 0, search_n = 0;
	int rc = 0;

	WD_TRY(rego_bi_string(ctx, args, 1, &s, &len));
	WD_TRY(rego_bi_string(ctx, args, 2, &sub, &sub_len));
	if (sub_len == 0)
		return rego_bi_error(ctx, "empty search character");

	base = to_runes(s, len, &base_n);
	search = to_runes(sub, sub_len, &search_n);
	if (!base || !search)
		return bi_fail(ctx, WD_ENOMEM);

	if (all) {
		arr = rv_array_new(0);
		if (!arr)
			return bi_fail(ctx, WD_ENOMEM);
	}
	for (size_t i = 0; i + search_n <= base_n; i++) {
		if (!runes_at(base, base_n, i, search, search_n))
			continue;
		if (!all)
			return bi_ret(ctx, rv_int((int64_t)i), ret);
		WD_GUARD(rv_array_push(arr, rv_int((int64_t)i)));
	}
	if (!all)
		return bi_ret(ctx, rv_int(-1), ret);
	*ret = WD_TAKE_PTR(arr);
	return 0;
out:
	rv_unref(arr);
	return bi_fail(ctx, rc);
}

static int bi_indexof(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	(void)nargs;
	return index_common(ctx, args, false, ret);
}

static int bi_indexof_n(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			struct rv **ret)
{
	(void)nargs;
	return index_common(ctx, args, true, ret);
}

/* strings.count: non-overlapping occurrences; an empty substring counts the
 * rune boundaries (runes + 1), as Go's strings.Count. */
static int bi_count(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	const char *s, *sub;
	size_t len, sub_len, count = 0;
	long at;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &s, &len));
	WD_TRY(rego_bi_string(ctx, args, 2, &sub, &sub_len));

	if (sub_len == 0)
		return bi_ret(ctx, rv_int((int64_t)bi_utf8_count(s, len) + 1), ret);
	for (size_t from = 0; (at = find_bytes(s, len, sub, sub_len, from)) >= 0; count++)
		from = (size_t)at + sub_len;
	return bi_ret(ctx, rv_int((int64_t)count), ret);
}

static int bi_substring(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			struct rv **ret)
{
	_wd_cleanup_(wd_freep) uint32_t *runes = NULL;
	struct wd_buf out;
	const char *s;
	size_t len, n = 0, upto;
	int64_t start, length;
	int rc;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &s, &len));
	WD_TRY(bi_int_operand(ctx, args, 2, &start));
	WD_TRY(bi_int_operand(ctx, args, 3, &length));
	if (start < 0)
		return rego_bi_error(ctx, "negative offset");

	if (bi_is_ascii(s, len)) {
		if ((uint64_t)start >= len)
			return bi_ret(ctx, rv_string("", 0), ret);
		upto = length < 0 || (uint64_t)length >= len - (size_t)start ? len
									  : (size_t)(start + length);
		return bi_ret(ctx, rv_string(s + start, upto - (size_t)start), ret);
	}

	runes = to_runes(s, len, &n);
	if (!runes)
		return bi_fail(ctx, WD_ENOMEM);
	if ((uint64_t)start >= n)
		return bi_ret(ctx, rv_string("", 0), ret);
	upto = length < 0 || (uint64_t)length >= n - (size_t)start ? n : (size_t)(start + length);

	wd_buf_init(&out, len, BI_STR_MAX);
	rc = put_runes(&out, runes, (size_t)start, upto);
	if (rc < 0) {
		wd_buf_free(&out);
		return bi_fail(ctx, rc);
	}
	return bi_buf_to_string(ctx, &out, ret);
}

/* ---- case ---- */

static locale_t utf8_locale;
static pthread_once_t utf8_locale_once = PTHREAD_ONCE_INIT;

static void utf8_locale_open(void)
{
	utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

/* Maps each rune with Unicode simple case mapping, as Go's strings.ToLower
 * and ToUpper. NOTE: non-ASCII letters need the C.UTF-8 locale; without it
 * only ASCII letters change. */
static int change_case(struct rego_bctx *ctx, struct rv *const *args, bool upper,
		       struct rv **ret)
{
	struct wd_buf out;
	const char *s;
	size_t len;
	int rc = 0;

	WD_TRY(rego_bi_string(ctx, args, 1, &s, &len));
	pthread_once(&utf8_locale_once, utf8_locale_open);

	wd_buf_init(&out, len, BI_STR_MAX);
	for (size_t pos = 0; pos < len && rc == 0;) {
		uint32_t r = bi_utf8_next(s, len, &pos);

		if (r < 0x80) {
			if (upper && r >= 'a' && r <= 'z')
				r -= 32;
			else if (!upper && r >= 'A' && r <= 'Z')
				r += 32;
		} else if (utf8_locale) {
			r = (uint32_t)(upper ? towupper_l((wint_t)r, utf8_locale)
					     : towlower_l((wint_t)r, utf8_locale));
		}
		rc = bi_buf_rune(&out, r);
	}
	if (rc < 0) {
		wd_buf_free(&out);
		return bi_fail(ctx, rc);
	}
	return bi_buf_to_string(ctx, &out, ret);
}

static int bi_lower(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	(void)nargs;
	return change_case(ctx, args, false, ret);
}

static int bi_upper(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	(void)nargs;
	return change_case(ctx, args, true, ret);
}

static int bi_reverse(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		      struct rv **ret)
{
	_wd_cleanup_(wd_freep) uint32_t *runes = NULL;
	struct wd_buf out;
	const char *s;
	size_t len, n = 0;
	int rc = 0;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &s, &len));
	runes = to_runes(s, len, &n);
	if (!runes)
		return bi_fail(ctx, WD_ENOMEM);

	wd_buf_init(&out, len, BI_STR_MAX);
	for (size_t i = n; i > 0 && rc == 0; i--)
		rc = bi_buf_rune(&out, runes[i - 1]);
	if (rc < 0) {
		wd_buf_free(&out);
		return bi_fail(ctx, rc);
	}
	return bi_buf_to_string(ctx, &out, ret);
}

/* ---- split ---- */

/* Go's strings.SplitN: limit < 0 for no limit, 0 for none; an empty
 * separator splits after each UTF-8 sequence. */
static int split_n(const char *s, size_t len, const char *sep, size_t sep_len, long limit,
		   struct rv *arr)
{
	size_t parts = 0, pos = 0;
	long at;

	if (limit == 0)
		return 0;

	if (sep_len == 0) {
		while (pos < len) {
			size_t start = pos;

			if (limit > 0 && (long)parts == limit - 1) {
				pos = len;
			} else {
				bi_utf8_next(s, len, &pos);
			}
			WD_TRY(rv_array_push(arr, rv_string(s + start, pos - start)));
			parts++;
		}
		return 0;
	}

	while ((limit < 0 || (long)parts < limit - 1) &&
	       (at = find_bytes(s, len, sep, sep_len, pos)) >= 0) {
		WD_TRY(rv_array_push(arr, rv_string(s + pos, (size_t)at - pos)));
		pos = (size_t)at + sep_len;
		parts++;
	}
	return rv_array_push(arr, rv_string(s + pos, len - pos));
}

static int bi_split(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	struct rv *arr;
	const char *s, *sep;
	size_t len, sep_len;
	int rc;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &s, &len));
	WD_TRY(rego_bi_string(ctx, args, 2, &sep, &sep_len));

	arr = rv_array_new(0);
	if (!arr)
		return bi_fail(ctx, WD_ENOMEM);
	rc = split_n(s, len, sep, sep_len, -1, arr);
	if (rc < 0) {
		rv_unref(arr);
		return bi_fail(ctx, rc);
	}
	*ret = arr;
	return 0;
}

/* strings.split_n: n >= 0 keeps the first n parts, n < 0 the last -n parts. */
static int bi_split_n(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		      struct rv **ret)
{
	struct rv *all = NULL, *arr = NULL;
	const char *s, *sep;
	size_t len, sep_len, count, start, stop;
	int64_t n;
	int rc;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &s, &len));
	WD_TRY(rego_bi_string(ctx, args, 2, &sep, &sep_len));
	WD_TRY(bi_int_operand(ctx, args, 3, &n));

	all = rv_array_new(0);
	arr = rv_array_new(0);
	WD_ENSURE(all && arr, WD_ENOMEM);
	if (n >= 0)
		WD_GUARD(split_n(s, len, sep, sep_len, n >= LONG_MAX ? -1 : (long)n + 1, all));
	else
		WD_GUARD(split_n(s, len, sep, sep_len, -1, all));

	count = rv_array_len(all);
	if (n >= 0) {
		start = 0;
		stop = (uint64_t)n < count ? (size_t)n : count;
	} else {
		start = (uint64_t)(-(n + 1)) + 1 >= count ? 0 : count - (size_t)(-(n + 1)) - 1;
		stop = count;
	}
	for (size_t i = start; i < stop; i++)
		WD_GUARD(rv_array_push(arr, rv_ref(rv_array_at(all, i))));

	rv_unref(all);
	*ret = arr;
	return 0;
out:
	rv_unref(all);
	rv_unref(arr);
	return bi_fail(ctx, rc);
}

/* ---- replace ---- */

struct replace_pair {
	const char *old;
	size_t old_len;
	const char *with;
	size_t with_len;
};

/* Go's strings.NewReplacer: at each byte position the first pair (in
 * argument order) whose old string matches wins; an empty old string matches
 * at every byte position but not twice in a row at the same one. */
static int replace_pairs(const struct replace_pair *pairs, size_t npairs, const char *s,
			 size_t len, struct wd_buf *out)
{
	bool prev_empty = false;
	size_t last = 0;

	for (size_t i = 0; i <= len;) {
		const struct replace_pair *best = NULL;

		for (size_t k = 0; k < npairs; k++) {
			const struct replace_pair *p = &pairs[k];

			if (p->old_len == 0 && prev_empty)
				continue;
			if (has_prefix(s + i, len - i, p->old, p->old_len)) {
				best = p;
				break;
			}
		}
		prev_empty = best && best->old_len == 0;
		if (!best) {
			i++;
			continue;
		}
		WD_TRY(wd_buf_append(out, s + last, i - last));
		WD_TRY(wd_buf_append(out, best->with, best->with_len));
		i += best->old_len;
		last = i;
	}
	return wd_buf_append(out, s + last, len - last);
}

static int bi_replace(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		      struct rv **ret)
{
	struct replace_pair pair;
	struct wd_buf out;
	const char *s;
	size_t len;
	int rc;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &s, &len));
	WD_TRY(rego_bi_string(ctx, args, 2, &pair.old, &pair.old_len));
	WD_TRY(rego_bi_string(ctx, args, 3, &pair.with, &pair.with_len));

	wd_buf_init(&out, len, BI_STR_MAX);
	rc = replace_pairs(&pair, 1, s, len, &out);
	if (rc < 0) {
		wd_buf_free(&out);
		return bi_fail(ctx, rc);
	}
	return bi_buf_to_string(ctx, &out, ret);
}

/* strings.replace_n: the pairs are tried in sorted key order, so the result
 * does not depend on how the object was built. */
static int bi_replace_n(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			struct rv **ret)
{
	_wd_cleanup_(wd_freep) struct replace_pair *pairs = NULL;
	const struct rv *patterns = args[0];
	struct wd_buf out;
	const char *s;
	size_t len, n;
	int rc;

	(void)nargs;
	WD_TRY(rego_bi_want(ctx, args, 1, RK_OBJECT));
	WD_TRY(rego_bi_string(ctx, args, 2, &s, &len));

	n = rv_len(patterns);
	pairs = calloc(n ? n : 1, sizeof(*pairs));
	if (!pairs)
		return bi_fail(ctx, WD_ENOMEM);
	for (size_t i = 0; i < n; i++) {
		struct rv *key, *value;

		rv_map_sorted_at(patterns, i, &key, &value);
		if (!rv_is(key, RV_STRING))
			return rego_bi_error_code(ctx, "eval_type_error",
				"operand 1 non-string key found in pattern object");
		if (!rv_is(value, RV_STRING))
			return rego_bi_error_code(ctx, "eval_type_error",
				"operand 1 non-string value found in pattern object");
		pairs[i] = (struct replace_pair){ rv_str(key), rv_str_len(key), rv_str(value),
						  rv_str_len(value) };
	}

	wd_buf_init(&out, len, BI_STR_MAX);
	rc = replace_pairs(pairs, n, s, len, &out);
	if (rc < 0) {
		wd_buf_free(&out);
		return bi_fail(ctx, rc);
	}
	return bi_buf_to_string(ctx, &out, ret);
}

/* ---- trims ---- */

static bool cutset_has(const char *cut, size_t cut_len, uint32_t r)
{
	for (size_t pos = 0; pos < cut_len;)
		if (bi_utf8_next(cut, cut_len, &pos) == r)
			return true;
	return false;
}

/* Length of the leading run of runes in cutset (or of spaces when cut is
 * NULL). */
static size_t trim_left_len(const char *s, size_t len, const char *cut, size_t cut_len)
{
	size_t pos = 0;

	while (pos < len) {
		size_t next = pos;
		uint32_t r = bi_utf8_next(s, len, &next);

		if (cut ? !cutset_has(cut, cut_len, r) : !bi_rune_is_space(r))
			break;
		pos = next;
	}
	return pos;
}

/* Start of the trailing run of runes in cutset, scanning runes from the end
 * as Go's utf8.DecodeLastRuneInString does. */
static size_t trim_right_end(const char *s, size_t len, const char *cut, size_t cut_len)
{
	size_t end = len;

	while (end > 0) {
		size_t start = end - 1, pos;
		uint32_t r;

		/* Back up over at most three continuation bytes. */
		while (start > 0 && end - start < 4 && ((uint8_t)s[start] & 0xC0) == 0x80)
			start--;
		pos = start;
		r = bi_utf8_next(s, end, &pos);
		if (pos != end) {
			/* Not one whole sequence: the last byte alone is invalid. */
			start = end - 1;
			r = BI_RUNE_ERROR;
		}
		if (cut ? !cutset_has(cut, cut_len, r) : !bi_rune_is_space(r))
			break;
		end = start;
	}
	return end;
}

enum trim_kind { TRIM_BOTH, TRIM_LEFT, TRIM_RIGHT, TRIM_PREFIX, TRIM_SUFFIX, TRIM_SPACE };

static int trim_common(struct rego_bctx *ctx, struct rv *const *args, enum trim_kind kind,
		       struct rv **ret)
{
	const char *s, *cut = NULL;
	size_t len, cut_len = 0, start = 0, end;

	WD_TRY(rego_bi_string(ctx, args, 1, &s, &len));
	if (kind != TRIM_SPACE)
		WD_TRY(rego_bi_string(ctx, args, 2, &cut, &cut_len));
	end = len;

	switch (kind) {
	case TRIM_BOTH:
	case TRIM_SPACE:
		start = trim_left_len(s, len, cut, cut_len);
		end = start + trim_right_end(s + start, len - start, cut, cut_len);
		break;
	case TRIM_LEFT:
		start = trim_left_len(s, len, cut, cut_len);
		break;
	case TRIM_RIGHT:
		end = trim_right_end(s, len, cut, cut_len);
		break;
	case TRIM_PREFIX:
		if (has_prefix(s, len, cut, cut_len))
			start = cut_len;
		break;
	case TRIM_SUFFIX:
		if (has_suffix(s, len, cut, cut_len))
			end = len - cut_len;
		break;
	}

	if (start == 0 && end == len) {
		*ret = rv_ref(args[0]);
		return 0;
	}
	return bi_ret(ctx, rv_string(s + start, end - start), ret);
}

static int bi_trim(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	(void)nargs;
	return trim_common(ctx, args, TRIM_BOTH, ret);
}

static int bi_trim_left(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			struct rv **ret)
{
	(void)nargs;
	return trim_common(ctx, args, TRIM_LEFT, ret);
}

static int bi_trim_right(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			 struct rv **ret)
{
	(void)nargs;
	return trim_common(ctx, args, TRIM_RIGHT, ret);
}

static int bi_trim_prefix(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			  struct rv **ret)
{
	(void)nargs;
	return trim_common(ctx, args, TRIM_PREFIX, ret);
}

static int bi_trim_suffix(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			  struct rv **ret)
{
	(void)nargs;
	return trim_common(ctx, args, TRIM_SUFFIX, ret);
}

static int bi_trim_space(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			 struct rv **ret)
{
	(void)nargs;
	return trim_common(ctx, args, TRIM_SPACE, ret);
}

/* ---- collections of strings ---- */

static int bi_concat(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		     struct rv **ret)
{
	const struct rv *items = args[1];
	struct wd_buf out;
	const char *sep;
	size_t sep_len, n;
	int rc = 0;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &sep, &sep_len));
	if (!rv_is(items, RV_ARRAY) && !rv_is(items, RV_SET))
		return rego_bi_type_error(ctx, 2, "one of {set, array}", items);
	WD_TRY(bi_strings_of(ctx, items, 2));

	n = bi_members(items);
	wd_buf_init(&out, 64, BI_STR_MAX);
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct rv *item = bi_member_at(items, i);

		if (i > 0)
			rc = wd_buf_append(&out, sep, sep_len);
		if (rc == 0)
			rc = wd_buf_append(&out, rv_str(item), rv_str_len(item));
	}
	if (rc < 0) {
		wd_buf_free(&out);
		return bi_fail(ctx, rc);
	}
	return bi_buf_to_string(ctx, &out, ret);
}

/* Checks an operand of strings.any_prefix_match / any_suffix_match. */
static int affix_operand(struct rego_bctx *ctx, const struct rv *v, size_t argno)
{
	if (rv_is(v, RV_STRING))
		return 0;
	if (!rv_is(v, RV_ARRAY) && !rv_is(v, RV_SET))
		return rego_bi_type_error(ctx, argno, "one of {string, set, array}", v);
	return bi_strings_of(ctx, v, argno);
}

static size_t affix_count(const struct rv *v)
{
	return rv_is(v, RV_STRING) ? 1 : bi_members(v);
}

static const struct rv *affix_at(const struct rv *v, size_t i)
{
	return rv_is(v, RV_STRING) ? v : bi_member_at(v, i);
}

static int affix_match(struct rego_bctx *ctx, struct rv *const *args, bool suffix,
		       struct rv **ret)
{
	size_t ns, na;

	WD_TRY(affix_operand(ctx, args[0], 1));
	WD_TRY(affix_operand(ctx, args[1], 2));

	ns = affix_count(args[0]);
	na = affix_count(args[1]);
	for (size_t i = 0; i < ns; i++) {
		const struct rv *s = affix_at(args[0], i);

		for (size_t k = 0; k < na; k++) {
			const struct rv *a = affix_at(args[1], k);
			bool hit = suffix ? has_suffix(rv_str(s), rv_str_len(s), rv_str(a), rv_str_len(a))
					  : has_prefix(rv_str(s), rv_str_len(s), rv_str(a), rv_str_len(a));

			if (hit) {
				*ret = rv_bool(true);
				return 0;
			}
		}
	}
	*ret = rv_bool(false);
	return 0;
}

static int bi_any_prefix_match(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			       struct rv **ret)
{
	(void)nargs;
	return affix_match(ctx, args, false, ret);
}

static int bi_any_suffix_match(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			       struct rv **ret)
{
	(void)nargs;
	return affix_match(ctx, args, true, ret);
}

/* ---- format_int ---- */

/* format_int: the base must be written exactly 2, 8, 10 or 16; a fraction is
 * truncated toward zero after rounding to big.Float's 64-bit mantissa. */
static int bi_format_int(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			 struct rv **ret)
{
	struct rv *v;
	mpq_t q;
	mpz_t z;
	int64_t base = 0;
	char *text;

	(void)nargs;
	WD_TRY(rego_bi_want(ctx, args, 1, RK_NUMBER));
	WD_TRY(rego_bi_want(ctx, args, 2, RK_NUMBER));
	if (args[1]->num_repr != RV_NUM_INT || !rv_number_to_i64(args[1], &base) ||
	    (base != 2 && base != 8 && base != 10 && base != 16))
		return rego_bi_error_code(ctx, "eval_type_error",
					  "operand 2 must be one of {2, 8, 10, 16}");

	mpq_init(q);
	mpz_init(z);
	if (!bi_number_to_mpq(args[0], q)) {
		mpq_clear(q);
		mpz_clear(z);
		return bi_fail(ctx, WD_ENOMEM);
	}
	if (args[0]->num_repr == RV_NUM_DECIMAL)
		bi_mpq_round64(q);
	mpz_tdiv_q(z, mpq_numref(q), mpq_denref(q));
	text = mpz_get_str(NULL, (int)base, z);
	mpq_clear(q);
	mpz_clear(z);
	if (!text)
		return bi_fail(ctx, WD_ENOMEM);
	v = rv_cstring(text);
	free(text);
	return bi_ret(ctx, v, ret);
}

#define S RK_STRING
#define N RK_NUMBER

const struct rego_builtin rego_builtins_strings[] = {
	{ .name = "concat", .arity = 2, .arg_types = { S, RK_ARRAY | RK_SET },
	  .result_type = S, .fn = bi_concat },
	{ .name = "contains", .arity = 2, .arg_types = { S, S }, .result_type = RK_BOOL,
	  .fn = bi_contains },
	{ .name = "endswith", .arity = 2, .arg_types = { S, S }, .result_type = RK_BOOL,
	  .fn = bi_endswith },
	{ .name = "startswith", .arity = 2, .arg_types = { S, S }, .result_type = RK_BOOL,
	  .fn = bi_startswith },
	{ .name = "format_int", .arity = 2, .arg_types = { N, N }, .result_type = S,
	  .fn = bi_format_int },
	{ .name = "indexof", .arity = 2, .arg_types = { S, S }, .result_type = N,
	  .fn = bi_indexof },
	{ .name = "indexof_n", .arity = 2, .arg_types = { S, S }, .result_type = RK_ARRAY,
	  .fn = bi_indexof_n },
	{ .name = "lower", .arity = 1, .arg_types = { S }, .result_type = S, .fn = bi_lower },
	{ .name = "upper", .arity = 1, .arg_types = { S }, .result_type = S, .fn = bi_upper },
	{ .name = "replace", .arity = 3, .arg_types = { S, S, S }, .result_type = S,
	  .fn = bi_replace },
	{ .name = "split", .arity = 2, .arg_types = { S, S }, .result_type = RK_ARRAY,
	  .fn = bi_split },
	{ .name = "sprintf", .arity = 2, .arg_types = { S, RK_ARRAY }, .result_type = S,
	  .fn = bi_sprintf },
	{ .name = "strings.any_prefix_match", .arity = 2,
	  .arg_types = { S | RK_ARRAY | RK_SET, S | RK_ARRAY | RK_SET }, .result_type = RK_BOOL,
	  .fn = bi_any_prefix_match },
	{ .name = "strings.any_suffix_match", .arity = 2,
	  .arg_types = { S | RK_ARRAY | RK_SET, S | RK_ARRAY | RK_SET }, .result_type = RK_BOOL,
	  .fn = bi_any_suffix_match },
	{ .name = "strings.count", .arity = 2, .arg_types = { S, S }, .result_type = N,
	  .fn = bi_count },
	{ .name = "strings.replace_n", .arity = 2, .arg_types = { RK_OBJECT, S },
	  .result_type = S, .fn = bi_replace_n },
	{ .name = "strings.reverse", .arity = 1, .arg_types = { S }, .result_type = S,
	  .fn = bi_reverse },
	{ .name = "strings.split_n", .arity = 3, .arg_types = { S, S, N },
	  .result_type = RK_ARRAY, .fn = bi_split_n },
	{ .name = "strings.render_template", .arity = 2, .arg_types = { S, RK_OBJECT },
	  .result_type = S, .fn = bi_tmpl_render },
	{ .name = "substring", .arity = 3, .arg_types = { S, N, N }, .result_type = S,
	  .fn = bi_substring },
	{ .name = "trim", .arity = 2, .arg_types = { S, S }, .result_type = S, .fn = bi_trim },
	{ .name = "trim_left", .arity = 2, .arg_types = { S, S }, .result_type = S,
	  .fn = bi_trim_left },
	{ .name = "trim_prefix", .arity = 2, .arg_types = { S, S }, .result_type = S,
	  .fn = bi_trim_prefix },
	{ .name = "trim_right", .arity = 2, .arg_types = { S, S }, .result_type = S,
	  .fn = bi_trim_right },
	{ .name = "trim_space", .arity = 1, .arg_types = { S }, .result_type = S,
	  .fn = bi_trim_space },
	{ .name = "trim_suffix", .arity = 2, .arg_types = { S, S }, .result_type = S,
	  .fn = bi_trim_suffix },
	{ .name = NULL },
};
