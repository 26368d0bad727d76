/* pg_listen.c - LISTEN gpupool_changes on a dedicated connection (see pg_listen.h). */
#include "store/pg_listen.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"

#define RECONNECT_MS 1000

struct pg_listener {
  pg_pool *pool;
  gpd_store_watcher fn;
  void *ctx;
  pthread_t thread;
  int stopfd; /* eventfd: written once to stop */
};

/* Waits up to ms for the stop signal or for fd (when >= 0) to be readable; true when stopping. */
static bool wait_for(pg_listener *l, int fd, int ms) {
  struct pollfd p[2] = {{l->stopfd, POLLIN, 0}, {fd, POLLIN, 0}};
  int rc = poll(p, fd >= 0 ? 2 : 1, ms);
  return rc > 0 && (p[0].revents & POLLIN);
}

static PGconn *connect_and_listen(pg_listener *l, char *msg, size_t size) {
  PGconn *c = pg_pool_connect(l->pool, msg, size);
  if (!c) return NULL;
  PGresult *r = PQexec(c, "LISTEN " GPD_CHANGE_CHANNEL);
  bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  if (!ok) snprintf(msg, size, "%s", PQerrorMessage(c));
  PQclear(r);
  if (!ok) {
    PQfinish(c);
    return NULL;
  }
  return c;
}

static void *listen_main(void *arg) {
  pg_listener *l = arg;
  PGconn *c = NULL;
  bool lost = false, said = false;
  char msg[256];
  for (;;) {
    if (!c) {
      if (!(c = connect_and_listen(l, msg, sizeof msg))) {
        if (!said) gpd_log_error("store: cannot listen for change notices (%s); retrying every second", msg);
        said = true;
        if (wait_for(l, -1, RECONNECT_MS)) break;
        continue;
      }
      if (said) gpd_log_info("store: listening for change notices again");
      said = false;
      if (lost) l->fn(l->ctx, "*"); /* notices sent while no one listened are gone */
      lost = false;
    }
    if (wait_for(l, PQsocket(c), -1)) break;
    if (!PQconsumeInput(c) || PQstatus(c) != CONNECTION_OK) {
      PQfinish(c);
      c = NULL;
      lost = true;
      continue;
    }
    PGnotify *n;
    while ((n = PQnotifies(c))) {
      if (n->extra && *n->extra) l->fn(l->ctx, n->extra);
      PQfreemem(n);
    }
  }
  if (c) PQfinish(c);
  return NULL;
}

pg_listener *pg_listen_start(pg_pool *pool, gpd_store_watcher fn, void *ctx) {
  pg_listener *l = calloc(1, sizeof *l);
  if (!l) return NULL;
  l->pool = pool;
  l->fn = fn;
  l->ctx = ctx;
  if ((l->stopfd = eventfd(0, EFD_CLOEXEC)) < 0 || pthread_create(&l->thread, NULL, listen_main, l) != 0) {
    if (l->stopfd >= 0) close(l->stopfd);
    free(l);
    return NULL;
  }
  return l;
}

void pg_listen_stop(pg_listener *l) {
  if (!l) return;
  uint64_t one = 1;
  while (write(l->stopfd, &one, sizeof one) < 0 && errno == EINTR) {
  }
  pthread_join(l->thread, NULL);
  close(l->stopfd);
  free(l);
}
