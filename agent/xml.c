/* xml.c - GPU discovery from `nvidia-smi -q -x` output (libxml2), for nodes where the agent cannot
 * load NVML itself (a container without the library, or a capture taken elsewhere).
 *
 * The XML says less than NVML: MIG devices carry no profile name and no placement. The profile is
 * inferred from the MIG device's memory against the GPU model's profiles in the catalog; when two
 * profiles have the same memory (3g.40gb and 4g.40gb) it is left unknown and the candidates are
 * listed. External entities and DTDs are never loaded. */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "gpupool/catalog.h"

#define XML_MAX_BYTES (32u * 1024u * 1024u)

static xmlNode *child(xmlNode *n, const char *name) {
  for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
    if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0) return c;
  return NULL;
}

/* The element at a '/'-separated path below n. */
static xmlNode *at(xmlNode *n, const char *path) {
  char part[64];
  while (n && *path) {
    const char *slash = strchr(path, '/');
    size_t len = slash ? (size_t)(slash - path) : strlen(path);
    if (len >= sizeof part) return NULL;
    memcpy(part, path, len);
    part[len] = '\0';
    n = child(n, part);
    path = slash ? slash + 1 : path + len;
  }
  return n;
}

/* Trimmed text of the element at path; NULL when absent or a "no value" marker (N/A, None). */
static char *text(xmlNode *n, const char *path, bool *oom) {
  xmlNode *e = at(n, path);
  if (!e) return NULL;
  xmlChar *raw = xmlNodeGetContent(e);
  if (!raw) return NULL;
  const char *s = (const char *)raw;
  while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
    s++;
  size_t len = strlen(s);
  while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' || s[len - 1] == '\r'))
    len--;
  char *out = NULL;
  if (len && !(len == 3 && strncmp(s, "N/A", 3) == 0) && !(len == 4 && strncmp(s, "None", 4) == 0) &&
      !(len == 13 && strncmp(s, "Not Supported", 13) == 0) && !(len == 5 && strncmp(s, "[N/A]", 5) == 0)) {
    out = malloc(len + 1);
    if (!out)
      *oom = true;
    else {
      memcpy(out, s, len);
      out[len] = '\0';
    }
  }
  xmlFree(raw);
  return out;
}

/* "81559 MiB" -> 81559; AG_UNKNOWN when not a number. */
static long long mib(xmlNode *n, const char *path, bool *oom) {
  char *s = text(n, path, oom), *end;
  long long v = AG_UNKNOWN;
  if (s) {
    long long x = strtoll(s, &end, 10);
    if (end != s && x >= 0 && (*end == '\0' || strcmp(end, " MiB") == 0)) v = x;
  }
  free(s);
  return v;
}

static long long integer(xmlNode *n, const char *path, bool *oom) {
  char *s = text(n, path, oom), *end;
  long long v = AG_UNKNOWN;
  if (s) {
    long long x = strtoll(s, &end, 10);
    if (end != s && *end == '\0' && x >= 0) v = x;
  }
  free(s);
  return v;
}

/* Nominal memory of a profile name ("3g.40gb" -> 40). */
static int profile_gb(const char *name) {
  int g = 0, gb = 0;
  return sscanf(name, "%dg.%dgb", &g, &gb) == 2 ? gb : -1;
}

/* Profile of a MIG device from its memory, among the model's catalog profiles (nearest nominal
 * size within 15%). Ties leave the profile unknown and list the candidates. */
static void infer_profile(ag_mig_instance *m, const char *model, bool *oom) {
  if (!model || m->memory_mib < 0) return;
  double gib = (double)m->memory_mib / 1024.0, best = 1e9;
  const gp_mig_model_profile *pick[GP_MIG_PROFILE_COUNT];
  size_t npick = 0;
  for (int p = 1; p <= GP_MIG_PROFILE_COUNT; p++) {
    const gp_mig_model_profile *mp = gp_catalog_mig_profile(model, (gp_mig_profile)p);
    if (!mp) continue;
    int gb = profile_gb(mp->nvidia_name);
    if (gb <= 0) continue;
    double d = fabs(gib - gb);
    if (d > 0.15 * gb) continue;
    if (d < best - 1e-9) {
      best = d;
      npick = 0;
    }
    if (fabs(d - best) <= 1e-9) pick[npick++] = mp;
  }
  if (npick == 1) {
    m->profile = ag_strdup(pick[0]->nvidia_name, oom);
    m->profile_id = pick[0]->profile_id;
  } else if (npick > 1) {
    ag_buf b = {0};
    for (size_t i = 0; i < npick; i++)
      ag_buf_addf(&b, "%s%s", i ? "," : "", pick[i]->nvidia_name);
    m->candidates = ag_buf_take(&b);
    if (!m->candidates) *oom = true;
  }
}

static bool read_gpu(xmlNode *gx, ag_inventory *inv, ag_err *err) {
  bool oom = false;
  ag_gpu *g = ag_inventory_add_gpu(inv);
  if (!g) goto nomem;
  g->name = text(gx, "product_name", &oom);
  g->uuid = text(gx, "uuid", &oom);
  g->bus_id = text(gx, "pci/pci_bus_id", &oom);
  if (!g->bus_id) {
    xmlChar *id = xmlGetProp(gx, (const xmlChar *)"id");
    if (id) {
      g->bus_id = ag_strdup((const char *)id, &oom);
      xmlFree(id);
    }
  }
  char *pci = text(gx, "pci/pci_device_id", &oom), *end;
  if (pci) {
    unsigned long v = strtoul(pci, &end, 16);
    if (end != pci && *end == '\0' && v <= 0xFFFFFFFFul) g->pci_device_id = (unsigned)v;
    free(pci);
  }
  g->memory_mib = mib(gx, "fb_memory_usage/total", &oom);
  char *cur = text(gx, "mig_mode/current_mig", &oom), *pend = text(gx, "mig_mode/pending_mig", &oom);
  if (cur && (strcmp(cur, "Enabled") == 0 || strcmp(cur, "Disabled") == 0)) {
    g->mig_capable = true;
    g->mig_current = strcmp(cur, "Enabled") == 0;
    g->mig_pending = pend ? strcmp(pend, "Enabled") == 0 : g->mig_current;
  }
  free(cur);
  free(pend);
  if (oom) goto nomem;

  const gp_gpu_model *model = g->pci_device_id ? gp_catalog_gpu_model_by_pci(g->pci_device_id) : NULL;
  if (!model && g->name) model = gp_catalog_gpu_model_by_name(g->name);
  xmlNode *devs = child(gx, "mig_devices");
  for (xmlNode *d = devs ? devs->children : NULL; d; d = d->next) {
    if (d->type != XML_ELEMENT_NODE || strcmp((const char *)d->name, "mig_device") != 0) continue;
    long long gi = integer(d, "gpu_instance_id", &oom);
    if (gi < 0) {
      ag_seterr(err, "GPU %u: a mig_device has no gpu_instance_id", g->index);
      return false;
    }
    bool seen = false; /* one GPU instance may hold several compute instances */
    for (size_t i = 0; i < g->ninst; i++)
      seen = seen || g->inst[i].gi_id == (unsigned)gi;
    if (seen) continue;
    ag_mig_instance *m = ag_gpu_add_instance(g);
    if (!m) goto nomem;
    m->gi_id = (unsigned)gi;
    m->memory_mib = mib(d, "fb_memory_usage/total", &oom);
    infer_profile(m, model ? model->model : NULL, &oom);
    if (oom) goto nomem;
  }
  return true;
nomem:
  ag_seterr(err, "out of memory");
  return false;
}

bool ag_xml_discover(const char *path, ag_inventory *inv, ag_err *err) {
  size_t len = 0;
  char *buf = ag_read_file(path, XML_MAX_BYTES, &len, err);
  inv->source = "nvidia-smi-xml";
  if (!buf) return false;
  bool ok = ag_xml_parse(buf, len, path, inv, err);
  free(buf);
  return ok;
}

bool ag_xml_parse(const char *buf, size_t len, const char *path, ag_inventory *inv, ag_err *err) {
  bool ok = false, oom = false;
  inv->source = "nvidia-smi-xml";
  if (len == 0) {
    ag_seterr(err, "'%s' is empty, not nvidia-smi -q -x output", path);
    return false;
  }
  if (len > XML_MAX_BYTES) {
    ag_seterr(err, "'%s' is larger than %d bytes", path, XML_MAX_BYTES);
    return false;
  }
  xmlResetLastError();
  /* No NOENT (entities stay unexpanded), no DTDLOAD, NONET: the file cannot make us read anything. */
  xmlDoc *doc = xmlReadMemory(buf, (int)len, path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (!doc) {
    const xmlError *e = xmlGetLastError();
    char msg[256] = "not well-formed";
    if (e && e->message) {
      snprintf(msg, sizeof msg, "%s", e->message);
      size_t n = strlen(msg);
      while (n && msg[n - 1] == '\n')
        msg[--n] = '\0';
    }
    ag_seterr(err, "'%s' is not nvidia-smi -q -x output: %s (line %d)", path, msg, e ? e->line : 0);
    return false;
  }
  xmlNode *root = xmlDocGetRootElement(doc);
  if (!root || strcmp((const char *)root->name, "nvidia_smi_log") != 0) {
    ag_seterr(err, "'%s' is not nvidia-smi -q -x output: the root element is <%s>, not <nvidia_smi_log>", path,
              root ? (const char *)root->name : "");
    goto out;
  }
  inv->driver_version = text(root, "driver_version", &oom);
  inv->cuda_version = text(root, "cuda_version", &oom);
  if (oom) {
    ag_seterr(err, "out of memory");
    goto out;
  }
  if (!inv->driver_version) {
    ag_seterr(err, "'%s' has no <driver_version>: not nvidia-smi -q -x output", path);
    goto out;
  }
  for (xmlNode *c = root->children; c; c = c->next) {
    if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, "gpu") != 0) continue;
    if (inv->ngpus >= 64) {
      ag_seterr(err, "'%s' lists more than 64 GPUs", path);
      goto out;
    }
    if (!read_gpu(c, inv, err)) goto out;
  }
  ag_inventory_finish(inv);
  ok = true;
out:
  xmlFreeDoc(doc);
  return ok;
}
