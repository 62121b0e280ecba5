#include "cluster/runner/task_environment.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <map>
#include <system_error>

#include "cluster/runner/blas_kernels.hpp"

namespace troupe::runner {

namespace {

// Used when the environment has no PATH, as glibc's execvp does.
constexpr const char* default_path = "/bin:/usr/bin";

std::string join(const std::vector<uint32_t>& values) {
  std::string joined;
  for (auto v : values) {
    if (!joined.empty()) joined += ',';
    joined += std::to_string(v);
  }
  return joined;
}

std::string errno_text(int err) { return std::generic_category().message(err); }

}  // namespace

std::vector<std::string> task_environment(const jobs::task_launch& launch,
                                          const char* const* daemon_environment,
                                          uint16_t master_port) {
  std::map<std::string, std::string> vars;
  for (auto entry = daemon_environment; entry && *entry; ++entry) {
    std::string text(*entry);
    auto eq = text.find('=');
    if (eq != std::string::npos) vars[text.substr(0, eq)] = text.substr(eq + 1);
  }
  if (const auto& core = openblas_core_type_for_this_cpu(); !core.empty())
    vars.emplace(openblas_core_type_variable, core);
  auto threads = std::to_string(static_cast<uint64_t>(std::max(1.0, std::floor(launch.cpus))));
  for (const char* name : {"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"})
    vars[name] = threads;
  for (const auto& [name, value] : launch.env) vars[name] = value;
  vars["CUDA_VISIBLE_DEVICES"] = join(launch.gpus);
  vars[attempt_id_variable] = launch.attempt_id;
  if (master_port != 0) vars["MASTER_PORT"] = std::to_string(master_port);

  std::vector<std::string> environment;
  environment.reserve(vars.size());
  for (const auto& [name, value] : vars) environment.push_back(name + "=" + value);
  return environment;
}

std::vector<std::string> program_candidates(const std::string& program,
                                            const std::vector<std::string>& environment) {
  if (program.find('/') != std::string::npos) return {program};
  std::string path = default_path;
  for (const auto& entry : environment)
    if (entry.rfind("PATH=", 0) == 0) path = entry.substr(5);
  std::vector<std::string> candidates;
  size_t start = 0;
  while (true) {
    auto end = path.find(':', start);
    auto dir = path.substr(start, end == std::string::npos ? std::string::npos : end - start);
    candidates.push_back((dir.empty() ? std::string(".") : dir) + "/" + program);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return candidates;
}

std::variant<uint16_t, std::string> pick_free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "cannot open a socket: " + errno_text(errno);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_ANY);
  socklen_t length = sizeof address;
  bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
               ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  int err = errno;
  ::close(fd);
  if (!bound) return "cannot bind a free port: " + errno_text(err);
  return ntohs(address.sin_port);
}

}  // namespace troupe::runner
