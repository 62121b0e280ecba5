#include "nodes/trouped/actor_watch.hpp"

#include <spdlog/spdlog.h>
#include <caf/all.hpp>

namespace troupe::nodes {

void exit_when_it_dies(caf::actor_system& system, const caf::actor& actor, std::string name,
                       std::function<void(int)> request_exit) {
  actor->attach_functor([&system, name = std::move(name),
                         request_exit = std::move(request_exit)](const caf::error& reason) {
    if (!reason || reason == caf::exit_reason::normal || reason == caf::exit_reason::user_shutdown)
      return;
    spdlog::critical("the {} actor died ({}); stopping the daemon", name, system.render(reason));
    request_exit(actor_died_exit_code);
  });
}

}  // namespace troupe::nodes
