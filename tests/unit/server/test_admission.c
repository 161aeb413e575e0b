/* Unit tests for admission control: the admission section of the server
 * configuration and its errors, loading trusted keys, the signature table,
 * verification with trusted keys and the issuance decision for an entry. */
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

#include "common/encoding.h"
#include "common/file.h"
#include "server/admission_internal.h"
#include "supply/bundle.h"
#include "../store/test_datastore.h"

#define SIGNER_ID "spiffe://example.org/ci/builder"

struct fixture {
	char dir[64];
	char path[128];
	EVP_PKEY *trusted;
	EVP_PKEY *untrusted;
	struct store *store;
	struct admission *admission;
};

static void write_file(const char *path, const char *text)
{
	struct wd_error err = { 0 };

	assert_int_equal(wd_file_write_atomic(path, text, strlen(text), 0600, &err), 0);
}

static void dir_path(const struct fixture *f, const char *name, char out[static 160])
{
	snprintf(out, 160, "%s/%s", f->dir, name);
}

/* Writes the trusted key as trusted.pub and opens the admission state with
 * it and SIGNER_ID. */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct wd_error err = { 0 };
	char key_path[160];
	char *pem = NULL;
	char *keys[] = { key_path };
	char *ids[] = { (char *)SIGNER_ID };
	char *types[] = { (char *)"spdx" };
	struct server_admission_config config = {
		.trusted_keys = { keys, 1 },
		.trusted_spiffe_ids = { ids, 1 },
		.predicate_types = { types, 1 },
	};

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/wd-admission-test-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	test_datastore_setup(f->path, sizeof(f->path), f->dir, "store.db");
	assert_int_equal(supply_key_generate(&f->trusted, &err), 0);
	assert_int_equal(supply_key_generate(&f->untrusted, &err), 0);
	assert_int_equal(supply_public_key_to_pem(f->trusted, &pem, &err), 0);
	dir_path(f, "trusted.pub", key_path);
	write_file(key_path, pem);
	free(pem);

	assert_int_equal(store_open(f->path, NULL, &f->store, &err), 0);
	if (admission_open(&config, f->store, &f->admission, &err) < 0)
		fail_msg("admission_open: %s", wd_error_text(&err));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char command[128];

	admission_close(f->admission);
	store_close(f->store);
	EVP_PKEY_free(f->trusted);
	EVP_PKEY_free(f->untrusted);
	snprintf(command, sizeof(command), "rm -rf %s", f->dir);
	assert_int_equal(system(command), 0);
	free(f);
	return 0;
}

/* Returns a bundle over blob's digest signed with key (malloc'd). */
static char *signed_bundle(EVP_PKEY *key, const char *blob, uint8_t digest[static 32])
{
	struct supply_bundle bundle = {
		.content = SUPPLY_CONTENT_MESSAGE_SIGNATURE,
		.material = SUPPLY_MATERIAL_PUBLIC_KEY,
		.has_message_digest = true,
	};
	struct wd_error err = { 0 };
	char *text = NULL;

	assert_int_equal(supply_digest_bytes(blob, strlen(blob), digest, &err), 0);
	assert_int_equal(supply_bundle_key_hint(key, &bundle.key_hint, &err), 0);
	memcpy(bundle.message_digest, digest, SUPPLY_DIGEST_LEN);
	assert_int_equal(supply_digest_sign(key, digest, &bundle.signature, &bundle.signature_len,
		&err), 0);
	assert_int_equal(supply_bundle_write(&bundle, &text, &err), 0);
	supply_bundle_clear(&bundle);
	return text;
}

static char *hex_of(const uint8_t digest[static 32])
{
	char *hex = NULL;

	assert_int_equal(wd_hex_encode(digest, 32, &hex), 0);
	return hex;
}

/* ---- Configuration ---- */

static int load_config(const char *yaml, struct server_config *config,
	struct wd_error *err)
{
	char path[] = "/tmp/wd-admission-config-XXXXXX";
	struct config_report report = { 0 };
	int fd = mkstemp(path);
	int rc;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
	close(fd);
	server_config_init(config);
	rc = server_config_load(path, config, &report);
	unlink(path);
	if (rc < 0) {
		wd_error_set(err, rc, "%s", report.count ? report.issues[0].text : "load failed");
		config_report_free(&report);
		return rc;
	}
	config_report_free(&report);
	return server_config_validate(config, err);
}

static void config_admission_parsed(void **state)
{
	struct server_config config;
	struct wd_error err = { 0 };

	(void)state;
	assert_int_equal(load_config("trust_domain: example.org\n"
		"admission:\n"
		"  trusted_keys: [/etc/warden/cosign.pub, /etc/warden/release.pub]\n"
		"  trusted_spiffe_ids: [spiffe://example.org/ci/builder]\n"
		"  predicate_types: [spdx, https://slsa.dev/provenance/v1]\n", &config, &err), 0);
	assert_int_equal(config.admission.trusted_keys.count, 2);
	assert_string_equal(config.admission.trusted_keys.items[1], "/etc/warden/release.pub");
	assert_int_equal(config.admission.trusted_spiffe_ids.count, 1);
	assert_string_equal(config.admission.trusted_spiffe_ids.items[0], SIGNER_ID);
	assert_int_equal(config.admission.predicate_types.count, 2);
	server_config_free(&config);

	/* Without the section every list is empty. */
	assert_int_equal(load_config("trust_domain: example.org\n", &config, &err), 0);
	assert_int_equal(config.admission.trusted_keys.count, 0);
	assert_int_equal(config.admission.trusted_spiffe_ids.count, 0);
	assert_int_equal(config.admission.predicate_types.count, 0);
	server_config_free(&config);
}

struct config_case {
	const char *yaml;
	const char *detail;
};

static const struct config_case config_cases[] = {
	{ "admission:\n  trusted_spiffe_ids: [spiffe://other.org/ci]\n",
	  "invalid admission.trusted_spiffe_ids[0] 'spiffe://other.org/ci': not in trust domain "
	  "example.org, whose CA the server checks signers against" },
	{ "admission:\n  trusted_spiffe_ids: [spiffe://example.org]\n",
	  "invalid admission.trusted_spiffe_ids[0] 'spiffe://example.org': a path is required" },
	{ "admission:\n  trusted_spiffe_ids: [" SIGNER_ID ", " SIGNER_ID "]\n",
	  "invalid admission.trusted_spiffe_ids[1] '" SIGNER_ID "': listed twice" },
	{ "admission:\n  trusted_keys: ['']\n", "invalid admission.trusted_keys[0]: empty" },
	{ "admission:\n  predicate_types: [sbom]\n",
	  "invalid admission.predicate_types[0]: invalid predicate type \"sbom\": expected spdx, "
	  "cyclonedx, slsaprovenance, openvex or a URI" },
	{ "admission:\n  predicate_types: ['https://x.example/a b']\n",
	  "invalid admission.predicate_types[0] 'https://x.example/a b': expected a URI without "
	  "spaces" },
	{ "admission:\n  trusted_tokens: [x]\n",
	  "unknown key 'admission.trusted_tokens'" },
};

static void config_admission_errors_named(void **state)
{
	(void)state;
	for (size_t i = 0; i < WD_ARRAY_LEN(config_cases); i++) {
		char yaml[512];
		struct server_config config;
		struct wd_error err = { 0 };
		int rc;

		snprintf(yaml, sizeof(yaml), "trust_domain: example.org\n%s", config_cases[i].yaml);
		rc = load_config(yaml, &config, &err);
		if (rc != WD_ECONFIG || !strstr(err.detail, config_cases[i].detail))
			fail_msg("case %zu: rc %d, detail \"%s\", expected \"%s\"", i, rc, err.detail,
				config_cases[i].detail);
		server_config_free(&config);
	}
}

static void config_admission_list_ceiling(void **state)
{
	char yaml[8192];
	struct server_config config;
	struct wd_error err = { 0 };
	size_t used;

	(void)state;
	used = (size_t)snprintf(yaml, sizeof(yaml),
		"trust_domain: example.org\nadmission:\n  trusted_keys:\n");
	for (int i = 0; i <= SERVER_MAX_ADMISSION_ITEMS; i++)
		used += (size_t)snprintf(yaml + used, sizeof(yaml) - used, "    - /keys/%d.pub\n", i);
	assert_true(used < sizeof(yaml));
	assert_int_equal(load_config(yaml, &config, &err), WD_ECONFIG);
	assert_string_equal(err.detail, "too many admission.trusted_keys: 65, at most 64");
	server_config_free(&config);
}

/* ---- Opening ---- */

static void open_resolves_and_loads(void **state)
{
	struct fixture *f = *state;

	assert_true(admission_has_trust(f->admission));
	assert_int_equal(f->admission->key_count, 1);
	assert_int_equal(f->admission->predicate_type_count, 1);
	assert_string_equal(f->admission->predicate_types[0], "https://spdx.dev/Document");
}

static void open_bad_key_named(void **state)
{
	struct fixture *f = *state;
	struct admission *admission = (struct admission *)1;
	struct wd_error err = { 0 };
	char path[160];
	char expected[512];
	char *keys[] = { path };
	struct server_admission_config config = { .trusted_keys = { keys, 1 } };

	dir_path(f, "missing.pub", path);
	assert_int_equal(admission_open(&config, f->store, &admission, &err), WD_ECONFIG);
	assert_null(admission);
	snprintf(expected, sizeof(expected), "invalid admission.trusted_keys[0] '%s': ", path);
	assert_non_null(strstr(err.detail, expected));

	dir_path(f, "not-a-key.pub", path);
	write_file(path, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
	assert_int_equal(admission_open(&config, f->store, &admission, &err), WD_ECONFIG);
	snprintf(expected, sizeof(expected), "invalid admission.trusted_keys[0] '%s': ", path);
	assert_non_null(strstr(err.detail, expected));

	/* With no settings there is nothing to trust. */
	memset(&config, 0, sizeof(config));
	assert_int_equal(admission_open(&config, f->store, &admission, &err), 0);
	assert_false(admission_has_trust(admission));
	admission_close(admission);
}

/* ---- Verification ---- */

static void verify_trusted_key(void **state)
{
	struct fixture *f = *state;
	struct admission_verdict verdict;
	struct wd_error err = { 0 };
	uint8_t digest[32];
	char *text = signed_bundle(f->trusted, "release\n", digest);
	char expected[128];

	assert_int_equal(admission_verify(f->admission, NULL, digest, text, strlen(text), 0,
		&verdict, &err), 0);
	assert_string_equal(verdict.kind, "signature");
	snprintf(expected, sizeof(expected), "key:%s", f->admission->key_hints[0]);
	assert_string_equal(verdict.signer, expected);
	assert_string_equal(verdict.predicate_type, "");
	free(text);
}

static void verify_rejections_named(void **state)
{
	struct fixture *f = *state;
	struct admission_verdict verdict;
	struct wd_error err = { 0 };
	uint8_t digest[32];
	uint8_t other[32];
	char *text = signed_bundle(f->untrusted, "release\n", digest);
	char *hint = NULL;
	char expected[512];

	assert_int_equal(supply_bundle_key_hint(f->untrusted, &hint, &err), 0);
	assert_int_equal(admission_verify(f->admission, NULL, digest, text, strlen(text), 0,
		&verdict, &err), WD_ECRYPTO);
	snprintf(expected, sizeof(expected), "untrusted signer: the signature does not verify "
		"with admission.trusted_keys, and the bundle names key %s, which is not one of "
		"them", hint);
	assert_string_equal(err.detail, expected);
	assert_null(verdict.kind);
	free(text);
	free(hint);

	text = signed_bundle(f->trusted, "release\n", digest);
	assert_int_equal(supply_digest_bytes("other\n", 6, other, &err), 0);
	assert_int_equal(admission_verify(f->admission, NULL, other, text, strlen(text), 0,
		&verdict, &err), WD_ECRYPTO);
	assert_non_null(strstr(err.detail, "digest mismatch: the bundle signs sha256:"));
	free(text);

	assert_int_equal(admission_verify(f->admission, NULL, digest, "[1]", 3, 0, &verdict, &err),
		WD_EINVAL);
	assert_string_equal(err.detail, "invalid signature: expected a Sigstore bundle or a DSSE "
		"envelope as a JSON object");
	assert_int_equal(admission_verify(f->admission, NULL, digest, "{\"mediaType\":1}", 15, 0,
		&verdict, &err), WD_EINVAL);
}

/* ---- The signature table and the issuance decision ---- */

static struct admission_signature *add(struct fixture *f, const uint8_t digest[static 32],
	const char *text, int64_t now)
{
	struct admission_verdict verdict;
	struct admission_signature *signature = NULL;
	struct wd_error err = { 0 };

	assert_int_equal(admission_verify(f->admission, NULL, digest, text, strlen(text), 0,
		&verdict, &err), 0);
	if (admission_signature_add(f->admission, digest, text, strlen(text), &verdict, now,
		&signature, &err) < 0)
		fail_msg("admission_signature_add: %s", wd_error_text(&err));
	return signature;
}

static void store_add_list_delete(void **state)
{
	struct fixture *f = *state;
	struct admission_signature_list *list = NULL;
	struct admission_signature *deleted = NULL;
	struct admission_verdict verdict;
	struct wd_error err = { 0 };
	uint8_t digest[32];
	uint8_t other[32];
	char *first = signed_bundle(f->trusted, "one\n", digest);
	char *second = signed_bundle(f->trusted, "one\n", digest);
	char *third = signed_bundle(f->trusted, "two\n", other);
	struct admission_signature *a = add(f, digest, first, 100);
	struct admission_signature *b = add(f, digest, second, 200);
	struct admission_signature *c = add(f, other, third, 150);
	char *hex = hex_of(digest);
	char expected[256];
	json_t *json = NULL;

	assert_string_equal(a->digest_hex, hex);
	assert_string_equal(a->kind, "signature");

	assert_int_equal(admission_signature_list(f->admission, digest, true, &list, &err), 0);
	assert_int_equal(list->count, 2);
	assert_string_equal(list->items[0]->id, a->id);
	assert_string_equal(list->items[1]->id, b->id);
	assert_string_equal(list->items[0]->content, first);
	admission_signature_list_free(list);

	assert_int_equal(admission_signature_list(f->admission, NULL, false, &list, &err), 0);
	assert_int_equal(list->count, 3);
	assert_string_equal(list->items[1]->id, c->id);
	assert_null(list->items[1]->content);
	admission_signature_list_free(list);

	/* The same bytes twice are one signature. */
	assert_int_equal(admission_verify(f->admission, NULL, digest, first, strlen(first), 0,
		&verdict, &err), 0);
	assert_int_equal(admission_signature_add(f->admission, digest, first, strlen(first),
		&verdict, 300, NULL, &err), WD_EEXIST);
	snprintf(expected, sizeof(expected), "duplicate signature: signature %s of sha256:%s has "
		"the same content", a->id, hex);
	assert_string_equal(err.detail, expected);

	assert_int_equal(admission_signature_to_json(a, &json), 0);
	snprintf(expected, sizeof(expected), "sha256:%s", hex);
	assert_string_equal(json_string_value(json_object_get(json, "digest")), expected);
	assert_int_equal(json_integer_value(json_object_get(json, "created_at")), 100);
	assert_null(json_object_get(json, "content"));
	json_decref(json);

	assert_int_equal(admission_signature_delete(f->admission, a->id, &deleted, &err), 0);
	assert_string_equal(deleted->id, a->id);
	assert_int_equal(admission_signature_delete(f->admission, a->id, NULL, &err),
		WD_ENOTFOUND);
	snprintf(expected, sizeof(expected), "signature \"%s\" not found", a->id);
	assert_string_equal(err.detail, expected);
	assert_int_equal(admission_signature_delete(f->admission, "A", NULL, &err), WD_EINVAL);
	assert_string_equal(err.detail, "invalid signature id \"A\": expected a lowercase UUID");

	admission_signature_free(deleted);
	admission_signature_free(a);
	admission_signature_free(b);
	admission_signature_free(c);
	free(hex);
	free(first);
	free(second);
	free(third);
}

static void store_ceiling_per_digest(void **state)
{
	struct fixture *f = *state;
	struct admission_verdict verdict;
	struct wd_error err = { 0 };
	uint8_t digest[32];
	char *text = NULL;
	char *hex = NULL;
	char expected[256];

	for (int i = 0; i < ADMISSION_MAX_SIGNATURES_PER_DIGEST; i++) {
		/* ECDSA signatures are randomized, so each bundle differs. */
		text = signed_bundle(f->trusted, "same\n", digest);
		admission_signature_free(add(f, digest, text, i));
		free(text);
	}
	text = signed_bundle(f->trusted, "same\n", digest);
	assert_int_equal(admission_verify(f->admission, NULL, digest, text, strlen(text), 0,
		&verdict, &err), 0);
	assert_int_equal(admission_signature_add(f->admission, digest, text, strlen(text),
		&verdict, 99, NULL, &err), WD_ETOOBIG);
	hex = hex_of(digest);
	snprintf(expected, sizeof(expected), "sha256:%s already has 16 signatures, the maximum: "
		"delete one first", hex);
	assert_string_equal(err.detail, expected);
	free(hex);
	free(text);
}

static void digest_parse_cases(void **state)
{
	uint8_t digest[32];
	struct wd_error err = { 0 };

	(void)state;
	assert_int_equal(admission_digest_parse("digest", "sha256:"
		"00FF00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff", digest, &err), 0);
	assert_int_equal(digest[0], 0x00);
	assert_int_equal(digest[1], 0xff);
	assert_int_equal(digest[31], 0xff);

	static const char *const bad[] = {
		"00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff",
		"sha256:00ff",
		"sha512:00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff",
		"sha256:00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00fg",
		"sha256:00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00",
		"",
	};
	for (size_t i = 0; i < WD_ARRAY_LEN(bad); i++) {
		char expected[160];

		assert_int_equal(admission_digest_parse("digest", bad[i], digest, &err), WD_EINVAL);
		snprintf(expected, sizeof(expected), "invalid \"digest\" \"%.80s\": expected sha256: "
			"and 64 hex digits", bad[i]);
		assert_string_equal(err.detail, expected);
	}
	assert_int_equal(admission_digest_parse("digest", NULL, digest, &err), WD_EINVAL);
	assert_string_equal(err.detail, "missing \"digest\"");
}

static struct registry_entry *entry_for(const char *selector_a, const char *selector_b,
	bool require_signed)
{
	struct registry_entry *entry = calloc(1, sizeof(*entry));

	assert_non_null(entry);
	snprintf(entry->id, sizeof(entry->id), "0b6ec2a4-5c3f-4c11-9e1a-1f7d3b0c2e55");
	entry->spiffe_id = strdup("spiffe://example.org/web");
	entry->parent_id = strdup("spiffe://example.org/warden/agent/x");
	entry->selectors = calloc(2, sizeof(char *));
	entry->selectors[0] = strdup(selector_a);
	entry->selectors[1] = strdup(selector_b);
	entry->selector_count = 2;
	entry->require_signed = require_signed;
	return entry;
}

static void check_entry_decisions(void **state)
{
	struct fixture *f = *state;
	struct admission_grant *grants = NULL;
	size_t count = 0;
	char refused[65];
	struct wd_error err = { 0 };
	uint8_t digest[32];
	uint8_t unsigned_digest[32];
	char *text = signed_bundle(f->trusted, "signed\n", digest);
	struct admission_signature *signature = add(f, digest, text, 1);
	char *hex = hex_of(digest);
	char *unsigned_hex = NULL;
	char selector[80];
	char unsigned_selector[80];
	char expected[512];

	assert_int_equal(supply_digest_bytes("unsigned\n", 9, unsigned_digest, &err), 0);
	unsigned_hex = hex_of(unsigned_digest);
	snprintf(selector, sizeof(selector), "unix:sha256:%s", hex);
	snprintf(unsigned_selector, sizeof(unsigned_selector), "unix:sha256:%s", unsigned_hex);

	/* Signed: one grant naming the signature and the signer. */
	struct registry_entry *entry = entry_for("unix:uid:0", selector, true);
	assert_int_equal(admission_check_entry(f->admission, NULL, entry, 0, &grants, &count,
		refused, &err), 0);
	assert_int_equal(count, 1);
	assert_string_equal(grants[0].digest_hex, hex);
	assert_string_equal(grants[0].signature_id, signature->id);
	assert_string_equal(grants[0].signer, signature->signer);
	assert_string_equal(refused, "");
	free(grants);
	registry_entry_free(entry);

	/* One unsigned digest refuses the whole entry. */
	entry = entry_for(selector, unsigned_selector, true);
	assert_int_equal(admission_check_entry(f->admission, NULL, entry, 0, &grants, &count,
		refused, &err), WD_EPERM);
	assert_null(grants);
	assert_int_equal(count, 0);
	assert_string_equal(refused, unsigned_hex);
	snprintf(expected, sizeof(expected), "entry %s requires a signed binary: sha256:%s has no "
		"registered signature", entry->id, unsigned_hex);
	assert_string_equal(err.detail, expected);

	/* Without the flag nothing is checked. */
	entry->require_signed = false;
	assert_int_equal(admission_check_entry(f->admission, NULL, entry, 0, &grants, &count,
		refused, &err), 0);
	assert_null(grants);
	assert_int_equal(count, 0);
	registry_entry_free(entry);

	/* A flagged entry without a digest, as the registry never stores it. */
	entry = entry_for("unix:uid:0", "unix:gid:0", true);
	assert_int_equal(admission_check_entry(f->admission, NULL, entry, 0, &grants, &count,
		refused, &err), WD_EPERM);
	assert_string_equal(err.detail, "entry 0b6ec2a4-5c3f-4c11-9e1a-1f7d3b0c2e55 requires a "
		"signed binary, but has no unix:sha256 selector");
	registry_entry_free(entry);

	admission_signature_free(signature);
	free(unsigned_hex);
	free(hex);
	free(text);
}

/* A stored signature whose key the configuration no longer trusts stops
 * admitting the binary at the next issuance. */
static void check_reverifies_against_current_trust(void **state)
{
	struct fixture *f = *state;
	struct admission_grant *grants = NULL;
	size_t count = 0;
	char refused[65];
	struct wd_error err = { 0 };
	uint8_t digest[32];
	char *text = signed_bundle(f->trusted, "rotated\n", digest);
	struct admission_signature *signature = add(f, digest, text, 1);
	char *hex = hex_of(digest);
	char selector[80];
	char expected[512];
	EVP_PKEY *trusted_key = f->admission->keys[0];

	snprintf(selector, sizeof(selector), "unix:sha256:%s", hex);
	struct registry_entry *entry = entry_for("unix:uid:0", selector, true);

	f->admission->keys[0] = f->untrusted;
	assert_int_equal(admission_check_entry(f->admission, NULL, entry, 0, &grants, &count,
		refused, &err), WD_EPERM);
	f->admission->keys[0] = trusted_key;
	snprintf(expected, sizeof(expected), "entry %s requires a signed binary: no signature of "
		"sha256:%s verifies now (1 registered; signature %s: invalid signature: it does not "
		"match the blob and public key)", entry->id, hex, signature->id);
	assert_string_equal(err.detail, expected);
	assert_string_equal(refused, hex);

	registry_entry_free(entry);
	admission_signature_free(signature);
	free(hex);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(config_admission_parsed),
		cmocka_unit_test(config_admission_errors_named),
		cmocka_unit_test(config_admission_list_ceiling),
		cmocka_unit_test_setup_teardown(open_resolves_and_loads, setup, teardown),
		cmocka_unit_test_setup_teardown(open_bad_key_named, setup, teardown),
		cmocka_unit_test_setup_teardown(verify_trusted_key, setup, teardown),
		cmocka_unit_test_setup_teardown(verify_rejections_named, setup, teardown),
		cmocka_unit_test_setup_teardown(store_add_list_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(store_ceiling_per_digest, setup, teardown),
		cmocka_unit_test(digest_parse_cases),
		cmocka_unit_test_setup_teardown(check_entry_decisions, setup, teardown),
		cmocka_unit_test_setup_teardown(check_reverifies_against_current_trust, setup,
			teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
