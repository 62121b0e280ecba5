// Fixed sample values: every field differs from its default, lists hold several entries.
#include "samples.hpp"

#include <stdexcept>

namespace troupe::msg::test {

namespace {

resources sample_resources(int seed) {
  resources r;
  r.cpus = 15.5 + seed;
  r.memory_mb = 128'000 + static_cast<uint64_t>(seed);
  r.gpus = {{0, "NVIDIA H100 80GB HBM3", 81'559},
            {1, "NVIDIA H100 80GB HBM3", 81'559},
            {7, "NVIDIA RTX 4090", 24'564 + static_cast<uint64_t>(seed)}};
  return r;
}

labels sample_labels(int seed) {
  return {{"rack", "r" + std::to_string(seed)}, {"zone", "eu-west-1b"}, {"gpu", "h100"}};
}

// A CURVE public key's shape: 40 characters of Z85.
std::string sample_key(int seed) {
  return "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf" + std::to_string(seed % 10);
}

key_info sample_key_info(int seed) {
  key_info k;
  k.key_id = "0123456789abcde" + std::to_string(seed % 10);
  k.role = seed % 2 ? key_role::node : key_role::enroll;
  k.public_key = sample_key(seed);
  k.label = "worker-" + std::to_string(seed);
  k.node_id = "5f0e1d2c3b4a59687786950a1b2c3d4" + std::to_string(seed % 10);
  k.created_at_ms = 1'796'000'000'000 + seed;
  k.expires_at_ms = 1'796'000'360'000 + seed;
  k.revoked_at_ms = 1'796'000'100'000 + seed;
  k.tenant = "tenant-" + std::to_string(seed);
  return k;
}

body security(security_message m) { return body{std::move(m)}; }

envelope with(uint64_t request_id, std::string sender, body b) {
  envelope env;
  env.request_id = request_id;
  env.sender = std::move(sender);
  env.body = std::move(b);
  return env;
}

}  // namespace

node_status sample_node(int seed) {
  node_status n;
  n.node_id = "node-" + std::to_string(seed) + "-5f1c9e";
  n.name = "worker-" + std::to_string(seed);
  n.state = node_state::draining;
  n.incarnation = 40 + static_cast<uint64_t>(seed);
  n.addresses = {"tcp://10.0.0." + std::to_string(seed) + ":7100", "tcp://[fd00::1]:7100",
                 "ipc:///run/troupe/agent.sock"};
  n.resources = sample_resources(seed);
  n.free = {3.25, 64'000, 2};
  n.load = {1.75, 48'128, 9};
  n.labels = sample_labels(seed);
  n.last_heartbeat_ms_ago = 1'250;
  n.state_since_ms_ago = 86'400'000;
  n.draining = true;
  n.is_head = true;
  n.version = "0.1.0-" + std::to_string(seed);
  return n;
}

std::vector<sample> samples() {
  register_node_request reg;
  reg.node_id = "node-1-5f1c9e";
  reg.name = "worker-1";
  reg.incarnation = 0x0123'4567'89ab'cdefULL;
  reg.addresses = {"tcp://10.0.0.1:7100", "tcp://[fd00::1]:7100", "ipc:///run/troupe.sock"};
  reg.resources = sample_resources(1);
  reg.labels = sample_labels(1);
  reg.version = "0.1.0";

  heartbeat hb;
  hb.node_id = "node-2-77aa01";
  hb.incarnation = 12;
  hb.sequence = 987'654'321;
  hb.load = {0.625, 31'000, 4};
  hb.free = {6.5, 90'000, 1};

  cluster_status_reply status;
  status.head_version = "0.1.0-head";
  status.head_uptime_ms = 3'600'123;
  status.nodes_alive = 11;
  status.nodes_suspect = 2;
  status.nodes_dead = 3;
  status.nodes_draining = 4;
  status.nodes_left = 5;
  status.total = {176.0, 1'536'000, 24};
  status.available = {42.5, 512'000, 7};
  status.malformed_messages = 17;

  // Each sample uses a distinct request id and sender, so files cannot be swapped unnoticed.
  return {
      {"error", with(101, "head", error{error_code::conflict, "stale incarnation 3 (now 4)"})},
      {"unimplemented", with(102, "head", unimplemented{29})},
      {"register_node_request", with(103, "node-1-5f1c9e", reg)},
      {"register_node_reply", with(104, "head", register_node_reply{2'500, true})},
      {"heartbeat", with(105, "node-2-77aa01", hb)},
      {"heartbeat_rejected",
       with(106, "head", heartbeat_rejected{heartbeat_reject_reason::stale_incarnation, 13})},
      {"deregister_node",
       with(107, "node-3-c0ffee", deregister_node{"node-3-c0ffee", 8, "shutting down: SIGTERM"})},
      {"cluster_status_request", with(108, "troupe-cli", cluster_status_request{})},
      {"cluster_status_reply", with(109, "head", status)},
      {"node_list_request", with(110, "troupe-cli", node_list_request{})},
      {"node_list_reply",
       with(111, "head", node_list_reply{{sample_node(1), sample_node(2), sample_node(3)}})},
      {"drain_node_request", with(112, "troupe-cli", drain_node_request{"worker-4", false})},
      {"drain_node_reply", with(113, "head", drain_node_reply{sample_node(4)})},
      {"remove_node_request", with(114, "troupe-cli", remove_node_request{"worker-5"})},
      {"remove_node_reply",
       with(115, "head", remove_node_reply{"5f0e1d2c3b4a59687786950a1b2c3d4e", "worker-5"})},
      // The security area: one member of the envelope, one sample per kind inside it.
      {"security.enroll_node_request",
       with(116, "node-3-c0ffee",
            security({enroll_node_request{"5f0e1d2c3b4a59687786950a1b2c3d4e", sample_key(1),
                                          "worker-5"}}))},
      {"security.enroll_node_reply",
       with(117, "head", security({enroll_node_reply{"a1b2c3d4e5f60718"}}))},
      {"security.create_join_token_request",
       with(118, "troupe-cli", security({create_join_token_request{7200}}))},
      {"security.create_join_token_reply",
       with(119, "head",
            security({create_join_token_reply{
                "troupe1." + std::string(64, 'a') + "." + std::string(64, 'b'), "0f1e2d3c4b5a6978",
                1'796'000'000'123}}))},
      {"security.create_credential_request",
       with(120, "troupe-cli",
            security({create_credential_request{key_role::node, sample_key(2), "alice laptop",
                                                "ml-research.team_1"}}))},
      {"security.create_credential_reply",
       with(121, "head", security({create_credential_reply{"8899aabbccddeeff"}}))},
      {"security.key_list_request", with(122, "troupe-cli", security({key_list_request{}}))},
      {"security.key_list_reply",
       with(123, "head", security({key_list_reply{{sample_key_info(1), sample_key_info(2)}}}))},
      {"security.revoke_key_request",
       with(124, "troupe-cli", security({revoke_key_request{"8899aabbccddeeff"}}))},
      {"security.revoke_key_reply",
       with(125, "head", security({revoke_key_reply{sample_key_info(3)}}))},
  };
}

envelope sample_of(const std::string& kind) {
  for (auto& s : samples()) {
    if (s.kind == kind) return std::move(s.env);
  }
  throw std::invalid_argument("no sample of kind " + kind);
}

std::string kind_name(failure_kind kind) {
  switch (kind) {
    case failure_kind::malformed: return "malformed";
    case failure_kind::too_large: return "too_large";
    case failure_kind::wrong_version: return "wrong_version";
    case failure_kind::unknown_body: return "unknown_body";
  }
  return "unknown failure_kind " + std::to_string(static_cast<int>(kind));
}

decode_result decode_string(const std::string& bytes, const decode_limits& limits) {
  return decode(bytes.data(), bytes.size(), limits);
}

}  // namespace troupe::msg::test
