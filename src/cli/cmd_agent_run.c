/* `warden agent run`: the node agent daemon. Attests the node (or loads
 * its saved identity), keeps the SVID cache in sync with the server and
 * serves the SPIFFE Workload API on a Unix socket. */
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "agent/agent.h"
#include "agent/config.h"
#include "agent/workload_api.h"
#include "cli/cli_args.h"
#include "cli/commands.h"
#include "common/file.h"
#include "common/log.h"
#include "net/grpc.h"

enum run_option {
	OPT_CONFIG,
	OPT_SERVER_ADDRESS,
	OPT_TRUST_DOMAIN,
	OPT_TRUST_BUNDLE,
	OPT_TRUST_BUNDLE_FINGERPRINT,
	OPT_JOIN_TOKEN,
	OPT_DATA_DIR,
	OPT_SOCKET_PATH,
	OPT_SYNC_INTERVAL,
	OPT_LOG_FORMAT,
	OPT_LOG_LEVEL,
	OPT_COUNT,
};

/* Configuration key each flag sets, by option id; NULL for --config. */
static const char *const option_keys[OPT_COUNT] = {
	[OPT_CONFIG] = NULL,
	[OPT_SERVER_ADDRESS] = "server_address",
	[OPT_TRUST_DOMAIN] = "trust_domain",
	[OPT_TRUST_BUNDLE] = "trust_bundle_path",
	[OPT_TRUST_BUNDLE_FINGERPRINT] = "trust_bundle_fingerprint",
	[OPT_JOIN_TOKEN] = "join_token",
	[OPT_DATA_DIR] = "data_dir",
	[OPT_SOCKET_PATH] = "socket_path",
	[OPT_SYNC_INTERVAL] = "sync_interval",
	[OPT_LOG_FORMAT] = "log_format",
	[OPT_LOG_LEVEL] = "log_level",
};

static const struct cli_option run_options[] = {
	{ "config", "FILE", OPT_CONFIG, "YAML configuration file; flags override it" },
	{ "server-address", "HOST:PORT[,...]", OPT_SERVER_ADDRESS,
		"the server's identity API ([v6]:port for IPv6);\n"
		"a comma-separated list, or the flag repeated,\n"
		"names up to 8 servers sharing one datastore:\n"
		"the agent stays with one and moves down the\n"
		"list when it fails" },
	{ "trust-domain", "NAME", OPT_TRUST_DOMAIN, "trust domain, e.g. example.org" },
	{ "trust-bundle", "FILE", OPT_TRUST_BUNDLE,
		"PEM file of the server's CA certificates,\nto trust on the first contact" },
	{ "trust-bundle-fingerprint", "HEX", OPT_TRUST_BUNDLE_FINGERPRINT,
		"SHA-256 of one server CA certificate (DER),\ninstead of --trust-bundle" },
	{ "join-token", "TOKEN", OPT_JOIN_TOKEN,
		"join token for the first attestation; not\nneeded once DATA_DIR holds an identity.\n"
		"Other local users can read flags in the\nprocess list: prefer join_token in a 0600\n"
		"--config file" },
	{ "data-dir", "DIR", OPT_DATA_DIR,
		"node SVID, key and bundle (default\n" AGENT_DEFAULT_DATA_DIR ")" },
	{ "socket-path", "PATH", OPT_SOCKET_PATH,
		"Workload API Unix socket (default\n" AGENT_DEFAULT_SOCKET_PATH ")" },
	{ "sync-interval", "DURATION", OPT_SYNC_INTERVAL,
		"time between syncs of entries and bundle\n(default 5s)" },
	{ "log-format", "FORMAT", OPT_LOG_FORMAT, "text (default) or json" },
	{ "log-level", "LEVEL", OPT_LOG_LEVEL, "debug, info (default), warn or error" },
};

static const struct cli_spec run_spec = {
	.name = "agent run",
	.synopsis = "[--config FILE] [OPTIONS]",
	.description = "Runs the node agent: attests with a join token (or the identity saved\n"
		       "in the data directory), keeps the workloads' SVIDs current and serves the\n"
		       "SPIFFE Workload API on a Unix socket that any local process may call.\n"
		       "Prints SPIFFE_ENDPOINT_SOCKET=unix://PATH on stdout once it serves.\n"
		       "Stops on SIGTERM or SIGINT, and exits 1 when the server evicts, bans or\n"
		       "revokes the agent.\n",
	.options = run_options,
	.option_count = WD_ARRAY_LEN(run_options),
};

/* The daemon's state for the event callbacks. */
struct run_ctx {
	struct event_base *base;
	struct workload_api *api;
	const char *const *values;           /* the command line, for reloads */
	const struct agent_config *active;   /* the configuration in use */
	int exit_code;
	char reason[600];  /* state name and agent_status.reason */
};

/* Repeated --server-address flags join into one comma-separated list. The
 * command runs once per process, so static storage outlives every use. */
static char server_list[AGENT_MAX_SERVERS * 300];

static int add_server_address(const char **values, const char *value)
{
	size_t used;

	if (values[OPT_SERVER_ADDRESS] != server_list)
		snprintf(server_list, sizeof(server_list), "%s", values[OPT_SERVER_ADDRESS]);
	used = strlen(server_list);
	if (used + 1 + strlen(value) >= sizeof(server_list)) {
		fprintf(stderr, "warden: invalid --server-address: the addresses given are longer "
			"than %zu bytes together\n", sizeof(server_list) - 1);
		return CLI_EXIT_USAGE;
	}
	snprintf(server_list + used, sizeof(server_list) - used, ",%s", value);
	values[OPT_SERVER_ADDRESS] = server_list;
	return CLI_CONTINUE;
}

static int run_option(void *ctx, int id, const char *value)
{
	const char **values = ctx;

	if (id == OPT_SERVER_ADDRESS && values[id])
		return add_server_address(values, value);
	if (id >= 0 && id < OPT_COUNT)
		values[id] = value;
	return CLI_CONTINUE;
}

static void print_config_report(const struct config_report *report)
{
	for (size_t i = 0; i < report->count; i++)
		fprintf(stderr, "warden: %s\n", report->issues[i].text);
	if (report->dropped)
		fprintf(stderr, "warden: ... and %zu more configuration errors\n", report->dropped);
}

/* Loads the file, applies the flags and validates. Prints why on failure. */
static int load_config(const char *const *values, struct agent_config *config)
{
	struct config_report report = { 0 };
	struct wd_error err = { 0 };
	int rc;

	rc = agent_config_load(values[OPT_CONFIG], config, &report);
	if (rc < 0) {
		print_config_report(&report);
		config_report_free(&report);
		return CLI_EXIT_FAILURE;
	}
	config_report_free(&report);

	for (int id = 0; id < OPT_COUNT; id++) {
		if (!option_keys[id] || !values[id])
			continue;
		if (agent_config_set(config, option_keys[id], values[id], &err) < 0) {
			fprintf(stderr, "warden: invalid --%s: %s\n", run_options[id].name,
				wd_error_text(&err));
			return CLI_EXIT_USAGE;
		}
	}
	if (agent_config_validate(config, &err) < 0) {
		fprintf(stderr, "warden: %s\n", wd_error_text(&err));
		return CLI_EXIT_FAILURE;
	}
	return CLI_EXIT_OK;
}

static int configure_logging(const struct agent_config *config)
{
	enum log_level level;
	enum log_format format;

	if (log_level_parse(config->log_level, &level) < 0 ||
		log_format_parse(config->log_format, &format) < 0) {
		fprintf(stderr, "warden: invalid log_level '%s' or log_format '%s'\n",
			config->log_level, config->log_format);
		return CLI_EXIT_USAGE;
	}
	log_configure(stderr, format, level);
	return CLI_EXIT_OK;
}

static void on_stop_signal(evutil_socket_t sig, short what WD_UNUSED, void *arg)
{
	struct run_ctx *ctx = arg;

	log_info("agent", "stopping", "signal", sig == SIGINT ? "SIGINT" : "SIGTERM");
	event_base_loopbreak(ctx->base);
}

static bool setting_changed(const char *old_value, const char *new_value)
{
	if (!old_value || !new_value)
		return old_value != new_value;
	return strcmp(old_value, new_value) != 0;
}

/* Re-reads the configuration file (flags still override it) and applies
 * the log settings at once. The other settings shape the running node
 * identity and socket, so a change to them is logged as needing a
 * restart rather than applied half-way. An invalid file leaves everything
 * as it was. */
static void on_hangup(evutil_socket_t sig WD_UNUSED, short what WD_UNUSED, void *arg)
{
	struct run_ctx *ctx = arg;
	struct agent_config fresh = { 0 };
	const struct agent_config *active = ctx->active;

	if (!ctx->values[OPT_CONFIG]) {
		log_info("agent", "SIGHUP received: started without --config, nothing to reload");
		return;
	}
	if (load_config(ctx->values, &fresh) != CLI_EXIT_OK) {
		log_error("agent", "SIGHUP: configuration not reloaded, keeping the running one",
			"config", ctx->values[OPT_CONFIG]);
		agent_config_free(&fresh);
		return;
	}

	if (configure_logging(&fresh) == CLI_EXIT_OK)
		log_info("agent", "SIGHUP: configuration reloaded", "config", ctx->values[OPT_CONFIG],
			"log_level", fresh.log_level, "log_format", fresh.log_format);

	if (setting_changed(active->server_address, fresh.server_address))
		log_warn("agent", "setting changed; restart to apply", "key", "server_address");
	if (setting_changed(active->trust_domain, fresh.trust_domain))
		log_warn("agent", "setting changed; restart to apply", "key", "trust_domain");
	if (setting_changed(active->trust_bundle_path, fresh.trust_bundle_path))
		log_warn("agent", "setting changed; restart to apply", "key", "trust_bundle_path");
	if (setting_changed(active->data_dir, fresh.data_dir))
		log_warn("agent", "setting changed; restart to apply", "key", "data_dir");
	if (setting_changed(active->socket_path, fresh.socket_path))
		log_warn("agent", "setting changed; restart to apply", "key", "socket_path");
	if (active->sync_interval_seconds != fresh.sync_interval_seconds)
		log_warn("agent", "setting changed; restart to apply", "key", "sync_interval");
	agent_config_free(&fresh);
}

/* The server evicted, banned or revoked the agent: stop serving at once. */
static void on_agent_state(const struct agent_status *status, void *arg)
{
	struct run_ctx *ctx = arg;

	snprintf(ctx->reason, sizeof(ctx->reason), "%s: %s", agent_state_name(status->state),
		status->reason);
	log_error("agent", "agent stopped serving", "state", agent_state_name(status->state),
		"spiffe_id", status->spiffe_id, "reason", status->reason);
	workload_api_close_streams(ctx->api, "agent stopped serving");
	ctx->exit_code = CLI_EXIT_FAILURE;
	event_base_loopbreak(ctx->base);
}

static void on_grpc_error(int code, const char *detail, void *arg WD_UNUSED)
{
	log_warn("workload_api", "connection error", "error", detail ? detail : wd_strerror(code));
}

/* Creates the socket's directory (0755, so that every local user can reach
 * the 0666 socket) and listens. */
static int listen_socket(struct grpc_server *server, const char *path, struct wd_error *err)
{
	char dir[PATH_MAX];
	int n = snprintf(dir, sizeof(dir), "%s", path);

	if (n < 0 || (size_t)n >= sizeof(dir))
		return wd_error_set(err, WD_EINVAL, "socket path '%s' is too long", path);
	WD_TRY(wd_mkdir_p(dirname(dir), 0755, err));
	/* Any local process may call: the kernel's peer credentials, not the
	 * socket's mode, decide what it gets. */
	return grpc_server_listen_unix(server, path, 0666, err);
}

/* Runs the loop until a stop signal or the agent stops serving. */
static int serve(struct run_ctx *ctx, struct agent *agent, const struct agent_config *config)
{
	struct grpc_server *server = NULL;
	struct event *signals[3] = { 0 };
	const int signal_numbers[3] = { SIGTERM, SIGINT, SIGHUP };
	struct agent_status status;
	struct wd_error err = { 0 };
	int rc;

	WD_GUARD(workload_api_new(ctx->base, agent_cache(agent), NULL, &ctx->api, &err));
	workload_api_set_log(ctx->api, agent_log_write, NULL);
	WD_GUARD(grpc_server_new(ctx->base, NULL, &server, &err));
	grpc_server_set_error_cb(server, on_grpc_error, NULL);
	WD_GUARD(workload_api_register(ctx->api, server, &err));
	for (size_t i = 0; i < WD_ARRAY_LEN(signals); i++) {
		signals[i] = evsignal_new(ctx->base, signal_numbers[i],
			signal_numbers[i] == SIGHUP ? on_hangup : on_stop_signal, ctx);
		WD_ENSURE(signals[i] && evsignal_add(signals[i], NULL) == 0, WD_EINTERNAL);
	}
	WD_GUARD(listen_socket(server, config->socket_path, &err));

	agent_status(agent, &status);
	printf("SPIFFE_ENDPOINT_SOCKET=unix://%s\n", config->socket_path);
	fflush(stdout);
	log_info("agent", "agent started", "spiffe_id", status.spiffe_id, "socket",
		config->socket_path, "server", config->server_address);

	if (event_base_dispatch(ctx->base) < 0)
		rc = wd_error_set(&err, WD_EINTERNAL, "event loop failed");
out:
	if (rc < 0) {
		log_error("agent", "agent failed", "error", wd_error_text(&err));
		ctx->exit_code = CLI_EXIT_FAILURE;
	}
	/* The server first: it unlinks the socket and closes every call before
	 * the service behind them goes away. */
	grpc_server_free(server);
	workload_api_free(ctx->api);
	ctx->api = NULL;
	for (size_t i = 0; i < WD_ARRAY_LEN(signals); i++) {
		if (signals[i])
			event_free(signals[i]);
	}
	return rc;
}

int cmd_agent_run(int argc, char **argv)
{
	const char *values[OPT_COUNT] = { 0 };
	struct agent_config config = { 0 };
	struct run_ctx ctx = { 0 };
	struct agent *agent = NULL;
	struct wd_error err = { 0 };
	struct cli_common common;
	char **operands;
	size_t count;
	int rc;

	rc = cli_parse(&run_spec, argc, argv, run_option, (void *)values, &common, &operands,
		&count);
	if (rc != CLI_CONTINUE)
		return rc;
	rc = load_config(values, &config);
	if (rc == CLI_EXIT_OK)
		rc = configure_logging(&config);
	ctx.values = values;
	ctx.active = &config;
	if (rc != CLI_EXIT_OK)
		goto out;

	/* Threads of the agent wake the loop, so libevent needs its locks
	 * before the base exists. */
	if (evthread_use_pthreads() < 0 || !(ctx.base = event_base_new())) {
		fprintf(stderr, "warden: cannot create the event loop\n");
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	if (agent_new(&config, ctx.base, &agent, &err) < 0) {
		log_error("agent", "agent failed", "error", wd_error_text(&err));
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	agent_set_log(agent, agent_log_write, NULL);
	agent_set_state_cb(agent, on_agent_state, &ctx);
	if (agent_start(agent, &err) < 0) {
		log_error("agent", "agent failed to start", "error", wd_error_text(&err),
			"server", config.server_address);
		fprintf(stderr, "warden: agent failed to start: %s\n", wd_error_text(&err));
		rc = CLI_EXIT_FAILURE;
		goto out;
	}

	(void)serve(&ctx, agent, &config);
	agent_stop(agent);
	if (ctx.reason[0])
		fprintf(stderr, "warden: agent stopped: %s\n", ctx.reason);
	log_info("agent", "agent stopped");
	rc = ctx.exit_code;
out:
	agent_free(agent);
	if (ctx.base)
		event_base_free(ctx.base);
	agent_config_free(&config);
	return rc;
}
