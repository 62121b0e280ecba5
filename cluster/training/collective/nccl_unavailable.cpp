// Without the CUDA toolkit there is no NCCL: asking for it is a clear error, not a link error.
#include "cluster/training/collective/communicator.hpp"

namespace troupe::training {

std::unique_ptr<communicator> make_nccl_communicator(std::shared_ptr<rendezvous>,
                                                     const nccl_options&) {
  throw collective_error(msg::error_code::unavailable,
                         "nccl: this build has no CUDA toolkit, so no NCCL communicator");
}

}  // namespace troupe::training
