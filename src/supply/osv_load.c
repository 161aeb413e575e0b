/* Loading an OSV database directory: every regular file named *.json below
 * it. The walk lists the files first. Worker threads then read and parse
 * them, because a database of 100,000 files spends most of its load time
 * in open and read. Last, the records are registered in path order, so the
 * result does not depend on the listing order or the threads. Entries
 * whose name starts with '.' (a clone's .git directory) are skipped, and
 * symbolic links are followed to files but not to directories, so a link
 * cannot make the walk loop. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "supply/osv_internal.h"

/* Worker threads: at most this many, and one per this many files. */
#define MAX_WORKERS 8
#define FILES_PER_WORKER 256

/* Directories kept open, so the workers open each file by its name alone
 * and the kernel walks no path per file. Files in further directories are
 * opened by their path from the root. */
#define MAX_OPEN_DIRS 256

struct entry {
	char *path;                 /* relative to the root */
	int dir;                    /* index of its open directory, or -1 */
	size_t name_offset;         /* where its name starts in path */
	struct osv_record *record;  /* the record read, or NULL */
	char *problem;              /* why the file was skipped, or NULL */
	int code;                   /* a failure that stops the load, or 0 */
	char *error;                /* its message */
};

struct loader {
	struct osv_db *db;
	const char *root;
	int root_fd;
	int dir_fds[MAX_OPEN_DIRS];
	size_t dir_count;
	struct entry *entries;
	size_t count;
	size_t cap;
	char path[PATH_MAX];  /* the walk's current entry, relative to the root */
	atomic_size_t next;   /* the next entry a worker takes */
	atomic_bool stop;     /* set when a worker hits a failure */
	struct wd_error *err;
};

struct worker {
	struct loader *loader;
	pthread_t thread;
	struct osv_json json;
	struct osv_arena arena;
	char *buf;
	size_t cap;
};

static int walk_error(struct loader *l, const char *what, int errno_value)
{
	int code = errno_value == ENOENT ? WD_ENOTFOUND :
		   errno_value == EACCES || errno_value == EPERM ? WD_EPERM : WD_EIO;

	return wd_error_set(l->err, code, "%s %s/%s failed: %s", what, l->root, l->path,
		strerror(errno_value));
}

static bool has_json_suffix(const char *name)
{
	size_t len = strlen(name);

	return len > 5 && !strcmp(name + len - 5, ".json");
}

static int add_entry(struct loader *l, int dir, size_t name_offset)
{
	if (l->count >= OSV_MAX_RECORDS)
		return wd_error_set(l->err, WD_ETOOBIG, "%s: more than %u files", l->root,
			OSV_MAX_RECORDS);
	if (l->count == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 1024;
		struct entry *grown = wd_reallocarray(l->entries, cap, sizeof(*grown));

		if (!grown)
			return wd_error_set(l->err, WD_ENOMEM, "out of memory listing %s", l->root);
		l->entries = grown;
		l->cap = cap;
	}
	l->entries[l->count] = (struct entry){
		.path = strdup(l->path), .dir = dir, .name_offset = name_offset,
	};
	if (!l->entries[l->count].path)
		return wd_error_set(l->err, WD_ENOMEM, "out of memory listing %s", l->root);
	l->count++;
	return 0;
}

static int walk(struct loader *l, int dir_fd, size_t path_len, unsigned depth);

/* Handles one directory entry of the directory open at dir_fd (kept open
 * at index dir, or -1); l->path already names the entry. */
static int visit(struct loader *l, int dir_fd, int dir, const struct dirent *de,
	size_t path_len, unsigned depth)
{
	unsigned char type = de->d_type;
	struct stat st;

	if (type == DT_UNKNOWN || type == DT_LNK) {
		/* A link counts as what it points to, except a directory. */
		if (fstatat(dir_fd, de->d_name, &st, type == DT_LNK ? 0 : AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT && type == DT_LNK)
				return 0;  /* a dangling link */
			return walk_error(l, "reading", errno);
		}
		if (S_ISDIR(st.st_mode) && type == DT_LNK)
			return 0;
		type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
	}

	if (type == DT_DIR) {
		int sub;

		if (depth >= OSV_MAX_DIR_DEPTH)
			return wd_error_set(l->err, WD_ETOOBIG, "%s/%s: more than %u directory levels",
				l->root, l->path, OSV_MAX_DIR_DEPTH);
		sub = openat(dir_fd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (sub < 0)
			return walk_error(l, "opening", errno);
		return walk(l, sub, path_len, depth + 1);
	}
	if (type == DT_REG && has_json_suffix(de->d_name))
		return add_entry(l, dir, path_len - strlen(de->d_name));
	return 0;
}

/* Lists the directory open at dir_fd, whose path relative to the root is
 * the first path_len bytes of l->path; takes over dir_fd. */
static int walk(struct loader *l, int dir_fd, size_t path_len, unsigned depth)
{
	DIR *dir = fdopendir(dir_fd);
	int kept = -1;
	int rc = 0;

	if (!dir) {
		int saved = errno;

		close(dir_fd);
		return walk_error(l, "listing", saved);
	}
	if (l->dir_count < MAX_OPEN_DIRS) {
		int fd = dup(dir_fd);

		if (fd >= 0) {
			kept = (int)l->dir_count;
			l->dir_fds[l->dir_count++] = fd;
		}
	}
	for (;;) {
		struct dirent *de;
		size_t name_len, sub_len;

		errno = 0;
		de = readdir(dir);
		if (!de) {
			if (errno)
				rc = walk_error(l, "listing", errno);
			break;
		}
		if (de->d_name[0] == '.')
			continue;
		name_len = strlen(de->d_name);
		sub_len = path_len + (path_len ? 1 : 0) + name_len;
		if (sub_len + 1 > sizeof(l->path)) {
			rc = wd_error_set(l->err, WD_ETOOBIG, "%s/%.*s: path too long", l->root,
				(int)path_len, l->path);
			break;
		}
		if (path_len)
			l->path[path_len] = '/';
		memcpy(l->path + sub_len - name_len, de->d_name, name_len + 1);
		rc = visit(l, dirfd(dir), kept, de, sub_len, depth);
		l->path[path_len] = '\0';
		if (rc < 0)
			break;
	}
	closedir(dir);
	return rc;
}

static void fail_entry(struct entry *e, int code, const char *root, const char *what,
	int errno_value)
{
	char message[PATH_MAX + 128];

	snprintf(message, sizeof(message), "%s %s/%s failed: %s", what, root, e->path,
		strerror(errno_value));
	e->code = code;
	e->error = strdup(message);
}

static void fail_errno(struct entry *e, const char *root, const char *what, int errno_value)
{
	fail_entry(e, errno_value == ENOENT ? WD_ENOTFOUND :
		      errno_value == EACCES || errno_value == EPERM ? WD_EPERM : WD_EIO,
		root, what, errno_value);
}

/* Makes room for size + 1 bytes in the worker's buffer. */
static bool reserve(struct worker *w, size_t size)
{
	size_t cap = w->cap ? w->cap : 64 * 1024;
	char *grown;

	if (size < w->cap)
		return true;
	while (cap <= size)
		cap *= 2;
	grown = realloc(w->buf, cap);
	if (!grown)
		return false;
	w->buf = grown;
	w->cap = cap;
	return true;
}

static void set_too_large(struct entry *e)
{
	char reason[64];

	snprintf(reason, sizeof(reason), "larger than %u bytes", OSV_MAX_FILE_BYTES);
	e->problem = strdup(reason);
	if (!e->problem)
		e->code = WD_ENOMEM;
}

/* Reads the file of e into the worker's buffer; stores its length. Leaves
 * e->code or e->problem set when it cannot. The walk saw a regular file,
 * so there is no fstat: a read of a regular file that returns less than
 * it was asked for has reached the end (POSIX read()), which spares the
 * read that would return 0. A file replaced by a FIFO since the listing
 * reads as empty or fails, because it was opened with O_NONBLOCK. */
static bool read_entry(struct worker *w, struct entry *e, int fd, size_t *ret_len)
{
	size_t len = 0;

	if (!reserve(w, 0)) {
		e->code = WD_ENOMEM;
		return false;
	}
	for (;;) {
		size_t want = w->cap - 1 - len;
		ssize_t n = read(fd, w->buf + len, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fail_errno(e, w->loader->root, "reading", errno);
			return false;
		}
		len += (size_t)n;
		if (len > OSV_MAX_FILE_BYTES) {
			set_too_large(e);
			return false;
		}
		if ((size_t)n < want)
			break;
		if (!reserve(w, w->cap)) {
			e->code = WD_ENOMEM;
			return false;
		}
	}
	*ret_len = len;
	return true;
}

static void process(struct worker *w, struct entry *e)
{
	struct loader *l = w->loader;
	struct wd_error reason = { 0 };
	size_t len = 0;
	bool have;
	int fd;
	int rc;

	/* O_NONBLOCK: a FIFO that replaced the file after the listing must
	 * not block the open. */
	if (e->dir >= 0)
		fd = openat(l->dir_fds[e->dir], e->path + e->name_offset,
			O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	else
		fd = openat(l->root_fd, e->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		fail_errno(e, l->root, "opening", errno);
		return;
	}
	have = read_entry(w, e, fd, &len);
	close(fd);
	if (!have)
		return;

	rc = osv_record_read(&w->json, &w->arena, e->path, w->buf, len, &e->record, &reason);
	if (rc == WD_EINVAL) {
		e->problem = strdup(wd_error_text(&reason));
		if (!e->problem)
			e->code = WD_ENOMEM;
	} else if (rc < 0) {
		e->code = rc;
		e->error = strdup(wd_error_text(&reason));
	}
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct loader *l = w->loader;

	while (!atomic_load(&l->stop)) {
		size_t i = atomic_fetch_add(&l->next, 1);

		if (i >= l->count)
			break;
		process(w, &l->entries[i]);
		if (l->entries[i].code < 0)
			atomic_store(&l->stop, true);
	}
	return NULL;
}

static int compare_entries(const void *left, const void *right)
{
	const struct entry *a = left, *b = right;

	return strcmp(a->path, b->path);
}

static size_t worker_count(size_t files)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t n = cpus > 0 ? (size_t)cpus : 1;

	if (n > MAX_WORKERS)
		n = MAX_WORKERS;
	if (n > files / FILES_PER_WORKER + 1)
		n = files / FILES_PER_WORKER + 1;
	return n;
}

/* Reads and parses every listed file, in threads when there are enough. */
static void read_all(struct loader *l, struct worker *workers, size_t count)
{
	size_t started = 0;
	size_t budget = osv_db_arena_budget(l->db) / count;

	for (size_t i = 0; i < count; i++) {
		workers[i].loader = l;
		osv_json_init(&workers[i].json, OSV_MAX_TOKENS, OSV_MAX_DEPTH);
		osv_arena_init(&workers[i].arena, budget);
	}
	/* The first worker runs in this thread; a thread that cannot be
	 * created leaves its share to the others. */
	for (size_t i = 1; i < count; i++) {
		if (pthread_create(&workers[i].thread, NULL, work, &workers[i]) != 0)
			break;
		started++;
	}
	work(&workers[0]);
	for (size_t i = 1; i <= started; i++)
		pthread_join(workers[i].thread, NULL);
}

/* Registers the records in path order, or reports the first failure. */
static int register_all(struct loader *l, struct worker *workers, size_t count)
{
	for (size_t i = 0; i < l->count; i++) {
		const struct entry *e = &l->entries[i];

		if (e->code < 0)
			return wd_error_set(l->err, e->code, "%s", e->error ? e->error :
				wd_strerror(e->code));
	}
	/* First, so a failure below leaves no record pointing into memory the
	 * loader frees. */
	for (size_t i = 0; i < count; i++)
		WD_TRY(osv_db_adopt_arena(l->db, &workers[i].arena, l->err));
	for (size_t i = 0; i < l->count; i++) {
		struct entry *e = &l->entries[i];

		osv_db_count_file(l->db);
		if (e->problem)
			WD_TRY(osv_db_skip_file(l->db, e->path, e->problem, l->err));
		else if (e->record)
			WD_TRY(osv_db_register(l->db, e->record, l->err));
	}
	return 0;
}

int osv_db_load_dir(struct osv_db *db, const char *dir, struct wd_error *err)
{
	struct loader *l = calloc(1, sizeof(*l));
	struct worker *workers = NULL;
	size_t count = 0;
	int fd;
	int rc = 0;

	if (!l)
		return wd_error_set(err, WD_ENOMEM, "out of memory for the directory walk");
	l->db = db;
	l->root = dir;
	l->err = err;
	l->root_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->root_fd < 0) {
		int saved = errno;

		free(l);
		return wd_error_set(err, saved == ENOENT ? WD_ENOTFOUND : saved == ENOTDIR ?
			WD_EINVAL : WD_EIO, "opening the OSV database %s failed: %s", dir,
			strerror(saved));
	}

	fd = dup(l->root_fd);
	if (fd < 0) {
		rc = wd_error_set(err, WD_EIO, "opening the OSV database %s failed: %s", dir,
			strerror(errno));
		goto out;
	}
	WD_GUARD(walk(l, fd, 0, 0));
	if (l->count > 1)
		qsort(l->entries, l->count, sizeof(*l->entries), compare_entries);

	count = worker_count(l->count);
	workers = wd_calloc(count, sizeof(*workers));
	WD_ENSURE(workers, wd_error_set(err, WD_ENOMEM, "out of memory for the loader"));
	read_all(l, workers, count);
	WD_GUARD(register_all(l, workers, count));
out:
	for (size_t i = 0; workers && i < count; i++) {
		osv_json_free(&workers[i].json);
		osv_arena_free(&workers[i].arena);
		free(workers[i].buf);
	}
	free(workers);
	for (size_t i = 0; i < l->count; i++) {
		free(l->entries[i].path);
		free(l->entries[i].problem);
		free(l->entries[i].error);
	}
	free(l->entries);
	for (size_t i = 0; i < l->dir_count; i++)
		close(l->dir_fds[i]);
	close(l->root_fd);
	free(l);
	return rc;
}
