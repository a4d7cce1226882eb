{
  "targets": [
    {
      "target_name": "brats_onednn",
      "sources": [
        "src/native/addon.cc",
        "src/native/conv.cc",
        "src/native/pool.cc",
        "src/native/elementwise.cc",
        "src/native/reduce.cc",
        "src/native/unary.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O3", "-fopenmp", "-fexceptions"],
      "ldflags": ["-fopenmp"],
      "libraries": ["-ldnnl"]
    }
  ]
}
