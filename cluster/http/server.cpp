#include "cluster/http/server.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_set>
#include <vector>

namespace troupe::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;

constexpr uint32_t max_header_bytes = 16 * 1024;

class connection;

// What connections share with the server. A connection awaiting a handler's answer is owned by
// `awaiting` (its responder holds only a weak pointer), so that stop() can destroy every
// connection while the io_context they use still exists.
struct shared_state {
  shared_state(server_options o, router r) : options(std::move(o)), routes(std::move(r)) {}
  const server_options options;
  const router routes;
  std::atomic<uint32_t> open{0};
  std::mutex mutex;
  bool serving = true;
  std::unordered_set<std::shared_ptr<connection>> awaiting;
};

request to_request(bhttp::request<bhttp::string_body>& in) {
  request out;
  out.method = std::string(in.method_string());
  const auto target = std::string(in.target());
  const auto q = target.find('?');
  out.path = target.substr(0, q);
  if (q != std::string::npos) out.query = target.substr(q + 1);
  for (const auto& field : in) {
    std::string name(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    out.headers[std::move(name)] = std::string(field.value());
  }
  out.body = std::move(in.body());
  return out;
}

class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(tcp::socket socket, std::shared_ptr<shared_state> shared)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), shared_(std::move(shared)) {
    ++shared_->open;
  }
  ~connection() { --shared_->open; }

  void start() {
    if (shared_->open > shared_->options.max_connections)
      return answer_and_close(error_response(503, "too many connections"));
    read_next();
  }

 private:
  void read_next() {
    parser_.emplace();
    parser_->body_limit(shared_->options.max_body_bytes);
    parser_->header_limit(max_header_bytes);
    arm_deadline();
    bhttp::async_read_header(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    if (beast::iequals(parser_->get()[bhttp::field::expect], "100-continue")) {
      // curl waits for this before sending a body over 1 KiB.
      auto go_on = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_,
                                                                        parser_->get().version());
      return bhttp::async_write(socket_, *go_on,
                                [self = shared_from_this(), go_on](beast::error_code e, size_t) {
                                  if (e) return self->close();
                                  self->read_body();
                                });
    }
    read_body();
  }

  void read_body() {
    bhttp::async_read(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_body(ec); });
  }

  void on_body(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    timer_.cancel();
    keep_alive_ = parser_->get().keep_alive();
    version_ = parser_->get().version();
    auto r = to_request(parser_->get());
    parser_.reset();
    {
      std::lock_guard<std::mutex> lock(shared_->mutex);
      shared_->awaiting.insert(shared_from_this());
    }
    shared_->routes.dispatch(r, responder(make_send()));
  }

  responder::send_fn make_send() {
    return [weak = weak_from_this(), shared = shared_](response r) {
      std::lock_guard<std::mutex> lock(shared->mutex);
      auto self = weak.lock();
      if (!shared->serving || !self) return;
      shared->awaiting.erase(self);
      net::post(self->socket_.get_executor(),
                [self, r = std::move(r)]() mutable { self->write(std::move(r), false); });
    };
  }

  void on_read_error(beast::error_code ec) {
    timer_.cancel();
    const bool started = parser_ && parser_->got_some();
    if (timed_out_ && started)
      return answer_and_close(error_response(408, "request not read in time"));
    if (ec == bhttp::error::body_limit)
      return answer_and_close(error_response(
          413, "body over " + std::to_string(shared_->options.max_body_bytes) + " bytes"));
    if (ec == bhttp::error::header_limit)
      return answer_and_close(error_response(431, "headers over 16 KiB"));
    const bool parse_error =
        ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category();
    if (parse_error && ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message)
      return answer_and_close(error_response(400, "malformed HTTP request: " + ec.message()));
    close();  // the client left, went idle, or the network failed
  }

  void answer_and_close(response r) { write(std::move(r), true); }

  void write(response r, bool close_after) {
    reply_ = {static_cast<bhttp::status>(r.status), version_ ? version_ : 11};
    reply_.set(bhttp::field::content_type, r.content_type);
    for (auto& [name, value] : r.headers) reply_.set(name, value);
    reply_.body() = std::move(r.body);
    close_after_ = close_after || !keep_alive_;
    reply_.keep_alive(!close_after_);
    reply_.prepare_payload();
    arm_deadline();
    bhttp::async_write(socket_, reply_, [self = shared_from_this()](beast::error_code ec, size_t) {
      self->timer_.cancel();
      if (ec) return self->close();
      if (self->close_after_) return self->linger_close();
      self->read_next();
    });
  }

  // A read or write that does not finish within the deadline is cancelled.
  void arm_deadline() {
    timed_out_ = false;
    timer_.expires_after(shared_->options.read_deadline);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec) return;  // cancelled: the operation finished in time
      self->timed_out_ = true;
      beast::error_code ignored;
      self->socket_.cancel(ignored);
    });
  }

  // After an answer that ends the connection: our side is shut, and what the client still
  // sends (the rest of a body over the cap) is read and dropped until it closes too or the
  // deadline passes. Closing at once with unread bytes would reset the connection, and the
  // client could lose the answer.
  void linger_close() {
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    arm_deadline();
    drain();
  }

  void drain() {
    socket_.async_read_some(net::buffer(discard_),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (!ec) return self->drain();
                              self->timer_.cancel();
                              self->close();
                            });
  }

  void close() {
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    socket_.close(ignored);
  }

  tcp::socket socket_;
  net::steady_timer timer_;
  std::shared_ptr<shared_state> shared_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::response<bhttp::string_body> reply_;
  std::array<char, 4096> discard_;
  bool timed_out_ = false;
  bool keep_alive_ = true;
  bool close_after_ = false;
  unsigned version_ = 11;
};

}  // namespace

struct server::impl {
  impl(server_options o, router r)
      : io_threads(std::max(1u, o.io_threads)),
        shared(std::make_shared<shared_state>(std::move(o), std::move(r))),
        acceptor(context) {
    const auto& opts = shared->options;
    try {
      tcp::endpoint at(net::ip::make_address(opts.host), opts.port);
      acceptor.open(at.protocol());
      acceptor.set_option(net::socket_base::reuse_address(true));
      acceptor.bind(at);
      acceptor.listen(net::socket_base::max_listen_connections);
    } catch (const std::exception& e) {
      throw std::runtime_error("cannot listen for HTTP on " + opts.host + ":" +
                               std::to_string(opts.port) + ": " + e.what());
    }
  }

  void accept() {
    acceptor.async_accept(net::make_strand(context), [this](beast::error_code ec, tcp::socket s) {
      if (ec == net::error::operation_aborted) return;
      if (!ec) {
        s.set_option(tcp::no_delay(true), ec);
        std::make_shared<connection>(std::move(s), shared)->start();
      }
      accept();
    });
  }

  unsigned io_threads;
  net::io_context context;
  std::shared_ptr<shared_state> shared;
  tcp::acceptor acceptor;
  std::vector<std::thread> threads;
};

server::server(server_options options, router routes)
    : impl_(std::make_unique<impl>(std::move(options), std::move(routes))) {}

server::~server() { stop(); }

void server::start() {
  impl_->accept();
  for (unsigned i = 0; i < impl_->io_threads; ++i)
    impl_->threads.emplace_back([this] { impl_->context.run(); });
}

void server::stop() {
  if (!impl_) return;
  {
    std::lock_guard<std::mutex> lock(impl_->shared->mutex);
    if (!impl_->shared->serving) return;
    impl_->shared->serving = false;
  }
  impl_->context.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  // While the io_context they use still exists; under the lock, so that no late answer holds
  // the last reference to one.
  std::lock_guard<std::mutex> lock(impl_->shared->mutex);
  impl_->shared->awaiting.clear();
}

uint16_t server::port() const { return impl_->acceptor.local_endpoint().port(); }

}  // namespace troupe::http
