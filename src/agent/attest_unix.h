/* Unix workload attestation: turns the peer credentials of a Workload API
 * connection into the workload's selectors, as SPIRE's unix attestor does,
 * plus the cgroup path and container id its docker and containerd
 * attestors find. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/selectors.h"
#include "common/error.h"
#include "common/macros.h"

/* Selectors this attestor emits (the value after each prefix is shown in
 * angle brackets):
 *   unix:uid:<uid>                     unix:user:<name>
 *   unix:gid:<gid>                     unix:group:<name>
 *   unix:supplementary_gid:<gid>       unix:supplementary_group:<name>
 *   unix:path:<absolute executable path>
 *   unix:sha256:<64 lowercase hex digits of the executable's SHA-256>
 *   cgroup:<unified hierarchy path>    for example cgroup:/system.slice/foo.service
 *   cgroup:container_id:<64 lowercase hex digits>
 * user and group selectors are left out when the id has no name in the
 * passwd or group database. Path, name and cgroup selectors are left out
 * when their value is not printable ASCII or would make the selector
 * longer than AGENT_SELECTOR_MAX_LEN. Leaving a selector out can only make
 * the workload match fewer entries. */
#define ATTEST_SELECTOR_TYPE_UNIX "unix"
#define ATTEST_SELECTOR_TYPE_CGROUP "cgroup"

/* Default ceiling on the size of an executable that is hashed: 256 MiB. */
#define ATTEST_DEFAULT_MAX_EXE_SIZE (256u * 1024u * 1024u)

/* Default number of executables whose hash is kept in an attest_cache. */
#define ATTEST_CACHE_DEFAULT_MAX_ENTRIES 1024

/* The peer of a Workload API connection, from SO_PEERCRED: the kernel's
 * record of the process and its credentials at connect() time. */
struct attest_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
};

/* Attestation options. A zeroed struct (or a NULL pointer) gives the
 * defaults. */
struct attest_options {
	/* Root of the proc filesystem; NULL: "/proc". Tests point it at a fake
	 * tree of PID/{stat,status,cgroup,exe}. */
	const char *proc_root;

	/* Ceiling on the executable's size in bytes; 0: ATTEST_DEFAULT_MAX_EXE_SIZE.
	 * A larger executable fails attestation with WD_ETOOBIG, as SPIRE's
	 * workload_size_limit does. */
	uint64_t max_exe_size;

	/* Leave out unix:path and unix:sha256 (SPIRE's
	 * discover_workload_path=false). */
	bool skip_workload_path;

	/* Ceiling on the number of selectors; 0: AGENT_SELECTOR_SET_DEFAULT_MAX. */
	size_t max_selectors;

	/* Called, when not NULL, after everything has been read and before the
	 * process start time is read again. Tests use it to end or replace the
	 * process at the worst moment; production code leaves it NULL. */
	void (*before_recheck)(void *arg);
	void *before_recheck_arg;
};

/* A cache of executable hashes keyed by device, inode, size, mtime and
 * ctime, so attesting the same binary again does not read it again. It
 * locks internally and may be shared between threads. */
struct attest_cache;

/* Creates a cache of at most max_entries hashes (0: the default). Returns
 * NULL only when memory runs out. */
WD_MUST_CHECK struct attest_cache *attest_cache_new(size_t max_entries);

/* Frees the cache; accepts NULL. */
void attest_cache_free(struct attest_cache *cache);

/* Returns how many executables the cache has hashed since it was created
 * (hits do not count), for metrics and tests. */
uint64_t attest_cache_hash_count(const struct attest_cache *cache);

/* Attests the process peer->pid. uid and gid come from peer, never from
 * /proc. The rest is read through a directory fd on /proc/PID, between two
 * reads of the process start time, so a process that exits or whose pid is
 * reused during attestation is rejected. cache may be NULL (hash every
 * time). ret_set gets a new selector set that the caller frees.
 * Errors: WD_EINVAL (pid <= 0), WD_ENOTFOUND (no such process, or it exited
 * during attestation), WD_ECONFLICT (the start time changed, or the
 * executable changed while it was hashed), WD_ETOOBIG (executable over
 * max_exe_size, or too many selectors), WD_EPERM, WD_EIO, WD_ENOMEM. The
 * detail names the pid and the file. */
WD_MUST_CHECK int attest_unix_workload(const struct attest_peer *peer,
	const struct attest_options *opts, struct attest_cache *cache,
	struct agent_selector_set **ret_set, struct wd_error *err);
