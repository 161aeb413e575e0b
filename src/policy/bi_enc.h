/* Entry points of the encoding builtins that live in helper files:
 * json.* and yaml.* (bi_enc_json.c), json.filter, json.remove and
 * json.patch (bi_enc_patch.c). */
#pragma once

#include "policy/builtin.h"

#define BI_ENC_FN(name) \
	int name(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)

BI_ENC_FN(bi_json_marshal);
BI_ENC_FN(bi_json_marshal_with_options);
BI_ENC_FN(bi_json_unmarshal);
BI_ENC_FN(bi_json_is_valid);
BI_ENC_FN(bi_yaml_marshal);
BI_ENC_FN(bi_yaml_unmarshal);
BI_ENC_FN(bi_yaml_is_valid);
BI_ENC_FN(bi_json_filter);
BI_ENC_FN(bi_json_remove);
BI_ENC_FN(bi_json_patch);
