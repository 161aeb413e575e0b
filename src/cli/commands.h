/* The subcommands of the warden binary: each returns the process exit code
 * (0 success, 1 failure, 2 usage error). */
#pragma once

struct cli_command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
};

int cmd_version(int argc, char **argv);
