/* An LD_PRELOAD diagnostic for bench/run.sh: sets TCP_NODELAY on every TCP
 * socket right after connect() and accept4(), to measure how much of the
 * API latency comes from Nagle's algorithm meeting delayed ACKs when a
 * request or response is written in two pieces. Not for production use. */
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

typedef int (*connect_fn)(int, const struct sockaddr *, socklen_t);
typedef int (*accept4_fn)(int, struct sockaddr *, socklen_t *, int);

int connect(int fd, const struct sockaddr *address, socklen_t length);
int accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);

static void set_nodelay(int fd)
{
	struct sockaddr_storage local;
	socklen_t length = sizeof(local);
	int one = 1;

	if (getsockname(fd, (struct sockaddr *)&local, &length) == 0 &&
	    (local.ss_family == AF_INET || local.ss_family == AF_INET6))
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int connect(int fd, const struct sockaddr *address, socklen_t length)
{
	connect_fn next = (connect_fn)dlsym(RTLD_NEXT, "connect");
	int rc = next(fd, address, length);

	/* A non-blocking connect returns EINPROGRESS; the option still applies. */
	set_nodelay(fd);
	return rc;
}

int accept4(int fd, struct sockaddr *address, socklen_t *length, int flags)
{
	accept4_fn next = (accept4_fn)dlsym(RTLD_NEXT, "accept4");
	int rc = next(fd, address, length, flags);

	if (rc >= 0)
		set_nodelay(rc);
	return rc;
}
