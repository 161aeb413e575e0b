/* The sensor's mTLS client of the server's /v1/sensor endpoints. It reuses
 * the proxy's identity source for the SVID, rotation included, and the
 * blocking net_client for one request per connection. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/attest_unix.h"
#include "agent/proc.h"
#include "common/alloc.h"
#include "identity/spiffe_id.h"
#include "identity/x509svid.h"
#include "net/net_client.h"
#include "proxy/identity.h"
#include "sensor/client/client_internal.h"
#include "sensor/client/server_client.h"

#define DEFAULT_TIMEOUT_MS 10000u
#define MAX_RESPONSE_BYTES ((size_t)1 << 20)
#define HOST_MAX 256

struct sensor_server {
	char host[HOST_MAX];
	uint16_t port;
	char *server_spiffe_id;   /* NULL: derived from the own SVID */
	unsigned timeout_ms;
	struct proxy_identity_source *source;
};

int sensor_server_open(const struct sensor_server_config *config,
	struct sensor_server **ret_client, struct wd_error *err)
{
	struct proxy_identity_config identity = {
		.workload_api_socket = config->workload_api_socket,
		.spiffe_id = config->spiffe_id,
		.cert_path = config->cert_path,
		.key_path = config->key_path,
		.bundle_path = config->bundle_path,
		.start_timeout_ms = config->start_timeout_ms,
	};
	struct sensor_server *client;
	int rc;

	*ret_client = NULL;
	client = wd_calloc(1, sizeof(*client));
	if (!client)
		return wd_error_set(err, WD_ENOMEM, "out of memory opening the server client");
	client->timeout_ms = config->timeout_ms ? config->timeout_ms : DEFAULT_TIMEOUT_MS;
	WD_GUARD(net_https_origin_parse(config->url, "server URL", client->host,
		sizeof(client->host), &client->port, err));
	if (config->server_spiffe_id) {
		struct spiffe_id id;

		WD_GUARD(spiffe_id_parse(config->server_spiffe_id, strlen(config->server_spiffe_id),
			&id, err));
		client->server_spiffe_id = wd_strdup(config->server_spiffe_id);
		WD_ENSURE(client->server_spiffe_id,
			wd_error_set(err, WD_ENOMEM, "out of memory opening the server client"));
	}
	WD_GUARD(proxy_identity_source_start(&identity, NULL, NULL, &client->source, err));
	*ret_client = client;
	return 0;
out:
	sensor_server_free(client);
	return rc;
}

void sensor_server_free(struct sensor_server *client)
{
	if (!client)
		return;
	proxy_identity_source_free(client->source);
	free(client->server_spiffe_id);
	free(client);
}

int sensor_server_spiffe_id(struct sensor_server *client, char *out, size_t len)
{
	struct proxy_identity *identity = proxy_identity_source_current(client->source);
	int n = snprintf(out, len, "%s", proxy_identity_spiffe_id(identity));

	proxy_identity_unref(identity);
	return n < 0 || (size_t)n >= len ? WD_ETOOBIG : 0;
}

struct server_check {
	char expected[SPIFFE_ID_MAX_LEN + 1];
};

/* Accepts the server only when its leaf carries the expected SPIFFE ID;
 * net_client has validated the chain against the trust domain's CAs. */
static int verify_server(STACK_OF(X509) *chain, void *arg, struct wd_error *err)
{
	const struct server_check *check = arg;
	char text[SPIFFE_ID_MAX_LEN + 1];
	struct spiffe_id id;

	if (sk_X509_num(chain) < 1)
		return wd_error_set(err, WD_ECRYPTO, "the server sent no certificate");
	WD_TRY(x509svid_spiffe_id(sk_X509_value(chain, 0), &id, err));
	WD_TRY(spiffe_id_format(&id, text, sizeof(text)));
	if (strcmp(text, check->expected) != 0)
		return wd_error_set(err, WD_ECRYPTO, "the server is %s; expected %s", text,
			check->expected);
	return 0;
}

/* Connects with the current snapshot, sends body and returns the parsed
 * reply of a 200; another status becomes an error with the server's text. */
static int post_json(struct sensor_server *client, const char *path, const json_t *body,
	json_t **ret_reply, struct wd_error *err)
{
	struct proxy_identity *identity = proxy_identity_source_current(client->source);
	struct net_client_config config = { 0 };
	struct net_response *response = NULL;
	struct net_client *connection = NULL;
	struct server_check check;
	struct spiffe_id own, expected;
	X509 *const *authorities;
	size_t authority_count = 0;
	const char *own_text = proxy_identity_spiffe_id(identity);
	json_t *reply = NULL;
	int rc;

	*ret_reply = NULL;
	WD_GUARD(spiffe_id_parse(own_text, strlen(own_text), &own, err));
	if (client->server_spiffe_id)
		snprintf(check.expected, sizeof(check.expected), "%s", client->server_spiffe_id);
	else
		snprintf(check.expected, sizeof(check.expected), "spiffe://%s/warden/server",
			own.trust_domain);
	WD_GUARD(spiffe_id_parse(check.expected, strlen(check.expected), &expected, err));
	authorities = proxy_identity_authorities(identity, expected.trust_domain, &authority_count);
	WD_ENSURE(authority_count > 0, wd_error_set(err, WD_ECRYPTO, "no CA certificates for "
		"trust domain %s of %s", expected.trust_domain, check.expected));

	config.host = client->host;
	config.port = client->port;
	config.trust_anchors = authorities;
	config.trust_anchor_count = authority_count;
	config.cert_chain_pem = proxy_identity_chain_pem(identity, &config.cert_chain_len);
	config.key = proxy_identity_key(identity);
	config.verify = verify_server;
	config.verify_arg = &check;
	config.timeout_ms = client->timeout_ms;
	config.max_response_bytes = MAX_RESPONSE_BYTES;
	WD_GUARD(net_client_connect(&config, &connection, err));
	WD_GUARD(net_client_request_json(connection, "POST", path, body, &response, err));

	if (response->status != 200) {
		json_t *error = NULL;
		const char *text = NULL;

		if (net_response_json(response, &error, NULL) == 0)
			text = json_string_value(json_object_get(json_object_get(error, "error"),
				"message"));
		rc = wd_error_set(err, response->status == 403 ? WD_EPERM :
			response->status == 400 ? WD_EINVAL :
			response->status == 401 ? WD_EAUTH : WD_EIO,
			"server refused %s with status %d: %.400s", path, response->status,
			text ? text : (const char *)response->body);
		json_decref(error);
		goto out;
	}
	WD_GUARD(net_response_json(response, &reply, err));
	*ret_reply = reply;
	reply = NULL;
	rc = 0;
out:
	json_decref(reply);
	net_response_free(response);
	net_client_free(connection);
	proxy_identity_unref(identity);
	return rc;
}

int sensor_server_alert(struct sensor_server *client, const json_t *alert, struct wd_error *err)
{
	json_t *reply = NULL;

	if (!json_is_object(alert))
		return wd_error_set(err, WD_EINVAL, "an alert is a JSON object");
	WD_TRY(post_json(client, "/v1/sensor/alerts", alert, &reply, err));
	json_decref(reply);
	return 0;
}

int sensor_server_response(struct sensor_server *client, const json_t *response,
	struct wd_error *err)
{
	json_t *reply = NULL;

	if (!json_is_object(response))
		return wd_error_set(err, WD_EINVAL, "a response record is a JSON object");
	WD_TRY(post_json(client, "/v1/sensor/responses", response, &reply, err));
	json_decref(reply);
	return 0;
}

int sensor_server_revoke(struct sensor_server *client, pid_t pid,
	const char *const *selectors, size_t selector_count, const char *rule, const char *reason,
	json_t **ret_reply, struct wd_error *err)
{
	json_t *body = NULL;
	json_t *list = NULL;
	json_t *reply = NULL;
	int rc;

	if (ret_reply)
		*ret_reply = NULL;
	if (pid <= 0)
		return wd_error_set(err, WD_EINVAL, "invalid pid %" PRId64, (int64_t)pid);
	list = json_array();
	WD_ENSURE(list, WD_ENOMEM);
	for (size_t i = 0; i < selector_count; i++)
		WD_ENSURE(json_array_append_new(list, json_string(selectors[i])) == 0, WD_ENOMEM);
	body = json_pack("{s:I, s:O}", "pid", (json_int_t)pid, "selectors", list);
	WD_ENSURE(body, WD_ENOMEM);
	if (rule)
		WD_ENSURE(json_object_set_new(body, "rule", json_string(rule)) == 0, WD_ENOMEM);
	if (reason)
		WD_ENSURE(json_object_set_new(body, "reason", json_string(reason)) == 0, WD_ENOMEM);

	WD_GUARD(post_json(client, "/v1/sensor/revoke", body, &reply, err));
	if (ret_reply) {
		*ret_reply = reply;
		reply = NULL;
	}
	rc = 0;
out:
	if (rc == WD_ENOMEM)
		rc = wd_error_set(err, rc, "out of memory building a revocation request");
	json_decref(reply);
	json_decref(body);
	json_decref(list);
	return rc;
}

/* The effective uid and gid of "Uid:" and "Gid:" (the second of the four
 * values), which SO_PEERCRED would report for the process. */
static int read_ids(const char *proc_root, pid_t pid, uid_t *ret_uid, gid_t *ret_gid,
	struct wd_error *err)
{
	char *status = NULL;
	size_t len = 0;
	unsigned real, effective;
	bool have_uid = false, have_gid = false;
	int fd = -1;
	int rc;

	WD_GUARD(attest_proc_open(proc_root, pid, &fd, err));
	WD_GUARD(attest_proc_read(fd, pid, "status", ATTEST_PROC_STATUS_MAX, &status, &len, err));
	for (char *line = status; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 :
		NULL) {
		if (sscanf(line, "Uid: %u %u", &real, &effective) == 2) {
			*ret_uid = (uid_t)effective;
			have_uid = true;
		} else if (sscanf(line, "Gid: %u %u", &real, &effective) == 2) {
			*ret_gid = (gid_t)effective;
			have_gid = true;
		}
	}
	WD_ENSURE(have_uid && have_gid, wd_error_set(err, WD_EINVAL, "/proc/%" PRId64 "/status "
		"has no Uid or Gid line", (int64_t)pid));
	rc = 0;
out:
	free(status);
	if (fd >= 0)
		close(fd);
	return rc;
}

int sensor_selectors_of_pid(pid_t pid, const char *proc_root, json_t **ret_selectors,
	struct wd_error *err)
{
	return client_selectors_of_pid(pid, proc_root, NULL, ret_selectors, err);
}

int client_selectors_of_pid(pid_t pid, const char *proc_root, struct attest_cache *cache,
	json_t **ret_selectors, struct wd_error *err)
{
	struct attest_options options = { .proc_root = proc_root };
	struct attest_peer peer = { .pid = pid };
	struct agent_selector_set *set = NULL;
	json_t *list = NULL;
	int rc;

	*ret_selectors = NULL;
	if (pid <= 0)
		return wd_error_set(err, WD_EINVAL, "invalid pid %" PRId64, (int64_t)pid);
	WD_GUARD(read_ids(proc_root, pid, &peer.uid, &peer.gid, err));
	WD_GUARD(attest_unix_workload(&peer, &options, cache, &set, err));
	list = json_array();
	WD_ENSURE(list, wd_error_set(err, WD_ENOMEM, "out of memory listing selectors"));
	for (size_t i = 0; i < agent_selector_set_count(set); i++)
		WD_ENSURE(json_array_append_new(list, json_string(agent_selector_set_get(set, i))) == 0,
			wd_error_set(err, WD_ENOMEM, "out of memory listing selectors"));
	*ret_selectors = list;
	list = NULL;
	rc = 0;
out:
	json_decref(list);
	agent_selector_set_free(set);
	return rc;
}

int sensor_server_revoke_pid(struct sensor_server *client, pid_t pid, const char *rule,
	const char *reason, json_t **ret_reply, struct wd_error *err)
{
	json_t *selectors = NULL;
	const char **items = NULL;
	size_t count;
	int rc;

	if (ret_reply)
		*ret_reply = NULL;
	WD_TRY(sensor_selectors_of_pid(pid, NULL, &selectors, err));
	count = json_array_size(selectors);
	items = wd_calloc(count ? count : 1, sizeof(*items));
	WD_ENSURE(items, wd_error_set(err, WD_ENOMEM, "out of memory listing selectors"));
	for (size_t i = 0; i < count; i++)
		items[i] = json_string_value(json_array_get(selectors, i));
	rc = sensor_server_revoke(client, pid, items, count, rule, reason, ret_reply, err);
out:
	free(items);
	json_decref(selectors);
	return rc;
}
