/* Lists of strings as the registry stores them: '\n'-joined in one column. */
#include <string.h>

#include "common/alloc.h"
#include "identity/registry_internal.h"

void registry_strings_clear(struct registry_strings *strings)
{
	if (!strings)
		return;
	for (size_t i = 0; i < strings->count; i++)
		free(strings->items[i]);
	free(strings->items);
	strings->items = NULL;
	strings->count = 0;
}

int registry_strings_join(char *const *items, size_t count, char **ret_text)
{
	size_t total = 1;
	size_t pos = 0;
	char *text;

	*ret_text = NULL;
	for (size_t i = 0; i < count; i++) {
		if (__builtin_add_overflow(total, strlen(items[i]) + 1, &total))
			return WD_ETOOBIG;
	}

	text = malloc(total);
	if (!text)
		return WD_ENOMEM;
	for (size_t i = 0; i < count; i++) {
		size_t len = strlen(items[i]);

		if (i > 0)
			text[pos++] = '\n';
		memcpy(text + pos, items[i], len);
		pos += len;
	}
	text[pos] = '\0';

	*ret_text = text;
	return 0;
}

int registry_strings_split(const char *text, size_t max_count,
	struct registry_strings *ret_strings, struct wd_error *err)
{
	struct registry_strings strings = { 0 };
	size_t count = 1;
	const char *start = text;
	int rc = 0;

	*ret_strings = (struct registry_strings){ 0 };
	if (!text || !*text)
		return 0;

	for (const char *p = text; *p; p++)
		count += *p == '\n';
	if (count > max_count)
		return wd_error_set(err, WD_ECORRUPT,
			"stored list holds %zu items, more than the maximum %zu", count, max_count);

	strings.items = wd_calloc(count, sizeof(*strings.items));
	WD_ENSURE(strings.items, WD_ENOMEM);
	for (size_t i = 0; i < count; i++) {
		const char *end = strchr(start, '\n');
		size_t len = end ? (size_t)(end - start) : strlen(start);

		strings.items[i] = wd_strndup(start, len);
		WD_ENSURE(strings.items[i], WD_ENOMEM);
		strings.count++;
		start += len + 1;
	}

	*ret_strings = strings;
	strings = (struct registry_strings){ 0 };
out:
	registry_strings_clear(&strings);
	if (rc == WD_ENOMEM)
		wd_error_set(err, rc, "registry: out of memory");
	return rc;
}
