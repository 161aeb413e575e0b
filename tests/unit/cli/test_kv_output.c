/* Unit tests for the output and the data arguments of `warden kv`: the
 * vault CLI's headers, tables, Go %v and JSON formatting, and key=value
 * parsing with files and standard input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/cmd_kv.h"

struct capture {
	char *text;
	size_t len;
	FILE *out;
};

static void capture_start(struct capture *capture)
{
	capture->text = NULL;
	capture->len = 0;
	capture->out = open_memstream(&capture->text, &capture->len);
	assert_non_null(capture->out);
}

/* Closes the stream and compares its text with expected. */
static void capture_check(struct capture *capture, const char *expected)
{
	assert_int_equal(fclose(capture->out), 0);
	assert_string_equal(capture->text, expected);
	free(capture->text);
}

static json_t *parse(const char *text)
{
	json_t *value = json_loads(text, JSON_DECODE_ANY, NULL);

	assert_non_null(value);
	return value;
}

static void check_value(const char *json, const char *expected)
{
	json_t *value = parse(json);
	struct wd_buf text;

	wd_buf_init(&text, 16, 4096);
	assert_int_equal(kv_format_value(value, &text), 0);
	assert_string_equal(wd_buf_str(&text), expected);
	wd_buf_free(&text);
	json_decref(value);
}

static void value_follows_go_formatting(void **state)
{
	(void)state;
	check_value("\"text\"", "text");
	check_value("12", "12");
	check_value("1.5", "1.5");
	check_value("0.1", "0.1");
	check_value("true", "true");
	check_value("null", "<nil>");
	check_value("[1, \"a\", null]", "[1 a <nil>]");
	check_value("{\"b\": 1, \"a\": {\"y\": [], \"x\": \"z\"}}", "map[a:map[x:z y:[]] b:1]");
	check_value("{}", "map[]");
}

static void path_header_is_padded(void **state)
{
	struct capture capture;

	(void)state;
	capture_start(&capture);
	kv_print_path(capture.out, "Secret Path", "secret/data/app");
	capture_check(&capture, "= Secret Path =\nsecret/data/app\n\n");

	/* 19 bytes leave 6 signs; 4 is the least, and an odd count rounds up. */
	capture_start(&capture);
	kv_print_path(capture.out, "Secret Path", "secret/data/cli/app");
	capture_check(&capture, "=== Secret Path ===\nsecret/data/cli/app\n\n");
	capture_start(&capture);
	kv_print_path(capture.out, "Secret Path", "kv/a");
	capture_check(&capture, "== Secret Path ==\nkv/a\n\n");
	capture_start(&capture);
	kv_print_path(capture.out, "Secret Path", "secret/data/apps");
	capture_check(&capture, "== Secret Path ==\nsecret/data/apps\n\n");
}

static void map_header_follows_longest_key(void **state)
{
	json_t *map = parse("{\"custom_metadata\": null, \"version\": 1}");
	json_t *small = parse("{\"a\": 1}");
	struct capture capture;

	(void)state;
	capture_start(&capture);
	kv_print_map_header(capture.out, "Metadata", map);
	capture_check(&capture, "======= Metadata =======\n");
	capture_start(&capture);
	kv_print_map_header(capture.out, "Data", small);
	capture_check(&capture, "== Data ==\n");
	json_decref(map);
	json_decref(small);
}

static void table_sorts_pads_and_fills(void **state)
{
	json_t *map = parse("{\"user\": \"admin\", \"password\": \"  x  \", \"empty\": \"\","
			    " \"ttl\": 3600, \"max_ttl\": 90, \"nested\": {\"k\": [1, 2]},"
			    " \"ünï\": \"v\"}");
	struct capture capture;

	(void)state;
	capture_start(&capture);
	assert_int_equal(kv_print_table(capture.out, map), 0);
	capture_check(&capture,
		"Key         Value\n"
		"---         -----\n"
		"empty       n/a\n"
		"max_ttl     1m30s\n"
		"nested      map[k:[1 2]]\n"
		"password    x\n"
		"ttl         1h\n"
		"user        admin\n"
		"ünï         v\n");
	json_decref(map);

	map = parse("{}");
	capture_start(&capture);
	assert_int_equal(kv_print_table(capture.out, map), 0);
	capture_check(&capture, "");
	json_decref(map);
}

static void duration_keys_drop_zero_parts(void **state)
{
	json_t *map = parse("{\"ttl\": 3601, \"a_ttl\": 2764800, \"period\": 0, \"duration\": 61,"
			    " \"lease_duration\": \"5\"}");
	struct capture capture;

	(void)state;
	capture_start(&capture);
	assert_int_equal(kv_print_table(capture.out, map), 0);
	capture_check(&capture,
		"Key               Value\n"
		"---               -----\n"
		"a_ttl             768h\n"
		"duration          1m1s\n"
		"lease_duration    5\n"
		"period            0s\n"
		"ttl               1h1s\n");
	json_decref(map);
}

static void keys_print_sorted(void **state)
{
	json_t *keys = parse("[\"b/\", \"a\", \"c\"]");
	struct capture capture;

	(void)state;
	capture_start(&capture);
	assert_int_equal(kv_print_keys(capture.out, keys), 0);
	capture_check(&capture, "Keys\n----\na\nb/\nc\n");
	json_decref(keys);
}

static void json_matches_go_encoder(void **state)
{
	json_t *value = parse("{\"b\": [], \"a\": {\"x\": \"<&>\\n\\u0001\\b\\u2028\"}, \"c\": {},"
			      " \"d\": [1, 2.5, true, null]}");
	struct capture capture;

	(void)state;
	capture_start(&capture);
	assert_int_equal(kv_print_json(capture.out, value), 0);
	capture_check(&capture,
		"{\n"
		"  \"a\": {\n"
		"    \"x\": \"\\u003c\\u0026\\u003e\\n\\u0001\\b\\u2028\"\n"
		"  },\n"
		"  \"b\": [],\n"
		"  \"c\": {},\n"
		"  \"d\": [\n"
		"    1,\n"
		"    2.5,\n"
		"    true,\n"
		"    null\n"
		"  ]\n"
		"}\n");
	json_decref(value);
}

static void secret_json_keeps_field_order(void **state)
{
	json_t *response = parse("{\"wrap_info\": null, \"warnings\": [\"w\"], \"data\": {\"k\": 1},"
				 " \"request_id\": \"r\", \"auth\": null, \"lease_duration\": 60,"
				 " \"renewable\": false, \"lease_id\": \"\", \"mount_type\": \"kv\"}");
	json_t *bare = parse("{}");
	struct capture capture;

	(void)state;
	capture_start(&capture);
	assert_int_equal(kv_print_secret_json(capture.out, response), 0);
	capture_check(&capture,
		"{\n"
		"  \"request_id\": \"r\",\n"
		"  \"lease_id\": \"\",\n"
		"  \"lease_duration\": 60,\n"
		"  \"renewable\": false,\n"
		"  \"data\": {\n"
		"    \"k\": 1\n"
		"  },\n"
		"  \"warnings\": [\n"
		"    \"w\"\n"
		"  ],\n"
		"  \"mount_type\": \"kv\"\n"
		"}\n");

	/* Absent fields print Go's zero values. */
	capture_start(&capture);
	assert_int_equal(kv_print_secret_json(capture.out, bare), 0);
	capture_check(&capture,
		"{\n"
		"  \"request_id\": \"\",\n"
		"  \"lease_id\": \"\",\n"
		"  \"lease_duration\": 0,\n"
		"  \"renewable\": false,\n"
		"  \"data\": null,\n"
		"  \"warnings\": null\n"
		"}\n");
	json_decref(response);
	json_decref(bare);
}

static void target_paths_per_version(void **state)
{
	struct kv_target v2 = { .mount = "secret/", .version = 2, .key = "app/db" };
	struct kv_target v1 = { .mount = "kv/", .version = 1, .key = "app/db" };
	char path[64];

	(void)state;
	assert_int_equal(kv_target_path(&v2, "data", path, sizeof(path)), 0);
	assert_string_equal(path, "secret/data/app/db");
	assert_int_equal(kv_target_path(&v2, "metadata", path, sizeof(path)), 0);
	assert_string_equal(path, "secret/metadata/app/db");
	assert_int_equal(kv_target_path(&v1, "data", path, sizeof(path)), 0);
	assert_string_equal(path, "kv/app/db");
	assert_int_equal(kv_target_path(&v2, "data", path, 10), WD_ETOOBIG);
}

/* Writes text to a new temporary file and returns its path (static). */
static const char *temp_file(const char *text)
{
	static char path[64];
	FILE *file;
	int fd;

	snprintf(path, sizeof(path), "/tmp/wd-kv-args-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	file = fdopen(fd, "w");
	assert_non_null(file);
	fputs(text, file);
	assert_int_equal(fclose(file), 0);
	return path;
}

static void data_args_build_object(void **state)
{
	const char *file = temp_file("from-file\n");
	char file_arg[96];
	char *args[4];
	FILE *in = fmemopen((void *)"from-stdin", 10, "r");
	struct wd_error err;
	json_t *data = NULL;

	(void)state;
	snprintf(file_arg, sizeof(file_arg), "b=@%s", file);
	args[0] = "a=1=2";
	args[1] = file_arg;
	args[2] = "c=-";
	args[3] = "d=";
	assert_int_equal(kv_parse_data(args, 4, in, &data, &err), 0);
	assert_string_equal(json_string_value(json_object_get(data, "a")), "1=2");
	assert_string_equal(json_string_value(json_object_get(data, "b")), "from-file\n");
	assert_string_equal(json_string_value(json_object_get(data, "c")), "from-stdin");
	assert_string_equal(json_string_value(json_object_get(data, "d")), "");
	assert_int_equal(json_object_size(data), 4);
	json_decref(data);
	fclose(in);
	unlink(file);
}

static void data_args_read_json_objects(void **state)
{
	const char *file = temp_file("{\"x\": {\"y\": 1}}");
	char file_arg[96];
	char *args[3];
	FILE *in = fmemopen((void *)"{\"z\": true}", 11, "r");
	struct wd_error err;
	json_t *data = NULL;

	(void)state;
	snprintf(file_arg, sizeof(file_arg), "@%s", file);
	args[0] = file_arg;
	args[1] = "-";
	args[2] = "k=v";
	assert_int_equal(kv_parse_data(args, 3, in, &data, &err), 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(data, "x"), "y")), 1);
	assert_true(json_is_true(json_object_get(data, "z")));
	assert_string_equal(json_string_value(json_object_get(data, "k")), "v");
	json_decref(data);
	fclose(in);
	unlink(file);
}

static void data_args_reject_bad_input(void **state)
{
	char *novalue[] = { "k=v", "hunter2" };
	char *twice[] = { "k=v", "k=w" };
	char *stdin_twice[] = { "-", "a=-" };
	char *not_object[] = { "-" };
	FILE *in = fmemopen((void *)"{}", 2, "r");
	FILE *array = fmemopen((void *)"[1]", 3, "r");
	struct wd_error err;
	json_t *data = NULL;

	(void)state;
	assert_int_equal(kv_parse_data(novalue, 2, in, &data, &err), WD_EINVAL);
	assert_null(data);
	/* The message names the argument's position, never its text. */
	assert_string_equal(err.detail, "invalid data argument 2: expected key=value, key=@file, "
		"key=-, @file or -");
	assert_int_equal(kv_parse_data(twice, 2, in, &data, &err), WD_EINVAL);
	assert_string_equal(err.detail, "key \"k\" is given more than once");
	assert_int_equal(kv_parse_data(stdin_twice, 2, in, &data, &err), WD_EINVAL);
	assert_string_equal(err.detail, "standard input (-) can be read only once");
	assert_int_equal(kv_parse_data(not_object, 1, array, &data, &err), WD_EINVAL);
	assert_string_equal(err.detail, "standard input does not hold a JSON object");
	fclose(in);
	fclose(array);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(value_follows_go_formatting),
		cmocka_unit_test(path_header_is_padded),
		cmocka_unit_test(map_header_follows_longest_key),
		cmocka_unit_test(table_sorts_pads_and_fills),
		cmocka_unit_test(duration_keys_drop_zero_parts),
		cmocka_unit_test(keys_print_sorted),
		cmocka_unit_test(json_matches_go_encoder),
		cmocka_unit_test(secret_json_keeps_field_order),
		cmocka_unit_test(target_paths_per_version),
		cmocka_unit_test(data_args_build_object),
		cmocka_unit_test(data_args_read_json_objects),
		cmocka_unit_test(data_args_reject_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
