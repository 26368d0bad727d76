/* pg_pool.h - the PostgreSQL connections of the store (store/pg.c): a small pool shared by the HTTP
 * threads and the reconciler, statements prepared once per connection, reconnection when
 * PostgreSQL went away and came back, and a runner for one unit of work (a transaction, or reads)
 * that tries it again only when that is known to be safe:
 *   - on a fresh connection when the one it had was found broken before COMMIT was sent (a
 *     PostgreSQL restart leaves every pooled connection dead; none of it was written);
 *   - when PostgreSQL rolled it back for a deadlock or a serialization failure.
 * Anything else, and a connection lost while COMMIT was on its way (it may or may not have been
 * written), is GPD_STORE_ERROR: the request is answered 503 and the client retries. */
#ifndef GPUPOOLD_PG_POOL_H
#define GPUPOOLD_PG_POOL_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "store/store.h"

#define PG_POOL_MAX_STMTS 96

typedef struct pg_pool pg_pool;
typedef struct pg_conn pg_conn;

/* Checks the URL, opens a first connection (so that a wrong URL or an unreachable server is
 * reported at start) and keeps the statements (SQL text by index, at most PG_POOL_MAX_STMTS; they
 * must outlive the pool). NULL with the reason in err. */
pg_pool *pg_pool_open(const char *url, const char *const *stmts, int nstmts, int max_conns, char *err, size_t errlen);
void pg_pool_close(pg_pool *p);
/* A connection of its own (not pooled), with the pool's URL and defaults; NULL with why in msg. */
PGconn *pg_pool_connect(pg_pool *p, char *msg, size_t size);

/* Runs statement i with text parameters (NULL = SQL NULL). The result (PQclear it) when the
 * statement succeeded, else NULL: the connection remembers why, and the unit of work should
 * return GPD_STORE_ERROR. */
PGresult *pg_exec(pg_conn *c, int i, int nparams, const char *const *params);
/* Runs SQL text that takes no parameters (schema changes, locks); same contract as pg_exec. */
PGresult *pg_exec_sql(pg_conn *c, const char *sql);
/* Rows changed by an INSERT, UPDATE or DELETE result. */
long pg_changed(const PGresult *r);
/* The last error text of the connection (for start-up messages). */
const char *pg_conn_error(const pg_conn *c);

typedef gpd_store_rc (*pg_work)(pg_conn *c, void *arg);
/* Runs fn on a pooled connection, inside BEGIN … COMMIT when transaction is true (a result other
 * than GPD_STORE_OK rolls it back). fn must set its outputs afresh on each call: it may be called
 * again. GPD_STORE_ERROR when no connection could be had. */
gpd_store_rc pg_run(pg_pool *p, bool transaction, pg_work fn, void *arg);

/* The URL without its password, for logs: postgresql://USER@HOST:PORT/DB. */
void pg_url_display(const char *url, char *out, size_t size);

#endif
