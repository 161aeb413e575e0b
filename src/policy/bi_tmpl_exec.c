/* The executor of strings.render_template: walks a parsed template over the
 * variables object as Go's text/template walks a map[string]any. */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "policy/bi_str_util.h"
#include "policy/bi_tmpl.h"
#include "policy/bi_tmpl_value.h"

/* Ceiling on nodes run and loop iterations, so a template cannot spin. */
#define TMPL_MAX_STEPS 10000000u

struct var {
	const char *name;
	struct tv value;
};

struct exec {
	const struct tmpl *t;
	struct wd_buf *out, *err;
	struct tv_pool pool;
	struct var *vars;
	size_t nvars, cap_vars;
	unsigned long steps;
	int depth;
	enum { FLOW_NONE, FLOW_BREAK, FLOW_CONTINUE } flow;
};

/* Records "template: template:L:C: executing "template" at <CTX>: MSG". */
static int xerr(struct exec *x, size_t pos, const char *ctx, size_t ctx_len, const char *fmt,
		...) WD_PRINTF(5, 6);
static int xerr(struct exec *x, size_t pos, const char *ctx, size_t ctx_len, const char *fmt, ...)
{
	va_list ap;
	char msg[512];
	int rc;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rc = wd_buf_append_str(x->err, "template: ");
	if (rc == 0)
		rc = tmpl_location(x->t, pos, true, x->err);
	if (rc == 0)
		rc = wd_buf_appendf(x->err, ": executing \"template\" at <%.*s>: %s", (int)ctx_len,
				    ctx, msg);
	return rc < 0 ? rc : WD_EINVAL;
}

static int step(struct exec *x)
{
	if (++x->steps > TMPL_MAX_STEPS)
		return WD_ETOOBIG;
	return 0;
}

/* ---- variables ---- */

static int var_push(struct exec *x, const char *name, struct tv value)
{
	if (x->nvars == x->cap_vars) {
		size_t cap = x->cap_vars ? x->cap_vars * 2 : 16;
		struct var *grown;

		if (cap > TMPL_MAX_VARS * 2)
			return WD_ETOOBIG;
		grown = realloc(x->vars, cap * sizeof(*grown));
		if (!grown)
			return WD_ENOMEM;
		x->vars = grown;
		x->cap_vars = cap;
	}
	x->vars[x->nvars++] = (struct var){ name, value };
	return 0;
}

static struct var *var_find(struct exec *x, const char *name)
{
	for (size_t i = x->nvars; i > 0; i--)
		if (strcmp(x->vars[i - 1].name, name) == 0)
			return &x->vars[i - 1];
	return NULL;
}

/* ---- fields ---- */

/* Reads .name of receiver as Go does for map[string]any data: a missing key
 * is an invalid value, which prints as "<undefined>" in OPA 1.20. */
static int eval_field(struct exec *x, const struct tmpl_arg *at, struct tv recv, const char *name,
		      bool has_args, struct tv *ret)
{
	*ret = (struct tv){ .kind = TV_INVALID };
	switch (recv.kind) {
	case TV_INVALID:
		return 0;
	case TV_NIL:
		return xerr(x, at->pos, at->text, at->text_len,
			    "nil pointer evaluating interface {}.%s", name);
	case TV_MAP: {
		struct rv *value;

		if (has_args)
			return xerr(x, at->pos, at->text, at->text_len,
				    "%s is not a method but has arguments", name);
		value = rv_object_get_str(recv.rv, name);
		if (value)
			return tv_from_rv(&x->pool, value, ret);
		return 0;
	}
	case TV_JNUM:
		if (strcmp(name, "String") == 0) {
			*ret = (struct tv){ .kind = TV_STRING, .s = recv.s, .len = recv.len };
			return 0;
		}
		break;
	default:
		break;
	}
	return xerr(x, at->pos, at->text, at->text_len, "can't evaluate field %s in type %s", name,
		    tv_type_name(recv));
}

static int eval_fields(struct exec *x, const struct tmpl_arg *at, struct tv recv, bool has_args,
		       struct tv *ret)
{
	for (size_t i = 0; i < at->nfields; i++) {
		WD_TRY(eval_field(x, at, recv, at->fields[i], has_args && i + 1 == at->nfields,
				  &recv));
	}
	*ret = recv;
	return 0;
}

/* ---- pipelines ---- */

static int eval_pipe(struct exec *x, const struct tmpl_pipe *pipe, struct tv dot, struct tv *ret);

static int eval_arg(struct exec *x, const struct tmpl_arg *arg, struct tv dot, struct tv *ret)
{
	struct var *var;
	struct tv base;

	switch (arg->kind) {
	case TA_DOT:
		*ret = dot;
		return 0;
	case TA_NIL:
		*ret = (struct tv){ .kind = TV_NIL };
		return 0;
	case TA_BOOL:
		*ret = (struct tv){ .kind = TV_BOOL, .b = arg->boolean };
		return 0;
	case TA_NUMBER:
		*ret = arg->is_int ? (struct tv){ .kind = TV_INT, .i = arg->ival } :
				     (struct tv){ .kind = TV_FLOAT, .f = arg->fval };
		return 0;
	case TA_STRING:
		*ret = (struct tv){ .kind = TV_STRING, .s = arg->value, .len = arg->value_len };
		return 0;
	case TA_FIELD:
		return eval_fields(x, arg, dot, false, ret);
	case TA_VAR:
		var = var_find(x, arg->value);
		if (!var)
			return xerr(x, arg->pos, arg->text, arg->text_len, "undefined variable: %s",
				    arg->value);
		return eval_fields(x, arg, var->value, false, ret);
	case TA_PIPE:
		return eval_pipe(x, arg->pipe, dot, ret);
	case TA_CHAIN:
		WD_TRY(eval_pipe(x, arg->pipe, dot, &base));
		return eval_fields(x, arg, base, false, ret);
	case TA_FUNC:
		break;
	}
	return xerr(x, arg->pos, arg->text, arg->text_len, "can't use %.*s as a value",
		    (int)arg->text_len, arg->text);
}

/* Runs one command; final is the previous command's value in a pipeline. */
static int eval_cmd(struct exec *x, const struct tmpl_cmd *cmd, struct tv dot,
		    const struct tv *final, struct tv *ret)
{
	const struct tmpl_arg *first = cmd->args[0];
	size_t nvals = cmd->nargs - 1 + (final ? 1 : 0);
	struct tv vals[256 + 1];

	WD_TRY(step(x));
	if (first->kind == TA_FUNC) {
		struct tmpl_call call = {
			.name = first->value, .pos = cmd->pos, .text = cmd->text,
			.text_len = cmd->text_len, .nargs = nvals,
		};

		/* and and or evaluate their operands lazily, left to right. */
		if (strcmp(first->value, "and") == 0 || strcmp(first->value, "or") == 0) {
			bool want = first->value[0] == 'o';

			if (nvals == 0)
				return xerr(x, cmd->pos, cmd->text, cmd->text_len,
					    "wrong number of args for %s: want at least 1 got 0",
					    first->value);
			for (size_t i = 1; i <= nvals; i++) {
				if (i < cmd->nargs)
					WD_TRY(eval_arg(x, cmd->args[i], dot, ret));
				else
					*ret = *final;
				if (tv_truth(*ret) == want || i == nvals)
					return 0;
			}
			return 0;
		}
		for (size_t i = 1; i < cmd->nargs; i++)
			WD_TRY(eval_arg(x, cmd->args[i], dot, &vals[i - 1]));
		if (final)
			vals[nvals - 1] = *final;
		call.args = vals;
		return tmpl_call_func(&x->pool, &call, x->err, x->t, ret);
	}

	if (first->kind == TA_FIELD || (first->kind == TA_VAR && first->nfields) ||
	    first->kind == TA_CHAIN) {
		struct tv base = dot;

		if (first->kind == TA_VAR) {
			struct var *var = var_find(x, first->value);

			base = var ? var->value : (struct tv){ .kind = TV_INVALID };
		} else if (first->kind == TA_CHAIN) {
			WD_TRY(eval_pipe(x, first->pipe, dot, &base));
		}
		return eval_fields(x, first, base, nvals > 0, ret);
	}
	if (nvals > 0)
		return xerr(x, first->pos, first->text, first->text_len,
			    "can't give argument to non-function %.*s", (int)first->text_len,
			    first->text);
	return eval_arg(x, first, dot, ret);
}

static int eval_pipe(struct exec *x, const struct tmpl_pipe *pipe, struct tv dot, struct tv *ret)
{
	struct tv value = { .kind = TV_INVALID };

	if (++x->depth > TMPL_MAX_DEPTH * 4)
		return WD_ETOOBIG;
	for (size_t i = 0; i < pipe->ncmds; i++) {
		struct tv prev = value;

		WD_TRY(eval_cmd(x, pipe->cmds[i], dot, i ? &prev : NULL, &value));
	}
	x->depth--;
	for (size_t i = 0; i < pipe->ndecl && !pipe->is_assign; i++)
		WD_TRY(var_push(x, pipe->decl[i], value));
	if (pipe->is_assign) {
		struct var *var = var_find(x, pipe->decl[0]);

		if (var)
			var->value = value;
	}
	*ret = value;
	return 0;
}

/* ---- lists ---- */

static int run_list(struct exec *x, struct tmpl_node *const *list, size_t n, struct tv dot);

static int run_if_with(struct exec *x, const struct tmpl_node *node, struct tv dot)
{
	size_t mark = x->nvars;
	struct tv value;
	int rc;

	WD_TRY(eval_pipe(x, node->pipe, dot, &value));
	if (tv_truth(value))
		rc = run_list(x, node->list, node->nlist, node->kind == TN_WITH ? value : dot);
	else
		rc = run_list(x, node->else_list, node->nelse, dot);
	x->nvars = mark;
	return rc;
}

/* Runs one iteration with the range variables set. */
static int range_body(struct exec *x, const struct tmpl_node *node, struct tv key,
		      struct tv elem)
{
	size_t mark = x->nvars;
	int rc;

	WD_TRY(step(x));
	if (node->pipe->is_assign) {
		/* "range $i, $x = ..." assigns variables declared outside. */
		struct var *first = var_find(x, node->pipe->decl[0]);
		struct var *second = node->pipe->ndecl == 2 ? var_find(x, node->pipe->decl[1]) : NULL;

		if (first)
			first->value = node->pipe->ndecl == 2 ? key : elem;
		if (second)
			second->value = elem;
	} else if (node->pipe->ndecl == 1) {
		x->vars[mark - 1].value = elem;
	} else if (node->pipe->ndecl == 2) {
		x->vars[mark - 2].value = key;
		x->vars[mark - 1].value = elem;
	}
	rc = run_list(x, node->list, node->nlist, elem);
	x->nvars = mark;
	if (x->flow == FLOW_CONTINUE)
		x->flow = FLOW_NONE;
	return rc;
}

static int run_range(struct exec *x, const struct tmpl_node *node, struct tv dot)
{
	size_t mark = x->nvars, count = 0;
	struct tv value;
	int rc = 0;

	WD_TRY(eval_pipe(x, node->pipe, dot, &value));
	switch (value.kind) {
	case TV_ARRAY:
		count = rv_array_len(value.rv);
		for (size_t i = 0; i < count && rc == 0 && x->flow != FLOW_BREAK; i++) {
			struct tv elem;

			rc = tv_from_rv(&x->pool, rv_array_at(value.rv, i), &elem);
			if (rc == 0)
				rc = range_body(x, node, (struct tv){ .kind = TV_INT, .i = (int64_t)i },
						elem);
		}
		break;
	case TV_MAP:
		count = rv_len(value.rv);
		for (size_t i = 0; i < count && rc == 0 && x->flow != FLOW_BREAK; i++) {
			struct rv *k, *v;
			struct tv key, elem;

			rv_map_sorted_at(value.rv, i, &k, &v);
			rc = tv_from_rv(&x->pool, k, &key);
			if (rc == 0)
				rc = tv_from_rv(&x->pool, v, &elem);
			if (rc == 0)
				rc = range_body(x, node, key, elem);
		}
		break;
	case TV_INT:
		if (node->pipe->ndecl > 1) {
			rc = xerr(x, node->pipe->pos, node->pipe->text, node->pipe->text_len,
				  "can't use %" PRId64 " to iterate over more than one variable",
				  value.i);
			break;
		}
		count = value.i > 0 ? (size_t)value.i : 0;
		for (int64_t i = 0; i < value.i && rc == 0 && x->flow != FLOW_BREAK; i++) {
			struct tv n = { .kind = TV_INT, .i = i };

			rc = range_body(x, node, n, n);
		}
		break;
	case TV_INVALID:
		break;
	default: {
		struct wd_buf text;

		wd_buf_init(&text, 32, 4096);
		rc = tv_print(value, &text);
		if (rc == 0)
			rc = xerr(x, node->pipe->pos, node->pipe->text, node->pipe->text_len,
				  "range can't iterate over %s", wd_buf_str(&text));
		wd_buf_free(&text);
		break;
	}
	}
	x->flow = FLOW_NONE;
	if (rc == 0 && count == 0)
		rc = run_list(x, node->else_list, node->nelse, dot);
	x->nvars = mark;
	return rc;
}

static int run_node(struct exec *x, const struct tmpl_node *node, struct tv dot)
{
	struct tv value;

	WD_TRY(step(x));
	switch (node->kind) {
	case TN_TEXT:
		return wd_buf_append(x->out, node->text, node->text_len);
	case TN_ACTION:
		WD_TRY(eval_pipe(x, node->pipe, dot, &value));
		if (node->pipe->ndecl)
			return 0;
		return tv_print(value, x->out);
	case TN_IF:
	case TN_WITH:
		return run_if_with(x, node, dot);
	case TN_RANGE:
		return run_range(x, node, dot);
	case TN_BREAK:
		x->flow = FLOW_BREAK;
		return 0;
	case TN_CONTINUE:
		x->flow = FLOW_CONTINUE;
		return 0;
	}
	return WD_EINTERNAL;
}

static int run_list(struct exec *x, struct tmpl_node *const *list, size_t n, struct tv dot)
{
	int rc = 0;

	if (++x->depth > TMPL_MAX_DEPTH * 4)
		return WD_ETOOBIG;
	for (size_t i = 0; i < n && rc == 0 && x->flow == FLOW_NONE; i++)
		rc = run_node(x, list[i], dot);
	x->depth--;
	return rc;
}

int tmpl_execute(const struct tmpl *t, struct rv *data, struct wd_buf *out, struct wd_buf *err)
{
	struct exec x = { .t = t, .out = out, .err = err };
	struct tv root;
	int rc;

	rc = tv_from_rv(&x.pool, data, &root);
	if (rc == 0)
		rc = var_push(&x, "$", root);
	if (rc == 0)
		rc = run_list(&x, t->list, t->nlist, root);
	free(x.vars);
	tv_pool_free(&x.pool);
	return rc;
}
