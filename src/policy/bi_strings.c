/* Built-in functions: strings.*, sprintf, format_int, trims, indexof and string templates. */
#include "policy/builtin.h"

const struct rego_builtin rego_builtins_strings[] = {
	{ .name = NULL },
};
