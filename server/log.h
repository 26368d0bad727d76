/* log.h - gpupoold's log: one line per request and a few lifecycle messages, on stderr, as text
 * or as JSON objects (--log-format). Client text is escaped and credentials redacted (log.c). */
#ifndef GPUPOOLD_LOG_H
#define GPUPOOLD_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void gpd_log_set_json(bool json);
void gpd_log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void gpd_log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

typedef struct {
  const char *method, *uri, *request_id, *correlation_id;
  int status;
  int64_t duration_us;
} gpd_log_request_line;
void gpd_log_request(const gpd_log_request_line *l);
/* A client's text made safe for a log line: bytes outside printable ASCII (and the backslash) as
 * \xNN, cut to fit size. */
void gpd_log_safe(const char *in, char *out, size_t size);
/* A request URI made safe for a log line: credentials in its query (access_token=, *token*=,
 * sig=, password=, ...) and a URL's user info replaced by REDACTED, then as gpd_log_safe. */
void gpd_log_uri(const char *uri, char *out, size_t size);

#endif
