/* `warden policy test` runs every test_ rule of the loaded modules as
 * `opa test` does; `warden policy check` parses and compiles them. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_args.h"
#include "cli/cmd_policy.h"
#include "cli/commands.h"
#include "common/error.h"

/* Maximum length of a printed rule path, in bytes. */
#define TEST_NAME_MAX 1024

enum test_outcome {
	TEST_PASS,
	TEST_FAIL,
	TEST_ERROR,
	TEST_SKIPPED,
};

static const char *const outcome_names[] = {
	[TEST_PASS] = "PASS",
	[TEST_FAIL] = "FAIL",
	[TEST_ERROR] = "ERROR",
	[TEST_SKIPPED] = "SKIPPED",
};

struct test_result {
	const char *file;
	char name[TEST_NAME_MAX];       /* data.pkg.test_x */
	enum test_outcome outcome;
	struct rego_errors errs;
};

/* Parses "[-v] PATH..." for test and "PATH..." for check. Returns
 * CLI_CONTINUE with the paths at argv + *ret_first. */
static int parse_paths(int argc, char **argv, const char *name, bool allow_verbose,
		       bool *ret_verbose, int *ret_first)
{
	static const struct option longopts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	*ret_verbose = false;
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, allow_verbose ? "vh" : "h", longopts, NULL)) != -1) {
		if (ch == 'v' && allow_verbose) {
			*ret_verbose = true;
		} else if (ch == 'h') {
			if (allow_verbose)
				printf("usage: warden policy test [-v] PATH...\n\n"
				       "Runs every rule named test_* in the Rego modules under PATH\n"
				       "(files or directories, data.json/data.yaml loaded as data) and\n"
				       "prints PASS, FAIL or ERROR per test and a summary. Rules named\n"
				       "todo_test_* are listed as SKIPPED. Exits 1 when a test fails.\n\n"
				       "options:\n"
				       "  -v, --verbose   list every test, not only the failing ones\n"
				       "  -h, --help      print this help\n");
			else
				printf("usage: warden policy check PATH...\n\n"
				       "Parses and compiles the Rego modules under PATH and prints the\n"
				       "errors found; exits 1 when there are any.\n\n"
				       "options:\n"
				       "  -h, --help      print this help\n");
			return CLI_EXIT_OK;
		} else {
			fprintf(stderr, "warden policy %s: unknown option '%s'\n", name,
				argv[optind - 1]);
			fprintf(stderr, "Run 'warden policy %s --help' for its options.\n", name);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "warden policy %s: missing PATH\n", name);
		fprintf(stderr, "Run 'warden policy %s --help' for its options.\n", name);
		return CLI_EXIT_USAGE;
	}
	*ret_first = optind;
	return CLI_CONTINUE;
}

/* Loads and compiles the paths; NULL after printing the errors. */
static struct rego_engine *load_and_compile(char *const *paths, size_t count,
					    struct policy_load *load)
{
	struct rego_errors errs = { 0 };
	struct rego_engine *engine;

	if (policy_load_paths(load, paths, count, &errs) < 0) {
		if (errs.len > 0)
			policy_print_errors(stderr, &errs);
		return NULL;
	}
	engine = rego_builder_compile(load->builder, &errs);
	if (!engine)
		policy_print_errors(stderr, &errs);
	return engine;
}

int cmd_policy_check(int argc, char **argv)
{
	struct policy_load load = { 0 };
	struct rego_engine *engine;
	bool verbose;
	int first, rc;

	rc = parse_paths(argc, argv, "check", false, &verbose, &first);
	if (rc != CLI_CONTINUE)
		return rc;
	engine = load_and_compile(argv + first, (size_t)(argc - first), &load);
	rc = engine ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
	rego_engine_unref(engine);
	policy_load_clear(&load);
	return rc;
}

/* The rule's name when it is a test: a plain name starting with test_ or
 * todo_test_ (skipped), in a rule that is not a function. */
static const char *test_rule_name(const struct rego_rule *rule, bool *ret_todo)
{
	const struct rego_term *head = rule->head_ref;
	const char *name;

	if (rule->kind == RR_FUNCTION || !head)
		return NULL;
	if (head->kind == RT_REF) {
		if (head->u.ref.len != 1)
			return NULL;
		head = head->u.ref.items[0];
	}
	if (head->kind != RT_VAR)
		return NULL;
	name = head->u.var.name;
	*ret_todo = strncmp(name, "todo_test_", 10) == 0;
	return strncmp(name, "test_", 5) == 0 || *ret_todo ? name : NULL;
}

static int package_path(const struct rego_module *module, char *out, size_t cap)
{
	struct wd_buf text;
	int rc;

	wd_buf_init(&text, 64, cap - 1);
	rc = rego_term_write(module->package, &text);
	if (rc == 0)
		snprintf(out, cap, "%s", wd_buf_str(&text));
	wd_buf_free(&text);
	return rc;
}

static bool already_listed(const struct test_result *results, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(results[i].name, name))
			return true;
	}
	return false;
}

/* Evaluates one test rule: defined and not false passes, as in opa test. */
static void run_test(struct rego_engine *engine, struct test_result *t)
{
	struct rego_query_opts opts = { 0 };
	struct rv *value = NULL;

	if (rego_engine_eval_ref(engine, t->name, &opts, &value, &t->errs) < 0)
		t->outcome = TEST_ERROR;
	else if (!value || (rv_is(value, RV_BOOL) && !rv_is_true(value)))
		t->outcome = TEST_FAIL;
	else
		t->outcome = TEST_PASS;
	rv_unref(value);
}

/* Collects and runs the tests of every module, in module and rule order. */
static int collect_tests(struct rego_engine *engine, struct test_result **ret, size_t *ret_len)
{
	struct test_result *results = NULL;
	size_t len = 0;

	for (size_t m = 0; m < rego_engine_module_count(engine); m++) {
		const struct rego_module *module = rego_engine_module_at(engine, m);
		char package[TEST_NAME_MAX / 2];

		if (package_path(module, package, sizeof(package)) < 0)
			continue;
		for (size_t r = 0; r < module->rules_len; r++) {
			bool todo = false;
			const char *name = test_rule_name(module->rules[r], &todo);
			struct test_result *grown, *t;
			char full[TEST_NAME_MAX];

			if (!name)
				continue;
			snprintf(full, sizeof(full), "%s.%s", package, name);
			if (already_listed(results, len, full))
				continue;
			grown = realloc(results, (len + 1) * sizeof(*results));
			if (!grown) {
				free(results);
				return WD_ENOMEM;
			}
			results = grown;
			t = &results[len++];
			memset(t, 0, sizeof(*t));
			t->file = module->file;
			snprintf(t->name, sizeof(t->name), "%s", full);
			if (todo)
				t->outcome = TEST_SKIPPED;
			else
				run_test(engine, t);
		}
	}
	*ret = results;
	*ret_len = len;
	return 0;
}

static void print_results(const struct test_result *results, size_t len, bool verbose)
{
	size_t counts[4] = { 0 };
	const char *file = NULL;
	bool printed = false;

	for (size_t i = 0; i < len; i++) {
		const struct test_result *t = &results[i];

		counts[t->outcome]++;
		if (!verbose && (t->outcome == TEST_PASS || t->outcome == TEST_SKIPPED))
			continue;
		if (!file || strcmp(file, t->file) != 0) {
			printf("%s%s:\n", printed ? "\n" : "", t->file);
			file = t->file;
		}
		printf("%s: %s\n", t->name, outcome_names[t->outcome]);
		for (size_t e = 0; t->outcome == TEST_ERROR && e < t->errs.len; e++) {
			const struct rego_error *err = &t->errs.items[e];

			/* As opa test prints them: where, then what. */
			if (err->file[0] && err->row)
				printf("  %s:%u: %s: %s\n", err->file, err->row, err->code,
				       err->message);
			else
				printf("  %s: %s\n", err->code, err->message);
		}
		printed = true;
	}
	if (printed)
		printf("%s\n", "------------------------------------------------------------"
			       "--------------------");
	for (int o = TEST_PASS; o <= TEST_SKIPPED; o++) {
		if (counts[o] > 0)
			printf("%s: %zu/%zu\n", outcome_names[o], counts[o], len);
	}
}

int cmd_policy_test(int argc, char **argv)
{
	struct policy_load load = { 0 };
	struct rego_engine *engine = NULL;
	struct test_result *results = NULL;
	size_t len = 0;
	bool verbose;
	int first, rc;

	rc = parse_paths(argc, argv, "test", true, &verbose, &first);
	if (rc != CLI_CONTINUE)
		return rc;
	rc = CLI_EXIT_FAILURE;
	engine = load_and_compile(argv + first, (size_t)(argc - first), &load);
	if (!engine)
		goto out;
	if (collect_tests(engine, &results, &len) < 0) {
		fprintf(stderr, "warden policy test: out of memory\n");
		goto out;
	}
	if (len == 0) {
		fprintf(stderr, "warden policy test: no test rules (test_*) found\n");
		goto out;
	}
	print_results(results, len, verbose);
	rc = CLI_EXIT_OK;
	for (size_t i = 0; i < len; i++) {
		if (results[i].outcome == TEST_FAIL || results[i].outcome == TEST_ERROR)
			rc = CLI_EXIT_FAILURE;
	}
out:
	free(results);
	rego_engine_unref(engine);
	policy_load_clear(&load);
	return rc;
}
