/* Policy lists of tokens, normalized as Vault's policyutil does, and the
 * subset rule for child tokens. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "secrets/token_internal.h"

/* Maximum length of a policy name, in bytes, and maximum policies on one
 * token. */
#define POLICY_NAME_MAX 128
#define POLICY_COUNT_MAX 256

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Returns a trimmed, lowercased copy of name, or NULL when out of memory. */
static char *normalize_name(const char *name)
{
	size_t start = 0, end = strlen(name);
	char *copy;

	while (start < end && isspace((unsigned char)name[start]))
		start++;
	while (end > start && isspace((unsigned char)name[end - 1]))
		end--;
	copy = wd_strndup(name + start, end - start);
	if (!copy)
		return NULL;
	for (char *p = copy; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return copy;
}

static void free_names(char **names, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
}

/* Builds the sorted JSON array of names without duplicates. */
static json_t *sorted_unique(char **names, size_t count)
{
	json_t *out = json_array();

	if (!out)
		return NULL;
	qsort(names, count, sizeof(*names), compare_names);
	for (size_t i = 0; i < count; i++) {
		if (i > 0 && strcmp(names[i], names[i - 1]) == 0)
			continue;
		if (json_array_append_new(out, json_string(names[i])) != 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

int token_policies_sanitize(const json_t *policies, bool add_default, json_t **ret_policies,
	struct wd_error *err)
{
	size_t input_count = policies ? json_array_size(policies) : 0;
	char **names = NULL;
	size_t count = 0;
	bool root = false;
	const json_t *item;
	size_t index;
	json_t *out;

	*ret_policies = NULL;
	if (policies && !json_is_array(policies))
		return wd_error_set(err, WD_EINVAL, "policies must be a list of names");
	if (input_count > POLICY_COUNT_MAX)
		return wd_error_set(err, WD_EINVAL, "%zu policies given; at most %d are allowed",
			input_count, POLICY_COUNT_MAX);

	/* One more slot for "default". */
	names = wd_calloc(input_count + 1, sizeof(*names));
	if (!names)
		return wd_error_set(err, WD_ENOMEM, "out of memory sorting policies");

	json_array_foreach(policies, index, item) {
		char *name;

		if (!json_is_string(item)) {
			free_names(names, count);
			return wd_error_set(err, WD_EINVAL, "policies[%zu] is not a string", index);
		}
		if (json_string_length(item) > POLICY_NAME_MAX) {
			free_names(names, count);
			return wd_error_set(err, WD_EINVAL,
				"policies[%zu] is longer than %d bytes", index, POLICY_NAME_MAX);
		}
		name = normalize_name(json_string_value(item));
		if (!name) {
			free_names(names, count);
			return wd_error_set(err, WD_ENOMEM, "out of memory sorting policies");
		}
		if (name[0] == '\0') {
			free(name);
			continue;
		}
		if (strcmp(name, "root") == 0)
			root = true;
		names[count++] = name;
	}

	/* A root token carries "root" alone, and never "default". */
	if (root) {
		free_names(names, count);
		out = json_pack("[s]", "root");
		if (!out)
			return wd_error_set(err, WD_ENOMEM, "out of memory sorting policies");
		*ret_policies = out;
		return 0;
	}

	if (add_default) {
		names[count] = wd_strdup("default");
		if (!names[count]) {
			free_names(names, count);
			return wd_error_set(err, WD_ENOMEM, "out of memory sorting policies");
		}
		count++;
	}

	out = sorted_unique(names, count);
	free_names(names, count);
	if (!out)
		return wd_error_set(err, WD_ENOMEM, "out of memory sorting policies");
	*ret_policies = out;
	return 0;
}

static bool list_contains(const json_t *list, const char *name)
{
	const json_t *item;
	size_t index;

	json_array_foreach(list, index, item) {
		if (json_is_string(item) && strcmp(json_string_value(item), name) == 0)
			return true;
	}
	return false;
}

bool token_policies_subset(const json_t *set, const json_t *subset)
{
	const json_t *item;
	size_t index;

	json_array_foreach(subset, index, item) {
		if (!json_is_string(item) || !list_contains(set, json_string_value(item)))
			return false;
	}
	return true;
}
