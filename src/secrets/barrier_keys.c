/* The barrier's keys in memory: locked pages for key material, and the
 * keyring of data-key terms with its binary form stored at core/keyring. */
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/random.h"
#include "secrets/barrier_private.h"

/* Bytes of one encoded term and of the keyring header. */
#define TERM_ENCODED_LEN (4 + 8 + BARRIER_KEY_LEN)
#define KEYRING_HEADER_LEN (1 + 4 + 4)
#define KEYRING_FORMAT 1

void *barrier_secure_alloc(size_t len)
{
	void *p;

	if (len == 0)
		return NULL;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;

	/* Best effort: without CAP_IPC_LOCK, RLIMIT_MEMLOCK may be too small,
	 * and the server's lock_memory option covers the whole process. */
	(void)mlock(p, len);
	(void)madvise(p, len, MADV_DONTDUMP);
	return p;
}

void barrier_secure_free(void *p, size_t len)
{
	if (!p)
		return;
	OPENSSL_cleanse(p, len);
	(void)munlock(p, len);
	(void)munmap(p, len);
}

/* Maps a keyring with room for count terms. */
static struct barrier_keyring *keyring_alloc(size_t count)
{
	struct barrier_keyring *keyring;
	size_t len = sizeof(*keyring) + count * sizeof(keyring->terms[0]);

	/* count is at most BARRIER_MAX_TERMS, so len cannot overflow. */
	keyring = barrier_secure_alloc(len);
	if (!keyring)
		return NULL;
	keyring->mapped_len = len;
	return keyring;
}

void barrier_keyring_free(struct barrier_keyring *keyring)
{
	if (!keyring)
		return;
	barrier_secure_free(keyring, keyring->mapped_len);
}

int barrier_keyring_create(const uint8_t root_key[static BARRIER_KEY_LEN],
	struct barrier_keyring **ret_keyring, struct wd_error *err)
{
	struct barrier_keyring *keyring = keyring_alloc(1);
	int rc;

	*ret_keyring = NULL;
	if (!keyring)
		return wd_error_set(err, WD_ENOMEM, "allocating the keyring failed");
	memcpy(keyring->root_key, root_key, BARRIER_KEY_LEN);
	keyring->active_term = 1;
	keyring->count = 1;
	keyring->terms[0].term = 1;
	keyring->terms[0].install_time = (int64_t)time(NULL);
	rc = wd_random_bytes(keyring->terms[0].key, BARRIER_KEY_LEN);
	if (rc < 0) {
		barrier_keyring_free(keyring);
		return wd_error_set(err, rc, "generating the first data key failed");
	}
	*ret_keyring = keyring;
	return 0;
}

const struct barrier_term *barrier_keyring_term(const struct barrier_keyring *keyring,
	uint32_t term)
{
	for (size_t i = 0; i < keyring->count; i++) {
		if (keyring->terms[i].term == term)
			return &keyring->terms[i];
	}
	return NULL;
}

static void put_be(uint8_t *out, uint64_t value, size_t bytes)
{
	for (size_t i = 0; i < bytes; i++)
		out[i] = (uint8_t)(value >> (8 * (bytes - 1 - i)));
}

int barrier_keyring_encode(const struct barrier_keyring *keyring, uint8_t **ret_data,
	size_t *ret_len)
{
	size_t len = KEYRING_HEADER_LEN + keyring->count * TERM_ENCODED_LEN;
	uint8_t *data = malloc(len);
	uint8_t *p;

	*ret_data = NULL;
	*ret_len = 0;
	if (!data)
		return WD_ENOMEM;
	data[0] = KEYRING_FORMAT;
	put_be(data + 1, keyring->active_term, 4);
	put_be(data + 5, keyring->count, 4);
	p = data + KEYRING_HEADER_LEN;
	for (size_t i = 0; i < keyring->count; i++) {
		put_be(p, keyring->terms[i].term, 4);
		put_be(p + 4, (uint64_t)keyring->terms[i].install_time, 8);
		memcpy(p + 12, keyring->terms[i].key, BARRIER_KEY_LEN);
		p += TERM_ENCODED_LEN;
	}
	*ret_data = data;
	*ret_len = len;
	return 0;
}

int barrier_keyring_decode(const uint8_t root_key[static BARRIER_KEY_LEN], const uint8_t *data,
	size_t len, struct barrier_keyring **ret_keyring, struct wd_error *err)
{
	struct barrier_keyring *keyring = NULL;
	struct wd_cursor cursor;
	uint8_t format;
	uint32_t active_term;
	uint32_t count;
	bool active_found = false;
	int rc = 0;

	*ret_keyring = NULL;
	wd_cursor_init(&cursor, data, len);
	WD_GUARD(wd_cursor_read_u8(&cursor, &format));
	WD_GUARD(wd_cursor_read_u32be(&cursor, &active_term));
	WD_GUARD(wd_cursor_read_u32be(&cursor, &count));
	if (format != KEYRING_FORMAT)
		return wd_error_set(err, WD_ECORRUPT, "keyring has format %u, expected %d", format,
			KEYRING_FORMAT);
	if (count == 0 || count > BARRIER_MAX_TERMS)
		return wd_error_set(err, WD_ECORRUPT, "keyring has %u terms, expected 1 to %u", count,
			BARRIER_MAX_TERMS);
	if (wd_cursor_remaining(&cursor) != (size_t)count * TERM_ENCODED_LEN)
		return wd_error_set(err, WD_ECORRUPT, "keyring of %u terms has %zu bytes of terms",
			count, wd_cursor_remaining(&cursor));

	keyring = keyring_alloc(count);
	if (!keyring)
		return wd_error_set(err, WD_ENOMEM, "allocating the keyring failed");
	memcpy(keyring->root_key, root_key, BARRIER_KEY_LEN);
	keyring->active_term = active_term;
	keyring->count = count;
	for (uint32_t i = 0; i < count; i++) {
		struct barrier_term *term = &keyring->terms[i];
		uint32_t time_high;
		uint32_t time_low;

		WD_GUARD(wd_cursor_read_u32be(&cursor, &term->term));
		WD_GUARD(wd_cursor_read_u32be(&cursor, &time_high));
		WD_GUARD(wd_cursor_read_u32be(&cursor, &time_low));
		WD_GUARD(wd_cursor_read_bytes(&cursor, term->key, BARRIER_KEY_LEN));
		term->install_time = (int64_t)((uint64_t)time_high << 32 | time_low);

		/* Ascending terms make a lookup unambiguous; term 0 marks the
		 * envelopes of the root key and keyring, never data. */
		if (term->term == BARRIER_TERM_NONE || (i > 0 && term->term <= keyring->terms[i - 1].term)) {
			rc = wd_error_set(err, WD_ECORRUPT, "keyring term %u is out of order", term->term);
			goto out;
		}
		if (term->term == active_term)
			active_found = true;
	}
	if (!active_found) {
		rc = wd_error_set(err, WD_ECORRUPT, "keyring's active term %u has no key", active_term);
		goto out;
	}
	*ret_keyring = WD_TAKE_PTR(keyring);

out:
	barrier_keyring_free(keyring);
	if (rc == WD_ETRUNCATED)
		rc = wd_error_set(err, WD_ECORRUPT, "keyring of %zu bytes is truncated", len);
	return rc;
}
