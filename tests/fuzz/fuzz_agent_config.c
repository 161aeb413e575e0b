/* libFuzzer harness: loads arbitrary bytes as the agent's YAML
 * configuration and, when that succeeds, validates it, which splits
 * server_address into the list of servers. */
#include <stddef.h>
#include <stdint.h>

#include "agent/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent_config config;
	struct config_report report = { 0 };
	struct wd_error err = { 0 };

	int rc;

	rc = agent_config_load_buffer((const char *)data, size, "fuzz.yaml", &config, &report);
	if (rc == 0 && agent_config_validate(&config, &err) == 0 &&
	    (config.server_count == 0 || config.server_count > AGENT_MAX_SERVERS ||
	     config.servers[0].port != config.server_port))
		__builtin_trap();
	/* The config owns its strings on every return but WD_EINTERNAL. */
	if (rc != WD_EINTERNAL)
		agent_config_free(&config);
	config_report_free(&report);
	return 0;
}
