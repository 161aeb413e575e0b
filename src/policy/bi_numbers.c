/* Built-in functions: arithmetic, comparison, aggregates, bits and numbers.*. */
#include "policy/builtin.h"

const struct rego_builtin rego_builtins_numbers[] = {
	{ .name = NULL },
};
