/* Change notification through the datastore. On PostgreSQL a NOTIFY sent
 * in a transaction reaches a listener on another connection at commit, with
 * its exact payload, and never after a rollback. It arrives again once a
 * lost listener connection is reconnected by store_listen. On SQLite
 * sending is a no-op and listening is unsupported. */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "store_fixture.h"

struct received {
	char payloads[8][STORE_NOTIFY_PAYLOAD_MAX + 1];
	size_t count;
	size_t refreshes;   /* calls with a NULL payload */
	size_t foreign;     /* calls not marked as this process's */
};

static void on_notify(const char *payload, bool own, void *arg)
{
	struct received *received = arg;

	if (!own)
		received->foreign++;
	if (!payload) {
		received->refreshes++;
		return;
	}
	if (received->count < 8)
		snprintf(received->payloads[received->count++], STORE_NOTIFY_PAYLOAD_MAX + 1, "%s",
			payload);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Polls the listener for up to timeout_ms or until want notifications
 * arrived; returns the drain result of the last round. */
static int wait_for(struct store *listener, struct received *received, size_t want,
	int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	struct wd_error err;
	int rc = 0;

	while (received->count < want) {
		int64_t left = deadline - now_ms();
		struct pollfd pfd = { .fd = store_listen_fd(listener), .events = POLLIN };

		if (left <= 0)
			break;
		if (poll(&pfd, 1, (int)left) <= 0)
			break;
		rc = store_listen_drain(listener, on_notify, received, &err);
		if (rc < 0)
			break;
	}
	return rc;
}

static void sqlite_has_no_listener(void **state)
{
	struct fixture *f = *state;
	struct wd_error err;

	skip_unless_sqlite(f);
	assert_int_equal(store_notify(f->store, "policy:authz", &err), 0);
	assert_int_equal(store_listen(f->store, &err), WD_EUNSUPPORTED);
	assert_int_equal(store_listen_fd(f->store), -1);
}

static void payload_limit(void **state)
{
	struct fixture *f = *state;
	char payload[STORE_NOTIFY_PAYLOAD_MAX + 2];
	struct wd_error err;

	memset(payload, 'a', sizeof(payload) - 1);
	payload[sizeof(payload) - 1] = '\0';
	assert_int_equal(store_notify(f->store, payload, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "201 bytes"));
}

static void delivered_at_commit(void **state)
{
	struct fixture *f = *state;
	struct store *listener = NULL;
	struct received received = { 0 };
	struct wd_error err;

	skip_unless_postgres(f);
	assert_int_equal(store_open(f->path, NULL, &listener, &err), 0);
	assert_int_equal(store_listen(listener, &err), 0);
	assert_true(store_listen_fd(listener) >= 0);

	/* Held until commit. */
	assert_int_equal(store_begin(f->store, &err), 0);
	assert_int_equal(store_notify(f->store, "policy:authz", &err), 0);
	assert_int_equal(wait_for(listener, &received, 1, 200), 0);
	assert_int_equal(received.count, 0);
	assert_int_equal(store_commit(f->store, &err), 0);
	assert_int_equal(wait_for(listener, &received, 1, 1000), 0);
	assert_int_equal(received.count, 1);
	assert_string_equal(received.payloads[0], "policy:authz");

	/* Dropped by a rollback; the next commit's comes alone. */
	assert_int_equal(store_begin(f->store, &err), 0);
	assert_int_equal(store_notify(f->store, "entry:rolled-back", &err), 0);
	store_rollback(f->store);
	assert_int_equal(store_notify(f->store, "seal", &err), 0);
	assert_int_equal(wait_for(listener, &received, 2, 1000), 0);
	assert_int_equal(received.count, 2);
	assert_string_equal(received.payloads[1], "seal");
	assert_int_equal(wait_for(listener, &received, 3, 200), 0);
	assert_int_equal(received.count, 2);
	assert_int_equal(received.refreshes, 0);
	assert_int_equal(received.foreign, 0);

	/* Another process's notification (here written by hand in the wire
	 * form) is not marked own; one without a process id is dropped. */
	exec_ok(f->store, "SELECT pg_notify($1, '0123456789abcdef entry:7')",
		(struct store_value[]){ STORE_TEXT_VALUE(STORE_NOTIFY_CHANNEL) }, 1);
	exec_ok(f->store, "SELECT pg_notify($1, 'entry:8')",
		(struct store_value[]){ STORE_TEXT_VALUE(STORE_NOTIFY_CHANNEL) }, 1);
	assert_int_equal(wait_for(listener, &received, 3, 1000), 0);
	assert_int_equal(received.count, 3);
	assert_string_equal(received.payloads[2], "entry:7");
	assert_int_equal(received.foreign, 1);
	assert_int_equal(wait_for(listener, &received, 4, 200), 0);
	assert_int_equal(received.count, 3);
	store_close(listener);
}

static void reconnects_after_loss(void **state)
{
	struct fixture *f = *state;
	struct store *listener = NULL;
	struct received received = { 0 };
	struct store_value pid[1];
	struct wd_error err;
	int rc = 0;

	skip_unless_postgres(f);
	assert_int_equal(store_open(f->path, NULL, &listener, &err), 0);
	pid[0] = STORE_INT_VALUE(query_int(listener, "SELECT pg_backend_pid()", NULL, 0));
	assert_int_equal(store_listen(listener, &err), 0);
	assert_int_equal(query_int(f->store,
		"SELECT CASE WHEN pg_terminate_backend(CAST($1 AS INTEGER)) THEN 1 ELSE 0 END", pid,
		1), 1);

	/* The loss shows as readable socket, then WD_EUNAVAILABLE. */
	for (int i = 0; i < 20 && rc == 0; i++)
		rc = wait_for(listener, &received, 1, 100);
	assert_int_equal(rc, WD_EUNAVAILABLE);
	assert_int_equal(store_listen(listener, &err), 0);
	assert_int_equal(store_notify(f->store, "ca", &err), 0);
	assert_int_equal(wait_for(listener, &received, 1, 1000), 0);
	assert_int_equal(received.count, 1);
	assert_string_equal(received.payloads[0], "ca");
	store_close(listener);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(sqlite_has_no_listener, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(payload_limit, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(delivered_at_commit, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(reconnects_after_loss, fixture_setup,
			fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
