/* The Rego parser's machinery: the token cursor with OPA's whitespace rules,
 * saved states, error recording in OPA's wording, the recursion limit and
 * the parsed-term cache that keeps backtracking linear. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "policy/parser.h"

int rp_init(struct parser *p, struct rego_arena *arena, const char *file, const char *src,
	    size_t len, struct rego_tokens *toks)
{
	memset(p, 0, sizeof(*p));
	p->arena = arena;
	p->file = file ? file : "";
	p->src = src;
	p->src_len = len;
	p->toks = toks->items;
	p->ntoks = toks->len;
	p->comments = toks->comments;
	p->ncomments = toks->comments_len;
	p->max_depth = REGO_MAX_PARSE_DEPTH;

	/* The first scan: blanks before the first token are skipped. */
	p->s.skipped_nl = (p->toks[0].flags & TOKF_NL) != 0;
	if (p->toks[0].error)
		rp_error(p, rp_cur_loc(p), "%s", p->toks[0].error);
	return 0;
}

void rp_fini(struct parser *p)
{
	free(p->cache);
	p->cache = NULL;
}

enum rego_tok rp_tok(const struct parser *p)
{
	if (p->s.at_ws)
		return TK_WS;
	if (p->s.as_ident)
		return TK_IDENT;
	return (enum rego_tok)p->toks[p->s.pos].kind;
}

const struct rego_token *rp_cur(const struct parser *p)
{
	return &p->toks[p->s.pos];
}

/* Row and column of a byte offset, counted as the scanner counts them: a
 * newline itself stands at column 0 of the row it opens. */
static void pos_of_offset(const struct parser *p, uint32_t offset, uint32_t *row, uint32_t *col)
{
	uint32_t r = 1;
	uint32_t c = 0;

	for (uint32_t i = 0; i <= offset && i < p->src_len; i++) {
		unsigned char ch = (unsigned char)p->src[i];

		if (ch == '\n') {
			r++;
			c = 0;
		} else if ((ch & 0xC0) != 0x80) {
			c++;
		}
	}
	*row = r;
	*col = c;
}

struct rego_loc rp_cur_loc(const struct parser *p)
{
	const struct rego_token *t = rp_cur(p);
	struct rego_loc loc = { .file = p->file };

	if (p->s.at_ws && p->s.pos > 0) {
		loc.offset = p->toks[p->s.pos - 1].end;
		loc.len = t->offset - loc.offset;
		pos_of_offset(p, loc.offset, &loc.row, &loc.col);
		return loc;
	}
	loc.row = t->row;
	loc.col = t->col;
	loc.offset = t->offset;
	loc.len = t->end - t->offset;
	return loc;
}

uint32_t rp_cur_offset(const struct parser *p)
{
	return rp_cur_loc(p).offset;
}

uint32_t rp_tok_end(const struct parser *p)
{
	if (p->s.at_ws)
		return rp_cur(p)->offset;
	return rp_cur(p)->end;
}

enum rego_tok rp_peek_ws(const struct parser *p)
{
	const struct rego_token *n;

	if (p->s.at_ws)
		return (enum rego_tok)rp_cur(p)->kind;
	if (p->s.pos + 1 >= p->ntoks)
		return TK_EOF;
	n = &p->toks[p->s.pos + 1];
	if (n->flags & TOKF_WS)
		return TK_WS;
	return (enum rego_tok)n->kind;
}

/* Moves onto the next real token; a scan error on it is recorded then, as
 * OPA's doScan records it. */
static void step(struct parser *p, bool skip_ws)
{
	const struct rego_token *t;

	if (!p->s.at_ws) {
		p->s.last_end = rp_cur(p)->end;
		p->s.skipped_nl = false;
	}
	p->s.as_ident = false;
	if (p->s.at_ws) {
		p->s.at_ws = false;
		p->s.skipped_nl |= (rp_cur(p)->flags & TOKF_NL) != 0;
		return;
	}
	if (p->s.pos + 1 < p->ntoks)
		p->s.pos++;
	t = rp_cur(p);
	p->s.skipped_nl = (t->flags & TOKF_NL) != 0;
	if (!skip_ws && (t->flags & TOKF_WS)) {
		p->s.at_ws = true;
		return;
	}
	if (t->error)
		rp_error(p, rp_cur_loc(p), "%s", t->error);
}

void rp_scan(struct parser *p)
{
	bool was_ws = p->s.at_ws;

	step(p, true);
	if (was_ws && rp_cur(p)->error)
		rp_error(p, rp_cur_loc(p), "%s", rp_cur(p)->error);
}

void rp_scan_ws(struct parser *p)
{
	bool was_ws = p->s.at_ws;

	step(p, false);
	if (was_ws && rp_cur(p)->error)
		rp_error(p, rp_cur_loc(p), "%s", rp_cur(p)->error);
}

bool rp_enter(struct parser *p)
{
	if (p->depth_hit || p->depth + 1 >= p->max_depth) {
		if (!p->depth_hit)
			rp_error(p, rp_cur_loc(p), "max parsing recursion depth exceeded");
		p->depth_hit = true;
		return false;
	}
	p->depth++;
	return true;
}

void rp_leave(struct parser *p)
{
	p->depth--;
}

void *rp_alloc(struct parser *p, size_t size)
{
	void *m = rego_arena_alloc(p->arena, size);

	if (!m)
		p->oom = true;
	return m;
}

char *rp_strndup(struct parser *p, const char *s, size_t len)
{
	char *m = rego_arena_strndup(p->arena, s, len);

	if (!m)
		p->oom = true;
	return m;
}

struct rv *rp_keep(struct parser *p, struct rv *v)
{
	if (!v) {
		p->oom = true;
		return NULL;
	}
	v = rego_arena_keep_value(p->arena, v);
	if (!v)
		p->oom = true;
	return v;
}

int rp_tvec_push(struct parser *p, struct tvec *v, struct rego_term *t)
{
	if (v->len == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 4;
		struct rego_term **grown;

		if (cap > SIZE_MAX / sizeof(*grown)) {
			p->oom = true;
			return WD_ENOMEM;
		}
		grown = rp_alloc(p, cap * sizeof(*grown));
		if (!grown)
			return WD_ENOMEM;
		if (v->len)
			memcpy(grown, v->items, v->len * sizeof(*grown));
		v->items = grown;
		v->cap = cap;
	}
	v->items[v->len++] = t;
	return 0;
}

static char *vformat(struct parser *p, const char *fmt, va_list ap) WD_PRINTF(2, 0);

static char *vformat(struct parser *p, const char *fmt, va_list ap)
{
	char small[512];
	va_list ap2;
	int n;
	char *out;

	va_copy(ap2, ap);
	n = vsnprintf(small, sizeof(small), fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return NULL;
	if ((size_t)n < sizeof(small))
		return rp_strndup(p, small, (size_t)n);
	out = rp_alloc(p, (size_t)n + 1);
	if (!out)
		return NULL;
	vsnprintf(out, (size_t)n + 1, fmt, ap);
	return out;
}

static void push_error(struct parser *p, struct rego_loc loc, const char *msg)
{
	struct perr *e;

	if (!msg)
		return;
	if (p->s.hint) {
		size_t need = strlen(msg) + strlen(p->s.hint) + 16;
		char *joined = rp_alloc(p, need);

		if (!joined)
			return;
		snprintf(joined, need, "%s (hint: %s)", msg, p->s.hint);
		msg = joined;
		p->s.hint = NULL;
	}
	e = rp_alloc(p, sizeof(*e));
	if (!e)
		return;
	e->loc = loc;
	e->msg = msg;
	e->prev = p->s.errs;
	p->s.errs = e;
	p->s.nerrs++;
}

void rp_error(struct parser *p, struct rego_loc loc, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = vformat(p, fmt, ap);
	va_end(ap);
	push_error(p, loc, msg);
}

void rp_illegal(struct parser *p, const char *fmt, ...)
{
	enum rego_tok t = rp_tok(p);
	const char *kind = rego_tok_is_keyword(t) ? "keyword" : "token";
	char *note = NULL;
	va_list ap;

	if (t == TK_ILLEGAL) {
		rp_error(p, rp_cur_loc(p), "illegal token");
		return;
	}
	if (fmt) {
		va_start(ap, fmt);
		note = vformat(p, fmt, ap);
		va_end(ap);
	}
	if (note)
		rp_error(p, rp_cur_loc(p), "unexpected %s %s: %s", rego_tok_name(t), kind, note);
	else
		rp_error(p, rp_cur_loc(p), "unexpected %s %s", rego_tok_name(t), kind);
}

void rp_hint(struct parser *p, const char *text)
{
	p->s.hint = text;
}

struct rego_loc rp_loc_span(struct rego_loc loc, uint32_t end)
{
	loc.len = end > loc.offset ? end - loc.offset : 0;
	return loc;
}

bool rp_cache_lookup(struct parser *p, struct rego_term **ret)
{
	uint32_t pos = p->s.pos;
	size_t lo = 0, hi = p->cache_len;
	struct pcache_entry *e;

	if (p->s.at_ws)
		return false;
	/* rp_cache_push keeps the entries in strictly increasing pos, so a
	 * binary search finds the one entry at pos. A backward scan was
	 * quadratic when a long argument list was parsed twice. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->cache[mid].pos < pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == p->cache_len)
		return false;
	e = &p->cache[lo];
	if (e->pos != pos || e->as_ident != p->s.as_ident)
		return false;
	*ret = e->term;
	p->s = e->post;
	return true;
}

void rp_cache_push(struct parser *p, struct rego_term *t, const struct pstate *before)
{
	if (before->at_ws)
		return;
	while (p->cache_len > 0 && p->cache[p->cache_len - 1].pos >= before->pos)
		p->cache_len--;
	if (p->cache_len == p->cache_cap) {
		size_t cap = p->cache_cap ? p->cache_cap * 2 : 64;
		struct pcache_entry *grown = wd_reallocarray(p->cache, cap, sizeof(*grown));

		/* Without memory the cache only loses speed. */
		if (!grown)
			return;
		p->cache = grown;
		p->cache_cap = cap;
	}
	p->cache[p->cache_len].pos = before->pos;
	p->cache[p->cache_len].as_ident = before->as_ident;
	p->cache[p->cache_len].term = t;
	p->cache[p->cache_len].post = p->s;
	p->cache_len++;
}
