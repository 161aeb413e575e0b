/* TLS certificate auth: role endpoints, and logins with X.509-SVIDs that
 * the trust domain's authority signs, checked against URI SAN and common
 * name globs and against a role's own CA. */
#include "token_fixture.h"

#include <openssl/bn.h>

#include "crypto/key.h"
#include "crypto/x509.h"
#include "identity/x509svid.h"
#include "secrets/auth_cert_internal.h"

/* A client chain as the listener hands it over: leaf, then the CA. */
struct client {
	struct authority_x509_svid svid;
	STACK_OF(X509) *chain;
};

static void client_issue(struct fixture *f, const char *spiffe_id, const char *dns_name,
	struct client *ret_client)
{
	struct spiffe_id id;
	EVP_PKEY *key = NULL;
	STACK_OF(X509) *cas = NULL;
	const char *dns_names[] = { dns_name };
	struct authority_x509_request request;
	X509 *leaf;

	memset(ret_client, 0, sizeof(*ret_client));
	assert_int_equal(spiffe_id_parse(spiffe_id, strlen(spiffe_id), &id, NULL), 0);
	assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC_P256, &key, NULL), 0);
	request = (struct authority_x509_request){
		.spiffe_id = &id,
		.public_key = key,
		.dns_names = dns_name ? dns_names : NULL,
		.dns_name_count = dns_name ? 1 : 0,
	};
	assert_int_equal(authority_sign_x509(f->authority, &request, (int64_t)time(NULL),
		&ret_client->svid, &f->err), 0);
	EVP_PKEY_free(key);

	leaf = authority_x509_svid_cert(&ret_client->svid);
	assert_non_null(leaf);
	assert_int_equal(authority_x509_authorities(f->authority, &cas, &f->err), 0);
	ret_client->chain = sk_X509_new_null();
	assert_non_null(ret_client->chain);
	X509_up_ref(leaf);
	assert_true(sk_X509_push(ret_client->chain, leaf) > 0);
	X509_up_ref(sk_X509_value(cas, 0));
	assert_true(sk_X509_push(ret_client->chain, sk_X509_value(cas, 0)) > 0);
	sk_X509_pop_free(cas, X509_free);
}

static void client_free(struct client *client)
{
	sk_X509_pop_free(client->chain, X509_free);
	authority_x509_svid_clear(&client->svid);
}

/* Logs in at auth/cert/login with chain and body, as the backend does
 * after reading the chain from the connection. */
static int login(struct fixture *f, struct call *c, STACK_OF(X509) *chain, const char *body)
{
	memset(c, 0, sizeof(*c));
	c->req.op = VAULT_OP_UPDATE;
	c->req.path = strdup("auth/cert/login");
	c->req.body = json_loads(body ? body : "{}", 0, NULL);
	assert_non_null(c->req.body);
	c->req.mount = vault_mount_lookup(f->secrets, c->req.path);
	assert_non_null(c->req.mount);
	c->req.rel = c->req.path + strlen(c->req.mount->path);
	c->rc = cert_login(f->secrets, &c->req, chain, &c->resp, &c->err);
	return c->rc;
}

/* PEM of a CA certificate of another trust domain. */
static char *other_ca_pem(void)
{
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	char *pem = NULL;

	assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC_P256, &key, NULL), 0);
	assert_int_equal(x509svid_ca_create(key, "other.org", (int64_t)time(NULL), 86400, 10,
		&cert, NULL), 0);
	assert_int_equal(crypto_x509_to_pem(cert, &pem), 0);
	X509_free(cert);
	EVP_PKEY_free(key);
	return pem;
}

static char *own_ca_pem(struct fixture *f)
{
	STACK_OF(X509) *cas = NULL;
	char *pem = NULL;

	assert_int_equal(authority_x509_authorities(f->authority, &cas, &f->err), 0);
	assert_int_equal(crypto_x509_to_pem(sk_X509_value(cas, 0), &pem), 0);
	sk_X509_pop_free(cas, X509_free);
	return pem;
}

static void write_role(struct fixture *f, const char *name, const char *body)
{
	char path[128];

	snprintf(path, sizeof(path), "auth/cert/certs/%s", name);
	call_ok(f, VAULT_OP_UPDATE, path, body, ROOT_TOKEN);
}

static void test_role_crud(void **state)
{
	struct fixture *f = *state;
	struct call c;

	assert_int_equal(call_backend(f, &c, VAULT_OP_UPDATE, "auth/cert/certs/web",
		"{\"allowed_uri_sans\": \"spiffe://example.org/web/*\", \"token_policies\": "
		"\"web,db\", \"token_ttl\": \"1h\", \"token_max_ttl\": \"2h\"}", ROOT_TOKEN), 0);
	/* The existence check saw a new role. */
	assert_int_equal(c.req.op, VAULT_OP_CREATE);
	call_clear(&c);

	assert_int_equal(call_backend(f, &c, VAULT_OP_READ, "auth/cert/certs/web", NULL,
		ROOT_TOKEN), 0);
	assert_string_list(json_object_get(c.resp.data, "allowed_uri_sans"),
		"spiffe://example.org/web/*", NULL);
	assert_string_list(json_object_get(c.resp.data, "allowed_common_names"), NULL);
	assert_string_list(json_object_get(c.resp.data, "token_policies"), "db", "web", NULL);
	assert_int_equal(json_int(c.resp.data, "token_ttl"), 3600);
	assert_int_equal(json_int(c.resp.data, "token_max_ttl"), 7200);
	assert_string_equal(json_str(c.resp.data, "certificate"), "");
	assert_string_equal(json_str(c.resp.data, "display_name"), "web");
	call_clear(&c);

	/* An update keeps the fields it does not name. */
	assert_int_equal(call_backend(f, &c, VAULT_OP_UPDATE, "auth/cert/certs/web",
		"{\"display_name\": \"frontend\"}", ROOT_TOKEN), 0);
	assert_int_equal(c.req.op, VAULT_OP_UPDATE);
	call_clear(&c);
	assert_int_equal(call_backend(f, &c, VAULT_OP_READ, "auth/cert/certs/web", NULL,
		ROOT_TOKEN), 0);
	assert_string_equal(json_str(c.resp.data, "display_name"), "frontend");
	assert_int_equal(json_int(c.resp.data, "token_ttl"), 3600);
	call_clear(&c);

	write_role(f, "api", "{}");
	assert_int_equal(call_backend(f, &c, VAULT_OP_LIST, "auth/cert/certs/", NULL,
		ROOT_TOKEN), 0);
	assert_string_list(json_object_get(c.resp.data, "keys"), "api", "web", NULL);
	call_clear(&c);

	call_ok(f, VAULT_OP_DELETE, "auth/cert/certs/web", NULL, ROOT_TOKEN);
	call_backend(f, &c, VAULT_OP_READ, "auth/cert/certs/web", NULL, ROOT_TOKEN);
	assert_call_error(&c, WD_ENOTFOUND, "");
	call_clear(&c);
}

static void test_role_invalid_fields(void **state)
{
	struct fixture *f = *state;
	struct call c;

	call_backend(f, &c, VAULT_OP_UPDATE, "auth/cert/certs/web",
		"{\"certificate\": \"not a pem\"}", ROOT_TOKEN);
	assert_int_equal(c.rc, WD_EINVAL);
	assert_memory_equal(c.err.detail, "invalid certificate: ", 21);
	call_clear(&c);

	call_backend(f, &c, VAULT_OP_UPDATE, "auth/cert/certs/web",
		"{\"token_ttl\": 7200, \"token_max_ttl\": 3600}", ROOT_TOKEN);
	assert_call_error(&c, WD_EINVAL, "'token_ttl' cannot be greater than 'token_max_ttl'");
	call_clear(&c);

	call_backend(f, &c, VAULT_OP_UPDATE, "auth/cert/certs/-bad", "{}", ROOT_TOKEN);
	assert_int_equal(c.rc, WD_EINVAL);
	call_clear(&c);

	/* Nothing was stored by the refused writes. */
	call_backend(f, &c, VAULT_OP_LIST, "auth/cert/certs/", NULL, ROOT_TOKEN);
	assert_int_equal(c.rc, WD_ENOTFOUND);
	call_clear(&c);
}

static void test_login_with_svid(void **state)
{
	struct fixture *f = *state;
	struct client client;
	struct vault_token *token = NULL;
	struct call c;
	const json_t *meta;
	BIGNUM *serial = NULL;
	char *serial_text;

	write_role(f, "web", "{\"allowed_uri_sans\": [\"spiffe://example.org/web/*\"], "
		"\"token_policies\": [\"web\"], \"token_ttl\": 3600}");
	client_issue(f, "spiffe://example.org/web/frontend", NULL, &client);

	assert_int_equal(login(f, &c, client.chain, "{}"), 0);
	assert_string_list(json_object_get(c.resp.auth, "policies"), "default", "web", NULL);
	assert_int_equal(json_int(c.resp.auth, "lease_duration"), 3600);
	assert_true(json_is_true(json_object_get(c.resp.auth, "orphan")));
	meta = json_object_get(c.resp.auth, "metadata");
	assert_string_equal(json_str(meta, "cert_name"), "web");
	assert_string_equal(json_str(meta, "spiffe_id"), "spiffe://example.org/web/frontend");
	assert_string_equal(json_str(meta, "common_name"), "");
	assert_true(BN_hex2bn(&serial, client.svid.serial_hex) > 0);
	serial_text = BN_bn2dec(serial);
	assert_string_equal(json_str(meta, "serial_number"), serial_text);
	OPENSSL_free(serial_text);
	BN_free(serial);

	/* The token works and records the login path and role. */
	assert_int_equal(token_lookup(f->secrets, json_str(c.resp.auth, "client_token"), &token,
		&f->err), 0);
	assert_string_equal(token->display_name, "cert-web");
	assert_string_equal(token->path, "auth/cert/login");
	token_free(token);
	call_clear(&c);
	client_free(&client);
}

static void test_login_rejections(void **state)
{
	struct fixture *f = *state;
	struct client client;
	struct call c;

	/* No roles at all: nothing can verify the chain. */
	client_issue(f, "spiffe://example.org/db", NULL, &client);
	login(f, &c, client.chain, "{}");
	assert_call_error(&c, WD_EINVAL, "invalid certificate or no client certificate supplied");
	call_clear(&c);

	write_role(f, "web", "{\"allowed_uri_sans\": \"spiffe://example.org/web/*\"}");
	login(f, &c, client.chain, "{}");
	assert_call_error(&c, WD_EINVAL,
		"no chain matching all constraints could be found for this login certificate");
	call_clear(&c);

	login(f, &c, NULL, "{}");
	assert_call_error(&c, WD_EINVAL, "invalid certificate or no client certificate supplied");
	call_clear(&c);

	/* A named role that does not exist matches nothing. */
	login(f, &c, client.chain, "{\"name\": \"missing\"}");
	assert_call_error(&c, WD_EINVAL, "invalid certificate or no client certificate supplied");
	call_clear(&c);
	client_free(&client);
}

static void test_login_picks_role(void **state)
{
	struct fixture *f = *state;
	struct client client;
	struct call c;
	char body[8192];
	char *other = other_ca_pem();
	json_t *role = json_pack("{s:s}", "certificate", other);
	char *role_text = json_dumps(role, 0);

	/* "a-other" sorts first but trusts another CA; "b-db" wants another
	 * SPIFFE ID; "c-web" accepts. */
	write_role(f, "a-other", role_text);
	write_role(f, "b-db", "{\"allowed_uri_sans\": \"spiffe://example.org/db\"}");
	write_role(f, "c-web", "{\"allowed_uri_sans\": \"spiffe://example.org/web/*\", "
		"\"token_policies\": \"web\"}");
	client_issue(f, "spiffe://example.org/web/api", NULL, &client);

	assert_int_equal(login(f, &c, client.chain, NULL), 0);
	assert_string_equal(json_str(json_object_get(c.resp.auth, "metadata"), "cert_name"),
		"c-web");
	call_clear(&c);

	/* Naming a role that does not accept the chain fails. */
	login(f, &c, client.chain, "{\"name\": \"b-db\"}");
	assert_call_error(&c, WD_EINVAL,
		"no chain matching all constraints could be found for this login certificate");
	call_clear(&c);
	login(f, &c, client.chain, "{\"name\": \"a-other\"}");
	assert_call_error(&c, WD_EINVAL, "invalid certificate or no client certificate supplied");
	call_clear(&c);

	/* A role holding our own CA accepts. */
	free(role_text);
	json_decref(role);
	free(other);
	other = own_ca_pem(f);
	role = json_pack("{s:s, s:s}", "certificate", other, "allowed_uri_sans", "*/web/api");
	role_text = json_dumps(role, 0);
	snprintf(body, sizeof(body), "%s", role_text);
	write_role(f, "a-other", body);
	assert_int_equal(login(f, &c, client.chain, "{\"name\": \"a-other\"}"), 0);
	call_clear(&c);

	free(role_text);
	json_decref(role);
	free(other);
	client_free(&client);
}

static void test_login_common_names(void **state)
{
	struct fixture *f = *state;
	struct client client;
	struct call c;

	write_role(f, "db", "{\"allowed_common_names\": [\"db.*\"]}");
	write_role(f, "web", "{\"allowed_common_names\": [\"*.example.org\"], "
		"\"display_name\": \"site\"}");
	client_issue(f, "spiffe://example.org/any", "web.example.org", &client);

	assert_int_equal(login(f, &c, client.chain, NULL), 0);
	assert_string_equal(json_str(json_object_get(c.resp.auth, "metadata"), "cert_name"),
		"web");
	assert_string_equal(json_str(json_object_get(c.resp.auth, "metadata"), "common_name"),
		"web.example.org");
	call_clear(&c);
	client_free(&client);
}

static void test_disable_revokes_tokens(void **state)
{
	struct fixture *f = *state;
	struct client client;
	struct vault_token *token = NULL;
	char id[TOKEN_ID_MAX];
	struct call c;

	write_role(f, "web", "{\"allowed_uri_sans\": \"spiffe://example.org/web\"}");
	client_issue(f, "spiffe://example.org/web", NULL, &client);
	assert_int_equal(login(f, &c, client.chain, NULL), 0);
	snprintf(id, sizeof(id), "%s", json_str(c.resp.auth, "client_token"));
	call_clear(&c);

	/* A token made by root survives; the login token goes with the mount. */
	assert_int_equal(vault_mount_remove(f->secrets, "auth/cert", &f->err), 0);
	assert_int_equal(token_lookup(f->secrets, id, &token, &f->err), WD_EPERM);
	assert_int_equal(token_lookup(f->secrets, ROOT_TOKEN, &token, &f->err), 0);
	token_free(token);
	client_free(&client);
}

static void test_login_unauthenticated(void **state)
{
	(void)state;
	assert_true(vault_backend_cert.unauthenticated("login", VAULT_OP_UPDATE));
	assert_false(vault_backend_cert.unauthenticated("certs/web", VAULT_OP_UPDATE));
	assert_false(vault_backend_cert.unauthenticated("certs/", VAULT_OP_LIST));
}

static void test_glob(void **state)
{
	(void)state;
	assert_true(auth_glob_match("spiffe://example.org/web/*", "spiffe://example.org/web/a/b"));
	assert_false(auth_glob_match("spiffe://example.org/web/*", "spiffe://example.org/web"));
	assert_true(auth_glob_match("*", ""));
	assert_true(auth_glob_match("a*b*c", "axxbyyc"));
	assert_false(auth_glob_match("a*b*c", "axxbyy"));
	assert_true(auth_glob_match("exact", "exact"));
	assert_false(auth_glob_match("exact", "exactly"));
	assert_true(auth_glob_match("*.example.org", "web.example.org"));
	assert_false(auth_glob_match("*.example.org", "example.org"));
}

#define TEST(name) cmocka_unit_test_setup_teardown(name, fixture_setup, fixture_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_role_crud),
		TEST(test_role_invalid_fields),
		TEST(test_login_with_svid),
		TEST(test_login_rejections),
		TEST(test_login_picks_role),
		TEST(test_login_common_names),
		TEST(test_disable_revokes_tokens),
		cmocka_unit_test(test_login_unauthenticated),
		cmocka_unit_test(test_glob),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
