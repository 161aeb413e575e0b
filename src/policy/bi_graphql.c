/* Built-in functions: graphql.* parsing and validation, with the results,
 * undefined cases and messages of OPA 1.20 (which uses a fork of gqlparser
 * v2). */
#include <string.h>

#include "common/error.h"
#include "policy/builtin.h"
#include "policy/gql.h"

/* Documents are parsed from policy strings; longer ones are rejected. */
#define GQL_MAX_SOURCE (16u * 1024u * 1024u)

/* OPA reshapes gqlparser's "input:LINE:COL: MESSAGE" by splitting at the
 * first three colons; trim_dot also drops the ".\n" that ends a list of
 * validation errors. Text with fewer colons is reported whole. */
static int report_located(struct rego_bctx *ctx, const char *text, bool trim_dot)
{
	const char *c1 = strchr(text, ':');
	const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	const char *c3 = c2 ? strchr(c2 + 1, ':') : NULL;
	const char *msg;
	size_t len;

	if (!c3)
		return rego_bi_error(ctx, "%s", text);
	msg = c3 + 1;
	while (*msg == ' ')
		msg++;
	len = strlen(msg);
	if (trim_dot && len >= 2 && msg[len - 2] == '.' && msg[len - 1] == '\n')
		len -= 2;
	return rego_bi_error(ctx, "%.*s in GraphQL string at location %.*s:%.*s", (int)len, msg,
			     (int)(c2 - c1 - 1), c1 + 1, (int)(c3 - c2 - 1), c2 + 1);
}

/* gqlparser's Error(): "FILE:LINE:COL: MESSAGE", or "FILE: MESSAGE" when
 * the node has no position (documents read from objects). */
static void error_text(const struct gql_error *err, char *out, size_t cap)
{
	const char *file = err->prelude ? "prelude.graphql" : "input";

	if (err->has_pos)
		snprintf(out, cap, "%s:%d:%d: %s", file, err->line, err->col, err->msg);
	else
		snprintf(out, cap, "%s: %s", file, err->msg);
}

static int report_memory(struct rego_bctx *ctx)
{
	return rego_bi_limit_error(ctx, "GraphQL document exceeds the memory limit of %u bytes",
			     GQL_MAX_ARENA);
}

static int report_parse(struct rego_bctx *ctx, const struct gql_error *err)
{
	char text[700];

	if (!err->msg[0])
		return report_memory(ctx);
	error_text(err, text, sizeof(text));
	return report_located(ctx, text, false);
}

enum load_result {
	LOAD_OK = 0,
	LOAD_WRONG_TYPE,
	LOAD_INVALID,       /* syntax or decoding error, in err */
	LOAD_TOO_BIG,
};

static enum load_result load_query(struct gql_arena *arena, const struct rv *arg,
				   struct gql_query_doc **ret_doc, struct gql_error *err)
{
	memset(err, 0, sizeof(*err));
	if (rv_is(arg, RV_STRING)) {
		if (rv_str_len(arg) > GQL_MAX_SOURCE)
			return LOAD_TOO_BIG;
		*ret_doc = gql_parse_query(arena, rv_str(arg), rv_str_len(arg), err);
	} else if (rv_is(arg, RV_OBJECT)) {
		*ret_doc = gql_query_from_value(arena, arg, err);
	} else {
		return LOAD_WRONG_TYPE;
	}
	if (*ret_doc)
		return LOAD_OK;
	return err->msg[0] ? LOAD_INVALID : LOAD_TOO_BIG;
}

static enum load_result load_schema(struct gql_arena *arena, const struct rv *arg,
				    struct gql_schema_doc **ret_doc, struct gql_error *err)
{
	memset(err, 0, sizeof(*err));
	if (rv_is(arg, RV_STRING)) {
		if (rv_str_len(arg) > GQL_MAX_SOURCE)
			return LOAD_TOO_BIG;
		*ret_doc = gql_parse_schema(arena, rv_str(arg), rv_str_len(arg), false, err);
	} else if (rv_is(arg, RV_OBJECT)) {
		*ret_doc = gql_schema_from_value(arena, arg, err);
	} else {
		return LOAD_WRONG_TYPE;
	}
	if (*ret_doc)
		return LOAD_OK;
	return err->msg[0] ? LOAD_INVALID : LOAD_TOO_BIG;
}

/* One query checked against one schema, as the two-argument builtins share. */
struct checked {
	struct gql_arena arena;
	struct gql_query_doc *query;
	struct gql_schema_doc *schema;
	struct rv *query_value;
	struct rv *schema_value;
	struct wd_buf errors;
};

static void checked_free(struct checked *c)
{
	rv_unref(c->query_value);
	rv_unref(c->schema_value);
	wd_buf_free(&c->errors);
	gql_arena_free(&c->arena);
}

/* Runs OPA's steps in its order: parse (or decode) both documents, convert
 * them to values when want_values, build the schema, validate the query.
 * Returns 0 when valid, 1 when invalid (with an error recorded in ctx when
 * report is set), or a negative code. */
static int check(struct rego_bctx *ctx, struct rv *const *args, bool want_values, bool report,
		 struct checked *c)
{
	struct gql_error err;
	struct gql_schema *schema;
	enum load_result lr;
	char text[700];
	int n;

	memset(c, 0, sizeof(*c));
	wd_buf_init(&c->errors, 256, 64 * 1024);

	lr = load_query(&c->arena, args[0], &c->query, &err);
	if (lr == LOAD_WRONG_TYPE)
		return report ? rego_bi_type_error(ctx, 1, "one of {string, object}", args[0]) : 1;
	if (lr == LOAD_TOO_BIG)
		return report_memory(ctx);
	if (lr == LOAD_INVALID)
		return report ? report_parse(ctx, &err) : 1;

	lr = load_schema(&c->arena, args[1], &c->schema, &err);
	if (lr == LOAD_WRONG_TYPE)
		return report ? rego_bi_type_error(ctx, 2, "one of {string, object}", args[1]) : 1;
	if (lr == LOAD_TOO_BIG)
		return report_memory(ctx);
	if (lr == LOAD_INVALID)
		return report ? report_parse(ctx, &err) : 1;

	if (want_values) {
		c->query_value = gql_query_to_value(c->query);
		c->schema_value = gql_schema_to_value(c->schema);
		if (!c->query_value || !c->schema_value)
			return report_memory(ctx);
	}

	schema = gql_schema_build(&c->arena, c->schema, &err);
	if (!schema) {
		if (!err.msg[0])
			return report_memory(ctx);
		if (!report)
			return 1;
		error_text(&err, text, sizeof(text));
		return rego_bi_error(ctx, "Error in gqlparser SchemaDocument to Schema conversion: %s",
				     text);
	}

	n = gql_validate_query(&c->arena, schema, c->query, &c->errors);
	if (n < 0)
		return report_memory(ctx);
	if (n > 0)
		return report ? report_located(ctx, wd_buf_str(&c->errors), true) : 1;
	return 0;
}

static int bi_is_valid(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		       struct rv **ret)
{
	struct checked c;
	int rc;

	(void)nargs;
	rc = check(ctx, args, false, false, &c);
	checked_free(&c);
	if (rc < 0)
		return rc;
	*ret = rv_bool(rc == 0);
	return 0;
}

static struct rv *pair_or_triple(struct rv *first, struct rv *second, struct rv *third)
{
	struct rv *arr = rv_array_new(3);

	if (!arr) {
		rv_unref(first);
		rv_unref(second);
		rv_unref(third);
		return NULL;
	}
	if ((first && rv_array_push(arr, first) < 0) || rv_array_push(arr, second) < 0 ||
	    rv_array_push(arr, third) < 0) {
		rv_unref(arr);
		return NULL;
	}
	return arr;
}

static int bi_parse_and_verify(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			       struct rv **ret)
{
	struct checked c;
	struct rv *out;
	int rc;

	(void)nargs;
	rc = check(ctx, args, true, false, &c);
	if (rc < 0) {
		checked_free(&c);
		return rc;
	}
	if (rc == 0)
		out = pair_or_triple(rv_bool(true), rv_ref(c.query_value), rv_ref(c.schema_value));
	else
		out = pair_or_triple(rv_bool(false), rv_object_new(0), rv_object_new(0));
	checked_free(&c);
	if (!out)
		return report_memory(ctx);
	*ret = out;
	return 0;
}

static int bi_parse(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	struct checked c;
	struct rv *out;
	int rc;

	(void)nargs;
	rc = check(ctx, args, true, true, &c);
	if (rc != 0) {
		checked_free(&c);
		return rc < 0 ? rc : WD_EINVAL;
	}
	out = pair_or_triple(NULL, rv_ref(c.query_value), rv_ref(c.schema_value));
	checked_free(&c);
	if (!out)
		return report_memory(ctx);
	*ret = out;
	return 0;
}

static int bi_parse_query(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			  struct rv **ret)
{
	struct gql_arena arena = { 0 };
	struct gql_query_doc *doc;
	struct gql_error err;
	const char *src;
	size_t len;
	struct rv *out;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &src, &len));
	if (len > GQL_MAX_SOURCE)
		return report_memory(ctx);
	doc = gql_parse_query(&arena, src, len, &err);
	if (!doc) {
		gql_arena_free(&arena);
		return report_parse(ctx, &err);
	}
	out = gql_query_to_value(doc);
	gql_arena_free(&arena);
	if (!out)
		return report_memory(ctx);
	*ret = out;
	return 0;
}

static int bi_parse_schema(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			   struct rv **ret)
{
	struct gql_arena arena = { 0 };
	struct gql_schema_doc *doc;
	struct gql_error err;
	const char *src;
	size_t len;
	struct rv *out;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &src, &len));
	if (len > GQL_MAX_SOURCE)
		return report_memory(ctx);
	doc = gql_parse_schema(&arena, src, len, false, &err);
	if (!doc) {
		gql_arena_free(&arena);
		return report_parse(ctx, &err);
	}
	out = gql_schema_to_value(doc);
	gql_arena_free(&arena);
	if (!out)
		return report_memory(ctx);
	*ret = out;
	return 0;
}

static int bi_schema_is_valid(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			      struct rv **ret)
{
	struct gql_arena arena = { 0 };
	struct gql_schema_doc *doc = NULL;
	struct gql_error err;
	enum load_result lr;
	bool valid = false;

	(void)nargs;
	lr = load_schema(&arena, args[0], &doc, &err);
	if (lr == LOAD_TOO_BIG) {
		gql_arena_free(&arena);
		return report_memory(ctx);
	}
	if (lr == LOAD_OK) {
		valid = gql_schema_build(&arena, doc, &err) != NULL;
		if (!valid && !err.msg[0]) {
			gql_arena_free(&arena);
			return report_memory(ctx);
		}
	}
	gql_arena_free(&arena);
	*ret = rv_bool(valid);
	return 0;
}

#define ANY_DOC (RK_STRING | RK_OBJECT)

const struct rego_builtin rego_builtins_graphql[] = {
	{ .name = "graphql.is_valid", .arity = 2, .arg_types = { ANY_DOC, ANY_DOC },
	  .result_type = RK_BOOL, .fn = bi_is_valid },
	{ .name = "graphql.parse", .arity = 2, .arg_types = { ANY_DOC, ANY_DOC },
	  .result_type = RK_ARRAY, .fn = bi_parse },
	{ .name = "graphql.parse_and_verify", .arity = 2, .arg_types = { ANY_DOC, ANY_DOC },
	  .result_type = RK_ARRAY, .fn = bi_parse_and_verify },
	{ .name = "graphql.parse_query", .arity = 1, .arg_types = { RK_STRING },
	  .result_type = RK_OBJECT, .fn = bi_parse_query },
	{ .name = "graphql.parse_schema", .arity = 1, .arg_types = { RK_STRING },
	  .result_type = RK_OBJECT, .fn = bi_parse_schema },
	{ .name = "graphql.schema_is_valid", .arity = 1, .arg_types = { ANY_DOC },
	  .result_type = RK_BOOL, .fn = bi_schema_is_valid },
	{ .name = NULL },
};
