/* fuzz_nvsmi_xml.c - libFuzzer harness for the node agent's reader of `nvidia-smi -q -x` output
 * (agent/xml.c, libxml2 without entity expansion, DTD loading or network): whatever the file holds,
 * the inventory is read or refused with a message, and a read inventory renders as JSON. */
#include <stdint.h>
#include <stdlib.h>

#include "agent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ag_inventory inv;
  ag_err err;
  ag_inventory_init(&inv, "nvidia-smi-xml");
  if (ag_xml_parse((const char *)data, size, "fuzz.xml", &inv, &err)) {
    json_t *j = ag_inventory_to_json(&inv);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    free(s);
    json_decref(j);
  }
  ag_inventory_free(&inv);
  return 0;
}
