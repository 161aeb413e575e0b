/* Rego terms: scalars, variables, references, calls, collections and
 * comprehensions, and the infix operators with OPA's precedence (in, then
 * comparisons, |, &, + -, * / %), each a call of the builtin it names. */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "policy/parser.h"

struct rego_term *rp_new_term(struct parser *p, enum rego_term_kind kind, struct rego_loc loc)
{
	struct rego_term *t = rp_alloc(p, sizeof(*t));

	if (!t)
		return NULL;
	t->kind = kind;
	t->loc = loc;
	if (kind == RT_VAR)
		t->u.var.slot = -1;
	return t;
}

struct rego_term *rp_new_var(struct parser *p, const char *name, size_t len, struct rego_loc loc)
{
	struct rego_term *t = rp_new_term(p, RT_VAR, loc);

	if (!t)
		return NULL;
	t->u.var.name = rp_strndup(p, name, len);
	return t->u.var.name ? t : NULL;
}

static struct rego_term *new_value(struct parser *p, struct rv *v, struct rego_loc loc)
{
	struct rego_term *t;

	v = rp_keep(p, v);
	if (!v)
		return NULL;
	t = rp_new_term(p, RT_VALUE, loc);
	if (t)
		t->u.value = v;
	return t;
}

struct rego_term *rp_new_string(struct parser *p, const char *s, size_t len, struct rego_loc loc)
{
	return new_value(p, rv_string(s, len), loc);
}

struct rego_term *rp_new_bool(struct parser *p, bool b, struct rego_loc loc)
{
	return new_value(p, rv_bool(b), loc);
}

struct rego_term *rp_new_ref(struct parser *p, struct rego_term **items, size_t len,
			     struct rego_loc loc)
{
	struct rego_term *t = rp_new_term(p, RT_REF, loc);

	if (!t)
		return NULL;
	t->u.ref.items = items;
	t->u.ref.len = len;
	return t;
}

struct rego_term *rp_new_call(struct parser *p, struct rego_term *op, struct rego_term **args,
			      size_t len, struct rego_loc loc)
{
	struct rego_term *t = rp_new_term(p, RT_CALL, loc);

	if (!t)
		return NULL;
	t->u.call.op = op;
	t->u.call.args = args;
	t->u.call.len = len;
	return t;
}

/* The operator of an infix call: a ref of one var (`plus`) or of a var and
 * a string (`internal.member_2`), all at the operator's position. */
struct rego_term *rp_op_ref(struct parser *p, const char *name, const char *second,
			    struct rego_loc loc)
{
	struct rego_term **items = rp_alloc(p, 2 * sizeof(*items));

	if (!items)
		return NULL;
	items[0] = rp_new_var(p, name, strlen(name), loc);
	if (!items[0])
		return NULL;
	if (second) {
		items[1] = rp_new_string(p, second, strlen(second), loc);
		if (!items[1])
			return NULL;
	}
	return rp_new_ref(p, items, second ? 2 : 1, loc);
}

bool rp_is_root_doc(const struct rego_term *t)
{
	return t && t->kind == RT_VAR &&
	       (strcmp(t->u.var.name, "data") == 0 || strcmp(t->u.var.name, "input") == 0);
}

/* True when t is a call whose operator is the ref spelled name. */
bool rp_term_is_op(const struct rego_term *t, const char *name)
{
	const struct rego_term *op;
	const char *dot;
	size_t head_len;

	if (!t || t->kind != RT_CALL)
		return false;
	op = t->u.call.op;
	if (op->kind != RT_REF || op->u.ref.items[0]->kind != RT_VAR)
		return false;
	dot = strchr(name, '.');
	head_len = dot ? (size_t)(dot - name) : strlen(name);
	if (strlen(op->u.ref.items[0]->u.var.name) != head_len ||
	    strncmp(op->u.ref.items[0]->u.var.name, name, head_len) != 0)
		return false;
	if (!dot)
		return op->u.ref.len == 1;
	return op->u.ref.len == 2 && op->u.ref.items[1]->kind == RT_VALUE &&
	       rv_is(op->u.ref.items[1]->u.value, RV_STRING) &&
	       strcmp(rv_str(op->u.ref.items[1]->u.value), dot + 1) == 0;
}

/* OPA's ValueName, used in messages: "var", "ref", "string", ... */
const char *rp_value_name(const struct rego_term *t)
{
	switch (t->kind) {
	case RT_VALUE:
		switch (rv_kind_of(t->u.value)) {
		case RV_NULL: return "null";
		case RV_BOOL: return "boolean";
		case RV_NUMBER: return "number";
		case RV_STRING: return "string";
		default: return "value";
		}
	case RT_VAR: return "var";
	case RT_REF: return "ref";
	case RT_ARRAY: return "array";
	case RT_OBJECT: return "object";
	case RT_SET: return "set";
	case RT_ARRAY_COMPR: return "arraycomprehension";
	case RT_SET_COMPR: return "setcomprehension";
	case RT_OBJECT_COMPR: return "objectcomprehension";
	case RT_CALL: return "call";
	case RT_TEMPLATE: return "templatestring";
	}
	return "term";
}

bool rp_term_is_ground(const struct rego_term *t)
{
	switch (t->kind) {
	case RT_VALUE:
		return true;
	case RT_VAR:
		return false;
	case RT_REF:
		for (size_t i = 0; i < t->u.ref.len; i++) {
			if (!rp_term_is_ground(t->u.ref.items[i]))
				return false;
		}
		return true;
	case RT_ARRAY:
	case RT_SET:
		for (size_t i = 0; i < t->u.coll.len; i++) {
			if (!rp_term_is_ground(t->u.coll.items[i]))
				return false;
		}
		return true;
	case RT_OBJECT:
		for (size_t i = 0; i < t->u.obj.len; i++) {
			if (!rp_term_is_ground(t->u.obj.keys[i]) ||
			    !rp_term_is_ground(t->u.obj.values[i]))
				return false;
		}
		return true;
	case RT_CALL:
		if (!rp_term_is_ground(t->u.call.op))
			return false;
		for (size_t i = 0; i < t->u.call.len; i++) {
			if (!rp_term_is_ground(t->u.call.args[i]))
				return false;
		}
		return true;
	case RT_TEMPLATE:
		for (size_t i = 0; i < t->u.tmpl.len; i++) {
			if (!rp_term_is_ground(t->u.tmpl.parts[i]))
				return false;
		}
		return true;
	default:
		/* Comprehensions count as not ground, since their bodies bind
		 * variables. */
		return false;
	}
}

const char *rp_term_str(struct parser *p, const struct rego_term *t)
{
	struct wd_buf buf;
	const char *s;

	if (!t)
		return "<nil>";
	wd_buf_init(&buf, 64, 64 * 1024);
	if (rego_term_write(t, &buf) < 0) {
		wd_buf_free(&buf);
		return "?";
	}
	s = rp_strndup(p, wd_buf_str(&buf), wd_buf_len(&buf));
	wd_buf_free(&buf);
	return s ? s : "?";
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool read_u4(const char *s, size_t len, size_t i, uint32_t *ret)
{
	uint32_t v = 0;

	if (i + 4 > len)
		return false;
	for (size_t k = 0; k < 4; k++) {
		int h = hexval(s[i + k]);

		if (h < 0)
			return false;
		v = (v << 4) | (uint32_t)h;
	}
	*ret = v;
	return true;
}

static size_t put_utf8(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Decodes the inside of a "..." literal as Go's encoding/json does (OPA
 * unmarshals quoted strings): control characters are refused, lone
 * surrogates become U+FFFD. Template text also turns `\{` into `{`. */
bool rp_decode_json_string(struct parser *p, const char *s, size_t len, bool template,
			   char **ret, size_t *ret_len)
{
	char *out = rp_alloc(p, len + 1);
	size_t o = 0;

	if (!out)
		return false;
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		uint32_t cp;
		uint32_t lo;

		if (c < 0x20)
			return false;
		if (c != '\\') {
			out[o++] = (char)c;
			i++;
			continue;
		}
		if (i + 1 >= len)
			return false;
		switch (s[i + 1]) {
		case '"': out[o++] = '"'; break;
		case '\\': out[o++] = '\\'; break;
		case '/': out[o++] = '/'; break;
		case 'b': out[o++] = '\b'; break;
		case 'f': out[o++] = '\f'; break;
		case 'n': out[o++] = '\n'; break;
		case 'r': out[o++] = '\r'; break;
		case 't': out[o++] = '\t'; break;
		case '{':
			if (!template)
				return false;
			out[o++] = '{';
			break;
		case 'u':
			if (!read_u4(s, len, i + 2, &cp))
				return false;
			i += 6;
			if (cp >= 0xD800 && cp < 0xDC00 && i + 1 < len && s[i] == '\\' &&
			    s[i + 1] == 'u' && read_u4(s, len, i + 2, &lo) && lo >= 0xDC00 &&
			    lo < 0xE000) {
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				i += 6;
			} else if (cp >= 0xD800 && cp < 0xE000) {
				cp = 0xFFFD;
			}
			o += put_utf8(out + o, cp);
			continue;
		default:
			return false;
		}
		i += 2;
	}
	out[o] = '\0';
	*ret = out;
	*ret_len = o;
	return true;
}

static struct rego_term *parse_string(struct parser *p)
{
	const struct rego_token *t = rp_cur(p);
	const char *lit = p->src + t->lit_off;
	char *decoded;
	size_t decoded_len;

	if (p->src[t->offset] == '`' || !memchr(lit, '\\', t->lit_len))
		return rp_new_string(p, lit, t->lit_len, rp_cur_loc(p));
	if (!rp_decode_json_string(p, lit, t->lit_len, false, &decoded, &decoded_len)) {
		if (!p->oom)
			rp_error(p, rp_cur_loc(p), "illegal string literal: %.*s",
				 (int)(t->end - t->offset), p->src + t->offset);
		return NULL;
	}
	return rp_new_string(p, decoded, decoded_len, rp_cur_loc(p));
}

/* Rough size of a decimal literal's power of ten, to reject numbers whose
 * exponent OPA finds too big (beyond 2^100000). */
static bool number_too_big(const char *s, size_t len)
{
	long long exp10 = 0;
	long long int_digits = 0;
	bool seen_nonzero = false;
	size_t i = 0;

	while (i < len && s[i] != 'e' && s[i] != 'E') {
		if (s[i] >= '0' && s[i] <= '9') {
			if (s[i] != '0')
				seen_nonzero = true;
			if (seen_nonzero)
				int_digits++;
		} else if (s[i] == '.') {
			break;
		}
		i++;
	}
	if (!seen_nonzero) {
		/* 0.000ddd: count the leading zeros after the point. */
		while (i < len && (s[i] == '.' || s[i] == '0'))
			i++, int_digits--;
	}
	while (i < len && s[i] != 'e' && s[i] != 'E')
		i++;
	if (i < len) {
		bool neg = false;

		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			neg = s[i++] == '-';
		for (; i < len; i++) {
			if (exp10 < 1000000000LL)
				exp10 = exp10 * 10 + (s[i] - '0');
		}
		if (neg)
			exp10 = -exp10;
	}
	exp10 += int_digits;
	return exp10 > 30103 || exp10 < -30103;
}

static struct rego_term *parse_number(struct parser *p)
{
	struct rego_loc loc = rp_cur_loc(p);
	const struct rego_token *t;
	bool neg = false;
	bool dot = false;
	const char *lit;
	size_t lit_len;
	struct wd_buf text;
	struct rego_term *term = NULL;

	if (rp_tok(p) == TK_SUB) {
		neg = true;
		rp_scan(p);
		if (rp_tok(p) != TK_NUMBER && rp_tok(p) != TK_DOT) {
			rp_illegal(p, "expected number");
			return NULL;
		}
	}
	if (rp_tok(p) == TK_DOT) {
		dot = true;
		rp_scan(p);
		if (rp_tok(p) != TK_NUMBER) {
			rp_illegal(p, "expected number");
			return NULL;
		}
	}
	t = rp_cur(p);
	lit = p->src + t->offset;
	lit_len = t->end - t->offset;

	/* OPA rejects leading zeros except in 0.x and 0e... */
	if (!dot && lit_len > 1 && lit[0] == '0' && lit[1] != '.' &&
	    !(lit_len > 2 && (lit[1] == 'e' || lit[1] == 'E'))) {
		rp_illegal(p, "expected number without leading zero");
		return NULL;
	}
	if (dot && memchr(lit, '.', lit_len)) {
		rp_illegal(p, "invalid float");
		return NULL;
	}
	if (number_too_big(lit, lit_len)) {
		rp_error(p, rp_cur_loc(p), "number too big");
		return NULL;
	}

	wd_buf_init(&text, 32, REGO_MAX_MODULE_BYTES + 8);
	if ((neg && wd_buf_append_byte(&text, '-') < 0) ||
	    (dot && wd_buf_append_str(&text, "0.") < 0) ||
	    wd_buf_append(&text, lit, lit_len) < 0) {
		p->oom = true;
		goto out;
	}
	loc = rp_loc_span(loc, t->end);
	term = new_value(p, rv_number_parse(wd_buf_str(&text), wd_buf_len(&text)), loc);
out:
	wd_buf_free(&text);
	return term;
}

struct rego_term *rp_parse_var(struct parser *p)
{
	const struct rego_token *t = rp_cur(p);
	struct rego_loc loc = rp_cur_loc(p);
	struct rego_term *v;
	char name[16];
	int n;

	if (t->end - t->offset == 1 && p->src[t->offset] == '_') {
		/* Each `_` becomes a distinct wildcard, $0, $1, ... */
		n = snprintf(name, sizeof(name), "$%u", p->s.wildcard++);
		v = rp_new_var(p, name, (size_t)n, loc);
		if (v)
			v->u.var.wildcard = true;
		return v;
	}
	return rp_new_var(p, p->src + t->offset, t->end - t->offset, loc);
}

static struct rego_term *parse_array(struct parser *p);
static struct rego_term *parse_set_or_object(struct parser *p);
static struct rego_term *parse_term_finish(struct parser *p, struct rego_term *head,
					   bool skip_ws);

struct rego_term *rp_parse_term(struct parser *p)
{
	struct pstate before;
	struct rego_term *term = NULL;
	struct rego_term *r;
	uint32_t offset;

	if (!rp_enter(p))
		return NULL;
	if (rp_cache_lookup(p, &term))
		goto out;
	before = rp_save(p);

	switch (rp_tok(p)) {
	case TK_NULL:
		term = new_value(p, rv_null(), rp_cur_loc(p));
		break;
	case TK_TRUE:
		term = rp_new_bool(p, true, rp_cur_loc(p));
		break;
	case TK_FALSE:
		term = rp_new_bool(p, false, rp_cur_loc(p));
		break;
	case TK_SUB:
	case TK_DOT:
	case TK_NUMBER:
		term = parse_number(p);
		break;
	case TK_STRING:
		term = parse_string(p);
		break;
	case TK_TPL_PART:
	case TK_TPL_END:
		term = rp_parse_template(p, false);
		break;
	case TK_RAW_TPL_PART:
	case TK_RAW_TPL_END:
		term = rp_parse_template(p, true);
		break;
	case TK_IDENT:
	case TK_CONTAINS:
		/* `contains` is special in rule heads only. */
		term = rp_parse_var(p);
		break;
	case TK_LBRACK:
		term = parse_array(p);
		break;
	case TK_LBRACE:
		term = parse_set_or_object(p);
		break;
	case TK_LPAREN:
		offset = rp_cur_offset(p);
		rp_scan(p);
		r = rp_parse_term_infix_call(p);
		if (r) {
			if (rp_tok(p) == TK_RPAREN) {
				(void)offset;
				term = r;
			} else {
				rp_error(p, rp_cur_loc(p), "non-terminated expression");
			}
		}
		break;
	default:
		rp_illegal(p, NULL);
		break;
	}

	term = parse_term_finish(p, term, false);
	rp_cache_push(p, term, &before);
out:
	rp_leave(p);
	return term;
}

static struct rego_term *root_ref(struct parser *p, struct rego_term *head)
{
	struct rego_term **items;

	if (!rp_is_root_doc(head))
		return head;
	items = rp_alloc(p, sizeof(*items));
	if (!items)
		return NULL;
	items[0] = head;
	return rp_new_ref(p, items, 1, head->loc);
}

/* After a term: a glued `(`, `.` or `[` continues it as a call or ref; a
 * bare `data` or `input` becomes a ref. */
static struct rego_term *parse_term_finish(struct parser *p, struct rego_term *head, bool skip_ws)
{
	uint32_t offset;

	if (!head)
		return NULL;
	offset = head->loc.offset;
	if (skip_ws)
		rp_scan(p);
	else
		rp_scan_ws(p);

	switch (rp_tok(p)) {
	case TK_LPAREN:
	case TK_DOT:
	case TK_LBRACK:
		return rp_parse_ref(p, head, offset);
	case TK_WS:
		rp_scan(p);
		/* fallthrough */
	default:
		return root_ref(p, head);
	}
}

static struct rego_term **tvec_finish(struct tvec *v)
{
	return v->items;
}

static bool parse_term_list_into(struct parser *p, enum rego_tok end, struct tvec *r);

static struct rego_term *parse_call(struct parser *p, struct rego_term *op)
{
	struct rego_loc loc = op->loc;
	struct tvec args = { 0 };
	struct rego_term *term;

	if (!rp_enter(p))
		return NULL;
	rp_scan(p);

	if (rp_tok(p) == TK_RPAREN) {
		loc = rp_loc_span(loc, rp_tok_end(p));
		rp_scan_ws(p);
		if (op->u.ref.len == 1 && op->u.ref.items[0]->kind == RT_VAR &&
		    strcmp(op->u.ref.items[0]->u.var.name, "set") == 0) {
			term = rp_new_term(p, RT_SET, loc);
		} else {
			term = rp_new_call(p, op, NULL, 0, loc);
		}
		rp_leave(p);
		return term;
	}

	term = NULL;
	if (parse_term_list_into(p, TK_RPAREN, &args)) {
		loc = rp_loc_span(loc, rp_tok_end(p));
		rp_scan_ws(p);
		term = rp_new_call(p, op, tvec_finish(&args), args.len, loc);
	}
	rp_leave(p);
	return term;
}

struct rego_term *rp_parse_ref(struct parser *p, struct rego_term *head, uint32_t offset)
{
	struct rego_loc loc = head->loc;
	struct tvec items = { 0 };
	struct rego_term *term = NULL;
	struct rego_term *op;
	struct rego_term *t;

	(void)offset;
	if (!rp_enter(p))
		return NULL;

	switch (head->kind) {
	case RT_VAR:
	case RT_ARRAY:
	case RT_OBJECT:
	case RT_SET:
	case RT_ARRAY_COMPR:
	case RT_OBJECT_COMPR:
	case RT_SET_COMPR:
	case RT_CALL:
		break;
	default:
		rp_error(p, loc, "illegal ref (head cannot be %s)", rp_value_name(head));
		break;
	}
	if (rp_tvec_push(p, &items, head) < 0)
		goto out;

	for (;;) {
		switch (rp_tok(p)) {
		case TK_DOT:
			rp_scan_ws(p);
			if (rp_tok(p) != TK_IDENT && !rego_tok_is_keyword(rp_tok(p))) {
				rp_illegal(p, "expected ident");
				goto out;
			}
			t = rp_new_string(p, p->src + rp_cur(p)->offset,
					  rp_cur(p)->end - rp_cur(p)->offset, rp_cur_loc(p));
			if (!t || rp_tvec_push(p, &items, t) < 0)
				goto out;
			rp_scan_ws(p);
			break;
		case TK_LPAREN:
			op = rp_new_ref(p, tvec_finish(&items), items.len,
					rp_loc_span(loc, rp_cur_offset(p)));
			if (!op)
				goto out;
			term = parse_call(p, op);
			if (term) {
				switch (rp_tok(p)) {
				case TK_WS:
					rp_scan(p);
					goto out;
				case TK_DOT:
				case TK_LBRACK:
					term = rp_parse_ref(p, term, offset);
					break;
				default:
					break;
				}
			}
			goto out;
		case TK_LBRACK:
			rp_scan(p);
			t = rp_parse_term_infix_call(p);
			if (!t)
				goto out;
			if (rp_tok(p) != TK_RBRACK) {
				/* OPA names the opening bracket here. */
				rp_illegal(p, "expected [");
				goto out;
			}
			if (rp_tvec_push(p, &items, t) < 0)
				goto out;
			rp_scan_ws(p);
			break;
		case TK_WS:
			term = rp_new_ref(p, tvec_finish(&items), items.len,
					  rp_loc_span(loc, p->s.last_end));
			rp_scan(p);
			goto out;
		default:
			term = rp_new_ref(p, tvec_finish(&items), items.len,
					  rp_loc_span(loc, p->s.last_end));
			goto out;
		}
	}
out:
	rp_leave(p);
	return term;
}

/* Parses comma-separated terms up to end (a trailing comma is allowed),
 * appending to r; false after an error. */
static bool parse_term_list_into(struct parser *p, enum rego_tok end, struct tvec *r)
{
	if (rp_tok(p) == end)
		return true;
	for (;;) {
		struct rego_term *t = rp_parse_term_infix_call_in_list(p);

		if (!t || rp_tvec_push(p, r, t) < 0)
			return false;
		if (rp_tok(p) == end)
			return true;
		if (rp_tok(p) != TK_COMMA) {
			rp_illegal(p, "expected \",\" or \"%s\"", rego_tok_name(end));
			return false;
		}
		rp_scan(p);
		if (rp_tok(p) == end)
			return true;
	}
}

static struct rego_term *new_coll(struct parser *p, enum rego_term_kind kind, struct tvec *v,
				  struct rego_loc loc)
{
	struct rego_term *t = rp_new_term(p, kind, loc);

	if (!t)
		return NULL;
	t->u.coll.items = v->items;
	t->u.coll.len = v->len;
	return t;
}

static struct rego_term *new_compr(struct parser *p, enum rego_term_kind kind,
				   struct rego_term *key, struct rego_term *head,
				   struct rego_body *body, struct rego_loc loc)
{
	struct rego_term *t = rp_new_term(p, kind, loc);

	if (!t)
		return NULL;
	t->u.compr.key = key;
	t->u.compr.head = head;
	t->u.compr.body = body;
	return t;
}

static struct rego_term *parse_array(struct parser *p)
{
	struct rego_loc loc = rp_cur_loc(p);
	struct tvec items = { 0 };
	struct rego_term *term = NULL;
	struct rego_term *head;
	struct rego_body *body;
	struct pstate s;
	bool potential_compr = true;

	if (!rp_enter(p))
		return NULL;
	rp_scan(p);

	if (rp_tok(p) == TK_RBRACK) {
		term = new_coll(p, RT_ARRAY, &items, rp_loc_span(loc, rp_tok_end(p)));
		goto out;
	}
	/* A leading comma ([, x]) is accepted, as OPA does. */
	if (rp_tok(p) == TK_COMMA) {
		potential_compr = false;
		rp_scan(p);
	}
	s = rp_save(p);

	/* A single term first: `[a | b]` is a comprehension, not an or. */
	head = rp_parse_term(p);
	if (!head)
		goto out;
	switch (rp_tok(p)) {
	case TK_RBRACK:
		if (rp_tvec_push(p, &items, head) == 0)
			term = new_coll(p, RT_ARRAY, &items, rp_loc_span(loc, rp_tok_end(p)));
		goto out;
	case TK_COMMA:
		rp_scan(p);
		if (rp_tvec_push(p, &items, head) == 0 && parse_term_list_into(p, TK_RBRACK, &items))
			term = new_coll(p, RT_ARRAY, &items, rp_loc_span(loc, rp_tok_end(p)));
		goto out;
	case TK_OR:
		if (potential_compr) {
			rp_scan(p);
			body = rp_parse_body(p, TK_RBRACK);
			if (body) {
				term = new_compr(p, RT_ARRAY_COMPR, NULL, head, body,
						 rp_loc_span(loc, rp_tok_end(p)));
				goto out;
			}
			if (rp_tok(p) != TK_COMMA)
				goto out;
		}
		break;
	default:
		break;
	}

	rp_restore(p, s);
	items.len = 0;
	if (parse_term_list_into(p, TK_RBRACK, &items))
		term = new_coll(p, RT_ARRAY, &items, rp_loc_span(loc, rp_tok_end(p)));
out:
	rp_leave(p);
	return term;
}

static struct rego_term *parse_set(struct parser *p, struct pstate s, struct rego_term *head,
				   bool potential_compr, struct rego_loc loc)
{
	struct tvec items = { 0 };
	struct rego_body *body;
	struct rego_term *term = NULL;

	if (!rp_enter(p))
		return NULL;
	switch (rp_tok(p)) {
	case TK_RBRACE:
		if (rp_tvec_push(p, &items, head) == 0)
			term = new_coll(p, RT_SET, &items, rp_loc_span(loc, rp_tok_end(p)));
		break;
	case TK_COMMA:
		rp_scan(p);
		if (rp_tvec_push(p, &items, head) == 0 && parse_term_list_into(p, TK_RBRACE, &items))
			term = new_coll(p, RT_SET, &items, rp_loc_span(loc, rp_tok_end(p)));
		break;
	case TK_OR:
		if (potential_compr) {
			rp_scan(p);
			body = rp_parse_body(p, TK_RBRACE);
			if (body) {
				term = new_compr(p, RT_SET_COMPR, NULL, head, body,
						 rp_loc_span(loc, rp_tok_end(p)));
				break;
			}
			if (rp_tok(p) != TK_COMMA)
				break;
		}
		rp_restore(p, s);
		if (parse_term_list_into(p, TK_RBRACE, &items))
			term = new_coll(p, RT_SET, &items, rp_loc_span(loc, rp_tok_end(p)));
		break;
	default:
		break;
	}
	rp_leave(p);
	return term;
}

static struct rego_term *new_object(struct parser *p, struct tvec *keys, struct tvec *values,
				    struct rego_loc loc)
{
	struct rego_term *t = rp_new_term(p, RT_OBJECT, loc);

	if (!t)
		return NULL;
	t->u.obj.keys = keys->items;
	t->u.obj.values = values->items;
	t->u.obj.len = keys->len;
	return t;
}

static bool parse_term_pair_list(struct parser *p, enum rego_tok end, struct tvec *keys,
				 struct tvec *values)
{
	if (rp_tok(p) == end)
		return true;
	for (;;) {
		struct rego_term *k = rp_parse_term_infix_call_in_list(p);
		struct rego_term *v;

		if (!k)
			return false;
		if (rp_tok(p) != TK_COLON) {
			rp_illegal(p, "expected \":\"");
			return false;
		}
		rp_scan(p);
		v = rp_parse_term_infix_call_in_list(p);
		if (!v)
			return false;
		if (rp_tvec_push(p, keys, k) < 0 || rp_tvec_push(p, values, v) < 0)
			return false;
		if (rp_tok(p) == end)
			return true;
		if (rp_tok(p) != TK_COMMA) {
			rp_illegal(p, "expected \",\" or \"%s\"", rego_tok_name(end));
			return false;
		}
		rp_scan(p);
		if (rp_tok(p) == end)
			return true;
	}
}

static struct rego_term *parse_object_finish(struct parser *p, struct rego_term *key,
					     struct rego_term *val, bool potential_compr,
					     struct rego_loc loc)
{
	struct tvec keys = { 0 };
	struct tvec values = { 0 };
	struct rego_body *body;
	struct rego_term *term = NULL;

	if (!rp_enter(p))
		return NULL;
	switch (rp_tok(p)) {
	case TK_RBRACE:
		if (rp_tvec_push(p, &keys, key) == 0 && rp_tvec_push(p, &values, val) == 0)
			term = new_object(p, &keys, &values, rp_loc_span(loc, rp_tok_end(p)));
		break;
	case TK_OR:
		if (potential_compr) {
			rp_scan(p);
			body = rp_parse_body(p, TK_RBRACE);
			if (body)
				term = new_compr(p, RT_OBJECT_COMPR, key, val, body,
						 rp_loc_span(loc, rp_tok_end(p)));
		} else {
			rp_illegal(p, "non-terminated object");
		}
		break;
	case TK_COMMA:
		rp_scan(p);
		if (rp_tvec_push(p, &keys, key) == 0 && rp_tvec_push(p, &values, val) == 0 &&
		    parse_term_pair_list(p, TK_RBRACE, &keys, &values))
			term = new_object(p, &keys, &values, rp_loc_span(loc, rp_tok_end(p)));
		break;
	default:
		break;
	}
	rp_leave(p);
	return term;
}

static struct rego_term *parse_object(struct parser *p, struct rego_term *key,
				      bool potential_compr, struct rego_loc loc)
{
	struct rego_term *v;
	struct rego_term *term = NULL;
	struct pstate s;
	bool potential_relation = true;

	if (!rp_enter(p))
		return NULL;
	rp_scan(p);
	s = rp_save(p);

	/* The value as a single term first, for `{k: v | body}`. */
	v = rp_parse_term(p);
	if (!v)
		goto out;
	if (potential_compr) {
		switch (rp_tok(p)) {
		case TK_RBRACE:
		case TK_COMMA:
			potential_relation = false;
			/* fallthrough */
		case TK_OR:
			term = parse_object_finish(p, key, v, true, loc);
			if (term)
				goto out;
			break;
		default:
			break;
		}
	}
	rp_restore(p, s);

	if (potential_relation) {
		v = rp_parse_term_infix_call_in_list(p);
		if (!v)
			goto out;
		switch (rp_tok(p)) {
		case TK_RBRACE:
		case TK_COMMA:
			term = parse_object_finish(p, key, v, false, loc);
			goto out;
		default:
			break;
		}
	}
	rp_illegal(p, "non-terminated object");
out:
	rp_leave(p);
	return term;
}

static struct rego_term *parse_set_or_object(struct parser *p)
{
	struct rego_loc loc = rp_cur_loc(p);
	struct rego_term *term = NULL;
	struct rego_term *head;
	struct pstate s;
	bool potential_compr = true;

	if (!rp_enter(p))
		return NULL;
	rp_scan(p);

	if (rp_tok(p) == TK_RBRACE) {
		struct tvec none = { 0 };

		term = new_object(p, &none, &none, rp_loc_span(loc, rp_tok_end(p)));
		goto out;
	}
	if (rp_tok(p) == TK_COMMA) {
		potential_compr = false;
		rp_scan(p);
	}
	s = rp_save(p);

	/* A single term first, so `{a | b}` is a set comprehension. */
	head = rp_parse_term(p);
	if (!head)
		goto out;
	switch (rp_tok(p)) {
	case TK_OR:
		if (potential_compr) {
			term = parse_set(p, s, head, potential_compr, loc);
			goto out;
		}
		break;
	case TK_RBRACE:
	case TK_COMMA:
		term = parse_set(p, s, head, potential_compr, loc);
		goto out;
	case TK_COLON:
		term = parse_object(p, head, potential_compr, loc);
		goto out;
	default:
		break;
	}

	rp_restore(p, s);
	head = rp_parse_term_infix_call_in_list(p);
	if (!head)
		goto out;
	switch (rp_tok(p)) {
	case TK_RBRACE:
	case TK_COMMA:
		term = parse_set(p, s, head, false, loc);
		goto out;
	case TK_COLON:
		/* Still maybe an object comprehension: {a + 1: b | ...}. */
		term = parse_object(p, head, potential_compr, loc);
		goto out;
	default:
		break;
	}
	rp_illegal(p, "non-terminated set");
out:
	rp_leave(p);
	return term;
}

/* ---- infix operators, loosest first ---- */

static const char *op_name(enum rego_tok t)
{
	switch (t) {
	case TK_EQUAL: return "equal";
	case TK_NEQ: return "neq";
	case TK_LT: return "lt";
	case TK_GT: return "gt";
	case TK_LTE: return "lte";
	case TK_GTE: return "gte";
	case TK_OR: return "or";
	case TK_AND: return "and";
	case TK_ADD: return "plus";
	case TK_SUB: return "minus";
	case TK_MUL: return "mul";
	case TK_QUO: return "div";
	case TK_REM: return "rem";
	case TK_ASSIGN: return "assign";
	case TK_UNIFY: return "eq";
	default: return NULL;
	}
}

/* Consumes an operator token among ops and returns its ref; NULL when the
 * current token is not one of them. */
struct rego_term *rp_parse_term_op(struct parser *p, const enum rego_tok *ops, size_t n)
{
	enum rego_tok t = rp_tok(p);
	struct rego_term *r;

	for (size_t i = 0; i < n; i++) {
		if (ops[i] != t)
			continue;
		r = rp_op_ref(p, op_name(t), NULL, rp_cur_loc(p));
		rp_scan(p);
		return r;
	}
	return NULL;
}

static struct rego_term *binary(struct parser *p, struct rego_term *op, struct rego_term *lhs,
				struct rego_term *rhs)
{
	struct rego_term **args;

	if (!op)
		return NULL;
	args = rp_alloc(p, 2 * sizeof(*args));
	if (!args)
		return NULL;
	args[0] = lhs;
	args[1] = rhs;
	return rp_new_call(p, op, args, 2, rp_loc_span(lhs->loc, p->s.last_end));
}

typedef struct rego_term *(*level_fn)(struct parser *p, struct rego_term *lhs);

/* One precedence level: lhs (op rhs)*, left-associative. */
static struct rego_term *level(struct parser *p, struct rego_term *lhs, const enum rego_tok *ops,
			       size_t n, level_fn below, bool term_operands)
{
	struct rego_term *op;
	struct rego_term *rhs;
	size_t folds = 0;

	if (!rp_enter(p))
		return NULL;
	if (!lhs)
		lhs = term_operands ? rp_parse_term(p) : below(p, NULL);
	while (lhs) {
		op = rp_parse_term_op(p, ops, n);
		if (!op)
			break;
		rhs = term_operands ? rp_parse_term(p) : below(p, NULL);
		if (!rhs)
			break;
		/* Each operator nests the tree one call deeper, and the later
		 * passes recurse over it, so it counts as a level of nesting. */
		if (!rp_enter(p)) {
			lhs = NULL;
			break;
		}
		folds++;
		lhs = binary(p, op, lhs, rhs);
	}
	for (; folds > 0; folds--)
		rp_leave(p);
	rp_leave(p);
	return lhs;
}

static const enum rego_tok factor_ops[] = { TK_MUL, TK_QUO, TK_REM };
static const enum rego_tok arith_ops[] = { TK_ADD, TK_SUB };
static const enum rego_tok and_ops[] = { TK_AND };
static const enum rego_tok or_ops[] = { TK_OR };
static const enum rego_tok rel_ops[] = { TK_EQUAL, TK_NEQ, TK_LT, TK_GT, TK_LTE, TK_GTE };

static struct rego_term *parse_factor(struct parser *p, struct rego_term *lhs)
{
	return level(p, lhs, factor_ops, WD_ARRAY_LEN(factor_ops), NULL, true);
}

static struct rego_term *parse_arith(struct parser *p, struct rego_term *lhs)
{
	return level(p, lhs, arith_ops, WD_ARRAY_LEN(arith_ops), parse_factor, false);
}

static struct rego_term *parse_and(struct parser *p, struct rego_term *lhs)
{
	return level(p, lhs, and_ops, WD_ARRAY_LEN(and_ops), parse_arith, false);
}

static struct rego_term *parse_or(struct parser *p, struct rego_term *lhs)
{
	return level(p, lhs, or_ops, WD_ARRAY_LEN(or_ops), parse_and, false);
}

static struct rego_term *parse_relation(struct parser *p, struct rego_term *lhs)
{
	return level(p, lhs, rel_ops, WD_ARRAY_LEN(rel_ops), parse_or, false);
}

static struct rego_term *member_call(struct parser *p, struct rego_term *op,
				     struct rego_term **args, size_t n)
{
	struct rego_term **copy = rp_alloc(p, n * sizeof(*copy));

	if (!copy || !op)
		return NULL;
	memcpy(copy, args, n * sizeof(*copy));
	return rp_new_call(p, op, copy, n, rp_loc_span(args[0]->loc, p->s.last_end));
}

/* `x in xs` and `k, v in xs`; the two-operand form is tried first where a
 * comma may start it (not inside collections and argument lists). */
static struct rego_term *parse_term_in(struct parser *p, struct rego_term *lhs, bool key_val)
{
	struct rego_term *args[3];
	struct rego_term *op;
	struct rego_term *rhs;
	struct rego_term *mhs;
	struct rego_term *call;
	struct pstate s;

	if (!rp_enter(p))
		return NULL;
	while (true) {
		if (!lhs)
			lhs = parse_relation(p, NULL);
		if (!lhs)
			break;

		if (key_val && rp_tok(p) == TK_COMMA) {
			s = rp_save(p);
			rp_scan(p);
			mhs = parse_relation(p, NULL);
			if (mhs && rp_tok(p) == TK_IN) {
				op = rp_op_ref(p, "internal", "member_3", rp_cur_loc(p));
				rp_scan(p);
				rhs = parse_relation(p, NULL);
				if (rhs) {
					args[0] = lhs;
					args[1] = mhs;
					args[2] = rhs;
					call = member_call(p, op, args, 3);
					if (call && rp_tok(p) == TK_IN) {
						lhs = call;
						continue;
					}
					lhs = call;
					break;
				}
			}
			rp_restore(p, s);
		}

		/* A keyword glued to `.` or `[` is a ref, not an operator. */
		if (rego_tok_is_keyword(rp_tok(p))) {
			enum rego_tok next = rp_peek_ws(p);

			if (next == TK_DOT || next == TK_LBRACK)
				p->s.as_ident = true;
		}
		if (rp_tok(p) != TK_IN)
			break;
		op = rp_op_ref(p, "internal", "member_2", rp_cur_loc(p));
		rp_scan(p);
		rhs = parse_relation(p, NULL);
		if (!rhs)
			break;
		args[0] = lhs;
		args[1] = rhs;
		call = member_call(p, op, args, 2);
		lhs = call;
		if (!call || rp_tok(p) != TK_IN)
			break;
	}
	rp_leave(p);
	return lhs;
}

struct rego_term *rp_parse_term_infix_call(struct parser *p)
{
	struct rego_term *t;

	if (!rp_enter(p))
		return NULL;
	t = parse_term_in(p, NULL, true);
	rp_leave(p);
	return t;
}

struct rego_term *rp_parse_term_infix_call_in_list(struct parser *p)
{
	struct rego_term *t;

	if (!rp_enter(p))
		return NULL;
	t = parse_term_in(p, NULL, false);
	rp_leave(p);
	return t;
}
