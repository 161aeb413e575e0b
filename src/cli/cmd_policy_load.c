/* Loading for `warden policy`: Rego modules and JSON/YAML data from files
 * and directory trees, with data placed by directory as OPA's loader does. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cmd_policy.h"
#include "common/alloc.h"
#include "common/error.h"
#include "common/file.h"

/* Deepest directory tree walked. */
#define WALK_MAX_DEPTH 64

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool is_yaml_name(const char *path)
{
	return has_suffix(path, ".yaml") || has_suffix(path, ".yml");
}

struct rv *policy_read_document(const char *path)
{
	uint8_t *text = NULL;
	size_t len = 0;
	struct wd_error ferr;
	struct wd_buf err;
	struct rv *v;

	if (wd_file_read(path, POLICY_DOCUMENT_MAX, &text, &len, &ferr) < 0) {
		fprintf(stderr, "warden policy: cannot read %s: %s\n", path, wd_error_text(&ferr));
		return NULL;
	}
	wd_buf_init(&err, 256, 4096);
	if (is_yaml_name(path))
		v = rv_parse_yaml((const char *)text, len, &err);
	else
		v = rv_parse_json((const char *)text, len, 1000, &err);
	if (!v)
		fprintf(stderr, "warden policy: invalid document %s: %s\n", path,
			wd_buf_len(&err) ? wd_buf_str(&err) : "out of memory");
	wd_buf_free(&err);
	free(text);
	return v;
}

/* Merges b into a copy of a: objects merge key by key, anything else at
 * the same key is a conflict. Returns a new reference or NULL, with
 * *ret_conflict set for a conflict. */
static struct rv *merge_objects(struct rv *a, struct rv *b, bool *ret_conflict)
{
	struct rv *out = rv_object_new(rv_len(a) + rv_len(b));

	for (size_t i = 0; out && i < rv_len(a); i++) {
		struct rv *k, *v;

		rv_map_at(a, i, &k, &v);
		if (rv_object_put(out, rv_ref(k), rv_ref(v)) < 0) {
			rv_unref(out);
			return NULL;
		}
	}
	for (size_t i = 0; out && i < rv_len(b); i++) {
		struct rv *k, *v, *old, *merged;

		rv_map_at(b, i, &k, &v);
		old = rv_object_get(out, k);
		if (!old) {
			merged = rv_ref(v);
		} else if (rv_is(old, RV_OBJECT) && rv_is(v, RV_OBJECT)) {
			merged = merge_objects(old, v, ret_conflict);
		} else {
			*ret_conflict = true;
			merged = NULL;
		}
		if (!merged || rv_object_put(out, rv_ref(k), merged) < 0) {
			rv_unref(out);
			return NULL;
		}
	}
	return out;
}

/* Adds a data document at a path of dot-free segments below the root. */
static int add_data(struct policy_load *load, struct rv *doc, char *const *segments,
		    size_t count, const char *file)
{
	struct rv *wrapped = doc, *merged;
	bool conflict = false;

	for (size_t i = count; i-- > 0;) {
		struct rv *obj = rv_object_new(1);

		if (!obj || rv_object_put(obj, rv_cstring(segments[i]), wrapped) < 0) {
			rv_unref(obj);
			return WD_ENOMEM;
		}
		wrapped = obj;
	}
	if (!rv_is(wrapped, RV_OBJECT)) {
		fprintf(stderr, "warden policy: %s: data at the root must be an object\n", file);
		rv_unref(wrapped);
		return WD_EINVAL;
	}
	merged = merge_objects(load->data, wrapped, &conflict);
	rv_unref(wrapped);
	if (!merged) {
		if (conflict)
			fprintf(stderr, "warden policy: %s: merge error: its data overlaps data "
					"loaded before\n", file);
		return conflict ? WD_EINVAL : WD_ENOMEM;
	}
	rv_unref(load->data);
	load->data = merged;
	return 0;
}

static int add_module(struct policy_load *load, const char *path, struct rego_errors *errs)
{
	uint8_t *text = NULL;
	size_t len = 0;
	struct wd_error ferr;
	int rc;

	if (wd_file_read(path, POLICY_MODULE_MAX, &text, &len, &ferr) < 0) {
		fprintf(stderr, "warden policy: cannot read %s: %s\n", path, wd_error_text(&ferr));
		return WD_EIO;
	}
	rc = rego_builder_add_module(load->builder, path, (const char *)text, len, errs);
	free(text);
	if (rc == 0)
		load->module_count++;
	return rc;
}

/* Loads a file found while walking: modules always, data only from files
 * named data.json or data.yaml (data.yml), placed at the directory path. */
static int load_walked_file(struct policy_load *load, const char *path, const char *name,
			    char *const *segments, size_t count, struct rego_errors *errs)
{
	struct rv *doc;

	if (has_suffix(name, ".rego"))
		return add_module(load, path, errs);
	if (strcmp(name, "data.json") && strcmp(name, "data.yaml") && strcmp(name, "data.yml"))
		return 0;
	doc = policy_read_document(path);
	if (!doc)
		return WD_EINVAL;
	return add_data(load, doc, segments, count, path);
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Walks dir in name order; segments are the directory names below the
 * root the user gave. */
static int walk(struct policy_load *load, const char *dir, char **segments, size_t depth,
		struct rego_errors *errs)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t count = 0;
	int rc = 0;

	if (depth >= WALK_MAX_DEPTH) {
		fprintf(stderr, "warden policy: %s: directories nested deeper than %d levels\n",
			dir, WALK_MAX_DEPTH);
		return WD_ETOOBIG;
	}
	d = opendir(dir);
	if (!d) {
		fprintf(stderr, "warden policy: cannot open %s: %s\n", dir, strerror(errno));
		return WD_EIO;
	}
	while ((de = readdir(d))) {
		char **grown;

		if (de->d_name[0] == '.')
			continue;
		grown = wd_reallocarray(names, count + 1, sizeof(*names));
		if (!grown || !(grown[count] = wd_strdup(de->d_name))) {
			names = grown ? grown : names;
			rc = WD_ENOMEM;
			break;
		}
		names = grown;
		count++;
	}
	closedir(d);
	if (rc == 0)
		qsort(names, count, sizeof(*names), compare_names);

	for (size_t i = 0; rc == 0 && i < count; i++) {
		char *path = NULL;
		struct stat st;

		if (asprintf(&path, "%s/%s", dir, names[i]) < 0) {
			rc = WD_ENOMEM;
			break;
		}
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			segments[depth] = names[i];
			rc = walk(load, path, segments, depth + 1, errs);
		} else if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			rc = load_walked_file(load, path, names[i], segments, depth, errs);
		}
		free(path);
	}
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
	return rc;
}

static int load_path(struct policy_load *load, const char *path, struct rego_errors *errs)
{
	char *segments[WALK_MAX_DEPTH];
	struct stat st;
	struct rv *doc;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "warden policy: cannot read %s: %s\n", path, strerror(errno));
		return WD_ENOTFOUND;
	}
	if (S_ISDIR(st.st_mode))
		return walk(load, path, segments, 0, errs);
	if (has_suffix(path, ".rego"))
		return add_module(load, path, errs);
	if (has_suffix(path, ".json") || is_yaml_name(path)) {
		doc = policy_read_document(path);
		if (!doc)
			return WD_EINVAL;
		return add_data(load, doc, NULL, 0, path);
	}
	/* Any other file named on the command line is taken as Rego. */
	return add_module(load, path, errs);
}

int policy_load_paths(struct policy_load *load, char *const *paths, size_t count,
		      struct rego_errors *errs)
{
	int rc = 0;

	if (!load->builder)
		load->builder = rego_builder_new(NULL);
	if (!load->data)
		load->data = rv_object_new(0);
	if (!load->builder || !load->data) {
		fprintf(stderr, "warden policy: out of memory\n");
		return WD_ENOMEM;
	}
	for (size_t i = 0; i < count; i++) {
		int one = load_path(load, paths[i], errs);

		/* Parse errors of every file are collected before giving up, as
		 * `opa check` lists them all. */
		if (one < 0 && rc == 0)
			rc = one;
		if (one < 0 && one != WD_EINVAL)
			return one;
	}
	if (rc < 0)
		return rc;
	/* The builder freezes the document and frees it with the engine, so it
	 * gets the only reference. */
	rc = rego_builder_set_data(load->builder, WD_TAKE_PTR(load->data));
	if (rc < 0)
		fprintf(stderr, "warden policy: cannot set the data document: %s\n",
			wd_strerror(rc));
	return rc;
}

void policy_load_clear(struct policy_load *load)
{
	rego_builder_free(load->builder);
	rv_unref(load->data);
	memset(load, 0, sizeof(*load));
}

void policy_print_errors(FILE *out, const struct rego_errors *errs)
{
	size_t n = errs->len;

	if (n == 0) {
		fprintf(out, "1 error occurred: unknown error\n");
		return;
	}
	if (n == 1)
		fprintf(out, "1 error occurred: ");
	else
		fprintf(out, "%zu errors occurred:\n", n);
	for (size_t i = 0; i < n; i++) {
		const struct rego_error *e = &errs->items[i];

		if (e->file[0])
			fprintf(out, "%s:%u: %s: %s\n", e->file, e->row, e->code, e->message);
		else
			fprintf(out, "%s: %s\n", e->code, e->message);
	}
}
