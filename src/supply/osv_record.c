/* One OSV record from its JSON tokens: the fields the schema defines that
 * matching needs, with their types checked. Errors name the field, e.g.
 * "affected[1].ranges[0].events[2]: ...". Unknown fields are ignored, as
 * the schema requires of readers of a newer minor version. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/time.h"
#include "supply/osv_internal.h"

/* Ceilings on one record, far above what real databases publish. */
#define ID_MAX_BYTES 256
#define TEXT_MAX_BYTES (64u * 1024)
#define VERSION_MAX_BYTES 1024

struct ctx {
	const struct osv_json *json;
	struct osv_arena *arena;
	struct wd_error *err;
};

void osv_field_format(const struct osv_field *field, char *out, size_t size)
{
	const struct osv_field *chain[32];
	size_t depth = 0, len = 0;

	out[0] = '\0';
	for (; field && depth < WD_ARRAY_LEN(chain); field = field->parent)
		chain[depth++] = field;
	while (depth-- > 0 && len < size) {
		const struct osv_field *f = chain[depth];
		int n;

		if (f->key)
			n = snprintf(out + len, size - len, "%s%s", len ? "." : "", f->key);
		else
			n = snprintf(out + len, size - len, "[%u]", f->index);
		if (n < 0)
			break;
		len += (size_t)n;
	}
}

static int bad(struct ctx *c, const struct osv_field *at, const char *fmt, ...) WD_PRINTF(3, 4);

static int bad(struct ctx *c, const struct osv_field *at, const char *fmt, ...)
{
	char field[160];
	char message[sizeof(c->err->detail)];
	va_list ap;

	osv_field_format(at, field, sizeof(field));
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if (!field[0])
		return wd_error_set(c->err, WD_EINVAL, "%s", message);
	return wd_error_set(c->err, WD_EINVAL, "%s: %s", field, message);
}

static int no_memory(struct ctx *c)
{
	return wd_error_set(c->err, WD_ENOMEM, "out of memory for the records");
}

static const struct osv_json_token *token(const struct ctx *c, uint32_t index)
{
	return &c->json->tokens[index];
}

static bool is_type(const struct ctx *c, uint32_t index, enum osv_json_type type)
{
	return token(c, index)->type == type;
}

/* Looks up the member named by field->key in obj: 1 and its index when
 * present and not null, 0 when absent or null, WD_EINVAL for a duplicate. */
static int member(struct ctx *c, uint32_t obj, const struct osv_field *field,
	uint32_t *ret_value)
{
	int rc = osv_json_member(c->json, obj, field->key, ret_value, NULL);

	if (rc < 0)
		return bad(c, field, "duplicate key");
	if (rc == 1 && is_type(c, *ret_value, OSV_JSON_NULL))
		return 0;
	return rc;
}

/* Copies the string at index, which must be at most max bytes, into the
 * arena. */
static int copy_string(struct ctx *c, uint32_t index, size_t max, const struct osv_field *at,
	const char **ret_text)
{
	char *text;

	if (!is_type(c, index, OSV_JSON_STRING))
		return bad(c, at, "expected a string");
	if (token(c, index)->len > max)
		return bad(c, at, "longer than %zu bytes", max);
	text = osv_json_string_dup(c->json, index, c->arena);
	if (!text)
		return no_memory(c);
	*ret_text = text;
	return 0;
}

/* Reads the string member key of obj (at is obj's field); *ret_text stays
 * NULL when it is absent and not required. */
static int get_string(struct ctx *c, uint32_t obj, const struct osv_field *at, const char *key,
	bool required, size_t max, const char **ret_text)
{
	struct osv_field field = { at, key, 0 };
	uint32_t value;
	int found;

	*ret_text = NULL;
	found = member(c, obj, &field, &value);
	if (found < 0)
		return found;
	if (!found)
		return required ? bad(c, &field, "missing") : 0;
	return copy_string(c, value, max, &field, ret_text);
}

/* Reads an optional array of strings. */
static int get_strings(struct ctx *c, uint32_t obj, const struct osv_field *at, const char *key,
	size_t max, const char ***ret_items, size_t *ret_count)
{
	struct osv_field field = { at, key, 0 };
	uint32_t array, item;
	const char **items;
	int found;

	*ret_items = NULL;
	*ret_count = 0;
	found = member(c, obj, &field, &array);
	if (found <= 0)
		return found;
	if (!is_type(c, array, OSV_JSON_ARRAY))
		return bad(c, &field, "expected an array of strings");
	items = osv_arena_array(c->arena, token(c, array)->count, sizeof(*items));
	if (!items && token(c, array)->count)
		return no_memory(c);

	item = osv_json_first_child(array);
	for (uint32_t i = 0; i < token(c, array)->count; i++) {
		struct osv_field element = { &field, NULL, i };

		WD_TRY(copy_string(c, item, max, &element, &items[i]));
		item = token(c, item)->next;
	}
	*ret_items = items;
	*ret_count = token(c, array)->count;
	return 0;
}

/* Checks that the optional member key is an object; stores its index or 0. */
static int get_object(struct ctx *c, uint32_t obj, const struct osv_field *at, const char *key,
	uint32_t *ret_index)
{
	struct osv_field field = { at, key, 0 };
	uint32_t value;
	int found;

	*ret_index = 0;
	found = member(c, obj, &field, &value);
	if (found <= 0)
		return found;
	if (!is_type(c, value, OSV_JSON_OBJECT))
		return bad(c, &field, "expected an object");
	*ret_index = value;
	return 0;
}

/* Checks that member key of obj is a string when present. */
static int check_string(struct ctx *c, uint32_t obj, const struct osv_field *at,
	const char *key)
{
	struct osv_field field = { at, key, 0 };
	uint32_t value;
	int found = member(c, obj, &field, &value);

	if (found < 0)
		return found;
	if (!found)
		return bad(c, &field, "missing");
	if (!is_type(c, value, OSV_JSON_STRING))
		return bad(c, &field, "expected a string");
	return 0;
}

/* Checks a "severity" array: objects with string "type" and "score".
 * osv_severity_resolve reads them. */
static int get_severity_array(struct ctx *c, uint32_t obj, const struct osv_field *at,
	uint32_t *ret_index)
{
	struct osv_field field = { at, "severity", 0 };
	uint32_t array, item;
	int found;

	*ret_index = 0;
	found = member(c, obj, &field, &array);
	if (found <= 0)
		return found;
	if (!is_type(c, array, OSV_JSON_ARRAY))
		return bad(c, &field, "expected an array");

	item = osv_json_first_child(array);
	for (uint32_t i = 0; i < token(c, array)->count; i++) {
		struct osv_field element = { &field, NULL, i };

		if (!is_type(c, item, OSV_JSON_OBJECT))
			return bad(c, &element, "expected an object");
		WD_TRY(check_string(c, item, &element, "type"));
		WD_TRY(check_string(c, item, &element, "score"));
		item = token(c, item)->next;
	}
	*ret_index = array;
	return 0;
}

static int parse_event(struct ctx *c, uint32_t obj, const struct osv_field *at,
	struct osv_event *event)
{
	static const struct {
		const char *key;
		enum osv_event_kind kind;
	} kinds[] = {
		{ "introduced", OSV_EVENT_INTRODUCED },
		{ "fixed", OSV_EVENT_FIXED },
		{ "last_affected", OSV_EVENT_LAST_AFFECTED },
		{ "limit", OSV_EVENT_LIMIT },
	};

	if (!is_type(c, obj, OSV_JSON_OBJECT) || token(c, obj)->count != 1)
		return bad(c, at, "expected an object with one of introduced, fixed, "
				  "last_affected or limit");
	for (size_t i = 0; i < WD_ARRAY_LEN(kinds); i++) {
		struct osv_field field = { at, kinds[i].key, 0 };

		/* A one-member object: its key follows it, then the value. */
		if (!osv_json_string_equals(c->json, obj + 1, kinds[i].key))
			continue;
		event->kind = kinds[i].kind;
		WD_TRY(copy_string(c, obj + 2, VERSION_MAX_BYTES, &field, &event->version));
		if (!event->version[0])
			return bad(c, &field, "empty version");
		return 0;
	}
	return bad(c, at, "unknown event; expected introduced, fixed, last_affected or limit");
}

/* Parses one range; stores false in ret_kept for a GIT range, which is
 * counted and dropped. */
static int parse_range(struct ctx *c, uint32_t obj, const struct osv_field *at,
	const struct osv_affected *affected, struct osv_range *range, bool *ret_kept)
{
	struct osv_field field = { at, "events", 0 };
	const char *type;
	uint32_t events, item;
	bool introduced = false;
	int found;

	*ret_kept = false;
	if (!is_type(c, obj, OSV_JSON_OBJECT))
		return bad(c, at, "expected an object");
	WD_TRY(get_string(c, obj, at, "type", true, ID_MAX_BYTES, &type));
	if (!strcmp(type, "GIT"))
		return 0;
	if (strcmp(type, "SEMVER") && strcmp(type, "ECOSYSTEM")) {
		struct osv_field type_field = { at, "type", 0 };

		return bad(c, &type_field, "unknown range type \"%.64s\"; expected ECOSYSTEM, "
					   "SEMVER or GIT", type);
	}
	range->semver = !strcmp(type, "SEMVER");

	found = member(c, obj, &field, &events);
	if (found < 0)
		return found;
	if (!found)
		return bad(c, &field, "missing");
	if (!is_type(c, events, OSV_JSON_ARRAY) || token(c, events)->count == 0)
		return bad(c, &field, "expected a non-empty array");

	range->event_count = token(c, events)->count;
	range->events = osv_arena_array(c->arena, range->event_count, sizeof(*range->events));
	if (!range->events)
		return no_memory(c);
	item = osv_json_first_child(events);
	for (uint32_t i = 0; i < range->event_count; i++) {
		struct osv_field element = { &field, NULL, i };

		WD_TRY(parse_event(c, item, &element, &range->events[i]));
		introduced |= range->events[i].kind == OSV_EVENT_INTRODUCED;
		item = token(c, item)->next;
	}
	if (!introduced)
		return bad(c, &field, "no introduced event");
	*ret_kept = true;
	return osv_range_prepare(range, affected, &field, c->arena) < 0 ? no_memory(c) : 0;
}

static int parse_ranges(struct ctx *c, uint32_t obj, const struct osv_field *at,
	struct osv_affected *affected, size_t *git_ranges)
{
	struct osv_field field = { at, "ranges", 0 };
	uint32_t array, item;
	int found;

	found = member(c, obj, &field, &array);
	if (found <= 0)
		return found;
	if (!is_type(c, array, OSV_JSON_ARRAY))
		return bad(c, &field, "expected an array");
	affected->ranges = osv_arena_array(c->arena, token(c, array)->count,
		sizeof(*affected->ranges));
	if (!affected->ranges && token(c, array)->count)
		return no_memory(c);

	item = osv_json_first_child(array);
	for (uint32_t i = 0; i < token(c, array)->count; i++) {
		struct osv_field element = { &field, NULL, i };
		bool kept;

		WD_TRY(parse_range(c, item, &element, affected,
			&affected->ranges[affected->range_count], &kept));
		if (kept)
			affected->range_count++;
		else
			(*git_ranges)++;
		item = token(c, item)->next;
	}
	return 0;
}

static int parse_package(struct ctx *c, uint32_t obj, const struct osv_field *at,
	struct osv_affected *affected)
{
	struct osv_field field = { at, "package", 0 };
	uint32_t package;
	const char *colon;
	int found;

	found = member(c, obj, &field, &package);
	if (found <= 0)
		return found;
	if (!is_type(c, package, OSV_JSON_OBJECT))
		return bad(c, &field, "expected an object");
	WD_TRY(get_string(c, package, &field, "ecosystem", true, ID_MAX_BYTES,
		&affected->ecosystem));
	WD_TRY(get_string(c, package, &field, "name", true, TEXT_MAX_BYTES, &affected->name));
	WD_TRY(get_string(c, package, &field, "purl", false, TEXT_MAX_BYTES, &affected->purl));
	if (!affected->ecosystem[0]) {
		struct osv_field ecosystem = { &field, "ecosystem", 0 };

		return bad(c, &ecosystem, "empty");
	}
	if (!affected->name[0]) {
		struct osv_field name = { &field, "name", 0 };

		return bad(c, &name, "empty");
	}

	colon = strchr(affected->ecosystem, ':');
	affected->release = colon ? colon + 1 : "";
	affected->has_scheme = supply_ecosystem_parse(affected->ecosystem, &affected->scheme,
		NULL) == 0;
	return 0;
}

static int parse_affected(struct ctx *c, uint32_t obj, const struct osv_field *at,
	struct osv_record *record, struct osv_affected *affected)
{
	uint32_t severity, database, ecosystem;

	if (!is_type(c, obj, OSV_JSON_OBJECT))
		return bad(c, at, "expected an object");
	affected->record = record;
	WD_TRY(parse_package(c, obj, at, affected));
	WD_TRY(parse_ranges(c, obj, at, affected, &record->git_ranges));
	WD_TRY(get_strings(c, obj, at, "versions", VERSION_MAX_BYTES, &affected->versions,
		&affected->version_count));
	WD_TRY(get_severity_array(c, obj, at, &severity));
	WD_TRY(get_object(c, obj, at, "database_specific", &database));
	WD_TRY(get_object(c, obj, at, "ecosystem_specific", &ecosystem));
	osv_severity_resolve(c->json, severity, database, ecosystem, c->arena,
		&affected->severity);
	return 0;
}

static int parse_affected_array(struct ctx *c, struct osv_record *record)
{
	struct osv_field field = { NULL, "affected", 0 };
	uint32_t array, item;
	int found;

	found = member(c, 0, &field, &array);
	if (found <= 0)
		return found;
	if (!is_type(c, array, OSV_JSON_ARRAY))
		return bad(c, &field, "expected an array");
	record->affected = osv_arena_array(c->arena, token(c, array)->count,
		sizeof(*record->affected));
	if (!record->affected && token(c, array)->count)
		return no_memory(c);
	record->affected_count = token(c, array)->count;

	item = osv_json_first_child(array);
	for (uint32_t i = 0; i < record->affected_count; i++) {
		struct osv_field element = { &field, NULL, i };

		WD_TRY(parse_affected(c, item, &element, record, &record->affected[i]));
		item = token(c, item)->next;
	}
	return 0;
}

/* Reads an RFC 3339 time member of the record. */
static int get_time(struct ctx *c, const char *key, bool required, const char **ret_text)
{
	struct osv_field field = { NULL, key, 0 };
	int64_t seconds;

	WD_TRY(get_string(c, 0, NULL, key, required, ID_MAX_BYTES, ret_text));
	if (*ret_text && wd_time_parse(*ret_text, &seconds, NULL) < 0)
		return bad(c, &field, "invalid RFC 3339 time \"%.64s\"", *ret_text);
	return 0;
}

/* The schema's versions are semver; a new major version may change the
 * meaning of fields, so only 1.x is read. */
static int check_schema_version(struct ctx *c)
{
	struct osv_field field = { NULL, "schema_version", 0 };
	const char *version;

	WD_TRY(get_string(c, 0, NULL, "schema_version", false, ID_MAX_BYTES, &version));
	if (version && strncmp(version, "1.", 2) && strcmp(version, "1"))
		return bad(c, &field, "unsupported version \"%.64s\"; expected 1.x", version);
	return 0;
}

/* Ids appear in terminals and reports, so control characters are
 * rejected. */
static int check_id(struct ctx *c, const char *id)
{
	struct osv_field field = { NULL, "id", 0 };

	if (!id[0])
		return bad(c, &field, "empty");
	for (const unsigned char *p = (const unsigned char *)id; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return bad(c, &field, "control character");
	}
	return 0;
}

int osv_record_parse(const struct osv_json *json, const char *path, struct osv_arena *arena,
	struct osv_record **ret_record, struct wd_error *err)
{
	struct ctx c = { .json = json, .arena = arena, .err = err };
	struct osv_record *record;
	uint32_t severity, database;
	size_t path_size = strlen(path) + 1;
	char *path_copy;

	*ret_record = NULL;
	if (!json->count || json->tokens[0].type != OSV_JSON_OBJECT)
		return bad(&c, NULL, "expected a JSON object");
	record = osv_arena_array(arena, 1, sizeof(*record));
	path_copy = osv_arena_alloc(arena, path_size);
	if (!record || !path_copy)
		return no_memory(&c);
	memcpy(path_copy, path, path_size);
	record->path = path_copy;

	WD_TRY(check_schema_version(&c));
	WD_TRY(get_string(&c, 0, NULL, "id", true, ID_MAX_BYTES, &record->id));
	WD_TRY(check_id(&c, record->id));
	WD_TRY(get_time(&c, "modified", true, &record->modified));
	WD_TRY(get_time(&c, "published", false, &record->published));
	WD_TRY(get_time(&c, "withdrawn", false, &record->withdrawn));
	WD_TRY(get_string(&c, 0, NULL, "summary", false, TEXT_MAX_BYTES, &record->summary));
	WD_TRY(get_strings(&c, 0, NULL, "aliases", ID_MAX_BYTES, &record->aliases,
		&record->alias_count));
	WD_TRY(get_severity_array(&c, 0, NULL, &severity));
	WD_TRY(get_object(&c, 0, NULL, "database_specific", &database));
	osv_severity_resolve(json, severity, database, 0, arena, &record->severity);
	WD_TRY(parse_affected_array(&c, record));

	*ret_record = record;
	return 0;
}
