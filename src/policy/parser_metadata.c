/* METADATA blocks, first step: finds `# METADATA` comment blocks, reads
 * their YAML into annotation objects shaped as OPA's rego.metadata builtins
 * return them, and reports OPA's errors for bad YAML and bad fields. */
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "policy/parser_metadata.h"

/* Text of one METADATA block; its YAML never exceeds the module's size. */
#define META_TEXT_MAX REGO_MAX_MODULE_BYTES

struct block_src {
	struct parser *p;
	const struct rego_comment *head;   /* the `# METADATA` comment */
	const struct rego_comment *lines;  /* the comments after it */
	size_t nlines;
	struct wd_buf text;                /* the YAML document */
};

static const char *comment_text(const struct parser *p, const struct rego_comment *c)
{
	return p->src + c->offset;
}

static struct rego_loc comment_loc(const struct parser *p, const struct rego_comment *c)
{
	struct rego_loc loc = {
		.file = p->file,
		.row = c->row,
		.col = c->col,
		.offset = c->offset > 0 ? c->offset - 1 : 0,
		.len = c->len + 1,
	};

	return loc;
}

/* OPA starts a block at a comment in column 1 whose trimmed text begins
 * with METADATA (ast.IsMetadataComment). */
static bool is_metadata_comment(const struct parser *p, const struct rego_comment *c)
{
	const char *s = comment_text(p, c);
	size_t len = c->len;

	if (c->col != 1)
		return false;
	while (len > 0 && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\v' || *s == '\f')) {
		s++;
		len--;
	}
	return len >= 8 && memcmp(s, "METADATA", 8) == 0;
}

/* ---- error wording ---- */

/* Appends a rune as Go's %+q prints it: 'a', '\t', '\u00e9'. */
static int append_go_rune(struct wd_buf *out, uint32_t r)
{
	if (r == '\'' || r == '\\')
		return wd_buf_appendf(out, "'\\%c'", (char)r);
	if (r >= 0x20 && r < 0x7f)
		return wd_buf_appendf(out, "'%c'", (char)r);
	switch (r) {
	case '\a': return wd_buf_append_str(out, "'\\a'");
	case '\b': return wd_buf_append_str(out, "'\\b'");
	case '\f': return wd_buf_append_str(out, "'\\f'");
	case '\n': return wd_buf_append_str(out, "'\\n'");
	case '\r': return wd_buf_append_str(out, "'\\r'");
	case '\v': return wd_buf_append_str(out, "'\\v'");
	default: break;
	}
	if (r < 0x20 || r == 0x7f)
		return wd_buf_appendf(out, "'\\x%02x'", r);
	if (r <= 0xffff)
		return wd_buf_appendf(out, "'\\u%04x'", r);
	return wd_buf_appendf(out, "'\\U%08x'", r);
}

/* Decodes the first UTF-8 rune of s; U+FFFD for an empty or bad one. */
static uint32_t first_rune(const unsigned char *s, size_t len)
{
	uint32_t r;
	size_t n;

	if (len == 0)
		return 0xfffd;
	if (s[0] < 0x80)
		return s[0];
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		r = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		r = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		r = s[0] & 0x07;
	} else {
		return 0xfffd;
	}
	if (len < n)
		return 0xfffd;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0xfffd;
		r = (r << 6) | (s[i] & 0x3f);
	}
	return r;
}

/* OPA adds a hint to a YAML error for each line where a ':' is followed by
 * something other than a blank ("title:x"). */
static int append_colon_hints(const struct block_src *b, struct wd_buf *msg)
{
	for (size_t i = 0; i < b->nlines; i++) {
		const struct rego_comment *c = &b->lines[i];
		const char *s = comment_text(b->p, c);
		const char *end = s + c->len;
		const char *part = memchr(s, ':', c->len);
		size_t bad = 0;
		struct wd_buf list;
		int rc = 0;

		if (!part)
			continue;
		wd_buf_init(&list, 32, 4096);
		while (part && rc == 0) {
			const char *start = part + 1;
			const char *next = memchr(start, ':', (size_t)(end - start));
			size_t plen = (size_t)((next ? next : end) - start);
			uint32_t r;

			if (plen == 0 && !next)
				break;
			r = first_rune((const unsigned char *)start, plen);
			if (r == ' ' || r == '\t')
				break;
			if (bad++ > 0)
				rc = wd_buf_append_byte(&list, ' ');
			if (rc == 0)
				rc = append_go_rune(&list, r);
			part = next;
		}
		if (rc == 0 && bad > 0)
			rc = wd_buf_appendf(msg,
					    "\n  Hint: on line %u, symbol(s) [%s] immediately following a"
					    " key/value separator ':' is not a legal yaml space character",
					    c->row, wd_buf_str(&list));
		wd_buf_free(&list);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The location OPA gives a YAML error "yaml: line N: ...": the comment at
 * index N after the METADATA line (OPA uses the 1-based line as a 0-based
 * index), the last one past the end, the first one without a line. */
static struct rego_loc yaml_error_loc(const struct block_src *b, const char *msg)
{
	const char *s = msg;
	unsigned long line = 0;
	bool have_line = false;

	if (strncmp(s, "yaml:", 5) == 0) {
		s += 5;
		if (strncmp(s, " unmarshal errors:", 18) == 0) {
			s += 18;
			while (*s == '\n' || *s == ' ' || *s == '\t' || *s == '\r')
				s++;
		} else if (*s == ' ') {
			s++;
		}
		if (strncmp(s, "line ", 5) == 0 && s[5] >= '0' && s[5] <= '9') {
			s += 5;
			while (*s >= '0' && *s <= '9' && line < 100000000ul)
				line = line * 10 + (unsigned long)(*s++ - '0');
			have_line = *s == ':';
		}
	}
	if (b->nlines == 0)
		return comment_loc(b->p, b->head);
	if (have_line)
		return comment_loc(b->p, &b->lines[line >= b->nlines ? b->nlines - 1 : line]);
	return comment_loc(b->p, &b->lines[0]);
}

static void report_yaml_error(struct block_src *b, const char *text)
{
	struct wd_buf msg;

	wd_buf_init(&msg, 128, 64 * 1024);
	if (wd_buf_append_str(&msg, text) < 0 || append_colon_hints(b, &msg) < 0) {
		b->p->oom = true;
	} else {
		rp_error(b->p, yaml_error_loc(b, text), "%s", wd_buf_str(&msg));
	}
	wd_buf_free(&msg);
}

/* Appends v as Go's %s prints the decoded YAML value in OPA's messages:
 * strings bare, maps as map[k:v], other scalars as %!s(type=value). */
static int append_go_value(struct wd_buf *out, const struct rv *v)
{
	switch (rv_kind_of(v)) {
	case RV_STRING:
		return wd_buf_append(out, rv_str(v), rv_str_len(v));
	case RV_NULL:
		return wd_buf_append_str(out, "%!s(<nil>)");
	case RV_BOOL:
		return wd_buf_appendf(out, "%%!s(bool=%s)", rv_is_true(v) ? "true" : "false");
	case RV_NUMBER:
		WD_TRY(wd_buf_append_str(out, rv_number_is_int(v) ? "%!s(int=" : "%!s(float64="));
		WD_TRY(rv_number_format(v, out));
		return wd_buf_append_byte(out, ')');
	case RV_ARRAY:
		WD_TRY(wd_buf_append_byte(out, '['));
		for (size_t i = 0; i < rv_array_len(v); i++) {
			if (i > 0)
				WD_TRY(wd_buf_append_byte(out, ' '));
			WD_TRY(append_go_value(out, rv_array_at(v, i)));
		}
		return wd_buf_append_byte(out, ']');
	default:
		WD_TRY(wd_buf_append_str(out, "map["));
		for (size_t i = 0; i < rv_len(v); i++) {
			struct rv *k, *val;

			rv_map_sorted_at(v, i, &k, &val);
			if (i > 0)
				WD_TRY(wd_buf_append_byte(out, ' '));
			WD_TRY(append_go_value(out, k));
			WD_TRY(wd_buf_append_byte(out, ':'));
			if (val)
				WD_TRY(append_go_value(out, val));
		}
		return wd_buf_append_byte(out, ']');
	}
}

/* ---- typed fields, as yaml.v3 decodes them into OPA's struct ---- */

struct fields_ctx {
	struct block_src *b;
	struct wd_buf terrs;          /* "line N: cannot unmarshal ..." lines */
	size_t nterrs;
	int rc;                       /* WD_ENOMEM once memory ran out */
};

/* The 1-based YAML line of a top-level key's value: the key's line when the
 * value starts there, else the next one. */
static unsigned key_value_line(const struct block_src *b, const char *key)
{
	const char *s = wd_buf_str(&b->text);
	const char *end = s + wd_buf_len(&b->text);
	size_t klen = strlen(key);
	unsigned line = 1;

	while (s < end) {
		const char *eol = memchr(s, '\n', (size_t)(end - s));

		if (!eol)
			eol = end;
		if ((size_t)(eol - s) > klen && memcmp(s, key, klen) == 0 && s[klen] == ':') {
			const char *v = s + klen + 1;

			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			return v < eol && *v != '#' ? line : line + 1;
		}
		s = eol + 1;
		line++;
	}
	return 1;
}

static const char *yaml_tag(const struct rv *v)
{
	switch (rv_kind_of(v)) {
	case RV_NULL: return "!!null";
	case RV_BOOL: return "!!bool";
	case RV_NUMBER: return v->num_repr == RV_NUM_DECIMAL ? "!!float" : "!!int";
	case RV_STRING: return "!!str";
	case RV_ARRAY: return "!!seq";
	default: return "!!map";
	}
}

/* Appends a scalar's text as YAML wrote it; false for collections. */
static int scalar_text(const struct rv *v, struct wd_buf *out)
{
	switch (rv_kind_of(v)) {
	case RV_NULL:
		return 0;
	case RV_BOOL:
		return wd_buf_append_str(out, rv_is_true(v) ? "true" : "false");
	case RV_NUMBER:
		return rv_number_format(v, out);
	case RV_STRING:
		return wd_buf_append(out, rv_str(v), rv_str_len(v));
	default:
		return WD_EINVAL;
	}
}

/* Records yaml.v3's "cannot unmarshal" error, which shows a scalar's text
 * (cut to 7 bytes and "..." past 10). */
static void type_error(struct fields_ctx *fc, unsigned line, const struct rv *v, const char *type)
{
	struct wd_buf text;
	int rc;

	if (fc->rc < 0)
		return;
	wd_buf_init(&text, 32, 4096);
	rc = wd_buf_appendf(&fc->terrs, "%sline %u: cannot unmarshal %s", fc->nterrs ? "\n  " : "",
			    line, yaml_tag(v));
	if (rc == 0 && !rv_is(v, RV_ARRAY) && !rv_is(v, RV_OBJECT)) {
		rc = scalar_text(v, &text);
		if (rc == 0 && wd_buf_len(&text) > 10)
			rc = wd_buf_appendf(&fc->terrs, " `%.7s...`", wd_buf_str(&text));
		else if (rc == 0)
			rc = wd_buf_appendf(&fc->terrs, " `%s`", wd_buf_str(&text));
	}
	if (rc == 0)
		rc = wd_buf_appendf(&fc->terrs, " into %s", type);
	wd_buf_free(&text);
	if (rc < 0)
		fc->rc = rc;
	fc->nterrs++;
}

/* A string field: scalars give their text, null gives "". */
static struct rv *string_field(struct fields_ctx *fc, const struct rv *doc, const char *key)
{
	struct rv *v = rv_object_get_str(doc, key);
	struct wd_buf text;
	struct rv *s = NULL;

	if (!v || rv_is(v, RV_NULL))
		return NULL;
	if (rv_is(v, RV_STRING))
		return rv_ref(v);
	if (rv_is(v, RV_ARRAY) || rv_is(v, RV_OBJECT)) {
		type_error(fc, key_value_line(fc->b, key), v, "string");
		return NULL;
	}
	wd_buf_init(&text, 16, 4096);
	if (scalar_text(v, &text) == 0)
		s = rv_string(wd_buf_str(&text), wd_buf_len(&text));
	if (!s)
		fc->rc = WD_ENOMEM;
	wd_buf_free(&text);
	return s;
}

/* A list field; NULL for an absent or null one or a type error. */
static struct rv *list_field(struct fields_ctx *fc, const struct rv *doc, const char *key,
			     const char *type)
{
	struct rv *v = rv_object_get_str(doc, key);

	if (!v || rv_is(v, RV_NULL))
		return NULL;
	if (!rv_is(v, RV_ARRAY)) {
		type_error(fc, key_value_line(fc->b, key), v, type);
		return NULL;
	}
	return v;
}

/* NOTE: yaml.v3 reports the line of each bad list item. This guesses it:
 * the key's value line, plus one line per item for a block list. */
static unsigned item_line(const struct fields_ctx *fc, const char *key, size_t i)
{
	unsigned line = key_value_line(fc->b, key);
	const char *s = wd_buf_str(&fc->b->text);
	const char *end = s + wd_buf_len(&fc->b->text);

	for (unsigned l = 1; l < line && s < end; l++) {
		s = memchr(s, '\n', (size_t)(end - s));
		s = s ? s + 1 : end;
	}
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	return s < end && *s == '-' ? line + (unsigned)i : line;
}

static int put(struct rv *obj, const char *key, struct rv *value)
{
	struct rv *k = rv_cstring(key);

	if (!k) {
		rv_unref(value);
		return WD_ENOMEM;
	}
	return rv_object_put(obj, k, value);
}

static struct rv *organizations(struct fields_ctx *fc, const struct rv *list)
{
	struct rv *out = rv_array_new(rv_array_len(list));
	struct wd_buf text;

	if (!out) {
		fc->rc = WD_ENOMEM;
		return NULL;
	}
	wd_buf_init(&text, 16, META_TEXT_MAX);
	for (size_t i = 0; i < rv_array_len(list) && fc->rc == 0; i++) {
		struct rv *item = rv_array_at(list, i);

		wd_buf_reset(&text);
		if (scalar_text(item, &text) < 0) {
			type_error(fc, item_line(fc, "organizations", i), item, "string");
			continue;
		}
		if (rv_array_push(out, rv_string(wd_buf_str(&text), wd_buf_len(&text))) < 0)
			fc->rc = WD_ENOMEM;
	}
	wd_buf_free(&text);
	return out;
}

/* ---- fields checked after decoding, with OPA's messages ---- */

/* A string entry of a YAML map, trimmed of blanks; "" when absent or not a
 * string (OPA's getSafeString). */
static struct rv *safe_trimmed(const struct rv *map, const char *key)
{
	struct rv *v = rv_object_get_str(map, key);
	const char *s = "";
	size_t len = 0;

	if (rv_is(v, RV_STRING)) {
		s = rv_str(v);
		len = rv_str_len(v);
	}
	while (len > 0 && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\v' ||
			   *s == '\f')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' ||
			   s[len - 1] == '\r' || s[len - 1] == '\v' || s[len - 1] == '\f'))
		len--;
	return rv_string(s, len);
}

/* One related_resources entry: a URL string or {ref, description}.
 * NOTE: OPA also parses the URL (net/url) and prints it back normalized;
 * the text is kept as written here. */
static struct rv *related_resource(const struct rv *item, const char **ret_err)
{
	struct rv *out;
	struct rv *ref = NULL;
	struct rv *desc = NULL;

	*ret_err = NULL;
	if (rv_is(item, RV_STRING)) {
		if (rv_str_len(item) == 0) {
			*ret_err = "ref URL may not be empty string";
			return NULL;
		}
		ref = rv_ref((struct rv *)item);
	} else if (rv_is(item, RV_OBJECT)) {
		ref = safe_trimmed(item, "ref");
		desc = safe_trimmed(item, "description");
		if (ref && desc && rv_str_len(ref) == 0) {
			rv_unref(ref);
			rv_unref(desc);
			*ret_err = "'ref' value required in object";
			return NULL;
		}
	} else {
		*ret_err = "invalid value type, must be string or map";
		return NULL;
	}
	out = rv_object_new(2);
	if (!out || !ref || put(out, "ref", ref) < 0) {
		rv_unref(desc);
		rv_unref(out);
		return NULL;
	}
	if (desc && rv_str_len(desc) == 0) {
		rv_unref(desc);
		desc = NULL;
	}
	if (desc && put(out, "description", desc) < 0) {
		rv_unref(out);
		return NULL;
	}
	return out;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* "Name Words <email>": the last word in angle brackets is the email. */
static struct rv *author_from_string(const char *s, size_t len, const char **ret_err)
{
	size_t words = 0;
	size_t last_start = 0;
	size_t last_end = 0;
	size_t name_end;
	struct wd_buf name;
	struct rv *out = NULL;
	int rc = 0;

	*ret_err = NULL;
	for (size_t i = 0; i < len;) {
		while (i < len && is_space(s[i]))
			i++;
		if (i == len)
			break;
		last_start = i;
		while (i < len && !is_space(s[i]))
			i++;
		last_end = i;
		words++;
	}
	if (words == 0) {
		*ret_err = "author is an empty string";
		return NULL;
	}
	name_end = len;
	out = rv_object_new(2);
	if (!out)
		return NULL;
	if (last_end - last_start >= 2 && s[last_start] == '<' && s[last_end - 1] == '>') {
		if (last_end - last_start > 2)
			rc = put(out, "email", rv_string(s + last_start + 1, last_end - last_start - 2));
		name_end = last_start;
	}

	/* The name is the remaining words joined by single spaces. */
	wd_buf_init(&name, 32, META_TEXT_MAX);
	for (size_t i = 0; i < name_end && rc == 0;) {
		size_t start;

		while (i < name_end && is_space(s[i]))
			i++;
		if (i == name_end)
			break;
		start = i;
		while (i < name_end && !is_space(s[i]))
			i++;
		if (wd_buf_len(&name) > 0)
			rc = wd_buf_append_byte(&name, ' ');
		if (rc == 0)
			rc = wd_buf_append(&name, s + start, i - start);
	}
	if (rc == 0 && wd_buf_len(&name) > 0)
		rc = put(out, "name", rv_string(wd_buf_str(&name), wd_buf_len(&name)));
	wd_buf_free(&name);
	if (rc < 0) {
		rv_unref(out);
		return NULL;
	}
	return out;
}

static struct rv *author(const struct rv *item, const char **ret_err)
{
	struct rv *name, *email, *out;

	*ret_err = NULL;
	if (rv_is(item, RV_STRING))
		return author_from_string(rv_str(item), rv_str_len(item), ret_err);
	if (!rv_is(item, RV_OBJECT)) {
		*ret_err = "invalid value type, must be string or map";
		return NULL;
	}
	name = safe_trimmed(item, "name");
	email = safe_trimmed(item, "email");
	out = rv_object_new(2);
	if (!name || !email || !out)
		goto fail;
	if (rv_str_len(name) == 0 && rv_str_len(email) == 0) {
		*ret_err = "'name' and/or 'email' values required in object";
		goto fail;
	}
	if (rv_str_len(name) > 0 && put(out, "name", rv_ref(name)) < 0)
		goto fail;
	if (rv_str_len(email) > 0 && put(out, "email", rv_ref(email)) < 0)
		goto fail;
	rv_unref(name);
	rv_unref(email);
	return out;
fail:
	rv_unref(name);
	rv_unref(email);
	rv_unref(out);
	return NULL;
}

/* A reference written in a schemas entry ("input.x", "schema.y") as the
 * array of its parts that OPA shows: the head var's name, then the keys. */
static struct rv *ref_parts(struct parser *p, const char *s, size_t len, const char *root)
{
	struct rego_error errs[2];
	size_t nerrs = 0;
	struct rego_term *t = len ? rego_parse_term(p->arena, s, len, errs, 2, &nerrs) : NULL;
	struct rego_term *const *items;
	size_t n;
	struct rv *out;

	if (!t)
		return NULL;
	if (t->kind == RT_VAR) {
		items = &t;
		n = 1;
	} else if (t->kind == RT_REF) {
		items = t->u.ref.items;
		n = t->u.ref.len;
	} else {
		return NULL;
	}
	if (items[0]->kind != RT_VAR || (root && strcmp(items[0]->u.var.name, root) != 0))
		return NULL;
	out = rv_array_new(n);
	for (size_t i = 0; out && i < n; i++) {
		struct rv *part;

		if (items[i]->kind == RT_VAR)
			part = rv_cstring(items[i]->u.var.name);
		else if (items[i]->kind == RT_VALUE)
			part = rv_ref(items[i]->u.value);
		else
			part = NULL;
		if (rv_array_push(out, part) < 0) {
			rv_unref(out);
			return NULL;
		}
	}
	return out;
}

/* One schemas entry: {path: schema-ref} or {path: {inline definition}}. */
static struct rv *schema_entry(struct parser *p, const struct rv *item, struct wd_buf *err)
{
	struct rv *key = NULL, *val = NULL;
	struct rv *path, *out;

	if (rv_len(item) > 0)
		rv_map_at(item, 0, &key, &val);
	path = key && rv_is(key, RV_STRING) ? ref_parts(p, rv_str(key), rv_str_len(key), NULL)
					    : NULL;
	if (!path) {
		if (wd_buf_append_str(err, "invalid document reference") < 0)
			wd_buf_reset(err);
		return NULL;
	}
	out = rv_object_new(2);
	if (!out || put(out, "path", path) < 0) {
		rv_unref(out);
		return NULL;
	}
	if (rv_is(val, RV_STRING)) {
		struct rv *schema = ref_parts(p, rv_str(val), rv_str_len(val), "schema");

		if (!schema) {
			if (wd_buf_append_str(err, "invalid schema reference") < 0)
				wd_buf_reset(err);
			rv_unref(out);
			return NULL;
		}
		if (put(out, "schema", schema) < 0) {
			rv_unref(out);
			return NULL;
		}
	} else if (rv_is(val, RV_OBJECT)) {
		if (put(out, "definition", rv_ref(val)) < 0) {
			rv_unref(out);
			return NULL;
		}
	} else {
		if (wd_buf_appendf(err, "invalid schema declaration for path \"%s\"", rv_str(key)) < 0)
			wd_buf_reset(err);
		rv_unref(out);
		return NULL;
	}
	return out;
}

/* Builds the array of checked entries of a list field, or reports the first
 * bad entry as "invalid PREFIX definition VALUE: REASON". */
static int checked_list(struct block_src *b, const struct rv *list, const char *what,
			struct rv *(*check)(const struct rv *, const char **), struct rv **ret)
{
	struct rv *out = rv_array_new(rv_array_len(list));

	*ret = NULL;
	if (!out)
		return WD_ENOMEM;
	for (size_t i = 0; i < rv_array_len(list); i++) {
		const struct rv *item = rv_array_at(list, i);
		const char *why = NULL;
		struct rv *entry = check(item, &why);
		struct wd_buf msg;

		if (entry) {
			if (rv_array_push(out, entry) < 0)
				break;
			continue;
		}
		rv_unref(out);
		if (!why)
			return WD_ENOMEM;
		wd_buf_init(&msg, 64, 64 * 1024);
		if (wd_buf_appendf(&msg, "invalid %s definition ", what) < 0 ||
		    append_go_value(&msg, item) < 0 || wd_buf_appendf(&msg, ": %s", why) < 0) {
			wd_buf_free(&msg);
			return WD_ENOMEM;
		}
		rp_error(b->p, comment_loc(b->p, b->head), "%s", wd_buf_str(&msg));
		wd_buf_free(&msg);
		return WD_EINVAL;
	}
	if (rv_array_len(out) != rv_array_len(list)) {
		rv_unref(out);
		return WD_ENOMEM;
	}
	*ret = out;
	return 0;
}

static int schemas(struct block_src *b, const struct rv *list, struct rv **ret)
{
	struct rv *out = rv_array_new(rv_array_len(list));
	struct wd_buf err;
	int rc = 0;

	*ret = NULL;
	if (!out)
		return WD_ENOMEM;
	wd_buf_init(&err, 64, 4096);
	for (size_t i = 0; i < rv_array_len(list) && rc == 0; i++) {
		struct rv *entry = schema_entry(b->p, rv_array_at(list, i), &err);

		if (entry) {
			rc = rv_array_push(out, entry);
		} else if (wd_buf_len(&err) > 0) {
			rp_error(b->p, comment_loc(b->p, b->head), "%s", wd_buf_str(&err));
			rc = WD_EINVAL;
		} else {
			rc = WD_ENOMEM;
		}
	}
	wd_buf_free(&err);
	if (rc < 0) {
		rv_unref(out);
		return rc;
	}
	*ret = out;
	return 0;
}

/* Puts value under key when it is a non-empty collection; drops it
 * otherwise (OPA omits empty fields). */
static int put_nonempty(struct rv *obj, const char *key, struct rv *value)
{
	if (!value)
		return 0;
	if (rv_array_len(value) == 0) {
		rv_unref(value);
		return 0;
	}
	return put(obj, key, value);
}

/* Decodes the typed fields of the document into fields (OPA's
 * rawAnnotation); type errors collect in fc. */
static void decode_typed(struct fields_ctx *fc, const struct rv *doc, struct rv *fields,
			 struct meta_block *mb)
{
	static const char *const strings[] = { "title", "description" };
	struct rv *scope = string_field(fc, doc, "scope");
	struct rv *entry = rv_object_get_str(doc, "entrypoint");
	const struct rv *orgs;

	if (scope) {
		mb->scope = rp_strndup(fc->b->p, rv_str(scope), rv_str_len(scope));
		rv_unref(scope);
	}
	for (size_t i = 0; i < WD_ARRAY_LEN(strings); i++) {
		struct rv *s = string_field(fc, doc, strings[i]);

		if (s && rv_str_len(s) > 0) {
			if (put(fields, strings[i], s) < 0)
				fc->rc = WD_ENOMEM;
		} else {
			rv_unref(s);
		}
	}
	if (entry && rv_is(entry, RV_BOOL))
		mb->entrypoint = rv_is_true(entry);
	else if (entry && !rv_is(entry, RV_NULL))
		type_error(fc, key_value_line(fc->b, "entrypoint"), entry, "bool");
	if (mb->entrypoint && put(fields, "entrypoint", rv_bool(true)) < 0)
		fc->rc = WD_ENOMEM;

	orgs = list_field(fc, doc, "organizations", "[]string");
	if (orgs && put_nonempty(fields, "organizations", organizations(fc, orgs)) < 0)
		fc->rc = WD_ENOMEM;
	(void)list_field(fc, doc, "related_resources", "[]interface {}");
	(void)list_field(fc, doc, "authors", "[]interface {}");
	(void)list_field(fc, doc, "schemas", "[]map[string]interface {}");
	{
		const struct rv *list = rv_object_get_str(doc, "schemas");

		for (size_t i = 0; rv_is(list, RV_ARRAY) && i < rv_array_len(list); i++) {
			const struct rv *item = rv_array_at(list, i);

			if (!rv_is(item, RV_OBJECT) && !rv_is(item, RV_NULL))
				type_error(fc, item_line(fc, "schemas", i), item,
					   "map[string]interface {}");
		}
	}
	entry = rv_object_get_str(doc, "custom");
	if (entry && !rv_is(entry, RV_OBJECT) && !rv_is(entry, RV_NULL))
		type_error(fc, key_value_line(fc->b, "custom"), entry, "map[string]interface {}");
}

/* Checks the entries OPA validates after decoding, in its order:
 * related_resources, schemas, authors; then custom. */
static int decode_checked(struct block_src *b, const struct rv *doc, struct rv *fields)
{
	const struct rv *list;
	struct rv *out;
	const struct rv *custom;

	list = rv_object_get_str(doc, "related_resources");
	if (rv_is(list, RV_ARRAY)) {
		WD_TRY(checked_list(b, list, "related-resource", related_resource, &out));
		WD_TRY(put_nonempty(fields, "related_resources", out));
	}
	list = rv_object_get_str(doc, "schemas");
	if (rv_is(list, RV_ARRAY)) {
		struct rv *objs = rv_array_new(rv_array_len(list));

		if (!objs)
			return WD_ENOMEM;
		/* A null entry decodes to an empty map: an invalid reference. */
		for (size_t i = 0; i < rv_array_len(list); i++) {
			struct rv *item = rv_array_at(list, i);

			if (rv_array_push(objs, rv_is(item, RV_NULL) ? rv_object_new(0)
								      : rv_ref(item)) < 0)
				return WD_ENOMEM;
		}
		if (schemas(b, objs, &out) < 0) {
			rv_unref(objs);
			return WD_EINVAL;
		}
		rv_unref(objs);
		WD_TRY(put_nonempty(fields, "schemas", out));
	}
	list = rv_object_get_str(doc, "authors");
	if (rv_is(list, RV_ARRAY)) {
		WD_TRY(checked_list(b, list, "author", author, &out));
		WD_TRY(put_nonempty(fields, "authors", out));
	}
	custom = rv_object_get_str(doc, "custom");
	if (rv_is(custom, RV_OBJECT) && rv_len(custom) > 0)
		WD_TRY(put(fields, "custom", rv_ref((struct rv *)custom)));
	return 0;
}

/* Reads one block's YAML into mb; false after an error was recorded. */
static bool parse_block(struct block_src *b, struct meta_block *mb)
{
	struct parser *p = b->p;
	struct fields_ctx fc = { .b = b };
	struct wd_buf err;
	struct rv *doc = NULL;
	struct rv *fields = NULL;
	bool blank = true;
	bool ok = false;

	mb->loc = comment_loc(p, b->head);
	mb->scope = "";
	for (size_t i = 0; i < wd_buf_len(&b->text) && blank; i++)
		blank = is_space(wd_buf_str(&b->text)[i]);
	if (blank) {
		rp_error(p, mb->loc, "expected METADATA block, found whitespace");
		return false;
	}

	wd_buf_init(&err, 128, 4096);
	wd_buf_init(&fc.terrs, 128, 64 * 1024);
	doc = rv_parse_yaml_core(wd_buf_str(&b->text), wd_buf_len(&b->text), &err);
	if (!doc) {
		if (wd_buf_len(&err) == 0)
			p->oom = true;
		else
			report_yaml_error(b, wd_buf_str(&err));
		goto out;
	}
	fields = rv_object_new(8);
	if (!fields) {
		p->oom = true;
		goto out;
	}
	if (rv_is(doc, RV_OBJECT)) {
		decode_typed(&fc, doc, fields, mb);
	} else if (!rv_is(doc, RV_NULL)) {
		type_error(&fc, 1, doc, "ast.rawAnnotation");
	}
	if (fc.rc < 0) {
		p->oom = true;
		goto out;
	}
	if (fc.nterrs > 0) {
		wd_buf_reset(&err);
		if (wd_buf_appendf(&err, "yaml: unmarshal errors:\n  %s", wd_buf_str(&fc.terrs)) < 0)
			p->oom = true;
		else
			report_yaml_error(b, wd_buf_str(&err));
		goto out;
	}
	if (rv_is(doc, RV_OBJECT)) {
		int rc = decode_checked(b, doc, fields);

		if (rc == WD_ENOMEM)
			p->oom = true;
		if (rc < 0)
			goto out;
	}
	mb->fields = rp_keep(p, fields);
	fields = NULL;
	ok = mb->fields != NULL;
out:
	rv_unref(fields);
	rv_unref(doc);
	wd_buf_free(&err);
	wd_buf_free(&fc.terrs);
	return ok;
}

void rp_metadata_parse(struct parser *p, struct meta_blocks *ret)
{
	size_t ncomments = p->ncomments;
	size_t nblocks = 0;
	size_t at = 0;

	ret->items = NULL;
	ret->len = 0;
	/* OPA's scanner collects comments as it goes, so after a syntax error
	 * it has seen none of those past the failing token. */
	if (p->s.nerrs > 0) {
		uint32_t stop = rp_cur_offset(p);

		while (ncomments > 0 && p->comments[ncomments - 1].offset > stop)
			ncomments--;
	}
	for (size_t i = 0; i < ncomments; i++)
		nblocks += is_metadata_comment(p, &p->comments[i]);
	if (nblocks == 0)
		return;
	ret->items = rp_alloc(p, nblocks * sizeof(*ret->items));
	if (!ret->items)
		return;

	/* As OPA does, a block runs over the comments in column 1 on the
	 * following rows, and every METADATA comment starts a block, even one
	 * inside another block. */
	for (size_t i = 0; i < ncomments && !p->oom; i++) {
		struct block_src b = { .p = p, .head = &p->comments[i] };
		size_t j = i + 1;
		int rc = 0;

		if (!is_metadata_comment(p, b.head))
			continue;
		while (j < ncomments && p->comments[j].col == 1 &&
		       p->comments[j].row == p->comments[j - 1].row + 1)
			j++;
		b.lines = &p->comments[i + 1];
		b.nlines = j - i - 1;
		wd_buf_init(&b.text, 256, META_TEXT_MAX);
		for (size_t k = 0; k < b.nlines && rc == 0; k++) {
			const char *s = comment_text(p, &b.lines[k]);
			size_t len = b.lines[k].len;

			if (len > 0 && s[0] == ' ') {
				s++;
				len--;
			}
			rc = wd_buf_append(&b.text, s, len);
			if (rc == 0)
				rc = wd_buf_append_byte(&b.text, '\n');
		}
		if (rc < 0)
			p->oom = true;
		else if (parse_block(&b, &ret->items[at]))
			at++;
		wd_buf_free(&b.text);
	}
	ret->len = at;
}
