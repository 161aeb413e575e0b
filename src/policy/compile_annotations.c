/* METADATA annotations: YAML in comment blocks placed right before a
 * package or rule, read from the module source and shaped as OPA's
 * rego.metadata.rule() returns them. */
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "policy/compile.h"

/* Bytes of YAML one annotation block may hold. */
#define ANNOTATION_MAX_BYTES (64u << 10)

/* "Name <email>" becomes {"name": "Name", "email": "email"}. */
static struct rv *author_value(const struct rv *v)
{
	const char *s, *lt, *gt;
	struct rv *obj;
	size_t name_len;

	if (!rv_is(v, RV_STRING))
		return value_deep_copy(v);
	s = rv_str(v);
	obj = rv_object_new(2);
	if (!obj)
		return NULL;
	lt = strrchr(s, '<');
	gt = lt ? strchr(lt, '>') : NULL;
	name_len = lt && gt ? (size_t)(lt - s) : rv_str_len(v);
	while (name_len > 0 && s[name_len - 1] == ' ')
		name_len--;
	if ((name_len > 0 &&
	     rv_object_put(obj, rv_cstring("name"), rv_string(s, name_len)) < 0) ||
	    (lt && gt && rv_object_put(obj, rv_cstring("email"),
				       rv_string(lt + 1, (size_t)(gt - lt - 1))) < 0)) {
		rv_unref(obj);
		return NULL;
	}
	return obj;
}

/* A list whose string items become objects, as OPA reads authors and
 * related_resources. */
static struct rv *shaped_list(const struct rv *list, const char *key)
{
	struct rv *out;

	if (!rv_is(list, RV_ARRAY))
		return value_deep_copy(list);
	out = rv_array_new(rv_array_len(list));
	for (size_t i = 0; out && i < rv_array_len(list); i++) {
		const struct rv *item = rv_array_at(list, i);
		struct rv *shaped;

		if (strcmp(key, "authors") == 0) {
			shaped = author_value(item);
		} else if (rv_is(item, RV_STRING)) {
			shaped = rv_object_new(1);
			if (shaped &&
			    rv_object_put(shaped, rv_cstring("ref"), value_deep_copy(item)) < 0) {
				rv_unref(shaped);
				shaped = NULL;
			}
		} else {
			shaped = value_deep_copy(item);
		}
		if (rv_array_push(out, shaped) < 0) {
			rv_unref(out);
			return NULL;
		}
	}
	return out;
}

/* The annotation object of a parsed block, with scope defaulted. */
static struct rv *shape(const struct rv *yaml, const char *scope)
{
	struct rv *out = rv_object_new(rv_len(yaml) + 1);
	bool has_scope = false;

	for (size_t i = 0; out && i < rv_len(yaml); i++) {
		struct rv *key, *val, *shaped;

		rv_map_at(yaml, i, &key, &val);
		if (!rv_is(key, RV_STRING))
			continue;
		if (strcmp(rv_str(key), "scope") == 0)
			has_scope = true;
		if (strcmp(rv_str(key), "authors") == 0 ||
		    strcmp(rv_str(key), "related_resources") == 0)
			shaped = shaped_list(val, rv_str(key));
		else
			shaped = value_deep_copy(val);
		if (rv_object_put(out, value_deep_copy(key), shaped) < 0) {
			rv_unref(out);
			return NULL;
		}
	}
	if (out && !has_scope &&
	    rv_object_put(out, rv_cstring("scope"), rv_cstring(scope)) < 0) {
		rv_unref(out);
		return NULL;
	}
	return out;
}

static const char *line_end(const char *p, const char *end)
{
	const char *nl;

	if (p >= end)
		return end;
	nl = memchr(p, '\n', (size_t)(end - p));
	return nl ? nl : end;
}

static const char *skip_blanks(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* The rule of module m that starts on row, or NULL. */
static struct rego_rule *rule_at_row(struct rego_module *m, uint32_t row)
{
	for (size_t i = 0; i < m->rules_len; i++)
		if (m->rules[i]->loc.row == row)
			return m->rules[i];
	return NULL;
}

int compile_annotations(struct rego_engine *e, struct rego_module *m)
{
	const char *p = m->source, *end = m->source + m->source_len;
	struct rv *package_ann = NULL;
	uint32_t row = 1;

	if (!m->source)
		return 0;
	while (p < end) {
		const char *eol = line_end(p, end);
		const char *s = skip_blanks(p, eol);
		struct wd_buf yaml;
		struct rv *parsed, *shaped;
		struct rego_rule *rule;
		bool is_package;

		if ((size_t)(eol - s) < 10 || strncmp(s, "# METADATA", 10) != 0) {
			p = eol + (eol < end);
			row++;
			continue;
		}

		/* Collect the comment lines after the marker, without '#'. */
		wd_buf_init(&yaml, 256, ANNOTATION_MAX_BYTES);
		p = eol + (eol < end);
		row++;
		while (p < end) {
			eol = line_end(p, end);
			s = skip_blanks(p, eol);
			if (s == eol || *s != '#')
				break;
			if (wd_buf_append(&yaml, s + 1, (size_t)(eol - s - 1)) < 0 ||
			    wd_buf_append_byte(&yaml, '\n') < 0)
				break;
			p = eol + (eol < end);
			row++;
		}
		while (p < end && skip_blanks(p, line_end(p, end)) == line_end(p, end)) {
			eol = line_end(p, end);
			p = eol + (eol < end);
			row++;
		}
		s = skip_blanks(p, line_end(p, end));
		is_package = (size_t)(end - s) > 7 && strncmp(s, "package", 7) == 0 &&
			     (s[7] == ' ' || s[7] == '\t');
		parsed = rv_parse_yaml(wd_buf_str(&yaml), wd_buf_len(&yaml), NULL);
		wd_buf_free(&yaml);
		if (!parsed || !rv_is(parsed, RV_OBJECT)) {
			/* NOTE: OPA rejects malformed annotations; they are ignored
			 * here. */
			rv_unref(parsed);
			continue;
		}
		shaped = engine_own(e, shape(parsed, is_package ? "package" : "rule"));
		rv_unref(parsed);
		if (!shaped)
			return WD_ENOMEM;
		if (is_package) {
			package_ann = shaped;
			continue;
		}
		rule = rule_at_row(m, row);
		if (rule && rule->index)
			((struct crule *)rule->index)->annotations = shaped;
	}
	for (size_t i = 0; package_ann && i < m->rules_len; i++)
		if (m->rules[i]->index)
			((struct crule *)m->rules[i]->index)->package_annotations = package_ann;
	return 0;
}
