/* ui_assets.h - the web console's files (ui/), embedded into gpupoold at build time by
 * tools/gen-ui-assets.sh: one entry per file, with a hash of its content for the ETag. */
#ifndef GPUPOOLD_UI_ASSETS_H
#define GPUPOOLD_UI_ASSETS_H

#include <stddef.h>

typedef struct {
  const char *name; /* the file name under ui/, e.g. "app.js" */
  const unsigned char *data;
  size_t len;
  const char *etag; /* quoted, e.g. "\"3f2a…\"" */
} gpd_ui_asset;

extern const gpd_ui_asset gpd_ui_assets[];
extern const size_t gpd_ui_asset_count;

#endif
