/* Registration entries in memory: freeing, reading from a datastore row and
 * collecting query results into a list. */
#include <string.h>

#include "common/alloc.h"
#include "identity/registry_internal.h"

void registry_entry_free(struct registry_entry *entry)
{
	if (!entry)
		return;
	free(entry->spiffe_id);
	free(entry->parent_id);
	for (size_t i = 0; i < entry->selector_count; i++)
		free(entry->selectors[i]);
	free(entry->selectors);
	for (size_t i = 0; i < entry->dns_name_count; i++)
		free(entry->dns_names[i]);
	free(entry->dns_names);
	free(entry);
}

void registry_entry_list_free(struct registry_entry_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->count; i++)
		registry_entry_free(list->entries[i]);
	free(list->entries);
	free(list);
}

int registry_entry_id_validate(const char *field, const char *id, struct wd_error *err)
{
	size_t len;

	if (!id)
		return wd_error_set(err, WD_EINVAL, "missing %s", field);
	len = strnlen(id, REGISTRY_ENTRY_ID_LEN + 1);
	if (len != REGISTRY_ENTRY_ID_LEN)
		goto bad;
	for (size_t i = 0; i < len; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		char c = id[i];

		if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			goto bad;
	}
	return 0;
bad:
	return wd_error_set(err, WD_EINVAL, "invalid %s \"%.64s\": expected a lowercase UUID",
		field, id);
}

int registry_entry_from_row(const struct store_row *row, struct registry_entry **ret_entry,
	struct wd_error *err)
{
	struct registry_entry *entry = NULL;
	struct registry_strings selectors = { 0 };
	struct registry_strings dns_names = { 0 };
	const char *id = store_row_text(row, 0);
	int rc = 0;

	*ret_entry = NULL;
	if (!id || strlen(id) != REGISTRY_ENTRY_ID_LEN || !store_row_text(row, 1) ||
	    !store_row_text(row, 2))
		return wd_error_set(err, WD_ECORRUPT, "registry: malformed entry row");

	entry = wd_calloc(1, sizeof(*entry));
	WD_ENSURE(entry, WD_ENOMEM);
	memcpy(entry->id, id, REGISTRY_ENTRY_ID_LEN + 1);
	entry->spiffe_id = wd_strdup(store_row_text(row, 1));
	entry->parent_id = wd_strdup(store_row_text(row, 2));
	WD_ENSURE(entry->spiffe_id && entry->parent_id, WD_ENOMEM);

	WD_GUARD(registry_strings_split(store_row_text(row, 3), REGISTRY_MAX_SELECTORS,
		&selectors, err));
	entry->selectors = selectors.items;
	entry->selector_count = selectors.count;
	WD_GUARD(registry_strings_split(store_row_text(row, 6), REGISTRY_MAX_DNS_NAMES,
		&dns_names, err));
	entry->dns_names = dns_names.items;
	entry->dns_name_count = dns_names.count;

	entry->x509_svid_ttl = store_row_int(row, 4);
	entry->jwt_svid_ttl = store_row_int(row, 5);
	entry->admin = store_row_int(row, 7) != 0;
	entry->revision = store_row_int(row, 8);
	entry->created_at = store_row_int(row, 9);
	entry->updated_at = store_row_int(row, 10);
	entry->require_signed = store_row_int(row, 11) != 0;

	*ret_entry = WD_TAKE_PTR(entry);
out:
	if (rc == WD_ENOMEM)
		wd_error_set(err, rc, "registry: out of memory");
	registry_entry_free(entry);
	return rc;
}

int registry_entry_collect_row(void *context, const struct store_row *row)
{
	struct registry_entry_collector *collector = context;
	struct registry_entry *entry = NULL;

	if (collector->count >= collector->max)
		return wd_error_set(collector->err, WD_ETOOBIG,
			"more than %zu entries match", collector->max);
	if (collector->count == collector->capacity) {
		size_t capacity = collector->capacity ? collector->capacity * 2 : 16;
		struct registry_entry **entries = wd_reallocarray(collector->entries, capacity,
			sizeof(*entries));

		if (!entries)
			return wd_error_set(collector->err, WD_ENOMEM, "registry: out of memory");
		collector->entries = entries;
		collector->capacity = capacity;
	}

	WD_TRY(registry_entry_from_row(row, &entry, collector->err));
	collector->entries[collector->count++] = entry;
	return 0;
}

void registry_entry_collector_clear(struct registry_entry_collector *collector)
{
	for (size_t i = 0; i < collector->count; i++)
		registry_entry_free(collector->entries[i]);
	free(collector->entries);
	collector->entries = NULL;
	collector->count = 0;
	collector->capacity = 0;
}

int registry_entry_load(struct registry *registry, const char *id,
	struct registry_entry **ret_entry, struct wd_error *err)
{
	struct registry_entry_collector collector = { .max = 1, .err = err };
	struct store_value params[] = { STORE_TEXT_VALUE(id) };
	int rc;

	*ret_entry = NULL;
	rc = store_query(registry->store,
		"SELECT " REGISTRY_ENTRY_COLUMNS " FROM registry_entries WHERE id = $1", params,
		WD_ARRAY_LEN(params), registry_entry_collect_row, &collector, err);
	if (rc < 0) {
		registry_entry_collector_clear(&collector);
		return rc;
	}
	if (collector.count == 0) {
		registry_entry_collector_clear(&collector);
		return wd_error_set(err, WD_ENOTFOUND, "entry \"%.64s\" not found", id);
	}

	*ret_entry = collector.entries[0];
	free(collector.entries);
	return 0;
}
