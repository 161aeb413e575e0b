/* GraphQL documents read back from Rego objects, as OPA does by encoding the
 * object to JSON and decoding it into gqlparser's structs. Member names
 * match case-insensitively, except in the four types with their own JSON
 * decoders, and a member of the wrong JSON type fails the whole document. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/error.h"
#include "policy/gql.h"

/* NOTE: the members gqlparser fills during validation (Definition,
 * ExpectedType, ObjectDefinition, ...) are checked to be objects or null
 * and otherwise ignored; Go would decode them in full and reject type
 * errors inside them. */

struct dec {
	struct gql_arena *arena;
	struct gql_error *err;
	bool failed;
	bool oom;
	int depth;
};

static void fail(struct dec *d, const char *what, const struct rv *got)
{
	if (!d->failed && !d->oom)
		gql_error_set(d->err, NULL, "json: cannot unmarshal %s into Go value of type %s",
			      got ? rv_type_name(got) : "value", what);
	d->failed = true;
}

static void oom(struct dec *d)
{
	d->oom = true;
	d->failed = true;
}

static void *dalloc(struct dec *d, size_t len)
{
	void *p = gql_alloc(d->arena, len);

	if (!p)
		oom(d);
	return p;
}

/* The member Go's decoder fills for name: the last key, in sorted order,
 * equal to name ignoring ASCII case. Borrowed; NULL when absent. */
static const struct rv *member(const struct rv *obj, const char *name)
{
	const struct rv *found = NULL;

	for (size_t i = 0; i < rv_len(obj); i++) {
		struct rv *key, *value;

		rv_map_sorted_at(obj, i, &key, &value);
		if (rv_is(key, RV_STRING) && strlen(name) == rv_str_len(key) &&
		    strncasecmp(rv_str(key), name, rv_str_len(key)) == 0)
			found = value;
	}
	return found;
}

/* Members of the types with their own decoders match exactly. */
static const struct rv *exact(const struct rv *obj, const char *name)
{
	return rv_object_get_str(obj, name);
}

static void dec_string(struct dec *d, const struct rv *v, const char **out)
{
	if (!v || rv_is(v, RV_NULL))
		return;
	if (!rv_is(v, RV_STRING)) {
		fail(d, "string", v);
		return;
	}
	*out = gql_strndup(d->arena, rv_str(v), rv_str_len(v));
	if (!*out)
		oom(d);
}

static void dec_bool(struct dec *d, const struct rv *v, bool *out)
{
	if (!v || rv_is(v, RV_NULL))
		return;
	if (!rv_is(v, RV_BOOL)) {
		fail(d, "bool", v);
		return;
	}
	*out = v->u.boolean;
}

static void dec_int(struct dec *d, const struct rv *v, int64_t *out)
{
	if (!v || rv_is(v, RV_NULL))
		return;
	if (!rv_is(v, RV_NUMBER) || !rv_number_to_i64(v, out))
		fail(d, "int", v);
}

static void dec_pos(struct dec *d, const struct rv *v, struct gql_pos *pos)
{
	int64_t line = 0, col = 0;

	if (!v || rv_is(v, RV_NULL))
		return;
	if (!rv_is(v, RV_OBJECT)) {
		fail(d, "ast.Position", v);
		return;
	}
	dec_int(d, member(v, "Line"), &line);
	dec_int(d, member(v, "Column"), &col);
	if (line > 0 && line < INT32_MAX && col >= 0 && col < INT32_MAX) {
		pos->line = (int)line;
		pos->col = (int)col;
	}
}

/* A member decoded only for its JSON type. */
static void dec_ignored(struct dec *d, const struct rv *v, const char *what)
{
	if (v && !rv_is(v, RV_NULL) && !rv_is(v, RV_OBJECT))
		fail(d, what, v);
}

typedef void *(*dec_fn)(struct dec *d, const struct rv *v);

/* A JSON array into a list of pointers; null items stay NULL. */
static void dec_list(struct dec *d, const struct rv *v, struct gql_list *out, dec_fn fn)
{
	if (!v || rv_is(v, RV_NULL))
		return;
	if (!rv_is(v, RV_ARRAY)) {
		fail(d, "list", v);
		return;
	}
	for (size_t i = 0; i < rv_array_len(v) && !d->failed; i++) {
		const struct rv *item = rv_array_at(v, i);
		void *node = rv_is(item, RV_NULL) ? NULL : fn(d, item);

		if (!rv_is(item, RV_NULL) && !node)
			return;
		if (gql_list_push(d->arena, out, node) < 0)
			oom(d);
	}
}

static void *dec_string_item(struct dec *d, const struct rv *v)
{
	const char *s = "";

	dec_string(d, v, &s);
	return d->failed ? NULL : (void *)s;
}

/* Like dec_list for []string: a null item decodes to "". */
static void dec_strings(struct dec *d, const struct rv *v, struct gql_list *out)
{
	if (!v || rv_is(v, RV_NULL))
		return;
	if (!rv_is(v, RV_ARRAY)) {
		fail(d, "[]string", v);
		return;
	}
	for (size_t i = 0; i < rv_array_len(v) && !d->failed; i++) {
		void *s = dec_string_item(d, rv_array_at(v, i));

		if (s && gql_list_push(d->arena, out, s) < 0)
			oom(d);
	}
}

static bool enter(struct dec *d, const struct rv *v, const char *what)
{
	if (!rv_is(v, RV_OBJECT)) {
		fail(d, what, v);
		return false;
	}
	if (d->depth >= GQL_MAX_DEPTH) {
		if (!d->failed)
			gql_error_set(d->err, NULL, "json: exceeded max depth");
		d->failed = true;
		return false;
	}
	d->depth++;
	return true;
}

static void *dec_type(struct dec *d, const struct rv *v)
{
	struct gql_type *t;

	if (!enter(d, v, "ast.Type"))
		return NULL;
	t = dalloc(d, sizeof(*t));
	if (t) {
		const struct rv *elem = member(v, "Elem");

		t->named = "";
		dec_string(d, member(v, "NamedType"), &t->named);
		if (elem && !rv_is(elem, RV_NULL))
			t->elem = dec_type(d, elem);
		dec_bool(d, member(v, "NonNull"), &t->non_null);
		dec_pos(d, member(v, "Position"), &t->pos);
	}
	d->depth--;
	return d->failed ? NULL : t;
}

static struct gql_type *dec_type_member(struct dec *d, const struct rv *v)
{
	if (!v || rv_is(v, RV_NULL))
		return NULL;
	return dec_type(d, v);
}

static void *dec_value(struct dec *d, const struct rv *v);

static void *dec_child(struct dec *d, const struct rv *v)
{
	struct gql_child *c;
	const struct rv *value;

	if (!enter(d, v, "ast.ChildValue"))
		return NULL;
	c = dalloc(d, sizeof(*c));
	if (c) {
		c->name = "";
		dec_string(d, member(v, "Name"), &c->name);
		value = member(v, "Value");
		if (value && !rv_is(value, RV_NULL))
			c->value = dec_value(d, value);
		dec_pos(d, member(v, "Position"), &c->pos);
	}
	d->depth--;
	return d->failed ? NULL : c;
}

static void *dec_value(struct dec *d, const struct rv *v)
{
	struct gql_value *value;

	if (!enter(d, v, "ast.Value"))
		return NULL;
	value = dalloc(d, sizeof(*value));
	if (value) {
		value->raw = "";
		dec_string(d, member(v, "Raw"), &value->raw);
		dec_list(d, member(v, "Children"), &value->children, dec_child);
		dec_int(d, member(v, "Kind"), &value->kind);
		dec_pos(d, member(v, "Position"), &value->pos);
		dec_bool(d, member(v, "ExpectedTypeHasDefault"), &value->expected_has_default);
		dec_ignored(d, member(v, "Definition"), "ast.Definition");
		dec_ignored(d, member(v, "VariableDefinition"), "ast.VariableDefinition");
		dec_ignored(d, member(v, "ExpectedType"), "ast.Type");
	}
	d->depth--;
	return d->failed ? NULL : value;
}

static struct gql_value *dec_value_member(struct dec *d, const struct rv *v)
{
	if (!v || rv_is(v, RV_NULL))
		return NULL;
	return dec_value(d, v);
}

static void *dec_argument(struct dec *d, const struct rv *v)
{
	struct gql_argument *a;

	if (!enter(d, v, "ast.Argument"))
		return NULL;
	a = dalloc(d, sizeof(*a));
	if (a) {
		a->name = "";
		dec_string(d, member(v, "Name"), &a->name);
		a->value = dec_value_member(d, member(v, "Value"));
		dec_pos(d, member(v, "Position"), &a->pos);
	}
	d->depth--;
	return d->failed ? NULL : a;
}

static void *dec_directive(struct dec *d, const struct rv *v)
{
	struct gql_directive *dir;

	if (!enter(d, v, "ast.Directive"))
		return NULL;
	dir = dalloc(d, sizeof(*dir));
	if (dir) {
		dir->name = "";
		dir->location = "";
		dec_string(d, member(v, "Name"), &dir->name);
		dec_list(d, member(v, "Arguments"), &dir->args, dec_argument);
		dec_pos(d, member(v, "Position"), &dir->pos);
		dec_ignored(d, member(v, "ParentDefinition"), "ast.Definition");
		dec_ignored(d, member(v, "Definition"), "ast.DirectiveDefinition");
		dec_string(d, member(v, "Location"), &dir->location);
	}
	d->depth--;
	return d->failed ? NULL : dir;
}

static void *dec_vardef(struct dec *d, const struct rv *v)
{
	struct gql_vardef *def;

	if (!enter(d, v, "ast.VariableDefinition"))
		return NULL;
	def = dalloc(d, sizeof(*def));
	if (def) {
		def->variable = "";
		dec_string(d, member(v, "Variable"), &def->variable);
		def->type = dec_type_member(d, member(v, "Type"));
		def->default_value = dec_value_member(d, member(v, "DefaultValue"));
		dec_list(d, member(v, "Directives"), &def->directives, dec_directive);
		dec_pos(d, member(v, "Position"), &def->pos);
		dec_ignored(d, member(v, "Definition"), "ast.Definition");
		dec_bool(d, member(v, "Used"), &def->used);
	}
	d->depth--;
	return d->failed ? NULL : def;
}

static void dec_selection_set(struct dec *d, const struct rv *v, struct gql_list *out);

/* One try at decoding a selection as kind; a failure leaves no trace. */
static struct gql_selection *try_selection(struct dec *d, const struct rv *v,
					   enum gql_selection_kind kind)
{
	struct dec sub = { .arena = d->arena, .err = d->err, .depth = d->depth };
	struct gql_error saved = *d->err;
	struct gql_selection *sel;
	const struct rv *null_obj = NULL;

	/* A null item decodes as an empty field: gqlparser's field decoder
	 * accepts JSON null. */
	if (rv_is(v, RV_NULL)) {
		if (kind != GQL_SEL_FIELD)
			return NULL;
		null_obj = v;
	} else if (!rv_is(v, RV_OBJECT)) {
		return NULL;
	}
	if (d->depth >= GQL_MAX_DEPTH) {
		fail(d, "ast.SelectionSet", v);
		return NULL;
	}
	sel = dalloc(d, sizeof(*sel));
	if (!sel)
		return NULL;
	sel->kind = kind;
	sel->alias = "";
	sel->name = "";
	sel->type_cond = "";
	if (null_obj)
		return sel;

	sub.depth++;
	switch (kind) {
	case GQL_SEL_FIELD:
		dec_string(&sub, exact(v, "Alias"), &sel->alias);
		dec_string(&sub, exact(v, "Name"), &sel->name);
		dec_list(&sub, exact(v, "Arguments"), &sel->args, dec_argument);
		dec_list(&sub, exact(v, "Directives"), &sel->directives, dec_directive);
		dec_selection_set(&sub, exact(v, "SelectionSet"), &sel->selset);
		dec_pos(&sub, exact(v, "Position"), &sel->pos);
		dec_ignored(&sub, exact(v, "Definition"), "ast.FieldDefinition");
		dec_ignored(&sub, exact(v, "ObjectDefinition"), "ast.Definition");
		break;
	case GQL_SEL_SPREAD:
		dec_string(&sub, member(v, "Name"), &sel->name);
		dec_list(&sub, member(v, "Directives"), &sel->directives, dec_directive);
		dec_ignored(&sub, member(v, "ObjectDefinition"), "ast.Definition");
		dec_ignored(&sub, member(v, "Definition"), "ast.FragmentDefinition");
		dec_pos(&sub, member(v, "Position"), &sel->pos);
		break;
	case GQL_SEL_INLINE:
		dec_string(&sub, exact(v, "TypeCondition"), &sel->type_cond);
		dec_list(&sub, exact(v, "Directives"), &sel->directives, dec_directive);
		dec_selection_set(&sub, exact(v, "SelectionSet"), &sel->selset);
		dec_ignored(&sub, exact(v, "ObjectDefinition"), "ast.Definition");
		dec_pos(&sub, exact(v, "Position"), &sel->pos);
		break;
	}
	if (sub.oom) {
		oom(d);
		return NULL;
	}
	if (sub.failed) {
		*d->err = saved;
		return NULL;
	}
	return sel;
}

/* gqlparser's selection decoder tries a field, then a fragment spread, then
 * an inline fragment, and drops an item none of them accepts. */
static void dec_selection_set(struct dec *d, const struct rv *v, struct gql_list *out)
{
	static const enum gql_selection_kind order[] = {
		GQL_SEL_FIELD, GQL_SEL_SPREAD, GQL_SEL_INLINE,
	};

	if (!v || rv_is(v, RV_NULL))
		return;
	if (!rv_is(v, RV_ARRAY)) {
		fail(d, "ast.SelectionSet", v);
		return;
	}
	for (size_t i = 0; i < rv_array_len(v) && !d->failed; i++) {
		for (size_t k = 0; k < WD_ARRAY_LEN(order) && !d->failed; k++) {
			struct gql_selection *sel = try_selection(d, rv_array_at(v, i), order[k]);

			if (sel) {
				if (gql_list_push(d->arena, out, sel) < 0)
					oom(d);
				break;
			}
		}
	}
}

static void *dec_operation(struct dec *d, const struct rv *v)
{
	struct gql_operation *op;

	if (!enter(d, v, "ast.OperationDefinition"))
		return NULL;
	op = dalloc(d, sizeof(*op));
	if (op) {
		op->operation = "";
		op->name = "";
		dec_string(d, exact(v, "Operation"), &op->operation);
		dec_string(d, exact(v, "Name"), &op->name);
		dec_list(d, exact(v, "VariableDefinitions"), &op->vardefs, dec_vardef);
		dec_list(d, exact(v, "Directives"), &op->directives, dec_directive);
		dec_selection_set(d, exact(v, "SelectionSet"), &op->selset);
		dec_pos(d, exact(v, "Position"), &op->pos);
	}
	d->depth--;
	return d->failed ? NULL : op;
}

static void *dec_fragment(struct dec *d, const struct rv *v)
{
	struct gql_fragment *f;

	if (!enter(d, v, "ast.FragmentDefinition"))
		return NULL;
	f = dalloc(d, sizeof(*f));
	if (f) {
		f->name = "";
		f->type_cond = "";
		dec_string(d, exact(v, "Name"), &f->name);
		dec_list(d, exact(v, "VariableDefinition"), &f->vardefs, dec_vardef);
		dec_string(d, exact(v, "TypeCondition"), &f->type_cond);
		dec_list(d, exact(v, "Directives"), &f->directives, dec_directive);
		dec_selection_set(d, exact(v, "SelectionSet"), &f->selset);
		dec_ignored(d, exact(v, "Definition"), "ast.Definition");
		dec_pos(d, exact(v, "Position"), &f->pos);
	}
	d->depth--;
	return d->failed ? NULL : f;
}

struct gql_query_doc *gql_query_from_value(struct gql_arena *arena, const struct rv *v,
					   struct gql_error *err)
{
	struct dec d = { .arena = arena, .err = err };
	struct gql_query_doc *doc;

	memset(err, 0, sizeof(*err));
	doc = dalloc(&d, sizeof(*doc));
	if (!doc)
		return NULL;
	dec_list(&d, member(v, "Operations"), &doc->operations, dec_operation);
	dec_list(&d, member(v, "Fragments"), &doc->fragments, dec_fragment);
	dec_pos(&d, member(v, "Position"), &(struct gql_pos){ 0 });
	if (d.oom)
		err->msg[0] = '\0';
	return d.failed ? NULL : doc;
}

/* ---- schema documents ---- */

/* A field, input field or argument definition. */
static void *dec_fielddef(struct dec *d, const struct rv *v)
{
	struct gql_fielddef *f;

	if (!enter(d, v, "ast.FieldDefinition"))
		return NULL;
	f = dalloc(d, sizeof(*f));
	if (f) {
		f->description = "";
		f->name = "";
		dec_string(d, member(v, "Description"), &f->description);
		dec_string(d, member(v, "Name"), &f->name);
		dec_list(d, member(v, "Arguments"), &f->args, dec_fielddef);
		f->default_value = dec_value_member(d, member(v, "DefaultValue"));
		f->type = dec_type_member(d, member(v, "Type"));
		dec_list(d, member(v, "Directives"), &f->directives, dec_directive);
		dec_pos(d, member(v, "Position"), &f->pos);
	}
	d->depth--;
	return d->failed ? NULL : f;
}

static void *dec_enumvalue(struct dec *d, const struct rv *v)
{
	struct gql_enumvalue *e;

	if (!enter(d, v, "ast.EnumValueDefinition"))
		return NULL;
	e = dalloc(d, sizeof(*e));
	if (e) {
		e->description = "";
		e->name = "";
		dec_string(d, member(v, "Description"), &e->description);
		dec_string(d, member(v, "Name"), &e->name);
		dec_list(d, member(v, "Directives"), &e->directives, dec_directive);
		dec_pos(d, member(v, "Position"), &e->pos);
	}
	d->depth--;
	return d->failed ? NULL : e;
}

static void *dec_definition(struct dec *d, const struct rv *v)
{
	struct gql_def *def;

	if (!enter(d, v, "ast.Definition"))
		return NULL;
	def = dalloc(d, sizeof(*def));
	if (def) {
		def->kind = "";
		def->description = "";
		def->name = "";
		dec_string(d, member(v, "Kind"), &def->kind);
		dec_string(d, member(v, "Description"), &def->description);
		dec_string(d, member(v, "Name"), &def->name);
		dec_list(d, member(v, "Directives"), &def->directives, dec_directive);
		dec_strings(d, member(v, "Interfaces"), &def->interfaces);
		dec_list(d, member(v, "Fields"), &def->fields, dec_fielddef);
		dec_strings(d, member(v, "Types"), &def->types);
		dec_list(d, member(v, "EnumValues"), &def->enum_values, dec_enumvalue);
		dec_pos(d, member(v, "Position"), &def->pos);
		dec_bool(d, member(v, "BuiltIn"), &def->builtin);
	}
	d->depth--;
	return d->failed ? NULL : def;
}

static void *dec_optype(struct dec *d, const struct rv *v)
{
	struct gql_optype *op;

	if (!enter(d, v, "ast.OperationTypeDefinition"))
		return NULL;
	op = dalloc(d, sizeof(*op));
	if (op) {
		op->operation = "";
		op->type = "";
		dec_string(d, member(v, "Operation"), &op->operation);
		dec_string(d, member(v, "Type"), &op->type);
		dec_pos(d, member(v, "Position"), &op->pos);
	}
	d->depth--;
	return d->failed ? NULL : op;
}

static void *dec_schemadef(struct dec *d, const struct rv *v)
{
	struct gql_schemadef *s;

	if (!enter(d, v, "ast.SchemaDefinition"))
		return NULL;
	s = dalloc(d, sizeof(*s));
	if (s) {
		s->description = "";
		dec_string(d, member(v, "Description"), &s->description);
		dec_list(d, member(v, "Directives"), &s->directives, dec_directive);
		dec_list(d, member(v, "OperationTypes"), &s->optypes, dec_optype);
		dec_pos(d, member(v, "Position"), &s->pos);
	}
	d->depth--;
	return d->failed ? NULL : s;
}

static void *dec_dirdef(struct dec *d, const struct rv *v)
{
	struct gql_dirdef *dir;

	if (!enter(d, v, "ast.DirectiveDefinition"))
		return NULL;
	dir = dalloc(d, sizeof(*dir));
	if (dir) {
		dir->description = "";
		dir->name = "";
		dec_string(d, member(v, "Description"), &dir->description);
		dec_string(d, member(v, "Name"), &dir->name);
		dec_list(d, member(v, "Arguments"), &dir->args, dec_fielddef);
		dec_strings(d, member(v, "Locations"), &dir->locations);
		dec_bool(d, member(v, "IsRepeatable"), &dir->repeatable);
		dec_pos(d, member(v, "Position"), &dir->pos);
	}
	d->depth--;
	return d->failed ? NULL : dir;
}

struct gql_schema_doc *gql_schema_from_value(struct gql_arena *arena, const struct rv *v,
					     struct gql_error *err)
{
	struct dec d = { .arena = arena, .err = err };
	struct gql_schema_doc *doc;

	memset(err, 0, sizeof(*err));
	doc = dalloc(&d, sizeof(*doc));
	if (!doc)
		return NULL;
	dec_list(&d, member(v, "Schema"), &doc->schema, dec_schemadef);
	dec_list(&d, member(v, "SchemaExtension"), &doc->schema_ext, dec_schemadef);
	dec_list(&d, member(v, "Directives"), &doc->directives, dec_dirdef);
	dec_list(&d, member(v, "Definitions"), &doc->definitions, dec_definition);
	dec_list(&d, member(v, "Extensions"), &doc->extensions, dec_definition);
	dec_pos(&d, member(v, "Position"), &(struct gql_pos){ 0 });
	if (d.oom)
		err->msg[0] = '\0';
	return d.failed ? NULL : doc;
}
