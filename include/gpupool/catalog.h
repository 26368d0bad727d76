/* catalog.h - the GPU VM catalog: sizes, GPU models, MIG geometry, driver families and component
 * versions. The tables are generated at build time from the CSV files under data/. */
#ifndef GPUPOOL_CATALOG_H
#define GPUPOOL_CATALOG_H

#include <stdbool.h>
#include <stddef.h>

#include "gpupool/enums.h"
#include "gpupool/k8s_version.h"

typedef struct {
  const char *name; /* canonical casing, e.g. Standard_ND96isr_H100_v5 */
  gp_vendor vendor;
  const char *gpu_model;     /* e.g. H100-80GB */
  int gpus;                  /* GPU devices the VM sees */
  const char *fraction;      /* share of a physical GPU ("1", "1/6", "" when uncertain) */
  const char *driver_family; /* cuda-lts | cuda | grid | grid-v20 | amd */
  bool mig;
  bool fabric_manager;
  unsigned os_mask; /* gp_os_family bits */
  const char *note;
} gp_vm_size;

typedef struct {
  const char *gpu_model;
  gp_mig_profile profile;
  const char *nvidia_name; /* 1g.10gb */
  int profile_id;          /* 19 */
} gp_mig_model_profile;

typedef struct {
  gp_mig_profile profile;
  int compute_slices;
  int memory_slices;
  unsigned start_mask; /* bit i set: may start at memory slice i */
  int max_instances;
} gp_mig_geometry;

typedef struct {
  const char *family, *version, *image;
} gp_driver_family;

typedef struct {
  int minor; /* Kubernetes 1.<minor> */
  const char *component, *version, *binary, *image;
} gp_component_version;

typedef struct {
  const char *model;
  gp_vendor vendor;
  const char *names;   /* '|'-separated substrings of the product name */
  const char *pci_ids; /* '|'-separated 0xDDDDVVVV */
  int memory_mib;
} gp_gpu_model;

/* Case-insensitive lookup; NULL for sizes not in the catalog (CPU-only sizes). */
const gp_vm_size *gp_catalog_vm_size(const char *name);
size_t gp_catalog_vm_size_count(void);
const gp_vm_size *gp_catalog_vm_size_at(size_t i);

/* Is name an Azure N-series size ("Standard_N…", the GPU families)? One the catalog does not know is
 * refused (VMSizeNotInGPUCatalog) rather than taken for a CPU size. */
bool gp_catalog_is_n_series(const char *name);
/* The known sizes closest to name (edit distance, case ignored), nearest first: those within 2 of the
 * nearest, at most max. Returns how many were written to out. */
size_t gp_catalog_vm_size_suggest(const char *name, const gp_vm_size **out, size_t max);
/* A size that can do what is asked, for "choose a size such as …" in messages: the given vendor
 * (GP_VENDOR_NONE: any GPU), MIG-capable when mig, supporting one of the OS families of os_mask
 * (0: any); among those, one with `gpus` GPUs when there is one (0: any count), a confirmed catalog
 * row before an uncertain one, then catalog order. NULL when no size qualifies. */
const gp_vm_size *gp_catalog_vm_size_for(gp_vendor vendor, bool mig, unsigned os_mask, int gpus);

/* MIG profile of a GPU model, NULL when the model has no such profile. */
const gp_mig_model_profile *gp_catalog_mig_profile(const char *gpu_model, gp_mig_profile p);
/* Reverse lookup by the per-GPU profile name ("1g.10gb") or id; NULL if unknown. */
const gp_mig_model_profile *gp_catalog_mig_profile_by_name(const char *gpu_model, const char *nvidia_name);
const gp_mig_geometry *gp_catalog_mig_geometry(gp_mig_profile p);

const gp_driver_family *gp_catalog_driver_family(const char *family);

/* Component version for a Kubernetes minor; NULL when the minor or component is unknown. */
const gp_component_version *gp_catalog_component(int k8s_minor, const char *component);
/* Supported Kubernetes minors (1.<lo> .. 1.<hi>), from data/components.csv. */
void gp_catalog_k8s_range(int *lo_minor, int *hi_minor);
bool gp_catalog_k8s_supported(const gp_k8s_version *v);

/* GPU model by product name (case-insensitive substring rules) or PCI id; NULL if unknown. */
const gp_gpu_model *gp_catalog_gpu_model_by_name(const char *product_name);
const gp_gpu_model *gp_catalog_gpu_model_by_pci(unsigned pci_device_id);
const gp_gpu_model *gp_catalog_gpu_model(const char *model);

/* Human list of the OS SKUs of a mask ("Ubuntu, AzureLinux3"). */
const char *gp_os_mask_list(unsigned mask, char *buf, size_t size);

#endif
