/* os-release(5): the distribution a root filesystem belongs to. The file is
 * KEY=value lines in shell syntax. Values may be quoted, and inside double
 * quotes a backslash escapes $, ", \ and `. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/file.h"
#include "supply/sbom.h"

#define OS_RELEASE_MAX_BYTES (64u * 1024)

void sbom_distro_free(struct sbom_distro *distro)
{
	if (!distro)
		return;
	free(distro->id);
	free(distro->version_id);
	free(distro->codename);
	free(distro->pretty_name);
	*distro = (struct sbom_distro){ 0 };
}

static char **distro_slot(struct sbom_distro *distro, const char *key, size_t key_len)
{
	static const struct {
		const char *key;
		size_t offset;
	} slots[] = {
		{ "ID", offsetof(struct sbom_distro, id) },
		{ "VERSION_ID", offsetof(struct sbom_distro, version_id) },
		{ "VERSION_CODENAME", offsetof(struct sbom_distro, codename) },
		{ "PRETTY_NAME", offsetof(struct sbom_distro, pretty_name) },
	};

	for (size_t i = 0; i < WD_ARRAY_LEN(slots); i++) {
		if (strlen(slots[i].key) == key_len && memcmp(slots[i].key, key, key_len) == 0)
			return (char **)((char *)distro + slots[i].offset);
	}
	return NULL;
}

/* Removes the quoting of a value into a malloc'd string. */
static int unquote(const char *value, size_t len, char **ret_text, size_t line_no,
	struct wd_error *err)
{
	struct wd_buf out;
	char quote = 0;
	int rc = 0;

	*ret_text = NULL;
	wd_buf_init(&out, 64, OS_RELEASE_MAX_BYTES);
	if (len > 0 && (value[0] == '"' || value[0] == '\'')) {
		quote = value[0];
		if (len < 2 || value[len - 1] != quote)
			return wd_error_set(err, WD_EINVAL, "os-release line %zu: unterminated quote",
				line_no);
		value++;
		len -= 2;
	}

	for (size_t i = 0; i < len; i++) {
		char c = value[i];

		if (c == '\\' && quote != '\'' && i + 1 < len &&
		    (quote == 0 || strchr("$\"\\`", value[i + 1])))
			c = value[++i];
		WD_GUARD(wd_buf_append_byte(&out, (uint8_t)c));
	}
	WD_GUARD(wd_buf_append(&out, "", 0));
	*ret_text = wd_buf_take(&out, NULL);
	WD_ENSURE(*ret_text, WD_ENOMEM);
out:
	wd_buf_free(&out);
	if (rc < 0 && err && err->code == 0)
		wd_error_set(err, rc, "os-release line %zu: value not stored", line_no);
	return rc;
}

int os_release_parse(const char *text, size_t len, struct sbom_distro *distro,
	struct wd_error *err)
{
	size_t pos = 0, line_no = 0;

	*distro = (struct sbom_distro){ 0 };
	if (len > OS_RELEASE_MAX_BYTES)
		return wd_error_set(err, WD_ETOOBIG, "os-release is longer than %u bytes",
			OS_RELEASE_MAX_BYTES);

	while (pos < len) {
		const char *line = text + pos;
		const char *newline = memchr(line, '\n', len - pos);
		size_t line_len = newline ? (size_t)(newline - line) : len - pos;
		const char *equals;
		char **slot;
		char *value = NULL;
		int rc;

		pos += line_len + (newline ? 1 : 0);
		line_no++;
		while (line_len > 0 && (line[line_len - 1] == '\r' || line[line_len - 1] == ' '))
			line_len--;

		/* Comments, blank lines and lines without '=' carry no setting. */
		equals = memchr(line, '=', line_len);
		if (line_len == 0 || line[0] == '#' || !equals)
			continue;
		slot = distro_slot(distro, line, (size_t)(equals - line));
		if (!slot)
			continue;

		rc = unquote(equals + 1, line_len - (size_t)(equals + 1 - line), &value, line_no, err);
		if (rc < 0) {
			sbom_distro_free(distro);
			return rc;
		}
		/* A later assignment wins, as the shell reads it. */
		free(*slot);
		*slot = value;
	}
	return 0;
}

int os_release_read(const char *root, struct sbom_distro *distro, struct wd_error *err)
{
	static const char *const candidates[] = { "etc/os-release", "usr/lib/os-release" };

	*distro = (struct sbom_distro){ 0 };
	for (size_t i = 0; i < WD_ARRAY_LEN(candidates); i++) {
		char path[4096];
		uint8_t *data = NULL;
		size_t len = 0;
		int rc;

		if (snprintf(path, sizeof(path), "%s/%s", root, candidates[i]) >= (int)sizeof(path))
			return wd_error_set(err, WD_EINVAL, "path too long: %.64s...", root);
		rc = wd_file_read(path, OS_RELEASE_MAX_BYTES, &data, &len, err);
		if (rc == WD_ENOTFOUND)
			continue;
		if (rc < 0)
			return rc;
		rc = os_release_parse((const char *)data, len, distro, err);
		free(data);
		return rc;
	}
	return wd_error_set(err, WD_ENOTFOUND, "%s: no etc/os-release or usr/lib/os-release",
		root);
}
