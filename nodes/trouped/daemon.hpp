// The one place that builds every dependency of a daemon and spawns its actors, in plain
// view: data dir, store, sockets, membership (head), node agent.
#pragma once

#include "config/settings.hpp"

namespace troupe::nodes {

// Blocks SIGTERM and SIGINT in the calling thread and every thread it starts later, so that
// run_daemon can take them synchronously. Call before any thread exists.
void block_termination_signals();

// Runs until SIGTERM or SIGINT (blocked by block_termination_signals) or until a component
// asks to stop; returns the process exit code.
int run_daemon(const config::daemon_settings& settings);

}  // namespace troupe::nodes
