/* Unit tests for entries as JSON: exact encoding, and every rejected field
 * named in the error with the store unchanged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "registry_fixture.h"

/* Parses test JSON; NUL is allowed so the reader's own NUL check is reached. */
static json_t *parse(const char *text)
{
	json_error_t error;
	json_t *object = json_loads(text, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &error);

	if (!object)
		fail_msg("test JSON does not parse: %s", error.text);
	return object;
}

static void json_create_round_trip(void **state)
{
	struct fixture *f = *state;
	json_t *object = parse("{\"spiffe_id\":\"spiffe://example.org/web\","
		"\"parent_id\":\"" AGENT_A "\","
		"\"selectors\":[\"unix:uid:1000\",\"cgroup:/system.slice/x\"],"
		"\"x509_svid_ttl\":3600,\"jwt_svid_ttl\":300,"
		"\"dns_names\":[\"Web.Example.org\"],\"admin\":true,\"require_signed\":false}");
	struct registry_entry_input *input = NULL;
	struct registry_entry *entry = NULL;
	json_t *encoded = NULL;
	struct wd_error err = { 0 };
	char expected[1024];
	char *text;

	assert_int_equal(registry_entry_from_json(object, false, &input, &err), 0);
	assert_int_equal(input->fields, REGISTRY_FIELD_ALL);
	assert_string_equal(input->spiffe_id, "spiffe://example.org/web");
	assert_int_equal(input->selector_count, 2);
	assert_string_equal(input->selectors[0], "cgroup:/system.slice/x");
	assert_int_equal(input->x509_svid_ttl, 3600);
	assert_true(input->admin);

	assert_int_equal(registry_entry_create(f->registry, input, 1700000000, &entry, &err), 0);
	assert_int_equal(registry_entry_to_json(entry, &encoded, &err), 0);
	text = json_dumps(encoded, JSON_COMPACT | JSON_SORT_KEYS);
	snprintf(expected, sizeof(expected),
		"{\"admin\":true,\"created_at\":1700000000,\"dns_names\":[\"web.example.org\"],"
		"\"id\":\"%s\",\"jwt_svid_ttl\":300,\"parent_id\":\"" AGENT_A "\","
		"\"require_signed\":false,\"revision\":0,"
		"\"selectors\":[\"cgroup:/system.slice/x\",\"unix:uid:1000\"],"
		"\"spiffe_id\":\"spiffe://example.org/web\",\"updated_at\":1700000000,"
		"\"x509_svid_ttl\":3600}", entry->id);
	assert_string_equal(text, expected);

	free(text);
	json_decref(encoded);
	json_decref(object);
	registry_entry_free(entry);
	registry_entry_input_free(input);
}

static void json_partial_sets_only_present(void **state)
{
	json_t *object = parse("{\"admin\":false,\"dns_names\":[]}");
	struct registry_entry_input *input = NULL;
	struct wd_error err = { 0 };

	(void)state;
	assert_int_equal(registry_entry_from_json(object, true, &input, &err), 0);
	assert_int_equal(input->fields, REGISTRY_FIELD_ADMIN | REGISTRY_FIELD_DNS_NAMES);
	assert_false(input->admin);
	assert_int_equal(input->dns_name_count, 0);
	registry_entry_input_free(input);

	/* The same object is not a complete entry. */
	assert_int_equal(registry_entry_from_json(object, false, &input, &err), WD_EINVAL);
	assert_null(input);
	assert_string_equal(err.detail, "missing \"spiffe_id\"");
	json_decref(object);
}

struct json_case {
	const char *json;
	const char *detail;
};

#define ENTRY_HEAD "{\"spiffe_id\":\"spiffe://example.org/web\",\"parent_id\":\"" AGENT_A "\","

static const struct json_case json_cases[] = {
	{ ENTRY_HEAD "\"selectors\":[\"unix:uid:1\"],\"spife_id\":\"x\"}",
	  "unknown field \"spife_id\"" },
	{ ENTRY_HEAD "\"selectors\":[\"unix:uid:1\"],\"bad\\u0001\\\"key\":1}",
	  "unknown field \"bad??key\"" },
	{ ENTRY_HEAD "\"selectors\":[\"unix:uid:1\"],\"revision\":3}",
	  "field \"revision\" is read-only" },
	{ ENTRY_HEAD "\"selectors\":[\"unix:uid:1\"],\"id\":\"x\"}", "field \"id\" is read-only" },
	{ ENTRY_HEAD "\"selectors\":[\"unix\"]}",
	  "invalid selector \"unix\" in \"selectors\": expected type:value" },
	{ ENTRY_HEAD "\"selectors\":[\"unix:uid:1\",\"unix:uid:1\"]}",
	  "duplicate selector \"unix:uid:1\" in \"selectors\"" },
	{ ENTRY_HEAD "\"selectors\":[]}", "invalid \"selectors\": at least one selector is required" },
	{ ENTRY_HEAD "\"selectors\":\"unix:uid:1\"}",
	  "invalid \"selectors\": expected an array of strings, got string" },
	{ ENTRY_HEAD "\"selectors\":[\"unix:uid:1\",7]}",
	  "invalid \"selectors\"[1]: expected a string, got integer" },
	{ ENTRY_HEAD "\"selectors\":[\"unix:uid:1\"],\"x509_svid_ttl\":\"3600\"}",
	  "invalid \"x509_svid_ttl\": expected an integer number of seconds, got string" },
	{ ENTRY_HEAD "\"selectors\":[\"unix:uid:1\"],\"x509_svid_ttl\":1.5}",
	  "invalid \"x509_svid_ttl\": expected an integer number of seconds, got number with a fraction" },
	{ ENTRY_HEAD "\"selectors\":[\"unix:uid:1\"],\"jwt_svid_ttl\":-5}",
	  "invalid \"jwt_svid_ttl\" -5: must not be negative" },
	{ ENTRY_HEAD "\"selectors\":[\"unix:uid:1\"],\"admin\":\"yes\"}",
	  "invalid \"admin\": expected a boolean, got string" },
	{ ENTRY_HEAD "\"selectors\":[\"unix:uid:1\"],\"dns_names\":{}}",
	  "invalid \"dns_names\": expected an array of strings, got object" },
	{ ENTRY_HEAD "\"selectors\":[\"unix:uid:1\"],\"dns_names\":[\"a_b.example.org\"]}",
	  "invalid DNS name \"a_b.example.org\" in \"dns_names\": labels may hold only letters, "
	  "digits and '-'" },
	{ "{\"spiffe_id\":42,\"parent_id\":\"" AGENT_A "\",\"selectors\":[\"unix:uid:1\"]}",
	  "invalid \"spiffe_id\": expected a string, got integer" },
	{ "{\"spiffe_id\":\"spiffe://example.org\",\"parent_id\":\"" AGENT_A "\","
	  "\"selectors\":[\"unix:uid:1\"]}",
	  "invalid \"spiffe_id\" \"spiffe://example.org\": a path is required" },
	{ "{\"spiffe_id\":\"spiffe://example.org/a\\u0000b\",\"parent_id\":\"" AGENT_A "\","
	  "\"selectors\":[\"unix:uid:1\"]}",
	  "invalid \"spiffe_id\": contains a NUL character" },
	{ "{\"spiffe_id\":\"spiffe://example.org/web\",\"selectors\":[\"unix:uid:1\"]}",
	  "missing \"parent_id\"" },
	{ "[1,2]", "invalid entry: expected a JSON object, got array" },
};

static void json_invalid_named(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < WD_ARRAY_LEN(json_cases); i++) {
		json_t *object = parse(json_cases[i].json);
		struct registry_entry_input *input = (struct registry_entry_input *)1;
		struct wd_error err = { 0 };
		int rc = registry_entry_from_json(object, false, &input, &err);

		if (rc != WD_EINVAL || strcmp(err.detail, json_cases[i].detail) != 0)
			fail_msg("case %zu: rc %d, detail \"%s\", expected \"%s\"", i, rc,
				err.detail, json_cases[i].detail);
		assert_null(input);
		json_decref(object);
	}
	assert_int_equal(count_rows(f, "registry_entries"), 0);
}

/* A trust domain the JSON reader cannot know is still checked by create. */
static void json_foreign_trust_domain_at_create(void **state)
{
	struct fixture *f = *state;
	json_t *object = parse("{\"spiffe_id\":\"spiffe://other.org/web\",\"parent_id\":\"" AGENT_A
		"\",\"selectors\":[\"unix:uid:1\"],\"x509_svid_ttl\":99999999}");
	struct registry_entry_input *input = NULL;
	struct wd_error err = { 0 };

	assert_int_equal(registry_entry_from_json(object, false, &input, &err), 0);
	assert_int_equal(registry_entry_create(f->registry, input, 1000, NULL, &err), WD_EINVAL);
	assert_string_equal(err.detail,
		"invalid \"spiffe_id\" \"spiffe://other.org/web\": not in trust domain \"example.org\"");
	input->spiffe_id = "spiffe://example.org/web";
	assert_int_equal(registry_entry_create(f->registry, input, 1000, NULL, &err), WD_EINVAL);
	assert_string_equal(err.detail,
		"invalid \"x509_svid_ttl\" 99999999: must be 0 (server default) to 2592000 seconds");
	assert_int_equal(count_rows(f, "registry_entries"), 0);
	registry_entry_input_free(input);
	json_decref(object);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(json_create_round_trip, fixture_setup, fixture_teardown),
		cmocka_unit_test(json_partial_sets_only_present),
		cmocka_unit_test_setup_teardown(json_invalid_named, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(json_foreign_trust_domain_at_create, fixture_setup,
			fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
