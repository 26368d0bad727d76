/* log.h - gpupoold's log: one line per request and a few lifecycle messages, on stderr, as text
 * or as JSON objects (--log-format). */
#ifndef GPUPOOLD_LOG_H
#define GPUPOOLD_LOG_H

#include <stdbool.h>
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

#endif
