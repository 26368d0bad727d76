/* handlers_whatif.c - POST …/agentPools/{p}/whatIf (preview api-versions): what a PUT of this body
 * would do, and to how many nodes, with nothing written.
 *
 * The body is decided as a PUT would decide it (gp_policy_apply_pool on the stored cluster and
 * pool), its plan built as the reconciler builds it, and the core's disruption diff (gp_plan_diff,
 * the function the node agent and the offline CLI call) says what the change does: from the pool's
 * current plan for `class` and `planDiff`, and for each registered machine from the plan it applied
 * (the pool's plan history at its appliedGeneration; a machine that applied nothing, or whose
 * applied plan is not kept, counts as a node that has applied nothing). The store is only read. */
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "resource.h"

#define WHATIF_PAGE 1000
#define WHATIF_GENERATIONS 64 /* distinct applied generations remembered; others are classed machine by machine */

/* A refusal is an answer, not an error: 200 {valid: false, error: {code, message, target, details}}. */
static void refused(gpd_response *resp, const gp_error *err) {
  if (err->oom) {
    gpd_resp_oom(resp);
    return;
  }
  json_t *body = gp_error_to_json(err);
  json_t *out = body ? json_pack("{s:b,s:O}", "valid", 0, "error", json_object_get(body, "error")) : NULL;
  json_decref(body);
  if (!out) {
    gpd_resp_oom(resp);
    return;
  }
  gpd_resp_json(resp, 200, out);
}

/* The class of the machines that applied one generation. */
typedef struct {
  int64_t generation;
  gp_disruption cls;
} classed;

/* The machines of the pool, counted by the class of moving each from the plan it applied to `to`.
 * counts[class]; false with the error in resp. */
static bool count_machines(gpd_request *r, const char *pkey, const json_t *to, int64_t counts[], gpd_response *resp) {
  gpd_store *s = r->srv->store;
  char prefix[GPD_KEY_MAX + 2], after[GPD_KEY_MAX * 2] = "";
  classed seen[WHATIF_GENERATIONS];
  size_t nseen = 0;
  gp_disruption from_nothing = gp_plan_disruption(NULL, to);
  snprintf(prefix, sizeof prefix, "%s/", pkey);
  for (;;) {
    gpd_machine *m = NULL;
    size_t n = 0;
    if (s->ops->list_machines(s, prefix, *after ? after : NULL, WHATIF_PAGE, &m, &n) != GPD_STORE_OK) {
      gpd_resp_store_error(resp);
      return false;
    }
    for (size_t i = 0; i < n; i++) {
      int64_t g = m[i].applied_generation;
      gp_disruption cls = from_nothing;
      size_t k = 0;
      while (k < nseen && seen[k].generation != g)
        k++;
      if (g > 0 && k < nseen) {
        cls = seen[k].cls;
      } else if (g > 0) {
        char *text = NULL;
        gpd_store_rc rc = s->ops->get_plan_at(s, pkey, g, &text);
        if (rc != GPD_STORE_OK && rc != GPD_STORE_NOT_FOUND) {
          gpd_machines_free(m, n);
          gpd_resp_store_error(resp);
          return false;
        }
        json_t *from = text ? json_loads(text, 0, NULL) : NULL;
        free(text);
        if (from) cls = gp_plan_disruption(from, to); /* not kept, or unreadable: from nothing */
        json_decref(from);
        if (nseen < WHATIF_GENERATIONS) seen[nseen++] = (classed){g, cls};
      }
      if (cls > GP_DISRUPTION_UNSET) counts[cls]++;
    }
    if (n) snprintf(after, sizeof after, "%s", m[n - 1].key);
    gpd_machines_free(m, n);
    if (n < WHATIF_PAGE) return true;
  }
}

/* The pool's stored plan and generation (NULL and 0 before its first plan). False: store error. */
static bool current_plan(gpd_request *r, const char *pkey, json_t **plan, int64_t *gen, gpd_response *resp) {
  char *text = NULL;
  gpd_store_rc rc = r->srv->store->ops->get_plan(r->srv->store, pkey, gen, NULL, &text);
  *plan = NULL;
  if (rc == GPD_STORE_NOT_FOUND) { /* deleted since it was read */
    gpd_pool_not_found(r, resp);
    return false;
  }
  if (rc != GPD_STORE_OK) {
    gpd_resp_store_error(resp);
    return false;
  }
  *plan = text ? json_loads(text, 0, NULL) : NULL;
  free(text);
  if (!*plan) *gen = 0;
  return true;
}

/* {valid: true, class, planDiff, machines: {class: count}, fromGeneration, toGeneration}. */
static json_t *answer(const json_t *diff, const int64_t counts[], int64_t from_gen, int64_t to_gen) {
  json_t *machines = json_object();
  for (int c = GP_DISRUPTION_NONE; machines && c <= GP_DISRUPTION_REBOOT; c++)
    if (json_object_set_new(machines, gp_enum_name(&gp_disruption_names, c), json_integer(counts[c]))) {
      json_decref(machines);
      machines = NULL;
    }
  if (!machines) return NULL;
  return json_pack("{s:b,s:O,s:O,s:o,s:I,s:I}", "valid", 1, "class", json_object_get(diff, "class"), "planDiff",
                   json_object_get(diff, "changes"), "machines", machines, "fromGeneration", (json_int_t)from_gen,
                   "toGeneration", (json_int_t)to_gen);
}

void gpd_pool_whatif(gpd_request *r, gpd_response *resp) {
  char ckey[GPD_KEY_MAX], pkey[GPD_KEY_MAX];
  gpd_resource crow, prow;
  bool cfound = false, pfound = false;
  gp_cluster *cluster = NULL;
  gp_pool *existing = NULL, *pool = NULL;
  gp_warnings warnings = {0};
  gp_policy_context ctx;
  gp_error err;
  json_t *body = NULL, *old = NULL, *plan = NULL, *diff = NULL;
  int64_t gen = 0, counts[GP_DISRUPTION_REBOOT + 1] = {0};
  gp_error_init(&err);
  memset(&crow, 0, sizeof crow);
  memset(&prow, 0, sizeof prow);
  gpd_cluster_key(r, ckey, sizeof ckey);
  gpd_pool_key(r, pkey, sizeof pkey);
  if (!(body = gpd_req_json(r, resp))) goto out;
  if (!gpd_load_row(r, GPD_RES_CLUSTER, ckey, &crow, &cfound, resp)) goto out;
  if (cfound && !gpd_load_row(r, GPD_RES_POOL, pkey, &prow, &pfound, resp)) goto out;
  if (!pfound) {
    gpd_pool_not_found(r, resp);
    goto out;
  }
  if (!(cluster = gpd_cluster_load(&crow, resp)) || !(existing = gpd_pool_load(&prow, resp))) goto out;
  /* what the PUT would decide, on the same rows */
  if (!(pool = gpd_pool_decide(r, body, cluster, existing, &ctx, &warnings, &err, resp))) {
    if (err.count || err.oom) refused(resp, &err);
    goto out;
  }
  if (!current_plan(r, pkey, &old, &gen, resp)) goto out;
  /* the reconciler's plan: a new generation unless it says what the stored one says */
  if (!(plan = gp_plan_build(pool, &ctx, gen + 1))) {
    gpd_resp_oom(resp);
    goto out;
  }
  int64_t to_gen = old && gp_plan_same_content(old, plan) ? gen : gen + 1;
  if (to_gen == gen && json_object_set_new(plan, "generation", json_integer(gen))) {
    gpd_resp_oom(resp);
    goto out;
  }
  if (!(diff = gp_plan_diff(old, plan, NULL))) {
    gpd_resp_oom(resp);
    goto out;
  }
  if (!count_machines(r, pkey, plan, counts, resp)) goto out;
  json_t *out = answer(diff, counts, gen, to_gen);
  if (!out) {
    gpd_resp_oom(resp);
    goto out;
  }
  gpd_resp_json(resp, 200, out);
  gpd_warning_headers(resp, &warnings);
out:
  json_decref(body);
  json_decref(old);
  json_decref(plan);
  json_decref(diff);
  gp_pool_free(pool);
  gp_pool_free(existing);
  gp_cluster_free(cluster);
  gp_warnings_free(&warnings);
  gp_error_clear(&err);
  gpd_resource_clear(&crow);
  gpd_resource_clear(&prow);
}
