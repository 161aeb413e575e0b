/* Shared setup for the authority tests: a fresh temporary data directory and
 * SQLite store per test, and helpers that issue and verify SVIDs. */
#pragma once

#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/x509.h"
#include "identity/authority.h"
#include "identity/bundle.h"
#include "identity/x509svid.h"
#include "../store/test_datastore.h"

/* A fixed start time (2023-11-14T22:13:20Z) so expected times are exact. */
#define T0 ((int64_t)1700000000)

struct fixture {
	char dir[64];
	char db_path[128];
	struct store *store;
	struct authority_config config;
	struct authority *authority;
	struct wd_error err;
};

static inline int remove_entry(const char *path, const struct stat *st, int flag,
	struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline int fixture_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/wd-authority-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	test_datastore_setup(f->db_path, sizeof(f->db_path), f->dir, "state.db");
	assert_int_equal(store_open(f->db_path, NULL, &f->store, &f->err), 0);

	authority_config_init(&f->config);
	f->config.trust_domain = "example.org";
	f->config.data_dir = f->dir;
	*state = f;
	return 0;
}

static inline int fixture_teardown(void **state)
{
	struct fixture *f = *state;

	authority_close(f->authority);
	store_close(f->store);
	nftw(f->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static inline void fixture_open(struct fixture *f, int64_t now)
{
	int rc = authority_open(&f->config, f->store, now, &f->authority, &f->err);

	if (rc != 0)
		fail_msg("authority_open: %d %s", rc, f->err.detail);
}

static inline void fixture_reopen(struct fixture *f, int64_t now)
{
	authority_close(f->authority);
	f->authority = NULL;
	fixture_open(f, now);
}

static inline struct spiffe_id make_id(const char *text)
{
	struct spiffe_id id;

	assert_int_equal(spiffe_id_parse(text, strlen(text), &id, NULL), 0);
	return id;
}

/* Issues an X.509-SVID for id to a new P-256 key. */
static inline void issue_svid(struct fixture *f, const char *id_text, const char *entry_id,
	int64_t ttl, int64_t now, struct authority_x509_svid *ret_svid)
{
	struct spiffe_id id = make_id(id_text);
	EVP_PKEY *key = NULL;
	struct authority_x509_request request;
	int rc;

	assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC_P256, &key, NULL), 0);
	request = (struct authority_x509_request){
		.spiffe_id = &id,
		.public_key = key,
		.ttl_seconds = ttl,
		.entry_id = entry_id,
	};
	rc = authority_sign_x509(f->authority, &request, now, ret_svid, &f->err);
	if (rc != 0)
		fail_msg("authority_sign_x509: %d %s", rc, f->err.detail);
	EVP_PKEY_free(key);
}

/* Verifies cert against the given authorities at now. */
static inline int verify_against(X509 *cert, STACK_OF(X509) *authorities, int64_t now,
	struct spiffe_id *ret_id)
{
	STACK_OF(X509) *chain = sk_X509_new_null();
	X509 *list[AUTHORITY_MAX_SLOTS];
	size_t count = (size_t)sk_X509_num(authorities);
	int rc;

	assert_non_null(chain);
	assert_true(count <= AUTHORITY_MAX_SLOTS);
	for (size_t i = 0; i < count; i++)
		list[i] = sk_X509_value(authorities, (int)i);
	assert_true(sk_X509_push(chain, cert) > 0);
	rc = x509svid_verify(chain, list, count, now, ret_id, NULL);
	sk_X509_free(chain);
	return rc;
}

/* Verifies cert against the authority's current bundle at now. */
static inline int verify_with_bundle(struct fixture *f, X509 *cert, int64_t now)
{
	STACK_OF(X509) *authorities = NULL;
	struct spiffe_id id;
	int rc;

	assert_int_equal(authority_x509_authorities(f->authority, &authorities, &f->err), 0);
	rc = verify_against(cert, authorities, now, &id);
	sk_X509_pop_free(authorities, X509_free);
	return rc;
}

/* Returns the published CA certificate of slot id (a new reference). */
static inline X509 *slot_cert(struct fixture *f, int64_t slot_id)
{
	json_t *status = NULL;
	STACK_OF(X509) *authorities = NULL;
	const char *fingerprint = NULL;
	X509 *found = NULL;
	size_t i;
	json_t *slot;

	assert_int_equal(authority_status_json(f->authority, &status, &f->err), 0);
	json_array_foreach(json_object_get(status, "slots"), i, slot) {
		if (json_integer_value(json_object_get(slot, "id")) == slot_id)
			fingerprint = json_string_value(json_object_get(slot, "x509_fingerprint"));
	}
	assert_non_null(fingerprint);

	assert_int_equal(authority_x509_authorities(f->authority, &authorities, &f->err), 0);
	for (int j = 0; j < sk_X509_num(authorities); j++) {
		char hex[65];

		assert_int_equal(crypto_x509_fingerprint(sk_X509_value(authorities, j), hex,
			sizeof(hex)), 0);
		if (strcmp(hex, fingerprint) == 0) {
			found = sk_X509_value(authorities, j);
			X509_up_ref(found);
		}
	}
	sk_X509_pop_free(authorities, X509_free);
	json_decref(status);
	assert_non_null(found);
	return found;
}

/* Returns the state name of slot id in the status, or NULL when absent. */
static inline const char *slot_state(struct fixture *f, int64_t slot_id, char *buf,
	size_t len)
{
	json_t *status = NULL;
	const char *state = NULL;
	size_t i;
	json_t *slot;

	assert_int_equal(authority_status_json(f->authority, &status, &f->err), 0);
	json_array_foreach(json_object_get(status, "slots"), i, slot) {
		if (json_integer_value(json_object_get(slot, "id")) == slot_id) {
			snprintf(buf, len, "%s", json_string_value(json_object_get(slot, "state")));
			state = buf;
		}
	}
	json_decref(status);
	return state;
}

static inline size_t slot_count(struct fixture *f)
{
	json_t *status = NULL;
	size_t count;

	assert_int_equal(authority_status_json(f->authority, &status, &f->err), 0);
	count = json_array_size(json_object_get(status, "slots"));
	json_decref(status);
	return count;
}

static inline void key_file_path(const struct fixture *f, int64_t slot_id, const char *role,
	char *out, size_t len)
{
	snprintf(out, len, "%s/authority/slot-%lld-%s.pem", f->dir, (long long)slot_id, role);
}

static inline bool file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}
