/* Python package version order (PEP 440, as the "packaging" library's
 * Version implements it): [N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local],
 * with the spellings that PEP 440's normalization section accepts. */
#include <ctype.h>
#include <string.h>

#include "supply/version_internal.h"

/* A run of digits; an implicit number ("1.0a" for "1.0a0") is "0". */
struct pep440_number {
	const char *digits;
	size_t len;
};

struct pep440_segment {
	const char *text;
	size_t len;
	int numeric;
};

/* A version is at most 256 bytes, so at most 128 release numbers or local
 * segments fit. */
#define PEP440_PARTS_MAX (SUPPLY_VERSION_MAX / 2)

enum pep440_pre_kind { PEP440_ALPHA, PEP440_BETA, PEP440_RC };

struct pep440_version {
	char text[SUPPLY_VERSION_MAX + 1];  /* lower-cased copy that parts point into */
	struct pep440_number epoch;
	struct pep440_number release[PEP440_PARTS_MAX];
	size_t release_count;
	int has_pre;
	enum pep440_pre_kind pre_kind;
	struct pep440_number pre;
	int has_post;
	struct pep440_number post;
	int has_dev;
	struct pep440_number dev;
	struct pep440_segment local[PEP440_PARTS_MAX];
	size_t local_count;
};

static const struct pep440_number zero = { "0", 1 };

struct pre_spelling {
	const char *text;
	enum pep440_pre_kind kind;
};

/* Longest spellings first, so "alpha" is not read as "a" and "lpha". */
static const struct pre_spelling pre_spellings[] = {
	{ "alpha", PEP440_ALPHA }, { "a", PEP440_ALPHA },
	{ "beta", PEP440_BETA }, { "b", PEP440_BETA },
	{ "preview", PEP440_RC }, { "pre", PEP440_RC },
	{ "rc", PEP440_RC }, { "c", PEP440_RC },
};

static const char *const post_spellings[] = { "post", "rev", "r" };

static int is_separator(char c)
{
	return c == '-' || c == '_' || c == '.';
}

static int read_number(const char **p, struct pep440_number *ret)
{
	const char *start = *p;

	while (isdigit((unsigned char)**p))
		(*p)++;
	ret->digits = start;
	ret->len = (size_t)(*p - start);
	return ret->len > 0;
}

static int starts_with(const char *p, const char *word)
{
	return !strncmp(p, word, strlen(word));
}

/* Reads an optional separator and the number after a pre-release, post or
 * dev label; the number defaults to 0. A separator not followed by a number
 * is left for the next component. */
static void read_label_number(const char **p, struct pep440_number *ret)
{
	const char *q = *p;

	if (is_separator(*q) && isdigit((unsigned char)q[1]))
		q++;
	if (!read_number(&q, ret)) {
		*ret = zero;
		return;
	}
	*p = q;
}

/* Matches an optional separator then one of words at *p; on success moves
 * *p past the word and returns its index. */
static int read_label(const char **p, const char *const *words, size_t count)
{
	const char *q = *p;

	if (is_separator(*q))
		q++;
	for (size_t i = 0; i < count; i++) {
		if (starts_with(q, words[i])) {
			*p = q + strlen(words[i]);
			return (int)i;
		}
	}
	return -1;
}

static int read_pre(const char **p, struct pep440_version *v)
{
	const char *q = *p;

	if (is_separator(*q))
		q++;
	for (size_t i = 0; i < WD_ARRAY_LEN(pre_spellings); i++) {
		if (starts_with(q, pre_spellings[i].text)) {
			q += strlen(pre_spellings[i].text);
			v->has_pre = 1;
			v->pre_kind = pre_spellings[i].kind;
			read_label_number(&q, &v->pre);
			*p = q;
			return 1;
		}
	}
	return 0;
}

static void read_post_and_dev(const char **p, struct pep440_version *v)
{
	const char *q = *p;
	static const char *const dev_word[] = { "dev" };

	/* "1.0-1" is the implicit spelling of "1.0.post1". */
	if (*q == '-' && isdigit((unsigned char)q[1])) {
		q++;
		v->has_post = read_number(&q, &v->post);
		*p = q;
	} else if (read_label(&q, post_spellings, WD_ARRAY_LEN(post_spellings)) >= 0) {
		v->has_post = 1;
		read_label_number(&q, &v->post);
		*p = q;
	}

	q = *p;
	if (read_label(&q, dev_word, 1) == 0) {
		v->has_dev = 1;
		read_label_number(&q, &v->dev);
		*p = q;
	}
}

static int read_local(const char **p, struct pep440_version *v)
{
	const char *q = *p;

	if (*q != '+')
		return 1;
	q++;
	for (;;) {
		const char *start = q;
		struct pep440_segment *segment;

		while (isalnum((unsigned char)*q))
			q++;
		if (q == start || v->local_count == PEP440_PARTS_MAX)
			return 0;
		segment = &v->local[v->local_count++];
		segment->text = start;
		segment->len = (size_t)(q - start);
		segment->numeric = strspn(start, "0123456789") >= segment->len;
		if (!is_separator(*q))
			break;
		q++;
	}
	*p = q;
	return 1;
}

static int pep440_parse(const char *input, struct pep440_version *v, struct wd_error *err)
{
	const char *begin = input;
	const char *end = input + strlen(input);
	const char *p;
	size_t length;

	memset(v, 0, sizeof(*v));

	/* Surrounding whitespace is allowed and ignored. */
	while (begin < end && isspace((unsigned char)*begin))
		begin++;
	while (end > begin && isspace((unsigned char)end[-1]))
		end--;
	length = (size_t)(end - begin);
	if (length == 0 || length > SUPPLY_VERSION_MAX)
		goto invalid;
	for (size_t i = 0; i < length; i++)
		v->text[i] = (char)tolower((unsigned char)begin[i]);
	v->text[length] = '\0';

	p = v->text;
	if (*p == 'v')
		p++;

	v->epoch = zero;
	if (isdigit((unsigned char)*p)) {
		const char *q = p;
		struct pep440_number number;

		read_number(&q, &number);
		if (*q == '!') {
			v->epoch = number;
			p = q + 1;
		}
	}

	for (;;) {
		if (v->release_count == PEP440_PARTS_MAX ||
		    !read_number(&p, &v->release[v->release_count]))
			goto invalid;
		v->release_count++;
		if (*p != '.' || !isdigit((unsigned char)p[1]))
			break;
		p++;
	}

	read_pre(&p, v);
	read_post_and_dev(&p, v);
	if (!read_local(&p, v) || *p != '\0')
		goto invalid;
	return 0;

invalid:
	return wd_error_set(err, WD_EINVAL, "invalid pep440 version \"%.256s\"", input);
}

static int number_compare(const struct pep440_number *a, const struct pep440_number *b)
{
	return version_digits_compare(a->digits, a->len, b->digits, b->len);
}

/* Compares release numbers, a missing number counting as 0 ("1.0" == "1"). */
static int release_compare(const struct pep440_version *a, const struct pep440_version *b)
{
	size_t count = a->release_count > b->release_count ? a->release_count : b->release_count;

	for (size_t i = 0; i < count; i++) {
		const struct pep440_number *x = i < a->release_count ? &a->release[i] : &zero;
		const struct pep440_number *y = i < b->release_count ? &b->release[i] : &zero;
		int order = number_compare(x, y);

		if (order)
			return order;
	}
	return 0;
}

/* The rank of the pre-release phase: a dev release of the final version
 * ("1.0.dev1") sorts before its pre-releases, and a version without a
 * pre-release after them. */
static int pre_rank(const struct pep440_version *v)
{
	if (v->has_pre)
		return 1 + (int)v->pre_kind;
	if (!v->has_post && v->has_dev)
		return 0;
	return 4;
}

/* Compares local labels segment by segment. Numbers compare by value and
 * above strings, and strings in ASCII order. A label that is a prefix of
 * another sorts first, and no label sorts before any label. */
static int local_compare(const struct pep440_version *a, const struct pep440_version *b)
{
	size_t count = a->local_count < b->local_count ? a->local_count : b->local_count;

	for (size_t i = 0; i < count; i++) {
		const struct pep440_segment *x = &a->local[i];
		const struct pep440_segment *y = &b->local[i];
		size_t shorter = x->len < y->len ? x->len : y->len;
		int order;

		if (x->numeric != y->numeric)
			return x->numeric ? 1 : -1;
		if (x->numeric) {
			order = version_digits_compare(x->text, x->len, y->text, y->len);
		} else {
			order = version_sign(memcmp(x->text, y->text, shorter));
			if (!order)
				order = (x->len > y->len) - (x->len < y->len);
		}
		if (order)
			return order;
	}
	return (a->local_count > b->local_count) - (a->local_count < b->local_count);
}

static int pep440_order(const struct pep440_version *a, const struct pep440_version *b)
{
	int order = number_compare(&a->epoch, &b->epoch);

	if (!order)
		order = release_compare(a, b);
	if (!order)
		order = version_sign(pre_rank(a) - pre_rank(b));
	if (!order && a->has_pre)
		order = number_compare(&a->pre, &b->pre);
	if (!order)
		order = a->has_post - b->has_post;
	if (!order && a->has_post)
		order = number_compare(&a->post, &b->post);
	if (!order)
		order = b->has_dev - a->has_dev;
	if (!order && a->has_dev)
		order = number_compare(&a->dev, &b->dev);
	if (!order)
		order = local_compare(a, b);
	return order;
}

int version_pep440_compare(const char *a, const char *b, int *ret_order, struct wd_error *err)
{
	struct pep440_version va;
	struct pep440_version vb;

	WD_TRY(pep440_parse(a, &va, err));
	WD_TRY(pep440_parse(b, &vb, err));

	*ret_order = pep440_order(&va, &vb);
	return 0;
}
