// The Gloo communicator on Gloo's own algorithms, joined through our rendezvous. Used where
// Gloo's library is installed beside a libtorch linked to it (Debian), so that the headers we
// compile against describe the library we run. Against c10d's ProcessGroupGloo it saves most
// of a small all-reduce's time (85 k floats between two ranks on loopback: 2.2 ms there,
// 0.3 ms here): each tensor's buffers are registered with their peers once and reused, so a
// collective is one exchange of data, where c10d's negotiates every transfer and hands every
// collective to a thread of its own.
#include <gloo/allreduce_halving_doubling.h>
#include <gloo/barrier_all_to_all.h>
#include <gloo/broadcast_one_to_all.h>
#include <gloo/math.h>
#include <gloo/rendezvous/context.h>
#include <gloo/rendezvous/store.h>
#include <gloo/transport/tcp/device.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <thread>
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

// Runs a group's collectives one at a time, in the order they were started (every rank must
// see the same order): on a thread of its own, so that a bucket's all-reduce overlaps the rest
// of backward, or on the thread that waits for one nobody has begun, which saves two thread
// switches when there is nothing left to overlap it with.
class collective_queue {
 public:
  struct entry {
    std::function<void()> run;
    bool done = false;
    std::exception_ptr error;
  };

  collective_queue() : thread_([this] { work(); }) {}

  ~collective_queue() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }

  std::shared_ptr<entry> push(std::function<void()> run) {
    auto queued = std::make_shared<entry>();
    queued->run = std::move(run);
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(queued);
    }
    changed_.notify_all();
    return queued;
  }

  // Returns once `waited` ran; rethrows what it threw.
  void wait(const std::shared_ptr<entry>& waited) {
    std::unique_lock lock(mutex_);
    while (!waited->done) {
      if (!running_ && !queue_.empty() && queue_.front() == waited)
        run_front(lock);
      else
        changed_.wait(lock);
    }
    if (waited->error) std::rethrow_exception(waited->error);
  }

 private:
  void work() {
    std::unique_lock lock(mutex_);
    for (;;) {
      changed_.wait(lock, [&] { return stopping_ || (!running_ && !queue_.empty()); });
      if (queue_.empty()) return;  // stopping, nothing left
      run_front(lock);
    }
  }

  void run_front(std::unique_lock<std::mutex>& lock) {
    std::shared_ptr<entry> next = std::move(queue_.front());
    queue_.pop_front();
    running_ = true;
    lock.unlock();
    try {
      next->run();
    } catch (...) {
      next->error = std::current_exception();
    }
    lock.lock();
    running_ = false;
    next->done = true;
    changed_.notify_all();
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::shared_ptr<entry>> queue_;
  bool running_ = false;
  bool stopping_ = false;
  std::thread thread_;  // last: it starts on the members above
};

class gloo_work final : public collective_work {
 public:
  gloo_work(collective_queue& queue, std::shared_ptr<collective_queue::entry> entry)
      : queue_(queue), entry_(std::move(entry)) {}

  void wait() override { queue_.wait(entry_); }

 private:
  collective_queue& queue_;
  std::shared_ptr<collective_queue::entry> entry_;
};

// Two ranks' sum, one trip between them per run: each sends its tensor straight into one of two
// inboxes of its peer, alternating, and adds what it got, a + b on one rank and b + a on the
// other, the same bits. Before writing to an inbox a rank waits for its peer's word that it
// was emptied, sent two runs before. (Gloo's ring of two copies the tensor out first and waits
// for that word at the end of every run: one more trip per all-reduce.)
template <typename element>
class pair_sum final : public gloo::Algorithm {
 public:
  pair_sum(const std::shared_ptr<gloo::Context>& context, element* data, int count)
      : gloo::Algorithm(context), data_(data), count_(count) {
    const auto& peer = context->getPair(1 - context->rank);
    const std::size_t bytes = sizeof(element) * static_cast<std::size_t>(count);
    for (int i = 0; i < 2; ++i) {
      inboxes_[i].resize(static_cast<std::size_t>(count));
      const int data_slot = context->nextSlot();
      const int emptied_slot = context->nextSlot();
      sends_[i] = peer->createSendBuffer(data_slot, data_, bytes);
      receives_[i] = peer->createRecvBuffer(data_slot, inboxes_[i].data(), bytes);
      emptied_sends_[i] = peer->createSendBuffer(emptied_slot, &word_, sizeof word_);
      emptied_receives_[i] = peer->createRecvBuffer(emptied_slot, &words_[i], sizeof word_);
    }
  }

  void run() override {
    if (count_ == 0) return;
    const int i = static_cast<int>(runs_ % 2);
    if (runs_ >= 2) {
      emptied_receives_[i]->waitRecv();
      emptied_sends_[i]->waitSend();
    }
    sends_[i]->send();
    receives_[i]->waitRecv();
    sends_[i]->waitSend();
    gloo::sum<element>(data_, data_, inboxes_[i].data(), static_cast<std::size_t>(count_));
    emptied_sends_[i]->send();
    ++runs_;
  }

 private:
  element* data_;
  int count_;
  uint64_t runs_ = 0;
  std::vector<element> inboxes_[2];
  std::unique_ptr<gloo::transport::Buffer> sends_[2], receives_[2];
  std::unique_ptr<gloo::transport::Buffer> emptied_sends_[2], emptied_receives_[2];
  char word_ = 0;
  char words_[2] = {};
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
    context_ = std::move(context);
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

  // Queues `run`; its failure (a peer gone, or silent past the timeout) reaches wait() as a
  // collective_error naming `what`. The group is unusable after one.
  std::unique_ptr<collective_work> start(const std::string& what, std::function<void()> run) {
    return std::make_unique<gloo_work>(queue_, queue_.push([what, run = std::move(run)] {
      try {
        run();
      } catch (const std::exception& error) {
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
  collective_queue queue_;  // last: its thread stops before the algorithms and context go
};

}  // namespace

std::unique_ptr<communicator> join_gloo_group(std::shared_ptr<rendezvous> rendezvous,
                                              const gloo_options& options) {
  return std::make_unique<gloo_communicator>(std::move(rendezvous), options);
}

}  // namespace troupe::training
