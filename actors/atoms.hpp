// Atoms of Troupe's actor messages (CAF 0.17: at most 10 characters each).
#pragma once

#include <caf/atom.hpp>

namespace troupe::actors {

using tick_atom = caf::atom_constant<caf::atom("tick")>;
using store_atom = caf::atom_constant<caf::atom("store")>;
using register_atom = caf::atom_constant<caf::atom("register")>;
using heartbt_atom = caf::atom_constant<caf::atom("heartbeat")>;
using shutdown_atom = caf::atom_constant<caf::atom("shutdown")>;
using confirm_atom = caf::atom_constant<caf::atom("confirm")>;
using later_atom = caf::atom_constant<caf::atom("later")>;
using apply_atom = caf::atom_constant<caf::atom("apply")>;
using retry_atom = caf::atom_constant<caf::atom("retry")>;
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;
using attempt_atom = caf::atom_constant<caf::atom("attempt")>;
using job_atom = caf::atom_constant<caf::atom("job")>;
using artifact_atom = caf::atom_constant<caf::atom("artifact")>;
using ended_atom = caf::atom_constant<caf::atom("ended")>;
using assemble_atom = caf::atom_constant<caf::atom("assemble")>;

}  // namespace troupe::actors
