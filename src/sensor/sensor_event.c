/* Decoding of ring buffer records into struct sensor_event, and their JSON
 * form for `warden sensor events --json`. */
#include "sensor/sensor_event.h"

#include <arpa/inet.h>
#include <string.h>

#include "common/macros.h"

/* The longest --types list accepted: every name once, with some slack. */
#define TYPES_LIST_MAX 256

struct type_info {
	const char *name;
	size_t record_size;
};

static const struct type_info types[SENSOR_EVENT_TYPE_COUNT] = {
	[SENSOR_EVENT_EXEC] = { "exec", sizeof(struct sensor_exec_record) },
	[SENSOR_EVENT_FORK] = { "fork", sizeof(struct sensor_fork_record) },
	[SENSOR_EVENT_EXIT] = { "exit", sizeof(struct sensor_exit_record) },
	[SENSOR_EVENT_OPEN] = { "open", sizeof(struct sensor_open_record) },
	[SENSOR_EVENT_CONNECT] = { "connect", sizeof(struct sensor_connect_record) },
};

const char *sensor_event_type_name(uint32_t type)
{
	if (type >= SENSOR_EVENT_TYPE_COUNT)
		return NULL;
	return types[type].name;
}

/* The kernel cuts strings at the buffer's end with a NUL, but a record is
 * still checked rather than trusted. */
static void terminate(char *text, size_t size)
{
	text[size - 1] = '\0';
}

int sensor_event_decode(const void *data, size_t len, struct sensor_event *ret_event,
	struct wd_error *err)
{
	struct sensor_event_header header;
	size_t expected;

	memset(ret_event, 0, sizeof(*ret_event));
	if (len < sizeof(header))
		return wd_error_set(err, WD_ETRUNCATED,
			"sensor record of %zu bytes is shorter than its %zu-byte header", len,
			sizeof(header));
	memcpy(&header, data, sizeof(header));
	if (!sensor_event_type_name(header.type))
		return wd_error_set(err, WD_EINVAL, "sensor record has unknown type %u",
			header.type);
	expected = types[header.type].record_size;
	if (len < expected)
		return wd_error_set(err, WD_ETRUNCATED,
			"sensor %s record of %zu bytes is shorter than %zu", types[header.type].name,
			len, expected);
	if (header.size != expected)
		return wd_error_set(err, WD_EINVAL,
			"sensor %s record says it has %u bytes, expected %zu",
			types[header.type].name, header.size, expected);

	/* The payload union follows the header exactly as in the records. */
	memcpy(ret_event, data, expected);
	terminate(ret_event->header.comm, sizeof(ret_event->header.comm));
	if (header.type == SENSOR_EVENT_EXEC)
		terminate(ret_event->exec.filename, sizeof(ret_event->exec.filename));
	else if (header.type == SENSOR_EVENT_OPEN)
		terminate(ret_event->open.path, sizeof(ret_event->open.path));
	return 0;
}

static int parse_one(const char *name, size_t len, unsigned *mask, struct wd_error *err)
{
	if (len == 0)
		return wd_error_set(err, WD_EINVAL, "empty event type in the list");
	if (len == 3 && !memcmp(name, "all", 3)) {
		*mask |= SENSOR_TYPES_ALL;
		return 0;
	}
	for (uint32_t type = 1; type < SENSOR_EVENT_TYPE_COUNT; type++) {
		if (strlen(types[type].name) == len && !memcmp(types[type].name, name, len)) {
			*mask |= SENSOR_TYPE_BIT(type);
			return 0;
		}
	}
	return wd_error_set(err, WD_EINVAL,
		"unknown event type '%.*s' (expected exec, fork, exit, open, connect or all)",
		(int)len, name);
}

int sensor_types_parse(const char *list, unsigned *ret_mask, struct wd_error *err)
{
	unsigned mask = 0;
	size_t total = strnlen(list, TYPES_LIST_MAX + 1);
	const char *item = list;

	if (total > TYPES_LIST_MAX)
		return wd_error_set(err, WD_ETOOBIG, "event type list is longer than %d bytes",
			TYPES_LIST_MAX);
	for (;;) {
		const char *comma = strchr(item, ',');
		size_t len = comma ? (size_t)(comma - item) : strlen(item);

		WD_TRY(parse_one(item, len, &mask, err));
		if (!comma)
			break;
		item = comma + 1;
	}
	*ret_mask = mask;
	return 0;
}

/* Returns a JSON string of text, with every non-ASCII byte replaced by
 * '?' when text is not valid UTF-8. */
static json_t *string_value(const char *text)
{
	char safe[SENSOR_PATH_LEN];
	size_t i;
	json_t *value = json_string(text);

	if (value)
		return value;
	for (i = 0; text[i] && i + 1 < sizeof(safe); i++)
		safe[i] = (unsigned char)text[i] < 0x80 ? text[i] : '?';
	safe[i] = '\0';
	return json_string(safe);
}

static int set(json_t *object, const char *key, json_t *value)
{
	return json_object_set_new(object, key, value);
}

static int add_payload(json_t *object, const struct sensor_event *event)
{
	int failed = 0;

	switch (event->header.type) {
	case SENSOR_EVENT_EXEC:
		failed |= set(object, "filename", string_value(event->exec.filename));
		failed |= set(object, "old_tid", json_integer(event->exec.old_tid));
		break;
	case SENSOR_EVENT_FORK:
		failed |= set(object, "child_pid", json_integer(event->fork.child_pid));
		failed |= set(object, "child_tid", json_integer(event->fork.child_tid));
		break;
	case SENSOR_EVENT_EXIT:
		failed |= set(object, "exit_code", json_integer(event->exit.exit_code));
		break;
	case SENSOR_EVENT_OPEN:
		failed |= set(object, "path", string_value(event->open.path));
		failed |= set(object, "dfd", json_integer(event->open.dfd));
		failed |= set(object, "flags", json_integer(event->open.flags));
		failed |= set(object, "mode", json_integer(event->open.mode));
		failed |= set(object, "ret", json_integer(event->open.ret));
		break;
	case SENSOR_EVENT_CONNECT: {
		char address[INET6_ADDRSTRLEN] = "";
		int family = event->connect.family == 10 ? AF_INET6 : AF_INET;

		inet_ntop(family, event->connect.addr, address, sizeof(address));
		failed |= set(object, "fd", json_integer(event->connect.fd));
		failed |= set(object, "family", json_string(family == AF_INET6 ? "inet6" : "inet"));
		failed |= set(object, "address", json_string(address));
		failed |= set(object, "port", json_integer(event->connect.port));
		break;
	}
	default:
		return -1;
	}
	return failed ? -1 : 0;
}

json_t *sensor_event_to_json(const struct sensor_event *event)
{
	const struct sensor_event_header *header = &event->header;
	const char *name = sensor_event_type_name(header->type);
	json_t *object = json_object();
	int failed = 0;

	if (!object || !name) {
		json_decref(object);
		return NULL;
	}
	failed |= set(object, "type", json_string(name));
	failed |= set(object, "timestamp_ns", json_integer((json_int_t)header->timestamp_ns));
	failed |= set(object, "pid", json_integer(header->pid));
	failed |= set(object, "tid", json_integer(header->tid));
	failed |= set(object, "ppid", json_integer(header->ppid));
	failed |= set(object, "uid", json_integer(header->uid));
	failed |= set(object, "gid", json_integer(header->gid));
	failed |= set(object, "cgroup_id", json_integer((json_int_t)header->cgroup_id));
	failed |= set(object, "comm", string_value(header->comm));
	if (failed || add_payload(object, event) < 0) {
		json_decref(object);
		return NULL;
	}
	return object;
}
