/* JSON Schema validation in gojsonschema's order, with its error types,
 * messages and the scores that pick which failed branch of anyOf, oneOf and
 * contains is reported. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "policy/bi_re_engine.h"
#include "policy/jsonschema.h"

struct js_error {
	const char *type;
	const char *field;      /* the path without "(root).", or "(root)" */
	const char *desc;
};

struct result {
	struct gql_list errors; /* struct js_error */
	long score;
};

/* The path of the value being checked: "(root)", then one name per step. */
struct path {
	const char *name;
	const struct path *parent;
};

struct validator {
	struct rego_bctx *ctx;
	struct gql_arena arena;
	long steps;
	int rc;
};

static void path_append(struct wd_buf *out, const struct path *p)
{
	if (!p)
		return;
	path_append(out, p->parent);
	if (p->parent && wd_buf_append_byte(out, '.') < 0)
		return;
	if (wd_buf_append_str(out, p->name) < 0)
		return;
}

static const char *field_of(struct validator *v, const struct path *p)
{
	struct wd_buf text;
	const char *out;
	const char *s;

	wd_buf_init(&text, 64, 1u << 20);
	path_append(&text, p);
	s = wd_buf_str(&text);
	if (strncmp(s, "(root).", 7) == 0)
		s += 7;
	out = gql_strndup(&v->arena, s, strlen(s));
	wd_buf_free(&text);
	if (!out)
		v->rc = WD_ENOMEM;
	return out ? out : "";
}

static void add_error(struct validator *v, struct result *r, const struct path *p, const char *type,
		      const char *fmt, ...) WD_PRINTF(5, 6);

/* fmt may use "%1$s" for the field, as gojsonschema's {{.field}}. */
static void add_error(struct validator *v, struct result *r, const struct path *p, const char *type,
		      const char *fmt, ...)
{
	struct js_error *e = gql_alloc(&v->arena, sizeof(*e));
	char desc[2048];
	va_list ap;

	if (!e) {
		v->rc = WD_ENOMEM;
		return;
	}
	e->type = type;
	e->field = field_of(v, p);
	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	e->desc = gql_strndup(&v->arena, desc, strlen(desc));
	if (!e->desc || gql_list_push(&v->arena, &r->errors, e) < 0)
		v->rc = WD_ENOMEM;
	r->score -= 2;
}

static void merge(struct validator *v, struct result *into, const struct result *from)
{
	for (size_t i = 0; i < from->errors.len; i++)
		if (gql_list_push(&v->arena, &into->errors, from->errors.items[i]) < 0)
			v->rc = WD_ENOMEM;
	into->score += from->score;
}

static bool valid(const struct result *r)
{
	return r->errors.len == 0;
}

/* The expected types as gojsonschema prints them: one name, or "[a,b]". */
static const char *types_text(const struct js_schema *s, char *buf, size_t cap)
{
	size_t used;

	if (s->ntypes == 1)
		return s->type_names[0];
	used = (size_t)snprintf(buf, cap, "[");
	for (size_t i = 0; i < s->ntypes && used < cap; i++)
		used += (size_t)snprintf(buf + used, cap - used, "%s%s", i ? "," : "", s->type_names[i]);
	if (used < cap)
		snprintf(buf + used, cap - used, "]");
	return buf;
}

static void check(struct validator *v, const struct js_schema *s, const struct rv *node,
		  struct result *r, const struct path *p, int depth);

static void sub_check(struct validator *v, const struct js_schema *s, const struct rv *node,
		      struct result *r, const struct path *p, int depth)
{
	memset(r, 0, sizeof(*r));
	check(v, s, node, r, p, depth + 1);
}

static const char *marshal(struct validator *v, const struct rv *node)
{
	struct wd_buf text;
	const char *out = NULL;
	int rc;

	wd_buf_init(&text, 64, 1u << 24);
	rc = js_marshal(node, &text, 0);
	if (rc == 0)
		out = gql_strndup(&v->arena, wd_buf_str(&text), wd_buf_len(&text));
	wd_buf_free(&text);
	if (!out && v->rc == 0)
		v->rc = rc == WD_ETOOBIG ? WD_ETOOBIG : WD_ENOMEM;
	return out ? out : "";
}

/* anyOf, oneOf, allOf, not, dependencies and if/then/else. */
static void check_combinators(struct validator *v, const struct js_schema *s, const struct rv *node,
			      struct result *r, const struct path *p, int depth)
{
	if (s->any_of.len) {
		bool ok = false;
		struct result best = { 0 };
		bool have_best = false;

		for (size_t i = 0; i < s->any_of.len && !ok; i++) {
			struct result sub;

			sub_check(v, s->any_of.items[i], node, &sub, p, depth);
			ok = valid(&sub);
			if (!ok && (!have_best || sub.score > best.score)) {
				best = sub;
				have_best = true;
			}
		}
		if (!ok) {
			add_error(v, r, p, "number_any_of", "Must validate at least one schema (anyOf)");
			if (have_best)
				merge(v, r, &best);
		}
	}

	if (s->one_of.len) {
		size_t validated = 0;
		struct result best = { 0 };
		bool have_best = false;

		for (size_t i = 0; i < s->one_of.len; i++) {
			struct result sub;

			sub_check(v, s->one_of.items[i], node, &sub, p, depth);
			if (valid(&sub)) {
				validated++;
			} else if (validated == 0 && (!have_best || sub.score > best.score)) {
				best = sub;
				have_best = true;
			}
		}
		if (validated != 1) {
			add_error(v, r, p, "number_one_of", "Must validate one and only one schema (oneOf)");
			if (validated == 0 && have_best)
				merge(v, r, &best);
		}
	}

	if (s->all_of.len) {
		size_t validated = 0;

		for (size_t i = 0; i < s->all_of.len; i++) {
			struct result sub;

			sub_check(v, s->all_of.items[i], node, &sub, p, depth);
			if (valid(&sub))
				validated++;
			merge(v, r, &sub);
		}
		if (validated != s->all_of.len)
			add_error(v, r, p, "number_all_of", "Must validate all the schemas (allOf)");
	}

	if (s->not_schema) {
		struct result sub;

		sub_check(v, s->not_schema, node, &sub, p, depth);
		if (valid(&sub))
			add_error(v, r, p, "number_not", "Must not validate the schema (not)");
	}

	if (s->dependencies.len && rv_is(node, RV_OBJECT)) {
		/* In the document's key order, sorted. */
		for (size_t i = 0; i < rv_len(node); i++) {
			struct rv *key, *unused;

			rv_map_sorted_at(node, i, &key, &unused);
			for (size_t k = 0; rv_is(key, RV_STRING) && k < s->dependencies.len; k++) {
				const struct js_dependency *dep = s->dependencies.items[k];

				if (strcmp(dep->key, rv_str(key)) != 0)
					continue;
				if (dep->schema) {
					check(v, dep->schema, node, r, p, depth + 1);
					continue;
				}
				for (size_t n = 0; n < dep->names.len; n++)
					if (!rv_object_get_str(node, dep->names.items[n]))
						add_error(v, r, p, "missing_dependency", "Has a dependency on %s",
							  (const char *)dep->names.items[n]);
			}
		}
	}

	if (s->if_schema) {
		struct result cond;

		sub_check(v, s->if_schema, node, &cond, p, depth);
		if (s->then_schema && valid(&cond)) {
			struct result sub;

			sub_check(v, s->then_schema, node, &sub, p, depth);
			if (!valid(&sub)) {
				add_error(v, r, p, "condition_then", "Must validate \"then\" as \"if\" was valid");
				merge(v, r, &sub);
			}
		}
		if (s->else_schema && !valid(&cond)) {
			struct result sub;

			sub_check(v, s->else_schema, node, &sub, p, depth);
			if (!valid(&sub)) {
				add_error(v, r, p, "condition_else",
					  "Must validate \"else\" as \"if\" was not valid");
				merge(v, r, &sub);
			}
		}
	}
	r->score++;
}

/* const, enum and format. */
static void check_common(struct validator *v, const struct js_schema *s, const struct rv *node,
			 struct result *r, const struct path *p)
{
	if (s->const_json && strcmp(marshal(v, node), s->const_json) != 0)
		add_error(v, r, p, "const", "%s does not match: %s", field_of(v, p), s->const_json);

	if (s->enum_set) {
		const char *text = marshal(v, node);
		bool found = false;

		for (size_t i = 0; i < s->enum_json.len && !found; i++)
			found = strcmp(s->enum_json.items[i], text) == 0;
		if (!found) {
			struct wd_buf allowed;

			wd_buf_init(&allowed, 64, 1u << 20);
			for (size_t i = 0; i < s->enum_json.len; i++)
				if (wd_buf_appendf(&allowed, "%s%s", i ? ", " : "",
						   (const char *)s->enum_json.items[i]) < 0)
					v->rc = WD_ENOMEM;
			add_error(v, r, p, "enum", "%s must be one of the following: %s", field_of(v, p),
				  wd_buf_str(&allowed));
			wd_buf_free(&allowed);
		}
	}

	if (s->format && !js_format_ok(s->format, node))
		add_error(v, r, p, "format", "Does not match format '%s'", s->format);
	r->score++;
}

/* Go's regexp.MatchString: an unanchored search. */
static bool regex_matches(struct validator *v, const char *pattern, const char *subject, size_t len)
{
	const struct bi_regex *re;
	PCRE2_SIZE ov[2];
	int rc;

	if (bi_regex_compile(v->ctx, pattern, strlen(pattern), &re) < 0) {
		v->rc = WD_EINVAL;
		return false;
	}
	rc = bi_regex_exec(v->ctx, re, subject, len, 0, ov, 1);
	if (rc < 0) {
		v->rc = rc;
		return false;
	}
	return rc == 1;
}

static const struct rv *set_item(const struct rv *set, size_t i)
{
	struct rv *member, *unused;

	rv_map_sorted_at(set, i, &member, &unused);
	return member;
}

static void check_array(struct validator *v, const struct js_schema *s, const struct rv *node,
			struct result *r, const struct path *p, int depth)
{
	size_t n = rv_is(node, RV_SET) ? rv_len(node) : rv_array_len(node);
	char index[24];

#define ITEM(i) (rv_is(node, RV_SET) ? set_item(node, i) : rv_array_at(node, i))

	for (size_t i = 0; i < n && s->items.len; i++) {
		const struct js_schema *item = NULL;
		struct path step = { .name = index, .parent = p };
		struct result sub;

		if (s->items_single)
			item = s->items.items[0];
		else if (i < s->items.len)
			item = s->items.items[i];
		else if (s->additional_items.schema)
			item = s->additional_items.schema;
		else
			break;
		snprintf(index, sizeof(index), "%zu", i);
		sub_check(v, item, ITEM(i), &sub, &step, depth);
		merge(v, r, &sub);
	}
	if (!s->items_single && s->items.len && s->items.len < n && s->additional_items.set &&
	    !s->additional_items.schema && !s->additional_items.allowed)
		add_error(v, r, p, "array_no_additional_items", "No additional items allowed on array");

	if (s->min_items.set && (int64_t)n < s->min_items.value)
		add_error(v, r, p, "array_min_items", "Array must have at least %lld items",
			  (long long)s->min_items.value);
	if (s->max_items.set && (int64_t)n > s->max_items.value)
		add_error(v, r, p, "array_max_items", "Array must have at most %lld items",
			  (long long)s->max_items.value);

	if (s->unique_items) {
		struct gql_map seen = { 0 };

		for (size_t j = 0; j < n; j++) {
			const char *text = marshal(v, ITEM(j));
			uintptr_t at = (uintptr_t)gql_map_get(&seen, text);

			if (at)
				add_error(v, r, p, "unique", "array items[%zu,%zu] must be unique",
					  (size_t)(at - 1), j);
			if (gql_map_put(&v->arena, &seen, text, (void *)(uintptr_t)(j + 1)) < 0)
				v->rc = WD_ENOMEM;
		}
	}

	if (s->contains) {
		bool found = false;
		struct result best = { 0 };
		bool have_best = false;

		for (size_t i = 0; i < n && !found; i++) {
			struct path step = { .name = index, .parent = p };
			struct result sub;

			snprintf(index, sizeof(index), "%zu", i);
			sub_check(v, s->contains, ITEM(i), &sub, &step, depth);
			if (valid(&sub)) {
				found = true;
			} else if (!have_best || sub.score > best.score) {
				best = sub;
				have_best = true;
			}
		}
		if (!found) {
			add_error(v, r, p, "contains", "At least one of the items must match");
			if (have_best)
				merge(v, r, &best);
		}
	}
#undef ITEM
	r->score++;
}

static const struct js_named *find_named(const struct gql_list *list, const char *name)
{
	for (size_t i = 0; i < list->len; i++) {
		const struct js_named *n = list->items[i];

		if (strcmp(n->name, name) == 0)
			return n;
	}
	return NULL;
}

static void check_object(struct validator *v, const struct js_schema *s, const struct rv *node,
			 struct result *r, const struct path *p, int depth)
{
	size_t n = rv_len(node);

	if (s->min_properties.set && (int64_t)n < s->min_properties.value)
		add_error(v, r, p, "array_min_properties", "Must have at least %lld properties",
			  (long long)s->min_properties.value);
	if (s->max_properties.set && (int64_t)n > s->max_properties.value)
		add_error(v, r, p, "array_max_properties", "Must have at most %lld properties",
			  (long long)s->max_properties.value);

	for (size_t i = 0; i < s->required.len; i++) {
		if (rv_object_get_str(node, s->required.items[i]))
			r->score++;
		else
			add_error(v, r, p, "required", "%s is required", (const char *)s->required.items[i]);
	}

	for (size_t i = 0; i < n && v->rc == 0; i++) {
		struct rv *key, *value;
		bool matched = false;

		rv_map_sorted_at(node, i, &key, &value);
		if (!rv_is(key, RV_STRING))
			continue;
		for (size_t k = 0; k < s->pattern_properties.len; k++) {
			const struct js_named *pp = s->pattern_properties.items[k];

			if (regex_matches(v, pp->name, rv_str(key), rv_str_len(key))) {
				struct path step = { .name = rv_str(key), .parent = p };
				struct result sub;

				matched = true;
				sub_check(v, pp->schema, value, &sub, &step, depth);
				merge(v, r, &sub);
			}
		}
		if (matched)
			r->score++;
		if (matched || find_named(&s->properties, rv_str(key)))
			continue;
		if (s->additional_properties.schema) {
			struct path step = { .name = rv_str(key), .parent = p };
			struct result sub;

			sub_check(v, s->additional_properties.schema, value, &sub, &step, depth);
			merge(v, r, &sub);
		} else if (s->additional_properties.set && !s->additional_properties.allowed) {
			add_error(v, r, p, "additional_property_not_allowed",
				  "Additional property %s is not allowed", rv_str(key));
		}
	}

	if (s->property_names) {
		for (size_t i = 0; i < n; i++) {
			struct rv *key, *value;
			struct result sub;

			rv_map_sorted_at(node, i, &key, &value);
			sub_check(v, s->property_names, key, &sub, p, depth);
			if (!valid(&sub)) {
				add_error(v, r, p, "invalid_property_name", "Property name of \"%s\" does not match",
					  rv_is(key, RV_STRING) ? rv_str(key) : "");
				merge(v, r, &sub);
			}
		}
	}
	r->score++;
}

static size_t count_runes(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}

static void check_string(struct validator *v, const struct js_schema *s, const struct rv *node,
			 struct result *r, const struct path *p)
{
	size_t runes = count_runes(rv_str(node), rv_str_len(node));

	if (s->min_length.set && (int64_t)runes < s->min_length.value)
		add_error(v, r, p, "string_gte", "String length must be greater than or equal to %lld",
			  (long long)s->min_length.value);
	if (s->max_length.set && (int64_t)runes > s->max_length.value)
		add_error(v, r, p, "string_lte", "String length must be less than or equal to %lld",
			  (long long)s->max_length.value);
	if (s->pattern && !regex_matches(v, s->pattern, rv_str(node), rv_str_len(node)) && v->rc == 0)
		add_error(v, r, p, "pattern", "Does not match pattern '%s'", s->pattern);
	r->score++;
}

static void bound_error(struct validator *v, struct result *r, const struct path *p,
			const char *type, const char *text, const mpq_t bound)
{
	struct wd_buf num;

	wd_buf_init(&num, 32, 256);
	if (js_format_rat(bound, &num) < 0)
		v->rc = WD_ENOMEM;
	add_error(v, r, p, type, "%s %s", text, wd_buf_str(&num));
	wd_buf_free(&num);
}

static void check_number(struct validator *v, const struct js_schema *s, const mpq_t value,
			 struct result *r, const struct path *p)
{
	if (s->multiple_of.set) {
		mpq_t q;

		mpq_init(q);
		mpq_div(q, value, s->multiple_of.value);
		if (mpz_cmp_ui(mpq_denref(q), 1) != 0)
			bound_error(v, r, p, "multiple_of", "Must be a multiple of", s->multiple_of.value);
		mpq_clear(q);
	}
	if (s->maximum.set && mpq_cmp(value, s->maximum.value) > 0)
		bound_error(v, r, p, "number_lte", "Must be less than or equal to", s->maximum.value);
	if (s->exclusive_maximum.set && mpq_cmp(value, s->exclusive_maximum.value) >= 0)
		bound_error(v, r, p, "number_lt", "Must be less than", s->exclusive_maximum.value);
	if (s->minimum.set && mpq_cmp(value, s->minimum.value) < 0)
		bound_error(v, r, p, "number_gte", "Must be greater than or equal to", s->minimum.value);
	if (s->exclusive_minimum.set && mpq_cmp(value, s->exclusive_minimum.value) <= 0)
		bound_error(v, r, p, "number_gt", "Must be greater than", s->exclusive_minimum.value);
	r->score++;
}

static bool wrong_type(struct validator *v, const struct js_schema *s, unsigned allowed,
		       const char *given, struct result *r, const struct path *p)
{
	char buf[96];

	if (!s->ntypes || (s->types & allowed))
		return false;
	add_error(v, r, p, "invalid_type", "Invalid type. Expected: %s, given: %s",
		  types_text(s, buf, sizeof(buf)), given);
	return true;
}

static void check(struct validator *v, const struct js_schema *s, const struct rv *node,
		  struct result *r, const struct path *p, int depth)
{
	if (v->rc < 0)
		return;
	if (depth > JS_MAX_DEPTH * 4 || ++v->steps > JS_MAX_STEPS) {
		v->rc = WD_ETOOBIG;
		return;
	}
	if (s->pass >= 0) {
		if (!s->pass)
			add_error(v, r, p, "false", "False always fails validation");
		return;
	}
	if (s->ref) {
		check(v, s->ref, node, r, p, depth + 1);
		return;
	}

	switch (rv_kind_of(node)) {
	case RV_NULL:
		if (wrong_type(v, s, JS_T_NULL, "null", r, p))
			return;
		check_combinators(v, s, node, r, p, depth);
		check_common(v, s, node, r, p);
		break;
	case RV_NUMBER: {
		bool is_int = rv_number_is_int(node);
		mpq_t value;

		if (wrong_type(v, s, JS_T_NUMBER | (is_int ? JS_T_INTEGER : 0u),
			       is_int ? "integer" : "number", r, p))
			return;
		check_combinators(v, s, node, r, p, depth);
		mpq_init(value);
		if (js_number_rat(node, value))
			check_number(v, s, value, r, p);
		mpq_clear(value);
		check_common(v, s, node, r, p);
		break;
	}
	case RV_ARRAY:
	case RV_SET:
		if (wrong_type(v, s, JS_T_ARRAY, "array", r, p))
			return;
		check_combinators(v, s, node, r, p, depth);
		check_array(v, s, node, r, p, depth);
		check_common(v, s, node, r, p);
		break;
	case RV_OBJECT:
		if (wrong_type(v, s, JS_T_OBJECT, "object", r, p))
			return;
		check_combinators(v, s, node, r, p, depth);
		check_object(v, s, node, r, p, depth);
		check_common(v, s, node, r, p);
		for (size_t i = 0; i < s->properties.len; i++) {
			const struct js_named *prop = s->properties.items[i];
			const struct rv *value = rv_object_get_str(node, prop->name);
			struct path step = { .name = prop->name, .parent = p };

			if (value)
				check(v, prop->schema, value, r, &step, depth + 1);
		}
		break;
	case RV_BOOL:
		if (wrong_type(v, s, JS_T_BOOLEAN, "boolean", r, p))
			return;
		check_combinators(v, s, node, r, p, depth);
		check_common(v, s, node, r, p);
		break;
	case RV_STRING:
		if (wrong_type(v, s, JS_T_STRING, "string", r, p))
			return;
		check_combinators(v, s, node, r, p, depth);
		check_common(v, s, node, r, p);
		check_string(v, s, node, r, p);
		break;
	}
	r->score++;
}

static struct rv *error_object(const struct js_error *e)
{
	struct rv *obj = rv_object_new(4);
	struct wd_buf text;
	int rc = obj ? 0 : WD_ENOMEM;

	wd_buf_init(&text, 64, 1u << 20);
	if (rc == 0)
		rc = wd_buf_appendf(&text, "%s: %s", e->field, e->desc);
	if (rc == 0)
		rc = rv_object_put(obj, rv_cstring("error"),
				   rv_string(wd_buf_str(&text), wd_buf_len(&text)));
	if (rc == 0)
		rc = rv_object_put(obj, rv_cstring("type"), rv_cstring(e->type));
	if (rc == 0)
		rc = rv_object_put(obj, rv_cstring("field"), rv_cstring(e->field));
	if (rc == 0)
		rc = rv_object_put(obj, rv_cstring("desc"), rv_cstring(e->desc));
	wd_buf_free(&text);
	if (rc < 0) {
		rv_unref(obj);
		return NULL;
	}
	return obj;
}

int js_validate(struct rego_bctx *ctx, const struct js_compiled *c, const struct rv *doc,
		struct rv *errors)
{
	struct validator v = { .ctx = ctx };
	struct path root = { .name = "(root)" };
	struct result r = { 0 };
	int rc = 0;

	check(&v, c->root, doc, &r, &root, 0);
	if (v.rc == WD_ETOOBIG)
		rc = rego_bi_error(ctx, "JSON Schema validation exceeds %d steps or %d levels",
				   JS_MAX_STEPS, JS_MAX_DEPTH * 4);
	else if (v.rc < 0)
		rc = v.rc == WD_EINVAL ? v.rc : rego_bi_error(ctx, "out of memory");
	for (size_t i = 0; rc == 0 && i < r.errors.len; i++) {
		struct rv *obj = error_object(r.errors.items[i]);

		if (!obj || rv_array_push(errors, obj) < 0)
			rc = rego_bi_error(ctx, "out of memory");
	}
	gql_arena_free(&v.arena);
	return rc;
}
