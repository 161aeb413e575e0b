/* The Vault API client of the secrets commands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli/cli_args.h"
#include "cli/cli_vault.h"
#include "common/file.h"
#include "crypto/key.h"
#include "crypto/x509.h"
#include "net/net_client.h"

/* Ceilings of the files the client reads. */
#define CA_FILE_MAX ((size_t)1 << 20)
#define TOKEN_FILE_MAX 4096
#define MAX_TRUST_ANCHORS 64
#define MAX_CLIENT_CHAIN 16

bool cli_vault_option(struct cli_vault_options *options, int id, const char *value)
{
	switch (id) {
	case CLI_VAULT_OPT_ADDRESS:
		options->address = value;
		return true;
	case CLI_VAULT_OPT_TOKEN:
		options->token = value;
		return true;
	case CLI_VAULT_OPT_CA_CERT:
		options->ca_cert = value;
		return true;
	case CLI_VAULT_OPT_CLIENT_CERT:
		options->client_cert = value;
		return true;
	case CLI_VAULT_OPT_CLIENT_KEY:
		options->client_key = value;
		return true;
	default:
		return false;
	}
}

static const char *pick(const char *flag, const char *env_name)
{
	const char *env;

	if (flag && flag[0])
		return flag;
	env = getenv(env_name);
	return env && env[0] ? env : NULL;
}

/* Splits "https://host:port" into host and port; IPv6 hosts in brackets. */
static int parse_address(const char *address, char *host, size_t host_len, uint16_t *ret_port,
	struct wd_error *err)
{
	const char *rest;
	const char *colon;
	const char *end;
	char *port_end;
	unsigned long port = 8200;
	size_t len;

	if (strncmp(address, "https://", 8) != 0)
		return wd_error_set(err, WD_EINVAL, "address \"%s\" must start with https://, or "
			"unix:// for the admin socket", address);
	rest = address + 8;
	end = rest + strcspn(rest, "/");
	if (rest[0] == '[') {
		const char *close = memchr(rest, ']', (size_t)(end - rest));

		if (!close)
			return wd_error_set(err, WD_EINVAL, "address \"%s\": unclosed '['", address);
		len = (size_t)(close - rest - 1);
		rest++;
		colon = close[1] == ':' ? close + 1 : NULL;
	} else {
		colon = memchr(rest, ':', (size_t)(end - rest));
		len = (size_t)((colon ? colon : end) - rest);
	}
	if (len == 0 || len >= host_len)
		return wd_error_set(err, WD_EINVAL, "address \"%s\": bad host", address);
	memcpy(host, rest, len);
	host[len] = '\0';
	if (colon) {
		port = strtoul(colon + 1, &port_end, 10);
		if (port_end != end || port == 0 || port > 65535)
			return wd_error_set(err, WD_EINVAL, "address \"%s\": bad port", address);
	}
	*ret_port = (uint16_t)port;
	return 0;
}

static int read_token_file(char **ret_token)
{
	const char *home = getenv("HOME");
	char path[4096];
	uint8_t *data = NULL;
	size_t len = 0;
	struct wd_error ignored;

	*ret_token = NULL;
	if (!home)
		return 0;
	snprintf(path, sizeof(path), "%s/.vault-token", home);
	if (wd_file_read(path, TOKEN_FILE_MAX, &data, &len, &ignored) < 0)
		return 0;
	while (len && (data[len - 1] == '\n' || data[len - 1] == '\r' || data[len - 1] == ' '))
		data[--len] = '\0';
	*ret_token = (char *)data;
	return 0;
}

static int load_anchors(const char *path, STACK_OF(X509) **ret_chain, struct wd_error *err)
{
	uint8_t *pem = NULL;
	size_t len = 0;
	int rc;

	WD_TRY(wd_file_read(path, CA_FILE_MAX, &pem, &len, err));
	rc = crypto_x509_chain_from_pem((const char *)pem, len, MAX_TRUST_ANCHORS, ret_chain, err);
	free(pem);
	if (rc < 0)
		wd_error_set(err, rc, "CA file %s holds no valid PEM certificate", path);
	return rc;
}

/* Everything one connection needs, released by connection_clear. */
struct connection {
	STACK_OF(X509) *anchors;
	X509 *anchor_array[MAX_TRUST_ANCHORS];
	uint8_t *client_chain;
	size_t client_chain_len;
	EVP_PKEY *client_key;
	char *token_from_file;
};

static void connection_clear(struct connection *conn)
{
	sk_X509_pop_free(conn->anchors, X509_free);
	free(conn->client_chain);
	EVP_PKEY_free(conn->client_key);
	if (conn->token_from_file) {
		OPENSSL_cleanse(conn->token_from_file, strlen(conn->token_from_file));
		free(conn->token_from_file);
	}
}

static int connect_server(const struct cli_vault_options *options, struct connection *conn,
	struct net_client **ret_client, struct wd_error *err)
{
	const char *address = pick(options->address, "VAULT_ADDR");
	const char *ca_cert = pick(options->ca_cert, "VAULT_CACERT");
	const char *client_cert = pick(options->client_cert, "VAULT_CLIENT_CERT");
	const char *client_key = pick(options->client_key, "VAULT_CLIENT_KEY");
	struct net_client_config config = { 0 };
	char host[256];
	uint16_t port = 0;

	if (!address)
		address = CLI_VAULT_DEFAULT_ADDR;
	/* The admin socket serves sys/unseal and sys/seal-status, for a server
	 * whose sealed CA cannot give its TLS listeners a trusted certificate.
	 * Peer credentials authenticate it, so no CA file is needed. */
	if (strncmp(address, CLI_VAULT_UNIX_SCHEME, strlen(CLI_VAULT_UNIX_SCHEME)) == 0) {
		config.unix_path = address + strlen(CLI_VAULT_UNIX_SCHEME);
		if (config.unix_path[0] != '/')
			return wd_error_set(err, WD_EINVAL, "address \"%s\": expected unix:// and an "
				"absolute socket path", address);
		return net_client_connect(&config, ret_client, err);
	}
	WD_TRY(parse_address(address, host, sizeof(host), &port, err));
	if (!ca_cert)
		return wd_error_set(err, WD_EINVAL, "no CA certificate to trust %s: pass --ca-cert "
			"or set VAULT_CACERT", address);
	WD_TRY(load_anchors(ca_cert, &conn->anchors, err));
	for (int i = 0; i < sk_X509_num(conn->anchors); i++)
		conn->anchor_array[i] = sk_X509_value(conn->anchors, i);

	if (client_cert || client_key) {
		if (!client_cert || !client_key)
			return wd_error_set(err, WD_EINVAL, "a client certificate needs both "
				"--client-cert and --client-key");
		WD_TRY(wd_file_read(client_cert, CA_FILE_MAX, &conn->client_chain,
			&conn->client_chain_len, err));
		WD_TRY(crypto_key_load(client_key, &conn->client_key, err));
	}

	config.host = host;
	config.port = port;
	config.trust_anchors = conn->anchor_array;
	config.trust_anchor_count = (size_t)sk_X509_num(conn->anchors);
	config.cert_chain_pem = (const char *)conn->client_chain;
	config.cert_chain_len = conn->client_chain_len;
	config.key = conn->client_key;
	return net_client_connect(&config, ret_client, err);
}

static int parse_body(const struct net_response *response, json_t **ret_body,
	struct wd_error *err)
{
	json_error_t json_err;

	*ret_body = NULL;
	if (response->body_len == 0)
		return 0;
	*ret_body = json_loadb((const char *)response->body, response->body_len, 0, &json_err);
	if (!*ret_body)
		return wd_error_set(err, WD_EINVAL, "the server returned %d with a body that is not "
			"JSON: %s", response->status, json_err.text);
	return 0;
}

int cli_vault_request(const struct cli_vault_options *options, const char *method,
	const char *path, const json_t *body, int *ret_status, json_t **ret_body,
	struct wd_error *err)
{
	struct connection conn = { 0 };
	struct net_client *client = NULL;
	struct net_response *response = NULL;
	const char *token = pick(options->token, "VAULT_TOKEN");
	char *header = NULL;
	char *url = NULL;
	char *json = NULL;
	int rc;

	*ret_status = 0;
	*ret_body = NULL;
	if (!token) {
		WD_GUARD(read_token_file(&conn.token_from_file));
		token = conn.token_from_file;
	}
	WD_GUARD(connect_server(options, &conn, &client, err));

	rc = WD_ENOMEM;
	if (asprintf(&url, "/v1/%s", path) < 0) {
		url = NULL;
		goto out;
	}
	if (body) {
		json = json_dumps(body, JSON_COMPACT);
		WD_ENSURE(json, WD_ENOMEM);
	}
	if (token && asprintf(&header, "X-Vault-Token: %s", token) < 0) {
		header = NULL;
		goto out;
	}
	WD_GUARD(net_client_request(client, method, url, (const char *const *)&header,
		header ? 1 : 0, json ? "application/json" : NULL, json, json ? strlen(json) : 0,
		&response, err));
	*ret_status = response->status;
	WD_GUARD(parse_body(response, ret_body, err));
	rc = 0;
out:
	if (rc == WD_ENOMEM && err && err->code == 0)
		wd_error_set(err, rc, "out of memory building the request");
	if (header) {
		OPENSSL_cleanse(header, strlen(header));
		free(header);
	}
	if (json) {
		OPENSSL_cleanse(json, strlen(json));
		free(json);
	}
	free(url);
	net_response_free(response);
	net_client_free(client);
	connection_clear(&conn);
	return rc;
}

int cli_vault_print_error(const char *command, int status, const json_t *body)
{
	const json_t *errors = json_object_get(body, "errors");
	size_t index;
	const json_t *item;
	bool first = true;

	fprintf(stderr, "warden %s: the server returned %d", command, status);
	json_array_foreach(errors, index, item) {
		if (!json_is_string(item))
			continue;
		fprintf(stderr, "%s%s", first ? ": " : "; ", json_string_value(item));
		first = false;
	}
	fputc('\n', stderr);
	return CLI_EXIT_FAILURE;
}
