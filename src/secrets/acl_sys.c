/* The policy endpoints under sys/: policies/acl[/:name], the legacy
 * policy[/:name], and capabilities, capabilities-self and
 * capabilities-accessor, with Vault's replies and messages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "secrets/acl_internal.h"
#include "secrets/barrier.h"
#include "secrets/token.h"

/* Ceilings on what one request may make us hold: policy names listed and
 * paths asked about in one capabilities request. */
#define ACL_LIST_MAX 65536u
#define ACL_CAPABILITY_PATHS_MAX 256u

struct route {
	const char *prefix;  /* rel starts with it; "" after it means the collection */
	bool legacy;
	int (*handle)(struct secrets *secrets, struct vault_request *req, const char *rest,
		bool legacy, struct vault_response *resp, struct wd_error *err);
};

static bool is_write(enum vault_op op)
{
	return op == VAULT_OP_CREATE || op == VAULT_OP_UPDATE;
}

static int unsupported(const struct vault_request *req, struct wd_error *err)
{
	return wd_error_set(err, WD_EUNSUPPORTED, "unsupported operation %s on sys/%s",
		vault_op_name(req->op), req->rel);
}

/* Copies the name from the path, lowercased as Vault stores names. */
static int read_name(const char *rest, char out[static ACL_POLICY_NAME_MAX + 1],
	struct wd_error *err)
{
	size_t len = strlen(rest);

	if (len == 0)
		return wd_error_set(err, WD_EINVAL, "missing policy name");
	if (len > ACL_POLICY_NAME_MAX)
		return wd_error_set(err, WD_EINVAL, "policy name longer than %u bytes",
			ACL_POLICY_NAME_MAX);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)rest[i];

		if (c < 0x20 || c == 0x7f)
			return wd_error_set(err, WD_EINVAL, "policy name contains a control character");
		out[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : (char)c;
	}
	out[len] = '\0';
	return 0;
}

static void policy_path(const char *name, char *out, size_t size)
{
	snprintf(out, size, "sys/policy/%s", name);
}

/* --- list --- */

struct name_list {
	char **names;
	size_t count;
};

static int collect_name(void *context, const char *rest)
{
	struct name_list *list = context;
	char **names;

	if (list->count >= ACL_LIST_MAX)
		return WD_ETOOBIG;
	names = wd_reallocarray(list->names, list->count + 1, sizeof(*names));
	if (!names)
		return WD_ENOMEM;
	list->names = names;
	names[list->count] = wd_strdup(rest);
	if (!names[list->count])
		return WD_ENOMEM;
	list->count++;
	return 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void name_list_free(struct name_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		free(list->names[i]);
	free(list->names);
}

/* Fills keys with the stored names and "default", sorted, then "root", as
 * Vault lists ACL policies. */
static int list_names(struct secrets *secrets, json_t *keys, struct wd_error *err)
{
	struct name_list list = { 0 };
	bool has_default = false;
	int rc;

	rc = barrier_list(secrets->barrier, "sys/policy/", false, collect_name, &list, err);
	if (rc == WD_ETOOBIG)
		wd_error_set(err, rc, "more than %u policies are stored", ACL_LIST_MAX);
	if (rc == WD_ENOMEM)
		wd_error_set(err, rc, "out of memory listing policies");
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < list.count; i++)
		has_default = has_default || strcmp(list.names[i], "default") == 0;
	if (!has_default)
		WD_GUARD(collect_name(&list, "default"));
	qsort(list.names, list.count, sizeof(*list.names), compare_names);

	for (size_t i = 0; i < list.count; i++) {
		if (strcmp(list.names[i], "root") != 0 &&
		    json_array_append_new(keys, json_string(list.names[i])) < 0)
			WD_GUARD(WD_ENOMEM);
	}
	if (json_array_append_new(keys, json_string("root")) < 0)
		rc = WD_ENOMEM;
out:
	name_list_free(&list);
	return rc;
}

static int handle_list(struct secrets *secrets, struct vault_request *req, bool legacy,
	struct vault_response *resp, struct wd_error *err)
{
	json_t *keys = json_array();
	json_t *data = json_object();
	int rc = 0;

	(void)req;
	WD_ENSURE(keys && data, WD_ENOMEM);
	WD_GUARD(list_names(secrets, keys, err));
	WD_ENSURE(json_object_set(data, "keys", keys) == 0, WD_ENOMEM);
	if (legacy)
		WD_ENSURE(json_object_set(data, "policies", keys) == 0, WD_ENOMEM);
	resp->data = WD_TAKE_PTR(data);
out:
	if (rc == WD_ENOMEM)
		wd_error_set(err, rc, "out of memory listing policies");
	json_decref(keys);
	json_decref(data);
	return rc;
}

/* --- read, write, delete --- */

static int handle_read(struct secrets *secrets, const char *name, bool legacy,
	struct vault_response *resp, struct wd_error *err)
{
	char path[sizeof("sys/policy/") + ACL_POLICY_NAME_MAX];
	json_t *stored = NULL, *data = NULL, *text;
	int rc;

	/* Vault returns 404 with an empty error list for a missing policy and
	 * for root, which has no text. */
	if (strcmp(name, "root") == 0)
		return wd_error_set(err, WD_ENOTFOUND, "%s", "");

	policy_path(name, path, sizeof(path));
	rc = barrier_get_json(secrets->barrier, path, &stored, err);
	if (rc == WD_ENOTFOUND && strcmp(name, "default") == 0) {
		stored = json_pack("{ss}", "policy", acl_default_policy_text);
		rc = stored ? 0 : WD_ENOMEM;
	} else if (rc == WD_ENOTFOUND) {
		return wd_error_set(err, WD_ENOTFOUND, "%s", "");
	}
	if (rc < 0)
		goto out;

	text = json_object_get(stored, "policy");
	if (!json_is_string(text)) {
		rc = wd_error_set(err, WD_ECORRUPT, "stored policy \"%s\" has no policy text", name);
		goto out;
	}
	data = json_pack("{s:s, s:O}", "name", name, "policy", text);
	WD_ENSURE(data, WD_ENOMEM);
	if (legacy)
		WD_ENSURE(json_object_set(data, "rules", text) == 0, WD_ENOMEM);
	resp->data = WD_TAKE_PTR(data);
out:
	if (rc == WD_ENOMEM)
		wd_error_set(err, rc, "out of memory reading policy \"%s\"", name);
	json_decref(stored);
	json_decref(data);
	return rc;
}

static int base64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decodes text when all of it is standard padded base64, as Vault accepts
 * a base64-encoded policy; returns NULL otherwise (and on memory). Policy
 * text has quotes and spaces, so it is never mistaken for base64. */
static char *base64_decode_strict(const char *text, size_t len)
{
	char *out;
	size_t used = 0;

	if (len == 0 || len % 4 != 0)
		return NULL;
	out = malloc(len / 4 * 3 + 1);
	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i += 4) {
		int v[4];
		bool last = i + 4 == len;

		for (size_t k = 0; k < 4; k++)
			v[k] = base64_value(text[i + k]);
		if (v[0] < 0 || v[1] < 0 || (v[2] < 0 && !(last && text[i + 2] == '=' && text[i + 3] == '=')) ||
		    (v[3] < 0 && !(last && text[i + 3] == '=')))
			goto bad;
		out[used++] = (char)(v[0] << 2 | v[1] >> 4);
		if (v[2] >= 0)
			out[used++] = (char)((v[1] & 0xf) << 4 | v[2] >> 2);
		if (v[3] >= 0)
			out[used++] = (char)((v[2] & 0x3) << 6 | v[3]);
	}
	out[used] = '\0';
	if (strlen(out) != used)
		goto bad; /* a NUL byte: not policy text */
	return out;
bad:
	free(out);
	return NULL;
}

static int handle_write(struct secrets *secrets, struct vault_request *req, const char *name,
	bool legacy, struct wd_error *err)
{
	char path[sizeof("sys/policy/") + ACL_POLICY_NAME_MAX];
	const char *text = json_string_value(json_object_get(req->body, "policy"));
	_wd_cleanup_(wd_freep) char *decoded = NULL;
	struct acl_policy *policy = NULL;
	struct wd_error parse_err = { 0 };
	json_t *stored;
	int rc;

	if (legacy && (!text || !text[0]))
		text = json_string_value(json_object_get(req->body, "rules"));
	if (!text || !text[0])
		return wd_error_set(err, WD_EINVAL, "'policy' parameter not supplied or empty");
	if (strcmp(name, "root") == 0)
		return wd_error_set(err, WD_EINVAL, "cannot update \"root\" policy");

	decoded = base64_decode_strict(text, strlen(text));
	if (decoded) {
		/* Decoded bytes that are not UTF-8 are not policy text either. */
		json_t *probe = json_string(decoded);

		if (probe)
			text = decoded;
		json_decref(probe);
	}
	if (acl_policy_parse(name, text, strlen(text), &policy, &parse_err) < 0)
		return wd_error_set(err, parse_err.code == WD_ENOMEM ? WD_ENOMEM : WD_EINVAL,
			"failed to parse policy: %s", wd_error_text(&parse_err));
	acl_policy_free(policy);

	stored = json_pack("{s:s, s:s}", "name", name, "policy", text);
	if (!stored)
		return wd_error_set(err, WD_ENOMEM, "out of memory storing policy \"%s\"", name);
	policy_path(name, path, sizeof(path));
	rc = barrier_put_json(secrets->barrier, path, stored, err);
	json_decref(stored);
	acl_store_forget(secrets, name);
	return rc;
}

static int handle_delete(struct secrets *secrets, const char *name, struct wd_error *err)
{
	char path[sizeof("sys/policy/") + ACL_POLICY_NAME_MAX];
	int rc;

	if (strcmp(name, "root") == 0 || strcmp(name, "default") == 0)
		return wd_error_set(err, WD_EINVAL, "cannot delete \"%s\" policy", name);
	policy_path(name, path, sizeof(path));
	rc = barrier_delete(secrets->barrier, path, err);
	acl_store_forget(secrets, name);
	return rc;
}

static int handle_policy(struct secrets *secrets, struct vault_request *req, const char *rest,
	bool legacy, struct vault_response *resp, struct wd_error *err)
{
	char name[ACL_POLICY_NAME_MAX + 1];

	/* The collection: LIST policies/acl, or GET (and LIST) policy. */
	if (rest[0] == '\0') {
		if (req->op == VAULT_OP_LIST || (legacy && req->op == VAULT_OP_READ))
			return handle_list(secrets, req, legacy, resp, err);
		return unsupported(req, err);
	}

	WD_TRY(read_name(rest, name, err));
	if (req->op == VAULT_OP_READ)
		return handle_read(secrets, name, legacy, resp, err);
	if (is_write(req->op))
		return handle_write(secrets, req, name, legacy, err);
	if (req->op == VAULT_OP_DELETE)
		return handle_delete(secrets, name, err);
	return unsupported(req, err);
}

/* --- capabilities --- */

/* Appends the strings of field (an array, or one comma-separated string)
 * to paths. */
static int read_paths_field(const json_t *body, const char *field, json_t *paths,
	struct wd_error *err)
{
	const json_t *value = json_object_get(body, field);
	size_t i;
	json_t *item;

	if (!value || json_is_null(value))
		return 0;
	if (json_is_string(value)) {
		const char *text = json_string_value(value);

		while (*text) {
			size_t len = strcspn(text, ",");

			if (len > 0 && json_array_append_new(paths, json_stringn(text, len)) < 0)
				return WD_ENOMEM;
			text += len;
			if (*text == ',')
				text++;
		}
		return 0;
	}
	if (!json_is_array(value))
		return wd_error_set(err, WD_EINVAL, "\"%s\" must be a list of strings", field);
	json_array_foreach(value, i, item) {
		if (!json_is_string(item))
			return wd_error_set(err, WD_EINVAL, "\"%s\" must be a list of strings", field);
		if (json_array_append(paths, item) < 0)
			return WD_ENOMEM;
	}
	return 0;
}

static int requested_paths(const json_t *body, json_t *paths, struct wd_error *err)
{
	WD_TRY(read_paths_field(body, "paths", paths, err));
	if (json_array_size(paths) == 0)
		WD_TRY(read_paths_field(body, "path", paths, err));
	if (json_array_size(paths) == 0)
		return wd_error_set(err, WD_EINVAL, "missing paths");
	if (json_array_size(paths) > ACL_CAPABILITY_PATHS_MAX)
		return wd_error_set(err, WD_EINVAL, "more than %u paths requested",
			ACL_CAPABILITY_PATHS_MAX);
	return 0;
}

/* The token whose capabilities are asked: the caller's, or the one named by
 * "token" or "accessor". *ret_owned is set when the caller frees it. */
static int capability_token(struct secrets *secrets, struct vault_request *req, const char *which,
	const struct vault_token **ret_token, struct vault_token **ret_owned, struct wd_error *err)
{
	const char *id;
	int rc;

	*ret_token = req->token;
	*ret_owned = NULL;
	if (strcmp(which, "capabilities-self") == 0)
		return req->token ? 0 : wd_error_set(err, WD_EPERM, "permission denied");

	if (strcmp(which, "capabilities-accessor") == 0) {
		id = json_string_value(json_object_get(req->body, "accessor"));
		if (!id || !id[0])
			return wd_error_set(err, WD_EINVAL, "missing accessor");
		rc = token_lookup_accessor(secrets, id, ret_owned, err);
	} else {
		id = json_string_value(json_object_get(req->body, "token"));
		/* Without "token", use the caller's token, like capabilities-self. */
		if (!id || !id[0])
			return req->token ? 0 : wd_error_set(err, WD_EPERM, "permission denied");
		rc = token_lookup(secrets, id, ret_owned, err);
	}
	if (rc == WD_EPERM || rc == WD_ENOTFOUND)
		return wd_error_set(err, WD_EINVAL, "invalid %s",
			strcmp(which, "capabilities-accessor") == 0 ? "accessor" : "token");
	if (rc < 0)
		return rc;
	*ret_token = *ret_owned;
	return 0;
}

static int capabilities_of(struct secrets *secrets, const struct vault_token *token,
	const char *path, json_t **ret_list, struct wd_error *err)
{
	json_t *list = json_array();
	unsigned caps;
	bool root;
	int rc = 0;

	*ret_list = NULL;
	WD_ENSURE(list, WD_ENOMEM);
	/* Vault strips leading slashes from the paths it checks. */
	while (*path == '/')
		path++;
	WD_GUARD(acl_token_capabilities(secrets, token, path, &caps, &root, err));
	if (root)
		WD_ENSURE(json_array_append_new(list, json_string("root")) == 0, WD_ENOMEM);
	else
		WD_GUARD(acl_caps_to_json(caps, list));
	*ret_list = WD_TAKE_PTR(list);
out:
	json_decref(list);
	return rc;
}

static int handle_capabilities(struct secrets *secrets, struct vault_request *req,
	const char *rest, bool legacy, struct vault_response *resp, struct wd_error *err)
{
	const struct vault_token *token;
	struct vault_token *owned = NULL;
	json_t *paths = json_array(), *data = json_object(), *item, *list = NULL;
	size_t i;
	int rc = 0;

	/* The routes of these names match only the whole name, so rest is "". */
	(void)rest;
	(void)legacy;
	if (!is_write(req->op)) {
		rc = unsupported(req, err);
		goto out;
	}
	WD_ENSURE(paths && data, WD_ENOMEM);
	WD_GUARD(requested_paths(req->body, paths, err));
	WD_GUARD(capability_token(secrets, req, req->rel, &token, &owned, err));

	json_array_foreach(paths, i, item) {
		const char *path = json_string_value(item);

		WD_GUARD(capabilities_of(secrets, token, path, &list, err));
		WD_ENSURE(json_object_set_new(data, path, WD_TAKE_PTR(list)) == 0, WD_ENOMEM);
	}
	/* Kept by Vault for old clients: the only path's list under "capabilities". */
	if (json_array_size(paths) == 1)
		WD_ENSURE(json_object_set(data, "capabilities",
				  json_object_get(data, json_string_value(json_array_get(paths, 0)))) == 0,
			WD_ENOMEM);
	resp->data = WD_TAKE_PTR(data);
out:
	if (rc == WD_ENOMEM)
		wd_error_set(err, rc, "out of memory computing capabilities");
	token_free(owned);
	json_decref(paths);
	json_decref(data);
	return rc;
}

static const struct route routes[] = {
	{ "policies/acl/", false, handle_policy },
	{ "policies/acl", false, handle_policy },
	{ "policy/", true, handle_policy },
	{ "policy", true, handle_policy },
	{ "capabilities-self", false, handle_capabilities },
	{ "capabilities-accessor", false, handle_capabilities },
	{ "capabilities", false, handle_capabilities },
};

int acl_handle_sys(struct secrets *secrets, struct vault_request *req,
	struct vault_response *resp, struct wd_error *err)
{
	const char *rel = req->rel ? req->rel : "";

	for (size_t i = 0; i < WD_ARRAY_LEN(routes); i++) {
		size_t len = strlen(routes[i].prefix);
		const char *rest = rel + len;

		if (strncmp(rel, routes[i].prefix, len) != 0)
			continue;
		/* "policy" must not take "policyx"; "policy/" takes "policy/" itself. */
		if (routes[i].prefix[len - 1] != '/' && *rest != '\0')
			continue;
		return routes[i].handle(secrets, req, rest, routes[i].legacy, resp, err);
	}
	return wd_error_set(err, WD_ENOTFOUND, "no handler for route \"sys/%s\"", rel);
}
