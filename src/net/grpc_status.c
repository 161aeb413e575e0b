/* gRPC status codes, their mapping from warden's errors, the grpc-message
 * percent-encoding and grpc-timeout, as "gRPC over HTTP2" (grpc/doc/PROTOCOL-HTTP2.md)
 * defines them; and the normalization of grpc_limits. */
#include <stdio.h>
#include <string.h>

#include "net/grpc_private.h"

static const char *const status_names[] = {
	[GRPC_STATUS_OK] = "OK",
	[GRPC_STATUS_CANCELLED] = "CANCELLED",
	[GRPC_STATUS_UNKNOWN] = "UNKNOWN",
	[GRPC_STATUS_INVALID_ARGUMENT] = "INVALID_ARGUMENT",
	[GRPC_STATUS_DEADLINE_EXCEEDED] = "DEADLINE_EXCEEDED",
	[GRPC_STATUS_NOT_FOUND] = "NOT_FOUND",
	[GRPC_STATUS_ALREADY_EXISTS] = "ALREADY_EXISTS",
	[GRPC_STATUS_PERMISSION_DENIED] = "PERMISSION_DENIED",
	[GRPC_STATUS_RESOURCE_EXHAUSTED] = "RESOURCE_EXHAUSTED",
	[GRPC_STATUS_FAILED_PRECONDITION] = "FAILED_PRECONDITION",
	[GRPC_STATUS_ABORTED] = "ABORTED",
	[GRPC_STATUS_OUT_OF_RANGE] = "OUT_OF_RANGE",
	[GRPC_STATUS_UNIMPLEMENTED] = "UNIMPLEMENTED",
	[GRPC_STATUS_INTERNAL] = "INTERNAL",
	[GRPC_STATUS_UNAVAILABLE] = "UNAVAILABLE",
	[GRPC_STATUS_DATA_LOSS] = "DATA_LOSS",
	[GRPC_STATUS_UNAUTHENTICATED] = "UNAUTHENTICATED",
};

const char *grpc_status_name(int status)
{
	if (status < 0 || (size_t)status >= WD_ARRAY_LEN(status_names))
		return "UNKNOWN";
	return status_names[status];
}

static const struct {
	int code;
	int status;
} error_statuses[] = {
	{ WD_EINVAL, GRPC_STATUS_INVALID_ARGUMENT },
	{ WD_ENOTFOUND, GRPC_STATUS_NOT_FOUND },
	{ WD_EEXIST, GRPC_STATUS_ALREADY_EXISTS },
	{ WD_EAUTH, GRPC_STATUS_UNAUTHENTICATED },
	{ WD_EPERM, GRPC_STATUS_PERMISSION_DENIED },
	{ WD_EREVOKED, GRPC_STATUS_PERMISSION_DENIED },
	{ WD_EBANNED, GRPC_STATUS_PERMISSION_DENIED },
	{ WD_ETOOBIG, GRPC_STATUS_RESOURCE_EXHAUSTED },
	{ WD_ENOMEM, GRPC_STATUS_RESOURCE_EXHAUSTED },
	{ WD_ETIMEOUT, GRPC_STATUS_DEADLINE_EXCEEDED },
	{ WD_EUNSUPPORTED, GRPC_STATUS_UNIMPLEMENTED },
	{ WD_EUNAVAILABLE, GRPC_STATUS_UNAVAILABLE },
	{ WD_EIO, GRPC_STATUS_UNAVAILABLE },
	{ WD_ECONFLICT, GRPC_STATUS_FAILED_PRECONDITION },
	{ WD_EEXPIRED, GRPC_STATUS_FAILED_PRECONDITION },
	{ WD_ECORRUPT, GRPC_STATUS_DATA_LOSS },
};

int grpc_status_from_error(int code)
{
	if (code >= 0)
		return GRPC_STATUS_OK;
	for (size_t i = 0; i < WD_ARRAY_LEN(error_statuses); i++) {
		if (error_statuses[i].code == code)
			return error_statuses[i].status;
	}
	return GRPC_STATUS_INTERNAL;
}

int grpc_message_encode(const char *message, size_t max_input, struct wd_buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t len = strnlen(message, max_input);

	for (size_t i = 0; i < len; i++) {
		uint8_t byte = (uint8_t)message[i];
		uint8_t escaped[3] = { '%', (uint8_t)hex[byte >> 4], (uint8_t)hex[byte & 15] };

		if (byte >= 0x20 && byte <= 0x7e && byte != '%')
			WD_TRY(wd_buf_append_byte(out, byte));
		else
			WD_TRY(wd_buf_append(out, escaped, sizeof(escaped)));
	}
	return 0;
}

static int hex_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void grpc_message_decode(const char *value, size_t len, char *out, size_t out_size)
{
	size_t used = 0;

	if (out_size == 0)
		return;
	for (size_t i = 0; i < len && used + 1 < out_size; i++) {
		uint8_t c = (uint8_t)value[i];

		if (c == '%' && i + 2 < len && hex_value((uint8_t)value[i + 1]) >= 0 &&
		    hex_value((uint8_t)value[i + 2]) >= 0) {
			c = (uint8_t)(hex_value((uint8_t)value[i + 1]) * 16 +
				hex_value((uint8_t)value[i + 2]));
			i += 2;
		}
		out[used++] = (char)c;
	}
	out[used] = '\0';
}

void grpc_timeout_format(unsigned timeout_ms, char out[static 16])
{
	/* grpc-timeout allows at most 8 digits, so long timeouts go in seconds. */
	if (timeout_ms <= 99999999u)
		snprintf(out, 16, "%um", timeout_ms);
	else
		snprintf(out, 16, "%uS", timeout_ms / 1000u);
}

int grpc_status_parse(const char *value, size_t len, int *ret_status)
{
	int status = 0;

	*ret_status = GRPC_STATUS_UNKNOWN;
	if (len == 0 || len > 9)
		return WD_EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (value[i] < '0' || value[i] > '9')
			return WD_EINVAL;
		status = status * 10 + (value[i] - '0');
	}
	*ret_status = status;
	return 0;
}

int grpc_limits_normalize(const struct grpc_limits *limits, struct grpc_limits *ret_limits,
	struct wd_error *err)
{
	struct grpc_limits out = { 0 };

	if (limits)
		out = *limits;
	if (out.max_message_bytes == 0)
		out.max_message_bytes = GRPC_DEFAULT_MAX_MESSAGE_BYTES;
	if (out.max_concurrent_streams == 0)
		out.max_concurrent_streams = GRPC_DEFAULT_MAX_CONCURRENT_STREAMS;
	if (out.max_header_list_bytes == 0)
		out.max_header_list_bytes = GRPC_DEFAULT_MAX_HEADER_LIST_BYTES;
	if (out.max_send_queue_bytes == 0)
		out.max_send_queue_bytes = GRPC_DEFAULT_MAX_SEND_QUEUE_BYTES;
	if (out.max_connections == 0)
		out.max_connections = GRPC_DEFAULT_MAX_CONNECTIONS;
	if (out.max_connections_per_uid == 0)
		out.max_connections_per_uid = GRPC_DEFAULT_MAX_CONNECTIONS_PER_UID;
	if (out.preface_timeout_ms == 0)
		out.preface_timeout_ms = GRPC_DEFAULT_PREFACE_TIMEOUT_MS;
	if (out.idle_timeout_ms == 0)
		out.idle_timeout_ms = GRPC_DEFAULT_IDLE_TIMEOUT_MS;

	/* The length prefix is 32 bits wide. */
	if (out.max_message_bytes > UINT32_MAX)
		return wd_error_set(err, WD_EINVAL, "max_message_bytes %zu is over the gRPC "
			"maximum of %u", out.max_message_bytes, UINT32_MAX);
	if (out.max_send_queue_bytes < out.max_message_bytes + GRPC_FRAME_HEADER_LEN)
		return wd_error_set(err, WD_EINVAL, "max_send_queue_bytes %zu must hold one "
			"message of max_message_bytes %zu and its prefix", out.max_send_queue_bytes,
			out.max_message_bytes);
	*ret_limits = out;
	return 0;
}
