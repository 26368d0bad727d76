/* sqlite.c - the SQLite back-end of the store (store.h): one file, WAL mode, synchronous=FULL.
 *
 * Reads use a small pool of read-only connections (WAL lets them run beside the writer), at most
 * MAX_READERS of them whatever the number of HTTP threads. Writes go
 * to one writer thread that owns the only read-write connection and commits them in groups: every
 * write that is waiting when a commit starts runs inside its own SAVEPOINT of one transaction
 * (so a write whose precondition fails is rolled back alone), then a single COMMIT + fsync makes
 * the whole group durable before any of them is answered. Preconditions are checked inside the
 * transaction, so two writers that read the same etag cannot both succeed.
 *
 * One gpupoold per database file, whatever the path's spelling: the file itself is locked
 * (sqlite_file.h), which also lets start-up release the leases of a process that died (its
 * operations are resumed). Several replicas need the PostgreSQL back-end.
 *
 * Health: every group commit first checks that the path still names the file this process opened
 * (not deleted, replaced or truncated) and refuses to write otherwise; a group whose commit failed
 * (disk full, I/O error) marks writes as failing until one succeeds, and ping then tries a small
 * write at most once a second, so /healthz says what the API would do and recovers with the disk. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "store/sqlite_file.h"
#include "store/store.h"
#include "util.h"

/* 1: clusters, pools, plans, operations, features; 2: machines, plan history; 3: pools' incarnation */
#define SCHEMA_VERSION 4
#define GPD_STR2(x) #x
#define GPD_STR(x) GPD_STR2(x)
#define PROBE_EVERY_NS 1000000000LL /* a failing store is tried with a small write at most this often */
#define MAX_BATCH 512
/* Reads take microseconds: a few connections serve any number of HTTP threads, and each one costs
 * its page cache and prepared statements in memory. */
#define MAX_READERS 8

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS clusters(key TEXT PRIMARY KEY, id TEXT NOT NULL, name TEXT NOT NULL,"
    " doc TEXT NOT NULL, etag TEXT NOT NULL, state TEXT NOT NULL, op_id TEXT);"
    "CREATE TABLE IF NOT EXISTS pools(key TEXT PRIMARY KEY, id TEXT NOT NULL, name TEXT NOT NULL,"
    " doc TEXT NOT NULL, etag TEXT NOT NULL, state TEXT NOT NULL, op_id TEXT, mode TEXT,"
    " plan_generation INTEGER NOT NULL DEFAULT 0, incarnation TEXT NOT NULL DEFAULT '');"
    /* Plans (a few KB each) live apart so that pool rows stay small: lists read fewer pages. */
    "CREATE TABLE IF NOT EXISTS plans(key TEXT PRIMARY KEY, plan TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS operations(seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, sub TEXT NOT NULL,"
    " location TEXT, res_kind INTEGER NOT NULL, res_key TEXT NOT NULL, res_id TEXT, kind TEXT NOT NULL,"
    " status TEXT NOT NULL, start_ms INTEGER NOT NULL, end_ms INTEGER, not_before_ms INTEGER NOT NULL,"
    " error TEXT, parent TEXT, api_version TEXT, lease_owner TEXT, lease_until INTEGER);"
    "CREATE INDEX IF NOT EXISTS operations_pending ON operations(seq) WHERE status = 'InProgress';"
    "CREATE INDEX IF NOT EXISTS operations_parent ON operations(parent) WHERE parent IS NOT NULL;"
    "CREATE INDEX IF NOT EXISTS operations_ended ON operations(end_ms) WHERE status <> 'InProgress';"
    /* /metrics counts operations by status from this index, not from the table's large rows */
    "CREATE INDEX IF NOT EXISTS operations_status ON operations(status);"
    "CREATE TABLE IF NOT EXISTS features(sub TEXT NOT NULL, name TEXT NOT NULL, state TEXT NOT NULL,"
    " PRIMARY KEY(sub, name));"
    /* Schema 2: machines. The facts a state is decided from sit in a narrow table ordered by key, so
     * that a pool's machines are one range of it when they are listed or counted; what the agent
     * reported (a few KB) sits apart, read only for a GET or a list. */
    "CREATE TABLE IF NOT EXISTS machines(key TEXT PRIMARY KEY, pool_key TEXT NOT NULL, id TEXT NOT NULL,"
    " name TEXT NOT NULL, etag TEXT NOT NULL, incarnation TEXT NOT NULL, last_seen_ms INTEGER NOT NULL,"
    " interval_s INTEGER NOT NULL, applied_generation INTEGER NOT NULL, target_generation INTEGER NOT NULL DEFAULT 0,"
    " health_failed INTEGER NOT NULL, drifted INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS machine_docs(key TEXT PRIMARY KEY, report TEXT NOT NULL, findings TEXT NOT NULL);"
    /* Plans by generation, kept while a machine still references them (rollouts move machines
     * between generations; see finish_one). */
    "CREATE TABLE IF NOT EXISTS plan_history(pool_key TEXT NOT NULL, generation INTEGER NOT NULL, plan TEXT NOT NULL,"
    " PRIMARY KEY(pool_key, generation));"
    /* Schema 4: a pool's rollout (the last one), written with each of its batches. */
    "CREATE TABLE IF NOT EXISTS rollouts(pool_key TEXT PRIMARY KEY, op_id TEXT NOT NULL, state TEXT NOT NULL,"
    " doc TEXT NOT NULL);";

/* From schema 1: the current plans become the first history. */
static const char migrate_to_2[] =
    "INSERT OR IGNORE INTO plan_history(pool_key, generation, plan) SELECT p.key, p.plan_generation, l.plan"
    " FROM pools p JOIN plans l ON l.key = p.key WHERE p.plan_generation > 0";
/* From schema 2 (after 1 -> 2): every pool gets an incarnation of its own, random per row. Plan
 * ETags made before ("<generation>") then no longer match: an agent gets one 200 more. */
static const char migrate_to_3[] = "ALTER TABLE pools ADD COLUMN incarnation TEXT NOT NULL DEFAULT '';"
                                   "UPDATE pools SET incarnation = lower(hex(randomblob(16))) WHERE incarnation = ''";

#define RES_COLS GPD_RES_COLS
#define OP_COLS GPD_OP_COLS

/* Statements of a read connection. */
enum {
  R_GET_CLUSTER,
  R_GET_POOL,
  R_LIST_CLUSTERS,
  R_LIST_POOLS,
  R_PLAN_GEN,
  R_PLAN,
  R_GET_OP,
  R_CHILD_OPS,
  R_FEATURES,
  R_STATS_OPS,
  R_STATS_POOLS,
  R_PING,
  R_GET_MACHINE,
  R_GET_MACHINE_BARE,
  R_LIST_MACHINES,
  R_COUNT_MACHINES,
  R_PLAN_AT,
  R_ROLLOUT,
  R_COUNT
};
#define MACHINE_FROM " FROM machines m JOIN pools p ON p.key = m.pool_key"
#define WITH_DOCS ", d.report, d.findings" MACHINE_FROM " LEFT JOIN machine_docs d ON d.key = m.key"
static const char *const read_sql[R_COUNT] = {
    [R_GET_CLUSTER] = "SELECT " RES_COLS ", NULL, 0 FROM clusters WHERE key = ?1",
    [R_GET_POOL] = "SELECT " RES_COLS ", mode, plan_generation FROM pools WHERE key = ?1",
    [R_LIST_CLUSTERS] = "SELECT " RES_COLS ", NULL, 0 FROM clusters WHERE key > ?1 AND key < ?2 ORDER BY key LIMIT ?3",
    [R_LIST_POOLS] = "SELECT " RES_COLS ", mode, plan_generation FROM pools WHERE key > ?1 AND key < ?2 ORDER BY key "
                     "LIMIT ?3",
    [R_PLAN_GEN] = "SELECT plan_generation, incarnation FROM pools WHERE key = ?1",
    [R_PLAN] = "SELECT p.plan_generation, p.incarnation, l.plan FROM pools p LEFT JOIN plans l ON l.key = p.key"
               " WHERE p.key = ?1",
    [R_GET_OP] = "SELECT " OP_COLS " FROM operations WHERE id = ?1",
    [R_CHILD_OPS] = "SELECT " OP_COLS " FROM operations WHERE parent = ?1 ORDER BY seq",
    [R_FEATURES] = "SELECT name, state FROM features WHERE sub = ?1 ORDER BY name",
    [R_STATS_OPS] = "SELECT status, COUNT(*) FROM operations GROUP BY status ORDER BY status",
    [R_STATS_POOLS] = "SELECT COALESCE(mode, 'None'), COUNT(*) FROM pools GROUP BY 1 ORDER BY 1",
    /* the root (and first leaf) of every table, as the API's reads would touch them */
    [R_PING] = "SELECT (SELECT COUNT(*) FROM sqlite_master), (SELECT key FROM clusters LIMIT 1),"
               " (SELECT key FROM pools LIMIT 1), (SELECT key FROM plans LIMIT 1),"
               " (SELECT seq FROM operations ORDER BY seq DESC LIMIT 1), (SELECT name FROM features LIMIT 1),"
               " (SELECT key FROM machines LIMIT 1), (SELECT key FROM machine_docs LIMIT 1),"
               " (SELECT pool_key FROM plan_history LIMIT 1)",
    [R_GET_MACHINE] = "SELECT " GPD_MACHINE_COLS WITH_DOCS " WHERE m.key = ?1",
    [R_GET_MACHINE_BARE] = "SELECT " GPD_MACHINE_COLS ", NULL, NULL" MACHINE_FROM " WHERE m.key = ?1",
    [R_LIST_MACHINES] = "SELECT " GPD_MACHINE_COLS WITH_DOCS " WHERE m.key > ?1 AND m.key < ?2 ORDER BY m.key LIMIT ?3",
    [R_COUNT_MACHINES] = "SELECT p.id, " GPD_MACHINE_FACTS(
        "?3", "?4", "MIN") ", COUNT(*)" MACHINE_FROM
                           " WHERE m.key > ?1 AND m.key < ?2 GROUP BY p.key, 2, 3, 4, 5 ORDER BY p.key",
    [R_PLAN_AT] = "SELECT plan FROM plan_history WHERE pool_key = ?1 AND generation = ?2",
    [R_ROLLOUT] = "SELECT " GPD_ROLLOUT_COLS " FROM rollouts WHERE pool_key = ?1",
};

/* Statements of the writer connection. */
enum {
  W_ETAG_CLUSTER,
  W_ETAG_POOL,
  W_INSERT_CLUSTER,
  W_INSERT_POOL,
  W_UPDATE_CLUSTER,
  W_UPDATE_POOL,
  W_DELETING_CLUSTER,
  W_DELETING_POOL,
  W_POOLS_STATE,
  W_POOL_COUNT,
  W_INSERT_OP,
  W_SET_FEATURE,
  W_CLAIM,
  W_NEXT_DUE,
  W_RELEASE,
  W_FINISH_OP,
  W_FINISH_POOL,
  W_SET_PLAN,
  W_FINISH_CLUSTER,
  W_DELETE_POOL,
  W_DELETE_PLAN,
  W_DELETE_CLUSTER,
  W_DELETE_POOLS,
  W_DELETE_PLANS,
  W_PURGE,
  W_POOL_STATE,
  W_ETAG_MACHINE,
  W_INSERT_MACHINE,
  W_UPDATE_MACHINE,
  W_PUT_MACHINE_DOC,
  W_DELETE_MACHINE,
  W_DELETE_MACHINE_DOC,
  W_TOUCH_MACHINE,
  W_ADD_HISTORY,
  W_PRUNE_HISTORY,
  W_DELETE_MACHINES,
  W_DELETE_MACHINE_DOCS,
  W_DELETE_POOL_HISTORY,
  W_DELETE_HISTORIES,
  W_TARGET_OF,
  W_SET_TARGET,
  W_KEEP_OP,
  W_PIN_TARGETS,
  W_UNPIN_TARGETS,
  W_PUT_ROLLOUT,
  W_DELETE_ROLLOUT,
  W_DELETE_ROLLOUTS,
  W_CANCEL_OP,
  W_ABORT_ROLLOUT,
  W_CANCEL_POOL,
  W_COUNT
};
#define RUNNABLE                                                                                                       \
  "status = 'InProgress' AND NOT EXISTS (SELECT 1 FROM operations c WHERE c.parent = o.id AND c.status = "             \
  "'InProgress')"
static const char *const write_sql[W_COUNT] = {
    [W_ETAG_CLUSTER] = "SELECT etag FROM clusters WHERE key = ?1",
    [W_ETAG_POOL] = "SELECT etag FROM pools WHERE key = ?1",
    [W_INSERT_CLUSTER] = "INSERT INTO clusters(key, id, name, doc, etag, state, op_id) VALUES(?1,?2,?3,?4,?5,?6,?7)",
    [W_INSERT_POOL] = "INSERT INTO pools(key, id, name, doc, etag, state, op_id, mode, incarnation)"
                      " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)",
    [W_UPDATE_CLUSTER] = "UPDATE clusters SET id=?2, name=?3, doc=?4, etag=?5, state=?6, op_id=?7 WHERE key = ?1",
    [W_UPDATE_POOL] = "UPDATE pools SET id=?2, name=?3, doc=?4, etag=?5, state=?6, op_id=?7, mode=?8 WHERE key = ?1",
    [W_DELETING_CLUSTER] = "UPDATE clusters SET etag=?2, state=?3, op_id=?4 WHERE key = ?1",
    [W_DELETING_POOL] = "UPDATE pools SET etag=?2, state=?3, op_id=?4 WHERE key = ?1",
    [W_POOLS_STATE] = "UPDATE pools SET state=?3 WHERE key > ?1 AND key < ?2",
    [W_POOL_COUNT] = "SELECT COUNT(*) FROM pools WHERE key > ?1 AND key < ?2",
    [W_INSERT_OP] = "INSERT INTO operations(id, sub, location, res_kind, res_key, res_id, kind, status, start_ms,"
                    " end_ms, not_before_ms, error, parent, api_version)"
                    " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)",
    [W_SET_FEATURE] = "INSERT INTO features(sub, name, state) VALUES(?1,?2,?3)"
                      " ON CONFLICT(sub, name) DO UPDATE SET state = excluded.state",
    [W_CLAIM] = "UPDATE operations SET lease_owner = ?1, lease_until = MAX(not_before_ms, ?3) + ?2 WHERE seq IN"
                " (SELECT seq FROM operations o WHERE " RUNNABLE " AND (lease_until IS NULL OR lease_until < ?3)"
                " ORDER BY seq LIMIT ?4) RETURNING " OP_COLS,
    [W_NEXT_DUE] = "SELECT MIN(COALESCE(lease_until, 0)) FROM operations o WHERE " RUNNABLE,
    [W_RELEASE] = "UPDATE operations SET lease_owner = NULL, lease_until = NULL"
                  " WHERE lease_owner = ?1 AND status = 'InProgress'",
    [W_FINISH_OP] = "UPDATE operations SET status=?2, end_ms=?3, error=?4, lease_owner=NULL, lease_until=NULL"
                    " WHERE id = ?1 AND lease_owner = ?5 AND status = 'InProgress'",
    [W_FINISH_POOL] = "UPDATE pools SET state=COALESCE(?3, state), plan_generation=CASE WHEN ?4 IS NULL THEN "
                      "plan_generation ELSE ?5 END"
                      " WHERE key = ?1 AND op_id = ?2",
    [W_SET_PLAN] = "INSERT INTO plans(key, plan) VALUES(?1, ?2) ON CONFLICT(key) DO UPDATE SET plan = excluded.plan",
    [W_FINISH_CLUSTER] = "UPDATE clusters SET state=?3 WHERE key = ?1 AND op_id = ?2",
    [W_DELETE_POOL] = "DELETE FROM pools WHERE key = ?1 AND op_id = ?2",
    [W_DELETE_PLAN] = "DELETE FROM plans WHERE key = ?1",
    [W_DELETE_CLUSTER] = "DELETE FROM clusters WHERE key = ?1 AND op_id = ?2",
    [W_DELETE_POOLS] = "DELETE FROM pools WHERE key > ?1 AND key < ?2",
    [W_DELETE_PLANS] = "DELETE FROM plans WHERE key > ?1 AND key < ?2",
    [W_PURGE] = "DELETE FROM operations WHERE status <> 'InProgress' AND end_ms < ?1",
    [W_POOL_STATE] = "SELECT state FROM pools WHERE key = ?1",
    [W_ETAG_MACHINE] = "SELECT etag FROM machines WHERE key = ?1",
    [W_INSERT_MACHINE] = "INSERT INTO machines(key, pool_key, id, name, etag, incarnation, last_seen_ms, interval_s,"
                         " applied_generation, health_failed, drifted) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
    [W_UPDATE_MACHINE] = "UPDATE machines SET etag=?2, last_seen_ms=MAX(last_seen_ms, ?3), interval_s=?4,"
                         " applied_generation=?5, health_failed=?6, drifted=?7 WHERE key = ?1",
    [W_PUT_MACHINE_DOC] = "INSERT INTO machine_docs(key, report, findings) VALUES(?1,?2,?3)"
                          " ON CONFLICT(key) DO UPDATE SET report = excluded.report, findings = excluded.findings",
    [W_DELETE_MACHINE] = "DELETE FROM machines WHERE key = ?1",
    [W_DELETE_MACHINE_DOC] = "DELETE FROM machine_docs WHERE key = ?1",
    [W_TOUCH_MACHINE] = "UPDATE machines SET last_seen_ms = ?2 WHERE key = ?1 AND last_seen_ms < ?2",
    [W_ADD_HISTORY] = "INSERT INTO plan_history(pool_key, generation, plan) VALUES(?1,?2,?3)"
                      " ON CONFLICT(pool_key, generation) DO UPDATE SET plan = excluded.plan",
    /* Earlier plans no machine of the pool references any more (its machines are keys ?3 .. ?4). */
    [W_PRUNE_HISTORY] = "DELETE FROM plan_history WHERE pool_key = ?1 AND generation < ?2 AND generation NOT IN"
                        " (SELECT applied_generation FROM machines WHERE key > ?3 AND key < ?4"
                        " UNION SELECT target_generation FROM machines WHERE key > ?3 AND key < ?4)",
    [W_DELETE_MACHINES] = "DELETE FROM machines WHERE key > ?1 AND key < ?2",
    [W_DELETE_MACHINE_DOCS] = "DELETE FROM machine_docs WHERE key > ?1 AND key < ?2",
    [W_DELETE_POOL_HISTORY] = "DELETE FROM plan_history WHERE pool_key = ?1",
    [W_DELETE_HISTORIES] = "DELETE FROM plan_history WHERE pool_key > ?1 AND pool_key < ?2",
    [W_TARGET_OF] = "SELECT target_generation FROM machines WHERE key = ?1 AND pool_key = ?2",
    [W_SET_TARGET] = "UPDATE machines SET target_generation = ?2 WHERE key = ?1",
    [W_KEEP_OP] = "UPDATE operations SET lease_until = ?2 WHERE id = ?1 AND lease_owner = ?3 AND status = 'InProgress'",
    /* before a new plan generation is stored: the machines that followed the pool keep the one they had */
    [W_PIN_TARGETS] = "UPDATE machines SET target_generation = (SELECT plan_generation FROM pools WHERE key = ?1)"
                      " WHERE key > ?2 AND key < ?3 AND target_generation = 0",
    [W_UNPIN_TARGETS] =
        "UPDATE machines SET target_generation = 0 WHERE key > ?1 AND key < ?2 AND target_generation = ?3",
    [W_PUT_ROLLOUT] = "INSERT INTO rollouts(pool_key, op_id, state, doc) VALUES(?1,?2,?3,?4) ON CONFLICT(pool_key)"
                      " DO UPDATE SET op_id = excluded.op_id, state = excluded.state, doc = excluded.doc",
    [W_DELETE_ROLLOUT] = "DELETE FROM rollouts WHERE pool_key = ?1",
    [W_DELETE_ROLLOUTS] = "DELETE FROM rollouts WHERE pool_key > ?1 AND pool_key < ?2",
    [W_CANCEL_OP] = "UPDATE operations SET status = 'Canceled', end_ms = ?2, error = ?3, lease_owner = NULL,"
                    " lease_until = NULL WHERE id = ?1 AND status = 'InProgress'",
    [W_ABORT_ROLLOUT] = "UPDATE rollouts SET state = 'Aborted' WHERE pool_key = ?1 AND op_id = ?2",
    [W_CANCEL_POOL] = "UPDATE pools SET state = 'Canceled' WHERE key = ?1 AND op_id = ?2",
};

typedef struct reader {
  sqlite3 *db;
  sqlite3_stmt *st[R_COUNT];
  struct reader *next_free, *next_all;
} reader;

typedef struct sq_store sq_store;

/* A write waiting for the writer thread. */
typedef struct job {
  gpd_store_rc (*fn)(sq_store *s, void *arg);
  void *arg;
  gpd_store_rc rc;
  bool done;
  pthread_cond_t cond; /* its own, so that ending a group wakes only the writes in it */
  struct job *next;
} job;

struct sq_store {
  gpd_store base;
  char *path;
  gpd_db_file file;
  pthread_mutex_t readers_lock;
  pthread_cond_t reader_free;
  reader *free_readers, *all_readers;
  int nreaders;
  sqlite3 *wdb;
  sqlite3_stmt *wst[W_COUNT];
  pthread_t writer;
  bool writer_started;
  pthread_mutex_t lock;
  pthread_cond_t work;
  job *head, *tail;
  bool stopping;
  /* health, under lock */
  bool write_failing;
  char write_error[300];
  int64_t last_probe_ns;
  gpd_store_watcher watcher;
  void *watcher_ctx;
};

/* ---- small helpers ------------------------------------------------------------------------------ */

static char *dup_col(sqlite3_stmt *st, int i, bool *oom) {
  const unsigned char *t = sqlite3_column_text(st, i);
  if (!t) return NULL;
  char *s = strdup((const char *)t);
  if (!s) *oom = true;
  return s;
}

/* The first n columns of the current row as text (NULL for SQL NULL), for the shared fill helpers. */
static void text_cols(sqlite3_stmt *st, const char **cols, int n) {
  for (int i = 0; i < n; i++)
    cols[i] = (const char *)sqlite3_column_text(st, i);
}

static void bind_text(sqlite3_stmt *st, int i, const char *s) {
  if (s)
    sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null(st, i);
}

static bool read_resource(sqlite3_stmt *st, gpd_resource *r) {
  const char *cols[GPD_RES_NCOLS];
  text_cols(st, cols, GPD_RES_NCOLS);
  return gpd_resource_from_text(r, cols);
}

/* The current row of a statement as a row of kind k. */
static bool read_row(sqlite3_stmt *st, const gpd_row_kind *k, void *row) {
  const char *cols[GPD_ROW_MAX_COLS];
  text_cols(st, cols, k->ncols);
  return k->from_text(row, cols);
}

static bool read_operation(sqlite3_stmt *st, gpd_operation *o) {
  const char *cols[GPD_OP_NCOLS];
  text_cols(st, cols, GPD_OP_NCOLS);
  return gpd_operation_from_text(o, cols);
}

/* ---- read connections --------------------------------------------------------------------------- */

static int open_conn(const char *path, bool writer, sqlite3 **out) {
  sqlite3 *db = NULL;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (writer ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path, &db, flags, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_busy_timeout(db, 5000);
    sqlite3_extended_result_codes(db, 1);
    /* Readers keep a small page cache: memory stays flat however many pools are stored. */
    rc = sqlite3_exec(db,
                      writer ? "PRAGMA cache_size=-1024; PRAGMA foreign_keys=OFF;"
                             : "PRAGMA cache_size=-128; PRAGMA query_only=ON;",
                      NULL, NULL, NULL);
  }
  if (rc != SQLITE_OK) {
    sqlite3_close(db);
    return rc;
  }
  *out = db;
  return SQLITE_OK;
}

static reader *reader_acquire(sq_store *s) {
  pthread_mutex_lock(&s->readers_lock);
  while (!s->free_readers && s->nreaders >= MAX_READERS)
    pthread_cond_wait(&s->reader_free, &s->readers_lock);
  reader *r = s->free_readers;
  if (r)
    s->free_readers = r->next_free;
  else
    s->nreaders++; /* this thread opens one more */
  pthread_mutex_unlock(&s->readers_lock);
  if (r) return r;
  if ((r = calloc(1, sizeof *r)) && open_conn(s->path, false, &r->db) == SQLITE_OK) {
    pthread_mutex_lock(&s->readers_lock);
    r->next_all = s->all_readers;
    s->all_readers = r;
    pthread_mutex_unlock(&s->readers_lock);
    return r;
  }
  free(r);
  pthread_mutex_lock(&s->readers_lock);
  s->nreaders--;
  pthread_cond_signal(&s->reader_free);
  pthread_mutex_unlock(&s->readers_lock);
  return NULL;
}

static void reader_release(sq_store *s, reader *r) {
  pthread_mutex_lock(&s->readers_lock);
  r->next_free = s->free_readers;
  s->free_readers = r;
  pthread_cond_signal(&s->reader_free);
  pthread_mutex_unlock(&s->readers_lock);
}

/* The prepared statement i of a reader, reset and unbound, or NULL. */
static sqlite3_stmt *rstmt(reader *r, int i) {
  if (!r->st[i] && sqlite3_prepare_v3(r->db, read_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &r->st[i], NULL) != SQLITE_OK)
    return NULL;
  return r->st[i];
}

static sqlite3_stmt *wstmt(sq_store *s, int i) {
  if (!s->wst[i] &&
      sqlite3_prepare_v3(s->wdb, write_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->wst[i], NULL) != SQLITE_OK)
    return NULL;
  return s->wst[i];
}

static void done_stmt(sqlite3_stmt *st) {
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
}

/* ---- reads -------------------------------------------------------------------------------------- */

#define WITH_READER(s, r)                                                                                              \
  reader *r = reader_acquire(s);                                                                                       \
  if (!r) return GPD_STORE_ERROR;

static gpd_store_rc sq_get_resource(gpd_store *base, gpd_res_kind kind, const char *key, gpd_resource *out) {
  sq_store *s = (sq_store *)base;
  gpd_store_rc rc = GPD_STORE_ERROR;
  WITH_READER(s, r)
  sqlite3_stmt *st = rstmt(r, kind == GPD_RES_POOL ? R_GET_POOL : R_GET_CLUSTER);
  if (st) {
    bind_text(st, 1, key);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
      rc = read_resource(st, out) ? GPD_STORE_OK : GPD_STORE_ERROR;
    else if (step == SQLITE_DONE)
      rc = GPD_STORE_NOT_FOUND;
    done_stmt(st);
  }
  reader_release(s, r);
  return rc;
}

/* Reads up to limit rows of kind k from a bound statement into a new array (*out). */
static gpd_store_rc collect_rows(sqlite3_stmt *st, const gpd_row_kind *k, size_t limit, void **out, size_t *n) {
  char *rows = NULL;
  size_t cap = 0;
  int step = SQLITE_DONE;
  gpd_store_rc rc = GPD_STORE_OK;
  *n = 0;
  while (*n < limit && (step = sqlite3_step(st)) == SQLITE_ROW) {
    if (*n == cap) {
      size_t ncap = cap ? cap * 2 : 16;
      char *g = realloc(rows, ncap * k->size);
      if (!g) {
        rc = GPD_STORE_ERROR;
        break;
      }
      rows = g;
      cap = ncap;
    }
    if (!read_row(st, k, rows + *n * k->size)) {
      rc = GPD_STORE_ERROR;
      break;
    }
    (*n)++;
  }
  if (rc == GPD_STORE_OK && *n < limit && step != SQLITE_DONE) rc = GPD_STORE_ERROR;
  if (rc != GPD_STORE_OK) {
    gpd_rows_free(k, rows, *n);
    rows = NULL;
    *n = 0;
  }
  *out = rows;
  return rc;
}

/* The rows of read statement `which` of kind k whose key sorts after `after` (or the prefix) and
 * under the prefix, at most limit, in key order. The statement takes (lo, hi, limit). */
static gpd_store_rc list_range(sq_store *s, int which, const gpd_row_kind *k, const char *prefix, const char *after,
                               size_t limit, void **out, size_t *n) {
  char hi[512];
  gpd_store_rc rc = GPD_STORE_ERROR;
  *out = NULL;
  *n = 0;
  if (!gpd_key_prefix_upper(prefix, hi, sizeof hi)) return GPD_STORE_ERROR;
  WITH_READER(s, r)
  sqlite3_stmt *st = rstmt(r, which);
  if (st) {
    bind_text(st, 1, after && strcmp(after, prefix) > 0 ? after : prefix);
    bind_text(st, 2, hi);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
    rc = collect_rows(st, k, limit, out, n);
    done_stmt(st);
  }
  reader_release(s, r);
  return rc;
}

static gpd_store_rc sq_list_resources(gpd_store *base, gpd_res_kind kind, const char *prefix, const char *after,
                                      size_t limit, gpd_resource **out, size_t *n) {
  return list_range((sq_store *)base, kind == GPD_RES_POOL ? R_LIST_POOLS : R_LIST_CLUSTERS, &gpd_resource_rows, prefix,
                    after, limit, (void **)out, n);
}

static gpd_store_rc sq_get_plan(gpd_store *base, const char *key, int64_t *generation, char *incarnation, char **plan) {
  sq_store *s = (sq_store *)base;
  gpd_store_rc rc = GPD_STORE_ERROR;
  WITH_READER(s, r)
  sqlite3_stmt *st = rstmt(r, plan ? R_PLAN : R_PLAN_GEN);
  if (plan) *plan = NULL;
  if (incarnation) incarnation[0] = '\0';
  if (st) {
    bind_text(st, 1, key);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
      bool oom = false;
      *generation = sqlite3_column_int64(st, 0);
      const unsigned char *inc = sqlite3_column_text(st, 1);
      if (incarnation && inc) snprintf(incarnation, GPD_INCARNATION_MAX, "%s", (const char *)inc);
      if (plan) *plan = dup_col(st, 2, &oom);
      rc = oom ? GPD_STORE_ERROR : GPD_STORE_OK;
    } else if (step == SQLITE_DONE) {
      rc = GPD_STORE_NOT_FOUND;
    }
    done_stmt(st);
  }
  reader_release(s, r);
  return rc;
}

static gpd_store_rc sq_get_operation(gpd_store *base, const char *id, gpd_operation *out) {
  sq_store *s = (sq_store *)base;
  gpd_store_rc rc = GPD_STORE_ERROR;
  WITH_READER(s, r)
  sqlite3_stmt *st = rstmt(r, R_GET_OP);
  if (st) {
    bind_text(st, 1, id);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
      rc = read_operation(st, out) ? GPD_STORE_OK : GPD_STORE_ERROR;
    else if (step == SQLITE_DONE)
      rc = GPD_STORE_NOT_FOUND;
    done_stmt(st);
  }
  reader_release(s, r);
  return rc;
}

/* Collects every row of a bound operations query. */
static gpd_store_rc collect_ops(sqlite3_stmt *st, gpd_operation **out, size_t *n) {
  size_t cap = 0;
  int step;
  gpd_store_rc rc = GPD_STORE_OK;
  *out = NULL;
  *n = 0;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    if (*n == cap) {
      size_t ncap = cap ? cap * 2 : 8;
      gpd_operation *g = realloc(*out, ncap * sizeof *g);
      if (!g) {
        rc = GPD_STORE_ERROR;
        break;
      }
      *out = g;
      cap = ncap;
    }
    if (!read_operation(st, &(*out)[*n])) {
      rc = GPD_STORE_ERROR;
      break;
    }
    (*n)++;
  }
  if (rc == GPD_STORE_OK && step != SQLITE_DONE) rc = GPD_STORE_ERROR;
  if (rc != GPD_STORE_OK) {
    gpd_operations_free(*out, *n);
    *out = NULL;
    *n = 0;
  }
  return rc;
}

static gpd_store_rc sq_list_child_operations(gpd_store *base, const char *parent, gpd_operation **out, size_t *n) {
  sq_store *s = (sq_store *)base;
  gpd_store_rc rc = GPD_STORE_ERROR;
  *out = NULL;
  *n = 0;
  WITH_READER(s, r)
  sqlite3_stmt *st = rstmt(r, R_CHILD_OPS);
  if (st) {
    bind_text(st, 1, parent);
    rc = collect_ops(st, out, n);
    done_stmt(st);
  }
  reader_release(s, r);
  return rc;
}

static gpd_store_rc sq_get_features(gpd_store *base, const char *sub, gpd_feature *out, size_t max, size_t *n) {
  sq_store *s = (sq_store *)base;
  gpd_store_rc rc = GPD_STORE_ERROR;
  *n = 0;
  WITH_READER(s, r)
  sqlite3_stmt *st = rstmt(r, R_FEATURES);
  if (st) {
    bind_text(st, 1, sub);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW && *n < max) {
      snprintf(out[*n].name, sizeof out[*n].name, "%s", (const char *)sqlite3_column_text(st, 0));
      snprintf(out[*n].state, sizeof out[*n].state, "%s", (const char *)sqlite3_column_text(st, 1));
      (*n)++;
    }
    rc = step == SQLITE_DONE || step == SQLITE_ROW ? GPD_STORE_OK : GPD_STORE_ERROR;
    done_stmt(st);
  }
  reader_release(s, r);
  return rc;
}

static bool stats_query(reader *r, int which, char (*labels)[32], int64_t *counts, size_t stride, size_t max,
                        size_t *n) {
  sqlite3_stmt *st = rstmt(r, which);
  int step = SQLITE_ERROR;
  *n = 0;
  if (!st) return false;
  while ((step = sqlite3_step(st)) == SQLITE_ROW && *n < max) {
    char(*label)[32] = (char(*)[32])((char *)labels + *n * stride);
    int64_t *count = (int64_t *)((char *)counts + *n * stride);
    snprintf(*label, sizeof *label, "%s", (const char *)sqlite3_column_text(st, 0));
    *count = sqlite3_column_int64(st, 1);
    (*n)++;
  }
  done_stmt(st);
  return step == SQLITE_DONE || step == SQLITE_ROW;
}

static gpd_store_rc sq_stats(gpd_store *base, gpd_store_stats *out) {
  sq_store *s = (sq_store *)base;
  memset(out, 0, sizeof *out);
  WITH_READER(s, r)
  bool ok =
      stats_query(r, R_STATS_OPS, &out->ops[0].label, &out->ops[0].count, sizeof out->ops[0], 8, &out->nops) &&
      stats_query(r, R_STATS_POOLS, &out->pools[0].label, &out->pools[0].count, sizeof out->pools[0], 8, &out->npools);
  reader_release(s, r);
  return ok ? GPD_STORE_OK : GPD_STORE_ERROR;
}

static gpd_store_rc submit(sq_store *s, gpd_store_rc (*fn)(sq_store *, void *), void *arg);

/* A small write of its own, through the group commit like any other: is the disk writable again? */
static gpd_store_rc do_probe(sq_store *s, void *arg) {
  (void)arg;
  return sqlite3_exec(s->wdb,
                      "INSERT INTO features(sub, name, state) VALUES('', 'gpupoold-health-probe', 'x')"
                      " ON CONFLICT(sub, name) DO UPDATE SET state = excluded.state;"
                      "DELETE FROM features WHERE sub = '' AND name = 'gpupoold-health-probe'",
                      NULL, NULL, NULL) == SQLITE_OK
             ? GPD_STORE_OK
             : GPD_STORE_ERROR;
}

static gpd_store_rc sq_ping(gpd_store *base, char *why, size_t whylen) {
  sq_store *s = (sq_store *)base;
  if (!gpd_db_file_same(&s->file, why, whylen)) return GPD_STORE_ERROR;
  reader *r = reader_acquire(s);
  sqlite3_stmt *st = r ? rstmt(r, R_PING) : NULL;
  int step = st ? sqlite3_step(st) : SQLITE_ERROR;
  if (step != SQLITE_ROW)
    snprintf(why, whylen, "the store cannot be read: %s", r ? sqlite3_errmsg(r->db) : "no connection to the database");
  if (st) done_stmt(st);
  if (r) reader_release(s, r);
  if (step != SQLITE_ROW) return GPD_STORE_ERROR;
  pthread_mutex_lock(&s->lock);
  bool probe = s->write_failing && gpd_mono_ns() - s->last_probe_ns >= PROBE_EVERY_NS;
  if (probe) s->last_probe_ns = gpd_mono_ns();
  pthread_mutex_unlock(&s->lock);
  if (probe) submit(s, do_probe, NULL); /* its commit clears the failure when it succeeds */
  pthread_mutex_lock(&s->lock);
  bool failing = s->write_failing;
  if (failing) snprintf(why, whylen, "the store refuses writes: %s", s->write_error);
  pthread_mutex_unlock(&s->lock);
  return failing ? GPD_STORE_ERROR : GPD_STORE_OK;
}

static void sq_watch(gpd_store *base, gpd_store_watcher fn, void *ctx) {
  sq_store *s = (sq_store *)base;
  s->watcher = fn;
  s->watcher_ctx = ctx;
}

static gpd_store_rc sq_get_machine(gpd_store *base, const char *key, bool with_docs, gpd_machine *out) {
  sq_store *s = (sq_store *)base;
  gpd_store_rc rc = GPD_STORE_ERROR;
  memset(out, 0, sizeof *out);
  WITH_READER(s, r)
  sqlite3_stmt *st = rstmt(r, with_docs ? R_GET_MACHINE : R_GET_MACHINE_BARE);
  if (st) {
    bind_text(st, 1, key);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
      rc = read_row(st, &gpd_machine_rows, out) ? GPD_STORE_OK : GPD_STORE_ERROR;
    else if (step == SQLITE_DONE)
      rc = GPD_STORE_NOT_FOUND;
    done_stmt(st);
  }
  reader_release(s, r);
  return rc;
}

static gpd_store_rc sq_list_machines(gpd_store *base, const char *prefix, const char *after, size_t limit,
                                     gpd_machine **out, size_t *n) {
  return list_range((sq_store *)base, R_LIST_MACHINES, &gpd_machine_rows, prefix, after, limit, (void **)out, n);
}

static gpd_store_rc sq_count_machines(gpd_store *base, const char *prefix, int64_t now_ms, int64_t lag_cap_ms,
                                      gpd_machine_group **out, size_t *n) {
  sq_store *s = (sq_store *)base;
  char hi[512];
  *out = NULL;
  *n = 0;
  if (prefix && !gpd_key_prefix_upper(prefix, hi, sizeof hi)) return GPD_STORE_ERROR;
  gpd_store_rc rc = GPD_STORE_ERROR;
  WITH_READER(s, r)
  sqlite3_stmt *st = rstmt(r, R_COUNT_MACHINES);
  if (st) {
    bind_text(st, 1, prefix ? prefix : "");
    bind_text(st, 2, prefix ? hi : "\x7f"); /* keys are printable ASCII */
    sqlite3_bind_int64(st, 3, now_ms);
    sqlite3_bind_int64(st, 4, lag_cap_ms);
    rc = collect_rows(st, &gpd_machine_group_rows, SIZE_MAX, (void **)out, n);
    done_stmt(st);
  }
  reader_release(s, r);
  return rc;
}

static gpd_store_rc sq_get_plan_at(gpd_store *base, const char *pool_key, int64_t generation, char **plan) {
  sq_store *s = (sq_store *)base;
  gpd_store_rc rc = GPD_STORE_ERROR;
  *plan = NULL;
  WITH_READER(s, r)
  sqlite3_stmt *st = rstmt(r, R_PLAN_AT);
  if (st) {
    bind_text(st, 1, pool_key);
    sqlite3_bind_int64(st, 2, generation);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
      bool oom = false;
      *plan = dup_col(st, 0, &oom);
      rc = oom || !*plan ? GPD_STORE_ERROR : GPD_STORE_OK;
    } else if (step == SQLITE_DONE) {
      rc = GPD_STORE_NOT_FOUND;
    }
    done_stmt(st);
  }
  reader_release(s, r);
  return rc;
}

/* ---- the writer thread and group commit --------------------------------------------------------- */

static gpd_store_rc submit(sq_store *s, gpd_store_rc (*fn)(sq_store *, void *), void *arg) {
  job j = {.fn = fn, .arg = arg, .rc = GPD_STORE_ERROR};
  pthread_cond_init(&j.cond, NULL);
  pthread_mutex_lock(&s->lock);
  if (s->stopping) {
    pthread_mutex_unlock(&s->lock);
    pthread_cond_destroy(&j.cond);
    return GPD_STORE_ERROR;
  }
  if (s->tail)
    s->tail->next = &j;
  else
    s->head = &j;
  s->tail = &j;
  pthread_cond_signal(&s->work);
  while (!j.done)
    pthread_cond_wait(&j.cond, &s->lock);
  pthread_mutex_unlock(&s->lock);
  pthread_cond_destroy(&j.cond);
  return j.rc;
}

static bool wexec(sq_store *s, const char *sql) { return sqlite3_exec(s->wdb, sql, NULL, NULL, NULL) == SQLITE_OK; }

/* Errors that say the file or the disk is in trouble, not the request. */
static bool store_trouble(int code) {
  code &= 0xff;
  return code == SQLITE_IOERR || code == SQLITE_FULL || code == SQLITE_CORRUPT || code == SQLITE_NOTADB ||
         code == SQLITE_READONLY || code == SQLITE_CANTOPEN || code == SQLITE_PROTOCOL;
}

/* Records whether writes work, logging when that changes. Called on the writer thread. */
static void set_write_state(sq_store *s, const char *error) {
  pthread_mutex_lock(&s->lock);
  bool was = s->write_failing, changed = error ? !was || strcmp(error, s->write_error) != 0 : was;
  s->write_failing = error != NULL;
  if (error) snprintf(s->write_error, sizeof s->write_error, "%s", error);
  pthread_mutex_unlock(&s->lock);
  if (!changed) return;
  if (error)
    gpd_log_error("store: refusing writes (503): %s", error);
  else
    gpd_log_info("store: writes succeed again");
}

/* Runs one group: each job in its own savepoint, one durable commit for all. */
static void run_batch(sq_store *s, job *batch) {
  char why[300];
  for (job *j = batch; j; j = j->next)
    j->rc = GPD_STORE_ERROR;
  if (!gpd_db_file_same(&s->file, why, sizeof why)) { /* writing on would be writing into a file nobody will read */
    char msg[600];
    snprintf(msg, sizeof msg, "%s. Restore it from a backup and restart gpupoold", why);
    set_write_state(s, msg);
    return;
  }
  const char *trouble = NULL;
  char error[300] = "";
  bool began = wexec(s, "BEGIN IMMEDIATE");
  if (!began) trouble = sqlite3_errmsg(s->wdb);
  for (job *j = batch; began && j; j = j->next) {
    if (!wexec(s, "SAVEPOINT w")) continue;
    j->rc = j->fn(s, j->arg);
    if (j->rc == GPD_STORE_ERROR && store_trouble(sqlite3_extended_errcode(s->wdb))) {
      snprintf(error, sizeof error, "%s", sqlite3_errmsg(s->wdb));
      trouble = error;
    }
    if (j->rc != GPD_STORE_OK) wexec(s, "ROLLBACK TO w");
    if (!wexec(s, "RELEASE w")) j->rc = GPD_STORE_ERROR;
  }
  if (began && !wexec(s, "COMMIT")) {
    snprintf(error, sizeof error, "%s", sqlite3_errmsg(s->wdb));
    trouble = error;
    wexec(s, "ROLLBACK");
    for (job *j = batch; j; j = j->next)
      if (j->rc == GPD_STORE_OK) j->rc = GPD_STORE_ERROR;
  }
  if (trouble) snprintf(why, sizeof why, "%s (SQLite); free disk space or repair the file system", trouble);
  set_write_state(s, trouble ? why : NULL);
}

static void *writer_main(void *arg) {
  sq_store *s = arg;
  pthread_mutex_lock(&s->lock);
  for (;;) {
    while (!s->head && !s->stopping)
      pthread_cond_wait(&s->work, &s->lock);
    if (!s->head) break;
    job *batch = s->head, *last = batch;
    size_t n = 1;
    while (last->next && n < MAX_BATCH) {
      last = last->next;
      n++;
    }
    s->head = last->next;
    if (!s->head) s->tail = NULL;
    last->next = NULL;
    pthread_mutex_unlock(&s->lock);
    run_batch(s, batch);
    pthread_mutex_lock(&s->lock);
    for (job *j = batch, *next; j; j = next) {
      next = j->next; /* j lives on its submitter's stack: do not touch it once it is woken */
      j->done = true;
      pthread_cond_signal(&j->cond);
    }
  }
  pthread_mutex_unlock(&s->lock);
  return NULL;
}

/* ---- writes (run on the writer thread, inside a savepoint) ---------------------------------------- */

/* Checks a write's precondition: the row's etag equals expect (NULL: no row). */
static gpd_store_rc check_etag(sq_store *s, gpd_res_kind kind, const char *key, const char *expect, bool *exists) {
  sqlite3_stmt *st = wstmt(s, kind == GPD_RES_POOL ? W_ETAG_POOL : W_ETAG_CLUSTER);
  if (!st) return GPD_STORE_ERROR;
  bind_text(st, 1, key);
  int step = sqlite3_step(st);
  gpd_store_rc rc = GPD_STORE_ERROR;
  if (step == SQLITE_ROW) {
    *exists = true;
    const char *etag = (const char *)sqlite3_column_text(st, 0);
    rc = expect && etag && strcmp(expect, etag) == 0 ? GPD_STORE_OK : GPD_STORE_CONFLICT;
  } else if (step == SQLITE_DONE) {
    *exists = false;
    rc = expect ? GPD_STORE_CONFLICT : GPD_STORE_OK;
  }
  done_stmt(st);
  return rc;
}

static gpd_store_rc step_done(sqlite3_stmt *st) {
  int step = sqlite3_step(st);
  done_stmt(st);
  return step == SQLITE_DONE ? GPD_STORE_OK : GPD_STORE_ERROR;
}

static gpd_store_rc put_row(sq_store *s, const gpd_write *w, bool exists) {
  bool pool = w->kind == GPD_RES_POOL;
  int which = exists ? (pool ? W_UPDATE_POOL : W_UPDATE_CLUSTER) : (pool ? W_INSERT_POOL : W_INSERT_CLUSTER);
  sqlite3_stmt *st = wstmt(s, which);
  const gpd_resource *r = w->row;
  if (!st) return GPD_STORE_ERROR;
  bind_text(st, 1, w->key);
  bind_text(st, 2, r->id);
  bind_text(st, 3, r->name);
  bind_text(st, 4, r->doc);
  bind_text(st, 5, r->etag);
  bind_text(st, 6, r->state);
  bind_text(st, 7, r->op_id);
  if (pool) bind_text(st, 8, r->management_mode);
  if (pool && !exists) bind_text(st, 9, r->incarnation);
  return step_done(st);
}

static gpd_store_rc range_stmt(sq_store *s, int which, const char *cluster_key, const char *extra, int64_t *count) {
  char lo[512], hi[512];
  sqlite3_stmt *st = wstmt(s, which);
  if (!st || !gpd_key_pool_range(cluster_key, lo, hi, sizeof lo)) return GPD_STORE_ERROR;
  bind_text(st, 1, lo);
  bind_text(st, 2, hi);
  if (extra) bind_text(st, 3, extra);
  int step = sqlite3_step(st);
  if (count && step == SQLITE_ROW) {
    *count = sqlite3_column_int64(st, 0);
    step = SQLITE_DONE;
  }
  done_stmt(st);
  return step == SQLITE_DONE ? GPD_STORE_OK : GPD_STORE_ERROR;
}

static gpd_store_rc insert_op(sq_store *s, const gpd_operation *o) {
  sqlite3_stmt *st = wstmt(s, W_INSERT_OP);
  if (!st) return GPD_STORE_ERROR;
  bind_text(st, 1, o->id);
  bind_text(st, 2, o->sub);
  bind_text(st, 3, o->location);
  sqlite3_bind_int(st, 4, (int)o->res_kind);
  bind_text(st, 5, o->res_key);
  bind_text(st, 6, o->res_id);
  bind_text(st, 7, gpd_op_kind_name(o->kind));
  bind_text(st, 8, o->status);
  sqlite3_bind_int64(st, 9, o->start_ms);
  if (o->end_ms)
    sqlite3_bind_int64(st, 10, o->end_ms);
  else
    sqlite3_bind_null(st, 10);
  sqlite3_bind_int64(st, 11, o->not_before_ms);
  bind_text(st, 12, o->error);
  bind_text(st, 13, o->parent);
  bind_text(st, 14, o->api_version);
  return step_done(st);
}

static gpd_store_rc do_commit(sq_store *s, void *arg) {
  const gpd_changeset *cs = arg;
  gpd_store_rc rc;
  if (cs->pool_count_of) { /* counted before this changeset adds any pool */
    int64_t count = 0;
    if ((rc = range_stmt(s, W_POOL_COUNT, cs->pool_count_of, NULL, &count)) != GPD_STORE_OK) return rc;
    if ((size_t)count != cs->expect_pool_count) return GPD_STORE_CONFLICT;
  }
  for (size_t i = 0; i < cs->nwrites; i++) {
    const gpd_write *w = &cs->writes[i];
    bool exists = false;
    if ((rc = check_etag(s, w->kind, w->key, w->expect_etag, &exists)) != GPD_STORE_OK) return rc;
    if (w->action == GPD_W_PUT) {
      if ((rc = put_row(s, w, exists)) != GPD_STORE_OK) return rc;
    } else if (w->action == GPD_W_DELETING) {
      sqlite3_stmt *st = wstmt(s, w->kind == GPD_RES_POOL ? W_DELETING_POOL : W_DELETING_CLUSTER);
      if (!st) return GPD_STORE_ERROR;
      bind_text(st, 1, w->key);
      bind_text(st, 2, w->row->etag);
      bind_text(st, 3, w->row->state);
      bind_text(st, 4, w->row->op_id);
      if ((rc = step_done(st)) != GPD_STORE_OK) return rc;
      if (w->kind == GPD_RES_CLUSTER &&
          (rc = range_stmt(s, W_POOLS_STATE, w->key, w->row->state, NULL)) != GPD_STORE_OK)
        return rc;
    }
  }
  for (size_t i = 0; i < cs->nops; i++)
    if ((rc = insert_op(s, &cs->ops[i])) != GPD_STORE_OK) return rc;
  return GPD_STORE_OK;
}

static gpd_store_rc sq_commit(gpd_store *base, const gpd_changeset *cs) {
  return submit((sq_store *)base, do_commit, (void *)cs);
}

typedef struct {
  const char *sub, *name, *state;
} feature_args;

static gpd_store_rc do_set_feature(sq_store *s, void *arg) {
  feature_args *a = arg;
  sqlite3_stmt *st = wstmt(s, W_SET_FEATURE);
  if (!st) return GPD_STORE_ERROR;
  bind_text(st, 1, a->sub);
  bind_text(st, 2, a->name);
  bind_text(st, 3, a->state);
  return step_done(st);
}

static gpd_store_rc sq_set_feature(gpd_store *base, const char *sub, const char *name, const char *state) {
  feature_args a = {sub, name, state};
  return submit((sq_store *)base, do_set_feature, &a);
}

typedef struct {
  const char *owner;
  int64_t now, lease;
  size_t max;
  gpd_operation *out;
  size_t n;
  int64_t next_due;
} claim_args;

static gpd_store_rc do_claim(sq_store *s, void *arg) {
  claim_args *a = arg;
  sqlite3_stmt *st = wstmt(s, W_CLAIM);
  if (!st) return GPD_STORE_ERROR;
  bind_text(st, 1, a->owner);
  sqlite3_bind_int64(st, 2, a->lease);
  sqlite3_bind_int64(st, 3, a->now);
  sqlite3_bind_int64(st, 4, (sqlite3_int64)a->max);
  gpd_store_rc rc = collect_ops(st, &a->out, &a->n);
  done_stmt(st);
  if (rc != GPD_STORE_OK) return rc;
  gpd_operations_sort(a->out, a->n); /* RETURNING has no order */
  a->next_due = 0;
  if (a->n == 0) {
    if (!(st = wstmt(s, W_NEXT_DUE))) return GPD_STORE_ERROR;
    if (sqlite3_step(st) == SQLITE_ROW) a->next_due = sqlite3_column_int64(st, 0);
    done_stmt(st);
  }
  return GPD_STORE_OK;
}

static gpd_store_rc sq_claim_operations(gpd_store *base, const char *owner, int64_t now_ms, int64_t lease_ms,
                                        size_t max, gpd_operation **out, size_t *n, int64_t *next_due_ms) {
  claim_args a = {owner, now_ms, lease_ms, max, NULL, 0, 0};
  gpd_store_rc rc = submit((sq_store *)base, do_claim, &a);
  if (rc != GPD_STORE_OK) { /* a failed commit loses the claim too */
    gpd_operations_free(a.out, a.n);
    a.out = NULL;
    a.n = 0;
  }
  *out = a.out;
  *n = a.n;
  *next_due_ms = a.next_due;
  return rc;
}

typedef struct {
  const char *owner;
  const gpd_op_result *r;
  size_t n;
  int64_t now;
} finish_args;

/* A rollout's writes of an operation's result: the machines it moves, and its row. */
static gpd_store_rc rollout_writes(sq_store *s, const gpd_operation *o, const gpd_op_result *r) {
  sqlite3_stmt *st;
  gpd_store_rc rc;
  for (size_t i = 0; i < r->nmove; i++) {
    if (!(st = wstmt(s, W_SET_TARGET))) return GPD_STORE_ERROR;
    bind_text(st, 1, r->move_keys[i]);
    sqlite3_bind_int64(st, 2, r->move_target);
    if ((rc = step_done(st)) != GPD_STORE_OK) return rc;
  }
  if (r->unpin_generation > 0) {
    char lo[512], hi[512];
    if (!(st = wstmt(s, W_UNPIN_TARGETS)) || !gpd_key_pool_range(o->res_key, lo, hi, sizeof lo)) return GPD_STORE_ERROR;
    bind_text(st, 1, lo);
    bind_text(st, 2, hi);
    sqlite3_bind_int64(st, 3, r->unpin_generation);
    if ((rc = step_done(st)) != GPD_STORE_OK) return rc;
  }
  if (!r->rollout_doc) return GPD_STORE_OK;
  if (!(st = wstmt(s, W_PUT_ROLLOUT))) return GPD_STORE_ERROR;
  bind_text(st, 1, o->res_key);
  bind_text(st, 2, o->id);
  bind_text(st, 3, r->rollout_state);
  bind_text(st, 4, r->rollout_doc);
  return step_done(st);
}

static gpd_store_rc finish_one(sq_store *s, const char *owner, const gpd_op_result *r, int64_t now) {
  const gpd_operation *o = r->op;
  sqlite3_stmt *st = wstmt(s, W_FINISH_OP);
  gpd_store_rc rc;
  if (!st) return GPD_STORE_ERROR;
  bool keep = strcmp(r->status, "InProgress") == 0; /* a rollout goes on */
  if (keep && !(st = wstmt(s, W_KEEP_OP))) return GPD_STORE_ERROR;
  bind_text(st, 1, o->id);
  if (keep) {
    sqlite3_bind_int64(st, 2, r->lease_until_ms);
    bind_text(st, 3, owner);
  } else {
    bind_text(st, 2, r->status);
    sqlite3_bind_int64(st, 3, now);
    bind_text(st, 4, r->error);
    bind_text(st, 5, owner);
  }
  if ((rc = step_done(st)) != GPD_STORE_OK) return rc;
  if (sqlite3_changes(s->wdb) == 0) return GPD_STORE_OK; /* the lease was lost: someone else ends it */

  bool pool = o->res_kind == GPD_RES_POOL, ok = strcmp(r->status, "Succeeded") == 0;
  if (o->kind == GPD_OP_DELETE && ok) {
    if (!(st = wstmt(s, pool ? W_DELETE_POOL : W_DELETE_CLUSTER))) return GPD_STORE_ERROR;
    bind_text(st, 1, o->res_key);
    bind_text(st, 2, o->id);
    if ((rc = step_done(st)) != GPD_STORE_OK || sqlite3_changes(s->wdb) == 0) return rc;
    /* A pool's machines and plans go with it; a cluster's pools with all of theirs. */
    if ((rc = range_stmt(s, W_DELETE_MACHINES, o->res_key, NULL, NULL)) != GPD_STORE_OK ||
        (rc = range_stmt(s, W_DELETE_MACHINE_DOCS, o->res_key, NULL, NULL)) != GPD_STORE_OK)
      return rc;
    if (!pool) {
      if ((rc = range_stmt(s, W_DELETE_POOLS, o->res_key, NULL, NULL)) != GPD_STORE_OK ||
          (rc = range_stmt(s, W_DELETE_HISTORIES, o->res_key, NULL, NULL)) != GPD_STORE_OK ||
          (rc = range_stmt(s, W_DELETE_ROLLOUTS, o->res_key, NULL, NULL)) != GPD_STORE_OK)
        return rc;
      return range_stmt(s, W_DELETE_PLANS, o->res_key, NULL, NULL);
    }
    if (!(st = wstmt(s, W_DELETE_POOL_HISTORY))) return GPD_STORE_ERROR;
    bind_text(st, 1, o->res_key);
    if ((rc = step_done(st)) != GPD_STORE_OK) return rc;
    if (!(st = wstmt(s, W_DELETE_ROLLOUT))) return GPD_STORE_ERROR;
    bind_text(st, 1, o->res_key);
    if ((rc = step_done(st)) != GPD_STORE_OK) return rc;
    if (!(st = wstmt(s, W_DELETE_PLAN))) return GPD_STORE_ERROR;
    bind_text(st, 1, o->res_key);
    return step_done(st);
  }
  char lo[512], hi[512];
  if (pool && !gpd_key_pool_range(o->res_key, lo, hi, sizeof lo)) return GPD_STORE_ERROR;
  const char *plan = pool && (ok || keep) ? r->plan : NULL;
  if (plan && r->pin) {
    if (!(st = wstmt(s, W_PIN_TARGETS))) return GPD_STORE_ERROR;
    bind_text(st, 1, o->res_key);
    bind_text(st, 2, lo);
    bind_text(st, 3, hi);
    if ((rc = step_done(st)) != GPD_STORE_OK) return rc;
  }
  if (!(st = wstmt(s, pool ? W_FINISH_POOL : W_FINISH_CLUSTER))) return GPD_STORE_ERROR;
  bind_text(st, 1, o->res_key);
  bind_text(st, 2, o->id);
  bind_text(st, 3, keep ? NULL : ok ? "Succeeded" : "Failed");
  if (pool) {
    bind_text(st, 4, plan);
    sqlite3_bind_int64(st, 5, r->plan_generation);
  }
  if ((rc = step_done(st)) != GPD_STORE_OK || !pool) return rc;
  if (sqlite3_changes(s->wdb) == 0) return GPD_STORE_OK; /* a later PUT replaced it */
  if ((rc = rollout_writes(s, o, r)) != GPD_STORE_OK || !plan) return rc;
  if (!(st = wstmt(s, W_SET_PLAN))) return GPD_STORE_ERROR;
  bind_text(st, 1, o->res_key);
  bind_text(st, 2, plan);
  if ((rc = step_done(st)) != GPD_STORE_OK) return rc;
  if (!(st = wstmt(s, W_ADD_HISTORY))) return GPD_STORE_ERROR;
  bind_text(st, 1, o->res_key);
  sqlite3_bind_int64(st, 2, r->plan_generation);
  bind_text(st, 3, plan);
  if ((rc = step_done(st)) != GPD_STORE_OK) return rc;
  if (!(st = wstmt(s, W_PRUNE_HISTORY))) return GPD_STORE_ERROR;
  bind_text(st, 1, o->res_key);
  sqlite3_bind_int64(st, 2, r->plan_generation);
  bind_text(st, 3, lo);
  bind_text(st, 4, hi);
  return step_done(st);
}

static gpd_store_rc do_finish(sq_store *s, void *arg) {
  finish_args *a = arg;
  for (size_t i = 0; i < a->n; i++) {
    gpd_store_rc rc = finish_one(s, a->owner, &a->r[i], a->now);
    if (rc != GPD_STORE_OK) return rc;
  }
  return GPD_STORE_OK;
}

static gpd_store_rc sq_finish_operations(gpd_store *base, const char *owner, const gpd_op_result *r, size_t n,
                                         int64_t now_ms) {
  sq_store *s = (sq_store *)base;
  finish_args a = {owner, r, n, now_ms};
  gpd_store_rc rc = submit(s, do_finish, &a);
  /* Committed: tell the waiters of each pool whose plan was stored or which went away. One whose
   * lease was lost meanwhile is told too; a waiter that finds nothing new simply waits again. */
  for (size_t i = 0; rc == GPD_STORE_OK && s->watcher && i < n; i++) {
    const gpd_operation *o = r[i].op;
    char key[600];
    for (size_t k = 0; k < r[i].nmove; k++) { /* a rollout's batch: each machine's plan moved */
      snprintf(key, sizeof key, GPD_CHANGE_MACHINE "%s", r[i].move_keys[k]);
      s->watcher(s->watcher_ctx, key);
    }
    bool kept = strcmp(r[i].status, "InProgress") == 0;
    if (o->res_kind != GPD_RES_POOL || (strcmp(r[i].status, "Succeeded") != 0 && !kept)) continue;
    if (o->kind != GPD_OP_DELETE && !r[i].plan && !r[i].nmove) continue;
    snprintf(key, sizeof key, GPD_CHANGE_PLAN "%s", o->res_key);
    s->watcher(s->watcher_ctx, key);
  }
  return rc;
}

static gpd_store_rc do_release(sq_store *s, void *arg) {
  sqlite3_stmt *st = wstmt(s, W_RELEASE);
  if (!st) return GPD_STORE_ERROR;
  bind_text(st, 1, arg);
  return step_done(st);
}

static gpd_store_rc sq_release_operations(gpd_store *base, const char *owner) {
  return submit((sq_store *)base, do_release, (void *)owner);
}

static gpd_store_rc do_purge(sq_store *s, void *arg) {
  sqlite3_stmt *st = wstmt(s, W_PURGE);
  if (!st) return GPD_STORE_ERROR;
  sqlite3_bind_int64(st, 1, *(int64_t *)arg);
  return step_done(st);
}

static gpd_store_rc sq_purge_operations(gpd_store *base, int64_t before_ms) {
  return submit((sq_store *)base, do_purge, &before_ms);
}

/* ---- machines ------------------------------------------------------------------------------------ */

typedef struct {
  const gpd_machine *m;
  const char *expect;
} put_machine_args;

static gpd_store_rc do_put_machine(sq_store *s, void *arg) {
  put_machine_args *a = arg;
  const gpd_machine *m = a->m;
  sqlite3_stmt *st = wstmt(s, W_POOL_STATE);
  gpd_store_rc rc;
  if (!st) return GPD_STORE_ERROR;
  bind_text(st, 1, m->pool_key);
  int step = sqlite3_step(st);
  const char *state = step == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
  bool pool_ok = state && strcmp(state, "Deleting") != 0;
  done_stmt(st);
  if (step != SQLITE_ROW && step != SQLITE_DONE) return GPD_STORE_ERROR;
  if (!pool_ok) return GPD_STORE_CONFLICT; /* the caller reads again and finds the pool gone */
  if (!(st = wstmt(s, W_ETAG_MACHINE))) return GPD_STORE_ERROR;
  bind_text(st, 1, m->key);
  step = sqlite3_step(st);
  const char *etag = step == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
  bool ok = a->expect ? etag && strcmp(etag, a->expect) == 0 : step == SQLITE_DONE;
  done_stmt(st);
  if (step != SQLITE_ROW && step != SQLITE_DONE) return GPD_STORE_ERROR;
  if (!ok) return GPD_STORE_CONFLICT;
  if (!a->expect) {
    if (!(st = wstmt(s, W_INSERT_MACHINE))) return GPD_STORE_ERROR;
    bind_text(st, 1, m->key);
    bind_text(st, 2, m->pool_key);
    bind_text(st, 3, m->id);
    bind_text(st, 4, m->name);
    bind_text(st, 5, m->etag);
    bind_text(st, 6, m->incarnation);
    sqlite3_bind_int64(st, 7, m->last_seen_ms);
    sqlite3_bind_int64(st, 8, m->interval_s);
    sqlite3_bind_int64(st, 9, m->applied_generation);
    sqlite3_bind_int(st, 10, m->health_failed);
    sqlite3_bind_int(st, 11, m->drifted);
  } else {
    if (!(st = wstmt(s, W_UPDATE_MACHINE))) return GPD_STORE_ERROR;
    bind_text(st, 1, m->key);
    bind_text(st, 2, m->etag);
    sqlite3_bind_int64(st, 3, m->last_seen_ms);
    sqlite3_bind_int64(st, 4, m->interval_s);
    sqlite3_bind_int64(st, 5, m->applied_generation);
    sqlite3_bind_int(st, 6, m->health_failed);
    sqlite3_bind_int(st, 7, m->drifted);
  }
  if ((rc = step_done(st)) != GPD_STORE_OK) return rc;
  if (!(st = wstmt(s, W_PUT_MACHINE_DOC))) return GPD_STORE_ERROR;
  bind_text(st, 1, m->key);
  bind_text(st, 2, m->report);
  bind_text(st, 3, m->findings);
  return step_done(st);
}

static gpd_store_rc sq_put_machine(gpd_store *base, const gpd_machine *m, const char *expect_etag) {
  put_machine_args a = {m, expect_etag};
  return submit((sq_store *)base, do_put_machine, &a);
}

typedef struct {
  const char *key, *expect;
} delete_machine_args;

static gpd_store_rc do_delete_machine(sq_store *s, void *arg) {
  delete_machine_args *a = arg;
  sqlite3_stmt *st = wstmt(s, W_ETAG_MACHINE);
  gpd_store_rc rc;
  if (!st) return GPD_STORE_ERROR;
  bind_text(st, 1, a->key);
  int step = sqlite3_step(st);
  const char *etag = step == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
  bool ok = etag && a->expect && strcmp(etag, a->expect) == 0;
  done_stmt(st);
  if (step != SQLITE_ROW && step != SQLITE_DONE) return GPD_STORE_ERROR;
  if (!ok) return GPD_STORE_CONFLICT;
  if (!(st = wstmt(s, W_DELETE_MACHINE))) return GPD_STORE_ERROR;
  bind_text(st, 1, a->key);
  if ((rc = step_done(st)) != GPD_STORE_OK) return rc;
  if (!(st = wstmt(s, W_DELETE_MACHINE_DOC))) return GPD_STORE_ERROR;
  bind_text(st, 1, a->key);
  return step_done(st);
}

static gpd_store_rc sq_delete_machine(gpd_store *base, const char *key, const char *expect_etag) {
  delete_machine_args a = {key, expect_etag};
  return submit((sq_store *)base, do_delete_machine, &a);
}

typedef struct {
  char *const *keys;
  const int64_t *ms;
  size_t n;
} touch_args;

static gpd_store_rc do_touch(sq_store *s, void *arg) {
  touch_args *a = arg;
  for (size_t i = 0; i < a->n; i++) {
    sqlite3_stmt *st = wstmt(s, W_TOUCH_MACHINE);
    if (!st) return GPD_STORE_ERROR;
    bind_text(st, 1, a->keys[i]);
    sqlite3_bind_int64(st, 2, a->ms[i]);
    gpd_store_rc rc = step_done(st);
    if (rc != GPD_STORE_OK) return rc;
  }
  return GPD_STORE_OK;
}

static gpd_store_rc sq_touch_machines(gpd_store *base, char *const *keys, const int64_t *last_seen_ms, size_t n) {
  touch_args a = {keys, last_seen_ms, n};
  return submit((sq_store *)base, do_touch, &a);
}

typedef struct {
  const char *pool_key;
  char *const *keys;
  size_t n;
  int64_t target;
  bool *changed;  /* per key */
  bool from_pool; /* a changed machine had target 0 */
} targets_args;

static gpd_store_rc do_set_targets(sq_store *s, void *arg) {
  targets_args *a = arg;
  a->from_pool = false;
  for (size_t i = 0; i < a->n; i++) {
    sqlite3_stmt *st = wstmt(s, W_TARGET_OF);
    if (!st) return GPD_STORE_ERROR;
    bind_text(st, 1, a->keys[i]);
    bind_text(st, 2, a->pool_key);
    int step = sqlite3_step(st);
    int64_t old = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    done_stmt(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE) return GPD_STORE_ERROR;
    a->changed[i] = step == SQLITE_ROW && old != a->target;
    if (!a->changed[i]) continue;
    if (old == 0) a->from_pool = true;
    if (!(st = wstmt(s, W_SET_TARGET))) return GPD_STORE_ERROR;
    bind_text(st, 1, a->keys[i]);
    sqlite3_bind_int64(st, 2, a->target);
    gpd_store_rc rc = step_done(st);
    if (rc != GPD_STORE_OK) return rc;
  }
  return GPD_STORE_OK;
}

static gpd_store_rc sq_set_machine_targets(gpd_store *base, const char *pool_key, char *const *keys, size_t n,
                                           int64_t target, size_t *changed) {
  sq_store *s = (sq_store *)base;
  targets_args a = {pool_key, keys, n, target, calloc(n ? n : 1, sizeof(bool)), false};
  size_t count = 0;
  if (changed) *changed = 0;
  if (!a.changed) return GPD_STORE_ERROR;
  gpd_store_rc rc = submit(s, do_set_targets, &a);
  /* Committed: the waiters of each machine whose plan moved, and of the pool when a machine that
   * followed the pool's generation (and so waits on the pool's key) got a target of its own. */
  for (size_t i = 0; rc == GPD_STORE_OK && i < n; i++) {
    if (!a.changed[i]) continue;
    count++;
    if (!s->watcher) continue;
    char key[600];
    snprintf(key, sizeof key, GPD_CHANGE_MACHINE "%s", keys[i]);
    s->watcher(s->watcher_ctx, key);
  }
  if (rc == GPD_STORE_OK && a.from_pool && s->watcher) {
    char key[600];
    snprintf(key, sizeof key, GPD_CHANGE_PLAN "%s", pool_key);
    s->watcher(s->watcher_ctx, key);
  }
  if (changed && rc == GPD_STORE_OK) *changed = count;
  free(a.changed);
  return rc;
}

/* ---- rollouts ---------------------------------------------------------------------------------- */

static gpd_store_rc sq_get_rollout(gpd_store *base, const char *pool_key, gpd_rollout *out) {
  sq_store *s = (sq_store *)base;
  memset(out, 0, sizeof *out);
  reader *r = reader_acquire(s);
  if (!r) return GPD_STORE_ERROR;
  sqlite3_stmt *st = rstmt(r, R_ROLLOUT);
  gpd_store_rc rc = GPD_STORE_ERROR;
  if (st) {
    bind_text(st, 1, pool_key);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
      const char *cols[4];
      text_cols(st, cols, 4);
      rc = gpd_rollout_from_text(out, cols) ? GPD_STORE_OK : GPD_STORE_ERROR;
    } else if (step == SQLITE_DONE) {
      rc = GPD_STORE_NOT_FOUND;
    }
    done_stmt(st);
  }
  reader_release(s, r);
  return rc;
}

typedef struct {
  const char *pool_key, *op_id, *error;
  int64_t now;
} abort_args;

static gpd_store_rc do_abort(sq_store *s, void *arg) {
  abort_args *a = arg;
  sqlite3_stmt *st = wstmt(s, W_CANCEL_OP);
  gpd_store_rc rc;
  if (!st) return GPD_STORE_ERROR;
  bind_text(st, 1, a->op_id);
  sqlite3_bind_int64(st, 2, a->now);
  bind_text(st, 3, a->error);
  if ((rc = step_done(st)) != GPD_STORE_OK) return rc;
  if (sqlite3_changes(s->wdb) == 0) return GPD_STORE_CONFLICT;
  const int which[] = {W_ABORT_ROLLOUT, W_CANCEL_POOL};
  for (size_t i = 0; i < 2; i++) {
    if (!(st = wstmt(s, which[i]))) return GPD_STORE_ERROR;
    bind_text(st, 1, a->pool_key);
    bind_text(st, 2, a->op_id);
    if ((rc = step_done(st)) != GPD_STORE_OK) return rc;
  }
  return GPD_STORE_OK;
}

static gpd_store_rc sq_abort_rollout(gpd_store *base, const char *pool_key, const char *op_id, const char *error,
                                     int64_t now_ms) {
  abort_args a = {pool_key, op_id, error, now_ms};
  return submit((sq_store *)base, do_abort, &a);
}

/* ---- open and close ------------------------------------------------------------------------------ */

static void sq_close(gpd_store *base) {
  sq_store *s = (sq_store *)base;
  if (!s) return;
  if (s->writer_started) {
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_cond_signal(&s->work);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->writer, NULL);
  }
  for (reader *r = s->all_readers, *next; r; r = next) {
    next = r->next_all;
    for (int i = 0; i < R_COUNT; i++)
      sqlite3_finalize(r->st[i]);
    sqlite3_close(r->db);
    free(r);
  }
  for (int i = 0; i < W_COUNT; i++)
    sqlite3_finalize(s->wst[i]);
  if (s->wdb) sqlite3_close(s->wdb);
  gpd_db_file_close(&s->file);
  pthread_mutex_destroy(&s->readers_lock);
  pthread_cond_destroy(&s->reader_free);
  pthread_mutex_destroy(&s->lock);
  pthread_cond_destroy(&s->work);
  free(s->path);
  free(s);
}

static const gpd_store_ops sqlite_ops = {
    .get_resource = sq_get_resource,
    .list_resources = sq_list_resources,
    .get_plan = sq_get_plan,
    .get_operation = sq_get_operation,
    .list_child_operations = sq_list_child_operations,
    .get_features = sq_get_features,
    .stats = sq_stats,
    .ping = sq_ping,
    .watch = sq_watch,
    .commit = sq_commit,
    .set_feature = sq_set_feature,
    .claim_operations = sq_claim_operations,
    .finish_operations = sq_finish_operations,
    .release_operations = sq_release_operations,
    .get_rollout = sq_get_rollout,
    .abort_rollout = sq_abort_rollout,
    .purge_operations = sq_purge_operations,
    .get_machine = sq_get_machine,
    .list_machines = sq_list_machines,
    .put_machine = sq_put_machine,
    .delete_machine = sq_delete_machine,
    .touch_machines = sq_touch_machines,
    .count_machines = sq_count_machines,
    .set_machine_targets = sq_set_machine_targets,
    .get_plan_at = sq_get_plan_at,
    .close = sq_close,
};

gpd_store *gpd_store_sqlite_open(const char *path, bool init, char *err, size_t errlen) {
  sq_store *s = calloc(1, sizeof *s);
  int user_version = -1;
  if (!s || !(s->path = strdup(path))) {
    free(s);
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  s->base.ops = &sqlite_ops;
  s->file.fd = s->file.lock_fd = -1;
  pthread_mutex_init(&s->readers_lock, NULL);
  pthread_cond_init(&s->reader_free, NULL);
  pthread_mutex_init(&s->lock, NULL);
  pthread_cond_init(&s->work, NULL);
  if (!gpd_db_file_open(&s->file, path, init, err, errlen)) goto fail;
  if (s->file.created) gpd_log_info("store: created a new, empty store in %s", path);
  int rc = open_conn(path, true, &s->wdb);
  if (rc != SQLITE_OK) {
    snprintf(err, errlen, "cannot open %s: %s", path, sqlite3_errstr(rc));
    goto fail;
  }
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(s->wdb, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    user_version = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  if (user_version > SCHEMA_VERSION) {
    snprintf(err, errlen, "%s was written by a newer gpupoold (schema %d)", path, user_version);
    goto fail;
  }
  /* A commit is durable (fsync of the WAL) before any write is answered. */
  char *msg = NULL;
  if (sqlite3_exec(s->wdb, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL, NULL, &msg) != SQLITE_OK ||
      sqlite3_exec(s->wdb, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK ||
      sqlite3_exec(s->wdb, schema, NULL, NULL, &msg) != SQLITE_OK ||
      (user_version == 1 && sqlite3_exec(s->wdb, migrate_to_2, NULL, NULL, &msg) != SQLITE_OK) ||
      (user_version >= 1 && user_version < 3 && sqlite3_exec(s->wdb, migrate_to_3, NULL, NULL, &msg) != SQLITE_OK) ||
      sqlite3_exec(s->wdb, "PRAGMA user_version=" GPD_STR(SCHEMA_VERSION), NULL, NULL, &msg) != SQLITE_OK ||
      /* This process holds the lock: leases of an earlier process are void, its operations resume. */
      sqlite3_exec(s->wdb, "UPDATE operations SET lease_owner = NULL, lease_until = NULL WHERE status = 'InProgress'",
                   NULL, NULL, &msg) != SQLITE_OK ||
      sqlite3_exec(s->wdb, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
    snprintf(err, errlen, "cannot set up %s: %s", path, msg ? msg : sqlite3_errmsg(s->wdb));
    sqlite3_free(msg);
    goto fail;
  }
  if (pthread_create(&s->writer, NULL, writer_main, s) != 0) {
    snprintf(err, errlen, "cannot start the store writer thread");
    goto fail;
  }
  s->writer_started = true;
  return &s->base;
fail:
  sq_close(&s->base);
  return NULL;
}
