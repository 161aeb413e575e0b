/* Built-in functions: JSON Schema validation: json.match_schema and json.verify_schema. */
#include "policy/builtin.h"

const struct rego_builtin rego_builtins_schema[] = {
	{ .name = NULL },
};
