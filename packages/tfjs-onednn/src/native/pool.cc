// MaxPool3D and its gradient on NDHWC tensors, written out rather than through oneDNN's pooling
// primitive: TF.js routes a tie to the last maximum of the window (cpu backend's
// maxPool3dPositions compares with >=), which the gradient must reproduce to agree with it, and
// a 2×2×2 window is memory-bound anyway. Parallel over output depth planes.
#include <omp.h>

#include <cstring>
#include <limits>

#include "common.h"

namespace brats {
namespace {

// [n, d, h, w, c, od, oh, ow, kd, kh, kw, sd, sh, sw, padFront, padTop, padLeft]
struct PoolGeometry {
  int64_t n, d, h, w, c, od, oh, ow, kd, kh, kw, sd, sh, sw, pf, pt, pl;
  size_t xCount() const { return static_cast<size_t>(n * d * h * w * c); }
  size_t yCount() const { return static_cast<size_t>(n * od * oh * ow * c); }
};

PoolGeometry poolGeometryOf(const Napi::Value& v) {
  auto g = intVector(v);
  if (g.size() != 17) throw std::invalid_argument("pool geometry needs 17 integers");
  PoolGeometry r{g[0], g[1],  g[2],  g[3],  g[4],  g[5],  g[6],  g[7], g[8],
                 g[9], g[10], g[11], g[12], g[13], g[14], g[15], g[16]};
  for (int64_t x : {r.n, r.d, r.h, r.w, r.c, r.od, r.oh, r.ow, r.kd, r.kh, r.kw, r.sd, r.sh,
                    r.sw}) {
    if (x < 1) throw std::invalid_argument("pool geometry has an empty dimension");
  }
  if (r.pf < 0 || r.pt < 0 || r.pl < 0) throw std::invalid_argument("negative pool padding");
  return r;
}

// Calls f(channel, xIndexOfWindowMax) for every channel of output voxel (b, z, y, x); the index
// is -1 when the window holds no input voxel. `best` is a per-thread buffer of c floats.
template <typename F>
inline void windowArgmax(const PoolGeometry& g, const float* x, int64_t b, int64_t z, int64_t y,
                         int64_t xo, float* best, int64_t* where, F&& f) {
  for (int64_t ch = 0; ch < g.c; ch++) {
    best[ch] = -std::numeric_limits<float>::infinity();
    where[ch] = -1;
  }
  const int64_t z0 = z * g.sd - g.pf, y0 = y * g.sh - g.pt, x0 = xo * g.sw - g.pl;
  for (int64_t iz = std::max<int64_t>(z0, 0); iz < std::min(z0 + g.kd, g.d); iz++) {
    for (int64_t iy = std::max<int64_t>(y0, 0); iy < std::min(y0 + g.kh, g.h); iy++) {
      for (int64_t ix = std::max<int64_t>(x0, 0); ix < std::min(x0 + g.kw, g.w); ix++) {
        const int64_t base = (((b * g.d + iz) * g.h + iy) * g.w + ix) * g.c;
        const float* px = x + base;
        for (int64_t ch = 0; ch < g.c; ch++) {
          if (px[ch] >= best[ch]) {
            best[ch] = px[ch];
            where[ch] = base + ch;
          }
        }
      }
    }
  }
  for (int64_t ch = 0; ch < g.c; ch++) f(ch, where[ch]);
}

// maxPool3dForward(heap, xOffset, yOffset, geometry)
Napi::Value forward(const Napi::CallbackInfo& info) {
  return guard(info, "maxPool3dForward", [&]() -> Napi::Value {
    auto g = poolGeometryOf(info[3]);
    const float* x = heapFloats(info.Env(), info[0], info[1], g.xCount());
    float* y = heapFloats(info.Env(), info[0], info[2], g.yCount());
#pragma omp parallel
    {
      std::vector<float> best(g.c);
      std::vector<int64_t> where(g.c);
#pragma omp for schedule(static)
      for (int64_t plane = 0; plane < g.n * g.od; plane++) {
        const int64_t b = plane / g.od, z = plane % g.od;
        for (int64_t yy = 0; yy < g.oh; yy++) {
          for (int64_t xx = 0; xx < g.ow; xx++) {
            float* out = y + (((b * g.od + z) * g.oh + yy) * g.ow + xx) * g.c;
            windowArgmax(g, x, b, z, yy, xx, best.data(), where.data(),
                         [&](int64_t ch, int64_t at) {
                           // An all-padding window: TF.js's cpu kernel yields -Infinity.
                           out[ch] = at < 0 ? -std::numeric_limits<float>::infinity() : x[at];
                         });
          }
        }
      }
    }
    return info.Env().Undefined();
  });
}

// maxPool3dBackward(heap, dyOffset, xOffset, dxOffset, geometry): dx gets each dy at its
// window's (last) maximum, summed where windows overlap.
Napi::Value backward(const Napi::CallbackInfo& info) {
  return guard(info, "maxPool3dBackward", [&]() -> Napi::Value {
    auto g = poolGeometryOf(info[4]);
    const float* dy = heapFloats(info.Env(), info[0], info[1], g.yCount());
    const float* x = heapFloats(info.Env(), info[0], info[2], g.xCount());
    float* dx = heapFloats(info.Env(), info[0], info[3], g.xCount());
    std::memset(dx, 0, g.xCount() * sizeof(float));
    // Windows that overlap in depth could add to the same dx voxel from two threads.
    const bool disjointPlanes = g.sd >= g.kd;
#pragma omp parallel if (disjointPlanes)
    {
      std::vector<float> best(g.c);
      std::vector<int64_t> where(g.c);
#pragma omp for schedule(static)
      for (int64_t plane = 0; plane < g.n * g.od; plane++) {
        const int64_t b = plane / g.od, z = plane % g.od;
        for (int64_t yy = 0; yy < g.oh; yy++) {
          for (int64_t xx = 0; xx < g.ow; xx++) {
            const float* grad = dy + (((b * g.od + z) * g.oh + yy) * g.ow + xx) * g.c;
            windowArgmax(g, x, b, z, yy, xx, best.data(), where.data(),
                         [&](int64_t ch, int64_t at) {
                           if (at >= 0) dx[at] += grad[ch];
                         });
          }
        }
      }
    }
    return info.Env().Undefined();
  });
}

}  // namespace

void registerPool(Napi::Env env, Napi::Object exports) {
  exports.Set("maxPool3dForward", Napi::Function::New(env, forward));
  exports.Set("maxPool3dBackward", Napi::Function::New(env, backward));
}

}  // namespace brats
