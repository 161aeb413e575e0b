/* Unit tests of sensor_event.c: decoding of ring buffer records built here
 * byte for byte, hostile sizes and types, the --types list and the JSON
 * form of each event type. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sensor/sensor_event.h"

static void fill_header(struct sensor_event_header *header, uint32_t type, uint32_t size)
{
	memset(header, 0, sizeof(*header));
	header->type = type;
	header->size = size;
	header->timestamp_ns = 123456789012ULL;
	header->cgroup_id = 42;
	header->pid = 1000;
	header->tid = 1001;
	header->ppid = 999;
	header->uid = 0;
	header->gid = 5;
	memcpy(header->comm, "true", 5);
}

static char *event_json(const struct sensor_event *event)
{
	json_t *object = sensor_event_to_json(event);
	char *text;

	assert_non_null(object);
	text = json_dumps(object, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(object);
	assert_non_null(text);
	return text;
}

static void test_header_layout(void **state)
{
	(void)state;
	/* The kernel and user space share these offsets; a change is an ABI
	 * break between sensor.bpf.o and the decoder. */
	assert_int_equal(sizeof(struct sensor_event_header), 64);
	assert_int_equal(offsetof(struct sensor_event_header, timestamp_ns), 8);
	assert_int_equal(offsetof(struct sensor_event_header, pid), 24);
	assert_int_equal(offsetof(struct sensor_event_header, comm), 48);
	assert_int_equal(sizeof(struct sensor_exec_record), 64 + 8 + SENSOR_PATH_LEN);
	assert_int_equal(sizeof(struct sensor_open_record), 64 + 16 + SENSOR_PATH_LEN);
	assert_int_equal(sizeof(struct sensor_connect_record), 64 + 24);
}

static void test_decode_exec(void **state)
{
	struct sensor_exec_record record;
	struct sensor_event event;
	struct wd_error err = { 0 };
	char *text;

	(void)state;
	memset(&record, 0, sizeof(record));
	fill_header(&record.header, SENSOR_EVENT_EXEC, sizeof(record));
	record.exec.old_tid = 1001;
	memcpy(record.exec.filename, "/bin/true", 10);

	assert_int_equal(sensor_event_decode(&record, sizeof(record), &event, &err), 0);
	assert_int_equal(event.header.type, SENSOR_EVENT_EXEC);
	assert_int_equal(event.header.pid, 1000);
	assert_string_equal(event.header.comm, "true");
	assert_string_equal(event.exec.filename, "/bin/true");

	text = event_json(&event);
	assert_string_equal(text,
		"{\"type\":\"exec\",\"timestamp_ns\":123456789012,\"pid\":1000,\"tid\":1001,"
		"\"ppid\":999,\"uid\":0,\"gid\":5,\"cgroup_id\":42,\"comm\":\"true\","
		"\"filename\":\"/bin/true\",\"old_tid\":1001}");
	free(text);
}

static void test_decode_open(void **state)
{
	struct sensor_open_record record;
	struct sensor_event event;
	char *text;

	(void)state;
	memset(&record, 0, sizeof(record));
	fill_header(&record.header, SENSOR_EVENT_OPEN, sizeof(record));
	record.open.dfd = -100;
	record.open.flags = 0101;
	record.open.mode = 0600;
	record.open.ret = -13;
	memcpy(record.open.path, "/etc/shadow", 12);

	assert_int_equal(sensor_event_decode(&record, sizeof(record), &event, NULL), 0);
	text = event_json(&event);
	assert_non_null(strstr(text, "\"path\":\"/etc/shadow\",\"dfd\":-100,\"flags\":65,"
		"\"mode\":384,\"ret\":-13}"));
	free(text);
}

static void test_decode_fork_exit_connect(void **state)
{
	struct sensor_fork_record fork_record;
	struct sensor_exit_record exit_record;
	struct sensor_connect_record connect_record;
	struct sensor_event event;
	char *text;

	(void)state;
	fill_header(&fork_record.header, SENSOR_EVENT_FORK, sizeof(fork_record));
	fork_record.fork.child_pid = 2000;
	fork_record.fork.child_tid = 2001;
	assert_int_equal(sensor_event_decode(&fork_record, sizeof(fork_record), &event, NULL), 0);
	text = event_json(&event);
	assert_non_null(strstr(text, "\"child_pid\":2000,\"child_tid\":2001}"));
	free(text);

	fill_header(&exit_record.header, SENSOR_EVENT_EXIT, sizeof(exit_record));
	exit_record.exit.exit_code = 256;
	exit_record.exit.reserved = 0;
	assert_int_equal(sensor_event_decode(&exit_record, sizeof(exit_record), &event, NULL), 0);
	text = event_json(&event);
	assert_non_null(strstr(text, "\"type\":\"exit\""));
	assert_non_null(strstr(text, "\"exit_code\":256}"));
	free(text);

	memset(&connect_record, 0, sizeof(connect_record));
	fill_header(&connect_record.header, SENSOR_EVENT_CONNECT, sizeof(connect_record));
	connect_record.connect.fd = 3;
	connect_record.connect.family = 2;
	connect_record.connect.port = 8443;
	memcpy(connect_record.connect.addr, (uint8_t[]){ 127, 0, 0, 1 }, 4);
	assert_int_equal(sensor_event_decode(&connect_record, sizeof(connect_record), &event,
		NULL), 0);
	text = event_json(&event);
	assert_non_null(strstr(text,
		"\"fd\":3,\"family\":\"inet\",\"address\":\"127.0.0.1\",\"port\":8443}"));
	free(text);

	connect_record.connect.family = 10;
	memset(connect_record.connect.addr, 0, 16);
	connect_record.connect.addr[15] = 1;
	assert_int_equal(sensor_event_decode(&connect_record, sizeof(connect_record), &event,
		NULL), 0);
	text = event_json(&event);
	assert_non_null(strstr(text, "\"family\":\"inet6\",\"address\":\"::1\""));
	free(text);
}

static void test_decode_rejects_short_and_unknown(void **state)
{
	struct sensor_open_record record;
	struct sensor_event event;
	struct wd_error err = { 0 };

	(void)state;
	memset(&record, 0, sizeof(record));
	fill_header(&record.header, SENSOR_EVENT_OPEN, sizeof(record));

	assert_int_equal(sensor_event_decode(&record, 63, &event, &err), WD_ETRUNCATED);
	assert_string_equal(err.detail,
		"sensor record of 63 bytes is shorter than its 64-byte header");
	assert_int_equal(event.header.type, 0);

	assert_int_equal(sensor_event_decode(&record, sizeof(record) - 1, &event, &err),
		WD_ETRUNCATED);
	assert_string_equal(err.detail, "sensor open record of 335 bytes is shorter than 336");

	record.header.size = 100;
	assert_int_equal(sensor_event_decode(&record, sizeof(record), &event, &err), WD_EINVAL);
	assert_string_equal(err.detail, "sensor open record says it has 100 bytes, expected 336");

	record.header.type = 0;
	assert_int_equal(sensor_event_decode(&record, sizeof(record), &event, &err), WD_EINVAL);
	assert_string_equal(err.detail, "sensor record has unknown type 0");
	record.header.type = SENSOR_EVENT_TYPE_COUNT;
	assert_int_equal(sensor_event_decode(&record, sizeof(record), &event, &err), WD_EINVAL);
	assert_string_equal(err.detail, "sensor record has unknown type 6");
}

static void test_decode_terminates_strings(void **state)
{
	struct sensor_open_record record;
	struct sensor_event event;

	(void)state;
	memset(&record, 'A', sizeof(record));
	fill_header(&record.header, SENSOR_EVENT_OPEN, sizeof(record));
	memset(record.header.comm, 'B', sizeof(record.header.comm));

	assert_int_equal(sensor_event_decode(&record, sizeof(record), &event, NULL), 0);
	assert_int_equal(strlen(event.header.comm), SENSOR_COMM_LEN - 1);
	assert_int_equal(strlen(event.open.path), SENSOR_PATH_LEN - 1);
}

static void test_json_replaces_invalid_utf8(void **state)
{
	struct sensor_exec_record record;
	struct sensor_event event;
	char *text;

	(void)state;
	memset(&record, 0, sizeof(record));
	fill_header(&record.header, SENSOR_EVENT_EXEC, sizeof(record));
	memcpy(record.exec.filename, "/tmp/a\xff\xfe", 9);
	assert_int_equal(sensor_event_decode(&record, sizeof(record), &event, NULL), 0);
	text = event_json(&event);
	assert_non_null(strstr(text, "\"filename\":\"/tmp/a??\""));
	free(text);
}

static void test_types_parse(void **state)
{
	struct wd_error err = { 0 };
	unsigned mask = 7;
	char long_list[300];

	(void)state;
	assert_int_equal(sensor_types_parse("exec,open", &mask, &err), 0);
	assert_int_equal(mask, SENSOR_TYPE_BIT(SENSOR_EVENT_EXEC) |
		SENSOR_TYPE_BIT(SENSOR_EVENT_OPEN));
	assert_int_equal(sensor_types_parse("connect", &mask, &err), 0);
	assert_int_equal(mask, 1u << 5);
	assert_int_equal(sensor_types_parse("all", &mask, &err), 0);
	assert_int_equal(mask, 0x3eu);
	assert_int_equal(sensor_types_parse("exit,exit,fork", &mask, &err), 0);
	assert_int_equal(mask, (1u << 3) | (1u << 2));

	mask = 7;
	assert_int_equal(sensor_types_parse("exec,opn", &mask, &err), WD_EINVAL);
	assert_string_equal(err.detail,
		"unknown event type 'opn' (expected exec, fork, exit, open, connect or all)");
	assert_int_equal(mask, 7);
	assert_int_equal(sensor_types_parse("exec,", &mask, &err), WD_EINVAL);
	assert_string_equal(err.detail, "empty event type in the list");
	assert_int_equal(sensor_types_parse("", &mask, &err), WD_EINVAL);
	assert_int_equal(sensor_types_parse("execute", &mask, &err), WD_EINVAL);
	assert_int_equal(sensor_types_parse("EXEC", &mask, &err), WD_EINVAL);

	memset(long_list, 'a', sizeof(long_list) - 1);
	long_list[sizeof(long_list) - 1] = '\0';
	assert_int_equal(sensor_types_parse(long_list, &mask, &err), WD_ETOOBIG);
	assert_int_equal(mask, 7);
}

static void test_type_names(void **state)
{
	(void)state;
	assert_string_equal(sensor_event_type_name(SENSOR_EVENT_EXEC), "exec");
	assert_string_equal(sensor_event_type_name(SENSOR_EVENT_CONNECT), "connect");
	assert_null(sensor_event_type_name(0));
	assert_null(sensor_event_type_name(SENSOR_EVENT_TYPE_COUNT));
	assert_null(sensor_event_type_name(UINT32_MAX));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_layout),
		cmocka_unit_test(test_decode_exec),
		cmocka_unit_test(test_decode_open),
		cmocka_unit_test(test_decode_fork_exit_connect),
		cmocka_unit_test(test_decode_rejects_short_and_unknown),
		cmocka_unit_test(test_decode_terminates_strings),
		cmocka_unit_test(test_json_replaces_invalid_utf8),
		cmocka_unit_test(test_types_parse),
		cmocka_unit_test(test_type_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
