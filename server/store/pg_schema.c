/* pg_schema.c - the PostgreSQL store's schema as numbered migrations (see pg_schema.h).
 *
 * A migration is applied once, in a transaction that also records it in schema_migrations, while
 * the session holds an advisory lock, so replicas started together (a rolling deployment) apply it
 * once and the others wait, then find it done. A new version of gpupoold appends a migration here;
 * it never edits one that was released.
 *
 * The tables are those of the SQLite store, with two PostgreSQL points: keys use the "C" collation,
 * because the key-range scans (a cluster's pools are the keys between "c/" and "c0") need byte
 * order whatever the database's locale; documents are text, not jsonb, because they are opaque
 * here and compared byte for byte. */
#include "store/pg_schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* pg_advisory_lock key: "gpupool" in ASCII, so that other applications on the database do not
 * collide with it by accident. */
#define MIGRATION_LOCK "29115572301033324"

typedef struct {
  int version;
  const char *name;
  const char *sql;
} migration;

static const migration migrations[] = {
    {1, "clusters, pools, plans, operations, features",
     "CREATE TABLE clusters(key text COLLATE \"C\" PRIMARY KEY, id text NOT NULL, name text NOT NULL,"
     " doc text NOT NULL, etag text NOT NULL, state text NOT NULL, op_id text);"
     "CREATE TABLE pools(key text COLLATE \"C\" PRIMARY KEY, id text NOT NULL, name text NOT NULL,"
     " doc text NOT NULL, etag text NOT NULL, state text NOT NULL, op_id text, mode text,"
     " plan_generation bigint NOT NULL DEFAULT 0);"
     "CREATE TABLE plans(key text COLLATE \"C\" PRIMARY KEY, plan text NOT NULL);"
     "CREATE TABLE operations(seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id text NOT NULL UNIQUE,"
     " sub text NOT NULL, location text, res_kind integer NOT NULL, res_key text COLLATE \"C\" NOT NULL,"
     " res_id text, kind text NOT NULL, status text NOT NULL, start_ms bigint NOT NULL, end_ms bigint,"
     " not_before_ms bigint NOT NULL, error text, parent text, api_version text, lease_owner text,"
     " lease_until bigint);"
     "CREATE INDEX operations_pending ON operations(seq) WHERE status = 'InProgress';"
     "CREATE INDEX operations_parent ON operations(parent) WHERE parent IS NOT NULL;"
     "CREATE INDEX operations_ended ON operations(end_ms) WHERE status <> 'InProgress';"
     "CREATE TABLE features(sub text NOT NULL, name text NOT NULL, state text NOT NULL, PRIMARY KEY(sub, name));"},
    /* Machines: the facts a state is decided from in a narrow table (a pool's machines are one key
     * range, listed and counted through the primary key), what the agent reported apart; plans by
     * generation while machines reference them; the current plans become the first history. */
    {2, "machines, machine_docs, plan_history",
     "CREATE TABLE machines(key text COLLATE \"C\" PRIMARY KEY, pool_key text COLLATE \"C\" NOT NULL,"
     " id text NOT NULL, name text NOT NULL, etag text NOT NULL, incarnation text NOT NULL,"
     " last_seen_ms bigint NOT NULL, interval_s integer NOT NULL, applied_generation bigint NOT NULL,"
     " target_generation bigint NOT NULL DEFAULT 0, health_failed integer NOT NULL, drifted integer NOT NULL);"
     "CREATE TABLE machine_docs(key text COLLATE \"C\" PRIMARY KEY, report text NOT NULL, findings text NOT NULL);"
     "CREATE TABLE plan_history(pool_key text COLLATE \"C\" NOT NULL, generation bigint NOT NULL, plan text NOT NULL,"
     " PRIMARY KEY(pool_key, generation));"
     "INSERT INTO plan_history(pool_key, generation, plan) SELECT p.key, p.plan_generation, l.plan"
     " FROM pools p JOIN plans l ON l.key = p.key WHERE p.plan_generation > 0;"},
    /* A pool's incarnation: random, given at creation and kept until the pool is deleted, part of its
     * plan's ETag so that a pool created again under the same name never matches an ETag of the old
     * one. The existing pools get one each (md5 of per-row random input: nothing newer than
     * PostgreSQL 10 is needed); their plan ETags made before ("<generation>") no longer match. */
    {3, "pools.incarnation",
     "ALTER TABLE pools ADD COLUMN incarnation text NOT NULL DEFAULT '';"
     "UPDATE pools SET incarnation = md5(random()::text || clock_timestamp()::text || key) WHERE incarnation = '';"},
    /* A pool's rollout (the last one), written with each of its batches in the transaction that moves
     * the batch's machines. */
    {4, "rollouts",
     "CREATE TABLE rollouts(pool_key text COLLATE \"C\" PRIMARY KEY, op_id text NOT NULL, state text NOT NULL,"
     " doc text NOT NULL);"},
};
#define NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

typedef struct {
  char *err;
  size_t errlen;
} migrate_ctx;

static bool run(pg_conn *c, const char *sql, migrate_ctx *m, const char *what) {
  PGresult *r = pg_exec_sql(c, sql);
  if (!r) {
    snprintf(m->err, m->errlen, "PostgreSQL schema: %s failed: %s", what, pg_conn_error(c));
    return false;
  }
  PQclear(r);
  return true;
}

static int current_version(pg_conn *c, migrate_ctx *m) {
  PGresult *r = pg_exec_sql(c, "SELECT COALESCE(max(version), 0) FROM schema_migrations");
  if (!r) {
    snprintf(m->err, m->errlen, "PostgreSQL schema: cannot read schema_migrations: %s", pg_conn_error(c));
    return -1;
  }
  int v = PQntuples(r) == 1 ? atoi(PQgetvalue(r, 0, 0)) : -1;
  PQclear(r);
  return v;
}

static bool apply(pg_conn *c, const migration *mg, migrate_ctx *m) {
  char record[256], what[128];
  snprintf(what, sizeof what, "migration %d (%s)", mg->version, mg->name);
  snprintf(record, sizeof record, "INSERT INTO schema_migrations(version, name) VALUES(%d, '%s')", mg->version,
           mg->name); /* constants of this file */
  if (!run(c, "BEGIN", m, what)) return false;
  if (run(c, mg->sql, m, what) && run(c, record, m, what) && run(c, "COMMIT", m, what)) return true;
  PQclear(pg_exec_sql(c, "ROLLBACK"));
  return false;
}

static gpd_store_rc migrate(pg_conn *c, void *arg) {
  migrate_ctx *m = arg;
  if (!run(c, "SELECT pg_advisory_lock(" MIGRATION_LOCK ")", m, "taking the migration lock")) return GPD_STORE_ERROR;
  bool ok = run(c,
                "CREATE TABLE IF NOT EXISTS schema_migrations(version integer PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())",
                m, "creating schema_migrations");
  int have = ok ? current_version(c, m) : -1;
  if (have > NMIGRATIONS) {
    snprintf(m->err, m->errlen,
             "the PostgreSQL database has schema version %d, written by a newer gpupoold (this one knows %d)", have,
             NMIGRATIONS);
    ok = false;
  }
  for (int i = 0; ok && have >= 0 && i < NMIGRATIONS; i++)
    if (migrations[i].version > have) ok = apply(c, &migrations[i], m);
  if (have < 0) ok = false;
  /* The lock is the session's: a failure above that lost the connection released it too. */
  PQclear(pg_exec_sql(c, "SELECT pg_advisory_unlock(" MIGRATION_LOCK ")"));
  return ok ? GPD_STORE_OK : GPD_STORE_ERROR;
}

gpd_store_rc pg_schema_migrate(pg_pool *p, char *err, size_t errlen) {
  migrate_ctx m = {err, errlen};
  snprintf(err, errlen, "PostgreSQL schema: no connection");
  return pg_run(p, false, migrate, &m);
}
