// The one place that builds every dependency of a daemon and spawns its actors, in plain
// view: data dir, store, sockets, membership (head), node agent.
#pragma once

#include "config/settings.hpp"

namespace troupe::nodes {

// Runs until SIGTERM or SIGINT (which the caller has blocked in every thread) or until a
// component asks to stop; returns the process exit code.
int run_daemon(const config::daemon_settings& settings);

}  // namespace troupe::nodes
