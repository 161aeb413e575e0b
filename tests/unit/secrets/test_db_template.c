// Unit tests of the database engine's text handling: usernames from
// Vault's templates (default and custom, the 63-byte cut), template
// functions and errors, statement lists (splitting, the END rule, quotes,
// base64 and JSON entries), {{key}} substitution, the {{expiration}}
// format and generated passwords.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "secrets/db_internal.h"

/* 2026-12-05 10:20:30.123 UTC, a Saturday. */
#define SAMPLE_MS 1796466030123LL

static const struct db_template_data sample = {
	.display_name = "token", .role_name = "readonly", .now_ms = SAMPLE_MS,
};

static char *render(const char *template_text, const struct db_template_data *data)
{
	struct wd_error err;
	char *text = NULL;
	int rc;

	wd_error_clear(&err);
	rc = db_template_render(template_text, data, &text, &err);
	if (rc != 0)
		fail_msg("template %s: rc %d: %s", template_text, rc, wd_error_text(&err));
	return text;
}

static void assert_renders(const char *template_text, const char *expected)
{
	char *text = render(template_text, &sample);

	if (strcmp(text, expected) != 0)
		fail_msg("template %s: got \"%s\", expected \"%s\"", template_text, text, expected);
	free(text);
}

static void assert_render_fails(const char *template_text, int expected_rc,
	const char *expected_detail)
{
	struct wd_error err;
	char *text = NULL;
	int rc;

	wd_error_clear(&err);
	rc = db_template_render(template_text, &sample, &text, &err);
	if (rc != expected_rc)
		fail_msg("template %s: rc %d, expected %d (%s)", template_text, rc, expected_rc,
			text ? text : wd_error_text(&err));
	assert_null(text);
	if (!strstr(err.detail, expected_detail))
		fail_msg("template %s: detail \"%s\" lacks \"%s\"", template_text, err.detail,
			expected_detail);
}

static bool all_base62(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = text[i];

		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
			return false;
	}
	return true;
}

/* --- Usernames --- */

static void default_username_has_vault_shape(void **state)
{
	char username[DB_USERNAME_MAX + 1];
	struct wd_error err;
	const char *random_part;

	(void)state;
	wd_error_clear(&err);
	assert_int_equal(db_username_generate(NULL, &sample, username, &err), 0);

	/* v-<display8>-<role8>-<20 base62>-<unix seconds> */
	assert_int_equal(strlen(username), strlen("v-token-readonly-") + 20 + 1 + 10);
	assert_memory_equal(username, "v-token-readonly-", strlen("v-token-readonly-"));
	random_part = username + strlen("v-token-readonly-");
	assert_true(all_base62(random_part, 20));
	assert_int_equal(random_part[20], '-');
	assert_string_equal(random_part + 21, "1796466030");
}

static void default_username_truncates_names_to_8(void **state)
{
	const struct db_template_data data = {
		.display_name = "cert-webserver-frontend", .role_name = "analytics_readonly",
		.now_ms = SAMPLE_MS,
	};
	char username[DB_USERNAME_MAX + 1];
	struct wd_error err;

	(void)state;
	wd_error_clear(&err);
	assert_int_equal(db_username_generate("", &data, username, &err), 0);
	assert_memory_equal(username, "v-cert-web-analytic-", strlen("v-cert-web-analytic-"));
	assert_int_equal(strlen(username), strlen("v-cert-web-analytic-") + 20 + 1 + 10);
	assert_true(all_base62(username + strlen("v-cert-web-analytic-"), 20));
}

static void default_username_random_part_differs(void **state)
{
	char first[DB_USERNAME_MAX + 1];
	char second[DB_USERNAME_MAX + 1];
	struct wd_error err;

	(void)state;
	assert_int_equal(db_username_generate(NULL, &sample, first, &err), 0);
	assert_int_equal(db_username_generate(NULL, &sample, second, &err), 0);
	assert_string_not_equal(first, second);
}

static void template_truncate_63_gives_exactly_63(void **state)
{
	const struct db_template_data data = {
		.display_name = "dddddddddddddddddddddddddddddddddddddddd",
		.role_name = "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr", .now_ms = SAMPLE_MS,
	};
	char username[DB_USERNAME_MAX + 1];
	struct wd_error err;

	(void)state;
	assert_int_equal(db_username_generate(
		"{{ printf \"v-%s-%s-%s\" .DisplayName .RoleName (random 20) | truncate 63 }}", &data,
		username, &err), 0);
	assert_int_equal(strlen(username), 63);
	assert_memory_equal(username, "v-dddddddddddddddddddddddddddddddddddddddd-rrrrrrrrrr", 53);
	assert_int_equal(username[62], 'r');
}

static void long_username_is_cut_to_63(void **state)
{
	const struct db_template_data data = {
		.display_name = "", .role_name = "", .now_ms = SAMPLE_MS,
	};
	char username[DB_USERNAME_MAX + 1];
	struct wd_error err;

	(void)state;
	/* No truncate in the template: the cut to PostgreSQL's 63 bytes still
	 * happens, so the returned name is the role's name. */
	assert_int_equal(db_username_generate("user-{{ random 100 }}", &data, username, &err), 0);
	assert_int_equal(strlen(username), 63);
	assert_memory_equal(username, "user-", 5);
	assert_true(all_base62(username + 5, 58));
}

static void long_username_cut_keeps_utf8(void **state)
{
	char template_text[128];
	char username[DB_USERNAME_MAX + 1];
	struct wd_error err;

	(void)state;
	/* 62 ASCII bytes then a 2-byte "é": byte 63 would split it. */
	snprintf(template_text, sizeof(template_text), "%.62s\xc3\xa9zz",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_int_equal(db_username_generate(template_text, &sample, username, &err), 0);
	assert_int_equal(strlen(username), 62);

	snprintf(template_text, sizeof(template_text), "%.61s\xc3\xa9zz",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_int_equal(db_username_generate(template_text, &sample, username, &err), 0);
	assert_int_equal(strlen(username), 63);
	assert_memory_equal(username + 61, "\xc3\xa9", 2);
}

static void username_with_quote_is_rejected(void **state)
{
	static const char *const bad_names[] = { "o'brien", "say\"hi", "back\\slash", "tab\there" };
	char username[DB_USERNAME_MAX + 1];
	struct wd_error err;

	(void)state;
	for (size_t i = 0; i < WD_ARRAY_LEN(bad_names); i++) {
		const struct db_template_data data = {
			.display_name = bad_names[i], .role_name = "r", .now_ms = SAMPLE_MS,
		};

		wd_error_clear(&err);
		if (db_username_generate(NULL, &data, username, &err) != WD_EINVAL)
			fail_msg("display name %s was accepted", bad_names[i]);
		assert_non_null(strstr(err.detail, "quote, backslash or control character"));
		assert_string_equal(username, "");
	}
}

static void empty_username_is_rejected(void **state)
{
	char username[DB_USERNAME_MAX + 1];
	struct wd_error err;

	(void)state;
	wd_error_clear(&err);
	assert_int_equal(db_username_generate("{{ .DisplayName }}",
		&(struct db_template_data){ .display_name = "", .now_ms = SAMPLE_MS }, username,
		&err), WD_EINVAL);
	assert_string_equal(err.detail, "username_template produced an empty username");
}

/* --- Template functions and syntax --- */

static void template_functions_match_vault(void **state)
{
	(void)state;
	assert_renders("{{ .DisplayName | uppercase }}", "TOKEN");
	assert_renders("{{ \"MiXeD\" | lowercase }}", "mixed");
	assert_renders("{{ .RoleName | replace \"o\" \"0\" }}", "read0nly");
	assert_renders("{{ \"ab\" | replace \"\" \"-\" }}", "-a-b-");
	assert_renders("{{ .RoleName | truncate 4 }}", "read");
	assert_renders("{{ .RoleName | truncate 40 }}", "readonly");
	/* sha256("abc") is FIPS 180-2's test vector. truncate_sha256 keeps "ab"
	 * and the first 8 hex digits of sha256("cdefghijkl"). */
	assert_renders("{{ \"abc\" | sha256 }}",
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_renders("{{ .RoleName | truncate_sha256 20 }}", "readonly");
	assert_renders("{{ \"abcdefghijkl\" | truncate_sha256 10 }}", "ab3615b840");
	assert_renders("{{ \"hello\" | base64 }}", "aGVsbG8=");
	assert_renders("{{ unix_time }}", "1796466030");
	assert_renders("{{ unix_time_millis }}", "1796466030123");
	assert_renders("{{ printf \"%s=%d%%\" \"n\" 42 }}", "n=42%");
	assert_renders("{{ printf \"%v-%v\" 7 `raw` }}", "7-raw");
}

static void template_timestamp_uses_go_layouts(void **state)
{
	(void)state;
	assert_renders("{{ timestamp \"2006-01-02T15:04:05Z07:00\" }}", "2026-12-05T10:20:30Z");
	assert_renders("{{ timestamp \"2006-01-02 15:04:05.000 -0700 MST\" }}",
		"2026-12-05 10:20:30.123 +0000 UTC");
	assert_renders("{{ timestamp \"Mon Jan _2 3:04PM\" }}", "Sat Dec  5 10:20AM");
	assert_renders("{{ timestamp \"Monday, January 2 06 .999\" }}",
		"Saturday, December 5 26 .123");
	assert_renders("{{ timestamp \"20060102\" }}", "20261205");
}

static void template_random_and_uuid_have_shape(void **state)
{
	char *text;

	(void)state;
	text = render("{{ random 32 }}", &sample);
	assert_int_equal(strlen(text), 32);
	assert_true(all_base62(text, 32));
	free(text);

	text = render("{{ uuid }}", &sample);
	assert_int_equal(strlen(text), 36);
	assert_int_equal(text[8], '-');
	assert_int_equal(text[14], '4');
	free(text);
}

static void template_syntax_trims_and_comments(void **state)
{
	(void)state;
	assert_renders("a  {{- \"b\" -}}  c", "abc");
	assert_renders("a {{ \"b\" }} c", "a b c");
	assert_renders("x{{/* a comment */}}y", "xy");
	assert_renders("x {{- /* trimmed */ -}} y", "xy");
	assert_renders("{{ (printf \"%s-%s\" \"a\" (\"b\" | uppercase)) | truncate 3 }}", "a-B");
	assert_renders("{{ -5 }}", "-5");
	assert_renders("no actions", "no actions");
	assert_renders("", "");
	assert_renders("{{ \"quote \\\" and \\\\ slash\" }}", "quote \" and \\ slash");
}

static void template_errors_name_the_cause(void **state)
{
	(void)state;
	assert_render_fails("{{ nosuch 1 }}", WD_EINVAL, "function \"nosuch\" not defined");
	assert_render_fails("{{ if .RoleName }}x{{ end }}", WD_EINVAL, "function \"if\" not defined");
	assert_render_fails("{{ .Secret }}", WD_EINVAL, "unknown field \".Secret\"");
	assert_render_fails("{{ .RoleName", WD_EINVAL, "username_template");
	assert_render_fails("{{ .RoleName | truncate 0 }}", WD_EINVAL,
		"max length must be > 0 but was 0");
	assert_render_fails("{{ .RoleName | truncate_sha256 8 }}", WD_EINVAL,
		"max length must be > 8 but was 8");
	assert_render_fails("{{ truncate \"x\" .RoleName }}", WD_EINVAL,
		"argument 1 must be an integer");
	assert_render_fails("{{ .RoleName | .DisplayName }}", WD_EINVAL,
		"only a function can follow '|'");
	assert_render_fails("{{ printf \"%x\" 1 }}", WD_EINVAL, "unsupported verb \"%x\"");
	assert_render_fails("{{ printf \"%s %s\" \"a\" }}", WD_EINVAL, "missing argument");
	assert_render_fails("{{ printf \"%d\" \"a\" }}", WD_EINVAL, "needs an integer");
	assert_render_fails("{{ $x := 1 }}", WD_EINVAL, "variables are not supported");
	assert_render_fails("{{ random 5000 }}", WD_EINVAL, "is outside 0..4096");
	assert_render_fails("{{ \"unterminated }}", WD_EINVAL, "unterminated string");
	assert_render_fails("{{ uppercase 1 2 }}", WD_EINVAL, "wrong number of arguments: 2");
	assert_render_fails("{{ ((((((((((((((((((\"x\")))))))))))))))))) }}", WD_EINVAL,
		"nested deeper than 16");
}

static void template_output_has_ceiling(void **state)
{
	(void)state;
	/* Each value may hold 4096 bytes, the whole output too. */
	assert_render_fails("{{ random 4000 }}{{ random 4000 }}", WD_ETOOBIG,
		"output is longer than 4096 bytes");
	assert_render_fails("{{ random 4096 | replace \"\" \"xx\" }}", WD_ETOOBIG,
		"longer than 4096 bytes");
}

/* --- Statements --- */

static json_t *split(const char *text)
{
	json_t *queries = json_array();

	assert_int_equal(db_statements_split(text, strlen(text), queries), 0);
	return queries;
}

static void assert_queries(json_t *queries, const char *const *expected, size_t count)
{
	if (json_array_size(queries) != count) {
		char *dump = json_dumps(queries, 0);

		fail_msg("got %s, expected %zu queries", dump, count);
	}
	for (size_t i = 0; i < count; i++)
		assert_string_equal(json_string_value(json_array_get(queries, i)), expected[i]);
	json_decref(queries);
}

static void split_on_semicolons_trims_and_drops_empty(void **state)
{
	static const char *const expected[] = { "CREATE ROLE a", "GRANT x TO a", "SELECT 1" };

	(void)state;
	assert_queries(split("  CREATE ROLE a;\n GRANT x TO a ;;  ; SELECT 1"), expected, 3);
	assert_queries(split(" ; ;\n"), NULL, 0);
}

static void split_keeps_quoted_semicolons(void **state)
{
	static const char *const literal[] = { "COMMENT ON ROLE a IS 'x;y'", "SELECT 2" };
	static const char *const identifier[] = { "CREATE ROLE \"we;ird\"", "SELECT 3" };
	static const char *const dollar[] = {
		"CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql", "SELECT 4",
	};
	static const char *const comments[] = {
		"SELECT 5 -- a comment; with a semicolon", "/* also; here */ SELECT 6",
	};
	static const char *const doubled[] = { "SELECT 'it''s;here'", "SELECT 7" };

	(void)state;
	assert_queries(split("COMMENT ON ROLE a IS 'x;y'; SELECT 2"), literal, 2);
	assert_queries(split("CREATE ROLE \"we;ird\"; SELECT 3"), identifier, 2);
	assert_queries(split("CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ "
		"LANGUAGE sql; SELECT 4"), dollar, 2);
	assert_queries(split("SELECT 5 -- a comment; with a semicolon\n; /* also; here */ "
		"SELECT 6"), comments, 2);
	assert_queries(split("SELECT 'it''s;here'; SELECT 7"), doubled, 2);
}

static void end_rule_finds_word_outside_quotes(void **state)
{
	static const struct {
		const char *text;
		bool expected;
	} cases[] = {
		{ "DO $$ BEGIN CREATE ROLE x; END $$;", true },
		{ "do $$ begin perform 1; end $$", true },
		{ "SELECT CASE WHEN true THEN 1 END", true },
		{ "END", true },
		{ "x;END;", true },
		{ "SELECT 'END'; SELECT 2", false },
		{ "CREATE ROLE \"END\"", false },
		{ "ALTER TABLE t APPEND; SELECT ENDING", false },
		{ "SELECT legend_end", false },
		{ "SELECT 'unterminated END", true },
		{ "", false },
	};

	(void)state;
	for (size_t i = 0; i < WD_ARRAY_LEN(cases); i++) {
		if (db_statement_has_end(cases[i].text, strlen(cases[i].text)) != cases[i].expected)
			fail_msg("\"%s\": expected %d", cases[i].text, cases[i].expected);
	}
}

static json_t *expand(json_t *list)
{
	struct wd_error err;
	json_t *queries = NULL;

	wd_error_clear(&err);
	if (db_statements_expand(list, &queries, &err) != 0)
		fail_msg("expand failed: %s", wd_error_text(&err));
	json_decref(list);
	return queries;
}

static void expand_runs_end_blocks_whole(void **state)
{
	static const char *const expected[] = {
		"DO $$ BEGIN IF NOT EXISTS (SELECT 1) THEN CREATE ROLE x; END IF; END $$;",
		"GRANT SELECT ON t TO x",
	};

	(void)state;
	assert_queries(expand(json_pack("[s, s]",
		"  DO $$ BEGIN IF NOT EXISTS (SELECT 1) THEN CREATE ROLE x; END IF; END $$;  ",
		"GRANT SELECT ON t TO x;")), expected, 2);
}

static void expand_decodes_base64_and_json(void **state)
{
	static const char *const from_base64[] = { "CREATE ROLE a", "GRANT b TO a" };
	static const char *const from_json[] = { "SELECT 1; SELECT 2", "SELECT 3" };
	static const char *const from_both[] = { "SELECT 4" };
	static const char *const not_base64[] = { "ROLLBACK" };

	(void)state;
	/* base64 of "CREATE ROLE a; GRANT b TO a;" */
	assert_queries(expand(json_pack("[s]", "Q1JFQVRFIFJPTEUgYTsgR1JBTlQgYiBUTyBhOw==")),
		from_base64, 2);
	/* A JSON array is taken as the queries, without splitting. */
	assert_queries(expand(json_pack("[s]", "[\"SELECT 1; SELECT 2\", \" SELECT 3 \"]")),
		from_json, 2);
	/* base64 of ["SELECT 4"] */
	assert_queries(expand(json_pack("[s]", "WyJTRUxFQ1QgNCJd")), from_both, 1);
	/* Valid base64 whose bytes are not UTF-8 text stays a statement. */
	assert_queries(expand(json_pack("[s]", "ROLLBACK")), not_base64, 1);
	assert_queries(expand(json_pack("[s]", "null")), NULL, 0);
	assert_queries(expand(json_array()), NULL, 0);
}

static void statements_field_accepts_list_or_string(void **state)
{
	struct wd_error err;
	json_t *body;
	json_t *list = NULL;

	(void)state;
	body = json_pack("{s:s, s:[s, s, s], s:i, s:[i], s:n}", "one", "  CREATE ROLE a; GRANT b  ",
		"many", "x", "   ", "y", "number", 5, "bad_item", 1, "null");

	assert_int_equal(db_statements_field(body, "one", &list, &err), 1);
	assert_int_equal(json_array_size(list), 1);
	assert_string_equal(json_string_value(json_array_get(list, 0)), "CREATE ROLE a; GRANT b");
	json_decref(list);

	assert_int_equal(db_statements_field(body, "many", &list, &err), 1);
	assert_int_equal(json_array_size(list), 2);
	assert_string_equal(json_string_value(json_array_get(list, 1)), "y");
	json_decref(list);

	assert_int_equal(db_statements_field(body, "absent", &list, &err), 0);
	assert_null(list);
	assert_int_equal(db_statements_field(body, "null", &list, &err), 0);
	assert_null(list);

	assert_int_equal(db_statements_field(body, "number", &list, &err), WD_EINVAL);
	assert_string_equal(err.detail, "number: expected a list of statements or a string");
	assert_int_equal(db_statements_field(body, "bad_item", &list, &err), WD_EINVAL);
	assert_string_equal(err.detail, "bad_item[0]: expected a string");
	json_decref(body);
}

static void expand_has_query_ceiling(void **state)
{
	struct wd_buf text;
	struct wd_error err;
	json_t *queries = NULL;
	json_t *list;

	(void)state;
	wd_buf_init(&text, 1024, 1 << 20);
	for (int i = 0; i <= DB_QUERIES_MAX; i++)
		assert_int_equal(wd_buf_append_str(&text, "SELECT 1;"), 0);
	list = json_pack("[s]", wd_buf_str(&text));
	assert_int_equal(db_statements_expand(list, &queries, &err), WD_ETOOBIG);
	assert_null(queries);
	assert_string_equal(err.detail, "statements expand to more than 1024 queries");
	json_decref(list);
	wd_buf_free(&text);
}

/* --- Substitution, expiration, passwords --- */

static void substitution_replaces_known_keys_once(void **state)
{
	const struct db_substitution subs[] = {
		{ "name", "v-user" },
		{ "username", "v-user" },
		{ "password", "P{{name}}w" },
		{ "expiration", "2026-12-05 10:20:30+0000" },
	};
	struct wd_buf out;

	(void)state;
	wd_buf_init(&out, 64, 4096);
	assert_int_equal(db_substitute("CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' "
		"VALID UNTIL '{{expiration}}'; GRANT r TO \"{{username}}\" {{other}} {{ name }} {{",
		subs, WD_ARRAY_LEN(subs), &out), 0);
	/* The password's "{{name}}" is data and stays. */
	assert_string_equal(wd_buf_str(&out), "CREATE ROLE \"v-user\" WITH LOGIN PASSWORD "
		"'P{{name}}w' VALID UNTIL '2026-12-05 10:20:30+0000'; GRANT r TO \"v-user\" "
		"{{other}} {{ name }} {{");
	wd_buf_free(&out);
}

static void expiration_uses_go_format(void **state)
{
	char text[DB_EXPIRATION_TEXT_MAX];

	(void)state;
	db_format_expiration(0, text);
	assert_string_equal(text, "1970-01-01 00:00:00+0000");
	db_format_expiration(SAMPLE_MS / 1000 + 3600 + DB_EXPIRATION_BUFFER_SECONDS, text);
	assert_string_equal(text, "2026-12-05 11:20:35+0000");
}

static void password_has_every_class(void **state)
{
	char password[DB_PASSWORD_LEN + 1];
	char previous[DB_PASSWORD_LEN + 1] = "";

	(void)state;
	for (int round = 0; round < 500; round++) {
		bool upper = false, lower = false, digit = false, dash = false;

		assert_int_equal(db_password_generate(password), 0);
		assert_int_equal(strlen(password), DB_PASSWORD_LEN);
		for (const char *p = password; *p; p++) {
			bool is_upper = *p >= 'A' && *p <= 'Z';
			bool is_lower = *p >= 'a' && *p <= 'z';
			bool is_digit = *p >= '0' && *p <= '9';

			if (!is_upper && !is_lower && !is_digit && *p != '-')
				fail_msg("password has character 0x%02x", (unsigned char)*p);
			upper |= is_upper;
			lower |= is_lower;
			digit |= is_digit;
			dash |= *p == '-';
		}
		assert_true(upper);
		assert_true(lower);
		assert_true(digit);
		assert_true(dash);
		assert_string_not_equal(password, previous);
		memcpy(previous, password, sizeof(previous));
	}
}

static void base62_covers_alphabet(void **state)
{
	char text[4097];
	bool seen[128] = { false };
	size_t distinct = 0;

	(void)state;
	assert_int_equal(db_random_base62(text, 4096), 0);
	assert_int_equal(strlen(text), 4096);
	assert_true(all_base62(text, 4096));
	for (size_t i = 0; i < 4096; i++) {
		if (!seen[(unsigned char)text[i]]) {
			seen[(unsigned char)text[i]] = true;
			distinct++;
		}
	}
	/* 4096 draws miss one of 62 characters with odds below 1e-27. */
	assert_int_equal(distinct, 62);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(default_username_has_vault_shape),
		cmocka_unit_test(default_username_truncates_names_to_8),
		cmocka_unit_test(default_username_random_part_differs),
		cmocka_unit_test(template_truncate_63_gives_exactly_63),
		cmocka_unit_test(long_username_is_cut_to_63),
		cmocka_unit_test(long_username_cut_keeps_utf8),
		cmocka_unit_test(username_with_quote_is_rejected),
		cmocka_unit_test(empty_username_is_rejected),
		cmocka_unit_test(template_functions_match_vault),
		cmocka_unit_test(template_timestamp_uses_go_layouts),
		cmocka_unit_test(template_random_and_uuid_have_shape),
		cmocka_unit_test(template_syntax_trims_and_comments),
		cmocka_unit_test(template_errors_name_the_cause),
		cmocka_unit_test(template_output_has_ceiling),
		cmocka_unit_test(split_on_semicolons_trims_and_drops_empty),
		cmocka_unit_test(split_keeps_quoted_semicolons),
		cmocka_unit_test(end_rule_finds_word_outside_quotes),
		cmocka_unit_test(expand_runs_end_blocks_whole),
		cmocka_unit_test(expand_decodes_base64_and_json),
		cmocka_unit_test(statements_field_accepts_list_or_string),
		cmocka_unit_test(expand_has_query_ceiling),
		cmocka_unit_test(substitution_replaces_known_keys_once),
		cmocka_unit_test(expiration_uses_go_format),
		cmocka_unit_test(password_has_every_class),
		cmocka_unit_test(base62_covers_alphabet),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
