/* timeutil.h - monotonic clock and RFC 3339 formatting. */
#ifndef SBX_UTIL_TIMEUTIL_H
#define SBX_UTIL_TIMEUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Milliseconds on the monotonic clock. */
int64_t sbx_now_ms(void);
/* The monotonic time ms milliseconds from now, for pthread_cond_timedwait
 * on a condition variable set to CLOCK_MONOTONIC. */
void sbx_deadline_ts(struct timespec *ts, int64_t ms);
/* Whether two times are the same to the nanosecond. */
static inline bool sbx_ts_equal(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}
/* Formats t (UTC) as RFC 3339 ("2026-11-27T10:38:47Z") into out. */
void sbx_rfc3339(time_t t, char *out, size_t len);

#endif
