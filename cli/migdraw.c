/* migdraw.c - MIG layout pictures (see migdraw.h).
 *
 * A row is one GPU: 8 memory slices, each 8 columns wide ('|' and 7 characters), boxes spanning
 * the slices an instance occupies. Rows share their border lines; a '+' marks every place where a
 * box of the row above or below starts or ends. */
#include "migdraw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gpupool/catalog.h"
#include "gpupool/mig_layouts.h"

#define SLICES GP_MIG_MEMORY_SLICES
#define CELL 8   /* columns per memory slice, its left border included */
#define LABEL 14 /* columns of the row labels */

typedef enum { BOX_INSTANCE, BOX_FREE, BOX_UNUSED, BOX_NONE } box_kind;

typedef struct {
  box_kind kind;
  gp_mig_profile profile;
  int start, slices;
  char text[2][64]; /* the lines inside the box */
} box;

typedef struct {
  char label[2][LABEL + 1];
  box boxes[SLICES];
  size_t n;
  int lines; /* 1 or 2 lines of text */
} row;

/* SGR colours per profile (1g … 7g), for free slices, for the row labels of refused instances. */
static const char *profile_colour(gp_mig_profile p) {
  switch (p) {
  case GP_MIG_1G: return "36";
  case GP_MIG_2G: return "32";
  case GP_MIG_3G: return "33";
  case GP_MIG_4G: return "35";
  case GP_MIG_7G: return "34";
  default: return "0";
  }
}

static void put_text(FILE *f, const box *b, int line, bool color) {
  int width = b->slices * CELL - 1;
  const char *t = b->text[line];
  int len = (int)strlen(t);
  if (len > width) len = width;
  const char *sgr = NULL;
  if (color && len > 0) sgr = b->kind == BOX_INSTANCE ? (line == 0 ? profile_colour(b->profile) : "2") : "2";
  if (sgr) fprintf(f, "\033[%sm", sgr);
  fprintf(f, "%.*s", len, t);
  if (sgr) fputs("\033[0m", f);
  fprintf(f, "%*s", width - len, "");
}

/* bit i set: a box of r starts or ends at slice boundary i (0..8) */
static unsigned edges(const row *r) {
  unsigned e = 1u | (1u << SLICES);
  for (size_t i = 0; r && i < r->n; i++)
    e |= (1u << r->boxes[i].start) | (1u << (r->boxes[i].start + r->boxes[i].slices));
  return e;
}

static void border(FILE *f, const row *above, const row *below) {
  unsigned e = edges(above) | edges(below);
  fprintf(f, "%*s", LABEL, "");
  for (int i = 0; i <= SLICES * CELL; i++)
    fputc(i % CELL == 0 && (e & (1u << (i / CELL))) ? '+' : '-', f);
  fputc('\n', f);
}

static void header(FILE *f) {
  fprintf(f, "%*s", LABEL, "");
  for (int i = 0; i < SLICES; i++)
    fprintf(f, "    %d   ", i);
  fprintf(f, "  memory slice\n");
}

static void draw_rows(FILE *f, const row *rows, size_t n, bool color) {
  header(f);
  for (size_t r = 0; r < n; r++) {
    border(f, r ? &rows[r - 1] : NULL, &rows[r]);
    for (int line = 0; line < rows[r].lines; line++) {
      fprintf(f, "%-*s", LABEL, rows[r].label[line]);
      for (size_t i = 0; i < rows[r].n; i++) {
        fputc('|', f);
        put_text(f, &rows[r].boxes[i], line, color);
      }
      fputs("|\n", f);
    }
  }
  border(f, n ? &rows[n - 1] : NULL, NULL);
}

static const char *nvidia_name(const char *model, gp_mig_profile p) {
  const gp_mig_model_profile *mp = gp_catalog_mig_profile(model, p);
  return mp ? mp->nvidia_name : gp_enum_name(&gp_mig_profile_names, p);
}

static int profile_id(const char *model, gp_mig_profile p) {
  const gp_mig_model_profile *mp = gp_catalog_mig_profile(model, p);
  return mp ? mp->profile_id : -1;
}

/* Fills r with the instances of l (numbered #1.. in creation order) and the slices between them,
 * "free" while compute slices remain for them, "unused" otherwise. */
static void layout_row(row *r, const char *model, const gp_mig_layout *l) {
  int compute = 0;
  for (size_t i = 0; i < l->count; i++) {
    const gp_mig_geometry *g = gp_catalog_mig_geometry(l->inst[i].profile);
    compute += g ? g->compute_slices : 0;
  }
  r->n = 0;
  r->lines = 2;
  size_t k = 0;
  for (int s = 0; s < SLICES && r->n < SLICES;) {
    box *b = &r->boxes[r->n++];
    memset(b, 0, sizeof *b);
    b->start = s;
    if (k < l->count && l->inst[k].start == s) {
      const gp_mig_geometry *g = gp_catalog_mig_geometry(l->inst[k].profile);
      int id = profile_id(model, l->inst[k].profile), width;
      b->kind = BOX_INSTANCE;
      b->profile = l->inst[k].profile;
      b->slices = g ? g->memory_slices : 1;
      width = b->slices * CELL - 1;
      snprintf(b->text[0], sizeof b->text[0], "%s", nvidia_name(model, b->profile));
      k++;
      /* the longest second line that fits */
      snprintf(b->text[1], sizeof b->text[1], "#%zu id %d, %d compute slices", k, id, g ? g->compute_slices : 0);
      if ((int)strlen(b->text[1]) > width) snprintf(b->text[1], sizeof b->text[1], "#%zu id %d", k, id);
      if ((int)strlen(b->text[1]) > width) snprintf(b->text[1], sizeof b->text[1], "#%zu %d", k, id);
      s += b->slices;
    } else {
      int end = s;
      while (end < SLICES && !(k < l->count && l->inst[k].start == end))
        end++;
      b->kind = compute < GP_MIG_COMPUTE_SLICES ? BOX_FREE : BOX_UNUSED;
      b->slices = end - s;
      snprintf(b->text[0], sizeof b->text[0], "%s", b->kind == BOX_FREE ? "free" : "unused");
      s = end;
    }
  }
}

static void cgi_line(FILE *f, const char *model, const gp_mig_layout *l) {
  int compute = 0, memory = 0;
  fprintf(f, "#1..#%zu: the order nvidia-smi creates them in, by first memory slice: nvidia-smi mig -cgi ", l->count);
  for (size_t i = 0; i < l->count; i++) {
    const gp_mig_geometry *g = gp_catalog_mig_geometry(l->inst[i].profile);
    compute += g ? g->compute_slices : 0;
    memory += g ? g->memory_slices : 0;
    fprintf(f, "%s%d", i ? "," : "", profile_id(model, l->inst[i].profile));
  }
  fprintf(f,
          " -C\n(id: the GPU instance profile id of each). In use: %d of %d compute slices, %d of %d memory slices.\n",
          compute, GP_MIG_COMPUTE_SLICES, memory, SLICES);
}

static void draw_layout(FILE *f, const char *model, const gp_mig_layout *l, const char *gpus_label, bool color) {
  row r;
  memset(&r, 0, sizeof r);
  snprintf(r.label[0], sizeof r.label[0], "%s", gpus_label);
  layout_row(&r, model, l);
  draw_rows(f, &r, 1, color);
}

bool mig_draw_plan(FILE *f, const json_t *plan, bool color) {
  const json_t *ml = json_object_get(plan, "migLayout");
  const json_t *inst = json_object_get(ml, "instances");
  const char *model = json_string_value(json_object_get(json_object_get(plan, "gpu"), "model"));
  if (!model || json_array_size(inst) == 0 || json_array_size(inst) > GP_MIG_MAX_PER_GPU) return false;
  gp_mig_layout l = {0};
  size_t i;
  json_t *x;
  json_array_foreach(inst, i, x) {
    const gp_mig_model_profile *mp =
        gp_catalog_mig_profile_by_name(model, json_string_value(json_object_get(x, "profile")));
    json_int_t start = json_integer_value(json_object_get(x, "start"));
    if (!mp || start < 0 || start >= SLICES) return false;
    l.inst[l.count].profile = mp->profile;
    l.inst[l.count].start = (int)start;
    l.count++;
  }
  json_int_t gpus = json_integer_value(json_object_get(ml, "gpus"));
  if (gpus < 1) gpus = json_integer_value(json_object_get(json_object_get(plan, "gpu"), "count"));
  char label[32];
  if (gpus > 1)
    snprintf(label, sizeof label, "GPU 0-%lld", (long long)gpus - 1);
  else
    snprintf(label, sizeof label, "GPU 0");
  if (gpus > 1)
    fprintf(f, "MIG layout of each of the %lld %s GPUs (the same on all):\n", (long long)gpus, model);
  else
    fprintf(f, "MIG layout of the %s GPU:\n", model);
  draw_layout(f, model, &l, label, color);
  cgi_line(f, model, &l);
  return true;
}

/* "0-6", "0, 2 or 4", "0" */
static void starts_text(unsigned mask, char *out, size_t size) {
  int list[SLICES], n = 0;
  for (int s = 0; s < SLICES; s++)
    if (mask & (1u << s)) list[n++] = s;
  out[0] = '\0';
  bool run = n > 2;
  for (int i = 1; i < n; i++)
    run = run && list[i] == list[i - 1] + 1;
  if (run) {
    snprintf(out, size, "%d-%d", list[0], list[n - 1]);
    return;
  }
  size_t used = 0;
  for (int i = 0; i < n && used < size; i++)
    used += (size_t)snprintf(out + used, size - used, "%s%d", i == 0 ? "" : i == n - 1 ? " or " : ", ", list[i]);
}

/* Why p finds no room next to layout l (which holds what could be placed). */
static void why_not(FILE *f, const char *model, gp_mig_profile p, const gp_mig_layout *l) {
  const gp_mig_geometry *g = gp_catalog_mig_geometry(p);
  int compute = 0;
  unsigned used = 0;
  for (size_t i = 0; i < l->count; i++) {
    const gp_mig_geometry *gi = gp_catalog_mig_geometry(l->inst[i].profile);
    if (!gi) continue;
    compute += gi->compute_slices;
    used |= ((1u << gi->memory_slices) - 1u) << l->inst[i].start;
  }
  fprintf(f, "  x %s (%s) cannot be placed:", gp_enum_name(&gp_mig_profile_names, p), nvidia_name(model, p));
  if (!g) {
    fputs(" unknown profile.\n", f);
    return;
  }
  char starts[64];
  starts_text(g->start_mask, starts, sizeof starts);
  bool memory_room = false;
  for (int s = 0; s < SLICES; s++)
    if ((g->start_mask & (1u << s)) && s + g->memory_slices <= SLICES &&
        !(used & (((1u << g->memory_slices) - 1u) << s)))
      memory_room = true;
  if (!memory_room) {
    fprintf(f, " it needs %d free memory slice%s starting at slice %s, and the instances above hold them.",
            g->memory_slices, g->memory_slices > 1 ? "s" : "", starts);
    /* the surprise: some profiles hold more memory slices than compute slices */
    unsigned told = 0;
    for (size_t i = 0; i < l->count; i++) {
      const gp_mig_geometry *gi = gp_catalog_mig_geometry(l->inst[i].profile);
      if (!gi || gi->memory_slices == gi->compute_slices || (told & (1u << l->inst[i].profile))) continue;
      told |= 1u << l->inst[i].profile;
      fprintf(f, " A %s holds %d memory slices for its %d compute slices.", nvidia_name(model, l->inst[i].profile),
              gi->memory_slices, gi->compute_slices);
    }
  }
  if (compute + g->compute_slices > GP_MIG_COMPUTE_SLICES)
    fprintf(f, " It needs %d compute slice%s and %d of %d are left.", g->compute_slices,
            g->compute_slices > 1 ? "s" : "", GP_MIG_COMPUTE_SLICES - compute, GP_MIG_COMPUTE_SLICES);
  fputc('\n', f);
}

bool mig_draw_profiles(FILE *f, const char *gpu_model, const gp_mig_profile *profiles, size_t n, bool color) {
  gp_mig_layout l = {0};
  gp_mig_profile left[CLI_MIG_MAX_LIST];
  size_t first = n > GP_MIG_MAX_PER_GPU ? GP_MIG_MAX_PER_GPU : n;
  size_t nleft = gp_mig_place_most(profiles, first, &l, left);
  for (size_t i = first; i < n && nleft < CLI_MIG_MAX_LIST; i++) /* a GPU holds at most 7 */
    left[nleft++] = profiles[i];
  fprintf(f, "%s on one %s GPU:\n", nleft ? "The most of this layout that fits" : "This layout", gpu_model);
  draw_layout(f, gpu_model, &l, "GPU", color);
  if (nleft == 0) {
    cgi_line(f, gpu_model, &l);
    return true;
  }
  for (size_t i = 0; i < nleft; i++)
    why_not(f, gpu_model, left[i], &l);
  fprintf(f, "An instance occupies whole memory slices at fixed starts: adding up compute slices is not enough.\n"
             "'gpupool vm-size show' lists the layouts that can be placed.\n");
  return false;
}

void mig_draw_geometry(FILE *f, const char *gpu_model, bool color) {
  row rows[GP_MIG_PROFILE_COUNT];
  size_t n = 0;
  for (int p = GP_MIG_1G; p <= GP_MIG_7G; p++) {
    const gp_mig_geometry *g = gp_catalog_mig_geometry((gp_mig_profile)p);
    if (!g || !gp_catalog_mig_profile(gpu_model, (gp_mig_profile)p)) continue;
    row *r = &rows[n++];
    memset(r, 0, sizeof *r);
    r->lines = 1;
    snprintf(r->label[0], sizeof r->label[0], "%s id %d", gp_enum_name(&gp_mig_profile_names, p),
             profile_id(gpu_model, (gp_mig_profile)p));
    for (int s = 0; s < SLICES;) {
      box *b = &r->boxes[r->n++];
      b->start = s;
      if ((g->start_mask & (1u << s)) && s + g->memory_slices <= SLICES) {
        b->kind = BOX_INSTANCE;
        b->profile = (gp_mig_profile)p;
        b->slices = g->memory_slices;
        snprintf(b->text[0], sizeof b->text[0], "%s", nvidia_name(gpu_model, (gp_mig_profile)p));
      } else {
        int end = s + 1;
        while (end < SLICES && !(g->start_mask & (1u << end)))
          end++;
        b->kind = BOX_NONE;
        b->slices = end - s;
      }
      s += b->slices;
    }
  }
  draw_rows(f, rows, n, color);
}

bool mig_parse_list(const char *text, gp_mig_profile *out, size_t *n) {
  char buf[256];
  *n = 0;
  if (strlen(text) >= sizeof buf) return false;
  snprintf(buf, sizeof buf, "%s", text);
  for (char *save = NULL, *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
    int p = gp_enum_parse(&gp_mig_profile_names, t);
    if (p <= 0 || *n >= CLI_MIG_MAX_LIST) return false;
    out[(*n)++] = (gp_mig_profile)p;
  }
  return *n > 0;
}
