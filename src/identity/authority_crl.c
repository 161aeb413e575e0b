/* One CRL per unexpired published CA slot (RFC 5280 section 5), listing the
 * revoked serials that slot issued which have not expired yet, signed by the
 * slot's own CA key. */
#include <inttypes.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "identity/authority_internal.h"
#include "identity/crl.h"

void authority_crl_release(struct authority_crl *crl)
{
	X509_CRL_free(crl->crl);
	*crl = (struct authority_crl){ 0 };
}

/* Returns whether the slot's CRL must be reissued. That happens at half its
 * validity, so a client polling at the bundle refresh hint gets the next one
 * long before nextUpdate. It also happens when a listed serial has expired,
 * since RFC 5280 section 5 lets an expired certificate leave the list, and
 * when the CA has expired, which drops the CRL. */
bool authority_crl_due(const struct authority_slot *slot, int64_t now)
{
	const struct authority_crl *crl = &slot->crl;

	if (now >= slot->not_after)
		return crl->crl != NULL;
	if (!crl->crl)
		return true;
	if (now >= crl->this_update + (crl->next_update - crl->this_update) / 2)
		return true;
	return now > crl->earliest_expiry;
}

struct revoked_list {
	struct crl_revoked *items;
	size_t count;
	size_t cap;
	int64_t earliest_expiry;
};

static void revoked_list_free(struct revoked_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		free((char *)list->items[i].serial_hex);
	free(list->items);
	*list = (struct revoked_list){ 0 };
}

/* Columns: serial, revoked_at, not_after. */
static int add_revoked_row(void *context, const struct store_row *row)
{
	struct revoked_list *list = context;
	const char *serial = store_row_text(row, 0);
	int64_t not_after = store_row_int(row, 2);
	char *copy;

	if (list->count == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 16;
		struct crl_revoked *items = wd_reallocarray(list->items, cap, sizeof(*items));

		if (!items)
			return WD_ENOMEM;
		list->items = items;
		list->cap = cap;
	}
	copy = wd_strdup(serial ? serial : "");
	if (!copy)
		return WD_ENOMEM;

	list->items[list->count++] = (struct crl_revoked){
		.serial_hex = copy,
		.revoked_at = store_row_int(row, 1),
	};
	if (not_after < list->earliest_expiry)
		list->earliest_expiry = not_after;
	return 0;
}

/* NOTE: the list has no ceiling of its own. It is bounded by the number of
 * SVIDs a slot issued, and only operators and the sensor revoke. */
static int load_revoked(struct store *store, int64_t slot_id, int64_t now,
	struct revoked_list *ret_list, struct wd_error *err)
{
	struct store_value params[] = { STORE_INT_VALUE(slot_id), STORE_INT_VALUE(now) };
	int rc;

	*ret_list = (struct revoked_list){ .earliest_expiry = INT64_MAX };
	rc = store_query(store,
		"SELECT serial, revoked_at, not_after FROM authority_serials"
		" WHERE slot_id = $1 AND revoked_at IS NOT NULL AND not_after >= $2"
		" ORDER BY serial", params, WD_ARRAY_LEN(params), add_revoked_row, ret_list, err);
	if (rc == WD_ENOMEM)
		wd_error_set(err, rc, "loading the revoked serials of CA slot %" PRId64
			": out of memory", slot_id);
	if (rc < 0)
		revoked_list_free(ret_list);
	return rc;
}

/* An expired slot gets no CRL: ret_crl stays empty. nextUpdate is cut to the
 * CA's notAfter, since the CA cannot vouch for anything after it. */
static int build_one(struct authority *authority, const struct authority_slot *slot,
	int64_t number, int64_t now, struct authority_crl *ret_crl, struct wd_error *err)
{
	struct revoked_list revoked = { 0 };
	int64_t validity;
	X509_CRL *crl = NULL;
	int rc;

	*ret_crl = (struct authority_crl){ 0 };
	if (now >= slot->not_after)
		return 0;

	if (ca_slot_sealed(slot))
		return wd_error_set(err, WD_EUNAVAILABLE, AUTHORITY_SEALED_MESSAGE);

	validity = authority->config.crl_next_update_seconds;
	if (slot->not_after - now < validity)
		validity = slot->not_after - now;

	WD_GUARD(load_revoked(authority->store, slot->id, now, &revoked, err));
	WD_GUARD(crl_build(slot->cert, slot->x509_key, revoked.items, revoked.count, number,
		now, validity, &crl, err));

	*ret_crl = (struct authority_crl){
		.crl = WD_TAKE_PTR(crl),
		.number = number,
		.this_update = now,
		.next_update = now + validity,
		.earliest_expiry = revoked.earliest_expiry,
	};
	rc = 0;
out:
	X509_CRL_free(crl);
	revoked_list_free(&revoked);
	return rc;
}

/* Keeps the CRL in the slot's row, so that a start with sealed keys, which
 * cannot sign a new one, serves it. An expired slot's CRL is cleared. */
static int store_crl(struct store *store, int64_t slot_id, X509_CRL *crl,
	struct wd_error *err)
{
	_wd_cleanup_(wd_freep) char *pem = NULL;
	int rc;

	if (crl) {
		rc = crl_to_pem(crl, &pem);
		if (rc < 0)
			return wd_error_set(err, rc, "encoding the CRL of CA slot %" PRId64 " failed",
				slot_id);
	}

	struct store_value params[] = { STORE_TEXT_VALUE(pem), STORE_INT_VALUE(slot_id) };
	return store_exec(store, "UPDATE authority_slots SET crl_pem = $1 WHERE id = $2",
		params, WD_ARRAY_LEN(params), NULL, err);
}

/* Every CRL gets the next cRLNumber, so the numbers increase across all
 * slots and restarts (RFC 5280 section 5.2.3 requires an increasing
 * sequence per issuer). The last number used and the CRLs are written to the
 * store in the caller's transaction. */
int authority_crl_stage_build(struct authority *authority,
	struct authority_slot *const *slots, size_t slot_count, const bool *which, int64_t now,
	struct authority_crl_stage *stage, struct wd_error *err)
{
	int64_t number = authority->crl_number;
	int64_t stored = 0;
	int64_t first;
	int rc;

	*stage = (struct authority_crl_stage){ .last_number = authority->crl_number };
	/* Another server on a shared datastore may have used numbers since
	 * this one loaded them; the caller's transaction serializes the two. */
	WD_TRY(authority_state_get(authority->store, AUTHORITY_STATE_CRL_NUMBER, &stored, err));
	if (stored > number)
		number = stored;
	first = number;

	for (size_t i = 0; i < slot_count && i < AUTHORITY_MAX_SLOTS; i++) {
		if (!which[i])
			continue;
		number++;
		WD_GUARD(build_one(authority, slots[i], number, now, &stage->crls[i], err));
		stage->built[i] = true;
		WD_GUARD(store_crl(authority->store, slots[i]->id, stage->crls[i].crl, err));
	}

	if (number != first)
		WD_GUARD(authority_state_set(authority->store, AUTHORITY_STATE_CRL_NUMBER, number,
			err));
	stage->last_number = number;
	rc = 0;
out:
	if (rc < 0)
		authority_crl_stage_release(stage);
	return rc;
}

void authority_crl_stage_install(struct authority *authority,
	struct authority_slot *const *slots, size_t slot_count, struct authority_crl_stage *stage)
{
	for (size_t i = 0; i < slot_count && i < AUTHORITY_MAX_SLOTS; i++) {
		if (!stage->built[i])
			continue;
		authority_crl_release(&slots[i]->crl);
		slots[i]->crl = stage->crls[i];
		stage->crls[i] = (struct authority_crl){ 0 };
		stage->built[i] = false;
	}
	authority->crl_number = stage->last_number;
}

void authority_crl_stage_release(struct authority_crl_stage *stage)
{
	for (size_t i = 0; i < AUTHORITY_MAX_SLOTS; i++) {
		authority_crl_release(&stage->crls[i]);
		stage->built[i] = false;
	}
}

struct stored_crls {
	struct authority *authority;
	struct wd_error *err;
};

/* Columns: id, crl_pem. */
static int install_stored_crl(void *context, const struct store_row *row)
{
	struct stored_crls *stored = context;
	struct authority *authority = stored->authority;
	const char *pem = store_row_text(row, 1);
	int64_t id = store_row_int(row, 0);
	X509_CRL *crl = NULL;
	BIO *bio;

	if (!pem)
		return 0;
	bio = BIO_new_mem_buf(pem, -1);
	if (!bio)
		return wd_error_set(stored->err, WD_ENOMEM, "loading the stored CRLs: out of memory");
	crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
	BIO_free(bio);
	ERR_clear_error();
	if (!crl)
		return wd_error_set(stored->err, WD_ECORRUPT,
			"the stored CRL of CA slot %" PRId64 " is invalid", id);

	for (size_t i = 0; i < authority->slot_count; i++) {
		if (authority->slots[i]->id != id)
			continue;
		/* Only the CRL is served while sealed. The times stay 0, which
		 * makes authority_crl_due reissue it as soon as tick can sign.
		 * NOTE: a seal longer than crl_next_update leaves clients a CRL
		 * past its nextUpdate. */
		authority_crl_release(&authority->slots[i]->crl);
		authority->slots[i]->crl = (struct authority_crl){
			.crl = WD_TAKE_PTR(crl),
			.earliest_expiry = INT64_MAX,
		};
	}
	X509_CRL_free(crl);
	return 0;
}

int authority_crls_load_stored(struct authority *authority, struct wd_error *err)
{
	struct stored_crls stored = { .authority = authority, .err = err };

	return store_query(authority->store,
		"SELECT id, crl_pem FROM authority_slots WHERE state <> 'pruned'", NULL, 0,
		install_stored_crl, &stored, err);
}

int authority_crl_pem(struct authority *authority, char **ret_pem, struct wd_error *err)
{
	struct authority_slot *ordered[AUTHORITY_MAX_SLOTS];
	struct wd_buf out;
	size_t count;
	int rc;

	*ret_pem = NULL;
	/* A bundle of a few CRLs; the ceiling only guards against a bug. */
	wd_buf_init(&out, 4096, 256u << 20);

	pthread_mutex_lock(&authority->lock);
	count = authority_slots_ordered(authority, ordered);
	for (size_t i = 0; i < count; i++) {
		_wd_cleanup_(wd_freep) char *pem = NULL;

		if (!ordered[i]->crl.crl)
			continue;
		rc = crl_to_pem(ordered[i]->crl.crl, &pem);
		if (rc < 0) {
			wd_error_set(err, rc, "encoding the CRL of CA slot %" PRId64 " failed",
				ordered[i]->id);
			goto out;
		}
		rc = wd_buf_append_str(&out, pem);
		if (rc < 0) {
			wd_error_set(err, rc, "concatenating the CRLs failed");
			goto out;
		}
	}

	*ret_pem = wd_buf_take(&out, NULL);
	rc = *ret_pem ? 0 : wd_error_set(err, WD_ENOMEM, "concatenating the CRLs failed");
out:
	pthread_mutex_unlock(&authority->lock);
	wd_buf_free(&out);
	return rc;
}

int authority_crl_der_active(struct authority *authority, uint8_t **ret_der, size_t *ret_len,
	struct wd_error *err)
{
	struct authority_slot *active;
	unsigned char *der = NULL;
	uint8_t *copy;
	int len;
	int rc;

	*ret_der = NULL;
	*ret_len = 0;

	pthread_mutex_lock(&authority->lock);
	active = ca_active_slot(authority);
	if (!active || !active->crl.crl) {
		rc = wd_error_set(err, WD_EUNAVAILABLE,
			"the active CA has no current CRL; it has expired and awaits rotation");
		goto out;
	}
	len = i2d_X509_CRL(active->crl.crl, &der);
	if (len <= 0) {
		rc = wd_error_set(err, WD_EINTERNAL, "encoding the CRL of CA slot %" PRId64
			" as DER failed", active->id);
		goto out;
	}
	/* Copied so the caller frees with free(), not OPENSSL_free(). */
	copy = malloc((size_t)len);
	if (!copy) {
		rc = wd_error_set(err, WD_ENOMEM, "copying the CRL: out of memory");
		goto out;
	}
	memcpy(copy, der, (size_t)len);

	*ret_der = copy;
	*ret_len = (size_t)len;
	rc = 0;
out:
	pthread_mutex_unlock(&authority->lock);
	OPENSSL_free(der);
	return rc;
}
