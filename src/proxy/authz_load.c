/* Policy files of the proxy: a .rego file, or a directory tree of .rego
 * files with data.json and data.yaml files whose contents sit under the
 * path of their directory (dir/a/b/data.json becomes data.a.b), as OPA
 * loads a bundle directory. Files and directories whose names start with
 * "." are skipped, which also skips the "..data" links of a Kubernetes
 * ConfigMap volume while still following its file links. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/file.h"
#include "proxy/authz_internal.h"

enum file_kind {
	FILE_REGO,
	FILE_DATA_JSON,
	FILE_DATA_YAML,
};

struct policy_file {
	char *path;      /* as opened */
	char *name;      /* relative to the root, module id and data path */
	enum file_kind kind;
	struct stat stat;
};

struct file_list {
	struct policy_file *items;
	size_t len;
};

static void file_list_free(struct file_list *list)
{
	for (size_t i = 0; i < list->len; i++) {
		free(list->items[i].path);
		free(list->items[i].name);
	}
	free(list->items);
	list->items = NULL;
	list->len = 0;
}

static bool kind_of(const char *base, enum file_kind *ret_kind)
{
	size_t len = strlen(base);

	if (len > 5 && strcmp(base + len - 5, ".rego") == 0)
		*ret_kind = FILE_REGO;
	else if (strcmp(base, "data.json") == 0)
		*ret_kind = FILE_DATA_JSON;
	else if (strcmp(base, "data.yaml") == 0 || strcmp(base, "data.yml") == 0)
		*ret_kind = FILE_DATA_YAML;
	else
		return false;
	return true;
}

static int list_add(struct file_list *list, const char *path, const char *name,
	enum file_kind kind, const struct stat *st, struct wd_error *err)
{
	struct policy_file *items;

	if (list->len >= AUTHZ_MAX_FILES)
		return wd_error_set(err, WD_ETOOBIG, "policy directory holds more than %d files",
			AUTHZ_MAX_FILES);
	items = wd_reallocarray(list->items, list->len + 1, sizeof(*items));
	if (!items)
		return WD_ENOMEM;
	list->items = items;
	items[list->len].path = wd_strdup(path);
	items[list->len].name = wd_strdup(name);
	items[list->len].kind = kind;
	items[list->len].stat = *st;
	list->len++;
	if (!items[list->len - 1].path || !items[list->len - 1].name)
		return WD_ENOMEM;
	return 0;
}

static int walk(const char *dir, const char *prefix, unsigned depth, struct file_list *list,
	struct wd_error *err)
{
	DIR *handle = NULL;
	struct dirent *entry;
	char path[4096], name[4096];
	struct stat st;
	enum file_kind kind;
	int rc = 0;

	if (depth > AUTHZ_MAX_DEPTH)
		return wd_error_set(err, WD_ETOOBIG, "policy directory %s is nested deeper than %d levels",
			dir, AUTHZ_MAX_DEPTH);
	handle = opendir(dir);
	if (!handle)
		return wd_error_set(err, WD_EIO, "policy directory %s cannot be opened", dir);

	while ((entry = readdir(handle)) != NULL) {
		if (entry->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, entry->d_name) >= sizeof(path) ||
		    (size_t)snprintf(name, sizeof(name), "%s%s%s", prefix, prefix[0] ? "/" : "",
			    entry->d_name) >= sizeof(name)) {
			rc = wd_error_set(err, WD_ETOOBIG, "policy path under %s is too long", dir);
			goto out;
		}
		if (stat(path, &st) != 0)
			continue; /* a dangling link or a file removed meanwhile */
		if (S_ISDIR(st.st_mode))
			WD_GUARD(walk(path, name, depth + 1, list, err));
		else if (S_ISREG(st.st_mode) && kind_of(entry->d_name, &kind))
			WD_GUARD(list_add(list, path, name, kind, &st, err));
	}
out:
	closedir(handle);
	return rc;
}

static int compare_files(const void *a, const void *b)
{
	return strcmp(((const struct policy_file *)a)->name, ((const struct policy_file *)b)->name);
}

/* Lists the policy files under path in name order. */
static int list_files(const char *path, struct file_list *ret_list, struct wd_error *err)
{
	struct file_list list = { 0 };
	struct stat st;
	int rc;

	if (stat(path, &st) != 0)
		return wd_error_set(err, WD_ENOTFOUND, "policy path %s does not exist", path);
	if (S_ISDIR(st.st_mode)) {
		WD_GUARD(walk(path, "", 0, &list, err));
		qsort(list.items, list.len, sizeof(*list.items), compare_files);
	} else {
		WD_GUARD(list_add(&list, path, path, FILE_REGO, &st, err));
	}
	*ret_list = list;
	return 0;
out:
	file_list_free(&list);
	return rc;
}

static uint64_t fnv_add(uint64_t hash, const void *data, size_t len)
{
	const uint8_t *bytes = data;

	for (size_t i = 0; i < len; i++) {
		hash ^= bytes[i];
		hash *= 1099511628211ull;
	}
	return hash;
}

static uint64_t list_fingerprint(const struct file_list *list)
{
	uint64_t hash = 14695981039346656037ull;

	for (size_t i = 0; i < list->len; i++) {
		const struct policy_file *file = &list->items[i];

		hash = fnv_add(hash, file->name, strlen(file->name) + 1);
		hash = fnv_add(hash, &file->stat.st_ino, sizeof(file->stat.st_ino));
		hash = fnv_add(hash, &file->stat.st_size, sizeof(file->stat.st_size));
		hash = fnv_add(hash, &file->stat.st_mtim, sizeof(file->stat.st_mtim));
	}
	return hash;
}

int authz_files_fingerprint(const char *path, uint64_t *ret_fingerprint, struct wd_error *err)
{
	struct file_list list = { 0 };

	WD_TRY(list_files(path, &list, err));
	*ret_fingerprint = list_fingerprint(&list);
	file_list_free(&list);
	return 0;
}

/* Puts value at the object path of a data file's directory ("a/b/data.json"
 * under data.a.b), merging with what other files put there. Keys set by
 * two files are a conflict. */
static int data_put(struct rv *root, const char *name, struct rv *value, struct wd_error *err)
{
	char segment[256];
	const char *rest = name;
	const char *slash;
	struct rv *node = root;
	int rc = 0;

	while ((slash = strchr(rest, '/')) != NULL) {
		struct rv *child;

		if ((size_t)(slash - rest) >= sizeof(segment)) {
			rc = wd_error_set(err, WD_EINVAL, "data file %s has a directory name over 255 bytes",
				name);
			goto out;
		}
		memcpy(segment, rest, (size_t)(slash - rest));
		segment[slash - rest] = '\0';
		child = rv_object_get_str(node, segment);
		if (!child) {
			child = rv_object_new(4);
			WD_GUARD(rv_object_put(node, rv_cstring(segment), rv_ref(child)));
			rv_unref(child);
		} else if (!rv_is(child, RV_OBJECT)) {
			rc = wd_error_set(err, WD_EINVAL, "data file %s conflicts with a value at %s",
				name, segment);
			goto out;
		}
		node = child;
		rest = slash + 1;
	}

	if (!rv_is(value, RV_OBJECT)) {
		rc = wd_error_set(err, WD_EINVAL, "data file %s does not hold an object", name);
		goto out;
	}
	for (size_t i = 0; i < rv_len(value); i++) {
		struct rv *key, *item;

		rv_map_at(value, i, &key, &item);
		if (rv_object_get(node, key)) {
			rc = wd_error_set(err, WD_EINVAL, "data file %s sets key \"%.64s\" that another file sets",
				name, rv_is(key, RV_STRING) ? rv_str(key) : "?");
			goto out;
		}
		WD_GUARD(rv_object_put(node, rv_ref(key), rv_ref(item)));
	}
out:
	rv_unref(value);
	return rc;
}

static int load_data(const struct policy_file *file, struct rv *root, struct wd_error *err)
{
	uint8_t *text = NULL;
	size_t len = 0;
	struct wd_buf parse_err;
	struct rv *value;
	int rc;

	wd_buf_init(&parse_err, 128, 1024);
	WD_GUARD(wd_file_read(file->path, AUTHZ_MAX_DATA_BYTES, &text, &len, err));
	if (file->kind == FILE_DATA_JSON)
		value = rv_parse_json((const char *)text, len, 0, &parse_err);
	else
		value = rv_parse_yaml_core((const char *)text, len, &parse_err);
	if (!value) {
		rc = wd_error_set(err, WD_EINVAL, "data file %s is invalid: %s", file->path,
			wd_buf_len(&parse_err) ? wd_buf_str(&parse_err) : "out of memory");
		goto out;
	}
	WD_GUARD(data_put(root, file->name, value, err));
out:
	wd_buf_free(&parse_err);
	free(text);
	return rc;
}

/* Copies the compile errors, one "file:row: code: message" per line, into
 * err. */
static int compile_error(const struct rego_errors *errs, struct wd_error *err)
{
	struct wd_buf text;
	int rc;

	wd_buf_init(&text, 256, 4096);
	if (errs->len == 0 || rego_errors_write(errs, &text) < 0 || wd_buf_len(&text) == 0)
		rc = wd_error_set(err, WD_EINVAL, "policy does not compile");
	else
		rc = wd_error_set(err, WD_EINVAL, "policy does not compile: %s", wd_buf_str(&text));
	wd_buf_free(&text);
	return rc;
}

static int add_module(struct rego_builder *builder, const char *id, const char *source,
	size_t len, struct wd_error *err)
{
	struct rego_errors errs = { 0 };

	if (rego_builder_add_module(builder, id, source, len, &errs) < 0)
		return compile_error(&errs, err);
	return 0;
}

static int finish(struct rego_builder *builder, struct rv *data, struct rego_engine **ret_engine,
	struct wd_error *err)
{
	struct rego_errors errs = { 0 };
	struct rego_engine *engine;

	WD_TRY(rego_builder_set_data(builder, data));
	engine = rego_builder_compile(builder, &errs);
	if (!engine)
		return compile_error(&errs, err);
	*ret_engine = engine;
	return 0;
}

int authz_files_compile(const char *path, const struct rego_limits *limits,
	struct rego_engine **ret_engine, uint64_t *ret_fingerprint, struct wd_error *err)
{
	struct file_list list = { 0 };
	struct rego_builder *builder = NULL;
	struct rv *data = NULL;
	uint8_t *source = NULL;
	size_t source_len = 0, modules = 0;
	int rc;

	*ret_engine = NULL;
	WD_GUARD(list_files(path, &list, err));
	builder = rego_builder_new(limits);
	data = rv_object_new(4);
	WD_ENSURE(builder && data, WD_ENOMEM);

	for (size_t i = 0; i < list.len; i++) {
		const struct policy_file *file = &list.items[i];

		if (file->kind != FILE_REGO) {
			WD_GUARD(load_data(file, data, err));
			continue;
		}
		WD_GUARD(wd_file_read(file->path, AUTHZ_MAX_MODULE_BYTES, &source, &source_len, err));
		WD_GUARD(add_module(builder, file->name, (const char *)source, source_len, err));
		free(WD_TAKE_PTR(source));
		modules++;
	}
	if (modules == 0) {
		rc = wd_error_set(err, WD_ENOTFOUND, "policy path %s holds no .rego file", path);
		goto out;
	}
	WD_GUARD(finish(builder, WD_TAKE_PTR(data), ret_engine, err));
	*ret_fingerprint = list_fingerprint(&list);
out:
	free(source);
	rv_unref(data);
	rego_builder_free(builder);
	file_list_free(&list);
	return rc;
}

int authz_modules_compile(const char *const *ids, const char *const *sources, size_t count,
	const struct rego_limits *limits, struct rego_engine **ret_engine, struct wd_error *err)
{
	struct rego_builder *builder = rego_builder_new(limits);
	struct rv *data = rv_object_new(0);
	int rc;

	*ret_engine = NULL;
	WD_ENSURE(builder && data, WD_ENOMEM);
	for (size_t i = 0; i < count; i++)
		WD_GUARD(add_module(builder, ids[i], sources[i], strlen(sources[i]), err));
	WD_GUARD(finish(builder, WD_TAKE_PTR(data), ret_engine, err));
out:
	rv_unref(data);
	rego_builder_free(builder);
	return rc;
}
