/* names.c - ARM/AKS name rules (see names.h). */
#include "gpupool/names.h"

#include <ctype.h>
#include <string.h>

bool gp_name_valid_pool(const char *s) {
  size_t n = s ? strlen(s) : 0;
  if (n < 1 || n > 12 || s[0] < 'a' || s[0] > 'z') return false;
  for (size_t i = 1; i < n; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9'))) return false;
  return true;
}

static bool alnum_ascii(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

bool gp_name_valid_cluster(const char *s) {
  size_t n = s ? strlen(s) : 0;
  if (n < 1 || n > 63 || !alnum_ascii(s[0]) || !alnum_ascii(s[n - 1])) return false;
  for (size_t i = 1; i + 1 < n; i++)
    if (!alnum_ascii(s[i]) && s[i] != '-' && s[i] != '_') return false;
  return true;
}

bool gp_name_valid_resource_group(const char *s) {
  size_t n = s ? strlen(s) : 0;
  if (n < 1 || n > 90 || s[n - 1] == '.') return false;
  for (size_t i = 0; i < n; i++)
    if (!alnum_ascii(s[i]) && !strchr("_-.()", s[i])) return false;
  return true;
}

bool gp_name_valid_machine(const char *s) {
  size_t n = s ? strlen(s) : 0;
  if (n < 1 || n > 63) return false;
  for (size_t i = 0; i < n; i++) {
    bool alnum = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9');
    if (!alnum && (s[i] != '-' || i == 0 || i + 1 == n)) return false;
  }
  return true;
}

bool gp_name_valid_subscription(const char *s) {
  static const int groups[] = {8, 4, 4, 4, 12};
  if (!s) return false;
  for (size_t g = 0; g < 5; g++) {
    for (int i = 0; i < groups[g]; i++, s++)
      if (!isxdigit((unsigned char)*s)) return false;
    if (g < 4 && *s++ != '-') return false;
  }
  return *s == '\0';
}
