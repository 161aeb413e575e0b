/* The ignore file of `warden scan`: vulnerabilities a team has accepted,
 * each with a reason and a date after which it is reported again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/file.h"
#include "common/time.h"
#include "supply/scan.h"

#define RULE_TEXT_MAX 4096

void scan_ignore_free(struct scan_ignore *ignore)
{
	if (!ignore)
		return;
	for (size_t i = 0; i < ignore->count; i++) {
		free(ignore->rules[i].id);
		free(ignore->rules[i].package);
		free(ignore->rules[i].reason);
		free(ignore->rules[i].expires);
	}
	free(ignore->rules);
	*ignore = (struct scan_ignore){ 0 };
}

/* Copies the string member key of entry into *ret; NULL when absent and not
 * required. Empty strings are rejected. */
static int get_text(json_t *entry, size_t index, const char *key, bool required, char **ret,
	struct wd_error *err)
{
	json_t *value = json_object_get(entry, key);
	const char *text;

	*ret = NULL;
	if (!value) {
		if (required)
			return wd_error_set(err, WD_EINVAL, "ignore[%zu].%s: missing", index, key);
		return 0;
	}
	text = json_string_value(value);
	if (!text)
		return wd_error_set(err, WD_EINVAL, "ignore[%zu].%s: expected a string", index, key);
	if (!text[0])
		return wd_error_set(err, WD_EINVAL, "ignore[%zu].%s: empty", index, key);
	if (json_string_length(value) > RULE_TEXT_MAX || strlen(text) != json_string_length(value))
		return wd_error_set(err, WD_EINVAL, "ignore[%zu].%s: longer than %d bytes or "
						    "contains NUL", index, key, RULE_TEXT_MAX);
	*ret = strdup(text);
	if (!*ret)
		return wd_error_set(err, WD_ENOMEM, "out of memory for the ignore rules");
	return 0;
}

/* Parses "YYYY-MM-DD" into the Unix seconds of 00:00 UTC on that day. */
static int parse_date(const char *text, size_t index, int64_t *ret_seconds,
	struct wd_error *err)
{
	char stamp[32];

	if (strlen(text) != 10 || strspn(text, "0123456789-") != 10 || text[4] != '-' ||
	    text[7] != '-')
		goto invalid;
	snprintf(stamp, sizeof(stamp), "%sT00:00:00Z", text);
	if (wd_time_parse(stamp, ret_seconds, NULL) < 0)
		goto invalid;
	return 0;
invalid:
	return wd_error_set(err, WD_EINVAL, "ignore[%zu].expires: invalid date \"%.32s\"; expected "
					    "YYYY-MM-DD", index, text);
}

static int parse_rule(json_t *entry, size_t index, int64_t now, struct scan_ignore_rule *rule,
	struct wd_error *err)
{
	static const char *const keys[] = { "id", "package", "reason", "expires" };
	const char *key;
	json_t *value;

	if (!json_is_object(entry))
		return wd_error_set(err, WD_EINVAL, "ignore[%zu]: expected an object", index);
	json_object_foreach(entry, key, value) {
		bool known = false;

		for (size_t i = 0; i < WD_ARRAY_LEN(keys); i++)
			known |= !strcmp(key, keys[i]);
		if (!known)
			return wd_error_set(err, WD_EINVAL, "ignore[%zu]: unknown key \"%.64s\"; "
							    "expected id, package, reason or expires",
				index, key);
	}
	rule->index = index;
	WD_TRY(get_text(entry, index, "id", true, &rule->id, err));
	WD_TRY(get_text(entry, index, "package", false, &rule->package, err));
	WD_TRY(get_text(entry, index, "reason", true, &rule->reason, err));
	WD_TRY(get_text(entry, index, "expires", true, &rule->expires, err));
	WD_TRY(parse_date(rule->expires, index, &rule->expires_at, err));
	rule->expired = now >= rule->expires_at;
	return 0;
}

int scan_ignore_parse(const char *text, size_t len, int64_t now, struct scan_ignore *ret_ignore,
	struct wd_error *err)
{
	struct scan_ignore ignore = { 0 };
	json_error_t jerr;
	json_t *root, *list;
	const char *key;
	json_t *value;
	int rc = 0;

	*ret_ignore = ignore;
	if (len > SCAN_MAX_IGNORE_BYTES)
		return wd_error_set(err, WD_EINVAL, "larger than %u bytes", SCAN_MAX_IGNORE_BYTES);
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return wd_error_set(err, WD_EINVAL, "invalid JSON at line %d column %d: %s",
			jerr.line, jerr.column, jerr.text);

	WD_ENSURE(json_is_object(root), wd_error_set(err, WD_EINVAL,
		"expected a JSON object with an \"ignore\" array"));
	json_object_foreach(root, key, value) {
		WD_ENSURE(!strcmp(key, "ignore"), wd_error_set(err, WD_EINVAL,
			"unknown key \"%.64s\"; expected \"ignore\"", key));
	}
	list = json_object_get(root, "ignore");
	WD_ENSURE(json_is_array(list), wd_error_set(err, WD_EINVAL,
		"ignore: expected an array of rules"));
	WD_ENSURE(json_array_size(list) <= SCAN_MAX_IGNORE_RULES, wd_error_set(err, WD_EINVAL,
		"ignore: more than %u rules", SCAN_MAX_IGNORE_RULES));

	ignore.rules = calloc(json_array_size(list) ? json_array_size(list) : 1,
		sizeof(*ignore.rules));
	WD_ENSURE(ignore.rules, wd_error_set(err, WD_ENOMEM, "out of memory for the ignore rules"));
	for (size_t i = 0; i < json_array_size(list); i++) {
		ignore.count++;
		WD_GUARD(parse_rule(json_array_get(list, i), i, now, &ignore.rules[i], err));
	}
	*ret_ignore = ignore;
	ignore = (struct scan_ignore){ 0 };
out:
	scan_ignore_free(&ignore);
	json_decref(root);
	return rc;
}

int scan_ignore_load(const char *path, int64_t now, struct scan_ignore *ret_ignore,
	struct wd_error *err)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int rc;

	*ret_ignore = (struct scan_ignore){ 0 };
	rc = wd_file_read(path, SCAN_MAX_IGNORE_BYTES, &data, &len, err);
	if (rc < 0)
		return rc;
	rc = scan_ignore_parse((const char *)data, len, now, ret_ignore, err);
	free(data);
	if (rc < 0) {
		char reason[sizeof(err->detail)];

		snprintf(reason, sizeof(reason), "%s", err ? err->detail : "");
		return wd_error_set(err, rc, "ignore file %s: %s", path, reason);
	}
	return 0;
}

static bool rule_covers(const struct scan_ignore_rule *rule, const struct scan_match *match)
{
	bool id = !strcmp(rule->id, match->record->id);

	for (size_t i = 0; !id && i < match->record->alias_count; i++)
		id = !strcmp(rule->id, match->record->aliases[i]);
	if (!id)
		return false;
	return !rule->package || !strcmp(rule->package, match->package->name) ||
	       !strcmp(rule->package, match->matched_name);
}

void scan_ignore_apply(const struct scan_ignore *ignore, struct scan_result *result)
{
	for (size_t m = 0; m < result->count; m++) {
		struct scan_match *match = &result->matches[m];

		for (size_t r = 0; r < ignore->count && !match->ignored_by; r++) {
			const struct scan_ignore_rule *rule = &ignore->rules[r];

			if (!rule_covers(rule, match))
				continue;
			if (!rule->expired)
				match->ignored_by = rule;
			else if (!match->expired_rule)
				match->expired_rule = rule;
		}
	}
}
