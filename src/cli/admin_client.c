/* One admin API request per call over the admin Unix socket, with the exit
 * codes and messages every operator command shares. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli/admin_client.h"
#include "cli/cli_args.h"
#include "cli/cli_request.h"
#include "common/alloc.h"

/* Response ceiling in bytes. A CRL lists every revoked, unexpired serial,
 * so it may pass net_client's 4 MiB default on a busy trust domain. */
#define ADMIN_MAX_RESPONSE_BYTES ((size_t)64 << 20)

/* Maximum bytes printed of an unexpected (non-JSON) error body. */
#define ADMIN_ERROR_BODY_MAX 200

const char *admin_socket_resolve(const char *option)
{
	const char *env;

	if (option)
		return option;
	env = getenv(ADMIN_SOCKET_ENV);
	if (env && env[0])
		return env;
	return ADMIN_SOCKET_DEFAULT;
}

/* Writes text with control characters replaced by '?', so a message cannot
 * move the cursor or change the terminal. */
static void print_sanitized(FILE *out, const char *text, size_t max)
{
	for (size_t i = 0; text[i] && i < max; i++) {
		unsigned char c = (unsigned char)text[i];

		fputc(c < 0x20 || c == 0x7f ? '?' : c, out);
	}
}

void admin_print_error(const struct net_response *response, const char *method,
	const char *path, FILE *out)
{
	json_t *body = NULL;
	const char *message = NULL;
	struct wd_error err = { 0 };

	if (response->body_len > 0 && net_response_json(response, &body, &err) == 0)
		message = json_string_value(json_object_get(json_object_get(body, "error"),
			"message"));

	fprintf(out, "warden: ");
	if (message) {
		print_sanitized(out, message, SIZE_MAX);
	} else {
		fprintf(out, "the server returned HTTP %d for %s %s", response->status, method,
			path);
		if (response->body_len > 0) {
			fprintf(out, ": ");
			print_sanitized(out, (const char *)response->body, ADMIN_ERROR_BODY_MAX);
		}
	}
	fputc('\n', out);
	json_decref(body);
}

/* Returns the reason part of net_client's "cannot connect to PATH: REASON",
 * since the message printed names the path itself. */
static const char *connect_reason(const struct wd_error *err, const char *socket_path)
{
	const char *text = wd_error_text(err);
	const char *prefix = "cannot connect to ";
	size_t prefix_len = strlen(prefix);
	size_t path_len = strlen(socket_path);

	if (strncmp(text, prefix, prefix_len) == 0 &&
	    strncmp(text + prefix_len, socket_path, path_len) == 0 &&
	    strncmp(text + prefix_len + path_len, ": ", 2) == 0)
		return text + prefix_len + path_len + 2;
	return text;
}

static void wipe_response(struct net_response *response)
{
	if (response && response->body)
		OPENSSL_cleanse(response->body, response->body_len);
	net_response_free(response);
}

int admin_call_raw(const char *socket_path, const char *method, const char *path,
	const json_t *body, struct admin_reply *ret_reply)
{
	const struct net_client_config config = {
		.unix_path = socket_path,
		.max_response_bytes = ADMIN_MAX_RESPONSE_BYTES,
	};
	struct net_client *client = NULL;
	struct net_response *response = NULL;
	struct wd_error err = { 0 };
	int rc;

	memset(ret_reply, 0, sizeof(*ret_reply));

	if (net_client_connect(&config, &client, &err) < 0) {
		fprintf(stderr,
			"warden: cannot reach the warden server at %s: %s (is 'warden server' "
			"running? set --admin-socket or " ADMIN_SOCKET_ENV ")\n",
			socket_path, connect_reason(&err, socket_path));
		return CLI_EXIT_FAILURE;
	}

	if (body)
		rc = net_client_request_json(client, method, path, body, &response, &err);
	else
		rc = net_client_request(client, method, path, NULL, 0, NULL, NULL, 0, &response,
			&err);
	net_client_free(client);
	if (rc < 0) {
		fprintf(stderr, "warden: %s %s to the warden server at %s failed: %s\n", method,
			path, socket_path, wd_error_text(&err));
		return CLI_EXIT_FAILURE;
	}

	if (response->status < 200 || response->status > 299) {
		admin_print_error(response, method, path, stderr);
		wipe_response(response);
		return CLI_EXIT_FAILURE;
	}
	ret_reply->response = response;
	return CLI_EXIT_OK;
}

int admin_call(const char *socket_path, const char *method, const char *path,
	const json_t *body, struct admin_reply *ret_reply)
{
	struct wd_error err = { 0 };
	int rc;

	rc = admin_call_raw(socket_path, method, path, body, ret_reply);
	if (rc != CLI_EXIT_OK)
		return rc;

	if (net_response_json(ret_reply->response, &ret_reply->json, &err) < 0 ||
	    !json_is_object(ret_reply->json)) {
		fprintf(stderr, "warden: the server's response to %s %s is not a JSON object: %s\n",
			method, path, err.code ? wd_error_text(&err) : "unexpected type");
		admin_reply_clear(ret_reply);
		return CLI_EXIT_FAILURE;
	}
	return CLI_EXIT_OK;
}

/* Builds the URL of the page after page_token (NULL: the first). */
static int page_url(const char *url, const char *page_token, struct wd_buf *ret_url)
{
	WD_TRY(cli_url_init(ret_url, url));
	if (page_token)
		WD_TRY(cli_url_append_query(ret_url, "page_token", page_token));
	return 0;
}

int admin_call_pages(const char *socket_path, const char *url, const char *key, json_t *all)
{
	_wd_cleanup_(wd_freep) char *page_token = NULL;
	int rc = CLI_EXIT_OK;

	do {
		struct admin_reply reply = { 0 };
		struct wd_buf page;
		const char *next;

		if (page_url(url, page_token, &page) < 0) {
			fprintf(stderr, "warden: the URL %s is too long\n", url);
			wd_buf_free(&page);
			return CLI_EXIT_FAILURE;
		}
		rc = admin_call(socket_path, "GET", wd_buf_str(&page), NULL, &reply);
		wd_buf_free(&page);
		if (rc != CLI_EXIT_OK)
			return rc;

		if (json_array_extend(all, json_object_get(reply.json, key)) < 0) {
			fprintf(stderr, "warden: out of memory\n");
			rc = CLI_EXIT_FAILURE;
		}
		next = json_string_value(json_object_get(reply.json, "next_page_token"));
		/* A token that does not move on would loop forever. */
		if (rc == CLI_EXIT_OK && next && page_token && !strcmp(next, page_token)) {
			fprintf(stderr, "warden: the server repeated page token '%s' for %s\n", next,
				url);
			rc = CLI_EXIT_FAILURE;
		}
		free(page_token);
		page_token = next && next[0] ? wd_strdup(next) : NULL;
		if (next && next[0] && !page_token) {
			fprintf(stderr, "warden: out of memory\n");
			rc = CLI_EXIT_FAILURE;
		}
		admin_reply_clear(&reply);
	} while (rc == CLI_EXIT_OK && page_token);
	return rc;
}

void admin_reply_clear(struct admin_reply *reply)
{
	const char *key;
	json_t *value;

	/* Minted keys and tokens are top-level string members; jansson frees
	 * its copies without wiping them. */
	json_object_foreach(reply->json, key, value) {
		if (json_is_string(value))
			OPENSSL_cleanse((char *)json_string_value(value), json_string_length(value));
	}
	json_decref(reply->json);
	reply->json = NULL;
	wipe_response(reply->response);
	reply->response = NULL;
}

int admin_reply_print(const struct admin_reply *reply, FILE *out)
{
	const struct net_response *response = reply->response;

	if (response->body_len > 0 &&
	    fwrite(response->body, 1, response->body_len, out) != response->body_len)
		return CLI_EXIT_FAILURE;
	if (response->body_len == 0 || response->body[response->body_len - 1] != '\n')
		fputc('\n', out);
	return fflush(out) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}
