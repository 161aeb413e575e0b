/* Policies from the warden server's OPA-compatible policy API: GET
 * /v1/policies over mTLS with the proxy's SVID, the server checked by its
 * SPIFFE ID. Only modules are fetched. The server's base data document is
 * not: GET /v1/data returns the evaluated document (rule results included)
 * and records a decision, so it is no copy of the base data, and the
 * policies served to proxies must be data-free (constants in the policy). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "identity/spiffe_id.h"
#include "identity/x509svid.h"
#include "net/net_client.h"
#include "proxy/authz_internal.h"

/* The policy API replies quickly; a slow server only delays the next
 * reload, never a request. */
#define SERVER_TIMEOUT_MS 5000u

/* Modules larger than this in one response are refused. */
#define SERVER_MAX_RESPONSE_BYTES ((size_t)16 << 20)

/* Most URLs in policy.server, a comma-separated list. */
#define SERVER_MAX_URLS 8

/* One server of the list. */
struct authz_target {
	char url[300];             /* as written, for logs */
	char host[256];
	uint16_t port;
};

/* The policy servers, and the one polled: it stays current until it fails,
 * then the next in the list takes over. */
struct authz_server {
	struct authz_target targets[SERVER_MAX_URLS];
	size_t count;
	size_t current;
	char expected_id[SPIFFE_ID_MAX_LEN + 1];
	struct net_client *client;
	uint64_t identity_generation;
};

void authz_server_free(struct authz_server *server)
{
	if (!server)
		return;
	net_client_free(server->client);
	free(server);
}

/* Accepts the server only when its leaf carries the expected SPIFFE ID;
 * net_client has validated the chain against the trust domain's CAs. */
static int verify_server(STACK_OF(X509) *chain, void *arg, struct wd_error *err)
{
	const struct authz_server *server = arg;
	struct spiffe_id id;
	char text[SPIFFE_ID_MAX_LEN + 1];

	if (sk_X509_num(chain) < 1)
		return wd_error_set(err, WD_ECRYPTO, "policy server sent no certificate");
	WD_TRY(x509svid_spiffe_id(sk_X509_value(chain, 0), &id, err));
	WD_TRY(spiffe_id_format(&id, text, sizeof(text)));
	if (strcmp(text, server->expected_id) != 0)
		return wd_error_set(err, WD_ECRYPTO, "policy server is %s; expected %s", text,
			server->expected_id);
	return 0;
}

/* Splits the comma-separated list into targets; spaces around a URL are
 * dropped. */
static int parse_urls(const char *list, struct authz_server *server, struct wd_error *err)
{
	const char *p = list;

	server->count = 0;
	for (;;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		struct authz_target *target;

		while (len && *p == ' ') {
			p++;
			len--;
		}
		while (len && p[len - 1] == ' ')
			len--;
		if (len == 0)
			return wd_error_set(err, WD_ECONFIG, "policy server list \"%.200s\" has an "
				"empty URL", list);
		if (server->count == SERVER_MAX_URLS)
			return wd_error_set(err, WD_ECONFIG, "policy server list \"%.200s\" has more "
				"than %d URLs", list, SERVER_MAX_URLS);
		target = &server->targets[server->count];
		if (len >= sizeof(target->url))
			return wd_error_set(err, WD_ECONFIG, "policy server URL \"%.200s\" is too "
				"long", p);
		memcpy(target->url, p, len);
		target->url[len] = '\0';
		WD_TRY(net_https_origin_parse(target->url, "policy server URL", target->host,
			sizeof(target->host), &target->port, err));
		server->count++;
		if (!end)
			return 0;
		p = end + 1;
	}
}

static int connect_server(struct proxy_authz *authz, struct authz_server *server,
	struct proxy_identity *identity, struct wd_error *err)
{
	const struct authz_target *target = &server->targets[server->current];
	struct net_client_config config = { 0 };
	struct spiffe_id own, expected;
	X509 *const *authorities;
	size_t authority_count = 0;
	const char *own_text = proxy_identity_spiffe_id(identity);

	WD_TRY(spiffe_id_parse(own_text, strlen(own_text), &own, err));
	if (authz->server_id)
		snprintf(server->expected_id, sizeof(server->expected_id), "%s", authz->server_id);
	else
		snprintf(server->expected_id, sizeof(server->expected_id),
			"spiffe://%s/warden/server", own.trust_domain);
	WD_TRY(spiffe_id_parse(server->expected_id, strlen(server->expected_id), &expected, err));

	authorities = proxy_identity_authorities(identity, expected.trust_domain, &authority_count);
	if (authority_count == 0)
		return wd_error_set(err, WD_ECRYPTO, "no CA certificates for trust domain %s of %s",
			expected.trust_domain, server->expected_id);

	config.host = target->host;
	config.port = target->port;
	config.trust_anchors = authorities;
	config.trust_anchor_count = authority_count;
	config.cert_chain_pem = proxy_identity_chain_pem(identity, &config.cert_chain_len);
	config.key = proxy_identity_key(identity);
	config.verify = verify_server;
	config.verify_arg = server;
	config.timeout_ms = SERVER_TIMEOUT_MS;
	config.max_response_bytes = SERVER_MAX_RESPONSE_BYTES;
	return net_client_connect(&config, &server->client, err);
}

static int compare_modules(const void *a, const void *b)
{
	const json_t *left = *(const json_t *const *)a;
	const json_t *right = *(const json_t *const *)b;

	return strcmp(json_string_value(json_object_get(left, "id")),
		json_string_value(json_object_get(right, "id")));
}

static uint64_t fnv_add(uint64_t hash, const char *text)
{
	for (size_t i = 0, len = strlen(text) + 1; i < len; i++) {
		hash ^= (uint8_t)text[i];
		hash *= 1099511628211ull;
	}
	return hash;
}

/* Compiles the modules of a {"result": [{"id", "raw"}...]} body when they
 * differ from the ones compiled last. */
static int compile_changed(struct proxy_authz *authz, const json_t *body,
	struct rego_engine **ret_engine, struct wd_error *err)
{
	const json_t *result = json_object_get(body, "result");
	size_t count = json_array_size(result);
	const json_t **modules = NULL;
	const char **ids = NULL, **sources = NULL;
	uint64_t hash = 14695981039346656037ull;
	int rc;

	if (!json_is_array(result))
		return wd_error_set(err, WD_EINVAL, "policy server response has no result array");
	modules = wd_calloc(count ? count : 1, sizeof(*modules));
	ids = wd_calloc(count ? count : 1, sizeof(*ids));
	sources = wd_calloc(count ? count : 1, sizeof(*sources));
	WD_ENSURE(modules && ids && sources, WD_ENOMEM);
	for (size_t i = 0; i < count; i++) {
		modules[i] = json_array_get(result, i);
		if (!json_is_string(json_object_get(modules[i], "id")) ||
		    !json_is_string(json_object_get(modules[i], "raw"))) {
			rc = wd_error_set(err, WD_EINVAL, "policy server module %zu has no id or raw string",
				i);
			goto out;
		}
	}
	qsort(modules, count, sizeof(*modules), compare_modules);
	for (size_t i = 0; i < count; i++) {
		ids[i] = json_string_value(json_object_get(modules[i], "id"));
		sources[i] = json_string_value(json_object_get(modules[i], "raw"));
		hash = fnv_add(fnv_add(hash, ids[i]), sources[i]);
	}

	rc = 0;
	if (authz->engine && hash == authz->source_fingerprint)
		goto out;
	/* A set that fails to compile is remembered too, so it is reported
	 * once rather than at every poll. */
	authz->source_fingerprint = hash;
	WD_GUARD(authz_modules_compile(ids, sources, count, &authz->limits, ret_engine, err));
out:
	free(sources);
	free(ids);
	free(modules);
	return rc;
}

/* Fetches and compiles the modules from the current server. */
static int poll_current(struct proxy_authz *authz, struct authz_server *server,
	struct proxy_identity *identity, struct rego_engine **ret_engine, struct wd_error *err)
{
	struct net_response *response = NULL;
	json_t *body = NULL;
	int rc;

	/* A rotated SVID gets a new connection, so the server receives it. */
	if (server->client && (!net_client_is_open(server->client) ||
		server->identity_generation != proxy_identity_generation(identity))) {
		net_client_free(server->client);
		server->client = NULL;
	}
	if (!server->client) {
		WD_GUARD(connect_server(authz, server, identity, err));
		server->identity_generation = proxy_identity_generation(identity);
	}

	WD_GUARD(net_client_request(server->client, "GET", "/v1/policies", NULL, 0, NULL, NULL, 0,
		&response, err));
	if (response->status != 200) {
		/* A 5xx is the server's fault (sealed, or its datastore is
		 * unreachable), so another server may succeed. A 4xx rejects the
		 * proxy itself, as every server sharing the datastore would. */
		rc = wd_error_set(err, response->status >= 500 ? WD_EUNAVAILABLE : WD_EPERM,
			"policy server %s returned HTTP %d for GET /v1/policies",
			server->targets[server->current].url, response->status);
		goto out;
	}
	WD_GUARD(net_response_json(response, &body, err));
	WD_GUARD(compile_changed(authz, body, ret_engine, err));
out:
	json_decref(body);
	net_response_free(response);
	return rc;
}

/* Whether a failed poll is the server's fault, so the next one may do
 * better: no connection, TLS, a broken reply or HTTP 5xx. */
static bool server_fault(int code)
{
	return code == WD_EIO || code == WD_ETIMEOUT || code == WD_ECRYPTO ||
		code == WD_EUNAVAILABLE || code == WD_ETRUNCATED;
}

int authz_server_poll(struct proxy_authz *authz, struct rego_engine **ret_engine,
	struct wd_error *err)
{
	struct authz_server *server = authz->server;
	struct proxy_identity *identity = NULL;
	int rc = 0;

	*ret_engine = NULL;
	if (!server) {
		server = calloc(1, sizeof(*server));
		if (!server)
			return WD_ENOMEM;
		rc = parse_urls(authz->server_url, server, err);
		if (rc < 0) {
			free(server);
			return rc;
		}
		authz->server = server;
	}
	if (!authz->identity_source)
		return wd_error_set(err, WD_ECONFIG, "policy server mode needs the proxy's identity");

	identity = proxy_identity_source_current(authz->identity_source);
	if (!identity)
		return WD_EUNAVAILABLE;
	/* Each poll tries every server at most once, from the current one. */
	for (size_t attempt = 0; attempt < server->count; attempt++) {
		size_t from = server->current;

		if (attempt > 0)
			wd_error_clear(err);
		rc = poll_current(authz, server, identity, ret_engine, err);
		if (rc == 0 || !server_fault(rc) || server->count < 2)
			break;
		net_client_free(server->client);
		server->client = NULL;
		server->current = (from + 1) % server->count;
		log_warn("proxy", "switched policy server", "from", server->targets[from].url, "to",
			server->targets[server->current].url, "reason", wd_error_text(err));
	}
	proxy_identity_unref(identity);
	return rc;
}
