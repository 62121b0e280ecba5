#include <boost/test/unit_test.hpp>

#include <cmath>
#include <filesystem>

#include "cluster/training/checkpoint.hpp"
#include "cluster/training/early_stopping.hpp"
#include "cluster/training/lr_schedule.hpp"
#include "tests/unit/temp_dir.hpp"

using namespace troupe;
using namespace troupe::training;
using troupe::test::temp_dir;

BOOST_AUTO_TEST_SUITE(lr_schedules)

BOOST_AUTO_TEST_CASE(a_constant_schedule_keeps_the_base_rate) {
  const lr_schedule_spec constant;
  BOOST_TEST(learning_rate(constant, 0.1, 0, 100) == 0.1);
  BOOST_TEST(learning_rate(constant, 0.1, 99, 100) == 0.1);
}

BOOST_AUTO_TEST_CASE(a_step_schedule_multiplies_by_gamma_every_step_size_steps) {
  lr_schedule_spec step;
  step.name = "step";
  step.step_size = 10;
  step.gamma = 0.5;
  BOOST_TEST(learning_rate(step, 0.1, 9, 100) == 0.1);
  BOOST_TEST(learning_rate(step, 0.1, 10, 100) == 0.05);
  BOOST_TEST(learning_rate(step, 0.1, 25, 100) == 0.025);
}

BOOST_AUTO_TEST_CASE(a_cosine_schedule_falls_from_the_base_to_the_floor) {
  lr_schedule_spec cosine;
  cosine.name = "cosine";
  cosine.min_lr = 0.01;
  BOOST_TEST(learning_rate(cosine, 0.1, 0, 100) == 0.1);
  BOOST_TEST(std::abs(learning_rate(cosine, 0.1, 50, 100) - 0.055) < 1e-12);
  BOOST_TEST(std::abs(learning_rate(cosine, 0.1, 100, 100) - 0.01) < 1e-12);
}

BOOST_AUTO_TEST_CASE(a_warm_up_rises_linearly_then_the_schedule_starts_from_its_end) {
  lr_schedule_spec warm;
  warm.name = "cosine";
  warm.warmup_steps = 10;
  BOOST_TEST(std::abs(learning_rate(warm, 0.1, 0, 110) - 0.01) < 1e-12);
  BOOST_TEST(std::abs(learning_rate(warm, 0.1, 4, 110) - 0.05) < 1e-12);
  BOOST_TEST(learning_rate(warm, 0.1, 10, 110) == 0.1);
  BOOST_TEST(std::abs(learning_rate(warm, 0.1, 60, 110) - 0.05) < 1e-12);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(early_stopping_rule)

BOOST_AUTO_TEST_CASE(it_stops_after_patience_epochs_without_an_improvement) {
  early_stopping_spec spec;
  spec.metric = "val_loss";
  spec.patience = 2;
  early_stopping stopper(spec);
  // Improves until epoch 3, then gets worse: stops at epoch 5.
  const double curve[] = {1.0, 0.8, 0.7, 0.75, 0.9, 0.6};
  int stopped_at = 0;
  for (int epoch = 1; epoch <= 6 && stopped_at == 0; ++epoch)
    if (stopper.should_stop(curve[epoch - 1])) stopped_at = epoch;
  BOOST_TEST(stopped_at == 5);
}

BOOST_AUTO_TEST_CASE(an_improvement_smaller_than_min_delta_does_not_count) {
  early_stopping_spec spec;
  spec.mode = "max";
  spec.patience = 1;
  spec.min_delta = 0.01;
  early_stopping stopper(spec);
  BOOST_TEST(!stopper.should_stop(0.90));
  BOOST_TEST(!stopper.should_stop(0.95));
  BOOST_TEST(stopper.should_stop(0.955));
}

BOOST_AUTO_TEST_CASE(a_restored_state_stops_where_the_unbroken_run_would) {
  early_stopping_spec spec;
  spec.patience = 2;
  early_stopping first(spec), resumed(spec);
  BOOST_TEST(!first.should_stop(1.0));
  BOOST_TEST(!first.should_stop(1.1));
  resumed.restore(first.current());
  BOOST_TEST(resumed.should_stop(1.2));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(checkpoint_format)

BOOST_AUTO_TEST_CASE(a_sealed_checkpoint_opens_to_what_was_sealed) {
  checkpoint_contents contents{{{"epoch", 3}}, std::string("tensor\0bytes", 12)};
  auto opened = open_checkpoint(seal_checkpoint(contents));
  BOOST_REQUIRE(std::holds_alternative<checkpoint_contents>(opened));
  BOOST_TEST(std::get<checkpoint_contents>(opened).state == contents.state);
  BOOST_TEST(std::get<checkpoint_contents>(opened).tensors == contents.tensors);
}

BOOST_AUTO_TEST_CASE(a_checkpoint_with_one_flipped_bit_or_cut_short_is_refused) {
  const auto blob = seal_checkpoint({{{"epoch", 3}}, "tensors"});
  for (size_t i = 8; i < blob.size(); ++i) {
    auto damaged = blob;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x10);
    auto opened = open_checkpoint(damaged);
    BOOST_REQUIRE(std::holds_alternative<msg::error>(opened));
    BOOST_TEST(std::get<msg::error>(opened).message ==
               "checkpoint refused: its sha256 does not match its content (damaged or cut "
               "short)");
  }
  BOOST_TEST(std::holds_alternative<msg::error>(open_checkpoint(blob.substr(0, blob.size() - 1))));
  BOOST_TEST(std::get<msg::error>(open_checkpoint("not a checkpoint at all, but long enough to "
                                                  "hold a header"))
                 .message == "checkpoint refused: not a Troupe checkpoint");
}

BOOST_AUTO_TEST_CASE(the_directory_keeps_the_newest_checkpoints_only) {
  temp_dir dir;
  checkpoint_directory checkpoints(dir.path() + "/ckpt", 2);
  BOOST_TEST(!checkpoints.latest());
  for (int64_t step : {500, 1000, 1500}) checkpoints.save("blob " + std::to_string(step), step);
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path() + "/ckpt"))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  BOOST_TEST(names == (std::vector<std::string>{"checkpoint-000000001000.ckpt",
                                                "checkpoint-000000001500.ckpt"}));
  BOOST_TEST(*checkpoints.latest() == dir.path() + "/ckpt/checkpoint-000000001500.ckpt");
}

BOOST_AUTO_TEST_SUITE_END()
