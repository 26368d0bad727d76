/* commands.c - the read-only commands of gpupool-agent and render: option parsing, output and exit
 * statuses around discovery (inventory.c, nvml.c, xml.c), check (check.c) and rendering
 * (render.c, manifests.c). apply and fetch have theirs in their own files. */
#include <stdlib.h>
#include <string.h>

#include "agent.h"

/* --name VALUE options; returns the index of the option in names, -1 for an unknown argument,
 * -2 for a missing value. */
static int option(int argc, char **argv, int *i, const char *const *names, size_t n, const char **value) {
  for (size_t k = 0; k < n; k++) {
    if (strcmp(argv[*i], names[k]) != 0) continue;
    if (*i + 1 >= argc) return -2;
    *value = argv[++*i];
    return (int)k;
  }
  return -1;
}

static const char discover_help[] =
    "Usage: gpupool-agent discover [--from-xml FILE]\n"
    "\n"
    "Prints the node's GPU inventory as JSON: driver and CUDA versions; per GPU its index, UUID, name,\n"
    "catalog model (H100-80GB), memory, PCI ids, MIG capability and mode (current/pending) and its MIG GPU\n"
    "instances (profile, id, placement).\n"
    "\n"
    "  --from-xml FILE  read `nvidia-smi -q -x` output instead of asking NVML (MIG profiles are then\n"
    "                   inferred from memory sizes, placements are unknown)\n"
    "\n"
    "NVML is loaded at run time: $GPUPOOL_NVML_LIBRARY, else libnvidia-ml.so.1.\n"
    "Exit status: 0 inventory printed, 1 no NVIDIA driver, no GPU or an NVML error, 2 usage.\n";

int ag_cmd_discover(int argc, char **argv) {
  const char *xml = NULL;
  static const char *const names[] = {"--from-xml"};
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      fputs(discover_help, stdout);
      return AG_EXIT_OK;
    }
    int k = option(argc, argv, &i, names, 1, &xml);
    if (k == -2) return ag_usage_error("discover", "option '%s' needs a value", argv[i]);
    if (k < 0) return ag_usage_error("discover", "unknown argument '%s'", argv[i]);
  }
  ag_inventory inv;
  ag_err err;
  int rc = AG_EXIT_ERROR;
  ag_inventory_init(&inv, xml ? "nvidia-smi-xml" : "nvml");
  if (!ag_discover(xml, &inv, &err)) {
    fprintf(stderr, "gpupool-agent discover: %s\n", err.msg);
  } else if (!inv.driver_present) {
    fprintf(stderr, "gpupool-agent discover: no NVIDIA driver on this node (%s)\n",
            inv.driver_absent_reason ? inv.driver_absent_reason : "NVML unavailable");
  } else if (inv.ngpus == 0) {
    fprintf(stderr, "gpupool-agent discover: no NVIDIA GPU found (%s reports none)\n",
            xml ? "the nvidia-smi output" : "NVML");
  } else {
    json_t *j = ag_inventory_to_json(&inv);
    if (j) {
      ag_print_json(stdout, j);
      rc = AG_EXIT_OK;
    } else {
      fprintf(stderr, "gpupool-agent discover: out of memory\n");
    }
    json_decref(j);
  }
  ag_inventory_free(&inv);
  return rc;
}

static const char check_help[] =
    "Usage: gpupool-agent check --plan PLAN.json [--from-xml FILE] [-o text|json]\n"
    "\n"
    "Compares this node with its pool's plan: GPU count and model against the VM size, the NVIDIA driver\n"
    "(present when the plan installs it, absent when it installs nothing), MIG mode (enabled exactly when\n"
    "the plan has a MIG layout), the MIG instances of each GPU against the layout, and the resources the\n"
    "device plugin would advertise (from the node's real MIG state and the plan's MIG strategy) against\n"
    "plan.allocatable. Each finding has a severity (error, warning, info), what was checked, expected,\n"
    "found and what to do.\n"
    "\n"
    "  --plan FILE      the plan (gpupool plan, or gpupool-agent fetch)\n"
    "  --from-xml FILE  read the node from `nvidia-smi -q -x` output instead of NVML\n"
    "  -o text|json     output format (default text)\n"
    "\n"
    "Exit status: 0 conformant (no error or warning), 3 drift, 1 error (unreadable plan, NVML error),\n"
    "2 usage.\n";

int ag_cmd_check(int argc, char **argv) {
  const char *plan_path = NULL, *xml = NULL, *fmt = "text", *v;
  static const char *const names[] = {"--plan", "--from-xml", "-o", "--output"};
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      fputs(check_help, stdout);
      return AG_EXIT_OK;
    }
    int k = option(argc, argv, &i, names, 4, &v);
    if (k == -2) return ag_usage_error("check", "option '%s' needs a value", argv[i]);
    if (k < 0) return ag_usage_error("check", "unknown argument '%s'", argv[i]);
    if (k == 0)
      plan_path = v;
    else if (k == 1)
      xml = v;
    else
      fmt = v;
  }
  if (!plan_path) return ag_usage_error("check", "--plan is required");
  if (strcmp(fmt, "text") != 0 && strcmp(fmt, "json") != 0)
    return ag_usage_error("check", "-o must be text or json, not '%s'", fmt);
  ag_plan p;
  ag_inventory inv;
  ag_err err;
  int rc = AG_EXIT_ERROR;
  ag_inventory_init(&inv, xml ? "nvidia-smi-xml" : "nvml");
  if (!ag_plan_load(plan_path, &p, &err) || !ag_discover(xml, &inv, &err)) {
    fprintf(stderr, "gpupool-agent check: %s\n", err.msg);
  } else {
    bool drift = false;
    json_t *r = ag_check(&p, &inv, &drift);
    if (!r) {
      fprintf(stderr, "gpupool-agent check: out of memory\n");
    } else {
      if (strcmp(fmt, "json") == 0)
        ag_print_json(stdout, r);
      else
        ag_check_print_text(stdout, r);
      rc = drift ? AG_EXIT_DRIFT : AG_EXIT_OK;
    }
    json_decref(r);
  }
  ag_inventory_free(&inv);
  ag_plan_free(&p);
  return rc;
}

static const char render_help[] =
    "Usage: gpupool-agent render --plan PLAN.json --out DIR [--kubernetes [--pool NAME]]\n"
    "\n"
    "Writes the node's files for the plan under DIR, byte-stable for the same plan:\n"
    "  etc/systemd/system/nvidia-device-plugin.service.d/10-gpupool.conf  ExecStart with the MIG strategy\n"
    "  etc/systemd/system/gpu-kubelet-plugin.service.d/10-gpupool.conf    DRA driver ordering (DRA mode)\n"
    "  etc/systemd/system/dcgm-exporter.service.d/10-gpupool.conf         dcgm-exporter on port 19400\n"
    "  etc/systemd/system/mig-partition.service.d/10-gpupool.conf         MIG profile ids, creation order\n"
    "  etc/nvidia-mig-manager/config.yaml                                  mig-parted config (MIG sizes)\n"
    "  etc/gpupool/node-labels.yaml                                        node labels\n"
    "  etc/gpupool/bootstrap.env                                           bootstrap environment\n"
    "(only the files the plan needs).\n"
    "\n"
    "  --kubernetes  instead, DaemonSet/Service manifests for clusters where the components run as pods:\n"
    "                DIR/nvidia-device-plugin.yaml (MIG_STRATEGY), DIR/dcgm-exporter.yaml\n"
    "  --pool NAME   with --kubernetes: per-pool object names and node selector\n"
    "\n"
    "Exit status: 0 written, 1 error, 2 usage.\n";

int ag_cmd_render(int argc, char **argv) {
  const char *plan_path = NULL, *out = NULL, *pool = NULL, *v;
  bool kube = false;
  static const char *const names[] = {"--plan", "--out", "--pool"};
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      fputs(render_help, stdout);
      return AG_EXIT_OK;
    }
    if (strcmp(argv[i], "--kubernetes") == 0) {
      kube = true;
      continue;
    }
    int k = option(argc, argv, &i, names, 3, &v);
    if (k == -2) return ag_usage_error("render", "option '%s' needs a value", argv[i]);
    if (k < 0) return ag_usage_error("render", "unknown argument '%s'", argv[i]);
    if (k == 0)
      plan_path = v;
    else if (k == 1)
      out = v;
    else
      pool = v;
  }
  if (!plan_path || !out) return ag_usage_error("render", "--plan and --out are required");
  if (!*out) return ag_usage_error("render", "--out must not be empty");
  if (pool && !kube) return ag_usage_error("render", "--pool goes with --kubernetes");
  ag_plan p;
  ag_err err;
  ag_fileset fs = {0};
  int rc = AG_EXIT_ERROR;
  if (!ag_plan_load(plan_path, &p, &err) ||
      !(kube ? ag_render_kubernetes(&p, pool, &fs, &err) : ag_render_node(&p, &fs, &err))) {
    fprintf(stderr, "gpupool-agent render: %s\n", err.msg);
    goto out;
  }
  if (fs.n == 0) fprintf(stderr, "gpupool-agent render: the plan runs no component as a pod; nothing to write\n");
  for (size_t i = 0; i < fs.n; i++) {
    char *path = ag_join(out, fs.files[i].path);
    bool ok = path && ag_write_file(path, fs.files[i].content, strlen(fs.files[i].content), &err);
    if (!ok) {
      fprintf(stderr, "gpupool-agent render: %s\n", path ? err.msg : "out of memory");
      free(path);
      goto out;
    }
    printf("wrote %s\n", path);
    free(path);
  }
  rc = AG_EXIT_OK;
out:
  ag_fileset_free(&fs);
  ag_plan_free(&p);
  return rc;
}
