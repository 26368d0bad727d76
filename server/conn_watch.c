/* conn_watch.c - connections awaiting their request headers, oldest first (see conn_watch.h).
 *
 * Entries waiting for headers form one list in the order they started waiting (each append takes
 * the clock under the lock, so the list stays sorted): the sweeper looks only at its head, so a
 * round costs the number of late connections, not the number of open ones. */
#include "conn_watch.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"
#include "util.h"

#define SWEEP_EVERY_MS 250
#define LOG_EVERY_NS (60LL * 1000000000) /* how often a summary of timed-out connections is logged */

typedef struct entry {
  struct entry *prev, *next;
  int fd;
  int64_t since_ns;
  bool waiting; /* in the list: its request headers are awaited */
} entry;

struct gpd_conn_watch {
  pthread_mutex_t mu;
  pthread_cond_t cond;
  pthread_t thread;
  bool quit;
  int64_t timeout_ns;
  entry *head, *tail;
  size_t open;
  uint64_t timed_out, logged;
  int64_t last_log_ns;
};

static void unlink_entry(gpd_conn_watch *w, entry *e) {
  if (!e->waiting) return;
  if (e->prev)
    e->prev->next = e->next;
  else
    w->head = e->next;
  if (e->next)
    e->next->prev = e->prev;
  else
    w->tail = e->prev;
  e->prev = e->next = NULL;
  e->waiting = false;
}

static void append(gpd_conn_watch *w, entry *e) {
  unlink_entry(w, e);
  e->since_ns = gpd_mono_ns();
  e->prev = w->tail;
  if (w->tail)
    w->tail->next = e;
  else
    w->head = e;
  w->tail = e;
  e->waiting = true;
}

static void *sweep_main(void *arg) {
  gpd_conn_watch *w = arg;
  pthread_mutex_lock(&w->mu);
  while (!w->quit) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += SWEEP_EVERY_MS * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&w->cond, &w->mu, &ts);
    int64_t now = gpd_mono_ns();
    while (w->head && now - w->head->since_ns >= w->timeout_ns) {
      entry *e = w->head;
      unlink_entry(w, e);
      shutdown(e->fd, SHUT_RDWR); /* the socket is still libmicrohttpd's: it closes it when it sees the end */
      w->timed_out++;
    }
    if (w->timed_out != w->logged && now - w->last_log_ns >= LOG_EVERY_NS) {
      gpd_log_info(
          "closed %llu connections that did not send complete request headers within %lld s (--header-timeout)",
          (unsigned long long)(w->timed_out - w->logged), (long long)(w->timeout_ns / 1000000000));
      w->logged = w->timed_out;
      w->last_log_ns = now;
    }
  }
  pthread_mutex_unlock(&w->mu);
  return NULL;
}

gpd_conn_watch *gpd_conn_watch_start(int header_timeout_s) {
  gpd_conn_watch *w = calloc(1, sizeof *w);
  if (!w) return NULL;
  w->timeout_ns = (int64_t)header_timeout_s * 1000000000;
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->cond, NULL);
  if (pthread_create(&w->thread, NULL, sweep_main, w) != 0) {
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cond);
    free(w);
    return NULL;
  }
  return w;
}

void gpd_conn_watch_stop(gpd_conn_watch *w) {
  if (!w) return;
  pthread_mutex_lock(&w->mu);
  w->quit = true;
  pthread_cond_signal(&w->cond);
  pthread_mutex_unlock(&w->mu);
  pthread_join(w->thread, NULL);
  pthread_mutex_destroy(&w->mu);
  pthread_cond_destroy(&w->cond);
  free(w);
}

void gpd_conn_watch_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                           enum MHD_ConnectionNotificationCode code) {
  gpd_conn_watch *w = cls;
  if (code == MHD_CONNECTION_NOTIFY_STARTED) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    entry *e = calloc(1, sizeof *e);
    if (!e || !ci) { /* unwatched: libmicrohttpd's idle timeout still applies */
      free(e);
      return;
    }
    e->fd = ci->connect_fd;
    pthread_mutex_lock(&w->mu);
    append(w, e);
    w->open++;
    pthread_mutex_unlock(&w->mu);
    *socket_context = e;
  } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
    entry *e = *socket_context;
    if (!e) return;
    pthread_mutex_lock(&w->mu);
    unlink_entry(w, e);
    w->open--;
    pthread_mutex_unlock(&w->mu);
    free(e);
    *socket_context = NULL;
  }
}

static entry *entry_of(struct MHD_Connection *conn) {
  const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return ci ? ci->socket_context : NULL;
}

void gpd_conn_watch_request_began(gpd_conn_watch *w, struct MHD_Connection *conn) {
  entry *e = w ? entry_of(conn) : NULL;
  if (!e) return;
  pthread_mutex_lock(&w->mu);
  unlink_entry(w, e);
  pthread_mutex_unlock(&w->mu);
}

void gpd_conn_watch_request_ended(gpd_conn_watch *w, struct MHD_Connection *conn) {
  entry *e = w ? entry_of(conn) : NULL;
  if (!e) return;
  pthread_mutex_lock(&w->mu);
  append(w, e);
  pthread_mutex_unlock(&w->mu);
}

size_t gpd_conn_watch_open(gpd_conn_watch *w) {
  if (!w) return 0;
  pthread_mutex_lock(&w->mu);
  size_t n = w->open;
  pthread_mutex_unlock(&w->mu);
  return n;
}

uint64_t gpd_conn_watch_timed_out(gpd_conn_watch *w) {
  if (!w) return 0;
  pthread_mutex_lock(&w->mu);
  uint64_t n = w->timed_out;
  pthread_mutex_unlock(&w->mu);
  return n;
}
