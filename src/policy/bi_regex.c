/* Built-in functions: regex.*, re_match and glob.*. */
#include "policy/builtin.h"

const struct rego_builtin rego_builtins_regex[] = {
	{ .name = NULL },
};
