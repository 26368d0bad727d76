/* http.h - the HTTP front of gpupoold on libmicrohttpd (thread pool): request framing, bodies and
 * limits, the headers every ARM response carries, logging and metrics of each request, held
 * long-polls (longpoll.h), connection caps and timeouts (limits_config.h), and the optional
 * --metrics-listen daemon. */
#ifndef GPUPOOLD_HTTP_H
#define GPUPOOLD_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "server.h"

/* Starts serving srv->cfg.host:port (and srv->cfg.metrics_host:metrics_port when set); sets
 * srv->http. NULL with the reason in err on failure. */
gpd_http *gpd_http_start(gpd_server *srv, char *err, size_t errlen);
/* The port actually bound (useful with --listen HOST:0); the --metrics-listen one, -1 without. */
int gpd_http_port(const gpd_http *h);
int gpd_http_metrics_port(const gpd_http *h);
/* Connections open now (both daemons); connections closed by --header-timeout so far. */
size_t gpd_http_connections(const gpd_http *h);
uint64_t gpd_http_header_timeouts(const gpd_http *h);
/* Answers the held long-polls, stops accepting, finishes requests in flight, frees everything. */
void gpd_http_stop(gpd_http *h);

#endif
