/**
 * The DOM of one InvarianceExplorer view: stimulus canvas, controls, readouts, the two
 * plots and the unit gallery. All drawing reads the model; rank, angle and play never
 * need Python.
 */
import { directionOf, geodesicOf, groupSize, labelOf, memoizedDecoder } from "./buffers.js";
import { clampAngle } from "./clamp.js";
import { setAll } from "./model.js";
import { frameInto, interpolate } from "./frame.js";
import { absMax, grayRGBA } from "./grayscale.js";
import { formatNumber, geodesicLayout, spectrumLayout } from "./plots.js";
import { resolveSelection } from "./state.js";
import css from "./widget.css";

const SVG = "http://www.w3.org/2000/svg";
const PLOT_WIDTH = 320;
const PLOT_HEIGHT = 150;
const PLOT_BOX = { left: 46, top: 10, width: 264, height: 106 };

/** An HTML element with attributes and children (strings become text). */
function element(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/** An SVG element with attributes. */
function svgElement(tag, attributes = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  return node;
}

/**
 * Mark a control so that the notebook's keyboard shortcuts (arrow keys move between cells,
 * Enter edits a cell) leave its keys alone. Notebook 7 checks shortcuts before the key
 * event reaches the control and skips elements marked data-lm-suppress-shortcuts.
 */
function ownKeys(control) {
  control.setAttribute("data-lm-suppress-shortcuts", "true");
  return control;
}

/** A labelled range input with an <output> beside it (one grid row). */
function slider(label, className) {
  const input = ownKeys(element("input", { type: "range", class: className, min: "0", max: "0", step: "1", value: "0" }));
  const output = element("output", { class: `${className}-value` });
  const row = element("label", {}, [element("span", {}, [label]), input]);
  return { input, output, row };
}

/** Draw a stimulus-sized image from pixel values on a symmetric gray scale. */
function paint(canvas, values, limit, height, width) {
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  const context = canvas.getContext("2d");
  const image = context.createImageData(width, height);
  grayRGBA(values, limit, image.data);
  context.putImageData(image, 0, 0);
}

/**
 * Render the explorer into `el`.
 * @param {{model: object, el: HTMLElement}} context anywidget render context
 * @returns {() => void} cleanup
 */
export function renderExplorer({ model, el }) {
  const decode = memoizedDecoder();
  const root = element("div", { class: "tcnn-explorer" });
  const frameCanvas = element("canvas", { class: "tcnn-frame tcnn-display", role: "img", width: "1", height: "1" });
  const unitSlider = slider("Unit", "tcnn-unit");
  const rankSlider = slider("Rank", "tcnn-rank");
  const angleSlider = slider("Angle θ", "tcnn-angle");
  angleSlider.input.step = "any";
  const orderSwitch = ownKeys(element("input", { type: "checkbox", role: "switch", class: "tcnn-order" }));
  const playButton = ownKeys(element("button", { type: "button", class: "tcnn-play", "aria-pressed": "false" }, ["Play"]));
  const readouts = element("dl", { class: "tcnn-readouts", "aria-live": "off" });
  const message = element("div", { class: "tcnn-message", role: "status" });
  const spectrum = svgElement("svg", { class: "tcnn-plot tcnn-spectrum tcnn-display", viewBox: `0 0 ${PLOT_WIDTH} ${PLOT_HEIGHT}`, role: "img" });
  const geodesic = svgElement("svg", { class: "tcnn-plot tcnn-geodesic tcnn-display", viewBox: `0 0 ${PLOT_WIDTH} ${PLOT_HEIGHT}`, role: "img" });
  const gallery = element("div", { class: "tcnn-gallery", role: "group", "aria-label": "Units: click one to show it" });

  const controls = element("div", { class: "tcnn-controls" }, [
    unitSlider.row, unitSlider.output,
    rankSlider.row, rankSlider.output,
    angleSlider.row, angleSlider.output,
    element("div", { class: "tcnn-switch-row" }, [
      element("label", {}, [orderSwitch, "Least invariant first"]),
      playButton,
    ]),
  ]);
  root.append(
    element("style", {}, [css]),
    element("div", { class: "tcnn-top" }, [frameCanvas, controls, readouts]),
    message,
    element("div", { class: "tcnn-plots" }, [spectrum, geodesic]),
    gallery,
  );
  el.append(root);

  let selection = null;
  let writing = false;
  let frame = new Float64Array(0);
  let galleryRecords = [];
  const geodesicParts = {};

  /** The model values that the selection is resolved from. */
  function values() {
    return { unit: model.get("unit"), rank: model.get("rank"), order: model.get("order"), angle: model.get("angle") };
  }

  /** Write clamped values back to the model when they differ from what it holds. */
  function writeBack(resolved) {
    const changes = {};
    if (resolved.unit !== undefined && resolved.unit !== model.get("unit")) changes.unit = resolved.unit;
    if (resolved.order !== undefined && resolved.order !== model.get("order")) changes.order = resolved.order;
    if (resolved.status === "ready") {
      if (resolved.rank !== model.get("rank")) changes.rank = resolved.rank;
      if (resolved.angle !== model.get("angle")) changes.angle = resolved.angle;
    }
    writing = true; // the selection already shows these values: ignore their change events
    try {
      setAll(model, changes);
    } finally {
      writing = false;
    }
  }

  function drawFrame() {
    const { data, index, angle } = selection;
    if (frame.length !== data.size) frame = new Float64Array(data.size);
    frameInto(frame, data.stimulus, directionOf(data, index), data.radius, angle);
    paint(frameCanvas, frame, data.grayLimits[index], data.height, data.width);
    Object.assign(frameCanvas.dataset, { unit: selection.unit, index, angle: String(angle) });
    frameCanvas.setAttribute("aria-label", `Stimulus of unit ${selection.unit}, rank ${selection.rank}, angle ${formatNumber(angle)} rad`);
  }

  function drawSpectrum() {
    const { data, order, rank, index } = selection;
    const layout = spectrumLayout(data, order, PLOT_BOX);
    const bottom = PLOT_BOX.top + PLOT_BOX.height;
    spectrum.replaceChildren(svgElement("title"));
    spectrum.firstChild.textContent = "Curvature spectrum; click a bar to choose its rank";
    const selectedGroup = data.groups[index];
    for (const band of layout.bands) {
      const selected = data.groups[layout.marks[band.first].index] === selectedGroup ? " tcnn-selected" : "";
      const middle = (band.x0 + band.x1) / 2;
      const label = svgElement("text", { class: `tcnn-band-label${selected}`, x: middle, y: bottom + 13, "text-anchor": "middle" });
      label.textContent = `×${band.members}`;
      spectrum.append(
        svgElement("rect", { class: `tcnn-band${selected}`, x: band.x0, y: PLOT_BOX.top, width: band.x1 - band.x0, height: PLOT_BOX.height }),
        svgElement("path", { class: `tcnn-bracket${selected}`, d: `M${band.x0 + 1},${bottom + 1}v3H${band.x1 - 1}v-3` }),
        label,
      );
    }
    const barWidth = Math.max(0.6, layout.step * 0.7);
    for (const mark of layout.marks) {
      spectrum.append(svgElement("rect", {
        class: mark.rank === rank ? "tcnn-bar tcnn-selected" : "tcnn-bar",
        x: mark.x - barWidth / 2, y: Math.min(mark.y, layout.zeroY),
        width: barWidth, height: Math.max(0.5, Math.abs(mark.y - layout.zeroY)),
      }));
    }
    spectrum.append(
      svgElement("line", { class: "tcnn-axis", x1: PLOT_BOX.left, x2: PLOT_BOX.left + PLOT_BOX.width, y1: layout.zeroY, y2: layout.zeroY }),
      svgElement("line", { class: "tcnn-axis", x1: PLOT_BOX.left, x2: PLOT_BOX.left, y1: PLOT_BOX.top, y2: bottom }),
    );
    const labels = [
      [PLOT_BOX.left - 4, layout.zeroY + 3, "end", "0"],
      [PLOT_BOX.left - 4, bottom, "end", formatNumber(layout.low)],
      [0, bottom + 26, "start", `curvature ν by rank, ${order} invariant first; ×k: degenerate group`],
    ];
    if (layout.high > 0) labels.push([PLOT_BOX.left - 4, PLOT_BOX.top + 8, "end", formatNumber(layout.high)]);
    for (const [x, y, anchor, text] of labels) {
      const node = svgElement("text", { x, y, "text-anchor": anchor });
      node.textContent = text;
      spectrum.append(node);
    }
  }

  function drawGeodesic() {
    const { data, index, start, stop } = selection;
    const activations = geodesicOf(data, index);
    const layout = geodesicLayout(data, activations, PLOT_BOX);
    const bottom = PLOT_BOX.top + PLOT_BOX.height;
    const title = svgElement("title");
    title.textContent = "Activation along the geodesic of the chosen direction";
    geodesicParts.layout = layout;
    geodesicParts.activations = activations;
    geodesicParts.marker = svgElement("line", { class: "tcnn-marker", y1: PLOT_BOX.top, y2: bottom });
    geodesicParts.dot = svgElement("circle", { class: "tcnn-dot", r: 3 });
    geodesic.replaceChildren(
      title,
      svgElement("rect", { class: "tcnn-range", x: layout.x(start), y: PLOT_BOX.top, width: Math.max(0, layout.x(stop) - layout.x(start)), height: PLOT_BOX.height }),
      svgElement("line", { class: "tcnn-axis", x1: PLOT_BOX.left, x2: PLOT_BOX.left + PLOT_BOX.width, y1: bottom, y2: bottom }),
      svgElement("line", { class: "tcnn-axis", x1: PLOT_BOX.left, x2: PLOT_BOX.left, y1: PLOT_BOX.top, y2: bottom }),
      svgElement("line", { class: "tcnn-threshold", x1: PLOT_BOX.left, x2: PLOT_BOX.left + PLOT_BOX.width, y1: layout.y(layout.thresholdValue), y2: layout.y(layout.thresholdValue) }),
      svgElement("polyline", { class: "tcnn-curve", points: layout.points }),
      geodesicParts.marker,
      geodesicParts.dot,
    );
    const labels = [
      [PLOT_BOX.left - 4, PLOT_BOX.top + 8, "end", formatNumber(layout.values[1])],
      [PLOT_BOX.left - 4, bottom, "end", formatNumber(layout.values[0])],
      [PLOT_BOX.left + PLOT_BOX.width, layout.y(layout.thresholdValue) - 3, "end", `c·g* = ${formatNumber(layout.thresholdValue)}`],
      [PLOT_BOX.left, bottom + 13, "start", formatNumber(layout.angles[0])],
      [PLOT_BOX.left + PLOT_BOX.width, bottom + 13, "end", formatNumber(layout.angles[1])],
      [0, bottom + 26, "start", "activation g(x(θ)) along the geodesic; shaded: video range"],
    ];
    for (const [x, y, anchor, text] of labels) {
      const node = svgElement("text", { x, y, "text-anchor": anchor });
      node.textContent = text;
      geodesic.append(node);
    }
  }

  function drawMarker() {
    const { layout, activations, marker, dot } = geodesicParts;
    const x = layout.x(selection.angle);
    const value = interpolate(selection.data.geodesicAngles, activations, selection.angle);
    marker.setAttribute("x1", x);
    marker.setAttribute("x2", x);
    dot.setAttribute("cx", x);
    dot.setAttribute("cy", layout.y(value));
    return value;
  }

  function showReadouts(activation) {
    const { data, index, rank, order, angle } = selection;
    const members = groupSize(data, index);
    const rows = [
      ["Unit", `${selection.unit}${data.name ? ` (${data.name})` : ""}`],
      ["Activation g(x(θ))", `${formatNumber(activation)} (optimum g* = ${formatNumber(data.activation)})`],
      ["Curvature ν", formatNumber(data.curvatures[index])],
      ["Named invariance", labelOf(data, index)],
      ["Angle θ", `${formatNumber(angle)} rad, video range [${formatNumber(selection.start)}, ${formatNumber(selection.stop)}]`],
      ["Rank", `${rank} (0 to ${data.count - 1}, ${order} invariant first)`],
      ["Degenerate group", members > 1 ? `${members} directions share this curvature` : "none (unique curvature)"],
    ];
    readouts.replaceChildren(...rows.flatMap(([term, text]) => [element("dt", {}, [term]), element("dd", {}, [text])]));
    angleSlider.output.value = `${formatNumber(angle)} rad`;
    angleSlider.input.setAttribute("aria-valuetext", `${formatNumber(angle)} radians`);
  }

  function showControls() {
    const units = model.get("units");
    unitSlider.input.max = String(Math.max(0, units.length - 1));
    unitSlider.input.value = String(selection.unit ?? 0);
    unitSlider.output.value = String(selection.unit ?? "");
    orderSwitch.checked = selection.order === "least";
    const ready = selection.status === "ready";
    for (const input of [rankSlider.input, angleSlider.input, playButton]) input.disabled = !ready;
    if (!ready) return;
    rankSlider.input.max = String(selection.data.count - 1);
    rankSlider.input.value = String(selection.rank);
    rankSlider.output.value = `${selection.rank} / ${selection.data.count - 1}`;
    angleSlider.input.min = String(selection.start);
    angleSlider.input.max = String(selection.stop);
    angleSlider.input.value = String(selection.angle);
  }

  function showPlaying() {
    const playing = Boolean(model.get("playing"));
    playButton.textContent = playing ? "Pause" : "Play";
    playButton.setAttribute("aria-pressed", String(playing));
  }

  function showGallery() {
    const units = model.get("units");
    if (gallery.children.length !== units.length) {
      gallery.replaceChildren();
      galleryRecords = [];
      units.forEach((_, unit) => {
        const tile = ownKeys(element("button", { type: "button", class: "tcnn-tile", "data-unit": String(unit) }, [
          element("canvas", { width: "1", height: "1", "aria-hidden": "true" }),
          element("span", {}, [String(unit)]),
        ]));
        tile.addEventListener("click", () => choose({ unit }));
        gallery.append(tile);
      });
    }
    units.forEach((record, unit) => {
      const tile = gallery.children[unit];
      const label = (text) => {
        tile.setAttribute("aria-label", text);
        tile.title = text;
      };
      tile.setAttribute("aria-pressed", String(unit === selection.unit));
      if (galleryRecords[unit] === record) return;
      galleryRecords[unit] = record;
      const canvas = tile.firstChild;
      if (record == null) {
        label(`Unit ${unit}: not analyzed yet (click to analyze)`);
        return;
      }
      if (record.error) {
        label(`Unit ${unit}: analysis failed`);
        return;
      }
      try {
        const data = decode(record);
        paint(canvas, data.stimulus, absMax(data.stimulus), data.height, data.width);
        label(`Unit ${unit}${data.name ? `: ${data.name}` : ""}`);
      } catch (error) {
        label(`Unit ${unit}: unreadable data (${error.message})`);
      }
    });
  }

  /** Redraw everything that depends on unit, rank or order. */
  function refresh() {
    selection = resolveSelection(model.get("units"), values(), decode);
    const ready = selection.status === "ready";
    root.classList.toggle("tcnn-not-ready", !ready);
    message.classList.toggle("tcnn-error", selection.status === "error");
    message.setAttribute("role", selection.status === "error" ? "alert" : "status");
    message.textContent = ready ? "" : selection.message;
    showControls();
    showPlaying();
    showGallery();
    if (ready) {
      drawFrame();
      drawSpectrum();
      drawGeodesic();
      showReadouts(drawMarker());
    }
    writeBack(selection);
  }

  /** Redraw only what depends on the angle (the common case while dragging or playing). */
  function refreshAngle() {
    if (selection?.status !== "ready") return refresh();
    const angle = clampAngle(model.get("angle"), selection.start, selection.stop);
    if (angle !== model.get("angle")) return refresh();
    selection.angle = angle;
    angleSlider.input.value = String(angle);
    drawFrame();
    showReadouts(drawMarker());
  }

  /** Apply a change made in this view and send it to Python. */
  function choose(changes) {
    setAll(model, changes);
  }

  // JupyterLab checks its shortcuts after a key event has reached the control: keep the
  // event inside the widget (see ownKeys for Notebook 7).
  root.addEventListener("keydown", (event) => event.stopPropagation());
  unitSlider.input.addEventListener("input", () => choose({ unit: Number(unitSlider.input.value) }));
  rankSlider.input.addEventListener("input", () => choose({ rank: Number(rankSlider.input.value) }));
  angleSlider.input.addEventListener("input", () => choose({ angle: Number(angleSlider.input.value) }));
  orderSwitch.addEventListener("change", () => choose({ order: orderSwitch.checked ? "least" : "most" }));
  playButton.addEventListener("click", () => choose({ playing: !model.get("playing") }));
  spectrum.addEventListener("click", (event) => {
    if (selection?.status !== "ready") return;
    const box = spectrum.getBoundingClientRect();
    const x = ((event.clientX - box.left) / box.width) * PLOT_WIDTH;
    const rank = Math.floor(((x - PLOT_BOX.left) / PLOT_BOX.width) * selection.data.count);
    if (rank >= 0 && rank < selection.data.count) choose({ rank });
  });

  const listeners = [
    ["change:units", refresh],
    ["change:unit", refresh],
    ["change:rank", refresh],
    ["change:order", refresh],
    ["change:angle", refreshAngle],
    ["change:playing", showPlaying],
  ];
  const guarded = listeners.map(([name, callback]) => [name, () => (writing ? undefined : callback())]);
  for (const [name, callback] of guarded) model.on(name, callback);
  refresh();
  return () => {
    for (const [name, callback] of guarded) model.off(name, callback);
    root.remove();
  };
}
