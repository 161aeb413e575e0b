/* Reads a response file: `responses:`, a sequence of items that give the
 * actions of a rule name or a tag, and `notify:`, the webhook settings. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/file.h"
#include "sensor/response/response_priv.h"

/* The state of a parse in progress. */
struct parse {
	const char *file;
	yaml_document_t *doc;
	struct response_config *config;
	struct wd_error *err;
};

static int fail(struct parse *ps, const yaml_node_t *node, int code, const char *fmt, ...)
	WD_PRINTF(4, 5);

static int fail(struct parse *ps, const yaml_node_t *node, int code, const char *fmt, ...)
{
	char reason[400];
	va_list args;

	va_start(args, fmt);
	vsnprintf(reason, sizeof(reason), fmt, args);
	va_end(args);
	return wd_error_set(ps->err, code, "%s:%zu: %s", ps->file,
		node ? node->start_mark.line + 1 : 1, reason);
}

/* Rejects keys of map outside the NULL-terminated keys, so a misspelt key
 * is reported instead of silently ignored. */
static int check_keys(struct parse *ps, const yaml_node_t *map, const char *what,
	const char *const *keys)
{
	for (yaml_node_pair_t *pair = map->data.mapping.pairs.start;
		pair < map->data.mapping.pairs.top; pair++) {
		const yaml_node_t *node = yaml_document_get_node(ps->doc, pair->key);
		const char *key = response_yaml_scalar(node);
		bool known = false;

		for (size_t i = 0; key && keys[i]; i++)
			known = known || !strcmp(key, keys[i]);
		if (!known)
			return fail(ps, node, WD_EINVAL, "unknown key '%.64s' in %s", key ? key : "?",
				what);
	}
	return 0;
}

static int get_string(struct parse *ps, const yaml_node_t *map, const char *key, char **ret)
{
	const yaml_node_t *node = response_yaml_get(ps->doc, map, key);
	const char *text = response_yaml_scalar(node);

	if (!node)
		return 0;
	if (!text || !*text)
		return fail(ps, node, WD_EINVAL, "'%s' must be a non-empty string", key);
	*ret = wd_strdup(text);
	if (!*ret)
		return wd_error_set(ps->err, WD_ENOMEM, "out of memory");
	return 0;
}

static int get_number(struct parse *ps, const yaml_node_t *map, const char *key,
	unsigned long min, unsigned long max, unsigned long *ret)
{
	const yaml_node_t *node = response_yaml_get(ps->doc, map, key);
	const char *text = response_yaml_scalar(node);
	unsigned long value;
	char *end;

	if (!node)
		return 0;
	errno = 0;
	value = text && *text >= '0' && *text <= '9' ? strtoul(text, &end, 10) : 0;
	if (!text || *text < '0' || *text > '9' || *end || errno || value < min || value > max)
		return fail(ps, node, WD_EINVAL, "'%s' must be a number from %lu to %lu, got '%.64s'",
			key, min, max, text ? text : "?");
	*ret = value;
	return 0;
}

static int read_entry(struct parse *ps, const yaml_node_t *item)
{
	static const char *const keys[] = { "rule", "tag", "actions", NULL };
	struct response_config *config = ps->config;
	const yaml_node_t *actions = response_yaml_get(ps->doc, item, "actions");
	struct response_entry *entries;
	struct response_entry *entry;

	if (item->type != YAML_MAPPING_NODE)
		return fail(ps, item, WD_EINVAL, "an item of 'responses' must be a mapping");
	WD_TRY(check_keys(ps, item, "an item of 'responses'", keys));
	if (!response_yaml_get(ps->doc, item, "rule") == !response_yaml_get(ps->doc, item, "tag"))
		return fail(ps, item, WD_EINVAL, "an item of 'responses' needs exactly one of "
			"'rule' and 'tag'");
	if (!actions)
		return fail(ps, item, WD_EINVAL, "an item of 'responses' lacks 'actions'");
	if (config->count >= RESPONSE_MAX_ENTRIES)
		return fail(ps, item, WD_ETOOBIG, "more than %d items in 'responses'",
			RESPONSE_MAX_ENTRIES);

	entries = wd_reallocarray(config->entries, config->count + 1, sizeof(*entries));
	if (!entries)
		return wd_error_set(ps->err, WD_ENOMEM, "out of memory");
	config->entries = entries;
	entry = &entries[config->count++];
	memset(entry, 0, sizeof(*entry));
	entry->line = item->start_mark.line + 1;
	WD_TRY(get_string(ps, item, "rule", &entry->rule));
	WD_TRY(get_string(ps, item, "tag", &entry->tag));
	return response_actions_read(ps->doc, actions, ps->file, &entry->actions, ps->err);
}

/* Reads `deny_exec:`, a sequence of absolute paths. Whether each names an
 * executable is checked when the sensor adds it to the kernel's list. */
static int read_deny_exec(struct parse *ps, const yaml_node_t *list)
{
	struct response_config *config = ps->config;

	if (list->type != YAML_SEQUENCE_NODE)
		return fail(ps, list, WD_EINVAL, "'deny_exec' must be a sequence of paths");
	for (yaml_node_item_t *item = list->data.sequence.items.start;
		item < list->data.sequence.items.top; item++) {
		const yaml_node_t *node = yaml_document_get_node(ps->doc, *item);
		const char *path = response_yaml_scalar(node);
		struct response_deny_exec *paths;
		struct response_deny_exec *entry;

		if (!path || path[0] != '/')
			return fail(ps, node, WD_EINVAL, "'deny_exec' needs absolute paths, got '%.64s'",
				path ? path : "?");
		if (config->deny_exec_count >= RESPONSE_MAX_ENTRIES)
			return fail(ps, node, WD_ETOOBIG, "more than %d paths in 'deny_exec'",
				RESPONSE_MAX_ENTRIES);
		paths = wd_reallocarray(config->deny_exec, config->deny_exec_count + 1,
			sizeof(*paths));
		if (!paths)
			return wd_error_set(ps->err, WD_ENOMEM, "out of memory");
		config->deny_exec = paths;
		entry = &paths[config->deny_exec_count];
		entry->line = node->start_mark.line + 1;
		entry->path = wd_strdup(path);
		if (!entry->path)
			return wd_error_set(ps->err, WD_ENOMEM, "out of memory");
		config->deny_exec_count++;
	}
	return 0;
}

/* Checks that url is http:// or https:// with a host, and has no bytes that
 * could split the request line. */
static int check_url(struct parse *ps, const yaml_node_t *node, const char *url)
{
	const char *rest;

	if (!strncmp(url, "http://", 7))
		rest = url + 7;
	else if (!strncmp(url, "https://", 8))
		rest = url + 8;
	else
		return fail(ps, node, WD_EINVAL, "notify url '%.64s' must start with http:// or "
			"https://", url);
	if (strlen(url) > RESPONSE_MAX_URL)
		return fail(ps, node, WD_ETOOBIG, "notify url is longer than %d bytes",
			RESPONSE_MAX_URL);
	if (!*rest || *rest == '/' || *rest == ':')
		return fail(ps, node, WD_EINVAL, "notify url '%.64s' has no host", url);
	for (const char *p = url; *p; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return fail(ps, node, WD_EINVAL, "notify url '%.64s' contains a space or a "
				"control character", url);
	}
	return 0;
}

static int read_notify(struct parse *ps, const yaml_node_t *map)
{
	static const char *const keys[] = { "url", "ca", "timeout_ms", "queue", NULL };
	struct response_notify_config *notify = &ps->config->notify;
	unsigned long timeout = notify->timeout_ms;
	unsigned long queue = notify->queue_max;

	if (map->type != YAML_MAPPING_NODE)
		return fail(ps, map, WD_EINVAL, "'notify' must be a mapping");
	WD_TRY(check_keys(ps, map, "'notify'", keys));
	notify->line = map->start_mark.line + 1;
	WD_TRY(get_string(ps, map, "url", &notify->url));
	if (!notify->url)
		return fail(ps, map, WD_EINVAL, "'notify' lacks 'url'");
	WD_TRY(check_url(ps, response_yaml_get(ps->doc, map, "url"), notify->url));
	WD_TRY(get_string(ps, map, "ca", &notify->ca_file));
	WD_TRY(get_number(ps, map, "timeout_ms", 1, 600000, &timeout));
	WD_TRY(get_number(ps, map, "queue", 1, RESPONSE_NOTIFY_MAX_QUEUE, &queue));
	notify->timeout_ms = (unsigned)timeout;
	notify->queue_max = queue;
	return 0;
}

static int read_root(struct parse *ps, const yaml_node_t *root)
{
	static const char *const keys[] = { "responses", "notify", "deny_exec", NULL };
	const yaml_node_t *responses = response_yaml_get(ps->doc, root, "responses");
	const yaml_node_t *notify = response_yaml_get(ps->doc, root, "notify");
	const yaml_node_t *deny_exec = response_yaml_get(ps->doc, root, "deny_exec");

	if (root->type != YAML_MAPPING_NODE)
		return fail(ps, root, WD_EINVAL, "a response file must be a mapping with "
			"'responses', 'notify' and 'deny_exec'");
	WD_TRY(check_keys(ps, root, "the response file", keys));
	if (notify)
		WD_TRY(read_notify(ps, notify));
	if (deny_exec)
		WD_TRY(read_deny_exec(ps, deny_exec));
	if (!responses)
		return 0;
	if (responses->type != YAML_SEQUENCE_NODE)
		return fail(ps, responses, WD_EINVAL, "'responses' must be a sequence");
	for (yaml_node_item_t *item = responses->data.sequence.items.start;
		item < responses->data.sequence.items.top; item++)
		WD_TRY(read_entry(ps, yaml_document_get_node(ps->doc, *item)));
	return 0;
}

int response_config_parse(const char *name, const char *data, size_t len,
	struct response_config *ret, struct wd_error *err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct parse ps = { .doc = &doc, .config = ret, .err = err };
	const yaml_node_t *root;
	int rc;

	memset(ret, 0, sizeof(*ret));
	ret->notify.timeout_ms = RESPONSE_NOTIFY_DEFAULT_TIMEOUT_MS;
	ret->notify.queue_max = RESPONSE_NOTIFY_DEFAULT_QUEUE;
	if (len > RESPONSE_MAX_FILE_BYTES)
		return wd_error_set(err, WD_ETOOBIG, "%s: larger than %u bytes", name,
			RESPONSE_MAX_FILE_BYTES);
	ret->file = wd_strdup(name);
	if (!ret->file)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	ps.file = ret->file;

	if (!yaml_parser_initialize(&parser))
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = wd_error_set(err, WD_EINVAL, "%s:%zu: %s", name, parser.problem_mark.line + 1,
			parser.problem ? parser.problem : "invalid YAML");
		yaml_parser_delete(&parser);
		return rc;
	}
	yaml_parser_delete(&parser);
	root = yaml_document_get_root_node(&doc);
	rc = root ? read_root(&ps, root) : 0;
	yaml_document_delete(&doc);
	return rc;
}

int response_config_load(const char *path, struct response_config *ret, struct wd_error *err)
{
	_wd_cleanup_(wd_freep) uint8_t *data = NULL;
	size_t len = 0;

	memset(ret, 0, sizeof(*ret));
	WD_TRY(wd_file_read(path, RESPONSE_MAX_FILE_BYTES, &data, &len, err));
	return response_config_parse(path, (const char *)data, len, ret, err);
}

void response_config_clear(struct response_config *config)
{
	for (size_t i = 0; i < config->count; i++) {
		free(config->entries[i].rule);
		free(config->entries[i].tag);
	}
	free(config->entries);
	for (size_t i = 0; i < config->deny_exec_count; i++)
		free(config->deny_exec[i].path);
	free(config->deny_exec);
	free(config->notify.url);
	free(config->notify.ca_file);
	free(config->file);
	memset(config, 0, sizeof(*config));
}
