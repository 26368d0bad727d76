/* log.c - text or JSON log lines on stderr (see log.h). Each line is written with one call, so
 * lines of concurrent requests never interleave. */
#include "log.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

static bool log_json;

void gpd_log_set_json(bool json) { log_json = json; }

static void emit(const char *level, const char *fmt, va_list ap) {
  char msg[1024], now[40];
  vsnprintf(msg, sizeof msg, fmt, ap);
  gpd_format_time(gpd_now_ms(), now, sizeof now);
  if (log_json) {
    json_t *o = json_pack("{s:s,s:s,s:s}", "time", now, "level", level, "msg", msg);
    char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (line) fprintf(stderr, "%s\n", line);
    free(line);
    json_decref(o);
  } else {
    fprintf(stderr, "%s %s %s\n", now, level, msg);
  }
}

void gpd_log_info(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  emit("info", fmt, ap);
  va_end(ap);
}

void gpd_log_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  emit("error", fmt, ap);
  va_end(ap);
}

void gpd_log_request(const gpd_log_request_line *l) {
  char now[40];
  gpd_format_time(gpd_now_ms(), now, sizeof now);
  if (log_json) {
    json_t *o = json_pack("{s:s,s:s,s:s,s:s?,s:i,s:f,s:s?,s:s?}", "time", now, "level", "info", "method", l->method,
                          "uri", l->uri, "status", l->status, "durationMs", (double)l->duration_us / 1000.0,
                          "requestId", l->request_id, "correlationId", l->correlation_id);
    char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (line) fprintf(stderr, "%s\n", line);
    free(line);
    json_decref(o);
  } else {
    fprintf(stderr, "%s info %s %s %d %.3fms request-id=%s correlation-id=%s\n", now, l->method, l->uri ? l->uri : "-",
            l->status, (double)l->duration_us / 1000.0, l->request_id ? l->request_id : "-",
            l->correlation_id ? l->correlation_id : "-");
  }
}
