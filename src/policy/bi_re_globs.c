/* regex.globs_match: whether two glob-like patterns (yashtewari/glob-intersection
 * syntax) can match a common string. */
#include "policy/bi_re_engine.h"
#include "policy/bi_str_util.h"

/* TODO: decide the intersection of the two patterns; until then the builtin
 * reports that it is not supported. */
int bi_regex_globs_match(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			 struct rv **ret)
{
	(void)nargs;
	(void)ret;
	WD_TRY(rego_bi_want(ctx, args, 1, RK_STRING));
	WD_TRY(rego_bi_want(ctx, args, 2, RK_STRING));
	return rego_bi_error(ctx, "not supported by warden's policy engine");
}
