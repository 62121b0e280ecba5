// What the two Gloo communicators share; a build compiles one of them (gloo_communicator.cpp
// on Gloo's own algorithms, gloo_c10d_communicator.cpp through c10d), as CMakeLists.txt says.
#pragma once

#include "cluster/training/collective/communicator.hpp"

namespace troupe::training {

// Joins this build's Gloo group with checked options. make_gloo_communicator calls it and
// names the rank and group in what it throws.
std::unique_ptr<communicator> join_gloo_group(std::shared_ptr<rendezvous> rendezvous,
                                              const gloo_options& options);

// "gloo CALL of N elements (rank R of W, timeout T ms)": how a failed collective is named.
std::string describe_gloo_call(const std::string& call, int64_t elements,
                               const gloo_options& options);

}  // namespace troupe::training
