/* libFuzzer harness for the Rego parser: every input either parses or fails
 * with rego_parse_error entries that carry a message, and a parsed module
 * prints back as Rego text. Queries and single terms go through the same
 * bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "policy/ast.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_errors(const struct rego_error *errs, size_t n, size_t cap)
{
	if (n == 0 || n > cap)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (strcmp(errs[i].code, "rego_parse_error") != 0 || errs[i].message[0] == '\0')
			abort();
	}
}

static void write_body(const struct rego_body *b, struct wd_buf *out)
{
	for (size_t i = 0; i < b->len; i++) {
		if (rego_expr_write(b->exprs[i], out) < 0 && wd_buf_len(out) < 1024)
			abort();
	}
}

static void print_module(const struct rego_module *m)
{
	struct wd_buf out;

	/* A generous ceiling: running out of room is the only excuse. */
	wd_buf_init(&out, 256, 64u << 20);
	if (rego_term_write(m->package, &out) < 0)
		abort();
	for (size_t i = 0; i < m->rules_len; i++) {
		const struct rego_rule *r = m->rules[i];

		if (!r->head_ref || r->head_ref->kind != RT_REF || !r->body)
			abort();
		if (r->head_ref->u.ref.items[0]->kind != RT_VAR)
			abort();
		if (rego_term_write(r->head_ref, &out) < 0)
			abort();
		if (r->value && rego_term_write(r->value, &out) < 0)
			abort();
		write_body(r->body, &out);
		for (const struct rego_else *e = r->else_chain; e; e = e->next)
			write_body(e->body, &out);
	}
	wd_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rego_error errs[4];
	size_t n = 0;
	struct rego_module *m;
	struct rego_arena *arena;
	struct rego_body *body;

	m = rego_parse_module("fuzz.rego", (const char *)data, size, errs, 4, &n);
	if (m) {
		if (n != 0)
			abort();
		print_module(m);
		rego_module_free(m);
	} else {
		check_errors(errs, n, 4);
	}

	arena = rego_arena_new();
	if (!arena)
		return 0;
	body = rego_parse_query(arena, (const char *)data, size, errs, 4, &n);
	if (!body)
		check_errors(errs, n, 4);
	if (rego_parse_term(arena, (const char *)data, size, errs, 4, &n) == NULL)
		check_errors(errs, n, 4);
	rego_arena_free(arena);
	return 0;
}
