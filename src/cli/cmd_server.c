/* `warden server`: loads the configuration, applies flags and runs the
 * daemon. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "common/log.h"
#include "server/server.h"

static void print_server_usage(FILE *out)
{
	fprintf(out,
		"usage: warden server [OPTIONS]\n"
		"\n"
		"Runs the trust-domain authority: the identity API over TLS and the admin\n"
		"API on a Unix socket. Flags override the configuration file.\n"
		"\n"
		"  --config FILE          YAML configuration file\n"
		"  --trust-domain NAME    trust domain, e.g. example.org\n"
		"  --data-dir DIR         datastore, keys and audit log (default /var/lib/warden)\n"
		"  --datastore URL        postgres://USER@HOST:PORT/DB?sslmode=verify-full for a\n"
		"                         PostgreSQL datastore several servers share (default:\n"
		"                         SQLite in the data directory)\n"
		"  --listen ADDR:PORT     identity API address (default 0.0.0.0:8081; port 0 picks one)\n"
		"  --policy-listen ADDR:PORT\n"
		"                         OPA-compatible policy API address (default 0.0.0.0:8181)\n"
		"  --secrets-listen ADDR:PORT\n"
		"                         Vault-compatible secrets API address (default 0.0.0.0:8200)\n"
		"  --dev                  secrets barrier initialized and unsealed in memory, state\n"
		"                         wiped at every start; prints the unseal key and root token.\n"
		"                         For demos and tests only\n"
		"  --dev-root-token ID    root token id in dev mode (default: random)\n"
		"  --admin-socket PATH    admin Unix socket (default /run/warden/admin.sock)\n"
		"  --log-format FORMAT    text or json\n"
		"  --log-level LEVEL      debug, info, warn or error\n");
}

static void print_config_report(const struct config_report *report)
{
	for (size_t i = 0; i < report->count; i++)
		fprintf(stderr, "warden: %s\n", report->issues[i].text);
	if (report->dropped)
		fprintf(stderr, "warden: ... and %zu more configuration errors\n", report->dropped);
}

int cmd_server(int argc, char **argv)
{
	enum { OPT_CONFIG = 256, OPT_TRUST_DOMAIN, OPT_DATA_DIR, OPT_DATASTORE, OPT_LISTEN, OPT_POLICY_LISTEN, OPT_ADMIN_SOCKET,
		OPT_SECRETS_LISTEN, OPT_DEV, OPT_DEV_ROOT_TOKEN, OPT_LOG_FORMAT, OPT_LOG_LEVEL };
	static const struct option options[] = {
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "trust-domain", required_argument, NULL, OPT_TRUST_DOMAIN },
		{ "data-dir", required_argument, NULL, OPT_DATA_DIR },
		{ "datastore", required_argument, NULL, OPT_DATASTORE },
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "policy-listen", required_argument, NULL, OPT_POLICY_LISTEN },
		{ "admin-socket", required_argument, NULL, OPT_ADMIN_SOCKET },
		{ "secrets-listen", required_argument, NULL, OPT_SECRETS_LISTEN },
		{ "dev", no_argument, NULL, OPT_DEV },
		{ "dev-root-token", required_argument, NULL, OPT_DEV_ROOT_TOKEN },
		{ "log-format", required_argument, NULL, OPT_LOG_FORMAT },
		{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct server_config config;
	struct config_report report = { 0 };
	struct wd_error err;
	const char *config_path = NULL;
	const char *flag_values[OPT_LOG_LEVEL - OPT_CONFIG + 1] = { 0 };
	enum log_level level;
	enum log_format format;
	bool dev = false;
	int option;
	int rc;

	optind = 1;
	while ((option = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (option == 'h') {
			print_server_usage(stdout);
			return 0;
		}
		if (option < OPT_CONFIG || option > OPT_LOG_LEVEL) {
			print_server_usage(stderr);
			return 2;
		}
		if (option == OPT_DEV)
			dev = true;
		else
			flag_values[option - OPT_CONFIG] = optarg;
	}
	if (optind < argc) {
		fprintf(stderr, "warden: unexpected argument '%s'\n", argv[optind]);
		print_server_usage(stderr);
		return 2;
	}
	config_path = flag_values[0];

	server_config_init(&config);
	if (server_config_load(config_path, &config, &report) < 0) {
		print_config_report(&report);
		config_report_free(&report);
		server_config_free(&config);
		return 1;
	}
	config_report_free(&report);

	rc = 0;
	if (flag_values[OPT_TRUST_DOMAIN - OPT_CONFIG])
		rc |= server_config_set(&config.trust_domain, flag_values[OPT_TRUST_DOMAIN - OPT_CONFIG]);
	if (flag_values[OPT_DATA_DIR - OPT_CONFIG])
		rc |= server_config_set(&config.data_dir, flag_values[OPT_DATA_DIR - OPT_CONFIG]);
	if (flag_values[OPT_DATASTORE - OPT_CONFIG])
		rc |= server_config_set(&config.datastore, flag_values[OPT_DATASTORE - OPT_CONFIG]);
	if (flag_values[OPT_LISTEN - OPT_CONFIG])
		rc |= server_config_set(&config.identity.listen, flag_values[OPT_LISTEN - OPT_CONFIG]);
	if (flag_values[OPT_POLICY_LISTEN - OPT_CONFIG])
		rc |= server_config_set(&config.policy.listen,
			flag_values[OPT_POLICY_LISTEN - OPT_CONFIG]);
	if (flag_values[OPT_ADMIN_SOCKET - OPT_CONFIG])
		rc |= server_config_set(&config.admin.socket, flag_values[OPT_ADMIN_SOCKET - OPT_CONFIG]);
	if (flag_values[OPT_SECRETS_LISTEN - OPT_CONFIG])
		rc |= server_config_set(&config.secrets.listen,
			flag_values[OPT_SECRETS_LISTEN - OPT_CONFIG]);
	if (flag_values[OPT_DEV_ROOT_TOKEN - OPT_CONFIG]) {
		if (!dev) {
			fprintf(stderr, "warden: --dev-root-token needs --dev\n");
			server_config_free(&config);
			return 2;
		}
		rc |= server_config_set(&config.secrets.dev_root_token,
			flag_values[OPT_DEV_ROOT_TOKEN - OPT_CONFIG]);
	}
	config.secrets.dev = dev;
	if (rc < 0) {
		fprintf(stderr, "warden: out of memory\n");
		server_config_free(&config);
		return 1;
	}

	level = (enum log_level)config.log.level;
	format = config.log.format ? LOG_FORMAT_JSON : LOG_FORMAT_TEXT;
	if (flag_values[OPT_LOG_LEVEL - OPT_CONFIG] &&
		log_level_parse(flag_values[OPT_LOG_LEVEL - OPT_CONFIG], &level) < 0) {
		fprintf(stderr, "warden: invalid --log-level '%s': expected debug, info, warn or error\n",
			flag_values[OPT_LOG_LEVEL - OPT_CONFIG]);
		server_config_free(&config);
		return 2;
	}
	if (flag_values[OPT_LOG_FORMAT - OPT_CONFIG] &&
		log_format_parse(flag_values[OPT_LOG_FORMAT - OPT_CONFIG], &format) < 0) {
		fprintf(stderr, "warden: invalid --log-format '%s': expected text or json\n",
			flag_values[OPT_LOG_FORMAT - OPT_CONFIG]);
		server_config_free(&config);
		return 2;
	}
	log_configure(stderr, format, level);

	wd_error_clear(&err);
	if (server_config_validate(&config, &err) < 0) {
		fprintf(stderr, "warden: %s\n", wd_error_text(&err));
		server_config_free(&config);
		return 1;
	}

	rc = server_run(&config, &err);
	if (rc < 0)
		log_error("server", "server failed", "error", wd_error_text(&err));
	server_config_free(&config);
	return rc < 0 ? 1 : 0;
}
