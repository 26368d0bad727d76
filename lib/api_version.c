/* api_version.c - the supported Microsoft.ContainerService api-versions (SPEC §2). */
#include "gpupool/api_version.h"

#include <stddef.h>
#include <string.h>

static const struct {
  const char *version;
  gp_api_group group;
} versions[] = {
    {"2022-11-01", GP_API_OLD_STABLE},      {"2025-10-01", GP_API_STABLE}, {"2026-01-01", GP_API_STABLE},
    {"2026-02-01", GP_API_STABLE},          {"2026-03-01", GP_API_STABLE}, {"2026-04-01", GP_API_STABLE},
    {"2026-05-01", GP_API_STABLE},          {"2026-06-01", GP_API_STABLE}, {"2026-07-01", GP_API_STABLE},
    {"2026-08-01", GP_API_STABLE},          {"2026-10-01", GP_API_STABLE}, {"2026-08-02-preview", GP_API_PREVIEW},
    {"2026-10-02-preview", GP_API_PREVIEW},
};

gp_api_group gp_api_version_group(const char *version) {
  if (!version) return GP_API_UNKNOWN;
  for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++)
    if (strcmp(versions[i].version, version) == 0) return versions[i].group;
  return GP_API_UNKNOWN;
}

const char *gp_api_versions_supported(void) {
  return "2022-11-01, 2025-10-01, 2026-01-01, 2026-02-01, 2026-03-01, 2026-04-01, 2026-05-01, 2026-06-01, "
         "2026-07-01, 2026-08-01, 2026-10-01, 2026-08-02-preview, 2026-10-02-preview";
}

const char *gp_api_versions_preview(void) { return "2026-08-02-preview, 2026-10-02-preview"; }

const char *gp_api_version_latest(gp_api_group g) {
  const char *best = NULL;
  for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++)
    if (versions[i].group == g) best = versions[i].version; /* the table is in date order per group */
  return best;
}
