// @ts-check
/**
 * InvarianceExplorer front end (anywidget module). Bundled by esbuild into
 * tcnn_widgets/static/widget.js; see js/build.mjs.
 */
import { memoizedDecoder } from "./buffers.js";
import { startPlayer } from "./player.js";
import { resolveSelection } from "./state.js";
import { renderExplorer } from "./view.js";

/** @type {import("@anywidget/types").AnyWidget<import("./model.js").ExplorerState>} */
export default {
  initialize({ model }) {
    const decode = memoizedDecoder();
    const resolve = () =>
      resolveSelection(
        model.get("units"),
        {
          unit: model.get("unit"),
          rank: model.get("rank"),
          order: model.get("order"),
          angle: model.get("angle"),
        },
        decode,
      );
    return startPlayer(model, resolve);
  },
  render({ model, el }) {
    return renderExplorer({ model, el });
  },
};
