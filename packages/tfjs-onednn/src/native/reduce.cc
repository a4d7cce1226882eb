// Reductions (Sum, Mean, Max over one contiguous block of axes), Concat and SplitV along one
// axis. A tensor is viewed as [outer, mid, inner] with `mid` the reduced (or concatenated)
// block, which covers every reduction a training step issues once TF.js has folded its axes.
// Sums accumulate in double, per thread over fixed chunks, combined in a fixed order: the
// result depends on the thread count but not on scheduling.
#include <omp.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "common.h"

namespace brats {
namespace {

enum class ReduceOp { Sum = 0, Mean = 1, Max = 2 };

// reduce(op, heap, xOffset, outOffset, outer, mid, inner)
Napi::Value reduce(const Napi::CallbackInfo& info) {
  return guard(info, "reduce", [&]() -> Napi::Value {
    const auto op = static_cast<ReduceOp>(info[0].As<Napi::Number>().Int32Value());
    const int64_t outer = info[4].As<Napi::Number>().Int64Value();
    const int64_t mid = info[5].As<Napi::Number>().Int64Value();
    const int64_t inner = info[6].As<Napi::Number>().Int64Value();
    if (outer < 1 || mid < 1 || inner < 1) throw std::invalid_argument("reduce: empty shape");
    const float* x = heapFloats(info.Env(), info[1], info[2], outer * mid * inner);
    float* out = heapFloats(info.Env(), info[1], info[3], outer * inner);
    const double scale = op == ReduceOp::Mean ? 1.0 / static_cast<double>(mid) : 1.0;
    if (inner == 1) {
      // Reduce the last axis: one output per row, rows split across threads.
#pragma omp parallel for schedule(static)
      for (int64_t o = 0; o < outer; o++) {
        const float* p = x + o * mid;
        if (op == ReduceOp::Max) {
          float m = p[0];
          for (int64_t k = 1; k < mid; k++) m = (p[k] > m || p[k] != p[k]) ? p[k] : m;
          out[o] = m;
        } else {
          double s = 0;
          for (int64_t k = 0; k < mid; k++) s += p[k];
          out[o] = static_cast<float>(s * scale);
        }
      }
      return info.Env().Undefined();
    }
    // Reduce a middle block: each thread takes a fixed range of `mid` for every output row and
    // keeps `inner` partials; the partials are then combined in thread order.
    const int threads = omp_get_max_threads();
    const int64_t chunks = std::min<int64_t>(threads, mid);
    std::vector<double> partial(static_cast<size_t>(chunks * outer * inner));
    std::vector<float> partialMax(op == ReduceOp::Max ? partial.size() : 0);
#pragma omp parallel for schedule(static) num_threads(static_cast<int>(chunks))
    for (int64_t t = 0; t < chunks; t++) {
      const int64_t k0 = mid * t / chunks, k1 = mid * (t + 1) / chunks;
      for (int64_t o = 0; o < outer; o++) {
        if (op == ReduceOp::Max) {
          float* m = partialMax.data() + (t * outer + o) * inner;
          const float* first = x + (o * mid + k0) * inner;
          for (int64_t i = 0; i < inner; i++) m[i] = first[i];
          for (int64_t k = k0 + 1; k < k1; k++) {
            const float* p = x + (o * mid + k) * inner;
            for (int64_t i = 0; i < inner; i++) m[i] = (p[i] > m[i] || p[i] != p[i]) ? p[i] : m[i];
          }
        } else {
          double* s = partial.data() + (t * outer + o) * inner;
          for (int64_t k = k0; k < k1; k++) {
            const float* p = x + (o * mid + k) * inner;
            for (int64_t i = 0; i < inner; i++) s[i] += p[i];
          }
        }
      }
    }
    for (int64_t o = 0; o < outer; o++) {
      for (int64_t i = 0; i < inner; i++) {
        if (op == ReduceOp::Max) {
          float m = partialMax[o * inner + i];
          for (int64_t t = 1; t < chunks; t++) {
            const float v = partialMax[(t * outer + o) * inner + i];
            m = (v > m || v != v) ? v : m;
          }
          out[o * inner + i] = m;
        } else {
          double s = 0;
          for (int64_t t = 0; t < chunks; t++) s += partial[(t * outer + o) * inner + i];
          out[o * inner + i] = static_cast<float>(s * scale);
        }
      }
    }
    return info.Env().Undefined();
  });
}

// concat(heap, inputOffsets[], outOffset, outer, widths[] (bytes of one input row)):
// out row o = the inputs' rows o side by side. split is the inverse.
Napi::Value concatOrSplit(const Napi::CallbackInfo& info, bool split) {
  if (!info[1].IsArray()) throw std::invalid_argument("concat: the parts must be an array");
  const auto offsets = info[1].As<Napi::Array>();
  const auto widths = intVector(info[4]);
  const int64_t outer = info[3].As<Napi::Number>().Int64Value();
  if (offsets.Length() != widths.size() || widths.empty() || outer < 1) {
    throw std::invalid_argument("concat: bad arguments");
  }
  int64_t rowBytes = 0;
  for (int64_t w : widths) {
    if (w < 0) throw std::invalid_argument("concat: negative width");
    rowBytes += w;
  }
  uint8_t* whole = heapBytes(info[0], info[2], outer * rowBytes);
  std::vector<uint8_t*> parts(widths.size());
  for (uint32_t i = 0; i < parts.size(); i++) {
    parts[i] = heapBytes(info[0], offsets.Get(i), outer * widths[i]);
  }
#pragma omp parallel for schedule(static)
  for (int64_t o = 0; o < outer; o++) {
    uint8_t* row = whole + o * rowBytes;
    for (size_t i = 0; i < parts.size(); i++) {
      uint8_t* part = parts[i] + o * widths[i];
      if (split) {
        std::memcpy(part, row, widths[i]);
      } else {
        std::memcpy(row, part, widths[i]);
      }
      row += widths[i];
    }
  }
  return info.Env().Undefined();
}

Napi::Value concat(const Napi::CallbackInfo& info) {
  return guard(info, "concat", [&]() { return concatOrSplit(info, false); });
}

// split(heap, outputOffsets[], xOffset, outer, widths[])
Napi::Value split(const Napi::CallbackInfo& info) {
  return guard(info, "split", [&]() { return concatOrSplit(info, true); });
}

}  // namespace

void registerReduce(Napi::Env env, Napi::Object exports) {
  exports.Set("reduce", Napi::Function::New(env, reduce));
  exports.Set("concat", Napi::Function::New(env, concat));
  exports.Set("split", Napi::Function::New(env, split));
}

}  // namespace brats
