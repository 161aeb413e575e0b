/* Unit tests for the agent configuration: defaults, every key, flag
 * overrides and the checks across settings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "agent/config.h"

#define TOKEN "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define FINGERPRINT "ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789"

static int load(const char *yaml, struct agent_config *config, struct config_report *report)
{
	return agent_config_load_buffer(yaml, strlen(yaml), "agent.yaml", config, report);
}

static void config_defaults(void **state)
{
	struct agent_config config;
	struct config_report report = { 0 };

	(void)state;
	assert_int_equal(agent_config_load(NULL, &config, &report), 0);
	assert_string_equal(config.data_dir, "/var/lib/warden-agent");
	assert_string_equal(config.socket_path, "/run/warden/agent.sock");
	assert_int_equal(config.sync_interval_seconds, 5);
	assert_string_equal(config.log_level, "info");
	assert_string_equal(config.log_format, "text");
	assert_null(config.server_address);
	assert_null(config.join_token);
	agent_config_free(&config);
	config_report_free(&report);
}

static void config_every_key(void **state)
{
	static const char yaml[] =
		"server_address: \"[::1]:8081\"\n"
		"trust_domain: example.org\n"
		"trust_bundle_fingerprint: " FINGERPRINT "\n"
		"join_token: " TOKEN "\n"
		"data_dir: /tmp/agent-data\n"
		"socket_path: /tmp/agent.sock\n"
		"sync_interval: 1m\n"
		"log_level: debug\n"
		"log_format: json\n";
	struct agent_config config;
	struct config_report report = { 0 };
	struct wd_error err = { 0 };

	(void)state;
	assert_int_equal(load(yaml, &config, &report), 0);
	assert_string_equal(config.server_address, "[::1]:8081");
	assert_string_equal(config.trust_domain, "example.org");
	assert_string_equal(config.trust_bundle_fingerprint, FINGERPRINT);
	assert_string_equal(config.join_token, TOKEN);
	assert_string_equal(config.data_dir, "/tmp/agent-data");
	assert_string_equal(config.socket_path, "/tmp/agent.sock");
	assert_int_equal(config.sync_interval_seconds, 60);
	assert_string_equal(config.log_level, "debug");
	assert_string_equal(config.log_format, "json");

	assert_int_equal(agent_config_validate(&config, &err), 0);
	assert_string_equal(config.server_host, "::1");
	assert_int_equal(config.server_port, 8081);
	agent_config_free(&config);
	config_report_free(&report);
}

static void config_unknown_key_names_line(void **state)
{
	struct agent_config config;
	struct config_report report = { 0 };

	(void)state;
	assert_int_equal(load("trust_domain: example.org\nsync_intervall: 5s\n", &config,
		&report), WD_ECONFIG);
	assert_int_equal(report.count, 1);
	assert_int_equal(report.issues[0].line, 2);
	assert_non_null(strstr(report.issues[0].text, "agent.yaml:2"));
	assert_non_null(strstr(report.issues[0].text, "sync_intervall"));
	agent_config_free(&config);
	config_report_free(&report);
}

static void config_bad_interval_rejected(void **state)
{
	struct agent_config config;
	struct config_report report = { 0 };

	(void)state;
	assert_int_equal(load("sync_interval: 0s\n", &config, &report), WD_ECONFIG);
	assert_int_equal(report.count, 1);
	assert_non_null(strstr(report.issues[0].text, "sync_interval"));
	agent_config_free(&config);
	config_report_free(&report);
}

static void config_join_token_never_quoted(void **state)
{
	struct agent_config config;
	struct config_report report = { 0 };
	struct wd_error err = { 0 };

	(void)state;
	assert_int_equal(load("join_token: [a]\n", &config, &report), WD_ECONFIG);
	config_report_free(&report);
	assert_int_equal(agent_config_set(&config, "join_token", "secret-value", &err), 0);
	assert_int_equal(agent_config_set(&config, "server_address", "127.0.0.1:8081", &err), 0);
	assert_int_equal(agent_config_set(&config, "trust_domain", "example.org", &err), 0);
	assert_int_equal(agent_config_validate(&config, &err), WD_ECONFIG);
	assert_non_null(strstr(err.detail, "join_token"));
	assert_null(strstr(err.detail, "secret-value"));
	agent_config_free(&config);
}

static void config_flags_override(void **state)
{
	struct agent_config config;
	struct config_report report = { 0 };
	struct wd_error err = { 0 };

	(void)state;
	assert_int_equal(load("sync_interval: 10s\ntrust_domain: a.org\n", &config, &report), 0);
	assert_int_equal(agent_config_set(&config, "sync_interval", "2s", &err), 0);
	assert_int_equal(config.sync_interval_seconds, 2);
	assert_int_equal(agent_config_set(&config, "trust_domain", "b.org", &err), 0);
	assert_string_equal(config.trust_domain, "b.org");

	assert_int_equal(agent_config_set(&config, "sync_interval", "soon", &err), WD_ECONFIG);
	assert_non_null(strstr(err.detail, "sync_interval"));
	assert_int_equal(config.sync_interval_seconds, 2);
	assert_int_equal(agent_config_set(&config, "no_such_key", "1", &err), WD_ECONFIG);
	assert_non_null(strstr(err.detail, "no_such_key"));
	agent_config_free(&config);
	config_report_free(&report);
}

static void config_server_list(void **state)
{
	struct agent_config config;
	struct config_report report = { 0 };
	struct wd_error err = { 0 };

	(void)state;
	assert_int_equal(agent_config_load(NULL, &config, &report), 0);
	assert_int_equal(agent_config_set(&config, "server_address",
		"10.0.0.1:8081, [::1]:8082 ,server-c.example:8083", &err), 0);
	assert_int_equal(agent_config_set(&config, "trust_domain", "example.org", &err), 0);
	assert_int_equal(agent_config_validate(&config, &err), 0);
	assert_int_equal(config.server_count, 3);
	assert_string_equal(config.servers[0].text, "10.0.0.1:8081");
	assert_string_equal(config.servers[0].host, "10.0.0.1");
	assert_int_equal(config.servers[0].port, 8081);
	assert_string_equal(config.servers[1].text, "[::1]:8082");
	assert_string_equal(config.servers[1].host, "::1");
	assert_int_equal(config.servers[1].port, 8082);
	assert_string_equal(config.servers[2].host, "server-c.example");
	assert_int_equal(config.servers[2].port, 8083);
	assert_string_equal(config.server_host, "10.0.0.1");
	assert_int_equal(config.server_port, 8081);

	/* Validating again replaces the list rather than adding to it. */
	assert_int_equal(agent_config_set(&config, "server_address", "127.0.0.1:1", &err), 0);
	assert_int_equal(agent_config_validate(&config, &err), 0);
	assert_int_equal(config.server_count, 1);
	assert_string_equal(config.servers[0].text, "127.0.0.1:1");
	agent_config_free(&config);
	config_report_free(&report);
}

struct validate_case {
	const char *key;
	const char *value;
	const char *expected; /* substring of the error detail */
};

static void config_validate_errors(void **state)
{
	static const struct validate_case cases[] = {
		{ "server_address", "localhost", "server_address" },
		{ "server_address", "host:0", "server_address" },
		{ "server_address", "host:70000", "server_address" },
		{ "server_address", "::1:8081", "server_address" },
		{ "server_address", "[::1]8081", "server_address" },
		{ "server_address", "a:1,,b:2", "an address of the list is empty" },
		{ "server_address", "a:1,", "an address of the list is empty" },
		{ "server_address", "a:1,b:0", "'b:0'" },
		{ "server_address", "a:1,b:2,c:3,d:4,e:5,f:6,g:7,h:8,i:9", "more than 8" },
		{ "trust_domain", "Example..org", "trust_domain" },
		{ "trust_bundle_fingerprint", "abcd", "trust_bundle_fingerprint" },
		{ "trust_bundle_path", "relative.pem", "trust_bundle_path" },
		{ "data_dir", "data", "data_dir" },
		{ "socket_path", "agent.sock", "socket_path" },
		{ "log_level", "loud", "log_level" },
		{ "log_format", "xml", "log_format" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct agent_config config;
		struct wd_error err = { 0 };

		assert_int_equal(agent_config_load(NULL, &config, NULL), 0);
		assert_int_equal(agent_config_set(&config, "server_address", "127.0.0.1:8081",
			&err), 0);
		assert_int_equal(agent_config_set(&config, "trust_domain", "example.org", &err), 0);
		assert_int_equal(agent_config_validate(&config, &err), 0);
		assert_int_equal(agent_config_set(&config, cases[i].key, cases[i].value, &err), 0);
		assert_int_equal(agent_config_validate(&config, &err), WD_ECONFIG);
		if (!strstr(err.detail, cases[i].expected))
			fail_msg("case %zu: '%s' lacks '%s'", i, err.detail, cases[i].expected);
		agent_config_free(&config);
	}
}

static void config_missing_required(void **state)
{
	struct agent_config config;
	struct wd_error err = { 0 };

	(void)state;
	assert_int_equal(agent_config_load(NULL, &config, NULL), 0);
	assert_int_equal(agent_config_validate(&config, &err), WD_ECONFIG);
	assert_non_null(strstr(err.detail, "server_address"));
	assert_int_equal(agent_config_set(&config, "server_address", "127.0.0.1:1", &err), 0);
	assert_int_equal(agent_config_validate(&config, &err), WD_ECONFIG);
	assert_non_null(strstr(err.detail, "trust_domain"));
	assert_int_equal(agent_config_set(&config, "trust_domain", "example.org", &err), 0);
	assert_int_equal(agent_config_set(&config, "trust_bundle_path", "/a.pem", &err), 0);
	assert_int_equal(agent_config_set(&config, "trust_bundle_fingerprint", FINGERPRINT, &err),
		0);
	assert_int_equal(agent_config_validate(&config, &err), WD_ECONFIG);
	assert_non_null(strstr(err.detail, "only one"));
	agent_config_free(&config);
}

static void config_missing_file(void **state)
{
	struct agent_config config;
	struct config_report report = { 0 };

	(void)state;
	assert_int_equal(agent_config_load("/nonexistent/agent.yaml", &config, &report),
		WD_ENOTFOUND);
	assert_int_equal(report.count, 1);
	assert_non_null(strstr(report.issues[0].text, "/nonexistent/agent.yaml"));
	agent_config_free(&config);
	config_report_free(&report);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(config_defaults),
		cmocka_unit_test(config_every_key),
		cmocka_unit_test(config_unknown_key_names_line),
		cmocka_unit_test(config_bad_interval_rejected),
		cmocka_unit_test(config_join_token_never_quoted),
		cmocka_unit_test(config_flags_override),
		cmocka_unit_test(config_validate_errors),
		cmocka_unit_test(config_server_list),
		cmocka_unit_test(config_missing_required),
		cmocka_unit_test(config_missing_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
