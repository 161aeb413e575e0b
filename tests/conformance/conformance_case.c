/* One conformance case: compile its modules as test-0.rego, test-1.rego, ...
 * with its data, evaluate the query with its input and compare the bindings
 * or the error with what OPA gives. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/file.h"
#include "policy/policy.h"
#include "conformance.h"

/* Ceiling of one printed value or error list in a report, in bytes. */
#define DETAIL_MAX (256u * 1024u)

/* Appends formatted text to a report; a report cut short by its ceiling is
 * still worth printing, so a failed append is not an error. */
static void report(struct wd_buf *out, const char *fmt, ...) WD_PRINTF(2, 3);

static void report(struct wd_buf *out, const char *fmt, ...)
{
	char text[2048];
	va_list args;

	va_start(args, fmt);
	vsnprintf(text, sizeof(text), fmt, args);
	va_end(args);
	if (wd_buf_append_str(out, text) < 0)
		return;
}

struct rv *conformance_load_cases(const char *path, struct wd_buf *err)
{
	uint8_t *text = NULL;
	size_t len = 0;
	struct wd_error ferr;
	struct rv *doc, *cases;

	if (wd_file_read(path, CASE_FILE_MAX, &text, &len, &ferr) < 0) {
		report(err, "%s", wd_error_text(&ferr));
		return NULL;
	}
	doc = rv_parse_yaml_core((const char *)text, len, err);
	free(text);
	if (!doc)
		return NULL;
	cases = rv_is(doc, RV_OBJECT) ? rv_object_get_str(doc, "cases") : NULL;
	if (!rv_is(cases, RV_ARRAY)) {
		rv_unref(doc);
		report(err, "no \"cases\" list in the file");
		return NULL;
	}
	rv_ref(cases);
	rv_unref(doc);
	return cases;
}

/* The fields of a case that the runner reads. Values are borrowed. */
struct case_spec {
	const char *note;
	const char *query;
	const struct rv *modules;       /* array of strings, or NULL */
	const struct rv *data;          /* NULL: {} */
	const struct rv *input;         /* NULL: no input */
	const char *input_term;         /* Rego text of the input, or NULL */
	const struct rv *want_result;   /* array of binding objects, or NULL */
	const char *want_error_code;
	const char *want_error;
	bool strict_error;
	bool sort_bindings;
	bool ignore_generated_vars;
};

static const char *field_str(const struct rv *tc, const char *name)
{
	struct rv *v = rv_object_get_str(tc, name);

	return rv_is(v, RV_STRING) ? rv_str(v) : NULL;
}

static bool field_true(const struct rv *tc, const char *name)
{
	return rv_is_true(rv_object_get_str(tc, name));
}

static void read_spec(const struct rv *tc, struct case_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	spec->note = field_str(tc, "note");
	spec->query = field_str(tc, "query");
	spec->modules = rv_object_get_str(tc, "modules");
	spec->data = rv_object_get_str(tc, "data");
	spec->input = rv_object_get_str(tc, "input");
	spec->input_term = field_str(tc, "input_term");
	spec->want_result = rv_object_get_str(tc, "want_result");
	spec->want_error_code = field_str(tc, "want_error_code");
	spec->want_error = field_str(tc, "want_error");
	spec->strict_error = field_true(tc, "strict_error");
	spec->sort_bindings = field_true(tc, "sort_bindings");
	spec->ignore_generated_vars = field_true(tc, "ignore_generated_vars");
	if (spec->data && !rv_is(spec->data, RV_OBJECT))
		spec->data = NULL;
}

/* ---- results as OPA's runner compares them ---- */

static int compare_values(const void *x, const void *y)
{
	return rv_compare(*(struct rv *const *)x, *(struct rv *const *)y);
}

/* A value as it looks after a JSON round trip: sets become arrays in sorted
 * order and object keys that are not strings become their JSON text. */
static struct rv *json_shape(struct rv *v)
{
	struct rv *out = NULL;
	size_t n;

	switch (rv_kind_of(v)) {
	case RV_ARRAY:
		n = rv_array_len(v);
		out = rv_array_new(n);
		for (size_t i = 0; out && i < n; i++) {
			if (rv_array_push(out, json_shape(rv_array_at(v, i))) < 0)
				goto fail;
		}
		return out;
	case RV_SET:
		n = rv_len(v);
		out = rv_array_new(n);
		for (size_t i = 0; out && i < n; i++) {
			struct rv *member, *unused;

			rv_map_sorted_at(v, i, &member, &unused);
			if (rv_array_push(out, json_shape(member)) < 0)
				goto fail;
		}
		return out;
	case RV_OBJECT:
		n = rv_len(v);
		out = rv_object_new(n);
		for (size_t i = 0; out && i < n; i++) {
			struct rv *key, *value, *skey;

			rv_map_at(v, i, &key, &value);
			if (rv_is(key, RV_STRING)) {
				skey = rv_ref(key);
			} else {
				struct wd_buf text;

				wd_buf_init(&text, 64, DETAIL_MAX);
				skey = rv_write_json(key, &text) == 0 ?
					rv_string(wd_buf_str(&text), wd_buf_len(&text)) : NULL;
				wd_buf_free(&text);
			}
			if (rv_object_put(out, skey, json_shape(value)) < 0)
				goto fail;
		}
		return out;
	default:
		return rv_ref(v);
	}
fail:
	rv_unref(out);
	return NULL;
}

/* An array with its items sorted by OPA's order; other values unchanged. */
static struct rv *sorted_copy(struct rv *v)
{
	struct rv **items;
	struct rv *out;
	size_t n;

	if (!rv_is(v, RV_ARRAY))
		return rv_ref(v);
	n = rv_array_len(v);
	items = wd_calloc(n + 1, sizeof(*items));
	out = rv_array_new(n);
	if (!items || !out) {
		free(items);
		rv_unref(out);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		items[i] = rv_array_at(v, i);
	qsort(items, n, sizeof(*items), compare_values);
	for (size_t i = 0; i < n; i++) {
		if (rv_array_push(out, rv_ref(items[i])) < 0) {
			rv_unref(out);
			out = NULL;
			break;
		}
	}
	free(items);
	return out;
}

/* One binding object in comparable form: JSON shape, array values sorted
 * for sort_bindings, and compiler-generated variables dropped for
 * ignore_generated_vars. */
static struct rv *binding_shape(struct rv *bindings, const struct case_spec *spec)
{
	struct rv *shaped = json_shape(bindings);
	struct rv *out;

	if (!shaped || !rv_is(shaped, RV_OBJECT))
		return shaped;
	out = rv_object_new(rv_len(shaped));
	for (size_t i = 0; out && i < rv_len(shaped); i++) {
		struct rv *key, *value;

		rv_map_at(shaped, i, &key, &value);
		if (spec->ignore_generated_vars && rv_is(key, RV_STRING) &&
		    strncmp(rv_str(key), "__", 2) == 0)
			continue;
		if (rv_object_put(out, rv_ref(key),
				  spec->sort_bindings ? sorted_copy(value) : rv_ref(value)) < 0) {
			rv_unref(out);
			out = NULL;
		}
	}
	rv_unref(shaped);
	return out;
}

/* The expected bindings as a set of objects. */
static struct rv *expected_set(const struct case_spec *spec)
{
	struct rv *set = rv_set_new(rv_array_len(spec->want_result));

	for (size_t i = 0; set && i < rv_array_len(spec->want_result); i++) {
		if (rv_set_add(set, binding_shape(rv_array_at(spec->want_result, i), spec)) < 0) {
			rv_unref(set);
			return NULL;
		}
	}
	return set;
}

static struct rv *actual_set(const struct rego_results *res, const struct case_spec *spec)
{
	struct rv *set = rv_set_new(res->len);

	for (size_t i = 0; set && i < res->len; i++) {
		if (rv_set_add(set, binding_shape(res->solutions[i].bindings, spec)) < 0) {
			rv_unref(set);
			return NULL;
		}
	}
	return set;
}

/* ---- reporting ---- */

static void append_json(struct wd_buf *out, const struct rv *v)
{
	size_t start = wd_buf_len(out);

	if (!v) {
		report(out, "(none)");
		return;
	}
	if (rv_write_json(v, out) < 0) {
		wd_buf_truncate(out, start);
		report(out, "(too large to print)");
	}
}

static void append_errors(struct wd_buf *out, const struct rego_errors *errs)
{
	if (errs->len == 0) {
		report(out, "error without detail");
		return;
	}
	for (size_t i = 0; i < errs->len; i++) {
		const struct rego_error *e = &errs->items[i];

		report(out, "%s%s: %s", i ? "; " : "", e->code ? e->code : "?", e->message);
	}
}

/* Writes the verbose part of a failure: the note, query, expected and
 * actual outcome, one per line. */
static void describe(struct wd_buf *detail, const struct case_spec *spec, const struct rv *want,
		     const struct rv *got, const struct rego_errors *errs)
{
	report(detail, "\n    note: %s\n    query: %s\n    expected: ",
		spec->note ? spec->note : "", spec->query ? spec->query : "");
	if (spec->want_error_code || spec->want_error)
		report(detail, "error %s containing \"%s\"",
			spec->want_error_code ? spec->want_error_code : "(any code)",
			spec->want_error ? spec->want_error : "");
	else
		append_json(detail, want);
	report(detail, "\n    actual: ");
	if (errs && errs->len > 0)
		append_errors(detail, errs);
	else
		append_json(detail, got);
}

/* ---- running ---- */

/* What an evaluated input_term is built from, kept until the case ends:
 * the parsed term's arena owns the constants inside the value. */
struct input_term {
	struct rego_arena *arena;
	struct rego_builder *builder;
	struct rego_engine *engine;
	struct rego_results *results;
};

static void input_term_clear(struct input_term *it)
{
	rego_results_free(it->results);
	rego_engine_unref(it->engine);
	rego_builder_free(it->builder);
	rego_arena_free(it->arena);
	memset(it, 0, sizeof(*it));
}

/* Builds the value of a constant term (scalars, arrays, objects, sets);
 * NULL for anything that needs evaluating. */
static struct rv *constant_value(const struct rego_term *t)
{
	struct rv *out = NULL;

	switch (t->kind) {
	case RT_VALUE:
		return rv_ref(t->u.value);
	case RT_ARRAY:
	case RT_SET:
		out = t->kind == RT_ARRAY ? rv_array_new(t->u.coll.len) : rv_set_new(t->u.coll.len);
		for (size_t i = 0; out && i < t->u.coll.len; i++) {
			struct rv *item = constant_value(t->u.coll.items[i]);
			int rc = t->kind == RT_ARRAY ? rv_array_push(out, item) : rv_set_add(out, item);

			if (rc < 0) {
				rv_unref(out);
				return NULL;
			}
		}
		return out;
	case RT_OBJECT:
		out = rv_object_new(t->u.obj.len);
		for (size_t i = 0; out && i < t->u.obj.len; i++) {
			if (rv_object_put(out, constant_value(t->u.obj.keys[i]),
					  constant_value(t->u.obj.values[i])) < 0) {
				rv_unref(out);
				return NULL;
			}
		}
		return out;
	default:
		return NULL;
	}
}

/* Evaluates input_term: a constant term is converted directly, anything
 * else by querying `x := TERM` on an engine without modules. */
static int eval_input_term(const char *term, struct input_term *it, struct rv **ret,
			   struct rego_errors *errs)
{
	struct rego_query_opts opts = { 0 };
	struct rego_term *parsed;
	size_t nerrs = 0;
	struct wd_buf query;
	int rc = 0;

	*ret = NULL;
	wd_buf_init(&query, 64, CASE_FILE_MAX);
	it->arena = rego_arena_new();
	if (!it->arena)
		WD_GUARD(WD_ENOMEM);
	parsed = rego_parse_term(it->arena, term, strlen(term), errs->items, REGO_MAX_ERRORS,
				 &nerrs);
	errs->len = nerrs;
	if (!parsed)
		WD_GUARD(WD_EINVAL);
	*ret = constant_value(parsed);
	if (*ret)
		goto out;

	it->builder = rego_builder_new(NULL);
	if (!it->builder)
		WD_GUARD(WD_ENOMEM);
	it->engine = rego_builder_compile(it->builder, errs);
	if (!it->engine)
		WD_GUARD(WD_EINVAL);
	WD_GUARD(wd_buf_appendf(&query, "x := %s", term));
	WD_GUARD(rego_engine_query(it->engine, wd_buf_str(&query), wd_buf_len(&query), &opts,
				   &it->results, errs));
	if (it->results->len != 1)
		WD_GUARD(WD_EINVAL);
	*ret = rv_ref(rv_object_get_str(it->results->solutions[0].bindings, "x"));
	if (!*ret)
		rc = WD_EINVAL;
out:
	wd_buf_free(&query);
	return rc;
}

/* Copies a value node by node. The builder freezes the data it is given
 * and frees that tree with the engine, whoever else holds a reference, so
 * it must not share nodes with the case file. */
static struct rv *deep_copy(struct rv *v)
{
	struct rv *out = NULL;
	struct wd_buf text;
	int64_t i64;

	switch (rv_kind_of(v)) {
	case RV_NULL:
		return rv_null();
	case RV_BOOL:
		return rv_bool(rv_is_true(v));
	case RV_NUMBER:
		if (rv_number_to_i64(v, &i64))
			return rv_int(i64);
		wd_buf_init(&text, 32, DETAIL_MAX);
		if (rv_number_format(v, &text) == 0)
			out = rv_number_parse(wd_buf_str(&text), wd_buf_len(&text));
		wd_buf_free(&text);
		return out;
	case RV_STRING:
		return rv_string(rv_str(v), rv_str_len(v));
	case RV_ARRAY:
		out = rv_array_new(rv_array_len(v));
		for (size_t i = 0; out && i < rv_array_len(v); i++) {
			if (rv_array_push(out, deep_copy(rv_array_at(v, i))) < 0)
				goto fail;
		}
		return out;
	case RV_OBJECT:
	case RV_SET:
		out = rv_is(v, RV_SET) ? rv_set_new(rv_len(v)) : rv_object_new(rv_len(v));
		for (size_t i = 0; out && i < rv_len(v); i++) {
			struct rv *key, *value;
			int rc;

			rv_map_at(v, i, &key, &value);
			rc = rv_is(v, RV_SET) ? rv_set_add(out, deep_copy(key)) :
						rv_object_put(out, deep_copy(key), deep_copy(value));
			if (rc < 0)
				goto fail;
		}
		return out;
	}
	return NULL;
fail:
	rv_unref(out);
	return NULL;
}

/* Compiles the case's modules and data; NULL with errs filled. */
static struct rego_engine *compile_case(const struct case_spec *spec, struct rego_errors *errs)
{
	struct rego_builder *b = rego_builder_new(NULL);
	struct rego_engine *e = NULL;
	struct rv *data;

	if (!b)
		return NULL;
	for (size_t i = 0; spec->modules && rv_is(spec->modules, RV_ARRAY) &&
			   i < rv_array_len(spec->modules); i++) {
		const struct rv *src = rv_array_at(spec->modules, i);
		char name[32];

		if (!rv_is(src, RV_STRING))
			continue;
		snprintf(name, sizeof(name), "test-%zu.rego", i);
		if (rego_builder_add_module(b, name, rv_str(src), rv_str_len(src), errs) < 0)
			goto out;
	}
	data = spec->data ? deep_copy((struct rv *)spec->data) : rv_object_new(0);
	if (rego_builder_set_data(b, data) < 0)
		goto out;
	e = rego_builder_compile(b, errs);
out:
	rego_builder_free(b);
	return e;
}

/* Decides a case that ended in errors. */
static enum case_status judge_error(const struct case_spec *spec, const struct rego_errors *errs,
				    struct wd_buf *detail)
{
	struct wd_buf formatted;
	const struct rego_error *first = errs->len ? &errs->items[0] : NULL;
	bool message_ok = true;

	if (!spec->want_error_code && !spec->want_error) {
		report(detail, "unexpected error: ");
		append_errors(detail, errs);
		return CASE_FAIL;
	}
	if (spec->want_error_code && (!first || !first->code ||
				      strcmp(first->code, spec->want_error_code) != 0)) {
		report(detail, "error code %s, expected %s",
			first && first->code ? first->code : "(none)", spec->want_error_code);
		return CASE_FAIL;
	}
	if (spec->want_error) {
		/* OPA matches against the whole error text, "file:row: code: message". */
		wd_buf_init(&formatted, 1024, DETAIL_MAX);
		message_ok = false;
		for (size_t i = 0; i < errs->len && !message_ok; i++)
			message_ok = strstr(errs->items[i].message, spec->want_error) != NULL;
		if (!message_ok && rego_errors_write(errs, &formatted) == 0)
			message_ok = strstr(wd_buf_str(&formatted), spec->want_error) != NULL;
		wd_buf_free(&formatted);
	}
	if (!message_ok) {
		report(detail, "error message \"%s\" lacks \"%s\"", first ? first->message : "",
			spec->want_error);
		return CASE_FAIL;
	}
	return CASE_PASS;
}

enum case_status conformance_run_case(const struct rv *tc, bool verbose, struct wd_buf *detail)
{
	struct case_spec spec;
	struct rego_errors errs = { 0 };
	struct rego_engine *e = NULL;
	struct rego_results *res = NULL;
	struct rego_query_opts opts = { 0 };
	struct input_term term = { 0 };
	struct rv *input = NULL, *want = NULL, *got = NULL;
	enum case_status status = CASE_FAIL;
	bool failed_with_errors = false;

	read_spec(tc, &spec);
	if (!spec.query) {
		report(detail, "the case has no query");
		return CASE_SKIP;
	}

	e = compile_case(&spec, &errs);
	if (!e) {
		failed_with_errors = true;
		goto judged_errors;
	}
	if (spec.input_term) {
		if (eval_input_term(spec.input_term, &term, &input, &errs) < 0) {
			report(detail, "input_term could not be evaluated: ");
			append_errors(detail, &errs);
			goto out;
		}
	} else if (spec.input) {
		input = rv_ref((struct rv *)spec.input);
	}
	opts.input = input;
	opts.strict_builtin_errors = spec.strict_error;

	if (rego_engine_query(e, spec.query, strlen(spec.query), &opts, &res, &errs) < 0) {
		failed_with_errors = true;
		goto judged_errors;
	}

	got = actual_set(res, &spec);
	if (spec.want_error_code || spec.want_error) {
		report(detail, "expected an error, got a result");
		goto out;
	}
	if (!spec.want_result || !rv_is(spec.want_result, RV_ARRAY)) {
		status = CASE_PASS;
		goto out;
	}
	want = expected_set(&spec);
	if (want && got && rv_equal(want, got)) {
		status = CASE_PASS;
		goto out;
	}
	report(detail, "%s", res->len == 0 ? "undefined, expected a result" : "result differs");
	goto out;

judged_errors:
	status = judge_error(&spec, &errs, detail);
out:
	if (status == CASE_FAIL && verbose) {
		if (!want && spec.want_result && rv_is(spec.want_result, RV_ARRAY))
			want = expected_set(&spec);
		describe(detail, &spec, want, got, failed_with_errors ? &errs : NULL);
	}
	rv_unref(want);
	rv_unref(got);
	rv_unref(input);
	input_term_clear(&term);
	rego_results_free(res);
	rego_engine_unref(e);
	return status;
}
