/* Unit tests for authorization: which entries an agent may obtain SVIDs
 * for, through direct children, aliases and cycles, and admin entries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "registry_fixture.h"

static bool list_has(const struct registry_entry_list *list, const char *id)
{
	for (size_t i = 0; i < list->count; i++) {
		if (strcmp(list->entries[i]->id, id) == 0)
			return true;
	}
	return false;
}

static void authorize_child_alias_and_unrelated(void **state)
{
	struct fixture *f = *state;
	struct registry_entry *child = make_entry(f, "spiffe://example.org/web", AGENT_A,
		"unix:uid:1000", false);
	struct registry_entry *alias = make_entry(f, "spiffe://example.org/node/alias", AGENT_A,
		"warden:agent:true", false);
	struct registry_entry *grandchild = make_entry(f, "spiffe://example.org/db",
		"spiffe://example.org/node/alias", "unix:uid:999", false);
	struct registry_entry *unrelated = make_entry(f, "spiffe://example.org/other", AGENT_B,
		"unix:uid:1000", false);
	struct registry_entry_list *list = NULL;
	struct registry_entry *entry = NULL;
	struct wd_error err = { 0 };
	char expected[512];

	assert_int_equal(registry_authorized_entries(f->registry, AGENT_A, &list, &err), 0);
	assert_int_equal(list->count, 3);
	assert_true(list_has(list, child->id));
	assert_true(list_has(list, alias->id));
	assert_true(list_has(list, grandchild->id));
	assert_false(list_has(list, unrelated->id));
	registry_entry_list_free(list);

	assert_int_equal(registry_entry_authorized(f->registry, AGENT_A, child->id, &entry, &err), 0);
	assert_string_equal(entry->spiffe_id, "spiffe://example.org/web");
	registry_entry_free(entry);
	assert_int_equal(registry_entry_authorized(f->registry, AGENT_A, grandchild->id, &entry,
		&err), 0);
	assert_string_equal(entry->id, grandchild->id);
	registry_entry_free(entry);

	entry = (struct registry_entry *)1;
	assert_int_equal(registry_entry_authorized(f->registry, AGENT_A, unrelated->id, &entry,
		&err), WD_EPERM);
	assert_null(entry);
	snprintf(expected, sizeof(expected),
		"entry \"%s\" (spiffe://example.org/other) is not authorized for agent " AGENT_A,
		unrelated->id);
	assert_string_equal(err.detail, expected);

	assert_int_equal(registry_entry_authorized(f->registry, AGENT_A,
		"0b6ec2a4-5c3f-4c11-9e1a-1f7d3b0c2e55", &entry, &err), WD_ENOTFOUND);
	assert_string_equal(err.detail, "entry \"0b6ec2a4-5c3f-4c11-9e1a-1f7d3b0c2e55\" not found");

	/* The other agent is authorized only for its own entry. */
	assert_int_equal(registry_authorized_entries(f->registry, AGENT_B, &list, &err), 0);
	assert_int_equal(list->count, 1);
	assert_string_equal(list->entries[0]->id, unrelated->id);
	registry_entry_list_free(list);

	registry_entry_free(child);
	registry_entry_free(alias);
	registry_entry_free(grandchild);
	registry_entry_free(unrelated);
}

static void authorize_cycle_terminates(void **state)
{
	struct fixture *f = *state;
	/* /a and /b parent each other; /a also hangs from agent A. */
	struct registry_entry *a = make_entry(f, "spiffe://example.org/a", "spiffe://example.org/b",
		"unix:uid:1", false);
	struct registry_entry *b = make_entry(f, "spiffe://example.org/b", "spiffe://example.org/a",
		"unix:uid:2", false);
	struct registry_entry *root = make_entry(f, "spiffe://example.org/a", AGENT_A, "unix:uid:3",
		false);
	struct registry_entry_list *list = NULL;
	struct registry_entry *entry = NULL;
	struct wd_error err = { 0 };

	assert_int_equal(registry_authorized_entries(f->registry, AGENT_A, &list, &err), 0);
	assert_int_equal(list->count, 3);
	assert_true(list_has(list, a->id));
	assert_true(list_has(list, b->id));
	assert_true(list_has(list, root->id));
	registry_entry_list_free(list);

	/* Agent B reaches nothing, and the upward walk over the cycle ends. */
	assert_int_equal(registry_authorized_entries(f->registry, AGENT_B, &list, &err), 0);
	assert_int_equal(list->count, 0);
	registry_entry_list_free(list);
	assert_int_equal(registry_entry_authorized(f->registry, AGENT_B, b->id, &entry, &err),
		WD_EPERM);

	registry_entry_free(a);
	registry_entry_free(b);
	registry_entry_free(root);
}

static int depth_setup(void **state)
{
	return fixture_setup_with(state, &(struct registry_options){
		.trust_domain = TD,
		.max_authorization_depth = 3,
		.max_authorized_entries = 4,
	});
}

static void authorize_depth_and_count_bounds(void **state)
{
	struct fixture *f = *state;
	struct registry_entry *chain[4];
	struct registry_entry_list *list = NULL;
	struct registry_entry *entry = NULL;
	struct wd_error err = { 0 };

	/* AGENT_A -> /l1 -> /l2 -> /l3 -> /l4: the fourth link is past depth 3. */
	chain[0] = make_entry(f, "spiffe://example.org/l1", AGENT_A, "unix:uid:1", false);
	chain[1] = make_entry(f, "spiffe://example.org/l2", "spiffe://example.org/l1", "unix:uid:2",
		false);
	chain[2] = make_entry(f, "spiffe://example.org/l3", "spiffe://example.org/l2", "unix:uid:3",
		false);
	chain[3] = make_entry(f, "spiffe://example.org/l4", "spiffe://example.org/l3", "unix:uid:4",
		false);

	assert_int_equal(registry_authorized_entries(f->registry, AGENT_A, &list, &err), 0);
	assert_int_equal(list->count, 3);
	assert_false(list_has(list, chain[3]->id));
	registry_entry_list_free(list);
	assert_int_equal(registry_entry_authorized(f->registry, AGENT_A, chain[2]->id, &entry, &err),
		0);
	registry_entry_free(entry);
	assert_int_equal(registry_entry_authorized(f->registry, AGENT_A, chain[3]->id, &entry, &err),
		WD_EPERM);

	/* Two more direct children make five: over the ceiling of four. */
	registry_entry_free(make_entry(f, "spiffe://example.org/c1", AGENT_A, "unix:uid:5", false));
	registry_entry_free(make_entry(f, "spiffe://example.org/c2", AGENT_A, "unix:uid:6", false));
	list = (struct registry_entry_list *)1;
	assert_int_equal(registry_authorized_entries(f->registry, AGENT_A, &list, &err), WD_ETOOBIG);
	assert_null(list);
	assert_string_equal(err.detail, "agent " AGENT_A " is authorized for more than 4 entries");

	for (size_t i = 0; i < 4; i++)
		registry_entry_free(chain[i]);
}

static void admin_check_cases(void **state)
{
	struct fixture *f = *state;

	registry_entry_free(make_entry(f, "spiffe://example.org/ops/admin", AGENT_A, "unix:uid:0",
		true));
	registry_entry_free(make_entry(f, "spiffe://example.org/web", AGENT_A, "unix:uid:1", false));

	assert_true(registry_admin_check(f->registry, "spiffe://example.org/ops/admin"));
	assert_false(registry_admin_check(f->registry, "spiffe://example.org/web"));
	assert_false(registry_admin_check(f->registry, "spiffe://example.org/ops"));
	assert_false(registry_admin_check(f->registry, "spiffe://other.org/ops/admin"));
	assert_false(registry_admin_check(f->registry, "not a spiffe id"));
	assert_false(registry_admin_check(f->registry, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(authorize_child_alias_and_unrelated, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(authorize_cycle_terminates, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(authorize_depth_and_count_bounds, depth_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(admin_check_cases, fixture_setup, fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
