/* Blocking work (PostgreSQL calls) run on a few worker threads, so that the
 * event loop keeps serving while it waits. A job's work runs on a worker;
 * its completion runs back on the loop thread, woken through an eventfd.
 * Workers start at the first job and stop when the service drains, which
 * it does before every seal and before the server closes its listeners. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/log.h"
#include "secrets/secrets_internal.h"

/* PostgreSQL work of this many requests overlaps. More workers than cores
 * still help, since each mostly waits for the database. */
#define OFFLOAD_WORKERS 4

struct offload_job {
	struct offload_job *next;
	secrets_work_fn work;
	secrets_done_fn done;
	void *context;
	int rc;
	struct wd_error err;
};

struct job_queue {
	struct offload_job *head, *tail;
};

struct offload {
	struct secrets *secrets;
	pthread_mutex_t lock;
	pthread_cond_t wake;          /* a job was queued, or stopping is set */
	struct job_queue queued;      /* waiting for a worker */
	struct job_queue finished;    /* waiting for their completion */
	bool stopping;
	pthread_t threads[OFFLOAD_WORKERS];
	size_t thread_count;
	int wake_fd;                  /* eventfd the workers write when a job finishes */
	struct event *wake_event;
};

static void queue_push(struct job_queue *queue, struct offload_job *job)
{
	job->next = NULL;
	if (queue->tail)
		queue->tail->next = job;
	else
		queue->head = job;
	queue->tail = job;
}

static struct offload_job *queue_take_all(struct job_queue *queue)
{
	struct offload_job *all = queue->head;

	queue->head = queue->tail = NULL;
	return all;
}

static void *worker_main(void *arg)
{
	struct offload *offload = arg;
	const uint64_t one = 1;

	pthread_mutex_lock(&offload->lock);
	for (;;) {
		struct offload_job *job;

		while (!offload->queued.head && !offload->stopping)
			pthread_cond_wait(&offload->wake, &offload->lock);
		job = offload->queued.head;
		if (!job)
			break;
		offload->queued.head = job->next;
		if (!offload->queued.head)
			offload->queued.tail = NULL;
		pthread_mutex_unlock(&offload->lock);

		wd_error_clear(&job->err);
		job->rc = job->work(job->context, &job->err);

		pthread_mutex_lock(&offload->lock);
		queue_push(&offload->finished, job);
		/* A full eventfd counter only means the loop is already woken. */
		if (write(offload->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			log_error("secrets", "failed to wake the event loop for a finished job",
				"error", strerror(errno));
	}
	pthread_mutex_unlock(&offload->lock);
	return NULL;
}

/* Runs the completions of every finished job, on the loop thread. */
static void run_completions(struct offload *offload)
{
	struct offload_job *job;

	pthread_mutex_lock(&offload->lock);
	job = queue_take_all(&offload->finished);
	pthread_mutex_unlock(&offload->lock);

	while (job) {
		struct offload_job *next = job->next;

		job->done(offload->secrets, job->context, job->rc, &job->err);
		free(job);
		job = next;
	}
}

static void wake_cb(evutil_socket_t fd, short events, void *arg)
{
	uint64_t count;

	(void)events;
	if (read(fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		log_error("secrets", "failed to read the job eventfd", "error", strerror(errno));
	run_completions(arg);
}

static int offload_start(struct secrets *secrets, struct wd_error *err)
{
	struct offload *offload = calloc(1, sizeof(*offload));

	if (!offload)
		return wd_error_set(err, WD_ENOMEM, "out of memory for the worker pool");
	offload->secrets = secrets;
	offload->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (offload->wake_fd < 0) {
		free(offload);
		return wd_error_set(err, WD_EIO, "eventfd failed: %s", strerror(errno));
	}
	offload->wake_event = event_new(secrets->base, offload->wake_fd, EV_READ | EV_PERSIST,
		wake_cb, offload);
	if (!offload->wake_event || event_add(offload->wake_event, NULL) < 0) {
		if (offload->wake_event)
			event_free(offload->wake_event);
		close(offload->wake_fd);
		free(offload);
		return wd_error_set(err, WD_EIO, "cannot watch the worker pool's eventfd");
	}
	pthread_mutex_init(&offload->lock, NULL);
	pthread_cond_init(&offload->wake, NULL);

	for (size_t i = 0; i < OFFLOAD_WORKERS; i++) {
		if (pthread_create(&offload->threads[i], NULL, worker_main, offload) != 0)
			break;
		offload->thread_count++;
	}
	secrets->offload = offload;
	if (offload->thread_count == 0) {
		secrets_offload_drain(secrets);
		return wd_error_set(err, WD_EIO, "cannot start a worker thread");
	}
	return 0;
}

int secrets_offload(struct secrets *secrets, secrets_work_fn work, secrets_done_fn done,
	void *context, struct wd_error *err)
{
	struct offload_job *job;

	if (!secrets->base)
		return wd_error_set(err, WD_EUNSUPPORTED, "no event loop to complete jobs on");
	if (!secrets->offload)
		WD_TRY(offload_start(secrets, err));
	job = calloc(1, sizeof(*job));
	if (!job)
		return wd_error_set(err, WD_ENOMEM, "out of memory for a job");
	job->work = work;
	job->done = done;
	job->context = context;

	pthread_mutex_lock(&secrets->offload->lock);
	queue_push(&secrets->offload->queued, job);
	pthread_cond_signal(&secrets->offload->wake);
	pthread_mutex_unlock(&secrets->offload->lock);
	return 0;
}

void secrets_offload_drain(struct secrets *secrets)
{
	struct offload *offload = secrets->offload;

	if (!offload)
		return;

	/* Workers finish every queued job before they exit. */
	pthread_mutex_lock(&offload->lock);
	offload->stopping = true;
	pthread_cond_broadcast(&offload->wake);
	pthread_mutex_unlock(&offload->lock);
	for (size_t i = 0; i < offload->thread_count; i++)
		pthread_join(offload->threads[i], NULL);

	/* Jobs left when no worker ever started fail here. */
	for (struct offload_job *job = queue_take_all(&offload->queued); job;) {
		struct offload_job *next = job->next;

		job->rc = wd_error_set(&job->err, WD_EUNAVAILABLE, "no worker thread ran the job");
		queue_push(&offload->finished, job);
		job = next;
	}
	run_completions(offload);

	event_free(offload->wake_event);
	close(offload->wake_fd);
	pthread_cond_destroy(&offload->wake);
	pthread_mutex_destroy(&offload->lock);
	free(offload);
	secrets->offload = NULL;
}
