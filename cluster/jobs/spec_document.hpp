// A job spec's text read into a plain tree, before any field is interpreted. YAML is read with
// yaml-cpp; JSON (which is YAML) is read directly, to the same tree, because the head reads every
// stored spec back. The tree keeps what field checks need: whether a scalar was quoted, the
// original text of numbers, and mapping entries in document order. Refused with a spec_error
// that names where: text that is not YAML, more than one document, duplicate keys, keys that are
// not text, aliases, tags other than !!str, scalars that are not UTF-8 or hold a NUL byte, and
// nesting deeper than max_spec_depth.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace troupe::jobs {

inline constexpr size_t max_spec_depth = 32;

struct spec_node {
  enum class form { null, plain, quoted, sequence, mapping };
  form shape = form::null;
  std::string text;                                        // plain and quoted scalars
  std::vector<spec_node> items;                            // sequence
  std::vector<std::pair<std::string, spec_node>> entries;  // mapping: unique keys, in order
};

// The document's root; form::null for an empty document.
spec_node read_spec_document(std::string_view text);

// The path of a mapping's entry or a sequence's item under `parent` ("" for the root).
std::string child_path(const std::string& parent, std::string_view key);
std::string item_path(const std::string& parent, size_t index);

}  // namespace troupe::jobs
