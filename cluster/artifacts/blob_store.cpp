#include "cluster/artifacts/blob_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace troupe::artifacts {
namespace {

namespace fs = std::filesystem;

constexpr size_t sum_bytes = block_checksum::bytes;
constexpr std::string_view sums_suffix = ".sums";
// Where the SHA-256 of each block was kept before block_checksum.
constexpr std::string_view legacy_suffix = ".blocks";

bool strip_suffix(std::string& name, std::string_view suffix) {
  if (name.size() <= suffix.size() ||
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
    return false;
  name.resize(name.size() - suffix.size());
  return true;
}

msg::error corrupt(const std::string& digest, uint64_t block) {
  return {msg::error_code::internal, "artifact " + digest + " is damaged on the head (block " +
                                         std::to_string(block) +
                                         " does not match its checksum); it is not served"};
}

// A file descriptor closed when it goes.
struct file {
  int fd;
  explicit file(const std::string& path) : fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {}
  ~file() {
    if (fd >= 0) ::close(fd);
  }
};

// Writes `sums` for the blob at `blob` from the SHA-256 of each block at `legacy`, staged in
// `temp`. Each block is checked against its old checksum first: one that does not match gets a
// checksum it cannot match either, so it stays refused. The old file goes once the new one is
// published.
void convert_legacy_sums(const std::string& blob, const std::string& legacy,
                         const std::string& temp, const std::string& sums) {
  const file data(blob);
  const file old(legacy);
  const auto failed = [&](const std::string& why) {
    throw std::runtime_error("cannot give " + blob + " its new block checksums: " + why);
  };
  if (data.fd < 0 || old.fd < 0) failed("cannot open it or " + legacy);
  staged_file out(temp);
  for (uint64_t b = 0;; ++b) {
    const auto bytes = read_at(data.fd, b * block_bytes, block_bytes);
    const auto expected = read_at(old.fd, b * sha256_bytes, sha256_bytes);
    if (!bytes || !expected) failed("a read failed");
    if (bytes->empty()) break;
    auto sum = block_checksum::of(*bytes);
    if (sha256_raw(*bytes) != *expected) sum[0] = static_cast<char>(sum[0] ^ 1);
    if (auto e = out.write(sum)) failed(e->message);
  }
  if (auto e = out.publish(sums)) failed(e->message);
  std::error_code ec;
  fs::remove(legacy, ec);
}

}  // namespace

blob_upload::blob_upload(std::string data_path, std::string blocks_path, std::string blobs_dir)
    : blobs_dir_(std::move(blobs_dir)),
      data_(std::move(data_path)),
      blocks_(std::move(blocks_path)) {}

std::optional<msg::error> blob_upload::close_block() {
  in_block_ = 0;
  return blocks_.write(block_.take());
}

std::optional<msg::error> blob_upload::append(std::string_view bytes) {
  if (auto e = data_.write(bytes)) return e;
  whole_.update(bytes);
  received_ += bytes.size();
  while (!bytes.empty()) {
    const auto take = std::min<uint64_t>(bytes.size(), block_bytes - in_block_);
    block_.update(bytes.substr(0, take));
    in_block_ += take;
    bytes.remove_prefix(take);
    if (in_block_ == block_bytes)
      if (auto e = close_block()) return e;
  }
  return std::nullopt;
}

std::optional<msg::error> blob_upload::commit(const std::string& digest) {
  if (in_block_ > 0)
    if (auto e = close_block()) return e;
  const auto actual = whole_.hex_digest();
  if (actual != digest)
    return msg::error{msg::error_code::invalid_request,
                      "the bytes received do not match the declared sha256 " + digest +
                          " (their sha256 is " + actual + "); nothing was stored"};
  return publish(digest);
}

std::variant<std::string, msg::error> blob_upload::commit_as_written() {
  if (in_block_ > 0)
    if (auto e = close_block()) return *e;
  auto digest = whole_.hex_digest();
  if (auto e = publish(digest)) return *e;
  return digest;
}

std::optional<msg::error> blob_upload::publish(const std::string& digest) {
  // The checksums first: a blob is never visible without them.
  const auto blob = blobs_dir_ + "/" + digest;
  if (auto e = blocks_.publish(blob + std::string(sums_suffix))) return e;
  return data_.publish(blob);
}

blob_store::blob_store(std::string root) : root_(std::move(root)) {
  std::error_code ec;
  fs::remove_all(root_ + "/uploads", ec);
  fs::create_directories(root_ + "/uploads", ec);
  if (!ec) fs::create_directories(root_ + "/blobs", ec);
  if (ec)
    throw std::runtime_error("cannot create the artifact store in " + root_ + ": " + ec.message());
  std::vector<std::string> legacy;
  for (const auto& entry : fs::directory_iterator(root_ + "/blobs", ec)) {
    auto digest = entry.path().filename().string();
    if (strip_suffix(digest, legacy_suffix)) legacy.push_back(digest);
  }
  if (ec) throw std::runtime_error("cannot list " + root_ + "/blobs: " + ec.message());
  for (const auto& digest : legacy) {
    const auto old = blob_path(digest) + std::string(legacy_suffix);
    // A blob removed after its checksums were converted, or before the checksums went.
    if (fs::exists(sums_path(digest)) || !fs::exists(blob_path(digest))) {
      fs::remove(old, ec);
      continue;
    }
    convert_legacy_sums(blob_path(digest), old, root_ + "/uploads/" + digest + ".converting",
                        sums_path(digest));
    ++converted_at_start_;
  }
}

std::unique_ptr<blob_upload> blob_store::begin(const std::string& upload_id) const {
  const auto base = root_ + "/uploads/" + upload_id;
  return std::make_unique<blob_upload>(base, base + std::string(sums_suffix), root_ + "/blobs");
}

std::string blob_store::blob_path(const std::string& digest) const {
  return root_ + "/blobs/" + digest;
}

std::string blob_store::sums_path(const std::string& digest) const {
  return blob_path(digest) + std::string(sums_suffix);
}

std::variant<std::string, msg::error> blob_store::read(const std::string& digest, uint64_t size,
                                                       uint64_t offset, uint64_t length) const {
  if (offset >= size || length == 0) return std::string();
  length = std::min(length, size - offset);
  const file data(blob_path(digest));
  const file sums(sums_path(digest));
  if (data.fd < 0 || sums.fd < 0)
    return msg::error{msg::error_code::not_found,
                      "the bytes of artifact " + digest + " are missing on the head"};
  const uint64_t first = offset / block_bytes;
  const uint64_t last = (offset + length - 1) / block_bytes;
  const auto expected = read_at(sums.fd, first * sum_bytes, (last - first + 1) * sum_bytes);
  const auto blocks = read_at(data.fd, first * block_bytes,
                              std::min(size, (last + 1) * block_bytes) - first * block_bytes);
  if (!expected || !blocks)
    return msg::error{msg::error_code::internal, "cannot read artifact " + digest + " on the head"};
  for (uint64_t b = first; b <= last; ++b) {
    const auto at = (b - first) * block_bytes;
    const auto sum_at = (b - first) * sum_bytes;
    if (sum_at + sum_bytes > expected->size() || at >= blocks->size()) return corrupt(digest, b);
    if (block_checksum::of(std::string_view(*blocks).substr(at, block_bytes)) !=
        std::string_view(*expected).substr(sum_at, sum_bytes))
      return corrupt(digest, b);
  }
  // A blob shorter than recorded fails its last block's checksum above.
  return blocks->substr(offset - first * block_bytes, length);
}

std::optional<msg::error> blob_store::remove(const std::string& digest) const {
  // The bytes before their checksums: the reverse of a commit.
  for (const auto& path : {blob_path(digest), sums_path(digest)}) {
    std::error_code ec;
    fs::remove(path, ec);
    if (ec)
      return msg::error{msg::error_code::internal, "cannot delete " + path + ": " + ec.message()};
  }
  return std::nullopt;
}

size_t blob_store::sweep(const std::set<std::string>& referenced) const {
  std::set<std::string> unreferenced;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root_ + "/blobs", ec)) {
    auto digest = entry.path().filename().string();
    strip_suffix(digest, sums_suffix);
    if (!referenced.count(digest)) unreferenced.insert(digest);
  }
  size_t removed = 0;
  for (const auto& digest : unreferenced)
    if (!remove(digest)) ++removed;
  return removed;
}

}  // namespace troupe::artifacts
