/* Unit tests for the agent's SVID cache: selector matching and its order,
 * deep copies, entry changes, JWT-SVID reuse driven by a fake clock, and
 * the change callback on the event-loop thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#include <cmocka.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "cert_fixture.h"

#include "agent/cache.h"
#include "agent/rotation.h"
#include "agent/selectors.h"

static int64_t fake_now = 1000;

static int64_t fake_clock(void *arg)
{
	(void)arg;
	return fake_now;
}

static const char *const uid_selectors[] = { "unix:uid:1000" };
static const char *const uid_gid_selectors[] = { "unix:uid:1000", "unix:gid:50" };
static const char *const other_selectors[] = { "unix:uid:2000" };

static void put(struct agent_cache *cache, const char *id, const char *spiffe_id,
	const char *const *selectors, size_t count, int64_t revision)
{
	struct agent_entry_view view = {
		.id = id,
		.spiffe_id = spiffe_id,
		.selectors = selectors,
		.selector_count = count,
		.revision = revision,
	};
	struct wd_error err = { 0 };

	assert_int_equal(agent_cache_put_entry(cache, &view, &err), 0);
}

static void give_svid(struct agent_cache *cache, const char *id, int64_t not_after)
{
	static const uint8_t chain[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
	static const uint8_t key[] = { 0x30, 0x03, 0x02, 0x01, 0x02 };

	assert_int_equal(agent_cache_set_svid(cache, id, chain, sizeof(chain), key, sizeof(key),
		fake_now - 10, not_after, fake_now + 100), 0);
}

static struct agent_selector_set *workload(const char *const *selectors, size_t count)
{
	struct agent_selector_set *set = NULL;
	struct wd_error err = { 0 };

	assert_int_equal(agent_selector_set_parse(selectors, count, 0, &set, &err), 0);
	return set;
}

static struct agent_cache *new_cache(void)
{
	struct agent_cache *cache = NULL;
	struct wd_error err = { 0 };

	fake_now = 1000;
	assert_int_equal(agent_cache_new("example.org", NULL, fake_clock, NULL, &cache, &err), 0);
	return cache;
}

static void match_subset_in_id_order(void **state)
{
	struct agent_cache *cache = new_cache();
	struct agent_selector_set *both = workload(uid_gid_selectors, 2);
	struct agent_selector_set *uid = workload(uid_selectors, 1);
	struct agent_svid_list *list = NULL;

	(void)state;
	put(cache, "c", "spiffe://example.org/c", uid_gid_selectors, 2, 0);
	put(cache, "a", "spiffe://example.org/a", uid_selectors, 1, 0);
	put(cache, "b", "spiffe://example.org/b", other_selectors, 1, 0);
	put(cache, "d", "spiffe://example.org/d", uid_selectors, 1, 0);
	give_svid(cache, "c", 5000);
	give_svid(cache, "a", 5000);
	give_svid(cache, "b", 5000);
	/* "d" has no SVID yet, so it is not served. */

	assert_int_equal(agent_cache_match(cache, both, &list), 0);
	assert_int_equal(list->count, 2);
	assert_string_equal(list->items[0].entry_id, "a");
	assert_string_equal(list->items[1].entry_id, "c");
	assert_string_equal(list->items[0].spiffe_id, "spiffe://example.org/a");
	assert_string_equal(list->items[0].hint, "");
	assert_int_equal(list->items[0].expires_at, 5000);
	agent_svid_list_free(list);

	/* A workload with fewer selectors than the entry does not match it. */
	assert_int_equal(agent_cache_match(cache, uid, &list), 0);
	assert_int_equal(list->count, 1);
	assert_string_equal(list->items[0].entry_id, "a");
	agent_svid_list_free(list);

	/* Expired SVIDs are not served. */
	fake_now = 6000;
	assert_int_equal(agent_cache_match(cache, both, &list), 0);
	assert_int_equal(list->count, 0);
	agent_svid_list_free(list);

	agent_selector_set_free(both);
	agent_selector_set_free(uid);
	agent_cache_free(cache);
}

static void match_returns_deep_copies(void **state)
{
	struct agent_cache *cache = new_cache();
	struct agent_selector_set *uid = workload(uid_selectors, 1);
	struct agent_svid_list *list = NULL;
	size_t dropped = 0;

	(void)state;
	put(cache, "a", "spiffe://example.org/a", uid_selectors, 1, 0);
	give_svid(cache, "a", 5000);
	assert_int_equal(agent_cache_match(cache, uid, &list), 0);
	assert_int_equal(list->count, 1);

	/* Dropping the entry leaves the caller's copy intact. */
	assert_int_equal(agent_cache_retain(cache, NULL, 0, &dropped), 0);
	assert_int_equal(dropped, 1);
	assert_int_equal(agent_cache_entry_count(cache), 0);
	assert_string_equal(list->items[0].spiffe_id, "spiffe://example.org/a");
	assert_int_equal(list->items[0].chain_der_len, 5);
	assert_int_equal(list->items[0].key_der[4], 0x02);
	agent_svid_list_free(list);

	agent_selector_set_free(uid);
	agent_cache_free(cache);
}

static void entry_change_needs_new_svid(void **state)
{
	struct agent_cache *cache = new_cache();
	char **due = NULL;
	size_t due_count = 0;
	const char *keep[] = { "b" };
	size_t dropped = 0;

	(void)state;
	put(cache, "a", "spiffe://example.org/a", uid_selectors, 1, 0);
	put(cache, "b", "spiffe://example.org/b", uid_selectors, 1, 0);
	assert_int_equal(agent_cache_due(cache, fake_now, &due, &due_count), 0);
	assert_int_equal(due_count, 2);
	agent_cache_ids_free(due, due_count);

	give_svid(cache, "a", 5000);
	give_svid(cache, "b", 5000);
	assert_int_equal(agent_cache_due(cache, fake_now, &due, &due_count), 0);
	assert_int_equal(due_count, 0);
	agent_cache_ids_free(due, due_count);
	assert_int_equal(agent_cache_next_rotation(cache), fake_now + 100);

	/* The same revision keeps the SVID; a new one drops it. */
	put(cache, "a", "spiffe://example.org/a", uid_selectors, 1, 0);
	assert_int_equal(agent_cache_due(cache, fake_now, &due, &due_count), 0);
	assert_int_equal(due_count, 0);
	agent_cache_ids_free(due, due_count);
	put(cache, "a", "spiffe://example.org/a", uid_selectors, 1, 1);
	assert_int_equal(agent_cache_due(cache, fake_now, &due, &due_count), 0);
	assert_int_equal(due_count, 1);
	assert_string_equal(due[0], "a");
	agent_cache_ids_free(due, due_count);

	/* Rotation time reached. */
	assert_int_equal(agent_cache_due(cache, fake_now + 100, &due, &due_count), 0);
	assert_int_equal(due_count, 2);
	agent_cache_ids_free(due, due_count);

	assert_int_equal(agent_cache_retain(cache, keep, 1, &dropped), 0);
	assert_int_equal(dropped, 1);
	assert_int_equal(agent_cache_entry_count(cache), 1);
	assert_int_equal(agent_cache_set_svid(cache, "a", (const uint8_t *)"x", 1,
		(const uint8_t *)"y", 1, 1, 2, 2), WD_ENOTFOUND);
	agent_cache_free(cache);
}

static void put_entry_rejects_bad_selectors(void **state)
{
	struct agent_cache *cache = new_cache();
	static const char *const bad[] = { "nocolon" };
	struct agent_entry_view view = {
		.id = "a", .spiffe_id = "spiffe://example.org/a", .selectors = bad,
		.selector_count = 1,
	};
	struct wd_error err = { 0 };

	(void)state;
	assert_int_equal(agent_cache_put_entry(cache, &view, &err), WD_EINVAL);
	view.selector_count = 0;
	assert_int_equal(agent_cache_put_entry(cache, &view, &err), WD_ETOOBIG);
	assert_int_equal(agent_cache_entry_count(cache), 0);
	agent_cache_free(cache);
}

struct fetch_log {
	int calls;
	char last_entry[64];
	size_t last_audience_count;
};

static int fake_fetch(const char *entry_id, const char *const *audiences, size_t audience_count,
	char **ret_token, int64_t *ret_expires_at, void *arg, struct wd_error *err)
{
	struct fetch_log *log = arg;
	char token[64];

	(void)audiences;
	(void)err;
	log->calls++;
	snprintf(log->last_entry, sizeof(log->last_entry), "%s", entry_id);
	log->last_audience_count = audience_count;
	snprintf(token, sizeof(token), "token-%s-%d", entry_id, log->calls);
	*ret_token = strdup(token);
	*ret_expires_at = fake_now + 300;
	return 0;
}

static void jwt_reused_until_half_life(void **state)
{
	struct agent_cache *cache = new_cache();
	struct agent_selector_set *uid = workload(uid_selectors, 1);
	struct agent_jwt_svid_list *list = NULL;
	struct fetch_log log = { 0 };
	struct wd_error err = { 0 };
	const char *audiences[] = { "b", "a" };
	const char *same_set[] = { "a", "b", "a" };
	const char *other_set[] = { "a" };

	(void)state;
	put(cache, "a", "spiffe://example.org/a", uid_selectors, 1, 0);
	assert_int_equal(agent_cache_jwt(cache, uid, NULL, audiences, 2, &list, &err),
		WD_EUNAVAILABLE);
	agent_cache_set_jwt_fetch(cache, fake_fetch, &log);

	assert_int_equal(agent_cache_jwt(cache, uid, NULL, audiences, 2, &list, &err), 0);
	assert_int_equal(log.calls, 1);
	assert_int_equal(list->count, 1);
	assert_string_equal(list->items[0].token, "token-a-1");
	assert_string_equal(list->items[0].spiffe_id, "spiffe://example.org/a");
	assert_int_equal(list->items[0].expires_at, 1300);
	agent_jwt_svid_list_free(list);

	/* The same audience set in another order reuses the token. */
	fake_now = 1149;
	assert_int_equal(agent_cache_jwt(cache, uid, NULL, same_set, 3, &list, &err), 0);
	assert_int_equal(log.calls, 1);
	assert_string_equal(list->items[0].token, "token-a-1");
	agent_jwt_svid_list_free(list);

	/* Another audience set is fetched on its own. */
	assert_int_equal(agent_cache_jwt(cache, uid, NULL, other_set, 1, &list, &err), 0);
	assert_int_equal(log.calls, 2);
	agent_jwt_svid_list_free(list);

	/* Half of the 300 s lifetime has passed: fetched again. */
	fake_now = 1150;
	assert_int_equal(agent_cache_jwt(cache, uid, NULL, audiences, 2, &list, &err), 0);
	assert_int_equal(log.calls, 3);
	assert_string_equal(list->items[0].token, "token-a-3");
	agent_jwt_svid_list_free(list);

	/* A new revision of the entry forgets its tokens. */
	put(cache, "a", "spiffe://example.org/a", uid_selectors, 1, 1);
	assert_int_equal(agent_cache_jwt(cache, uid, NULL, audiences, 2, &list, &err), 0);
	assert_int_equal(log.calls, 4);
	agent_jwt_svid_list_free(list);

	assert_int_equal(agent_cache_jwt(cache, uid, "spiffe://example.org/none", audiences, 2,
		&list, &err), WD_ENOTFOUND);
	assert_null(list);
	assert_int_equal(agent_cache_jwt(cache, uid, NULL, audiences, 0, &list, &err), WD_EINVAL);

	agent_selector_set_free(uid);
	agent_cache_free(cache);
}

static void bundle_copied(void **state)
{
	struct agent_cache *cache = new_cache();
	struct agent_bundle *bundle = NULL;
	struct agent_revoked_list *revoked = NULL;
	struct wd_error err = { 0 };
	static const uint8_t not_der[] = { 1, 2, 3 };
	static const uint8_t crl_a[] = { 4 };
	static const uint8_t crl_b[] = { 5, 6 };
	const uint8_t *crls[] = { crl_a, crl_b };
	size_t crl_lens[] = { 1, 2 };
	EVP_PKEY *ca_key = fixture_key();
	X509 *ca = fixture_cert("ca", ca_key, 1, NULL, NULL);
	uint8_t *ca_der = NULL;
	size_t ca_der_len = 0;

	(void)state;
	fixture_append_der(ca, &ca_der, &ca_der_len);
	assert_int_equal(agent_cache_bundle(cache, &bundle), WD_ENOTFOUND);
	assert_int_equal(agent_cache_set_bundle(cache, not_der, sizeof(not_der), NULL, crls,
		crl_lens, 2, 7, &revoked, &err), WD_EINVAL);
	assert_null(revoked);
	assert_int_equal(agent_cache_bundle(cache, &bundle), WD_ENOTFOUND);

	assert_int_equal(agent_cache_set_bundle(cache, ca_der, ca_der_len, "{\"keys\":[]}", crls,
		crl_lens, 2, 7, &revoked, &err), 0);
	assert_int_equal(revoked->count, 0);
	agent_revoked_list_free(revoked);
	assert_int_equal(agent_cache_bundle(cache, &bundle), 0);
	assert_string_equal(bundle->trust_domain, "example.org");
	assert_int_equal(bundle->x509_authorities_der_len, ca_der_len);
	assert_int_equal(bundle->crl_count, 2);
	assert_int_equal(bundle->crl_der_len[1], 2);
	assert_int_equal(bundle->crl_der[1][1], 6);
	assert_int_equal(bundle->sequence, 7);
	assert_int_equal(agent_cache_bundle_sequence(cache), 7);
	agent_bundle_free(bundle);

	agent_cache_clear(cache);
	assert_int_equal(agent_cache_bundle(cache, &bundle), WD_ENOTFOUND);
	agent_cache_free(cache);
	free(ca_der);
	X509_free(ca);
	EVP_PKEY_free(ca_key);
}

struct loop_check {
	struct event_base *base;
	pthread_t loop_thread;
	int calls;
	bool on_loop_thread;
};

static void on_change(struct agent_cache *cache, void *arg)
{
	struct loop_check *check = arg;

	(void)cache;
	check->calls++;
	check->on_loop_thread = pthread_equal(pthread_self(), check->loop_thread);
	event_base_loopexit(check->base, NULL);
}

static void *writer_thread(void *arg)
{
	struct agent_cache *cache = arg;

	put(cache, "a", "spiffe://example.org/a", uid_selectors, 1, 0);
	return NULL;
}

static void change_cb_runs_on_loop_thread(void **state)
{
	struct loop_check check = { 0 };
	struct agent_cache *cache = NULL;
	struct wd_error err = { 0 };
	struct timeval limit = { 5, 0 };
	pthread_t writer;

	(void)state;
	assert_int_equal(evthread_use_pthreads(), 0);
	check.base = event_base_new();
	assert_non_null(check.base);
	check.loop_thread = pthread_self();
	assert_int_equal(agent_cache_new("example.org", check.base, fake_clock, NULL, &cache, &err),
		0);
	agent_cache_set_change_cb(cache, on_change, &check);

	assert_int_equal(pthread_create(&writer, NULL, writer_thread, cache), 0);
	assert_int_equal(pthread_join(writer, NULL), 0);
	/* Bounded, so a missing notification fails the test instead of hanging. */
	event_base_loopexit(check.base, &limit);
	assert_int_equal(event_base_dispatch(check.base), 0);
	assert_int_equal(check.calls, 1);
	assert_true(check.on_loop_thread);
	assert_int_equal(agent_cache_generation(cache), 1);

	agent_cache_free(cache);
	event_base_free(check.base);
}

static void rotation_at_half_life_with_jitter(void **state)
{
	(void)state;
	for (int i = 0; i < 200; i++) {
		int64_t at = agent_rotation_time(1000, 2000);

		assert_true(at >= 1400);
		assert_true(at <= 1600);
	}
	assert_int_equal(agent_rotation_time(1000, 1000), 1000);
	assert_int_equal(agent_rotation_time(1000, 1004), 1002);
	assert_int_equal(agent_backoff_next(0, 5, 60), 5);
	assert_int_equal(agent_backoff_next(5, 5, 60), 10);
	assert_int_equal(agent_backoff_next(40, 5, 60), 60);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(match_subset_in_id_order),
		cmocka_unit_test(match_returns_deep_copies),
		cmocka_unit_test(entry_change_needs_new_svid),
		cmocka_unit_test(put_entry_rejects_bad_selectors),
		cmocka_unit_test(jwt_reused_until_half_life),
		cmocka_unit_test(bundle_copied),
		cmocka_unit_test(change_cb_runs_on_loop_thread),
		cmocka_unit_test(rotation_at_half_life_with_jitter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
