/* Revocation of X.509-SVIDs before their expiry, beyond what SPIRE offers:
 * by serial, by SPIFFE ID and by registration entry. Each revocation reissues
 * the CRL of every slot that signed a revoked serial and bumps the bundle
 * sequence, in one store transaction, so clients that poll the bundle learn
 * that a new CRL exists. */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "identity/authority_internal.h"

/* Input serials may carry leading zeros: up to this many hex digits. */
#define SERIAL_INPUT_MAX_LEN 64

int authority_serial_normalize(const char *serial_hex,
	char ret_serial[static AUTHORITY_SERIAL_HEX_SIZE], struct wd_error *err)
{
	size_t len;
	size_t start = 0;
	size_t digits;

	ret_serial[0] = '\0';
	if (!serial_hex || serial_hex[0] == '\0')
		return wd_error_set(err, WD_EINVAL, "missing serial number");
	len = strnlen(serial_hex, SERIAL_INPUT_MAX_LEN + 1);
	if (len > SERIAL_INPUT_MAX_LEN)
		return wd_error_set(err, WD_EINVAL, "serial number \"%.64s...\" is longer than %d "
			"hex digits", serial_hex, SERIAL_INPUT_MAX_LEN);
	for (size_t i = 0; i < len; i++) {
		if (!isxdigit((unsigned char)serial_hex[i]))
			return wd_error_set(err, WD_EINVAL,
				"serial number \"%.64s\" is not hexadecimal", serial_hex);
	}

	while (start + 1 < len && serial_hex[start] == '0')
		start++;
	digits = len - start;
	/* RFC 5280 section 4.1.2.2: at most 20 octets. */
	if (digits > AUTHORITY_SERIAL_HEX_SIZE - 1)
		return wd_error_set(err, WD_EINVAL, "serial number \"%.64s\" is longer than 20 "
			"octets", serial_hex);
	for (size_t i = 0; i < digits; i++)
		ret_serial[i] = (char)tolower((unsigned char)serial_hex[start + i]);
	ret_serial[digits] = '\0';
	return 0;
}

void authority_serial_list_clear(struct authority_serial_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->count; i++)
		free(list->serials[i]);
	free(list->serials);
	*list = (struct authority_serial_list){ 0 };
}

static int check_reason(const char *reason, struct wd_error *err)
{
	if (reason && strnlen(reason, AUTHORITY_REASON_MAX_LEN + 1) > AUTHORITY_REASON_MAX_LEN)
		return wd_error_set(err, WD_ETOOBIG, "revocation reason is longer than %d bytes",
			AUTHORITY_REASON_MAX_LEN);
	return 0;
}

/* Marks the loaded slots among slot_ids for a new CRL. */
static void mark_slots(const struct authority *authority, const int64_t *slot_ids,
	size_t count, bool which[static AUTHORITY_MAX_SLOTS])
{
	for (size_t i = 0; i < AUTHORITY_MAX_SLOTS; i++)
		which[i] = false;
	for (size_t i = 0; i < authority->slot_count; i++) {
		for (size_t j = 0; j < count; j++) {
			if (authority->slots[i]->id == slot_ids[j])
				which[i] = true;
		}
	}
}

/* Ends a revocation transaction that the caller began: reissues the marked
 * CRLs, bumps the sequence and commits, then installs the CRLs. The caller
 * rolls back when this fails. */
static int finish_revocation(struct authority *authority, const bool *which, int64_t now,
	struct wd_error *err)
{
	struct authority_crl_stage stage = { 0 };
	uint64_t sequence = 0;
	int rc;

	/* Sealed keys cannot sign a CRL. The revocation is recorded all the
	 * same, so authority_is_revoked reports it at once, and
	 * authority_keys_unlock reissues every CRL. */
	if (authority_sealed_locked(authority))
		return store_commit(authority->store, err);

	WD_GUARD(authority_crl_stage_build(authority, authority->slots, authority->slot_count,
		which, now, &stage, err));
	WD_GUARD(authority_sequence_bump(authority, &sequence, err));
	WD_GUARD(store_commit(authority->store, err));

	authority_crl_stage_install(authority, authority->slots, authority->slot_count, &stage);
	authority->sequence = sequence;
	rc = 0;
out:
	authority_crl_stage_release(&stage);
	return rc;
}

struct serial_row {
	bool found;
	int64_t slot_id;
	int64_t not_after;
	bool revoked;
	int64_t revoked_at;
};

/* Columns: slot_id, not_after, revoked_at. */
static int read_serial_row(void *context, const struct store_row *row)
{
	struct serial_row *serial = context;

	serial->found = true;
	serial->slot_id = store_row_int(row, 0);
	serial->not_after = store_row_int(row, 1);
	serial->revoked = !store_row_is_null(row, 2);
	serial->revoked_at = serial->revoked ? store_row_int(row, 2) : 0;
	return 0;
}

static int find_serial(struct authority *authority, const char *serial,
	struct serial_row *ret_row, struct wd_error *err)
{
	struct store_value params[] = { STORE_TEXT_VALUE(serial) };

	*ret_row = (struct serial_row){ 0 };
	return store_query(authority->store,
		"SELECT slot_id, not_after, revoked_at FROM authority_serials WHERE serial = $1",
		params, WD_ARRAY_LEN(params), read_serial_row, ret_row, err);
}

/* A serial that has already expired is recorded as revoked, but no CRL
 * lists it, so neither the CRLs nor the sequence change. */
static int revoke_serial_locked(struct authority *authority, const char *serial,
	const char *reason, int64_t now, struct authority_revocation *ret_revocation,
	struct wd_error *err)
{
	struct store_value params[] = {
		STORE_TEXT_VALUE(serial), STORE_INT_VALUE(now), STORE_TEXT_VALUE(reason),
	};
	bool which[AUTHORITY_MAX_SLOTS];
	bool in_transaction = false;
	struct serial_row row;
	int rc;

	WD_GUARD(store_begin(authority->store, err));
	in_transaction = true;
	WD_GUARD(find_serial(authority, serial, &row, err));
	if (!row.found) {
		rc = wd_error_set(err, WD_ENOTFOUND,
			"serial number %s was not issued by this authority", serial);
		goto out;
	}

	*ret_revocation = (struct authority_revocation){
		.slot_id = row.slot_id,
		.revoked_at = row.revoked ? row.revoked_at : now,
		.not_after = row.not_after,
		.already_revoked = row.revoked,
	};
	memcpy(ret_revocation->serial_hex, serial, strlen(serial) + 1);
	if (row.revoked) {
		in_transaction = false;
		store_rollback(authority->store);
		rc = 0;
		goto out;
	}

	WD_GUARD(store_exec(authority->store,
		"UPDATE authority_serials SET revoked_at = $2, reason = $3"
		" WHERE serial = $1 AND revoked_at IS NULL",
		params, WD_ARRAY_LEN(params), NULL, err));
	if (row.not_after < now) {
		in_transaction = false;
		WD_GUARD(store_commit(authority->store, err));
		rc = 0;
		goto out;
	}

	mark_slots(authority, &row.slot_id, 1, which);
	in_transaction = false;
	rc = finish_revocation(authority, which, now, err);
	if (rc < 0)
		store_rollback(authority->store);
out:
	if (in_transaction)
		store_rollback(authority->store);
	if (rc < 0)
		*ret_revocation = (struct authority_revocation){ 0 };
	return rc;
}

int authority_revoke_serial(struct authority *authority, const char *serial_hex,
	const char *reason, int64_t now, struct authority_revocation *ret_revocation,
	struct wd_error *err)
{
	char serial[AUTHORITY_SERIAL_HEX_SIZE];
	int rc;

	*ret_revocation = (struct authority_revocation){ 0 };
	WD_TRY(authority_serial_normalize(serial_hex, serial, err));
	WD_TRY(check_reason(reason, err));

	pthread_mutex_lock(&authority->lock);
	rc = revoke_serial_locked(authority, serial, reason, now, ret_revocation, err);
	pthread_mutex_unlock(&authority->lock);
	return rc;
}

/* The live serials of one SPIFFE ID or entry, with the slots that signed
 * them. */
struct live_serials {
	struct authority_serial_list list;
	int64_t *slot_ids;
	size_t cap;
};

static void live_serials_free(struct live_serials *live)
{
	authority_serial_list_clear(&live->list);
	free(live->slot_ids);
	*live = (struct live_serials){ 0 };
}

/* Columns: serial, slot_id. */
static int add_live_row(void *context, const struct store_row *row)
{
	struct live_serials *live = context;
	const char *serial = store_row_text(row, 0);
	char *copy;

	if (live->list.count >= AUTHORITY_MAX_REVOKE_BATCH)
		return WD_ETOOBIG;
	if (live->list.count == live->cap) {
		size_t cap = live->cap ? live->cap * 2 : 16;
		char **serials = wd_reallocarray(live->list.serials, cap, sizeof(*serials));

		if (!serials)
			return WD_ENOMEM;
		live->list.serials = serials;
		int64_t *slot_ids = wd_reallocarray(live->slot_ids, cap, sizeof(*slot_ids));

		if (!slot_ids)
			return WD_ENOMEM;
		live->slot_ids = slot_ids;
		live->cap = cap;
	}
	copy = wd_strdup(serial ? serial : "");
	if (!copy)
		return WD_ENOMEM;
	live->slot_ids[live->list.count] = store_row_int(row, 1);
	live->list.serials[live->list.count++] = copy;
	return 0;
}

/* The two statements of a batch revocation. Both select the same rows:
 * $1 is the SPIFFE ID or entry id and $2 the current time. */
struct batch_sql {
	const char *what;
	const char *select_live;
	const char *update_live;
};

static const struct batch_sql by_spiffe_id = {
	.what = "SPIFFE ID",
	.select_live = "SELECT serial, slot_id FROM authority_serials"
		" WHERE spiffe_id = $1 AND revoked_at IS NULL AND not_after >= $2 ORDER BY serial",
	.update_live = "UPDATE authority_serials SET revoked_at = $2, reason = $3"
		" WHERE spiffe_id = $1 AND revoked_at IS NULL AND not_after >= $2",
};

static const struct batch_sql by_entry_id = {
	.what = "entry",
	.select_live = "SELECT serial, slot_id FROM authority_serials"
		" WHERE entry_id = $1 AND revoked_at IS NULL AND not_after >= $2 ORDER BY serial",
	.update_live = "UPDATE authority_serials SET revoked_at = $2, reason = $3"
		" WHERE entry_id = $1 AND revoked_at IS NULL AND not_after >= $2",
};

static int revoke_batch_locked(struct authority *authority, const struct batch_sql *sql,
	const char *key, const char *reason, int64_t now,
	struct authority_serial_list *ret_serials, struct wd_error *err)
{
	struct store_value select_params[] = { STORE_TEXT_VALUE(key), STORE_INT_VALUE(now) };
	struct store_value update_params[] = {
		STORE_TEXT_VALUE(key), STORE_INT_VALUE(now), STORE_TEXT_VALUE(reason),
	};
	struct live_serials live = { 0 };
	bool which[AUTHORITY_MAX_SLOTS];
	bool in_transaction = false;
	int64_t changes = 0;
	int rc;

	WD_GUARD(store_begin(authority->store, err));
	in_transaction = true;
	rc = store_query(authority->store, sql->select_live, select_params,
		WD_ARRAY_LEN(select_params), add_live_row, &live, err);
	if (rc == WD_ETOOBIG)
		wd_error_set(err, rc, "%s \"%.300s\" has more than %d live serials; nothing was "
			"revoked", sql->what, key, AUTHORITY_MAX_REVOKE_BATCH);
	else if (rc == WD_ENOMEM)
		wd_error_set(err, rc, "listing the serials of %s \"%.300s\": out of memory",
			sql->what, key);
	WD_GUARD(rc);

	if (live.list.count == 0) {
		in_transaction = false;
		store_rollback(authority->store);
		rc = 0;
		goto out;
	}

	WD_GUARD(store_exec(authority->store, sql->update_live, update_params,
		WD_ARRAY_LEN(update_params), &changes, err));
	if (changes != (int64_t)live.list.count) {
		rc = wd_error_set(err, WD_ECONFLICT, "the serials of %s \"%.300s\" changed during "
			"revocation; retry", sql->what, key);
		goto out;
	}

	mark_slots(authority, live.slot_ids, live.list.count, which);
	in_transaction = false;
	rc = finish_revocation(authority, which, now, err);
	if (rc < 0) {
		store_rollback(authority->store);
		goto out;
	}

	*ret_serials = live.list;
	live.list = (struct authority_serial_list){ 0 };
out:
	if (in_transaction)
		store_rollback(authority->store);
	live_serials_free(&live);
	return rc;
}

int authority_revoke_spiffe_id(struct authority *authority,
	const struct spiffe_id *spiffe_id, const char *reason, int64_t now,
	struct authority_serial_list *ret_serials, struct wd_error *err)
{
	char id[SPIFFE_ID_MAX_LEN + 1];
	int rc;

	*ret_serials = (struct authority_serial_list){ 0 };
	if (!spiffe_id)
		return wd_error_set(err, WD_EINVAL, "missing SPIFFE ID");
	if (spiffe_id_format(spiffe_id, id, sizeof(id)) < 0)
		return wd_error_set(err, WD_EINVAL, "SPIFFE ID is longer than %d bytes",
			SPIFFE_ID_MAX_LEN);
	WD_TRY(check_reason(reason, err));

	pthread_mutex_lock(&authority->lock);
	rc = revoke_batch_locked(authority, &by_spiffe_id, id, reason, now, ret_serials, err);
	pthread_mutex_unlock(&authority->lock);
	return rc;
}

int authority_revoke_entry(struct authority *authority, const char *entry_id,
	const char *reason, int64_t now, struct authority_serial_list *ret_serials,
	struct wd_error *err)
{
	int rc;

	*ret_serials = (struct authority_serial_list){ 0 };
	if (!entry_id || entry_id[0] == '\0')
		return wd_error_set(err, WD_EINVAL, "missing entry id");
	WD_TRY(check_reason(reason, err));

	pthread_mutex_lock(&authority->lock);
	rc = revoke_batch_locked(authority, &by_entry_id, entry_id, reason, now, ret_serials,
		err);
	pthread_mutex_unlock(&authority->lock);
	return rc;
}

int authority_is_revoked(struct authority *authority, const char *serial_hex,
	bool *ret_revoked, struct wd_error *err)
{
	char serial[AUTHORITY_SERIAL_HEX_SIZE];
	struct serial_row row;
	int rc;

	*ret_revoked = false;
	WD_TRY(authority_serial_normalize(serial_hex, serial, err));

	pthread_mutex_lock(&authority->lock);
	rc = find_serial(authority, serial, &row, err);
	pthread_mutex_unlock(&authority->lock);
	if (rc < 0)
		return rc;

	*ret_revoked = row.found && row.revoked;
	return 0;
}

struct entry_row {
	bool found;
	char *entry_id;
};

/* Column: entry_id, NULL for SVIDs minted without an entry. */
static int read_entry_row(void *context, const struct store_row *row)
{
	struct entry_row *entry = context;

	entry->found = true;
	if (store_row_is_null(row, 0))
		return 0;
	entry->entry_id = wd_strdup(store_row_text(row, 0));
	return entry->entry_id ? 0 : WD_ENOMEM;
}

int authority_serial_entry(struct authority *authority, const char *serial_hex,
	char **ret_entry_id, struct wd_error *err)
{
	char serial[AUTHORITY_SERIAL_HEX_SIZE];
	struct entry_row row = { 0 };
	int rc;

	*ret_entry_id = NULL;
	WD_TRY(authority_serial_normalize(serial_hex, serial, err));

	struct store_value params[] = { STORE_TEXT_VALUE(serial) };
	pthread_mutex_lock(&authority->lock);
	rc = store_query(authority->store, "SELECT entry_id FROM authority_serials WHERE serial = $1",
		params, WD_ARRAY_LEN(params), read_entry_row, &row, err);
	pthread_mutex_unlock(&authority->lock);
	if (rc == WD_ENOMEM)
		rc = wd_error_set(err, rc, "out of memory reading serial %s", serial);
	if (rc < 0) {
		free(row.entry_id);
		return rc;
	}
	if (!row.found)
		return wd_error_set(err, WD_ENOTFOUND, "serial %s was not issued by this authority",
			serial);
	*ret_entry_id = row.entry_id;
	return 0;
}
