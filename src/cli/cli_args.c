/* Option tables to getopt_long and --help, usage errors, durations,
 * repeated options and subcommand dispatch for the operator commands. */
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_args.h"
#include "common/alloc.h"
#include "common/time.h"

/* getopt_long values: table options from OPTION_BASE on, so they never
 * collide with a short option character. */
#define OPTION_BASE 256

enum common_option {
	COMMON_ADMIN_SOCKET,
	COMMON_JSON,
	COMMON_COUNT,
};

static const struct cli_option common_options[COMMON_COUNT] = {
	[COMMON_ADMIN_SOCKET] = { "admin-socket", "PATH", COMMON_ADMIN_SOCKET,
		"admin socket of the server (default:\n"
		"$WARDEN_ADMIN_SOCKET, else /run/warden/admin.sock)" },
	[COMMON_JSON] = { "json", NULL, COMMON_JSON,
		"print the API's JSON response instead of text" },
};

static const unsigned common_bits[COMMON_COUNT] = {
	[COMMON_ADMIN_SOCKET] = CLI_COMMON_ADMIN_SOCKET,
	[COMMON_JSON] = CLI_COMMON_JSON,
};

int cli_usage_error(const struct cli_spec *spec, const char *fmt, ...)
{
	va_list args;

	fprintf(stderr, "warden %s: ", spec->name);
	va_start(args, fmt);
	vfprintf(stderr, fmt, args);
	va_end(args);
	fprintf(stderr, "\nRun 'warden %s --help' for its options.\n", spec->name);
	return CLI_EXIT_USAGE;
}

/* Width of the option column of --help, in characters. */
#define HELP_OPTION_WIDTH 24

/* Prints one option row; a newline in the help text continues it on the
 * next line under the same column. */
static void print_option(FILE *out, const char *name, const char *value_name, const char *help)
{
	char left[64];

	if (value_name)
		snprintf(left, sizeof(left), "--%s %s", name, value_name);
	else
		snprintf(left, sizeof(left), "%s%s", name[0] == '-' ? "" : "--", name);
	fprintf(out, "  %-*s ", HELP_OPTION_WIDTH, left);
	for (const char *p = help; *p; p++) {
		fputc(*p, out);
		if (*p == '\n')
			fprintf(out, "  %-*s ", HELP_OPTION_WIDTH, "");
	}
	fputc('\n', out);
}

void cli_print_help(const struct cli_spec *spec, FILE *out)
{
	fprintf(out, "usage: warden %s%s%s\n\n%s", spec->name, spec->synopsis[0] ? " " : "",
		spec->synopsis, spec->description);
	fprintf(out, "\noptions:\n");
	for (size_t i = 0; i < spec->option_count; i++)
		print_option(out, spec->options[i].name, spec->options[i].value_name,
			spec->options[i].help);
	for (size_t i = 0; i < COMMON_COUNT; i++) {
		if (spec->common & common_bits[i])
			print_option(out, common_options[i].name, common_options[i].value_name,
				common_options[i].help);
	}
	print_option(out, "-h, --help", NULL, "print this help");
}

/* Builds the getopt_long table: the command's options, the common ones it
 * takes, --help and the terminating zero entry. */
static struct option *build_long_options(const struct cli_spec *spec)
{
	struct option *table = wd_calloc(spec->option_count + COMMON_COUNT + 2, sizeof(*table));
	size_t n = 0;

	if (!table)
		return NULL;
	for (size_t i = 0; i < spec->option_count; i++, n++) {
		table[n].name = spec->options[i].name;
		table[n].has_arg = spec->options[i].value_name ? required_argument : no_argument;
		table[n].val = OPTION_BASE + (int)i;
	}
	for (size_t i = 0; i < COMMON_COUNT; i++) {
		if (!(spec->common & common_bits[i]))
			continue;
		table[n].name = common_options[i].name;
		table[n].has_arg = common_options[i].value_name ? required_argument : no_argument;
		table[n].val = OPTION_BASE + (int)(spec->option_count + i);
		n++;
	}
	table[n].name = "help";
	table[n].val = 'h';
	return table;
}

/* Explains a '?' or ':' from getopt_long: argv[optind - 1] is the argument
 * it stopped at, except inside a cluster of short options. */
static int report_bad_option(const struct cli_spec *spec, int result, char **argv)
{
	const char *arg = argv[optind - 1];

	if (result == ':')
		return cli_usage_error(spec, "option '%s' requires a value", arg);
	if (strncmp(arg, "--", 2) == 0) {
		size_t name_len = strcspn(arg, "=");

		/* optopt is set for a known long option given a value it does not
		 * take ("--json=yes"), and 0 for an unknown name. */
		if (optopt != 0 && arg[name_len] == '=')
			return cli_usage_error(spec, "option '%.*s' takes no value", (int)name_len,
				arg);
		return cli_usage_error(spec, "unknown option '%s'", arg);
	}
	if (optopt > 0 && optopt < OPTION_BASE)
		return cli_usage_error(spec, "unknown option '-%c'", optopt);
	return cli_usage_error(spec, "unknown option '%s'", arg);
}

static int apply_common(int index, const char *value, struct cli_common *common)
{
	switch (index) {
	case COMMON_ADMIN_SOCKET:
		common->admin_socket = value;
		break;
	case COMMON_JSON:
		common->json = true;
		break;
	}
	return CLI_CONTINUE;
}

/* Checks the operand count against the command's grammar. */
static int check_operands(const struct cli_spec *spec, size_t count, char **operands)
{
	if (count < spec->min_operands)
		return cli_usage_error(spec, "missing %s", spec->operand_name);
	if (count > spec->max_operands) {
		const char *extra = operands[spec->max_operands];

		if (spec->max_operands == 0)
			return cli_usage_error(spec, "unexpected argument '%s'", extra);
		return cli_usage_error(spec, "unexpected argument '%s' after %s", extra,
			spec->operand_name);
	}
	return CLI_CONTINUE;
}

int cli_parse(const struct cli_spec *spec, int argc, char **argv, cli_option_fn handle,
	void *ctx, struct cli_common *ret_common, char ***ret_operands, size_t *ret_count)
{
	_wd_cleanup_(wd_freep) struct option *table = NULL;
	int rc = CLI_CONTINUE;
	size_t count;

	memset(ret_common, 0, sizeof(*ret_common));
	*ret_operands = NULL;
	*ret_count = 0;

	table = build_long_options(spec);
	if (!table) {
		fprintf(stderr, "warden: out of memory\n");
		return CLI_EXIT_FAILURE;
	}

	/* optind 0 makes glibc's getopt start over, since main or another
	 * command may have run it on a different argv before. opterr 0 and the
	 * leading ':' let this file word the errors. */
	optind = 0;
	opterr = 0;
	while (rc == CLI_CONTINUE) {
		int result = getopt_long(argc, argv, ":h", table, NULL);
		size_t index;

		if (result == -1)
			break;
		if (result == 'h') {
			cli_print_help(spec, stdout);
			return CLI_EXIT_OK;
		}
		if (result == '?' || result == ':')
			return report_bad_option(spec, result, argv);

		index = (size_t)(result - OPTION_BASE);
		if (index < spec->option_count)
			rc = handle(ctx, spec->options[index].id, optarg);
		else
			rc = apply_common((int)(index - spec->option_count), optarg, ret_common);
	}
	if (rc != CLI_CONTINUE)
		return rc;

	count = optind < argc ? (size_t)(argc - optind) : 0;
	rc = check_operands(spec, count, argv + optind);
	if (rc != CLI_CONTINUE)
		return rc;
	*ret_operands = argv + optind;
	*ret_count = count;
	return CLI_CONTINUE;
}

int cli_parse_duration(const char *option, const char *value, int64_t *ret_seconds)
{
	struct wd_error err = { 0 };
	char prefix[160];
	const char *reason;

	if (wd_duration_parse(value, ret_seconds, &err) == 0)
		return CLI_CONTINUE;

	/* The parser's detail repeats the value; the message below names it
	 * once, with the option. */
	reason = wd_error_text(&err);
	snprintf(prefix, sizeof(prefix), "invalid duration '%s': ", value);
	if (strncmp(reason, prefix, strlen(prefix)) == 0)
		reason += strlen(prefix);
	fprintf(stderr, "warden: invalid %s '%s': %s\n", option, value, reason);
	return CLI_EXIT_USAGE;
}

int cli_strings_append(struct cli_strings *list, const char *value)
{
	const char **grown = wd_reallocarray(list->items, list->count + 1, sizeof(*grown));

	if (!grown) {
		fprintf(stderr, "warden: out of memory\n");
		return CLI_EXIT_FAILURE;
	}
	grown[list->count++] = value;
	list->items = grown;
	return CLI_CONTINUE;
}

void cli_strings_free(struct cli_strings *list)
{
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

static void print_group_usage(const char *group, const struct cli_command *table, size_t count,
	FILE *out)
{
	fprintf(out, "usage: warden %s COMMAND [OPTIONS]\n\ncommands:\n", group);
	for (size_t i = 0; i < count; i++)
		fprintf(out, "  %-10s %s\n", table[i].name, table[i].summary);
	fprintf(out, "\nRun 'warden %s COMMAND --help' for the options of a command.\n", group);
}

int cli_dispatch(const char *group, const struct cli_command *table, size_t count, int argc,
	char **argv)
{
	const char *name = argc > 1 ? argv[1] : NULL;

	if (!name) {
		fprintf(stderr, "warden %s: missing command\n", group);
		print_group_usage(group, table, count, stderr);
		return CLI_EXIT_USAGE;
	}
	if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
		print_group_usage(group, table, count, stdout);
		return CLI_EXIT_OK;
	}
	for (size_t i = 0; i < count; i++) {
		if (!strcmp(name, table[i].name))
			return table[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "warden %s: unknown command '%s'\n", group, name);
	print_group_usage(group, table, count, stderr);
	return CLI_EXIT_USAGE;
}
