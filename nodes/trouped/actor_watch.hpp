// An actor's death is its daemon's death: a daemon never runs on with a component gone (a
// head whose membership actor died kept its port and answered nothing, then exited 0).
#pragma once

#include <functional>
#include <string>

namespace caf {
class actor;
class actor_system;
}  // namespace caf

namespace troupe::nodes {

// The exit status of a daemon that lost an actor (EX_SOFTWARE): a service manager's
// Restart=on-failure restarts it.
inline constexpr int actor_died_exit_code = 70;

// When `actor` exits for any reason but a normal exit or a shutdown, logs it as critical,
// naming `name` and the reason, and calls `request_exit(actor_died_exit_code)`. Also when
// the actor is already gone.
void exit_when_it_dies(caf::actor_system& system, const caf::actor& actor, std::string name,
                       std::function<void(int)> request_exit);

}  // namespace troupe::nodes
