/* Unit tests for structured log lines: layout, escaping that stops forged
 * lines and fields, JSON output, truncation and concurrent writers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/error.h"
#include "common/log.h"

/* Length of "2026-12-04T20:43:50.123Z ". */
#define TIME_PREFIX_LEN 25

static FILE *capture;

static int capture_setup(void **state)
{
	(void)state;
	capture = tmpfile();
	if (!capture)
		return -1;
	log_configure(capture, LOG_FORMAT_TEXT, LOG_LEVEL_INFO);
	return 0;
}

static int capture_teardown(void **state)
{
	(void)state;
	log_configure(NULL, LOG_FORMAT_TEXT, LOG_LEVEL_INFO);
	fclose(capture);
	capture = NULL;
	return 0;
}

/* Returns everything written so far, malloc'd, and empties the capture. */
static char *captured(void)
{
	long size;
	char *text;

	fflush(capture);
	size = ftell(capture);
	text = calloc(1, (size_t)size + 1);
	rewind(capture);
	assert_int_equal(fread(text, 1, (size_t)size, capture), (size_t)size);
	assert_int_equal(ftruncate(fileno(capture), 0), 0);
	rewind(capture);
	return text;
}

static void log_text_line_layout(void **state)
{
	char *text;

	(void)state;
	log_info("identity", "svid issued", "spiffe_id", "spiffe://x/y", "serial", "ab");
	text = captured();
	assert_int_equal(strlen(text), TIME_PREFIX_LEN + 59);
	assert_int_equal(text[4], '-');
	assert_int_equal(text[10], 'T');
	assert_int_equal(text[23], 'Z');
	assert_string_equal(text + TIME_PREFIX_LEN,
		"INFO identity svid issued spiffe_id=spiffe://x/y serial=ab\n");
	free(text);
}

static void log_level_filters(void **state)
{
	char *text;

	(void)state;
	log_debug("agent", "cache miss", "entry_id", "e1");
	text = captured();
	assert_string_equal(text, "");
	free(text);

	log_configure(capture, LOG_FORMAT_TEXT, LOG_LEVEL_DEBUG);
	log_debug("agent", "cache miss", "entry_id", "e1");
	log_error("agent", "attestation failed", "pid", "42");
	text = captured();
	assert_non_null(strstr(text, " DEBUG agent cache miss entry_id=e1\n"));
	assert_non_null(strstr(text, " ERROR agent attestation failed pid=42\n"));
	free(text);
}

static void log_text_values_escaped(void **state)
{
	char *text;

	(void)state;
	log_warn("proxy", "peer rejected",
		"spiffe_id", "x\n2026-12-04T20:43:50.123Z ERROR forged msg",
		"quote", "say \"hi\" \\ now",
		"eq", "a=b",
		"empty", "",
		"null", NULL,
		"bytes", "\xff\x1b[31m",
		"separator", "a\xe2\x80\xa8" "b",
		"bad key=", "v",
		"utf8", "caf\xc3\xa9");
	text = captured();
	assert_string_equal(text + TIME_PREFIX_LEN,
		"WARN proxy peer rejected"
		" spiffe_id=\"x\\n2026-12-04T20:43:50.123Z ERROR forged msg\""
		" quote=\"say \\\"hi\\\" \\\\ now\""
		" eq=\"a=b\""
		" empty=\"\""
		" null=\"\""
		" bytes=\"\\xff\\u001b[31m\""
		" separator=\"a\\u2028b\""
		" bad_key_=v"
		" utf8=caf\xc3\xa9\n");
	/* Exactly one line came out. */
	assert_ptr_equal(strchr(text, '\n'), text + strlen(text) - 1);
	free(text);
}

static void log_text_message_quoted(void **state)
{
	char *text;

	(void)state;
	log_info("co mp", "done x=1", "k", "v");
	text = captured();
	assert_string_equal(text + TIME_PREFIX_LEN, "INFO \"co mp\" \"done x=1\" k=v\n");
	free(text);
}

static void log_json_line(void **state)
{
	json_error_t error;
	json_t *record;
	char *text;

	(void)state;
	log_configure(capture, LOG_FORMAT_JSON, LOG_LEVEL_INFO);
	log_info("identity", "svid issued", "spiffe_id", "spiffe://x/y", "msg", "forged",
		"level", "debug", "note", "line\nbreak \xff", "gone", NULL);
	text = captured();
	assert_int_equal(text[strlen(text) - 1], '\n');
	assert_ptr_equal(strchr(text, '\n'), text + strlen(text) - 1);
	assert_memory_equal(text, "{\"time\":\"", 9);

	record = json_loads(text, 0, &error);
	assert_non_null(record);
	assert_string_equal(json_string_value(json_object_get(record, "level")), "info");
	assert_string_equal(json_string_value(json_object_get(record, "component")), "identity");
	assert_string_equal(json_string_value(json_object_get(record, "msg")), "svid issued");
	assert_string_equal(json_string_value(json_object_get(record, "spiffe_id")), "spiffe://x/y");
	assert_string_equal(json_string_value(json_object_get(record, "field.msg")), "forged");
	assert_string_equal(json_string_value(json_object_get(record, "field.level")), "debug");
	assert_string_equal(json_string_value(json_object_get(record, "note")),
		"line\nbreak \xef\xbf\xbd");
	assert_true(json_is_null(json_object_get(record, "gone")));
	assert_int_equal(strlen(json_string_value(json_object_get(record, "time"))), 24);
	json_decref(record);
	free(text);
}

static void log_long_value_truncated(void **state)
{
	char *big = malloc(40000);
	char *text;

	(void)state;
	memset(big, 'v', 39999);
	big[39999] = '\0';
	log_info("audit", "record", "small", "1", "big", big, "after", "2");
	text = captured();
	assert_string_equal(text + TIME_PREFIX_LEN, "INFO audit record small=1 log_truncated=true\n");
	free(text);

	log_configure(capture, LOG_FORMAT_JSON, LOG_LEVEL_INFO);
	log_info("audit", "record", "big", big);
	text = captured();
	assert_non_null(strstr(text, "\"msg\":\"record\",\"log_truncated\":true}\n"));
	free(text);
	free(big);
}

static void log_parse_names(void **state)
{
	enum log_level level;
	enum log_format format;

	(void)state;
	assert_int_equal(log_level_parse("warn", &level), 0);
	assert_int_equal(level, LOG_LEVEL_WARN);
	assert_int_equal(log_level_parse("debug", &level), 0);
	assert_int_equal(level, LOG_LEVEL_DEBUG);
	assert_int_equal(log_level_parse("WARN", &level), WD_EINVAL);
	assert_int_equal(log_level_parse("", &level), WD_EINVAL);
	assert_int_equal(log_level_parse(NULL, &level), WD_EINVAL);
	assert_int_equal(log_format_parse("json", &format), 0);
	assert_int_equal(format, LOG_FORMAT_JSON);
	assert_int_equal(log_format_parse("text", &format), 0);
	assert_int_equal(format, LOG_FORMAT_TEXT);
	assert_int_equal(log_format_parse("xml", &format), WD_EINVAL);
}

#define WRITER_THREADS 8
#define WRITER_LINES 200

static void *writer(void *arg)
{
	char id[16];

	snprintf(id, sizeof(id), "%d", *(int *)arg);
	for (int i = 0; i < WRITER_LINES; i++)
		log_info("sensor", "event", "thread", id, "payload",
			"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "end", "1");
	return NULL;
}

static void log_threads_never_interleave(void **state)
{
	pthread_t threads[WRITER_THREADS];
	int ids[WRITER_THREADS];
	char *text, *line, *save = NULL;
	int lines = 0;

	(void)state;
	for (int i = 0; i < WRITER_THREADS; i++) {
		ids[i] = i;
		assert_int_equal(pthread_create(&threads[i], NULL, writer, &ids[i]), 0);
	}
	for (int i = 0; i < WRITER_THREADS; i++)
		assert_int_equal(pthread_join(threads[i], NULL), 0);

	text = captured();
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		assert_non_null(strstr(line, " INFO sensor event thread="));
		assert_int_equal(strlen(line), TIME_PREFIX_LEN + 105);
		assert_string_equal(line + strlen(line) - 6, " end=1");
		lines++;
	}
	assert_int_equal(lines, WRITER_THREADS * WRITER_LINES);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(log_text_line_layout, capture_setup, capture_teardown),
		cmocka_unit_test_setup_teardown(log_level_filters, capture_setup, capture_teardown),
		cmocka_unit_test_setup_teardown(log_text_values_escaped, capture_setup, capture_teardown),
		cmocka_unit_test_setup_teardown(log_text_message_quoted, capture_setup, capture_teardown),
		cmocka_unit_test_setup_teardown(log_json_line, capture_setup, capture_teardown),
		cmocka_unit_test_setup_teardown(log_long_value_truncated, capture_setup,
			capture_teardown),
		cmocka_unit_test(log_parse_names),
		cmocka_unit_test_setup_teardown(log_threads_never_interleave, capture_setup,
			capture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
