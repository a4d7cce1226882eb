// Element-wise kernels of a training step that the wasm backend runs slowly or on one thread:
// broadcasting binary ops, Tile, FusedBatchNorm. Memory-bound, so the point is every core and
// no per-element index arithmetic: shapes are collapsed to as few dimensions as the broadcast
// pattern allows, and the innermost run is a plain loop the compiler vectorises.
#include <omp.h>

#include <cmath>
#include <cstring>

#include "common.h"

namespace brats {
namespace {

constexpr int kMaxRank = 8;

enum class BinaryOp {
  Add = 0,
  Sub = 1,
  Mul = 2,
  Div = 3,
  Equal = 4,
  Maximum = 5,
  SquaredDifference = 6,
  Greater = 7,
  GreaterEqual = 8,
  Less = 9,
  LessEqual = 10,
};

// Output shape and the element strides of a and b along it (0 where broadcast), after merging
// neighbouring dimensions that broadcast alike.
struct Broadcast {
  int rank = 0;
  int64_t shape[kMaxRank];
  int64_t sa[kMaxRank];
  int64_t sb[kMaxRank];
};

Broadcast broadcastOf(const std::vector<int64_t>& aShape, const std::vector<int64_t>& bShape,
                      const std::vector<int64_t>& outShape) {
  const int r = static_cast<int>(outShape.size());
  if (r > kMaxRank || aShape.size() > outShape.size() || bShape.size() > outShape.size()) {
    throw std::invalid_argument("binary: rank too large");
  }
  // Right-align a and b against out, as NumPy broadcasting does.
  int64_t da[kMaxRank], db[kMaxRank];
  for (int i = 0; i < r; i++) {
    const int ia = i - (r - static_cast<int>(aShape.size()));
    const int ib = i - (r - static_cast<int>(bShape.size()));
    da[i] = ia >= 0 ? aShape[ia] : 1;
    db[i] = ib >= 0 ? bShape[ib] : 1;
    if ((da[i] != outShape[i] && da[i] != 1) || (db[i] != outShape[i] && db[i] != 1)) {
      throw std::invalid_argument("binary: shapes do not broadcast");
    }
  }
  Broadcast g;
  // Walk from the innermost dimension outwards, merging a dimension into the previous one when
  // a and b each either span both or broadcast both.
  int64_t strideA = 1, strideB = 1;
  for (int i = r - 1; i >= 0; i--) {
    const int64_t n = outShape[i];
    if (n == 1) continue;
    const bool aFull = da[i] == n, bFull = db[i] == n;
    const int64_t sa = aFull ? strideA : 0, sb = bFull ? strideB : 0;
    if (g.rank > 0) {
      const int k = g.rank - 1;
      const bool aMerge = (sa == 0 && g.sa[k] == 0) || (sa != 0 && sa == g.sa[k] * g.shape[k]);
      const bool bMerge = (sb == 0 && g.sb[k] == 0) || (sb != 0 && sb == g.sb[k] * g.shape[k]);
      if (aMerge && bMerge) {
        g.shape[k] *= n;
        if (aFull) strideA *= n;
        if (bFull) strideB *= n;
        continue;
      }
    }
    g.shape[g.rank] = n;
    g.sa[g.rank] = sa;
    g.sb[g.rank] = sb;
    g.rank++;
    if (aFull) strideA *= n;
    if (bFull) strideB *= n;
  }
  if (g.rank == 0) {
    g.shape[0] = 1;
    g.sa[0] = 0;
    g.sb[0] = 0;
    g.rank = 1;
  }
  // Stored innermost first; flip to outermost first.
  for (int i = 0; i < g.rank / 2; i++) {
    std::swap(g.shape[i], g.shape[g.rank - 1 - i]);
    std::swap(g.sa[i], g.sa[g.rank - 1 - i]);
    std::swap(g.sb[i], g.sb[g.rank - 1 - i]);
  }
  return g;
}

template <typename Out, typename F>
void binaryLoop(const Broadcast& g, const float* a, const float* b, Out* out, F f) {
  const int last = g.rank - 1;
  const int64_t inner = g.shape[last];
  int64_t rows = 1;
  for (int i = 0; i < last; i++) rows *= g.shape[i];
  const int64_t ia = g.sa[last], ib = g.sb[last];
  // Long single runs (same shapes) are split across threads too.
  const int64_t block = rows == 1 ? std::max<int64_t>(inner / (4 * omp_get_max_threads()), 4096) : inner;
  const int64_t blocksPerRow = (inner + block - 1) / block;
#pragma omp parallel for schedule(static)
  for (int64_t job = 0; job < rows * blocksPerRow; job++) {
    const int64_t row = job / blocksPerRow, start = (job % blocksPerRow) * block;
    const int64_t end = std::min(inner, start + block);
    int64_t offA = 0, offB = 0, rest = row;
    for (int i = last - 1; i >= 0; i--) {
      const int64_t idx = rest % g.shape[i];
      rest /= g.shape[i];
      offA += idx * g.sa[i];
      offB += idx * g.sb[i];
    }
    const float* pa = a + offA;
    const float* pb = b + offB;
    Out* po = out + row * inner;
    if (ia == 1 && ib == 1) {
      for (int64_t j = start; j < end; j++) po[j] = f(pa[j], pb[j]);
    } else if (ia == 1) {
      const float vb = pb[0];
      for (int64_t j = start; j < end; j++) po[j] = f(pa[j], vb);
    } else if (ib == 1) {
      const float va = pa[0];
      for (int64_t j = start; j < end; j++) po[j] = f(va, pb[j]);
    } else {
      const float v = f(pa[0], pb[0]);
      for (int64_t j = start; j < end; j++) po[j] = v;
    }
  }
}

int64_t countOf(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw std::invalid_argument("negative dimension");
    n *= d;
  }
  return n;
}

// binary(op, heap, aOffset, bOffset, outOffset, aShape, bShape, outShape): float32 inputs;
// the output is float32, or bool (one byte per element) for the comparisons.
Napi::Value binary(const Napi::CallbackInfo& info) {
  return guard(info, "binary", [&]() -> Napi::Value {
    const auto op = static_cast<BinaryOp>(info[0].As<Napi::Number>().Int32Value());
    const auto aShape = intVector(info[5]), bShape = intVector(info[6]), outShape = intVector(info[7]);
    const float* a = heapFloats(info.Env(), info[1], info[2], countOf(aShape));
    const float* b = heapFloats(info.Env(), info[1], info[3], countOf(bShape));
    const auto g = broadcastOf(aShape, bShape, outShape);
    const size_t n = countOf(outShape);
    if (op == BinaryOp::Equal || op >= BinaryOp::Greater) {
      uint8_t* out = heapBytes(info[1], info[4], n);
      using B = uint8_t;
      switch (op) {
        case BinaryOp::Equal: binaryLoop(g, a, b, out, [](float x, float y) -> B { return x == y; }); break;
        case BinaryOp::Greater: binaryLoop(g, a, b, out, [](float x, float y) -> B { return x > y; }); break;
        case BinaryOp::GreaterEqual: binaryLoop(g, a, b, out, [](float x, float y) -> B { return x >= y; }); break;
        case BinaryOp::Less: binaryLoop(g, a, b, out, [](float x, float y) -> B { return x < y; }); break;
        case BinaryOp::LessEqual: binaryLoop(g, a, b, out, [](float x, float y) -> B { return x <= y; }); break;
        default: throw std::invalid_argument("binary: unknown op");
      }
      return info.Env().Undefined();
    }
    float* out = heapFloats(info.Env(), info[1], info[4], n);
    switch (op) {
      case BinaryOp::Add: binaryLoop(g, a, b, out, [](float x, float y) { return x + y; }); break;
      case BinaryOp::Sub: binaryLoop(g, a, b, out, [](float x, float y) { return x - y; }); break;
      case BinaryOp::Mul: binaryLoop(g, a, b, out, [](float x, float y) { return x * y; }); break;
      case BinaryOp::Div: binaryLoop(g, a, b, out, [](float x, float y) { return x / y; }); break;
      case BinaryOp::Maximum:
        // NaN propagates, as in TF.js.
        binaryLoop(g, a, b, out, [](float x, float y) { return (x != x || y != y) ? NAN : (x > y ? x : y); });
        break;
      case BinaryOp::SquaredDifference:
        binaryLoop(g, a, b, out, [](float x, float y) { return (x - y) * (x - y); });
        break;
      default: throw std::invalid_argument("binary: unknown op");
    }
    return info.Env().Undefined();
  });
}

// tile(heap, xOffset, outOffset, inShape, reps, bytesPerElement): out[i] = x[i mod inShape].
Napi::Value tile(const Napi::CallbackInfo& info) {
  return guard(info, "tile", [&]() -> Napi::Value {
    const auto inShape = intVector(info[3]), reps = intVector(info[4]);
    const int64_t bytes = info[5].As<Napi::Number>().Int64Value();
    const int r = static_cast<int>(inShape.size());
    if (r == 0 || r > kMaxRank || reps.size() != inShape.size() || (bytes != 1 && bytes != 4)) {
      throw std::invalid_argument("tile: bad shapes");
    }
    int64_t outShape[kMaxRank];
    int64_t inCount = 1, outCount = 1;
    for (int i = 0; i < r; i++) {
      if (inShape[i] < 1 || reps[i] < 1) throw std::invalid_argument("tile: empty dimension");
      outShape[i] = inShape[i] * reps[i];
      inCount *= inShape[i];
      outCount *= outShape[i];
    }
    const uint8_t* x = heapBytes(info[0], info[1], inCount * bytes);
    uint8_t* out = heapBytes(info[0], info[2], outCount * bytes);
    const int64_t rowIn = inShape[r - 1] * bytes, rowOut = outShape[r - 1] * bytes;
    const int64_t rows = outCount / outShape[r - 1];
#pragma omp parallel for schedule(static)
    for (int64_t row = 0; row < rows; row++) {
      // The input row of this output row: each outer coordinate modulo its input extent.
      int64_t rest = row, inRow = 0, scale = 1;
      for (int i = r - 2; i >= 0; i--) {
        const int64_t idx = rest % outShape[i];
        rest /= outShape[i];
        inRow += (idx % inShape[i]) * scale;
        scale *= inShape[i];
      }
      const uint8_t* src = x + inRow * rowIn;
      uint8_t* dst = out + row * rowOut;
      for (int64_t k = 0; k < reps[r - 1]; k++) std::memcpy(dst + k * rowIn, src, rowIn);
    }
    return info.Env().Undefined();
  });
}

// batchNorm(heap, x, mean, variance, offset|-1, scale|-1, out, count, channels, epsilon): per-channel parameters of length `channels` (the last
// axis); y = (x - mean) / sqrt(variance + epsilon) * scale + offset.
Napi::Value batchNorm(const Napi::CallbackInfo& info) {
  return guard(info, "batchNorm", [&]() -> Napi::Value {
    const int64_t count = info[7].As<Napi::Number>().Int64Value();
    const int64_t c = info[8].As<Napi::Number>().Int64Value();
    const float eps = info[9].As<Napi::Number>().FloatValue();
    if (c < 1 || count < 0 || count % c != 0) throw std::invalid_argument("batchNorm: bad sizes");
    const float* x = heapFloats(info.Env(), info[0], info[1], count);
    const float* mean = heapFloats(info.Env(), info[0], info[2], c);
    const float* var = heapFloats(info.Env(), info[0], info[3], c);
    // -1 (a number) says "absent"; a typed array or an offset >= 0 is a tensor.
    const auto present = [](const Napi::Value& v) {
      return v.IsTypedArray() || v.As<Napi::Number>().Int64Value() >= 0;
    };
    const bool hasOffset = present(info[4]);
    const bool hasScale = present(info[5]);
    const float* offset = hasOffset ? heapFloats(info.Env(), info[0], info[4], c) : nullptr;
    const float* scale = hasScale ? heapFloats(info.Env(), info[0], info[5], c) : nullptr;
    float* out = heapFloats(info.Env(), info[0], info[6], count);
    // TF.js computes (x - mean) * scale * (1 / sqrt(variance + epsilon)) + offset; the same
    // order keeps results within an ulp or two of its kernels.
    std::vector<float> inv(c), sc(c), off(c);
    for (int64_t k = 0; k < c; k++) {
      inv[k] = 1.0f / std::sqrt(var[k] + eps);
      sc[k] = hasScale ? scale[k] : 1.0f;
      off[k] = hasOffset ? offset[k] : 0.0f;
    }
    const int64_t rows = count / c;
#pragma omp parallel for schedule(static)
    for (int64_t row = 0; row < rows; row++) {
      const float* px = x + row * c;
      float* po = out + row * c;
      for (int64_t k = 0; k < c; k++) po[k] = (px[k] - mean[k]) * sc[k] * inv[k] + off[k];
    }
    return info.Env().Undefined();
  });
}

}  // namespace

void registerElementwise(Napi::Env env, Napi::Object exports) {
  exports.Set("binary", Napi::Function::New(env, binary));
  exports.Set("tile", Napi::Function::New(env, tile));
  exports.Set("batchNorm", Napi::Function::New(env, batchNorm));
}

}  // namespace brats
