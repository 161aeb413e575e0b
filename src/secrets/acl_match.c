/* Selection of the rule that applies to a path, following Vault's ACL
 * (vault/acl.go). An exact pattern wins outright. Otherwise every matching
 * prefix ("x*") and segment ("a/+/b") pattern competes, and only the
 * highest-priority one counts. Rules with the same pattern in several
 * policies are merged. */
#include <stdlib.h>
#include <string.h>

#include "secrets/acl_internal.h"

static bool is_exact(const struct acl_rule *rule)
{
	return !rule->is_prefix && !rule->has_plus;
}

/* Matches a pattern with "+" segments segment by segment. "+" matches any
 * one segment, the empty one included, as in Vault. A trailing '*' makes
 * the last pattern segment a prefix of the rest of the path. */
static bool segments_match(const struct acl_rule *rule, const char *path, size_t path_len)
{
	const char *pattern = rule->pattern, *pattern_end = rule->pattern + rule->stem_len;
	const char *segment = path, *path_end = path + path_len;

	for (;;) {
		const char *pattern_slash = memchr(pattern, '/', (size_t)(pattern_end - pattern));
		const char *pattern_stop = pattern_slash ? pattern_slash : pattern_end;
		size_t pattern_len = (size_t)(pattern_stop - pattern);
		bool last = !pattern_slash;
		const char *segment_slash, *segment_stop;
		size_t segment_len;

		/* The path has fewer segments than the pattern. */
		if (segment > path_end)
			return false;
		segment_slash = memchr(segment, '/', (size_t)(path_end - segment));
		segment_stop = segment_slash ? segment_slash : path_end;
		segment_len = (size_t)(segment_stop - segment);

		if (pattern_len == 1 && pattern[0] == '+') {
			/* any segment */
		} else if (last && rule->is_prefix) {
			return segment_len >= pattern_len && memcmp(segment, pattern, pattern_len) == 0;
		} else if (pattern_len != segment_len || memcmp(segment, pattern, pattern_len) != 0) {
			return false;
		}
		if (last)
			return rule->is_prefix || !segment_slash;
		pattern = pattern_stop + 1;
		segment = segment_stop + 1;
	}
}

static bool rule_matches(const struct acl_rule *rule, const char *path, size_t path_len)
{
	if (rule->has_plus)
		return segments_match(rule, path, path_len);
	return rule->is_prefix && path_len >= rule->stem_len &&
		memcmp(path, rule->pattern, rule->stem_len) == 0;
}

/* Positive when a has priority over b. Vault's order, lowest first, by the
 * first rule that differs:
 * 1. the first wildcard comes earlier,
 * 2. the pattern ends in '*',
 * 3. it has more "+" segments,
 * 4. it is shorter,
 * 5. it is lexically smaller. */
static int compare_priority(const struct acl_rule *a, const struct acl_rule *b)
{
	if (a->first_wildcard != b->first_wildcard)
		return a->first_wildcard > b->first_wildcard ? 1 : -1;
	if (a->is_prefix != b->is_prefix)
		return a->is_prefix ? -1 : 1;
	if (a->plus_count != b->plus_count)
		return a->plus_count < b->plus_count ? 1 : -1;
	if (a->stem_len != b->stem_len)
		return a->stem_len > b->stem_len ? 1 : -1;
	return strcmp(a->pattern, b->pattern);
}

static unsigned normalize_deny(unsigned caps)
{
	return caps & ACL_CAP_DENY ? ACL_CAP_DENY : caps;
}

static bool select_exact(struct acl_policy *const *policies, size_t count, const char *path,
	size_t len, struct acl_selection *ret_selection)
{
	for (size_t i = 0; i < count; i++) {
		for (size_t j = 0; policies[i] && j < policies[i]->count; j++) {
			const struct acl_rule *rule = &policies[i]->rules[j];

			if (!is_exact(rule) || rule->stem_len != len || memcmp(rule->pattern, path, len) != 0)
				continue;
			ret_selection->pattern = rule->pattern;
			ret_selection->caps |= rule->caps;
		}
	}
	ret_selection->caps = normalize_deny(ret_selection->caps);
	return ret_selection->pattern != NULL;
}

void acl_select(struct acl_policy *const *policies, size_t count, const char *path, bool list,
	struct acl_selection *ret_selection)
{
	size_t len = strlen(path);
	const struct acl_rule *best = NULL;

	memset(ret_selection, 0, sizeof(*ret_selection));
	if (select_exact(policies, count, path, len, ret_selection))
		return;
	/* Listing "foo/" may use an exact rule for "foo", as Vault allows. */
	if (list && len > 0 && path[len - 1] == '/' &&
	    select_exact(policies, count, path, len - 1, ret_selection))
		return;

	for (size_t i = 0; i < count; i++) {
		for (size_t j = 0; policies[i] && j < policies[i]->count; j++) {
			const struct acl_rule *rule = &policies[i]->rules[j];

			if (is_exact(rule) || !rule_matches(rule, path, len))
				continue;
			if (!best || compare_priority(rule, best) > 0)
				best = rule;
		}
	}
	if (!best)
		return;

	ret_selection->pattern = best->pattern;
	for (size_t i = 0; i < count; i++) {
		for (size_t j = 0; policies[i] && j < policies[i]->count; j++) {
			const struct acl_rule *rule = &policies[i]->rules[j];

			if (strcmp(rule->pattern, best->pattern) == 0)
				ret_selection->caps |= rule->caps;
		}
	}
	ret_selection->caps = normalize_deny(ret_selection->caps);
}

/* The capabilities of a path as Vault's Capabilities() computes them: with
 * the exact-rule fallback of a list, so "foo/" may report the rule "foo". */
unsigned acl_capabilities(struct acl_policy *const *policies, size_t count, const char *path)
{
	struct acl_selection selection;

	if (!path)
		return 0;
	acl_select(policies, count, path, true, &selection);
	return selection.caps;
}

void acl_params_clear(struct acl_params *params)
{
	json_decref(params->allowed);
	json_decref(params->denied);
	json_decref(params->required);
	memset(params, 0, sizeof(*params));
}

/* Merges one rule's map into the merged map: an empty list (any value) on
 * either side wins, otherwise the value lists are concatenated. */
static int merge_parameter_map(json_t **merged, const json_t *add)
{
	const char *key;
	json_t *values;

	if (!add || json_object_size(add) == 0)
		return 0;
	if (!*merged) {
		*merged = json_deep_copy(add);
		return *merged ? 0 : WD_ENOMEM;
	}
	json_object_foreach((json_t *)add, key, values) {
		json_t *existing = json_object_get(*merged, key);
		json_t *combined;

		if (json_array_size(values) == 0 || (existing && json_array_size(existing) == 0))
			combined = json_array();
		else
			combined = json_deep_copy(values);
		if (!combined)
			return WD_ENOMEM;
		if (existing && json_array_size(existing) > 0 && json_array_size(values) > 0 &&
		    json_array_extend(combined, existing) < 0) {
			json_decref(combined);
			return WD_ENOMEM;
		}
		if (json_object_set_new(*merged, key, combined) < 0)
			return WD_ENOMEM;
	}
	return 0;
}

/* Appends the keys of add that merged lacks; seen is the set of merged's
 * keys, so long lists merge in linear time. */
static int merge_required(json_t **merged, json_t *seen, const json_t *add)
{
	size_t i;
	json_t *key;

	if (!add || json_array_size(add) == 0)
		return 0;
	if (!*merged && !(*merged = json_array()))
		return WD_ENOMEM;
	json_array_foreach((json_t *)add, i, key) {
		const char *name = json_string_value(key);

		if (!name || json_object_get(seen, name))
			continue;
		if (json_object_set(seen, name, json_true()) < 0 ||
		    json_array_append(*merged, key) < 0)
			return WD_ENOMEM;
	}
	return 0;
}

int acl_params_merge(struct acl_policy *const *policies, size_t count,
	const struct acl_selection *selection, struct acl_params *ret_params)
{
	struct acl_params merged = { 0 };
	json_t *seen = NULL;
	int rc = 0;

	memset(ret_params, 0, sizeof(*ret_params));
	if (!selection->pattern || selection->caps & ACL_CAP_DENY)
		return 0;
	seen = json_object();
	if (!seen)
		return WD_ENOMEM;

	for (size_t i = 0; i < count; i++) {
		for (size_t j = 0; policies[i] && j < policies[i]->count; j++) {
			const struct acl_rule *rule = &policies[i]->rules[j];

			if (strcmp(rule->pattern, selection->pattern) != 0)
				continue;
			WD_GUARD(merge_parameter_map(&merged.allowed, rule->params.allowed));
			WD_GUARD(merge_parameter_map(&merged.denied, rule->params.denied));
			WD_GUARD(merge_required(&merged.required, seen, rule->params.required));
		}
	}
	json_decref(seen);
	*ret_params = merged;
	return 0;
out:
	json_decref(seen);
	acl_params_clear(&merged);
	return rc;
}

/* Vault's strutil.GlobbedStringsMatch: a '*' at the start or the end of
 * item (or both) matches any text there. */
static bool glob_match(const char *item, const char *value)
{
	size_t item_len = strlen(item), value_len = strlen(value);
	bool star_start, star_end;

	if (item_len < 2)
		return strcmp(item, value) == 0;
	star_start = item[0] == '*';
	star_end = item[item_len - 1] == '*';
	if (star_start && star_end)
		return memmem(value, value_len, item + 1, item_len - 2) != NULL;
	if (star_start)
		return value_len >= item_len - 1 &&
			memcmp(value + value_len - (item_len - 1), item + 1, item_len - 1) == 0;
	if (star_end)
		return strncmp(value, item, item_len - 1) == 0;
	return strcmp(item, value) == 0;
}

static bool value_in_list(const json_t *value, const json_t *list)
{
	size_t i;
	json_t *item;

	if (json_array_size(list) == 0)
		return true;
	json_array_foreach((json_t *)list, i, item) {
		if (json_is_string(item) && json_is_string(value)) {
			if (glob_match(json_string_value(item), json_string_value(value)))
				return true;
		} else if (json_is_number(item) && json_is_number(value)) {
			if (json_number_value(item) == json_number_value(value))
				return true;
		} else if (json_equal(item, value)) {
			return true;
		}
	}
	return false;
}

/* Looks key up in params by its lowercased form, as Vault does; the keys
 * of params are lowercase already. WD_ENOMEM when the copy fails. */
static int get_lowercase(const json_t *params, const char *key, json_t **ret_values)
{
	char *lower;

	*ret_values = NULL;
	if (!strpbrk(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")) {
		*ret_values = json_object_get(params, key);
		return 0;
	}
	lower = strdup(key);
	if (!lower)
		return WD_ENOMEM;
	for (size_t i = 0; lower[i]; i++) {
		if (lower[i] >= 'A' && lower[i] <= 'Z')
			lower[i] = (char)(lower[i] - 'A' + 'a');
	}
	*ret_values = json_object_get(params, lower);
	free(lower);
	return 0;
}

/* Denies on a body key with a denied value, and when memory runs out. */
static bool denied_parameters_pass(const json_t *denied, const json_t *body)
{
	const char *key;
	json_t *value;

	if (json_object_size(denied) == 0)
		return true;
	if (json_object_get(denied, "*"))
		return false;
	json_object_foreach((json_t *)body, key, value) {
		json_t *list;

		if (get_lowercase(denied, key, &list) < 0)
			return false;
		if (list && value_in_list(value, list))
			return false;
	}
	return true;
}

static bool allowed_parameters_pass(const json_t *allowed, const json_t *body)
{
	const char *key;
	json_t *value;
	bool allowed_all = json_object_get(allowed, "*") != NULL;

	if (json_object_size(allowed) == 0 || (allowed_all && json_object_size(allowed) == 1))
		return true;
	json_object_foreach((json_t *)body, key, value) {
		json_t *list;

		if (get_lowercase(allowed, key, &list) < 0)
			return false;
		if (!list && !allowed_all)
			return false;
		if (list && !value_in_list(value, list))
			return false;
	}
	return true;
}

bool acl_params_allow(const struct acl_params *params, enum vault_op op, const json_t *body)
{
	size_t i;
	json_t *key;

	/* Vault checks parameters only for operations that carry data. */
	if (op != VAULT_OP_READ && op != VAULT_OP_HEAD && op != VAULT_OP_CREATE &&
	    op != VAULT_OP_UPDATE && op != VAULT_OP_PATCH)
		return true;

	json_array_foreach(params->required, i, key) {
		if (!body || !json_object_get(body, json_string_value(key)))
			return false;
	}
	if (!body || json_object_size(body) == 0)
		return true;
	return denied_parameters_pass(params->denied, body) &&
		allowed_parameters_pass(params->allowed, body);
}

unsigned acl_op_capability(enum vault_op op)
{
	switch (op) {
	case VAULT_OP_READ:
	case VAULT_OP_HEAD:
		return ACL_CAP_READ;
	case VAULT_OP_LIST:
		return ACL_CAP_LIST;
	case VAULT_OP_CREATE:
		return ACL_CAP_CREATE;
	case VAULT_OP_UPDATE:
		return ACL_CAP_UPDATE;
	case VAULT_OP_DELETE:
		return ACL_CAP_DELETE;
	case VAULT_OP_PATCH:
		return ACL_CAP_PATCH;
	}
	return 0;
}

int acl_caps_to_json(unsigned caps, json_t *array)
{
	/* Vault sorts the names (Core.Capabilities). */
	static const struct {
		const char *name;
		unsigned bit;
	} sorted[] = {
		{ "create", ACL_CAP_CREATE }, { "delete", ACL_CAP_DELETE }, { "list", ACL_CAP_LIST },
		{ "patch", ACL_CAP_PATCH }, { "read", ACL_CAP_READ }, { "sudo", ACL_CAP_SUDO },
		{ "update", ACL_CAP_UPDATE },
	};

	if (caps & ACL_CAP_DENY || (caps & ACL_CAP_ALL) == 0)
		return json_array_append_new(array, json_string("deny")) < 0 ? WD_ENOMEM : 0;
	for (size_t i = 0; i < WD_ARRAY_LEN(sorted); i++) {
		if ((caps & sorted[i].bit) && json_array_append_new(array, json_string(sorted[i].name)) < 0)
			return WD_ENOMEM;
	}
	return 0;
}
