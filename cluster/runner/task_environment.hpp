// What a task's process is given besides its argv: its environment, the paths its program is
// looked up at, and a free port for a gang's rendezvous.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "cluster/jobs/job_model.hpp"

namespace troupe::runner {

// Set in every task's environment; kill_leftover_tasks() recognises a task's processes by it.
inline constexpr const char* attempt_id_variable = "TROUPE_ATTEMPT_ID";

// "NAME=value" entries, later layers overriding earlier ones: the daemon's environment, with
// OPENBLAS_CORETYPE for this CPU's kernels (blas_kernels.hpp) where it sets none; the
// thread counts OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and MKL_NUM_THREADS = max(1, floor(cpus));
// the launch's env; then what the runner owns and a spec may not change: CUDA_VISIBLE_DEVICES
// (the launch's gpus joined by commas, empty when none), TROUPE_ATTEMPT_ID, and MASTER_PORT
// when `master_port` is not 0.
std::vector<std::string> task_environment(const jobs::task_launch& launch,
                                          const char* const* daemon_environment,
                                          uint16_t master_port);

// The paths to try exec'ing, in order, as execvp would: `program` itself when it holds a '/',
// else `program` in each directory of PATH as `environment` sets it ("" means ".").
std::vector<std::string> program_candidates(const std::string& program,
                                            const std::vector<std::string>& environment);

// A TCP port free on every interface (bound on 0.0.0.0 port 0, read, and released), or why not.
std::variant<uint16_t, std::string> pick_free_port();

}  // namespace troupe::runner
