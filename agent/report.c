/* report.c - the machine report `gpupool-agent run` PUTs to gpupoold
 * (…/agentPools/{p}/machines/{m}): what the agent owns of the machine resource, nothing the server
 * owns (state, targetGeneration, lastSeen, its own findings):
 *
 *   {"properties": {
 *     "hardware": {"vmSize"},
 *     "operatingSystem": {"osType": "Linux", "osSKU"},
 *     "kubernetes": {"nodeName", "kubeletVersion", "ready", "unschedulable"},
 *     "status": {"agentVersion", "reportIntervalSeconds", "appliedGeneration",
 *                "gpus": [{index, uuid, model, migMode, instances[{profile, start, size}], health, reasons[]}],
 *                "findings": [{code, severity, expected, found, message, gpus}],
 *                "health": {state, events[{time, gpu, xid, class, message}]}}}}
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

static json_t *str_or_null(const char *s) { return s && *s ? json_string(s) : json_null(); }

static json_t *gpu_json(const ag_gpu *g, const ag_health *h) {
  json_t *inst = json_array(), *reasons = json_array();
  if (!inst || !reasons) goto fail;
  for (size_t j = 0; j < g->ninst; j++) {
    const ag_mig_instance *m = &g->inst[j];
    json_t *o = json_pack("{s:o,s:o,s:o}", "profile", str_or_null(m->profile), "start",
                          m->start < 0 ? json_null() : json_integer(m->start), "size",
                          m->size < 0 ? json_null() : json_integer(m->size));
    if (json_array_append_new(inst, o)) goto fail;
  }
  const ag_gpu_memory *mem = g->index < h->ngpus ? &h->gpus[g->index] : NULL;
  gp_health state = mem ? mem->health.state : GP_HEALTH_HEALTHY;
  for (size_t r = 0; mem && r < mem->health.nreasons; r++)
    if (json_array_append_new(reasons, json_string(mem->health.reasons[r]))) goto fail;
  const char *mig = g->mig_current == 1 ? "Enabled" : g->mig_current == 0 ? "Disabled" : NULL;
  const char *uuid = g->uuid ? g->uuid : (mem && mem->uuid[0] ? mem->uuid : NULL);
  return json_pack("{s:I,s:o,s:o,s:o,s:o,s:s,s:o}", "index", (json_int_t)g->index, "uuid", str_or_null(uuid), "model",
                   str_or_null(g->model), "migMode", str_or_null(mig), "instances", inst, "health",
                   gp_health_state_name(state), "reasons", reasons);
fail:
  json_decref(inst);
  json_decref(reasons);
  return NULL;
}

/* check findings -> {code, severity, expected, found, message, gpus}: the check's action (what to
 * do) is the message, and the GPUs it names travel too, so that `gpupool machine show` says as much
 * as `gpupool-agent check` on the node. */
static json_t *findings_json(json_t *findings) {
  json_t *out = json_array(), *f;
  size_t i;
  if (!out) return NULL;
  json_array_foreach(findings, i, f) {
    json_t *e = json_object_get(f, "expected"), *fd = json_object_get(f, "found");
    json_t *o =
        json_pack("{s:s?,s:s?,s:O?,s:O?,s:s?,s:O?}", "code", json_string_value(json_object_get(f, "check")), "severity",
                  json_string_value(json_object_get(f, "severity")), "expected", e, "found", fd, "message",
                  json_string_value(json_object_get(f, "action")), "gpus", json_object_get(f, "gpus"));
    if (!o || json_array_append_new(out, o)) {
      json_decref(out);
      return NULL;
    }
  }
  return out;
}

json_t *ag_report_body(const ag_report_input *in) {
  json_t *gpus = json_array(), *findings = findings_json(in->findings), *health = ag_health_to_json(in->health);
  bool bad = !gpus || !findings || !health;
  for (size_t i = 0; !bad && in->inv && i < in->inv->ngpus; i++)
    bad = json_array_append_new(gpus, gpu_json(&in->inv->gpus[i], in->health)) != 0;
  if (bad) {
    json_decref(gpus);
    json_decref(findings);
    json_decref(health);
    return NULL;
  }
  const ag_node_status *n = in->node;
  return json_pack("{s:{s:{s:o},s:{s:s,s:o},s:{s:s,s:o,s:b,s:b},s:{s:s,s:I,s:I,s:o,s:o,s:o}}}", "properties",
                   "hardware", "vmSize", str_or_null(in->vm_size), "operatingSystem", "osType", "Linux", "osSKU",
                   str_or_null(in->os_sku), "kubernetes", "nodeName", in->node_name, "kubeletVersion",
                   str_or_null(n ? n->kubelet_version : NULL), "ready", n && n->known && n->ready, "unschedulable",
                   n && n->known && n->unschedulable, "status", "agentVersion", AG_AGENT_VERSION,
                   "reportIntervalSeconds", (json_int_t)in->interval_s, "appliedGeneration",
                   (json_int_t)in->applied_generation, "gpus", gpus, "findings", findings, "health", health);
}

char *ag_os_sku(const char *path, char *id, size_t id_size) {
  ag_err e;
  char *text = ag_read_file(path, 64 * 1024, NULL, &e), *sku = NULL;
  if (id_size) id[0] = '\0';
  if (!text) return NULL;
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    if (strncmp(line, "ID=", 3) != 0) continue;
    char *v = line + 3;
    size_t n = strlen(v);
    if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
      v[n - 1] = '\0';
      v++;
    }
    for (char *p = v; *p; p++)
      if (!isalnum((unsigned char)*p) && !strchr("._-", *p)) *p = '\0';
    if (id_size) snprintf(id, id_size, "%s", v);
    /* the names AKS gives its OS SKUs: the only values gpupoold takes (another OS is unknown) */
    if (strcmp(v, "ubuntu") == 0)
      sku = strdup("Ubuntu");
    else if (strcmp(v, "azurelinux") == 0)
      sku = strdup("AzureLinux");
    else if (strcmp(v, "mariner") == 0 || strcmp(v, "cbl-mariner") == 0)
      sku = strdup("CBLMariner");
    break;
  }
  free(text);
  return sku;
}
