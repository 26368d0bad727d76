/* server.h - the gpupoold process state shared by the HTTP layer, the handlers and the reconciler.
 * Nothing in it changes between requests apart from the store: replicas on one store behave alike. */
#ifndef GPUPOOLD_SERVER_H
#define GPUPOOLD_SERVER_H

#include "config.h"
#include "store/store.h"

typedef struct gpd_reconciler gpd_reconciler;
typedef struct gpd_metrics gpd_metrics;
typedef struct gpd_view_cache gpd_view_cache;
typedef struct gpd_security gpd_security;
typedef struct gpd_fleet gpd_fleet;
typedef struct gpd_longpoll gpd_longpoll;
typedef struct gpd_http gpd_http;

typedef struct {
  gpd_config cfg;
  gpd_store *store;
  gpd_reconciler *reconciler;
  gpd_metrics *metrics;
  gpd_view_cache *views;  /* rendered pool views (view_cache.h) */
  gpd_security *security; /* TLS, authentication, throttling, audit (security.h) */
  gpd_fleet *fleet;       /* machines: coalesced heartbeats, node counts (fleet.h) */
  gpd_longpoll *longpoll; /* held requests (longpoll.h) */
  gpd_http *http;         /* the listeners (http.h), for their connection counts */
  char default_base[320]; /* http://HOST:PORT of the listener, when a request has no Host */
} gpd_server;

#endif
