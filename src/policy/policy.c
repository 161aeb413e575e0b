/* The engine's public face: a builder collecting modules and data, the
 * immutable compiled engine, and the query entry points. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "policy/eval_internal.h"
#include "policy/policy.h"

#define DEFAULT_MAX_STEPS 10000000ull
#define DEFAULT_MAX_DEPTH 1000u
#define DEFAULT_MAX_MEMORY ((size_t)512 << 20)
#define DEFAULT_MAX_MODULE ((size_t)4 << 20)
/* Modules per builder; each is parsed again at every compile. */
#define MAX_MODULES 100000
/* Solutions kept per query. */
#define MAX_SOLUTIONS 1000000

struct builder_module {
	char *file;
	char *source;
	size_t len;
};

struct rego_builder {
	struct rego_limits limits;
	struct builder_module *modules;
	size_t modules_len;
	size_t modules_cap;
	struct data_holder *data;
};

static void limits_fill(struct rego_limits *out, const struct rego_limits *in)
{
	*out = in ? *in : (struct rego_limits){ 0 };
	if (!out->max_steps)
		out->max_steps = DEFAULT_MAX_STEPS;
	if (!out->max_depth)
		out->max_depth = DEFAULT_MAX_DEPTH;
	if (!out->max_memory)
		out->max_memory = DEFAULT_MAX_MEMORY;
	if (!out->max_module_bytes)
		out->max_module_bytes = DEFAULT_MAX_MODULE;
}

static struct data_holder *holder_new(struct rv *data)
{
	struct data_holder *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	atomic_init(&h->refs, 1);
	rv_freeze(data);
	h->data = data;
	return h;
}

static void holder_unref(struct data_holder *h)
{
	if (!h || atomic_fetch_sub(&h->refs, 1) != 1)
		return;
	rv_free_frozen(h->data);
	free(h);
}

/* ---- builder ---- */

struct rego_builder *rego_builder_new(const struct rego_limits *limits)
{
	struct rego_builder *b = calloc(1, sizeof(*b));
	struct rv *empty;

	if (!b)
		return NULL;
	limits_fill(&b->limits, limits);
	empty = rv_object_new(0);
	b->data = empty ? holder_new(empty) : NULL;
	if (!b->data) {
		rv_unref(empty);
		free(b);
		return NULL;
	}
	return b;
}

void rego_builder_free(struct rego_builder *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->modules_len; i++) {
		free(b->modules[i].file);
		free(b->modules[i].source);
	}
	free(b->modules);
	holder_unref(b->data);
	free(b);
}

static void copy_parse_errors(struct rego_errors *errs, const struct rego_error *perrs, size_t n)
{
	for (size_t i = 0; errs && i < n && errs->len < REGO_MAX_ERRORS; i++)
		errs->items[errs->len++] = perrs[i];
}

static struct rego_module *parse_module(const char *file, const char *source, size_t len,
					size_t max_bytes, struct rego_errors *errs)
{
	struct rego_error perrs[REGO_MAX_ERRORS];
	size_t n = 0;
	struct rego_module *m;

	if (len > max_bytes) {
		rego_errors_add(errs, "rego_parse_error", NULL,
				"module %s is %zu bytes, over the limit of %zu", file, len, max_bytes);
		return NULL;
	}
	m = rego_parse_module_max(file, source, len, max_bytes, perrs, REGO_MAX_ERRORS, &n);
	if (!m)
		copy_parse_errors(errs, perrs, n);
	return m;
}

int rego_builder_add_module(struct rego_builder *b, const char *file, const char *source,
			    size_t len, struct rego_errors *errs)
{
	struct rego_module *m;
	struct builder_module bm = { 0 };
	size_t i;

	m = parse_module(file, source, len, b->limits.max_module_bytes, errs);
	if (!m)
		return WD_EINVAL;
	rego_module_free(m);

	bm.file = wd_strdup(file);
	bm.source = malloc(len + 1);
	if (!bm.file || !bm.source) {
		free(bm.file);
		free(bm.source);
		return WD_ENOMEM;
	}
	memcpy(bm.source, source, len);
	bm.source[len] = '\0';
	bm.len = len;

	for (i = 0; i < b->modules_len; i++) {
		if (strcmp(b->modules[i].file, file) == 0) {
			free(b->modules[i].file);
			free(b->modules[i].source);
			b->modules[i] = bm;
			return 0;
		}
	}
	if (b->modules_len >= MAX_MODULES) {
		free(bm.file);
		free(bm.source);
		return WD_ETOOBIG;
	}
	if (b->modules_len == b->modules_cap) {
		size_t cap = b->modules_cap ? b->modules_cap * 2 : 8;
		struct builder_module *n = wd_reallocarray(b->modules, cap, sizeof(*n));

		if (!n) {
			free(bm.file);
			free(bm.source);
			return WD_ENOMEM;
		}
		b->modules = n;
		b->modules_cap = cap;
	}
	b->modules[b->modules_len++] = bm;
	return 0;
}

int rego_builder_remove_module(struct rego_builder *b, const char *file)
{
	for (size_t i = 0; i < b->modules_len; i++) {
		if (strcmp(b->modules[i].file, file) != 0)
			continue;
		free(b->modules[i].file);
		free(b->modules[i].source);
		memmove(&b->modules[i], &b->modules[i + 1],
			(b->modules_len - i - 1) * sizeof(*b->modules));
		b->modules_len--;
		return 0;
	}
	return WD_ENOTFOUND;
}

int rego_builder_set_data(struct rego_builder *b, struct rv *data)
{
	struct data_holder *h;

	if (!data)
		return WD_ENOMEM;
	if (!rv_is(data, RV_OBJECT)) {
		rv_unref(data);
		return WD_EINVAL;
	}
	h = holder_new(data);
	if (!h) {
		rv_unref(data);
		return WD_ENOMEM;
	}
	holder_unref(b->data);
	b->data = h;
	return 0;
}

/* ---- engine ---- */

static void engine_free(struct rego_engine *e)
{
	query_cache_free(e);
	pthread_mutex_destroy(&e->qlock);
	cnode_free(e->root);
	free(e->nodes);
	for (size_t i = 0; i < e->modules_len; i++)
		rego_module_free(e->modules[i]);
	free(e->modules);
	for (size_t i = 0; i < e->owned_len; i++)
		rv_free_frozen(e->owned[i]);
	free(e->owned);
	rego_arena_free(e->arena);
	holder_unref(e->data);
	free(e);
}

struct rego_engine *rego_builder_compile(struct rego_builder *b, struct rego_errors *errs)
{
	struct rego_engine *e = calloc(1, sizeof(*e));
	int rc;

	if (!e)
		return NULL;
	atomic_init(&e->refs, 1);
	if (pthread_mutex_init(&e->qlock, NULL) != 0) {
		free(e);
		return NULL;
	}
	e->limits = b->limits;
	e->data = b->data;
	atomic_fetch_add(&b->data->refs, 1);
	e->arena = rego_arena_new();
	e->modules = wd_calloc(b->modules_len ? b->modules_len : 1, sizeof(*e->modules));
	if (!e->arena || !e->modules)
		goto fail;

	/* The engine rewrites its syntax trees, so it parses its own. */
	for (size_t i = 0; i < b->modules_len; i++) {
		struct rego_module *m = parse_module(b->modules[i].file, b->modules[i].source,
						     b->modules[i].len,
						     b->limits.max_module_bytes, errs);

		if (!m)
			goto fail;
		e->modules[e->modules_len++] = m;
	}
	rc = compile_modules(e, errs);
	if (rc < 0) {
		if (rc == WD_ENOMEM && errs && errs->len == 0)
			rego_errors_add(errs, "rego_compile_error", NULL, "out of memory");
		goto fail;
	}
	return e;
fail:
	engine_free(e);
	return NULL;
}

struct rego_engine *rego_engine_ref(struct rego_engine *e)
{
	if (e)
		atomic_fetch_add(&e->refs, 1);
	return e;
}

void rego_engine_unref(struct rego_engine *e)
{
	if (!e || atomic_fetch_sub(&e->refs, 1) != 1)
		return;
	engine_free(e);
}

size_t rego_engine_module_count(const struct rego_engine *e)
{
	return e->modules_len;
}

const struct rego_module *rego_engine_module_at(const struct rego_engine *e, size_t i)
{
	return i < e->modules_len ? e->modules[i] : NULL;
}

/* ---- results ---- */

void rego_results_free(struct rego_results *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->len; i++) {
		rv_unref(r->solutions[i].bindings);
		for (size_t j = 0; j < r->solutions[i].expressions_len; j++)
			rv_unref(r->solutions[i].expressions[j]);
		free(r->solutions[i].expressions);
	}
	free(r->solutions);
	for (size_t i = 0; i < r->expressions_len; i++)
		free(r->expression_text ? r->expression_text[i] : NULL);
	free(r->expression_text);
	free(r->expression_loc);
	free(r);
}

struct solution_env {
	struct rego_results *res;
	const struct query_vars *vars;
	size_t cap;
};

static int solution_add(struct q *q, void *env)
{
	struct solution_env *se = env;
	struct rego_results *res = se->res;
	struct rego_solution sol = { 0 };

	if (res->len >= MAX_SOLUTIONS)
		return eval_error(q, "eval_cancel_error", NULL,
				  "caller cancelled query execution: more than %d results",
				  MAX_SOLUTIONS);
	sol.bindings = rv_object_new(se->vars->len);
	if (!sol.bindings)
		return eval_nomem(q);
	for (size_t i = 0; i < se->vars->len; i++) {
		struct rv *v = q->slots[se->vars->items[i].slot];
		struct rv *name;

		if (!v)
			continue;
		name = rv_cstring(se->vars->items[i].name);
		if (!name || rv_object_put(sol.bindings, name, value_deep_copy(v)) < 0) {
			rv_unref(sol.bindings);
			return eval_nomem(q);
		}
	}
	sol.expressions_len = q->expr_vals_len;
	sol.expressions = wd_calloc(sol.expressions_len ? sol.expressions_len : 1,
				    sizeof(*sol.expressions));
	if (!sol.expressions) {
		rv_unref(sol.bindings);
		return WD_ENOMEM;
	}
	for (size_t i = 0; i < q->expr_vals_len; i++) {
		sol.expressions[i] = value_deep_copy(q->expr_vals[i] ? q->expr_vals[i] : rv_bool(true));
		if (!sol.expressions[i]) {
			rv_unref(sol.bindings);
			for (size_t j = 0; j < i; j++)
				rv_unref(sol.expressions[j]);
			free(sol.expressions);
			return eval_nomem(q);
		}
	}

	if (res->len == se->cap) {
		size_t cap = se->cap ? se->cap * 2 : 4;
		struct rego_solution *n = wd_reallocarray(res->solutions, cap, sizeof(*n));

		if (!n) {
			rv_unref(sol.bindings);
			for (size_t i = 0; i < sol.expressions_len; i++)
				rv_unref(sol.expressions[i]);
			free(sol.expressions);
			return WD_ENOMEM;
		}
		res->solutions = n;
		se->cap = cap;
	}
	res->solutions[res->len++] = sol;
	return 0;
}

static int results_describe(struct rego_results *res, const struct rego_body *body)
{
	res->expressions_len = body->len;
	res->expression_text = wd_calloc(body->len ? body->len : 1, sizeof(char *));
	res->expression_loc = wd_calloc(body->len ? body->len : 1, sizeof(struct rego_loc));
	if (!res->expression_text || !res->expression_loc)
		return WD_ENOMEM;
	for (size_t i = 0; i < body->len; i++) {
		const struct rego_expr *e = body->exprs[i];
		size_t idx = e->index >= 0 && (size_t)e->index < body->len ? (size_t)e->index : i;
		struct wd_buf text;

		wd_buf_init(&text, 64, 1u << 20);
		if (rego_expr_write(e, &text) < 0) {
			wd_buf_free(&text);
			return WD_ENOMEM;
		}
		res->expression_text[idx] = wd_buf_take(&text, NULL);
		wd_buf_free(&text);
		if (!res->expression_text[idx])
			return WD_ENOMEM;
		res->expression_loc[idx] = e->loc;
	}
	return 0;
}

/* The lowest stack address evaluation may reach in this thread, leaving
 * room for builtins and libraries below it. */
static uintptr_t stack_floor_compute(void)
{
	pthread_attr_t attr;
	void *addr = NULL;
	size_t size = 0;
	char here;
	size_t margin;

	if (pthread_getattr_np(pthread_self(), &attr) != 0)
		return (uintptr_t)&here - ((size_t)1 << 20);
	if (pthread_attr_getstack(&attr, &addr, &size) != 0 || !addr) {
		pthread_attr_destroy(&attr);
		return (uintptr_t)&here - ((size_t)1 << 20);
	}
	pthread_attr_destroy(&attr);
	margin = size / 8 > ((size_t)128 << 10) ? size / 8 : ((size_t)128 << 10);
	if (margin > size / 2)
		margin = size / 2;
	return (uintptr_t)addr + margin;
}

/* pthread_getattr_np reads /proc/self/maps for the main thread, which costs
 * more than a whole decision, so each thread asks once. */
static uintptr_t stack_floor(void)
{
	static _Thread_local uintptr_t floor;

	if (!floor)
		floor = stack_floor_compute();
	return floor;
}

static int64_t clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void cache_clear(struct cache *c)
{
	for (size_t i = 0; c->docs && i < c->len; i++)
		if (c->docs[i] && c->docs[i] != UNDEF_MARK)
			rv_unref(c->docs[i]);
	free(c->docs);
	eval_fmemo_free(c->fmemo);
}

int rego_engine_query(struct rego_engine *e, const char *query, size_t len,
		      const struct rego_query_opts *opts, struct rego_results **ret_results,
		      struct rego_errors *errs)
{
	struct rego_query_opts none = { 0 };
	struct compiled_query *cq = NULL;
	const struct rego_body *body;
	int32_t nslots;
	struct rego_results *res = NULL;
	struct cache cache = { 0 };
	struct q q = { 0 };
	struct rego_limits limits;
	struct solution_env se = { 0 };
	int rc = 0;

	*ret_results = NULL;
	if (!opts)
		opts = &none;
	limits_fill(&limits, opts->limits ? opts->limits : &e->limits);

	if (len > limits.max_module_bytes) {
		rego_errors_add(errs, "rego_parse_error", NULL, "query is %zu bytes, over the limit",
				len);
		return WD_EINVAL;
	}
	cq = query_cache_acquire(e, query, len, errs, &rc);
	if (!cq)
		return rc;
	body = cq->body;
	nslots = cq->nslots;

	res = calloc(1, sizeof(*res));
	if (!res) {
		rc = WD_ENOMEM;
		goto out;
	}
	WD_GUARD(results_describe(res, body));

	q.slots = wd_calloc(nslots > 0 ? (size_t)nslots : 1, sizeof(*q.slots));
	q.expr_vals = wd_calloc(body->len ? body->len : 1, sizeof(*q.expr_vals));
	if (!q.slots || !q.expr_vals) {
		rc = WD_ENOMEM;
		goto out;
	}
	q.e = e;
	q.input = opts->input;
	q.data = e->data->data;
	q.cache = &cache;
	q.root_cache = &cache;
	q.max_steps = limits.max_steps;
	q.max_depth = limits.max_depth;
	q.max_memory = limits.max_memory;
	q.stack_floor = stack_floor();
	q.strict = opts->strict_builtin_errors;
	q.keep_false = eval_query_keeps_false(body);
	q.errs = errs;
	q.qbody = body;
	q.expr_vals_len = body->len;
	q.bctx.now_ns = opts->now_ns ? opts->now_ns : clock_ns();
	q.bctx.strict = opts->strict_builtin_errors;
	q.bctx.print = opts->print;
	q.bctx.print_arg = opts->print_arg;
	q.bctx.runtime = opts->runtime;
	q.bctx.eval = &q;

	se.res = res;
	se.vars = &cq->vars;
	rv_budget_begin(limits.max_memory);
	rc = eval_body(&q, body, 0, solution_add, &se);
	if (rc == WD_ENOMEM && rv_budget_hit())
		rc = eval_nomem(&q);
	rv_budget_end();
	res->steps = q.steps;
	if (rc > 0)
		rc = 0;
	if (rc < 0 && rc != WD_ENOMEM)
		rc = WD_EINVAL;
out:
	if (q.slots) {
		for (int32_t i = 0; i < nslots; i++)
			rv_unref(q.slots[i]);
	}
	free(q.slots);
	free(q.expr_vals);
	eval_nondet_free(q.nondet);
	cache_clear(&cache);
	query_cache_release(e, cq);
	if (rc < 0) {
		rego_results_free(res);
		return rc;
	}
	*ret_results = res;
	return 0;
}

int rego_engine_eval_ref(struct rego_engine *e, const char *ref,
			 const struct rego_query_opts *opts, struct rv **ret_value,
			 struct rego_errors *errs)
{
	struct wd_buf text;
	struct rego_results *res = NULL;
	int rc;

	*ret_value = NULL;
	wd_buf_init(&text, 64, 1u << 20);
	/* Unifying with a variable keeps a false document defined. */
	rc = wd_buf_appendf(&text, "result__ = %s", ref);
	if (rc < 0) {
		wd_buf_free(&text);
		return rc;
	}
	rc = rego_engine_query(e, wd_buf_str(&text), wd_buf_len(&text), opts, &res, errs);
	wd_buf_free(&text);
	if (rc < 0)
		return rc;
	if (res->len > 0)
		*ret_value = rv_ref(rv_object_get_str(res->solutions[0].bindings, "result__"));
	rego_results_free(res);
	return 0;
}
