/* The route tables of the identity listener (TLS) and the admin socket. */
#include <string.h>

#include "server/policy_api.h"
#include "server/server_internal.h"

struct route_spec {
	const char *method;
	const char *pattern;
	net_handler_fn handler;
	bool on_tls;        /* served on the identity listener */
	bool on_admin;      /* served on the admin socket */
	enum net_auth tls_auth;
};

/* Node attestation takes no client certificate: the join token in its body
 * is the credential. Every other TLS route needs a verified client SVID,
 * and the handlers then check that it is an agent's or an admin's. */
static const struct route_spec node_route_specs[] = {
	{ "POST", "/v1/node/attest", handle_node_attest, true, false, NET_AUTH_NONE },
	{ "POST", "/v1/node/renew", handle_node_renew, true, false, NET_AUTH_CLIENT_CERT },
	{ "GET", "/v1/node/entries", handle_node_entries, true, false, NET_AUTH_CLIENT_CERT },
	{ "GET", "/v1/node/bundle", handle_node_bundle, true, false, NET_AUTH_CLIENT_CERT },
	{ "POST", "/v1/svid/x509", handle_svid_x509, true, false, NET_AUTH_CLIENT_CERT },
	{ "POST", "/v1/svid/jwt", handle_svid_jwt, true, false, NET_AUTH_CLIENT_CERT },
};

/* Routes any SVID of the trust domain may read. */
static const struct route_spec shared_route_specs[] = {
	{ "GET", "/v1/bundle", handle_bundle, true, true, NET_AUTH_CLIENT_CERT },
	{ "GET", "/v1/crl", handle_crl, true, true, NET_AUTH_CLIENT_CERT },
	{ "GET", "/v1/health", handle_health, true, true, NET_AUTH_CLIENT_CERT },
	{ "GET", "/metrics", handle_metrics, true, true, NET_AUTH_CLIENT_CERT },
	{ "GET", "/v1/ca", handle_ca, true, true, NET_AUTH_CLIENT_CERT },
};

static const struct route_spec admin_route_specs[] = {
	{ "POST", "/v1/entries", handle_entry_create, true, true, NET_AUTH_CLIENT_CERT },
	{ "GET", "/v1/entries", handle_entry_list, true, true, NET_AUTH_CLIENT_CERT },
	{ "GET", "/v1/entries/{id}", handle_entry_show, true, true, NET_AUTH_CLIENT_CERT },
	{ "PUT", "/v1/entries/{id}", handle_entry_update, true, true, NET_AUTH_CLIENT_CERT },
	{ "PATCH", "/v1/entries/{id}", handle_entry_update, true, true, NET_AUTH_CLIENT_CERT },
	{ "DELETE", "/v1/entries/{id}", handle_entry_delete, true, true, NET_AUTH_CLIENT_CERT },

	{ "POST", "/v1/tokens", handle_token_create, true, true, NET_AUTH_CLIENT_CERT },
	{ "GET", "/v1/agents", handle_agent_list, true, true, NET_AUTH_CLIENT_CERT },
	{ "POST", "/v1/agents/evict", handle_agent_evict, true, true, NET_AUTH_CLIENT_CERT },
	{ "POST", "/v1/agents/ban", handle_agent_ban, true, true, NET_AUTH_CLIENT_CERT },

	{ "POST", "/v1/svid/mint", handle_svid_mint, true, true, NET_AUTH_CLIENT_CERT },
	{ "POST", "/v1/svid/jwt/mint", handle_jwt_mint, true, true, NET_AUTH_CLIENT_CERT },
	{ "POST", "/v1/svid/revoke", handle_svid_revoke, true, true, NET_AUTH_CLIENT_CERT },

	{ "POST", "/v1/signatures", handle_signature_add, true, true, NET_AUTH_CLIENT_CERT },
	{ "GET", "/v1/signatures", handle_signature_list, true, true, NET_AUTH_CLIENT_CERT },
	{ "DELETE", "/v1/signatures/{id}", handle_signature_delete, true, true,
	  NET_AUTH_CLIENT_CERT },
};

static const struct route_spec sensor_route_specs[] = {
	{ "POST", "/v1/sensor/alerts", handle_sensor_alert, true, true, NET_AUTH_CLIENT_CERT },
	{ "POST", "/v1/sensor/responses", handle_sensor_response, true, true,
	  NET_AUTH_CLIENT_CERT },
	{ "POST", "/v1/sensor/revoke", handle_sensor_revoke, true, true, NET_AUTH_CLIENT_CERT },
};

/* OPA's REST API. Reads and decisions take any client SVID of the trust
 * domain; the handlers require an admin for writes. */
static const struct route_spec policy_route_specs[] = {
	{ "GET", "/v1/data", handle_opa_data_get, true, true, NET_AUTH_CLIENT_CERT },
	{ "POST", "/v1/data", handle_opa_data_post, true, true, NET_AUTH_CLIENT_CERT },
	{ "PUT", "/v1/data", handle_opa_data_put, true, true, NET_AUTH_CLIENT_CERT },
	{ "DELETE", "/v1/data", handle_opa_data_delete, true, true, NET_AUTH_CLIENT_CERT },
	{ "PATCH", "/v1/data", handle_opa_data_patch, true, true, NET_AUTH_CLIENT_CERT },
	{ "GET", "/v1/data/{path...}", handle_opa_data_get, true, true, NET_AUTH_CLIENT_CERT },
	{ "POST", "/v1/data/{path...}", handle_opa_data_post, true, true, NET_AUTH_CLIENT_CERT },
	{ "PUT", "/v1/data/{path...}", handle_opa_data_put, true, true, NET_AUTH_CLIENT_CERT },
	{ "DELETE", "/v1/data/{path...}", handle_opa_data_delete, true, true, NET_AUTH_CLIENT_CERT },
	{ "PATCH", "/v1/data/{path...}", handle_opa_data_patch, true, true, NET_AUTH_CLIENT_CERT },
	{ "GET", "/v1/policies", handle_opa_policy_list, true, true, NET_AUTH_CLIENT_CERT },
	{ "GET", "/v1/policies/{id...}", handle_opa_policy_get, true, true, NET_AUTH_CLIENT_CERT },
	{ "PUT", "/v1/policies/{id...}", handle_opa_policy_put, true, true, NET_AUTH_CLIENT_CERT },
	{ "DELETE", "/v1/policies/{id...}", handle_opa_policy_delete, true, true,
	  NET_AUTH_CLIENT_CERT },
	{ "GET", "/v1/query", handle_opa_query, true, true, NET_AUTH_CLIENT_CERT },
	{ "POST", "/v1/query", handle_opa_query, true, true, NET_AUTH_CLIENT_CERT },
	{ "POST", "/", handle_opa_main, true, true, NET_AUTH_CLIENT_CERT },
	{ "GET", "/health", handle_opa_health, true, true, NET_AUTH_CLIENT_CERT },
};

/* The route tables in the order their requests are counted in; a route's
 * binding index is its position across all of them. */
static const struct route_table {
	const struct route_spec *specs;
	size_t count;
	enum server_route_class route_class;
	bool policy;    /* the policy listener's table, not the identity one's */
} route_tables[] = {
	{ node_route_specs, WD_ARRAY_LEN(node_route_specs), SERVER_ROUTE_NODE, false },
	{ shared_route_specs, WD_ARRAY_LEN(shared_route_specs), SERVER_ROUTE_SHARED, false },
	{ admin_route_specs, WD_ARRAY_LEN(admin_route_specs), SERVER_ROUTE_ADMIN, false },
	{ sensor_route_specs, WD_ARRAY_LEN(sensor_route_specs), SERVER_ROUTE_SENSOR, false },
	{ policy_route_specs, WD_ARRAY_LEN(policy_route_specs), SERVER_ROUTE_POLICY, true },
};

/* Calls the route's handler with the server context and counts the request
 * and, when the handler fails, the error reply, for GET /metrics. */
static int handle_counted(struct net_request *req, void *arg, struct wd_error *err)
{
	const struct server_route_binding *binding = arg;
	struct server_metrics *metrics = &binding->ctx->metrics;
	int rc = binding->handler(req, binding->ctx, err);

	metrics->requests[binding->route_class]++;
	if (rc < 0)
		metrics->request_errors[binding->route_class]++;
	return rc;
}

static size_t build_routes(struct server_ctx *ctx, bool admin, bool policy,
	struct net_route routes[static SERVER_MAX_ROUTES], size_t count)
{
	size_t binding_index = 0;

	for (size_t t = 0; t < WD_ARRAY_LEN(route_tables); t++) {
		const struct route_table *table = &route_tables[t];

		for (size_t i = 0; i < table->count; i++, binding_index++) {
			const struct route_spec *spec = &table->specs[i];
			struct server_route_binding *binding;

			if (table->policy != policy || (admin ? !spec->on_admin : !spec->on_tls))
				continue;
			if (count >= SERVER_MAX_ROUTES || binding_index >= SERVER_MAX_BINDINGS)
				return count;
			binding = &ctx->route_bindings[binding_index];
			*binding = (struct server_route_binding){
				.ctx = ctx,
				.handler = spec->handler,
				.route_class = table->route_class,
			};
			routes[count++] = (struct net_route){
				.method = spec->method,
				.pattern = spec->pattern,
				.handler = handle_counted,
				.arg = binding,
				.auth = admin ? NET_AUTH_UNIX : spec->tls_auth,
			};
		}
	}
	return count;
}

size_t server_build_routes(struct server_ctx *ctx, bool admin,
	struct net_route routes[static SERVER_MAX_ROUTES])
{
	return build_routes(ctx, admin, false, routes, 0);
}

size_t server_build_policy_routes(struct server_ctx *ctx, bool admin,
	struct net_route routes[static SERVER_MAX_ROUTES], size_t count)
{
	return build_routes(ctx, admin, true, routes, count);
}
