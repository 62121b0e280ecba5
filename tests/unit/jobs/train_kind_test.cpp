// The train kind's fields: each is parsed into its member, and each bad value is refused with
// the field named (train_launch_test.cpp: what a rank is started with).
#include <boost/test/unit_test.hpp>

#include "train_specs.hpp"

using namespace troupe;
using namespace troupe::jobs;
using namespace troupe::jobs::test;
using training::train_spec;

BOOST_AUTO_TEST_SUITE(train_fields)

BOOST_AUTO_TEST_CASE(a_minimal_train_spec_gets_the_documented_defaults) {
  const auto spec = parse_job_spec(train_text());
  BOOST_TEST(spec.tasks == 1u);
  BOOST_TEST(spec.resources.gpus == 0u);
  const auto s = training::train_spec_from_json(spec.kind_fields);
  BOOST_TEST(s.world_size == 1);
  BOOST_TEST((s.device == training::device_kind::cpu));
  BOOST_TEST((s.task == training::task_kind::classification));
  BOOST_TEST(s.model.activation == "relu");
  BOOST_TEST(s.model.dropout == 0.0);
  BOOST_TEST(s.optimizer.momentum == 0.0);
  BOOST_TEST(s.optimizer.weight_decay == 0.0);
  BOOST_TEST(s.lr_schedule.name == "constant");
  BOOST_TEST(s.grad_clip == 0.0);
  BOOST_TEST((s.precision == training::precision_kind::fp32));
  BOOST_TEST(s.epochs == 1);
  BOOST_TEST(s.batch_size == 32);
  BOOST_TEST(s.seed == 0u);
  BOOST_TEST(!s.early_stopping);
  BOOST_TEST(s.checkpoint.every_steps == 0);
  BOOST_TEST(s.checkpoint.every_epoch);
  BOOST_TEST(s.checkpoint.keep == 3);
  BOOST_TEST(!s.elastic_min_world_size);
  BOOST_TEST(s.model_name == "txn");  // the job's name
  BOOST_TEST(s.bucket_mb == 25);
}

BOOST_AUTO_TEST_CASE(every_field_given_in_yaml_lands_in_its_member) {
  const auto s = parsed(
      "name: full\nkind: train\nworld_size: 4\ndevice: cuda\n"
      "model: {type: mlp, layers: [3, 16, 16, 5], activation: gelu, dropout: 0.25}\n"
      "task: classification\n"
      "data: {dataset: txn-train, label: category, features: [amount, hour_sin, hour_cos], "
      "validation_dataset: txn-val}\n"
      "optimizer: {name: adamw, lr: 0.003, betas: [0.85, 0.995], eps: 1.0e-7, "
      "weight_decay: 0.05}\n"
      "lr_schedule: {name: cosine, warmup_steps: 100, min_lr: 1.0e-5}\n"
      "grad_clip: 1.5\nprecision: bf16\nepochs: 7\nbatch_size: 512\nseed: 9007199254740993\n"
      "early_stopping: {metric: val_accuracy, mode: max, patience: 3, min_delta: 0.001}\n"
      "checkpoint: {every_steps: 250, every_epoch: false, keep: 5}\n"
      "elastic: {min_world_size: 2}\noutput: {model_name: txn-category}\nbucket_mb: 50\n");
  BOOST_TEST((s == every_field_mlp()));
}

BOOST_AUTO_TEST_CASE(every_field_of_the_other_variants_lands_in_its_member) {
  const auto s = parsed(
      "name: r\nkind: train\nworld_size: 2\nmodel: {type: torchscript, path: ranker.pt}\n"
      "task: regression\n"
      "data: {synthetic: {rows: 200000, features: 64, seed: 7}, validation_split: 0.2}\n"
      "optimizer: {name: sgd, lr: 0.05, momentum: 0.9, nesterov: true, weight_decay: 1.0e-4}\n"
      "lr_schedule: {name: step, warmup_steps: 10, step_size: 1000, gamma: 0.5}\n"
      "early_stopping: {metric: val_mae}\ncheckpoint: {every_steps: 500}\n"
      "output: {model_name: ranker}\n");
  BOOST_TEST((s == every_field_torchscript()));
}

BOOST_AUTO_TEST_CASE(a_train_job_runs_one_task_per_rank) {
  BOOST_TEST(parse_job_spec(train_text({{"world_size", "3"}})).tasks == 3u);
  BOOST_TEST(parse_job_spec(train_text({{"world_size", "3"}, {"tasks", "3"}})).tasks == 3u);
}

BOOST_AUTO_TEST_CASE(an_elastic_train_job_may_run_on_as_few_tasks_as_its_min_world_size) {
  const auto elastic =
      parse_job_spec(train_text({{"world_size", "3"}, {"elastic", "{min_world_size: 2}"}}));
  BOOST_TEST(elastic.tasks == 3u);
  BOOST_TEST(elastic.min_tasks == 2u);
  BOOST_TEST(elastic.fewest_tasks() == 2u);
  const auto whole = parse_job_spec(train_text({{"world_size", "3"}}));
  BOOST_TEST(whole.min_tasks == 0u);
  BOOST_TEST(whole.fewest_tasks() == 3u);
}

BOOST_AUTO_TEST_CASE(tasks_other_than_world_size_are_refused) {
  BOOST_TEST(refused_train({{"world_size", "2"}, {"tasks", "3"}}) ==
             (refusal{"tasks",
                      "tasks: a train job runs one task per rank: leave tasks out or make it "
                      "world_size (2), got 3"}));
}

BOOST_AUTO_TEST_CASE(world_size_0_is_out_of_range) {
  BOOST_TEST(refused_train({{"world_size", "0"}}) ==
             (refusal{"world_size", "world_size: must be between 1 and 1024, got 0"}));
}

BOOST_AUTO_TEST_CASE(a_quoted_world_size_is_a_wrong_type) {
  BOOST_TEST(refused_train({{"world_size", "\"2\""}}) ==
             (refusal{"world_size", "world_size: expected a whole number >= 0, got \"2\""}));
}

BOOST_AUTO_TEST_CASE(a_cuda_rank_gets_one_gpu_unless_the_spec_says_so) {
  const auto spec = parse_job_spec(train_text({{"device", "cuda"}}));
  BOOST_TEST(spec.resources.gpus == 1u);
  BOOST_TEST(
      parse_job_spec(train_text({{"device", "cuda"}, {"resources", "{gpus: 1}"}})).resources.gpus ==
      1u);
}

BOOST_AUTO_TEST_CASE(a_cuda_rank_without_a_gpu_is_refused) {
  BOOST_TEST(refused_train({{"device", "cuda"}, {"resources", "{gpus: 0}"}}) ==
             (refusal{"resources.gpus",
                      "resources.gpus: a cuda rank trains on one GPU: expected 1 (or leave gpus "
                      "out), got 0"}));
}

BOOST_AUTO_TEST_CASE(a_cuda_rank_with_two_gpus_is_refused) {
  BOOST_TEST(refused_train({{"device", "cuda"}, {"resources", "{gpus: 2}"}}) ==
             (refusal{"resources.gpus",
                      "resources.gpus: a cuda rank trains on one GPU: expected 1 (or leave gpus "
                      "out), got 2"}));
}

BOOST_AUTO_TEST_CASE(a_cpu_rank_holding_a_gpu_is_refused) {
  BOOST_TEST(refused_train({{"resources", "{cpus: 2, gpus: 1}"}}) ==
             (refusal{"resources.gpus",
                      "resources.gpus: a cpu rank uses no GPU: expected 0 (or leave gpus out), "
                      "got 1"}));
}

BOOST_AUTO_TEST_CASE(an_unknown_device_is_refused) {
  BOOST_TEST(refused_train({{"device", "tpu"}}) ==
             (refusal{"device", "device: expected one of cpu, cuda, got \"tpu\""}));
}

BOOST_AUTO_TEST_CASE(an_unknown_top_level_field_is_named_with_the_train_fields) {
  BOOST_TEST(refused_train({{"optimiser", "{name: sgd}"}}) ==
             (refusal{"optimiser",
                      "optimiser: unknown field (known: name, kind, tenant, priority, resources, "
                      "tasks, retries, timeout_s, after, world_size, device, model, task, data, "
                      "optimizer, lr_schedule, grad_clip, precision, epochs, batch_size, seed, "
                      "early_stopping, checkpoint, elastic, output, bucket_mb)"}));
}

BOOST_AUTO_TEST_CASE(a_missing_model_is_refused) {
  BOOST_TEST(refused_train({{"model", ""}}) == (refusal{"model", "model: required field missing"}));
}

BOOST_AUTO_TEST_CASE(a_model_that_is_not_a_mapping_is_a_wrong_type) {
  BOOST_TEST(refused_train({{"model", "mlp"}}) ==
             (refusal{"model", "model: expected a mapping, got \"mlp\""}));
}

BOOST_AUTO_TEST_CASE(a_model_without_a_type_is_refused) {
  BOOST_TEST(refused_train({{"model", "{layers: [4, 3]}"}}) ==
             (refusal{"model.type", "model.type: required field missing"}));
}

BOOST_AUTO_TEST_CASE(a_typo_in_a_model_is_named_before_its_missing_type) {
  BOOST_TEST(refused_train({{"model", "{tpye: mlp, layers: [4, 3]}"}}) ==
             (refusal{"model.tpye",
                      "model.tpye: unknown field (known: type, layers, activation, dropout, "
                      "path)"}));
}

BOOST_AUTO_TEST_CASE(an_unknown_model_type_is_refused) {
  BOOST_TEST(refused_train({{"model", "{type: cnn}"}}) ==
             (refusal{"model.type", "model.type: expected one of mlp, torchscript, got \"cnn\""}));
}

BOOST_AUTO_TEST_CASE(an_mlp_without_layers_is_refused) {
  BOOST_TEST(refused_train({{"model", "{type: mlp}"}}) ==
             (refusal{"model.layers", "model.layers: required field missing"}));
}

BOOST_AUTO_TEST_CASE(one_layer_width_is_too_few) {
  BOOST_TEST(refused_train({{"model", "{type: mlp, layers: [4]}"}}) ==
             (refusal{"model.layers",
                      "model.layers: expected 2 to 64 widths (input, hidden..., output), got 1"}));
}

BOOST_AUTO_TEST_CASE(a_width_of_0_is_out_of_range) {
  BOOST_TEST(refused_train({{"model", "{type: mlp, layers: [4, 0, 3]}"}}) ==
             (refusal{"model.layers[1]", "model.layers[1]: must be between 1 and 1048576, got 0"}));
}

BOOST_AUTO_TEST_CASE(a_width_that_is_a_word_is_a_wrong_type) {
  BOOST_TEST(
      refused_train({{"model", "{type: mlp, layers: [4, wide, 3]}"}}) ==
      (refusal{"model.layers[1]", "model.layers[1]: expected a whole number >= 0, got \"wide\""}));
}

BOOST_AUTO_TEST_CASE(layers_that_are_not_a_list_are_a_wrong_type) {
  BOOST_TEST(refused_train({{"model", "{type: mlp, layers: 4}"}}) ==
             (refusal{"model.layers", "model.layers: expected a list of whole numbers, got 4"}));
}

BOOST_AUTO_TEST_CASE(an_unknown_activation_is_refused) {
  BOOST_TEST(refused_train({{"model", "{type: mlp, layers: [4, 3], activation: swish}"}}) ==
             (refusal{"model.activation",
                      "model.activation: expected one of relu, gelu, tanh, sigmoid, got "
                      "\"swish\""}));
}

BOOST_AUTO_TEST_CASE(a_dropout_of_1_is_refused) {
  BOOST_TEST(
      refused_train({{"model", "{type: mlp, layers: [4, 3], dropout: 1}"}}) ==
      (refusal{"model.dropout", "model.dropout: must be at least 0 and less than 1, got 1"}));
}

BOOST_AUTO_TEST_CASE(a_torchscript_model_without_a_path_is_refused) {
  BOOST_TEST(refused_train({{"model", "{type: torchscript}"}}) ==
             (refusal{"model.path", "model.path: required field missing"}));
}

BOOST_AUTO_TEST_CASE(a_torchscript_path_is_an_artifact_name_not_a_file_path) {
  BOOST_TEST(refused_train({{"model", "{type: torchscript, path: /tmp/net.pt}"}}) ==
             (refusal{"model.path",
                      "model.path: expected 1 to 128 characters of A-Z a-z 0-9 . _ -, got "
                      "\"/tmp/net.pt\""}));
}

BOOST_AUTO_TEST_CASE(layers_of_a_torchscript_model_are_refused) {
  BOOST_TEST(refused_train({{"model", "{type: torchscript, path: net.pt, layers: [4, 3]}"}}) ==
             (refusal{"model.layers", "model.layers: unknown field (known: type, path)"}));
}

BOOST_AUTO_TEST_CASE(a_path_of_an_mlp_is_refused) {
  BOOST_TEST(refused_train({{"model", "{type: mlp, layers: [4, 3], path: net.pt}"}}) ==
             (refusal{"model.path",
                      "model.path: unknown field (known: type, layers, activation, dropout)"}));
}

BOOST_AUTO_TEST_CASE(an_input_width_other_than_the_synthetic_features_is_refused) {
  BOOST_TEST(refused_train({{"model", "{type: mlp, layers: [5, 8, 3]}"}}) ==
             (refusal{"model.layers[0]",
                      "model.layers[0]: the input width must be data.synthetic.features (4), got "
                      "5"}));
}

BOOST_AUTO_TEST_CASE(an_input_width_other_than_the_listed_features_is_refused) {
  BOOST_TEST(refused_train({{"data", "{dataset: d, label: y, features: [a, b]}"}}) ==
             (refusal{"model.layers[0]",
                      "model.layers[0]: the input width must be the number of data.features (2), "
                      "got 4"}));
}

BOOST_AUTO_TEST_CASE(an_output_width_other_than_the_synthetic_classes_is_refused) {
  BOOST_TEST(refused_train({{"model", "{type: mlp, layers: [4, 8, 2]}"}}) ==
             (refusal{"model.layers[2]",
                      "model.layers[2]: the output width must be data.synthetic.classes (3), got "
                      "2"}));
}

BOOST_AUTO_TEST_CASE(a_regression_mlp_with_more_than_one_output_is_refused) {
  BOOST_TEST(
      refused_train({{"task", "regression"}, {"data", "{synthetic: {rows: 100, features: 4}}"}}) ==
      (refusal{"model.layers[2]",
               "model.layers[2]: the output width must be 1 for task regression, got 3"}));
}

BOOST_AUTO_TEST_CASE(an_unknown_task_is_refused) {
  BOOST_TEST(
      refused_train({{"task", "ranking"}}) ==
      (refusal{"task", "task: expected one of classification, regression, got \"ranking\""}));
}

BOOST_AUTO_TEST_CASE(missing_data_is_refused) {
  BOOST_TEST(refused_train({{"data", ""}}) == (refusal{"data", "data: required field missing"}));
}

BOOST_AUTO_TEST_CASE(data_without_dataset_or_synthetic_is_refused) {
  BOOST_TEST(refused_train({{"data", "{label: y}"}}) ==
             (refusal{"data.dataset",
                      "data.dataset: required field missing (give dataset or synthetic)"}));
}

BOOST_AUTO_TEST_CASE(a_dataset_and_synthetic_data_together_are_refused) {
  BOOST_TEST(refused_train({{"data", "{dataset: d, synthetic: {rows: 1, features: 4}}"}}) ==
             (refusal{"data.synthetic", "data.synthetic: give dataset or synthetic, not both"}));
}

BOOST_AUTO_TEST_CASE(a_dataset_without_a_label_is_refused) {
  BOOST_TEST(refused_train({{"data", "{dataset: d}"}}) ==
             (refusal{"data.label", "data.label: required field missing"}));
}

const std::string artifact_rule =
    "expected an artifact name, 1 to 200 characters of A-Z, a-z, 0-9, '.', '_', '-', '/', not "
    "starting with '.' or '/', without '..', got ";

BOOST_AUTO_TEST_CASE(a_dataset_name_outside_the_name_characters_is_refused) {
  BOOST_TEST(refused_train({{"data", "{dataset: my data, label: y}"}}) ==
             (refusal{"data.dataset", "data.dataset: " + artifact_rule + "\"my data\""}));
}

// Names the job spec's own rule took, which the artifact store never gives a dataset.
BOOST_AUTO_TEST_CASE(a_dataset_name_the_artifact_store_refuses_is_refused_at_submit) {
  for (const std::string name : {".hidden", "txn..train"})
    BOOST_TEST(refused_train({{"data", "{dataset: " + name + ", label: y}"}}) ==
               (refusal{"data.dataset", "data.dataset: " + artifact_rule + shown(name)}));
  BOOST_TEST(refused_train({{"data", "{dataset: d, label: y, validation_dataset: /txn-val}"}}) ==
             (refusal{"data.validation_dataset",
                      "data.validation_dataset: " + artifact_rule + "\"/txn-val\""}));
}

BOOST_AUTO_TEST_CASE(a_dataset_named_with_a_slash_as_the_artifact_store_allows_is_taken) {
  const auto s = parsed(train_text(
      {{"data", "{dataset: team/txn-train, label: y, validation_dataset: team/txn-val}"}}));
  BOOST_TEST(s.data.dataset == "team/txn-train");
  BOOST_TEST(s.data.validation_dataset == "team/txn-val");
}

BOOST_AUTO_TEST_CASE(a_label_of_synthetic_data_is_refused) {
  BOOST_TEST(
      refused_train({{"data", "{synthetic: {rows: 1, features: 4, classes: 3}, label: y}"}}) ==
      (refusal{"data.label", "data.label: unknown field (known: synthetic, validation_split)"}));
}

BOOST_AUTO_TEST_CASE(synthetic_classification_data_without_classes_is_refused) {
  BOOST_TEST(refused_train({{"data", "{synthetic: {rows: 100, features: 4}}"}}) ==
             (refusal{"data.synthetic.classes", "data.synthetic.classes: required field missing"}));
}

BOOST_AUTO_TEST_CASE(one_class_is_too_few) {
  BOOST_TEST(refused_train({{"data", "{synthetic: {rows: 100, features: 4, classes: 1}}"}}) ==
             (refusal{"data.synthetic.classes",
                      "data.synthetic.classes: must be between 2 and 65536, got 1"}));
}

BOOST_AUTO_TEST_CASE(classes_of_synthetic_regression_data_are_refused) {
  BOOST_TEST(refused_train({{"task", "regression"}, {"model", "{type: mlp, layers: [4, 1]}"}}) ==
             (refusal{"data.synthetic.classes",
                      "data.synthetic.classes: only for task classification (regression has no "
                      "classes)"}));
}

BOOST_AUTO_TEST_CASE(zero_synthetic_rows_are_out_of_range) {
  BOOST_TEST(refused_train({{"data", "{synthetic: {rows: 0, features: 4, classes: 3}}"}}) ==
             (refusal{"data.synthetic.rows",
                      "data.synthetic.rows: must be between 1 and 1000000000, got 0"}));
}

BOOST_AUTO_TEST_CASE(an_unknown_synthetic_field_is_refused) {
  BOOST_TEST(
      refused_train({{"data", "{synthetic: {rows: 9, features: 4, classes: 3, noise: 1}}"}}) ==
      (refusal{"data.synthetic.noise",
               "data.synthetic.noise: unknown field (known: rows, features, classes, seed)"}));
}

BOOST_AUTO_TEST_CASE(a_validation_split_and_a_validation_dataset_together_are_refused) {
  BOOST_TEST(
      refused_train({{"data",
                      "{dataset: d, label: y, validation_split: 0.1, "
                      "validation_dataset: v}"}}) ==
      (refusal{"data.validation_dataset",
               "data.validation_dataset: give validation_split or validation_dataset, not both"}));
}

BOOST_AUTO_TEST_CASE(validating_on_the_training_dataset_is_refused) {
  BOOST_TEST(refused_train({{"data", "{dataset: d, label: y, validation_dataset: d}"}}) ==
             (refusal{"data.validation_dataset",
                      "data.validation_dataset: must differ from dataset: validation on the "
                      "training data measures nothing"}));
}

BOOST_AUTO_TEST_CASE(a_validation_split_of_1_is_refused) {
  BOOST_TEST(refused_train({{"data",
                             "{synthetic: {rows: 9, features: 4, classes: 3}, "
                             "validation_split: 1.0}"}}) ==
             (refusal{"data.validation_split",
                      "data.validation_split: must be at least 0 and less than 1, got 1"}));
}

BOOST_AUTO_TEST_CASE(an_empty_feature_list_is_refused) {
  BOOST_TEST(refused_train({{"data", "{dataset: d, label: y, features: []}"}}) ==
             (refusal{"data.features",
                      "data.features: expected 1 to 65536 columns (leave features out for every "
                      "column but the label), got 0"}));
}

BOOST_AUTO_TEST_CASE(the_label_among_the_features_is_refused) {
  BOOST_TEST(refused_train({{"data", "{dataset: d, label: y, features: [a, y, b, c]}"}}) ==
             (refusal{"data.features[1]",
                      "data.features[1]: the label column \"y\" cannot be a feature"}));
}

BOOST_AUTO_TEST_CASE(a_feature_listed_twice_is_refused) {
  BOOST_TEST(refused_train({{"data", "{dataset: d, label: y, features: [a, b, a, c]}"}}) ==
             (refusal{"data.features[2]", "data.features[2]: \"a\" is listed twice"}));
}

BOOST_AUTO_TEST_CASE(an_empty_label_is_refused) {
  BOOST_TEST(refused_train({{"data", "{dataset: d, label: ''}"}}) ==
             (refusal{"data.label",
                      "data.label: expected a column name of 1 to 256 bytes of text without "
                      "control characters, got \"\""}));
}

BOOST_AUTO_TEST_CASE(a_missing_optimizer_is_refused) {
  BOOST_TEST(refused_train({{"optimizer", ""}}) ==
             (refusal{"optimizer", "optimizer: required field missing"}));
}

BOOST_AUTO_TEST_CASE(an_unknown_optimizer_is_refused) {
  BOOST_TEST(refused_train({{"optimizer", "{name: lbfgs, lr: 1}"}}) ==
             (refusal{"optimizer.name",
                      "optimizer.name: expected one of sgd, adam, adamw, got \"lbfgs\""}));
}

BOOST_AUTO_TEST_CASE(an_optimizer_without_a_learning_rate_is_refused) {
  BOOST_TEST(refused_train({{"optimizer", "{name: adam}"}}) ==
             (refusal{"optimizer.lr", "optimizer.lr: required field missing"}));
}

BOOST_AUTO_TEST_CASE(a_learning_rate_of_0_is_out_of_range) {
  BOOST_TEST(
      refused_train({{"optimizer", "{name: sgd, lr: 0}"}}) ==
      (refusal{"optimizer.lr", "optimizer.lr: must be greater than 0 and at most 10, got 0"}));
}

BOOST_AUTO_TEST_CASE(a_quoted_learning_rate_is_a_wrong_type) {
  BOOST_TEST(refused_train({{"optimizer", "{name: sgd, lr: '0.1'}"}}) ==
             (refusal{"optimizer.lr", "optimizer.lr: expected a number, got \"0.1\""}));
}

BOOST_AUTO_TEST_CASE(betas_of_sgd_are_refused) {
  BOOST_TEST(refused_train({{"optimizer", "{name: sgd, lr: 0.1, betas: [0.9, 0.99]}"}}) ==
             (refusal{"optimizer.betas",
                      "optimizer.betas: unknown field (known: name, lr, momentum, nesterov, "
                      "weight_decay)"}));
}

BOOST_AUTO_TEST_CASE(momentum_of_adam_is_refused) {
  BOOST_TEST(refused_train({{"optimizer", "{name: adam, lr: 0.1, momentum: 0.9}"}}) ==
             (refusal{"optimizer.momentum",
                      "optimizer.momentum: unknown field (known: name, lr, betas, eps, "
                      "weight_decay)"}));
}

BOOST_AUTO_TEST_CASE(nesterov_without_momentum_is_refused) {
  BOOST_TEST(refused_train({{"optimizer", "{name: sgd, lr: 0.1, nesterov: true}"}}) ==
             (refusal{"optimizer.nesterov", "optimizer.nesterov: needs momentum greater than 0"}));
}

BOOST_AUTO_TEST_CASE(a_nesterov_that_is_not_a_boolean_is_a_wrong_type) {
  BOOST_TEST(
      refused_train({{"optimizer", "{name: sgd, lr: 0.1, momentum: 0.9, nesterov: yes}"}}) ==
      (refusal{"optimizer.nesterov", "optimizer.nesterov: expected true or false, got \"yes\""}));
}

BOOST_AUTO_TEST_CASE(three_betas_are_refused) {
  BOOST_TEST(
      refused_train({{"optimizer", "{name: adam, lr: 0.1, betas: [0.9, 0.99, 0.999]}"}}) ==
      (refusal{"optimizer.betas", "optimizer.betas: expected 2 numbers [beta1, beta2], got 3"}));
}

BOOST_AUTO_TEST_CASE(a_beta_of_1_is_refused) {
  BOOST_TEST(refused_train({{"optimizer", "{name: adamw, lr: 0.1, betas: [0.9, 1]}"}}) ==
             (refusal{"optimizer.betas[1]",
                      "optimizer.betas[1]: must be at least 0 and less than 1, got 1"}));
}

BOOST_AUTO_TEST_CASE(an_eps_of_0_is_out_of_range) {
  BOOST_TEST(
      refused_train({{"optimizer", "{name: adam, lr: 0.1, eps: 0}"}}) ==
      (refusal{"optimizer.eps", "optimizer.eps: must be greater than 0 and at most 1, got 0"}));
}

BOOST_AUTO_TEST_CASE(adamw_decays_weights_by_0_01_unless_told_and_adam_not) {
  BOOST_TEST(parsed(train_text({{"optimizer", "{name: adamw, lr: 0.1}"}})).optimizer.weight_decay ==
             0.01);
  BOOST_TEST(parsed(train_text({{"optimizer", "{name: adam, lr: 0.1}"}})).optimizer.weight_decay ==
             0.0);
  BOOST_TEST(parsed(train_text({{"optimizer", "{name: adamw, lr: 0.1, weight_decay: 0}"}}))
                 .optimizer.weight_decay == 0.0);
}

BOOST_AUTO_TEST_CASE(an_unknown_lr_schedule_is_refused) {
  BOOST_TEST(refused_train({{"lr_schedule", "{name: cyclic}"}}) ==
             (refusal{"lr_schedule.name",
                      "lr_schedule.name: expected one of constant, step, cosine, got \"cyclic\""}));
}

BOOST_AUTO_TEST_CASE(a_step_schedule_without_a_step_size_is_refused) {
  BOOST_TEST(refused_train({{"lr_schedule", "{name: step, gamma: 0.5}"}}) ==
             (refusal{"lr_schedule.step_size", "lr_schedule.step_size: required field missing"}));
}

BOOST_AUTO_TEST_CASE(a_gamma_of_a_constant_schedule_is_refused) {
  BOOST_TEST(refused_train({{"lr_schedule", "{gamma: 0.5}"}}) ==
             (refusal{"lr_schedule.gamma",
                      "lr_schedule.gamma: unknown field (known: name, warmup_steps)"}));
}

BOOST_AUTO_TEST_CASE(a_cosine_floor_above_the_learning_rate_is_refused) {
  BOOST_TEST(refused_train({{"lr_schedule", "{name: cosine, min_lr: 0.5}"}}) ==
             (refusal{"lr_schedule.min_lr",
                      "lr_schedule.min_lr: must be at most optimizer.lr (0.1), got 0.5"}));
}

BOOST_AUTO_TEST_CASE(negative_warmup_steps_are_refused) {
  BOOST_TEST(refused_train({{"lr_schedule", "{warmup_steps: -5}"}}) ==
             (refusal{"lr_schedule.warmup_steps",
                      "lr_schedule.warmup_steps: must be between 0 and 1000000000, got -5"}));
}

BOOST_AUTO_TEST_CASE(a_negative_grad_clip_is_refused) {
  BOOST_TEST(refused_train({{"grad_clip", "-1"}}) ==
             (refusal{"grad_clip", "grad_clip: must be between 0 and 1000, got -1"}));
}

BOOST_AUTO_TEST_CASE(bf16_on_cpu_is_refused) {
  BOOST_TEST(refused_train({{"precision", "bf16"}}) ==
             (refusal{"precision",
                      "precision: bf16 needs device cuda (its autocast runs on CUDA only), got "
                      "device cpu"}));
  BOOST_TEST((parsed(train_text({{"precision", "bf16"}, {"device", "cuda"}})).precision ==
              training::precision_kind::bf16));
}

BOOST_AUTO_TEST_CASE(an_unknown_precision_is_refused) {
  BOOST_TEST(refused_train({{"precision", "fp16"}}) ==
             (refusal{"precision", "precision: expected one of fp32, bf16, got \"fp16\""}));
}

BOOST_AUTO_TEST_CASE(zero_epochs_are_out_of_range) {
  BOOST_TEST(refused_train({{"epochs", "0"}}) ==
             (refusal{"epochs", "epochs: must be between 1 and 100000, got 0"}));
}

BOOST_AUTO_TEST_CASE(a_batch_size_of_0_is_out_of_range) {
  BOOST_TEST(refused_train({{"batch_size", "0"}}) ==
             (refusal{"batch_size", "batch_size: must be between 1 and 1048576, got 0"}));
}

BOOST_AUTO_TEST_CASE(a_negative_seed_is_out_of_range) {
  BOOST_TEST(refused_train({{"seed", "-1"}}) ==
             (refusal{"seed", "seed: must be between 0 and 9223372036854775807, got -1"}));
}

BOOST_AUTO_TEST_CASE(accuracy_as_a_regression_metric_is_refused) {
  BOOST_TEST(refused_train({{"task", "regression"},
                            {"model", "{type: mlp, layers: [4, 1]}"},
                            {"data", "{synthetic: {rows: 9, features: 4}, validation_split: 0.1}"},
                            {"early_stopping", "{metric: val_accuracy}"}}) ==
             (refusal{"early_stopping.metric",
                      "early_stopping.metric: val_accuracy is for task classification; "
                      "regression has val_loss, val_mae and train_loss"}));
}

BOOST_AUTO_TEST_CASE(mae_as_a_classification_metric_is_refused) {
  BOOST_TEST(refused_train(with(dataset_data, {{"early_stopping", "{metric: val_mae}"}})) ==
             (refusal{"early_stopping.metric",
                      "early_stopping.metric: val_mae is for task regression; classification has "
                      "val_loss, val_accuracy and train_loss"}));
}

BOOST_AUTO_TEST_CASE(a_validation_metric_without_validation_data_is_refused) {
  BOOST_TEST(refused_train({{"early_stopping", "{patience: 2}"}}) ==
             (refusal{"early_stopping.metric",
                      "early_stopping.metric: val_loss needs validation data: give "
                      "data.validation_split or data.validation_dataset"}));
  BOOST_TEST(parse_job_spec(train_text({{"early_stopping", "{metric: train_loss}"}})).kind ==
             "train");
}

BOOST_AUTO_TEST_CASE(early_stopping_on_accuracy_looks_for_a_maximum_unless_told) {
  const auto s =
      parsed(train_text(with(dataset_data, {{"early_stopping", "{metric: val_accuracy}"}})));
  BOOST_TEST(s.early_stopping->mode == "max");
  BOOST_TEST(parsed(train_text(with(dataset_data, {{"early_stopping", "{patience: 1}"}})))
                 .early_stopping->mode == "min");
}

BOOST_AUTO_TEST_CASE(an_unknown_early_stopping_mode_is_refused) {
  BOOST_TEST(refused_train(with(dataset_data, {{"early_stopping", "{mode: lowest}"}})) ==
             (refusal{"early_stopping.mode",
                      "early_stopping.mode: expected one of min, max, got \"lowest\""}));
}

BOOST_AUTO_TEST_CASE(keeping_no_checkpoint_is_out_of_range) {
  BOOST_TEST(refused_train({{"checkpoint", "{every_steps: 500, keep: 0}"}}) ==
             (refusal{"checkpoint.keep", "checkpoint.keep: must be between 1 and 1000, got 0"}));
}

BOOST_AUTO_TEST_CASE(an_unknown_checkpoint_field_is_refused) {
  BOOST_TEST(refused_train({{"checkpoint", "{every: 500}"}}) ==
             (refusal{"checkpoint.every",
                      "checkpoint.every: unknown field (known: every_steps, every_epoch, keep)"}));
}

BOOST_AUTO_TEST_CASE(an_elastic_minimum_above_world_size_is_refused) {
  BOOST_TEST(refused_train({{"world_size", "2"}, {"elastic", "{min_world_size: 3}"}}) ==
             (refusal{"elastic.min_world_size",
                      "elastic.min_world_size: must be at most world_size (2), got 3"}));
}

BOOST_AUTO_TEST_CASE(elastic_without_a_minimum_is_refused) {
  BOOST_TEST(refused_train({{"elastic", "{}"}}) ==
             (refusal{"elastic.min_world_size", "elastic.min_world_size: required field missing"}));
}

const std::string model_rule =
    "output.model_name: expected a model name, 1 to 128 letters, digits, '.', '_' or '-', "
    "starting with a letter or digit, got ";

BOOST_AUTO_TEST_CASE(a_model_name_outside_the_name_characters_is_refused) {
  BOOST_TEST(refused_train({{"output", "{model_name: txn category}"}}) ==
             (refusal{"output.model_name", model_rule + "\"txn category\""}));
}

// Names the job spec's own rule took, which the registry refuses once the job has trained.
BOOST_AUTO_TEST_CASE(a_model_name_the_registry_refuses_is_refused_at_submit) {
  for (const std::string name : {"-txn", "_txn", ".txn"})
    BOOST_TEST(refused_train({{"output", "{model_name: " + name + "}"}}) ==
               (refusal{"output.model_name", model_rule + shown(name)}));
}

BOOST_AUTO_TEST_CASE(a_job_name_that_is_no_model_name_needs_an_output_model_name) {
  BOOST_TEST(refused_train({{"name", "_scratch"}}) ==
             (refusal{"output.model_name", model_rule + "\"_scratch\" (the job's name)"}));
  BOOST_TEST(
      parsed(train_text({{"name", "_scratch"}, {"output", "{model_name: scratch}"}})).model_name ==
      "scratch");
}

BOOST_AUTO_TEST_CASE(a_bucket_of_0_mb_is_out_of_range) {
  BOOST_TEST(refused_train({{"bucket_mb", "0"}}) ==
             (refusal{"bucket_mb", "bucket_mb: must be between 1 and 1024, got 0"}));
}

BOOST_AUTO_TEST_CASE(a_feature_list_too_long_for_a_ranks_environment_is_refused) {
  const auto r = refused(spec_with_features(20000));
  BOOST_TEST(r.field == "data.features");
  BOOST_TEST(r.message.rfind("data.features: the train spec would be ", 0) == 0u);
  BOOST_TEST(r.message.find(" bytes as JSON, more than the 122880 a rank can be given: leave "
                            "features out to use every column but the label") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
