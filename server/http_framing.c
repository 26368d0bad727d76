/* http_framing.c - framing checks of a request whose headers are in (see http_framing.h).
 *
 * The raw check leans on how libmicrohttpd 0.9.75 parses a request in place: the request line and
 * the header lines stay where they were read, in order, inside the header block (its size is
 * MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE from the method's first byte); each line's CR LF
 * becomes NULs, each header's colon a NUL followed by the blanks it skipped. Between the end of
 * one parsed value and the next name there must therefore be NULs only: anything else is the rest
 * of a value a NUL cut short. A header that does not lie inside the block in order was moved by
 * libmicrohttpd, which it does only to join a folded (obs-fold) line. */
#include "http_framing.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef struct {
  const char *prev_end, *block_end;
  size_t content_length, transfer_encoding, host;
  const char *te_value;
  const char *bad; /* what is wrong, or NULL */
} walk;

static bool only_nuls(const char *from, const char *to) {
  for (const char *p = from; p < to; p++)
    if (*p != '\0') return false;
  return true;
}

static enum MHD_Result visit(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size, const char *value,
                             size_t value_size) {
  walk *w = cls;
  (void)kind;
  if (!key || !value) return MHD_YES;
  if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) w->content_length++;
  if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
    w->transfer_encoding++;
    w->te_value = value;
  }
  if (strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0) w->host++;
  if (w->bad) return MHD_YES;
  if (key_size && (key[key_size - 1] == ' ' || key[key_size - 1] == '\t')) {
    w->bad = "a header has whitespace before its colon";
    return MHD_YES;
  }
  if (!w->prev_end) return MHD_YES; /* the block could not be located: the counts still hold */
  /* From the end of the line before to this name: that line's CR LF, now NULs (one or two). */
  if (key < w->prev_end || key >= w->block_end || key - w->prev_end > 2 || !only_nuls(w->prev_end, key)) {
    w->bad = key < w->prev_end || key >= w->block_end ? "a header line is folded onto the one before (obs-fold)"
                                                      : "a header or the request line holds a NUL byte";
    return MHD_YES;
  }
  /* From the end of the name to the value: the colon (a NUL) and the blanks after it. */
  const char *p = key + key_size;
  if (value < p + 1 || value > w->block_end || *p != '\0') {
    w->bad = "a header name holds a NUL byte";
    return MHD_YES;
  }
  for (p++; p < value; p++)
    if (*p != ' ' && *p != '\t') {
      w->bad = "a header name holds a NUL byte";
      return MHD_YES;
    }
  w->prev_end = value + value_size;
  return MHD_YES;
}

static int refuse(char *why, size_t whylen, int status, const char *what) {
  snprintf(why, whylen, "%s", what);
  return status;
}

int gpd_framing_check(struct MHD_Connection *conn, const char *method, const char *version,
                      const gpd_raw_target *target, char *why, size_t whylen) {
  walk w;
  memset(&w, 0, sizeof w);
  const union MHD_ConnectionInfo *hs = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
  bool located = hs && method && version && *version && version > method && version < method + hs->header_size;
  if (located) {
    w.prev_end = version + strlen(version);
    w.block_end = method + hs->header_size;
  }
  MHD_get_connection_values_n(conn, MHD_HEADER_KIND, visit, &w);
  if (!w.bad && w.prev_end && (w.block_end - w.prev_end > 4 || !only_nuls(w.prev_end, w.block_end)))
    w.bad = "a header or the request line holds a NUL byte";
  /* The target ends with the blank before the version: a shorter target had a NUL inside. */
  if (!w.bad && located && target && target->at && target->at > method && target->at < version &&
      target->len != (size_t)(version - 1 - target->at))
    w.bad = "the request target holds a NUL byte";
  if (w.bad) return refuse(why, whylen, 400, w.bad);

  if (w.content_length > 1) return refuse(why, whylen, 400, "the request has more than one Content-Length header");
  if (w.transfer_encoding && w.content_length)
    return refuse(why, whylen, 400, "the request has both Content-Length and Transfer-Encoding");
  if (w.transfer_encoding > 1)
    return refuse(why, whylen, 501, "the request has more than one Transfer-Encoding header");
  if (w.transfer_encoding && strcasecmp(w.te_value, "chunked") != 0) {
    char shown[41];
    size_t n = 0;
    for (const char *p = w.te_value; *p && n < sizeof shown - 1; p++)
      shown[n++] = *p >= 0x20 && *p < 0x7f && *p != '\'' ? *p : '?';
    shown[n] = '\0';
    snprintf(why, whylen, "the transfer coding '%s' is not supported (only chunked)", shown);
    return 501;
  }
  bool http11 = version && strcmp(version, MHD_HTTP_VERSION_1_1) == 0;
  if (w.host > 1) return refuse(why, whylen, 400, "the request has more than one Host header");
  if (http11 && w.host == 0) return refuse(why, whylen, 400, "an HTTP/1.1 request needs a Host header");
  return 0;
}
