/* The rule set: lookups, compiling every rule's condition, the index of
 * rules by event type, the load report, and matching an event. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "sensor/rules/rules_priv.h"

int rules_set_new(struct rules_set **ret_set)
{
	*ret_set = wd_calloc(1, sizeof(**ret_set));
	return *ret_set ? 0 : WD_ENOMEM;
}

void rules_rule_clear(struct rules_rule *rule)
{
	free(rule->name);
	free(rule->desc);
	free(rule->condition);
	free(rule->output);
	free(rule->source);
	for (size_t i = 0; i < rule->ntags; i++)
		free(rule->tags[i]);
	free(rule->tags);
	for (size_t i = 0; i < rule->nexceptions; i++) {
		free(rule->exceptions[i].name);
		free(rule->exceptions[i].values);
	}
	free(rule->exceptions);
	free(rule->warden);
	free(rule->reason);
	free(rule->absent);
	free(rule->full_condition);
	cond_free(rule->ast);
	for (size_t i = 0; i < rule->nevttypes; i++)
		free(rule->evttypes[i]);
	free(rule->evttypes);
	memset(rule, 0, sizeof(*rule));
}

void rules_set_free(struct rules_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->nlists; i++) {
		free(set->lists[i].name);
		for (size_t j = 0; j < set->lists[i].count; j++)
			free(set->lists[i].items[j]);
		free(set->lists[i].items);
	}
	free(set->lists);
	for (size_t i = 0; i < set->nmacros; i++) {
		free(set->macros[i].name);
		free(set->macros[i].condition);
	}
	free(set->macros);
	for (size_t i = 0; i < set->nrules; i++)
		rules_rule_clear(&set->rules[i]);
	free(set->rules);
	for (size_t i = 0; i < set->nfiles; i++) {
		free(set->files[i]);
		yaml_document_delete(&set->docs[i]);
	}
	free(set->index);
	free(set->any);
	free(set);
}

struct rules_list *rules_list_find(const struct rules_set *set, const char *name)
{
	for (size_t i = 0; i < set->nlists; i++) {
		if (!strcmp(set->lists[i].name, name))
			return &set->lists[i];
	}
	return NULL;
}

struct rules_macro *rules_macro_find(const struct rules_set *set, const char *name)
{
	for (size_t i = 0; i < set->nmacros; i++) {
		if (!strcmp(set->macros[i].name, name))
			return &set->macros[i];
	}
	return NULL;
}

struct rules_rule *rules_rule_find(const struct rules_set *set, const char *name)
{
	for (size_t i = 0; i < set->nrules; i++) {
		if (!strcmp(set->rules[i].name, name))
			return &set->rules[i];
	}
	return NULL;
}

size_t rules_count(const struct rules_set *set)
{
	return set->nrules;
}

const struct rules_rule *rules_get(const struct rules_set *set, size_t index)
{
	return index < set->nrules ? &set->rules[index] : NULL;
}

static const char *env_macro(void *ctx, const char *name)
{
	const struct rules_macro *m = rules_macro_find(ctx, name);

	return m ? m->condition : NULL;
}

static const char *const *env_list(void *ctx, const char *name, size_t *ret_count)
{
	static const char *const none[1] = { NULL };
	const struct rules_list *l = rules_list_find(ctx, name);

	if (!l)
		return NULL;
	*ret_count = l->count;
	/* An empty list still expands, to no values. */
	return l->items ? (const char *const *)l->items : none;
}

/* --- event types --- */

/* A set of event types, or every type. */
struct tset {
	bool all;
	char **v;
	size_t n;
};

static void tset_free(struct tset *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i]);
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

static bool tset_has(const struct tset *t, const char *s)
{
	for (size_t i = 0; i < t->n; i++) {
		if (!strcmp(t->v[i], s))
			return true;
	}
	return false;
}

static int tset_add(struct tset *t, const char *s)
{
	char **grown;

	if (tset_has(t, s))
		return 0;
	grown = wd_reallocarray(t->v, t->n + 1, sizeof(*grown));
	if (!grown)
		return WD_ENOMEM;
	t->v = grown;
	grown[t->n] = wd_strdup(s);
	if (!grown[t->n])
		return WD_ENOMEM;
	t->n++;
	return 0;
}

/* The event types a condition can match: `evt.type = x` and `evt.type in
 * (...)` narrow it, `and` intersects, `or` unites; anything under `not` is
 * left unrestricted, which over-approximates and so is safe. */
static int types_of(const struct cond_node *node, struct tset *ret)
{
	memset(ret, 0, sizeof(*ret));
	switch (node->kind) {
	case COND_CHECK:
		if (strcmp(node->lhs.field, "evt.type") || node->lhs.nxforms || node->rhs_field ||
			(node->op != COND_OP_EQ && node->op != COND_OP_IN)) {
			ret->all = true;
			return 0;
		}
		for (size_t i = 0; i < node->nvalues; i++)
			WD_TRY(tset_add(ret, node->values[i].text));
		return 0;
	case COND_NOT:
		ret->all = true;
		return 0;
	case COND_AND:
		ret->all = true;
		for (size_t i = 0; i < node->nkids; i++) {
			struct tset kid;
			struct tset both = { 0 };
			int rc = types_of(node->kids[i], &kid);

			if (rc < 0) {
				tset_free(&kid);
				return rc;
			}
			if (kid.all)
				continue;
			if (ret->all) {
				*ret = kid;
				continue;
			}
			for (size_t j = 0; j < ret->n && rc == 0; j++) {
				if (tset_has(&kid, ret->v[j]))
					rc = tset_add(&both, ret->v[j]);
			}
			tset_free(&kid);
			tset_free(ret);
			*ret = both;
			WD_TRY(rc);
		}
		return 0;
	case COND_OR:
		for (size_t i = 0; i < node->nkids; i++) {
			struct tset kid;
			int rc = types_of(node->kids[i], &kid);

			for (size_t j = 0; j < kid.n && rc == 0; j++)
				rc = tset_add(ret, kid.v[j]);
			if (kid.all)
				ret->all = true;
			tset_free(&kid);
			WD_TRY(rc);
		}
		if (ret->all)
			tset_free(ret);
		return 0;
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_entry(const void *a, const void *b)
{
	const struct rules_index_entry *x = a, *y = b;
	int c = strcmp(x->evttype, y->evttype);

	if (c)
		return c;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

static int index_build(struct rules_set *set)
{
	size_t entries = 0;

	free(set->index);
	free(set->any);
	set->index = NULL;
	set->any = NULL;
	set->nindex = set->nany = 0;
	for (size_t i = 0; i < set->nrules; i++)
		entries += set->rules[i].nevttypes;
	set->index = wd_calloc(entries, sizeof(*set->index));
	set->any = wd_calloc(set->nrules, sizeof(*set->any));
	if (!set->index || !set->any)
		return WD_ENOMEM;
	for (size_t i = 0; i < set->nrules; i++) {
		const struct rules_rule *r = &set->rules[i];

		if (r->status != RULES_LOADED)
			continue;
		if (r->any_evttype)
			set->any[set->nany++] = i;
		for (size_t j = 0; j < r->nevttypes; j++)
			set->index[set->nindex++] = (struct rules_index_entry){ r->evttypes[j], i };
	}
	qsort(set->index, set->nindex, sizeof(*set->index), cmp_entry);
	return 0;
}

/* --- compiling --- */

static int skip(struct rules_rule *rule, enum rules_status status, const char *reason)
{
	rule->status = status;
	free(rule->reason);
	rule->reason = reason ? wd_strdup(reason) : NULL;
	return reason && !rule->reason ? WD_ENOMEM : 0;
}

static int compile_rule(struct rules_set *set, struct rules_rule *rule, struct wd_error *err)
{
	struct cond_env env = { env_macro, env_list, set };
	struct wd_error cerr = { 0 };
	struct tset types;
	char reason[600];
	int rc;

	cond_free(rule->ast);
	rule->ast = NULL;
	if (!rule->enabled)
		return skip(rule, RULES_DISABLED, NULL);
	if (strcmp(rule->source, "syscall")) {
		snprintf(reason, sizeof(reason), "event source '%.128s' is not supported", rule->source);
		return skip(rule, RULES_SKIPPED, reason);
	}
	free(rule->full_condition);
	rule->full_condition = NULL;
	rc = rules_exceptions_apply(rule, &rule->full_condition, &cerr);
	if (rc == 0)
		rc = cond_parse(rule->full_condition, &env, &rule->ast, &rule->absent, &cerr);
	if (rc == WD_EUNSUPPORTED)
		return skip(rule, RULES_SKIPPED, wd_error_text(&cerr));
	if (rc < 0) {
		snprintf(reason, sizeof(reason), "%s", wd_error_text(&cerr));
		skip(rule, RULES_SKIPPED, reason);
		return wd_error_set(err, rc, "%s:%zu: rule '%.128s': %s", rule->file, rule->line,
			rule->name, reason);
	}

	rc = types_of(rule->ast, &types);
	if (rc < 0) {
		tset_free(&types);
		return wd_error_set(err, rc, "out of memory");
	}
	/* A rule without an evt.type restriction has no array: qsort(NULL) is
	 * undefined even for zero items. */
	if (types.n > 1)
		qsort(types.v, types.n, sizeof(*types.v), cmp_str);
	rule->evttypes = types.v;
	rule->nevttypes = types.n;
	rule->any_evttype = types.all;
	rule->status = RULES_LOADED;
	return 0;
}

int rules_compile(struct rules_set *set, struct wd_error *err)
{
	int first = 0;

	for (size_t i = 0; i < set->nrules; i++) {
		struct rules_rule *rule = &set->rules[i];
		struct wd_error rerr = { 0 };
		int rc;

		for (size_t j = 0; j < rule->nevttypes; j++)
			free(rule->evttypes[j]);
		free(rule->evttypes);
		rule->evttypes = NULL;
		rule->nevttypes = 0;
		free(rule->absent);
		rule->absent = NULL;
		rc = compile_rule(set, rule, &rerr);
		if (rc < 0 && first == 0) {
			first = rc;
			wd_error_set(err, rc, "%s", wd_error_text(&rerr));
		}
	}
	if (first < 0)
		return first;
	if (index_build(set) < 0)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	return 0;
}

int rules_report(const struct rules_set *set, struct wd_buf *out)
{
	for (size_t i = 0; i < set->nrules; i++) {
		const struct rules_rule *r = &set->rules[i];

		switch (r->status) {
		case RULES_LOADED:
			if (r->absent)
				WD_TRY(wd_buf_appendf(out, "loaded %s (absent source: %s evaluate unset)\n",
					r->name, r->absent));
			else
				WD_TRY(wd_buf_appendf(out, "loaded %s\n", r->name));
			break;
		case RULES_SKIPPED:
			WD_TRY(wd_buf_appendf(out, "skipped %s: %s\n", r->name, r->reason ? r->reason : ""));
			break;
		case RULES_DISABLED:
			WD_TRY(wd_buf_appendf(out, "disabled %s\n", r->name));
			break;
		case RULES_PENDING:
			WD_TRY(wd_buf_appendf(out, "pending %s\n", r->name));
			break;
		}
	}
	return 0;
}

size_t rules_match(const struct rules_set *set, const char *evttype, cond_getter get,
	void *get_ctx, rules_match_fn on_match, void *match_ctx)
{
	size_t lo = 0, hi = set->nindex;
	size_t a = 0;
	size_t evaluated = 0;

	/* The first index entry of this type. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(set->index[mid].evttype, evttype) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Merge the typed rules with the untyped ones in definition order. */
	for (;;) {
		bool typed_left = lo < set->nindex && !strcmp(set->index[lo].evttype, evttype);
		bool any_left = a < set->nany;
		size_t rule;

		if (!typed_left && !any_left)
			break;
		if (typed_left && (!any_left || set->index[lo].rule < set->any[a]))
			rule = set->index[lo++].rule;
		else
			rule = set->any[a++];
		evaluated++;
		if (cond_eval(set->rules[rule].ast, get, get_ctx) &&
			!on_match(&set->rules[rule], match_ctx))
			break;
	}
	return evaluated;
}
