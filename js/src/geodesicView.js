// @ts-check
/** The panel of the activation along the chosen direction's geodesic. */
import { geodesicOf } from "./buffers.js";
import { svgElement, svgText } from "./dom.js";
import { interpolate } from "./frame.js";
import { formatDegrees, formatNumber, geodesicLayout } from "./plots.js";

/**
 * Draw the activation curve of the selection into `svg`; the c·g* line is labelled in
 * the legend below the plot, never on top of the curve.
 * @param {SVGElement} svg
 * @param {object} selection a ready selection (state.js)
 * @param {{left: number, top: number, width: number, height: number}} box plot area
 * @returns {(angle: number) => number} moves the marker to an angle and returns the
 *   activation there (interpolated between the samples)
 */
export function drawGeodesic(svg, selection, box) {
  const { data, index, start, stop } = selection;
  const activations = geodesicOf(data, index);
  const layout = geodesicLayout(data, activations, box);
  const bottom = box.top + box.height;
  const right = box.left + box.width;
  const title = svgElement("title");
  title.textContent = "Activation along the geodesic of the chosen direction";
  const marker = svgElement("line", { class: "tcnn-marker", y1: box.top, y2: bottom });
  const dot = svgElement("circle", { class: "tcnn-dot", r: 3 });
  const level = layout.y(layout.thresholdValue);
  svg.replaceChildren(
    title,
    svgElement("rect", { class: "tcnn-range", x: layout.x(start), y: box.top, width: Math.max(0, layout.x(stop) - layout.x(start)), height: box.height }),
    svgElement("line", { class: "tcnn-axis", x1: box.left, x2: right, y1: bottom, y2: bottom }),
    svgElement("line", { class: "tcnn-axis", x1: box.left, x2: box.left, y1: box.top, y2: bottom }),
    svgElement("line", { class: "tcnn-threshold", x1: box.left, x2: right, y1: level, y2: level }),
    svgElement("polyline", { class: "tcnn-curve", points: layout.points }),
    marker,
    dot,
    svgText(box.left - 4, box.top + 10, "end", formatNumber(layout.values[1])),
    svgText(box.left - 4, bottom, "end", formatNumber(layout.values[0])),
    svgText(box.left, bottom + 13, "start", formatDegrees(layout.angles[0])),
    svgText(right, bottom + 13, "end", formatDegrees(layout.angles[1])),
    svgText(0, bottom + 28, "start", "activation g(x(θ)) against θ; shaded: video range"),
    svgElement("line", { class: "tcnn-threshold", x1: 0, x2: 16, y1: bottom + 38, y2: bottom + 38 }),
    svgText(20, bottom + 42, "start", `c·g* = ${formatNumber(layout.thresholdValue)}`, "tcnn-threshold-label"),
  );
  return (angle) => {
    const x = layout.x(angle);
    const value = interpolate(data.geodesicAngles, activations, angle);
    marker.setAttribute("x1", String(x));
    marker.setAttribute("x2", String(x));
    dot.setAttribute("cx", String(x));
    dot.setAttribute("cy", String(layout.y(value)));
    return value;
  };
}
