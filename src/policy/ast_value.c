/* A module as OPA's JSON AST (the value rego.parse_module returns): terms
 * as {"type", "value"}, expressions, rules, imports and the package, without
 * locations as OPA's default JSON options leave them out. */
#include <stdlib.h>
#include <string.h>

#include "common/encoding.h"
#include "common/error.h"
#include "policy/ast.h"
#include "policy/lexer.h"

static struct rv *term_value(const struct rego_term *t);
static struct rv *body_value(const struct rego_body *b);

/* Puts key -> value into obj; value NULL fails (memory ran out). */
static int put(struct rv *obj, const char *key, struct rv *value)
{
	struct rv *k;

	if (!value)
		return WD_ENOMEM;
	k = rv_cstring(key);
	if (!k) {
		rv_unref(value);
		return WD_ENOMEM;
	}
	return rv_object_put(obj, k, value);
}

/* {"type": type, "value": value}; takes value. */
static struct rv *typed(const char *type, struct rv *value)
{
	struct rv *obj = rv_object_new(2);

	if (!obj || !value || put(obj, "type", rv_cstring(type)) < 0 ||
	    put(obj, "value", value) < 0) {
		if (!obj)
			rv_unref(value);
		rv_unref(obj);
		return NULL;
	}
	return obj;
}

/* A JSON array of the terms' values. */
static struct rv *terms_array(struct rego_term *const *items, size_t len)
{
	struct rv *arr = rv_array_new(len);

	for (size_t i = 0; arr && i < len; i++) {
		if (rv_array_push(arr, term_value(items[i])) < 0) {
			rv_unref(arr);
			return NULL;
		}
	}
	return arr;
}

/* A constant value as a term; composite constants come from folding. */
static struct rv *constant_value(const struct rv *v)
{
	struct rv *arr;

	switch (rv_kind_of(v)) {
	case RV_NULL:
		return typed("null", rv_null());
	case RV_BOOL:
		return typed("boolean", rv_ref((struct rv *)v));
	case RV_NUMBER:
		return typed("number", rv_ref((struct rv *)v));
	case RV_STRING:
		return typed("string", rv_ref((struct rv *)v));
	case RV_ARRAY:
	case RV_SET:
		arr = rv_array_new(rv_count(v));
		for (size_t i = 0; arr && i < rv_count(v); i++) {
			struct rv *item, *unused;

			if (rv_is(v, RV_ARRAY))
				item = rv_array_at(v, i);
			else
				rv_map_sorted_at(v, i, &item, &unused);
			if (rv_array_push(arr, constant_value(item)) < 0) {
				rv_unref(arr);
				return NULL;
			}
		}
		return typed(rv_is(v, RV_ARRAY) ? "array" : "set", arr);
	default:
		arr = rv_array_new(rv_len(v));
		for (size_t i = 0; arr && i < rv_len(v); i++) {
			struct rv *k, *val, *pair = rv_array_new(2);

			rv_map_at(v, i, &k, &val);
			if (rv_array_push(arr, pair) < 0 ||
			    rv_array_push(pair, constant_value(k)) < 0 ||
			    rv_array_push(pair, constant_value(val)) < 0) {
				rv_unref(arr);
				return NULL;
			}
		}
		return typed("object", arr);
	}
}

/* An object as OPA writes it: an array of [key, value] pairs. */
static struct rv *object_pairs(const struct rego_term *t)
{
	struct rv *arr = rv_array_new(t->u.obj.len);

	for (size_t i = 0; arr && i < t->u.obj.len; i++) {
		struct rv *pair = rv_array_new(2);

		if (rv_array_push(arr, pair) < 0 ||
		    rv_array_push(pair, term_value(t->u.obj.keys[i])) < 0 ||
		    rv_array_push(pair, term_value(t->u.obj.values[i])) < 0) {
			rv_unref(arr);
			return NULL;
		}
	}
	return arr;
}

static struct rv *comprehension(const struct rego_term *t)
{
	struct rv *obj = rv_object_new(3);

	if (!obj)
		return NULL;
	if (t->kind == RT_OBJECT_COMPR) {
		if (put(obj, "key", term_value(t->u.compr.key)) < 0 ||
		    put(obj, "value", term_value(t->u.compr.head)) < 0)
			goto fail;
	} else if (put(obj, "term", term_value(t->u.compr.head)) < 0) {
		goto fail;
	}
	if (put(obj, "body", body_value(t->u.compr.body)) < 0)
		goto fail;
	return obj;
fail:
	rv_unref(obj);
	return NULL;
}

/* The call's operator followed by its arguments. */
static struct rv *call_terms(const struct rego_term *t)
{
	struct rv *arr = rv_array_new(t->u.call.len + 1);

	if (!arr || rv_array_push(arr, term_value(t->u.call.op)) < 0)
		return NULL;
	for (size_t i = 0; i < t->u.call.len; i++) {
		if (rv_array_push(arr, term_value(t->u.call.args[i])) < 0) {
			rv_unref(arr);
			return NULL;
		}
	}
	return arr;
}

static struct rv *term_value(const struct rego_term *t)
{
	if (!t)
		return NULL;
	switch (t->kind) {
	case RT_VALUE:
		return constant_value(t->u.value);
	case RT_VAR:
		return typed("var", rv_cstring(t->u.var.name));
	case RT_REF:
		return typed("ref", terms_array(t->u.ref.items, t->u.ref.len));
	case RT_ARRAY:
		return typed("array", terms_array(t->u.coll.items, t->u.coll.len));
	case RT_SET:
		return typed("set", terms_array(t->u.coll.items, t->u.coll.len));
	case RT_OBJECT:
		return typed("object", object_pairs(t));
	case RT_ARRAY_COMPR:
		return typed("arraycomprehension", comprehension(t));
	case RT_SET_COMPR:
		return typed("setcomprehension", comprehension(t));
	case RT_OBJECT_COMPR:
		return typed("objectcomprehension", comprehension(t));
	case RT_CALL:
		return typed("call", call_terms(t));
	case RT_TEMPLATE:
		/* NOTE: written as the list of its parts; OPA's JSON shape for
		 * string templates is not matched. */
		return typed("templatestring", terms_array(t->u.tmpl.parts, t->u.tmpl.len));
	}
	return NULL;
}

/* `some x in xs` is a declaration of the call internal.member_2(x, xs)
 * (member_3 with a key), as OPA stores it. */
static struct rv *some_in_symbols(const struct rego_expr *e)
{
	struct rv *call = rv_array_new(4);
	struct rv *op = rv_array_new(2);
	struct rv *symbols;
	bool key = e->u.some_in.key != NULL;

	if (!call || !op)
		goto fail;
	if (rv_array_push(op, typed("var", rv_cstring("internal"))) < 0 ||
	    rv_array_push(op, typed("string", rv_cstring(key ? "member_3" : "member_2"))) < 0)
		goto fail;
	if (rv_array_push(call, typed("ref", op)) < 0) {
		op = NULL;
		goto fail;
	}
	op = NULL;
	if ((key && rv_array_push(call, term_value(e->u.some_in.key)) < 0) ||
	    rv_array_push(call, term_value(e->u.some_in.value)) < 0 ||
	    rv_array_push(call, term_value(e->u.some_in.domain)) < 0)
		goto fail;
	symbols = rv_array_new(1);
	if (rv_array_push(symbols, typed("call", call)) < 0) {
		rv_unref(symbols);
		return NULL;
	}
	return symbols;
fail:
	rv_unref(op);
	rv_unref(call);
	return NULL;
}

static struct rv *expr_terms(const struct rego_expr *e)
{
	struct rv *obj;

	switch (e->kind) {
	case RE_TERM:
		if (e->u.term->kind == RT_CALL)
			return call_terms(e->u.term);
		return term_value(e->u.term);
	case RE_SOME_DECL:
		obj = rv_object_new(1);
		if (obj && put(obj, "symbols", terms_array(e->u.decl.vars, e->u.decl.len)) < 0) {
			rv_unref(obj);
			return NULL;
		}
		return obj;
	case RE_SOME_IN:
		obj = rv_object_new(1);
		if (obj && put(obj, "symbols", some_in_symbols(e)) < 0) {
			rv_unref(obj);
			return NULL;
		}
		return obj;
	case RE_EVERY:
		obj = rv_object_new(4);
		if (!obj)
			return NULL;
		if (put(obj, "key", e->u.every.key ? term_value(e->u.every.key) : rv_null()) < 0 ||
		    put(obj, "value", term_value(e->u.every.value)) < 0 ||
		    put(obj, "domain", term_value(e->u.every.domain)) < 0 ||
		    put(obj, "body", body_value(e->u.every.body)) < 0) {
			rv_unref(obj);
			return NULL;
		}
		return obj;
	}
	return NULL;
}

static struct rv *with_value(const struct rego_with *w)
{
	struct rv *obj = rv_object_new(2);

	if (obj && (put(obj, "target", term_value(w->target)) < 0 ||
		    put(obj, "value", term_value(w->value)) < 0)) {
		rv_unref(obj);
		return NULL;
	}
	return obj;
}

static struct rv *expr_value(const struct rego_expr *e, size_t index)
{
	struct rv *obj = rv_object_new(4);

	if (!obj)
		return NULL;
	if (put(obj, "index", rv_int((int64_t)index)) < 0 || put(obj, "terms", expr_terms(e)) < 0)
		goto fail;
	if (e->negated && put(obj, "negated", rv_bool(true)) < 0)
		goto fail;
	if (e->with_len > 0) {
		struct rv *with = rv_array_new(e->with_len);

		for (size_t i = 0; with && i < e->with_len; i++) {
			if (rv_array_push(with, with_value(e->with[i])) < 0) {
				rv_unref(with);
				with = NULL;
			}
		}
		if (put(obj, "with", with) < 0)
			goto fail;
	}
	return obj;
fail:
	rv_unref(obj);
	return NULL;
}

/* A body; an empty one is OPA's generated body `true`. */
static struct rv *body_value(const struct rego_body *b)
{
	struct rv *arr = rv_array_new(b ? b->len : 1);

	if (!arr)
		return NULL;
	if (!b || b->len == 0) {
		struct rv *expr = rv_object_new(2);

		if (rv_array_push(arr, expr) < 0 || put(expr, "index", rv_int(0)) < 0 ||
		    put(expr, "terms", typed("boolean", rv_bool(true))) < 0) {
			rv_unref(arr);
			return NULL;
		}
		return arr;
	}
	for (size_t i = 0; i < b->len; i++) {
		if (rv_array_push(arr, expr_value(b->exprs[i], i)) < 0) {
			rv_unref(arr);
			return NULL;
		}
	}
	return arr;
}

/* The head as OPA writes it: ref always; name for a one-part ref (and the
 * `p[k] := v` form); key, value, args and assign when present. */
static struct rv *head_value(const struct rego_rule *r, const struct rego_term *value)
{
	const struct rego_term *ref = r->head_ref;
	struct rv *obj = rv_object_new(6);
	bool name = ref->u.ref.len == 1 || (r->kind == RR_PARTIAL_OBJ && ref->u.ref.len == 2);

	if (!obj || put(obj, "ref", terms_array(ref->u.ref.items, ref->u.ref.len)) < 0)
		goto fail;
	if (name && put(obj, "name", rv_cstring(ref->u.ref.items[0]->u.var.name)) < 0)
		goto fail;
	if (r->key && (r->kind == RR_PARTIAL_SET || ref->u.ref.len == 2) &&
	    put(obj, "key", term_value(r->key)) < 0)
		goto fail;
	if (value && put(obj, "value", term_value(value)) < 0)
		goto fail;
	if (r->args_len > 0 && put(obj, "args", terms_array(r->args, r->args_len)) < 0)
		goto fail;
	if (r->assign && put(obj, "assign", rv_bool(true)) < 0)
		goto fail;
	return obj;
fail:
	rv_unref(obj);
	return NULL;
}

/* An annotation as OPA's JSON writes it: authors always carry a name, and
 * schema paths are refs of terms. */
static struct rv *ref_of_parts(const struct rv *parts)
{
	struct rv *arr = rv_array_new(rv_array_len(parts));

	for (size_t i = 0; arr && i < rv_array_len(parts); i++) {
		struct rv *part = rv_array_at(parts, i);
		struct rv *t = i == 0 ? typed("var", rv_ref(part)) : constant_value(part);

		if (rv_array_push(arr, t) < 0) {
			rv_unref(arr);
			return NULL;
		}
	}
	return arr;
}

static struct rv *annotation_json(const struct rv *a)
{
	struct rv *obj = rv_object_new(rv_len(a));

	for (size_t i = 0; obj && i < rv_len(a); i++) {
		struct rv *k, *v, *out = NULL;

		rv_map_at(a, i, &k, &v);
		if (strcmp(rv_str(k), "authors") == 0 || strcmp(rv_str(k), "schemas") == 0) {
			bool authors = rv_str(k)[0] == 'a';

			out = rv_array_new(rv_array_len(v));
			for (size_t j = 0; out && j < rv_array_len(v); j++) {
				struct rv *src = rv_array_at(v, j);
				struct rv *entry = rv_object_new(3);

				for (size_t m = 0; entry && m < rv_len(src); m++) {
					struct rv *ek, *ev;

					rv_map_at(src, m, &ek, &ev);
					if (!authors && strcmp(rv_str(ek), "definition") != 0)
						ev = ref_of_parts(ev);
					else
						ev = rv_ref(ev);
					if (rv_object_put(entry, rv_ref(ek), ev) < 0) {
						rv_unref(entry);
						entry = NULL;
					}
				}
				if (entry && authors && !rv_object_get_str(entry, "name") &&
				    put(entry, "name", rv_cstring("")) < 0) {
					rv_unref(entry);
					entry = NULL;
				}
				if (rv_array_push(out, entry) < 0) {
					rv_unref(out);
					out = NULL;
				}
			}
		} else {
			out = rv_ref(v);
		}
		if (!out || rv_object_put(obj, rv_ref(k), out) < 0) {
			rv_unref(obj);
			return NULL;
		}
	}
	return obj;
}

/* Appends the JSON form of each annotation in list to into; takes into
 * and returns it, or NULL when memory runs out. */
static struct rv *annotations_json(const struct rv *list, struct rv *into)
{
	for (size_t i = 0; into && list && i < rv_array_len(list); i++) {
		if (rv_array_push(into, annotation_json(rv_array_at(list, i))) < 0) {
			rv_unref(into);
			return NULL;
		}
	}
	return into;
}

/* True when the else branch at el assigns its value with `:=`; the tree
 * does not keep the operator, so the source text after `else` shows it. */
static bool else_assigns(const struct rego_module *m, const struct rego_else *el)
{
	size_t i = (size_t)el->loc.offset + 4;

	if (!m || !m->source || i > m->source_len)
		return false;
	while (i < m->source_len && (m->source[i] == ' ' || m->source[i] == '\t' ||
				     m->source[i] == '\n' || m->source[i] == '\r'))
		i++;
	return i + 1 < m->source_len && m->source[i] == ':' && m->source[i + 1] == '=';
}

static struct rv *else_value(const struct rego_rule *r, const struct rego_else *el)
{
	struct rego_rule head = *r;
	struct rego_term implicit_true = { .kind = RT_VALUE, .u.value = rv_bool(true) };
	const struct rego_term *value = el->value ? el->value : &implicit_true;
	struct rv *obj = rv_object_new(3);

	/* OPA copies the rule's head for each else branch and sets assign
	 * from the branch's own operator. */
	head.assign = el->value ? else_assigns(r->module, el) : r->assign;
	if (!obj || put(obj, "head", head_value(&head, value)) < 0 ||
	    put(obj, "body", body_value(el->body)) < 0)
		goto fail;
	if (el->next && put(obj, "else", else_value(r, el->next)) < 0)
		goto fail;
	return obj;
fail:
	rv_unref(obj);
	return NULL;
}

static struct rv *rule_value(const struct rego_rule *r)
{
	struct rv *obj = rv_object_new(5);

	if (!obj || put(obj, "head", head_value(r, r->value)) < 0 ||
	    put(obj, "body", body_value(r->body)) < 0)
		goto fail;
	if (r->is_default && put(obj, "default", rv_bool(true)) < 0)
		goto fail;
	if (r->else_chain && put(obj, "else", else_value(r, r->else_chain)) < 0)
		goto fail;
	if (r->annotations && rv_array_len(r->annotations) > 0 &&
	    put(obj, "annotations", annotations_json(r->annotations, rv_array_new(2))) < 0)
		goto fail;
	return obj;
fail:
	rv_unref(obj);
	return NULL;
}

static struct rv *import_value(const struct rego_import *imp)
{
	struct rv *obj = rv_object_new(2);

	if (!obj || put(obj, "path", term_value(imp->path)) < 0 ||
	    (imp->alias && put(obj, "alias", rv_cstring(imp->alias)) < 0)) {
		rv_unref(obj);
		return NULL;
	}
	return obj;
}

/* base64 of len bytes as a string value (Go's encoding of []byte). */
static struct rv *base64_value(const char *data, size_t len)
{
	char *text = NULL;
	struct rv *v;

	if (wd_base64_encode((const uint8_t *)data, len, &text) < 0)
		return NULL;
	v = rv_cstring(text);
	free(text);
	return v;
}

static struct rv *comment_value(const struct rego_module *m, const struct rego_comment *c)
{
	struct rv *obj = rv_object_new(2);
	struct rv *loc = rv_object_new(4);

	if (!obj || !loc || put(loc, "file", rv_cstring(m->file)) < 0 ||
	    put(loc, "row", rv_int(c->row)) < 0 || put(loc, "col", rv_int(c->col)) < 0 ||
	    put(loc, "text", base64_value(m->source + c->offset - 1, c->len + 1)) < 0) {
		rv_unref(loc);
		rv_unref(obj);
		return NULL;
	}
	if (put(obj, "Location", loc) < 0 ||
	    put(obj, "Text", base64_value(m->source + c->offset, c->len)) < 0) {
		rv_unref(obj);
		return NULL;
	}
	return obj;
}

/* Comments as Go's default encoding of ast.Comment writes them:
 * {"Location": {...}, "Text": base64}, the location's text being the whole
 * comment with its '#'. The tokens are not kept, so the source is scanned
 * again. */
static struct rv *comments_value(const struct rego_module *m)
{
	struct rego_tokens toks = { 0 };
	struct rv *arr;

	if (rego_lex(m->source, m->source_len, &toks) < 0)
		return NULL;
	arr = rv_array_new(toks.comments_len);
	for (size_t i = 0; arr && i < toks.comments_len; i++) {
		if (rv_array_push(arr, comment_value(m, &toks.comments[i])) < 0) {
			rv_unref(arr);
			arr = NULL;
		}
	}
	rego_tokens_free(&toks);
	return arr;
}

static struct rv *package_value(const struct rego_module *m)
{
	struct rv *obj = rv_object_new(1);

	if (obj && put(obj, "path",
		       terms_array(m->package->u.ref.items, m->package->u.ref.len)) < 0) {
		rv_unref(obj);
		return NULL;
	}
	return obj;
}

struct rv *rego_module_to_value(const struct rego_module *module)
{
	struct rv *obj = rv_object_new(5);
	struct rv *comments;

	if (!obj || !module->package || put(obj, "package", package_value(module)) < 0)
		goto fail;
	if (module->imports_len > 0) {
		struct rv *arr = rv_array_new(module->imports_len);

		for (size_t i = 0; arr && i < module->imports_len; i++) {
			if (rv_array_push(arr, import_value(module->imports[i])) < 0) {
				rv_unref(arr);
				arr = NULL;
			}
		}
		if (put(obj, "imports", arr) < 0)
			goto fail;
	}
	if (module->rules_len > 0) {
		struct rv *arr = rv_array_new(module->rules_len);
		struct rv *annots = rv_array_new(4);

		/* Blocks come before their targets, so the package's blocks and
		 * then each rule's give the source order. */
		annots = annotations_json(module->annotations, annots);
		for (size_t i = 0; arr && i < module->rules_len; i++) {
			if (rv_array_push(arr, rule_value(module->rules[i])) < 0) {
				rv_unref(arr);
				arr = NULL;
			}
			annots = annotations_json(module->rules[i]->annotations, annots);
		}
		if (put(obj, "rules", arr) < 0 || !annots) {
			rv_unref(annots);
			goto fail;
		}
		if (rv_array_len(annots) > 0 && put(obj, "annotations", annots) < 0)
			goto fail;
		if (rv_array_len(annots) == 0)
			rv_unref(annots);
	} else if (module->annotations && rv_array_len(module->annotations) > 0) {
		if (put(obj, "annotations", annotations_json(module->annotations,
							     rv_array_new(2))) < 0)
			goto fail;
	}
	comments = comments_value(module);
	if (!comments)
		goto fail;
	if (rv_array_len(comments) > 0) {
		if (put(obj, "comments", comments) < 0)
			goto fail;
	} else {
		rv_unref(comments);
	}
	return obj;
fail:
	rv_unref(obj);
	return NULL;
}
