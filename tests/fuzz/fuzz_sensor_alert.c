/* libFuzzer harness: a POST /v1/sensor/alerts body as the server reads it,
 * parsed as a bounded JSON object, checked field by field, and turned into
 * its audit detail. A rejected body must carry an error detail. An
 * accepted alert must name its rule, and its audit detail must fit an
 * audit record and parse back as JSON. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_json.h"
#include "server/server_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wd_error err = { 0 };
	const char *rule = NULL;
	json_t *alert = NULL;
	char *detail = NULL;
	json_t *back;

	if (size > SENSOR_ALERT_MAX_BYTES)
		return 0;
	if (net_json_parse_object(data, size, 0, &alert, &err) < 0) {
		if (!err.detail[0])
			__builtin_trap();
		return 0;
	}
	if (sensor_alert_check(alert, &rule, &err) < 0) {
		if (!err.detail[0] || rule)
			__builtin_trap();
		json_decref(alert);
		return 0;
	}
	if (!rule || !rule[0])
		__builtin_trap();
	if (sensor_alert_detail(alert, &detail) < 0)
		__builtin_trap();
	if (strlen(detail) > AUDIT_FIELD_MAX)
		__builtin_trap();
	back = json_loads(detail, 0, NULL);
	if (!json_is_object(back))
		__builtin_trap();
	json_decref(back);
	free(detail);
	json_decref(alert);
	return 0;
}
