/* visible.h - the page of a list that the caller may read: a list returns only the clusters or
 * pools the caller's role assignments cover (authz.h), also at subscription scope. A page skips
 * what the caller may not see and reads on, so it still holds up to $top items; the nextLink
 * continues after the last row looked at. */
#ifndef GPUPOOLD_VISIBLE_H
#define GPUPOOLD_VISIBLE_H

#include "request.h"
#include "store/store.h"

typedef struct {
  gpd_resource *rows; /* at most top, in key order */
  size_t n;
  bool more;      /* rows follow last_key (nextLink) */
  char *last_key; /* where the next page starts; NULL unless more */
} gpd_visible_page;

/* Rows of kind whose key starts with prefix, after `after` (NULL: from the start). False with 503
 * (store) or 500 (memory) in resp. */
bool gpd_list_visible(const gpd_request *r, gpd_res_kind kind, const char *prefix, const char *after, size_t top,
                      gpd_visible_page *page, gpd_response *resp);
void gpd_visible_page_free(gpd_visible_page *page);

#endif
