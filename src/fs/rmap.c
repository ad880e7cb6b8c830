/* rmap.c - the valid ranges of a partly loaded file; see rmap.h.
 *
 * Invariant: for every i, r[i].start < r[i].end and r[i].end < r[i+1].start
 * (sorted, disjoint, not touching); bytes is the sum of the lengths.
 */
#include "fs/rmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void rmap_release(struct rmap *m)
{
	free(m->r);
	m->r = NULL;
	m->n = m->cap = 0;
	m->bytes = 0;
}

void rmap_clear(struct rmap *m)
{
	m->n = 0;
	m->bytes = 0;
}

/* Index of the first range whose end is >= off (n when none). */
static size_t first_ending_at_or_after(const struct rmap *m, uint64_t off)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->r[mid].end < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void remove_at(struct rmap *m, size_t i, size_t count)
{
	size_t k;

	for (k = i; k < i + count; k++)
		m->bytes -= m->r[k].end - m->r[k].start;
	memmove(&m->r[i], &m->r[i + count], (m->n - i - count) * sizeof(m->r[0]));
	m->n -= count;
}

/* Forgets the smallest range, to stay within RMAP_MAX. */
static void forget_smallest(struct rmap *m)
{
	size_t i, best = 0;

	for (i = 1; i < m->n; i++)
		if (m->r[i].end - m->r[i].start < m->r[best].end - m->r[best].start)
			best = i;
	remove_at(m, best, 1);
}

int rmap_add(struct rmap *m, uint64_t start, uint64_t end)
{
	size_t i, j;

	if (start >= end)
		return 0;
	i = first_ending_at_or_after(m, start);
	/* ranges i..j-1 overlap or touch [start, end] */
	for (j = i; j < m->n && m->r[j].start <= end; j++)
		;
	if (j > i) {
		if (m->r[i].start < start)
			start = m->r[i].start;
		if (m->r[j - 1].end > end)
			end = m->r[j - 1].end;
		remove_at(m, i, j - i);
	} else if (m->n == m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 16;
		struct rmap_range *nr;

		if (m->n >= RMAP_MAX) {
			forget_smallest(m);
			i = first_ending_at_or_after(m, start);
		} else {
			nr = realloc(m->r, ncap * sizeof(*nr));
			if (!nr)
				return -ENOMEM;
			m->r = nr;
			m->cap = ncap;
		}
	}
	memmove(&m->r[i + 1], &m->r[i], (m->n - i) * sizeof(m->r[0]));
	m->r[i].start = start;
	m->r[i].end = end;
	m->n++;
	m->bytes += end - start;
	return 0;
}

void rmap_cut(struct rmap *m, uint64_t off)
{
	size_t i = first_ending_at_or_after(m, off);

	if (i < m->n && m->r[i].start < off) {
		m->bytes -= m->r[i].end - off;
		m->r[i].end = off;
		i++;
	}
	if (i < m->n)
		remove_at(m, i, m->n - i);
}

void rmap_trim_below(struct rmap *m, uint64_t off)
{
	size_t i = first_ending_at_or_after(m, off + 1); /* the first ending past off */

	if (i)
		remove_at(m, 0, i);
	if (m->n && m->r[0].start < off) {
		m->bytes -= off - m->r[0].start;
		m->r[0].start = off;
	}
}

bool rmap_first_gap(const struct rmap *m, uint64_t start, uint64_t end, uint64_t *ret_start,
		    uint64_t *ret_end)
{
	size_t i;

	if (start >= end)
		return false;
	i = first_ending_at_or_after(m, start + 1);
	if (i < m->n && m->r[i].start <= start) {
		start = m->r[i].end; /* skip the part that is valid */
		i++;
	}
	if (start >= end)
		return false;
	*ret_start = start;
	*ret_end = i < m->n && m->r[i].start < end ? m->r[i].start : end;
	return true;
}

bool rmap_covers(const struct rmap *m, uint64_t start, uint64_t end)
{
	uint64_t s, e;

	return !rmap_first_gap(m, start, end, &s, &e);
}
