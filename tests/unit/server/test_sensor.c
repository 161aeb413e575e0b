/* Unit tests for the server's sensor endpoints: the sensor section of the
 * configuration, the selector matching of a revocation, and the checks and
 * audit detail of an alert. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "server/sensor_internal.h"

#define SENSOR_ID "spiffe://example.org/sensor"

/* ---- Configuration ---- */

static int load_config(const char *yaml, struct server_config *config, struct wd_error *err)
{
	char path[] = "/tmp/wd-sensor-config-XXXXXX";
	struct config_report report = { 0 };
	int fd = mkstemp(path);
	int rc;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
	close(fd);
	server_config_init(config);
	rc = server_config_load(path, config, &report);
	unlink(path);
	if (rc < 0) {
		wd_error_set(err, rc, "%s", report.count ? report.issues[0].text : "load failed");
		config_report_free(&report);
		return rc;
	}
	config_report_free(&report);
	return server_config_validate(config, err);
}

static void config_sensor_parsed(void **state)
{
	struct server_config config;
	struct wd_error err = { 0 };

	(void)state;
	assert_int_equal(load_config("trust_domain: example.org\n"
		"sensor:\n  spiffe_ids: [" SENSOR_ID ", spiffe://example.org/node/2/sensor]\n",
		&config, &err), 0);
	assert_int_equal(config.sensor.spiffe_ids.count, 2);
	assert_string_equal(config.sensor.spiffe_ids.items[0], SENSOR_ID);
	server_config_free(&config);

	/* Without the section no SVID is a sensor. */
	assert_int_equal(load_config("trust_domain: example.org\n", &config, &err), 0);
	assert_int_equal(config.sensor.spiffe_ids.count, 0);
	server_config_free(&config);
}

struct config_case {
	const char *yaml;
	const char *detail;
};

static const struct config_case config_cases[] = {
	{ "sensor:\n  spiffe_ids: [spiffe://other.org/sensor]\n",
	  "invalid sensor.spiffe_ids[0] 'spiffe://other.org/sensor': not in trust domain "
	  "example.org, whose CA the server checks sensors against" },
	{ "sensor:\n  spiffe_ids: [spiffe://example.org]\n",
	  "invalid sensor.spiffe_ids[0] 'spiffe://example.org': a path is required" },
	{ "sensor:\n  spiffe_ids: [" SENSOR_ID ", " SENSOR_ID "]\n",
	  "invalid sensor.spiffe_ids[1] '" SENSOR_ID "': listed twice" },
	{ "sensor:\n  spiffe_ids: ['']\n", "invalid sensor.spiffe_ids[0]: empty" },
	{ "sensor:\n  spiffe_ids: [spiffe://example.org/warden/agent/join_token/abc]\n",
	  "invalid sensor.spiffe_ids[0] 'spiffe://example.org/warden/agent/join_token/abc': a "
	  "node agent's ID; give the sensor an entry of its own" },
	{ "sensor:\n  spiffe_ids: [http://example.org/sensor]\n",
	  "invalid sensor.spiffe_ids[0] 'http://example.org/sensor': " },
	{ "sensor:\n  ids: [x]\n", "unknown key 'sensor.ids'" },
};

static void config_sensor_errors_named(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(config_cases) / sizeof(config_cases[0]); i++) {
		char yaml[512];
		struct server_config config;
		struct wd_error err = { 0 };

		snprintf(yaml, sizeof(yaml), "trust_domain: example.org\n%s", config_cases[i].yaml);
		if (load_config(yaml, &config, &err) == 0)
			fail_msg("case %zu loaded: %s", i, config_cases[i].yaml);
		if (!strstr(wd_error_text(&err), config_cases[i].detail))
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, wd_error_text(&err),
				config_cases[i].detail);
		server_config_free(&config);
	}
}

/* ---- Selector matching ---- */

static void subset_is_spire_rule(void **state)
{
	/* Sorted with strcmp, as the handler sorts the request. */
	const char *const workload[] = {
		"cgroup:/system.slice/app.service", "unix:gid:4343", "unix:path:/usr/bin/app",
		"unix:uid:4343",
	};
	char *uid[] = { "unix:uid:4343" };
	char *uid_path[] = { "unix:path:/usr/bin/app", "unix:uid:4343" };
	char *other_uid[] = { "unix:uid:4343", "unix:uid:0" };
	char *prefix[] = { "unix:uid:434" };
	size_t count = sizeof(workload) / sizeof(workload[0]);

	(void)state;
	assert_true(sensor_selectors_subset(uid, 1, workload, count));
	assert_true(sensor_selectors_subset(uid_path, 2, workload, count));
	assert_false(sensor_selectors_subset(other_uid, 2, workload, count));
	/* A selector is matched whole, never as a prefix. */
	assert_false(sensor_selectors_subset(prefix, 1, workload, count));
	/* An entry without selectors matches nothing. */
	assert_false(sensor_selectors_subset(NULL, 0, workload, count));
	assert_false(sensor_selectors_subset(uid, 1, NULL, 0));
}

/* ---- Alerts ---- */

static const char good_alert[] =
	"{\"rule\": \"Terminal shell in container\", \"priority\": \"Warning\","
	" \"output\": \"A shell was spawned\", \"time\": \"2026-12-05T11:00:00Z\","
	" \"hostname\": \"node-1\", \"source\": \"syscall\", \"tags\": [\"shell\"],"
	" \"output_fields\": {\"proc.name\": \"bash\", \"proc.pid\": 42, \"fd.name\": null},"
	" \"responses\": [{\"action\": \"kill\", \"outcome\": \"success\", \"pid\": 42}]}";

static json_t *parse(const char *text)
{
	json_error_t error;
	json_t *value = json_loads(text, JSON_DECODE_ANY, &error);

	if (!value)
		fail_msg("bad test JSON: %s", error.text);
	return value;
}

static void alert_accepted(void **state)
{
	json_t *alert = parse(good_alert);
	struct wd_error err = { 0 };
	const char *rule = NULL;
	char *detail = NULL;
	json_t *back;

	(void)state;
	assert_int_equal(sensor_alert_check(alert, &rule, &err), 0);
	assert_string_equal(rule, "Terminal shell in container");

	/* A small alert is recorded whole. */
	assert_int_equal(sensor_alert_detail(alert, &detail), 0);
	back = parse(detail);
	assert_true(json_equal(back, alert));
	json_decref(back);
	free(detail);

	/* Lowercase priorities, as some tools write them, are accepted too. */
	json_object_set_new(alert, "priority", json_string("critical"));
	assert_int_equal(sensor_alert_check(alert, &rule, &err), 0);
	json_decref(alert);
}

struct alert_case {
	const char *field;
	const char *value;       /* JSON text; NULL removes the field */
	const char *detail;
};

static const struct alert_case alert_cases[] = {
	{ "rule", NULL, "missing field \"rule\"" },
	{ "rule", "\"\"", "invalid \"rule\": empty" },
	{ "rule", "7", "field \"rule\" must be a string" },
	{ "priority", "\"Loud\"", "invalid \"priority\" \"Loud\": expected one of" },
	{ "output", NULL, "missing field \"output\"" },
	{ "time", NULL, "missing field \"time\"" },
	{ "tags", "[1]", "field \"tags\" item 0 must be a string" },
	{ "output_fields", "[]", "invalid \"output_fields\": expected an object" },
	{ "output_fields", "{\"a\": {\"b\": 1}}",
	  "invalid \"output_fields\".\"a\": expected a string, number, boolean or null" },
	{ "responses", "{}", "invalid \"responses\": expected an array" },
	{ "responses", "[1]", "invalid \"responses\"[0]: expected an object" },
	{ "responses", "[{\"outcome\": \"ok\"}]",
	  "invalid \"responses\"[0]: missing field \"action\"" },
	{ "responses", "[{\"action\": \"kill\", \"pid\": [1]}]",
	  "invalid \"responses\"[0] field \"pid\": expected a string" },
	{ "responses", "[{\"action\": \"kill\", \"why\": \"x\"}]",
	  "invalid \"responses\"[0]: unknown field \"why\"" },
	{ "uuid", "\"x\"", "unknown field \"uuid\"" },
};

static void alert_errors_named(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(alert_cases) / sizeof(alert_cases[0]); i++) {
		const struct alert_case *c = &alert_cases[i];
		json_t *alert = parse(good_alert);
		struct wd_error err = { 0 };
		const char *rule = "unset";

		if (c->value)
			json_object_set_new(alert, c->field, parse(c->value));
		else
			json_object_del(alert, c->field);
		assert_int_equal(sensor_alert_check(alert, &rule, &err), WD_EINVAL);
		assert_null(rule);
		if (!strstr(wd_error_text(&err), c->detail))
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, wd_error_text(&err), c->detail);
		json_decref(alert);
	}
}

/* The responder's audit record, as the sensor forwards it. */
static void response_checked(void **state)
{
	json_t *record = parse("{\"time\": \"2026-12-05T11:00:00Z\", \"type\": \"response\","
		" \"rule\": \"r\", \"action\": \"quarantine\", \"pid\": 7, \"target\": \"/sys/fs/cgroup/x\","
		" \"result\": \"error\", \"error\": \"permission denied\", \"hostname\": \"n\"}");
	struct wd_error err = { 0 };

	(void)state;
	assert_int_equal(sensor_response_check(record, &err), 0);
	json_object_del(record, "action");
	assert_int_equal(sensor_response_check(record, &err), WD_EINVAL);
	assert_string_equal(wd_error_text(&err),
		"invalid response record: missing field \"action\"");
	json_decref(record);
}

static void alert_bounds(void **state)
{
	json_t *alert = parse(good_alert);
	struct wd_error err = { 0 };
	const char *rule = NULL;
	json_t *fields = json_object();
	char name[32];
	char *big = malloc(9000);

	(void)state;
	memset(big, 'x', 8999);
	big[8999] = '\0';
	json_object_set_new(alert, "output", json_string(big));
	assert_int_equal(sensor_alert_check(alert, &rule, &err), WD_EINVAL);
	assert_string_equal(wd_error_text(&err), "field \"output\" is longer than 8192 bytes");
	json_object_set_new(alert, "output", json_string("ok"));

	for (int i = 0; i < 257; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		json_object_set_new(fields, name, json_integer(i));
	}
	json_object_set_new(alert, "output_fields", fields);
	assert_int_equal(sensor_alert_check(alert, &rule, &err), WD_EINVAL);
	assert_string_equal(wd_error_text(&err),
		"invalid \"output_fields\": 257 fields, at most 256");
	free(big);
	json_decref(alert);
}

/* An alert past AUDIT_FIELD_MAX keeps its summary and a cut output. */
static void alert_detail_truncated(void **state)
{
	json_t *alert = parse(good_alert);
	json_t *fields = json_object();
	char *value = malloc(4001);
	char long_output[6001];
	char name[32];
	char *detail = NULL;
	json_t *back;
	const char *output;

	(void)state;
	memset(value, 'v', 4000);
	value[4000] = '\0';
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "field.%d", i);
		json_object_set_new(fields, name, json_string(value));
	}
	json_object_set_new(alert, "output_fields", fields);
	/* Two-byte characters: the cut must fall between two of them. */
	for (size_t i = 0; i + 1 < 6001; i += 2)
		memcpy(long_output + i, "\xc3\xa9", 2);
	long_output[6000] = '\0';
	json_object_set_new(alert, "output", json_string(long_output));

	assert_int_equal(sensor_alert_detail(alert, &detail), 0);
	assert_true(strlen(detail) <= AUDIT_FIELD_MAX);
	back = parse(detail);
	assert_true(json_is_true(json_object_get(back, "truncated")));
	assert_null(json_object_get(back, "output_fields"));
	assert_string_equal(json_string_value(json_object_get(back, "priority")), "Warning");
	output = json_string_value(json_object_get(back, "output"));
	assert_non_null(output);
	assert_true(strlen(output) > 100 && strlen(output) < 6000);
	assert_int_equal(strlen(output) % 2, 0);
	assert_memory_equal(output, long_output, strlen(output));
	json_decref(back);
	free(detail);
	free(value);
	json_decref(alert);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(config_sensor_parsed),
		cmocka_unit_test(config_sensor_errors_named),
		cmocka_unit_test(subset_is_spire_rule),
		cmocka_unit_test(alert_accepted),
		cmocka_unit_test(alert_errors_named),
		cmocka_unit_test(response_checked),
		cmocka_unit_test(alert_bounds),
		cmocka_unit_test(alert_detail_truncated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
