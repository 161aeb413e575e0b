/* libFuzzer harness: renders arbitrary bytes as a rule's output string for
 * an open event whose path is the same bytes, and parses them as a
 * /proc/PID/cmdline, a /proc/PID/cgroup and a path to normalize. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/rules/event_source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct proc_table table;
	static bool ready;
	struct sensor_event event;
	struct event_fields fields;
	struct rules_rule rule = { .name = "fuzz", .priority = RULES_NOTICE };
	char *format, *argv0 = NULL, *args = NULL;
	json_t *alert;

	if (!ready) {
		if (proc_table_init(&table, "/nonexistent") < 0)
			abort();
		ready = true;
	}
	char id[PROC_CONTAINER_ID_LEN + 1], small[8];
	char *cgroup = NULL;

	if (proc_cmdline_split((const char *)data, size, &argv0, &args) == 0) {
		free(argv0);
		free(args);
	}
	if (proc_cgroup_parse((const char *)data, size, id, &cgroup) == 0)
		free(cgroup);
	format = malloc(size + 1);
	if (!format)
		return 0;
	memcpy(format, data, size);
	format[size] = '\0';
	rule.output = format;
	/* A buffer shorter than most paths checks the cut. */
	proc_path_normalize(format, small, sizeof(small));

	memset(&event, 0, sizeof(event));
	event.header.type = SENSOR_EVENT_OPEN;
	event.header.pid = 1;
	event.open.dfd = -100;
	event.open.flags = size ? (int32_t)data[0] << 8 : 0;
	memcpy(event.open.path, data, size < SENSOR_PATH_LEN - 1 ? size : SENSOR_PATH_LEN - 1);
	memcpy(event.header.comm, data, size < SENSOR_COMM_LEN - 1 ? size : SENSOR_COMM_LEN - 1);
	event_fields_init(&fields, &event, &table, 0);
	alert = event_alert_json(&rule, &fields, "h");
	json_decref(alert);
	event_fields_clear(&fields);
	free(format);
	return 0;
}
