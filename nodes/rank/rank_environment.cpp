#include "nodes/rank/rank_environment.hpp"

#include <cstdlib>
#include <optional>
#include <stdexcept>

#include "cluster/jobs/kinds/train/train_kind.hpp"
#include "nodes/environment_number.hpp"

namespace troupe::rank {
namespace {

std::optional<std::string> variable(const char* name) {
  const char* value = std::getenv(name);
  if (!value) return std::nullopt;
  return std::string(value);
}

std::string bad(const char* name, const std::string& expected, const std::string& got) {
  return std::string(name) + ": expected " + expected + ", got '" + got + "'";
}

}  // namespace

std::variant<rank_environment, std::string> read_rank_environment() {
  constexpr long max_world_size = 1 << 16;
  rank_environment out;

  const auto world_text = variable("WORLD_SIZE");
  if (!world_text) return std::string("WORLD_SIZE is not set");
  const auto world = whole_number(world_text->c_str(), 1, max_world_size);
  if (!world) return bad("WORLD_SIZE", "a whole number from 1", *world_text);
  out.world_size = static_cast<int>(*world);

  const auto rank_text = variable("RANK");
  if (!rank_text) return std::string("RANK is not set");
  const auto rank = whole_number(rank_text->c_str(), 0, out.world_size - 1);
  if (!rank)
    return bad("RANK", "a whole number from 0 to " + std::to_string(out.world_size - 1),
               *rank_text);
  out.rank = static_cast<int>(*rank);

  out.job_id = variable("TROUPE_JOB_ID").value_or("");
  if (out.job_id.empty()) return std::string("TROUPE_JOB_ID is not set");

  out.master_addr = variable("MASTER_ADDR").value_or("");
  if (out.world_size > 1 && out.master_addr.empty())
    return std::string("MASTER_ADDR is not set (a rank of several needs task 0's address)");

  if (const auto threads_text = variable("OMP_NUM_THREADS")) {
    const auto threads = whole_number(threads_text->c_str(), 1, 1024);
    if (!threads) return bad("OMP_NUM_THREADS", "a whole number from 1 to 1024", *threads_text);
    out.threads = static_cast<int>(*threads);
  }

  const auto spec_text = variable(jobs::train_spec_variable);
  if (!spec_text) return std::string(jobs::train_spec_variable) + " is not set";
  try {
    out.spec = training::train_spec_from_json(nlohmann::json::parse(*spec_text));
  } catch (const std::exception& e) {
    return std::string(jobs::train_spec_variable) + ": " + e.what();
  }
  // An elastic job's round may run on fewer ranks than the spec asks (docs/scheduling.md).
  const int64_t fewest = out.spec.elastic_min_world_size.value_or(out.spec.world_size);
  if (out.world_size > out.spec.world_size || out.world_size < fewest)
    return "WORLD_SIZE (" + std::to_string(out.world_size) + ") is not the spec's world_size (" +
           std::to_string(out.spec.world_size) + ")" +
           (fewest < out.spec.world_size
                ? " nor its elastic minimum (" + std::to_string(fewest) + ") or more"
                : std::string());
  return out;
}

}  // namespace troupe::rank
