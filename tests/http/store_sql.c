/* store_sql.c - SQL on a test server's store, SQLite or PostgreSQL (see store_sql.h). */
#include "store_sql.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

static PGconn *pg_connect(const char *url, const char *db) {
  char full[600];
  snprintf(full, sizeof full, "%s/%s", url, db);
  PGconn *c = PQconnectdb(full);
  if (PQstatus(c) != CONNECTION_OK) {
    fprintf(stderr, "store_sql: cannot connect to %s: %s", full, PQerrorMessage(c));
    PQfinish(c);
    return NULL;
  }
  return c;
}

static bool pg_simple(const char *url, const char *sql) {
  PGconn *c = pg_connect(url, "postgres");
  if (!c) return false;
  PGresult *r = PQexec(c, sql);
  bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  if (!ok) fprintf(stderr, "store_sql: %s: %s", sql, PQerrorMessage(c));
  PQclear(r);
  PQfinish(c);
  return ok;
}

bool gpt_pg_create_database(const char *server_url, const char *name) {
  char sql[200];
  snprintf(sql, sizeof sql, "CREATE DATABASE %s", name); /* the harness's own names: letters, digits, _ */
  return pg_simple(server_url, sql);
}

void gpt_pg_drop_database(const char *server_url, const char *name) {
  char sql[200];
  snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
  pg_simple(server_url, sql);
}

static bool on_pg(const char *url, const char *sql, const char *const *params, int n, char *out, size_t size) {
  const char *slash = strrchr(url, '/');
  char server[512];
  snprintf(server, sizeof server, "%.*s", (int)(slash - url), url);
  PGconn *c = pg_connect(server, slash + 1);
  if (!c) return false;
  PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
  ExecStatusType st = PQresultStatus(r);
  bool ok = st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
  if (!ok) fprintf(stderr, "store_sql: %s: %s", sql, PQerrorMessage(c));
  if (ok && out) snprintf(out, size, "%s", PQntuples(r) > 0 && PQnfields(r) > 0 ? PQgetvalue(r, 0, 0) : "");
  PQclear(r);
  PQfinish(c);
  return ok;
}

static bool on_sqlite(const char *path, const char *sql, const char *const *params, int n, char *out, size_t size) {
  sqlite3 *db;
  sqlite3_stmt *st = NULL;
  bool ok = false;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
      sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
    for (int i = 0; i < n; i++)
      sqlite3_bind_text(st, i + 1, params[i], -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    ok = step == SQLITE_ROW || step == SQLITE_DONE;
    const unsigned char *v = step == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
    if (ok && out) snprintf(out, size, "%s", v ? (const char *)v : "");
  }
  if (!ok) fprintf(stderr, "store_sql: %s: %s\n", sql, sqlite3_errmsg(db));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return ok;
}

bool gpt_store_sql(const gpt_server *s, const char *sql, const char *const *params, int nparams, char *out,
                   size_t size) {
  if (out && size) out[0] = '\0';
  if (strncmp(s->db, "sqlite:", 7) == 0) return on_sqlite(s->db + 7, sql, params, nparams, out, size);
  return on_pg(s->db, sql, params, nparams, out, size);
}
