/* GraphQL query validation (spec section 5, October 2021 edition): walks an
 * executable document against a schema in gqlparser's order and applies its
 * rules, so errors come out in the order OPA reports them. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "policy/gql.h"

/* Fragment spreads are walked inline, so a chain of fragments nests the
 * walk; past this depth the query is reported as too deeply nested. */
#define MAX_WALK_DEPTH 1000

static const char *s_or(const char *s)
{
	return s ? s : "";
}

void gql_v_error(struct gql_vctx *v, const struct gql_pos *pos, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int rc;

	v->nerrors++;
	if (v->nerrors > GQL_MAX_ERRORS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (pos && pos->line > 0)
		rc = wd_buf_appendf(v->out, "input:%d:%d: %s\n", pos->line, pos->col, msg);
	else
		rc = wd_buf_appendf(v->out, "input: %s\n", msg);
	if (rc < 0)
		v->rc = rc;
}

static bool mark(struct gql_vctx *v, struct gql_map *map, const char *name)
{
	if (gql_map_put(v->arena, map, s_or(name), (void *)1) < 0) {
		v->rc = WD_ENOMEM;
		return false;
	}
	return true;
}

static bool seen(const struct gql_map *map, const char *name)
{
	return gql_map_get(map, s_or(name)) != NULL;
}

static struct gql_def *type_named(struct gql_vctx *v, const char *name)
{
	return gql_map_get(&v->schema->types, s_or(name));
}

static const char *type_text(char *out, size_t cap, const struct gql_type *type)
{
	struct wd_buf buf;

	wd_buf_init(&buf, 64, cap - 1);
	if (gql_type_string(type, &buf) < 0)
		snprintf(out, cap, "%s", gql_type_name(type));
	else
		snprintf(out, cap, "%s", wd_buf_str(&buf));
	wd_buf_free(&buf);
	return out;
}

static struct gql_argument *find_argument(const struct gql_list *args, const char *name)
{
	for (size_t i = 0; i < args->len; i++) {
		struct gql_argument *a = args->items[i];

		if (a && strcmp(s_or(a->name), name) == 0)
			return a;
	}
	return NULL;
}

static bool kind_is(const struct gql_def *def, const char *kind)
{
	return def && strcmp(s_or(def->kind), kind) == 0;
}

/* The names of a list of field or argument definitions, for suggestions. */
static struct gql_list def_names(struct gql_vctx *v, const struct gql_list *defs)
{
	struct gql_list names = { 0 };

	for (size_t i = 0; i < defs->len; i++) {
		const struct gql_fielddef *f = defs->items[i];

		if (f && gql_list_push(v->arena, &names, (void *)s_or(f->name)) < 0) {
			v->rc = WD_ENOMEM;
			break;
		}
	}
	return names;
}

static void unknown_argument(struct gql_vctx *v, const struct gql_pos *pos, const char *what,
			     const char *arg, const struct gql_list *defs)
{
	struct gql_list names = def_names(v, defs);
	struct wd_buf msg;

	wd_buf_init(&msg, 128, 4096);
	if (wd_buf_appendf(&msg, "Unknown argument \"%s\" on %s.", arg, what) < 0 ||
	    gql_suggest(&msg, "Did you mean", arg, &names, true) < 0)
		v->rc = WD_ENOMEM;
	gql_v_error(v, pos, "%s", wd_buf_str(&msg));
	wd_buf_free(&msg);
}

/* ---- rules on fields, directives and arguments ---- */

static void unique_arguments(struct gql_vctx *v, const struct gql_list *args)
{
	struct gql_map names = { 0 };

	for (size_t i = 0; i < args->len; i++) {
		const struct gql_argument *a = args->items[i];

		if (!a)
			continue;
		if (seen(&names, a->name))
			gql_v_error(v, &a->pos, "There can be only one argument named \"%s\".", s_or(a->name));
		else if (!mark(v, &names, a->name))
			return;
	}
}

static void required_arguments(struct gql_vctx *v, const struct gql_list *defs,
			       const struct gql_list *args, const char *what, const char *name,
			       const struct gql_pos *pos)
{
	char text[256];

	for (size_t i = 0; i < defs->len; i++) {
		const struct gql_fielddef *def = defs->items[i];

		if (!def || !def->type || !def->type->non_null || def->default_value)
			continue;
		if (find_argument(args, s_or(def->name)))
			continue;
		gql_v_error(v, pos, "%s \"%s%s\" argument \"%s\" of type \"%s\" is required, but it was not provided.",
			    what, what[0] == 'D' ? "@" : "", name, s_or(def->name),
			    type_text(text, sizeof(text), def->type));
	}
}

/* A directive in a fragment is walked again with each spread; gqlparser
 * reports a misplaced one once per name and position. */
static void misplaced_directive(struct gql_vctx *v, const struct gql_directive *dir)
{
	char key[600];
	char *stored;

	snprintf(key, sizeof(key), "%s\n%d:%d", s_or(dir->name), dir->pos.line, dir->pos.col);
	if (gql_map_get(&v->misplaced, key))
		return;
	stored = gql_strndup(v->arena, key, strlen(key));
	if (!stored || gql_map_put(v->arena, &v->misplaced, stored, (void *)1) < 0) {
		v->rc = WD_ENOMEM;
		return;
	}
	gql_v_error(v, &dir->pos, "Directive \"@%s\" may not be used on %s.", s_or(dir->name),
		    dir->location);
}

static void on_directive(struct gql_vctx *v, struct gql_directive *dir)
{
	/* KnownArgumentNames */
	if (dir->def) {
		for (size_t i = 0; i < dir->args.len; i++) {
			const struct gql_argument *a = dir->args.items[i];

			if (a && !gql_find_field(&dir->def->args, s_or(a->name))) {
				char what[300];

				snprintf(what, sizeof(what), "directive \"@%s\"", s_or(dir->name));
				unknown_argument(v, &dir->pos, what, s_or(a->name), &dir->def->args);
			}
		}
	}

	/* KnownDirectives */
	if (!dir->def) {
		gql_v_error(v, &dir->pos, "Unknown directive \"@%s\".", s_or(dir->name));
	} else {
		bool allowed = false;

		for (size_t i = 0; i < dir->def->locations.len; i++)
			if (strcmp(s_or(dir->def->locations.items[i]), dir->location) == 0)
				allowed = true;
		if (!allowed)
			misplaced_directive(v, dir);
	}

	/* ProvidedRequiredArguments */
	if (dir->def)
		required_arguments(v, &dir->def->args, &dir->args, "Directive", s_or(dir->name),
				   &dir->pos);

	/* UniqueArgumentNames */
	unique_arguments(v, &dir->args);
}

/* UniqueDirectivesPerLocation, which in gqlparser exempts a directive
 * literally named "repeatable" rather than repeatable directives. */
static void on_directive_list(struct gql_vctx *v, const struct gql_list *dirs)
{
	struct gql_map names = { 0 };

	for (size_t i = 0; i < dirs->len; i++) {
		const struct gql_directive *dir = dirs->items[i];

		if (!dir)
			continue;
		if (strcmp(s_or(dir->name), "repeatable") != 0 && seen(&names, dir->name))
			gql_v_error(v, &dir->pos,
				    "The directive \"@%s\" can only be used once at this location.",
				    s_or(dir->name));
		if (!mark(v, &names, dir->name))
			return;
	}
}

struct type_count {
	const char *name;
	size_t count;
};

static int compare_type_counts(const void *a, const void *b)
{
	const struct type_count *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The types under an abstract parent that have the field, interfaces
 * first, ordered by how many of those types implement them, then by name. */
static size_t suggest_types(struct gql_vctx *v, const struct gql_def *parent, const char *name,
			    struct type_count **ret)
{
	const struct gql_list *possible = gql_map_get(&v->schema->possible, s_or(parent->name));
	struct gql_list objects = { 0 }, interfaces = { 0 };
	struct gql_map counts = { 0 };
	struct type_count *out;
	size_t n = 0;

	*ret = NULL;
	if (!kind_is(parent, "INTERFACE") && !kind_is(parent, "UNION"))
		return 0;
	for (size_t i = 0; possible && i < possible->len; i++) {
		const struct gql_def *pt = possible->items[i];

		if (!pt || !gql_find_field(&pt->fields, name))
			continue;
		if (gql_list_push(v->arena, &objects, (void *)s_or(pt->name)) < 0)
			goto oom;
		for (size_t k = 0; k < pt->interfaces.len; k++) {
			const char *intf = s_or(pt->interfaces.items[k]);
			const struct gql_def *idef = type_named(v, intf);
			size_t *count;

			if (!idef || !gql_find_field(&idef->fields, name))
				continue;
			count = gql_map_get(&counts, intf);
			if (!count) {
				count = gql_alloc(v->arena, sizeof(*count));
				if (!count || gql_map_put(v->arena, &counts, intf, count) < 0 ||
				    gql_list_push(v->arena, &interfaces, (void *)intf) < 0)
					goto oom;
			}
			(*count)++;
		}
	}
	if (objects.len + interfaces.len == 0)
		return 0;
	out = gql_alloc(v->arena, (objects.len + interfaces.len) * sizeof(*out));
	if (!out)
		goto oom;
	for (size_t i = 0; i < interfaces.len; i++, n++)
		out[n].name = interfaces.items[i];
	for (size_t i = 0; i < objects.len; i++, n++)
		out[n].name = objects.items[i];
	for (size_t i = 0; i < n; i++) {
		size_t *count = gql_map_get(&counts, out[i].name);

		out[i].count = count ? *count : 0;
	}
	qsort(out, n, sizeof(*out), compare_type_counts);
	*ret = out;
	return n;
oom:
	v->rc = WD_ENOMEM;
	return 0;
}

static void unknown_field(struct gql_vctx *v, const struct gql_selection *field)
{
	const struct gql_def *parent = field->objdef;
	struct type_count *types;
	size_t ntypes = suggest_types(v, parent, s_or(field->name), &types);
	struct wd_buf msg;
	int rc;

	wd_buf_init(&msg, 128, 4096);
	rc = wd_buf_appendf(&msg, "Cannot query field \"%s\" on type \"%s\".", s_or(field->name),
			    s_or(parent->name));
	if (rc == 0 && ntypes) {
		const char *names[5];
		size_t n = ntypes < 5 ? ntypes : 5;

		for (size_t i = 0; i < n; i++)
			names[i] = types[i].name;
		rc = gql_or_list(&msg, "Did you mean to use an inline fragment on", names, n, true);
	} else if (rc == 0 && (kind_is(parent, "OBJECT") || kind_is(parent, "INTERFACE"))) {
		struct gql_list names = def_names(v, &parent->fields);

		rc = gql_suggest(&msg, "Did you mean", s_or(field->name), &names, true);
	}
	if (rc < 0)
		v->rc = rc;
	gql_v_error(v, &field->pos, "%s", wd_buf_str(&msg));
	wd_buf_free(&msg);
}

static void on_field(struct gql_vctx *v, struct gql_selection *field)
{
	char text[256];

	/* FieldsOnCorrectType */
	if (field->objdef && !field->def)
		unknown_field(v, field);

	/* KnownArgumentNames */
	if (field->def && field->objdef) {
		for (size_t i = 0; i < field->args.len; i++) {
			const struct gql_argument *a = field->args.items[i];

			if (a && !gql_find_field(&field->def->args, s_or(a->name))) {
				char what[600];

				snprintf(what, sizeof(what), "field \"%s.%s\"", s_or(field->objdef->name),
					 s_or(field->name));
				unknown_argument(v, &field->pos, what, s_or(a->name), &field->def->args);
			}
		}
	}

	/* OverlappingFieldsCanBeMerged, which gqlparser skips outside an
	 * operation to avoid reporting fragment conflicts twice. */
	if (v->op)
		gql_v_overlap(v, &field->selset, NULL);

	/* ProvidedRequiredArguments */
	if (field->def)
		required_arguments(v, &field->def->args, &field->args, "Field", s_or(field->name),
				   &field->pos);

	/* ScalarLeafs */
	if (field->def) {
		const struct gql_def *type = type_named(v, gql_type_name(field->def->type));

		if (type && gql_def_is_leaf(type) && field->selset.len > 0)
			gql_v_error(v, &field->pos,
				    "Field \"%s\" must not have a selection since type \"%s\" has no subfields.",
				    s_or(field->name), s_or(type->name));
		else if (type && !gql_def_is_leaf(type) && field->selset.len == 0)
			gql_v_error(v, &field->pos,
				    "Field \"%s\" of type \"%s\" must have a selection of subfields. Did you mean \"%s { ... }\"?",
				    s_or(field->name), type_text(text, sizeof(text), field->def->type),
				    s_or(field->name));
	}

	/* UniqueArgumentNames */
	unique_arguments(v, &field->args);
}

/* PossibleFragmentSpreads: some object type must be both the parent and the
 * fragment's type. */
static bool spread_possible(struct gql_vctx *v, const struct gql_def *parent, const char *type_cond)
{
	const struct gql_def *frag_type = type_named(v, type_cond);
	const struct gql_list *parents, *frags;

	if (!parent || !frag_type || !gql_def_is_composite(frag_type))
		return true;
	if (!kind_is(parent, "OBJECT") && !kind_is(parent, "INTERFACE") && !kind_is(parent, "UNION"))
		return true;

	frags = gql_map_get(&v->schema->possible, s_or(frag_type->name));
	parents = gql_map_get(&v->schema->possible, s_or(parent->name));
	for (size_t i = 0; frags && i < frags->len; i++) {
		const struct gql_def *f = frags->items[i];

		if (!f)
			continue;
		if (kind_is(parent, "OBJECT")) {
			if (strcmp(s_or(f->name), s_or(parent->name)) == 0)
				return true;
			continue;
		}
		for (size_t k = 0; parents && k < parents->len; k++) {
			const struct gql_def *p = parents->items[k];

			if (p && strcmp(s_or(p->name), s_or(f->name)) == 0)
				return true;
		}
	}
	return false;
}

static void on_inline_fragment(struct gql_vctx *v, struct gql_selection *sel, struct gql_def *next)
{
	const char *tc = s_or(sel->type_cond);
	const struct gql_def *type = type_named(v, tc);

	/* FragmentsOnCompositeTypes */
	if (type && !gql_def_is_composite(type))
		gql_v_error(v, &sel->pos, "Fragment cannot condition on non composite type \"%s\".", tc);

	/* KnownTypeNames */
	if (tc[0] && !type)
		gql_v_error(v, &sel->pos, "Unknown type \"%s\".", tc);

	/* OverlappingFieldsCanBeMerged */
	gql_v_overlap(v, &sel->selset, next);

	/* PossibleFragmentSpreads */
	if (!spread_possible(v, sel->objdef, tc))
		gql_v_error(v, &sel->pos,
			    "Fragment cannot be spread here as objects of type \"%s\" can never be of type \"%s\".",
			    s_or(sel->objdef->name), tc);
}

static void on_fragment_spread(struct gql_vctx *v, struct gql_selection *sel)
{
	/* KnownFragmentNames */
	if (!sel->frag)
		gql_v_error(v, &sel->pos, "Unknown fragment \"%s\".", s_or(sel->name));

	/* NoUnusedFragments */
	if (!v->in_fragment_defs)
		mark(v, &v->fragment_used, sel->name);

	/* PossibleFragmentSpreads */
	if (sel->frag && !spread_possible(v, sel->objdef, s_or(sel->frag->type_cond)))
		gql_v_error(v, &sel->pos,
			    "Fragment \"%s\" cannot be spread here as objects of type \"%s\" can never be of type \"%s\".",
			    s_or(sel->name), s_or(sel->objdef->name), s_or(sel->frag->type_cond));
}

/* ---- the walk ---- */

static void walk_value(struct gql_vctx *v, struct gql_value *value, int depth)
{
	if (!value || depth > GQL_MAX_DEPTH)
		return;

	if (value->kind == GQL_VARIABLE && v->op) {
		value->vardef = NULL;
		for (size_t i = 0; i < v->op->vardefs.len; i++) {
			struct gql_vardef *d = v->op->vardefs.items[i];

			if (d && strcmp(s_or(d->variable), s_or(value->raw)) == 0) {
				value->vardef = d;
				d->used = true;
				break;
			}
		}
	}

	for (size_t i = 0; i < value->children.len; i++) {
		struct gql_child *child = value->children.items[i];

		if (!child || !child->value)
			continue;
		if (value->kind == GQL_OBJECT && value->def) {
			const struct gql_fielddef *f = gql_find_field(&value->def->fields, s_or(child->name));

			if (f) {
				child->value->expected = f->type;
				child->value->def = type_named(v, gql_type_name(f->type));
			}
		} else if (value->kind == GQL_LIST && value->expected && value->expected->elem) {
			child->value->expected = value->expected->elem;
			child->value->def = value->def;
		}
		if (value->kind == GQL_OBJECT || value->kind == GQL_LIST)
			walk_value(v, child->value, depth + 1);
	}

	gql_v_value_rules(v, value);
}

static void walk_argument(struct gql_vctx *v, const struct gql_fielddef *def, struct gql_argument *arg)
{
	if (!arg->value)
		return;
	if (def) {
		arg->value->expected = def->type;
		arg->value->def = type_named(v, gql_type_name(def->type));
	}
	walk_value(v, arg->value, 0);
}

static void walk_directives(struct gql_vctx *v, const struct gql_list *dirs, const char *location)
{
	for (size_t i = 0; i < dirs->len; i++) {
		struct gql_directive *dir = dirs->items[i];

		if (!dir)
			continue;
		dir->def = gql_map_get(&v->schema->directives, s_or(dir->name));
		dir->location = location;
		for (size_t k = 0; k < dir->args.len; k++) {
			struct gql_argument *arg = dir->args.items[k];

			if (arg)
				walk_argument(v, dir->def ? gql_find_field(&dir->def->args, s_or(arg->name)) : NULL,
					      arg);
		}
		on_directive(v, dir);
	}
	on_directive_list(v, dirs);
}

static void walk_selection_set(struct gql_vctx *v, struct gql_def *parent, const struct gql_list *selset);

static void walk_field(struct gql_vctx *v, struct gql_def *parent, struct gql_selection *sel)
{
	struct gql_def *next = NULL;

	if (strcmp(s_or(sel->name), "__typename") == 0)
		sel->def = &v->typename_def;
	else
		sel->def = parent ? gql_find_field(&parent->fields, s_or(sel->name)) : NULL;
	sel->objdef = parent;
	if (sel->def)
		next = type_named(v, gql_type_name(sel->def->type));

	for (size_t i = 0; i < sel->args.len; i++) {
		struct gql_argument *arg = sel->args.items[i];

		if (arg)
			walk_argument(v, sel->def ? gql_find_field(&sel->def->args, s_or(arg->name)) : NULL,
				      arg);
	}
	walk_directives(v, &sel->directives, "FIELD");
	walk_selection_set(v, next, &sel->selset);
	on_field(v, sel);
}

static void walk_selection(struct gql_vctx *v, struct gql_def *parent, struct gql_selection *sel)
{
	struct gql_def *next;

	switch (sel->kind) {
	case GQL_SEL_FIELD:
		walk_field(v, parent, sel);
		break;
	case GQL_SEL_INLINE:
		sel->objdef = parent;
		next = parent;
		if (s_or(sel->type_cond)[0])
			next = type_named(v, sel->type_cond);
		walk_directives(v, &sel->directives, "INLINE_FRAGMENT");
		walk_selection_set(v, next, &sel->selset);
		on_inline_fragment(v, sel, next);
		break;
	case GQL_SEL_SPREAD:
		sel->frag = gql_map_get(&v->fragments, s_or(sel->name));
		sel->objdef = parent;
		next = sel->frag ? type_named(v, sel->frag->type_cond) : NULL;
		walk_directives(v, &sel->directives, "FRAGMENT_SPREAD");
		if (sel->frag && !seen(&v->spread_walked, sel->frag->name)) {
			/* Each fragment is walked once per operation, which also
			 * stops cycles. */
			if (mark(v, &v->spread_walked, sel->frag->name))
				walk_selection_set(v, next, &sel->frag->selset);
		}
		on_fragment_spread(v, sel);
		break;
	}
}

static void walk_selection_set(struct gql_vctx *v, struct gql_def *parent, const struct gql_list *selset)
{
	if (v->depth >= MAX_WALK_DEPTH) {
		const struct gql_selection *first = selset->len ? selset->items[0] : NULL;

		if (!v->too_deep)
			gql_v_error(v, first ? &first->pos : NULL, "Query nesting exceeds %d levels.",
				    MAX_WALK_DEPTH);
		v->too_deep = true;
		return;
	}
	v->depth++;
	for (size_t i = 0; i < selset->len && v->rc == 0; i++)
		if (selset->items[i])
			walk_selection(v, parent, selset->items[i]);
	v->depth--;
}

/* ---- operation and fragment rules ---- */

/* The distinct field names a subscription selects at its top level,
 * through inline fragments and spreads, as gqlparser collects them. A spread
 * of an unknown fragment ends the scan of its selection set. */
static void top_fields(struct gql_vctx *v, const struct gql_list *selset, struct gql_map *spread,
		       struct gql_map *names, struct gql_list *out, int depth)
{
	if (depth > GQL_MAX_DEPTH)
		return;
	for (size_t i = 0; i < selset->len && v->rc == 0; i++) {
		const struct gql_selection *sel = selset->items[i];

		if (!sel)
			continue;
		if (sel->kind == GQL_SEL_FIELD) {
			if (gql_map_get(names, s_or(sel->name)))
				continue;
			if (gql_map_put(v->arena, names, s_or(sel->name), (void *)1) < 0 ||
			    gql_list_push(v->arena, out, (void *)sel) < 0)
				v->rc = WD_ENOMEM;
		} else if (sel->kind == GQL_SEL_INLINE) {
			top_fields(v, &sel->selset, spread, names, out, depth + 1);
		} else {
			if (!sel->frag)
				return;
			if (gql_map_get(spread, s_or(sel->frag->name)))
				continue;
			if (gql_map_put(v->arena, spread, s_or(sel->frag->name), (void *)1) < 0) {
				v->rc = WD_ENOMEM;
				return;
			}
			top_fields(v, &sel->frag->selset, spread, names, out, depth + 1);
		}
	}
}

static void single_field_subscription(struct gql_vctx *v, const struct gql_operation *op)
{
	struct gql_map spread = { 0 }, names = { 0 };
	struct gql_list fields = { 0 };
	char who[300];

	if (s_or(op->name)[0])
		snprintf(who, sizeof(who), "Subscription \"%s\"", op->name);
	else
		snprintf(who, sizeof(who), "Anonymous Subscription");

	top_fields(v, &op->selset, &spread, &names, &fields, 0);
	if (fields.len > 1) {
		const struct gql_selection *second = fields.items[1];

		gql_v_error(v, &second->pos, "%s must select only one top level field.", who);
	}
	for (size_t i = 0; i < fields.len; i++) {
		const struct gql_selection *f = fields.items[i];

		if (strncmp(s_or(f->name), "__", 2) == 0)
			gql_v_error(v, &f->pos, "%s must not select an introspection top level field.", who);
	}
}

static void on_operation(struct gql_vctx *v, struct gql_operation *op, struct gql_def *root)
{
	const char *name = s_or(op->name);
	struct gql_map var_counts = { 0 };
	char text[256];

	/* KnownRootType */
	if (!root)
		gql_v_error(v, &op->pos, "Schema does not support operation type \"%s\"",
			    s_or(op->operation));

	/* KnownTypeNames */
	for (size_t i = 0; i < op->vardefs.len; i++) {
		const struct gql_vardef *d = op->vardefs.items[i];

		if (d && !type_named(v, gql_type_name(d->type)))
			gql_v_error(v, &op->pos, "Unknown type \"%s\".", gql_type_name(d->type));
	}

	/* LoneAnonymousOperation */
	if (!name[0] && v->doc->operations.len > 1)
		gql_v_error(v, &op->pos, "This anonymous operation must be the only defined operation.");

	/* NoUnusedVariables */
	for (size_t i = 0; i < op->vardefs.len; i++) {
		const struct gql_vardef *d = op->vardefs.items[i];

		if (!d || d->used)
			continue;
		if (name[0])
			gql_v_error(v, &d->pos, "Variable \"$%s\" is never used in operation \"%s\".",
				    s_or(d->variable), name);
		else
			gql_v_error(v, &d->pos, "Variable \"$%s\" is never used.", s_or(d->variable));
	}

	/* OverlappingFieldsCanBeMerged */
	gql_v_overlap(v, &op->selset, root);

	/* SingleFieldSubscriptions */
	if (v->schema->subscription && strcmp(s_or(op->operation), "subscription") == 0)
		single_field_subscription(v, op);

	/* UniqueOperationNames */
	if (seen(&v->op_names, name))
		gql_v_error(v, &op->pos, "There can be only one operation named \"%s\".", name);
	mark(v, &v->op_names, name);

	/* UniqueVariableNames: reported at the second definition only. */
	for (size_t i = 0; i < op->vardefs.len; i++) {
		const struct gql_vardef *d = op->vardefs.items[i];
		size_t *count;

		if (!d)
			continue;
		count = gql_map_get(&var_counts, s_or(d->variable));
		if (!count) {
			count = gql_alloc(v->arena, sizeof(*count));
			if (!count || gql_map_put(v->arena, &var_counts, s_or(d->variable), count) < 0) {
				v->rc = WD_ENOMEM;
				return;
			}
		}
		if (++*count == 2)
			gql_v_error(v, &d->pos, "There can be only one variable named \"$%s\".",
				    s_or(d->variable));
	}

	/* VariablesAreInputTypes */
	for (size_t i = 0; i < op->vardefs.len; i++) {
		const struct gql_vardef *d = op->vardefs.items[i];

		if (d && d->def && !gql_def_is_input(d->def))
			gql_v_error(v, &d->pos, "Variable \"$%s\" cannot be non-input type \"%s\".",
				    s_or(d->variable), type_text(text, sizeof(text), d->type));
	}
}

static void walk_operation(struct gql_vctx *v, struct gql_operation *op)
{
	const char *kind = s_or(op->operation);
	struct gql_def *root = NULL;
	const char *location = "";

	v->op = op;
	for (size_t i = 0; i < op->vardefs.len; i++) {
		struct gql_vardef *d = op->vardefs.items[i];

		if (!d)
			continue;
		d->def = type_named(v, gql_type_name(d->type));
		if (d->default_value) {
			d->default_value->expected = d->type;
			d->default_value->def = d->def;
		}
	}

	if (strcmp(kind, "query") == 0 || !kind[0]) {
		root = v->schema->query;
		location = "QUERY";
	} else if (strcmp(kind, "mutation") == 0) {
		root = v->schema->mutation;
		location = "MUTATION";
	} else if (strcmp(kind, "subscription") == 0) {
		root = v->schema->subscription;
		location = "SUBSCRIPTION";
	}

	walk_directives(v, &op->directives, location);
	for (size_t i = 0; i < op->vardefs.len; i++) {
		struct gql_vardef *d = op->vardefs.items[i];

		if (d && d->default_value)
			walk_value(v, d->default_value, 0);
	}
	walk_selection_set(v, root, &op->selset);
	on_operation(v, op, root);
	v->op = NULL;
}

/* The spreads of a selection set, through fields and inline fragments, in
 * gqlparser's order: a stack of sets, each scanned front to back. */
static int collect_spreads(struct gql_vctx *v, const struct gql_list *selset, struct gql_list *out)
{
	struct gql_list stack = { 0 };

	WD_TRY(gql_list_push(v->arena, &stack, (void *)selset));
	while (stack.len) {
		const struct gql_list *set = stack.items[--stack.len];

		for (size_t i = 0; i < set->len; i++) {
			struct gql_selection *sel = set->items[i];

			if (!sel)
				continue;
			if (sel->kind == GQL_SEL_SPREAD)
				WD_TRY(gql_list_push(v->arena, out, sel));
			else
				WD_TRY(gql_list_push(v->arena, &stack, &sel->selset));
		}
	}
	return 0;
}

struct cycle_state {
	struct gql_list path;           /* struct gql_selection spreads */
	struct gql_map index;           /* fragment name -> path index + 1 */
};

static void detect_cycles(struct gql_vctx *v, struct cycle_state *st, const struct gql_fragment *frag,
			  int depth)
{
	struct gql_list spreads = { 0 };

	if (seen(&v->cycle_visited, frag->name) || depth > MAX_WALK_DEPTH)
		return;
	if (!mark(v, &v->cycle_visited, frag->name))
		return;
	if (collect_spreads(v, &frag->selset, &spreads) < 0) {
		v->rc = WD_ENOMEM;
		return;
	}
	if (spreads.len == 0)
		return;
	if (gql_map_put(v->arena, &st->index, s_or(frag->name), (void *)(uintptr_t)(st->path.len + 1)) < 0) {
		v->rc = WD_ENOMEM;
		return;
	}

	for (size_t i = 0; i < spreads.len && v->rc == 0; i++) {
		struct gql_selection *spread = spreads.items[i];
		uintptr_t cycle = (uintptr_t)gql_map_get(&st->index, s_or(spread->name));

		if (gql_list_push(v->arena, &st->path, spread) < 0) {
			v->rc = WD_ENOMEM;
			return;
		}
		if (!cycle) {
			const struct gql_fragment *next = gql_map_get(&v->fragments, s_or(spread->name));

			if (next)
				detect_cycles(v, st, next, depth + 1);
		} else {
			struct wd_buf via;

			wd_buf_init(&via, 64, 512);
			for (size_t k = cycle - 1; k + 1 < st->path.len; k++) {
				const struct gql_selection *s = st->path.items[k];

				if (wd_buf_appendf(&via, "%s\"%s\"", k + 1 == cycle ? " via " : ", ",
						   s_or(s->name)) < 0)
					break;
			}
			gql_v_error(v, &spread->pos, "Cannot spread fragment \"%s\" within itself%s.",
				    s_or(spread->name), wd_buf_str(&via));
			wd_buf_free(&via);
		}
		st->path.len--;
	}
	/* Removing the entry: a zero index means "not on the path". */
	if (gql_map_put(v->arena, &st->index, s_or(frag->name), NULL) < 0)
		v->rc = WD_ENOMEM;
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Reports an unknown fragment type with the schema's types close to it.
 * NOTE: gqlparser ranks them from a Go map, so types at the same distance
 * come in an unspecified order there. Here they come in name order. */
static void unknown_fragment_type(struct gql_vctx *v, const struct gql_fragment *frag)
{
	const struct gql_map *types = &v->schema->types;
	struct gql_list names = { 0 };
	struct wd_buf msg;

	for (size_t i = 0; i < types->cap; i++)
		if (types->keys[i] && gql_list_push(v->arena, &names, (void *)types->keys[i]) < 0)
			v->rc = WD_ENOMEM;
	if (names.len)
		qsort(names.items, names.len, sizeof(*names.items), compare_strings);
	wd_buf_init(&msg, 128, 8192);
	if (wd_buf_appendf(&msg, "Unknown type \"%s\".", s_or(frag->type_cond)) < 0 ||
	    gql_suggest(&msg, "Did you mean", s_or(frag->type_cond), &names, true) < 0)
		v->rc = WD_ENOMEM;
	gql_v_error(v, &frag->pos, "%s", wd_buf_str(&msg));
	wd_buf_free(&msg);
}

static void on_fragment(struct gql_vctx *v, struct gql_fragment *frag)
{
	const char *tc = s_or(frag->type_cond);
	struct cycle_state st = { 0 };

	/* FragmentsOnCompositeTypes */
	if (frag->def && tc[0] && !gql_def_is_composite(frag->def))
		gql_v_error(v, &frag->pos, "Fragment \"%s\" cannot condition on non composite type \"%s\".",
			    s_or(frag->name), tc);

	/* KnownTypeNames */
	if (!type_named(v, tc))
		unknown_fragment_type(v, frag);

	/* NoFragmentCycles */
	detect_cycles(v, &st, frag, 0);

	/* NoUnusedFragments */
	v->in_fragment_defs = true;
	if (!seen(&v->fragment_used, frag->name))
		gql_v_error(v, &frag->pos, "Fragment \"%s\" is never used.", s_or(frag->name));

	/* OverlappingFieldsCanBeMerged */
	gql_v_overlap(v, &frag->selset, frag->def);

	/* UniqueFragmentNames */
	if (seen(&v->fragment_names, frag->name))
		gql_v_error(v, &frag->pos, "There can be only one fragment named \"%s\".", s_or(frag->name));
	mark(v, &v->fragment_names, frag->name);
}

static void walk_fragment(struct gql_vctx *v, struct gql_fragment *frag)
{
	frag->def = type_named(v, frag->type_cond);
	walk_directives(v, &frag->directives, "FRAGMENT_DEFINITION");
	walk_selection_set(v, frag->def, &frag->selset);
	on_fragment(v, frag);
}

int gql_validate_query(struct gql_arena *arena, struct gql_schema *schema,
		       struct gql_query_doc *doc, struct wd_buf *out)
{
	struct gql_vctx v = { .arena = arena, .schema = schema, .doc = doc, .out = out };

	v.typename_type.named = "String";
	v.typename_def.name = "__typename";
	v.typename_def.description = "";
	v.typename_def.type = &v.typename_type;

	/* Spreads find the first fragment of a name, as gqlparser's ForName. */
	for (size_t i = doc->fragments.len; i > 0; i--) {
		struct gql_fragment *f = doc->fragments.items[i - 1];

		if (f && gql_map_put(arena, &v.fragments, s_or(f->name), f) < 0)
			return WD_ENOMEM;
	}

	for (size_t i = 0; i < doc->operations.len && v.rc == 0; i++) {
		gql_map_clear(&v.spread_walked);
		if (doc->operations.items[i])
			walk_operation(&v, doc->operations.items[i]);
	}
	for (size_t i = 0; i < doc->fragments.len && v.rc == 0; i++) {
		gql_map_clear(&v.spread_walked);
		if (doc->fragments.items[i])
			walk_fragment(&v, doc->fragments.items[i]);
	}
	if (v.rc < 0)
		return v.rc;
	if (arena->failed)
		return WD_ENOMEM;
	return v.nerrors;
}
