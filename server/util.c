/* util.c - random ids, clocks and timestamps for gpupoold (see util.h). */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

void gpd_uuid(char *out) {
  unsigned char b[16];
  ssize_t got;
  do {
    got = getrandom(b, sizeof b, 0);
  } while (got < 0 && errno == EINTR);
  if (got != (ssize_t)sizeof b) {
    /* No kernel randomness: still unique within this process (time + counter), never a crash. */
    static _Atomic uint64_t counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t a = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec, c = atomic_fetch_add(&counter, 1);
    memcpy(b, &a, 8);
    memcpy(b + 8, &c, 8);
  }
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
  snprintf(out, GPD_UUID_LEN + 1, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
           b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

int64_t gpd_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t gpd_mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void gpd_format_time(int64_t ms, char *buf, size_t size) {
  time_t secs = (time_t)(ms / 1000);
  struct tm tm;
  char base[32];
  gmtime_r(&secs, &tm);
  strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf, size, "%s.%03dZ", base, (int)(ms % 1000));
}

char *gpd_lower_dup(const char *s) {
  char *d = strdup(s);
  if (d)
    for (char *p = d; *p; p++)
      *p = (char)tolower((unsigned char)*p);
  return d;
}

char *gpd_strdup(const char *s) { return s ? strdup(s) : NULL; }

void gpd_plan_etag(const char *incarnation, int64_t generation, const char *extra, char *out, size_t size) {
  char what[256];
  uint64_t h = 1469598103934665603ull; /* FNV-1a, 64 bits */
  snprintf(what, sizeof what, "%s|%lld%s%s", incarnation ? incarnation : "", (long long)generation, extra ? "|" : "",
           extra ? extra : "");
  for (const unsigned char *p = (const unsigned char *)what; *p; p++)
    h = (h ^ *p) * 1099511628211ull;
  snprintf(out, size, "%lld-%016llx", (long long)generation, (unsigned long long)h);
}
