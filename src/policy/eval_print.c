/* print(): each argument's values are collected, and one line is written
 * per combination of them, as OPA's print does. A print call is true even
 * when an argument is undefined. */
#include <stdlib.h>

#include "common/buf.h"
#include "common/error.h"
#include "policy/eval_internal.h"

/* Lines one print call may write; a cross product of large sets stops
 * there rather than flooding the hook. */
#define PRINT_MAX_LINES 1000

struct print_env {
	struct q *q;
	struct rv **sets;
	size_t n;
	struct wd_buf line;
	size_t lines;
};

/* Appends argument i's values in turn and recurses to the next argument;
 * an undefined argument shows "<undefined>". */
static int print_product(struct print_env *pe, size_t i)
{
	size_t mark = wd_buf_len(&pe->line);
	size_t n;

	if (i == pe->n) {
		if (pe->lines++ >= PRINT_MAX_LINES)
			return 0;
		if (pe->q->bctx.print)
			pe->q->bctx.print(pe->q->bctx.print_arg, wd_buf_str(&pe->line),
					  wd_buf_len(&pe->line));
		return 0;
	}
	if (i > 0)
		WD_TRY(wd_buf_append_byte(&pe->line, ' '));
	n = rv_len(pe->sets[i]);
	if (n == 0) {
		WD_TRY(wd_buf_append_str(&pe->line, "<undefined>"));
		WD_TRY(print_product(pe, i + 1));
	}
	for (size_t j = 0; j < n && pe->lines < PRINT_MAX_LINES; j++) {
		size_t value_start = wd_buf_len(&pe->line);
		struct rv *v, *unused;

		rv_map_sorted_at(pe->sets[i], j, &v, &unused);
		WD_TRY(eval_format_value(v, &pe->line));
		WD_TRY(print_product(pe, i + 1));
		wd_buf_truncate(&pe->line, value_start);
	}
	wd_buf_truncate(&pe->line, mark);
	return 0;
}

int eval_print(struct q *q, const struct rego_term *t, kv_fn k, void *env)
{
	struct rv *small[8];
	struct print_env pe = { .q = q, .n = t->u.call.len };
	size_t done = 0;
	int rc = 0;

	pe.sets = pe.n <= 8 ? small : calloc(pe.n, sizeof(*pe.sets));
	if (!pe.sets)
		return WD_ENOMEM;
	wd_buf_init(&pe.line, 64, (size_t)16 << 20);
	for (; done < pe.n; done++)
		WD_GUARD(eval_collect(q, t->u.call.args[done], &pe.sets[done]));
	WD_GUARD(print_product(&pe, 0));
	rc = k(q, rv_bool(true), env);
out:
	for (size_t i = 0; i < done; i++)
		rv_unref(pe.sets[i]);
	if (pe.sets != small)
		free(pe.sets);
	wd_buf_free(&pe.line);
	return rc;
}
