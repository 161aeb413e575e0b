/* The paths an engine's rules own under data, so that writers of the base
 * document can refuse them, as OPA's server does. */
#include <stdio.h>
#include <string.h>

#include "policy/compile.h"
#include "policy/policy.h"

static bool node_has_rules(const struct cnode *node)
{
	return node->rules_len > 0 || node->default_rule;
}

static const struct cnode *child_named(const struct cnode *node, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < node->children_len; i++) {
		const struct rv *key = node->children[i]->key;

		if (rv_is(key, RV_STRING) && rv_str_len(key) == len &&
		    memcmp(rv_str(key), name, len) == 0)
			return node->children[i];
	}
	return NULL;
}

/* The first node with rules in the subtree, depth first. */
static const struct cnode *first_rule_below(const struct cnode *node, unsigned depth)
{
	if (node_has_rules(node))
		return node;
	/* Rule heads are capped far below this; the bound only keeps a
	 * corrupt tree from recursing without end. */
	if (depth > 4096)
		return NULL;
	for (size_t i = 0; i < node->children_len; i++) {
		const struct cnode *found = first_rule_below(node->children[i], depth + 1);

		if (found)
			return found;
	}
	return NULL;
}

bool rego_engine_path_has_rules(const struct rego_engine *e, const char *const *path,
				size_t path_len, char *ret_rule, size_t rule_cap)
{
	const struct cnode *node = e->root;
	const struct cnode *owner = NULL;

	for (size_t i = 0; i < path_len && node; i++) {
		node = child_named(node, path[i]);
		if (node && node_has_rules(node)) {
			owner = node;
			break;
		}
	}
	if (!owner && node && path_len > 0)
		owner = first_rule_below(node, 0);
	if (!owner)
		return false;
	if (ret_rule && rule_cap)
		snprintf(ret_rule, rule_cap, "%s", owner->path ? owner->path : "data");
	return true;
}
