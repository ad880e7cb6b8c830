/* progress.c - the transfer progress bar; see progress.h. */
#include "cli/progress.h"

#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/timeutil.h"

#define REDRAW_MS 200
#define BAR_MIN	  10

const char *progress_bytes(uint64_t n, char *buf, unsigned len)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
	double v = (double)n;
	unsigned u = 0;

	while (v >= 1000.0 && u < 4) {
		v /= 1000.0;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, units[u]);
	return buf;
}

void progress_init(struct progress *p, bool on, const char *label, uint64_t total)
{
	const char *base = strrchr(label, '/');

	memset(p, 0, sizeof(*p));
	p->on = on && isatty(2) == 1;
	p->color = p->on && cli_color(2);
	p->total = total;
	p->t0_ms = sbx_now_ms();
	base = base && base[1] ? base + 1 : label;
	snprintf(p->label, sizeof(p->label), "%s", base);
	/* a name may hold a newline or an escape: keep the line one line */
	for (char *c = p->label; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
}

static int term_width(void)
{
	struct winsize ws;

	if (ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
		return ws.ws_col;
	return 80;
}

static void draw(struct progress *p, int64_t now)
{
	char done[24], tot[24], rate[24], eta[48] = "", bar[256];
	double secs = (double)(now - p->t0_ms) / 1000.0;
	double bps = secs > 0.05 ? (double)p->done / secs : 0;
	uint64_t shown = p->total && p->done > p->total ? p->total : p->done;
	int width = term_width(), barw, fill, i;

	progress_bytes(p->done, done, sizeof(done));
	progress_bytes((uint64_t)bps, rate, sizeof(rate));
	if (!p->total) {
		fprintf(stderr, "\r\033[K%s  %s  %s/s", p->label, done, rate);
		return;
	}
	progress_bytes(p->total, tot, sizeof(tot));
	if (bps > 0 && shown < p->total) {
		long left = (long)((double)(p->total - shown) / bps + 0.5);
		if (left > 359999)
			left = 359999;
		snprintf(eta, sizeof(eta), "ETA %ld:%02ld", left / 60, left % 60);
	} else {
		snprintf(eta, sizeof(eta), "%.1fs", secs);
	}
	barw = width - (int)strlen(p->label) - 60;
	if (barw < BAR_MIN)
		barw = BAR_MIN;
	if (barw > (int)sizeof(bar) - 1)
		barw = (int)sizeof(bar) - 1;
	fill = (int)((double)shown / (double)p->total * barw);
	for (i = 0; i < barw; i++)
		bar[i] = i < fill ? '#' : '-';
	bar[barw] = '\0';
	fprintf(stderr, "\r\033[K%s %s[%s]%s %3d%%  %s / %s  %s/s  %s", p->label,
		p->color ? "\033[32m" : "", bar, p->color ? "\033[0m" : "",
		(int)((double)shown * 100.0 / (double)p->total), done, tot, rate, eta);
}

void progress_add(struct progress *p, uint64_t n)
{
	int64_t now;

	p->done += n;
	if (!p->on)
		return;
	now = sbx_now_ms();
	if (now - p->last_ms < REDRAW_MS)
		return;
	p->last_ms = now;
	draw(p, now);
}

void progress_done(struct progress *p, bool ok)
{
	if (!p->on)
		return;
	if (ok && p->total && p->done < p->total)
		p->total = p->done; /* the estimate was high: finished is 100% */
	draw(p, sbx_now_ms());
	fputc('\n', stderr);
}
