#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <limits>
#include <random>

#include "cluster/jobs/job_kind.hpp"
#include "cluster/jobs/job_spec.hpp"
#include "spec_checks.hpp"

using namespace troupe::jobs;
using namespace troupe::jobs::test;

BOOST_AUTO_TEST_SUITE(refused_specs)

BOOST_AUTO_TEST_CASE(an_unknown_top_level_field_is_named_with_the_known_ones) {
  BOOST_TEST(refused(command_spec("nmae: x\n")) ==
             (refusal{"nmae",
                      "nmae: unknown field (known: name, kind, tenant, priority, resources, tasks, "
                      "retries, timeout_s, after, argv, shell, env, workdir)"}));
}

BOOST_AUTO_TEST_CASE(an_unknown_field_in_resources_is_named_by_its_path) {
  BOOST_TEST(refused(command_spec("resources: {cpus: 1, gpu: 1}\n")) ==
             (refusal{"resources.gpu",
                      "resources.gpu: unknown field (known: cpus, memory_mb, gpus, labels)"}));
}

BOOST_AUTO_TEST_CASE(an_unknown_field_in_retries_is_named_by_its_path) {
  BOOST_TEST(
      refused(command_spec("retries: {maximum: 3}\n")) ==
      (refusal{"retries.maximum", "retries.maximum: unknown field (known: max, backoff_s)"}));
}

BOOST_AUTO_TEST_CASE(a_word_where_a_whole_number_belongs_is_a_wrong_type) {
  BOOST_TEST(
      refused(command_spec("resources: {gpus: two}\n")) ==
      (refusal{"resources.gpus", "resources.gpus: expected a whole number >= 0, got \"two\""}));
}

BOOST_AUTO_TEST_CASE(a_quoted_number_is_a_string_not_a_number) {
  BOOST_TEST(refused(command_spec("tasks: \"2\"\n")) ==
             (refusal{"tasks", "tasks: expected a whole number >= 0, got \"2\""}));
}

BOOST_AUTO_TEST_CASE(a_fraction_where_a_whole_number_belongs_is_a_wrong_type) {
  BOOST_TEST(refused(command_spec("resources: {memory_mb: 1.5}\n")) ==
             (refusal{"resources.memory_mb",
                      "resources.memory_mb: expected a whole number >= 0, got 1.5"}));
}

BOOST_AUTO_TEST_CASE(a_word_where_a_signed_whole_number_belongs_is_a_wrong_type) {
  BOOST_TEST(refused(command_spec("priority: high\n")) ==
             (refusal{"priority", "priority: expected a whole number, got \"high\""}));
}

BOOST_AUTO_TEST_CASE(a_word_where_a_number_belongs_is_a_wrong_type) {
  BOOST_TEST(refused(command_spec("resources: {cpus: lots}\n")) ==
             (refusal{"resources.cpus", "resources.cpus: expected a number, got \"lots\""}));
}

BOOST_AUTO_TEST_CASE(a_number_where_a_string_belongs_is_a_wrong_type) {
  BOOST_TEST(refused("name: 42\nkind: command\nargv: [x]\n") ==
             (refusal{"name", "name: expected a string, got 42"}));
}

BOOST_AUTO_TEST_CASE(an_unquoted_number_in_argv_is_a_wrong_type) {
  BOOST_TEST(refused("name: nap\nkind: command\nargv: [sleep, 5]\n") ==
             (refusal{"argv[1]", "argv[1]: expected a string, got 5"}));
}

BOOST_AUTO_TEST_CASE(a_boolean_where_a_string_belongs_is_a_wrong_type) {
  BOOST_TEST(refused("name: t\nkind: command\nargv: [true]\n") ==
             (refusal{"argv[0]", "argv[0]: expected a string, got true"}));
}

BOOST_AUTO_TEST_CASE(a_value_where_a_mapping_belongs_is_a_wrong_type) {
  BOOST_TEST(refused(command_spec("resources: 4\n")) ==
             (refusal{"resources", "resources: expected a mapping, got 4"}));
}

BOOST_AUTO_TEST_CASE(a_string_where_a_list_belongs_is_a_wrong_type) {
  BOOST_TEST(refused(command_spec("after: j0123456789abcdef\n")) ==
             (refusal{"after", "after: expected a list of strings, got \"j0123456789abcdef\""}));
}

BOOST_AUTO_TEST_CASE(a_list_where_a_mapping_of_strings_belongs_is_a_wrong_type) {
  BOOST_TEST(refused(command_spec("env: [A=1]\n")) ==
             (refusal{"env", "env: expected a mapping of strings, got a list"}));
}

BOOST_AUTO_TEST_CASE(an_empty_value_is_null_and_a_wrong_type) {
  BOOST_TEST(refused(command_spec("timeout_s:\n")) ==
             (refusal{"timeout_s", "timeout_s: expected a whole number >= 0, got null"}));
}

BOOST_AUTO_TEST_CASE(a_missing_name_is_refused) {
  BOOST_TEST(refused("kind: command\nargv: [x]\n") ==
             (refusal{"name", "name: required field missing"}));
}

BOOST_AUTO_TEST_CASE(a_missing_kind_is_refused) {
  BOOST_TEST(refused("name: a\nargv: [x]\n") == (refusal{"kind", "kind: required field missing"}));
}

BOOST_AUTO_TEST_CASE(an_unknown_kind_is_named_with_the_known_ones) {
  BOOST_TEST(
      refused("name: a\nkind: materialize\n") ==
      (refusal{"kind",
               "kind: unknown kind \"materialize\" (known: command, train, serve, predict)"}));
}

BOOST_AUTO_TEST_CASE(zero_cpus_are_out_of_range) {
  BOOST_TEST(refused(command_spec("resources: {cpus: 0}\n")) ==
             (refusal{"resources.cpus",
                      "resources.cpus: must be greater than 0 and at most 4096, got 0"}));
}

BOOST_AUTO_TEST_CASE(cpus_that_are_not_finite_are_out_of_range) {
  BOOST_TEST(refused(command_spec("resources: {cpus: .nan}\n")) ==
             (refusal{"resources.cpus",
                      "resources.cpus: must be greater than 0 and at most 4096, got .nan"}));
  BOOST_TEST(refused(command_spec("resources: {cpus: .inf}\n")) ==
             (refusal{"resources.cpus",
                      "resources.cpus: must be greater than 0 and at most 4096, got .inf"}));
  BOOST_TEST(refused(command_spec("resources: {cpus: 1e999}\n")) ==
             (refusal{"resources.cpus",
                      "resources.cpus: must be greater than 0 and at most 4096, got 1e999"}));
}

BOOST_AUTO_TEST_CASE(more_than_4096_cpus_are_out_of_range) {
  BOOST_TEST(refused(command_spec("resources: {cpus: 4096.5}\n")) ==
             (refusal{"resources.cpus",
                      "resources.cpus: must be greater than 0 and at most 4096, got 4096.5"}));
}

BOOST_AUTO_TEST_CASE(more_than_16_tib_of_memory_is_out_of_range) {
  BOOST_TEST(refused(command_spec("resources: {memory_mb: 16777217}\n")) ==
             (refusal{"resources.memory_mb",
                      "resources.memory_mb: must be between 0 and 16777216, got 16777217"}));
}

BOOST_AUTO_TEST_CASE(more_than_64_gpus_are_out_of_range) {
  BOOST_TEST(refused(command_spec("resources: {gpus: 65}\n")) ==
             (refusal{"resources.gpus", "resources.gpus: must be between 0 and 64, got 65"}));
}

BOOST_AUTO_TEST_CASE(a_negative_whole_number_is_out_of_range) {
  BOOST_TEST(refused(command_spec("resources: {gpus: -1}\n")) ==
             (refusal{"resources.gpus", "resources.gpus: must be between 0 and 64, got -1"}));
}

BOOST_AUTO_TEST_CASE(a_whole_number_beyond_64_bits_is_out_of_range) {
  BOOST_TEST(
      refused(command_spec("timeout_s: 99999999999999999999\n")) ==
      (refusal{"timeout_s", "timeout_s: must be between 0 and 2592000, got 99999999999999999999"}));
}

BOOST_AUTO_TEST_CASE(tasks_outside_1_to_1024_are_out_of_range) {
  BOOST_TEST(refused(command_spec("tasks: 0\n")) ==
             (refusal{"tasks", "tasks: must be between 1 and 1024, got 0"}));
  BOOST_TEST(refused(command_spec("tasks: 1025\n")) ==
             (refusal{"tasks", "tasks: must be between 1 and 1024, got 1025"}));
}

BOOST_AUTO_TEST_CASE(a_priority_beyond_int32_is_out_of_range) {
  BOOST_TEST(refused(command_spec("priority: 2147483648\n")) ==
             (refusal{"priority",
                      "priority: must be between -2147483648 and 2147483647, got 2147483648"}));
}

BOOST_AUTO_TEST_CASE(more_than_100_retries_are_out_of_range) {
  BOOST_TEST(refused(command_spec("retries: {max: 101}\n")) ==
             (refusal{"retries.max", "retries.max: must be between 0 and 100, got 101"}));
}

BOOST_AUTO_TEST_CASE(a_backoff_outside_0_to_3600_seconds_is_out_of_range) {
  BOOST_TEST(
      refused(command_spec("retries: {backoff_s: 3600.5}\n")) ==
      (refusal{"retries.backoff_s", "retries.backoff_s: must be between 0 and 3600, got 3600.5"}));
  BOOST_TEST(
      refused(command_spec("retries: {backoff_s: -1}\n")) ==
      (refusal{"retries.backoff_s", "retries.backoff_s: must be between 0 and 3600, got -1"}));
}

BOOST_AUTO_TEST_CASE(a_timeout_over_30_days_is_out_of_range) {
  BOOST_TEST(refused(command_spec("timeout_s: 2592001\n")) ==
             (refusal{"timeout_s", "timeout_s: must be between 0 and 2592000, got 2592001"}));
}

BOOST_AUTO_TEST_CASE(a_name_with_a_space_is_refused) {
  BOOST_TEST(refused("name: nightly etl\nkind: command\nargv: [x]\n") ==
             (refusal{"name",
                      "name: expected 1 to 128 characters of A-Z a-z 0-9 . _ -, got \"nightly "
                      "etl\""}));
}

BOOST_AUTO_TEST_CASE(an_empty_name_is_refused) {
  BOOST_TEST(
      refused("name: \"\"\nkind: command\nargv: [x]\n") ==
      (refusal{"name", "name: expected 1 to 128 characters of A-Z a-z 0-9 . _ -, got \"\""}));
}

BOOST_AUTO_TEST_CASE(a_name_of_129_characters_is_refused_and_shown_cut) {
  const std::string name(129, 'a');
  BOOST_TEST(refused("name: " + name + "\nkind: command\nargv: [x]\n") ==
             (refusal{"name", "name: expected 1 to 128 characters of A-Z a-z 0-9 . _ -, got \"" +
                                  std::string(64, 'a') + "\"..."}));
}

BOOST_AUTO_TEST_CASE(a_tenant_with_a_slash_is_refused) {
  BOOST_TEST(
      refused(command_spec("tenant: team/a\n")) ==
      (refusal{"tenant",
               "tenant: expected 1 to 128 characters of A-Z a-z 0-9 . _ -, got \"team/a\""}));
}

BOOST_AUTO_TEST_CASE(a_label_value_with_a_control_character_is_refused_and_shown_escaped) {
  BOOST_TEST(refused(command_spec("resources: {labels: {zone: \"a\\x1b[31m\"}}\n")) ==
             (refusal{"resources.labels.zone",
                      "resources.labels.zone: expected UTF-8 without control characters, at most "
                      "256 bytes, got \"a\\x1b[31m\""}));
}

BOOST_AUTO_TEST_CASE(a_label_value_longer_than_a_node_may_carry_is_refused) {
  BOOST_TEST(
      refused(command_spec("resources: {labels: {zone: " + std::string(257, 'z') + "}}\n")).field ==
      "resources.labels.zone");
}

BOOST_AUTO_TEST_CASE(an_empty_label_key_is_refused) {
  BOOST_TEST(
      refused(command_spec("resources: {labels: {\"\": a}}\n")) ==
      (refusal{"resources.labels", "resources.labels: expected non-empty label keys, got \"\""}));
}

BOOST_AUTO_TEST_CASE(a_label_key_with_a_newline_is_refused) {
  BOOST_TEST(refused(command_spec("resources: {labels: {\"a\\nb\": c}}\n")) ==
             (refusal{"resources.labels",
                      "resources.labels: expected label keys of UTF-8 without control characters, "
                      "at most 256 bytes, got \"a\\nb\""}));
}

BOOST_AUTO_TEST_CASE(text_that_is_not_utf8_is_refused_where_it_is) {
  BOOST_TEST(refused(command_spec("resources: {labels: {zone: \"a\xff\"}}\n")) ==
             (refusal{"resources.labels.zone",
                      "resources.labels.zone: expected UTF-8 text without NUL bytes, got "
                      "\"a\\xff\""}));
}

BOOST_AUTO_TEST_CASE(a_nul_byte_in_an_argument_is_refused) {
  BOOST_TEST(
      refused("name: a\nkind: command\nargv: [\"a\\0b\"]\n") ==
      (refusal{"argv[0]", "argv[0]: expected UTF-8 text without NUL bytes, got \"a\\x00b\""}));
}

BOOST_AUTO_TEST_CASE(an_after_entry_that_is_not_a_job_id_is_refused) {
  BOOST_TEST(refused(command_spec("after: [j0123456789abcdef, nightly-etl]\n")) ==
             (refusal{"after[1]",
                      "after[1]: expected a job id (j and 16 lowercase hex digits), got "
                      "\"nightly-etl\""}));
  BOOST_TEST(refused(command_spec("after: [j0123456789ABCDEF]\n")).field == "after[0]");
}

BOOST_AUTO_TEST_CASE(a_duplicate_top_level_key_is_refused) {
  BOOST_TEST(refused(command_spec("name: again\n")) == (refusal{"name", "name: duplicate key"}));
}

BOOST_AUTO_TEST_CASE(a_duplicate_nested_key_is_refused) {
  BOOST_TEST(refused(command_spec("resources:\n  cpus: 1\n  cpus: 2\n")) ==
             (refusal{"resources.cpus", "resources.cpus: duplicate key"}));
  BOOST_TEST(refused(command_spec("env: {A: x, A: y}\n")) ==
             (refusal{"env.A", "env.A: duplicate key"}));
}

BOOST_AUTO_TEST_CASE(a_duplicate_key_in_json_is_refused) {
  BOOST_TEST(refused(R"({"name": "a", "kind": "command", "argv": ["x"], "name": "b"})") ==
             (refusal{"name", "name: duplicate key"}));
}

BOOST_AUTO_TEST_CASE(a_list_document_is_not_a_spec) {
  BOOST_TEST(refused("- name: a\n- name: b\n") ==
             (refusal{"", "expected a mapping of fields, got a list"}));
}

BOOST_AUTO_TEST_CASE(a_single_value_document_is_not_a_spec) {
  BOOST_TEST(refused("hello\n") ==
             (refusal{"", "expected a mapping of fields, got a single value"}));
}

BOOST_AUTO_TEST_CASE(an_empty_document_is_not_a_spec) {
  BOOST_TEST(refused("") == (refusal{"", "expected a mapping of fields, got nothing"}));
  BOOST_TEST(refused("# nothing\n") == (refusal{"", "expected a mapping of fields, got nothing"}));
}

BOOST_AUTO_TEST_CASE(two_documents_are_not_a_spec) {
  BOOST_TEST(refused(command_spec() + "---\n" + command_spec()) ==
             (refusal{"", "expected one YAML document, got more"}));
}

BOOST_AUTO_TEST_CASE(text_that_is_not_yaml_is_refused_with_its_position) {
  BOOST_TEST(refused("name: a\nkind: [command\n") ==
             (refusal{"", "not valid YAML: line 3, column 1: end of sequence flow not found"}));
}

BOOST_AUTO_TEST_CASE(a_spec_over_1_mib_is_refused_before_it_is_read) {
  auto text = command_spec();
  text += std::string(max_spec_bytes - text.size(), '#');
  BOOST_TEST(refused(text).field == "(accepted)");
  text += '#';
  BOOST_TEST(
      refused(text) ==
      (refusal{"", "the spec is 1048577 bytes, more than the 1 MiB (1048576 bytes) allowed"}));
}

BOOST_AUTO_TEST_CASE(a_spec_that_grows_over_1_mib_as_json_is_refused) {
  // Each backslash of a plain YAML scalar is two characters in JSON.
  const std::string shell(600000, '\\');
  const auto r = refused("name: a\nkind: command\nshell: " + shell + "\n");
  BOOST_TEST(r == (refusal{"",
                           "the spec is 1200212 bytes as JSON, more than the 1 MiB (1048576 "
                           "bytes) allowed"}));
}

BOOST_AUTO_TEST_CASE(an_alias_is_refused) {
  BOOST_TEST(refused(command_spec("tenant: &t team\nenv: {TEAM: *t}\n")) ==
             (refusal{"env.TEAM", "env.TEAM: aliases (*name) are not supported"}));
}

BOOST_AUTO_TEST_CASE(a_tag_other_than_str_is_refused) {
  BOOST_TEST(refused(command_spec("tasks: !!int 2\n")) ==
             (refusal{"tasks", "tasks: tags (tag:yaml.org,2002:int) are not supported"}));
}

BOOST_AUTO_TEST_CASE(a_key_that_is_not_text_is_refused) {
  BOOST_TEST(refused(command_spec("env:\n  ? [A, B]\n  : x\n")) ==
             (refusal{"env", "env: keys must be text"}));
}

BOOST_AUTO_TEST_CASE(nesting_deeper_than_32_levels_is_refused) {
  const auto deep = std::string(40, '[') + std::string(40, ']');
  BOOST_TEST(refused(command_spec("env: {A: " + deep + "}\n"))
                 .message.find("nested more than 32 levels deep") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_json_spec_is_checked_like_yaml) {
  BOOST_TEST(refused(R"({"name": "a", "kind": "command", "argv": ["x"], "tasks": "2"})") ==
             (refusal{"tasks", "tasks: expected a whole number >= 0, got \"2\""}));
}

BOOST_AUTO_TEST_CASE(json_values_are_typed_as_yaml_types_them) {
  const std::string head = R"({"name": "a", "kind": "command", )";
  BOOST_TEST(refused(head + R"("argv": ["x"], "tasks": 2.0})") ==
             (refusal{"tasks", "tasks: expected a whole number >= 0, got 2.0"}));
  BOOST_TEST(refused(head + R"("argv": ["sleep", 5]})") ==
             (refusal{"argv[1]", "argv[1]: expected a string, got 5"}));
  BOOST_TEST(refused(head + R"("argv": [false]})") ==
             (refusal{"argv[0]", "argv[0]: expected a string, got false"}));
  BOOST_TEST(refused(head + R"("argv": ["x"], "timeout_s": null})") ==
             (refusal{"timeout_s", "timeout_s: expected a whole number >= 0, got null"}));
  BOOST_TEST(
      refused(head + R"("argv": ["x"], "timeout_s": 99999999999999999999})") ==
      (refusal{"timeout_s", "timeout_s: must be between 0 and 2592000, got 99999999999999999999"}));
  BOOST_TEST(
      refused(head + R"("argv": ["a\u0000b"]})") ==
      (refusal{"argv[0]", "argv[0]: expected UTF-8 text without NUL bytes, got \"a\\x00b\""}));
}

BOOST_AUTO_TEST_CASE(json_that_is_not_strict_is_read_as_yaml) {
  const auto spec =
      parse_job_spec("{\"name\": \"a\", # a comment\n \"kind\": command, argv: [x],}");
  BOOST_TEST(spec.name == "a");
  BOOST_TEST(refused("{\"name\": \"a\", \"kind\": \"command\"").message.find("not valid YAML") ==
             0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(accepted_specs)

BOOST_AUTO_TEST_CASE(a_minimal_spec_gets_the_documented_defaults) {
  const auto spec = parse_job_spec("name: hello\nkind: command\nargv: [echo, hello]\n");
  BOOST_TEST(spec.name == "hello");
  BOOST_TEST(spec.kind == "command");
  BOOST_TEST(spec.tenant == "default");
  BOOST_TEST(spec.priority == 0);
  BOOST_TEST(spec.resources.cpus == 1.0);
  BOOST_TEST(spec.resources.memory_mb == 0u);
  BOOST_TEST(spec.resources.gpus == 0u);
  BOOST_TEST(spec.resources.labels.empty());
  BOOST_TEST(spec.tasks == 1u);
  BOOST_TEST(spec.retries.max == 0u);
  BOOST_TEST(spec.retries.backoff_s == 1.0);
  BOOST_TEST(spec.timeout_s == 0u);
  BOOST_TEST(spec.after.empty());
  BOOST_TEST(spec.kind_fields ==
             nlohmann::json::parse(R"({"argv": ["echo", "hello"], "env": {}})"));
}

BOOST_AUTO_TEST_CASE(the_issue_example_spec_reads_every_field) {
  const auto spec = parse_job_spec(R"(
name: nightly-etl
kind: command
tenant: default
priority: 0
resources: {cpus: 1, memory_mb: 512, gpus: 0, labels: {zone: a}}   # per task
tasks: 1
retries: {max: 2, backoff_s: 1}
timeout_s: 3600
after: [j00000000000000ff]
argv: ["python3", "etl.py", "--date", "2026-11-22"]
env: {LOG_LEVEL: info}
workdir: /srv/etl
)");
  job_spec expected;
  expected.name = "nightly-etl";
  expected.kind = "command";
  expected.resources = {1, 512, 0, {{"zone", "a"}}};
  expected.retries = {2, 1};
  expected.timeout_s = 3600;
  expected.after = {"j00000000000000ff"};
  expected.kind_fields = nlohmann::json::parse(R"({
    "argv": ["python3", "etl.py", "--date", "2026-11-22"],
    "env": {"LOG_LEVEL": "info"}, "workdir": "/srv/etl"})");
  BOOST_TEST((spec == expected));
}

BOOST_AUTO_TEST_CASE(a_json_spec_reads_like_yaml) {
  const auto from_json = parse_job_spec(
      R"({"name": "a", "kind": "command", "shell": "echo hi", "resources": {"cpus": 0.5}})");
  const auto from_yaml =
      parse_job_spec("name: a\nkind: command\nshell: echo hi\nresources:\n  cpus: 0.5\n");
  BOOST_TEST((from_json == from_yaml));
  BOOST_TEST(from_json.resources.cpus == 0.5);
}

BOOST_AUTO_TEST_CASE(numbers_at_the_edges_of_their_ranges_are_accepted) {
  const auto spec = parse_job_spec(
      command_spec("priority: -2147483648\nresources: {cpus: 4096, memory_mb: 16777216, gpus: 64}\n"
                   "tasks: 1024\nretries: {max: 100, backoff_s: 0}\ntimeout_s: 2592000\n"));
  BOOST_TEST(spec.priority == std::numeric_limits<int32_t>::min());
  BOOST_TEST(spec.resources.cpus == 4096.0);
  BOOST_TEST(spec.resources.memory_mb == 16777216u);
  BOOST_TEST(spec.resources.gpus == 64u);
  BOOST_TEST(spec.tasks == 1024u);
  BOOST_TEST(spec.retries.max == 100u);
  BOOST_TEST(spec.retries.backoff_s == 0.0);
  BOOST_TEST(spec.timeout_s == 2592000u);
}

BOOST_AUTO_TEST_CASE(a_str_tag_makes_a_number_a_string) {
  BOOST_TEST(parse_job_spec("name: !!str 2026\nkind: command\nargv: [x]\n").name == "2026");
}

BOOST_AUTO_TEST_CASE(good_specs_round_trip_exactly_through_json) {
  const char* const specs[] = {
      "name: hello\nkind: command\nargv: [echo, hello]\n",
      "name: multi\nkind: command\nshell: |\n  set -e\n  echo \"a\\\\b\" | tr a b\n"
      "env: {QUOTE: 'say \"hi\"', SLASH: 'C:\\dir', UNICODE: \"caf\\u00e9 \\U0001F600\"}\n"
      "workdir: /srv/a b\n",
      "name: gang.ddp_1\nkind: command\ntenant: team-a\npriority: -7\ntasks: 8\n"
      "resources: {cpus: 0.1, memory_mb: 16777216, gpus: 64, labels: {zone: eu, \"gpu type\": "
      "\"h100 \\u00e9\"}}\nretries: {max: 100, backoff_s: 0.001}\ntimeout_s: 2592000\n"
      "after: [j0000000000000000, jffffffffffffffff]\nargv: [torchrun, '--nproc', '1']\n",
      "name: tiny\nkind: command\nargv: [x]\nresources: {cpus: 3.3333333333333335e-05}\n"
      "retries: {backoff_s: 1e-300}\n",
  };
  for (const char* text : specs) {
    BOOST_TEST_CONTEXT(text) {
      const auto spec = parse_job_spec(text);
      const auto json = to_json(spec);
      const auto again = parse_job_spec(json);
      BOOST_TEST((again == spec));
      BOOST_TEST(to_json(again) == json);
    }
  }
}

BOOST_AUTO_TEST_CASE(every_kind_has_its_own_field_names) {
  for (const auto* kind : job_kinds())
    for (auto field : kind->field_names())
      for (auto common : common_field_names()) BOOST_TEST(field != common);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(mutated_specs)

// Any text is either a spec that round-trips or a spec_error: never another exception.
BOOST_AUTO_TEST_CASE(a_mutated_spec_is_accepted_and_round_trips_or_refused_with_a_spec_error) {
  const std::string seeds[] = {
      command_spec("tenant: t\npriority: -3\nresources: {cpus: 0.5, memory_mb: 64, labels: "
                   "{zone: a}}\ntasks: 2\nretries: {max: 1, backoff_s: 2}\ntimeout_s: 9\n"
                   "after: [j00000000000000ff]\nenv: {A: b}\nworkdir: /w\n"),
      R"({"name":"a","kind":"command","shell":"echo \"hi\"","env":{"K":"v\\w"},"tasks":3})",
      "name: t\nkind: train\nworld_size: 2\nmodel: {type: mlp, layers: [4, 8, 3], dropout: 0.5}\n"
      "data: {synthetic: {rows: 90, features: 4, classes: 3}, validation_split: 0.1}\n"
      "optimizer: {name: adamw, lr: 0.01, betas: [0.9, 0.99]}\nlr_schedule: {name: cosine}\n"
      "early_stopping: {patience: 2}\ncheckpoint: {every_steps: 5}\nelastic: {min_world_size: 1}\n",
  };
  const char* given = std::getenv("TROUPE_TEST_SEED");  // replays a run
  const unsigned seed = given ? std::stoul(given, nullptr, 0) : std::random_device{}();
  BOOST_TEST_MESSAGE("seed " << seed << " (TROUPE_TEST_SEED replays it)");
  std::mt19937 random(seed);
  const char alphabet[] = "{}[]:,\"'\\#&*!-.0123456789eE \n\txyz\xff\xc3\xa9";
  size_t accepted = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string text = seeds[round % std::size(seeds)];
    for (int edits = 1 + random() % 4; edits > 0; --edits) {
      const size_t at = random() % text.size();
      const char c = alphabet[random() % (sizeof alphabet - 1)];
      switch (random() % 3) {
        case 0: text[at] = c; break;
        case 1: text.insert(at, 1, c); break;
        default: text.erase(at, 1);
      }
      if (text.empty()) text = "x";
    }
    BOOST_TEST_CONTEXT("seed " << seed << ", round " << round << ": " << text) {
      try {
        const auto spec = parse_job_spec(text);
        ++accepted;
        BOOST_TEST((parse_job_spec(to_json(spec)) == spec));
      } catch (const spec_error&) {
      } catch (const std::exception& e) {
        BOOST_ERROR("not a spec_error: " << e.what());
      }
    }
  }
  BOOST_TEST_MESSAGE(accepted << " of 3000 mutated specs accepted");
}

BOOST_AUTO_TEST_SUITE_END()
