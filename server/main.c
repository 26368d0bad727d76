/* main.c - gpupoold: parses the flags, raises the open-file limit, opens the store, starts the
 * reconciler and the HTTP server, connects the store's change notices to the held long-polls,
 * prints where it listens, and runs until SIGINT or SIGTERM, then stops in order (held long-polls
 * answered, no new requests, reconciler, store). */
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fleet.h"
#include "gpupool/version.h"
#include "http.h"
#include "log.h"
#include "longpoll.h"
#include "metrics.h"
#include "reconciler.h"
#include "security/security.h"
#include "server.h"
#include "view_cache.h"

#define VIEW_CACHE_SLOTS 8192 /* under 1 KB each: bounded whatever the number of pools */

/* The store's change notices wake the long-polls waiting on them (store.h, longpoll.h). */
static void wake_waiters(void *lp, const char *key) { gpd_longpoll_wake(lp, key); }

int main(int argc, char **argv) {
  gpd_server srv;
  char err[512];
  memset(&srv, 0, sizeof srv);
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "--version") == 0) {
      printf("gpupoold %s\n", gp_version());
      return 0;
    }
  int rc = gpd_config_parse(&srv.cfg, argc, argv);
  if (rc >= 0) return rc;
  gpd_log_set_json(srv.cfg.log_json);
  /* glibc gives each busy thread its own heap arena, which keeps freed memory; two arenas keep the
   * resident size flat (a few % slower at most, see bench/RESULTS.md). */
  mallopt(M_ARENA_MAX, 2);

  /* Signals are taken by sigwait below; every thread started from here on inherits the mask. */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP); /* reloads the credentials (security.h) */
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGXFSZ, SIG_IGN); /* a file size limit makes writes fail (503), it does not kill the server */
  char limits[512];
  /* descriptors beyond the connections: two per HTTP thread (epoll, wake-up), the store, logs */
  gpd_limits_apply(&srv.cfg.limits, 2 * srv.cfg.threads + 128, limits, sizeof limits);

  if (!gpd_security_start(&srv, err, sizeof err)) {
    fprintf(stderr, "gpupoold: %s\n", err);
    return 1;
  }
  if (!(srv.metrics = gpd_metrics_new()) || !(srv.views = gpd_view_cache_new(VIEW_CACHE_SLOTS)) ||
      !(srv.longpoll = gpd_longpoll_new())) {
    fprintf(stderr, "gpupoold: out of memory\n");
    gpd_longpoll_free(srv.longpoll);
    gpd_view_cache_free(srv.views);
    gpd_metrics_free(srv.metrics);
    gpd_security_stop(&srv);
    return 1;
  }
  if (!(srv.store = gpd_store_open(srv.cfg.db, srv.cfg.init_store, err, sizeof err))) {
    fprintf(stderr, "gpupoold: %s\n", err);
    gpd_longpoll_free(srv.longpoll);
    gpd_metrics_free(srv.metrics);
    gpd_view_cache_free(srv.views);
    gpd_security_stop(&srv);
    return 1;
  }
  srv.store->ops->watch(srv.store, wake_waiters, srv.longpoll);
  if (!gpd_fleet_start(&srv, err, sizeof err) || !(srv.reconciler = gpd_reconciler_start(&srv))) {
    fprintf(stderr, "gpupoold: %s\n", srv.fleet ? "cannot start the reconciler" : err);
    gpd_fleet_stop(&srv);
    srv.store->ops->close(srv.store);
    gpd_longpoll_free(srv.longpoll);
    gpd_metrics_free(srv.metrics);
    gpd_view_cache_free(srv.views);
    gpd_security_stop(&srv);
    return 1;
  }
  gpd_http *http = gpd_http_start(&srv, err, sizeof err);
  if (!http) {
    fprintf(stderr, "gpupoold: %s\n", err);
    gpd_reconciler_stop(srv.reconciler);
    gpd_fleet_stop(&srv);
    srv.store->ops->close(srv.store);
    gpd_longpoll_free(srv.longpoll);
    gpd_metrics_free(srv.metrics);
    gpd_view_cache_free(srv.views);
    gpd_security_stop(&srv);
    return 1;
  }
  char store_name[512];
  gpd_store_url_display(srv.cfg.db, store_name, sizeof store_name);
  gpd_log_info("%s", limits); /* logged before "listening": whoever waits for that line finds these */
  if (gpd_http_metrics_port(http) >= 0)
    gpd_log_info("metrics (/metrics and /healthz, no authentication) on http://%s%s%s:%d",
                 strchr(srv.cfg.metrics_host, ':') ? "[" : "", srv.cfg.metrics_host,
                 strchr(srv.cfg.metrics_host, ':') ? "]" : "", gpd_http_metrics_port(http));
  printf("gpupoold listening on %s\n", srv.default_base);
  fflush(stdout);
  char ga[32];
  gp_k8s_version_text(&srv.cfg.ga_version, ga, sizeof ga);
  gpd_log_info("gpupoold listening on %s (store %s, phase %s, GA Kubernetes %s)", srv.default_base, store_name,
               srv.cfg.phase == GP_PHASE_GA ? "ga" : "preview", ga);

  int sig = 0;
  while (sigwait(&set, &sig) == 0 && sig == SIGHUP)
    gpd_security_reload(&srv);
  gpd_log_info("gpupoold stopping (signal %d)", sig);
  gpd_http_stop(http);
  gpd_reconciler_stop(srv.reconciler);
  gpd_fleet_stop(&srv);             /* stores the lastSeen it still holds */
  srv.store->ops->close(srv.store); /* no change notice comes after this */
  gpd_longpoll_free(srv.longpoll);
  gpd_metrics_free(srv.metrics);
  gpd_view_cache_free(srv.views);
  gpd_security_stop(&srv);
  return 0;
}
