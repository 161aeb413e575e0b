/* Blocking HTTP/1.1 client: one connection (Unix socket or TLS), requests
 * with keep-alive, and responses read through a size ceiling. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/alloc.h"
#include "net/net_client.h"
#include "net/net_private.h"

/* Maximum response headers kept; more fail the response as malformed. */
#define CLIENT_MAX_HEADERS 200u

struct net_client {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	char *host_header;
	bool open;
	unsigned timeout_ms;
	size_t max_response;
	/* Bytes received but not yet consumed; at most max_response + 1. */
	uint8_t *buf;
	size_t buf_len;
	size_t buf_cap;
};

static int io_error(struct net_client *client, int code, struct wd_error *err, const char *what)
{
	client->open = false;
	return wd_error_set(err, code, "%s", what);
}

/* Reads up to len bytes; 0 at end of stream. */
static ssize_t io_read(struct net_client *client, void *dst, size_t len)
{
	if (client->ssl) {
		size_t got = 0;
		int ret = SSL_read_ex(client->ssl, dst, len, &got);

		if (ret == 1)
			return (ssize_t)got;
		switch (SSL_get_error(client->ssl, ret)) {
		case SSL_ERROR_ZERO_RETURN:
			return 0;
		case SSL_ERROR_SYSCALL:
			if (errno == 0)
				return 0;
			return errno == EAGAIN ? -ETIMEDOUT : -EIO;
		default:
			ERR_clear_error();
			return -EPROTO;
		}
	}
	for (;;) {
		ssize_t n = recv(client->fd, dst, len, 0);

		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		return errno == EAGAIN ? -ETIMEDOUT : -EIO;
	}
}

static int io_write_all(struct net_client *client, const void *src, size_t len)
{
	const uint8_t *p = src;

	while (len > 0) {
		size_t sent = 0;

		if (client->ssl) {
			if (SSL_write_ex(client->ssl, p, len, &sent) != 1) {
				ERR_clear_error();
				return errno == EAGAIN ? WD_ETIMEOUT : WD_EIO;
			}
		} else {
			ssize_t n = send(client->fd, p, len, MSG_NOSIGNAL);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return errno == EAGAIN ? WD_ETIMEOUT : WD_EIO;
			sent = (size_t)n;
		}
		p += sent;
		len -= sent;
	}
	return 0;
}

/* Appends received bytes to the buffer. Returns bytes added, 0 at end of
 * stream, WD_ETOOBIG past the ceiling. */
static int buf_fill(struct net_client *client, struct wd_error *err)
{
	ssize_t n;

	if (client->buf_len > client->max_response)
		return wd_error_set(err, WD_ETOOBIG, "response is larger than %zu bytes",
			client->max_response);
	if (client->buf_cap - client->buf_len < 4096 && client->buf_cap <= client->max_response) {
		size_t cap = client->buf_cap ? client->buf_cap * 2 : 16384;
		uint8_t *grown;

		if (cap > client->max_response + 1)
			cap = client->max_response + 1;
		/* Responses carry private keys and tokens, so the old buffer is
		 * wiped rather than left behind by realloc. */
		grown = malloc(cap);
		if (!grown)
			return wd_error_set(err, WD_ENOMEM, "out of memory reading the response");
		if (client->buf_len)
			memcpy(grown, client->buf, client->buf_len);
		if (client->buf)
			OPENSSL_cleanse(client->buf, client->buf_cap);
		free(client->buf);
		client->buf = grown;
		client->buf_cap = cap;
	}
	if (client->buf_cap == client->buf_len)
		return wd_error_set(err, WD_ETOOBIG, "response is larger than %zu bytes",
			client->max_response);

	n = io_read(client, client->buf + client->buf_len, client->buf_cap - client->buf_len);
	if (n == -ETIMEDOUT)
		return wd_error_set(err, WD_ETIMEOUT, "server sent nothing for %u ms",
			client->timeout_ms);
	if (n < 0)
		return wd_error_set(err, WD_EIO, "reading the response failed");
	client->buf_len += (size_t)n;
	return (int)(n > 0);
}

/* Returns the offset just past the first CRLF at or after start, filling
 * the buffer as needed; WD_EIO when the stream ends first. */
static int line_end(struct net_client *client, size_t start, size_t *ret_end,
	struct wd_error *err)
{
	for (;;) {
		const uint8_t *crlf = NULL;

		if (client->buf_len > start)
			crlf = memmem(client->buf + start, client->buf_len - start, "\r\n", 2);
		if (crlf) {
			*ret_end = (size_t)(crlf - client->buf) + 2;
			return 0;
		}
		int rc = buf_fill(client, err);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return wd_error_set(err, WD_EIO, "connection closed before the response "
				"was complete");
	}
}

/* Makes sure bytes [0, end) are in the buffer. */
static int buf_need(struct net_client *client, size_t end, struct wd_error *err)
{
	while (client->buf_len < end) {
		int rc = buf_fill(client, err);

		if (rc < 0)
			return rc;
		if (rc == 0)
			return wd_error_set(err, WD_EIO, "connection closed before the response "
				"was complete");
	}
	return 0;
}

static int parse_status(const char *line, size_t len, int *ret_status)
{
	*ret_status = 0;
	if (len < 12 || memcmp(line, "HTTP/1.", 7) != 0 || line[8] != ' ')
		return WD_EINVAL;
	for (int i = 9; i < 12; i++) {
		if (line[i] < '0' || line[i] > '9')
			return WD_EINVAL;
	}
	*ret_status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
	if (len > 12 && line[12] != ' ')
		return WD_EINVAL;
	return 0;
}

static int header_add(struct net_response *resp, const char *line, size_t len)
{
	const char *colon = memchr(line, ':', len);
	const char *value;
	size_t value_len;
	char **names;
	char **values;

	if (!colon || colon == line || resp->header_count >= CLIENT_MAX_HEADERS)
		return WD_EINVAL;
	value = colon + 1;
	value_len = len - (size_t)(value - line);
	while (value_len > 0 && (*value == ' ' || *value == '\t')) {
		value++;
		value_len--;
	}
	while (value_len > 0 && (value[value_len - 1] == ' ' || value[value_len - 1] == '\t'))
		value_len--;

	names = wd_reallocarray(resp->header_names, resp->header_count + 1, sizeof(char *));
	if (!names)
		return WD_ENOMEM;
	resp->header_names = names;
	values = wd_reallocarray(resp->header_values, resp->header_count + 1, sizeof(char *));
	if (!values)
		return WD_ENOMEM;
	resp->header_values = values;
	names[resp->header_count] = wd_strndup(line, (size_t)(colon - line));
	values[resp->header_count] = wd_strndup(value, value_len);
	resp->header_count++;
	if (!names[resp->header_count - 1] || !values[resp->header_count - 1])
		return WD_ENOMEM;
	return 0;
}

/* Reads the status line and headers; *ret_offset is where the body starts. */
static int read_head(struct net_client *client, struct net_response *resp, size_t *ret_offset,
	struct wd_error *err)
{
	size_t start = 0;
	size_t end;
	int rc;

	rc = line_end(client, 0, &end, err);
	if (rc < 0)
		return rc;
	if (parse_status((const char *)client->buf, end - 2, &resp->status) < 0)
		return wd_error_set(err, WD_EINVAL, "malformed HTTP status line");

	for (start = end;; start = end) {
		rc = line_end(client, start, &end, err);
		if (rc < 0)
			return rc;
		if (end - start == 2)
			break;
		if (header_add(resp, (const char *)client->buf + start, end - start - 2) < 0)
			return wd_error_set(err, WD_EINVAL, "malformed or too many response headers");
	}
	*ret_offset = end;
	return 0;
}

static int body_set(struct net_response *resp, const uint8_t *src, size_t len)
{
	uint8_t *body = malloc(len + 1);

	if (!body)
		return WD_ENOMEM;
	if (len > 0)
		memcpy(body, src, len);
	body[len] = '\0';
	free(resp->body);
	resp->body = body;
	resp->body_len = len;
	return 0;
}

static int parse_size(const char *text, size_t len, int base, size_t *ret_value)
{
	size_t value = 0;

	*ret_value = 0;
	if (len == 0 || len > 16)
		return WD_EINVAL;
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		unsigned digit;

		if (c >= '0' && c <= '9')
			digit = (unsigned)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			digit = (unsigned)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			digit = (unsigned)(c - 'A' + 10);
		else
			return WD_EINVAL;
		if (__builtin_mul_overflow(value, (size_t)base, &value) ||
		    __builtin_add_overflow(value, digit, &value))
			return WD_EINVAL;
	}
	*ret_value = value;
	return 0;
}

/* Decodes a chunked body (RFC 9112 section 7.1) that starts at offset into
 * a compact copy; chunk extensions and trailers are skipped. */
static int read_chunked(struct net_client *client, size_t offset, struct net_response *resp,
	size_t *ret_end, struct wd_error *err)
{
	uint8_t *out = NULL;
	size_t out_len = 0;
	size_t end;
	int rc = 0;

	for (;;) {
		size_t size;
		const char *line;
		size_t line_len;

		WD_GUARD(line_end(client, offset, &end, err));
		line = (const char *)client->buf + offset;
		line_len = end - offset - 2;
		if (memchr(line, ';', line_len))
			line_len = (size_t)((const char *)memchr(line, ';', line_len) - line);
		if (parse_size(line, line_len, 16, &size) < 0 || size > client->max_response) {
			rc = wd_error_set(err, WD_EINVAL, "malformed chunk size");
			goto out;
		}
		offset = end;
		if (size == 0)
			break;
		WD_GUARD(buf_need(client, offset + size + 2, err));
		if (memcmp(client->buf + offset + size, "\r\n", 2) != 0) {
			rc = wd_error_set(err, WD_EINVAL, "chunk does not end with CRLF");
			goto out;
		}
		if (out_len + size > client->max_response) {
			rc = wd_error_set(err, WD_ETOOBIG, "response is larger than %zu bytes",
				client->max_response);
			goto out;
		}
		uint8_t *grown = realloc(out, out_len + size);
		WD_ENSURE(grown, WD_ENOMEM);
		out = grown;
		memcpy(out + out_len, client->buf + offset, size);
		out_len += size;
		offset += size + 2;
	}
	/* Trailer section: lines until an empty one. */
	for (;;) {
		WD_GUARD(line_end(client, offset, &end, err));
		if (end - offset == 2)
			break;
		offset = end;
	}
	*ret_end = end;
	rc = body_set(resp, out, out_len);
out:
	free(out);
	return rc;
}

static int read_until_close(struct net_client *client, size_t offset, struct net_response *resp,
	size_t *ret_end, struct wd_error *err)
{
	int rc;

	while ((rc = buf_fill(client, err)) > 0)
		;
	if (rc < 0)
		return rc;
	client->open = false;
	*ret_end = client->buf_len;
	return body_set(resp, client->buf + offset, client->buf_len - offset);
}

static int read_body(struct net_client *client, const char *method, size_t offset,
	struct net_response *resp, size_t *ret_end, struct wd_error *err)
{
	const char *encoding = net_response_header(resp, "Transfer-Encoding");
	const char *length = net_response_header(resp, "Content-Length");
	size_t len;
	int rc;

	*ret_end = offset;
	if (strcmp(method, "HEAD") == 0 || resp->status / 100 == 1 || resp->status == 204 ||
	    resp->status == 304)
		return body_set(resp, NULL, 0);
	if (encoding) {
		if (strcasecmp(encoding, "chunked") != 0)
			return wd_error_set(err, WD_EINVAL, "unsupported Transfer-Encoding");
		return read_chunked(client, offset, resp, ret_end, err);
	}
	if (!length)
		return read_until_close(client, offset, resp, ret_end, err);
	if (parse_size(length, strlen(length), 10, &len) < 0)
		return wd_error_set(err, WD_EINVAL, "malformed Content-Length");
	if (len > client->max_response)
		return wd_error_set(err, WD_ETOOBIG, "response is larger than %zu bytes",
			client->max_response);
	rc = buf_need(client, offset + len, err);
	if (rc < 0)
		return rc;
	*ret_end = offset + len;
	return body_set(resp, client->buf + offset, len);
}

static int request_head(struct net_client *client, const char *method, const char *path,
	const char *const *extra_headers, size_t extra_count, const char *content_type,
	size_t body_len, char **ret_head, struct wd_error *err)
{
	char *head = NULL;
	size_t head_len = 0;
	FILE *stream;

	*ret_head = NULL;
	if (!method || !path || path[0] != '/' || strpbrk(method, " \r\n") ||
	    strpbrk(path, " \r\n") || (content_type && strpbrk(content_type, "\r\n")))
		return wd_error_set(err, WD_EINVAL, "invalid request method, path or content type");
	for (size_t i = 0; i < extra_count; i++) {
		if (!extra_headers[i] || strpbrk(extra_headers[i], "\r\n") ||
		    !strchr(extra_headers[i], ':'))
			return wd_error_set(err, WD_EINVAL, "extra header %zu is invalid", i);
	}

	stream = open_memstream(&head, &head_len);
	if (!stream)
		return wd_error_set(err, WD_ENOMEM, "out of memory building the request");
	fprintf(stream, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, path, client->host_header);
	for (size_t i = 0; i < extra_count; i++)
		fprintf(stream, "%s\r\n", extra_headers[i]);
	if (content_type)
		fprintf(stream, "Content-Type: %s\r\n", content_type);
	if (body_len > 0 || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
	    strcmp(method, "PATCH") == 0)
		fprintf(stream, "Content-Length: %zu\r\n", body_len);
	fputs("\r\n", stream);
	if (fclose(stream) != 0) {
		free(head);
		return wd_error_set(err, WD_ENOMEM, "out of memory building the request");
	}
	*ret_head = head;
	return 0;
}

/* Joins head and body into one buffer, so the request goes out in one
 * write: one TLS record, and one TCP segment when it fits. Written in two
 * pieces, the second would wait under Nagle's algorithm for the server's
 * delayed ACK of the first. */
static int request_join(const char *head, const void *body, size_t body_len,
	uint8_t **ret_message, size_t *ret_len, struct wd_error *err)
{
	size_t head_len = strlen(head);
	size_t len;
	uint8_t *message;

	*ret_message = NULL;
	*ret_len = 0;
	if (__builtin_add_overflow(head_len, body_len, &len))
		return wd_error_set(err, WD_ETOOBIG, "request body of %zu bytes is too large",
			body_len);
	message = malloc(len);
	if (!message)
		return wd_error_set(err, WD_ENOMEM, "out of memory building the request");
	memcpy(message, head, head_len);
	if (body_len > 0)
		memcpy(message + head_len, body, body_len);
	*ret_message = message;
	*ret_len = len;
	return 0;
}

static bool header_has_token(const char *value, const char *token)
{
	return value && strcasestr(value, token) != NULL;
}

int net_client_request(struct net_client *client, const char *method, const char *path,
	const char *const *extra_headers, size_t extra_header_count, const char *content_type,
	const void *body, size_t body_len, struct net_response **ret_response,
	struct wd_error *err)
{
	struct net_response *resp = NULL;
	char *head = NULL;
	uint8_t *message = NULL;
	size_t message_len = 0;
	size_t offset = 0;
	size_t end = 0;
	int rc = 0;

	*ret_response = NULL;
	if (!client->open)
		return wd_error_set(err, WD_EIO, "connection is closed");
	if (!body && body_len > 0)
		return wd_error_set(err, WD_EINVAL, "request body is missing");
	WD_GUARD(request_head(client, method, path, extra_headers, extra_header_count,
		content_type, body_len, &head, err));

	WD_GUARD(request_join(head, body, body_len, &message, &message_len, err));
	rc = io_write_all(client, message, message_len);
	if (rc < 0) {
		rc = io_error(client, rc, err, rc == WD_ETIMEOUT ? "sending the request timed out"
			: "sending the request failed");
		goto out;
	}

	resp = calloc(1, sizeof(*resp));
	WD_ENSURE(resp, WD_ENOMEM);
	WD_GUARD(read_head(client, resp, &offset, err));
	WD_GUARD(read_body(client, method, offset, resp, &end, err));

	/* Keep bytes after this response for the next one. */
	memmove(client->buf, client->buf + end, client->buf_len - end);
	client->buf_len -= end;
	if (header_has_token(net_response_header(resp, "Connection"), "close"))
		client->open = false;
	*ret_response = WD_TAKE_PTR(resp);
out:
	if (rc < 0)
		client->open = false;
	free(head);
	/* The body may carry a secret, so its copy is wiped. */
	OPENSSL_clear_free(message, message_len);
	net_response_free(resp);
	return rc;
}

int net_client_request_json(struct net_client *client, const char *method, const char *path,
	const json_t *body, struct net_response **ret_response, struct wd_error *err)
{
	char *text = NULL;
	int rc;

	*ret_response = NULL;
	if (body) {
		text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
		if (!text)
			return wd_error_set(err, WD_ENOMEM, "cannot serialize the request body");
	}
	rc = net_client_request(client, method, path, NULL, 0, text ? "application/json" : NULL,
		text, text ? strlen(text) : 0, ret_response, err);
	free(text);
	return rc;
}

/* Connecting. */

static int set_timeouts(int fd, unsigned timeout_ms)
{
	struct timeval tv = { .tv_sec = timeout_ms / 1000,
		.tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000 };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return WD_EIO;
	return 0;
}

/* Connects fd to addr within timeout_ms. */
static int connect_timed(int fd, const struct sockaddr *addr, socklen_t len, unsigned timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	int soerr = 0;
	socklen_t soerr_len = sizeof(soerr);
	int ret;

	if (connect(fd, addr, len) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return WD_EIO;
	do {
		ret = poll(&pfd, 1, (int)timeout_ms);
	} while (ret < 0 && errno == EINTR);
	if (ret == 0)
		return WD_ETIMEOUT;
	if (ret < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &soerr_len) < 0 || soerr)
		return WD_EIO;
	return 0;
}

static int socket_open(const struct net_client_config *config, unsigned timeout_ms, int *ret_fd,
	struct wd_error *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *list = NULL;
	char port[8];
	int fd = -1;
	int one = 1;
	int rc = WD_EIO;

	*ret_fd = -1;
	if (config->unix_path) {
		struct sockaddr_un addr = { .sun_family = AF_UNIX };
		size_t len = strlen(config->unix_path);

		if (len == 0 || len >= sizeof(addr.sun_path))
			return wd_error_set(err, WD_EINVAL, "socket path \"%s\" is too long",
				config->unix_path);
		memcpy(addr.sun_path, config->unix_path, len + 1);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd >= 0)
			rc = connect_timed(fd, (struct sockaddr *)&addr, sizeof(addr), timeout_ms);
		if (rc < 0) {
			if (fd >= 0)
				close(fd);
			return wd_error_set(err, rc, "cannot connect to %s: %s", config->unix_path,
				rc == WD_ETIMEOUT ? "timed out" : strerror(errno));
		}
		*ret_fd = fd;
		return 0;
	}

	snprintf(port, sizeof(port), "%u", (unsigned)config->port);
	if (getaddrinfo(config->host, port, &hints, &list) != 0 || !list)
		return wd_error_set(err, WD_EIO, "cannot resolve %s", config->host);
	for (struct addrinfo *ai = list; ai && rc < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			continue;
		rc = connect_timed(fd, ai->ai_addr, ai->ai_addrlen, timeout_ms);
		if (rc < 0) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(list);
	if (rc < 0)
		return wd_error_set(err, rc, "cannot connect to %s:%s: %s", config->host, port,
			rc == WD_ETIMEOUT ? "timed out" : "connection failed");
	/* A request is written at once and then waits for its response, so
	 * Nagle's algorithm could only delay it. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0) {
		rc = wd_error_set(err, WD_EIO, "cannot set TCP_NODELAY on the connection to "
			"%s:%s: %s", config->host, port, strerror(errno));
		close(fd);
		return rc;
	}
	*ret_fd = fd;
	return 0;
}

static int tls_ctx_new(const struct net_client_config *config, SSL_CTX **ret_ctx,
	struct wd_error *err)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	X509_STORE *store;
	int rc = 0;

	*ret_ctx = NULL;
	if (!ctx)
		return wd_error_set(err, WD_ENOMEM, "cannot create a TLS context");
	if (config->trust_anchor_count == 0 || !config->trust_anchors) {
		rc = wd_error_set(err, WD_EINVAL, "TLS client needs at least one trust anchor");
		goto out;
	}
	store = SSL_CTX_get_cert_store(ctx);
	for (size_t i = 0; i < config->trust_anchor_count; i++) {
		if (X509_STORE_add_cert(store, config->trust_anchors[i]) != 1) {
			rc = wd_error_set(err, WD_ECRYPTO, "cannot add trust anchor %zu", i);
			goto out;
		}
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (config->tls_min_version && config->tls_min_version < TLS1_2_VERSION) {
		/* Only tests ask for old versions, to check that servers reject
		 * them; OpenSSL 3 disables them above security level 0. */
		SSL_CTX_set_security_level(ctx, 0);
	}
	if (SSL_CTX_set_min_proto_version(ctx, config->tls_min_version ? config->tls_min_version
		    : TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, config->tls_max_version) != 1) {
		rc = wd_error_set(err, WD_EINVAL, "invalid TLS version bounds");
		goto out;
	}

	if (config->cert_chain_pem) {
		STACK_OF(X509) *chain = NULL;
		X509 *leaf;

		WD_GUARD(tls_parse_chain(config->cert_chain_pem, config->cert_chain_len, &chain,
			err));
		leaf = sk_X509_shift(chain);
		if (!config->key ||
		    SSL_CTX_use_cert_and_key(ctx, leaf, config->key, chain, 1) != 1)
			rc = wd_error_set(err, WD_ECRYPTO, "client key does not match the client "
				"certificate");
		X509_free(leaf);
		sk_X509_pop_free(chain, X509_free);
		if (rc < 0)
			goto out;
	}
	*ret_ctx = WD_TAKE_PTR(ctx);
out:
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

static bool is_ip_literal(const char *host)
{
	unsigned char addr[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
}

static int tls_handshake(struct net_client *client, const struct net_client_config *config,
	struct wd_error *err)
{
	const char *name = config->server_name ? config->server_name : config->host;
	STACK_OF(X509) *chain;

	client->ssl = SSL_new(client->ctx);
	if (!client->ssl || SSL_set_fd(client->ssl, client->fd) != 1)
		return wd_error_set(err, WD_ENOMEM, "cannot create a TLS connection");
	/* SNI carries host names only (RFC 6066 section 3). */
	if (!is_ip_literal(name))
		SSL_set_tlsext_host_name(client->ssl, name);

	if (SSL_connect(client->ssl) != 1) {
		unsigned long code = ERR_peek_last_error();
		char reason[160];

		ERR_error_string_n(code, reason, sizeof(reason));
		ERR_clear_error();
		if (errno == EAGAIN)
			return wd_error_set(err, WD_ETIMEOUT, "TLS handshake with %s timed out", name);
		return wd_error_set(err, WD_ECRYPTO, "TLS handshake with %s failed: %s", name,
			code ? reason : "connection closed");
	}
	/* The chain was verified against the anchors; server names are not
	 * checked here because SPIFFE identities live in URI SANs, which the
	 * verify hook checks. */
	chain = SSL_get0_verified_chain(client->ssl);
	if (config->verify && (!chain || config->verify(chain, config->verify_arg, err) < 0)) {
		if (err && err->code == WD_OK)
			wd_error_set(err, WD_ECRYPTO, "server certificate of %s was rejected", name);
		return err ? err->code : WD_ECRYPTO;
	}
	return 0;
}

int net_client_connect(const struct net_client_config *config, struct net_client **ret_client,
	struct wd_error *err)
{
	struct net_client *client = NULL;
	unsigned timeout_ms;
	int rc = 0;

	*ret_client = NULL;
	if (!config || (!config->unix_path == !config->host))
		return wd_error_set(err, WD_EINVAL, "set exactly one of unix_path and host");
	timeout_ms = config->timeout_ms ? config->timeout_ms : NET_CLIENT_DEFAULT_TIMEOUT_MS;
	if (timeout_ms > INT_MAX)
		return wd_error_set(err, WD_EINVAL, "timeout %u ms is too long", timeout_ms);

	client = calloc(1, sizeof(*client));
	if (!client)
		return wd_error_set(err, WD_ENOMEM, "out of memory creating a client");
	client->fd = -1;
	client->timeout_ms = timeout_ms;
	client->max_response = config->max_response_bytes ? config->max_response_bytes
		: NET_CLIENT_DEFAULT_MAX_RESPONSE_BYTES;
	client->host_header = wd_strdup(config->unix_path ? "localhost" : (config->server_name ?
		config->server_name : config->host));
	WD_ENSURE(client->host_header, WD_ENOMEM);
	if (strpbrk(client->host_header, "\r\n /")) {
		rc = wd_error_set(err, WD_EINVAL, "host name is invalid");
		goto out;
	}

	if (config->host && !config->plaintext)
		WD_GUARD(tls_ctx_new(config, &client->ctx, err));
	WD_GUARD(socket_open(config, timeout_ms, &client->fd, err));
	/* Blocking I/O from here on, bounded by the socket timeouts. */
	if (fcntl(client->fd, F_SETFL, 0) < 0 || set_timeouts(client->fd, timeout_ms) < 0) {
		rc = wd_error_set(err, WD_EIO, "cannot configure the socket");
		goto out;
	}
	if (client->ctx)
		WD_GUARD(tls_handshake(client, config, err));
	client->open = true;
	*ret_client = WD_TAKE_PTR(client);
out:
	net_client_free(client);
	return rc;
}

X509 *net_client_peer_cert(const struct net_client *client)
{
	return client->ssl ? SSL_get0_peer_certificate(client->ssl) : NULL;
}

bool net_client_is_open(const struct net_client *client)
{
	return client->open;
}

void net_client_free(struct net_client *client)
{
	if (!client)
		return;
	if (client->ssl) {
		if (client->open)
			SSL_shutdown(client->ssl);
		SSL_free(client->ssl);
	}
	SSL_CTX_free(client->ctx);
	if (client->fd >= 0)
		close(client->fd);
	free(client->host_header);
	if (client->buf)
		OPENSSL_cleanse(client->buf, client->buf_cap);
	free(client->buf);
	free(client);
	ERR_clear_error();
}

const char *net_response_header(const struct net_response *response, const char *name)
{
	for (size_t i = 0; i < response->header_count; i++) {
		if (strcasecmp(response->header_names[i], name) == 0)
			return response->header_values[i];
	}
	return NULL;
}

int net_response_json(const struct net_response *response, json_t **ret_json,
	struct wd_error *err)
{
	json_error_t jerr;

	*ret_json = json_loadb((const char *)response->body, response->body_len,
		JSON_REJECT_DUPLICATES, &jerr);
	if (!*ret_json)
		return wd_error_set(err, WD_EINVAL, "invalid JSON at line %d column %d: %s",
			jerr.line, jerr.column, jerr.text);
	return 0;
}

void net_response_free(struct net_response *response)
{
	if (!response)
		return;
	for (size_t i = 0; i < response->header_count; i++) {
		free(response->header_names[i]);
		free(response->header_values[i]);
	}
	free(response->header_names);
	free(response->header_values);
	free(response->body);
	free(response);
}
