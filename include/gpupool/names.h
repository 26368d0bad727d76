/* names.h - ARM/AKS name rules: agent pools, machines, managed clusters, resource groups,
 * subscriptions. */
#ifndef GPUPOOL_NAMES_H
#define GPUPOOL_NAMES_H

#include <stdbool.h>

/* ^[a-z][a-z0-9]{0,11}$ */
bool gp_name_valid_pool(const char *s);
/* ^[a-zA-Z0-9]$|^[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]$ */
bool gp_name_valid_cluster(const char *s);
/* ARM resource group: 1-90 of letters, digits, '_', '-', '.', '(', ')'; not ending in '.' */
bool gp_name_valid_resource_group(const char *s);
/* A machine (Kubernetes node) name: an RFC 1123 label, 1-63 lowercase letters, digits and '-',
 * starting and ending with a letter or digit. Callers lowercase it first: names match
 * case-insensitively. */
bool gp_name_valid_machine(const char *s);
/* A GUID: 8-4-4-4-12 hex digits. */
bool gp_name_valid_subscription(const char *s);

#endif
