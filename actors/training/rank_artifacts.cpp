#include "actors/training/rank_artifacts.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <caf/all.hpp>
#include <filesystem>

#include "cluster/artifacts/artifact_cache.hpp"
#include "cluster/jobs/job_ids.hpp"
#include "cluster/transport/request_client.hpp"
#include "messages/safe_text.hpp"

namespace troupe::training {
namespace {

namespace fs = std::filesystem;
using steady = std::chrono::steady_clock;

// The longest one request to the head may wait (a transfer's deadline may cut it shorter).
constexpr std::chrono::milliseconds head_request_wait{30'000};

msg::error error_of(const artifacts::transfer_failure& f) {
  if (f.kind == artifacts::transfer_failure::kind::no_answer)
    return msg::error{msg::error_code::timeout, "the head did not answer in time: " + f.message};
  return msg::error{f.code, f.message};
}

// A file opened for a publish: sent from /proc/self/fd/N, the file that was checked.
class opened_file {
 public:
  explicit opened_file(int fd) : fd_(fd) {}
  ~opened_file() {
    if (fd_ >= 0) ::close(fd_);
  }
  opened_file(const opened_file&) = delete;
  opened_file& operator=(const opened_file&) = delete;
  std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }

 private:
  int fd_;
};

bool is_inside(const fs::path& file, const fs::path& dir) {
  const auto relative = file.lexically_relative(dir);
  return !relative.empty() && *relative.begin() != ".." && relative != ".";
}

// Opens `path` (absolute, or relative to the attempt's working directory) when it is a regular
// file inside that directory once every symlink is resolved; else says why not.
std::variant<std::unique_ptr<opened_file>, msg::error> open_in_workdir(
    const security::rank_attempt& attempt, const std::string& path) {
  std::error_code ec;
  const auto root = fs::canonical(attempt.workdir, ec);
  if (ec) return msg::error{msg::error_code::internal, "the attempt's working directory is gone"};
  const auto named = fs::path(path).is_absolute() ? fs::path(path) : root / path;
  const auto real = fs::canonical(named, ec);
  if (ec) return msg::error{msg::error_code::not_found, "path: no file " + msg::printable(path)};
  const auto outside =
      msg::error{msg::error_code::permission_denied,
                 "path: " + msg::printable(path) + " is outside the attempt's working directory"};
  if (!is_inside(real, root)) return outside;
  const int fd = ::open(real.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return msg::error{msg::error_code::not_found, "path: cannot open " + msg::printable(path)};
  auto file = std::make_unique<opened_file>(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    return msg::error{msg::error_code::invalid_request,
                      "path: " + msg::printable(path) + " is not a regular file"};
  // What was opened, wherever a directory on the way was moved since it was resolved.
  if (!is_inside(fs::read_symlink(file->path(), ec), root) || ec) return outside;
  return file;
}

struct worker_state {
  static inline const char* name = "rank_artifacts";
  rank_artifacts_deps deps;
  std::unique_ptr<transport::request_client> head;
  std::unique_ptr<artifacts::artifact_cache> cache;
  steady::time_point deadline;  // of the transfer under way
};

using self_ptr = caf::stateful_actor<worker_state>*;

msg::body fetch(worker_state& st, const rank_transfer& t, const msg::fetch_artifact_request& r) {
  if (r.name.empty() && r.digest.empty())
    return msg::error{msg::error_code::invalid_request, "name: give a name, a digest or both"};
  if (r.offset && !r.length)
    return msg::error{msg::error_code::invalid_request,
                      "length: an offset needs a length (0 fetches the whole artifact)"};
  auto got = st.cache->fetch({r.name, t.attempt.tenant, r.digest, r.offset, r.length}, t.key_id);
  if (auto* f = std::get_if<artifacts::transfer_failure>(&got)) return error_of(*f);
  auto& cached = std::get<artifacts::cached_artifact>(got);
  return msg::training_message{
      msg::fetch_artifact_reply{std::move(cached.artifact), std::move(cached.path)}};
}

msg::body publish(worker_state& st, const rank_transfer& t,
                  const msg::publish_artifact_request& r) {
  const auto job_id = jobs::parse_attempt_id(t.attempt.attempt_id)->job_id;
  // A dataset is a job's result (a predict job's output.dataset): any name of its tenant.
  if (r.kind != msg::artifact_kind::dataset && r.name.rfind(job_id + "/", 0) != 0)
    return msg::error{
        msg::error_code::permission_denied,
        "name: a rank of job " + job_id + " publishes only names starting with " + job_id + "/"};
  auto opened = open_in_workdir(t.attempt, r.path);
  if (auto* e = std::get_if<msg::error>(&opened)) return *e;
  const auto& file = std::get<std::unique_ptr<opened_file>>(opened);
  auto stored = st.cache->upload({file->path(), r.name, t.attempt.tenant, r.kind, job_id});
  if (auto* f = std::get_if<artifacts::transfer_failure>(&stored)) return error_of(*f);
  return msg::training_message{
      msg::publish_artifact_reply{std::get<msg::artifact_info>(std::move(stored))}};
}

transfer_done on_transfer(self_ptr self, const rank_transfer& t) {
  auto& st = self->state;
  if (!st.deps.keys->attempt_of(t.key_id))
    return {msg::error{msg::error_code::conflict, "the attempt has ended"}};
  if (steady::now() >= t.deadline)
    return {msg::error{msg::error_code::timeout, "the transfer waited past its timeout"}};
  if (t.attempt.tenant.empty())
    return {msg::error{msg::error_code::unavailable,
                       "the head did not say which tenant this attempt's job is of"}};
  st.deadline = t.deadline;
  const auto& keys = *st.deps.keys;
  st.cache->release_ended([&keys](const std::string& key_id) { return !keys.attempt_of(key_id); });
  if (const auto* f = std::get_if<msg::fetch_artifact_request>(&t.request.body))
    return {fetch(st, t, *f)};
  if (const auto* p = std::get_if<msg::publish_artifact_request>(&t.request.body))
    return {publish(st, t, *p)};
  return {msg::error{msg::error_code::internal, "not a transfer"}};
}

caf::behavior worker(self_ptr self, rank_artifacts_deps deps) {
  auto& st = self->state;
  st.deps = std::move(deps);
  st.head = std::make_unique<transport::request_client>(st.deps.head_address, st.deps.node_name,
                                                        st.deps.node_keys);
  // Every wait for the head is cut short at the deadline of the transfer under way.
  artifacts::artifact_link link{
      [self](msg::artifacts_message m) { return self->state.head->send(std::move(m)); },
      [self](uint64_t ticket, std::chrono::milliseconds wait) -> std::optional<msg::body> {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            self->state.deadline - steady::now());
        auto reply =
            self->state.head->await(ticket, std::clamp(left, std::chrono::milliseconds(0), wait));
        return reply ? std::optional<msg::body>(std::move(reply->body)) : std::nullopt;
      }};
  st.cache = std::make_unique<artifacts::artifact_cache>(st.deps.cache_dir, link, head_request_wait,
                                                         st.deps.cache_limit_bytes);
  return {
      [self](const rank_transfer& t) { return on_transfer(self, t); },
  };
}

}  // namespace

caf::actor spawn_rank_artifacts(caf::actor_system& system, rank_artifacts_deps deps) {
  std::error_code ec;
  deps.cache_dir = fs::absolute(deps.cache_dir).string();  // the paths ranks are given
  fs::create_directories(deps.cache_dir, ec);
  if (ec)
    throw std::runtime_error("cannot create the artifact cache " + deps.cache_dir + ": " +
                             ec.message());
  return system.spawn<caf::detached>(worker, std::move(deps));
}

}  // namespace troupe::training
