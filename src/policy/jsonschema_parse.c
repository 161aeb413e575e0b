/* JSON Schema compilation as gojsonschema's SchemaLoader parses a schema:
 * keyword checks in its order and wording, draft detection from $schema,
 * and $ref resolved by JSON pointer within the document. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "policy/bi_re_engine.h"
#include "policy/jsonschema.h"

/* NOTE: a $ref may point only into the schema document itself ("#...",
 * or the document's own $id before the "#"), but gojsonschema would also
 * load other documents by URL. Keys and properties are visited in sorted
 * order where gojsonschema walks a Go map in random order. */

struct parser {
	struct js_compiled *c;
	struct wd_buf *err;
};

static int fail(struct parser *p, const char *fmt, ...) WD_PRINTF(2, 3);

static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	char msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	wd_buf_reset(p->err);
	if (wd_buf_append_str(p->err, msg) < 0)
		return WD_ENOMEM;
	return WD_EINVAL;
}

static int invalid_type(struct parser *p, const char *expected, const char *given)
{
	return fail(p, "Invalid type. Expected: %s, given: %s", expected, given);
}

static const struct rv *get(const struct rv *obj, const char *key)
{
	return rv_object_get_str(obj, key);
}

static void *palloc(struct parser *p, size_t len)
{
	return gql_alloc(&p->c->arena, len);
}

static char *pstrdup(struct parser *p, const struct rv *s)
{
	return gql_strndup(&p->c->arena, rv_str(s), rv_str_len(s));
}

/* A string keyword: absent is fine, another type is gojsonschema's
 * getString error. */
static int get_string(struct parser *p, const struct rv *obj, const char *key, const char **out)
{
	const struct rv *v = get(obj, key);

	*out = NULL;
	if (!v)
		return 0;
	if (!rv_is(v, RV_STRING))
		return invalid_type(p, "string", key);
	*out = pstrdup(p, v);
	return *out ? 0 : WD_ENOMEM;
}

static int get_array(struct parser *p, const struct rv *obj, const char *key, const struct rv **out)
{
	const struct rv *v = get(obj, key);

	*out = NULL;
	if (!v)
		return 0;
	if (!rv_is(v, RV_ARRAY))
		return fail(p, "%s must be of an array", key);
	*out = v;
	return 0;
}

static int push(struct parser *p, struct gql_list *list, void *item)
{
	return gql_list_push(&p->c->arena, list, item);
}

/* The keys of an object in byte order. */
static struct rv **sorted_keys(const struct rv *obj, size_t *ret_n)
{
	size_t n = rv_len(obj);
	struct rv **keys = calloc(n ? n : 1, sizeof(*keys));

	if (!keys)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		struct rv *value;

		rv_map_sorted_at(obj, i, &keys[i], &value);
	}
	*ret_n = n;
	return keys;
}

static int parse_schema(struct parser *p, const struct rv *node, struct js_schema *s, int depth);

static struct js_schema *new_schema(struct parser *p, enum js_draft draft)
{
	struct js_schema *s = palloc(p, sizeof(*s));

	if (s) {
		s->draft = draft;
		s->pass = -1;
	}
	return s;
}

/* Parses a child schema with its parent's draft. */
static int child(struct parser *p, const struct rv *node, const struct js_schema *parent,
		 struct js_schema **out, int depth)
{
	*out = new_schema(p, parent->draft);
	if (!*out)
		return WD_ENOMEM;
	return parse_schema(p, node, *out, depth + 1);
}

static bool is_schema_value(const struct rv *v)
{
	return rv_is(v, RV_BOOL) || rv_is(v, RV_OBJECT);
}

static int add_type(struct parser *p, struct js_schema *s, const struct rv *name)
{
	static const struct {
		const char *name;
		unsigned bit;
	} types[] = {
		{ "array", JS_T_ARRAY }, { "boolean", JS_T_BOOLEAN }, { "integer", JS_T_INTEGER },
		{ "number", JS_T_NUMBER }, { "null", JS_T_NULL }, { "object", JS_T_OBJECT },
		{ "string", JS_T_STRING },
	};

	for (size_t i = 0; i < WD_ARRAY_LEN(types); i++) {
		if (strlen(types[i].name) != rv_str_len(name) || strcmp(types[i].name, rv_str(name)) != 0)
			continue;
		if (s->types & types[i].bit)
			return fail(p, "%s type is duplicated", types[i].name);
		s->types |= types[i].bit;
		s->type_names[s->ntypes++] = types[i].name;
		return 0;
	}
	return fail(p,
		    "has a primitive type that is NOT VALID -- given: /%s/ Expected valid values are:[array boolean integer number null object string]",
		    rv_str(name));
}

/* A number keyword as an exact rational; false when it is not a number. */
static bool set_bound(struct parser *p, struct js_bound *b, const struct rv *v)
{
	if (!rv_is(v, RV_NUMBER))
		return false;
	if (!b->set) {
		mpq_init(b->value);
		if (push(p, &p->c->bounds, b) < 0) {
			mpq_clear(b->value);
			return false;
		}
		b->set = true;
	}
	return js_number_rat(v, b->value);
}

/* gojsonschema's mustBeInteger: an integer literal within int64. */
static bool integer_value(const struct rv *v, int64_t *out)
{
	return rv_is(v, RV_NUMBER) && v->num_repr == RV_NUM_INT && rv_number_to_i64(v, out);
}

static int parse_count(struct parser *p, const struct rv *obj, const char *key, struct js_count *c)
{
	const struct rv *v = get(obj, key);

	if (!v)
		return 0;
	if (!integer_value(v, &c->value))
		return fail(p, "%s must be of an integer", key);
	if (c->value < 0)
		return fail(p, "%s must be greater than or equal to 0", key);
	c->set = true;
	return 0;
}

/* Draft 4 reads exclusiveMinimum as a boolean on minimum, draft 6 on as a
 * number; the hybrid mode takes either. */
static int parse_exclusive(struct parser *p, const struct rv *obj, struct js_schema *s, bool max)
{
	const char *key = max ? "exclusiveMaximum" : "exclusiveMinimum";
	const char *base = max ? "maximum" : "minimum";
	struct js_bound *plain = max ? &s->maximum : &s->minimum;
	struct js_bound *excl = max ? &s->exclusive_maximum : &s->exclusive_minimum;
	const struct rv *v = get(obj, key);

	if (!v)
		return 0;
	if (rv_is(v, RV_BOOL) && (s->draft == JS_DRAFT4 || s->draft == JS_HYBRID)) {
		if (!plain->set)
			return fail(p, "%s cannot be used without %s", key, base);
		if (v->u.boolean) {
			*excl = *plain;
			plain->set = false;
			/* The same rational now belongs to the exclusive bound. */
			for (size_t i = 0; i < p->c->bounds.len; i++)
				if (p->c->bounds.items[i] == plain)
					p->c->bounds.items[i] = excl;
		}
		return 0;
	}
	if (s->draft == JS_DRAFT4)
		return invalid_type(p, "boolean", key);
	if (!rv_is(v, RV_NUMBER))
		return invalid_type(p, s->draft == JS_HYBRID ? "boolean/number" : "number", key);
	return set_bound(p, excl, v) ? 0 : WD_ENOMEM;
}

/* Resolves a JSON pointer (already percent-decoded) in the document. */
static int resolve_pointer(struct parser *p, const char *pointer, const struct rv **out)
{
	const struct rv *node = p->c->document;
	const char *at = pointer;

	if (*at && *at != '/')
		return fail(p, "JSON pointer must be empty or start with a \"/\"");
	while (*at) {
		const char *next = strchr(at + 1, '/');
		size_t len = next ? (size_t)(next - at - 1) : strlen(at + 1);
		char token[512];
		size_t n = 0;

		if (len >= sizeof(token))
			return fail(p, "Object has no key '%.*s'", (int)len, at + 1);
		for (size_t i = 0; i < len; i++) {
			char ch = at[1 + i];

			if (ch == '~' && i + 1 < len && (at[2 + i] == '0' || at[2 + i] == '1')) {
				token[n++] = at[2 + i] == '0' ? '~' : '/';
				i++;
			} else {
				token[n++] = ch;
			}
		}
		token[n] = '\0';

		if (rv_is(node, RV_OBJECT)) {
			const struct rv *value = rv_object_get_str(node, token);

			if (!value)
				return fail(p, "Object has no key '%s'", token);
			node = value;
		} else if (rv_is(node, RV_ARRAY)) {
			char *end;
			unsigned long idx = strtoul(token, &end, 10);

			if (!n || *end || idx >= rv_array_len(node))
				return fail(p, "Out of bound array[0,%zu] index '%s'", rv_array_len(node), token);
			node = rv_array_at(node, idx);
		} else {
			return fail(p, "Invalid token reference '%s'", token);
		}
		at = next ? next : at + 1 + len;
	}
	*out = node;
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A $ref: the schema it points to replaces every other keyword, and each
 * reference text is parsed once so recursive schemas stay finite. */
static int parse_ref(struct parser *p, const char *ref, struct js_schema *s, int depth)
{
	const char *hash = strchr(ref, '#');
	const char *frag = hash ? hash + 1 : "";
	const struct rv *id = rv_is(p->c->document, RV_OBJECT) ?
			      rv_object_get_str(p->c->document, s->draft == JS_DRAFT4 ? "id" : "$id") :
			      NULL;
	size_t base_len = hash ? (size_t)(hash - ref) : strlen(ref);
	struct js_schema *target;
	const struct rv *node = NULL;
	char pointer[1024];
	size_t n = 0;

	if (base_len && !(id && rv_is(id, RV_STRING) && rv_str_len(id) >= base_len &&
			  strncmp(rv_str(id), ref, base_len) == 0))
		return fail(p, "Reference %s cannot be loaded: only references within the schema are supported",
			    ref);

	/* The fragment is a URL fragment: percent escapes are decoded. */
	for (const char *c = frag; *c && n + 1 < sizeof(pointer); c++) {
		if (*c == '%' && hex_digit(c[1]) >= 0 && hex_digit(c[2]) >= 0) {
			pointer[n++] = (char)(hex_digit(c[1]) * 16 + hex_digit(c[2]));
			c += 2;
		} else {
			pointer[n++] = *c;
		}
	}
	pointer[n] = '\0';

	target = gql_map_get(&p->c->refs, pointer);
	if (target) {
		s->ref = target;
		return 0;
	}
	WD_TRY(resolve_pointer(p, pointer, &node));
	if (!is_schema_value(node))
		return fail(p, "valid schema must be of type object");

	target = new_schema(p, s->draft);
	if (!target)
		return WD_ENOMEM;
	{
		char *key = gql_strndup(&p->c->arena, pointer, n);

		if (!key || gql_map_put(&p->c->arena, &p->c->refs, key, target) < 0)
			return WD_ENOMEM;
	}
	s->ref = target;
	return parse_schema(p, node, target, depth + 1);
}

static int parse_named_schemas(struct parser *p, const struct rv *obj, struct js_schema *s,
			       struct gql_list *out, bool patterns, int depth)
{
	size_t n = 0;
	struct rv **keys = sorted_keys(obj, &n);
	int rc = 0;

	if (!keys)
		return WD_ENOMEM;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct js_named *named = palloc(p, sizeof(*named));

		if (!named || !rv_is(keys[i], RV_STRING)) {
			rc = named ? fail(p, "properties must be of type object") : WD_ENOMEM;
			break;
		}
		named->name = pstrdup(p, keys[i]);
		if (!named->name) {
			rc = WD_ENOMEM;
			break;
		}
		if (patterns && !bi_regex_valid(rv_str(keys[i]), rv_str_len(keys[i]))) {
			rc = fail(p, "Invalid regex pattern '%s'", named->name);
			break;
		}
		rc = child(p, rv_object_get(obj, keys[i]), s, &named->schema, depth);
		if (rc == 0)
			rc = push(p, out, named);
	}
	free(keys);
	return rc;
}

static int parse_dependencies(struct parser *p, const struct rv *obj, struct js_schema *s, int depth)
{
	size_t n = 0;
	struct rv **keys;
	int rc = 0;

	if (!rv_is(obj, RV_OBJECT))
		return fail(p, "dependencies must be of type object");
	keys = sorted_keys(obj, &n);
	if (!keys)
		return WD_ENOMEM;
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct rv *v = rv_object_get(obj, keys[i]);
		struct js_dependency *dep = palloc(p, sizeof(*dep));

		if (!dep || !(dep->key = pstrdup(p, keys[i]))) {
			rc = WD_ENOMEM;
			break;
		}
		if (rv_is(v, RV_ARRAY)) {
			for (size_t k = 0; k < rv_array_len(v) && rc == 0; k++) {
				const struct rv *name = rv_array_at(v, k);
				char *copy;

				if (!rv_is(name, RV_STRING)) {
					rc = fail(p, "dependency must be of type schema or array of strings");
					break;
				}
				copy = pstrdup(p, name);
				rc = copy ? push(p, &dep->names, copy) : WD_ENOMEM;
			}
			/* gojsonschema registers a list only once it has a name. */
			if (rc == 0 && dep->names.len)
				rc = push(p, &s->dependencies, dep);
		} else if (is_schema_value(v)) {
			rc = child(p, v, s, &dep->schema, depth);
			if (rc == 0)
				rc = push(p, &s->dependencies, dep);
		} else {
			rc = fail(p, "dependency must be of type schema or array of strings");
		}
	}
	free(keys);
	return rc;
}

static int parse_schema_list(struct parser *p, const struct rv *obj, const char *key,
			     struct js_schema *s, struct gql_list *out, int depth)
{
	const struct rv *arr;

	WD_TRY(get_array(p, obj, key, &arr));
	for (size_t i = 0; arr && i < rv_array_len(arr); i++) {
		struct js_schema *sub;

		WD_TRY(child(p, rv_array_at(arr, i), s, &sub, depth));
		WD_TRY(push(p, out, sub));
	}
	return 0;
}

/* "not", "if", "then" and "else": a schema or a boolean. */
static int parse_single(struct parser *p, const struct rv *obj, const char *key, struct js_schema *s,
			struct js_schema **out, int depth)
{
	const struct rv *v = get(obj, key);

	if (!v)
		return 0;
	if (!is_schema_value(v))
		return fail(p, "%s must be of an object", key);
	return child(p, v, s, out, depth);
}

static int parse_extra(struct parser *p, const struct rv *obj, const char *key, struct js_schema *s,
		       struct js_extra *out, int depth)
{
	const struct rv *v = get(obj, key);

	if (!v)
		return 0;
	out->set = true;
	if (rv_is(v, RV_BOOL)) {
		out->allowed = v->u.boolean;
		return 0;
	}
	if (!rv_is(v, RV_OBJECT))
		return invalid_type(p, "boolean/valid schema", key);
	return child(p, v, s, &out->schema, depth);
}

static int marshal_copy(struct parser *p, const struct rv *v, const char **out)
{
	struct wd_buf text;
	int rc;

	wd_buf_init(&text, 64, 1u << 24);
	rc = js_marshal(v, &text, 0);
	if (rc == WD_ETOOBIG)
		rc = fail(p, "schema nesting exceeds %d levels", JS_MAX_DEPTH * 4);
	if (rc == 0) {
		*out = gql_strndup(&p->c->arena, wd_buf_str(&text), wd_buf_len(&text));
		if (!*out)
			rc = WD_ENOMEM;
	}
	wd_buf_free(&text);
	return rc;
}

static int parse_types(struct parser *p, const struct rv *obj, struct js_schema *s)
{
	const struct rv *t = get(obj, "type");

	if (!t)
		return 0;
	if (rv_is(t, RV_STRING))
		return add_type(p, s, t);
	if (!rv_is(t, RV_ARRAY))
		return invalid_type(p, "type", "string/array of strings");
	for (size_t i = 0; i < rv_array_len(t); i++) {
		if (!rv_is(rv_array_at(t, i), RV_STRING))
			return invalid_type(p, "type", "string/array of strings");
		WD_TRY(add_type(p, s, rv_array_at(t, i)));
	}
	return 0;
}

static int parse_items(struct parser *p, const struct rv *obj, struct js_schema *s, int depth)
{
	const struct rv *items = get(obj, "items");

	if (!items)
		return 0;
	if (rv_is(items, RV_ARRAY)) {
		for (size_t i = 0; i < rv_array_len(items); i++) {
			struct js_schema *sub;

			if (!is_schema_value(rv_array_at(items, i)))
				return invalid_type(p, "valid schema/array of schemas", "items");
			WD_TRY(child(p, rv_array_at(items, i), s, &sub, depth));
			WD_TRY(push(p, &s->items, sub));
		}
		return 0;
	}
	if (!is_schema_value(items))
		return invalid_type(p, "valid schema/array of schemas", "items");
	{
		struct js_schema *sub;

		WD_TRY(child(p, items, s, &sub, depth));
		s->items_single = true;
		return push(p, &s->items, sub);
	}
}

static int parse_numbers(struct parser *p, const struct rv *obj, struct js_schema *s)
{
	const struct rv *v;

	if ((v = get(obj, "multipleOf"))) {
		if (!rv_is(v, RV_NUMBER))
			return invalid_type(p, "number", "multipleOf");
		if (!set_bound(p, &s->multiple_of, v))
			return WD_ENOMEM;
		if (mpq_sgn(s->multiple_of.value) <= 0)
			return fail(p, "multipleOf must be strictly greater than 0");
	}
	if ((v = get(obj, "minimum"))) {
		if (!rv_is(v, RV_NUMBER))
			return fail(p, "minimum must be of a number");
		if (!set_bound(p, &s->minimum, v))
			return WD_ENOMEM;
	}
	WD_TRY(parse_exclusive(p, obj, s, false));
	if ((v = get(obj, "maximum"))) {
		if (!rv_is(v, RV_NUMBER))
			return fail(p, "maximum must be of a number");
		if (!set_bound(p, &s->maximum, v))
			return WD_ENOMEM;
	}
	return parse_exclusive(p, obj, s, true);
}

static int parse_strings(struct parser *p, const struct rv *obj, struct js_schema *s)
{
	WD_TRY(parse_count(p, obj, "minLength", &s->min_length));
	WD_TRY(parse_count(p, obj, "maxLength", &s->max_length));
	if (s->min_length.set && s->max_length.set && s->min_length.value > s->max_length.value)
		return fail(p, "minLength cannot be greater than maxLength");
	WD_TRY(get_string(p, obj, "pattern", &s->pattern));
	if (s->pattern && !bi_regex_valid(s->pattern, strlen(s->pattern)))
		return fail(p, "pattern must be a valid regex");
	return get_string(p, obj, "format", &s->format);
}

static int parse_objects(struct parser *p, const struct rv *obj, struct js_schema *s)
{
	const struct rv *required;

	WD_TRY(parse_count(p, obj, "minProperties", &s->min_properties));
	WD_TRY(parse_count(p, obj, "maxProperties", &s->max_properties));
	if (s->min_properties.set && s->max_properties.set &&
	    s->min_properties.value > s->max_properties.value)
		return fail(p, "minProperties cannot be greater than maxProperties");

	WD_TRY(get_array(p, obj, "required", &required));
	for (size_t i = 0; required && i < rv_array_len(required); i++) {
		const struct rv *name = rv_array_at(required, i);
		char *copy;

		if (!rv_is(name, RV_STRING))
			return invalid_type(p, "string", "required");
		for (size_t k = 0; k < s->required.len; k++)
			if (strcmp(s->required.items[k], rv_str(name)) == 0)
				return fail(p, "required items must be unique");
		copy = pstrdup(p, name);
		if (!copy)
			return WD_ENOMEM;
		WD_TRY(push(p, &s->required, copy));
	}
	return 0;
}

static int parse_arrays(struct parser *p, const struct rv *obj, struct js_schema *s, int depth)
{
	const struct rv *v;

	WD_TRY(parse_count(p, obj, "minItems", &s->min_items));
	WD_TRY(parse_count(p, obj, "maxItems", &s->max_items));
	if ((v = get(obj, "uniqueItems"))) {
		if (!rv_is(v, RV_BOOL))
			return fail(p, "uniqueItems must be of a boolean");
		s->unique_items = v->u.boolean;
	}
	if ((v = get(obj, "contains")) && s->draft >= JS_DRAFT6)
		WD_TRY(child(p, v, s, &s->contains, depth));
	return 0;
}

static int parse_values(struct parser *p, const struct rv *obj, struct js_schema *s)
{
	const struct rv *v, *values;

	if ((v = get(obj, "const")) && s->draft >= JS_DRAFT6)
		WD_TRY(marshal_copy(p, v, &s->const_json));

	WD_TRY(get_array(p, obj, "enum", &values));
	for (size_t i = 0; values && i < rv_array_len(values); i++) {
		const char *text;

		WD_TRY(marshal_copy(p, rv_array_at(values, i), &text));
		for (size_t k = 0; k < s->enum_json.len; k++)
			if (strcmp(s->enum_json.items[k], text) == 0)
				return fail(p, "enum items must be unique");
		WD_TRY(push(p, &s->enum_json, (void *)text));
	}
	/* NOTE: an empty enum constrains nothing here, as in gojsonschema
	 * before it distinguished "enum": [] from no enum. */
	s->enum_set = s->enum_json.len > 0;
	return 0;
}

static int parse_keywords(struct parser *p, const struct rv *obj, struct js_schema *s, int depth)
{
	const struct rv *v;

	WD_TRY(parse_types(p, obj, s));
	if ((v = get(obj, "properties"))) {
		if (!rv_is(v, RV_OBJECT))
			return fail(p, "properties must be of type object");
		WD_TRY(parse_named_schemas(p, v, s, &s->properties, false, depth));
	}
	WD_TRY(parse_extra(p, obj, "additionalProperties", s, &s->additional_properties, depth));
	if ((v = get(obj, "patternProperties"))) {
		if (!rv_is(v, RV_OBJECT))
			return invalid_type(p, "valid schema", "patternProperties");
		WD_TRY(parse_named_schemas(p, v, s, &s->pattern_properties, true, depth));
	}
	if ((v = get(obj, "propertyNames")) && s->draft >= JS_DRAFT6) {
		if (!is_schema_value(v))
			return invalid_type(p, "valid schema", "patternProperties");
		WD_TRY(child(p, v, s, &s->property_names, depth));
	}
	if ((v = get(obj, "dependencies")))
		WD_TRY(parse_dependencies(p, v, s, depth));
	WD_TRY(parse_items(p, obj, s, depth));
	WD_TRY(parse_extra(p, obj, "additionalItems", s, &s->additional_items, depth));
	WD_TRY(parse_numbers(p, obj, s));
	WD_TRY(parse_strings(p, obj, s));
	WD_TRY(parse_objects(p, obj, s));
	WD_TRY(parse_arrays(p, obj, s, depth));
	WD_TRY(parse_values(p, obj, s));
	WD_TRY(parse_schema_list(p, obj, "oneOf", s, &s->one_of, depth));
	WD_TRY(parse_schema_list(p, obj, "anyOf", s, &s->any_of, depth));
	WD_TRY(parse_schema_list(p, obj, "allOf", s, &s->all_of, depth));
	WD_TRY(parse_single(p, obj, "not", s, &s->not_schema, depth));
	if (s->draft >= JS_DRAFT7) {
		WD_TRY(parse_single(p, obj, "if", s, &s->if_schema, depth));
		WD_TRY(parse_single(p, obj, "then", s, &s->then_schema, depth));
		WD_TRY(parse_single(p, obj, "else", s, &s->else_schema, depth));
	}
	return 0;
}

static int parse_schema(struct parser *p, const struct rv *node, struct js_schema *s, int depth)
{
	const char *text;
	const struct rv *v;

	if (depth > JS_MAX_DEPTH)
		return fail(p, "schema nesting exceeds %d levels", JS_MAX_DEPTH);
	if (s->draft >= JS_DRAFT6 && rv_is(node, RV_BOOL)) {
		s->pass = node->u.boolean;
		return 0;
	}
	if (!rv_is(node, RV_OBJECT))
		return fail(p, "Expected: valid schema, given: Invalid JSON");

	/* The hybrid mode reads "id" when present and "$id" otherwise. */
	{
		const char *key = s->draft == JS_DRAFT4 ? "id" : "$id";

		if (s->draft == JS_HYBRID && get(node, "id"))
			key = "id";
		WD_TRY(get_string(p, node, key, &text));
	}

	if ((v = get(node, "definitions"))) {
		size_t n = 0;
		struct rv **keys;
		int rc = 0;

		if (!rv_is(v, RV_OBJECT))
			return invalid_type(p, "array of schemas", "definitions");
		keys = sorted_keys(v, &n);
		if (!keys)
			return WD_ENOMEM;
		for (size_t i = 0; i < n && rc == 0; i++) {
			const struct rv *def = rv_object_get(v, keys[i]);
			struct js_schema *sub;

			if (!is_schema_value(def))
				rc = invalid_type(p, "array of schemas", "definitions");
			else
				rc = child(p, def, s, &sub, depth);
		}
		free(keys);
		WD_TRY(rc);
	}

	WD_TRY(get_string(p, node, "title", &text));
	WD_TRY(get_string(p, node, "description", &text));
	WD_TRY(get_string(p, node, "$ref", &text));
	if (text)
		return parse_ref(p, text, s, depth);
	return parse_keywords(p, node, s, depth);
}

/* The draft a "$schema" URL names; NULL keeps the hybrid mode. */
static enum js_draft draft_of(const char *url, size_t len)
{
	static const struct {
		const char *url;
		enum js_draft draft;
	} drafts[] = {
		{ "http://json-schema.org/draft-04/schema", JS_DRAFT4 },
		{ "http://json-schema.org/draft-06/schema", JS_DRAFT6 },
		{ "http://json-schema.org/draft-07/schema", JS_DRAFT7 },
	};

	/* An empty fragment is not part of the URL. */
	if (len && url[len - 1] == '#')
		len--;
	for (size_t i = 0; i < WD_ARRAY_LEN(drafts); i++)
		if (strlen(drafts[i].url) == len && strncmp(drafts[i].url, url, len) == 0)
			return drafts[i].draft;
	return JS_HYBRID;
}

int js_compile(struct js_compiled *out, const struct rv *schema, struct wd_buf *err)
{
	struct parser p = { .c = out, .err = err };
	enum js_draft draft = JS_HYBRID;

	memset(out, 0, sizeof(*out));
	out->document = schema;

	if (!rv_is(schema, RV_BOOL)) {
		const struct rv *url;

		if (!rv_is(schema, RV_OBJECT))
			return fail(&p, "schema is invalid");
		url = rv_object_get_str(schema, "$schema");
		if (url && !rv_is(url, RV_STRING))
			return fail(&p, "$schema must be of type string");
		if (url)
			draft = draft_of(rv_str(url), rv_str_len(url));
	}

	out->root = new_schema(&p, draft);
	if (!out->root)
		return WD_ENOMEM;
	{
		/* "#" names the whole document, so a self-reference reuses
		 * the root. */
		int rc = gql_map_put(&out->arena, &out->refs, "", out->root);

		if (rc < 0)
			return rc;
	}
	return parse_schema(&p, schema, out->root, 0);
}

void js_compiled_free(struct js_compiled *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->bounds.len; i++) {
		struct js_bound *b = c->bounds.items[i];

		mpq_clear(b->value);
	}
	gql_arena_free(&c->arena);
	memset(c, 0, sizeof(*c));
}
