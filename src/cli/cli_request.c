/* Entry request bodies and percent-encoded URLs for the admin API. */
#include <string.h>

#include "cli/cli_request.h"
#include "common/error.h"

static json_t *string_array(const struct cli_strings *list)
{
	json_t *array = json_array();

	if (!array)
		return NULL;
	for (size_t i = 0; i < list->count; i++) {
		if (json_array_append_new(array, json_string(list->items[i])) < 0) {
			json_decref(array);
			return NULL;
		}
	}
	return array;
}

bool cli_entry_options_any(const struct cli_entry_options *options)
{
	return options->spiffe_id || options->parent_id || options->selectors.count > 0 ||
		options->dns_names.count > 0 || options->has_x509_svid_ttl ||
		options->has_jwt_svid_ttl || options->has_admin || options->has_require_signed;
}

int cli_entry_request(const struct cli_entry_options *options, json_t **ret_body)
{
	json_t *body = json_object();
	int failed = 0;

	*ret_body = NULL;
	if (!body)
		return WD_ENOMEM;

	/* json_object_set_new takes the value's reference even when it fails,
	 * so one check at the end covers every member. */
	if (options->spiffe_id)
		failed |= json_object_set_new(body, "spiffe_id", json_string(options->spiffe_id));
	if (options->parent_id)
		failed |= json_object_set_new(body, "parent_id", json_string(options->parent_id));
	if (options->selectors.count > 0)
		failed |= json_object_set_new(body, "selectors", string_array(&options->selectors));
	if (options->dns_names.count > 0)
		failed |= json_object_set_new(body, "dns_names", string_array(&options->dns_names));
	if (options->has_x509_svid_ttl)
		failed |= json_object_set_new(body, "x509_svid_ttl",
			json_integer(options->x509_svid_ttl));
	if (options->has_jwt_svid_ttl)
		failed |= json_object_set_new(body, "jwt_svid_ttl",
			json_integer(options->jwt_svid_ttl));
	if (options->has_admin)
		failed |= json_object_set_new(body, "admin", json_boolean(options->admin));
	if (options->has_require_signed)
		failed |= json_object_set_new(body, "require_signed",
			json_boolean(options->require_signed));
	if (failed) {
		json_decref(body);
		return WD_ENOMEM;
	}

	*ret_body = body;
	return 0;
}

int cli_url_init(struct wd_buf *url, const char *path)
{
	wd_buf_init(url, 256, CLI_URL_MAX);
	return wd_buf_append_str(url, path);
}

/* Appends text with every byte outside RFC 3986 section 2.3's unreserved
 * characters (ALPHA, DIGIT, "-", ".", "_", "~") written as %XX. */
static int append_encoded(struct wd_buf *url, const char *text)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		bool unreserved = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			(*p >= '0' && *p <= '9') || strchr("-._~", *p);

		if (unreserved) {
			WD_TRY(wd_buf_append_byte(url, *p));
		} else {
			const char escaped[3] = { '%', hex[*p >> 4], hex[*p & 0x0f] };

			WD_TRY(wd_buf_append(url, escaped, sizeof(escaped)));
		}
	}
	return 0;
}

int cli_url_append_segment(struct wd_buf *url, const char *segment)
{
	WD_TRY(wd_buf_append_byte(url, '/'));
	return append_encoded(url, segment);
}

int cli_url_append_query(struct wd_buf *url, const char *name, const char *value)
{
	bool first = !memchr(wd_buf_str(url), '?', wd_buf_len(url));

	WD_TRY(wd_buf_append_byte(url, first ? '?' : '&'));
	WD_TRY(append_encoded(url, name));
	WD_TRY(wd_buf_append_byte(url, '='));
	return append_encoded(url, value);
}
