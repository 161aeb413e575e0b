/* `warden operator unseal [KEY]`: submits one unseal key share, given as
 * an operand, typed at a prompt without echo, or read as a line from
 * standard input. */
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli/cli_args.h"
#include "cli/cli_vault.h"
#include "cli/cmd_operator.h"
#include "cli/commands.h"

/* Size of the buffer a key is read into; a share is 66 hex characters. */
#define KEY_LINE_MAX 1024

static const struct cli_option unseal_options[] = {
	{ "reset", NULL, OPERATOR_OPT_RESET,
		"discard the shares submitted so far instead of\nsubmitting one" },
	OPERATOR_FORMAT_OPTION,
	CLI_VAULT_OPTIONS,
};

static const struct cli_spec unseal_spec = {
	.name = "operator unseal",
	.synopsis = "[KEY] [--reset] [--format table|json]",
	.description = "Submits one unseal key share (hex or base64) and prints the seal status.\n"
		       "Without KEY it prompts for the share on a terminal without echo, or\n"
		       "reads one line from standard input. A KEY operand is visible to other\n"
		       "users in the process list, so prefer the prompt or a pipe.\n",
	.options = unseal_options,
	.option_count = WD_ARRAY_LEN(unseal_options),
	.max_operands = 1,
	.operand_name = "KEY",
};

struct unseal_args {
	struct cli_vault_options vault;
	enum operator_format format;
	bool reset;
};

static int unseal_option(void *ctx, int id, const char *value)
{
	struct unseal_args *args = ctx;

	if (cli_vault_option(&args->vault, id, value))
		return CLI_CONTINUE;
	switch (id) {
	case OPERATOR_OPT_FORMAT:
		return operator_parse_format(&unseal_spec, value, &args->format);
	case OPERATOR_OPT_RESET:
		args->reset = true;
		return CLI_CONTINUE;
	default:
		return CLI_CONTINUE;
	}
}

/* The terminal settings to restore when a signal ends the prompt. */
static struct termios saved_termios;

static void restore_terminal(int signal_number)
{
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_termios);
	signal(signal_number, SIG_DFL);
	raise(signal_number);
}

/* Reads one line into line (KEY_LINE_MAX bytes) without its newline. On a
 * terminal the prompt goes to stderr and echo is off while typing. */
static int read_key_line(char *line)
{
	bool terminal = isatty(STDIN_FILENO);
	struct termios quiet;
	void (*old_int)(int) = SIG_DFL;
	void (*old_term)(int) = SIG_DFL;
	bool got_line;
	size_t len;

	if (terminal) {
		fprintf(stderr, "Unseal Key (will be hidden): ");
		fflush(stderr);
		if (tcgetattr(STDIN_FILENO, &saved_termios) == 0) {
			quiet = saved_termios;
			quiet.c_lflag &= (tcflag_t)~ECHO;
			old_int = signal(SIGINT, restore_terminal);
			old_term = signal(SIGTERM, restore_terminal);
			tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
		} else {
			terminal = false;
		}
	}

	got_line = fgets(line, KEY_LINE_MAX, stdin) != NULL;

	if (terminal) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_termios);
		signal(SIGINT, old_int);
		signal(SIGTERM, old_term);
		fputc('\n', stderr);
	}
	if (!got_line) {
		fprintf(stderr, "warden operator unseal: no key on standard input\n");
		return CLI_EXIT_FAILURE;
	}
	len = strlen(line);
	if (len == KEY_LINE_MAX - 1 && line[len - 1] != '\n') {
		fprintf(stderr, "warden operator unseal: the key line is longer than %d bytes\n",
			KEY_LINE_MAX - 2);
		return CLI_EXIT_FAILURE;
	}
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' '))
		line[--len] = '\0';
	if (len == 0) {
		fprintf(stderr, "warden operator unseal: the key is empty\n");
		return CLI_EXIT_FAILURE;
	}
	return CLI_EXIT_OK;
}

static int submit(const struct unseal_args *args, const char *key)
{
	json_t *body;
	json_t *reply = NULL;
	int rc;

	body = args->reset ? json_pack("{s:b}", "reset", 1) : json_pack("{s:s}", "key", key);
	if (!body) {
		fprintf(stderr, "warden: out of memory\n");
		return CLI_EXIT_FAILURE;
	}
	rc = operator_request(&unseal_spec, &args->vault, "PUT", "sys/unseal", body, &reply);
	json_decref(body);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (args->format == OPERATOR_FORMAT_JSON)
		rc = operator_print_json(stdout, reply);
	else
		operator_print_seal_status(stdout, reply);
	json_decref(reply);
	return rc;
}

int cmd_operator_unseal(int argc, char **argv)
{
	struct unseal_args args = { .format = OPERATOR_FORMAT_TABLE };
	struct cli_common common;
	char line[KEY_LINE_MAX] = "";
	char **operands;
	size_t count;
	int rc;

	rc = cli_parse(&unseal_spec, argc, argv, unseal_option, &args, &common, &operands, &count);
	if (rc != CLI_CONTINUE)
		return rc;
	if (args.reset && count > 0)
		return cli_usage_error(&unseal_spec, "--reset takes no KEY");

	if (args.reset)
		return submit(&args, NULL);
	if (count == 1)
		return submit(&args, operands[0]);

	rc = read_key_line(line);
	if (rc == CLI_EXIT_OK)
		rc = submit(&args, line);
	OPENSSL_cleanse(line, sizeof(line));
	return rc;
}
