/* Falco's rule priorities, with the names its rule files use. */
#include <strings.h>

#include "sensor/rules/rules.h"

static const char *const names[] = {
	"Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational", "Debug",
};

int rules_priority_parse(const char *name, enum rules_priority *ret)
{
	for (size_t i = 0; i < WD_ARRAY_LEN(names); i++) {
		if (!strcasecmp(name, names[i])) {
			*ret = (enum rules_priority)i;
			return 0;
		}
	}
	if (!strcasecmp(name, "info")) {
		*ret = RULES_INFORMATIONAL;
		return 0;
	}
	return WD_EINVAL;
}

const char *rules_priority_name(enum rules_priority priority)
{
	if ((size_t)priority < WD_ARRAY_LEN(names))
		return names[priority];
	return "?";
}
