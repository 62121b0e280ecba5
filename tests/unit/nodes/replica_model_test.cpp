// The replica's TorchScript model (nodes/replica/torch_model): a module made by PyTorch answers
// each row with the softmax of its logits; on cuda it answers the same through its pinned staging
// buffer, or, on a machine without a GPU, refuses to load saying so.
#define BOOST_TEST_MODULE replica_model
#include <torch/cuda.h>
#include <boost/test/unit_test.hpp>

#include <stdexcept>

#include "nodes/replica/torch_model.hpp"
#include "tests/unit/temp_dir.hpp"
#include "tools/local_cluster/local_cluster.hpp"

using namespace troupe;

namespace {

constexpr uint32_t features = 3;

// Logits (x0, x1) of each row (x0, x1, x2), as a TorchScript file made by PyTorch.
struct scripted_model {
  test::temp_dir dir{"troupe-replica-model"};
  std::string path = dir.path() + "/model.pt";
  inference::model_signature signature{features, inference::output_kind::logits, {}};

  scripted_model() {
    const auto made =
        local::run_command({"/usr/bin/python3", "-c",
                            "import sys, torch\n"
                            "m = torch.nn.Linear(3, 2)\n"
                            "with torch.no_grad():\n"
                            "    m.weight.copy_(torch.tensor([[1., 0., 0.], [0., 1., 0.]]))\n"
                            "    m.bias.zero_()\n"
                            "torch.jit.script(m).save(sys.argv[1])\n",
                            path},
                           std::chrono::seconds(60));
    BOOST_TEST_REQUIRE(made.exit_code == 0, made.err);
  }
};

std::vector<float> rows_of(uint32_t rows) {
  std::vector<float> out;
  for (uint32_t r = 0; r < rows; ++r) out.insert(out.end(), {float(r), float(2 * r % 5), -1.f});
  return out;
}

std::vector<float> softmax_of_first_two(const std::vector<float>& in) {
  std::vector<float> out;
  for (size_t r = 0; r < in.size() / features; ++r)
    out.insert(out.end(), {in[r * 3], in[r * 3 + 1]});
  inference::softmax_rows(out, 2);
  return out;
}

void check_close(const std::vector<float>& got, const std::vector<float>& want) {
  BOOST_TEST_REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i)
    BOOST_TEST(got[i] == want[i], boost::test_tools::tolerance(1e-5f));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(replica_model)

BOOST_AUTO_TEST_CASE(a_cpu_model_answers_each_row_with_the_softmax_of_its_logits) {
  scripted_model m;
  auto forward = replica::load_torchscript(m.path, m.signature, inference::serve_device::cpu);
  const auto in = rows_of(4);
  const auto out = forward(in, 4);
  BOOST_TEST(out.error.empty());
  BOOST_TEST(out.output_count == 2u);
  check_close(out.outputs, softmax_of_first_two(in));
}

BOOST_AUTO_TEST_CASE(a_cuda_model_answers_as_the_cpu_one_or_refuses_to_load_without_a_gpu) {
  scripted_model m;
  if (!torch::cuda::is_available()) {
    BOOST_CHECK_EXCEPTION(
        replica::load_torchscript(m.path, m.signature, inference::serve_device::cuda),
        std::runtime_error, [](const std::runtime_error& e) {
          return std::string(e.what()) == "device: cuda, but this replica sees no GPU";
        });
    return;
  }
  auto forward = replica::load_torchscript(m.path, m.signature, inference::serve_device::cuda);
  // Passes that grow the staging buffer, then reuse it for fewer rows.
  for (uint32_t rows : {1u, 5u, 64u, 2u}) {
    const auto in = rows_of(rows);
    const auto out = forward(in, rows);
    BOOST_TEST(out.output_count == 2u);
    check_close(out.outputs, softmax_of_first_two(in));
  }
}

BOOST_AUTO_TEST_SUITE_END()
