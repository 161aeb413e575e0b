/* The paths of open events the loaded rules can match, for the sensor's
 * filter in the kernel. Each rule that matches open events gives prefixes
 * and suffixes: whenever its condition is true, fd.name starts with one of
 * the prefixes or ends with one of the suffixes. A rule whose condition allows an open of any path (no fd.name
 * check, or one this reasoning cannot bound) turns the filter off. */
#include <stdlib.h>
#include <string.h>

#include "common/macros.h"
#include "sensor/rules/rules.h"

/* The bound a condition puts on fd.name of an open event. */
enum path_kind {
	PATHS_NONE,     /* false for every open the filter judges */
	PATHS_SOME,     /* true only when fd.name starts with a prefix or
	                 * ends with a suffix */
	PATHS_ANY,      /* may be true for any path */
};

struct strings {
	char **items;
	size_t count;
};

struct path_set {
	enum path_kind kind;
	struct strings prefixes;
	struct strings suffixes;
};

static const char *const open_types[] = { "open", "openat", "openat2", "creat" };

static bool is_open_type(const char *name)
{
	for (size_t i = 0; i < WD_ARRAY_LEN(open_types); i++)
		if (!strcmp(name, open_types[i]))
			return true;
	return false;
}

static void strings_clear(struct strings *list)
{
	for (size_t i = 0; i < list->count; i++)
		free(list->items[i]);
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

static void path_set_clear(struct path_set *set)
{
	strings_clear(&set->prefixes);
	strings_clear(&set->suffixes);
}

static size_t path_set_size(const struct path_set *set)
{
	return set->prefixes.count + set->suffixes.count;
}

/* Appends the first len bytes of text, and a slash after them when slash
 * is set. WD_ENOMEM. */
static int strings_add(struct strings *list, const char *text, size_t len, bool slash)
{
	char **grown = realloc(list->items, (list->count + 1) * sizeof(*grown));
	char *copy;

	if (!grown)
		return WD_ENOMEM;
	list->items = grown;
	copy = malloc(len + 2);
	if (!copy)
		return WD_ENOMEM;
	memcpy(copy, text, len);
	copy[len] = '/';
	copy[len + (slash ? 1 : 0)] = '\0';
	list->items[list->count++] = copy;
	return 0;
}

/* Moves every item of from to the end of to. */
static int strings_take(struct strings *to, struct strings *from)
{
	char **grown;

	if (!from->count)
		return 0;
	grown = realloc(to->items, (to->count + from->count) * sizeof(*grown));
	if (!grown)
		return WD_ENOMEM;
	to->items = grown;
	memcpy(to->items + to->count, from->items, from->count * sizeof(*grown));
	to->count += from->count;
	free(from->items);
	from->items = NULL;
	from->count = 0;
	return 0;
}

static int path_set_take(struct path_set *to, struct path_set *from)
{
	if (from->kind != PATHS_SOME)
		return 0;
	to->kind = PATHS_SOME;
	WD_TRY(strings_take(&to->prefixes, &from->prefixes));
	return strings_take(&to->suffixes, &from->suffixes);
}

/* True when a raw path that contains text always passes the kernel's filter,
 * which lets through every path with "..", "/." or "//" in it. */
static bool passes_anyway(const char *text)
{
	return strstr(text, "..") || strstr(text, "/.") || strstr(text, "//");
}

/* The bytes of a glob pattern before its first wildcard or escape. */
static size_t glob_literal_len(const char *pattern)
{
	return strcspn(pattern, "*?[\\");
}

/* fd.filename = NAME or in (NAMES): the path ends with a slash and the
 * name. endswith on fd.name, fd.nameraw or fd.filename: the path ends with
 * the value. */
static int suffix_paths(const struct cond_node *node, bool filename, struct path_set *ret)
{
	bool whole = node->op != COND_OP_ENDSWITH;

	ret->kind = PATHS_NONE;
	for (size_t i = 0; i < node->nvalues; i++) {
		const char *value = node->values[i].text;
		size_t len = strlen(value);

		/* An empty value, or a file name with a slash: no bound that this
		 * code can vouch for, so the filter stays off. */
		if (len == 0 || (filename && strchr(value, '/'))) {
			path_set_clear(ret);
			ret->kind = PATHS_ANY;
			return 0;
		}
		ret->kind = PATHS_SOME;
		if (whole) {
			char *with_slash = malloc(len + 2);
			int rc;

			if (!with_slash)
				return WD_ENOMEM;
			with_slash[0] = '/';
			memcpy(with_slash + 1, value, len + 1);
			rc = strings_add(&ret->suffixes, with_slash, len + 1, false);
			free(with_slash);
			WD_TRY(rc);
		} else {
			WD_TRY(strings_add(&ret->suffixes, value, len, false));
		}
	}
	return 0;
}

/* Returns the bound of one comparison. On fd.name and fd.nameraw (the same
 * bytes for an absolute path the filter judges), =, in, startswith, pmatch
 * and a glob's literal head give prefixes. The same forms on fd.directory
 * give the directory, which a slash follows in the path. Suffixes come
 * from suffix_paths, and evt.type limits the events a rule matches. */
static int check_paths(const struct cond_node *node, struct path_set *ret)
{
	const char *field = node->lhs.field;
	bool directory = !strcmp(field, "fd.directory");
	bool name = !strcmp(field, "fd.name") || !strcmp(field, "fd.nameraw");
	bool filename = !strcmp(field, "fd.filename");

	ret->kind = PATHS_ANY;
	if (node->lhs.nxforms || node->rhs_field || node->lhs.arg)
		return 0;
	if (!strcmp(field, "evt.type") && (node->op == COND_OP_EQ || node->op == COND_OP_IN)) {
		ret->kind = PATHS_NONE;
		for (size_t i = 0; i < node->nvalues; i++)
			if (is_open_type(node->values[i].text))
				ret->kind = PATHS_ANY;
		return 0;
	}
	if (!strcmp(field, "fd.nameraw") && node->op == COND_OP_CONTAINS) {
		for (size_t i = 0; i < node->nvalues; i++)
			if (!passes_anyway(node->values[i].text))
				return 0;
		ret->kind = PATHS_NONE;
		return 0;
	}
	if ((filename && (node->op == COND_OP_EQ || node->op == COND_OP_IN)) ||
	    ((filename || name) && node->op == COND_OP_ENDSWITH))
		return suffix_paths(node, filename, ret);
	if (!name && !directory)
		return 0;
	switch (node->op) {
	case COND_OP_EQ:
	case COND_OP_IN:
	case COND_OP_STARTSWITH:
	case COND_OP_PMATCH:
	case COND_OP_GLOB:
		break;
	default:
		return 0;
	}
	ret->kind = PATHS_NONE;
	for (size_t i = 0; i < node->nvalues; i++) {
		const char *value = node->values[i].text;
		size_t len = node->op == COND_OP_GLOB ? glob_literal_len(value) : strlen(value);
		bool slash;

		/* A value that is not an absolute path bounds nothing the kernel
		 * compares. */
		if (len == 0 || value[0] != '/') {
			path_set_clear(ret);
			ret->kind = PATHS_ANY;
			return 0;
		}
		ret->kind = PATHS_SOME;
		/* fd.directory = /etc is true for /etc/shadow, so the path goes on
		 * with a slash, except below the root directory. */
		slash = directory && node->op != COND_OP_STARTSWITH && node->op != COND_OP_PMATCH &&
			strcmp(value, "/") != 0;
		WD_TRY(strings_add(&ret->prefixes, value, len, slash));
	}
	return 0;
}

static int node_paths(const struct cond_node *node, struct path_set *ret);

/* and: every part is true, so the smallest bounded part bounds the whole. */
static int and_paths(const struct cond_node *node, struct path_set *ret)
{
	ret->kind = PATHS_ANY;
	for (size_t i = 0; i < node->nkids; i++) {
		struct path_set kid = { 0 };

		WD_TRY(node_paths(node->kids[i], &kid));
		if (kid.kind == PATHS_NONE) {
			path_set_clear(ret);
			ret->kind = PATHS_NONE;
			return 0;
		}
		if (kid.kind == PATHS_SOME &&
		    (ret->kind == PATHS_ANY || path_set_size(&kid) < path_set_size(ret))) {
			path_set_clear(ret);
			*ret = kid;
			continue;
		}
		path_set_clear(&kid);
	}
	return 0;
}

/* or: any part may be true, so the union bounds it, unless one part is
 * unbounded. */
static int or_paths(const struct cond_node *node, struct path_set *ret)
{
	ret->kind = PATHS_NONE;
	for (size_t i = 0; i < node->nkids; i++) {
		struct path_set kid = { 0 };
		int rc;

		WD_TRY(node_paths(node->kids[i], &kid));
		if (kid.kind == PATHS_ANY) {
			path_set_clear(ret);
			ret->kind = PATHS_ANY;
			return 0;
		}
		rc = path_set_take(ret, &kid);
		path_set_clear(&kid);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int node_paths(const struct cond_node *node, struct path_set *ret)
{
	int rc;

	memset(ret, 0, sizeof(*ret));
	switch (node->kind) {
	case COND_AND:
		rc = and_paths(node, ret);
		break;
	case COND_OR:
		rc = or_paths(node, ret);
		break;
	case COND_CHECK:
		rc = check_paths(node, ret);
		break;
	default:
		/* not: a false part puts no bound on the path. */
		ret->kind = PATHS_ANY;
		rc = 0;
		break;
	}
	if (rc < 0)
		path_set_clear(ret);
	return rc;
}

static bool matches_opens(const struct rules_rule *rule)
{
	if (rule->status != RULES_LOADED)
		return false;
	if (rule->any_evttype)
		return true;
	for (size_t i = 0; i < rule->nevttypes; i++)
		if (is_open_type(rule->evttypes[i]))
			return true;
	return false;
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts the prefixes and drops each one that a shorter one already covers. */
static void keep_covering(struct strings *prefixes)
{
	size_t kept_count = 0;

	/* qsort must not see the NULL array of an empty list. */
	if (prefixes->count < 2)
		return;
	qsort(prefixes->items, prefixes->count, sizeof(*prefixes->items), compare_strings);
	for (size_t i = 0; i < prefixes->count; i++) {
		char *prefix = prefixes->items[i];

		if (kept_count && !strncmp(prefix, prefixes->items[kept_count - 1],
			    strlen(prefixes->items[kept_count - 1]))) {
			free(prefix);
			continue;
		}
		prefixes->items[kept_count++] = prefix;
	}
	prefixes->count = kept_count;
}

/* Sorts the suffixes and drops repeats. */
static void keep_unique(struct strings *suffixes)
{
	size_t kept_count = 0;

	if (suffixes->count < 2)
		return;
	qsort(suffixes->items, suffixes->count, sizeof(*suffixes->items), compare_strings);
	for (size_t i = 0; i < suffixes->count; i++) {
		if (kept_count && !strcmp(suffixes->items[i], suffixes->items[kept_count - 1])) {
			free(suffixes->items[i]);
			continue;
		}
		suffixes->items[kept_count++] = suffixes->items[i];
	}
	suffixes->count = kept_count;
}

int rules_open_paths(const struct rules_set *set, struct rules_open_paths *ret,
	struct wd_error *err)
{
	struct path_set all = { .kind = PATHS_NONE };

	memset(ret, 0, sizeof(*ret));
	for (size_t i = 0; i < rules_count(set); i++) {
		const struct rules_rule *rule = rules_get(set, i);
		struct path_set paths;
		int rc;

		if (!matches_opens(rule))
			continue;
		ret->matches_opens = true;
		if (node_paths(rule->ast, &paths) < 0)
			goto nomem;
		if (paths.kind == PATHS_ANY) {
			ret->any_rule = rule;
			path_set_clear(&all);
			return 0;
		}
		rc = path_set_take(&all, &paths);
		path_set_clear(&paths);
		if (rc < 0)
			goto nomem;
	}
	keep_covering(&all.prefixes);
	keep_unique(&all.suffixes);
	ret->prefixes = all.prefixes.items;
	ret->count = all.prefixes.count;
	ret->suffixes = all.suffixes.items;
	ret->suffix_count = all.suffixes.count;
	return 0;
nomem:
	path_set_clear(&all);
	return wd_error_set(err, WD_ENOMEM, "out of memory");
}

void rules_open_paths_free(struct rules_open_paths *paths)
{
	for (size_t i = 0; i < paths->count; i++)
		free(paths->prefixes[i]);
	free(paths->prefixes);
	for (size_t i = 0; i < paths->suffix_count; i++)
		free(paths->suffixes[i]);
	free(paths->suffixes);
	memset(paths, 0, sizeof(*paths));
}
