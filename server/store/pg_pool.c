/* pg_pool.c - PostgreSQL connections for the store: pool, prepared statements, reconnection, and the
 * unit-of-work runner (see pg_pool.h).
 *
 * A connection is checked before it is handed out: when PostgreSQL shut down it sent a last message
 * and closed the socket, so a readable socket whose input ends the connection tells a dead
 * connection from a live one without a round trip. While PostgreSQL cannot be reached, a failed
 * connection attempt makes the next ones fail at once for a short while, so requests are answered
 * 503 quickly instead of each one waiting for its own attempt. */
#include "store/pg_pool.h"

#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

#define RECONNECT_PAUSE_NS 250000000LL /* after a failed connection attempt */
#define LOG_EVERY_NS 5000000000LL      /* lost connections are logged this often at most */
#define RETRIES_AFTER_ROLLBACK 4       /* deadlocks and serialization failures */

struct pg_conn {
  PGconn *conn;
  uint64_t prepared[(PG_POOL_MAX_STMTS + 63) / 64]; /* bit i: statement i is prepared on this connection */
  bool broken;                                      /* the connection is unusable (lost, or in an unknown state) */
  bool retry; /* PostgreSQL rolled the transaction back and it may simply be run again */
  char msg[256];
  pg_pool *pool;
  pg_conn *next;
};

struct pg_pool {
  char *url;
  const char *const *stmts;
  int nstmts, max, open;
  pthread_mutex_t lock;
  pthread_cond_t freed;
  pg_conn *idle;
  int64_t retry_at_ns; /* no new connection attempt before this, after one failed */
  int64_t last_log_ns; /* of a lost connection */
  bool down;           /* the last connection attempt failed */
};

static void quiet_notices(void *arg, const char *message) {
  (void)arg;
  (void)message; /* "relation already exists, skipping" and the like */
}

static void copy_msg(char *out, size_t size, const char *msg) {
  snprintf(out, size, "%s", msg && *msg ? msg : "no message");
  size_t n = strlen(out);
  while (n && (out[n - 1] == '\n' || out[n - 1] == ' '))
    out[--n] = '\0';
  for (char *p = out; *p; p++)
    if (*p == '\n') *p = ' ';
}

void pg_url_display(const char *url, char *out, size_t size) {
  char *errmsg = NULL;
  PQconninfoOption *opts = PQconninfoParse(url, &errmsg);
  const char *user = NULL, *host = NULL, *port = NULL, *db = NULL;
  if (!opts) {
    snprintf(out, size, "postgresql (URL not valid)");
    PQfreemem(errmsg);
    return;
  }
  for (PQconninfoOption *o = opts; o->keyword; o++) {
    if (!o->val || !*o->val) continue;
    if (strcmp(o->keyword, "user") == 0) user = o->val;
    if (strcmp(o->keyword, "host") == 0 || (strcmp(o->keyword, "hostaddr") == 0 && !host)) host = o->val;
    if (strcmp(o->keyword, "port") == 0) port = o->val;
    if (strcmp(o->keyword, "dbname") == 0) db = o->val;
  }
  snprintf(out, size, "postgresql://%s%s%s%s%s/%s", user ? user : "", user ? "@" : "", host ? host : "",
           port ? ":" : "", port ? port : "", db ? db : "");
  PQconninfoFree(opts);
}

/* ---- connections -------------------------------------------------------------------------------- */

static void conn_close(pg_conn *c) {
  if (!c) return;
  PQfinish(c->conn);
  free(c);
}

/* A new connection, or NULL with the reason in msg. */
static pg_conn *conn_open(pg_pool *p, char *msg, size_t size) {
  /* Defaults the URL may override (they come before it): a bounded connection time, keepalives so
   * that a vanished server is noticed, and a name in pg_stat_activity. */
  static const char *const keys[] = {"connect_timeout",
                                     "keepalives_idle",
                                     "keepalives_interval",
                                     "keepalives_count",
                                     "fallback_application_name",
                                     "dbname",
                                     NULL};
  const char *vals[] = {"5", "30", "10", "3", "gpupoold", p->url, NULL};
  pg_conn *c = calloc(1, sizeof *c);
  if (!c) {
    snprintf(msg, size, "out of memory");
    return NULL;
  }
  c->pool = p;
  c->conn = PQconnectdbParams(keys, vals, 1);
  if (!c->conn || PQstatus(c->conn) != CONNECTION_OK) {
    copy_msg(msg, size, c->conn ? PQerrorMessage(c->conn) : "out of memory");
    conn_close(c);
    return NULL;
  }
  PQsetNoticeProcessor(c->conn, quiet_notices, NULL);
  /* A 2xx is sent only after a durable commit: a server configured with synchronous_commit=off
   * does not get to weaken that for gpupoold's sessions (stricter settings are kept). */
  PGresult *r = PQexec(c->conn, "SELECT set_config('synchronous_commit', 'on', false)"
                                " WHERE current_setting('synchronous_commit') = 'off'");
  bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
  if (!ok) copy_msg(msg, size, PQerrorMessage(c->conn));
  PQclear(r);
  if (!ok) {
    conn_close(c);
    return NULL;
  }
  return c;
}

/* Is a pooled connection still alive? Only a look at the socket, no round trip. */
static bool conn_alive(pg_conn *c) {
  if (PQstatus(c->conn) != CONNECTION_OK || PQtransactionStatus(c->conn) != PQTRANS_IDLE) return false;
  struct pollfd pfd = {PQsocket(c->conn), POLLIN, 0};
  if (pfd.fd < 0) return false;
  if (poll(&pfd, 1, 0) > 0) { /* something arrived while it was idle: a notice, or its end */
    if (!PQconsumeInput(c->conn) || PQstatus(c->conn) != CONNECTION_OK) return false;
  }
  return true;
}

static pg_conn *acquire(pg_pool *p) {
  char msg[256];
  pthread_mutex_lock(&p->lock);
  for (;;) {
    pg_conn *c = p->idle;
    if (c) {
      p->idle = c->next;
      pthread_mutex_unlock(&p->lock);
      if (conn_alive(c)) return c;
      conn_close(c);
      pthread_mutex_lock(&p->lock);
      p->open--;
      continue;
    }
    if (p->open < p->max) break;
    pthread_cond_wait(&p->freed, &p->lock);
  }
  if (gpd_mono_ns() < p->retry_at_ns) { /* PostgreSQL was just found unreachable */
    pthread_mutex_unlock(&p->lock);
    return NULL;
  }
  p->open++;
  pthread_mutex_unlock(&p->lock);

  pg_conn *c = conn_open(p, msg, sizeof msg);
  pthread_mutex_lock(&p->lock);
  if (!c) {
    p->open--;
    p->retry_at_ns = gpd_mono_ns() + RECONNECT_PAUSE_NS;
    if (!p->down) gpd_log_error("store: PostgreSQL cannot be reached (%s); answering 503 until it is back", msg);
    p->down = true;
    pthread_cond_signal(&p->freed);
  } else if (p->down) {
    p->down = false;
    gpd_log_info("store: PostgreSQL can be reached again");
  }
  pthread_mutex_unlock(&p->lock);
  return c;
}

static void release(pg_pool *p, pg_conn *c) {
  bool keep = !c->broken && PQstatus(c->conn) == CONNECTION_OK && PQtransactionStatus(c->conn) == PQTRANS_IDLE;
  pthread_mutex_lock(&p->lock);
  if (keep) {
    c->next = p->idle;
    p->idle = c;
  } else {
    p->open--;
  }
  pthread_cond_signal(&p->freed);
  pthread_mutex_unlock(&p->lock);
  if (!keep) conn_close(c);
}

/* ---- statements --------------------------------------------------------------------------------- */

/* Records why a statement failed: a lost connection, a rollback worth retrying, or an error. */
static void note_failure(pg_conn *c, PGresult *r, const char *what) {
  const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
  copy_msg(c->msg, sizeof c->msg, r && *PQresultErrorMessage(r) ? PQresultErrorMessage(r) : PQerrorMessage(c->conn));
  /* No SQLSTATE: libpq itself failed (connection lost, out of memory); class 08 and the shutdown
   * codes 57P01-57P03: the server ended the session. */
  c->broken = PQstatus(c->conn) != CONNECTION_OK || !state || strncmp(state, "08", 2) == 0 ||
              strcmp(state, "57P01") == 0 || strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0;
  c->retry = !c->broken && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0);
  if (c->retry) return;
  if (c->broken) {
    pg_pool *p = c->pool;
    int64_t now = gpd_mono_ns();
    pthread_mutex_lock(&p->lock);
    bool log = now - p->last_log_ns > LOG_EVERY_NS;
    if (log) p->last_log_ns = now;
    pthread_mutex_unlock(&p->lock);
    if (log) gpd_log_error("store: lost a PostgreSQL connection (during \"%.60s\"): %s", what, c->msg);
    return;
  }
  gpd_log_error("store: PostgreSQL refused \"%.100s\" (SQLSTATE %s): %s", what, state, c->msg);
}

static PGresult *checked(pg_conn *c, PGresult *r, const char *what) {
  ExecStatusType st = PQresultStatus(r);
  if (r && (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)) return r;
  note_failure(c, r, what);
  PQclear(r);
  return NULL;
}

PGresult *pg_exec(pg_conn *c, int i, int nparams, const char *const *params) {
  char name[16];
  snprintf(name, sizeof name, "gp%d", i);
  if (i < 0 || i >= c->pool->nstmts) return NULL;
  if (!(c->prepared[i / 64] & (1ull << (i % 64)))) {
    /* Prepared statements are per session and survive a rollback: once per connection. */
    PGresult *r = checked(c, PQprepare(c->conn, name, c->pool->stmts[i], 0, NULL), c->pool->stmts[i]);
    if (!r) return NULL;
    PQclear(r);
    c->prepared[i / 64] |= 1ull << (i % 64);
  }
  return checked(c, PQexecPrepared(c->conn, name, nparams, params, NULL, NULL, 0), c->pool->stmts[i]);
}

PGresult *pg_exec_sql(pg_conn *c, const char *sql) { return checked(c, PQexec(c->conn, sql), sql); }

long pg_changed(const PGresult *r) { return strtol(PQcmdTuples((PGresult *)r), NULL, 10); }

const char *pg_conn_error(const pg_conn *c) { return c->msg; }

/* ---- units of work ------------------------------------------------------------------------------ */

gpd_store_rc pg_run(pg_pool *p, bool transaction, pg_work fn, void *arg) {
  for (int attempt = 0;; attempt++) {
    pg_conn *c = acquire(p);
    if (!c) return GPD_STORE_ERROR;
    c->broken = c->retry = false;
    bool commit_sent = false;
    gpd_store_rc rc = GPD_STORE_ERROR;
    PGresult *r = transaction ? pg_exec_sql(c, "BEGIN") : NULL;
    if (!transaction || r) {
      PQclear(r);
      rc = fn(c, arg);
      if (transaction && rc == GPD_STORE_OK) {
        commit_sent = true;
        r = pg_exec_sql(c, "COMMIT");
        /* COMMIT of a transaction that had failed answers ROLLBACK: never count that as written. */
        if (!r || strcmp(PQcmdStatus(r), "COMMIT") != 0) rc = GPD_STORE_ERROR;
        PQclear(r);
      } else if (transaction && !c->broken) {
        bool keep_retry = c->retry;
        PQclear(pg_exec_sql(c, "ROLLBACK"));
        c->retry = keep_retry;
      }
    }
    bool broken = c->broken, retry = c->retry;
    release(p, c);
    if (rc != GPD_STORE_ERROR) return rc;
    /* A dead pooled connection, found before COMMIT went out: nothing was written; once more on a
     * fresh one. A commit whose answer was lost may have happened: that is for the client to see. */
    if (broken && !commit_sent && attempt == 0) continue;
    if (retry && !broken && attempt < RETRIES_AFTER_ROLLBACK) continue;
    return GPD_STORE_ERROR;
  }
}

/* ---- the pool ----------------------------------------------------------------------------------- */

/* libpq quotes the URL in some parse errors: never echo a password that way. */
static void without_url(char *msg, const char *url) {
  char *at = strstr(msg, url);
  size_t n = strlen(url);
  if (!at || n < 5) return;
  memcpy(at, "(URL)", 5);
  memmove(at + 5, at + n, strlen(at + n) + 1);
}

pg_pool *pg_pool_open(const char *url, const char *const *stmts, int nstmts, int max_conns, char *err, size_t errlen) {
  char *errmsg = NULL, msg[256];
  PQconninfoOption *opts = PQconninfoParse(url, &errmsg);
  if (!opts) {
    if (errmsg) without_url(errmsg, url); /* before it is cut to size */
    copy_msg(msg, sizeof msg, errmsg ? errmsg : "out of memory");
    snprintf(err, errlen, "the PostgreSQL URL is not valid: %s", msg);
    PQfreemem(errmsg);
    return NULL;
  }
  PQconninfoFree(opts);
  if (nstmts > PG_POOL_MAX_STMTS || max_conns < 1) {
    snprintf(err, errlen, "PostgreSQL store: bad pool settings");
    return NULL;
  }
  pg_pool *p = calloc(1, sizeof *p);
  if (!p || !(p->url = strdup(url))) {
    free(p);
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  p->stmts = stmts;
  p->nstmts = nstmts;
  p->max = max_conns;
  pthread_mutex_init(&p->lock, NULL);
  pthread_cond_init(&p->freed, NULL);
  pg_conn *c = conn_open(p, msg, sizeof msg);
  if (!c) {
    char where[300];
    pg_url_display(url, where, sizeof where);
    snprintf(err, errlen, "cannot connect to PostgreSQL at %s: %s", where, msg);
    pg_pool_close(p);
    return NULL;
  }
  p->idle = c;
  p->open = 1;
  return p;
}

PGconn *pg_pool_connect(pg_pool *p, char *msg, size_t size) {
  pg_conn *c = conn_open(p, msg, size);
  if (!c) return NULL;
  PGconn *conn = c->conn;
  free(c);
  return conn;
}

void pg_pool_close(pg_pool *p) {
  if (!p) return;
  for (pg_conn *c = p->idle, *next; c; c = next) {
    next = c->next;
    conn_close(c);
  }
  pthread_mutex_destroy(&p->lock);
  pthread_cond_destroy(&p->freed);
  free(p->url);
  free(p);
}
