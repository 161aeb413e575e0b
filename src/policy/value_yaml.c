/* YAML to values as OPA's yaml.unmarshal reads it: sigs.k8s.io/yaml, which
 * decodes with go-yaml v2 (YAML 1.1 scalars) and converts the result to JSON. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "common/alloc.h"
#include "common/encoding.h"
#include "common/error.h"
#include "policy/value.h"
#include "policy/value_yaml_priv.h"

/* Nesting limit of sequences and mappings. go-yaml v2 allows 10,000 levels,
 * but every other consumer of values recurses, so a lower bound keeps the
 * whole engine within its stack. */
#define YAML_MAX_DEPTH 1000

/* Aliases may share subtrees, but every later walk (printing, comparing)
 * expands them. The expansion they add is bounded in weight units (one per
 * node plus one per string byte): a fixed allowance plus a multiple of the
 * input size, so a billion-laughs document fails early. */
#define YAML_ALIAS_ALLOWANCE 1000000u
#define YAML_ALIAS_FACTOR 10u

/* One open sequence or mapping. */
struct frame {
	struct rv *coll;        /* array or object under construction */
	bool mapping;
	bool have_key;          /* a key is waiting for its value */
	bool merge_key;         /* the waiting key is the merge key `<<` */
	struct rv *key;         /* the waiting key, converted to a string */
	char *anchor;           /* &name of this collection, or NULL */
	uint64_t weight;        /* expanded size so far */
};

struct loader {
	yaml_parser_t parser;
	bool core_schema;       /* YAML 1.2 core: only true/false are booleans */
	struct wd_buf *err;
	struct frame stack[YAML_MAX_DEPTH];
	size_t depth;
	struct rv *anchors;     /* object: name -> [value, weight] */
	uint64_t alias_weight;  /* expansion added by aliases so far */
	uint64_t alias_limit;
	struct rv *root;
	bool done;
	bool key_position;      /* the scalar being read is a mapping key */
};

static int fail(struct loader *loader, int code, const char *fmt, ...) WD_PRINTF(3, 4);

static int fail(struct loader *loader, int code, const char *fmt, ...)
{
	char message[512];
	va_list args;

	if (loader->err && wd_buf_len(loader->err) == 0) {
		va_start(args, fmt);
		vsnprintf(message, sizeof(message), fmt, args);
		va_end(args);
		if (wd_buf_append_str(loader->err, message) < 0)
			return code;
	}
	return code;
}

/* Reports a libyaml error the way go-yaml v2 words it: "yaml: line N: " and
 * libyaml's problem text. The line is the problem's (one-based for scanner
 * errors, whose mark has not moved past the line yet) or else the context's. */
static int fail_syntax(struct loader *loader)
{
	const yaml_parser_t *p = &loader->parser;
	size_t line = 0;

	if (p->error == YAML_MEMORY_ERROR)
		return WD_ENOMEM;
	if (p->problem_mark.line != 0) {
		line = p->problem_mark.line;
		if (p->error == YAML_SCANNER_ERROR)
			line++;
	} else if (p->context_mark.line != 0) {
		line = p->context_mark.line;
	}
	if (line != 0)
		return fail(loader, WD_EINVAL, "yaml: line %zu: %s", line,
			p->problem ? p->problem : "unknown problem parsing YAML content");
	return fail(loader, WD_EINVAL, "yaml: %s",
		p->problem ? p->problem : "unknown problem parsing YAML content");
}

/* ---- scalar resolution (go-yaml v2 resolve.go) ---- */

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++) {
		if (strcmp(s, *list) == 0)
			return true;
	}
	return false;
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 99;
}

/* Go's strconv.ParseUint(s, 0, 64) without underscores: 0x, 0o and 0b
 * prefixes (three characters at least) and a leading 0 for octal. */
static bool parse_go_uint(const char *s, uint64_t *ret)
{
	size_t len = strlen(s);
	unsigned base = 10;
	uint64_t n = 0;

	if (len == 0)
		return false;
	if (s[0] == '0') {
		char p = (char)(len >= 3 ? s[1] | 0x20 : 0);

		if (p == 'x')
			base = 16, s += 2;
		else if (p == 'o')
			base = 8, s += 2;
		else if (p == 'b')
			base = 2, s += 2;
		else
			base = 8, s += 1;
	}
	for (; *s; s++) {
		int d = digit_value(*s);

		if (d >= (int)base)
			return false;
		if (__builtin_mul_overflow(n, base, &n) || __builtin_add_overflow(n, (uint64_t)d, &n))
			return false;
	}
	*ret = n;
	return true;
}

/* Go's strconv.ParseInt(s, 0, 64): an optional sign, then ParseUint. */
static bool parse_go_int(const char *s, int64_t *ret)
{
	bool negative = false;
	uint64_t magnitude;

	if (*s == '+' || *s == '-') {
		negative = *s == '-';
		s++;
	}
	if (!parse_go_uint(s, &magnitude))
		return false;
	if (negative) {
		if (magnitude > (uint64_t)INT64_MAX + 1)
			return false;
		*ret = magnitude == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)magnitude;
	} else {
		if (magnitude > (uint64_t)INT64_MAX)
			return false;
		*ret = (int64_t)magnitude;
	}
	return true;
}

static size_t skip_digits(const char *s, size_t i)
{
	while (s[i] >= '0' && s[i] <= '9')
		i++;
	return i;
}

/* go-yaml's float pattern ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static bool is_yaml_float(const char *s)
{
	size_t i = 0, j;

	if (s[i] == '+' || s[i] == '-')
		i++;
	if (s[i] == '.') {
		j = skip_digits(s, i + 1);
		if (j == i + 1)
			return false;
		i = j;
	} else {
		j = skip_digits(s, i);
		if (j == i)
			return false;
		i = j;
		if (s[i] == '.')
			i = skip_digits(s, i + 1);
	}
	if (s[i] == 'e' || s[i] == 'E') {
		i++;
		if (s[i] == '+' || s[i] == '-')
			i++;
		j = skip_digits(s, i);
		if (j == i)
			return false;
		i = j;
	}
	return s[i] == '\0';
}

/* strtod over a pattern-checked text; false when it overflows, as Go's
 * ParseFloat returns ErrRange there (underflow to zero is accepted). */
static bool parse_float(const char *s, double *ret)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (*end != '\0' || (errno == ERANGE && isinf(d)))
		return false;
	*ret = d;
	return true;
}

static const char *const true_words[] = {
	"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", NULL,
};
static const char *const false_words[] = {
	"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", NULL,
};
static const char *const null_words[] = { "", "~", "null", "Null", "NULL", NULL };
static const char *const nan_words[] = { ".nan", ".NaN", ".NAN", NULL };
static const char *const inf_words[] = {
	".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", NULL,
};
static const char *const neg_inf_words[] = { "-.inf", "-.Inf", "-.INF", NULL };

/* Removes every '_' into a new string, as go-yaml does before ParseInt. */
static char *without_underscores(const char *s)
{
	size_t len = strlen(s);
	char *out = malloc(len + 1);
	size_t n = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '_')
			out[n++] = s[i];
	}
	out[n] = '\0';
	return out;
}

/* Timestamps stay strings: go-yaml v2 recognizes them but hands them to
 * interface{} targets as the text. */
int rv_yaml_resolve_plain(const char *s, struct yaml_scalar_info *ret)
{
	_wd_cleanup_(wd_freep) char *plain = NULL;
	char first = s[0];

	memset(ret, 0, sizeof(*ret));
	ret->kind = YAML_SC_STRING;

	if (in_list(s, true_words) || in_list(s, false_words)) {
		ret->kind = YAML_SC_BOOL;
		ret->boolean = in_list(s, true_words);
		return 0;
	}
	if (in_list(s, null_words)) {
		ret->kind = YAML_SC_NULL;
		return 0;
	}
	if (in_list(s, nan_words) || in_list(s, inf_words) || in_list(s, neg_inf_words)) {
		ret->kind = YAML_SC_FLOAT;
		ret->d = in_list(s, nan_words) ? NAN : in_list(s, inf_words) ? INFINITY : -INFINITY;
		return 0;
	}

	if (first == '.') {
		if (is_yaml_float(s) && parse_float(s, &ret->d))
			ret->kind = YAML_SC_FLOAT;
		return 0;
	}
	if (!(first == '+' || first == '-' || (first >= '0' && first <= '9')))
		return 0;

	plain = without_underscores(s);
	if (!plain)
		return WD_ENOMEM;
	if (parse_go_int(plain, &ret->i)) {
		ret->kind = YAML_SC_INT;
		return 0;
	}
	if (parse_go_uint(plain, &ret->u)) {
		ret->kind = YAML_SC_UINT;
		return 0;
	}
	if (is_yaml_float(plain) && parse_float(plain, &ret->d)) {
		ret->kind = YAML_SC_FLOAT;
		return 0;
	}
	/* "-0b101": ParseInt has no sign before a base prefix of its own. */
	if (strncmp(plain, "-0b", 3) == 0 && plain[3] != '\0') {
		uint64_t magnitude = 0;

		for (const char *p = plain + 3; *p; p++) {
			if ((*p != '0' && *p != '1') || magnitude > ((uint64_t)INT64_MAX + 1) / 2)
				return 0;
			magnitude = magnitude * 2 + (uint64_t)(*p - '0');
		}
		if (magnitude > (uint64_t)INT64_MAX + 1)
			return 0;
		ret->kind = YAML_SC_INT;
		ret->i = magnitude == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)magnitude;
	}
	return 0;
}

/* ---- number text as Go prints it ---- */

/* Finds the shortest digits that read back as d (as float when single):
 * fills digits (no trailing zeros) and the decimal exponent of the first. */
static void shortest_digits(double d, bool single, char *digits, size_t cap, int *ret_exp)
{
	char text[64];
	int max_precision = single ? 9 : 17;

	for (int precision = 1; precision <= max_precision; precision++) {
		double back;

		snprintf(text, sizeof(text), "%.*e", precision - 1, d);
		back = strtod(text, NULL);
		if (single ? (float)back == (float)d : back == d)
			break;
	}

	/* text is "[-]D.DDDe[+-]XX". */
	size_t n = 0;
	const char *p = text[0] == '-' ? text + 1 : text;

	for (; *p && *p != 'e' && n + 1 < cap; p++) {
		if (*p != '.')
			digits[n++] = *p;
	}
	while (n > 1 && digits[n - 1] == '0')
		n--;
	digits[n] = '\0';
	*ret_exp = *p == 'e' ? (int)strtol(p + 1, NULL, 10) : 0;
}

static int append_exponent_form(struct wd_buf *out, bool negative, const char *digits, int exp,
				bool json)
{
	int rc;

	WD_GUARD(wd_buf_appendf(out, "%s%c", negative ? "-" : "", digits[0]));
	if (digits[1])
		WD_GUARD(wd_buf_appendf(out, ".%s", digits + 1));
	/* Go writes at least two exponent digits; encoding/json then trims a
	 * leading zero from negative exponents ("1e-07" becomes "1e-7"). */
	if (json && exp < 0)
		WD_GUARD(wd_buf_appendf(out, "e-%d", -exp));
	else
		WD_GUARD(wd_buf_appendf(out, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp));
out:
	return rc;
}

static int append_fixed_form(struct wd_buf *out, bool negative, const char *digits, int exp)
{
	size_t n = strlen(digits);
	int rc = 0;

	if (negative)
		WD_GUARD(wd_buf_append_byte(out, '-'));
	if (exp < 0) {
		WD_GUARD(wd_buf_append_str(out, "0."));
		for (int i = -1; i > exp; i--)
			WD_GUARD(wd_buf_append_byte(out, '0'));
		WD_GUARD(wd_buf_append_str(out, digits));
		goto out;
	}
	for (size_t i = 0; i <= (size_t)exp; i++)
		WD_GUARD(wd_buf_append_byte(out, i < n ? (uint8_t)digits[i] : '0'));
	if (n > (size_t)exp + 1) {
		WD_GUARD(wd_buf_append_byte(out, '.'));
		WD_GUARD(wd_buf_append_str(out, digits + exp + 1));
	}
out:
	return rc;
}

int rv_yaml_format_float(double d, enum yaml_float_style style, struct wd_buf *out)
{
	char digits[32];
	bool negative = signbit(d) != 0;
	int exp;

	if (isnan(d))
		return wd_buf_append_str(out, style == YAML_FLOAT_JSON ? "NaN" : ".nan");
	if (isinf(d))
		return wd_buf_append_str(out, negative ? "-.inf" : ".inf");
	if (d == 0)
		return wd_buf_append_str(out, negative ? "-0" : "0");

	shortest_digits(d, style == YAML_FLOAT_G32, digits, sizeof(digits), &exp);
	if (style == YAML_FLOAT_JSON) {
		double magnitude = fabs(d);

		/* encoding/json: exponent form below 1e-6 and from 1e21 on. */
		if (magnitude < 1e-6 || magnitude >= 1e21)
			return append_exponent_form(out, negative, digits, exp, true);
		return append_fixed_form(out, negative, digits, exp);
	}
	/* strconv.FormatFloat(d, 'g', -1, ...): shortest digits decide with a
	 * precision of 6 whether the exponent form is used. */
	if (exp < -4 || exp >= 6)
		return append_exponent_form(out, negative, digits, exp, false);
	return append_fixed_form(out, negative, digits, exp);
}

/* ---- building values ---- */

static struct rv *number_from_text(const struct wd_buf *text)
{
	return rv_number_parse(wd_buf_str(text), wd_buf_len(text));
}

/* Converts a resolved scalar in a mapping key's place to the string that
 * sigs.k8s.io/yaml makes of it: integers in decimal, floats as float32
 * "%g", booleans as "true" or "false"; a null key is rejected. */
static int scalar_key(struct loader *loader, const struct yaml_scalar_info *sc, const char *text,
		      size_t len, struct rv **ret)
{
	struct wd_buf key;
	int rc = 0;

	*ret = NULL;
	wd_buf_init(&key, 32, 64);
	switch (sc->kind) {
	case YAML_SC_NULL:
		rc = fail(loader, WD_EINVAL, "yaml: unsupported map key: null");
		goto out;
	case YAML_SC_BOOL:
		*ret = rv_cstring(sc->boolean ? "true" : "false");
		break;
	case YAML_SC_INT:
		WD_GUARD(wd_buf_appendf(&key, "%lld", (long long)sc->i));
		break;
	case YAML_SC_UINT:
		WD_GUARD(wd_buf_appendf(&key, "%llu", (unsigned long long)sc->u));
		break;
	case YAML_SC_FLOAT:
		WD_GUARD(rv_yaml_format_float(sc->d, YAML_FLOAT_G32, &key));
		break;
	case YAML_SC_STRING:
		*ret = rv_string(text, len);
		break;
	}
	if (!*ret && wd_buf_len(&key) > 0)
		*ret = rv_string(wd_buf_str(&key), wd_buf_len(&key));
	if (!*ret)
		rc = WD_ENOMEM;
out:
	wd_buf_free(&key);
	return rc;
}

/* Converts a resolved scalar to the value sigs.k8s.io/yaml's JSON gives, or
 * to its key string when it sits in a mapping key's place. */
static int scalar_value(struct loader *loader, const struct yaml_scalar_info *sc, const char *text,
			size_t len, struct rv **ret)
{
	struct wd_buf num;
	int rc = 0;

	if (loader->key_position)
		return scalar_key(loader, sc, text, len, ret);
	*ret = NULL;
	wd_buf_init(&num, 32, 64);
	switch (sc->kind) {
	case YAML_SC_NULL:
		*ret = rv_null();
		break;
	case YAML_SC_BOOL:
		*ret = rv_bool(sc->boolean);
		break;
	case YAML_SC_INT:
		*ret = rv_int(sc->i);
		break;
	case YAML_SC_UINT:
		WD_GUARD(wd_buf_appendf(&num, "%llu", (unsigned long long)sc->u));
		*ret = number_from_text(&num);
		break;
	case YAML_SC_FLOAT:
		if (isnan(sc->d) || isinf(sc->d)) {
			rc = fail(loader, WD_EINVAL, "json: unsupported value: %s",
				isnan(sc->d) ? "NaN" : sc->d > 0 ? "+Inf" : "-Inf");
			goto out;
		}
		WD_GUARD(rv_yaml_format_float(sc->d, YAML_FLOAT_JSON, &num));
		*ret = number_from_text(&num);
		break;
	case YAML_SC_STRING:
		*ret = rv_string(text, len);
		break;
	}
	if (!*ret)
		rc = WD_ENOMEM;
out:
	wd_buf_free(&num);
	return rc;
}

/* Short form of a tag as go-yaml prints it: "tag:yaml.org,2002:int" is
 * "!!int". */
static const char *short_tag(const char *tag)
{
	static const char prefix[] = "tag:yaml.org,2002:";

	if (strncmp(tag, prefix, sizeof(prefix) - 1) == 0)
		return tag + sizeof(prefix) - 1;
	return NULL;
}

static const char *kind_tag(const struct yaml_scalar_info *sc)
{
	switch (sc->kind) {
	case YAML_SC_NULL:
		return "!!null";
	case YAML_SC_BOOL:
		return "!!bool";
	case YAML_SC_INT:
	case YAML_SC_UINT:
		return "!!int";
	case YAML_SC_FLOAT:
		return "!!float";
	case YAML_SC_STRING:
		break;
	}
	return "!!str";
}

/* Decodes a !!binary scalar: base64 with line breaks and spaces ignored. */
static int binary_value(struct loader *loader, const char *text, size_t len, struct rv **ret)
{
	_wd_cleanup_(wd_freep) char *compact = malloc(len + 1);
	uint8_t *data = NULL;
	size_t n = 0, data_len;

	*ret = NULL;
	if (!compact)
		return WD_ENOMEM;
	for (size_t i = 0; i < len; i++) {
		if (text[i] != '\n' && text[i] != '\r' && text[i] != ' ')
			compact[n++] = text[i];
	}
	if (wd_base64_decode(compact, n, &data, &data_len) < 0)
		return fail(loader, WD_EINVAL, "yaml: !!binary value contains invalid base64 data");
	*ret = rv_string_take((char *)data, data_len);
	return *ret ? 0 : WD_ENOMEM;
}

/* Resolves a scalar event: quoted scalars are strings unless tagged, plain
 * ones go through the YAML 1.1 rules, and the core tags check the result. */
static int scalar_event_value(struct loader *loader, const yaml_event_t *event, struct rv **ret,
			      bool *ret_merge)
{
	const char *text = (const char *)event->data.scalar.value;
	size_t len = event->data.scalar.length;
	const char *tag = (const char *)event->data.scalar.tag;
	const char *name = tag ? short_tag(tag) : NULL;
	struct yaml_scalar_info sc = { .kind = YAML_SC_STRING };
	int rc;

	*ret = NULL;
	*ret_merge = false;

	/* The merge key is a plain `<<`, or one tagged !!merge. */
	if (len == 2 && memcmp(text, "<<", 2) == 0 &&
	    ((event->data.scalar.plain_implicit && !tag) || (name && !strcmp(name, "merge")))) {
		*ret_merge = true;
		return 0;
	}
	if (tag && !name)
		return scalar_value(loader, &sc, text, len, ret);   /* local tags: the text */
	if (!tag && !event->data.scalar.plain_implicit)
		return scalar_value(loader, &sc, text, len, ret);   /* quoted */
	if (name && !strcmp(name, "binary"))
		return binary_value(loader, text, len, ret);
	if (name && (!strcmp(name, "str") || !strcmp(name, "timestamp")))
		return scalar_value(loader, &sc, text, len, ret);

	/* A NUL inside the text cannot resolve to anything but a string. */
	if (strlen(text) == len) {
		rc = rv_yaml_resolve_plain(text, &sc);
		if (rc < 0)
			return rc;
		/* YAML 1.2's core schema reads y, n, yes, no, on and off as
		 * strings; only the spellings of true and false are booleans. */
		if (loader->core_schema && sc.kind == YAML_SC_BOOL && strcasecmp(text, "true") != 0 &&
		    strcasecmp(text, "false") != 0)
			sc.kind = YAML_SC_STRING;
	}
	if (name && strcmp(name, "null") && strcmp(name, "bool") && strcmp(name, "int") &&
	    strcmp(name, "float"))
		return scalar_value(loader, &(struct yaml_scalar_info){ .kind = YAML_SC_STRING }, text,
			len, ret);
	if (name) {
		char want[16];

		snprintf(want, sizeof(want), "!!%s", name);
		if (!strcmp(want, "!!float") && sc.kind == YAML_SC_INT) {
			sc.kind = YAML_SC_FLOAT;
			sc.d = (double)sc.i;
		} else if (strcmp(want, kind_tag(&sc)) != 0) {
			return fail(loader, WD_EINVAL, "yaml: cannot decode %s `%.64s` as a %s",
				kind_tag(&sc), text, want);
		}
	}
	return scalar_value(loader, &sc, text, len, ret);
}

/* Converts a mapping key to the object key sigs.k8s.io/yaml writes:
 * strings as they are, integers in decimal, floats as float32 "%g",
 * booleans as "true"/"false"; anything else is rejected. */
static int key_string(struct loader *loader, struct rv *key, struct rv **ret)
{
	struct wd_buf text;
	int64_t i;
	int rc = 0;

	*ret = NULL;
	wd_buf_init(&text, 32, 64);
	switch (rv_kind_of(key)) {
	case RV_STRING:
		*ret = rv_ref(key);
		break;
	case RV_BOOL:
		*ret = rv_cstring(rv_is_true(key) ? "true" : "false");
		break;
	case RV_NUMBER:
		if (rv_number_to_i64(key, &i))
			WD_GUARD(wd_buf_appendf(&text, "%lld", (long long)i));
		else if (rv_number_is_int(key))
			WD_GUARD(rv_number_format(key, &text));
		else
			WD_GUARD(rv_yaml_format_float(rv_number_to_double(key), YAML_FLOAT_G32, &text));
		*ret = rv_string(wd_buf_str(&text), wd_buf_len(&text));
		break;
	case RV_NULL:
		rc = fail(loader, WD_EINVAL, "yaml: unsupported map key: null");
		goto out;
	default:
		rc = fail(loader, WD_EINVAL, "yaml: invalid map key: a %s", rv_type_name(key));
		goto out;
	}
	if (!*ret)
		rc = WD_ENOMEM;
out:
	wd_buf_free(&text);
	return rc;
}

/* Applies `<<: value`: every entry of a mapping, or of each mapping of a
 * sequence from last to first, is put into obj (go-yaml v2 merge order:
 * entries written after the merge key still replace them). */
static int merge_into(struct loader *loader, struct rv *obj, struct rv *value)
{
	size_t n;

	if (rv_is(value, RV_OBJECT)) {
		for (size_t i = 0; i < rv_len(value); i++) {
			struct rv *k, *v;

			rv_map_at(value, i, &k, &v);
			WD_TRY(rv_object_put(obj, rv_ref(k), rv_ref(v)));
		}
		return 0;
	}
	if (!rv_is(value, RV_ARRAY))
		goto bad;
	n = rv_array_len(value);
	for (size_t i = 0; i < n; i++) {
		if (!rv_is(rv_array_at(value, i), RV_OBJECT))
			goto bad;
	}
	for (size_t i = n; i-- > 0;)
		WD_TRY(merge_into(loader, obj, rv_array_at(value, i)));
	return 0;
bad:
	return fail(loader, WD_EINVAL, "yaml: map merge requires map or sequence of maps as the value");
}

static int remember_anchor(struct loader *loader, const char *anchor, struct rv *value,
			   uint64_t weight)
{
	struct rv *entry = rv_array_new(2);
	int rc;

	if (!entry)
		return WD_ENOMEM;
	rc = rv_array_push(entry, rv_ref(value));
	if (rc == 0)
		rc = rv_array_push(entry, rv_int((int64_t)(weight > INT64_MAX ? INT64_MAX : weight)));
	if (rc < 0) {
		rv_unref(entry);
		return rc;
	}
	return rv_object_put(loader->anchors, rv_cstring(anchor), entry);
}

/* Hands a finished node (value, its expanded weight) to the open collection,
 * or makes it the document's root. Takes the reference to value. */
static int deliver(struct loader *loader, struct rv *value, uint64_t weight, bool merge_key)
{
	struct frame *top;
	int rc = 0;

	if (loader->depth == 0) {
		loader->root = value;
		return 0;
	}
	top = &loader->stack[loader->depth - 1];
	top->weight = top->weight + weight;

	if (!top->mapping)
		return rv_array_push(top->coll, value);

	if (!top->have_key) {
		top->have_key = true;
		top->merge_key = merge_key;
		if (!merge_key)
			rc = key_string(loader, value, &top->key);
		rv_unref(value);
		return rc;
	}
	top->have_key = false;
	if (top->merge_key) {
		rc = merge_into(loader, top->coll, value);
		rv_unref(value);
		return rc;
	}
	return rv_object_put(top->coll, WD_TAKE_PTR(top->key), value);
}

static const char *event_anchor(const yaml_event_t *event)
{
	switch (event->type) {
	case YAML_SCALAR_EVENT:
		return (const char *)event->data.scalar.anchor;
	case YAML_SEQUENCE_START_EVENT:
		return (const char *)event->data.sequence_start.anchor;
	case YAML_MAPPING_START_EVENT:
		return (const char *)event->data.mapping_start.anchor;
	default:
		return NULL;
	}
}

static int on_scalar(struct loader *loader, const yaml_event_t *event)
{
	const char *anchor = event_anchor(event);
	struct rv *value = NULL;
	uint64_t weight = 1 + event->data.scalar.length;
	bool merge;

	loader->key_position = loader->depth > 0 && loader->stack[loader->depth - 1].mapping &&
			  !loader->stack[loader->depth - 1].have_key;
	WD_TRY(scalar_event_value(loader, event, &value, &merge));
	if (merge) {
		value = rv_null();
		if (loader->depth == 0 || !loader->stack[loader->depth - 1].mapping ||
		    loader->stack[loader->depth - 1].have_key) {
			/* `<<` outside a key position is the string "<<". */
			rv_unref(value);
			value = rv_cstring("<<");
			if (!value)
				return WD_ENOMEM;
			merge = false;
		}
	}
	if (anchor && !merge) {
		int rc = remember_anchor(loader, anchor, value, weight);

		if (rc < 0) {
			rv_unref(value);
			return rc;
		}
	}
	return deliver(loader, value, weight, merge);
}

static int on_alias(struct loader *loader, const yaml_event_t *event)
{
	const char *name = (const char *)event->data.alias.anchor;
	struct rv *entry = rv_object_get_str(loader->anchors, name);
	int64_t weight;

	if (!entry) {
		for (size_t i = 0; i < loader->depth; i++) {
			if (loader->stack[i].anchor && !strcmp(loader->stack[i].anchor, name))
				return fail(loader, WD_EINVAL, "yaml: anchor '%s' value contains itself",
					name);
		}
		return fail(loader, WD_EINVAL, "yaml: unknown anchor '%s' referenced", name);
	}
	if (!rv_number_to_i64(rv_array_at(entry, 1), &weight))
		weight = INT64_MAX;
	if (__builtin_add_overflow(loader->alias_weight, (uint64_t)weight, &loader->alias_weight) ||
	    loader->alias_weight > loader->alias_limit)
		return fail(loader, WD_ETOOBIG, "yaml: document contains excessive aliasing");
	return deliver(loader, rv_ref(rv_array_at(entry, 0)), (uint64_t)weight, false);
}

static int on_start(struct loader *loader, const yaml_event_t *event, bool mapping)
{
	const char *anchor = event_anchor(event);
	struct frame *f;

	if (loader->depth >= YAML_MAX_DEPTH)
		return fail(loader, WD_ETOOBIG, "yaml: exceeded max depth of %d", YAML_MAX_DEPTH);
	f = &loader->stack[loader->depth];
	memset(f, 0, sizeof(*f));
	f->mapping = mapping;
	f->weight = 1;
	f->coll = mapping ? rv_object_new(0) : rv_array_new(0);
	if (!f->coll)
		return WD_ENOMEM;
	loader->depth++;
	if (anchor) {
		f->anchor = wd_strdup(anchor);
		if (!f->anchor)
			return WD_ENOMEM;
	}
	return 0;
}

static int on_end(struct loader *loader)
{
	struct frame f = loader->stack[--loader->depth];
	int rc = 0;

	if (f.anchor)
		rc = remember_anchor(loader, f.anchor, f.coll, f.weight);
	free(f.anchor);
	rv_unref(f.key);
	if (rc < 0) {
		rv_unref(f.coll);
		return rc;
	}
	return deliver(loader, f.coll, f.weight, false);
}

static int on_event(struct loader *loader, const yaml_event_t *event)
{
	switch (event->type) {
	case YAML_SCALAR_EVENT:
		return on_scalar(loader, event);
	case YAML_ALIAS_EVENT:
		return on_alias(loader, event);
	case YAML_SEQUENCE_START_EVENT:
		return on_start(loader, event, false);
	case YAML_MAPPING_START_EVENT:
		return on_start(loader, event, true);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return on_end(loader);
	case YAML_DOCUMENT_END_EVENT:
	case YAML_STREAM_END_EVENT:
		/* go-yaml reads the first document only. */
		loader->done = true;
		return 0;
	default:
		return 0;
	}
}

static struct rv *parse_yaml(const char *text, size_t len, bool core_schema, struct wd_buf *err)
{
	struct loader *loader = calloc(1, sizeof(*loader));
	struct rv *result = NULL;
	int rc = 0;

	if (!loader)
		return NULL;
	loader->core_schema = core_schema;
	loader->err = err;
	loader->anchors = rv_object_new(0);
	loader->alias_limit = YAML_ALIAS_ALLOWANCE;
	if (len <= (UINT64_MAX - YAML_ALIAS_ALLOWANCE) / YAML_ALIAS_FACTOR)
		loader->alias_limit += (uint64_t)len * YAML_ALIAS_FACTOR;
	if (!loader->anchors || !yaml_parser_initialize(&loader->parser)) {
		rc = WD_ENOMEM;
		goto out;
	}
	yaml_parser_set_input_string(&loader->parser, (const unsigned char *)text, len);

	while (!loader->done) {
		yaml_event_t event;

		if (!yaml_parser_parse(&loader->parser, &event)) {
			rc = fail_syntax(loader);
			goto out;
		}
		rc = on_event(loader, &event);
		yaml_event_delete(&event);
		if (rc < 0)
			goto out;
	}

	/* An empty document is null, as go-yaml gives nil for it. */
	result = loader->root ? WD_TAKE_PTR(loader->root) : rv_null();
out:
	if (rc == WD_ENOMEM)
		fail(loader, rc, "yaml: out of memory");
	while (loader->depth > 0) {
		struct frame *f = &loader->stack[--loader->depth];

		rv_unref(f->coll);
		rv_unref(f->key);
		free(f->anchor);
	}
	rv_unref(loader->root);
	rv_unref(loader->anchors);
	yaml_parser_delete(&loader->parser);
	free(loader);
	return result;
}

struct rv *rv_parse_yaml(const char *text, size_t len, struct wd_buf *err)
{
	return parse_yaml(text, len, false, err);
}

struct rv *rv_parse_yaml_core(const char *text, size_t len, struct wd_buf *err)
{
	return parse_yaml(text, len, true, err);
}
