/* Built-in functions: time.* with IANA zones. */
#include "policy/builtin.h"

const struct rego_builtin rego_builtins_time[] = {
	{ .name = NULL },
};
