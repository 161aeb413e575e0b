/* rego.parse_module: OPA's JSON AST of a module, its parse errors as OPA
 * words them, and the builtin called from a policy. */
#include "test_eval_support.h"

#include "policy/ast.h"
#include "policy/builtin.h"

/* Calls the builtin directly; returns the result's JSON (caller frees) or
 * NULL with the error in ctx. */
static char *parse(struct rego_bctx *ctx, struct rv *file, struct rv *source, int *ret_rc)
{
	const struct rego_builtin *bi = rego_builtin_find("rego.parse_module");
	struct rv *args[2] = { file, source };
	struct rv *ret = NULL;
	struct wd_buf out;
	char *text;

	assert_non_null(bi);
	memset(ctx, 0, sizeof(*ctx));
	ctx->name = bi->name;
	*ret_rc = bi->fn(ctx, args, 2, &ret);
	rv_unref(file);
	rv_unref(source);
	if (*ret_rc != 0) {
		assert_null(ret);
		return NULL;
	}
	wd_buf_init(&out, 256, 1u << 24);
	assert_int_equal(rv_write_json(ret, &out), 0);
	rv_unref(ret);
	text = wd_buf_take(&out, NULL);
	wd_buf_free(&out);
	return text;
}

static char *parse_ok(const char *source)
{
	struct rego_bctx ctx;
	int rc;
	char *out = parse(&ctx, rv_cstring("pol.rego"), rv_cstring(source), &rc);

	if (!out)
		fail_msg("parse failed: %s", ctx.err_msg);
	return out;
}

/* The error message for source, checking the code. */
static const char *parse_error(struct rego_bctx *ctx, const char *source)
{
	int rc;
	char *out = parse(ctx, rv_cstring("pol.rego"), rv_cstring(source), &rc);

	assert_null(out);
	assert_int_equal(rc, WD_EINVAL);
	assert_string_equal(ctx->err_code, "eval_builtin_error");
	return ctx->err_msg;
}

static void test_ast_rules_and_imports(void **state)
{
	char *out;

	(void)state;
	out = parse_ok("package shop.orders\n"
		       "\n"
		       "import data.stock as inv\n"
		       "\n"
		       "default open := false\n"
		       "\n"
		       "open if { inv.count > 0; not input.closed }\n");
	assert_string_equal(out,
		"{\"imports\":[{\"alias\":\"inv\",\"path\":{\"type\":\"ref\",\"value\":["
		"{\"type\":\"var\",\"value\":\"data\"},{\"type\":\"string\",\"value\":\"stock\"}]}}],"
		"\"package\":{\"path\":[{\"type\":\"var\",\"value\":\"data\"},"
		"{\"type\":\"string\",\"value\":\"shop\"},{\"type\":\"string\",\"value\":\"orders\"}]},"
		"\"rules\":["
		"{\"body\":[{\"index\":0,\"terms\":{\"type\":\"boolean\",\"value\":true}}],"
		"\"default\":true,\"head\":{\"assign\":true,\"name\":\"open\","
		"\"ref\":[{\"type\":\"var\",\"value\":\"open\"}],"
		"\"value\":{\"type\":\"boolean\",\"value\":false}}},"
		"{\"body\":[{\"index\":0,\"terms\":[{\"type\":\"ref\",\"value\":[{\"type\":\"var\","
		"\"value\":\"gt\"}]},{\"type\":\"ref\",\"value\":[{\"type\":\"var\",\"value\":\"inv\"},"
		"{\"type\":\"string\",\"value\":\"count\"}]},{\"type\":\"number\",\"value\":0}]},"
		"{\"index\":1,\"negated\":true,\"terms\":{\"type\":\"ref\",\"value\":["
		"{\"type\":\"var\",\"value\":\"input\"},{\"type\":\"string\",\"value\":\"closed\"}]}}],"
		"\"head\":{\"name\":\"open\",\"ref\":[{\"type\":\"var\",\"value\":\"open\"}],"
		"\"value\":{\"type\":\"boolean\",\"value\":true}}}]}");
	free(out);
}

static void test_ast_terms(void **state)
{
	char *out;

	(void)state;
	out = parse_ok("package t\n"
		       "s contains v if { some v in {\"k\": [null, 1.5]}; v == {x | x := 2} }\n");
	assert_string_equal(out,
		"{\"package\":{\"path\":[{\"type\":\"var\",\"value\":\"data\"},"
		"{\"type\":\"string\",\"value\":\"t\"}]},"
		"\"rules\":[{\"body\":["
		"{\"index\":0,\"terms\":{\"symbols\":[{\"type\":\"call\",\"value\":["
		"{\"type\":\"ref\",\"value\":[{\"type\":\"var\",\"value\":\"internal\"},"
		"{\"type\":\"string\",\"value\":\"member_2\"}]},{\"type\":\"var\",\"value\":\"v\"},"
		"{\"type\":\"object\",\"value\":[[{\"type\":\"string\",\"value\":\"k\"},"
		"{\"type\":\"array\",\"value\":[{\"type\":\"null\",\"value\":null},"
		"{\"type\":\"number\",\"value\":1.5}]}]]}]}]}},"
		"{\"index\":1,\"terms\":[{\"type\":\"ref\",\"value\":[{\"type\":\"var\","
		"\"value\":\"equal\"}]},{\"type\":\"var\",\"value\":\"v\"},"
		"{\"type\":\"setcomprehension\",\"value\":{\"body\":[{\"index\":0,\"terms\":["
		"{\"type\":\"ref\",\"value\":[{\"type\":\"var\",\"value\":\"assign\"}]},"
		"{\"type\":\"var\",\"value\":\"x\"},{\"type\":\"number\",\"value\":2}]}],"
		"\"term\":{\"type\":\"var\",\"value\":\"x\"}}}]}],"
		"\"head\":{\"key\":{\"type\":\"var\",\"value\":\"v\"},\"name\":\"s\","
		"\"ref\":[{\"type\":\"var\",\"value\":\"s\"}]}}]}");
	free(out);
}

static void test_ast_else_and_function(void **state)
{
	char *out;

	(void)state;
	out = parse_ok("package t\nf(_) := 1 if { false } else = 2\n");
	assert_string_equal(out,
		"{\"package\":{\"path\":[{\"type\":\"var\",\"value\":\"data\"},"
		"{\"type\":\"string\",\"value\":\"t\"}]},"
		"\"rules\":[{\"body\":[{\"index\":0,\"terms\":{\"type\":\"boolean\",\"value\":false}}],"
		"\"else\":{\"body\":[{\"index\":0,\"terms\":{\"type\":\"boolean\",\"value\":true}}],"
		"\"head\":{\"args\":[{\"type\":\"var\",\"value\":\"$0\"}],\"name\":\"f\","
		"\"ref\":[{\"type\":\"var\",\"value\":\"f\"}],"
		"\"value\":{\"type\":\"number\",\"value\":2}}},"
		"\"head\":{\"args\":[{\"type\":\"var\",\"value\":\"$0\"}],\"assign\":true,"
		"\"name\":\"f\",\"ref\":[{\"type\":\"var\",\"value\":\"f\"}],"
		"\"value\":{\"type\":\"number\",\"value\":1}}}]}");
	free(out);
}

static void test_ast_comments_keep_metadata(void **state)
{
	char *out;

	(void)state;
	/* METADATA blocks stay comments: no annotations and no scope check,
	 * although this block's scope does not fit the rule after it. */
	out = parse_ok("package t\n# METADATA\n# scope: package\np := 1 # x\n");
	assert_string_equal(out,
		"{\"comments\":["
		"{\"Location\":{\"col\":1,\"file\":\"pol.rego\",\"row\":2,"
		"\"text\":\"IyBNRVRBREFUQQ==\"},\"Text\":\"IE1FVEFEQVRB\"},"
		"{\"Location\":{\"col\":1,\"file\":\"pol.rego\",\"row\":3,"
		"\"text\":\"IyBzY29wZTogcGFja2FnZQ==\"},\"Text\":\"IHNjb3BlOiBwYWNrYWdl\"},"
		"{\"Location\":{\"col\":8,\"file\":\"pol.rego\",\"row\":4,\"text\":\"IyB4\"},"
		"\"Text\":\"IHg=\"}],"
		"\"package\":{\"path\":[{\"type\":\"var\",\"value\":\"data\"},"
		"{\"type\":\"string\",\"value\":\"t\"}]},"
		"\"rules\":[{\"body\":[{\"index\":0,\"terms\":{\"type\":\"boolean\",\"value\":true}}],"
		"\"head\":{\"assign\":true,\"name\":\"p\",\"ref\":[{\"type\":\"var\",\"value\":\"p\"}],"
		"\"value\":{\"type\":\"number\",\"value\":1}}}]}");
	free(out);
}

/* rego_module_to_value writes the annotations of a module parsed with
 * METADATA processing. */
static void test_ast_annotations(void **state)
{
	static const char src[] = "package t\n# METADATA\n# authors: [<a@b>]\n"
				  "# schemas:\n# - input.x: schema.y\np := 1\n";
	struct rego_error errs[2];
	size_t n = 0;
	struct rego_module *m = rego_parse_module("t.rego", src, strlen(src), errs, 2, &n);
	struct rv *ast;
	struct rv *rules;
	struct wd_buf out;
	static const char want[] =
		"[{\"authors\":[{\"email\":\"a@b\",\"name\":\"\"}],"
		"\"schemas\":[{\"path\":[{\"type\":\"var\",\"value\":\"input\"},"
		"{\"type\":\"string\",\"value\":\"x\"}],"
		"\"schema\":[{\"type\":\"var\",\"value\":\"schema\"},"
		"{\"type\":\"string\",\"value\":\"y\"}]}],\"scope\":\"rule\"}]";

	(void)state;
	assert_non_null(m);
	ast = rego_module_to_value(m);
	assert_non_null(ast);
	wd_buf_init(&out, 256, 1u << 20);
	assert_int_equal(rv_write_json(rv_object_get_str(ast, "annotations"), &out), 0);
	assert_string_equal(wd_buf_str(&out), want);
	rules = rv_object_get_str(ast, "rules");
	assert_int_equal(rv_array_len(rules), 1);
	wd_buf_reset(&out);
	assert_int_equal(rv_write_json(rv_object_get_str(rv_array_at(rules, 0), "annotations"),
				       &out), 0);
	assert_string_equal(wd_buf_str(&out), want);
	wd_buf_free(&out);
	rv_unref(ast);
	rego_module_free(m);
}

static void test_error_with_source_line(void **state)
{
	struct rego_bctx ctx;

	(void)state;
	assert_string_equal(parse_error(&ctx, "package shop."),
			    "rego.parse_module: 1 error occurred: pol.rego:1: rego_parse_error: "
			    "unexpected eof token: expected ident\n"
			    "\tpackage shop.\n"
			    "\t            ^");
	assert_string_equal(parse_error(&ctx, "package a\n\np if {\n\t\tx := \n}\n"),
			    "rego.parse_module: 1 error occurred: pol.rego:5: rego_parse_error: "
			    "unexpected } token\n"
			    "\t}\n"
			    "\t^");
}

static void test_error_module_level(void **state)
{
	struct rego_bctx ctx;

	(void)state;
	assert_string_equal(parse_error(&ctx, ""),
			    "rego.parse_module: 1 error occurred: pol.rego:0: rego_parse_error: "
			    "empty module");
	assert_string_equal(parse_error(&ctx, "package a\np[x] { x := 1 }\n"),
			    "rego.parse_module: 2 errors occurred:\n"
			    "pol.rego:2: rego_parse_error: `if` keyword is required before rule body\n"
			    "pol.rego:2: rego_parse_error: `contains` keyword is required for partial "
			    "set rules");
}

static void test_error_operands(void **state)
{
	struct rego_bctx ctx;
	int rc;

	(void)state;
	assert_null(parse(&ctx, rv_cstring("a.rego"), rv_int(7), &rc));
	assert_int_equal(rc, WD_EINVAL);
	assert_string_equal(ctx.err_code, "eval_type_error");
	/* OPA names the source "operand 1" as well. */
	assert_string_equal(ctx.err_msg, "rego.parse_module: operand 1 must be string but got number");
	assert_null(parse(&ctx, rv_null(), rv_cstring("package a"), &rc));
	assert_string_equal(ctx.err_msg, "rego.parse_module: operand 1 must be string but got null");
}

static void test_error_hostile_depth(void **state)
{
	struct rego_bctx ctx;
	struct wd_buf src;
	const char *msg;

	(void)state;
	wd_buf_init(&src, 1024, 1u << 24);
	assert_int_equal(wd_buf_append_str(&src, "package a\np := "), 0);
	for (int i = 0; i < 50000; i++)
		assert_int_equal(wd_buf_append_byte(&src, '['), 0);
	msg = parse_error(&ctx, wd_buf_str(&src));
	assert_non_null(strstr(msg, "pol.rego:2: rego_parse_error: max parsing recursion depth "
				    "exceeded"));
	wd_buf_free(&src);
}

static void test_from_policy(void **state)
{
	static const char *const mods[] = {
		"package inspect\n"
		"\n"
		"names contains name if {\n"
		"\tmod := rego.parse_module(\"in.rego\", input.src)\n"
		"\tname := mod.rules[_].head.name\n"
		"}\n",
		NULL,
	};
	struct rego_errors errs;
	struct rego_engine *e = te_compile(mods, NULL, &errs);
	struct te_opts o = { .input = "{\"src\": \"package z\\nq := 1\\nr := 2\\n\"}" };
	char *out;
	int rc = 0;

	(void)state;
	assert_non_null(e);
	out = te_query_opts(e, "x := data.inspect.names", &o, &errs, &rc);
	assert_non_null(out);
	assert_string_equal(out, "[{\"x\":[\"q\",\"r\"]}]");
	free(out);

	/* With strict errors a parse failure is the query's error. */
	o.input = "{\"src\": \"package\"}";
	o.strict = true;
	out = te_query_opts(e, "x := data.inspect.names", &o, &errs, &rc);
	assert_null(out);
	assert_int_equal(errs.len, 1);
	assert_string_equal(errs.items[0].code, "eval_builtin_error");
	assert_non_null(strstr(errs.items[0].message, "rego.parse_module: 1 error occurred: "
						      "in.rego:1: rego_parse_error: "));
	rego_engine_unref(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ast_rules_and_imports),
		cmocka_unit_test(test_ast_terms),
		cmocka_unit_test(test_ast_else_and_function),
		cmocka_unit_test(test_ast_comments_keep_metadata),
		cmocka_unit_test(test_ast_annotations),
		cmocka_unit_test(test_error_with_source_line),
		cmocka_unit_test(test_error_module_level),
		cmocka_unit_test(test_error_operands),
		cmocka_unit_test(test_error_hostile_depth),
		cmocka_unit_test(test_from_policy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
