// SPDX-License-Identifier: GPL-2.0-only
/* Durations: "300", "1h30m", "2d", "permanent". Pure, but for the jitter's random draw. */
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

/* The expiry of a ban of timeout seconds made at now (timeout 0: permanent, IPB_NEVER),
 * lengthened by a random 0..jitter seconds, drawn anew for each call. */
int64_t duration_expiry(int64_t now, int64_t timeout, int64_t jitter);

/* Human form of a span: "4m12s", "2d3h", "45s"; buf >= 32. */
char *duration_format(int64_t secs, char *buf, size_t len);

#endif
