/* enums.h - the enumerations of the gpupool API model (SPEC §3) and their spellings.
 *
 * Every enum has an UNSET value 0 meaning "not declared". Parsing is case-insensitive; names are
 * the canonical spellings that output always uses. */
#ifndef GPUPOOL_ENUMS_H
#define GPUPOOL_ENUMS_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { GP_VENDOR_NONE = 0, GP_VENDOR_NVIDIA, GP_VENDOR_AMD } gp_vendor;

typedef enum { GP_DRIVER_UNSET = 0, GP_DRIVER_INSTALL, GP_DRIVER_NONE } gp_driver;

typedef enum { GP_DRIVER_TYPE_UNSET = 0, GP_DRIVER_TYPE_GRID, GP_DRIVER_TYPE_CUDA } gp_driver_type;

/* gpuProfile.nvidia.managementMode (not to be confused with the pool's System/User gp_pool_mode). */
typedef enum { GP_MGMT_UNSET = 0, GP_MGMT_MANAGED, GP_MGMT_UNMANAGED } gp_mgmt_mode;

typedef enum { GP_DRIVER_MODE_UNSET = 0, GP_DRIVER_MODE_DEVICE_PLUGIN, GP_DRIVER_MODE_DRA } gp_driver_mode;

typedef enum {
  GP_MIG_STRATEGY_UNSET = 0,
  GP_MIG_STRATEGY_NONE,
  GP_MIG_STRATEGY_SINGLE,
  GP_MIG_STRATEGY_MIXED
} gp_mig_strategy;

/* The AKS MIG profile names, in increasing size. */
typedef enum { GP_MIG_UNSET = 0, GP_MIG_1G, GP_MIG_2G, GP_MIG_3G, GP_MIG_4G, GP_MIG_7G } gp_mig_profile;
#define GP_MIG_PROFILE_COUNT 5

typedef enum { GP_OS_TYPE_UNSET = 0, GP_OS_TYPE_LINUX, GP_OS_TYPE_WINDOWS } gp_os_type;

/* OS SKUs as AKS spells them. Each maps onto one catalog OS family (gp_os_family). */
typedef enum {
  GP_OS_SKU_UNSET = 0,
  GP_OS_SKU_UBUNTU,
  GP_OS_SKU_UBUNTU2204,
  GP_OS_SKU_UBUNTU2404,
  GP_OS_SKU_AZURELINUX,
  GP_OS_SKU_AZURELINUX3,
  GP_OS_SKU_CBLMARINER,
  GP_OS_SKU_WINDOWS2019,
  GP_OS_SKU_WINDOWS2022,
  GP_OS_SKU_WINDOWS2025,
  GP_OS_SKU_WINDOWSANNUAL
} gp_os_sku;

/* Catalog OS families (the `os` column of data/gpu-vm-sizes.csv), as bits of a mask. */
typedef enum {
  GP_OS_FAMILY_UBUNTU = 1u << 0,
  GP_OS_FAMILY_AZURELINUX = 1u << 1,
  GP_OS_FAMILY_AZURELINUX3 = 1u << 2,
  GP_OS_FAMILY_WINDOWS = 1u << 3
} gp_os_family;

typedef enum { GP_POOL_MODE_UNSET = 0, GP_POOL_MODE_SYSTEM, GP_POOL_MODE_USER } gp_pool_mode;

typedef enum { GP_PHASE_PREVIEW = 0, GP_PHASE_GA } gp_phase;

/* Where an effective value came from (plan `effective.sources`). */
typedef enum {
  GP_SRC_NONE = 0,
  GP_SRC_DECLARED,
  GP_SRC_DEFAULT,
  GP_SRC_CLUSTER,
  GP_SRC_K8S_VERSION_DEFAULT,
  GP_SRC_LEGACY_TAG,
  GP_SRC_PREVIEW_DEFAULT,
  GP_SRC_MIG_DEFAULT
} gp_source;

/* A table of spellings for one enum: names[v] is the canonical name of value v (names[0] unused). */
typedef struct {
  const char *const *names;
  size_t count; /* number of entries in names, including index 0 */
} gp_enum_names;

/* GPU and node health (health.h decides it, machine reports carry it); the order is severity. */
typedef enum { GP_HEALTH_UNSET = 0, GP_HEALTH_HEALTHY, GP_HEALTH_DEGRADED, GP_HEALTH_FAILED } gp_health;
/* What a health event asks for (health.h, from NVIDIA's Xid catalog); the order is severity. */
typedef enum {
  GP_HEALTH_CLASS_UNSET = 0,
  GP_HEALTH_CLASS_APPLICATION,    /* the application's fault: recorded, GPU health unchanged */
  GP_HEALTH_CLASS_RESET_REQUIRED, /* GPU Degraded until it is reset (or the node reboots) */
  GP_HEALTH_CLASS_FATAL           /* GPU Failed until the node reboots */
} gp_health_class;
/* Machine reports (machine.h): MIG mode, finding severity. */
typedef enum { GP_SEVERITY_UNSET = 0, GP_SEVERITY_ERROR, GP_SEVERITY_WARNING, GP_SEVERITY_INFO } gp_severity;

extern const gp_enum_names gp_health_names, gp_mig_mode_names, gp_severity_names, gp_health_class_names;
extern const gp_enum_names gp_driver_names, gp_driver_type_names, gp_mgmt_mode_names, gp_driver_mode_names,
    gp_mig_strategy_names, gp_mig_profile_names, gp_os_type_names, gp_os_sku_names, gp_pool_mode_names, gp_vendor_names,
    gp_phase_names, gp_source_names;

/* Case-insensitive lookup; returns the value (>0) or 0 when s is not one of the names. */
int gp_enum_parse(const gp_enum_names *t, const char *s);
/* Canonical name of v, or NULL for 0/out of range. */
const char *gp_enum_name(const gp_enum_names *t, int v);
/* "A, B or C" list of the allowed names, for error messages. Writes into buf (always terminated). */
const char *gp_enum_list(const gp_enum_names *t, char *buf, size_t size);

/* Catalog OS family of an OS SKU (0 for UNSET). */
unsigned gp_os_sku_family(gp_os_sku sku);
gp_os_type gp_os_sku_type(gp_os_sku sku);

#endif
