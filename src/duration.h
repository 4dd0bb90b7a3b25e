// SPDX-License-Identifier: GPL-2.0-only
/* Durations: "300", "1h30m", "2d", "permanent". Pure. */
#ifndef IPBANSET_DURATION_H
#define IPBANSET_DURATION_H

#include "common.h"

/* Longest finite timeout accepted: what the kernel and the journal can hold
 * (10 years is far beyond any ban and well inside every limit). */
#define DURATION_MAX_SECS (10LL * 366 * 86400)

/* Parse DUR into seconds. "0", "-1", "permanent" -> 0 meaning no expiry.
 * Units s m h d w, combinable ("1h30m"), each at most once, in descending order.
 * Returns 0 or -EINVAL ("invalid duration 'X'") / -ERANGE ("duration 'X' is too long"). */
int duration_parse(const char *s, int64_t *secs, struct ipb_err *e);

/* Human form of a span: "4m12s", "2d3h", "45s"; buf >= 32. */
char *duration_format(int64_t secs, char *buf, size_t len);

#endif
