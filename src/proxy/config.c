/* The proxy's configuration: defaults, the YAML file and its checks. The
 * file is read into a value tree first, so every key can be checked against
 * the schema and a bad one is named with its full path
 * ("listeners[1].listen") before anything is applied. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/config.h"
#include "common/file.h"
#include "policy/value.h"
#include "proxy/proxy.h"

#define CONFIG_FILE_MAX (1024 * 1024)

void proxy_config_init(struct proxy_config *config)
{
	memset(config, 0, sizeof(*config));
	config->workers = 0;
	config->max_connections = 10000;
	config->buffer_bytes = 16 * 1024;
	config->max_head_bytes = 8 * 1024;
	config->max_headers = 100;
	config->timeouts.handshake_ms = 10000;
	config->timeouts.header_ms = 10000;
	config->timeouts.idle_ms = 300000;
	config->timeouts.total_ms = 0;
	config->timeouts.connect_ms = 5000;
	config->session_resumption = true;
	config->audit_allow_sample = 100;
}

static void free_strings(char **items, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(items[i]);
	free(items);
}

static void listener_free(struct proxy_listener_config *l)
{
	free(l->name);
	free(l->listen);
	free(l->target);
	free(l->server_name);
	free_strings(l->patterns, l->pattern_count);
	memset(l, 0, sizeof(*l));
}

void proxy_config_free(struct proxy_config *config)
{
	for (size_t i = 0; i < config->listener_count; i++)
		listener_free(&config->listeners[i]);
	free(config->workload_api_socket);
	free(config->cert_path);
	free(config->key_path);
	free(config->bundle_path);
	free(config->crl_path);
	free(config->policy_path);
	free(config->policy_server);
	free(config->policy_server_id);
	free(config->decision);
	free(config->jwks_path);
	free(config->jwt_issuer);
	free_strings(config->jwt_audiences, config->jwt_audience_count);
	free(config->metrics_listen);
	free(config->access_log);
	free(config->audit_path);
	proxy_config_init(config);
}

static char **copy_strings(char *const *items, size_t count)
{
	char **copy = calloc(count ? count : 1, sizeof(char *));

	if (!copy)
		return NULL;
	for (size_t i = 0; i < count; i++) {
		copy[i] = strdup(items[i]);
		if (!copy[i]) {
			free_strings(copy, i);
			return NULL;
		}
	}
	return copy;
}

int proxy_config_add_listener(struct proxy_config *config,
	const struct proxy_listener_config *listener, struct wd_error *err)
{
	struct proxy_listener_config *l;
	char name[32];

	if (config->listener_count == PROXY_MAX_LISTENERS)
		return wd_error_set(err, WD_ECONFIG, "more than %d listeners", PROXY_MAX_LISTENERS);
	l = &config->listeners[config->listener_count];
	*l = *listener;
	(void)snprintf(name, sizeof(name), "listener%zu", config->listener_count + 1);
	l->name = strdup(listener->name ? listener->name : name);
	l->listen = listener->listen ? strdup(listener->listen) : NULL;
	l->target = listener->target ? strdup(listener->target) : NULL;
	l->server_name = listener->server_name ? strdup(listener->server_name) : NULL;
	l->patterns = copy_strings(listener->patterns, listener->pattern_count);
	if (!l->name || (listener->listen && !l->listen) || (listener->target && !l->target) ||
	    (listener->server_name && !l->server_name) || !l->patterns) {
		listener_free(l);
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	}
	config->listener_count++;
	return 0;
}

/* Walks a value tree for one file. */
struct reader {
	const char *file;
	struct wd_error *err;
	int rc;
};

static int fail(struct reader *r, const char *key, const char *fmt, const char *value)
{
	if (r->rc == 0)
		r->rc = wd_error_set(r->err, WD_ECONFIG, "%s: %s: %s%s%.200s%s", r->file, key, fmt,
			value ? " '" : "", value ? value : "", value ? "'" : "");
	return r->rc;
}

/* Rejects keys of obj that are not in allowed, naming the first. */
static void check_keys(struct reader *r, const struct rv *obj, const char *prefix,
	const char *const *allowed)
{
	for (size_t i = 0; i < rv_count(obj) && r->rc == 0; i++) {
		struct rv *key, *value;
		bool known = false;
		char path[160];

		rv_map_at(obj, i, &key, &value);
		for (const char *const *a = allowed; *a; a++)
			known |= rv_is(key, RV_STRING) && strcmp(rv_str(key), *a) == 0;
		if (known)
			continue;
		(void)snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "",
			rv_is(key, RV_STRING) ? rv_str(key) : "?");
		(void)fail(r, path, "unknown key", NULL);
	}
}

static void read_string(struct reader *r, const struct rv *obj, const char *name,
	const char *path, char **ret)
{
	struct rv *v = rv_object_get_str(obj, name);

	if (!v || r->rc)
		return;
	if (!rv_is(v, RV_STRING) || rv_str_len(v) == 0) {
		(void)fail(r, path, "expected a non-empty string", NULL);
		return;
	}
	free(*ret);
	*ret = strdup(rv_str(v));
	if (!*ret)
		r->rc = wd_error_set(r->err, WD_ENOMEM, "out of memory");
}

static void read_strings(struct reader *r, const struct rv *obj, const char *name,
	const char *path, char ***ret_items, size_t *ret_count)
{
	struct rv *v = rv_object_get_str(obj, name);
	char **items;
	size_t count;

	if (!v || r->rc)
		return;
	if (!rv_is(v, RV_ARRAY) || rv_array_len(v) > PROXY_MAX_PATTERNS) {
		(void)fail(r, path, "expected a list of at most 256 strings", NULL);
		return;
	}
	count = rv_array_len(v);
	items = calloc(count ? count : 1, sizeof(char *));
	if (!items) {
		r->rc = wd_error_set(r->err, WD_ENOMEM, "out of memory");
		return;
	}
	for (size_t i = 0; i < count; i++) {
		struct rv *item = rv_array_at(v, i);

		if (!rv_is(item, RV_STRING) || rv_str_len(item) == 0) {
			free_strings(items, i);
			(void)fail(r, path, "expected a list of non-empty strings", NULL);
			return;
		}
		items[i] = strdup(rv_str(item));
		if (!items[i]) {
			free_strings(items, i);
			r->rc = wd_error_set(r->err, WD_ENOMEM, "out of memory");
			return;
		}
	}
	free_strings(*ret_items, *ret_count);
	*ret_items = items;
	*ret_count = count;
}

static void read_uint(struct reader *r, const struct rv *obj, const char *name, const char *path,
	uint64_t min, uint64_t max, uint64_t *ret)
{
	struct rv *v = rv_object_get_str(obj, name);
	int64_t n;

	if (!v || r->rc)
		return;
	if (rv_is(v, RV_STRING)) {
		uint64_t bytes;

		if (config_size_parse(rv_str(v), &bytes) == 0 && bytes >= min && bytes <= max) {
			*ret = bytes;
			return;
		}
		(void)fail(r, path, "invalid value", rv_str(v));
		return;
	}
	if (!rv_is(v, RV_NUMBER) || !rv_number_to_i64(v, &n) || n < 0 || (uint64_t)n < min ||
	    (uint64_t)n > max) {
		char range[80];

		(void)snprintf(range, sizeof(range), "expected a whole number from %llu to %llu",
			(unsigned long long)min, (unsigned long long)max);
		(void)fail(r, path, range, NULL);
		return;
	}
	*ret = (uint64_t)n;
}

/* Parses "250ms", "10s", "5m", "1h" or a number of seconds. */
static bool parse_duration_ms(const struct rv *v, uint64_t *ret_ms)
{
	const char *text;
	char *end;
	unsigned long long n;
	uint64_t scale;

	if (rv_is(v, RV_NUMBER)) {
		int64_t s;

		if (!rv_number_to_i64(v, &s) || s < 0 || s > 86400 * 365)
			return false;
		*ret_ms = (uint64_t)s * 1000;
		return true;
	}
	if (!rv_is(v, RV_STRING))
		return false;
	text = rv_str(v);
	if (*text < '0' || *text > '9')
		return false;
	n = strtoull(text, &end, 10);
	if (strcmp(end, "ms") == 0)
		scale = 1;
	else if (strcmp(end, "s") == 0 || *end == '\0')
		scale = 1000;
	else if (strcmp(end, "m") == 0)
		scale = 60000;
	else if (strcmp(end, "h") == 0)
		scale = 3600000;
	else
		return false;
	if (n > 86400ull * 365 * 1000 / scale)
		return false;
	*ret_ms = n * scale;
	return true;
}

static void read_duration(struct reader *r, const struct rv *obj, const char *name,
	const char *path, unsigned *ret_ms)
{
	struct rv *v = rv_object_get_str(obj, name);
	uint64_t ms;

	if (!v || r->rc)
		return;
	if (!parse_duration_ms(v, &ms) || ms > UINT32_MAX) {
		(void)fail(r, path, "expected a duration such as 500ms, 10s or 5m",
			rv_is(v, RV_STRING) ? rv_str(v) : NULL);
		return;
	}
	*ret_ms = (unsigned)ms;
}

static void read_bool(struct reader *r, const struct rv *obj, const char *name, const char *path,
	bool *ret)
{
	struct rv *v = rv_object_get_str(obj, name);

	if (!v || r->rc)
		return;
	if (!rv_is(v, RV_BOOL)) {
		(void)fail(r, path, "expected true or false", NULL);
		return;
	}
	*ret = rv_is_true(v);
}

static const struct rv *section(struct reader *r, const struct rv *root, const char *name,
	const char *const *allowed)
{
	struct rv *v = rv_object_get_str(root, name);

	if (!v || r->rc)
		return NULL;
	if (!rv_is(v, RV_OBJECT)) {
		(void)fail(r, name, "expected a mapping", NULL);
		return NULL;
	}
	check_keys(r, v, name, allowed);
	return v;
}

static void read_listener(struct reader *r, const struct rv *v, size_t index,
	struct proxy_config *config)
{
	static const char *const keys[] = { "name", "direction", "protocol", "listen", "forward",
		"upstream", "server_name", "allow", "expect", "policy", NULL };
	struct proxy_listener_config l = { 0 };
	char prefix[32], path[80];
	char *direction = NULL, *protocol = NULL;

	(void)snprintf(prefix, sizeof(prefix), "listeners[%zu]", index);
	if (!rv_is(v, RV_OBJECT)) {
		(void)fail(r, prefix, "expected a mapping", NULL);
		return;
	}
	check_keys(r, v, prefix, keys);
#define PATH(key) (snprintf(path, sizeof(path), "%s.%s", prefix, key), path)
	read_string(r, v, "name", PATH("name"), &l.name);
	read_string(r, v, "direction", PATH("direction"), &direction);
	read_string(r, v, "protocol", PATH("protocol"), &protocol);
	read_string(r, v, "listen", PATH("listen"), &l.listen);
	read_string(r, v, "server_name", PATH("server_name"), &l.server_name);
	read_bool(r, v, "policy", PATH("policy"), &l.use_policy);
	if (r->rc)
		goto out;

	if (!direction || strcmp(direction, "inbound") == 0) {
		l.direction = PROXY_INBOUND;
		read_string(r, v, "forward", PATH("forward"), &l.target);
		read_strings(r, v, "allow", PATH("allow"), &l.patterns, &l.pattern_count);
		if (rv_object_get_str(v, "upstream") || rv_object_get_str(v, "expect"))
			(void)fail(r, PATH("upstream"),
				"inbound listeners take 'forward' and 'allow'", NULL);
	} else if (strcmp(direction, "outbound") == 0) {
		l.direction = PROXY_OUTBOUND;
		read_string(r, v, "upstream", PATH("upstream"), &l.target);
		read_strings(r, v, "expect", PATH("expect"), &l.patterns, &l.pattern_count);
		if (rv_object_get_str(v, "forward") || rv_object_get_str(v, "allow"))
			(void)fail(r, PATH("forward"),
				"outbound listeners take 'upstream' and 'expect'", NULL);
	} else {
		(void)fail(r, PATH("direction"), "expected inbound or outbound, got", direction);
	}
	if (!protocol || strcmp(protocol, "tcp") == 0)
		l.protocol = PROXY_TCP;
	else if (strcmp(protocol, "http") == 0)
		l.protocol = PROXY_HTTP;
	else
		(void)fail(r, PATH("protocol"), "expected tcp or http, got", protocol);
	if (!l.listen)
		(void)fail(r, PATH("listen"), "missing", NULL);
	if (!l.target)
		(void)fail(r, PATH(l.direction == PROXY_INBOUND ? "forward" : "upstream"), "missing",
			NULL);
#undef PATH
	if (r->rc == 0)
		r->rc = proxy_config_add_listener(config, &l, r->err);
out:
	free(direction);
	free(protocol);
	listener_free(&l);
}

static void read_root(struct reader *r, const struct rv *root, struct proxy_config *c)
{
	static const char *const root_keys[] = { "identity", "policy", "jwt", "workers",
		"max_connections", "buffer_size", "max_head_bytes", "max_headers", "timeouts",
		"session_resumption", "metrics_listen", "access_log", "audit", "listeners", NULL };
	static const char *const identity_keys[] = { "workload_api_socket", "cert", "key",
		"bundle", "crl", NULL };
	static const char *const policy_keys[] = { "path", "server", "server_id", "decision",
		NULL };
	static const char *const jwt_keys[] = { "jwks", "issuer", "audiences", NULL };
	static const char *const timeout_keys[] = { "handshake", "header", "idle", "total",
		"connect", NULL };
	static const char *const audit_keys[] = { "path", "allow_sample", NULL };
	const struct rv *s;
	struct rv *listeners;
	uint64_t n;

	if (!rv_is(root, RV_OBJECT)) {
		(void)fail(r, "(top level)", "expected a mapping", NULL);
		return;
	}
	check_keys(r, root, "", root_keys);

	if ((s = section(r, root, "identity", identity_keys))) {
		read_string(r, s, "workload_api_socket", "identity.workload_api_socket",
			&c->workload_api_socket);
		read_string(r, s, "cert", "identity.cert", &c->cert_path);
		read_string(r, s, "key", "identity.key", &c->key_path);
		read_string(r, s, "bundle", "identity.bundle", &c->bundle_path);
		read_string(r, s, "crl", "identity.crl", &c->crl_path);
	}
	if ((s = section(r, root, "policy", policy_keys))) {
		read_string(r, s, "path", "policy.path", &c->policy_path);
		read_string(r, s, "server", "policy.server", &c->policy_server);
		read_string(r, s, "server_id", "policy.server_id", &c->policy_server_id);
		read_string(r, s, "decision", "policy.decision", &c->decision);
	}
	if ((s = section(r, root, "jwt", jwt_keys))) {
		read_string(r, s, "jwks", "jwt.jwks", &c->jwks_path);
		read_string(r, s, "issuer", "jwt.issuer", &c->jwt_issuer);
		read_strings(r, s, "audiences", "jwt.audiences", &c->jwt_audiences,
			&c->jwt_audience_count);
	}
	if ((s = section(r, root, "timeouts", timeout_keys))) {
		read_duration(r, s, "handshake", "timeouts.handshake", &c->timeouts.handshake_ms);
		read_duration(r, s, "header", "timeouts.header", &c->timeouts.header_ms);
		read_duration(r, s, "idle", "timeouts.idle", &c->timeouts.idle_ms);
		read_duration(r, s, "total", "timeouts.total", &c->timeouts.total_ms);
		read_duration(r, s, "connect", "timeouts.connect", &c->timeouts.connect_ms);
	}
	if ((s = section(r, root, "audit", audit_keys))) {
		read_string(r, s, "path", "audit.path", &c->audit_path);
		n = c->audit_allow_sample;
		read_uint(r, s, "allow_sample", "audit.allow_sample", 0, 1000000, &n);
		c->audit_allow_sample = (unsigned)n;
	}

	n = c->workers;
	read_uint(r, root, "workers", "workers", 0, 256, &n);
	c->workers = (unsigned)n;
	n = c->max_connections;
	read_uint(r, root, "max_connections", "max_connections", 1, 1000000, &n);
	c->max_connections = (unsigned)n;
	n = c->buffer_bytes;
	read_uint(r, root, "buffer_size", "buffer_size", 4096, 1 << 24, &n);
	c->buffer_bytes = (size_t)n;
	n = c->max_head_bytes;
	read_uint(r, root, "max_head_bytes", "max_head_bytes", 1024, 1 << 20, &n);
	c->max_head_bytes = (size_t)n;
	n = c->max_headers;
	read_uint(r, root, "max_headers", "max_headers", 1, 256, &n);
	c->max_headers = (unsigned)n;
	read_bool(r, root, "session_resumption", "session_resumption", &c->session_resumption);
	read_string(r, root, "metrics_listen", "metrics_listen", &c->metrics_listen);
	read_string(r, root, "access_log", "access_log", &c->access_log);

	listeners = rv_object_get_str(root, "listeners");
	if (listeners && r->rc == 0) {
		if (!rv_is(listeners, RV_ARRAY)) {
			(void)fail(r, "listeners", "expected a list of mappings", NULL);
			return;
		}
		for (size_t i = 0; i < rv_array_len(listeners) && r->rc == 0; i++)
			read_listener(r, rv_array_at(listeners, i), i, c);
	}
}

int proxy_config_load_file(struct proxy_config *config, const char *path, struct wd_error *err)
{
	struct reader r = { .file = path, .err = err };
	struct wd_buf parse_err;
	uint8_t *text = NULL;
	size_t len = 0;
	struct rv *root;
	int rc;

	rc = wd_file_read(path, CONFIG_FILE_MAX, &text, &len, err);
	if (rc < 0)
		return rc;
	wd_buf_init(&parse_err, 256, 4096);
	root = rv_parse_yaml_core((const char *)text, len, &parse_err);
	free(text);
	if (!root) {
		rc = wd_error_set(err, WD_ECONFIG, "%s: %s", path, wd_buf_str(&parse_err));
		wd_buf_free(&parse_err);
		return rc;
	}
	wd_buf_free(&parse_err);

	read_root(&r, root, config);
	rv_unref(root);
	return r.rc;
}

int proxy_config_validate(const struct proxy_config *config, struct wd_error *err)
{
	bool files = config->cert_path || config->key_path || config->bundle_path;
	bool need_policy = false;

	if (config->listener_count == 0)
		return wd_error_set(err, WD_ECONFIG,
			"no listener: give --inbound or --outbound, or listeners in the file");
	if (config->workload_api_socket && files)
		return wd_error_set(err, WD_ECONFIG,
			"give either the Workload API socket or certificate files, not both");
	if (!config->workload_api_socket &&
	    (!config->cert_path || !config->key_path || !config->bundle_path))
		return wd_error_set(err, WD_ECONFIG,
			"no identity: give the Workload API socket, or cert, key and bundle files");
	if (config->buffer_bytes < config->max_head_bytes + 4096)
		return wd_error_set(err, WD_ECONFIG,
			"buffer_size %zu must exceed max_head_bytes %zu by at least 4096",
			config->buffer_bytes, config->max_head_bytes);

	for (size_t i = 0; i < config->listener_count; i++) {
		const struct proxy_listener_config *l = &config->listeners[i];

		for (size_t j = 0; j < l->pattern_count; j++) {
			int rc = proxy_pattern_validate(l->patterns[j], err);

			if (rc < 0)
				return rc;
		}
		if (l->use_policy && l->protocol != PROXY_HTTP)
			return wd_error_set(err, WD_ECONFIG,
				"listener %s: a policy needs protocol http", l->name);
		need_policy |= l->use_policy;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(config->listeners[j].name, l->name) == 0)
				return wd_error_set(err, WD_ECONFIG,
					"two listeners are named %s", l->name);
		}
	}
	if (need_policy && !config->policy_path && !config->policy_server)
		return wd_error_set(err, WD_ECONFIG,
			"a listener uses the policy but no policy path or server is set");
	if (config->policy_path && config->policy_server)
		return wd_error_set(err, WD_ECONFIG,
			"give either a policy path or a policy server, not both");
	return 0;
}
