// The NCCL communicator: raw NCCL on CUDA tensors, compiled wherever the CUDA toolkit is.
// Its rendezvous is NCCL's unique id, made by rank 0 and carried by our rendezvous. The
// communicator is non-blocking (NCCL's config.blocking = 0) so that joining and every
// collective can be given up after a timeout: NCCL itself would wait forever for a dead peer.
//
// Collectives run on the communicator's own stream, after the work already queued on the
// tensor's current torch stream (a CUDA event bridges the two without needing libtorch's CUDA
// headers, so this compiles against a CPU-only libtorch too). wait() holds the host until the
// collective is done, so whatever torch queues next sees its result.
#include <cuda_runtime_api.h>
#include <nccl.h>

#include <cstring>
#include <thread>

#include <c10/core/impl/DeviceGuardImplInterface.h>

#include "cluster/training/collective/communicator.hpp"

namespace troupe::training {
namespace {

[[noreturn]] void fail(msg::error_code code, const std::string& what) {
  throw collective_error(code, "nccl: " + what);
}

void check_cuda(cudaError_t status, const std::string& what) {
  if (status == cudaSuccess) return;
  (void)cudaGetLastError();  // a sticky error would fail the next, unrelated CUDA call
  fail(msg::error_code::unavailable, what + ": " + cudaGetErrorString(status));
}

void check_nccl(ncclResult_t status, const std::string& what) {
  if (status == ncclSuccess || status == ncclInProgress) return;
  fail(msg::error_code::unavailable, what + ": " + ncclGetErrorString(status));
}

ncclDataType_t nccl_type(at::ScalarType type) {
  switch (type) {
    case at::kFloat: return ncclFloat32;
    case at::kDouble: return ncclFloat64;
    case at::kHalf: return ncclFloat16;
    case at::kBFloat16: return ncclBfloat16;
    case at::kInt: return ncclInt32;
    case at::kLong: return ncclInt64;
    case at::kByte: return ncclUint8;
    case at::kChar: return ncclInt8;
    default:
      fail(msg::error_code::invalid_request, std::string("no NCCL type for ") + at::toString(type));
  }
}

// Makes `device` current for a scope and restores the previous one.
class device_scope {
 public:
  explicit device_scope(int device) {
    const std::string refused = "cannot use CUDA device " + std::to_string(device);
    check_cuda(cudaGetDevice(&previous_), refused);
    check_cuda(cudaSetDevice(device), refused);
  }
  ~device_scope() { (void)cudaSetDevice(previous_); }
  device_scope(const device_scope&) = delete;
  device_scope& operator=(const device_scope&) = delete;

 private:
  int previous_ = 0;
};

class nccl_communicator;

class nccl_work final : public collective_work {
 public:
  nccl_work(nccl_communicator& owner, cudaEvent_t done, std::string what)
      : owner_(owner), done_(done), what_(std::move(what)) {}
  ~nccl_work() override { (void)cudaEventDestroy(done_); }

  void wait() override;

 private:
  nccl_communicator& owner_;  // outlives its work
  cudaEvent_t done_;
  std::string what_;
};

class nccl_communicator final : public communicator {
 public:
  nccl_communicator(rendezvous& rendezvous, const nccl_options& options) : options_(options) {
    try {
      join(rendezvous);
    } catch (...) {
      release();
      throw;
    }
  }

  ~nccl_communicator() override { release(); }

  int rank() const override { return options_.rank; }
  int world_size() const override { return options_.world_size; }

  std::unique_ptr<collective_work> all_reduce_sum(at::Tensor& tensor) override {
    check_tensor(tensor);
    device_scope on(options_.device);
    follow_torch_stream(tensor.device());
    return launch("all-reduce of " + std::to_string(tensor.numel()) + " elements", [&] {
      return ncclAllReduce(tensor.data_ptr(), tensor.data_ptr(), tensor.numel(),
                           nccl_type(tensor.scalar_type()), ncclSum, comm_, stream_);
    });
  }

  void broadcast(at::Tensor& tensor, int root) override {
    check_tensor(tensor);
    device_scope on(options_.device);
    follow_torch_stream(tensor.device());
    launch("broadcast from rank " + std::to_string(root), [&] {
      return ncclBroadcast(tensor.data_ptr(), tensor.data_ptr(), tensor.numel(),
                           nccl_type(tensor.scalar_type()), root, comm_, stream_);
    })->wait();
  }

  void barrier() override {
    device_scope on(options_.device);
    launch("barrier", [&] {
      return ncclAllReduce(barrier_word_, barrier_word_, 1, ncclFloat32, ncclSum, comm_, stream_);
    })->wait();
  }

  // Until the last call on the communicator has gone through (non-blocking NCCL returns
  // ncclInProgress at first); aborts the communicator on an error or after `timeout`.
  void settle(std::chrono::milliseconds timeout, const std::string& what) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      ncclResult_t state = ncclSuccess;
      check_nccl(ncclCommGetAsyncError(comm_, &state), what);
      if (state == ncclSuccess) return;
      if (state != ncclInProgress) abort(what + ": " + ncclGetErrorString(state));
      if (std::chrono::steady_clock::now() >= deadline)
        abort(what + ": no answer within " + std::to_string(timeout.count()) + " ms");
      std::this_thread::yield();
    }
  }

  // A peer that errs or stalls leaves the communicator unusable: abort it and say why.
  [[noreturn]] void abort(const std::string& why) {
    (void)ncclCommAbort(comm_);
    comm_ = nullptr;
    fail(msg::error_code::unavailable, why + " (rank " + std::to_string(options_.rank) + " of " +
                                           std::to_string(options_.world_size) + ")");
  }

  const nccl_options& options() const { return options_; }

 private:
  void join(rendezvous& rendezvous) {
    device_scope on(options_.device);
    ncclUniqueId id;
    const std::string key = "nccl/unique_id";
    if (options_.rank == 0) {
      check_nccl(ncclGetUniqueId(&id), "cannot make a unique id");
      rendezvous.set(key, bytes(id.internal, id.internal + sizeof id.internal));
    } else {
      const bytes value = rendezvous.get(key, options_.join_timeout);
      if (value.size() != sizeof id.internal)
        fail(msg::error_code::invalid_request, "the rendezvous holds no NCCL unique id");
      std::memcpy(id.internal, value.data(), value.size());
    }
    ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
    config.blocking = 0;
    check_nccl(ncclCommInitRankConfig(&comm_, options_.world_size, id, options_.rank, &config),
               "cannot join");
    settle(options_.join_timeout, "joining");
    check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cannot make a stream");
    check_cuda(cudaMalloc(&barrier_word_, sizeof(float)), "cannot allocate");
  }

  void release() noexcept {
    if (!stream_ && !comm_ && !barrier_word_) return;
    int previous = 0;
    (void)cudaGetDevice(&previous);
    (void)cudaSetDevice(options_.device);
    if (barrier_word_) (void)cudaFree(barrier_word_);
    if (stream_) (void)cudaStreamDestroy(stream_);
    if (comm_) (void)ncclCommAbort(comm_);  // never waits for peers, unlike ncclCommDestroy
    (void)cudaSetDevice(previous);
  }

  void check_tensor(const at::Tensor& tensor) const {
    if (!tensor.is_cuda() || !tensor.is_contiguous())
      fail(msg::error_code::invalid_request, "tensors must be contiguous CUDA tensors");
  }

  // Our stream waits for what torch has queued so far on the tensor's device.
  void follow_torch_stream(c10::Device device) {
    const auto* torch_cuda = c10::impl::getDeviceGuardImpl(c10::DeviceType::CUDA);
    void* queued = nullptr;
    torch_cuda->record(&queued, torch_cuda->getStream(device), device.index(),
                       c10::EventFlag::PYTORCH_DEFAULT);
    const cudaError_t status = cudaStreamWaitEvent(stream_, static_cast<cudaEvent_t>(queued), 0);
    torch_cuda->destroyEvent(queued, device.index());
    check_cuda(status, "cannot order the collective after torch's work");
  }

  template <class Call>
  std::unique_ptr<collective_work> launch(const std::string& what, Call&& call) {
    if (!comm_) fail(msg::error_code::unavailable, what + ": the communicator was aborted earlier");
    check_nccl(call(), what);
    settle(options_.timeout, what);
    cudaEvent_t done = nullptr;
    check_cuda(cudaEventCreateWithFlags(&done, cudaEventDisableTiming), what);
    check_cuda(cudaEventRecord(done, stream_), what);
    return std::make_unique<nccl_work>(*this, done, what);
  }

  nccl_options options_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  void* barrier_word_ = nullptr;
};

void nccl_work::wait() {
  const auto timeout = owner_.options().timeout;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const cudaError_t status = cudaEventQuery(done_);
    if (status == cudaSuccess) return;
    if (status != cudaErrorNotReady) check_cuda(status, what_);
    owner_.settle(timeout, what_);  // throws on an asynchronous NCCL error
    if (std::chrono::steady_clock::now() >= deadline)
      owner_.abort(what_ + ": not done within " + std::to_string(timeout.count()) + " ms");
    std::this_thread::yield();
  }
}

}  // namespace

std::unique_ptr<communicator> make_nccl_communicator(std::shared_ptr<rendezvous> rendezvous,
                                                     const nccl_options& options) {
  check(options);
  return std::make_unique<nccl_communicator>(*rendezvous, options);
}

}  // namespace troupe::training
