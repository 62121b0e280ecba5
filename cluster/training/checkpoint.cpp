#include "cluster/training/checkpoint.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "cluster/artifacts/digest.hpp"
#include "cluster/host/atomic_file.hpp"

namespace troupe::training {
namespace {

constexpr std::string_view magic = "TRPCKPT1";
constexpr size_t size_bytes = 8;
constexpr size_t header_bytes = magic.size() + artifacts::sha256_bytes + size_bytes;
constexpr std::string_view prefix = "checkpoint-";
constexpr std::string_view suffix = ".ckpt";

msg::error refused(const std::string& why) {
  return {msg::error_code::invalid_request, "checkpoint refused: " + why};
}

// The checkpoint files, oldest first (the step is zero-padded, so names sort by step).
std::vector<std::string> checkpoint_files(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ignored;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ignored)) {
    const auto name = entry.path().filename().string();
    if (name.size() > prefix.size() + suffix.size() &&
        name.compare(0, prefix.size(), prefix) == 0 &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

std::string seal_checkpoint(const checkpoint_contents& contents) {
  const auto state = contents.state.dump();
  std::string body;
  uint64_t size = state.size();
  for (size_t i = 0; i < size_bytes; ++i) body += static_cast<char>((size >> (8 * i)) & 0xff);
  body += state;
  body += contents.tensors;
  return std::string(magic) + artifacts::sha256_raw(body) + body;
}

std::variant<checkpoint_contents, msg::error> open_checkpoint(const std::string& blob) {
  if (blob.size() < header_bytes || blob.compare(0, magic.size(), magic) != 0)
    return refused("not a Troupe checkpoint");
  const std::string_view body(blob.data() + magic.size() + artifacts::sha256_bytes,
                              blob.size() - magic.size() - artifacts::sha256_bytes);
  if (artifacts::sha256_raw(body) != blob.substr(magic.size(), artifacts::sha256_bytes))
    return refused("its sha256 does not match its content (damaged or cut short)");
  uint64_t size = 0;
  for (size_t i = 0; i < size_bytes; ++i)
    size |= static_cast<uint64_t>(static_cast<unsigned char>(body[i])) << (8 * i);
  if (size > body.size() - size_bytes) return refused("its state runs past its end");
  checkpoint_contents contents;
  contents.state = nlohmann::json::parse(body.substr(size_bytes, size), nullptr, false);
  if (contents.state.is_discarded()) return refused("its state is not JSON");
  contents.tensors = std::string(body.substr(size_bytes + size));
  return contents;
}

checkpoint_directory::checkpoint_directory(std::string path, int64_t keep)
    : path_(std::move(path)), keep_(std::max<int64_t>(keep, 1)) {
  std::filesystem::create_directories(path_);
}

std::string checkpoint_directory::save(const std::string& blob, int64_t step) {
  char name[64];
  std::snprintf(name, sizeof name, "%s%012lld%s", prefix.data(), static_cast<long long>(step),
                suffix.data());
  const auto file = (std::filesystem::path(path_) / name).string();
  host::write_file_atomically(file, blob, 0600);
  auto files = checkpoint_files(path_);
  const auto excess = static_cast<int64_t>(files.size()) - keep_;
  for (int64_t i = 0; i < excess; ++i) std::filesystem::remove(files[static_cast<size_t>(i)]);
  return file;
}

std::optional<std::string> checkpoint_directory::latest() const {
  auto files = checkpoint_files(path_);
  if (files.empty()) return std::nullopt;
  return files.back();
}

}  // namespace troupe::training
