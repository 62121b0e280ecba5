// One ZeroMQ socket driven by its own thread. ZeroMQ sockets are not thread-safe, so the
// socket is touched only by that thread; other threads hand it outbound frames through a
// mutex-guarded outbox and wake it with an eventfd that zmq_poll watches beside the socket.
//
// A ROUTER loop binds (the head); a DEALER loop connects and reconnects by itself (nodes).
// Inbound frames are handed to `on_frame` on the loop's thread; it must not block.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

namespace troupe::transport {

using clock = std::chrono::steady_clock;

// CURVE keys (Z85). A ROUTER serves with its own secret key and asks the context's ZAP handler
// (domain "troupe") about every client; a DEALER also needs the server's public key.
struct curve_keys {
  std::string public_key;
  std::string secret_key;
  std::string server_public_key;  // DEALER only: the head it may talk to
};

// Makes `socket` a CURVE client of the server whose public key `keys` names; before connect().
void set_client_curve(zmq::socket_t& socket, const curve_keys& keys);

struct socket_options {
  size_t max_message_bytes = 4 << 20;  // ZeroMQ drops a peer sending more (a memory guard)
  int send_high_water_mark = 10000;    // outbound frames queued per peer before dropping
  int receive_high_water_mark = 10000;
  int reconnect_interval_ms = 100;
  int reconnect_interval_max_ms = 1000;
  int linger_ms = 1000;             // how long close() may flush queued frames
  std::optional<curve_keys> curve;  // none: plain TCP (tests of the transport only)
  // DEALER only. False: a frame sent while the connection is not up is dropped (a heartbeat to
  // an absent head is worthless). True: it waits for the connection, for a process whose first
  // request goes to its own node as it starts (a replica, a predict task).
  bool queue_until_connected = false;
};

// Counters a loop keeps; read from any thread.
struct socket_counters {
  std::atomic<uint64_t> frames_in{0};
  std::atomic<uint64_t> frames_out{0};
  std::atomic<uint64_t> dropped_out{0};  // outbox full, or ZeroMQ could not queue it
  std::atomic<uint64_t> socket_errors{0};
  std::atomic<uint64_t> bad_shape{0};           // inbound messages with an unexpected part count
  std::atomic<uint64_t> prompt_reply_polls{0};  // times it polled its outbox after a request
};

class socket_loop {
 public:
  enum class role { router_bind, dealer_connect };

  // `peer` is the ROUTER identity of the sender (empty on a DEALER).
  using frame_handler =
      std::function<void(const std::string& peer, const zmq::message_t& frame, clock::time_point)>;

  // Binds or connects immediately (throws zmq::error_t on a bad endpoint or a taken port);
  // nothing is received until start(). `context` must outlive the loop.
  socket_loop(zmq::context_t& context, role r, const std::string& endpoint,
              const socket_options& options, frame_handler on_frame);
  ~socket_loop();
  socket_loop(const socket_loop&) = delete;
  socket_loop& operator=(const socket_loop&) = delete;

  // Before start(): `after_read` runs on the loop's thread after each read that handed frames to
  // `on_frame` (up to 256 of them), so that an owner that gathers those frames can work on them
  // together there; what it sends meanwhile leaves right after it returns.
  void set_after_read(std::function<void()> after_read) { after_read_ = std::move(after_read); }

  // Starts the thread that owns the socket from now on. Frames sent earlier wait until then.
  void start();

  // Thread-safe. Queues `bytes` for `peer` (ignored on a DEALER). Never blocks: a frame that
  // ZeroMQ cannot queue is dropped and counted.
  void send(std::string peer, std::string bytes);

  // For `on_frame` only: the frame is a request that another thread answers promptly. After
  // this batch the loop polls its outbox for up to 50 us before sleeping, so that the reply
  // leaves without a thread wake-up (tens of microseconds on a VM).
  void expect_prompt_reply() { expect_reply_ = true; }

  // Thread-safe; ROUTER only. Closes every client connection now; clients reconnect by
  // themselves and pass the ZAP handler again, so a revoked key is cut off at once.
  void drop_connections();

  // Flushes queued frames (bounded by linger_ms), closes the socket and joins the thread.
  void stop();

  // The address actually bound, e.g. with the real port for tcp://127.0.0.1:0.
  const std::string& endpoint() const { return endpoint_; }
  const socket_counters& counters() const { return counters_; }

 private:
  struct outbound {
    std::string peer;
    std::string bytes;
  };

  // The constructor's work past the eventfd: the socket's options, then bind or connect.
  void open(zmq::context_t& context, role r, const std::string& endpoint,
            const socket_options& options);
  void run();
  void await_prompt_reply();
  void drain_outbox();
  // Returns how many frames it handed to on_frame.
  int receive_all();
  void read_monitor_events();
  void shut_down_connections();

  role role_;
  zmq::socket_t socket_;
  std::string endpoint_;
  int linger_ms_;
  frame_handler on_frame_;
  std::function<void()> after_read_;
  int wake_fd_;
  // ROUTER: a monitor reports each accepted connection's file descriptor, so that
  // drop_connections() can shut them down (ZeroMQ has no call to close one peer).
  std::optional<zmq::socket_t> monitor_;
  std::vector<int> connection_fds_;  // loop thread only
  std::atomic<bool> drop_requested_{false};
  std::mutex mutex_;
  std::vector<outbound> outbox_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> outbox_filled_{false};
  bool expect_reply_ = false;  // loop thread only
  socket_counters counters_;
  std::thread thread_;
};

}  // namespace troupe::transport
