#include "tools/cli/commands/data.hpp"

#include <filesystem>

#include "cluster/transport/request_client.hpp"
#include "tools/cli/display_text.hpp"
#include "tools/cli/render.hpp"

namespace troupe::cli {
namespace {

using artifacts::transfer_failure;

nlohmann::json to_json(const msg::artifact_info& a) {
  return {{"name", a.name},
          {"tenant", a.tenant},
          {"kind", msg::to_string(a.kind)},
          {"sha256", a.digest},
          {"size", a.size},
          {"created_at", a.created_at_ms},
          {"job_id", a.job_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(a.job_id)}};
}

std::string size_text(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(units)) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", value, units[unit]);
  return text;
}

failure as_failure(const transfer_failure& f) {
  switch (f.kind) {
    case transfer_failure::kind::no_answer: return {exit_code::unreachable, f.message};
    case transfer_failure::kind::local: return {exit_code::usage, f.message};
    case transfer_failure::kind::head_error: break;
  }
  return {exit_code::head_error, f.message};
}

// One progress line rewritten in place on a terminal; nothing elsewhere.
artifacts::progress_fn progress_line(std::ostream& out, bool terminal, const std::string& what) {
  if (!terminal) return {};
  return [&out, what](uint64_t done, uint64_t total) {
    const auto percent = total ? done * 100 / total : 100;
    out << "\r" << what << " " << percent << "% (" << size_text(done) << " of " << size_text(total)
        << ")\x1b[K" << std::flush;
  };
}

void end_progress(std::ostream& out, bool terminal) {
  if (terminal) out << "\r\x1b[K" << std::flush;
}

// Runs `transfer` over one connection to the head.
template <class Transfer>
result<msg::artifact_info> over_connection(const session& s, Transfer transfer) {
  const auto& c = s.config();
  try {
    transport::request_client client(c.head, "troupe-cli", security::client_keys(c.credential));
    auto done = transfer(artifacts::link_over(client), c.timeout);
    if (auto* f = std::get_if<transfer_failure>(&done)) return as_failure(*f);
    return std::get<msg::artifact_info>(std::move(done));
  } catch (const zmq::error_t& e) {
    return failure{exit_code::usage, "cannot reach " + c.head + ": " + e.what()};
  }
}

std::string stored_text(const session& s, const msg::artifact_info& a, const std::string& what) {
  return s.config().json ? json_text(to_json(a)) : a.digest + "  " + msg::printable(what) + "\n";
}

}  // namespace

result<msg::artifact_info> upload_artifact(const session& s, const data_put_options& options,
                                           std::ostream& progress, bool terminal) {
  const auto kind = msg::parse_artifact_kind(options.kind);
  if (!kind) return failure{exit_code::usage, "--kind must be dataset, checkpoint or model"};
  if (!std::filesystem::is_regular_file(options.file))
    return failure{exit_code::usage, "cannot read " + options.file + ": not a regular file"};
  artifacts::upload_spec spec;
  spec.path = options.file;
  spec.name =
      options.name.empty() ? std::filesystem::path(options.file).filename().string() : options.name;
  spec.tenant = options.tenant;
  spec.kind = *kind;
  auto stored = over_connection(s, [&](const artifacts::artifact_link& link, auto timeout) {
    return artifacts::upload_file(link, spec, timeout,
                                  progress_line(progress, terminal, "uploading " + spec.name));
  });
  end_progress(progress, terminal);
  return stored;
}

command_output put_data(const session& s, const data_put_options& options, std::ostream& progress,
                        bool terminal) {
  auto stored = upload_artifact(s, options, progress, terminal);
  if (!stored) return stored.error();
  return stored_text(s, *stored, stored->name);
}

command_output list_data(const session& s, const std::string& tenant, bool all_versions) {
  auto reply = s.call_in<msg::list_artifacts_reply>(
      msg::artifacts_message{msg::list_artifacts_request{tenant, all_versions}});
  if (!reply) return reply.error();
  if (s.config().json) {
    auto out = nlohmann::json::array();
    for (const auto& a : reply->artifacts) out.push_back(to_json(a));
    return json_text(out);
  }
  std::vector<std::vector<std::string>> rows{
      {"NAME", "TENANT", "KIND", "SIZE", "SHA256", "CREATED", "JOB"}};
  for (const auto& a : reply->artifacts)
    rows.push_back({msg::printable(a.name), msg::printable(a.tenant), msg::to_string(a.kind),
                    size_text(a.size), a.digest.substr(0, 12), utc_time(a.created_at_ms),
                    a.job_id.empty() ? "-" : msg::printable(a.job_id)});
  return table(rows);
}

result<msg::artifact_info> download_artifact(const session& s, const artifacts::download_spec& spec,
                                             const std::string& file, std::ostream& progress,
                                             bool terminal, const std::string& what) {
  auto got = over_connection(s, [&](const artifacts::artifact_link& link, auto timeout) {
    return artifacts::download_file(link, spec, file, timeout,
                                    progress_line(progress, terminal, "downloading " + what));
  });
  end_progress(progress, terminal);
  return got;
}

command_output get_data(const session& s, const std::string& name, const std::string& tenant,
                        const std::string& file, std::ostream& progress, bool terminal) {
  artifacts::download_spec spec;
  const auto at = name.rfind('@');
  spec.name = name.substr(0, at);
  if (at != std::string::npos) spec.digest = name.substr(at + 1);
  spec.tenant = tenant;
  auto got = download_artifact(s, spec, file, progress, terminal, spec.name);
  if (!got) return got.error();
  return stored_text(s, *got, file);
}

}  // namespace troupe::cli
