/* libFuzzer harness: runs the input through the gRPC message parser in two
 * pieces split at a point taken from the first byte, then feeds it as HTTP/2
 * frames after a client preface to a server connection with no socket. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/grpc_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_MESSAGE 4096u

static const uint8_t client_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

static int check_message(const uint8_t *message, size_t len, void *arg)
{
	(void)arg;
	if (len > FUZZ_MAX_MESSAGE || (len > 0 && !message))
		abort();
	return 0;
}

static int handle_echo(struct grpc_call *call, void *arg, struct wd_error *err)
{
	size_t len;
	const uint8_t *request = grpc_call_request(call, &len);

	(void)arg;
	(void)err;
	WD_TRY(grpc_call_send_message(call, request, len));
	return grpc_call_finish(call, GRPC_STATUS_OK, "done");
}

static int handle_stream(struct grpc_call *call, void *arg, struct wd_error *err)
{
	(void)arg;
	(void)err;
	WD_TRY(grpc_call_send_message(call, "one", 3));
	WD_TRY(grpc_call_send_message(call, "two", 3));
	return 0;
}

static int handle_fail(struct grpc_call *call, void *arg, struct wd_error *err)
{
	(void)call;
	(void)arg;
	return wd_error_set(err, WD_EPERM, "denied %s", "100%");
}

static const struct grpc_method methods[] = {
	{ "/Fuzz/Echo", GRPC_UNARY, handle_echo, NULL },
	{ "/Fuzz/Stream", GRPC_SERVER_STREAMING, handle_stream, NULL },
	{ "/Fuzz/Fail", GRPC_UNARY, handle_fail, NULL },
};

static struct grpc_server *fuzz_server(void)
{
	static struct event_base *base;
	static struct grpc_server *server;
	struct grpc_limits limits = {
		.max_message_bytes = FUZZ_MAX_MESSAGE,
		.max_concurrent_streams = 8,
		.max_header_list_bytes = 2048,
	};

	if (server)
		return server;
	base = event_base_new();
	if (!base || grpc_server_new(base, &limits, &server, NULL) < 0 ||
	    grpc_server_add_methods(server, methods, WD_ARRAY_LEN(methods), NULL) < 0)
		abort();
	return server;
}

static void fuzz_parser(const uint8_t *data, size_t size)
{
	struct grpc_frame_parser parser;
	size_t split = size > 0 ? data[0] % (size + 1) : 0;
	int rc;

	grpc_frame_parser_init(&parser, FUZZ_MAX_MESSAGE);
	rc = grpc_frame_parser_feed(&parser, data, split, check_message, NULL);
	if (rc == 0)
		rc = grpc_frame_parser_feed(&parser, data + split, size - split, check_message,
			NULL);
	if (rc < 0 && grpc_frame_parser_finish(&parser) != rc)
		abort();
	grpc_frame_parser_free(&parser);
}

static void fuzz_session(const uint8_t *data, size_t size)
{
	struct grpc_server *server = fuzz_server();
	struct h2_conn *conn = NULL;

	if (h2_conn_new(server, NULL, &conn) < 0)
		return;
	if (h2_conn_feed(conn, client_preface, sizeof(client_preface) - 1) == 0 &&
	    h2_conn_feed(conn, data, size) == 0)
		h2_conn_flush(conn);
	h2_conn_free(conn);
	if (grpc_server_connection_count(server) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_parser(data, size);
	fuzz_session(data, size);
	return 0;
}
