/* Helpers shared by the auth backends: role names and storage paths,
 * globs, list fields, LIST replies and the unknown-field warning. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "secrets/auth_common.h"
#include "secrets/barrier.h"

/* Maximum length of the warning about ignored fields, in bytes. */
#define UNKNOWN_WARNING_MAX 1024

/* Most names one LIST reply carries. */
#define LIST_NAMES_MAX 10000

bool auth_glob_match(const char *pattern, const char *text)
{
	const char *star = NULL, *resume = NULL;

	/* Greedy matching with one backtrack point: on a mismatch after a '*',
	 * let that '*' swallow one more byte and try again. */
	while (*text) {
		if (*pattern == '*') {
			star = pattern++;
			resume = text;
		} else if (*pattern && *pattern == *text) {
			pattern++;
			text++;
		} else if (star) {
			pattern = star + 1;
			text = ++resume;
		} else {
			return false;
		}
	}
	while (*pattern == '*')
		pattern++;
	return *pattern == '\0';
}

static bool is_word(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

int auth_role_name_check(const char *name, struct wd_error *err)
{
	size_t len = strnlen(name, AUTH_ROLE_NAME_MAX + 1);

	if (len == 0)
		return wd_error_set(err, WD_EINVAL, "missing role name");
	if (len > AUTH_ROLE_NAME_MAX)
		return wd_error_set(err, WD_EINVAL, "role name is longer than %d bytes",
			AUTH_ROLE_NAME_MAX);
	for (size_t i = 0; i < len; i++) {
		bool edge = i == 0 || i == len - 1;

		if (is_word(name[i]) || (!edge && (name[i] == '-' || name[i] == '.')))
			continue;
		return wd_error_set(err, WD_EINVAL,
			"invalid role name \"%.*s\": use letters, digits and '_', with '-' or '.' "
			"inside", AUTH_ROLE_NAME_MAX, name);
	}
	return 0;
}

int auth_storage_path(const struct vault_mount *mount, const char *folder, const char *name,
	char *out, size_t len, struct wd_error *err)
{
	char prefix[64];
	int n;

	vault_mount_storage_prefix(mount, prefix, sizeof(prefix));
	n = snprintf(out, len, "%s%s%s", prefix, folder, name);
	if (n < 0 || (size_t)n >= len)
		return wd_error_set(err, WD_ETOOBIG, "storage path of \"%.64s\" is too long", name);
	return 0;
}

static int collect_name(void *context, const char *rest)
{
	json_t *keys = context;

	if (json_array_size(keys) >= LIST_NAMES_MAX)
		return WD_ETOOBIG;
	return json_array_append_new(keys, json_string(rest)) == 0 ? 0 : WD_ENOMEM;
}

int auth_list_names(struct secrets *secrets, const struct vault_mount *mount,
	const char *folder, struct vault_response *resp, struct wd_error *err)
{
	char prefix[VAULT_PATH_MAX];
	json_t *keys;
	int rc;

	WD_TRY(auth_storage_path(mount, folder, "", prefix, sizeof(prefix), err));
	keys = json_array();
	if (!keys)
		return wd_error_set(err, WD_ENOMEM, "out of memory listing %s", folder);

	rc = barrier_list(secrets->barrier, prefix, true, collect_name, keys, err);
	if (rc == WD_ETOOBIG)
		rc = wd_error_set(err, rc, "more than %d names under %s", LIST_NAMES_MAX, folder);
	else if (rc == WD_ENOMEM)
		rc = wd_error_set(err, rc, "out of memory listing %s", folder);
	if (rc == 0 && json_array_size(keys) == 0)
		rc = wd_error_set(err, WD_ENOTFOUND, "%s", "");
	if (rc == 0) {
		resp->data = json_pack("{s:o}", "keys", keys);
		keys = NULL;
		if (!resp->data)
			rc = wd_error_set(err, WD_ENOMEM, "out of memory listing %s", folder);
	}
	json_decref(keys);
	return rc;
}

int auth_warn_unknown_fields(struct vault_response *resp, const json_t *body,
	const char *const *allowed, size_t allowed_count, bool token_fields)
{
	struct wd_buf names;
	const char *key;
	const json_t *value;
	int rc = 0;

	wd_buf_init(&names, 64, UNKNOWN_WARNING_MAX);
	json_object_foreach((json_t *)body, key, value) {
		bool known = token_fields && auth_token_field(key);

		for (size_t i = 0; i < allowed_count && !known; i++)
			known = strcmp(key, allowed[i]) == 0;
		if (known)
			continue;
		/* A warning cut at the ceiling still names the first fields. */
		if (wd_buf_appendf(&names, "%s%.64s", wd_buf_len(&names) ? " " : "", key) < 0)
			break;
	}
	if (wd_buf_len(&names) > 0)
		rc = vault_response_warn(resp,
			"Endpoint ignored these unrecognized parameters: [%s]", wd_buf_str(&names));
	wd_buf_free(&names);
	return rc;
}

/* Appends the comma-separated items of text, trimmed, skipping empty ones. */
static int split_commas(const char *field, const char *text, json_t *list,
	struct wd_error *err)
{
	const char *start = text;

	while (*start) {
		const char *end = strchr(start, ',');
		size_t len = end ? (size_t)(end - start) : strlen(start);
		const char *item = start;

		while (len > 0 && isspace((unsigned char)item[0])) {
			item++;
			len--;
		}
		while (len > 0 && isspace((unsigned char)item[len - 1]))
			len--;
		if (len > AUTH_LIST_ITEM_MAX)
			return wd_error_set(err, WD_EINVAL, "an item of field \"%s\" is longer than "
				"%d bytes", field, AUTH_LIST_ITEM_MAX);
		if (len > 0) {
			if (json_array_size(list) >= AUTH_LIST_MAX)
				return wd_error_set(err, WD_EINVAL, "field \"%s\" has more than %d items",
					field, AUTH_LIST_MAX);
			if (json_array_append_new(list, json_stringn(item, len)) != 0)
				return wd_error_set(err, WD_ENOMEM, "out of memory reading \"%s\"", field);
		}
		if (!end)
			break;
		start = end + 1;
	}
	return 0;
}

static int copy_array(const char *field, const json_t *array, json_t *list,
	struct wd_error *err)
{
	const json_t *item;
	size_t index;

	if (json_array_size(array) > AUTH_LIST_MAX)
		return wd_error_set(err, WD_EINVAL, "field \"%s\" has more than %d items", field,
			AUTH_LIST_MAX);
	json_array_foreach(array, index, item) {
		if (!json_is_string(item))
			return wd_error_set(err, WD_EINVAL, "%s[%zu] must be a string", field, index);
		if (json_string_length(item) > AUTH_LIST_ITEM_MAX)
			return wd_error_set(err, WD_EINVAL, "%s[%zu] is longer than %d bytes", field,
				index, AUTH_LIST_ITEM_MAX);
		if (json_array_append(list, (json_t *)item) != 0)
			return wd_error_set(err, WD_ENOMEM, "out of memory reading \"%s\"", field);
	}
	return 0;
}

int auth_json_list(const json_t *body, const char *field, json_t **ret_list,
	struct wd_error *err)
{
	const json_t *value = json_object_get(body, field);
	json_t *list;
	int rc;

	*ret_list = NULL;
	if (!value || json_is_null(value))
		return 0;
	if (!json_is_array(value) && !json_is_string(value))
		return wd_error_set(err, WD_EINVAL,
			"field \"%s\" must be a list of strings or a comma-separated string", field);

	list = json_array();
	if (!list)
		return wd_error_set(err, WD_ENOMEM, "out of memory reading \"%s\"", field);
	if (json_is_string(value))
		rc = split_commas(field, json_string_value(value), list, err);
	else
		rc = copy_array(field, value, list, err);
	if (rc < 0) {
		json_decref(list);
		return rc;
	}
	*ret_list = list;
	return 1;
}

bool auth_login_unauthenticated(const char *rel, enum vault_op op)
{
	(void)op;
	return strcmp(rel, "login") == 0;
}
