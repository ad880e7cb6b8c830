/* progress.h - a one-line transfer progress bar on stderr.
 *
 * Shown only when stderr is a terminal (and not with -q): when piped or
 * redirected nothing is drawn, so logs stay clean. The line shows bytes
 * done, the total when known (a bar and a percentage), the rate and the
 * time left. Redraws at most every 200 ms; progress_done() draws the final
 * state and ends the line. Not thread-safe: one thread updates a bar.
 */
#ifndef SBX_CLI_PROGRESS_H
#define SBX_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct progress {
	bool on;	 /* drawing at all */
	bool color;	 /* cli_color(2) */
	uint64_t total;	 /* 0: unknown */
	uint64_t done;	 /* bytes so far */
	int64_t t0_ms;	 /* start */
	int64_t last_ms; /* last redraw */
	char label[48];	 /* a file name, shortened */
};

/* Starts a bar for a transfer of about total bytes (0: unknown). on says
 * whether the caller wants one at all; the terminal test is done here. */
void progress_init(struct progress *p, bool on, const char *label, uint64_t total);
/* Adds n bytes and redraws when due. */
void progress_add(struct progress *p, uint64_t n);
/* Draws the last state and ends the line (nothing when off). ok: the
 * transfer completed (a high estimate of the total then shows as 100%). */
void progress_done(struct progress *p, bool ok);
/* Formats n bytes as "12.3 MB" into buf. */
const char *progress_bytes(uint64_t n, char *buf, unsigned len);

#endif
