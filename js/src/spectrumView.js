// @ts-check
/** The curvature spectrum panel: one slot per degenerate group, signed-log scale. */
import { svgElement, svgText } from "./dom.js";
import { formatNumber, slotOfRank, spectrumLayout } from "./plots.js";

/**
 * Draw the spectrum of the selection into `svg`.
 * @param {SVGElement} svg
 * @param {object} selection a ready selection (state.js)
 * @param {{left: number, top: number, width: number, height: number}} box plot area
 * @returns {ReturnType<typeof spectrumLayout>} the layout drawn (for clicks)
 */
export function drawSpectrum(svg, selection, box) {
  const { data, order, rank } = selection;
  const layout = spectrumLayout(data, order, box);
  const bottom = box.top + box.height;
  const title = svgElement("title");
  title.textContent = "Curvature spectrum: one bar per curvature, a degenerate group as one wide band; click to choose";
  svg.replaceChildren(title);
  const chosen = slotOfRank(layout.slots, rank);
  layout.slots.forEach((slot, position) => {
    const middle = (slot.x0 + slot.x1) / 2;
    if (slot.gap) {
      svg.append(
        svgText(middle, (box.top + bottom) / 2, "middle", "⋯", "tcnn-gap"),
        svgText(middle, bottom + 12, "middle", `${slot.members} not kept`, "tcnn-gap-label"),
      );
      return;
    }
    const selected = position === chosen ? " tcnn-selected" : "";
    const band = slot.members > 1;
    const width = band ? slot.x1 - slot.x0 - 2 : Math.max(2, (slot.x1 - slot.x0) * 0.6);
    const height = band ? 7 : 4;
    svg.append(svgElement("rect", {
      class: `${band ? "tcnn-band" : "tcnn-bar"}${selected}`,
      x: middle - width / 2,
      y: slot.y - height / 2,
      width,
      height,
      "data-first": slot.first,
      "data-members": slot.members,
    }));
    if (band) svg.append(svgText(middle, slot.y - 7, "middle", `×${slot.members}`, `tcnn-band-label${selected}`));
  });
  svg.append(
    svgElement("line", { class: "tcnn-axis", x1: box.left, x2: box.left + box.width, y1: bottom, y2: bottom }),
    svgElement("line", { class: "tcnn-axis", x1: box.left, x2: box.left, y1: box.top, y2: bottom }),
    svgText(box.left - 4, layout.y(layout.high) + 4, "end", formatNumber(layout.high)),
    svgText(box.left - 4, layout.y(layout.low) + 4, "end", formatNumber(layout.low)),
    svgText(0, bottom + 28, "start", `curvature ν by rank, ${order} invariant first (zoomed)`),
    svgText(0, bottom + 42, "start", "×k: a tie of k directions, drawn as one band"),
  );
  return layout;
}
