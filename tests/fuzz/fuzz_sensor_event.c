/* libFuzzer harness: decodes arbitrary bytes as a sensor ring buffer record
 * and formats what decodes as JSON, and parses them as a --types list. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/sensor_event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sensor_event event;
	struct wd_error err = { 0 };
	unsigned mask = 0;
	char *list;

	if (sensor_event_decode(data, size, &event, &err) == 0) {
		json_t *object = sensor_event_to_json(&event);

		uint32_t syscall = sensor_event_syscall(&event);

		if (!object || !sensor_event_type_name(event.header.type))
			__builtin_trap();
		/* A decoded record names only a call of its own type. */
		if (syscall && sensor_syscall_type(syscall) != event.header.type)
			__builtin_trap();
		json_decref(object);
	}

	list = malloc(size + 1);
	if (!list)
		return 0;
	memcpy(list, data, size);
	list[size] = '\0';
	if (sensor_types_parse(list, &mask, &err) == 0 && (mask & ~SENSOR_TYPES_ALL))
		__builtin_trap();
	free(list);
	return 0;
}
