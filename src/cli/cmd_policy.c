/* `warden policy eval` evaluates a Rego query against modules, data and an
 * input document and prints the result in `opa eval`'s JSON shape. This file
 * also dispatches the `warden policy` commands. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_args.h"
#include "cli/cmd_policy.h"
#include "cli/commands.h"
#include "common/error.h"

/* Ceiling of the text printed for one evaluation, in bytes. */
#define EVAL_OUTPUT_MAX (256u * 1024u * 1024u)

enum eval_format {
	FORMAT_JSON,
	FORMAT_PRETTY,
};

struct eval_args {
	struct cli_strings paths;   /* -d/--data: modules, data files, directories */
	const char *input;          /* -i/--input: JSON or YAML document */
	enum eval_format format;
	bool strict;
	const char *query;
};

static void eval_usage(FILE *out)
{
	fprintf(out,
		"usage: warden policy eval [-d PATH]... [-i FILE] [--format json|pretty]\n"
		"                          [--strict-builtin-errors] QUERY\n\n"
		"Evaluates a Rego query and prints the result as `opa eval` does: JSON with the\n"
		"value of each expression and the variable bindings of each solution, or {}\n"
		"when the query is undefined.\n\n"
		"options:\n"
		"  -d, --data PATH           a .rego module, a .json/.yaml data document (at the\n"
		"                            root of data) or a directory to load; repeat for more\n"
		"  -i, --input FILE          the input document, JSON or YAML (.yaml, .yml)\n"
		"  -f, --format FORMAT       json (default) or pretty\n"
		"      --strict-builtin-errors  make builtin errors fail the query instead of\n"
		"                            leaving the call undefined\n"
		"  -h, --help                print this help\n");
}

/* Returns CLI_CONTINUE, or an exit code after --help or a usage error. */
static int parse_eval_args(int argc, char **argv, struct eval_args *args)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "input", required_argument, NULL, 'i' },
		{ "format", required_argument, NULL, 'f' },
		{ "strict-builtin-errors", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":d:i:f:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			if (cli_strings_append(&args->paths, optarg) != CLI_CONTINUE)
				return CLI_EXIT_FAILURE;
			break;
		case 'i':
			args->input = optarg;
			break;
		case 'f':
			if (!strcmp(optarg, "json")) {
				args->format = FORMAT_JSON;
			} else if (!strcmp(optarg, "pretty")) {
				args->format = FORMAT_PRETTY;
			} else {
				fprintf(stderr, "warden policy eval: invalid --format '%s': use json "
						"or pretty\n", optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case 's':
			args->strict = true;
			break;
		case 'h':
			eval_usage(stdout);
			return CLI_EXIT_OK;
		case ':':
			fprintf(stderr, "warden policy eval: option '%s' requires a value\n",
				argv[optind - 1]);
			return CLI_EXIT_USAGE;
		default:
			fprintf(stderr, "warden policy eval: unknown option '%s'\n", argv[optind - 1]);
			fprintf(stderr, "Run 'warden policy eval --help' for its options.\n");
			return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "warden policy eval: %s\n",
			optind >= argc ? "missing QUERY" : "give exactly one QUERY");
		fprintf(stderr, "Run 'warden policy eval --help' for its options.\n");
		return CLI_EXIT_USAGE;
	}
	args->query = argv[optind];
	return CLI_CONTINUE;
}

/* ---- output in encoding/json's indented layout ---- */

static int append_indent(struct wd_buf *out, int level)
{
	for (int i = 0; i < level; i++)
		WD_TRY(wd_buf_append_str(out, "  "));
	return 0;
}

/* Appends an indented value whose first line is already placed at level. */
static int append_value(struct wd_buf *out, const struct rv *v, int level)
{
	struct wd_buf text;
	int rc = 0;

	wd_buf_init(&text, 256, EVAL_OUTPUT_MAX);
	WD_GUARD(rv_write_json_pretty(v, &text));
	for (const char *p = wd_buf_str(&text); *p; p++) {
		WD_GUARD(wd_buf_append_byte(out, (uint8_t)*p));
		if (*p == '\n')
			WD_GUARD(append_indent(out, level));
	}
out:
	wd_buf_free(&text);
	return rc;
}

static int append_string(struct wd_buf *out, const char *s)
{
	struct rv *v = rv_cstring(s);
	int rc;

	if (!v)
		return WD_ENOMEM;
	rc = rv_write_json(v, out);
	rv_unref(v);
	return rc;
}

/* The expression's text as written in the query, as opa eval prints it;
 * the engine's own rendering when the location does not cover it. */
static int append_expression_text(struct wd_buf *out, const char *query,
				  const struct rego_results *res, size_t j)
{
	const struct rego_loc *loc = &res->expression_loc[j];
	size_t query_len = strlen(query);
	struct rv *text;
	int rc;

	if (loc->len == 0 || loc->offset > query_len || loc->len > query_len - loc->offset)
		return append_string(out, res->expression_text[j]);
	text = rv_string(query + loc->offset, loc->len);
	if (!text)
		return WD_ENOMEM;
	rc = rv_write_json(text, out);
	rv_unref(text);
	return rc;
}

static int append_expression(struct wd_buf *out, const char *query,
			     const struct rego_results *res, const struct rego_solution *sol,
			     size_t j)
{
	int rc = 0;

	WD_GUARD(append_indent(out, 4));
	WD_GUARD(wd_buf_append_str(out, "{\n"));
	WD_GUARD(append_indent(out, 5));
	WD_GUARD(wd_buf_append_str(out, "\"value\": "));
	WD_GUARD(append_value(out, sol->expressions[j], 5));
	WD_GUARD(wd_buf_append_str(out, ",\n"));
	WD_GUARD(append_indent(out, 5));
	WD_GUARD(wd_buf_append_str(out, "\"text\": "));
	WD_GUARD(append_expression_text(out, query, res, j));
	WD_GUARD(wd_buf_append_str(out, ",\n"));
	WD_GUARD(append_indent(out, 5));
	WD_GUARD(wd_buf_appendf(out, "\"location\": {\n"));
	WD_GUARD(append_indent(out, 6));
	WD_GUARD(wd_buf_appendf(out, "\"row\": %u,\n", res->expression_loc[j].row));
	WD_GUARD(append_indent(out, 6));
	WD_GUARD(wd_buf_appendf(out, "\"col\": %u\n", res->expression_loc[j].col));
	WD_GUARD(append_indent(out, 5));
	WD_GUARD(wd_buf_append_str(out, "}\n"));
	WD_GUARD(append_indent(out, 4));
	WD_GUARD(wd_buf_append_str(out, "}"));
out:
	return rc;
}

/* {"result": [{"expressions": [...], "bindings": {...}}]}, with bindings
 * left out when the query binds no variable, as opa eval prints it. */
static int format_results_json(struct wd_buf *out, const char *query,
			       const struct rego_results *res)
{
	int rc = 0;

	if (res->len == 0)
		return wd_buf_append_str(out, "{}\n");
	WD_GUARD(wd_buf_append_str(out, "{\n  \"result\": [\n"));
	for (size_t i = 0; i < res->len; i++) {
		const struct rego_solution *sol = &res->solutions[i];
		bool has_bindings = sol->bindings && rv_len(sol->bindings) > 0;

		WD_GUARD(wd_buf_append_str(out, "    {\n      \"expressions\": [\n"));
		for (size_t j = 0; j < sol->expressions_len && j < res->expressions_len; j++) {
			WD_GUARD(append_expression(out, query, res, sol, j));
			WD_GUARD(wd_buf_append_str(out,
				j + 1 < sol->expressions_len ? ",\n" : "\n"));
		}
		WD_GUARD(wd_buf_append_str(out, has_bindings ? "      ],\n" : "      ]\n"));
		if (has_bindings) {
			WD_GUARD(wd_buf_append_str(out, "      \"bindings\": "));
			WD_GUARD(append_value(out, sol->bindings, 3));
			WD_GUARD(wd_buf_append_str(out, "\n"));
		}
		WD_GUARD(wd_buf_append_str(out, i + 1 < res->len ? "    },\n" : "    }\n"));
	}
	WD_GUARD(wd_buf_append_str(out, "  ]\n}\n"));
out:
	return rc;
}

/* Pretty: the values alone when nothing is bound, else one "name: value"
 * line per binding, solutions separated by a blank line. */
static int format_results_pretty(struct wd_buf *out, const struct rego_results *res)
{
	int rc = 0;

	if (res->len == 0)
		return wd_buf_append_str(out, "undefined\n");
	for (size_t i = 0; i < res->len; i++) {
		const struct rego_solution *sol = &res->solutions[i];

		if (i > 0)
			WD_GUARD(wd_buf_append_str(out, "\n"));
		if (!sol->bindings || rv_len(sol->bindings) == 0) {
			for (size_t j = 0; j < sol->expressions_len; j++) {
				WD_GUARD(append_value(out, sol->expressions[j], 0));
				WD_GUARD(wd_buf_append_str(out, "\n"));
			}
			continue;
		}
		for (size_t k = 0; k < rv_len(sol->bindings); k++) {
			struct rv *name, *value;

			rv_map_sorted_at(sol->bindings, k, &name, &value);
			WD_GUARD(wd_buf_appendf(out, "%s: ", rv_str(name)));
			WD_GUARD(rv_write_json(value, out));
			WD_GUARD(wd_buf_append_str(out, "\n"));
		}
	}
out:
	return rc;
}

/* {"errors": [{"message", "code", "location": {"file", "row", "col"}}]}. */
static int format_errors_json(struct wd_buf *out, const struct rego_errors *errs)
{
	int rc = 0;

	WD_GUARD(wd_buf_append_str(out, "{\n  \"errors\": [\n"));
	for (size_t i = 0; i < errs->len; i++) {
		const struct rego_error *e = &errs->items[i];

		WD_GUARD(wd_buf_append_str(out, "    {\n      \"message\": "));
		WD_GUARD(append_string(out, e->message));
		WD_GUARD(wd_buf_append_str(out, ",\n      \"code\": "));
		WD_GUARD(append_string(out, e->code ? e->code : ""));
		WD_GUARD(wd_buf_append_str(out, ",\n      \"location\": {\n        \"file\": "));
		WD_GUARD(append_string(out, e->file));
		WD_GUARD(wd_buf_appendf(out, ",\n        \"row\": %u,\n        \"col\": %u\n"
					"      }\n", e->row, e->col));
		WD_GUARD(wd_buf_append_str(out, i + 1 < errs->len ? "    },\n" : "    }\n"));
	}
	WD_GUARD(wd_buf_append_str(out, "  ]\n}\n"));
out:
	return rc;
}

static int print_errors(const struct eval_args *args, const struct rego_errors *errs)
{
	struct wd_buf out;

	if (args->format == FORMAT_PRETTY) {
		policy_print_errors(stdout, errs);
		return CLI_EXIT_FAILURE;
	}
	wd_buf_init(&out, 1024, EVAL_OUTPUT_MAX);
	if (format_errors_json(&out, errs) == 0)
		fwrite(wd_buf_data(&out), 1, wd_buf_len(&out), stdout);
	else
		fprintf(stderr, "warden policy eval: out of memory\n");
	wd_buf_free(&out);
	return CLI_EXIT_FAILURE;
}

/* print() output of the policy goes to stderr, as opa eval writes it. */
static void print_to_stderr(void *arg WD_UNUSED, const char *line, size_t len)
{
	fprintf(stderr, "%.*s\n", (int)len, line);
}

static int policy_eval(int argc, char **argv)
{
	struct eval_args args = { 0 };
	struct policy_load load = { 0 };
	struct rego_errors errs = { 0 };
	struct rego_engine *engine = NULL;
	struct rego_results *res = NULL;
	struct rego_query_opts opts = { 0 };
	struct rv *input = NULL;
	struct wd_buf out;
	int rc;

	wd_buf_init(&out, 4096, EVAL_OUTPUT_MAX);
	rc = parse_eval_args(argc, argv, &args);
	if (rc != CLI_CONTINUE)
		goto out;

	rc = CLI_EXIT_FAILURE;
	if (policy_load_paths(&load, (char *const *)args.paths.items, args.paths.count,
			      &errs) < 0) {
		if (errs.len > 0)
			rc = print_errors(&args, &errs);
		goto out;
	}
	if (args.input) {
		input = policy_read_document(args.input);
		if (!input)
			goto out;
	}
	engine = rego_builder_compile(load.builder, &errs);
	if (!engine) {
		rc = print_errors(&args, &errs);
		goto out;
	}

	opts.input = input;
	opts.strict_builtin_errors = args.strict;
	opts.print = print_to_stderr;
	if (rego_engine_query(engine, args.query, strlen(args.query), &opts, &res, &errs) < 0) {
		rc = print_errors(&args, &errs);
		goto out;
	}
	if ((args.format == FORMAT_JSON ? format_results_json(&out, args.query, res) :
					  format_results_pretty(&out, res)) < 0) {
		fprintf(stderr, "warden policy eval: the result is too large to print\n");
		goto out;
	}
	fwrite(wd_buf_data(&out), 1, wd_buf_len(&out), stdout);
	rc = CLI_EXIT_OK;
out:
	wd_buf_free(&out);
	rego_results_free(res);
	rego_engine_unref(engine);
	rv_unref(input);
	policy_load_clear(&load);
	cli_strings_free(&args.paths);
	return rc;
}

static const struct cli_command policy_commands[] = {
	{ "eval", "evaluate a Rego query and print the result as JSON", policy_eval },
	{ "test", "run the test_ rules of Rego modules", cmd_policy_test },
	{ "check", "parse and compile Rego modules, printing the errors", cmd_policy_check },
};

int cmd_policy(int argc, char **argv)
{
	return cli_dispatch("policy", policy_commands, WD_ARRAY_LEN(policy_commands), argc, argv);
}
