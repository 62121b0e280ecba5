// The registry actor's in-process API, as the job service calls it when a train job succeeds.
#include <unistd.h>
#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>
#include <filesystem>

#include "actors/atoms.hpp"
#include "actors/models/registry_actor.hpp"

using namespace troupe;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(registry_actor)

BOOST_AUTO_TEST_CASE(a_registration_is_answered_with_its_version_once_stored) {
  namespace fs = std::filesystem;
  std::string pattern = (fs::temp_directory_path() / "troupe-registry-XXXXXX").string();
  BOOST_TEST_REQUIRE(::mkdtemp(pattern.data()) != nullptr);
  const fs::path dir = pattern;
  const auto url = "sqlite://" + (dir / "troupe.db").string();
  {
    caf::actor_system_config cfg;
    caf::actor_system system{cfg};
    auto registry = model_registry::spawn_model_registry(
        system, {nullptr, std::shared_ptr<store::cluster_store>(store::open_store(url)), "head"});
    caf::scoped_actor self{system};
    auto ask = [&](const models::registration& r) {
      models::registration_result result = msg::error{};
      self->request(registry, 5s, actors::register_atom::value, r)
          .receive([&](const models::registration_result& got) { result = got; },
                   [&](caf::error& e) { BOOST_FAIL(system.render(e)); });
      return result;
    };
    models::registration r{
        "txn", "ml",       "j1", std::string(64, 'c'),        "{}",  "{}",
        "{}",  "sha256:d", 8,    models::output_kind::logits, {"a"}, models::model_source::trained};
    BOOST_TEST((ask(r) == models::registration_result{1u}));
    BOOST_TEST((ask(r) == models::registration_result{1u}), "idempotent per job");
    r.job_id = "j2";
    BOOST_TEST((ask(r) == models::registration_result{2u}));
    r.artifact_digest = "not a digest";
    auto refused = ask(r);
    BOOST_TEST_REQUIRE(std::holds_alternative<msg::error>(refused));
    BOOST_TEST((std::get<msg::error>(refused).code == msg::error_code::invalid_request));
    self->send_exit(registry, caf::exit_reason::user_shutdown);
  }
  BOOST_TEST(store::open_store(url)->models().load_versions("txn").size() == 2u, "stored");
  std::error_code ignored;
  fs::remove_all(dir, ignored);
}

BOOST_AUTO_TEST_SUITE_END()
