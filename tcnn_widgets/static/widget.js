// src/buffers.js
function bytesOf(value) {
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError(`expected binary data, got ${value === null ? "null" : typeof value}`);
}
function viewAs(value, Type) {
  const bytes = bytesOf(value);
  if (bytes.byteLength % 4 !== 0) {
    throw new RangeError(`binary data of ${bytes.byteLength} bytes is not a whole number of 4-byte values`);
  }
  if (bytes.byteOffset % 4 === 0) return new Type(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  return new Type(bytes.slice().buffer);
}
function decodeFloat32(value) {
  return viewAs(value, Float32Array);
}
function decodeInt32(value) {
  return viewAs(value, Int32Array);
}
function decodeUnit(record) {
  const height = record.height;
  const width = record.width;
  const size = height * width;
  const unit = {
    name: String(record.name ?? ""),
    height,
    width,
    size,
    count: size - 1,
    activation: record.activation,
    threshold: record.threshold,
    videoLevel: record.video_level,
    radius: record.radius,
    stimulus: decodeFloat32(record.stimulus),
    directions: decodeFloat32(record.directions),
    curvatures: decodeFloat32(record.curvatures),
    groups: decodeInt32(record.groups),
    videoRanges: decodeFloat32(record.video_ranges),
    grayLimits: decodeFloat32(record.gray_limits),
    geodesicAngles: decodeFloat32(record.geodesic_angles),
    geodesicActivations: decodeFloat32(record.geodesic_activations),
    labels: Array.from(record.labels ?? [], String),
    labelFractions: decodeFloat32(record.label_fractions)
  };
  unit.samples = unit.geodesicAngles.length;
  const expected = {
    stimulus: size,
    directions: unit.count * size,
    curvatures: unit.count,
    groups: unit.count,
    videoRanges: 2 * unit.count,
    grayLimits: unit.count,
    geodesicActivations: unit.count * unit.samples,
    labels: unit.count,
    labelFractions: 3 * unit.count
  };
  for (const [field, length] of Object.entries(expected)) {
    if (unit[field].length !== length) {
      throw new RangeError(`${field} has ${unit[field].length} values, expected ${length} for a ${height} x ${width} stimulus`);
    }
  }
  if (!(size >= 2)) throw new RangeError(`stimulus shape ${height} x ${width} has fewer than 2 pixels`);
  return unit;
}
function directionOf(unit, index) {
  return unit.directions.subarray(index * unit.size, (index + 1) * unit.size);
}
function geodesicOf(unit, index) {
  return unit.geodesicActivations.subarray(index * unit.samples, (index + 1) * unit.samples);
}
function videoRangeOf(unit, index) {
  return [unit.videoRanges[2 * index], unit.videoRanges[2 * index + 1]];
}
function groupSize(unit, index) {
  let members = 0;
  for (let i = 0; i < unit.count; i++) if (unit.groups[i] === unit.groups[index]) members += 1;
  return members;
}
function labelOf(unit, index) {
  const [t, r, s] = unit.labelFractions.subarray(3 * index, 3 * index + 3);
  const percent = (f) => `${Math.round(100 * f)}%`;
  return `${unit.labels[index]} (translation ${percent(t)}, rotation ${percent(r)}, scale ${percent(s)})`;
}
function memoizedDecoder() {
  const decoded = /* @__PURE__ */ new WeakMap();
  return (record) => {
    if (!decoded.has(record)) decoded.set(record, decodeUnit(record));
    return decoded.get(record);
  };
}

// src/player.js
var SWEEP_SECONDS = 3;
function nextAngle(angle, start, stop, elapsed, sweep = SWEEP_SECONDS) {
  const width = stop - start;
  if (!(width > 0)) return start;
  const inside = Math.min(stop, Math.max(start, angle));
  let position = (inside - start) / width + elapsed / sweep;
  position -= Math.floor(position);
  return start + position * width;
}
function startPlayer(model, resolve) {
  let request = 0;
  let previous = 0;
  function step(now) {
    const selection = resolve();
    if (selection.status === "ready") {
      const elapsed = previous === 0 ? 0 : Math.min(0.25, (now - previous) / 1e3);
      model.set("angle", nextAngle(selection.angle, selection.start, selection.stop, elapsed));
    }
    previous = now;
    request = requestAnimationFrame(step);
  }
  function update() {
    cancelAnimationFrame(request);
    request = 0;
    previous = 0;
    if (model.get("playing")) request = requestAnimationFrame(step);
    else model.save_changes();
  }
  model.on("change:playing", update);
  if (model.get("playing")) request = requestAnimationFrame(step);
  return () => {
    cancelAnimationFrame(request);
    model.off("change:playing", update);
  };
}

// src/clamp.js
function clampIndex(value, lo, hi) {
  if (!Number.isFinite(value)) return lo;
  return Math.min(hi, Math.max(lo, Math.round(value)));
}
function clampAngle(angle, start, stop) {
  const value = Number.isFinite(angle) ? angle : 0;
  return Math.min(stop, Math.max(start, value));
}
function clampOrder(order) {
  return order === "least" ? "least" : "most";
}

// src/frame.js
function frameInto(out, stimulus, direction, radius, angle) {
  const along = Math.cos(angle);
  const across = Math.sin(angle) * radius;
  for (let i = 0; i < out.length; i++) out[i] = along * stimulus[i] + across * direction[i];
  return out;
}
function directionIndex(rank, order, count) {
  return order === "least" ? count - 1 - rank : rank;
}
function interpolate(xs, ys, x) {
  const last = xs.length - 1;
  if (x <= xs[0]) return ys[0];
  if (x >= xs[last]) return ys[last];
  let low = 0;
  let high = last;
  while (high - low > 1) {
    const middle = low + high >> 1;
    if (xs[middle] <= x) low = middle;
    else high = middle;
  }
  const share = (x - xs[low]) / (xs[high] - xs[low]);
  return ys[low] + share * (ys[high] - ys[low]);
}

// src/state.js
function resolveSelection(units, values, decode = decodeUnit) {
  if (units.length === 0) return { status: "empty", message: "There are no units to show." };
  const unit = clampIndex(values.unit, 0, units.length - 1);
  const order = clampOrder(values.order);
  const record = units[unit];
  if (record == null) {
    const message = `Analyzing unit ${unit}… (this needs a running kernel: a static page holds only the units analyzed before it was saved)`;
    return { status: "pending", unit, order, message };
  }
  const label = record.name ? `unit ${unit} (${record.name})` : `unit ${unit}`;
  if (record.error) {
    return { status: "error", unit, order, message: `Analysis of ${label} failed: ${record.error}` };
  }
  let data;
  try {
    data = decode(record);
  } catch (error) {
    return { status: "error", unit, order, message: `The data of ${label} cannot be read: ${error.message}` };
  }
  const rank = clampIndex(values.rank, 0, data.count - 1);
  const index = directionIndex(rank, order, data.count);
  const [start, stop] = videoRangeOf(data, index);
  const angle = clampAngle(values.angle, start, stop);
  return { status: "ready", unit, order, data, rank, index, start, stop, angle };
}

// src/model.js
function setAll(model, changes) {
  const keys = Object.keys(changes);
  if (keys.length === 0) return;
  for (const key of keys) model.set(key, changes[key]);
  model.save_changes();
}

// src/grayscale.js
function grayByte(value, limit) {
  const level = Math.floor((value / limit + 1) * 127.5 + 0.5);
  if (!(level >= 0)) return 0;
  return level > 255 ? 255 : level;
}
function grayRGBA(frame, limit, rgba) {
  if (rgba.length !== 4 * frame.length) {
    throw new RangeError(`rgba has length ${rgba.length}, expected ${4 * frame.length}`);
  }
  for (let i = 0; i < frame.length; i++) {
    const level = grayByte(frame[i], limit);
    rgba[4 * i] = level;
    rgba[4 * i + 1] = level;
    rgba[4 * i + 2] = level;
    rgba[4 * i + 3] = 255;
  }
  return rgba;
}
function absMax(values) {
  let best = 1e-300;
  for (let i = 0; i < values.length; i++) {
    const size = Math.abs(values[i]);
    if (size > best) best = size;
  }
  return best;
}

// src/plots.js
function linearScale(d0, d1, r0, r1) {
  if (!(d1 !== d0)) return () => (r0 + r1) / 2;
  const slope = (r1 - r0) / (d1 - d0);
  return (value) => r0 + (value - d0) * slope;
}
function extent(values) {
  let low = Infinity;
  let high = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (values[i] < low) low = values[i];
    if (values[i] > high) high = values[i];
  }
  return [low, high];
}
function spectrumLayout(unit, order, box) {
  const [lowest, highest] = extent(unit.curvatures);
  const low = Math.min(lowest, 0);
  const high = Math.max(highest, 0);
  const y = linearScale(low, high, box.top + box.height, box.top);
  const step = box.width / unit.count;
  const marks = [];
  for (let rank = 0; rank < unit.count; rank++) {
    const index = directionIndex(rank, order, unit.count);
    marks.push({ rank, index, x: box.left + (rank + 0.5) * step, y: y(unit.curvatures[index]) });
  }
  const bands = [];
  let first = 0;
  for (let rank = 1; rank <= unit.count; rank++) {
    const same = rank < unit.count && unit.groups[marks[rank].index] === unit.groups[marks[first].index];
    if (same) continue;
    if (rank - first > 1) {
      bands.push({ first, last: rank - 1, x0: box.left + first * step, x1: box.left + rank * step, members: rank - first });
    }
    first = rank;
  }
  return { marks, bands, zeroY: y(0), low, high, step };
}
function geodesicLayout(unit, activations, box) {
  const angles = extent(unit.geodesicAngles);
  const thresholdValue = unit.videoLevel;
  const [lowest, highest] = extent(activations);
  const values = [Math.min(lowest, thresholdValue), Math.max(highest, unit.activation)];
  const x = linearScale(angles[0], angles[1], box.left, box.left + box.width);
  const y = linearScale(values[0], values[1], box.top + box.height, box.top);
  const points = [];
  for (let i = 0; i < activations.length; i++) {
    points.push(`${x(unit.geodesicAngles[i]).toFixed(2)},${y(activations[i]).toFixed(2)}`);
  }
  return { x, y, points: points.join(" "), angles, values, thresholdValue };
}
function formatNumber(value) {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return "0";
  const size = Math.abs(value);
  if (size >= 1e4 || size < 1e-3) return value.toExponential(2);
  return value.toPrecision(4).replace(/(\.\d*?)0+$/, "$1").replace(/\.$/, "");
}

// src/widget.css
var widget_default = '/* InvarianceExplorer. Colours and sizes come from the JupyterLab theme variables\n   (light and dark), with system colours as fallbacks outside JupyterLab. */\n.tcnn-explorer {\n  --tcnn-text: var(--jp-ui-font-color1, CanvasText);\n  --tcnn-muted: var(--jp-ui-font-color2, GrayText);\n  --tcnn-background: var(--jp-layout-color1, Canvas);\n  --tcnn-panel: var(--jp-layout-color2, rgba(127, 127, 127, 0.12));\n  --tcnn-border: var(--jp-border-color2, rgba(127, 127, 127, 0.5));\n  --tcnn-accent: var(--jp-brand-color1, #1976d2);\n  --tcnn-accent-soft: var(--jp-brand-color3, rgba(25, 118, 210, 0.25));\n  --tcnn-warn: var(--jp-warn-color1, #f57c00);\n  --tcnn-error: var(--jp-error-color1, #d32f2f);\n  color: var(--tcnn-text);\n  background: var(--tcnn-background);\n  font-family: var(--jp-ui-font-family, system-ui, sans-serif);\n  font-size: var(--jp-ui-font-size1, 13px);\n  display: flex;\n  flex-direction: column;\n  gap: 0.75em;\n  padding: 0.5em;\n  max-width: 72em;\n}\n.tcnn-explorer .tcnn-top {\n  display: flex;\n  flex-wrap: wrap;\n  gap: 1em;\n  align-items: flex-start;\n}\n.tcnn-explorer .tcnn-frame {\n  width: 16em;\n  height: 16em;\n  image-rendering: pixelated;\n  border: 1px solid var(--tcnn-border);\n  background: var(--tcnn-panel);\n}\n.tcnn-explorer .tcnn-controls {\n  display: grid;\n  grid-template-columns: auto minmax(10em, 16em) auto;\n  gap: 0.4em 0.6em;\n  align-items: center;\n}\n.tcnn-explorer .tcnn-controls label,\n.tcnn-explorer .tcnn-controls .tcnn-row {\n  display: contents;\n}\n.tcnn-explorer input[type="range"] {\n  width: 100%;\n  accent-color: var(--tcnn-accent);\n}\n.tcnn-explorer .tcnn-switch-row {\n  grid-column: 1 / -1;\n  display: flex;\n  gap: 1em;\n  align-items: center;\n}\n.tcnn-explorer .tcnn-switch-row label {\n  display: inline-flex;\n  gap: 0.4em;\n  align-items: center;\n}\n.tcnn-explorer button {\n  font: inherit;\n  color: var(--tcnn-text);\n  background: var(--tcnn-panel);\n  border: 1px solid var(--tcnn-border);\n  border-radius: 3px;\n  padding: 0.2em 0.8em;\n  cursor: pointer;\n}\n.tcnn-explorer button:focus-visible,\n.tcnn-explorer input:focus-visible {\n  outline: 2px solid var(--tcnn-accent);\n  outline-offset: 2px;\n}\n.tcnn-explorer button[aria-pressed="true"] {\n  border-color: var(--tcnn-accent);\n}\n.tcnn-explorer output {\n  font-variant-numeric: tabular-nums;\n  min-width: 6em;\n}\n.tcnn-explorer .tcnn-readouts {\n  display: grid;\n  grid-template-columns: max-content minmax(12em, 22em);\n  gap: 0.15em 0.8em;\n  margin: 0;\n}\n.tcnn-explorer .tcnn-readouts dt {\n  color: var(--tcnn-muted);\n  white-space: nowrap;\n}\n.tcnn-explorer .tcnn-readouts dd {\n  margin: 0;\n  font-variant-numeric: tabular-nums;\n}\n.tcnn-explorer .tcnn-plots {\n  display: flex;\n  flex-wrap: wrap;\n  gap: 1em;\n}\n.tcnn-explorer .tcnn-plot {\n  width: 100%;\n  max-width: 28em;\n  height: auto;\n  overflow: visible;\n}\n.tcnn-explorer .tcnn-plot text {\n  fill: var(--tcnn-muted);\n  font-size: 10px;\n}\n.tcnn-explorer .tcnn-axis {\n  stroke: var(--tcnn-border);\n  stroke-width: 1;\n}\n.tcnn-explorer .tcnn-bar {\n  fill: var(--tcnn-muted);\n}\n.tcnn-explorer .tcnn-bar.tcnn-selected {\n  fill: var(--tcnn-accent);\n}\n.tcnn-explorer .tcnn-band {\n  fill: var(--tcnn-panel);\n}\n.tcnn-explorer .tcnn-band.tcnn-selected {\n  fill: var(--tcnn-accent-soft);\n}\n.tcnn-explorer .tcnn-bracket {\n  fill: none;\n  stroke: var(--tcnn-muted);\n}\n.tcnn-explorer .tcnn-bracket.tcnn-selected {\n  stroke: var(--tcnn-accent);\n}\n.tcnn-explorer .tcnn-plot text.tcnn-band-label.tcnn-selected {\n  fill: var(--tcnn-accent);\n}\n.tcnn-explorer .tcnn-range {\n  fill: var(--tcnn-panel);\n}\n.tcnn-explorer .tcnn-curve {\n  fill: none;\n  stroke: var(--tcnn-accent);\n  stroke-width: 1.5;\n}\n.tcnn-explorer .tcnn-threshold {\n  stroke: var(--tcnn-warn);\n  stroke-dasharray: 4 3;\n}\n.tcnn-explorer .tcnn-marker {\n  stroke: var(--tcnn-text);\n}\n.tcnn-explorer .tcnn-dot {\n  fill: var(--tcnn-text);\n}\n.tcnn-explorer .tcnn-gallery {\n  display: flex;\n  flex-wrap: wrap;\n  gap: 0.3em;\n}\n.tcnn-explorer .tcnn-tile {\n  display: flex;\n  flex-direction: column;\n  align-items: center;\n  padding: 0.2em;\n  font-size: 0.85em;\n}\n.tcnn-explorer .tcnn-tile canvas {\n  width: 3.5em;\n  height: 3.5em;\n  image-rendering: pixelated;\n  background: var(--tcnn-panel);\n}\n.tcnn-explorer .tcnn-tile[aria-pressed="true"] {\n  outline: 2px solid var(--tcnn-accent);\n}\n.tcnn-explorer .tcnn-message:empty {\n  display: none;\n}\n.tcnn-explorer .tcnn-message {\n  padding: 0.5em;\n  border: 1px solid var(--tcnn-border);\n  white-space: pre-wrap;\n}\n.tcnn-explorer .tcnn-message.tcnn-error {\n  border-color: var(--tcnn-error);\n  color: var(--tcnn-error);\n}\n.tcnn-explorer.tcnn-not-ready .tcnn-display {\n  display: none;\n}\n';

// src/view.js
var SVG = "http://www.w3.org/2000/svg";
var PLOT_WIDTH = 320;
var PLOT_HEIGHT = 150;
var PLOT_BOX = { left: 46, top: 10, width: 264, height: 106 };
function element(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}
function svgElement(tag, attributes = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  return node;
}
function ownKeys(control) {
  control.setAttribute("data-lm-suppress-shortcuts", "true");
  return control;
}
function slider(label, className) {
  const input = ownKeys(element("input", { type: "range", class: className, min: "0", max: "0", step: "1", value: "0" }));
  const output = element("output", { class: `${className}-value` });
  const row = element("label", {}, [element("span", {}, [label]), input]);
  return { input, output, row };
}
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
function renderExplorer({ model, el }) {
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
    unitSlider.row,
    unitSlider.output,
    rankSlider.row,
    rankSlider.output,
    angleSlider.row,
    angleSlider.output,
    element("div", { class: "tcnn-switch-row" }, [
      element("label", {}, [orderSwitch, "Least invariant first"]),
      playButton
    ])
  ]);
  root.append(
    element("style", {}, [widget_default]),
    element("div", { class: "tcnn-top" }, [frameCanvas, controls, readouts]),
    message,
    element("div", { class: "tcnn-plots" }, [spectrum, geodesic]),
    gallery
  );
  el.append(root);
  let selection = null;
  let writing = false;
  let frame = new Float64Array(0);
  let galleryRecords = [];
  const geodesicParts = {};
  function values() {
    return { unit: model.get("unit"), rank: model.get("rank"), order: model.get("order"), angle: model.get("angle") };
  }
  function writeBack(resolved) {
    const changes = {};
    if (resolved.unit !== void 0 && resolved.unit !== model.get("unit")) changes.unit = resolved.unit;
    if (resolved.order !== void 0 && resolved.order !== model.get("order")) changes.order = resolved.order;
    if (resolved.status === "ready") {
      if (resolved.rank !== model.get("rank")) changes.rank = resolved.rank;
      if (resolved.angle !== model.get("angle")) changes.angle = resolved.angle;
    }
    writing = true;
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
        label
      );
    }
    const barWidth = Math.max(0.6, layout.step * 0.7);
    for (const mark of layout.marks) {
      spectrum.append(svgElement("rect", {
        class: mark.rank === rank ? "tcnn-bar tcnn-selected" : "tcnn-bar",
        x: mark.x - barWidth / 2,
        y: Math.min(mark.y, layout.zeroY),
        width: barWidth,
        height: Math.max(0.5, Math.abs(mark.y - layout.zeroY))
      }));
    }
    spectrum.append(
      svgElement("line", { class: "tcnn-axis", x1: PLOT_BOX.left, x2: PLOT_BOX.left + PLOT_BOX.width, y1: layout.zeroY, y2: layout.zeroY }),
      svgElement("line", { class: "tcnn-axis", x1: PLOT_BOX.left, x2: PLOT_BOX.left, y1: PLOT_BOX.top, y2: bottom })
    );
    const labels = [
      [PLOT_BOX.left - 4, layout.zeroY + 3, "end", "0"],
      [PLOT_BOX.left - 4, bottom, "end", formatNumber(layout.low)],
      [0, bottom + 26, "start", `curvature ν by rank, ${order} invariant first; ×k: degenerate group`]
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
      geodesicParts.dot
    );
    const labels = [
      [PLOT_BOX.left - 4, PLOT_BOX.top + 8, "end", formatNumber(layout.values[1])],
      [PLOT_BOX.left - 4, bottom, "end", formatNumber(layout.values[0])],
      [PLOT_BOX.left + PLOT_BOX.width, layout.y(layout.thresholdValue) - 3, "end", `c·g* = ${formatNumber(layout.thresholdValue)}`],
      [PLOT_BOX.left, bottom + 13, "start", formatNumber(layout.angles[0])],
      [PLOT_BOX.left + PLOT_BOX.width, bottom + 13, "end", formatNumber(layout.angles[1])],
      [0, bottom + 26, "start", "activation g(x(θ)) along the geodesic; shaded: video range"]
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
      ["Degenerate group", members > 1 ? `${members} directions share this curvature` : "none (unique curvature)"]
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
          element("span", {}, [String(unit)])
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
  function refreshAngle() {
    if (selection?.status !== "ready") return refresh();
    const angle = clampAngle(model.get("angle"), selection.start, selection.stop);
    if (angle !== model.get("angle")) return refresh();
    selection.angle = angle;
    angleSlider.input.value = String(angle);
    drawFrame();
    showReadouts(drawMarker());
  }
  function choose(changes) {
    setAll(model, changes);
  }
  root.addEventListener("keydown", (event) => event.stopPropagation());
  unitSlider.input.addEventListener("input", () => choose({ unit: Number(unitSlider.input.value) }));
  rankSlider.input.addEventListener("input", () => choose({ rank: Number(rankSlider.input.value) }));
  angleSlider.input.addEventListener("input", () => choose({ angle: Number(angleSlider.input.value) }));
  orderSwitch.addEventListener("change", () => choose({ order: orderSwitch.checked ? "least" : "most" }));
  playButton.addEventListener("click", () => choose({ playing: !model.get("playing") }));
  spectrum.addEventListener("click", (event) => {
    if (selection?.status !== "ready") return;
    const box = spectrum.getBoundingClientRect();
    const x = (event.clientX - box.left) / box.width * PLOT_WIDTH;
    const rank = Math.floor((x - PLOT_BOX.left) / PLOT_BOX.width * selection.data.count);
    if (rank >= 0 && rank < selection.data.count) choose({ rank });
  });
  const listeners = [
    ["change:units", refresh],
    ["change:unit", refresh],
    ["change:rank", refresh],
    ["change:order", refresh],
    ["change:angle", refreshAngle],
    ["change:playing", showPlaying]
  ];
  const guarded = listeners.map(([name, callback]) => [name, () => writing ? void 0 : callback()]);
  for (const [name, callback] of guarded) model.on(name, callback);
  refresh();
  return () => {
    for (const [name, callback] of guarded) model.off(name, callback);
    root.remove();
  };
}

// src/widget.js
var widget_default2 = {
  initialize({ model }) {
    const decode = memoizedDecoder();
    const resolve = () => resolveSelection(
      model.get("units"),
      {
        unit: model.get("unit"),
        rank: model.get("rank"),
        order: model.get("order"),
        angle: model.get("angle")
      },
      decode
    );
    return startPlayer(model, resolve);
  },
  render({ model, el }) {
    return renderExplorer({ model, el });
  }
};
export {
  widget_default2 as default
};
