/* The password of cosign private key files: from COSIGN_PASSWORD as cosign
 * takes it, or typed at a prompt on the controlling terminal without echo.
 * It never comes from argv, where other users could read it. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli/cli_args.h"
#include "cli/cmd_sign.h"

/* The terminal settings to restore when a signal ends the prompt. */
static struct termios saved_termios;
static int prompt_fd = -1;

static void restore_terminal(int signal_number)
{
	tcsetattr(prompt_fd, TCSAFLUSH, &saved_termios);
	signal(signal_number, SIG_DFL);
	raise(signal_number);
}

/* Prompts on tty and reads one line into line (SIGN_PASSWORD_MAX + 2 bytes)
 * with echo off; the newline is removed. */
static int prompt_line(FILE *tty, const char *prompt, char *line)
{
	struct termios quiet;
	void (*old_int)(int);
	void (*old_term)(int);
	bool got_line;
	size_t len;

	prompt_fd = fileno(tty);
	if (tcgetattr(prompt_fd, &saved_termios) != 0) {
		fprintf(stderr, "warden: cannot switch off terminal echo for the password\n");
		return CLI_EXIT_FAILURE;
	}
	fprintf(stderr, "%s", prompt);
	fflush(stderr);
	quiet = saved_termios;
	quiet.c_lflag &= (tcflag_t)~ECHO;
	old_int = signal(SIGINT, restore_terminal);
	old_term = signal(SIGTERM, restore_terminal);
	tcsetattr(prompt_fd, TCSAFLUSH, &quiet);

	got_line = fgets(line, SIGN_PASSWORD_MAX + 2, tty) != NULL;

	tcsetattr(prompt_fd, TCSAFLUSH, &saved_termios);
	signal(SIGINT, old_int);
	signal(SIGTERM, old_term);
	fputc('\n', stderr);
	if (!got_line) {
		fprintf(stderr, "warden: no password entered\n");
		return CLI_EXIT_FAILURE;
	}
	len = strlen(line);
	if (len > 0 && line[len - 1] == '\n')
		line[--len] = '\0';
	else if (len == SIGN_PASSWORD_MAX + 1) {
		fprintf(stderr, "warden: the password is longer than %d bytes\n", SIGN_PASSWORD_MAX);
		return CLI_EXIT_FAILURE;
	}
	return CLI_EXIT_OK;
}

static int prompt_password(bool confirm, char *line, char *again)
{
	FILE *tty = fopen("/dev/tty", "r+");
	int rc;

	if (!tty) {
		fprintf(stderr, "warden: no password: set COSIGN_PASSWORD or run on a terminal\n");
		return CLI_EXIT_FAILURE;
	}
	rc = prompt_line(tty, "Enter password for private key: ", line);
	if (rc == CLI_EXIT_OK && confirm) {
		rc = prompt_line(tty, "Enter password for private key again: ", again);
		if (rc == CLI_EXIT_OK && strcmp(line, again) != 0) {
			fprintf(stderr, "warden: the passwords do not match\n");
			rc = CLI_EXIT_FAILURE;
		}
	}
	fclose(tty);
	return rc;
}

int sign_password_read(bool confirm, struct sign_password *ret_password)
{
	const char *from_env = getenv("COSIGN_PASSWORD");
	char *line = OPENSSL_secure_zalloc(SIGN_PASSWORD_MAX + 2);
	char *again = OPENSSL_secure_zalloc(SIGN_PASSWORD_MAX + 2);
	int rc = CLI_EXIT_OK;

	ret_password->text = NULL;
	ret_password->len = 0;
	if (!line || !again) {
		fprintf(stderr, "warden: out of memory\n");
		rc = CLI_EXIT_FAILURE;
	} else if (from_env && strlen(from_env) > SIGN_PASSWORD_MAX) {
		fprintf(stderr, "warden: COSIGN_PASSWORD is longer than %d bytes\n",
			SIGN_PASSWORD_MAX);
		rc = CLI_EXIT_FAILURE;
	} else if (from_env) {
		memcpy(line, from_env, strlen(from_env) + 1);
	} else {
		rc = prompt_password(confirm, line, again);
	}

	OPENSSL_secure_clear_free(again, SIGN_PASSWORD_MAX + 2);
	if (rc != CLI_EXIT_OK) {
		OPENSSL_secure_clear_free(line, SIGN_PASSWORD_MAX + 2);
		return rc;
	}
	ret_password->text = line;
	ret_password->len = strlen(line);
	return CLI_EXIT_OK;
}

void sign_password_clear(struct sign_password *password)
{
	if (password->text)
		OPENSSL_secure_clear_free(password->text, SIGN_PASSWORD_MAX + 2);
	password->text = NULL;
	password->len = 0;
}
