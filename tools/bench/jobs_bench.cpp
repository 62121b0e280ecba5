// troupe-bench-jobs: the job system's figures on real daemons over loopback (a head with no
// worker of its own and two nodes), each beside the raw limit it stands on, measured in the
// same run.
//
//   troupe-bench-jobs [throughput] [latency] [recovery] [--jobs N] [--store URL]   (default: all)
//
//   throughput  N (2,000) `true` jobs submitted through the protocol by one client, 32 submits
//               in flight, to two nodes of 1 slot each, until all finished: jobs/s, versus
//               posix_spawn + waitpid of `true` with 2 in flight in this process
//   latency     200 sequential `date +%s%N` jobs on an idle cluster: the task's own clock read
//               minus the submit's send time (p50, p99), versus posix_spawn -> the same clock
//               read of `date` started here
//   recovery    1,000 jobs queued or running (`sleep`, every slot full), kill -9 the head,
//               restart it: time until ListJobs answers all of them with the states they had,
//               then a check that no task ran twice (running tasks adopted, not restarted)
//
// --store URL runs the head on that store (postgresql://...): each mode works in a schema of
// its own, dropped afterwards. Default: SQLite in the head's data dir.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <pqxx/pqxx>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cluster/transport/request_client.hpp"
#include "tools/local_cluster/local_cluster.hpp"

extern char** environ;

namespace {

using namespace troupe;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr size_t submits_in_flight = 32;  // the head's budget per peer

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

int64_t unix_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(v.size() * p))];
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

// The JSON job spec of a 1-CPU command job running `argv`.
std::string command_spec(const std::string& name, const std::vector<std::string>& argv) {
  return nlohmann::json{
      {"name", name}, {"kind", "command"}, {"resources", {{"cpus", 1}}}, {"argv", argv}}
      .dump();
}

// A PostgreSQL schema of its own for one mode, dropped afterwards; or nothing for SQLite.
class store_under_test {
 public:
  explicit store_under_test(std::string server) : server_(std::move(server)) {
    if (server_.empty()) return;
    schema_ = "jobs_bench_" + std::to_string(::getpid()) + "_" + std::to_string(++made_);
    execute("CREATE SCHEMA " + schema_);
  }
  ~store_under_test() {
    if (schema_.empty()) return;
    try {
      execute("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
    } catch (const std::exception& e) {
      std::fprintf(stderr, "could not drop schema %s: %s\n", schema_.c_str(), e.what());
    }
  }
  store_under_test(const store_under_test&) = delete;
  store_under_test& operator=(const store_under_test&) = delete;

  // The head's arguments: no worker of its own, on this store.
  std::vector<std::string> head_args() const {
    if (schema_.empty()) return {"--no-worker"};
    const auto sep = server_.find('?') == std::string::npos ? "?" : "&";
    return {"--no-worker", "--store", server_ + sep + "options=-csearch_path%3D" + schema_};
  }
  std::string name() const { return schema_.empty() ? "SQLite" : "PostgreSQL"; }

 private:
  void execute(const std::string& sql) {
    pqxx::connection c(server_);
    pqxx::nontransaction(c).exec0(sql);
  }

  static inline int made_ = 0;
  std::string server_;
  std::string schema_;
};

// A head and two nodes of `cpus` slots each, both registered.
void start_cluster(local::cluster& c, const store_under_test& store, int cpus) {
  c.start_head(store.head_args());
  for (const auto* name : {"node-a", "node-b"})
    c.start_node(name, {"--cpus", std::to_string(cpus)});
  if (!c.wait_for_alive_count(2, 30s))
    throw std::runtime_error("the nodes did not register:\n" + c.dump_logs());
}

// The reply of kind `Reply` in `env`, or nothing (no reply, an error, another kind).
template <class Reply>
std::optional<Reply> jobs_reply(const std::optional<msg::envelope>& env) {
  const auto* m = env ? std::get_if<msg::jobs_message>(&env->body) : nullptr;
  const auto* r = m ? std::get_if<Reply>(&m->body) : nullptr;
  if (!r) return std::nullopt;
  return *r;
}

std::vector<msg::job_summary> list_jobs(transport::request_client& client,
                                        const std::string& state = "") {
  auto reply = client.call(msg::jobs_message{msg::list_jobs_request{state, "", 1u << 20}}, 10s);
  auto list = jobs_reply<msg::list_jobs_reply>(reply);
  return list ? std::move(list->jobs) : std::vector<msg::job_summary>{};
}

std::optional<msg::get_job_reply> get_job(transport::request_client& client,
                                          const std::string& id) {
  return jobs_reply<msg::get_job_reply>(
      client.call(msg::jobs_message{msg::get_job_request{id}}, 5s));
}

bool is_final(const std::string& state) {
  return state == "SUCCEEDED" || state == "FAILED" || state == "CANCELLED";
}

// Submits `count` jobs of `spec` from one DEALER with up to 32 submits in flight; a submit
// answered `overloaded` or `unavailable` is sent again with the same client request id.
// Returns the job ids in submission order.
std::vector<std::string> submit_pipelined(transport::request_client& client,
                                          const std::string& spec, size_t count) {
  std::vector<std::string> ids(count);
  std::map<uint64_t, size_t> in_flight;  // request id -> job index
  std::vector<size_t> to_send;
  for (size_t i = count; i-- > 0;) to_send.push_back(i);
  const std::string run_tag = std::to_string(unix_now_ns());
  uint64_t next_request = 1;
  size_t done = 0;
  const auto deadline = clock_type::now() + 300s;
  while (done < count) {
    while (!to_send.empty() && in_flight.size() < submits_in_flight) {
      const auto i = to_send.back();
      to_send.pop_back();
      msg::envelope env;
      env.request_id = next_request++;
      env.sender = "bench";
      env.body =
          msg::jobs_message{msg::submit_job_request{spec, run_tag + "-" + std::to_string(i)}};
      client.send_raw(msg::encode(env));
      in_flight[env.request_id] = i;
    }
    if (clock_type::now() > deadline) throw std::runtime_error("submits not answered in 300 s");
    auto got = client.receive(10s);
    if (!got) throw std::runtime_error("no submit reply in 10 s");
    const auto* env = std::get_if<msg::envelope>(&*got);
    if (!env) throw std::runtime_error("an undecodable reply");
    auto it = in_flight.find(env->request_id);
    if (it == in_flight.end()) continue;
    const auto i = it->second;
    in_flight.erase(it);
    if (const auto r = jobs_reply<msg::submit_job_reply>(*env)) {
      ids[i] = r->job_id;
      ++done;
    } else if (const auto* e = std::get_if<msg::error>(&env->body);
               e && (e->code == msg::error_code::overloaded ||
                     e->code == msg::error_code::unavailable)) {
      to_send.push_back(i);
    } else {
      throw std::runtime_error("a submit failed: " + (e ? e->message : "unexpected reply"));
    }
  }
  return ids;
}

// --- Raw limits ------------------------------------------------------------------------------

pid_t spawn(const std::vector<std::string>& argv, int out_fd = -1) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (out_fd >= 0) posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("posix_spawnp " + argv[0] + " failed");
  return pid;
}

// How many `true` processes per second this machine spawns and reaps, two at a time.
double raw_spawn_rate(size_t count) {
  const auto start = clock_type::now();
  size_t started = 0, reaped = 0, running = 0;
  while (reaped < count) {
    while (running < 2 && started < count) {
      spawn({"true"});
      ++started, ++running;
    }
    if (::waitpid(-1, nullptr, 0) > 0) ++reaped, --running;
  }
  return count / seconds_since(start);
}

// Milliseconds from posix_spawn of `date +%s%N` to the clock read it prints.
double raw_spawn_to_clock_ms() {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe");
  const auto sent = unix_now_ns();
  const pid_t pid = spawn({"date", "+%s%N"}, fds[1]);
  ::close(fds[1]);
  char text[64] = {};
  const auto n = ::read(fds[0], text, sizeof text - 1);
  ::close(fds[0]);
  ::waitpid(pid, nullptr, 0);
  if (n <= 0) throw std::runtime_error("date printed nothing");
  return (std::stoll(text) - sent) / 1e6;
}

// Milliseconds one fdatasync of a small append takes in `dir` (what one SQLite commit waits
// for at least), `count` times.
std::vector<double> fdatasync_ms(const std::string& dir, int count) {
  const auto path = dir + "/fdatasync-probe";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot create " + path);
  std::vector<double> ms;
  const std::string line(200, 'x');
  for (int i = 0; i < count; ++i) {
    if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
      throw std::runtime_error("cannot write " + path);
    const auto t = clock_type::now();
    ::fdatasync(fd);
    ms.push_back(seconds_since(t) * 1000);
  }
  ::close(fd);
  fs::remove(path);
  return ms;
}

void print_fdatasync(const local::cluster& c, const store_under_test& store) {
  if (store.name() != "SQLite") return;
  const auto ms = fdatasync_ms(c.root(), 100);
  std::printf(
      "  raw: fdatasync on the store's disk      p50 %6.2f ms  p99 %6.2f ms   (one per "
      "commit)\n",
      percentile(ms, 0.5), percentile(ms, 0.99));
}

// CPU seconds this process has used (the benchmark's client).
double own_cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// The CPU the head, the nodes (their own, and their tasks') and this client have used so far:
// the difference of two samples over a run, per job, is what bounds it when CPU is short.
struct cluster_cpu {
  double head = 0, nodes = 0, tasks = 0, client = 0;

  static cluster_cpu sample(local::cluster& c) {
    cluster_cpu cpu;
    cpu.head = local::sample_process(c.head().pid()).cpu_seconds;
    for (const auto* name : {"node-a", "node-b"}) {
      const auto node = local::sample_process(c.node(name).pid());
      cpu.nodes += node.cpu_seconds;
      cpu.tasks += node.children_cpu_seconds;
    }
    cpu.client = own_cpu_seconds();
    return cpu;
  }
};

void print_cpu_per_job(const cluster_cpu& before, const cluster_cpu& after, size_t jobs) {
  const auto ms = [jobs](double seconds) { return seconds * 1000 / jobs; };
  const double head = ms(after.head - before.head), nodes = ms(after.nodes - before.nodes),
               tasks = ms(after.tasks - before.tasks), client = ms(after.client - before.client);
  std::printf(
      "  CPU per job: head %.2f ms, nodes %.2f ms, client %.2f ms (Troupe %.2f ms); tasks "
      "%.2f ms; all %.2f ms = at most %.0f jobs/s on 2 cores\n",
      head, nodes, client, head + nodes + client, tasks, head + nodes + client + tasks,
      2000 / (head + nodes + client + tasks));
}

// --- Modes -----------------------------------------------------------------------------------

void bench_throughput(const std::string& server, size_t count) {
  const double raw = raw_spawn_rate(count);
  store_under_test store(server);
  local::cluster c;
  start_cluster(c, store, 1);
  transport::request_client submitter(c.endpoint(), "bench", c.admin_keys());
  transport::request_client watcher(c.endpoint(), "bench-watch", c.admin_keys());

  const auto cpu_before = cluster_cpu::sample(c);
  const auto start = clock_type::now();
  const auto ids = submit_pipelined(submitter, command_spec("bench-true", {"true"}), count);
  const double submitted_s = seconds_since(start);
  const auto ended_while_submitting = list_jobs(watcher, "SUCCEEDED").size();

  // The queue is first in, first out on equal priority: wait for the last job, then check all.
  while (true) {
    if (seconds_since(start) > 600) throw std::runtime_error("jobs not finished in 600 s");
    const auto last = get_job(watcher, ids.back());
    if (last && is_final(last->job.state)) {
      const auto jobs = list_jobs(watcher);
      const auto finished =
          std::count_if(jobs.begin(), jobs.end(), [](const auto& j) { return is_final(j.state); });
      if (static_cast<size_t>(finished) == count) break;
    }
    std::this_thread::sleep_for(20ms);
  }
  const double total_s = seconds_since(start);
  const auto cpu_after = cluster_cpu::sample(c);
  const auto failed = list_jobs(watcher, "FAILED").size();
  const double rate = count / total_s;
  std::printf(
      "dispatch throughput, %s store (%zu `true` jobs, 2 nodes x 1 slot, %zu submits in "
      "flight; load %s)\n",
      store.name().c_str(), count, submits_in_flight, load_average().c_str());
  std::printf(
      "  submitted and stored in %.2f s (%.0f submits/s; %zu jobs had succeeded by then); all "
      "finished in %.2f s%s\n",
      submitted_s, count / submitted_s, ended_while_submitting, total_s,
      failed ? (", " + std::to_string(failed) + " FAILED").c_str() : "");
  std::printf(
      "  troupe %7.0f jobs/s   raw spawn+reap of `true`, 2 in flight %7.0f /s   "
      "ratio %.2f   (target >= 1,000 jobs/s)\n",
      rate, raw, rate / raw);
  print_cpu_per_job(cpu_before, cpu_after, count);
  print_fdatasync(c, store);
}

void bench_latency(const std::string& server) {
  constexpr int jobs = 200, warmup = 10;
  constexpr auto idle_gap = 50ms;
  std::vector<double> raw;
  for (int i = 0; i < jobs; ++i) raw.push_back(raw_spawn_to_clock_ms());
  store_under_test store(server);
  local::cluster c;
  start_cluster(c, store, 1);
  transport::request_client client(c.endpoint(), "bench", c.admin_keys());
  const auto spec = command_spec("bench-date", {"date", "+%s%N"});
  std::vector<double> to_clock, to_started, to_reply;
  for (int i = 0; i < warmup + jobs; ++i) {
    const auto sent_ns = unix_now_ns();
    const auto reply = client.call(msg::jobs_message{msg::submit_job_request{spec, ""}}, 10s);
    const auto replied_ns = unix_now_ns();
    const auto r = jobs_reply<msg::submit_job_reply>(reply);
    if (!r) throw std::runtime_error("a submit failed");
    const auto id = r->job_id;
    std::optional<msg::get_job_reply> job;
    const auto waited = clock_type::now();
    while (!(job = get_job(client, id)) || !is_final(job->job.state)) {
      if (seconds_since(waited) > 10) throw std::runtime_error("job " + id + " did not end");
      std::this_thread::sleep_for(1ms);
    }
    if (job->job.state != "SUCCEEDED" || job->attempts.empty())
      throw std::runtime_error("job " + id + " ended " + job->job.state);
    std::string out;
    while (out.find('\n') == std::string::npos) {
      const auto logs = jobs_reply<msg::job_logs_reply>(
          client.call(msg::jobs_message{msg::job_logs_request{id, 0, 0, 0, 0}}, 5s));
      if (logs) out = logs->data;
      if (logs && logs->complete) break;
      if (seconds_since(waited) > 10) throw std::runtime_error("no output from job " + id);
    }
    // The job's last writes are stored after it is seen ended: let them land, so that each
    // submit finds the cluster idle.
    std::this_thread::sleep_for(idle_gap);
    if (i < warmup) continue;
    to_clock.push_back((std::stoll(out) - sent_ns) / 1e6);
    to_started.push_back(job->attempts.front().started_at_ms - sent_ns / 1e6);
    to_reply.push_back((replied_ns - sent_ns) / 1e6);
  }
  std::printf(
      "submit-to-start latency, %s store (%d sequential jobs after %d warm-up, each "
      "on an idle cluster; load %s)\n",
      store.name().c_str(), jobs, warmup, load_average().c_str());
  std::printf(
      "  submit sent -> the task's clock read   p50 %6.2f ms  p99 %6.2f ms   (target "
      "p50 <= 5, p99 <= 20)\n",
      percentile(to_clock, 0.5), percentile(to_clock, 0.99));
  std::printf(
      "  submit sent -> attempt startedAtMs      p50 %6.2f ms  p99 %6.2f ms   (ms "
      "resolution)\n",
      percentile(to_started, 0.5), percentile(to_started, 0.99));
  std::printf("  submit sent -> reply (job stored)       p50 %6.2f ms  p99 %6.2f ms\n",
              percentile(to_reply, 0.5), percentile(to_reply, 0.99));
  std::printf("  raw: posix_spawn -> the same clock read p50 %6.2f ms  p99 %6.2f ms\n",
              percentile(raw, 0.5), percentile(raw, 0.99));
  print_fdatasync(c, store);
}

std::map<std::string, msg::job_summary> by_id(const std::vector<msg::job_summary>& jobs) {
  std::map<std::string, msg::job_summary> out;
  for (const auto& j : jobs) out[j.job_id] = j;
  return out;
}

size_t count_state(const std::map<std::string, msg::job_summary>& jobs, const std::string& s) {
  return std::count_if(jobs.begin(), jobs.end(),
                       [&](const auto& j) { return j.second.state == s; });
}

void bench_recovery(const std::string& server) {
  constexpr size_t jobs = 1000;
  constexpr int slots = 4;  // per node
  store_under_test store(server);
  local::cluster c;
  start_cluster(c, store, slots);
  // Each task appends a line to a file named after its job, then sleeps: a task started twice
  // leaves two lines.
  const auto marks = c.root() + "/marks";
  fs::create_directories(marks);
  const auto spec = command_spec(
      "bench-sleep", {"sh", "-c", "echo started >> " + marks + "/$TROUPE_JOB_ID; exec sleep 3600"});
  transport::request_client client(c.endpoint(), "bench", c.admin_keys());
  const auto ids = submit_pipelined(client, spec, jobs);
  const size_t running = 2 * slots;
  if (!local::wait_until([&] { return list_jobs(client, "RUNNING").size() == running; }, 30s))
    throw std::runtime_error("the slots did not fill");
  const auto before = by_id(list_jobs(client));

  c.head().signal(SIGKILL);
  c.head().wait_exit(10s);
  const auto restarted = clock_type::now();
  c.restart_head(store.head_args());
  transport::request_client after(c.endpoint(), "bench", c.admin_keys());
  std::map<std::string, msg::job_summary> seen;
  // Known: every job listed, in the state it had, the running ones on their first attempt.
  const auto same_as_before = [&] {
    seen = by_id(list_jobs(after));
    if (seen.size() != jobs) return false;
    for (const auto& [id, j] : before) {
      auto it = seen.find(id);
      if (it == seen.end() || it->second.state != j.state || it->second.attempts != j.attempts)
        return false;
    }
    return true;
  };
  while (!same_as_before()) {
    if (seconds_since(restarted) > 60) throw std::runtime_error("not recovered in 60 s");
    std::this_thread::sleep_for(10ms);
  }
  const double known_s = seconds_since(restarted);
  if (!c.wait_for_alive_count(2, 30s)) throw std::runtime_error("the nodes did not come back");
  const double nodes_s = seconds_since(restarted);
  // The head retries what a node does not run 3 s after it hears from it: wait past that, then
  // every running job must still be on its first attempt and every task started once.
  std::this_thread::sleep_for(5s);
  const auto settled = by_id(list_jobs(after));
  size_t twice = 0, files = 0, later_attempts = 0;
  for (const auto& entry : fs::directory_iterator(marks)) {
    ++files;
    std::ifstream in(entry.path());
    std::string line;
    size_t lines = 0;
    while (std::getline(in, line)) ++lines;
    if (lines > 1) ++twice;
  }
  for (const auto& [id, j] : settled)
    if (j.attempts > 1) ++later_attempts;
  std::printf(
      "head recovery, %s store (%zu jobs: %zu running on 2 nodes x %d slots, the rest "
      "queued; kill -9 the head; load %s)\n",
      store.name().c_str(), jobs, running, slots, load_average().c_str());
  std::printf("  restart -> ListJobs answers all %zu in their states   %.2f s   (target <= 5 s)\n",
              jobs, known_s);
  std::printf("  restart -> both nodes alive again                    %.2f s\n", nodes_s);
  std::printf(
      "  5 s later: %zu RUNNING, %zu PENDING, %zu jobs past attempt 1; %zu tasks started, "
      "%zu started twice   (target: %zu RUNNING, none twice)\n",
      count_state(settled, "RUNNING"), count_state(settled, "PENDING"), later_attempts, files,
      twice, running);
}

}  // namespace

int main(int argc, char** argv) {
  std::set<std::string> modes;
  std::string server;
  size_t count = 2000;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--store" && i + 1 < argc) {
      server = argv[++i];
    } else if (a == "--jobs" && i + 1 < argc) {
      count = std::stoul(argv[++i]);
    } else if (a == "throughput" || a == "latency" || a == "recovery") {
      modes.insert(a);
    } else {
      std::fprintf(stderr,
                   "usage: troupe-bench-jobs [throughput] [latency] [recovery] [--jobs N] "
                   "[--store postgresql://...]\n");
      return 2;
    }
  }
  if (modes.empty()) modes = {"throughput", "latency", "recovery"};
  ::signal(SIGPIPE, SIG_IGN);
  try {
    if (modes.count("throughput")) bench_throughput(server, count);
    if (modes.count("latency")) bench_latency(server);
    if (modes.count("recovery")) bench_recovery(server);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "troupe-bench-jobs: %s\n", e.what());
    return 1;
  }
  return 0;
}
