// Unit tests of the Rego hook of the secrets service: modules that allow
// and deny on the input, a rule that allows only during some hours, and
// modules that fail to compile or lack the rule.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "secrets/acl.h"
#include "secrets/token.h"

struct fixture {
	char dir[64];
	char module[128];
	struct vault_token token;
	struct vault_request req;
	struct secrets secrets;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_acl_rego.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->module, sizeof(f->module), "%s/secrets.rego", f->dir);

	f->token.display_name = "token-app";
	f->token.path = "auth/token/create";
	f->token.policies = json_pack("[ss]", "app", "default");
	f->token.meta = json_pack("{ss}", "team", "blue");
	f->req.op = VAULT_OP_READ;
	f->req.path = "secret/data/app";
	f->req.body = json_object();
	f->req.token = &f->token;
	snprintf(f->req.remote_address, sizeof(f->req.remote_address), "127.0.0.1");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	acl_rego_free(f->secrets.rego);
	json_decref(f->token.policies);
	json_decref(f->token.meta);
	json_decref(f->req.body);
	unlink(f->module);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void write_module(struct fixture *f, const char *text)
{
	FILE *file = fopen(f->module, "w");

	assert_non_null(file);
	assert_int_equal(fputs(text, file) >= 0, 1);
	assert_int_equal(fclose(file), 0);
}

static void open_module(struct fixture *f, const char *text)
{
	struct wd_error err = { 0 };
	int rc;

	write_module(f, text);
	acl_rego_free(f->secrets.rego);
	f->secrets.rego = NULL;
	rc = acl_rego_open(f->module, &f->secrets.rego, &err);
	if (rc != 0)
		fail_msg("acl_rego_open: %s", wd_error_text(&err));
}

static int check(struct fixture *f, struct wd_error *err)
{
	return acl_rego_check(&f->secrets, &f->req, err);
}

static const char input_module[] =
	"package warden.secrets\n"
	"\n"
	"default allow := false\n"
	"\n"
	"allow if {\n"
	"\tinput.operation == \"read\"\n"
	"\tstartswith(input.path, \"secret/data/\")\n"
	"\t\"app\" in input.identity.policies\n"
	"\tinput.identity.meta.team == \"blue\"\n"
	"\tinput.identity.display_name == \"token-app\"\n"
	"\tinput.identity.path == \"auth/token/create\"\n"
	"\tinput.request.remote_address == \"127.0.0.1\"\n"
	"\tis_number(input.time_ns)\n"
	"}\n"
	"\n"
	"allow if {\n"
	"\tinput.operation == \"update\"\n"
	"\tinput.request.body_keys == [\"color\", \"size\"]\n"
	"}\n";

static void allow_on_input(void **state)
{
	struct fixture *f = *state;
	struct wd_error err = { 0 };

	open_module(f, input_module);
	assert_int_equal(check(f, &err), 0);

	f->req.op = VAULT_OP_UPDATE;
	assert_int_equal(json_object_set_new(f->req.body, "size", json_integer(1)), 0);
	assert_int_equal(json_object_set_new(f->req.body, "color", json_string("red")), 0);
	assert_int_equal(check(f, &err), 0);
}

static void deny_on_input(void **state)
{
	struct fixture *f = *state;
	struct wd_error err = { 0 };

	open_module(f, input_module);
	f->req.path = "secret/metadata/app";
	assert_int_equal(check(f, &err), WD_EPERM);
	assert_string_equal(wd_error_text(&err), "permission denied by policy");

	f->req.path = "secret/data/app";
	assert_int_equal(json_object_set_new(f->token.meta, "team", json_string("red")), 0);
	assert_int_equal(check(f, &err), WD_EPERM);

	// Another key in the body changes body_keys.
	f->req.op = VAULT_OP_UPDATE;
	assert_int_equal(json_object_set_new(f->req.body, "color", json_string("red")), 0);
	assert_int_equal(check(f, &err), WD_EPERM);
	assert_string_equal(wd_error_text(&err), "permission denied by policy");
}

static void non_boolean_result_denies(void **state)
{
	struct fixture *f = *state;
	struct wd_error err = { 0 };

	open_module(f, "package warden.secrets\nallow := \"yes\"\n");
	assert_int_equal(check(f, &err), WD_EPERM);
	assert_string_equal(wd_error_text(&err), "permission denied by policy");

	// Undefined (no rule body holds) denies as well.
	open_module(f, "package warden.secrets\nallow if input.operation == \"delete\"\n");
	assert_int_equal(check(f, &err), WD_EPERM);
	assert_string_equal(wd_error_text(&err), "permission denied by policy");
}

static void evaluation_error_denies(void **state)
{
	struct fixture *f = *state;
	struct wd_error err = { 0 };

	// Two values for one complete rule: an eval_conflict_error.
	open_module(f, "package warden.secrets\nallow := true if input.path\nallow := false if input.operation\n");
	assert_int_equal(check(f, &err), WD_EPERM);
	assert_string_equal(wd_error_text(&err),
		"permission denied by policy (eval_conflict_error at line 3)");
}

static void hook_absent_allows(void **state)
{
	struct fixture *f = *state;
	struct wd_error err = { 0 };

	assert_null(f->secrets.rego);
	assert_int_equal(check(f, &err), 0);
}

// Writes a module that allows only when the UTC hour of time_ns is in
// [start, start + span), wrapping at midnight.
static void open_hours_module(struct fixture *f, int start, int span)
{
	char text[512];

	snprintf(text, sizeof(text),
		"package warden.secrets\n"
		"\n"
		"default allow := false\n"
		"\n"
		"allow if {\n"
		"\thour := time.clock([input.time_ns, \"UTC\"])[0]\n"
		"\t(hour - %d + 24) %% 24 < %d\n"
		"}\n",
		start, span);
	open_module(f, text);
}

static void time_based_rule(void **state)
{
	struct fixture *f = *state;
	struct wd_error err = { 0 };
	time_t now = time(NULL);
	struct tm utc;
	int hour;

	gmtime_r(&now, &utc);
	hour = utc.tm_hour;

	// A two-hour window starting now holds even if the hour turns meanwhile.
	open_hours_module(f, hour, 2);
	assert_int_equal(check(f, &err), 0);

	open_hours_module(f, (hour + 3) % 24, 2);
	assert_int_equal(check(f, &err), WD_EPERM);
	assert_string_equal(wd_error_text(&err), "permission denied by policy");
}

static void compile_error_names_file(void **state)
{
	struct fixture *f = *state;
	struct policy_hook *hook = (struct policy_hook *)1;
	struct wd_error err = { 0 };
	char expected[512];

	write_module(f, "package warden.secrets\n\nallow if {\n\tinput.x ==\n}\n");
	assert_int_equal(acl_rego_open(f->module, &hook, &err), WD_EINVAL);
	assert_null(hook);
	snprintf(expected, sizeof(expected), "Rego module %s failed to compile: %s:", f->module,
		f->module);
	assert_memory_equal(wd_error_text(&err), expected, strlen(expected));
	assert_non_null(strstr(wd_error_text(&err), "rego_parse_error"));

	// An unsafe variable passes the parser and fails the compiler.
	write_module(f, "package warden.secrets\n\nallow if { x > 1 }\n");
	assert_int_equal(acl_rego_open(f->module, &hook, &err), WD_EINVAL);
	assert_null(hook);
	assert_memory_equal(wd_error_text(&err), expected, strlen(expected));
	assert_non_null(strstr(wd_error_text(&err), "rego_unsafe_var_error"));
}

static void missing_rule_rejected(void **state)
{
	struct fixture *f = *state;
	struct policy_hook *hook = NULL;
	struct wd_error err = { 0 };
	char expected[512];

	write_module(f, "package warden.other\n\nallow := true\n");
	assert_int_equal(acl_rego_open(f->module, &hook, &err), WD_EINVAL);
	assert_null(hook);
	snprintf(expected, sizeof(expected),
		"Rego module %s defines no rule data.warden.secrets.allow", f->module);
	assert_string_equal(wd_error_text(&err), expected);
}

static void missing_file_rejected(void **state)
{
	struct fixture *f = *state;
	struct policy_hook *hook = NULL;
	struct wd_error err = { 0 };

	assert_int_equal(acl_rego_open(f->module, &hook, &err), WD_ENOTFOUND);
	assert_null(hook);
	assert_non_null(strstr(wd_error_text(&err), f->module));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(allow_on_input, setup, teardown),
		cmocka_unit_test_setup_teardown(deny_on_input, setup, teardown),
		cmocka_unit_test_setup_teardown(non_boolean_result_denies, setup, teardown),
		cmocka_unit_test_setup_teardown(evaluation_error_denies, setup, teardown),
		cmocka_unit_test_setup_teardown(hook_absent_allows, setup, teardown),
		cmocka_unit_test_setup_teardown(time_based_rule, setup, teardown),
		cmocka_unit_test_setup_teardown(compile_error_names_file, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_rule_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_file_rejected, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
