/* Unit tests for the schema-driven YAML configuration loader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/config.h"
#include "common/error.h"

struct limits_config {
	uint64_t max_body_bytes;
	int64_t max_headers;
};

struct identity_config {
	char *trust_domain;
	int64_t ca_ttl;
	int64_t svid_ttl;
	struct limits_config limits;
};

struct server_config {
	char *name;
	int64_t port;
	bool debug;
	int log_level;
	struct config_strings peers;
	char *token;
	struct identity_config identity;
	struct limits_config limits;
};

static const char *const level_choices[] = { "debug", "info", "warn", "error", NULL };

static const struct config_field limits_fields[] = {
	{ .key = "max_body_bytes", .type = CONFIG_SIZE,
	  .offset = offsetof(struct limits_config, max_body_bytes),
	  .help = "maximum request body in bytes", .min = 1, .max = 1 << 30 },
	{ .key = "max_headers", .type = CONFIG_INT,
	  .offset = offsetof(struct limits_config, max_headers),
	  .help = "maximum header count per request", .min = 1, .max = 1000 },
	{ 0 },
};

static const struct config_field identity_fields[] = {
	{ .key = "trust_domain", .type = CONFIG_STRING,
	  .offset = offsetof(struct identity_config, trust_domain),
	  .help = "SPIFFE trust domain name" },
	{ .key = "ca_ttl", .type = CONFIG_DURATION,
	  .offset = offsetof(struct identity_config, ca_ttl),
	  .help = "lifetime of the CA certificate", .min = 3600, .max = 10 * 365 * 86400 },
	{ .key = "svid_ttl", .type = CONFIG_DURATION,
	  .offset = offsetof(struct identity_config, svid_ttl),
	  .help = "lifetime of issued X.509-SVIDs" },
	{ .key = "limits", .type = CONFIG_SECTION,
	  .offset = offsetof(struct identity_config, limits),
	  .help = "identity API request limits", .fields = limits_fields },
	{ 0 },
};

static const struct config_field server_fields[] = {
	{ .key = "name", .type = CONFIG_STRING, .offset = offsetof(struct server_config, name),
	  .help = "server name in logs" },
	{ .key = "port", .type = CONFIG_INT, .offset = offsetof(struct server_config, port),
	  .help = "TCP port of the identity API", .min = 1, .max = 65535 },
	{ .key = "debug", .type = CONFIG_BOOL, .offset = offsetof(struct server_config, debug),
	  .help = "enable debug endpoints" },
	{ .key = "log_level", .type = CONFIG_ENUM,
	  .offset = offsetof(struct server_config, log_level),
	  .help = "minimum log level", .choices = level_choices },
	{ .key = "peers", .type = CONFIG_STRING_LIST,
	  .offset = offsetof(struct server_config, peers), .help = "peer server addresses" },
	{ .key = "token", .type = CONFIG_STRING, .offset = offsetof(struct server_config, token),
	  .help = "join token", .flags = CONFIG_SECRET },
	{ .key = "identity", .type = CONFIG_SECTION,
	  .offset = offsetof(struct server_config, identity), .help = "identity settings",
	  .fields = identity_fields },
	{ .key = "limits", .type = CONFIG_SECTION,
	  .offset = offsetof(struct server_config, limits), .help = "request limits",
	  .fields = limits_fields },
	{ 0 },
};

static const char *const default_peers[] = { "10.0.0.1:8081" };

static struct server_config defaults(void)
{
	return (struct server_config){
		.name = "warden",
		.port = 8081,
		.log_level = 1,
		.peers = { (char **)default_peers, 1 },
		.identity = { .trust_domain = "example.org", .ca_ttl = 86400, .svid_ttl = 3600 },
		.limits = { .max_body_bytes = 1 << 20, .max_headers = 100 },
	};
}

/* Loads text into a fresh default config; the caller frees both. */
static int load(const char *text, struct server_config *config, struct config_report *report)
{
	*config = defaults();
	return config_load_buffer(text, strlen(text), "server.yaml", server_fields, config, report);
}

static void config_valid_file_loads(void **state)
{
	static const char text[] =
		"name: edge-1\n"
		"port: 8443\n"
		"debug: true\n"
		"log_level: warn\n"
		"peers: [a:1, 'b:2', \"c:3\"]\n"
		"token: s3cret\n"
		"identity:\n"
		"  trust_domain: prod.example\n"
		"  ca_ttl: 30d\n"
		"  svid_ttl: 1h30m\n"
		"  limits: {max_body_bytes: 64KiB}\n"
		"limits:\n"
		"  max_body_bytes: 1MiB\n"
		"  max_headers: 64\n";
	struct server_config config;
	struct config_report report;

	(void)state;
	assert_int_equal(load(text, &config, &report), 0);
	assert_int_equal(report.count, 0);
	assert_string_equal(config.name, "edge-1");
	assert_int_equal(config.port, 8443);
	assert_true(config.debug);
	assert_int_equal(config.log_level, 2);
	assert_int_equal(config.peers.count, 3);
	assert_string_equal(config.peers.items[0], "a:1");
	assert_string_equal(config.peers.items[1], "b:2");
	assert_string_equal(config.peers.items[2], "c:3");
	assert_string_equal(config.token, "s3cret");
	assert_string_equal(config.identity.trust_domain, "prod.example");
	assert_int_equal(config.identity.ca_ttl, 30 * 86400);
	assert_int_equal(config.identity.svid_ttl, 5400);
	assert_int_equal(config.identity.limits.max_body_bytes, 65536);
	assert_int_equal(config.limits.max_body_bytes, 1048576);
	assert_int_equal(config.limits.max_headers, 64);
	config_free(server_fields, &config);
	assert_null(config.name);
	assert_null(config.peers.items);
	config_report_free(&report);
}

static void config_defaults_kept_and_owned(void **state)
{
	struct server_config config;
	struct config_report report;

	(void)state;
	assert_int_equal(load("port: 9000\nidentity: {trust_domain: x}\n", &config, &report), 0);
	assert_int_equal(config.port, 9000);
	assert_string_equal(config.name, "warden");
	assert_int_equal(config.log_level, 1);
	assert_int_equal(config.identity.ca_ttl, 86400);
	assert_int_equal(config.limits.max_headers, 100);
	/* Borrowed defaults were copied, so config_free may release them. */
	assert_ptr_not_equal(config.peers.items, default_peers);
	assert_string_equal(config.peers.items[0], "10.0.0.1:8081");
	config_free(server_fields, &config);
	config_report_free(&report);
}

static void config_collects_every_issue(void **state)
{
	static const char text[] =
		"name: edge\n"                          /* 1 */
		"port: 70000\n"                         /* 2 */
		"debug: yes\n"                          /* 3 */
		"identity:\n"                           /* 4 */
		"  trust_domain: prod\n"                /* 5 */
		"  ca_tll: 1d\n"                        /* 6 */
		"  svid_ttl: 5x\n"                      /* 7 */
		"limits:\n"                             /* 8 */
		"  max_body_bytes: ten\n"               /* 9 */
		"  max_headers: 0644\n"                 /* 10 */
		"log_level: verbose\n"                  /* 11 */
		"colour: blue\n";                       /* 12 */
	static const char *const expected[] = {
		"server.yaml:2: invalid value '70000' for 'port': expected an integer from 1 to 65535",
		"server.yaml:3: invalid value 'yes' for 'debug': expected true or false",
		"server.yaml:6: unknown key 'identity.ca_tll' (did you mean 'ca_ttl'?)",
		"server.yaml:7: invalid value '5x' for 'identity.svid_ttl': expected a duration like 90s, 5m, 1h30m or 7d",
		"server.yaml:9: invalid value 'ten' for 'limits.max_body_bytes': expected a size from 1 to 1073741824 bytes",
		"server.yaml:10: invalid value '0644' for 'limits.max_headers': expected an integer from 1 to 1000",
		"server.yaml:11: invalid value 'verbose' for 'log_level': expected one of: debug, info, warn, error",
		"server.yaml:12: unknown key 'colour'",
	};
	struct server_config config;
	struct config_report report;

	(void)state;
	assert_int_equal(load(text, &config, &report), WD_ECONFIG);
	assert_int_equal(report.count, sizeof(expected) / sizeof(expected[0]));
	for (size_t i = 0; i < report.count; i++)
		assert_string_equal(report.issues[i].text, expected[i]);
	assert_int_equal(report.issues[2].line, 6);
	assert_string_equal(report.issues[2].key, "identity.ca_tll");
	assert_int_equal(report.dropped, 0);

	/* Nothing was applied, not even the valid settings. */
	assert_string_equal(config.name, "warden");
	assert_string_equal(config.identity.trust_domain, "example.org");
	assert_int_equal(config.port, 8081);
	config_free(server_fields, &config);
	config_report_free(&report);
}

static void config_secret_never_echoed(void **state)
{
	struct server_config config;
	struct config_report report;

	(void)state;
	assert_int_equal(load("token: [hunter2]\n", &config, &report), WD_ECONFIG);
	assert_int_equal(report.count, 1);
	assert_string_equal(report.issues[0].text,
		"server.yaml:1: invalid value for 'token': expected a single value, not a list or mapping");
	assert_null(strstr(report.issues[0].text, "hunter2"));
	config_free(server_fields, &config);
	config_report_free(&report);

	assert_int_equal(load("token: \"a\\0b\"\n", &config, &report), WD_ECONFIG);
	assert_string_equal(report.issues[0].text,
		"server.yaml:1: invalid value for 'token': the value contains a NUL character");
	config_free(server_fields, &config);
	config_report_free(&report);
}

static void config_duplicate_keys_rejected(void **state)
{
	struct server_config config;
	struct config_report report;

	(void)state;
	assert_int_equal(load("port: 1\nidentity: {trust_domain: a, trust_domain: b}\nport: 2\n",
		&config, &report), WD_ECONFIG);
	assert_int_equal(report.count, 2);
	assert_string_equal(report.issues[0].text,
		"server.yaml:2: duplicate key 'identity.trust_domain'");
	assert_string_equal(report.issues[1].text, "server.yaml:3: duplicate key 'port'");
	config_free(server_fields, &config);
	config_report_free(&report);
}

static void config_top_level_shapes(void **state)
{
	struct server_config config;
	struct config_report report;

	(void)state;
	assert_int_equal(load("- a\n- b\n", &config, &report), WD_ECONFIG);
	assert_string_equal(report.issues[0].text,
		"server.yaml:1: the top level must be a mapping of settings");
	config_free(server_fields, &config);
	config_report_free(&report);

	assert_int_equal(load("just text\n", &config, &report), WD_ECONFIG);
	config_free(server_fields, &config);
	config_report_free(&report);

	assert_int_equal(load("port: 1\n---\nport: 2\n", &config, &report), WD_ECONFIG);
	assert_string_equal(report.issues[0].text,
		"server.yaml:2: more than one YAML document: a configuration file holds one");
	config_free(server_fields, &config);
	config_report_free(&report);
}

static void config_required_key_missing(void **state)
{
	static const struct config_field section_fields[] = {
		{ .key = "trust_domain", .type = CONFIG_STRING,
		  .offset = offsetof(struct identity_config, trust_domain),
		  .help = "SPIFFE trust domain name", .flags = CONFIG_REQUIRED },
		{ 0 },
	};
	static const struct config_field required_fields[] = {
		{ .key = "port", .type = CONFIG_INT, .offset = offsetof(struct server_config, port),
		  .help = "TCP port", .flags = CONFIG_REQUIRED },
		{ .key = "identity", .type = CONFIG_SECTION,
		  .offset = offsetof(struct server_config, identity), .help = "identity settings",
		  .fields = section_fields },
		{ 0 },
	};
	struct server_config config = { 0 };
	struct config_report report;

	(void)state;
	assert_int_equal(config_load_buffer("# only a comment\n", 17, "server.yaml", required_fields,
		&config, &report), WD_ECONFIG);
	assert_int_equal(report.count, 2);
	assert_string_equal(report.issues[0].text, "server.yaml: missing required key 'port'");
	assert_string_equal(report.issues[1].text,
		"server.yaml: missing required key 'identity.trust_domain'");
	config_free(required_fields, &config);
	config_report_free(&report);

	assert_int_equal(config_load_buffer("port: 1\nidentity:\n  other: 2\n", 29, "server.yaml",
		required_fields, &config, &report), WD_ECONFIG);
	assert_int_equal(report.count, 2);
	assert_string_equal(report.issues[0].text, "server.yaml:3: unknown key 'identity.other'");
	assert_string_equal(report.issues[1].text,
		"server.yaml:3: missing required key 'identity.trust_domain'");
	config_free(required_fields, &config);
	config_report_free(&report);

	assert_int_equal(config_load_buffer("port: 1\nidentity: {trust_domain: a}\n", 36,
		"server.yaml", required_fields, &config, &report), 0);
	assert_int_equal(config.port, 1);
	assert_string_equal(config.identity.trust_domain, "a");
	config_free(required_fields, &config);
	config_report_free(&report);

	/* An empty file is valid when nothing is required. */
	assert_int_equal(load("", &config, &report), 0);
	assert_int_equal(config.port, 8081);
	config_free(server_fields, &config);
	config_report_free(&report);

	assert_int_equal(load("port:\n", &config, &report), WD_ECONFIG);
	assert_string_equal(report.issues[0].text, "server.yaml:1: missing value for 'port'");
	config_free(server_fields, &config);
	config_report_free(&report);
}

static void config_anchors_rejected(void **state)
{
	struct server_config config;
	struct config_report report;

	(void)state;
	assert_int_equal(load("name: &n edge\nidentity:\n  trust_domain: *n\n", &config, &report),
		WD_ECONFIG);
	assert_int_equal(report.count, 2);
	assert_string_equal(report.issues[0].text,
		"server.yaml:1: anchor '&n' is not supported: write the value out");
	assert_string_equal(report.issues[1].text,
		"server.yaml:3: alias '*n' is not supported: write the value out");
	assert_string_equal(config.name, "warden");
	config_free(server_fields, &config);
	config_report_free(&report);

	/* A billion-laughs document is rejected without expanding anything. */
	assert_int_equal(load("a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n", &config, &report),
		WD_ECONFIG);
	assert_int_equal(report.count, 9);
	config_free(server_fields, &config);
	config_report_free(&report);
}

static void config_nesting_limit(void **state)
{
	struct server_config config;
	struct config_report report;
	char text[256];
	size_t o;

	(void)state;
	o = (size_t)snprintf(text, sizeof(text), "unknown: ");
	for (int i = 0; i < 40; i++)
		text[o++] = '[';
	text[o] = '\0';
	assert_int_equal(load(text, &config, &report), WD_ECONFIG);
	assert_int_equal(report.count, 2);
	assert_string_equal(report.issues[0].text, "server.yaml:1: unknown key 'unknown'");
	assert_string_equal(report.issues[1].text,
		"server.yaml:1: nesting is deeper than the limit of 16 levels");
	config_free(server_fields, &config);
	config_report_free(&report);
}

static void config_size_ceiling(void **state)
{
	struct server_config config = defaults();
	struct config_report report;
	char *big = malloc(CONFIG_MAX_BYTES + 2);

	(void)state;
	memset(big, '#', CONFIG_MAX_BYTES + 1);
	big[CONFIG_MAX_BYTES + 1] = '\0';
	assert_int_equal(config_load_buffer(big, CONFIG_MAX_BYTES + 1, "big.yaml", server_fields,
		&config, &report), WD_ETOOBIG);
	assert_string_equal(report.issues[0].text,
		"big.yaml: the file is larger than the limit of 1048576 bytes");
	config_free(server_fields, &config);
	config_report_free(&report);
	free(big);
}

static void config_list_checks(void **state)
{
	struct server_config config;
	struct config_report report;
	char *text = malloc(8 * 1100 + 16);
	size_t o;

	(void)state;
	assert_int_equal(load("peers: a\n", &config, &report), WD_ECONFIG);
	assert_string_equal(report.issues[0].text,
		"server.yaml:1: invalid value 'a' for 'peers': expected a list of strings");
	config_free(server_fields, &config);
	config_report_free(&report);

	assert_int_equal(load("peers:\n  - a\n  - {x: 1}\n  - ~\n", &config, &report), WD_ECONFIG);
	assert_int_equal(report.count, 2);
	assert_string_equal(report.issues[0].text,
		"server.yaml:3: invalid item in 'peers': expected a string");
	assert_string_equal(report.issues[1].text,
		"server.yaml:4: invalid item in 'peers': expected a string");
	config_free(server_fields, &config);
	config_report_free(&report);

	assert_int_equal(load("peers: []\n", &config, &report), 0);
	assert_int_equal(config.peers.count, 0);
	config_free(server_fields, &config);
	config_report_free(&report);

	o = (size_t)snprintf(text, 16, "peers: [");
	for (int i = 0; i < CONFIG_MAX_LIST + 1; i++)
		o += (size_t)snprintf(text + o, 8 * 1100 + 16 - o, "p%d,", i);
	text[o - 1] = ']';
	text[o] = '\0';
	assert_int_equal(load(text, &config, &report), WD_ECONFIG);
	assert_int_equal(report.count, 1);
	assert_string_equal(report.issues[0].text,
		"server.yaml:1: 'peers' has more than the limit of 1024 items");
	config_free(server_fields, &config);
	config_report_free(&report);
	free(text);
}

static void config_syntax_error_located(void **state)
{
	struct server_config config;
	struct config_report report;

	(void)state;
	assert_int_equal(load("port: 1\nname: [unclosed\nlimits: {\n", &config, &report), WD_ECONFIG);
	assert_int_equal(report.count, 2);
	assert_string_equal(report.issues[0].text,
		"server.yaml:2: invalid value for 'name': expected a single value, not a list or mapping");
	assert_string_equal(report.issues[1].text,
		"server.yaml:3: invalid YAML: did not find expected ',' or ']'");
	config_free(server_fields, &config);
	config_report_free(&report);

	assert_int_equal(load("port: 1\n\tname: x\n", &config, &report), WD_ECONFIG);
	assert_non_null(strstr(report.issues[0].text, "server.yaml:2: invalid YAML: "));
	config_free(server_fields, &config);
	config_report_free(&report);
}

static void config_issue_values_escaped(void **state)
{
	struct server_config config;
	struct config_report report;

	(void)state;
	assert_int_equal(load("port: \"1\\n2\\x1b'\"\n\"bad\\nkey\": 1\n", &config, &report),
		WD_ECONFIG);
	assert_int_equal(report.count, 2);
	assert_string_equal(report.issues[0].text,
		"server.yaml:1: invalid value '1\\x0a2\\x1b\\'' for 'port': expected an integer from 1 to 65535");
	assert_string_equal(report.issues[1].text, "server.yaml:2: unknown key 'bad\\x0akey'");
	config_free(server_fields, &config);
	config_report_free(&report);
}

static void config_issue_cap(void **state)
{
	struct server_config config;
	struct config_report report;
	char *text = malloc(200 * 16);
	size_t o = 0;

	(void)state;
	for (int i = 0; i < 150; i++)
		o += (size_t)snprintf(text + o, 200 * 16 - o, "k%d: 1\n", i);
	assert_int_equal(load(text, &config, &report), WD_ECONFIG);
	assert_int_equal(report.count, CONFIG_MAX_ISSUES);
	assert_int_equal(report.dropped, 50);
	config_free(server_fields, &config);
	config_report_free(&report);
	free(text);
}

static void config_size_parse_units(void **state)
{
	static const struct {
		const char *text;
		int rc;
		uint64_t bytes;
	} cases[] = {
		{ "0", 0, 0 }, { "1048576", 0, 1048576 }, { "1MiB", 0, 1048576 },
		{ "64KiB", 0, 65536 }, { "10MB", 0, 10000000 }, { "2GiB", 0, 2147483648ull },
		{ "1TB", 0, 1000000000000ull }, { "7B", 0, 7 },
		{ "18446744073709551615", 0, UINT64_MAX }, { "18446744073709551616", WD_ETOOBIG, 0 },
		{ "16777216TiB", WD_ETOOBIG, 0 }, { "1mib", WD_EINVAL, 0 }, { "1 MiB", WD_EINVAL, 0 },
		{ "-1", WD_EINVAL, 0 }, { "1.5MiB", WD_EINVAL, 0 }, { "", WD_EINVAL, 0 },
		{ "MiB", WD_EINVAL, 0 }, { "1MiBx", WD_EINVAL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t bytes = 99;

		assert_int_equal(config_size_parse(cases[i].text, &bytes), cases[i].rc);
		assert_int_equal(bytes, cases[i].bytes);
	}
}

static void config_load_file_errors(void **state)
{
	char path[] = "/tmp/wd-test-config-XXXXXX";
	struct server_config config = defaults();
	struct config_report report;
	int fd;

	(void)state;
	assert_int_equal(config_load_file("/nonexistent/server.yaml", server_fields, &config,
		&report), WD_ENOTFOUND);
	assert_int_equal(report.count, 1);
	assert_string_equal(report.issues[0].text,
		"/nonexistent/server.yaml: cannot open '/nonexistent/server.yaml': No such file or directory");
	config_free(server_fields, &config);
	config_report_free(&report);

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "port: 99\nbogus: 1\n", 18), 18);
	close(fd);
	config = defaults();
	assert_int_equal(config_load_file(path, server_fields, &config, &report), WD_ECONFIG);
	assert_int_equal(report.issues[0].line, 2);
	assert_non_null(strstr(report.issues[0].text, ":2: unknown key 'bogus'"));
	assert_memory_equal(report.issues[0].text, path, strlen(path));
	config_free(server_fields, &config);
	config_report_free(&report);
	unlink(path);
}

static void config_bad_schema_internal(void **state)
{
	static const struct config_field enum_without_choices[] = {
		{ .key = "x", .type = CONFIG_ENUM, .offset = 0 },
		{ 0 },
	};
	int target = 0;
	struct config_report report;

	(void)state;
	assert_int_equal(config_load_buffer("x: 1\n", 5, "t.yaml", enum_without_choices, &target,
		&report), WD_EINTERNAL);
	config_report_free(&report);
	/* A NULL report is allowed. */
	assert_int_equal(config_load_buffer("x: 1\n", 5, "t.yaml", enum_without_choices, &target,
		NULL), WD_EINTERNAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(config_valid_file_loads),
		cmocka_unit_test(config_defaults_kept_and_owned),
		cmocka_unit_test(config_collects_every_issue),
		cmocka_unit_test(config_secret_never_echoed),
		cmocka_unit_test(config_duplicate_keys_rejected),
		cmocka_unit_test(config_top_level_shapes),
		cmocka_unit_test(config_required_key_missing),
		cmocka_unit_test(config_anchors_rejected),
		cmocka_unit_test(config_nesting_limit),
		cmocka_unit_test(config_size_ceiling),
		cmocka_unit_test(config_list_checks),
		cmocka_unit_test(config_syntax_error_located),
		cmocka_unit_test(config_issue_values_escaped),
		cmocka_unit_test(config_issue_cap),
		cmocka_unit_test(config_size_parse_units),
		cmocka_unit_test(config_load_file_errors),
		cmocka_unit_test(config_bad_schema_internal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
