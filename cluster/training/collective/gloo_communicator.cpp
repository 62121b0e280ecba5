// The Gloo communicator on Gloo's own transport and algorithms, joined through our rendezvous.
// Used where Gloo's library is installed beside a libtorch linked to it (Debian), so that the
// headers we compile against describe the library we run. Against c10d's ProcessGroupGloo it
// saves most of a small all-reduce (85 k floats between two ranks on 2 cores: 2.2 ms there,
// 0.14 ms here): each tensor's buffers are registered with the peers once and reused, two
// ranks exchange their data directly on the thread that waits for the sum, and no collective
// is handed to another thread that would have to wait for a core the training loop holds.
#include <gloo/allreduce_halving_doubling.h>
#include <gloo/barrier_all_to_all.h>
#include <gloo/broadcast_one_to_all.h>
#include <gloo/math.h>
#include <gloo/rendezvous/context.h>
#include <gloo/rendezvous/store.h>
#include <gloo/transport/tcp/device.h>

#include <algorithm>
#include <deque>
#include <exception>
#include <functional>
#include <limits>
#include <map>
#include <tuple>

#include "cluster/training/collective/gloo_group.hpp"

namespace troupe::training {
namespace {

// Gloo's view of our rendezvous while it connects its pairs (set, get and wait).
class rendezvous_store final : public gloo::rendezvous::Store {
 public:
  rendezvous_store(std::shared_ptr<rendezvous> rendezvous, std::chrono::milliseconds timeout)
      : rendezvous_(std::move(rendezvous)), timeout_(timeout) {}

  void set(const std::string& key, const std::vector<char>& value) override {
    rendezvous_->set(key, bytes(value.begin(), value.end()));
  }
  std::vector<char> get(const std::string& key) override {
    const bytes value = rendezvous_->get(key, timeout_);
    return std::vector<char>(value.begin(), value.end());
  }
  // Gloo passes its collective timeout here; joining is bounded by the join timeout instead,
  // since ranks may start seconds apart.
  void wait(const std::vector<std::string>& keys) override {
    for (const auto& key : keys) rendezvous_->get(key, timeout_);
  }
  void wait(const std::vector<std::string>& keys, const std::chrono::milliseconds&) override {
    wait(keys);
  }

 private:
  std::shared_ptr<rendezvous> rendezvous_;
  std::chrono::milliseconds timeout_;
};

// The collectives started and not yet run, in the order they were started (every rank starts
// the same ones in the same order). Each runs on the thread that waits for it, after those
// before it. A rank's cores are busy with its backward pass: a thread of our own, which had to
// wait for one whenever data came, cost more than overlapping saved (troupe-bench-collective on
// 2 cores: 0.77 of twice the plain loop with it, 0.85 without).
class pending_collectives {
 public:
  struct entry {
    std::function<void()> run;
    bool done = false;
    std::exception_ptr error;
  };

  std::shared_ptr<entry> add(std::function<void()> run) {
    queue_.push_back(std::make_shared<entry>(entry{std::move(run), false, nullptr}));
    return queue_.back();
  }

  // Runs every entry up to `last`; rethrows what `last` threw.
  void run_through(const std::shared_ptr<entry>& last) {
    while (!last->done) {
      std::shared_ptr<entry> next = std::move(queue_.front());
      queue_.pop_front();
      try {
        next->run();
      } catch (...) {
        next->error = std::current_exception();
      }
      next->done = true;
    }
    if (last->error) std::rethrow_exception(last->error);
  }

  // An entry nobody will wait for (its work was dropped after an earlier one failed).
  void drop(const std::shared_ptr<entry>& dropped) {
    queue_.erase(std::remove(queue_.begin(), queue_.end(), dropped), queue_.end());
  }

 private:
  std::deque<std::shared_ptr<entry>> queue_;
};

class gloo_work final : public collective_work {
 public:
  gloo_work(pending_collectives& pending, std::shared_ptr<pending_collectives::entry> entry)
      : pending_(pending), entry_(std::move(entry)) {}
  ~gloo_work() override {
    if (!entry_->done) pending_.drop(entry_);
  }

  void wait() override { pending_.run_through(entry_); }

 private:
  pending_collectives& pending_;
  std::shared_ptr<pending_collectives::entry> entry_;
};

// Two ranks' sum over a synchronous pair: rank 0 sends its tensor, then takes its peer's; rank 1
// takes, then sends. Neither ever writes what the other is not about to read, so no write can
// wait forever on full socket buffers, and the thread that sums is the one that reads: no other
// thread needs a core when the data comes. Each adds what it got, a + b on one rank and b + a
// on the other: the same bits.
template <typename element>
class pair_sum final : public gloo::Algorithm {
 public:
  pair_sum(const std::shared_ptr<gloo::Context>& context, element* data, int count)
      : gloo::Algorithm(context), data_(data), count_(count), inbox_(count) {
    const auto& peer = context->getPair(1 - context->rank);
    const std::size_t bytes = sizeof(element) * static_cast<std::size_t>(count);
    const int slot = context->nextSlot();
    send_ = peer->createSendBuffer(slot, data_, bytes);
    receive_ = peer->createRecvBuffer(slot, inbox_.data(), bytes);
  }

  void run() override {
    if (count_ == 0) return;
    if (context_->rank == 0) {
      send_->send();
      send_->waitSend();
      receive_->waitRecv();
    } else {
      receive_->waitRecv();
      send_->send();
      send_->waitSend();
    }
    gloo::sum<element>(data_, data_, inbox_.data(), static_cast<std::size_t>(count_));
  }

 private:
  element* data_;
  int count_;
  std::vector<element> inbox_;
  std::unique_ptr<gloo::transport::Buffer> send_, receive_;
};

// Sums in place, in the same order on every rank, so every rank ends with the same bits. More
// than two ranks halve and double, which moves each element about twice whatever the world size.
template <typename element>
std::unique_ptr<gloo::Algorithm> sum_of(const std::shared_ptr<gloo::Context>& context,
                                        at::Tensor& tensor) {
  element* data = tensor.data_ptr<element>();
  const int count = static_cast<int>(tensor.numel());
  if (context->size == 2) return std::make_unique<pair_sum<element>>(context, data, count);
  return std::make_unique<gloo::AllreduceHalvingDoubling<element>>(
      context, std::vector<element*>{data}, count);
}

class gloo_communicator final : public communicator {
 public:
  gloo_communicator(std::shared_ptr<rendezvous> rendezvous, const gloo_options& options)
      : options_(options) {
    gloo::transport::tcp::attr address;
    address.hostname = options.hostname;
    auto device = gloo::transport::tcp::CreateDevice(address);
    auto context = std::make_shared<gloo::rendezvous::Context>(options.rank, options.world_size);
    // Every wait on a peer, from connecting on, fails after this.
    context->setTimeout(options.timeout);
    rendezvous_store store(std::move(rendezvous), options.join_timeout);
    context->connectFullMesh(store, device);
    // Two ranks read and write their one socket on the thread that runs the collective (see
    // pair_sum); more keep Gloo's own thread, which their algorithms need.
    if (options.world_size == 2) context->getPair(1 - options.rank)->setSync(true, false);
    context_ = std::move(context);
  }

  // More than two ranks leave together: Gloo's algorithms end with words to peers, which a rank
  // done first must still be there to take (without this, a slower rank's last all-reduce
  // failed with "Connection closed by peer"). Not after a failed collective, nor while an error
  // unwinds: then the peers are not coming. Two ranks need none (see pair_sum: the last thing
  // each does is a read, or a write the other reads before it sees the socket close).
  ~gloo_communicator() override {
    if (options_.world_size <= 2 || failed_ || std::uncaught_exceptions() > 0) return;
    try {
      barrier();
    } catch (const collective_error&) {  // a peer gone meanwhile: nothing left to wait for
    }
  }

  int rank() const override { return options_.rank; }
  int world_size() const override { return options_.world_size; }

  std::unique_ptr<collective_work> all_reduce_sum(at::Tensor& tensor) override {
    const std::string what = describe_call("all-reduce", tensor.numel());
    check_tensor(tensor, what);
    if (options_.world_size == 1) return start(what, [] {});
    gloo::Algorithm& sum = sum_for(tensor, what);
    return start(what, [&sum] { sum.run(); });
  }

  void broadcast(at::Tensor& tensor, int root) override {
    const std::string what =
        describe_call("broadcast from rank " + std::to_string(root), tensor.numel());
    check_tensor(tensor, what);
    if (options_.world_size == 1) return;
    // Bytes, whatever the element type: a copy needs no arithmetic.
    auto* data = static_cast<uint8_t*>(tensor.data_ptr());
    const int count = static_cast<int>(tensor.numel() * tensor.element_size());
    start(what, [this, data, count, root] {
      gloo::BroadcastOneToAll<uint8_t>(context_, {data}, count, root).run();
    })->wait();
  }

  void barrier() override {
    if (options_.world_size == 1) return;
    start(describe_call("barrier", 0), [this] { gloo::BarrierAllToAll(context_).run(); })->wait();
  }

 private:
  // What Gloo's algorithms can take: host memory, in one piece, counted in an int.
  static void check_tensor(const at::Tensor& tensor, const std::string& what) {
    auto refuse = [&](const std::string& why) {
      throw collective_error(msg::error_code::invalid_request, what + ": " + why);
    };
    if (!tensor.device().is_cpu()) refuse("the tensor is not in host memory");
    if (!tensor.is_contiguous()) refuse("the tensor is not contiguous");
    if (tensor.numel() * tensor.element_size() > std::numeric_limits<int>::max())
      refuse("the tensor is over 2 GiB");
  }

  // The tensor's all-reduce, made on first use: made, it has registered its buffers with
  // every peer, which is what each later run saves. Buckets reuse their tensors every step.
  gloo::Algorithm& sum_for(at::Tensor& tensor, const std::string& what) {
    const auto key = std::make_tuple(tensor.data_ptr(), tensor.numel(), tensor.scalar_type());
    auto found = sums_.find(key);
    if (found != sums_.end()) return *found->second;
    std::unique_ptr<gloo::Algorithm> sum;
    try {
      switch (tensor.scalar_type()) {
        case at::kFloat: sum = sum_of<float>(context_, tensor); break;
        case at::kDouble: sum = sum_of<double>(context_, tensor); break;
        case at::kInt: sum = sum_of<int32_t>(context_, tensor); break;
        case at::kLong: sum = sum_of<int64_t>(context_, tensor); break;
        default:
          throw collective_error(msg::error_code::invalid_request,
                                 what + ": Gloo sums float, double, int and long tensors, not " +
                                     std::string(c10::toString(tensor.scalar_type())));
      }
    } catch (const collective_error&) {
      throw;
    } catch (const std::exception& error) {
      throw collective_error(msg::error_code::unavailable, what + " failed: " + describe(error));
    }
    return *sums_.emplace(key, std::move(sum)).first->second;
  }

  // Adds `run` to the pending collectives; its failure (a peer gone, or silent past the timeout)
  // reaches wait() as a collective_error naming `what`. The group is unusable after one.
  std::unique_ptr<collective_work> start(const std::string& what, std::function<void()> run) {
    return std::make_unique<gloo_work>(pending_, pending_.add([this, what, run = std::move(run)] {
      try {
        run();
      } catch (const std::exception& error) {
        failed_ = true;
        throw collective_error(msg::error_code::unavailable, what + " failed: " + describe(error));
      }
    }));
  }

  std::string describe_call(const std::string& call, int64_t elements) const {
    return describe_gloo_call(call, elements, options_);
  }

  gloo_options options_;
  std::shared_ptr<gloo::Context> context_;
  std::map<std::tuple<void*, int64_t, at::ScalarType>, std::unique_ptr<gloo::Algorithm>> sums_;
  pending_collectives pending_;
  bool failed_ = false;  // a collective failed: the group is unusable
};

}  // namespace

std::unique_ptr<communicator> join_gloo_group(std::shared_ptr<rendezvous> rendezvous,
                                              const gloo_options& options) {
  return std::make_unique<gloo_communicator>(std::move(rendezvous), options);
}

}  // namespace troupe::training
