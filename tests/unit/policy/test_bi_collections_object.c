/* Unit tests of the object builtins, object.subset, graph.reachable,
 * graph.reachable_paths and walk. */
#include "test_bi_numbers_support.h"

#define SET(...) "{\"$set\": [" __VA_ARGS__ "]}"

static void test_object_get(void **state)
{
	(void)state;
	check_value("\"b\"", "object.get", "{\"a\": \"b\"}", "\"a\"", "\"c\"");
	check_value("\"c\"", "object.get", "{\"a\": \"b\"}", "\"x\"", "\"c\"");
	check_value("[1]", "object.get", "{\"a\": {\"b\": 1}}", "\"b\"", "[1]");
	check_value("{\"a\":1}", "object.get", "{\"a\": 1}", "[]", "2");
	check_value("1", "object.get", "{\"a\": {\"b\": {\"c\": 1}}}", "[\"a\", \"b\", \"c\"]",
		     "2");
	check_value("2", "object.get", "{\"a\": {\"b\": 1}}", "[\"b\", \"a\"]", "2");
	check_value("7", "object.get", "{\"a\": [{\"c\": 7}]}", "[\"a\", 0, \"c\"]", "2");
	check_value("2", "object.get", "{\"a\": [1]}", "[\"a\", 1]", "2");
	check_value("2", "object.get", "{\"a\": [1]}", "[\"a\", -1]", "2");
	check_value("2", "object.get", "{\"a\": [1]}", "[\"a\", \"0\"]", "2");
	check_value("2", "object.get", "{\"a\": \"text\"}", "[\"a\", \"b\"]", "2");
	check_value("\"x\"", "object.get", "{\"a\": " SET("\"x\"") "}", "[\"a\", \"x\"]", "2");
	check_value("2", "object.get", "{\"a\": " SET("\"x\"") "}", "[\"a\", \"y\"]", "2");
	check_value("null", "object.get", "{\"a\": null}", "\"a\"", "2");
	check_error(TYPE_ERR, "object.get: operand 1 must be object but got string",
		     "object.get", "\"object\"", "[\"a\"]", "2");
}

static void test_object_keys_remove_filter(void **state)
{
	(void)state;
	check_value("{\"a\",\"b\"}", "object.keys", "{\"b\": 2, \"a\": 1}");
	check_value("set()", "object.keys", "{}");
	check_error(TYPE_ERR, "object.keys: operand 1 must be object but got array",
		     "object.keys", "[]");

	check_value("{\"b\":{\"c\":3}}", "object.remove", "{\"a\": 1, \"b\": {\"c\": 3}}",
		     SET("\"a\""));
	check_value("{\"a\":1}", "object.remove", "{\"a\": 1, \"b\": 2, \"d\": 4}",
		     "[\"b\", \"d\"]");
	check_value("{\"x\":123}", "object.remove", "{\"a\": {\"b\": 1}, \"x\": 123}",
		     "{\"a\": {\"b\": 2}}");
	check_value("{\"a\":1}", "object.remove", "{\"a\": 1}", "[\"z\"]");
	check_value("{}", "object.remove", "{}", SET("\"a\""));
	check_value("{\"k\":2}", "object.remove",
		     "{\"k0\": 0, \"k1\": 1, \"k\": 2, \"k3\": 3, \"k4\": 4}",
		     "[\"k0\", \"k1\", \"k3\", \"k4\", \"x\", \"y\", \"z\", \"w\", \"v\", \"u\"]");
	check_error(TYPE_ERR, "object.remove: operand 1 must be object but got array",
		     "object.remove", "[\"a\"]", SET("\"a\""));
	check_error(TYPE_ERR, "object.remove: operand 2 must be one of {object, set, array} but "
		     "got string", "object.remove", "{\"a\": 1}", "\"a\"");
	check_error(TYPE_ERR, "object.remove: operand 2 must be one of {object, set, array} but "
		     "got null", "object.remove", "{\"a\": 1}", "null");

	check_value("{\"a\":{\"b\":7}}", "object.filter", "{\"a\": {\"b\": 7}, \"e\": 9}",
		     SET("\"a\""));
	check_value("{\"a\":1,\"e\":9}", "object.filter", "{\"a\": 1, \"b\": 2, \"e\": 9}",
		     "{\"a\": \"x\", \"e\": \"\", \"q\": 1}");
	check_value("{}", "object.filter", "{\"a\": 7}", "[]");
	check_value("{}", "object.filter", "{}", "[\"a\"]");
	check_error(TYPE_ERR, "object.filter: operand 1 must be object but got boolean",
		     "object.filter", "false", SET("\"a\""));
	check_error(TYPE_ERR, "object.filter: operand 2 must be one of {object, set, array} but "
		     "got boolean", "object.filter", "{\"a\": 1}", "true");
}

static void test_object_union(void **state)
{
	(void)state;
	check_value("{}", "object.union", "{}", "{}");
	check_value("{\"a\":1,\"b\":2}", "object.union", "{\"a\": 1}", "{\"b\": 2}");
	check_value("{\"a\":2}", "object.union", "{\"a\": 1}", "{\"a\": 2}");
	check_value("{\"a\":{\"b\":\"foo\",\"b1\":\"bar\"},\"d\":7,\"e\":17}", "object.union",
		     "{\"a\": {\"b\": {\"c\": 1}}, \"e\": 1}",
		     "{\"a\": {\"b\": \"foo\", \"b1\": \"bar\"}, \"d\": 7, \"e\": 17}");
	check_value("{\"a\":{\"b\":{\"c\":1,\"d\":2}}}", "object.union",
		     "{\"a\": {\"b\": {\"c\": 1}}}", "{\"a\": {\"b\": {\"d\": 2}}}");
	check_value("{\"a\":{\"x\":1}}", "object.union", "{\"a\": 5}", "{\"a\": {\"x\": 1}}");
	check_error(TYPE_ERR, "object.union: operand 2 must be object but got array",
		     "object.union", "{\"a\": 1}", "[1, 2, 3]");

	check_value("{}", "object.union_n", "[]");
	check_value("{\"foo\":\"baz\"}", "object.union_n", "[{\"foo\": \"bar\"}, {\"foo\": \"baz\"}]");
	check_value("{\"a\":\"final\",\"b\":2,\"c\":3,\"d\":4}", "object.union_n",
		     "[{\"a\": 1, \"b\": 2, \"c\": 3}, {\"a\": \"a\", \"d\": 4}, {\"a\": \"final\"}]");
	/* A non-object in the middle cuts the merge of a key's objects. */
	check_value("{\"a\":{\"c\":3}}", "object.union_n",
		     "[{\"a\": {\"b\": 2}}, {\"a\": 4}, {\"a\": {\"c\": 3}}]");
	check_value("{\"a\":{\"b\":{\"y\":2}}}", "object.union_n",
		     "[{\"a\": {\"b\": {\"x\": 1}}}, {\"a\": {\"b\": 5}}, {\"a\": {\"b\": {\"y\": 2}}}]");
	check_value("{\"a\":{\"b\":1,\"c\":2}}", "object.union_n",
		     "[{\"a\": {\"b\": 1}}, {}, {\"a\": {\"c\": 2}}]");
	/* OPA reports the last non-object item. */
	check_error(TYPE_ERR, "object.union_n: operand 1 must be array of objects but got array "
		     "containing number", "object.union_n", "[\"x\", {}, 1, {}]");
	check_error(TYPE_ERR, "object.union_n: operand 1 must be array but got object",
		     "object.union_n", "{}");
}

static void test_object_subset(void **state)
{
	(void)state;
	check_value("true", "object.subset", "{\"a\": 5, \"b\": 7}", "{\"a\": 5}");
	check_value("false", "object.subset", "{\"a\": 5}", "{\"a\": 5, \"b\": 7}");
	check_value("false", "object.subset", "{\"a\": 5, \"b\": 7}", "{\"b\": 10}");
	check_value("true", "object.subset",
		     "{\"n\": {\"x\": 1, \"s\": " SET("1, 2, 3") ", \"arr\": [6, 7, 8]}}",
		     "{\"n\": {\"s\": " SET("3, 1") ", \"arr\": [7, 8]}}");
	check_value("false", "object.subset", "{\"n\": {\"arr\": [6, 7, 8]}}",
		     "{\"n\": {\"arr\": [6, 8]}}");
	check_value("false", "object.subset", "{\"n\": [1]}", "{\"n\": " SET("1") "}");
	check_value("true", "object.subset", SET("1, 2, 3"), SET("3, 2"));
	check_value("false", "object.subset", SET("1, " SET("\"a\", \"b\"")),
		     SET(SET("\"a\"")));
	check_value("true", "object.subset", "[1, 2, 3, 4]", "[2, 3]");
	check_value("true", "object.subset", "[1, 1, 2]", "[1, 2]");
	check_value("false", "object.subset", "[1, 2, 3, 4]", "[2, 4]");
	check_value("false", "object.subset", "[1, 2]", "[1, 2, 3]");
	check_value("true", "object.subset", "[1]", "[]");
	check_value("true", "object.subset", "[1, 2, 3]", SET("3, 1"));
	check_value("false", "object.subset", "[1, 2, 3]", SET("4"));
	/* OPA's count: a repeated item matches twice, and an empty array
	 * never contains even the empty set. */
	check_value("true", "object.subset", "[1, 1]", SET("1, 2"));
	check_value("false", "object.subset", "[]", SET(""));
	check_value("true", "object.subset", "[0]", SET(""));
	check_error(TYPE_ERR, "object.subset: both arguments object.subset must be of the same "
		     "type or array and set", "object.subset", SET("1"), "[1]");
	check_error(TYPE_ERR, "object.subset: both arguments object.subset must be of the same "
		     "type or array and set", "object.subset", "1", "1");
}

static void test_graph_reachable(void **state)
{
	(void)state;
	check_value("set()", "graph.reachable", "{}", SET("\"a\""));
	check_value("{\"a\",\"b\",\"c\"}", "graph.reachable",
		     "{\"a\": " SET("\"b\"") ", \"b\": " SET("\"c\"") ", \"c\": " SET("\"a\"") "}",
		     SET("\"a\""));
	check_value("{\"b\",\"d\",\"e\",\"f\"}", "graph.reachable",
		     "{\"a\": [\"b\", \"c\"], \"b\": [\"d\"], \"c\": [\"d\"], \"d\": [], "
		     "\"e\": [\"f\"], \"f\": [\"e\"], \"x\": [\"x\"]}", "[\"b\", \"e\"]");
	/* Nodes outside the graph are not reached; odd edge values have no
	 * neighbours. */
	check_value("{\"a\"}", "graph.reachable", "{\"a\": null}", "[\"a\", \"zz\"]");
	check_value("{\"a\"}", "graph.reachable", "{\"a\": \"b\", \"b\": []}", "[\"a\"]");
	check_error(TYPE_ERR, "graph.reachable: operand 2 must be {array, set} but got string",
		     "graph.reachable", "{\"a\": []}", "\"a\"");
	check_error(TYPE_ERR, "graph.reachable: operand 1 must be object but got number",
		     "graph.reachable", "1", "[1]");
}

/* A layered graph where every node of a layer points at both nodes of the
 * next one has 2^layers paths from its first node. */
static void test_graph_reachable_layers(void **state)
{
	char graph[8192];
	size_t used = 0;
	struct tcall call;

	(void)state;
	used += (size_t)snprintf(graph + used, sizeof(graph) - used, "{");
	for (int i = 0; i < 60; i++) {
		used += (size_t)snprintf(graph + used, sizeof(graph) - used,
					 "%s\"a%d\": [\"a%d\", \"b%d\"], \"b%d\": [\"a%d\", \"b%d\"]",
					 i ? ", " : "", i, i + 1, i + 1, i, i + 1, i + 1);
	}
	snprintf(graph + used, sizeof(graph) - used, "}");

	tcall_run(&call, "graph.reachable", TARGS(graph, "[\"a0\"]"));
	assert_int_equal(call.rc, 0);
	assert_non_null(strstr(call.shown, "\"b59\""));
	assert_null(strstr(call.shown, "\"a60\""));

	/* The shared set of reached nodes keeps OPA's path search from
	 * following every path. */
	tcall_run(&call, "graph.reachable_paths", TARGS(graph, "[\"a0\"]"));
	assert_int_equal(call.rc, 0);
}

/* Each cycle commit at one node records the path once more than the last,
 * so a node with many reached neighbours makes quadratic output. */
static void test_graph_reachable_paths_limit(void **state)
{
	struct wd_buf graph;

	(void)state;
	wd_buf_init(&graph, 1u << 16, 1u << 20);
	assert_int_equal(wd_buf_append_str(&graph, "{\"a\": [\"b\"], \"b\": [\"a\""), 0);
	for (int i = 0; i < 3000; i++)
		assert_int_equal(wd_buf_append_str(&graph, ", \"a\""), 0);
	assert_int_equal(wd_buf_append_str(&graph, "]}"), 0);

	check_error(CANCEL_ERR,
		    "graph.reachable_paths: path search exceeds the limit of 4194304 steps",
		    "graph.reachable_paths", wd_buf_str(&graph), "[\"a\"]");
	wd_buf_free(&graph);
}

static void test_graph_reachable_paths(void **state)
{
	(void)state;
	check_value("set()", "graph.reachable_paths", "{}", SET("\"a\""));
	check_value("{[\"a\",\"b\",\"c\"]}", "graph.reachable_paths",
		     "{\"a\": [\"b\"], \"b\": [\"c\"], \"c\": [\"a\"]}", "[\"a\"]");
	check_value("{[\"a\",\"b\",\"c\"],[\"a\",\"c\"]}", "graph.reachable_paths",
		     "{\"a\": [\"b\", \"c\"], \"b\": [\"c\"], \"c\": []}", SET("\"a\""));
	check_value("{[\"b\",\"d\"],[\"e\",\"f\"]}", "graph.reachable_paths",
		     "{\"a\": [\"b\", \"c\"], \"b\": [\"d\"], \"c\": [\"d\"], \"d\": [], "
		     "\"e\": [\"f\"], \"f\": [\"e\"]}", SET("\"b\", \"e\""));
	/* A neighbour outside the graph ends the path before it. */
	check_value("{[\"a\",\"b\"],[\"b\"]}", "graph.reachable_paths",
		     "{\"a\": [\"b\"], \"b\": [\"gone\"]}", SET("\"a\", \"b\""));
	check_value("{[\"a\"]}", "graph.reachable_paths", "{\"a\": null}", "[\"a\"]");
	check_value("{[\"x\",\"x\"]}", "graph.reachable_paths", "{\"x\": [\"x\"]}", "[\"x\"]");
	/* OPA's quirk: the second cycle commit at q records the path twice. */
	check_value("{[\"p\",\"q\"],[\"p\",\"q\",\"p\",\"q\"]}", "graph.reachable_paths",
		     "{\"p\": [\"q\"], \"q\": [\"p\", \"p\"]}", "[\"p\"]");
	/* Reached nodes are shared between siblings: after q -> s -> t, the
	 * branch q -> r meets t as reached and stops before it. */
	check_value("{[\"p\",\"q\",\"r\"],[\"p\",\"q\",\"s\",\"t\"]}", "graph.reachable_paths",
		     "{\"p\": [\"q\"], \"q\": [\"s\", \"r\"], \"r\": [\"t\"], \"s\": [\"t\"], "
		     "\"t\": [\"end\"]}", "[\"p\"]");
	check_error(TYPE_ERR, "graph.reachable_paths: operand 2 must be {array, set} but got "
		     "string", "graph.reachable_paths", "{\"a\": []}", "\"a\"");
	check_error(TYPE_ERR, "graph.reachable_paths: operand 1 must be object but got number",
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
	check_value("[[[],1]]", "walk", "1");
	check_value("[[[],[1,2]],[[0],1],[[1],2]]", "walk", "[1, 2]");
	check_value("[[[],{\"v1\":\"hello\",\"v2\":\"bye\"}],[[\"v1\"],\"hello\"],[[\"v2\"],\"bye\"]]",
		     "walk", "{\"v2\": \"bye\", \"v1\": \"hello\"}");
	check_value("[[[],{{1,2}}],[[{1,2}],{1,2}],[[{1,2},1],1],[[{1,2},2],2]]", "walk",
		     SET(SET("2, 1")));
	check_value("[[[],{\"a\":[{\"b\":1}]}],[[\"a\"],[{\"b\":1}]],[[\"a\",0],{\"b\":1}],"
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
		cmocka_unit_test(test_graph_reachable_paths_limit),
		cmocka_unit_test(test_graph_reachable_paths_long_chain),
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_walk_too_deep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
