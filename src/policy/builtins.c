/* The builtin registry: every group's table behind one name lookup, and the
 * error helpers that make builtin failures read like OPA's. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "policy/builtin.h"

static const struct rego_builtin *const builtin_groups[] = {
	rego_builtins_numbers,
	rego_builtins_collections,
	rego_builtins_strings,
	rego_builtins_regex,
	rego_builtins_encoding,
	rego_builtins_misc,
	rego_builtins_crypto,
	rego_builtins_jwt,
	rego_builtins_time,
	rego_builtins_net,
	rego_builtins_graphql,
	rego_builtins_schema,
};

/* Open-addressing table of every builtin by name, built once. A power of two
 * comfortably above OPA's 206 builtins keeps probes short. */
#define BUILTIN_TABLE_SIZE 1024

static const struct rego_builtin *builtin_table[BUILTIN_TABLE_SIZE];
static pthread_once_t builtin_table_once = PTHREAD_ONCE_INIT;

static uint32_t name_hash(const char *name, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)name[i];
		h *= 16777619u;
	}
	return h;
}

static void builtin_table_build(void)
{
	for (size_t g = 0; g < WD_ARRAY_LEN(builtin_groups); g++) {
		for (const struct rego_builtin *bi = builtin_groups[g]; bi->name; bi++) {
			uint32_t slot = name_hash(bi->name, strlen(bi->name)) &
					(BUILTIN_TABLE_SIZE - 1);

			while (builtin_table[slot] &&
			       strcmp(builtin_table[slot]->name, bi->name) != 0)
				slot = (slot + 1) & (BUILTIN_TABLE_SIZE - 1);

			/* The first definition wins, so a group cannot silently
			 * replace another's builtin. */
			if (!builtin_table[slot])
				builtin_table[slot] = bi;
		}
	}
}

const struct rego_builtin *rego_builtin_find_n(const char *name, size_t len)
{
	uint32_t slot;

	pthread_once(&builtin_table_once, builtin_table_build);

	slot = name_hash(name, len) & (BUILTIN_TABLE_SIZE - 1);
	while (builtin_table[slot]) {
		const struct rego_builtin *bi = builtin_table[slot];

		if (strncmp(bi->name, name, len) == 0 && bi->name[len] == '\0')
			return bi;
		slot = (slot + 1) & (BUILTIN_TABLE_SIZE - 1);
	}
	return NULL;
}

const struct rego_builtin *rego_builtin_find(const char *name)
{
	return rego_builtin_find_n(name, strlen(name));
}

void rego_builtin_foreach(void (*fn)(const struct rego_builtin *bi, void *arg), void *arg)
{
	for (size_t g = 0; g < WD_ARRAY_LEN(builtin_groups); g++)
		for (const struct rego_builtin *bi = builtin_groups[g]; bi->name; bi++)
			fn(bi, arg);
}

static int record_error(struct rego_bctx *ctx, const char *code, const char *fmt, va_list ap)
{
	int n = snprintf(ctx->err_msg, sizeof(ctx->err_msg), "%s: ",
			 ctx->name ? ctx->name : "builtin");

	if (n < 0 || (size_t)n >= sizeof(ctx->err_msg))
		n = 0;
	vsnprintf(ctx->err_msg + n, sizeof(ctx->err_msg) - (size_t)n, fmt, ap);
	ctx->err_code = code;
	return WD_EINVAL;
}

int rego_bi_error(struct rego_bctx *ctx, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = record_error(ctx, "eval_builtin_error", fmt, ap);
	va_end(ap);
	return rc;
}

int rego_bi_limit_error(struct rego_bctx *ctx, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = record_error(ctx, "eval_cancel_error", fmt, ap);
	va_end(ap);
	return rc;
}

int rego_bi_error_code(struct rego_bctx *ctx, const char *code, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = record_error(ctx, code, fmt, ap);
	va_end(ap);
	return rc;
}

int rego_bi_type_error(struct rego_bctx *ctx, size_t argno, const char *want,
		       const struct rv *got)
{
	return rego_bi_error_code(ctx, "eval_type_error", "operand %zu must be %s but got %s",
				  argno, want, got ? rv_type_name(got) : "undefined");
}

/* OPA names a set of accepted types as "one of {array, set}". */
static void kinds_text(unsigned mask, char *out, size_t cap)
{
	static const char *const names[] = {
		"null", "boolean", "number", "string", "array", "object", "set",
	};
	size_t count = 0, used = 0;

	for (size_t k = 0; k < WD_ARRAY_LEN(names); k++)
		if (mask & (1u << k))
			count++;

	if (count == 1) {
		for (size_t k = 0; k < WD_ARRAY_LEN(names); k++)
			if (mask & (1u << k))
				snprintf(out, cap, "%s", names[k]);
		return;
	}

	used = (size_t)snprintf(out, cap, "one of {");
	for (size_t k = 0, seen = 0; k < WD_ARRAY_LEN(names) && used < cap; k++) {
		if (!(mask & (1u << k)))
			continue;
		used += (size_t)snprintf(out + used, cap - used, "%s%s", seen ? ", " : "",
					 names[k]);
		seen++;
	}
	if (used < cap)
		snprintf(out + used, cap - used, "}");
}

int rego_bi_want(struct rego_bctx *ctx, struct rv *const *args, size_t argno,
		 unsigned kinds_mask)
{
	char want[96];
	const struct rv *v = args[argno - 1];

	if (v && (kinds_mask & (1u << v->kind)))
		return 0;

	kinds_text(kinds_mask, want, sizeof(want));
	return rego_bi_type_error(ctx, argno, want, v);
}

int rego_bi_string(struct rego_bctx *ctx, struct rv *const *args, size_t argno,
		   const char **ret_s, size_t *ret_len)
{
	const struct rv *v = args[argno - 1];

	WD_TRY(rego_bi_want(ctx, args, argno, RK_STRING));
	*ret_s = rv_str(v);
	if (ret_len)
		*ret_len = rv_str_len(v);
	return 0;
}

int rego_bi_int(struct rego_bctx *ctx, struct rv *const *args, size_t argno, int64_t *ret)
{
	const struct rv *v = args[argno - 1];

	WD_TRY(rego_bi_want(ctx, args, argno, RK_NUMBER));
	if (!rv_number_to_i64(v, ret))
		return rego_bi_type_error(ctx, argno, "integer", v);
	return 0;
}
