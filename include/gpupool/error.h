/* error.h - ARM-style errors: a list of violations (code, message, target) that becomes the body
 * {"error":{"code","message","target","details":[...]}} with the first violation repeated on top.
 *
 * The core never stops at the first problem: policy collects every violation it finds so that a
 * user fixes a request in one round trip. */
#ifndef GPUPOOL_ERROR_H
#define GPUPOOL_ERROR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct {
  char *code;
  char *message;
  char *target; /* JSON path of the offending field, or NULL */
} gp_violation;

typedef struct gp_error {
  gp_violation *items;
  size_t count, cap;
  int status; /* HTTP status the error maps to (400 unless set otherwise) */
  bool oom;   /* an allocation failed while recording; the list may be incomplete */
} gp_error;

/* An empty error list (no allocation until the first violation). */
void gp_error_init(gp_error *e);
void gp_error_clear(gp_error *e);
/* Records a violation; message is printf-style. Never fails visibly: on OOM it sets e->oom. */
void gp_error_add(gp_error *e, const char *code, const char *target, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Moves every violation of src to the end of dst (src ends empty). */
void gp_error_take(gp_error *dst, gp_error *src);
bool gp_error_has(const gp_error *e, const char *code);
/* The ARM error body, or NULL on OOM. */
json_t *gp_error_to_json(const gp_error *e);
/* Drops bytes that are not valid UTF-8 (e.g. a multi-byte character cut by a %.64s), in place. */
void gp_utf8_sanitize(char *s);

/* Convenience: a one-violation error body. */
json_t *gp_error_body(const char *code, const char *target, const char *message);

#endif
