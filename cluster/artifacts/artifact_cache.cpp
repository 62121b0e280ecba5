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

transfer_result<cached_artifact> artifact_cache::fetch(const download_spec& spec) {
  auto described = describe(call_, spec, timeout_);
  if (auto* f = std::get_if<transfer_failure>(&described)) return *f;
  const auto artifact = std::get<msg::artifact_info>(std::move(described));
  if (!is_sha256_hex(artifact.digest))
    return transfer_failure{transfer_failure::kind::head_error,
                            "the head named a version by no sha256 digest"};
  const auto path = dir_ + "/" + artifact.digest;
  if (const auto here = digest_of_file(path); here && here->digest == artifact.digest) {
    ++reused_;
    return cached_artifact{artifact, path};
  }
  auto got =
      download_file(call_, {artifact.name, artifact.tenant, artifact.digest}, path, timeout_);
  if (auto* f = std::get_if<transfer_failure>(&got)) return *f;
  return cached_artifact{std::get<msg::artifact_info>(std::move(got)), path};
}

transfer_result<msg::artifact_info> artifact_cache::upload(const upload_spec& spec) {
  return upload_file(call_, spec, timeout_);
}

}  // namespace troupe::artifacts
