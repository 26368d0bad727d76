/* error.c - collecting violations and rendering the ARM error body. */
#include "gpupool/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gp_error_init(gp_error *e) {
  memset(e, 0, sizeof *e);
  e->status = 400;
}

void gp_error_clear(gp_error *e) {
  for (size_t i = 0; i < e->count; i++) {
    free(e->items[i].code);
    free(e->items[i].message);
    free(e->items[i].target);
  }
  free(e->items);
  int status = e->status;
  gp_error_init(e);
  e->status = status;
}

static bool grow(gp_error *e) {
  if (e->count < e->cap) return true;
  size_t cap = e->cap ? e->cap * 2 : 4;
  gp_violation *n = realloc(e->items, cap * sizeof *n);
  if (!n) return false;
  e->items = n;
  e->cap = cap;
  return true;
}

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no surrogates, <= U+10FFFF),
 * or 0 when the bytes there are not one. */
static size_t utf8_seq(const unsigned char *s) {
  unsigned char c = s[0];
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return (s[1] & 0xC0) == 0x80 ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if ((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0;
    if (c == 0xE0 && s[1] < 0xA0) return 0;
    if (c == 0xED && s[1] > 0x9F) return 0;
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if ((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80) return 0;
    if (c == 0xF0 && s[1] < 0x90) return 0;
    if (c == 0xF4 && s[1] > 0x8F) return 0;
    return 4;
  }
  return 0;
}

void gp_utf8_sanitize(char *s) {
  unsigned char *r = (unsigned char *)s, *w = r;
  while (*r) {
    size_t n = utf8_seq(r);
    if (n == 0) {
      r++;
      continue;
    }
    while (n--)
      *w++ = *r++;
  }
  *w = '\0';
}

void gp_error_add(gp_error *e, const char *code, const char *target, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  gp_utf8_sanitize(buf);
  if (!grow(e)) {
    e->oom = true;
    return;
  }
  gp_violation v = {strdup(code), strdup(buf), target ? strdup(target) : NULL};
  if (v.target) gp_utf8_sanitize(v.target);
  if (!v.code || !v.message || (target && !v.target)) {
    free(v.code);
    free(v.message);
    free(v.target);
    e->oom = true;
    return;
  }
  e->items[e->count++] = v;
}

void gp_error_take(gp_error *dst, gp_error *src) {
  for (size_t i = 0; i < src->count; i++) {
    if (!grow(dst)) {
      dst->oom = true;
      free(src->items[i].code);
      free(src->items[i].message);
      free(src->items[i].target);
      continue;
    }
    dst->items[dst->count++] = src->items[i];
  }
  if (src->oom) dst->oom = true;
  free(src->items);
  src->items = NULL;
  src->count = src->cap = 0;
}

bool gp_error_has(const gp_error *e, const char *code) {
  for (size_t i = 0; i < e->count; i++)
    if (strcmp(e->items[i].code, code) == 0) return true;
  return false;
}

static json_t *violation_json(const gp_violation *v) {
  json_t *o = json_object();
  if (!o) return NULL;
  if (json_object_set_new(o, "code", json_string(v->code)) ||
      json_object_set_new(o, "message", json_string(v->message)) ||
      (v->target && json_object_set_new(o, "target", json_string(v->target)))) {
    json_decref(o);
    return NULL;
  }
  return o;
}

json_t *gp_error_to_json(const gp_error *e) {
  if (e->count == 0) {
    return gp_error_body(e->oom ? "InternalServerError" : "InvalidParameter", NULL,
                         e->oom ? "Out of memory while validating the request." : "The request is not valid.");
  }
  json_t *top = violation_json(&e->items[0]);
  json_t *details = json_array();
  json_t *root = json_object();
  if (!top || !details || !root) goto fail;
  for (size_t i = 0; i < e->count; i++) {
    json_t *d = violation_json(&e->items[i]);
    if (!d || json_array_append_new(details, d)) goto fail;
  }
  if (json_object_set_new(top, "details", details)) {
    details = NULL;
    goto fail;
  }
  details = NULL;
  if (json_object_set_new(root, "error", top)) {
    top = NULL;
    goto fail;
  }
  return root;
fail:
  json_decref(top);
  json_decref(details);
  json_decref(root);
  return NULL;
}

json_t *gp_error_body(const char *code, const char *target, const char *message) {
  gp_error e;
  gp_error_init(&e);
  gp_error_add(&e, code, target, "%s", message);
  json_t *body = e.oom ? NULL : gp_error_to_json(&e);
  gp_error_clear(&e);
  return body;
}
