/* Helpers for the evaluator's tests: compile modules, run a query and
 * render its solutions as compact JSON for exact comparison. */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/error.h"
#include "policy/policy.h"

/* Compiles the NULL-terminated module list (named m0.rego, m1.rego, ...)
 * with base data given as JSON text (NULL: {}). */
static inline struct rego_engine *te_compile_limits(const char *const *mods, const char *data,
						    const struct rego_limits *limits,
						    struct rego_errors *errs)
{
	struct rego_builder *b = rego_builder_new(limits);
	struct rego_engine *e = NULL;

	assert_non_null(b);
	memset(errs, 0, sizeof(*errs));
	for (size_t i = 0; mods[i]; i++) {
		char name[32];

		snprintf(name, sizeof(name), "m%zu.rego", i);
		if (rego_builder_add_module(b, name, mods[i], strlen(mods[i]), errs) < 0)
			goto out;
	}
	if (data)
		assert_int_equal(rego_builder_set_data(b, rv_parse_json(data, strlen(data), 0, NULL)), 0);
	e = rego_builder_compile(b, errs);
out:
	rego_builder_free(b);
	return e;
}

static inline struct rego_engine *te_compile(const char *const *mods, const char *data,
					     struct rego_errors *errs)
{
	return te_compile_limits(mods, data, NULL, errs);
}

/* Options for te_query_opts. */
struct te_opts {
	const char *input;        /* JSON, NULL: no input */
	bool strict;
	struct wd_buf *print;     /* collects print() lines, NULL: dropped */
	const struct rego_limits *limits;
};

static inline void te_print(void *arg, const char *line, size_t len)
{
	struct wd_buf *out = arg;

	assert_int_equal(wd_buf_append(out, line, len), 0);
	assert_int_equal(wd_buf_append_byte(out, '\n'), 0);
}

/* Runs query and returns "[{bindings}, ...]" (caller frees), or NULL with
 * *ret_rc and errs set on an error. */
static inline char *te_query_opts(struct rego_engine *e, const char *query,
				  const struct te_opts *o, struct rego_errors *errs, int *ret_rc)
{
	struct rv *input = NULL;
	struct rego_query_opts opts = { 0 };
	struct rego_results *res = NULL;
	struct wd_buf out;
	int rc;

	memset(errs, 0, sizeof(*errs));
	if (o->input) {
		input = rv_parse_json(o->input, strlen(o->input), 0, NULL);
		assert_non_null(input);
	}
	opts.input = input;
	opts.strict_builtin_errors = o->strict;
	opts.limits = o->limits;
	if (o->print) {
		opts.print = te_print;
		opts.print_arg = o->print;
	}
	rc = rego_engine_query(e, query, strlen(query), &opts, &res, errs);
	rv_unref(input);
	if (ret_rc)
		*ret_rc = rc;
	if (rc < 0)
		return NULL;

	wd_buf_init(&out, 64, 1u << 24);
	assert_int_equal(wd_buf_append_byte(&out, '['), 0);
	for (size_t i = 0; i < res->len; i++) {
		if (i > 0)
			assert_int_equal(wd_buf_append_str(&out, ", "), 0);
		assert_int_equal(rv_write_json(res->solutions[i].bindings, &out), 0);
	}
	assert_int_equal(wd_buf_append_byte(&out, ']'), 0);
	rego_results_free(res);
	{
		char *text = wd_buf_take(&out, NULL);

		wd_buf_free(&out);
		return text;
	}
}

static inline char *te_query(struct rego_engine *e, const char *query, const char *input,
			     struct rego_errors *errs, int *ret_rc)
{
	struct te_opts o = { .input = input };

	return te_query_opts(e, query, &o, errs, ret_rc);
}

/* Asserts the exact solutions of query against one module. */
#define TE_EXPECT(engine, query, input, want)                                    \
	do {                                                                     \
		struct rego_errors te_errs_;                                     \
		int te_rc_ = 0;                                                  \
		char *te_got_ = te_query((engine), (query), (input), &te_errs_, &te_rc_); \
		if (!te_got_)                                                    \
			fail_msg("query %s failed: %s: %s", (query),             \
				 te_errs_.len ? te_errs_.items[0].code : "?",    \
				 te_errs_.len ? te_errs_.items[0].message : "?"); \
		assert_string_equal(te_got_, (want));                            \
		free(te_got_);                                                   \
	} while (0)

/* Asserts that query fails with the error code and message. */
#define TE_EXPECT_ERROR(engine, query, input, want_code, want_msg)                     \
	do {                                                                     \
		struct rego_errors te_errs_;                                     \
		int te_rc_ = 0;                                                  \
		char *te_got_ = te_query((engine), (query), (input), &te_errs_, &te_rc_); \
		if (te_got_)                                                     \
			fail_msg("query %s gave %s", (query), te_got_);          \
		assert_int_equal(te_rc_, WD_EINVAL);                             \
		assert_true(te_errs_.len >= 1);                                  \
		assert_string_equal(te_errs_.items[0].code, (want_code));             \
		assert_string_equal(te_errs_.items[0].message, (want_msg));       \
	} while (0)
