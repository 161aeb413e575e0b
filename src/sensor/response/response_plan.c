/* The actions of each loaded rule: the union of its `warden:` sections, the
 * response file's items that name it, and those that name one of its tags. */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "sensor/response/response_priv.h"

struct plan_rule {
	const struct rules_rule *rule;
	unsigned actions;
};

struct response_plan {
	struct plan_rule *rules;       /* sorted by rule address, for bsearch */
	size_t count;
	unsigned all;
};

/* The place that first requested notify, named when no URL is set. */
struct origin {
	const char *file;
	size_t line;
};

static int compare_rule(const void *a, const void *b)
{
	const struct plan_rule *x = a;
	const struct plan_rule *y = b;

	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

static void note_notify(struct origin *origin, unsigned actions, const char *file, size_t line)
{
	if ((actions & RESPONSE_BIT(RESPONSE_NOTIFY)) && !origin->file) {
		origin->file = file;
		origin->line = line;
	}
}

/* Reads one `warden:` section: a mapping whose only key is `actions`. */
static int read_section(const struct rules_rule *rule, const struct rules_extension *section,
	unsigned *ret, struct wd_error *err)
{
	/* libyaml's getters take a mutable document but only read it. */
	yaml_document_t *doc = (yaml_document_t *)section->doc;
	const yaml_node_t *node = section->node;
	const yaml_node_t *actions;

	*ret = 0;
	if (node->type != YAML_MAPPING_NODE)
		return wd_error_set(err, WD_EINVAL, "%s:%zu: 'warden' of rule '%.64s' must be a "
			"mapping", section->file, node->start_mark.line + 1, rule->name);
	for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
		pair < node->data.mapping.pairs.top; pair++) {
		const yaml_node_t *key = yaml_document_get_node(doc, pair->key);
		const char *name = response_yaml_scalar(key);

		if (!name || strcmp(name, "actions"))
			return wd_error_set(err, WD_EINVAL, "%s:%zu: unknown key '%.64s' in 'warden' "
				"of rule '%.64s'", section->file, key->start_mark.line + 1,
				name ? name : "?", rule->name);
	}
	actions = response_yaml_get(doc, node, "actions");
	if (!actions)
		return 0;
	return response_actions_read(doc, actions, section->file, ret, err);
}

static bool rule_has_tag(const struct rules_rule *rule, const char *tag)
{
	for (size_t i = 0; i < rule->ntags; i++) {
		if (!strcmp(rule->tags[i], tag))
			return true;
	}
	return false;
}

/* Adds the actions of the response file's items to the plan's rules. */
static int apply_config(struct response_plan *plan, const struct response_config *config,
	struct origin *origin, struct wd_error *err)
{
	for (size_t e = 0; e < config->count; e++) {
		const struct response_entry *entry = &config->entries[e];
		bool found = false;

		for (size_t r = 0; r < plan->count; r++) {
			const struct rules_rule *rule = plan->rules[r].rule;
			bool match = entry->rule ? !strcmp(rule->name, entry->rule)
				: rule_has_tag(rule, entry->tag);

			if (match) {
				plan->rules[r].actions |= entry->actions;
				found = true;
			}
		}
		/* A name that no rule has is most likely misspelt, and the
		 * operator would lose the response without noticing. An unused
		 * tag is normal for a file shared between rule sets. */
		if (entry->rule && !found)
			return wd_error_set(err, WD_EINVAL, "%s:%zu: rule '%.64s' is not defined in "
				"the loaded rule files", config->file, entry->line, entry->rule);
		note_notify(origin, entry->actions, config->file, entry->line);
	}
	return 0;
}

int response_plan_build(const struct rules_set *set, const struct response_config *config,
	struct response_plan **ret_plan, struct wd_error *err)
{
	struct response_plan *plan = NULL;
	struct origin origin = { 0 };
	size_t count = rules_count(set);
	int rc = 0;

	*ret_plan = NULL;
	plan = calloc(1, sizeof(*plan));
	WD_ENSURE(plan, WD_ENOMEM);
	plan->rules = wd_calloc(count ? count : 1, sizeof(*plan->rules));
	WD_ENSURE(plan->rules, WD_ENOMEM);
	plan->count = count;

	for (size_t r = 0; r < count; r++) {
		const struct rules_rule *rule = rules_get(set, r);

		plan->rules[r].rule = rule;
		for (size_t s = 0; s < rule->nwarden; s++) {
			unsigned actions;

			WD_GUARD(read_section(rule, &rule->warden[s], &actions, err));
			plan->rules[r].actions |= actions;
			note_notify(&origin, actions, rule->warden[s].file,
				rule->warden[s].node->start_mark.line + 1);
		}
	}
	if (config)
		WD_GUARD(apply_config(plan, config, &origin, err));
	if (origin.file && !(config && config->notify.url)) {
		rc = wd_error_set(err, WD_EINVAL, "%s:%zu: notify needs a webhook: set notify.url "
			"in a response file (--responses FILE)", origin.file, origin.line);
		goto out;
	}

	for (size_t r = 0; r < count; r++)
		plan->all |= plan->rules[r].actions;
	qsort(plan->rules, count, sizeof(*plan->rules), compare_rule);
	*ret_plan = WD_TAKE_PTR(plan);
out:
	if (rc == WD_ENOMEM)
		wd_error_set(err, rc, "out of memory");
	response_plan_free(plan);
	return rc;
}

unsigned response_plan_actions(const struct response_plan *plan, const struct rules_rule *rule)
{
	struct plan_rule key = { .rule = rule };
	const struct plan_rule *found;

	if (!plan || !plan->count)
		return 0;
	found = bsearch(&key, plan->rules, plan->count, sizeof(key), compare_rule);
	return found ? found->actions : 0;
}

unsigned response_plan_all(const struct response_plan *plan)
{
	return plan ? plan->all : 0;
}

void response_plan_free(struct response_plan *plan)
{
	if (!plan)
		return;
	free(plan->rules);
	free(plan);
}
