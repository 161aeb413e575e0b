/* The JWKS file of the proxy's JWT verifier: loading, the check that only
 * asymmetric keys of adequate size are present, and the reload when the
 * file changes. */
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/file.h"
#include "common/log.h"
#include "common/time.h"
#include "proxy/jwt_internal.h"

void proxy_jwks_unref(struct jwt_key_snapshot *keys)
{
	if (!keys || atomic_fetch_sub(&keys->refs, 1) != 1)
		return;
	jwt_keyset_free(&keys->set);
	free(keys);
}

/* Rejects keys the verifier must never trust: symmetric keys (a public
 * JWKS with an "oct" key would let anyone who reads it sign tokens) and
 * RSA keys under 2048 bits (RFC 7518 section 3.3). */
static int check_key(const struct jwt_key *key, size_t index, const char *path,
	struct wd_error *err)
{
	if (!key->pkey)
		return wd_error_set(err, WD_EINVAL,
			"JWKS %s key %zu is symmetric (kty oct); only EC, RSA and OKP public keys are accepted",
			path, index);
	if (EVP_PKEY_is_a(key->pkey, "RSA") && EVP_PKEY_get_bits(key->pkey) < 2048)
		return wd_error_set(err, WD_EINVAL, "JWKS %s key %zu is RSA-%d; at least 2048 bits are required",
			path, index, EVP_PKEY_get_bits(key->pkey));
	return 0;
}

int proxy_jwks_load(const char *path, uint64_t generation, struct jwt_key_snapshot **ret_keys,
	struct stat *ret_stat, struct wd_error *err)
{
	struct jwt_key_snapshot *keys = NULL;
	uint8_t *text = NULL;
	size_t text_len = 0;
	struct stat file_stat;
	char detail[256] = "";
	int rc;

	*ret_keys = NULL;
	/* The stat comes first: a write racing with the read is seen as a
	 * change on the next check and loaded again. */
	if (stat(path, &file_stat) != 0)
		return wd_error_set(err, WD_ENOTFOUND, "JWKS file %s cannot be read", path);
	WD_GUARD(wd_file_read(path, JWT_JWKS_MAX_BYTES, &text, &text_len, err));

	keys = calloc(1, sizeof(*keys));
	WD_ENSURE(keys, WD_ENOMEM);
	atomic_init(&keys->refs, 1);
	keys->generation = generation;
	rc = jwt_jwks_parse((const char *)text, text_len, &keys->set, detail, sizeof(detail));
	if (rc == WD_EINVAL) {
		rc = wd_error_set(err, WD_EINVAL, "JWKS file %s is invalid: %s", path, detail);
		goto out;
	}
	WD_GUARD(rc);
	if (keys->set.count == 0) {
		rc = wd_error_set(err, WD_EINVAL, "JWKS file %s holds no keys", path);
		goto out;
	}
	for (size_t i = 0; i < keys->set.count; i++)
		WD_GUARD(check_key(&keys->set.keys[i], i, path, err));

	*ret_keys = WD_TAKE_PTR(keys);
	*ret_stat = file_stat;
	rc = 0;
out:
	proxy_jwks_unref(keys);
	free(text);
	return rc;
}

static bool stat_changed(const struct stat *a, const struct stat *b)
{
	return a->st_ino != b->st_ino || a->st_dev != b->st_dev || a->st_size != b->st_size ||
	       a->st_mtim.tv_sec != b->st_mtim.tv_sec || a->st_mtim.tv_nsec != b->st_mtim.tv_nsec;
}

/* Reloads the file when it changed since the keys were loaded. One thread
 * at a time gets here, by the compare-and-swap on next_check_ms. */
static void reload_if_changed(struct proxy_jwt_verifier *verifier)
{
	struct jwt_key_snapshot *fresh = NULL, *old;
	struct stat now_stat, loaded_stat;
	struct wd_error err = { 0 };
	uint64_t generation;

	if (stat(verifier->jwks_path, &now_stat) != 0)
		return;
	pthread_mutex_lock(&verifier->lock);
	loaded_stat = verifier->file_stat;
	generation = verifier->keys->generation + 1;
	pthread_mutex_unlock(&verifier->lock);
	if (!stat_changed(&now_stat, &loaded_stat))
		return;

	if (proxy_jwks_load(verifier->jwks_path, generation, &fresh, &loaded_stat, &err) < 0) {
		log_warn("proxy", "JWKS reload failed; the previous keys stay in force", "path",
			verifier->jwks_path, "error", wd_error_text(&err));
		/* Remembering the failed file's stat logs it once, not every second. */
		pthread_mutex_lock(&verifier->lock);
		verifier->file_stat = now_stat;
		pthread_mutex_unlock(&verifier->lock);
		return;
	}

	pthread_mutex_lock(&verifier->lock);
	old = verifier->keys;
	verifier->keys = fresh;
	verifier->file_stat = loaded_stat;
	proxy_jwt_cache_clear(verifier);
	pthread_mutex_unlock(&verifier->lock);
	proxy_jwks_unref(old);
	log_info("proxy", "JWKS reloaded", "path", verifier->jwks_path);
}

struct jwt_key_snapshot *proxy_jwks_current(struct proxy_jwt_verifier *verifier)
{
	struct jwt_key_snapshot *keys;
	int_fast64_t now_ms = wd_monotonic_ms();
	int_fast64_t due = atomic_load(&verifier->next_check_ms);

	if (now_ms >= due &&
	    atomic_compare_exchange_strong(&verifier->next_check_ms, &due, now_ms + JWT_JWKS_CHECK_MS))
		reload_if_changed(verifier);

	pthread_mutex_lock(&verifier->lock);
	keys = verifier->keys;
	atomic_fetch_add(&keys->refs, 1);
	pthread_mutex_unlock(&verifier->lock);
	return keys;
}

int proxy_jwt_verifier_new(const struct proxy_jwt_config *config,
	struct proxy_jwt_verifier **ret_verifier, struct wd_error *err)
{
	struct proxy_jwt_verifier *verifier = NULL;
	int rc;

	*ret_verifier = NULL;
	if (!config || !config->jwks_path || !config->jwks_path[0])
		return wd_error_set(err, WD_ECONFIG, "JWT verification needs a JWKS file path");
	if (config->audience_count > 0 && !config->audiences)
		return wd_error_set(err, WD_ECONFIG, "JWT audience list is missing");
	if (config->leeway_seconds < 0 || config->leeway_seconds > 86400)
		return wd_error_set(err, WD_ECONFIG,
			"JWT leeway %lld s is outside 0 to 86400 s", (long long)config->leeway_seconds);

	verifier = calloc(1, sizeof(*verifier));
	if (!verifier)
		return WD_ENOMEM;
	if (pthread_mutex_init(&verifier->lock, NULL) != 0) {
		free(verifier);
		return WD_ENOMEM;
	}
	verifier->leeway_seconds = config->leeway_seconds;
	verifier->jwks_path = wd_strdup(config->jwks_path);
	WD_ENSURE(verifier->jwks_path, WD_ENOMEM);
	if (config->issuer) {
		verifier->issuer = wd_strdup(config->issuer);
		WD_ENSURE(verifier->issuer, WD_ENOMEM);
	}
	if (config->audience_count > 0) {
		verifier->audiences = wd_calloc(config->audience_count, sizeof(char *));
		WD_ENSURE(verifier->audiences, WD_ENOMEM);
		for (size_t i = 0; i < config->audience_count; i++) {
			verifier->audiences[i] = wd_strdup(config->audiences[i] ? config->audiences[i] : "");
			WD_ENSURE(verifier->audiences[i], WD_ENOMEM);
			verifier->audience_count++;
		}
	}
	WD_GUARD(proxy_jwks_load(verifier->jwks_path, 1, &verifier->keys, &verifier->file_stat,
		err));
	atomic_init(&verifier->next_check_ms, wd_monotonic_ms() + JWT_JWKS_CHECK_MS);

	*ret_verifier = WD_TAKE_PTR(verifier);
	rc = 0;
out:
	proxy_jwt_verifier_free(verifier);
	return rc;
}

void proxy_jwt_verifier_free(struct proxy_jwt_verifier *verifier)
{
	if (!verifier)
		return;
	proxy_jwt_cache_clear(verifier);
	proxy_jwks_unref(verifier->keys);
	for (size_t i = 0; i < verifier->audience_count; i++)
		free(verifier->audiences[i]);
	free(verifier->audiences);
	free(verifier->issuer);
	free(verifier->jwks_path);
	pthread_mutex_destroy(&verifier->lock);
	free(verifier);
}
