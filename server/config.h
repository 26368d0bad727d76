/* config.h - gpupoold's command-line settings. */
#ifndef GPUPOOLD_CONFIG_H
#define GPUPOOLD_CONFIG_H

#include <stdbool.h>

#include "gpupool/gpupool.h"
#include "limits_config.h"
#include "security/security_config.h"

typedef struct {
  char host[256];
  int port;
  const char *db; /* store URL: sqlite:./var/gpupool.db or postgres://USER@HOST:PORT/DB */
  gp_phase phase;
  gp_k8s_version ga_version;
  const char *public_url; /* base of absolute URLs; NULL: from the request's Host */
  int retry_after;        /* seconds */
  bool log_json;
  int threads;            /* HTTP worker threads */
  int operation_delay_ms; /* minimum time an operation stays InProgress */
  int operation_lease_ms; /* how long a claimed operation stays with its replica past its due time */
  int report_coalesce_ms; /* longest a machine's lastSeen waits in memory before it is stored */
  int rollout_minute_ms;  /* how long a minute of upgradeSettings is (60000; tests and benchmarks shorten it) */
  bool ui;                /* serve the web console under /ui/ (--no-ui: false) */

  gpd_security_config sec;  /* TLS, authentication, throttling, audit (security_config.h) */
  gpd_limits_config limits; /* connection caps and timeouts (limits_config.h) */
  bool init_store;          /* --init: create an empty SQLite store where traces of one remain */
  char metrics_host[256];   /* --metrics-listen: /metrics and /healthz alone, unauthenticated */
  int metrics_port;         /* -1: no such listener */
} gpd_config;

/* Parses argv. Returns -1 to go on, else an exit status (0 after --help, 2 on a usage error). */
int gpd_config_parse(gpd_config *c, int argc, char **argv);

#endif
