/* GraphQL type systems: merges the built-in prelude with a schema document
 * and checks it as gqlparser's ValidateSchemaDocument does, which decides
 * graphql.schema_is_valid and the schema half of the other builtins. */
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "policy/gql.h"

/* The types and directives every schema has (spec sections 3.5, 3.13 and
 * 4.5): scalars, @include, @skip, @deprecated, @specifiedBy and the
 * introspection types. Descriptions are left out: no builtin returns them. */
static const char prelude[] =
	"scalar Int\n"
	"scalar Float\n"
	"scalar String\n"
	"scalar Boolean\n"
	"scalar ID\n"
	"directive @include(if: Boolean!) on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT\n"
	"directive @skip(if: Boolean!) on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT\n"
	"directive @deprecated(reason: String = \"No longer supported\") on FIELD_DEFINITION"
	" | ARGUMENT_DEFINITION | INPUT_FIELD_DEFINITION | ENUM_VALUE\n"
	"directive @specifiedBy(url: String!) on SCALAR\n"
	"type __Schema { description: String types: [__Type!]! queryType: __Type!"
	" mutationType: __Type subscriptionType: __Type directives: [__Directive!]! }\n"
	"type __Type { kind: __TypeKind! name: String description: String"
	" fields(includeDeprecated: Boolean = false): [__Field!] interfaces: [__Type!]"
	" possibleTypes: [__Type!] enumValues(includeDeprecated: Boolean = false): [__EnumValue!]"
	" inputFields: [__InputValue!] ofType: __Type specifiedByURL: String }\n"
	"type __Field { name: String! description: String args: [__InputValue!]! type: __Type!"
	" isDeprecated: Boolean! deprecationReason: String }\n"
	"type __InputValue { name: String! description: String type: __Type!"
	" defaultValue: String }\n"
	"type __EnumValue { name: String! description: String isDeprecated: Boolean!"
	" deprecationReason: String }\n"
	"enum __TypeKind { SCALAR OBJECT INTERFACE UNION ENUM INPUT_OBJECT LIST NON_NULL }\n"
	"type __Directive { name: String! description: String locations: [__DirectiveLocation!]!"
	" args: [__InputValue!]! isRepeatable: Boolean! }\n"
	"enum __DirectiveLocation { QUERY MUTATION SUBSCRIPTION FIELD FRAGMENT_DEFINITION"
	" FRAGMENT_SPREAD INLINE_FRAGMENT VARIABLE_DEFINITION SCHEMA SCALAR OBJECT"
	" FIELD_DEFINITION ARGUMENT_DEFINITION INTERFACE UNION ENUM ENUM_VALUE INPUT_OBJECT"
	" INPUT_FIELD_DEFINITION }\n";

/* ---- small helpers ---- */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 1099511628211ull;
	}
	return h;
}

void *gql_map_get(const struct gql_map *map, const char *key)
{
	if (!map->cap || !key)
		return NULL;
	for (size_t i = hash_str(key) & (map->cap - 1);; i = (i + 1) & (map->cap - 1)) {
		if (!map->keys[i])
			return NULL;
		if (strcmp(map->keys[i], key) == 0)
			return map->values[i];
	}
}

int gql_map_put(struct gql_arena *arena, struct gql_map *map, const char *key, void *value)
{
	size_t i;

	if (!key)
		key = "";
	if ((map->len + 1) * 2 > map->cap) {
		struct gql_map bigger = { .cap = map->cap ? map->cap * 2 : 16 };

		bigger.keys = gql_alloc(arena, bigger.cap * sizeof(*bigger.keys));
		bigger.values = gql_alloc(arena, bigger.cap * sizeof(*bigger.values));
		if (!bigger.keys || !bigger.values)
			return WD_ENOMEM;
		for (size_t k = 0; k < map->cap; k++)
			if (map->keys[k])
				WD_TRY(gql_map_put(arena, &bigger, map->keys[k], map->values[k]));
		*map = bigger;
	}
	for (i = hash_str(key) & (map->cap - 1); map->keys[i]; i = (i + 1) & (map->cap - 1)) {
		if (strcmp(map->keys[i], key) == 0) {
			map->values[i] = value;
			return 0;
		}
	}
	map->keys[i] = key;
	map->values[i] = value;
	map->len++;
	return 0;
}

void gql_map_clear(struct gql_map *map)
{
	if (map->cap) {
		memset(map->keys, 0, map->cap * sizeof(*map->keys));
		memset(map->values, 0, map->cap * sizeof(*map->values));
	}
	map->len = 0;
}

const char *gql_type_name(const struct gql_type *type)
{
	for (int depth = 0; type && depth <= GQL_MAX_DEPTH + 1; depth++) {
		if (type->named && type->named[0])
			return type->named;
		type = type->elem;
	}
	return "";
}

int gql_type_string(const struct gql_type *type, struct wd_buf *out)
{
	size_t depth = 0;
	const struct gql_type *t;

	for (t = type; t && !(t->named && t->named[0]) && depth <= GQL_MAX_DEPTH; t = t->elem)
		depth++;
	for (size_t i = 0; i < depth; i++)
		WD_TRY(wd_buf_append_byte(out, '['));
	if (t && t->named)
		WD_TRY(wd_buf_append_str(out, t->named));
	if (t && t->non_null)
		WD_TRY(wd_buf_append_byte(out, '!'));
	/* Close the lists from the innermost outwards. */
	for (size_t i = depth; i > 0; i--) {
		const struct gql_type *level = type;

		for (size_t k = 1; k < i; k++)
			level = level->elem;
		WD_TRY(wd_buf_append_byte(out, ']'));
		if (level->non_null)
			WD_TRY(wd_buf_append_byte(out, '!'));
	}
	return 0;
}

struct gql_fielddef *gql_find_field(const struct gql_list *fields, const char *name)
{
	for (size_t i = 0; i < fields->len; i++) {
		struct gql_fielddef *f = fields->items[i];

		if (f && f->name && strcmp(f->name, name) == 0)
			return f;
	}
	return NULL;
}

static bool kind_is(const struct gql_def *def, const char *kind)
{
	return def && def->kind && strcmp(def->kind, kind) == 0;
}

bool gql_def_is_input(const struct gql_def *def)
{
	return kind_is(def, "SCALAR") || kind_is(def, "ENUM") || kind_is(def, "INPUT_OBJECT");
}

bool gql_def_is_leaf(const struct gql_def *def)
{
	return kind_is(def, "SCALAR") || kind_is(def, "ENUM");
}

bool gql_def_is_composite(const struct gql_def *def)
{
	return kind_is(def, "OBJECT") || kind_is(def, "INTERFACE") || kind_is(def, "UNION");
}

static const char *str_or_empty(const char *s)
{
	return s ? s : "";
}

/* ---- building ---- */

struct builder {
	struct gql_arena *arena;
	struct gql_schema *schema;
	struct gql_error *err;
};

static int list_add(struct builder *b, struct gql_map *map, const char *name, struct gql_def *def)
{
	struct gql_list *list = gql_map_get(map, name);

	if (!list) {
		list = gql_alloc(b->arena, sizeof(*list));
		if (!list)
			return WD_ENOMEM;
		WD_TRY(gql_map_put(b->arena, map, name, list));
	}
	return gql_list_push(b->arena, list, def);
}

static int append_all(struct builder *b, struct gql_list *dst, const struct gql_list *src)
{
	for (size_t i = 0; i < src->len; i++)
		WD_TRY(gql_list_push(b->arena, dst, src->items[i]));
	return 0;
}

/* Root operation types named by a schema definition or extension. */
static int set_roots(struct builder *b, const struct gql_schemadef *sd)
{
	for (size_t i = 0; i < sd->optypes.len; i++) {
		const struct gql_optype *op = sd->optypes.items[i];
		struct gql_def *def;

		if (!op)
			continue;
		def = gql_map_get(&b->schema->types, str_or_empty(op->type));
		if (!def) {
			gql_error_set(b->err, &op->pos,
				      "Schema root %s refers to a type %s that does not exist.",
				      str_or_empty(op->operation), str_or_empty(op->type));
			return WD_EINVAL;
		}
		if (strcmp(str_or_empty(op->operation), "query") == 0)
			b->schema->query = def;
		else if (strcmp(str_or_empty(op->operation), "mutation") == 0)
			b->schema->mutation = def;
		else if (strcmp(str_or_empty(op->operation), "subscription") == 0)
			b->schema->subscription = def;
	}
	return 0;
}

static int add_definitions(struct builder *b, const struct gql_list *defs, struct gql_list *all)
{
	for (size_t i = 0; i < defs->len; i++) {
		const struct gql_def *src = defs->items[i];
		struct gql_def *def;

		if (!src)
			continue;
		if (gql_map_get(&b->schema->types, str_or_empty(src->name))) {
			gql_error_set(b->err, &src->pos, "Cannot redeclare type %s.",
				      str_or_empty(src->name));
			return WD_EINVAL;
		}
		/* A copy, so extensions and the introspection fields never
		 * change the caller's document. */
		def = gql_alloc(b->arena, sizeof(*def));
		if (!def)
			return WD_ENOMEM;
		*def = *src;
		def->kind = str_or_empty(def->kind);
		def->name = str_or_empty(def->name);
		WD_TRY(gql_map_put(b->arena, &b->schema->types, def->name, def));
		WD_TRY(gql_list_push(b->arena, all, def));
	}
	return 0;
}

static int apply_extensions(struct builder *b, const struct gql_list *exts, struct gql_list *all)
{
	for (size_t i = 0; i < exts->len; i++) {
		const struct gql_def *ext = exts->items[i];
		const char *name, *kind;
		struct gql_def *def;

		if (!ext)
			continue;
		name = str_or_empty(ext->name);
		kind = str_or_empty(ext->kind);
		def = gql_map_get(&b->schema->types, name);
		if (!def) {
			/* Extending an undefined type defines it (gqlparser). */
			def = gql_alloc(b->arena, sizeof(*def));
			if (!def)
				return WD_ENOMEM;
			def->kind = kind;
			def->name = name;
			def->description = "";
			def->pos = ext->pos;
			WD_TRY(gql_map_put(b->arena, &b->schema->types, name, def));
			WD_TRY(gql_list_push(b->arena, all, def));
		}
		if (strcmp(def->kind, kind) != 0) {
			gql_error_set(b->err, &ext->pos,
				      "Cannot extend type %s because the base type is a %s, not %s.",
				      name, def->kind, kind);
			return WD_EINVAL;
		}
		WD_TRY(append_all(b, &def->directives, &ext->directives));
		WD_TRY(append_all(b, &def->interfaces, &ext->interfaces));
		WD_TRY(append_all(b, &def->fields, &ext->fields));
		WD_TRY(append_all(b, &def->types, &ext->types));
		WD_TRY(append_all(b, &def->enum_values, &ext->enum_values));
	}
	return 0;
}

/* The possible-types and implements indexes; a name with no definition
 * contributes a NULL entry, as gqlparser's map lookups do. */
static int index_types(struct builder *b, const struct gql_list *all)
{
	struct gql_schema *s = b->schema;

	for (size_t i = 0; i < all->len; i++) {
		struct gql_def *def = all->items[i];

		if (kind_is(def, "UNION")) {
			for (size_t k = 0; k < def->types.len; k++) {
				const char *t = str_or_empty(def->types.items[k]);

				WD_TRY(list_add(b, &s->possible, def->name, gql_map_get(&s->types, t)));
				WD_TRY(list_add(b, &s->implements, t, def));
			}
		} else if (kind_is(def, "INPUT_OBJECT") || kind_is(def, "OBJECT") ||
			   kind_is(def, "INTERFACE")) {
			for (size_t k = 0; k < def->interfaces.len; k++) {
				const char *intf = str_or_empty(def->interfaces.items[k]);

				WD_TRY(list_add(b, &s->possible, intf, def));
				WD_TRY(list_add(b, &s->implements, def->name,
						gql_map_get(&s->types, intf)));
			}
			if (!kind_is(def, "INTERFACE"))
				WD_TRY(list_add(b, &s->possible, def->name, def));
		}
	}
	return 0;
}

static int add_directives(struct builder *b, const struct gql_list *dirs)
{
	static const char *const builtins[] = { "include", "skip", "deprecated", "specifiedBy" };

	for (size_t i = 0; i < dirs->len; i++) {
		struct gql_dirdef *dir = dirs->items[i];
		const char *name;
		bool builtin = false;

		if (!dir)
			continue;
		name = str_or_empty(dir->name);
		if (gql_map_get(&b->schema->directives, name)) {
			/* The spec lets SDL restate the built-in directives; the
			 * later definition replaces the earlier one, as in
			 * gqlparser. */
			for (size_t k = 0; k < WD_ARRAY_LEN(builtins); k++)
				if (strcmp(name, builtins[k]) == 0)
					builtin = true;
			if (!builtin) {
				gql_error_set(b->err, &dir->pos, "Cannot redeclare directive %s.", name);
				return WD_EINVAL;
			}
		}
		WD_TRY(gql_map_put(b->arena, &b->schema->directives, name, dir));
	}
	return 0;
}

static struct gql_type *named_type(struct gql_arena *arena, const char *name, bool non_null)
{
	struct gql_type *t = gql_alloc(arena, sizeof(*t));

	if (t) {
		t->named = name;
		t->non_null = non_null;
	}
	return t;
}

/* The introspection fields gqlparser adds to the query root type. */
static int add_introspection(struct builder *b)
{
	struct gql_def *query = b->schema->query;
	struct gql_fielddef *schema_field = gql_alloc(b->arena, sizeof(*schema_field));
	struct gql_fielddef *type_field = gql_alloc(b->arena, sizeof(*type_field));
	struct gql_fielddef *name_arg = gql_alloc(b->arena, sizeof(*name_arg));

	if (!schema_field || !type_field || !name_arg)
		return WD_ENOMEM;
	schema_field->name = "__schema";
	schema_field->description = "";
	schema_field->type = named_type(b->arena, "__Schema", true);
	type_field->name = "__type";
	type_field->description = "";
	type_field->type = named_type(b->arena, "__Type", false);
	name_arg->name = "name";
	name_arg->description = "";
	name_arg->type = named_type(b->arena, "String", true);
	if (!schema_field->type || !type_field->type || !name_arg->type)
		return WD_ENOMEM;
	WD_TRY(gql_list_push(b->arena, &type_field->args, name_arg));
	WD_TRY(gql_list_push(b->arena, &query->fields, schema_field));
	return gql_list_push(b->arena, &query->fields, type_field);
}

static int build(struct builder *b, const struct gql_schema_doc *pre, const struct gql_schema_doc *doc)
{
	struct gql_schema *s = b->schema;
	struct gql_list all = { 0 };
	size_t nschema = pre->schema.len + doc->schema.len;

	WD_TRY(add_definitions(b, &pre->definitions, &all));
	WD_TRY(add_definitions(b, &doc->definitions, &all));
	WD_TRY(apply_extensions(b, &pre->extensions, &all));
	WD_TRY(apply_extensions(b, &doc->extensions, &all));
	WD_TRY(index_types(b, &all));
	WD_TRY(add_directives(b, &pre->directives));
	WD_TRY(add_directives(b, &doc->directives));

	if (nschema > 1) {
		/* The prelude has no schema definition. */
		const struct gql_schemadef *second = doc->schema.items[1];

		gql_error_set(b->err, second ? &second->pos : NULL,
			      "Cannot have multiple schema entry points, consider schema extensions instead.");
		return WD_EINVAL;
	}
	if (nschema == 1 && doc->schema.items[0])
		WD_TRY(set_roots(b, doc->schema.items[0]));
	for (size_t i = 0; i < doc->schema_ext.len; i++)
		if (doc->schema_ext.items[i])
			WD_TRY(set_roots(b, doc->schema_ext.items[i]));

	WD_TRY(gql_schema_check(b->arena, s, b->err));

	/* Without a schema definition the roots go by their conventional
	 * names. */
	if (nschema == 0) {
		if (!s->query)
			s->query = gql_map_get(&s->types, "Query");
		if (!s->mutation)
			s->mutation = gql_map_get(&s->types, "Mutation");
		if (!s->subscription)
			s->subscription = gql_map_get(&s->types, "Subscription");
	}
	if (s->query)
		WD_TRY(add_introspection(b));
	return 0;
}

struct gql_schema *gql_schema_build(struct gql_arena *arena, const struct gql_schema_doc *doc,
				    struct gql_error *err)
{
	struct gql_schema_doc *pre;
	struct builder b = { .arena = arena, .err = err };
	int rc;

	memset(err, 0, sizeof(*err));
	pre = gql_parse_schema(arena, prelude, sizeof(prelude) - 1, true, err);
	if (!pre)
		return NULL;
	b.schema = gql_alloc(arena, sizeof(*b.schema));
	if (!b.schema)
		return NULL;
	rc = build(&b, pre, doc);
	if (rc < 0) {
		if (rc != WD_EINVAL)
			err->msg[0] = '\0';
		return NULL;
	}
	return b.schema;
}
