#include "cluster/training/collective/communicator.hpp"

namespace troupe::training {

collective_work::~collective_work() = default;
communicator::~communicator() = default;

void check(const communicator_options& options) {
  auto refuse = [](const std::string& what) {
    throw collective_error(msg::error_code::invalid_request, "communicator: " + what);
  };
  if (options.world_size < 1) refuse("world_size must be at least 1");
  if (options.rank < 0 || options.rank >= options.world_size)
    refuse("rank " + std::to_string(options.rank) + " is not in [0, " +
           std::to_string(options.world_size) + ")");
  if (options.join_timeout.count() <= 0) refuse("join_timeout must be positive");
  if (options.timeout.count() <= 0) refuse("timeout must be positive");
}

std::string describe(const std::exception& error) {
  // c10 errors carry a C++ backtrace after the message; the message is what a person needs.
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&error))
    return c10_error->what_without_backtrace();
  return error.what();
}

}  // namespace troupe::training
