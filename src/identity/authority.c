/* The authority's lifecycle: configuration defaults and checks, opening
 * (migrations, first slot or loading the stored ones, CRLs) and closing. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/alloc.h"
#include "identity/authority_internal.h"

/* SPIRE's CA manager caps its activation threshold at 7 days, which also
 * bounds the longest SVID TTL that a rotation never cuts short. */
#define SEVEN_DAYS (7 * 86400)

/* Max backdating of notBefore, in seconds; clocks further apart need NTP. */
#define MAX_BACKDATE 3600

void authority_config_init(struct authority_config *config)
{
	*config = (struct authority_config){
		.ca_key_type = CRYPTO_KEY_EC_P256,
		.jwt_rsa_alg = JWTSVID_RS256,
		.ca_ttl_seconds = AUTHORITY_DEFAULT_CA_TTL,
		.x509_backdate_seconds = AUTHORITY_DEFAULT_BACKDATE,
		.refresh_hint_seconds = AUTHORITY_DEFAULT_REFRESH_HINT,
		.crl_next_update_seconds = AUTHORITY_DEFAULT_CRL_NEXT_UPDATE,
		.x509_svid_ttl_seconds = AUTHORITY_DEFAULT_X509_SVID_TTL,
		.jwt_svid_ttl_seconds = AUTHORITY_DEFAULT_JWT_SVID_TTL,
		.prune_grace_seconds = AUTHORITY_DEFAULT_PRUNE_GRACE,
	};
}

int64_t authority_svid_ttl_limit(const struct authority_config *config)
{
	int64_t limit = config->ca_ttl_seconds / 6;

	return limit < SEVEN_DAYS ? limit : SEVEN_DAYS;
}

bool authority_svid_ttl_exceeds_limit(const struct authority_config *config)
{
	int64_t limit = authority_svid_ttl_limit(config);

	return config->x509_svid_ttl_seconds > limit || config->jwt_svid_ttl_seconds > limit;
}

const char *authority_slot_state_name(enum authority_slot_state state)
{
	switch (state) {
	case AUTHORITY_SLOT_PREPARED:
		return "prepared";
	case AUTHORITY_SLOT_ACTIVE:
		return "active";
	case AUTHORITY_SLOT_OLD:
		return "old";
	}
	return "unknown";
}

static int check_range(const char *name, int64_t value, int64_t min, int64_t max,
	struct wd_error *err)
{
	if (value < min || value > max)
		return wd_error_set(err, WD_ECONFIG,
			"invalid %s %" PRId64 ": expected %" PRId64 " to %" PRId64 " seconds", name,
			value, min, max);
	return 0;
}

static int check_config(const struct authority_config *config, struct wd_error *err)
{
	int64_t ttl = config->ca_ttl_seconds;
	int rc;

	if (!config->trust_domain)
		return wd_error_set(err, WD_ECONFIG, "missing trust domain");
	rc = spiffe_trust_domain_validate(config->trust_domain, err);
	if (rc < 0)
		return wd_error_set(err, WD_ECONFIG, "invalid trust domain \"%.255s\"",
			config->trust_domain);
	if (!config->data_dir || config->data_dir[0] == '\0')
		return wd_error_set(err, WD_ECONFIG, "missing data directory");
	if (config->ca_key_type != CRYPTO_KEY_EC_P256 &&
	    config->ca_key_type != CRYPTO_KEY_EC_P384 &&
	    config->ca_key_type != CRYPTO_KEY_RSA_2048)
		return wd_error_set(err, WD_ECONFIG, "invalid CA key type %d",
			(int)config->ca_key_type);
	if (config->jwt_rsa_alg != JWTSVID_RS256 && config->jwt_rsa_alg != JWTSVID_PS256)
		return wd_error_set(err, WD_ECONFIG, "invalid JWT RSA algorithm %d",
			(int)config->jwt_rsa_alg);

	WD_TRY(check_range("ca_ttl", ttl, AUTHORITY_MIN_CA_TTL, AUTHORITY_MAX_CA_TTL, err));
	WD_TRY(check_range("x509_backdate", config->x509_backdate_seconds, 0, MAX_BACKDATE,
		err));
	WD_TRY(check_range("refresh_hint", config->refresh_hint_seconds, 1, ttl, err));
	WD_TRY(check_range("crl_next_update", config->crl_next_update_seconds, 2,
		AUTHORITY_MAX_CA_TTL, err));
	WD_TRY(check_range("default_x509_svid_ttl", config->x509_svid_ttl_seconds, 1,
		AUTHORITY_MAX_CA_TTL, err));
	WD_TRY(check_range("default_jwt_svid_ttl", config->jwt_svid_ttl_seconds, 1,
		AUTHORITY_MAX_CA_TTL, err));
	WD_TRY(check_range("prune_grace", config->prune_grace_seconds, 0, AUTHORITY_MAX_CA_TTL,
		err));
	return 0;
}

void authority_close(struct authority *authority)
{
	if (!authority)
		return;
	for (size_t i = 0; i < authority->slot_count; i++)
		ca_slot_free(authority->slots[i]);
	pthread_mutex_destroy(&authority->lock);
	OPENSSL_cleanse(authority->kek, sizeof(authority->kek));
	free(authority->trust_domain);
	free(authority->data_dir);
	free(authority->key_dir);
	free(authority);
}

int authority_sequence_bump(struct authority *authority, uint64_t *ret_sequence,
	struct wd_error *err)
{
	uint64_t next = authority->sequence + 1;
	int64_t stored = 0;
	int rc;

	*ret_sequence = 0;
	/* Servers sharing a datastore bump the one stored counter: follow it
	 * when another server moved it (the caller's transaction serializes
	 * the bumps). */
	rc = authority_state_get(authority->store, AUTHORITY_STATE_SEQUENCE, &stored, err);
	if (rc < 0)
		return rc;
	if (stored >= 0 && (uint64_t)stored >= next)
		next = (uint64_t)stored + 1;
	if (next > INT64_MAX)
		return wd_error_set(err, WD_EINTERNAL, "the bundle sequence overflowed");
	rc = authority_state_set(authority->store, AUTHORITY_STATE_SEQUENCE, (int64_t)next, err);
	if (rc < 0)
		return rc;
	*ret_sequence = next;
	return 0;
}

uint64_t authority_bundle_sequence(struct authority *authority)
{
	uint64_t sequence;

	pthread_mutex_lock(&authority->lock);
	sequence = authority->sequence;
	pthread_mutex_unlock(&authority->lock);
	return sequence;
}

/* First start: one active slot, whose key files are removed again when its
 * row cannot be stored. */
static int create_first_slot(struct authority *authority, int64_t now, struct wd_error *err)
{
	struct authority_slot *slot = NULL;
	bool in_transaction = false;
	int64_t id = 0;
	int rc;

	WD_GUARD(store_begin(authority->store, err));
	in_transaction = true;
	WD_GUARD(authority_state_get(authority->store, AUTHORITY_STATE_NEXT_SLOT, &id, err));
	/* Another server on the datastore made the first slot since the load. */
	if (id > 1) {
		rc = WD_EEXIST;
		goto out;
	}
	if (id < 1)
		id = 1;

	WD_GUARD(ca_slot_create(authority, id, now, &slot, err));
	slot->state = AUTHORITY_SLOT_ACTIVE;
	WD_GUARD(ca_slot_insert(authority->store, slot, err));
	WD_GUARD(authority_state_set(authority->store, AUTHORITY_STATE_NEXT_SLOT, id + 1, err));
	in_transaction = false;
	WD_GUARD(store_commit(authority->store, err));

	authority->slots[authority->slot_count++] = WD_TAKE_PTR(slot);
	rc = 0;
out:
	if (in_transaction)
		store_rollback(authority->store);
	if (slot)
		ca_slot_remove_keys(authority, slot->id);
	ca_slot_free(slot);
	return rc;
}

/* The sequence is bumped so that an agent holding a CRL from before the
 * restart or the unlock fetches the new one. */
int authority_crls_issue_all(struct authority *authority, int64_t now, struct wd_error *err)
{
	struct authority_crl_stage stage = { 0 };
	bool which[AUTHORITY_MAX_SLOTS];
	bool in_transaction = false;
	uint64_t sequence = 0;
	int rc;

	for (size_t i = 0; i < AUTHORITY_MAX_SLOTS; i++)
		which[i] = i < authority->slot_count;

	WD_GUARD(store_begin(authority->store, err));
	in_transaction = true;
	WD_GUARD(authority_crl_stage_build(authority, authority->slots, authority->slot_count,
		which, now, &stage, err));
	WD_GUARD(authority_sequence_bump(authority, &sequence, err));
	in_transaction = false;
	WD_GUARD(store_commit(authority->store, err));

	authority_crl_stage_install(authority, authority->slots, authority->slot_count, &stage);
	authority->sequence = sequence;
	rc = 0;
out:
	if (in_transaction)
		store_rollback(authority->store);
	authority_crl_stage_release(&stage);
	return rc;
}

static int load_counters(struct authority *authority, struct wd_error *err)
{
	int64_t sequence = 0;

	WD_TRY(authority_state_get(authority->store, AUTHORITY_STATE_SEQUENCE, &sequence, err));
	WD_TRY(authority_state_get(authority->store, AUTHORITY_STATE_CRL_NUMBER,
		&authority->crl_number, err));
	if (sequence < 0 || authority->crl_number < 0)
		return wd_error_set(err, WD_ECORRUPT,
			"the stored bundle sequence or cRLNumber is negative");
	authority->sequence = (uint64_t)sequence;
	return 0;
}

/* One authority per datastore: servers sharing a PostgreSQL datastore share
 * its slots and keys, and only the singleton holder rotates them. */
int authority_open(const struct authority_config *config, struct store *store, int64_t now,
	struct authority **ret_authority, struct wd_error *err)
{
	struct authority *authority = NULL;
	size_t key_dir_len;
	int rc;

	*ret_authority = NULL;
	if (!config || !store)
		return wd_error_set(err, WD_EINVAL, "authority_open: missing config or store");
	WD_TRY(check_config(config, err));

	authority = wd_calloc(1, sizeof(*authority));
	WD_ENSURE(authority, WD_ENOMEM);
	pthread_mutex_init(&authority->lock, NULL);
	authority->store = store;
	authority->keys_in_store = strcmp(store_backend(store), "postgres") == 0;
	authority->config = *config;
	authority->trust_domain = wd_strdup(config->trust_domain);
	authority->data_dir = wd_strdup(config->data_dir);
	key_dir_len = strlen(config->data_dir) + sizeof("/authority");
	authority->key_dir = malloc(key_dir_len);
	WD_ENSURE(authority->trust_domain && authority->data_dir && authority->key_dir,
		WD_ENOMEM);
	snprintf(authority->key_dir, key_dir_len, "%s/authority", config->data_dir);
	authority->config.trust_domain = authority->trust_domain;
	authority->config.data_dir = authority->data_dir;

	WD_GUARD(authority_schema_migrate(store, err));
	WD_GUARD(ca_key_dir_prepare(authority->key_dir, err));
	WD_GUARD(load_counters(authority, err));
	WD_GUARD(ca_slots_load(authority, err));
	if (authority->slot_count == 0) {
		rc = create_first_slot(authority, now, err);
		if (rc == WD_EEXIST)
			rc = ca_slots_load(authority, err);
		WD_GUARD(rc);
	}
	if (authority_sealed_locked(authority))
		WD_GUARD(authority_crls_load_stored(authority, err));
	else
		WD_GUARD(authority_crls_issue_all(authority, now, err));

	*ret_authority = WD_TAKE_PTR(authority);
	rc = 0;
out:
	if (rc == WD_ENOMEM)
		wd_error_set(err, rc, "opening the authority: out of memory");
	authority_close(authority);
	return rc;
}
