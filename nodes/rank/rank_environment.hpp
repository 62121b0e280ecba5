// What a rank process is told by its environment (docs/training.md, "How a rank runs"): the
// variables the train kind sets on each rank's task (cluster/jobs/kinds/train), checked here,
// at the edge, so that a bad value ends the process with one clear line before anything starts.
#pragma once

#include <string>
#include <variant>

#include "cluster/training/train_spec.hpp"

namespace troupe::rank {

struct rank_environment {
  int rank = 0;
  int world_size = 1;
  std::string master_addr;  // task 0's node; empty when world_size is 1
  int threads = 1;          // OMP_NUM_THREADS (the runner sets it from resources.cpus)
  std::string job_id;       // TROUPE_JOB_ID: names the job's checkpoints and model
  training::train_spec spec;
};

// The variables RANK, WORLD_SIZE, MASTER_ADDR, OMP_NUM_THREADS, TROUPE_TRAIN_SPEC and
// TROUPE_JOB_ID, or a message naming the first one that is missing or bad.
std::variant<rank_environment, std::string> read_rank_environment();

}  // namespace troupe::rank
