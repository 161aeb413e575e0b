/* Alerts to syslog: RFC 3164 messages, as glibc's syslog(3) formats them,
 * sent to the local syslog socket (/dev/log) or another Unix datagram
 * socket. The socket path is configurable, which syslog(3) is not, so
 * tests can receive the messages. */
#pragma once

#include <stddef.h>

#include "common/error.h"
#include "common/macros.h"
#include "sensor/rules/rules.h"

#define RESPONSE_SYSLOG_DEFAULT_SOCKET "/dev/log"
#define RESPONSE_SYSLOG_IDENT "warden-sensor"

struct response_syslog;

/* Connects to socket_path (NULL: /dev/log) for messages of facility
 * (LOG_AUTHPRIV, ...). WD_EIO naming the path. */
WD_MUST_CHECK int response_syslog_open(const char *socket_path, int facility,
	struct response_syslog **ret, struct wd_error *err);

/* Returns the syslog severity of a Falco priority (Emergency is LOG_EMERG,
 * ..., Debug is LOG_DEBUG). */
int response_syslog_severity(enum rules_priority priority);

/* Sends one message without blocking; reconnects once when the syslog
 * daemon restarted. WD_EIO when it cannot be sent (a full socket buffer
 * included, so a stalled daemon never stops the event loop). */
WD_MUST_CHECK int response_syslog_send(struct response_syslog *log, int severity,
	const char *message, struct wd_error *err);

/* Closes and frees; accepts NULL. */
void response_syslog_free(struct response_syslog *log);
