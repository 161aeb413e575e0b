/* Built-in functions: net.cidr_*. */
#include "policy/builtin.h"

const struct rego_builtin rego_builtins_net[] = {
	{ .name = NULL },
};
