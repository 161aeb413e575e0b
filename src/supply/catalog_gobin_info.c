/* The Go build information blob and its module text. The blob starts with
 * the 32-byte header the linker writes (cmd/link, buildinfo): GOBIN_MAGIC,
 * the pointer size, a flags byte and two pointer slots. Before Go 1.18 the
 * pointers address Go string headers of the version and module text. From
 * Go 1.18 on, flag bit 2 is set and both follow the header inline as
 * varint-length strings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supply/gobin.h"

#define FLAG_BIG_ENDIAN 0x1
#define FLAG_INLINE 0x2

/* The module text is framed by two 16-byte sentinels
 * (cmd/go/internal/modload infoStart and infoEnd) that Go strips the same
 * way: when the text is at least 33 bytes long and its 17th byte from the
 * end is a newline. */
#define SENTINEL_LEN 16

/* A counted string of the blob, which may contain NUL bytes (the module
 * text's end sentinel does). */
struct blob_string {
	uint8_t *bytes;
	size_t len;
};

static int copy_bytes(const uint8_t *bytes, size_t len, struct blob_string *ret_text,
	const char *what, struct wd_error *err)
{
	*ret_text = (struct blob_string){ 0 };
	if (len > GOBIN_MAX_STRING_BYTES)
		return wd_error_set(err, WD_ETOOBIG, "%s is longer than %u bytes", what,
			GOBIN_MAX_STRING_BYTES);
	ret_text->bytes = malloc(len + 1);
	if (!ret_text->bytes)
		return wd_error_set(err, WD_ENOMEM, "out of memory for the %s", what);
	memcpy(ret_text->bytes, bytes, len);
	ret_text->bytes[len] = '\0';
	ret_text->len = len;
	return 0;
}

/* Reads an unsigned LEB128 varint, as Go's encoding/binary.Uvarint does. */
static int read_uvarint(const uint8_t *bytes, size_t len, size_t *pos, uint64_t *ret_value)
{
	uint64_t value = 0;

	for (unsigned i = 0; i < 10 && *pos < len; i++) {
		uint8_t b = bytes[(*pos)++];

		if (i == 9 && b > 1)
			return WD_EINVAL;  /* more than 64 bits */
		value |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			*ret_value = value;
			return 0;
		}
	}
	return WD_EINVAL;
}

static int inline_string(const uint8_t *blob, size_t len, size_t *pos,
	struct blob_string *ret_text, const char *what, struct wd_error *err)
{
	uint64_t n = 0;

	if (read_uvarint(blob, len, pos, &n) < 0)
		return wd_error_set(err, WD_EINVAL, "invalid length of the %s", what);
	if (n > len - *pos)
		return wd_error_set(err, WD_EINVAL, "%s of %llu bytes runs past the blob", what,
			(unsigned long long)n);
	WD_TRY(copy_bytes(blob + *pos, (size_t)n, ret_text, what, err));
	*pos += (size_t)n;
	return 0;
}

static uint64_t get_pointer(const uint8_t *p, unsigned size, bool big_endian)
{
	uint64_t value = 0;

	for (unsigned i = 0; i < size; i++)
		value |= (uint64_t)p[big_endian ? size - 1 - i : i] << (8 * i);
	return value;
}

/* Reads the Go string header (data pointer, length) at addr and the bytes
 * it points at. */
static int pointer_string(const struct gobin_memory *memory, unsigned ptr_size, bool big_endian,
	uint64_t addr, struct blob_string *ret_text, const char *what, struct wd_error *err)
{
	uint8_t header[16], *bytes;
	uint64_t data, len;
	int rc;

	*ret_text = (struct blob_string){ 0 };
	if (memory->read_addr(memory->ctx, addr, header, 2 * ptr_size) < 0)
		return wd_error_set(err, WD_EINVAL, "%s header at 0x%llx is outside the file", what,
			(unsigned long long)addr);
	data = get_pointer(header, ptr_size, big_endian);
	len = get_pointer(header + ptr_size, ptr_size, big_endian);
	if (len > GOBIN_MAX_STRING_BYTES)
		return wd_error_set(err, WD_ETOOBIG, "%s is longer than %u bytes", what,
			GOBIN_MAX_STRING_BYTES);
	bytes = malloc(len ? (size_t)len : 1);
	if (!bytes)
		return wd_error_set(err, WD_ENOMEM, "out of memory for the %s", what);
	rc = memory->read_addr(memory->ctx, data, bytes, (size_t)len);
	if (rc < 0)
		rc = wd_error_set(err, WD_EINVAL, "%s at 0x%llx is outside the file", what,
			(unsigned long long)data);
	else
		rc = copy_bytes(bytes, (size_t)len, ret_text, what, err);
	free(bytes);
	return rc;
}

/* Removes the sentinels around the module text, or empties a text without
 * them, as runtime/debug does. */
static void strip_sentinels(struct blob_string *modinfo)
{
	size_t len = modinfo->len;

	if (len >= 2 * SENTINEL_LEN + 1 && modinfo->bytes[len - SENTINEL_LEN - 1] == '\n') {
		memmove(modinfo->bytes, modinfo->bytes + SENTINEL_LEN, len - 2 * SENTINEL_LEN);
		modinfo->len = len - 2 * SENTINEL_LEN;
	} else {
		modinfo->len = 0;
	}
	modinfo->bytes[modinfo->len] = '\0';
}

int gobin_blob_decode(const uint8_t *blob, size_t len, const struct gobin_memory *memory,
	char **ret_version, char **ret_modinfo, struct wd_error *err)
{
	struct blob_string version = { 0 }, modinfo = { 0 };
	unsigned ptr_size;
	uint8_t flags;
	int rc = 0;

	*ret_version = NULL;
	*ret_modinfo = NULL;
	if (len < GOBIN_HEADER_LEN || memcmp(blob, GOBIN_MAGIC, GOBIN_MAGIC_LEN) != 0)
		return wd_error_set(err, WD_EINVAL, "build information header is missing");
	ptr_size = blob[14];
	flags = blob[15];

	if (flags & FLAG_INLINE) {
		size_t pos = GOBIN_HEADER_LEN;

		WD_GUARD(inline_string(blob, len, &pos, &version, "Go version", err));
		WD_GUARD(inline_string(blob, len, &pos, &modinfo, "module text", err));
	} else {
		bool big_endian = flags & FLAG_BIG_ENDIAN;

		WD_ENSURE(ptr_size == 4 || ptr_size == 8, wd_error_set(err, WD_EINVAL,
			"invalid pointer size %u in the build information", ptr_size));
		WD_ENSURE(memory, wd_error_set(err, WD_EINVAL,
			"build information with pointers but no program segments"));
		WD_GUARD(pointer_string(memory, ptr_size, big_endian,
			get_pointer(blob + 16, ptr_size, big_endian), &version, "Go version", err));
		WD_GUARD(pointer_string(memory, ptr_size, big_endian,
			get_pointer(blob + 16 + ptr_size, ptr_size, big_endian), &modinfo,
			"module text", err));
	}
	WD_ENSURE(version.len > 0, wd_error_set(err, WD_ENOTFOUND, "empty Go version"));
	WD_ENSURE(!memchr(version.bytes, '\0', version.len), wd_error_set(err, WD_EINVAL,
		"Go version contains a NUL byte"));
	strip_sentinels(&modinfo);
	WD_ENSURE(!memchr(modinfo.bytes, '\0', modinfo.len), wd_error_set(err, WD_EINVAL,
		"module text contains a NUL byte"));

	*ret_version = (char *)WD_TAKE_PTR(version.bytes);
	*ret_modinfo = (char *)WD_TAKE_PTR(modinfo.bytes);
out:
	free(version.bytes);
	free(modinfo.bytes);
	return rc;
}

static void module_free(struct gobin_module *module)
{
	free(module->path);
	free(module->version);
	free(module->sum);
	*module = (struct gobin_module){ 0 };
}

void gobin_info_free(struct gobin_info *info)
{
	if (!info)
		return;
	free(info->go_version);
	free(info->path);
	module_free(&info->main);
	for (size_t i = 0; i < info->dep_count; i++) {
		module_free(&info->deps[i].module);
		module_free(&info->deps[i].replace);
	}
	free(info->deps);
	free(info->goarch);
	free(info->vcs_revision);
	free(info->vcs_time);
	*info = (struct gobin_info){ 0 };
}

/* Splits text at tabs into at most max columns; returns the count, or
 * max + 1 when there are more. */
static size_t split_tabs(const char *text, size_t len, const char **columns, size_t *lengths,
	size_t max)
{
	size_t count = 0, start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && text[i] != '\t')
			continue;
		if (count == max)
			return max + 1;
		columns[count] = text + start;
		lengths[count] = i - start;
		count++;
		start = i + 1;
	}
	return count;
}

static int dup_column(const char *text, size_t len, char **ret_text, struct wd_error *err)
{
	*ret_text = strndup(text, len);
	if (!*ret_text)
		return wd_error_set(err, WD_ENOMEM, "out of memory for the module text");
	return 0;
}

/* Reads "path<TAB>version[<TAB>sum]" (the replacement form requires all
 * three columns) into module. */
static int read_module(const char *text, size_t len, bool replacement, size_t line_no,
	struct gobin_module *module, struct wd_error *err)
{
	const char *columns[3];
	size_t lengths[3];
	size_t count = split_tabs(text, len, columns, lengths, 3);

	if (replacement ? count != 3 : (count != 2 && count != 3))
		return wd_error_set(err, WD_EINVAL, "line %zu: expected %s columns, found %zu",
			line_no, replacement ? "3" : "2 or 3", count);
	if (lengths[0] == 0)
		return wd_error_set(err, WD_EINVAL, "line %zu: empty module path", line_no);
	WD_TRY(dup_column(columns[0], lengths[0], &module->path, err));
	WD_TRY(dup_column(columns[1], lengths[1], &module->version, err));
	if (count == 3 && lengths[2] > 0)
		WD_TRY(dup_column(columns[2], lengths[2], &module->sum, err));
	return 0;
}

/* Keeps the build settings the catalog uses: GOARCH, vcs.revision and
 * vcs.time. A quoted key (one with spaces or '=') cannot be one of them. */
static int read_setting(struct gobin_info *info, const char *text, size_t len, size_t line_no,
	struct wd_error *err)
{
	static const struct {
		const char *key;
		size_t offset;
	} kept[] = {
		{ "GOARCH", offsetof(struct gobin_info, goarch) },
		{ "vcs.revision", offsetof(struct gobin_info, vcs_revision) },
		{ "vcs.time", offsetof(struct gobin_info, vcs_time) },
	};
	const char *equals = memchr(text, '=', len);
	size_t key_len;

	if (len == 0 || text[0] == '"' || text[0] == '`')
		return 0;
	if (!equals)
		return wd_error_set(err, WD_EINVAL, "line %zu: build setting without '='", line_no);
	key_len = (size_t)(equals - text);
	if (key_len == 0)
		return wd_error_set(err, WD_EINVAL, "line %zu: build setting without a key", line_no);
	for (size_t i = 0; i < WD_ARRAY_LEN(kept); i++) {
		char **slot = (char **)((char *)info + kept[i].offset);

		if (strlen(kept[i].key) != key_len || memcmp(kept[i].key, text, key_len) != 0)
			continue;
		free(*slot);
		return dup_column(equals + 1, len - key_len - 1, slot, err);
	}
	return 0;
}

static int add_dep(struct gobin_info *info, size_t line_no, struct wd_error *err)
{
	struct gobin_dep *grown;

	if (info->dep_count >= GOBIN_MAX_DEPS)
		return wd_error_set(err, WD_ETOOBIG, "line %zu: more than %d dependencies", line_no,
			GOBIN_MAX_DEPS);
	if (info->dep_count == info->dep_cap) {
		size_t cap = info->dep_cap ? info->dep_cap * 2 : 32;

		grown = reallocarray(info->deps, cap, sizeof(*grown));
		if (!grown)
			return wd_error_set(err, WD_ENOMEM, "out of memory for dependencies");
		info->deps = grown;
		info->dep_cap = cap;
	}
	info->deps[info->dep_count++] = (struct gobin_dep){ 0 };
	return 0;
}

static bool starts_with(const char *line, size_t len, const char *prefix, size_t *ret_skip)
{
	size_t n = strlen(prefix);

	*ret_skip = n;
	return len >= n && memcmp(line, prefix, n) == 0;
}

/* The kind of module the previous line named, which a "=>" line may
 * replace. */
enum last_line { LAST_OTHER, LAST_MAIN, LAST_DEP };

static int parse_line(struct gobin_info *info, const char *line, size_t len, size_t line_no,
	enum last_line *last, struct wd_error *err)
{
	enum last_line previous = *last;
	size_t skip;

	*last = LAST_OTHER;
	if (starts_with(line, len, "path\t", &skip)) {
		if (info->path)
			return wd_error_set(err, WD_EINVAL, "line %zu: duplicate path line", line_no);
		return dup_column(line + skip, len - skip, &info->path, err);
	}
	if (starts_with(line, len, "mod\t", &skip)) {
		if (info->main.path)
			return wd_error_set(err, WD_EINVAL, "line %zu: duplicate mod line", line_no);
		*last = LAST_MAIN;
		return read_module(line + skip, len - skip, false, line_no, &info->main, err);
	}
	if (starts_with(line, len, "dep\t", &skip)) {
		WD_TRY(add_dep(info, line_no, err));
		*last = LAST_DEP;
		return read_module(line + skip, len - skip, false, line_no,
			&info->deps[info->dep_count - 1].module, err);
	}
	if (starts_with(line, len, "=>\t", &skip)) {
		struct gobin_module ignored = { 0 };
		int rc;

		if (previous == LAST_DEP)
			return read_module(line + skip, len - skip, true, line_no,
				&info->deps[info->dep_count - 1].replace, err);
		if (previous != LAST_MAIN)
			return wd_error_set(err, WD_EINVAL,
				"line %zu: replacement without a module on the line before", line_no);
		/* Go accepts a replaced main module; the catalog keeps the main
		 * module as built. */
		rc = read_module(line + skip, len - skip, true, line_no, &ignored, err);
		module_free(&ignored);
		return rc;
	}
	if (starts_with(line, len, "build\t", &skip))
		return read_setting(info, line + skip, len - skip, line_no, err);
	return 0;  /* "go" and lines of later Go versions */
}

int gobin_modinfo_parse(const char *text, size_t len, struct gobin_info *info,
	struct wd_error *err)
{
	enum last_line last = LAST_OTHER;
	size_t pos = 0, line_no = 0;

	if (len > GOBIN_MAX_STRING_BYTES)
		return wd_error_set(err, WD_ETOOBIG, "module text is longer than %u bytes",
			GOBIN_MAX_STRING_BYTES);
	if (len > 0 && memchr(text, '\0', len))
		return wd_error_set(err, WD_EINVAL, "module text contains a NUL byte");
	while (pos < len) {
		const char *line = text + pos;
		const char *newline = memchr(line, '\n', len - pos);
		size_t line_len = newline ? (size_t)(newline - line) : len - pos;

		pos += line_len + (newline ? 1 : 0);
		line_no++;
		if (line_len == 0)
			continue;
		WD_TRY(parse_line(info, line, line_len, line_no, &last, err));
	}
	return 0;
}
