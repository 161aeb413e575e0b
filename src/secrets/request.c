/* Turns an HTTP request into a vault_request the way Vault's handler does:
 * verb to operation, "?list=true" to a list, a cleaned path, a JSON body. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "net/net_json.h"
#include "secrets/secrets_internal.h"

void vault_request_clear(struct vault_request *req)
{
	free(req->path);
	json_decref(req->body);
	if (req->client_token) {
		OPENSSL_cleanse(req->client_token, strlen(req->client_token));
		free(req->client_token);
	}
	memset(req, 0, sizeof(*req));
}

static int parse_bool(const char *text, bool *ret_value)
{
	static const char *const yes[] = { "1", "t", "T", "true", "TRUE", "True" };
	static const char *const no[] = { "0", "f", "F", "false", "FALSE", "False" };

	for (size_t i = 0; i < WD_ARRAY_LEN(yes); i++) {
		if (strcmp(text, yes[i]) == 0) {
			*ret_value = true;
			return 0;
		}
		if (strcmp(text, no[i]) == 0) {
			*ret_value = false;
			return 0;
		}
	}
	return WD_EINVAL;
}

static int operation_of(const char *method, const char *list_query, enum vault_op *ret_op,
	struct wd_error *err)
{
	bool list = false;

	if (list_query && parse_bool(list_query, &list) < 0)
		return wd_error_set(err, WD_EINVAL, "invalid value for \"list\": \"%.32s\"",
			list_query);
	if (!method || strcmp(method, "LIST") == 0)
		*ret_op = VAULT_OP_LIST;
	else if (strcmp(method, "GET") == 0)
		*ret_op = list ? VAULT_OP_LIST : VAULT_OP_READ;
	else if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0)
		*ret_op = VAULT_OP_UPDATE;
	else if (strcmp(method, "DELETE") == 0)
		*ret_op = VAULT_OP_DELETE;
	else if (strcmp(method, "PATCH") == 0)
		*ret_op = VAULT_OP_PATCH;
	else if (strcmp(method, "HEAD") == 0)
		*ret_op = VAULT_OP_HEAD;
	else
		return wd_error_set(err, WD_EUNSUPPORTED, "unsupported method \"%.16s\"", method);
	return 0;
}

/* Copies the path after "/v1/" into a new string, dropping repeated
 * slashes as hvac's client does, and refusing "." and ".." segments. */
static int clean_path(const char *path, bool list, char **ret_path, struct wd_error *err)
{
	size_t len;
	char *out;
	size_t n = 0;

	*ret_path = NULL;
	if (strncmp(path, "/v1/", 4) != 0)
		return wd_error_set(err, WD_ENOTFOUND, "no handler for route \"%.128s\"", path);
	path += 4;
	len = strlen(path);
	if (len > VAULT_PATH_MAX)
		return wd_error_set(err, WD_EINVAL, "path longer than %d bytes", VAULT_PATH_MAX);
	out = malloc(len + 2);
	if (!out)
		return wd_error_set(err, WD_ENOMEM, "out of memory");

	for (const char *p = path; *p;) {
		const char *end = p + strcspn(p, "/");
		size_t seg = (size_t)(end - p);

		for (const char *c = p; c < end; c++) {
			if ((unsigned char)*c < 0x20 || *c == 0x7f) {
				free(out);
				return wd_error_set(err, WD_EINVAL, "control character in path");
			}
		}
		if ((seg == 1 && p[0] == '.') || (seg == 2 && p[0] == '.' && p[1] == '.')) {
			free(out);
			return wd_error_set(err, WD_EINVAL, "invalid path segment \"%.*s\"", (int)seg, p);
		}
		if (seg) {
			if (n)
				out[n++] = '/';
			memcpy(out + n, p, seg);
			n += seg;
		}
		p = *end ? end + 1 : end;
	}
	if (n == 0) {
		free(out);
		return wd_error_set(err, WD_ENOTFOUND, "no handler for route \"\"");
	}
	/* A list names a folder; Vault adds the slash the client left out.
	 * A trailing slash on other operations is kept as sent. */
	if (list || path[len - 1] == '/')
		out[n++] = '/';
	out[n] = '\0';
	*ret_path = out;
	return 0;
}

static bool is_form(const char *content_type, const void *body, size_t len)
{
	const char *text = body;

	if (!content_type || strncmp(content_type, "application/x-www-form-urlencoded", 33) != 0)
		return false;
	return len == 0 || (text[0] != '{' && text[0] != '[');
}

int vault_request_decode(const char *method, const char *path, const char *list_query,
	const void *body, size_t body_len, const char *content_type, struct vault_request *req,
	struct wd_error *err)
{
	int rc;

	memset(req, 0, sizeof(*req));
	WD_TRY(operation_of(method, list_query, &req->op, err));
	WD_TRY(clean_path(path, req->op == VAULT_OP_LIST, &req->path, err));

	/* Form bodies carry no fields any endpoint here reads, so they count as
	 * empty, as they would for every JSON-only Vault path. */
	if (body_len == 0 || is_form(content_type, body, body_len)) {
		req->body = json_object();
		if (!req->body) {
			vault_request_clear(req);
			return wd_error_set(err, WD_ENOMEM, "out of memory");
		}
		return 0;
	}
	rc = net_json_parse_object(body, body_len, VAULT_BODY_MAX_DEPTH, &req->body, err);
	if (rc < 0) {
		/* wd_error_set formats into err->detail, so the reason is copied
		 * out first. */
		char reason[sizeof(err->detail)];

		snprintf(reason, sizeof(reason), "%s", wd_error_text(err));
		vault_request_clear(req);
		return wd_error_set(err, WD_EINVAL, "failed to parse JSON input: %s", reason);
	}
	return 0;
}
