/* store.h - the persistence interface of gpupoold: managed clusters, agent pools (with their plan
 * and the plans of earlier generations machines still need), machines (the nodes of a pool),
 * operations and subscription features.
 *
 * One small vtable with two back-ends: sqlite.c (the default, one process per file) and pg.c
 * (PostgreSQL, any number of replicas on one database). What they share apart from SQL lives in
 * store.c. The interface is shaped for several replicas:
 *   - every write is a changeset whose preconditions ("this row still has etag E", "this row does
 *     not exist", "this cluster still has N pools") are checked inside the write, so a conditional
 *     write can only succeed once and concurrent writers never lose an update;
 *   - operations are claimed with a lease (owner + expiry), so several reconcilers can share them.
 * A function returns only after the write is durable. The store knows nothing about GPUs: the
 * documents are the core's storage JSON, opaque here. */
#ifndef GPUPOOLD_STORE_H
#define GPUPOOLD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
  GPD_STORE_OK = 0,
  GPD_STORE_NOT_FOUND,
  GPD_STORE_CONFLICT, /* a precondition of the changeset did not hold; nothing was written */
  GPD_STORE_ERROR     /* I/O or database failure; nothing was written */
} gpd_store_rc;

typedef enum { GPD_RES_CLUSTER = 0, GPD_RES_POOL = 1 } gpd_res_kind;

/* A stored managed cluster or agent pool. Every string is owned by the row (gpd_resource_clear). */
typedef struct {
  char *key;               /* lowercase identity: sub/rg/cluster, or sub/rg/cluster/pool */
  char *id;                /* ARM resource id, with the casing first given */
  char *name;              /* display name, casing first given */
  char *doc;               /* the core's storage JSON (gp_pool_to_store / gp_cluster_to_store) */
  char *etag;              /* changes with every user write; the reconciler never changes it */
  char *state;             /* provisioningState: Creating, Updating, Deleting, Succeeded, Failed */
  char *op_id;             /* the operation that last changed the row */
  char *management_mode;   /* pools: effective management mode, for metrics (Managed, Unmanaged, None) */
  int64_t plan_generation; /* pools: generation of the stored plan, 0 = none yet */
  /* pools: random, given by the writer of a new pool (GPD_W_PUT of a row that does not exist) and
   * kept until the pool is deleted, so that a pool deleted and created again under the same name is
   * told apart from the old one (its plan ETag). Not filled by reads; get_plan returns it. */
  char *incarnation;
} gpd_resource;

typedef enum { GPD_OP_CREATE = 0, GPD_OP_UPDATE, GPD_OP_DELETE } gpd_op_kind;

/* An asynchronous operation (the ARM Azure-AsyncOperation resource). */
typedef struct {
  char *id;
  int64_t seq; /* creation order */
  char *sub;   /* lowercase subscription */
  char *location;
  gpd_res_kind res_kind;
  char *res_key;
  char *res_id;
  gpd_op_kind kind;
  char *status; /* InProgress, Succeeded, Failed, Canceled */
  int64_t start_ms, end_ms, not_before_ms;
  char *error;  /* ARM error body (JSON text) when Failed/Canceled */
  char *parent; /* operation of the cluster PUT that started this pool operation, or NULL */
  char *api_version;
} gpd_operation;

/* One precondition or write of a changeset. */
typedef enum {
  GPD_W_CHECK,   /* only the precondition */
  GPD_W_PUT,     /* insert or replace id/name/doc/etag/state/op_id/management_mode; a pool keeps its plan */
  GPD_W_DELETING /* set etag/state/op_id from row; a cluster also marks its pools Deleting */
} gpd_write_action;

typedef struct {
  gpd_write_action action;
  gpd_res_kind kind;
  const char *key;
  const char *expect_etag; /* NULL: the row must not exist; else it must exist with this etag */
  const gpd_resource *row; /* the new values (PUT, DELETING) */
} gpd_write;

/* Written atomically, or not at all. */
typedef struct {
  const gpd_write *writes;
  size_t nwrites;
  const char *pool_count_of; /* when set: the cluster with this key has expect_pool_count pools (before) */
  size_t expect_pool_count;
  const gpd_operation *ops; /* operations to insert */
  size_t nops;
} gpd_changeset;

/* The outcome of an operation the reconciler processed. */
typedef struct {
  const gpd_operation *op;
  const char *status; /* Succeeded, Failed or Canceled; InProgress: it goes on (a rollout), see below */
  const char *error;  /* ARM error body (JSON text) unless Succeeded */
  const char *plan;   /* pools, create/update: the plan JSON to store */
  int64_t plan_generation;
  /* Rollouts (pool updates), all in the same transaction as the rest:
   *  - status InProgress keeps the operation running and its lease with owner until lease_until_ms
   *    (the pool's provisioningState stays as it is);
   *  - pin: before the plan is stored, the pool's machines that follow its generation (target 0) get
   *    the generation it had, so that the new one reaches them only when the rollout moves them;
   *  - move_keys[0..nmove): these machines of the pool get the target generation move_target;
   *  - rollout_state and rollout_doc (when set): the pool's rollout row, for this operation;
   *  - unpin_generation (when > 0): the pool's machines whose target is that generation follow the
   *    pool again (target 0): a completed rollout gives its machines back to the pool. */
  int64_t lease_until_ms;
  bool pin;
  char *const *move_keys;
  size_t nmove;
  int64_t move_target;
  const char *rollout_state, *rollout_doc;
  int64_t unpin_generation;
} gpd_op_result;

/* A pool's rollout (the last one: a new one replaces it). */
typedef struct {
  char *pool_key;
  char *op_id; /* the operation carrying it */
  char *state; /* Progressing, Halted, Aborted, Completed */
  char *doc;   /* the controller's JSON (server/rollout.c), opaque here */
} gpd_rollout;

typedef struct {
  char name[64];
  char state[32];
} gpd_feature;

/* Counts for /metrics: label and value pairs. */
typedef struct {
  struct {
    char label[32];
    int64_t count;
  } ops[8], pools[8];
  size_t nops, npools;
} gpd_store_stats;

/* A stored machine (a node of an agent pool; the machines sub-resource). Strings are owned by the
 * struct (gpd_machine_clear). A machine is written only when its report changes; a report that
 * changes nothing but lastSeen only moves last_seen_ms, through touch_machines (heartbeats.h). */
typedef struct {
  char *key;                  /* lowercase identity: sub/rg/cluster/pool/machine */
  char *pool_key;             /* its pool's key (the key without its last segment) */
  char *id, *name;            /* ARM id and name, casing first given */
  char *etag;                 /* new with every durable write (not with a heartbeat) */
  char *incarnation;          /* random, set when the machine is registered, kept until it is deleted */
  char *report;               /* the agent's report, canonical (gp_machine_report_text) */
  char *findings;             /* the server's own findings (JSON array text) */
  int64_t last_seen_ms;       /* time of the last report (stored; a replica may hold a newer one) */
  int64_t interval_s;         /* the agent's reportIntervalSeconds */
  int64_t applied_generation; /* what the agent last applied */
  int64_t target_generation;  /* what it may apply; 0: follows the pool's current plan generation */
  bool health_failed, drifted;
  int64_t pool_generation; /* read only: the pool's current plan generation */
} gpd_machine;

/* Machines counted by what decides their state (gp_machine_facts), per pool. */
typedef struct {
  char *pool_id; /* the pool's ARM id */
  bool stale;    /* not reporting */
  bool health_failed, applying, drifted;
  int64_t count;
} gpd_machine_group;

/* Room for a pool's incarnation read back, its NUL included (gpupoold writes UUIDs; an upgraded
 * store's older pools got 32 hex digits). */
#define GPD_INCARNATION_MAX 64

typedef struct gpd_store gpd_store;

/* Change notices, for long-polls (longpoll.h): after a commit that changed what a waiter may wait
 * for, the store calls its watcher with a key. SQLite: in the process that committed, right after
 * the commit. PostgreSQL: in every replica, the committing one included, through NOTIFY on the
 * channel GPD_CHANGE_CHANNEL sent inside the transaction (so only committed changes are told). The
 * key "*" means notices may have been lost (the listening connection was re-established): anything
 * may have changed. To publish a new kind of change, give it a prefix here and send it from the
 * write that makes it: sqlite.c calls the watcher after the commit, pg.c runs S_NOTIFY inside it. */
#define GPD_CHANGE_PLAN "plan:" /* + pool key: a new plan was stored, or the pool was deleted */
/* + machine key: the machine's target generation changed (set_machine_targets), so its plan did */
#define GPD_CHANGE_MACHINE "machine:"
#define GPD_CHANGE_CHANNEL "gpupool_changes"
typedef void (*gpd_store_watcher)(void *ctx, const char *key);

typedef struct {
  /* Reads. A resource's plan is not part of gpd_resource (see get_plan). */
  gpd_store_rc (*get_resource)(gpd_store *s, gpd_res_kind kind, const char *key, gpd_resource *out);
  /* Rows whose key starts with prefix and sorts after `after` (NULL: from the start), in key order. */
  gpd_store_rc (*list_resources)(gpd_store *s, gpd_res_kind kind, const char *prefix, const char *after, size_t limit,
                                 gpd_resource **out, size_t *n);
  /* A pool's plan generation, its incarnation (into incarnation[GPD_INCARNATION_MAX] unless NULL; ""
   * when unknown) and (when plan is non-NULL) its JSON; *plan NULL when none yet. */
  gpd_store_rc (*get_plan)(gpd_store *s, const char *pool_key, int64_t *generation, char *incarnation, char **plan);
  gpd_store_rc (*get_operation)(gpd_store *s, const char *id, gpd_operation *out);
  gpd_store_rc (*list_child_operations)(gpd_store *s, const char *parent, gpd_operation **out, size_t *n);
  /* Registered state of every feature the subscription has touched. */
  gpd_store_rc (*get_features)(gpd_store *s, const char *sub, gpd_feature *out, size_t max, size_t *n);
  gpd_store_rc (*stats)(gpd_store *s, gpd_store_stats *out);
  /* What the API would get from the store now: OK, or ERROR with why (a sentence saying what is
   * wrong and, where it can, what to do): the store cannot be reached or read, its writes fail
   * (SQLite: disk full, I/O errors; retried at most once a second, so health comes back with the
   * store), or its file was deleted, replaced or truncated. */
  gpd_store_rc (*ping)(gpd_store *s, char *why, size_t whylen);
  /* Sets the watcher of change notices (see above); call once, before serving requests. */
  void (*watch)(gpd_store *s, gpd_store_watcher fn, void *ctx);

  /* Writes: each is durable when it returns OK. */
  gpd_store_rc (*commit)(gpd_store *s, const gpd_changeset *cs);
  gpd_store_rc (*set_feature)(gpd_store *s, const char *sub, const char *name, const char *state);
  /* Leases up to max runnable operations (InProgress, lease free or expired, no unfinished child) to
   * owner, oldest first, due or not: the owner holds an operation while it is provisioned, until its
   * not_before_ms, so the lease lasts until lease_ms after the later of now_ms and not_before_ms. A
   * replica that dies holding operations leaves them to whoever claims them once the lease ran out.
   * When none is claimable, *next_due_ms is the earliest time a lease runs out (0: none pending). */
  gpd_store_rc (*claim_operations)(gpd_store *s, const char *owner, int64_t now_ms, int64_t lease_ms, size_t max,
                                   gpd_operation **out, size_t *n, int64_t *next_due_ms);
  /* Ends operations still leased to owner and applies their effect on the resource. */
  gpd_store_rc (*finish_operations)(gpd_store *s, const char *owner, const gpd_op_result *r, size_t n, int64_t now_ms);
  /* Gives back every lease of owner (a replica that stops), so others need not wait for them to run out. */
  gpd_store_rc (*release_operations)(gpd_store *s, const char *owner);
  /* Forgets operations that ended before before_ms. */
  gpd_store_rc (*purge_operations)(gpd_store *s, int64_t before_ms);

  /* Machines. A machine read or listed comes with its pool's current plan generation; the report
   * and findings texts are read only when with_docs (lists always read them). */
  gpd_store_rc (*get_machine)(gpd_store *s, const char *key, bool with_docs, gpd_machine *out);
  /* The machines whose key starts with prefix ("pool_key/"), after `after`, in key order. */
  gpd_store_rc (*list_machines)(gpd_store *s, const char *prefix, const char *after, size_t limit, gpd_machine **out,
                                size_t *n);
  /* Writes a machine (all but target_generation): a new one when expect_etag is NULL (its
   * incarnation is m->incarnation), else the one whose etag is expect_etag, keeping its id, name and
   * incarnation. CONFLICT when the precondition fails or the pool is gone or being deleted. */
  gpd_store_rc (*put_machine)(gpd_store *s, const gpd_machine *m, const char *expect_etag);
  /* Deletes the machine whose etag is expect_etag (CONFLICT otherwise). */
  gpd_store_rc (*delete_machine)(gpd_store *s, const char *key, const char *expect_etag);
  /* Moves the lastSeen of these machines forward (never back), in one transaction; machines that are
   * gone are skipped. */
  gpd_store_rc (*touch_machines)(gpd_store *s, char *const *keys, const int64_t *last_seen_ms, size_t n);
  /* The machines whose key starts with prefix (NULL: all), counted per pool and state facts at
   * now_ms with lag_cap_ms = min(coalescing lag, 30 s) (the rule of gp_machine_is_reporting). */
  gpd_store_rc (*count_machines)(gpd_store *s, const char *prefix, int64_t now_ms, int64_t lag_cap_ms,
                                 gpd_machine_group **out, size_t *n);
  /* The plan of a pool at a generation (the current one, or an earlier one a machine still
   * references); NOT_FOUND when it is not kept. */
  gpd_store_rc (*get_plan_at)(gpd_store *s, const char *pool_key, int64_t generation, char **plan);
  /* Gives these machines of the pool pool_key the target generation `target` (0: follow the pool's
   * current generation again), in one transaction; machines that are gone or of another pool are
   * skipped. The plan of `target` must be kept (the pool's current one, or one in the history
   * because a machine references it). Tells the waiters (see above) of every machine whose target
   * changed, GPD_CHANGE_MACHINE + its key, and GPD_CHANGE_PLAN + pool_key when one of them followed
   * the pool until now (target 0): such a machine's plan long-poll waits on the pool's plan key.
   * *changed (may be NULL) is how many machines changed. For rollouts: one call a batch. */
  gpd_store_rc (*set_machine_targets)(gpd_store *s, const char *pool_key, char *const *keys, size_t n, int64_t target,
                                      size_t *changed);

  /* Rollouts. The pool's rollout row; NOT_FOUND when it never had one. */
  gpd_store_rc (*get_rollout)(gpd_store *s, const char *pool_key, gpd_rollout *out);
  /* Ends the operation op_id, still InProgress (whoever holds its lease), as Canceled with error, and
   * marks its rollout Aborted and its pool Canceled, in one transaction; a rollout write of the
   * lease holder that comes after it writes nothing. CONFLICT when the operation is no longer in
   * progress. */
  gpd_store_rc (*abort_rollout)(gpd_store *s, const char *pool_key, const char *op_id, const char *error,
                                int64_t now_ms);

  void (*close)(gpd_store *s);
} gpd_store_ops;

struct gpd_store {
  const gpd_store_ops *ops;
};

/* Opens the store named by url ("sqlite:PATH", "postgres://…" or "postgresql://…"). init: create a new,
 * empty SQLite store even where PATH.lock shows one was (store/sqlite_file.h). On failure returns
 * NULL and writes why into err. */
gpd_store *gpd_store_open(const char *url, bool init, char *err, size_t errlen);
gpd_store *gpd_store_sqlite_open(const char *path, bool init, char *err, size_t errlen);
gpd_store *gpd_store_pg_open(const char *url, char *err, size_t errlen);
/* The store URL as logs may show it: a PostgreSQL password is left out. */
void gpd_store_url_display(const char *url, char *out, size_t size);
void gpd_store_pg_url_display(const char *url, char *out, size_t size);

void gpd_resource_clear(gpd_resource *r);
void gpd_resources_free(gpd_resource *r, size_t n);
void gpd_operation_clear(gpd_operation *o);
void gpd_operations_free(gpd_operation *o, size_t n);
void gpd_machine_clear(gpd_machine *m);
void gpd_machines_free(gpd_machine *m, size_t n);
void gpd_machine_groups_free(gpd_machine_group *g, size_t n);
void gpd_rollout_clear(gpd_rollout *r);
/* The columns of a rollout, in the order gpd_rollout_from_text reads them. */
#define GPD_ROLLOUT_COLS "pool_key, op_id, state, doc"
bool gpd_rollout_from_text(gpd_rollout *r, const char *const *cols);

/* ---- what the back-ends share ---------------------------------------------------------------------- */

/* The columns every back-end selects for a resource and an operation, in the order the fill helpers
 * below read them (a resource query adds mode and plan_generation). */
#define GPD_RES_COLS "key, id, name, doc, etag, state, op_id"
#define GPD_OP_COLS                                                                                                    \
  "id, seq, sub, location, res_kind, res_key, res_id, kind, status, start_ms, end_ms, not_before_ms, error, parent, "  \
  "api_version"
#define GPD_RES_NCOLS 9
#define GPD_OP_NCOLS 15
/* A machine joined with its pool (p), then its documents' report and findings (d; NULL when not
 * read). */
#define GPD_MACHINE_COLS                                                                                               \
  "m.key, m.pool_key, m.id, m.name, m.etag, m.incarnation, m.last_seen_ms, m.interval_s, m.applied_generation, "       \
  "m.target_generation, m.health_failed, m.drifted, p.plan_generation"
#define GPD_MACHINE_NCOLS 15
/* The facts gp_machine_state_of decides from, as SQL over machines m joined with pools p: stale
 * (the rule of gp_machine_is_reporting), health_failed, applying, drifted. NOW and LAGCAP are the
 * back-end's parameters, MIN its two-argument minimum. */
#define GPD_MACHINE_FACTS(NOW, LAGCAP, MIN)                                                                            \
  "CASE WHEN m.last_seen_ms < " NOW " - (3 * m.interval_s * 1000 + " MIN "(m.interval_s * 1000, " LAGCAP               \
  ")) THEN 1 ELSE 0 END, m.health_failed, CASE WHEN m.applied_generation <> (CASE WHEN m.target_generation > 0 THEN "  \
  "m.target_generation ELSE p.plan_generation END) THEN 1 ELSE 0 END, m.drifted"

/* Fills a row from its columns as text (NULL for SQL NULL). False, with the row cleared, when memory
 * ran out or a column that cannot be NULL is. */
bool gpd_resource_from_text(gpd_resource *r, const char *const *cols);
bool gpd_operation_from_text(gpd_operation *o, const char *const *cols);
bool gpd_machine_from_text(gpd_machine *m, const char *const *cols);
/* A count_machines row from its text columns: pool id, stale, health_failed, applying, drifted, count. */
bool gpd_machine_group_from_text(gpd_machine_group *g, const char *const *cols);

/* The kinds of rows the back-ends read into arrays: one loop reads them all (a list, a count). */
#define GPD_ROW_MAX_COLS 16
typedef struct {
  size_t size;                                           /* of one row */
  int ncols;                                             /* text columns it is filled from */
  bool (*from_text)(void *row, const char *const *cols); /* false: the row is left cleared */
  void (*clear)(void *row);
} gpd_row_kind;
extern const gpd_row_kind gpd_resource_rows, gpd_machine_rows, gpd_machine_group_rows;
void gpd_rows_free(const gpd_row_kind *k, void *rows, size_t n);
/* Keys under prefix ("a/b/") sort strictly between prefix and its upper bound ("a/b0") in byte
 * order. False when prefix does not end with '/' or does not fit. */
bool gpd_key_prefix_upper(const char *prefix, char *out, size_t size);
/* The range of a cluster's pool keys: lo = "cluster/", hi its upper bound. */
bool gpd_key_pool_range(const char *cluster_key, char *lo, char *hi, size_t size);
/* Operations in creation order (claims return them in any order). */
void gpd_operations_sort(gpd_operation *o, size_t n);

const char *gpd_op_kind_name(gpd_op_kind k);
gpd_op_kind gpd_op_kind_parse(const char *s);
bool gpd_state_terminal(const char *provisioning_state);

#endif
