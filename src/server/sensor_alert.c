/* POST /v1/sensor/alerts and /v1/sensor/responses: a runtime sensor's
 * Falco alerts and the responses it took, written to the audit chain. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/log.h"
#include "net/net_json.h"
#include "server/server_internal.h"

/* Bounds of an alert's fields, in bytes or items. Falco's own alerts stay
 * far below them; a bigger one is refused rather than cut. */
#define ALERT_RULE_MAX 1024
#define ALERT_OUTPUT_MAX 8192
#define ALERT_TIME_MAX 64
#define ALERT_HOSTNAME_MAX 255
#define ALERT_SOURCE_MAX 64
#define ALERT_TAG_MAX 128
#define ALERT_TAGS_MAX 64
#define ALERT_FIELDS_MAX 256
#define ALERT_FIELD_NAME_MAX 256
#define ALERT_FIELD_VALUE_MAX 4096
#define ALERT_RESPONSES_MAX 16
#define ALERT_RESPONSE_VALUE_MAX 1024

/* Falco's priorities, as its JSON output spells them. */
static const char *const priorities[] = {
	"Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational", "Debug",
};

static const char *const alert_fields[] = {
	"rule", "priority", "output", "output_fields", "time", "hostname", "tags", "source",
	"responses",
};

/* The fields of the sensor's response records ("result" is "success",
 * "dry-run" or "error"), and the outcome and detail a caller may add. */
static const char *const response_fields[] = {
	"action", "cgroup", "detail", "dry_run", "error", "hostname", "outcome", "pid", "result",
	"rule", "target", "time", "type",
};

static int check_priority(const char *priority, struct wd_error *err)
{
	for (size_t i = 0; i < WD_ARRAY_LEN(priorities); i++) {
		if (!strcasecmp(priority, priorities[i]))
			return 0;
	}
	return wd_error_set(err, WD_EINVAL, "invalid \"priority\" \"%.64s\": expected one of "
		"Emergency, Alert, Critical, Error, Warning, Notice, Informational, Debug",
		priority);
}

/* output_fields maps Falco field names ("proc.name") to scalars. */
static int check_output_fields(const json_t *fields, struct wd_error *err)
{
	const char *name;
	json_t *value;

	if (!fields || json_is_null(fields))
		return 0;
	if (!json_is_object(fields))
		return wd_error_set(err, WD_EINVAL, "invalid \"output_fields\": expected an object");
	if (json_object_size(fields) > ALERT_FIELDS_MAX)
		return wd_error_set(err, WD_EINVAL, "invalid \"output_fields\": %zu fields, at most %d",
			json_object_size(fields), ALERT_FIELDS_MAX);
	json_object_foreach((json_t *)fields, name, value) {
		if (strlen(name) > ALERT_FIELD_NAME_MAX)
			return wd_error_set(err, WD_EINVAL, "invalid \"output_fields\": a field name is "
				"longer than %d bytes", ALERT_FIELD_NAME_MAX);
		if (json_is_object(value) || json_is_array(value))
			return wd_error_set(err, WD_EINVAL, "invalid \"output_fields\".\"%.64s\": "
				"expected a string, number, boolean or null", name);
		if (json_is_string(value) && json_string_length(value) > ALERT_FIELD_VALUE_MAX)
			return wd_error_set(err, WD_EINVAL, "invalid \"output_fields\".\"%.64s\": "
				"longer than %d bytes", name, ALERT_FIELD_VALUE_MAX);
	}
	return 0;
}

static int check_tags(const json_t *alert, struct wd_error *err)
{
	const char **tags = NULL;
	size_t count = 0;
	int rc;

	rc = net_json_get_string_array(alert, "tags", false, ALERT_TAGS_MAX, ALERT_TAG_MAX, &tags,
		&count, err);
	free(tags);
	return rc < 0 ? rc : 0;
}

/* A response record: what the sensor did about the alert ("kill",
 * "quarantine", "revoke", "notify") and how it went. */
static int check_response(const json_t *response, const char *label, struct wd_error *err)
{
	struct wd_error detail;
	const char *text = NULL;
	const char *name;
	json_t *value;

	wd_error_clear(&detail);
	if (!json_is_object(response))
		return wd_error_set(err, WD_EINVAL, "invalid %s: expected an object", label);
	if (net_json_check_fields(response, response_fields, WD_ARRAY_LEN(response_fields),
		&detail) < 0 ||
	    net_json_get_string(response, "action", true, 64, &text, &detail) < 0)
		return wd_error_set(err, WD_EINVAL, "invalid %s: %s", label, wd_error_text(&detail));
	json_object_foreach((json_t *)response, name, value) {
		if (json_is_object(value) || json_is_array(value) ||
		    (json_is_string(value) && json_string_length(value) > ALERT_RESPONSE_VALUE_MAX))
			return wd_error_set(err, WD_EINVAL, "invalid %s field \"%s\": expected a "
				"string of at most %d bytes, a number or a boolean", label, name,
				ALERT_RESPONSE_VALUE_MAX);
	}
	return 0;
}

static int check_responses(const json_t *responses, struct wd_error *err)
{
	size_t index;
	json_t *response;

	if (!responses || json_is_null(responses))
		return 0;
	if (!json_is_array(responses))
		return wd_error_set(err, WD_EINVAL, "invalid \"responses\": expected an array");
	if (json_array_size(responses) > ALERT_RESPONSES_MAX)
		return wd_error_set(err, WD_EINVAL, "invalid \"responses\": %zu records, at most %d",
			json_array_size(responses), ALERT_RESPONSES_MAX);
	json_array_foreach(responses, index, response) {
		char label[48];

		snprintf(label, sizeof(label), "\"responses\"[%zu]", index);
		WD_TRY(check_response(response, label, err));
	}
	return 0;
}

int sensor_alert_check(const json_t *alert, const char **ret_rule, struct wd_error *err)
{
	const char *rule = NULL;
	const char *text = NULL;

	*ret_rule = NULL;
	WD_TRY(net_json_check_fields(alert, alert_fields, WD_ARRAY_LEN(alert_fields), err));
	WD_TRY(net_json_get_string(alert, "rule", true, ALERT_RULE_MAX, &rule, err));
	if (!rule[0])
		return wd_error_set(err, WD_EINVAL, "invalid \"rule\": empty");
	WD_TRY(net_json_get_string(alert, "priority", true, 32, &text, err));
	WD_TRY(check_priority(text, err));
	WD_TRY(net_json_get_string(alert, "output", true, ALERT_OUTPUT_MAX, &text, err));
	WD_TRY(net_json_get_string(alert, "time", true, ALERT_TIME_MAX, &text, err));
	WD_TRY(net_json_get_string(alert, "hostname", false, ALERT_HOSTNAME_MAX, &text, err));
	WD_TRY(net_json_get_string(alert, "source", false, ALERT_SOURCE_MAX, &text, err));
	WD_TRY(check_tags(alert, err));
	WD_TRY(check_output_fields(json_object_get(alert, "output_fields"), err));
	WD_TRY(check_responses(json_object_get(alert, "responses"), err));
	*ret_rule = rule;
	return 0;
}

/* The audit record's detail: the alert as compact JSON with sorted keys.
 * An alert longer than AUDIT_FIELD_MAX keeps its priority, time, hostname,
 * source, tags and responses, the output cut to what fits, and
 * "truncated": true. It drops output_fields, because the output repeats
 * them. */
int sensor_alert_detail(const json_t *alert, char **ret_detail)
{
	static const char *const kept[] = {
		"priority", "time", "hostname", "source", "tags", "responses",
	};
	json_t *copy = NULL;
	char *text;
	const char *output;
	size_t room;

	*ret_detail = NULL;
	text = json_dumps(alert, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text)
		return WD_ENOMEM;
	if (strlen(text) <= AUDIT_FIELD_MAX) {
		*ret_detail = text;
		return 0;
	}
	free(text);

	copy = json_object();
	if (!copy)
		return WD_ENOMEM;
	for (size_t i = 0; i < WD_ARRAY_LEN(kept); i++) {
		json_t *value = json_object_get(alert, kept[i]);

		if (value && json_object_set(copy, kept[i], value) != 0)
			goto oom;
	}
	if (json_object_set_new(copy, "truncated", json_true()) != 0)
		goto oom;
	text = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text)
		goto oom;
	/* What is left for the output, with room for its key, quotes and the
	 * worst case of JSON escaping (6 bytes per byte). */
	room = strlen(text) + 64 < AUDIT_FIELD_MAX ? (AUDIT_FIELD_MAX - strlen(text) - 64) / 6 : 0;
	free(text);
	output = json_string_value(json_object_get(alert, "output"));
	if (output && room > 0) {
		size_t len = strnlen(output, room);

		/* Never cut a UTF-8 sequence in two. */
		while (len > 0 && len < strlen(output) && ((unsigned char)output[len] & 0xc0) == 0x80)
			len--;
		if (json_object_set_new(copy, "output", json_stringn(output, len)) != 0)
			goto oom;
	}
	text = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(copy);
	if (!text)
		return WD_ENOMEM;
	if (strlen(text) > AUDIT_FIELD_MAX) {
		free(text);
		text = wd_strdup("{\"truncated\":true}");
		if (!text)
			return WD_ENOMEM;
	}
	*ret_detail = text;
	return 0;
oom:
	json_decref(copy);
	return WD_ENOMEM;
}

int sensor_response_check(const json_t *response, struct wd_error *err)
{
	return check_response(response, "response record", err);
}

int handle_sensor_alert(struct net_request *req, void *arg, struct wd_error *err)
{
	struct server_ctx *ctx = arg;
	struct caller caller = { 0 };
	size_t raw_len = 0;
	const char *rule = NULL;
	json_t *alert = NULL;
	json_t *reply = NULL;
	char *detail = NULL;
	int rc;

	WD_GUARD(caller_require_sensor(ctx, req, &caller, err));
	(void)net_request_body(req, &raw_len);
	if (raw_len > SENSOR_ALERT_MAX_BYTES) {
		rc = wd_error_set(err, WD_EINVAL, "alert body is %zu bytes, at most %d", raw_len,
			SENSOR_ALERT_MAX_BYTES);
		goto out;
	}
	WD_GUARD(server_parse_body(req, alert_fields, WD_ARRAY_LEN(alert_fields), &alert, err));
	WD_GUARD(sensor_alert_check(alert, &rule, err));
	WD_ENSURE(sensor_alert_detail(alert, &detail) == 0,
		wd_error_set(err, WD_ENOMEM, "out of memory recording an alert"));

	server_audit(ctx, caller.actor, "sensor.alert", rule, "success", detail);
	log_warn("server", "sensor alert", "actor", caller.actor, "rule", rule, "priority",
		json_string_value(json_object_get(alert, "priority")));

	reply = json_pack("{s:b, s:s}", "recorded", 1, "rule", rule);
	WD_ENSURE(reply, WD_ENOMEM);
	rc = net_reply_json(req, 200, reply);
out:
	if (rc < 0 && caller.actor[0])
		server_audit_failure(ctx, caller.actor, "sensor.alert", rule, err);
	free(detail);
	json_decref(reply);
	json_decref(alert);
	return rc;
}

/* The object of a response's audit record: the process it acted on. */
static void response_object(const json_t *response, char *out, size_t len)
{
	const json_t *pid = json_object_get(response, "pid");

	if (json_is_integer(pid))
		snprintf(out, len, "pid:%" JSON_INTEGER_FORMAT, json_integer_value(pid));
	else
		snprintf(out, len, "-");
}

int handle_sensor_response(struct net_request *req, void *arg, struct wd_error *err)
{
	struct server_ctx *ctx = arg;
	struct caller caller = { 0 };
	char object[64] = "-";
	json_t *response = NULL;
	json_t *reply = NULL;
	char *detail = NULL;
	int rc;

	WD_GUARD(caller_require_sensor(ctx, req, &caller, err));
	WD_GUARD(server_parse_body(req, response_fields, WD_ARRAY_LEN(response_fields), &response,
		err));
	WD_GUARD(sensor_response_check(response, err));
	response_object(response, object, sizeof(object));
	/* Bounded by the checks: 13 fields of at most 1024 bytes each. */
	detail = json_dumps(response, JSON_COMPACT | JSON_SORT_KEYS);
	WD_ENSURE(detail, wd_error_set(err, WD_ENOMEM, "out of memory recording a response"));
	WD_ENSURE(strlen(detail) <= AUDIT_FIELD_MAX, wd_error_set(err, WD_EINVAL,
		"response record is %zu bytes as JSON, at most %d", strlen(detail),
		AUDIT_FIELD_MAX));

	server_audit(ctx, caller.actor, "sensor.response", object, "success", detail);
	reply = json_pack("{s:b}", "recorded", 1);
	WD_ENSURE(reply, WD_ENOMEM);
	rc = net_reply_json(req, 200, reply);
out:
	if (rc < 0 && caller.actor[0])
		server_audit_failure(ctx, caller.actor, "sensor.response", object, err);
	free(detail);
	json_decref(reply);
	json_decref(response);
	return rc;
}
