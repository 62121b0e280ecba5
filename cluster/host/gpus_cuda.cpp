// GPU detection through the CUDA runtime (compiled only when the toolkit is found).
#include <cuda_runtime_api.h>

#include "cluster/host/resources.hpp"

namespace troupe::host {

std::vector<msg::gpu_info> detect_gpus() {
  std::vector<msg::gpu_info> gpus;
  int count = 0;
  // No driver or no device is not an error for a node: it simply offers no GPU.
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    (void)cudaGetLastError();
    return gpus;
  }
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp props{};
    if (cudaGetDeviceProperties(&props, i) != cudaSuccess) continue;
    gpus.push_back({static_cast<uint32_t>(i), props.name, props.totalGlobalMem >> 20});
  }
  return gpus;
}

}  // namespace troupe::host
