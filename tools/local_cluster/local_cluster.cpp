#include "tools/local_cluster/local_cluster.hpp"

#include "cluster/security/credentials.hpp"
#include "cluster/security/enrollment.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace troupe::local {
namespace fs = std::filesystem;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Starts `argv` with stdin from /dev/null and stdout/stderr appended to the files. The child
// is killed when the process that started it dies, so a crashed test leaves no daemon behind.
pid_t spawn(const std::vector<std::string>& argv, const std::string& out_file,
            const std::string& err_file) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("cannot start " + argv[0]);
  if (pid == 0) {  // only async-signal-safe calls until exec
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    int err = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in < 0 || out < 0 || err < 0) ::_exit(127);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

}  // namespace

std::vector<pid_t> processes_with(const std::string& entry) {
  std::vector<pid_t> found;
  for (const auto& dir : fs::directory_iterator("/proc")) {
    const auto name = dir.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const auto environ = read_file(dir.path().string() + "/environ");
    size_t start = 0;
    while (start < environ.size()) {
      auto end = environ.find('\0', start);
      if (end == std::string::npos) end = environ.size();
      if (environ.compare(start, end - start, entry) == 0) {
        found.push_back(static_cast<pid_t>(std::stol(name)));
        break;
      }
      start = end + 1;
    }
  }
  return found;
}

process_sample sample_process(pid_t pid) {
  process_sample s;
  auto proc = "/proc/" + std::to_string(pid);
  // /proc/PID/stat: fields after the parenthesized command name; utime, stime, cutime and
  // cstime are the 14th to 17th fields of the whole line.
  auto stat = read_file(proc + "/stat");
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string field;
  unsigned long ticks[4] = {};
  for (int i = 3; i <= 17 && fields >> field; ++i)
    if (i >= 14) ticks[i - 14] = std::stoul(field);
  const auto tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  s.cpu_seconds = static_cast<double>(ticks[0] + ticks[1]) / tick;
  s.children_cpu_seconds = static_cast<double>(ticks[2] + ticks[3]) / tick;
  std::istringstream status(read_file(proc + "/status"));
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) s.rss_kb = std::stol(line.substr(6));
  return s;
}

std::string binary(const std::string& name) {
  if (const char* dir = std::getenv("TROUPE_BIN_DIR")) return std::string(dir) + "/" + name;
  return (fs::read_symlink("/proc/self/exe").parent_path() / name).string();
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

command_result run_command(const std::vector<std::string>& argv, std::chrono::milliseconds limit) {
  auto dir = fs::temp_directory_path() /
             ("troupe-cmd-" + std::to_string(::getpid()) + "-" + std::to_string(std::rand()));
  fs::create_directories(dir);
  auto out = (dir / "out").string(), err = (dir / "err").string();
  pid_t pid = spawn(argv, out, err);
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(5ms);
  }
  command_result result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = read_file(out);
  result.err = read_file(err);
  fs::remove_all(dir);
  return result;
}

daemon::daemon(std::string name, std::vector<std::string> args, std::string data_dir,
               std::string log_file)
    : name_(std::move(name)),
      args_(std::move(args)),
      data_dir_(std::move(data_dir)),
      log_file_(std::move(log_file)) {}

daemon::~daemon() {
  if (pid_ > 0) {
    ::kill(pid_, SIGCONT);
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

void daemon::start() {
  std::vector<std::string> argv{binary("trouped")};
  argv.insert(argv.end(), args_.begin(), args_.end());
  argv.insert(argv.end(), {"--data-dir", data_dir_, "--log-file", log_file_});
  pid_ = spawn(argv, log_file_ + ".stdout", log_file_ + ".stderr");
}

void daemon::signal(int sig) const {
  if (pid_ > 0) ::kill(pid_, sig);
}

int daemon::wait_exit(std::chrono::milliseconds limit) {
  int status = 0;
  bool exited = wait_until([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, limit);
  if (!exited) return -1;
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string daemon::log() const { return read_file(log_file_) + read_file(log_file_ + ".stderr"); }

cluster::cluster() {
  char tmpl[] = "/tmp/troupe-test-XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  root_ = tmpl;
}

cluster::~cluster() {
  daemons_.clear();  // kills every process first
  std::error_code ec;
  fs::remove_all(root_, ec);
}

daemon& cluster::launch_head(const std::string& listen, std::vector<std::string> extra) {
  std::vector<std::string> args{"--head", "--listen", listen, "--name", "head"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto dir = root_ + "/head";
  auto d = std::make_unique<daemon>("head", args, dir, root_ + "/head.log");
  fs::remove(dir + "/head_endpoint");
  d->start();
  if (!wait_until([&] { return fs::exists(dir + "/head_endpoint"); }, 15s))
    throw std::runtime_error("the head did not start:\n" + d->log());
  std::ifstream(dir + "/head_endpoint") >> endpoint_;
  daemons_["head"] = std::move(d);
  return head();
}

daemon& cluster::start_head(std::vector<std::string> extra) {
  return launch_head("tcp://127.0.0.1:0", std::move(extra));
}

daemon& cluster::restart_head(std::vector<std::string> extra) {
  return launch_head(endpoint_, std::move(extra));
}

daemon& cluster::start_node(const std::string& name, std::vector<std::string> extra) {
  std::vector<std::string> args{"--join", endpoint_, "--name", name, "--token", join_token()};
  args.insert(args.end(), extra.begin(), extra.end());
  auto d = std::make_unique<daemon>(name, args, root_ + "/" + name, root_ + "/" + name + ".log");
  d->start();
  daemons_[name] = std::move(d);
  return node(name);
}

command_result cluster::troupe(std::vector<std::string> args) const {
  std::vector<std::string> argv{binary("troupe"),    "--head",       endpoint_, "--credentials",
                                admin_credentials(), "--timeout-ms", "2000"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv);
}

transport::curve_keys cluster::admin_keys() const {
  return security::client_keys(security::load_credential(admin_credentials()));
}

std::string cluster::join_token() const {
  auto token = read_file(root_ + "/head/join-token");
  while (!token.empty() && token.back() == '\n') token.pop_back();
  return token;
}

transport::curve_keys cluster::enroll_node_key(const std::string& node_id,
                                               const std::string& name) const {
  const auto token = security::parse_join_token(join_token());
  const auto pair = security::generate_key_pair();
  security::enroll_node(endpoint_, token, node_id, pair.public_key, name, 10s);
  return {pair.public_key, pair.secret_key, token.head_public_key};
}

std::map<std::string, nlohmann::json> cluster::nodes() const {
  std::map<std::string, nlohmann::json> by_name;
  auto result = troupe({"nodes", "--json"});
  if (result.exit_code != 0) return by_name;
  for (auto& n : nlohmann::json::parse(result.out)) by_name[n["name"].get<std::string>()] = n;
  return by_name;
}

bool cluster::wait_for_state(const std::string& name, const std::string& state,
                             std::chrono::milliseconds limit) const {
  return wait_until(
      [&] {
        auto all = nodes();
        auto it = all.find(name);
        return it != all.end() && it->second["state"] == state;
      },
      limit);
}

bool cluster::wait_for_alive_count(size_t count, std::chrono::milliseconds limit) const {
  return wait_until(
      [&] {
        size_t alive = 0;
        for (auto& [name, n] : nodes()) alive += n["state"] == "alive";
        return alive == count;
      },
      limit);
}

std::string cluster::dump_logs() const {
  std::string out;
  for (const auto& [name, d] : daemons_) out += "---- " + name + " ----\n" + d->log();
  return out;
}

}  // namespace troupe::local
