/* json.filter, json.remove and json.patch (RFC 6902). Paths are JSON pointer
 * strings ("/a/b", with ~0 and ~1 escapes) or arrays of segments; values are
 * rebuilt along the changed path, never modified in place. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "policy/bi_enc.h"
#include "policy/bi_str_util.h"

/* ---- paths ---- */

/* Splits a path operand into segment values (a new array). A string is a
 * '/'-separated pointer; the empty string is the empty path. */
static struct rv *parse_path(const struct rv *p, bool *ret_bad_type)
{
	struct rv *segs = rv_array_new(4);
	const char *s;
	size_t len, pos = 0;

	*ret_bad_type = false;
	if (!segs)
		return NULL;
	if (rv_is(p, RV_ARRAY)) {
		for (size_t i = 0; i < rv_array_len(p); i++)
			if (rv_array_push(segs, rv_ref(rv_array_at(p, i))) < 0)
				return NULL;
		return segs;
	}
	if (!rv_is(p, RV_STRING)) {
		*ret_bad_type = true;
		rv_unref(segs);
		return NULL;
	}

	s = rv_str(p);
	len = rv_str_len(p);
	if (len == 0)
		return segs;
	while (pos < len && s[pos] == '/')
		pos++;
	for (;;) {
		const char *slash = memchr(s + pos, '/', len - pos);
		size_t end = slash ? (size_t)(slash - s) : len;
		char *part = malloc(end - pos + 1);
		size_t n = 0;

		if (!part) {
			rv_unref(segs);
			return NULL;
		}
		/* ~1 is '/', then ~0 is '~' (in that order, as OPA replaces). */
		for (size_t i = pos; i < end; i++) {
			if (s[i] == '~' && i + 1 < end && s[i + 1] == '1') {
				part[n++] = '/';
				i++;
			} else {
				part[n++] = s[i];
			}
		}
		{
			size_t w = 0;

			for (size_t r = 0; r < n; r++) {
				if (part[r] == '~' && r + 1 < n && part[r + 1] == '0') {
					part[w++] = '~';
					r++;
				} else {
					part[w++] = part[r];
				}
			}
			n = w;
		}
		if (rv_array_push(segs, rv_string(part, n)) < 0) {
			free(part);
			return NULL;
		}
		free(part);
		if (!slash)
			break;
		pos = end + 1;
	}
	return segs;
}

/* Builds OPA's path tree: nested objects whose leaves are null; a shorter
 * path covers every longer one below it. */
static int add_path(struct rv *root, const struct rv *segs)
{
	struct rv *node = root;
	size_t n = rv_array_len(segs);

	if (n == 0)
		return 0;
	for (size_t i = 0; i + 1 < n; i++) {
		struct rv *key = rv_array_at(segs, i);
		struct rv *child = rv_object_get(node, key);

		if (!child) {
			struct rv *obj = rv_object_new(2);

			if (!obj)
				return WD_ENOMEM;
			WD_TRY(rv_object_put(node, rv_ref(key), obj));
			node = obj;
			continue;
		}
		if (rv_is(child, RV_NULL))
			return 0;
		node = child;
	}
	return rv_object_put(node, rv_ref(rv_array_at(segs, n - 1)), rv_null());
}

static int paths_tree(struct rego_bctx *ctx, const struct rv *paths, struct rv **ret)
{
	struct rv *root;
	int rc = 0;

	if (!rv_is(paths, RV_ARRAY) && !rv_is(paths, RV_SET))
		return rego_bi_type_error(ctx, 2, "one of {set, array}", paths);
	root = rv_object_new(4);
	if (!root)
		return bi_fail(ctx, WD_ENOMEM);
	for (size_t i = 0; i < bi_members(paths) && rc == 0; i++) {
		bool bad_type;
		struct rv *segs = parse_path(bi_member_at(paths, i), &bad_type);

		if (!segs) {
			rv_unref(root);
			if (bad_type)
				return rego_bi_error_code(ctx, "eval_type_error",
					"operand 2 must be one of {set, array} containing string paths or array of path segments but got %s",
					rv_type_name(bi_member_at(paths, i)));
			return bi_fail(ctx, WD_ENOMEM);
		}
		rc = add_path(root, segs);
		rv_unref(segs);
	}
	if (rc < 0) {
		rv_unref(root);
		return bi_fail(ctx, rc);
	}
	*ret = root;
	return 0;
}

static struct rv *index_key(size_t i)
{
	char text[24];

	snprintf(text, sizeof(text), "%zu", i);
	return rv_cstring(text);
}

/* ---- json.filter ---- */

static struct rv *filter_value(const struct rv *v, const struct rv *f)
{
	struct rv *out = NULL;

	if (rv_is(f, RV_NULL) || !rv_is(f, RV_OBJECT))
		return rv_ref((struct rv *)v);

	switch (rv_kind_of(v)) {
	case RV_ARRAY:
		out = rv_array_new(0);
		for (size_t i = 0; out && i < rv_array_len(v); i++) {
			struct rv *key = index_key(i);
			struct rv *sub = key ? rv_object_get(f, key) : NULL;

			rv_unref(key);
			if (sub && rv_array_push(out, filter_value(rv_array_at(v, i), sub)) < 0) {
				rv_unref(out);
				return NULL;
			}
		}
		return out;
	case RV_SET:
		out = rv_set_new(0);
		for (size_t i = 0; out && i < rv_len(v); i++) {
			struct rv *m = bi_member_at(v, i), *sub = rv_object_get(f, m);

			if (sub && rv_set_add(out, filter_value(m, sub)) < 0) {
				rv_unref(out);
				return NULL;
			}
		}
		return out;
	case RV_OBJECT:
		out = rv_object_new(0);
		for (size_t i = 0; out && i < rv_len(v); i++) {
			struct rv *key, *value, *sub;

			rv_map_at(v, i, &key, &value);
			sub = rv_object_get(f, key);
			if (sub && rv_object_put(out, rv_ref(key), filter_value(value, sub)) < 0) {
				rv_unref(out);
				return NULL;
			}
		}
		return out;
	default:
		return rv_ref((struct rv *)v);
	}
}

int bi_json_filter(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	struct rv *tree = NULL;

	(void)nargs;
	WD_TRY(rego_bi_want(ctx, args, 1, RK_OBJECT));
	WD_TRY(paths_tree(ctx, args[1], &tree));
	*ret = filter_value(args[0], tree);
	rv_unref(tree);
	return *ret ? 0 : bi_fail(ctx, WD_ENOMEM);
}

/* ---- json.remove ---- */

/* Returns the value with the paths of tree b removed; NULL with *ret_gone
 * set when the whole value is removed. */
static struct rv *remove_value(const struct rv *a, const struct rv *b, bool *ret_gone)
{
	struct rv *out = NULL;

	*ret_gone = false;
	if (!b)
		return rv_ref((struct rv *)a);
	if (rv_is(b, RV_NULL)) {
		*ret_gone = true;
		return NULL;
	}

	switch (rv_kind_of(a)) {
	case RV_OBJECT:
		out = rv_object_new(rv_len(a));
		for (size_t i = 0; out && i < rv_len(a); i++) {
			struct rv *key, *value, *kept;
			bool gone;

			rv_map_at(a, i, &key, &value);
			kept = remove_value(value, rv_object_get(b, key), &gone);
			if (gone)
				continue;
			if (!kept || rv_object_put(out, rv_ref(key), kept) < 0) {
				rv_unref(out);
				return NULL;
			}
		}
		return out;
	case RV_SET:
		out = rv_set_new(rv_len(a));
		for (size_t i = 0; out && i < rv_len(a); i++) {
			struct rv *m = bi_member_at(a, i), *kept;
			bool gone;

			kept = remove_value(m, rv_object_get(b, m), &gone);
			if (gone)
				continue;
			if (!kept || rv_set_add(out, kept) < 0) {
				rv_unref(out);
				return NULL;
			}
		}
		return out;
	case RV_ARRAY:
		out = rv_array_new(rv_array_len(a));
		for (size_t i = 0; out && i < rv_array_len(a); i++) {
			struct rv *key = index_key(i), *kept;
			bool gone;

			kept = remove_value(rv_array_at(a, i), key ? rv_object_get(b, key) : NULL, &gone);
			rv_unref(key);
			if (gone)
				continue;
			if (!kept || rv_array_push(out, kept) < 0) {
				rv_unref(out);
				return NULL;
			}
		}
		return out;
	default:
		return rv_ref((struct rv *)a);
	}
}

int bi_json_remove(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	struct rv *tree = NULL, *out;
	bool gone;

	(void)nargs;
	WD_TRY(rego_bi_want(ctx, args, 1, RK_OBJECT));
	WD_TRY(paths_tree(ctx, args[1], &tree));
	out = remove_value(args[0], tree, &gone);
	rv_unref(tree);
	if (gone)
		return REGO_UNDEFINED;
	if (!out)
		return bi_fail(ctx, WD_ENOMEM);
	*ret = out;
	return 0;
}

/* ---- json.patch ---- */

enum patch_op { OP_ADD, OP_REMOVE, OP_REPLACE };

/* An array index segment: decimal digits without a leading zero, or "-"
 * (one past the end) when allowed. */
static bool array_index(const struct rv *seg, size_t len, bool allow_end, size_t *ret)
{
	const char *s;
	size_t n, v = 0;

	if (rv_is(seg, RV_NUMBER)) {
		int64_t i;

		if (!rv_number_to_i64(seg, &i) || i < 0)
			return false;
		*ret = (size_t)i;
		return true;
	}
	if (!rv_is(seg, RV_STRING))
		return false;
	s = rv_str(seg);
	n = rv_str_len(seg);
	if (allow_end && n == 1 && s[0] == '-') {
		*ret = len;
		return true;
	}
	if (n == 0 || n > 18 || (n > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (size_t)(s[i] - '0');
	}
	*ret = v;
	return true;
}

/* Borrowed child of container at seg; NULL when absent. */
static struct rv *child_at(const struct rv *c, const struct rv *seg)
{
	size_t i;

	if (rv_is(c, RV_OBJECT))
		return rv_object_get(c, seg);
	if (rv_is(c, RV_ARRAY)) {
		if (!array_index(seg, rv_array_len(c), false, &i) || i >= rv_array_len(c))
			return NULL;
		return rv_array_at(c, i);
	}
	if (rv_is(c, RV_SET))
		return rv_set_has(c, seg) ? (struct rv *)seg : NULL;
	return NULL;
}

/* Applies op at the last segment inside container c; value is borrowed. */
static struct rv *apply_last(const struct rv *c, const struct rv *seg, enum patch_op op,
			     const struct rv *value)
{
	struct rv *out = NULL;
	size_t idx;

	if (rv_is(c, RV_OBJECT)) {
		bool present = rv_object_get(c, seg) != NULL;

		if (op != OP_ADD && !present)
			return NULL;
		out = rv_object_new(rv_len(c) + 1);
		for (size_t i = 0; out && i < rv_len(c); i++) {
			struct rv *key, *v;

			rv_map_at(c, i, &key, &v);
			if (rv_equal(key, seg))
				continue;
			if (rv_object_put(out, rv_ref(key), rv_ref(v)) < 0) {
				rv_unref(out);
				return NULL;
			}
		}
		if (out && op != OP_REMOVE &&
		    rv_object_put(out, rv_ref((struct rv *)seg), rv_ref((struct rv *)value)) < 0) {
			rv_unref(out);
			return NULL;
		}
		return out;
	}
	if (rv_is(c, RV_ARRAY)) {
		size_t len = rv_array_len(c);

		if (!array_index(seg, len, op == OP_ADD, &idx))
			return NULL;
		if (op == OP_ADD ? idx > len : idx >= len)
			return NULL;
		out = rv_array_new(len + 1);
		for (size_t i = 0; out && i <= len; i++) {
			if (i == idx && op != OP_REMOVE &&
			    rv_array_push(out, rv_ref((struct rv *)value)) < 0) {
				rv_unref(out);
				return NULL;
			}
			if (i == len)
				break;
			if (i == idx && op != OP_ADD)
				continue;
			if (rv_array_push(out, rv_ref(rv_array_at(c, i))) < 0) {
				rv_unref(out);
				return NULL;
			}
		}
		return out;
	}
	if (rv_is(c, RV_SET)) {
		bool present = rv_set_has(c, seg);

		if (op != OP_ADD && !present)
			return NULL;

		/* OPA adds to a set only the member its path names. */
		if (op == OP_ADD && value && !rv_equal(seg, value))
			return NULL;
		out = rv_set_new(rv_len(c) + 1);
		for (size_t i = 0; out && i < rv_len(c); i++) {
			struct rv *m = bi_member_at(c, i);

			if (op != OP_ADD && rv_equal(m, seg))
				continue;
			if (rv_set_add(out, rv_ref(m)) < 0) {
				rv_unref(out);
				return NULL;
			}
		}
		if (out && op != OP_REMOVE && rv_set_add(out, rv_ref((struct rv *)value)) < 0) {
			rv_unref(out);
			return NULL;
		}
		return out;
	}
	return NULL;
}

/* Rebuilds doc with op applied at segs[from..]; NULL when the patch does
 * not apply (or memory runs out). */
static struct rv *apply_at(const struct rv *doc, const struct rv *segs, size_t from,
			   enum patch_op op, const struct rv *value)
{
	size_t n = rv_array_len(segs);
	const struct rv *seg;
	struct rv *child, *updated, *out;

	if (from == n) {
		if (op == OP_REMOVE)
			return NULL;
		return rv_ref((struct rv *)value);
	}
	seg = rv_array_at(segs, from);
	if (from + 1 == n)
		return apply_last(doc, seg, op, value);

	child = child_at(doc, seg);
	if (!child)
		return NULL;
	updated = apply_at(child, segs, from + 1, op, value);
	if (!updated)
		return NULL;
	out = apply_last(doc, seg, OP_REPLACE, updated);
	rv_unref(updated);
	return out;
}

static const struct rv *get_at(const struct rv *doc, const struct rv *segs)
{
	for (size_t i = 0; doc && i < rv_array_len(segs); i++)
		doc = child_at(doc, rv_array_at(segs, i));
	return doc;
}

/* A patch path. OPA trims leading slashes before splitting, so "a/b" and
 * "/a/b" name the same place. */
static struct rv *patch_path(const struct rv *p)
{
	bool bad;

	return parse_path(p, &bad);
}

static struct rv *apply_op(struct rv *doc, const struct rv *op)
{
	const struct rv *name, *pathv, *fromv, *value;
	struct rv *path = NULL, *from = NULL, *out = NULL;
	const char *o;

	if (!rv_is(op, RV_OBJECT))
		return NULL;
	name = rv_object_get_str(op, "op");
	pathv = rv_object_get_str(op, "path");
	if (!rv_is(name, RV_STRING) || !pathv)
		return NULL;
	path = patch_path(pathv);
	if (!path)
		return NULL;
	o = rv_str(name);
	value = rv_object_get_str(op, "value");

	if (strcmp(o, "add") == 0 || strcmp(o, "replace") == 0) {
		if (value)
			out = apply_at(doc, path, 0, o[0] == 'a' ? OP_ADD : OP_REPLACE, value);
	} else if (strcmp(o, "remove") == 0) {
		out = apply_at(doc, path, 0, OP_REMOVE, NULL);
	} else if (strcmp(o, "test") == 0) {
		const struct rv *cur = get_at(doc, path);

		if (value && cur && rv_equal(cur, value))
			out = rv_ref(doc);
	} else if (strcmp(o, "move") == 0 || strcmp(o, "copy") == 0) {
		const struct rv *src;

		fromv = rv_object_get_str(op, "from");
		from = fromv ? patch_path(fromv) : NULL;
		src = from ? get_at(doc, from) : NULL;
		if (src) {
			struct rv *moved = rv_ref((struct rv *)src);
			struct rv *base = rv_ref(doc);

			if (o[0] == 'm') {
				/* A value cannot move into one of its own children. */
				bool inside = rv_array_len(from) < rv_array_len(path);

				for (size_t i = 0; inside && i < rv_array_len(from); i++)
					inside = rv_equal(rv_array_at(from, i), rv_array_at(path, i));
				rv_unref(base);
				base = inside ? NULL : apply_at(doc, from, 0, OP_REMOVE, NULL);
			}
			if (base)
				out = apply_at(base, path, 0, OP_ADD, moved);
			rv_unref(base);
			rv_unref(moved);
		}
	}
	rv_unref(path);
	rv_unref(from);
	return out;
}

/* json.patch: a failing operation (missing target, bad index, failed test)
 * leaves the result undefined, as in OPA. */
int bi_json_patch(struct rego_bctx *ctx, struct rv *const *args, size_t nargs, struct rv **ret)
{
	struct rv *doc;

	(void)nargs;
	WD_TRY(rego_bi_want(ctx, args, 2, RK_ARRAY));
	doc = rv_ref(args[0]);
	for (size_t i = 0; i < rv_array_len(args[1]); i++) {
		struct rv *next = apply_op(doc, rv_array_at(args[1], i));

		rv_unref(doc);
		if (!next)
			return rv_budget_hit() ? bi_fail(ctx, WD_ENOMEM) : REGO_UNDEFINED;
		doc = next;
	}
	*ret = doc;
	return 0;
}
