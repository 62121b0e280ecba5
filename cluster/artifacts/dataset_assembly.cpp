#include "cluster/artifacts/dataset_assembly.hpp"

#include "messages/safe_text.hpp"

namespace troupe::artifacts {
namespace {

// The bytes read at once: whole blocks, so that no block is checked twice. A header line must
// fit in a part's first piece.
constexpr uint64_t piece_bytes = 16 * block_bytes;
constexpr size_t shown_header = 80;

msg::error invalid(std::string why) { return {msg::error_code::invalid_request, std::move(why)}; }

std::string shown(std::string_view line) {
  const bool cut = line.size() > shown_header;
  return msg::printable(std::string(line.substr(0, shown_header))) + (cut ? "..." : "");
}

}  // namespace

std::variant<assembled_blob, msg::error> assemble_csv(const blob_store& blobs,
                                                      const std::vector<assembly_part>& parts,
                                                      const std::string& upload_id,
                                                      uint64_t max_bytes) {
  auto upload = blobs.begin(upload_id);
  std::string header;
  for (size_t i = 0; i < parts.size(); ++i) {
    const auto& part = parts[i];
    for (uint64_t offset = 0; offset < part.size || offset == 0; offset += piece_bytes) {
      auto read = blobs.read(part.digest, part.size, offset, piece_bytes);
      if (auto* e = std::get_if<msg::error>(&read)) return *e;
      std::string_view bytes = std::get<std::string>(read);
      if (offset == 0) {
        const auto end = bytes.find('\n');
        if (end == std::string_view::npos)
          return invalid(part.label + ": " +
                         (part.size <= piece_bytes ? "no header line (a CSV part starts with "
                                                     "its header, ending in a newline)"
                                                   : "its first line is longer than " +
                                                         std::to_string(piece_bytes) + " bytes"));
        const auto line = bytes.substr(0, end + 1);
        if (i == 0) {
          header = line;
        } else {
          if (line != header)
            return invalid(part.label + ": its header line `" + shown(line) +
                           "` is not the first part's `" + shown(header) + "`");
          bytes.remove_prefix(line.size());
        }
      }
      if (offset + piece_bytes >= part.size && !bytes.empty() && bytes.back() != '\n')
        return invalid(part.label +
                       ": does not end with a newline (its last row would run "
                       "into the next part's first)");
      if (upload->received() + bytes.size() > max_bytes)
        return invalid("the assembled dataset would pass the head's limit of " +
                       std::to_string(max_bytes) + " bytes (artifact_max_bytes)");
      if (auto e = upload->append(bytes)) return *e;
    }
  }
  const auto size = upload->received();
  auto committed = upload->commit_as_written();
  if (auto* e = std::get_if<msg::error>(&committed)) return *e;
  return assembled_blob{std::get<std::string>(std::move(committed)), size};
}

}  // namespace troupe::artifacts
