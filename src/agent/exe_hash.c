/* Executable hashing for the unix:sha256 selector, and the cache that keeps
 * repeated attestations of one binary from reading it again. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "agent/exe_hash.h"
#include "common/alloc.h"

/* The identity of one version of a file. ctime is part of it because no
 * unprivileged call can set it back, unlike mtime (utimensat). */
struct exe_key {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	struct timespec ctime;
};

struct exe_cache_entry {
	struct exe_key key;
	char hex[ATTEST_SHA256_HEX_LEN + 1];
};

struct attest_cache {
	pthread_mutex_t lock;
	struct exe_cache_entry *entries;
	size_t count;
	size_t max;
	size_t next_evict;  /* round-robin victim once the cache is full */
	uint64_t hash_count;
};

struct attest_cache *attest_cache_new(size_t max_entries)
{
	struct attest_cache *cache = calloc(1, sizeof(*cache));

	if (!cache)
		return NULL;
	cache->max = max_entries ? max_entries : ATTEST_CACHE_DEFAULT_MAX_ENTRIES;
	cache->entries = wd_calloc(cache->max, sizeof(*cache->entries));
	if (!cache->entries || pthread_mutex_init(&cache->lock, NULL) != 0) {
		free(cache->entries);
		free(cache);
		return NULL;
	}
	return cache;
}

void attest_cache_free(struct attest_cache *cache)
{
	if (!cache)
		return;
	pthread_mutex_destroy(&cache->lock);
	free(cache->entries);
	free(cache);
}

uint64_t attest_cache_hash_count(const struct attest_cache *cache)
{
	struct attest_cache *mutable_cache = (struct attest_cache *)cache;
	uint64_t count;

	if (!cache)
		return 0;
	pthread_mutex_lock(&mutable_cache->lock);
	count = cache->hash_count;
	pthread_mutex_unlock(&mutable_cache->lock);
	return count;
}

static void key_from_stat(const struct stat *st, struct exe_key *ret_key)
{
	*ret_key = (struct exe_key){
		.dev = st->st_dev,
		.ino = st->st_ino,
		.size = st->st_size,
		.mtime = st->st_mtim,
		.ctime = st->st_ctim,
	};
}

static bool key_equal(const struct exe_key *a, const struct exe_key *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
	       a->ctime.tv_sec == b->ctime.tv_sec && a->ctime.tv_nsec == b->ctime.tv_nsec;
}

static bool cache_lookup(struct attest_cache *cache, const struct exe_key *key,
	char ret_hex[static ATTEST_SHA256_HEX_LEN + 1])
{
	bool found = false;

	pthread_mutex_lock(&cache->lock);
	for (size_t i = 0; i < cache->count; i++) {
		if (key_equal(&cache->entries[i].key, key)) {
			memcpy(ret_hex, cache->entries[i].hex, ATTEST_SHA256_HEX_LEN + 1);
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&cache->lock);
	return found;
}

/* Records a new hash. An entry for an older version of the same file (same
 * device and inode) is replaced in place, so a binary rebuilt in place does
 * not fill the cache. */
static void cache_store(struct attest_cache *cache, const struct exe_key *key, const char *hex)
{
	struct exe_cache_entry *slot = NULL;

	pthread_mutex_lock(&cache->lock);
	cache->hash_count++;
	for (size_t i = 0; i < cache->count; i++) {
		if (cache->entries[i].key.dev == key->dev && cache->entries[i].key.ino == key->ino) {
			slot = &cache->entries[i];
			break;
		}
	}
	if (!slot && cache->count < cache->max)
		slot = &cache->entries[cache->count++];
	if (!slot) {
		slot = &cache->entries[cache->next_evict];
		cache->next_evict = (cache->next_evict + 1) % cache->max;
	}
	slot->key = *key;
	memcpy(slot->hex, hex, ATTEST_SHA256_HEX_LEN + 1);
	pthread_mutex_unlock(&cache->lock);
}

/* Reads fd to its end into a SHA-256 digest as lowercase hex; fails with
 * WD_ECONFLICT when more than expected bytes arrive (the file grew). */
static int hash_fd(int fd, pid_t pid, uint64_t expected, char ret_hex[static ATTEST_SHA256_HEX_LEN + 1],
	struct wd_error *err)
{
	static const char digits[] = "0123456789abcdef";
	EVP_MD_CTX *ctx = NULL;
	unsigned char digest[32];
	unsigned int digest_len = 0;
	uint8_t *chunk = NULL;
	uint64_t total = 0;
	int rc = 0;

	chunk = malloc(64 * 1024);
	WD_ENSURE(chunk, wd_error_set(err, WD_ENOMEM, "out of memory hashing an executable"));
	ctx = EVP_MD_CTX_new();
	WD_ENSURE(ctx, wd_error_set(err, WD_ENOMEM, "out of memory hashing an executable"));
	WD_ENSURE(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1,
		wd_error_set(err, WD_EINTERNAL, "SHA-256 initialization failed"));

	for (;;) {
		ssize_t n = read(fd, chunk, 64 * 1024);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = wd_error_set(err, WD_EIO, "cannot read the executable of process %d: %s",
				(int)pid, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		total += (uint64_t)n;
		WD_ENSURE(total <= expected,
			wd_error_set(err, WD_ECONFLICT,
				"executable of process %d grew while it was hashed", (int)pid));
		WD_ENSURE(EVP_DigestUpdate(ctx, chunk, (size_t)n) == 1,
			wd_error_set(err, WD_EINTERNAL, "SHA-256 update failed"));
	}
	WD_ENSURE(total == expected,
		wd_error_set(err, WD_ECONFLICT,
			"executable of process %d shrank while it was hashed", (int)pid));
	WD_ENSURE(EVP_DigestFinal_ex(ctx, digest, &digest_len) == 1 && digest_len == sizeof(digest),
		wd_error_set(err, WD_EINTERNAL, "SHA-256 finalization failed"));

	for (size_t i = 0; i < sizeof(digest); i++) {
		ret_hex[2 * i] = digits[digest[i] >> 4];
		ret_hex[2 * i + 1] = digits[digest[i] & 0x0f];
	}
	ret_hex[ATTEST_SHA256_HEX_LEN] = '\0';
out:
	EVP_MD_CTX_free(ctx);
	free(chunk);
	return rc;
}

int attest_exe_hash(int dir_fd, pid_t pid, uint64_t max_size, struct attest_cache *cache,
	char ret_hex[static ATTEST_SHA256_HEX_LEN + 1], struct wd_error *err)
{
	_wd_cleanup_(wd_closep) int fd = -1;
	char hex[ATTEST_SHA256_HEX_LEN + 1];
	struct exe_key before;
	struct exe_key after;
	struct stat st;

	ret_hex[0] = '\0';

	/* Opening the exe link gives the very file the process runs, even if its
	 * path now names another file. O_NONBLOCK keeps a FIFO from blocking us
	 * before the regular-file check below rejects it. */
	fd = openat(dir_fd, "exe", O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT || errno == ESRCH)
			return wd_error_set(err, WD_ENOTFOUND,
				"process %d has no executable to hash (exited or kernel thread)",
				(int)pid);
		return wd_error_set(err, errno == EACCES || errno == EPERM ? WD_EPERM : WD_EIO,
			"cannot open /proc/%d/exe: %s", (int)pid, strerror(errno));
	}
	if (fstat(fd, &st) < 0)
		return wd_error_set(err, WD_EIO, "cannot stat the executable of process %d: %s",
			(int)pid, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return wd_error_set(err, WD_EINVAL, "executable of process %d is not a regular file",
			(int)pid);
	if ((uint64_t)st.st_size > max_size)
		return wd_error_set(err, WD_ETOOBIG,
			"executable of process %d is %lld bytes, more than the maximum %llu to hash",
			(int)pid, (long long)st.st_size, (unsigned long long)max_size);

	key_from_stat(&st, &before);
	if (cache && cache_lookup(cache, &before, ret_hex))
		return 0;

	WD_TRY(hash_fd(fd, pid, (uint64_t)st.st_size, hex, err));

	if (fstat(fd, &st) < 0)
		return wd_error_set(err, WD_EIO, "cannot stat the executable of process %d: %s",
			(int)pid, strerror(errno));
	key_from_stat(&st, &after);
	if (!key_equal(&before, &after))
		return wd_error_set(err, WD_ECONFLICT,
			"executable of process %d changed while it was hashed", (int)pid);

	if (cache)
		cache_store(cache, &before, hex);
	memcpy(ret_hex, hex, sizeof(hex));
	return 0;
}
