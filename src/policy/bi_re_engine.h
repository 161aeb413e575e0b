/* Regular expressions for the regex builtins: Go (RE2) syntax checked and
 * translated to PCRE2, compiled once per thread and matched with limits. */
#pragma once

#define PCRE2_CODE_UNIT_WIDTH 8

#include <stdbool.h>
#include <stddef.h>

#include <pcre2.h>

#include "policy/builtin.h"

struct bi_regex {
	pcre2_code *code;
	pcre2_match_context *mctx;
	uint32_t ncap;              /* capturing groups, not counting the match */
};

/* Compiles pattern (cached per thread; the result stays valid until this
 * thread compiles RE_CACHE_SIZE other patterns). On a syntax error records
 * "error parsing regexp: ..." as a builtin error. */
int bi_regex_compile(struct rego_bctx *ctx, const char *pattern, size_t len,
		     const struct bi_regex **ret);

/* True when pattern is valid Go regexp syntax. */
bool bi_regex_valid(const char *pattern, size_t len);

/* Matches from byte offset start with the whole subject as context; fills
 * ovector_pairs start/end pairs (PCRE2_UNSET for groups that did not take
 * part). Returns 1 on a match, 0 on none, or a negative code after
 * recording an error (the match limit). */
int bi_regex_exec(struct rego_bctx *ctx, const struct bi_regex *re, const char *subject,
		  size_t len, size_t start, PCRE2_SIZE *ovector, size_t ovector_pairs);

/* glob.match's compiled form (bi_re_glob.c): a PCRE2 pattern for the glob
 * with the given delimiter runes. Records gobwas/glob's error text. */
int bi_glob_to_regex(struct rego_bctx *ctx, const char *glob, size_t len,
		     const uint32_t *delims, size_t ndelims, struct wd_buf *out);

/* regex.globs_match (bi_re_globs.c). */
int bi_regex_globs_match(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			 struct rv **ret);
