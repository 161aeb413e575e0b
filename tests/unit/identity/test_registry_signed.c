/* Unit tests for the require_signed flag of registration entries: the
 * unix:sha256 selector it needs, create and partial updates, JSON, and the
 * migration that adds it to entries stored before it existed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "identity/registry_internal.h"
#include "registry_fixture.h"

#define DIGEST "4f0c8e2a1b3d5f7a9c0e2b4d6f8a1c3e5b7d9f0a2c4e6b8d0f1a3c5e7b9d0f2a"
#define SHA256_SELECTOR "unix:sha256:" DIGEST
#define WEB_ID "spiffe://example.org/web"

static struct registry_entry_input signed_input(const char *const *selectors, size_t count)
{
	return (struct registry_entry_input){
		.fields = REGISTRY_FIELD_SPIFFE_ID | REGISTRY_FIELD_PARENT_ID |
			REGISTRY_FIELD_SELECTORS | REGISTRY_FIELD_REQUIRE_SIGNED,
		.spiffe_id = WEB_ID,
		.parent_id = AGENT_A,
		.selectors = selectors,
		.selector_count = count,
		.require_signed = true,
	};
}

static void create_stores_flag(void **state)
{
	struct fixture *f = *state;
	const char *selectors[] = { "unix:uid:0", SHA256_SELECTOR };
	struct registry_entry_input input = signed_input(selectors, 2);
	struct registry_entry *created = NULL;
	struct registry_entry *loaded = NULL;
	struct wd_error err = { 0 };

	assert_int_equal(registry_entry_create(f->registry, &input, 1000, &created, &err), 0);
	assert_true(created->require_signed);
	assert_int_equal(registry_entry_get(f->registry, created->id, &loaded, &err), 0);
	assert_true(loaded->require_signed);
	registry_entry_free(loaded);
	registry_entry_free(created);

	/* Without the bit the flag stays off. */
	input.fields &= ~(unsigned)REGISTRY_FIELD_REQUIRE_SIGNED;
	input.spiffe_id = "spiffe://example.org/plain";
	assert_int_equal(registry_entry_create(f->registry, &input, 1000, &created, &err), 0);
	assert_false(created->require_signed);
	registry_entry_free(created);
}

struct create_case {
	const char *selectors[2];
	size_t count;
	const char *detail;
};

static const struct create_case create_cases[] = {
	{ { "unix:uid:0" }, 1,
	  "entry " WEB_ID " requires signed binaries, but has no unix:sha256 selector that "
	  "names one" },
	{ { "unix:path:/usr/bin/sleep", "unix:sha256x:" DIGEST }, 2,
	  "entry " WEB_ID " requires signed binaries, but has no unix:sha256 selector that "
	  "names one" },
	{ { "unix:sha256:ABCD" }, 1,
	  "entry " WEB_ID " requires signed binaries, but its selector \"unix:sha256:ABCD\" is "
	  "not unix:sha256: and 64 lowercase hex digits" },
	{ { "unix:sha256:" DIGEST "00" }, 1,
	  "entry " WEB_ID " requires signed binaries, but its selector \"unix:sha256:" DIGEST
	  "00\" is not unix:sha256: and 64 lowercase hex digits" },
	{ { SHA256_SELECTOR, "unix:sha256:4F0C8E2A1B3D5F7A9C0E2B4D6F8A1C3E5B7D9F0A2C4E6B8D0F1A3C5E7B9D0F2A" },
	  2,
	  "entry " WEB_ID " requires signed binaries, but its selector \"unix:sha256:"
	  "4F0C8E2A1B3D5F7A9C0E2B4D6F8A1C3E5B7D9F0A2C4E6B8D0F1A3C5E7B9D0F2A\" is not "
	  "unix:sha256: and 64 lowercase hex digits" },
};

static void create_without_digest_rejected(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < WD_ARRAY_LEN(create_cases); i++) {
		struct registry_entry_input input = signed_input(create_cases[i].selectors,
			create_cases[i].count);
		struct registry_entry *entry = (struct registry_entry *)1;
		struct wd_error err = { 0 };
		int rc = registry_entry_create(f->registry, &input, 1000, &entry, &err);

		if (rc != WD_EINVAL || strcmp(err.detail, create_cases[i].detail) != 0)
			fail_msg("case %zu: rc %d, detail \"%s\", expected \"%s\"", i, rc,
				err.detail, create_cases[i].detail);
		assert_null(entry);
	}
	assert_int_equal(count_rows(f, "registry_entries"), 0);
}

/* The same selectors are fine without the flag: entries that do not ask
 * for signed binaries are validated as before. */
static void digest_unchecked_without_flag(void **state)
{
	struct fixture *f = *state;
	const char *selectors[] = { "unix:sha256:ABCD" };
	struct registry_entry_input input = signed_input(selectors, 1);
	struct wd_error err = { 0 };

	input.require_signed = false;
	assert_int_equal(registry_entry_create(f->registry, &input, 1000, NULL, &err), 0);
	assert_int_equal(count_rows(f, "registry_entries"), 1);
}

static void update_checks_resulting_entry(void **state)
{
	struct fixture *f = *state;
	const char *plain[] = { "unix:uid:0" };
	const char *digest[] = { SHA256_SELECTOR };
	struct registry_entry_input input = signed_input(plain, 1);
	struct registry_entry *created = NULL;
	struct registry_entry *updated = NULL;
	struct registry_entry *loaded = NULL;
	struct wd_error err = { 0 };
	char expected[512];

	input.require_signed = false;
	assert_int_equal(registry_entry_create(f->registry, &input, 1000, &created, &err), 0);

	/* The flag alone, on an entry without a digest. */
	struct registry_entry_input flag_on = {
		.fields = REGISTRY_FIELD_REQUIRE_SIGNED,
		.require_signed = true,
	};
	updated = (struct registry_entry *)1;
	assert_int_equal(registry_entry_update(f->registry, created->id, &flag_on, 2000, &updated,
		&err), WD_EINVAL);
	assert_null(updated);
	snprintf(expected, sizeof(expected), "entry %s (" WEB_ID ") requires signed binaries, "
		"but has no unix:sha256 selector that names one", created->id);
	assert_string_equal(err.detail, expected);
	assert_int_equal(registry_entry_get(f->registry, created->id, &loaded, &err), 0);
	assert_false(loaded->require_signed);
	assert_int_equal(loaded->revision, 0);
	registry_entry_free(loaded);

	/* The flag with a digest in one update. */
	struct registry_entry_input both = {
		.fields = REGISTRY_FIELD_REQUIRE_SIGNED | REGISTRY_FIELD_SELECTORS,
		.require_signed = true,
		.selectors = digest,
		.selector_count = 1,
	};
	assert_int_equal(registry_entry_update(f->registry, created->id, &both, 2000, &updated,
		&err), 0);
	assert_true(updated->require_signed);
	assert_string_equal(updated->selectors[0], SHA256_SELECTOR);
	registry_entry_free(updated);

	/* Dropping the digest while the stored flag stays on. */
	struct registry_entry_input selectors_only = {
		.fields = REGISTRY_FIELD_SELECTORS,
		.selectors = plain,
		.selector_count = 1,
	};
	assert_int_equal(registry_entry_update(f->registry, created->id, &selectors_only, 3000,
		NULL, &err), WD_EINVAL);
	assert_string_equal(err.detail, expected);

	/* Turning the flag off allows it again. */
	struct registry_entry_input flag_off = {
		.fields = REGISTRY_FIELD_REQUIRE_SIGNED | REGISTRY_FIELD_SELECTORS,
		.require_signed = false,
		.selectors = plain,
		.selector_count = 1,
	};
	assert_int_equal(registry_entry_update(f->registry, created->id, &flag_off, 3000, &updated,
		&err), 0);
	assert_false(updated->require_signed);
	assert_int_equal(updated->revision, 2);
	registry_entry_free(updated);
	registry_entry_free(created);
}

static void json_round_trip(void **state)
{
	struct fixture *f = *state;
	json_t *object = json_loads("{\"spiffe_id\":\"" WEB_ID "\",\"parent_id\":\"" AGENT_A "\","
		"\"selectors\":[\"" SHA256_SELECTOR "\"],\"require_signed\":true}",
		JSON_REJECT_DUPLICATES, NULL);
	struct registry_entry_input *input = NULL;
	struct registry_entry *entry = NULL;
	json_t *encoded = NULL;
	struct wd_error err = { 0 };

	assert_non_null(object);
	assert_int_equal(registry_entry_from_json(object, false, &input, &err), 0);
	assert_true(input->fields & REGISTRY_FIELD_REQUIRE_SIGNED);
	assert_true(input->require_signed);
	assert_int_equal(registry_entry_create(f->registry, input, 1000, &entry, &err), 0);
	assert_int_equal(registry_entry_to_json(entry, &encoded, &err), 0);
	assert_true(json_is_true(json_object_get(encoded, "require_signed")));
	json_decref(encoded);
	registry_entry_free(entry);
	registry_entry_input_free(input);
	json_decref(object);

	object = json_loads("{\"require_signed\":\"yes\"}", 0, NULL);
	assert_int_equal(registry_entry_from_json(object, true, &input, &err), WD_EINVAL);
	assert_string_equal(err.detail, "invalid \"require_signed\": expected a boolean, got string");
	json_decref(object);

	object = json_loads("{\"require_signed\":false}", 0, NULL);
	assert_int_equal(registry_entry_from_json(object, true, &input, &err), 0);
	assert_int_equal(input->fields, REGISTRY_FIELD_REQUIRE_SIGNED);
	assert_false(input->require_signed);
	registry_entry_input_free(input);
	json_decref(object);
}

/* An entry written by the schema before the flag existed reads back with
 * require_signed false after the registry migrates the store. */
static void migration_keeps_old_entries(void **state)
{
	struct fixture *f = *state;
	struct registry_entry *loaded = NULL;
	struct wd_error err = { 0 };
	int version = 0;
	const char *id = "0b6ec2a4-5c3f-4c11-9e1a-1f7d3b0c2e55";
	struct store_value params[] = { STORE_TEXT_VALUE(id) };

	fixture_close(f);
	unlink(f->path);
	test_datastore_setup(f->path, sizeof(f->path), f->dir, "registry.db");
	assert_int_equal(store_open(f->path, NULL, &f->store, &err), 0);
	assert_int_equal(store_migrate(f->store, REGISTRY_MIGRATION_COMPONENT, registry_migrations,
		4, &err), 0);
	assert_int_equal(store_exec(f->store,
		"INSERT INTO registry_entries (id, spiffe_id, parent_id, selectors, identity_hash, "
		"created_at, updated_at) VALUES ($1, '" WEB_ID "', '" AGENT_A "', 'unix:uid:0', "
		"'hash', 1, 1)", params, 1, NULL, &err), 0);

	assert_int_equal(registry_open(f->store, &f->options, &f->registry, &err), 0);
	assert_int_equal(store_schema_version(f->store, REGISTRY_MIGRATION_COMPONENT, &version,
		&err), 0);
	assert_int_equal(version, 5);
	assert_int_equal(registry_entry_get(f->registry, id, &loaded, &err), 0);
	assert_false(loaded->require_signed);
	assert_string_equal(loaded->spiffe_id, WEB_ID);
	registry_entry_free(loaded);
}

static void selector_sha256_cases(void **state)
{
	(void)state;
	assert_string_equal(registry_selector_sha256(SHA256_SELECTOR), DIGEST);
	assert_string_equal(registry_selector_sha256("unix:sha256:x"), "x");
	assert_null(registry_selector_sha256("unix:uid:0"));
	assert_null(registry_selector_sha256("docker:sha256:" DIGEST));
	assert_null(registry_selector_sha256("unix:sha25"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(create_stores_flag, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(create_without_digest_rejected, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(digest_unchecked_without_flag, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(update_checks_resulting_entry, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(json_round_trip, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(migration_keeps_old_entries, fixture_setup,
			fixture_teardown),
		cmocka_unit_test(selector_sha256_cases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
