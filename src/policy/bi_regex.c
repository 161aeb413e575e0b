/* Built-in functions: regex.*, re_match and glob.*.
 * Matching, splitting and replacement follow Go's regexp package (leftmost
 * first, empty matches handled as FindAll and ReplaceAll do). */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "policy/bi_re_engine.h"
#include "policy/bi_str_util.h"

/* Submatch pairs read per match: the whole match plus the groups. */
static size_t pairs_of(const struct bi_regex *re)
{
	return (size_t)re->ncap + 1;
}

static int bi_regex_match(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			  struct rv **ret)
{
	const struct bi_regex *re;
	const char *pat, *s;
	size_t plen, len;
	PCRE2_SIZE ov[2];
	int m;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &pat, &plen));
	WD_TRY(rego_bi_string(ctx, args, 2, &s, &len));
	WD_TRY(bi_regex_compile(ctx, pat, plen, &re));
	m = bi_regex_exec(ctx, re, s, len, 0, ov, 1);
	if (m < 0)
		return m;
	*ret = rv_bool(m == 1);
	return 0;
}

static int bi_regex_is_valid(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			     struct rv **ret)
{
	(void)ctx;
	(void)nargs;
	*ret = rv_bool(rv_is(args[0], RV_STRING) &&
		       bi_regex_valid(rv_str(args[0]), rv_str_len(args[0])));
	return 0;
}

/* Go's allMatches: calls fn for up to n matches (n < 0: all), skipping an
 * empty match right after the previous match. */
typedef int (*match_fn)(void *arg, const char *s, const PCRE2_SIZE *ov, size_t pairs);

static int for_each_match(struct rego_bctx *ctx, const struct bi_regex *re, const char *s,
			  size_t len, int64_t n, match_fn fn, void *arg)
{
	size_t pairs = pairs_of(re), pos = 0;
	PCRE2_SIZE *ov = calloc(2 * pairs, sizeof(*ov));
	long prev_end = -1;
	int64_t delivered = 0;
	int rc = 0;

	if (!ov)
		return bi_fail(ctx, WD_ENOMEM);
	if (n < 0)
		n = INT64_MAX;

	while (delivered < n && pos <= len) {
		bool accept = true;
		int m = bi_regex_exec(ctx, re, s, len, pos, ov, pairs);

		if (m < 0) {
			rc = m;
			break;
		}
		if (m == 0)
			break;
		if (ov[1] == pos) {
			if ((long)ov[0] == prev_end)
				accept = false;
			if (pos < len)
				bi_utf8_next(s, len, &pos);
			else
				pos = len + 1;
		} else {
			pos = ov[1];
		}
		prev_end = (long)ov[1];
		if (accept) {
			rc = fn(arg, s, ov, pairs);
			if (rc < 0)
				break;
			delivered++;
		}
	}
	free(ov);
	return rc < 0 ? bi_fail(ctx, rc) : 0;
}

static int collect_match(void *arg, const char *s, const PCRE2_SIZE *ov, size_t pairs)
{
	(void)pairs;
	return rv_array_push(arg, rv_string(s + ov[0], ov[1] - ov[0]));
}

static int collect_submatches(void *arg, const char *s, const PCRE2_SIZE *ov, size_t pairs)
{
	struct rv *inner = rv_array_new(pairs);

	if (!inner)
		return WD_ENOMEM;
	for (size_t i = 0; i < pairs; i++) {
		struct rv *item = ov[2 * i] == PCRE2_UNSET
			? rv_string("", 0) : rv_string(s + ov[2 * i], ov[2 * i + 1] - ov[2 * i]);

		if (rv_array_push(inner, item) < 0) {
			rv_unref(inner);
			return WD_ENOMEM;
		}
	}
	return rv_array_push(arg, inner);
}

static int find_common(struct rego_bctx *ctx, struct rv *const *args, bool submatches,
		       struct rv **ret)
{
	const struct bi_regex *re;
	const char *pat, *s;
	size_t plen, len;
	struct rv *arr;
	int64_t n;
	int rc;

	WD_TRY(rego_bi_string(ctx, args, 1, &pat, &plen));
	WD_TRY(rego_bi_string(ctx, args, 2, &s, &len));
	WD_TRY(bi_int_operand(ctx, args, 3, &n));
	WD_TRY(bi_regex_compile(ctx, pat, plen, &re));

	arr = rv_array_new(0);
	if (!arr)
		return bi_fail(ctx, WD_ENOMEM);
	rc = for_each_match(ctx, re, s, len, n, submatches ? collect_submatches : collect_match, arr);
	if (rc < 0) {
		rv_unref(arr);
		return rc;
	}
	*ret = arr;
	return 0;
}

static int bi_regex_find_n(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			   struct rv **ret)
{
	(void)nargs;
	return find_common(ctx, args, false, ret);
}

static int bi_regex_find_all_submatch(struct rego_bctx *ctx, struct rv *const *args,
				      size_t nargs, struct rv **ret)
{
	(void)nargs;
	return find_common(ctx, args, true, ret);
}

struct split_state {
	struct rv *arr;
	size_t beg, end;
};

static int split_step(void *arg, const char *s, const PCRE2_SIZE *ov, size_t pairs)
{
	struct split_state *st = arg;

	(void)pairs;
	st->end = ov[0];
	if (ov[1] != 0)
		WD_TRY(rv_array_push(st->arr, rv_string(s + st->beg, st->end - st->beg)));
	st->beg = ov[1];
	return 0;
}

/* Go's Regexp.Split(s, -1). */
static int bi_regex_split(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			  struct rv **ret)
{
	const struct bi_regex *re;
	struct split_state st = { 0 };
	const char *pat, *s;
	size_t plen, len;
	int rc;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &pat, &plen));
	WD_TRY(rego_bi_string(ctx, args, 2, &s, &len));
	WD_TRY(bi_regex_compile(ctx, pat, plen, &re));

	st.arr = rv_array_new(0);
	if (!st.arr)
		return bi_fail(ctx, WD_ENOMEM);
	if (plen > 0 && len == 0) {
		rc = rv_array_push(st.arr, rv_string("", 0));
		goto done;
	}
	rc = for_each_match(ctx, re, s, len, -1, split_step, &st);
	if (rc < 0) {
		rv_unref(st.arr);
		return rc;
	}
	if (st.end != len)
		rc = rv_array_push(st.arr, rv_string(s + st.beg, len - st.beg));
done:
	if (rc < 0)
		return bi_fail(ctx, rc);
	*ret = st.arr;
	return 0;
}

/* ---- regex.replace ---- */

static bool name_char(uint32_t r)
{
	return r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') ||
	       r >= 0x80;
}

/* Go's Regexp.Expand of template for one match. */
static int expand(const struct bi_regex *re, struct wd_buf *out, const char *tpl, size_t tlen,
		  const char *s, const PCRE2_SIZE *ov, size_t pairs)
{
	size_t i = 0;

	while (i < tlen) {
		const char *dollar = memchr(tpl + i, '$', tlen - i);
		size_t k, name_start, name_len;
		bool brace = false;
		long num = 0;

		if (!dollar)
			break;
		WD_TRY(wd_buf_append(out, tpl + i, (size_t)(dollar - (tpl + i))));
		i = (size_t)(dollar - tpl) + 1;
		if (i < tlen && tpl[i] == '$') {
			WD_TRY(wd_buf_append_byte(out, '$'));
			i++;
			continue;
		}

		k = i;
		if (k < tlen && tpl[k] == '{') {
			brace = true;
			k++;
		}
		name_start = k;
		while (k < tlen) {
			size_t next = k;

			if (!name_char(bi_utf8_next(tpl, tlen, &next)))
				break;
			k = next;
		}
		name_len = k - name_start;
		if (name_len == 0 || (brace && (k >= tlen || tpl[k] != '}'))) {
			WD_TRY(wd_buf_append_byte(out, '$'));
			continue;
		}
		if (brace)
			k++;
		i = k;

		for (size_t d = 0; d < name_len; d++) {
			char c = tpl[name_start + d];

			if (c < '0' || c > '9' || num >= 100000000) {
				num = -1;
				break;
			}
			num = num * 10 + (c - '0');
		}
		if (tpl[name_start] == '0' && name_len > 1)
			num = -1;

		if (num < 0) {
			char name[128];

			if (name_len >= sizeof(name))
				continue;
			memcpy(name, tpl + name_start, name_len);
			name[name_len] = '\0';
			num = pcre2_substring_number_from_name(re->code, (PCRE2_SPTR)name);
			if (num < 0)
				continue;
		}
		if ((size_t)num < pairs && ov[2 * num] != PCRE2_UNSET)
			WD_TRY(wd_buf_append(out, s + ov[2 * num], ov[2 * num + 1] - ov[2 * num]));
	}
	return wd_buf_append(out, tpl + i, tlen - i);
}

/* Go's ReplaceAllString: matches are searched with the whole string as
 * context, and an empty match right after a match is not replaced. */
static int bi_regex_replace(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			    struct rv **ret)
{
	const struct bi_regex *re;
	const char *s, *pat, *tpl;
	size_t len, plen, tlen, pairs, pos = 0, last_end = 0;
	PCRE2_SIZE *ov;
	struct wd_buf out;
	int rc = 0;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &s, &len));
	WD_TRY(rego_bi_string(ctx, args, 2, &pat, &plen));
	WD_TRY(rego_bi_string(ctx, args, 3, &tpl, &tlen));
	WD_TRY(bi_regex_compile(ctx, pat, plen, &re));

	pairs = pairs_of(re);
	ov = calloc(2 * pairs, sizeof(*ov));
	if (!ov)
		return bi_fail(ctx, WD_ENOMEM);
	wd_buf_init(&out, len, BI_STR_MAX);

	while (pos <= len) {
		int m = bi_regex_exec(ctx, re, s, len, pos, ov, pairs);
		size_t width;

		if (m < 0) {
			free(ov);
			wd_buf_free(&out);
			return m;
		}
		if (m == 0)
			break;
		WD_GUARD(wd_buf_append(&out, s + last_end, ov[0] - last_end));
		if (ov[1] > last_end || ov[0] == 0)
			WD_GUARD(expand(re, &out, tpl, tlen, s, ov, pairs));
		last_end = ov[1];

		width = 0;
		if (pos < len) {
			size_t next = pos;

			bi_utf8_next(s, len, &next);
			width = next - pos;
		}
		if (pos + width > ov[1])
			pos += width;
		else if (pos + 1 > ov[1])
			pos++;
		else
			pos = ov[1];
	}
	WD_GUARD(wd_buf_append(&out, s + last_end, len - last_end));
	free(ov);
	return bi_buf_to_string(ctx, &out, ret);
out:
	free(ov);
	wd_buf_free(&out);
	return bi_fail(ctx, rc);
}

/* ---- regex.template_match ---- */

static int quote_meta_into(struct wd_buf *out, const char *s, size_t len, const char *specials)
{
	for (size_t i = 0; i < len; i++) {
		if (strchr(specials, s[i]) && s[i] != '\0')
			WD_TRY(wd_buf_append_byte(out, '\\'));
		WD_TRY(wd_buf_append_byte(out, (uint8_t)s[i]));
	}
	return 0;
}

/* Go's regexp.QuoteMeta characters. */
static const char re_specials[] = "\\.+*?()|[]{}^$";

static int bi_regex_template_match(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
				   struct rv **ret)
{
	const struct bi_regex *re;
	const char *tpl, *s, *open, *close;
	size_t tlen, len, olen, clen, end = 0, start_idx = 0;
	struct wd_buf pattern;
	PCRE2_SIZE ov[2];
	int level = 0, rc = 0, m;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &tpl, &tlen));
	WD_TRY(rego_bi_string(ctx, args, 2, &s, &len));
	WD_TRY(rego_bi_string(ctx, args, 3, &open, &olen));
	WD_TRY(rego_bi_string(ctx, args, 4, &close, &clen));
	if (olen != 1)
		return rego_bi_error(ctx,
			"start delimiter has to be exactly one character long but is %zu long", olen);
	if (clen != 1)
		return rego_bi_error(ctx,
			"end delimiter has to be exactly one character long but is %zu long", olen);

	wd_buf_init(&pattern, tlen + 8, BI_STR_MAX);
	WD_GUARD(wd_buf_append_byte(&pattern, '^'));
	for (size_t i = 0; i < tlen; i++) {
		if (tpl[i] == open[0]) {
			if (++level == 1)
				start_idx = i;
		} else if (tpl[i] == close[0]) {
			if (--level == 0) {
				/* Literal text before the variable, then its pattern. */
				WD_GUARD(quote_meta_into(&pattern, tpl + end, start_idx - end, re_specials));
				WD_GUARD(wd_buf_append_byte(&pattern, '('));
				WD_GUARD(wd_buf_append(&pattern, tpl + start_idx + 1, i - start_idx - 1));
				WD_GUARD(wd_buf_append_byte(&pattern, ')'));
				if (!bi_regex_valid(tpl + start_idx + 1, i - start_idx - 1)) {
					wd_buf_free(&pattern);
					return bi_regex_compile(ctx, tpl + start_idx + 1, i - start_idx - 1,
								&re);
				}
				end = i + 1;
			} else if (level < 0) {
				break;
			}
		}
	}
	if (level != 0) {
		wd_buf_free(&pattern);
		return rego_bi_error(ctx, "unbalanced braces in \"%.*s\"", (int)tlen, tpl);
	}
	WD_GUARD(quote_meta_into(&pattern, tpl + end, tlen - end, re_specials));
	WD_GUARD(wd_buf_append_byte(&pattern, '$'));

	rc = bi_regex_compile(ctx, wd_buf_str(&pattern), wd_buf_len(&pattern), &re);
	wd_buf_free(&pattern);
	if (rc < 0)
		return rc;
	m = bi_regex_exec(ctx, re, s, len, 0, ov, 1);
	if (m < 0)
		return m;
	*ret = rv_bool(m == 1);
	return 0;
out:
	wd_buf_free(&pattern);
	return bi_fail(ctx, rc);
}

/* ---- glob ---- */

static int bi_glob_match(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			 struct rv **ret)
{
	const struct rv *dv = args[1];
	const struct bi_regex *re;
	uint32_t *delims = NULL;
	size_t ndelims = 0, plen, len;
	const char *pat, *s;
	struct wd_buf rx;
	PCRE2_SIZE ov[2];
	int rc, m;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &pat, &plen));
	if (rv_is(dv, RV_ARRAY)) {
		size_t n = rv_array_len(dv);

		delims = calloc(n ? n : 1, sizeof(*delims));
		if (!delims)
			return bi_fail(ctx, WD_ENOMEM);
		for (size_t i = 0; i < n; i++) {
			const struct rv *d = rv_array_at(dv, i);
			size_t pos = 0;

			if (!rv_is(d, RV_STRING)) {
				free(delims);
				return rego_bi_error_code(ctx, "eval_type_error",
					"operand 2 must be array of strings but got array containing %s",
					rv_type_name(d));
			}
			if (rv_str_len(d) > 0)
				delims[ndelims] = bi_utf8_next(rv_str(d), rv_str_len(d), &pos);
			if (rv_str_len(d) == 0 || pos != rv_str_len(d)) {
				free(delims);
				return rego_bi_error_code(ctx, "eval_type_error",
					"operand 2 must be array of runes but got array containing string");
			}
			ndelims++;
		}
		/* An empty list means the default delimiter ".". */
		if (ndelims == 0)
			delims[ndelims++] = '.';
	} else if (!rv_is(dv, RV_NULL)) {
		return rego_bi_type_error(ctx, 2, "one of {array, null}", dv);
	}
	rc = rego_bi_string(ctx, args, 3, &s, &len);
	if (rc < 0) {
		free(delims);
		return rc;
	}

	wd_buf_init(&rx, plen * 8 + 16, BI_STR_MAX);
	rc = bi_glob_to_regex(ctx, pat, plen, delims, ndelims, &rx);
	free(delims);
	if (rc == 0)
		rc = bi_regex_compile(ctx, wd_buf_str(&rx), wd_buf_len(&rx), &re);
	wd_buf_free(&rx);
	if (rc < 0)
		return rc;

	m = bi_regex_exec(ctx, re, s, len, 0, ov, 1);
	if (m < 0)
		return m;
	*ret = rv_bool(m == 1);
	return 0;
}

/* gobwas/glob's QuoteMeta: escapes * ? \ [ ] { }. */
static int bi_glob_quote_meta(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			      struct rv **ret)
{
	const char *s;
	size_t len;
	struct wd_buf out;
	int rc;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &s, &len));
	wd_buf_init(&out, len + 8, BI_STR_MAX);
	rc = quote_meta_into(&out, s, len, "*?\\[]{}");
	if (rc < 0) {
		wd_buf_free(&out);
		return bi_fail(ctx, rc);
	}
	return bi_buf_to_string(ctx, &out, ret);
}

#define S RK_STRING

const struct rego_builtin rego_builtins_regex[] = {
	{ .name = "regex.match", .arity = 2, .arg_types = { S, S }, .result_type = RK_BOOL,
	  .fn = bi_regex_match },
	{ .name = "re_match", .arity = 2, .flags = REGO_BI_DEPRECATED, .arg_types = { S, S },
	  .result_type = RK_BOOL, .fn = bi_regex_match },
	{ .name = "regex.is_valid", .arity = 1, .arg_types = { RK_ANY }, .result_type = RK_BOOL,
	  .fn = bi_regex_is_valid },
	{ .name = "regex.split", .arity = 2, .arg_types = { S, S }, .result_type = RK_ARRAY,
	  .fn = bi_regex_split },
	{ .name = "regex.find_n", .arity = 3, .arg_types = { S, S, RK_NUMBER },
	  .result_type = RK_ARRAY, .fn = bi_regex_find_n },
	{ .name = "regex.find_all_string_submatch_n", .arity = 3,
	  .arg_types = { S, S, RK_NUMBER }, .result_type = RK_ARRAY,
	  .fn = bi_regex_find_all_submatch },
	{ .name = "regex.replace", .arity = 3, .arg_types = { S, S, S }, .result_type = S,
	  .fn = bi_regex_replace },
	{ .name = "regex.template_match", .arity = 4, .arg_types = { S, S, S, S },
	  .result_type = RK_BOOL, .fn = bi_regex_template_match },
	{ .name = "regex.globs_match", .arity = 2, .arg_types = { S, S }, .result_type = RK_BOOL,
	  .fn = bi_regex_globs_match },
	{ .name = "glob.match", .arity = 3, .arg_types = { S, RK_ARRAY | RK_NULL, S },
	  .result_type = RK_BOOL, .fn = bi_glob_match },
	{ .name = "glob.quote_meta", .arity = 1, .arg_types = { S }, .result_type = S,
	  .fn = bi_glob_quote_meta },
	{ .name = NULL },
};
