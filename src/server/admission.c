/* Opening the admission state: the trusted keys read from their PEM files,
 * the trusted SPIFFE IDs and predicate types copied from the configuration,
 * and the migrations of the signature table. */
#include <string.h>

#include "common/alloc.h"
#include "common/file.h"
#include "server/admission_internal.h"
#include "supply/bundle.h"
#include "supply/intoto.h"

static int copy_strings(const struct config_strings *list, char ***ret_items,
	size_t *ret_count)
{
	char **items = NULL;

	*ret_items = NULL;
	*ret_count = 0;
	if (list->count == 0)
		return 0;
	items = wd_calloc(list->count, sizeof(*items));
	if (!items)
		return WD_ENOMEM;
	*ret_items = items;
	for (size_t i = 0; i < list->count; i++) {
		items[i] = wd_strdup(list->items[i]);
		if (!items[i])
			return WD_ENOMEM;
		(*ret_count)++;
	}
	return 0;
}

/* Reads the trusted key at index of admission.trusted_keys with its hint. */
static int load_key(const char *path, size_t index, EVP_PKEY **ret_key, char **ret_hint,
	struct wd_error *err)
{
	struct wd_error detail;
	uint8_t *pem = NULL;
	size_t len = 0;
	int rc;

	*ret_key = NULL;
	*ret_hint = NULL;
	wd_error_clear(&detail);
	rc = wd_file_read(path, SUPPLY_KEY_FILE_MAX, &pem, &len, &detail);
	if (rc == 0)
		rc = supply_public_key_from_pem((const char *)pem, len, ret_key, &detail);
	if (rc == 0)
		rc = supply_bundle_key_hint(*ret_key, ret_hint, &detail);
	free(pem);
	if (rc < 0) {
		EVP_PKEY_free(*ret_key);
		*ret_key = NULL;
		return wd_error_set(err, WD_ECONFIG, "invalid admission.trusted_keys[%zu] '%.300s': %s",
			index, path, wd_error_text(&detail));
	}
	return 0;
}

static int load_keys(struct admission *admission, const struct config_strings *paths,
	struct wd_error *err)
{
	if (paths->count == 0)
		return 0;
	admission->keys = wd_calloc(paths->count, sizeof(*admission->keys));
	admission->key_hints = wd_calloc(paths->count, sizeof(*admission->key_hints));
	if (!admission->keys || !admission->key_hints)
		return wd_error_set(err, WD_ENOMEM, "admission: out of memory");
	for (size_t i = 0; i < paths->count; i++) {
		WD_TRY(load_key(paths->items[i], i, &admission->keys[i], &admission->key_hints[i],
			err));
		admission->key_count++;
	}
	return 0;
}

/* Stores the predicate types as URIs, so "spdx" in the configuration
 * matches the https://spdx.dev/Document that attestations carry. */
static int resolve_predicate_types(struct admission *admission, struct wd_error *err)
{
	for (size_t i = 0; i < admission->predicate_type_count; i++) {
		const char *uri = NULL;
		char *copy;

		WD_TRY(supply_predicate_type_resolve(admission->predicate_types[i], &uri, err));
		if (uri == admission->predicate_types[i])
			continue;
		copy = wd_strdup(uri);
		if (!copy)
			return wd_error_set(err, WD_ENOMEM, "admission: out of memory");
		free(admission->predicate_types[i]);
		admission->predicate_types[i] = copy;
	}
	return 0;
}

int admission_open(const struct server_admission_config *config, struct store *store,
	struct admission **ret_admission, struct wd_error *err)
{
	struct admission *admission = NULL;
	int rc;

	*ret_admission = NULL;
	admission = wd_calloc(1, sizeof(*admission));
	if (!admission)
		return wd_error_set(err, WD_ENOMEM, "admission: out of memory");
	admission->store = store;

	WD_GUARD(load_keys(admission, &config->trusted_keys, err));
	/* server_config_validate has checked the IDs, which the SPIFFE ID
	 * grammar leaves in one spelling only, so they compare as strings. */
	if (copy_strings(&config->trusted_spiffe_ids, &admission->spiffe_ids,
		&admission->spiffe_id_count) < 0 ||
	    copy_strings(&config->predicate_types, &admission->predicate_types,
		&admission->predicate_type_count) < 0) {
		rc = wd_error_set(err, WD_ENOMEM, "admission: out of memory");
		goto out;
	}
	WD_GUARD(resolve_predicate_types(admission, err));
	WD_GUARD(store_migrate(store, ADMISSION_MIGRATION_COMPONENT, admission_migrations,
		admission_migration_count, err));

	*ret_admission = WD_TAKE_PTR(admission);
out:
	admission_close(admission);
	return rc;
}

static void free_strings(char **items, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(items[i]);
	free(items);
}

void admission_close(struct admission *admission)
{
	if (!admission)
		return;
	for (size_t i = 0; i < admission->key_count; i++)
		EVP_PKEY_free(admission->keys[i]);
	free(admission->keys);
	free_strings(admission->key_hints, admission->key_count);
	free_strings(admission->spiffe_ids, admission->spiffe_id_count);
	free_strings(admission->predicate_types, admission->predicate_type_count);
	free(admission);
}

bool admission_has_trust(const struct admission *admission)
{
	return admission->key_count > 0 || admission->spiffe_id_count > 0;
}
