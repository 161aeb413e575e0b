/* Falco's filter grammar (libsinsp's parser): `or` over `and` over `not` over
 * checks, macros and parenthesized expressions. Lists and macros are expanded
 * while parsing, so the AST refers to fields and values only. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "sensor/rules/cond.h"

struct lexer {
	const char *text;
	size_t pos;
	struct cond_token cur;
};

struct parser {
	const struct cond_env *env;
	struct wd_error *err;
	size_t nodes;
	size_t depth;
	const char *macros[COND_MAX_DEPTH];  /* macros being expanded, outermost first */
	size_t nmacros;
	struct wd_buf absent;
};

static const struct {
	const char *name;
	enum cond_op op;
} op_table[] = {
	{ "=", COND_OP_EQ }, { "==", COND_OP_EQ }, { "!=", COND_OP_NE },
	{ "<", COND_OP_LT }, { "<=", COND_OP_LE }, { ">", COND_OP_GT }, { ">=", COND_OP_GE },
	{ "contains", COND_OP_CONTAINS }, { "icontains", COND_OP_ICONTAINS },
	{ "bcontains", COND_OP_BCONTAINS }, { "startswith", COND_OP_STARTSWITH },
	{ "bstartswith", COND_OP_BSTARTSWITH }, { "endswith", COND_OP_ENDSWITH },
	{ "glob", COND_OP_GLOB }, { "iglob", COND_OP_IGLOB }, { "regex", COND_OP_REGEX },
	{ "in", COND_OP_IN }, { "intersects", COND_OP_INTERSECTS },
	{ "pmatch", COND_OP_PMATCH }, { "exists", COND_OP_EXISTS },
};

static const struct {
	const char *name;
	enum cond_xform xform;
} xform_table[] = {
	{ "tolower", COND_X_TOLOWER }, { "toupper", COND_X_TOUPPER },
	{ "b64", COND_X_B64 }, { "basename", COND_X_BASENAME }, { "len", COND_X_LEN },
};

/* Transformers of newer Falco releases that this engine does not have yet,
 * because Falco's documentation does not describe them yet. */
static const char *const xform_unsupported[] = { "join", "concat", "getopt" };

bool cond_xform_lookup(const char *name, size_t len, enum cond_xform *ret)
{
	for (size_t i = 0; i < WD_ARRAY_LEN(xform_table); i++) {
		if (strlen(xform_table[i].name) == len && !memcmp(xform_table[i].name, name, len)) {
			*ret = xform_table[i].xform;
			return true;
		}
	}
	return false;
}

const char *cond_op_name(enum cond_op op)
{
	/* The table lists "=" before "==", so the canonical spelling wins. */
	for (size_t i = 0; i < WD_ARRAY_LEN(op_table); i++) {
		if (op_table[i].op == op)
			return op_table[i].name;
	}
	return "?";
}

static int advance(struct lexer *lx, struct parser *p)
{
	free(lx->cur.text);
	lx->cur.text = NULL;
	return cond_lex(lx->text, &lx->pos, &lx->cur, p->err);
}

static bool is_word(const struct lexer *lx, const char *word)
{
	return lx->cur.kind == COND_TOK_WORD && !strcmp(lx->cur.text, word);
}

/* A word directly followed by "(" is a function call: a transformer. */
static bool call_follows(const struct lexer *lx)
{
	return lx->cur.kind == COND_TOK_WORD && lx->text[lx->pos] == '(';
}

static int unexpected(struct parser *p, const struct lexer *lx, const char *wanted)
{
	return wd_error_set(p->err, WD_EINVAL, "expected %s, got '%.64s' at position %zu",
		wanted, lx->cur.text ? lx->cur.text : "", lx->cur.pos);
}

static int node_new(struct parser *p, enum cond_kind kind, struct cond_node **ret)
{
	struct cond_node *node;

	if (++p->nodes > COND_MAX_NODES)
		return wd_error_set(p->err, WD_ETOOBIG, "condition expands to more than %d nodes",
			COND_MAX_NODES);
	node = wd_calloc(1, sizeof(*node));
	if (!node)
		return wd_error_set(p->err, WD_ENOMEM, "out of memory");
	node->kind = kind;
	*ret = node;
	return 0;
}

static int node_add(struct parser *p, struct cond_node *parent, struct cond_node *kid)
{
	struct cond_node **kids = wd_reallocarray(parent->kids, parent->nkids + 1, sizeof(*kids));

	if (!kids)
		return wd_error_set(p->err, WD_ENOMEM, "out of memory");
	parent->kids = kids;
	kids[parent->nkids++] = kid;
	return 0;
}

static void operand_clear(struct cond_operand *op)
{
	free(op->field);
	free(op->arg);
	memset(op, 0, sizeof(*op));
}

void cond_free(struct cond_node *node)
{
	if (!node)
		return;
	for (size_t i = 0; i < node->nkids; i++)
		cond_free(node->kids[i]);
	free(node->kids);
	operand_clear(&node->lhs);
	operand_clear(&node->rhs);
	for (size_t i = 0; i < node->nvalues; i++) {
		free(node->values[i].text);
		pcre2_code_free(node->values[i].re);
	}
	free(node->values);
	free(node);
}

static int note_absent(struct parser *p, const char *field)
{
	const char *have = wd_buf_str(&p->absent);
	size_t n = strlen(field);

	for (const char *s = strstr(have, field); s; s = strstr(s + 1, field)) {
		if ((s == have || s[-1] == ' ') && (s[n] == ' ' || s[n] == '\0'))
			return 0;
	}
	if (wd_buf_len(&p->absent) > 0 && wd_buf_append_byte(&p->absent, ' ') < 0)
		return wd_error_set(p->err, WD_ENOMEM, "out of memory");
	if (wd_buf_append_str(&p->absent, field) < 0)
		return wd_error_set(p->err, WD_ENOMEM, "out of memory");
	return 0;
}

/* Splits "proc.aname[2]" into field and argument and checks the registry. */
static int parse_field(struct parser *p, const struct lexer *lx, struct cond_operand *ret)
{
	const char *word = lx->cur.text;
	const char *bracket = strchr(word, '[');
	size_t name_len = bracket ? (size_t)(bracket - word) : strlen(word);
	const struct cond_field *def;

	if (!memchr(word, '.', name_len) || name_len == 0)
		return unexpected(p, lx, "a field name");
	ret->field = wd_strndup(word, name_len);
	if (!ret->field)
		return wd_error_set(p->err, WD_ENOMEM, "out of memory");
	if (bracket) {
		size_t len = strlen(bracket);

		if (len < 2 || bracket[len - 1] != ']')
			return unexpected(p, lx, "a field name");
		ret->arg = wd_strndup(bracket + 1, len - 2);
		if (!ret->arg)
			return wd_error_set(p->err, WD_ENOMEM, "out of memory");
	}

	def = cond_field_find(ret->field);
	if (!def)
		return wd_error_set(p->err, WD_EUNSUPPORTED, "unknown field '%.128s' at position %zu",
			ret->field, lx->cur.pos);
	if (ret->arg && !def->index)
		return wd_error_set(p->err, WD_EUNSUPPORTED,
			"field '%.128s' takes no argument at position %zu", ret->field, lx->cur.pos);
	ret->def = def;
	if (def->absent)
		return note_absent(p, ret->field);
	return 0;
}

/* Parses field | xform(operand), with the lexer at the first word. */
static int parse_operand(struct parser *p, struct lexer *lx, struct cond_operand *ret, size_t depth)
{
	int rc;

	if (depth > COND_MAX_XFORMS)
		return wd_error_set(p->err, WD_EUNSUPPORTED,
			"more than %d nested transformers at position %zu", COND_MAX_XFORMS, lx->cur.pos);
	if (call_follows(lx)) {
		for (size_t i = 0; i < WD_ARRAY_LEN(xform_unsupported); i++) {
			if (!strcmp(lx->cur.text, xform_unsupported[i]))
				return wd_error_set(p->err, WD_EUNSUPPORTED,
					"unsupported transformer '%s(' at position %zu",
					xform_unsupported[i], lx->cur.pos);
		}
		for (size_t i = 0; i < WD_ARRAY_LEN(xform_table); i++) {
			if (strcmp(lx->cur.text, xform_table[i].name))
				continue;
			WD_TRY(advance(lx, p));  /* ( */
			WD_TRY(advance(lx, p));
			WD_TRY(parse_operand(p, lx, ret, depth + 1));
			if (lx->cur.kind != COND_TOK_RPAREN)
				return unexpected(p, lx, "')' after the transformed field");
			if (ret->def->type == COND_FT_NUMBER || ret->def->type == COND_FT_BOOL)
				return wd_error_set(p->err, WD_EUNSUPPORTED,
					"transformer '%s' needs a string field, '%.128s' is a %s",
					xform_table[i].name, ret->field, cond_ftype_name(ret->def->type));
			/* len() yields a number, which no transformer takes. */
			if (ret->nxforms && ret->xforms[ret->nxforms - 1] == COND_X_LEN)
				return wd_error_set(p->err, WD_EUNSUPPORTED,
					"transformer '%s' needs a string, len(%.128s) is a number",
					xform_table[i].name, ret->field);
			ret->xforms[ret->nxforms++] = xform_table[i].xform;
			return advance(lx, p);
		}
		return wd_error_set(p->err, WD_EUNSUPPORTED, "unknown transformer '%.64s(' at position %zu",
			lx->cur.text, lx->cur.pos);
	}
	if (lx->cur.kind != COND_TOK_WORD)
		return unexpected(p, lx, "a field name");
	rc = parse_field(p, lx, ret);
	if (rc < 0)
		return rc;
	return advance(lx, p);
}

static int value_add(struct parser *p, struct cond_node *node, const char *text)
{
	struct cond_value *values;

	/* Values count against the node ceiling, so a long list expanded by
	 * many macro uses cannot grow the AST without bound. */
	if (++p->nodes > COND_MAX_NODES)
		return wd_error_set(p->err, WD_ETOOBIG, "condition expands to more than %d nodes",
			COND_MAX_NODES);
	values = wd_reallocarray(node->values, node->nvalues + 1, sizeof(*values));
	if (!values)
		return wd_error_set(p->err, WD_ENOMEM, "out of memory");
	node->values = values;
	memset(&values[node->nvalues], 0, sizeof(values[0]));
	values[node->nvalues].text = wd_strdup(text);
	if (!values[node->nvalues].text)
		return wd_error_set(p->err, WD_ENOMEM, "out of memory");
	values[node->nvalues].len = strlen(text);
	node->nvalues++;
	return 0;
}

/* A list item or a name of a YAML list, which is expanded in place. */
static int value_or_list(struct parser *p, struct cond_node *node, const struct cond_token *tok)
{
	const char *const *items;
	size_t count = 0;

	if (tok->kind == COND_TOK_WORD && p->env && p->env->list &&
		(items = p->env->list(p->env->ctx, tok->text, &count)) != NULL) {
		for (size_t i = 0; i < count; i++)
			WD_TRY(value_add(p, node, items[i]));
		return 0;
	}
	return value_add(p, node, tok->text);
}

static bool is_value_token(const struct cond_token *tok)
{
	return tok->kind == COND_TOK_WORD || tok->kind == COND_TOK_STRING || tok->kind == COND_TOK_OP;
}

static int parse_list(struct parser *p, struct lexer *lx, struct cond_node *node)
{
	WD_TRY(advance(lx, p));  /* past ( */
	if (lx->cur.kind == COND_TOK_RPAREN)
		return advance(lx, p);
	for (;;) {
		if (!is_value_token(&lx->cur))
			return unexpected(p, lx, "a list value");
		WD_TRY(value_or_list(p, node, &lx->cur));
		WD_TRY(advance(lx, p));
		if (lx->cur.kind == COND_TOK_RPAREN)
			return advance(lx, p);
		if (lx->cur.kind != COND_TOK_COMMA)
			return unexpected(p, lx, "',' or ')' in a list");
		WD_TRY(advance(lx, p));
	}
}

static bool is_list_op(enum cond_op op)
{
	return op == COND_OP_IN || op == COND_OP_INTERSECTS || op == COND_OP_PMATCH;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Makes each value ready for the operator and the field's type. */
static int prepare_values(struct parser *p, struct cond_node *node)
{
	const struct cond_operand *lhs = &node->lhs;
	bool counted = lhs->nxforms && lhs->xforms[lhs->nxforms - 1] == COND_X_LEN;
	enum cond_ftype type = counted ? COND_FT_NUMBER : lhs->def->type;
	bool numeric_op = node->op >= COND_OP_LT && node->op <= COND_OP_GE;

	if (type == COND_FT_NUMBER && !numeric_op && node->op != COND_OP_EQ &&
		node->op != COND_OP_NE && node->op != COND_OP_IN && node->op != COND_OP_INTERSECTS &&
		node->op != COND_OP_EXISTS)
		return wd_error_set(p->err, WD_EUNSUPPORTED,
			"operator '%s' is not supported on number field '%.128s'",
			cond_op_name(node->op), node->lhs.field);
	if (type == COND_FT_BOOL && node->op != COND_OP_EQ && node->op != COND_OP_NE &&
		node->op != COND_OP_EXISTS)
		return wd_error_set(p->err, WD_EUNSUPPORTED,
			"operator '%s' is not supported on boolean field '%.128s'",
			cond_op_name(node->op), node->lhs.field);

	for (size_t i = 0; i < node->nvalues; i++) {
		struct cond_value *v = &node->values[i];
		char *end = NULL;

		errno = 0;
		v->num = strtoll(v->text, &end, 0);
		v->is_num = v->text[0] != '\0' && *end == '\0' && errno == 0;
		if (type == COND_FT_BOOL) {
			v->is_num = true;
			if (!strcasecmp(v->text, "true"))
				v->num = 1;
			else if (!strcasecmp(v->text, "false"))
				v->num = 0;
			else
				return wd_error_set(p->err, WD_EINVAL,
					"'%.128s' is not a boolean for field '%.128s'", v->text, node->lhs.field);
		}
		if ((type == COND_FT_NUMBER || (numeric_op && type != COND_FT_ANY)) && !v->is_num)
			return wd_error_set(p->err, WD_EINVAL, "'%.128s' is not a number for field '%.128s'",
				v->text, node->lhs.field);

		if (node->op == COND_OP_BCONTAINS || node->op == COND_OP_BSTARTSWITH) {
			size_t n = strlen(v->text);

			if (n % 2)
				return wd_error_set(p->err, WD_EINVAL, "'%.128s' is not a hex byte string",
					v->text);
			for (size_t j = 0; j < n / 2; j++) {
				int hi = hex_digit(v->text[2 * j]), lo = hex_digit(v->text[2 * j + 1]);

				if (hi < 0 || lo < 0)
					return wd_error_set(p->err, WD_EINVAL,
						"'%.128s' is not a hex byte string", v->text);
				v->text[j] = (char)(hi * 16 + lo);
			}
			v->len = n / 2;
			v->text[v->len] = '\0';
		}
		if (node->op == COND_OP_REGEX) {
			int code;
			PCRE2_SIZE offset;

			/* Falco matches the whole value, as RE2's FullMatch does. */
			v->re = pcre2_compile((PCRE2_SPTR)v->text, v->len,
				PCRE2_ANCHORED | PCRE2_ENDANCHORED,
				&code, &offset, NULL);
			if (!v->re)
				return wd_error_set(p->err, WD_EINVAL,
					"invalid regular expression '%.128s' at offset %zu", v->text,
					(size_t)offset);
		}
	}
	return 0;
}

/* Right-hand side compared to another field: val(field) or xform(field). */
static bool rhs_is_field(const struct lexer *lx)
{
	if (!call_follows(lx))
		return false;
	if (!strcmp(lx->cur.text, "val"))
		return true;
	for (size_t i = 0; i < WD_ARRAY_LEN(xform_table); i++) {
		if (!strcmp(lx->cur.text, xform_table[i].name))
			return true;
	}
	return false;
}

static int parse_rhs_field(struct parser *p, struct lexer *lx, struct cond_node *node)
{
	node->rhs_field = true;
	if (!strcmp(lx->cur.text, "val")) {
		WD_TRY(advance(lx, p));  /* ( */
		WD_TRY(advance(lx, p));
		if (lx->cur.kind != COND_TOK_WORD)
			return unexpected(p, lx, "a field name in val()");
		WD_TRY(parse_field(p, lx, &node->rhs));
		WD_TRY(advance(lx, p));
		if (lx->cur.kind != COND_TOK_RPAREN)
			return unexpected(p, lx, "')' after val(field");
		return advance(lx, p);
	}
	return parse_operand(p, lx, &node->rhs, 0);
}

/* After the left operand: the operator and its right-hand side. */
static int parse_check(struct parser *p, struct lexer *lx, struct cond_node *node)
{
	size_t op_pos = lx->cur.pos;
	bool found = false;

	if (lx->cur.kind == COND_TOK_OP || lx->cur.kind == COND_TOK_WORD) {
		for (size_t i = 0; i < WD_ARRAY_LEN(op_table); i++) {
			if (!strcmp(lx->cur.text, op_table[i].name)) {
				node->op = op_table[i].op;
				found = true;
				break;
			}
		}
	}
	if (!found) {
		char wanted[200];

		snprintf(wanted, sizeof(wanted), "an operator after '%.128s'", node->lhs.field);
		return unexpected(p, lx, wanted);
	}
	WD_TRY(advance(lx, p));
	if (node->op == COND_OP_EXISTS)
		return 0;

	if (is_word(lx, "oneof") || is_word(lx, "anyof") || is_word(lx, "allof"))
		return wd_error_set(p->err, WD_EUNSUPPORTED,
			"unsupported operator '%s %s' at position %zu", cond_op_name(node->op),
			lx->cur.text, op_pos);

	if (rhs_is_field(lx))
		return parse_rhs_field(p, lx, node);
	if (is_list_op(node->op)) {
		if (lx->cur.kind == COND_TOK_LPAREN)
			WD_TRY(parse_list(p, lx, node));
		else if (lx->cur.kind == COND_TOK_WORD)
		{
			WD_TRY(value_or_list(p, node, &lx->cur));
			WD_TRY(advance(lx, p));
		}
		else
			return unexpected(p, lx, "a list");
	} else {
		if (!is_value_token(&lx->cur))
			return unexpected(p, lx, "a value");
		WD_TRY(value_add(p, node, lx->cur.text));
		WD_TRY(advance(lx, p));
	}
	return prepare_values(p, node);
}

static int parse_or(struct parser *p, struct lexer *lx, struct cond_node **ret);

static int parse_text(struct parser *p, const char *text, struct cond_node **ret);

static int expand_macro(struct parser *p, const struct lexer *lx, struct cond_node **ret)
{
	const char *name = lx->cur.text;
	const char *body = p->env && p->env->macro ? p->env->macro(p->env->ctx, name) : NULL;
	int rc;

	if (!body)
		return wd_error_set(p->err, WD_EINVAL, "undefined macro '%.128s' at position %zu",
			name, lx->cur.pos);
	for (size_t i = 0; i < p->nmacros; i++) {
		if (!strcmp(p->macros[i], name)) {
			char chain[400] = "";
			size_t used = 0;

			for (size_t j = i; j < p->nmacros && used < sizeof(chain); j++)
				used += (size_t)snprintf(chain + used, sizeof(chain) - used, "%s -> ",
					p->macros[j]);
			return wd_error_set(p->err, WD_EINVAL, "macro cycle: %s%.128s", chain, name);
		}
	}
	if (p->nmacros >= COND_MAX_DEPTH)
		return wd_error_set(p->err, WD_EINVAL, "macros nest deeper than %d levels",
			COND_MAX_DEPTH);

	p->macros[p->nmacros++] = name;
	rc = parse_text(p, body, ret);
	p->nmacros--;
	if (rc < 0 && p->err && strncmp(p->err->detail, "in macro", 8)) {
		char inner[sizeof(p->err->detail)];

		memcpy(inner, p->err->detail, sizeof(inner));
		wd_error_set(p->err, rc, "in macro '%.64s': %s", name, inner);
	}
	return rc;
}

static int parse_primary(struct parser *p, struct lexer *lx, struct cond_node **ret)
{
	struct cond_node *node = NULL;
	int rc = 0;

	if (lx->cur.kind == COND_TOK_LPAREN) {
		WD_TRY(advance(lx, p));
		WD_TRY(parse_or(p, lx, ret));
		if (lx->cur.kind != COND_TOK_RPAREN)
			return unexpected(p, lx, "')'");
		return advance(lx, p);
	}
	if (lx->cur.kind != COND_TOK_WORD || is_word(lx, "and") || is_word(lx, "or"))
		return unexpected(p, lx, "a field, macro or '('");

	if (!call_follows(lx) && !strchr(lx->cur.text, '.') && !strchr(lx->cur.text, '[')) {
		WD_TRY(expand_macro(p, lx, ret));
		return advance(lx, p);
	}

	WD_GUARD(node_new(p, COND_CHECK, &node));
	WD_GUARD(parse_operand(p, lx, &node->lhs, 0));
	WD_GUARD(parse_check(p, lx, node));
	*ret = WD_TAKE_PTR(node);
out:
	cond_free(node);
	return rc;
}

static int parse_not(struct parser *p, struct lexer *lx, struct cond_node **ret)
{
	struct cond_node *node = NULL;
	struct cond_node *kid = NULL;
	int rc = 0;

	if (!is_word(lx, "not"))
		return parse_primary(p, lx, ret);
	if (p->depth >= COND_MAX_DEPTH)
		return wd_error_set(p->err, WD_EINVAL, "condition nests deeper than %d levels at position %zu",
			COND_MAX_DEPTH, lx->cur.pos);
	p->depth++;
	WD_GUARD(advance(lx, p));
	WD_GUARD(parse_not(p, lx, &kid));
	WD_GUARD(node_new(p, COND_NOT, &node));
	WD_GUARD(node_add(p, node, kid));
	kid = NULL;
	*ret = WD_TAKE_PTR(node);
out:
	p->depth--;
	cond_free(kid);
	cond_free(node);
	return rc;
}

/* and/or chains: one n-ary node, so long chains do not deepen the tree. */
static int parse_chain(struct parser *p, struct lexer *lx, struct cond_node **ret,
	const char *word, enum cond_kind kind)
{
	struct cond_node *first = NULL;
	struct cond_node *node = NULL;
	struct cond_node *kid = NULL;
	int rc = 0;

	WD_GUARD(kind == COND_OR ? parse_chain(p, lx, &first, "and", COND_AND) : parse_not(p, lx, &first));
	if (!is_word(lx, word)) {
		*ret = WD_TAKE_PTR(first);
		goto out;
	}
	WD_GUARD(node_new(p, kind, &node));
	WD_GUARD(node_add(p, node, first));
	first = NULL;
	while (is_word(lx, word)) {
		WD_GUARD(advance(lx, p));
		WD_GUARD(kind == COND_OR ? parse_chain(p, lx, &kid, "and", COND_AND) : parse_not(p, lx, &kid));
		WD_GUARD(node_add(p, node, kid));
		kid = NULL;
	}
	*ret = WD_TAKE_PTR(node);
out:
	cond_free(first);
	cond_free(kid);
	cond_free(node);
	return rc;
}

static int parse_or(struct parser *p, struct lexer *lx, struct cond_node **ret)
{
	int rc;

	if (++p->depth > COND_MAX_DEPTH) {
		p->depth--;
		return wd_error_set(p->err, WD_EINVAL, "condition nests deeper than %d levels at position %zu",
			COND_MAX_DEPTH, lx->cur.pos);
	}
	rc = parse_chain(p, lx, ret, "or", COND_OR);
	p->depth--;
	return rc;
}

/* Parses a whole text (the condition or a macro body) to its end. */
static int parse_text(struct parser *p, const char *text, struct cond_node **ret)
{
	struct lexer lx = { .text = text };
	struct cond_node *node = NULL;
	int rc = 0;

	WD_GUARD(cond_lex(text, &lx.pos, &lx.cur, p->err));
	WD_GUARD(parse_or(p, &lx, &node));
	if (lx.cur.kind != COND_TOK_EOF) {
		rc = unexpected(p, &lx, "'and', 'or' or the end");
		goto out;
	}
	*ret = WD_TAKE_PTR(node);
out:
	free(lx.cur.text);
	cond_free(node);
	return rc;
}

int cond_parse(const char *text, const struct cond_env *env, struct cond_node **ret_node,
	char **ret_absent, struct wd_error *err)
{
	struct parser p = { .env = env, .err = err };
	struct cond_node *node = NULL;
	int rc;

	*ret_node = NULL;
	if (ret_absent)
		*ret_absent = NULL;
	if (strlen(text) > COND_MAX_TEXT)
		return wd_error_set(err, WD_ETOOBIG, "condition longer than %u bytes", COND_MAX_TEXT);
	wd_buf_init(&p.absent, 64, 64 * 1024);
	rc = parse_text(&p, text, &node);
	if (rc == 0 && ret_absent && wd_buf_len(&p.absent) > 0) {
		*ret_absent = wd_buf_take(&p.absent, NULL);
		if (!*ret_absent)
			rc = wd_error_set(err, WD_ENOMEM, "out of memory");
	}
	wd_buf_free(&p.absent);
	if (rc < 0) {
		cond_free(node);
		return rc;
	}
	*ret_node = node;
	return 0;
}
