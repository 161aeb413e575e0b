/* The sensor's kernel events as a source of Falco field values. This header
 * declares a table of the host's processes that exec, fork and exit events
 * keep up to date, the field getter of the rule conditions, and the alert
 * line in Falco's JSON output format. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/error.h"
#include "common/macros.h"
#include "sensor/rules/cond.h"
#include "sensor/rules/rules.h"
#include "sensor/sensor_event.h"

/* Entries the table keeps at most, so a fork storm cannot exhaust memory;
 * past it, new processes are looked up from their event header alone. */
#define PROC_TABLE_MAX 65536
#define PROC_TABLE_BUCKETS 4096
/* Ancestors proc.aname and friends walk at most, which also ends a loop
 * that a stale table could form. */
#define PROC_MAX_DEPTH 64
/* Falco's container.id: the first 12 hex digits of the runtime's id. */
#define PROC_CONTAINER_ID_LEN 12

struct proc_entry {
	struct proc_entry *next;
	uint32_t pid;
	uint32_t ppid;
	uint32_t uid;
	uint32_t gid;
	char comm[SENSOR_COMM_LEN];
	char *exepath;   /* the executable's path, or NULL */
	char *argv0;     /* the first command line argument, or NULL */
	char *args;      /* the other arguments joined by spaces, or NULL */
	char *cwd;       /* the working directory at the last exec, or NULL */
	/* Read from proc_root when the process is seeded, runs exec or is first
	 * seen; a fork copies them from the parent. */
	char *cgroup;    /* the cgroup v2 path, or NULL */
	char container_id[PROC_CONTAINER_ID_LEN + 1];  /* short id, "" on the host */
	uint32_t tty;    /* tty_nr of /proc/PID/stat, 0 without a terminal */
	uint32_t sid;
	uint32_t pgid;
	uint32_t loginuid;  /* UINT32_MAX when unset, as the kernel keeps it */
	uint64_t start_ns;  /* start since boot (stat's starttime), 0 unknown */
	uint64_t cap_permitted;    /* CapPrm, CapEff and CapInh of status */
	uint64_t cap_effective;
	uint64_t cap_inheritable;
	bool exe_memfd;     /* the program runs from a memfd_create file */
};

struct proc_table {
	struct proc_entry *buckets[PROC_TABLE_BUCKETS];
	size_t count;
	char *proc_root; /* "/proc", or a fixture directory in tests */
};

/* Sets up an empty table reading from proc_root. WD_ENOMEM. */
WD_MUST_CHECK int proc_table_init(struct proc_table *table, const char *proc_root);

/* Frees every entry; accepts a zeroed table. */
void proc_table_free(struct proc_table *table);

/* Adds every numeric directory of proc_root. Processes that end while being
 * read are left out. WD_EIO when proc_root cannot be listed. */
WD_MUST_CHECK int proc_table_seed(struct proc_table *table, struct wd_error *err);

/* Returns the entry of pid, or NULL. */
struct proc_entry *proc_table_get(const struct proc_table *table, uint32_t pid);

/* Brings the table up to date with event: exec replaces the program (and
 * reads the command line from proc_root), fork copies the parent, exit
 * removes the process, and other events add a process seen for the first
 * time. WD_ENOMEM. */
WD_MUST_CHECK int proc_table_apply(struct proc_table *table, const struct sensor_event *event);

/* Writes the capabilities of mask as Falco names them, separated by blanks
 * ("CAP_CHOWN CAP_KILL"), into buf. */
void proc_caps_name(uint64_t mask, char *buf, size_t size);

/* Writes path with "." and ".." components and repeated slashes resolved
 * lexically, as Falco shows fd.name, into buf; a relative path stays
 * relative. */
void proc_path_normalize(const char *path, char *buf, size_t size);

/* Splits a NUL-separated command line of len bytes (the format of
 * /proc/PID/cmdline) into argv[0] and the other arguments joined by spaces, both
 * new strings. WD_ENOMEM. An empty command line yields two NULLs. */
WD_MUST_CHECK int proc_cmdline_split(const char *data, size_t len, char **ret_argv0,
	char **ret_args);

/* Finds the container in a /proc/PID/cgroup text of len bytes. Writes its
 * short id (the first PROC_CONTAINER_ID_LEN hex digits) into ret_id, or ""
 * for a host process, and the cgroup v2 path as a new string into *ret_path
 * (NULL when there is none). A malformed text yields "" and NULL. Fails
 * only with WD_ENOMEM. */
WD_MUST_CHECK int proc_cgroup_parse(const char *text, size_t len,
	char ret_id[static PROC_CONTAINER_ID_LEN + 1], char **ret_path);

/* Writes open flags as Falco names them ("O_RDONLY|O_CLOEXEC") into buf. */
void event_open_flags_name(int32_t flags, char *buf, size_t size);

/* Returns the Falco event type most events of a sensor event type have
 * ("execve", "openat", "setuid"...), or NULL for the types rules do not see
 * (fork, exit). event_falco_name gives the exact one of an event. */
const char *event_falco_type(uint32_t type);

/* Returns the Falco evt.type of event: the system call that caused it
 * ("execveat", "creat", "setresuid"...), or NULL for fork and exit. */
const char *event_falco_name(const struct sensor_event *event);

/* Returns the sensor type a Falco evt.type value needs (execve and execveat:
 * exec; open, openat, openat2 and creat: open; setuid...setresgid: setid;
 * and so on, see sensor_syscall_name), or 0. */
uint32_t event_sensor_type(const char *falco_type);

/* Returns the mask of SENSOR_TYPE_BIT()s of the rule-visible types (all but
 * fork and exit) that the loaded rules of set read: a rule without an
 * evt.type restriction reads them all. 0 when no loaded rule reads any. */
unsigned event_rules_types(const struct rules_set *set);

/* One event being evaluated: the getter's context. */
struct event_fields {
	const struct sensor_event *event;
	const struct proc_table *procs;
	int64_t time_ns;         /* wall clock time of the event */
	char fd_name[SENSOR_PATH_LEN * 2 + 2];
	char *scratch;           /* the last string value handed out */
	const char *items[PROC_MAX_DEPTH];
	char pids[PROC_MAX_DEPTH][12];  /* proc.apid's items */
};

/* Prepares fields for event; realtime_offset_ns turns the event's monotonic
 * timestamp into wall clock time. Relative open paths are joined to the
 * process's working directory from the table's proc_root. */
void event_fields_init(struct event_fields *fields, const struct sensor_event *event,
	const struct proc_table *procs, int64_t realtime_offset_ns);

/* Frees the scratch string. */
void event_fields_clear(struct event_fields *fields);

/* The cond_getter of fields (ctx is a struct event_fields). */
void event_fields_get(void *ctx, const char *field, const char *arg,
	struct cond_fvalue *ret);

/* Builds rule's alert as Falco's JSON output: time, rule, priority, output
 * ("HH:MM:SS.NNNNNNNNN: Priority " and the rule's output with each %field
 * replaced by its value or "<NA>"),
 * output_fields, source, tags and hostname. Returns a new object, or NULL
 * when memory runs out. */
json_t *event_alert_json(const struct rules_rule *rule, struct event_fields *fields,
	const char *hostname);

/* Formats ns since the epoch as RFC 3339 UTC with nanoseconds into buf
 * (at least 32 bytes). */
void event_time_rfc3339(int64_t ns, char *buf, size_t size);

/* Formats ns since the epoch as Falco's evt.time does, the local time of day
 * with nanoseconds ("11:00:00.123456789"), into buf (at least 32 bytes). */
void event_time_clock(int64_t ns, char *buf, size_t size);
