/* The policy input of one request, built directly as values:
 * {source: {spiffe_id, address}, destination: {spiffe_id},
 *  request: {method, path, query, headers, jwt}}. The path is the raw path
 * as sent, without percent-decoding or dot-segment removal, because that
 * is what the upstream receives. Query names and values are decoded as
 * application/x-www-form-urlencoded ('+' is a space), as OPA's Envoy
 * plugin does. */
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "proxy/authz_internal.h"

static int put_string(struct rv *object, const char *key, const char *value, size_t len)
{
	return rv_object_put(object, rv_cstring(key), rv_string(value, len));
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes text into a new string. A malformed escape leaves the
 * whole component undecoded rather than dropping it, so a parameter the
 * upstream may still see never vanishes from the policy's view. */
static struct rv *form_decode(const char *text, size_t len)
{
	char *out = malloc(len + 1);
	size_t n = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		int high, low;

		if (text[i] == '+') {
			out[n++] = ' ';
			continue;
		}
		if (text[i] != '%') {
			out[n++] = text[i];
			continue;
		}
		high = i + 2 < len ? hex_value(text[i + 1]) : -1;
		low = i + 2 < len ? hex_value(text[i + 2]) : -1;
		if (high < 0 || low < 0) {
			free(out);
			return rv_string(text, len);
		}
		out[n++] = (char)(high << 4 | low);
		i += 2;
	}
	out[n] = '\0';
	return rv_string_take(out, n);
}

static int add_parameter(struct rv *query, const char *pair, size_t len)
{
	const char *equals = memchr(pair, '=', len);
	size_t name_len = equals ? (size_t)(equals - pair) : len;
	struct rv *name = form_decode(pair, name_len);
	struct rv *value = equals ? form_decode(equals + 1, len - name_len - 1) : rv_string("", 0);
	struct rv *values;
	int rc;

	if (!name || !value) {
		rv_unref(name);
		rv_unref(value);
		return WD_ENOMEM;
	}
	values = rv_object_get(query, name);
	if (values) {
		rv_unref(name);
		return rv_array_push(values, value);
	}
	values = rv_array_new(1);
	rc = rv_array_push(values, value);
	if (rc < 0) {
		rv_unref(name);
		rv_unref(values);
		return rc;
	}
	return rv_object_put(query, name, values);
}

/* Parses the query string into {name: [values...]}; empty pairs are
 * skipped, as Go's url.ParseQuery does. */
static struct rv *query_object(const struct http1_slice *query)
{
	struct rv *object = rv_object_new(4);
	size_t start = 0;

	if (!object)
		return NULL;
	for (size_t i = 0; i <= query->len; i++) {
		if (i < query->len && query->ptr[i] != '&')
			continue;
		if (i > start && add_parameter(object, query->ptr + start, i - start) < 0) {
			rv_unref(object);
			return NULL;
		}
		start = i + 1;
	}
	return object;
}

/* Joins a repeated header's values with ", " (RFC 9110 section 5.3). */
static int add_header(struct rv *headers, const struct http1_header *header)
{
	char name[256];
	struct rv *key, *old, *joined;
	size_t old_len, len;
	char *text;

	/* Names longer than this cannot come from a head within the limits
	 * the proxy sets, but are skipped rather than truncated. */
	if (header->name.len >= sizeof(name))
		return 0;
	for (size_t i = 0; i < header->name.len; i++) {
		char c = header->name.ptr[i];

		name[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	key = rv_string(name, header->name.len);
	if (!key)
		return WD_ENOMEM;
	old = rv_object_get(headers, key);
	if (!old)
		return rv_object_put(headers, key, rv_string(header->value.ptr, header->value.len));

	old_len = rv_str_len(old);
	len = old_len + 2 + header->value.len;
	text = malloc(len + 1);
	if (!text) {
		rv_unref(key);
		return WD_ENOMEM;
	}
	memcpy(text, rv_str(old), old_len);
	memcpy(text + old_len, ", ", 2);
	memcpy(text + old_len + 2, header->value.ptr, header->value.len);
	text[len] = '\0';
	joined = rv_string_take(text, len);
	return rv_object_put(headers, key, joined);
}

static struct rv *headers_object(const struct http1_head *head)
{
	struct rv *object = rv_object_new(head->header_count);

	if (!object)
		return NULL;
	for (size_t i = 0; i < head->header_count && i < HTTP1_HEADERS_CAP; i++) {
		if (add_header(object, &head->headers[i]) < 0) {
			rv_unref(object);
			return NULL;
		}
	}
	return object;
}

static struct rv *request_object(const struct http1_head *head, struct rv *jwt_claims)
{
	struct rv *object = rv_object_new(6);
	int rc;

	if (!object)
		return NULL;
	rc = put_string(object, "method", head->method.ptr, head->method.len);
	if (rc == 0)
		rc = put_string(object, "path", head->path.ptr, head->path.len);
	if (rc == 0)
		rc = rv_object_put(object, rv_cstring("query"), query_object(&head->query));
	if (rc == 0)
		rc = rv_object_put(object, rv_cstring("headers"), headers_object(head));
	if (rc == 0 && jwt_claims)
		rc = rv_object_put(object, rv_cstring("jwt"), rv_ref(jwt_claims));
	if (rc < 0) {
		rv_unref(object);
		return NULL;
	}
	return object;
}

static struct rv *peer_object(const char *spiffe_id, const char *address)
{
	struct rv *object = rv_object_new(2);
	int rc = 0;

	if (!object)
		return NULL;
	if (spiffe_id)
		rc = put_string(object, "spiffe_id", spiffe_id, strlen(spiffe_id));
	if (rc == 0 && address)
		rc = put_string(object, "address", address, strlen(address));
	if (rc < 0) {
		rv_unref(object);
		return NULL;
	}
	return object;
}

int authz_input_build(const struct proxy_request_info *request, struct rv *jwt_claims,
	struct rv **ret_input)
{
	struct rv *input = rv_object_new(3);
	int rc;

	*ret_input = NULL;
	if (!input)
		return WD_ENOMEM;
	rc = rv_object_put(input, rv_cstring("source"),
		peer_object(request->source_id, request->source_address));
	if (rc == 0)
		rc = rv_object_put(input, rv_cstring("destination"),
			peer_object(request->destination_id, NULL));
	if (rc == 0 && request->head)
		rc = rv_object_put(input, rv_cstring("request"), request_object(request->head, jwt_claims));
	if (rc < 0) {
		rv_unref(input);
		return rc;
	}
	*ret_input = input;
	return 0;
}

static bool name_is(const struct http1_slice *name, const char *expected)
{
	return name->len == strlen(expected) && strncasecmp(name->ptr, expected, name->len) == 0;
}

bool authz_bearer_token(const struct http1_head *head, const char **ret_token, size_t *ret_len)
{
	const struct http1_header *found = NULL;
	const char *value;
	size_t len, start;

	for (size_t i = 0; i < head->header_count && i < HTTP1_HEADERS_CAP; i++) {
		if (!name_is(&head->headers[i].name, "authorization"))
			continue;
		/* Two Authorization headers may reach the upstream in either
		 * order; neither is trusted. */
		if (found)
			return false;
		found = &head->headers[i];
	}
	if (!found)
		return false;

	/* RFC 6750 section 2.1: "Bearer" (case-insensitive, RFC 9110 section
	 * 11.1), one or more spaces, then the token. */
	value = found->value.ptr;
	len = found->value.len;
	if (len < 7 || strncasecmp(value, "Bearer ", 7) != 0)
		return false;
	start = 7;
	while (start < len && value[start] == ' ')
		start++;
	if (start == len)
		return false;
	*ret_token = value + start;
	*ret_len = len - start;
	return true;
}
