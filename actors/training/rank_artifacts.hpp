// The node's artifact worker for its ranks (docs/training.md, "rank link"): answers their
// FetchArtifactRequest and PublishArtifactRequest through the node's artifact cache
// (cluster/artifacts/artifact_cache.hpp), over a connection of its own to the head with the
// node's key, so that the node's control link never carries a transfer. Detached, one transfer
// at a time: the rank relay queues them here and never waits on one.
//
// What a rank may touch: artifacts of its job's tenant only; it publishes only a regular file
// inside its attempt's working directory (symlinks resolved; the file is opened once and sent
// from that open file, so it cannot be swapped for another meanwhile): a checkpoint or a model
// under a name starting with "<job id>/", or a dataset of any name (a job's result, which the
// job's tenant could put itself). A transfer whose attempt ended (its rank key
// dropped) or whose deadline passed is not started; one under way stops asking the head at its
// deadline.
//
// The cache holds at most cache_limit_bytes: a copy a rank fetched is held for its attempt (its
// rank key) until the attempt ends, and never deleted to make room meanwhile.
//   (rank_transfer) -> transfer_done
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>

#include "cluster/security/rank_keys.hpp"
#include "cluster/transport/socket_loop.hpp"
#include "messages/envelope.hpp"

namespace troupe::training {

struct rank_artifacts_deps {
  std::string cache_dir;  // the node's artifact cache, in its data dir
  uint64_t cache_limit_bytes = 0;
  std::string head_address;  // where the node reaches its head
  std::optional<transport::curve_keys> node_keys;
  std::string node_name;  // the sender of its requests to the head
  std::shared_ptr<const security::rank_keys> keys;
};

// A fetch or publish request of a rank, checked by the relay to speak for `attempt`.
struct rank_transfer {
  security::rank_attempt attempt;
  std::string key_id;  // the rank's key
  msg::training_message request;
  std::chrono::steady_clock::time_point deadline;
};

struct transfer_done {
  msg::body answer;  // the reply to the rank, or an error
};

// Throws std::runtime_error when the cache dir cannot be made.
caf::actor spawn_rank_artifacts(caf::actor_system& system, rank_artifacts_deps deps);

}  // namespace troupe::training

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(troupe::training::rank_transfer)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(troupe::training::transfer_done)
