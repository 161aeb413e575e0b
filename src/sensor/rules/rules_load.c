/* Reads Falco rule files: a YAML sequence of list, macro and rule items,
 * each of which may append to or override an item defined before it. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/file.h"
#include "sensor/rules/rules_priv.h"

/* The state of a load in progress: the file, its document and the error. */
struct load {
	struct rules_set *set;
	const char *file;
	yaml_document_t *doc;
	struct wd_error *err;
};

static int fail(struct load *ld, const yaml_node_t *node, int code, const char *fmt, ...)
	WD_PRINTF(4, 5);

static int fail(struct load *ld, const yaml_node_t *node, int code, const char *fmt, ...)
{
	char reason[400];
	va_list args;

	va_start(args, fmt);
	vsnprintf(reason, sizeof(reason), fmt, args);
	va_end(args);
	return wd_error_set(ld->err, code, "%s:%zu: %s", ld->file,
		node ? node->start_mark.line + 1 : 1, reason);
}

static const char *scalar(const yaml_node_t *node)
{
	return node && node->type == YAML_SCALAR_NODE ? (const char *)node->data.scalar.value : NULL;
}

static yaml_node_t *map_get(struct load *ld, const yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *pair = map->data.mapping.pairs.start;
		pair < map->data.mapping.pairs.top; pair++) {
		const char *k = scalar(yaml_document_get_node(ld->doc, pair->key));

		if (k && !strcmp(k, key))
			return yaml_document_get_node(ld->doc, pair->value);
	}
	return NULL;
}

static size_t seq_len(const yaml_node_t *node)
{
	return (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
}

static yaml_node_t *seq_at(struct load *ld, const yaml_node_t *node, size_t i)
{
	return yaml_document_get_node(ld->doc, node->data.sequence.items.start[i]);
}

/* A required or optional string key of an item. */
static int get_text(struct load *ld, const yaml_node_t *item, const char *key, bool required,
	const char **ret)
{
	yaml_node_t *value = map_get(ld, item, key);

	*ret = NULL;
	if (!value) {
		if (required)
			return fail(ld, item, WD_EINVAL, "item lacks '%s'", key);
		return 0;
	}
	if (!scalar(value))
		return fail(ld, value, WD_EINVAL, "'%s' must be a string", key);
	*ret = scalar(value);
	return 0;
}

static int get_bool(struct load *ld, const yaml_node_t *value, bool *ret)
{
	const char *text = scalar(value);

	if (text && (!strcasecmp(text, "true") || !strcasecmp(text, "yes"))) {
		*ret = true;
		return 0;
	}
	if (text && (!strcasecmp(text, "false") || !strcasecmp(text, "no"))) {
		*ret = false;
		return 0;
	}
	return fail(ld, value, WD_EINVAL, "expected true or false, got '%.64s'", text ? text : "?");
}

static int set_text(struct load *ld, char **field, const char *text)
{
	char *copy = wd_strdup(text);

	if (!copy)
		return wd_error_set(ld->err, WD_ENOMEM, "out of memory");
	free(*field);
	*field = copy;
	return 0;
}

/* Appends text after a space, as Falco pastes appended conditions. */
static int append_text(struct load *ld, const yaml_node_t *node, char **field, const char *text)
{
	size_t a = *field ? strlen(*field) : 0;
	size_t b = strlen(text);
	char *joined;

	if (a + b + 2 > COND_MAX_TEXT)
		return fail(ld, node, WD_ETOOBIG, "appended text longer than %u bytes", COND_MAX_TEXT);
	joined = malloc(a + b + 2);
	if (!joined)
		return wd_error_set(ld->err, WD_ENOMEM, "out of memory");
	snprintf(joined, a + b + 2, "%s%s%s", *field ? *field : "", a ? " " : "", text);
	free(*field);
	*field = joined;
	return 0;
}

/* The change an item makes to an earlier one of the same name. */
enum how { HOW_DEFINE, HOW_APPEND, HOW_REPLACE };

struct mode {
	bool legacy_append;
	bool overriding;
	const yaml_node_t *override;
};

static int read_mode(struct load *ld, const yaml_node_t *item, const char *const *keys,
	struct mode *ret)
{
	yaml_node_t *append = map_get(ld, item, "append");
	yaml_node_t *override = map_get(ld, item, "override");

	memset(ret, 0, sizeof(*ret));
	if (append)
		WD_TRY(get_bool(ld, append, &ret->legacy_append));
	if (!override)
		return 0;
	if (override->type != YAML_MAPPING_NODE)
		return fail(ld, override, WD_EINVAL, "'override' must be a mapping");
	for (yaml_node_pair_t *pair = override->data.mapping.pairs.start;
		pair < override->data.mapping.pairs.top; pair++) {
		const char *key = scalar(yaml_document_get_node(ld->doc, pair->key));
		const char *value = scalar(yaml_document_get_node(ld->doc, pair->value));
		bool known = false;

		for (size_t i = 0; keys[i]; i++)
			known = known || (key && !strcmp(key, keys[i]));
		if (!known)
			return fail(ld, override, WD_EINVAL, "'override' cannot change '%.64s'",
				key ? key : "?");
		if (!value || (strcmp(value, "append") && strcmp(value, "replace")))
			return fail(ld, override, WD_EINVAL,
				"override of '%s' must be append or replace, got '%.64s'", key,
				value ? value : "?");
	}
	ret->overriding = true;
	ret->override = override;
	return 0;
}

static enum how key_how(struct load *ld, const struct mode *m, const char *key)
{
	const char *value;

	if (m->legacy_append)
		return HOW_APPEND;
	if (!m->overriding)
		return HOW_DEFINE;
	value = scalar(map_get(ld, m->override, key));
	if (!value)
		return HOW_DEFINE;
	return !strcmp(value, "append") ? HOW_APPEND : HOW_REPLACE;
}

/* --- lists --- */

static int list_push(struct load *ld, const yaml_node_t *at, struct rules_list *list,
	const char *item)
{
	char **items;

	if (list->count >= RULES_MAX_LIST_ITEMS)
		return fail(ld, at, WD_ETOOBIG, "list '%.64s' has more than %d items", list->name,
			RULES_MAX_LIST_ITEMS);
	items = wd_reallocarray(list->items, list->count + 1, sizeof(*items));
	if (!items)
		return wd_error_set(ld->err, WD_ENOMEM, "out of memory");
	list->items = items;
	items[list->count] = wd_strdup(item);
	if (!items[list->count])
		return wd_error_set(ld->err, WD_ENOMEM, "out of memory");
	list->count++;
	return 0;
}

static void list_clear(struct rules_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		free(list->items[i]);
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

/* Adds the items of a YAML sequence, expanding names of earlier lists. */
static int list_fill(struct load *ld, struct rules_list *list, const yaml_node_t *items)
{
	if (items->type != YAML_SEQUENCE_NODE)
		return fail(ld, items, WD_EINVAL, "'items' of list '%.64s' must be a sequence",
			list->name);
	for (size_t i = 0; i < seq_len(items); i++) {
		const yaml_node_t *node = seq_at(ld, items, i);
		const char *text = scalar(node);
		const struct rules_list *earlier;

		if (!text)
			return fail(ld, node, WD_EINVAL, "items of list '%.64s' must be strings",
				list->name);
		earlier = rules_list_find(ld->set, text);
		if (earlier && earlier != list) {
			for (size_t j = 0; j < earlier->count; j++)
				WD_TRY(list_push(ld, node, list, earlier->items[j]));
		} else {
			WD_TRY(list_push(ld, node, list, text));
		}
	}
	return 0;
}

static bool item_room(const struct rules_set *set)
{
	return set->nlists + set->nmacros + set->nrules < RULES_MAX_ITEMS;
}

static int load_list(struct load *ld, const yaml_node_t *item)
{
	static const char *const keys[] = { "items", NULL };
	const char *name;
	yaml_node_t *items = map_get(ld, item, "items");
	struct rules_list *list;
	struct mode m;
	enum how how;

	WD_TRY(get_text(ld, item, "list", true, &name));
	WD_TRY(read_mode(ld, item, keys, &m));
	if (!items)
		return fail(ld, item, WD_EINVAL, "list '%.64s' lacks 'items'", name);
	how = key_how(ld, &m, "items");
	list = rules_list_find(ld->set, name);

	if ((m.legacy_append || m.overriding) && !list)
		return fail(ld, item, WD_EINVAL, "list '%.64s' changes no earlier list of that name",
			name);
	if (!list) {
		struct rules_list *lists;

		if (!item_room(ld->set))
			return fail(ld, item, WD_ETOOBIG, "more than %d items", RULES_MAX_ITEMS);
		lists = wd_reallocarray(ld->set->lists, ld->set->nlists + 1, sizeof(*lists));
		if (!lists)
			return wd_error_set(ld->err, WD_ENOMEM, "out of memory");
		ld->set->lists = lists;
		list = &lists[ld->set->nlists];
		memset(list, 0, sizeof(*list));
		list->name = wd_strdup(name);
		if (!list->name)
			return wd_error_set(ld->err, WD_ENOMEM, "out of memory");
		ld->set->nlists++;
	}
	if (how != HOW_APPEND)
		list_clear(list);
	return list_fill(ld, list, items);
}

/* --- macros --- */

static int load_macro(struct load *ld, const yaml_node_t *item)
{
	static const char *const keys[] = { "condition", NULL };
	const char *name;
	const char *condition;
	struct rules_macro *macro;
	struct mode m;

	WD_TRY(get_text(ld, item, "macro", true, &name));
	WD_TRY(get_text(ld, item, "condition", true, &condition));
	WD_TRY(read_mode(ld, item, keys, &m));
	macro = rules_macro_find(ld->set, name);

	if ((m.legacy_append || m.overriding) && !macro)
		return fail(ld, item, WD_EINVAL, "macro '%.64s' changes no earlier macro of that name",
			name);
	if (macro && key_how(ld, &m, "condition") == HOW_APPEND)
		return append_text(ld, item, &macro->condition, condition);
	if (!macro) {
		struct rules_macro *macros;

		if (!item_room(ld->set))
			return fail(ld, item, WD_ETOOBIG, "more than %d items", RULES_MAX_ITEMS);
		macros = wd_reallocarray(ld->set->macros, ld->set->nmacros + 1, sizeof(*macros));
		if (!macros)
			return wd_error_set(ld->err, WD_ENOMEM, "out of memory");
		ld->set->macros = macros;
		macro = &macros[ld->set->nmacros];
		memset(macro, 0, sizeof(*macro));
		WD_TRY(set_text(ld, &macro->name, name));
		ld->set->nmacros++;
	}
	return set_text(ld, &macro->condition, condition);
}

/* --- rules --- */

static int tags_set(struct load *ld, struct rules_rule *rule, const yaml_node_t *tags, bool append)
{
	if (tags->type != YAML_SEQUENCE_NODE)
		return fail(ld, tags, WD_EINVAL, "'tags' of rule '%.64s' must be a sequence", rule->name);
	if (!append) {
		for (size_t i = 0; i < rule->ntags; i++)
			free(rule->tags[i]);
		rule->ntags = 0;
	}
	for (size_t i = 0; i < seq_len(tags); i++) {
		const yaml_node_t *node = seq_at(ld, tags, i);
		char **grown;

		if (!scalar(node))
			return fail(ld, node, WD_EINVAL, "tags must be strings");
		if (rule->ntags >= RULES_MAX_LIST_ITEMS)
			return fail(ld, node, WD_ETOOBIG, "too many tags");
		grown = wd_reallocarray(rule->tags, rule->ntags + 1, sizeof(*grown));
		if (!grown)
			return wd_error_set(ld->err, WD_ENOMEM, "out of memory");
		rule->tags = grown;
		grown[rule->ntags] = wd_strdup(scalar(node));
		if (!grown[rule->ntags])
			return wd_error_set(ld->err, WD_ENOMEM, "out of memory");
		rule->ntags++;
	}
	return 0;
}

static void exceptions_clear(struct rules_rule *rule)
{
	for (size_t i = 0; i < rule->nexceptions; i++) {
		free(rule->exceptions[i].name);
		free(rule->exceptions[i].values);
	}
	free(rule->exceptions);
	rule->exceptions = NULL;
	rule->nexceptions = 0;
}

static int values_add(struct load *ld, struct rules_exception *exc, const yaml_node_t *values)
{
	struct rules_xvalue *grown;
	size_t n;

	if (values->type != YAML_SEQUENCE_NODE)
		return fail(ld, values, WD_EINVAL, "'values' of exception '%.64s' must be a sequence",
			exc->name);
	n = seq_len(values);
	if (n > RULES_MAX_LIST_ITEMS || exc->nvalues > RULES_MAX_LIST_ITEMS - n)
		return fail(ld, values, WD_ETOOBIG, "too many exception values");
	grown = wd_reallocarray(exc->values, exc->nvalues + n + 1, sizeof(*grown));
	if (!grown)
		return wd_error_set(ld->err, WD_ENOMEM, "out of memory");
	exc->values = grown;
	for (size_t i = 0; i < n; i++)
		grown[exc->nvalues++] = (struct rules_xvalue){ seq_at(ld, values, i), ld->doc };
	return 0;
}

/* Reads `exceptions:`; with append, values of an exception with a known
 * name are added to it and others are new exceptions. */
static int exceptions_set(struct load *ld, struct rules_rule *rule, const yaml_node_t *list,
	bool append)
{
	if (list->type != YAML_SEQUENCE_NODE)
		return fail(ld, list, WD_EINVAL, "'exceptions' of rule '%.64s' must be a sequence",
			rule->name);
	if (!append)
		exceptions_clear(rule);
	for (size_t i = 0; i < seq_len(list); i++) {
		const yaml_node_t *node = seq_at(ld, list, i);
		const char *name = scalar(map_get(ld, node, "name"));
		const yaml_node_t *fields = map_get(ld, node, "fields");
		const yaml_node_t *values = map_get(ld, node, "values");
		struct rules_exception *exc = NULL;
		struct rules_exception *grown;

		if (!name)
			return fail(ld, node, WD_EINVAL, "exception of rule '%.64s' lacks 'name'",
				rule->name);
		for (size_t j = 0; j < rule->nexceptions; j++) {
			if (!strcmp(rule->exceptions[j].name, name))
				exc = &rule->exceptions[j];
		}
		if (!exc) {
			if (!fields)
				return fail(ld, node, WD_EINVAL, "exception '%.64s' lacks 'fields'", name);
			if (rule->nexceptions >= 1000)
				return fail(ld, node, WD_ETOOBIG, "too many exceptions");
			grown = wd_reallocarray(rule->exceptions, rule->nexceptions + 1, sizeof(*grown));
			if (!grown)
				return wd_error_set(ld->err, WD_ENOMEM, "out of memory");
			rule->exceptions = grown;
			exc = &grown[rule->nexceptions];
			memset(exc, 0, sizeof(*exc));
			exc->name = wd_strdup(name);
			if (!exc->name)
				return wd_error_set(ld->err, WD_ENOMEM, "out of memory");
			rule->nexceptions++;
			exc->fields = fields;
			exc->comps = map_get(ld, node, "comps");
			exc->doc = ld->doc;
			if (fields->type != YAML_SCALAR_NODE && fields->type != YAML_SEQUENCE_NODE)
				return fail(ld, fields, WD_EINVAL, "'fields' of exception '%.64s' must be a string or a sequence", name);
		}
		if (values)
			WD_TRY(values_add(ld, exc, values));
	}
	return 0;
}

/* Keeps a `warden:` section for the response module to read: appended
 * sections add to the earlier ones, others replace them. */
static int warden_set(struct load *ld, struct rules_rule *rule, const yaml_node_t *node,
	bool append)
{
	struct rules_extension *grown;

	if (!append)
		rule->nwarden = 0;
	if (rule->nwarden >= RULES_MAX_FILES)
		return fail(ld, node, WD_ETOOBIG, "rule '%.64s' has more than %d 'warden' sections",
			rule->name, RULES_MAX_FILES);
	grown = wd_reallocarray(rule->warden, rule->nwarden + 1, sizeof(*grown));
	if (!grown)
		return wd_error_set(ld->err, WD_ENOMEM, "out of memory");
	rule->warden = grown;
	grown[rule->nwarden++] = (struct rules_extension){ node, ld->doc, ld->file };
	return 0;
}

static int rule_new(struct load *ld, const yaml_node_t *item, const char *name,
	struct rules_rule **ret)
{
	struct rules_rule *rule = rules_rule_find(ld->set, name);

	if (rule) {
		/* A plain redefinition replaces the earlier rule in place. */
		rules_rule_clear(rule);
	} else {
		struct rules_rule *rules;

		if (!item_room(ld->set))
			return fail(ld, item, WD_ETOOBIG, "more than %d items", RULES_MAX_ITEMS);
		rules = wd_reallocarray(ld->set->rules, ld->set->nrules + 1, sizeof(*rules));
		if (!rules)
			return wd_error_set(ld->err, WD_ENOMEM, "out of memory");
		ld->set->rules = rules;
		rule = &rules[ld->set->nrules++];
	}
	memset(rule, 0, sizeof(*rule));
	rule->enabled = true;
	rule->file = ld->file;
	rule->line = item->start_mark.line + 1;
	WD_TRY(set_text(ld, &rule->name, name));
	WD_TRY(set_text(ld, &rule->source, "syscall"));
	*ret = rule;
	return 0;
}

static int rule_text_key(struct load *ld, const yaml_node_t *item, const struct mode *m,
	const char *key, char **field)
{
	const char *text;

	WD_TRY(get_text(ld, item, key, false, &text));
	if (!text)
		return 0;
	if (key_how(ld, m, key) == HOW_APPEND)
		return append_text(ld, item, field, text);
	return set_text(ld, field, text);
}

static int load_rule(struct load *ld, const yaml_node_t *item)
{
	static const char *const keys[] = { "condition", "output", "desc", "priority", "tags",
		"exceptions", "enabled", "warn_evttypes", "skip-if-unknown-filter", "capture",
		"capture_duration", "warden", NULL };
	const char *name;
	const char *priority;
	const yaml_node_t *enabled = map_get(ld, item, "enabled");
	const yaml_node_t *tags = map_get(ld, item, "tags");
	const yaml_node_t *exceptions = map_get(ld, item, "exceptions");
	const yaml_node_t *warden = map_get(ld, item, "warden");
	struct rules_rule *rule;
	struct mode m;

	WD_TRY(get_text(ld, item, "rule", true, &name));
	WD_TRY(read_mode(ld, item, keys, &m));
	rule = rules_rule_find(ld->set, name);

	if (m.legacy_append || m.overriding || (!map_get(ld, item, "condition") && enabled)) {
		/* Changes an earlier rule; a bare `enabled` is the old way of
		 * switching one on or off. */
		if (!rule)
			return fail(ld, item, WD_EINVAL, "rule '%.64s' changes no earlier rule of that name",
				name);
		if (m.overriding) {
			const char *how = scalar(map_get(ld, m.override, "priority"));

			if (how && !strcmp(how, "append"))
				return fail(ld, item, WD_EINVAL, "priority of rule '%.64s' can only be replaced",
					name);
		}
	} else {
		const char *required[] = { "condition", "output", "priority", "desc" };

		for (size_t i = 0; i < WD_ARRAY_LEN(required); i++) {
			if (!map_get(ld, item, required[i]))
				return fail(ld, item, WD_EINVAL, "rule '%.64s' lacks '%s'", name, required[i]);
		}
		WD_TRY(rule_new(ld, item, name, &rule));
	}

	WD_TRY(rule_text_key(ld, item, &m, "condition", &rule->condition));
	WD_TRY(rule_text_key(ld, item, &m, "output", &rule->output));
	WD_TRY(rule_text_key(ld, item, &m, "desc", &rule->desc));
	WD_TRY(get_text(ld, item, "priority", false, &priority));
	if (priority && rules_priority_parse(priority, &rule->priority) < 0)
		return fail(ld, map_get(ld, item, "priority"), WD_EINVAL,
			"rule '%.64s' has an unknown priority '%.64s'", name, priority);
	if (map_get(ld, item, "source")) {
		const char *source;

		WD_TRY(get_text(ld, item, "source", false, &source));
		WD_TRY(set_text(ld, &rule->source, source));
	}
	if (enabled)
		WD_TRY(get_bool(ld, enabled, &rule->enabled));
	if (tags)
		WD_TRY(tags_set(ld, rule, tags, key_how(ld, &m, "tags") == HOW_APPEND));
	if (exceptions)
		WD_TRY(exceptions_set(ld, rule, exceptions, key_how(ld, &m, "exceptions") == HOW_APPEND));
	if (warden)
		WD_TRY(warden_set(ld, rule, warden, key_how(ld, &m, "warden") == HOW_APPEND));
	return 0;
}

static int load_item(struct load *ld, const yaml_node_t *item)
{
	if (item->type != YAML_MAPPING_NODE)
		return fail(ld, item, WD_EINVAL, "an item must be a mapping");
	if (map_get(ld, item, "rule"))
		return load_rule(ld, item);
	if (map_get(ld, item, "macro"))
		return load_macro(ld, item);
	if (map_get(ld, item, "list"))
		return load_list(ld, item);
	/* Versions are for Falco's engine and plugins; this engine reports
	 * what it cannot run rule by rule instead. */
	if (map_get(ld, item, "required_engine_version") ||
		map_get(ld, item, "required_plugin_versions"))
		return 0;
	return fail(ld, item, WD_EINVAL, "unknown item: expected rule, macro or list");
}

int rules_load_buffer(struct rules_set *set, const char *name, const char *data, size_t len,
	struct wd_error *err)
{
	yaml_parser_t parser;
	struct load ld = { .set = set, .err = err };
	yaml_node_t *root;
	int rc = 0;

	if (set->nfiles >= RULES_MAX_FILES)
		return wd_error_set(err, WD_ETOOBIG, "%s: more than %d rule files", name, RULES_MAX_FILES);
	if (len > RULES_MAX_FILE_BYTES)
		return wd_error_set(err, WD_ETOOBIG, "%s: larger than %u bytes", name,
			RULES_MAX_FILE_BYTES);
	set->files[set->nfiles] = wd_strdup(name);
	if (!set->files[set->nfiles])
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	ld.file = set->files[set->nfiles];
	ld.doc = &set->docs[set->nfiles];

	if (!yaml_parser_initialize(&parser))
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	if (!yaml_parser_load(&parser, ld.doc)) {
		rc = wd_error_set(err, WD_EINVAL, "%s:%zu: %s", name, parser.problem_mark.line + 1,
			parser.problem ? parser.problem : "invalid YAML");
		yaml_parser_delete(&parser);
		free(set->files[set->nfiles]);
		set->files[set->nfiles] = NULL;
		return rc;
	}
	yaml_parser_delete(&parser);
	set->nfiles++;

	root = yaml_document_get_root_node(ld.doc);
	if (!root)
		return 0;
	if (root->type != YAML_SEQUENCE_NODE)
		return fail(&ld, root, WD_EINVAL, "a rules file must be a sequence of items");
	for (size_t i = 0; i < seq_len(root); i++)
		WD_TRY(load_item(&ld, seq_at(&ld, root, i)));
	return 0;
}

int rules_load_file(struct rules_set *set, const char *path, struct wd_error *err)
{
	_wd_cleanup_(wd_freep) uint8_t *data = NULL;
	size_t len = 0;

	WD_TRY(wd_file_read(path, RULES_MAX_FILE_BYTES, &data, &len, err));
	return rules_load_buffer(set, path, (const char *)data, len, err);
}
