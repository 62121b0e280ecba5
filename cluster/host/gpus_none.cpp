// GPU detection in a build without the CUDA toolkit: there is none to see.
#include "cluster/host/resources.hpp"

namespace troupe::host {

std::vector<msg::gpu_info> detect_gpus() { return {}; }

}  // namespace troupe::host
