/* libFuzzer harness for the secrets API's request decoding. The input is
 * "METHOD PATH\nLIST-QUERY\nBODY", and a decoded request must keep the
 * decoder's promises about its path and body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "secrets/secrets_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Copies the next line of the input (without its newline) into a new
 * string; NULL when the input has no newline left. */
static char *next_line(const uint8_t **data, size_t *size)
{
	const uint8_t *newline = memchr(*data, '\n', *size);
	size_t len;
	char *line;

	if (!newline)
		return NULL;
	len = (size_t)(newline - *data);
	line = malloc(len + 1);
	if (!line)
		return NULL;
	memcpy(line, *data, len);
	line[len] = '\0';
	*size -= len + 1;
	*data += len + 1;
	return line;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vault_request req;
	struct wd_error err;
	char *first = next_line(&data, &size);
	char *query = first ? next_line(&data, &size) : NULL;
	char *path;

	if (!first || !query)
		goto out;
	path = strchr(first, ' ');
	if (!path)
		goto out;
	*path++ = '\0';

	wd_error_clear(&err);
	if (vault_request_decode(first, path, query[0] ? query : NULL, data, size,
		"application/json", &req, &err) == 0) {
		/* A decoded path is relative, has no empty, "." or ".." segment and
		 * a body is always an object. */
		if (req.path[0] == '/' || strstr(req.path, "//") || strstr(req.path, "/../") ||
			strncmp(req.path, "../", 3) == 0 || strncmp(req.path, "./", 2) == 0 ||
			!json_is_object(req.body))
			abort();
		if (req.op == VAULT_OP_LIST && req.path[strlen(req.path) - 1] != '/')
			abort();
		vault_request_clear(&req);
	} else if (err.code == 0) {
		abort();
	}
out:
	free(first);
	free(query);
	return 0;
}
