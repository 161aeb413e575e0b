/* Test helpers for the parser tests: parse a module and print its rules in
 * one line each, or the first error as "row:col: message". */
#pragma once

#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "policy/ast.h"

/* The dump fails the test when its buffer overflows. */
static void ck(int rc)
{
	assert_true(rc >= 0);
}

static const char *const dump_kinds[] = { "complete", "set", "obj", "func" };

static void dump_body(const struct rego_body *b, struct wd_buf *out)
{
	for (size_t k = 0; k < b->len; k++) {
		if (k)
			ck(wd_buf_append_str(out, "; "));
		ck(rego_expr_write(b->exprs[k], out));
	}
}

static void dump_rule(const struct rego_rule *r, struct wd_buf *out)
{
	if (r->is_default)
		ck(wd_buf_append_str(out, "default "));
	ck(wd_buf_appendf(out, "%s ", dump_kinds[r->kind]));
	ck(rego_term_write(r->head_ref, out));
	if (r->args_len) {
		ck(wd_buf_append_str(out, "("));
		for (size_t k = 0; k < r->args_len; k++) {
			if (k)
				ck(wd_buf_append_str(out, ", "));
			ck(rego_term_write(r->args[k], out));
		}
		ck(wd_buf_append_str(out, ")"));
	}
	if (r->key) {
		ck(wd_buf_append_str(out, " key="));
		ck(rego_term_write(r->key, out));
	}
	if (r->value) {
		ck(wd_buf_append_str(out, r->assign ? " := " : " = "));
		ck(rego_term_write(r->value, out));
	}
	ck(wd_buf_append_str(out, " {"));
	dump_body(r->body, out);
	ck(wd_buf_append_str(out, "}"));
	for (const struct rego_else *e = r->else_chain; e; e = e->next) {
		ck(wd_buf_append_str(out, " else = "));
		ck(rego_term_write(e->value, out));
		ck(wd_buf_append_str(out, " {"));
		dump_body(e->body, out);
		ck(wd_buf_append_str(out, "}"));
	}
}

/* Returns a static string: the rules one per line, or the first error. */
static const char *dump_module(const char *src)
{
	static char result[8192];
	struct rego_error errs[4];
	size_t n = 0;
	struct rego_module *m;
	struct wd_buf b;

	m = rego_parse_module("test-0.rego", src, strlen(src), errs, 4, &n);
	if (!m) {
		if (n == 0)
			return "no error";
		snprintf(result, sizeof(result), "%u:%u: %s", errs[0].row, errs[0].col,
			 errs[0].message);
		return result;
	}
	wd_buf_init(&b, 256, sizeof(result) - 1);
	for (size_t i = 0; i < m->rules_len; i++) {
		if (i)
			ck(wd_buf_append_byte(&b, '\n'));
		dump_rule(m->rules[i], &b);
	}
	snprintf(result, sizeof(result), "%s", wd_buf_str(&b));
	wd_buf_free(&b);
	rego_module_free(m);
	return result;
}
