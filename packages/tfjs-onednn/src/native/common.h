// Shared plumbing of the addon: one oneDNN engine and stream, one growing scratchpad reused by
// every primitive, and the typed-argument helpers every kernel uses.
#pragma once
#include <napi.h>

#include <cstdint>
#include <dnnl.hpp>
#include <string>
#include <vector>

namespace brats {

dnnl::engine& cpuEngine();
dnnl::stream& cpuStream();

// A scratch buffer shared by all primitives (scratchpad_mode::user): grows to the largest
// request and is kept across calls, so a training step allocates nothing once warm.
void* scratch(size_t bytes);
dnnl::memory scratchMemory(const dnnl::memory::desc& md);

// A tensor's float32 data, checked against its buffer: `where` is a byte offset into `heap`
// (the wasm heap, an ArrayBuffer) or a typed array of its own (then `heap` is ignored).
float* heapFloats(const Napi::Env& env, const Napi::Value& heap, const Napi::Value& where,
                  size_t count);
// The same for a byte range (bool and int32 tensors, copies).
uint8_t* heapBytes(const Napi::Value& heap, const Napi::Value& where, size_t bytes);
int64_t intAt(const Napi::Array& a, uint32_t i);
std::vector<int64_t> intVector(const Napi::Value& v);

// Every kernel's body runs inside guard(): a dnnl::error or std::exception becomes a JS Error
// whose message starts with the kernel's name, so a failed call falls back instead of aborting.
template <typename F>
Napi::Value guard(const Napi::CallbackInfo& info, const char* name, F&& body) {
  try {
    return body();
  } catch (const dnnl::error& e) {
    Napi::Error::New(info.Env(), std::string(name) + ": oneDNN " + e.what() + " (status " +
                                     std::to_string(static_cast<int>(e.status)) + ")")
        .ThrowAsJavaScriptException();
  } catch (const Napi::Error& e) {
    throw;
  } catch (const std::exception& e) {
    Napi::Error::New(info.Env(), std::string(name) + ": " + e.what()).ThrowAsJavaScriptException();
  }
  return info.Env().Undefined();
}

void registerConv(Napi::Env env, Napi::Object exports);
void registerPool(Napi::Env env, Napi::Object exports);
void registerElementwise(Napi::Env env, Napi::Object exports);
void registerReduce(Napi::Env env, Napi::Object exports);
void registerUnary(Napi::Env env, Napi::Object exports);

}  // namespace brats
