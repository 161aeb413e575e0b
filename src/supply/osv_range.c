/* Affected ranges of OSV records: their version order, checked and sorted
 * once at load, and the evaluation of an installed version against them
 * as the OSV schema's "Evaluation" section gives it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supply/osv_internal.h"

/* introduced "0" sorts before every version, and a limit containing '*'
 * after every version (OSV schema, "Special values"). */
static bool is_lowest(const struct osv_event *event)
{
	return event->kind == OSV_EVENT_INTRODUCED && !strcmp(event->version, "0");
}

static bool is_highest(const struct osv_event *event)
{
	return event->kind == OSV_EVENT_LIMIT && strchr(event->version, '*');
}

static const char *event_kind_name(enum osv_event_kind kind)
{
	switch (kind) {
	case OSV_EVENT_INTRODUCED:
		return "introduced";
	case OSV_EVENT_FIXED:
		return "fixed";
	case OSV_EVENT_LAST_AFFECTED:
		return "last_affected";
	case OSV_EVENT_LIMIT:
		return "limit";
	}
	return "event";
}

/* Orders two events of a checked range; equal versions keep their order
 * in the record because the sort below is stable. */
static int event_order(enum supply_ecosystem scheme, const struct osv_event *a,
	const struct osv_event *b)
{
	int order = 0;

	if (is_lowest(a) || is_lowest(b))
		return is_lowest(b) - is_lowest(a);
	if (is_highest(a) || is_highest(b))
		return is_highest(a) - is_highest(b);
	/* osv_range_prepare checked both versions before sorting, so the
	 * comparison cannot fail. */
	if (supply_version_compare(scheme, a->version, b->version, &order, NULL) < 0)
		return 0;
	return order;
}

/* A stable merge sort: qsort is not stable, and the order of events with
 * equal versions decides the outcome at that version. */
static void sort_events(enum supply_ecosystem scheme, struct osv_event *events, size_t count,
	struct osv_event *scratch)
{
	for (size_t width = 1; width < count; width *= 2) {
		for (size_t lo = 0; lo < count; lo += 2 * width) {
			size_t mid = lo + width < count ? lo + width : count;
			size_t hi = lo + 2 * width < count ? lo + 2 * width : count;
			size_t i = lo, j = mid, k = lo;

			while (i < mid && j < hi)
				scratch[k++] = event_order(scheme, &events[j], &events[i]) < 0 ?
						       events[j++] : events[i++];
			while (i < mid)
				scratch[k++] = events[i++];
			while (j < hi)
				scratch[k++] = events[j++];
		}
		memcpy(events, scratch, count * sizeof(*events));
	}
}

int osv_range_prepare(struct osv_range *range, const struct osv_affected *affected,
	const struct osv_field *events_field, struct osv_arena *arena)
{
	struct osv_event *scratch;

	range->usable = false;
	if (range->semver) {
		range->scheme = SUPPLY_ECOSYSTEM_SEMVER;
	} else if (affected->has_scheme) {
		range->scheme = affected->scheme == SUPPLY_ECOSYSTEM_GO ? SUPPLY_ECOSYSTEM_SEMVER :
									   affected->scheme;
	} else {
		/* An ecosystem whose order warden does not know: nothing to
		 * check, and nothing will be matched against it. */
		return 0;
	}

	for (size_t i = 0; i < range->event_count; i++) {
		const struct osv_event *event = &range->events[i];
		struct wd_error err = { 0 };
		int order;

		if (is_lowest(event) || is_highest(event))
			continue;
		if (supply_version_compare(range->scheme, event->version, event->version, &order,
			    &err) < 0) {
			char field[160];
			char message[sizeof(err.detail) + 256];
			char *copy;

			osv_field_format(events_field, field, sizeof(field));
			snprintf(message, sizeof(message), "%s[%zu].%s: %s", field, i,
				event_kind_name(event->kind), wd_error_text(&err));
			copy = osv_arena_alloc(arena, strlen(message) + 1);
			if (!copy)
				return -1;
			memcpy(copy, message, strlen(message) + 1);
			range->problem = copy;
			return 0;
		}
	}

	if (range->event_count > 1) {
		scratch = malloc(range->event_count * sizeof(*scratch));
		if (!scratch)
			return -1;
		sort_events(range->scheme, range->events, range->event_count, scratch);
		free(scratch);
	}
	range->usable = true;
	return 0;
}

/* Compares the installed version v with an event's version. */
static int compare(const struct osv_range *range, const char *v, const struct osv_event *event,
	int *ret_order, struct wd_error *err)
{
	if (is_lowest(event)) {
		*ret_order = 1;
		return 0;
	}
	if (is_highest(event)) {
		*ret_order = -1;
		return 0;
	}
	return supply_version_compare(range->scheme, v, event->version, ret_order, err);
}

/* BeforeLimits: true without limit events, else when v is below one. */
static int before_limits(const struct osv_range *range, const char *v, bool *ret_before,
	struct wd_error *err)
{
	bool any = false;

	*ret_before = false;
	for (size_t i = 0; i < range->event_count; i++) {
		int order;

		if (range->events[i].kind != OSV_EVENT_LIMIT)
			continue;
		any = true;
		WD_TRY(compare(range, v, &range->events[i], &order, err));
		if (order < 0) {
			*ret_before = true;
			return 0;
		}
	}
	*ret_before = !any;
	return 0;
}

/* Stores in ret_fixed the lowest fixed version above v, or NULL. */
static int first_fixed_above(const struct osv_range *range, const char *v,
	const char **ret_fixed, struct wd_error *err)
{
	*ret_fixed = NULL;
	for (size_t i = 0; i < range->event_count; i++) {
		int order;

		if (range->events[i].kind != OSV_EVENT_FIXED)
			continue;
		WD_TRY(compare(range, v, &range->events[i], &order, err));
		if (order < 0) {
			*ret_fixed = range->events[i].version;
			return 0;
		}
	}
	return 0;
}

/* IncludedInRanges for one range, with events sorted. */
static int range_includes(const struct osv_range *range, const char *v, bool *ret_included,
	struct wd_error *err)
{
	bool before, vulnerable = false;
	int order;

	*ret_included = false;
	/* Checked first, because "introduced: 0" and "limit: *" compare
	 * without looking at v. */
	WD_TRY(supply_version_compare(range->scheme, v, v, &order, err));
	WD_TRY(before_limits(range, v, &before, err));
	if (!before)
		return 0;
	for (size_t i = 0; i < range->event_count; i++) {
		const struct osv_event *event = &range->events[i];

		if (event->kind == OSV_EVENT_LIMIT)
			continue;
		WD_TRY(compare(range, v, event, &order, err));
		if (event->kind == OSV_EVENT_INTRODUCED && order >= 0)
			vulnerable = true;
		else if (event->kind == OSV_EVENT_FIXED && order >= 0)
			vulnerable = false;
		else if (event->kind == OSV_EVENT_LAST_AFFECTED && order > 0)
			vulnerable = false;
	}
	*ret_included = vulnerable;
	return 0;
}

/* Stores in ret_fixed the lowest fix above v over all ranges, for a
 * version found in the list. The fix is extra information, so a range
 * where v or a fix does not compare is passed over. */
static void lowest_fix(const struct osv_affected *affected, const char *v,
	const char **ret_fixed)
{
	*ret_fixed = NULL;
	for (size_t i = 0; i < affected->range_count; i++) {
		const char *fixed;
		int order;

		if (!affected->ranges[i].usable ||
		    first_fixed_above(&affected->ranges[i], v, &fixed, NULL) < 0 || !fixed)
			continue;
		if (!*ret_fixed || (supply_version_compare(affected->ranges[i].scheme, fixed,
					    *ret_fixed, &order, NULL) == 0 && order < 0))
			*ret_fixed = fixed;
	}
}

int osv_affected_check(const struct osv_affected *affected, const char *version,
	struct osv_verdict *ret_verdict, struct wd_error *err)
{
	struct osv_verdict verdict = { 0 };

	*ret_verdict = verdict;
	for (size_t i = 0; i < affected->version_count; i++) {
		if (!strcmp(affected->versions[i], version)) {
			verdict.affected = true;
			verdict.by_versions = true;
			lowest_fix(affected, version, &verdict.fixed);
			*ret_verdict = verdict;
			return 0;
		}
	}

	for (size_t i = 0; i < affected->range_count; i++) {
		const struct osv_range *range = &affected->ranges[i];
		bool included;

		if (!range->usable)
			continue;
		WD_TRY(range_includes(range, version, &included, err));
		if (included) {
			verdict.affected = true;
			WD_TRY(first_fixed_above(range, version, &verdict.fixed, err));
			break;
		}
	}
	*ret_verdict = verdict;
	return 0;
}
