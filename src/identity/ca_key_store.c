/* CA keys in the datastore: with PostgreSQL, several servers share one
 * trust domain, so the encrypted key of each slot lives in the
 * authority_keys table, where every server finds it. The bytes are those of
 * an encrypted key file (ca_key_file.c), sealed under the key-encryption
 * key that the secrets barrier keeps, with the key's file name as the
 * additional authenticated data: a row moved to another slot or role fails
 * authentication. Plaintext keys never enter the datastore. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "identity/authority_internal.h"

static const char *role_name(enum ca_key_role role)
{
	return role == CA_KEY_ROLE_X509 ? "x509-ca" : "jwt";
}

void ca_key_name(int64_t id, enum ca_key_role role, char out[static CA_KEY_NAME_SIZE])
{
	snprintf(out, CA_KEY_NAME_SIZE, "slot-%" PRId64 "-%s.key.enc", id, role_name(role));
}

int ca_key_store_put(struct store *store, int64_t id, enum ca_key_role role,
	const uint8_t *sealed, size_t len, struct wd_error *err)
{
	struct store_value params[] = {
		STORE_INT_VALUE(id),
		STORE_TEXT_VALUE(role_name(role)),
		STORE_BLOB_VALUE(sealed, len),
	};

	return store_exec(store,
		"INSERT INTO authority_keys (slot_id, role, sealed_key) VALUES ($1, $2, $3)"
		" ON CONFLICT (slot_id, role) DO UPDATE SET sealed_key = excluded.sealed_key",
		params, WD_ARRAY_LEN(params), NULL, err);
}

struct blob_row {
	uint8_t *data;
	size_t len;
	bool found;
};

static int read_blob_row(void *context, const struct store_row *row)
{
	struct blob_row *blob = context;
	size_t len = 0;
	const void *data = store_row_blob(row, 0, &len);

	if (!data)
		return 0;
	blob->data = malloc(len ? len : 1);
	if (!blob->data)
		return WD_ENOMEM;
	memcpy(blob->data, data, len);
	blob->len = len;
	blob->found = true;
	return 0;
}

int ca_key_store_get(struct store *store, int64_t id, enum ca_key_role role,
	uint8_t **ret_sealed, size_t *ret_len, struct wd_error *err)
{
	struct store_value params[] = { STORE_INT_VALUE(id), STORE_TEXT_VALUE(role_name(role)) };
	struct blob_row blob = { 0 };
	int rc;

	*ret_sealed = NULL;
	*ret_len = 0;
	rc = store_query(store,
		"SELECT sealed_key FROM authority_keys WHERE slot_id = $1 AND role = $2", params,
		WD_ARRAY_LEN(params), read_blob_row, &blob, err);
	if (rc == WD_ENOMEM)
		return wd_error_set(err, rc, "reading the stored key of CA slot %" PRId64
			": out of memory", id);
	if (rc < 0)
		return rc;
	if (!blob.found)
		return WD_ENOTFOUND;
	*ret_sealed = blob.data;
	*ret_len = blob.len;
	return 0;
}

int ca_key_store_delete(struct store *store, int64_t id, struct wd_error *err)
{
	struct store_value params[] = { STORE_INT_VALUE(id) };

	return store_exec(store, "DELETE FROM authority_keys WHERE slot_id = $1", params,
		WD_ARRAY_LEN(params), NULL, err);
}

int ca_key_store_save(const struct authority *authority, int64_t id, enum ca_key_role role,
	EVP_PKEY *key, struct wd_error *err)
{
	char name[CA_KEY_NAME_SIZE];
	uint8_t *sealed = NULL;
	size_t len = 0;
	int rc;

	ca_key_name(id, role, name);
	WD_TRY(ca_key_seal(authority->kek, key, name, &sealed, &len, err));
	rc = ca_key_store_put(authority->store, id, role, sealed, len, err);
	free(sealed);
	return rc;
}

int ca_key_store_load(const struct authority *authority, const uint8_t *kek, int64_t id,
	enum ca_key_role role, EVP_PKEY **ret_key, struct wd_error *err)
{
	char name[CA_KEY_NAME_SIZE];
	uint8_t *sealed = NULL;
	size_t len = 0;
	int rc;

	*ret_key = NULL;
	ca_key_name(id, role, name);
	WD_TRY(ca_key_store_get(authority->store, id, role, &sealed, &len, err));
	rc = kek ? ca_key_open_private(kek, name, sealed, len, ret_key, err)
		 : ca_key_open_public(name, sealed, len, ret_key, err);
	free(sealed);
	return rc;
}
