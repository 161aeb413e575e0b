/* Unit tests of the object builtins, object.subset, graph.reachable,
 * graph.reachable_paths and walk. */
#include "test_bi_numbers_support.h"

#define SET(...) "{\"$set\": [" __VA_ARGS__ "]}"

static void test_object_get(void **state)
{
	(void)state;
	expect_value("\"b\"", "object.get", "{\"a\": \"b\"}", "\"a\"", "\"c\"");
	expect_value("\"c\"", "object.get", "{\"a\": \"b\"}", "\"x\"", "\"c\"");
	expect_value("[1]", "object.get", "{\"a\": {\"b\": 1}}", "\"b\"", "[1]");
	expect_value("{\"a\":1}", "object.get", "{\"a\": 1}", "[]", "2");
	expect_value("1", "object.get", "{\"a\": {\"b\": {\"c\": 1}}}", "[\"a\", \"b\", \"c\"]",
		     "2");
	expect_value("2", "object.get", "{\"a\": {\"b\": 1}}", "[\"b\", \"a\"]", "2");
	expect_value("7", "object.get", "{\"a\": [{\"c\": 7}]}", "[\"a\", 0, \"c\"]", "2");
	expect_value("2", "object.get", "{\"a\": [1]}", "[\"a\", 1]", "2");
	expect_value("2", "object.get", "{\"a\": [1]}", "[\"a\", -1]", "2");
	expect_value("2", "object.get", "{\"a\": [1]}", "[\"a\", 0.0]", "2");
	expect_value("2", "object.get", "{\"a\": [1]}", "[\"a\", \"0\"]", "2");
	expect_value("2", "object.get", "{\"a\": \"text\"}", "[\"a\", \"b\"]", "2");
	expect_value("\"x\"", "object.get", "{\"a\": " SET("\"x\"") "}", "[\"a\", \"x\"]", "2");
	expect_value("2", "object.get", "{\"a\": " SET("\"x\"") "}", "[\"a\", \"y\"]", "2");
	expect_value("null", "object.get", "{\"a\": null}", "\"a\"", "2");
	expect_error(TYPE_ERR, "object.get: operand 1 must be object but got string",
		     "object.get", "\"object\"", "[\"a\"]", "2");
}

static void test_object_keys_remove_filter(void **state)
{
	(void)state;
	expect_value("{\"a\",\"b\"}", "object.keys", "{\"b\": 2, \"a\": 1}");
	expect_value("set()", "object.keys", "{}");
	expect_error(TYPE_ERR, "object.keys: operand 1 must be object but got array",
		     "object.keys", "[]");

	expect_value("{\"b\":{\"c\":3}}", "object.remove", "{\"a\": 1, \"b\": {\"c\": 3}}",
		     SET("\"a\""));
	expect_value("{\"a\":1}", "object.remove", "{\"a\": 1, \"b\": 2, \"d\": 4}",
		     "[\"b\", \"d\"]");
	expect_value("{\"x\":123}", "object.remove", "{\"a\": {\"b\": 1}, \"x\": 123}",
		     "{\"a\": {\"b\": 2}}");
	expect_value("{\"a\":1}", "object.remove", "{\"a\": 1}", "[\"z\"]");
	expect_value("{}", "object.remove", "{}", SET("\"a\""));
	expect_value("{\"k\":2}", "object.remove",
		     "{\"k0\": 0, \"k1\": 1, \"k\": 2, \"k3\": 3, \"k4\": 4}",
		     "[\"k0\", \"k1\", \"k3\", \"k4\", \"x\", \"y\", \"z\", \"w\", \"v\", \"u\"]");
	expect_error(TYPE_ERR, "object.remove: operand 1 must be object but got array",
		     "object.remove", "[\"a\"]", SET("\"a\""));
	expect_error(TYPE_ERR, "object.remove: operand 2 must be one of {object, set, array} but "
		     "got string", "object.remove", "{\"a\": 1}", "\"a\"");
	expect_error(TYPE_ERR, "object.remove: operand 2 must be one of {object, set, array} but "
		     "got null", "object.remove", "{\"a\": 1}", "null");

	expect_value("{\"a\":{\"b\":7}}", "object.filter", "{\"a\": {\"b\": 7}, \"e\": 9}",
		     SET("\"a\""));
	expect_value("{\"a\":1,\"e\":9}", "object.filter", "{\"a\": 1, \"b\": 2, \"e\": 9}",
		     "{\"a\": \"x\", \"e\": \"\", \"q\": 1}");
	expect_value("{}", "object.filter", "{\"a\": 7}", "[]");
	expect_value("{}", "object.filter", "{}", "[\"a\"]");
	expect_error(TYPE_ERR, "object.filter: operand 1 must be object but got boolean",
		     "object.filter", "false", SET("\"a\""));
	expect_error(TYPE_ERR, "object.filter: operand 2 must be one of {object, set, array} but "
		     "got boolean", "object.filter", "{\"a\": 1}", "true");
}

static void test_object_union(void **state)
{
	(void)state;
	expect_value("{}", "object.union", "{}", "{}");
	expect_value("{\"a\":1,\"b\":2}", "object.union", "{\"a\": 1}", "{\"b\": 2}");
	expect_value("{\"a\":2}", "object.union", "{\"a\": 1}", "{\"a\": 2}");
	expect_value("{\"a\":{\"b\":\"foo\",\"b1\":\"bar\"},\"d\":7,\"e\":17}", "object.union",
		     "{\"a\": {\"b\": {\"c\": 1}}, \"e\": 1}",
		     "{\"a\": {\"b\": \"foo\", \"b1\": \"bar\"}, \"d\": 7, \"e\": 17}");
	expect_value("{\"a\":{\"b\":{\"c\":1,\"d\":2}}}", "object.union",
		     "{\"a\": {\"b\": {\"c\": 1}}}", "{\"a\": {\"b\": {\"d\": 2}}}");
	expect_value("{\"a\":{\"x\":1}}", "object.union", "{\"a\": 5}", "{\"a\": {\"x\": 1}}");
	expect_error(TYPE_ERR, "object.union: operand 2 must be object but got array",
		     "object.union", "{\"a\": 1}", "[1, 2, 3]");

	expect_value("{}", "object.union_n", "[]");
	expect_value("{\"foo\":\"baz\"}", "object.union_n", "[{\"foo\": \"bar\"}, {\"foo\": \"baz\"}]");
	expect_value("{\"a\":\"final\",\"b\":2,\"c\":3,\"d\":4}", "object.union_n",
		     "[{\"a\": 1, \"b\": 2, \"c\": 3}, {\"a\": \"a\", \"d\": 4}, {\"a\": \"final\"}]");
	/* A non-object in the middle cuts the merge of a key's objects. */
	expect_value("{\"a\":{\"c\":3}}", "object.union_n",
		     "[{\"a\": {\"b\": 2}}, {\"a\": 4}, {\"a\": {\"c\": 3}}]");
	expect_value("{\"a\":{\"b\":{\"y\":2}}}", "object.union_n",
		     "[{\"a\": {\"b\": {\"x\": 1}}}, {\"a\": {\"b\": 5}}, {\"a\": {\"b\": {\"y\": 2}}}]");
	expect_value("{\"a\":{\"b\":1,\"c\":2}}", "object.union_n",
		     "[{\"a\": {\"b\": 1}}, {}, {\"a\": {\"c\": 2}}]");
	/* OPA reports the last non-object item. */
	expect_error(TYPE_ERR, "object.union_n: operand 1 must be array of objects but got array "
		     "containing number", "object.union_n", "[\"x\", {}, 1, {}]");
	expect_error(TYPE_ERR, "object.union_n: operand 1 must be array but got object",
		     "object.union_n", "{}");
}

static void test_object_subset(void **state)
{
	(void)state;
	expect_value("true", "object.subset", "{\"a\": 5, \"b\": 7}", "{\"a\": 5}");
	expect_value("false", "object.subset", "{\"a\": 5}", "{\"a\": 5, \"b\": 7}");
	expect_value("false", "object.subset", "{\"a\": 5, \"b\": 7}", "{\"b\": 10}");
	expect_value("true", "object.subset",
		     "{\"n\": {\"x\": 1, \"s\": " SET("1, 2, 3") ", \"arr\": [6, 7, 8]}}",
		     "{\"n\": {\"s\": " SET("3, 1") ", \"arr\": [7, 8]}}");
	expect_value("false", "object.subset", "{\"n\": {\"arr\": [6, 7, 8]}}",
		     "{\"n\": {\"arr\": [6, 8]}}");
	expect_value("false", "object.subset", "{\"n\": [1]}", "{\"n\": " SET("1") "}");
	expect_value("true", "object.subset", SET("1, 2, 3"), SET("3, 2"));
	expect_value("false", "object.subset", SET("1, " SET("\"a\", \"b\"")),
		     SET(SET("\"a\"")));
	expect_value("true", "object.subset", "[1, 2, 3, 4]", "[2, 3]");
	expect_value("true", "object.subset", "[1, 1, 2]", "[1, 2]");
	expect_value("false", "object.subset", "[1, 2, 3, 4]", "[2, 4]");
	expect_value("false", "object.subset", "[1, 2]", "[1, 2, 3]");
	expect_value("true", "object.subset", "[1]", "[]");
	expect_value("true", "object.subset", "[1, 2, 3]", SET("3, 1"));
	expect_value("false", "object.subset", "[1, 2, 3]", SET("4"));
	/* OPA's count: a repeated item matches twice, and an empty array
	 * never contains even the empty set. */
	expect_value("true", "object.subset", "[1, 1]", SET("1, 2"));
	expect_value("false", "object.subset", "[]", SET(""));
	expect_value("true", "object.subset", "[0]", SET(""));
	expect_error(TYPE_ERR, "object.subset: both arguments object.subset must be of the same "
		     "type or array and set", "object.subset", SET("1"), "[1]");
	expect_error(TYPE_ERR, "object.subset: both arguments object.subset must be of the same "
		     "type or array and set", "object.subset", "1", "1");
}

static void test_graph_reachable(void **state)
{
	(void)state;
	expect_value("set()", "graph.reachable", "{}", SET("\"a\""));
	expect_value("{\"a\",\"b\",\"c\"}", "graph.reachable",
		     "{\"a\": " SET("\"b\"") ", \"b\": " SET("\"c\"") ", \"c\": " SET("\"a\"") "}",
		     SET("\"a\""));
	expect_value("{\"b\",\"d\",\"e\",\"f\"}", "graph.reachable",
		     "{\"a\": [\"b\", \"c\"], \"b\": [\"d\"], \"c\": [\"d\"], \"d\": [], "
		     "\"e\": [\"f\"], \"f\": [\"e\"], \"x\": [\"x\"]}", "[\"b\", \"e\"]");
	/* Nodes outside the graph are not reached; odd edge values have no
	 * neighbours. */
	expect_value("{\"a\"}", "graph.reachable", "{\"a\": null}", "[\"a\", \"zz\"]");
	expect_value("{\"a\"}", "graph.reachable", "{\"a\": \"b\", \"b\": []}", "[\"a\"]");
	expect_error(TYPE_ERR, "graph.reachable: operand 2 must be {array, set} but got string",
		     "graph.reachable", "{\"a\": []}", "\"a\"");
	expect_error(TYPE_ERR, "graph.reachable: operand 1 must be object but got number",
		     "graph.reachable", "1", "[1]");
}

/* A layered graph where every node of a layer points at both nodes of the
 * next one has 2^layers paths; reachability must stay linear. */
static void test_graph_reachable_layers(void **state)
{
	char graph[8192];
	size_t used = 0;

	(void)state;
	used += (size_t)snprintf(graph + used, sizeof(graph) - used, "{");
	for (int i = 0; i < 60; i++) {
		used += (size_t)snprintf(graph + used, sizeof(graph) - used,
					 "%s\"a%d\": [\"a%d\", \"b%d\"], \"b%d\": [\"a%d\", \"b%d\"]",
					 i ? ", " : "", i, i + 1, i + 1, i, i + 1, i + 1);
	}
	snprintf(graph + used, sizeof(graph) - used, "}");

	struct tcall call;

	tcall_run(&call, "graph.reachable", TARGS(graph, "[\"a0\"]"));
	assert_int_equal(call.rc, 0);
	assert_non_null(strstr(call.shown, "\"b60\""));

	/* The paths themselves are too many. */
	expect_error(BUILTIN_ERR, "graph.reachable_paths: graph has more than 1048576 path steps",
		     "graph.reachable_paths", graph, "[\"a0\"]");
}

static void test_graph_reachable_paths(void **state)
{
	(void)state;
	expect_value("set()", "graph.reachable_paths", "{}", SET("\"a\""));
	expect_value("{[\"a\",\"b\",\"c\"]}", "graph.reachable_paths",
		     "{\"a\": [\"b\"], \"b\": [\"c\"], \"c\": [\"a\"]}", "[\"a\"]");
	expect_value("{[\"a\",\"b\",\"c\"],[\"a\",\"c\"]}", "graph.reachable_paths",
		     "{\"a\": [\"b\", \"c\"], \"b\": [\"c\"], \"c\": []}", SET("\"a\""));
	expect_value("{[\"b\",\"d\"],[\"e\",\"f\"]}", "graph.reachable_paths",
		     "{\"a\": [\"b\", \"c\"], \"b\": [\"d\"], \"c\": [\"d\"], \"d\": [], "
		     "\"e\": [\"f\"], \"f\": [\"e\"]}", SET("\"b\", \"e\""));
	/* A neighbour outside the graph ends the path before it. */
	expect_value("{[\"a\",\"b\"],[\"b\"]}", "graph.reachable_paths",
		     "{\"a\": [\"b\"], \"b\": [\"gone\"]}", SET("\"a\", \"b\""));
	expect_value("{[\"a\"]}", "graph.reachable_paths", "{\"a\": null}", "[\"a\"]");
	expect_value("{[\"x\",\"x\"]}", "graph.reachable_paths", "{\"x\": [\"x\"]}", "[\"x\"]");
	expect_value("{[\"p\",\"q\"]}", "graph.reachable_paths",
		     "{\"p\": [\"q\"], \"q\": [\"p\", \"p\"]}", "[\"p\"]");
	expect_error(TYPE_ERR, "graph.reachable_paths: operand 2 must be {array, set} but got "
		     "string", "graph.reachable_paths", "{\"a\": []}", "\"a\"");
	expect_error(TYPE_ERR, "graph.reachable_paths: operand 1 must be object but got number",
		     "graph.reachable_paths", "1", "[1]");
}

/* A chain longer than any C stack could follow by recursion. */
static void test_graph_reachable_paths_long_chain(void **state)
{
	struct wd_buf graph;
	struct tcall call;

	(void)state;
	wd_buf_init(&graph, 1u << 16, 1u << 24);
	assert_int_equal(wd_buf_append_str(&graph, "{"), 0);
	for (int i = 0; i < 100000; i++)
		assert_int_equal(wd_buf_appendf(&graph, "%s\"%d\": [\"%d\"]", i ? ", " : "", i,
						i + 1), 0);
	assert_int_equal(wd_buf_append_str(&graph, "}"), 0);

	tcall_run(&call, "graph.reachable_paths", TARGS(wd_buf_str(&graph), "[\"0\"]"));
	assert_int_equal(call.rc, 0);
	tcall_run(&call, "graph.reachable", TARGS(wd_buf_str(&graph), "[\"0\"]"));
	assert_int_equal(call.rc, 0);
	wd_buf_free(&graph);
}

static void test_walk(void **state)
{
	(void)state;
	expect_value("[[[],1]]", "walk", "1");
	expect_value("[[[],[1,2]],[[0],1],[[1],2]]", "walk", "[1, 2]");
	expect_value("[[[],{\"v1\":\"hello\",\"v2\":\"bye\"}],[[\"v1\"],\"hello\"],[[\"v2\"],\"bye\"]]",
		     "walk", "{\"v2\": \"bye\", \"v1\": \"hello\"}");
	expect_value("[[[],{{1,2}}],[[{1,2}],{1,2}],[[{1,2},1],1],[[{1,2},2],2]]", "walk",
		     SET(SET("2, 1")));
	expect_value("[[[],{\"a\":[{\"b\":1}]}],[[\"a\"],[{\"b\":1}]],[[\"a\",0],{\"b\":1}],"
		     "[[\"a\",0,\"b\"],1]]", "walk", "{\"a\": [{\"b\": 1}]}");
}

static void test_walk_too_deep(void **state)
{
	struct rv *value = rv_int(1);
	struct rego_bctx ctx = { .name = "walk" };
	struct rv *ret = NULL;

	(void)state;
	for (int i = 0; i < 5000; i++) {
		struct rv *outer = rv_array_new(1);

		assert_non_null(outer);
		assert_int_equal(rv_array_push(outer, value), 0);
		value = outer;
	}

	assert_true(rego_builtin_find("walk")->fn(&ctx, &value, 1, &ret) < 0);
	assert_string_equal(ctx.err_code, BUILTIN_ERR);
	assert_string_equal(ctx.err_msg, "walk: value nested deeper than 4096 levels");
	assert_null(ret);
	rv_unref(value);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_object_get),
		cmocka_unit_test(test_object_keys_remove_filter),
		cmocka_unit_test(test_object_union),
		cmocka_unit_test(test_object_subset),
		cmocka_unit_test(test_graph_reachable),
		cmocka_unit_test(test_graph_reachable_layers),
		cmocka_unit_test(test_graph_reachable_paths),
		cmocka_unit_test(test_graph_reachable_paths_long_chain),
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_walk_too_deep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
