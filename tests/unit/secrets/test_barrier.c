/* The encrypted barrier on a temporary SQLite store: init, unseal and seal,
 * values and lists, tampered rows, wrong shares and a reopen from disk. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "common/error.h"
#include "secrets/barrier.h"
#include "store/store.h"
#include "../store/test_datastore.h"

/* Bytes before the ciphertext in an envelope: term, version, nonce. */
#define ENVELOPE_HEADER_LEN 17

struct fixture {
	char dir[64];
	char path[128];
	struct store *store;
	struct barrier *barrier;
	uint8_t **shares;
	unsigned share_count;
};

static void open_store_and_barrier(struct fixture *f)
{
	struct wd_error err;
	int rc = store_open(f->path, NULL, &f->store, &err);

	if (rc < 0)
		fprintf(stderr, "store_open: %s\n", wd_error_text(&err));
	assert_int_equal(rc, 0);
	rc = barrier_open(f->store, &f->barrier, &err);
	if (rc < 0)
		fprintf(stderr, "barrier_open: %s\n", wd_error_text(&err));
	assert_int_equal(rc, 0);
}

static void close_store_and_barrier(struct fixture *f)
{
	barrier_free(f->barrier);
	f->barrier = NULL;
	store_close(f->store);
	f->store = NULL;
}

static int setup(void **state)
{
	struct fixture *f = wd_calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/wd-barrier-test-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	test_datastore_setup(f->path, sizeof(f->path), f->dir, "test.db");
	open_store_and_barrier(f);
	*state = f;
	return 0;
}

static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *entry;
	char path[512];

	if (!d)
		return;
	while ((entry = readdir(d))) {
		if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, entry->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	barrier_shares_free(f->shares, f->share_count);
	close_store_and_barrier(f);
	remove_dir(f->dir);
	free(f);
	return 0;
}

static void init_ok(struct fixture *f, unsigned shares, unsigned threshold)
{
	struct wd_error err;
	int rc = barrier_init(f->barrier, shares, threshold, &f->shares, &err);

	if (rc < 0)
		fprintf(stderr, "barrier_init: %s\n", wd_error_text(&err));
	assert_int_equal(rc, 0);
	assert_non_null(f->shares);
	f->share_count = shares;
}

/* Submits share i and returns whether the barrier opened. */
static bool unseal_share(struct fixture *f, unsigned i)
{
	struct wd_error err;
	bool unsealed = true;
	int rc = barrier_unseal(f->barrier, f->shares[i], BARRIER_SHARE_LEN, false, &unsealed, &err);

	if (rc < 0)
		fprintf(stderr, "barrier_unseal: %s\n", wd_error_text(&err));
	assert_int_equal(rc, 0);
	return unsealed;
}

/* Initializes with 5 shares and a threshold of 3, then unseals with
 * shares 0, 2 and 4. */
static void init_and_unseal(struct fixture *f)
{
	init_ok(f, 5, 3);
	assert_false(unseal_share(f, 0));
	assert_false(unseal_share(f, 2));
	assert_true(unseal_share(f, 4));
	assert_false(barrier_sealed(f->barrier));
}

static void put_ok(struct fixture *f, const char *path, const char *value)
{
	struct wd_error err;
	int rc = barrier_put(f->barrier, path, value, strlen(value), &err);

	if (rc < 0)
		fprintf(stderr, "barrier_put %s: %s\n", path, wd_error_text(&err));
	assert_int_equal(rc, 0);
}

static void assert_get(struct fixture *f, const char *path, const char *expected)
{
	struct wd_error err;
	uint8_t *value = NULL;
	size_t len = 0;
	int rc = barrier_get(f->barrier, path, &value, &len, &err);

	if (rc < 0)
		fprintf(stderr, "barrier_get %s: %s\n", path, wd_error_text(&err));
	assert_int_equal(rc, 0);
	assert_int_equal(len, strlen(expected));
	assert_memory_equal(value, expected, len);
	assert_int_equal(value[len], '\0');
	barrier_value_free(value, len);
}

static int get_code(struct fixture *f, const char *path, struct wd_error *err)
{
	uint8_t *value = NULL;
	size_t len = 0;
	int rc = barrier_get(f->barrier, path, &value, &len, err);

	if (rc == 0)
		barrier_value_free(value, len);
	else
		assert_null(value);
	return rc;
}

/* Raw rows of secrets_barrier, read and written past the barrier. */
struct raw_row {
	uint8_t data[4096];
	size_t len;
	bool found;
};

static int raw_row_collect(void *context, const struct store_row *row)
{
	struct raw_row *raw = context;
	size_t len = 0;
	const void *blob = store_row_blob(row, 0, &len);

	assert_true(len <= sizeof(raw->data));
	memcpy(raw->data, blob, len);
	raw->len = len;
	raw->found = true;
	return 0;
}

static struct raw_row raw_read(struct fixture *f, const char *path)
{
	struct store_value params[] = { STORE_TEXT_VALUE(path) };
	struct raw_row raw = { .found = false };
	struct wd_error err;

	assert_int_equal(store_query(f->store, "SELECT value FROM secrets_barrier WHERE path = $1",
		params, 1, raw_row_collect, &raw, &err), 0);
	return raw;
}

static void raw_write(struct fixture *f, const char *path, const uint8_t *data, size_t len)
{
	struct store_value params[] = { STORE_TEXT_VALUE(path), STORE_BLOB_VALUE(data, len) };
	struct wd_error err;

	assert_int_equal(store_exec(f->store,
		"INSERT INTO secrets_barrier (path, value) VALUES ($1, $2)"
		" ON CONFLICT (path) DO UPDATE SET value = excluded.value",
		params, 2, NULL, &err), 0);
}

/* Names a list call produced, joined with commas. */
struct names {
	char text[1024];
	int stop_after;   /* return WD_ECONFLICT after this many; 0 never */
	int count;
};

static int names_collect(void *context, const char *rest)
{
	struct names *names = context;

	if (names->text[0])
		strncat(names->text, ",", sizeof(names->text) - strlen(names->text) - 1);
	strncat(names->text, rest, sizeof(names->text) - strlen(names->text) - 1);
	names->count++;
	if (names->stop_after && names->count >= names->stop_after)
		return WD_ECONFLICT;
	return 0;
}

static void assert_list(struct fixture *f, const char *prefix, bool children_only,
	const char *expected)
{
	struct names names = { .text = "" };
	struct wd_error err;
	int rc = barrier_list(f->barrier, prefix, children_only, names_collect, &names, &err);

	if (rc < 0)
		fprintf(stderr, "barrier_list %s: %s\n", prefix, wd_error_text(&err));
	assert_int_equal(rc, 0);
	assert_string_equal(names.text, expected);
}

static void test_open_uninitialized(void **state)
{
	struct fixture *f = *state;
	struct barrier_status status;
	struct wd_error err;
	bool unsealed = true;

	barrier_status(f->barrier, &status);
	assert_false(status.initialized);
	assert_true(status.sealed);
	assert_int_equal(status.threshold, 0);
	assert_int_equal(status.shares, 0);
	assert_int_equal(status.progress, 0);
	assert_string_equal(status.nonce, "");
	assert_true(barrier_sealed(f->barrier));

	assert_int_equal(barrier_unseal(f->barrier, (const uint8_t *)"x", 1, false, &unsealed, &err),
		WD_ECONFLICT);
	assert_false(unsealed);
	assert_string_equal(wd_error_text(&err), "Vault is not initialized");
}

static void test_init_unseal_seal(void **state)
{
	struct fixture *f = *state;
	struct barrier_status status;
	struct wd_error err;
	uint8_t **again = NULL;
	char first_nonce[37];

	init_ok(f, 5, 3);
	barrier_status(f->barrier, &status);
	assert_true(status.initialized);
	assert_true(status.sealed);
	assert_int_equal(status.shares, 5);
	assert_int_equal(status.threshold, 3);
	assert_int_equal(status.progress, 0);

	/* Distinct shares with distinct x-coordinates. */
	for (unsigned i = 0; i < 5; i++) {
		for (unsigned j = 0; j < i; j++) {
			assert_memory_not_equal(f->shares[i], f->shares[j], BARRIER_SHARE_LEN);
			assert_int_not_equal(f->shares[i][BARRIER_KEY_LEN], f->shares[j][BARRIER_KEY_LEN]);
		}
	}

	assert_int_equal(barrier_init(f->barrier, 5, 3, &again, &err), WD_EEXIST);
	assert_null(again);
	assert_string_equal(wd_error_text(&err), "Vault is already initialized");

	assert_false(unseal_share(f, 1));
	barrier_status(f->barrier, &status);
	assert_int_equal(status.progress, 1);
	assert_int_equal(strlen(status.nonce), 36);
	memcpy(first_nonce, status.nonce, sizeof(first_nonce));

	assert_false(unseal_share(f, 3));
	barrier_status(f->barrier, &status);
	assert_int_equal(status.progress, 2);
	assert_string_equal(status.nonce, first_nonce);

	assert_true(unseal_share(f, 0));
	barrier_status(f->barrier, &status);
	assert_false(status.sealed);
	assert_int_equal(status.progress, 0);
	assert_string_equal(status.nonce, "");

	/* A share sent while unsealed changes nothing. */
	assert_false(unseal_share(f, 2));
	assert_false(barrier_sealed(f->barrier));

	put_ok(f, "app/config", "{\"a\":1}");
	barrier_seal(f->barrier);
	assert_true(barrier_sealed(f->barrier));

	/* Any other three shares open it again, and the value is still there. */
	assert_false(unseal_share(f, 4));
	assert_false(unseal_share(f, 2));
	assert_true(unseal_share(f, 1));
	assert_get(f, "app/config", "{\"a\":1}");
}

static void test_init_rejects_counts(void **state)
{
	struct fixture *f = *state;
	struct barrier_status status;
	struct wd_error err;
	uint8_t **shares = NULL;

	assert_int_equal(barrier_init(f->barrier, 2, 3, &shares, &err), WD_EINVAL);
	assert_string_equal(wd_error_text(&err), "secret_threshold 3 is above secret_shares 2");
	assert_int_equal(barrier_init(f->barrier, 0, 0, &shares, &err), WD_EINVAL);
	assert_string_equal(wd_error_text(&err), "secret_shares 0 must be at least 1");
	assert_int_equal(barrier_init(f->barrier, 3, 0, &shares, &err), WD_EINVAL);
	assert_string_equal(wd_error_text(&err), "secret_threshold 0 must be at least 1");
	assert_int_equal(barrier_init(f->barrier, 256, 3, &shares, &err), WD_EINVAL);
	assert_string_equal(wd_error_text(&err), "secret_shares 256 is above the maximum of 255");
	assert_int_equal(barrier_init(f->barrier, 3, 1, &shares, &err), WD_EINVAL);
	assert_non_null(strstr(wd_error_text(&err), "secret_threshold 1 needs secret_shares 1, not 3"));
	assert_null(shares);

	barrier_status(f->barrier, &status);
	assert_false(status.initialized);
}

static void test_values_round_trip(void **state)
{
	struct fixture *f = *state;
	struct wd_error err;
	uint8_t binary[300];
	uint8_t *value = NULL;
	size_t len = 0;
	struct raw_row raw;

	init_and_unseal(f);
	put_ok(f, "logical/kv/a", "first");
	assert_get(f, "logical/kv/a", "first");
	put_ok(f, "logical/kv/a", "second, longer than the first");
	assert_get(f, "logical/kv/a", "second, longer than the first");

	/* Binary values with NUL bytes, and an empty value. */
	for (size_t i = 0; i < sizeof(binary); i++)
		binary[i] = (uint8_t)i;
	assert_int_equal(barrier_put(f->barrier, "bin", binary, sizeof(binary), &err), 0);
	assert_int_equal(barrier_get(f->barrier, "bin", &value, &len, &err), 0);
	assert_int_equal(len, sizeof(binary));
	assert_memory_equal(value, binary, sizeof(binary));
	barrier_value_free(value, len);
	put_ok(f, "empty", "");
	assert_get(f, "empty", "");

	/* The stored row is an envelope: term 1, version 2, and no plaintext. */
	raw = raw_read(f, "logical/kv/a");
	assert_true(raw.found);
	assert_int_equal(raw.len, ENVELOPE_HEADER_LEN + strlen("second, longer than the first") + 16);
	assert_int_equal(raw.data[0], 0);
	assert_int_equal(raw.data[1], 0);
	assert_int_equal(raw.data[2], 0);
	assert_int_equal(raw.data[3], 1);
	assert_int_equal(raw.data[4], 2);
	assert_null(memmem(raw.data, raw.len, "second", 6));

	/* Delete, then a missing path is ENOTFOUND and deleting it again is
	 * no error. */
	assert_int_equal(barrier_delete(f->barrier, "logical/kv/a", &err), 0);
	assert_int_equal(get_code(f, "logical/kv/a", &err), WD_ENOTFOUND);
	assert_int_equal(barrier_delete(f->barrier, "logical/kv/a", &err), 0);
	assert_int_equal(get_code(f, "never/written", &err), WD_ENOTFOUND);
}

static void test_json_round_trip(void **state)
{
	struct fixture *f = *state;
	struct wd_error err;
	json_t *in = json_pack("{s:s, s:i, s:[b]}", "name", "web", "ttl", 3600, "flags", 1);
	json_t *out = NULL;
	struct raw_row raw;

	init_and_unseal(f);
	assert_int_equal(barrier_put_json(f->barrier, "core/mounts", in, &err), 0);
	assert_int_equal(barrier_get_json(f->barrier, "core/mounts", &out, &err), 0);
	assert_true(json_equal(in, out));
	json_decref(out);

	/* Stored compact: 40 bytes of JSON in the envelope. */
	raw = raw_read(f, "core/mounts");
	assert_int_equal(raw.len, ENVELOPE_HEADER_LEN + strlen(
		"{\"name\":\"web\",\"ttl\":3600,\"flags\":[true]}") + 16);

	/* Bytes that are not JSON are corruption, with a message that does not
	 * quote them. */
	put_ok(f, "core/broken", "{not json: s3cr3t");
	out = NULL;
	assert_int_equal(barrier_get_json(f->barrier, "core/broken", &out, &err), WD_ECORRUPT);
	assert_null(out);
	assert_null(strstr(wd_error_text(&err), "s3cr3t"));
	json_decref(in);
}

static void test_list(void **state)
{
	struct fixture *f = *state;
	struct names names = { .text = "", .stop_after = 2 };
	struct wd_error err;

	init_and_unseal(f);
	put_ok(f, "a/b", "1");
	put_ok(f, "a/c/d", "2");
	put_ok(f, "a/c/e", "3");
	put_ok(f, "a/c", "4");
	put_ok(f, "a-x", "5");
	put_ok(f, "a.y", "6");
	put_ok(f, "a0", "7");
	put_ok(f, "b", "8");
	put_ok(f, "a%/z", "9");
	put_ok(f, "a_/z", "10");

	/* Vault's List: the next segment once, folders with a trailing '/'. */
	assert_list(f, "a/", true, "b,c,c/");
	assert_list(f, "a/c/", true, "d,e");
	assert_list(f, "", true, "a%/,a-x,a.y,a/,a0,a_/,b");
	assert_list(f, "a/", false, "b,c,c/d,c/e");

	/* LIKE wildcards in a prefix match only themselves. */
	assert_list(f, "a%", true, "/");
	assert_list(f, "a_/", true, "z");
	assert_list(f, "none/", true, "");

	/* A partial prefix lists the rest of each name; the path equal to the
	 * prefix has no rest and is left out. */
	assert_list(f, "a/c", false, "/d,/e");

	/* The key rows are not listed. */
	assert_list(f, "core/", true, "");

	/* A negative callback return stops the list and is returned. */
	assert_int_equal(barrier_list(f->barrier, "a/", true, names_collect, &names, &err),
		WD_ECONFLICT);
	assert_string_equal(names.text, "b,c");
}

static void test_delete_prefix(void **state)
{
	struct fixture *f = *state;
	struct wd_error err;

	init_and_unseal(f);
	put_ok(f, "logical/one/x", "1");
	put_ok(f, "logical/one/y/z", "2");
	put_ok(f, "logical/one-two", "3");
	put_ok(f, "logical/on", "4");
	put_ok(f, "core/mounts", "5");

	assert_int_equal(barrier_delete_prefix(f->barrier, "logical/one/", &err), 0);
	assert_list(f, "logical/", false, "on,one-two");

	/* Even an empty prefix keeps the barrier's own keys. */
	assert_int_equal(barrier_delete_prefix(f->barrier, "", &err), 0);
	assert_list(f, "", false, "");
	assert_true(raw_read(f, "core/keyring").found);
	assert_true(raw_read(f, "core/root-key").found);
	assert_true(raw_read(f, "core/seal-config").found);

	/* So the barrier still unseals after a reopen. */
	close_store_and_barrier(f);
	open_store_and_barrier(f);
	assert_false(unseal_share(f, 1));
	assert_false(unseal_share(f, 2));
	assert_true(unseal_share(f, 3));
}

static void test_reserved_paths(void **state)
{
	struct fixture *f = *state;
	struct wd_error err;
	uint8_t *value = NULL;
	size_t len = 0;
	json_t *object = json_object();

	init_and_unseal(f);
	assert_int_equal(barrier_put(f->barrier, "core/keyring", "x", 1, &err), WD_EPERM);
	assert_string_equal(wd_error_text(&err), "path core/keyring is reserved for the barrier's keys");
	assert_int_equal(barrier_put_json(f->barrier, "core/root-key", object, &err), WD_EPERM);
	assert_int_equal(barrier_get(f->barrier, "core/seal-config", &value, &len, &err), WD_EPERM);
	assert_int_equal(barrier_delete(f->barrier, "core/keyring", &err), WD_EPERM);
	assert_int_equal(barrier_put(f->barrier, "", "x", 1, &err), WD_EINVAL);
	json_decref(object);
}

/* A value copied to another path fails: the path is authenticated data. */
static void test_moved_value_fails(void **state)
{
	struct fixture *f = *state;
	struct wd_error err;
	struct raw_row raw;

	init_and_unseal(f);
	put_ok(f, "logical/kv/admin", "password=hunter2");
	raw = raw_read(f, "logical/kv/admin");
	raw_write(f, "logical/kv/guest", raw.data, raw.len);

	assert_int_equal(get_code(f, "logical/kv/guest", &err), WD_ECORRUPT);
	assert_string_equal(wd_error_text(&err), "value at logical/kv/guest failed authentication");
	assert_get(f, "logical/kv/admin", "password=hunter2");
}

static void test_tampered_value_fails(void **state)
{
	struct fixture *f = *state;
	struct wd_error err;
	struct raw_row raw;
	struct raw_row changed;

	init_and_unseal(f);
	put_ok(f, "v", "attack at dawn");
	raw = raw_read(f, "v");

	/* One flipped bit in the ciphertext, the tag and the nonce. */
	const size_t offsets[] = { ENVELOPE_HEADER_LEN + 3, raw.len - 1, 6 };

	for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		changed = raw;
		changed.data[offsets[i]] ^= 0x01;
		raw_write(f, "v", changed.data, changed.len);
		assert_int_equal(get_code(f, "v", &err), WD_ECORRUPT);
		assert_string_equal(wd_error_text(&err), "value at v failed authentication");
	}

	/* A truncated row, another version byte and an unknown term. */
	raw_write(f, "v", raw.data, 20);
	assert_int_equal(get_code(f, "v", &err), WD_ECORRUPT);
	assert_string_equal(wd_error_text(&err),
		"value at v is 20 bytes, shorter than the 33-byte envelope");
	changed = raw;
	changed.data[4] = 1;
	raw_write(f, "v", changed.data, changed.len);
	assert_int_equal(get_code(f, "v", &err), WD_ECORRUPT);
	assert_string_equal(wd_error_text(&err), "value at v has envelope version 1, expected 2");
	changed = raw;
	changed.data[3] = 7;
	raw_write(f, "v", changed.data, changed.len);
	assert_int_equal(get_code(f, "v", &err), WD_ECORRUPT);
	assert_string_equal(wd_error_text(&err), "value at v uses key term 7, not in the keyring");

	/* The original row still opens. */
	raw_write(f, "v", raw.data, raw.len);
	assert_get(f, "v", "attack at dawn");
}

static void assert_sealed_error(int rc, const struct wd_error *err)
{
	assert_int_equal(rc, WD_EUNAVAILABLE);
	assert_string_equal(wd_error_text(err), "Vault is sealed");
}

static void test_sealed_calls_fail(void **state)
{
	struct fixture *f = *state;
	struct names names = { .text = "" };
	struct wd_error err;
	uint8_t *value = NULL;
	size_t len = 0;
	json_t *object = json_object();
	json_t *out = NULL;

	/* Before init, and after a seal. */
	for (int round = 0; round < 2; round++) {
		assert_sealed_error(barrier_put(f->barrier, "a", "x", 1, &err), &err);
		assert_sealed_error(barrier_get(f->barrier, "a", &value, &len, &err), &err);
		assert_null(value);
		assert_sealed_error(barrier_delete(f->barrier, "a", &err), &err);
		assert_sealed_error(barrier_put_json(f->barrier, "a", object, &err), &err);
		assert_sealed_error(barrier_get_json(f->barrier, "a", &out, &err), &err);
		assert_null(out);
		assert_sealed_error(barrier_list(f->barrier, "", true, names_collect, &names, &err),
			&err);
		assert_sealed_error(barrier_delete_prefix(f->barrier, "", &err), &err);
		assert_int_equal(names.count, 0);

		if (round == 0) {
			init_and_unseal(f);
			put_ok(f, "a", "kept");
			barrier_seal(f->barrier);
		}
	}

	/* Sealing kept the data. */
	assert_false(unseal_share(f, 0));
	assert_false(unseal_share(f, 1));
	assert_true(unseal_share(f, 2));
	assert_get(f, "a", "kept");
	json_decref(object);
}

static void test_wrong_shares_fail(void **state)
{
	struct fixture *f = *state;
	struct barrier_status status;
	struct wd_error err;
	uint8_t forged[BARRIER_SHARE_LEN];
	bool unsealed = true;

	init_ok(f, 5, 3);

	/* Two right shares and a third with a changed byte combine to a wrong
	 * key: ECRYPTO, and the progress starts over. */
	memcpy(forged, f->shares[2], BARRIER_SHARE_LEN);
	forged[0] ^= 0x80;
	assert_false(unseal_share(f, 0));
	assert_false(unseal_share(f, 1));
	assert_int_equal(barrier_unseal(f->barrier, forged, sizeof(forged), false, &unsealed, &err),
		WD_ECRYPTO);
	assert_false(unsealed);
	assert_string_equal(wd_error_text(&err), "Unseal failed, invalid key");
	barrier_status(f->barrier, &status);
	assert_true(status.sealed);
	assert_int_equal(status.progress, 0);
	assert_string_equal(status.nonce, "");

	/* The same share twice is rejected without losing progress. */
	assert_false(unseal_share(f, 3));
	assert_int_equal(barrier_unseal(f->barrier, f->shares[3], BARRIER_SHARE_LEN, false,
		&unsealed, &err), WD_EINVAL);
	barrier_status(f->barrier, &status);
	assert_int_equal(status.progress, 1);

	/* A share of the wrong length. */
	assert_int_equal(barrier_unseal(f->barrier, f->shares[4], BARRIER_KEY_LEN, false, &unsealed,
		&err), WD_EINVAL);
	assert_string_equal(wd_error_text(&err), "unseal key is 32 bytes, expected 33");

	/* reset discards the progress. */
	assert_int_equal(barrier_unseal(f->barrier, NULL, 0, true, &unsealed, &err), 0);
	barrier_status(f->barrier, &status);
	assert_int_equal(status.progress, 0);

	/* The right shares still work afterwards. */
	assert_false(unseal_share(f, 4));
	assert_false(unseal_share(f, 3));
	assert_true(unseal_share(f, 2));
}

/* Shares of another barrier do not open this one. */
static void test_foreign_shares_fail(void **state)
{
	struct fixture *f = *state;
	struct fixture other = { .share_count = 0 };
	struct wd_error err;
	bool unsealed = true;

	init_ok(f, 3, 2);
	snprintf(other.dir, sizeof(other.dir), "/tmp/wd-barrier-test-XXXXXX");
	assert_non_null(mkdtemp(other.dir));
	snprintf(other.path, sizeof(other.path), "%s/test.db", other.dir);
	open_store_and_barrier(&other);
	init_ok(&other, 3, 2);

	/* A foreign share whose x-coordinate differs from share 0's, so the
	 * pair combines (to a wrong key). */
	unsigned foreign = other.shares[0][BARRIER_KEY_LEN] != f->shares[0][BARRIER_KEY_LEN] ? 0 : 1;

	assert_false(unseal_share(f, 0));
	assert_int_equal(barrier_unseal(f->barrier, other.shares[foreign], BARRIER_SHARE_LEN, false,
		&unsealed, &err), WD_ECRYPTO);
	assert_true(barrier_sealed(f->barrier));

	assert_int_equal(barrier_unseal_key(f->barrier, other.shares[0], BARRIER_KEY_LEN, &err),
		WD_ECRYPTO);
	assert_true(barrier_sealed(f->barrier));

	barrier_shares_free(other.shares, other.share_count);
	close_store_and_barrier(&other);
	remove_dir(other.dir);
}

static void test_reopen_from_disk(void **state)
{
	struct fixture *f = *state;
	struct barrier_status status;

	init_and_unseal(f);
	put_ok(f, "logical/kv/db", "user=app");
	close_store_and_barrier(f);

	open_store_and_barrier(f);
	barrier_status(f->barrier, &status);
	assert_true(status.initialized);
	assert_true(status.sealed);
	assert_int_equal(status.shares, 5);
	assert_int_equal(status.threshold, 3);

	assert_false(unseal_share(f, 3));
	assert_false(unseal_share(f, 1));
	assert_true(unseal_share(f, 0));
	assert_get(f, "logical/kv/db", "user=app");
}

/* With one share the key is not split: the share is the 32-byte key and
 * the x-coordinate 1. */
static void test_one_of_one(void **state)
{
	struct fixture *f = *state;
	struct wd_error err;
	bool unsealed = false;

	init_ok(f, 1, 1);
	assert_int_equal(f->shares[0][BARRIER_KEY_LEN], 1);

	assert_int_equal(barrier_unseal(f->barrier, f->shares[0], BARRIER_KEY_LEN, false,
		&unsealed, &err), WD_EINVAL);
	assert_string_equal(wd_error_text(&err), "unseal key is 32 bytes, expected 33");
	assert_int_equal(barrier_unseal(f->barrier, f->shares[0], BARRIER_SHARE_LEN, false,
		&unsealed, &err), 0);
	assert_true(unsealed);
	put_ok(f, "x", "y");

	/* The key part unseals through the dev-mode call. */
	barrier_seal(f->barrier);
	assert_int_equal(barrier_unseal_key(f->barrier, f->shares[0], 31, &err), WD_EINVAL);
	assert_string_equal(wd_error_text(&err), "unseal key is 31 bytes, expected 32");
	assert_int_equal(barrier_unseal_key(f->barrier, f->shares[0], BARRIER_KEY_LEN, &err), 0);
	assert_get(f, "x", "y");
}

static void test_reset(void **state)
{
	struct fixture *f = *state;
	struct barrier_status status;
	struct wd_error err;

	init_and_unseal(f);
	put_ok(f, "a", "b");
	assert_int_equal(barrier_reset(f->barrier, &err), 0);
	barrier_status(f->barrier, &status);
	assert_false(status.initialized);
	assert_true(status.sealed);
	assert_int_equal(status.shares, 0);
	assert_false(raw_read(f, "a").found);
	assert_false(raw_read(f, "core/keyring").found);

	/* A new init works, and the old shares do not open it. */
	barrier_shares_free(f->shares, f->share_count);
	f->shares = NULL;
	init_ok(f, 2, 2);
	assert_false(unseal_share(f, 0));
	assert_true(unseal_share(f, 1));
	assert_int_equal(get_code(f, "a", &err), WD_ENOTFOUND);
}

static void test_transactions(void **state)
{
	struct fixture *f = *state;
	struct wd_error err;

	init_and_unseal(f);
	assert_int_equal(barrier_begin(f->barrier, &err), 0);
	put_ok(f, "t/1", "one");
	barrier_rollback(f->barrier);
	assert_int_equal(get_code(f, "t/1", &err), WD_ENOTFOUND);

	assert_int_equal(barrier_begin(f->barrier, &err), 0);
	put_ok(f, "t/2", "two");
	assert_int_equal(barrier_commit(f->barrier, &err), 0);
	assert_get(f, "t/2", "two");
}

/* A damaged key row is corruption, not a wrong key. */
static void test_damaged_keyring(void **state)
{
	struct fixture *f = *state;
	struct wd_error err;
	struct raw_row raw;
	bool unsealed = true;

	init_ok(f, 2, 2);
	raw = raw_read(f, "core/keyring");
	raw.data[ENVELOPE_HEADER_LEN] ^= 0x01;
	raw_write(f, "core/keyring", raw.data, raw.len);

	assert_false(unseal_share(f, 0));
	assert_int_equal(barrier_unseal(f->barrier, f->shares[1], BARRIER_SHARE_LEN, false,
		&unsealed, &err), WD_ECORRUPT);
	assert_string_equal(wd_error_text(&err), "value at core/keyring failed authentication");
	assert_true(barrier_sealed(f->barrier));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_uninitialized, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_unseal_seal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_rejects_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_values_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reserved_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_moved_value_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampered_value_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sealed_calls_fail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_shares_fail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_shares_fail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_from_disk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_of_one, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_keyring, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
