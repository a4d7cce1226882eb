// Node-API entry point of @brats/tfjs-onednn: oneDNN kernels that compute in place on the
// TF.js wasm backend's heap (an ArrayBuffer) or on the cpu backend's typed arrays, so no
// tensor is copied in or out.
#include <omp.h>

#include <cstdlib>
#include <cstring>

#include "common.h"

namespace brats {

dnnl::engine& cpuEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& cpuStream() {
  static dnnl::stream stream(cpuEngine());
  return stream;
}

namespace {
std::vector<uint8_t> scratchBuffer;
}

void* scratch(size_t bytes) {
  if (scratchBuffer.size() < bytes) {
    scratchBuffer.clear();
    scratchBuffer.shrink_to_fit();
    scratchBuffer.resize(bytes);
  }
  return scratchBuffer.data();
}

dnnl::memory scratchMemory(const dnnl::memory::desc& md) {
  return dnnl::memory(md, cpuEngine(), scratch(md.get_size()));
}

uint8_t* heapBytes(const Napi::Value& heap, const Napi::Value& where, size_t bytes) {
  // A typed array is a tensor with a buffer of its own (the cpu backend); a number is a byte
  // offset into the heap (the wasm backend).
  if (where.IsTypedArray()) {
    auto view = where.As<Napi::TypedArray>();
    if (bytes > view.ByteLength()) throw std::out_of_range("a tensor is larger than its buffer");
    return static_cast<uint8_t*>(view.ArrayBuffer().Data()) + view.ByteOffset();
  }
  if (!heap.IsArrayBuffer()) throw std::invalid_argument("the heap must be an ArrayBuffer");
  auto buffer = heap.As<Napi::ArrayBuffer>();
  const int64_t off = where.As<Napi::Number>().Int64Value();
  const size_t size = buffer.ByteLength();
  if (off < 0 || static_cast<size_t>(off) > size || bytes > size - static_cast<size_t>(off)) {
    throw std::out_of_range("a tensor lies outside the heap");
  }
  return static_cast<uint8_t*>(buffer.Data()) + off;
}

float* heapFloats(const Napi::Env& env, const Napi::Value& heap, const Napi::Value& where,
                  size_t count) {
  (void)env;
  if (count > SIZE_MAX / 4) throw std::out_of_range("a tensor lies outside the heap");
  uint8_t* bytes = heapBytes(heap, where, count * 4);
  if (reinterpret_cast<uintptr_t>(bytes) % 4 != 0) {
    throw std::invalid_argument("a float32 tensor is not 4-byte aligned");
  }
  return reinterpret_cast<float*>(bytes);
}

int64_t intAt(const Napi::Array& a, uint32_t i) {
  return a.Get(i).As<Napi::Number>().Int64Value();
}

std::vector<int64_t> intVector(const Napi::Value& v) {
  if (!v.IsArray()) throw std::invalid_argument("expected an array of integers");
  auto a = v.As<Napi::Array>();
  std::vector<int64_t> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) out[i] = intAt(a, i);
  return out;
}

namespace {

Napi::Value info(const Napi::CallbackInfo& cb) {
  Napi::Env env = cb.Env();
  auto out = Napi::Object::New(env);
  const dnnl_version_t* v = dnnl_version();
  out.Set("onednn", std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                        std::to_string(v->patch));
  out.Set("cpuRuntime", v->cpu_runtime == DNNL_RUNTIME_OMP ? "omp" : "other");
  out.Set("threads", omp_get_max_threads());
  out.Set("isa", static_cast<int>(dnnl::get_effective_cpu_isa()));
  out.Set("scratchBytes", static_cast<double>(scratchBuffer.size()));
  return out;
}

Napi::Value setThreads(const Napi::CallbackInfo& cb) {
  const int n = cb[0].As<Napi::Number>().Int32Value();
  if (n >= 1) omp_set_num_threads(n);
  return Napi::Number::New(cb.Env(), omp_get_max_threads());
}

Napi::Value releaseScratch(const Napi::CallbackInfo& cb) {
  scratchBuffer.clear();
  scratchBuffer.shrink_to_fit();
  return cb.Env().Undefined();
}

}  // namespace

Napi::Object init(Napi::Env env, Napi::Object exports) {
  exports.Set("info", Napi::Function::New(env, info));
  exports.Set("setThreads", Napi::Function::New(env, setThreads));
  exports.Set("releaseScratch", Napi::Function::New(env, releaseScratch));
  registerConv(env, exports);
  registerPool(env, exports);
  registerElementwise(env, exports);
  registerReduce(env, exports);
  registerUnary(env, exports);
  return exports;
}

}  // namespace brats

static Napi::Object initAddon(Napi::Env env, Napi::Object exports) {
  return brats::init(env, exports);
}

NODE_API_MODULE(brats_onednn, initAddon)
