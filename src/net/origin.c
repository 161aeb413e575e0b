/* Parsing of "https://host:port" server URLs, shared by the clients that
 * talk to warden server's APIs. */
#include <stdlib.h>
#include <string.h>

#include "net/net_client.h"

int net_https_origin_parse(const char *url, const char *what, char *host, size_t host_size,
	uint16_t *ret_port, struct wd_error *err)
{
	const char *start, *end, *port_text;
	size_t host_len;
	unsigned long port = 443;
	char *port_end;

	if (!url || strncmp(url, "https://", 8) != 0)
		return wd_error_set(err, WD_ECONFIG, "%s \"%.200s\" does not start with https://",
			what, url ? url : "");
	start = url + 8;
	if (start[0] == '[') {
		end = strchr(start, ']');
		if (!end)
			return wd_error_set(err, WD_ECONFIG, "%s \"%.200s\" has no closing ]", what,
				url);
		start++;
		host_len = (size_t)(end - start);
		port_text = end + 1;
	} else {
		host_len = strcspn(start, ":/");
		port_text = start + host_len;
	}
	if (host_len == 0 || host_len >= host_size)
		return wd_error_set(err, WD_ECONFIG, "%s \"%.200s\" has an invalid host", what, url);

	if (port_text[0] == ':') {
		port = strtoul(port_text + 1, &port_end, 10);
		if (port_end == port_text + 1 || port == 0 || port > 65535)
			return wd_error_set(err, WD_ECONFIG, "%s \"%.200s\" has an invalid port", what,
				url);
		port_text = port_end;
	}
	if (strcmp(port_text, "") != 0 && strcmp(port_text, "/") != 0)
		return wd_error_set(err, WD_ECONFIG,
			"%s \"%.200s\" has a path; give only https://host:port", what, url);

	memcpy(host, start, host_len);
	host[host_len] = '\0';
	*ret_port = (uint16_t)port;
	return 0;
}
