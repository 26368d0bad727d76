/* conn_watch.h - the header timeout libmicrohttpd 0.9.75 lacks: a connection must deliver a
 * complete set of request headers within --header-timeout seconds of being accepted (or of its
 * previous answer, on a kept-alive connection), however slowly it trickles bytes, or it is shut
 * down. libmicrohttpd's own timeout (--idle-timeout) only measures silence, so a client sending a
 * byte every few seconds kept a connection forever. Requests whose headers are in (a body being
 * read, an answer being sent, a held long-poll) are not watched here.
 *
 * The watch follows libmicrohttpd's connection notifications (MHD_OPTION_NOTIFY_CONNECTION): an
 * entry from STARTED to CLOSED. libmicrohttpd notifies CLOSED before it closes the socket, and a
 * late connection is shut down (shutdown(2), never close(2)) under the same lock that CLOSED takes,
 * so a descriptor that was closed, or reused by a new connection, is never touched; libmicrohttpd
 * then sees the end of the stream and closes the connection itself. */
#ifndef GPUPOOLD_CONN_WATCH_H
#define GPUPOOLD_CONN_WATCH_H

#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>

typedef struct gpd_conn_watch gpd_conn_watch;

/* Starts the sweeper thread; NULL when out of memory. */
gpd_conn_watch *gpd_conn_watch_start(int header_timeout_s);
/* Stops the sweeper; call after the daemons stopped (their CLOSED notices have emptied it). */
void gpd_conn_watch_stop(gpd_conn_watch *w);

/* MHD_OPTION_NOTIFY_CONNECTION callback; cls is the gpd_conn_watch. */
void gpd_conn_watch_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                           enum MHD_ConnectionNotificationCode code);
/* A request's headers are in: the connection leaves the watch until the request is answered. */
void gpd_conn_watch_request_began(gpd_conn_watch *w, struct MHD_Connection *conn);
/* The request is done: the next request's headers are awaited from now. */
void gpd_conn_watch_request_ended(gpd_conn_watch *w, struct MHD_Connection *conn);

/* Open connections now; connections shut down for their headers' lateness so far. */
size_t gpd_conn_watch_open(gpd_conn_watch *w);
uint64_t gpd_conn_watch_timed_out(gpd_conn_watch *w);

#endif
