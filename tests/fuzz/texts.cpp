#include "tests/fuzz/texts.hpp"

namespace troupe::fuzz {
namespace {

struct collector {
  std::vector<const std::string*>& out;

  void add(const std::string& s) { out.push_back(&s); }
  void add(const std::vector<std::string>& list) {
    for (const auto& s : list) add(s);
  }
  void add(const msg::labels& labels) {
    for (const auto& [key, value] : labels) {
      add(key);
      add(value);
    }
  }
  void add(const msg::resources& r) {
    for (const auto& gpu : r.gpus) add(gpu.name);
  }
  void add(const msg::node_status& n) {
    add(n.node_id);
    add(n.name);
    add(n.addresses);
    add(n.resources);
    add(n.labels);
    add(n.version);
  }

  void operator()(const msg::error& v) { add(v.message); }
  void operator()(const msg::unimplemented&) {}
  void operator()(const msg::register_node_request& v) {
    add(v.node_id);
    add(v.name);
    add(v.addresses);
    add(v.resources);
    add(v.labels);
    add(v.version);
  }
  void operator()(const msg::register_node_reply&) {}
  void operator()(const msg::heartbeat& v) { add(v.node_id); }
  void operator()(const msg::heartbeat_rejected&) {}
  void operator()(const msg::deregister_node& v) {
    add(v.node_id);
    add(v.reason);
  }
  void operator()(const msg::cluster_status_request&) {}
  void operator()(const msg::cluster_status_reply& v) { add(v.head_version); }
  void operator()(const msg::node_list_request&) {}
  void operator()(const msg::node_list_reply& v) {
    for (const auto& n : v.nodes) add(n);
  }
  void operator()(const msg::drain_node_request& v) { add(v.node); }
  void operator()(const msg::drain_node_reply& v) { add(v.node); }
  void operator()(const msg::remove_node_request& v) { add(v.node); }
  void operator()(const msg::remove_node_reply& v) {
    add(v.node_id);
    add(v.name);
  }
  // The security area.
  void add(const msg::key_info& k) {
    add(k.key_id);
    add(k.public_key);
    add(k.label);
    add(k.node_id);
    add(k.tenant);
  }
  void operator()(const msg::security_message& m) { std::visit(*this, m.body); }
  void operator()(const msg::enroll_node_request& v) {
    add(v.node_id);
    add(v.public_key);
    add(v.name);
  }
  void operator()(const msg::enroll_node_reply& v) { add(v.key_id); }
  void operator()(const msg::create_join_token_request&) {}
  void operator()(const msg::create_join_token_reply& v) {
    add(v.token);
    add(v.key_id);
  }
  void operator()(const msg::create_credential_request& v) {
    add(v.public_key);
    add(v.label);
    add(v.tenant);
  }
  void operator()(const msg::create_credential_reply& v) { add(v.key_id); }
  void operator()(const msg::key_list_request&) {}
  void operator()(const msg::key_list_reply& v) {
    for (const auto& k : v.keys) add(k);
  }
  void operator()(const msg::revoke_key_request& v) { add(v.key_id); }
  void operator()(const msg::revoke_key_reply& v) { add(v.key); }
};

}  // namespace

std::vector<const std::string*> texts_of(const msg::envelope& env) {
  std::vector<const std::string*> texts{&env.sender};
  std::visit(collector{texts}, env.body);
  return texts;
}

}  // namespace troupe::fuzz
