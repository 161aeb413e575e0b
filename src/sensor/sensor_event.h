/* Decoding of the records the sensor's eBPF programs write (bpf/event.h)
 * into C structs, the names of event types, and their JSON form. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/error.h"
#include "common/macros.h"
#include "sensor/bpf/event.h"

/* One decoded event. Strings are NUL-terminated; the payload member named
 * by header.type is the valid one. */
struct sensor_event {
	struct sensor_event_header header;
	union {
		struct sensor_exec_payload exec;
		struct sensor_fork_payload fork;
		struct sensor_exit_payload exit;
		struct sensor_open_payload open;
		struct sensor_connect_payload connect;
		struct sensor_accept_payload accept;
		struct sensor_listen_payload listen;
		struct sensor_ptrace_payload ptrace;
		struct sensor_setid_payload setid;
		struct sensor_unlink_payload unlink;
		struct sensor_rename_payload rename;
		struct sensor_mount_payload mount;
		struct sensor_module_payload module;
		struct sensor_bpf_payload bpf;
		struct sensor_memfd_payload memfd;
		struct sensor_link_payload link;
		struct sensor_socket_payload socket;
	};
};

/* Bit of type in a mask of enabled types. */
#define SENSOR_TYPE_BIT(type) (1u << (type))
/* Every event type. */
#define SENSOR_TYPES_ALL (SENSOR_TYPE_BIT(SENSOR_EVENT_TYPE_COUNT) - SENSOR_TYPE_BIT(1))

/* Decodes the record of len bytes at data into *ret_event. Fails with
 * WD_ETRUNCATED when len is shorter than the header or the payload of its
 * type, WD_EINVAL for an unknown type, a size field that disagrees with
 * len, or an exec whose args_len exceeds its buffer; *ret_event is then
 * zeroed. */
WD_MUST_CHECK int sensor_event_decode(const void *data, size_t len,
	struct sensor_event *ret_event, struct wd_error *err);

/* Returns the name of type ("exec", ...), or NULL for an unknown type. */
const char *sensor_event_type_name(uint32_t type);

/* Bytes a buffer of sensor_exec_cwd needs at most: a slash before each
 * component, one more when the last has no NUL, and the path's own NUL. */
#define SENSOR_EXEC_CWD_MAX (SENSOR_CWD_LEN + 2)

/* Writes the exec's working directory as an absolute path ("/a/b") into buf.
 * Returns its length, or -1 when the kernel did not reach the root
 * directory (SENSOR_EXEC_CWD_WHOLE unset) or buf is too small; buf is then
 * empty. The event must come from sensor_event_decode. */
int sensor_exec_cwd(const struct sensor_exec_payload *exec, char *buf, size_t size);

/* Returns the name of an enum sensor_syscall ("openat", ...), or NULL. */
const char *sensor_syscall_name(uint32_t syscall);

/* Returns the event type of an enum sensor_syscall, or 0. */
uint32_t sensor_syscall_type(uint32_t syscall);

/* Returns the system call behind event (SENSOR_SYS_*), or 0 for fork and
 * exit, which have none. */
uint32_t sensor_event_syscall(const struct sensor_event *event);

/* Parses a comma-separated list of type names ("exec,open") or "all" into a
 * mask of SENSOR_TYPE_BIT()s. Fails with WD_EINVAL naming an unknown or
 * empty item; *ret_mask is set only on success. */
WD_MUST_CHECK int sensor_types_parse(const char *list, unsigned *ret_mask,
	struct wd_error *err);

/* Returns a new JSON object of event (owned by the caller), or NULL when
 * memory runs out. Bytes of comm or paths that are not UTF-8 become '?'. */
json_t *sensor_event_to_json(const struct sensor_event *event);
