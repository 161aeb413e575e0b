/* Action names and the YAML list of actions that a `warden:` section and a
 * response file item share. */
#include <string.h>

#include "sensor/response/response_priv.h"

static const char *const action_names[RESPONSE_ACTION_COUNT] = {
	[RESPONSE_QUARANTINE] = "quarantine",
	[RESPONSE_KILL] = "kill",
	[RESPONSE_REVOKE] = "revoke",
	[RESPONSE_NOTIFY] = "notify",
};

int response_action_parse(const char *name, enum response_action *ret)
{
	for (size_t i = 0; i < RESPONSE_ACTION_COUNT; i++) {
		if (!strcmp(name, action_names[i])) {
			*ret = (enum response_action)i;
			return 0;
		}
	}
	return WD_EINVAL;
}

const char *response_action_name(enum response_action action)
{
	return (unsigned)action < RESPONSE_ACTION_COUNT ? action_names[action] : "unknown";
}

const char *response_yaml_scalar(const yaml_node_t *node)
{
	return node && node->type == YAML_SCALAR_NODE ? (const char *)node->data.scalar.value : NULL;
}

yaml_node_t *response_yaml_get(yaml_document_t *doc, const yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *pair = map->data.mapping.pairs.start;
		pair < map->data.mapping.pairs.top; pair++) {
		const char *name = response_yaml_scalar(yaml_document_get_node(doc, pair->key));

		if (name && !strcmp(name, key))
			return yaml_document_get_node(doc, pair->value);
	}
	return NULL;
}

int response_actions_read(yaml_document_t *doc, const yaml_node_t *node, const char *file,
	unsigned *ret, struct wd_error *err)
{
	unsigned mask = 0;

	if (!node || node->type != YAML_SEQUENCE_NODE)
		return wd_error_set(err, WD_EINVAL, "%s:%zu: 'actions' must be a sequence of "
			"kill, quarantine, revoke or notify", file,
			node ? node->start_mark.line + 1 : 1);
	for (yaml_node_item_t *item = node->data.sequence.items.start;
		item < node->data.sequence.items.top; item++) {
		const yaml_node_t *value = yaml_document_get_node(doc, *item);
		const char *name = response_yaml_scalar(value);
		enum response_action action;

		if (!name || response_action_parse(name, &action) < 0)
			return wd_error_set(err, WD_EINVAL, "%s:%zu: unknown action '%.64s': expected "
				"kill, quarantine, revoke or notify", file,
				value ? value->start_mark.line + 1 : node->start_mark.line + 1,
				name ? name : "(not a string)");
		mask |= RESPONSE_BIT(action);
	}
	*ret = mask;
	return 0;
}
