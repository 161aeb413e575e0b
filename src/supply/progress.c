/* The progress line: formatting, the redraw interval and the terminal
 * check. Drawing goes through one write(2) per redraw, so a line is never
 * interleaved with another thread's. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/time.h"
#include "supply/progress.h"

#define BAR_WIDTH 30

void progress_init_fd(struct progress *p, int fd)
{
	p->fd = fd;
	p->label[0] = '\0';
	p->unit = PROGRESS_ITEMS;
	p->total = 0;
	atomic_init(&p->done, 0);
	atomic_init(&p->next_draw_ms, 0);
	atomic_flag_clear(&p->drawing);
	p->drawn = false;
}

void progress_init_stderr(struct progress *p)
{
	const char *term = getenv("TERM");
	bool terminal = isatty(STDERR_FILENO) && !(term && strcmp(term, "dumb") == 0);

	progress_init_fd(p, terminal ? STDERR_FILENO : -1);
}

/* Formats bytes with a binary prefix and one decimal: "512 B", "1.2 GiB". */
static void format_bytes(uint64_t bytes, char *text, size_t size)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	double value = (double)bytes;
	size_t unit = 0;

	if (bytes < 1024) {
		snprintf(text, size, "%" PRIu64 " B", bytes);
		return;
	}
	value /= 1024;
	while (value >= 1024 && unit + 1 < sizeof(units) / sizeof(units[0])) {
		value /= 1024;
		unit++;
	}
	snprintf(text, size, "%.1f %s", value, units[unit]);
}

static void format_amount(const struct progress *p, uint64_t amount, char *text, size_t size)
{
	if (p->unit == PROGRESS_BYTES)
		format_bytes(amount, text, size);
	else
		snprintf(text, size, "%" PRIu64, amount);
}

static void write_all(int fd, const char *text, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, text, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;  /* a progress line is not worth failing over */
		text += n;
		len -= (size_t)n;
	}
}

/* Draws "\r<label> [#####-----]  42%  done / total" over the current line;
 * without a total, "\r<label>  done". */
static void draw(struct progress *p)
{
	uint64_t done = atomic_load(&p->done);
	char line[256], done_text[32], total_text[32];
	int len;

	format_amount(p, done, done_text, sizeof(done_text));
	if (p->total > 0) {
		uint64_t shown = done < p->total ? done : p->total;
		unsigned percent = (unsigned)((double)shown * 100.0 / (double)p->total);
		unsigned filled = (unsigned)((double)shown * BAR_WIDTH / (double)p->total);
		char bar[BAR_WIDTH + 1];

		for (unsigned i = 0; i < BAR_WIDTH; i++)
			bar[i] = i < filled ? '#' : '-';
		bar[BAR_WIDTH] = '\0';
		format_amount(p, p->total, total_text, sizeof(total_text));
		len = snprintf(line, sizeof(line), "\r\033[K%s [%s] %3u%%  %s / %s", p->label, bar,
			percent, done_text, total_text);
	} else {
		len = snprintf(line, sizeof(line), "\r\033[K%s  %s", p->label, done_text);
	}
	if (len < 0)
		return;
	if ((size_t)len >= sizeof(line))
		len = (int)sizeof(line) - 1;
	write_all(p->fd, line, (size_t)len);
	p->drawn = true;
}

/* Redraws when the interval has passed and no other thread is drawing. */
static void maybe_draw(struct progress *p, bool force)
{
	int64_t now = wd_monotonic_ms();

	if (!force && now < atomic_load(&p->next_draw_ms))
		return;
	if (atomic_flag_test_and_set(&p->drawing))
		return;
	atomic_store(&p->next_draw_ms, now + PROGRESS_INTERVAL_MS);
	draw(p);
	atomic_flag_clear(&p->drawing);
}

void progress_start(struct progress *p, const char *label, enum progress_unit unit,
	uint64_t total)
{
	if (!p || p->fd < 0)
		return;
	snprintf(p->label, sizeof(p->label), "%s", label);
	p->unit = unit;
	p->total = total;
	atomic_store(&p->done, 0);
	maybe_draw(p, true);
}

void progress_add(struct progress *p, uint64_t delta)
{
	if (!p || p->fd < 0)
		return;
	atomic_fetch_add(&p->done, delta);
	maybe_draw(p, false);
}

void progress_set(struct progress *p, uint64_t done)
{
	if (!p || p->fd < 0)
		return;
	atomic_store(&p->done, done);
	maybe_draw(p, false);
}

void progress_finish(struct progress *p)
{
	if (!p || p->fd < 0 || !p->drawn)
		return;
	write_all(p->fd, "\r\033[K", 4);
	p->drawn = false;
}
