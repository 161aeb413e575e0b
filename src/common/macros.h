/* Compiler attributes, guard macros and cleanup helpers shared by every
 * module. */
#pragma once

#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

#define WD_MUST_CHECK __attribute__((warn_unused_result))
#define WD_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define WD_UNUSED __attribute__((unused))
#define WD_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Evaluates expr (an int-returning call); on a negative result stores it in
 * the function's `rc` and jumps to its `out:` label. */
#define WD_GUARD(expr)                                                         \
	do {                                                                   \
		rc = (expr);                                                   \
		if (rc < 0)                                                    \
			goto out;                                              \
	} while (0)

/* Sets `rc` to code and jumps to `out:` when cond is false. */
#define WD_ENSURE(cond, code)                                                  \
	do {                                                                   \
		if (!(cond)) {                                                 \
			rc = (code);                                           \
			goto out;                                              \
		}                                                              \
	} while (0)

/* Returns a negative result of expr from the calling function at once. */
#define WD_TRY(expr)                                                           \
	do {                                                                   \
		int wd_try_rc_ = (expr);                                       \
		if (wd_try_rc_ < 0)                                            \
			return wd_try_rc_;                                     \
	} while (0)

/* Cleanup-attribute locals: `_wd_cleanup_(wd_freep) char *s = NULL;`. */
#define _wd_cleanup_(fn) __attribute__((cleanup(fn)))

static inline void wd_freep(void *p)
{
	free(*(void **)p);
	*(void **)p = NULL;
}

static inline void wd_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Hands ownership of a pointer over: returns it and clears the local. */
#define WD_TAKE_PTR(p)                                                         \
	({                                                                     \
		__typeof__(p) wd_take_ = (p);                                  \
		(p) = NULL;                                                    \
		wd_take_;                                                      \
	})
