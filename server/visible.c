/* visible.c - list pages filtered by what the caller may read (see visible.h). When the caller may
 * read the whole list (or --auth none) it is one store read of top+1 rows, as before; otherwise
 * batches are read until the page is full, the store has no more, or SCAN_MAX rows were looked at
 * (then the page may be short and its nextLink goes on from there). */
#include "visible.h"

#include <stdlib.h>
#include <string.h>

#include "security/authz.h"

#define SCAN_MAX 10000
#define BATCH 200

void gpd_visible_page_free(gpd_visible_page *page) {
  gpd_resources_free(page->rows, page->n);
  free(page->last_key);
  memset(page, 0, sizeof *page);
}

bool gpd_list_visible(const gpd_request *r, gpd_res_kind kind, const char *prefix, const char *after, size_t top,
                      gpd_visible_page *page, gpd_response *resp) {
  gpd_store *s = r->srv->store;
  gpd_resource *batch = NULL;
  size_t nb = 0;
  memset(page, 0, sizeof *page);
  if (gpd_authz_reads_all(r)) {
    if (s->ops->list_resources(s, kind, prefix, after, top + 1, &batch, &nb) != GPD_STORE_OK) {
      gpd_resp_store_error(resp);
      return false;
    }
    page->rows = batch;
    page->n = nb;
    if (nb > top) {
      for (size_t i = top; i < nb; i++)
        gpd_resource_clear(&batch[i]);
      page->n = top;
      page->more = true;
      if (top && !(page->last_key = strdup(batch[top - 1].key))) goto oom;
    }
    return true;
  }
  char *cursor = after ? strdup(after) : NULL;
  size_t want = top + 1 < BATCH ? BATCH : top + 1; /* rows per store read */
  size_t scanned = 0;
  if ((after && !cursor) || !(page->rows = calloc(top ? top : 1, sizeof *page->rows))) goto oom_cursor;
  for (;;) {
    if (s->ops->list_resources(s, kind, prefix, cursor, want, &batch, &nb) != GPD_STORE_OK) {
      free(cursor);
      gpd_visible_page_free(page);
      gpd_resp_store_error(resp);
      return false;
    }
    /* where the next batch starts, taken before rows move to the page */
    char *next = nb == want ? strdup(batch[nb - 1].key) : NULL;
    if (nb == want && !next) {
      gpd_resources_free(batch, nb);
      goto oom_cursor;
    }
    const char *stop_at = NULL;
    for (size_t i = 0; i < nb && !stop_at; i++) {
      if (page->n == top) { /* full, and a row follows */
        page->more = true;
        stop_at = page->rows[page->n - 1].key;
        break;
      }
      scanned++;
      if (gpd_authz_visible(r, batch[i].id)) {
        page->rows[page->n++] = batch[i];
        memset(&batch[i], 0, sizeof batch[i]);
      }
      if (scanned >= SCAN_MAX && (i + 1 < nb || nb == want)) {
        page->more = true;
        stop_at = page->n && !batch[i].key ? page->rows[page->n - 1].key : batch[i].key;
      }
    }
    if (stop_at) {
      page->last_key = strdup(stop_at);
      gpd_resources_free(batch, nb);
      free(cursor);
      free(next);
      if (!page->last_key) goto oom;
      return true;
    }
    gpd_resources_free(batch, nb);
    batch = NULL;
    nb = 0;
    free(cursor);
    cursor = next;
    if (!cursor) break; /* the store has no more */
  }
  gpd_resources_free(batch, nb);
  free(cursor);
  return true;
oom_cursor:
  free(cursor);
oom:
  gpd_visible_page_free(page);
  gpd_resp_oom(resp);
  return false;
}
