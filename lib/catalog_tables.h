/* catalog_tables.h - internal: the tables tools/gen-catalog.awk generates from data/ (CSV files). */
#ifndef GPUPOOL_CATALOG_TABLES_H
#define GPUPOOL_CATALOG_TABLES_H

#include "gpupool/catalog.h"
#include "gpupool/health.h"

extern const gp_vm_size gp_tbl_vm_sizes[];
extern const size_t gp_tbl_vm_sizes_count;
extern const gp_mig_model_profile gp_tbl_mig_profiles[];
extern const size_t gp_tbl_mig_profiles_count;
extern const gp_mig_geometry gp_tbl_mig_geometry[];
extern const size_t gp_tbl_mig_geometry_count;
extern const gp_driver_family gp_tbl_driver_families[];
extern const size_t gp_tbl_driver_families_count;
extern const gp_component_version gp_tbl_components[];
extern const size_t gp_tbl_components_count;
extern const gp_gpu_model gp_tbl_gpu_models[];
extern const size_t gp_tbl_gpu_models_count;
extern const gp_xid_info gp_tbl_xids[];
extern const size_t gp_tbl_xids_count;

#endif
