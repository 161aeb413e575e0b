/* The saved serving certificate, DATA_DIR/serving.pem: the chain of the last
 * serving SVID followed by its private key, written at every mint. A server
 * whose CA keys are sealed cannot mint, so it serves this file until the
 * secrets barrier is unsealed. One file makes the pair atomic: a crash never
 * leaves a chain next to another key. */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "common/alloc.h"
#include "common/file.h"
#include "crypto/key.h"
#include "crypto/x509.h"
#include "server/server_internal.h"

#define SERVING_FILE "serving.pem"
/* The key block that crypto_key_to_pem writes (PKCS#8). */
#define KEY_MARKER "-----BEGIN PRIVATE KEY-----"
/* Ceiling of the file: a chain of a few certificates and one key. */
#define SERVING_FILE_MAX ((size_t)1 << 20)
/* Most certificates the saved chain holds: the leaf and the CA. */
#define SERVING_CHAIN_MAX 4
/* Validity of the placeholder certificate, in seconds. */
#define PLACEHOLDER_TTL 86400

static int serving_path(const struct server_ctx *ctx, char *out, size_t len,
	struct wd_error *err)
{
	int n = snprintf(out, len, "%s/%s", ctx->config->data_dir, SERVING_FILE);

	if (n < 0 || (size_t)n >= len)
		return wd_error_set(err, WD_ETOOBIG, "path too long: %s/%s", ctx->config->data_dir,
			SERVING_FILE);
	return 0;
}

int server_serving_save(struct server_ctx *ctx, const char *chain_pem, struct wd_error *err)
{
	char path[PATH_MAX];
	char *key_pem = NULL;
	char *text = NULL;
	size_t chain_len = strlen(chain_pem);
	size_t key_len;
	int rc;

	WD_TRY(serving_path(ctx, path, sizeof(path), err));
	WD_TRY(crypto_key_to_pem(ctx->server_key, &key_pem, err));
	key_len = strlen(key_pem);
	text = malloc(chain_len + key_len + 1);
	if (!text) {
		rc = wd_error_set(err, WD_ENOMEM, "saving %s: out of memory", path);
		goto out;
	}
	memcpy(text, chain_pem, chain_len);
	memcpy(text + chain_len, key_pem, key_len + 1);
	rc = wd_file_write_atomic(path, text, chain_len + key_len, 0600, err);
out:
	wd_free_secret_str(text);
	wd_free_secret_str(key_pem);
	return rc;
}

/* Splits the file's text at the key block and checks that the leaf is
 * current and belongs to the key. */
static int parse_saved(const char *path, const char *text, int64_t now, char **ret_chain,
	EVP_PKEY **ret_key, int64_t *ret_not_after, struct wd_error *err)
{
	const char *marker = strstr(text, KEY_MARKER);
	STACK_OF(X509) *chain = NULL;
	EVP_PKEY *key = NULL;
	char *chain_pem = NULL;
	int64_t not_after = 0;
	size_t chain_len;
	int rc;

	if (!marker)
		return wd_error_set(err, WD_ECORRUPT, "%s holds no private key", path);
	chain_len = (size_t)(marker - text);
	WD_GUARD(crypto_x509_chain_from_pem(text, chain_len, SERVING_CHAIN_MAX, &chain, err));
	WD_GUARD(crypto_key_from_pem(marker, strlen(marker), &key, err));
	if (crypto_x509_not_after(sk_X509_value(chain, 0), &not_after) < 0) {
		rc = wd_error_set(err, WD_ECORRUPT, "the certificate in %s has an invalid notAfter",
			path);
		goto out;
	}
	if (now >= not_after) {
		rc = wd_error_set(err, WD_EEXPIRED, "the certificate in %s expired at %" PRId64,
			path, not_after);
		goto out;
	}
	if (X509_check_private_key(sk_X509_value(chain, 0), key) != 1) {
		ERR_clear_error();
		rc = wd_error_set(err, WD_ECORRUPT, "the certificate in %s does not match its key",
			path);
		goto out;
	}
	chain_pem = wd_strndup(text, chain_len);
	WD_ENSURE(chain_pem, WD_ENOMEM);

	*ret_chain = WD_TAKE_PTR(chain_pem);
	*ret_key = WD_TAKE_PTR(key);
	*ret_not_after = not_after;
	rc = 0;
out:
	if (rc == WD_ENOMEM)
		wd_error_set(err, rc, "loading %s: out of memory", path);
	sk_X509_pop_free(chain, X509_free);
	EVP_PKEY_free(key);
	return rc;
}

int server_serving_load(struct server_ctx *ctx, int64_t now, char **ret_chain_pem,
	int64_t *ret_not_after, struct wd_error *err)
{
	char path[PATH_MAX];
	uint8_t *data = NULL;
	size_t len = 0;
	EVP_PKEY *key = NULL;
	int rc;

	*ret_chain_pem = NULL;
	*ret_not_after = 0;
	WD_TRY(serving_path(ctx, path, sizeof(path), err));
	WD_TRY(wd_file_check_private(path, err));
	WD_TRY(wd_file_read(path, SERVING_FILE_MAX, &data, &len, err));
	rc = parse_saved(path, (const char *)data, now, ret_chain_pem, &key, ret_not_after, err);
	wd_free_secret(data, len + 1);
	if (rc < 0)
		return rc;

	EVP_PKEY_free(ctx->server_key);
	ctx->server_key = key;
	return 0;
}

/* A self-signed certificate for the server's key, which no client trusts:
 * it only lets the TLS listeners open. */
int server_serving_placeholder(struct server_ctx *ctx, int64_t now, char **ret_chain_pem,
	struct wd_error *err)
{
	X509 *cert = X509_new();
	X509_NAME *name = NULL;
	int rc;

	*ret_chain_pem = NULL;
	WD_ENSURE(cert, WD_ENOMEM);
	WD_ENSURE(X509_set_version(cert, X509_VERSION_3) == 1, WD_ECRYPTO);
	WD_GUARD(crypto_x509_set_random_serial(cert));
	name = X509_get_subject_name(cert);
	WD_ENSURE(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
		(const unsigned char *)"warden server, CA keys sealed", -1, -1, 0) == 1,
		WD_ECRYPTO);
	WD_ENSURE(X509_set_issuer_name(cert, name) == 1, WD_ECRYPTO);
	WD_ENSURE(X509_time_adj_ex(X509_getm_notBefore(cert), 0, 0, &(time_t){ (time_t)now }),
		WD_ECRYPTO);
	WD_ENSURE(X509_time_adj_ex(X509_getm_notAfter(cert), 0, PLACEHOLDER_TTL,
		&(time_t){ (time_t)now }), WD_ECRYPTO);
	WD_ENSURE(X509_set_pubkey(cert, ctx->server_key) == 1, WD_ECRYPTO);
	WD_ENSURE(X509_sign(cert, ctx->server_key, crypto_key_signing_digest(ctx->server_key)) > 0,
		WD_ECRYPTO);
	WD_GUARD(crypto_x509_to_pem(cert, ret_chain_pem));
	rc = 0;
out:
	if (rc < 0)
		wd_error_set(err, rc, "making the placeholder serving certificate failed");
	ERR_clear_error();
	X509_free(cert);
	return rc;
}
