/* Built-in functions: graphql.* parsing and validation. */
#include "policy/builtin.h"

const struct rego_builtin rego_builtins_graphql[] = {
	{ .name = NULL },
};
