/* Registration entries as JSON, the shape the identity API and the CLI use:
 * {"id","spiffe_id","parent_id","selectors":[...],"x509_svid_ttl",
 * "jwt_svid_ttl","dns_names":[...],"admin","require_signed","revision",
 * "created_at","updated_at"} with TTLs in seconds and times in Unix seconds. */
#include <string.h>

#include "common/alloc.h"
#include "identity/registry_internal.h"

/* An input that owns its strings; input must stay the first member so
 * registry_entry_input_free can find the rest. */
struct owned_input {
	struct registry_entry_input input;
	char *spiffe_id;
	char *parent_id;
	struct registry_strings selectors;
	struct registry_strings dns_names;
};

void registry_entry_input_free(struct registry_entry_input *input)
{
	struct owned_input *owned = (struct owned_input *)input;

	if (!owned)
		return;
	free(owned->spiffe_id);
	free(owned->parent_id);
	registry_strings_clear(&owned->selectors);
	registry_strings_clear(&owned->dns_names);
	free(owned);
}

static const char *json_type_name(const json_t *value)
{
	switch (json_typeof(value)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "integer";
	case JSON_REAL:
		return "number with a fraction";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	case JSON_NULL:
		return "null";
	}
	return "unknown";
}

/* Copies at most 64 bytes of a caller's key into out for an error detail,
 * replacing anything but printable ASCII (and the quote) with '?'. */
static const char *printable_key(const char *key, char out[static 68])
{
	size_t i = 0;

	for (; key[i] && i < 64; i++)
		out[i] = key[i] >= 0x20 && key[i] <= 0x7e && key[i] != '"' ? key[i] : '?';
	if (key[i]) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
	return out;
}

static int type_error(const char *field, const char *expected, const json_t *value,
	struct wd_error *err)
{
	return wd_error_set(err, WD_EINVAL, "invalid \"%s\": expected %s, got %s", field,
		expected, json_type_name(value));
}

/* Fails unless value is a JSON string without an embedded NUL. */
static int check_string(const char *field, const json_t *value, struct wd_error *err)
{
	if (!json_is_string(value))
		return type_error(field, "a string", value, err);
	if (strlen(json_string_value(value)) != json_string_length(value))
		return wd_error_set(err, WD_EINVAL, "invalid \"%s\": contains a NUL character",
			field);
	return 0;
}

static int read_string(const char *field, const json_t *value, char **ret_text,
	struct wd_error *err)
{
	WD_TRY(check_string(field, value, err));
	free(*ret_text);
	*ret_text = wd_strdup(json_string_value(value));
	if (!*ret_text)
		return wd_error_set(err, WD_ENOMEM, "registry: out of memory");
	return 0;
}

/* Reads an array of at most max strings. check_values validates the
 * strings afterwards by the rules of their field. */
static int read_string_array(const char *field, const json_t *value, size_t max,
	struct registry_strings *ret_strings, struct wd_error *err)
{
	size_t count;

	registry_strings_clear(ret_strings);
	if (!json_is_array(value))
		return type_error(field, "an array of strings", value, err);
	count = json_array_size(value);
	if (count > max)
		return wd_error_set(err, WD_EINVAL,
			"invalid \"%s\": %zu items, more than the maximum %zu", field, count, max);
	if (count == 0)
		return 0;

	ret_strings->items = wd_calloc(count, sizeof(char *));
	if (!ret_strings->items)
		return wd_error_set(err, WD_ENOMEM, "registry: out of memory");
	for (size_t i = 0; i < count; i++) {
		const json_t *item = json_array_get(value, i);

		if (!json_is_string(item))
			return wd_error_set(err, WD_EINVAL,
				"invalid \"%s\"[%zu]: expected a string, got %s", field, i,
				json_type_name(item));
		if (strlen(json_string_value(item)) != json_string_length(item))
			return wd_error_set(err, WD_EINVAL,
				"invalid \"%s\"[%zu]: contains a NUL character", field, i);
		ret_strings->items[i] = wd_strdup(json_string_value(item));
		if (!ret_strings->items[i])
			return wd_error_set(err, WD_ENOMEM, "registry: out of memory");
		ret_strings->count++;
	}
	return 0;
}

static int read_ttl(const char *field, const json_t *value, int64_t *ret_ttl,
	struct wd_error *err)
{
	if (!json_is_integer(value))
		return type_error(field, "an integer number of seconds", value, err);
	*ret_ttl = (int64_t)json_integer_value(value);
	if (*ret_ttl < 0)
		return wd_error_set(err, WD_EINVAL, "invalid \"%s\" %lld: must not be negative",
			field, (long long)*ret_ttl);
	return 0;
}

static int read_field(struct owned_input *owned, const char *key, const json_t *value,
	struct wd_error *err)
{
	struct registry_entry_input *input = &owned->input;

	if (strcmp(key, "spiffe_id") == 0) {
		input->fields |= REGISTRY_FIELD_SPIFFE_ID;
		return read_string(key, value, &owned->spiffe_id, err);
	}
	if (strcmp(key, "parent_id") == 0) {
		input->fields |= REGISTRY_FIELD_PARENT_ID;
		return read_string(key, value, &owned->parent_id, err);
	}
	if (strcmp(key, "selectors") == 0) {
		input->fields |= REGISTRY_FIELD_SELECTORS;
		return read_string_array(key, value, REGISTRY_MAX_SELECTORS, &owned->selectors,
			err);
	}
	if (strcmp(key, "dns_names") == 0) {
		input->fields |= REGISTRY_FIELD_DNS_NAMES;
		return read_string_array(key, value, REGISTRY_MAX_DNS_NAMES, &owned->dns_names,
			err);
	}
	if (strcmp(key, "x509_svid_ttl") == 0) {
		input->fields |= REGISTRY_FIELD_X509_SVID_TTL;
		return read_ttl(key, value, &input->x509_svid_ttl, err);
	}
	if (strcmp(key, "jwt_svid_ttl") == 0) {
		input->fields |= REGISTRY_FIELD_JWT_SVID_TTL;
		return read_ttl(key, value, &input->jwt_svid_ttl, err);
	}
	if (strcmp(key, "admin") == 0) {
		input->fields |= REGISTRY_FIELD_ADMIN;
		if (!json_is_boolean(value))
			return type_error(key, "a boolean", value, err);
		input->admin = json_is_true(value);
		return 0;
	}
	if (strcmp(key, "require_signed") == 0) {
		input->fields |= REGISTRY_FIELD_REQUIRE_SIGNED;
		if (!json_is_boolean(value))
			return type_error(key, "a boolean", value, err);
		input->require_signed = json_is_true(value);
		return 0;
	}
	if (strcmp(key, "id") == 0 || strcmp(key, "revision") == 0 ||
	    strcmp(key, "created_at") == 0 || strcmp(key, "updated_at") == 0)
		return wd_error_set(err, WD_EINVAL, "field \"%s\" is read-only", key);

	char printable[68];
	return wd_error_set(err, WD_EINVAL, "unknown field \"%s\"", printable_key(key, printable));
}

/* Checks a SPIFFE ID's syntax and path. Create and update check its trust
 * domain against the registry's. */
static int check_spiffe_id(const char *field, const char *text, struct wd_error *err)
{
	struct spiffe_id id;
	struct wd_error detail = { 0 };

	if (spiffe_id_parse(text, strlen(text), &id, &detail) < 0)
		return wd_error_set(err, WD_EINVAL, "invalid \"%s\": %s", field, detail.detail);
	if (id.path[0] == '\0')
		return wd_error_set(err, WD_EINVAL, "invalid \"%s\" \"%.300s\": a path is required",
			field, text);
	return 0;
}

/* Validates the values that need no registry settings, so a client learns
 * of a bad selector or DNS name before the request reaches the datastore.
 * Selectors come out sorted and DNS names in lowercase, as stored. */
static int check_values(struct owned_input *owned, struct wd_error *err)
{
	struct registry_strings normalized = { 0 };

	if (owned->spiffe_id)
		WD_TRY(check_spiffe_id("spiffe_id", owned->spiffe_id, err));
	if (owned->parent_id)
		WD_TRY(check_spiffe_id("parent_id", owned->parent_id, err));

	if (owned->input.fields & REGISTRY_FIELD_SELECTORS) {
		WD_TRY(registry_selectors_normalize(
			(const char *const *)owned->selectors.items, owned->selectors.count,
			&normalized, err));
		registry_strings_clear(&owned->selectors);
		owned->selectors = normalized;
	}
	if (owned->input.fields & REGISTRY_FIELD_DNS_NAMES) {
		WD_TRY(registry_dns_names_normalize(
			(const char *const *)owned->dns_names.items, owned->dns_names.count,
			&normalized, err));
		registry_strings_clear(&owned->dns_names);
		owned->dns_names = normalized;
	}
	return 0;
}

int registry_entry_from_json(const json_t *object, bool partial,
	struct registry_entry_input **ret_input, struct wd_error *err)
{
	struct owned_input *owned = NULL;
	const char *key;
	json_t *value;
	int rc = 0;

	*ret_input = NULL;
	if (!object)
		return wd_error_set(err, WD_EINVAL, "missing entry object");
	if (!json_is_object(object))
		return wd_error_set(err, WD_EINVAL, "invalid entry: expected a JSON object, got %s",
			json_type_name(object));

	owned = wd_calloc(1, sizeof(*owned));
	if (!owned)
		return wd_error_set(err, WD_ENOMEM, "registry: out of memory");

	json_object_foreach((json_t *)object, key, value)
		WD_GUARD(read_field(owned, key, value, err));

	WD_GUARD(check_values(owned, err));

	if (!partial) {
		const char *missing = NULL;

		if (!(owned->input.fields & REGISTRY_FIELD_SPIFFE_ID))
			missing = "spiffe_id";
		else if (!(owned->input.fields & REGISTRY_FIELD_PARENT_ID))
			missing = "parent_id";
		else if (!(owned->input.fields & REGISTRY_FIELD_SELECTORS))
			missing = "selectors";
		if (missing) {
			rc = wd_error_set(err, WD_EINVAL, "missing \"%s\"", missing);
			goto out;
		}
	}

	owned->input.spiffe_id = owned->spiffe_id;
	owned->input.parent_id = owned->parent_id;
	owned->input.selectors = (const char *const *)owned->selectors.items;
	owned->input.selector_count = owned->selectors.count;
	owned->input.dns_names = (const char *const *)owned->dns_names.items;
	owned->input.dns_name_count = owned->dns_names.count;

	*ret_input = &WD_TAKE_PTR(owned)->input;
out:
	registry_entry_input_free(owned ? &owned->input : NULL);
	return rc;
}

static json_t *string_array(char *const *items, size_t count)
{
	json_t *array = json_array();

	if (!array)
		return NULL;
	for (size_t i = 0; i < count; i++) {
		if (json_array_append_new(array, json_string(items[i])) < 0) {
			json_decref(array);
			return NULL;
		}
	}
	return array;
}

int registry_entry_to_json(const struct registry_entry *entry, json_t **ret_object,
	struct wd_error *err)
{
	json_t *object = json_object();
	int failed = 0;

	*ret_object = NULL;
	if (!object)
		return wd_error_set(err, WD_ENOMEM, "registry: out of memory");

	/* json_object_set_new takes the value's reference even when it fails,
	 * so a failure leaks nothing and is checked once at the end. */
	failed |= json_object_set_new(object, "id", json_string(entry->id));
	failed |= json_object_set_new(object, "spiffe_id", json_string(entry->spiffe_id));
	failed |= json_object_set_new(object, "parent_id", json_string(entry->parent_id));
	failed |= json_object_set_new(object, "selectors",
		string_array(entry->selectors, entry->selector_count));
	failed |= json_object_set_new(object, "x509_svid_ttl",
		json_integer(entry->x509_svid_ttl));
	failed |= json_object_set_new(object, "jwt_svid_ttl", json_integer(entry->jwt_svid_ttl));
	failed |= json_object_set_new(object, "dns_names",
		string_array(entry->dns_names, entry->dns_name_count));
	failed |= json_object_set_new(object, "admin", json_boolean(entry->admin));
	failed |= json_object_set_new(object, "require_signed",
		json_boolean(entry->require_signed));
	failed |= json_object_set_new(object, "revision", json_integer(entry->revision));
	failed |= json_object_set_new(object, "created_at", json_integer(entry->created_at));
	failed |= json_object_set_new(object, "updated_at", json_integer(entry->updated_at));
	if (failed) {
		json_decref(object);
		return wd_error_set(err, WD_ENOMEM, "registry: cannot encode entry \"%s\"",
			entry->id);
	}

	*ret_object = object;
	return 0;
}
