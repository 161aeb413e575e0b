/* GraphQL validation rule OverlappingFieldsCanBeMerged (spec section 5.3.2)
 * as gqlparser implements it: fields with one response name must be the
 * same field with the same arguments and types, compared within a
 * selection set, against spread fragments, and between sub-selections. */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "policy/gql.h"

/* Field comparisons one query may cost; past it the rule stops looking, so
 * crafted fragment graphs cannot make validation exponential. */
#define MAX_COMPARISONS 200000

struct group {
	const char *response_name;
	struct gql_list fields;         /* struct gql_selection */
};

struct fields_map {
	struct gql_list groups;         /* struct group, in first-seen order */
	struct gql_map index;           /* response name -> struct group */
};

struct conflict {
	const char *response_name;
	const char *message;            /* NULL when the conflict is in subfields */
	struct gql_list subs;           /* struct conflict */
	const struct gql_pos *pos;
};

struct gql_overlap {
	struct gql_vctx *v;
	struct gql_map compared_pairs;  /* "A\nB" -> 1 (exclusive) or 2 */
	struct gql_map *compared;       /* per selection set: fragment names */
	long budget;
};

static const char *s_or(const char *s)
{
	return s ? s : "";
}

static bool spend(struct gql_overlap *o)
{
	if (o->v->rc < 0 || o->budget <= 0)
		return false;
	o->budget--;
	return true;
}

static void oom(struct gql_overlap *o)
{
	o->v->rc = WD_ENOMEM;
}

static const char *response_name(const struct gql_selection *field)
{
	return s_or(field->alias)[0] ? field->alias : s_or(field->name);
}

static void fields_walk(struct gql_overlap *o, const struct gql_list *selset, struct fields_map *map,
			struct gql_list *spreads, int depth)
{
	if (depth > GQL_MAX_DEPTH)
		return;
	for (size_t i = 0; i < selset->len && o->v->rc == 0; i++) {
		struct gql_selection *sel = selset->items[i];
		struct group *g;

		if (!sel)
			continue;
		if (sel->kind == GQL_SEL_INLINE) {
			fields_walk(o, &sel->selset, map, spreads, depth + 1);
			continue;
		}
		if (sel->kind == GQL_SEL_SPREAD) {
			if (gql_list_push(o->v->arena, spreads, sel) < 0)
				oom(o);
			continue;
		}
		g = gql_map_get(&map->index, response_name(sel));
		if (!g) {
			g = gql_alloc(o->v->arena, sizeof(*g));
			if (!g || gql_map_put(o->v->arena, &map->index, response_name(sel), g) < 0 ||
			    gql_list_push(o->v->arena, &map->groups, g) < 0) {
				oom(o);
				return;
			}
			g->response_name = response_name(sel);
		}
		if (gql_list_push(o->v->arena, &g->fields, sel) < 0)
			oom(o);
	}
}

static struct fields_map *fields_and_spreads(struct gql_overlap *o, const struct gql_list *selset,
					     struct gql_list *spreads)
{
	struct fields_map *map = gql_alloc(o->v->arena, sizeof(*map));

	if (!map) {
		oom(o);
		return NULL;
	}
	fields_walk(o, selset, map, spreads, 0);
	return map;
}

/* reflect.DeepEqual on two field maps: the same fields under the same
 * names in the same order. */
static bool same_fields(const struct fields_map *a, const struct fields_map *b)
{
	if (a->groups.len != b->groups.len)
		return false;
	for (size_t i = 0; i < a->groups.len; i++) {
		const struct group *ga = a->groups.items[i], *gb = b->groups.items[i];

		if (strcmp(ga->response_name, gb->response_name) != 0 || ga->fields.len != gb->fields.len)
			return false;
		for (size_t k = 0; k < ga->fields.len; k++)
			if (ga->fields.items[k] != gb->fields.items[k])
				return false;
	}
	return true;
}

/* gqlparser compares every argument with every other one, and values by
 * kind and raw text only. */
static bool same_arguments(const struct gql_list *a, const struct gql_list *b)
{
	if (a->len != b->len)
		return false;
	for (size_t i = 0; i < a->len; i++) {
		const struct gql_argument *x = a->items[i];

		for (size_t k = 0; k < b->len; k++) {
			const struct gql_argument *y = b->items[k];

			if (!x || !y || strcmp(s_or(x->name), s_or(y->name)) != 0)
				return false;
			if (!x->value || !y->value)
				return x->value == y->value;
			if (x->value->kind != y->value->kind ||
			    strcmp(s_or(x->value->raw), s_or(y->value->raw)) != 0)
				return false;
		}
	}
	return true;
}

static bool types_conflict(struct gql_overlap *o, const struct gql_type *a, const struct gql_type *b,
			   int depth)
{
	const struct gql_def *da, *db;

	if (!a || !b || depth > GQL_MAX_DEPTH)
		return false;
	if (a->elem)
		return b->elem ? types_conflict(o, a->elem, b->elem, depth + 1) : true;
	if (b->elem)
		return true;
	if (a->non_null != b->non_null)
		return true;
	da = gql_map_get(&o->v->schema->types, s_or(a->named));
	db = gql_map_get(&o->v->schema->types, s_or(b->named));
	if (gql_def_is_leaf(da) && gql_def_is_leaf(db))
		return strcmp(s_or(da->name), s_or(db->name)) != 0;
	return false;
}

static const char *type_text(struct gql_overlap *o, const struct gql_type *type)
{
	struct wd_buf buf;
	const char *out;

	wd_buf_init(&buf, 64, 4096);
	if (gql_type_string(type, &buf) < 0)
		oom(o);
	out = gql_strndup(o->v->arena, wd_buf_str(&buf), wd_buf_len(&buf));
	wd_buf_free(&buf);
	if (!out)
		oom(o);
	return out ? out : "";
}

static struct conflict *new_conflict(struct gql_overlap *o, const struct gql_selection *a,
				     const struct gql_selection *b, const char *message)
{
	struct conflict *c = gql_alloc(o->v->arena, sizeof(*c));

	if (!c) {
		oom(o);
		return NULL;
	}
	c->response_name = response_name(a);
	c->message = message;
	c->pos = &b->pos;
	return c;
}

static void conflicts_between_subsets(struct gql_overlap *o, bool exclusive, const struct gql_list *a,
				      const struct gql_list *b, struct gql_list *out, int depth);

static struct conflict *find_conflict(struct gql_overlap *o, bool parents_exclusive,
				      const struct gql_selection *a, const struct gql_selection *b,
				      int depth)
{
	bool exclusive = parents_exclusive;
	struct gql_list subs = { 0 };
	struct conflict *c;

	if (!spend(o) || depth > GQL_MAX_DEPTH)
		return NULL;
	if (!a->def || !a->objdef || !b->def || !b->objdef)
		return NULL;
	if (!exclusive)
		exclusive = strcmp(s_or(a->objdef->name), s_or(b->objdef->name)) != 0 &&
			    strcmp(s_or(a->objdef->kind), "OBJECT") == 0 &&
			    strcmp(s_or(b->objdef->kind), "OBJECT") == 0;

	if (!exclusive) {
		if (strcmp(s_or(a->name), s_or(b->name)) != 0) {
			struct wd_buf text;
			const char *msg;

			wd_buf_init(&text, 64, 4096);
			if (wd_buf_appendf(&text, "%s and %s are different fields", s_or(a->name),
					   s_or(b->name)) < 0)
				oom(o);
			msg = gql_strndup(o->v->arena, wd_buf_str(&text), wd_buf_len(&text));
			wd_buf_free(&text);
			return msg ? new_conflict(o, a, b, msg) : NULL;
		}
		if (!same_arguments(&a->args, &b->args))
			return new_conflict(o, a, b, "they have differing arguments");
	}

	if (types_conflict(o, a->def->type, b->def->type, 0)) {
		struct wd_buf text;
		const char *msg;

		wd_buf_init(&text, 64, 8192);
		if (wd_buf_appendf(&text, "they return conflicting types %s and %s",
				   type_text(o, a->def->type), type_text(o, b->def->type)) < 0)
			oom(o);
		msg = gql_strndup(o->v->arena, wd_buf_str(&text), wd_buf_len(&text));
		wd_buf_free(&text);
		return msg ? new_conflict(o, a, b, msg) : NULL;
	}

	conflicts_between_subsets(o, exclusive, &a->selset, &b->selset, &subs, depth + 1);
	if (subs.len == 0)
		return NULL;
	c = new_conflict(o, a, b, NULL);
	if (c)
		c->subs = subs;
	return c;
}

static void push_conflict(struct gql_overlap *o, struct gql_list *out, struct conflict *c)
{
	if (c && gql_list_push(o->v->arena, out, c) < 0)
		oom(o);
}

static void conflicts_within(struct gql_overlap *o, const struct fields_map *map, struct gql_list *out)
{
	for (size_t g = 0; g < map->groups.len; g++) {
		const struct group *group = map->groups.items[g];

		for (size_t i = 0; i < group->fields.len; i++)
			for (size_t k = i + 1; k < group->fields.len && spend(o); k++)
				push_conflict(o, out, find_conflict(o, false, group->fields.items[i],
								    group->fields.items[k], 0));
	}
}

static void conflicts_between(struct gql_overlap *o, bool exclusive, const struct fields_map *a,
			      const struct fields_map *b, struct gql_list *out, int depth)
{
	for (size_t g = 0; g < a->groups.len; g++) {
		const struct group *ga = a->groups.items[g];
		const struct group *gb = gql_map_get(&b->index, ga->response_name);

		if (!gb)
			continue;
		for (size_t i = 0; i < ga->fields.len; i++)
			for (size_t k = 0; k < gb->fields.len && spend(o); k++)
				push_conflict(o, out, find_conflict(o, exclusive, ga->fields.items[i],
								    gb->fields.items[k], depth));
	}
}

static const struct gql_fragment *spread_fragment(struct gql_overlap *o, const struct gql_selection *s)
{
	return gql_map_get(&o->v->fragments, s_or(s->name));
}

static void between_fields_and_fragment(struct gql_overlap *o, bool exclusive,
					const struct fields_map *fields,
					const struct gql_selection *spread, struct gql_list *out,
					int depth)
{
	const struct gql_fragment *frag;
	struct gql_list spreads = { 0 };
	struct fields_map *other;

	if (!spend(o) || depth > GQL_MAX_DEPTH || gql_map_get(o->compared, s_or(spread->name)))
		return;
	if (gql_map_put(o->v->arena, o->compared, s_or(spread->name), (void *)1) < 0) {
		oom(o);
		return;
	}
	frag = spread_fragment(o, spread);
	if (!frag)
		return;
	other = fields_and_spreads(o, &frag->selset, &spreads);
	if (!other || same_fields(fields, other))
		return;

	conflicts_between(o, exclusive, fields, other, out, depth);
	for (size_t i = 0; i < spreads.len; i++) {
		const struct gql_selection *next = spreads.items[i];

		if (strcmp(s_or(next->name), s_or(spread->name)) == 0)
			continue;
		between_fields_and_fragment(o, exclusive, fields, next, out, depth + 1);
	}
}

/* The pair set remembers whether a pair was compared as mutually exclusive
 * (1) or not (2); a non-exclusive comparison covers both. */
static bool pair_seen(struct gql_overlap *o, const char *a, const char *b, bool exclusive)
{
	struct wd_buf key;
	uintptr_t mark;

	wd_buf_init(&key, 64, 8192);
	if (wd_buf_appendf(&key, "%s\n%s", a, b) < 0) {
		wd_buf_free(&key);
		return true;
	}
	mark = (uintptr_t)gql_map_get(&o->compared_pairs, wd_buf_str(&key));
	wd_buf_free(&key);
	if (!mark)
		return false;
	return exclusive ? true : mark == 2;
}

static void pair_add(struct gql_overlap *o, const char *a, const char *b, bool exclusive)
{
	for (int round = 0; round < 2; round++) {
		struct wd_buf key;
		const char *stored;

		wd_buf_init(&key, 64, 8192);
		if (wd_buf_appendf(&key, "%s\n%s", round ? b : a, round ? a : b) < 0) {
			wd_buf_free(&key);
			oom(o);
			return;
		}
		stored = gql_strndup(o->v->arena, wd_buf_str(&key), wd_buf_len(&key));
		wd_buf_free(&key);
		if (!stored || gql_map_put(o->v->arena, &o->compared_pairs, stored,
					   (void *)(uintptr_t)(exclusive ? 1 : 2)) < 0) {
			oom(o);
			return;
		}
	}
}

static void between_fragments(struct gql_overlap *o, bool exclusive, const struct gql_selection *a,
			      const struct gql_selection *b, struct gql_list *out, int depth)
{
	const struct gql_fragment *fa, *fb;
	struct gql_list spreads_a = { 0 }, spreads_b = { 0 };
	struct fields_map *ma, *mb;

	if (!spend(o) || depth > GQL_MAX_DEPTH)
		return;
	if (strcmp(s_or(a->name), s_or(b->name)) == 0 ||
	    pair_seen(o, s_or(a->name), s_or(b->name), exclusive))
		return;
	pair_add(o, s_or(a->name), s_or(b->name), exclusive);

	fa = spread_fragment(o, a);
	fb = spread_fragment(o, b);
	if (!fa || !fb)
		return;
	ma = fields_and_spreads(o, &fa->selset, &spreads_a);
	mb = fields_and_spreads(o, &fb->selset, &spreads_b);
	if (!ma || !mb)
		return;

	conflicts_between(o, exclusive, ma, mb, out, depth);
	for (size_t i = 0; i < spreads_b.len; i++)
		between_fragments(o, exclusive, a, spreads_b.items[i], out, depth + 1);
	for (size_t i = 0; i < spreads_a.len; i++)
		between_fragments(o, exclusive, spreads_a.items[i], b, out, depth + 1);
}

static void conflicts_between_subsets(struct gql_overlap *o, bool exclusive, const struct gql_list *a,
				      const struct gql_list *b, struct gql_list *out, int depth)
{
	struct gql_list spreads_a = { 0 }, spreads_b = { 0 };
	struct fields_map *ma = fields_and_spreads(o, a, &spreads_a);
	struct fields_map *mb = fields_and_spreads(o, b, &spreads_b);

	if (!ma || !mb)
		return;
	conflicts_between(o, exclusive, ma, mb, out, depth);
	for (size_t i = 0; i < spreads_b.len; i++) {
		gql_map_clear(o->compared);
		between_fields_and_fragment(o, exclusive, ma, spreads_b.items[i], out, depth + 1);
	}
	for (size_t i = 0; i < spreads_a.len; i++) {
		gql_map_clear(o->compared);
		between_fields_and_fragment(o, exclusive, mb, spreads_a.items[i], out, depth + 1);
	}
	for (size_t i = 0; i < spreads_a.len; i++)
		for (size_t k = 0; k < spreads_b.len; k++)
			between_fragments(o, exclusive, spreads_a.items[i], spreads_b.items[k], out,
					  depth + 1);
}

static int conflict_text(const struct conflict *c, struct wd_buf *out, int depth)
{
	if (depth > GQL_MAX_DEPTH)
		return 0;
	if (c->subs.len == 0)
		return wd_buf_append_str(out, s_or(c->message));
	for (size_t i = 0; i < c->subs.len; i++) {
		const struct conflict *sub = c->subs.items[i];

		WD_TRY(wd_buf_appendf(out, "subfields \"%s\" conflict because ", sub->response_name));
		WD_TRY(conflict_text(sub, out, depth + 1));
		if (i + 1 < c->subs.len)
			WD_TRY(wd_buf_append_str(out, " and "));
	}
	return 0;
}

/* One state per validation run, kept in the run's arena. */
static struct gql_overlap *state(struct gql_vctx *v)
{
	struct gql_overlap *o = v->overlap;

	if (o)
		return o;
	o = gql_alloc(v->arena, sizeof(*o));
	if (!o)
		return NULL;
	o->compared = gql_alloc(v->arena, sizeof(*o->compared));
	if (!o->compared)
		return NULL;
	o->v = v;
	o->budget = MAX_COMPARISONS;
	v->overlap = o;
	return o;
}

void gql_v_overlap(struct gql_vctx *v, const struct gql_list *selset, struct gql_def *parent)
{
	struct gql_overlap *o = state(v);
	struct gql_list spreads = { 0 }, conflicts = { 0 };
	struct fields_map *fields;

	(void)parent;
	if (!o) {
		v->rc = WD_ENOMEM;
		return;
	}
	if (selset->len == 0)
		return;
	fields = fields_and_spreads(o, selset, &spreads);
	if (!fields)
		return;

	conflicts_within(o, fields, &conflicts);
	{
		gql_map_clear(o->compared);
	}
	for (size_t i = 0; i < spreads.len; i++) {
		between_fields_and_fragment(o, false, fields, spreads.items[i], &conflicts, 0);
		for (size_t k = i + 1; k < spreads.len; k++)
			between_fragments(o, false, spreads.items[i], spreads.items[k], &conflicts, 0);
	}

	for (size_t i = 0; i < conflicts.len; i++) {
		const struct conflict *c = conflicts.items[i];
		struct wd_buf text;

		wd_buf_init(&text, 128, 16 * 1024);
		if (conflict_text(c, &text, 0) < 0)
			oom(o);
		gql_v_error(v, c->pos,
			    "Fields \"%s\" conflict because %s. Use different aliases on the fields to fetch both if this was intentional.",
			    c->response_name, wd_buf_str(&text));
		wd_buf_free(&text);
	}
}
