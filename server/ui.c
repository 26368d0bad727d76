/* ui.c - the web console: its static files (embedded at build time, ui_assets.h) under /ui/, and
 * "/" sending a browser there. The console is a client of the public ARM API like any other; these
 * routes serve files only, hold no data and need no token (the browser cannot send one for a
 * <script src>), so the security guard leaves them open, as it does /healthz.
 *
 * Every file goes out with a strict Content-Security-Policy (scripts, styles and connections from
 * this origin only, no inline script or style, Trusted Types required so that no string can become
 * markup, no framing), nosniff, its exact Content-Type, and an ETag from its content so a reload
 * costs 304s. `--no-ui` turns all of it off (404, as for any unknown path). */
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "ui_assets.h"

static const char csp[] = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                          "connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; "
                          "frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types 'none'";

static const struct {
  const char *ext, *type;
} types[] = {{".html", "text/html; charset=utf-8"},
             {".js", "text/javascript; charset=utf-8"},
             {".css", "text/css; charset=utf-8"},
             {".svg", "image/svg+xml"},
             {".png", "image/png"},
             {".json", "application/json; charset=utf-8"},
             {".txt", "text/plain; charset=utf-8"}};

static const char *type_of(const char *name) {
  const char *dot = strrchr(name, '.');
  for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
    if (strcmp(dot, types[i].ext) == 0) return types[i].type;
  return "application/octet-stream";
}

static void not_found(gpd_request *r, gpd_response *resp) {
  if (!r->srv->cfg.ui)
    gpd_resp_error(resp, 404, "NotFound", NULL,
                   "No resource matches the path '%.200s': the web console is turned off (gpupoold --no-ui).", r->path);
  else
    gpd_resp_error(resp, 404, "NotFound", NULL, "The web console has no file '%.200s'; it starts at /ui/.", r->path);
}

static void redirect(gpd_response *resp, int status, const char *to) {
  gpd_resp_empty(resp, status);
  gpd_resp_header(resp, "Location", "%s", to);
  gpd_resp_header(resp, "Content-Type", "text/plain; charset=utf-8");
}

static const gpd_ui_asset *find_asset(const char *name) {
  for (size_t i = 0; i < gpd_ui_asset_count; i++)
    if (strcmp(gpd_ui_assets[i].name, name) == 0) return &gpd_ui_assets[i];
  return NULL;
}

/* Does If-None-Match (a list, or *) name this ETag? */
static bool etag_matches(const char *inm, const char *etag) {
  size_t n = strlen(etag);
  if (!inm) return false;
  for (const char *p = inm; *p;) {
    p += strspn(p, " \t,");
    if (*p == '*') return true;
    if (strncmp(p, "W/", 2) == 0) p += 2;
    if (strncmp(p, etag, n) == 0 && (p[n] == '\0' || p[n] == ',' || p[n] == ' ' || p[n] == '\t')) return true;
    p += strcspn(p, ",");
  }
  return false;
}

void gpd_ui_root(gpd_request *r, gpd_response *resp) {
  if (!r->srv->cfg.ui) {
    gpd_resp_error(resp, 404, "NotFound", NULL,
                   "No resource type of gpupoold matches the path '/'. Resource paths start with "
                   "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/"
                   "Microsoft.ContainerService/managedClusters.");
    return;
  }
  redirect(resp, 302, "/ui/");
}

void gpd_ui_get(gpd_request *r, gpd_response *resp) {
  const char *name = r->nseg > 1 ? r->seg[1] : "index.html";
  if (!r->srv->cfg.ui) {
    not_found(r, resp);
    return;
  }
  if (r->nseg == 1 && r->path[strlen(r->path) - 1] != '/') { /* /ui: relative links need /ui/ */
    redirect(resp, 301, "/ui/");
    return;
  }
  const gpd_ui_asset *a = find_asset(name);
  if (!a) {
    not_found(r, resp);
    return;
  }
  if (etag_matches(gpd_req_header(r, "If-None-Match"), a->etag)) {
    gpd_resp_empty(resp, 304);
  } else {
    char *copy = malloc(a->len ? a->len : 1);
    if (copy) memcpy(copy, a->data, a->len);
    gpd_resp_text(resp, 200, copy, a->len);
    if (!copy) return;
  }
  gpd_resp_header(resp, "Content-Type", "%s", type_of(a->name));
  gpd_resp_header(resp, "ETag", "%s", a->etag);
  gpd_resp_header(resp, "Cache-Control", "no-cache");
  gpd_resp_header(resp, "Content-Security-Policy", "%s", csp);
  gpd_resp_header(resp, "X-Frame-Options", "DENY");
  gpd_resp_header(resp, "X-Content-Type-Options", "nosniff");
  gpd_resp_header(resp, "Referrer-Policy", "no-referrer");
  gpd_resp_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
  gpd_resp_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
}
