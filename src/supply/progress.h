/* A one-line progress display for long walks and digests: a label, a count
 * or byte total, and a bar when the total is known. Redraws come at most
 * PROGRESS_INTERVAL_MS apart, and progress_init_stderr draws only on a
 * terminal, so piped output stays clean. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* The minimum time between two redraws, in milliseconds (10 per second). */
#define PROGRESS_INTERVAL_MS 100

enum progress_unit {
	PROGRESS_ITEMS,  /* done and total are counts: "12345" */
	PROGRESS_BYTES,  /* done and total are bytes: "1.2 GiB / 4.0 GiB" */
};

struct progress {
	int fd;                      /* where to draw; -1 draws nothing */
	char label[64];
	enum progress_unit unit;
	uint64_t total;              /* 0 when unknown */
	_Atomic uint64_t done;
	_Atomic int64_t next_draw_ms; /* CLOCK_MONOTONIC time of the next redraw */
	atomic_flag drawing;         /* held by the thread that draws */
	bool drawn;                  /* a line is on the screen */
};

/* Sets p up to draw on standard error when it is a terminal whose TERM is
 * not "dumb", and to draw nothing otherwise. */
void progress_init_stderr(struct progress *p);

/* Sets p up to draw on fd without a terminal check, or to draw nothing when
 * fd is -1. Tests draw into a pipe with it. */
void progress_init_fd(struct progress *p, int fd);

/* Starts a new task named label (truncated to 63 bytes) with a total in
 * unit, or 0 when the total is unknown, and draws it. p may be NULL. */
void progress_start(struct progress *p, const char *label, enum progress_unit unit,
	uint64_t total);

/* Adds delta to the amount done and redraws when PROGRESS_INTERVAL_MS
 * have passed since the last redraw. Safe to call from several threads at
 * once. p may be NULL. */
void progress_add(struct progress *p, uint64_t delta);

/* Sets the amount done to done, then redraws as progress_add does. */
void progress_set(struct progress *p, uint64_t done);

/* Erases the line, so the next output starts on a clean line. p may be
 * NULL. */
void progress_finish(struct progress *p);
