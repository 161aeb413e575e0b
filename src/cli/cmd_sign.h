/* Shared parts of `warden keygen`, `sign-blob` and `verify-blob`. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Largest password accepted at the prompt, in bytes. */
#define SIGN_PASSWORD_MAX 1024

/* A password read for a key file; sign_password_clear wipes it. */
struct sign_password {
	char *text;
	size_t len;
};

/* Takes the password from COSIGN_PASSWORD (which may be empty, as in
 * cosign), or prompts for it on the terminal without echo. With confirm, the
 * prompt reads it twice and both entries must match. Returns a CLI exit code
 * and prints why on failure. */
int sign_password_read(bool confirm, struct sign_password *ret_password);

/* Wipes and frees the password. */
void sign_password_clear(struct sign_password *password);
