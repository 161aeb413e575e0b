/* Error lists of compiles and queries, written as `opa` prints them and as
 * OPA's JSON error objects. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "policy/policy.h"

void rego_errors_add(struct rego_errors *errs, const char *code, const struct rego_loc *loc,
		     const char *fmt, ...)
{
	struct rego_error *e;
	va_list ap;

	if (!errs || errs->len >= REGO_MAX_ERRORS)
		return;
	e = &errs->items[errs->len++];
	memset(e, 0, sizeof(*e));
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	if (loc) {
		if (loc->file)
			snprintf(e->file, sizeof(e->file), "%s", loc->file);
		e->row = loc->row;
		e->col = loc->col;
	}
}

int rego_errors_write(const struct rego_errors *errs, struct wd_buf *out)
{
	for (size_t i = 0; i < errs->len; i++) {
		const struct rego_error *e = &errs->items[i];

		if (e->file[0] && e->row)
			WD_TRY(wd_buf_appendf(out, "%s:%u: ", e->file, e->row));
		WD_TRY(wd_buf_appendf(out, "%s: %s\n", e->code ? e->code : "rego_error",
				      e->message));
	}
	return 0;
}

static int put_str(struct rv *obj, const char *key, const char *value)
{
	struct rv *k = rv_cstring(key);
	struct rv *v = k ? rv_cstring(value) : NULL;

	if (!v) {
		rv_unref(k);
		return WD_ENOMEM;
	}
	return rv_object_put(obj, k, v);
}

static int put_int(struct rv *obj, const char *key, int64_t value)
{
	struct rv *k = rv_cstring(key);
	struct rv *v = k ? rv_int(value) : NULL;

	if (!v) {
		rv_unref(k);
		return WD_ENOMEM;
	}
	return rv_object_put(obj, k, v);
}

static struct rv *error_value(const struct rego_error *e)
{
	struct rv *obj = rv_object_new(3);
	struct rv *loc = NULL, *key = NULL;

	if (!obj)
		return NULL;
	if (put_str(obj, "code", e->code ? e->code : "rego_error") < 0 ||
	    put_str(obj, "message", e->message) < 0)
		goto fail;
	if (e->file[0] || e->row) {
		loc = rv_object_new(3);
		if (!loc || put_str(loc, "file", e->file) < 0 || put_int(loc, "row", e->row) < 0 ||
		    put_int(loc, "col", e->col) < 0)
			goto fail;
		key = rv_cstring("location");
		if (!key || rv_object_put(obj, key, loc) < 0) {
			loc = NULL;
			goto fail;
		}
	}
	return obj;
fail:
	rv_unref(loc);
	rv_unref(obj);
	return NULL;
}

struct rv *rego_errors_to_value(const struct rego_errors *errs)
{
	struct rv *list = rv_array_new(errs->len);
	struct rv *obj = rv_object_new(1);
	struct rv *key;

	if (!list || !obj)
		goto fail;
	for (size_t i = 0; i < errs->len; i++) {
		struct rv *e = error_value(&errs->items[i]);

		if (!e || rv_array_push(list, e) < 0)
			goto fail;
	}
	key = rv_cstring("errors");
	if (!key || rv_object_put(obj, key, list) < 0) {
		list = NULL;
		goto fail;
	}
	return obj;
fail:
	rv_unref(list);
	rv_unref(obj);
	return NULL;
}
