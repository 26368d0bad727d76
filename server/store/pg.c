/* pg.c - the PostgreSQL back-end of the store (store.h): any number of gpupoold replicas on one
 * database, none of them special.
 *
 * Concurrency is the database's: every changeset is one transaction at READ COMMITTED whose
 * preconditions are checked by the statements that write, so a conditional write can succeed once:
 *   - an existing row is written by UPDATE … WHERE key = $k AND etag = $expected, a new one by
 *     INSERT … ON CONFLICT DO NOTHING; no row changed means the precondition failed (CONFLICT);
 *   - a row that must stay as it was ("this cluster still has etag E") is read FOR SHARE, which
 *     holds off writers until the transaction ends, and a cluster whose pools are counted is locked
 *     FOR NO KEY UPDATE first, which holds off new pools (every pool write reads its cluster FOR
 *     SHARE); the count then sees every pool committed before;
 *   - rows are locked in one order everywhere (clusters, then pools, each by key), so transactions
 *     do not deadlock one another; should PostgreSQL still roll one back (deadlock, serialization
 *     failure), it is simply run again (pg_pool.c).
 * Operations are claimed with SELECT … FOR UPDATE SKIP LOCKED and a lease (owner, expiry): replicas
 * polling together never wait on each other nor claim the same operation, and the operations of a
 * replica that died are claimed by another once the lease ran out. Connections, prepared statements
 * and reconnection are pg_pool.c's; the schema and its migrations pg_schema.c's. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store/pg_listen.h"
#include "store/pg_pool.h"
#include "store/pg_schema.h"
#include "store/store.h"

/* HTTP threads and the reconciler share these; each is a PostgreSQL backend process, so a few per
 * replica (PostgreSQL's default max_connections is 100). */
#define MAX_CONNS 16

enum {
  S_GET_CLUSTER,
  S_GET_POOL,
  S_LIST_CLUSTERS,
  S_LIST_POOLS,
  S_PLAN_GEN,
  S_PLAN,
  S_GET_OP,
  S_CHILD_OPS,
  S_FEATURES,
  S_STATS_OPS,
  S_STATS_POOLS,
  S_PING,
  S_CHECK_CLUSTER,
  S_CHECK_POOL,
  S_INSERT_CLUSTER,
  S_INSERT_POOL,
  S_UPDATE_CLUSTER,
  S_UPDATE_POOL,
  S_DELETING_CLUSTER,
  S_DELETING_POOL,
  S_POOLS_STATE,
  S_LOCK_CLUSTER,
  S_POOL_COUNT,
  S_INSERT_OP,
  S_SET_FEATURE,
  S_CLAIM,
  S_NEXT_DUE,
  S_RELEASE,
  S_FINISH_OP,
  S_FINISH_POOL,
  S_SET_PLAN,
  S_FINISH_CLUSTER,
  S_DELETE_POOL,
  S_DELETE_PLAN,
  S_DELETE_CLUSTER,
  S_DELETE_POOLS,
  S_DELETE_PLANS,
  S_PURGE,
  S_GET_MACHINE,
  S_GET_MACHINE_BARE,
  S_LIST_MACHINES,
  S_COUNT_MACHINES,
  S_PLAN_AT,
  S_LOCK_POOL_KEY,
  S_INSERT_MACHINE,
  S_UPDATE_MACHINE,
  S_PUT_MACHINE_DOC,
  S_DELETE_MACHINE,
  S_DELETE_MACHINE_DOC,
  S_TOUCH_MACHINES,
  S_ADD_HISTORY,
  S_PRUNE_HISTORY,
  S_DELETE_MACHINES,
  S_DELETE_MACHINE_DOCS,
  S_DELETE_POOL_HISTORY,
  S_DELETE_HISTORIES,
  S_NOTIFY,
  S_SET_TARGETS,
  S_KEEP_OP,
  S_PIN_TARGETS,
  S_UNPIN_TARGETS,
  S_PUT_ROLLOUT,
  S_GET_ROLLOUT,
  S_DELETE_ROLLOUT,
  S_DELETE_ROLLOUTS,
  S_CANCEL_OP,
  S_ABORT_ROLLOUT,
  S_CANCEL_POOL,
  S_COUNT
};
#define MACHINE_FROM " FROM machines m JOIN pools p ON p.key = m.pool_key"
#define WITH_DOCS ", d.report, d.findings" MACHINE_FROM " LEFT JOIN machine_docs d ON d.key = m.key"

#define RES GPD_RES_COLS
#define RUNNABLE                                                                                                       \
  "o.status = 'InProgress' AND NOT EXISTS (SELECT 1 FROM operations c WHERE c.parent = o.id AND c.status = "           \
  "'InProgress')"
static const char *const sql[S_COUNT] = {
    [S_GET_CLUSTER] = "SELECT " RES ", NULL, 0 FROM clusters WHERE key = $1",
    [S_GET_POOL] = "SELECT " RES ", mode, plan_generation FROM pools WHERE key = $1",
    [S_LIST_CLUSTERS] = "SELECT " RES ", NULL, 0 FROM clusters WHERE key > $1 AND key < $2 ORDER BY key LIMIT $3",
    [S_LIST_POOLS] = "SELECT " RES ", mode, plan_generation FROM pools WHERE key > $1 AND key < $2 ORDER BY key "
                     "LIMIT $3",
    [S_PLAN_GEN] = "SELECT plan_generation, incarnation FROM pools WHERE key = $1",
    [S_PLAN] = "SELECT p.plan_generation, p.incarnation, l.plan FROM pools p LEFT JOIN plans l ON l.key = p.key"
               " WHERE p.key = $1",
    [S_GET_OP] = "SELECT " GPD_OP_COLS " FROM operations WHERE id = $1",
    [S_CHILD_OPS] = "SELECT " GPD_OP_COLS " FROM operations WHERE parent = $1 ORDER BY seq",
    [S_FEATURES] = "SELECT name, state FROM features WHERE sub = $1 ORDER BY name",
    [S_STATS_OPS] = "SELECT status, count(*) FROM operations GROUP BY status ORDER BY status",
    [S_STATS_POOLS] = "SELECT COALESCE(mode, 'None'), count(*) FROM pools GROUP BY 1 ORDER BY 1",
    [S_PING] = "SELECT 1",
    [S_CHECK_CLUSTER] = "SELECT etag FROM clusters WHERE key = $1 FOR SHARE",
    [S_CHECK_POOL] = "SELECT etag FROM pools WHERE key = $1 FOR SHARE",
    [S_INSERT_CLUSTER] = "INSERT INTO clusters(key, id, name, doc, etag, state, op_id) VALUES($1,$2,$3,$4,$5,$6,$7)"
                         " ON CONFLICT (key) DO NOTHING",
    [S_INSERT_POOL] = "INSERT INTO pools(key, id, name, doc, etag, state, op_id, mode, incarnation)"
                      " VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT (key) DO NOTHING",
    [S_UPDATE_CLUSTER] = "UPDATE clusters SET id=$2, name=$3, doc=$4, etag=$5, state=$6, op_id=$7"
                         " WHERE key = $1 AND etag = $8",
    [S_UPDATE_POOL] = "UPDATE pools SET id=$2, name=$3, doc=$4, etag=$5, state=$6, op_id=$7, mode=$8"
                      " WHERE key = $1 AND etag = $9",
    [S_DELETING_CLUSTER] = "UPDATE clusters SET etag=$2, state=$3, op_id=$4 WHERE key = $1 AND etag = $5",
    [S_DELETING_POOL] = "UPDATE pools SET etag=$2, state=$3, op_id=$4 WHERE key = $1 AND etag = $5",
    [S_POOLS_STATE] = "UPDATE pools SET state=$3 WHERE key > $1 AND key < $2",
    [S_LOCK_CLUSTER] = "SELECT 1 FROM clusters WHERE key = $1 FOR NO KEY UPDATE",
    [S_POOL_COUNT] = "SELECT count(*) FROM pools WHERE key > $1 AND key < $2",
    [S_INSERT_OP] = "INSERT INTO operations(id, sub, location, res_kind, res_key, res_id, kind, status, start_ms,"
                    " end_ms, not_before_ms, error, parent, api_version)"
                    " VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)",
    [S_SET_FEATURE] = "INSERT INTO features(sub, name, state) VALUES($1,$2,$3)"
                      " ON CONFLICT (sub, name) DO UPDATE SET state = excluded.state",
    /* Rows another replica is claiming right now are skipped, not waited for; one it claimed since
     * this statement's snapshot is locked, re-read, and dropped because its lease is now set. */
    [S_CLAIM] = "WITH c AS (SELECT o.seq FROM operations o WHERE " RUNNABLE
                " AND (o.lease_until IS NULL OR o.lease_until < $3::bigint) ORDER BY o.seq LIMIT $4"
                " FOR UPDATE OF o SKIP LOCKED)"
                " UPDATE operations u SET lease_owner = $1, lease_until = GREATEST(u.not_before_ms, $3::bigint) + "
                "$2::bigint FROM c WHERE u.seq = c.seq RETURNING u.id, u.seq, u.sub, u.location, u.res_kind, u.res_key,"
                " u.res_id, u.kind, u.status, u.start_ms, u.end_ms, u.not_before_ms, u.error, u.parent, u.api_version",
    [S_NEXT_DUE] = "SELECT COALESCE(MIN(COALESCE(o.lease_until, 0)), 0) FROM operations o WHERE " RUNNABLE,
    [S_RELEASE] = "UPDATE operations SET lease_owner = NULL, lease_until = NULL"
                  " WHERE lease_owner = $1 AND status = 'InProgress'",
    [S_FINISH_OP] = "UPDATE operations SET status=$2, end_ms=$3, error=$4, lease_owner=NULL, lease_until=NULL"
                    " WHERE id = $1 AND lease_owner = $5 AND status = 'InProgress'",
    [S_FINISH_POOL] =
        "UPDATE pools SET state=COALESCE($3, state), plan_generation = COALESCE($4::bigint, plan_generation)"
        " WHERE key = $1 AND op_id = $2",
    [S_SET_PLAN] = "INSERT INTO plans(key, plan) VALUES($1, $2) ON CONFLICT (key) DO UPDATE SET plan = excluded.plan",
    [S_FINISH_CLUSTER] = "UPDATE clusters SET state=$3 WHERE key = $1 AND op_id = $2",
    [S_DELETE_POOL] = "DELETE FROM pools WHERE key = $1 AND op_id = $2",
    [S_DELETE_PLAN] = "DELETE FROM plans WHERE key = $1",
    [S_DELETE_CLUSTER] = "DELETE FROM clusters WHERE key = $1 AND op_id = $2",
    [S_DELETE_POOLS] = "DELETE FROM pools WHERE key > $1 AND key < $2",
    [S_DELETE_PLANS] = "DELETE FROM plans WHERE key > $1 AND key < $2",
    [S_PURGE] = "DELETE FROM operations WHERE status <> 'InProgress' AND end_ms < $1",
    [S_GET_MACHINE] = "SELECT " GPD_MACHINE_COLS WITH_DOCS " WHERE m.key = $1",
    [S_GET_MACHINE_BARE] = "SELECT " GPD_MACHINE_COLS ", NULL, NULL" MACHINE_FROM " WHERE m.key = $1",
    [S_LIST_MACHINES] = "SELECT " GPD_MACHINE_COLS WITH_DOCS " WHERE m.key > $1 AND m.key < $2 ORDER BY m.key LIMIT $3",
    [S_COUNT_MACHINES] = "SELECT p.id, " GPD_MACHINE_FACTS(
        "$3::bigint", "$4::bigint",
        "LEAST") ", count(*)" MACHINE_FROM " WHERE m.key > $1 AND m.key < $2 GROUP BY p.key, 2, 3, 4, 5 ORDER BY p.key",
    [S_PLAN_AT] = "SELECT plan FROM plan_history WHERE pool_key = $1 AND generation = $2",
    /* A machine is written only while its pool is there: the pool row is locked against its delete
     * (FOR KEY SHARE lets the pool's own updates through). */
    [S_LOCK_POOL_KEY] = "SELECT state FROM pools WHERE key = $1 FOR KEY SHARE",
    [S_INSERT_MACHINE] = "INSERT INTO machines(key, pool_key, id, name, etag, incarnation, last_seen_ms, interval_s,"
                         " applied_generation, health_failed, drifted) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)"
                         " ON CONFLICT (key) DO NOTHING",
    [S_UPDATE_MACHINE] = "UPDATE machines SET etag=$2, last_seen_ms=GREATEST(last_seen_ms, $3::bigint), interval_s=$4,"
                         " applied_generation=$5, health_failed=$6, drifted=$7 WHERE key = $1 AND etag = $8",
    [S_PUT_MACHINE_DOC] = "INSERT INTO machine_docs(key, report, findings) VALUES($1,$2,$3)"
                          " ON CONFLICT (key) DO UPDATE SET report = excluded.report, findings = excluded.findings",
    [S_DELETE_MACHINE] = "DELETE FROM machines WHERE key = $1 AND etag = $2",
    [S_DELETE_MACHINE_DOC] = "DELETE FROM machine_docs WHERE key = $1",
    /* Heartbeats of many machines in one statement; lastSeen only moves forward. */
    [S_TOUCH_MACHINES] = "UPDATE machines m SET last_seen_ms = v.ms FROM unnest($1::text[], $2::bigint[]) AS v(key, ms)"
                         " WHERE m.key = v.key COLLATE \"C\" AND m.last_seen_ms < v.ms",
    [S_ADD_HISTORY] = "INSERT INTO plan_history(pool_key, generation, plan) VALUES($1,$2,$3)"
                      " ON CONFLICT (pool_key, generation) DO UPDATE SET plan = excluded.plan",
    [S_PRUNE_HISTORY] = "DELETE FROM plan_history WHERE pool_key = $1 AND generation < $2 AND generation NOT IN"
                        " (SELECT applied_generation FROM machines WHERE key > $3 AND key < $4"
                        " UNION SELECT target_generation FROM machines WHERE key > $3 AND key < $4)",
    [S_DELETE_MACHINES] = "DELETE FROM machines WHERE key > $1 AND key < $2",
    [S_DELETE_MACHINE_DOCS] = "DELETE FROM machine_docs WHERE key > $1 AND key < $2",
    [S_DELETE_POOL_HISTORY] = "DELETE FROM plan_history WHERE pool_key = $1",
    [S_DELETE_HISTORIES] = "DELETE FROM plan_history WHERE pool_key > $1 AND pool_key < $2",
    /* sent inside the transaction: delivered to every LISTENer when it commits, never when it does not */
    [S_NOTIFY] = "SELECT pg_notify('" GPD_CHANGE_CHANNEL "', $1)",
    /* the machines whose target moves, locked, with the target they had (0: they followed the pool) */
    [S_SET_TARGETS] = "WITH old AS (SELECT key, target_generation AS was FROM machines WHERE key = ANY($1::text[])"
                      " AND pool_key = $2 AND target_generation <> $3::bigint ORDER BY key FOR UPDATE)"
                      " UPDATE machines m SET target_generation = $3::bigint FROM old WHERE m.key = old.key"
                      " RETURNING m.key, old.was",
    [S_KEEP_OP] = "UPDATE operations SET lease_until = $2 WHERE id = $1 AND lease_owner = $3 AND status = 'InProgress'",
    /* before a new plan generation is stored: the machines that followed the pool keep the one they had */
    [S_PIN_TARGETS] = "UPDATE machines SET target_generation = (SELECT plan_generation FROM pools WHERE key = $1)"
                      " WHERE key > $2 AND key < $3 AND target_generation = 0",
    [S_UNPIN_TARGETS] =
        "UPDATE machines SET target_generation = 0 WHERE key > $1 AND key < $2 AND target_generation = $3",
    [S_PUT_ROLLOUT] = "INSERT INTO rollouts(pool_key, op_id, state, doc) VALUES($1,$2,$3,$4) ON CONFLICT (pool_key)"
                      " DO UPDATE SET op_id = excluded.op_id, state = excluded.state, doc = excluded.doc",
    [S_GET_ROLLOUT] = "SELECT " GPD_ROLLOUT_COLS " FROM rollouts WHERE pool_key = $1",
    [S_DELETE_ROLLOUT] = "DELETE FROM rollouts WHERE pool_key = $1",
    [S_DELETE_ROLLOUTS] = "DELETE FROM rollouts WHERE pool_key > $1 AND pool_key < $2",
    [S_CANCEL_OP] = "UPDATE operations SET status = 'Canceled', end_ms = $2, error = $3, lease_owner = NULL,"
                    " lease_until = NULL WHERE id = $1 AND status = 'InProgress'",
    [S_ABORT_ROLLOUT] = "UPDATE rollouts SET state = 'Aborted' WHERE pool_key = $1 AND op_id = $2",
    [S_CANCEL_POOL] = "UPDATE pools SET state = 'Canceled' WHERE key = $1 AND op_id = $2",
};

typedef struct {
  gpd_store base;
  pg_pool *pool;
  pg_listener *listener; /* change notices (pg_listen.h) */
} pg_store;

#define POOL(base) (((pg_store *)(base))->pool)

/* ---- helpers ------------------------------------------------------------------------------------ */

typedef struct {
  char s[24];
} num;

static num num_of(int64_t v) {
  num n;
  snprintf(n.s, sizeof n.s, "%" PRId64, v);
  return n;
}

/* Runs a statement and keeps nothing but its success and the rows it changed (-1 on failure). */
static long exec_changed(pg_conn *c, int i, int n, const char *const *params) {
  PGresult *r = pg_exec(c, i, n, params);
  if (!r) return -1;
  long changed = pg_changed(r);
  PQclear(r);
  return changed;
}

#define EXEC(c, i, ...)                                                                                                \
  exec_changed((c), (i), (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(char *)),                                \
               (const char *const[]){__VA_ARGS__})

static const char *col(const PGresult *r, int row, int i) {
  return PQgetisnull(r, row, i) ? NULL : PQgetvalue(r, row, i);
}

static bool row_resource(const PGresult *r, int row, gpd_resource *out) {
  const char *cols[GPD_RES_NCOLS];
  for (int i = 0; i < GPD_RES_NCOLS; i++)
    cols[i] = col(r, row, i);
  return gpd_resource_from_text(out, cols);
}

static bool row_operation(const PGresult *r, int row, gpd_operation *out) {
  const char *cols[GPD_OP_NCOLS];
  for (int i = 0; i < GPD_OP_NCOLS; i++)
    cols[i] = col(r, row, i);
  return gpd_operation_from_text(out, cols);
}

/* Every row of an operations result (NULL r: the statement failed). */
static gpd_store_rc collect_ops(PGresult *r, gpd_operation **out, size_t *n) {
  *out = NULL;
  *n = 0;
  if (!r) return GPD_STORE_ERROR;
  int rows = PQntuples(r);
  gpd_store_rc rc = GPD_STORE_OK;
  if (rows > 0 && !(*out = calloc((size_t)rows, sizeof **out))) rc = GPD_STORE_ERROR;
  for (int i = 0; rc == GPD_STORE_OK && i < rows; i++) {
    if (!row_operation(r, i, &(*out)[i]))
      rc = GPD_STORE_ERROR;
    else
      (*n)++;
  }
  PQclear(r);
  if (rc != GPD_STORE_OK) {
    gpd_operations_free(*out, *n);
    *out = NULL;
    *n = 0;
  }
  return rc;
}

/* ---- reads -------------------------------------------------------------------------------------- */

typedef struct {
  gpd_res_kind kind;
  const char *key;
  gpd_resource *out;
} get_args;

static gpd_store_rc do_get_resource(pg_conn *c, void *arg) {
  get_args *a = arg;
  const char *p[] = {a->key};
  PGresult *r = pg_exec(c, a->kind == GPD_RES_POOL ? S_GET_POOL : S_GET_CLUSTER, 1, p);
  if (!r) return GPD_STORE_ERROR;
  gpd_store_rc rc = PQntuples(r) == 0            ? GPD_STORE_NOT_FOUND
                    : row_resource(r, 0, a->out) ? GPD_STORE_OK
                                                 : GPD_STORE_ERROR;
  PQclear(r);
  return rc;
}

static gpd_store_rc pg_get_resource(gpd_store *base, gpd_res_kind kind, const char *key, gpd_resource *out) {
  get_args a = {kind, key, out};
  memset(out, 0, sizeof *out);
  return pg_run(POOL(base), false, do_get_resource, &a);
}

/* A query whose result is an array of rows of one kind (a list, a count), run on a pooled connection. */
typedef struct {
  int stmt;
  const char *params[4];
  int nparams;
  const gpd_row_kind *kind;
  size_t limit;
  void *rows;
  size_t n;
} rows_args;

/* The rows of a result (NULL: the statement failed), at most limit, as a new array replacing what an
 * earlier attempt left. */
static gpd_store_rc collect_rows(PGresult *r, rows_args *a) {
  gpd_rows_free(a->kind, a->rows, a->n);
  a->rows = NULL;
  a->n = 0;
  if (!r) return GPD_STORE_ERROR;
  size_t count = (size_t)PQntuples(r);
  if (count > a->limit) count = a->limit;
  gpd_store_rc rc = (a->rows = calloc(count ? count : 1, a->kind->size)) ? GPD_STORE_OK : GPD_STORE_ERROR;
  for (size_t i = 0; rc == GPD_STORE_OK && i < count; i++) {
    const char *cols[GPD_ROW_MAX_COLS];
    for (int k = 0; k < a->kind->ncols; k++)
      cols[k] = col(r, (int)i, k);
    if (!a->kind->from_text((char *)a->rows + i * a->kind->size, cols))
      rc = GPD_STORE_ERROR;
    else
      a->n++;
  }
  PQclear(r);
  return rc;
}

static gpd_store_rc do_rows(pg_conn *c, void *arg) {
  rows_args *a = arg;
  return collect_rows(pg_exec(c, a->stmt, a->nparams, a->params), a);
}

static gpd_store_rc query_rows(gpd_store *base, rows_args *a, void **out, size_t *n) {
  gpd_store_rc rc = pg_run(POOL(base), false, do_rows, a);
  if (rc != GPD_STORE_OK) {
    gpd_rows_free(a->kind, a->rows, a->n);
    a->rows = NULL;
    a->n = 0;
  }
  *out = a->rows;
  *n = a->n;
  return rc;
}

/* Rows of statement `which` (taking lo, hi, limit) under a key prefix, after `after`, in key order. */
static gpd_store_rc list_range(gpd_store *base, int which, const gpd_row_kind *k, const char *prefix, const char *after,
                               size_t limit, void **out, size_t *n) {
  char hi[512];
  *out = NULL;
  *n = 0;
  if (!gpd_key_prefix_upper(prefix, hi, sizeof hi)) return GPD_STORE_ERROR;
  num lim = num_of((int64_t)limit);
  rows_args a = {which, {after && strcmp(after, prefix) > 0 ? after : prefix, hi, lim.s}, 3, k, limit, NULL, 0};
  return query_rows(base, &a, out, n);
}

static gpd_store_rc pg_list_resources(gpd_store *base, gpd_res_kind kind, const char *prefix, const char *after,
                                      size_t limit, gpd_resource **out, size_t *n) {
  return list_range(base, kind == GPD_RES_POOL ? S_LIST_POOLS : S_LIST_CLUSTERS, &gpd_resource_rows, prefix, after,
                    limit, (void **)out, n);
}

typedef struct {
  const char *key;
  int64_t generation;
  char *incarnation;
  char **plan;
} plan_args;

static gpd_store_rc do_get_plan(pg_conn *c, void *arg) {
  plan_args *a = arg;
  const char *p[] = {a->key};
  PGresult *r = pg_exec(c, a->plan ? S_PLAN : S_PLAN_GEN, 1, p);
  if (!r) return GPD_STORE_ERROR;
  gpd_store_rc rc = GPD_STORE_NOT_FOUND;
  if (PQntuples(r) > 0) {
    rc = GPD_STORE_OK;
    a->generation = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    if (a->incarnation) snprintf(a->incarnation, GPD_INCARNATION_MAX, "%s", PQgetvalue(r, 0, 1));
    if (a->plan) {
      free(*a->plan);
      *a->plan = NULL;
      const char *text = col(r, 0, 2);
      if (text && !(*a->plan = strdup(text))) rc = GPD_STORE_ERROR;
    }
  }
  PQclear(r);
  return rc;
}

static gpd_store_rc pg_get_plan(gpd_store *base, const char *key, int64_t *generation, char *incarnation, char **plan) {
  plan_args a = {key, 0, incarnation, plan};
  if (plan) *plan = NULL;
  if (incarnation) incarnation[0] = '\0';
  gpd_store_rc rc = pg_run(POOL(base), false, do_get_plan, &a);
  *generation = a.generation;
  if (rc != GPD_STORE_OK && plan) {
    free(*plan);
    *plan = NULL;
  }
  return rc;
}

typedef struct {
  const char *key;
  gpd_operation *out;
  size_t n;
} op_args;

static gpd_store_rc do_get_operation(pg_conn *c, void *arg) {
  op_args *a = arg;
  const char *p[] = {a->key};
  PGresult *r = pg_exec(c, S_GET_OP, 1, p);
  if (!r) return GPD_STORE_ERROR;
  gpd_store_rc rc = PQntuples(r) == 0             ? GPD_STORE_NOT_FOUND
                    : row_operation(r, 0, a->out) ? GPD_STORE_OK
                                                  : GPD_STORE_ERROR;
  PQclear(r);
  return rc;
}

static gpd_store_rc pg_get_operation(gpd_store *base, const char *id, gpd_operation *out) {
  op_args a = {id, out, 0};
  memset(out, 0, sizeof *out);
  return pg_run(POOL(base), false, do_get_operation, &a);
}

static gpd_store_rc do_child_ops(pg_conn *c, void *arg) {
  op_args *a = arg;
  const char *p[] = {a->key};
  gpd_operations_free(a->out, a->n);
  return collect_ops(pg_exec(c, S_CHILD_OPS, 1, p), &a->out, &a->n);
}

static gpd_store_rc pg_list_child_operations(gpd_store *base, const char *parent, gpd_operation **out, size_t *n) {
  op_args a = {parent, NULL, 0};
  gpd_store_rc rc = pg_run(POOL(base), false, do_child_ops, &a);
  *out = a.out;
  *n = a.n;
  return rc;
}

typedef struct {
  const char *sub;
  gpd_feature *out;
  size_t max, n;
} feature_args;

static gpd_store_rc do_get_features(pg_conn *c, void *arg) {
  feature_args *a = arg;
  const char *p[] = {a->sub};
  PGresult *r = pg_exec(c, S_FEATURES, 1, p);
  a->n = 0;
  if (!r) return GPD_STORE_ERROR;
  for (int i = 0; i < PQntuples(r) && a->n < a->max; i++, a->n++) {
    snprintf(a->out[a->n].name, sizeof a->out[a->n].name, "%s", PQgetvalue(r, i, 0));
    snprintf(a->out[a->n].state, sizeof a->out[a->n].state, "%s", PQgetvalue(r, i, 1));
  }
  PQclear(r);
  return GPD_STORE_OK;
}

static gpd_store_rc pg_get_features(gpd_store *base, const char *sub, gpd_feature *out, size_t max, size_t *n) {
  feature_args a = {sub, out, max, 0};
  gpd_store_rc rc = pg_run(POOL(base), false, do_get_features, &a);
  *n = rc == GPD_STORE_OK ? a.n : 0;
  return rc;
}

static bool stats_query(pg_conn *c, int which, char (*labels)[32], int64_t *counts, size_t stride, size_t max,
                        size_t *n) {
  PGresult *r = pg_exec(c, which, 0, NULL);
  *n = 0;
  if (!r) return false;
  for (int i = 0; i < PQntuples(r) && *n < max; i++, (*n)++) {
    char(*label)[32] = (char(*)[32])((char *)labels + *n * stride);
    int64_t *count = (int64_t *)((char *)counts + *n * stride);
    snprintf(*label, sizeof *label, "%s", PQgetvalue(r, i, 0));
    *count = strtoll(PQgetvalue(r, i, 1), NULL, 10);
  }
  PQclear(r);
  return true;
}

static gpd_store_rc do_stats(pg_conn *c, void *arg) {
  gpd_store_stats *out = arg;
  memset(out, 0, sizeof *out);
  bool ok =
      stats_query(c, S_STATS_OPS, &out->ops[0].label, &out->ops[0].count, sizeof out->ops[0], 8, &out->nops) &&
      stats_query(c, S_STATS_POOLS, &out->pools[0].label, &out->pools[0].count, sizeof out->pools[0], 8, &out->npools);
  return ok ? GPD_STORE_OK : GPD_STORE_ERROR;
}

static gpd_store_rc pg_stats(gpd_store *base, gpd_store_stats *out) {
  gpd_store_rc rc = pg_run(POOL(base), false, do_stats, out);
  if (rc != GPD_STORE_OK) memset(out, 0, sizeof *out);
  return rc;
}

static gpd_store_rc do_ping(pg_conn *c, void *arg) {
  (void)arg;
  PGresult *r = pg_exec(c, S_PING, 0, NULL);
  PQclear(r);
  return r ? GPD_STORE_OK : GPD_STORE_ERROR;
}

static gpd_store_rc pg_ping(gpd_store *base, char *why, size_t whylen) {
  gpd_store_rc rc = pg_run(POOL(base), false, do_ping, NULL);
  if (rc != GPD_STORE_OK) snprintf(why, whylen, "PostgreSQL cannot be reached or does not answer (the log says why)");
  return rc;
}

/* Every replica hears what any of them committed: a connection of its own LISTENs (pg_listen.h). */
static void pg_watch(gpd_store *base, gpd_store_watcher fn, void *ctx) {
  pg_store *s = (pg_store *)base;
  if (!s->listener && !(s->listener = pg_listen_start(s->pool, fn, ctx)))
    gpd_log_error("store: cannot start listening for change notices: long-polls end at their deadline");
}

/* Tells every replica's waiters, when this transaction commits, that a pool's plan changed. */
static gpd_store_rc notify_plan(pg_conn *c, const char *pool_key) {
  char key[600];
  snprintf(key, sizeof key, GPD_CHANGE_PLAN "%s", pool_key);
  return EXEC(c, S_NOTIFY, key) < 0 ? GPD_STORE_ERROR : GPD_STORE_OK;
}

/* ---- changesets --------------------------------------------------------------------------------- */

/* The order rows are locked in: clusters before pools, each by key. */
static int lock_order(gpd_res_kind ka, const char *a, gpd_res_kind kb, const char *b) {
  if (ka != kb) return ka == GPD_RES_CLUSTER ? -1 : 1;
  return strcmp(a, b);
}

static int by_lock_order(const void *x, const void *y) {
  const gpd_write *a = *(const gpd_write *const *)x, *b = *(const gpd_write *const *)y;
  return lock_order(a->kind, a->key, b->kind, b->key);
}

/* A row that must be as it was read: locked against writers until the end of the transaction. */
static gpd_store_rc check_row(pg_conn *c, const gpd_write *w) {
  const char *p[] = {w->key};
  PGresult *r = pg_exec(c, w->kind == GPD_RES_POOL ? S_CHECK_POOL : S_CHECK_CLUSTER, 1, p);
  if (!r) return GPD_STORE_ERROR;
  bool ok = PQntuples(r) == 0 ? !w->expect_etag : w->expect_etag && strcmp(PQgetvalue(r, 0, 0), w->expect_etag) == 0;
  PQclear(r);
  return ok ? GPD_STORE_OK : GPD_STORE_CONFLICT;
}

/* One statement that writes only when the precondition holds: exactly one row changed, or CONFLICT. */
static gpd_store_rc put_row(pg_conn *c, const gpd_write *w) {
  const gpd_resource *r = w->row;
  bool pool = w->kind == GPD_RES_POOL;
  const char *p[9] = {w->key, r->id, r->name, r->doc, r->etag, r->state, r->op_id, r->management_mode, NULL};
  long changed;
  if (!w->expect_etag) {
    if (pool) p[8] = r->incarnation;
    changed = exec_changed(c, pool ? S_INSERT_POOL : S_INSERT_CLUSTER, pool ? 9 : 7, p);
  } else if (pool) {
    p[8] = w->expect_etag;
    changed = exec_changed(c, S_UPDATE_POOL, 9, p);
  } else {
    p[7] = w->expect_etag; /* clusters have no mode */
    changed = exec_changed(c, S_UPDATE_CLUSTER, 8, p);
  }
  return changed < 0 ? GPD_STORE_ERROR : changed == 1 ? GPD_STORE_OK : GPD_STORE_CONFLICT;
}

static gpd_store_rc mark_deleting(pg_conn *c, const gpd_write *w) {
  bool pool = w->kind == GPD_RES_POOL;
  char lo[512], hi[512];
  if (!w->expect_etag) return GPD_STORE_CONFLICT; /* only an existing row is deleted */
  long changed = EXEC(c, pool ? S_DELETING_POOL : S_DELETING_CLUSTER, w->key, w->row->etag, w->row->state,
                      w->row->op_id, w->expect_etag);
  if (changed != 1) return changed < 0 ? GPD_STORE_ERROR : GPD_STORE_CONFLICT;
  if (pool) return GPD_STORE_OK;
  if (!gpd_key_pool_range(w->key, lo, hi, sizeof lo)) return GPD_STORE_ERROR;
  return EXEC(c, S_POOLS_STATE, lo, hi, w->row->state) < 0 ? GPD_STORE_ERROR : GPD_STORE_OK;
}

static gpd_store_rc insert_op(pg_conn *c, const gpd_operation *o) {
  num kind = num_of(o->res_kind), start = num_of(o->start_ms), end = num_of(o->end_ms),
      not_before = num_of(o->not_before_ms);
  long changed =
      EXEC(c, S_INSERT_OP, o->id, o->sub, o->location, kind.s, o->res_key, o->res_id, gpd_op_kind_name(o->kind),
           o->status, start.s, o->end_ms ? end.s : NULL, not_before.s, o->error, o->parent, o->api_version);
  return changed == 1 ? GPD_STORE_OK : GPD_STORE_ERROR;
}

/* "The cluster has N pools": counted once no pool can be added until the transaction ends. */
static gpd_store_rc check_pool_count(pg_conn *c, const char *cluster_key, size_t expect) {
  char lo[512], hi[512];
  if (!gpd_key_pool_range(cluster_key, lo, hi, sizeof lo) || EXEC(c, S_LOCK_CLUSTER, cluster_key) < 0)
    return GPD_STORE_ERROR;
  const char *p[] = {lo, hi};
  PGresult *r = pg_exec(c, S_POOL_COUNT, 2, p);
  if (!r) return GPD_STORE_ERROR;
  bool ok = PQntuples(r) == 1 && strtoull(PQgetvalue(r, 0, 0), NULL, 10) == expect;
  PQclear(r);
  return ok ? GPD_STORE_OK : GPD_STORE_CONFLICT;
}

static gpd_store_rc do_commit(pg_conn *c, void *arg) {
  const gpd_changeset *cs = arg;
  gpd_store_rc rc = GPD_STORE_OK;
  if (cs->pool_count_of && (rc = check_pool_count(c, cs->pool_count_of, cs->expect_pool_count)) != GPD_STORE_OK)
    return rc;
  const gpd_write **order = malloc((cs->nwrites ? cs->nwrites : 1) * sizeof *order);
  if (!order) return GPD_STORE_ERROR;
  for (size_t i = 0; i < cs->nwrites; i++)
    order[i] = &cs->writes[i];
  qsort(order, cs->nwrites, sizeof *order, by_lock_order);
  for (size_t i = 0; rc == GPD_STORE_OK && i < cs->nwrites; i++) {
    const gpd_write *w = order[i];
    if (w->action == GPD_W_PUT)
      rc = put_row(c, w);
    else if (w->action == GPD_W_DELETING)
      rc = mark_deleting(c, w);
    else
      rc = check_row(c, w);
  }
  free(order);
  for (size_t i = 0; rc == GPD_STORE_OK && i < cs->nops; i++)
    rc = insert_op(c, &cs->ops[i]);
  return rc;
}

static gpd_store_rc pg_commit(gpd_store *base, const gpd_changeset *cs) {
  return pg_run(POOL(base), true, do_commit, (void *)cs);
}

typedef struct {
  const char *sub, *name, *state;
} set_feature_args;

static gpd_store_rc do_set_feature(pg_conn *c, void *arg) {
  set_feature_args *a = arg;
  return EXEC(c, S_SET_FEATURE, a->sub, a->name, a->state) < 0 ? GPD_STORE_ERROR : GPD_STORE_OK;
}

static gpd_store_rc pg_set_feature(gpd_store *base, const char *sub, const char *name, const char *state) {
  set_feature_args a = {sub, name, state};
  return pg_run(POOL(base), false, do_set_feature, &a); /* one statement: its own transaction */
}

/* ---- operations --------------------------------------------------------------------------------- */

typedef struct {
  const char *owner;
  int64_t now, lease;
  size_t max;
  gpd_operation *out;
  size_t n;
  int64_t next_due;
} claim_args;

static gpd_store_rc do_claim(pg_conn *c, void *arg) {
  claim_args *a = arg;
  num lease = num_of(a->lease), now = num_of(a->now), max = num_of((int64_t)a->max);
  const char *p[] = {a->owner, lease.s, now.s, max.s};
  gpd_operations_free(a->out, a->n);
  a->next_due = 0;
  gpd_store_rc rc = collect_ops(pg_exec(c, S_CLAIM, 4, p), &a->out, &a->n);
  if (rc != GPD_STORE_OK || a->n > 0) return rc;
  PGresult *r = pg_exec(c, S_NEXT_DUE, 0, NULL);
  if (!r) return GPD_STORE_ERROR;
  if (PQntuples(r) == 1) a->next_due = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
  PQclear(r);
  return GPD_STORE_OK;
}

static gpd_store_rc pg_claim_operations(gpd_store *base, const char *owner, int64_t now_ms, int64_t lease_ms,
                                        size_t max, gpd_operation **out, size_t *n, int64_t *next_due_ms) {
  claim_args a = {owner, now_ms, lease_ms, max, NULL, 0, 0};
  /* One transaction: a claim is either taken with the caller told, or not taken. */
  gpd_store_rc rc = pg_run(POOL(base), true, do_claim, &a);
  if (rc != GPD_STORE_OK) {
    gpd_operations_free(a.out, a.n);
    a.out = NULL;
    a.n = 0;
  }
  gpd_operations_sort(a.out, a.n); /* RETURNING has no order */
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

static int result_order(const void *x, const void *y) {
  const gpd_op_result *a = *(const gpd_op_result *const *)x, *b = *(const gpd_op_result *const *)y;
  return lock_order(a->op->res_kind, a->op->res_key, b->op->res_kind, b->op->res_key);
}

static gpd_store_rc set_targets_in(pg_conn *c, const char *keys, const char *pool_key, const char *target,
                                   size_t *changed);
static char *text_array(char *const *items, size_t n);

/* A rollout's writes of an operation's result: the machines it moves (each told), and its row. */
static gpd_store_rc rollout_writes(pg_conn *c, const gpd_operation *o, const gpd_op_result *r) {
  if (r->nmove) {
    num t = num_of(r->move_target);
    char *keys = text_array(r->move_keys, r->nmove);
    size_t changed = 0;
    gpd_store_rc rc = keys ? set_targets_in(c, keys, o->res_key, t.s, &changed) : GPD_STORE_ERROR;
    free(keys);
    if (rc != GPD_STORE_OK) return rc;
  }
  if (r->unpin_generation > 0) {
    char lo[512], hi[512];
    num g = num_of(r->unpin_generation);
    if (!gpd_key_pool_range(o->res_key, lo, hi, sizeof lo) || EXEC(c, S_UNPIN_TARGETS, lo, hi, g.s) < 0)
      return GPD_STORE_ERROR;
  }
  if (!r->rollout_doc) return GPD_STORE_OK;
  return EXEC(c, S_PUT_ROLLOUT, o->res_key, o->id, r->rollout_state, r->rollout_doc) < 0 ? GPD_STORE_ERROR
                                                                                         : GPD_STORE_OK;
}

static gpd_store_rc finish_one(pg_conn *c, const char *owner, const gpd_op_result *r, int64_t now_ms) {
  const gpd_operation *o = r->op;
  num now = num_of(now_ms), gen = num_of(r->plan_generation);
  char lo[512], hi[512];
  bool keep = strcmp(r->status, "InProgress") == 0; /* a rollout goes on */
  num lease = num_of(r->lease_until_ms);
  long changed =
      keep ? EXEC(c, S_KEEP_OP, o->id, lease.s, owner) : EXEC(c, S_FINISH_OP, o->id, r->status, now.s, r->error, owner);
  if (changed <= 0) return changed < 0 ? GPD_STORE_ERROR : GPD_STORE_OK; /* the lease was lost: not ours */

  bool pool = o->res_kind == GPD_RES_POOL, ok = strcmp(r->status, "Succeeded") == 0;
  if (o->kind == GPD_OP_DELETE && ok) {
    changed = EXEC(c, pool ? S_DELETE_POOL : S_DELETE_CLUSTER, o->res_key, o->id);
    if (changed <= 0) return changed < 0 ? GPD_STORE_ERROR : GPD_STORE_OK;
    if (!gpd_key_pool_range(o->res_key, lo, hi, sizeof lo)) return GPD_STORE_ERROR;
    /* The pools first: a machine write holds its pool's key-share lock, so once a pool row is gone
     * no machine of it can be written any more and the ranges below catch them all. */
    if (!pool && EXEC(c, S_DELETE_POOLS, lo, hi) < 0) return GPD_STORE_ERROR;
    if (EXEC(c, S_DELETE_MACHINES, lo, hi) < 0 || EXEC(c, S_DELETE_MACHINE_DOCS, lo, hi) < 0) return GPD_STORE_ERROR;
    if (pool) /* the pool's held plan requests learn it is gone */
      return EXEC(c, S_DELETE_PLAN, o->res_key) < 0 || EXEC(c, S_DELETE_POOL_HISTORY, o->res_key) < 0 ||
                     EXEC(c, S_DELETE_ROLLOUT, o->res_key) < 0
                 ? GPD_STORE_ERROR
                 : notify_plan(c, o->res_key);
    return EXEC(c, S_DELETE_PLANS, lo, hi) < 0 || EXEC(c, S_DELETE_HISTORIES, lo, hi) < 0 ||
                   EXEC(c, S_DELETE_ROLLOUTS, lo, hi) < 0
               ? GPD_STORE_ERROR
               : GPD_STORE_OK;
  }
  const char *state = ok ? "Succeeded" : "Failed";
  if (!pool) return EXEC(c, S_FINISH_CLUSTER, o->res_key, o->id, state) < 0 ? GPD_STORE_ERROR : GPD_STORE_OK;
  const char *plan = ok || keep ? r->plan : NULL;
  if (!gpd_key_pool_range(o->res_key, lo, hi, sizeof lo)) return GPD_STORE_ERROR;
  if (plan && r->pin && EXEC(c, S_PIN_TARGETS, o->res_key, lo, hi) < 0) return GPD_STORE_ERROR;
  changed = EXEC(c, S_FINISH_POOL, o->res_key, o->id, keep ? NULL : state, plan ? gen.s : NULL);
  if (changed <= 0) return changed < 0 ? GPD_STORE_ERROR : GPD_STORE_OK;
  gpd_store_rc rc = rollout_writes(c, o, r);
  if (rc != GPD_STORE_OK || !plan) return rc;
  if (EXEC(c, S_SET_PLAN, o->res_key, plan) < 0 || EXEC(c, S_ADD_HISTORY, o->res_key, gen.s, plan) < 0 ||
      EXEC(c, S_PRUNE_HISTORY, o->res_key, gen.s, lo, hi) < 0)
    return GPD_STORE_ERROR;
  return notify_plan(c, o->res_key);
}

static gpd_store_rc do_finish(pg_conn *c, void *arg) {
  finish_args *a = arg;
  const gpd_op_result **order = malloc((a->n ? a->n : 1) * sizeof *order);
  gpd_store_rc rc = order ? GPD_STORE_OK : GPD_STORE_ERROR;
  for (size_t i = 0; order && i < a->n; i++)
    order[i] = &a->r[i];
  if (order) qsort(order, a->n, sizeof *order, result_order);
  for (size_t i = 0; rc == GPD_STORE_OK && i < a->n; i++)
    rc = finish_one(c, a->owner, order[i], a->now);
  free(order);
  return rc;
}

static gpd_store_rc pg_finish_operations(gpd_store *base, const char *owner, const gpd_op_result *r, size_t n,
                                         int64_t now_ms) {
  finish_args a = {owner, r, n, now_ms};
  return pg_run(POOL(base), true, do_finish, &a);
}

static gpd_store_rc do_release(pg_conn *c, void *arg) {
  return EXEC(c, S_RELEASE, (const char *)arg) < 0 ? GPD_STORE_ERROR : GPD_STORE_OK;
}

static gpd_store_rc pg_release_operations(gpd_store *base, const char *owner) {
  return pg_run(POOL(base), false, do_release, (void *)owner);
}

static gpd_store_rc do_purge(pg_conn *c, void *arg) {
  num before = num_of(*(int64_t *)arg);
  return EXEC(c, S_PURGE, before.s) < 0 ? GPD_STORE_ERROR : GPD_STORE_OK;
}

static gpd_store_rc pg_purge_operations(gpd_store *base, int64_t before_ms) {
  return pg_run(POOL(base), false, do_purge, &before_ms);
}

/* ---- machines ------------------------------------------------------------------------------------ */

static gpd_store_rc pg_get_machine(gpd_store *base, const char *key, bool with_docs, gpd_machine *out) {
  rows_args a = {with_docs ? S_GET_MACHINE : S_GET_MACHINE_BARE, {key}, 1, &gpd_machine_rows, 1, NULL, 0};
  gpd_machine *rows;
  size_t n;
  memset(out, 0, sizeof *out);
  gpd_store_rc rc = query_rows(base, &a, (void **)&rows, &n);
  if (rc == GPD_STORE_OK && n == 0) rc = GPD_STORE_NOT_FOUND;
  if (rc == GPD_STORE_OK) {
    *out = rows[0];
    n = 0; /* moved out */
  }
  gpd_machines_free(rows, n);
  return rc;
}

static gpd_store_rc pg_list_machines(gpd_store *base, const char *prefix, const char *after, size_t limit,
                                     gpd_machine **out, size_t *n) {
  return list_range(base, S_LIST_MACHINES, &gpd_machine_rows, prefix, after, limit, (void **)out, n);
}

static gpd_store_rc pg_count_machines(gpd_store *base, const char *prefix, int64_t now_ms, int64_t lag_cap_ms,
                                      gpd_machine_group **out, size_t *n) {
  char hi[512];
  *out = NULL;
  *n = 0;
  if (prefix && !gpd_key_prefix_upper(prefix, hi, sizeof hi)) return GPD_STORE_ERROR;
  num now = num_of(now_ms), lag = num_of(lag_cap_ms);
  rows_args a = {S_COUNT_MACHINES,
                 {prefix ? prefix : "", prefix ? hi : "\x7f", now.s, lag.s},
                 4,
                 &gpd_machine_group_rows,
                 SIZE_MAX,
                 NULL,
                 0};
  return query_rows(base, &a, (void **)out, n);
}

typedef struct {
  const char *key;
  int64_t generation;
  char *plan;
} plan_at_args;

static gpd_store_rc do_plan_at(pg_conn *c, void *arg) {
  plan_at_args *a = arg;
  num gen = num_of(a->generation);
  const char *p[] = {a->key, gen.s};
  PGresult *r = pg_exec(c, S_PLAN_AT, 2, p);
  free(a->plan);
  a->plan = NULL;
  if (!r) return GPD_STORE_ERROR;
  gpd_store_rc rc = PQntuples(r) == 0 ? GPD_STORE_NOT_FOUND : GPD_STORE_OK;
  if (rc == GPD_STORE_OK && !(a->plan = strdup(PQgetvalue(r, 0, 0)))) rc = GPD_STORE_ERROR;
  PQclear(r);
  return rc;
}

static gpd_store_rc pg_get_plan_at(gpd_store *base, const char *pool_key, int64_t generation, char **plan) {
  plan_at_args a = {pool_key, generation, NULL};
  gpd_store_rc rc = pg_run(POOL(base), false, do_plan_at, &a);
  if (rc != GPD_STORE_OK) {
    free(a.plan);
    a.plan = NULL;
  }
  *plan = a.plan;
  return rc;
}

typedef struct {
  const gpd_machine *m;
  const char *expect;
} put_machine_args;

static gpd_store_rc do_put_machine(pg_conn *c, void *arg) {
  put_machine_args *a = arg;
  const gpd_machine *m = a->m;
  const char *p[] = {m->pool_key};
  PGresult *r = pg_exec(c, S_LOCK_POOL_KEY, 1, p);
  if (!r) return GPD_STORE_ERROR;
  bool pool_ok = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "Deleting") != 0;
  PQclear(r);
  if (!pool_ok) return GPD_STORE_CONFLICT; /* the caller reads again and finds the pool gone */
  num seen = num_of(m->last_seen_ms), interval = num_of(m->interval_s), applied = num_of(m->applied_generation),
      failed = num_of(m->health_failed), drifted = num_of(m->drifted);
  long changed = a->expect ? EXEC(c, S_UPDATE_MACHINE, m->key, m->etag, seen.s, interval.s, applied.s, failed.s,
                                  drifted.s, a->expect)
                           : EXEC(c, S_INSERT_MACHINE, m->key, m->pool_key, m->id, m->name, m->etag, m->incarnation,
                                  seen.s, interval.s, applied.s, failed.s, drifted.s);
  if (changed != 1) return changed < 0 ? GPD_STORE_ERROR : GPD_STORE_CONFLICT;
  return EXEC(c, S_PUT_MACHINE_DOC, m->key, m->report, m->findings) < 0 ? GPD_STORE_ERROR : GPD_STORE_OK;
}

static gpd_store_rc pg_put_machine(gpd_store *base, const gpd_machine *m, const char *expect_etag) {
  put_machine_args a = {m, expect_etag};
  return pg_run(POOL(base), true, do_put_machine, &a);
}

typedef struct {
  const char *key, *expect;
} delete_machine_args;

static gpd_store_rc do_delete_machine(pg_conn *c, void *arg) {
  delete_machine_args *a = arg;
  long changed = EXEC(c, S_DELETE_MACHINE, a->key, a->expect);
  if (changed != 1) return changed < 0 ? GPD_STORE_ERROR : GPD_STORE_CONFLICT;
  return EXEC(c, S_DELETE_MACHINE_DOC, a->key) < 0 ? GPD_STORE_ERROR : GPD_STORE_OK;
}

static gpd_store_rc pg_delete_machine(gpd_store *base, const char *key, const char *expect_etag) {
  delete_machine_args a = {key, expect_etag};
  if (!expect_etag) return GPD_STORE_CONFLICT;
  return pg_run(POOL(base), true, do_delete_machine, &a);
}

/* A PostgreSQL array literal of texts: {"a","b"} (keys hold no quote or backslash; escaped anyway). */
static char *text_array(char *const *items, size_t n) {
  size_t len = 3;
  for (size_t i = 0; i < n; i++)
    len += 2 * strlen(items[i]) + 3;
  char *out = malloc(len), *p = out;
  if (!out) return NULL;
  *p++ = '{';
  for (size_t i = 0; i < n; i++) {
    if (i) *p++ = ',';
    *p++ = '"';
    for (const char *q = items[i]; *q; q++) {
      if (*q == '"' || *q == '\\') *p++ = '\\';
      *p++ = *q;
    }
    *p++ = '"';
  }
  *p++ = '}';
  *p = '\0';
  return out;
}

static char *int_array(const int64_t *v, size_t n) {
  char *out = malloc(n * 21 + 3), *p = out;
  if (!out) return NULL;
  *p++ = '{';
  for (size_t i = 0; i < n; i++)
    p += sprintf(p, "%s%" PRId64, i ? "," : "", v[i]);
  *p++ = '}';
  *p = '\0';
  return out;
}

typedef struct {
  const char *keys, *ms;
} touch_args;

static gpd_store_rc do_touch(pg_conn *c, void *arg) {
  touch_args *a = arg;
  return EXEC(c, S_TOUCH_MACHINES, a->keys, a->ms) < 0 ? GPD_STORE_ERROR : GPD_STORE_OK;
}

static gpd_store_rc pg_touch_machines(gpd_store *base, char *const *keys, const int64_t *last_seen_ms, size_t n) {
  if (n == 0) return GPD_STORE_OK;
  touch_args a = {text_array(keys, n), int_array(last_seen_ms, n)};
  gpd_store_rc rc = a.keys && a.ms ? pg_run(POOL(base), false, do_touch, &a) : GPD_STORE_ERROR;
  free((char *)a.keys);
  free((char *)a.ms);
  return rc;
}

typedef struct {
  const char *keys, *pool_key, *target;
  size_t changed;
} targets_args;

/* Each machine whose target moved tells its waiters, in every replica, when the transaction commits
 * (one notice a machine: a rollout's batch is a few hundred); the pool's key too when one of them
 * followed the pool, since its waiters wait on that key. */
static gpd_store_rc do_set_targets(pg_conn *c, void *arg) {
  targets_args *a = arg;
  return set_targets_in(c, a->keys, a->pool_key, a->target, &a->changed);
}

static gpd_store_rc set_targets_in(pg_conn *c, const char *keys, const char *pool_key, const char *target,
                                   size_t *changed) {
  const char *p[] = {keys, pool_key, target};
  PGresult *r = pg_exec(c, S_SET_TARGETS, 3, p);
  if (!r) return GPD_STORE_ERROR;
  int rows = PQntuples(r);
  bool from_pool = false;
  gpd_store_rc rc = GPD_STORE_OK;
  for (int i = 0; rc == GPD_STORE_OK && i < rows; i++) {
    char key[600];
    snprintf(key, sizeof key, GPD_CHANGE_MACHINE "%s", PQgetvalue(r, i, 0));
    if (strcmp(PQgetvalue(r, i, 1), "0") == 0) from_pool = true;
    if (EXEC(c, S_NOTIFY, key) < 0) rc = GPD_STORE_ERROR;
  }
  PQclear(r);
  *changed = rc == GPD_STORE_OK ? (size_t)rows : 0;
  return rc == GPD_STORE_OK && from_pool ? notify_plan(c, pool_key) : rc;
}

static gpd_store_rc pg_set_machine_targets(gpd_store *base, const char *pool_key, char *const *keys, size_t n,
                                           int64_t target, size_t *changed) {
  num t = num_of(target);
  targets_args a = {text_array(keys, n), pool_key, t.s, 0};
  if (changed) *changed = 0;
  gpd_store_rc rc = a.keys ? pg_run(POOL(base), true, do_set_targets, &a) : GPD_STORE_ERROR;
  free((char *)a.keys);
  if (changed && rc == GPD_STORE_OK) *changed = a.changed;
  return rc;
}

/* ---- rollouts ---------------------------------------------------------------------------------- */

typedef struct {
  const char *pool_key;
  gpd_rollout *out;
} rollout_args;

static gpd_store_rc do_get_rollout(pg_conn *c, void *arg) {
  rollout_args *a = arg;
  const char *p[] = {a->pool_key};
  gpd_rollout_clear(a->out);
  PGresult *r = pg_exec(c, S_GET_ROLLOUT, 1, p);
  if (!r) return GPD_STORE_ERROR;
  gpd_store_rc rc = GPD_STORE_NOT_FOUND;
  if (PQntuples(r) > 0) {
    const char *cols[4];
    for (int i = 0; i < 4; i++)
      cols[i] = col(r, 0, i);
    rc = gpd_rollout_from_text(a->out, cols) ? GPD_STORE_OK : GPD_STORE_ERROR;
  }
  PQclear(r);
  return rc;
}

static gpd_store_rc pg_get_rollout(gpd_store *base, const char *pool_key, gpd_rollout *out) {
  memset(out, 0, sizeof *out);
  rollout_args a = {pool_key, out};
  return pg_run(POOL(base), false, do_get_rollout, &a);
}

typedef struct {
  const char *pool_key, *op_id, *error;
  int64_t now;
} abort_args;

/* The operation's row is locked by its update: a finish of the lease holder waits for this one and
 * then finds the operation no longer in progress, so it writes nothing. */
static gpd_store_rc do_abort(pg_conn *c, void *arg) {
  abort_args *a = arg;
  num now = num_of(a->now);
  long changed = EXEC(c, S_CANCEL_OP, a->op_id, now.s, a->error);
  if (changed <= 0) return changed < 0 ? GPD_STORE_ERROR : GPD_STORE_CONFLICT;
  return EXEC(c, S_ABORT_ROLLOUT, a->pool_key, a->op_id) < 0 || EXEC(c, S_CANCEL_POOL, a->pool_key, a->op_id) < 0
             ? GPD_STORE_ERROR
             : GPD_STORE_OK;
}

static gpd_store_rc pg_abort_rollout(gpd_store *base, const char *pool_key, const char *op_id, const char *error,
                                     int64_t now_ms) {
  abort_args a = {pool_key, op_id, error, now_ms};
  return pg_run(POOL(base), true, do_abort, &a);
}

/* ---- open and close ----------------------------------------------------------------------------- */

static void pg_close(gpd_store *base) {
  if (!base) return;
  pg_listen_stop(((pg_store *)base)->listener); /* before the pool it connects through */
  pg_pool_close(POOL(base));
  free(base);
}

static const gpd_store_ops pg_ops = {
    .get_resource = pg_get_resource,
    .list_resources = pg_list_resources,
    .get_plan = pg_get_plan,
    .get_operation = pg_get_operation,
    .list_child_operations = pg_list_child_operations,
    .get_features = pg_get_features,
    .stats = pg_stats,
    .ping = pg_ping,
    .watch = pg_watch,
    .commit = pg_commit,
    .set_feature = pg_set_feature,
    .claim_operations = pg_claim_operations,
    .finish_operations = pg_finish_operations,
    .release_operations = pg_release_operations,
    .purge_operations = pg_purge_operations,
    .get_machine = pg_get_machine,
    .list_machines = pg_list_machines,
    .put_machine = pg_put_machine,
    .delete_machine = pg_delete_machine,
    .touch_machines = pg_touch_machines,
    .count_machines = pg_count_machines,
    .get_plan_at = pg_get_plan_at,
    .set_machine_targets = pg_set_machine_targets,
    .get_rollout = pg_get_rollout,
    .abort_rollout = pg_abort_rollout,
    .close = pg_close,
};

void gpd_store_pg_url_display(const char *url, char *out, size_t size) { pg_url_display(url, out, size); }

gpd_store *gpd_store_pg_open(const char *url, char *err, size_t errlen) {
  pg_store *s = calloc(1, sizeof *s);
  if (!s) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  s->base.ops = &pg_ops;
  if (!(s->pool = pg_pool_open(url, sql, S_COUNT, MAX_CONNS, err, errlen)) ||
      pg_schema_migrate(s->pool, err, errlen) != GPD_STORE_OK) {
    pg_close(&s->base);
    return NULL;
  }
  return &s->base;
}
