// What this machine offers and how loaded it is, read from the OS (and the CUDA runtime
// when Troupe is built with the CUDA toolkit).
#pragma once

#include <string>
#include <vector>

#include "messages/cluster.hpp"

namespace troupe::host {

// CPUs this process may run on, total memory, and every visible GPU.
msg::resources detect_resources();

// GPUs visible through the CUDA runtime; empty without CUDA or without a device.
std::vector<msg::gpu_info> detect_gpus();

// One-minute load average and memory in use.
msg::node_load read_load();

std::string host_name();

}  // namespace troupe::host
