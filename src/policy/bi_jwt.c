/* Built-in functions: io.jwt.* decoding, verification and signing. */
#include "policy/builtin.h"

const struct rego_builtin rego_builtins_jwt[] = {
	{ .name = NULL },
};
