#include <boost/test/unit_test.hpp>

#include <torch/script.h>

#include <sstream>

#include "cluster/training/gradient_sync.hpp"
#include "cluster/training/trainer.hpp"
#include "tests/unit/temp_dir.hpp"

using namespace troupe;
using namespace troupe::training;
using troupe::test::temp_dir;

namespace {

// Small enough for a second per run, with everything resume must restore switched on:
// momentum, a warm-up and cosine schedule, clipping, dropout (the RNG) and shuffling.
train_spec small_spec() {
  train_spec spec;
  spec.model.layers = {8, 16, 3};
  spec.model.dropout = 0.1;
  spec.data.synthetic = synthetic_data{600, 8, 3, 11};
  spec.data.validation_split = 0.1;
  spec.optimizer.lr = 0.05;
  spec.optimizer.momentum = 0.9;
  spec.optimizer.nesterov = true;
  spec.lr_schedule.name = "cosine";
  spec.lr_schedule.warmup_steps = 5;
  spec.grad_clip = 1.0;
  spec.epochs = 2;
  spec.batch_size = 32;
  spec.seed = 7;
  return spec;
}

std::unique_ptr<trainer> make_trainer(const train_spec& spec, gradient_sync& sync) {
  auto data = load_training_data(spec, {});
  BOOST_REQUIRE(std::holds_alternative<training_data>(data));
  auto made = trainer::create(spec, std::move(std::get<training_data>(data)), sync, {});
  if (auto* error = std::get_if<msg::error>(&made)) BOOST_FAIL(error->message);
  return std::move(std::get<std::unique_ptr<trainer>>(made));
}

run_outcome run(trainer& t, const trainer_callbacks& callbacks = {}) {
  auto outcome = t.run(callbacks);
  if (auto* error = std::get_if<msg::error>(&outcome)) BOOST_FAIL(error->message);
  return std::get<run_outcome>(outcome);
}

torch::jit::Module exported_module(trainer& t) {
  auto exported = t.export_model();
  if (auto* error = std::get_if<msg::error>(&exported)) BOOST_FAIL(error->message);
  std::istringstream in(std::get<exported_model>(exported).torchscript);
  return torch::jit::load(in);
}

// The largest difference between two modules' parameters, which must have the same names.
double parameter_difference(const torch::jit::Module& a, const torch::jit::Module& b) {
  auto pa = a.named_parameters(), pb = b.named_parameters();
  BOOST_REQUIRE_EQUAL(pa.size(), pb.size());
  double largest = 0.0;
  auto ib = pb.begin();
  for (auto ia = pa.begin(); ia != pa.end(); ++ia, ++ib) {
    BOOST_REQUIRE_EQUAL((*ia).name, (*ib).name);
    largest = std::max(largest, ((*ia).value - (*ib).value).abs().max().item<double>());
  }
  return largest;
}

// The exported module, given raw rows as an inference client sends them, computes what the
// trainer's model does.
void check_predicts_like(torch::jit::Module& exported, trainer& t) {
  const auto rows = synthesize({50, 8, 3, 99});
  const auto expected = t.predict(rows);
  torch::NoGradGuard no_grad;
  const auto input =
      torch::from_blob(const_cast<float*>(rows.features.data()), {50, 8}, torch::kFloat);
  const auto output = exported.forward({input}).toTensor().contiguous();
  BOOST_REQUIRE_EQUAL(output.numel(), static_cast<int64_t>(expected.size()));
  const auto want = torch::from_blob(const_cast<float*>(expected.data()), {50, 3}, torch::kFloat);
  BOOST_TEST(torch::allclose(output, want, 1e-5, 1e-5));
}

// Trains `spec` once straight, and once stopped at the first checkpoint for which `stop_at`
// is true, resumed in a fresh trainer and finished: the parameters must come out the same.
void check_resume_is_exact(const train_spec& spec,
                           const std::function<bool(int64_t step)>& stop_at) {
  single_rank_sync sync;
  auto straight = make_trainer(spec, sync);
  const auto unbroken = run(*straight);

  std::string saved;
  auto first = make_trainer(spec, sync);
  trainer_callbacks callbacks;
  callbacks.on_checkpoint = [&](const std::string& blob, int64_t step) {
    if (saved.empty() && stop_at(step)) saved = blob;
  };
  callbacks.stop_requested = [&] { return !saved.empty(); };
  BOOST_TEST((run(*first, callbacks).end == run_end::cancelled));
  BOOST_REQUIRE(!saved.empty());

  auto resumed = make_trainer(spec, sync);
  const auto refused = resumed->resume(saved);
  if (refused) BOOST_FAIL(refused->message);
  const auto finished = run(*resumed);
  BOOST_TEST((finished.end == run_end::finished));
  BOOST_TEST(finished.steps == unbroken.steps);
  BOOST_TEST(parameter_difference(exported_module(*straight), exported_module(*resumed)) < 1e-6);
  BOOST_TEST(finished.last_epoch->train_loss == unbroken.last_epoch->train_loss,
             boost::test_tools::tolerance(1e-6));
  BOOST_TEST(*finished.last_epoch->val_loss == *unbroken.last_epoch->val_loss,
             boost::test_tools::tolerance(1e-6));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(trainer_resume)

BOOST_AUTO_TEST_CASE(one_epoch_then_a_resume_and_one_more_equals_two_epochs_straight) {
  auto spec = small_spec();
  spec.checkpoint.every_epoch = true;
  check_resume_is_exact(spec, [](int64_t) { return true; });
}

BOOST_AUTO_TEST_CASE(a_resume_from_the_middle_of_an_epoch_equals_the_unbroken_run) {
  auto spec = small_spec();
  spec.checkpoint.every_epoch = false;
  spec.checkpoint.every_steps = 10;
  // 17 steps per epoch: step 20 is the third of the second epoch.
  check_resume_is_exact(spec, [](int64_t step) { return step == 20; });
}

BOOST_AUTO_TEST_CASE(a_damaged_checkpoint_is_refused_and_leaves_the_trainer_as_it_was) {
  single_rank_sync sync;
  auto t = make_trainer(small_spec(), sync);
  auto blob = t->checkpoint();
  blob[blob.size() / 2] = static_cast<char>(blob[blob.size() / 2] ^ 1);
  const auto refused = t->resume(blob);
  BOOST_REQUIRE(refused);
  BOOST_TEST((refused->code == msg::error_code::invalid_request));
  BOOST_TEST(refused->message ==
             "checkpoint refused: its sha256 does not match its content (damaged or cut short)");
}

BOOST_AUTO_TEST_CASE(a_checkpoint_of_another_model_is_refused) {
  single_rank_sync sync;
  auto spec = small_spec();
  const auto blob = make_trainer(spec, sync)->checkpoint();
  spec.model.layers = {8, 32, 3};
  const auto refused = make_trainer(spec, sync)->resume(blob);
  BOOST_REQUIRE(refused);
  BOOST_TEST(refused->message.rfind("checkpoint refused: it does not fit this model", 0) == 0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(trainer_run)

BOOST_AUTO_TEST_CASE(the_trainer_learns_the_synthetic_classes_and_reports_each_epoch) {
  auto spec = small_spec();
  spec.epochs = 4;
  spec.model.dropout = 0.0;
  single_rank_sync sync;
  auto t = make_trainer(spec, sync);
  std::vector<epoch_report> epochs;
  std::vector<step_report> steps;
  trainer_callbacks callbacks;
  callbacks.on_epoch = [&](const epoch_report& r) { epochs.push_back(r); };
  callbacks.on_step = [&](const step_report& r) { steps.push_back(r); };
  const auto outcome = run(*t, callbacks);
  BOOST_TEST((outcome.end == run_end::finished));
  BOOST_TEST(outcome.steps == 4 * 17);
  BOOST_REQUIRE_EQUAL(epochs.size(), 4u);
  BOOST_TEST(epochs.back().epoch == 4);
  BOOST_TEST(epochs.back().train_loss < epochs.front().train_loss);
  BOOST_TEST(*epochs.back().val_accuracy > 0.8);  // chance is 1/3
  BOOST_TEST(!epochs.back().val_mae);
  BOOST_REQUIRE_EQUAL(steps.size(), 1u);  // every 50 steps
  BOOST_TEST(steps[0].step == 50);
  BOOST_TEST(steps[0].epoch == 3);
  BOOST_TEST(steps[0].samples_per_second > 0.0);
}

BOOST_AUTO_TEST_CASE(early_stopping_ends_the_run_at_the_first_epoch_past_its_patience) {
  auto spec = small_spec();
  spec.epochs = 10;
  // The training loss falls every epoch, so with mode max only epoch 1 is an improvement:
  // epochs 2 and 3 exhaust a patience of 2.
  spec.early_stopping = early_stopping_spec{"train_loss", "max", 2, 0.0};
  single_rank_sync sync;
  auto t = make_trainer(spec, sync);
  int reported = 0;
  std::string last_checkpoint;
  trainer_callbacks callbacks;
  callbacks.on_epoch = [&](const epoch_report&) { ++reported; };
  callbacks.on_checkpoint = [&](const std::string& blob, int64_t) { last_checkpoint = blob; };
  const auto outcome = run(*t, callbacks);
  BOOST_TEST((outcome.end == run_end::stopped_early));
  BOOST_TEST(outcome.epochs == 3);
  BOOST_TEST(reported == 3);

  // A rank restarted from the checkpoint of the stopping epoch does not train on.
  auto resumed = make_trainer(spec, sync);
  BOOST_REQUIRE(!resumed->resume(last_checkpoint));
  const auto again = run(*resumed);
  BOOST_TEST((again.end == run_end::stopped_early));
  BOOST_TEST(again.steps == outcome.steps);
}

BOOST_AUTO_TEST_CASE(a_stop_request_cancels_before_the_next_step) {
  single_rank_sync sync;
  auto t = make_trainer(small_spec(), sync);
  trainer_callbacks callbacks;
  callbacks.stop_requested = [] { return true; };
  const auto outcome = run(*t, callbacks);
  BOOST_TEST((outcome.end == run_end::cancelled));
  BOOST_TEST(outcome.steps == 0);
}

BOOST_AUTO_TEST_CASE(bf16_on_the_cpu_and_a_layer_that_does_not_fit_the_data_are_refused) {
  single_rank_sync sync;
  auto spec = small_spec();
  spec.precision = precision_kind::bf16;
  auto data = std::get<training_data>(load_training_data(spec, {}));
  auto made = trainer::create(spec, data, sync, {});
  BOOST_REQUIRE(std::holds_alternative<msg::error>(made));
  BOOST_TEST(std::get<msg::error>(made).message == "precision: bf16 needs device: cuda");
  spec = small_spec();
  spec.model.layers = {8, 16, 4};
  made = trainer::create(spec, data, sync, {});
  BOOST_REQUIRE(std::holds_alternative<msg::error>(made));
  BOOST_TEST(std::get<msg::error>(made).message ==
             "model.layers[2]: 4 outputs, but the task needs 3");
}

BOOST_AUTO_TEST_CASE(a_regression_reports_the_mean_absolute_error) {
  auto spec = small_spec();
  spec.task = task_kind::regression;
  spec.model.layers = {8, 16, 1};
  spec.data.synthetic->classes = 0;
  single_rank_sync sync;
  auto t = make_trainer(spec, sync);
  const auto outcome = run(*t);
  BOOST_TEST(outcome.last_epoch->val_mae.has_value());
  BOOST_TEST(!outcome.last_epoch->val_accuracy.has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(model_export)

BOOST_AUTO_TEST_CASE(the_exported_model_loads_and_predicts_what_the_trained_model_does) {
  for (const char* activation : {"relu", "gelu", "tanh", "sigmoid"}) {
    BOOST_TEST_CONTEXT("activation " << activation) {
      auto spec = small_spec();
      spec.model.activation = activation;
      single_rank_sync sync;
      auto t = make_trainer(spec, sync);
      run(*t);
      auto exported = std::get<exported_model>(t->export_model());
      temp_dir dir;
      write_exported_model(exported, dir.path() + "/model");
      torch::jit::ExtraFilesMap extra{{exported_metadata_file, ""}};
      auto loaded = torch::jit::load(dir.path() + "/model/model.pt", c10::nullopt, extra);
      check_predicts_like(loaded, *t);
      BOOST_TEST(nlohmann::json::parse(extra.at(exported_metadata_file)) == exported.metadata);

      const auto& m = exported.metadata;
      BOOST_TEST(m.at("task") == "classification");
      BOOST_TEST(m.at("features").size() == 8u);
      BOOST_TEST(m.at("classes") == (nlohmann::json{"0", "1", "2"}));
      BOOST_TEST(m.at("standardization").at("mean").size() == 8u);
      BOOST_TEST(m.at("dataset_fingerprint").get<std::string>().size() == 64u);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_torchscript_module_is_trained_and_exported_with_its_parameters) {
  // What torch.jit.script(m).save(path) gives for a two-layer network.
  torch::manual_seed(1);
  torch::jit::Module user("UserNet");
  const auto parameter = [](at::Tensor t) { return t.requires_grad_(true); };
  user.register_parameter("w1", parameter(torch::randn({16, 8}) * 0.3), false);
  user.register_parameter("b1", parameter(torch::zeros({16})), false);
  user.register_parameter("w2", parameter(torch::randn({3, 16}) * 0.3), false);
  user.register_parameter("b2", parameter(torch::zeros({3})), false);
  user.define(
      "def forward(self, x):\n"
      "    h = torch.relu(torch.addmm(self.b1, x, self.w1.t()))\n"
      "    return torch.addmm(self.b2, h, self.w2.t())\n");
  temp_dir dir;
  user.save(dir.path() + "/user.pt");

  auto spec = small_spec();
  spec.model = model_spec{"torchscript", {}, "relu", 0.0, dir.path() + "/user.pt"};
  spec.epochs = 3;
  single_rank_sync sync;
  auto t = make_trainer(spec, sync);
  const auto outcome = run(*t);
  BOOST_TEST(*outcome.last_epoch->val_accuracy > 0.8);
  auto exported = exported_module(*t);
  check_predicts_like(exported, *t);
}

BOOST_AUTO_TEST_SUITE_END()
