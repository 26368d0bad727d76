/* http.h - the HTTP front of gpupoold on libmicrohttpd (thread pool): request bodies and limits,
 * the headers every ARM response carries, logging and metrics of each request. */
#ifndef GPUPOOLD_HTTP_H
#define GPUPOOLD_HTTP_H

#include <stddef.h>

#include "server.h"

typedef struct gpd_http gpd_http;

/* Starts serving srv->cfg.host:port. NULL with the reason in err on failure. */
gpd_http *gpd_http_start(gpd_server *srv, char *err, size_t errlen);
/* The port actually bound (useful with --listen HOST:0). */
int gpd_http_port(const gpd_http *h);
/* Stops accepting, finishes requests in flight, frees everything. */
void gpd_http_stop(gpd_http *h);

#endif
