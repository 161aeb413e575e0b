/* GraphQL validation rule OverlappingFieldsCanBeMerged (spec section 5.3.2):
 * fields that share a response name within one selection set must fetch the
 * same field with the same arguments and compatible types. */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "policy/gql.h"

/* NOTE: this checks the fields of one selection set, fragments flattened;
 * gqlparser also compares the sub-selections of same-named fields and
 * reports those conflicts as "subfields" conflicts, which is not done. */

/* Fields collected per selection set; a ceiling keeps the pairwise
 * comparison bounded on hostile documents. */
#define MAX_COLLECTED 4096

struct collected {
	struct gql_selection *field;
	struct gql_def *parent;
};

struct collector {
	struct gql_vctx *v;
	struct collected *items;        /* malloc'd */
	size_t len;
	size_t cap;
	struct gql_map fragments_seen;
};

static bool add(struct collector *c, struct gql_selection *field, struct gql_def *parent)
{
	if (c->len == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct collected *items = realloc(c->items, cap * sizeof(*items));

		if (!items) {
			c->v->rc = WD_ENOMEM;
			return false;
		}
		c->items = items;
		c->cap = cap;
	}
	c->items[c->len].field = field;
	c->items[c->len].parent = parent;
	c->len++;
	return true;
}

static const char *s_or(const char *s)
{
	return s ? s : "";
}

static void collect(struct collector *c, const struct gql_list *selset, struct gql_def *parent, int depth)
{
	if (depth > GQL_MAX_DEPTH)
		return;
	for (size_t i = 0; i < selset->len && c->len < MAX_COLLECTED; i++) {
		struct gql_selection *sel = selset->items[i];

		if (!sel)
			continue;
		if (sel->kind == GQL_SEL_FIELD) {
			if (!add(c, sel, parent))
				return;
		} else if (sel->kind == GQL_SEL_INLINE) {
			struct gql_def *next = parent;

			if (s_or(sel->type_cond)[0])
				next = gql_map_get(&c->v->schema->types, sel->type_cond);
			collect(c, &sel->selset, next, depth + 1);
		} else {
			const struct gql_fragment *frag = gql_map_get(&c->v->fragments, s_or(sel->name));

			if (!frag || gql_map_get(&c->fragments_seen, s_or(frag->name)))
				continue;
			if (gql_map_put(c->v->arena, &c->fragments_seen, s_or(frag->name), (void *)1) < 0) {
				c->v->rc = WD_ENOMEM;
				return;
			}
			collect(c, &frag->selset, gql_map_get(&c->v->schema->types, s_or(frag->type_cond)),
				depth + 1);
		}
	}
}

static bool same_value(const struct gql_value *a, const struct gql_value *b)
{
	struct wd_buf ta, tb;
	bool same;

	wd_buf_init(&ta, 64, 64 * 1024);
	wd_buf_init(&tb, 64, 64 * 1024);
	same = gql_value_string(a, &ta, 0) == 0 && gql_value_string(b, &tb, 0) == 0 &&
	       strcmp(wd_buf_str(&ta), wd_buf_str(&tb)) == 0;
	wd_buf_free(&ta);
	wd_buf_free(&tb);
	return same;
}

static bool same_arguments(const struct gql_list *a, const struct gql_list *b)
{
	if (a->len != b->len)
		return false;
	for (size_t i = 0; i < a->len; i++) {
		const struct gql_argument *x = a->items[i];
		bool found = false;

		for (size_t k = 0; x && k < b->len && !found; k++) {
			const struct gql_argument *y = b->items[k];

			if (y && strcmp(s_or(x->name), s_or(y->name)) == 0)
				found = same_value(x->value, y->value);
		}
		if (x && !found)
			return false;
	}
	return true;
}

static bool types_conflict(struct gql_vctx *v, const struct gql_type *a, const struct gql_type *b,
			   int depth)
{
	const struct gql_def *da, *db;

	if (!a || !b || depth > GQL_MAX_DEPTH)
		return false;
	if (a->elem)
		return b->elem ? types_conflict(v, a->elem, b->elem, depth + 1) : true;
	if (b->elem)
		return true;
	if (a->non_null != b->non_null)
		return true;
	da = gql_map_get(&v->schema->types, s_or(a->named));
	db = gql_map_get(&v->schema->types, s_or(b->named));
	if (gql_def_is_leaf(da) || gql_def_is_leaf(db))
		return strcmp(s_or(a->named), s_or(b->named)) != 0;
	return false;
}

static bool is_object(const struct gql_def *def)
{
	return def && strcmp(s_or(def->kind), "OBJECT") == 0;
}

static void report(struct gql_vctx *v, const struct collected *a, const char *reason)
{
	gql_v_error(v, &a->field->pos,
		    "Fields \"%s\" conflict because %s. Use different aliases on the fields to fetch both if this was intentional.",
		    s_or(a->field->alias), reason);
}

/* Compares two fields with the same response name; true when reported. */
static bool compare(struct gql_vctx *v, const struct collected *a, const struct collected *b)
{
	bool exclusive = a->parent != b->parent && is_object(a->parent) && is_object(b->parent);
	struct wd_buf text;

	wd_buf_init(&text, 64, 1024);
	if (!exclusive && strcmp(s_or(a->field->name), s_or(b->field->name)) != 0) {
		if (wd_buf_appendf(&text, "\"%s\" and \"%s\" are different fields", s_or(a->field->name),
				   s_or(b->field->name)) == 0)
			report(v, a, wd_buf_str(&text));
		goto reported;
	}
	if (!exclusive && !same_arguments(&a->field->args, &b->field->args)) {
		report(v, a, "they have differing arguments");
		goto reported;
	}
	if (a->field->def && b->field->def &&
	    types_conflict(v, a->field->def->type, b->field->def->type, 0)) {
		struct wd_buf ta, tb;

		wd_buf_init(&ta, 64, 512);
		wd_buf_init(&tb, 64, 512);
		if (gql_type_string(a->field->def->type, &ta) == 0 &&
		    gql_type_string(b->field->def->type, &tb) == 0 &&
		    wd_buf_appendf(&text, "they return conflicting types \"%s\" and \"%s\"",
				   wd_buf_str(&ta), wd_buf_str(&tb)) == 0)
			report(v, a, wd_buf_str(&text));
		wd_buf_free(&ta);
		wd_buf_free(&tb);
		goto reported;
	}
	wd_buf_free(&text);
	return false;
reported:
	wd_buf_free(&text);
	return true;
}

void gql_v_overlap(struct gql_vctx *v, const struct gql_list *selset, struct gql_def *parent)
{
	struct collector c = { .v = v };
	struct gql_map first = { 0 };

	if (selset->len < 2 && (selset->len == 0 || ((struct gql_selection *)selset->items[0]) == NULL ||
				((struct gql_selection *)selset->items[0])->kind == GQL_SEL_FIELD))
		return;
	collect(&c, selset, parent, 0);

	/* Each field is compared with the first of its response name, and a
	 * response name is reported once. */
	for (size_t i = 0; i < c.len; i++) {
		const char *key = s_or(c.items[i].field->alias);
		uintptr_t at = (uintptr_t)gql_map_get(&first, key);

		if (!at) {
			if (gql_map_put(v->arena, &first, key, (void *)(uintptr_t)(i + 1)) < 0) {
				v->rc = WD_ENOMEM;
				break;
			}
			continue;
		}
		if (at == UINTPTR_MAX)
			continue;
		if (compare(v, &c.items[at - 1], &c.items[i]) &&
		    gql_map_put(v->arena, &first, key, (void *)UINTPTR_MAX) < 0) {
			v->rc = WD_ENOMEM;
			break;
		}
	}
	free(c.items);
}
