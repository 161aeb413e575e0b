/* GraphQL type-system rules (spec section 3, October 2021 edition) in the
 * order and wording of gqlparser's schema validator: names, type
 * references, argument and field types, interfaces, unions and directives. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "policy/gql.h"

struct checker {
	struct gql_arena *arena;
	struct gql_schema *schema;
	struct gql_error *err;
};

static const char *s_or(const char *s)
{
	return s ? s : "";
}

static int fail(struct checker *c, const struct gql_pos *pos, const char *fmt, ...)
	WD_PRINTF(3, 4);

static int fail(struct checker *c, const struct gql_pos *pos, const char *fmt, ...)
{
	va_list ap;
	char msg[sizeof(c->err->msg)];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	gql_error_set(c->err, pos, "%s", msg);
	return WD_EINVAL;
}

/* A name quoted as Go's strconv.Quote writes it. */
static const char *quoted(char *out, size_t cap, const char *s)
{
	struct wd_buf buf;

	wd_buf_init(&buf, 64, cap - 1);
	if (gql_quote(&buf, s_or(s)) < 0)
		snprintf(out, cap, "\"%s\"", s_or(s));
	else
		snprintf(out, cap, "%s", wd_buf_str(&buf));
	wd_buf_free(&buf);
	return out;
}

static const char *type_text(char *out, size_t cap, const struct gql_type *type)
{
	struct wd_buf buf;

	wd_buf_init(&buf, 64, cap - 1);
	if (gql_type_string(type, &buf) < 0)
		snprintf(out, cap, "%s", gql_type_name(type));
	else
		snprintf(out, cap, "%s", wd_buf_str(&buf));
	wd_buf_free(&buf);
	return out;
}

static struct gql_def *lookup(struct checker *c, const char *name)
{
	return gql_map_get(&c->schema->types, s_or(name));
}

static bool kind_is(const struct gql_def *def, const char *kind)
{
	return def && strcmp(s_or(def->kind), kind) == 0;
}

static int check_name(struct checker *c, const struct gql_pos *pos, const char *name)
{
	if (strncmp(s_or(name), "__", 2) == 0)
		return fail(c, pos,
			    "Name \"%s\" must not begin with \"__\", which is reserved by GraphQL introspection.",
			    name);
	return 0;
}

static int check_type_ref(struct checker *c, const struct gql_type *type)
{
	static const struct gql_pos none = { 0 };

	if (!lookup(c, gql_type_name(type)))
		return fail(c, type ? &type->pos : &none, "Undefined type %s.", gql_type_name(type));
	return 0;
}

static int check_directives(struct checker *c, const struct gql_list *dirs, const char *location,
			    const struct gql_dirdef *current)
{
	for (size_t i = 0; i < dirs->len; i++) {
		const struct gql_directive *dir = dirs->items[i];
		const struct gql_dirdef *def;
		bool applicable = false;

		if (!dir)
			continue;
		WD_TRY(check_name(c, &dir->pos, dir->name));
		if (current && strcmp(s_or(dir->name), s_or(current->name)) == 0)
			return fail(c, &dir->pos, "Directive %s cannot refer to itself.", s_or(current->name));
		def = gql_map_get(&c->schema->directives, s_or(dir->name));
		if (!def)
			return fail(c, &dir->pos, "Undefined directive %s.", s_or(dir->name));
		for (size_t k = 0; k < def->locations.len; k++)
			if (strcmp(s_or(def->locations.items[k]), location) == 0)
				applicable = true;
		if (!applicable)
			return fail(c, &dir->pos, "Directive %s is not applicable on %s.", s_or(dir->name),
				    location);
	}
	return 0;
}

static int check_args(struct checker *c, const struct gql_list *args, const struct gql_dirdef *current)
{
	char text[256];

	for (size_t i = 0; i < args->len; i++) {
		const struct gql_fielddef *arg = args->items[i];
		const struct gql_def *def;

		if (!arg)
			continue;
		WD_TRY(check_name(c, &arg->pos, arg->name));
		WD_TRY(check_type_ref(c, arg->type));
		def = lookup(c, gql_type_name(arg->type));
		if (!gql_def_is_input(def))
			return fail(c, &arg->pos,
				    "cannot use %s as argument %s because %s is not a valid input type",
				    type_text(text, sizeof(text), arg->type), s_or(arg->name), s_or(def->kind));
		WD_TRY(check_directives(c, &arg->directives, "ARGUMENT_DEFINITION", current));
	}
	return 0;
}

static bool is_covariant(struct checker *c, const struct gql_type *required,
			 const struct gql_type *actual, int depth)
{
	if (!required || !actual || depth > GQL_MAX_DEPTH)
		return false;
	if (required->non_null && !actual->non_null)
		return false;
	if (required->named && required->named[0]) {
		const struct gql_list *possible;

		if (strcmp(required->named, s_or(actual->named)) == 0)
			return true;
		possible = gql_map_get(&c->schema->possible, required->named);
		for (size_t i = 0; possible && i < possible->len; i++) {
			const struct gql_def *pt = possible->items[i];

			if (pt && strcmp(s_or(pt->name), s_or(actual->named)) == 0)
				return true;
		}
		return false;
	}
	if (required->elem && !actual->elem)
		return false;
	return is_covariant(c, required->elem, actual->elem, depth + 1);
}

/* gqlparser's Type.IsCompatible for argument types. */
bool gql_type_compatible(const struct gql_type *t, const struct gql_type *other, int depth)
{
	if (!t || !other || depth > GQL_MAX_DEPTH)
		return t == other;
	if (strcmp(s_or(t->named), s_or(other->named)) != 0)
		return false;
	if (t->elem && !other->elem)
		return false;
	if (t->elem && !gql_type_compatible(t->elem, other->elem, depth + 1))
		return false;
	if (other->non_null)
		return t->non_null;
	return true;
}

static bool has_string(const struct gql_list *list, const char *s)
{
	for (size_t i = 0; i < list->len; i++)
		if (strcmp(s_or(list->items[i]), s) == 0)
			return true;
	return false;
}

static int check_implements_field(struct checker *c, const struct gql_def *def,
				  const struct gql_def *intf, const struct gql_fielddef *required)
{
	const struct gql_fielddef *found = gql_find_field(&def->fields, s_or(required->name));
	char text[256];

	if (!found)
		return fail(c, &def->pos, "For %s to implement %s it must have a field called %s.",
			    def->name, s_or(intf->name), s_or(required->name));
	if (!is_covariant(c, required->type, found->type, 0))
		return fail(c, &found->pos, "For %s to implement %s the field %s must have type %s.",
			    def->name, s_or(intf->name), s_or(required->name),
			    type_text(text, sizeof(text), required->type));

	for (size_t i = 0; i < required->args.len; i++) {
		const struct gql_fielddef *req_arg = required->args.items[i];
		const struct gql_fielddef *arg;

		if (!req_arg)
			continue;
		arg = gql_find_field(&found->args, s_or(req_arg->name));
		if (!arg)
			return fail(c, &found->pos,
				    "For %s to implement %s the field %s must have the same arguments but it is missing %s.",
				    def->name, s_or(intf->name), s_or(required->name), s_or(req_arg->name));
		if (!gql_type_compatible(req_arg->type, arg->type, 0))
			return fail(c, &arg->pos,
				    "For %s to implement %s the field %s must have the same arguments but %s has the wrong type.",
				    def->name, s_or(intf->name), s_or(required->name), s_or(req_arg->name));
	}
	for (size_t i = 0; i < found->args.len; i++) {
		const struct gql_fielddef *arg = found->args.items[i];

		if (!arg)
			continue;
		if (!gql_find_field(&required->args, s_or(arg->name)) && arg->type &&
		    arg->type->non_null && !arg->default_value)
			return fail(c, &arg->pos,
				    "For %s to implement %s any additional arguments on %s must be optional or have a default value but %s is required.",
				    def->name, s_or(intf->name), s_or(found->name), s_or(arg->name));
	}
	return 0;
}

static int check_implements(struct checker *c, const struct gql_def *def, const char *intf_name)
{
	const struct gql_def *intf = lookup(c, intf_name);
	char q[256];

	if (!intf)
		return fail(c, &def->pos, "Undefined type %s.", quoted(q, sizeof(q), intf_name));
	if (!kind_is(intf, "INTERFACE"))
		return fail(c, &def->pos, "%s is a non interface type %s.", quoted(q, sizeof(q), intf_name),
			    s_or(intf->kind));
	for (size_t i = 0; i < intf->fields.len; i++)
		if (intf->fields.items[i])
			WD_TRY(check_implements_field(c, def, intf, intf->fields.items[i]));

	/* Every interface an implemented interface implements must be listed
	 * too. */
	for (size_t i = 0; i < intf->interfaces.len; i++) {
		const char *transitive = s_or(intf->interfaces.items[i]);

		if (has_string(&def->interfaces, transitive))
			continue;
		if (strcmp(transitive, def->name) == 0)
			return fail(c, &def->pos,
				    "Type %s cannot implement %s because it would create a circular reference.",
				    def->name, intf_name);
		return fail(c, &def->pos, "Type %s must implement %s because it is implemented by %s.",
			    def->name, transitive, intf_name);
	}
	return 0;
}

static int check_kind_rules(struct checker *c, const struct gql_def *def)
{
	if (kind_is(def, "OBJECT") || kind_is(def, "INTERFACE")) {
		if (def->fields.len == 0)
			return fail(c, &def->pos, "%s %s: must define one or more fields.", def->kind,
				    def->name);
		for (size_t i = 0; i < def->fields.len; i++) {
			const struct gql_fielddef *f = def->fields.items[i];
			const struct gql_def *t = f ? lookup(c, gql_type_name(f->type)) : NULL;

			if (t && !kind_is(t, "SCALAR") && !kind_is(t, "OBJECT") &&
			    !kind_is(t, "INTERFACE") && !kind_is(t, "UNION") && !kind_is(t, "ENUM"))
				return fail(c, &f->pos,
					    "%s %s: field must be one of SCALAR, OBJECT, INTERFACE, UNION, ENUM.",
					    def->kind, def->name);
		}
	} else if (kind_is(def, "ENUM")) {
		if (def->enum_values.len == 0)
			return fail(c, &def->pos, "%s %s: must define one or more unique enum values.",
				    def->kind, def->name);
		for (size_t i = 0; i < def->enum_values.len; i++) {
			const struct gql_enumvalue *v = def->enum_values.items[i];
			const char *name = v ? s_or(v->name) : "";

			if (strcmp(name, "true") == 0 || strcmp(name, "false") == 0 ||
			    strcmp(name, "null") == 0)
				return fail(c, &def->pos, "%s %s: non-enum value %s.", def->kind,
					    def->name, name);
		}
	} else if (kind_is(def, "INPUT_OBJECT")) {
		if (def->fields.len == 0)
			return fail(c, &def->pos, "%s %s: must define one or more input fields.",
				    def->kind, def->name);
		for (size_t i = 0; i < def->fields.len; i++) {
			const struct gql_fielddef *f = def->fields.items[i];
			const struct gql_def *t = f ? lookup(c, gql_type_name(f->type)) : NULL;

			if (t && !gql_def_is_input(t))
				return fail(c, &f->pos,
					    "%s %s: field must be one of SCALAR, ENUM, INPUT_OBJECT.",
					    s_or(t->kind), s_or(f->name));
		}
	}
	return 0;
}

/* gqlparser reports the first field that has a later namesake, paired with
 * the earliest such namesake. */
static int check_unique_fields(struct checker *c, const struct gql_def *def)
{
	struct gql_map first = { 0 };
	size_t best = SIZE_MAX;
	const struct gql_fielddef *dup = NULL;

	for (size_t i = 0; i < def->fields.len; i++) {
		const struct gql_fielddef *f = def->fields.items[i];
		size_t *seen;

		if (!f)
			continue;
		seen = gql_map_get(&first, s_or(f->name));
		if (!seen) {
			seen = gql_alloc(c->arena, sizeof(*seen));
			if (!seen)
				return WD_ENOMEM;
			*seen = i;
			WD_TRY(gql_map_put(c->arena, &first, s_or(f->name), seen));
		} else if (*seen < best) {
			best = *seen;
			dup = f;
		}
	}
	if (dup)
		return fail(c, &dup->pos, "Field %s.%s can only be defined once.", def->name,
			    s_or(dup->name));
	return 0;
}

static int check_definition(struct checker *c, const struct gql_def *def)
{
	char q[256];

	for (size_t i = 0; i < def->fields.len; i++) {
		const struct gql_fielddef *f = def->fields.items[i];

		if (!f)
			continue;
		WD_TRY(check_name(c, &f->pos, f->name));
		WD_TRY(check_type_ref(c, f->type));
		WD_TRY(check_args(c, &f->args, NULL));
		WD_TRY(check_directives(c, &f->directives,
					kind_is(def, "INPUT_OBJECT") ? "INPUT_FIELD_DEFINITION" :
								       "FIELD_DEFINITION",
					NULL));
	}

	for (size_t i = 0; i < def->types.len; i++) {
		const char *name = s_or(def->types.items[i]);
		const struct gql_def *member = lookup(c, name);

		if (!member)
			return fail(c, &def->pos, "Undefined type %s.", quoted(q, sizeof(q), name));
		if (!kind_is(member, "OBJECT"))
			return fail(c, &def->pos, "%s type %s must be OBJECT.", def->kind,
				    quoted(q, sizeof(q), name));
	}

	for (size_t i = 0; i < def->interfaces.len; i++)
		WD_TRY(check_implements(c, def, s_or(def->interfaces.items[i])));

	WD_TRY(check_kind_rules(c, def));
	WD_TRY(check_unique_fields(c, def));
	if (!def->builtin)
		WD_TRY(check_name(c, &def->pos, def->name));
	return check_directives(c, &def->directives, def->kind, NULL);
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The map's keys in byte order, as Go's sort.Strings orders them. */
static const char **sorted_keys(struct checker *c, const struct gql_map *map)
{
	const char **keys = gql_alloc(c->arena, (map->len + 1) * sizeof(*keys));
	size_t n = 0;

	if (!keys)
		return NULL;
	for (size_t i = 0; i < map->cap; i++)
		if (map->keys[i])
			keys[n++] = map->keys[i];
	qsort(keys, n, sizeof(*keys), compare_names);
	return keys;
}

int gql_schema_check(struct gql_arena *arena, struct gql_schema *schema, struct gql_error *err)
{
	struct checker c = { .arena = arena, .schema = schema, .err = err };
	const char **names = sorted_keys(&c, &schema->types);

	if (!names)
		return WD_ENOMEM;
	for (size_t i = 0; i < schema->types.len; i++)
		WD_TRY(check_definition(&c, gql_map_get(&schema->types, names[i])));

	names = sorted_keys(&c, &schema->directives);
	if (!names)
		return WD_ENOMEM;
	for (size_t i = 0; i < schema->directives.len; i++) {
		const struct gql_dirdef *dir = gql_map_get(&schema->directives, names[i]);

		WD_TRY(check_name(&c, &dir->pos, dir->name));
		WD_TRY(check_args(&c, &dir->args, dir));
	}
	return 0;
}
