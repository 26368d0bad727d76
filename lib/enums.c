/* enums.c - canonical spellings of the model's enums and case-insensitive parsing. */
#include "gpupool/enums.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define NAMES(var, ...)                                                                                                \
  static const char *const var##_list[] = {NULL, __VA_ARGS__};                                                         \
  const gp_enum_names var = {var##_list, sizeof var##_list / sizeof var##_list[0]}

NAMES(gp_driver_names, "Install", "None");
NAMES(gp_driver_type_names, "GRID", "CUDA");
NAMES(gp_mgmt_mode_names, "Managed", "Unmanaged");
NAMES(gp_driver_mode_names, "DevicePlugin", "DRA");
NAMES(gp_mig_strategy_names, "None", "Single", "Mixed");
NAMES(gp_mig_profile_names, "MIG1g", "MIG2g", "MIG3g", "MIG4g", "MIG7g");
NAMES(gp_os_type_names, "Linux", "Windows");
NAMES(gp_os_sku_names, "Ubuntu", "Ubuntu2204", "Ubuntu2404", "AzureLinux", "AzureLinux3", "CBLMariner", "Windows2019",
      "Windows2022", "Windows2025", "WindowsAnnual");
NAMES(gp_pool_mode_names, "System", "User");
NAMES(gp_vendor_names, "NVIDIA", "AMD");
NAMES(gp_phase_names, "ga");
NAMES(gp_health_names, "Healthy", "Degraded", "Failed");
NAMES(gp_mig_mode_names, "Enabled", "Disabled");
NAMES(gp_severity_names, "error", "warning", "info");
NAMES(gp_health_class_names, "Application", "ResetRequired", "Fatal");
NAMES(gp_source_names, "declared", "default", "cluster", "kubernetes-version-default", "legacy-tag", "preview-default",
      "mig-default");

int gp_enum_parse(const gp_enum_names *t, const char *s) {
  if (!s) return 0;
  for (size_t i = 1; i < t->count; i++)
    if (strcasecmp(t->names[i], s) == 0) return (int)i;
  return 0;
}

const char *gp_enum_name(const gp_enum_names *t, int v) {
  if (v <= 0 || (size_t)v >= t->count) return NULL;
  return t->names[v];
}

const char *gp_enum_list(const gp_enum_names *t, char *buf, size_t size) {
  size_t used = 0;
  if (size == 0) return buf;
  buf[0] = '\0';
  for (size_t i = 1; i < t->count; i++) {
    const char *sep = i == 1 ? "" : (i + 1 == t->count ? " or " : ", ");
    int n = snprintf(buf + used, size - used, "%s'%s'", sep, t->names[i]);
    if (n < 0 || (size_t)n >= size - used) break;
    used += (size_t)n;
  }
  return buf;
}

unsigned gp_os_sku_family(gp_os_sku sku) {
  switch (sku) {
  case GP_OS_SKU_UBUNTU:
  case GP_OS_SKU_UBUNTU2204:
  case GP_OS_SKU_UBUNTU2404: return GP_OS_FAMILY_UBUNTU;
  case GP_OS_SKU_AZURELINUX:
  case GP_OS_SKU_CBLMARINER: return GP_OS_FAMILY_AZURELINUX;
  case GP_OS_SKU_AZURELINUX3: return GP_OS_FAMILY_AZURELINUX3;
  case GP_OS_SKU_WINDOWS2019:
  case GP_OS_SKU_WINDOWS2022:
  case GP_OS_SKU_WINDOWS2025:
  case GP_OS_SKU_WINDOWSANNUAL: return GP_OS_FAMILY_WINDOWS;
  case GP_OS_SKU_UNSET: break;
  }
  return 0;
}

gp_os_type gp_os_sku_type(gp_os_sku sku) {
  unsigned f = gp_os_sku_family(sku);
  if (!f) return GP_OS_TYPE_UNSET;
  return f == GP_OS_FAMILY_WINDOWS ? GP_OS_TYPE_WINDOWS : GP_OS_TYPE_LINUX;
}
