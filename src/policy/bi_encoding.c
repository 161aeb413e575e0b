/* Built-in functions: base64, hex, urlquery, uri, json.* and yaml.*. */
#include "policy/builtin.h"

const struct rego_builtin rego_builtins_encoding[] = {
	{ .name = NULL },
};
