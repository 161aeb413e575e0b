/* The proxy's audit chain. Decisions are queued by the workers and written
 * by one thread, because every append waits for fdatasync and the event
 * loop must not. The queue is bounded; a full queue drops the record and
 * counts the drop in the metrics, so an attacker flooding denials cannot
 * grow the proxy's memory. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "common/log.h"
#include "proxy/metrics.h"

#define AUDIT_QUEUE_MAX 4096
#define AUDIT_TEXT_MAX 512

struct queued_record {
	char actor[AUDIT_TEXT_MAX];
	char action[32];
	char object[AUDIT_TEXT_MAX];
	char outcome[16];
	char detail[AUDIT_TEXT_MAX];
};

struct proxy_audit {
	struct audit_log *log;
	struct proxy_metrics *metrics;
	pthread_mutex_t lock;
	pthread_cond_t ready;
	pthread_t thread;
	struct queued_record *records;
	size_t head, len;
	bool stop;
};

static void copy_text(char *out, size_t size, const char *text)
{
	size_t n = text ? strnlen(text, size - 1) : 0;

	if (n)
		memcpy(out, text, n);
	out[n] = '\0';
}

static void *audit_main(void *arg)
{
	struct proxy_audit *a = arg;
	struct queued_record record;

	pthread_mutex_lock(&a->lock);
	for (;;) {
		struct audit_event event;
		struct wd_error err = { 0 };

		while (a->len == 0 && !a->stop)
			pthread_cond_wait(&a->ready, &a->lock);
		if (a->len == 0)
			break;
		record = a->records[a->head];
		a->head = (a->head + 1) % AUDIT_QUEUE_MAX;
		a->len--;
		pthread_mutex_unlock(&a->lock);

		event = (struct audit_event){
			.actor = record.actor,
			.action = record.action,
			.object = record.object,
			.outcome = record.outcome,
			.detail = record.detail[0] ? record.detail : NULL,
		};
		if (audit_append(a->log, &event, &err) < 0) {
			log_error("proxy", "audit append failed", "reason", err.detail, NULL);
			proxy_metric_add(a->metrics, PM_AUDIT_DROPPED, 1);
		} else {
			proxy_metric_add(a->metrics, PM_AUDIT_WRITTEN, 1);
		}
		pthread_mutex_lock(&a->lock);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

int proxy_audit_open(const char *path, struct proxy_metrics *m, struct proxy_audit **ret_audit,
	struct wd_error *err)
{
	struct proxy_audit *a;
	int rc;

	*ret_audit = NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	a->records = calloc(AUDIT_QUEUE_MAX, sizeof(*a->records));
	if (!a->records) {
		free(a);
		return wd_error_set(err, WD_ENOMEM, "out of memory");
	}
	rc = audit_open(path, &a->log, err);
	if (rc < 0) {
		free(a->records);
		free(a);
		return rc;
	}
	a->metrics = m;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->ready, NULL);
	if (pthread_create(&a->thread, NULL, audit_main, a) != 0) {
		audit_close(a->log);
		free(a->records);
		free(a);
		return wd_error_set(err, WD_EINTERNAL, "cannot start the audit thread");
	}
	*ret_audit = a;
	return 0;
}

void proxy_audit_record(struct proxy_audit *a, const char *actor, const char *action,
	const char *object, const char *outcome, const char *detail)
{
	struct queued_record *r;

	pthread_mutex_lock(&a->lock);
	if (a->len == AUDIT_QUEUE_MAX) {
		pthread_mutex_unlock(&a->lock);
		proxy_metric_add(a->metrics, PM_AUDIT_DROPPED, 1);
		return;
	}
	r = &a->records[(a->head + a->len) % AUDIT_QUEUE_MAX];
	copy_text(r->actor, sizeof(r->actor), actor);
	copy_text(r->action, sizeof(r->action), action);
	copy_text(r->object, sizeof(r->object), object);
	copy_text(r->outcome, sizeof(r->outcome), outcome);
	copy_text(r->detail, sizeof(r->detail), detail);
	a->len++;
	pthread_cond_signal(&a->ready);
	pthread_mutex_unlock(&a->lock);
}

void proxy_audit_close(struct proxy_audit *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	a->stop = true;
	pthread_cond_signal(&a->ready);
	pthread_mutex_unlock(&a->lock);
	pthread_join(a->thread, NULL);
	audit_close(a->log);
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->ready);
	free(a->records);
	free(a);
}
