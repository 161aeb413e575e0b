/* The io.jwt builtins' per-thread cache of PEM public keys: the same text
 * gives the same parsed key, other text a different one, and another
 * thread parses its own. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "policy/bi_jwt_key.h"

static char *public_pem(EVP_PKEY *key)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL;
	char *copy;
	long len;

	assert_non_null(bio);
	assert_int_equal(PEM_write_bio_PUBKEY(bio, key), 1);
	len = BIO_get_mem_data(bio, &data);
	copy = strndup(data, (size_t)len);
	BIO_free(bio);
	return copy;
}

static EVP_PKEY *load_one(const char *pem)
{
	struct jwt_keyset keys;
	char err[256];
	EVP_PKEY *pkey;

	assert_int_equal(jwt_keys_load(pem, strlen(pem), &keys, err, sizeof(err)), 0);
	assert_int_equal(keys.count, 1);
	pkey = keys.keys[0].pkey;
	assert_int_equal(EVP_PKEY_up_ref(pkey), 1);
	jwt_keyset_free(&keys);
	return pkey;
}

static void *load_in_thread(void *arg)
{
	return load_one(arg);
}

static void same_text_same_key(void **state)
{
	EVP_PKEY *a = EVP_EC_gen("P-256");
	EVP_PKEY *b = EVP_EC_gen("P-256");
	char *pem_a = public_pem(a);
	char *pem_b = public_pem(b);
	EVP_PKEY *first, *second, *other, *threaded;
	pthread_t thread;
	void *result = NULL;

	(void)state;
	first = load_one(pem_a);
	second = load_one(pem_a);
	assert_ptr_equal(first, second);
	assert_int_equal(EVP_PKEY_eq(first, a), 1);

	other = load_one(pem_b);
	assert_ptr_not_equal(other, first);
	assert_int_equal(EVP_PKEY_eq(other, b), 1);

	/* Each thread keeps its own cache, so no key is shared across
	 * threads. */
	assert_int_equal(pthread_create(&thread, NULL, load_in_thread, pem_a), 0);
	assert_int_equal(pthread_join(thread, &result), 0);
	threaded = result;
	assert_ptr_not_equal(threaded, first);
	assert_int_equal(EVP_PKEY_eq(threaded, a), 1);

	EVP_PKEY_free(first);
	EVP_PKEY_free(second);
	EVP_PKEY_free(other);
	EVP_PKEY_free(threaded);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
	free(pem_a);
	free(pem_b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(same_text_same_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
