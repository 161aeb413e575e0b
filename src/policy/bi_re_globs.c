/* regex.globs_match: whether two glob-like patterns can match a common string,
 * decided as OPA 1.20 does through yashtewari/glob-intersection v0.2.0. */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "policy/bi_re_engine.h"
#include "policy/bi_str_util.h"

/* The pattern language: a character, '.' (any character) or a set "[a-z\]]",
 * each optionally followed by '+' or '*'; '\' escapes the next character.
 * Nothing else is special, so '?' and '|' are plain characters. */
enum glob_type { GLOB_CHAR, GLOB_DOT, GLOB_SET };
enum glob_flag { FLAG_NONE, FLAG_PLUS, FLAG_STAR };

struct rune_range {
	uint32_t lo, hi;
};

struct glob_token {
	enum glob_type type;
	enum glob_flag flag;
	uint32_t rune;              /* GLOB_CHAR */
	struct rune_range *ranges;  /* GLOB_SET: sorted, merged */
	size_t nranges;
};

struct glob {
	struct glob_token *tokens;
	size_t len;
};

/* The intersection search backtracks; this bounds its steps so a hostile pair
 * of patterns cannot stall the query. */
#define GLOBS_MAX_STEPS 1000000u

struct intersect {
	unsigned long steps;
	bool exhausted;
};

static void glob_free(struct glob *g)
{
	for (size_t i = 0; i < g->len; i++)
		free(g->tokens[i].ranges);
	free(g->tokens);
	g->tokens = NULL;
	g->len = 0;
}

/* The pattern as runes, each invalid UTF-8 byte read as U+FFFD as Go's
 * []rune conversion does. */
struct runes {
	uint32_t *r;
	size_t len;
};

static int decode_runes(const char *s, size_t len, struct runes *out)
{
	size_t pos = 0;

	out->len = 0;
	out->r = malloc((len ? len : 1) * sizeof(*out->r));
	if (!out->r)
		return WD_ENOMEM;
	while (pos < len)
		out->r[out->len++] = bi_utf8_next(s, len, &pos);
	return 0;
}

/* Records the library's error: "input:PATTERN, pos:N, REASON: the input
 * provided is invalid", with PATTERN re-encoded from its runes. */
static int glob_error(struct rego_bctx *ctx, const struct runes *in, size_t pos,
		      const char *reason)
{
	struct wd_buf text;
	int rc = 0;

	wd_buf_init(&text, 64, BI_STR_MAX);
	for (size_t i = 0; i < in->len && rc == 0; i++)
		rc = bi_buf_rune(&text, in->r[i]);
	if (rc == 0)
		rc = rego_bi_error(ctx, "input:%s, pos:%zu, %s: the input provided is invalid",
				   wd_buf_str(&text), pos, reason);
	else
		rc = bi_fail(ctx, rc);
	wd_buf_free(&text);
	return rc;
}

/* Reads one rune with its escape; the library's nextRune. Returns 1 at the
 * end of input, 0 on success and -1 for a trailing backslash. */
static int next_rune(const struct runes *in, size_t index, size_t *ret_next, uint32_t *ret_r,
		     bool *ret_escaped)
{
	*ret_next = index;
	if (index >= in->len)
		return 1;
	if (in->r[index] == '\\') {
		if (index + 1 >= in->len)
			return -1;
		*ret_next = index + 2;
		*ret_r = in->r[index + 1];
		*ret_escaped = true;
		return 0;
	}
	*ret_next = index + 1;
	*ret_r = in->r[index];
	*ret_escaped = false;
	return 0;
}

static int compare_ranges(const void *a, const void *b)
{
	const struct rune_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Sorts and merges the ranges so that equal sets have equal arrays. */
static void normalize_ranges(struct glob_token *t)
{
	size_t out = 0;

	if (t->nranges == 0)
		return;
	qsort(t->ranges, t->nranges, sizeof(*t->ranges), compare_ranges);
	for (size_t i = 1; i < t->nranges; i++) {
		if (t->ranges[i].lo <= t->ranges[out].hi + 1) {
			if (t->ranges[i].hi > t->ranges[out].hi)
				t->ranges[out].hi = t->ranges[i].hi;
		} else {
			t->ranges[++out] = t->ranges[i];
		}
	}
	t->nranges = out + 1;
}

static int add_range(struct glob_token *t, size_t *cap, uint32_t lo, uint32_t hi)
{
	if (t->nranges == *cap) {
		size_t new_cap = *cap ? *cap * 2 : 8;
		struct rune_range *grown = realloc(t->ranges, new_cap * sizeof(*grown));

		if (!grown)
			return WD_ENOMEM;
		t->ranges = grown;
		*cap = new_cap;
	}
	t->ranges[t->nranges++] = (struct rune_range){ lo, hi };
	return 0;
}

/* Reads a set after its '['; the library's nextTokenSet, with its messages. */
static int read_set(struct rego_bctx *ctx, const struct runes *in, size_t index,
		    struct glob_token *t, size_t *ret_next)
{
	size_t next = index, cap = 0;
	uint32_t r = 0, prev = 0;
	bool escaped = false, prev_exists = false;
	int got;

	t->type = GLOB_SET;
	for (;;) {
		got = next_rune(in, next, &next, &r, &escaped);
		if (got == 1)
			return glob_error(ctx, in, next, "found [ without matching ]");
		if (got < 0)
			return glob_error(ctx, in, next, "input ends with a \\ (escape) character");

		if (escaped || (r != '-' && r != ']')) {
			WD_TRY(add_range(t, &cap, r, r) < 0 ? bi_fail(ctx, WD_ENOMEM) : 0);
			prev = r;
			prev_exists = true;
			continue;
		}
		if (r == ']')
			break;

		/* A range: the library checks the position before reading its end. */
		if (!prev_exists)
			return glob_error(ctx, in, next, "range character '-' must be preceded by a "
					  "Unicode character");
		if (next + 1 >= in->len)
			return glob_error(ctx, in, next, "range character '-' must be followed by a "
					  "Unicode character");
		got = next_rune(in, next, &next, &r, &escaped);
		if (got < 0)
			return glob_error(ctx, in, next, "input ends with a \\ (escape) character");
		if (!escaped && (r == ']' || r == '-'))
			return glob_error(ctx, in, next, "range character '-' cannot be followed by a "
					  "special symbol");
		if (r < prev) {
			char reason[96], hi[5] = "", lo[5] = "";

			hi[bi_utf8_put(r, hi)] = '\0';
			lo[bi_utf8_put(prev, lo)] = '\0';
			snprintf(reason, sizeof(reason),
				 "range is out of order: '%s' comes before '%s' in Unicode", hi, lo);
			return glob_error(ctx, in, next, reason);
		}
		WD_TRY(add_range(t, &cap, prev, r) < 0 ? bi_fail(ctx, WD_ENOMEM) : 0);
		prev_exists = false;
	}
	normalize_ranges(t);
	*ret_next = next;
	return 0;
}

/* Splits a pattern into tokens; the library's Tokenize. */
static int tokenize(struct rego_bctx *ctx, const struct runes *in, struct glob *g)
{
	size_t index = 0;

	g->tokens = calloc(in->len ? in->len : 1, sizeof(*g->tokens));
	if (!g->tokens)
		return bi_fail(ctx, WD_ENOMEM);
	for (;;) {
		struct glob_token *t = &g->tokens[g->len];
		size_t next, after_flag;
		uint32_t r = 0, f = 0;
		bool escaped = false;
		int got = next_rune(in, index, &next, &r, &escaped);

		if (got == 1)
			return 0;
		if (got < 0)
			return glob_error(ctx, in, index, "input ends with a \\ (escape) character");

		memset(t, 0, sizeof(*t));
		g->len++;
		if (escaped) {
			t->type = GLOB_CHAR;
			t->rune = r;
		} else if (r == '.') {
			t->type = GLOB_DOT;
		} else if (r == ']') {
			return glob_error(ctx, in, next, "set-close ']' with no preceding '['");
		} else if (r == '[') {
			WD_TRY(read_set(ctx, in, next, t, &next));
		} else if (r == '+' || r == '*') {
			char reason[64];

			snprintf(reason, sizeof(reason), "flag '%c' must be preceded by a non-flag",
				 (char)r);
			return glob_error(ctx, in, next, reason);
		} else {
			t->type = GLOB_CHAR;
			t->rune = r;
		}

		/* An unescaped '+' or '*' right after the token is its flag. */
		got = next_rune(in, next, &after_flag, &f, &escaped);
		if (got < 0)
			return glob_error(ctx, in, next, "input ends with a \\ (escape) character");
		if (got == 0 && !escaped && (f == '+' || f == '*')) {
			t->flag = f == '+' ? FLAG_PLUS : FLAG_STAR;
			next = after_flag;
		}
		index = next;
	}
}

static bool tokens_equal(const struct glob_token *a, const struct glob_token *b)
{
	if (a->type != b->type)
		return false;
	if (a->type == GLOB_CHAR)
		return a->rune == b->rune;
	if (a->type == GLOB_DOT)
		return true;
	return a->nranges == b->nranges &&
	       (a->nranges == 0 ||
		memcmp(a->ranges, b->ranges, a->nranges * sizeof(*a->ranges)) == 0);
}

/* The library's Simplify: a flagged token equal to the flagged one before it
 * merges into it, '+' winning over '*' (t+t* and t*t+ are both t+). */
static void simplify(struct glob *g)
{
	size_t out = 0;

	for (size_t i = 1; i < g->len; i++) {
		struct glob_token *last = &g->tokens[out];
		struct glob_token *t = &g->tokens[i];

		if (t->flag != FLAG_NONE && last->flag != FLAG_NONE && tokens_equal(t, last)) {
			if (t->flag == FLAG_PLUS)
				last->flag = FLAG_PLUS;
			free(t->ranges);
			t->ranges = NULL;
			continue;
		}
		g->tokens[++out] = *t;
		if (out != i)
			t->ranges = NULL;
	}
	if (g->len)
		g->len = out + 1;
}

static bool set_has(const struct glob_token *set, uint32_t r)
{
	for (size_t i = 0; i < set->nranges; i++)
		if (r >= set->ranges[i].lo && r <= set->ranges[i].hi)
			return true;
	return false;
}

static bool sets_overlap(const struct glob_token *a, const struct glob_token *b)
{
	for (size_t i = 0; i < a->nranges; i++)
		for (size_t j = 0; j < b->nranges; j++)
			if (a->ranges[i].lo <= b->ranges[j].hi && b->ranges[j].lo <= a->ranges[i].hi)
				return true;
	return false;
}

/* The library's Match, which ignores flags. A dot matches even an empty
 * set, as the library's matchDotSet does. */
static bool tokens_match(const struct glob_token *a, const struct glob_token *b)
{
	if (a->type > b->type) {
		const struct glob_token *tmp = a;

		a = b;
		b = tmp;
	}
	if (b->type == GLOB_DOT || a->type == GLOB_DOT)
		return true;
	if (a->type == GLOB_CHAR && b->type == GLOB_CHAR)
		return a->rune == b->rune;
	if (a->type == GLOB_CHAR)
		return set_has(b, a->rune);
	return sets_overlap(a, b);
}

static bool intersect_normal(struct intersect *st, const struct glob_token *g1, size_t n1,
			     const struct glob_token *g2, size_t n2);

static bool intersect_star(struct intersect *st, const struct glob_token *starred, size_t ns,
			   const struct glob_token *other, size_t no)
{
	const struct glob_token *star = &starred[0];
	const struct glob_token *next = ns > 1 ? &starred[1] : NULL;

	/* Gobble tokens of other while the star matches them; wherever one
	 * matches the token after the star, try to match the rest. */
	for (size_t i = 0; i < no; i++) {
		if (st->exhausted)
			return false;
		if (next && tokens_match(&other[i], next) &&
		    intersect_normal(st, starred + 1, ns - 1, other + i, no - i))
			return true;
		if (!tokens_match(&other[i], star))
			return false;
	}
	return next == NULL;
}

static bool intersect_plus(struct intersect *st, const struct glob_token *plussed, size_t np,
			   const struct glob_token *other, size_t no)
{
	if (!tokens_match(&plussed[0], &other[0]))
		return false;
	if (intersect_star(st, plussed, np, other + 1, no - 1))
		return true;

	/* A flagged other[0] may also take the plussed token's place entirely. */
	return other[0].flag != FLAG_NONE && intersect_normal(st, plussed + 1, np - 1, other, no);
}

static bool intersect_special(struct intersect *st, const struct glob_token *g1, size_t n1,
			      const struct glob_token *g2, size_t n2)
{
	if (g1[0].flag == FLAG_PLUS)
		return intersect_plus(st, g1, n1, g2, n2);
	if (g1[0].flag == FLAG_STAR)
		return intersect_star(st, g1, n1, g2, n2);
	if (g2[0].flag == FLAG_PLUS)
		return intersect_plus(st, g2, n2, g1, n1);
	return intersect_star(st, g2, n2, g1, n1);
}

static bool intersect_normal(struct intersect *st, const struct glob_token *g1, size_t n1,
			     const struct glob_token *g2, size_t n2)
{
	size_t i = 0;

	if (++st->steps > GLOBS_MAX_STEPS) {
		st->exhausted = true;
		return false;
	}
	for (; i < n1 && i < n2; i++) {
		if (g1[i].flag != FLAG_NONE || g2[i].flag != FLAG_NONE)
			return intersect_special(st, g1 + i, n1 - i, g2 + i, n2 - i);
		if (!tokens_match(&g1[i], &g2[i]))
			return false;
	}
	return i == n1 && i == n2;
}

/* The library's NonEmpty: trims the unflagged prefix and suffix both globs
 * share (keeping one token of each so neither glob becomes empty), then
 * walks the rest. */
static bool globs_intersect(struct intersect *st, const struct glob *a, const struct glob *b)
{
	size_t l = 0;
	long r1, r2;

	for (; l < a->len && l < b->len && a->tokens[l].flag == FLAG_NONE &&
	       b->tokens[l].flag == FLAG_NONE; l++)
		if (!tokens_match(&a->tokens[l], &b->tokens[l]))
			return false;
	if (l > 0)
		l--;

	r1 = (long)a->len - 1;
	r2 = (long)b->len - 1;
	for (; r1 >= 0 && r1 >= (long)l && r2 >= 0 && r2 >= (long)l &&
	       a->tokens[r1].flag == FLAG_NONE && b->tokens[r2].flag == FLAG_NONE; r1--, r2--)
		if (!tokens_match(&a->tokens[r1], &b->tokens[r2]))
			return false;
	if (r1 < (long)a->len - 1) {
		r1++;
		r2++;
	}
	return intersect_normal(st, a->tokens + l, (size_t)(r1 + 1) - l, b->tokens + l,
				(size_t)(r2 + 1) - l);
}

static int parse_glob(struct rego_bctx *ctx, const struct rv *pattern, struct glob *g)
{
	struct runes in;
	int rc;

	if (decode_runes(rv_str(pattern), rv_str_len(pattern), &in) < 0)
		return bi_fail(ctx, WD_ENOMEM);
	rc = tokenize(ctx, &in, g);
	free(in.r);
	if (rc == 0)
		simplify(g);
	return rc;
}

int bi_regex_globs_match(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			 struct rv **ret)
{
	struct glob a = { 0 }, b = { 0 };
	struct intersect st = { 0 };
	bool result;
	int rc;

	(void)nargs;
	WD_TRY(rego_bi_want(ctx, args, 1, RK_STRING));
	WD_TRY(rego_bi_want(ctx, args, 2, RK_STRING));
	rc = parse_glob(ctx, args[0], &a);
	if (rc == 0)
		rc = parse_glob(ctx, args[1], &b);
	if (rc < 0)
		goto out;

	result = globs_intersect(&st, &a, &b);
	if (st.exhausted) {
		rc = rego_bi_error(ctx, "patterns too complex to intersect");
		goto out;
	}
	rc = bi_ret(ctx, rv_bool(result), ret);
out:
	glob_free(&a);
	glob_free(&b);
	return rc;
}
