/* Virtual documents: complete rules, multi-value (set) rules, rules with
 * dynamic ref heads building objects, and functions, with OPA's conflict
 * errors and a per-query cache of full documents. */
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "policy/eval_internal.h"

#define MSG_COMPLETE_CONFLICT "complete rules must not produce multiple outputs"
#define MSG_FUNCTION_CONFLICT "functions must not produce multiple outputs for same inputs"
#define MSG_OBJECT_CONFLICT "object keys must be unique"

/* ---- documents under construction ---- */

struct rv *doc_copy(const struct rv *v)
{
	size_t n = rv_len(v);
	struct rv *c = rv_is(v, RV_SET) ? rv_set_new(n) : rv_object_new(n);

	for (size_t i = 0; c && i < n; i++) {
		struct rv *key, *val;

		rv_map_at(v, i, &key, &val);
		if (rv_is(v, RV_SET) ? rv_set_add(c, rv_ref(key)) < 0
				     : rv_object_put(c, rv_ref(key), rv_ref(val)) < 0) {
			rv_unref(c);
			return NULL;
		}
	}
	return c;
}

/* The child under key, made private to obj so it can be extended. */
static struct rv *own_child(struct rv *obj, struct rv *key, enum rv_kind kind, int *ret_rc)
{
	struct rv *child = rv_object_get(obj, key);
	struct rv *mine;

	*ret_rc = 0;
	if (child && !rv_is(child, kind)) {
		*ret_rc = 1;
		return NULL;
	}
	if (child && child->refs == 1)
		return child;
	mine = child ? doc_copy(child) : (kind == RV_SET ? rv_set_new(4) : rv_object_new(4));
	if (!mine || rv_object_put(obj, rv_ref(key), mine) < 0) {
		*ret_rc = WD_ENOMEM;
		return NULL;
	}
	return mine;
}

int doc_insert(struct rv *obj, struct rv *const *keys, size_t nkeys, struct rv *leaf,
	       bool set_leaf)
{
	struct rv *cur = obj;
	int rc;

	if (nkeys == 0)
		return WD_EINTERNAL;
	for (size_t i = 0; i + 1 < nkeys; i++) {
		cur = own_child(cur, keys[i], RV_OBJECT, &rc);
		if (!cur)
			return rc;
	}
	if (set_leaf) {
		struct rv *set = own_child(cur, keys[nkeys - 1], RV_SET, &rc);

		if (!set)
			return rc;
		return rv_set_add(set, rv_ref(leaf)) < 0 ? WD_ENOMEM : 0;
	}
	{
		struct rv *old = rv_object_get(cur, keys[nkeys - 1]);

		if (old)
			return rv_equal(old, leaf) ? 0 : 1;
		return rv_object_put(cur, rv_ref(keys[nkeys - 1]), rv_ref(leaf)) < 0 ? WD_ENOMEM : 0;
	}
}

/* ---- frames ---- */

struct frame {
	const struct rego_rule *saved_rule;
	struct rv **saved;
	struct rv **slots;
	size_t n;
	struct rv *small[8];
};

static int frame_push(struct q *q, struct frame *f, const struct rego_rule *r)
{
	f->n = r->slots > 0 ? (size_t)r->slots : 0;
	if (f->n <= WD_ARRAY_LEN(f->small)) {
		memset(f->small, 0, sizeof(f->small));
		f->slots = f->small;
	} else {
		f->slots = wd_calloc(f->n, sizeof(*f->slots));
		if (!f->slots)
			return WD_ENOMEM;
	}
	f->saved = q->slots;
	q->slots = f->slots;
	f->saved_rule = q->rule;
	q->rule = r;
	return 0;
}

static void frame_pop(struct q *q, struct frame *f)
{
	for (size_t i = 0; i < f->n; i++)
		rv_unref(f->slots[i]);
	if (f->slots != f->small)
		free(f->slots);
	q->slots = f->saved;
	q->rule = f->saved_rule;
}

static int depth_enter(struct q *q, const struct rego_loc *loc)
{
	if (++q->depth > q->max_depth) {
		q->depth--;
		return eval_error(q, "eval_cancel_error", loc,
				  "caller cancelled query execution: call depth limit of %u exceeded",
				  q->max_depth);
	}
	return eval_step(q, loc);
}

/* ---- complete rules and functions ---- */

struct value_env {
	const struct rego_rule *rule;
	const struct rego_term *value;  /* NULL: true */
	struct rv *value_const;         /* known value, or NULL */
	struct rv *result;
	bool got;
	const char *conflict;
	const struct rego_loc *loc;
};

static int value_found(struct q *q, struct rv *v, void *env)
{
	struct value_env *ve = env;

	if (!ve->result) {
		ve->result = rv_ref(v);
	} else if (!rv_equal(ve->result, v)) {
		return eval_error(q, "eval_conflict_error", ve->loc, "%s", ve->conflict);
	}
	ve->got = true;
	/* A constant value cannot change: later solutions add nothing. */
	return ve->value_const ? EV_HALT : 0;
}

static int value_body_done(struct q *q, void *env)
{
	struct value_env *ve = env;

	if (ve->value_const)
		return value_found(q, ve->value_const, ve);
	if (!ve->value)
		return value_found(q, rv_bool(true), ve);
	return eval_term(q, ve->value, value_found, ve);
}

/* Evaluates a rule's body and its else chain; the frame is set up. */
static int rule_bodies(struct q *q, const struct rego_rule *r, struct value_env *ve)
{
	const struct crule *cr = r->index;
	int rc;

	ve->rule = r;
	ve->value = r->value;
	ve->value_const = cr->const_value ? cr->value_const : NULL;
	ve->got = false;
	ve->loc = &r->loc;
	rc = eval_body(q, r->body, 0, value_body_done, ve);
	if (rc < 0)
		return rc;
	for (const struct rego_else *el = r->else_chain; el && !ve->got; el = el->next) {
		ve->value = el->value;
		ve->value_const = el->value && el->value->kind == RT_VALUE ? el->value->u.value
									    : NULL;
		if (!el->value)
			ve->value_const = rv_bool(true);
		ve->loc = &el->loc;
		rc = eval_body(q, el->body, 0, value_body_done, ve);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int default_value(struct q *q, const struct rego_rule *def, struct rv **ret)
{
	const struct crule *cr = def->index;
	struct frame f;
	struct value_env ve = { .conflict = MSG_COMPLETE_CONFLICT };
	int rc;

	if (cr->const_value) {
		*ret = rv_ref(cr->value_const);
		return 0;
	}
	WD_TRY(frame_push(q, &f, def));
	ve.value = def->value;
	ve.loc = &def->loc;
	rc = value_body_done(q, &ve);
	frame_pop(q, &f);
	if (rc < 0) {
		rv_unref(ve.result);
		return rc;
	}
	*ret = ve.result;
	return 0;
}

/* The document table is allocated at the first document, so a `with`
 * that computes none costs nothing. A failed allocation only skips
 * caching. */
static void cache_put(struct q *q, const struct cnode *node, struct rv *v)
{
	struct cache *c = q->cache;

	if (!c->docs) {
		c->len = q->e->nodes_len;
		c->docs = wd_calloc(c->len ? c->len : 1, sizeof(*c->docs));
		if (!c->docs) {
			c->len = 0;
			return;
		}
	}
	if (node->id < c->len && !c->docs[node->id])
		c->docs[node->id] = v ? rv_ref(v) : UNDEF_MARK;
}

static struct rv *cache_get(struct q *q, const struct cnode *node, bool *ret_hit)
{
	struct rv *v = q->cache->docs && node->id < q->cache->len ? q->cache->docs[node->id]
								  : NULL;

	*ret_hit = v != NULL;
	if (v == UNDEF_MARK)
		return NULL;
	return rv_ref(v);
}

static int complete_doc(struct q *q, struct cnode *node, struct rv **ret)
{
	struct value_env ve = { .conflict = MSG_COMPLETE_CONFLICT };
	struct rego_rule **rules = node->rules;
	size_t len = node->rules_len;
	int rc = 0;

	eval_index_candidates(q, node, &rules, &len);
	for (size_t i = 0; i < len; i++) {
		struct frame f;

		WD_GUARD(frame_push(q, &f, rules[i]));
		rc = rule_bodies(q, rules[i], &ve);
		frame_pop(q, &f);
		WD_GUARD(rc);
		rc = 0;
		if (ve.result && node->early_exit)
			break;
	}
	if (!ve.result && node->default_rule)
		WD_GUARD(default_value(q, node->default_rule, &ve.result));
	*ret = ve.result;
	return 0;
out:
	rv_unref(ve.result);
	return rc;
}

/* ---- functions ---- */

struct fargs_env {
	const struct rego_rule *rule;
	struct rv *const *args;
	size_t i;
	struct value_env *ve;
	int rc;
};

static int fargs_next(struct q *q, void *env)
{
	struct fargs_env *fe = env;
	size_t i = fe->i;
	int rc;

	if (i == fe->rule->args_len)
		return rule_bodies(q, fe->rule, fe->ve);
	fe->i++;
	rc = eval_unify_value(q, fe->rule->args[i], fe->args[i], fargs_next, fe);
	fe->i--;
	return rc;
}

int eval_function(struct q *q, struct cnode *node, struct rv *const *args, size_t nargs,
		  const struct rego_loc *loc, struct rv **ret)
{
	struct value_env ve = { .conflict = MSG_FUNCTION_CONFLICT };
	struct rv *key = NULL;
	int rc = 0;

	*ret = NULL;
	if (nargs != node->arity)
		return 0;

	/* Results are remembered outside `with`, where functions are pure. */
	if (q->cache == q->root_cache && !q->fov) {
		key = eval_memo_args(args, nargs);
		if (!key)
			return eval_nomem(q);
		if (eval_memo_get(q, node->id, key, ret)) {
			rv_unref(key);
			return 0;
		}
	}
	rc = depth_enter(q, loc);
	if (rc < 0) {
		rv_unref(key);
		return rc;
	}
	for (size_t i = 0; i < node->rules_len; i++) {
		const struct rego_rule *r = node->rules[i];
		struct fargs_env fe = { r, args, 0, &ve, 0 };
		struct frame f;

		WD_GUARD(frame_push(q, &f, r));
		rc = fargs_next(q, &fe);
		frame_pop(q, &f);
		WD_GUARD(rc);
		rc = 0;
		if (ve.result && node->early_exit)
			break;
	}
	if (!ve.result && node->default_rule)
		WD_GUARD(default_value(q, node->default_rule, &ve.result));
	if (key)
		eval_memo_put(q, node->id, key, ve.result);
	*ret = ve.result;
	ve.result = NULL;
out:
	rv_unref(key);
	rv_unref(ve.result);
	q->depth--;
	return rc;
}

/* ---- multi-value rules (sets) ---- */

struct set_env {
	const struct rego_rule *rule;
	struct rv *set;
};

static int set_member(struct q *q, struct rv *v, void *env)
{
	struct set_env *se = env;

	if (rv_set_add(se->set, rv_ref(v)) < 0)
		return eval_nomem(q);
	return 0;
}

static int set_body_done(struct q *q, void *env)
{
	struct set_env *se = env;

	return eval_term(q, se->rule->key, set_member, se);
}

static int set_key_bound(struct q *q, void *env)
{
	struct set_env *se = env;

	return eval_body(q, se->rule->body, 0, set_body_done, se);
}

static int set_doc(struct q *q, struct cnode *node, struct rv *const *keys, size_t nkeys,
		   struct rv **ret)
{
	struct set_env se = { .set = rv_set_new(8) };
	struct rego_rule **rules = node->rules;
	size_t len = node->rules_len;
	int rc = 0;

	if (!se.set)
		return eval_nomem(q);
	eval_index_candidates(q, node, &rules, &len);
	for (size_t i = 0; i < len; i++) {
		struct frame f;

		se.rule = rules[i];
		WD_GUARD(frame_push(q, &f, rules[i]));
		/* A lookup `p[k]` binds the member first, so the body runs
		 * for that member only. */
		if (nkeys > 0 && rules[i]->key)
			rc = eval_unify_value(q, rules[i]->key, keys[0], set_key_bound, &se);
		else
			rc = set_key_bound(q, &se);
		frame_pop(q, &f);
		WD_GUARD(rc);
	}
	*ret = se.set;
	return 0;
out:
	rv_unref(se.set);
	return rc;
}

/* ---- rules with dynamic ref heads (objects) ---- */

struct obj_env {
	const struct rego_rule *rule;
	const struct crule *cr;
	struct rv *obj;
	struct rv *const *keys;
	size_t nkeys;
	size_t i;                     /* suffix terms matched or evaluated */
	struct rv *vals[128];         /* rule heads have at most 128 segments */
};

static int obj_leaf(struct q *q, struct rv *leaf, void *env)
{
	struct obj_env *oe = env;
	int rc = doc_insert(oe->obj, oe->vals, oe->cr->suffix_len, leaf, oe->cr->set_leaf);

	if (rc == 1)
		return eval_error(q, "eval_conflict_error", &oe->rule->loc, MSG_OBJECT_CONFLICT);
	if (rc < 0)
		return eval_nomem(q);
	return 0;
}

static int obj_suffix_next(struct q *q, struct obj_env *oe);

static int obj_suffix_value(struct q *q, struct rv *v, void *env)
{
	struct obj_env *oe = env;
	int rc;

	oe->vals[oe->i++] = v;
	rc = obj_suffix_next(q, oe);
	oe->i--;
	return rc;
}

static int obj_suffix_next(struct q *q, struct obj_env *oe)
{
	const struct rego_rule *r = oe->rule;

	if (oe->i == oe->cr->suffix_len) {
		const struct rego_term *leaf = oe->cr->set_leaf ? r->key : r->value;

		if (!leaf)
			return obj_leaf(q, rv_bool(true), oe);
		return eval_term(q, leaf, obj_leaf, oe);
	}
	return eval_term(q, oe->cr->suffix[oe->i], obj_suffix_value, oe);
}

static int obj_body_done(struct q *q, void *env)
{
	struct obj_env *oe = env;

	oe->i = 0;
	return obj_suffix_next(q, oe);
}

static int obj_match_next(struct q *q, void *env)
{
	struct obj_env *oe = env;
	size_t i = oe->i;
	size_t n = oe->nkeys < oe->cr->suffix_len ? oe->nkeys : oe->cr->suffix_len;
	int rc;

	if (i == n) {
		size_t saved = oe->i;

		rc = eval_body(q, oe->rule->body, 0, obj_body_done, oe);
		oe->i = saved;
		return rc;
	}
	oe->i++;
	rc = eval_unify_value(q, oe->cr->suffix[i], oe->keys[i], obj_match_next, oe);
	oe->i--;
	return rc;
}

static int object_doc(struct q *q, struct cnode *node, struct rv *const *keys, size_t nkeys,
		      struct rv **ret)
{
	struct obj_env oe = { .obj = rv_object_new(8), .keys = keys, .nkeys = nkeys };
	struct rego_rule **rules = node->rules;
	size_t len = node->rules_len;
	int rc = 0;

	if (!oe.obj)
		return eval_nomem(q);

	/* Rules below this node (ground heads) contribute their documents. */
	for (size_t i = 0; i < node->children_len; i++) {
		struct cnode *child = node->children[i];
		struct rv *doc = NULL;

		if (child->kind == CN_FUNCTION)
			continue;
		if (nkeys > 0 && !rv_equal(child->key, keys[0]))
			continue;
		WD_GUARD(eval_node_doc(q, child, NULL, nkeys ? keys + 1 : NULL,
				       nkeys ? nkeys - 1 : 0, &doc));
		if (!doc)
			continue;
		rc = doc_insert(oe.obj, &child->key, 1, doc, false);
		rv_unref(doc);
		if (rc == 1) {
			rc = eval_error(q, "eval_conflict_error", &node->rules[0]->loc,
					MSG_OBJECT_CONFLICT);
			goto out;
		}
		WD_GUARD(rc);
	}

	eval_index_candidates(q, node, &rules, &len);
	for (size_t i = 0; i < len; i++) {
		struct frame f;

		oe.rule = rules[i];
		oe.cr = rules[i]->index;
		oe.i = 0;
		if (oe.cr->suffix_len > WD_ARRAY_LEN(oe.vals))
			continue;
		WD_GUARD(frame_push(q, &f, rules[i]));
		rc = obj_match_next(q, &oe);
		frame_pop(q, &f);
		WD_GUARD(rc);
	}
	*ret = oe.obj;
	return 0;
out:
	rv_unref(oe.obj);
	return rc;
}

/* ---- entry ---- */

int eval_rule_doc(struct q *q, struct cnode *node, struct rv *const *keys, size_t nkeys,
		  struct rv **ret)
{
	struct rv *memo_key = NULL;
	bool hit;
	int rc;

	*ret = NULL;
	if (node->kind == CN_COMPLETE)
		nkeys = 0;

	/* The full document, once known, serves lookups too. */
	*ret = cache_get(q, node, &hit);
	if (hit)
		return 0;

	/* A lookup by one key is remembered by that key; deeper keys only
	 * narrow the work further, so they are left out of the memo. */
	if (nkeys > 0) {
		nkeys = 1;
		memo_key = eval_memo_args(keys, 1);
		if (!memo_key)
			return eval_nomem(q);
		if (eval_memo_get(q, node->id, memo_key, ret)) {
			rv_unref(memo_key);
			return 0;
		}
	}

	rc = depth_enter(q, node->rules_len ? &node->rules[0]->loc : NULL);
	if (rc < 0) {
		rv_unref(memo_key);
		return rc;
	}
	switch (node->kind) {
	case CN_COMPLETE:
		rc = complete_doc(q, node, ret);
		break;
	case CN_SET:
		rc = set_doc(q, node, keys, nkeys, ret);
		break;
	case CN_OBJECT:
		rc = object_doc(q, node, keys, nkeys, ret);
		break;
	default:
		rc = 0;
		break;
	}
	q->depth--;
	if (rc == 0 && memo_key)
		eval_memo_put(q, node->id, memo_key, *ret);
	rv_unref(memo_key);
	if (rc < 0)
		return rc;
	if (nkeys == 0)
		cache_put(q, node, *ret);
	return 0;
}
