/* Built-in functions: arithmetic, comparison, aggregates, bits and numbers.*.
 * This file contains the group's table and the comparison operators; the other
 * builtins live in bi_num_*.c. */
#include "policy/bi_num.h"

/* Comparison operators compare any two values with OPA's total order. */
static int compare_result(struct rv *const *args, struct rv **ret, bool (*test)(int cmp))
{
	*ret = rv_bool(test(rv_compare(args[0], args[1])));
	return 0;
}

static bool cmp_lt(int cmp) { return cmp < 0; }
static bool cmp_lte(int cmp) { return cmp <= 0; }
static bool cmp_gt(int cmp) { return cmp > 0; }
static bool cmp_gte(int cmp) { return cmp >= 0; }

static int bi_equal(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		    struct rv **ret)
{
	(void)ctx;
	(void)nargs;
	*ret = rv_bool(rv_equal(args[0], args[1]));
	return 0;
}

static int bi_neq(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		  struct rv **ret)
{
	(void)ctx;
	(void)nargs;
	*ret = rv_bool(!rv_equal(args[0], args[1]));
	return 0;
}

static int bi_lt(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	(void)ctx;
	(void)nargs;
	return compare_result(args, ret, cmp_lt);
}

static int bi_lte(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	(void)ctx;
	(void)nargs;
	return compare_result(args, ret, cmp_lte);
}

static int bi_gt(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	(void)ctx;
	(void)nargs;
	return compare_result(args, ret, cmp_gt);
}

static int bi_gte(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	(void)ctx;
	(void)nargs;
	return compare_result(args, ret, cmp_gte);
}

#define NUM RK_NUMBER
#define COLL (RK_ARRAY | RK_SET)

/* Declarations follow OPA 1.20's capabilities: names, infix operators,
 * argument and result types. */
const struct rego_builtin rego_builtins_numbers[] = {
	/* arithmetic */
	{ .name = "plus", .infix = "+", .arity = 2, .flags = REGO_BI_INFIX,
	  .arg_types = { NUM, NUM }, .result_type = NUM, .fn = bi_plus },
	{ .name = "minus", .infix = "-", .arity = 2, .flags = REGO_BI_INFIX,
	  .arg_types = { NUM | RK_SET, NUM | RK_SET }, .result_type = NUM | RK_SET,
	  .fn = bi_minus },
	{ .name = "mul", .infix = "*", .arity = 2, .flags = REGO_BI_INFIX,
	  .arg_types = { NUM, NUM }, .result_type = NUM, .fn = bi_mul },
	{ .name = "div", .infix = "/", .arity = 2, .flags = REGO_BI_INFIX,
	  .arg_types = { NUM, NUM }, .result_type = NUM, .fn = bi_div },
	{ .name = "rem", .infix = "%", .arity = 2, .flags = REGO_BI_INFIX,
	  .arg_types = { NUM, NUM }, .result_type = NUM, .fn = bi_rem },
	{ .name = "abs", .arity = 1, .arg_types = { NUM }, .result_type = NUM, .fn = bi_abs },
	{ .name = "round", .arity = 1, .arg_types = { NUM }, .result_type = NUM, .fn = bi_round },
	{ .name = "ceil", .arity = 1, .arg_types = { NUM }, .result_type = NUM, .fn = bi_ceil },
	{ .name = "floor", .arity = 1, .arg_types = { NUM }, .result_type = NUM, .fn = bi_floor },
	{ .name = "numbers.range", .arity = 2, .arg_types = { NUM, NUM },
	  .result_type = RK_ARRAY, .fn = bi_numbers_range },
	{ .name = "numbers.range_step", .arity = 3, .arg_types = { NUM, NUM, NUM },
	  .result_type = RK_ARRAY, .fn = bi_numbers_range_step },
	{ .name = "to_number", .arity = 1,
	  .arg_types = { RK_NULL | RK_BOOL | NUM | RK_STRING }, .result_type = NUM,
	  .fn = bi_to_number },

	/* comparison */
	{ .name = "equal", .infix = "==", .arity = 2, .flags = REGO_BI_INFIX,
	  .arg_types = { RK_ANY, RK_ANY }, .result_type = RK_BOOL, .fn = bi_equal },
	{ .name = "neq", .infix = "!=", .arity = 2, .flags = REGO_BI_INFIX,
	  .arg_types = { RK_ANY, RK_ANY }, .result_type = RK_BOOL, .fn = bi_neq },
	{ .name = "lt", .infix = "<", .arity = 2, .flags = REGO_BI_INFIX,
	  .arg_types = { RK_ANY, RK_ANY }, .result_type = RK_BOOL, .fn = bi_lt },
	{ .name = "lte", .infix = "<=", .arity = 2, .flags = REGO_BI_INFIX,
	  .arg_types = { RK_ANY, RK_ANY }, .result_type = RK_BOOL, .fn = bi_lte },
	{ .name = "gt", .infix = ">", .arity = 2, .flags = REGO_BI_INFIX,
	  .arg_types = { RK_ANY, RK_ANY }, .result_type = RK_BOOL, .fn = bi_gt },
	{ .name = "gte", .infix = ">=", .arity = 2, .flags = REGO_BI_INFIX,
	  .arg_types = { RK_ANY, RK_ANY }, .result_type = RK_BOOL, .fn = bi_gte },

	/* aggregates */
	{ .name = "count", .arity = 1,
	  .arg_types = { RK_STRING | RK_ARRAY | RK_OBJECT | RK_SET }, .result_type = NUM,
	  .fn = bi_count },
	{ .name = "sum", .arity = 1, .arg_types = { COLL }, .result_type = NUM, .fn = bi_sum },
	{ .name = "product", .arity = 1, .arg_types = { COLL }, .result_type = NUM,
	  .fn = bi_product },
	{ .name = "max", .arity = 1, .arg_types = { COLL }, .result_type = RK_ANY, .fn = bi_max },
	{ .name = "min", .arity = 1, .arg_types = { COLL }, .result_type = RK_ANY, .fn = bi_min },
	{ .name = "sort", .arity = 1, .arg_types = { COLL }, .result_type = RK_ARRAY,
	  .fn = bi_sort },
	{ .name = "all", .arity = 1, .flags = REGO_BI_DEPRECATED, .arg_types = { COLL },
	  .result_type = RK_BOOL, .fn = bi_all },
	{ .name = "any", .arity = 1, .flags = REGO_BI_DEPRECATED, .arg_types = { COLL },
	  .result_type = RK_BOOL, .fn = bi_any },

	/* bits */
	{ .name = "bits.and", .arity = 2, .arg_types = { NUM, NUM }, .result_type = NUM,
	  .fn = bi_bits_and },
	{ .name = "bits.or", .arity = 2, .arg_types = { NUM, NUM }, .result_type = NUM,
	  .fn = bi_bits_or },
	{ .name = "bits.xor", .arity = 2, .arg_types = { NUM, NUM }, .result_type = NUM,
	  .fn = bi_bits_xor },
	{ .name = "bits.negate", .arity = 1, .arg_types = { NUM }, .result_type = NUM,
	  .fn = bi_bits_negate },
	{ .name = "bits.lsh", .arity = 2, .arg_types = { NUM, NUM }, .result_type = NUM,
	  .fn = bi_bits_lsh },
	{ .name = "bits.rsh", .arity = 2, .arg_types = { NUM, NUM }, .result_type = NUM,
	  .fn = bi_bits_rsh },

	{ .name = NULL },
};
