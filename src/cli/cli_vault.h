/* The Vault API client behind `warden kv`, `db`, `lease` and `operator`:
 * where the server is, how to trust it and which token to send, from
 * flags or the environment variables Vault's own CLI reads. */
#pragma once

#include <stdbool.h>

#include <jansson.h>

#include "common/error.h"
#include "common/macros.h"

/* Default address of the secrets API. */
#define CLI_VAULT_DEFAULT_ADDR "https://127.0.0.1:8200"

/* Prefix of an address that names a Unix socket, as Vault's CLI accepts:
 * "unix:///run/warden/admin.sock" reaches the seal endpoints on the admin
 * socket. */
#define CLI_VAULT_UNIX_SCHEME "unix://"

/* Connection settings of the client. NULL fields fall back to the environment:
 * address VAULT_ADDR, token VAULT_TOKEN then ~/.vault-token, ca_cert
 * VAULT_CACERT, client_cert VAULT_CLIENT_CERT, client_key VAULT_CLIENT_KEY. */
struct cli_vault_options {
	const char *address;      /* "https://host:port" or "unix:///path" */
	const char *token;
	const char *ca_cert;      /* PEM file of the CA certificates to trust */
	const char *client_cert;  /* PEM chain for cert login, optional */
	const char *client_key;
};

/* Option ids the commands share; cli_vault_option handles them. */
enum {
	CLI_VAULT_OPT_ADDRESS = 1000,
	CLI_VAULT_OPT_TOKEN,
	CLI_VAULT_OPT_CA_CERT,
	CLI_VAULT_OPT_CLIENT_CERT,
	CLI_VAULT_OPT_CLIENT_KEY,
};

/* The table entries of those options, to put in a command's cli_option
 * table: { "address", "URL", CLI_VAULT_OPT_ADDRESS, ... }. */
#define CLI_VAULT_OPTIONS                                                        \
	{ "address", "URL", CLI_VAULT_OPT_ADDRESS,                                  \
	  "secrets API address (default $VAULT_ADDR or " CLI_VAULT_DEFAULT_ADDR ")" }, \
	{ "token", "TOKEN", CLI_VAULT_OPT_TOKEN,                                    \
	  "token to send (default $VAULT_TOKEN or ~/.vault-token)" },              \
	{ "ca-cert", "FILE", CLI_VAULT_OPT_CA_CERT,                                 \
	  "PEM CA certificates to trust (default $VAULT_CACERT)" },                 \
	{ "client-cert", "FILE", CLI_VAULT_OPT_CLIENT_CERT,                         \
	  "PEM client certificate chain (default $VAULT_CLIENT_CERT)" },            \
	{ "client-key", "FILE", CLI_VAULT_OPT_CLIENT_KEY,                           \
	  "PEM key of the client certificate (default $VAULT_CLIENT_KEY)" }

/* Stores value when id is one of the CLI_VAULT_OPT_* ids and returns true. */
bool cli_vault_option(struct cli_vault_options *options, int id, const char *value);

/* Sends one request to /v1/<path> (path has no leading '/'; a query may
 * follow '?'). method is GET, PUT, POST, DELETE or LIST. body may be NULL.
 * *ret_status receives the HTTP status and *ret_body the parsed JSON body,
 * or NULL when the response had none. Transport failures are errors; an
 * HTTP error status is not: the caller reads it and the "errors" list.
 * WD_EINVAL for a bad address or CA file. */
WD_MUST_CHECK int cli_vault_request(const struct cli_vault_options *options, const char *method,
	const char *path, const json_t *body, int *ret_status, json_t **ret_body,
	struct wd_error *err);

/* Prints "warden <command>: <status>: <errors joined by "; ">" on stderr
 * for an error response and returns CLI_EXIT_FAILURE. */
int cli_vault_print_error(const char *command, int status, const json_t *body);
