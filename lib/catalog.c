/* catalog.c - lookups over the generated catalog tables (data/ (CSV files)). */
#include "gpupool/catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog_tables.h"
#include "edit_distance.h"

const gp_vm_size *gp_catalog_vm_size(const char *name) {
  if (!name) return NULL;
  for (size_t i = 0; i < gp_tbl_vm_sizes_count; i++)
    if (strcasecmp(gp_tbl_vm_sizes[i].name, name) == 0) return &gp_tbl_vm_sizes[i];
  return NULL;
}

size_t gp_catalog_vm_size_count(void) { return gp_tbl_vm_sizes_count; }

bool gp_catalog_is_n_series(const char *name) { return name && strncasecmp(name, "Standard_N", 10) == 0; }

size_t gp_catalog_vm_size_suggest(const char *name, const gp_vm_size **out, size_t max) {
  size_t n = 0, best = (size_t)-1;
  if (!name || !max) return 0;
  for (size_t i = 0; i < gp_tbl_vm_sizes_count; i++) {
    size_t d = gp_edit_distance_ci(name, gp_tbl_vm_sizes[i].name);
    if (d < best) best = d;
  }
  if (best == (size_t)-1) return 0;
  /* nearest first: one pass per distance, catalog order within it */
  for (size_t want = best; want <= best + 2 && n < max; want++)
    for (size_t i = 0; i < gp_tbl_vm_sizes_count && n < max; i++)
      if (gp_edit_distance_ci(name, gp_tbl_vm_sizes[i].name) == want) out[n++] = &gp_tbl_vm_sizes[i];
  return n;
}

const gp_vm_size *gp_catalog_vm_size_for(gp_vendor vendor, bool mig, unsigned os_mask, int gpus) {
  const gp_vm_size *found = NULL;
  int found_rank = 4;
  for (size_t i = 0; i < gp_tbl_vm_sizes_count; i++) {
    const gp_vm_size *s = &gp_tbl_vm_sizes[i];
    if ((vendor != GP_VENDOR_NONE && s->vendor != vendor) || (mig && !s->mig) || (os_mask && !(s->os_mask & os_mask)))
      continue;
    int rank = (gpus > 0 && s->gpus != gpus ? 2 : 0) + (strncmp(s->note, "uncertain", 9) == 0 ? 1 : 0);
    if (rank < found_rank) {
      found = s;
      found_rank = rank;
    }
  }
  return found;
}

const gp_vm_size *gp_catalog_vm_size_at(size_t i) { return i < gp_tbl_vm_sizes_count ? &gp_tbl_vm_sizes[i] : NULL; }

const gp_mig_model_profile *gp_catalog_mig_profile(const char *gpu_model, gp_mig_profile p) {
  if (!gpu_model) return NULL;
  for (size_t i = 0; i < gp_tbl_mig_profiles_count; i++)
    if (gp_tbl_mig_profiles[i].profile == p && strcmp(gp_tbl_mig_profiles[i].gpu_model, gpu_model) == 0)
      return &gp_tbl_mig_profiles[i];
  return NULL;
}

const gp_mig_model_profile *gp_catalog_mig_profile_by_name(const char *gpu_model, const char *nvidia_name) {
  if (!gpu_model || !nvidia_name) return NULL;
  for (size_t i = 0; i < gp_tbl_mig_profiles_count; i++)
    if (strcmp(gp_tbl_mig_profiles[i].gpu_model, gpu_model) == 0 &&
        strcasecmp(gp_tbl_mig_profiles[i].nvidia_name, nvidia_name) == 0)
      return &gp_tbl_mig_profiles[i];
  return NULL;
}

const gp_mig_geometry *gp_catalog_mig_geometry(gp_mig_profile p) {
  for (size_t i = 0; i < gp_tbl_mig_geometry_count; i++)
    if (gp_tbl_mig_geometry[i].profile == p) return &gp_tbl_mig_geometry[i];
  return NULL;
}

const gp_driver_family *gp_catalog_driver_family(const char *family) {
  if (!family) return NULL;
  for (size_t i = 0; i < gp_tbl_driver_families_count; i++)
    if (strcmp(gp_tbl_driver_families[i].family, family) == 0) return &gp_tbl_driver_families[i];
  return NULL;
}

const gp_component_version *gp_catalog_component(int k8s_minor, const char *component) {
  for (size_t i = 0; i < gp_tbl_components_count; i++)
    if (gp_tbl_components[i].minor == k8s_minor && strcmp(gp_tbl_components[i].component, component) == 0)
      return &gp_tbl_components[i];
  return NULL;
}

void gp_catalog_k8s_range(int *lo_minor, int *hi_minor) {
  int lo = 0, hi = 0;
  for (size_t i = 0; i < gp_tbl_components_count; i++) {
    int m = gp_tbl_components[i].minor;
    if (i == 0 || m < lo) lo = m;
    if (i == 0 || m > hi) hi = m;
  }
  *lo_minor = lo;
  *hi_minor = hi;
}

bool gp_catalog_k8s_supported(const gp_k8s_version *v) {
  int lo, hi;
  gp_catalog_k8s_range(&lo, &hi);
  return v->major == 1 && v->minor >= lo && v->minor <= hi;
}

/* Is one of the '|'-separated needles a case-insensitive substring of hay? */
static bool any_substring(const char *needles, const char *hay) {
  const char *p = needles;
  size_t hay_len = strlen(hay);
  while (*p) {
    const char *end = strchr(p, '|');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    for (size_t i = 0; n && i + n <= hay_len; i++)
      if (strncasecmp(hay + i, p, n) == 0) return true;
    if (!end) break;
    p = end + 1;
  }
  return false;
}

const gp_gpu_model *gp_catalog_gpu_model_by_name(const char *product_name) {
  if (!product_name) return NULL;
  for (size_t i = 0; i < gp_tbl_gpu_models_count; i++)
    if (any_substring(gp_tbl_gpu_models[i].names, product_name)) return &gp_tbl_gpu_models[i];
  return NULL;
}

const gp_gpu_model *gp_catalog_gpu_model_by_pci(unsigned pci_device_id) {
  for (size_t i = 0; i < gp_tbl_gpu_models_count; i++) {
    const char *p = gp_tbl_gpu_models[i].pci_ids;
    while (p && *p) {
      char *end;
      unsigned long v = strtoul(p, &end, 16);
      if (end == p) break;
      if (v == pci_device_id) return &gp_tbl_gpu_models[i];
      p = *end == '|' ? end + 1 : NULL;
    }
  }
  return NULL;
}

const gp_gpu_model *gp_catalog_gpu_model(const char *model) {
  if (!model) return NULL;
  for (size_t i = 0; i < gp_tbl_gpu_models_count; i++)
    if (strcasecmp(gp_tbl_gpu_models[i].model, model) == 0) return &gp_tbl_gpu_models[i];
  return NULL;
}

const char *gp_os_mask_list(unsigned mask, char *buf, size_t size) {
  static const struct {
    unsigned bit;
    const char *name;
  } names[] = {{GP_OS_FAMILY_UBUNTU, "Ubuntu"},
               {GP_OS_FAMILY_AZURELINUX, "AzureLinux"},
               {GP_OS_FAMILY_AZURELINUX3, "AzureLinux3"},
               {GP_OS_FAMILY_WINDOWS, "Windows"}};
  size_t used = 0;
  if (!size) return buf;
  buf[0] = '\0';
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (!(mask & names[i].bit)) continue;
    int n = snprintf(buf + used, size - used, "%s%s", used ? ", " : "", names[i].name);
    if (n < 0 || (size_t)n >= size - used) break;
    used += (size_t)n;
  }
  return buf;
}
