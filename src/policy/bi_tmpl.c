/* strings.render_template(template, vars): renders a Go text/template with
 * the vars object as its data, as OPA 1.20 does. */
#include "common/error.h"
#include "policy/bi_str_util.h"
#include "policy/bi_tmpl.h"
#include "policy/bi_tmpl_value.h"

int bi_tmpl_render(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		   struct rv **ret)
{
	struct tmpl t = { 0 };
	struct wd_buf out, err;
	const char *src;
	size_t len;
	int rc;

	(void)nargs;
	WD_TRY(rego_bi_string(ctx, args, 1, &src, &len));
	WD_TRY(rego_bi_want(ctx, args, 2, RK_OBJECT));

	wd_buf_init(&out, 256, BI_STR_MAX);
	wd_buf_init(&err, 256, 8192);

	/* OPA converts the vars before it parses the template. */
	rc = tv_check_data(args[1], &err);
	if (rc == 0)
		rc = tmpl_parse(&t, src, len, &err);
	if (rc == 0)
		rc = tmpl_execute(&t, args[1], &out, &err);

	if (rc == WD_EINVAL && wd_buf_len(&err))
		rc = rego_bi_error(ctx, "%s", wd_buf_str(&err));
	else if (rc == WD_ETOOBIG)
		rc = rego_bi_error(ctx, "template too large or too deeply nested to render");
	else if (rc < 0)
		rc = bi_fail(ctx, rc);
	else
		rc = bi_buf_to_string(ctx, &out, ret);

	tmpl_free(&t);
	wd_buf_free(&out);
	wd_buf_free(&err);
	return rc;
}
