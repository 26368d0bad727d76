/* http_framing.h - is a request's framing unambiguous? Checked once its headers are in, before
 * anything else runs (authentication included), so that a request a proxy in front could read
 * differently is refused with one answer and its connection closed (RFC 9112 §6.3), never run:
 * two Content-Lengths, Content-Length with Transfer-Encoding, a transfer coding other than
 * chunked (501), HTTP/1.1 without exactly one Host, whitespace before a header's colon, and what
 * libmicrohttpd 0.9.75 would silently change: a NUL inside a header or the request target
 * (it truncates), a folded header line (it glues it to the one before). */
#ifndef GPUPOOLD_HTTP_FRAMING_H
#define GPUPOOLD_HTTP_FRAMING_H

#include <microhttpd.h>
#include <stddef.h>

/* Where the request target was when libmicrohttpd showed it to the URI log callback, and its
 * length then (strlen): compared with where the HTTP version starts, it tells a NUL inside the
 * target from the end of the target. */
typedef struct {
  const char *at;
  size_t len;
} gpd_raw_target;

/* 0 when the framing is sound; else the status to answer (400, or 501 for a transfer coding)
 * with why (a sentence for the error message). method and version are the access handler's. */
int gpd_framing_check(struct MHD_Connection *conn, const char *method, const char *version,
                      const gpd_raw_target *target, char *why, size_t whylen);

#endif
