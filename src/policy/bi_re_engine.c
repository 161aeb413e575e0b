/* Regular expressions for the regex builtins: PCRE2 configured to accept
 * only the syntax of Go's regexp (RE2) and to match like it, with a bounded
 * per-thread cache of compiled patterns and match limits against hostile
 * patterns. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "policy/bi_re_engine.h"
#include "policy/bi_str_util.h"

/* Compiled patterns kept per thread. */
#define RE_CACHE_SIZE 64

/* Backtracking budget per match; a pattern that needs more fails. */
#define RE_MATCH_LIMIT 1000000u
#define RE_DEPTH_LIMIT 10000u

/* Go rejects repeat counts above this. */
#define RE_MAX_REPEAT 1000

struct re_cache_entry {
	char *pattern;
	size_t len;
	struct bi_regex re;
};

struct re_cache {
	struct re_cache_entry entries[RE_CACHE_SIZE];
	size_t next;
	pcre2_match_context *mctx;
};

static pthread_key_t cache_key;
static pthread_once_t cache_key_once = PTHREAD_ONCE_INIT;

static void cache_free(void *p)
{
	struct re_cache *cache = p;

	if (!cache)
		return;
	for (size_t i = 0; i < RE_CACHE_SIZE; i++) {
		free(cache->entries[i].pattern);
		pcre2_code_free(cache->entries[i].re.code);
	}
	pcre2_match_context_free(cache->mctx);
	free(cache);
}

static void cache_key_create(void)
{
	pthread_key_create(&cache_key, cache_free);
}

static struct re_cache *cache_get(void)
{
	struct re_cache *cache;

	pthread_once(&cache_key_once, cache_key_create);
	cache = pthread_getspecific(cache_key);
	if (cache)
		return cache;

	cache = calloc(1, sizeof(*cache));
	if (!cache)
		return NULL;
	cache->mctx = pcre2_match_context_create(NULL);
	if (!cache->mctx) {
		free(cache);
		return NULL;
	}
	pcre2_set_match_limit(cache->mctx, RE_MATCH_LIMIT);
	pcre2_set_depth_limit(cache->mctx, RE_DEPTH_LIMIT);
	pthread_setspecific(cache_key, cache);
	return cache;
}

/* ---- RE2 syntax check and translation ---- */

static int append_rune_escape(struct wd_buf *out, uint32_t r)
{
	return wd_buf_appendf(out, "\\x{%x}", r);
}

static bool is_octal(char c)
{
	return c >= '0' && c <= '7';
}

/* Parses a {n}, {n,} or {n,m} repeat at s[i]; returns its length or 0 when
 * it is not one (Go then takes '{' literally). */
static size_t repeat_len(const char *s, size_t len, size_t i, bool *too_big)
{
	size_t k = i + 1, digits = 0;
	long n = 0, m = -1;

	while (k < len && s[k] >= '0' && s[k] <= '9') {
		if (n <= RE_MAX_REPEAT)
			n = n * 10 + (s[k] - '0');
		k++;
		digits++;
	}
	if (digits == 0)
		return 0;
	if (k < len && s[k] == ',') {
		k++;
		if (k < len && s[k] >= '0' && s[k] <= '9') {
			m = 0;
			while (k < len && s[k] >= '0' && s[k] <= '9') {
				if (m <= RE_MAX_REPEAT)
					m = m * 10 + (s[k] - '0');
				k++;
			}
		}
	}
	if (k >= len || s[k] != '}')
		return 0;
	*too_big = n > RE_MAX_REPEAT || m > RE_MAX_REPEAT;
	return k - i + 1;
}

/* Rewrites a Go pattern into PCRE2 syntax with the same meaning, rejecting
 * what Go's parser rejects: lookaround, backreferences, atomic groups,
 * possessive and nested repetition, unknown escapes and flags. */
static int translate(const char *s, size_t len, struct wd_buf *out, const char **ret_err)
{
	bool in_class = false, after_repeat = false, can_repeat = false;
	int rc = 0;

	*ret_err = NULL;
	for (size_t i = 0; i < len && rc == 0;) {
		char c = s[i];

		if (c == '\\') {
			char e = i + 1 < len ? s[i + 1] : '\0';

			if (i + 1 >= len) {
				*ret_err = "trailing backslash at end of expression";
				return WD_EINVAL;
			}
			after_repeat = false;
			can_repeat = true;
			if (e == 'Q') {
				/* \Q...\E quotes literally. */
				const char *end = NULL;
				size_t from = i + 2, stop;

				for (size_t k = from; k + 1 < len; k++)
					if (s[k] == '\\' && s[k + 1] == 'E') {
						end = s + k;
						break;
					}
				stop = end ? (size_t)(end - s) : len;
				for (size_t pos = from; pos < stop && rc == 0;)
					rc = append_rune_escape(out, bi_utf8_next(s, stop, &pos));
				i = end ? stop + 2 : len;
				continue;
			}
			if (e == 'v') {
				rc = wd_buf_append_str(out, "\\x{b}");
				i += 2;
				continue;
			}
			if (e == 's' && !in_class) {
				rc = wd_buf_append_str(out, "[\\t\\n\\f\\r ]");
				i += 2;
				continue;
			}
			if (e == 'S' && !in_class) {
				rc = wd_buf_append_str(out, "[^\\t\\n\\f\\r ]");
				i += 2;
				continue;
			}
			if (e >= '1' && e <= '7' && !(i + 2 < len && is_octal(s[i + 2]))) {
				*ret_err = "invalid escape sequence";
				return WD_EINVAL;
			}
			if (is_octal(e)) {
				/* Up to three octal digits: written as a code point so
				 * PCRE2 cannot read a backreference. */
				unsigned v = 0;
				size_t k = i + 1;

				for (int d = 0; d < 3 && k < len && is_octal(s[k]); d++, k++)
					v = v * 8 + (unsigned)(s[k] - '0');
				rc = append_rune_escape(out, v);
				i = k;
				continue;
			}
			if ((e == 'x' || e == 'p' || e == 'P') && i + 2 < len && s[i + 2] == '{') {
				/* \x{hex}, \p{Name}: copy the braces with the escape. */
				const char *close = memchr(s + i + 2, '}', len - i - 2);

				if (!close) {
					*ret_err = "invalid escape sequence";
					return WD_EINVAL;
				}
				rc = wd_buf_append(out, s + i, (size_t)(close - s) + 1 - i);
				i = (size_t)(close - s) + 1;
				continue;
			}
			if ((e != '\0' && strchr("afnrtxpPdDwWbBAz", e) != NULL) || (e == 's' || e == 'S')) {
				if ((e == 'b' || e == 'B' || e == 'A' || e == 'z') && in_class) {
					*ret_err = "invalid escape sequence";
					return WD_EINVAL;
				}
				if (e == 'b' || e == 'B' || e == 'A' || e == 'z')
					can_repeat = true;
				rc = wd_buf_append(out, s + i, 2);
				i += 2;
				continue;
			}
			if ((uint8_t)e < 0x80 && !((e >= '0' && e <= '9') || (e >= 'a' && e <= 'z') ||
						   (e >= 'A' && e <= 'Z'))) {
				rc = wd_buf_append(out, s + i, 2);
				i += 2;
				continue;
			}
			*ret_err = "invalid escape sequence";
			return WD_EINVAL;
		}

		if (in_class) {
			if (c == ']')
				in_class = false;
			if (c == '[' && i + 1 < len && s[i + 1] == ':') {
				const char *close = strstr(s + i + 2, ":]");

				if (close && (size_t)(close - s) < len) {
					rc = wd_buf_append(out, s + i, (size_t)(close - s) + 2 - i);
					i = (size_t)(close - s) + 2;
					continue;
				}
			}
			rc = wd_buf_append_byte(out, (uint8_t)c);
			i++;
			continue;
		}

		switch (c) {
		case '[':
			in_class = true;
			after_repeat = false;
			can_repeat = true;
			rc = wd_buf_append_byte(out, '[');
			i++;
			/* A ']' first in the class (after '^') is literal. */
			if (i < len && s[i] == '^') {
				rc = rc ? rc : wd_buf_append_byte(out, '^');
				i++;
			}
			if (i < len && s[i] == ']') {
				rc = rc ? rc : wd_buf_append_str(out, "\\]");
				i++;
			}
			continue;
		case '(':
			after_repeat = false;
			can_repeat = false;
			if (i + 1 < len && s[i + 1] == '?') {
				size_t k = i + 2;

				if (k < len && (s[k] == '<' || (s[k] == 'P' && k + 1 < len && s[k + 1] == '<'))) {
					const char *gt;

					if (s[k] == '<' && k + 1 < len && (s[k + 1] == '=' || s[k + 1] == '!')) {
						*ret_err = "invalid or unsupported Perl syntax";
						return WD_EINVAL;
					}
					gt = memchr(s + k, '>', len - k);
					if (!gt) {
						*ret_err = "invalid named capture";
						return WD_EINVAL;
					}
					rc = wd_buf_append(out, s + i, (size_t)(gt - s) + 1 - i);
					i = (size_t)(gt - s) + 1;
					continue;
				}
				/* Flags: [imsU-]* then ':' or ')'. */
				while (k < len && s[k] != '\0' && strchr("imsU-", s[k]) != NULL)
					k++;
				if (k >= len || (s[k] != ':' && s[k] != ')') || (s[k] == ')' && k == i + 2)) {
					*ret_err = "invalid or unsupported Perl syntax";
					return WD_EINVAL;
				}
				rc = wd_buf_append(out, s + i, k + 1 - i);
				i = k + 1;
				continue;
			}
			rc = wd_buf_append_byte(out, '(');
			i++;
			continue;
		case ')':
			after_repeat = false;
			can_repeat = true;
			rc = wd_buf_append_byte(out, ')');
			i++;
			continue;
		case '*':
		case '+':
		case '?':
			if (after_repeat) {
				*ret_err = "invalid nested repetition operator";
				return WD_EINVAL;
			}
			if (!can_repeat) {
				*ret_err = "missing argument to repetition operator";
				return WD_EINVAL;
			}
			rc = wd_buf_append_byte(out, (uint8_t)c);
			i++;
			if (i < len && s[i] == '?') {
				rc = rc ? rc : wd_buf_append_byte(out, '?');
				i++;
			}
			after_repeat = true;
			continue;
		case '{': {
			bool too_big = false;
			size_t n = repeat_len(s, len, i, &too_big);

			if (n > 0) {
				if (too_big) {
					*ret_err = "invalid repeat count";
					return WD_EINVAL;
				}
				if (after_repeat) {
					*ret_err = "invalid nested repetition operator";
					return WD_EINVAL;
				}
				if (!can_repeat) {
					*ret_err = "missing argument to repetition operator";
					return WD_EINVAL;
				}
				rc = wd_buf_append(out, s + i, n);
				i += n;
				if (i < len && s[i] == '?') {
					rc = rc ? rc : wd_buf_append_byte(out, '?');
					i++;
				}
				after_repeat = true;
				continue;
			}
			rc = wd_buf_append_str(out, "\\{");
			i++;
			after_repeat = false;
			can_repeat = true;
			continue;
		}
		case '|':
			after_repeat = false;
			can_repeat = false;
			rc = wd_buf_append_byte(out, '|');
			i++;
			continue;
		case '^':
		case '$':
			after_repeat = false;
			can_repeat = true;
			rc = wd_buf_append_byte(out, (uint8_t)c);
			i++;
			continue;
		case '#':
		case ' ':
			rc = wd_buf_append_byte(out, (uint8_t)c);
			i++;
			after_repeat = false;
			can_repeat = true;
			continue;
		default: {
			size_t start = i;

			bi_utf8_next(s, len, &i);
			rc = wd_buf_append(out, s + start, i - start);
			after_repeat = false;
			can_repeat = true;
			continue;
		}
		}
	}
	if (rc == 0 && in_class) {
		*ret_err = "missing closing ]";
		return WD_EINVAL;
	}
	return rc;
}

/* Maps PCRE2's complaint to the words of Go's parser where they differ. */
static const char *pcre_error_text(int code, char *buf, size_t cap)
{
	switch (code) {
	case PCRE2_ERROR_MISSING_SQUARE_BRACKET:
		return "missing closing ]";
	case PCRE2_ERROR_MISSING_CLOSING_PARENTHESIS:
		return "missing closing )";
	case PCRE2_ERROR_UNMATCHED_CLOSING_PARENTHESIS:
		return "unexpected )";
	case PCRE2_ERROR_QUANTIFIER_INVALID:
	case PCRE2_ERROR_QUANTIFIER_OUT_OF_ORDER:
		return "invalid repeat count";
	case PCRE2_ERROR_CLASS_RANGE_ORDER:
		return "invalid character class range";
	default:
		pcre2_get_error_message(code, (PCRE2_UCHAR *)buf, cap);
		return buf;
	}
}

int bi_regex_compile(struct rego_bctx *ctx, const char *pattern, size_t len,
		     const struct bi_regex **ret)
{
	struct re_cache *cache = cache_get();
	struct re_cache_entry *slot;
	struct wd_buf pcre;
	const char *err = NULL;
	char errbuf[128];
	pcre2_code *code;
	PCRE2_SIZE erroff;
	int errcode, rc;

	if (!cache)
		return bi_fail(ctx, WD_ENOMEM);

	for (size_t i = 0; i < RE_CACHE_SIZE; i++) {
		struct re_cache_entry *e = &cache->entries[i];

		if (e->pattern && e->len == len && memcmp(e->pattern, pattern, len) == 0) {
			*ret = &e->re;
			return 0;
		}
	}

	wd_buf_init(&pcre, len + 16, BI_STR_MAX);
	rc = translate(pattern, len, &pcre, &err);
	if (rc < 0) {
		wd_buf_free(&pcre);
		if (err)
			return rego_bi_error(ctx, "error parsing regexp: %s: `%.*s`", err, (int)len,
					     pattern);
		return bi_fail(ctx, rc);
	}

	code = pcre2_compile((PCRE2_SPTR)wd_buf_str(&pcre), wd_buf_len(&pcre),
			     PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY |
				     PCRE2_NEVER_BACKSLASH_C,
			     &errcode, &erroff, NULL);
	wd_buf_free(&pcre);
	if (!code)
		return rego_bi_error(ctx, "error parsing regexp: %s: `%.*s`",
				     pcre_error_text(errcode, errbuf, sizeof(errbuf)), (int)len,
				     pattern);

	slot = &cache->entries[cache->next];
	cache->next = (cache->next + 1) % RE_CACHE_SIZE;
	free(slot->pattern);
	pcre2_code_free(slot->re.code);
	*slot = (struct re_cache_entry){ 0 };

	slot->pattern = malloc(len + 1);
	if (!slot->pattern) {
		pcre2_code_free(code);
		return bi_fail(ctx, WD_ENOMEM);
	}
	memcpy(slot->pattern, pattern, len);
	slot->pattern[len] = '\0';
	slot->len = len;
	slot->re.code = code;
	slot->re.mctx = cache->mctx;
	pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &slot->re.ncap);
	*ret = &slot->re;
	return 0;
}

bool bi_regex_valid(const char *pattern, size_t len)
{
	struct wd_buf pcre;
	const char *err = NULL;
	pcre2_code *code = NULL;
	PCRE2_SIZE erroff;
	int errcode;

	wd_buf_init(&pcre, len + 16, BI_STR_MAX);
	if (translate(pattern, len, &pcre, &err) == 0)
		code = pcre2_compile((PCRE2_SPTR)wd_buf_str(&pcre), wd_buf_len(&pcre),
				     PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY |
					     PCRE2_NEVER_BACKSLASH_C,
				     &errcode, &erroff, NULL);
	wd_buf_free(&pcre);
	pcre2_code_free(code);
	return code != NULL;
}

int bi_regex_exec(struct rego_bctx *ctx, const struct bi_regex *re, const char *subject,
		  size_t len, size_t start, PCRE2_SIZE *ovector, size_t ovector_pairs)
{
	pcre2_match_data *md = pcre2_match_data_create((uint32_t)ovector_pairs, NULL);
	PCRE2_SIZE *ov;
	int n;

	if (!md)
		return bi_fail(ctx, WD_ENOMEM);
	n = pcre2_match(re->code, (PCRE2_SPTR)subject, len, start, 0, md, re->mctx);
	if (n == PCRE2_ERROR_NOMATCH) {
		pcre2_match_data_free(md);
		return 0;
	}
	if (n < 0) {
		pcre2_match_data_free(md);
		if (n == PCRE2_ERROR_MATCHLIMIT || n == PCRE2_ERROR_DEPTHLIMIT ||
		    n == PCRE2_ERROR_HEAPLIMIT)
			return rego_bi_limit_error(ctx, "regular expression exceeded its match limit");
		return rego_bi_error(ctx, "regular expression match failed (PCRE2 error %d)", n);
	}

	ov = pcre2_get_ovector_pointer(md);
	for (size_t i = 0; i < ovector_pairs; i++) {
		if ((int)i < n) {
			ovector[2 * i] = ov[2 * i];
			ovector[2 * i + 1] = ov[2 * i + 1];
		} else {
			ovector[2 * i] = ovector[2 * i + 1] = PCRE2_UNSET;
		}
	}
	pcre2_match_data_free(md);
	return 1;
}
