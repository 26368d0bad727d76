/* api_version.h - the api-versions gpupool speaks and which GPU fields each one shows (SPEC §2). */
#ifndef GPUPOOL_API_VERSION_H
#define GPUPOOL_API_VERSION_H

typedef enum {
  GP_API_UNKNOWN = 0,
  GP_API_OLD_STABLE, /* 2022-11-01: gpuInstanceProfile only */
  GP_API_STABLE,     /* + gpuProfile.driver */
  GP_API_PREVIEW     /* + driverType, gpuProfile.nvidia.*, cluster gpuProfile */
} gp_api_group;

/* Group of a Microsoft.ContainerService api-version (exact match), GP_API_UNKNOWN otherwise. */
gp_api_group gp_api_version_group(const char *version);
/* All supported Microsoft.ContainerService api-versions, comma separated (for error messages). */
const char *gp_api_versions_supported(void);
/* The preview api-versions, comma separated (resource types only they know: machines). */
const char *gp_api_versions_preview(void);
/* The newest version of a group (e.g. the default of the offline CLI). */
const char *gp_api_version_latest(gp_api_group g);

#define GP_FEATURES_API_VERSION "2021-07-01"

#endif
