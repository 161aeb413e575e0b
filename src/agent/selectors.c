/* Selector sets kept as a sorted array of strings, so lookups are binary
 * searches and the subset test is one merge walk. */
#include <stdio.h>
#include <string.h>

#include "agent/selectors.h"
#include "common/alloc.h"

struct agent_selector_set {
	char **items;
	size_t count;
	size_t capacity;
	size_t max;
};

static bool is_type_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Printable ASCII only: a control character or newline would break the
 * server's '\n'-joined storage and log lines. */
static bool is_value_char(char c)
{
	return c >= 0x20 && c <= 0x7e;
}

/* Returns why selector is invalid as a static string, or NULL when valid. */
static const char *selector_problem(const char *selector)
{
	const char *colon;
	size_t type_len;

	if (strnlen(selector, AGENT_SELECTOR_MAX_LEN + 1) > AGENT_SELECTOR_MAX_LEN)
		return "longer than 1024 bytes";

	colon = strchr(selector, ':');
	if (!colon || colon == selector || colon[1] == '\0')
		return "expected type:value";

	type_len = (size_t)(colon - selector);
	if (type_len > AGENT_SELECTOR_TYPE_MAX_LEN)
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

_Static_assert(AGENT_SELECTOR_MAX_LEN == 1024 && AGENT_SELECTOR_TYPE_MAX_LEN == 64,
	"update the limits quoted in selector_problem");

int agent_selector_validate(const char *selector, struct wd_error *err)
{
	const char *problem;

	if (!selector)
		return wd_error_set(err, WD_EINVAL, "missing selector");
	problem = selector_problem(selector);
	if (problem)
		return wd_error_set(err, WD_EINVAL, "invalid selector \"%.200s%s\": %s", selector,
			strlen(selector) > 200 ? "..." : "", problem);
	return 0;
}

/* Orders by type, then by value, as the server does, so "unix:x" sorts
 * before "unix-a:x" even though '-' is below ':' in ASCII. */
static int selector_compare(const char *left, const char *right)
{
	size_t left_type = strcspn(left, ":");
	size_t right_type = strcspn(right, ":");
	size_t common = left_type < right_type ? left_type : right_type;
	int cmp = memcmp(left, right, common);

	if (cmp != 0)
		return cmp;
	if (left_type != right_type)
		return left_type < right_type ? -1 : 1;
	/* Both now point at ':' (or at the end of a string without one). */
	return strcmp(left + left_type, right + right_type);
}

/* Returns the index where selector is or would be inserted, and whether it
 * is already there. */
static size_t set_search(const struct agent_selector_set *set, const char *selector,
	bool *ret_found)
{
	size_t low = 0;
	size_t high = set->count;

	*ret_found = false;
	while (low < high) {
		size_t mid = low + (high - low) / 2;
		int cmp = selector_compare(set->items[mid], selector);

		if (cmp == 0) {
			*ret_found = true;
			return mid;
		}
		if (cmp < 0)
			low = mid + 1;
		else
			high = mid;
	}
	return low;
}

struct agent_selector_set *agent_selector_set_new(size_t max)
{
	struct agent_selector_set *set = calloc(1, sizeof(*set));

	if (!set)
		return NULL;
	set->max = max ? max : AGENT_SELECTOR_SET_DEFAULT_MAX;
	return set;
}

void agent_selector_set_free(struct agent_selector_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->count; i++)
		free(set->items[i]);
	free(set->items);
	free(set);
}

int agent_selector_set_add(struct agent_selector_set *set, const char *selector,
	struct wd_error *err)
{
	size_t index;
	bool found;
	char *copy;

	WD_TRY(agent_selector_validate(selector, err));

	index = set_search(set, selector, &found);
	if (found)
		return 0;
	if (set->count >= set->max)
		return wd_error_set(err, WD_ETOOBIG,
			"cannot add selector \"%.200s\": the set already holds the maximum of %zu",
			selector, set->max);

	if (set->count == set->capacity) {
		size_t capacity = set->capacity ? set->capacity * 2 : 16;
		char **items;

		if (capacity > set->max)
			capacity = set->max;
		items = wd_reallocarray(set->items, capacity, sizeof(*items));
		if (!items)
			return wd_error_set(err, WD_ENOMEM, "out of memory adding a selector");
		set->items = items;
		set->capacity = capacity;
	}

	copy = wd_strdup(selector);
	if (!copy)
		return wd_error_set(err, WD_ENOMEM, "out of memory adding a selector");
	memmove(&set->items[index + 1], &set->items[index],
		(set->count - index) * sizeof(*set->items));
	set->items[index] = copy;
	set->count++;
	return 0;
}

int agent_selector_set_add_pair(struct agent_selector_set *set, const char *type,
	const char *value, struct wd_error *err)
{
	char selector[AGENT_SELECTOR_MAX_LEN + 1];
	int len;

	if (!type || !value)
		return wd_error_set(err, WD_EINVAL, "missing selector type or value");
	len = snprintf(selector, sizeof(selector), "%s:%s", type, value);
	if (len < 0 || (size_t)len >= sizeof(selector))
		return wd_error_set(err, WD_EINVAL,
			"invalid selector \"%.64s:%.100s...\": longer than 1024 bytes", type, value);
	return agent_selector_set_add(set, selector, err);
}

int agent_selector_set_parse(const char *const *selectors, size_t count, size_t max,
	struct agent_selector_set **ret_set, struct wd_error *err)
{
	struct agent_selector_set *set = NULL;
	int rc = 0;

	*ret_set = NULL;
	if (count > 0 && !selectors)
		return wd_error_set(err, WD_EINVAL, "missing selector list");

	set = agent_selector_set_new(max);
	if (!set)
		return wd_error_set(err, WD_ENOMEM, "out of memory creating a selector set");
	for (size_t i = 0; i < count; i++)
		WD_GUARD(agent_selector_set_add(set, selectors[i], err));

	*ret_set = WD_TAKE_PTR(set);
out:
	agent_selector_set_free(set);
	return rc;
}

size_t agent_selector_set_count(const struct agent_selector_set *set)
{
	return set ? set->count : 0;
}

const char *agent_selector_set_get(const struct agent_selector_set *set, size_t index)
{
	if (!set || index >= set->count)
		return NULL;
	return set->items[index];
}

bool agent_selector_set_contains(const struct agent_selector_set *set, const char *selector)
{
	bool found;

	if (!set || !selector)
		return false;
	(void)set_search(set, selector, &found);
	return found;
}

bool agent_selectors_subset(const struct agent_selector_set *entry_selectors,
	const struct agent_selector_set *workload_selectors)
{
	size_t w = 0;

	if (!entry_selectors || entry_selectors->count == 0 || !workload_selectors)
		return false;

	/* Both arrays are sorted in the same order, so one merge walk checks
	 * every entry selector. */
	for (size_t e = 0; e < entry_selectors->count; e++) {
		int cmp = -1;

		while (w < workload_selectors->count) {
			cmp = selector_compare(workload_selectors->items[w], entry_selectors->items[e]);
			if (cmp >= 0)
				break;
			w++;
		}
		if (cmp != 0)
			return false;
		w++;
	}
	return true;
}

bool agent_selectors_subset_strings(const char *const *entry_selectors, size_t count,
	const struct agent_selector_set *workload_selectors)
{
	if (!entry_selectors || count == 0 || !workload_selectors)
		return false;
	for (size_t i = 0; i < count; i++) {
		if (!agent_selector_set_contains(workload_selectors, entry_selectors[i]))
			return false;
	}
	return true;
}
