// The communicators' rendezvous over the rank link: keys go through this rank's node agent to
// the head, scoped to the job attempt, so no store of our own listens on the network.
#pragma once

#include "cluster/training/collective/rendezvous.hpp"
#include "cluster/training/rank_link/rank_link.hpp"

namespace troupe::rank {

class link_rendezvous final : public training::rendezvous {
 public:
  // `link` must outlive this rendezvous and is used only by the thread that calls it.
  explicit link_rendezvous(training::rank_link& link) : link_(link) {}

  // Both throw collective_error with the rank link's error code when the cluster refuses or
  // does not answer.
  void set(const std::string& key, const training::bytes& value) override;
  training::bytes get(const std::string& key, std::chrono::milliseconds timeout) override;

 private:
  training::rank_link& link_;
};

// The address of this machine that its peers reach it on: the local end of a route toward
// `peer` (task 0's node, MASTER_ADDR). Throws std::runtime_error when there is no route.
std::string address_toward(const std::string& peer);

}  // namespace troupe::rank
