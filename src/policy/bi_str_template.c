/* strings.render_template: a subset of Go's text/template. */
#include "policy/bi_str_util.h"

int bi_render_template(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		       struct rv **ret)
{
	(void)args;
	(void)nargs;
	(void)ret;
	return rego_bi_error(ctx, "not implemented");
}
