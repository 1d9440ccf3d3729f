#pragma once
// Work an attempt leaves for the runtime's verdict: deduplicate() marks its id with it, the
// loop runs or drops it once the attempt is concluded, a worker's call hands it to the loop.
#include <functional>

namespace kernel::detail {

struct CompletionHook {
  std::function<void()> complete;  ///< run once the loop concludes the attempt as completed
  std::function<void()> undo;      ///< run when that work is lost before its offset is committed
};

}  // namespace kernel::detail
