/* GraphQL syntax trees as Rego objects, shaped as OPA returns them: the
 * gqlparser structs marshalled to JSON, then null members, empty lists and
 * empty objects dropped, and "Position" left out. */
#include <string.h>

#include "policy/gql.h"

/* Members that only validation fills (Definition, ExpectedType, ...) are
 * never written: OPA converts a document before validating it.
 * NOTE: gqlparser would also echo such members back from a decoded object;
 * they are dropped here. */

struct enc {
	bool oom;
};

typedef struct rv *(*encode_fn)(struct enc *e, const void *node);

/* Go's JSON encoder writes each byte of invalid UTF-8 as U+FFFD. */
static struct rv *str_value(struct enc *e, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t len = strlen((const char *)p);
	struct wd_buf buf;
	struct rv *out;
	bool clean = true;

	for (size_t i = 0; i < len && clean; i++)
		if (p[i] >= 0x80)
			clean = false;
	if (clean) {
		out = rv_string((const char *)p, len);
		goto done;
	}

	wd_buf_init(&buf, len + 8, len * 3 + 8);
	for (size_t i = 0; i < len;) {
		size_t n = 0;

		if (p[i] < 0x80)
			n = 1;
		else if (p[i] >= 0xc2 && p[i] <= 0xdf)
			n = 2;
		else if (p[i] >= 0xe0 && p[i] <= 0xef)
			n = 3;
		else if (p[i] >= 0xf0 && p[i] <= 0xf4)
			n = 4;
		for (size_t k = 1; n && k < n; k++)
			if (i + k >= len || (p[i + k] & 0xc0) != 0x80)
				n = 0;
		if (n == 3 && ((p[i] == 0xe0 && p[i + 1] < 0xa0) || (p[i] == 0xed && p[i + 1] >= 0xa0)))
			n = 0;
		if (n == 4 && ((p[i] == 0xf0 && p[i + 1] < 0x90) || (p[i] == 0xf4 && p[i + 1] >= 0x90)))
			n = 0;
		if (n == 0) {
			if (wd_buf_append(&buf, "\xef\xbf\xbd", 3) < 0)
				e->oom = true;
			i++;
			continue;
		}
		if (wd_buf_append(&buf, p + i, n) < 0)
			e->oom = true;
		i += n;
	}
	out = rv_string(wd_buf_str(&buf), wd_buf_len(&buf));
	wd_buf_free(&buf);
done:
	if (!out)
		e->oom = true;
	return out;
}

static void put(struct enc *e, struct rv *obj, const char *key, struct rv *value)
{
	if (!value)
		return;
	if (rv_object_put(obj, rv_cstring(key), value) < 0)
		e->oom = true;
}

static void put_str(struct enc *e, struct rv *obj, const char *key, const char *s)
{
	put(e, obj, key, str_value(e, s));
}

static void put_bool(struct enc *e, struct rv *obj, const char *key, bool b)
{
	put(e, obj, key, rv_bool(b));
}

static struct rv *new_object(struct enc *e)
{
	struct rv *obj = rv_object_new(8);

	if (!obj)
		e->oom = true;
	return obj;
}

/* A list, or NULL when it is empty once NULL items are dropped. */
static struct rv *list_value(struct enc *e, const struct gql_list *list, encode_fn fn)
{
	struct rv *arr;

	if (list->len == 0)
		return NULL;
	arr = rv_array_new(list->len);
	if (!arr) {
		e->oom = true;
		return NULL;
	}
	for (size_t i = 0; i < list->len; i++) {
		struct rv *item;

		if (!list->items[i])
			continue;
		item = fn(e, list->items[i]);
		if (item && rv_array_push(arr, item) < 0)
			e->oom = true;
	}
	if (rv_array_len(arr) == 0) {
		rv_unref(arr);
		return NULL;
	}
	return arr;
}

static struct rv *enc_string(struct enc *e, const void *node)
{
	return str_value(e, node);
}

static struct rv *enc_type(struct enc *e, const void *node)
{
	const struct gql_type *t = node;
	struct rv *obj = new_object(e);

	if (!obj)
		return NULL;
	put_str(e, obj, "NamedType", t->named);
	if (t->elem)
		put(e, obj, "Elem", enc_type(e, t->elem));
	put_bool(e, obj, "NonNull", t->non_null);
	return obj;
}

static struct rv *enc_value(struct enc *e, const void *node);

static struct rv *enc_child(struct enc *e, const void *node)
{
	const struct gql_child *c = node;
	struct rv *obj = new_object(e);

	if (!obj)
		return NULL;
	put_str(e, obj, "Name", c->name);
	if (c->value)
		put(e, obj, "Value", enc_value(e, c->value));
	return obj;
}

static struct rv *enc_value(struct enc *e, const void *node)
{
	const struct gql_value *v = node;
	struct rv *obj = new_object(e);

	if (!obj)
		return NULL;
	put_str(e, obj, "Raw", v->raw);
	put(e, obj, "Children", list_value(e, &v->children, enc_child));
	put(e, obj, "Kind", rv_int(v->kind));
	put_bool(e, obj, "ExpectedTypeHasDefault", v->expected_has_default);
	return obj;
}

static struct rv *enc_argument(struct enc *e, const void *node)
{
	const struct gql_argument *a = node;
	struct rv *obj = new_object(e);

	if (!obj)
		return NULL;
	put_str(e, obj, "Name", a->name);
	if (a->value)
		put(e, obj, "Value", enc_value(e, a->value));
	return obj;
}

static struct rv *enc_directive(struct enc *e, const void *node)
{
	const struct gql_directive *d = node;
	struct rv *obj = new_object(e);

	if (!obj)
		return NULL;
	put_str(e, obj, "Name", d->name);
	put(e, obj, "Arguments", list_value(e, &d->args, enc_argument));
	put_str(e, obj, "Location", d->location);
	return obj;
}

static struct rv *enc_selection(struct enc *e, const void *node)
{
	const struct gql_selection *s = node;
	struct rv *obj = new_object(e);

	if (!obj)
		return NULL;
	switch (s->kind) {
	case GQL_SEL_FIELD:
		put_str(e, obj, "Alias", s->alias);
		put_str(e, obj, "Name", s->name);
		put(e, obj, "Arguments", list_value(e, &s->args, enc_argument));
		break;
	case GQL_SEL_SPREAD:
		put_str(e, obj, "Name", s->name);
		break;
	case GQL_SEL_INLINE:
		put_str(e, obj, "TypeCondition", s->type_cond);
		break;
	}
	put(e, obj, "Directives", list_value(e, &s->directives, enc_directive));
	if (s->kind != GQL_SEL_SPREAD)
		put(e, obj, "SelectionSet", list_value(e, &s->selset, enc_selection));
	return obj;
}

static struct rv *enc_vardef(struct enc *e, const void *node)
{
	const struct gql_vardef *d = node;
	struct rv *obj = new_object(e);

	if (!obj)
		return NULL;
	put_str(e, obj, "Variable", d->variable);
	if (d->type)
		put(e, obj, "Type", enc_type(e, d->type));
	if (d->default_value)
		put(e, obj, "DefaultValue", enc_value(e, d->default_value));
	put(e, obj, "Directives", list_value(e, &d->directives, enc_directive));
	put_bool(e, obj, "Used", d->used);
	return obj;
}

static struct rv *enc_operation(struct enc *e, const void *node)
{
	const struct gql_operation *op = node;
	struct rv *obj = new_object(e);

	if (!obj)
		return NULL;
	put_str(e, obj, "Operation", op->operation);
	put_str(e, obj, "Name", op->name);
	put(e, obj, "VariableDefinitions", list_value(e, &op->vardefs, enc_vardef));
	put(e, obj, "Directives", list_value(e, &op->directives, enc_directive));
	put(e, obj, "SelectionSet", list_value(e, &op->selset, enc_selection));
	return obj;
}

static struct rv *enc_fragment(struct enc *e, const void *node)
{
	const struct gql_fragment *f = node;
	struct rv *obj = new_object(e);

	if (!obj)
		return NULL;
	put_str(e, obj, "Name", f->name);
	/* gqlparser names this member in the singular. */
	put(e, obj, "VariableDefinition", list_value(e, &f->vardefs, enc_vardef));
	put_str(e, obj, "TypeCondition", f->type_cond);
	put(e, obj, "Directives", list_value(e, &f->directives, enc_directive));
	put(e, obj, "SelectionSet", list_value(e, &f->selset, enc_selection));
	return obj;
}

static struct rv *finish(struct enc *e, struct rv *obj)
{
	if (e->oom) {
		rv_unref(obj);
		return NULL;
	}
	return obj;
}

struct rv *gql_query_to_value(const struct gql_query_doc *doc)
{
	struct enc e = { 0 };
	struct rv *obj = new_object(&e);

	if (!obj)
		return NULL;
	put(&e, obj, "Operations", list_value(&e, &doc->operations, enc_operation));
	put(&e, obj, "Fragments", list_value(&e, &doc->fragments, enc_fragment));
	return finish(&e, obj);
}

/* ---- schema documents ---- */

/* The members an argument definition shares with a field definition. */
static struct rv *enc_fielddef_common(struct enc *e, const struct gql_fielddef *f)
{
	struct rv *obj = new_object(e);

	if (!obj)
		return NULL;
	put_str(e, obj, "Description", f->description);
	put_str(e, obj, "Name", f->name);
	if (f->default_value)
		put(e, obj, "DefaultValue", enc_value(e, f->default_value));
	if (f->type)
		put(e, obj, "Type", enc_type(e, f->type));
	put(e, obj, "Directives", list_value(e, &f->directives, enc_directive));
	return obj;
}

static struct rv *enc_argdef(struct enc *e, const void *node)
{
	return enc_fielddef_common(e, node);
}

static struct rv *enc_fielddef(struct enc *e, const void *node)
{
	const struct gql_fielddef *f = node;
	struct rv *obj = enc_fielddef_common(e, f);

	if (obj)
		put(e, obj, "Arguments", list_value(e, &f->args, enc_argdef));
	return obj;
}

static struct rv *enc_enumvalue(struct enc *e, const void *node)
{
	const struct gql_enumvalue *v = node;
	struct rv *obj = new_object(e);

	if (!obj)
		return NULL;
	put_str(e, obj, "Description", v->description);
	put_str(e, obj, "Name", v->name);
	put(e, obj, "Directives", list_value(e, &v->directives, enc_directive));
	return obj;
}

static struct rv *enc_definition(struct enc *e, const void *node)
{
	const struct gql_def *d = node;
	struct rv *obj = new_object(e);

	if (!obj)
		return NULL;
	put_str(e, obj, "Kind", d->kind);
	put_str(e, obj, "Description", d->description);
	put_str(e, obj, "Name", d->name);
	put(e, obj, "Directives", list_value(e, &d->directives, enc_directive));
	put(e, obj, "Interfaces", list_value(e, &d->interfaces, enc_string));
	put(e, obj, "Fields", list_value(e, &d->fields, enc_fielddef));
	put(e, obj, "Types", list_value(e, &d->types, enc_string));
	put(e, obj, "EnumValues", list_value(e, &d->enum_values, enc_enumvalue));
	put_bool(e, obj, "BuiltIn", d->builtin);
	return obj;
}

static struct rv *enc_optype(struct enc *e, const void *node)
{
	const struct gql_optype *op = node;
	struct rv *obj = new_object(e);

	if (!obj)
		return NULL;
	put_str(e, obj, "Operation", op->operation);
	put_str(e, obj, "Type", op->type);
	return obj;
}

static struct rv *enc_schemadef(struct enc *e, const void *node)
{
	const struct gql_schemadef *s = node;
	struct rv *obj = new_object(e);

	if (!obj)
		return NULL;
	put_str(e, obj, "Description", s->description);
	put(e, obj, "Directives", list_value(e, &s->directives, enc_directive));
	put(e, obj, "OperationTypes", list_value(e, &s->optypes, enc_optype));
	return obj;
}

static struct rv *enc_dirdef(struct enc *e, const void *node)
{
	const struct gql_dirdef *d = node;
	struct rv *obj = new_object(e);

	if (!obj)
		return NULL;
	put_str(e, obj, "Description", d->description);
	put_str(e, obj, "Name", d->name);
	put(e, obj, "Arguments", list_value(e, &d->args, enc_argdef));
	put(e, obj, "Locations", list_value(e, &d->locations, enc_string));
	put_bool(e, obj, "IsRepeatable", d->repeatable);
	return obj;
}

struct rv *gql_schema_to_value(const struct gql_schema_doc *doc)
{
	struct enc e = { 0 };
	struct rv *obj = new_object(&e);

	if (!obj)
		return NULL;
	put(&e, obj, "Schema", list_value(&e, &doc->schema, enc_schemadef));
	put(&e, obj, "SchemaExtension", list_value(&e, &doc->schema_ext, enc_schemadef));
	put(&e, obj, "Directives", list_value(&e, &doc->directives, enc_dirdef));
	put(&e, obj, "Definitions", list_value(&e, &doc->definitions, enc_definition));
	put(&e, obj, "Extensions", list_value(&e, &doc->extensions, enc_definition));
	return finish(&e, obj);
}
