/* uri.parse and uri.is_valid (bi_uri.c). */
#pragma once

#include "policy/builtin.h"

int bi_uri_parse(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret);
int bi_uri_is_valid(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		    struct rv **ret);
