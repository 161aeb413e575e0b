/* The alert outputs and responses of `warden sensor run`. */
#include <errno.h>
#include <string.h>
#include <syslog.h>

#include "cli/cli_args.h"
#include "cli/cmd_sensor_output.h"

static void forward(struct sensor_output *out, const char *kind, const char *json)
{
	if (!out->forward)
		return;
	pthread_mutex_lock(&out->forward_lock);
	out->forward(kind, json, out->forward_ctx);
	pthread_mutex_unlock(&out->forward_lock);
}

/* The audit hook: one record a line. stdio locks the stream for each call,
 * so a record never interleaves with an alert line written meanwhile. */
static void write_audit(const char *record, void *ctx)
{
	struct sensor_output *out = ctx;
	FILE *stream = out->audit;
	size_t len = strlen(record);
	char line[4096];

	if (len + 1 < sizeof(line)) {
		memcpy(line, record, len);
		line[len] = '\n';
		fwrite(line, 1, len + 1, stream);
	} else {
		flockfile(stream);
		fputs(record, stream);
		fputc('\n', stream);
		funlockfile(stream);
	}
	fflush(stream);
	forward(out, "response", record);
}

static int open_runner(struct sensor_output *out, const struct sensor_output_args *args,
	const char *hostname)
{
	unsigned all = response_plan_all(out->plan);
	struct response_runner_config config = {
		.dry_run = args->dry_run,
		.hostname = hostname,
		.notify = out->config.notify.url ? &out->config.notify : NULL,
		.revoke = args->revoke,
		.revoke_ctx = args->revoke_ctx,
		.audit = write_audit,
		.audit_ctx = out,
	};
	struct wd_error err = { 0 };

	if (!all)
		return CLI_CONTINUE;
	if ((all & RESPONSE_BIT(RESPONSE_REVOKE)) && !config.revoke)
		fprintf(stderr, "warden sensor: warning: revoke actions will fail: no revoke "
			"handler is configured\n");
	if (response_runner_new(&config, &out->runner, &err) < 0) {
		fprintf(stderr, "warden sensor: %s\n", wd_error_text(&err));
		return CLI_EXIT_FAILURE;
	}
	return CLI_CONTINUE;
}

int sensor_output_open(struct sensor_output *out, const struct sensor_output_args *args,
	const struct rules_set *set, FILE *alerts, const char *hostname)
{
	struct wd_error err = { 0 };

	memset(out, 0, sizeof(*out));
	out->audit = alerts;
	out->forward = args->forward;
	out->forward_ctx = args->forward_ctx;
	pthread_mutex_init(&out->forward_lock, NULL);
	out->forward_lock_ready = true;
	if (args->responses && response_config_load(args->responses, &out->config, &err) < 0) {
		fprintf(stderr, "warden sensor: %s\n", wd_error_text(&err));
		return CLI_EXIT_FAILURE;
	}
	if (response_plan_build(set, args->responses ? &out->config : NULL, &out->plan,
		&err) < 0) {
		fprintf(stderr, "warden sensor: %s\n", wd_error_text(&err));
		return CLI_EXIT_FAILURE;
	}
	if (args->audit) {
		out->audit = fopen(args->audit, "ae");
		if (!out->audit) {
			fprintf(stderr, "warden sensor: cannot open '%s': %s\n", args->audit,
				strerror(errno));
			return CLI_EXIT_FAILURE;
		}
		out->own_audit = true;
	}
	if ((args->syslog || args->syslog_socket) &&
	    response_syslog_open(args->syslog_socket, LOG_AUTHPRIV, &out->syslog, &err) < 0) {
		fprintf(stderr, "warden sensor: %s\n", wd_error_text(&err));
		return CLI_EXIT_FAILURE;
	}
	return open_runner(out, args, hostname);
}

void sensor_output_alert(struct sensor_output *out, const struct rules_rule *rule,
	const char *text, const struct sensor_event *event)
{
	unsigned actions = response_plan_actions(out->plan, rule);

	forward(out, "alert", text);

	if (out->syslog && response_syslog_send(out->syslog,
		    response_syslog_severity(rule->priority), text, NULL) < 0)
		out->syslog_failures++;
	if (actions && out->runner) {
		struct response_target target = {
			.rule = rule->name,
			.pid = event->header.pid,
			.event_ns = event->header.timestamp_ns,
			.alert_json = text,
		};

		response_runner_run(out->runner, actions, &target);
		out->responses++;
	}
}

void sensor_output_close(struct sensor_output *out)
{
	if (out->runner) {
		struct response_notify_stats stats;

		response_runner_stop(out->runner);
		stats = response_runner_notify_stats(out->runner);
		fprintf(stderr, "warden sensor: %llu alerts with responses\n", out->responses);
		if (out->config.notify.url)
			fprintf(stderr, "warden sensor: webhook: %llu sent, %llu failed, %llu dropped\n",
				stats.sent, stats.failed, stats.dropped);
	}
	if (out->syslog_failures)
		fprintf(stderr, "warden sensor: %llu alerts could not be sent to syslog\n",
			out->syslog_failures);
	response_runner_free(out->runner);
	response_syslog_free(out->syslog);
	response_plan_free(out->plan);
	response_config_clear(&out->config);
	if (out->own_audit && out->audit)
		fclose(out->audit);
	if (out->forward_lock_ready)
		pthread_mutex_destroy(&out->forward_lock);
	memset(out, 0, sizeof(*out));
}
