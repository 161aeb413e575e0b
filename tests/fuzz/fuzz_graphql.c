/* libFuzzer harness for the GraphQL builtins: the input is a schema and a
 * query separated by the first NUL byte (or a query alone). Both are parsed,
 * converted to Rego objects and read back, and the query is validated
 * against the built schema. Nothing may crash, leak or overrun, and every
 * failure must come with a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/gql.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reading a query back turns fragments into fields, as gqlparser's decoder
 * does, so only the second round trip must reproduce its input. */
static struct rv *query_round_trip(struct gql_arena *arena, const struct rv *value)
{
	struct gql_error err;
	struct gql_query_doc *doc = gql_query_from_value(arena, value, &err);

	if (!doc && !err.msg[0] && !arena->failed)
		abort();
	return doc ? gql_query_to_value(doc) : NULL;
}

static void check_query_round_trip(const struct gql_query_doc *doc)
{
	struct gql_arena arena = { 0 };
	struct rv *first = gql_query_to_value(doc);
	struct rv *second = first ? query_round_trip(&arena, first) : NULL;
	struct rv *third = second ? query_round_trip(&arena, second) : NULL;

	if (second && third && !rv_equal(second, third))
		abort();
	rv_unref(third);
	rv_unref(second);
	rv_unref(first);
	gql_arena_free(&arena);
}

static void check_schema_round_trip(const struct gql_schema_doc *doc)
{
	struct gql_arena arena = { 0 };
	struct gql_error err;
	struct rv *first = gql_schema_to_value(doc);
	struct gql_schema_doc *again;
	struct rv *second = NULL;

	if (!first)
		return;
	again = gql_schema_from_value(&arena, first, &err);
	if (again)
		second = gql_schema_to_value(again);
	if (again && second && !rv_equal(first, second))
		abort();
	rv_unref(second);
	rv_unref(first);
	gql_arena_free(&arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	const char *schema_src = nul ? (const char *)data : "type Query { a: Int }";
	size_t schema_len = nul ? (size_t)(nul - data) : strlen(schema_src);
	const char *query_src = nul ? (const char *)nul + 1 : (const char *)data;
	size_t query_len = nul ? size - schema_len - 1 : size;
	struct gql_arena arena = { 0 };
	struct gql_error err;
	struct gql_schema_doc *sdoc;
	struct gql_query_doc *qdoc;
	struct gql_schema *schema;
	struct wd_buf errors;

	wd_buf_init(&errors, 256, 64 * 1024);
	qdoc = gql_parse_query(&arena, query_src, query_len, &err);
	if (!qdoc && !err.msg[0] && !arena.failed)
		abort();
	sdoc = gql_parse_schema(&arena, schema_src, schema_len, false, &err);
	if (!sdoc && !err.msg[0] && !arena.failed)
		abort();

	if (qdoc)
		check_query_round_trip(qdoc);
	if (sdoc)
		check_schema_round_trip(sdoc);

	if (qdoc && sdoc) {
		schema = gql_schema_build(&arena, sdoc, &err);
		if (schema && gql_validate_query(&arena, schema, qdoc, &errors) > 0 &&
		    wd_buf_len(&errors) == 0)
			abort();
	}
	wd_buf_free(&errors);
	gql_arena_free(&arena);
	return 0;
}
