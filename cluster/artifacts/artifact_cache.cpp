#include "cluster/artifacts/artifact_cache.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <vector>

#include "cluster/artifacts/digest.hpp"

namespace troupe::artifacts {

namespace fs = std::filesystem;

artifact_cache::artifact_cache(std::string dir, artifact_link link,
                               std::chrono::milliseconds timeout, uint64_t limit_bytes)
    : dir_(std::move(dir)), link_(std::move(link)), timeout_(timeout), limit_(limit_bytes) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec)
    throw std::runtime_error("cannot create the artifact cache " + dir_ + ": " + ec.message());
  take_stock();
}

// The copies here, oldest first as least recently used; what is not one (a download a dead
// process left) goes.
void artifact_cache::take_stock() {
  std::vector<std::pair<fs::file_time_type, std::string>> found;
  std::error_code listing, ec;
  for (const auto& entry : fs::directory_iterator(dir_, listing)) {
    const auto name = entry.path().filename().string();
    if (!is_sha256_hex(name) || !entry.is_regular_file(ec)) {
      fs::remove_all(entry.path(), ec);
      continue;
    }
    found.emplace_back(entry.last_write_time(ec), name);
  }
  if (listing)
    throw std::runtime_error("cannot read the artifact cache " + dir_ + ": " + listing.message());
  std::sort(found.begin(), found.end());
  for (const auto& [at, digest] : found) {
    const auto size = fs::file_size(dir_ + "/" + digest, ec);
    if (ec) continue;
    copies_[digest] = copy{size, ++uses_, {}};
    used_ += size;
  }
  make_room(0);
}

void artifact_cache::forget(const std::string& key) {
  auto it = copies_.find(key);
  if (it == copies_.end()) return;
  used_ -= it->second.size;
  copies_.erase(it);
}

bool artifact_cache::make_room(uint64_t size) {
  while (used_ > limit_ || limit_ - used_ < size) {
    auto oldest = copies_.end();
    for (auto it = copies_.begin(); it != copies_.end(); ++it)
      if (it->second.holders.empty() &&
          (oldest == copies_.end() || it->second.last_used < oldest->second.last_used))
        oldest = it;
    if (oldest == copies_.end()) return false;
    std::error_code ec;
    fs::remove(dir_ + "/" + oldest->first, ec);
    forget(oldest->first);
  }
  return true;
}

cached_artifact artifact_cache::keep(const std::string& key, uint64_t size,
                                     const msg::artifact_info& artifact,
                                     std::set<std::string> holders) {
  auto& c = copies_[key];
  if (c.size != size) {
    used_ = used_ - c.size + size;
    c.size = size;
  }
  c.last_used = ++uses_;
  c.holders.merge(holders);
  return {artifact, dir_ + "/" + key};
}

transfer_failure artifact_cache::no_room(uint64_t size) const {
  return transfer_failure{transfer_failure::kind::local,
                          "the node's artifact cache (artifact_cache_mb) cannot hold " +
                              std::to_string(size) + " more bytes: " + std::to_string(used_) +
                              " of its " + std::to_string(limit_) +
                              " bytes are held by running attempts",
                          msg::error_code::overloaded};
}

transfer_result<cached_artifact> artifact_cache::fetch(const download_spec& spec,
                                                       const std::string& holder) {
  auto described = describe(link_, spec, timeout_);
  if (auto* f = std::get_if<transfer_failure>(&described)) return *f;
  const auto artifact = std::get<msg::artifact_info>(std::move(described));
  if (!is_sha256_hex(artifact.digest))
    return transfer_failure{transfer_failure::kind::head_error,
                            "the head named a version by no sha256 digest"};
  if (spec.length) return fetch_range(spec, artifact, holder);
  const auto path = dir_ + "/" + artifact.digest;
  if (const auto here = digest_of_file(path); here && here->digest == artifact.digest) {
    ++reused_;
    return keep(artifact.digest, artifact.size, artifact, {holder});
  }
  // Damaged, or gone behind our back: fetched again, for whoever held it too.
  std::set<std::string> holders{holder};
  if (auto it = copies_.find(artifact.digest); it != copies_.end())
    holders.merge(it->second.holders);
  forget(artifact.digest);
  if (!make_room(artifact.size)) return no_room(artifact.size);
  auto got =
      download_file(link_, {artifact.name, artifact.tenant, artifact.digest}, path, timeout_);
  if (auto* f = std::get_if<transfer_failure>(&got)) return *f;
  return keep(artifact.digest, artifact.size, std::get<msg::artifact_info>(got),
              std::move(holders));
}

transfer_result<cached_artifact> artifact_cache::fetch_range(const download_spec& spec,
                                                             const msg::artifact_info& artifact,
                                                             const std::string& holder) {
  if (spec.offset > artifact.size)
    return transfer_failure{transfer_failure::kind::head_error,
                            "offset " + std::to_string(spec.offset) +
                                " is past the end of the artifact (" +
                                std::to_string(artifact.size) + " bytes)",
                            msg::error_code::invalid_request};
  const auto size = std::min(spec.length, artifact.size - spec.offset);
  const auto key = artifact.digest + "." + std::to_string(spec.offset) + "-" +
                   std::to_string(spec.offset + size);
  const auto path = dir_ + "/" + key;
  // Fetched again even when here (a holder that still reads it keeps its open file); the copy
  // there stays entered until the new one replaces it.
  std::set<std::string> holders{holder};
  if (auto it = copies_.find(key); it != copies_.end()) holders.merge(it->second.holders);
  if (!make_room(size)) return no_room(size);
  if (size == 0) {  // at the very end: nothing to ask the head for
    std::ofstream empty(path, std::ios::binary | std::ios::trunc);
    if (!empty) return transfer_failure{transfer_failure::kind::local, "cannot write " + path};
    return keep(key, 0, artifact, std::move(holders));
  }
  auto got = download_file(
      link_, {artifact.name, artifact.tenant, artifact.digest, spec.offset, size}, path, timeout_);
  if (auto* f = std::get_if<transfer_failure>(&got)) return *f;
  return keep(key, size, std::get<msg::artifact_info>(got), std::move(holders));
}

void artifact_cache::release_ended(const std::function<bool(const std::string&)>& ended) {
  for (auto& [digest, c] : copies_)
    for (auto it = c.holders.begin(); it != c.holders.end();)
      it = ended(*it) ? c.holders.erase(it) : std::next(it);
}

transfer_result<msg::artifact_info> artifact_cache::upload(const upload_spec& spec) {
  return upload_file(link_, spec, timeout_);
}

}  // namespace troupe::artifacts
