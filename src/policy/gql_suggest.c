/* "Did you mean ...?" suggestions for GraphQL validation messages, ranked by
 * edit distance as gqlparser (after graphql-js) ranks them. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/error.h"
#include "policy/gql.h"

/* Names longer than this are never suggested: the distance table would be
 * too large, and no GraphQL name in practice comes near it. */
#define MAX_NAME 256

/* Levenshtein distance over ASCII-lowercased names; a difference in case
 * alone counts as one edit. */
static size_t lexical_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[MAX_NAME + 1];

	if (strcmp(a, b) == 0)
		return 0;
	if (strcasecmp(a, b) == 0)
		return 1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]) ? 0 : 1;
			size_t best = diag + cost;

			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			if (up + 1 < best)
				best = up + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

struct ranked {
	const char *name;
	size_t distance;
};

int gql_suggest(struct wd_buf *out, const char *prefix, const char *typed,
		const struct gql_list *options, bool quoted)
{
	struct ranked *list;
	size_t n = 0;
	int rc = 0;

	if (!options->len || strlen(typed) > MAX_NAME)
		return 0;
	list = calloc(options->len, sizeof(*list));
	if (!list)
		return WD_ENOMEM;

	for (size_t i = 0; i < options->len; i++) {
		const char *option = options->items[i];
		size_t la = strlen(typed), lb, threshold, d;

		if (!option || (lb = strlen(option)) > MAX_NAME)
			continue;
		threshold = (la >= lb ? la : lb) / 2;
		if (threshold < 1)
			threshold = 1;
		d = lexical_distance(typed, option);
		if (d > threshold)
			continue;
		/* Insertion keeps ties in their original order. */
		{
			size_t at = n;

			while (at > 0 && list[at - 1].distance > d) {
				list[at] = list[at - 1];
				at--;
			}
			list[at].name = option;
			list[at].distance = d;
			n++;
		}
	}
	if (n) {
		const char **names = calloc(n, sizeof(*names));

		if (!names) {
			free(list);
			return WD_ENOMEM;
		}
		for (size_t i = 0; i < n; i++)
			names[i] = list[i].name;
		rc = gql_or_list(out, prefix, names, n, quoted);
		free(names);
	}
	free(list);
	return rc;
}

int gql_or_list(struct wd_buf *out, const char *prefix, const char *const *names, size_t n,
		bool quoted)
{
	const char *q = quoted ? "\"" : "";

	if (n == 0)
		return 0;
	if (n > 5)
		n = 5;
	WD_TRY(wd_buf_appendf(out, " %s ", prefix));
	for (size_t i = 0; i < n; i++) {
		const char *sep = "";

		if (i > 0)
			sep = n == 2 ? " or " : (i == n - 1 ? ", or " : ", ");
		WD_TRY(wd_buf_appendf(out, "%s%s%s%s", sep, q, names[i], q));
	}
	return wd_buf_append_byte(out, '?');
}
