/* Workload selectors "type:value", as SPIRE's workload attestors emit them
 * ("unix:uid:1000", "k8s:ns:prod"): a lowercase type, then a value that may
 * itself contain ':'. */
#include <string.h>

#include "common/alloc.h"
#include "identity/registry_internal.h"

static bool is_type_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Printable ASCII only: a control character or newline would break the
 * '\n'-joined storage and log lines. */
static bool is_value_char(char c)
{
	return c >= 0x20 && c <= 0x7e;
}

/* Returns why selector is invalid as a static string, or NULL when it is
 * valid. */
static const char *selector_problem(const char *selector)
{
	const char *colon;
	size_t type_len;

	if (strnlen(selector, REGISTRY_SELECTOR_MAX_LEN + 1) > REGISTRY_SELECTOR_MAX_LEN)
		return "longer than 1024 bytes";

	colon = strchr(selector, ':');
	if (!colon || colon == selector || colon[1] == '\0')
		return "expected type:value";

	type_len = (size_t)(colon - selector);
	if (type_len > REGISTRY_SELECTOR_TYPE_MAX_LEN)
		return "type longer than 64 bytes";
	for (size_t i = 0; i < type_len; i++) {
		if (!is_type_char(selector[i]))
			return "type must match [a-z0-9_-]+";
	}
	for (const char *p = colon + 1; *p; p++) {
		if (!is_value_char(*p))
			return "value must be printable ASCII";
	}
	return NULL;
}

_Static_assert(REGISTRY_SELECTOR_MAX_LEN == 1024 && REGISTRY_SELECTOR_TYPE_MAX_LEN == 64,
	"update the limits quoted in selector_problem");

/* Fails with WD_EINVAL quoting at most 200 bytes of selector; where is ""
 * or names the field the selector came from. */
static int selector_check(const char *selector, const char *where, struct wd_error *err)
{
	const char *problem;

	if (!selector)
		return wd_error_set(err, WD_EINVAL, "missing selector%s", where);
	problem = selector_problem(selector);
	if (problem)
		return wd_error_set(err, WD_EINVAL, "invalid selector \"%.200s%s\"%s: %s",
			selector, strlen(selector) > 200 ? "..." : "", where, problem);
	return 0;
}

int registry_selector_validate(const char *selector, struct wd_error *err)
{
	return selector_check(selector, "", err);
}

/* Orders by type, then by value, so "unix:x" sorts before "unix-a:x" even
 * though '-' is below ':' in ASCII. */
static int selector_compare(const void *a, const void *b)
{
	const char *left = *(const char *const *)a;
	const char *right = *(const char *const *)b;
	size_t left_type = strcspn(left, ":");
	size_t right_type = strcspn(right, ":");
	size_t common = left_type < right_type ? left_type : right_type;
	int cmp = memcmp(left, right, common);

	if (cmp != 0)
		return cmp;
	if (left_type != right_type)
		return left_type < right_type ? -1 : 1;
	return strcmp(left + left_type + 1, right + right_type + 1);
}

int registry_selectors_normalize(const char *const *selectors, size_t count,
	struct registry_strings *ret_sorted, struct wd_error *err)
{
	struct registry_strings sorted = { 0 };
	int rc = 0;

	*ret_sorted = (struct registry_strings){ 0 };
	if (count == 0)
		return wd_error_set(err, WD_EINVAL,
			"invalid \"selectors\": at least one selector is required");
	if (count > REGISTRY_MAX_SELECTORS)
		return wd_error_set(err, WD_EINVAL,
			"invalid \"selectors\": %zu selectors, more than the maximum %d", count,
			REGISTRY_MAX_SELECTORS);

	for (size_t i = 0; i < count; i++)
		WD_TRY(selector_check(selectors[i], " in \"selectors\"", err));

	sorted.items = wd_calloc(count, sizeof(*sorted.items));
	WD_ENSURE(sorted.items, WD_ENOMEM);
	for (size_t i = 0; i < count; i++) {
		sorted.items[i] = wd_strdup(selectors[i]);
		WD_ENSURE(sorted.items[i], WD_ENOMEM);
		sorted.count++;
	}
	qsort(sorted.items, sorted.count, sizeof(*sorted.items), selector_compare);

	for (size_t i = 1; i < sorted.count; i++) {
		if (strcmp(sorted.items[i - 1], sorted.items[i]) == 0) {
			rc = wd_error_set(err, WD_EINVAL,
				"duplicate selector \"%.200s\" in \"selectors\"", sorted.items[i]);
			goto out;
		}
	}

	*ret_sorted = sorted;
	sorted = (struct registry_strings){ 0 };
out:
	registry_strings_clear(&sorted);
	if (rc == WD_ENOMEM)
		wd_error_set(err, rc, "registry: out of memory");
	return rc;
}

const char *registry_selector_sha256(const char *selector)
{
	size_t prefix_len = strlen(REGISTRY_SHA256_SELECTOR_PREFIX);

	if (strncmp(selector, REGISTRY_SHA256_SELECTOR_PREFIX, prefix_len) != 0)
		return NULL;
	return selector + prefix_len;
}
