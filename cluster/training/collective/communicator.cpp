#include "cluster/training/collective/communicator.hpp"

#include "cluster/training/collective/gloo_group.hpp"

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

std::unique_ptr<communicator> make_gloo_communicator(std::shared_ptr<rendezvous> rendezvous,
                                                     const gloo_options& options) {
  check(options);
  const std::string joining = "gloo: rank " + std::to_string(options.rank) +
                              " joining a group of " + std::to_string(options.world_size) + " on " +
                              options.hostname;
  try {
    return join_gloo_group(std::move(rendezvous), options);
  } catch (const collective_error& error) {
    throw collective_error(error.code(), joining + ": " + error.what());
  } catch (const std::exception& error) {
    throw collective_error(msg::error_code::unavailable, joining + ": " + describe(error));
  }
}

std::string describe_gloo_call(const std::string& call, int64_t elements,
                               const gloo_options& options) {
  return "gloo " + call + " of " + std::to_string(elements) + " elements (rank " +
         std::to_string(options.rank) + " of " + std::to_string(options.world_size) + ", timeout " +
         std::to_string(options.timeout.count()) + " ms)";
}

}  // namespace troupe::training
