/* The compiler's driver: merges modules by package into the rule tree under
 * data, classifies each node, then resolves and checks every rule. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "policy/compile.h"

/* Bounds the tree a hostile module set can make: its size, and its depth,
 * which the compiler's tree walks recurse over. */
#define MAX_NODES (1u << 22)
#define MAX_TREE_DEPTH 256

struct tree_ctx {
	struct rego_engine *e;
	struct rego_errors *errs;
	uint32_t nodes;
};

static struct cnode *node_new(struct tree_ctx *tc, struct cnode *parent, struct rv *key)
{
	struct cnode *n;
	struct wd_buf path;

	if (tc->nodes >= MAX_NODES)
		return NULL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->key = key;
	n->parent = parent;
	wd_buf_init(&path, 32, 1u << 20);
	if (parent) {
		if (wd_buf_append_str(&path, parent->path) < 0 ||
		    wd_buf_append_byte(&path, '.') < 0 ||
		    (rv_is(key, RV_STRING) ? wd_buf_append_str(&path, rv_str(key))
					   : rv_write_json(key, &path)) < 0) {
			wd_buf_free(&path);
			free(n);
			return NULL;
		}
	} else if (wd_buf_append_str(&path, "data") < 0) {
		free(n);
		return NULL;
	}
	n->path = wd_buf_take(&path, NULL);
	wd_buf_free(&path);
	if (!n->path) {
		free(n);
		return NULL;
	}
	tc->nodes++;
	return n;
}

struct cnode *cnode_child(const struct cnode *node, const struct rv *key)
{
	size_t lo = 0, hi = node->children_len;

	/* Children are sorted by key once the tree is complete. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = rv_compare(node->children[mid]->key, key);

		if (c == 0)
			return node->children[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Children are found by a scan while few, then by a hash table kept
 * until the tree is finished, so wide packages build in linear time. */
#define CHILD_HASH_MIN 16

static struct cnode **child_slot(struct cnode *node, const struct rv *key)
{
	size_t mask = node->child_hash_cap - 1;
	size_t i = (size_t)rv_hash((struct rv *)key) & mask;

	while (node->child_hash[i] && !rv_equal(node->child_hash[i]->key, key))
		i = (i + 1) & mask;
	return &node->child_hash[i];
}

static int child_hash_grow(struct cnode *node)
{
	size_t cap = node->child_hash_cap ? node->child_hash_cap * 2 : 64;
	struct cnode **old = node->child_hash;

	while (cap < node->children_len * 2 + 2)
		cap *= 2;
	node->child_hash = wd_calloc(cap, sizeof(*node->child_hash));
	if (!node->child_hash) {
		node->child_hash = old;
		return WD_ENOMEM;
	}
	node->child_hash_cap = cap;
	free(old);
	for (size_t i = 0; i < node->children_len; i++)
		*child_slot(node, node->children[i]->key) = node->children[i];
	return 0;
}

static struct cnode *child_get(struct tree_ctx *tc, struct cnode *node, struct rv *key)
{
	struct cnode *c;

	if (node->child_hash) {
		c = *child_slot(node, key);
		if (c)
			return c;
	} else {
		for (size_t i = 0; i < node->children_len; i++)
			if (rv_equal(node->children[i]->key, key))
				return node->children[i];
	}
	if (node->children_len == node->children_cap) {
		size_t cap = node->children_cap ? node->children_cap * 2 : 4;
		struct cnode **n = wd_reallocarray(node->children, cap, sizeof(*n));

		if (!n)
			return NULL;
		node->children = n;
		node->children_cap = cap;
	}
	c = node_new(tc, node, key);
	if (!c)
		return NULL;
	node->children[node->children_len++] = c;
	if (node->children_len >= CHILD_HASH_MIN &&
	    node->children_len * 2 >= node->child_hash_cap) {
		if (child_hash_grow(node) < 0)
			return NULL;
	} else if (node->child_hash) {
		*child_slot(node, key) = c;
	}
	return c;
}

static int node_add_rule(struct cnode *node, struct rego_rule *rule)
{
	if (node->rules_len == node->rules_cap) {
		size_t cap = node->rules_cap ? node->rules_cap * 2 : 2;
		struct rego_rule **n = wd_reallocarray(node->rules, cap, sizeof(*n));

		if (!n)
			return WD_ENOMEM;
		node->rules = n;
		node->rules_cap = cap;
	}
	node->rules[node->rules_len++] = rule;
	return 0;
}

void cnode_free(struct cnode *node)
{
	if (!node)
		return;
	for (size_t i = 0; i < node->children_len; i++)
		cnode_free(node->children[i]);
	free(node->children);
	free(node->child_hash);
	free(node->rules);
	free(node->path);
	rule_index_free(node->index);
	free(node);
}

struct cnode *cnode_find_path(struct cnode *root, const char *path)
{
	struct cnode *node = root;
	const char *p;

	if (strncmp(path, "data", 4) != 0 || (path[4] != '\0' && path[4] != '.'))
		return NULL;
	p = path + 4;
	while (*p == '.' && node) {
		const char *seg = p + 1;
		const char *end = strchr(seg, '.');
		size_t len = end ? (size_t)(end - seg) : strlen(seg);
		struct rv *key = rv_string(seg, len);

		if (!key)
			return NULL;
		node = cnode_child(node, key);
		rv_unref(key);
		p = seg + len;
	}
	return node;
}

/* ---- constants ---- */

/* A private, unfrozen copy of v (see compile.h). */
struct rv *value_deep_copy(const struct rv *v)
{
	struct rv *c = NULL;
	size_t n;

	switch (rv_kind_of(v)) {
	case RV_NULL:
		return rv_null();
	case RV_BOOL:
		return rv_bool(v->u.boolean);
	case RV_NUMBER: {
		struct wd_buf text;
		int64_t i;

		if (rv_number_to_i64(v, &i) && v->num_repr == RV_NUM_INT)
			return rv_int(i);
		wd_buf_init(&text, 32, (size_t)16 << 20);
		if (rv_number_format(v, &text) == 0)
			c = rv_number_parse(wd_buf_str(&text), wd_buf_len(&text));
		wd_buf_free(&text);
		return c;
	}
	case RV_STRING:
		return rv_string(rv_str(v), rv_str_len(v));
	case RV_ARRAY:
		n = rv_array_len(v);
		c = rv_array_new(n);
		for (size_t i = 0; c && i < n; i++) {
			struct rv *item = value_deep_copy(rv_array_at(v, i));

			if (rv_array_push(c, item) < 0) {
				rv_unref(c);
				return NULL;
			}
		}
		return c;
	case RV_OBJECT:
	case RV_SET:
		n = rv_len(v);
		c = rv_is(v, RV_SET) ? rv_set_new(n) : rv_object_new(n);
		for (size_t i = 0; c && i < n; i++) {
			struct rv *key, *val;
			struct rv *ck;

			rv_map_at(v, i, &key, &val);
			ck = value_deep_copy(key);
			if (rv_is(v, RV_SET) ? rv_set_add(c, ck) < 0
					     : rv_object_put(c, ck, ck ? value_deep_copy(val) : NULL) < 0) {
				rv_unref(c);
				return NULL;
			}
		}
		return c;
	}
	return NULL;
}

/* Builds a new, unfrozen value for a term without variables, refs or calls,
 * copying its constants. Returns NULL when it has any or memory runs out. */
struct rv *term_const_value(const struct rego_term *t)
{
	struct rv *v = NULL;

	switch (t->kind) {
	case RT_VALUE:
		return value_deep_copy(t->u.value);
	case RT_ARRAY:
		v = rv_array_new(t->u.coll.len);
		for (size_t i = 0; v && i < t->u.coll.len; i++) {
			struct rv *item = term_const_value(t->u.coll.items[i]);

			if (!item || rv_array_push(v, item) < 0) {
				rv_unref(v);
				return NULL;
			}
		}
		return v;
	case RT_SET:
		v = rv_set_new(t->u.coll.len);
		for (size_t i = 0; v && i < t->u.coll.len; i++) {
			struct rv *item = term_const_value(t->u.coll.items[i]);

			if (!item || rv_set_add(v, item) < 0) {
				rv_unref(v);
				return NULL;
			}
		}
		return v;
	case RT_OBJECT:
		v = rv_object_new(t->u.obj.len);
		for (size_t i = 0; v && i < t->u.obj.len; i++) {
			struct rv *k = term_const_value(t->u.obj.keys[i]);
			struct rv *val = k ? term_const_value(t->u.obj.values[i]) : NULL;

			if (!k || !val) {
				rv_unref(k);
				rv_unref(v);
				return NULL;
			}
			if (rv_object_put(v, k, val) < 0) {
				rv_unref(v);
				return NULL;
			}
		}
		return v;
	default:
		return NULL;
	}
}

/* ---- building the tree ---- */

static struct cnode *package_node(struct tree_ctx *tc, const struct rego_module *m)
{
	struct cnode *node = tc->e->root;
	const struct rego_term *pkg = m->package;

	if (!pkg || pkg->kind != RT_REF)
		return node;
	if (pkg->u.ref.len > MAX_TREE_DEPTH / 2) {
		rego_errors_add(tc->errs, "rego_compile_error", &pkg->loc,
				"package path has more than %d segments", MAX_TREE_DEPTH / 2);
		return NULL;
	}
	for (size_t i = 1; node && i < pkg->u.ref.len; i++) {
		const struct rego_term *it = pkg->u.ref.items[i];

		if (it->kind != RT_VALUE)
			return NULL;
		node = child_get(tc, node, it->u.value);
	}
	return node;
}

static bool is_ground_item(const struct rego_term *t)
{
	return t->kind == RT_VALUE;
}

static int attach_rule(struct tree_ctx *tc, struct cnode *pkg, struct rego_rule *rule,
		       struct rego_arena *arena)
{
	const struct rego_term *head = rule->head_ref;
	struct rego_term **items = head->u.ref.items;
	size_t len = head->kind == RT_REF ? head->u.ref.len : 1;
	struct crule *cr = rego_arena_alloc(arena, sizeof(*cr));
	struct cnode *node;
	struct rv *first;
	size_t i;

	if (!cr)
		return WD_ENOMEM;
	if (head->kind == RT_REF && head->u.ref.len > MAX_TREE_DEPTH / 2) {
		rego_errors_add(tc->errs, "rego_compile_error", &rule->loc,
				"rule head has more than %d segments", MAX_TREE_DEPTH / 2);
		return WD_EINVAL;
	}
	rule->index = cr;
	cr->package = pkg;
	cr->set_leaf = rule->kind == RR_PARTIAL_SET;

	/* A set rule's member is its key, not a path segment. */
	if (rule->kind == RR_PARTIAL_SET && head->kind == RT_REF && len >= 2 &&
	    items[len - 1] == rule->key)
		len--;

	if (head->kind == RT_VAR) {
		first = rv_cstring(head->u.var.name);
	} else {
		first = items[0]->kind == RT_VAR ? rv_cstring(items[0]->u.var.name) : NULL;
	}
	first = first ? engine_own(tc->e, first) : NULL;
	if (!first)
		return WD_ENOMEM;
	node = child_get(tc, pkg, first);
	if (node)
		node->rule_head = true;
	for (i = 1; node && head->kind == RT_REF && i < len && is_ground_item(items[i]); i++)
		node = child_get(tc, node, items[i]->u.value);
	if (!node)
		return WD_ENOMEM;
	cr->node = node;
	if (head->kind == RT_REF && i < len) {
		cr->suffix = items + i;
		cr->suffix_len = len - i;
	}
	if (rule->kind == RR_FUNCTION && cr->suffix_len) {
		rego_errors_add(tc->errs, "rego_type_error", &rule->loc,
				"function name must be a ground ref");
		return WD_EINVAL;
	}
	rule->path = rego_arena_strndup(arena, node->path, strlen(node->path));
	if (!rule->path)
		return WD_ENOMEM;

	if (rule->is_default) {
		if (node->default_rule) {
			rego_errors_add(tc->errs, "rego_type_error", &rule->loc,
					"multiple default rules %s found", node->path);
			return WD_EINVAL;
		}
		node->default_rule = rule;
		return 0;
	}
	return node_add_rule(node, rule);
}

static int classify_node(struct tree_ctx *tc, struct cnode *node)
{
	bool fn = false, obj = false, set = false, complete = false;

	for (size_t i = 0; i < node->rules_len; i++) {
		struct rego_rule *r = node->rules[i];
		struct crule *cr = r->index;

		if (r->kind == RR_FUNCTION)
			fn = true;
		else if (cr->suffix_len)
			obj = true;
		else if (cr->set_leaf)
			set = true;
		else
			complete = true;
	}
	if (node->default_rule) {
		if (node->default_rule->kind == RR_FUNCTION)
			fn = true;
		else
			complete = true;
	}
	if ((int)fn + (int)obj + (int)set + (int)complete > 1) {
		const struct rego_loc *loc = node->rules_len ? &node->rules[0]->loc : NULL;

		rego_errors_add(tc->errs, "rego_type_error", loc, "conflicting rules %s found",
				node->path);
		return WD_EINVAL;
	}
	if (fn) {
		node->kind = CN_FUNCTION;
		node->arity = node->rules_len ? (uint32_t)node->rules[0]->args_len
					      : (uint32_t)node->default_rule->args_len;
		for (size_t i = 0; i < node->rules_len; i++) {
			if (node->rules[i]->args_len != node->arity) {
				rego_errors_add(tc->errs, "rego_type_error", &node->rules[i]->loc,
						"conflicting rules %s found", node->path);
				return WD_EINVAL;
			}
		}
	} else if (obj) {
		node->kind = CN_OBJECT;
	} else if (set) {
		node->kind = CN_SET;
	} else if (complete) {
		node->kind = CN_COMPLETE;
	}
	return 0;
}

static int cmp_children(const void *a, const void *b)
{
	const struct cnode *x = *(const struct cnode *const *)a;
	const struct cnode *y = *(const struct cnode *const *)b;

	return rv_compare(x->key, y->key);
}

/* Appends the paths of rule nodes below node to out, comma-separated. */
static void rule_paths_below(const struct cnode *node, struct wd_buf *out)
{
	for (size_t i = 0; i < node->children_len; i++) {
		const struct cnode *child = node->children[i];

		if (child->rules_len || child->default_rule) {
			if ((wd_buf_len(out) && wd_buf_append_str(out, ", ") < 0) ||
			    wd_buf_append_str(out, child->path) < 0)
				return;
		}
		rule_paths_below(child, out);
	}
}

/* A rule whose value is one document (complete, set or function) leaves
 * no room for rules below its path, as OPA's compiler reports. */
static int check_nested_rules(struct tree_ctx *tc, const struct cnode *node)
{
	struct wd_buf below;
	int rc = 0;

	if (node->kind != CN_COMPLETE && node->kind != CN_SET && node->kind != CN_FUNCTION)
		return 0;
	wd_buf_init(&below, 128, 4096);
	rule_paths_below(node, &below);
	if (wd_buf_len(&below)) {
		const struct rego_rule *r = node->rules_len ? node->rules[0] : node->default_rule;

		rego_errors_add(tc->errs, "rego_type_error", r ? &r->loc : NULL,
				"rule %s conflicts with [%s]", node->path, wd_buf_str(&below));
		rc = WD_EINVAL;
	}
	wd_buf_free(&below);
	return rc;
}

/* Sorts children, classifies nodes and numbers them depth first. */
static int finish_tree(struct tree_ctx *tc, struct cnode *node, struct cnode **nodes,
		       uint32_t *next)
{
	int rc = 0;

	free(node->child_hash);
	node->child_hash = NULL;
	node->child_hash_cap = 0;
	if (node->children_len > 1)
		qsort(node->children, node->children_len, sizeof(*node->children),
		      cmp_children);
	node->id = (*next)++;
	nodes[node->id] = node;
	rc = classify_node(tc, node);
	for (size_t i = 0; i < node->children_len; i++) {
		int r = finish_tree(tc, node->children[i], nodes, next);

		if (r < 0 && rc == 0)
			rc = r;
	}
	if (rc == 0)
		rc = check_nested_rules(tc, node);
	return rc;
}

struct rv *engine_own(struct rego_engine *e, struct rv *v)
{
	if (!v)
		return NULL;
	if (e->owned_len == e->owned_cap) {
		size_t cap = e->owned_cap ? e->owned_cap * 2 : 64;
		struct rv **n = wd_reallocarray(e->owned, cap, sizeof(*n));

		if (!n) {
			rv_unref(v);
			return NULL;
		}
		e->owned = n;
		e->owned_cap = cap;
	}
	rv_freeze(v);
	e->owned[e->owned_len++] = v;
	return v;
}

/* Values known at compile time and the early-exit flag. */
static int finish_rules(struct rego_engine *e, struct cnode *node)
{
	struct rv *first = NULL;
	bool same = node->rules_len > 0 &&
		    (node->kind == CN_COMPLETE || node->kind == CN_FUNCTION);

	for (size_t i = 0; i < node->rules_len; i++) {
		struct rego_rule *r = node->rules[i];
		struct crule *cr = r->index;

		/* Folding made every constant value an RT_VALUE. */
		if (r->value)
			cr->value_const = r->value->kind == RT_VALUE ? r->value->u.value : NULL;
		else
			cr->value_const = rv_bool(true);
		cr->const_value = cr->value_const != NULL;
		if (!cr->const_value || r->else_chain) {
			same = false;
			continue;
		}
		if (!first)
			first = cr->value_const;
		else if (!rv_equal(first, cr->value_const))
			same = false;
	}
	node->early_exit = same;
	if (node->default_rule) {
		struct crule *cr = node->default_rule->index;

		cr->value_const = !node->default_rule->value ? rv_bool(true)
				  : node->default_rule->value->kind == RT_VALUE
					  ? node->default_rule->value->u.value
					  : NULL;
		cr->const_value = cr->value_const != NULL;
	}
	if (node->kind == CN_COMPLETE || node->kind == CN_SET || node->kind == CN_OBJECT)
		WD_TRY(compile_index_node(node));
	for (size_t i = 0; i < node->children_len; i++)
		WD_TRY(finish_rules(e, node->children[i]));
	return 0;
}

static struct cnode *module_package(struct rego_engine *e, const struct rego_module *m)
{
	struct cnode *node = e->root;
	const struct rego_term *pkg = m->package;

	for (size_t i = 1; node && pkg && i < pkg->u.ref.len; i++)
		node = cnode_child(node, pkg->u.ref.items[i]->u.value);
	return node;
}

int compile_modules(struct rego_engine *e, struct rego_errors *errs)
{
	struct tree_ctx tc = { .e = e, .errs = errs };
	uint32_t next = 0;
	int rc = 0;

	e->root = node_new(&tc, NULL, NULL);
	if (!e->root)
		return WD_ENOMEM;

	for (size_t m = 0; m < e->modules_len; m++) {
		struct rego_module *mod = e->modules[m];
		struct cnode *pkg = package_node(&tc, mod);

		if (!pkg)
			return errs && errs->len ? WD_EINVAL : WD_ENOMEM;
		for (size_t r = 0; r < mod->rules_len; r++) {
			int rr = attach_rule(&tc, pkg, mod->rules[r], mod->arena);

			if (rr == WD_ENOMEM)
				return rr;
			if (rr < 0)
				rc = rr;
		}
	}
	if (rc < 0)
		return rc;

	e->nodes = wd_calloc(tc.nodes, sizeof(*e->nodes));
	if (!e->nodes)
		return WD_ENOMEM;
	e->nodes_len = tc.nodes;
	WD_TRY(finish_tree(&tc, e->root, e->nodes, &next));

	for (size_t m = 0; m < e->modules_len; m++) {
		struct rego_module *mod = e->modules[m];
		struct resolve_env env = {
			.engine = e,
			.module = mod,
			.arena = mod->arena,
			.errs = errs,
			.package = module_package(e, mod),
		};

		for (size_t r = 0; r < mod->rules_len; r++) {
			int rr = compile_rule(&env, mod->rules[r]);

			if (rr == WD_ENOMEM) {
				resolve_env_free(&env);
				return rr;
			}
			if (rr < 0)
				rc = rr;
		}
		resolve_env_free(&env);
	}
	if (rc < 0)
		return rc;

	WD_TRY(finish_rules(e, e->root));
	return compile_check_recursion(e, errs);
}
