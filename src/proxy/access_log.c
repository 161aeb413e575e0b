/* The access log: one JSON line per L4 connection or per HTTP request, with
 * both SPIFFE IDs, bytes, duration and the decision. Each worker collects
 * lines in its own buffer and writes them with one append when the buffer
 * passes 32 KiB or at the next sweep, so logging costs no system call per
 * request. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/time.h"
#include "proxy/engine.h"

#define ACCESS_LOG_FLUSH_BYTES (32 * 1024)

/* Appends text as the inside of a JSON string. */
static void append_escaped(struct wd_buf *b, const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		int rc;

		if (*p == '"' || *p == '\\')
			rc = wd_buf_appendf(b, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			rc = wd_buf_appendf(b, "\\u%04x", *p);
		else
			rc = wd_buf_append_byte(b, *p);
		if (rc < 0)
			return;
	}
}

/* Lines are best effort: a full buffer drops the rest of a line. */
#define APPEND(call) ((void)!(call))

static void append_field(struct wd_buf *b, const char *key, const char *value)
{
	if (wd_buf_appendf(b, ",\"%s\":\"", key) < 0)
		return;
	append_escaped(b, value ? value : "");
	APPEND(wd_buf_append_byte(b, '"'));
}

static void begin_line(struct conn *c, struct wd_buf *b)
{
	const struct proxy_listener_config *lc = c->listener->config;
	const char *own = proxy_identity_spiffe_id(c->identity);
	char stamp[64];
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	(void)snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
		tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		ts.tv_nsec / 1000000);
	APPEND(wd_buf_appendf(b, "{\"time\":\"%s\"", stamp));
	append_field(b, "listener", lc->name);
	append_field(b, "direction", lc->direction == PROXY_INBOUND ? "inbound" : "outbound");
	append_field(b, "source_address", c->source_address);
	append_field(b, "source_spiffe_id",
		lc->direction == PROXY_INBOUND ? c->peer_id : own);
	append_field(b, "destination_spiffe_id",
		lc->direction == PROXY_INBOUND ? own : c->peer_id);
}

static void maybe_flush(struct worker *w)
{
	if (wd_buf_len(&w->access_log) >= ACCESS_LOG_FLUSH_BYTES)
		access_log_flush(w);
}

void access_log_connection(struct conn *c)
{
	struct worker *w = c->worker;
	struct wd_buf *b = &w->access_log;
	int64_t duration = w->now_ms - c->accepted_ms;

	begin_line(c, b);
	append_field(b, "decision", c->decision ? c->decision : "none");
	append_field(b, "close_reason", c->close_reason);
	APPEND(wd_buf_appendf(b,
		",\"bytes_from_source\":%llu,\"bytes_to_source\":%llu,\"duration_ms\":%lld"
		",\"tls_resumed\":%s}\n",
		(unsigned long long)c->down.bytes_in, (unsigned long long)c->down.bytes_out,
		(long long)(duration < 0 ? 0 : duration), c->resumed ? "true" : "false"));
	maybe_flush(w);
}

void access_log_request(struct conn *c, const struct pending_request *req, int status,
	uint64_t bytes)
{
	struct worker *w = c->worker;
	struct wd_buf *b = &w->access_log;
	int64_t duration = w->now_ms - req->start_ms;
	const char *decision = req->decision == 'a' ? "allow" :
		req->decision == 'd' ? "deny" : "malformed";

	begin_line(c, b);
	append_field(b, "method", req->method);
	append_field(b, "path", req->path);
	append_field(b, "decision", decision);
	APPEND(wd_buf_appendf(b, ",\"status\":%d,\"bytes_to_source\":%llu,\"duration_ms\":%lld}\n",
		status, (unsigned long long)bytes, (long long)(duration < 0 ? 0 : duration)));
	maybe_flush(w);
}

void access_log_flush(struct worker *w)
{
	struct wd_buf *b = &w->access_log;
	int fd = w->engine->access_log_fd;
	size_t done = 0;

	if (fd < 0 || wd_buf_len(b) == 0) {
		wd_buf_reset(b);
		return;
	}
	while (done < wd_buf_len(b)) {
		ssize_t n = write(fd, wd_buf_data(b) + done, wd_buf_len(b) - done);

		if (n <= 0)
			break;
		done += (size_t)n;
	}
	wd_buf_reset(b);
}
