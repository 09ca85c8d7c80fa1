# Turns web/flamegraph.js and web/flamegraph.css into a C++ header (run at
# build time, so editing either file rebuilds the renderer).
# Inputs: JS, CSS, OUT.
file(READ ${JS} js)
file(READ ${CSS} css)
string(FIND "${js}" ")GOLENS_ASSET\"" js_bad)
string(FIND "${css}" ")GOLENS_ASSET\"" css_bad)
string(FIND "${js}" "]]>" js_cdata)
if(NOT js_bad EQUAL -1 OR NOT css_bad EQUAL -1)
  message(FATAL_ERROR "asset contains the raw string delimiter")
endif()
if(NOT js_cdata EQUAL -1)
  message(FATAL_ERROR "flamegraph.js contains ']]>', which would end the SVG's CDATA section")
endif()
file(WRITE ${OUT}.tmp
"// Generated from web/flamegraph.js and web/flamegraph.css by web/embed_assets.cmake. Do not edit.
#pragma once
namespace golens::web::assets {
inline constexpr char kFlameGraphJs[] = R\"GOLENS_ASSET(${js})GOLENS_ASSET\";
inline constexpr char kFlameGraphCss[] = R\"GOLENS_ASSET(${css})GOLENS_ASSET\";
}  // namespace golens::web::assets
")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
