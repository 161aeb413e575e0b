/* `warden proxy`: runs the mTLS sidecar. Listeners come from a YAML file
 * (--config) or from flags for a single listener; flags given with a file
 * override its settings. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_args.h"
#include "cli/commands.h"
#include "common/log.h"
#include "proxy/proxy.h"

enum proxy_option {
	OPT_CONFIG = 256,
	OPT_INBOUND,
	OPT_OUTBOUND,
	OPT_FORWARD,
	OPT_UPSTREAM,
	OPT_HTTP,
	OPT_ALLOW,
	OPT_EXPECT,
	OPT_SERVER_NAME,
	OPT_NAME,
	OPT_POLICY,
	OPT_POLICY_SERVER,
	OPT_POLICY_SERVER_ID,
	OPT_DECISION,
	OPT_JWKS,
	OPT_JWT_ISSUER,
	OPT_JWT_AUDIENCE,
	OPT_WORKLOAD_API,
	OPT_CERT,
	OPT_KEY,
	OPT_BUNDLE,
	OPT_CRL,
	OPT_WORKERS,
	OPT_MAX_CONNECTIONS,
	OPT_METRICS,
	OPT_ACCESS_LOG,
	OPT_AUDIT,
	OPT_AUDIT_SAMPLE,
	OPT_HANDSHAKE_TIMEOUT,
	OPT_HEADER_TIMEOUT,
	OPT_IDLE_TIMEOUT,
	OPT_TOTAL_TIMEOUT,
	OPT_CONNECT_TIMEOUT,
	OPT_NO_RESUME,
	OPT_LOG_LEVEL,
	OPT_HELP,
};

static const struct option longopts[] = {
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "inbound", required_argument, NULL, OPT_INBOUND },
	{ "outbound", required_argument, NULL, OPT_OUTBOUND },
	{ "forward", required_argument, NULL, OPT_FORWARD },
	{ "upstream", required_argument, NULL, OPT_UPSTREAM },
	{ "http", no_argument, NULL, OPT_HTTP },
	{ "allow", required_argument, NULL, OPT_ALLOW },
	{ "expect", required_argument, NULL, OPT_EXPECT },
	{ "server-name", required_argument, NULL, OPT_SERVER_NAME },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "policy", required_argument, NULL, OPT_POLICY },
	{ "policy-server", required_argument, NULL, OPT_POLICY_SERVER },
	{ "policy-server-id", required_argument, NULL, OPT_POLICY_SERVER_ID },
	{ "decision", required_argument, NULL, OPT_DECISION },
	{ "jwks", required_argument, NULL, OPT_JWKS },
	{ "jwt-issuer", required_argument, NULL, OPT_JWT_ISSUER },
	{ "jwt-audience", required_argument, NULL, OPT_JWT_AUDIENCE },
	{ "workload-api", required_argument, NULL, OPT_WORKLOAD_API },
	{ "cert", required_argument, NULL, OPT_CERT },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "bundle", required_argument, NULL, OPT_BUNDLE },
	{ "crl", required_argument, NULL, OPT_CRL },
	{ "workers", required_argument, NULL, OPT_WORKERS },
	{ "max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS },
	{ "metrics-listen", required_argument, NULL, OPT_METRICS },
	{ "access-log", required_argument, NULL, OPT_ACCESS_LOG },
	{ "audit", required_argument, NULL, OPT_AUDIT },
	{ "audit-allow-sample", required_argument, NULL, OPT_AUDIT_SAMPLE },
	{ "handshake-timeout", required_argument, NULL, OPT_HANDSHAKE_TIMEOUT },
	{ "header-timeout", required_argument, NULL, OPT_HEADER_TIMEOUT },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT },
	{ "total-timeout", required_argument, NULL, OPT_TOTAL_TIMEOUT },
	{ "connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT },
	{ "no-resume", no_argument, NULL, OPT_NO_RESUME },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: warden proxy --config FILE [OPTIONS]\n"
		"       warden proxy --inbound ADDR --forward ADDR [--http] [--allow ID]... IDENTITY\n"
		"       warden proxy --outbound ADDR --upstream ADDR [--http] [--expect ID]... IDENTITY\n\n"
		"Puts mutual TLS in front of an application. An inbound listener requires a\n"
		"client SVID, checks the caller's SPIFFE ID and forwards plaintext to a local\n"
		"address; an outbound listener takes plaintext from the application and opens\n"
		"mTLS to the upstream, checking the server's SPIFFE ID. With --http each\n"
		"request is parsed, evaluated by the Rego policy (--policy) and forwarded with\n"
		"an X-Forwarded-Client-Cert header; a denied request gets 403.\n\n"
		"listener (one from flags; more in the file):\n"
		"  --inbound ADDR            TLS listen address (host:port)\n"
		"  --forward ADDR            plaintext address of the application\n"
		"  --outbound ADDR           plaintext listen address for the application\n"
		"  --upstream ADDR           address of the peer's inbound proxy\n"
		"  --http                    HTTP/1.1 mode (default: TCP)\n"
		"  --allow PATTERN           caller SPIFFE IDs to accept (inbound; repeatable;\n"
		"                            '*' matches one path segment, a final '/**' any)\n"
		"  --expect PATTERN          server SPIFFE IDs to accept (outbound; repeatable)\n"
		"  --server-name NAME        SNI sent to the upstream\n"
		"  --name NAME               listener name for logs and metrics\n\n"
		"identity (one of):\n"
		"  --workload-api PATH       agent's Workload API socket (SVIDs, bundles, CRLs)\n"
		"  --cert FILE --key FILE --bundle FILE [--crl FILE]\n"
		"                            PEM files, reloaded when they change\n\n"
		"policy (HTTP listeners):\n"
		"  --policy PATH             .rego file or directory, reloaded when it changes\n"
		"  --policy-server URL[,URL] poll the server's policy API (https://host:port);\n"
		"                            with a list, fail over between servers\n"
		"  --policy-server-id ID     expected SPIFFE ID of that server\n"
		"  --decision REF            rule to evaluate (default data.proxy.allow)\n"
		"  --jwks FILE               keys that verify Bearer JWTs for input.request.jwt\n"
		"  --jwt-issuer ISS          required iss claim\n"
		"  --jwt-audience AUD        accepted aud (repeatable)\n\n"
		"engine and output:\n"
		"  --workers N               worker threads (default: one per core)\n"
		"  --max-connections N       open caller connections (default 10000)\n"
		"  --handshake-timeout D     e.g. 10s (default); also --header-timeout 10s,\n"
		"                            --idle-timeout 5m, --total-timeout 0 (none),\n"
		"                            --connect-timeout 5s (to the forward or upstream)\n"
		"  --no-resume               no TLS session resumption\n"
		"  --metrics-listen ADDR     Prometheus /metrics on a loopback address\n"
		"  --access-log PATH         JSON lines per connection or request ('-': stderr,\n"
		"                            'off': none; default off)\n"
		"  --audit PATH              hash-chained audit log of decisions\n"
		"  --audit-allow-sample N    audit one allowed request in N (default 100;\n"
		"                            denials are always audited)\n"
		"  --log-level LEVEL         debug, info (default), warn or error\n");
}

/* Replaces *slot with a copy of value. */
static int set_string(char **slot, const char *value)
{
	char *copy = strdup(value);

	if (!copy)
		return CLI_EXIT_FAILURE;
	free(*slot);
	*slot = copy;
	return CLI_CONTINUE;
}

static int parse_duration_flag(const char *flag, const char *text, unsigned *ret_ms)
{
	char *end;
	unsigned long long n = strtoull(text, &end, 10);
	unsigned long long scale = 1000;

	if (end == text)
		goto bad;
	if (strcmp(end, "ms") == 0)
		scale = 1;
	else if (strcmp(end, "m") == 0)
		scale = 60000;
	else if (strcmp(end, "h") == 0)
		scale = 3600000;
	else if (*end && strcmp(end, "s") != 0)
		goto bad;
	if (n > 4000000000ull / scale)
		goto bad;
	*ret_ms = (unsigned)(n * scale);
	return CLI_CONTINUE;
bad:
	fprintf(stderr, "warden proxy: invalid %s '%s': expected a duration such as 500ms, 10s "
			"or 5m\n", flag, text);
	return CLI_EXIT_USAGE;
}

static int parse_count(const char *flag, const char *text, unsigned long max, unsigned *ret)
{
	char *end;
	unsigned long n = strtoul(text, &end, 10);

	if (end == text || *end || n > max || text[0] == '-') {
		fprintf(stderr, "warden proxy: invalid %s '%s': expected a number up to %lu\n",
			flag, text, max);
		return CLI_EXIT_USAGE;
	}
	*ret = (unsigned)n;
	return CLI_CONTINUE;
}

struct flag_listener {
	struct proxy_listener_config l;
	bool set;
	struct cli_strings patterns;
	const char *listen_flag;
};

/* Applies one option; returns CLI_CONTINUE or an exit code. */
static int apply_option(int ch, const char *arg, struct proxy_config *c, struct flag_listener *f)
{
	switch (ch) {
	case OPT_INBOUND:
	case OPT_OUTBOUND:
		if (f->set) {
			fprintf(stderr, "warden proxy: give one of --inbound and --outbound; use "
					"--config for more listeners\n");
			return CLI_EXIT_USAGE;
		}
		f->set = true;
		f->l.direction = ch == OPT_INBOUND ? PROXY_INBOUND : PROXY_OUTBOUND;
		f->l.listen = (char *)arg;
		f->listen_flag = ch == OPT_INBOUND ? "--inbound" : "--outbound";
		return CLI_CONTINUE;
	case OPT_FORWARD:
	case OPT_UPSTREAM:
		f->l.target = (char *)arg;
		return CLI_CONTINUE;
	case OPT_HTTP:
		f->l.protocol = PROXY_HTTP;
		return CLI_CONTINUE;
	case OPT_ALLOW:
	case OPT_EXPECT:
		return cli_strings_append(&f->patterns, arg);
	case OPT_SERVER_NAME:
		f->l.server_name = (char *)arg;
		return CLI_CONTINUE;
	case OPT_NAME:
		f->l.name = (char *)arg;
		return CLI_CONTINUE;
	case OPT_POLICY:
		f->l.use_policy = true;
		return set_string(&c->policy_path, arg);
	case OPT_POLICY_SERVER:
		f->l.use_policy = true;
		return set_string(&c->policy_server, arg);
	case OPT_POLICY_SERVER_ID:
		return set_string(&c->policy_server_id, arg);
	case OPT_DECISION:
		return set_string(&c->decision, arg);
	case OPT_JWKS:
		return set_string(&c->jwks_path, arg);
	case OPT_JWT_ISSUER:
		return set_string(&c->jwt_issuer, arg);
	case OPT_JWT_AUDIENCE: {
		char **grown = realloc(c->jwt_audiences,
			(c->jwt_audience_count + 1) * sizeof(char *));

		if (!grown)
			return CLI_EXIT_FAILURE;
		c->jwt_audiences = grown;
		c->jwt_audiences[c->jwt_audience_count] = strdup(arg);
		if (!c->jwt_audiences[c->jwt_audience_count])
			return CLI_EXIT_FAILURE;
		c->jwt_audience_count++;
		return CLI_CONTINUE;
	}
	case OPT_WORKLOAD_API:
		return set_string(&c->workload_api_socket, arg);
	case OPT_CERT:
		return set_string(&c->cert_path, arg);
	case OPT_KEY:
		return set_string(&c->key_path, arg);
	case OPT_BUNDLE:
		return set_string(&c->bundle_path, arg);
	case OPT_CRL:
		return set_string(&c->crl_path, arg);
	case OPT_WORKERS:
		return parse_count("--workers", arg, 256, &c->workers);
	case OPT_MAX_CONNECTIONS:
		return parse_count("--max-connections", arg, 1000000, &c->max_connections);
	case OPT_AUDIT_SAMPLE:
		return parse_count("--audit-allow-sample", arg, 1000000, &c->audit_allow_sample);
	case OPT_METRICS:
		return set_string(&c->metrics_listen, arg);
	case OPT_ACCESS_LOG:
		if (strcmp(arg, "off") == 0) {
			free(c->access_log);
			c->access_log = NULL;
			return CLI_CONTINUE;
		}
		return set_string(&c->access_log, arg);
	case OPT_AUDIT:
		return set_string(&c->audit_path, arg);
	case OPT_HANDSHAKE_TIMEOUT:
		return parse_duration_flag("--handshake-timeout", arg, &c->timeouts.handshake_ms);
	case OPT_HEADER_TIMEOUT:
		return parse_duration_flag("--header-timeout", arg, &c->timeouts.header_ms);
	case OPT_IDLE_TIMEOUT:
		return parse_duration_flag("--idle-timeout", arg, &c->timeouts.idle_ms);
	case OPT_TOTAL_TIMEOUT:
		return parse_duration_flag("--total-timeout", arg, &c->timeouts.total_ms);
	case OPT_CONNECT_TIMEOUT:
		return parse_duration_flag("--connect-timeout", arg, &c->timeouts.connect_ms);
	case OPT_NO_RESUME:
		c->session_resumption = false;
		return CLI_CONTINUE;
	default:
		return CLI_EXIT_USAGE;
	}
}

static int check_flag_listener(struct flag_listener *f)
{
	if (!f->set) {
		if (f->l.target || f->patterns.count || f->l.protocol == PROXY_HTTP) {
			fprintf(stderr, "warden proxy: listener flags need --inbound or "
					"--outbound\n");
			return CLI_EXIT_USAGE;
		}
		return CLI_CONTINUE;
	}
	if (!f->l.target) {
		fprintf(stderr, "warden proxy: %s needs %s\n", f->listen_flag,
			f->l.direction == PROXY_INBOUND ? "--forward ADDR" : "--upstream ADDR");
		return CLI_EXIT_USAGE;
	}
	f->l.patterns = (char **)f->patterns.items;
	f->l.pattern_count = f->patterns.count;
	return CLI_CONTINUE;
}

int cmd_proxy(int argc, char **argv)
{
	struct proxy_config config;
	struct flag_listener flags = { 0 };
	struct wd_error err = { 0 };
	const char *config_path = NULL, *log_level = "info";
	enum log_level level;
	int ch, rc = CLI_EXIT_USAGE;

	proxy_config_init(&config);

	/* First pass: the file, which the other flags then override. */
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (ch == OPT_CONFIG)
			config_path = optarg;
		if (ch == 'h' || ch == OPT_HELP) {
			usage(stdout);
			return CLI_EXIT_OK;
		}
		if (ch == '?' || ch == ':') {
			fprintf(stderr, "warden proxy: %s option '%s'\n",
				ch == ':' ? "missing value for" : "unknown", argv[optind - 1]);
			usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "warden proxy: unexpected argument '%s'\n", argv[optind]);
		return CLI_EXIT_USAGE;
	}
	if (config_path && proxy_config_load_file(&config, config_path, &err) < 0) {
		fprintf(stderr, "warden proxy: %s\n", err.detail);
		proxy_config_free(&config);
		return CLI_EXIT_FAILURE;
	}

	optind = 0;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (ch == OPT_CONFIG)
			continue;
		if (ch == OPT_LOG_LEVEL) {
			log_level = optarg;
			continue;
		}
		rc = apply_option(ch, optarg, &config, &flags);
		if (rc != CLI_CONTINUE)
			goto out;
	}
	rc = check_flag_listener(&flags);
	if (rc != CLI_CONTINUE)
		goto out;
	if (log_level_parse(log_level, &level) < 0) {
		fprintf(stderr, "warden proxy: invalid --log-level '%s': use debug, info, warn or "
				"error\n", log_level);
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	log_configure(stderr, LOG_FORMAT_TEXT, level);
	if (flags.set && proxy_config_add_listener(&config, &flags.l, &err) < 0) {
		fprintf(stderr, "warden proxy: %s\n", err.detail);
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	if (proxy_config_validate(&config, &err) < 0) {
		fprintf(stderr, "warden proxy: %s\n", err.detail);
		rc = CLI_EXIT_USAGE;
		goto out;
	}

	rc = proxy_run(&config, &err) < 0 ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
	if (rc != CLI_EXIT_OK)
		fprintf(stderr, "warden proxy: %s\n", err.detail);
out:
	cli_strings_free(&flags.patterns);
	proxy_config_free(&config);
	return rc;
}
