#include "cluster/transport/socket_loop.hpp"

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace troupe::transport {
namespace {

// Frames waiting for the socket thread; beyond this they are dropped and counted.
constexpr size_t max_outbox_frames = 100000;

}  // namespace

socket_loop::socket_loop(zmq::context_t& context, role r, const std::string& endpoint,
                         const socket_options& options, frame_handler on_frame)
    : role_(r),
      socket_(context,
              r == role::router_bind ? zmq::socket_type::router : zmq::socket_type::dealer),
      linger_ms_(options.linger_ms),
      on_frame_(std::move(on_frame)),
      wake_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (wake_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  try {
    open(context, r, endpoint, options);
  } catch (...) {  // no destructor runs: what was made goes here
    ::close(wake_fd_);
    throw;
  }
}

void socket_loop::open(zmq::context_t& context, role r, const std::string& endpoint,
                       const socket_options& options) {
  socket_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(options.max_message_bytes));
  socket_.set(zmq::sockopt::sndhwm, options.send_high_water_mark);
  socket_.set(zmq::sockopt::rcvhwm, options.receive_high_water_mark);
  socket_.set(zmq::sockopt::linger, 0);
  if (options.curve) {
    if (r == role::router_bind) {
      socket_.set(zmq::sockopt::curve_server, 1);
      socket_.set(zmq::sockopt::zap_domain, "troupe");
      socket_.set(zmq::sockopt::curve_secretkey, options.curve->secret_key);
    } else {
      set_client_curve(socket_, *options.curve);
    }
  }
  if (r == role::router_bind) {
    // A name of its own: a loop made where one failed a moment ago may get the same address,
    // while the failed socket's monitor endpoint is still being closed.
    static std::atomic<uint64_t> monitors{0};
    const auto monitor_endpoint = "inproc://troupe-monitor-" + std::to_string(++monitors);
    if (zmq_socket_monitor(socket_.handle(), monitor_endpoint.c_str(),
                           ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_CLOSED) != 0)
      throw zmq::error_t();
    monitor_.emplace(context, zmq::socket_type::pair);
    monitor_->set(zmq::sockopt::linger, 0);
    monitor_->connect(monitor_endpoint);
    // No ROUTER_HANDOVER: with it, a second connection presenting a routing id already in use
    // takes that peer's link over, replies and all, whatever key it authenticated with.
    socket_.bind(endpoint);
    endpoint_ = socket_.get(zmq::sockopt::last_endpoint);
  } else {
    // By default queue nothing for a head we are not connected to: a heartbeat sent while the
    // head is away is worthless, and registration is retried by its owner.
    socket_.set(zmq::sockopt::immediate, options.queue_until_connected ? 0 : 1);
    socket_.set(zmq::sockopt::reconnect_ivl, options.reconnect_interval_ms);
    socket_.set(zmq::sockopt::reconnect_ivl_max, options.reconnect_interval_max_ms);
    socket_.connect(endpoint);
    endpoint_ = endpoint;
  }
}

void set_client_curve(zmq::socket_t& socket, const curve_keys& keys) {
  socket.set(zmq::sockopt::curve_serverkey, keys.server_public_key);
  socket.set(zmq::sockopt::curve_publickey, keys.public_key);
  socket.set(zmq::sockopt::curve_secretkey, keys.secret_key);
}

void socket_loop::start() {
  if (!thread_.joinable() && !stopping_) thread_ = std::thread([this] { run(); });
}

socket_loop::~socket_loop() {
  stop();
  ::close(wake_fd_);
}

void socket_loop::send(std::string peer, std::string bytes) {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    if (outbox_.size() >= max_outbox_frames) {  // the socket thread is not keeping up
      ++counters_.dropped_out;
      return;
    }
    outbox_.push_back({std::move(peer), std::move(bytes)});
  }
  outbox_filled_.store(true, std::memory_order_release);
  uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

void socket_loop::drop_connections() {
  drop_requested_ = true;
  uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

void socket_loop::stop() {
  stopping_ = true;
  if (!thread_.joinable()) return;
  uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
  thread_.join();
}

void socket_loop::run() {
  zmq::pollitem_t items[] = {{socket_.handle(), 0, ZMQ_POLLIN, 0},
                             {nullptr, wake_fd_, ZMQ_POLLIN, 0},
                             {monitor_ ? monitor_->handle() : nullptr, 0, ZMQ_POLLIN, 0}};
  const int item_count = monitor_ ? 3 : 2;
  while (!stopping_) {
    // A socket error must not take the process down: count it and carry on (ETERM, the
    // context going away, ends the loop).
    try {
      zmq::poll(items, item_count, std::chrono::milliseconds(-1));
      if (item_count == 3 && (items[2].revents & ZMQ_POLLIN)) read_monitor_events();
      if (items[1].revents & ZMQ_POLLIN) {
        uint64_t count;
        [[maybe_unused]] auto n = ::read(wake_fd_, &count, sizeof count);
        drain_outbox();
        if (drop_requested_.exchange(false)) shut_down_connections();
      }
      if ((items[0].revents & ZMQ_POLLIN) && receive_all() > 0 && after_read_) {
        after_read_();
        if (outbox_filled_.load(std::memory_order_acquire)) drain_outbox();
      }
      if (expect_reply_) await_prompt_reply();
    } catch (const zmq::error_t& e) {
      if (e.num() == ETERM) return;
      if (e.num() != EINTR) ++counters_.socket_errors;
    }
  }
  try {
    drain_outbox();  // frames queued before stop() still go out, within linger_ms
    socket_.set(zmq::sockopt::linger, linger_ms_);
  } catch (const zmq::error_t&) {
    ++counters_.socket_errors;
  }
  if (monitor_) {
    zmq_socket_monitor(socket_.handle(), nullptr, 0);
    monitor_->close();
  }
  socket_.close();
}

void socket_loop::read_monitor_events() {
  // Each event is [uint16 event, uint32 value (the fd)] then the endpoint's address.
  while (true) {
    zmq::message_t event, address;
    if (!monitor_->recv(event, zmq::recv_flags::dontwait)) return;
    if (event.more()) (void)monitor_->recv(address, zmq::recv_flags::none);
    if (event.size() < 6) continue;
    uint16_t kind;
    uint32_t fd;
    std::memcpy(&kind, event.data(), sizeof kind);
    std::memcpy(&fd, event.data<char>() + sizeof kind, sizeof fd);
    auto known = std::find(connection_fds_.begin(), connection_fds_.end(), static_cast<int>(fd));
    if (kind == ZMQ_EVENT_ACCEPTED) {
      if (known == connection_fds_.end()) connection_fds_.push_back(static_cast<int>(fd));
    } else if (known != connection_fds_.end()) {
      connection_fds_.erase(known);
    }
  }
}

void socket_loop::shut_down_connections() {
  read_monitor_events();  // forget connections that closed meanwhile
  // ZeroMQ's I/O thread sees the shutdown as the peer going away and closes the connection.
  for (int fd : connection_fds_) ::shutdown(fd, SHUT_RDWR);
  connection_fds_.clear();
}

void socket_loop::await_prompt_reply() {
  expect_reply_ = false;
  ++counters_.prompt_reply_polls;
  constexpr auto budget = std::chrono::microseconds(50);
  const auto until = clock::now() + budget;
  while (!outbox_filled_.load(std::memory_order_acquire)) {
    if (clock::now() >= until) return;
  }
  drain_outbox();
}

void socket_loop::drain_outbox() {
  outbox_filled_.store(false, std::memory_order_relaxed);
  std::vector<outbound> batch;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    batch.swap(outbox_);
  }
  for (auto& out : batch) {
    zmq::send_result_t sent;
    if (role_ == role::router_bind) {
      sent =
          socket_.send(zmq::buffer(out.peer), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
      if (sent) sent = socket_.send(zmq::buffer(out.bytes), zmq::send_flags::dontwait);
    } else {
      sent = socket_.send(zmq::buffer(out.bytes), zmq::send_flags::dontwait);
    }
    if (sent)
      ++counters_.frames_out;
    else
      ++counters_.dropped_out;
  }
}

int socket_loop::receive_all() {
  // Read a bounded batch so that a flood of inbound frames cannot starve the outbox; each
  // ZeroMQ message is [identity] payload.
  constexpr int batch = 256;
  std::vector<zmq::message_t> parts;
  int handed = 0;
  for (int i = 0; i < batch; ++i) {
    parts.clear();
    zmq::message_t part;
    if (!socket_.recv(part, zmq::recv_flags::dontwait)) return handed;
    parts.push_back(std::move(part));
    while (parts.back().more()) {
      zmq::message_t next;
      (void)socket_.recv(next, zmq::recv_flags::none);
      parts.push_back(std::move(next));
    }
    const size_t expected = role_ == role::router_bind ? 2 : 1;
    if (parts.size() != expected) {
      ++counters_.bad_shape;
      continue;
    }
    ++counters_.frames_in;
    ++handed;
    auto now = clock::now();
    if (role_ == role::router_bind)
      on_frame_(parts[0].to_string(), parts[1], now);
    else
      on_frame_(std::string(), parts[0], now);
  }
  return handed;
}

}  // namespace troupe::transport
