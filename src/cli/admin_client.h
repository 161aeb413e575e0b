/* The operator commands' side of the admin API: finds the admin socket,
 * sends one request over it and turns the response into an exit code,
 * printing the server's error message on failure. */
#pragma once

#include <stdio.h>

#include <jansson.h>

#include "net/net_client.h"

/* Admin socket path of `warden server` when its configuration sets none. */
#define ADMIN_SOCKET_DEFAULT "/run/warden/admin.sock"

/* Environment variable naming the admin socket when --admin-socket is not
 * given. */
#define ADMIN_SOCKET_ENV "WARDEN_ADMIN_SOCKET"

/* Returns option when not NULL, else $WARDEN_ADMIN_SOCKET when set and not
 * empty, else ADMIN_SOCKET_DEFAULT. The result is borrowed. */
const char *admin_socket_resolve(const char *option);

/* A successful response. The body may hold secrets (keys, tokens), so
 * admin_reply_clear wipes it. */
struct admin_reply {
	struct net_response *response;
	json_t *json; /* the body as a JSON object, or NULL for admin_call_raw */
};

/* Sends method and path, with body as JSON when not NULL, to the admin
 * socket and expects a 2xx status. Returns 0 with the response in ret_reply,
 * or 1 (the exit code of a failed request) after printing on stderr
 * "warden: <the server's error message>" or why the server was not
 * reachable. */
int admin_call_raw(const char *socket_path, const char *method, const char *path,
	const json_t *body, struct admin_reply *ret_reply);

/* Like admin_call_raw, and parses the body as a JSON object into
 * ret_reply->json; a body that is not one fails with 1. */
int admin_call(const char *socket_path, const char *method, const char *path,
	const json_t *body, struct admin_reply *ret_reply);

/* Fetches every page of a list route: GETs url, then url with
 * page_token=<next_page_token> until the token is empty or absent, and
 * appends the array under key of each page to all. Returns 0, or 1 after
 * printing why. */
int admin_call_pages(const char *socket_path, const char *url, const char *key, json_t *all);

/* Wipes the response body, then frees the response and the JSON; accepts a
 * cleared reply. */
void admin_reply_clear(struct admin_reply *reply);

/* Writes the response body to out as received, with a final newline when
 * it lacks one (the --json output). Returns 0, or 1 when writing fails. */
int admin_reply_print(const struct admin_reply *reply, FILE *out);

/* Prints the error of a response with a non-2xx status to out:
 * "warden: <message>" from an {"error": {"code", "message"}} body, else
 * the status with the method and path. */
void admin_print_error(const struct net_response *response, const char *method,
	const char *path, FILE *out);
