// RingBuffer: a BPF ring buffer consumed on the Node event loop. libbpf's ring_buffer exposes an
// epoll fd that becomes readable when records arrive; a uv_poll_t watches it, and each
// readiness drains everything available and hands it to JS as one array of Buffers (one call
// per wakeup, not per record). No timers, no polling threads.
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <uv.h>

#include <string>
#include <vector>

#include "bpf/common.h"
#include "bpf/map.h"

namespace alpsbpf {

class RingBuffer : public Napi::ObjectWrap<RingBuffer> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "RingBuffer",
                       {InstanceMethod("close", &RingBuffer::Close), InstanceMethod("drain", &RingBuffer::Drain)});
  }

  // new RingBuffer(map: BpfMap, onRecords: (records: Buffer[]) => void)
  explicit RingBuffer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RingBuffer>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction())
      throw Napi::TypeError::New(env, "RingBuffer(map, onRecords)");
    BpfMap* m = BpfMap::Unwrap(info[0].As<Napi::Object>());
    mapFd_ = UniqueFd(fcntl(m->fd(), F_DUPFD_CLOEXEC, 3));
    if (!mapFd_.valid()) throwErr(env, "RingBuffer: dup", errno);
    cb_ = Napi::Persistent(info[1].As<Napi::Function>());
    state_ = new PollState();
    state_->owner = this;
    state_->rb = ring_buffer__new(mapFd_.get(), &RingBuffer::onSample, state_, nullptr);
    if (!state_->rb) {
      int err = errno;
      delete state_;
      state_ = nullptr;
      throwErr(env, "RingBuffer: ring_buffer__new", err);
    }
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    uv_poll_init(loop, &state_->poll, ring_buffer__epoll_fd(state_->rb));
    state_->poll.data = state_;
    uv_poll_start(&state_->poll, UV_READABLE, &RingBuffer::onReadable);
    Ref();  // alive while polling, even if JS drops its reference
  }

  ~RingBuffer() override { stop(); }

 private:
  struct PollState {
    uv_poll_t poll;
    ring_buffer* rb = nullptr;
    RingBuffer* owner = nullptr;
    std::vector<std::string> batch;
  };

  static int onSample(void* ctx, void* data, size_t size) {
    static_cast<PollState*>(ctx)->batch.emplace_back(static_cast<const char*>(data), size);
    return 0;
  }

  static void onReadable(uv_poll_t* h, int status, int) {
    auto* st = static_cast<PollState*>(h->data);
    if (status < 0 || !st->owner) return;
    st->owner->consumeAndDeliver();
  }

  // Drains the ring and calls the JS callback once with everything that was there.
  uint32_t consumeAndDeliver() {
    if (!state_) return 0;
    ring_buffer__consume(state_->rb);
    if (state_->batch.empty()) return 0;
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    std::vector<std::string> batch;
    batch.swap(state_->batch);
    Napi::Array arr = Napi::Array::New(env, batch.size());
    for (uint32_t i = 0; i < batch.size(); i++)
      arr.Set(i, Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(batch[i].data()), batch[i].size()));
    // Called from libuv: an exception must not unwind into the loop; report it instead.
    napi_value global;
    napi_get_global(env, &global);
    cb_.Call(global, {arr});
    if (env.IsExceptionPending()) {
      Napi::Error e = env.GetAndClearPendingException();
      napi_fatal_exception(env, e.Value());
    }
    return static_cast<uint32_t>(batch.size());
  }

  // drain(): consume synchronously (e.g. after detaching, to collect the last records).
  Napi::Value Drain(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), consumeAndDeliver());
  }

  void stop() {
    if (!state_) return;
    PollState* st = state_;
    state_ = nullptr;
    st->owner = nullptr;
    uv_poll_stop(&st->poll);
    uv_close(reinterpret_cast<uv_handle_t*>(&st->poll), [](uv_handle_t* h) {
      auto* s = static_cast<PollState*>(h->data);
      ring_buffer__free(s->rb);
      delete s;
    });
  }

  void Close(const Napi::CallbackInfo&) {
    if (!state_) return;
    stop();
    mapFd_.reset();
    cb_.Reset();
    Unref();
  }

  UniqueFd mapFd_;
  Napi::FunctionReference cb_;
  PollState* state_ = nullptr;
};

Napi::Function initRingBuffer(Napi::Env env) { return RingBuffer::Init(env); }

}  // namespace alpsbpf
