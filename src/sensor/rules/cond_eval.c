/* Evaluates a condition AST against one event, with Falco's semantics: a
 * check on an unset field is false (so `not` of it is true), `exists` tests
 * whether the field is set, and a multi-valued field matches a scalar
 * operator when any of its values does. */
#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "common/alloc.h"
#include "common/encoding.h"
#include "sensor/rules/cond.h"

/* Values above this count in one list field are not looked at; the process
 * tree of the sensor is shallower than that. */
#define EVAL_MAX_ITEMS 64

struct item {
	const char *s;
	size_t len;
	int64_t num;
	bool is_num;
};

/* An operand's values for this event, after its transformers. */
struct mval {
	bool set;
	size_t n;
	struct item items[EVAL_MAX_ITEMS];
	char *owned[EVAL_MAX_ITEMS];
	char numtext[EVAL_MAX_ITEMS][24];
};

static bool text_number(const char *s, size_t len, int64_t *ret)
{
	char buf[32];
	char *end;

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	*ret = strtoll(buf, &end, 0);
	return *end == '\0';
}

char *cond_xform_apply(enum cond_xform x, const char *s, size_t len, size_t *ret_len)
{
	char *out = NULL;

	switch (x) {
	case COND_X_TOLOWER:
	case COND_X_TOUPPER:
		out = wd_strndup(s, len);
		if (out) {
			for (size_t i = 0; i < len; i++)
				out[i] = (char)(x == COND_X_TOLOWER ? tolower((unsigned char)out[i])
					: toupper((unsigned char)out[i]));
		}
		*ret_len = len;
		return out;
	case COND_X_BASENAME: {
		const char *slash = memrchr(s, '/', len);
		size_t start = slash ? (size_t)(slash - s) + 1 : 0;

		*ret_len = len - start;
		return wd_strndup(s + start, len - start);
	}
	case COND_X_B64: {
		uint8_t *data = NULL;
		size_t n = 0;

		/* Falco's b64 leaves an undecodable value unset; so do we. */
		if (wd_base64_decode(s, len, &data, &n) < 0)
			return NULL;
		*ret_len = n;
		return (char *)data;
	}
	case COND_X_LEN:
		break;  /* fetch() counts */
	}
	return NULL;
}

/* Empties m. Only the first n items are ever read, so the arrays are left
 * as they are: clearing about 4 KiB twice per comparison was a large part
 * of the sensor's CPU time. */
static void mval_init(struct mval *m)
{
	m->set = false;
	m->n = 0;
}

static void mval_free(struct mval *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->owned[i]);
}

static void fetch(const struct cond_operand *op, cond_getter get, void *ctx, struct mval *m)
{
	struct cond_fvalue fv = { .kind = COND_V_UNSET };

	mval_init(m);
	if (op->def && op->def->absent)
		return;
	get(ctx, op->field, op->arg, &fv);
	switch (fv.kind) {
	case COND_V_UNSET:
		return;
	case COND_V_STRING:
		m->n = 1;
		m->owned[0] = NULL;
		m->items[0].s = fv.str ? fv.str : "";
		m->items[0].len = 0;
		if (fv.str)
			m->items[0].len = fv.len ? fv.len : strlen(fv.str);
		m->items[0].is_num = text_number(m->items[0].s, m->items[0].len, &m->items[0].num);
		break;
	case COND_V_NUMBER:
		m->n = 1;
		m->owned[0] = NULL;
		snprintf(m->numtext[0], sizeof(m->numtext[0]), "%lld", (long long)fv.num);
		m->items[0] = (struct item){ m->numtext[0], strlen(m->numtext[0]), fv.num, true };
		break;
	case COND_V_LIST:
		m->n = fv.count < EVAL_MAX_ITEMS ? fv.count : EVAL_MAX_ITEMS;
		for (size_t i = 0; i < m->n; i++) {
			const char *s = fv.items[i] ? fv.items[i] : "";

			m->owned[i] = NULL;
			m->items[i].s = s;
			m->items[i].len = strlen(s);
			m->items[i].is_num = text_number(s, m->items[i].len, &m->items[i].num);
		}
		break;
	}
	m->set = true;

	for (size_t x = 0; x < op->nxforms; x++) {
		if (op->xforms[x] == COND_X_LEN) {
			/* Falco's len(): the number of elements of a list field, the
			 * bytes of a string. The parser makes it the last transformer. */
			int64_t count = fv.kind == COND_V_LIST ? (int64_t)m->n :
				(int64_t)(m->n ? m->items[0].len : 0);

			mval_free(m);
			m->owned[0] = NULL;
			m->n = 1;
			snprintf(m->numtext[0], sizeof(m->numtext[0]), "%lld", (long long)count);
			m->items[0] = (struct item){ m->numtext[0], strlen(m->numtext[0]), count, true };
			break;
		}
		for (size_t i = 0; i < m->n; i++) {
			size_t len = 0;
			char *out = cond_xform_apply(op->xforms[x], m->items[i].s, m->items[i].len, &len);

			if (!out) {
				mval_free(m);
				m->n = 0;
				m->set = false;
				return;
			}
			free(m->owned[i]);
			m->owned[i] = out;
			m->items[i].s = out;
			m->items[i].len = len;
			m->items[i].is_num = text_number(out, len, &m->items[i].num);
		}
	}
}

static bool mem_icontains(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
	if (nlen == 0)
		return true;
	for (size_t i = 0; i + nlen <= hlen; i++) {
		if (!strncasecmp(hay + i, needle, nlen))
			return true;
	}
	return false;
}

/* Splits off the next path component of s (past any slashes). */
static size_t next_component(const char *s, size_t len, size_t *at, size_t *ret_start)
{
	size_t i = *at;

	while (i < len && s[i] == '/')
		i++;
	*ret_start = i;
	while (i < len && s[i] != '/')
		i++;
	*at = i;
	return i - *ret_start;
}

/* pmatch: the prefix's components match the value's first components, each
 * as a shell glob, so /tmp/hello matches /tmp/hello/x but not /tmp/hello_x. */
static bool path_prefix(const char *prefix, size_t plen, const char *s, size_t len)
{
	size_t pat = 0;
	size_t sat = 0;

	if (plen == 0 || len == 0 || (prefix[0] == '/') != (s[0] == '/'))
		return false;
	for (;;) {
		size_t pstart, sstart;
		size_t pn = next_component(prefix, plen, &pat, &pstart);
		size_t sn;
		char pbuf[256], sbuf[256];

		if (pn == 0)
			return true;
		sn = next_component(s, len, &sat, &sstart);
		if (sn == 0 || pn >= sizeof(pbuf) || sn >= sizeof(sbuf))
			return false;
		memcpy(pbuf, prefix + pstart, pn);
		pbuf[pn] = '\0';
		memcpy(sbuf, s + sstart, sn);
		sbuf[sn] = '\0';
		if (fnmatch(pbuf, sbuf, 0) != 0)
			return false;
	}
}

static bool regex_match(void *re, const struct item *it)
{
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	int rc;

	if (!md)
		return false;
	rc = pcre2_match(re, (PCRE2_SPTR)it->s, it->len, 0, 0, md, NULL);
	pcre2_match_data_free(md);
	return rc >= 0;
}

static bool equal(const struct item *it, const struct cond_value *v)
{
	if (it->is_num && v->is_num)
		return it->num == v->num;
	return it->len == v->len && !memcmp(it->s, v->text, v->len);
}

/* One value of the field against one right-hand value. */
static bool compare(enum cond_op op, const struct item *it, const struct cond_value *v)
{
	int order;

	switch (op) {
	case COND_OP_EQ:
	case COND_OP_IN:
	case COND_OP_INTERSECTS:
		return equal(it, v);
	case COND_OP_NE:
		return !equal(it, v);
	case COND_OP_LT:
	case COND_OP_LE:
	case COND_OP_GT:
	case COND_OP_GE:
		if (it->is_num && v->is_num)
			order = it->num < v->num ? -1 : it->num > v->num;
		else if (!it->is_num && !v->is_num)
			order = strcmp(it->s, v->text);
		else
			return false;
		return op == COND_OP_LT ? order < 0 : op == COND_OP_LE ? order <= 0 :
			op == COND_OP_GT ? order > 0 : order >= 0;
	case COND_OP_CONTAINS:
	case COND_OP_BCONTAINS:
		return v->len == 0 || memmem(it->s, it->len, v->text, v->len) != NULL;
	case COND_OP_ICONTAINS:
		return mem_icontains(it->s, it->len, v->text, v->len);
	case COND_OP_STARTSWITH:
	case COND_OP_BSTARTSWITH:
		return it->len >= v->len && !memcmp(it->s, v->text, v->len);
	case COND_OP_ENDSWITH:
		return it->len >= v->len && !memcmp(it->s + it->len - v->len, v->text, v->len);
	case COND_OP_GLOB:
		return strlen(it->s) == it->len && fnmatch(v->text, it->s, 0) == 0;
	case COND_OP_IGLOB:
		return strlen(it->s) == it->len && fnmatch(v->text, it->s, FNM_CASEFOLD) == 0;
	case COND_OP_REGEX:
		return v->re && regex_match(v->re, it);
	case COND_OP_PMATCH:
		return path_prefix(v->text, v->len, it->s, it->len);
	case COND_OP_EXISTS:
		return true;
	}
	return false;
}

static bool any_value(enum cond_op op, const struct item *it, const struct cond_value *values,
	size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (compare(op, it, &values[i]))
			return true;
	}
	return false;
}

static bool check(const struct cond_node *node, cond_getter get, void *ctx)
{
	struct mval lhs;
	struct mval rhs;
	struct cond_value rvals[EVAL_MAX_ITEMS];
	const struct cond_value *values = node->values;
	size_t nvalues = node->nvalues;
	bool result = false;

	fetch(&node->lhs, get, ctx, &lhs);
	mval_init(&rhs);
	if (node->op == COND_OP_EXISTS) {
		result = lhs.set;
		goto out;
	}
	if (!lhs.set)
		goto out;
	if (node->rhs_field) {
		fetch(&node->rhs, get, ctx, &rhs);
		if (!rhs.set)
			goto out;
		for (size_t i = 0; i < rhs.n; i++)
			rvals[i] = (struct cond_value){ (char *)rhs.items[i].s, rhs.items[i].len,
				rhs.items[i].num, rhs.items[i].is_num, NULL };
		values = rvals;
		nvalues = node->op == COND_OP_IN || node->op == COND_OP_INTERSECTS ||
			node->op == COND_OP_PMATCH ? rhs.n : (rhs.n > 0);
	}

	if (node->lhs.def && node->lhs.def->index && node->lhs.def->type == COND_FT_LIST &&
		!node->lhs.nxforms && lhs.n != 1) {
		/* proc.aname and friends without an index walk the ancestors. As in
		 * Falco, the check matches when it matches one of them, for every
		 * operator, so `proc.aname in (nginx)` matches an nginx ancestor. */
		enum cond_op op = node->op == COND_OP_INTERSECTS ? COND_OP_IN : node->op;

		for (size_t i = 0; i < lhs.n && !result; i++)
			result = op == COND_OP_NE ?
				!any_value(COND_OP_EQ, &lhs.items[i], values, nvalues) :
				any_value(op, &lhs.items[i], values, nvalues);
		goto out;
	}
	switch (node->op) {
	case COND_OP_IN:
		/* Every value of the field is in the set. */
		result = lhs.n > 0;
		for (size_t i = 0; i < lhs.n && result; i++)
			result = any_value(node->op, &lhs.items[i], values, nvalues);
		break;
	case COND_OP_NE:
		/* No value of the field equals the right-hand side. */
		result = nvalues > 0;
		for (size_t i = 0; i < lhs.n && result; i++)
			result = !any_value(COND_OP_EQ, &lhs.items[i], values, nvalues);
		break;
	default:
		for (size_t i = 0; i < lhs.n && !result; i++)
			result = any_value(node->op, &lhs.items[i], values, nvalues);
		break;
	}
out:
	mval_free(&lhs);
	mval_free(&rhs);
	return result;
}

bool cond_eval(const struct cond_node *node, cond_getter get, void *ctx)
{
	switch (node->kind) {
	case COND_AND:
		for (size_t i = 0; i < node->nkids; i++) {
			if (!cond_eval(node->kids[i], get, ctx))
				return false;
		}
		return true;
	case COND_OR:
		for (size_t i = 0; i < node->nkids; i++) {
			if (cond_eval(node->kids[i], get, ctx))
				return true;
		}
		return false;
	case COND_NOT:
		return !cond_eval(node->kids[0], get, ctx);
	case COND_CHECK:
		return check(node, get, ctx);
	}
	return false;
}
