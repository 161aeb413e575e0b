/* METADATA blocks, second step: attaching each parsed block to the package,
 * import or rule after it, with OPA's scope checks and default scopes. */
#include <string.h>

#include "common/error.h"
#include "policy/parser_metadata.h"

static int put(struct rv *obj, const char *key, struct rv *value)
{
	struct rv *k = rv_cstring(key);

	if (!k) {
		rv_unref(value);
		return WD_ENOMEM;
	}
	return rv_object_put(obj, k, value);
}

enum meta_target_kind { MT_NONE, MT_PACKAGE, MT_IMPORT, MT_RULE };

struct meta_target {
	enum meta_target_kind kind;
	struct rego_rule *rule;
};

static const char *target_name(enum meta_target_kind kind)
{
	switch (kind) {
	case MT_PACKAGE: return "package";
	case MT_IMPORT: return "import";
	case MT_RULE: return "rule";
	default: return NULL;
	}
}

/* Checks the block's scope against its target as OPA's
 * validateAnnotationScopeAttachment and ...EntrypointAttachment do. */
static bool check_scope(struct parser *p, const struct meta_block *mb, const char *scope,
			enum meta_target_kind kind)
{
	const char *want = NULL;
	bool ok = true;

	if (strcmp(scope, "rule") == 0 || strcmp(scope, "document") == 0)
		want = "rule";
	else if (strcmp(scope, "package") == 0 || strcmp(scope, "subpackages") == 0)
		want = "package";
	if (!want) {
		rp_error(p, mb->loc,
			 "invalid annotation scope '%s'. Use one of 'rule', 'document', 'package', "
			 "or 'subpackages'", scope);
		ok = false;
	} else if (strcmp(want, target_name(kind) ? target_name(kind) : "") != 0) {
		if (kind == MT_NONE)
			rp_error(p, mb->loc, "annotation scope '%s' must be applied to %s", scope,
				 want);
		else
			rp_error(p, mb->loc, "annotation scope '%s' must be applied to %s (have %s)",
				 scope, want, target_name(kind));
		ok = false;
	}
	if (mb->entrypoint && strcmp(scope, "document") != 0 && strcmp(scope, "package") != 0) {
		rp_error(p, mb->loc,
			 "annotation entrypoint applied to non-document or package scope '%s'",
			 scope);
		ok = false;
	}
	return ok;
}

/* The annotation object: the fields and the scope. */
static struct rv *annotation_object(const struct meta_block *mb, const char *scope)
{
	struct rv *obj = rv_object_new(rv_len(mb->fields) + 1);

	if (!obj)
		return NULL;
	for (size_t i = 0; i < rv_len(mb->fields); i++) {
		struct rv *k, *v;

		rv_map_at(mb->fields, i, &k, &v);
		if (rv_object_put(obj, rv_ref(k), rv_ref(v)) < 0)
			return NULL;
	}
	if (put(obj, "scope", rv_cstring(scope)) < 0)
		return NULL;
	return obj;
}

/* Finds the first statement on a row after row: the package, an import
 * or a rule (the module lists each kind in source order). */
static struct meta_target find_target(const struct rego_module *m, uint32_t row,
				      size_t *imp_at, size_t *rule_at)
{
	struct meta_target t = { .kind = MT_NONE };
	uint32_t best = UINT32_MAX;

	while (*imp_at < m->imports_len && m->imports[*imp_at]->loc.row <= row)
		(*imp_at)++;
	while (*rule_at < m->rules_len && m->rules[*rule_at]->loc.row <= row)
		(*rule_at)++;
	if (m->package && m->package->loc.row > row) {
		t.kind = MT_PACKAGE;
		best = m->package->loc.offset;
	}
	if (*imp_at < m->imports_len && m->imports[*imp_at]->loc.offset < best) {
		t.kind = MT_IMPORT;
		best = m->imports[*imp_at]->loc.offset;
	}
	if (*rule_at < m->rules_len && m->rules[*rule_at]->loc.offset < best) {
		t.kind = MT_RULE;
		t.rule = m->rules[*rule_at];
	}
	return t;
}

/* Appends obj to *list (an unfrozen array created on demand). */
static int list_add(struct rv **list, struct rv *obj)
{
	if (!obj)
		return WD_ENOMEM;
	if (!*list) {
		*list = rv_array_new(2);
		if (!*list) {
			rv_unref(obj);
			return WD_ENOMEM;
		}
	}
	return rv_array_push(*list, obj);
}

/* Freezes the collected list into the arena and stores it at *slot. */
static void list_flush(struct parser *p, struct rv **list, struct rv **slot)
{
	if (*list && slot)
		*slot = rp_keep(p, *list);
	else
		rv_unref(*list);
	*list = NULL;
}

void rp_metadata_attach(struct parser *p, struct rego_module *m,
			const struct meta_blocks *blocks)
{
	struct rv *pkg_list = NULL;
	struct rv *rule_list = NULL;
	struct rego_rule *rule_of_list = NULL;
	size_t imp_at = 0, rule_at = 0;

	for (size_t i = 0; i < blocks->len && !p->oom; i++) {
		const struct meta_block *mb = &blocks->items[i];
		struct meta_target t = find_target(m, mb->loc.row, &imp_at, &rule_at);
		const char *scope = mb->scope;

		/* OPA's default scopes: rule (document for an entrypoint) before a
		 * rule, package before the package. */
		if (scope[0] == '\0') {
			if (t.kind == MT_RULE)
				scope = mb->entrypoint ? "document" : "rule";
			else if (t.kind == MT_PACKAGE)
				scope = "package";
			else if (t.kind == MT_IMPORT)
				scope = "import";
		}
		if (!check_scope(p, mb, scope, t.kind))
			continue;

		if (t.kind == MT_PACKAGE) {
			if (list_add(&pkg_list, annotation_object(mb, scope)) < 0)
				p->oom = true;
			continue;
		}
		if (rule_of_list != t.rule)
			list_flush(p, &rule_list, rule_of_list ? &rule_of_list->annotations : NULL);
		rule_of_list = t.rule;
		if (list_add(&rule_list, annotation_object(mb, scope)) < 0)
			p->oom = true;
	}
	list_flush(p, &rule_list, rule_of_list && !p->oom ? &rule_of_list->annotations : NULL);
	list_flush(p, &pkg_list, !p->oom ? &m->annotations : NULL);
}
