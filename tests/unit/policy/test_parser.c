/* Unit tests for the Rego parser: modules checked rule by rule and node by
 * node, OPA's parse errors with their positions, queries, terms, string
 * templates and hostile inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "policy/ast.h"
#include "parser_dump.h"

struct parse_case {
	const char *src;
	const char *want;
};

static const struct parse_case valid_cases[] = {
	{ "package p\nallow if input.user == \"admin\"",
	  "complete allow = true {input.user == \"admin\"}" },
	{ "package p\ndefault allow := false",
	  "default complete allow := false {}" },
	{ "package p\np := 1\nq = \"s\"",
	  "complete p := 1 {}\ncomplete q = \"s\" {}" },
	{ "package p\nr contains x if { some x in input.xs }",
	  "set r key=x {some x in input.xs}" },
	{ "package p\nr contains \"a\"",
	  "set r key=\"a\" {}" },
	{ "package p\ns[k] := v if { some k, v in input.o }",
	  "obj s[k] key=k := v {some k, v in input.o}" },
	{ "package p\ns[k] if { k := \"a\" }",
	  "obj s[k] key=k = true {k := \"a\"}" },
	{ "package p\ns[\"a\"] if { true }",
	  "complete s.a = true {true}" },
	{ "package p\nf(x, _) := y if { y := x + 1 }",
	  "func f(x, _) := y {y := plus(x, 1)}" },
	{ "package p\ndefault f(_) := 0",
	  "default func f(_) := 0 {}" },
	{ "package p\ng(x) := 1 if x > 1\nelse := 2 if { x < 0 }\nelse := 3",
	  "func g(x) := 1 {x > 1} else = 2 {x < 0} else = 3 {}" },
	{ "package p\na.b.c := 1",
	  "complete a.b.c := 1 {}" },
	{ "package p\na.b[x] := y if { x := \"k\"; y := 2 }",
	  "obj a.b[x] key=x := y {x := \"k\"; y := 2}" },
	{ "package p\na.b contains 1 if true",
	  "set a.b key=1 {true}" },
	{ "package p\nt if not input.deny",
	  "complete t = true {not input.deny}" },
	{ "package p\nu if {\n\tx := 1 * 2 + 3 - 4 / 5 % 6\n\ty := input.a | input.b & input.c\n\tx == y\n}",
	  "complete u = true {x := minus(plus(mul(1, 2), 3), rem(div(4, 5), 6)); y := or(input.a, and(input.b, input.c)); x == y}" },
	{ "package p\nu if { x := [y | y := input.a[_]] with input as {\"a\": [1]} with data.z as 2 }",
	  "complete u = true {x := [y | y := input.a[_]] with input as {\"a\": [1]} with data.z as 2}" },
	{ "package p\nu if { z := {k: v | some k, v in input.o}; w := {v | some v in input.s} }",
	  "complete u = true {z := {k: v | some k, v in input.o}; w := {v | some v in input.s}}" },
	{ "package p\nu if { io.jwt.decode(input.t, [h, pl, sig]); count(h) > 0 }",
	  "complete u = true {io.jwt.decode(input.t, [h, pl, sig]); count(h) > 0}" },
	{ "package p\nu if { every k, v in input.m { v > k } }",
	  "complete u = true {every k, v in input.m { v > k }}" },
	{ "package p\nu if { every v in input.m { v > 1 } }",
	  "complete u = true {every v in input.m { v > 1 }}" },
	{ "package p\nu if { some x, y; x := 1; y := 2 }",
	  "complete u = true {some x, y; x := 1; y := 2}" },
	{ "package p\nu if { 1 in [1]; k, v in {\"a\": 1}; not 2 in [1] }",
	  "complete u = true {1 in [1]; k, v in {\"a\": 1}; not 2 in [1]}" },
	{ "package p\nv := $\"hello {input.name}, \\{x} {42}!\"",
	  "complete v := $\"hello {input.name}, \\{x} {42}!\" {}" },
	{ "package p\nv := $`raw {input.name}\n`",
	  "complete v := $\"raw {input.name}\\n\" {}" },
	{ "package p\nw := data.x.if\nnot.foo := 1\nif.bar contains 2",
	  "complete w := data.x[\"if\"] {}\ncomplete not.foo := 1 {}\nset if.bar key=2 {}" },
	{ "package p\nn := 123456789012345678901234567890\nm := -1.5e10\nk := .5",
	  "complete n := 123456789012345678901234567890 {}\ncomplete m := -15000000000 {}\ncomplete k := 0.5 {}" },
	{ "package p\ns := `raw\\n`\ne := \"esc\\t\\\"\\u00e9\\ud83d\\ude00\"",
	  "complete s := \"raw\\\\n\" {}\ncomplete e := \"esc\\t\\\"é😀\" {}" },
	{ "package p\ns := set()\no := {}\na := []\nx := [1,]\ny := {1,}",
	  "complete s := set() {}\ncomplete o := {} {}\ncomplete a := [] {}\ncomplete x := [1] {}\ncomplete y := {1} {}" },
	{ "package p\np if { x := {1 | 1} }",
	  "complete p = true {x := {1 | 1}}" },
	{ "package p\np if { x := (1 + 2) * 3 }",
	  "complete p = true {x := mul(plus(1, 2), 3)}" },
	{ "package p\nf(x) := x\nf(x) = y if { y := x }",
	  "func f(x) := x {}\nfunc f(x) = y {y := x}" },
	{ "package p\np[x] = y if { x := 1; y := 2 }",
	  "obj p[x] key=x = y {x := 1; y := 2}" },
	{ "package p\nq if { f(1) == 1 }\nf(1)",
	  "complete q = true {f(1) == 1}\nfunc f(1) = true {}" },
	{ "package p\np := 1 if { false } else := 2",
	  "complete p := 1 {false} else = 2 {}" },
	{ "package p\np if { true }\n{ false }",
	  "complete p = true {true}\ncomplete p = true {false}" },
	{ "package p\nx = 1; y = 2",
	  "2:1: multiple expressions cannot be used for rule head" },
	{ "package p\nimport future.keywords.in\nimport future.keywords\np := 1",
	  "complete p := 1 {}" },
	{ "package foo.bar\nimport data.x.y as z\nimport input\np := z",
	  "complete p := z {}" },
	{ "package p\np if {\n  input.x == 1 # comment\n  # another\n  input.y == 2 ; input.z == 3\n}",
	  "complete p = true {input.x == 1; input.y == 2; input.z == 3}" },
};

static const struct parse_case error_cases[] = {
	{ "package foo.",
	  "1:12: unexpected eof token: expected ident" },
	{ "package foo.\n",
	  "2:0: unexpected whitespace token: expected ident" },
	{ "package p\np { true }",
	  "2:1: `if` keyword is required before rule body" },
	{ "package p\np[x] { x := 1 }",
	  "2:1: `if` keyword is required before rule body" },
	{ "package p\np := 1 +",
	  "2:8: unexpected eof token" },
	{ "package p\np if { x := 1 y := 2 }",
	  "2:15: unexpected ident token: expected \\n or ; or }" },
	{ "package p\nx = \"a\\qb\"",
	  "2:5: illegal escape sequence" },
	{ "package p\np := \"abc",
	  "2:6: non-terminated string" },
	{ "package p\np := 01",
	  "2:6: unexpected number token: expected number without leading zero" },
	{ "import data.x",
	  "1:1: package expected" },
	{ "",
	  "0:0: empty module" },
	{ "package p\n1",
	  "2:1: number cannot be used for rule name" },
	{ "package p\na.b.c",
	  "2:1: rule must have value assignment and/or body declaration" },
	{ "package p\np[x]",
	  "2:1: `contains` keyword is required for partial set rules" },
	{ "package p\nimport foo.bar",
	  "2:8: unexpected import path, must begin with one of: {data, future, input, rego}, got: foo (hint: if this is unexpected, try updating OPA)" },
	{ "package p\ndefault p := x",
	  "2:1: illegal default rule (value cannot contain var)" },
	{ "package p\ndefault f(1) := 1",
	  "2:1: illegal default rule (arguments cannot contain number)" },
	{ "package p\ndefault f(x, x) := 1",
	  "2:1: illegal default rule (arguments cannot be repeated x)" },
	{ "package p\ndefault p",
	  "default complete p = true {}" },
	{ "package p\np := @",
	  "2:6: illegal token" },
	{ "package p\np if { not some x in y }",
	  "2:12: unexpected some keyword: illegal negation of 'some'" },
	{ "package p\np := x if { x := $\"{1 = 2}\" }",
	  "2:21: unexpected unification ('=') in template-string expression" },
	{ "package p\np := x if { x := $\"{not true}\" }",
	  "2:21: unexpected negation ('not') in template-string expression" },
	{ "package p\np := x if { x := $\"{x := 1}\" }",
	  "2:21: unexpected assignment (':=') in template-string expression" },
	{ "package p\np := x if { x := $\"{1 2}\" }",
	  "2:23: expected } to end template string expression" },
	{ "package p\np := x if { x := $\"abc }",
	  "2:18: non-terminated string" },
	{ "package p\np if { true } else = 1 { true }",
	  "complete p = true {true} else = 1 {true}" },
	{ "package p\np[x] := 1 if { x := 1 } else := 2",
	  "2:25: else keyword cannot be used on rules with variables in head" },
	{ "package p\np contains x if { x := 1 } else := 2",
	  "2:28: else keyword cannot be used on multi-value rules" },
	{ "package p\np := 1 if { true } else := 2 { false }",
	  "complete p := 1 {true} else = 2 {false}" },
	{ "package p\np if {}",
	  "complete p = true {{}}" },
	{ "package p\np if { x := }",
	  "2:13: unexpected } token" },
	{ "package p\np := [1, 2",
	  "2:10: unexpected eof token: expected \",\" or \"]\"" },
	{ "package p\np := {\"a\" 1}",
	  "2:11: unexpected number token: non-terminated set" },
	{ "package p\np := {1, 2",
	  "2:10: unexpected eof token: expected \",\" or \"}\"" },
	{ "package p\nx := data.[1]",
	  "2:11: unexpected [ token: expected ident" },
	{ "package p\np if { every x { true } }",
	  "2:16: unexpected { token: expected `x[, y] in xs { ... }` expression" },
	{ "package p\np if { every x in y }",
	  "2:21: unexpected } token: missing body" },
	{ "package p\np if { every [a] in y { true } }",
	  "2:23: unexpected { token: expected value to be a variable" },
	{ "package p\np if { some 1 }",
	  "2:13: unexpected number token: expected var" },
	{ "package p\np if { some x == 1 }",
	  "2:20: unexpected } token: expected `x in xs` or `x, y in xs` expression" },
	{ "package p\np := x with",
	  "2:11: unexpected eof token: expected ident" },
	{ "package p\nf(x) contains 1",
	  "2:6: unexpected contains keyword: the contains keyword can only be used with multi-value rule definitions (e.g., f contains <VALUE> { ... })" },
	{ "package p\nimport data.foo.if",
	  "2:17: unexpected import path, must not end with a keyword, got: if" },
	{ "package p\nimport data.x as 1",
	  "2:18: unexpected number token: expected var" },
	{ "package p\nimport future.bar",
	  "2:8: invalid import, must be `future.keywords`" },
	{ "package p\nimport future.keywords.foo",
	  "2:8: unexpected keyword, must be one of [contains every if in]" },
	{ "package p\nimport rego.v2",
	  "2:8: invalid import `rego.v2`, must be `rego.v1`" },
	{ "package p\npackage q",
	  "2:1: unexpected package" },
	{ "package p\ncontains := 1",
	  "2:1: contains keyword cannot be used for rule name" },
	{ "package p\nx == 1",
	  "2:1: rule name conflicts with built-in function" },
	{ "package p\nnot p",
	  "2:1: negated expressions cannot be used for rule head" },
	{ "package p\np := 1e100000",
	  "2:6: number too big" },
	{ "package p\np := 1.",
	  "2:6: expected fraction" },
	{ "package p\np := 1e",
	  "2:6: expected exponent" },
	{ "package p\np := 0x1",
	  "2:6: illegal number format" },
	{ "package p\np := !1",
	  "2:6: illegal ! character" },
	{ "package p\np := $x",
	  "2:6: illegal $ character" },
	{ "package p\np := -x",
	  "2:7: unexpected ident token: expected number" },
	{ "package p\np := a .b",
	  "2:9: unexpected ident token: expected number" },
	{ "package p\np[1] := 2 if { true } { false }",
	  "complete p[1] := 2 {true}\ncomplete p[1] := 2 {false}" },
	{ "package p\nf(x) := 1 if { true } else := 2 if { true } { false }",
	  "2:45: expected else keyword" },
};

static void parses_valid_modules(void **state)
{
	(void)state;
	for (size_t i = 0; i < WD_ARRAY_LEN(valid_cases); i++) {
		const char *got = dump_module(valid_cases[i].src);

		if (strcmp(got, valid_cases[i].want) != 0)
			fail_msg("case %zu: %s\n got: %s\nwant: %s", i, valid_cases[i].src, got,
				 valid_cases[i].want);
	}
}

static void reports_opa_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < WD_ARRAY_LEN(error_cases); i++) {
		const char *got = dump_module(error_cases[i].src);

		if (strcmp(got, error_cases[i].want) != 0)
			fail_msg("case %zu: %s\n got: %s\nwant: %s", i, error_cases[i].src, got,
				 error_cases[i].want);
	}
}

static const char *var_name(const struct rego_term *t)
{
	assert_int_equal(t->kind, RT_VAR);
	return t->u.var.name;
}

static const char *str_value(const struct rego_term *t)
{
	assert_int_equal(t->kind, RT_VALUE);
	assert_int_equal(t->u.value->kind, RV_STRING);
	return rv_str(t->u.value);
}

static void assert_loc(const struct rego_loc *loc, uint32_t row, uint32_t col, uint32_t offset,
		       uint32_t len)
{
	assert_int_equal(loc->row, row);
	assert_int_equal(loc->col, col);
	assert_int_equal(loc->offset, offset);
	assert_int_equal(loc->len, len);
}

static void builds_nodes_with_locations(void **state)
{
	static const char src[] = "package a.b\n"
				  "\n"
				  "import data.lib.x as y\n"
				  "\n"
				  "p := x + 1 if {\n"
				  "\tx := input.v[_]\n"
				  "\tnot io.jwt.decode(x)\n"
				  "}\n";
	struct rego_error errs[2];
	size_t n;
	struct rego_module *m = rego_parse_module("m.rego", src, strlen(src), errs, 2, &n);
	const struct rego_rule *r;
	const struct rego_term *t;
	const struct rego_expr *e;

	(void)state;
	assert_non_null(m);
	assert_string_equal(m->file, "m.rego");
	assert_true(m->rego_v1);

	/* package a.b is the ref data.a.b */
	t = m->package;
	assert_int_equal(t->kind, RT_REF);
	assert_int_equal(t->u.ref.len, 3);
	assert_string_equal(var_name(t->u.ref.items[0]), "data");
	assert_string_equal(str_value(t->u.ref.items[1]), "a");
	assert_string_equal(str_value(t->u.ref.items[2]), "b");
	assert_loc(&t->u.ref.items[2]->loc, 1, 11, 10, 1);

	assert_int_equal(m->imports_len, 1);
	assert_string_equal(m->imports[0]->alias, "y");
	assert_loc(&m->imports[0]->loc, 3, 1, 13, 22);
	assert_int_equal(m->imports[0]->path->u.ref.len, 3);

	assert_int_equal(m->rules_len, 1);
	r = m->rules[0];
	assert_ptr_equal(r->module, m);
	assert_int_equal(r->kind, RR_COMPLETE);
	assert_true(r->assign);
	assert_false(r->is_default);
	assert_int_equal(r->loc.row, 5);
	assert_int_equal(r->loc.col, 1);
	assert_int_equal(r->head_ref->u.ref.len, 1);
	assert_string_equal(var_name(r->head_ref->u.ref.items[0]), "p");

	/* x + 1 is plus(x, 1) with an operator ref of one var */
	t = r->value;
	assert_int_equal(t->kind, RT_CALL);
	assert_int_equal(t->u.call.op->kind, RT_REF);
	assert_int_equal(t->u.call.op->u.ref.len, 1);
	assert_string_equal(var_name(t->u.call.op->u.ref.items[0]), "plus");
	assert_int_equal(t->u.call.len, 2);
	assert_string_equal(var_name(t->u.call.args[0]), "x");
	assert_int_equal(t->u.call.args[1]->kind, RT_VALUE);
	assert_loc(&t->loc, 5, 6, 42, 5);
	assert_loc(&t->u.call.op->loc, 5, 8, 44, 1);

	assert_int_equal(r->body->len, 2);
	e = r->body->exprs[0];
	assert_int_equal(e->kind, RE_TERM);
	assert_int_equal(e->index, 0);
	assert_false(e->negated);
	assert_loc(&e->loc, 6, 2, 54, 15);
	t = e->u.term;
	assert_string_equal(var_name(t->u.call.op->u.ref.items[0]), "assign");
	t = t->u.call.args[1];
	assert_int_equal(t->kind, RT_REF);
	assert_int_equal(t->u.ref.len, 3);
	assert_string_equal(var_name(t->u.ref.items[0]), "input");
	assert_string_equal(str_value(t->u.ref.items[1]), "v");
	assert_true(t->u.ref.items[2]->u.var.wildcard);
	assert_string_equal(var_name(t->u.ref.items[2]), "$0");
	assert_int_equal(t->u.ref.items[2]->u.var.slot, -1);

	e = r->body->exprs[1];
	assert_true(e->negated);
	assert_int_equal(e->index, 1);
	assert_loc(&e->loc, 7, 2, 71, 20);
	t = e->u.term;
	assert_int_equal(t->kind, RT_CALL);
	assert_int_equal(t->u.call.op->u.ref.len, 3);
	assert_string_equal(var_name(t->u.call.op->u.ref.items[0]), "io");
	assert_string_equal(str_value(t->u.call.op->u.ref.items[1]), "jwt");
	assert_string_equal(str_value(t->u.call.op->u.ref.items[2]), "decode");
	rego_module_free(m);
}

static void builds_membership_and_every(void **state)
{
	static const char src[] = "package p\n"
				  "q if {\n"
				  "\tsome k, v in input.o\n"
				  "\tsome x in input.s\n"
				  "\tevery i in input.l { i > 0 }\n"
				  "\t[1] == [x | x := 1]\n"
				  "\tk, v in {}\n"
				  "}\n";
	struct rego_module *m = rego_parse_module("m.rego", src, strlen(src), NULL, 0, NULL);
	const struct rego_expr *e;
	const struct rego_term *t;

	(void)state;
	assert_non_null(m);
	e = m->rules[0]->body->exprs[0];
	assert_int_equal(e->kind, RE_SOME_IN);
	assert_string_equal(var_name(e->u.some_in.key), "k");
	assert_string_equal(var_name(e->u.some_in.value), "v");
	assert_int_equal(e->u.some_in.domain->kind, RT_REF);

	e = m->rules[0]->body->exprs[1];
	assert_int_equal(e->kind, RE_SOME_IN);
	assert_null(e->u.some_in.key);

	e = m->rules[0]->body->exprs[2];
	assert_int_equal(e->kind, RE_EVERY);
	assert_null(e->u.every.key);
	assert_string_equal(var_name(e->u.every.value), "i");
	assert_int_equal(e->u.every.body->len, 1);

	t = m->rules[0]->body->exprs[3]->u.term;
	assert_string_equal(var_name(t->u.call.op->u.ref.items[0]), "equal");
	assert_int_equal(t->u.call.args[1]->kind, RT_ARRAY_COMPR);
	assert_int_equal(t->u.call.args[1]->u.compr.body->len, 1);

	t = m->rules[0]->body->exprs[4]->u.term;
	assert_int_equal(t->u.call.op->u.ref.len, 2);
	assert_string_equal(var_name(t->u.call.op->u.ref.items[0]), "internal");
	assert_string_equal(str_value(t->u.call.op->u.ref.items[1]), "member_3");
	assert_int_equal(t->u.call.len, 3);
	rego_module_free(m);
}

static void builds_templates(void **state)
{
	static const char src[] = "package p\n"
				  "s := $\"a{input.x}b{1}{input.y with input as {}}\"\n";
	struct rego_module *m = rego_parse_module("m.rego", src, strlen(src), NULL, 0, NULL);
	const struct rego_term *t;

	(void)state;
	assert_non_null(m);
	t = m->rules[0]->value;
	assert_int_equal(t->kind, RT_TEMPLATE);
	assert_int_equal(t->u.tmpl.len, 5);
	assert_string_equal(str_value(t->u.tmpl.parts[0]), "a");
	assert_null(t->u.tmpl.exprs[0]);
	assert_int_equal(t->u.tmpl.parts[1]->kind, RT_REF);
	assert_non_null(t->u.tmpl.exprs[1]);
	assert_ptr_equal(t->u.tmpl.exprs[1]->u.term, t->u.tmpl.parts[1]);
	assert_string_equal(str_value(t->u.tmpl.parts[2]), "b");
	/* a constant stands for itself */
	assert_int_equal(t->u.tmpl.parts[3]->kind, RT_VALUE);
	assert_null(t->u.tmpl.exprs[3]);
	assert_int_equal(t->u.tmpl.exprs[4]->with_len, 1);
	rego_module_free(m);
}

static void parses_queries(void **state)
{
	static const char q[] = "x = 1; y := data.p[x]\n  z[_] == \"a\"";
	struct rego_arena *arena = rego_arena_new();
	struct rego_error errs[2];
	size_t n = 99;
	struct rego_body *b;
	struct wd_buf buf;

	(void)state;
	assert_non_null(arena);
	b = rego_parse_query(arena, q, strlen(q), errs, 2, &n);
	assert_non_null(b);
	assert_int_equal(n, 0);
	assert_int_equal(b->len, 3);
	assert_loc(&b->exprs[0]->loc, 1, 1, 0, 5);
	assert_loc(&b->exprs[1]->loc, 1, 8, 7, 14);
	assert_loc(&b->exprs[2]->loc, 2, 3, 24, 11);
	assert_int_equal(b->exprs[2]->index, 2);

	wd_buf_init(&buf, 64, 4096);
	assert_int_equal(rego_expr_write(b->exprs[1], &buf), 0);
	assert_string_equal(wd_buf_str(&buf), "y := data.p[x]");
	wd_buf_free(&buf);

	/* an empty query is an empty body */
	b = rego_parse_query(arena, "", 0, errs, 2, &n);
	assert_non_null(b);
	assert_int_equal(b->len, 0);

	b = rego_parse_query(arena, "x := ", 5, errs, 2, &n);
	assert_null(b);
	assert_int_equal(n, 1);
	assert_string_equal(errs[0].code, "rego_parse_error");
	assert_string_equal(errs[0].message, "unexpected eof token");
	assert_int_equal(errs[0].row, 1);
	assert_int_equal(errs[0].col, 5);
	rego_arena_free(arena);
}

static void parses_terms(void **state)
{
	static const char src[] = "{\"a\": [1, true, null], \"b\": {2}}";
	struct rego_arena *arena = rego_arena_new();
	struct rego_error errs[2];
	size_t n;
	struct rego_term *t;

	(void)state;
	t = rego_parse_term(arena, src, strlen(src), errs, 2, &n);
	assert_non_null(t);
	assert_int_equal(t->kind, RT_OBJECT);
	assert_int_equal(t->u.obj.len, 2);
	assert_string_equal(str_value(t->u.obj.keys[0]), "a");
	assert_int_equal(t->u.obj.values[0]->kind, RT_ARRAY);
	assert_int_equal(t->u.obj.values[0]->u.coll.len, 3);
	assert_int_equal(t->u.obj.values[1]->kind, RT_SET);

	t = rego_parse_term(arena, "1 + 2", 5, errs, 2, &n);
	assert_null(t);
	assert_int_equal(n, 1);
	assert_string_equal(errs[0].message, "expected term");

	t = rego_parse_term(arena, "1; 2", 4, errs, 2, &n);
	assert_null(t);
	assert_string_equal(errs[0].message, "expected exactly one term");
	rego_arena_free(arena);
}

static void refuses_hostile_input(void **state)
{
	const size_t depth = 5000;
	char *src = malloc(depth * 2 + 32);
	size_t len = 0;
	struct rego_error errs[2];
	size_t n;
	struct rego_module *m;

	(void)state;
	assert_non_null(src);

	/* nesting beyond the limit fails with a clear error */
	len = (size_t)snprintf(src, 32, "package p\nx := ");
	for (size_t i = 0; i < depth; i++)
		src[len++] = '[';
	for (size_t i = 0; i < depth; i++)
		src[len++] = ']';
	m = rego_parse_module("deep.rego", src, len, errs, 2, &n);
	assert_null(m);
	assert_true(n >= 1);
	assert_string_equal(errs[0].message, "max parsing recursion depth exceeded");
	free(src);

	/* a source above the ceiling is refused before it is read */
	m = rego_parse_module_max("big.rego", "package p", 9, 8, errs, 2, &n);
	assert_null(m);
	assert_int_equal(n, 1);
	assert_string_equal(errs[0].message, "module too large: 9 bytes, the limit is 8");
	assert_string_equal(errs[0].file, "big.rego");

	/* NUL bytes and broken UTF-8 are scan errors where they stand */
	m = rego_parse_module("nul.rego", "package p\np := \"a\0b\"", 21, errs, 2, &n);
	assert_null(m);
	assert_string_equal(errs[0].message, "illegal null character");
	assert_int_equal(errs[0].row, 2);
	assert_int_equal(errs[0].col, 6);

	m = rego_parse_module("u.rego", "package p\n# \xff\np := 1", 19, errs, 2, &n);
	assert_null(m);
	assert_string_equal(errs[0].message, "illegal utf-8 character");
	assert_int_equal(errs[0].row, 2);
	assert_int_equal(errs[0].col, 1);

	/* errors beyond the caller's room are dropped, not overflowed */
	m = rego_parse_module("e.rego", "package p\nx = \"a\\qb\"", 20, errs, 1, &n);
	assert_null(m);
	assert_int_equal(n, 1);
	assert_string_equal(errs[0].message, "illegal escape sequence");

	/* no room for errors at all is fine too */
	m = rego_parse_module("e.rego", "package", 7, NULL, 0, NULL);
	assert_null(m);
}

static void names_wildcards_uniquely(void **state)
{
	static const char src[] = "package p\nf(_, _) := 1 if { input[_] }\n";
	struct rego_module *m = rego_parse_module("m.rego", src, strlen(src), NULL, 0, NULL);
	const struct rego_rule *r;

	(void)state;
	assert_non_null(m);
	r = m->rules[0];
	assert_int_equal(r->kind, RR_FUNCTION);
	assert_int_equal(r->args_len, 2);
	assert_string_equal(var_name(r->args[0]), "$0");
	assert_string_equal(var_name(r->args[1]), "$1");
	assert_true(r->args[1]->u.var.wildcard);
	assert_string_equal(var_name(r->body->exprs[0]->u.term->u.ref.items[1]), "$2");
	rego_module_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_valid_modules),
		cmocka_unit_test(reports_opa_errors),
		cmocka_unit_test(builds_nodes_with_locations),
		cmocka_unit_test(builds_membership_and_every),
		cmocka_unit_test(builds_templates),
		cmocka_unit_test(parses_queries),
		cmocka_unit_test(parses_terms),
		cmocka_unit_test(refuses_hostile_input),
		cmocka_unit_test(names_wildcards_uniquely),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
