/* handlers_feature.c - Microsoft.Features registrations of the two features the managed GPU
 * experience reads (ManagedGPU, ManagedGPUExperience): list, get, register, unregister. Their state
 * feeds the policy context of every later pool or cluster PUT in the subscription. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "handlers.h"
#include "resource.h"

static const char *const known[] = {GP_FEATURE_MANAGED_GPU, GP_FEATURE_MANAGED_GPU_EXPERIENCE};
#define NKNOWN (sizeof known / sizeof known[0])

static void lower_sub(const gpd_request *r, char *out, size_t size) {
  snprintf(out, size, "%s", r->sub);
  for (char *p = out; *p; p++)
    *p = (char)tolower((unsigned char)*p);
}

/* The canonical name of the URL's feature ("Microsoft.ContainerService/" may prefix it), or NULL
 * with a 404 in resp. */
static const char *feature_name(gpd_request *r, gpd_response *resp) {
  const char *n = r->feature;
  if (strncasecmp(n, "Microsoft.ContainerService/", 27) == 0) n += 27;
  for (size_t i = 0; i < NKNOWN; i++)
    if (strcasecmp(n, known[i]) == 0) return known[i];
  gpd_resp_error(resp, 404, "FeatureNotFound", NULL,
                 "The feature '%.100s' was not found in namespace Microsoft.ContainerService. gpupoold knows "
                 "ManagedGPU and ManagedGPUExperience.",
                 r->feature);
  return NULL;
}

static json_t *feature_json(const char *sub, const char *name, const char *state) {
  char id[300], full[128];
  snprintf(id, sizeof id,
           "/subscriptions/%s/providers/Microsoft.Features/providers/Microsoft.ContainerService/features/%s", sub,
           name);
  snprintf(full, sizeof full, "Microsoft.ContainerService/%s", name);
  return json_pack("{s:s,s:s,s:s,s:{s:s}}", "id", id, "name", full, "type", "Microsoft.Features/providers/features",
                   "properties", "state", state);
}

/* The stored state of a feature, NotRegistered when never touched. False (503) on store failure. */
static bool state_of(gpd_request *r, const char *sub, const char *name, char *state, size_t size, gpd_response *resp) {
  gpd_feature f[8];
  size_t n = 0;
  gpd_store *s = r->srv->store;
  if (s->ops->get_features(s, sub, f, 8, &n) != GPD_STORE_OK) {
    gpd_resp_store_error(resp);
    return false;
  }
  snprintf(state, size, "NotRegistered");
  for (size_t i = 0; i < n; i++)
    if (strcasecmp(f[i].name, name) == 0) snprintf(state, size, "%s", f[i].state);
  return true;
}

void gpd_feature_list(gpd_request *r, gpd_response *resp) {
  char sub[64], state[32];
  lower_sub(r, sub, sizeof sub);
  json_t *values = json_array();
  for (size_t i = 0; values && i < NKNOWN; i++) {
    if (!state_of(r, sub, known[i], state, sizeof state, resp)) {
      json_decref(values);
      return;
    }
    if (json_array_append_new(values, feature_json(sub, known[i], state))) {
      json_decref(values);
      values = NULL;
    }
  }
  json_t *body = values ? json_pack("{s:o}", "value", values) : NULL;
  gpd_resp_json(resp, 200, body);
}

void gpd_feature_get(gpd_request *r, gpd_response *resp) {
  char sub[64], state[32];
  const char *name = feature_name(r, resp);
  if (!name) return;
  lower_sub(r, sub, sizeof sub);
  if (state_of(r, sub, name, state, sizeof state, resp)) gpd_resp_json(resp, 200, feature_json(sub, name, state));
}

static void set_state(gpd_request *r, gpd_response *resp, const char *state) {
  char sub[64];
  const char *name = feature_name(r, resp);
  if (!name) return;
  lower_sub(r, sub, sizeof sub);
  gpd_store *s = r->srv->store;
  if (s->ops->set_feature(s, sub, name, state) != GPD_STORE_OK) {
    gpd_resp_store_error(resp);
    return;
  }
  gpd_resp_json(resp, 200, feature_json(sub, name, state));
}

void gpd_feature_register(gpd_request *r, gpd_response *resp) { set_state(r, resp, "Registered"); }
void gpd_feature_unregister(gpd_request *r, gpd_response *resp) { set_state(r, resp, "Unregistered"); }
