/* libFuzzer harness: loads arbitrary bytes as a configuration file with a
 * schema that has a nested section and every setting type, then frees it. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/config.h"

struct fuzz_limits {
	uint64_t max_body_bytes;
	int64_t max_headers;
	struct config_strings methods;
};

struct fuzz_config {
	char *name;
	char *token;
	int64_t port;
	bool debug;
	int64_t ttl;
	int level;
	struct config_strings peers;
	struct fuzz_limits limits;
};

static const char *const fuzz_levels[] = { "debug", "info", "warn", "error", NULL };

static const struct config_field fuzz_limits_fields[] = {
	{ .key = "max_body_bytes", .type = CONFIG_SIZE,
	  .offset = offsetof(struct fuzz_limits, max_body_bytes), .help = "bytes",
	  .min = 1, .max = 1 << 30 },
	{ .key = "max_headers", .type = CONFIG_INT,
	  .offset = offsetof(struct fuzz_limits, max_headers), .help = "count" },
	{ .key = "methods", .type = CONFIG_STRING_LIST,
	  .offset = offsetof(struct fuzz_limits, methods), .help = "HTTP methods" },
	{ 0 },
};

static const struct config_field fuzz_fields[] = {
	{ .key = "name", .type = CONFIG_STRING, .offset = offsetof(struct fuzz_config, name),
	  .help = "name", .flags = CONFIG_REQUIRED },
	{ .key = "token", .type = CONFIG_STRING, .offset = offsetof(struct fuzz_config, token),
	  .help = "secret", .flags = CONFIG_SECRET },
	{ .key = "port", .type = CONFIG_INT, .offset = offsetof(struct fuzz_config, port),
	  .help = "port", .min = 1, .max = 65535 },
	{ .key = "debug", .type = CONFIG_BOOL, .offset = offsetof(struct fuzz_config, debug),
	  .help = "debug" },
	{ .key = "ttl", .type = CONFIG_DURATION, .offset = offsetof(struct fuzz_config, ttl),
	  .help = "seconds", .min = 1, .max = 86400 * 365 },
	{ .key = "level", .type = CONFIG_ENUM, .offset = offsetof(struct fuzz_config, level),
	  .help = "level", .choices = fuzz_levels },
	{ .key = "peers", .type = CONFIG_STRING_LIST, .offset = offsetof(struct fuzz_config, peers),
	  .help = "addresses" },
	{ .key = "limits", .type = CONFIG_SECTION, .offset = offsetof(struct fuzz_config, limits),
	  .help = "limits", .fields = fuzz_limits_fields },
	{ 0 },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const default_peers[] = { "localhost:8081" };
	struct fuzz_config config = {
		.name = "default",
		.port = 8081,
		.ttl = 3600,
		.peers = { (char **)default_peers, 1 },
	};
	struct config_report report;
	int rc;

	rc = config_load_buffer((const char *)data, size, "fuzz.yaml", fuzz_fields, &config,
		&report);

	/* Invariants: issues come with a failure, and every issue has text. */
	if ((rc == 0) != (report.count == 0 && report.dropped == 0))
		__builtin_trap();
	for (size_t i = 0; i < report.count; i++) {
		if (!report.issues[i].text || strncmp(report.issues[i].text, "fuzz.yaml:", 10) != 0)
			__builtin_trap();
	}

	config_free(fuzz_fields, &config);
	config_report_free(&report);
	return 0;
}
