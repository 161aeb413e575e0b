/* Turns a rule's exceptions into condition text, as Falco's rule compiler
 * does: each tuple of values becomes `(f1 c1 v1 and f2 c2 v2)`, the tuples
 * are joined with `or`, and the rule reads `(cond) and not (...)`. */
#include <string.h>

#include "common/alloc.h"
#include "sensor/rules/rules_priv.h"

static const char *scalar(const yaml_node_t *node)
{
	return node && node->type == YAML_SCALAR_NODE ? (const char *)node->data.scalar.value : NULL;
}

static bool is_list_comp(const char *comp)
{
	return !strcmp(comp, "in") || !strcmp(comp, "intersects") || !strcmp(comp, "pmatch");
}

static int quoted(struct wd_buf *out, const char *text)
{
	WD_TRY(wd_buf_append_byte(out, '"'));
	for (const char *c = text; *c; c++) {
		if (*c == '"' || *c == '\\')
			WD_TRY(wd_buf_append_byte(out, '\\'));
		WD_TRY(wd_buf_append_byte(out, (uint8_t)*c));
	}
	return wd_buf_append_byte(out, '"');
}

/* A value: a sequence is a list `(a, b)`; a scalar next to a list operator
 * names a YAML list and goes in parentheses bare; anything else is quoted. */
static int value_text(struct wd_buf *out, const yaml_document_t *doc, const yaml_node_t *value,
	const char *comp, struct wd_error *err)
{
	yaml_document_t *d = (yaml_document_t *)doc;

	if (value->type == YAML_SEQUENCE_NODE) {
		WD_TRY(wd_buf_append_byte(out, '('));
		for (yaml_node_item_t *i = value->data.sequence.items.start;
			i < value->data.sequence.items.top; i++) {
			const char *text = scalar(yaml_document_get_node(d, *i));

			if (!text)
				return wd_error_set(err, WD_EINVAL, "exception list values must be strings");
			if (i != value->data.sequence.items.start)
				WD_TRY(wd_buf_append_str(out, ", "));
			WD_TRY(quoted(out, text));
		}
		return wd_buf_append_byte(out, ')');
	}
	if (!scalar(value))
		return wd_error_set(err, WD_EINVAL, "exception values must be strings or lists");
	if (is_list_comp(comp))
		return wd_buf_appendf(out, "(%s)", scalar(value));
	return quoted(out, scalar(value));
}

static int one_exception(struct wd_buf *out, const struct rules_exception *exc,
	struct wd_error *err)
{
	yaml_document_t *doc = (yaml_document_t *)exc->doc;
	const yaml_node_t *fields = exc->fields;
	const yaml_node_t *comps = exc->comps;

	if (fields->type == YAML_SCALAR_NODE) {
		/* Scalar form: one field, values is a flat list. */
		const char *comp = comps ? scalar(comps) : "in";

		if (!comp)
			return wd_error_set(err, WD_EINVAL, "exception '%s': 'comps' must be a string",
				exc->name);
		WD_TRY(wd_buf_appendf(out, "%s %s (", scalar(fields), comp));
		for (size_t i = 0; i < exc->nvalues; i++) {
			if (!scalar(exc->values[i].node))
				return wd_error_set(err, WD_EINVAL, "exception '%s': values must be strings",
					exc->name);
			if (i)
				WD_TRY(wd_buf_append_str(out, ", "));
			WD_TRY(quoted(out, scalar(exc->values[i].node)));
		}
		return wd_buf_append_byte(out, ')');
	}

	size_t nfields = (size_t)(fields->data.sequence.items.top - fields->data.sequence.items.start);

	if (comps && (comps->type != YAML_SEQUENCE_NODE ||
		(size_t)(comps->data.sequence.items.top - comps->data.sequence.items.start) != nfields))
		return wd_error_set(err, WD_EINVAL,
			"exception '%s': 'comps' must list one operator per field", exc->name);
	for (size_t t = 0; t < exc->nvalues; t++) {
		const yaml_node_t *tuple = exc->values[t].node;
		yaml_document_t *vdoc = (yaml_document_t *)exc->values[t].doc;

		if (tuple->type != YAML_SEQUENCE_NODE ||
			(size_t)(tuple->data.sequence.items.top - tuple->data.sequence.items.start) != nfields)
			return wd_error_set(err, WD_EINVAL,
				"exception '%s': value %zu must list one value per field", exc->name, t + 1);
		WD_TRY(wd_buf_append_str(out, t ? " or (" : "("));
		for (size_t f = 0; f < nfields; f++) {
			const char *field = scalar(yaml_document_get_node(doc, fields->data.sequence.items.start[f]));
			const char *comp = comps ? scalar(yaml_document_get_node(doc,
				comps->data.sequence.items.start[f])) : "=";

			if (!field || !comp)
				return wd_error_set(err, WD_EINVAL,
					"exception '%s': fields and comps must be strings", exc->name);
			if (f)
				WD_TRY(wd_buf_append_str(out, " and "));
			WD_TRY(wd_buf_appendf(out, "%s %s ", field, comp));
			WD_TRY(value_text(out, vdoc, yaml_document_get_node(vdoc,
				tuple->data.sequence.items.start[f]), comp, err));
		}
		WD_TRY(wd_buf_append_byte(out, ')'));
	}
	return 0;
}

int rules_exceptions_apply(const struct rules_rule *rule, char **ret_text, struct wd_error *err)
{
	struct wd_buf out;
	bool any = false;
	int rc = 0;

	*ret_text = NULL;
	wd_buf_init(&out, 256, COND_MAX_TEXT);
	for (size_t i = 0; i < rule->nexceptions; i++)
		any = any || rule->exceptions[i].nvalues > 0;
	if (!any) {
		WD_GUARD(wd_buf_append_str(&out, rule->condition));
	} else {
		WD_GUARD(wd_buf_appendf(&out, "(%s)", rule->condition));
		for (size_t i = 0; i < rule->nexceptions; i++) {
			if (rule->exceptions[i].nvalues == 0)
				continue;
			WD_GUARD(wd_buf_append_str(&out, " and not ("));
			WD_GUARD(one_exception(&out, &rule->exceptions[i], err));
			WD_GUARD(wd_buf_append_byte(&out, ')'));
		}
	}
	*ret_text = wd_buf_take(&out, NULL);
	WD_ENSURE(*ret_text, WD_ENOMEM);
out:
	if (rc < 0 && err && err->detail[0] == '\0')
		wd_error_set(err, rc, "rule '%s': cannot build the exceptions", rule->name);
	wd_buf_free(&out);
	return rc;
}
