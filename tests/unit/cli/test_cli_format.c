/* Unit tests for the text output of entries, agents, signatures and the CA
 * status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli_format.h"

/* Output captured from one print call. */
struct capture {
	char *text;
	size_t len;
	FILE *out;
};

static void capture_start(struct capture *capture)
{
	capture->text = NULL;
	capture->len = 0;
	capture->out = open_memstream(&capture->text, &capture->len);
	assert_non_null(capture->out);
}

static const char *capture_end(struct capture *capture)
{
	assert_int_equal(fclose(capture->out), 0);
	return capture->text;
}

static json_t *parse(const char *text)
{
	json_error_t error;
	json_t *value = json_loads(text, 0, &error);

	assert_non_null(value);
	return value;
}

static const char web_entry[] =
	"{\"id\":\"6f1c\",\"spiffe_id\":\"spiffe://example.org/web\","
	"\"parent_id\":\"spiffe://example.org/agent\",\"selectors\":[\"unix:gid:50\","
	"\"unix:uid:1000\"],\"x509_svid_ttl\":5400,\"jwt_svid_ttl\":0,"
	"\"dns_names\":[\"web.internal\",\"web.example.org\"],\"admin\":true,"
	"\"require_signed\":true,\"revision\":3,"
	"\"created_at\":1796000000,\"updated_at\":1796000000}";

static const char web_block[] =
	"Entry ID      : 6f1c\n"
	"SPIFFE ID     : spiffe://example.org/web\n"
	"Parent ID     : spiffe://example.org/agent\n"
	"Revision      : 3\n"
	"X509-SVID TTL : 1h30m\n"
	"JWT-SVID TTL  : default\n"
	"Selector      : unix:gid:50\n"
	"Selector      : unix:uid:1000\n"
	"DNS name      : web.internal\n"
	"DNS name      : web.example.org\n"
	"Admin         : true\n"
	"Require signed: true\n";

static void entry_block_exact(void **state)
{
	struct capture capture;
	json_t *entry = parse(web_entry);

	(void)state;
	capture_start(&capture);
	cli_print_entry(capture.out, entry);
	assert_string_equal(capture_end(&capture), web_block);
	free(capture.text);
	json_decref(entry);
}

static void entry_block_without_admin_or_names(void **state)
{
	struct capture capture;
	json_t *entry = parse("{\"id\":\"a\",\"spiffe_id\":\"spiffe://e.org/x\","
			      "\"parent_id\":\"spiffe://e.org/p\",\"selectors\":[\"unix:uid:1\"],"
			      "\"x509_svid_ttl\":0,\"jwt_svid_ttl\":300,\"dns_names\":[],"
			      "\"admin\":false,\"require_signed\":false,\"revision\":0}");

	(void)state;
	capture_start(&capture);
	cli_print_entry(capture.out, entry);
	assert_string_equal(capture_end(&capture),
		"Entry ID      : a\n"
		"SPIFFE ID     : spiffe://e.org/x\n"
		"Parent ID     : spiffe://e.org/p\n"
		"Revision      : 0\n"
		"X509-SVID TTL : default\n"
		"JWT-SVID TTL  : 5m\n"
		"Selector      : unix:uid:1\n");
	free(capture.text);
	json_decref(entry);
}

static void entry_block_tolerates_bad_fields(void **state)
{
	struct capture capture;
	json_t *entry = parse("{\"id\":7,\"selectors\":\"unix:uid:1\",\"revision\":\"x\","
			      "\"x509_svid_ttl\":-5,\"admin\":\"true\"}");

	(void)state;
	capture_start(&capture);
	cli_print_entry(capture.out, entry);
	assert_string_equal(capture_end(&capture),
		"Entry ID      : \n"
		"SPIFFE ID     : \n"
		"Parent ID     : \n"
		"Revision      : \n"
		"X509-SVID TTL : -5s\n"
		"JWT-SVID TTL  : \n");
	free(capture.text);
	json_decref(entry);
}

static void entry_list_layout(void **state)
{
	struct capture capture;
	json_t *entries = json_array();
	char *expected = NULL;

	(void)state;
	capture_start(&capture);
	cli_print_entry_list(capture.out, entries);
	assert_string_equal(capture_end(&capture), "Found 0 entries\n");
	free(capture.text);

	json_array_append_new(entries, parse(web_entry));
	capture_start(&capture);
	cli_print_entry_list(capture.out, entries);
	assert_int_equal(asprintf(&expected, "Found 1 entry\n\n%s", web_block) > 0, 1);
	assert_string_equal(capture_end(&capture), expected);
	free(capture.text);
	free(expected);

	json_array_append_new(entries, parse(web_entry));
	capture_start(&capture);
	cli_print_entry_list(capture.out, entries);
	assert_int_equal(asprintf(&expected, "Found 2 entries\n\n%s\n%s", web_block, web_block) > 0,
		1);
	assert_string_equal(capture_end(&capture), expected);
	free(capture.text);
	free(expected);
	json_decref(entries);
}

static void agent_list_layout(void **state)
{
	struct capture capture;
	json_t *agents = parse(
		"[{\"spiffe_id\":\"spiffe://e.org/warden/agent/join_token/ab\",\"serial\":\"1f\","
		"\"expires_at\":1796416430,\"attested_at\":1796416400,\"banned\":false},"
		"{\"spiffe_id\":\"spiffe://e.org/warden/agent/join_token/cd\",\"serial\":\"\","
		"\"expires_at\":0,\"attested_at\":1796416400,\"banned\":true}]");

	(void)state;
	capture_start(&capture);
	cli_print_agent_list(capture.out, agents);
	assert_string_equal(capture_end(&capture),
		"Found 2 agents\n"
		"\n"
		"SPIFFE ID     : spiffe://e.org/warden/agent/join_token/ab\n"
		"Serial        : 1f\n"
		"Expires at    : 2026-12-04T20:33:50Z\n"
		"Attested at   : 2026-12-04T20:33:20Z\n"
		"Banned        : false\n"
		"\n"
		"SPIFFE ID     : spiffe://e.org/warden/agent/join_token/cd\n"
		"Serial        : none\n"
		"Expires at    : none\n"
		"Attested at   : 2026-12-04T20:33:20Z\n"
		"Banned        : true\n");
	free(capture.text);
	json_decref(agents);
}

static void ca_status_layout(void **state)
{
	struct capture capture;
	json_t *status = parse(
		"{\"trust_domain\":\"example.org\",\"sequence\":4,\"crl_number\":2,\"slots\":["
		"{\"id\":2,\"state\":\"active\",\"key_type\":\"ec-p256\",\"not_before\":1796416430,"
		"\"not_after\":\"2026-12-05T20:33:50Z\",\"x509_fingerprint\":\"ab12\","
		"\"jwt_kid\":\"k2\"}]}");

	(void)state;
	capture_start(&capture);
	cli_print_ca(capture.out, status);
	assert_string_equal(capture_end(&capture),
		"Trust domain  : example.org\n"
		"Sequence      : 4\n"
		"CRL number    : 2\n"
		"\n"
		"Slot ID       : 2\n"
		"State         : active\n"
		"Key type      : ec-p256\n"
		"Not before    : 2026-12-04T20:33:50Z\n"
		"Not after     : 2026-12-05T20:33:50Z\n"
		"Fingerprint   : ab12\n"
		"JWT key ID    : k2\n");
	free(capture.text);
	json_decref(status);
}

static void time_values(void **state)
{
	char text[WD_TIME_TEXT_MAX];
	json_t *value;

	(void)state;
	value = json_integer(1796416430);
	cli_format_time(value, text);
	assert_string_equal(text, "2026-12-04T20:33:50Z");
	json_decref(value);

	/* Past year 9999: no valid RFC 3339 text, so empty. */
	value = json_integer(253402300800);
	cli_format_time(value, text);
	assert_string_equal(text, "");
	json_decref(value);

	value = json_true();
	cli_format_time(value, text);
	assert_string_equal(text, "");
	cli_format_time(NULL, text);
	assert_string_equal(text, "");
}

static void list_json_shape(void **state)
{
	struct capture capture;
	json_t *items = parse("[{\"a\":1}]");

	(void)state;
	capture_start(&capture);
	assert_int_equal(cli_print_list_json(capture.out, "agents", items), 0);
	assert_string_equal(capture_end(&capture),
		"{\"agents\":[{\"a\":1}],\"next_page_token\":\"\"}\n");
	free(capture.text);
	json_decref(items);
}

static void signature_list_layout(void **state)
{
	struct capture capture;
	json_t *signatures = parse("[{\"id\":\"0b6e\",\"digest\":\"sha256:ab12\","
		"\"kind\":\"signature\",\"signer\":\"key:Zm9v\",\"predicate_type\":\"\","
		"\"created_at\":1796000000},"
		"{\"id\":\"77aa\",\"digest\":\"sha256:cd34\",\"kind\":\"attestation\","
		"\"signer\":\"spiffe://example.org/ci\","
		"\"predicate_type\":\"https://spdx.dev/Document\",\"created_at\":1796000060}]");

	(void)state;
	capture_start(&capture);
	cli_print_signature_list(capture.out, signatures);
	assert_string_equal(capture_end(&capture),
		"Found 2 signatures\n"
		"\n"
		"Signature ID  : 0b6e\n"
		"Digest        : sha256:ab12\n"
		"Kind          : signature\n"
		"Signer        : key:Zm9v\n"
		"Created at    : 2026-11-30T00:53:20Z\n"
		"\n"
		"Signature ID  : 77aa\n"
		"Digest        : sha256:cd34\n"
		"Kind          : attestation\n"
		"Signer        : spiffe://example.org/ci\n"
		"Predicate type: https://spdx.dev/Document\n"
		"Created at    : 2026-11-30T00:54:20Z\n");
	free(capture.text);
	json_decref(signatures);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(entry_block_exact),
		cmocka_unit_test(entry_block_without_admin_or_names),
		cmocka_unit_test(entry_block_tolerates_bad_fields),
		cmocka_unit_test(entry_list_layout),
		cmocka_unit_test(agent_list_layout),
		cmocka_unit_test(ca_status_layout),
		cmocka_unit_test(time_values),
		cmocka_unit_test(list_json_shape),
		cmocka_unit_test(signature_list_layout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
