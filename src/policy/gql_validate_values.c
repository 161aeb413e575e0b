/* GraphQL validation rules on argument and variable values (spec sections
 * 5.6 and 5.8): NoUndefinedVariables, UniqueInputFieldNames,
 * ValuesOfCorrectType and VariablesInAllowedPosition, in gqlparser's order. */
#include <errno.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "policy/gql.h"

static const char *s_or(const char *s)
{
	return s ? s : "";
}

int gql_value_string(const struct gql_value *value, struct wd_buf *out, int depth)
{
	if (!value)
		return wd_buf_append_str(out, "<nil>");
	if (depth > GQL_MAX_DEPTH)
		return wd_buf_append_str(out, "...");

	switch (value->kind) {
	case GQL_VARIABLE:
		return wd_buf_appendf(out, "$%s", s_or(value->raw));
	case GQL_STRING:
	case GQL_BLOCK:
		return gql_quote(out, s_or(value->raw));
	case GQL_LIST:
	case GQL_OBJECT:
		WD_TRY(wd_buf_append_byte(out, value->kind == GQL_LIST ? '[' : '{'));
		for (size_t i = 0; i < value->children.len; i++) {
			const struct gql_child *c = value->children.items[i];

			if (i)
				WD_TRY(wd_buf_append_byte(out, ','));
			if (!c)
				continue;
			if (value->kind == GQL_OBJECT)
				WD_TRY(wd_buf_appendf(out, "%s:", s_or(c->name)));
			WD_TRY(gql_value_string(c->value, out, depth + 1));
		}
		return wd_buf_append_byte(out, value->kind == GQL_LIST ? ']' : '}');
	default:
		return wd_buf_append_str(out, s_or(value->raw));
	}
}

/* Go's strconv.ParseInt(s, 10, 64) succeeds. */
static bool parses_as_int(const char *s)
{
	const char *p = s;
	long long n;
	char *end;

	if (*p == '+' || *p == '-')
		p++;
	if (*p < '0' || *p > '9')
		return false;
	for (const char *q = p; *q; q++)
		if (*q < '0' || *q > '9')
			return false;
	errno = 0;
	n = strtoll(s, &end, 10);
	(void)n;
	return errno == 0 && *end == '\0';
}

/* Go's strconv.ParseFloat(s, 64) succeeds: the GraphQL float grammar, and
 * no overflow to infinity. */
static bool parses_as_float(const char *s)
{
	char *end;
	double d;

	if (!*s || strchr(s, 'x') || strchr(s, 'X') || strchr(s, 'p') || strchr(s, 'P'))
		return false;
	d = strtod(s, &end);
	if (*end != '\0')
		return false;
	return !isinf(d) || strstr(s, "nf") || strstr(s, "NF");
}

static bool parses_as_bool(const char *s)
{
	static const char *const ok[] = {
		"1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False",
	};

	for (size_t i = 0; i < WD_ARRAY_LEN(ok); i++)
		if (strcmp(s, ok[i]) == 0)
			return true;
	return false;
}

/* gqlparser's Value.Value(nil) returns no error: numbers and booleans parse
 * and a variable's default value does too. */
static bool value_converts(const struct gql_value *value, int depth)
{
	if (!value || depth > GQL_MAX_DEPTH)
		return true;
	switch (value->kind) {
	case GQL_VARIABLE:
		if (value->vardef && value->vardef->default_value && value->vardef->default_value != value)
			return value_converts(value->vardef->default_value, depth + 1);
		return true;
	case GQL_INT:
		return parses_as_int(s_or(value->raw));
	case GQL_FLOAT:
		return parses_as_float(s_or(value->raw));
	case GQL_BOOLEAN:
		return parses_as_bool(s_or(value->raw));
	case GQL_STRING:
	case GQL_BLOCK:
	case GQL_ENUM:
	case GQL_NULL:
		return true;
	case GQL_LIST:
	case GQL_OBJECT:
		for (size_t i = 0; i < value->children.len; i++) {
			const struct gql_child *c = value->children.items[i];

			if (c && !value_converts(c->value, depth + 1))
				return false;
		}
		return true;
	default:
		return false;
	}
}

static bool def_named(const struct gql_def *def, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s_or(def->name), names[i]) == 0)
			return true;
	return false;
}

#define ONE_OF(def, ...) \
	def_named((def), (const char *const[]){ __VA_ARGS__ }, \
		  sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *))

/* Formats a message into msg with the value and expected type as text. */
static void type_and_value(struct gql_vctx *v, const struct gql_value *value, struct wd_buf *type,
			   struct wd_buf *text)
{
	wd_buf_init(type, 64, 4096);
	wd_buf_init(text, 64, 4096);
	if (gql_type_string(value->expected, type) < 0 || gql_value_string(value, text, 0) < 0)
		v->rc = WD_ENOMEM;
}

/* Go's strconv.ParseInt(s, 10, 32) fails with ErrRange: digits that do not
 * fit in 32 bits. */
static bool int32_out_of_range(const char *s)
{
	const char *p = s;
	long long n;
	char *end;

	if (*p == '+' || *p == '-')
		p++;
	if (*p < '0' || *p > '9')
		return false;
	for (const char *q = p; *q; q++)
		if (*q < '0' || *q > '9')
			return false;
	errno = 0;
	n = strtoll(s, &end, 10);
	return errno == ERANGE || n > INT32_MAX || n < INT32_MIN;
}

/* The message for a literal of the wrong kind, by the expected type as
 * gqlparser's unexpectedTypeMessageOnly words it. */
static void unexpected_text(struct gql_vctx *v, const struct gql_value *value, struct wd_buf *msg)
{
	struct wd_buf type, text;
	const char *t, *x;
	int rc;

	type_and_value(v, value, &type, &text);
	t = wd_buf_str(&type);
	x = wd_buf_str(&text);
	if (strcmp(t, "Int") == 0 || strcmp(t, "Int!") == 0)
		rc = wd_buf_appendf(msg, int32_out_of_range(s_or(value->raw)) ?
				    "Int cannot represent non 32-bit signed integer value: %s" :
				    "Int cannot represent non-integer value: %s", x);
	else if (strcmp(t, "String") == 0 || strcmp(t, "String!") == 0 || strcmp(t, "[String]") == 0)
		rc = wd_buf_appendf(msg, "String cannot represent a non string value: %s", x);
	else if (strcmp(t, "Boolean") == 0 || strcmp(t, "Boolean!") == 0)
		rc = wd_buf_appendf(msg, "Boolean cannot represent a non boolean value: %s", x);
	else if (strcmp(t, "Float") == 0 || strcmp(t, "Float!") == 0)
		rc = wd_buf_appendf(msg, "Float cannot represent non numeric value: %s", x);
	else if (strcmp(t, "ID") == 0 || strcmp(t, "ID!") == 0)
		rc = wd_buf_appendf(msg, "ID cannot represent a non-string and non-integer value: %s", x);
	else if (strcmp(s_or(value->def->kind), "ENUM") == 0)
		rc = wd_buf_appendf(msg, "Enum \"%s\" cannot represent non-enum value: %s.", t, x);
	else
		rc = wd_buf_appendf(msg, "Expected value of type \"%s\", found %s.", t, x);
	if (rc < 0)
		v->rc = rc;
	wd_buf_free(&type);
	wd_buf_free(&text);
}

static void report(struct gql_vctx *v, const struct gql_pos *pos, struct wd_buf *msg)
{
	gql_v_error(v, pos, "%s", wd_buf_str(msg));
	wd_buf_free(msg);
}

static void unexpected(struct gql_vctx *v, const struct gql_value *value)
{
	struct wd_buf msg;

	wd_buf_init(&msg, 128, 8192);
	unexpected_text(v, value, &msg);
	report(v, &value->pos, &msg);
}

/* Appends " Did you mean the enum value ...?" from the enum's values. */
static void suggest_enum(struct gql_vctx *v, const struct gql_value *value, struct wd_buf *msg,
			 bool quoted)
{
	struct gql_list names = { 0 };

	if (strcmp(s_or(value->def->kind), "ENUM") != 0)
		return;
	for (size_t i = 0; i < value->def->enum_values.len; i++) {
		const struct gql_enumvalue *ev = value->def->enum_values.items[i];

		if (ev && gql_list_push(v->arena, &names, (void *)s_or(ev->name)) < 0)
			v->rc = WD_ENOMEM;
	}
	if (gql_suggest(msg, "Did you mean the enum value", s_or(value->raw), &names, quoted) < 0)
		v->rc = WD_ENOMEM;
}

static struct gql_child *find_child(const struct gql_list *children, const char *name)
{
	for (size_t i = 0; i < children->len; i++) {
		struct gql_child *c = children->items[i];

		if (c && strcmp(s_or(c->name), name) == 0)
			return c;
	}
	return NULL;
}

static void check_object_value(struct gql_vctx *v, const struct gql_value *value)
{
	const struct gql_def *def = value->def;

	for (size_t i = 0; i < def->fields.len; i++) {
		const struct gql_fielddef *f = def->fields.items[i];
		struct wd_buf msg, type;

		if (!f || !f->type || !f->type->non_null || f->default_value ||
		    find_child(&value->children, s_or(f->name)))
			continue;
		wd_buf_init(&msg, 128, 8192);
		wd_buf_init(&type, 64, 4096);
		if (gql_type_string(f->type, &type) < 0 ||
		    wd_buf_appendf(&msg, "Field \"%s.%s\" of required type \"%s\" was not provided.",
				   s_or(def->name), s_or(f->name), wd_buf_str(&type)) < 0)
			v->rc = WD_ENOMEM;
		wd_buf_free(&type);
		report(v, &value->pos, &msg);
	}

	for (size_t i = 0; i < value->children.len; i++) {
		const struct gql_child *c = value->children.items[i];
		struct gql_list names = { 0 };
		struct wd_buf msg;

		if (!c || gql_find_field(&def->fields, s_or(c->name)))
			continue;
		for (size_t k = 0; k < def->fields.len; k++) {
			const struct gql_fielddef *f = def->fields.items[k];

			if (f && gql_list_push(v->arena, &names, (void *)s_or(f->name)) < 0)
				v->rc = WD_ENOMEM;
		}
		wd_buf_init(&msg, 128, 8192);
		if (wd_buf_appendf(&msg, "Field \"%s\" is not defined by type \"%s\".", s_or(c->name),
				   s_or(def->name)) < 0 ||
		    gql_suggest(&msg, "Did you mean", s_or(c->name), &names, true) < 0)
			v->rc = WD_ENOMEM;
		report(v, &c->pos, &msg);
	}
}

/* ValuesOfCorrectType, as gqlparser words it after graphql-js: a literal of
 * the wrong kind for its expected type, an unknown enum value, and input
 * objects with missing or unknown fields. */
static void values_of_correct_type(struct gql_vctx *v, const struct gql_value *value)
{
	const struct gql_def *def = value->def;
	struct wd_buf msg;

	if (!def || !value->expected)
		return;

	if (value->kind == GQL_NULL && value->expected->non_null) {
		struct wd_buf type;

		wd_buf_init(&msg, 128, 8192);
		wd_buf_init(&type, 64, 4096);
		if (gql_type_string(value->expected, &type) < 0 ||
		    wd_buf_appendf(&msg, "Expected value of type \"%s\", found null.", wd_buf_str(&type)) < 0)
			v->rc = WD_ENOMEM;
		wd_buf_free(&type);
		report(v, &value->pos, &msg);
	}

	/* Custom scalars validate their own literals. */
	if (strcmp(s_or(def->kind), "SCALAR") == 0 &&
	    !ONE_OF(def, "Int", "Float", "String", "Boolean", "ID"))
		return;

	if (!value_converts(value, 0))
		unexpected(v, value);

	switch (value->kind) {
	case GQL_LIST:
		if (!value->expected->elem)
			unexpected(v, value);
		break;
	case GQL_INT:
		if (!ONE_OF(def, "Int", "Float", "ID"))
			unexpected(v, value);
		break;
	case GQL_FLOAT:
		if (!ONE_OF(def, "Float"))
			unexpected(v, value);
		break;
	case GQL_STRING:
	case GQL_BLOCK:
		if (strcmp(s_or(def->kind), "ENUM") == 0) {
			struct wd_buf type, text;

			wd_buf_init(&msg, 128, 8192);
			type_and_value(v, value, &type, &text);
			if (wd_buf_appendf(&msg, "Enum \"%s\" cannot represent non-enum value: %s.",
					   wd_buf_str(&type), wd_buf_str(&text)) < 0)
				v->rc = WD_ENOMEM;
			wd_buf_free(&type);
			wd_buf_free(&text);
			suggest_enum(v, value, &msg, true);
			report(v, &value->pos, &msg);
		} else if (!ONE_OF(def, "String", "ID")) {
			unexpected(v, value);
		}
		break;
	case GQL_ENUM:
		wd_buf_init(&msg, 128, 8192);
		if (strcmp(s_or(def->kind), "ENUM") != 0) {
			unexpected_text(v, value, &msg);
			report(v, &value->pos, &msg);
			break;
		}
		{
			bool found = false;
			struct wd_buf type, text;

			for (size_t i = 0; i < def->enum_values.len && !found; i++) {
				const struct gql_enumvalue *ev = def->enum_values.items[i];

				found = ev && strcmp(s_or(ev->name), s_or(value->raw)) == 0;
			}
			if (found) {
				wd_buf_free(&msg);
				break;
			}
			type_and_value(v, value, &type, &text);
			if (wd_buf_appendf(&msg, "Value \"%s\" does not exist in \"%s\" enum.",
					   wd_buf_str(&text), wd_buf_str(&type)) < 0)
				v->rc = WD_ENOMEM;
			wd_buf_free(&type);
			wd_buf_free(&text);
			suggest_enum(v, value, &msg, true);
			report(v, &value->pos, &msg);
		}
		break;
	case GQL_BOOLEAN:
		if (!ONE_OF(def, "Boolean"))
			unexpected(v, value);
		break;
	case GQL_OBJECT:
		check_object_value(v, value);
		break;
	default:
		break;
	}
}

void gql_v_value_rules(struct gql_vctx *v, struct gql_value *value)
{
	/* NoUndefinedVariables */
	if (v->op && value->kind == GQL_VARIABLE && !value->vardef) {
		if (s_or(v->op->name)[0])
			gql_v_error(v, &value->pos, "Variable \"$%s\" is not defined by operation \"%s\".",
				    s_or(value->raw), v->op->name);
		else
			gql_v_error(v, &value->pos, "Variable \"$%s\" is not defined.", s_or(value->raw));
	}

	/* UniqueInputFieldNames */
	if (value->kind == GQL_OBJECT) {
		struct gql_map names = { 0 };

		for (size_t i = 0; i < value->children.len; i++) {
			const struct gql_child *c = value->children.items[i];

			if (!c)
				continue;
			if (gql_map_get(&names, s_or(c->name)))
				gql_v_error(v, &c->pos, "There can be only one input field named \"%s\".",
					    s_or(c->name));
			else if (gql_map_put(v->arena, &names, s_or(c->name), (void *)1) < 0)
				v->rc = WD_ENOMEM;
		}
	}

	values_of_correct_type(v, value);

	/* VariablesInAllowedPosition: a default value lets a nullable variable
	 * fill a non-null position. */
	if (value->kind == GQL_VARIABLE && value->expected && value->vardef && v->op) {
		struct gql_type expected = *value->expected;
		const struct gql_value *def_value = value->vardef->default_value;

		if (def_value && def_value->kind != GQL_NULL)
			expected.non_null = false;
		if (!gql_type_compatible(value->vardef->type, &expected, 0)) {
			struct wd_buf have, want;

			wd_buf_init(&have, 64, 4096);
			wd_buf_init(&want, 64, 4096);
			if (gql_type_string(value->vardef->type, &have) < 0 ||
			    gql_type_string(value->expected, &want) < 0)
				v->rc = WD_ENOMEM;
			gql_v_error(v, &value->pos,
				    "Variable \"$%s\" of type \"%s\" used in position expecting type \"%s\".",
				    s_or(value->raw), wd_buf_str(&have), wd_buf_str(&want));
			wd_buf_free(&have);
			wd_buf_free(&want);
		}
	}
}
