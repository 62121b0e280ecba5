// Joins stored CSV datasets into one new blob on the head (AssembleDatasetRequest,
// docs/artifacts.md, "Assembling a dataset"): the first part whole, then each other part without
// its first line, which must equal the first part's (the header, kept once). Every part must
// start with a header line and end with a newline, so no row of one part runs into the next.
// The bytes are read checked block by block (blob_store::read) and hashed as they are written;
// memory stays bounded by one read piece whatever the sizes.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "cluster/artifacts/blob_store.hpp"

namespace troupe::artifacts {

struct assembly_part {
  std::string label;  // how errors name it, e.g. "parts[1] (J/part-1)"
  std::string digest;
  uint64_t size = 0;
};

struct assembled_blob {
  std::string digest;
  uint64_t size = 0;
};

// Writes the parts, in order, into a new blob of `blobs` (its upload files named after
// `upload_id`) and publishes it; invalid_request naming the part when one is not such a CSV, or
// when the result would pass `max_bytes`; nothing is published then.
std::variant<assembled_blob, msg::error> assemble_csv(const blob_store& blobs,
                                                      const std::vector<assembly_part>& parts,
                                                      const std::string& upload_id,
                                                      uint64_t max_bytes);

}  // namespace troupe::artifacts
