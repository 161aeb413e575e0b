/* The data arguments of `warden kv put`, as the vault CLI reads them:
 * key=value pairs, values from files or standard input, and whole JSON
 * objects. Values are secrets: errors name the argument's key or file,
 * never the value, and every buffer that held one is wiped. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli/cmd_kv.h"
#include "common/alloc.h"
#include "common/file.h"

/* Reads all of in (at most KV_CLI_VALUE_MAX bytes) into a secret buffer. */
static int read_stream(FILE *in, struct wd_buf *out, struct wd_error *err)
{
	char chunk[4096];
	size_t got;
	int rc = 0;

	while ((got = fread(chunk, 1, sizeof(chunk), in)) > 0) {
		rc = wd_buf_append(out, chunk, got);
		if (rc < 0)
			break;
	}
	OPENSSL_cleanse(chunk, sizeof(chunk));
	if (rc == WD_ETOOBIG)
		return wd_error_set(err, rc, "standard input is larger than %zu bytes",
			KV_CLI_VALUE_MAX);
	if (rc < 0)
		return wd_error_set(err, rc, "out of memory");
	if (ferror(in))
		return wd_error_set(err, WD_EIO, "reading standard input failed");
	return 0;
}

/* Reads the bytes of "-" (standard input) or "@path" (a file) into a
 * malloc'd, NUL-terminated buffer that the caller wipes. */
static int read_source(const char *source, FILE *in, bool *stdin_used, uint8_t **ret_bytes,
	size_t *ret_len, struct wd_error *err)
{
	struct wd_buf buf;
	int rc;

	*ret_bytes = NULL;
	*ret_len = 0;
	if (strcmp(source, "-") != 0)
		return wd_file_read(source + 1, KV_CLI_VALUE_MAX, ret_bytes, ret_len, err);

	if (*stdin_used)
		return wd_error_set(err, WD_EINVAL, "standard input (-) can be read only once");
	*stdin_used = true;
	wd_buf_init_secret(&buf, 4096, KV_CLI_VALUE_MAX);
	rc = read_stream(in, &buf, err);
	if (rc == 0) {
		*ret_bytes = wd_buf_take(&buf, ret_len);
		if (!*ret_bytes)
			rc = wd_error_set(err, WD_ENOMEM, "out of memory");
	}
	wd_buf_free_secret(&buf);
	return rc;
}

/* Sets key in data unless it is there already. Takes value. */
static int set_once(json_t *data, const char *key, json_t *value, struct wd_error *err)
{
	if (!value)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	if (json_object_get(data, key)) {
		json_decref(value);
		return wd_error_set(err, WD_EINVAL, "key \"%s\" is given more than once", key);
	}
	if (json_object_set_new(data, key, value) < 0)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	return 0;
}

/* Adds the members of a JSON object read from "-" or "@file". */
static int add_object(json_t *data, const char *source, FILE *in, bool *stdin_used,
	struct wd_error *err)
{
	const char *name = strcmp(source, "-") ? source + 1 : "standard input";
	uint8_t *bytes = NULL;
	size_t len = 0;
	json_t *object;
	const char *key;
	json_t *value;
	int rc;

	WD_TRY(read_source(source, in, stdin_used, &bytes, &len, err));
	object = json_loadb((const char *)bytes, len, JSON_REJECT_DUPLICATES, NULL);
	wd_free_secret(bytes, len);
	if (!json_is_object(object)) {
		json_decref(object);
		return wd_error_set(err, WD_EINVAL, "%s does not hold a JSON object", name);
	}

	rc = 0;
	json_object_foreach(object, key, value) {
		rc = set_once(data, key, json_incref(value), err);
		if (rc < 0)
			break;
	}
	json_decref(object);
	return rc;
}

/* Adds one key=value argument; the value may be "@file" or "-". */
static int add_pair(json_t *data, const char *arg, size_t index, FILE *in, bool *stdin_used,
	struct wd_error *err)
{
	const char *equals = strchr(arg, '=');
	const char *value;
	char key[KV_CLI_KEY_MAX + 1];
	uint8_t *bytes = NULL;
	size_t len = 0;
	json_t *text;

	if (!equals || equals == arg)
		return wd_error_set(err, WD_EINVAL, "invalid data argument %zu: expected key=value, "
			"key=@file, key=-, @file or -", index + 1);
	if ((size_t)(equals - arg) > KV_CLI_KEY_MAX)
		return wd_error_set(err, WD_EINVAL, "invalid data argument %zu: the key is longer "
			"than %d bytes", index + 1, KV_CLI_KEY_MAX);
	memcpy(key, arg, (size_t)(equals - arg));
	key[equals - arg] = '\0';
	value = equals + 1;

	if (value[0] != '@' && strcmp(value, "-") != 0)
		return set_once(data, key, json_string(value), err);

	WD_TRY(read_source(value, in, stdin_used, &bytes, &len, err));
	text = json_stringn((const char *)bytes, len);
	wd_free_secret(bytes, len);
	if (!text)
		return wd_error_set(err, WD_EINVAL, "the value of key \"%s\" is not UTF-8 text", key);
	return set_once(data, key, text, err);
}

int kv_parse_data(char *const *args, size_t count, FILE *in, json_t **ret_data,
	struct wd_error *err)
{
	json_t *data = json_object();
	bool stdin_used = false;
	int rc = 0;

	*ret_data = NULL;
	if (!data)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	for (size_t i = 0; i < count; i++) {
		if (!strcmp(args[i], "-") || args[i][0] == '@')
			rc = add_object(data, args[i], in, &stdin_used, err);
		else
			rc = add_pair(data, args[i], i, in, &stdin_used, err);
		if (rc < 0) {
			json_decref(data);
			return rc;
		}
	}
	*ret_data = data;
	return 0;
}
