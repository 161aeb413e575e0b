/* Audit records of responses, in the shape of the Falco alert they follow. */
#include <stdlib.h>
#include <time.h>

#include <jansson.h>

#include "sensor/response/response_priv.h"
#include "sensor/rules/event_source.h"

char *response_audit_record(const char *hostname, const char *rule, const char *action,
	uint32_t pid, const char *target, const char *result, const char *error)
{
	struct timespec now;
	char when[40];
	json_t *record;
	char *text;

	clock_gettime(CLOCK_REALTIME, &now);
	event_time_rfc3339((int64_t)now.tv_sec * 1000000000 + now.tv_nsec, when, sizeof(when));
	record = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:s}", "time", when, "type", "response",
		"rule", rule, "action", action, "pid", (json_int_t)pid, "target", target ? target : "",
		"result", result);
	if (!record)
		return NULL;
	if ((error && json_object_set_new(record, "error", json_string(error)) < 0) ||
	    json_object_set_new(record, "hostname", json_string(hostname ? hostname : "")) < 0) {
		json_decref(record);
		return NULL;
	}
	text = json_dumps(record, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(record);
	return text;
}
