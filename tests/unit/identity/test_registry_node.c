/* Unit tests for attested nodes: attest, check, renew, evict and ban. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "registry_fixture.h"

static void node_attest_and_check(void **state)
{
	struct fixture *f = *state;
	struct registry_node *node = NULL;
	struct wd_error err = { 0 };

	assert_int_equal(registry_node_attest(f->registry, AGENT_A, "00AB12", 5000, 1000, &err), 0);
	assert_int_equal(registry_node_check(f->registry, AGENT_A, NULL, 1001, &err), 0);
	assert_int_equal(registry_node_check(f->registry, AGENT_A, "ab12", 1001, &err), 0);
	assert_int_equal(registry_node_check(f->registry, AGENT_A, "0000AB12", 1001, &err), 0);

	assert_int_equal(registry_node_get(f->registry, AGENT_A, &node, &err), 0);
	assert_string_equal(node->agent_id, AGENT_A);
	assert_string_equal(node->serial, "ab12");
	assert_int_equal(node->not_after, 5000);
	assert_string_equal(node->previous_serial, "");
	assert_int_equal(node->attested_at, 1000);
	assert_false(node->banned);
	registry_node_free(node);

	assert_int_equal(registry_node_check(f->registry, AGENT_A, "ab13", 1001, &err), WD_EPERM);
	assert_string_equal(err.detail, "SVID serial ab13 is not a current SVID of agent " AGENT_A);
	assert_int_equal(registry_node_check(f->registry, AGENT_A, NULL, 5000, &err), WD_EEXPIRED);
	assert_string_equal(err.detail, "SVID ab12 of agent " AGENT_A " expired at 5000");

	assert_int_equal(registry_node_check(f->registry, AGENT_B, NULL, 1001, &err), WD_ENOTFOUND);
	assert_string_equal(err.detail, "agent " AGENT_B " is not attested (evicted?)");
}

/* The expiry that a caller may keep a passed check until: the checked
 * serial's, current or previous, and nothing on failure. */
static void node_check_until_expiry(void **state)
{
	struct fixture *f = *state;
	struct wd_error err = { 0 };
	int64_t not_after = -1;

	assert_int_equal(registry_node_attest(f->registry, AGENT_A, "01", 5000, 1000, &err), 0);
	assert_int_equal(registry_node_renew(f->registry, AGENT_A, "02", 8000, 3000, &err), 0);

	assert_int_equal(registry_node_check_until(f->registry, AGENT_A, "02", 3001, &not_after,
		&err), 0);
	assert_int_equal(not_after, 8000);
	assert_int_equal(registry_node_check_until(f->registry, AGENT_A, "01", 3001, &not_after,
		&err), 0);
	assert_int_equal(not_after, 5000);
	assert_int_equal(registry_node_check_until(f->registry, AGENT_A, NULL, 3001, &not_after,
		&err), 0);
	assert_int_equal(not_after, 8000);

	assert_int_equal(registry_node_check_until(f->registry, AGENT_A, "01", 5000, &not_after,
		&err), WD_EEXPIRED);
	assert_int_equal(not_after, 0);
	assert_int_equal(registry_node_ban(f->registry, AGENT_A, 3002, &err), 0);
	not_after = -1;
	assert_int_equal(registry_node_check_until(f->registry, AGENT_A, "02", 3003, &not_after,
		&err), WD_EBANNED);
	assert_int_equal(not_after, 0);
}

static void node_invalid_input(void **state)
{
	struct fixture *f = *state;
	struct wd_error err = { 0 };

	assert_int_equal(registry_node_attest(f->registry, "spiffe://example.org/web", "01", 5000,
		1000, &err), WD_EINVAL);
	assert_string_equal(err.detail,
		"invalid agent ID \"spiffe://example.org/web\": the path must start with /warden/agent/");
	assert_int_equal(registry_node_attest(f->registry, "spiffe://other.org/warden/agent/x",
		"01", 5000, 1000, &err), WD_EINVAL);
	assert_int_equal(registry_node_attest(f->registry, AGENT_A, "xyz", 5000, 1000, &err),
		WD_EINVAL);
	assert_string_equal(err.detail,
		"invalid SVID serial number \"xyz\": expected 1 to 64 hexadecimal digits");
	assert_int_equal(registry_node_attest(f->registry, AGENT_A, "", 5000, 1000, &err), WD_EINVAL);
	assert_int_equal(registry_node_attest(f->registry, AGENT_A, "01", 1000, 1000, &err),
		WD_EINVAL);
	assert_int_equal(count_rows(f, "registry_nodes"), 0);
}

static void node_renew_keeps_previous(void **state)
{
	struct fixture *f = *state;
	struct wd_error err = { 0 };

	assert_int_equal(registry_node_attest(f->registry, AGENT_A, "01", 5000, 1000, &err), 0);
	assert_int_equal(registry_node_renew(f->registry, AGENT_A, "02", 8000, 3000, &err), 0);
	assert_int_equal(registry_node_check(f->registry, AGENT_A, "02", 3001, &err), 0);
	assert_int_equal(registry_node_check(f->registry, AGENT_A, "01", 3001, &err), 0);
	assert_int_equal(registry_node_check(f->registry, AGENT_A, "01", 5000, &err), WD_EEXPIRED);

	/* A retried renewal to the same serial keeps "01" as the previous. */
	assert_int_equal(registry_node_renew(f->registry, AGENT_A, "02", 8000, 3002, &err), 0);
	assert_int_equal(registry_node_check(f->registry, AGENT_A, "01", 3003, &err), 0);

	assert_int_equal(registry_node_renew(f->registry, AGENT_A, "03", 9000, 4000, &err), 0);
	assert_int_equal(registry_node_check(f->registry, AGENT_A, "02", 4001, &err), 0);
	assert_int_equal(registry_node_check(f->registry, AGENT_A, "01", 4001, &err), WD_EPERM);

	/* Attesting again drops the previous serial. */
	assert_int_equal(registry_node_attest(f->registry, AGENT_A, "10", 9000, 4500, &err), 0);
	assert_int_equal(registry_node_check(f->registry, AGENT_A, "03", 4501, &err), WD_EPERM);

	assert_int_equal(registry_node_renew(f->registry, AGENT_B, "02", 8000, 3000, &err),
		WD_ENOTFOUND);
}

static void node_evict_requires_reattest(void **state)
{
	struct fixture *f = *state;
	struct wd_error err = { 0 };

	assert_int_equal(registry_node_attest(f->registry, AGENT_A, "01", 5000, 1000, &err), 0);
	assert_int_equal(registry_node_evict(f->registry, AGENT_A, &err), 0);
	assert_int_equal(registry_node_check(f->registry, AGENT_A, "01", 1001, &err), WD_ENOTFOUND);
	assert_string_equal(err.detail, "agent " AGENT_A " is not attested (evicted?)");
	assert_int_equal(count_rows(f, "registry_nodes"), 0);

	assert_int_equal(registry_node_evict(f->registry, AGENT_A, &err), WD_ENOTFOUND);
	assert_string_equal(err.detail, "agent " AGENT_A " is not attested (evicted?)");
}

static void node_ban_blocks_until_evict(void **state)
{
	struct fixture *f = *state;
	struct registry_node *node = NULL;
	struct wd_error err = { 0 };

	assert_int_equal(registry_node_ban(f->registry, AGENT_A, 1000, &err), WD_ENOTFOUND);
	assert_string_equal(err.detail, "agent " AGENT_A " is not attested (evicted?)");

	assert_int_equal(registry_node_attest(f->registry, AGENT_A, "01", 5000, 1000, &err), 0);
	assert_int_equal(registry_node_ban(f->registry, AGENT_A, 1100, &err), 0);

	assert_int_equal(registry_node_check(f->registry, AGENT_A, NULL, 1101, &err), WD_EBANNED);
	assert_string_equal(err.detail, "agent " AGENT_A " is banned");
	assert_int_equal(registry_node_check(f->registry, AGENT_A, "01", 1101, &err), WD_EBANNED);
	assert_int_equal(registry_node_attest(f->registry, AGENT_A, "02", 6000, 1200, &err),
		WD_EBANNED);
	assert_string_equal(err.detail, "agent " AGENT_A " is banned");
	assert_int_equal(registry_node_renew(f->registry, AGENT_A, "02", 6000, 1200, &err),
		WD_EBANNED);

	assert_int_equal(registry_node_get(f->registry, AGENT_A, &node, &err), 0);
	assert_true(node->banned);
	assert_string_equal(node->serial, "");
	assert_int_equal(node->updated_at, 1100);
	registry_node_free(node);

	/* Evicting a banned agent lifts the ban, as SPIRE's DeleteAgent does. */
	assert_int_equal(registry_node_evict(f->registry, AGENT_A, &err), 0);
	assert_int_equal(registry_node_attest(f->registry, AGENT_A, "02", 6000, 1300, &err), 0);
	assert_int_equal(registry_node_check(f->registry, AGENT_A, "02", 1301, &err), 0);
}

static void node_list_pages(void **state)
{
	struct fixture *f = *state;
	struct registry_node_list *list = NULL;
	struct wd_error err = { 0 };
	char agent[128];

	for (int i = 0; i < 5; i++) {
		snprintf(agent, sizeof(agent), "spiffe://example.org/warden/agent/join_token/%02d", i);
		assert_int_equal(registry_node_attest(f->registry, agent, "01", 5000, 1000, &err), 0);
	}
	assert_int_equal(registry_node_ban(f->registry,
		"spiffe://example.org/warden/agent/join_token/03", 1000, &err), 0);

	assert_int_equal(registry_node_list(f->registry, NULL, 3, &list, &err), 0);
	assert_int_equal(list->count, 3);
	assert_string_equal(list->nodes[0]->agent_id,
		"spiffe://example.org/warden/agent/join_token/00");
	assert_string_equal(list->next_page_token,
		"spiffe://example.org/warden/agent/join_token/02");
	snprintf(agent, sizeof(agent), "%s", list->next_page_token);
	registry_node_list_free(list);

	assert_int_equal(registry_node_list(f->registry, agent, 3, &list, &err), 0);
	assert_int_equal(list->count, 2);
	assert_string_equal(list->nodes[0]->agent_id,
		"spiffe://example.org/warden/agent/join_token/03");
	assert_true(list->nodes[0]->banned);
	assert_false(list->nodes[1]->banned);
	assert_null(list->next_page_token);
	registry_node_list_free(list);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(node_attest_and_check, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(node_check_until_expiry, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(node_invalid_input, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(node_renew_keeps_previous, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(node_evict_requires_reattest, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(node_ban_blocks_until_evict, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(node_list_pages, fixture_setup, fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
