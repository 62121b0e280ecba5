#include "cluster/artifacts/artifact_cache.hpp"

#include <filesystem>
#include <stdexcept>

#include "cluster/artifacts/digest.hpp"

namespace troupe::artifacts {

artifact_cache::artifact_cache(std::string dir, artifact_caller call,
                               std::chrono::milliseconds timeout)
    : dir_(std::move(dir)), call_(std::move(call)), timeout_(timeout) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec)
    throw std::runtime_error("cannot create the artifact cache " + dir_ + ": " + ec.message());
}

transfer_result<std::string> artifact_cache::fetch(const std::string& digest) {
  if (!is_sha256_hex(digest))
    return transfer_failure{transfer_failure::kind::local, "not a sha256 digest: " + digest};
  const auto path = dir_ + "/" + digest;
  if (const auto here = digest_of_file(path); here && here->digest == digest) {
    ++reused_;
    return path;
  }
  auto got = download_file(call_, {"", "", digest}, path, timeout_);
  if (auto* f = std::get_if<transfer_failure>(&got)) return *f;
  return path;
}

transfer_result<msg::artifact_info> artifact_cache::upload(const upload_spec& spec) {
  return upload_file(call_, spec, timeout_);
}

}  // namespace troupe::artifacts
