// Unary element-wise kernels and the last-axis softmax. On the wasm backend TF.js's own kernels
// for these are SIMD C++, but on the cpu backend they are JavaScript loops on one thread that
// take as long as the convolutions; here they run on every core in loops the compiler vectorises.
#include <omp.h>

#include <algorithm>
#include <cmath>

#include "common.h"

namespace brats {
namespace {

enum class UnaryOp {
  Relu = 0,
  Step = 1,  // x > 0 ? 1 : alpha (the ReLU gradient's mask); NaN stays NaN, as in TF.js
  Sqrt = 2,
  Square = 3,
  Sigmoid = 4,
  Log = 5,
  Exp = 6,
  Rsqrt = 7,
  ClipByValue = 8,  // min(max(x, a), b)
  Neg = 9,
};

template <typename F>
void unaryLoop(const float* x, float* out, int64_t n, F f) {
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; i++) out[i] = f(x[i]);
}

// unary(op, heap, x, out, count, a, b): a and b are the op's attributes (Step's alpha,
// ClipByValue's bounds), ignored by the others.
Napi::Value unary(const Napi::CallbackInfo& info) {
  return guard(info, "unary", [&]() -> Napi::Value {
    const auto op = static_cast<UnaryOp>(info[0].As<Napi::Number>().Int32Value());
    const int64_t n = info[4].As<Napi::Number>().Int64Value();
    if (n < 0) throw std::invalid_argument("unary: negative count");
    const float a = info[5].As<Napi::Number>().FloatValue();
    const float b = info[6].As<Napi::Number>().FloatValue();
    const float* x = heapFloats(info.Env(), info[1], info[2], n);
    float* out = heapFloats(info.Env(), info[1], info[3], n);
    switch (op) {
      case UnaryOp::Relu: unaryLoop(x, out, n, [](float v) { return v < 0 ? 0.0f : v; }); break;
      case UnaryOp::Step:
        unaryLoop(x, out, n, [a](float v) { return v != v ? v : (v > 0 ? 1.0f : a); });
        break;
      case UnaryOp::Sqrt: unaryLoop(x, out, n, [](float v) { return std::sqrt(v); }); break;
      case UnaryOp::Square: unaryLoop(x, out, n, [](float v) { return v * v; }); break;
      case UnaryOp::Sigmoid:
        unaryLoop(x, out, n, [](float v) { return 1.0f / (1.0f + std::exp(-v)); });
        break;
      case UnaryOp::Log: unaryLoop(x, out, n, [](float v) { return std::log(v); }); break;
      case UnaryOp::Exp: unaryLoop(x, out, n, [](float v) { return std::exp(v); }); break;
      case UnaryOp::Rsqrt: unaryLoop(x, out, n, [](float v) { return 1.0f / std::sqrt(v); }); break;
      case UnaryOp::ClipByValue:
        unaryLoop(x, out, n, [a, b](float v) { return v != v ? v : std::min(std::max(v, a), b); });
        break;
      case UnaryOp::Neg: unaryLoop(x, out, n, [](float v) { return -v; }); break;
      default: throw std::invalid_argument("unary: unknown op");
    }
    return info.Env().Undefined();
  });
}

// softmax(heap, x, out, rows, width): softmax over each row of `width` contiguous values (the
// last axis), max-subtracted as TF.js does.
Napi::Value softmax(const Napi::CallbackInfo& info) {
  return guard(info, "softmax", [&]() -> Napi::Value {
    const int64_t rows = info[3].As<Napi::Number>().Int64Value();
    const int64_t width = info[4].As<Napi::Number>().Int64Value();
    if (rows < 0 || width < 1) throw std::invalid_argument("softmax: bad sizes");
    const float* x = heapFloats(info.Env(), info[0], info[1], rows * width);
    float* out = heapFloats(info.Env(), info[0], info[2], rows * width);
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; r++) {
      const float* px = x + r * width;
      float* po = out + r * width;
      float m = px[0];
      for (int64_t k = 1; k < width; k++) m = std::max(m, px[k]);
      float sum = 0;
      for (int64_t k = 0; k < width; k++) {
        po[k] = std::exp(px[k] - m);
        sum += po[k];
      }
      for (int64_t k = 0; k < width; k++) po[k] /= sum;
    }
    return info.Env().Undefined();
  });
}

}  // namespace

void registerUnary(Napi::Env env, Napi::Object exports) {
  exports.Set("unary", Napi::Function::New(env, unary));
  exports.Set("softmax", Napi::Function::New(env, softmax));
}

}  // namespace brats
