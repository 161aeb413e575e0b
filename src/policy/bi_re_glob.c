/* glob.match patterns (gobwas/glob syntax) rewritten as anchored regular
 * expressions: '*' stops at delimiters, '**' does not, '?' is one
 * non-delimiter rune, [abc] [a-z] [!...] are rune classes and {a,b} are
 * alternatives. */
#include <string.h>

#include "common/error.h"
#include "policy/bi_re_engine.h"
#include "policy/bi_str_util.h"

struct glob_parser {
	const char *s;
	size_t len, pos;
	const uint32_t *delims;
	size_t ndelims;
	int depth;
	struct wd_buf *out;
	const char *err;
};

/* Alternatives nest at most this deep. */
#define GLOB_MAX_DEPTH 64

static int put_rune(struct wd_buf *out, uint32_t r)
{
	return wd_buf_appendf(out, "\\x{%x}", r);
}

static int put_not_delims(struct glob_parser *p)
{
	if (p->ndelims == 0)
		return wd_buf_append_str(p->out, "(?s:.)");
	WD_TRY(wd_buf_append_str(p->out, "[^"));
	for (size_t i = 0; i < p->ndelims; i++)
		WD_TRY(put_rune(p->out, p->delims[i]));
	return wd_buf_append_byte(p->out, ']');
}

static bool at_end(const struct glob_parser *p)
{
	return p->pos >= p->len;
}

static uint32_t next_rune(struct glob_parser *p)
{
	return bi_utf8_next(p->s, p->len, &p->pos);
}

/* A [...] class; p->pos is just past '['. */
static int parse_range(struct glob_parser *p)
{
	bool negated = false;

	if (!at_end(p) && p->s[p->pos] == '!') {
		negated = true;
		p->pos++;
	}
	WD_TRY(wd_buf_append_str(p->out, negated ? "[^" : "["));

	/* lo-hi, or a list of runes up to ']' (with escapes). */
	if (at_end(p)) {
		p->err = "unexpected end of input";
		return WD_EINVAL;
	}
	{
		size_t save = p->pos;
		uint32_t lo = next_rune(p);

		if (!at_end(p) && p->s[p->pos] == '-' && lo != '\\') {
			uint32_t hi;

			p->pos++;
			if (at_end(p)) {
				p->err = "unexpected end of input";
				return WD_EINVAL;
			}
			hi = next_rune(p);
			if (at_end(p) || p->s[p->pos] != ']') {
				p->err = at_end(p) ? "unexpected end of input"
						   : "expected close range character";
				return WD_EINVAL;
			}
			p->pos++;
			WD_TRY(put_rune(p->out, lo));
			WD_TRY(wd_buf_append_byte(p->out, '-'));
			WD_TRY(put_rune(p->out, hi));
			return wd_buf_append_byte(p->out, ']');
		}
		p->pos = save;
	}

	{
		bool escaped = false, any = false;

		for (;;) {
			uint32_t r;

			if (at_end(p)) {
				p->err = "unexpected end of input";
				return WD_EINVAL;
			}
			if (!escaped && p->s[p->pos] == ']')
				break;
			r = next_rune(p);
			if (!escaped && r == '\\') {
				escaped = true;
				continue;
			}
			escaped = false;
			any = true;
			WD_TRY(put_rune(p->out, r));
		}
		p->pos++;
		if (!any) {
			/* An empty list matches nothing ([!] anything). */
			wd_buf_truncate(p->out, wd_buf_len(p->out) - (negated ? 2 : 1));
			return wd_buf_append_str(p->out, negated ? "(?s:.)" : "[^\\x{0}-\\x{10ffff}]");
		}
	}
	return wd_buf_append_byte(p->out, ']');
}

static int parse_sequence(struct glob_parser *p, bool in_terms);

/* {a,b,...}; p->pos is just past '{'. */
static int parse_terms(struct glob_parser *p)
{
	if (++p->depth > GLOB_MAX_DEPTH) {
		p->err = "alternatives nested too deeply";
		return WD_EINVAL;
	}
	WD_TRY(wd_buf_append_str(p->out, "(?:"));
	for (;;) {
		WD_TRY(parse_sequence(p, true));
		if (at_end(p)) {
			p->err = "unexpected end of input";
			return WD_EINVAL;
		}
		if (p->s[p->pos] == '}') {
			p->pos++;
			break;
		}
		p->pos++; /* ',' */
		WD_TRY(wd_buf_append_byte(p->out, '|'));
	}
	p->depth--;
	return wd_buf_append_byte(p->out, ')');
}

static int parse_sequence(struct glob_parser *p, bool in_terms)
{
	bool escaped = false;

	while (!at_end(p)) {
		char c = p->s[p->pos];

		if (!escaped) {
			if (in_terms && (c == ',' || c == '}'))
				return 0;
			if (c == '\\') {
				escaped = true;
				p->pos++;
				continue;
			}
			if (c == '*') {
				p->pos++;
				if (!at_end(p) && p->s[p->pos] == '*') {
					p->pos++;
					WD_TRY(wd_buf_append_str(p->out, "(?s:.)*"));
				} else {
					WD_TRY(put_not_delims(p));
					WD_TRY(wd_buf_append_byte(p->out, '*'));
				}
				continue;
			}
			if (c == '?') {
				p->pos++;
				WD_TRY(put_not_delims(p));
				continue;
			}
			if (c == '[') {
				p->pos++;
				WD_TRY(parse_range(p));
				continue;
			}
			if (c == '{') {
				p->pos++;
				WD_TRY(parse_terms(p));
				continue;
			}
		}
		escaped = false;
		WD_TRY(put_rune(p->out, next_rune(p)));
	}
	return 0;
}

int bi_glob_to_regex(struct rego_bctx *ctx, const char *glob, size_t len,
		     const uint32_t *delims, size_t ndelims, struct wd_buf *out)
{
	struct glob_parser p = {
		.s = glob, .len = len, .delims = delims, .ndelims = ndelims, .out = out,
	};
	int rc;

	rc = wd_buf_append_str(out, "\\A(?:");
	if (rc == 0)
		rc = parse_sequence(&p, false);
	if (rc == 0)
		rc = wd_buf_append_str(out, ")\\z");
	if (rc < 0 && p.err)
		return rego_bi_error(ctx, "%s", p.err);
	return bi_fail(ctx, rc);
}
