/* view_cache.h - a bounded cache of rendered agent pool views (the GET body per api group).
 *
 * Rendering a pool (parse the stored document, gp_pool_from_store, gp_pool_to_json, dump) is most
 * of the cost of a GET. An entry is used only when the row just read from the store still has the
 * etag and provisioningState the view was rendered from, so the store stays the one source of truth
 * (replicas on a shared store never serve a stale view). A fixed number of slots, a colliding
 * entry replacing an old one, so memory stays bounded whatever the number of pools. */
#ifndef GPUPOOLD_VIEW_CACHE_H
#define GPUPOOLD_VIEW_CACHE_H

#include <stddef.h>

typedef struct gpd_view_cache gpd_view_cache;

gpd_view_cache *gpd_view_cache_new(size_t slots);
void gpd_view_cache_free(gpd_view_cache *c);
/* A malloc'd copy of the view of (key, api) rendered from row version (etag, state), or NULL. */
char *gpd_view_cache_get(gpd_view_cache *c, const char *key, int api, const char *etag, const char *state, size_t *len);
void gpd_view_cache_put(gpd_view_cache *c, const char *key, int api, const char *etag, const char *state,
                        const char *text, size_t len);

#endif
