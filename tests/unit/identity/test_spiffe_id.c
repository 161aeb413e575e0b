/* Unit tests for SPIFFE ID parsing: a table of valid and invalid IDs with
 * the rule each one breaks, plus the length boundaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "identity/spiffe_id.h"

struct id_case {
	const char *text;
	size_t len;              /* 0: strlen(text) */
	const char *trust_domain; /* NULL: the ID is invalid */
	const char *path;
	const char *reason;      /* substring of the detail of an invalid ID */
};

#define VALID(t, td, p) { t, 0, td, p, NULL }
#define INVALID(t, r) { t, 0, NULL, NULL, r }

static const char td_chars[] =
	"trust domain characters must be lowercase letters, digits, '.', '-' or '_'";
static const char path_chars[] = "path segment characters must be letters, digits";

static const struct id_case cases[] = {
	VALID("spiffe://example.org", "example.org", ""),
	VALID("spiffe://td", "td", ""),
	VALID("spiffe://example.org/workload", "example.org", "/workload"),
	VALID("spiffe://example.org/ns/prod/sa/web", "example.org", "/ns/prod/sa/web"),
	VALID("spiffe://a-b_c.d/Path/UPPER", "a-b_c.d", "/Path/UPPER"),
	VALID("spiffe://192.168.0.1/x", "192.168.0.1", "/x"),
	VALID("spiffe://10.0.0.1", "10.0.0.1", ""),
	VALID("spiffe://example.org/.../a", "example.org", "/.../a"),
	VALID("spiffe://example.org/.a/..b/a.", "example.org", "/.a/..b/a."),
	VALID("spiffe://example.org/-_-", "example.org", "/-_-"),
	VALID("spiffe://x/spire/agent/join_token/0123abcd", "x", "/spire/agent/join_token/0123abcd"),
	VALID("spiffe://-/_", "-", "/_"),
	VALID("spiffe://...", "...", ""),
	VALID("spiffe://0/0", "0", "/0"),

	INVALID("", "the ID is empty"),
	INVALID("example.org/workload", "the scheme \"spiffe://\" is missing"),
	INVALID("//example.org/x", "the scheme \"spiffe://\" is missing"),
	INVALID("spiffe:/example.org", "the scheme must be \"spiffe\" followed by \"://\""),
	INVALID("spiffe:example.org", "the scheme must be \"spiffe\""),
	INVALID("https://example.org/x", "the scheme must be \"spiffe\""),
	INVALID("SPIFFE://example.org/x", "the scheme must be the lowercase prefix"),
	INVALID("Spiffe://example.org/x", "the scheme must be the lowercase prefix"),
	INVALID("spiffe://", "the trust domain is missing"),
	INVALID("spiffe:///path", "the trust domain is missing"),
	INVALID("spiffe://Example.org/x", td_chars),
	INVALID("spiffe://EXAMPLE.ORG", td_chars),
	INVALID("spiffe://exa mple.org", td_chars),
	INVALID("spiffe://exa+mple.org", td_chars),
	INVALID("spiffe://ex\xc3\xa4mple.org", td_chars),
	INVALID("spiffe://user@example.org/x", "userinfo is not allowed"),
	INVALID("spiffe://user:pass@example.org", "a port is not allowed"),
	INVALID("spiffe://example.org:8443/x", "a port is not allowed"),
	INVALID("spiffe://[::1]/x", "an IPv6 address is not allowed"),
	INVALID("spiffe://[2001:db8::1]", "an IPv6 address is not allowed"),
	INVALID("spiffe://exa%41mple.org", "percent-encoding is not allowed"),
	INVALID("spiffe://example.org?x=1", "a query is not allowed"),
	INVALID("spiffe://example.org#frag", "a fragment is not allowed"),
	INVALID("spiffe://example.org/", "the path must not end with '/'"),
	INVALID("spiffe://example.org/a/", "the path must not end with '/'"),
	INVALID("spiffe://example.org//a", "the path must not contain empty segments"),
	INVALID("spiffe://example.org/a//b", "the path must not contain empty segments"),
	INVALID("spiffe://example.org/.", "'.' or '..' segments"),
	INVALID("spiffe://example.org/..", "'.' or '..' segments"),
	INVALID("spiffe://example.org/a/./b", "'.' or '..' segments"),
	INVALID("spiffe://example.org/a/../b", "'.' or '..' segments"),
	INVALID("spiffe://example.org/a%20b", "percent-encoding is not allowed"),
	INVALID("spiffe://example.org/a?b=c", "a query is not allowed"),
	INVALID("spiffe://example.org/a#b", "a fragment is not allowed"),
	INVALID("spiffe://example.org/a b", path_chars),
	INVALID("spiffe://example.org/a:b", path_chars),
	INVALID("spiffe://example.org/a@b", path_chars),
	INVALID("spiffe://example.org/caf\xc3\xa9", path_chars),
	INVALID("spiffe://example.org/a\\b", path_chars),
	INVALID("spiffe://example.org/a\tb", path_chars),
	INVALID(" spiffe://example.org/a", "the scheme must be \"spiffe\""),
	INVALID("spiffe://example.org/a\n", path_chars),
	/* Embedded NUL bytes: parsing is by length, so they are seen. */
	{ "spiffe://example.org/a\0b", 24, NULL, NULL, path_chars },
	{ "spiffe://exam\0ple.org/a", 23, NULL, NULL, td_chars },
	{ "spiffe://example.org\0", 21, NULL, NULL, td_chars },
	/* A prefix of a longer buffer parses by len alone. */
	{ "spiffe://example.org/abc/def", 24, "example.org", "/abc", NULL },
};

static void spiffe_id_table(void **state)
{
	(void)state;
	assert_true(WD_ARRAY_LEN(cases) >= 40);

	for (size_t i = 0; i < WD_ARRAY_LEN(cases); i++) {
		const struct id_case *c = &cases[i];
		size_t len = c->len ? c->len : strlen(c->text);
		struct spiffe_id id;
		struct wd_error err;
		int rc;

		memset(&id, 0x55, sizeof(id));
		wd_error_clear(&err);
		rc = spiffe_id_parse(c->text, len, &id, &err);
		if (c->trust_domain) {
			if (rc != 0)
				print_error("case %zu \"%s\": %s\n", i, c->text, err.detail);
			assert_int_equal(rc, 0);
			assert_string_equal(id.trust_domain, c->trust_domain);
			assert_string_equal(id.path, c->path);
		} else {
			if (rc != WD_EINVAL || !strstr(err.detail, c->reason))
				print_error("case %zu \"%s\": rc %d detail %s\n", i, c->text, rc,
					err.detail);
			assert_int_equal(rc, WD_EINVAL);
			assert_int_equal(err.code, WD_EINVAL);
			assert_non_null(strstr(err.detail, c->reason));
			assert_true(strncmp(err.detail, "invalid SPIFFE ID \"", 19) == 0);
			/* ret_id is cleared on failure. */
			assert_string_equal(id.trust_domain, "");
			assert_string_equal(id.path, "");
		}
	}
}

static void spiffe_id_detail_exact(void **state)
{
	struct spiffe_id id;
	struct wd_error err;

	(void)state;
	assert_int_equal(spiffe_id_parse("spiffe://Example.org/x", 22, &id, &err), WD_EINVAL);
	assert_string_equal(err.detail,
		"invalid SPIFFE ID \"spiffe://Example.org/x\": trust domain characters must be "
		"lowercase letters, digits, '.', '-' or '_'");

	assert_int_equal(spiffe_id_parse("spiffe://td/a\0\"", 15, &id, &err), WD_EINVAL);
	assert_string_equal(err.detail,
		"invalid SPIFFE ID \"spiffe://td/a\\x00\\\"\": path segment characters must be "
		"letters, digits, '.', '-' or '_'");
}

/* Builds "spiffe://example.org/aaa..." of exactly len bytes. */
static char *make_id_of_length(size_t len)
{
	static const char prefix[] = "spiffe://example.org/";
	char *text = malloc(len + 1);

	assert_non_null(text);
	assert_true(len > sizeof(prefix));
	memcpy(text, prefix, sizeof(prefix) - 1);
	memset(text + sizeof(prefix) - 1, 'a', len - (sizeof(prefix) - 1));
	text[len] = '\0';
	return text;
}

static void spiffe_id_length_boundary(void **state)
{
	struct spiffe_id id;
	struct wd_error err;
	char *at_max = make_id_of_length(2048);
	char *over_max = make_id_of_length(2049);
	char formatted[SPIFFE_ID_MAX_LEN + 1];

	(void)state;
	assert_int_equal(spiffe_id_parse(at_max, 2048, &id, &err), 0);
	assert_string_equal(id.trust_domain, "example.org");
	assert_int_equal(strlen(id.path), 2048 - strlen("spiffe://example.org"));
	assert_int_equal(spiffe_id_format(&id, formatted, sizeof(formatted)), 0);
	assert_string_equal(formatted, at_max);
	assert_int_equal(spiffe_id_format(&id, formatted, 2048), WD_ETOOBIG);

	assert_int_equal(spiffe_id_parse(over_max, 2049, &id, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "longer than 2048 bytes"));
	/* The quoted ID is cut, so the detail still names the rule. */
	assert_non_null(strstr(err.detail, "...\": "));

	free(at_max);
	free(over_max);
}

static void spiffe_id_trust_domain_boundary(void **state)
{
	char text[9 + 256 + 3];
	struct spiffe_id id;
	struct wd_error err;

	(void)state;
	memcpy(text, "spiffe://", 9);
	memset(text + 9, 'a', 256);
	memcpy(text + 9 + 255, "/x", 3);
	assert_int_equal(spiffe_id_parse(text, strlen(text), &id, &err), 0);
	assert_int_equal(strlen(id.trust_domain), 255);
	assert_string_equal(id.path, "/x");

	memset(text + 9, 'a', 256);
	memcpy(text + 9 + 256, "/x", 3);
	assert_int_equal(spiffe_id_parse(text, strlen(text), &id, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "the trust domain is longer than 255 bytes"));

	text[9 + 256] = '\0';
	assert_int_equal(spiffe_trust_domain_validate(text + 9, &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "longer than 255 bytes"));
	text[9 + 255] = '\0';
	assert_int_equal(spiffe_trust_domain_validate(text + 9, &err), 0);
}

static void spiffe_trust_domain_names(void **state)
{
	struct wd_error err;

	(void)state;
	assert_int_equal(spiffe_trust_domain_validate("example.org", &err), 0);
	assert_int_equal(spiffe_trust_domain_validate("10.0.0.1", &err), 0);
	assert_int_equal(spiffe_trust_domain_validate("", &err), WD_EINVAL);
	assert_string_equal(err.detail, "invalid trust domain \"\": the trust domain is missing");
	assert_int_equal(spiffe_trust_domain_validate("Example.org", &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "\"Example.org\""));
	assert_int_equal(spiffe_trust_domain_validate("spiffe://example.org", &err), WD_EINVAL);
	assert_non_null(strstr(err.detail, "a port is not allowed"));
	assert_int_equal(spiffe_trust_domain_validate("example.org/x", &err), WD_EINVAL);
	assert_int_equal(spiffe_trust_domain_validate("[::1]", &err), WD_EINVAL);
	assert_int_equal(spiffe_trust_domain_validate(NULL, &err), WD_EINVAL);
}

static void spiffe_id_format_round_trip(void **state)
{
	struct spiffe_id id;
	struct spiffe_id again;
	char out[64];

	(void)state;
	assert_int_equal(spiffe_id_parse("spiffe://example.org/ns/a", 25, &id, NULL), 0);
	assert_int_equal(spiffe_id_format(&id, out, sizeof(out)), 0);
	assert_string_equal(out, "spiffe://example.org/ns/a");
	assert_int_equal(spiffe_id_parse(out, strlen(out), &again, NULL), 0);
	assert_memory_equal(&id, &again, sizeof(id));

	assert_int_equal(spiffe_id_format(&id, out, 25), WD_ETOOBIG);
	assert_string_equal(out, "");
	assert_int_equal(spiffe_id_format(&id, out, 26), 0);
	assert_int_equal(spiffe_id_format(&id, out, 0), WD_ETOOBIG);
}

static void spiffe_id_membership(void **state)
{
	struct spiffe_id id;

	(void)state;
	assert_int_equal(spiffe_id_parse("spiffe://example.org/a", 22, &id, NULL), 0);
	assert_true(spiffe_id_member_of(&id, "example.org"));
	assert_false(spiffe_id_member_of(&id, "example.com"));
	assert_false(spiffe_id_member_of(&id, "example.or"));
	assert_false(spiffe_id_member_of(&id, "example.org/a"));
	assert_false(spiffe_id_member_of(&id, NULL));
}

static void spiffe_id_null_arguments(void **state)
{
	struct spiffe_id id;
	struct wd_error err;

	(void)state;
	assert_int_equal(spiffe_id_parse(NULL, 5, &id, &err), WD_EINVAL);
	assert_int_equal(spiffe_id_parse("spiffe://a", 10, NULL, &err), WD_EINVAL);
	assert_int_equal(spiffe_id_parse(NULL, 0, &id, NULL), WD_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(spiffe_id_table),
		cmocka_unit_test(spiffe_id_detail_exact),
		cmocka_unit_test(spiffe_id_length_boundary),
		cmocka_unit_test(spiffe_id_trust_domain_boundary),
		cmocka_unit_test(spiffe_trust_domain_names),
		cmocka_unit_test(spiffe_id_format_round_trip),
		cmocka_unit_test(spiffe_id_membership),
		cmocka_unit_test(spiffe_id_null_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
