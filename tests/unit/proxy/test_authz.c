// Unit tests of the proxy's authorization: the flagship policy of
// deploy/proxy/policy.rego with real tokens, the input document, how
// results become decisions, reloads from a directory, and concurrent
// decisions.
#include <libgen.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "jwt_fixture.h"

#include "common/file.h"
#include "common/time.h"
#include "proxy/authz.h"
#include "proxy/authz_internal.h"

#define CALLER "spiffe://example.org/a"
#define SERVICE "spiffe://example.org/b"

struct fixture {
	char dir[64];
	char jwks_path[128];
	char policy_dir[128];
	EVP_PKEY *key, *other;
	struct proxy_authz *authz;
};

// A request head built by hand, as the HTTP/1.1 parser would fill it.
struct request {
	struct http1_head head;
	struct proxy_request_info info;
	char authorization[8192];
};

static void request_init(struct request *r, const char *source, const char *method,
	const char *path, const char *query, const char *token)
{
	memset(r, 0, sizeof(*r));
	r->head.method = (struct http1_slice){ method, strlen(method) };
	r->head.path = (struct http1_slice){ path, strlen(path) };
	r->head.query = (struct http1_slice){ query, strlen(query) };
	r->head.headers[0].name = (struct http1_slice){ "Host", 4 };
	r->head.headers[0].value = (struct http1_slice){ "b.example.org", 13 };
	r->head.header_count = 1;
	if (token) {
		snprintf(r->authorization, sizeof(r->authorization), "Bearer %s", token);
		r->head.headers[1].name = (struct http1_slice){ "Authorization", 13 };
		r->head.headers[1].value =
			(struct http1_slice){ r->authorization, strlen(r->authorization) };
		r->head.header_count = 2;
	}
	r->info.source_id = source;
	r->info.source_address = "10.0.0.7:41000";
	r->info.destination_id = SERVICE;
	r->info.head = &r->head;
}

static void write_text(const char *path, const char *text)
{
	assert_int_equal(wd_file_write_atomic(path, text, strlen(text), 0644, NULL), 0);
}

static char *read_flagship_policy(void)
{
	char source[512];
	char path[600];
	uint8_t *text = NULL;
	size_t len = 0;

	// __FILE__ is tests/unit/proxy/test_authz.c as the compiler saw it.
	snprintf(source, sizeof(source), "%s", __FILE__);
	snprintf(path, sizeof(path), "%s/../../../deploy/proxy/policy.rego", dirname(source));
	assert_int_equal(wd_file_read(path, 1 << 20, &text, &len, NULL), 0);
	return (char *)text;
}

static char *token_with(struct fixture *f, EVP_PKEY *key, int64_t exp, const char *scope,
	const char *groups)
{
	char claims[512];

	snprintf(claims, sizeof(claims),
		"{\"iss\":\"https://idp.example\",\"aud\":\"service-b\",\"sub\":\"alice\",\"exp\":%lld,"
		"\"scope\":%s,\"groups\":%s}",
		(long long)exp, scope, groups);
	(void)f;
	return fixture_token("ES256", "k1", key, claims);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char path[256];
	char *policy;
	json_t *jwks[1];

	snprintf(f->dir, sizeof(f->dir), "/tmp/wd-authz-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->jwks_path, sizeof(f->jwks_path), "%s/jwks.json", f->dir);
	snprintf(f->policy_dir, sizeof(f->policy_dir), "%s/policy", f->dir);
	assert_int_equal(mkdir(f->policy_dir, 0755), 0);
	f->key = fixture_key("EC", "P-256");
	f->other = fixture_key("EC", "P-256");
	jwks[0] = fixture_jwk(f->key, "k1", NULL);
	fixture_write_jwks(f->jwks_path, jwks, 1);

	policy = read_flagship_policy();
	snprintf(path, sizeof(path), "%s/policy.rego", f->policy_dir);
	write_text(path, policy);
	free(policy);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char command[256];

	proxy_authz_free(f->authz);
	EVP_PKEY_free(f->key);
	EVP_PKEY_free(f->other);
	snprintf(command, sizeof(command), "rm -rf '%s'", f->dir);
	assert_int_equal(system(command), 0);
	free(f);
	return 0;
}

static const char *const audiences[] = { "service-b" };

static void open_authz(struct fixture *f, const char *decision, uint64_t max_steps)
{
	struct proxy_policy_config policy = {
		.path = f->policy_dir,
		.decision = decision,
		.reload_interval_ms = 50,
		.max_steps = max_steps,
	};
	struct proxy_jwt_config jwt = {
		.jwks_path = f->jwks_path,
		.issuer = "https://idp.example",
		.audiences = audiences,
		.audience_count = 1,
		.leeway_seconds = 5,
	};
	struct wd_error err = { 0 };

	if (proxy_authz_new(&policy, &jwt, NULL, &f->authz, &err) != 0)
		fail_msg("proxy_authz_new: %s", err.detail);
}

static void decide(struct fixture *f, const struct request *r, bool allow, const char *reason)
{
	struct proxy_decision decision;

	proxy_authz_decide(f->authz, &r->info, &decision);
	if (decision.allow != allow || strcmp(decision.reason, reason) != 0)
		fail_msg("%s %.*s: got allow=%d reason \"%s\", expected allow=%d \"%s\"",
			r->info.source_id, (int)r->head.path.len, r->head.path.ptr, decision.allow,
			decision.reason, allow, reason);
}

#define GOOD_SCOPE "\"openid data:read\""
#define GOOD_GROUPS "[\"dev\",\"admin\"]"
#define DENIED "denied by data.proxy.allow"

static void flagship_allows_admin_reader(void **state)
{
	struct fixture *f = *state;
	char *token = token_with(f, f->key, wd_now() + 300, GOOD_SCOPE, GOOD_GROUPS);
	char *array_scope = token_with(f, f->key, wd_now() + 300, "[\"data:read\"]", "[\"admin\"]");
	struct proxy_decision decision;
	struct request r;

	open_authz(f, NULL, 0);
	request_init(&r, CALLER, "GET", "/v1/data", "", token);
	proxy_authz_decide(f->authz, &r.info, &decision);
	assert_true(decision.allow);
	assert_string_equal(decision.reason, "allowed by data.proxy.allow");
	assert_int_equal(strlen(decision.decision_id), 36);
	assert_int_equal(decision.decision_id[14], '4');
	assert_true(decision.eval_ns > 0);

	request_init(&r, CALLER, "GET", "/v1/data", "", array_scope);
	decide(f, &r, true, "allowed by data.proxy.allow");
	free(array_scope);
	free(token);
}

static void flagship_denies_everything_else(void **state)
{
	struct fixture *f = *state;
	int64_t now = wd_now();
	char *good = token_with(f, f->key, now + 300, GOOD_SCOPE, GOOD_GROUPS);
	char *forged = token_with(f, f->other, now + 300, GOOD_SCOPE, GOOD_GROUPS);
	char *expired = token_with(f, f->key, now - 60, GOOD_SCOPE, GOOD_GROUPS);
	char *no_scope = token_with(f, f->key, now + 300, "\"openid data:write\"", GOOD_GROUPS);
	char *not_admin = token_with(f, f->key, now + 300, GOOD_SCOPE, "[\"dev\"]");
	char *scope_prefix = token_with(f, f->key, now + 300, "\"data:readx\"", GOOD_GROUPS);
	char expired_reason[256];
	struct request r;

	open_authz(f, NULL, 0);
	request_init(&r, CALLER, "POST", "/v1/data", "", good);
	decide(f, &r, false, DENIED);
	request_init(&r, CALLER, "GET", "/v1/data/x", "", good);
	decide(f, &r, false, DENIED);
	request_init(&r, CALLER, "GET", "/v1/datax", "", good);
	decide(f, &r, false, DENIED);
	request_init(&r, CALLER, "get", "/v1/data", "", good);
	decide(f, &r, false, DENIED);
	request_init(&r, CALLER, "GET", "/v1/%64ata", "", good);
	decide(f, &r, false, DENIED);
	request_init(&r, CALLER, "GET", "/v1/data", "", NULL);
	decide(f, &r, false, DENIED);
	request_init(&r, CALLER, "GET", "/v1/data", "", forged);
	decide(f, &r, false,
		DENIED " (JWT not accepted: JWT ES256 signature does not verify with any key of its kid)");
	request_init(&r, CALLER, "GET", "/v1/data", "", expired);
	snprintf(expired_reason, sizeof(expired_reason),
		DENIED " (JWT not accepted: JWT expired at %lld (now %lld, leeway 5 s))",
		(long long)(now - 60), (long long)wd_now());
	decide(f, &r, false, expired_reason);
	request_init(&r, CALLER, "GET", "/v1/data", "", no_scope);
	decide(f, &r, false, DENIED);
	request_init(&r, CALLER, "GET", "/v1/data", "", scope_prefix);
	decide(f, &r, false, DENIED);
	request_init(&r, CALLER, "GET", "/v1/data", "", not_admin);
	decide(f, &r, false, DENIED);
	request_init(&r, "spiffe://example.org/c", "GET", "/v1/data", "", good);
	decide(f, &r, false, DENIED);
	request_init(&r, "spiffe://other.org/a", "GET", "/v1/data", "", good);
	decide(f, &r, false, DENIED);
	request_init(&r, NULL, "GET", "/v1/data", "", good);
	decide(f, &r, false, DENIED);
	request_init(&r, CALLER, "GET", "/v1/data", "", good);
	r.info.destination_id = "spiffe://example.org/d";
	decide(f, &r, false, DENIED);

	// The same good token still passes after all that.
	request_init(&r, CALLER, "GET", "/v1/data", "", good);
	decide(f, &r, true, "allowed by data.proxy.allow");
	free(good);
	free(forged);
	free(expired);
	free(no_scope);
	free(not_admin);
	free(scope_prefix);
}

static void bearer_header_rules(void **state)
{
	struct fixture *f = *state;
	char *good = token_with(f, f->key, wd_now() + 300, GOOD_SCOPE, GOOD_GROUPS);
	char value[4096];
	struct request r;

	open_authz(f, NULL, 0);
	// The scheme is case-insensitive and may be followed by several spaces.
	request_init(&r, CALLER, "GET", "/v1/data", "", good);
	snprintf(r.authorization, sizeof(r.authorization), "bearer   %s", good);
	r.head.headers[1].value.len = strlen(r.authorization);
	decide(f, &r, true, "allowed by data.proxy.allow");

	// Two Authorization headers: neither is used.
	r.head.headers[2] = r.head.headers[1];
	r.head.headers[2].name = (struct http1_slice){ "authorization", 13 };
	r.head.header_count = 3;
	decide(f, &r, false, DENIED);

	snprintf(value, sizeof(value), "Basic %s", good);
	request_init(&r, CALLER, "GET", "/v1/data", "", good);
	r.head.headers[1].value = (struct http1_slice){ value, strlen(value) };
	decide(f, &r, false, DENIED);
	r.head.headers[1].value = (struct http1_slice){ "Bearer ", 7 };
	decide(f, &r, false, DENIED);
	free(good);
}

static void input_document_exact(void **state)
{
	struct request r;
	struct rv *claims = rv_object_new(1);
	struct rv *input = NULL;
	struct wd_buf json;

	(void)state;
	wd_buf_init(&json, 512, 1 << 16);
	assert_int_equal(rv_object_put(claims, rv_cstring("sub"), rv_cstring("alice")), 0);
	request_init(&r, CALLER, "GET", "/v1/data%2Fx",
		"a=1&b=x%20y&a=2&c&&d=&e+f=g+h&bad=%zz&%41=%4", NULL);
	r.head.headers[1].name = (struct http1_slice){ "X-Trace", 7 };
	r.head.headers[1].value = (struct http1_slice){ "one", 3 };
	r.head.headers[2].name = (struct http1_slice){ "x-trace", 7 };
	r.head.headers[2].value = (struct http1_slice){ "two", 3 };
	r.head.headers[3].name = (struct http1_slice){ "Content-Type", 12 };
	r.head.headers[3].value = (struct http1_slice){ "", 0 };
	r.head.header_count = 4;

	assert_int_equal(authz_input_build(&r.info, claims, &input), 0);
	assert_int_equal(rv_write_json(input, &json), 0);
	assert_string_equal(wd_buf_str(&json),
		"{\"destination\":{\"spiffe_id\":\"spiffe://example.org/b\"},"
		"\"request\":{\"headers\":{\"content-type\":\"\",\"host\":\"b.example.org\","
		"\"x-trace\":\"one, two\"},"
		"\"jwt\":{\"sub\":\"alice\"},\"method\":\"GET\",\"path\":\"/v1/data%2Fx\","
		"\"query\":{\"A\":[\"%4\"],\"a\":[\"1\",\"2\"],\"b\":[\"x y\"],\"bad\":[\"%zz\"],"
		"\"c\":[\"\"],\"d\":[\"\"],\"e f\":[\"g h\"]}},"
		"\"source\":{\"address\":\"10.0.0.7:41000\",\"spiffe_id\":\"spiffe://example.org/a\"}}");
	rv_unref(input);

	// Without a JWT the key is absent, and without a source ID so is that.
	wd_buf_reset(&json);
	request_init(&r, NULL, "GET", "/", "", NULL);
	assert_int_equal(authz_input_build(&r.info, NULL, &input), 0);
	assert_int_equal(rv_write_json(input, &json), 0);
	assert_string_equal(wd_buf_str(&json),
		"{\"destination\":{\"spiffe_id\":\"spiffe://example.org/b\"},"
		"\"request\":{\"headers\":{\"host\":\"b.example.org\"},\"method\":\"GET\",\"path\":\"/\","
		"\"query\":{}},\"source\":{\"address\":\"10.0.0.7:41000\"}}");
	rv_unref(input);
	rv_unref(claims);
	wd_buf_free(&json);
}

static void write_policy(struct fixture *f, const char *name, const char *text)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", f->policy_dir, name);
	write_text(path, text);
}

static void result_shapes_map_to_decisions(void **state)
{
	struct fixture *f = *state;
	struct request r;

	write_policy(f, "shapes.rego",
		"package shapes\n"
		"object_allow := {\"allow\": true, \"reason\": \"caller is a\"}\n"
		"object_deny := {\"allow\": false, \"reason\": \"path is private\"}\n"
		"object_string := {\"allow\": \"true\"}\n"
		"number := 1\n"
		"undefined if false\n"
		"conflict := 1 if true\n"
		"conflict := 2 if true\n"
		"slow := count([x | some x in numbers.range(1, 100000)])\n");
	request_init(&r, CALLER, "GET", "/", "", NULL);

	open_authz(f, "data.shapes.object_allow", 0);
	decide(f, &r, true, "caller is a");
	proxy_authz_free(f->authz);
	open_authz(f, "data.shapes.object_deny", 0);
	decide(f, &r, false, "path is private");
	proxy_authz_free(f->authz);
	open_authz(f, "data.shapes.object_string", 0);
	decide(f, &r, false, "denied by data.shapes.object_string");
	proxy_authz_free(f->authz);
	open_authz(f, "data.shapes.number", 0);
	decide(f, &r, false, "denied by data.shapes.number");
	proxy_authz_free(f->authz);
	open_authz(f, "data.shapes.undefined", 0);
	decide(f, &r, false, "policy data.shapes.undefined is undefined");
	proxy_authz_free(f->authz);
	open_authz(f, "data.nothing.here", 0);
	decide(f, &r, false, "policy data.nothing.here is undefined");
	proxy_authz_free(f->authz);
	open_authz(f, "data.shapes.conflict", 0);
	decide(f, &r, false,
		"eval_conflict_error: complete rules must not produce multiple outputs");
	proxy_authz_free(f->authz);
	open_authz(f, "data.shapes.slow", 1000);
	decide(f, &r, false, "eval_cancel_error: caller cancelled query execution: step limit of 1000 exceeded");
	proxy_authz_free(f->authz);
	f->authz = NULL;
}

static void bad_configurations_rejected(void **state)
{
	struct fixture *f = *state;
	struct proxy_policy_config policy = { .path = f->policy_dir };
	struct proxy_authz *authz = NULL;
	struct wd_error err = { 0 };

	policy.decision = "data.proxy.allow; true";
	assert_int_equal(proxy_authz_new(&policy, NULL, NULL, &authz, &err), WD_ECONFIG);
	assert_string_equal(err.detail,
		"policy decision \"data.proxy.allow; true\" is not a rule path such as data.proxy.allow");
	policy.decision = "input.x";
	assert_int_equal(proxy_authz_new(&policy, NULL, NULL, &authz, &err), WD_ECONFIG);
	policy.decision = "data.";
	assert_int_equal(proxy_authz_new(&policy, NULL, NULL, &authz, &err), WD_ECONFIG);
	policy.decision = NULL;
	policy.server_url = "https://127.0.0.1:1";
	assert_int_equal(proxy_authz_new(&policy, NULL, NULL, &authz, &err), WD_ECONFIG);
	assert_string_equal(err.detail, "set exactly one of the policy path and server URL");
	policy.server_url = NULL;
	policy.path = "/nonexistent/policy";
	assert_int_equal(proxy_authz_new(&policy, NULL, NULL, &authz, &err), WD_ENOTFOUND);
	assert_string_equal(err.detail, "policy path /nonexistent/policy does not exist");

	write_policy(f, "broken.rego", "package proxy\n\nallow if {\n");
	policy.path = f->policy_dir;
	assert_int_equal(proxy_authz_new(&policy, NULL, NULL, &authz, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "policy does not compile: broken.rego:"));
	assert_null(authz);
}

static void wait_generation(struct fixture *f, uint64_t generation)
{
	for (int i = 0; i < 300 && proxy_authz_policy_generation(f->authz) < generation; i++)
		usleep(10 * 1000);
	assert_int_equal(proxy_authz_policy_generation(f->authz), generation);
}

static void directory_reload_and_bad_policy(void **state)
{
	struct fixture *f = *state;
	char path[256];
	struct request r;

	// Replace the flagship with a data-driven policy.
	snprintf(path, sizeof(path), "%s/policy.rego", f->policy_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/proxy", f->policy_dir);
	assert_int_equal(mkdir(path, 0755), 0);
	write_policy(f, "proxy/data.json", "{\"callers\": [\"spiffe://example.org/a\"]}");
	write_policy(f, "main.rego",
		"package proxy\nallow if input.source.spiffe_id in data.proxy.callers\n");
	open_authz(f, NULL, 0);
	assert_int_equal(proxy_authz_policy_generation(f->authz), 1);
	request_init(&r, CALLER, "GET", "/", "", NULL);
	decide(f, &r, true, "allowed by data.proxy.allow");
	request_init(&r, "spiffe://example.org/c", "GET", "/", "", NULL);
	decide(f, &r, false, "policy data.proxy.allow is undefined");

	// A new data file: the reload thread picks it up.
	write_policy(f, "proxy/data.json",
		"{\"callers\": [\"spiffe://example.org/a\", \"spiffe://example.org/c\"]}");
	wait_generation(f, 2);
	decide(f, &r, true, "allowed by data.proxy.allow");

	// A new module that adds a reason.
	write_policy(f, "reason.rego", "package proxy\nwhy := \"listed\"\n");
	wait_generation(f, 3);

	// A module that does not compile keeps the last good policy.
	write_policy(f, "zz_broken.rego", "package proxy\nallow if {\n");
	usleep(300 * 1000);
	assert_int_equal(proxy_authz_policy_generation(f->authz), 3);
	decide(f, &r, true, "allowed by data.proxy.allow");

	// Fixing it loads again; removing the caller denies. The data goes
	// first: while the module is broken no reload succeeds, so both
	// changes arrive in the same generation.
	write_policy(f, "proxy/data.json", "{\"callers\": []}");
	usleep(300 * 1000);
	assert_int_equal(proxy_authz_policy_generation(f->authz), 3);
	write_policy(f, "zz_broken.rego", "package proxy\n");
	wait_generation(f, 4);
	decide(f, &r, false, "policy data.proxy.allow is undefined");
}

struct worker {
	struct fixture *f;
	const char *allowed_token;
	const char *denied_token;
	int mismatches;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct request *r = malloc(sizeof(*r));
	struct proxy_decision decision;

	for (int i = 0; i < 500; i++) {
		bool expect = i % 3 == 0;

		request_init(r, expect || i % 3 == 1 ? CALLER : "spiffe://example.org/c", "GET",
			"/v1/data", "q=1", expect || i % 3 == 2 ? w->allowed_token : w->denied_token);
		proxy_authz_decide(w->f->authz, &r->info, &decision);
		if (decision.allow != expect)
			w->mismatches++;
	}
	free(r);
	return NULL;
}

static void concurrent_decisions_consistent(void **state)
{
	struct fixture *f = *state;
	char *allowed = token_with(f, f->key, wd_now() + 300, GOOD_SCOPE, GOOD_GROUPS);
	char *denied = token_with(f, f->key, wd_now() + 300, GOOD_SCOPE, "[\"dev\"]");
	struct worker workers[4];
	pthread_t threads[4];

	open_authz(f, NULL, 0);
	for (size_t i = 0; i < 4; i++) {
		workers[i] = (struct worker){ f, allowed, denied, 0 };
		assert_int_equal(pthread_create(&threads[i], NULL, worker_main, &workers[i]), 0);
	}
	// A reload in the middle swaps the engine under the workers.
	write_policy(f, "extra.rego", "package other\nx := 1\n");
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(threads[i], NULL), 0);
		assert_int_equal(workers[i].mismatches, 0);
	}
	wait_generation(f, 2);
	free(allowed);
	free(denied);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(flagship_allows_admin_reader, setup, teardown),
		cmocka_unit_test_setup_teardown(flagship_denies_everything_else, setup, teardown),
		cmocka_unit_test_setup_teardown(bearer_header_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(input_document_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(result_shapes_map_to_decisions, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_configurations_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(directory_reload_and_bad_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(concurrent_decisions_consistent, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
