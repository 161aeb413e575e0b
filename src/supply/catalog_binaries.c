/* Executables known by their digest: every regular file with an execute bit
 * whose ELF header says executable or shared object gets a binary package
 * with its SHA-256, so admission and scanning can match the exact file. Go
 * binaries among them also add their modules. Files are hashed by a few
 * threads with large reads, because a root filesystem contains gigabytes of
 * executables, and hard links to one inode are read once. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "supply/catalog_lang.h"
#include "supply/gobin.h"
#include "supply/progress.h"
#include "supply/sbom_files.h"

#define READ_BUFFER_BYTES (1u << 20)
#define MAX_THREADS 4
#define ET_EXEC 2
#define ET_DYN 3

/* The result of hashing one file. */
struct file_result {
	bool is_elf;            /* an ELF executable or shared object */
	char sha256[65];
	const char *arch;       /* GOARCH name of the ELF machine, NULL when unknown */
	bool has_go;
	struct gobin_info go;
	char *warning;          /* "path: reason" when the file was skipped */
};

struct job {
	const struct sbom_file *file;
	size_t same_as;  /* index of an earlier job for the same inode, or SIZE_MAX */
	struct file_result result;
};

struct pool {
	int root_fd;
	struct job *jobs;
	size_t count;
	_Atomic size_t next;
	_Atomic int failure;  /* WD_ENOMEM when a worker ran out of memory */
	struct progress *progress;
	EVP_MD *sha256;
};

struct fd_reader {
	int fd;
};

static int fd_read_at(void *ctx, uint64_t offset, void *buf, size_t len)
{
	const struct fd_reader *reader = ctx;
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(reader->fd, (uint8_t *)buf + done, len - done,
			(off_t)(offset + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return WD_EIO;
		if (n == 0)
			return WD_ETRUNCATED;
		done += (size_t)n;
	}
	return 0;
}

/* Reads into buf until it contains want bytes or the file ends. */
static ssize_t read_at_least(int fd, uint8_t *buf, size_t size, size_t want)
{
	size_t len = 0;

	while (len < want) {
		ssize_t n = read(fd, buf + len, size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	return (ssize_t)len;
}

static void to_hex(const unsigned char *digest, char hex[static 65])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		hex[2 * i] = digits[digest[i] >> 4];
		hex[2 * i + 1] = digits[digest[i] & 0xf];
	}
	hex[64] = '\0';
}

/* Hashes the file behind fd from its start, adding the bytes read to
 * progress and to *bytes_read. With require_elf, stops after the first read
 * when the file is no ELF executable or shared object. */
static int digest_fd(int fd, const char *path, uint8_t *buf, bool require_elf,
	const EVP_MD *sha256, struct progress *progress, uint64_t *bytes_read,
	struct file_result *result, struct wd_error *err)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len = 0;
	struct elf_header header;
	EVP_MD_CTX *ctx = NULL;
	ssize_t n;
	int rc = 0;

	n = read_at_least(fd, buf, READ_BUFFER_BYTES, 64);
	if (n < 0)
		return wd_error_set(err, WD_EIO, "%s: %s", path, strerror(errno));
	progress_add(progress, (uint64_t)n);
	*bytes_read += (uint64_t)n;
	if (elf_header_parse(buf, (size_t)n, &header, NULL) == 0 &&
	    (header.type == ET_EXEC || header.type == ET_DYN)) {
		result->is_elf = true;
		result->arch = elf_arch_name(&header);
	}
	if (require_elf && !result->is_elf)
		return 0;

	ctx = EVP_MD_CTX_new();
	WD_ENSURE(ctx, wd_error_set(err, WD_ENOMEM, "out of memory for a SHA-256 context"));
	WD_ENSURE(EVP_DigestInit_ex(ctx, sha256, NULL), wd_error_set(err, WD_ECRYPTO,
		"SHA-256 of %s failed", path));
	while (n > 0) {
		WD_ENSURE(EVP_DigestUpdate(ctx, buf, (size_t)n), wd_error_set(err, WD_ECRYPTO,
			"SHA-256 of %s failed", path));
		do {
			n = read(fd, buf, READ_BUFFER_BYTES);
		} while (n < 0 && errno == EINTR);
		WD_ENSURE(n >= 0, wd_error_set(err, WD_EIO, "%s: %s", path, strerror(errno)));
		progress_add(progress, (uint64_t)n);
		*bytes_read += (uint64_t)n;
	}
	WD_ENSURE(EVP_DigestFinal_ex(ctx, digest, &digest_len) && digest_len == 32,
		wd_error_set(err, WD_ECRYPTO, "SHA-256 of %s failed", path));
	to_hex(digest, result->sha256);
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* Reads the Go build information of an ELF file; a file without any is
 * simply not a Go binary. */
static int read_go_info(int fd, const char *path, struct file_result *result,
	struct wd_error *err)
{
	struct fd_reader fd_reader = { fd };
	struct gobin_reader reader = { fd_read_at, &fd_reader, 0 };
	struct wd_error go_err = { 0 };
	struct stat st;
	int rc;

	if (fstat(fd, &st) < 0)
		return wd_error_set(err, WD_EIO, "%s: %s", path, strerror(errno));
	reader.size = (uint64_t)st.st_size;
	rc = gobin_read_elf(&reader, &result->go, &go_err);
	if (rc == WD_ENOTFOUND)
		return 0;
	if (rc == WD_ENOMEM)
		return wd_error_set(err, rc, "%s: %s", path, go_err.detail);
	if (rc < 0) {
		/* The digest stays; only the modules are missing. */
		if (asprintf(&result->warning, "%s: Go build information not read: %s", path,
			    go_err.detail) < 0)
			result->warning = NULL;
		return 0;
	}
	result->has_go = true;
	return 0;
}

static int process_job(struct pool *pool, struct job *job, uint8_t *buf)
{
	struct file_result *result = &job->result;
	struct wd_error err = { 0 };
	uint64_t bytes_read = 0;
	int fd, rc;

	fd = sbom_open_beneath(pool->root_fd, job->file->path, &err);
	if (fd == WD_ENOTFOUND) {
		progress_add(pool->progress, job->file->size);
		return 0;  /* removed since the walk */
	}
	if (fd >= 0) {
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
		rc = digest_fd(fd, job->file->path, buf, true, pool->sha256, pool->progress,
			&bytes_read, result, &err);
		if (rc == 0 && result->is_elf)
			rc = read_go_info(fd, job->file->path, result, &err);
		close(fd);
	} else {
		rc = fd;
	}
	/* Count the bytes of a file skipped early, or shorter than at the walk. */
	if (job->file->size > bytes_read)
		progress_add(pool->progress, job->file->size - bytes_read);
	if (rc == WD_ENOMEM)
		return rc;
	if (rc < 0) {
		result->is_elf = false;
		if (asprintf(&result->warning, "%s", err.detail) < 0)
			result->warning = NULL;
	}
	return 0;
}

static void *worker(void *arg)
{
	struct pool *pool = arg;
	uint8_t *buf = malloc(READ_BUFFER_BYTES);

	if (!buf) {
		atomic_store(&pool->failure, WD_ENOMEM);
		return NULL;
	}
	for (;;) {
		size_t i = atomic_fetch_add(&pool->next, 1);

		if (i >= pool->count || atomic_load(&pool->failure) < 0)
			break;
		if (pool->jobs[i].same_as != SIZE_MAX)
			continue;
		if (process_job(pool, &pool->jobs[i], buf) < 0)
			atomic_store(&pool->failure, WD_ENOMEM);
	}
	free(buf);
	return NULL;
}

/* Runs worker on up to MAX_THREADS threads, the calling one included. */
static void run_pool(struct pool *pool)
{
	pthread_t threads[MAX_THREADS];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t thread_count = cpus > 0 ? (size_t)cpus : 1, started = 0;

	if (thread_count > MAX_THREADS)
		thread_count = MAX_THREADS;
	if (thread_count > pool->count)
		thread_count = pool->count ? pool->count : 1;
	while (started + 1 < thread_count &&
	       pthread_create(&threads[started], NULL, worker, pool) == 0)
		started++;
	worker(pool);
	for (size_t i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
}

static int compare_inodes(const void *left, const void *right)
{
	const struct job *const *a = left, *const *b = right;
	const struct sbom_file *fa = (*a)->file, *fb = (*b)->file;

	if (fa->dev != fb->dev)
		return fa->dev < fb->dev ? -1 : 1;
	if (fa->ino != fb->ino)
		return fa->ino < fb->ino ? -1 : 1;
	return *a < *b ? -1 : *a > *b;
}

/* Points every job for an inode already seen at the first job for it. */
static int mark_hard_links(struct job *jobs, size_t count, struct wd_error *err)
{
	struct job **order = calloc(count ? count : 1, sizeof(*order));

	if (!order)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	for (size_t i = 0; i < count; i++)
		order[i] = &jobs[i];
	qsort(order, count, sizeof(*order), compare_inodes);
	for (size_t i = 1; i < count; i++) {
		if (order[i]->file->dev == order[i - 1]->file->dev &&
		    order[i]->file->ino == order[i - 1]->file->ino) {
			struct job *first = order[i - 1];

			while (first->same_as != SIZE_MAX)
				first = &jobs[first->same_as];
			order[i]->same_as = (size_t)(first - jobs);
		}
	}
	free(order);
	return 0;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Adds the Go modules of a binary, built in a catalog of their own first so
 * that a module the catalog rejects (an invalid path) becomes a warning
 * while a full catalog stops the run. */
static int add_go_modules(struct sbom_catalog *catalog, const char *path,
	const struct gobin_info *info, struct wd_error *err)
{
	struct wd_error go_err = { 0 };
	struct sbom_catalog modules;
	int rc;

	sbom_catalog_init(&modules, catalog->max);
	rc = gobin_catalog_info(info, path, &modules, &go_err);
	if (rc == WD_ENOMEM) {
		rc = wd_error_set(err, rc, "%s: %s", path, go_err.detail);
	} else if (rc < 0) {
		rc = sbom_catalog_warn(catalog, "%s: Go modules not listed: %s", path,
			go_err.detail);
		if (rc < 0)
			rc = wd_error_set(err, rc, "out of memory");
	} else {
		for (size_t i = 0; i < modules.count && rc == 0; i++)
			rc = sbom_catalog_add(catalog, &modules.packages[i], err);
	}
	sbom_catalog_free(&modules);
	return rc;
}

/* Adds the binary package for a file, and its Go modules. */
static int add_binary(struct sbom_catalog *catalog, const char *path,
	const struct file_result *result, struct wd_error *err)
{
	struct sbom_package pkg = { .type = SBOM_TYPE_BINARY };
	int rc = 0;

	pkg.name = strdup(base_name(path));
	pkg.location = strdup(path);
	pkg.sha256 = strdup(result->sha256);
	pkg.arch = result->arch ? strdup(result->arch) : NULL;
	WD_ENSURE(pkg.name && pkg.location && pkg.sha256 && (pkg.arch || !result->arch),
		wd_error_set(err, WD_ENOMEM, "out of memory"));
	WD_GUARD(sbom_catalog_add(catalog, &pkg, err));
	if (result->has_go)
		WD_GUARD(add_go_modules(catalog, path, &result->go, err));
out:
	sbom_package_free(&pkg);
	return rc;
}

static int add_results(struct sbom_catalog *catalog, const struct job *jobs, size_t count,
	struct wd_error *err)
{
	for (size_t i = 0; i < count; i++) {
		const struct job *job = &jobs[i];
		const struct file_result *result =
			job->same_as == SIZE_MAX ? &job->result : &jobs[job->same_as].result;

		if (job->result.warning && sbom_catalog_warn(catalog, "%s", job->result.warning) < 0)
			return wd_error_set(err, WD_ENOMEM, "out of memory");
		if (result->is_elf)
			WD_TRY(add_binary(catalog, job->file->path, result, err));
	}
	return 0;
}

int binaries_catalog_root(const char *root, struct sbom_catalog *catalog, struct wd_error *err)
{
	const struct sbom_files *files;
	struct pool pool = { .root_fd = -1 };
	uint64_t total = 0;
	int rc = 0;

	WD_TRY(sbom_catalog_files(root, catalog, &files, err));
	pool.root_fd = files->root_fd;
	pool.progress = catalog->progress;
	pool.jobs = calloc(files->count ? files->count : 1, sizeof(*pool.jobs));
	WD_ENSURE(pool.jobs, wd_error_set(err, WD_ENOMEM, "out of memory"));
	for (size_t i = 0; i < files->count; i++) {
		if (files->items[i].kind != SBOM_FILE_EXECUTABLE)
			continue;
		pool.jobs[pool.count++] = (struct job){ .file = &files->items[i], .same_as = SIZE_MAX };
		total += files->items[i].size;
	}
	WD_GUARD(mark_hard_links(pool.jobs, pool.count, err));
	pool.sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	WD_ENSURE(pool.sha256, wd_error_set(err, WD_ECRYPTO, "SHA-256 is not available"));
	atomic_init(&pool.next, 0);
	atomic_init(&pool.failure, 0);

	progress_start(pool.progress, "hashing executables", PROGRESS_BYTES, total);
	run_pool(&pool);
	progress_finish(pool.progress);
	WD_ENSURE(atomic_load(&pool.failure) == 0, wd_error_set(err, WD_ENOMEM,
		"out of memory while hashing executables"));
	WD_GUARD(add_results(catalog, pool.jobs, pool.count, err));
out:
	for (size_t i = 0; pool.jobs && i < pool.count; i++) {
		gobin_info_free(&pool.jobs[i].result.go);
		free(pool.jobs[i].result.warning);
	}
	free(pool.jobs);
	EVP_MD_free(pool.sha256);
	return rc;
}

int binaries_catalog_file(const char *path, struct sbom_catalog *catalog, struct wd_error *err)
{
	struct file_result result = { 0 };
	uint64_t bytes_read = 0;
	uint8_t *buf = NULL;
	EVP_MD *sha256 = NULL;
	char location[4096];
	struct stat st;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return wd_error_set(err, errno == ENOENT ? WD_ENOTFOUND : WD_EIO, "%s: %s", path,
			strerror(errno));
	WD_ENSURE(fstat(fd, &st) == 0 && S_ISREG(st.st_mode), wd_error_set(err, WD_EINVAL,
		"%s: not a regular file", path));
	snprintf(location, sizeof(location), "/%s", base_name(path));

	buf = malloc(READ_BUFFER_BYTES);
	sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	WD_ENSURE(buf && sha256, wd_error_set(err, WD_ENOMEM, "out of memory"));
	progress_start(catalog->progress, "hashing", PROGRESS_BYTES, (uint64_t)st.st_size);
	rc = digest_fd(fd, path, buf, false, sha256, catalog->progress, &bytes_read, &result,
		err);
	progress_finish(catalog->progress);
	WD_GUARD(rc);
	if (result.is_elf)
		WD_GUARD(read_go_info(fd, location, &result, err));
	if (result.warning)
		WD_ENSURE(sbom_catalog_warn(catalog, "%s", result.warning) == 0,
			wd_error_set(err, WD_ENOMEM, "out of memory"));

	/* Given on its own, the file is listed whatever its type. */
	WD_GUARD(add_binary(catalog, location, &result, err));
out:
	gobin_info_free(&result.go);
	free(result.warning);
	free(buf);
	EVP_MD_free(sha256);
	close(fd);
	return rc;
}
