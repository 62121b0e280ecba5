// The behaviour every store backend must have, written once and run against each backend.
// A backend's suite defines a fixture deriving from `backend` (it gives each test a fresh,
// private store) and stamps the cases out with TROUPE_STORE_CONTRACT(fixture), so that a
// case added here runs against SQLite and PostgreSQL alike.
#pragma once

#include <boost/test/unit_test.hpp>

#include <functional>
#include <string>
#include <vector>

#include "cluster/store/store.hpp"

namespace troupe::store::test {

class backend {
 public:
  virtual ~backend() = default;
  // The URL of a store private to this test (nothing there before the first open).
  virtual std::string url() const = 0;
  // The versions recorded in schema_migrations, ascending, read with the backend's client.
  virtual std::vector<int> applied_migrations() = 0;
  // Records `version` in schema_migrations, as a newer build of Troupe would.
  virtual void record_migration(int version) = 0;
  // Drops `table` behind the store's back, so that every call on it fails.
  virtual void drop_table(const std::string& table) = 0;
  // Runs `sql` (one or more statements) with the backend's client where the store keeps its
  // tables, creating the database when there is none yet.
  virtual void execute(const std::string& sql) = 0;
};

// Every migration's version, ascending: what a store of this build has applied.
std::vector<int> all_versions();
// Creates the schema of migrations 1 to `version` as this build writes it, recorded as applied.
void create_schema_up_to(backend& b, int version);
// Checks that `run` (the call named `call`) throws a store_error naming the store and `what`.
void expect_store_error(backend& b, const std::string& call, const std::string& what,
                        const std::function<void()>& run);

// A node with every field set to a distinct, non-default value.
node_record sample_node(const std::string& node_id);
// Checks each field, naming the one that differs.
void check_same(const node_record& actual, const node_record& expected);
// One write each, as a batch of one.
void put(cluster_store& store, const node_record& node);
void remove(cluster_store& store, const std::string& node_id);

// A job, an attempt and a transition with every field set to a distinct, non-default value.
job_record sample_job(const std::string& job_id);
attempt_record sample_attempt(const std::string& job_id, uint32_t task_index, uint32_t attempt);
job_transition sample_transition(const std::string& job_id, uint64_t seq);
void check_same(const job_record& actual, const job_record& expected);
void check_same(const attempt_record& actual, const attempt_record& expected);
void check_same(const job_transition& actual, const job_transition& expected);
// What the head writes when a job starts: the job, two attempts (a gang of two tasks) and
// its first two transitions.
std::vector<store_write> job_batch(const std::string& job_id);

namespace contract {
void a_new_store_has_no_nodes(backend& b);
void a_stored_node_loads_back_with_every_field(backend& b);
void extreme_numbers_and_awkward_texts_load_back_unchanged(backend& b);
void putting_a_known_node_id_replaces_every_field(backend& b);
void removing_a_node_deletes_only_that_node(backend& b);
void removing_an_unknown_node_changes_nothing(backend& b);
void a_reopened_store_keeps_every_node_and_drain_flag(backend& b);
void reopening_a_store_applies_no_migration_twice(backend& b);
void two_stores_open_on_the_same_data_see_each_others_writes(backend& b);
void stores_opened_at_the_same_time_migrate_once(backend& b);
void a_store_written_by_a_newer_schema_is_refused(backend& b);
void a_failed_call_gives_a_store_error_naming_the_store(backend& b);
void a_store_may_be_shared_between_threads(backend& b);
void a_batch_of_writes_lands_in_order(backend& b);
void an_empty_batch_writes_nothing(backend& b);

void a_new_store_has_no_jobs_attempts_or_transitions(backend& b);
void a_stored_job_attempt_and_transition_load_back_with_every_field(backend& b);
void tasks_retried_alone_load_back_with_each_attempt_numbered_by_its_task(backend& b);
void extreme_job_values_and_awkward_texts_load_back_unchanged(backend& b);
void putting_a_known_job_or_attempt_replaces_every_field(backend& b);
void transitions_load_ordered_by_job_then_seq(backend& b);
void writing_a_transition_again_keeps_one_row(backend& b);
void a_second_job_of_a_tenant_with_the_same_client_request_id_is_refused(backend& b);
void a_batch_of_a_job_its_attempts_and_transitions_lands_all_or_nothing(backend& b);
void a_store_of_the_first_schema_gets_the_jobs_tables_and_keeps_its_nodes(backend& b);
void two_stores_writing_jobs_at_the_same_time_lose_nothing(backend& b);
void a_kill_between_write_and_acknowledgement_loses_nothing_acknowledged(backend& b);
void a_failed_job_call_gives_a_store_error_naming_the_table(backend& b);
void jobs_are_counted_by_state(backend& b);

void a_new_store_has_no_artifacts(backend& b);
void a_stored_artifact_loads_back_with_every_field(backend& b);
void versions_of_a_name_are_kept_by_digest_and_rewriting_one_replaces_it(backend& b);
void removing_an_artifact_version_deletes_only_that_row(backend& b);
void a_store_of_the_jobs_schema_gets_the_artifacts_table_and_keeps_its_nodes(backend& b);
void a_failed_artifact_call_gives_a_store_error_naming_the_table(backend& b);
void versions_count_from_one_per_model_and_load_back_with_every_field(backend& b);
void a_retried_registration_of_a_job_returns_its_first_version(backend& b);
void an_import_is_idempotent_per_name_and_artifact_and_has_no_job(backend& b);
void a_store_of_schema_5_keeps_its_model_versions_with_no_signature(backend& b);
void concurrent_registrations_of_one_name_get_distinct_consecutive_versions(backend& b);
void concurrent_registrations_of_one_job_store_one_version(backend& b);
void a_name_of_another_tenants_model_is_refused_and_nothing_stored(backend& b);
void stage_changes_land_with_their_history_in_order(backend& b);
void concurrent_stage_changes_of_one_model_apply_one_after_the_other(backend& b);

void a_new_store_has_no_metrics(backend& b);
void stored_metrics_load_back_with_every_field(backend& b);
void metrics_load_by_seq_in_pages_and_each_job_apart(backend& b);
void only_the_newest_steps_of_a_job_are_kept_with_every_epoch(backend& b);
void writing_a_batch_of_metrics_again_changes_nothing(backend& b);
void a_store_of_the_models_schema_gets_the_metrics_table_and_keeps_its_nodes(backend& b);
void a_failed_metrics_call_gives_a_store_error_naming_the_table(backend& b);
void tokens_load_back_with_every_field_by_creation_time(backend& b);
void a_token_name_is_taken_once_even_after_its_revocation(backend& b);
void revoking_a_token_keeps_its_first_revocation_time(backend& b);
void a_store_of_the_metrics_schema_gets_the_tokens_table_and_keeps_its_nodes(backend& b);
void a_failed_token_call_gives_a_store_error_naming_the_table(backend& b);
}  // namespace contract

}  // namespace troupe::store::test

#define TROUPE_STORE_CONTRACT_CASE(fixture, name) \
  BOOST_FIXTURE_TEST_CASE(name, fixture) { ::troupe::store::test::contract::name(*this); }

#define TROUPE_STORE_CONTRACT(fixture)                                                             \
  TROUPE_STORE_CONTRACT_CASE(fixture, a_new_store_has_no_nodes)                                    \
  TROUPE_STORE_CONTRACT_CASE(fixture, a_stored_node_loads_back_with_every_field)                   \
  TROUPE_STORE_CONTRACT_CASE(fixture, extreme_numbers_and_awkward_texts_load_back_unchanged)       \
  TROUPE_STORE_CONTRACT_CASE(fixture, putting_a_known_node_id_replaces_every_field)                \
  TROUPE_STORE_CONTRACT_CASE(fixture, removing_a_node_deletes_only_that_node)                      \
  TROUPE_STORE_CONTRACT_CASE(fixture, removing_an_unknown_node_changes_nothing)                    \
  TROUPE_STORE_CONTRACT_CASE(fixture, a_reopened_store_keeps_every_node_and_drain_flag)            \
  TROUPE_STORE_CONTRACT_CASE(fixture, reopening_a_store_applies_no_migration_twice)                \
  TROUPE_STORE_CONTRACT_CASE(fixture, two_stores_open_on_the_same_data_see_each_others_writes)     \
  TROUPE_STORE_CONTRACT_CASE(fixture, stores_opened_at_the_same_time_migrate_once)                 \
  TROUPE_STORE_CONTRACT_CASE(fixture, a_store_written_by_a_newer_schema_is_refused)                \
  TROUPE_STORE_CONTRACT_CASE(fixture, a_failed_call_gives_a_store_error_naming_the_store)          \
  TROUPE_STORE_CONTRACT_CASE(fixture, a_store_may_be_shared_between_threads)                       \
  TROUPE_STORE_CONTRACT_CASE(fixture, a_batch_of_writes_lands_in_order)                            \
  TROUPE_STORE_CONTRACT_CASE(fixture, an_empty_batch_writes_nothing)                               \
  TROUPE_STORE_CONTRACT_CASE(fixture, a_new_store_has_no_jobs_attempts_or_transitions)             \
  TROUPE_STORE_CONTRACT_CASE(fixture,                                                              \
                             a_stored_job_attempt_and_transition_load_back_with_every_field)       \
  TROUPE_STORE_CONTRACT_CASE(fixture,                                                              \
                             tasks_retried_alone_load_back_with_each_attempt_numbered_by_its_task) \
  TROUPE_STORE_CONTRACT_CASE(fixture, extreme_job_values_and_awkward_texts_load_back_unchanged)    \
  TROUPE_STORE_CONTRACT_CASE(fixture, putting_a_known_job_or_attempt_replaces_every_field)         \
  TROUPE_STORE_CONTRACT_CASE(fixture, transitions_load_ordered_by_job_then_seq)                    \
  TROUPE_STORE_CONTRACT_CASE(fixture, writing_a_transition_again_keeps_one_row)                    \
  TROUPE_STORE_CONTRACT_CASE(fixture,                                                              \
                             a_second_job_of_a_tenant_with_the_same_client_request_id_is_refused)  \
  TROUPE_STORE_CONTRACT_CASE(fixture,                                                              \
                             a_batch_of_a_job_its_attempts_and_transitions_lands_all_or_nothing)   \
  TROUPE_STORE_CONTRACT_CASE(fixture,                                                              \
                             a_store_of_the_first_schema_gets_the_jobs_tables_and_keeps_its_nodes) \
  TROUPE_STORE_CONTRACT_CASE(fixture, two_stores_writing_jobs_at_the_same_time_lose_nothing)       \
  TROUPE_STORE_CONTRACT_CASE(fixture,                                                              \
                             a_kill_between_write_and_acknowledgement_loses_nothing_acknowledged)  \
  TROUPE_STORE_CONTRACT_CASE(fixture, a_failed_job_call_gives_a_store_error_naming_the_table)      \
  TROUPE_STORE_CONTRACT_CASE(fixture, jobs_are_counted_by_state)                                   \
  TROUPE_STORE_CONTRACT_CASE(fixture, a_new_store_has_no_artifacts)                                \
  TROUPE_STORE_CONTRACT_CASE(fixture, a_stored_artifact_loads_back_with_every_field)               \
  TROUPE_STORE_CONTRACT_CASE(fixture,                                                              \
                             versions_of_a_name_are_kept_by_digest_and_rewriting_one_replaces_it)  \
  TROUPE_STORE_CONTRACT_CASE(fixture, removing_an_artifact_version_deletes_only_that_row)          \
  TROUPE_STORE_CONTRACT_CASE(                                                                      \
      fixture, a_store_of_the_jobs_schema_gets_the_artifacts_table_and_keeps_its_nodes)            \
  TROUPE_STORE_CONTRACT_CASE(fixture, a_failed_artifact_call_gives_a_store_error_naming_the_table) \
  TROUPE_STORE_CONTRACT_CASE(fixture,                                                              \
                             versions_count_from_one_per_model_and_load_back_with_every_field)     \
  TROUPE_STORE_CONTRACT_CASE(fixture, a_retried_registration_of_a_job_returns_its_first_version)   \
  TROUPE_STORE_CONTRACT_CASE(fixture,                                                              \
                             an_import_is_idempotent_per_name_and_artifact_and_has_no_job)         \
  TROUPE_STORE_CONTRACT_CASE(fixture,                                                              \
                             a_store_of_schema_5_keeps_its_model_versions_with_no_signature)       \
  TROUPE_STORE_CONTRACT_CASE(                                                                      \
      fixture, concurrent_registrations_of_one_name_get_distinct_consecutive_versions)             \
  TROUPE_STORE_CONTRACT_CASE(fixture, concurrent_registrations_of_one_job_store_one_version)       \
  TROUPE_STORE_CONTRACT_CASE(fixture,                                                              \
                             a_name_of_another_tenants_model_is_refused_and_nothing_stored)        \
  TROUPE_STORE_CONTRACT_CASE(fixture, stage_changes_land_with_their_history_in_order)              \
  TROUPE_STORE_CONTRACT_CASE(fixture,                                                              \
                             concurrent_stage_changes_of_one_model_apply_one_after_the_other)      \
  TROUPE_STORE_CONTRACT_CASE(fixture, a_new_store_has_no_metrics)                                  \
  TROUPE_STORE_CONTRACT_CASE(fixture, stored_metrics_load_back_with_every_field)                   \
  TROUPE_STORE_CONTRACT_CASE(fixture, metrics_load_by_seq_in_pages_and_each_job_apart)             \
  TROUPE_STORE_CONTRACT_CASE(fixture, only_the_newest_steps_of_a_job_are_kept_with_every_epoch)    \
  TROUPE_STORE_CONTRACT_CASE(fixture, writing_a_batch_of_metrics_again_changes_nothing)            \
  TROUPE_STORE_CONTRACT_CASE(                                                                      \
      fixture, a_store_of_the_models_schema_gets_the_metrics_table_and_keeps_its_nodes)            \
  TROUPE_STORE_CONTRACT_CASE(fixture, a_failed_metrics_call_gives_a_store_error_naming_the_table)  \
  TROUPE_STORE_CONTRACT_CASE(fixture, tokens_load_back_with_every_field_by_creation_time)          \
  TROUPE_STORE_CONTRACT_CASE(fixture, a_token_name_is_taken_once_even_after_its_revocation)        \
  TROUPE_STORE_CONTRACT_CASE(fixture, revoking_a_token_keeps_its_first_revocation_time)            \
  TROUPE_STORE_CONTRACT_CASE(                                                                      \
      fixture, a_store_of_the_metrics_schema_gets_the_tokens_table_and_keeps_its_nodes)            \
  TROUPE_STORE_CONTRACT_CASE(fixture, a_failed_token_call_gives_a_store_error_naming_the_table)
