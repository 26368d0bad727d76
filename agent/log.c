/* log.c - the daemon's log: one line per event on stderr (systemd's journal keeps it), as text
 * ("2026-12-03T10:00:00Z info report: ...") or as JSON lines ({"time","level","event","message"}).
 * Each line is written with one call, so lines from the health watcher and the main loop never
 * interleave. */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"

static bool log_json; /* set once at start, before any thread */

void ag_log_init(bool json) { log_json = json; }

void ag_rfc3339(time_t t, char *buf, size_t size) {
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void ag_log(const char *level, const char *event, const char *fmt, ...) {
  char msg[2048], now[32], *line = NULL;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  /* one event, one line */
  for (char *p = msg; *p; p++)
    if (*p == '\n' || *p == '\r') *p = ' ';
  ag_rfc3339(time(NULL), now, sizeof now);
  if (log_json) {
    json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "time", now, "level", level, "event", event, "message", msg);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (s) line = ag_fmt("%s\n", s);
    free(s);
  } else {
    line = ag_fmt("%s %s %s: %s\n", now, level, event, msg);
  }
  fputs(line ? line : "gpupool-agent: out of memory writing the log\n", stderr);
  fflush(stderr);
  free(line);
}
