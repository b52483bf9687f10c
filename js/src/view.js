// @ts-check
/**
 * One InvarianceExplorer view: stimulus canvas, controls, readouts, the two plots and the
 * unit gallery, each panel drawn by its own module. All drawing reads the model; rank,
 * angle and play never need Python.
 */
import { directionOf, memoizedDecoder } from "./buffers.js";
import { clampAngle } from "./clamp.js";
import { element, ownKeys, slider, svgElement } from "./dom.js";
import { frameInto } from "./frame.js";
import { groupOf, makeGallery, unitGroups } from "./galleryView.js";
import { drawGeodesic } from "./geodesicView.js";
import { setAll } from "./model.js";
import { frameHeight, paint } from "./paint.js";
import { formatDegrees, formatNumber } from "./plots.js";
import { readoutRows } from "./readouts.js";
import { drawSpectrum } from "./spectrumView.js";
import { resolveSelection } from "./state.js";
import { leastTie } from "./tie.js";
import css from "./widget.css";

const PLOT_WIDTH = 340;
const PLOT_HEIGHT = 175;
const PLOT_BOX = { left: 52, top: 10, width: 280, height: 110 };

/**
 * Render the explorer into `el`.
 * @param {{model: import("./model.js").Model, el: HTMLElement}} context anywidget render context
 * @returns {() => void} cleanup
 */
export function renderExplorer({ model, el }) {
  const decode = memoizedDecoder();
  const root = element("div", { class: "tcnn-explorer" });
  const frameCanvas = /** @type {HTMLCanvasElement} */ (
    element("canvas", { class: "tcnn-frame tcnn-display", role: "img", width: "1", height: "1" })
  );
  const groupSelect = /** @type {HTMLSelectElement} */ (ownKeys(element("select", { class: "tcnn-group-select", "aria-label": "Group of units" })));
  const unitSlider = slider("Unit", "tcnn-unit");
  const rankSlider = slider("Rank", "tcnn-rank");
  const angleSlider = slider("Angle θ", "tcnn-angle");
  angleSlider.input.step = "any";
  const orderSwitch = /** @type {HTMLInputElement} */ (ownKeys(element("input", { type: "checkbox", role: "switch", class: "tcnn-order" })));
  const playButton = ownKeys(element("button", { type: "button", class: "tcnn-play", "aria-pressed": "false" }, ["Play"]));
  const untieButton = ownKeys(element("button", { type: "button", class: "tcnn-untie", hidden: "" }, ["Show the distinct direction outside the tie"]));
  const readouts = element("dl", { class: "tcnn-readouts", "aria-live": "off" });
  const message = element("div", { class: "tcnn-message", role: "status" });
  const viewBox = `0 0 ${PLOT_WIDTH} ${PLOT_HEIGHT}`;
  const spectrum = svgElement("svg", { class: "tcnn-plot tcnn-spectrum tcnn-display", viewBox, role: "img" });
  const geodesic = svgElement("svg", { class: "tcnn-plot tcnn-geodesic tcnn-display", viewBox, role: "img" });
  const gallery = element("div", { class: "tcnn-gallery", "aria-label": "Units: click one to show it" });
  const groupRow = element("label", { class: "tcnn-group-row" }, [element("span", {}, ["Group"]), groupSelect, element("span")]);

  const controls = element("div", { class: "tcnn-controls" }, [
    groupRow,
    unitSlider.row, unitSlider.output,
    rankSlider.row, rankSlider.output,
    angleSlider.row, angleSlider.output,
    element("div", { class: "tcnn-switch-row" }, [
      element("label", {}, [orderSwitch, "Least invariant first"]),
      playButton,
    ]),
    element("div", { class: "tcnn-switch-row" }, [untieButton]),
  ]);
  root.append(
    element("style", {}, [css]),
    element("div", { class: "tcnn-top" }, [frameCanvas, controls, readouts]),
    message,
    element("div", { class: "tcnn-plots" }, [spectrum, geodesic]),
    gallery,
  );
  el.append(root);

  /** @type {any} */
  let selection = null;
  let frame = new Float64Array(0);
  let spectrumLayout = null;
  let moveMarker = (/** @type {number} */ _angle) => 0;
  let writing = false;
  const updateGallery = makeGallery(gallery, (unit) => choose({ unit }), decode);

  /** The model values that the selection is resolved from. */
  function values() {
    return { unit: model.get("unit"), rank: model.get("rank"), order: model.get("order"), angle: model.get("angle") };
  }

  function groups() {
    return unitGroups(model.get("groups"), model.get("units").length);
  }

  /** Write clamped values back to the model when they differ from what it holds. */
  function writeBack(resolved) {
    /** @type {Record<string, unknown>} */
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
    paint(frameCanvas, frame, data.grayLimits[index], data);
    frameCanvas.style.height = `${frameHeight(data.height)}px`;
    Object.assign(frameCanvas.dataset, { unit: selection.unit, index, angle: String(angle) });
    frameCanvas.setAttribute("aria-label", `Stimulus of unit ${selection.unit}, rank ${selection.rank}, angle ${formatDegrees(angle)}`);
  }

  function showReadouts(activation) {
    const rows = readoutRows(selection, activation);
    readouts.replaceChildren(...rows.flatMap(([term, text]) => [element("dt", {}, [term]), element("dd", {}, [text])]));
    angleSlider.output.value = formatDegrees(selection.angle);
    angleSlider.input.setAttribute("aria-valuetext", `${formatNumber((selection.angle * 180) / Math.PI)} degrees`);
  }

  function showControls() {
    const units = model.get("units");
    const all = groups();
    groupRow.hidden = all.length < 2;
    if (groupSelect.options.length !== all.length || Array.from(groupSelect.options).some((o, i) => o.text !== all[i].name)) {
      groupSelect.replaceChildren(...all.map((g, i) => element("option", { value: String(i) }, [g.name])));
    }
    groupSelect.value = String(Math.max(0, all.findIndex((g) => g.start <= selection.unit && selection.unit < g.stop)));
    unitSlider.input.max = String(Math.max(0, units.length - 1));
    unitSlider.input.value = String(selection.unit ?? 0);
    unitSlider.output.value = String(selection.unit ?? "");
    orderSwitch.checked = selection.order === "least";
    const ready = selection.status === "ready";
    for (const input of [rankSlider.input, angleSlider.input, playButton]) input.toggleAttribute("disabled", !ready);
    untieButton.hidden = true;
    if (!ready) return;
    rankSlider.input.max = String(selection.data.count - 1);
    rankSlider.input.value = String(selection.rank);
    rankSlider.output.value = `${selection.rank} / ${selection.data.count - 1}`;
    angleSlider.input.min = String(selection.start);
    angleSlider.input.max = String(selection.stop);
    angleSlider.input.value = String(selection.angle);
    const tie = selection.order === "least" ? leastTie(selection.data) : null;
    if (tie && tie.alternative >= 0 && selection.index >= selection.data.count - tie.members) {
      untieButton.hidden = false;
      untieButton.dataset.rank = String(selection.data.count - 1 - tie.alternative);
    }
  }

  function showPlaying() {
    const playing = Boolean(model.get("playing"));
    playButton.textContent = playing ? "Pause" : "Play";
    playButton.setAttribute("aria-pressed", String(playing));
  }

  /** Redraw everything that depends on unit, rank or order. */
  function refresh() {
    selection = resolveSelection(model.get("units"), values(), decode);
    selection.group = groupOf(groups(), selection.unit);
    const ready = selection.status === "ready";
    root.classList.toggle("tcnn-not-ready", !ready);
    message.classList.toggle("tcnn-error", selection.status === "error");
    message.setAttribute("role", selection.status === "error" ? "alert" : "status");
    message.textContent = ready ? "" : selection.message;
    showControls();
    showPlaying();
    updateGallery(model.get("units"), groups(), selection.unit);
    if (ready) {
      drawFrame();
      spectrumLayout = drawSpectrum(spectrum, selection, PLOT_BOX);
      moveMarker = drawGeodesic(geodesic, selection, PLOT_BOX);
      showReadouts(moveMarker(selection.angle));
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
    showReadouts(moveMarker(angle));
  }

  /** Apply a change made in this view and send it to Python. */
  function choose(changes) {
    setAll(model, changes);
  }

  // JupyterLab checks its shortcuts after a key event has reached the control: keep the
  // event inside the widget (see ownKeys for Notebook 7).
  root.addEventListener("keydown", (event) => event.stopPropagation());
  groupSelect.addEventListener("change", () => choose({ unit: groups()[Number(groupSelect.value)].start }));
  unitSlider.input.addEventListener("input", () => choose({ unit: Number(unitSlider.input.value) }));
  rankSlider.input.addEventListener("input", () => choose({ rank: Number(rankSlider.input.value) }));
  angleSlider.input.addEventListener("input", () => choose({ angle: Number(angleSlider.input.value) }));
  orderSwitch.addEventListener("change", () => choose({ order: orderSwitch.checked ? "least" : "most" }));
  playButton.addEventListener("click", () => choose({ playing: !model.get("playing") }));
  untieButton.addEventListener("click", () => choose({ rank: Number(untieButton.dataset.rank) }));
  spectrum.addEventListener("click", (event) => {
    if (selection?.status !== "ready" || spectrumLayout === null) return;
    const box = spectrum.getBoundingClientRect();
    const x = ((event.clientX - box.left) / box.width) * PLOT_WIDTH;
    const slot = spectrumLayout.slots.find((s) => s.x0 <= x && x < s.x1 && !s.gap);
    if (slot) choose({ rank: slot.first });
  });

  /** @type {Array<[string, () => void]>} */
  const listeners = [
    ["change:units", refresh],
    ["change:groups", refresh],
    ["change:unit", refresh],
    ["change:rank", refresh],
    ["change:order", refresh],
    ["change:angle", refreshAngle],
    ["change:playing", showPlaying],
  ];
  /** @type {Array<[string, () => void]>} */
  const guarded = listeners.map(([name, callback]) => [name, () => (writing ? undefined : callback())]);
  for (const [name, callback] of guarded) model.on(name, callback);
  refresh();
  return () => {
    for (const [name, callback] of guarded) model.off(name, callback);
    root.remove();
  };
}
