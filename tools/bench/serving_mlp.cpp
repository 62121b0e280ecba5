#include "tools/bench/serving_mlp.hpp"

#include <stdexcept>

#include "tools/local_cluster/local_cluster.hpp"

namespace troupe::bench {

void make_serving_mlp(const std::string& python, const std::string& file) {
  using namespace std::chrono_literals;
  const auto made =
      local::run_command({python, "-c",
                          "import sys, torch\n"
                          "torch.manual_seed(7)\n"
                          "m = torch.nn.Sequential(torch.nn.Linear(52, 256), torch.nn.ReLU(),"
                          " torch.nn.Linear(256, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10),"
                          " torch.nn.Softmax(dim=1))\n"
                          "torch.jit.script(m).save(sys.argv[1])\n",
                          file},
                         120s);
  if (made.exit_code != 0) throw std::runtime_error("python3-torch: " + made.err);
}

}  // namespace troupe::bench
