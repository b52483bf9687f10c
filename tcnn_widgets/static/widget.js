// src/buffers.js
function bytesOf(value) {
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError(`expected binary data, got ${value === null ? "null" : typeof value}`);
}
function aligned(value) {
  const bytes = bytesOf(value);
  if (bytes.byteLength % 4 !== 0) {
    throw new RangeError(`binary data of ${bytes.byteLength} bytes is not a whole number of 4-byte values`);
  }
  if (bytes.byteOffset % 4 === 0) return [
    /** @type {ArrayBuffer} */
    bytes.buffer,
    bytes.byteOffset,
    bytes.byteLength / 4
  ];
  return [bytes.slice().buffer, 0, bytes.byteLength / 4];
}
function decodeFloat32(value) {
  return new Float32Array(...aligned(value));
}
function decodeFloat16(value) {
  const bytes = bytesOf(value);
  if (bytes.byteLength % 2 !== 0) {
    throw new RangeError(`binary data of ${bytes.byteLength} bytes is not a whole number of 2-byte values`);
  }
  const out = new Float32Array(bytes.byteLength / 2);
  for (let i = 0; i < out.length; i++) {
    const half = bytes[2 * i] | bytes[2 * i + 1] << 8;
    const sign = half & 32768 ? -1 : 1;
    const exponent = half >> 10 & 31;
    const fraction = half & 1023;
    if (exponent === 0) out[i] = sign * fraction * 2 ** -24;
    else if (exponent === 31) out[i] = fraction ? Number.NaN : sign * Infinity;
    else out[i] = sign * (1024 + fraction) * 2 ** (exponent - 25);
  }
  return out;
}
function decodeScaledInt8(value, scales) {
  const bytes = bytesOf(value);
  const steps = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = scales.length ? steps.length / scales.length : 0;
  if (!Number.isInteger(width) || scales.length === 0 && steps.length > 0) {
    throw new RangeError(`${steps.length} int8 steps do not make ${scales.length} rows`);
  }
  const out = new Float32Array(steps.length);
  for (let i = 0; i < scales.length; i++) {
    for (let j = i * width; j < (i + 1) * width; j++) out[j] = steps[j] * scales[i];
  }
  return out;
}
function decodeInt32(value) {
  return new Int32Array(...aligned(value));
}
function decodeUnit(record) {
  const channels = record.channels ?? 1;
  const height = record.height;
  const width = record.width;
  const size = channels * height * width;
  const curvatures = decodeFloat32(record.curvatures);
  const unit = {
    name: String(record.name ?? ""),
    channels,
    height,
    width,
    size,
    count: curvatures.length,
    total: size - 1,
    complete: record.complete ?? true,
    endsTied: Array.from(record.ends_tied ?? [false, false], Boolean),
    activation: record.activation,
    threshold: record.threshold,
    videoLevel: record.video_level,
    radius: record.radius,
    stimulus: decodeFloat32(record.stimulus),
    directions: record.compact ? decodeScaledInt8(record.directions, decodeFloat32(record.direction_scales)) : decodeFloat32(record.directions),
    curvatures,
    groups: decodeInt32(record.groups),
    videoRanges: decodeFloat32(record.video_ranges),
    grayLimits: decodeFloat32(record.gray_limits),
    geodesicAngles: decodeFloat32(record.geodesic_angles),
    geodesicActivations: (record.compact ? decodeFloat16 : decodeFloat32)(record.geodesic_activations),
    labels: Array.from(record.labels ?? [], String),
    labelFractions: decodeFloat32(record.label_fractions),
    labelCentres: record.label_centres ? decodeFloat32(record.label_centres) : new Float32Array(0)
  };
  unit.samples = unit.geodesicAngles.length;
  if (!(size >= 2)) throw new RangeError(`stimulus shape ${channels} x ${height} x ${width} has fewer than 2 entries`);
  if (!(unit.count >= 1 && unit.count <= unit.total)) {
    throw new RangeError(`${unit.count} directions kept, expected 1 to ${unit.total}`);
  }
  const named = unit.labels.length > 0;
  const expected = {
    stimulus: size,
    directions: unit.count * size,
    groups: unit.count,
    videoRanges: 2 * unit.count,
    grayLimits: unit.count,
    geodesicActivations: unit.count * unit.samples,
    labels: named ? unit.count : 0,
    labelFractions: named ? 3 * unit.count : 0,
    labelCentres: named && unit.labelCentres.length > 0 ? 2 * unit.count : 0
  };
  for (const [field, length] of Object.entries(expected)) {
    if (unit[field].length !== length) {
      throw new RangeError(`${field} has ${unit[field].length} values, expected ${length} for a ${channels} x ${height} x ${width} stimulus with ${unit.count} directions`);
    }
  }
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
  if (unit.labels.length === 0) return "not named";
  const [t, r, s] = unit.labelFractions.subarray(3 * index, 3 * index + 3);
  const percent = (f) => `${Math.round(100 * f)}%`;
  let name = unit.labels[index];
  const [row, col] = unit.labelCentres.length > 0 ? unit.labelCentres.subarray(2 * index, 2 * index + 2) : [NaN, NaN];
  if (Number.isFinite(row) && Number.isFinite(col)) name += ` about (${row.toFixed(1)}, ${col.toFixed(1)})`;
  return `${name} (translation ${percent(t)}, rotation ${percent(r)}, scale ${percent(s)})`;
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
function phaseOf(angle, start, stop, backward = false) {
  const width = stop - start;
  if (!(width > 0)) return 0;
  const forward = (Math.min(stop, Math.max(start, angle)) - start) / width;
  return backward ? 2 - forward : forward;
}
function angleAt(phase, start, stop) {
  const wrapped = phase - 2 * Math.floor(phase / 2);
  const forward = wrapped <= 1 ? wrapped : 2 - wrapped;
  return start + forward * (stop - start);
}
function advance(phase, elapsed, sweep = SWEEP_SECONDS) {
  const next = phase + elapsed / sweep;
  return next - 2 * Math.floor(next / 2);
}
function startPlayer(model, resolve) {
  let request = 0;
  let previous = 0;
  let phase = 0;
  let written = Number.NaN;
  function step(now) {
    const selection = resolve();
    if (selection.status === "ready") {
      const { angle, start, stop } = selection;
      if (angle !== written) phase = phaseOf(angle, start, stop, phase > 1);
      const elapsed = previous === 0 ? 0 : Math.min(0.25, (now - previous) / 1e3);
      phase = advance(phase, elapsed);
      written = angleAt(phase, start, stop);
      model.set("angle", written);
    }
    previous = now;
    request = requestAnimationFrame(step);
  }
  function update() {
    cancelAnimationFrame(request);
    request = 0;
    previous = 0;
    written = Number.NaN;
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

// src/dom.js
var SVG = "http://www.w3.org/2000/svg";
function element(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}
function svgElement(tag, attributes = {}) {
  const node = (
    /** @type {SVGElement} */
    document.createElementNS(SVG, tag)
  );
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  return node;
}
function svgText(x, y, anchor, text, className = "") {
  const node = svgElement("text", { x, y, "text-anchor": anchor });
  if (className) node.setAttribute("class", className);
  node.textContent = text;
  return node;
}
function ownKeys(control) {
  control.setAttribute("data-lm-suppress-shortcuts", "true");
  return control;
}
function slider(label, className) {
  const input = (
    /** @type {HTMLInputElement} */
    ownKeys(element("input", { type: "range", class: className, min: "0", max: "0", step: "1", value: "0" }))
  );
  const output = (
    /** @type {HTMLOutputElement} */
    element("output", { class: `${className}-value` })
  );
  const row = element("label", {}, [element("span", {}, [label]), input]);
  return { input, output, row };
}

// src/pixels.js
function grayByte(value, limit) {
  const level = Math.floor((value / limit + 1) * 127.5 + 0.5);
  if (!(level >= 0)) return 0;
  return level > 255 ? 255 : level;
}
var CHANNEL_GAP = 1;
var GAP_BYTE = 255;
function displaySize(channels, height, width) {
  if (channels === 1 || channels === 3) return { width, height };
  return { width: channels * width + (channels - 1) * CHANNEL_GAP, height };
}
function displayRGBA(frame, limit, channels, height, width, rgba) {
  const size = height * width;
  const shown = displaySize(channels, height, width);
  if (frame.length !== channels * size) {
    throw new RangeError(`frame has ${frame.length} values, expected ${channels * size}`);
  }
  if (rgba.length !== 4 * shown.width * shown.height) {
    throw new RangeError(`rgba has length ${rgba.length}, expected ${4 * shown.width * shown.height}`);
  }
  if (channels === 3) {
    for (let i = 0; i < size; i++) {
      rgba[4 * i] = grayByte(frame[i], limit);
      rgba[4 * i + 1] = grayByte(frame[size + i], limit);
      rgba[4 * i + 2] = grayByte(frame[2 * size + i], limit);
      rgba[4 * i + 3] = 255;
    }
    return rgba;
  }
  rgba.fill(GAP_BYTE);
  for (let channel = 0; channel < channels; channel++) {
    const left = channel * (width + CHANNEL_GAP);
    for (let row = 0; row < height; row++) {
      for (let column = 0; column < width; column++) {
        const level = grayByte(frame[channel * size + row * width + column], limit);
        const at = 4 * (row * shown.width + left + column);
        rgba[at] = level;
        rgba[at + 1] = level;
        rgba[at + 2] = level;
      }
    }
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

// src/paint.js
function paint(canvas, values, limit, shape) {
  const { width, height } = displaySize(shape.channels, shape.height, shape.width);
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  const context = canvas.getContext("2d");
  if (context === null) return;
  const image = context.createImageData(width, height);
  displayRGBA(values, limit, shape.channels, shape.height, shape.width, image.data);
  context.putImageData(image, 0, 0);
}
function frameHeight(height) {
  return height * Math.max(1, Math.floor(256 / height));
}

// src/galleryView.js
function unitGroups(groups, count) {
  const valid = (groups ?? []).filter((g) => g.start >= 0 && g.stop <= count && g.start < g.stop);
  return valid.length > 0 ? valid : [{ name: "", start: 0, stop: count }];
}
function groupOf(groups, unit) {
  return groups.find((g) => g.start <= unit && unit < g.stop)?.name ?? "";
}
function makeGallery(container, choose, decode) {
  let tiles = [];
  let painted = [];
  let layoutKey = "";
  function build(units, groups) {
    tiles = [];
    painted = [];
    container.replaceChildren();
    for (const group of groups) {
      const section = element("div", { class: "tcnn-gallery-group", role: "group", "aria-label": group.name || "Units" });
      if (group.name) section.append(element("div", { class: "tcnn-group-name" }, [group.name]));
      const row = element("div", { class: "tcnn-tiles" });
      for (let unit = group.start; unit < group.stop; unit++) {
        const tile = ownKeys(element("button", { type: "button", class: "tcnn-tile", "data-unit": String(unit) }, [
          element("canvas", { width: "1", height: "1", "aria-hidden": "true" }),
          element("span", {}, [String(unit)])
        ]));
        tile.addEventListener("click", () => choose(unit));
        tiles[unit] = tile;
        row.append(tile);
      }
      section.append(row);
      container.append(section);
    }
  }
  return (units, groups, selected) => {
    const key = `${units.length}|${groups.map((g) => `${g.name}:${g.start}-${g.stop}`).join(",")}`;
    if (key !== layoutKey) {
      build(units, groups);
      layoutKey = key;
    }
    units.forEach((record, unit) => {
      const tile = tiles[unit];
      tile.setAttribute("aria-pressed", String(unit === selected));
      if (painted[unit] === record) return;
      painted[unit] = record;
      const label = (text) => {
        tile.setAttribute("aria-label", text);
        tile.title = text;
      };
      if (record == null) return label(`Unit ${unit}: not analyzed yet (click to analyze)`);
      if (record.error) return label(`Unit ${unit}: analysis failed`);
      try {
        const data = decode(record);
        paint(
          /** @type {HTMLCanvasElement} */
          tile.firstChild,
          data.stimulus,
          absMax(data.stimulus),
          data
        );
        label(`Unit ${unit}${data.name ? `: ${data.name}` : ""}`);
      } catch (error) {
        label(`Unit ${unit}: unreadable data (${error.message})`);
      }
    });
  };
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
  const [low, high] = extent(unit.curvatures);
  const pad = 0.08 * (high - low || Math.abs(high) || 1);
  const y = linearScale(low - pad, high + pad, box.top + box.height, box.top);
  const half = unit.count / 2;
  const slots = [];
  for (let rank = 0; rank < unit.count; rank++) {
    const index = directionIndex(rank, order, unit.count);
    const previous = slots[slots.length - 1];
    if (unit.count < unit.total && rank === half) {
      slots.push({ first: rank, last: rank - 1, members: unit.total - unit.count, index: -1, value: 0, gap: true });
    } else if (previous && !previous.gap && unit.groups[index] === unit.groups[previous.index]) {
      previous.last = rank;
      previous.members += 1;
      continue;
    }
    slots.push({ first: rank, last: rank, members: 1, index, value: unit.curvatures[index], gap: false });
  }
  const width = box.width / slots.length;
  slots.forEach((slot, i) => {
    Object.assign(slot, { x0: box.left + i * width, x1: box.left + (i + 1) * width, y: y(slot.value) });
  });
  return { slots: (
    /** @type {any} */
    slots
  ), low, high, y };
}
function slotOfRank(slots, rank) {
  return slots.findIndex((slot) => !slot.gap && slot.first <= rank && rank <= slot.last);
}
function formatDegrees(radians) {
  return `${formatNumber(radians * 180 / Math.PI)}°`;
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

// src/geodesicView.js
function drawGeodesic(svg, selection, box) {
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
    svgText(20, bottom + 42, "start", `c·g* = ${formatNumber(layout.thresholdValue)}`, "tcnn-threshold-label")
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

// src/model.js
function setAll(model, changes) {
  const keys = Object.keys(changes);
  if (keys.length === 0) return;
  for (
    const key of
    /** @type {Array<keyof ExplorerState>} */
    keys
  ) model.set(key, changes[key]);
  model.save_changes();
}

// src/tie.js
function leastTie(unit) {
  const last = unit.count - 1;
  const tied = unit.groups[last];
  let first = last;
  while (first > 0 && unit.groups[first - 1] === tied) first -= 1;
  const members = last - first + 1;
  const atLeast = Boolean(unit.endsTied[1]);
  if (members === 1 && !atLeast) return null;
  const floor = unit.count < unit.total ? unit.count / 2 : 0;
  let alternative = -1;
  for (let index = first - 1; index >= floor; index--) {
    const unique = unit.groups[index] !== unit.groups[index + 1] && (index === 0 || unit.groups[index] !== unit.groups[index - 1]);
    if (unique) {
      alternative = index;
      break;
    }
    if (alternative === -1) alternative = index;
  }
  return { members, atLeast, alternative };
}

// src/readouts.js
function endText(data, index) {
  if (data.count >= data.total) return "";
  const k = data.count / 2;
  const most = index < k;
  const fromEnd = most ? index : data.count - 1 - index;
  return `kept: the ${k} most and ${k} least invariant of ${data.total} directions; this one: ${most ? "most" : "least"} invariant end, #${fromEnd} from it`;
}
function tieText(data, index) {
  const tie = leastTie(data);
  if (tie === null) return "";
  const size = tie.atLeast ? `at least ${tie.members}` : String(tie.members);
  const inside = index >= data.count - tie.members ? "This direction is one member of it. " : "";
  const outside = tie.alternative >= 0 ? `The most informative distinct direction outside the tie is least-first rank ${data.count - 1 - tie.alternative}.` : "No distinct direction outside the tie was kept at this end.";
  return `a tie of ${size} directions: no single image is the least invariant direction, only their span is meaningful. ${inside}${outside}`;
}
function readoutRows(selection, activation) {
  const { data, index, rank, order, angle, start, stop } = selection;
  const members = groupSize(data, index);
  const tiedBeyond = index === 0 && data.endsTied[0] || index === data.count - 1 && data.endsTied[1];
  const unit = `${selection.unit}${data.name ? ` (${data.name})` : ""}${selection.group ? `, ${selection.group}` : ""}`;
  const rankText = `${rank} (0 to ${data.count - 1}, ${order} invariant first)`;
  const ends = endText(data, index);
  const rows = [
    ["Unit", unit],
    ["Activation g(x(θ))", `${formatNumber(activation)} (optimum g* = ${formatNumber(data.activation)})`],
    ["Curvature ν", formatNumber(data.curvatures[index])],
    ["Named invariance", labelOf(data, index)],
    ["Angle θ", `${formatDegrees(angle)}, video range [${formatDegrees(start)}, ${formatDegrees(stop)}]`],
    ["Rank", ends ? `${rankText}; ${ends}` : rankText],
    [
      "Degenerate group",
      members > 1 || tiedBeyond ? `${tiedBeyond ? "at least " : ""}${members} directions share this curvature` : "none (unique curvature)"
    ]
  ];
  const tie = tieText(data, index);
  if (order === "least" && tie) rows.push(["Least invariant end", tie]);
  return (
    /** @type {Array<[string, string]>} */
    rows
  );
}

// src/spectrumView.js
function drawSpectrum(svg, selection, box) {
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
        svgText(middle, bottom + 12, "middle", `${slot.members} not kept`, "tcnn-gap-label")
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
      "data-members": slot.members
    }));
    if (band) svg.append(svgText(middle, slot.y - 7, "middle", `×${slot.members}`, `tcnn-band-label${selected}`));
  });
  svg.append(
    svgElement("line", { class: "tcnn-axis", x1: box.left, x2: box.left + box.width, y1: bottom, y2: bottom }),
    svgElement("line", { class: "tcnn-axis", x1: box.left, x2: box.left, y1: box.top, y2: bottom }),
    svgText(box.left - 4, layout.y(layout.high) + 4, "end", formatNumber(layout.high)),
    svgText(box.left - 4, layout.y(layout.low) + 4, "end", formatNumber(layout.low)),
    svgText(0, bottom + 28, "start", `curvature ν by rank, ${order} invariant first (zoomed)`),
    svgText(0, bottom + 42, "start", "×k: a tie of k directions, drawn as one band")
  );
  return layout;
}

// src/widget.css
var widget_default = '/* InvarianceExplorer. Colours and sizes come from the JupyterLab theme variables\n   (light and dark), with system colours as fallbacks outside JupyterLab. */\n.tcnn-explorer {\n  --tcnn-text: var(--jp-ui-font-color1, CanvasText);\n  --tcnn-muted: var(--jp-ui-font-color2, GrayText);\n  --tcnn-background: var(--jp-layout-color1, Canvas);\n  --tcnn-panel: var(--jp-layout-color2, rgba(127, 127, 127, 0.12));\n  --tcnn-border: var(--jp-border-color2, rgba(127, 127, 127, 0.5));\n  --tcnn-accent: var(--jp-brand-color1, #1976d2);\n  --tcnn-accent-soft: var(--jp-brand-color3, rgba(25, 118, 210, 0.25));\n  --tcnn-warn: var(--jp-warn-color1, #f57c00);\n  --tcnn-error: var(--jp-error-color1, #d32f2f);\n  color: var(--tcnn-text);\n  background: var(--tcnn-background);\n  font-family: var(--jp-ui-font-family, system-ui, sans-serif);\n  font-size: var(--jp-ui-font-size1, 13px);\n  display: flex;\n  flex-direction: column;\n  gap: 0.75em;\n  padding: 0.5em;\n  max-width: 72em;\n}\n.tcnn-explorer .tcnn-top {\n  display: flex;\n  flex-wrap: wrap;\n  gap: 1em;\n  align-items: flex-start;\n}\n.tcnn-explorer .tcnn-frame {\n  height: 256px; /* set by view.js to a whole multiple of the stimulus height */\n  width: auto;\n  flex: none;\n  image-rendering: pixelated;\n  border: 1px solid var(--tcnn-border);\n  background: var(--tcnn-panel);\n}\n.tcnn-explorer .tcnn-controls {\n  display: grid;\n  grid-template-columns: auto minmax(10em, 16em) auto;\n  gap: 0.4em 0.6em;\n  align-items: center;\n}\n.tcnn-explorer .tcnn-controls label,\n.tcnn-explorer .tcnn-controls .tcnn-row {\n  display: contents;\n}\n.tcnn-explorer input[type="range"] {\n  width: 100%;\n  accent-color: var(--tcnn-accent);\n}\n.tcnn-explorer .tcnn-switch-row {\n  grid-column: 1 / -1;\n  display: flex;\n  gap: 1em;\n  align-items: center;\n}\n.tcnn-explorer .tcnn-switch-row label {\n  display: inline-flex;\n  gap: 0.4em;\n  align-items: center;\n}\n.tcnn-explorer button {\n  font: inherit;\n  color: var(--tcnn-text);\n  background: var(--tcnn-panel);\n  border: 1px solid var(--tcnn-border);\n  border-radius: 3px;\n  padding: 0.2em 0.8em;\n  cursor: pointer;\n}\n.tcnn-explorer button:focus-visible,\n.tcnn-explorer input:focus-visible {\n  outline: 2px solid var(--tcnn-accent);\n  outline-offset: 2px;\n}\n.tcnn-explorer button[aria-pressed="true"] {\n  border-color: var(--tcnn-accent);\n}\n.tcnn-explorer output {\n  font-variant-numeric: tabular-nums;\n  min-width: 6em;\n}\n.tcnn-explorer .tcnn-readouts {\n  display: grid;\n  grid-template-columns: max-content minmax(12em, 22em);\n  gap: 0.15em 0.8em;\n  margin: 0;\n}\n.tcnn-explorer .tcnn-readouts dt {\n  color: var(--tcnn-muted);\n  white-space: nowrap;\n}\n.tcnn-explorer .tcnn-readouts dd {\n  margin: 0;\n  font-variant-numeric: tabular-nums;\n}\n.tcnn-explorer .tcnn-plots {\n  display: flex;\n  flex-wrap: wrap;\n  gap: 1em;\n}\n/* drawn in a 340-unit viewBox at 420 px: chart text of 10.5 units shows at 13 px */\n.tcnn-explorer .tcnn-plot {\n  width: 420px;\n  max-width: none;\n  flex: none;\n  height: auto;\n  overflow: visible;\n}\n.tcnn-explorer .tcnn-plot text {\n  fill: var(--tcnn-muted);\n  font-size: 10.5px;\n}\n.tcnn-explorer .tcnn-plot text.tcnn-gap {\n  font-size: 16px;\n}\n.tcnn-explorer .tcnn-axis {\n  stroke: var(--tcnn-border);\n  stroke-width: 1;\n}\n.tcnn-explorer .tcnn-bar {\n  fill: var(--tcnn-muted);\n}\n.tcnn-explorer .tcnn-bar.tcnn-selected {\n  fill: var(--tcnn-accent);\n}\n.tcnn-explorer .tcnn-band {\n  fill: var(--tcnn-muted);\n  opacity: 0.55;\n}\n.tcnn-explorer .tcnn-band.tcnn-selected {\n  fill: var(--tcnn-accent);\n}\n.tcnn-explorer .tcnn-bracket {\n  fill: none;\n  stroke: var(--tcnn-muted);\n}\n.tcnn-explorer .tcnn-bracket.tcnn-selected {\n  stroke: var(--tcnn-accent);\n}\n.tcnn-explorer .tcnn-plot text.tcnn-band-label.tcnn-selected {\n  fill: var(--tcnn-accent);\n}\n.tcnn-explorer .tcnn-range {\n  fill: var(--tcnn-panel);\n}\n.tcnn-explorer .tcnn-curve {\n  fill: none;\n  stroke: var(--tcnn-accent);\n  stroke-width: 1.5;\n}\n.tcnn-explorer .tcnn-threshold {\n  stroke: var(--tcnn-warn);\n  stroke-dasharray: 4 3;\n}\n.tcnn-explorer .tcnn-marker {\n  stroke: var(--tcnn-text);\n}\n.tcnn-explorer .tcnn-dot {\n  fill: var(--tcnn-text);\n}\n.tcnn-explorer .tcnn-gallery {\n  display: flex;\n  flex-direction: column;\n  gap: 0.5em;\n}\n.tcnn-explorer .tcnn-gallery-group + .tcnn-gallery-group {\n  border-top: 2px solid var(--tcnn-border);\n  padding-top: 0.5em;\n}\n.tcnn-explorer .tcnn-group-name {\n  font-weight: 600;\n  margin-bottom: 0.3em;\n}\n.tcnn-explorer .tcnn-tiles {\n  display: flex;\n  flex-wrap: wrap;\n  gap: 0.3em;\n}\n.tcnn-explorer .tcnn-group-row[hidden],\n.tcnn-explorer .tcnn-untie[hidden] {\n  display: none;\n}\n.tcnn-explorer select {\n  font: inherit;\n  color: var(--tcnn-text);\n  background: var(--tcnn-panel);\n  border: 1px solid var(--tcnn-border);\n}\n.tcnn-explorer .tcnn-tile {\n  display: flex;\n  flex-direction: column;\n  align-items: center;\n  padding: 0.2em;\n  font-size: 0.85em;\n}\n.tcnn-explorer .tcnn-tile canvas {\n  height: 3.5em;\n  width: auto;\n  min-width: 3.5em;\n  object-fit: contain;\n  image-rendering: pixelated;\n  background: var(--tcnn-panel);\n}\n.tcnn-explorer .tcnn-tile[aria-pressed="true"] {\n  outline: 2px solid var(--tcnn-accent);\n}\n.tcnn-explorer .tcnn-message:empty {\n  display: none;\n}\n.tcnn-explorer .tcnn-message {\n  padding: 0.5em;\n  border: 1px solid var(--tcnn-border);\n  white-space: pre-wrap;\n}\n.tcnn-explorer .tcnn-message.tcnn-error {\n  border-color: var(--tcnn-error);\n  color: var(--tcnn-error);\n}\n.tcnn-explorer.tcnn-not-ready .tcnn-display {\n  display: none;\n}\n';

// src/view.js
var PLOT_WIDTH = 340;
var PLOT_HEIGHT = 175;
var PLOT_BOX = { left: 52, top: 10, width: 280, height: 110 };
function renderExplorer({ model, el }) {
  const decode = memoizedDecoder();
  const root = element("div", { class: "tcnn-explorer" });
  const frameCanvas = (
    /** @type {HTMLCanvasElement} */
    element("canvas", { class: "tcnn-frame tcnn-display", role: "img", width: "1", height: "1" })
  );
  const groupSelect = (
    /** @type {HTMLSelectElement} */
    ownKeys(element("select", { class: "tcnn-group-select", "aria-label": "Group of units" }))
  );
  const unitSlider = slider("Unit", "tcnn-unit");
  const rankSlider = slider("Rank", "tcnn-rank");
  const angleSlider = slider("Angle θ", "tcnn-angle");
  angleSlider.input.step = "any";
  const orderSwitch = (
    /** @type {HTMLInputElement} */
    ownKeys(element("input", { type: "checkbox", role: "switch", class: "tcnn-order" }))
  );
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
    unitSlider.row,
    unitSlider.output,
    rankSlider.row,
    rankSlider.output,
    angleSlider.row,
    angleSlider.output,
    element("div", { class: "tcnn-switch-row" }, [
      element("label", {}, [orderSwitch, "Least invariant first"]),
      playButton
    ]),
    element("div", { class: "tcnn-switch-row" }, [untieButton])
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
  let frame = new Float64Array(0);
  let spectrumLayout2 = null;
  let moveMarker = (_angle) => 0;
  let writing = false;
  const updateGallery = makeGallery(gallery, (unit) => choose({ unit }), decode);
  function values() {
    return { unit: model.get("unit"), rank: model.get("rank"), order: model.get("order"), angle: model.get("angle") };
  }
  function groups() {
    return unitGroups(model.get("groups"), model.get("units").length);
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
    paint(frameCanvas, frame, data.grayLimits[index], data);
    frameCanvas.style.height = `${frameHeight(data.height)}px`;
    Object.assign(frameCanvas.dataset, { unit: selection.unit, index, angle: String(angle) });
    frameCanvas.setAttribute("aria-label", `Stimulus of unit ${selection.unit}, rank ${selection.rank}, angle ${formatDegrees(angle)}`);
  }
  function showReadouts(activation) {
    const rows = readoutRows(selection, activation);
    readouts.replaceChildren(...rows.flatMap(([term, text]) => [element("dt", {}, [term]), element("dd", {}, [text])]));
    angleSlider.output.value = formatDegrees(selection.angle);
    angleSlider.input.setAttribute("aria-valuetext", `${formatNumber(selection.angle * 180 / Math.PI)} degrees`);
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
      spectrumLayout2 = drawSpectrum(spectrum, selection, PLOT_BOX);
      moveMarker = drawGeodesic(geodesic, selection, PLOT_BOX);
      showReadouts(moveMarker(selection.angle));
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
    showReadouts(moveMarker(angle));
  }
  function choose(changes) {
    setAll(model, changes);
  }
  root.addEventListener("keydown", (event) => event.stopPropagation());
  groupSelect.addEventListener("change", () => choose({ unit: groups()[Number(groupSelect.value)].start }));
  unitSlider.input.addEventListener("input", () => choose({ unit: Number(unitSlider.input.value) }));
  rankSlider.input.addEventListener("input", () => choose({ rank: Number(rankSlider.input.value) }));
  angleSlider.input.addEventListener("input", () => choose({ angle: Number(angleSlider.input.value) }));
  orderSwitch.addEventListener("change", () => choose({ order: orderSwitch.checked ? "least" : "most" }));
  playButton.addEventListener("click", () => choose({ playing: !model.get("playing") }));
  untieButton.addEventListener("click", () => choose({ rank: Number(untieButton.dataset.rank) }));
  spectrum.addEventListener("click", (event) => {
    if (selection?.status !== "ready" || spectrumLayout2 === null) return;
    const box = spectrum.getBoundingClientRect();
    const x = (event.clientX - box.left) / box.width * PLOT_WIDTH;
    const slot = spectrumLayout2.slots.find((s) => s.x0 <= x && x < s.x1 && !s.gap);
    if (slot) choose({ rank: slot.first });
  });
  const listeners = [
    ["change:units", refresh],
    ["change:groups", refresh],
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
