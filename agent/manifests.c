/* manifests.c - `render --kubernetes`: DaemonSet and Service manifests for clusters where the GPU
 * components run as pods instead of systemd services (the upstream way): the device plugin with
 * its MIG strategy in MIG_STRATEGY, and dcgm-exporter with its Service. Same images, args and port
 * as the plan gives the node services. Built as JSON, emitted through libyaml (yaml_out.c).
 *
 * Facts (reference/components.md): namespace kube-system, toleration nvidia.com/gpu:NoSchedule,
 * priorityClass system-node-critical; the plugin needs hostPath /var/lib/kubelet/device-plugins,
 * the exporter /var/lib/kubelet/pod-resources read-only and the SYS_ADMIN capability. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"

typedef struct {
  const ag_plan *p;
  const char *pool;
  bool oom;
} ctx;

static json_t *chk(ctx *c, json_t *v) {
  if (!v) c->oom = true;
  return v;
}

static json_t *labels(ctx *c, const char *name, const char *version) {
  json_t *l =
      chk(c, json_pack("{s:s,s:s}", "app.kubernetes.io/name", name, "app.kubernetes.io/managed-by", "gpupool-agent"));
  if (l && version && json_object_set_new(l, "app.kubernetes.io/version", json_string(version))) c->oom = true;
  if (l && c->pool && json_object_set_new(l, "kubernetes.azure.com/agentpool", json_string(c->pool))) c->oom = true;
  return l;
}

static json_t *node_selector(ctx *c) {
  json_t *s = chk(c, json_pack("{s:s,s:s}", "kubernetes.azure.com/accelerator", "nvidia",
                               "node.kubernetes.io/instance-type", c->p->vm_size));
  if (s && c->pool && json_object_set_new(s, "kubernetes.azure.com/agentpool", json_string(c->pool))) c->oom = true;
  return s;
}

static json_t *tolerations(ctx *c) {
  return chk(c, json_pack("[{s:s,s:s,s:s},{s:s,s:s,s:s}]", "key", "nvidia.com/gpu", "operator", "Exists", "effect",
                          "NoSchedule", "key", "sku", "operator", "Exists", "effect", "NoSchedule"));
}

static char *object_name(ctx *c, const char *base) {
  char *s = c->pool ? ag_fmt("%s-%s", base, c->pool) : ag_fmt("%s", base);
  if (!s) c->oom = true;
  return s;
}

static json_t *daemonset(ctx *c, const char *name, const char *app, const char *version, json_t *container,
                         json_t *volumes) {
  json_t *sel = chk(c, json_pack("{s:s}", "app.kubernetes.io/name", app));
  if (sel && c->pool && json_object_set_new(sel, "kubernetes.azure.com/agentpool", json_string(c->pool))) c->oom = true;
  return chk(c,
             json_pack("{s:s,s:s,s:{s:s,s:s,s:o},s:{s:{s:o},s:{s:s},s:{s:{s:o},s:{s:s,s:o,s:o,s:[o],s:o}}}}",
                       "apiVersion", "apps/v1", "kind", "DaemonSet", "metadata", "name", name, "namespace",
                       "kube-system", "labels", labels(c, app, version), "spec", "selector", "matchLabels", sel,
                       "updateStrategy", "type", "RollingUpdate", "template", "metadata", "labels",
                       labels(c, app, version), "spec", "priorityClassName", "system-node-critical", "nodeSelector",
                       node_selector(c), "tolerations", tolerations(c), "containers", container, "volumes", volumes));
}

static bool device_plugin(ctx *c, ag_fileset *fs, ag_err *err) {
  const ag_component *dp = ag_plan_component(c->p, GP_COMPONENT_DEVICE_PLUGIN);
  if (!dp) return true;
  if (!dp->image) {
    ag_seterr(err, "the plan's nvidia-device-plugin has no image; it cannot run as a pod");
    return false;
  }
  const char *strategy = ag_plan_plugin_strategy(c->p);
  bool specs = false;
  for (size_t i = 0; i < ag_component_nargs(dp); i++)
    specs = specs || strcmp(ag_component_arg(dp, i), "--pass-device-specs") == 0;
  json_t *env = chk(c, json_pack("[{s:s,s:s},{s:s,s:s},{s:s,s:s}]", "name", "MIG_STRATEGY", "value", strategy, "name",
                                 "PASS_DEVICE_SPECS", "value", specs ? "true" : "false", "name", "FAIL_ON_INIT_ERROR",
                                 "value", "false"));
  json_t *sec;
  if (c->p->setup.plugin_strategy == GP_MIG_STRATEGY_NONE) {
    sec = chk(c, json_pack("{s:b,s:{s:[s]}}", "allowPrivilegeEscalation", 0, "capabilities", "drop", "ALL"));
  } else {
    /* With MIG the plugin watches MIG devices' health, which needs SYS_ADMIN. */
    if (env && json_array_append_new(env, json_pack("{s:s,s:s}", "name", "NVIDIA_MIG_MONITOR_DEVICES", "value", "all")))
      c->oom = true;
    sec = chk(c, json_pack("{s:b,s:{s:[s],s:[s]}}", "allowPrivilegeEscalation", 0, "capabilities", "drop", "ALL", "add",
                           "SYS_ADMIN"));
  }
  json_t *ctr = chk(c, json_pack("{s:s,s:s,s:o,s:o,s:[{s:s,s:s}]}", "name", "nvidia-device-plugin-ctr", "image",
                                 dp->image, "env", env, "securityContext", sec, "volumeMounts", "name", "device-plugin",
                                 "mountPath", "/var/lib/kubelet/device-plugins"));
  json_t *vols = chk(
      c, json_pack("[{s:s,s:{s:s}}]", "name", "device-plugin", "hostPath", "path", "/var/lib/kubelet/device-plugins"));
  char *name = object_name(c, GP_COMPONENT_DEVICE_PLUGIN);
  json_t *ds = name ? daemonset(c, name, GP_COMPONENT_DEVICE_PLUGIN, dp->version, ctr, vols) : NULL;
  free(name);
  if (c->oom || !ds) {
    json_decref(ds);
    ag_seterr(err, "out of memory");
    return false;
  }
  char *yaml = ag_yaml_from_json(&ds, 1, err);
  json_decref(ds);
  if (!yaml) return false;
  ag_buf b = {0};
  ag_buf_addf(&b,
              "# Generated by gpupool-agent from the plan of %s (generation %lld).\n# NVIDIA device plugin as a "
              "DaemonSet, MIG strategy %s.\n",
              c->p->vm_size, c->p->generation, strategy);
  ag_buf_add(&b, yaml);
  free(yaml);
  return ag_fileset_add(fs, "nvidia-device-plugin.yaml", ag_buf_take(&b)) || (ag_seterr(err, "out of memory"), false);
}

static bool exporter(ctx *c, ag_fileset *fs, ag_err *err) {
  const ag_component *ex = ag_plan_component(c->p, GP_COMPONENT_DCGM_EXPORTER);
  if (!ex) return true;
  if (!ex->image) {
    ag_seterr(err, "the plan's dcgm-exporter has no image; it cannot run as a pod");
    return false;
  }
  int port = ex->port ? ex->port : 19400;
  json_t *args = ex->args ? chk(c, json_deep_copy(ex->args)) : chk(c, json_array());
  bool has_addr = false;
  for (size_t i = 0; i < ag_component_nargs(ex); i++) {
    const char *a = ag_component_arg(ex, i);
    has_addr = has_addr || strcmp(a, "-a") == 0 || strcmp(a, "--address") == 0;
  }
  if (args && !has_addr) {
    char addr[16];
    snprintf(addr, sizeof addr, ":%d", port);
    if (json_array_append_new(args, json_string("-a")) || json_array_append_new(args, json_string(addr))) c->oom = true;
  }
  json_t *ctr =
      chk(c, json_pack("{s:s,s:s,s:o,s:[{s:s,s:s}],s:[{s:s,s:i,s:s}],s:{s:b,s:{s:[s]}},s:[{s:s,s:s,s:b}]}", "name",
                       "dcgm-exporter", "image", ex->image, "args", args, "env", "name", "DCGM_EXPORTER_KUBERNETES",
                       "value", "true", "ports", "name", "metrics", "containerPort", port, "protocol", "TCP",
                       "securityContext", "runAsNonRoot", 0, "capabilities", "add", "SYS_ADMIN", "volumeMounts", "name",
                       "pod-gpu-resources", "mountPath", "/var/lib/kubelet/pod-resources", "readOnly", 1));
  json_t *vols = chk(c, json_pack("[{s:s,s:{s:s}}]", "name", "pod-gpu-resources", "hostPath", "path",
                                  "/var/lib/kubelet/pod-resources"));
  char *name = object_name(c, GP_COMPONENT_DCGM_EXPORTER);
  json_t *docs[2] = {NULL, NULL};
  if (name) {
    docs[0] = daemonset(c, name, GP_COMPONENT_DCGM_EXPORTER, ex->version, ctr, vols);
    json_t *sel = chk(c, json_pack("{s:s}", "app.kubernetes.io/name", GP_COMPONENT_DCGM_EXPORTER));
    if (sel && c->pool && json_object_set_new(sel, "kubernetes.azure.com/agentpool", json_string(c->pool)))
      c->oom = true;
    docs[1] =
        chk(c, json_pack("{s:s,s:s,s:{s:s,s:s,s:o},s:{s:s,s:o,s:[{s:s,s:i,s:s,s:s}]}}", "apiVersion", "v1", "kind",
                         "Service", "metadata", "name", name, "namespace", "kube-system", "labels",
                         labels(c, GP_COMPONENT_DCGM_EXPORTER, ex->version), "spec", "type", "ClusterIP", "selector",
                         sel, "ports", "name", "metrics", "port", port, "targetPort", "metrics", "protocol", "TCP"));
  } else {
    json_decref(ctr);
    json_decref(vols);
  }
  free(name);
  char *yaml = NULL;
  if (!c->oom && docs[0] && docs[1])
    yaml = ag_yaml_from_json(docs, 2, err);
  else
    ag_seterr(err, "out of memory");
  json_decref(docs[0]);
  json_decref(docs[1]);
  if (!yaml) return false;
  ag_buf b = {0};
  ag_buf_addf(&b,
              "# Generated by gpupool-agent from the plan of %s (generation %lld).\n# dcgm-exporter as a DaemonSet "
              "and its Service, port %d.\n",
              c->p->vm_size, c->p->generation, port);
  ag_buf_add(&b, yaml);
  free(yaml);
  return ag_fileset_add(fs, "dcgm-exporter.yaml", ag_buf_take(&b)) || (ag_seterr(err, "out of memory"), false);
}

bool ag_render_kubernetes(const ag_plan *p, const char *pool, ag_fileset *fs, ag_err *err) {
  ctx c = {p, pool, false};
  if (pool) {
    bool ok = islower((unsigned char)pool[0]) && strlen(pool) <= 12;
    for (const char *s = pool; ok && *s; s++)
      ok = islower((unsigned char)*s) || isdigit((unsigned char)*s);
    if (!ok) {
      ag_seterr(err, "pool name '%.40s' must match ^[a-z][a-z0-9]{0,11}$", pool);
      return false;
    }
  }
  return device_plugin(&c, fs, err) && exporter(&c, fs, err);
}
