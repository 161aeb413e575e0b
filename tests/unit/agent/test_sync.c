/* End-to-end test of the agent against a running warden server: attest with
 * a join token, reload the persisted identity without one, pre-minted SVIDs,
 * an update re-minted, a deletion dropped, rotation at half life and
 * eviction. tests/integration/test_agent_sync.py starts the server and runs
 * this program with WARDEN_TEST_ADDRESS (host:port), WARDEN_TEST_ADMIN (the
 * admin socket), WARDEN_TEST_BUNDLE (CA PEM file) and WARDEN_TEST_DIR (a
 * scratch directory); without them it skips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "agent/agent.h"
#include "agent/selectors.h"
#include "net/net_client.h"

#define SKIP_EXIT 77

static const char *address, *admin_socket, *bundle_path, *scratch;

/* Sends one admin request and returns the parsed JSON reply. */
static json_t *admin(const char *method, const char *path, json_t *body, int expected)
{
	struct net_client_config config = { .unix_path = admin_socket };
	struct net_client *client = NULL;
	struct net_response *response = NULL;
	struct wd_error err = { 0 };
	json_t *reply = NULL;

	assert_int_equal(net_client_connect(&config, &client, &err), 0);
	assert_int_equal(net_client_request_json(client, method, path, body, &response, &err), 0);
	if (response->status != expected)
		fail_msg("%s %s: %d %s", method, path, response->status, (char *)response->body);
	assert_int_equal(net_response_json(response, &reply, &err), 0);
	net_response_free(response);
	net_client_free(client);
	json_decref(body);
	return reply;
}

static void make_config(struct agent_config *config, const char *token, const char *data_dir)
{
	struct wd_error err = { 0 };

	assert_int_equal(agent_config_load(NULL, config, NULL), 0);
	assert_int_equal(agent_config_set(config, "server_address", address, &err), 0);
	assert_int_equal(agent_config_set(config, "trust_domain", "example.org", &err), 0);
	assert_int_equal(agent_config_set(config, "trust_bundle_path", bundle_path, &err), 0);
	assert_int_equal(agent_config_set(config, "data_dir", data_dir, &err), 0);
	assert_int_equal(agent_config_set(config, "sync_interval", "1s", &err), 0);
	if (token)
		assert_int_equal(agent_config_set(config, "join_token", token, &err), 0);
	assert_int_equal(agent_config_validate(config, &err), 0);
}

static struct agent_svid_list *match_uid(struct agent *agent, const char *uid_selector)
{
	const char *selectors[] = { uid_selector };
	struct agent_selector_set *set = NULL;
	struct agent_svid_list *list = NULL;
	struct wd_error err = { 0 };

	assert_int_equal(agent_selector_set_parse(selectors, 1, 0, &set, &err), 0);
	assert_int_equal(agent_cache_match(agent_cache(agent), set, &list), 0);
	agent_selector_set_free(set);
	return list;
}

/* Polls cond for up to seconds; returns whether it became true. */
#define WAIT_FOR(cond, seconds)                                                \
	({                                                                     \
		bool ok_ = false;                                              \
		for (int i_ = 0; i_ < (seconds) * 10 && !ok_; i_++) {          \
			ok_ = (cond);                                          \
			if (!ok_)                                              \
				usleep(100000);                                \
		}                                                              \
		ok_;                                                           \
	})

static size_t svid_count(struct agent *agent, const char *selector)
{
	struct agent_svid_list *list = match_uid(agent, selector);
	size_t count = list->count;

	agent_svid_list_free(list);
	return count;
}

static int64_t first_expiry(struct agent *agent, const char *selector)
{
	struct agent_svid_list *list = match_uid(agent, selector);
	int64_t expiry = list->count ? list->items[0].expires_at : 0;

	agent_svid_list_free(list);
	return expiry;
}

static void agent_end_to_end(void **state)
{
	struct agent_config config;
	struct agent *agent = NULL;
	struct wd_error err = { 0 };
	char data_dir[512];
	char key_path[600];
	struct stat st;

	(void)state;
	snprintf(data_dir, sizeof(data_dir), "%s/agent-data", scratch);
	json_t *token = admin("POST", "/v1/tokens", NULL, 201);
	const char *agent_id = json_string_value(json_object_get(token, "agent_id"));

	json_t *web = admin("POST", "/v1/entries", json_pack("{s:s, s:s, s:[s]}", "spiffe_id",
		"spiffe://example.org/e2e/web", "parent_id", agent_id, "selectors",
		"unix:uid:1000"), 201);
	json_t *db = admin("POST", "/v1/entries", json_pack("{s:s, s:s, s:[s], s:i}", "spiffe_id",
		"spiffe://example.org/e2e/db", "parent_id", agent_id, "selectors", "unix:uid:1001",
		"x509_svid_ttl", 6), 201);
	char path[128];

	/* Attest with the token. */
	make_config(&config, json_string_value(json_object_get(token, "token")), data_dir);
	assert_int_equal(agent_new(&config, NULL, &agent, &err), 0);
	agent_set_log(agent, agent_log_write, NULL);
	if (agent_start(agent, &err) != 0)
		fail_msg("agent_start: %s", err.detail);
	assert_int_equal(agent_state(agent), AGENT_STATE_ATTESTED);
	snprintf(key_path, sizeof(key_path), "%s/node-svid.key", data_dir);
	assert_int_equal(stat(key_path, &st), 0);
	assert_int_equal(st.st_mode & 077, 0);

	/* Entries pre-minted by the first sync. */
	assert_int_equal(svid_count(agent, "unix:uid:1000"), 1);
	assert_int_equal(svid_count(agent, "unix:uid:1001"), 1);
	assert_int_equal(svid_count(agent, "unix:uid:9"), 0);

	/* Rotation at half of the 6 s lifetime, jitter ±0.6 s. */
	int64_t before = first_expiry(agent, "unix:uid:1001");
	assert_true(WAIT_FOR(first_expiry(agent, "unix:uid:1001") > before, 6));

	/* An update re-mints: a new selector moves the entry to uid 1002. */
	snprintf(path, sizeof(path), "/v1/entries/%s",
		json_string_value(json_object_get(web, "id")));
	json_decref(admin("PATCH", path, json_pack("{s:[s]}", "selectors", "unix:uid:1002"), 200));
	assert_true(WAIT_FOR(svid_count(agent, "unix:uid:1002") == 1, 5));
	assert_int_equal(svid_count(agent, "unix:uid:1000"), 0);

	/* A deletion is dropped within an interval or two. */
	snprintf(path, sizeof(path), "/v1/entries/%s",
		json_string_value(json_object_get(db, "id")));
	json_decref(admin("DELETE", path, NULL, 200));
	assert_true(WAIT_FOR(svid_count(agent, "unix:uid:1001") == 0, 5));

	/* Restart without the token: the persisted identity is loaded. */
	agent_free(agent);
	agent_config_free(&config);
	make_config(&config, NULL, data_dir);
	assert_int_equal(agent_new(&config, NULL, &agent, &err), 0);
	agent_set_log(agent, agent_log_write, NULL);
	if (agent_start(agent, &err) != 0)
		fail_msg("agent_start after restart: %s", err.detail);
	assert_int_equal(svid_count(agent, "unix:uid:1002"), 1);

	/* Eviction stops serving. */
	json_decref(admin("POST", "/v1/agents/evict", json_pack("{s:s}", "spiffe_id", agent_id),
		200));
	assert_true(WAIT_FOR(agent_state(agent) != AGENT_STATE_ATTESTED, 10));
	struct agent_status status;
	agent_status(agent, &status);
	if (status.state != AGENT_STATE_EVICTED && status.state != AGENT_STATE_REVOKED)
		fail_msg("state %s: %s", agent_state_name(status.state), status.reason);
	assert_true(status.reason[0] != '\0');
	assert_int_equal(svid_count(agent, "unix:uid:1002"), 0);
	agent_free(agent);
	agent_config_free(&config);

	/* A group-readable key is rejected at start. */
	assert_int_equal(chmod(key_path, 0640), 0);
	make_config(&config, NULL, data_dir);
	assert_int_equal(agent_new(&config, NULL, &agent, &err), 0);
	agent_set_log(agent, agent_log_write, NULL);
	assert_int_equal(agent_start(agent, &err), WD_EPERM);
	agent_free(agent);
	agent_config_free(&config);

	json_decref(web);
	json_decref(db);
	json_decref(token);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(agent_end_to_end),
	};

	address = getenv("WARDEN_TEST_ADDRESS");
	admin_socket = getenv("WARDEN_TEST_ADMIN");
	bundle_path = getenv("WARDEN_TEST_BUNDLE");
	scratch = getenv("WARDEN_TEST_DIR");
	if (!address || !admin_socket || !bundle_path || !scratch) {
		printf("SKIP: needs a running server; tests/integration/test_agent_sync.py runs "
			"this test with one\n");
		return SKIP_EXIT;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
