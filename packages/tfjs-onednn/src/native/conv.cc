// Conv3D forward, backward-data and backward-weights on channels-last (NDHWC) tensors with
// TF.js's filter layout [kd, kh, kw, ci, co] (oneDNN's dhwio). Activations are handed to oneDNN
// as they are (its nspc kernels); the small filter is reordered to the layout the primitive
// prefers inside the call, and that reorder counts in the kernel's time.
#include <map>
#include <memory>
#include <unordered_map>

#include "common.h"

namespace brats {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

// [n, d, h, w, ci, od, oh, ow, co, kd, kh, kw, sd, sh, sw, padFront, padTop, padLeft]
struct Geometry {
  int64_t n, d, h, w, ci, od, oh, ow, co, kd, kh, kw, sd, sh, sw, pf, pt, pl;
  size_t xCount() const { return static_cast<size_t>(n * d * h * w * ci); }
  size_t yCount() const { return static_cast<size_t>(n * od * oh * ow * co); }
  size_t wCount() const { return static_cast<size_t>(kd * kh * kw * ci * co); }
  memory::dims strides() const { return {sd, sh, sw}; }
  memory::dims padL() const { return {pf, pt, pl}; }
  // Right pads that make oneDNN's (in - k + padL + padR) / s + 1 == out exact; they may be
  // negative (down to 1 - s) when TF.js leaves trailing input rows unused.
  memory::dims padR() const {
    return {(od - 1) * sd + kd - d - pf, (oh - 1) * sh + kh - h - pt, (ow - 1) * sw + kw - w - pl};
  }
  memory::desc x() const { return {{n, ci, d, h, w}, dt::f32, tag::ndhwc}; }
  memory::desc y() const { return {{n, co, od, oh, ow}, dt::f32, tag::ndhwc}; }
  memory::desc wUser() const { return {{co, ci, kd, kh, kw}, dt::f32, tag::dhwio}; }
  memory::desc wAny() const { return {{co, ci, kd, kh, kw}, dt::f32, tag::any}; }
  std::string key() const {
    std::string k;
    for (int64_t v : {n, d, h, w, ci, od, oh, ow, co, kd, kh, kw, sd, sh, sw, pf, pt, pl}) {
      k += std::to_string(v);
      k += ',';
    }
    return k;
  }
};

Geometry geometryOf(const Napi::Value& v) {
  auto g = intVector(v);
  if (g.size() != 18) throw std::invalid_argument("conv geometry needs 18 integers");
  for (int64_t x : g) {
    if (x < 0) throw std::invalid_argument("conv geometry has a negative entry");
  }
  Geometry r{g[0], g[1], g[2],  g[3],  g[4],  g[5],  g[6],  g[7],  g[8],
             g[9], g[10], g[11], g[12], g[13], g[14], g[15], g[16], g[17]};
  for (int64_t x : {r.n, r.d, r.h, r.w, r.ci, r.od, r.oh, r.ow, r.co, r.kd, r.kh, r.kw, r.sd,
                    r.sh, r.sw}) {
    if (x < 1) throw std::invalid_argument("conv geometry has an empty dimension");
  }
  return r;
}

dnnl::primitive_attr userScratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

// One geometry's three primitives, created on first use and kept: oneDNN's own cache would
// also find them, but keeping them here skips the descriptor hashing on every call.
struct ConvPrimitives {
  dnnl::convolution_forward::primitive_desc fwdPd;
  dnnl::convolution_forward fwd;
  std::unique_ptr<dnnl::convolution_backward_data::primitive_desc> bwdDataPd;
  dnnl::convolution_backward_data bwdData;
  std::unique_ptr<dnnl::convolution_backward_weights::primitive_desc> bwdWeightsPd;
  dnnl::convolution_backward_weights bwdWeights;
  std::vector<float> weights;  // the filter in the primitive's preferred layout
  // Stride 1: the input gradient as a forward convolution of dy with the filter flipped in
  // space and transposed in channels (brgconv forward is faster here than jit backward-data).
  std::unique_ptr<dnnl::convolution_forward::primitive_desc> transposedPd;
  dnnl::convolution_forward transposed;
  std::vector<float> flipped;  // the flipped, transposed filter, dhwio
};

std::unordered_map<std::string, std::unique_ptr<ConvPrimitives>> cache;

ConvPrimitives& primitivesFor(const Geometry& g) {
  auto key = g.key();
  auto it = cache.find(key);
  if (it != cache.end()) return *it->second;
  auto p = std::make_unique<ConvPrimitives>();
  dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_training,
                                       dnnl::algorithm::convolution_direct, g.x(), g.wAny(),
                                       g.y(), g.strides(), g.padL(), g.padR());
  p->fwdPd = dnnl::convolution_forward::primitive_desc(desc, userScratchpad(), cpuEngine());
  p->fwd = dnnl::convolution_forward(p->fwdPd);
  auto& ref = *p;
  cache.emplace(key, std::move(p));
  return ref;
}

dnnl::convolution_backward_data::primitive_desc& bwdDataPd(ConvPrimitives& p, const Geometry& g) {
  if (!p.bwdDataPd) {
    dnnl::convolution_backward_data::desc desc(dnnl::algorithm::convolution_direct, g.x(),
                                               g.wAny(), g.y(), g.strides(), g.padL(), g.padR());
    p.bwdDataPd = std::make_unique<dnnl::convolution_backward_data::primitive_desc>(
        desc, userScratchpad(), cpuEngine(), p.fwdPd);
    p.bwdData = dnnl::convolution_backward_data(*p.bwdDataPd);
  }
  return *p.bwdDataPd;
}

dnnl::convolution_backward_weights::primitive_desc& bwdWeightsPd(ConvPrimitives& p,
                                                                 const Geometry& g) {
  if (!p.bwdWeightsPd) {
    dnnl::convolution_backward_weights::desc desc(dnnl::algorithm::convolution_direct, g.x(),
                                                  g.wAny(), g.y(), g.strides(), g.padL(),
                                                  g.padR());
    p.bwdWeightsPd = std::make_unique<dnnl::convolution_backward_weights::primitive_desc>(
        desc, userScratchpad(), cpuEngine(), p.fwdPd);
    p.bwdWeights = dnnl::convolution_backward_weights(*p.bwdWeightsPd);
  }
  return *p.bwdWeightsPd;
}

// The filter as the primitive wants it: the user's buffer when layouts agree, else a reorder
// into the cached per-geometry buffer.
memory filterFor(ConvPrimitives& p, const Geometry& g, const memory::desc& want, float* user) {
  memory userMem(g.wUser(), cpuEngine(), user);
  if (want == g.wUser()) return userMem;
  p.weights.resize(want.get_size() / sizeof(float));
  memory packed(want, cpuEngine(), p.weights.data());
  dnnl::reorder(userMem, packed).execute(cpuStream(), userMem, packed);
  return packed;
}

// conv3dForward(heap, xOffset, filterOffset, yOffset, geometry)
Napi::Value forward(const Napi::CallbackInfo& info) {
  return guard(info, "conv3dForward", [&]() -> Napi::Value {
    auto g = geometryOf(info[4]);
    float* x = heapFloats(info.Env(), info[0], info[1], g.xCount());
    float* w = heapFloats(info.Env(), info[0], info[2], g.wCount());
    float* y = heapFloats(info.Env(), info[0], info[3], g.yCount());
    auto& p = primitivesFor(g);
    memory wMem = filterFor(p, g, p.fwdPd.weights_desc(), w);
    memory xMem(g.x(), cpuEngine(), x), yMem(g.y(), cpuEngine(), y);
    p.fwd.execute(cpuStream(), {{DNNL_ARG_SRC, xMem},
                                {DNNL_ARG_WEIGHTS, wMem},
                                {DNNL_ARG_DST, yMem},
                                {DNNL_ARG_SCRATCHPAD, scratchMemory(p.fwdPd.scratchpad_desc())}});
    cpuStream().wait();
    return info.Env().Undefined();
  });
}

// The transposed-forward primitive of a stride-1 geometry, or null when its pads would be
// negative (then backward-data runs as such).
dnnl::convolution_forward::primitive_desc* transposedPd(ConvPrimitives& p, const Geometry& g) {
  if (g.sd != 1 || g.sh != 1 || g.sw != 1) return nullptr;
  if (!p.transposedPd) {
    const memory::dims padR = g.padR();
    const memory::dims l = {g.kd - 1 - g.pf, g.kh - 1 - g.pt, g.kw - 1 - g.pl};
    const memory::dims r = {g.kd - 1 - padR[0], g.kh - 1 - padR[1], g.kw - 1 - padR[2]};
    for (int i = 0; i < 3; i++) {
      if (l[i] < 0 || r[i] < 0) return nullptr;
    }
    memory::desc src({g.n, g.co, g.od, g.oh, g.ow}, dt::f32, tag::ndhwc);
    memory::desc dst({g.n, g.ci, g.d, g.h, g.w}, dt::f32, tag::ndhwc);
    memory::desc wAny({g.ci, g.co, g.kd, g.kh, g.kw}, dt::f32, tag::any);
    dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_training,
                                         dnnl::algorithm::convolution_direct, src, wAny, dst,
                                         g.strides(), l, r);
    p.transposedPd = std::make_unique<dnnl::convolution_forward::primitive_desc>(
        desc, userScratchpad(), cpuEngine());
    p.transposed = dnnl::convolution_forward(*p.transposedPd);
  }
  return p.transposedPd.get();
}

// dx = conv(dy, flip(W)ᵀ) for stride 1: W'[a][b][c][o][i] = W[kd-1-a][kh-1-b][kw-1-c][i][o].
void backwardDataByForward(ConvPrimitives& p, const Geometry& g, const float* dy, const float* w,
                           float* dx) {
  auto& pd = *p.transposedPd;
  p.flipped.resize(g.wCount());
  const int64_t ci = g.ci, co = g.co;
  for (int64_t a = 0; a < g.kd; a++)
    for (int64_t b = 0; b < g.kh; b++)
      for (int64_t c = 0; c < g.kw; c++) {
        const float* src = w + (((g.kd - 1 - a) * g.kh + (g.kh - 1 - b)) * g.kw + (g.kw - 1 - c)) * ci * co;
        float* dst = p.flipped.data() + ((a * g.kh + b) * g.kw + c) * co * ci;
        for (int64_t i = 0; i < ci; i++)
          for (int64_t o = 0; o < co; o++) dst[o * ci + i] = src[i * co + o];
      }
  memory::desc flippedUser({ci, co, g.kd, g.kh, g.kw}, dt::f32, tag::dhwio);
  memory userMem(flippedUser, cpuEngine(), p.flipped.data());
  memory wMem = userMem;
  if (!(pd.weights_desc() == flippedUser)) {
    p.weights.resize(pd.weights_desc().get_size() / sizeof(float));
    wMem = memory(pd.weights_desc(), cpuEngine(), p.weights.data());
    dnnl::reorder(userMem, wMem).execute(cpuStream(), userMem, wMem);
  }
  memory dyMem(pd.src_desc(), cpuEngine(), const_cast<float*>(dy));
  memory dxMem(pd.dst_desc(), cpuEngine(), dx);
  p.transposed.execute(cpuStream(), {{DNNL_ARG_SRC, dyMem},
                                     {DNNL_ARG_WEIGHTS, wMem},
                                     {DNNL_ARG_DST, dxMem},
                                     {DNNL_ARG_SCRATCHPAD, scratchMemory(pd.scratchpad_desc())}});
  cpuStream().wait();
}

// conv3dBackwardData(heap, dyOffset, filterOffset, dxOffset, geometry)
Napi::Value backwardData(const Napi::CallbackInfo& info) {
  return guard(info, "conv3dBackwardData", [&]() -> Napi::Value {
    auto g = geometryOf(info[4]);
    float* dy = heapFloats(info.Env(), info[0], info[1], g.yCount());
    float* w = heapFloats(info.Env(), info[0], info[2], g.wCount());
    float* dx = heapFloats(info.Env(), info[0], info[3], g.xCount());
    auto& p = primitivesFor(g);
    if (transposedPd(p, g) != nullptr) {
      backwardDataByForward(p, g, dy, w, dx);
      return info.Env().Undefined();
    }
    auto& pd = bwdDataPd(p, g);
    memory wMem = filterFor(p, g, pd.weights_desc(), w);
    memory dyMem(g.y(), cpuEngine(), dy), dxMem(g.x(), cpuEngine(), dx);
    p.bwdData.execute(cpuStream(), {{DNNL_ARG_DIFF_DST, dyMem},
                                    {DNNL_ARG_WEIGHTS, wMem},
                                    {DNNL_ARG_DIFF_SRC, dxMem},
                                    {DNNL_ARG_SCRATCHPAD, scratchMemory(pd.scratchpad_desc())}});
    cpuStream().wait();
    return info.Env().Undefined();
  });
}

// conv3dBackwardWeights(heap, xOffset, dyOffset, dwOffset, geometry)
Napi::Value backwardWeights(const Napi::CallbackInfo& info) {
  return guard(info, "conv3dBackwardWeights", [&]() -> Napi::Value {
    auto g = geometryOf(info[4]);
    float* x = heapFloats(info.Env(), info[0], info[1], g.xCount());
    float* dy = heapFloats(info.Env(), info[0], info[2], g.yCount());
    float* dw = heapFloats(info.Env(), info[0], info[3], g.wCount());
    auto& p = primitivesFor(g);
    auto& pd = bwdWeightsPd(p, g);
    memory userMem(g.wUser(), cpuEngine(), dw);
    const bool direct = pd.diff_weights_desc() == g.wUser();
    if (!direct) p.weights.resize(pd.diff_weights_desc().get_size() / sizeof(float));
    memory dwMem = direct ? userMem : memory(pd.diff_weights_desc(), cpuEngine(), p.weights.data());
    memory xMem(g.x(), cpuEngine(), x), dyMem(g.y(), cpuEngine(), dy);
    p.bwdWeights.execute(cpuStream(),
                         {{DNNL_ARG_SRC, xMem},
                          {DNNL_ARG_DIFF_DST, dyMem},
                          {DNNL_ARG_DIFF_WEIGHTS, dwMem},
                          {DNNL_ARG_SCRATCHPAD, scratchMemory(pd.scratchpad_desc())}});
    if (!direct) dnnl::reorder(dwMem, userMem).execute(cpuStream(), dwMem, userMem);
    cpuStream().wait();
    return info.Env().Undefined();
  });
}

// conv3dImplementations(geometry) -> { forward, backwardData, backwardWeights }: which oneDNN
// implementation each direction uses ("brgconv:avx512_core", "gemm:jit", ...), for reports.
Napi::Value implementations(const Napi::CallbackInfo& info) {
  return guard(info, "conv3dImplementations", [&]() -> Napi::Value {
    auto g = geometryOf(info[0]);
    auto& p = primitivesFor(g);
    auto out = Napi::Object::New(info.Env());
    out.Set("forward", p.fwdPd.impl_info_str());
    auto* t = transposedPd(p, g);
    out.Set("backwardData", t != nullptr ? std::string("forward of the flipped filter: ") + t->impl_info_str()
                                         : bwdDataPd(p, g).impl_info_str());
    out.Set("backwardWeights", bwdWeightsPd(p, g).impl_info_str());
    return out;
  });
}

}  // namespace

void registerConv(Napi::Env env, Napi::Object exports) {
  exports.Set("conv3dForward", Napi::Function::New(env, forward));
  exports.Set("conv3dBackwardData", Napi::Function::New(env, backwardData));
  exports.Set("conv3dBackwardWeights", Napi::Function::New(env, backwardWeights));
  exports.Set("conv3dImplementations", Napi::Function::New(env, implementations));
}

}  // namespace brats
