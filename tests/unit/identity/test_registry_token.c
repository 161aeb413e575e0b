/* Unit tests for join tokens: single use, expiry, the agent ID derived from
 * the token's hash, and no trace of the token in the datastore file or in
 * any error detail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/sha.h>

#include "registry_fixture.h"

#define AGENT_PREFIX "spiffe://example.org/warden/agent/join_token/"

/* Builds the agent ID a token grants, independently of the registry. */
static void expected_agent_id(const char *token, char out[static 128])
{
	uint8_t digest[SHA256_DIGEST_LENGTH];
	size_t len;

	SHA256((const uint8_t *)token, strlen(token), digest);
	len = (size_t)snprintf(out, 128, "%s", AGENT_PREFIX);
	for (size_t i = 0; i < 16; i++)
		len += (size_t)snprintf(out + len, 128 - len, "%02x", digest[i]);
}

static void token_create_and_consume_once(void **state)
{
	struct fixture *f = *state;
	char token[REGISTRY_TOKEN_BUF_LEN];
	char expected[128];
	char *agent_id = NULL;
	char *consumed_id = NULL;
	int64_t expires_at = 0;
	struct wd_error err = { 0 };

	assert_int_equal(registry_token_create(f->registry, 0, 1000, token, &agent_id, &expires_at,
		&err), 0);
	assert_int_equal(strlen(token), REGISTRY_TOKEN_LEN);
	assert_int_equal(strspn(token, "0123456789abcdef"), REGISTRY_TOKEN_LEN);
	assert_int_equal(expires_at, 1600);
	expected_agent_id(token, expected);
	assert_string_equal(agent_id, expected);

	assert_int_equal(registry_token_consume(f->registry, token, 1599, &consumed_id, &err), 0);
	assert_string_equal(consumed_id, expected);

	char *again = (char *)1;
	assert_int_equal(registry_token_consume(f->registry, token, 1599, &again, &err),
		WD_ECONFLICT);
	assert_null(again);
	assert_non_null(strstr(err.detail, "join token already used"));
	assert_null(strstr(err.detail, token));

	free(agent_id);
	free(consumed_id);
}

static void token_unknown_and_malformed(void **state)
{
	struct fixture *f = *state;
	char token[REGISTRY_TOKEN_BUF_LEN];
	char *agent_id = NULL;
	struct wd_error err = { 0 };
	const char *unknown = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

	assert_int_equal(registry_token_create(f->registry, 60, 1000, token, NULL, NULL, &err), 0);

	assert_int_equal(registry_token_consume(f->registry, unknown, 1001, &agent_id, &err),
		WD_ENOTFOUND);
	assert_string_equal(err.detail, "unknown join token");

	/* Uppercase is not the emitted form, so the hash would not match. */
	char upper[REGISTRY_TOKEN_BUF_LEN];
	for (size_t i = 0; i < REGISTRY_TOKEN_BUF_LEN; i++)
		upper[i] = token[i] >= 'a' && token[i] <= 'f' ? (char)(token[i] - 32) : token[i];
	/* A token without the letters a-f has no uppercase form to test. */
	const char *malformed[] = { "", "abc", "not-a-token' OR 1=1 --",
		strcmp(upper, token) != 0 ? upper : "" };
	for (size_t i = 0; i < WD_ARRAY_LEN(malformed); i++) {
		assert_int_equal(registry_token_consume(f->registry, malformed[i], 1001, &agent_id,
			&err), WD_EINVAL);
		assert_string_equal(err.detail,
			"invalid join token: expected 64 lowercase hexadecimal digits");
	}
	assert_int_equal(registry_token_consume(f->registry, NULL, 1001, &agent_id, &err),
		WD_EINVAL);

	/* The real token still works after the failed attempts. */
	assert_int_equal(registry_token_consume(f->registry, token, 1001, &agent_id, &err), 0);
	free(agent_id);
}

static void token_expires(void **state)
{
	struct fixture *f = *state;
	char token[REGISTRY_TOKEN_BUF_LEN];
	char *agent_id = NULL;
	char *granted = NULL;
	struct wd_error err = { 0 };
	char expected[256];

	assert_int_equal(registry_token_create(f->registry, 60, 1000, token, &agent_id, NULL, &err),
		0);
	assert_int_equal(registry_token_consume(f->registry, token, 1060, &granted, &err),
		WD_EEXPIRED);
	assert_null(granted);
	snprintf(expected, sizeof(expected), "join token for agent %s expired at 1060", agent_id);
	assert_string_equal(err.detail, expected);
	assert_null(strstr(err.detail, token));

	/* Expiry does not use the token up: it stays expired, not "used". */
	assert_int_equal(registry_token_consume(f->registry, token, 5000, &granted, &err),
		WD_EEXPIRED);

	int64_t pruned = -1;
	assert_int_equal(registry_token_prune(f->registry, 1059, &pruned, &err), 0);
	assert_int_equal(pruned, 0);
	assert_int_equal(registry_token_prune(f->registry, 1060, &pruned, &err), 0);
	assert_int_equal(pruned, 1);
	assert_int_equal(count_rows(f, "registry_join_tokens"), 0);
	assert_int_equal(registry_token_consume(f->registry, token, 1000, &granted, &err),
		WD_ENOTFOUND);
	free(agent_id);
}

static void token_ttl_bounds(void **state)
{
	struct fixture *f = *state;
	char token[REGISTRY_TOKEN_BUF_LEN];
	int64_t expires_at = 0;
	struct wd_error err = { 0 };

	assert_int_equal(registry_token_create(f->registry, -1, 1000, token, NULL, &expires_at,
		&err), WD_EINVAL);
	assert_string_equal(err.detail,
		"invalid join token TTL -1: must be 1 to 604800 seconds (0 for 600)");
	assert_string_equal(token, "");
	assert_int_equal(registry_token_create(f->registry, REGISTRY_TOKEN_MAX_TTL + 1, 1000, token,
		NULL, &expires_at, &err), WD_EINVAL);
	assert_int_equal(count_rows(f, "registry_join_tokens"), 0);

	assert_int_equal(registry_token_create(f->registry, REGISTRY_TOKEN_MAX_TTL, 1000, token,
		NULL, &expires_at, &err), 0);
	assert_int_equal(expires_at, 1000 + REGISTRY_TOKEN_MAX_TTL);
}

/* Searches the bytes of every file in dir for needle. */
static bool dir_contains(const char *dir, const void *needle, size_t needle_len)
{
	DIR *d = opendir(dir);
	struct dirent *dirent;
	bool found = false;

	assert_non_null(d);
	while (!found && (dirent = readdir(d))) {
		char path[512];
		FILE *file;
		uint8_t *data;
		long size;

		if (dirent->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, dirent->d_name);
		file = fopen(path, "rb");
		assert_non_null(file);
		fseek(file, 0, SEEK_END);
		size = ftell(file);
		fseek(file, 0, SEEK_SET);
		data = malloc((size_t)size + 1);
		assert_non_null(data);
		assert_int_equal(fread(data, 1, (size_t)size, file), (size_t)size);
		fclose(file);
		found = memmem(data, (size_t)size, needle, needle_len) != NULL;
		free(data);
	}
	closedir(d);
	return found;
}

/* On PostgreSQL the rows are searched instead of files: each row as text
 * shows bytea in hex, so the token text also finds its raw bytes. */
static void token_absent_from_postgres(struct fixture *f, char tokens[3][REGISTRY_TOKEN_BUF_LEN])
{
	uint8_t digest[SHA256_DIGEST_LENGTH];
	struct wd_error err = { 0 };

	for (size_t i = 0; i < 3; i++) {
		struct store_value token[] = { STORE_TEXT_VALUE(tokens[i]) };
		struct store_value hash[] = { STORE_BLOB_VALUE(digest, sizeof(digest)) };
		int64_t count = -1;

		assert_int_equal(store_query(f->store,
			"SELECT COUNT(*) FROM registry_join_tokens t WHERE position($1 in t::text) > 0",
			token, 1, count_row, &count, &err), 0);
		assert_int_equal(count, 0);
		SHA256((const uint8_t *)tokens[i], REGISTRY_TOKEN_LEN, digest);
		assert_int_equal(store_query(f->store,
			"SELECT COUNT(*) FROM registry_join_tokens WHERE token_hash = $1", hash, 1,
			count_row, &count, &err), 0);
		assert_int_equal(count, 1);
	}
}

static void token_absent_from_database(void **state)
{
	struct fixture *f = *state;
	char tokens[3][REGISTRY_TOKEN_BUF_LEN];
	uint8_t digest[SHA256_DIGEST_LENGTH];
	struct wd_error err = { 0 };
	char *agent_id = NULL;

	for (size_t i = 0; i < 3; i++)
		assert_int_equal(registry_token_create(f->registry, 0, 1000, tokens[i], NULL, NULL,
			&err), 0);
	assert_int_equal(registry_token_consume(f->registry, tokens[0], 1001, &agent_id, &err), 0);
	free(agent_id);
	if (test_datastore_is_postgres()) {
		token_absent_from_postgres(f, tokens);
		return;
	}

	/* Closing checkpoints the write-ahead log into the main file. */
	fixture_close(f);
	for (size_t i = 0; i < 3; i++) {
		uint8_t raw[REGISTRY_TOKEN_LEN / 2];

		for (size_t j = 0; j < sizeof(raw); j++)
			sscanf(tokens[i] + 2 * j, "%2hhx", &raw[j]);
		assert_false(dir_contains(f->dir, tokens[i], REGISTRY_TOKEN_LEN));
		assert_false(dir_contains(f->dir, raw, sizeof(raw)));

		/* The hash is what is stored: the search itself can find bytes. */
		SHA256((const uint8_t *)tokens[i], REGISTRY_TOKEN_LEN, digest);
		assert_true(dir_contains(f->dir, digest, sizeof(digest)));
	}
	assert_int_equal(fixture_open(f), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(token_create_and_consume_once, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(token_unknown_and_malformed, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(token_expires, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(token_ttl_bounds, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(token_absent_from_database, fixture_setup,
			fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
