/* Unit tests for the graphql.* builtins: AST shapes, parser and validation
 * messages, object inputs, and hostile documents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/error.h"
#include "policy/builtin.h"

static const char schema_text[] =
	"type Query { user(id: ID!): User users(first: Int = 10): [User!]! node: Node }\n"
	"interface Node { id: ID! }\n"
	"type User implements Node { id: ID! name: String friends: [User] }\n"
	"type Bot implements Node { id: ID! name: String }\n";

struct call {
	struct rego_bctx ctx;
	int rc;
	char *json;     /* the result as JSON, or NULL */
};

/* Calls a builtin with string or JSON arguments ("s:" or "j:" prefix). */
static struct call run(const char *name, const char *a, const char *b)
{
	const struct rego_builtin *bi = rego_builtin_find(name);
	const char *texts[2] = { a, b };
	struct rv *args[2] = { NULL, NULL };
	struct rv *ret = NULL;
	struct call c;
	size_t n = b ? 2 : 1;

	memset(&c, 0, sizeof(c));
	c.ctx.name = name;
	assert_non_null(bi);
	assert_int_equal(bi->arity, n);
	for (size_t i = 0; i < n; i++) {
		if (strncmp(texts[i], "j:", 2) == 0)
			args[i] = rv_parse_json(texts[i] + 2, strlen(texts[i] + 2), 100, NULL);
		else
			args[i] = rv_cstring(texts[i] + 2);
		assert_non_null(args[i]);
	}
	c.rc = bi->fn(&c.ctx, args, n, &ret);
	if (c.rc == 0) {
		struct wd_buf out;

		wd_buf_init(&out, 256, 1 << 20);
		assert_int_equal(rv_write_json(ret, &out), 0);
		c.json = strdup(wd_buf_str(&out));
		wd_buf_free(&out);
		rv_unref(ret);
	}
	rv_unref(args[0]);
	rv_unref(args[1]);
	return c;
}

static void expect_json(const char *name, const char *a, const char *b, const char *want)
{
	struct call c = run(name, a, b);

	assert_int_equal(c.rc, 0);
	assert_string_equal(c.json, want);
	free(c.json);
}

static void expect_error(const char *name, const char *a, const char *b, const char *code,
			 const char *want)
{
	struct call c = run(name, a, b);

	assert_true(c.rc < 0);
	assert_string_equal(c.ctx.err_code, code);
	assert_string_equal(c.ctx.err_msg, want);
}

static void parse_query_field_with_argument(void **state)
{
	(void)state;
	expect_json("graphql.parse_query", "s:{ user(id: 7) { name } }", NULL,
		    "{\"Operations\":[{\"Name\":\"\",\"Operation\":\"query\",\"SelectionSet\":"
		    "[{\"Alias\":\"user\",\"Arguments\":[{\"Name\":\"id\",\"Value\":"
		    "{\"ExpectedTypeHasDefault\":false,\"Kind\":1,\"Raw\":\"7\"}}],\"Name\":\"user\","
		    "\"SelectionSet\":[{\"Alias\":\"name\",\"Name\":\"name\"}]}]}]}");
}

static void parse_query_fragments_and_variables(void **state)
{
	(void)state;
	expect_json("graphql.parse_query",
		    "s:query Q($id: ID = \"x\") @dir { a: user(id: $id) { ...F ... on User { id } } }\n"
		    "fragment F on User { name }", NULL,
		    "{\"Fragments\":[{\"Name\":\"F\",\"SelectionSet\":[{\"Alias\":\"name\",\"Name\":\"name\"}],"
		    "\"TypeCondition\":\"User\"}],\"Operations\":[{\"Directives\":[{\"Location\":\"\","
		    "\"Name\":\"dir\"}],\"Name\":\"Q\",\"Operation\":\"query\",\"SelectionSet\":"
		    "[{\"Alias\":\"a\",\"Arguments\":[{\"Name\":\"id\",\"Value\":{\"ExpectedTypeHasDefault\":"
		    "false,\"Kind\":0,\"Raw\":\"id\"}}],\"Name\":\"user\",\"SelectionSet\":[{\"Name\":\"F\"},"
		    "{\"SelectionSet\":[{\"Alias\":\"id\",\"Name\":\"id\"}],\"TypeCondition\":\"User\"}]}],"
		    "\"VariableDefinitions\":[{\"DefaultValue\":{\"ExpectedTypeHasDefault\":false,\"Kind\":3,"
		    "\"Raw\":\"x\"},\"Type\":{\"NamedType\":\"ID\",\"NonNull\":false},\"Used\":false,"
		    "\"Variable\":\"id\"}]}]}");
}

static void parse_query_list_and_object_values(void **state)
{
	(void)state;
	expect_json("graphql.parse_query", "s:{ f(v: [1, {k: 2.5}], s: \"a\\u00e9\\n\") }", NULL,
		    "{\"Operations\":[{\"Name\":\"\",\"Operation\":\"query\",\"SelectionSet\":[{\"Alias\":"
		    "\"f\",\"Arguments\":[{\"Name\":\"v\",\"Value\":{\"Children\":[{\"Name\":\"\",\"Value\":"
		    "{\"ExpectedTypeHasDefault\":false,\"Kind\":1,\"Raw\":\"1\"}},{\"Name\":\"\",\"Value\":"
		    "{\"Children\":[{\"Name\":\"k\",\"Value\":{\"ExpectedTypeHasDefault\":false,\"Kind\":2,"
		    "\"Raw\":\"2.5\"}}],\"ExpectedTypeHasDefault\":false,\"Kind\":9,\"Raw\":\"\"}}],"
		    "\"ExpectedTypeHasDefault\":false,\"Kind\":8,\"Raw\":\"\"}},{\"Name\":\"s\",\"Value\":"
		    "{\"ExpectedTypeHasDefault\":false,\"Kind\":3,\"Raw\":\"a\xc3\xa9\\n\"}}],\"Name\":\"f\"}]}]}");
}

static void parse_query_block_string_indent(void **state)
{
	(void)state;
	expect_json("graphql.parse_query", "s:{ f(b: \"\"\"\n    one\n      two\n    \"\"\") }", NULL,
		    "{\"Operations\":[{\"Name\":\"\",\"Operation\":\"query\",\"SelectionSet\":[{\"Alias\":"
		    "\"f\",\"Arguments\":[{\"Name\":\"b\",\"Value\":{\"ExpectedTypeHasDefault\":false,"
		    "\"Kind\":4,\"Raw\":\"one\\n  two\"}}],\"Name\":\"f\"}]}]}");
}

static void parse_query_empty_document(void **state)
{
	(void)state;
	expect_json("graphql.parse_query", "s:  # only a comment\n", NULL, "{}");
}

static void parse_query_syntax_errors(void **state)
{
	(void)state;
	expect_error("graphql.parse_query", "s:{ a(", NULL, "eval_builtin_error",
		     "graphql.parse_query: Expected Name, found <EOF> in GraphQL string at location 1:5");
	expect_error("graphql.parse_query", "s:{ a(x: \"open) }", NULL, "eval_builtin_error",
		     "graphql.parse_query: Unexpected <Invalid> in GraphQL string at location 1:16");
	expect_error("graphql.parse_query", "s:query ($v: Int = $w) { a }", NULL, "eval_builtin_error",
		     "graphql.parse_query: Unexpected $ in GraphQL string at location 1:18");
	expect_error("graphql.parse_query", "s:fragment F Thing { a }", NULL, "eval_builtin_error",
		     "graphql.parse_query: Expected \"on\", found Name \"Thing\" in GraphQL string at location 1:12");
	expect_error("graphql.parse_query", "s:{ a { } }", NULL, "eval_builtin_error",
		     "graphql.parse_query: expected at least one definition, found } in GraphQL string at location 1:7");
	expect_error("graphql.parse_query", "s:\n\n  ?", NULL, "eval_builtin_error",
		     "graphql.parse_query: Unexpected <Invalid> in GraphQL string at location 3:3");
}

static void parse_query_rejects_non_string(void **state)
{
	(void)state;
	expect_error("graphql.parse_query", "j:5", NULL, "eval_type_error",
		     "graphql.parse_query: operand 1 must be string but got number");
}

static void parse_schema_every_definition(void **state)
{
	(void)state;
	expect_json("graphql.parse_schema",
		    "s:\"Doc\" type T implements A & B { f(a: Int = 1): [T!]! }\n"
		    "enum E { X }\nunion U = T\ndirective @d repeatable on FIELD | OBJECT\n"
		    "schema { query: T }\nextend schema @k\nextend scalar S @k", NULL,
		    "{\"Definitions\":[{\"BuiltIn\":false,\"Description\":\"Doc\",\"Fields\":[{\"Arguments\":"
		    "[{\"DefaultValue\":{\"ExpectedTypeHasDefault\":false,\"Kind\":1,\"Raw\":\"1\"},"
		    "\"Description\":\"\",\"Name\":\"a\",\"Type\":{\"NamedType\":\"Int\",\"NonNull\":false}}],"
		    "\"Description\":\"\",\"Name\":\"f\",\"Type\":{\"Elem\":{\"NamedType\":\"T\",\"NonNull\":"
		    "true},\"NamedType\":\"\",\"NonNull\":true}}],\"Interfaces\":[\"A\",\"B\"],\"Kind\":"
		    "\"OBJECT\",\"Name\":\"T\"},{\"BuiltIn\":false,\"Description\":\"\",\"EnumValues\":"
		    "[{\"Description\":\"\",\"Name\":\"X\"}],\"Kind\":\"ENUM\",\"Name\":\"E\"},{\"BuiltIn\":"
		    "false,\"Description\":\"\",\"Kind\":\"UNION\",\"Name\":\"U\",\"Types\":[\"T\"]}],"
		    "\"Directives\":[{\"Description\":\"\",\"IsRepeatable\":true,\"Locations\":[\"FIELD\","
		    "\"OBJECT\"],\"Name\":\"d\"}],\"Extensions\":[{\"BuiltIn\":false,\"Description\":\"\","
		    "\"Directives\":[{\"Location\":\"\",\"Name\":\"k\"}],\"Kind\":\"SCALAR\",\"Name\":\"S\"}],"
		    "\"Schema\":[{\"Description\":\"\",\"OperationTypes\":[{\"Operation\":\"query\",\"Type\":"
		    "\"T\"}]}],\"SchemaExtension\":[{\"Description\":\"\",\"Directives\":[{\"Location\":\"\","
		    "\"Name\":\"k\"}]}]}");
}

static void parse_schema_syntax_errors(void **state)
{
	(void)state;
	expect_error("graphql.parse_schema", "s:type T { f: }", NULL, "eval_builtin_error",
		     "graphql.parse_schema: Expected Name, found } in GraphQL string at location 1:13");
	expect_error("graphql.parse_schema", "s:directive @d on NOWHERE", NULL, "eval_builtin_error",
		     "graphql.parse_schema: Unexpected Name \"NOWHERE\" in GraphQL string at location 1:17");
	expect_error("graphql.parse_schema", "s:\"doc\" extend type T { a: Int }", NULL,
		     "eval_builtin_error",
		     "graphql.parse_schema: Unexpected String \"doc\" in GraphQL string at location 1:2");
	expect_error("graphql.parse_schema", "s:extend enum E", NULL, "eval_builtin_error",
		     "graphql.parse_schema: Unexpected <EOF> in GraphQL string at location 1:14");
}

static void is_valid_accepts_and_rejects(void **state)
{
	(void)state;
	expect_json("graphql.is_valid", "s:{ user(id: \"1\") { name friends { id } } }",
		    "s:type Query { user(id: ID!): User }\n"
		    "type User { id: ID! name: String friends: [User] }", "true");
	expect_json("graphql.is_valid", "s:{ user { name } }",
		    "s:type Query { user(id: ID!): User }\ntype User { name: String }", "false");
	expect_json("graphql.is_valid", "j:5", "s:type Query { a: Int }", "false");
	expect_json("graphql.is_valid", "s:{ a }", "s:type Query { a: Nope }", "false");
	expect_json("graphql.is_valid", "s:{ a(", "s:type Query { a: Int }", "false");
}

/* One validation error per rule, with the message graphql.parse reports. */
static void parse_reports_validation_errors(void **state)
{
	static const struct {
		const char *query;
		const char *message;
	} cases[] = {
		{ "{ nope }",
		  "Cannot query field \"nope\" on type \"Query\". Did you mean \"node\"?\n in GraphQL string at location 1:3" },
		{ "{ zzz }", "Cannot query field \"zzz\" on type \"Query\" in GraphQL string at location 1:3" },
		{ "{ node { name } }",
		  "Cannot query field \"name\" on type \"Node\". Did you mean to use an inline fragment on \"Bot\" or \"User\"?\n in GraphQL string at location 1:10" },
		{ "{ user(id: 1) { nme } }",
		  "Cannot query field \"nme\" on type \"User\". Did you mean \"name\"?\n in GraphQL string at location 1:17" },
		{ "{ user { id } }",
		  "Field \"user\" argument \"id\" of type \"ID!\" is required, but it was not provided in GraphQL string at location 1:3" },
		{ "{ user(id: 1) }",
		  "Field \"user\" of type \"User\" must have a selection of subfields. Did you mean \"user { ... }\"?\n in GraphQL string at location 1:3" },
		{ "{ users(first: \"ten\") { id } }",
		  "Int cannot represent non-integer value: \"ten\"\n in GraphQL string at location 1:17" },
		{ "{ users(first: null) { id } user(id: null) { id } }",
		  "Expected value of type \"ID!\", found null in GraphQL string at location 1:38" },
		{ "query Q($x: Int) { users { id } }",
		  "Variable \"$x\" is never used in operation \"Q\" in GraphQL string at location 1:9" },
		{ "{ users(first: $n) { id } }",
		  "Variable \"$n\" is not defined in GraphQL string at location 1:16" },
		{ "{ user(id: 1) { ...Missing } }",
		  "Unknown fragment \"Missing\" in GraphQL string at location 1:20" },
		{ "{ user(id: 1) { ...A } }\nfragment A on User { ...B }\nfragment B on User { ...A }",
		  "Cannot spread fragment \"A\" within itself via \"B\" in GraphQL string at location 3:25" },
		{ "query A { node { id } }\nquery A { node { id } }",
		  "There can be only one operation named \"A\" in GraphQL string at location 2:1" },
		{ "query ($f: String) { users(first: $f) { id } }",
		  "Variable \"$f\" of type \"String\" used in position expecting type \"Int\" in GraphQL string at location 1:35" },
		{ "{ user(id: 1) { n: name n: id } }",
		  "Fields \"n\" conflict because name and id are different fields. Use different aliases on the fields to fetch both if this was intentional in GraphQL string at location 1:25" },
		{ "{ user(id: 1) { name @skip(if: true) @skip(if: false) } }",
		  "The directive \"@skip\" can only be used once at this location in GraphQL string at location 1:39" },
		{ "{ user(id: 1) { id ... on Bot { id } } }",
		  "Fragment cannot be spread here as objects of type \"User\" can never be of type \"Bot\" in GraphQL string at location 1:24" },
		{ "{ user(id: 1) { ...F } }\nfragment F on User { id @deprecated }",
		  "Directive \"@deprecated\" may not be used on FIELD in GraphQL string at location 2:26" },
		{ "subscription { node { id } }",
		  "Schema does not support operation type \"subscription\"\n in GraphQL string at location 1:1" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char query[256], schema[512], want[512];

		snprintf(query, sizeof(query), "s:%s", cases[i].query);
		snprintf(schema, sizeof(schema), "s:%s", schema_text);
		snprintf(want, sizeof(want), "graphql.parse: %s", cases[i].message);
		expect_error("graphql.parse", query, schema, "eval_builtin_error", want);
	}
}

/* Literal checks and subscriptions, worded as gqlparser (after graphql-js)
 * words them. */
static void parse_reports_value_errors(void **state)
{
	static const char schema[] =
		"s:type Query { color(c: Color): Int in(i: In): Int n(x: Int): Int }\n"
		"enum Color { RED GREEN }\ninput In { a: Int! b: String }\n"
		"type Subscription { ev: Int other: Int }";
	static const struct {
		const char *query;
		const char *message;
	} cases[] = {
		{ "{ color(c: \"RED\") }",
		  "Enum \"Color\" cannot represent non-enum value: \"RED\". Did you mean the enum value \"RED\"?\n in GraphQL string at location 1:13" },
		{ "{ color(c: red) }",
		  "Value \"red\" does not exist in \"Color\" enum. Did you mean the enum value \"RED\"?\n in GraphQL string at location 1:12" },
		{ "{ color(c: 1.5) }",
		  "Enum \"Color\" cannot represent non-enum value: 1.5 in GraphQL string at location 1:12" },
		{ "{ n(x: 99999999999999999999) }",
		  "Int cannot represent non 32-bit signed integer value: 99999999999999999999\n"
		  " in GraphQL string at location 1:8" },
		{ "{ in(i: {b: \"x\", c: 1}) }",
		  "Field \"In.a\" of required type \"Int!\" was not provided.\n"
		  "input:1:18: Field \"c\" is not defined by type \"In\". Did you mean \"a\" or \"b\"?\n"
		  " in GraphQL string at location 1:9" },
		{ "subscription S { ev ... { other } }",
		  "Subscription \"S\" must select only one top level field in GraphQL string at location 1:27" },
		{ "subscription { __typename }",
		  "Anonymous Subscription must not select an introspection top level field in GraphQL string at location 1:16" },
		{ "{ ...F }\nfragment F on Quer { n }",
		  "Unknown type \"Quer\". Did you mean \"Query\"?\n in GraphQL string at location 2:1" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char query[256], want[700];

		snprintf(query, sizeof(query), "s:%s", cases[i].query);
		snprintf(want, sizeof(want), "graphql.parse: %s", cases[i].message);
		expect_error("graphql.parse", query, schema, "eval_builtin_error", want);
	}
}

/* Every error is reported, each after the first as gqlparser prints it. */
static void parse_reports_every_error(void **state)
{
	char schema[512];

	(void)state;
	snprintf(schema, sizeof(schema), "s:%s", schema_text);
	expect_error("graphql.parse", "s:{ node { id } }\n{ node { id } }", schema, "eval_builtin_error",
		     "graphql.parse: This anonymous operation must be the only defined operation.\n"
		     "input:2:1: This anonymous operation must be the only defined operation.\n"
		     "input:2:1: There can be only one operation named \"\" in GraphQL string at location 1:1");
}

static void parse_reports_schema_errors(void **state)
{
	(void)state;
	expect_error("graphql.parse", "s:{ a }", "s:type Query { a: Missing }", "eval_builtin_error",
		     "graphql.parse: Error in gqlparser SchemaDocument to Schema conversion: "
		     "input:1:17: Undefined type Missing.");
	expect_error("graphql.parse", "j:[]", "s:type Query { a: Int }", "eval_type_error",
		     "graphql.parse: operand 1 must be one of {string, object} but got array");
}

static void parse_returns_both_documents(void **state)
{
	(void)state;
	expect_json("graphql.parse", "s:{ a }", "s:type Query { a: Int }",
		    "[{\"Operations\":[{\"Name\":\"\",\"Operation\":\"query\",\"SelectionSet\":"
		    "[{\"Alias\":\"a\",\"Name\":\"a\"}]}]},{\"Definitions\":[{\"BuiltIn\":false,"
		    "\"Description\":\"\",\"Fields\":[{\"Description\":\"\",\"Name\":\"a\",\"Type\":"
		    "{\"NamedType\":\"Int\",\"NonNull\":false}}],\"Kind\":\"OBJECT\",\"Name\":\"Query\"}]}]");
}

static void parse_and_verify_results(void **state)
{
	(void)state;
	expect_json("graphql.parse_and_verify", "s:{ nope }", "s:type Query { a: Int }",
		    "[false,{},{}]");
	expect_json("graphql.parse_and_verify", "j:true", "s:type Query { a: Int }", "[false,{},{}]");
	expect_json("graphql.parse_and_verify", "s:", "s:type Query { a: Int }",
		    "[true,{},{\"Definitions\":[{\"BuiltIn\":false,\"Description\":\"\",\"Fields\":"
		    "[{\"Description\":\"\",\"Name\":\"a\",\"Type\":{\"NamedType\":\"Int\",\"NonNull\":"
		    "false}}],\"Kind\":\"OBJECT\",\"Name\":\"Query\"}]}]");
}

static void schema_is_valid_rules(void **state)
{
	static const struct {
		const char *schema;
		const char *want;
	} cases[] = {
		{ "type Query { a: Int }", "true" },
		{ "type Query { a: Int }\ntype Query { b: Int }", "false" },
		{ "type Query { __a: Int }", "false" },
		{ "interface I { x: Int! } type Query implements I { x: Int }", "false" },
		{ "interface I { x: Int } type Query implements I { x: Int! }", "true" },
		{ "input In { u: Query } type Query { a(i: In): Int }", "false" },
		{ "type Query { a: Int } extend type Query { b: Int }", "true" },
		{ "type Query { a: Int } extend input Query { b: Int }", "false" },
		{ "enum E { true }", "false" },
		{ "union U = Query type Query { a: Int }", "true" },
		{ "union U = S scalar S", "false" },
		{ "type Query { a: Int @include(if: true) }", "false" },
		{ "directive @d(x: D) on FIELD input D { a: Int }", "true" },
		{ "schema { query: Nope }", "false" },
		{ "type Query { a: Int }", "true" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char schema[256];

		snprintf(schema, sizeof(schema), "s:%s", cases[i].schema);
		expect_json("graphql.schema_is_valid", schema, NULL, cases[i].want);
	}
	expect_json("graphql.schema_is_valid", "j:42", NULL, "false");
	expect_json("graphql.schema_is_valid", "s:type {", NULL, "false");
}

/* Objects are read as Go's JSON decoder reads them into gqlparser's
 * structs: case-insensitive member names in most types, exact ones in
 * fields and operations, and selections always decoded as fields first. */
static void object_documents(void **state)
{
	(void)state;
	expect_json("graphql.is_valid",
		    "j:{\"Operations\":[{\"Operation\":\"query\",\"SelectionSet\":[{\"Name\":\"a\"}]}]}",
		    "j:{\"definitions\":[{\"kind\":\"OBJECT\",\"name\":\"Query\",\"fields\":"
		    "[{\"name\":\"a\",\"type\":{\"namedtype\":\"Int\"}}]}]}",
		    "true");
	/* "operation" is not "Operation" inside an operation. */
	expect_json("graphql.is_valid",
		    "j:{\"Operations\":[{\"operation\":\"mutation\",\"SelectionSet\":[{\"Name\":\"a\"}]}]}",
		    "j:{\"Definitions\":[{\"Kind\":\"OBJECT\",\"Name\":\"Query\",\"Fields\":"
		    "[{\"Name\":\"a\",\"Type\":{\"NamedType\":\"Int\"}}]}]}",
		    "true");
	/* A member of the wrong JSON type fails the document. */
	expect_json("graphql.is_valid", "j:{\"Operations\":\"x\"}", "s:type Query { a: Int }", "false");
	expect_json("graphql.schema_is_valid", "j:{\"Definitions\":[{\"Kind\":5}]}", NULL, "false");
	/* A fragment spread read back is a field with an empty alias. */
	expect_json("graphql.parse",
		    "j:{\"Operations\":[{\"Operation\":\"query\",\"SelectionSet\":[{\"Name\":\"a\"}]}]}",
		    "s:type Query { a: Int }",
		    "[{\"Operations\":[{\"Name\":\"\",\"Operation\":\"query\",\"SelectionSet\":"
		    "[{\"Alias\":\"\",\"Name\":\"a\"}]}]},{\"Definitions\":[{\"BuiltIn\":false,"
		    "\"Description\":\"\",\"Fields\":[{\"Description\":\"\",\"Name\":\"a\",\"Type\":"
		    "{\"NamedType\":\"Int\",\"NonNull\":false}}],\"Kind\":\"OBJECT\",\"Name\":\"Query\"}]}]");
}

static char *repeat(const char *open, const char *middle, const char *close, size_t n)
{
	size_t lo = strlen(open), lm = strlen(middle), lc = strlen(close);
	char *out = malloc(n * (lo + lc) + lm + 3);
	char *p = out;

	assert_non_null(out);
	*p++ = 's';
	*p++ = ':';
	for (size_t i = 0; i < n; i++, p += lo)
		memcpy(p, open, lo);
	memcpy(p, middle, lm);
	p += lm;
	for (size_t i = 0; i < n; i++, p += lc)
		memcpy(p, close, lc);
	*p = '\0';
	return out;
}

static void hostile_nesting_is_bounded(void **state)
{
	char *deep = repeat("{a", "", "}", 5000);
	char *list = repeat("[", "1", "]", 5000);
	char *shallow = repeat("{a", "", "}", 50);
	struct call c;

	(void)state;
	c = run("graphql.parse_query", deep, NULL);
	assert_true(c.rc < 0);
	assert_string_equal(c.ctx.err_msg,
			    "graphql.parse_query: Document nesting exceeds 200 levels in GraphQL string at location 1:402");
	c = run("graphql.parse_schema", "s:type T { a(x: [[[[[[[[[[[[[[[[[[[[Int]]]]]]]]]]]]]]]]]]]]): Int }", NULL);
	assert_int_equal(c.rc, 0);
	free(c.json);

	memcpy(list, "s:{f(x:", 7);
	memcpy(list + strlen(list) - 3, ")}\0", 3);
	c = run("graphql.parse_query", list, NULL);
	assert_true(c.rc < 0);
	assert_string_equal(c.ctx.err_msg,
			    "graphql.parse_query: Document nesting exceeds 200 levels in GraphQL string at location 1:205");

	expect_json("graphql.is_valid", shallow, "s:type Query { a: Query }", "false");
	free(deep);
	free(list);
	free(shallow);
}

/* Fragment spreads are walked inline, so a long chain of fragments nests
 * the validation walk; it stops with an error at a fixed depth. */
static void hostile_fragment_chain_is_bounded(void **state)
{
	struct wd_buf query;
	struct call c;
	static const char prefix[] = "graphql.parse: Query nesting exceeds 1000 levels.\n";

	(void)state;
	wd_buf_init(&query, 1 << 16, 1 << 22);
	assert_int_equal(wd_buf_append_str(&query, "s:{ ...F0 }\n"), 0);
	for (int i = 0; i < 2000; i++)
		assert_int_equal(wd_buf_appendf(&query, "fragment F%d on Query { a { ...F%d } }\n", i, i + 1), 0);
	assert_int_equal(wd_buf_append_str(&query, "fragment F2000 on Query { b }"), 0);

	c = run("graphql.parse", wd_buf_str(&query), "s:type Query { a: Query b: Int }");
	assert_true(c.rc < 0);
	assert_int_equal(strncmp(c.ctx.err_msg, prefix, strlen(prefix)), 0);
	expect_json("graphql.is_valid", wd_buf_str(&query), "s:type Query { a: Query b: Int }", "false");
	wd_buf_free(&query);
}

static void hostile_bytes_never_crash(void **state)
{
	static const char *const inputs[] = {
		"s:\"\\u12", "s:\"\\uZZZZ\"", "s:{ a(x: 00) }", "s:{ a(x: 1.e) }", "s:\"\"\"\r",
		"s:\xef\xbb\xbf{ a }", "s:{ a(x: \"\xff\") }", "s:'", "s:{ a @ }", "s:....",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		struct call c = run("graphql.parse_query", inputs[i], NULL);

		if (c.rc == 0)
			free(c.json);
		else
			assert_string_equal(c.ctx.err_code, "eval_builtin_error");
	}
	expect_json("graphql.parse_query", "s:\xef\xbb\xbf{ a }", NULL,
		    "{\"Operations\":[{\"Name\":\"\",\"Operation\":\"query\",\"SelectionSet\":"
		    "[{\"Alias\":\"a\",\"Name\":\"a\"}]}]}");
	expect_json("graphql.parse_query", "s:{ a(x: \"\xff\") }", NULL,
		    "{\"Operations\":[{\"Name\":\"\",\"Operation\":\"query\",\"SelectionSet\":"
		    "[{\"Alias\":\"a\",\"Arguments\":[{\"Name\":\"x\",\"Value\":{\"ExpectedTypeHasDefault\":"
		    "false,\"Kind\":3,\"Raw\":\"\xef\xbf\xbd\"}}],\"Name\":\"a\"}]}]}");
	expect_error("graphql.parse_query", "s:{ a(x: 00) }", NULL, "eval_builtin_error",
		     "graphql.parse_query: Unexpected <Invalid> in GraphQL string at location 1:9");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_query_field_with_argument),
		cmocka_unit_test(parse_query_fragments_and_variables),
		cmocka_unit_test(parse_query_list_and_object_values),
		cmocka_unit_test(parse_query_block_string_indent),
		cmocka_unit_test(parse_query_empty_document),
		cmocka_unit_test(parse_query_syntax_errors),
		cmocka_unit_test(parse_query_rejects_non_string),
		cmocka_unit_test(parse_schema_every_definition),
		cmocka_unit_test(parse_schema_syntax_errors),
		cmocka_unit_test(is_valid_accepts_and_rejects),
		cmocka_unit_test(parse_reports_validation_errors),
		cmocka_unit_test(parse_reports_value_errors),
		cmocka_unit_test(parse_reports_every_error),
		cmocka_unit_test(parse_reports_schema_errors),
		cmocka_unit_test(parse_returns_both_documents),
		cmocka_unit_test(parse_and_verify_results),
		cmocka_unit_test(schema_is_valid_rules),
		cmocka_unit_test(object_documents),
		cmocka_unit_test(hostile_nesting_is_bounded),
		cmocka_unit_test(hostile_fragment_chain_is_bounded),
		cmocka_unit_test(hostile_bytes_never_crash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
