/* The authority's state as JSON for GET /v1/ca: its slots and counters, no
 * key material. */
#include <jansson.h>

#include "identity/authority_internal.h"

static json_t *slot_json(const struct authority_slot *slot)
{
	return json_pack("{s:I, s:s, s:s, s:I, s:I, s:I, s:s, s:s}",
		"id", (json_int_t)slot->id,
		"state", authority_slot_state_name(slot->state),
		"key_type", crypto_key_type_name(slot->key_type),
		"issued_at", (json_int_t)slot->issued_at,
		"not_before", (json_int_t)slot->not_before,
		"not_after", (json_int_t)slot->not_after,
		"x509_fingerprint", slot->fingerprint,
		"jwt_kid", slot->jwt_kid);
}

int authority_status_json(struct authority *authority, json_t **ret_status,
	struct wd_error *err)
{
	struct authority_slot *ordered[AUTHORITY_MAX_SLOTS];
	json_t *status = NULL;
	json_t *slots;
	size_t count;
	int rc;

	*ret_status = NULL;
	pthread_mutex_lock(&authority->lock);
	status = json_pack("{s:s, s:I, s:I, s:[]}",
		"trust_domain", authority->trust_domain,
		"sequence", (json_int_t)authority->sequence,
		"crl_number", (json_int_t)authority->crl_number,
		"slots");
	WD_ENSURE(status, WD_ENOMEM);

	slots = json_object_get(status, "slots");
	count = authority_slots_ordered(authority, ordered);
	for (size_t i = 0; i < count; i++)
		WD_ENSURE(json_array_append_new(slots, slot_json(ordered[i])) == 0, WD_ENOMEM);

	*ret_status = WD_TAKE_PTR(status);
	rc = 0;
out:
	pthread_mutex_unlock(&authority->lock);
	if (rc < 0)
		wd_error_set(err, rc, "building the CA status: out of memory");
	json_decref(status);
	return rc;
}
