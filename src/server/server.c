/* Start-up, the event loop and shutdown of `warden server`. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/file.h"
#include "common/log.h"
#include "common/time.h"
#include "crypto/key.h"
#include "crypto/x509.h"
#include "identity/x509svid.h"
#include "secrets/secrets.h"
#include "server/admission.h"
#include "server/policy_state.h"
#include "server/server_internal.h"

static const enum crypto_key_type key_types[] = {
	CRYPTO_KEY_EC_P256,
	CRYPTO_KEY_EC_P384,
	CRYPTO_KEY_RSA_2048,
};

/* Keeps private keys out of core dumps and, where allowed, out of swap. */
static void harden_process(const struct server_config *config)
{
	struct rlimit no_core = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &no_core) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		log_warn("server", "core dumps could not be disabled", "error", strerror(errno));

#if defined(__SANITIZE_ADDRESS__)
	/* AddressSanitizer reserves terabytes of shadow memory that cannot be
	 * locked. */
	(void)config;
#else
	if (config->lock_memory && mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
		log_warn("server", "memory not locked; keys may reach swap", "error", strerror(errno),
			"hint", "run as root or raise RLIMIT_MEMLOCK, or set lock_memory: false");
#endif
	umask(077);
}

static int path_join(char *out, size_t out_len, const char *dir, const char *name,
	struct wd_error *err)
{
	int n = snprintf(out, out_len, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= out_len)
		return wd_error_set(err, WD_ETOOBIG, "path too long: %s/%s", dir, name);
	return 0;
}

/* Refuses a data directory whose CA belongs to another trust domain: its
 * SVIDs would name one trust domain and chain to another's CA. */
static int check_trust_domain(struct server_ctx *ctx, struct wd_error *err)
{
	STACK_OF(X509) *authorities = NULL;
	struct spiffe_id ca_id;
	int rc;

	WD_GUARD(authority_x509_authorities(ctx->authority, &authorities, err));
	WD_ENSURE(sk_X509_num(authorities) > 0, WD_ECORRUPT);
	WD_GUARD(x509svid_spiffe_id(sk_X509_value(authorities, 0), &ca_id, err));
	if (strcmp(ca_id.trust_domain, ctx->config->trust_domain) != 0) {
		rc = wd_error_set(err, WD_ECONFIG,
			"data directory %s holds the CA of trust domain %s, not %s: use another data_dir",
			ctx->config->data_dir, ca_id.trust_domain, ctx->config->trust_domain);
		goto out;
	}
	rc = 0;
out:
	sk_X509_pop_free(authorities, X509_free);
	return rc;
}

/* Refuses a data directory that others may write to: anyone who can
 * replace files in it can replace the CA keys or drop the audit log. */
static int check_data_dir(const char *data_dir, struct wd_error *err)
{
	struct stat st;

	if (stat(data_dir, &st) < 0)
		return wd_error_set(err, WD_EIO, "cannot stat data_dir %s: %s", data_dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return wd_error_set(err, WD_ECONFIG, "data_dir %s is not a directory", data_dir);
	if (st.st_mode & 022)
		return wd_error_set(err, WD_EPERM,
			"data_dir %s is writable by group or others (mode %04o): run chmod 700 %s",
			data_dir, (unsigned)(st.st_mode & 07777), data_dir);
	return 0;
}

/* Checks the whole audit chain before the server appends to it, so a chain
 * that was edited, truncated or deleted while the server was down is found
 * at start rather than extended as if it were intact. store_path is the
 * SQLite file, or NULL for a PostgreSQL datastore. Each server sharing one
 * keeps its own log, so state in the database does not show that this
 * log went missing. */
static int check_audit_chain(const char *audit_path, const char *store_path,
	struct wd_error *err)
{
	struct audit_verify_result result;
	struct stat st;
	int rc;

	if (stat(audit_path, &st) < 0) {
		if (errno == ENOENT && store_path && stat(store_path, &st) == 0)
			return wd_error_set(err, WD_ECORRUPT,
				"audit log %s is missing but the datastore %s holds state: restore the log, "
				"or move the datastore aside to start over", audit_path, store_path);
		return 0;
	}
	WD_TRY(wd_file_check_private(audit_path, err));
	rc = audit_verify_file(audit_path, &result, err);
	if (rc < 0) {
		if (result.first_bad == 0)
			return rc;
		return wd_error_set(err, WD_ECORRUPT,
			"audit chain %s is broken at record %llu: %s; run 'warden audit verify %s', "
			"and move the file aside to start a new chain", audit_path,
			(unsigned long long)result.first_bad, result.reason, audit_path);
	}
	return 0;
}

static int open_state(struct server_ctx *ctx, struct wd_error *err)
{
	const struct server_config *config = ctx->config;
	struct authority_config authority_config;
	struct registry_options registry_options = { 0 };
	struct rego_limits policy_limits = { 0 };
	struct authority_changes changes;
	char path[PATH_MAX];

	char store_path[PATH_MAX];
	const char *store_url = store_path;
	const char *store_file = store_path;

	WD_TRY(wd_mkdir_p(config->data_dir, 0700, err));
	WD_TRY(check_data_dir(config->data_dir, err));

	WD_TRY(path_join(store_path, sizeof(store_path), config->data_dir, "datastore.sqlite3", err));
	if (config->datastore) {
		store_url = config->datastore;
		store_file = strncmp(store_url, "sqlite:", 7) == 0 ? store_url + 7 : NULL;
	}
	WD_TRY(path_join(path, sizeof(path), config->data_dir, "audit.log", err));
	WD_TRY(check_audit_chain(path, store_file, err));

	WD_TRY(store_open(store_url, NULL, &ctx->store, err));
	WD_TRY(server_caller_cache_init(ctx, err));
	WD_TRY(server_singleton_open(ctx, store_url, err));
	WD_TRY(audit_open(path, &ctx->audit, err));

	authority_config_init(&authority_config);
	authority_config.trust_domain = config->trust_domain;
	authority_config.data_dir = config->data_dir;
	authority_config.ca_key_type = key_types[config->identity.ca_key_type];
	authority_config.jwt_rsa_alg = config->identity.jwt_rsa_alg ? JWTSVID_PS256 : JWTSVID_RS256;
	authority_config.ca_ttl_seconds = config->identity.ca_ttl;
	authority_config.x509_backdate_seconds = config->identity.clock_skew;
	authority_config.refresh_hint_seconds = config->identity.refresh_hint;
	authority_config.crl_next_update_seconds = config->identity.crl_next_update;
	authority_config.x509_svid_ttl_seconds = config->identity.default_x509_svid_ttl;
	authority_config.jwt_svid_ttl_seconds = config->identity.default_jwt_svid_ttl;
	if (authority_svid_ttl_exceeds_limit(&authority_config)) {
		char limit[32];

		snprintf(limit, sizeof(limit), "%lld",
			(long long)authority_svid_ttl_limit(&authority_config));
		log_warn("server",
			"SVID TTL above one sixth of the CA TTL: CA rotation will cut SVIDs short",
			"limit_seconds", limit);
	}
	WD_TRY(authority_open(&authority_config, ctx->store, wd_now(), &ctx->authority, err));
	WD_TRY(check_trust_domain(ctx, err));
	/* On a shared datastore rotation waits for the singleton lock. */
	if (!ctx->singleton.shared)
		WD_TRY(authority_tick(ctx->authority, wd_now(), &changes, err));

	registry_options.trust_domain = config->trust_domain;
	WD_TRY(registry_open(ctx->store, &registry_options, &ctx->registry, err));
	WD_TRY(admission_open(&config->admission, ctx->store, &ctx->admission, err));

	policy_limits.max_steps = (uint64_t)config->policy.max_steps;
	policy_limits.max_depth = (uint32_t)config->policy.max_depth;
	policy_limits.max_memory = (size_t)config->policy.max_memory;
	policy_limits.max_module_bytes = (size_t)config->policy.max_module_bytes;
	WD_TRY(policy_state_open(ctx->store, &policy_limits, &ctx->policy, err));
	return 0;
}

static int open_secrets(struct server_ctx *ctx, struct wd_error *err)
{
	const struct server_config *config = ctx->config;
	struct secrets_config secrets_config = {
		.dev = config->secrets.dev,
		.dev_root_token = config->secrets.dev_root_token,
		.default_lease_ttl = config->secrets.default_lease_ttl,
		.max_lease_ttl = config->secrets.max_lease_ttl,
		.rego_policy_path = config->secrets.rego_policy,
	};

	if (ctx->singleton.shared) {
		secrets_config.node_id = ctx->singleton.node_id;
		secrets_config.claim_stale_seconds = ctx->singleton.takeover;
	}

	WD_TRY(server_check_ca_keys(ctx, err));
	if (config->secrets.dev) {
		log_info("server", "dev mode: the CA keys stay unencrypted, because the dev barrier "
			"that would keep their key-encryption key is wiped at every start");
	} else {
		secrets_config.on_unseal = server_on_secrets_unseal;
		secrets_config.on_seal = server_on_secrets_seal;
		secrets_config.callback_arg = ctx;
	}
	return secrets_open(ctx->store, ctx->audit, ctx->base, ctx->authority, &secrets_config,
		&ctx->secrets, err);
}

static int parse_uids(const struct config_strings *list, uid_t *uids, size_t max,
	size_t *ret_count)
{
	size_t count = 0;

	for (size_t i = 0; i < list->count && count < max; i++)
		uids[count++] = (uid_t)strtoul(list->items[i], NULL, 10);
	*ret_count = count;
	return 0;
}

/* sys/unseal and sys/seal-status on the admin socket, for a restart whose
 * sealed CA cannot give the TLS listeners a certificate clients trust. */
static size_t add_seal_routes(struct server_ctx *ctx,
	struct net_route routes[static SERVER_MAX_ROUTES], size_t count)
{
	struct net_route seal_routes[SECRETS_MAX_SEAL_ROUTES];
	size_t seal_count = secrets_build_seal_routes(ctx->secrets, seal_routes);

	for (size_t i = 0; i < seal_count && count < SERVER_MAX_ROUTES; i++) {
		seal_routes[i].auth = NET_AUTH_UNIX;
		routes[count++] = seal_routes[i];
	}
	return count;
}

static int open_listeners(struct server_ctx *ctx, struct wd_error *err)
{
	const struct server_config *config = ctx->config;
	struct net_route routes[SERVER_MAX_ROUTES];
	struct server_tls_material material;
	struct net_limits limits;
	uid_t uids[SERVER_MAX_ADMIN_UIDS];
	size_t uid_count = 0;
	size_t route_count;
	char *socket_dir = NULL;
	int rc;

	net_limits_default(&limits);
	limits.max_body_bytes = (size_t)config->limits.max_body_bytes;
	limits.max_header_count = (size_t)config->limits.max_header_count;
	limits.read_timeout_ms = (unsigned)(config->limits.read_timeout * 1000);
	limits.idle_timeout_ms = (unsigned)(config->limits.idle_timeout * 1000);
	limits.request_timeout_ms = (unsigned)(config->limits.request_timeout * 1000);
	limits.handshake_timeout_ms = (unsigned)(config->limits.handshake_timeout * 1000);
	limits.max_connections = (size_t)config->limits.max_connections;
	limits.max_connections_per_ip = (size_t)config->limits.max_connections_per_ip;
	WD_TRY(net_server_new(ctx->base, &limits, &ctx->net, err));
	if (net_ratelimit_new((unsigned)config->limits.attestations_per_second,
		(unsigned)config->limits.attestation_burst, SERVER_ATTEST_RATE_KEYS,
		&ctx->attest_limit) < 0)
		return wd_error_set(err, WD_ENOMEM, "out of memory creating the attestation "
			"rate limit");

	WD_TRY(crypto_key_generate(CRYPTO_KEY_EC_P256, &ctx->server_key, err));
	WD_TRY(server_tls_material_build(ctx, wd_now(), &material, err));
	route_count = server_build_routes(ctx, false, routes);
	rc = net_listener_add_tls(ctx->net, config->identity.listen, &material.config, routes,
		route_count, &ctx->tls_listener, &ctx->port, err);
	if (rc == 0) {
		struct net_tls_config policy_tls = material.config;

		/* Every policy route needs an SVID, so a client without one is
		 * refused in the handshake. */
		policy_tls.client_cert = NET_CLIENT_CERT_REQUIRED;
		route_count = server_build_policy_routes(ctx, false, routes, 0);
		rc = net_listener_add_tls(ctx->net, config->policy.listen, &policy_tls, routes,
			route_count, &ctx->policy_listener, &ctx->policy_port, err);
	}
	if (rc == 0) {
		struct net_route secrets_routes[SECRETS_MAX_ROUTES];

		/* Tokens are the usual credential here; a client certificate is
		 * asked for but optional, for cert login. */
		route_count = secrets_build_routes(ctx->secrets, secrets_routes);
		rc = net_listener_add_tls(ctx->net, config->secrets.listen, &material.config,
			secrets_routes, route_count, &ctx->secrets_listener, &ctx->secrets_port, err);
	}
	if (rc == 0) {
		ctx->server_svid_renew_at = material.renew_at;
		ctx->serving_from_file = material.from_file;
		ctx->listener_sequence = authority_bundle_sequence(ctx->authority);
	}
	server_tls_material_clear(&material);
	WD_TRY(rc);

	/* The socket's directory is created for the admin socket alone, readable
	 * by all so that allowed non-root uids can reach the socket. */
	socket_dir = strdup(config->admin.socket);
	if (!socket_dir)
		return WD_ENOMEM;
	*strrchr(socket_dir, '/') = '\0';
	if (socket_dir[0]) {
		/* The process umask is 077; the socket directory alone is opened
		 * up so that allowed non-root uids can reach the socket. */
		mode_t old_umask = umask(022);

		rc = wd_mkdir_p(socket_dir, 0755, err);
		umask(old_umask);
	} else {
		rc = 0;
	}
	free(socket_dir);
	WD_TRY(rc);

	WD_TRY(parse_uids(&config->admin.allowed_uids, uids, WD_ARRAY_LEN(uids), &uid_count));
	route_count = server_build_routes(ctx, true, routes);
	route_count = server_build_policy_routes(ctx, true, routes, route_count);
	route_count = add_seal_routes(ctx, routes, route_count);

	/* Root alone needs no one else to connect. With allowed uids the file
	 * is open to all and SO_PEERCRED decides, since the allowed users need
	 * not share a group. */
	WD_TRY(net_listener_add_unix(ctx->net, config->admin.socket, uid_count ? 0666 : 0600, uids,
		uid_count, routes, route_count, NULL, err));
	{
		struct stat st;

		if (lstat(config->admin.socket, &st) == 0) {
			ctx->admin_socket_dev = st.st_dev;
			ctx->admin_socket_ino = st.st_ino;
		}
	}
	return 0;
}

static void on_stop_signal(evutil_socket_t signal_number, short events, void *arg)
{
	struct server_ctx *ctx = arg;

	(void)events;
	log_info("server", "stopping", "signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
	event_base_loopbreak(ctx->base);
}

/* Certificates renew by themselves and configuration changes need a
 * restart, so SIGHUP only renews the serving certificate at once. */
static void on_reload_signal(evutil_socket_t signal_number, short events, void *arg)
{
	struct server_ctx *ctx = arg;
	struct wd_error err;

	(void)signal_number;
	(void)events;
	wd_error_clear(&err);
	log_info("server", "SIGHUP: renewing the serving certificate; restart to apply configuration changes");
	if (server_refresh_tls(ctx, wd_now(), &err) < 0)
		log_error("server", "serving certificate not renewed", "error", wd_error_text(&err));
}

static void on_net_error(int code, const char *detail, void *arg)
{
	(void)arg;
	if (code == WD_EUNAVAILABLE || code == WD_ETIMEOUT)
		log_warn("net", "connection closed by a limit", "code", wd_error_name(code),
			"detail", detail);
	else
		log_warn("net", "connection error", "code", wd_error_name(code), "detail", detail);
}

static int start_events(struct server_ctx *ctx)
{
	struct timeval one_second = { 1, 0 };

	ctx->tick_event = event_new(ctx->base, -1, EV_PERSIST, server_tick, ctx);
	ctx->sigterm_event = evsignal_new(ctx->base, SIGTERM, on_stop_signal, ctx);
	ctx->sigint_event = evsignal_new(ctx->base, SIGINT, on_stop_signal, ctx);
	ctx->sighup_event = evsignal_new(ctx->base, SIGHUP, on_reload_signal, ctx);
	if (!ctx->tick_event || !ctx->sigterm_event || !ctx->sigint_event || !ctx->sighup_event)
		return WD_ENOMEM;
	if (event_add(ctx->tick_event, &one_second) < 0 || event_add(ctx->sigterm_event, NULL) < 0 ||
		event_add(ctx->sigint_event, NULL) < 0 || event_add(ctx->sighup_event, NULL) < 0)
		return WD_EINTERNAL;
	return 0;
}

static void log_started(struct server_ctx *ctx)
{
	STACK_OF(X509) *authorities = NULL;
	char fingerprint[65] = "";
	char port[8];
	char policy_port[8];
	char secrets_port[8];

	if (authority_x509_authorities(ctx->authority, &authorities, NULL) == 0 &&
		sk_X509_num(authorities) > 0 &&
		crypto_x509_fingerprint(sk_X509_value(authorities, 0), fingerprint,
			sizeof(fingerprint)) < 0)
		fingerprint[0] = '\0';
	sk_X509_pop_free(authorities, X509_free);

	snprintf(port, sizeof(port), "%u", ctx->port);
	snprintf(policy_port, sizeof(policy_port), "%u", ctx->policy_port);
	snprintf(secrets_port, sizeof(secrets_port), "%u", ctx->secrets_port);
	log_info("server", "server started", "trust_domain", ctx->config->trust_domain,
		"listen", ctx->config->identity.listen, "port", port, "policy_listen",
		ctx->config->policy.listen, "policy_port", policy_port, "secrets_listen",
		ctx->config->secrets.listen, "secrets_port", secrets_port, "secrets_sealed",
		secrets_unsealed(ctx->secrets) ? "false" : "true", "admin_socket",
		ctx->config->admin.socket, "data_dir", ctx->config->data_dir, "datastore",
		store_backend(ctx->store), "ca_sha256", fingerprint);
}

static void close_all(struct server_ctx *ctx)
{
	server_changes_stop(ctx);
	server_caller_cache_free(ctx);
	if (ctx->tick_event)
		event_free(ctx->tick_event);
	if (ctx->sigterm_event)
		event_free(ctx->sigterm_event);
	if (ctx->sigint_event)
		event_free(ctx->sigint_event);
	if (ctx->sighup_event)
		event_free(ctx->sighup_event);
	/* Requests waiting for PostgreSQL get their replies while the
	 * listeners are still there. */
	secrets_drain(ctx->secrets);
	if (ctx->base)
		event_base_loop(ctx->base, EVLOOP_NONBLOCK);
	net_server_free(ctx->net);
	/* Connections close through deferred callbacks; run them before the
	 * base goes, so no TLS state outlives it. */
	if (ctx->base) {
		event_base_loop(ctx->base, EVLOOP_NONBLOCK);
		event_base_loop(ctx->base, EVLOOP_NONBLOCK);
	}
	net_ratelimit_free(ctx->attest_limit);
	/* The seal inside secrets_free only wipes the CA keys: the server has
	 * already logged and audited its stop. */
	ctx->stopping = true;
	secrets_free(ctx->secrets);
	if (ctx->admin_socket_ino) {
		struct stat st;

		if (lstat(ctx->config->admin.socket, &st) == 0 && st.st_dev == ctx->admin_socket_dev &&
			st.st_ino == ctx->admin_socket_ino)
			unlink(ctx->config->admin.socket);
	}
	policy_state_free(ctx->policy);
	admission_close(ctx->admission);
	registry_close(ctx->registry);
	authority_close(ctx->authority);
	audit_close(ctx->audit);
	server_singleton_close(ctx);
	store_close(ctx->store);
	EVP_PKEY_free(ctx->server_key);
	if (ctx->base)
		event_base_free(ctx->base);
}

int server_run(const struct server_config *config, struct wd_error *err)
{
	struct server_ctx ctx = { .config = config };
	int rc;

	harden_process(config);
	signal(SIGPIPE, SIG_IGN);

	WD_GUARD(open_state(&ctx, err));
	ctx.base = event_base_new();
	WD_ENSURE(ctx.base, WD_ENOMEM);
	WD_GUARD(open_secrets(&ctx, err));
	WD_GUARD(open_listeners(&ctx, err));
	net_server_set_error_cb(ctx.net, on_net_error, &ctx);
	WD_GUARD(start_events(&ctx));
	WD_GUARD(server_changes_start(&ctx, err));

	log_started(&ctx);
	server_audit(&ctx, NULL, "server.start", config->trust_domain, "success", NULL);

	if (event_base_dispatch(ctx.base) < 0) {
		rc = wd_error_set(err, WD_EINTERNAL, "event loop failed");
		goto out;
	}

	server_audit(&ctx, NULL, "server.stop", config->trust_domain, "success", NULL);
	log_info("server", "server stopped");
	rc = 0;
out:
	close_all(&ctx);
	return rc;
}
