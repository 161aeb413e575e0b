/* The functions text/template predefines (not, len, index, eq, print, html,
 * ...), over strings.render_template's values, with Go's error texts. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "policy/bi_str_util.h"
#include "policy/bi_tmpl_value.h"

struct fctx {
	struct tv_pool *pool;
	const struct tmpl_call *call;
	struct wd_buf *err;
	const struct tmpl *t;
};

/* Records an execution error at the command; with_prefix adds Go's
 * "error calling NAME: " that wraps a function's own error. */
static int ferr(struct fctx *f, bool with_prefix, const char *fmt, ...) WD_PRINTF(3, 4);
static int ferr(struct fctx *f, bool with_prefix, const char *fmt, ...)
{
	va_list ap;
	char msg[512];
	int rc;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rc = wd_buf_append_str(f->err, "template: ");
	if (rc == 0)
		rc = tmpl_location(f->t, f->call->pos, true, f->err);
	if (rc == 0)
		rc = wd_buf_appendf(f->err, ": executing \"template\" at <%.*s>: %s%s%s",
				    (int)f->call->text_len, f->call->text,
				    with_prefix ? "error calling " : "", with_prefix ? f->call->name : "",
				    with_prefix ? ": " : "");
	if (rc == 0)
		rc = wd_buf_append_str(f->err, msg);
	return rc < 0 ? rc : WD_EINVAL;
}

static int want_args(struct fctx *f, size_t min, size_t max)
{
	size_t n = f->call->nargs;

	if (n >= min && n <= max)
		return 0;
	if (min == max)
		return ferr(f, false, "wrong number of args for %s: want %zu got %zu", f->call->name,
			    min, n);
	return ferr(f, false, "wrong number of args for %s: want at least %zu got %zu",
		    f->call->name, min, n);
}

/* Functions whose parameters are reflect.Value reject a missing value. */
static int want_valid(struct fctx *f)
{
	for (size_t i = 0; i < f->call->nargs; i++)
		if (f->call->args[i].kind == TV_INVALID)
			return ferr(f, false, "invalid value; expected reflect.Value");
	return 0;
}

static int ret_string(struct fctx *f, struct wd_buf *buf, struct tv *ret)
{
	char *s = tv_pool_keep(f->pool, wd_buf_str(buf), wd_buf_len(buf));

	if (!s)
		return WD_ENOMEM;
	*ret = (struct tv){ .kind = TV_STRING, .s = s, .len = wd_buf_len(buf) };
	return 0;
}

/* ---- comparison ---- */

enum basic { B_INVALID, B_BOOL, B_INT, B_FLOAT, B_STRING };

static enum basic basic_kind(struct tv v)
{
	switch (v.kind) {
	case TV_BOOL: return B_BOOL;
	case TV_INT: return B_INT;
	case TV_FLOAT: return B_FLOAT;
	case TV_STRING: case TV_JNUM: return B_STRING;
	default: return B_INVALID;
	}
}

static int compare_strings(struct tv a, struct tv b)
{
	size_t n = a.len < b.len ? a.len : b.len;
	int c = n ? memcmp(a.s, b.s, n) : 0;

	if (c)
		return c;
	return a.len < b.len ? -1 : a.len > b.len;
}

/* Go's eq: arg1 equals any of the others. */
static int fn_eq(struct fctx *f, bool *ret)
{
	const struct tv *a = f->call->args;
	enum basic k1 = basic_kind(a[0]);

	*ret = false;
	if (f->call->nargs < 2)
		return ferr(f, true, "missing argument for comparison");
	for (size_t i = 1; i < f->call->nargs; i++) {
		enum basic k2 = basic_kind(a[i]);
		bool nil1 = a[0].kind == TV_NIL, nil2 = a[i].kind == TV_NIL;

		if (k1 != k2) {
			if (!nil1 && !nil2)
				return ferr(f, true, "incompatible types for comparison");
			continue;
		}
		switch (k1) {
		case B_BOOL: *ret = a[0].b == a[i].b; break;
		case B_INT: *ret = a[0].i == a[i].i; break;
		case B_FLOAT: *ret = a[0].f == a[i].f; break;
		case B_STRING: *ret = compare_strings(a[0], a[i]) == 0; break;
		case B_INVALID:
			if (nil1 || nil2) {
				*ret = nil1 == nil2;
				break;
			}
			return ferr(f, true, "non-comparable type %s: %s", tv_type_name(a[i]),
				    tv_type_name(a[i]));
		}
		if (*ret)
			return 0;
	}
	return 0;
}

/* Go's lt: only basic values of one kind, and no booleans. */
static int fn_lt(struct fctx *f, bool *ret)
{
	struct tv a = f->call->args[0], b = f->call->args[1];
	enum basic k1 = basic_kind(a), k2 = basic_kind(b);

	if (k1 == B_INVALID || k2 == B_INVALID || k1 == B_BOOL || k2 == B_BOOL)
		return ferr(f, true, "invalid type for comparison");
	if (k1 != k2)
		return ferr(f, true, "incompatible types for comparison");
	if (k1 == B_INT)
		*ret = a.i < b.i;
	else if (k1 == B_FLOAT)
		*ret = a.f < b.f;
	else
		*ret = compare_strings(a, b) < 0;
	return 0;
}

static int call_compare(struct fctx *f, struct tv *ret)
{
	const char *name = f->call->name;
	bool lt = false, eq = false;

	WD_TRY(want_valid(f));
	if (strcmp(name, "eq") == 0 || strcmp(name, "ne") == 0) {
		WD_TRY(want_args(f, 1, SIZE_MAX));
		WD_TRY(fn_eq(f, &eq));
		*ret = (struct tv){ .kind = TV_BOOL, .b = name[0] == 'e' ? eq : !eq };
		return 0;
	}
	WD_TRY(want_args(f, 2, 2));
	WD_TRY(fn_lt(f, &lt));
	if (strcmp(name, "lt") == 0) {
		*ret = (struct tv){ .kind = TV_BOOL, .b = lt };
		return 0;
	}

	/* le and gt also need equality, computed on the same two values. */
	{
		struct tmpl_call two = *f->call;
		struct fctx g = *f;

		two.nargs = 2;
		g.call = &two;
		WD_TRY(fn_eq(&g, &eq));
	}
	if (strcmp(name, "le") == 0)
		*ret = (struct tv){ .kind = TV_BOOL, .b = lt || eq };
	else if (strcmp(name, "gt") == 0)
		*ret = (struct tv){ .kind = TV_BOOL, .b = !lt && !eq };
	else
		*ret = (struct tv){ .kind = TV_BOOL, .b = !lt };
	return 0;
}

/* ---- len, index, slice ---- */

static int fn_len(struct fctx *f, struct tv *ret)
{
	struct tv v = f->call->args[0];
	size_t n;

	switch (v.kind) {
	case TV_STRING: case TV_JNUM: n = v.len; break;
	case TV_ARRAY: n = rv_array_len(v.rv); break;
	case TV_MAP: n = rv_len(v.rv); break;
	case TV_NIL: return ferr(f, true, "len of nil pointer");
	default: return ferr(f, true, "len of type %s", tv_type_name(v));
	}
	*ret = (struct tv){ .kind = TV_INT, .i = (int64_t)n };
	return 0;
}

/* Go's indexArg: an integer index within cap. */
static int index_arg(struct fctx *f, struct tv idx, size_t cap, int64_t *ret)
{
	if (idx.kind == TV_NIL)
		return ferr(f, true, "cannot index slice/array with nil");
	if (idx.kind != TV_INT)
		return ferr(f, true, "cannot index slice/array with type %s", tv_type_name(idx));
	if (idx.i < 0 || (uint64_t)idx.i > cap)
		return ferr(f, true, "index out of range: %" PRId64, idx.i);
	*ret = idx.i;
	return 0;
}

static int fn_index(struct fctx *f, struct tv *ret)
{
	struct tv item = f->call->args[0];

	for (size_t i = 1; i < f->call->nargs; i++) {
		struct tv idx = f->call->args[i];
		int64_t x;

		switch (item.kind) {
		case TV_ARRAY:
			WD_TRY(index_arg(f, idx, rv_array_len(item.rv), &x));
			if ((size_t)x == rv_array_len(item.rv))
				return ferr(f, true, "index out of range: %" PRId64, x);
			WD_TRY(tv_from_rv(f->pool, rv_array_at(item.rv, (size_t)x), &item));
			break;
		case TV_STRING: case TV_JNUM:
			WD_TRY(index_arg(f, idx, item.len, &x));
			if ((size_t)x == item.len)
				return ferr(f, true, "index out of range: %" PRId64, x);
			item = (struct tv){ .kind = TV_INT, .i = (unsigned char)item.s[x] };
			break;
		case TV_MAP: {
			struct rv *value;

			if (idx.kind != TV_STRING) {
				if (idx.kind == TV_NIL)
					return ferr(f, true, "value is nil; should be of type string");
				return ferr(f, true, "value has type %s; should be string",
					    tv_type_name(idx));
			}
			value = rv_object_get_str(item.rv, idx.s);
			if (!value || strlen(idx.s) != idx.len) {
				item = (struct tv){ .kind = TV_NIL };
				break;
			}
			WD_TRY(tv_from_rv(f->pool, value, &item));
			break;
		}
		case TV_NIL:
			return ferr(f, true, "index of untyped nil");
		default:
			return ferr(f, true, "can't index item of type %s", tv_type_name(item));
		}
	}
	*ret = item;
	return 0;
}

static int fn_slice(struct fctx *f, struct tv *ret)
{
	struct tv item = f->call->args[0];
	size_t n = f->call->nargs - 1;
	int64_t idx[3] = { 0, 0, 0 };

	if (item.kind == TV_NIL)
		return ferr(f, true, "slice of untyped nil");
	if (n > 3)
		return ferr(f, true, "too many slice indexes: %zu", n);
	if (item.kind != TV_STRING && item.kind != TV_JNUM) {
		/* TODO: slices of arrays need a new value for each result. */
		return ferr(f, true, "can't slice item of type %s", tv_type_name(item));
	}
	if (n == 3)
		return ferr(f, true, "cannot 3-index slice a string");
	idx[1] = (int64_t)item.len;
	for (size_t i = 0; i < n; i++)
		WD_TRY(index_arg(f, f->call->args[i + 1], item.len, &idx[i]));
	if (idx[0] > idx[1])
		return ferr(f, true, "invalid slice index: %" PRId64 " > %" PRId64, idx[0], idx[1]);
	*ret = (struct tv){ .kind = TV_STRING, .s = item.s + idx[0],
			    .len = (size_t)(idx[1] - idx[0]) };
	return 0;
}

/* ---- printing ---- */

static bool is_string_kind(struct tv v)
{
	return v.kind == TV_STRING || v.kind == TV_JNUM;
}

/* fmt.Sprint, where a missing value is a nil interface; Sprintln puts a
 * space between all operands and a newline at the end. */
static int sprint(const struct tv *args, size_t n, bool line, struct wd_buf *out)
{
	for (size_t i = 0; i < n; i++) {
		struct tv v = args[i].kind == TV_INVALID ? (struct tv){ .kind = TV_NIL } : args[i];

		if (i > 0 && (line || (!is_string_kind(v) && !is_string_kind(args[i - 1]))))
			WD_TRY(wd_buf_append_byte(out, ' '));
		WD_TRY(tv_print(v, out));
	}
	return line ? wd_buf_append_byte(out, '\n') : 0;
}

/* fmt.Sprintf for the verbs %v, %s, %d, %t, %q and %%.
 * TODO: widths, flags and the other verbs print as %v. */
static int sprintf_go(const struct tv *args, size_t n, struct wd_buf *out)
{
	const char *fmt = args[0].s;
	size_t flen = args[0].len, next = 1;

	for (size_t i = 0; i < flen; i++) {
		char verb;
		struct tv v;

		if (fmt[i] != '%') {
			WD_TRY(wd_buf_append_byte(out, (uint8_t)fmt[i]));
			continue;
		}
		while (i + 1 < flen && strchr("+-# 0123456789.", fmt[i + 1]))
			i++;
		if (++i >= flen) {
			WD_TRY(wd_buf_append_str(out, "%!(NOVERB)"));
			break;
		}
		verb = fmt[i];
		if (verb == '%') {
			WD_TRY(wd_buf_append_byte(out, '%'));
			continue;
		}
		if (next >= n) {
			WD_TRY(wd_buf_appendf(out, "%%!%c(MISSING)", verb));
			continue;
		}
		v = args[next++];
		if (v.kind == TV_INVALID)
			v.kind = TV_NIL;
		if (verb == 'q' && is_string_kind(v)) {
			char *copy = strndup(v.s, v.len);
			int rc;

			if (!copy)
				return WD_ENOMEM;
			rc = wd_buf_append_byte(out, '"');
			for (size_t k = 0; rc == 0 && k < v.len; k++) {
				unsigned char c = (unsigned char)copy[k];

				if (c == '"' || c == '\\')
					rc = wd_buf_appendf(out, "\\%c", c);
				else if (c == '\n')
					rc = wd_buf_append_str(out, "\\n");
				else if (c == '\t')
					rc = wd_buf_append_str(out, "\\t");
				else if (c < 0x20 || c == 0x7f)
					rc = wd_buf_appendf(out, "\\x%02x", c);
				else
					rc = wd_buf_append_byte(out, c);
			}
			free(copy);
			WD_TRY(rc);
			WD_TRY(wd_buf_append_byte(out, '"'));
			continue;
		}
		if ((verb == 'd' && v.kind != TV_INT) || (verb == 't' && v.kind != TV_BOOL) ||
		    (verb == 's' && !is_string_kind(v) && v.kind != TV_ARRAY && v.kind != TV_MAP)) {
			WD_TRY(wd_buf_appendf(out, "%%!%c(%s=", verb,
					      v.kind == TV_NIL ? "<nil>" : tv_type_name(v)));
			if (v.kind != TV_NIL)
				WD_TRY(tv_print(v, out));
			WD_TRY(wd_buf_append_byte(out, ')'));
			if (v.kind == TV_NIL) {
				/* Go prints "%!d(<nil>)" for a nil operand. */
				wd_buf_truncate(out, wd_buf_len(out) - strlen("<nil>=)"));
				WD_TRY(wd_buf_append_str(out, "<nil>)"));
			}
			continue;
		}
		WD_TRY(tv_print(v, out));
	}
	if (next < n) {
		WD_TRY(wd_buf_append_str(out, "%!(EXTRA "));
		for (size_t k = next; k < n; k++) {
			struct tv v = args[k].kind == TV_INVALID ? (struct tv){ .kind = TV_NIL } :
								    args[k];

			if (k > next)
				WD_TRY(wd_buf_append_str(out, ", "));
			if (v.kind == TV_NIL) {
				WD_TRY(wd_buf_append_str(out, "<nil>"));
				continue;
			}
			WD_TRY(wd_buf_appendf(out, "%s=", tv_type_name(v)));
			WD_TRY(tv_print(v, out));
		}
		WD_TRY(wd_buf_append_byte(out, ')'));
	}
	return 0;
}

/* html, js and urlquery escape fmt.Sprint of their operands. */
static int escape_html(const char *s, size_t len, struct wd_buf *out)
{
	for (size_t i = 0; i < len; i++) {
		switch (s[i]) {
		case '<': WD_TRY(wd_buf_append_str(out, "&lt;")); break;
		case '>': WD_TRY(wd_buf_append_str(out, "&gt;")); break;
		case '&': WD_TRY(wd_buf_append_str(out, "&amp;")); break;
		case '\'': WD_TRY(wd_buf_append_str(out, "&#39;")); break;
		case '"': WD_TRY(wd_buf_append_str(out, "&#34;")); break;
		case '\0': WD_TRY(wd_buf_append_str(out, "\xef\xbf\xbd")); break;
		default: WD_TRY(wd_buf_append_byte(out, (uint8_t)s[i]));
		}
	}
	return 0;
}

static int escape_js(const char *s, size_t len, struct wd_buf *out)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '\\': WD_TRY(wd_buf_append_str(out, "\\\\")); break;
		case '\'': WD_TRY(wd_buf_append_str(out, "\\'")); break;
		case '"': WD_TRY(wd_buf_append_str(out, "\\\"")); break;
		case '<': WD_TRY(wd_buf_append_str(out, "\\u003C")); break;
		case '>': WD_TRY(wd_buf_append_str(out, "\\u003E")); break;
		case '&': WD_TRY(wd_buf_append_str(out, "\\u0026")); break;
		case '=': WD_TRY(wd_buf_append_str(out, "\\u003D")); break;
		default:
			if (c < ' ')
				WD_TRY(wd_buf_appendf(out, "\\u%04X", c));
			else
				WD_TRY(wd_buf_append_byte(out, c));
		}
	}
	return 0;
}

static int escape_query(const char *s, size_t len, struct wd_buf *out)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~')
			WD_TRY(wd_buf_append_byte(out, c));
		else if (c == ' ')
			WD_TRY(wd_buf_append_byte(out, '+'));
		else
			WD_TRY(wd_buf_appendf(out, "%%%02X", c));
	}
	return 0;
}

static int call_print(struct fctx *f, struct tv *ret)
{
	const char *name = f->call->name;
	struct wd_buf text, escaped;
	int rc;

	wd_buf_init(&text, 64, BI_STR_MAX);
	wd_buf_init(&escaped, 64, BI_STR_MAX);
	if (strcmp(name, "printf") == 0) {
		rc = want_args(f, 1, SIZE_MAX);
		if (rc == 0 && f->call->args[0].kind != TV_STRING)
			rc = ferr(f, false, "wrong type for value; expected string; got %s",
				  tv_type_name(f->call->args[0]));
		if (rc == 0)
			rc = sprintf_go(f->call->args, f->call->nargs, &text);
	} else {
		rc = sprint(f->call->args, f->call->nargs, strcmp(name, "println") == 0, &text);
	}
	if (rc == 0 && strcmp(name, "html") == 0)
		rc = escape_html(wd_buf_str(&text), wd_buf_len(&text), &escaped);
	else if (rc == 0 && strcmp(name, "js") == 0)
		rc = escape_js(wd_buf_str(&text), wd_buf_len(&text), &escaped);
	else if (rc == 0 && strcmp(name, "urlquery") == 0)
		rc = escape_query(wd_buf_str(&text), wd_buf_len(&text), &escaped);
	else if (rc == 0)
		rc = wd_buf_append(&escaped, wd_buf_str(&text), wd_buf_len(&text));
	if (rc == 0)
		rc = ret_string(f, &escaped, ret);
	wd_buf_free(&text);
	wd_buf_free(&escaped);
	return rc;
}

int tmpl_call_func(struct tv_pool *pool, const struct tmpl_call *call, struct wd_buf *err,
		   const struct tmpl *t, struct tv *ret)
{
	struct fctx f = { .pool = pool, .call = call, .err = err, .t = t };
	const char *name = call->name;

	*ret = (struct tv){ .kind = TV_INVALID };
	if (!strcmp(name, "print") || !strcmp(name, "println") || !strcmp(name, "printf") ||
	    !strcmp(name, "html") || !strcmp(name, "js") || !strcmp(name, "urlquery"))
		return call_print(&f, ret);
	if (!strcmp(name, "eq") || !strcmp(name, "ne") || !strcmp(name, "lt") ||
	    !strcmp(name, "le") || !strcmp(name, "gt") || !strcmp(name, "ge"))
		return call_compare(&f, ret);

	WD_TRY(want_valid(&f));
	if (!strcmp(name, "not")) {
		WD_TRY(want_args(&f, 1, 1));
		*ret = (struct tv){ .kind = TV_BOOL, .b = !tv_truth(call->args[0]) };
		return 0;
	}
	if (!strcmp(name, "len")) {
		WD_TRY(want_args(&f, 1, 1));
		return fn_len(&f, ret);
	}
	if (!strcmp(name, "index")) {
		WD_TRY(want_args(&f, 1, SIZE_MAX));
		return fn_index(&f, ret);
	}
	if (!strcmp(name, "slice")) {
		WD_TRY(want_args(&f, 1, SIZE_MAX));
		return fn_slice(&f, ret);
	}
	if (!strcmp(name, "call")) {
		WD_TRY(want_args(&f, 1, SIZE_MAX));
		if (call->args[0].kind == TV_NIL)
			return ferr(&f, true, "call of nil");
		return ferr(&f, true, "non-function of type %s", tv_type_name(call->args[0]));
	}
	return ferr(&f, false, "function %s not defined", name);
}
