/* Unit tests of strings.render_template: Go text/template actions, control
 * structures, functions and errors over Rego values. */
#include "test_bi_strings_support.h"

#define RT "strings.render_template"

static void test_template_fields(void **state)
{
	(void)state;
	expect_ok(RT, "[\"Hi {{.who}}!\", {\"who\": \"ops\"}]", "\"Hi ops!\"");
	expect_ok(RT, "[\"{{.n}} {{.f}} {{.big}}\", {\"n\": 42, \"f\": 2.5, \"big\": 12345678901234567890}]",
		  "\"42 2.5 12345678901234567890\"");
	expect_ok(RT, "[\"{{.a.b.c}}\", {\"a\": {\"b\": {\"c\": true}}}]", "\"true\"");
	expect_ok(RT, "[\"{{.list}} {{.obj}} {{.none}}\", {\"list\": [1, \"x\", null], "
		  "\"obj\": {\"z\": 1, \"k\": [false]}, \"none\": null}]",
		  "\"[1 x \\u003cnil\\u003e] map[k:[false] z:1] \\u003cnil\\u003e\"");
	/* A missing key prints as <undefined>, also below a missing key. */
	expect_ok(RT, "[\"[{{.gone}}|{{.gone.deeper}}]\", {}]",
		  "\"[\\u003cundefined\\u003e|\\u003cundefined\\u003e]\"");
	expect_ok(RT, "[\"{{$}}\", {\"q\": \"r\"}]", "\"map[q:r]\"");
}

static void test_template_control(void **state)
{
	(void)state;
	expect_ok(RT, "[\"{{range $i, $v := .xs}}{{if $i}}; {{end}}{{$i}}={{$v}}{{end}}\", "
		  "{\"xs\": [\"p\", \"q\", \"r\"]}]", "\"0=p; 1=q; 2=r\"");
	expect_ok(RT, "[\"{{range $k, $v := .m}}{{$k}}:{{$v}} {{end}}\", {\"m\": {\"b\": 2, \"a\": 1}}]",
		  "\"a:1 b:2 \"");
	expect_ok(RT, "[\"{{range .xs}}x{{else}}empty{{end}}\", {\"xs\": []}]", "\"empty\"");
	expect_ok(RT, "[\"{{range 4}}{{if eq . 2}}{{break}}{{end}}{{.}}{{end}}\", {}]", "\"01\"");
	expect_ok(RT, "[\"{{range .xs}}{{if not .}}{{continue}}{{end}}{{.}}{{end}}\", "
		  "{\"xs\": [\"a\", \"\", \"b\"]}]", "\"ab\"");
	expect_ok(RT, "[\"{{if .a}}A{{else if .b}}B{{else}}C{{end}}\", {\"a\": 0, \"b\": \"y\"}]",
		  "\"A\"");
	expect_ok(RT, "[\"{{if .a}}A{{else if .b}}B{{else}}C{{end}}\", {\"a\": false, \"b\": [1]}]",
		  "\"B\"");
	expect_ok(RT, "[\"{{if .a}}A{{else if .b}}B{{else}}C{{end}}\", {\"a\": {}, \"b\": \"\"}]",
		  "\"C\"");
	expect_ok(RT, "[\"{{with .u}}{{.name}}{{else}}anon{{end}}\", {\"u\": {\"name\": \"kim\"}}]",
		  "\"kim\"");
	expect_ok(RT, "[\"{{with .u}}{{.name}}{{else}}anon{{end}}\", {}]", "\"anon\"");
	expect_ok(RT, "[\"{{$x := .a}}{{$x = \\\"set\\\"}}{{$x}}\", {\"a\": 1}]", "\"set\"");
	expect_ok(RT, "[\"a  {{- .v -}}  b {{/* note */}}c {{- /* trimmed */ -}} d\", {\"v\": 1}]",
		  "\"a1b cd\"");
}

static void test_template_functions(void **state)
{
	(void)state;
	expect_ok(RT, "[\"{{len .xs}} {{len .s}} {{index .xs 1}} {{index .m \\\"k\\\"}}\", "
		  "{\"xs\": [7, 8], \"s\": \"héllo\", \"m\": {\"k\": \"v\"}}]", "\"2 6 8 v\"");
	expect_ok(RT, "[\"{{index .m \\\"nope\\\"}}\", {\"m\": {}}]", "\"\\u003cnil\\u003e\"");
	expect_ok(RT, "[\"{{and .a .b}} {{or .a .b}} {{not .a}}\", {\"a\": \"x\", \"b\": \"\"}]",
		  "\" x false\"");
	expect_ok(RT, "[\"{{eq .s \\\"x\\\" \\\"y\\\"}} {{ne 1 2}} {{lt 1.5 2.5}} {{ge \\\"b\\\" \\\"a\\\"}}\", "
		  "{\"s\": \"y\"}]", "\"true true true true\"");
	expect_ok(RT, "[\"{{print 1 2 \\\"a\\\" \\\"b\\\" 3}}|{{println 1 \\\"a\\\"}}\", {}]",
		  "\"1 2ab3|1 a\\n\"");
	expect_ok(RT, "[\"{{printf \\\"%s=%d %v %q %%\\\" .k 7 .l .k}}\", {\"k\": \"x\", \"l\": [true]}]",
		  "\"x=7 [true] \\\"x\\\" %\"");
	expect_ok(RT, "[\"{{html .h}} {{urlquery .h}} {{js .h}}\", {\"h\": \"<a b='c'>&\"}]",
		  "\"\\u0026lt;a b=\\u0026#39;c\\u0026#39;\\u0026gt;\\u0026amp; "
		  "%3Ca+b%3D%27c%27%3E%26 \\\\u003Ca b\\\\u003D\\\\'c\\\\'\\\\u003E\\\\u0026\"");
	expect_ok(RT, "[\"{{.s | printf \\\"%s!\\\" | len}}\", {\"s\": \"abc\"}]", "\"4\"");
	expect_ok(RT, "[\"{{slice .s 1 3}} {{3}} {{0x1F}} {{1e3}} {{'a'}} {{1234567.0}}\", {\"s\": \"abcd\"}]",
		  "\"bc 3 31 1000 97 1.234567e+06\"");
}

static void test_template_parse_errors(void **state)
{
	(void)state;
	expect_err(RT, "[\"{{.a\", {}]", "eval_builtin_error",
		   RT ": template: template:1: unclosed action");
	expect_err(RT, "[\"x\\n{{if .a}}y\", {}]", "eval_builtin_error",
		   RT ": template: template:2: unexpected EOF");
	expect_err(RT, "[\"{{end}}\", {}]", "eval_builtin_error",
		   RT ": template: template:1: unexpected {{end}}");
	expect_err(RT, "[\"{{shout .a}}\", {}]", "eval_builtin_error",
		   RT ": template: template:1: function \"shout\" not defined");
	expect_err(RT, "[\"{{$y}}\", {}]", "eval_builtin_error",
		   RT ": template: template:1: undefined variable \"$y\"");
	expect_err(RT, "[\"{{if}}{{end}}\", {}]", "eval_builtin_error",
		   RT ": template: template:1: missing value for if");
	expect_err(RT, "[\"{{\\\"open}}\", {}]", "eval_builtin_error",
		   RT ": template: template:1: unterminated quoted string");
	expect_err(RT, "[\"{{break}}\", {}]", "eval_builtin_error",
		   RT ": template: template:1: {{break}} outside {{range}}");
	expect_err(RT, "[\"{{define \\\"x\\\"}}{{end}}\", {}]", "eval_builtin_error",
		   RT ": template: template:1: {{define}} is not supported by warden's template engine");
}

static void test_template_exec_errors(void **state)
{
	(void)state;
	expect_err(RT, "[\"ab\\n  {{.s.x}}\", {\"s\": \"str\"}]", "eval_builtin_error",
		   RT ": template: template:2:4: executing \"template\" at <.s.x>: "
		   "can't evaluate field x in type string");
	expect_err(RT, "[\"{{.n.x}}\", {\"n\": null}]", "eval_builtin_error",
		   RT ": template: template:1:2: executing \"template\" at <.n.x>: "
		   "nil pointer evaluating interface {}.x");
	expect_err(RT, "[\"{{index .xs 5}}\", {\"xs\": [1]}]", "eval_builtin_error",
		   RT ": template: template:1:2: executing \"template\" at <index .xs 5>: "
		   "error calling index: index out of range: 5");
	expect_err(RT, "[\"{{eq .n 1}}\", {\"n\": 1}]", "eval_builtin_error",
		   RT ": template: template:1:2: executing \"template\" at <eq .n 1>: "
		   "error calling eq: incompatible types for comparison");
	expect_err(RT, "[\"{{len 3}}\", {}]", "eval_builtin_error",
		   RT ": template: template:1:2: executing \"template\" at <len 3>: "
		   "error calling len: len of type int");
	expect_err(RT, "[\"{{range .s}}{{end}}\", {\"s\": \"abc\"}]", "eval_builtin_error",
		   RT ": template: template:1:8: executing \"template\" at <.s>: "
		   "range can't iterate over abc");
	expect_err(RT, "[\"{{not}}\", {}]", "eval_builtin_error",
		   RT ": template: template:1:2: executing \"template\" at <not>: "
		   "wrong number of args for not: want 1 got 0");
}

static void test_template_operand_errors(void **state)
{
	(void)state;
	expect_err(RT, "[1, {}]", "eval_type_error", RT ": operand 1 must be string but got number");
	expect_err(RT, "[\"x\", [1]]", "eval_type_error", RT ": operand 2 must be object but got array");
	expect_err(RT, "[\"x\", {\"s\": {\"$set\": [1, 2]}}]", "eval_builtin_error",
		   RT ": invalid character '1' looking for beginning of object key string");
	expect_err(RT, "[\"x\", {\"s\": {\"$set\": [\"a\"]}}]", "eval_builtin_error",
		   RT ": invalid character '}' after object key");
	expect_err(RT, "[\"x\", {\"s\": {\"$set\": []}}]", "eval_builtin_error",
		   RT ": invalid character 's' looking for beginning of value");
}

/* Loops that produce nothing still stop at the step ceiling. */
static void test_template_hostile(void **state)
{
	(void)state;
	expect_err(RT, "[\"{{range 100000000}}{{end}}\", {}]", "eval_builtin_error",
		   RT ": template too large or too deeply nested to render");
	expect_err(RT, "[\"{{(((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((1)))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))}}\", {}]",
		   "eval_builtin_error", RT ": template too large or too deeply nested to render");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_template_fields),
		cmocka_unit_test(test_template_control),
		cmocka_unit_test(test_template_functions),
		cmocka_unit_test(test_template_parse_errors),
		cmocka_unit_test(test_template_exec_errors),
		cmocka_unit_test(test_template_operand_errors),
		cmocka_unit_test(test_template_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
