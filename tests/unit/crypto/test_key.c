/* Unit tests for private keys: generation of each type, PEM and file round
 * trips, file modes, and hostile PEM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "common/alloc.h"
#include "crypto/key.h"

static char tmp_dir[64];

static int make_tmp_dir(void **state)
{
	(void)state;
	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/test_key.XXXXXX");
	return mkdtemp(tmp_dir) ? 0 : -1;
}

static int remove_tmp_dir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void key_type_names(void **state)
{
	enum crypto_key_type type;
	struct wd_error err;

	(void)state;
	assert_int_equal(crypto_key_type_parse("ec-p256", &type, &err), 0);
	assert_int_equal(type, CRYPTO_KEY_EC_P256);
	assert_int_equal(crypto_key_type_parse("ec-p384", &type, &err), 0);
	assert_int_equal(type, CRYPTO_KEY_EC_P384);
	assert_int_equal(crypto_key_type_parse("rsa-2048", &type, &err), 0);
	assert_int_equal(type, CRYPTO_KEY_RSA_2048);
	assert_string_equal(crypto_key_type_name(CRYPTO_KEY_EC_P384), "ec-p384");
	assert_string_equal(crypto_key_type_name((enum crypto_key_type)99), "unknown");

	assert_int_equal(crypto_key_type_parse("rsa-4096", &type, &err), WD_EINVAL);
	assert_string_equal(err.detail,
		"invalid key type \"rsa-4096\": expected ec-p256, ec-p384 or rsa-2048");
	assert_int_equal(crypto_key_type_parse("EC-P256", &type, &err), WD_EINVAL);
	assert_int_equal(crypto_key_type_parse("", &type, &err), WD_EINVAL);
	assert_int_equal(crypto_key_type_parse(NULL, &type, &err), WD_EINVAL);
}

/* Generates a key of type, checks its parameters, and round-trips it
 * through PEM and a file. */
static void check_round_trip(enum crypto_key_type type, int base_id, int bits)
{
	char path[128];
	struct stat st;
	struct wd_error err;
	enum crypto_key_type got;
	EVP_PKEY *key = NULL;
	EVP_PKEY *parsed = NULL;
	EVP_PKEY *loaded = NULL;
	char *pem = NULL;
	char *pub = NULL;

	assert_int_equal(crypto_key_generate(type, &key, &err), 0);
	assert_int_equal(EVP_PKEY_get_base_id(key), base_id);
	assert_int_equal(EVP_PKEY_get_bits(key), bits);
	assert_int_equal(crypto_key_type_of(key, &got), 0);
	assert_int_equal(got, type);

	assert_int_equal(crypto_key_to_pem(key, &pem, &err), 0);
	assert_true(strncmp(pem, "-----BEGIN PRIVATE KEY-----\n", 28) == 0);
	assert_int_equal(crypto_key_from_pem(pem, strlen(pem), &parsed, &err), 0);
	assert_int_equal(EVP_PKEY_eq(key, parsed), 1);

	assert_int_equal(crypto_pubkey_to_pem(key, &pub, &err), 0);
	assert_true(strncmp(pub, "-----BEGIN PUBLIC KEY-----\n", 27) == 0);
	/* A public key is not a private key. */
	assert_int_equal(crypto_key_from_pem(pub, strlen(pub), &loaded, &err), WD_EINVAL);
	assert_null(loaded);

	snprintf(path, sizeof(path), "%s/%s.pem", tmp_dir, crypto_key_type_name(type));
	assert_int_equal(crypto_key_save(key, path, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(crypto_key_load(path, &loaded, &err), 0);
	assert_int_equal(EVP_PKEY_eq(key, loaded), 1);
	EVP_PKEY_free(loaded);

	/* Saving again replaces the file and keeps the mode. */
	assert_int_equal(crypto_key_save(parsed, path, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	unlink(path);

	wd_free_secret_str(pem);
	free(pub);
	EVP_PKEY_free(key);
	EVP_PKEY_free(parsed);
}

static void key_round_trip_ec_p256(void **state)
{
	(void)state;
	check_round_trip(CRYPTO_KEY_EC_P256, EVP_PKEY_EC, 256);
}

static void key_round_trip_ec_p384(void **state)
{
	(void)state;
	check_round_trip(CRYPTO_KEY_EC_P384, EVP_PKEY_EC, 384);
}

static void key_round_trip_rsa_2048(void **state)
{
	(void)state;
	check_round_trip(CRYPTO_KEY_RSA_2048, EVP_PKEY_RSA, 2048);
}

static void key_signing_digest(void **state)
{
	EVP_PKEY *p256 = NULL;
	EVP_PKEY *p384 = NULL;

	(void)state;
	assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC_P256, &p256, NULL), 0);
	assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC_P384, &p384, NULL), 0);
	assert_ptr_equal(crypto_key_signing_digest(p256), EVP_sha256());
	assert_ptr_equal(crypto_key_signing_digest(p384), EVP_sha384());
	EVP_PKEY_free(p256);
	EVP_PKEY_free(p384);
}

static void key_type_of_unsupported(void **state)
{
	EVP_PKEY *p521 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	enum crypto_key_type type;

	(void)state;
	assert_int_equal(crypto_key_type_of(p521, &type), WD_EUNSUPPORTED);
	assert_int_equal(crypto_key_type_of(ed, &type), WD_EUNSUPPORTED);
	assert_int_equal(crypto_key_type_of(NULL, &type), WD_EINVAL);
	EVP_PKEY_free(p521);
	EVP_PKEY_free(ed);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void key_load_rejects_open_modes(void **state)
{
	char path[128];
	struct wd_error err;
	EVP_PKEY *key = NULL;
	EVP_PKEY *loaded = (EVP_PKEY *)1;
	char *pem = NULL;

	(void)state;
	assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC_P256, &key, &err), 0);
	assert_int_equal(crypto_key_to_pem(key, &pem, &err), 0);
	snprintf(path, sizeof(path), "%s/open.pem", tmp_dir);

	write_file(path, pem, 0644);
	assert_int_equal(crypto_key_load(path, &loaded, &err), WD_EPERM);
	assert_null(loaded);
	assert_non_null(strstr(err.detail, "has mode 0644 and is accessible by group or others"));
	assert_non_null(strstr(err.detail, "chmod 600"));

	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(crypto_key_load(path, &loaded, &err), WD_EPERM);
	assert_int_equal(chmod(path, 0602), 0);
	assert_int_equal(crypto_key_load(path, &loaded, &err), WD_EPERM);
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(crypto_key_load(path, &loaded, &err), 0);
	assert_int_equal(EVP_PKEY_eq(key, loaded), 1);
	EVP_PKEY_free(loaded);
	unlink(path);

	wd_free_secret_str(pem);
	EVP_PKEY_free(key);
}

static void key_load_rejects_foreign_owner(void **state)
{
	char path[128];
	struct wd_error err;
	EVP_PKEY *key = NULL;
	EVP_PKEY *loaded = NULL;
	char *pem = NULL;

	(void)state;
	if (geteuid() != 0) {
		print_message("SKIP: changing a file's owner needs root\n");
		skip();
	}
	assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC_P256, &key, &err), 0);
	assert_int_equal(crypto_key_to_pem(key, &pem, &err), 0);
	snprintf(path, sizeof(path), "%s/foreign.pem", tmp_dir);
	write_file(path, pem, 0600);
	assert_int_equal(chown(path, 65534, 65534), 0);

	assert_int_equal(crypto_key_load(path, &loaded, &err), WD_EPERM);
	assert_null(loaded);
	assert_non_null(strstr(err.detail, "is owned by uid 65534"));

	unlink(path);
	wd_free_secret_str(pem);
	EVP_PKEY_free(key);
}

static void key_load_rejects_bad_files(void **state)
{
	char path[128];
	struct wd_error err;
	EVP_PKEY *loaded = NULL;
	char *big;

	(void)state;
	snprintf(path, sizeof(path), "%s/missing.pem", tmp_dir);
	assert_int_equal(crypto_key_load(path, &loaded, &err), WD_ENOTFOUND);

	assert_int_equal(crypto_key_load(tmp_dir, &loaded, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "is not a regular file"));

	snprintf(path, sizeof(path), "%s/garbage.pem", tmp_dir);
	write_file(path, "-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n",
		0600);
	assert_int_equal(crypto_key_load(path, &loaded, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "garbage.pem"));
	assert_null(loaded);

	big = malloc(70000);
	assert_non_null(big);
	memset(big, 'A', 69999);
	big[69999] = '\0';
	write_file(path, big, 0600);
	assert_int_equal(crypto_key_load(path, &loaded, &err), WD_ETOOBIG);
	assert_int_equal(crypto_key_from_pem(big, 69999, &loaded, &err), WD_ETOOBIG);
	free(big);
	unlink(path);
}

static void key_from_pem_hostile(void **state)
{
	static const char encrypted[] =
		"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n";
	struct wd_error err;
	EVP_PKEY *key = NULL;

	(void)state;
	assert_int_equal(crypto_key_from_pem("", 0, &key, &err), WD_EINVAL);
	assert_int_equal(crypto_key_from_pem("garbage", 7, &key, &err), WD_EINVAL);
	assert_int_equal(crypto_key_from_pem(encrypted, strlen(encrypted), &key, &err),
		WD_EINVAL);
	assert_null(key);
	assert_int_equal(crypto_key_from_pem(NULL, 3, &key, &err), WD_EINVAL);
}

static void key_save_fails_cleanly(void **state)
{
	struct wd_error err;
	EVP_PKEY *key = NULL;
	char path[128];

	(void)state;
	assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC_P256, &key, &err), 0);
	snprintf(path, sizeof(path), "%s/no/such/dir/key.pem", tmp_dir);
	assert_int_equal(crypto_key_save(key, path, &err), WD_EIO);
	assert_non_null(strstr(err.detail, "creating a temporary file"));
	EVP_PKEY_free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(key_type_names),
		cmocka_unit_test(key_round_trip_ec_p256),
		cmocka_unit_test(key_round_trip_ec_p384),
		cmocka_unit_test(key_round_trip_rsa_2048),
		cmocka_unit_test(key_signing_digest),
		cmocka_unit_test(key_type_of_unsupported),
		cmocka_unit_test(key_load_rejects_open_modes),
		cmocka_unit_test(key_load_rejects_foreign_owner),
		cmocka_unit_test(key_load_rejects_bad_files),
		cmocka_unit_test(key_from_pem_hostile),
		cmocka_unit_test(key_save_fails_cleanly),
	};

	return cmocka_run_group_tests(tests, make_tmp_dir, remove_tmp_dir);
}
