/* Unit tests for the KV secrets engine: the backend's handle() driven with
 * hand-built requests against an unsealed barrier on a temporary store,
 * one KV v2 mount ("secret/") and one KV v1 mount ("kv1/"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/alloc.h"
#include "secrets/barrier.h"
#include "secrets/kv_internal.h"
#include "secrets/secrets_internal.h"
#include "store/store.h"
#include "../store/test_datastore.h"

struct fixture {
	char dir[64];
	char path[128];
	struct store *store;
	struct secrets secrets;
	struct vault_mount v2;
	struct vault_mount v1;
	struct vault_response resp;
	struct wd_error err;
};

static int fixture_setup(void **state)
{
	struct fixture *f = wd_calloc(1, sizeof(*f));
	uint8_t **shares = NULL;
	bool unsealed = false;
	struct wd_error err;

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/wd-kv-test-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	test_datastore_setup(f->path, sizeof(f->path), f->dir, "test.db");
	if (store_open(f->path, NULL, &f->store, &err) < 0 ||
	    barrier_open(f->store, &f->secrets.barrier, &err) < 0 ||
	    barrier_init(f->secrets.barrier, 1, 1, &shares, &err) < 0 ||
	    barrier_unseal(f->secrets.barrier, shares[0], BARRIER_SHARE_LEN, false, &unsealed,
		    &err) < 0 || !unsealed) {
		fprintf(stderr, "barrier setup: %s\n", wd_error_text(&err));
		return -1;
	}
	barrier_shares_free(shares, 1);

	snprintf(f->v2.path, sizeof(f->v2.path), "secret/");
	snprintf(f->v2.uuid, sizeof(f->v2.uuid), "0f6c3c1e-2d7a-4b8e-9c51-3a2f1e0d9b71");
	f->v2.backend = &vault_backend_kv;
	f->v2.options = json_pack("{s:s}", "version", "2");
	snprintf(f->v1.path, sizeof(f->v1.path), "kv1/");
	snprintf(f->v1.uuid, sizeof(f->v1.uuid), "5b1d8e2a-77c4-4f0e-a3b9-c2e81d4f6a10");
	f->v1.backend = &vault_backend_kv;
	f->v1.options = json_pack("{s:s}", "version", "1");
	*state = f;
	return 0;
}

static int fixture_teardown(void **state)
{
	struct fixture *f = *state;
	char path[256];

	vault_response_clear(&f->resp);
	json_decref(f->v2.options);
	json_decref(f->v1.options);
	barrier_free(f->secrets.barrier);
	store_close(f->store);
	snprintf(path, sizeof(path), "%s/test.db", f->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/test.db-wal", f->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/test.db-shm", f->dir);
	unlink(path);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Sends one request to the KV backend: rel below the mount and a JSON
 * body text (NULL for an empty one). The response lands in f->resp, which
 * is cleared first. */
static int call(struct fixture *f, struct vault_mount *mount, enum vault_op op, const char *rel,
	const char *body)
{
	char path[VAULT_PATH_MAX + 256];
	struct vault_request req = { 0 };
	json_error_t jerr;
	int rc;

	vault_response_clear(&f->resp);
	wd_error_clear(&f->err);
	snprintf(path, sizeof(path), "%s%s", mount->path, rel);
	req.op = op;
	req.path = path;
	req.body = body ? json_loads(body, 0, &jerr) : json_object();
	if (!req.body)
		fail_msg("bad test body %s: %s", body, jerr.text);
	req.mount = mount;
	req.rel = req.path + strlen(mount->path);
	rc = vault_backend_kv.handle(&f->secrets, &req, &f->resp, &f->err);
	json_decref(req.body);
	return rc;
}

/* Asserts that value equals the JSON text expected, printing both. */
static void assert_json(const json_t *value, const char *expected)
{
	json_t *want = json_loads(expected, JSON_DECODE_ANY, NULL);
	char *got = value ? json_dumps(value, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY) :
			    NULL;

	assert_non_null(want);
	if (!value || !json_equal(value, want))
		fail_msg("JSON differs\n  got:      %s\n  expected: %s", got ? got : "(null)",
			expected);
	free(got);
	json_decref(want);
}

/* Returns the string at a dotted path of the last response's data. */
static const char *data_string(struct fixture *f, const char *first, const char *second)
{
	json_t *value = json_object_get(f->resp.data, first);

	if (second)
		value = json_object_get(value, second);
	assert_true(json_is_string(value));
	return json_string_value(value);
}

static json_int_t data_int(struct fixture *f, const char *first, const char *second)
{
	json_t *value = json_object_get(f->resp.data, first);

	if (second)
		value = json_object_get(value, second);
	assert_true(json_is_integer(value));
	return json_integer_value(value);
}

/* Whether the barrier has a value at "<v2 prefix>versions/<key>/<n>". */
static bool version_stored(struct fixture *f, const char *key, uint64_t number)
{
	char path[KV_STORAGE_KEY_MAX];
	uint8_t *value = NULL;
	size_t len = 0;
	struct wd_error err;
	int rc;

	assert_int_equal(kv_version_key(path, sizeof(path), &f->v2, key, number), 0);
	rc = barrier_get(f->secrets.barrier, path, &value, &len, &err);
	barrier_value_free(value, len);
	assert_true(rc == 0 || rc == WD_ENOTFOUND);
	return rc == 0;
}

static void write_ok(struct fixture *f, const char *rel, const char *body)
{
	int rc = call(f, &f->v2, VAULT_OP_UPDATE, rel, body);

	if (rc != 0)
		fail_msg("write %s: %s", rel, wd_error_text(&f->err));
}

/* --- KV v2 data --- */

static void v2_write_returns_version_metadata(void **state)
{
	struct fixture *f = *state;
	const char *created;

	assert_int_equal(call(f, &f->v2, VAULT_OP_CREATE, "data/app",
		"{\"options\":{}, \"data\":{\"user\":\"admin\",\"password\":\"hunter2\"}}"), 0);
	assert_int_equal(f->resp.status, 0);
	assert_int_equal(data_int(f, "version", NULL), 1);
	assert_string_equal(data_string(f, "deletion_time", NULL), "");
	assert_true(json_is_false(json_object_get(f->resp.data, "destroyed")));
	assert_true(json_is_null(json_object_get(f->resp.data, "custom_metadata")));
	created = data_string(f, "created_time", NULL);
	assert_int_equal(strlen(created) > 20, true);
	assert_int_equal(created[strlen(created) - 1], 'Z');
	assert_int_equal(json_object_size(f->resp.data), 5);
}

static void v2_read_returns_data_and_metadata(void **state)
{
	struct fixture *f = *state;
	char created[64];

	write_ok(f, "data/app", "{\"options\":{}, \"data\":{\"user\":\"admin\",\"n\":3}}");
	snprintf(created, sizeof(created), "%s", data_string(f, "created_time", NULL));

	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "data/app", NULL), 0);
	assert_int_equal(f->resp.status, 0);
	assert_json(json_object_get(f->resp.data, "data"), "{\"user\":\"admin\",\"n\":3}");
	assert_string_equal(data_string(f, "metadata", "created_time"), created);
	assert_string_equal(data_string(f, "metadata", "deletion_time"), "");
	assert_int_equal(data_int(f, "metadata", "version"), 1);
	assert_true(json_is_false(json_object_get(json_object_get(f->resp.data, "metadata"),
		"destroyed")));
	assert_true(json_is_null(json_object_get(json_object_get(f->resp.data, "metadata"),
		"custom_metadata")));
}

static void v2_read_missing_key_is_bare_404(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "data/nothing", NULL), WD_ENOTFOUND);
	assert_string_equal(f->err.detail, "");
	assert_null(f->resp.data);
}

static void v2_read_named_version(void **state)
{
	struct fixture *f = *state;

	write_ok(f, "data/app", "{\"data\":{\"v\":\"one\"}}");
	write_ok(f, "data/app", "{\"data\":{\"v\":\"two\"}}");
	write_ok(f, "data/app", "{\"data\":{\"v\":\"three\"}}");

	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "data/app", "{\"version\":2}"), 0);
	assert_json(json_object_get(f->resp.data, "data"), "{\"v\":\"two\"}");
	assert_int_equal(data_int(f, "metadata", "version"), 2);

	/* A query string arrives as text. */
	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "data/app", "{\"version\":\"1\"}"), 0);
	assert_json(json_object_get(f->resp.data, "data"), "{\"v\":\"one\"}");

	/* 0 is the current version. */
	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "data/app", "{\"version\":0}"), 0);
	assert_json(json_object_get(f->resp.data, "data"), "{\"v\":\"three\"}");

	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "data/app", "{\"version\":9}"),
		WD_ENOTFOUND);
	assert_string_equal(f->err.detail, "");
	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "data/app", "{\"version\":\"x\"}"),
		WD_EINVAL);
	assert_string_equal(f->err.detail, "invalid version \"x\": expected an integer");
}

static void v2_write_needs_data(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "data/app", "{\"options\":{}}"),
		WD_EINVAL);
	assert_string_equal(f->err.detail, "no data provided");
	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "data/app", "{\"data\":null}"),
		WD_EINVAL);
	assert_string_equal(f->err.detail, "no data provided");
	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "data/app", "{\"data\":\"text\"}"),
		WD_EINVAL);
	assert_string_equal(f->err.detail, "invalid data: expected a JSON object");
	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "data/app",
		"{\"data\":{}, \"options\":[1]}"), WD_EINVAL);
	assert_string_equal(f->err.detail, "invalid options: expected a JSON object");

	/* Nothing was stored by the failed writes. */
	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "data/app", NULL), WD_ENOTFOUND);
}

static void v2_check_and_set(void **state)
{
	struct fixture *f = *state;

	/* cas 0: only when the key has no version. */
	write_ok(f, "data/app", "{\"options\":{\"cas\":0}, \"data\":{\"a\":\"1\"}}");
	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "data/app",
		"{\"options\":{\"cas\":0}, \"data\":{\"a\":\"secret-value\"}}"), WD_EINVAL);
	assert_string_equal(f->err.detail,
		"check-and-set parameter did not match the current version");

	write_ok(f, "data/app", "{\"options\":{\"cas\":1}, \"data\":{\"a\":\"2\"}}");
	assert_int_equal(data_int(f, "version", NULL), 2);
	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "data/app",
		"{\"options\":{\"cas\":1}, \"data\":{\"a\":\"3\"}}"), WD_EINVAL);
	assert_string_equal(f->err.detail,
		"check-and-set parameter did not match the current version");
	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "data/app",
		"{\"options\":{\"cas\":\"two\"}, \"data\":{\"a\":\"3\"}}"), WD_EINVAL);
	assert_string_equal(f->err.detail, "error parsing check-and-set parameter");

	/* The engine's cas_required makes cas mandatory. */
	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "config", "{\"cas_required\":true}"), 0);
	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "data/app", "{\"data\":{\"a\":\"3\"}}"),
		WD_EINVAL);
	assert_string_equal(f->err.detail, "check-and-set parameter required for this call");
	write_ok(f, "data/app", "{\"options\":{\"cas\":2}, \"data\":{\"a\":\"3\"}}");
	assert_int_equal(data_int(f, "version", NULL), 3);
}

static void v2_key_cas_required(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "metadata/app",
		"{\"cas_required\":true}"), 0);
	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "data/app", "{\"data\":{\"a\":\"1\"}}"),
		WD_EINVAL);
	assert_string_equal(f->err.detail, "check-and-set parameter required for this call");
	write_ok(f, "data/app", "{\"options\":{\"cas\":0}, \"data\":{\"a\":\"1\"}}");
	/* Other keys are not affected. */
	write_ok(f, "data/other", "{\"data\":{\"a\":\"1\"}}");
}

static void v2_soft_delete_latest(void **state)
{
	struct fixture *f = *state;
	json_t *metadata;

	write_ok(f, "data/app", "{\"data\":{\"a\":\"1\"}}");
	write_ok(f, "data/app", "{\"data\":{\"a\":\"2\"}}");
	assert_int_equal(call(f, &f->v2, VAULT_OP_DELETE, "data/app", NULL), 0);
	assert_null(f->resp.data);
	assert_int_equal(f->resp.status, 0);

	/* The deleted version gets 404 with the full body and null data. */
	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "data/app", NULL), 0);
	assert_int_equal(f->resp.status, 404);
	assert_true(json_is_null(json_object_get(f->resp.data, "data")));
	metadata = json_object_get(f->resp.data, "metadata");
	assert_int_equal(json_integer_value(json_object_get(metadata, "version")), 2);
	assert_true(strlen(json_string_value(json_object_get(metadata, "deletion_time"))) > 20);
	assert_true(json_is_false(json_object_get(metadata, "destroyed")));
	assert_true(version_stored(f, "app", 2));

	/* The older version is still readable; a second delete is a no-op. */
	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "data/app", "{\"version\":1}"), 0);
	assert_int_equal(f->resp.status, 0);
	assert_int_equal(call(f, &f->v2, VAULT_OP_DELETE, "data/app", NULL), 0);
	assert_int_equal(call(f, &f->v2, VAULT_OP_DELETE, "data/missing", NULL), 0);
}

static void v2_delete_and_undelete_versions(void **state)
{
	struct fixture *f = *state;

	write_ok(f, "data/app", "{\"data\":{\"a\":\"1\"}}");
	write_ok(f, "data/app", "{\"data\":{\"a\":\"2\"}}");
	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "delete/app",
		"{\"versions\":[1, 2, 7]}"), 0);
	assert_null(f->resp.data);
	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "data/app", "{\"version\":1}"), 0);
	assert_int_equal(f->resp.status, 404);
	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "data/app", NULL), 0);
	assert_int_equal(f->resp.status, 404);

	/* A comma-separated string is accepted, as Vault's TypeCommaIntSlice. */
	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "undelete/app",
		"{\"versions\":\"1,2\"}"), 0);
	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "data/app", "{\"version\":1}"), 0);
	assert_int_equal(f->resp.status, 0);
	assert_json(json_object_get(f->resp.data, "data"), "{\"a\":\"1\"}");
	assert_string_equal(data_string(f, "metadata", "deletion_time"), "");
	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "data/app", NULL), 0);
	assert_int_equal(f->resp.status, 0);

	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "delete/app", "{}"), WD_EINVAL);
	assert_string_equal(f->err.detail, "No version number provided");
	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "undelete/app", "{\"versions\":[]}"),
		WD_EINVAL);
	assert_string_equal(f->err.detail, "No version number provided");
	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "delete/app", NULL), WD_EUNSUPPORTED);
	/* A missing key is a success, as in Vault. */
	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "delete/missing",
		"{\"versions\":[1]}"), 0);
}

static void v2_destroy_removes_data(void **state)
{
	struct fixture *f = *state;

	write_ok(f, "data/app", "{\"data\":{\"a\":\"1\"}}");
	write_ok(f, "data/app", "{\"data\":{\"a\":\"2\"}}");
	assert_true(version_stored(f, "app", 1));
	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "destroy/app", "{\"versions\":[1]}"),
		0);
	assert_null(f->resp.data);
	assert_false(version_stored(f, "app", 1));
	assert_true(version_stored(f, "app", 2));

	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "data/app", "{\"version\":1}"), 0);
	assert_int_equal(f->resp.status, 404);
	assert_true(json_is_null(json_object_get(f->resp.data, "data")));
	assert_true(json_is_true(json_object_get(json_object_get(f->resp.data, "metadata"),
		"destroyed")));

	/* A destroyed version cannot be undeleted. */
	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "undelete/app", "{\"versions\":[1]}"),
		0);
	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "data/app", "{\"version\":1}"), 0);
	assert_int_equal(f->resp.status, 404);

	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "destroy/app", "{\"versions\":[]}"),
		WD_EINVAL);
	assert_string_equal(f->err.detail, "no version number provided");
	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "destroy/app",
		"{\"versions\":[{\"n\":1}]}"), WD_EINVAL);
	assert_string_equal(f->err.detail, "invalid versions: expected version numbers");
}

static void v2_max_versions_prunes_oldest(void **state)
{
	struct fixture *f = *state;
	json_t *versions;

	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "config", "{\"max_versions\":2}"), 0);
	write_ok(f, "data/app", "{\"data\":{\"a\":\"1\"}}");
	write_ok(f, "data/app", "{\"data\":{\"a\":\"2\"}}");
	write_ok(f, "data/app", "{\"data\":{\"a\":\"3\"}}");

	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "metadata/app", NULL), 0);
	assert_int_equal(data_int(f, "current_version", NULL), 3);
	assert_int_equal(data_int(f, "oldest_version", NULL), 2);
	versions = json_object_get(f->resp.data, "versions");
	assert_int_equal(json_object_size(versions), 2);
	assert_non_null(json_object_get(versions, "2"));
	assert_non_null(json_object_get(versions, "3"));
	assert_false(version_stored(f, "app", 1));
	assert_true(version_stored(f, "app", 2));

	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "data/app", "{\"version\":1}"),
		WD_ENOTFOUND);

	/* The key's own max_versions takes precedence over the engine's. */
	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "metadata/app", "{\"max_versions\":1}"),
		0);
	write_ok(f, "data/app", "{\"data\":{\"a\":\"4\"}}");
	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "metadata/app", NULL), 0);
	assert_int_equal(json_object_size(json_object_get(f->resp.data, "versions")), 1);
	assert_int_equal(data_int(f, "oldest_version", NULL), 4);
	assert_false(version_stored(f, "app", 2));
	assert_false(version_stored(f, "app", 3));
	assert_true(version_stored(f, "app", 4));
}

static void v2_default_keeps_ten_versions(void **state)
{
	struct fixture *f = *state;

	for (int i = 0; i < 10; i++)
		write_ok(f, "data/app", "{\"data\":{\"a\":\"x\"}}");
	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "metadata/app", NULL), 0);
	assert_int_equal(json_object_size(json_object_get(f->resp.data, "versions")), 10);
	/* Vault's window moves oldest_version to 1 once ten versions exist. */
	assert_int_equal(data_int(f, "oldest_version", NULL), 1);
	assert_true(version_stored(f, "app", 1));

	write_ok(f, "data/app", "{\"data\":{\"a\":\"x\"}}");
	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "metadata/app", NULL), 0);
	assert_int_equal(json_object_size(json_object_get(f->resp.data, "versions")), 10);
	assert_int_equal(data_int(f, "oldest_version", NULL), 2);
	assert_false(version_stored(f, "app", 1));
	assert_true(version_stored(f, "app", 11));
}

static void v2_patch_merges(void **state)
{
	struct fixture *f = *state;

	write_ok(f, "data/app", "{\"data\":{\"a\":\"1\",\"b\":{\"c\":\"2\",\"k\":\"3\"}}}");
	assert_int_equal(call(f, &f->v2, VAULT_OP_PATCH, "data/app",
		"{\"data\":{\"b\":{\"c\":null,\"d\":\"4\"},\"e\":[1]}}"), 0);
	assert_int_equal(data_int(f, "version", NULL), 2);

	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "data/app", NULL), 0);
	assert_json(json_object_get(f->resp.data, "data"),
		"{\"a\":\"1\",\"b\":{\"k\":\"3\",\"d\":\"4\"},\"e\":[1]}");

	/* Check-and-set applies to patches too. */
	assert_int_equal(call(f, &f->v2, VAULT_OP_PATCH, "data/app",
		"{\"options\":{\"cas\":1},\"data\":{\"a\":\"9\"}}"), WD_EINVAL);
	assert_string_equal(f->err.detail,
		"check-and-set parameter did not match the current version");

	assert_int_equal(call(f, &f->v2, VAULT_OP_PATCH, "data/missing",
		"{\"data\":{\"a\":\"1\"}}"), WD_ENOTFOUND);
	assert_int_equal(call(f, &f->v2, VAULT_OP_PATCH, "data/app", "{}"), WD_EINVAL);
	assert_string_equal(f->err.detail, "no data provided");

	/* A deleted current version gets 404 with its flat metadata. */
	assert_int_equal(call(f, &f->v2, VAULT_OP_DELETE, "data/app", NULL), 0);
	assert_int_equal(call(f, &f->v2, VAULT_OP_PATCH, "data/app",
		"{\"data\":{\"a\":\"9\"}}"), 0);
	assert_int_equal(f->resp.status, 404);
	assert_int_equal(data_int(f, "version", NULL), 2);
	assert_null(json_object_get(f->resp.data, "data"));
	assert_false(version_stored(f, "app", 3));
}

static void v2_subkeys_hide_values(void **state)
{
	struct fixture *f = *state;

	write_ok(f, "data/app",
		"{\"data\":{\"a\":\"1\",\"b\":{\"c\":{\"d\":\"x\"}},\"e\":{},\"f\":[1,2]}}");
	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "subkeys/app", NULL), 0);
	assert_json(json_object_get(f->resp.data, "subkeys"),
		"{\"a\":null,\"b\":{\"c\":{\"d\":null}},\"e\":null,\"f\":null}");
	assert_int_equal(data_int(f, "metadata", "version"), 1);

	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "subkeys/app", "{\"depth\":2}"), 0);
	assert_json(json_object_get(f->resp.data, "subkeys"),
		"{\"a\":null,\"b\":{\"c\":null},\"e\":null,\"f\":null}");
	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "subkeys/app", "{\"depth\":1}"), 0);
	assert_json(json_object_get(f->resp.data, "subkeys"),
		"{\"a\":null,\"b\":null,\"e\":null,\"f\":null}");

	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "subkeys/missing", NULL), WD_ENOTFOUND);
	assert_int_equal(call(f, &f->v2, VAULT_OP_DELETE, "data/app", NULL), 0);
	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "subkeys/app", NULL), 0);
	assert_int_equal(f->resp.status, 404);
	assert_true(json_is_null(json_object_get(f->resp.data, "subkeys")));
}

/* --- KV v2 metadata and config --- */

static void v2_metadata_read_fields(void **state)
{
	struct fixture *f = *state;
	char created[64];
	json_t *version;

	write_ok(f, "data/app", "{\"data\":{\"a\":\"1\"}}");
	snprintf(created, sizeof(created), "%s", data_string(f, "created_time", NULL));

	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "metadata/app", NULL), 0);
	assert_int_equal(json_object_size(f->resp.data), 9);
	assert_true(json_is_false(json_object_get(f->resp.data, "cas_required")));
	assert_string_equal(data_string(f, "created_time", NULL), created);
	assert_string_equal(data_string(f, "updated_time", NULL), created);
	assert_int_equal(data_int(f, "current_version", NULL), 1);
	assert_int_equal(data_int(f, "oldest_version", NULL), 0);
	assert_int_equal(data_int(f, "max_versions", NULL), 0);
	assert_string_equal(data_string(f, "delete_version_after", NULL), "0s");
	assert_true(json_is_null(json_object_get(f->resp.data, "custom_metadata")));
	version = json_object_get(json_object_get(f->resp.data, "versions"), "1");
	assert_string_equal(json_string_value(json_object_get(version, "created_time")), created);
	assert_string_equal(json_string_value(json_object_get(version, "deletion_time")), "");
	assert_true(json_is_false(json_object_get(version, "destroyed")));

	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "metadata/missing", NULL), WD_ENOTFOUND);
	assert_string_equal(f->err.detail, "");
}

static void v2_metadata_write_settings(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "metadata/app",
		"{\"max_versions\":3, \"delete_version_after\":\"1h\","
		" \"custom_metadata\":{\"owner\":\"ops\",\"tier\":2,\"on\":true}}"), 0);
	assert_null(f->resp.data);

	/* Metadata alone makes the key exist with no version. */
	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "metadata/app", NULL), 0);
	assert_int_equal(data_int(f, "max_versions", NULL), 3);
	assert_int_equal(data_int(f, "current_version", NULL), 0);
	assert_string_equal(data_string(f, "delete_version_after", NULL), "1h0m0s");
	assert_json(json_object_get(f->resp.data, "custom_metadata"),
		"{\"owner\":\"ops\",\"tier\":\"2\",\"on\":\"1\"}");
	assert_json(json_object_get(f->resp.data, "versions"), "{}");
	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "data/app", NULL), WD_ENOTFOUND);

	/* Data writes and reads carry custom_metadata. */
	write_ok(f, "data/app", "{\"data\":{\"a\":\"1\"}}");
	assert_json(json_object_get(f->resp.data, "custom_metadata"),
		"{\"owner\":\"ops\",\"tier\":\"2\",\"on\":\"1\"}");
	assert_true(strlen(data_string(f, "deletion_time", NULL)) > 20);

	/* An empty custom_metadata clears it. */
	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "metadata/app",
		"{\"custom_metadata\":{}}"), 0);
	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "metadata/app", NULL), 0);
	assert_true(json_is_null(json_object_get(f->resp.data, "custom_metadata")));
	assert_int_equal(data_int(f, "max_versions", NULL), 3);

	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "metadata/app",
		"{\"max_versions\":-1}"), WD_EINVAL);
	assert_string_equal(f->err.detail, "invalid max_versions -1: expected 0 to 1000");
	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "metadata/app",
		"{\"delete_version_after\":\"-5s\"}"), WD_EINVAL);
	assert_string_equal(f->err.detail,
		"invalid delete_version_after: the duration cannot be negative");
}

static void v2_custom_metadata_limits(void **state)
{
	struct fixture *f = *state;
	char body[8192];
	char value[600];
	size_t len = 0;

	len += (size_t)snprintf(body + len, sizeof(body) - len, "{\"custom_metadata\":{");
	for (int i = 0; i < 65; i++)
		len += (size_t)snprintf(body + len, sizeof(body) - len, "%s\"k%d\":\"v\"",
			i ? "," : "", i);
	snprintf(body + len, sizeof(body) - len, "}}");
	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "metadata/app", body), WD_EINVAL);
	assert_string_equal(f->err.detail, "custom_metadata validation failed: payload must "
		"contain at most 64 keys, provided 65");

	memset(value, 'x', 513);
	value[513] = '\0';
	snprintf(body, sizeof(body), "{\"custom_metadata\":{\"big\":\"%s\"}}", value);
	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "metadata/app", body), WD_EINVAL);
	assert_string_equal(f->err.detail, "custom_metadata validation failed: length of value "
		"for key \"big\" is 513 but must be 0 < len(value) <= 512");

	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "metadata/app",
		"{\"custom_metadata\":{\"k\":\"a\\u0001b\"}}"), WD_EINVAL);
	assert_string_equal(f->err.detail, "custom_metadata validation failed: value for key "
		"\"k\" contains unprintable characters");
	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "metadata/app",
		"{\"custom_metadata\":{\"k\":{\"n\":1}}}"), WD_EINVAL);
	assert_string_equal(f->err.detail,
		"custom_metadata validation failed: value for key \"k\" must be a string");
	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "metadata/app",
		"{\"custom_metadata\":{\"\":\"v\"}}"), WD_EINVAL);
	assert_string_equal(f->err.detail, "custom_metadata validation failed: length of key "
		"\"\" is 0 but must be 0 < len(key) <= 128");

	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "metadata/app", NULL), WD_ENOTFOUND);
}

static void v2_metadata_patch(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(call(f, &f->v2, VAULT_OP_PATCH, "metadata/app",
		"{\"max_versions\":3}"), WD_ENOTFOUND);
	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "metadata/app",
		"{\"max_versions\":3, \"cas_required\":true,"
		" \"custom_metadata\":{\"owner\":\"ops\",\"team\":\"a\"}}"), 0);

	assert_int_equal(call(f, &f->v2, VAULT_OP_PATCH, "metadata/app",
		"{\"max_versions\":null, \"custom_metadata\":{\"owner\":null,\"site\":\"b\"}}"), 0);
	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "metadata/app", NULL), 0);
	assert_int_equal(data_int(f, "max_versions", NULL), 0);
	assert_true(json_is_true(json_object_get(f->resp.data, "cas_required")));
	assert_json(json_object_get(f->resp.data, "custom_metadata"),
		"{\"team\":\"a\",\"site\":\"b\"}");

	assert_int_equal(call(f, &f->v2, VAULT_OP_PATCH, "metadata/app",
		"{\"custom_metadata\":null, \"cas_required\":false}"), 0);
	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "metadata/app", NULL), 0);
	assert_true(json_is_null(json_object_get(f->resp.data, "custom_metadata")));
	assert_true(json_is_false(json_object_get(f->resp.data, "cas_required")));
}

static void v2_metadata_cas_warning(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "config", "{\"cas_required\":true}"), 0);
	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "metadata/app",
		"{\"cas_required\":false}"), 0);
	assert_int_equal(f->resp.status, 200);
	assert_json(f->resp.warnings, "[\"\\\"cas_required\\\" set to false, but is mandated by "
		"backend config. This value will be ignored.\"]");
}

static void v2_metadata_list(void **state)
{
	struct fixture *f = *state;

	write_ok(f, "data/a", "{\"data\":{\"x\":\"1\"}}");
	write_ok(f, "data/b/c", "{\"data\":{\"x\":\"1\"}}");
	write_ok(f, "data/b/d", "{\"data\":{\"x\":\"1\"}}");
	write_ok(f, "data/b/e/f", "{\"data\":{\"x\":\"1\"}}");

	assert_int_equal(call(f, &f->v2, VAULT_OP_LIST, "metadata/", NULL), 0);
	assert_json(f->resp.data, "{\"keys\":[\"a\",\"b/\"]}");
	assert_int_equal(call(f, &f->v2, VAULT_OP_LIST, "metadata/b/", NULL), 0);
	assert_json(f->resp.data, "{\"keys\":[\"c\",\"d\",\"e/\"]}");

	/* A deleted version still lists its key; a destroyed key does not. */
	assert_int_equal(call(f, &f->v2, VAULT_OP_DELETE, "data/a", NULL), 0);
	assert_int_equal(call(f, &f->v2, VAULT_OP_LIST, "metadata/", NULL), 0);
	assert_json(f->resp.data, "{\"keys\":[\"a\",\"b/\"]}");

	assert_int_equal(call(f, &f->v2, VAULT_OP_LIST, "metadata/none/", NULL), WD_ENOTFOUND);
	assert_string_equal(f->err.detail, "");
	assert_int_equal(call(f, &f->v2, VAULT_OP_LIST, "data/", NULL), WD_EUNSUPPORTED);
}

static void v2_metadata_delete_removes_all(void **state)
{
	struct fixture *f = *state;

	write_ok(f, "data/app", "{\"data\":{\"a\":\"1\"}}");
	write_ok(f, "data/app", "{\"data\":{\"a\":\"2\"}}");
	assert_int_equal(call(f, &f->v2, VAULT_OP_DELETE, "metadata/app", NULL), 0);
	assert_null(f->resp.data);
	assert_false(version_stored(f, "app", 1));
	assert_false(version_stored(f, "app", 2));
	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "data/app", NULL), WD_ENOTFOUND);
	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "metadata/app", NULL), WD_ENOTFOUND);
	assert_int_equal(call(f, &f->v2, VAULT_OP_LIST, "metadata/", NULL), WD_ENOTFOUND);

	/* A new write starts again at version 1. */
	write_ok(f, "data/app", "{\"data\":{\"a\":\"3\"}}");
	assert_int_equal(data_int(f, "version", NULL), 1);
	assert_int_equal(call(f, &f->v2, VAULT_OP_DELETE, "metadata/missing", NULL), 0);
}

static void v2_config_read_and_write(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "config", NULL), 0);
	assert_json(f->resp.data,
		"{\"cas_required\":false,\"delete_version_after\":\"0s\",\"max_versions\":0}");

	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "config",
		"{\"max_versions\":5, \"cas_required\":\"true\", \"delete_version_after\":90}"), 0);
	assert_null(f->resp.data);
	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "config", NULL), 0);
	assert_json(f->resp.data,
		"{\"cas_required\":true,\"delete_version_after\":\"1m30s\",\"max_versions\":5}");

	/* Unnamed fields keep their values; a negative duration disables. */
	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "config",
		"{\"delete_version_after\":\"-1s\"}"), 0);
	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "config", NULL), 0);
	assert_json(f->resp.data,
		"{\"cas_required\":true,\"delete_version_after\":\"-1s\",\"max_versions\":5}");

	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "config", "{\"max_versions\":1001}"),
		WD_EINVAL);
	assert_string_equal(f->err.detail, "invalid max_versions 1001: expected 0 to 1000");
	assert_int_equal(call(f, &f->v2, VAULT_OP_DELETE, "config", NULL), WD_EUNSUPPORTED);
}

static void v2_delete_version_after(void **state)
{
	struct fixture *f = *state;
	struct kv_meta *meta = NULL;
	char expected[64];

	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "config",
		"{\"delete_version_after\":\"1h\"}"), 0);
	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "metadata/app",
		"{\"delete_version_after\":\"30s\"}"), 0);
	write_ok(f, "data/app", "{\"data\":{\"a\":\"1\"}}");
	write_ok(f, "data/other", "{\"data\":{\"a\":\"1\"}}");

	/* The smaller of the key's and the engine's setting counts. */
	assert_int_equal(kv_meta_load(&f->secrets, &f->v2, "app", &meta, &f->err), 0);
	assert_non_null(meta);
	assert_int_equal(meta->versions[0].deletion_time - meta->versions[0].created_time,
		30LL * 1000000000);
	vault_format_time(meta->versions[0].deletion_time, expected, sizeof(expected));
	kv_meta_free(meta);
	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "data/app", NULL), 0);
	assert_int_equal(f->resp.status, 0);
	assert_string_equal(data_string(f, "metadata", "deletion_time"), expected);

	assert_int_equal(kv_meta_load(&f->secrets, &f->v2, "other", &meta, &f->err), 0);
	assert_int_equal(meta->versions[0].deletion_time - meta->versions[0].created_time,
		3600LL * 1000000000);
	kv_meta_free(meta);

	/* Disabled in the engine: no deadline at all. */
	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "config",
		"{\"delete_version_after\":-1}"), 0);
	write_ok(f, "data/app", "{\"data\":{\"a\":\"2\"}}");
	assert_string_equal(data_string(f, "deletion_time", NULL), "");
}

/* --- KV v2 paths, existence and errors --- */

static void v2_rejects_bad_paths(void **state)
{
	struct fixture *f = *state;
	char rel[VAULT_PATH_MAX + 16];

	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "data/a//b", "{\"data\":{}}"),
		WD_EINVAL);
	assert_string_equal(f->err.detail, "invalid path \"a//b\": empty segment");
	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "data/a/../b", NULL), WD_EINVAL);
	assert_string_equal(f->err.detail, "invalid path \"a/../b\": \"..\" segment");
	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "metadata/..", NULL), WD_EINVAL);
	assert_string_equal(f->err.detail, "invalid path \"..\": \"..\" segment");
	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "data/", "{\"data\":{}}"), WD_EINVAL);
	assert_string_equal(f->err.detail, "missing path");
	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "data/a/", "{\"data\":{}}"), WD_EINVAL);
	assert_string_equal(f->err.detail, "invalid path \"a/\": empty segment");
	assert_int_equal(call(f, &f->v2, VAULT_OP_LIST, "metadata/a//", NULL), WD_EINVAL);

	memcpy(rel, "data/", 5);
	memset(rel + 5, 'k', VAULT_PATH_MAX + 1);
	rel[5 + VAULT_PATH_MAX + 1] = '\0';
	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, rel, "{\"data\":{}}"), WD_EINVAL);
	assert_non_null(strstr(f->err.detail, "longer than 1024 bytes"));
	/* Exactly the limit works. */
	rel[5 + VAULT_PATH_MAX] = '\0';
	write_ok(f, rel, "{\"data\":{}}");

	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "nothing/app", NULL), WD_ENOTFOUND);
	assert_string_equal(f->err.detail, "unsupported path");
	assert_int_equal(call(f, &f->v2, VAULT_OP_READ, "configx", NULL), WD_ENOTFOUND);
}

static void v2_errors_never_quote_values(void **state)
{
	struct fixture *f = *state;

	write_ok(f, "data/app", "{\"data\":{\"password\":\"hunter2\"}}");
	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "data/app",
		"{\"options\":{\"cas\":5}, \"data\":{\"password\":\"hunter2\"}}"), WD_EINVAL);
	assert_null(strstr(f->err.detail, "hunter2"));
	assert_int_equal(call(f, &f->v2, VAULT_OP_UPDATE, "data/app",
		"{\"options\":{\"cas\":\"hunter2\"}, \"data\":{}}"), WD_EINVAL);
	assert_null(strstr(f->err.detail, "hunter2"));
}

static void v2_exists_follows_metadata(void **state)
{
	struct fixture *f = *state;
	struct vault_request req = { 0 };
	bool exists = true;

	req.op = VAULT_OP_UPDATE;
	req.mount = &f->v2;
	req.rel = "data/app";
	assert_int_equal(vault_backend_kv.exists(&f->secrets, &req, &exists, &f->err), 0);
	assert_false(exists);
	req.rel = "metadata/app";
	assert_int_equal(vault_backend_kv.exists(&f->secrets, &req, &exists, &f->err), 0);
	assert_false(exists);

	write_ok(f, "data/app", "{\"data\":{\"a\":\"1\"}}");
	req.rel = "data/app";
	assert_int_equal(vault_backend_kv.exists(&f->secrets, &req, &exists, &f->err), 0);
	assert_true(exists);
	req.rel = "metadata/app";
	assert_int_equal(vault_backend_kv.exists(&f->secrets, &req, &exists, &f->err), 0);
	assert_true(exists);

	/* Paths without an existence check are updates. */
	req.rel = "config";
	exists = false;
	assert_int_equal(vault_backend_kv.exists(&f->secrets, &req, &exists, &f->err), 0);
	assert_true(exists);
	req.rel = "destroy/app";
	exists = false;
	assert_int_equal(vault_backend_kv.exists(&f->secrets, &req, &exists, &f->err), 0);
	assert_true(exists);
	req.rel = "data/a//b";
	assert_int_equal(vault_backend_kv.exists(&f->secrets, &req, &exists, &f->err), 0);
	assert_false(exists);
}

static void mount_version_option(void **state)
{
	struct fixture *f = *state;
	struct vault_mount mount = { .path = "bad/" };
	int version = 0;

	mount.options = json_pack("{s:s}", "version", "3");
	assert_int_equal(vault_backend_kv.mount_open(&f->secrets, &mount, &f->err), WD_EINVAL);
	assert_string_equal(f->err.detail,
		"invalid KV version \"3\" of mount bad/: expected \"1\" or \"2\"");
	json_decref(mount.options);

	mount.options = NULL;
	assert_int_equal(kv_mount_version(&mount, &version, &f->err), 0);
	assert_int_equal(version, 1);
	mount.options = json_pack("{s:i}", "version", 2);
	assert_int_equal(kv_mount_version(&mount, &version, &f->err), 0);
	assert_int_equal(version, 2);
	json_decref(mount.options);
	mount.options = json_pack("{s:s}", "version", "");
	assert_int_equal(kv_mount_version(&mount, &version, &f->err), 0);
	assert_int_equal(version, 1);
	json_decref(mount.options);
}

/* --- KV v1 --- */

static void v1_write_read_delete(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(call(f, &f->v1, VAULT_OP_CREATE, "app/db",
		"{\"user\":\"admin\",\"password\":\"hunter2\"}"), 0);
	assert_null(f->resp.data);
	assert_int_equal(f->resp.status, 0);

	assert_int_equal(call(f, &f->v1, VAULT_OP_READ, "app/db", NULL), 0);
	assert_json(f->resp.data, "{\"user\":\"admin\",\"password\":\"hunter2\"}");
	assert_int_equal(f->resp.lease_duration, 2764800);
	assert_string_equal(f->resp.lease_id, "");
	assert_false(f->resp.renewable);

	/* A write replaces the whole secret. */
	assert_int_equal(call(f, &f->v1, VAULT_OP_UPDATE, "app/db", "{\"user\":\"other\"}"), 0);
	assert_int_equal(call(f, &f->v1, VAULT_OP_READ, "app/db", NULL), 0);
	assert_json(f->resp.data, "{\"user\":\"other\"}");

	assert_int_equal(call(f, &f->v1, VAULT_OP_DELETE, "app/db", NULL), 0);
	assert_null(f->resp.data);
	assert_int_equal(call(f, &f->v1, VAULT_OP_READ, "app/db", NULL), WD_ENOTFOUND);
	assert_string_equal(f->err.detail, "");
	assert_int_equal(call(f, &f->v1, VAULT_OP_DELETE, "app/db", NULL), 0);

	assert_int_equal(call(f, &f->v1, VAULT_OP_UPDATE, "app/db", "{}"), WD_EINVAL);
	assert_string_equal(f->err.detail, "missing data fields");
	assert_int_equal(call(f, &f->v1, VAULT_OP_UPDATE, "app/../db", "{\"a\":1}"), WD_EINVAL);
	assert_string_equal(f->err.detail, "invalid path \"app/../db\": \"..\" segment");
	assert_int_equal(call(f, &f->v1, VAULT_OP_PATCH, "app/db", "{\"a\":1}"), WD_EUNSUPPORTED);
}

static void v1_ttl_field_sets_lease_duration(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(call(f, &f->v1, VAULT_OP_UPDATE, "a", "{\"k\":\"v\",\"ttl\":\"1h\"}"), 0);
	assert_int_equal(call(f, &f->v1, VAULT_OP_READ, "a", NULL), 0);
	assert_int_equal(f->resp.lease_duration, 3600);
	assert_json(f->resp.data, "{\"k\":\"v\",\"ttl\":\"1h\"}");

	assert_int_equal(call(f, &f->v1, VAULT_OP_UPDATE, "b", "{\"k\":\"v\",\"ttl\":90}"), 0);
	assert_int_equal(call(f, &f->v1, VAULT_OP_READ, "b", NULL), 0);
	assert_int_equal(f->resp.lease_duration, 90);

	assert_int_equal(call(f, &f->v1, VAULT_OP_UPDATE, "c", "{\"k\":\"v\",\"lease\":\"2m\"}"),
		0);
	assert_int_equal(call(f, &f->v1, VAULT_OP_READ, "c", NULL), 0);
	assert_int_equal(f->resp.lease_duration, 120);

	/* An unparsable ttl falls back to the mount default. */
	assert_int_equal(call(f, &f->v1, VAULT_OP_UPDATE, "d", "{\"ttl\":\"soon\"}"), 0);
	assert_int_equal(call(f, &f->v1, VAULT_OP_READ, "d", NULL), 0);
	assert_int_equal(f->resp.lease_duration, 2764800);

	f->v1.default_lease_ttl = 600;
	assert_int_equal(call(f, &f->v1, VAULT_OP_READ, "d", NULL), 0);
	assert_int_equal(f->resp.lease_duration, 600);
}

static void v1_list_keys(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(call(f, &f->v1, VAULT_OP_LIST, "", NULL), WD_ENOTFOUND);
	assert_int_equal(call(f, &f->v1, VAULT_OP_UPDATE, "a", "{\"k\":\"v\"}"), 0);
	assert_int_equal(call(f, &f->v1, VAULT_OP_UPDATE, "dir/b", "{\"k\":\"v\"}"), 0);
	assert_int_equal(call(f, &f->v1, VAULT_OP_UPDATE, "dir/c/d", "{\"k\":\"v\"}"), 0);

	assert_int_equal(call(f, &f->v1, VAULT_OP_LIST, "", NULL), 0);
	assert_json(f->resp.data, "{\"keys\":[\"a\",\"dir/\"]}");
	assert_int_equal(call(f, &f->v1, VAULT_OP_LIST, "dir/", NULL), 0);
	assert_json(f->resp.data, "{\"keys\":[\"b\",\"c/\"]}");
	assert_int_equal(call(f, &f->v1, VAULT_OP_LIST, "none/", NULL), WD_ENOTFOUND);

	/* The v2 mount's data is not visible from the v1 mount. */
	write_ok(f, "data/x", "{\"data\":{\"k\":\"v\"}}");
	assert_int_equal(call(f, &f->v1, VAULT_OP_LIST, "", NULL), 0);
	assert_json(f->resp.data, "{\"keys\":[\"a\",\"dir/\"]}");
}

static void v1_exists(void **state)
{
	struct fixture *f = *state;
	struct vault_request req = { 0 };
	bool exists = true;

	req.op = VAULT_OP_UPDATE;
	req.mount = &f->v1;
	req.rel = "a";
	assert_int_equal(vault_backend_kv.exists(&f->secrets, &req, &exists, &f->err), 0);
	assert_false(exists);
	assert_int_equal(call(f, &f->v1, VAULT_OP_UPDATE, "a", "{\"k\":\"v\"}"), 0);
	assert_int_equal(vault_backend_kv.exists(&f->secrets, &req, &exists, &f->err), 0);
	assert_true(exists);
}

/* --- Helpers --- */

static void merge_patch_follows_rfc7396(void **state WD_UNUSED)
{
	/* Cases from RFC 7396 appendix A. */
	static const char *const cases[][3] = {
		{ "{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}" },
		{ "{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}" },
		{ "{\"a\":\"b\"}", "{\"a\":null}", "{}" },
		{ "{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}" },
		{ "{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}" },
		{ "{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}" },
		{ "{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}" },
		{ "{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}" },
		{ "{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}" },
		{ "{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}" },
	};

	for (size_t i = 0; i < WD_ARRAY_LEN(cases); i++) {
		json_t *target = json_loads(cases[i][0], 0, NULL);
		json_t *patch = json_loads(cases[i][1], 0, NULL);

		assert_int_equal(kv_merge_patch(&target, patch), 0);
		assert_json(target, cases[i][2]);
		json_decref(target);
		json_decref(patch);
	}
}

static void versions_field_forms(void **state WD_UNUSED)
{
	json_t *body = json_loads("{\"a\":[1,\"2,3\"],\"b\":4,\"c\":\" 5 , 6 \",\"d\":\"x\","
		"\"e\":true}", 0, NULL);
	int64_t *versions = NULL;
	size_t count = 0;
	struct wd_error err;

	assert_int_equal(kv_field_versions(body, "a", &versions, &count, &err), 0);
	assert_int_equal(count, 3);
	assert_int_equal(versions[0], 1);
	assert_int_equal(versions[2], 3);
	free(versions);
	assert_int_equal(kv_field_versions(body, "b", &versions, &count, &err), 0);
	assert_int_equal(count, 1);
	assert_int_equal(versions[0], 4);
	free(versions);
	assert_int_equal(kv_field_versions(body, "c", &versions, &count, &err), 0);
	assert_int_equal(count, 2);
	assert_int_equal(versions[1], 6);
	free(versions);
	assert_int_equal(kv_field_versions(body, "d", &versions, &count, &err), WD_EINVAL);
	assert_string_equal(err.detail, "invalid d \"x\": expected version numbers");
	assert_int_equal(kv_field_versions(body, "e", &versions, &count, &err), WD_EINVAL);
	assert_int_equal(kv_field_versions(body, "missing", &versions, &count, &err), 0);
	assert_int_equal(count, 0);
	assert_null(versions);
	json_decref(body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(v2_write_returns_version_metadata, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(v2_read_returns_data_and_metadata, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(v2_read_missing_key_is_bare_404, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(v2_read_named_version, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(v2_write_needs_data, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(v2_check_and_set, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(v2_key_cas_required, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(v2_soft_delete_latest, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(v2_delete_and_undelete_versions, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(v2_destroy_removes_data, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(v2_max_versions_prunes_oldest, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(v2_default_keeps_ten_versions, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(v2_patch_merges, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(v2_subkeys_hide_values, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(v2_metadata_read_fields, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(v2_metadata_write_settings, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(v2_custom_metadata_limits, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(v2_metadata_patch, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(v2_metadata_cas_warning, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(v2_metadata_list, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(v2_metadata_delete_removes_all, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(v2_config_read_and_write, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(v2_delete_version_after, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(v2_rejects_bad_paths, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(v2_errors_never_quote_values, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(v2_exists_follows_metadata, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(mount_version_option, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(v1_write_read_delete, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(v1_ttl_field_sets_lease_duration, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(v1_list_keys, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(v1_exists, fixture_setup, fixture_teardown),
		cmocka_unit_test(merge_patch_follows_rfc7396),
		cmocka_unit_test(versions_field_forms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
