/* rego.metadata.rule() and rego.metadata.chain(): the METADATA annotations
 * of the rule that contains the call, found by the call's source position. */
#include <string.h>

#include "common/error.h"
#include "policy/eval_internal.h"

/* The site of a call: its rule, and whether it is in an else branch,
 * because OPA treats each else branch as a rule without annotations. */
struct call_site {
	const struct rego_module *module;
	const struct rego_rule *rule;
	bool in_else;
};

/* The rule whose text covers byte off. The parser lists a module's rules
 * in source order, so a binary search finds the last one starting there. */
static const struct rego_rule *rule_at_offset(const struct rego_module *m, uint32_t off)
{
	size_t lo = 0, hi = m->rules_len;
	const struct rego_rule *r;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->rules[mid]->loc.offset <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	r = m->rules[lo - 1];
	return off - r->loc.offset < r->loc.len ? r : NULL;
}

static bool find_call_site(const struct q *q, struct call_site *ret)
{
	const struct rego_term *t = q->bi_call;
	uint32_t off;

	memset(ret, 0, sizeof(*ret));
	if (!t || !t->loc.file)
		return false;
	off = t->loc.offset;
	for (size_t i = 0; i < q->e->modules_len; i++) {
		const struct rego_module *m = q->e->modules[i];

		if (m->file != t->loc.file && strcmp(m->file, t->loc.file) != 0)
			continue;
		const struct rego_rule *r = rule_at_offset(m, off);

		if (!r)
			continue;
		ret->module = m;
		ret->rule = r;
		ret->in_else = r->else_chain && off >= r->else_chain->loc.offset;
		return true;
	}
	return false;
}

/* The package path without `data`, as an array of strings. */
static struct rv *package_path(const struct rego_module *m)
{
	const struct rego_term *pkg = m->package;
	struct rv *out = rv_array_new(pkg->u.ref.len);

	for (size_t i = 1; out && i < pkg->u.ref.len; i++) {
		const struct rego_term *item = pkg->u.ref.items[i];

		if (item->kind != RT_VALUE || rv_array_push(out, rv_ref(item->u.value)) < 0) {
			rv_unref(out);
			return NULL;
		}
	}
	return out;
}

/* The rule's document path without `data`: the package path and the
 * ground prefix of the head reference. */
static struct rv *rule_path(const struct rego_rule *r)
{
	const struct rego_term *ref = r->head_ref;
	struct rv *out = package_path(r->module);

	if (!out)
		return NULL;
	if (rv_array_push(out, rv_cstring(ref->u.ref.items[0]->u.var.name)) < 0)
		goto fail;
	for (size_t i = 1; i < ref->u.ref.len; i++) {
		const struct rego_term *item = ref->u.ref.items[i];

		if (item->kind != RT_VALUE)
			break;
		if (rv_array_push(out, rv_ref(item->u.value)) < 0)
			goto fail;
	}
	return out;
fail:
	rv_unref(out);
	return NULL;
}

/* The last annotation in list with the given scope (the closest to its
 * target); borrowed, NULL when none. */
static struct rv *last_with_scope(const struct rv *list, const char *scope)
{
	if (!list)
		return NULL;
	for (size_t i = rv_array_len(list); i > 0; i--) {
		struct rv *a = rv_array_at(list, i - 1);
		struct rv *s = rv_object_get_str(a, "scope");

		if (s && strcmp(rv_str(s), scope) == 0)
			return a;
	}
	return NULL;
}

/* OPA's error for a call outside every rule: in a query. */
static int outside_rule(struct rego_bctx *ctx)
{
	return rego_bi_error(ctx, "the %s function must only be called within the scope of a rule",
			     ctx->name);
}

int eval_metadata_rule(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
		       struct rv **ret)
{
	struct call_site site;
	struct rv *a = NULL;

	(void)args;
	(void)nargs;
	*ret = NULL;
	if (!find_call_site(ctx->eval, &site))
		return outside_rule(ctx);
	if (!site.in_else)
		a = last_with_scope(site.rule->annotations, "rule");
	*ret = a ? rv_ref(a) : rv_object_new(0);
	return *ret ? 0 : WD_ENOMEM;
}

/* Appends {"path": path, "annotations": a} (a may be NULL) to chain;
 * takes path. */
static int chain_add(struct rv *chain, struct rv *path, struct rv *a)
{
	struct rv *link = rv_object_new(2);

	if (!link || !path) {
		rv_unref(link);
		rv_unref(path);
		return WD_ENOMEM;
	}
	if (rv_object_put(link, rv_cstring("path"), path) < 0 ||
	    (a && rv_object_put(link, rv_cstring("annotations"), rv_ref(a)) < 0)) {
		rv_unref(link);
		return WD_ENOMEM;
	}
	return rv_array_push(chain, link);
}

/* The document-scope annotation of a path, from any rule of any module. */
static struct rv *document_annotation(const struct rego_engine *e, const struct rv *path,
				      int *rc)
{
	for (size_t i = 0; i < e->modules_len; i++) {
		const struct rego_module *m = e->modules[i];

		for (size_t k = 0; k < m->rules_len; k++) {
			struct rv *a = last_with_scope(m->rules[k]->annotations, "document");
			struct rv *p;
			bool same;

			if (!a)
				continue;
			p = rule_path(m->rules[k]);
			if (!p) {
				*rc = WD_ENOMEM;
				return NULL;
			}
			same = rv_equal(p, path);
			rv_unref(p);
			if (same)
				return a;
		}
	}
	return NULL;
}

/* The annotation of the given package scope for the package whose path
 * (without data) is the first n items of path. */
static struct rv *package_annotation(const struct rego_engine *e, const struct rv *path,
				     size_t n, const char *scope)
{
	for (size_t i = 0; i < e->modules_len; i++) {
		const struct rego_module *m = e->modules[i];
		const struct rego_term *pkg = m->package;
		struct rv *a = last_with_scope(m->annotations, scope);
		bool same = a && pkg->u.ref.len == n + 1;

		for (size_t k = 0; same && k < n; k++)
			same = pkg->u.ref.items[k + 1]->kind == RT_VALUE &&
			       rv_equal(pkg->u.ref.items[k + 1]->u.value, rv_array_at(path, k));
		if (same)
			return a;
	}
	return NULL;
}

/* Builds OPA's chain: the rule's own blocks from the closest outward (or a
 * bare path entry), the document, the package, then each enclosing
 * subpackages block from the closest package to the root. */
static int build_chain(const struct q *q, const struct call_site *site, struct rv *chain)
{
	const struct rego_rule *r = site->rule;
	struct rv *path = rule_path(r);
	struct rv *pkg = package_path(r->module);
	struct rv *doc;
	struct rv *a;
	bool any = false;
	int rc = 0;

	if (!path || !pkg) {
		rc = WD_ENOMEM;
		goto out;
	}
	for (size_t i = r->annotations && !site->in_else ? rv_array_len(r->annotations) : 0;
	     i > 0 && rc == 0; i--) {
		a = rv_array_at(r->annotations, i - 1);
		if (strcmp(rv_str(rv_object_get_str(a, "scope")), "rule") != 0)
			continue;
		rc = chain_add(chain, rv_ref(path), a);
		any = true;
	}
	if (rc == 0 && !any)
		rc = chain_add(chain, rv_ref(path), NULL);

	doc = rc == 0 ? document_annotation(q->e, path, &rc) : NULL;
	if (doc)
		rc = chain_add(chain, rv_ref(path), doc);

	a = rc == 0 ? package_annotation(q->e, pkg, rv_array_len(pkg), "package") : NULL;
	if (a)
		rc = chain_add(chain, rv_ref(pkg), a);

	for (size_t n = rv_array_len(pkg); n > 0 && rc == 0; n--) {
		struct rv *prefix;

		a = package_annotation(q->e, pkg, n, "subpackages");
		if (!a)
			continue;
		prefix = rv_array_new(n);
		for (size_t k = 0; prefix && k < n; k++) {
			if (rv_array_push(prefix, rv_ref(rv_array_at(pkg, k))) < 0) {
				rv_unref(prefix);
				prefix = NULL;
			}
		}
		rc = chain_add(chain, prefix, a);
	}
out:
	rv_unref(path);
	rv_unref(pkg);
	return rc;
}

int eval_metadata_chain(struct rego_bctx *ctx, struct rv *const *args, size_t nargs,
			struct rv **ret)
{
	struct call_site site;
	struct rv *chain = rv_array_new(4);
	int rc = 0;

	(void)args;
	(void)nargs;
	*ret = NULL;
	if (!chain)
		return WD_ENOMEM;
	if (!find_call_site(ctx->eval, &site)) {
		rv_unref(chain);
		return outside_rule(ctx);
	}
	rc = build_chain(ctx->eval, &site, chain);
	if (rc < 0) {
		rv_unref(chain);
		return rc;
	}
	*ret = chain;
	return 0;
}
