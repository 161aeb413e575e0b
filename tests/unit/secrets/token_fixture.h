/* Shared setup for the token and auth tests. Each test gets a dev-mode
 * secrets service on a temporary SQLite store (barrier unsealed, root token
 * "root-test", auth/cert/ and auth/jwt/ mounted) with a trust-domain
 * authority for example.org. call_backend sends one request to a backend as
 * the request core does. */
#pragma once

#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/alloc.h"
#include "identity/authority.h"
#include "secrets/barrier.h"
#include "secrets/secrets.h"
#include "secrets/secrets_internal.h"
#include "secrets/token_internal.h"
#include "store/store.h"
#include "../store/test_datastore.h"

#define ROOT_TOKEN "root-test"

struct fixture {
	char dir[64];
	char db_path[128];
	struct store *store;
	struct authority *authority;
	struct secrets *secrets;
	struct wd_error err;
};

static inline int fixture_remove_entry(const char *path, const struct stat *st, int flag,
	struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline int fixture_setup(void **state)
{
	struct secrets_config config = {
		.dev = true,
		.dev_root_token = ROOT_TOKEN,
	};
	struct authority_config authority_config;
	struct fixture *f = wd_calloc(1, sizeof(*f));
	int rc;

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/wd-token-test-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	test_datastore_setup(f->db_path, sizeof(f->db_path), f->dir, "state.db");
	assert_int_equal(store_open(f->db_path, NULL, &f->store, &f->err), 0);

	authority_config_init(&authority_config);
	authority_config.trust_domain = "example.org";
	authority_config.data_dir = f->dir;
	rc = authority_open(&authority_config, f->store, (int64_t)time(NULL), &f->authority,
		&f->err);
	if (rc != 0)
		fail_msg("authority_open: %d %s", rc, f->err.detail);

	rc = secrets_open(f->store, NULL, NULL, f->authority, &config, &f->secrets, &f->err);
	if (rc != 0)
		fail_msg("secrets_open: %d %s", rc, f->err.detail);
	rc = vault_mount_add(f->secrets, "auth/cert", "cert", "", NULL, 0, 0, &f->err);
	if (rc == 0)
		rc = vault_mount_add(f->secrets, "auth/jwt", "jwt", "", NULL, 0, 0, &f->err);
	if (rc != 0)
		fail_msg("vault_mount_add: %d %s", rc, f->err.detail);
	*state = f;
	return 0;
}

static inline int fixture_teardown(void **state)
{
	struct fixture *f = *state;

	if (!f)
		return 0;
	secrets_free(f->secrets);
	authority_close(f->authority);
	store_close(f->store);
	nftw(f->dir, fixture_remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* One request and the backend's response. */
struct call {
	struct vault_request req;
	struct vault_response resp;
	struct wd_error err;
	int rc;
};

static inline void call_clear(struct call *c)
{
	free(c->req.path);
	json_decref(c->req.body);
	free(c->req.client_token);
	token_free(c->req.token);
	vault_response_clear(&c->resp);
	memset(c, 0, sizeof(*c));
}

/* Sends op on path (below /v1/) with a JSON body (NULL: none) and a client
 * token (NULL: none). The request passes the token lookup, the existence
 * check and the mount's backend as in the request core, but not the ACL,
 * which has its own tests. Returns the backend's result; c keeps the
 * response. */
static inline int call_backend(struct fixture *f, struct call *c, enum vault_op op,
	const char *path, const char *body, const char *client_token)
{
	const struct vault_backend *backend;
	json_error_t json_err;

	memset(c, 0, sizeof(*c));
	c->req.op = op;
	c->req.path = strdup(path);
	c->req.body = json_loads(body ? body : "{}", 0, &json_err);
	if (!c->req.body)
		fail_msg("test body is not JSON: %s", json_err.text);
	c->req.client_token = client_token ? strdup(client_token) : NULL;
	c->req.mount = vault_mount_lookup(f->secrets, path);
	assert_non_null(c->req.mount);
	c->req.rel = c->req.path + strlen(c->req.mount->path);
	backend = c->req.mount->backend;

	if (!backend->unauthenticated || !backend->unauthenticated(c->req.rel, op)) {
		if (!client_token)
			return c->rc = wd_error_set(&c->err, WD_EPERM, "permission denied");
		c->rc = token_lookup(f->secrets, client_token, &c->req.token, &c->err);
		if (c->rc < 0)
			return c->rc;
	}
	if (op == VAULT_OP_UPDATE && backend->exists) {
		bool exists = true;

		c->rc = backend->exists(f->secrets, &c->req, &exists, &c->err);
		if (c->rc < 0)
			return c->rc;
		if (!exists)
			c->req.op = VAULT_OP_CREATE;
	}
	c->rc = backend->handle(f->secrets, &c->req, &c->resp, &c->err);
	return c->rc;
}

/* Runs a call that must succeed, and clears it. */
static inline void call_ok(struct fixture *f, enum vault_op op, const char *path,
	const char *body, const char *client_token)
{
	struct call c;

	if (call_backend(f, &c, op, path, body, client_token) != 0)
		fail_msg("%s: %d %s", path, c.rc, c.err.detail);
	call_clear(&c);
}

/* Asserts that c failed with code and exactly message. */
static inline void assert_call_error(const struct call *c, int code, const char *message)
{
	if (c->rc != code)
		fail_msg("expected %d (%s), got %d: %s", code, message, c->rc, c->err.detail);
	assert_string_equal(c->err.detail, message);
}

/* Returns the string member key of obj, failing the test when absent. */
static inline const char *json_str(const json_t *obj, const char *key)
{
	const json_t *value = json_object_get(obj, key);

	if (!json_is_string(value))
		fail_msg("\"%s\" is not a string", key);
	return json_string_value(value);
}

static inline json_int_t json_int(const json_t *obj, const char *key)
{
	const json_t *value = json_object_get(obj, key);

	if (!json_is_integer(value))
		fail_msg("\"%s\" is not an integer", key);
	return json_integer_value(value);
}

/* Asserts that list is a JSON array holding exactly the given strings in
 * order; the variadic part ends with NULL. */
static inline void assert_string_list(const json_t *list, ...)
{
	va_list ap;
	const char *expected;
	size_t index = 0;

	assert_true(json_is_array(list));
	va_start(ap, list);
	while ((expected = va_arg(ap, const char *))) {
		const json_t *item = json_array_get(list, index);

		if (!json_is_string(item))
			fail_msg("item %zu is missing; expected \"%s\"", index, expected);
		assert_string_equal(json_string_value(item), expected);
		index++;
	}
	va_end(ap);
	assert_int_equal(json_array_size(list), index);
}
