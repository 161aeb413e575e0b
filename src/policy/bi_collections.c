/* Built-in functions: arrays, sets, objects, types, casts, graph.* and walk. */
#include "policy/builtin.h"

const struct rego_builtin rego_builtins_collections[] = {
	{ .name = NULL },
};
