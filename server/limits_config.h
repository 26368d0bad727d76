/* limits_config.h - gpupoold's connection limits (issue 16): how many connections it keeps open,
 * from one client address, and how long a connection may take to send its request headers or stay
 * silent. Parsed by config.c through gpd_limits_option; gpd_limits_apply raises the open-file
 * limit at start and fits the connection cap under it. Defaults and the reasons for them:
 * docs/decisions.md, Hardening. */
#ifndef GPUPOOLD_LIMITS_CONFIG_H
#define GPUPOOLD_LIMITS_CONFIG_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#define GPD_DEFAULT_MAX_CONNECTIONS 20000 /* >= 10,000 held long-polls with room for everything else */
#define GPD_DEFAULT_MAX_PER_IP 1024       /* 2 per agent: ~500 nodes behind one NAT address */
#define GPD_DEFAULT_HEADER_TIMEOUT 10     /* seconds to send complete request headers */
#define GPD_DEFAULT_IDLE_TIMEOUT 30       /* seconds of silence while a body or an answer is on its way */
/* Bytes of memory a connection has for its request headers and the head of its answer (libmicrohttpd's
 * pool; bodies stream through it). A kept-alive connection holds all of it, every byte touched: 10,000
 * held agents cost about (this + 3 KB) each (bench/RESULTS.md, fleet). Headers of up to about 11 KB fit. */
#define GPD_DEFAULT_CONNECTION_MEMORY 12288

typedef struct {
  int max_connections; /* --max-connections */
  int max_per_ip;      /* --max-connections-per-ip (0: no cap) */
  int header_timeout;  /* --header-timeout, seconds */
  int idle_timeout;    /* --idle-timeout, seconds */
  int conn_memory;     /* --connection-memory, bytes */
} gpd_limits_config;

enum {
  GPD_LIM_MAX_CONNECTIONS,
  GPD_LIM_MAX_PER_IP,
  GPD_LIM_HEADER_TIMEOUT,
  GPD_LIM_IDLE_TIMEOUT,
  GPD_LIM_CONN_MEMORY,
  GPD_LIM_NOPTS
};
#define GPD_LIMITS_LONG_OPTIONS(base)                                                                                  \
  {"max-connections", required_argument, NULL, (base) + GPD_LIM_MAX_CONNECTIONS},                                      \
      {"max-connections-per-ip", required_argument, NULL, (base) + GPD_LIM_MAX_PER_IP},                                \
      {"header-timeout", required_argument, NULL, (base) + GPD_LIM_HEADER_TIMEOUT},                                    \
      {"idle-timeout", required_argument, NULL, (base) + GPD_LIM_IDLE_TIMEOUT}, {                                      \
    "connection-memory", required_argument, NULL, (base) + GPD_LIM_CONN_MEMORY                                         \
  }

/* The options' part of `gpupoold --help`. */
extern const char gpd_limits_usage[];

void gpd_limits_defaults(gpd_limits_config *l);
/* One option (which = GPD_LIM_*). False with the reason in err when the value is bad. */
bool gpd_limits_option(gpd_limits_config *l, int which, const char *arg, char *err, size_t errlen);
/* Raises the open-file limit (RLIMIT_NOFILE) to its hard limit and lowers max_connections to what
 * fits under it with reserve descriptors left for everything else. info says what is in effect. */
void gpd_limits_apply(gpd_limits_config *l, int reserve, char *info, size_t infolen);

#endif
