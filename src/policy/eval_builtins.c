/* Builtins the evaluator owns (unification, membership, print, metadata)
 * and the call path every builtin goes through: context, error policy and
 * per-query memoization of non-deterministic builtins. */
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "policy/eval_internal.h"

static int bi_member2(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		      struct rv **ret)
{
	struct rv *x = args[0], *coll = args[1];
	bool found = false;

	(void)ctx;
	(void)nargs;
	switch (rv_kind_of(coll)) {
	case RV_ARRAY:
		for (size_t i = 0; i < rv_array_len(coll) && !found; i++)
			found = rv_equal(rv_array_at(coll, i), x);
		break;
	case RV_OBJECT:
		for (size_t i = 0; i < rv_len(coll) && !found; i++) {
			struct rv *k, *v;

			rv_map_at(coll, i, &k, &v);
			found = rv_equal(v, x);
		}
		break;
	case RV_SET:
		found = rv_set_has(coll, x);
		break;
	default:
		break;
	}
	*ret = rv_bool(found);
	return 0;
}

static int bi_member3(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		      struct rv **ret)
{
	struct rv *key = args[0], *val = args[1], *coll = args[2];
	struct rv *got;
	bool found = false;

	(void)ctx;
	(void)nargs;
	switch (rv_kind_of(coll)) {
	case RV_ARRAY:
	case RV_OBJECT:
		got = eval_lookup(coll, key);
		found = got && rv_equal(got, val);
		break;
	case RV_SET:
		found = rv_equal(key, val) && rv_set_has(coll, key);
		break;
	default:
		break;
	}
	*ret = rv_bool(found);
	return 0;
}

static int bi_true(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	(void)ctx;
	(void)args;
	(void)nargs;
	*ret = rv_bool(true);
	return 0;
}

/* Joins an array of parts: strings as they are, other values as Rego
 * text, as string templates print them. */
static int bi_template_string(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			      struct rv **ret)
{
	struct wd_buf out;
	int rc = 0;

	(void)nargs;
	WD_TRY(rego_bi_want(ctx, args, 1, RK_ARRAY));
	wd_buf_init(&out, 64, (size_t)64 << 20);
	for (size_t i = 0; i < rv_array_len(args[0]); i++) {
		struct rv *part = rv_array_at(args[0], i);

		/* A part arrives as the set of its values. */
		if (rv_is(part, RV_SET)) {
			if (rv_len(part) == 0) {
				rc = wd_buf_append_str(&out, "<undefined>");
			} else {
				struct rv *first, *unused;

				rv_map_sorted_at(part, 0, &first, &unused);
				rc = eval_format_value(first, &out);
			}
		} else {
			rc = eval_format_value(part, &out);
		}
		if (rc < 0)
			break;
	}
	if (rc == 0) {
		*ret = rv_string(wd_buf_str(&out), wd_buf_len(&out));
		rc = *ret ? 0 : WD_ENOMEM;
	}
	wd_buf_free(&out);
	return rc;
}

/* The order is fixed: EVAL_BI_* in eval_internal.h name positions. */
static const struct rego_builtin eval_builtins[] = {
	{ .name = "eq", .infix = "=", .arity = 2, .flags = REGO_BI_INFIX,
	  .arg_types = { RK_ANY, RK_ANY }, .result_type = RK_BOOL },
	{ .name = "assign", .infix = ":=", .arity = 2, .flags = REGO_BI_INFIX,
	  .arg_types = { RK_ANY, RK_ANY }, .result_type = RK_BOOL },
	{ .name = "internal.member_2", .infix = "in", .arity = 2,
	  .arg_types = { RK_ANY, RK_ANY }, .result_type = RK_BOOL, .fn = bi_member2 },
	{ .name = "internal.member_3", .infix = "in", .arity = 3,
	  .arg_types = { RK_ANY, RK_ANY, RK_ANY }, .result_type = RK_BOOL, .fn = bi_member3 },
	{ .name = "print", .arity = 0, .flags = REGO_BI_VARIADIC, .result_type = RK_BOOL },
	{ .name = "internal.print", .arity = 1, .arg_types = { RK_ARRAY },
	  .result_type = RK_BOOL },
	{ .name = "trace", .arity = 1, .arg_types = { RK_STRING }, .result_type = RK_BOOL,
	  .fn = bi_true },
	{ .name = "internal.template_string", .arity = 1, .arg_types = { RK_ARRAY },
	  .result_type = RK_STRING, .fn = bi_template_string },
	{ .name = "rego.metadata.rule", .arity = 0, .result_type = RK_ANY,
	  .fn = eval_metadata_rule },
	{ .name = "rego.metadata.chain", .arity = 0, .result_type = RK_ARRAY,
	  .fn = eval_metadata_chain },
	{ .name = "internal.test_case", .arity = 1, .arg_types = { RK_OBJECT },
	  .result_type = RK_BOOL, .fn = bi_true },
	{ .name = NULL },
};

const struct rego_builtin *eval_builtin_find(const char *name)
{
	for (const struct rego_builtin *bi = eval_builtins; bi->name; bi++)
		if (strcmp(bi->name, name) == 0)
			return bi;
	return NULL;
}

const struct rego_builtin *eval_builtin_at(uint32_t idx)
{
	return idx < WD_ARRAY_LEN(eval_builtins) - 1 ? &eval_builtins[idx] : NULL;
}

int32_t eval_builtin_index_of(const struct rego_builtin *bi)
{
	if (!bi || bi < eval_builtins || bi >= eval_builtins + WD_ARRAY_LEN(eval_builtins) - 1)
		return -1;
	return (int32_t)(bi - eval_builtins);
}

/* ---- memoized non-deterministic results ---- */

struct nondet_memo {
	const struct rego_builtin *bi;
	struct rv *args;              /* array of the arguments */
	struct rv *result;
	struct nondet_memo *next;
};

void eval_nondet_free(struct nondet_memo *m)
{
	while (m) {
		struct nondet_memo *next = m->next;

		rv_unref(m->args);
		rv_unref(m->result);
		free(m);
		m = next;
	}
}

static struct rv *args_array(struct rv **args, size_t nargs)
{
	struct rv *a = rv_array_new(nargs);

	for (size_t i = 0; a && i < nargs; i++)
		if (rv_array_push(a, rv_ref(args[i])) < 0)
			return NULL;
	return a;
}

int eval_builtin_call(struct q *q, const struct rego_builtin *bi, const struct rego_term *t,
		      struct rv **args, size_t nargs, struct rv **ret)
{
	struct rv *key = NULL;
	int rc;

	*ret = NULL;
	if (!bi->fn)
		return REGO_UNDEFINED;

	if (bi->flags & REGO_BI_NONDET) {
		key = args_array(args, nargs);
		if (!key)
			return eval_nomem(q);
		for (struct nondet_memo *m = q->nondet; m; m = m->next) {
			if (m->bi == bi && rv_equal(m->args, key)) {
				rv_unref(key);
				*ret = rv_ref(m->result);
				return 0;
			}
		}
	}

	q->bctx.name = bi->name;
	q->bi_call = t;
	q->bctx.err_code = NULL;
	q->bctx.err_msg[0] = '\0';
	rc = bi->fn(&q->bctx, args, nargs, ret);
	if (rc == REGO_UNDEFINED) {
		rv_unref(key);
		return REGO_UNDEFINED;
	}
	if (rc < 0) {
		rv_unref(key);
		*ret = NULL;
		/* A limit ends the query whatever the mode: read as undefined,
		 * it could turn a deny into an allow. */
		if (rv_budget_hit())
			return eval_nomem(q);
		if (!q->bctx.err_code)
			return rc;
		/* OPA reports other builtin errors only with
		 * strict-builtin-errors; otherwise the call is undefined. */
		if (!q->strict && strcmp(q->bctx.err_code, "eval_cancel_error") != 0)
			return REGO_UNDEFINED;
		return eval_error(q, q->bctx.err_code, &t->loc, "%s", q->bctx.err_msg);
	}

	if (key) {
		struct nondet_memo *m = calloc(1, sizeof(*m));

		if (!m) {
			rv_unref(key);
			return WD_ENOMEM;
		}
		m->bi = bi;
		m->args = key;
		m->result = rv_ref(*ret);
		m->next = q->nondet;
		q->nondet = m;
	}
	return 0;
}
