/* Unit tests for registration entries: create, get, list, update and delete
 * on a fresh SQLite store, and every invalid input named in the error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "registry_fixture.h"

static const char *const web_selectors[] = { "unix:uid:1000", "cgroup:/system.slice/x" };
static const char *const web_dns[] = { "Api.Example.com", "*.svc.example.org" };

static struct registry_entry_input web_input(void)
{
	return (struct registry_entry_input){
		.fields = REGISTRY_FIELD_ALL,
		.spiffe_id = "spiffe://example.org/web",
		.parent_id = AGENT_A,
		.selectors = web_selectors,
		.selector_count = 2,
		.x509_svid_ttl = 3600,
		.jwt_svid_ttl = 300,
		.dns_names = web_dns,
		.dns_name_count = 2,
		.admin = false,
	};
}

static void assert_web_entry(const struct registry_entry *entry)
{
	assert_int_equal(strlen(entry->id), REGISTRY_ENTRY_ID_LEN);
	assert_string_equal(entry->spiffe_id, "spiffe://example.org/web");
	assert_string_equal(entry->parent_id, AGENT_A);
	assert_int_equal(entry->selector_count, 2);
	assert_string_equal(entry->selectors[0], "cgroup:/system.slice/x");
	assert_string_equal(entry->selectors[1], "unix:uid:1000");
	assert_int_equal(entry->x509_svid_ttl, 3600);
	assert_int_equal(entry->jwt_svid_ttl, 300);
	assert_int_equal(entry->dns_name_count, 2);
	assert_string_equal(entry->dns_names[0], "api.example.com");
	assert_string_equal(entry->dns_names[1], "*.svc.example.org");
	assert_false(entry->admin);
}

static void entry_create_and_get(void **state)
{
	struct fixture *f = *state;
	struct registry_entry_input input = web_input();
	struct registry_entry *created = NULL;
	struct registry_entry *loaded = NULL;
	struct wd_error err = { 0 };

	assert_int_equal(registry_entry_create(f->registry, &input, 1000, &created, &err), 0);
	assert_web_entry(created);
	assert_int_equal(created->revision, 0);
	assert_int_equal(created->created_at, 1000);
	assert_int_equal(created->updated_at, 1000);

	assert_int_equal(registry_entry_get(f->registry, created->id, &loaded, &err), 0);
	assert_string_equal(loaded->id, created->id);
	assert_web_entry(loaded);
	assert_int_equal(loaded->revision, 0);
	assert_int_equal(loaded->created_at, 1000);
	assert_int_equal(loaded->updated_at, 1000);

	assert_int_equal(count_rows(f, "registry_entries"), 1);
	assert_int_equal(count_rows(f, "registry_entry_selectors"), 2);
	registry_entry_free(created);
	registry_entry_free(loaded);
}

static void entry_get_unknown_names_id(void **state)
{
	struct fixture *f = *state;
	struct registry_entry *entry = (struct registry_entry *)1;
	struct wd_error err = { 0 };
	const char *id = "0b6ec2a4-5c3f-4c11-9e1a-1f7d3b0c2e55";

	assert_int_equal(registry_entry_get(f->registry, id, &entry, &err), WD_ENOTFOUND);
	assert_null(entry);
	assert_string_equal(err.detail, "entry \"0b6ec2a4-5c3f-4c11-9e1a-1f7d3b0c2e55\" not found");

	assert_int_equal(registry_entry_get(f->registry, "1 OR 1=1", &entry, &err), WD_EINVAL);
	assert_string_equal(err.detail, "invalid entry id \"1 OR 1=1\": expected a lowercase UUID");
}

static void entry_update_partial_increments_revision(void **state)
{
	struct fixture *f = *state;
	struct registry_entry_input input = web_input();
	struct registry_entry *created = NULL;
	struct registry_entry *updated = NULL;
	struct wd_error err = { 0 };

	assert_int_equal(registry_entry_create(f->registry, &input, 1000, &created, &err), 0);

	struct registry_entry_input ttl_only = {
		.fields = REGISTRY_FIELD_X509_SVID_TTL | REGISTRY_FIELD_ADMIN,
		.x509_svid_ttl = 7200,
		.admin = true,
	};
	assert_int_equal(registry_entry_update(f->registry, created->id, &ttl_only, 2000, &updated,
		&err), 0);
	assert_int_equal(updated->revision, 1);
	assert_int_equal(updated->created_at, 1000);
	assert_int_equal(updated->updated_at, 2000);
	assert_int_equal(updated->x509_svid_ttl, 7200);
	assert_true(updated->admin);
	/* Fields outside the mask keep their values. */
	assert_int_equal(updated->jwt_svid_ttl, 300);
	assert_int_equal(updated->selector_count, 2);
	assert_string_equal(updated->dns_names[0], "api.example.com");
	registry_entry_free(updated);

	const char *selectors[] = { "k8s:ns:prod" };
	struct registry_entry_input full = {
		.fields = REGISTRY_FIELD_ALL,
		.spiffe_id = "spiffe://example.org/web2",
		.parent_id = AGENT_B,
		.selectors = selectors,
		.selector_count = 1,
	};
	assert_int_equal(registry_entry_update(f->registry, created->id, &full, 3000, &updated,
		&err), 0);
	assert_int_equal(updated->revision, 2);
	assert_string_equal(updated->spiffe_id, "spiffe://example.org/web2");
	assert_string_equal(updated->parent_id, AGENT_B);
	assert_int_equal(updated->selector_count, 1);
	assert_string_equal(updated->selectors[0], "k8s:ns:prod");
	assert_int_equal(updated->x509_svid_ttl, 0);
	assert_int_equal(updated->jwt_svid_ttl, 0);
	assert_int_equal(updated->dns_name_count, 0);
	assert_false(updated->admin);
	assert_int_equal(updated->updated_at, 3000);
	registry_entry_free(updated);

	/* The selector rows follow the update. */
	assert_int_equal(count_rows(f, "registry_entry_selectors"), 1);
	registry_entry_free(created);
}

static void entry_update_invalid_changes_nothing(void **state)
{
	struct fixture *f = *state;
	struct registry_entry_input input = web_input();
	struct registry_entry *created = NULL;
	struct registry_entry *loaded = NULL;
	struct registry_entry *updated = (struct registry_entry *)1;
	struct wd_error err = { 0 };
	const char *bad[] = { "unix" };

	assert_int_equal(registry_entry_create(f->registry, &input, 1000, &created, &err), 0);
	struct registry_entry_input bad_input = {
		.fields = REGISTRY_FIELD_SELECTORS | REGISTRY_FIELD_X509_SVID_TTL,
		.selectors = bad,
		.selector_count = 1,
		.x509_svid_ttl = 10,
	};
	assert_int_equal(registry_entry_update(f->registry, created->id, &bad_input, 2000, &updated,
		&err), WD_EINVAL);
	assert_null(updated);
	assert_string_equal(err.detail,
		"invalid selector \"unix\" in \"selectors\": expected type:value");

	assert_int_equal(registry_entry_get(f->registry, created->id, &loaded, &err), 0);
	assert_web_entry(loaded);
	assert_int_equal(loaded->revision, 0);
	assert_int_equal(loaded->updated_at, 1000);
	assert_int_equal(count_rows(f, "registry_entry_selectors"), 2);
	registry_entry_free(loaded);

	assert_int_equal(registry_entry_update(f->registry, "0b6ec2a4-5c3f-4c11-9e1a-1f7d3b0c2e55",
		&input, 2000, NULL, &err), WD_ENOTFOUND);
	assert_string_equal(err.detail, "entry \"0b6ec2a4-5c3f-4c11-9e1a-1f7d3b0c2e55\" not found");
	registry_entry_free(created);
}

static void entry_duplicate_names_existing(void **state)
{
	struct fixture *f = *state;
	struct registry_entry_input input = web_input();
	struct registry_entry *first = NULL;
	struct registry_entry *other = NULL;
	struct wd_error err = { 0 };
	char expected[512];

	assert_int_equal(registry_entry_create(f->registry, &input, 1000, &first, &err), 0);

	/* Same selector set in another order, other mutable fields differ. */
	const char *reordered[] = { "cgroup:/system.slice/x", "unix:uid:1000" };
	struct registry_entry_input again = input;
	again.selectors = reordered;
	again.x509_svid_ttl = 60;
	assert_int_equal(registry_entry_create(f->registry, &again, 1001, NULL, &err), WD_EEXIST);
	snprintf(expected, sizeof(expected),
		"entry \"%s\" already has spiffe_id \"spiffe://example.org/web\", parent_id \"%s\" "
		"and the same selectors", first->id, AGENT_A);
	assert_string_equal(err.detail, expected);
	assert_int_equal(count_rows(f, "registry_entries"), 1);

	/* An update that would make a second entry equal to the first fails
	 * the same way and leaves the second as it was. */
	struct registry_entry_input differs = input;
	differs.spiffe_id = "spiffe://example.org/other";
	assert_int_equal(registry_entry_create(f->registry, &differs, 1002, &other, &err), 0);
	struct registry_entry_input rename = {
		.fields = REGISTRY_FIELD_SPIFFE_ID,
		.spiffe_id = "spiffe://example.org/web",
	};
	assert_int_equal(registry_entry_update(f->registry, other->id, &rename, 1003, NULL, &err),
		WD_EEXIST);
	assert_string_equal(err.detail, expected);

	struct registry_entry *loaded = NULL;
	assert_int_equal(registry_entry_get(f->registry, other->id, &loaded, &err), 0);
	assert_string_equal(loaded->spiffe_id, "spiffe://example.org/other");
	assert_int_equal(loaded->revision, 0);
	registry_entry_free(loaded);
	registry_entry_free(other);
	registry_entry_free(first);
}

static void entry_delete_returns_entry(void **state)
{
	struct fixture *f = *state;
	struct registry_entry_input input = web_input();
	struct registry_entry *created = NULL;
	struct registry_entry *deleted = NULL;
	struct registry_entry *loaded = NULL;
	struct wd_error err = { 0 };

	assert_int_equal(registry_entry_create(f->registry, &input, 1000, &created, &err), 0);
	assert_int_equal(registry_entry_delete(f->registry, created->id, &deleted, &err), 0);
	assert_string_equal(deleted->id, created->id);
	assert_web_entry(deleted);
	assert_int_equal(count_rows(f, "registry_entries"), 0);
	assert_int_equal(count_rows(f, "registry_entry_selectors"), 0);

	assert_int_equal(registry_entry_get(f->registry, created->id, &loaded, &err), WD_ENOTFOUND);
	assert_int_equal(registry_entry_delete(f->registry, created->id, NULL, &err), WD_ENOTFOUND);
	assert_non_null(strstr(err.detail, created->id));
	registry_entry_free(created);
	registry_entry_free(deleted);
}

static void entry_list_filters_and_pages(void **state)
{
	struct fixture *f = *state;
	struct registry_entry *made[5];
	struct registry_entry_list *list = NULL;
	struct wd_error err = { 0 };

	made[0] = make_entry(f, "spiffe://example.org/a", AGENT_A, "unix:uid:1", false);
	made[1] = make_entry(f, "spiffe://example.org/b", AGENT_A, "unix:uid:2", false);
	made[2] = make_entry(f, "spiffe://example.org/c", AGENT_B, "unix:uid:1", false);
	made[3] = make_entry(f, "spiffe://example.org/a", AGENT_B, "k8s:ns:a", false);
	made[4] = make_entry(f, "spiffe://example.org/e", AGENT_B, "unix:uid:3", false);

	struct registry_entry_filter by_parent = { .parent_id = AGENT_A };
	assert_int_equal(registry_entry_list(f->registry, &by_parent, &list, &err), 0);
	assert_int_equal(list->count, 2);
	assert_string_equal(list->next_page_token, "");
	for (size_t i = 0; i < list->count; i++)
		assert_string_equal(list->entries[i]->parent_id, AGENT_A);
	registry_entry_list_free(list);

	struct registry_entry_filter by_spiffe = { .spiffe_id = "spiffe://example.org/a" };
	assert_int_equal(registry_entry_list(f->registry, &by_spiffe, &list, &err), 0);
	assert_int_equal(list->count, 2);
	registry_entry_list_free(list);

	struct registry_entry_filter by_selector = { .selector = "unix:uid:1" };
	assert_int_equal(registry_entry_list(f->registry, &by_selector, &list, &err), 0);
	assert_int_equal(list->count, 2);
	for (size_t i = 0; i < list->count; i++)
		assert_string_equal(list->entries[i]->selectors[0], "unix:uid:1");
	registry_entry_list_free(list);

	struct registry_entry_filter combined = { .selector = "unix:uid:1", .parent_id = AGENT_B };
	assert_int_equal(registry_entry_list(f->registry, &combined, &list, &err), 0);
	assert_int_equal(list->count, 1);
	assert_string_equal(list->entries[0]->id, made[2]->id);
	registry_entry_list_free(list);

	/* Pages of two: 2 + 2 + 1, in id order, each entry once. */
	struct registry_entry_filter page = { .limit = 2 };
	size_t seen = 0;
	char token[REGISTRY_ENTRY_ID_LEN + 1] = "";
	char last[REGISTRY_ENTRY_ID_LEN + 1] = "";
	for (int round = 0; round < 3; round++) {
		page.page_token = token[0] ? token : NULL;
		assert_int_equal(registry_entry_list(f->registry, &page, &list, &err), 0);
		assert_int_equal(list->count, round < 2 ? 2 : 1);
		for (size_t i = 0; i < list->count; i++) {
			assert_true(strcmp(list->entries[i]->id, last) > 0);
			memcpy(last, list->entries[i]->id, sizeof(last));
			seen++;
		}
		memcpy(token, list->next_page_token, sizeof(token));
		registry_entry_list_free(list);
	}
	assert_int_equal(seen, 5);
	assert_string_equal(token, "");

	struct registry_entry_filter bad = { .selector = "nocolon" };
	assert_int_equal(registry_entry_list(f->registry, &bad, &list, &err), WD_EINVAL);
	assert_null(list);
	struct registry_entry_filter bad_token = { .page_token = "x' OR '1'='1" };
	assert_int_equal(registry_entry_list(f->registry, &bad_token, &list, &err), WD_EINVAL);

	for (size_t i = 0; i < 5; i++)
		registry_entry_free(made[i]);
}

struct invalid_case {
	const char *name;
	struct registry_entry_input input;
	const char *detail;
};

static const char *const one_selector[] = { "unix:uid:1000" };
static const char *const no_colon[] = { "unix" };
static const char *const empty_value[] = { "unix:" };
static const char *const upper_type[] = { "Unix:uid:1" };
static const char *const control_value[] = { "unix:uid:\x01" };
static const char *const duplicate[] = { "unix:uid:1", "k8s:ns:a", "unix:uid:1" };
static const char *const bad_dns_dash[] = { "-bad.example.com" };
static const char *const bad_dns_empty_label[] = { "a..example.com" };
static const char *const bad_dns_underscore[] = { "foo_bar.example.com" };
static const char *const bad_dns_inner_wildcard[] = { "*.*.example.com" };
static const char *const bad_dns_partial_wildcard[] = { "x*.example.com" };
static const char *const bad_dns_trailing_dot[] = { "example.com." };
static const char *const bad_dns_long_label[] = {
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com",
};
static const char *const dup_dns[] = { "a.example.com", "A.Example.COM" };

#define BASE_FIELDS (REGISTRY_FIELD_SPIFFE_ID | REGISTRY_FIELD_PARENT_ID | REGISTRY_FIELD_SELECTORS)
#define WEB "spiffe://example.org/web"

/* Every field spelled out: fields, spiffe_id, parent_id, selectors and
 * their count, TTLs, DNS names and their count. */
#define INPUT(fields_, spiffe_, parent_, selectors_, selector_count_, x509_, jwt_, dns_, dns_count_) \
	{ .fields = (fields_), .spiffe_id = (spiffe_), .parent_id = (parent_),  \
	  .selectors = (selectors_), .selector_count = (selector_count_),      \
	  .x509_svid_ttl = (x509_), .jwt_svid_ttl = (jwt_), .dns_names = (dns_), \
	  .dns_name_count = (dns_count_) }
#define IDS(spiffe_, parent_) INPUT(BASE_FIELDS, spiffe_, parent_, one_selector, 1, 0, 0, NULL, 0)
#define SELECTORS(list_, count_) INPUT(BASE_FIELDS, WEB, AGENT_A, list_, count_, 0, 0, NULL, 0)
#define DNS(list_, count_)                                                     \
	INPUT(BASE_FIELDS | REGISTRY_FIELD_DNS_NAMES, WEB, AGENT_A, one_selector, 1, 0, 0, list_, count_)

static const struct invalid_case invalid_cases[] = {
	{ "bad scheme", IDS("http://example.org/web", AGENT_A), "invalid \"spiffe_id\": " },
	{ "foreign trust domain", IDS("spiffe://other.org/web", AGENT_A),
	  "invalid \"spiffe_id\" \"spiffe://other.org/web\": not in trust domain \"example.org\"" },
	{ "root path", IDS("spiffe://example.org", AGENT_A),
	  "invalid \"spiffe_id\" \"spiffe://example.org\": a path is required" },
	{ "agent path", IDS(AGENT_B, AGENT_A),
	  "invalid \"spiffe_id\" \"" AGENT_B "\": paths under /warden are reserved for warden's own identities" },
	{ "server path", IDS("spiffe://example.org/warden/server", AGENT_A),
	  "invalid \"spiffe_id\" \"spiffe://example.org/warden/server\": paths under /warden are reserved for warden's own identities" },
	{ "bad parent", IDS(WEB, "spiffe://example.org/a//b"), "invalid \"parent_id\": " },
	{ "foreign parent", IDS(WEB, "spiffe://other.org/agent"),
	  "invalid \"parent_id\" \"spiffe://other.org/agent\": not in trust domain \"example.org\"" },
	{ "missing spiffe_id",
	  INPUT(REGISTRY_FIELD_PARENT_ID | REGISTRY_FIELD_SELECTORS, NULL, AGENT_A, one_selector, 1,
		0, 0, NULL, 0),
	  "missing \"spiffe_id\"" },
	{ "empty selectors", SELECTORS(one_selector, 0),
	  "invalid \"selectors\": at least one selector is required" },
	{ "selector without colon", SELECTORS(no_colon, 1),
	  "invalid selector \"unix\" in \"selectors\": expected type:value" },
	{ "selector without value", SELECTORS(empty_value, 1),
	  "invalid selector \"unix:\" in \"selectors\": expected type:value" },
	{ "selector type uppercase", SELECTORS(upper_type, 1),
	  "invalid selector \"Unix:uid:1\" in \"selectors\": type must match [a-z0-9_-]+" },
	{ "selector control value", SELECTORS(control_value, 1),
	  "invalid selector \"unix:uid:\x01\" in \"selectors\": value must be printable ASCII" },
	{ "duplicate selector", SELECTORS(duplicate, 3),
	  "duplicate selector \"unix:uid:1\" in \"selectors\"" },
	{ "negative x509 ttl",
	  INPUT(BASE_FIELDS | REGISTRY_FIELD_X509_SVID_TTL, WEB, AGENT_A, one_selector, 1, -1, 0,
		NULL, 0),
	  "invalid \"x509_svid_ttl\" -1: must be 0 (server default) to 2592000 seconds" },
	{ "jwt ttl above maximum",
	  INPUT(BASE_FIELDS | REGISTRY_FIELD_JWT_SVID_TTL, WEB, AGENT_A, one_selector, 1, 0,
		2592001, NULL, 0),
	  "invalid \"jwt_svid_ttl\" 2592001: must be 0 (server default) to 2592000 seconds" },
	{ "dns leading dash", DNS(bad_dns_dash, 1),
	  "invalid DNS name \"-bad.example.com\" in \"dns_names\": a label must not start or end with '-'" },
	{ "dns empty label", DNS(bad_dns_empty_label, 1),
	  "invalid DNS name \"a..example.com\" in \"dns_names\": empty label" },
	{ "dns underscore", DNS(bad_dns_underscore, 1),
	  "invalid DNS name \"foo_bar.example.com\" in \"dns_names\": labels may hold only letters, digits and '-'" },
	{ "dns inner wildcard", DNS(bad_dns_inner_wildcard, 1),
	  "invalid DNS name \"*.*.example.com\" in \"dns_names\": a wildcard is allowed only as the whole first label" },
	{ "dns partial wildcard", DNS(bad_dns_partial_wildcard, 1),
	  "invalid DNS name \"x*.example.com\" in \"dns_names\": a wildcard is allowed only as the whole first label" },
	{ "dns trailing dot", DNS(bad_dns_trailing_dot, 1),
	  "invalid DNS name \"example.com.\" in \"dns_names\": empty label" },
	{ "dns long label", DNS(bad_dns_long_label, 1),
	  "invalid DNS name \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com\" in \"dns_names\": label longer than 63 bytes" },
	{ "dns duplicate", DNS(dup_dns, 2),
	  "duplicate DNS name \"A.Example.COM\" in \"dns_names\"" },
};

static void entry_invalid_inputs_rejected(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < WD_ARRAY_LEN(invalid_cases); i++) {
		const struct invalid_case *c = &invalid_cases[i];
		struct registry_entry *entry = (struct registry_entry *)1;
		struct wd_error err = { 0 };
		int rc = registry_entry_create(f->registry, &c->input, 1000, &entry, &err);

		if (rc != WD_EINVAL || strncmp(err.detail, c->detail, strlen(c->detail)) != 0)
			fail_msg("case \"%s\": rc %d, detail \"%s\", expected \"%s\"", c->name, rc,
				err.detail, c->detail);
		assert_null(entry);
		assert_int_equal(count_rows(f, "registry_entries"), 0);
		assert_int_equal(count_rows(f, "registry_entry_selectors"), 0);
	}
}

static void entry_selector_count_limit(void **state)
{
	struct fixture *f = *state;
	char texts[REGISTRY_MAX_SELECTORS + 1][32];
	const char *selectors[REGISTRY_MAX_SELECTORS + 1];
	struct registry_entry_input input = SELECTORS(selectors, 0);
	struct registry_entry *entry = NULL;
	struct wd_error err = { 0 };

	for (size_t i = 0; i <= REGISTRY_MAX_SELECTORS; i++) {
		snprintf(texts[i], sizeof(texts[i]), "unix:uid:%zu", i);
		selectors[i] = texts[i];
	}
	input.selector_count = REGISTRY_MAX_SELECTORS + 1;
	assert_int_equal(registry_entry_create(f->registry, &input, 1000, NULL, &err), WD_EINVAL);
	assert_string_equal(err.detail, "invalid \"selectors\": 65 selectors, more than the maximum 64");
	assert_int_equal(count_rows(f, "registry_entries"), 0);

	input.selector_count = REGISTRY_MAX_SELECTORS;
	assert_int_equal(registry_entry_create(f->registry, &input, 1000, &entry, &err), 0);
	assert_int_equal(entry->selector_count, REGISTRY_MAX_SELECTORS);
	assert_int_equal(count_rows(f, "registry_entry_selectors"), REGISTRY_MAX_SELECTORS);
	registry_entry_free(entry);

	char long_selector[REGISTRY_SELECTOR_MAX_LEN + 2];
	memset(long_selector, 'v', sizeof(long_selector) - 1);
	memcpy(long_selector, "unix:", 5);
	long_selector[sizeof(long_selector) - 1] = '\0';
	assert_int_equal(registry_selector_validate(long_selector, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, ": longer than 1024 bytes"));
	long_selector[REGISTRY_SELECTOR_MAX_LEN] = '\0';
	assert_int_equal(registry_selector_validate(long_selector, &err), 0);
}

static void selector_validate_cases(void **state)
{
	struct wd_error err = { 0 };

	(void)state;
	assert_int_equal(registry_selector_validate("unix:uid:1000", &err), 0);
	assert_int_equal(registry_selector_validate("cgroup:/system.slice/x", &err), 0);
	assert_int_equal(registry_selector_validate("k8s:pod-label:app:web server", &err), 0);
	assert_int_equal(registry_selector_validate(":value", &err), WD_EINVAL);
	assert_string_equal(err.detail, "invalid selector \":value\": expected type:value");
	assert_int_equal(registry_selector_validate("unix", &err), WD_EINVAL);
	assert_int_equal(registry_selector_validate("un ix:x", &err), WD_EINVAL);
	assert_int_equal(registry_selector_validate("unix:a\nb", &err), WD_EINVAL);
	assert_int_equal(registry_selector_validate(NULL, &err), WD_EINVAL);
}

static void dns_name_validate_cases(void **state)
{
	struct wd_error err = { 0 };
	char name[300];

	(void)state;
	assert_int_equal(registry_dns_name_validate("example.com", &err), 0);
	assert_int_equal(registry_dns_name_validate("*.example.com", &err), 0);
	assert_int_equal(registry_dns_name_validate("1st.example.com", &err), 0);
	assert_int_equal(registry_dns_name_validate("localhost", &err), 0);
	assert_int_equal(registry_dns_name_validate("", &err), WD_EINVAL);
	assert_int_equal(registry_dns_name_validate("*", &err), WD_EINVAL);
	assert_int_equal(registry_dns_name_validate("*.", &err), WD_EINVAL);
	assert_int_equal(registry_dns_name_validate("a-.example.com", &err), WD_EINVAL);
	assert_int_equal(registry_dns_name_validate("ex ample.com", &err), WD_EINVAL);

	/* 4 labels of 63 plus 3 dots is 255 bytes: over the 253-byte limit. */
	memset(name, 'a', 255);
	name[63] = name[127] = name[191] = '.';
	name[255] = '\0';
	assert_int_equal(registry_dns_name_validate(name, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "longer than 253 bytes"));
	name[253] = '\0';
	assert_int_equal(registry_dns_name_validate(name, &err), 0);
}

static const char *const delta_selectors_1[] = { "unix:uid:1" };
static const char *const delta_selectors_2[] = { "unix:uid:2" };

static struct registry_entry_input delta_input(const char *spiffe_id, const char *parent_id,
	const char *const *selectors)
{
	return (struct registry_entry_input){
		.fields = REGISTRY_FIELD_SPIFFE_ID | REGISTRY_FIELD_PARENT_ID |
			REGISTRY_FIELD_SELECTORS,
		.spiffe_id = spiffe_id,
		.parent_id = parent_id,
		.selectors = selectors,
		.selector_count = 1,
	};
}

static bool changes_hold_id(const struct registry_entry_changes *changes, const char *id)
{
	for (size_t i = 0; i < changes->id_count; i++)
		if (strcmp(changes->ids[i], id) == 0)
			return true;
	return false;
}

static void authorized_changes_delta(void **state)
{
	struct fixture *f = *state;
	struct registry_entry_input input_a = delta_input("spiffe://example.org/a", AGENT_A,
		delta_selectors_1);
	struct registry_entry_input input_nested = delta_input("spiffe://example.org/nested",
		"spiffe://example.org/a", delta_selectors_1);
	struct registry_entry_input input_other = delta_input("spiffe://example.org/other",
		AGENT_B, delta_selectors_1);
	struct registry_entry *a = NULL;
	struct registry_entry *nested = NULL;
	struct registry_entry *other = NULL;
	struct registry_entry_changes *changes = NULL;
	struct wd_error err = { 0 };
	int64_t revision;

	assert_int_equal(registry_entry_create(f->registry, &input_a, 1000, &a, &err), 0);
	assert_int_equal(registry_entry_create(f->registry, &input_nested, 1000, &nested, &err), 0);
	assert_int_equal(registry_entry_create(f->registry, &input_other, 1000, &other, &err), 0);

	/* From 0: every authorized entry, nested ones included, none of B's. */
	assert_int_equal(registry_authorized_changes(f->registry, AGENT_A, 0, &changes, &err), 0);
	assert_int_equal(changes->changed_count, 2);
	assert_int_equal(changes->id_count, 2);
	assert_true(changes_hold_id(changes, a->id));
	assert_true(changes_hold_id(changes, nested->id));
	assert_false(changes_hold_id(changes, other->id));
	assert_true(strcmp(changes->ids[0], changes->ids[1]) < 0);
	assert_string_equal(changes->changed[0]->id, changes->ids[0]);
	revision = changes->revision;
	assert_true(revision > 1);
	registry_entry_changes_free(changes);

	/* Nothing changed since the revision. */
	assert_int_equal(registry_authorized_changes(f->registry, AGENT_A, revision, &changes,
		&err), 0);
	assert_int_equal(changes->changed_count, 0);
	assert_int_equal(changes->id_count, 2);
	assert_int_equal(changes->revision, revision);
	registry_entry_changes_free(changes);

	/* A change to B's entry moves the counter but brings A nothing. */
	struct registry_entry_input change_other = {
		.fields = REGISTRY_FIELD_SELECTORS, .selectors = delta_selectors_2,
		.selector_count = 1,
	};
	assert_int_equal(registry_entry_update(f->registry, other->id, &change_other, 1001, NULL,
		&err), 0);
	assert_int_equal(registry_authorized_changes(f->registry, AGENT_A, revision, &changes,
		&err), 0);
	assert_int_equal(changes->changed_count, 0);
	assert_true(changes->revision > revision);
	revision = changes->revision;
	registry_entry_changes_free(changes);

	/* An update of the nested entry comes alone. */
	struct registry_entry_input ttl = { .fields = REGISTRY_FIELD_X509_SVID_TTL,
		.x509_svid_ttl = 60 };
	assert_int_equal(registry_entry_update(f->registry, nested->id, &ttl, 1002, NULL, &err), 0);
	assert_int_equal(registry_authorized_changes(f->registry, AGENT_A, revision, &changes,
		&err), 0);
	assert_int_equal(changes->changed_count, 1);
	assert_string_equal(changes->changed[0]->id, nested->id);
	assert_int_equal(changes->changed[0]->x509_svid_ttl, 60);
	assert_int_equal(changes->changed[0]->revision, 1);
	revision = changes->revision;
	registry_entry_changes_free(changes);

	/* Deleting the parent entry takes the nested one out of reach: both
	 * leave the id list, with no tombstone. */
	assert_int_equal(registry_entry_delete(f->registry, a->id, NULL, &err), 0);
	assert_int_equal(registry_authorized_changes(f->registry, AGENT_A, revision, &changes,
		&err), 0);
	assert_int_equal(changes->changed_count, 0);
	assert_int_equal(changes->id_count, 0);
	assert_true(changes->revision > revision);
	registry_entry_changes_free(changes);

	registry_entry_free(a);
	registry_entry_free(nested);
	registry_entry_free(other);
}

static void authorized_changes_rejects_bad_input(void **state)
{
	struct fixture *f = *state;
	struct registry_entry_changes *changes = (struct registry_entry_changes *)1;
	struct wd_error err = { 0 };

	assert_int_equal(registry_authorized_changes(f->registry, AGENT_A, -1, &changes, &err),
		WD_EINVAL);
	assert_null(changes);
	assert_non_null(strstr(err.detail, "since"));
	changes = (struct registry_entry_changes *)1;
	assert_int_equal(registry_authorized_changes(f->registry, "spiffe://other.org/x", 0,
		&changes, &err), WD_EINVAL);
	assert_null(changes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(entry_create_and_get, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(entry_get_unknown_names_id, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(entry_update_partial_increments_revision,
			fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(entry_update_invalid_changes_nothing, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(entry_duplicate_names_existing, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(entry_delete_returns_entry, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(entry_list_filters_and_pages, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(entry_invalid_inputs_rejected, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(entry_selector_count_limit, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(authorized_changes_delta, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(authorized_changes_rejects_bad_input, fixture_setup,
			fixture_teardown),
		cmocka_unit_test(selector_validate_cases),
		cmocka_unit_test(dns_name_validate_cases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
