/* L7 listeners: requests are parsed one head at a time, authorized, and
 * forwarded with X-Forwarded-Client-Cert set by the proxy. Responses are
 * parsed only for their framing, so each one is matched to its request for
 * the access log, and responses the proxy makes itself (403, 400, 502) go
 * out in request order even when the caller pipelines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/log.h"
#include "proxy/engine.h"

static const char *const xfcc_drop[] = { "x-forwarded-client-cert" };

int http_state_new(struct conn *c)
{
	struct http_state *h = c->http;
	const struct proxy_listener_config *lc = c->listener->config;
	uint8_t digest[32];
	unsigned digest_len = 0;
	char value[4400];
	X509 *peer;
	size_t line_len;

	h->req_phase = HTTP_HEAD;
	h->resp_phase = HTTP_HEAD;
	if (lc->direction != PROXY_INBOUND)
		return 0;

	peer = SSL_get0_peer_certificate(c->down.ssl);
	if (!peer || !c->peer_id ||
	    X509_digest(peer, EVP_sha256(), digest, &digest_len) != 1 || digest_len != 32)
		return WD_ECRYPTO;
	if (http1_xfcc_format(proxy_identity_spiffe_id(c->identity), digest, c->peer_id, value,
		    sizeof(value)) < 0)
		return WD_ETOOBIG;
	line_len = strlen("X-Forwarded-Client-Cert: ") + strlen(value) + 1;
	h->xfcc_line = malloc(line_len);
	if (!h->xfcc_line)
		return WD_ENOMEM;
	(void)snprintf(h->xfcc_line, line_len, "X-Forwarded-Client-Cert: %s", value);
	return 0;
}

void http_state_free(struct http_state *h)
{
	if (!h)
		return;
	free(h->local_response);
	free(h->xfcc_line);
	free(h);
}

static struct pending_request *queue_front(struct http_state *h)
{
	return &h->queue[h->queue_head];
}

static struct pending_request *queue_push(struct http_state *h)
{
	struct pending_request *req = &h->queue[(h->queue_head + h->queue_len) % HTTP_PIPELINE_MAX];

	memset(req, 0, sizeof(*req));
	h->queue_len++;
	return req;
}

static void queue_pop(struct http_state *h)
{
	h->queue_head = (h->queue_head + 1) % HTTP_PIPELINE_MAX;
	h->queue_len--;
}

static void copy_slice(char *out, size_t size, struct http1_slice s)
{
	size_t n = s.len < size - 1 ? s.len : size - 1;

	memcpy(out, s.ptr, n);
	out[n] = '\0';
}

/* Makes room for len more bytes at the end of b; false when it cannot. */
static bool out_room(struct worker *w, struct pbuf *b, uint32_t len)
{
	uint32_t cap = w->engine->buffer_bytes;

	if (pbuf_reserve(w, b) < 0)
		return false;
	if (cap - b->end >= len)
		return true;
	if (b->start > 0) {
		memmove(b->data, b->data + b->start, pbuf_len(b));
		b->end -= b->start;
		b->start = 0;
	}
	return cap - b->end >= len;
}

static uint32_t out_space(struct worker *w, struct pbuf *b)
{
	if (!out_room(w, b, 1))
		return 0;
	return w->engine->buffer_bytes - b->end;
}

static void consume(struct worker *w, struct pbuf *b, uint32_t n)
{
	b->start += n;
	if (b->start == b->end)
		pbuf_release(w, b);
}

static void audit_request(struct conn *c, const struct pending_request *req, const char *outcome,
	const char *detail)
{
	struct proxy_engine *e = c->worker->engine;
	char object[200];

	if (!e->audit)
		return;
	(void)snprintf(object, sizeof(object), "%s %s", req->method, req->path);
	proxy_audit_record(e->audit, c->peer_id ? c->peer_id : c->source_address,
		"proxy.request", object, outcome, detail);
}

/* Stores the proxy's own response to req, which is in the queue, and stops
 * reading requests. The connection closes once that response is sent. */
static void queue_local_response(struct conn *c, struct pending_request *req, int status, const char *code,
	const char *message)
{
	struct http_state *h = c->http;
	uint8_t body[1024];
	size_t len = 0;

	req->local_status = status;
	h->req_phase = HTTP_STOPPED;
	h->head_started_ms = 0;
	pbuf_release(c->worker, &c->req_in);
	if (http1_error_response(status, code, message, true, body, sizeof(body), &len) < 0)
		return;
	free(h->local_response);
	h->local_response = malloc(len);
	if (!h->local_response) {
		h->local_response_len = 0;
		return;
	}
	memcpy(h->local_response, body, len);
	h->local_response_len = len;
}

static void reject_malformed(struct conn *c, int rc, const struct wd_error *err)
{
	struct http_state *h = c->http;
	struct pending_request *req = queue_push(h);
	int status = 400;
	const char *code = "bad_request";

	if (rc == WD_ETOOBIG) {
		status = 431;
		code = "request_header_fields_too_large";
	} else if (rc == WD_EUNSUPPORTED) {
		status = 501;
		code = "not_implemented";
	}

	snprintf(req->method, sizeof(req->method), "-");
	snprintf(req->path, sizeof(req->path), "-");
	req->decision = 'e';
	req->start_ms = c->worker->now_ms;
	proxy_metric_add(c->worker->engine->metrics, PM_REQUESTS_MALFORMED, 1);
	log_warn("proxy", "malformed request", "listener", c->listener->config->name, "source",
		c->source_address, "reason", err->detail, NULL);
	queue_local_response(c, req, status, code, err->detail);
}

/* Evaluates the policy. Returns false when the request is denied, after
 * queueing the 403 response. */
static bool authorize(struct conn *c, const struct http1_head *head, struct pending_request *req)
{
	struct proxy_engine *e = c->worker->engine;
	const struct proxy_listener_config *lc = c->listener->config;
	struct http_state *h = c->http;
	struct proxy_decision decision;
	const char *own = proxy_identity_spiffe_id(c->identity);
	struct proxy_request_info info = {
		.source_id = lc->direction == PROXY_INBOUND ? c->peer_id : own,
		.source_address = c->source_address,
		.destination_id = lc->direction == PROXY_INBOUND ? own : c->peer_id,
		.head = head,
	};

	if (!lc->use_policy || !e->authz) {
		req->decision = 'a';
		return true;
	}
	proxy_authz_decide(e->authz, &info, &decision);
	proxy_metric_add(e->metrics, PM_POLICY_EVAL_NS, decision.eval_ns);
	if (decision.allow) {
		unsigned sample = e->config->audit_allow_sample;

		req->decision = 'a';
		proxy_metric_add(e->metrics, PM_REQUESTS_ALLOWED, 1);
		if (sample > 0 && h->allow_counter++ % sample == 0) {
			char detail[320];

			(void)snprintf(detail, sizeof(detail), "decision %s: allowed",
				decision.decision_id);
			audit_request(c, req, "success", detail);
		}
		return true;
	}

	req->decision = 'd';
	proxy_metric_add(e->metrics, PM_REQUESTS_DENIED, 1);
	{
		char detail[400];

		(void)snprintf(detail, sizeof(detail), "decision %s: %s", decision.decision_id,
			decision.reason);
		audit_request(c, req, "denied", detail);
	}
	log_info("proxy", "request denied", "listener", lc->name, "source", info.source_id,
		"method", req->method, "path", req->path, "reason", decision.reason, NULL);
	queue_local_response(c, req, 403, "forbidden", decision.reason[0] ? decision.reason :
		"denied by policy");
	return false;
}

/* Parses one request head at the front of req_in and forwards it. Returns
 * false when nothing more can happen now. */
static bool forward_request_head(struct conn *c, bool *moved)
{
	struct worker *w = c->worker;
	struct http_state *h = c->http;
	struct http1_head *head = w->scratch_head;
	struct pbuf *in = &c->req_in;
	struct pending_request *req;
	const char *extra[1];
	size_t extra_count = 0, written = 0;
	struct wd_error err = { 0 };
	int rc;

	if (h->queue_len == HTTP_PIPELINE_MAX)
		return false;
	if (!h->head_started_ms)
		h->head_started_ms = w->now_ms;
	rc = http1_parse_request((const char *)in->data + in->start, pbuf_len(in),
		&w->engine->http_limits, head, &err);
	if (rc == 0)
		return false;
	if (rc < 0) {
		reject_malformed(c, rc, &err);
		*moved = true;
		return false;
	}

	if (h->xfcc_line)
		extra[extra_count++] = h->xfcc_line;
	if (!out_room(w, &c->req_out, (uint32_t)head->head_len + 4600)) {
		if (pbuf_len(&c->req_out) > 0)
			return false;
		(void)wd_error_set(&err, WD_ETOOBIG, "request head does not fit the buffer");
		reject_malformed(c, WD_ETOOBIG, &err);
		*moved = true;
		return false;
	}

	req = queue_push(h);
	copy_slice(req->method, sizeof(req->method), head->method);
	copy_slice(req->path, sizeof(req->path), head->path);
	req->start_ms = w->now_ms;
	h->head_started_ms = 0;
	proxy_metric_add(w->engine->metrics, PM_REQUESTS, 1);
	*moved = true;
	if (!authorize(c, head, req))
		return false;

	rc = http1_head_write(head, xfcc_drop, h->xfcc_line ? 1 : 0, extra, extra_count,
		c->req_out.data + c->req_out.end, w->engine->buffer_bytes - c->req_out.end,
		&written);
	if (rc < 0) {
		(void)wd_error_set(&err, WD_ETOOBIG, "request head does not fit the buffer");
		queue_local_response(c, req, 431, "request_header_fields_too_large", err.detail);
		return false;
	}
	c->req_out.end += (uint32_t)written;
	http1_body_init(&h->req_body, head);
	consume(w, in, (uint32_t)head->head_len);
	if (head->upgrade)
		h->req_phase = HTTP_WAIT;
	else if (!h->req_body.done)
		h->req_phase = HTTP_BODY;
	return true;
}

/* Copies up to the free space of out from in; returns the count. */
static uint32_t pass_through(struct conn *c, struct pbuf *in, struct pbuf *out)
{
	uint32_t n = pbuf_len(in), space = out_space(c->worker, out);

	if (n > space)
		n = space;
	if (n == 0)
		return 0;
	memcpy(out->data + out->end, in->data + in->start, n);
	out->end += n;
	consume(c->worker, in, n);
	return n;
}

bool http_transform_request(struct conn *c)
{
	struct http_state *h = c->http;
	struct worker *w = c->worker;
	bool moved = false;

	if (h->req_phase == HTTP_STOPPED) {
		pbuf_release(w, &c->req_in);
		return false;
	}
	while (c->req_in.data && pbuf_len(&c->req_in) > 0) {
		if (h->req_phase == HTTP_HEAD) {
			if (!forward_request_head(c, &moved))
				break;
		} else if (h->req_phase == HTTP_BODY) {
			struct pbuf *in = &c->req_in;
			uint32_t space = out_space(w, &c->req_out), n = pbuf_len(in);
			size_t used = 0;
			struct wd_error err = { 0 };

			if (n > space)
				n = space;
			if (n == 0)
				break;
			if (http1_body_advance(&h->req_body, in->data + in->start, n, &used,
				    &err) < 0) {
				log_warn("proxy", "malformed request body", "listener",
					c->listener->config->name, "source", c->source_address,
					"reason", err.detail, NULL);
				c->closing = true;
				c->close_reason = "malformed request body";
				h->req_phase = HTTP_STOPPED;
				pbuf_release(w, in);
				return true;
			}
			memcpy(c->req_out.data + c->req_out.end, in->data + in->start, used);
			c->req_out.end += (uint32_t)used;
			consume(w, in, (uint32_t)used);
			moved = true;
			if (h->req_body.done)
				h->req_phase = HTTP_HEAD;
		} else if (h->req_phase == HTTP_TUNNEL) {
			if (pass_through(c, &c->req_in, &c->req_out) == 0)
				break;
			moved = true;
		} else {
			break;
		}
	}
	return moved;
}

static void finish_response(struct conn *c)
{
	struct http_state *h = c->http;
	struct pending_request *req = queue_front(h);

	if (c->worker->engine->access_log_fd >= 0)
		access_log_request(c, req, h->resp_status, h->resp_bytes);
	queue_pop(h);
	h->resp_phase = HTTP_HEAD;
	h->resp_bytes = 0;
	if (h->close_after_response || h->req_phase == HTTP_WAIT) {
		c->closing = true;
		c->close_reason = "closed after the response";
	}
}

/* Moves the proxy's own response into resp_out once its request is the
 * oldest one waiting. */
static bool send_local_response(struct conn *c)
{
	struct http_state *h = c->http;
	struct pending_request *req = queue_front(h);
	uint32_t len = (uint32_t)h->local_response_len;

	if (!out_room(c->worker, &c->resp_out, len))
		return false;
	memcpy(c->resp_out.data + c->resp_out.end, h->local_response, len);
	c->resp_out.end += len;
	h->resp_status = req->local_status;
	h->resp_bytes = len;
	free(h->local_response);
	h->local_response = NULL;
	h->local_response_len = 0;
	finish_response(c);
	c->closing = true;
	c->close_reason = "answered by the proxy";
	return true;
}

static bool forward_response_head(struct conn *c)
{
	struct worker *w = c->worker;
	struct http_state *h = c->http;
	struct http1_head *head = w->scratch_head;
	struct pbuf *in = &c->resp_in;
	struct pending_request *req = queue_front(h);
	struct http1_slice method = { req->method, strlen(req->method) };
	struct wd_error err = { 0 };
	int rc = http1_parse_response((const char *)in->data + in->start, pbuf_len(in), method,
		&w->engine->http_limits, head, &err);

	if (rc == 0)
		return false;
	if (rc < 0 || !out_room(w, &c->resp_out, (uint32_t)head->head_len)) {
		if (rc >= 0 && pbuf_len(&c->resp_out) > 0)
			return false;
		log_warn("proxy", "malformed response", "listener", c->listener->config->name,
			"target", c->listener->config->target, "reason",
			rc < 0 ? err.detail : "response head does not fit the buffer", NULL);
		c->closing = true;
		c->close_reason = "malformed response";
		pbuf_release(w, in);
		return false;
	}

	memcpy(c->resp_out.data + c->resp_out.end, in->data + in->start, head->head_len);
	c->resp_out.end += (uint32_t)head->head_len;
	h->resp_bytes += head->head_len;
	consume(w, in, (uint32_t)head->head_len);
	if (head->status == 101) {
		h->resp_status = 101;
		finish_response(c);
		c->closing = false;
		h->req_phase = HTTP_TUNNEL;
		h->resp_phase = HTTP_TUNNEL;
		return true;
	}
	if (head->status < 200)
		return true;
	h->resp_status = head->status;
	h->close_after_response = !head->keep_alive;
	http1_body_init(&h->resp_body, head);
	if (h->resp_body.done)
		finish_response(c);
	else
		h->resp_phase = HTTP_BODY;
	return true;
}

bool http_transform_response(struct conn *c)
{
	struct http_state *h = c->http;
	struct worker *w = c->worker;
	bool moved = false;

	for (;;) {
		struct pbuf *in = &c->resp_in;

		if (h->resp_phase == HTTP_HEAD && h->queue_len > 0 && queue_front(h)->local_status) {
			if (send_local_response(c))
				moved = true;
			break;
		}
		if (!in->data || pbuf_len(in) == 0 || c->closing)
			break;
		if (h->resp_phase == HTTP_TUNNEL) {
			if (pass_through(c, in, &c->resp_out) == 0)
				break;
			moved = true;
		} else if (h->resp_phase == HTTP_HEAD) {
			if (h->queue_len == 0) {
				log_warn("proxy", "response without a request", "listener",
					c->listener->config->name, NULL);
				c->closing = true;
				c->close_reason = "response without a request";
				pbuf_release(w, in);
				break;
			}
			if (!forward_response_head(c))
				break;
			moved = true;
		} else {
			uint32_t space = out_space(w, &c->resp_out), n = pbuf_len(in);
			size_t used = 0;
			struct wd_error err = { 0 };

			if (n > space)
				n = space;
			if (n == 0)
				break;
			if (http1_body_advance(&h->resp_body, in->data + in->start, n, &used,
				    &err) < 0) {
				c->closing = true;
				c->close_reason = "malformed response body";
				pbuf_release(w, in);
				break;
			}
			memcpy(c->resp_out.data + c->resp_out.end, in->data + in->start, used);
			c->resp_out.end += (uint32_t)used;
			h->resp_bytes += used;
			consume(w, in, (uint32_t)used);
			moved = true;
			if (h->resp_body.done)
				finish_response(c);
		}
	}
	return moved;
}

void http_upstream_eof(struct conn *c)
{
	struct http_state *h = c->http;

	if (c->resp_in.data)
		return;
	if (h->resp_phase == HTTP_BODY && h->resp_body.framing == HTTP1_BODY_UNTIL_CLOSE) {
		finish_response(c);
		return;
	}
	if (h->resp_phase == HTTP_HEAD && h->queue_len > 0 && !queue_front(h)->local_status &&
	    h->resp_bytes == 0 && !c->closing) {
		struct pending_request *req = queue_front(h);

		proxy_metric_add(c->worker->engine->metrics, PM_UPSTREAM_FAILURES, 1);
		queue_local_response(c, req, 502, "bad_gateway", "the application closed the connection");
		(void)send_local_response(c);
	}
}
